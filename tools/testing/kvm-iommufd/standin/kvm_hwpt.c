// SPDX-License-Identifier: GPL-2.0
/* Stand-in for iommufd's HWPT path on a KVM-sourced IOAS: see kvm_hwpt.h. */
#include "kvm_hwpt.h"
#include "intel_kvm_domain.h"
#include "intel_paging_domain.h"
#include <uapi/linux/iommufd_kvm.h>

int kt_kvm_hwpt_attach(struct kt_kvm_hwpt *h, struct kvm_iommu_ioas *kio,
		       struct io_pagetable *iopt, struct device *dev,
		       enum kvm_iommu_policy policy)
{
	struct iommu_domain *domain;
	int ret;

	memset(h, 0, sizeof(*h));
	h->kio = kio;
	h->iopt = iopt;
	h->dev = dev;
	domain = kvm_iommu_domain_alloc(kio, dev, policy, &h->reasons);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	if (domain) {
		ret = domain->ops->attach_dev(domain, dev);
		if (ret) {
			kvm_iommu_domain_free(kio, domain);
			domain->ops->free(domain);
			return ret;
		}
		h->mode = IOMMU_KVM_MODE_SHARED;
		h->domain = domain;
		h->attached = true;
		return 0;
	}
	/* PINNED: iommufd_hwpt_paging_alloc() and the attach */
	domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	ret = iopt_table_add_domain(iopt, domain);
	if (ret)
		goto err_free;
	ret = domain->ops->attach_dev(domain, dev);
	if (ret)
		goto err_remove;
	h->mode = IOMMU_KVM_MODE_PINNED;
	h->domain = domain;
	h->attached = true;
	return 0;

err_remove:
	iopt_table_remove_domain(iopt, domain);
err_free:
	domain->ops->free(domain);
	return ret;
}

void kt_kvm_hwpt_detach(struct kt_kvm_hwpt *h)
{
	struct iommu_domain *domain = h->domain;

	if (!domain)
		return;
	if (h->mode == IOMMU_KVM_MODE_SHARED) {
		if (h->attached)
			kt_kvm_domain_detach(domain, h->dev);
		kvm_iommu_domain_free(h->kio, domain);
	} else {
		if (h->attached)
			kt_paging_domain_detach(domain, h->dev);
		iopt_table_remove_domain(h->iopt, domain);
	}
	domain->ops->free(domain);
	h->domain = NULL;
	h->attached = false;
	h->mode = IOMMU_KVM_MODE_NONE;
}
