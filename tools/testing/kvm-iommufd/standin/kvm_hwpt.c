// SPDX-License-Identifier: GPL-2.0
/* Stand-in for iommufd's HWPT path on a KVM-sourced IOAS: see kvm_hwpt.h. */
#include "kvm_hwpt.h"
#include "intel_kvm_domain.h"
#include "intel_paging_domain.h"
#include "iopf.h"
#include <uapi/linux/iommufd_kvm.h>

int kt_kvm_hwpt_attach_fault(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
			     struct io_pagetable *iopt, struct device *dev,
			     enum kvm_iommu_policy policy,
			     struct iommufd_fault *fault, struct iopf_queue *iopfq)
{
	struct iommu_domain *domain;
	int ret;

	memset(h, 0, sizeof(*h));
	h->kio = kio;
	h->iopt = iopt;
	h->dev = dev;
	h->fault = fault;
	domain = kvm_iommu_domain_alloc(kio, dev, policy, fault, &h->reasons);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	/* iommufd_hw_pagetable_attach(): the device's reserved IOVA */
	ret = iopt_table_enforce_dev_resv_regions(iopt, dev, NULL);
	if (ret) {
		if (domain) {
			kvm_iommu_domain_free(kio, domain);
			domain->ops->free(domain);
		}
		return ret;
	}
	if (domain) {
		ret = domain->ops->attach_dev(domain, dev);
		if (ret)
			goto err_free_shared;
		/* iommufd_fault_domain_attach_dev(): IOPF on, with a handle */
		if (fault) {
			ret = kt_iopf_dev_attach(dev, domain, iopfq);
			if (ret) {
				kt_kvm_domain_detach(domain, dev);
				goto err_free_shared;
			}
			h->iopf = true;
		}
		h->mode = IOMMU_KVM_MODE_SHARED;
		h->domain = domain;
		h->attached = true;
		kvm_iommu_device_attached(kio, dev->sid, h->mode);
		return 0;
	}
	/* PINNED: iommufd_hwpt_paging_alloc() and the attach */
	domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain)) {
		iopt_remove_reserved_iova(iopt, dev);
		return PTR_ERR(domain);
	}
	ret = iopt_table_add_domain(iopt, domain);
	if (ret)
		goto err_free;
	ret = domain->ops->attach_dev(domain, dev);
	if (ret)
		goto err_remove;
	h->mode = IOMMU_KVM_MODE_PINNED;
	h->domain = domain;
	h->attached = true;
	kvm_iommu_device_attached(kio, dev->sid, h->mode);
	return 0;

err_free_shared:
	kvm_iommu_domain_free(kio, domain);
	domain->ops->free(domain);
	iopt_remove_reserved_iova(iopt, dev);
	return ret;
err_remove:
	iopt_table_remove_domain(iopt, domain);
err_free:
	domain->ops->free(domain);
	iopt_remove_reserved_iova(iopt, dev);
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
	struct iommu_domain *domain = h->domain;

	if (!domain)
		return;
	if (h->attached)
		kvm_iommu_device_detached(h->kio, h->dev->sid, h->mode);
	if (h->mode == IOMMU_KVM_MODE_SHARED) {
		if (h->attached)
			kt_kvm_domain_detach(domain, h->dev);
		/* no handler work of the device runs after this */
		if (h->iopf)
			kt_iopf_dev_detach(h->dev);
		kvm_iommu_domain_free(h->kio, domain);
	} else {
		if (h->attached)
			kt_paging_domain_detach(domain, h->dev);
		iopt_table_remove_domain(h->iopt, domain);
	}
	domain->ops->free(domain);
	iopt_remove_reserved_iova(h->iopt, h->dev);
	h->domain = NULL;
	h->attached = false;
	h->iopf = false;
	h->mode = IOMMU_KVM_MODE_NONE;
}
