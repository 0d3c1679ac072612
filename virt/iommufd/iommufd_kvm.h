/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What iommufd calls in virt/iommufd: the HWPT side of a KVM-sourced IOAS
 * (kvm_hwpt.c), its ioctls, its selftest ops (kvm_selftest.c) and the
 * selftest driver's KVM-table domain (kvm_selftest_domain.c).
 *
 * iommufd_private.h includes this header; every pointer is to one of
 * iommufd's own structures, so it needs only their names.  Without
 * CONFIG_KVM_IOMMUFD no IOAS is sourced from a KVM VM: the stubs refuse
 * what needs one, and iommufd's paths never reach the others.
 */
#ifndef __VIRT_IOMMUFD_IOMMUFD_KVM_H
#define __VIRT_IOMMUFD_IOMMUFD_KVM_H

#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/types.h>

struct device;
struct iommu_page_response;
struct iommu_user_data;
struct kvm_iommu_share_info;
struct kvm_tdp_export;
struct kvm_tdp_format;
struct iommufd_ctx;
struct iommufd_device;
struct iommufd_fault;
struct iommufd_hw_pagetable;
struct iommufd_hwpt_kvm_req;
struct iommufd_hwpt_paging;
struct iommufd_ioas;
struct iommufd_ucmd;

#ifdef CONFIG_KVM_IOMMUFD
int iommufd_hwpt_kvm_domain_alloc(struct iommufd_hwpt_paging *hwpt_paging,
				  struct iommufd_device *idev,
				  struct iommufd_hwpt_kvm_req *req);
u32 iommufd_hwpt_kvm_mode(struct iommufd_hwpt_paging *hwpt_paging);
struct iommufd_hwpt_paging *
iommufd_hwpt_kvm_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
		       struct iommufd_device *idev, ioasid_t pasid, u32 flags,
		       bool immediate_attach,
		       const struct iommu_user_data *user_data,
		       struct iommufd_fault *fault, u32 *mode, u32 *reasons);
struct iommufd_hwpt_paging *
iommufd_hwpt_kvm_alloc_user(struct iommufd_ucmd *ucmd,
			    struct iommufd_ioas *ioas,
			    struct iommufd_device *idev,
			    const struct iommu_user_data *user_data);
void iommufd_hwpt_kvm_report(struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_device *idev, bool attached);
int iommufd_kvm_share_query(struct iommufd_ucmd *ucmd);
int iommufd_kvm_slots(struct iommufd_ucmd *ucmd);
int iommufd_test_kvm_ioas_root(struct iommufd_ctx *ictx, u32 ioas_id,
			       u64 *root);
int iommufd_test_kvm_ioas_stats(struct iommufd_ctx *ictx, u32 ioas_id,
				u64 uptr, u32 *length);
struct iommu_domain *iommufd_test_kvm_domain_alloc(struct device *dev,
						   const struct kvm_tdp_export *exp,
						   u32 *reasons);
void iommufd_test_kvm_share_info(struct device *dev,
				 const struct kvm_tdp_format *fmt,
				 struct kvm_iommu_share_info *info);
void iommufd_test_kvm_page_response(struct device *dev,
				    struct iommu_page_response *msg);
int iommufd_test_kvm_dma(struct device *dev, u64 uptr, u32 length);
#else
static inline int
iommufd_hwpt_kvm_domain_alloc(struct iommufd_hwpt_paging *hwpt_paging,
			      struct iommufd_device *idev,
			      struct iommufd_hwpt_kvm_req *req)
{
	return -EOPNOTSUPP;
}

static inline struct iommufd_hwpt_paging *
iommufd_hwpt_kvm_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
		       struct iommufd_device *idev, ioasid_t pasid, u32 flags,
		       bool immediate_attach,
		       const struct iommu_user_data *user_data,
		       struct iommufd_fault *fault, u32 *mode, u32 *reasons)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct iommufd_hwpt_paging *
iommufd_hwpt_kvm_alloc_user(struct iommufd_ucmd *ucmd,
			    struct iommufd_ioas *ioas,
			    struct iommufd_device *idev,
			    const struct iommu_user_data *user_data)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_hwpt_kvm_report(struct iommufd_hw_pagetable *hwpt,
					   struct iommufd_device *idev,
					   bool attached)
{
}

static inline int iommufd_kvm_share_query(struct iommufd_ucmd *ucmd)
{
	return -EOPNOTSUPP;
}

static inline int iommufd_kvm_slots(struct iommufd_ucmd *ucmd)
{
	return -EOPNOTSUPP;
}

/* No IOAS is sourced from a KVM VM, so @ioas_id names none. */
static inline int iommufd_test_kvm_ioas_root(struct iommufd_ctx *ictx,
					     u32 ioas_id, u64 *root)
{
	return -EINVAL;
}

static inline int iommufd_test_kvm_ioas_stats(struct iommufd_ctx *ictx,
					      u32 ioas_id, u64 uptr,
					      u32 *length)
{
	return -EINVAL;
}

/*
 * The selftest driver's ops: never called without a KVM-sourced IOAS, and
 * no device is ever attached to a KVM-table domain.
 */
static inline struct iommu_domain *
iommufd_test_kvm_domain_alloc(struct device *dev,
			      const struct kvm_tdp_export *exp, u32 *reasons)
{
	*reasons = 0;
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void
iommufd_test_kvm_share_info(struct device *dev,
			    const struct kvm_tdp_format *fmt,
			    struct kvm_iommu_share_info *info)
{
}

static inline void
iommufd_test_kvm_page_response(struct device *dev,
			       struct iommu_page_response *msg)
{
}

static inline int iommufd_test_kvm_dma(struct device *dev, u64 uptr,
				       u32 length)
{
	return -EINVAL;
}
#endif /* CONFIG_KVM_IOMMUFD */

#endif /* __VIRT_IOMMUFD_IOMMUFD_KVM_H */
