#!/bin/sh
# Run the host bench and draw its plots.
# Usage: bench.sh BENCH_BINARY OUTDIR [bench arguments]
# OUTDIR gets bench.txt, bench.csv, the .dat files and (gnuplot) the PNGs:
#   attach-4k.png, attach-2m.png   attach time against guest size, per mode
#   attach-ratio.png               each mode / conventional, 4 KiB fresh memory
#   iopf-latency.png               IO page-fault round trip, cumulative
set -eu
bin=$1 out=$2
shift 2
mkdir -p "$out"
start=$(date +%s)
"$bin" -o "$out" "$@"

# the bench's own options, to know the sections that ran
sections=12345
while getopts :qTo:s: opt; do
	case $opt in
	s)	sections=$OPTARG;;
	*)	;;
	esac
done

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
