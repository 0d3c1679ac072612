# SPDX-License-Identifier: GPL-2.0
#
# kvm-iommufd: iommufd IO address spaces sourced from a KVM VM.
#
#   make demo             the main job: a VMM scenario on the emulated platform
#   make test             host tests (plain, ASan+UBSan, TSan), the spin protocol model
#                         and the self-test of the perf report tool
#   make stress           the host stress test, longer (STRESS_SECONDS, default 120, per build)
#   make bench            the host bench: attach cost, IO page-table memory, pin rate, KVM's
#                         side and IO page faults, each mode against the conventional IOAS,
#                         the faults also through perf and tools/kvm-iommu-report (root);
#                         table, CSV and plots in build/bench/
#   make kernel           Linux 6.12 + patches/ + overlay -> build/kernel/bzImage
#   make kernel-pristine  the same Linux 6.12 unpatched -> build/kernel-pristine/
#   make kernel-config-off  the patched tree with the project's Kconfig symbols off
#                         (CONFIG_KVM_IOMMUFD, CONFIG_KVM_TDP_EXPORT) must build
#   make test-kernel      boot them under QEMU (VT-d, edu, nested SVM), run selftests
#   make perf-probes      (root) perf events sdt_kvm_iommu:* on the host demo's USDT probes
#   make perf-demo        (root) the demo under perf stat and perf record: counts checked
#                         against the demo's own, report in build/perf/report.txt and
#                         build/perf/fault-latency.png (tools/kvm-iommu-report)
#   make clean            remove build/ (keeps nothing)
#
# demo, test, stress, bench, kernel, kernel-pristine, kernel-config-off, test-kernel,
# perf-probes and perf-demo
# install the Debian packages they need when run as root (see
# tools/testing/kvm-iommufd/scripts/deps.sh).

HOST	:= tools/testing/kvm-iommufd
DEPS	:= $(HOST)/scripts/deps.sh
DEMO	:= $(CURDIR)/build/host/plain/kvm-iommufd-demo

.PHONY: all demo test stress bench kernel kernel-pristine kernel-config-off test-kernel \
	perf-probes perf-demo \
	deps-host deps-kernel deps-perf clean help
all: help

# the comment block above, from its third line to its end
help:
	@awk 'NR < 3 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' Makefile

deps-host:
	@$(DEPS) host

deps-kernel:
	@$(DEPS) kernel

deps-perf:
	@$(DEPS) perf

demo: deps-host
	@$(MAKE) -s -C $(HOST) demo

test: deps-host
	@$(MAKE) -s -C $(HOST) test

stress: deps-host
	@$(MAKE) -s -C $(HOST) stress

# The bench runs section 5 again under perf when it can (root, perf): as
# root it installs perf's packages too; otherwise that row says it was skipped.
bench: deps-host
	@if [ "$$(id -u)" = 0 ]; then $(DEPS) perf; fi
	@$(MAKE) -s -C $(HOST) bench

kernel: deps-kernel
	@$(HOST)/kernel/build-kernel.sh

# The unpatched kernel is the reference for the upstream iommufd selftests
# (test-kernel.sh profile "upstream"); both builds share one build lock.
kernel-pristine: deps-kernel
	@$(HOST)/kernel/build-kernel.sh --pristine

kernel-config-off: deps-kernel
	@$(HOST)/kernel/build-kernel.sh --config-off

test-kernel: kernel kernel-pristine
	@$(HOST)/kernel/test-kernel.sh

# The probes are bound to the binary's inode: a rebuilt demo needs them again,
# so perf-demo always makes them anew.
perf-probes: deps-host deps-perf
	@$(MAKE) -s -C $(HOST) OUT=$(CURDIR)/build/host $(DEMO)
	@$(HOST)/scripts/perf-probes.sh $(DEMO)

perf-demo: perf-probes
	@$(HOST)/scripts/perf-demo.sh $(DEMO) $(CURDIR)/build/perf

clean:
	rm -rf build
