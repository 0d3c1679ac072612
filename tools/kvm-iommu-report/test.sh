#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of kvm-iommu-report (and of perf-demo.sh's count check): runs
# them on the fixtures and checks the numbers exactly.  Needs no root and no
# perf; the PNG is checked when gnuplot is installed.
#
# The fixtures hold the same 51 events twice: fixtures/usdt.txt as perf
# script prints the host build's USDT probes, fixtures/kernel.txt as it
# prints the kernel's tracepoints.  The expected values below were worked
# out by hand from the events (see the comments), not taken from the tool.
#
# Usage: tools/kvm-iommu-report/test.sh     (TAP; exit status 0 when all pass)
set -u
here=$(cd "$(dirname "$0")" && pwd -P)
tool="$here/kvm-iommu-report"
fx="$here/fixtures"
compare="$here/../testing/kvm-iommufd/scripts/perf-demo.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}
# has FILE NAME LINE: FILE holds LINE exactly, as a whole line
has() {
	if grep -qxF -- "$3" "$1"; then
		ok "$2"
	else
		fail "$2"
		echo "#   expected the line: $3"
		echo "#   in $1:"
		sed 's/^/#     /' "$1"
	fi
}

# check NAME OUT COMMAND...: the command succeeds; its output goes to OUT,
# its errors to OUT.err
check() {
	name=$1
	out=$2
	shift 2
	if "$@" >"$out" 2>"$out.err"; then
		ok "$name"
	else
		fail "$name"
		sed 's/^/#   /' "$out" "$out.err"
	fi
}
# check_fails NAME OUT COMMAND...: the command fails
check_fails() {
	name=$1
	out=$2
	shift 2
	if "$@" >"$out" 2>&1; then fail "$name"; else ok "$name"; fi
}

check "runs on USDT perf script text" "$tmp/usdt.out" sh "$tool" "$fx/usdt.txt"
check "runs on kernel tracepoint text" "$tmp/kernel.out" sh "$tool" "$fx/kernel.txt"
# shellcheck disable=SC2016
check "reads standard input" "$tmp/stdin.out" sh -c 'sh "$1" <"$2"' - "$tool" "$fx/usdt.txt"
has "$tmp/stdin.out" "standard input named" "kvm-iommu-report: 51 kvm_iommu events from standard input"

# both forms describe the same events: the same report, but for the title
sed 1d "$tmp/usdt.out" >"$tmp/a"
sed 1d "$tmp/kernel.out" >"$tmp/b"
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b"; then
	ok "USDT and kernel forms give the same report"
else
	fail "USDT and kernel forms give the same report"
	diff "$tmp/a" "$tmp/b" | sed 's/^/#   /'
fi

for f in usdt kernel; do
	o="$tmp/$f.out"
	# the unrelated event (probe_demo:main, kvm:kvm_entry) is not counted;
	# kvm_iommu_mode_1 (a second call site) counts as kvm_iommu_mode
	has "$o" "$f: total" "  total                              51"
	has "$o" "$f: attach count" "  kvm_iommu_attach                    2"
	has "$o" "$f: detach count" "  kvm_iommu_detach                    1"
	has "$o" "$f: mode count, both sites" "  kvm_iommu_mode                      3"
	has "$o" "$f: memslot count" "  kvm_iommu_memslot                   3"
	has "$o" "$f: pin count" "  kvm_iommu_pin                       3"
	has "$o" "$f: unpin count" "  kvm_iommu_unpin                     1"
	has "$o" "$f: invalidate count" "  kvm_iommu_invalidate                5"
	has "$o" "$f: sync count" "  kvm_iommu_sync                      5"
	has "$o" "$f: iopf_begin count" "  kvm_iommu_iopf_begin               10"
	has "$o" "$f: kvm_faultin count" "  kvm_iommu_kvm_faultin               8"
	has "$o" "$f: iopf_end count" "  kvm_iommu_iopf_end                 10"
	# groups 1..10, one request each but group 7 (two)
	has "$o" "$f: fault groups and requests" "IO page faults: 10 groups began (11 requests), 10 answered"
	# latencies 700 1200 1500 1800 2100 3000 3500 6000 40000 250000:
	# p50 = 5th smallest, p99 = 10th (nearest rank)
	has "$o" "$f: bucket [512, 1K)" "  [512, 1K)             1 |@@@@@@@@@@@@@                           |"
	has "$o" "$f: bucket [1K, 2K)" "  [1K, 2K)              3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
	has "$o" "$f: bucket [2K, 4K)" "  [2K, 4K)              3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
	has "$o" "$f: bucket [4K, 8K)" "  [4K, 8K)              1 |@@@@@@@@@@@@@                           |"
	has "$o" "$f: empty bucket [8K, 16K)" "  [8K, 16K)             0 |                                        |"
	has "$o" "$f: bucket [32K, 64K)" "  [32K, 64K)            1 |@@@@@@@@@@@@@                           |"
	has "$o" "$f: bucket [128K, 256K)" "  [128K, 256K)          1 |@@@@@@@@@@@@@                           |"
	has "$o" "$f: latency min/p50/p99/max" "  responses 10  min 700 ns  p50 2100 ns  p99 250000 ns  max 250000 ns"
	# group 7: code 2 with two requests, group 9: code 1
	has "$o" "$f: failed responses" "failed responses (code != 0): 2 groups, 3 requests"
	has "$o" "$f: response code 1" "  code 1 (INVALID)  1"
	has "$o" "$f: response code 2" "  code 2 (FAILURE)  1"
	has "$o" "$f: fault-ins" "  KVM fault-ins: 8 (write 5)"
	has "$o" "$f: fault-ins 4 KiB" "    mapped 4 KiB         3"
	has "$o" "$f: fault-ins 2 MiB" "    mapped 2 MiB         2"
	has "$o" "$f: fault-ins 1 GiB" "    mapped 1 GiB         1"
	has "$o" "$f: fault-in failures by errno" "    failed               2  (-14 EFAULT: 1, -12 ENOMEM: 1)"
	# 16384 + 512 + 256 pages = 17152 pages = 67 MiB
	has "$o" "$f: pins" "  pins: 3 calls, 17152 pages, 67.00 MiB"
	has "$o" "$f: unpins" "  unpins: 1 calls, 512 pages, 2.00 MiB"
	# pages 2 + 512 + 0 + 1 + 262144; [0, ~0) once; tables in 3; domains 1+2+2+2+1
	has "$o" "$f: invalidations" "  invalidations: 5, pages 262659, whole space 1, tables unlinked 3, domains flushed 8"
	# sync latencies 900 1100 2000 5000 30000: p50 = 3rd, p99 = 5th
	has "$o" "$f: sync latency" "  syncs: 5, latency p50 2000 ns  p99 30000 ns  max 30000 ns"
	has "$o" "$f: sync failures" "  sync failures: 1  (-110 ETIMEDOUT: 1)"
	has "$o" "$f: modes" "  mode decisions: NONE 1, SHARED 1, PINNED 1"
	has "$o" "$f: attaches" "  attaches: SHARED 1, PINNED 1"
	has "$o" "$f: memslots" "  memslot changes: CREATE 2, DELETE 1; failed 1  (-12 ENOMEM: 1); left blocked to DMA 0"
done

# odd inputs: hex and named USDT arguments, latencies on a bucket's lower
# bound, a layout with too many arguments, an argument perf probe dropped,
# an unknown event, a range from 0 that is not the whole space
cat >"$tmp/odd.txt" <<'EOF'
 demo  1 [000] 1.000001: sdt_kvm_iommu:kvm_iommu_iopf_end: (5500) arg1=0x1 arg2=0x2 arg3=0x0 arg4=0x1 arg5=0x400
 demo  1 [000] 1.000002: sdt_kvm_iommu:kvm_iommu_iopf_end: (5500) pasid=1 grpid=3 code=0 faults=1 latency_ns=3072
 demo  1 [000] 1.000003: sdt_kvm_iommu:kvm_iommu_invalidate: (5510) arg1=1 arg2=7 arg3=4096 arg4=8192 arg5=2 arg6=1
 demo  1 [000] 1.000004: sdt_kvm_iommu:kvm_iommu_pin: (5520) arg1=4096
 demo  1 [000] 1.000004: sdt_kvm_iommu:kvm_iommu_invalidate: (5510) arg1=0 arg2=4096 arg3=1 arg4=0 arg5=1
 demo  1 [000] 1.000005: sdt_kvm_iommu:kvm_iommu_future: (5530) arg1=1
EOF
sh "$tool" "$tmp/odd.txt" >"$tmp/odd.out" 2>&1
has "$tmp/odd.out" "odd: hex and named arguments" "  responses 2  min 1024 ns  p50 1024 ns  p99 3072 ns  max 3072 ns"
has "$tmp/odd.out" "odd: unknown event counted" "  kvm_iommu_future                    1  (not a known event)"
has "$tmp/odd.out" "odd: 1024 ns is in [1K, 2K)" "  [1K, 2K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
has "$tmp/odd.out" "odd: 3072 ns is in [2K, 4K)" "  [2K, 4K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
has "$tmp/odd.out" "odd: total" "  total                               6"
has "$tmp/odd.out" "odd: too many arguments noted" \
	"note: 1 kvm_iommu_invalidate events had more arguments than start end pages tables domains: not interpreted"
has "$tmp/odd.out" "odd: missing argument noted" \
	"note: 1 kvm_iommu_pin events lacked one of gpa pages (an argument the probe did not read): not interpreted"
has "$tmp/odd.out" "odd: [0, 4K) is not the whole space; uninterpreted events not summed" \
	"  invalidations: 1, pages 1, whole space 0, tables unlinked 0, domains flushed 1"

# a probe group of its own (perf-probes.sh -g, as make bench makes) reads as
# sdt_kvm_iommu does; a group of another provider is not read
sed 's/ sdt_kvm_iommu:/ sdt_kvm_iommu_bench_42:/' "$fx/usdt.txt" >"$tmp/group.txt"
sh "$tool" "$fx/usdt.txt" 2>&1 | sed 1d >"$tmp/usdt.body"
sh "$tool" "$tmp/group.txt" 2>&1 | sed 1d >"$tmp/group.body"
if grep -q ' sdt_kvm_iommu_bench_42:' "$tmp/group.txt" && cmp -s "$tmp/usdt.body" "$tmp/group.body"; then
	ok "group sdt_kvm_iommu_bench_42: the same report as sdt_kvm_iommu"
else
	fail "group sdt_kvm_iommu_bench_42: the same report as sdt_kvm_iommu"
	diff "$tmp/usdt.body" "$tmp/group.body" | sed 's/^/#   /'
fi
sed 's/ sdt_kvm_iommu:/ sdt_other:/' "$fx/usdt.txt" | sh "$tool" >"$tmp/other.out" 2>&1
has "$tmp/other.out" "group sdt_other: not read" "kvm-iommu-report: 0 kvm_iommu events from standard input"

# The tool's table of events and fields against the trace header: the same
# events, the fields in TP_PROTO order, and every field labelled in TP_printk
# ("field %..."), but the range [start, end) of kvm_iommu_invalidate.
header="$here/../../virt/iommufd/kvm_iommu_trace.h"
if [ -r "$header" ]; then
	cat >"$tmp/hdr.awk" <<'EOF'
# each trace event of a TRACE_EVENT header: "name: fields in TP_PROTO order: fields without a TP_printk label"
{ s = s " " $0 }
END {
	gsub(/[\t ]+/, " ", s)
	gsub(/(TRACE_EVENT|DEFINE_EVENT|DECLARE_EVENT_CLASS)\(/, "\001&", s)
	n = split(s, chunk, "\001")
	for (c = 2; c <= n; c++) {
		t = chunk[c]
		if (!match(t, /TP_PROTO\([^)]*\)/))
			continue
		kind = t; sub(/\(.*/, "", kind)
		head = t; sub(/^[A-Z_]*\( */, "", head); sub(/ *, *TP_PROTO.*/, "", head)
		split(head, h, / *, */)
		name = kind == "DEFINE_EVENT" ? h[2] : h[1]
		proto = substr(t, RSTART + 9, RLENGTH - 10)
		np = split(proto, p, / *, */)
		fields = ""
		for (i = 1; i <= np; i++) {
			k = split(p[i], w, " ")
			fields = fields (i > 1 ? " " : "") w[k]
		}
		fmt = ""
		if (match(t, /TP_printk\( *"[^"]*"/)) {
			fmt = substr(t, RSTART, RLENGTH)
			sub(/^TP_printk\( *"/, "", fmt)
		}
		if (kind == "DECLARE_EVENT_CLASS") {
			classfmt[name] = fmt
			continue
		}
		if (kind == "DEFINE_EVENT")
			fmt = classfmt[h[1]]
		nolabel = ""
		for (i = 1; i <= np; i++) {
			k = split(p[i], w, " ")
			if (index(" " fmt, " " w[k] " %") == 0 && index(" " fmt, " " w[k] " 0x%") == 0)
				nolabel = nolabel " " w[k]
		}
		print name ": " fields ":" nolabel
	}
}
EOF
	awk -f "$tmp/hdr.awk" "$header" | sort >"$tmp/hdr.events"
	sed -n 's/^	F\["\(kvm_iommu_[a-z_]*\)"\] = "\(.*\)"$/\1: \2:/p' "$tool" |
		sed 's/^\(kvm_iommu_invalidate: .*\):$/\1: start end/' | sort >"$tmp/tool.events"
	if [ -s "$tmp/tool.events" ] && cmp -s "$tmp/hdr.events" "$tmp/tool.events"; then
		ok "the events and fields are those of virt/iommufd/kvm_iommu_trace.h"
	else
		fail "the events and fields are those of virt/iommufd/kvm_iommu_trace.h"
		diff "$tmp/tool.events" "$tmp/hdr.events" | sed 's/^/#   /'
	fi
else
	echo "# $header not found: the field table is not checked against it"
fi

# the PNG
if command -v gnuplot >/dev/null; then
	rm -f "$tmp/lat.png"
	sh "$tool" -o "$tmp/lat.png" "$fx/kernel.txt" >/dev/null 2>"$tmp/png.err"
	if [ "$(od -An -c -N4 "$tmp/lat.png" 2>/dev/null | tr -d ' ')" = '211PNG' ]; then
		ok "-o writes a PNG"
	else
		fail "-o writes a PNG: $(cat "$tmp/png.err")"
	fi
	rm -f "$tmp/empty.png"
	printf 'nothing\n' | sh "$tool" -o "$tmp/empty.png" >/dev/null 2>&1
	check "-o writes a PNG without fault events" "$tmp/x" [ -s "$tmp/empty.png" ]
else
	echo "# gnuplot not installed: the PNG is not checked"
fi

# perf-demo.sh's check of the demo's counters against perf stat's
if sh "$compare" --compare "$fx/demo-output.txt" "$fx/perf-stat.csv" >"$tmp/cmp.out" 2>&1; then
	ok "compare: the sample counts match"
else
	fail "compare: the sample counts match"
	sed 's/^/#   /' "$tmp/cmp.out"
fi
check "compare: last line" "$tmp/x" [ "$(tail -1 "$tmp/cmp.out")" = "perf-demo: 11 events match" ]
# kvm_iommu_memslot is 3 + 1 on two probes: summed; the pin line before the block is not read
has "$tmp/cmp.out" "compare: sites summed" "kvm_iommu_memslot                     4          4  yes"
sed 's/^41,,sdt_kvm_iommu:kvm_iommu_sync,/40,,sdt_kvm_iommu:kvm_iommu_sync,/' "$fx/perf-stat.csv" >"$tmp/bad.csv"
check_fails "compare: a mismatch fails" "$tmp/cmp.out" \
	sh "$compare" --compare "$fx/demo-output.txt" "$tmp/bad.csv"
has "$tmp/cmp.out" "compare: the mismatch is shown" "kvm_iommu_sync                       41         40  NO"
has "$tmp/cmp.out" "compare: mismatch last line" "perf-demo: 1 of 11 events differ"
sed 's/^[0-9]*,/0,/' "$fx/perf-stat.csv" >"$tmp/zero.csv"
sed 's/^\(  kvm_iommu_[a-z_]* *\)[0-9]*$/\10/' "$fx/demo-output.txt" >"$tmp/zero.txt"
check_fails "compare: all counts zero fails" "$tmp/cmp.out" \
	sh "$compare" --compare "$tmp/zero.txt" "$tmp/zero.csv"
has "$tmp/cmp.out" "compare: all zero said" "perf-demo: every count is zero: are the probes on this binary?"
check_fails "compare: no trace events block fails" "$tmp/cmp.out" \
	sh "$compare" --compare "$fx/perf-stat.csv" "$fx/perf-stat.csv"
# perf script output (perf record's) counts one per line
sh "$compare" --compare "$fx/demo-output.txt" "$fx/usdt.txt" >"$tmp/cmp.out" 2>&1
has "$tmp/cmp.out" "compare: perf script lines counted" "kvm_iommu_iopf_end                   12         10  NO"

echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
