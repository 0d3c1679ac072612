/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for iommufd's HWPT path on a KVM-sourced IOAS (the patch to
 * drivers/iommu/iommufd/hw_pagetable.c, iommufd_hwpt_kvm_alloc()): ask the
 * core for a SHARED domain under a policy; when it answers NULL, give the
 * device an ordinary paging domain of the IOAS's io_pagetable (PINNED).
 * Then attach, as IOMMU_HWPT_ALLOC followed by a VFIO attach would, and
 * report the attach to the core.  With a fault queue (the HWPT allocated
 * with IOMMU_HWPT_FAULT_ID_VALID) a SHARED device's page requests reach
 * the core's handler through the IO page fault queue @iopfq.
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
 * @fault: the HWPT's fault queue, NULL when the device cannot fault
 * @mode: enum iommu_kvm_mode
 * @reasons: enum iommu_kvm_share_reason mask the core reported
 * @attached: the device translates through @domain
 * @iopf: the device's page requests reach @domain's handler
 */
struct kt_kvm_hwpt {
	struct kvm_iommu_ioas *kio;
	struct io_pagetable *iopt;
	struct device *dev;
	struct iommu_domain *domain;
	struct iommufd_fault *fault;
	u32 mode;
	u32 reasons;
	bool attached;
	bool iopf;
};

/* Allocate under @policy and attach; 0 or -errno with nothing left behind. */
int kt_kvm_hwpt_attach(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
		       struct io_pagetable *iopt, struct device *dev,
		       enum kvm_iommu_policy policy);
/* The same for a device that can fault: page requests go to @iopfq. */
int kt_kvm_hwpt_attach_fault(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
			     struct io_pagetable *iopt, struct device *dev,
			     enum kvm_iommu_policy policy,
			     struct iommufd_fault *fault, struct iopf_queue *iopfq);
/* Detach and free (the HWPT's destroy); a no-op without a domain. */
void kt_kvm_hwpt_detach(struct kt_kvm_hwpt *h);

#endif /* __KT_STANDIN_KVM_HWPT_H */
