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
	fault->queued = 0;
}

/* The product's hook: queue an answered group; the queue now owns it. */
void iommufd_fault_report_answered(struct iommufd_fault *fault,
				   struct iopf_group *group)
{
	spin_lock(&fault->lock);
	list_add_tail(&group->node, &fault->deliver);
	fault->queued++;
	spin_unlock(&fault->lock);
}

unsigned int kt_fault_read(struct iommufd_fault *fault, struct kt_pgfault *out,
			   unsigned int max)
{
	unsigned int n = 0;

	spin_lock(&fault->lock);
	while (!list_empty(&fault->deliver)) {
		struct iopf_group *group = list_first_entry(&fault->deliver,
							    struct iopf_group, node);
		struct iopf_fault *iopf;

		if (group->fault_count > max - n)
			break;
		list_del(&group->node);
		list_for_each_entry(iopf, &group->faults, list) {
			const struct iommu_fault_page_request *prm = &iopf->fault.prm;

			out[n++] = (struct kt_pgfault) {
				.flags = prm->flags,
				.dev_sid = group->fault_param->dev->sid,
				.pasid = prm->pasid,
				.grpid = prm->grpid,
				.perm = prm->perm,
				.addr = prm->addr,
			};
		}
		iopf_free_group(group);
	}
	spin_unlock(&fault->lock);
	return n;
}

void kt_fault_destroy(struct iommufd_fault *fault)
{
	struct iopf_group *group, *next;

	/* upstream's IOMMU_DESTROY fails while a HWPT holds it */
	WARN_ON(refcount_read(&fault->obj.users) != 1);
	spin_lock(&fault->lock);
	list_for_each_entry_safe(group, next, &fault->deliver, node) {
		list_del(&group->node);
		iopf_free_group(group);
	}
	spin_unlock(&fault->lock);
}

bool kt_fault_wait(struct iommufd_fault *fault, unsigned long n,
		   unsigned int timeout_ms)
{
	unsigned int waited_us = 0;
	bool done;

	for (;;) {
		spin_lock(&fault->lock);
		done = fault->queued >= n;
		spin_unlock(&fault->lock);
		if (done || waited_us >= timeout_ms * 1000)
			return done;
		usleep(100);
		waited_us += 100;
	}
}
