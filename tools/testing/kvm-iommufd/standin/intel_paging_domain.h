/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the intel-iommu driver's conventional paging domain
 * (IOMMU_DOMAIN_UNMANAGED, what iommufd's io_pagetable maps pinned pages
 * into): ops->domain_alloc_paging, map_pages / unmap_pages / iotlb_sync /
 * iova_to_phys over a driver-style second-stage table (struct
 * kt_ss_table), and attach by writing the device's PASID entry in
 * second-stage mode, so the VT-d model walks the table and the emulated
 * DMA device translates through it.
 *
 * Page sizes: 4 KiB, plus 2 MiB and 1 GiB as the unit's SLLPS allows.
 * Unmapping clears leaves and leaves table pages in place (they are freed
 * with the domain), so an unmap flushes leaves only (IH set); mapping a
 * large page over an emptied table unlinks that table, flushes the
 * paging-structure caches for the range and only then frees it, as the
 * driver's switch to a superpage does.
 */
#ifndef __KT_STANDIN_INTEL_PAGING_DOMAIN_H
#define __KT_STANDIN_INTEL_PAGING_DOMAIN_H

#include "../vtd_internal.h"

#define KT_PAGING_DOMAIN_MAX_DEVS	4

/**
 * struct kt_paging_domain - a paging domain of the stand-in intel driver
 * @domain: the generic domain (type IOMMU_DOMAIN_UNMANAGED once allocated
 *	through iommu_paging_domain_alloc())
 * @iommu: the unit of the device it was allocated for
 * @ss: the second-stage table; @ss.table_pages counts its table pages
 * @did: domain id the unit tags this domain's translations with
 * @lock: serialises changes to @ss (concurrent maps of different ranges
 *	may allocate the same table); the VT-d model reads @ss without it
 * @devs: attached devices, @ndevs of them; attach and detach are
 *	serialised by the caller (the group mutex in the kernel)
 * @ndevs: see @devs
 * @syncs: ->iotlb_sync() calls that flushed something
 * @superpage_switches: emptied tables unlinked to map a large page
 */
struct kt_paging_domain {
	struct iommu_domain domain;
	struct intel_iommu *iommu;
	struct kt_ss_table ss;
	u16 did;
	spinlock_t lock;
	struct device *devs[KT_PAGING_DOMAIN_MAX_DEVS];
	unsigned int ndevs;
	u64 syncs;
	u64 superpage_switches;
};

static inline struct kt_paging_domain *to_kt_paging_domain(struct iommu_domain *d)
{
	return container_of(d, struct kt_paging_domain, domain);
}

/* ops->domain_alloc_paging of the stand-in driver (kt_intel_iommu_ops). */
struct iommu_domain *kt_intel_domain_alloc_paging(struct device *dev);
/* Detach @dev from the paging domain (its PASID entry cleared, caches flushed). */
int kt_paging_domain_detach(struct iommu_domain *domain, struct device *dev);

#endif /* __KT_STANDIN_INTEL_PAGING_DOMAIN_H */
