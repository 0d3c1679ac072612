#!/bin/bash
# Boot the kvm-iommufd test kernel in QEMU (TCG, q35, emulated VT-d, edu)
# and run the guest selftests.
#
# Usage: test-kernel.sh [PROFILE...]     (default: every profile)
#
# Needs build-kernel.sh's output: build/kernel/bzImage, the uAPI headers in
# build/kernel/obj/usr/include and build/kernel/obj/usr/gen_init_cpio.
# Builds the selftests into build/selftests, one initramfs per profile into
# build/kernel/initramfs-PROFILE.cpio.gz, and saves each serial log to
# build/kernel/test-kernel.log (profile "default") or
# build/kernel/test-kernel-PROFILE.log.
#
# A profile is one boot: extra QEMU options and a test list file (one test
# name per line).  A test passes only if its boot printed "ok N name"; a
# listed test that is missing, skipped or "not ok" fails.  A boot also fails
# without the end marker, on a QEMU timeout, or with a kernel splat in the
# log.  The last line is always "N passed, N failed".
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
bzimage=$bld/bzImage
khdr=$bld/obj/usr/include
gen_init_cpio=$bld/obj/usr/gen_init_cpio
busybox=${BUSYBOX:-/bin/busybox}
qemu=${QEMU:-qemu-system-x86_64}
qemu_timeout=${QEMU_TIMEOUT:-240}

end_marker=KVM-IOMMUFD-TESTS-END
splat_re='Kernel panic|Oops|WARNING:|BUG:|Call Trace'

# QEMU options shared by every profile (TESTBED.md); the CPU model and the
# devices (IOMMU first, then edu) come from the profile.
qemu_common="-M q35,kernel-irqchip=split -accel tcg -m 1G -smp 2 -nographic -no-reboot"
kernel_cmdline="console=ttyS0 intel_iommu=on iommu=nopt panic=-1"

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

# make_initramfs PROFILE LISTFILE OUT
make_initramfs() {
	local profile=$1 list=$2 out=$3 spec t
	local dir=$bld/initramfs-$profile.d

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
	} > "$spec"
	"$gen_init_cpio" "$spec" | gzip -1 > "$out.tmp" && mv "$out.tmp" "$out"
}

# boot_and_run PROFILE "QEMU_EXTRA_ARGS" LISTFILE ["EXTRA_KERNEL_ARGS"]
boot_and_run() {
	local profile=$1 qemu_extra=$2 list=$3 kextra=${4:-}
	local initrd=$bld/initramfs-$profile.cpio.gz
	local logf=$bld/test-kernel-$profile.log
	local cmdline=$kernel_cmdline${kextra:+ $kextra}
	local t line rc t0 t1 pass=0 fail=0 bad=0 splat
	local -a qcmd

	[ "$profile" = default ] && logf=$bld/test-kernel.log
	[ -f "$list" ] || { log "$profile: no test list $list"; status=1; nr_fail=$((nr_fail + 1)); return; }

	make_initramfs "$profile" "$list" "$initrd" || die "initramfs for $profile failed"

	# shellcheck disable=SC2206 # word splitting of the option strings is intended
	qcmd=($qemu $qemu_common $qemu_extra -kernel "$bzimage" -initrd "$initrd")
	qcmd+=(-append "$cmdline")

	echo "== $profile: $qemu_extra"
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
	rc=$(sed -n 's/^# qemu exit status //p' "$logf" | tail -n 1)

	while read -r t; do
		line=$(grep -E "^(not )?ok [0-9]+ $t( #.*)?\$" "$logf" | tail -n 1)
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

	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "# $profile: QEMU timed out after ${qemu_timeout}s"
		bad=1
	elif [ "$rc" != 0 ]; then
		echo "# $profile: QEMU exit status $rc"
		bad=1
	fi
	if ! grep -qx "$end_marker" "$logf"; then
		echo "# $profile: end marker missing"
		bad=1
	fi
	splat=$(grep -E "$splat_re" "$logf" | head -n 5)
	if [ -n "$splat" ]; then
		echo "# $profile: kernel splat in the log:"
		# shellcheck disable=SC2001 # prefix every line
		echo "$splat" | sed 's/^/#   /'
		bad=1
	fi
	printf '# %s: %d passed, %d failed, %.1f s, log %s\n' "$profile" "$pass" \
		"$fail" "$(echo "$t1 - $t0" | bc)" "${logf#"$top"/}"

	nr_pass=$((nr_pass + pass))
	nr_fail=$((nr_fail + fail))
	if [ "$fail" != 0 ] || [ "$bad" != 0 ]; then
		status=1
	fi
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

all_profiles="default shared aw39 la57"

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
