/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stand-in intel driver's device side, for tests and the demo: probe
 * a device behind a unit, detach it from a KVM-TDP domain, read the
 * second-stage pointer its RID_PASID entry holds.  The KVM-TDP domain
 * itself is the product's (arch/x86/kvm-iommu/intel_kvm_tdp.c), reached
 * through the driver's ops (intel_iommu_ops, standin/intel_driver.c).  A
 * test that needs a broken importer breaks the invalidation queue under
 * it (kt_qi_break(), intel_iommu.h).
 */
#ifndef __KT_STANDIN_INTEL_KVM_DOMAIN_H
#define __KT_STANDIN_INTEL_KVM_DOMAIN_H

#include "../vtd_internal.h"

/* Put @dev behind @iommu with the stand-in driver's ops. */
void kt_intel_probe_device(struct device *dev, struct intel_iommu *iommu, u16 sid);
/* Detach @dev from the KVM domain it is attached to (blocking). */
int kt_kvm_domain_detach(struct iommu_domain *domain, struct device *dev);
/* The second-stage pointer the unit uses for @dev (read from its PASID entry). */
u64 kt_intel_ss_pointer(struct intel_iommu *iommu, u16 sid);

#endif /* __KT_STANDIN_INTEL_KVM_DOMAIN_H */
