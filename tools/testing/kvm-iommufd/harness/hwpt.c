// SPDX-License-Identifier: GPL-2.0
/* A VMM's HWPT on a KVM-sourced IOAS, through iommufd: see hwpt.h. */
#include <stdlib.h>

#include "hwpt.h"
#include <uapi/linux/iommufd_kvm.h>

/*
 * The IOAS object of a KVM side, made when its first HWPT is allocated and
 * freed with its last (IOMMU_IOAS_ALLOC happened before, in the product's
 * terms: kvm_iommu_ioas_alloc(); the harness's memory is not the kernel's,
 * so it is not counted by the allocator that fail-nth drives).
 */
struct kt_ioas {
	struct iommufd_ioas ioas;
	struct iommufd_ctx ictx;
	unsigned int nr_hwpts;
	struct kt_ioas *next;
};

static pthread_mutex_t kt_ioas_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kt_ioas *kt_ioas_list;

static struct kt_ioas *ioas_get(struct kvm_iommu_ioas *kio,
				struct io_pagetable *iopt)
{
	struct kt_ioas *k;

	pthread_mutex_lock(&kt_ioas_lock);
	for (k = kt_ioas_list; k; k = k->next)
		if (k->ioas.kvm == kio)
			break;
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			abort();
		k->ioas.obj.type = IOMMUFD_OBJ_IOAS;
		refcount_set(&k->ioas.obj.users, 1);
		INIT_LIST_HEAD(&k->ioas.obj.node);
		k->ioas.iopt = iopt;
		mutex_init(&k->ioas.mutex);
		INIT_LIST_HEAD(&k->ioas.hwpt_list);
		k->ioas.kvm = kio;
		k->next = kt_ioas_list;
		kt_ioas_list = k;
	}
	WARN_ON(k->ioas.iopt != iopt);
	k->nr_hwpts++;
	pthread_mutex_unlock(&kt_ioas_lock);
	return k;
}

static void ioas_put(struct kt_ioas *k)
{
	struct kt_ioas **p;

	pthread_mutex_lock(&kt_ioas_lock);
	if (--k->nr_hwpts) {
		pthread_mutex_unlock(&kt_ioas_lock);
		return;
	}
	for (p = &kt_ioas_list; *p != k; p = &(*p)->next)
		;
	*p = k->next;
	pthread_mutex_unlock(&kt_ioas_lock);
	/* no HWPT holds the IOAS any more */
	WARN_ON(refcount_read(&k->ioas.obj.users) != 1);
	WARN_ON(!list_empty(&k->ioas.hwpt_list));
	mutex_destroy(&k->ioas.mutex);
	free(k);
}

static u32 policy_flags(enum kvm_iommu_policy policy)
{
	switch (policy) {
	case KVM_IOMMU_POLICY_SHARE_REQUIRED:
		return IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED;
	case KVM_IOMMU_POLICY_PIN_ONLY:
		return IOMMU_HWPT_ALLOC_KVM_PIN_ONLY;
	default:
		return 0;
	}
}

int kt_kvm_hwpt_attach_fault(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
			     struct io_pagetable *iopt, struct device *dev,
			     enum kvm_iommu_policy policy,
			     struct iommufd_fault *fault, struct iopf_queue *iopfq)
{
	struct iommufd_hwpt_paging *hwpt;
	struct kt_ioas *k;
	u32 flags = policy_flags(policy);
	int ret;

	memset(h, 0, sizeof(*h));
	h->mode = IOMMU_KVM_MODE_NONE;
	mutex_init(&h->igroup.lock);
	INIT_LIST_HEAD(&h->igroup.device_list);
	h->idev.obj.type = IOMMUFD_OBJ_DEVICE;
	refcount_set(&h->idev.obj.users, 1);
	/* the core's trace events name the device by its id */
	h->idev.obj.id = dev->sid;
	INIT_LIST_HEAD(&h->idev.obj.node);
	INIT_LIST_HEAD(&h->idev.group_item);
	h->idev.igroup = &h->igroup;
	h->idev.dev = dev;
	h->idev.iopf_queue = iopfq;
	if (fault)
		flags |= IOMMU_HWPT_FAULT_ID_VALID;

	k = ioas_get(kio, iopt);
	h->ioas = k;
	h->idev.ictx = &k->ictx;
	/* IOMMU_HWPT_ALLOC */
	mutex_lock(&k->ioas.mutex);
	hwpt = iommufd_hwpt_kvm_alloc(&k->ictx, &k->ioas, &h->idev,
				      IOMMU_NO_PASID, flags, false, NULL, fault,
				      &h->mode, &h->reasons);
	if (IS_ERR(hwpt)) {
		mutex_unlock(&k->ioas.mutex);
		ret = PTR_ERR(hwpt);
		goto err_ioas;
	}
	iommufd_object_finalize(&k->ictx, &hwpt->common.obj);
	mutex_unlock(&k->ioas.mutex);
	/* the device's attach to it (IOMMU_DEVICE_ATTACH / VFIO's) */
	ret = iommufd_hw_pagetable_attach(&hwpt->common, &h->idev,
					  IOMMU_NO_PASID);
	if (ret) {
		iommufd_object_destroy_user(&k->ictx, &hwpt->common.obj);
		goto err_ioas;
	}
	h->hwpt = hwpt;
	h->domain = hwpt->common.domain;
	return 0;

err_ioas:
	ioas_put(k);
	h->ioas = NULL;
	h->mode = IOMMU_KVM_MODE_NONE;
	mutex_destroy(&h->igroup.lock);
	return ret;
}

int kt_kvm_hwpt_attach(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
		       struct io_pagetable *iopt, struct device *dev,
		       enum kvm_iommu_policy policy)
{
	return kt_kvm_hwpt_attach_fault(h, kio, iopt, dev, policy, NULL, NULL);
}

void kt_kvm_hwpt_detach(struct kt_kvm_hwpt *h)
{
	struct kt_ioas *k = h->ioas;

	if (!h->hwpt)
		return;
	iommufd_hw_pagetable_detach(&h->idev, IOMMU_NO_PASID);
	iommufd_object_destroy_user(&k->ictx, &h->hwpt->common.obj);
	ioas_put(k);
	mutex_destroy(&h->igroup.lock);
	h->hwpt = NULL;
	h->domain = NULL;
	h->ioas = NULL;
	h->mode = IOMMU_KVM_MODE_NONE;
}
