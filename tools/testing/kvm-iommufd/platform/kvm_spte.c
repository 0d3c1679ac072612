// SPDX-License-Identifier: GPL-2.0
/* KVM 6.12 TDP SPTE encodings: see kvm_spte.h. */
#include <stddef.h>
#include <string.h>

#include "../kvm_iommu_internal.h"
#include <linux/kvm_tdp_export.h>
#include "kvm_spte.h"

#define B(n)			(1ULL << (n))
#define MASK(h, l)		((~0ULL << (l)) & (~0ULL >> (63 - (h))))

/* x86 paging bits (NPT) */
#define PT_PRESENT		B(0)
#define PT_WRITABLE		B(1)
#define PT_USER			B(2)
#define PT_ACCESSED		B(5)
#define PT_DIRTY		B(6)
#define PT_PAGE_SIZE		B(7)
#define PT64_NX			B(63)
/* EPT bits */
#define EPT_R			B(0)
#define EPT_W			B(1)
#define EPT_X			B(2)
#define EPT_RWX			(EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT		3
#define EPT_IPAT		B(6)
#define EPT_A			B(8)
#define EPT_D			B(9)
#define EPT_SVE			B(63)
#define EPT_MISCONFIG_WX	(EPT_W | EPT_X)
#define EPT_HOST_WRITABLE	B(57)
#define EPT_MMU_WRITABLE	B(58)
/* KVM software bits */
#define DEFAULT_HOST_WRITABLE	B(9)
#define DEFAULT_MMU_WRITABLE	B(10)
#define TDP_AD_DISABLED		B(52)
#define ACC_SAVED_SHIFT		54
#define ACC_SAVED_MASK		(EPT_R | EPT_X)
#define NONPRESENT_OR_RSVD_LEN	5
#define BASE_ADDR_MASK		MASK(51, 12)

static void compute_masks(const struct kspte_cfg *c, struct kspte_masks *m)
{
	unsigned int low_phys = c->phys_bits;

	memset(m, 0, sizeof(*m));
	m->mmu_present = B(c->present_bit);
	/* 6.12: generation bits 8..18 at SPTE 52..62; the series keeps them off the marker */
	m->gen_high_start = 52;
	m->gen_high_end = c->present_bit >= 52 ? c->present_bit - 1 : 62;
	m->gen_low = MASK(10, 3);
	m->gen_high = MASK(m->gen_high_end, m->gen_high_start);
	m->nonpresent = B(63);
	m->frozen = m->nonpresent | 0x5a0ULL;
	if (c->l1tf) {
		low_phys = c->cache_bits - NONPRESENT_OR_RSVD_LEN;
		m->nonpresent_or_rsvd = MASK(c->cache_bits - 1, low_phys);
	}
	if (c->ept) {
		m->user = EPT_R;
		m->accessed = c->ept_ad ? EPT_A : 0;
		m->dirty = c->ept_ad ? EPT_D : 0;
		m->x = EPT_X;
		m->present = (c->ept_exec_only ? 0 : EPT_R) | EPT_SVE;
		m->memtype = MASK(5, 3) | EPT_IPAT;
		m->acc_track = EPT_RWX;
		m->host_writable = EPT_HOST_WRITABLE;
		m->mmu_writable = EPT_MMU_WRITABLE;
		m->ad_disabled = c->ept_ad ? 0 : TDP_AD_DISABLED;
		m->mmio_value = EPT_MISCONFIG_WX;
		m->mmio_mask = EPT_RWX | EPT_SVE;
		m->mmio_access_mask = 0;
	} else {
		m->user = PT_USER;
		m->accessed = PT_ACCESSED;
		m->dirty = PT_DIRTY;
		m->nx = PT64_NX;
		m->present = PT_PRESENT;
		m->host_writable = DEFAULT_HOST_WRITABLE;
		m->mmu_writable = DEFAULT_MMU_WRITABLE;
		m->mmio_value = c->phys_bits < 52 ? (B(51) | PT_PRESENT) : 0;
		m->mmio_mask = m->mmio_value;
		m->mmio_access_mask = PT_WRITABLE | PT_USER;	/* ACC_WRITE | ACC_USER */
	}
	if (!c->mmio_caching)
		m->mmio_value = 0;
}

/*
 * The masks are a function of the configuration alone; every SPTE the
 * model or the product's code builds or reads asks for them, so each
 * thread keeps those of the last configuration it saw (compared byte by
 * byte: a configuration copied without its padding only costs a
 * recomputation).
 */
void kspte_masks(const struct kspte_cfg *c, struct kspte_masks *m)
{
	static __thread struct {
		bool valid;
		struct kspte_cfg cfg;
		struct kspte_masks m;
	} last;

	if (!last.valid || memcmp(&last.cfg, c, sizeof(*c))) {
		compute_masks(c, &last.m);
		memcpy(&last.cfg, c, sizeof(*c));
		last.valid = true;
	}
	*m = last.m;
}

uint64_t kspte_leaf(const struct kspte_cfg *c, uint64_t pfn, unsigned int level,
		    bool writable, bool exec, bool prefetch, bool host_writable)
{
	struct kspte_masks m;
	uint64_t spte;

	kspte_masks(c, &m);
	spte = m.mmu_present | m.ad_disabled | m.present;
	if (!prefetch)
		spte |= m.ad_disabled ? 0 : m.accessed;
	if (level > 1 && exec && c->nx_huge_pages)
		exec = false;
	spte |= exec ? m.x : m.nx;
	spte |= m.user;				/* TDP maps with ACC_USER */
	if (level > 1)
		spte |= PT_PAGE_SIZE;
	if (c->ept)				/* vmx_get_mt_mask(): WB | IPAT */
		spte |= (6ULL << EPT_MT_SHIFT) | EPT_IPAT;
	if (host_writable)
		spte |= m.host_writable;
	else
		writable = false;
	if (c->me_value)
		spte |= c->me_value;
	spte |= pfn << 12;
	if (writable) {
		spte |= PT_WRITABLE | m.mmu_writable;
		spte |= m.ad_disabled ? 0 : m.dirty;
	}
	if (prefetch)
		spte = kspte_access_track(c, spte);
	return spte;
}

uint64_t kspte_nonleaf(const struct kspte_cfg *c, uint64_t table_pa)
{
	struct kspte_masks m;

	kspte_masks(c, &m);
	return m.mmu_present | table_pa | m.present | PT_WRITABLE | m.user | m.x |
	       c->me_value | (m.ad_disabled ? m.ad_disabled : m.accessed);
}

uint64_t kspte_mmio(const struct kspte_cfg *c, uint64_t gfn, uint64_t gen)
{
	struct kspte_masks m;
	unsigned int low_bits = 8;
	uint64_t spte, gpa = gfn << 12;

	kspte_masks(c, &m);
	spte = ((gen << 3) & m.gen_low) |
	       ((gen >> low_bits << m.gen_high_start) & m.gen_high);
	spte |= m.mmio_value | (m.mmio_access_mask & (PT_WRITABLE | PT_USER));
	spte |= gpa | m.nonpresent_or_rsvd;
	spte |= (gpa & m.nonpresent_or_rsvd) << NONPRESENT_OR_RSVD_LEN;
	return spte;
}

uint64_t kspte_access_track(const struct kspte_cfg *c, uint64_t spte)
{
	struct kspte_masks m;

	kspte_masks(c, &m);
	if (!(spte & m.ad_disabled) && m.accessed)	/* A/D enabled: clear A only */
		return spte & ~m.accessed;
	if (!(spte & m.acc_track) && (spte & (ACC_SAVED_MASK << ACC_SAVED_SHIFT)))
		return spte;				/* already tracked */
	spte |= (spte & ACC_SAVED_MASK) << ACC_SAVED_SHIFT;
	return spte & ~m.acc_track;
}

uint64_t kspte_wrprot(const struct kspte_cfg *c, uint64_t spte)
{
	(void)c;
	return spte & ~PT_WRITABLE;
}

uint64_t kspte_nonpresent(const struct kspte_cfg *c)
{
	(void)c;
	return B(63);
}

uint64_t kspte_frozen(const struct kspte_cfg *c)
{
	struct kspte_masks m;

	kspte_masks(c, &m);
	return m.frozen;
}

uint64_t kspte_pfn_pa(const struct kspte_cfg *c, uint64_t spte)
{
	return spte & BASE_ADDR_MASK & ~c->me_value;
}

bool kspte_is_present_leaf(const struct kspte_cfg *c, uint64_t spte,
			   bool *readable, bool *writable)
{
	struct kspte_masks m;

	kspte_masks(c, &m);
	if (!(spte & m.mmu_present) || spte == m.frozen)
		return false;
	/* access-tracked EPT entries keep MMU-present but have RWX = 0 */
	*readable = c->ept ? !!(spte & EPT_R) : !!(spte & PT_PRESENT);
	*writable = *readable && (spte & PT_WRITABLE);
	return true;
}

void kspte_format(const struct kspte_cfg *c, struct kvm_tdp_format *fmt)
{
	struct kspte_masks m;
	uint64_t saved = ACC_SAVED_MASK << ACC_SAVED_SHIFT;

	kspte_masks(c, &m);
	memset(fmt, 0, sizeof(*fmt));
	fmt->size = sizeof(*fmt);
	fmt->type = c->ept ? KVM_TDP_FMT_EPT : KVM_TDP_FMT_NPT;
	fmt->granule_shift = 12;
	fmt->levels = c->root_level;
	fmt->start_level = c->root_level;
	fmt->ias = 12 + 9 * c->root_level;
	fmt->oas = c->phys_bits;
	/* 4 KiB, and 2 MiB and 1 GiB up to max_leaf_level */
	fmt->leaf_sizes = BIT_ULL(12) | (c->max_leaf_level >= 2 ? BIT_ULL(21) : 0) |
			  (c->max_leaf_level >= 3 ? BIT_ULL(30) : 0);
	fmt->addr_mask = MASK(c->phys_bits - 1, 12) & ~c->me_value;
	fmt->leaf_bits = m.mmu_present | m.ad_disabled | m.present | m.accessed |
			 m.x | m.nx | m.user | PT_PAGE_SIZE | m.host_writable |
			 m.mmu_writable | PT_WRITABLE | m.dirty | c->me_value |
			 (c->ept ? MASK(6, 3) : 0);
	fmt->nonleaf_bits = m.mmu_present | m.present | PT_WRITABLE | m.user |
			    m.x | c->me_value | (m.ad_disabled ? m.ad_disabled : m.accessed);
	fmt->nonpresent_bits = m.nonpresent | m.frozen;
	if (c->ept && !c->ept_ad)	/* access-tracked leaves */
		fmt->nonpresent_bits |= (fmt->leaf_bits & ~m.acc_track) | saved;
	if (m.mmio_value)
		fmt->mmio_bits = m.mmio_value | m.mmio_access_mask | m.gen_low |
				 m.gen_high | MASK(c->phys_bits - 1, 12) |
				 m.nonpresent_or_rsvd | (m.nonpresent_or_rsvd <<
							 NONPRESENT_OR_RSVD_LEN);
	/* TDP maps with ACC_ALL: U (NPT) / R (EPT) in every present entry */
	fmt->always_bits = m.mmu_present | m.present | m.user;
	/* NPT: guest accesses are user accesses, so P and U; EPT: R */
	fmt->read_mask = c->ept ? EPT_R : (PT_PRESENT | PT_USER);
	/* VMX keeps KVM_X86_QUIRK_IGNORE_GUEST_PAT by default; SVM has none */
	fmt->memtype_zaps = c->ept;
	fmt->write_mask = fmt->read_mask | PT_WRITABLE;
	fmt->accessed_mask = m.ad_disabled ? 0 : m.accessed;
	fmt->dirty_mask = m.ad_disabled ? 0 : m.dirty;
	/* kvm_mmu_slot_apply_flags(): with PML, logging clears 4 KiB D bits */
	fmt->log_clears_dirty = c->ept && c->ept_ad && c->pml;
}
