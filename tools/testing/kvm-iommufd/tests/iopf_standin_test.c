// SPDX-License-Identifier: GPL-2.0
/*
 * The IO page fault plumbing on its own: the IOMMU core stand-in
 * (standin/iopf.c) grouping page requests and calling a domain's
 * iopf_handler, its workqueues and detach; the driver stand-in's prq
 * thread and ->page_response; and a DMA device with ATS and PRI behind a
 * paging domain whose handler maps the faulting pages with iommu_map().
 * The handlers here are the tests' own; the product's is tested in
 * iopf_test.c.
 */
#include <stdio.h>
#include <unistd.h>

#include "../harness/test.h"
#include "../standin/intel_kvm_domain.h"
#include "../standin/intel_paging_domain.h"
#include "../standin/iopf.h"
#include "fixture.h"

#define IOVA		0x100000ULL	/* the RAM block is mapped here on demand */
#define LOG_MAX		16

enum handler_mode {
	H_MAP,		/* a work maps every page of the group, answers Success */
	H_ANSWER,	/* answer @code at once */
	H_FAIL,		/* return an error */
	H_HOLD,		/* keep the group for the test */
	H_SLOW,		/* a work sleeps, then answers Success */
	H_BLOCK,	/* wait for the test to release it, then answer Success */
};

/* Page group responses an endpoint received (from any thread). */
struct resp_log {
	pthread_mutex_t lock;
	unsigned int n;
	struct vtdm_prg_resp r[LOG_MAX];
};

struct pri_env {
	struct kt_vtd v;		/* the unit, the driver, the DMA device, RAM */
	struct device dev;
	struct iommu_domain *domain;
	struct iopf_queue *q;
	bool iopf_attached;
	struct resp_log log;		/* when the DMA device is not in PRI mode */
	bool logging;
	/* the handler: @mode and @code are set by the test while it is idle */
	enum handler_mode mode;
	enum iommu_page_response_code code;
	pthread_mutex_t lock;		/* protects what follows */
	pthread_cond_t cond;
	unsigned int calls;
	struct iommu_fault_page_request seen[LOG_MAX];	/* the last group's */
	size_t seen_count;
	bool seen_in_kthread;
	struct iopf_group *held;
	bool released;
	unsigned int slow_done;
};

struct env_work {
	struct work_struct work;
	struct iopf_group *group;
	struct pri_env *e;
};

static void log_resp(void *priv, const struct vtdm_prg_resp *resp)
{
	struct resp_log *log = priv;

	pthread_mutex_lock(&log->lock);
	if (log->n < LOG_MAX)
		log->r[log->n] = *resp;
	log->n++;
	pthread_mutex_unlock(&log->lock);
}

static unsigned int log_count(struct resp_log *log)
{
	unsigned int n;

	pthread_mutex_lock(&log->lock);
	n = log->n;
	pthread_mutex_unlock(&log->lock);
	return n;
}

static struct vtdm_prg_resp log_get(struct resp_log *log, unsigned int i)
{
	struct vtdm_prg_resp r;

	pthread_mutex_lock(&log->lock);
	r = log->r[i];
	pthread_mutex_unlock(&log->lock);
	return r;
}

static unsigned int env_get(struct pri_env *e, unsigned int *field)
{
	unsigned int val;

	pthread_mutex_lock(&e->lock);
	val = *field;
	pthread_mutex_unlock(&e->lock);
	return val;
}

/* Map every page of the group (RAM block at IOVA), answer, free. */
static void map_work(struct work_struct *work)
{
	struct env_work *w = container_of(work, struct env_work, work);
	enum iommu_page_response_code code = IOMMU_PAGE_RESP_SUCCESS;
	struct pri_env *e = w->e;
	struct iopf_fault *iopf;

	list_for_each_entry(iopf, &w->group->faults, list) {
		u64 iova = iopf->fault.prm.addr;

		if (iova < IOVA || iova >= IOVA + e->v.ram_size) {
			code = IOMMU_PAGE_RESP_INVALID;
			break;
		}
		if (iommu_iova_to_phys(e->domain, iova)) {
			if (!(iopf->fault.prm.perm & IOMMU_FAULT_PERM_WRITE))
				continue;	/* an earlier group mapped it */
			/* mapped read-only (by the test): make it writable */
			iommu_unmap(e->domain, iova, PAGE_SIZE);
		}
		if (iommu_map(e->domain, iova, e->v.ram + (iova - IOVA), PAGE_SIZE,
			      IOMMU_READ | IOMMU_WRITE, GFP_KERNEL)) {
			code = IOMMU_PAGE_RESP_FAILURE;
			break;
		}
	}
	iopf_group_response(w->group, code);
	iopf_free_group(w->group);
	kfree(w);
}

static void slow_work(struct work_struct *work)
{
	struct env_work *w = container_of(work, struct env_work, work);
	struct pri_env *e = w->e;

	usleep(100 * 1000);
	iopf_group_response(w->group, IOMMU_PAGE_RESP_SUCCESS);
	iopf_free_group(w->group);
	pthread_mutex_lock(&e->lock);
	e->slow_done++;
	pthread_mutex_unlock(&e->lock);
	kfree(w);
}

static int queue_env_work(struct pri_env *e, struct iopf_group *group, work_func_t fn)
{
	struct env_work *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return -ENOMEM;
	w->group = group;
	w->e = e;
	INIT_WORK(&w->work, fn);
	if (!queue_work(group->fault_param->queue->wq, &w->work)) {
		kfree(w);
		return -EBUSY;
	}
	return 0;
}

/* domain->iopf_handler: note the group, then do what @mode says. */
static int test_handler(struct iopf_group *group)
{
	struct pri_env *e = group->attach_handle->domain->fault_data;
	struct iopf_fault *iopf;
	size_t n = 0;

	pthread_mutex_lock(&e->lock);
	e->calls++;
	list_for_each_entry(iopf, &group->faults, list)
		if (n < LOG_MAX)
			e->seen[n++] = iopf->fault.prm;
	e->seen_count = group->fault_count;
	e->seen_in_kthread = !current->mm;
	pthread_mutex_unlock(&e->lock);

	switch (e->mode) {
	case H_MAP:
		return queue_env_work(e, group, map_work);
	case H_SLOW:
		return queue_env_work(e, group, slow_work);
	case H_ANSWER:
		iopf_group_response(group, e->code);
		iopf_free_group(group);
		return 0;
	case H_FAIL:
		return -ENOMEM;
	case H_HOLD:
		pthread_mutex_lock(&e->lock);
		e->held = group;
		pthread_mutex_unlock(&e->lock);
		return 0;
	case H_BLOCK:
		pthread_mutex_lock(&e->lock);
		while (!e->released)
			pthread_cond_wait(&e->cond, &e->lock);
		pthread_mutex_unlock(&e->lock);
		iopf_group_response(group, IOMMU_PAGE_RESP_SUCCESS);
		iopf_free_group(group);
		return 0;
	}
	return -EINVAL;
}

/*
 * A unit with ATS and page requests, the driver stand-in with its prq
 * thread, a device probed (registered for page requests) and attached to
 * a paging domain with test_handler, and routed to it with a fault queue.
 * The DMA device (e->v.dev) is put in PRI mode with @group_pages; with 0
 * it is not, and a recording endpoint takes the responses instead.
 */
static bool env_setup(struct pri_env *e, enum handler_mode mode, unsigned int group_pages)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	pthread_mutex_init(&e->log.lock, NULL);
	e->mode = mode;
	ASSERT_TRUE(kt_vtd_setup(&e->v, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI, 4, 4));
	kt_intel_probe_device(&e->dev, e->v.iommu, KT_SID);
	e->domain = iommu_paging_domain_alloc(&e->dev);
	ASSERT_FALSE(IS_ERR(e->domain));
	ASSERT_EQ(e->domain->ops->attach_dev(e->domain, &e->dev), 0);
	e->domain->iopf_handler = test_handler;
	e->domain->fault_data = e;
	ASSERT_EQ(kt_intel_prq_enable(e->v.iommu), 0);
	e->q = kt_iopf_queue_alloc("kt-iopf-test");
	ASSERT_TRUE(e->q);
	ASSERT_EQ(kt_iopf_dev_attach(&e->dev, e->domain, e->q), 0);
	e->iopf_attached = true;
	if (group_pages) {
		ASSERT_EQ(dma_dev_enable_pri(&e->v.dev, group_pages), 0);
	} else {
		ASSERT_EQ(vtd_endpoint_register(e->v.hw, KT_SID, log_resp, &e->log), 0);
		e->logging = true;
	}
	return true;
}

static bool env_teardown(struct pri_env *e)
{
	struct dma_dev *d = &e->v.dev;

	if (d->pri) {
		ASSERT_EQ(__atomic_load_n(&d->pri_unexpected, __ATOMIC_RELAXED), 0);
		ASSERT_EQ(__atomic_load_n(&d->pri_timeouts, __ATOMIC_RELAXED), 0);
		ASSERT_EQ(d->bad_pages, 0);
		dma_dev_disable_pri(d);
	}
	if (e->iopf_attached)
		kt_iopf_dev_detach(&e->dev);
	kt_iopf_queue_free(e->q);
	kt_intel_prq_disable(e->v.iommu);
	if (e->logging)
		vtd_endpoint_unregister(e->v.hw, KT_SID);
	ASSERT_EQ(kt_paging_domain_detach(e->domain, &e->dev), 0);
	iommu_domain_free(e->domain);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->log.lock);
	return kt_vtd_teardown(&e->v);
}

/*
 * Wait (up to 5 s) until @n groups were freed since @c0: the core frees a
 * group after it answered it, so the device may see the answer first.
 */
static struct kt_iopf_counters wait_freed(const struct kt_iopf_counters *c0, u64 n)
{
	struct kt_iopf_counters c = kt_iopf_stats();
	int waited;

	for (waited = 0; c.groups_freed - c0->groups_freed < n && waited < 5000; waited++) {
		usleep(1000);
		c = kt_iopf_stats();
	}
	return c;
}

static struct iopf_fault page_req(u64 addr, u32 grpid, bool last, bool write)
{
	struct iopf_fault evt = { };

	evt.fault.type = IOMMU_FAULT_PAGE_REQ;
	evt.fault.prm.addr = addr;
	evt.fault.prm.grpid = grpid;
	evt.fault.prm.perm = write ? IOMMU_FAULT_PERM_WRITE : IOMMU_FAULT_PERM_READ;
	if (last)
		evt.fault.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	return evt;
}

static int report(struct pri_env *e, u64 addr, u32 grpid, bool last)
{
	struct iopf_fault evt = page_req(addr, grpid, last, false);

	return iommu_report_device_fault(&e->dev, &evt);
}

TEST(iopf_partial_faults_wait_for_the_last_page)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct iopf_group *group;
	struct vtdm_prg_resp r;
	struct pri_env e;

	if (!env_setup(&e, H_HOLD, 0))
		return false;
	ASSERT_EQ(report(&e, 0x1000, 5, false), 0);
	ASSERT_EQ(report(&e, 0x9000, 6, false), 0);
	ASSERT_EQ(report(&e, 0x3000, 5, false), 0);
	ASSERT_EQ(env_get(&e, &e.calls), 0);
	c1 = kt_iopf_stats();
	ASSERT_EQ(c1.partial - c0.partial, 3);
	ASSERT_EQ(c1.groups_alloc - c0.groups_alloc, 0);

	ASSERT_EQ(report(&e, 0x7000, 5, true), 0);
	ASSERT_EQ(env_get(&e, &e.calls), 1);
	group = e.held;
	ASSERT_TRUE(group);
	/* the partial faults of its index, in order, and the last one last */
	ASSERT_EQ(group->fault_count, 3);
	ASSERT_EQ(e.seen_count, 3);
	ASSERT_EQ(e.seen[0].addr, 0x1000);
	ASSERT_EQ(e.seen[1].addr, 0x3000);
	ASSERT_EQ(e.seen[2].addr, 0x7000);
	ASSERT_TRUE(e.seen[2].flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	ASSERT_EQ(group->last_fault.fault.prm.addr, 0x7000);
	ASSERT_EQ(group->last_fault.fault.prm.grpid, 5);
	ASSERT_TRUE(group->attach_handle->domain == e.domain);
	ASSERT_TRUE(group->fault_param->dev == &e.dev);
	ASSERT_TRUE(group->fault_param->queue == e.q);
	ASSERT_EQ(log_count(&e.log), 0);	/* nobody answered yet */

	iopf_group_response(group, IOMMU_PAGE_RESP_SUCCESS);
	ASSERT_EQ(log_count(&e.log), 1);
	r = log_get(&e.log, 0);
	ASSERT_EQ(r.prgi, 5);
	ASSERT_EQ(r.code, VTDM_RESP_SUCCESS);
	ASSERT_FALSE(r.pasid_present);
	ASSERT_FALSE(r.automatic);
	iopf_free_group(group);
	e.held = NULL;

	/* group 6 is still partial: detach discards it, unanswered */
	c0 = kt_iopf_stats();
	kt_iopf_dev_detach(&e.dev);
	e.iopf_attached = false;
	c1 = kt_iopf_stats();
	ASSERT_EQ(c1.partial_discarded - c0.partial_discarded, 1);
	ASSERT_EQ(log_count(&e.log), 1);
	return env_teardown(&e);
}

TEST(iopf_handler_error_answers_failure)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	u8 *ram, buf[64];
	struct pri_env e;

	if (!env_setup(&e, H_FAIL, 1))
		return false;
	ram = phys_va(e.v.pm, e.v.ram);
	memset(ram, 0x11, 4096);
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(dma_write(&e.v.dev, IOVA + 0x40, buf, sizeof(buf)), -EFAULT);
	c1 = wait_freed(&c0, 1);
	ASSERT_EQ(e.v.dev.page_requests, 1);
	ASSERT_EQ(e.v.dev.pri_responses, 1);
	ASSERT_EQ(e.v.dev.pri_failures, 1);
	ASSERT_EQ(e.v.dev.last_pri_code, VTDM_RESP_FAILURE);
	ASSERT_EQ(e.v.dev.pri_retries, 0);
	ASSERT_EQ(e.v.dev.bytes_written, 0);
	ASSERT_EQ(ram[0x40], 0x11);
	ASSERT_EQ(env_get(&e, &e.calls), 1);
	ASSERT_EQ(c1.groups_alloc - c0.groups_alloc, 1);
	ASSERT_EQ(c1.groups_aborted - c0.groups_aborted, 1);
	ASSERT_EQ(c1.groups_responded - c0.groups_responded, 1);
	ASSERT_EQ(c1.groups_freed - c0.groups_freed, 1);
	/* a fault the device recovers from is no DMA-remapping fault */
	ASSERT_EQ(vtd_fault_count(e.v.hw), 0);
	return env_teardown(&e);
}

TEST(iopf_detach_flushes_queued_work_and_answers_pending_groups)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct vtdm_prg_resp r0, r1, r2;
	struct pri_env e;

	if (!env_setup(&e, H_SLOW, 0))
		return false;
	/* group 1: its work sleeps 100 ms before it answers */
	ASSERT_EQ(report(&e, 0x1000, 1, true), 0);
	/* group 2: the handler keeps it, unanswered */
	e.mode = H_HOLD;
	ASSERT_EQ(report(&e, 0x2000, 2, true), 0);
	/* group 3: never complete */
	ASSERT_EQ(report(&e, 0x3000, 3, false), 0);
	ASSERT_EQ(env_get(&e, &e.slow_done), 0);

	kt_iopf_dev_detach(&e.dev);
	e.iopf_attached = false;
	e.held = NULL;			/* the detach answered and freed it */
	c1 = kt_iopf_stats();
	/* the work ran before the detach returned */
	ASSERT_EQ(env_get(&e, &e.slow_done), 1);
	ASSERT_EQ(c1.works_run - c0.works_run, 1);
	ASSERT_EQ(c1.detach_responses - c0.detach_responses, 1);
	ASSERT_EQ(c1.partial_discarded - c0.partial_discarded, 1);
	ASSERT_EQ(c1.groups_alloc - c0.groups_alloc, 2);
	ASSERT_EQ(c1.groups_freed - c0.groups_freed, 2);
	ASSERT_EQ(c1.freed_unanswered - c0.freed_unanswered, 0);
	ASSERT_EQ(log_count(&e.log), 2);
	r0 = log_get(&e.log, 0);
	r1 = log_get(&e.log, 1);
	ASSERT_EQ(r0.prgi, 1);
	ASSERT_EQ(r0.code, VTDM_RESP_SUCCESS);
	ASSERT_EQ(r1.prgi, 2);
	ASSERT_EQ(r1.code, VTDM_RESP_INVALID);

	/* after the detach nothing reaches the handler: answered Invalid */
	ASSERT_EQ(report(&e, 0x4000, 4, true), -EINVAL);
	ASSERT_EQ(env_get(&e, &e.calls), 2);
	ASSERT_EQ(log_count(&e.log), 3);
	r2 = log_get(&e.log, 2);
	ASSERT_EQ(r2.prgi, 4);
	ASSERT_EQ(r2.code, VTDM_RESP_INVALID);
	/* let a later work of the queue not find the detached device */
	flush_workqueue(e.q->wq);
	ASSERT_EQ(env_get(&e, &e.slow_done), 1);
	return env_teardown(&e);
}

TEST(iopf_group_answered_twice_warns)
{
	struct pri_env e;
	long warns;

	if (!env_setup(&e, H_HOLD, 0))
		return false;
	ASSERT_EQ(report(&e, 0x5000, 9, true), 0);
	ASSERT_TRUE(e.held);
	iopf_group_response(e.held, IOMMU_PAGE_RESP_SUCCESS);
	warns = kt_warn_count();
	iopf_group_response(e.held, IOMMU_PAGE_RESP_SUCCESS);
	ASSERT_EQ(kt_warn_count() - warns, 1);
	kt_warn_consume(1);
	/* the second response still went out, as the kernel would send it */
	ASSERT_EQ(log_count(&e.log), 2);
	iopf_free_group(e.held);
	e.held = NULL;
	return env_teardown(&e);
}

TEST(iopf_without_a_handler_requests_are_answered_invalid)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct pri_env e;

	if (!env_setup(&e, H_HOLD, 0))
		return false;
	e.domain->iopf_handler = NULL;
	ASSERT_EQ(report(&e, 0x1000, 7, true), -EINVAL);
	/* as 6.12: even a request that is not the last of its group */
	ASSERT_EQ(report(&e, 0x2000, 8, false), -EINVAL);
	c1 = kt_iopf_stats();
	ASSERT_EQ(c1.no_handler - c0.no_handler, 2);
	ASSERT_EQ(c1.partial - c0.partial, 0);
	ASSERT_EQ(log_count(&e.log), 2);
	ASSERT_EQ(log_get(&e.log, 0).code, VTDM_RESP_INVALID);
	ASSERT_EQ(log_get(&e.log, 1).prgi, 8);
	ASSERT_EQ(env_get(&e, &e.calls), 0);
	return env_teardown(&e);
}

TEST(iopf_dma_pri_faults_once_per_page)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct kt_prq_stats p;
	static u8 buf[4 * 4096], back[4 * 4096];
	struct dma_dev *d;
	struct pri_env e;
	unsigned int i;
	u8 *ram;

	if (!env_setup(&e, H_MAP, 1))
		return false;
	d = &e.v.dev;
	ram = phys_va(e.v.pm, e.v.ram);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + 1);
	/* 4 pages, nothing mapped: one request per page, one group each */
	ASSERT_EQ(dma_write(d, IOVA, buf, sizeof(buf)), 0);
	ASSERT_EQ(memcmp(ram, buf, sizeof(buf)), 0);
	ASSERT_EQ(d->page_requests, 4);
	ASSERT_EQ(d->pri_groups, 4);
	ASSERT_EQ(d->pri_responses, 4);
	ASSERT_EQ(d->pri_retries, 4);
	ASSERT_EQ(d->pri_failures, 0);
	ASSERT_EQ(env_get(&e, &e.calls), 4);
	/* mapped now: no more requests */
	ASSERT_EQ(dma_read(d, IOVA, back, sizeof(back)), 0);
	ASSERT_EQ(memcmp(back, buf, sizeof(buf)), 0);
	ASSERT_EQ(d->page_requests, 4);
	/* the works free the groups after answering them */
	ASSERT_EQ(iopf_queue_flush_dev(&e.dev), 0);
	c1 = kt_iopf_stats();
	ASSERT_EQ(c1.groups_alloc - c0.groups_alloc, 4);
	ASSERT_EQ(c1.groups_responded - c0.groups_responded, 4);
	ASSERT_EQ(c1.groups_freed - c0.groups_freed, 4);
	ASSERT_EQ(c1.works_run - c0.works_run, 4);
	p = kt_intel_prq_stats(e.v.iommu);
	ASSERT_EQ(p.reported, 4);
	ASSERT_EQ(p.responses, 4);
	ASSERT_EQ(p.bad, 0);
	/* the handler ran in a kernel thread (the prq thread) */
	pthread_mutex_lock(&e.lock);
	ASSERT_TRUE(e.seen_in_kthread);
	ASSERT_TRUE(e.seen[0].perm & IOMMU_FAULT_PERM_WRITE);
	ASSERT_FALSE(e.seen[0].flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID);
	pthread_mutex_unlock(&e.lock);
	ASSERT_EQ(vtd_fault_count(e.v.hw), 0);
	ASSERT_EQ(vtd_stats(e.v.hw).ats_no_access, 4);
	ASSERT_EQ(vtd_stats(e.v.hw).prq_descs, 4);
	return env_teardown(&e);
}

TEST(iopf_dma_pri_write_to_a_read_only_page_asks_for_write)
{
	struct dma_dev *d;
	struct pri_env e;
	u64 word = 0;
	u8 *ram;

	if (!env_setup(&e, H_MAP, 1))
		return false;
	d = &e.v.dev;
	ram = phys_va(e.v.pm, e.v.ram);
	memset(ram + 0x2000, 0x77, 8);
	ASSERT_EQ(iommu_map(e.domain, IOVA + 0x2000, e.v.ram + 0x2000, PAGE_SIZE,
			    IOMMU_READ, GFP_KERNEL), 0);
	/* reading needs nothing */
	ASSERT_EQ(dma_read(d, IOVA + 0x2000, &word, sizeof(word)), 0);
	ASSERT_EQ(word, 0x7777777777777777ULL);
	ASSERT_EQ(d->page_requests, 0);
	/* writing asks for write access to the page */
	word = 0x0102030405060708ULL;
	ASSERT_EQ(dma_write(d, IOVA + 0x2000, &word, sizeof(word)), 0);
	ASSERT_EQ(d->page_requests, 1);
	ASSERT_EQ(d->pri_retries, 1);
	ASSERT_EQ(*(u64 *)(ram + 0x2000), 0x0102030405060708ULL);
	pthread_mutex_lock(&e.lock);
	ASSERT_EQ(e.seen[0].addr, IOVA + 0x2000);
	ASSERT_EQ(e.seen[0].perm, IOMMU_FAULT_PERM_WRITE);
	pthread_mutex_unlock(&e.lock);
	ASSERT_EQ(vtd_fault_count(e.v.hw), 0);
	return env_teardown(&e);
}

TEST(iopf_dma_pri_group_of_pages_is_one_response)
{
	static u8 buf[5 * 4096];
	struct dma_dev *d;
	struct pri_env e;
	unsigned int i;

	if (!env_setup(&e, H_MAP, 4))
		return false;
	d = &e.v.dev;
	memset(buf, 0x3c, sizeof(buf));
	/* 5 pages: a group of 4 (LPIG on the 4th), then a group of 1 */
	ASSERT_EQ(dma_write(d, IOVA + 0x1000, buf, sizeof(buf)), 0);
	ASSERT_EQ(d->page_requests, 5);
	ASSERT_EQ(d->pri_groups, 2);
	ASSERT_EQ(d->pri_responses, 2);
	ASSERT_EQ(d->pri_retries, 2);
	ASSERT_EQ(env_get(&e, &e.calls), 2);
	pthread_mutex_lock(&e.lock);
	ASSERT_EQ(e.seen_count, 1);		/* the last group */
	pthread_mutex_unlock(&e.lock);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(iommu_iova_to_phys(e.domain, IOVA + 0x1000 + i * 4096),
			  e.v.ram + 0x1000 + i * 4096);
	return env_teardown(&e);
}

TEST(iopf_dma_pri_invalid_response_fails_the_transfer)
{
	struct dma_dev *d;
	struct pri_env e;
	u64 word = 0x1234;
	u8 *ram;

	if (!env_setup(&e, H_ANSWER, 1))
		return false;
	e.code = IOMMU_PAGE_RESP_INVALID;
	d = &e.v.dev;
	ram = phys_va(e.v.pm, e.v.ram);
	memset(ram, 0, 4096);
	ASSERT_EQ(dma_write(d, IOVA + 8, &word, sizeof(word)), -EFAULT);
	ASSERT_EQ(d->page_requests, 1);
	ASSERT_EQ(d->pri_responses, 1);
	ASSERT_EQ(d->pri_failures, 1);
	ASSERT_EQ(d->last_pri_code, VTDM_RESP_INVALID);
	ASSERT_EQ(d->pri_retries, 0);
	ASSERT_EQ(*(u64 *)(ram + 8), 0);
	ASSERT_EQ(vtd_fault_count(e.v.hw), 0);
	/* Success without a mapping: the device retries, and gives up */
	e.code = IOMMU_PAGE_RESP_SUCCESS;
	d->pri_max_retries = 3;
	ASSERT_EQ(dma_write(d, IOVA + 8, &word, sizeof(word)), -EFAULT);
	ASSERT_EQ(d->page_requests, 4);
	ASSERT_EQ(d->pri_retries, 3);
	ASSERT_EQ(d->pri_gave_up, 1);
	return env_teardown(&e);
}

TEST(iopf_workqueue_runs_in_order_and_flushes)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct pri_env e;

	if (!env_setup(&e, H_SLOW, 0))
		return false;
	/* three groups, each answered by a slow work, in queueing order */
	ASSERT_EQ(report(&e, 0x1000, 1, true), 0);
	ASSERT_EQ(report(&e, 0x2000, 2, true), 0);
	ASSERT_EQ(report(&e, 0x3000, 3, true), 0);
	ASSERT_LT(env_get(&e, &e.slow_done), 3);
	ASSERT_EQ(iopf_queue_flush_dev(&e.dev), 0);
	ASSERT_EQ(env_get(&e, &e.slow_done), 3);
	c1 = kt_iopf_stats();
	ASSERT_EQ(c1.works_run - c0.works_run, 3);
	ASSERT_EQ(log_count(&e.log), 3);
	ASSERT_EQ(log_get(&e.log, 0).prgi, 1);
	ASSERT_EQ(log_get(&e.log, 1).prgi, 2);
	ASSERT_EQ(log_get(&e.log, 2).prgi, 3);
	return env_teardown(&e);
}

/* Works that log their id; the first one waits at a gate. */
struct gate_work {
	struct work_struct work;
	unsigned int id;
	struct gate *gate;
};

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	unsigned int log[8], n;
	bool kthread;
};

static void gate_work_fn(struct work_struct *work)
{
	struct gate_work *w = container_of(work, struct gate_work, work);
	struct gate *g = w->gate;

	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	if (g->n < ARRAY_SIZE(g->log))
		g->log[g->n] = w->id;
	g->n++;
	g->kthread = !current->mm;	/* a worker is a kernel thread */
	pthread_mutex_unlock(&g->lock);
}

TEST(iopf_workqueue_queues_a_pending_work_once)
{
	struct iopf_queue *q = kt_iopf_queue_alloc("kt-wq-test");
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct gate g = { .lock = PTHREAD_MUTEX_INITIALIZER,
			  .cond = PTHREAD_COND_INITIALIZER };
	struct gate_work w[3];
	unsigned int i;

	ASSERT_TRUE(q);
	for (i = 0; i < 3; i++) {
		INIT_WORK(&w[i].work, gate_work_fn);
		w[i].id = i + 1;
		w[i].gate = &g;
	}
	/* the worker waits at the gate in w[0]: w[1] and w[2] stay pending */
	ASSERT_TRUE(queue_work(q->wq, &w[0].work));
	ASSERT_TRUE(queue_work(q->wq, &w[1].work));
	ASSERT_TRUE(queue_work(q->wq, &w[2].work));
	ASSERT_FALSE(queue_work(q->wq, &w[2].work));
	ASSERT_FALSE(queue_work(q->wq, &w[1].work));
	pthread_mutex_lock(&g.lock);
	g.open = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	flush_workqueue(q->wq);
	c1 = kt_iopf_stats();
	pthread_mutex_lock(&g.lock);
	ASSERT_EQ(g.n, 3);
	ASSERT_EQ(g.log[0], 1);
	ASSERT_EQ(g.log[1], 2);
	ASSERT_EQ(g.log[2], 3);
	ASSERT_TRUE(g.kthread);
	pthread_mutex_unlock(&g.lock);
	ASSERT_EQ(c1.works_run - c0.works_run, 3);
	/* once it ran, it can be queued again */
	ASSERT_TRUE(queue_work(q->wq, &w[0].work));
	flush_workqueue(q->wq);
	pthread_mutex_lock(&g.lock);
	ASSERT_EQ(g.n, 4);
	ASSERT_EQ(g.log[3], 1);
	pthread_mutex_unlock(&g.lock);
	kt_iopf_queue_free(q);
	return true;
}

TEST(iopf_prq_overflow_is_drained_and_cleared)
{
	struct kt_iopf_counters c0 = kt_iopf_stats(), c1;
	struct vtdm_page_req r = { .sid = KT_SID, .pasid = VTDM_NO_PASID, .read = true };
	struct kt_prq_stats p;
	struct pri_env e;
	unsigned int i, n, full = 0, overflow = 0;
	int waited;

	if (!env_setup(&e, H_BLOCK, 0))
		return false;
	/* group 1 blocks the prq thread in the handler */
	r.addr = 0x1000;
	r.prgi = 1;
	r.lpig = true;
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_QUEUED);
	for (waited = 0; env_get(&e, &e.calls) == 0 && waited < 5000; waited++)
		usleep(1000);
	ASSERT_EQ(env_get(&e, &e.calls), 1);
	/* group 2: more requests than the queue holds, then its last one */
	r.prgi = 2;
	r.lpig = false;
	for (i = 0; i < 130; i++) {
		enum vtdm_prq_result res;

		r.addr = 0x100000 + i * 4096ULL;
		res = vtd_page_request(e.v.hw, &r);
		full += res == VTDM_PRQ_FULL;
		overflow += res == VTDM_PRQ_OVERFLOW;
	}
	ASSERT_EQ(full, 1);
	ASSERT_EQ(overflow, 130 - 127);	/* one slot held group 1, 126 queued */
	r.lpig = true;
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_OVERFLOW);
	/* the unit answered group 2 itself */
	ASSERT_EQ(log_count(&e.log), 1);
	ASSERT_EQ(log_get(&e.log, 0).prgi, 2);
	ASSERT_TRUE(log_get(&e.log, 0).automatic);
	ASSERT_TRUE(vtd_get_prs(e.v.hw) & VTDM_PRS_PRO);

	/* let it go: the thread reads the 126, then clears the overflow */
	pthread_mutex_lock(&e.lock);
	e.released = true;
	pthread_cond_broadcast(&e.cond);
	pthread_mutex_unlock(&e.lock);
	for (waited = 0; kt_intel_prq_stats(e.v.iommu).overflows == 0 && waited < 5000; waited++)
		usleep(1000);
	p = kt_intel_prq_stats(e.v.iommu);
	ASSERT_EQ(p.overflows, 1);
	ASSERT_EQ(p.reported, 127);
	ASSERT_FALSE(vtd_get_prs(e.v.hw) & VTDM_PRS_PRO);
	c1 = kt_iopf_stats();
	/* group 2's partial faults lost their last one: discarded */
	ASSERT_EQ(c1.partial - c0.partial, 126);
	ASSERT_EQ(c1.partial_discarded - c0.partial_discarded, 126);
	n = log_count(&e.log);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(log_get(&e.log, 1).prgi, 1);
	ASSERT_FALSE(log_get(&e.log, 1).automatic);
	/* the queue works again */
	r.prgi = 3;
	r.addr = 0x5000;
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_QUEUED);
	for (waited = 0; log_count(&e.log) < 3 && waited < 5000; waited++)
		usleep(1000);
	ASSERT_EQ(log_count(&e.log), 3);
	ASSERT_EQ(log_get(&e.log, 2).prgi, 3);
	return env_teardown(&e);
}

TEST(iopf_prq_thread_answers_what_it_cannot_route)
{
	struct vtdm_page_req r = {
		.sid = KT_SID, .pasid = VTDM_NO_PASID, .addr = 0x6000, .read = true,
		.lpig = true, .prgi = 0x44,
	};
	struct kt_prq_stats p;
	struct pri_env e;
	int waited;

	if (!env_setup(&e, H_HOLD, 0))
		return false;
	/* a stop marker (LPIG, neither read nor write) is dropped unanswered */
	r.read = false;
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_QUEUED);
	/* a requester the driver does not know: answered Invalid by the driver */
	kt_intel_prq_unregister_dev(e.v.iommu, &e.dev);
	r.read = true;
	r.lpig = false;
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_QUEUED);
	r.lpig = true;
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_QUEUED);
	for (waited = 0; log_count(&e.log) < 1 && waited < 5000; waited++)
		usleep(1000);
	ASSERT_EQ(log_count(&e.log), 1);
	ASSERT_EQ(log_get(&e.log, 0).prgi, 0x44);
	ASSERT_EQ(log_get(&e.log, 0).code, VTDM_RESP_INVALID);
	ASSERT_FALSE(log_get(&e.log, 0).automatic);
	p = kt_intel_prq_stats(e.v.iommu);
	ASSERT_EQ(p.stop_markers, 1);
	ASSERT_EQ(p.bad, 2);		/* both requests of the group... */
	ASSERT_EQ(p.responses, 1);	/* ...but only the last one answered */
	ASSERT_EQ(p.reported, 0);
	ASSERT_EQ(env_get(&e, &e.calls), 0);
	/* registered again, its requests reach the handler */
	ASSERT_EQ(kt_intel_prq_register_dev(e.v.iommu, &e.dev), 0);
	ASSERT_EQ(vtd_page_request(e.v.hw, &r), VTDM_PRQ_QUEUED);
	for (waited = 0; env_get(&e, &e.calls) < 1 && waited < 5000; waited++)
		usleep(1000);
	ASSERT_EQ(env_get(&e, &e.calls), 1);
	pthread_mutex_lock(&e.lock);
	ASSERT_TRUE(e.held);
	ASSERT_EQ(e.seen[0].grpid, 0x44);
	ASSERT_EQ(e.seen[0].perm, IOMMU_FAULT_PERM_READ);
	ASSERT_EQ(e.seen[0].flags, IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	pthread_mutex_unlock(&e.lock);
	/* the detach answers the held group */
	kt_iopf_dev_detach(&e.dev);
	e.iopf_attached = false;
	e.held = NULL;
	ASSERT_EQ(log_count(&e.log), 2);
	ASSERT_EQ(log_get(&e.log, 1).code, VTDM_RESP_INVALID);
	return env_teardown(&e);
}
