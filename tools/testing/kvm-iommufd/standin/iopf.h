/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the IOMMU core's IO page fault handling (the 6.12
 * semantics of drivers/iommu/io-pgfault.c) and for the ordered workqueues
 * it runs handlers on.
 *
 * A device's fault parameter (struct iommu_fault_param, inside a private
 * wrapper) exists while the device is attached with kt_iopf_dev_attach();
 * it holds the partial faults (page requests of a group before its last
 * one), the groups handed to a handler and not answered yet, the attach
 * handle with the domain, and the queue the handler may run work on.
 * iommu_report_device_fault(), called by the IOMMU driver for each page
 * request:
 * - with no fault parameter, or a domain without ->iopf_handler, answers
 *   the request Invalid Request through the driver's ->page_response (as
 *   6.12 does for every page request it cannot route, the last of a
 *   group or not) and returns -EINVAL;
 * - keeps a request that is not the last of its group as a partial fault;
 * - for the last one, makes a group of the partial faults with the same
 *   group index and the last one (in arrival order, the last one last;
 *   ->last_fault is a copy of it), and calls ->iopf_handler(group); if
 *   that fails, answers Response Failure and frees the group.  Without
 *   memory for the group, a group on the stack is answered Response
 *   Failure and dropped, as 6.12 does.
 * A group holds a reference on its fault parameter until
 * iopf_free_group(), so a group may outlive the detach that ended the
 * parameter (a fault queue that keeps answered groups for userspace).
 *
 * kt_iopf_dev_detach() is iopf_queue_remove_device() after the driver
 * stopped reporting: once no report for the device can be running or
 * start, it flushes the queue's workqueue (every work queued before has
 * run), discards partial faults, and answers Invalid Request to, and
 * frees, groups still not answered; no handler work for the device runs
 * after it returns.
 *
 * Checks for tests: each group carries a "responded" flag; a second
 * response to one group fires WARN_ON (and is still sent, as the kernel
 * would).  kt_iopf_stats() counts groups allocated, freed and responded.
 *
 * Workqueues (struct workqueue_struct): one worker thread per queue runs
 * the works in the order they were queued, as an ordered workqueue does.
 * queue_work() returns false for a work that is queued and has not
 * started yet; a work may be queued again once it runs.  flush_workqueue()
 * returns when every work queued before the call has returned.  Workers
 * call kt_set_kthread() (current->mm is NULL) and are RCU readers.
 *
 * Locking: a global rwlock orders reports (readers, held across the
 * handler call) against attach and detach (writers); the handler must not
 * attach or detach.  Each fault parameter has a mutex for its partial and
 * pending lists, held across ->page_response as in the kernel.
 */
#ifndef __KT_STANDIN_IOPF_H
#define __KT_STANDIN_IOPF_H

#include "../kvm_iommu_internal.h"

/**
 * struct kt_iopf_counters - what the IO page fault stand-in did
 * @reports: iommu_report_device_fault() calls
 * @no_handler: of those, answered Invalid Request for want of a handler
 * @partial: page requests kept as partial faults
 * @partial_discarded: partial faults discarded (detach, overflow)
 * @groups_alloc: groups allocated
 * @groups_freed: groups freed (iopf_free_group())
 * @groups_responded: responses to groups: iopf_group_response() calls
 *	(the core's own included) and a detach's; counted before the
 *	response goes out, so a test that saw the device answered reads it
 *	complete (frees and works come after the response: wait for them)
 * @groups_aborted: groups answered Response Failure because the handler
 *	failed or there was no memory for them
 * @detach_responses: pending groups answered Invalid Request by a detach
 * @freed_unanswered: groups freed without any response
 * @works_run: works the workqueues ran
 */
struct kt_iopf_counters {
	u64 reports;
	u64 no_handler;
	u64 partial;
	u64 partial_discarded;
	u64 groups_alloc;
	u64 groups_freed;
	u64 groups_responded;
	u64 groups_aborted;
	u64 detach_responses;
	u64 freed_unanswered;
	u64 works_run;
};

/**
 * kt_iopf_stats() - the counters, since the program started
 *
 * Tests compare two snapshots.
 *
 * Return: a snapshot.
 */
struct kt_iopf_counters kt_iopf_stats(void);

/**
 * kt_iopf_queue_alloc() - an IO page fault queue with its workqueue
 * @name: names the worker thread (truncated)
 *
 * Return: the queue (->wq has one worker thread), or NULL.
 */
struct iopf_queue *kt_iopf_queue_alloc(const char *name);

/**
 * kt_iopf_queue_free() - stop the worker and free the queue
 * @queue: a queue of kt_iopf_queue_alloc(), or NULL
 *
 * Works still queued run first.  No device may still be attached with it
 * (WARN_ON otherwise).
 */
void kt_iopf_queue_free(struct iopf_queue *queue);

/**
 * kt_iopf_dev_attach() - route @dev's page requests to @domain
 * @dev: a device whose IOMMU driver has ->page_response
 * @domain: the domain attached to it; its ->iopf_handler gets the groups
 *	(none: every request is answered Invalid Request)
 * @queue: the queue handlers run work on (group->fault_param->queue)
 *
 * iopf_queue_add_device() and the attach handle in one.
 *
 * Return: 0, -ENODEV without ->page_response, -EBUSY when @dev is
 * attached already, -ENOMEM.
 */
int kt_iopf_dev_attach(struct device *dev, struct iommu_domain *domain,
		       struct iopf_queue *queue);

/**
 * kt_iopf_dev_detach() - stop routing @dev's page requests
 * @dev: a device attached with kt_iopf_dev_attach()
 *
 * See the comment at the top: on return no report for @dev runs, every
 * work queued on its queue before has run, partial faults are gone and
 * pending groups were answered Invalid Request and freed.  Must not be
 * called from a handler or a work of the queue.
 */
void kt_iopf_dev_detach(struct device *dev);

/**
 * kt_iopf_dev_discard_partial() - drop @dev's partial faults
 * @dev: a device attached with kt_iopf_dev_attach() (else a no-op)
 *
 * What iopf_queue_discard_partial() does for each device of a queue: the
 * driver calls it after a page request queue overflow, when last
 * requests of groups may have been lost.
 */
void kt_iopf_dev_discard_partial(struct device *dev);

/**
 * iommu_report_device_fault() - the IOMMU driver reports a page request
 * @dev: the device that sent it
 * @evt: the request; copied, the caller keeps it
 *
 * See the comment at the top.
 *
 * Return: 0 when the request was kept or handed on (or answered Response
 * Failure after the handler failed), -ENOMEM when a partial fault could
 * not be kept (it is dropped, as in 6.12), -EINVAL when no handler takes
 * it (it was answered Invalid Request).
 */
int iommu_report_device_fault(struct device *dev, struct iopf_fault *evt);

/**
 * iopf_queue_flush_dev() - run every work queued for @dev's queue so far
 * @dev: a device attached with kt_iopf_dev_attach()
 *
 * Return: 0, or -ENODEV when @dev is not attached.
 */
int iopf_queue_flush_dev(struct device *dev);

#endif /* __KT_STANDIN_IOPF_H */
