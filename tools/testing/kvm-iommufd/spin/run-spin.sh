#!/bin/bash
# Check the Promela model of the invalidation protocol (protocol.pml) with
# spin, and print TAP with one closing line "N passed, N failed".
# Usage: run-spin.sh [BUILD_DIR]	(default: build/spin at the top of the tree)
#
# The model must verify exhaustively with no error and every statement
# reached; each mutant must yield a counterexample (an assertion violated),
# so the model cannot silently stop checking.  Each check runs in its own
# directory under BUILD_DIR (pan.c, pan, pan.out, the trail and its replay).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../../.." && pwd)
out=${1:-$top/build/spin}
model=$here/protocol.pml

# name | spin -D options | expectation
checks=(
	"spin_protocol_safe||safe"
	"spin_mutant_no_wait_counterexample|-DMUTANT_NO_WAIT|cex"
	"spin_mutant_no_table_inv_counterexample|-DMUTANT_NO_TABLE_INV|cex"
	"spin_mutant_flush_after_rcu_counterexample|-DMUTANT_FLUSH_AFTER_RCU|cex"
	"spin_hw_no_drain_counterexample|-DMUTANT_HW_NO_DRAIN|cex"
)

echo "TAP version 13"
echo "1..${#checks[@]}"
passed=0; failed=0; n=0

missing=""
for tool in spin gcc; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done

for c in "${checks[@]}"; do
	IFS='|' read -r name defs expect <<<"$c"
	n=$((n + 1))
	if [ -n "$missing" ]; then
		echo "#   FAIL $name: not installed:$missing (scripts/deps.sh host installs them)"
		echo "not ok $n - $name"; failed=$((failed + 1)); continue
	fi
	dir=$out/${name#spin_}
	rm -rf "$dir"; mkdir -p "$dir"
	cp "$model" "$dir/protocol.pml"
	# Shortest counterexamples for the mutants (breadth first).
	bfs=""; [ "$expect" = cex ] && bfs=-DBFS
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	if ! (cd "$dir" && spin -a $defs protocol.pml >spin.out 2>&1); then
		sed 's/^/#   /' "$dir/spin.out" | head -20
		echo "#   FAIL $name: spin -a $defs failed"
		echo "not ok $n - $name"; failed=$((failed + 1)); continue
	fi
	if ! (cd "$dir" && gcc -O0 -w -DSAFETY $bfs -o pan pan.c >gcc.out 2>&1); then
		sed 's/^/#   /' "$dir/gcc.out" | head -20
		echo "#   FAIL $name: gcc pan.c failed"
		echo "not ok $n - $name"; failed=$((failed + 1)); continue
	fi
	(cd "$dir" && ./pan -m100000 -w20 >pan.out 2>&1)
	st=$?
	t1=$(date +%s%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	p=$dir/pan.out

	# What pan must always print; anything else means pan's output changed
	# or the search did not run to its end.
	errors=$(sed -n 's/.*depth reached \([0-9]*\), errors: \([0-9]*\)$/\2/p' "$p" | tail -1)
	depth=$(sed -n 's/.*depth reached \([0-9]*\), errors: [0-9]*$/\1/p' "$p" | tail -1)
	states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$p" | tail -1)
	search=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds$/\1/p' "$p" | tail -1)
	why=""
	if [ -z "$errors" ] || [ -z "$depth" ] || [ -z "$states" ] || [ -z "$search" ]; then
		why="cannot parse pan's output (exit status $st)"
	elif ! grep -q '^Full statespace search' "$p"; then
		why="not a full state-space search"
	elif grep -q -E 'max search depth too small|out of memory' "$p"; then
		why="search incomplete: $(grep -m1 -E 'max search depth too small|out of memory' "$p")"
	fi

	if [ -z "$why" ] && [ "$expect" = safe ]; then
		# Every statement must be reached, else some part of the model
		# (a cache, a branch of the walk) checks nothing.
		unreached=$(awk '/^unreached in /{u=1; next}
				 u && /^\t[^(]/ && !/"-end-"$/ {print}' "$p")
		if [ "$errors" -ne 0 ]; then
			why="$errors error(s): $(grep -m1 -E '^pan:[0-9]+:' "$p")"
		elif [ -n "$unreached" ]; then
			printf '%s\n' "$unreached" | sed 's/^\t*/#   unreached: /'
			why="statements never reached"
		fi
	elif [ -z "$why" ]; then
		if [ "$errors" -eq 0 ]; then
			why="no counterexample: the model no longer catches $defs"
		elif ! grep -q -E '^pan:[0-9]+: assertion violated' "$p"; then
			why="an error, but no assertion violated: $(grep -m1 -E '^pan:[0-9]+:' "$p")"
		elif [ ! -s "$dir/protocol.pml.trail" ]; then
			why="no trail written"
		fi
	fi
	if [ -n "$why" ]; then
		echo "#   FAIL $name: $why; see $p"
		echo "not ok $n - $name"; failed=$((failed + 1)); continue
	fi

	if [ "$expect" = safe ]; then
		echo "ok $n - $name # states $states, depth $depth, search $search s, total $secs s"
	else
		# Replay the counterexample for reading.
		# shellcheck disable=SC2086
		(cd "$dir" && spin -t -p -g $defs protocol.pml >trail.txt 2>&1)
		steps=$(sed -n 's/^spin: trail ends after \([0-9]*\) steps$/\1/p' "$dir/trail.txt")
		# The assertion's line, and the comment on it that names it.
		line=$(sed -n 's/^spin: protocol\.pml:\([0-9]*\), Error: assertion violated$/\1/p' \
			"$dir/trail.txt" | head -1)
		what=""
		[ -n "$line" ] && what=$(sed -n "${line}s|.*/\* *\(.*[^ ]\) *\*/.*|\1|p" "$dir/protocol.pml")
		echo "#   $name: protocol.pml:${line:-?}: ${what:-assertion violated}, after ${steps:-?} steps; replay: $dir/trail.txt"
		echo "ok $n - $name # counterexample: ${steps:-?} steps, total $secs s"
	fi
	passed=$((passed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
