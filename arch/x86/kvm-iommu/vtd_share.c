// SPDX-License-Identifier: GPL-2.0
/*
 * Can a VT-d unit walk KVM's TDP table?  A data-driven answer.
 *
 * KVM describes what it writes (struct kvm_tdp_format: every bit it may set
 * in present leaves, present non-leaf entries, entries that map nothing,
 * and cached-MMIO entries).  This file states what a VT-d second-stage
 * walker does with an entry:
 *
 * - an entry is present when R (bit 0) or W (bit 1) is set; the access is
 *   allowed when R (read) or W (write) is set at every level;
 * - bit 7 (PS) makes an entry at level 2 or 3 a leaf (when SLLPS allows
 *   that size) and is reserved above;
 * - bit 11 (SNP) is reserved in non-leaf entries, and in leaves unless the
 *   unit is in scalable mode or has snoop control;
 * - bit 62 (TM) is reserved in leaves;
 * - address bits at and above the unit's address width are reserved;
 * - everything else KVM may write (2-6, 8-10, 52-61, 63) is ignored, except
 *   that with second-stage A/D (ECAP.SLADS, PASID entry SSADE) the walker
 *   sets bit 8 (accessed) in every entry it uses and bit 9 (dirty) in the
 *   leaf of a write.  That is EPT's A/D layout, so the unit then marks
 *   KVM's EPT entries exactly as the CPU does; in NPT entries bits 8-9 are
 *   KVM's own software bits, so SSADE stays off there.
 *
 * The unit can share KVM's table when every entry KVM may write reads the
 * same way to it: present entries present with the same permissions and no
 * reserved bit, everything else non-present.  Each way this fails is one
 * reason bit of enum iommu_kvm_share_reason.
 */
#include "vtd_internal.h"
#include "vtd.h"
#include <linux/kvm_iommufd.h>
#include <linux/kvm_tdp_export.h>
#include <uapi/linux/iommufd_kvm.h>

static u64 addr_rsvd(unsigned int width)
{
	return width < 52 ? GENMASK_ULL(51, width) : 0;
}

/**
 * kvm_iommu_vtd_sets_dirty() - may a unit mark KVM's entries accessed/dirty
 * @fmt: what KVM writes into its table
 * @ecap: the unit's extended capability register
 *
 * Second-stage A/D sets bit 8 in entries the unit walks and bit 9 in the
 * leaf it writes through: only where KVM's format has its own accessed and
 * dirty bits there (EPT with A/D enabled), so that the unit's marks mean to
 * KVM what the CPU's do.
 *
 * Return: true when the unit's PASID entries for @fmt get SSADE.
 */
bool kvm_iommu_vtd_sets_dirty(const struct kvm_tdp_format *fmt, u64 ecap)
{
	return fmt->type == KVM_TDP_FMT_EPT &&
	       fmt->accessed_mask == KVM_IOMMU_VTD_SS_A &&
	       fmt->dirty_mask == KVM_IOMMU_VTD_SS_D &&
	       (ecap & KVM_IOMMU_VTD_ECAP_SLADS);
}

/**
 * kvm_iommu_vtd_share_check() - compare KVM's table format with a VT-d unit
 * @fmt: what KVM writes into its table (from the exporter)
 * @cap: the unit's capability register
 * @ecap: the unit's extended capability register
 * @walk_coherent: the unit's table walks snoop CPU caches
 * @info: filled with both sides of the comparison and the reasons
 *
 * Return: the mask of enum iommu_kvm_share_reason that prevents sharing,
 * 0 when the unit can walk KVM's table.
 */
u32 kvm_iommu_vtd_share_check(const struct kvm_tdp_format *fmt, u64 cap,
			      u64 ecap, bool walk_coherent,
			      struct kvm_iommu_share_info *info)
{
	const u64 rw = KVM_IOMMU_VTD_SS_R | KVM_IOMMU_VTD_SS_W;
	unsigned int sagaw = FIELD_GET(KVM_IOMMU_VTD_CAP_SAGAW, cap);
	unsigned int sllps = FIELD_GET(KVM_IOMMU_VTD_CAP_SLLPS, cap);
	unsigned int width = FIELD_GET(KVM_IOMMU_VTD_CAP_MGAW, cap) + 1;
	bool sm = ecap & KVM_IOMMU_VTD_ECAP_SMTS;
	u64 leaf_rsvd, nonleaf_rsvd, leaf_sizes;
	u32 r = 0;

	kvm_iommu_share_info_init(info, fmt);
	/* SAGAW bit n: a table of n + 2 levels */
	info->iommu_levels = (sagaw << 2) & 0xff;
	info->iommu_max_leaf_level = (sllps & 2) ? 3 : (sllps & 1) ? 2 : 1;
	info->iommu_addr_bits = width;

	if (!sm || !(ecap & KVM_IOMMU_VTD_ECAP_SLTS))
		r |= IOMMU_KVM_SHARE_NO_TRANSLATION;
	/*
	 * The unit allows a read where R is set and a write where W is set.
	 * KVM must allow the same: its read/write masks may require more bits
	 * only if KVM sets them in every present entry.
	 */
	if ((fmt->type != KVM_TDP_FMT_EPT && fmt->type != KVM_TDP_FMT_NPT) ||
	    fmt->granule_shift != 12 ||
	    !(fmt->read_mask & KVM_IOMMU_VTD_SS_R) ||
	    (fmt->read_mask & ~KVM_IOMMU_VTD_SS_R & ~fmt->always_bits) ||
	    !(fmt->write_mask & KVM_IOMMU_VTD_SS_W) ||
	    (fmt->write_mask & ~KVM_IOMMU_VTD_SS_W & ~fmt->always_bits) ||
	    (fmt->nonleaf_bits & rw) != rw)
		r |= IOMMU_KVM_SHARE_FORMAT;
	if (fmt->levels < 3 || fmt->levels > 5 ||
	    !(info->iommu_levels & BIT(fmt->levels)))
		r |= IOMMU_KVM_SHARE_LEVELS;
	if (fmt->oas > width)
		r |= IOMMU_KVM_SHARE_ADDR_WIDTH;
	/* SLLPS bit 0: 2 MiB leaves, bit 1: 1 GiB leaves; 4 KiB always */
	leaf_sizes = SZ_4K | ((sllps & 1) ? SZ_2M : 0) | ((sllps & 2) ? SZ_1G : 0);
	if (fmt->leaf_sizes & ~leaf_sizes)
		r |= IOMMU_KVM_SHARE_PAGE_SIZES;

	nonleaf_rsvd = KVM_IOMMU_VTD_SS_SNP | KVM_IOMMU_VTD_SS_PS;
	leaf_rsvd = KVM_IOMMU_VTD_SS_TM;
	if (!sm && !(ecap & KVM_IOMMU_VTD_ECAP_SC))
		leaf_rsvd |= KVM_IOMMU_VTD_SS_SNP;
	info->rsvd_conflict = (fmt->nonleaf_bits & nonleaf_rsvd) |
			      (fmt->leaf_bits & leaf_rsvd) |
			      ((fmt->leaf_bits | fmt->nonleaf_bits) &
			       addr_rsvd(width) & ~fmt->addr_mask);
	if (info->rsvd_conflict)
		r |= IOMMU_KVM_SHARE_RSVD_BITS;

	if (fmt->nonpresent_bits & rw)
		r |= IOMMU_KVM_SHARE_NONPRESENT;
	if (fmt->mmio_bits & rw)
		r |= IOMMU_KVM_SHARE_MMIO_CACHING;
	if (!walk_coherent)
		r |= IOMMU_KVM_SHARE_WALK_COHERENCY;
	if (!fmt->accessed_mask)
		r |= IOMMU_KVM_SHARE_ACCESS_TRACKING;
	info->sets_dirty = kvm_iommu_vtd_sets_dirty(fmt, ecap);

	info->reasons = r;
	return r;
}
