/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM 6.12 TDP SPTE encodings, as the x86 TDP MMU writes them
 * (arch/x86/kvm/mmu/spte.{h,c}: make_spte(), make_nonleaf_spte(),
 * make_mmio_spte(), mark_spte_for_access_track(), FROZEN_SPTE,
 * SHADOW_NONPRESENT_VALUE), for EPT and NPT, with the position of the
 * software MMU-present bit as a parameter: 11 in stock 6.12, moved to an
 * IOMMU-ignored bit by the series.
 *
 * The model also produces the struct kvm_tdp_format that KVM's exporter
 * reports for the same configuration, so tests can check the description
 * against the encodings.
 */
#ifndef __KT_KVM_SPTE_H
#define __KT_KVM_SPTE_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_tdp_format;

struct kspte_cfg {
	bool ept;
	bool ept_ad;		/* EPT accessed/dirty flags (eptad) */
	bool pml;		/* VMX enable_pml: logging clears D bits (needs ept_ad) */
	bool ept_exec_only;	/* EPT execute-only supported */
	unsigned int present_bit;	/* SPTE_MMU_PRESENT_MASK bit: 11 or 59 */
	unsigned int phys_bits;	/* host MAXPHYADDR */
	bool l1tf;		/* X86_BUG_L1TF: nonpresent_or_rsvd mask */
	unsigned int cache_bits;	/* x86_cache_bits when l1tf */
	bool nx_huge_pages;	/* NX huge page mitigation */
	bool mmio_caching;	/* enable_mmio_caching */
	unsigned int root_level;	/* 4 or 5 */
	unsigned int max_leaf_level;	/* 1..3 */
	uint64_t me_value;	/* SME C-bit written into non-MMIO PFNs (NPT) */
};

struct kspte_masks {
	uint64_t present, user, x, nx, accessed, dirty, memtype, acc_track;
	uint64_t host_writable, mmu_writable, mmu_present;
	uint64_t mmio_value, mmio_mask, mmio_access_mask;
	uint64_t nonpresent_or_rsvd, gen_low, gen_high;
	unsigned int gen_high_start, gen_high_end;
	uint64_t ad_disabled;	/* SPTE_TDP_AD_DISABLED (EPT without A/D) */
	uint64_t nonpresent;	/* SHADOW_NONPRESENT_VALUE */
	uint64_t frozen;	/* FROZEN_SPTE */
};

/* The masks KVM computes for @c (kvm_mmu_set_ept_masks / reset_all_pte_masks). */
void kspte_masks(const struct kspte_cfg *c, struct kspte_masks *m);

/* A present leaf, as make_spte() builds it for a TDP fault. */
uint64_t kspte_leaf(const struct kspte_cfg *c, uint64_t pfn, unsigned int level,
		    bool writable, bool exec, bool prefetch, bool host_writable);
uint64_t kspte_nonleaf(const struct kspte_cfg *c, uint64_t table_pa);
uint64_t kspte_mmio(const struct kspte_cfg *c, uint64_t gfn, uint64_t gen);
uint64_t kspte_access_track(const struct kspte_cfg *c, uint64_t spte);
/* Write-protect a leaf the way dirty logging does (W cleared, MMU-writable kept). */
uint64_t kspte_wrprot(const struct kspte_cfg *c, uint64_t spte);
uint64_t kspte_nonpresent(const struct kspte_cfg *c);
uint64_t kspte_frozen(const struct kspte_cfg *c);
/* How KVM sees a leaf: maps guest memory, and with which rights. */
bool kspte_is_present_leaf(const struct kspte_cfg *c, uint64_t spte,
			   bool *readable, bool *writable);
uint64_t kspte_pfn_pa(const struct kspte_cfg *c, uint64_t spte);

/* The description KVM's exporter reports for @c. */
void kspte_format(const struct kspte_cfg *c, struct kvm_tdp_format *fmt);

#endif /* __KT_KVM_SPTE_H */
