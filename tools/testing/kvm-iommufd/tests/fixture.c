// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "fixture.h"

bool kt_vtd_setup(struct kt_vtd *f, u64 cap, u64 ecap, unsigned int levels,
		  unsigned int ram_order)
{
	memset(f, 0, sizeof(*f));
	f->pm = phys_create(1ULL << 31);
	if (!f->pm)
		return false;
	f->hw = vtd_create(f->pm, cap, ecap);
	if (!f->hw)
		return false;
	f->iommu = kt_intel_iommu_create(f->pm, f->hw, 0);
	if (!f->iommu)
		return false;
	if (kt_ss_table_init(&f->ss, f->pm, levels))
		return false;
	f->ram = phys_alloc(f->pm, ram_order);
	f->ram_size = PAGE_SIZE << ram_order;
	dma_dev_init(&f->dev, f->hw, KT_SID);
	return f->ram != 0;
}

int kt_vtd_attach(struct kt_vtd *f)
{
	struct kvm_iommu_vtd_ss_cfg cfg = {
		.root = f->ss.root, .levels = f->ss.levels, .did = KT_DID,
	};
	u64 pe[8];
	int ret;

	ret = kvm_iommu_vtd_ss_pasid_entry(f->iommu->cap, f->iommu->ecap, &cfg, pe);
	if (ret)
		return ret;
	return kt_intel_set_pasid_entry(f->iommu, KT_SID, pe);
}

bool kt_vtd_teardown(struct kt_vtd *f)
{
	long left;
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < f->ram_size)
		order++;
	kt_ss_table_free(&f->ss);
	kt_intel_iommu_destroy(f->iommu);
	if (f->ram)
		phys_free(f->pm, f->ram, order);
	left = f->pm ? phys_allocated(f->pm) : 0;
	vtd_destroy(f->hw);
	phys_destroy(f->pm);
	if (left)
		printf("#   FAIL: %ld physical page(s) leaked by the platform\n", left);
	return left == 0;
}
