/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the parts of the intel-iommu driver that kvm-iommufd uses,
 * driving the VT-d model the way the driver drives hardware: root and
 * context tables in memory, PASID directory and table, and a queued
 * invalidation ring with wait descriptors.
 *
 * The fields and functions named like the driver's (struct intel_iommu's
 * cap, ecap and seq_id; struct qi_desc; qi_submit_sync()) keep the driver's
 * meaning; everything prefixed kt_ is test-only.
 */
#ifndef __KT_STANDIN_INTEL_IOMMU_H
#define __KT_STANDIN_INTEL_IOMMU_H

#include "../platform/phys.h"
#include "../platform/vtd.h"

struct qi_desc {
	u64 qw0;
	u64 qw1;
	u64 qw2;
	u64 qw3;
};

struct intel_iommu {
	u64 cap;
	u64 ecap;
	int seq_id;
	/* stand-in state */
	struct vtd *hw;
	struct phys *pm;
	u64 root_table;
	u64 qi_base;		/* one page: 128 descriptors of 256 bits */
	u64 qi_tail;
	u64 qi_status;		/* 4-byte wait status */
	u32 qi_seq;
	u64 qi_submits;		/* qi_submit_sync() calls */
	u64 qi_descs;		/* descriptors submitted, waits included */
	spinlock_t qi_lock;	/* protects the ring, qi_seq and counters */
	spinlock_t tables_lock;	/* protects root/context/PASID tables */
};

int qi_submit_sync(struct intel_iommu *iommu, struct qi_desc *desc,
		   unsigned int count, unsigned long options);

struct intel_iommu *kt_intel_iommu_create(struct phys *pm, struct vtd *hw,
					  int seq_id);
void kt_intel_iommu_destroy(struct intel_iommu *iommu);
/* Install @pe as the RID_PASID (PASID 0) entry of device @sid. */
int kt_intel_set_pasid_entry(struct intel_iommu *iommu, u16 sid, const u64 pe[8]);
/* Clear it again, with the PASID-cache and IOTLB invalidation a driver does. */
int kt_intel_clear_pasid_entry(struct intel_iommu *iommu, u16 sid, u16 did);

/*
 * A second-stage table built the way the intel-iommu driver builds its own
 * paging domains: R/W leaves (4K, 2M, 1G), non-leaf entries R|W.
 */
struct kt_ss_table {
	struct phys *pm;
	u64 root;
	unsigned int levels;
	long table_pages;
};

int kt_ss_table_init(struct kt_ss_table *t, struct phys *pm, unsigned int levels);
void kt_ss_table_free(struct kt_ss_table *t);
/* Map [iova, iova + size) to hpa with pages of 1 << shift; prot bit0 R, bit1 W. */
int kt_ss_map(struct kt_ss_table *t, u64 iova, u64 hpa, u64 size,
	      unsigned int shift, unsigned int prot);
/* Clear the leaves of [iova, iova + size); table pages stay. */
int kt_ss_unmap(struct kt_ss_table *t, u64 iova, u64 size);

#endif /* __KT_STANDIN_INTEL_IOMMU_H */
