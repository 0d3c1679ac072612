#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the demo under perf and check that perf saw every trace event as often
# as the demo itself counted it; then summarise the recording with
# tools/kvm-iommu-report.
#
# Usage: perf-demo.sh DEMO_BINARY OUT_DIR      (as root, after perf-probes.sh)
#        perf-demo.sh --compare DEMO_OUTPUT PERF_COUNTS
#
# The demo prints its own counters as
#   trace events (the demo's own counters; ...):
#     kvm_iommu_attach                  3
# (a line starting with "trace events", then lines of two spaces, an event
# name, spaces and a count; the block ends at the first other line).
#
# The run writes into OUT_DIR: demo.txt (the demo's output under perf stat),
# stat.csv (perf stat -x,), demo.data and demo-record.txt (perf record, and
# the demo's output of that run), report.txt and fault-latency.png.  It
# fails when a count differs (perf stat's, or perf record's from its own
# run), when every count is zero, or when the demo fails.
#
# --compare only compares: DEMO_OUTPUT is the demo's output, PERF_COUNTS
# perf stat -x, output or perf script output (one line per event).  Sites
# probed as <event>_<n> are summed into <event>.
set -eu

me=perf-demo
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../../../.." && pwd -P)
report="$top/tools/kvm-iommu-report/kvm-iommu-report"

# compare DEMO_OUTPUT PERF_COUNTS [QUIET [LABEL]]: the table (QUIET: only the
# rows that differ), and a last line; exit 1 on a mismatch or all counts zero
compare() {
	awk -v quiet="${3:-0}" -v label="${4:-perf}" '
	function add(name, n) {
		if (!(name in perf))
			porder[++np] = name
		perf[name] += n
	}
	FNR == 1 { file++ }
	file == 1 {
		if (!inblock && !done && /^trace events/) {
			inblock = 1
			found = 1
			next
		}
		if (inblock) {
			if ($0 ~ /^  [A-Za-z_][A-Za-z0-9_]* +[0-9]+[ \t]*$/) {
				if (!($1 in demo))
					dorder[++nd] = $1
				demo[$1] += $2
				next
			}
			inblock = 0
			done = 1
		}
		next
	}
	# perf stat -x, : count,unit,event,...
	{
		nc = split($0, c, ",")
		if (nc >= 3 && c[3] ~ /^sdt_kvm_iommu:[A-Za-z0-9_]+$/) {
			name = c[3]
			sub(/^sdt_kvm_iommu:/, "", name)
			if (c[1] ~ /^[0-9]+$/)
				add(name, c[1])
			else {
				add(name, 0)
				notcounted[name] = c[1]
			}
			next
		}
	}
	# perf script: one line per event, "... sdt_kvm_iommu:<event>: ..."
	{
		for (i = 1; i <= NF; i++)
			if ($i ~ /^sdt_kvm_iommu:[A-Za-z0-9_]+:$/) {
				name = $i
				sub(/^sdt_kvm_iommu:/, "", name)
				sub(/:$/, "", name)
				add(name, 1)
				break
			}
	}
	END {
		# a site probed as <event>_<n> counts as <event>
		for (i = 1; i <= np; i++) {
			name = porder[i]
			base = name
			if (!(name in demo) && sub(/_[0-9]+$/, "", base) && (base in demo)) {
				if (!(base in perf))
					porder[++np] = base
				perf[base] += perf[name]
				if (name in notcounted)
					notcounted[base] = notcounted[name]
				merged[name] = 1
			}
		}
		n = 0
		for (i = 1; i <= nd; i++)
			row[++n] = dorder[i]
		for (i = 1; i <= np; i++)
			if (!(porder[i] in demo) && !(porder[i] in merged))
				row[++n] = porder[i]
		if (!quiet)
			printf "%-28s %10s %10s  %s\n", "event", "demo", label, "match"
		bad = 0
		nonzero = 0
		for (i = 1; i <= n; i++) {
			name = row[i]
			d = name in demo ? demo[name] : "-"
			p = name in perf ? perf[name] : "-"
			if (name in notcounted)
				p = notcounted[name]
			ok = (d == p) || (d == "-" && p == 0) || (p == "-" && d == 0)
			if (d != "-" && d > 0 || p ~ /^[0-9]+$/ && p > 0)
				nonzero = 1
			bad += !ok
			if (!quiet || !ok)
				printf "%-28s %10s %10s  %s\n", name, d, p, ok ? "yes" : "NO"
		}
		pre = "perf-demo: " (label == "perf" ? "" : label ": ")
		if (!found) {
			printf "%sthe demo printed no \"trace events\" block: nothing to compare with\n", pre
			exit 1
		}
		if (bad) {
			printf "%s%d of %d events differ\n", pre, bad, n
			exit 1
		}
		if (!nonzero) {
			printf "%severy count is zero: are the probes on this binary?\n", pre
			exit 1
		}
		printf "%s%d %s\n", pre, n, n == 1 ? "event matches" : "events match"
	}' "$1" "$2"
}

if [ "${1:-}" = --compare ]; then
	[ $# -eq 3 ] || { echo "usage: $0 --compare DEMO_OUTPUT PERF_COUNTS" >&2; exit 2; }
	compare "$2" "$3"
	exit
fi
if [ $# -ne 2 ]; then
	echo "usage: $0 DEMO_BINARY OUT_DIR | --compare DEMO_OUTPUT PERF_COUNTS" >&2
	exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
out=$2

if [ "$(id -u)" != 0 ]; then
	echo "$me: needs root: the sdt_kvm_iommu:* events are uprobes; run as root" >&2
	exit 1
fi
command -v perf >/dev/null || { echo "$me: perf not found (apt-get install linux-perf)" >&2; exit 1; }
if ! perf probe -l 'sdt_kvm_iommu:*' 2>/dev/null | grep -qF -e " in $bin " -e " in $bin)"; then
	echo "$me: no sdt_kvm_iommu:* probes on $bin: run $here/perf-probes.sh $bin (make perf-probes)" >&2
	exit 1
fi
mkdir -p "$out"

# 1. perf stat; 2. perf record; 3. the report; then the checks, last
echo "# perf stat -e 'sdt_kvm_iommu:*' $bin > $out/demo.txt"
stat_st=0
perf stat -x, -o "$out/stat.csv" -e 'sdt_kvm_iommu:*' -- "$bin" >"$out/demo.txt" 2>&1 || stat_st=$?

echo "# perf record -e 'sdt_kvm_iommu:*' -o $out/demo.data $bin > $out/demo-record.txt"
rec_st=0
perf record -q -o "$out/demo.data" -e 'sdt_kvm_iommu:*' -- "$bin" >"$out/demo-record.txt" 2>&1 || rec_st=$?

rc=0
echo "# kvm-iommu-report -o $out/fault-latency.png $out/demo.data > $out/report.txt"
if sh "$report" -o "$out/fault-latency.png" "$out/demo.data" >"$out/report.txt"; then
	cat "$out/report.txt"
else
	echo "$me: kvm-iommu-report failed"
	rc=1
fi
echo

# perf record's events against the demo's counters of that run
if perf script -i "$out/demo.data" >"$out/demo-script.txt" 2>/dev/null; then
	compare "$out/demo-record.txt" "$out/demo-script.txt" 1 "perf record" || rc=1
else
	echo "$me: perf script -i $out/demo.data failed"
	rc=1
fi
# perf stat's counts against the demo's counters: the table, last
compare "$out/demo.txt" "$out/stat.csv" || rc=1
for r in "stat:$stat_st:demo.txt" "record:$rec_st:demo-record.txt"; do
	st=${r#*:}; st=${st%%:*}
	if [ "$st" -ne 0 ]; then
		echo "$me: the demo failed under perf ${r%%:*} (exit status $st; its output: $out/${r##*:})"
		rc=1
	fi
done
exit $rc
