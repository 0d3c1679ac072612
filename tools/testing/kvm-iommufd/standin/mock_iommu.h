/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the mock IOMMU of iommufd's selftest driver
 * (drivers/iommu/iommufd/selftest.c), as patch 0022 leaves it for a mock
 * device on a KVM-sourced IOAS: its KVM-TDP domain ops are the product's
 * (virt/iommufd/kvm_selftest_domain.c), its ->page_response() passes the
 * answer to the product's waiting mock DMA.  It has no paging domain: a
 * mock device here is attached SHARED or not at all.
 */
#ifndef __KT_STANDIN_MOCK_IOMMU_H
#define __KT_STANDIN_MOCK_IOMMU_H

#include "../kvm_iommu_internal.h"

extern const struct iommu_ops kt_mock_iommu_ops;

/* What the selftest driver's mock_dev_create() and the probe give @dev. */
void kt_mock_probe_device(struct device *dev, const char *name);

#endif /* __KT_STANDIN_MOCK_IOMMU_H */
