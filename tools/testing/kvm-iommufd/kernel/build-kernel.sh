#!/bin/bash
# Build the kvm-iommufd test kernel: Debian's linux-source-6.12, the patch
# series in patches/, and the overlay directories of this repository.
#
# Incremental: the tree is extracted once; the patch series is re-applied
# only when it changed (the applied copies are kept to reverse them); overlay
# files are copied by content so unchanged files keep their timestamps; the
# configuration is regenerated only when the fragment or the series changed.
#
# --pristine builds the unpatched reference kernel instead, the same way in
# its own tree: no patches, no overlay, and the config fragment without the
# project's own symbols (CONFIG_KVM_IOMMUFD*, CONFIG_KVM_TDP_EXPORT).  The
# upstream iommufd selftests compare the two kernels (test-kernel.sh).
#
# --config-off builds the patched tree with the project's own symbols off
# (CONFIG_KVM_IOMMUFD*, CONFIG_KVM_TDP_EXPORT), in build/kernel/obj-off: the
# series must not break a kernel that does not enable it.
#
# Usage: build-kernel.sh [--pristine | --config-off] [ARCH]   (x86_64 only for now)
# Output: build/kernel/bzImage and build/kernel/obj/usr/include (uAPI headers);
# with --pristine, the same under build/kernel-pristine/; with --config-off,
# build/kernel/obj-off/arch/x86/boot/bzImage.
set -euo pipefail

top=$(cd "$(dirname "$0")/../../../.." && pwd)
pristine=0
config_off=0
if [ "${1:-}" = --pristine ]; then
	pristine=1
	shift
elif [ "${1:-}" = --config-off ]; then
	config_off=1
	shift
fi
arch=${1:-x86_64}
tarball=/usr/src/linux-source-6.12.tar.xz
frag=$top/tools/testing/kvm-iommufd/kernel/$arch.config
if [ "$pristine" = 1 ]; then
	bld=$top/build/kernel-pristine
	series_file=""	# no patch series
	overlay_dirs=""
else
	bld=$top/build/kernel
	series_file=$top/patches/series
	overlay_dirs="virt/iommufd arch/x86/kvm-iommu arch/arm64/kvm-iommu include/uapi/linux include/linux"
fi
src=$bld/linux-source-6.12
obj=$bld/obj
[ "$config_off" = 0 ] || obj=$bld/obj-off
jobs=$(nproc)

if [ "$pristine" = 1 ]; then
	log() { printf '[kernel-pristine] %s\n' "$*"; }
elif [ "$config_off" = 1 ]; then
	log() { printf '[kernel-config-off] %s\n' "$*"; }
else
	log() { printf '[kernel] %s\n' "$*"; }
fi

mkdir -p "$bld" "$obj"

# One kernel build at a time on this machine (2 cores): a second caller
# waits for the first instead of racing it over the same tree.
exec 9>"$top/build/.kernel-build.lock"
flock 9

if [ ! -f "$bld/.extracted" ]; then
	[ -f "$tarball" ] || { echo "missing $tarball (apt-get install linux-source-6.12)" >&2; exit 1; }
	log "extracting $tarball (once)"
	rm -rf "$src"
	tar -C "$bld" -xf "$tarball"
	touch "$bld/.extracted"
fi

# --- patch series --------------------------------------------------------
series_new=$bld/series.new
: > "$series_new"
if [ -f "$series_file" ]; then
	grep -v -e '^#' -e '^[[:space:]]*$' "$series_file" > "$series_new" || true
fi
new_sum=$( (cat "$series_new"; while read -r p; do cat "$top/patches/$p"; done < "$series_new") | sha256sum)
old_sum=$(cat "$bld/applied.sum" 2>/dev/null || true)
if [ "$new_sum" != "$old_sum" ]; then
	# Files whose content the new series leaves as it was keep their
	# timestamps, so make rebuilds only what a changed patch changed.
	snap=$bld/snapshot
	rm -rf "$snap"; mkdir -p "$snap"
	touched=$(cat "$bld"/applied/*.patch "$series_new" 2>/dev/null |
		  sed -n 's|^+++ b/||p' | sort -u || true)
	for f in $touched; do
		if [ -f "$src/$f" ]; then
			mkdir -p "$snap/$(dirname "$f")"
			cp -p "$src/$f" "$snap/$f"
		fi
	done
	if [ -f "$bld/applied/series" ]; then
		log "reversing the previously applied series"
		tac "$bld/applied/series" | while read -r p; do
			patch -d "$src" -p1 -R -s -N < "$bld/applied/$p"
		done
	fi
	rm -rf "$bld/applied"; mkdir -p "$bld/applied"
	: > "$bld/applied/series"
	while read -r p; do
		log "applying patches/$p"
		patch -d "$src" -p1 -s -N --no-backup-if-mismatch < "$top/patches/$p"
		cp "$top/patches/$p" "$bld/applied/$p"
		echo "$p" >> "$bld/applied/series"
	done < "$series_new"
	echo "$new_sum" > "$bld/applied.sum"
	for f in $touched; do
		if [ -f "$snap/$f" ] && cmp -s "$snap/$f" "$src/$f"; then
			touch -r "$snap/$f" "$src/$f"
		fi
	done
	rm -rf "$snap"
fi

# --- overlay ---------------------------------------------------------------
manifest_new=$bld/overlay.manifest.new
: > "$manifest_new"
for d in $overlay_dirs; do
	[ -d "$top/$d" ] || continue
	(cd "$top" && find "$d" -type f ! -name '*.o' ! -name '.*' ! -name 'README*') >> "$manifest_new"
done
# Remove overlay files that no longer exist in the repository.
if [ -f "$bld/overlay.manifest" ]; then
	comm -23 <(sort "$bld/overlay.manifest") <(sort "$manifest_new") | while read -r f; do
		log "removing stale overlay file $f"; rm -f "$src/$f"
	done
fi
while read -r f; do
	mkdir -p "$src/$(dirname "$f")"
	if ! cmp -s "$top/$f" "$src/$f"; then cp "$top/$f" "$src/$f"; fi
done < "$manifest_new"
mv "$manifest_new" "$bld/overlay.manifest"

# --- configuration -----------------------------------------------------------
if [ "$pristine" = 1 ] || [ "$config_off" = 1 ]; then
	# The stock kernel has none of the project's Kconfig symbols; with
	# --config-off they keep their defaults (off).
	grep -v -E '^(# )?CONFIG_(KVM_IOMMUFD[A-Z0-9_]*|KVM_TDP_EXPORT)[= ]' "$frag" \
		> "$bld/$arch.config"
	frag=$bld/$arch.config
fi
cfg_sum=$( (cat "$frag"; echo "$new_sum") | sha256sum)
if [ "$cfg_sum" != "$(cat "$obj/.frag.sum" 2>/dev/null || true)" ] || [ ! -f "$obj/.config" ]; then
	log "configuring (tinyconfig + $(basename "$frag"))"
	make -s -C "$src" O="$obj" tinyconfig >/dev/null
	# Replace (rather than override) every symbol the fragment sets.
	syms=$(grep -oE '^(# )?CONFIG_[A-Za-z0-9_]+' "$frag" | sed 's/^# //' | paste -sd'|')
	grep -v -E "^(# )?($syms)(=| is not set)" "$obj/.config" > "$obj/.config.tmp" || true
	grep -E '^(CONFIG_|# CONFIG_)' "$frag" >> "$obj/.config.tmp"
	mv "$obj/.config.tmp" "$obj/.config"
	make -s -C "$src" O="$obj" olddefconfig >/dev/null
	missing=""
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qx "$line" "$obj/.config" || missing="$missing ${line%%=*}";;
		esac
	done < "$frag"
	if [ -n "$missing" ]; then
		echo "config options requested but not set (missing dependency?):$missing" >&2
		exit 1
	fi
	echo "$cfg_sum" > "$obj/.frag.sum"
fi

# --- build -------------------------------------------------------------------
if [ "$config_off" = 1 ]; then log "make bzImage (-j$jobs)"; else log "make bzImage headers (-j$jobs)"; fi
make -s -C "$src" O="$obj" -j"$jobs" bzImage
if [ "$config_off" = 1 ]; then
	for sym in KVM_IOMMUFD KVM_TDP_EXPORT; do
		grep -q "^CONFIG_$sym=" "$obj/.config" &&
			{ echo "CONFIG_$sym is on in $obj/.config" >&2; exit 1; }
	done
	log "done: ${obj#"$top"/}/arch/x86/boot/bzImage (the project's symbols off)"
	exit 0
fi
make -s -C "$src" O="$obj" headers >/dev/null
ln -sf obj/arch/x86/boot/bzImage "$bld/bzImage"
log "done: $bld/bzImage"
