/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the iommufd selftest op IOMMU_TEST_OP_KVM_IOAS_STATS writes for a
 * KVM-sourced IOAS.  drivers/iommu/iommufd/iommufd_test.h includes it, so
 * selftests read it where they read that header; the kernel side is
 * virt/iommufd/kvm_selftest.c.
 */
#ifndef __VIRT_IOMMUFD_KVM_IOMMU_TEST_H
#define __VIRT_IOMMUFD_KVM_IOMMU_TEST_H

#include <linux/types.h>

/**
 * struct iommu_test_kvm_ioas_stats - Counters of a KVM-sourced IOAS
 * @invalidations: flushes KVM reported
 * @domain_flushes: domain flushes issued (one per SHARED domain and flush)
 * @flush_errors: domain flushes a domain reported as failed
 * @pinned_pages: guest pages held pinned for SHARED devices that cannot fault
 * @memslot_changes: memslot changes KVM reported after the initial slots
 * @mirror_errors: memslot changes the IOAS could not follow
 * @flushes: flushes of every SHARED domain at once
 * @attaches: device attaches
 * @detaches: device detaches
 * @pin_calls: slot ranges pinned for SHARED devices that cannot fault
 * @unpin_calls: slot ranges unpinned again
 * @iopf_groups: IO page fault groups received by SHARED domains
 * @faultins: page requests resolved by asking KVM to map the GPA
 * @modes: mode decisions made
 * @memslot_refused: memslot creations the IOAS refused
 * @memslot_initial: the VM's slots when the IOAS started following them
 * @shared_domains: SHARED domains currently allocated
 * @attached: devices currently attached to a domain of the IOAS
 * @fault_domains: SHARED domains currently allocated for devices that can
 *                 fault
 * @__reserved: zero
 *
 * What IOMMU_TEST_OP_KVM_IOAS_STATS writes to kvm_ioas_stats.uptr: the
 * counters of struct kvm_iommu_stats that selftests check.  The kernel
 * writes the first min(kvm_ioas_stats.length, sizeof(its struct)) bytes
 * (none for a length of 0, which only asks for the size), leaves the rest
 * of the buffer as it was, and returns its size in kvm_ioas_stats.length:
 * fields are only ever appended, so a program built against an older or
 * newer struct reads the fields both know.
 */
struct iommu_test_kvm_ioas_stats {
	__aligned_u64 invalidations;
	__aligned_u64 domain_flushes;
	__aligned_u64 flush_errors;
	__aligned_u64 pinned_pages;
	__aligned_u64 memslot_changes;
	__aligned_u64 mirror_errors;
	__aligned_u64 flushes;
	__aligned_u64 attaches;
	__aligned_u64 detaches;
	__aligned_u64 pin_calls;
	__aligned_u64 unpin_calls;
	__aligned_u64 iopf_groups;
	__aligned_u64 faultins;
	__aligned_u64 modes;
	__aligned_u64 memslot_refused;
	__aligned_u64 memslot_initial;
	__u32 shared_domains;
	__u32 attached;
	__u32 fault_domains;
	__u32 __reserved;
};

#endif /* __VIRT_IOMMUFD_KVM_IOMMU_TEST_H */
