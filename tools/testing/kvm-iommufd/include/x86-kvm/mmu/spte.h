/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu/spte.h: KVM's SPTE masks and
 * constants, as the model encodes them (platform/kvm_spte.c).  The masks
 * are per VM in the model (see mmu.h): each macro reads the VM named @kvm
 * in its user's scope.
 */
#ifndef KVM_X86_MMU_SPTE_H
#define KVM_X86_MMU_SPTE_H

#include "../mmu.h"

/* x86 paging and EPT bits at fixed positions */
#define PT_PRESENT_MASK		BIT_ULL(0)
#define PT_WRITABLE_MASK	BIT_ULL(1)
#define PT_USER_MASK		BIT_ULL(2)
#define PT_PAGE_SIZE_MASK	BIT_ULL(7)
#define VMX_EPT_READABLE_MASK	BIT_ULL(0)

/* the SPTE masks KVM computes at module load, for the VM's host */
struct kt_spte_masks {
	u64 present, user, x, nx, accessed, dirty, memtype, acc_track;
	u64 host_writable, mmu_writable, mmu_present, me_value;
	u64 mmio_access, nonpresent_or_rsvd, gen_low, gen_high;
	u64 ad_disabled, nonpresent, frozen, mmio_mask;
};

const struct kt_spte_masks *kvm_model_spte_masks(struct kvm *kvm);
bool kvm_model_ad_enabled(struct kvm *kvm);

#define shadow_present_mask	(kvm_model_spte_masks(kvm)->present)
#define shadow_user_mask	(kvm_model_spte_masks(kvm)->user)
#define shadow_x_mask		(kvm_model_spte_masks(kvm)->x)
#define shadow_nx_mask		(kvm_model_spte_masks(kvm)->nx)
#define shadow_accessed_mask	(kvm_model_spte_masks(kvm)->accessed)
#define shadow_dirty_mask	(kvm_model_spte_masks(kvm)->dirty)
#define shadow_memtype_mask	(kvm_model_spte_masks(kvm)->memtype)
#define shadow_acc_track_mask	(kvm_model_spte_masks(kvm)->acc_track)
#define shadow_host_writable_mask (kvm_model_spte_masks(kvm)->host_writable)
#define shadow_mmu_writable_mask (kvm_model_spte_masks(kvm)->mmu_writable)
#define shadow_me_value		(kvm_model_spte_masks(kvm)->me_value)
#define shadow_mmio_access_mask	(kvm_model_spte_masks(kvm)->mmio_access)
#define shadow_nonpresent_or_rsvd_mask (kvm_model_spte_masks(kvm)->nonpresent_or_rsvd)
#define SPTE_TDP_MMU_PRESENT_MASK (kvm_model_spte_masks(kvm)->mmu_present)
#define MMIO_SPTE_GEN_LOW_MASK	(kvm_model_spte_masks(kvm)->gen_low)
#define MMIO_SPTE_GEN_HIGH_MASK	(kvm_model_spte_masks(kvm)->gen_high)
/* the same in every VM */
#define SPTE_TDP_AD_DISABLED	BIT_ULL(52)
#define SHADOW_NONPRESENT_VALUE	BIT_ULL(63)
#define FROZEN_SPTE		(SHADOW_NONPRESENT_VALUE | 0x5a0ULL)
#define SHADOW_ACC_TRACK_SAVED_BITS_MASK  (BIT_ULL(0) | BIT_ULL(2))
#define SHADOW_ACC_TRACK_SAVED_BITS_SHIFT 54
#define SHADOW_NONPRESENT_OR_RSVD_MASK_LEN 5
#define SPTE_ENT_PER_PAGE	512

#define kvm_ad_enabled()	kvm_model_ad_enabled(kvm)

/* What an SPTE is, as KVM tells (the masks of the VM named @kvm) */
#define SPTE_TDP_AD_MASK	(3ULL << 52)
#define is_shadow_present_pte(pte) \
	(!!((pte) & kvm_model_spte_masks(kvm)->mmu_present))
#define is_large_pte(pte)	(!!((pte) & PT_PAGE_SIZE_MASK))
#define is_last_spte(pte, level) ((level) == PG_LEVEL_4K || is_large_pte(pte))
#define is_writable_pte(pte)	(!!((pte) & PT_WRITABLE_MASK))
#define spte_ad_enabled(spte)	(((spte) & SPTE_TDP_AD_MASK) != SPTE_TDP_AD_DISABLED)
#define is_access_track_spte(spte) \
	(!spte_ad_enabled(spte) && !((spte) & shadow_acc_track_mask))
#define shadow_mmio_mask	(kvm_model_spte_masks(kvm)->mmio_mask)
#define is_mmio_spte(vm, spte) \
	(((spte) & shadow_mmio_mask) == (vm)->arch.shadow_mmio_value && \
	 kvm_model_mmio_caching(vm))
#define is_frozen_spte(spte)	((spte) == kvm_model_spte_masks(kvm)->frozen)
#define SPTE_EPT_EXECUTABLE_MASK	BIT_ULL(2)

/*
 * The shadow page of a page-table page: the model keeps only each table's
 * level (with the page), and no table is kept from becoming a huge page by
 * the NX huge page mitigation (its vCPUs do not execute).
 */
struct kvm_mmu_page *sptep_to_sp(u64 *sptep);
struct kvm_mmu_page *kvm_model_child_sp(struct kvm *kvm, u64 spte);
#define spte_to_child_sp(spte)	kvm_model_child_sp(kvm, spte)

/* patch 0002's make_tdp_spte_no_vcpu(), over the model's make_spte() */
bool make_tdp_spte_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *sp,
			   const struct kvm_memory_slot *slot, gfn_t gfn,
			   kvm_pfn_t pfn, u64 old_spte, bool host_writable,
			   u64 *new_spte);

/* the PFN bits: below bit 52, without the memory encryption bit */
#define spte_to_pfn(pte) \
	(((pte) & GENMASK_ULL(51, 12) & ~shadow_me_value) >> PAGE_SHIFT)

#endif /* KVM_X86_MMU_SPTE_H */
