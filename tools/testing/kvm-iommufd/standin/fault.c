// SPDX-License-Identifier: GPL-2.0
/* Stand-in for iommufd's fault queue: see fault.h. */
#include <unistd.h>

#include "fault.h"

void kt_fault_init(struct iommufd_fault *fault)
{
	memset(fault, 0, sizeof(*fault));
	fault->obj.type = IOMMUFD_OBJ_FAULT;
	refcount_set(&fault->obj.users, 1);
	INIT_LIST_HEAD(&fault->obj.node);
	spin_lock_init(&fault->lock);
	INIT_LIST_HEAD(&fault->deliver);
	mutex_init(&fault->mutex);
	init_waitqueue_head(&fault->wait_queue);
}

/*
 * read(2): under the mutex, take each whole group off the deliver list
 * under the lock, as upstream's iommufd_fault_deliver_fetch() does, and put
 * it back at the head if it does not fit.  An answered group's records
 * carry IOMMU_PGFAULT_FLAGS_ANSWERED and the group is freed once read.
 * There is no response ioctl here: another group is freed as well.
 */
unsigned int kt_fault_read(struct iommufd_fault *fault, struct kt_pgfault *out,
			   unsigned int max)
{
	unsigned int n = 0;

	mutex_lock(&fault->mutex);
	for (;;) {
		struct iopf_group *group = NULL;
		struct iopf_fault *iopf;
		bool answered;

		spin_lock(&fault->lock);
		if (!list_empty(&fault->deliver)) {
			group = list_first_entry(&fault->deliver,
						 struct iopf_group, node);
			list_del(&group->node);
		}
		spin_unlock(&fault->lock);
		if (!group)
			break;
		if (group->fault_count > max - n) {
			spin_lock(&fault->lock);
			list_add(&group->node, &fault->deliver);
			spin_unlock(&fault->lock);
			break;
		}
		answered = iommufd_fault_group_answered(group);
		list_for_each_entry(iopf, &group->faults, list) {
			const struct iommu_fault_page_request *prm = &iopf->fault.prm;

			out[n++] = (struct kt_pgfault) {
				.flags = prm->flags |
					 (answered ? IOMMU_PGFAULT_FLAGS_ANSWERED : 0),
				.dev_sid = group->fault_param->dev->sid,
				.pasid = prm->pasid,
				.grpid = prm->grpid,
				.perm = prm->perm,
				.addr = prm->addr,
			};
		}
		iopf_free_group(group);
	}
	mutex_unlock(&fault->mutex);
	return n;
}

/*
 * The object's destroy: what nobody read is freed; a group nobody answered
 * yet is answered with Invalid Request first, as upstream does.
 */
void kt_fault_destroy(struct iommufd_fault *fault)
{
	struct iopf_group *group, *next;

	/* upstream's IOMMU_DESTROY fails while a HWPT holds it */
	WARN_ON(refcount_read(&fault->obj.users) != 1);
	list_for_each_entry_safe(group, next, &fault->deliver, node) {
		list_del(&group->node);
		if (!iommufd_fault_group_answered(group))
			iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
		iopf_free_group(group);
	}
	mutex_destroy(&fault->mutex);
}

unsigned long kt_fault_queued(struct iommufd_fault *fault)
{
	return __atomic_load_n(&fault->wait_queue.wakeups, __ATOMIC_ACQUIRE);
}

bool kt_fault_wait(struct iommufd_fault *fault, unsigned long n,
		   unsigned int timeout_ms)
{
	unsigned int waited_us = 0;

	for (;;) {
		bool done = kt_fault_queued(fault) >= n;

		if (done || waited_us >= timeout_ms * 1000)
			return done;
		usleep(100);
		waited_us += 100;
	}
}
