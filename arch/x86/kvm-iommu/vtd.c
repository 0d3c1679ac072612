// SPDX-License-Identifier: GPL-2.0
/*
 * VT-d adapter of kvm-iommufd: PASID entries and IOTLB invalidation for
 * second-stage tables that the intel-iommu driver does not own.
 *
 * Invalidation is batched: one call builds every descriptor a range needs
 * (a single page-selective descriptor covering the range, or one
 * domain-selective descriptor when the range is too large or the unit has
 * no page-selective invalidation) and submits them with one wait
 * descriptor through qi_submit_sync(), which returns only once the IOMMU
 * has written the wait status: after it returns, no translation of the
 * range can be used by the IOMMU.
 */
#include "vtd_internal.h"
#include "vtd.h"

/**
 * kvm_iommu_vtd_ss_pasid_entry() - encode a second-stage PASID table entry
 * @cap: the unit's capability register
 * @ecap: the unit's extended capability register
 * @cfg: the translation to install
 * @pe: the 512-bit entry, as eight words, to fill
 *
 * Builds a present entry with PGTT = second-stage only, AW from
 * @cfg->levels, the table pointer and domain id, and page-walk snooping
 * whenever the unit snoops its table walks (ECAP.SMPWC), which a table
 * written by the CPU without cache flushes requires.  @pe is written only
 * on success.
 *
 * Return: 0; -EINVAL if @cfg->root is zero or not 4 KiB aligned, or
 * @cfg->levels is not 3, 4 or 5; -EOPNOTSUPP if the unit lacks scalable
 * mode or second-stage translation, does not support @cfg->levels (SAGAW),
 * or lacks what @cfg->ssade or @cfg->pgsnp asks for.
 */
int kvm_iommu_vtd_ss_pasid_entry(u64 cap, u64 ecap,
				 const struct kvm_iommu_vtd_ss_cfg *cfg, u64 pe[8])
{
	unsigned int aw;

	if (!cfg->root || !IS_ALIGNED(cfg->root, SZ_4K))
		return -EINVAL;
	if (cfg->levels < 3 || cfg->levels > 5)
		return -EINVAL;
	aw = cfg->levels - 2;
	if (!(ecap & KVM_IOMMU_VTD_ECAP_SMTS) || !(ecap & KVM_IOMMU_VTD_ECAP_SLTS))
		return -EOPNOTSUPP;
	if (!(FIELD_GET(KVM_IOMMU_VTD_CAP_SAGAW, cap) & BIT(aw)))
		return -EOPNOTSUPP;
	if (cfg->ssade && !(ecap & KVM_IOMMU_VTD_ECAP_SLADS))
		return -EOPNOTSUPP;
	if (cfg->pgsnp && !(ecap & KVM_IOMMU_VTD_ECAP_SC))
		return -EOPNOTSUPP;

	memset(pe, 0, 8 * sizeof(u64));
	pe[0] = KVM_IOMMU_VTD_PE0_P |
		FIELD_PREP(KVM_IOMMU_VTD_PE0_AW, aw) |
		FIELD_PREP(KVM_IOMMU_VTD_PE0_PGTT, KVM_IOMMU_VTD_PGTT_SS) |
		(cfg->root & KVM_IOMMU_VTD_PE0_SSPTPTR);
	if (cfg->ssade)
		pe[0] |= KVM_IOMMU_VTD_PE0_SSADE;
	pe[1] = FIELD_PREP(KVM_IOMMU_VTD_PE1_DID, cfg->did);
	if (ecap & KVM_IOMMU_VTD_ECAP_SMPWC)
		pe[1] |= KVM_IOMMU_VTD_PE1_PWSNP;
	if (cfg->pgsnp)
		pe[1] |= KVM_IOMMU_VTD_PE1_PGSNP;
	return 0;
}

/**
 * kvm_iommu_vtd_psi_order() - smallest aligned block covering a range
 * @start: first byte of the range
 * @end: end of the range, exclusive; must be greater than @start
 * @base: set to the block's first byte
 *
 * Return: the block's size as an order of 4 KiB pages, the address-mask
 * (AM) value of a page-selective invalidation that covers [@start, @end).
 */
unsigned int kvm_iommu_vtd_psi_order(u64 start, u64 end, u64 *base)
{
	u64 first = start >> 12, last = (end - 1) >> 12;
	unsigned int order = 0;

	while ((first >> order) != (last >> order))
		order++;
	*base = (first >> order) << order << 12;
	return order;
}

static u64 qi_iotlb_qw0(struct intel_iommu *iommu, u16 did, unsigned int gran)
{
	u64 qw0 = KVM_IOMMU_VTD_QI_IOTLB |
		  FIELD_PREP(KVM_IOMMU_VTD_QI_GRAN, gran) |
		  FIELD_PREP(KVM_IOMMU_VTD_QI_DID, did);

	if (iommu->cap & KVM_IOMMU_VTD_CAP_DRD)
		qw0 |= KVM_IOMMU_VTD_QI_DR;
	if (iommu->cap & KVM_IOMMU_VTD_CAP_DWD)
		qw0 |= KVM_IOMMU_VTD_QI_DW;
	return qw0;
}


/**
 * kvm_iommu_vtd_flush_domain() - invalidate every translation of a domain
 * @iommu: the remapping unit
 * @did: domain id
 *
 * Context: may sleep only as qi_submit_sync() does (it spins).
 * Return: 0 once the unit completed the invalidation, or the error of
 * qi_submit_sync().
 */
int kvm_iommu_vtd_flush_domain(struct intel_iommu *iommu, u16 did)
{
	struct qi_desc desc = {
		.qw0 = qi_iotlb_qw0(iommu, did, KVM_IOMMU_VTD_QI_GRAN_DSI),
	};

	return qi_submit_sync(iommu, &desc, 1, 0);
}

/**
 * kvm_iommu_vtd_flush_range() - invalidate the translations of a range
 * @iommu: the remapping unit
 * @did: domain id
 * @start: first IOVA of the range
 * @end: end of the range, exclusive
 * @leaf_only: only leaf entries changed; paging-structure caches may stay
 *	(sets the invalidation hint).  Pass false whenever a table page was
 *	unlinked, so cached upper-level entries pointing at it are dropped.
 *
 * Uses one page-selective descriptor whose aligned block covers the range
 * when the unit supports it and the block fits the unit's maximum address
 * mask, otherwise one domain-selective descriptor; either way one wait.
 *
 * Context: as kvm_iommu_vtd_flush_domain().
 * Return: 0 once the unit completed the invalidation; -EINVAL if @end is
 * not above @start; or the error of qi_submit_sync().
 */
int kvm_iommu_vtd_flush_range(struct intel_iommu *iommu, u16 did, u64 start,
			      u64 end, bool leaf_only)
{
	struct qi_desc desc = {};
	unsigned int order;
	u64 base;

	if (end <= start)
		return -EINVAL;
	order = kvm_iommu_vtd_psi_order(start, end, &base);
	if (!(iommu->cap & KVM_IOMMU_VTD_CAP_PSI) ||
	    order > FIELD_GET(KVM_IOMMU_VTD_CAP_MAMV, iommu->cap))
		return kvm_iommu_vtd_flush_domain(iommu, did);

	desc.qw0 = qi_iotlb_qw0(iommu, did, KVM_IOMMU_VTD_QI_GRAN_PSI);
	desc.qw1 = (base & KVM_IOMMU_VTD_QI_ADDR) |
		   FIELD_PREP(KVM_IOMMU_VTD_QI_AM, order);
	if (leaf_only)
		desc.qw1 |= KVM_IOMMU_VTD_QI_IH;
	return qi_submit_sync(iommu, &desc, 1, 0);
}
