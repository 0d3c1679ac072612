/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm-iommu/vtd_internal.h (same include
 * guard): the shims plus a stand-in for the intel-iommu driver interfaces
 * the VT-d adapter calls (struct intel_iommu, struct qi_desc,
 * qi_submit_sync()), implemented over the VT-d model in standin/.
 */
#ifndef __KVM_IOMMU_VTD_INTERNAL_H
#define __KVM_IOMMU_VTD_INTERNAL_H

#include "kvm_iommu_internal.h"
#include "standin/intel_iommu.h"

#endif /* __KVM_IOMMU_VTD_INTERNAL_H */
