#!/bin/sh
# Guest side of test-kernel.sh's "upstream" profile: /tests/upstream_iommufd
# in the initramfs, run by /init like any guest selftest.
#
# Runs the kernel's own iommufd selftests (/tests/iommufd and
# /tests/iommufd_fail_nth), each with its whole output kept in /tmp, and
# prints only what the host compares, every line prefixed "PROGRAM: ":
#   the TAP plan ("1..N"), each result ("ok N FIXTURE.variant.test",
#   "not ok N ..."), the harness totals, and the program's exit status.
# A failing test's own diagnostics (from its "#  RUN" line to its result)
# are printed too, prefixed "PROGRAM: |", for reading the log later.
#
# Kernel messages: the mock device logs one "Adding to iommu group" line per
# test (over a thousand), enough to wrap a small log buffer and lose an
# earlier warning.  The buffer is drained to a file twice a second while a
# program runs; those routine lines are counted, every other line is
# printed ("PROGRAM: kmsg: ..."), so the host's splat check sees them all.
#
# Exits 0 when both programs ran (whatever their results: the host decides
# by comparing with the other kernel), 1 when one is missing.

status=0
for p in iommufd iommufd_fail_nth; do
	if [ ! -x "/tests/$p" ]; then
		echo "$p: missing"
		status=1
		continue
	fi
	out=/tmp/$p.out
	kmsg=/tmp/$p.kmsg
	dmesg -c > "$kmsg"
	rm -f /tmp/kmsg.stop
	while [ ! -e /tmp/kmsg.stop ]; do
		dmesg -c >> "$kmsg"
		sleep 0.5
	done &
	drain=$!

	"/tests/$p" > "$out" 2>&1
	rc=$?

	touch /tmp/kmsg.stop
	wait $drain
	dmesg -c >> "$kmsg"

	awk -v p="$p" '
		/^#  RUN / { n = 0 }
		{ buf[n++] = $0 }
		/^not ok [0-9]+ / { for (i = 0; i < n - 1; i++) print p ": | " buf[i] }
		/^(not )?ok [0-9]+ / || /^1\.\.[0-9]+$/ || /^# Totals:/ { print p ": " $0; n = 0 }
	' "$out"
	echo "$p: exit $rc"
	awk -v p="$p" '
		/iommufd_mock[0-9]*: Adding to iommu group [0-9]+$/ { routine++; next }
		{ print p ": kmsg: " $0 }
		END { printf "%s: kmsg: %d routine \"Adding to iommu group\" lines not shown\n", p, routine }
	' "$kmsg"
done
exit $status
