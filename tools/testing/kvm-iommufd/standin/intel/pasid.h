/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for drivers/iommu/intel/pasid.h (see iommu.h next to
 * it): scalable-mode PASID table entries and the driver's helpers for
 * them.  The stand-in unit has one PASID table per device, for the
 * RID_PASID (IOMMU_NO_PASID) only.  Entries live in emulated memory that
 * the VT-d model reads concurrently, so the accessors here use atomic
 * 64-bit loads and stores, as the driver's READ_ONCE()/WRITE_ONCE() are
 * single 64-bit accesses.
 */
#ifndef __KT_STANDIN_INTEL_DRIVER_PASID_H
#define __KT_STANDIN_INTEL_DRIVER_PASID_H

#include "iommu.h"

#define PASID_PTE_PRESENT		1
#define PASID_ENTRY_PGTT_SL_ONLY	2

struct pasid_entry {
	u64 val[8];
};

static inline u64 kt_pasid_word(struct pasid_entry *pe, unsigned int i)
{
	return __atomic_load_n(&pe->val[i], __ATOMIC_RELAXED);
}

static inline bool pasid_pte_is_present(struct pasid_entry *pte)
{
	return kt_pasid_word(pte, 0) & PASID_PTE_PRESENT;
}

static inline u16 pasid_pte_get_pgtt(struct pasid_entry *pte)
{
	return (kt_pasid_word(pte, 0) >> 6) & 7;
}

static inline u16 pasid_get_domain_id(struct pasid_entry *pe)
{
	return kt_pasid_word(pe, 1) & 0xffff;
}

static inline void pasid_clear_entry(struct pasid_entry *pe)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pe->val); i++)
		__atomic_store_n(&pe->val[i], 0, __ATOMIC_RELEASE);
}

/* The second-stage table pointer, bits 63:12 of the first word. */
static inline void pasid_set_slptr(struct pasid_entry *pe, u64 value)
{
	u64 old = kt_pasid_word(pe, 0);

	__atomic_store_n(&pe->val[0], (old & ~VTD_PAGE_MASK) |
			 (value & VTD_PAGE_MASK), __ATOMIC_RELEASE);
}

/*
 * The entry of @pasid in @dev's PASID table, its tables allocated as
 * needed; NULL when they cannot be, or for a PASID the stand-in does not
 * have.  Called with the unit's lock held.
 */
struct pasid_entry *intel_pasid_get_entry(struct device *dev, u32 pasid);
/* After a new entry: PASID cache and IOTLB invalidation in caching mode. */
void pasid_flush_caches(struct intel_iommu *iommu, struct pasid_entry *pte,
			u32 pasid, u16 did);
void pasid_cache_invalidation_with_pasid(struct intel_iommu *iommu,
					 u16 did, u32 pasid);
int intel_pasid_setup_sm_context(struct device *dev);
void intel_pasid_tear_down_entry(struct intel_iommu *iommu,
				 struct device *dev, u32 pasid,
				 bool fault_ignore);

#endif /* __KT_STANDIN_INTEL_DRIVER_PASID_H */
