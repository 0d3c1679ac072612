/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for iommufd's HWPT path on a KVM-sourced IOAS (the patch to
 * drivers/iommu/iommufd/hw_pagetable.c, iommufd_hwpt_kvm_alloc()): ask the
 * core for a SHARED domain under a policy; when it answers NULL, give the
 * device an ordinary paging domain of the IOAS's io_pagetable (PINNED).
 * Then attach, as IOMMU_HWPT_ALLOC followed by a VFIO attach would.
 */
#ifndef __KT_STANDIN_KVM_HWPT_H
#define __KT_STANDIN_KVM_HWPT_H

#include "../kvm_iommu_internal.h"
#include <linux/kvm_iommufd.h>

/**
 * struct kt_kvm_hwpt - one device's HWPT on a KVM-sourced IOAS
 * @kio: the IOAS's KVM side
 * @iopt: the IOAS's io_pagetable
 * @dev: the device
 * @domain: its domain, NULL when none
 * @mode: enum iommu_kvm_mode
 * @reasons: enum iommu_kvm_share_reason mask the core reported
 * @attached: the device translates through @domain
 */
struct kt_kvm_hwpt {
	struct kvm_iommu_ioas *kio;
	struct io_pagetable *iopt;
	struct device *dev;
	struct iommu_domain *domain;
	u32 mode;
	u32 reasons;
	bool attached;
};

/* Allocate under @policy and attach; 0 or -errno with nothing left behind. */
int kt_kvm_hwpt_attach(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
		       struct io_pagetable *iopt, struct device *dev,
		       enum kvm_iommu_policy policy);
/* Detach and free (the HWPT's destroy); a no-op without a domain. */
void kt_kvm_hwpt_detach(struct kt_kvm_hwpt *h);

#endif /* __KT_STANDIN_KVM_HWPT_H */
