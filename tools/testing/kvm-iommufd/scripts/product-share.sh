#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# How much of the product code the host build compiles: one row per product
# file (its line count and whether the host build compiles it), then the
# share, against a target of 90%.  A report: the exit status is 0 whether or
# not the target is met, non-zero only when the script itself fails.
#
# Usage: product-share.sh          (from any directory; no network)
#
# Product code is
#   - every file under the overlay directories virt/iommufd,
#     arch/x86/kvm-iommu, arch/arm64/kvm-iommu, include/linux and
#     include/uapi/linux (README files left out), one row each;
#   - the added lines ('+', not the '+++' header) of every patch in
#     patches/series, one row per patch and patched file.
#
# "Compiled by the host build" is measured, not listed: an overlay file is
# compiled when it appears in the compiler's dependency output for a product
# object of the host build (`make -C tools/testing/kvm-iommufd product-deps`,
# which runs each product object's own compile command, of every variant,
# with -MM in place of -c).  Patch lines land in upstream files, which the
# host build never compiles; they would count only if a patch created a file
# that the dependency output names.
#
# Counting rule: a line is a line, blank lines included (wc -l: the number
# of newline characters in a file; for a patch, the number of added lines).
# The "code" column and the second share leave out blank lines and
# comment-only lines (C files: /* */ and // comments; other files: lines
# starting with #).  For patches this is judged on the added lines alone,
# so it is approximate when a '+' line continues a comment opened in a
# context line.
set -euo pipefail

TARGET=90
OVERLAY_DIRS="virt/iommufd arch/x86/kvm-iommu arch/arm64/kvm-iommu include/linux include/uapi/linux"

die() { echo "product-share: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || die "cannot find the script's directory"
host=$(dirname "$here")
top=$(cd "$host/../../.." && pwd) || die "cannot find the repository root"
[ -f "$top/patches/series" ] || die "no $top/patches/series"
[ -f "$host/Makefile" ] || die "no $host/Makefile"

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# --- what the host build compiles: the dependency lists of its product objects
# (a clean make: no inherited jobserver, flags or level from a calling make)
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	make -s --no-print-directory -C "$host" product-deps >"$tmp/deps.mk" 2>"$tmp/deps.err"; then
	cat "$tmp/deps.err" >&2
	die "make product-deps failed"
fi
# tokens of the rules, minus the targets and the line continuations
tr ' \t\\' '\n\n\n' <"$tmp/deps.mk" | grep -v -e ':$' -e '^$' | sort -u >"$tmp/deps.raw" ||
	die "make product-deps printed no dependencies"
: >"$tmp/deps"
while IFS= read -r f; do
	case "$f" in /*) ;; *) f="$host/$f";; esac
	r=$(realpath -e -- "$f") || die "dependency $f does not exist"
	case "$r" in "$top"/*) echo "${r#"$top"/}" >>"$tmp/deps";; esac
done <"$tmp/deps.raw"
sort -u -o "$tmp/deps" "$tmp/deps"
[ -s "$tmp/deps" ] || die "no dependency inside the repository"

# --- the overlay files
: >"$tmp/overlay"
for d in $OVERLAY_DIRS; do
	[ -d "$top/$d" ] || continue
	(cd "$top" && find "$d" -type f ! -name 'README*' ! -name '.*' ! -name '*~' \
		! -name '*.orig' ! -name '*.rej') >>"$tmp/overlay"
done
LC_ALL=C sort -o "$tmp/overlay" "$tmp/overlay"
[ -s "$tmp/overlay" ] || die "no overlay files"

# awk: code(line, kind) is 1 when the line holds something besides blanks
# and comments; the C comment state carries over from line to line.
cat >"$tmp/code.awk" <<'EOF'
function code(line, kind,    n, i, c, q, out, j) {
	if (kind != "c")
		return line !~ /^[ \t\r\f]*(#.*)?$/
	out = 0; n = length(line); i = 1
	while (i <= n) {
		if (incomment) {
			j = index(substr(line, i), "*/")
			if (!j)
				return out
			i += j + 1; incomment = 0; continue
		}
		c = substr(line, i, 1)
		if (c == "/" && substr(line, i + 1, 1) == "*") { incomment = 1; i += 2; continue }
		if (c == "/" && substr(line, i + 1, 1) == "/")
			return out
		if (c == "\"" || c == "'") {
			q = c; i++
			while (i <= n && substr(line, i, 1) != q) {
				if (substr(line, i, 1) == "\\")
					i++
				i++
			}
			out = 1; i++; continue
		}
		if (c !~ /[ \t\r\f]/)
			out = 1
		i++
	}
	return out
}
function kindof(path) { return path ~ /\.[ch]$/ ? "c" : "hash" }
EOF
# count.awk: the code lines of one file (-v F=path)
cp "$tmp/code.awk" "$tmp/count.awk"
cat >>"$tmp/count.awk" <<'EOF'
BEGIN { k = kindof(F) }
{ n += code($0, k) }
END { print n + 0 }
EOF
# patch.awk: per patched file, in order of first appearance: path, added
# lines, added code lines, 1 if the patch creates the file.  Lines are read
# inside the hunks by their @@ counts, so an added line that starts with
# "++" still counts and the trailer after the last hunk does not.
cp "$tmp/code.awk" "$tmp/patch.awk"
cat >>"$tmp/patch.awk" <<'EOF'
/^diff --git / && !old && !new { file = $NF; sub(/^b\//, "", file); created = 0; next }
/^--- \/dev\/null/ && !old && !new { created = 1; next }
/^\+\+\+ / && !old && !new {
	file = $2; sub(/^b\//, "", file)
	if (!(file in seen)) { seen[file] = 1; order[++nf] = file }
	if (created) made[file] = 1
	incomment = 0
	next
}
/^@@ / && !old && !new {
	o = $2; nw = $3
	sub(/^-/, "", o); sub(/^\+/, "", nw)
	old = (o ~ /,/) ? substr(o, index(o, ",") + 1) + 0 : 1
	new = (nw ~ /,/) ? substr(nw, index(nw, ",") + 1) + 0 : 1
	next
}
old || new {
	c = substr($0, 1, 1)
	if (c == "+") { new--; plus[file]++; cl[file] += code(substr($0, 2), kindof(file)) }
	else if (c == "-") old--
	else if (c != "\\") { old--; new-- }
	next
}
END {
	for (i = 1; i <= nf; i++)
		printf "%s\t%d\t%d\t%d\n", order[i], plus[order[i]], cl[order[i]], made[order[i]] + 0
}
EOF

# rows: kind<TAB>label<TAB>path<TAB>lines<TAB>code<TAB>compiled(0/1)
: >"$tmp/rows"
while IFS= read -r f; do
	lines=$(wc -l <"$top/$f") || die "cannot read $f"
	code=$(awk -v F="$f" -f "$tmp/count.awk" "$top/$f") || die "cannot count $f"
	comp=0
	grep -qxF -- "$f" "$tmp/deps" && comp=1
	printf 'overlay\toverlay\t%s\t%s\t%s\t%s\n' "$f" "$lines" "$code" "$comp" >>"$tmp/rows"
done <"$tmp/overlay"

# --- the patches of patches/series, one row per patch and patched file
npatches=0
while IFS= read -r p || [ -n "$p" ]; do
	p=${p%%#*}; p=${p//[[:space:]]/}
	[ -n "$p" ] || continue
	[ -f "$top/patches/$p" ] || die "patches/series lists $p, which is missing"
	npatches=$((npatches + 1))
	num=${p%%-*}
	awk -f "$tmp/patch.awk" "$top/patches/$p" >"$tmp/patch.rows" || die "cannot parse patches/$p"
	[ -s "$tmp/patch.rows" ] || die "patches/$p patches no file"
	while IFS=$'\t' read -r file plus code made; do
		comp=0
		[ "$made" = 1 ] && grep -qxF -- "$file" "$tmp/deps" && comp=1
		printf 'patch\tpatch %s\t%s\t+%s\t%s\t%s\n' "$num" "$file" "$plus" "$code" "$comp" >>"$tmp/rows"
	done <"$tmp/patch.rows"
done <"$top/patches/series"
[ "$npatches" -gt 0 ] || die "patches/series lists no patch"

# --- the table and the share
awk -F'\t' -v target="$TARGET" '
function pct(a, b) { return b ? sprintf("%.1f%%", 100 * a / b) : "n/a" }
BEGIN { printf "%-10s %-48s %6s %6s  %s\n", "", "file", "lines", "code", "host build" }
{
	n = $4; sub(/^\+/, "", n)
	printf "%-10s %-48s %6s %6d  %s\n", $2, $3, $4, $5, $6 ? "compiled" : "not compiled"
	all += n; allc += $5
	if ($6) { yes += n; yesc += $5 }
	if ($1 == "overlay") { ov += n; if ($6) ovy += n } else pa += n
}
END {
	printf "overlay files: %d lines, %d of them compiled; patches: %d added lines\n", ov, ovy, pa
	printf "product code compiled by the host build: %d of %d lines (%s), target %d%%\n",
		yes, all, pct(yes, all), target
	printf "  without blank and comment-only lines: %d of %d lines (%s)\n",
		yesc, allc, pct(yesc, allc)
}' "$tmp/rows" || die "cannot print the report"
