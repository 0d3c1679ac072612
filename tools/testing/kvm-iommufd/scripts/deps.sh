#!/bin/bash
# Install the Debian packages a target needs, when they are missing.
# Usage: deps.sh host|kernel|perf
# As root, missing packages are installed with apt-get (the list is printed
# first); otherwise the script names them and fails.
set -eu
case "${1:-}" in
host)	pkgs="gcc make libc6-dev liburcu-dev systemtap-sdt-dev binutils spin gnuplot-nox";;
kernel)	pkgs="gcc make libc6-dev linux-source-6.12 xz-utils bc bison flex libelf-dev
	      libssl-dev dwarves cpio rsync kmod qemu-system-x86 busybox-static";;
# perf-probes and perf-demo (with host): perf, readelf, gnuplot for the PNG
perf)	pkgs="linux-perf binutils gnuplot-nox";;
*)	echo "usage: $0 host|kernel|perf" >&2; exit 2;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "run as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "[deps] installing Debian packages for the $1 build:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "[deps] done"
