/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for iommufd's fault queue object (drivers/iommu/iommufd/fault.c
 * with the series): the page request groups queued for the VMM to read.
 * The kvm-iommufd core answers those it cannot resolve itself and queues
 * them with the product's iommufd_fault_report_answered()
 * (virt/iommufd/kvm_hwpt.c); reading one of those frees it, there being
 * nothing to respond.
 */
#ifndef __KT_STANDIN_FAULT_H
#define __KT_STANDIN_FAULT_H

#include "../kvm_iommu_internal.h"

/* The fields of upstream's struct iommufd_fault that are used here. */
struct iommufd_fault {
	struct iommufd_object obj;	/* a HWPT holds a reference on it */
	spinlock_t lock;		/* protects the deliver list */
	struct list_head deliver;	/* struct iopf_group, by ->node */
	struct mutex mutex;		/* serializes response flows */
	struct wait_queue_head wait_queue;	/* woken once a group */
};

/* One record as read(2) of the fault fd returns it (iommu_hwpt_pgfault). */
struct kt_pgfault {
	u32 flags;		/* IOMMU_PGFAULT_FLAGS_* */
	u32 dev_sid;		/* the device (iommufd's dev_id in the kernel) */
	u32 pasid;
	u32 grpid;
	u32 perm;
	u64 addr;
};

void kt_fault_init(struct iommufd_fault *fault);
/* Pop up to @max records (every request of each whole group read). */
unsigned int kt_fault_read(struct iommufd_fault *fault, struct kt_pgfault *out,
			   unsigned int max);
/*
 * poll(2) on the fault fd: wait up to @timeout_ms for @n groups to have
 * been queued in all; true if they were.  The handler answers a group
 * before it queues it, so a device can see the answer first.
 */
bool kt_fault_wait(struct iommufd_fault *fault, unsigned long n,
		   unsigned int timeout_ms);
/* Groups ever queued: the wake-ups of the fault's wait queue. */
unsigned long kt_fault_queued(struct iommufd_fault *fault);
/* Free what nobody read, as the object's destroy does. */
void kt_fault_destroy(struct iommufd_fault *fault);

#endif /* __KT_STANDIN_FAULT_H */
