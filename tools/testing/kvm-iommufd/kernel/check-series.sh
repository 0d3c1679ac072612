#!/bin/bash
# Check the patch series as a reviewer takes it: one patch at a time.
#
# For each patch of patches/series, in order: its size (lines added and
# removed; more than MAX_LINES added, default 400, is flagged), whether it applies on
# Linux 6.12 plus the patches before it, and scripts/checkpatch.pl.  With
# --build, the kernel is also built after each patch (in its own tree under
# build/series-check, with the overlay files copied in: they are the
# series' final state, so a patch that an overlay file depends on must come
# before the first patch whose build compiles it).  The build takes a full
# kernel build plus one incremental build per patch: not for CI.
#
# Usage: check-series.sh [--build]
# Exit status: 0 when every patch applies (and builds) and is
# checkpatch-clean; 1 otherwise.  Sizes over MAX_LINES are reported only.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../../.." && pwd)
tarball=/usr/src/linux-source-6.12.tar.xz
max=${MAX_LINES:-400}
build=0
[ "${1:-}" = --build ] && build=1
work=$top/build/series-check
src=$work/linux-source-6.12
mkdir -p "$work"
[ -f "$tarball" ] || { echo "missing $tarball (apt-get install linux-source-6.12)" >&2; exit 1; }
rm -rf "$src"
if [ "$build" = 1 ]; then
	tar -C "$work" -xf "$tarball"
else
	# the files the series touches, and checkpatch with what it reads
	files=$(sed -n 's|^+++ b/||p' "$top"/patches/*.patch | sort -u |
		sed 's|^|linux-source-6.12/|')
	# shellcheck disable=SC2086
	tar -C "$work" -xf "$tarball" --wildcards $files \
		'linux-source-6.12/scripts/checkpatch.pl' \
		'linux-source-6.12/scripts/spelling.txt' \
		'linux-source-6.12/scripts/const_structs.checkpatch' 2>/dev/null || true
fi
fail=0
printf '%-48s %6s %6s  %-7s %-10s %s\n' patch added removed applies checkpatch build
while read -r p; do
	case "$p" in ''|'#'*) continue;; esac
	f=$top/patches/$p
	add=$(grep -c '^+[^+]' "$f" || true)
	del=$(grep -c '^-[^-]' "$f" || true)
	size=""
	[ "$add" -gt "$max" ] && size=" (over $max added)"
	if patch -d "$src" -p1 -s -N --no-backup-if-mismatch < "$f" >/dev/null 2>&1; then
		applies=yes
	else
		applies=NO; fail=1
	fi
	if (cd "$src" && ./scripts/checkpatch.pl --no-tree -q "$f" >/dev/null 2>&1); then
		cp=clean
	else
		cp=WARNINGS; fail=1
	fi
	b=-
	if [ "$build" = 1 ] && [ "$applies" = yes ]; then
		for d in virt/iommufd arch/x86/kvm-iommu include/uapi/linux include/linux; do
			(cd "$top" && find "$d" -type f ! -name 'README*') | while read -r o; do
				mkdir -p "$src/$(dirname "$o")"
				cmp -s "$top/$o" "$src/$o" || cp "$top/$o" "$src/$o"
			done
		done
		if [ ! -f "$work/obj/.config" ]; then
			mkdir -p "$work/obj"
			cp "$top/build/kernel/obj/.config" "$work/obj/.config"
		fi
		if make -s -C "$src" O="$work/obj" olddefconfig >/dev/null 2>&1 &&
		   make -s -C "$src" O="$work/obj" -j"$(nproc)" bzImage >"$work/$p.log" 2>&1; then
			b=ok
		else
			b="FAILED ($work/$p.log)"; fail=1
		fi
	fi
	printf '%-48s %6d %6d  %-7s %-10s %s%s\n' "$p" "$add" "$del" "$applies" "$cp" "$b" "$size"
done < "$top/patches/series"
exit "$fail"
