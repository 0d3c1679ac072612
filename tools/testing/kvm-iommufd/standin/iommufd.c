// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for iommufd's object core and HWPT surroundings: see iommufd.h.
 *
 * Each function follows its 6.12 namesake: the same steps in the same
 * order, the same allocations (so fail-nth reaches them) and errnos, and
 * the series' calls into kvm_hwpt.c and the kvm-iommufd core where the
 * patches put them.  Not modelled: PASIDs other than IOMMU_NO_PASID,
 * nesting, dirty tracking, the MSI cookie, groups of several devices
 * sharing one attach (each test device is alone in its group).
 */
#include "../kvm_iommu_internal.h"
#include "iommufd.h"
#include "fault.h"
#include "intel_kvm_domain.h"
#include "intel_paging_domain.h"
#include "iopf.h"
#include "mock_iommu.h"

/* The object table: finalized objects, by id (upstream's xarray). */
static spinlock_t kt_objects_lock = { .m = PTHREAD_MUTEX_INITIALIZER };
static LIST_HEAD(kt_objects);
static u32 kt_next_id = 1;
static long kt_live;

long kt_iommufd_objects_live(void)
{
	long n;

	spin_lock(&kt_objects_lock);
	n = kt_live;
	spin_unlock(&kt_objects_lock);
	return n;
}

void kt_iommufd_object_add(struct iommufd_object *obj,
			   enum iommufd_object_type type)
{
	obj->type = type;
	refcount_set(&obj->users, 1);
	spin_lock(&kt_objects_lock);
	obj->id = kt_next_id++;
	list_add_tail(&obj->node, &kt_objects);
	spin_unlock(&kt_objects_lock);
}

void kt_iommufd_object_del(struct iommufd_object *obj)
{
	WARN_ON(refcount_read(&obj->users) != 1);
	spin_lock(&kt_objects_lock);
	list_del_init(&obj->node);
	spin_unlock(&kt_objects_lock);
}

struct iommufd_object *_iommufd_object_alloc(struct iommufd_ctx *ictx,
					     size_t size,
					     enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	/* the table's reference */
	refcount_set(&obj->users, 1);
	INIT_LIST_HEAD(&obj->node);
	spin_lock(&kt_objects_lock);
	obj->id = kt_next_id++;
	kt_live++;
	spin_unlock(&kt_objects_lock);
	return obj;
}

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	spin_lock(&kt_objects_lock);
	list_add_tail(&obj->node, &kt_objects);
	spin_unlock(&kt_objects_lock);
}

static void object_destroy(struct iommufd_object *obj, bool abort);

void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	object_destroy(obj, true);
}

void iommufd_object_destroy_user(struct iommufd_ctx *ictx,
				 struct iommufd_object *obj)
{
	spin_lock(&kt_objects_lock);
	list_del_init(&obj->node);
	spin_unlock(&kt_objects_lock);
	/* upstream waits for the other users; here there must be none */
	WARN_ON(refcount_read(&obj->users) != 1);
	object_destroy(obj, false);
}

struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj, *found = ERR_PTR(-ENOENT);

	spin_lock(&kt_objects_lock);
	list_for_each_entry(obj, &kt_objects, node) {
		if (obj->id == id && (type == IOMMUFD_OBJ_ANY || obj->type == type)) {
			refcount_inc(&obj->users);
			found = obj;
			break;
		}
	}
	spin_unlock(&kt_objects_lock);
	return found;
}

void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	refcount_dec(&obj->users);
}

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id)
{
	return container_of(iommufd_get_object(ictx, id, IOMMUFD_OBJ_IOAS),
			    struct iommufd_ioas, obj);
}

struct iommufd_device *iommufd_get_device(struct iommufd_ucmd *ucmd, u32 id)
{
	return container_of(iommufd_get_object(ucmd->ictx, id,
					       IOMMUFD_OBJ_DEVICE),
			    struct iommufd_device, obj);
}

struct iommufd_fault *iommufd_get_fault(struct iommufd_ucmd *ucmd, u32 id)
{
	return container_of(iommufd_get_object(ucmd->ictx, id,
					       IOMMUFD_OBJ_FAULT),
			    struct iommufd_fault, obj);
}

/* hw_pagetable.c: __iommufd_hwpt_destroy(), with the series' hooks */
static void hwpt_paging_destroy(struct iommufd_hwpt_paging *hwpt_paging)
{
	struct iommufd_hw_pagetable *hwpt = &hwpt_paging->common;

	if (!list_empty(&hwpt_paging->hwpt_item)) {
		mutex_lock(&hwpt_paging->ioas->mutex);
		list_del(&hwpt_paging->hwpt_item);
		mutex_unlock(&hwpt_paging->ioas->mutex);
		if (!hwpt_paging->kvm_shared)
			iopt_table_remove_domain(hwpt_paging->ioas->iopt,
						 hwpt->domain);
	}
	if (hwpt_paging->kvm_shared)
		kvm_iommu_domain_free(hwpt_paging->ioas->kvm, hwpt->domain);
	if (hwpt->domain)
		iommu_domain_free(hwpt->domain);
	if (hwpt->fault)
		refcount_dec(&hwpt->fault->obj.users);
	refcount_dec(&hwpt_paging->ioas->obj.users);
}

/* iommufd_hwpt_paging_abort(): called with the IOAS's mutex held */
static void hwpt_paging_abort(struct iommufd_hwpt_paging *hwpt_paging)
{
	lockdep_assert_held(&hwpt_paging->ioas->mutex);
	if (!list_empty(&hwpt_paging->hwpt_item)) {
		list_del_init(&hwpt_paging->hwpt_item);
		if (!hwpt_paging->kvm_shared)
			iopt_table_remove_domain(hwpt_paging->ioas->iopt,
						 hwpt_paging->common.domain);
	}
	hwpt_paging_destroy(hwpt_paging);
}

static void object_destroy(struct iommufd_object *obj, bool abort)
{
	switch (obj->type) {
	case IOMMUFD_OBJ_HWPT_PAGING: {
		struct iommufd_hwpt_paging *hwpt_paging =
			container_of(obj, struct iommufd_hwpt_paging, common.obj);

		if (abort)
			hwpt_paging_abort(hwpt_paging);
		else
			hwpt_paging_destroy(hwpt_paging);
		break;
	}
	default:
		/* the other objects are the tests' own; they free them */
		WARN_ON(1);
		return;
	}
	spin_lock(&kt_objects_lock);
	kt_live--;
	spin_unlock(&kt_objects_lock);
	kfree(obj);
}

static int hwpt_paging_enforce_cc(struct iommufd_hwpt_paging *hwpt_paging)
{
	struct iommu_domain *domain = hwpt_paging->common.domain;

	if (hwpt_paging->enforce_cache_coherency)
		return 0;
	if (domain->ops->enforce_cache_coherency)
		hwpt_paging->enforce_cache_coherency =
			domain->ops->enforce_cache_coherency(domain);
	if (!hwpt_paging->enforce_cache_coherency)
		return -EINVAL;
	return 0;
}

/*
 * __iommufd_hwpt_paging_alloc(): the stand-in IOMMU driver has no
 * domain_alloc_user, so flags and driver data are refused and a paging
 * domain comes from iommu_paging_domain_alloc(), as upstream does for such
 * a driver.  With @kvm, the series' hook chooses the domain first.
 */
struct iommufd_hwpt_paging *
__iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			    struct iommufd_device *idev, ioasid_t pasid,
			    u32 flags, bool immediate_attach,
			    const struct iommu_user_data *user_data,
			    struct iommufd_hwpt_kvm_req *kvm)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	lockdep_assert_held(&ioas->mutex);

	if (flags || user_data)
		return ERR_PTR(-EOPNOTSUPP);

	hwpt_paging = __iommufd_object_alloc(ictx, hwpt_paging,
					     IOMMUFD_OBJ_HWPT_PAGING, common.obj);
	if (IS_ERR(hwpt_paging))
		return ERR_CAST(hwpt_paging);
	hwpt = &hwpt_paging->common;

	INIT_LIST_HEAD(&hwpt_paging->hwpt_item);
	refcount_inc(&ioas->obj.users);
	hwpt_paging->ioas = ioas;

	if (kvm) {
		rc = iommufd_hwpt_kvm_domain_alloc(hwpt_paging, idev, kvm);
		if (rc)
			goto out_abort;
	}
	if (hwpt_paging->kvm_shared) {
		hwpt->domain->owner = dev_iommu_ops(idev->dev);
	} else {
		hwpt->domain = iommu_paging_domain_alloc(idev->dev);
		if (IS_ERR(hwpt->domain)) {
			rc = PTR_ERR(hwpt->domain);
			hwpt->domain = NULL;
			goto out_abort;
		}
	}
	if (idev->enforce_cache_coherency) {
		rc = hwpt_paging_enforce_cc(hwpt_paging);
		if (WARN_ON(rc))
			goto out_abort;
	}
	if (immediate_attach) {
		rc = iommufd_hw_pagetable_attach(hwpt, idev, pasid);
		if (rc)
			goto out_abort;
	}
	rc = hwpt_paging->kvm_shared ? 0 :
	     iopt_table_add_domain(ioas->iopt, hwpt->domain);
	if (rc)
		goto out_detach;
	list_add_tail(&hwpt_paging->hwpt_item, &ioas->hwpt_list);
	return hwpt_paging;

out_detach:
	if (immediate_attach)
		iommufd_hw_pagetable_detach(idev, pasid);
out_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, ioasid_t pasid,
			  u32 flags, bool immediate_attach,
			  const struct iommu_user_data *user_data)
{
	return __iommufd_hwpt_paging_alloc(ictx, ioas, idev, pasid, flags,
					   immediate_attach, user_data, NULL);
}

/* The IOMMU core's detach of @dev from @domain (to its blocking domain). */
static void detach_dev(struct iommu_domain *domain, struct device *dev)
{
	/* the selftest driver's mock IOMMU attaches and detaches nothing */
	if (domain->owner == &kt_mock_iommu_ops)
		return;
	if (domain->type == IOMMU_DOMAIN_KVM_TDP)
		kt_kvm_domain_detach(domain, dev);
	else
		kt_paging_domain_detach(domain, dev);
}

/*
 * device.c: iommufd_hwpt_attach_device(); the attach handle is allocated
 * as upstream allocates it, and held by the stand-in's IOPF routing.
 */
static int hwpt_attach_device(struct iommufd_hw_pagetable *hwpt,
			      struct iommufd_device *idev)
{
	struct device *dev = idev->dev;
	void *handle;
	int rc;

	lockdep_assert_held(&idev->igroup->lock);
	handle = kzalloc(sizeof(struct iommu_attach_handle), GFP_KERNEL);
	if (!handle)
		return -ENOMEM;
	rc = hwpt->domain->ops->attach_dev(hwpt->domain, dev);
	if (rc)
		goto out_free;
	__atomic_store_n(&dev->kt_domain, hwpt->domain, __ATOMIC_RELEASE);
	/* iommufd_fault_iopf_enable() and the handle's domain */
	if (hwpt->fault) {
		rc = kt_iopf_dev_attach(dev, hwpt->domain, idev->iopf_queue);
		if (rc) {
			detach_dev(hwpt->domain, dev);
			__atomic_store_n(&dev->kt_domain, NULL, __ATOMIC_RELEASE);
			goto out_free;
		}
	}
	/* the IOPF routing keeps its own handle */
	kfree(handle);
	return 0;
out_free:
	kfree(handle);
	return rc;
}

static void hwpt_detach_device(struct iommufd_hw_pagetable *hwpt,
			       struct iommufd_device *idev)
{
	detach_dev(hwpt->domain, idev->dev);
	__atomic_store_n(&idev->dev->kt_domain, NULL, __ATOMIC_RELEASE);
	/* iommufd_fault_iopf_disable(): no handler work after this */
	if (hwpt->fault)
		kt_iopf_dev_detach(idev->dev);
}

int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev, ioasid_t pasid)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		hwpt_is_paging(hwpt) ? to_hwpt_paging(hwpt) : NULL;
	int rc;

	if (WARN_ON(pasid != IOMMU_NO_PASID))
		return -EINVAL;
	mutex_lock(&idev->igroup->lock);
	if (idev->igroup->hwpt != NULL && idev->igroup->hwpt != hwpt) {
		rc = -EINVAL;
		goto err_unlock;
	}
	if (hwpt_paging) {
		/* iommufd_device_attach_reserved_iova() */
		rc = iopt_table_enforce_dev_resv_regions(hwpt_paging->ioas->iopt,
							 idev->dev, NULL);
		if (rc)
			goto err_unlock;
	}
	if (list_empty(&idev->igroup->device_list)) {
		rc = hwpt_attach_device(hwpt, idev);
		if (rc)
			goto err_unresv;
		idev->igroup->hwpt = hwpt;
	}
	refcount_inc(&hwpt->obj.users);
	list_add_tail(&idev->group_item, &idev->igroup->device_list);
	iommufd_hwpt_kvm_report(hwpt, idev, true);
	mutex_unlock(&idev->igroup->lock);
	return 0;
err_unresv:
	if (hwpt_paging)
		iopt_remove_reserved_iova(hwpt_paging->ioas->iopt, idev->dev);
err_unlock:
	mutex_unlock(&idev->igroup->lock);
	return rc;
}

struct iommufd_hw_pagetable *
iommufd_hw_pagetable_detach(struct iommufd_device *idev, ioasid_t pasid)
{
	struct iommufd_hw_pagetable *hwpt = idev->igroup->hwpt;
	struct iommufd_hwpt_paging *hwpt_paging =
		hwpt_is_paging(hwpt) ? to_hwpt_paging(hwpt) : NULL;

	mutex_lock(&idev->igroup->lock);
	list_del(&idev->group_item);
	if (list_empty(&idev->igroup->device_list)) {
		hwpt_detach_device(hwpt, idev);
		idev->igroup->hwpt = NULL;
	}
	if (hwpt_paging)
		iopt_remove_reserved_iova(hwpt_paging->ioas->iopt, idev->dev);
	iommufd_hwpt_kvm_report(hwpt, idev, false);
	mutex_unlock(&idev->igroup->lock);
	/* the attach's reference; the caller destroys the hwpt */
	refcount_dec(&hwpt->obj.users);
	return hwpt;
}

/*
 * fault.c: iommufd_fault_iopf_handler(), the handler of a fault-capable
 * HWPT that is not SHARED: the group goes to the fault queue for userspace
 * to read and answer.
 */
int iommufd_fault_iopf_handler(struct iopf_group *group)
{
	struct iommufd_hw_pagetable *hwpt =
		group->attach_handle->domain->fault_data;
	struct iommufd_fault *fault = hwpt->fault;

	spin_lock(&fault->lock);
	list_add_tail(&group->node, &fault->deliver);
	spin_unlock(&fault->lock);

	wake_up_interruptible(&fault->wait_queue);
	return 0;
}
