#!/bin/sh
# Run the host bench, its IO page faults again under perf for the report
# tool, and draw its plots.
# Usage: bench.sh BENCH_BINARY OUTDIR [bench arguments]
# OUTDIR gets bench.txt, bench.csv, the .dat files and (gnuplot) the PNGs:
#   attach-4k.png, attach-2m.png   attach time against guest size, per mode
#   attach-ratio.png               each mode / conventional, 4 KiB fresh memory
#   iopf-latency.png               IO page-fault round trip, cumulative
#
# When section 5 runs, its 4 KiB part runs a second time (-s 5 -T) under
#   perf record -e sdt_kvm_iommu_bench_<pid>:kvm_iommu_iopf_end
# on probes made for this binary alone (perf-probes.sh -g, deleted at the
# end: the sdt_kvm_iommu:* probes of other runs are left alone), and
# tools/kvm-iommu-report reads the recording.  Its p50/p99 are appended to
# bench.txt beside the bench's own figures of both runs, and to bench.csv as
#   iopf-report,4k,responses,p50_s,p99_s,max_s,groups,handler_max_s,
#	device_p50_s,device_p99_s
# (the report's kvm_iommu_iopf_end latencies; the bench's own count of that
# run; the device's round trip in that run), or iopf-report,4k,skipped,WHY
# when perf cannot be used (not root, no perf, no uprobes).  OUTDIR/perf/
# keeps that run: iopf.data, report.txt, fault-latency.png, and the
# bench's bench.txt, bench.csv and output (run.txt).  The recording must
# hold one kvm_iommu_iopf_end per group the bench counted, with the same
# longest latency to the nanosecond; otherwise the script fails.
set -eu
bin=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../../../.." && pwd -P)
mkdir -p "$out"
start=$(date +%s)
"$bin" -o "$out" "$@"

# the bench's own options, to know whether section 5 ran and at which size
quick="" sections=12345
while getopts :qTo:s: opt; do
	case $opt in
	q)	quick=-q;;
	s)	sections=$OPTARG;;
	*)	;;
	esac
done

grp=sdt_kvm_iommu_bench_$$
made=0
cleanup() {
	[ "$made" = 0 ] || sh "$here/perf-probes.sh" -d "$grp" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# section 5 through the report tool; 0 when measured or skipped, 1 on a
# measurement that does not agree with the bench's own count
iopf_report() {
	pdir=$out/perf
	txt=$out/bench.txt
	head="5, through the report tool: section 5's 4 KiB part again (-s 5 -T) under perf record"
	skip() {
		{
			echo
			echo "$head"
			echo "  IO page fault round trip via report tool: skipped: $1"
		} | tee -a "$txt"
		echo "iopf-report,4k,skipped,$(echo "$1" | tr ', ' ';_')" >>"$out/bench.csv"
	}
	[ "$(id -u)" = 0 ] || { skip "not root (the probes are uprobes made in tracefs)"; return 0; }
	command -v perf >/dev/null || { skip "perf not installed (apt-get install linux-perf)"; return 0; }
	mkdir -p "$pdir"
	rm -f "$pdir/iopf.data" "$pdir/report.txt" "$pdir/fault-latency.png"
	made=1
	if ! sh "$here/perf-probes.sh" -g "$grp" "$bin" >"$pdir/probes.txt" 2>&1; then
		skip "the probes could not be made: $(grep -v '^ ' "$pdir/probes.txt" | tail -1)"
		return 0
	fi
	ev="$grp:kvm_iommu_iopf_end"
	if ! perf stat -x, -o /dev/null -e "$ev" -- true >"$pdir/perf-check.txt" 2>&1; then
		skip "perf cannot open $ev: $(tail -1 "$pdir/perf-check.txt")"
		return 0
	fi
	echo "bench: section 5 again under perf record -e $ev"
	perf record -q -o "$pdir/iopf.data" -e "$ev" -- \
		"$bin" $quick -s 5 -T -o "$pdir" >"$pdir/run.txt" 2>&1 || {
		echo "bench: the run under perf failed; its output: $pdir/run.txt" >&2
		tail -5 "$pdir/run.txt" >&2
		return 1
	}
	png=""
	command -v gnuplot >/dev/null && png="-o $pdir/fault-latency.png"
	# shellcheck disable=SC2086
	sh "$top/tools/kvm-iommu-report/kvm-iommu-report" $png "$pdir/iopf.data" >"$pdir/report.txt"
	# report: "  responses N  min X ns  p50 X ns  p99 X ns  max X ns"
	# bench:  iopf,4k,faults,p50_s,p99_s,max_s,groups,handler_mean_s,handler_max_s
	awk -v grp="$grp" '
	function us(sec) { return sprintf("%.1f", sec * 1e6) }
	FNR == 1 { file++ }
	file == 1 && $1 == "responses" { n = $2; p50 = $7; p99 = $10; max = $13 }
	file == 2 && /^iopf,4k,/ { split($0, b, ",") }
	file == 3 && /^iopf,4k,/ { split($0, a, ",") }
	END {
		if (n == "" || b[7] == "") {
			printf "  IO page fault round trip via report tool: no kvm_iommu_iopf_end latencies read\n"
			exit 1
		}
		same = (n == b[7] && max == sprintf("%.0f", b[9] * 1e9))
		printf "   -e %s:kvm_iommu_iopf_end; tools/kvm-iommu-report on the recording\n", grp
		f = "  %-48s %8s %10s %10s %10s\n"
		printf f, "", "count", "p50 us", "p99 us", "max us"
		printf f, "IO page fault round trip via report tool", n, us(p50 / 1e9), us(p99 / 1e9),
			us(max / 1e9)
		printf "    (kvm_iommu_iopf_end latency_ns: group received -> answered)\n"
		printf f, "the IOAS'"'"'s own count of that run", b[7], "-", "-", us(b[9])
		printf "    (mean %.1f us; the same faults and max as the recording: %s)\n", b[8] * 1e6,
			same ? "yes" : "NO"
		printf f, "device round trip in that run", b[3], us(b[4]), us(b[5]), us(b[6])
		if (a[4] != "")
			printf f, "device round trip, section 5 above (no perf)", a[3], us(a[4]), us(a[5]),
				us(a[6])
		printf "iopf-report,4k,%d,%.9f,%.9f,%.9f,%d,%.9f,%.9f,%.9f\n", n, p50 / 1e9, p99 / 1e9,
			max / 1e9, b[7], b[9], b[4], b[5] > "/dev/stderr"
		exit !same
	}' "$pdir/report.txt" "$pdir/bench.csv" "$out/bench.csv" \
		>"$pdir/rows.txt" 2>"$pdir/rows.csv" || st=$?
	{
		echo
		echo "$head"
		cat "$pdir/rows.txt"
	} | tee -a "$txt"
	cat "$pdir/rows.csv" >>"$out/bench.csv"
	rm -f "$pdir/rows.txt" "$pdir/rows.csv" "$pdir/perf-check.txt"
	echo "bench: the recording's report: $pdir/report.txt"
	return "${st:-0}"
}
rc=0
case $sections in
*5*)	iopf_report || rc=1;;
esac

command -v gnuplot >/dev/null || { echo "bench: gnuplot missing: no plots" >&2; exit 1; }
cd "$out"
# the plots of the sections that ran (-s): section 1 the attach plots, 5 the
# IO page-fault one
attach_plots() {
	cat <<'GP'
set logscale xy 2
set grid
set key center right
set xlabel "guest RAM (MiB)"
set ylabel "attach time (ms)"
ms(c) = (column(c) < 0 ? NaN : column(c) * 1000)
do for [b in "4k 2m"] {
	set output "attach-".b.".png"
	set title "attach cost against guest size, ".b." backing, fresh memory"
	plot "attach-".b."-fresh.dat" using 1:(ms(2)) with linespoints title "conventional (IOAS_MAP)", \
	     "" using 1:(ms(3)) with linespoints title "PINNED", \
	     "" using 1:(ms(4)) with linespoints title "SHARED (device cannot fault)", \
	     "" using 1:(ms(5)) with linespoints title "SHARED + fault queue"
}
set output "attach-ratio.png"
set title "attach cost / conventional, 4 KiB backing"
set ylabel "ratio to conventional"
r(c) = (column(c) < 0 || column(2) <= 0 ? NaN : column(c) / column(2))
plot "attach-4k-fresh.dat" using 1:(r(3)) with linespoints title "PINNED, fresh", \
     "" using 1:(r(4)) with linespoints title "SHARED, fresh", \
     "" using 1:(r(5)) with linespoints title "SHARED + fault queue, fresh", \
     "attach-4k-populated.dat" using 1:(r(3)) with linespoints title "PINNED, populated", \
     "" using 1:(r(4)) with linespoints title "SHARED, populated"
GP
}
iopf_plot() {
	cat <<'GP'
unset logscale
set logscale x 10
set grid
set output "iopf-latency.png"
set title "IO page fault round trip (device side), 4 KiB backing"
set xlabel "round trip (us)"
set ylabel "fraction of faults"
set key bottom right
plot "iopf-latency.dat" using 2:1 with lines title "cumulative"
GP
}
{
	printf '%s\n' 'set terminal pngcairo size 900,560 noenhanced' 'set datafile missing "-1"'
	case $sections in *1*) attach_plots;; esac
	case $sections in *5*) iopf_plot;; esac
} | gnuplot
echo "bench: $out/bench.txt, bench.csv, $(ls *.png 2>/dev/null | tr '\n' ' ')($(( $(date +%s) - start )) s)"
exit $rc
