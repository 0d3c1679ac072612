/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build: struct kvm is the model's (platform/kvm_mmu.h), with the x86
 * fields of <asm/kvm_host.h>; below, the generic KVM interfaces around
 * memslots, PFNs and remote TLB flushes that the TDP MMU's exporter side
 * calls, which the model implements as upstream KVM behaves.
 */
#include "../../kvm_iommu_internal.h"
#include "../../platform/kvm_mmu.h"

#ifndef __KT_LINUX_KVM_HOST_H
#define __KT_LINUX_KVM_HOST_H

#define gpa_to_gfn(gpa)		((gfn_t)((gpa) >> PAGE_SHIFT))

/* SRCU over the memslots: readers see a slot unchanged until they unlock */
int srcu_read_lock(struct srcu_struct *ssp);
void srcu_read_unlock(struct srcu_struct *ssp, int idx);

struct kvm_vcpu *kvm_get_vcpu(struct kvm *kvm, int i);
bool kvm_arch_has_private_mem(struct kvm *kvm);

/* memslots of address space 0 */
#define KVM_USER_MEM_SLOTS	32764	/* x86: ids above are KVM's own */

/* kvm_set_memslot()'s kinds of change */
enum kvm_mr_change {
	KVM_MR_CREATE,
	KVM_MR_DELETE,
	KVM_MR_MOVE,
	KVM_MR_FLAGS_ONLY,
};

/*
 * An address space's slots, and each slot in use in it (under slots_lock,
 * or srcu): the model has address space 0 only, an array of slots.
 */
static inline struct kvm_memory_slot *__kvm_memslots(struct kvm *kvm, int as_id)
{
	return kvm->slots;
}

#define kvm_for_each_memslot(memslot, bkt, slots)			\
	for ((bkt) = 0; (bkt) < KVM_MODEL_SLOTS; (bkt)++)		\
		if (!((memslot) = &(slots)[bkt])->used) {} else
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn);
bool kvm_is_visible_memslot(struct kvm_memory_slot *slot);
bool kvm_slot_dirty_track_enabled(const struct kvm_memory_slot *slot);
bool kvm_slot_can_be_private(const struct kvm_memory_slot *slot);

/* PFN lookup through the VMM's mapping, and its error values */
#define KVM_PFN_ERR_MASK	(0x7ffULL << 52)
#define KVM_PFN_ERR_NOSLOT_MASK	(0xfffULL << 52)
#define KVM_PFN_NOSLOT		(0x1ULL << 63)
#define KVM_PFN_ERR_FAULT	(KVM_PFN_ERR_MASK)
#define KVM_PFN_ERR_HWPOISON	(KVM_PFN_ERR_MASK + 1)
#define KVM_PFN_ERR_RO_FAULT	(KVM_PFN_ERR_MASK + 2)
#define KVM_PFN_ERR_SIGPENDING	(KVM_PFN_ERR_MASK + 3)

static inline bool is_error_noslot_pfn(kvm_pfn_t pfn)
{
	return !!(pfn & KVM_PFN_ERR_NOSLOT_MASK);
}

static inline bool is_sigpending_pfn(kvm_pfn_t pfn)
{
	return pfn == KVM_PFN_ERR_SIGPENDING;
}

kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, unsigned long *hva);
void kvm_release_pfn_clean(kvm_pfn_t pfn);

/* true when an MMU-notifier invalidation of @gfn ran or runs since @mmu_seq */
bool mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn);

/* may KVM log a write made without a running vCPU (the arch answers) */
bool kvm_arch_allow_write_without_running_vcpu(struct kvm *kvm);

void kvm_flush_remote_tlbs(struct kvm *kvm);
void kvm_flush_remote_tlbs_range(struct kvm *kvm, gfn_t gfn, u64 nr_pages);

#define signal_pending(task)	((void)(task), false)

#endif /* __KT_LINUX_KVM_HOST_H */
