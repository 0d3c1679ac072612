#!/bin/bash
# Run the host test binary of each variant, show its TAP, and print one
# closing line over all of them: "N passed, N failed".
# Usage: run-host-tests.sh OUT_DIR VARIANT...
set -u
out=$1; shift
passed=0; failed=0; rc=0
for v in "$@"; do
	echo "# ---- host tests: $v build ----"
	log=$(mktemp)
	"$out/$v/kvm-iommufd-test" 2>&1 | tee "$log" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
	st=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	# the fail-nth sweeps print "#   N fault points swept ..."
	swept=$(awk '/fault points swept/ { n += $2; k++ } END { printf "%d injection points swept in %d sweeps", n, k }' "$log")
	rm -f "$log"
	echo "# $v: fail-nth: $swept"
	if [ -z "$line" ]; then
		echo "# $v: no result line (crashed?), exit status $st"
		failed=$((failed + 1)); rc=1; continue
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	echo "# $v: $line"
	passed=$((passed + p)); failed=$((failed + f))
	[ "$st" -eq 0 ] || rc=1
done
# extra NAME CMD...: a suite that prints its own "N passed, N failed", which
# counts in the closing line too.
extra() {
	local name=$1 log st line p f
	shift
	echo "# ---- $name ----"
	log=$(mktemp)
	"$@" 2>&1 | tee "$log" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
	st=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "# $name: no result line, exit status $st"
		failed=$((failed + 1)); rc=1
		return
	fi
	echo "# $name: $line"
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	passed=$((passed + p)); failed=$((failed + f))
	[ "$st" -eq 0 ] || rc=1
}
here=$(dirname "$0")
# The spin checks of the invalidation protocol's Promela model, and the
# self-test of the perf report tool.
extra "spin: invalidation protocol model" "$here/../spin/run-spin.sh" "$(dirname "$out")/spin"
extra "kvm-iommu-report self-test" "$here/../../../../tools/kvm-iommu-report/test.sh"
# How much of the product code the host build compiles (product-share.sh):
# a report, which counts in neither number and fails nothing.
echo "# ---- product code compiled by the host build ----"
"$here/product-share.sh" 2>&1 | sed 's/^/# /'
st=${PIPESTATUS[0]}
[ "$st" -eq 0 ] || echo "# product-share.sh: exit status $st, no report (not counted)"
echo "$passed passed, $failed failed"
exit $rc
