#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Create the perf probes sdt_kvm_iommu:<event> for the USDT probes of ONE
# host binary (the demo or the test binary), one perf event per trace event
# with every call site of that event attached to it, so that
#   perf stat -e 'sdt_kvm_iommu:*'
# counts each event name once, all sites summed.
#
# Usage: perf-probes.sh [-g GROUP] BINARY           (as root: uprobes live in tracefs)
#        perf-probes.sh --print [-g GROUP] BINARY   only print the uprobe definitions
#        perf-probes.sh -d GROUP                    delete the probes of GROUP
#
# -g puts the events in GROUP (GROUP:<event>) instead of sdt_kvm_iommu; a
# GROUP other than sdt_kvm_iommu must start with sdt_kvm_iommu_ (the report
# tool reads sdt_kvm_iommu*:<event>).  Only GROUP's probes are replaced:
# the probes of other groups, and the perf sessions using them, are left
# alone.  So a binary measured while others use sdt_kvm_iommu:* gets a group
# of its own (make bench: sdt_kvm_iommu_bench_<pid>, deleted at its end),
# as perf probe's own uprobes get probe_<binary>.
#
# Why not `perf probe -x BINARY 'sdt_kvm_iommu:*'`: perf 6.1 drops every
# constant SDT argument (4@$1), so the sites of one event get different
# argument lists, and the kernel refuses to add a second site with a
# different list to the same event ("File exists"): perf stops there, with
# that event on its first site only and the events after it not probed at
# all; and the probes it made lack their constant arguments.  This script reads the SDT notes itself (readelf -n) and writes
# one uprobe per site into tracefs' uprobe_events, with every argument
# (registers, memory, constants as \imm, globals) as arg1..argN of the same
# types on every site, so the kernel appends the sites to one event.  perf
# sees them as ordinary events: perf list, perf stat, perf record,
# perf probe -l, and perf probe -d 'sdt_kvm_iommu:*' removes them.
#
# An argument no uprobe can read (indexed addressing: 8@(%rax,%rdx,8)) is
# left out with a warning, as perf does; a site whose argument list then
# differs (or whose types differ) becomes the event <event>_<n>, which
# perf-demo.sh and kvm-iommu-report count as <event>.
#
# The previous probes of GROUP (of any binary) are deleted first; those of
# other groups are not touched.  Only x86_64 register names are translated.
set -eu

GROUP=sdt_kvm_iommu
PROVIDER=kvm_iommu
me=perf-probes

usage() {
	echo "usage: $0 [--print] [-g GROUP] BINARY | -d GROUP" >&2
	exit 2
}
print_only=0
delete_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--print) print_only=1; shift;;
	-g)	[ $# -ge 2 ] || usage; GROUP=$2; shift 2;;
	-d)	[ $# -ge 2 ] || usage; GROUP=$2; delete_only=1; shift 2;;
	-*)	usage;;
	*)	break;;
	esac
done
case $GROUP in
sdt_kvm_iommu | sdt_kvm_iommu_[A-Za-z0-9_]*)
	case $GROUP in *[!A-Za-z0-9_]*) usage;; esac
	[ ${#GROUP} -le 63 ] || { echo "$me: group name too long: $GROUP" >&2; exit 2; };;
*)	echo "$me: the group must be sdt_kvm_iommu or sdt_kvm_iommu_<name>: $GROUP" >&2
	exit 2;;
esac

# delete_group: remove GROUP's probes; nothing to remove is no error
delete_group() {
	out=$(perf probe -q -d "$GROUP:*" 2>&1) || {
		case $out in
		*"does not hit any event"* | "") ;;
		*)	echo "$out" >&2
			echo "$me: cannot delete the old $GROUP:* probes (a perf session still using them?)" >&2
			return 1;;
		esac
	}
}
if [ "$delete_only" = 1 ]; then
	[ $# -eq 0 ] || usage
	command -v perf >/dev/null || { echo "$me: perf not found" >&2; exit 1; }
	delete_group
	exit
fi
[ $# -eq 1 ] || usage
bin=$1
[ -f "$bin" ] || { echo "$me: $bin: no such file" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd -P)/$(basename "$bin")

if [ "$(uname -m)" != x86_64 ]; then
	echo "$me: only x86_64 SDT register names are translated (this is $(uname -m));" >&2
	echo "$me: try: perf probe -x $bin 'sdt_kvm_iommu:<event>' (constant arguments are dropped)" >&2
	exit 1
fi
command -v readelf >/dev/null || { echo "$me: readelf not found (apt-get install binutils)" >&2; exit 1; }

# uprobe definitions, one line per call site: "EVENT<TAB>p:GROUP/EVENT PATH:OFF ARGS"
defs() {
	{
		readelf -lW "$bin" | awk '$1 == "LOAD" { print "LOAD", $2, $3, $5 }'
		readelf -SW "$bin" | sed 's/^ *\[ *[0-9]*\]//' |
			awk '$1 == ".stapsdt.base" { print "BASE", $3 }'
		# symbols, for globals passed as sym(%rip)
		readelf -sW "$bin" | awk '$4 == "OBJECT" && $2 ~ /^[0-9a-f]+$/ { print "SYM", $8, $2 }'
		readelf -nW "$bin" | sed 's/^ *//'
	} | awk -v path="$bin" -v group="$GROUP" -v provider="$PROVIDER" '
	function hex(s,    i, c, v) {
		sub(/^0[xX]/, "", s)
		v = 0
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", tolower(substr(s, i, 1)))
			if (c == 0)
				return -1
			v = v * 16 + c - 1
		}
		return v
	}
	function die(msg) {
		printf "perf-probes: %s\n", msg > "/dev/stderr"
		failed = 1
		exit 1
	}
	# virtual address -> file offset, through the LOAD segments
	function foff(va,    i) {
		for (i = 0; i < nload; i++)
			if (va >= lva[i] && va < lva[i] + lsz[i])
				return va - lva[i] + loff[i]
		return -1
	}
	function kreg(r,    m) {
		sub(/^%/, "", r)
		if (r ~ /^r([89]|1[0-5])[dwbl]?$/) {
			sub(/[dwbl]$/, "", r)
			return "%" r
		}
		m = r
		sub(/^[re]/, "", m)
		if (m ~ /^(ax|al)$/) return "%ax"
		if (m ~ /^(bx|bl)$/) return "%bx"
		if (m ~ /^(cx|cl)$/) return "%cx"
		if (m ~ /^(dx|dl)$/) return "%dx"
		if (m ~ /^(si|sil)$/) return "%si"
		if (m ~ /^(di|dil)$/) return "%di"
		if (m ~ /^(bp|bpl)$/) return "%bp"
		if (m ~ /^(sp|spl)$/) return "%sp"
		if (m == "ip") return "%ip"
		return ""
	}
	# one SDT argument ([-]SIZE@OPERAND) -> uprobe fetcharg:type
	function fetch(spec, site_va, site_off,    at, sz, op, type, r, disp, sym, sva, o) {
		at = index(spec, "@")
		if (at) {
			sz = substr(spec, 1, at - 1)
			op = substr(spec, at + 1)
		} else {
			sz = 8
			op = spec
		}
		type = "u"
		if (sz ~ /^-/) {
			type = "s"
			sz = substr(sz, 2)
		}
		if (sz !~ /^(1|2|4|8)$/)
			return ""
		type = type (sz * 8)
		if (op ~ /^\$-?[0-9]+$/)
			return "\\" substr(op, 2) ":" type
		if (op ~ /^%[a-z0-9]+$/) {
			r = kreg(op)
			return r == "" ? "" : r ":" type
		}
		if (op ~ /^-?[0-9]*\(%[a-z0-9]+\)$/ && op !~ /\(%[re]?ip\)$/) {
			disp = op
			sub(/\(.*/, "", disp)
			r = op
			sub(/^[^(]*\(/, "", r)
			sub(/\)$/, "", r)
			r = kreg(r)
			if (r == "")
				return ""
			disp = disp + 0
			return (disp < 0 ? "" : "+") disp "(" r "):" type
		}
		# a global: sym(%rip) or sym+N(%rip) / sym-N(%rip); uprobes read
		# it at a file offset relative to the probed site: @+OFFSET
		if (op ~ /^[A-Za-z_.][A-Za-z0-9_.]*([+-][0-9]+)?\(%rip\)$/) {
			sym = op
			sub(/\(%rip\)$/, "", sym)
			o = 0
			if (match(sym, /[+-][0-9]+$/)) {
				o = substr(sym, RSTART) + 0
				sym = substr(sym, 1, RSTART - 1)
			}
			if (!(sym in symva) || (sym in ambiguous))
				return ""
			sva = symva[sym] + o
			return "@+" (sva - site_va + site_off) ":" type
		}
		return ""
	}
	function emit(    i, n, a, f, off, args) {
		if (name == "")
			return
		if (prov == provider) {
			va = loc + (sbase != "" ? sbase - nbase : 0)
			off = foff(va)
			if (off < 0)
				die(sprintf("%s at 0x%x: address outside every LOAD segment", name, va))
			args = ""
			n = split(argstr, a, " ")
			for (i = 1; i <= n; i++) {
				f = fetch(a[i], va, off)
				if (f == "") {
					# left out, as perf probe does; the site then
					# becomes <event>_<n> (another argument list)
					printf "perf-probes: %s at 0x%x: SDT argument %d \"%s\" left out " \
					       "(known: %%reg, disp(%%reg), $imm, unique-global(%%rip))\n",
					       name, va, i, a[i] > "/dev/stderr"
					continue
				}
				args = args " arg" i "=" f
			}
			ref = ""
			if (sem != 0) {
				ref = foff(sem + (sbase != "" ? sbase - nbase : 0))
				if (ref < 0)
					die(sprintf("%s: semaphore 0x%x outside every LOAD segment", name, sem))
				ref = sprintf("(0x%x)", ref)
			}
			printf "%s\tp:%s/%s %s:0x%x%s%s\n", name, group, name, path, off, ref, args
			sites++
		}
		name = ""
	}
	$1 == "LOAD" { lva[nload] = hex($3); loff[nload] = hex($2); lsz[nload] = hex($4); nload++; next }
	$1 == "BASE" { sbase = hex($2); next }
	$1 == "SYM" {
		if ($2 in symva && symva[$2] != hex($3))
			ambiguous[$2] = 1
		symva[$2] = hex($3)
		next
	}
	/^stapsdt[ \t]/ {
		emit()
		prov = ""
		argstr = ""
		sem = 0
		# readelf -W prints the provider on this line
		if (match($0, /Provider: *[^ \t]+/)) {
			prov = substr($0, RSTART, RLENGTH)
			sub(/^Provider: */, "", prov)
		}
		next
	}
	/^Provider:/ { prov = $2; next }
	/^Name:/ { name = $2; next }
	/^Location:/ {
		sub(/,$/, "", $2)
		sub(/,$/, "", $4)
		loc = hex($2)
		nbase = hex($4)
		sem = hex($6)
		next
	}
	/^Arguments:/ { argstr = $0; sub(/^Arguments: */, "", argstr); next }
	END {
		if (failed)
			exit 1
		emit()
		if (!sites) {
			printf "perf-probes: %s has no SDT probes of provider %s\n", path, provider > "/dev/stderr"
			exit 1
		}
	}'
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
defs >"$tmp"

if [ "$print_only" = 1 ]; then
	cut -f2- "$tmp"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "$me: needs root: the probes are uprobes, made in tracefs (uprobe_events); run as root" >&2
	exit 1
fi
command -v perf >/dev/null || { echo "$me: perf not found (apt-get install linux-perf)" >&2; exit 1; }

tracefs=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	if [ -w "$d/uprobe_events" ]; then
		tracefs=$d
		break
	fi
done
if [ -z "$tracefs" ] && mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null &&
   [ -w /sys/kernel/tracing/uprobe_events ]; then
	tracefs=/sys/kernel/tracing
fi
if [ -z "$tracefs" ]; then
	echo "$me: no tracefs with uprobe_events (a kernel with CONFIG_UPROBE_EVENTS is needed)" >&2
	exit 1
fi

perf buildid-cache --add "$bin"

# old probes of GROUP, of this or another binary; other groups are kept
delete_group

# One site after the other; the kernel appends a site to an existing event
# with the same argument list.  Should it refuse (argument types that differ
# between sites), the site gets a suffixed event, <event>_<n>; perf-demo.sh
# sums those into <event>.
nsites=0
while IFS='	' read -r ev def; do
	if ! printf '%s\n' "$def" >>"$tracefs/uprobe_events" 2>/dev/null; then
		n=1
		while :; do
			d2=$(printf '%s\n' "$def" | sed "s#^p:$GROUP/$ev #p:$GROUP/${ev}_$n #")
			if printf '%s\n' "$d2" >>"$tracefs/uprobe_events" 2>/dev/null; then
				echo "$me: $ev: a site with other argument types became ${ev}_$n" >&2
				break
			fi
			n=$((n + 1))
			if [ $n -gt 32 ]; then
				echo "$me: the kernel refused: $def" >&2
				tail -3 "$tracefs/error_log" >&2 2>/dev/null || true
				exit 1
			fi
		done
	fi
	nsites=$((nsites + 1))
done <"$tmp"

nev=$(cut -f1 "$tmp" | sort -u | wc -l)
echo "$me: $nsites call sites of $nev trace events in $bin"
perf list "$GROUP:*" 2>/dev/null | grep 'Tracepoint event' || true
