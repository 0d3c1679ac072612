#!/bin/bash
# Boot the kvm-iommufd test kernel in QEMU (TCG, q35, emulated VT-d, edu)
# and run the guest selftests.
#
# Usage: test-kernel.sh [PROFILE...]     (default: every profile)
#
# Needs build-kernel.sh's output: build/kernel/bzImage, the uAPI headers in
# build/kernel/obj/usr/include and build/kernel/obj/usr/gen_init_cpio; the
# "upstream" profile also needs build-kernel.sh --pristine's
# build/kernel-pristine/bzImage.
# Builds the selftests into build/selftests, one initramfs per boot into
# build/kernel/initramfs-BOOT.cpio.gz, and saves each serial log to
# build/kernel/test-kernel.log (profile "default") or
# build/kernel/test-kernel-BOOT.log.
#
# A profile is one boot: extra QEMU options and a test list file (one test
# name per line).  A test passes only if its boot printed "ok N name"; a
# listed test that is missing, skipped or "not ok" fails.  A boot also fails
# without the end marker, on a QEMU timeout, or with a kernel splat in the
# log.  The last line is always "N passed, N failed".
#
# Except profile "upstream": two boots without the vIOMMU, one of the
# patched and one of the unpatched kernel, running the same static build of
# the kernel's own tools/testing/selftests/iommu (iommufd, iommufd_fail_nth).
# It counts as one test, upstream_iommufd_selftests, which passes when both
# kernels give every test case the same result (see profile_upstream).
#
# Environment: QEMU_TIMEOUT (seconds per boot, default 240), VERBOSE=1 to
# echo the serial console while it runs.
# shellcheck disable=SC2317 # profile_* functions are called indirectly
set -uo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
kdir=$top/tools/testing/kvm-iommufd/kernel
stdir=$top/tools/testing/kvm-iommufd/selftests
bld=$top/build/kernel
stout=$top/build/selftests
bzimage=${BZIMAGE:-$bld/bzImage}	# BZIMAGE: another kernel built from this tree
pristine_bzimage=$top/build/kernel-pristine/bzImage
updir=$top/tools/testing/kvm-iommufd/upstream
upout=$top/build/upstream-selftests
khdr=$bld/obj/usr/include
gen_init_cpio=$bld/obj/usr/gen_init_cpio
busybox=${BUSYBOX:-/bin/busybox}
qemu=${QEMU:-qemu-system-x86_64}
qemu_timeout=${QEMU_TIMEOUT:-240}

end_marker=KVM-IOMMUFD-TESTS-END
splat_re='Kernel panic|Oops|WARNING:|BUG:|Call Trace'
alloc_report_re='(page allocation failure|vmalloc error): '

# QEMU options shared by every profile (TESTBED.md); the CPU model and the
# devices (IOMMU first, then edu) come from the profile.
qemu_common="-M q35,kernel-irqchip=split -accel tcg -m 1G -smp 2 -nographic -no-reboot"
kernel_cmdline="console=ttyS0 intel_iommu=on iommu=nopt panic=-1"
# No vIOMMU: the iommufd mock domain fails with EINVAL while intel-iommu is
# active (TESTBED.md); the upstream selftests map hugetlb pages.
novtd_qemu="-cpu max,la57=off"
novtd_cmdline="console=ttyS0 intel_iommu=off panic=-1 hugepages=160"

vtd_sm48="intel-iommu,intremap=on,caching-mode=on,x-scalable-mode=on,aw-bits=48"
vtd_sm39="intel-iommu,intremap=on,caching-mode=on,x-scalable-mode=on,aw-bits=39"

nr_pass=0
nr_fail=0
status=0

log() { printf '[test-kernel] %s\n' "$*"; }

die() {
	echo "test-kernel: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# Test names of a list file: comments and blank lines dropped.
list_tests() {
	sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$'
}

# make_initramfs PROFILE LISTFILE OUT [NAME=PATH...]
# Each listed test comes from build/selftests; each NAME=PATH adds the file
# PATH as /tests/NAME.
make_initramfs() {
	local profile=$1 list=$2 out=$3 spec t f
	local dir=$bld/initramfs-$profile.d
	shift 3

	mkdir -p "$dir"
	list_tests "$list" > "$dir/list"
	echo "$profile" > "$dir/profile"
	spec=$dir/spec
	{
		echo "dir /dev 0755 0 0"
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "nod /dev/null 0666 0 0 c 1 3"
		echo "dir /bin 0755 0 0"
		echo "file /bin/busybox $busybox 0755 0 0"
		echo "slink /bin/sh busybox 0777 0 0"
		echo "dir /proc 0755 0 0"
		echo "dir /sys 0755 0 0"
		echo "dir /tmp 1777 0 0"
		echo "dir /tests 0755 0 0"
		echo "file /init $kdir/init.sh 0755 0 0"
		echo "file /tests/list $dir/list 0644 0 0"
		echo "file /tests/profile $dir/profile 0644 0 0"
		while read -r t; do
			[ -x "$stout/$t" ] && echo "file /tests/$t $stout/$t 0755 0 0"
		done < "$dir/list"
		for f in "$@"; do
			echo "file /tests/${f%%=*} ${f#*=} 0755 0 0"
		done
	} > "$spec"
	"$gen_init_cpio" "$spec" | gzip -1 > "$out.tmp" && mv "$out.tmp" "$out"
}

# boot NAME KERNEL "QEMU_EXTRA_ARGS" "CMDLINE" LISTFILE [NAME=PATH...]
# One QEMU boot running the tests of LISTFILE (and the extra files, see
# make_initramfs).  Sets boot_log (the serial log), boot_secs, boot_bad
# (QEMU error or timeout, no end marker: each with a "# " line in
# boot_notes) and boot_splat (the first kernel splat lines, or empty).
boot() {
	local name=$1 kernel=$2 qemu_extra=$3 cmdline=$4 list=$5
	local initrd=$bld/initramfs-$name.cpio.gz
	local logf=$bld/test-kernel-$name.log
	local rc t0 t1 nr
	local -a qcmd
	shift 5

	[ "$name" = default ] && logf=$bld/test-kernel.log
	boot_log=$logf boot_secs=0 boot_bad=0 boot_notes="" boot_splat=""

	make_initramfs "$name" "$list" "$initrd" "$@" || die "initramfs for $name failed"

	# shellcheck disable=SC2206 # word splitting of the option strings is intended
	qcmd=($qemu $qemu_common $qemu_extra -kernel "$kernel" -initrd "$initrd")
	qcmd+=(-append "$cmdline")

	t0=$(date +%s.%N)
	# The serial console goes to the log as it comes; QEMU's own messages
	# (stderr) are appended at the end so they never split a guest line.
	{
		echo "# ${qcmd[*]}"
		timeout -k 10 "$qemu_timeout" "${qcmd[@]}" < /dev/null 2> "$logf.stderr" |
			tr -d '\r' | sed -e $'s/\x1b\\[[0-9;?]*[A-Za-z]//g' -e $'s/\x1bc//g' |
			if [ "${VERBOSE:-0}" = 1 ]; then tee /dev/stderr; else cat; fi
		echo "# qemu exit status ${PIPESTATUS[0]}"
		if [ -s "$logf.stderr" ]; then
			echo "# qemu stderr:"
			sed 's/^/# qemu: /' "$logf.stderr"
		fi
		rm -f "$logf.stderr"
	} > "$logf"
	t1=$(date +%s.%N)
	boot_secs=$(echo "$t1 - $t0" | bc)
	rc=$(sed -n 's/^# qemu exit status //p' "$logf" | tail -n 1)

	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		boot_notes+="# $name: QEMU timed out after ${qemu_timeout}s"$'\n'
		boot_bad=1
	elif [ "$rc" != 0 ]; then
		boot_notes+="# $name: QEMU exit status $rc"$'\n'
		boot_bad=1
	fi
	if ! grep -qx "$end_marker" "$logf"; then
		boot_notes+="# $name: end marker missing"$'\n'
		boot_bad=1
	fi
	boot_splat=$(without_alloc_reports "$logf" | grep -E "$splat_re" | head -n 5)
	nr=$(grep -cE "$alloc_report_re" "$logf")
	if [ "$nr" != 0 ]; then
		boot_notes+="# $name: $nr allocation-failure report(s) (injected failures; not splats)"$'\n'
	fi
}

# without_alloc_reports LOG: the log without the allocator's reports of a
# failed allocation (warn_alloc(): the message line, then a stack dump up
# to "</TASK>").  Fault-injection selftests make allocations fail on
# purpose; the kernel reports each one with a stack dump, which is not a
# WARN, an oops or a BUG.  Anything else in the log is still checked.
without_alloc_reports() {
	awk -v re="$alloc_report_re" '
		$0 ~ re { skip = 1; next }
		skip && /<\/TASK>/ { skip = 0; next }
		!skip' "$1"
}

# print_splat NAME: the splat lines boot found
print_splat() {
	echo "# $1: kernel splat in the log:"
	# shellcheck disable=SC2001 # prefix every line
	echo "$boot_splat" | sed 's/^/#   /'
}

# boot_and_run PROFILE "QEMU_EXTRA_ARGS" LISTFILE ["EXTRA_KERNEL_ARGS"]
# Boots the patched kernel with the vIOMMU; each listed test counts.
boot_and_run() {
	local profile=$1 qemu_extra=$2 list=$3 kextra=${4:-}
	local cmdline=$kernel_cmdline${kextra:+ $kextra}
	local t line pass=0 fail=0 bad

	[ -f "$list" ] || { log "$profile: no test list $list"; status=1; nr_fail=$((nr_fail + 1)); return; }

	echo "== $profile: $qemu_extra"
	boot "$profile" "$bzimage" "$qemu_extra" "$cmdline" "$list"
	bad=$boot_bad

	while read -r t; do
		line=$(grep -E "^(not )?ok [0-9]+ $t( #.*)?\$" "$boot_log" | tail -n 1)
		if [ -z "$line" ]; then
			echo "not ok - $t # no result in the log"
			fail=$((fail + 1))
		elif [[ "$line" == ok* && "$line" != *"# SKIP"* ]]; then
			echo "$line"
			pass=$((pass + 1))
		else
			echo "$line"
			fail=$((fail + 1))
		fi
	done < <(list_tests "$list")

	printf '%s' "$boot_notes"
	if [ -n "$boot_splat" ]; then
		print_splat "$profile"
		bad=1
		fail=$((fail + 1))	# the boot itself failed
	fi
	printf '# %s: %d passed, %d failed, %.1f s, log %s\n' "$profile" "$pass" \
		"$fail" "$boot_secs" "${boot_log#"$top"/}"

	nr_pass=$((nr_pass + pass))
	nr_fail=$((nr_fail + fail))
	if [ "$fail" != 0 ] || [ "$bad" != 0 ]; then
		status=1
	fi
}

# upstream_results LOG OUT: the per-test results of the upstream selftests
# in a serial log, one "PROGRAM TEST RESULT" line each (RESULT: PASS, FAIL,
# SKIP, XFAIL or XPASS), and one "PROGRAM .plan N" line per TAP plan.
upstream_results() {
	awk '
	$1 ~ /^(iommufd|iommufd_fail_nth):$/ {
		p = substr($1, 1, length($1) - 1)
		if ($2 ~ /^1\.\.[0-9]+$/) { print p, ".plan", substr($2, 4); next }
		if ($2 == "ok" && $3 ~ /^[0-9]+$/) { name = $4; r = "PASS" }
		else if ($2 == "not" && $3 == "ok" && $4 ~ /^[0-9]+$/) { name = $5; r = "FAIL" }
		else next
		if (r == "PASS" && match($0, /# (SKIP|XFAIL|XPASS)/))
			r = substr($0, RSTART + 2, RLENGTH - 2)
		print p, name, r
	}' "$1" > "$2"
}

# because REASON: add a reason for "not ok" to the caller's local $why
because() {
	why+=${why:+; }$1
}

# upstream_count RESULTS PROGRAM: "passed/planned" (planned: the TAP plan)
upstream_count() {
	awk -v p="$2" '$1 == p && $2 == ".plan" { plan = $3 }
		$1 == p && $3 == "PASS" { pass++ }
		END { printf "%d/%d", pass, plan }' "$1"
}

# --- profiles ---------------------------------------------------------------
# One function per boot.  A new profile: add profile_NAME and list NAME in
# all_profiles; give it its own test list (e.g. selftests/TESTS.NAME).

# Baseline, and SHARED refused because KVM caches MMIO GFNs (the default).
profile_default() {
	boot_and_run default \
		"-cpu max,la57=off -device $vtd_sm48 -device edu" \
		"$stdir/TESTS"
}

# SHARED mode: 4-level NPT against VT-d aw-bits=48, MMIO caching off.
profile_shared() {
	boot_and_run shared \
		"-cpu max,la57=off -device $vtd_sm48 -device edu" \
		"$stdir/TESTS.shared" "kvm.mmio_caching=0"
}

# SHARED refused: the unit walks 3 levels of 39 bits, KVM's root has 4.
profile_aw39() {
	boot_and_run aw39 \
		"-cpu max,la57=off -device $vtd_sm39 -device edu" \
		"$stdir/TESTS.refused" "kvm.mmio_caching=0"
}

# SHARED refused: with LA57 the NPT root has 5 levels.
profile_la57() {
	boot_and_run la57 \
		"-cpu max -device $vtd_sm48 -device edu" \
		"$stdir/TESTS.refused" "kvm.mmio_caching=0"
}

# The kernel's IO page fault path, run by the iommufd selftest driver's
# mock device through its KVM-table domain: no vIOMMU (the mock device
# does not work while intel-iommu is active, TESTBED.md), MMIO caching off
# so that KVM's table can be shared.
profile_mock() {
	boot_and_run mock "$novtd_qemu" "$stdir/TESTS.mock" "kvm.mmio_caching=0"
}

# The kernel's own iommufd selftests give every test case the same result
# on the patched kernel as on the unpatched one (build-kernel.sh --pristine).
# Both kernels boot without the vIOMMU and run the same static binaries,
# built from the patched tree's tools/testing/selftests/iommu against the
# patched uAPI headers (upstream/Makefile).  One test,
# upstream_iommufd_selftests: ok when neither boot failed, the patched boot
# has no kernel splat, each program reported every test of its plan on both
# kernels, at least half of them passed, and no result differs.  Absolute
# counts are printed, never compared: the tree's selftests are newer than
# its uAPI, so some fail on both kernels.  Per-test results:
# build/kernel/upstream-iommufd-{patched,pristine}.results, differences:
# build/kernel/upstream-iommufd.diff.
profile_upstream() {
	local t=upstream_iommufd_selftests list=$bld/upstream.list
	local res_p=$bld/upstream-iommufd-patched.results
	local res_u=$bld/upstream-iommufd-pristine.results
	local difff=$bld/upstream-iommufd.diff
	local -a files
	local why="" ndiff secs_p secs_u log_p log_u prog res plan nres npass cnt

	echo "== upstream: $novtd_qemu, no vIOMMU, patched and unpatched kernel"
	rm -f "$res_p" "$res_u" "$difff"
	if [ ! -e "$pristine_bzimage" ]; then
		because "no ${pristine_bzimage#"$top"/} (make kernel-pristine)"
	elif ! make -s -C "$updir" KHDR="$khdr" KSRC="$bld/linux-source-6.12" O="$upout"; then
		because "building the upstream selftests failed"
	fi
	if [ -n "$why" ]; then
		echo "not ok 1 $t # $why"
		nr_fail=$((nr_fail + 1)); status=1
		return
	fi

	echo upstream_iommufd > "$list"
	files=("upstream_iommufd=$updir/run-in-guest.sh"
	       "iommufd=$upout/iommufd" "iommufd_fail_nth=$upout/iommufd_fail_nth")

	boot upstream-patched "$bzimage" "$novtd_qemu" "$novtd_cmdline" "$list" "${files[@]}"
	secs_p=$boot_secs log_p=$boot_log
	printf '%s' "$boot_notes"
	[ "$boot_bad" = 0 ] || because "patched boot failed"
	if [ -n "$boot_splat" ]; then
		print_splat upstream-patched
		because "kernel splat on the patched kernel"
	fi
	upstream_results "$log_p" "$res_p"

	boot upstream-pristine "$pristine_bzimage" "$novtd_qemu" "$novtd_cmdline" "$list" "${files[@]}"
	secs_u=$boot_secs log_u=$boot_log
	printf '%s' "$boot_notes"
	[ "$boot_bad" = 0 ] || because "unpatched boot failed"
	# Not the project's to fix, and not a difference by itself: shown only.
	[ -z "$boot_splat" ] || print_splat "upstream-pristine (unpatched, not counted)"
	upstream_results "$log_u" "$res_u"

	# Every test of each plan reported, at least half passed, on both.
	for res in "$res_p" "$res_u"; do
		for prog in iommufd iommufd_fail_nth; do
			plan=$(awk -v p="$prog" '$1 == p && $2 == ".plan" { print $3 }' "$res")
			nres=$(awk -v p="$prog" '$1 == p && $2 != ".plan"' "$res" | wc -l)
			npass=$(awk -v p="$prog" '$1 == p && $3 == "PASS"' "$res" | wc -l)
			if [ -z "$plan" ] || [ "$plan" = 0 ] || [ "$nres" != "$plan" ]; then
				echo "# $(basename "$res" .results): $prog reported $nres results of a plan of ${plan:-none}"
				because "$prog: incomplete results"
			elif [ $((npass * 2)) -lt "$plan" ]; then
				echo "# $(basename "$res" .results): $prog passed only $npass of $plan"
				because "$prog: too few passed"
			fi
		done
	done

	awk 'FNR == NR { a[$1 " " $2] = $3; next }
		{ b[$1 " " $2] = $3 }
		END {
			for (k in a)
				if (!(k in b) || a[k] != b[k])
					print k ": patched " a[k] ", unpatched " ((k in b) ? b[k] : "none")
			for (k in b)
				if (!(k in a))
					print k ": patched none, unpatched " b[k]
		}' "$res_p" "$res_u" | sort > "$difff"
	ndiff=$(wc -l < "$difff")

	cnt="# upstream iommufd: patched $(upstream_count "$res_p" iommufd) pass,"
	cnt+=" unpatched $(upstream_count "$res_u" iommufd) pass;"
	cnt+=" fail_nth $(upstream_count "$res_p" iommufd_fail_nth) and"
	cnt+=" $(upstream_count "$res_u" iommufd_fail_nth); $ndiff differences"
	echo "$cnt"
	if [ "$ndiff" != 0 ]; then
		head -n 20 "$difff" | sed 's/^/#   differs: /'
		[ "$ndiff" -le 20 ] || echo "#   ... all $ndiff in ${difff#"$top"/}"
		because "$ndiff results differ"
	fi

	if [ -z "$why" ]; then
		printf 'ok 1 %s # %.1fs\n' "$t" "$(echo "$secs_p + $secs_u" | bc)"
		nr_pass=$((nr_pass + 1))
	else
		echo "not ok 1 $t # $why"
		nr_fail=$((nr_fail + 1)); status=1
	fi
	printf '# upstream: patched boot %.1f s, unpatched boot %.1f s, logs %s %s, results %s\n' \
		"$secs_p" "$secs_u" "${log_p#"$top"/}" "${log_u#"$top"/}" \
		"${bld#"$top"/}/upstream-iommufd-{patched,pristine}.results"
}

all_profiles="default shared aw39 la57 mock upstream"

# --- main ---------------------------------------------------------------------
[ -e "$bzimage" ] || die "no $bzimage (run build-kernel.sh)"
[ -f "$khdr/linux/iommufd.h" ] || die "no uAPI headers in $khdr"
[ -x "$gen_init_cpio" ] || die "no $gen_init_cpio"
[ -x "$busybox" ] || die "no $busybox (apt-get install busybox-static)"

log "building selftests into ${stout#"$top"/}"
make -s -C "$stdir" KHDR="$khdr" O="$stout" || die "selftest build failed"

profiles=${*:-$all_profiles}
for p in $profiles; do
	declare -F "profile_$p" > /dev/null || die "unknown profile $p"
done
for p in $profiles; do
	"profile_$p"
done

echo "$nr_pass passed, $nr_fail failed"
exit $status
