#!/bin/sh
# /init of the kvm-iommufd test initramfs (busybox).
#
# Binds the edu device to vfio-pci, runs every test named in /tests/list
# with its output indented, prints one TAP line per test, the kernel
# messages it caused, then the end marker, and powers off.

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing

end_marker=KVM-IOMMUFD-TESTS-END
test_timeout=120
edu=0000:00:03.0

# Boot messages are already on the console; from here on kernel messages
# are printed after each test so they never split a TAP line.
dmesg -c >/dev/null
dmesg -n 1

kmsg() {
	dmesg -c | sed 's/^/    # kmsg: /'
}

if [ -d /sys/bus/pci/devices/$edu ]; then
	echo vfio-pci > /sys/bus/pci/devices/$edu/driver_override
	echo $edu > /sys/bus/pci/drivers_probe
else
	echo "# no edu device at $edu"
fi
kmsg

profile=$(cat /tests/profile 2>/dev/null)
tests=$(cat /tests/list)
total=0
for t in $tests; do
	total=$((total + 1))
done

echo "# kvm-iommufd profile ${profile:-?}: $(uname -r), $total tests"
echo "TAP version 13"
echo "1..$total"
n=0
for t in $tests; do
	n=$((n + 1))
	if [ ! -x "/tests/$t" ]; then
		echo "not ok $n $t # missing"
		continue
	fi
	start=$(cut -d' ' -f1 /proc/uptime)
	{
		timeout $test_timeout "/tests/$t" 2>&1
		echo $? > /tmp/rc
	} | sed 's/^/    /'
	rc=$(cat /tmp/rc)
	end=$(cut -d' ' -f1 /proc/uptime)
	kmsg
	t_s=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
	case "$rc" in
	0)	echo "ok $n $t # ${t_s}s";;
	4)	echo "ok $n $t # SKIP ${t_s}s";;
	*)	echo "not ok $n $t # exit $rc, ${t_s}s";;
	esac
done
echo "$end_marker"
poweroff -f
