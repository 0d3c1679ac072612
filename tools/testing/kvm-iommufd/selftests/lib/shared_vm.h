/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM whose guest memory device DMA reaches through a KVM-sourced IOAS.
 *
 * Memory: one memfd-backed memslot of SHARED_VM_RAM bytes at GPA 0.  The
 * real-mode guest fills SRC with a pattern and zeroes DST (so KVM maps both
 * writable), signals stage 1, and after the host's DMA compares DST with
 * SRC and signals the result.
 */
#ifndef KVM_IOMMUFD_SHARED_VM_H
#define KVM_IOMMUFD_SHARED_VM_H

#include <stdint.h>

#include <iommufd_test.h>

#include "kvm_util.h"
#include "vfio_edu.h"

#define SHARED_VM_RAM		(16UL << 20)
#define SHARED_SRC_GPA		0x20000
#define SHARED_DST_GPA		0x30000
#define SHARED_LEN		4000U
#define SHARED_PORT		0x7ea
#define SHARED_STAGE1		1	/* pattern written, DST zeroed */
#define SHARED_DIFFER		2	/* DST differs from SRC */
#define SHARED_EQUAL		3	/* DST equals SRC */

struct shared_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int iommufd;
	uint32_t ioas_id;
	uint32_t hwpt_id;
	uint32_t mode, reasons;
	struct edu_dev edu;
};

/* shared_vm_create_opts() options */
#define SHARED_VM_NO_IPC_LOCK	(1u << 0)	/* drop CAP_IPC_LOCK first */
/* iommufd charges its pins to the mm's VmLck too (IOMMU_OPTION_RLIMIT_MODE) */
#define SHARED_VM_ACCOUNT_MM	(1u << 1)
/* no edu (a boot without the vIOMMU: the iommufd selftest driver's mock device) */
#define SHARED_VM_NO_EDU	(1u << 2)

uint8_t shared_pattern(unsigned int i);
/* VM + guest run to stage 1 + iommufd + KVM-sourced IOAS + edu bound. */
void shared_vm_create(struct shared_vm *s);
void shared_vm_create_opts(struct shared_vm *s, unsigned int opts);
/*
 * The same, with @before_memory(vm, @arg) called on the new VM before its
 * memslot and vCPU exist (for what KVM allows only then: the dirty ring,
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP).
 */
void shared_vm_create_hook(struct shared_vm *s, unsigned int opts,
			   void (*before_memory)(struct kvm_vm *vm, void *arg),
			   void *arg);
/* HWPT_ALLOC on the IOAS for edu; 0 or -errno, mode/reasons filled. */
int shared_vm_alloc_hwpt(struct shared_vm *s);
/* The same with IOMMU_HWPT_ALLOC_KVM_* policy flags. */
int shared_vm_alloc_hwpt_flags(struct shared_vm *s, uint32_t flags);
/* HWPT_ALLOC must give SHARED (else the test stops); edu attached to it. */
void shared_vm_attach_shared(struct shared_vm *s);
/* Run the guest's comparison; returns SHARED_EQUAL or SHARED_DIFFER. */
uint32_t shared_vm_guest_compare(struct shared_vm *s);
/*
 * edu copies SHARED_LEN bytes from SHARED_SRC_GPA to SHARED_DST_GPA through
 * its buffer; the host's view and the guest's comparison must both see
 * the source's bytes there.
 */
void shared_vm_copy_check(struct shared_vm *s);
void shared_vm_destroy(struct shared_vm *s);

/*
 * What the kernel should report for this machine, stated from what the
 * test can observe: the VT-d unit's CAP (SAGAW, MGAW), the CPU's paging
 * depth and physical address width, and KVM's MMIO caching parameter.
 */
uint32_t shared_expected_reasons(void);
/* IOMMUFD_TEST: the KVM root the IOAS's SHARED domains walk (0 if none). */
uint64_t shared_kvm_root(struct shared_vm *s);
/* IOMMUFD_TEST: the IOAS's counters (IOMMU_TEST_OP_KVM_IOAS_STATS). */
void shared_kvm_stats(int iommufd, uint32_t ioas_id, struct iommu_test_kvm_ioas_stats *st);
/*
 * The second-stage pointer of edu's RID_PASID entry, read back from the
 * intel-iommu debugfs (dmar_translation_struct); 0 if there is none.
 * @pgtt, when not NULL, gets the entry's translation type.
 */
uint64_t shared_vtd_ss_pointer(unsigned int *pgtt);
/*
 * VmLck of this process in KiB: iommufd's pins in its VFIO-compatible
 * accounting mode (IOMMU_OPTION_RLIMIT_MODE 1), else 0.
 */
long shared_vm_locked_kb(void);
/*
 * VmPin of this process in KiB: iommufd's pins, of PINNED and SHARED
 * devices alike (one pin per page per IOAS), whatever the mode.
 */
long shared_vm_pinned_kb(void);
/* Remove CAP_IPC_LOCK from this process's effective and permitted sets. */
void drop_cap_ipc_lock(void);
/* "A|B" for the bits of @mask named by @names[0..n) ("bitN" beyond, "none" for 0) */
const char *mask_names(uint32_t mask, const char *const *names, unsigned int n,
		       char *buf, size_t len);
const char *shared_reason_names(uint32_t reasons, char *buf, size_t len);

#endif /* KVM_IOMMUFD_SHARED_VM_H */
