#!/bin/bash
# Run the host test binary of each variant, show its TAP, and print one
# closing line over all of them: "N passed, N failed".
# Usage: run-host-tests.sh OUT_DIR VARIANT...
set -u
out=$1; shift
passed=0; failed=0; rc=0
for v in "$@"; do
	echo "# ---- host tests: $v build ----"
	log=$(mktemp)
	"$out/$v/kvm-iommufd-test" 2>&1 | tee "$log" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
	st=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	# the fail-nth sweeps print "#   N fault points swept ..."
	swept=$(awk '/fault points swept/ { n += $2; k++ } END { printf "%d injection points swept in %d sweeps", n, k }' "$log")
	rm -f "$log"
	echo "# $v: fail-nth: $swept"
	if [ -z "$line" ]; then
		echo "# $v: no result line (crashed?), exit status $st"
		failed=$((failed + 1)); rc=1; continue
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	echo "# $v: $line"
	passed=$((passed + p)); failed=$((failed + f))
	[ "$st" -eq 0 ] || rc=1
done
# Then the spin checks of the invalidation protocol's Promela model, which
# count in the closing line too.
echo "# ---- spin: invalidation protocol model ----"
log=$(mktemp)
"$(dirname "$0")/../spin/run-spin.sh" "$(dirname "$out")/spin" 2>&1 | tee "$log" |
	grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
st=${PIPESTATUS[0]}
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
rm -f "$log"
if [ -z "$line" ]; then
	echo "# spin: no result line, exit status $st"
	failed=$((failed + 1)); rc=1
else
	echo "# spin: $line"
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	passed=$((passed + p)); failed=$((failed + f))
	[ "$st" -eq 0 ] || rc=1
fi
echo "$passed passed, $failed failed"
exit $rc
