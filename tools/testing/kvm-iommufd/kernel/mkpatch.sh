#!/bin/bash
# Write (or rewrite) one patch of the series from edits made directly in
# build/kernel/linux-source-6.12.
#
# Usage: mkpatch.sh NAME.patch "Subject line" "Body paragraph" FILE...
#
# FILEs are kernel-tree paths.  The patch is the difference between those
# files as the earlier patches of the series leave them (pristine source
# from the tarball plus every patch listed before NAME) and the files in the
# build tree.  NAME is added to patches/series if missing, and recorded as
# applied so build-kernel.sh does not try to apply it again.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../../.." && pwd)
name=$1 subject=$2 body=$3
shift 3
bld=$top/build/kernel
src=$bld/linux-source-6.12
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

touch "$top/patches/series"
grep -qx "$name" "$top/patches/series" || echo "$name" >> "$top/patches/series"
earlier=$(sed -n "/^$name\$/q;p" "$top/patches/series" | grep -v -e '^#' -e '^$' || true)

# Files the earlier patches touch, plus ours, from the pristine tarball.
files="$*"
for p in $earlier; do
	files="$files $(sed -n 's|^+++ b/||p' "$top/patches/$p")"
done
mkdir -p "$tmp/a"
# shellcheck disable=SC2086
(cd "$tmp" && tar -xf /usr/src/linux-source-6.12.tar.xz --wildcards \
	$(for f in $files; do echo "linux-source-6.12/$f"; done) 2>/dev/null || true)
[ -d "$tmp/linux-source-6.12" ] && cp -r "$tmp/linux-source-6.12/." "$tmp/a/"
for p in $earlier; do
	patch -s -d "$tmp/a" -p1 < "$top/patches/$p"
done

{
	echo "From: kvm-iommufd <kvm-iommufd@localhost>"
	echo "Subject: [PATCH] $subject"
	echo
	echo "$body" | fold -s -w 72 | sed 's/ *$//'
	echo
	echo "Signed-off-by: kvm-iommufd <kvm-iommufd@localhost>"
	echo "---"
	# git format-patch form, which scripts/checkpatch.pl reads file by file
	for f in "$@"; do
		if [ -f "$tmp/a/$f" ]; then
			d=$(diff -u --label "a/$f" --label "b/$f" "$tmp/a/$f" "$src/$f" || true)
			[ -n "$d" ] && printf 'diff --git a/%s b/%s\n%s\n' "$f" "$f" "$d"
		else
			d=$(diff -u --label /dev/null --label "b/$f" /dev/null "$src/$f" || true)
			printf 'diff --git a/%s b/%s\nnew file mode 100644\n%s\n' "$f" "$f" "$d"
		fi
	done
} > "$top/patches/$name"

# Record it as applied, the way build-kernel.sh does.
mkdir -p "$bld/applied"
cp "$top/patches/$name" "$bld/applied/$name"
grep -v -e '^#' -e '^[[:space:]]*$' "$top/patches/series" > "$bld/applied/series"
series_new=$bld/applied/series
sum=$( (cat "$series_new"; while read -r p; do cat "$top/patches/$p"; done < "$series_new") | sha256sum)
echo "$sum" > "$bld/applied.sum"
echo "wrote patches/$name ($(grep -c '^[-+][^-+]' "$top/patches/$name") changed lines)"
