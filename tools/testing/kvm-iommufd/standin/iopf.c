// SPDX-License-Identifier: GPL-2.0
/* Stand-in for the IOMMU core's IO page fault handling: see iopf.h. */
#include "iopf.h"

/* An ordered workqueue: one worker thread, works in queueing order. */
struct workqueue_struct {
	pthread_mutex_t lock;	/* protects everything below but @thread */
	pthread_cond_t more;	/* a work was queued, or @stop set */
	pthread_cond_t done;	/* a work returned */
	struct list_head works;	/* struct work_struct, by ->entry */
	u64 queued;		/* works queued so far */
	u64 finished;		/* works returned so far */
	bool stop;
	pthread_t thread;
};

/* A device's fault parameter and attach handle. */
struct kt_iopf_param {
	struct iommu_fault_param param;
	struct iommu_attach_handle handle;
	struct mutex lock;		/* protects @partial, @pending, responded */
	struct list_head partial;	/* struct iopf_fault, oldest first */
	struct list_head pending;	/* struct iopf_group, by ->pending_node */
	int users;			/* the attach and each group; atomic */
	struct list_head node;		/* on kt_iopf_params */
};

/* iopf_group keeps the kernel's layout; the check lives around it. */
struct kt_iopf_group {
	struct iopf_group group;
	bool responded;			/* under the parameter's lock */
};

/* Reports read-lock it (across the handler); attach and detach write-lock. */
static pthread_rwlock_t kt_iopf_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static LIST_HEAD(kt_iopf_params);	/* struct kt_iopf_param, by ->node */
static struct kt_iopf_counters kt_iopf_count;	/* atomic */

#define KT_IOPF_COUNT(field, n)	\
	__atomic_add_fetch(&kt_iopf_count.field, (n), __ATOMIC_RELAXED)

struct kt_iopf_counters kt_iopf_stats(void)
{
	struct kt_iopf_counters c;

#define KT_IOPF_LOAD(field)	\
	(c.field = __atomic_load_n(&kt_iopf_count.field, __ATOMIC_RELAXED))
	KT_IOPF_LOAD(reports);
	KT_IOPF_LOAD(no_handler);
	KT_IOPF_LOAD(partial);
	KT_IOPF_LOAD(partial_discarded);
	KT_IOPF_LOAD(groups_alloc);
	KT_IOPF_LOAD(groups_freed);
	KT_IOPF_LOAD(groups_responded);
	KT_IOPF_LOAD(groups_aborted);
	KT_IOPF_LOAD(detach_responses);
	KT_IOPF_LOAD(freed_unanswered);
	KT_IOPF_LOAD(works_run);
#undef KT_IOPF_LOAD
	return c;
}

/* ---- workqueues ---- */

static void *wq_worker(void *arg)
{
	struct workqueue_struct *wq = arg;

	kt_set_kthread();
	rcu_register_thread();
	pthread_mutex_lock(&wq->lock);
	for (;;) {
		struct work_struct *work;
		work_func_t fn;

		while (list_empty(&wq->works) && !wq->stop)
			pthread_cond_wait(&wq->more, &wq->lock);
		if (list_empty(&wq->works))
			break;		/* stopped, and nothing left */
		work = list_first_entry(&wq->works, struct work_struct, entry);
		/* not pending any more: it may be queued again from now on */
		list_del_init(&work->entry);
		fn = work->func;
		pthread_mutex_unlock(&wq->lock);
		fn(work);		/* may free @work */
		KT_IOPF_COUNT(works_run, 1);
		pthread_mutex_lock(&wq->lock);
		wq->finished++;
		pthread_cond_broadcast(&wq->done);
	}
	pthread_mutex_unlock(&wq->lock);
	rcu_unregister_thread();
	return NULL;
}

/**
 * queue_work() - queue @work on @wq
 * @wq: the workqueue
 * @work: a work set up with INIT_WORK()
 *
 * Return: true if queued, false if @work was queued already and has not
 * started.
 */
bool queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	bool queued = false;

	pthread_mutex_lock(&wq->lock);
	if (list_empty(&work->entry) && !WARN_ON(wq->stop)) {
		list_add_tail(&work->entry, &wq->works);
		wq->queued++;
		pthread_cond_signal(&wq->more);
		queued = true;
	}
	pthread_mutex_unlock(&wq->lock);
	return queued;
}

/**
 * flush_workqueue() - wait for the works queued so far
 * @wq: the workqueue
 *
 * Returns when every work queued before the call has returned.  Must not
 * be called from one of @wq's works.
 */
void flush_workqueue(struct workqueue_struct *wq)
{
	u64 target;

	if (WARN_ON(pthread_equal(pthread_self(), wq->thread)))
		return;
	pthread_mutex_lock(&wq->lock);
	target = wq->queued;
	while (wq->finished < target)
		pthread_cond_wait(&wq->done, &wq->lock);
	pthread_mutex_unlock(&wq->lock);
}

static struct workqueue_struct *wq_alloc(const char *name)
{
	struct workqueue_struct *wq = kzalloc(sizeof(*wq), GFP_KERNEL);
	char comm[16];

	if (!wq)
		return NULL;
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->more, NULL);
	pthread_cond_init(&wq->done, NULL);
	INIT_LIST_HEAD(&wq->works);
	if (pthread_create(&wq->thread, NULL, wq_worker, wq)) {
		pthread_cond_destroy(&wq->done);
		pthread_cond_destroy(&wq->more);
		pthread_mutex_destroy(&wq->lock);
		kfree(wq);
		return NULL;
	}
	snprintf(comm, sizeof(comm), "%s", name ? name : "iopf");
	pthread_setname_np(wq->thread, comm);
	return wq;
}

/* Run what is queued, stop the worker, free @wq. */
static void wq_destroy(struct workqueue_struct *wq)
{
	pthread_mutex_lock(&wq->lock);
	wq->stop = true;
	pthread_cond_signal(&wq->more);
	pthread_mutex_unlock(&wq->lock);
	pthread_join(wq->thread, NULL);
	pthread_cond_destroy(&wq->done);
	pthread_cond_destroy(&wq->more);
	pthread_mutex_destroy(&wq->lock);
	kfree(wq);
}

struct iopf_queue *kt_iopf_queue_alloc(const char *name)
{
	struct iopf_queue *queue = kzalloc(sizeof(*queue), GFP_KERNEL);

	if (!queue)
		return NULL;
	queue->wq = wq_alloc(name);
	if (!queue->wq) {
		kfree(queue);
		return NULL;
	}
	return queue;
}

void kt_iopf_queue_free(struct iopf_queue *queue)
{
	struct kt_iopf_param *p;

	if (!queue)
		return;
	pthread_rwlock_rdlock(&kt_iopf_rwlock);
	list_for_each_entry(p, &kt_iopf_params, node)
		WARN_ON(p->param.queue == queue);
	pthread_rwlock_unlock(&kt_iopf_rwlock);
	wq_destroy(queue->wq);
	kfree(queue);
}

/* ---- fault parameters ---- */

/* @dev's parameter, NULL if it has none; kt_iopf_rwlock held. */
static struct kt_iopf_param *find_param(struct device *dev)
{
	struct kt_iopf_param *p;

	list_for_each_entry(p, &kt_iopf_params, node)
		if (p->param.dev == dev)
			return p;
	return NULL;
}

static struct kt_iopf_param *to_param(struct iommu_fault_param *fault_param)
{
	return container_of(fault_param, struct kt_iopf_param, param);
}

static void param_put(struct kt_iopf_param *p)
{
	if (__atomic_sub_fetch(&p->users, 1, __ATOMIC_SEQ_CST))
		return;
	WARN_ON(!list_empty(&p->partial) || !list_empty(&p->pending));
	mutex_destroy(&p->lock);
	kfree(p);
}

int kt_iopf_dev_attach(struct device *dev, struct iommu_domain *domain,
		       struct iopf_queue *queue)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	struct kt_iopf_param *p;

	if (!ops || !ops->page_response)
		return -ENODEV;
	if (WARN_ON(!queue || !domain))
		return -EINVAL;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->param.dev = dev;
	p->param.queue = queue;
	p->handle.domain = domain;
	mutex_init(&p->lock);
	INIT_LIST_HEAD(&p->partial);
	INIT_LIST_HEAD(&p->pending);
	p->users = 1;
	pthread_rwlock_wrlock(&kt_iopf_rwlock);
	if (find_param(dev)) {
		pthread_rwlock_unlock(&kt_iopf_rwlock);
		mutex_destroy(&p->lock);
		kfree(p);
		return -EBUSY;
	}
	list_add_tail(&p->node, &kt_iopf_params);
	pthread_rwlock_unlock(&kt_iopf_rwlock);
	return 0;
}

/* Free @p's partial faults; its lock held. */
static void discard_partial(struct kt_iopf_param *p)
{
	struct iopf_fault *iopf, *next;

	list_for_each_entry_safe(iopf, next, &p->partial, list) {
		list_del(&iopf->list);
		kfree(iopf);
		KT_IOPF_COUNT(partial_discarded, 1);
	}
}

void kt_iopf_dev_detach(struct device *dev)
{
	struct iopf_group *group, *next;
	struct kt_iopf_param *p;
	LIST_HEAD(answered);

	/* after this no report for @dev runs or starts */
	pthread_rwlock_wrlock(&kt_iopf_rwlock);
	p = find_param(dev);
	if (p)
		list_del_init(&p->node);
	pthread_rwlock_unlock(&kt_iopf_rwlock);
	if (WARN_ON(!p))
		return;

	/* every work a handler queued for it has run */
	flush_workqueue(p->param.queue->wq);

	mutex_lock(&p->lock);
	discard_partial(p);
	list_for_each_entry_safe(group, next, &p->pending, pending_node) {
		struct kt_iopf_group *kg = container_of(group, struct kt_iopf_group, group);
		const struct iommu_fault_page_request *prm = &group->last_fault.fault.prm;
		struct iommu_page_response resp = {
			.pasid = prm->pasid,
			.grpid = prm->grpid,
			.code = IOMMU_PAGE_RESP_INVALID,
		};

		kg->responded = true;
		KT_IOPF_COUNT(detach_responses, 1);
		KT_IOPF_COUNT(groups_responded, 1);
		dev_iommu_ops(dev)->page_response(dev, &group->last_fault, &resp);
		list_del(&group->pending_node);
		list_add_tail(&group->pending_node, &answered);
	}
	mutex_unlock(&p->lock);

	list_for_each_entry_safe(group, next, &answered, pending_node) {
		list_del_init(&group->pending_node);
		iopf_free_group(group);
	}
	param_put(p);
}

void kt_iopf_dev_discard_partial(struct device *dev)
{
	struct kt_iopf_param *p;

	pthread_rwlock_rdlock(&kt_iopf_rwlock);
	p = find_param(dev);
	if (p) {
		mutex_lock(&p->lock);
		discard_partial(p);
		mutex_unlock(&p->lock);
	}
	pthread_rwlock_unlock(&kt_iopf_rwlock);
}

int iopf_queue_flush_dev(struct device *dev)
{
	struct iopf_queue *queue = NULL;
	struct kt_iopf_param *p;

	pthread_rwlock_rdlock(&kt_iopf_rwlock);
	p = find_param(dev);
	if (p)
		queue = p->param.queue;
	pthread_rwlock_unlock(&kt_iopf_rwlock);
	if (!queue)
		return -ENODEV;
	flush_workqueue(queue->wq);
	return 0;
}

/* ---- groups ---- */

/*
 * Make @kg the group of @evt: the partial faults with its group index, in
 * arrival order, then the last one; pending, with a reference on @p.
 */
static void group_init(struct kt_iopf_param *p, struct kt_iopf_group *kg,
		       const struct iopf_fault *evt)
{
	struct iopf_group *group = &kg->group;
	struct iopf_fault *iopf, *next;

	group->fault_param = &p->param;
	group->attach_handle = &p->handle;
	group->last_fault.fault = evt->fault;
	INIT_LIST_HEAD(&group->faults);
	INIT_LIST_HEAD(&group->pending_node);
	INIT_LIST_HEAD(&group->node);
	INIT_LIST_HEAD(&group->work.entry);
	__atomic_add_fetch(&p->users, 1, __ATOMIC_SEQ_CST);

	mutex_lock(&p->lock);
	list_for_each_entry_safe(iopf, next, &p->partial, list) {
		if (iopf->fault.prm.grpid != evt->fault.prm.grpid)
			continue;
		list_del(&iopf->list);
		list_add_tail(&iopf->list, &group->faults);
		group->fault_count++;
	}
	list_add_tail(&group->last_fault.list, &group->faults);
	group->fault_count++;
	list_add_tail(&group->pending_node, &p->pending);
	mutex_unlock(&p->lock);
}

/* Free the group's partial faults and drop its reference (not the group). */
static void group_release(struct kt_iopf_group *kg)
{
	struct iopf_group *group = &kg->group;
	struct kt_iopf_param *p = to_param(group->fault_param);
	struct iopf_fault *iopf, *next;
	bool answered;

	mutex_lock(&p->lock);
	answered = kg->responded;
	/* a group freed unanswered must not stay on the pending list */
	if (WARN_ON(!list_empty(&group->pending_node)))
		list_del_init(&group->pending_node);
	mutex_unlock(&p->lock);
	if (!answered)
		KT_IOPF_COUNT(freed_unanswered, 1);
	list_for_each_entry_safe(iopf, next, &group->faults, list) {
		list_del(&iopf->list);
		if (iopf != &group->last_fault)
			kfree(iopf);
	}
	param_put(p);
}

/**
 * iopf_free_group() - free a group the IOMMU core handed to a handler
 * @group: the group, answered (iopf_group_response()) or not
 */
void iopf_free_group(struct iopf_group *group)
{
	struct kt_iopf_group *kg = container_of(group, struct kt_iopf_group, group);

	group_release(kg);
	kfree(kg);
	KT_IOPF_COUNT(groups_freed, 1);
}

/**
 * iopf_group_response() - answer a group
 * @group: the group
 * @status: the response code
 *
 * Calls the driver's ->page_response with the group's last request and
 * takes the group off the pending list.  Answering a group twice fires
 * WARN_ON (and still sends the second response).
 */
void iopf_group_response(struct iopf_group *group,
			 enum iommu_page_response_code status)
{
	struct kt_iopf_group *kg = container_of(group, struct kt_iopf_group, group);
	struct kt_iopf_param *p = to_param(group->fault_param);
	const struct iommu_fault_page_request *prm = &group->last_fault.fault.prm;
	struct device *dev = group->fault_param->dev;
	struct iommu_page_response resp = {
		.pasid = prm->pasid,
		.grpid = prm->grpid,
		.code = status,
	};

	/* counted first: the device may go on before ->page_response returns */
	KT_IOPF_COUNT(groups_responded, 1);
	mutex_lock(&p->lock);
	WARN_ON(kg->responded);
	kg->responded = true;
	dev_iommu_ops(dev)->page_response(dev, &group->last_fault, &resp);
	list_del_init(&group->pending_node);
	mutex_unlock(&p->lock);
}

/* What 6.12 does with a page request nobody handles. */
static void error_response(struct device *dev, struct iopf_fault *evt)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	struct iommu_page_response resp = {
		.pasid = evt->fault.prm.pasid,
		.grpid = evt->fault.prm.grpid,
		.code = IOMMU_PAGE_RESP_INVALID,
	};

	if (ops && ops->page_response)
		ops->page_response(dev, evt, &resp);
}

int iommu_report_device_fault(struct device *dev, struct iopf_fault *evt)
{
	struct iommu_fault *fault = &evt->fault;
	struct kt_iopf_group abort_group = {}, *kg;
	struct kt_iopf_param *p;
	int ret = 0;

	KT_IOPF_COUNT(reports, 1);
	pthread_rwlock_rdlock(&kt_iopf_rwlock);
	p = find_param(dev);
	if (!p || !p->handle.domain->iopf_handler) {
		pthread_rwlock_unlock(&kt_iopf_rwlock);
		KT_IOPF_COUNT(no_handler, 1);
		if (fault->type == IOMMU_FAULT_PAGE_REQ)
			error_response(dev, evt);
		return -EINVAL;
	}

	if (!(fault->prm.flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE)) {
		/* not the last of its group: kept, not answered */
		struct iopf_fault *iopf = kzalloc(sizeof(*iopf), GFP_KERNEL);

		if (iopf) {
			iopf->fault = *fault;
			mutex_lock(&p->lock);
			list_add_tail(&iopf->list, &p->partial);
			mutex_unlock(&p->lock);
			KT_IOPF_COUNT(partial, 1);
		} else {
			ret = -ENOMEM;
		}
		pthread_rwlock_unlock(&kt_iopf_rwlock);
		return ret;
	}

	/* without memory, a group on the stack answers Response Failure */
	kg = kzalloc(sizeof(*kg), GFP_KERNEL);
	if (kg)
		KT_IOPF_COUNT(groups_alloc, 1);
	group_init(p, kg ? kg : &abort_group, evt);
	if (!kg || p->handle.domain->iopf_handler(&kg->group)) {
		struct kt_iopf_group *g = kg ? kg : &abort_group;

		KT_IOPF_COUNT(groups_aborted, 1);
		iopf_group_response(&g->group, IOMMU_PAGE_RESP_FAILURE);
		if (kg)
			iopf_free_group(&kg->group);
		else
			group_release(&abort_group);
	}
	pthread_rwlock_unlock(&kt_iopf_rwlock);
	return 0;
}
