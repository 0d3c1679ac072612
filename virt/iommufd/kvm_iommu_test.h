/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The buffers of the iommufd selftest ops on a KVM-sourced IOAS:
 * IOMMU_TEST_OP_KVM_IOAS_STATS (virt/iommufd/kvm_selftest.c) and
 * IOMMU_TEST_OP_KVM_DMA (virt/iommufd/kvm_selftest_domain.c).
 * drivers/iommu/iommufd/iommufd_test.h includes this header, so selftests
 * read it where they read that one.
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

/* struct iommu_test_kvm_dma flags */
#define IOMMU_TEST_KVM_DMA_WRITE	(1u << 0) /* write, else read */
#define IOMMU_TEST_KVM_DMA_FAULT	(1u << 1) /* page request on a miss */
#define IOMMU_TEST_KVM_DMA_PROBE	(1u << 2) /* the IOTLB only, no walk */

/**
 * struct iommu_test_kvm_dma - A mock device's DMA through KVM's table
 * @flags: IOMMU_TEST_KVM_DMA_*
 * @__reserved: zero
 * @gpa: guest physical address of the first byte
 * @length: bytes to move, 1 to 2 MiB
 * @uptr: the bytes to write, or where the bytes read go
 * @out_done: bytes moved before the first page that was refused (all of
 *            @length when none was)
 * @out_hits: pages translated by the domain's IOTLB
 * @out_walks: walks of KVM's table
 * @out_faults: page requests the device raised
 * @out_code: the response to the last one (enum iommu_page_response_code:
 *            0 success, 1 invalid, 2 failure)
 * @out_flushes: invalidations the domain has received since it was
 *               allocated (->kvm_tdp_flush() and ->kvm_tdp_set_root())
 *
 * IOMMU_TEST_OP_KVM_DMA, with the command's id the device id of a mock
 * device attached SHARED to a KVM-sourced IOAS, and kvm_dma.uptr and
 * kvm_dma.length giving this struct, moves the bytes page by page through
 * the device's mock KVM-table domain: each page is translated by the
 * domain's IOTLB, else (unless PROBE) by a walk of KVM's table, whose leaf
 * the IOTLB keeps until an invalidation drops it.  A page neither gives
 * the access for is refused and ends the DMA; with FAULT the device
 * first raises a page request for it (read, or write intent), waits for
 * the answer and, on success, tries the page once more.  The op fails
 * only for a bad request (EINVAL), memory it cannot copy (EFAULT) or an
 * unanswered page request (ETIMEDOUT); a refusal is reported in
 * @out_done.  The kernel reads and writes min(kvm_dma.length, its size)
 * bytes of the struct, and needs at least the fields before @out_done.
 */
struct iommu_test_kvm_dma {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 gpa;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__aligned_u64 out_done;
	__u32 out_hits;
	__u32 out_walks;
	__u32 out_faults;
	__u32 out_code;
	__aligned_u64 out_flushes;
};

#endif /* __VIRT_IOMMUFD_KVM_IOMMU_TEST_H */
