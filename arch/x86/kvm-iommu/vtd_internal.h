/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers required by the VT-d adapter of kvm-iommufd: the core's internal
 * header plus the intel-iommu driver's own (struct intel_iommu, struct
 * qi_desc, qi_submit_sync()).  The host build replaces this header, by its
 * include guard, with a stand-in for those driver interfaces.
 */
#ifndef __KVM_IOMMU_VTD_INTERNAL_H
#define __KVM_IOMMU_VTD_INTERNAL_H

#include "kvm_iommu_internal.h"
#include "../../../drivers/iommu/intel/iommu.h"

#endif /* __KVM_IOMMU_VTD_INTERNAL_H */
