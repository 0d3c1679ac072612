/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a VMM does to give a device a HWPT on a KVM-sourced IOAS, through
 * iommufd's own paths (the stand-in object core, standin/iommufd.c, around
 * the product's virt/iommufd/kvm_hwpt.c): IOMMU_HWPT_ALLOC on the IOAS
 * with the policy's flags (and IOMMU_HWPT_FAULT_ID_VALID with a fault
 * queue), then the device's attach to the new HWPT; and back: detach, then
 * IOMMU_DESTROY of the HWPT.
 *
 * The IOAS object is made here around the test's io_pagetable and KVM side
 * (one per KVM side, shared by the HWPTs on it), the device object around
 * the test's device, in its own group.
 */
#ifndef __KT_HARNESS_HWPT_H
#define __KT_HARNESS_HWPT_H

#include "../kvm_iommu_internal.h"
#include <linux/kvm_iommufd.h>

struct kt_ioas;

/**
 * struct kt_kvm_hwpt - one device's HWPT on a KVM-sourced IOAS
 * @ioas: the IOAS object it was allocated on
 * @idev: the device's iommufd object
 * @igroup: the device's group
 * @hwpt: the HWPT, NULL when none
 * @domain: its domain, NULL when none
 * @mode: enum iommu_kvm_mode IOMMU_HWPT_ALLOC reported
 * @reasons: enum iommu_kvm_share_reason mask IOMMU_HWPT_ALLOC reported
 */
struct kt_kvm_hwpt {
	struct kt_ioas *ioas;
	struct iommufd_device idev;
	struct iommufd_group igroup;
	struct iommufd_hwpt_paging *hwpt;
	struct iommu_domain *domain;
	u32 mode;
	u32 reasons;
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
/* Detach and destroy the HWPT; a no-op without one. */
void kt_kvm_hwpt_detach(struct kt_kvm_hwpt *h);

#endif /* __KT_HARNESS_HWPT_H */
