# SPDX-License-Identifier: GPL-2.0
#
# kvm-iommufd: iommufd IO address spaces sourced from a KVM VM.
#
#   make demo             the main job: a VMM scenario on the emulated platform
#   make test             host tests (plain, ASan+UBSan, TSan) and the spin protocol model
#   make stress           the host stress test, longer (STRESS_SECONDS, default 120, per build)
#   make kernel           Linux 6.12 + patches/ + overlay -> build/kernel/bzImage
#   make kernel-pristine  the same Linux 6.12 unpatched -> build/kernel-pristine/
#   make test-kernel      boot them under QEMU (VT-d, edu, nested SVM), run selftests
#   make clean            remove build/ (keeps nothing)
#
# demo, test, stress, kernel, kernel-pristine and test-kernel install the Debian
# packages they need when run as root (see tools/testing/kvm-iommufd/scripts/deps.sh).

HOST	:= tools/testing/kvm-iommufd
DEPS	:= $(HOST)/scripts/deps.sh

.PHONY: all demo test stress kernel kernel-pristine test-kernel deps-host deps-kernel clean help
all: help

help:
	@sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'

deps-host:
	@$(DEPS) host

deps-kernel:
	@$(DEPS) kernel

demo: deps-host
	@$(MAKE) -s -C $(HOST) demo

test: deps-host
	@$(MAKE) -s -C $(HOST) test

stress: deps-host
	@$(MAKE) -s -C $(HOST) stress

kernel: deps-kernel
	@$(HOST)/kernel/build-kernel.sh

# The unpatched kernel is the reference for the upstream iommufd selftests
# (test-kernel.sh profile "upstream"); both builds share one build lock.
kernel-pristine: deps-kernel
	@$(HOST)/kernel/build-kernel.sh --pristine

test-kernel: kernel kernel-pristine
	@$(HOST)/kernel/test-kernel.sh

clean:
	rm -rf build
