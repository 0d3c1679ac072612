// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd: iommufd's HWPT objects on a KVM-sourced IOAS.
 *
 * Built into iommufd (CONFIG_KVM_IOMMUFD needs IOMMUFD=y); iommufd calls
 * these from its HWPT allocation, attach and ioctl paths.  The hwpt
 * objects are iommufd's own (struct iommufd_hwpt_paging): this file
 * chooses their domain with the kvm-iommufd core (kvm_ioas.c) and reports
 * what the core knows about them, and queues on their fault object the IO
 * page fault groups the core has answered itself.
 *
 * Locking: as iommufd's.  An allocation runs under the IOAS's mutex until
 * the object is finalized or aborted; the mode of a device's hwpt is read
 * under its group's lock; the core takes its own locks inside.
 */
#include "kvm_iommu_internal.h"
#include <uapi/linux/iommufd_kvm.h>

/**
 * struct iommufd_hwpt_kvm_req - a paging hwpt asked for on a KVM-sourced IOAS
 * @policy: the modes the device may get
 * @fault: the fault object of IOMMU_HWPT_FAULT_ID_VALID, or NULL
 * @reasons: set by iommufd_hwpt_kvm_domain_alloc() to the enum
 *	iommu_kvm_share_reason mask of the decision (also when it fails)
 *
 * Lives on the stack of iommufd_hwpt_kvm_alloc() for one call of
 * __iommufd_hwpt_paging_alloc().
 */
struct iommufd_hwpt_kvm_req {
	enum kvm_iommu_policy policy;
	struct iommufd_fault *fault;
	u32 reasons;
};

/**
 * iommufd_hwpt_kvm_domain_alloc() - the domain of a hwpt on a KVM IOAS
 * @hwpt_paging: the hwpt __iommufd_hwpt_paging_alloc() is building, with
 *	its IOAS set and no domain yet
 * @idev: the device it is for
 * @req: what iommufd_hwpt_kvm_alloc() asks for
 *
 * Has the kvm-iommufd core decide the device's mode under @req's policy.
 * SHARED: the hwpt gets the core's domain, which translates through KVM's
 * table, and is marked kvm_shared; the constructor then applies the
 * coherency step and the attach as for any paging hwpt, and adds no
 * domain to the io_pagetable.  PINNED: the hwpt is left without a domain,
 * and the constructor allocates a paging domain of the IOAS's io_pagetable
 * as it does on any IOAS.
 *
 * Context: @hwpt_paging's IOAS mutex is held.
 * Return: 0, or the core's error (see kvm_iommu_domain_alloc()).
 */
int iommufd_hwpt_kvm_domain_alloc(struct iommufd_hwpt_paging *hwpt_paging,
				  struct iommufd_device *idev,
				  struct iommufd_hwpt_kvm_req *req)
{
	struct iommu_domain *domain;

	lockdep_assert_held(&hwpt_paging->ioas->mutex);
	domain = kvm_iommu_domain_alloc(hwpt_paging->ioas->kvm, idev->dev,
					req->policy, req->fault, &req->reasons);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	if (domain) {
		hwpt_paging->common.domain = domain;
		hwpt_paging->kvm_shared = true;
	}
	return 0;
}

/**
 * iommufd_hwpt_kvm_mode() - the mode of a paging hwpt on a KVM-sourced IOAS
 * @hwpt_paging: the hwpt
 *
 * What IOMMU_HWPT_ALLOC, IOMMU_KVM_SHARE_QUERY and the core's attach
 * reports say.
 *
 * Return: IOMMU_KVM_MODE_SHARED or IOMMU_KVM_MODE_PINNED.
 */
u32 iommufd_hwpt_kvm_mode(struct iommufd_hwpt_paging *hwpt_paging)
{
	return hwpt_paging->kvm_shared ? IOMMU_KVM_MODE_SHARED :
					 IOMMU_KVM_MODE_PINNED;
}

/*
 * IOMMU_HWPT_FAULT_ID_VALID on a KVM-sourced IOAS: the hwpt holds a
 * reference on @fault, as iommufd_hwpt_alloc() gives any other hwpt.  The
 * IO page fault handler of a SHARED domain is the one the kvm-iommufd core
 * installed with kvm_iommu_domain_alloc() (its fault_data is the core's,
 * not the hwpt): it is left alone.  A PINNED hwpt gets iommufd's own, so
 * its faults go to userspace.
 */
static void iommufd_hwpt_kvm_set_fault(struct iommufd_hwpt_paging *hwpt_paging,
				       struct iommufd_fault *fault)
{
	struct iommufd_hw_pagetable *hwpt = &hwpt_paging->common;

	hwpt->fault = fault;
	refcount_inc(&fault->obj.users);
	if (!hwpt_paging->kvm_shared) {
		hwpt->domain->iopf_handler = iommufd_fault_iopf_handler;
		hwpt->domain->fault_data = hwpt;
	}
}

/**
 * iommufd_hwpt_kvm_alloc() - Get a PAGING hwpt for a device on a KVM IOAS
 * @ictx: iommufd context
 * @ioas: IOAS sourced from a KVM VM
 * @idev: Device to get an iommu_domain for
 * @pasid: PASID to get an iommu_domain for (IOMMU_NO_PASID only)
 * @flags: Flags from userspace: IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED or
 *         IOMMU_HWPT_ALLOC_KVM_PIN_ONLY, or neither (choose), and
 *         IOMMU_HWPT_FAULT_ID_VALID with @fault
 * @immediate_attach: True if idev should be attached to the hwpt (not with
 *                    @fault)
 * @user_data: Must be NULL
 * @fault: The fault object of IOMMU_HWPT_FAULT_ID_VALID, or NULL; the
 *         hwpt takes a reference on it
 * @mode: Set to the enum iommu_kvm_mode of the new hwpt
 * @reasons: Set to the enum iommu_kvm_share_reason mask when the device
 *           cannot walk the VM's table (also on the EOPNOTSUPP failure)
 *
 * SHARED: the domain translates through the VM's own TDP table, so there
 * is no IO page table to fill from the IOAS.  PINNED: an ordinary paging
 * hwpt of the IOAS, whose io_pagetable the kvm-iommufd core keeps equal to
 * the VM's memslots.  Both are built by iommufd's paging hwpt constructor,
 * __iommufd_hwpt_paging_alloc(), whose domain allocation defers to
 * iommufd_hwpt_kvm_domain_alloc(); the same locking and lifetime rules as
 * iommufd_hwpt_paging_alloc() apply.
 *
 * With @fault the device can fault (PRI).  A SHARED domain then pins
 * nothing: the core installs its own IO page fault handler, which resolves
 * page requests through KVM and hands only the groups it had to fail to
 * @fault, already answered.  A PINNED hwpt delivers every fault to @fault
 * for userspace to answer, like any fault-capable paging hwpt.
 *
 * Return: the new hwpt; ERR_PTR(-EOPNOTSUPP) for a flag, driver data or a
 * PASID a KVM-sourced IOAS does not take, or under SHARE_REQUIRED when the
 * device cannot share (see @reasons); ERR_PTR(-EINVAL) for both policy
 * flags; or the error of allocating or attaching the domain.
 */
struct iommufd_hwpt_paging *
iommufd_hwpt_kvm_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
		       struct iommufd_device *idev, ioasid_t pasid, u32 flags,
		       bool immediate_attach,
		       const struct iommu_user_data *user_data,
		       struct iommufd_fault *fault, u32 *mode, u32 *reasons)
{
	const u32 kvm_flags = IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED |
			      IOMMU_HWPT_ALLOC_KVM_PIN_ONLY;
	struct iommufd_hwpt_kvm_req req = {
		.policy = KVM_IOMMU_POLICY_AUTO,
		.fault = fault,
	};
	struct iommufd_hwpt_paging *hwpt_paging;

	lockdep_assert_held(&ioas->mutex);

	*mode = IOMMU_KVM_MODE_NONE;
	*reasons = 0;
	if ((flags & ~(kvm_flags | IOMMU_HWPT_FAULT_ID_VALID)) || user_data ||
	    pasid != IOMMU_NO_PASID)
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & kvm_flags) == kvm_flags)
		return ERR_PTR(-EINVAL);
	/* The fault must be set up before the first attach enables IOPF */
	if (WARN_ON(!fault != !(flags & IOMMU_HWPT_FAULT_ID_VALID) ||
		    (fault && immediate_attach)))
		return ERR_PTR(-EINVAL);
	if (flags & IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED)
		req.policy = KVM_IOMMU_POLICY_SHARE_REQUIRED;
	else if (flags & IOMMU_HWPT_ALLOC_KVM_PIN_ONLY)
		req.policy = KVM_IOMMU_POLICY_PIN_ONLY;

	/* iommufd's own constructor, with the domain chosen by the core */
	hwpt_paging = __iommufd_hwpt_paging_alloc(ictx, ioas, idev, pasid, 0,
						  immediate_attach, NULL, &req);
	*reasons = req.reasons;
	if (IS_ERR(hwpt_paging))
		return hwpt_paging;
	if (fault)
		iommufd_hwpt_kvm_set_fault(hwpt_paging, fault);
	*mode = iommufd_hwpt_kvm_mode(hwpt_paging);
	return hwpt_paging;
}

/**
 * iommufd_hwpt_kvm_alloc_user() - IOMMU_HWPT_ALLOC on a KVM-sourced IOAS
 * @ucmd: the command, struct iommu_hwpt_alloc
 * @ioas: the IOAS of @ucmd's pt_id, sourced from a KVM VM, locked
 * @idev: the device of @ucmd's dev_id
 * @user_data: the driver data userspace gave, or NULL
 *
 * Takes the fault object of IOMMU_HWPT_FAULT_ID_VALID (the core chooses
 * the domain's IO page fault handler with it) and allocates with the
 * policy of @ucmd's flags.  Sets out_kvm_mode and out_kvm_reasons in
 * @ucmd's command; when the device cannot share and the policy needs it
 * to, the reasons are copied to userspace before the error is returned.
 *
 * Context: the caller holds @ioas->mutex, as for iommufd_hwpt_kvm_alloc().
 * Return: the new hwpt, not finalized, or an ERR_PTR.
 */
struct iommufd_hwpt_paging *
iommufd_hwpt_kvm_alloc_user(struct iommufd_ucmd *ucmd,
			    struct iommufd_ioas *ioas,
			    struct iommufd_device *idev,
			    const struct iommu_user_data *user_data)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_fault *fault = NULL;
	int rc;

	if (cmd->__reserved2)
		return ERR_PTR(-EOPNOTSUPP);
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		fault = iommufd_get_fault(ucmd, cmd->fault_id);
		if (IS_ERR(fault))
			return ERR_CAST(fault);
	}
	hwpt_paging = iommufd_hwpt_kvm_alloc(ucmd->ictx, ioas, idev,
					     IOMMU_NO_PASID, cmd->flags, false,
					     user_data, fault,
					     &cmd->out_kvm_mode,
					     &cmd->out_kvm_reasons);
	if (fault)
		iommufd_put_object(ucmd->ictx, &fault->obj);
	if (IS_ERR(hwpt_paging) && cmd->out_kvm_reasons) {
		/* Say why, then fail */
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc)
			return ERR_PTR(rc);
	}
	return hwpt_paging;
}

/**
 * iommufd_hwpt_kvm_report() - tell the core a device moved to or from a hwpt
 * @hwpt: the hwpt @idev was attached to or detached from
 * @idev: the device
 * @attached: true after an attach, false at a detach
 *
 * For a hwpt of a KVM-sourced IOAS the kvm-iommufd core counts the device
 * and traces it with the mode of the hwpt's domain; any other hwpt is left
 * alone.
 *
 * Context: the caller holds @idev's group lock.
 */
void iommufd_hwpt_kvm_report(struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_device *idev, bool attached)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	u32 mode;

	if (!hwpt_is_paging(hwpt))
		return;
	hwpt_paging = to_hwpt_paging(hwpt);
	if (!hwpt_paging->ioas->kvm)
		return;
	mode = iommufd_hwpt_kvm_mode(hwpt_paging);
	if (attached)
		kvm_iommu_device_attached(hwpt_paging->ioas->kvm, idev->obj.id,
					  mode);
	else
		kvm_iommu_device_detached(hwpt_paging->ioas->kvm, idev->obj.id,
					  mode);
}

/* Leaf sizes of an x86-style table whose largest leaf is at @max_level. */
static u64 kvm_leaf_pgsizes(unsigned int max_level)
{
	u64 sizes = 0;
	unsigned int level;

	for (level = 1; level <= max_level && level <= 3; level++)
		sizes |= BIT_ULL(PAGE_SHIFT + 9 * (level - 1));
	return sizes;
}

/* More than KVM_USER_MEM_SLOTS on any architecture */
#define IOMMUFD_KVM_SLOTS_MAX	SZ_32K

/**
 * iommufd_kvm_slots() - ioctl(IOMMU_KVM_SLOTS)
 * @ucmd: the command, struct iommu_kvm_slots
 *
 * Return: 0, or the errors listed in include/uapi/linux/iommufd_kvm.h.
 */
int iommufd_kvm_slots(struct iommufd_ucmd *ucmd)
{
	struct iommu_kvm_slots *cmd = ucmd->cmd;
	struct iommu_kvm_slot *slots = NULL;
	u32 cap = min_t(u32, cmd->nr_slots, IOMMUFD_KVM_SLOTS_MAX), nr = cap;
	struct iommufd_ioas *ioas;
	int rc, rc2;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (!ioas->kvm) {
		rc = -EINVAL;
		goto out_put;
	}
	if (cap) {
		slots = kvcalloc(cap, sizeof(*slots), GFP_KERNEL_ACCOUNT);
		if (!slots) {
			rc = -ENOMEM;
			goto out_put;
		}
	}
	rc = kvm_iommu_slots(ioas->kvm, cmd->flags, slots, &nr);
	if (rc == -EOPNOTSUPP || rc == -EIO)
		goto out_free;
	/* report even when a retried slot failed, then return that error */
	if (min(nr, cap) &&
	    copy_to_user(u64_to_user_ptr(cmd->slots_uptr), slots,
			 min(nr, cap) * sizeof(*slots))) {
		rc = -EFAULT;
		goto out_free;
	}
	cmd->nr_slots = nr;
	rc2 = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc)
		rc = rc2;
out_free:
	kvfree(slots);
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/**
 * iommufd_kvm_share_query() - ioctl(IOMMU_KVM_SHARE_QUERY)
 * @ucmd: the command, struct iommu_kvm_share_query
 *
 * Return: 0, or the errors listed in include/uapi/linux/iommufd_kvm.h.
 */
int iommufd_kvm_share_query(struct iommufd_ucmd *ucmd)
{
	struct iommu_kvm_share_query *cmd = ucmd->cmd;
	struct kvm_iommu_share_info info;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_device *idev;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas)) {
		rc = PTR_ERR(ioas);
		goto out_put_idev;
	}
	if (!ioas->kvm) {
		rc = -EINVAL;
		goto out_put_ioas;
	}
	rc = kvm_iommu_share_query(ioas->kvm, idev->dev, &info);
	if (rc)
		goto out_put_ioas;

	cmd->out_mode = IOMMU_KVM_MODE_NONE;
	cmd->out_dirty_log = IOMMU_KVM_DIRTY_NONE;
	mutex_lock(&idev->igroup->lock);
	hwpt = idev->igroup->hwpt;
	if (hwpt && hwpt_is_paging(hwpt) &&
	    to_hwpt_paging(hwpt)->ioas == ioas) {
		cmd->out_mode = iommufd_hwpt_kvm_mode(to_hwpt_paging(hwpt));
		cmd->out_dirty_log = kvm_iommu_dirty_log(ioas->kvm,
							 hwpt->domain);
	}
	mutex_unlock(&idev->igroup->lock);

	cmd->out_reasons = info.reasons;
	cmd->out_kvm_format = info.kvm_format;
	cmd->out_kvm_levels = info.kvm_levels;
	cmd->out_iommu_levels = info.iommu_levels;
	cmd->out_kvm_addr_bits = info.kvm_phys_bits;
	cmd->out_iommu_addr_bits = info.iommu_addr_bits;
	cmd->out_kvm_pgsizes = kvm_leaf_pgsizes(info.kvm_max_leaf_level);
	cmd->out_iommu_pgsizes = kvm_leaf_pgsizes(info.iommu_max_leaf_level);
	cmd->out_rsvd_conflict = info.rsvd_conflict;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put_ioas:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/**
 * iommufd_fault_report_answered() - Report a page fault group already answered
 * @fault: The fault object of the hwpt whose domain received @group
 * @group: A group the domain's own IO page fault handler has already
 *         responded to with iopf_group_response()
 *
 * For an IO page fault handler other than iommufd's that resolves page
 * requests itself (the kvm-iommufd core's SHARED domains) and lets
 * userspace see the ones it could not resolve.  @group is queued on @fault
 * like a fault for userspace to answer, but read() delivers its records
 * with IOMMU_PGFAULT_FLAGS_ANSWERED and cookie 0, and no response is
 * expected or accepted for it.  @fault owns @group from now on: it frees
 * the group once read, or when the device is detached from the hwpt or
 * @fault is destroyed, without responding again.
 *
 * Context: process context, in the IO page fault work of @group's device.
 * The device's attach handle must still be installed: detaching or
 * replacing the device's hwpt flushes that work
 * (iommufd_fault_flush_deferred()) before iommufd purges the device's
 * groups from @fault and frees the handle.  Takes @fault->lock, which
 * guards @fault->deliver, as iommufd's own handler does.
 */
void iommufd_fault_report_answered(struct iommufd_fault *fault,
				   struct iopf_group *group)
{
	group->cookie = IOMMUFD_FAULT_COOKIE_ANSWERED;

	spin_lock(&fault->lock);
	list_add_tail(&group->node, &fault->deliver);
	spin_unlock(&fault->lock);

	wake_up_interruptible(&fault->wait_queue);
}
