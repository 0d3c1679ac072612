#!/bin/bash
# Check the patch series as a reviewer takes it: one patch at a time.
#
# For each patch of patches/series, in order: its size (lines added and
# removed; more than MAX_LINES added, default 400, is flagged), whether it
# applies on Linux 6.12 plus the patches before it, and scripts/checkpatch.pl.
#
# With --build, the kernel (bzImage, so link errors count) is also built after
# each patch, with the overlay files copied in: they are in the series' final
# state at every step, so the Kconfig and Makefile lines that compile an
# overlay file must come after every patch that file needs.  The
# configuration is build/kernel/obj/.config (make kernel writes it), copied
# afresh before each patch and completed with olddefconfig, so a project
# symbol that a later patch defines is on from that patch on; the "config"
# column shows which of them are on (CONFIG_KVM_ left out).
#
# The build runs in its own tree, build/series-check: the Linux source is
# extracted there once, and after each patch only the files whose content
# changed are rewritten, so make rebuilds what the patch changed.  A step
# whose inputs (the source after the patch, the overlay, the config) an
# earlier run built is not built again ("built as is by an earlier run";
# rm -r build/series-check/built builds every step): after a change to one
# patch, a rerun builds from that patch on; a change to the overlay or the
# config builds every step.  Measured on this 2-core machine while other
# builds shared it (load 4 to 6): the whole series from nothing took 29
# minutes, of which the first patch's full build took 10 (about 5 on an idle
# machine), the mmu_notifier.h patch another 10 (766 of the 1289 objects
# include it, through asm/tlbflush.h), every other patch 14 to 80 seconds.
# A build that fails is reported with its log, build/series-check/PATCH.log,
# makes the exit status 1, and the check goes on with the next patch.
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
src=$work/linux-source-6.12		# the files the series touches: apply, checkpatch
tree=$work/tree/linux-source-6.12	# --build: the whole source, built in obj
obj=$work/obj
overlay_dirs="virt/iommufd arch/x86/kvm-iommu arch/arm64/kvm-iommu include/uapi/linux include/linux"
mkdir -p "$work"
[ -f "$tarball" ] || { echo "missing $tarball (apt-get install linux-source-6.12)" >&2; exit 1; }
if [ "$build" = 1 ]; then
	# one --build at a time over build/series-check
	exec 9>"$work/.lock"
	flock 9
	[ -f "$top/build/kernel/obj/.config" ] ||
		{ echo "missing build/kernel/obj/.config (make kernel writes it)" >&2; exit 1; }
	# the configuration, as it is now for the whole run
	cp "$top/build/kernel/obj/.config" "$work/full.config"
	if [ ! -f "$work/tree/.extracted" ]; then
		echo "extracting $tarball into ${tree#"$top"/} (once)" >&2
		rm -rf "$work/tree"; mkdir -p "$work/tree"
		tar -C "$work/tree" -xf "$tarball"
		touch "$work/tree/.extracted"
	fi
fi

# The files the series touches, and those an earlier --build changed in the
# tree (they go back to their pristine content if the series left them).
synced=/dev/null
[ "$build" = 1 ] && [ -f "$work/tree/.synced" ] && synced=$work/tree/.synced
mapfile -t touched < <( (sed -n 's|^+++ b/||p' "$top"/patches/*.patch; cat "$synced") |
			sort -u)
rm -rf "$src"
tar -C "$work" -xf "$tarball" --wildcards \
	"${touched[@]/#/linux-source-6.12/}" \
	'linux-source-6.12/scripts/checkpatch.pl' \
	'linux-source-6.12/scripts/spelling.txt' \
	'linux-source-6.12/scripts/const_structs.checkpatch' 2>/dev/null || true

# Rewrite in the build tree each touched file whose content differs from $src
# (a new timestamp makes make rebuild what uses it); the others keep theirs.
sync_tree() {
	local f
	for f in "${touched[@]}"; do
		if [ -f "$src/$f" ]; then
			if ! cmp -s "$src/$f" "$tree/$f"; then
				mkdir -p "$(dirname "$tree/$f")"
				cp "$src/$f" "$tree/$f"
			fi
		else
			rm -f "$tree/$f"
		fi
	done
	printf '%s\n' "${touched[@]}" > "$work/tree/.synced"
}

if [ "$build" = 1 ]; then
	# The overlay, once: its files are the same at every step.
	: > "$work/overlay.manifest.new"
	for d in $overlay_dirs; do
		[ -d "$top/$d" ] || continue
		(cd "$top" && find "$d" -type f ! -name '*.o' ! -name '.*' ! -name 'README*') \
			>> "$work/overlay.manifest.new"
	done
	if [ -f "$work/overlay.manifest" ]; then
		comm -23 <(sort "$work/overlay.manifest") <(sort "$work/overlay.manifest.new") |
			while read -r o; do rm -f "$tree/$o"; done
	fi
	while read -r o; do
		mkdir -p "$tree/$(dirname "$o")"
		cmp -s "$top/$o" "$tree/$o" || cp "$top/$o" "$tree/$o"
	done < "$work/overlay.manifest.new"
	mv "$work/overlay.manifest.new" "$work/overlay.manifest"
	mkdir -p "$obj" "$work/built"
	# what, with the source after a patch, makes the input of its build
	inputs=$( (cd "$top" && xargs -d '\n' sha256sum < "$work/overlay.manifest";
		   sha256sum < "$work/full.config") | sha256sum)
fi

fail=0
failed=""
start=$(date +%s)
if [ "$build" = 1 ]; then
	printf '%-48s %6s %6s  %-7s %-10s %-30s %6s  %s\n' \
		patch added removed applies checkpatch config time build
else
	printf '%-48s %6s %6s  %-7s %-10s\n' patch added removed applies checkpatch
fi
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
	if [ "$build" = 0 ]; then
		printf '%-48s %6d %6d  %-7s %-10s%s\n' "$p" "$add" "$del" "$applies" "$cp" "$size"
		continue
	fi
	b="not built (does not apply)"; syms=-; secs=-
	if [ "$applies" = yes ]; then
		log=$work/$p.log
		key=$( (echo "$inputs"; cd "$src" && for f in "${touched[@]}"; do
			echo "$f"; [ ! -f "$f" ] || sha256sum < "$f"; done) | sha256sum | cut -c1-64)
		if [ -f "$work/built/$key" ]; then
			# the same source, overlay and config built before: no need
			# to build it again
			syms=$(cat "$work/built/$key")
			b="ok (built as is by an earlier run)"
		else
			t0=$(date +%s)
			sync_tree
			cp "$work/full.config" "$obj/.config"
			if make -s -C "$tree" O="$obj" olddefconfig >"$log" 2>&1 &&
			   make -s -C "$tree" O="$obj" -j"$(nproc)" bzImage >>"$log" 2>&1; then
				b=ok
				w=$(grep -c 'warning:' "$log" || true)
				[ "$w" = 0 ] || b="ok, $w warning lines (${log#"$top"/})"
			else
				b="FAILED (${log#"$top"/})"; fail=1
				failed="$failed $p"
			fi
			secs=$(( $(date +%s) - t0 ))s
			syms=$(sed -n 's/^CONFIG_KVM_\(TDP_EXPORT\|IOMMUFD[A-Z0-9_]*\)=y$/\1/p' \
				"$obj/.config" | paste -sd, -)
			[ -n "$syms" ] || syms=-
			[ "$b" = "${b#FAILED}" ] && echo "$syms" > "$work/built/$key"
		fi
	fi
	printf '%-48s %6d %6d  %-7s %-10s %-30s %6s  %s%s\n' \
		"$p" "$add" "$del" "$applies" "$cp" "$syms" "$secs" "$b" "$size"
done < "$top/patches/series"
if [ "$build" = 1 ]; then
	echo "total: $(( $(date +%s) - start ))s"
	if [ -n "$failed" ]; then
		# shellcheck disable=SC2086
		set -- $failed
		echo "check-series: the kernel does not build after $1: build/series-check/$1.log" >&2
		grep -m 5 -E 'error|undefined reference' "$work/$1.log" | sed 's/^/  /' >&2 || true
		shift
		[ $# = 0 ] || echo "check-series: nor after:" "$@" >&2
	fi
fi
exit "$fail"
