// SPDX-License-Identifier: GPL-2.0
/* The selftest driver's mock IOMMU: see mock_iommu.h. */
#include "mock_iommu.h"

/* selftest.c: mock_domain_page_response() */
static void mock_page_response(struct device *dev, struct iopf_fault *evt,
			       struct iommu_page_response *msg)
{
	iommufd_test_kvm_page_response(dev, msg);
}

const struct iommu_ops kt_mock_iommu_ops = {
	.page_response = mock_page_response,
	.domain_alloc_kvm_tdp = iommufd_test_kvm_domain_alloc,
	.kvm_tdp_share_info = iommufd_test_kvm_share_info,
};

void kt_mock_probe_device(struct device *dev, const char *name)
{
	memset(dev, 0, sizeof(*dev));
	dev->iommu_ops = &kt_mock_iommu_ops;
	dev->name = name;
}
