/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the intel-iommu driver's KVM-TDP domain (the series adds
 * the real one to drivers/iommu/intel): ops->domain_alloc_kvm_tdp and a
 * domain with attach, kvm_tdp_flush and kvm_tdp_set_root, built on the
 * product's VT-d adapter (share check, PASID entry, invalidation) over the
 * VT-d model.  It owns no page table.
 */
#ifndef __KT_STANDIN_INTEL_KVM_DOMAIN_H
#define __KT_STANDIN_INTEL_KVM_DOMAIN_H

#include "../vtd_internal.h"

extern const struct iommu_ops kt_intel_iommu_ops;

#define KT_KVM_DOMAIN_MAX_DEVS	4

struct kt_kvm_domain {
	struct iommu_domain domain;
	struct intel_iommu *iommu;
	u64 root;
	unsigned int levels;
	bool ssade;		/* second-stage A/D: kvm_iommu_vtd_sets_dirty() */
	u16 did;
	struct device *devs[KT_KVM_DOMAIN_MAX_DEVS];
	unsigned int ndevs;
	u64 flushes;
};

/*
 * Test knob: a deliberately broken importer, for tests that must catch
 * one.  The KVM-TDP domains' kvm_tdp_flush op
 * - KT_KD_SKIP_TABLE_FLUSH: returns without invalidating anything when
 *   table pages were unlinked (tables == true);
 * - KT_KD_SKIP_LEAF_FLUSH: the same when only leaves changed;
 * - KT_KD_TABLE_FLUSH_AS_LEAF: invalidates with the leaf-only hint even
 *   when table pages were unlinked, so paging-structure caches keep them.
 * Every domain obeys it; it is global and atomic so that a test can set
 * it before starting threads and clear it after joining them.  Product
 * code has no such knob.
 */
enum kt_kd_breakage {
	KT_KD_CORRECT,
	KT_KD_SKIP_TABLE_FLUSH,
	KT_KD_SKIP_LEAF_FLUSH,
	KT_KD_TABLE_FLUSH_AS_LEAF,
};
void kt_kvm_domain_break(enum kt_kd_breakage how);
/* kvm_tdp_flush calls the knob broke since it was last set. */
u64 kt_kvm_domain_broken_calls(void);

/* Put @dev behind @iommu with the stand-in driver's ops. */
void kt_intel_probe_device(struct device *dev, struct intel_iommu *iommu, u16 sid);
/* Detach @dev from the KVM domain it is attached to (blocking). */
int kt_kvm_domain_detach(struct iommu_domain *domain, struct device *dev);
/* The second-stage pointer the unit uses for @dev (read from its PASID entry). */
u64 kt_intel_ss_pointer(struct intel_iommu *iommu, u16 sid);

#endif /* __KT_STANDIN_INTEL_KVM_DOMAIN_H */
