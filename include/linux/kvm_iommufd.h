/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-iommufd core: IO address spaces whose source is a KVM VM.
 *
 * iommufd calls these from its IOAS and HWPT paths (see the patch series):
 * an IOAS allocated with IOMMU_IOAS_ALLOC_FLAG_KVM_FD carries a
 * struct kvm_iommu_ioas; its IOVA space is the VM's guest-physical space
 * (address space 0) and userspace cannot map or unmap in it.  A paging HWPT
 * allocated on it in SHARED mode gets a domain whose translation is KVM's
 * own TDP table; this file keeps the list of those domains and forwards
 * every invalidation and root change KVM reports to each of them.
 */
#ifndef __LINUX_KVM_IOMMUFD_H
#define __LINUX_KVM_IOMMUFD_H

#include <linux/types.h>

struct device;
struct iommu_domain;
struct kvm_iommu_ioas;

/**
 * struct kvm_iommu_stats - counters of one KVM-sourced IOAS
 * @invalidations: invalidate callbacks received from KVM
 * @domain_flushes: domain flushes issued for them (one per domain and call)
 * @flush_errors: flushes a domain reported as failed
 * @root_changes: root replacements received from KVM
 * @shared_domains: SHARED domains currently allocated
 * @pinned_pages: guest pages pinned for devices that cannot fault
 */
struct kvm_iommu_stats {
	u64 invalidations;
	u64 domain_flushes;
	u64 flush_errors;
	u64 root_changes;
	u32 shared_domains;
	u64 pinned_pages;
};

struct kvm_iommu_ioas *kvm_iommu_ioas_alloc(int kvm_fd);
void kvm_iommu_ioas_free(struct kvm_iommu_ioas *kio);
struct iommu_domain *kvm_iommu_domain_alloc(struct kvm_iommu_ioas *kio,
					    struct device *dev, u32 *reasons);
void kvm_iommu_domain_free(struct kvm_iommu_ioas *kio,
			   struct iommu_domain *domain);
void kvm_iommu_get_stats(struct kvm_iommu_ioas *kio,
			 struct kvm_iommu_stats *stats);
u64 kvm_iommu_ioas_root(struct kvm_iommu_ioas *kio);

#endif /* __LINUX_KVM_IOMMUFD_H */
