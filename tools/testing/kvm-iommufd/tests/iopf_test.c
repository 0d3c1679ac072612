// SPDX-License-Identifier: GPL-2.0
/*
 * IO page faults resolved by KVM: a device with ATS and PRI behind a VT-d
 * unit with page requests, attached SHARED with a fault queue (zero pin).
 * Its page requests go the whole way: the unit writes them into its page
 * request queue, the driver stand-in's thread reads them and reports them
 * to the IOMMU core stand-in, which hands each group to the product's
 * handler; the handler's work asks KVM to map the GPAs and answers the
 * group through the unit's invalidation queue, and the device retries.
 * What is counted: the device's page requests and responses, the core's
 * counters, the trace events as they fired, KVM's mappings and huge
 * faults, and every pin there is (the core's, the KVM model's, RLIMIT
 * charges).
 */
#include <stdio.h>

#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include "../standin/fault.h"
#include "../standin/intel_kvm_domain.h"
#include "../standin/iopf.h"
#include "../harness/hwpt.h"
#include <linux/kvm_iommufd.h>
#include <linux/tracepoint.h>
#include "fixture.h"
#include <uapi/linux/iommufd_kvm.h>

#define RAM		(16ULL << 20)
#define SID		0x0018		/* 00:03.0 */
#define SID_B		0x0020		/* 00:04.0, cannot fault */
#define HOLE_GPA	(1ULL << 30)	/* no memslot: emulated MMIO */

struct kt_iopf {
	struct phys *pm;
	struct vtd *hw;
	struct intel_iommu *iommu;
	struct iopf_queue *iopfq;
	struct kvm *kvm;
	bool vm_destroyed;
	struct device dev, dev_b;
	struct dma_dev dma, dma_b;
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct iommufd_fault fault;
	struct kt_kvm_hwpt hwpt, hwpt_b;
};

/* Event counts at a point in time, to compare with the core's counters. */
struct ev_snap {
	unsigned long begin, faultin, end, attach, detach, pin, unpin;
};

static struct ev_snap ev_snap(void)
{
	return (struct ev_snap) {
		.begin = kt_trace_count("kvm_iommu_iopf_begin"),
		.faultin = kt_trace_count("kvm_iommu_kvm_faultin"),
		.end = kt_trace_count("kvm_iommu_iopf_end"),
		.attach = kt_trace_count("kvm_iommu_attach"),
		.detach = kt_trace_count("kvm_iommu_detach"),
		.pin = kt_trace_count("kvm_iommu_pin"),
		.unpin = kt_trace_count("kvm_iommu_unpin"),
	};
}

static struct kvm_iommu_stats stats(struct kt_iopf *t)
{
	struct kvm_iommu_stats st;

	kvm_iommu_get_stats(t->kio, &st);
	return st;
}

/*
 * A VM with one memslot of RAM the guest never touched (@slot_flags:
 * KVM_MODEL_SLOT_*), a KVM-sourced IOAS, and the device attached SHARED
 * with a fault queue.
 */
static bool setup(struct kt_iopf *t, unsigned int slot_flags, unsigned int group_pages)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 2,
	};

	memset(t, 0, sizeof(*t));
	t->pm = phys_create(1ULL << 31);
	ASSERT_TRUE(t->pm);
	t->hw = vtd_create(t->pm, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI);
	ASSERT_TRUE(t->hw);
	t->iommu = kt_intel_iommu_create(t->pm, t->hw, 0);
	ASSERT_TRUE(t->iommu);
	ASSERT_EQ(kt_intel_prq_enable(t->iommu), 0);
	t->iopfq = kt_iopf_queue_alloc("iopf");
	ASSERT_TRUE(t->iopfq);
	kt_intel_probe_device(&t->dev, t->iommu, SID);
	dma_dev_init(&t->dma, t->hw, SID);
	ASSERT_EQ(dma_dev_enable_pri(&t->dma, group_pages), 0);
	kt_intel_probe_device(&t->dev_b, t->iommu, SID_B);
	dma_dev_init(&t->dma_b, t->hw, SID_B);
	kt_fault_init(&t->fault);

	t->kvm = kvm_model_create(t->pm, &c, &t->vm_destroyed);
	ASSERT_TRUE(t->kvm);
	ASSERT_EQ(kvm_model_set_slot_flags(t->kvm, 0, 0, RAM, slot_flags), 0);
	t->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&t->iopt);
	t->kio = kvm_iommu_ioas_alloc(t->kvm->fd, &t->ictx, &t->iopt);
	ASSERT_FALSE(IS_ERR(t->kio));
	/* KVM builds its root with the first vCPU */
	ASSERT_EQ(kvm_model_fault(t->kvm, RAM - PAGE_SIZE, false), 0);
	ASSERT_EQ(kt_kvm_hwpt_attach_fault(&t->hwpt, t->kio, &t->iopt, &t->dev,
					   KVM_IOMMU_POLICY_AUTO, &t->fault, t->iopfq), 0);
	ASSERT_EQ(t->hwpt.mode, IOMMU_KVM_MODE_SHARED);
	return true;
}

static bool teardown(struct kt_iopf *t)
{
	long left;

	kt_kvm_hwpt_detach(&t->hwpt);
	kt_kvm_hwpt_detach(&t->hwpt_b);
	kt_fault_destroy(&t->fault);
	kvm_iommu_ioas_free(t->kio);
	iopt_unmap_all(&t->iopt, NULL);
	iopt_destroy_table(&t->iopt);
	kvm_model_close(t->kvm);
	ASSERT_TRUE(t->vm_destroyed);
	ASSERT_EQ(t->dma.pri_unexpected, 0);
	ASSERT_EQ(t->dma.pri_timeouts, 0);
	ASSERT_EQ(t->dma.bad_pages, 0);
	dma_dev_disable_pri(&t->dma);
	kt_iopf_queue_free(t->iopfq);
	kt_intel_prq_disable(t->iommu);
	kt_intel_iommu_destroy(t->iommu);
	vtd_destroy(t->hw);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	left = phys_allocated(t->pm);
	phys_destroy(t->pm);
	ASSERT_EQ(left, 0);
	return true;
}

/* Nothing is pinned anywhere: the core, the KVM model's pages, the charges. */
static bool nothing_pinned(struct kt_iopf *t)
{
	ASSERT_EQ(stats(t).pinned_pages, 0);
	ASSERT_EQ(kvm_model_pinned(t->kvm), 0);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	ASSERT_EQ(kt_iopt_npinned(&t->iopt), 0);
	return true;
}

/* Scattered distinct 4 KiB GPAs, one per 2 MiB region and page offset. */
static u64 nth_gpa(unsigned int i)
{
	return ((u64)(i % 8) << 21) + ((u64)(i * 37 % 512) << 12) + (i & 0xff);
}

TEST(iopf_n_pages_n_faults_nothing_pinned)
{
	enum { N = 37 };
	struct kt_iopf t;
	struct kvm_iommu_stats st;
	struct ev_snap e0, e1;
	unsigned int i;
	u64 hpa, word;
	bool writable;

	if (!setup(&t, 0, 1))
		return false;
	ASSERT_TRUE(nothing_pinned(&t));
	ASSERT_EQ(kvm_model_backed(t.kvm), 1);	/* the vCPU's page only */
	ASSERT_EQ(t.kvm->export_map_reads + t.kvm->export_map_writes, 0);
	e0 = ev_snap();
	for (i = 0; i < N; i++) {
		word = 0x5a5a0000ULL + i;
		ASSERT_EQ(dma_write(&t.dma, nth_gpa(i), &word, sizeof(word)), 0);
	}
	/* again: every page is mapped now, no new fault */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(dma_read(&t.dma, nth_gpa(i), &word, sizeof(word)), 0);
		ASSERT_EQ(word, 0x5a5a0000ULL + i);
	}
	e1 = ev_snap();
	st = stats(&t);
	ASSERT_EQ(t.dma.page_requests, N);
	ASSERT_EQ(t.dma.pri_groups, N);
	ASSERT_EQ(t.dma.pri_responses, N);
	ASSERT_EQ(t.dma.pri_failures, 0);
	ASSERT_EQ(st.iopf_groups, N);
	ASSERT_EQ(st.iopf_faults, N);
	ASSERT_EQ(st.faultins, N);
	ASSERT_EQ(st.iopf_failed, 0);
	ASSERT_EQ(e1.begin - e0.begin, N);
	ASSERT_EQ(e1.faultin - e0.faultin, N);
	ASSERT_EQ(e1.end - e0.end, N);
	for (i = 0; i < N; i++) {
		/* the guest sees the bytes; KVM mapped the page writable */
		ASSERT_EQ(kvm_model_guest_read(t.kvm, nth_gpa(i), &word, sizeof(word)), 0);
		ASSERT_EQ(word, 0x5a5a0000ULL + i);
		ASSERT_TRUE(kvm_model_translate(t.kvm, nth_gpa(i), &hpa, &writable));
		ASSERT_TRUE(writable);
	}
	ASSERT_EQ(kvm_model_backed(t.kvm), N + 1);
	/* each write asked KVM for a writable mapping; a read asks for a readable one */
	ASSERT_EQ(t.kvm->export_map_writes, N);
	ASSERT_EQ(t.kvm->export_map_reads, 0);
	ASSERT_EQ(dma_read(&t.dma, 0xa00000, &word, sizeof(word)), 0);
	ASSERT_EQ(t.kvm->export_map_reads, 1);
	ASSERT_EQ(t.kvm->export_map_writes, N);
	ASSERT_TRUE(nothing_pinned(&t));
	ASSERT_EQ(kt_fault_queued(&t.fault), 0);
	return teardown(&t);
}

TEST(iopf_huge_backed_memory_faults_once_per_2m)
{
	struct kt_iopf t;
	struct ev_snap e0, e1;
	u64 gpa, huge0;
	u8 b = 0xa5;

	if (!setup(&t, KVM_MODEL_SLOT_HUGE, 1))
		return false;
	huge0 = t.kvm->huge_faults;
	e0 = ev_snap();
	/* a byte in every 4 KiB page of 8 MiB */
	for (gpa = 0; gpa < (8ULL << 20); gpa += PAGE_SIZE)
		ASSERT_EQ(dma_write(&t.dma, gpa + 11, &b, 1), 0);
	e1 = ev_snap();
	ASSERT_EQ(t.dma.page_requests, 4);
	ASSERT_EQ(stats(&t).faultins, 4);
	ASSERT_EQ(e1.faultin - e0.faultin, 4);
	ASSERT_EQ(t.kvm->huge_faults - huge0, 4);
	ASSERT_TRUE(nothing_pinned(&t));
	return teardown(&t);
}

/* A write the handler cannot resolve: failure response, fault-queue event. */
static bool refused(struct kt_iopf *t, u64 gpa, unsigned int nth)
{
	struct kt_pgfault rec[4];
	u64 word = 1;

	ASSERT_EQ(dma_write(&t->dma, gpa, &word, sizeof(word)), -EFAULT);
	ASSERT_EQ(t->dma.pri_failures, nth);
	ASSERT_EQ(t->dma.last_pri_code, 1);		/* Invalid Request */
	ASSERT_EQ(stats(t).iopf_failed, nth);
	ASSERT_EQ(stats(t).faultin_errors, nth);
	ASSERT_TRUE(kt_fault_wait(&t->fault, nth, 5000));
	ASSERT_EQ(kt_fault_read(&t->fault, rec, ARRAY_SIZE(rec)), 1);
	ASSERT_EQ(rec[0].addr, gpa & PAGE_MASK);
	ASSERT_EQ(rec[0].dev_sid, SID);
	ASSERT_TRUE(rec[0].perm & IOMMU_FAULT_PERM_WRITE);
	ASSERT_TRUE(rec[0].flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
	ASSERT_TRUE(rec[0].flags & IOMMU_PGFAULT_FLAGS_ANSWERED);
	return true;
}

TEST(iopf_unresolvable_fault_fails_with_a_fault_queue_event)
{
	struct kt_iopf t;
	u64 word = 7;

	if (!setup(&t, 0, 1))
		return false;
	/* outside every memslot: emulated MMIO */
	if (!refused(&t, HOLE_GPA + 0x10, 1))
		return false;
	/* a GFN KVM write-tracks */
	ASSERT_EQ(kvm_model_write_track(t.kvm, 0x5000), 0);
	if (!refused(&t, 0x5008, 2))
		return false;
	/* reads of it still resolve (KVM maps it read-only) */
	ASSERT_EQ(dma_read(&t.dma, 0x5000, &word, sizeof(word)), 0);
	/* a slot the VMM made read-only */
	ASSERT_EQ(kvm_model_set_slot(t.kvm, 1, 64ULL << 20, 2ULL << 20, true), 0);
	if (!refused(&t, (64ULL << 20) + 0x3000, 3))
		return false;
	/* the device goes on: a good page still faults in */
	ASSERT_EQ(dma_write(&t.dma, 0x9000, &word, sizeof(word)), 0);
	ASSERT_EQ(stats(&t).iopf_failed, 3);
	ASSERT_EQ(kt_trace_count("kvm_iommu_iopf_end") >= 6, true);
	ASSERT_TRUE(nothing_pinned(&t));
	return teardown(&t);
}

TEST(iopf_page_group_is_answered_once)
{
	struct kt_iopf t;
	struct kt_iopf_counters c0, c1;
	static u8 buf[4 * 4096];
	unsigned int i;

	if (!setup(&t, 0, 4))
		return false;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 13);
	c0 = kt_iopf_stats();
	/* 4 pages: one group of 4 requests, LPIG on the last */
	ASSERT_EQ(dma_write(&t.dma, 0x400000, buf, sizeof(buf)), 0);
	ASSERT_EQ(iopf_queue_flush_dev(&t.dev), 0);	/* the work has freed it */
	c1 = kt_iopf_stats();
	ASSERT_EQ(t.dma.page_requests, 4);
	ASSERT_EQ(t.dma.pri_groups, 1);
	ASSERT_EQ(t.dma.pri_responses, 1);
	ASSERT_EQ(stats(&t).iopf_groups, 1);
	ASSERT_EQ(stats(&t).iopf_faults, 4);
	ASSERT_EQ(stats(&t).faultins, 4);
	ASSERT_EQ(c1.groups_alloc - c0.groups_alloc, 1);
	ASSERT_EQ(c1.groups_responded - c0.groups_responded, 1);
	ASSERT_EQ(c1.groups_freed - c0.groups_freed, 1);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(kvm_model_guest_read(t.kvm, 0x400000, buf, sizeof(buf)), 0);
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(buf[i], (u8)(i * 13));
	/* a group with a refused page is answered once too, and not mapped on */
	ASSERT_EQ(dma_write(&t.dma, RAM - 2 * PAGE_SIZE, buf, sizeof(buf)), -EFAULT);
	ASSERT_EQ(t.dma.pri_groups, 2);
	ASSERT_EQ(t.dma.pri_responses, 2);
	ASSERT_EQ(stats(&t).iopf_failed, 1);
	return teardown(&t);
}

/*
 * The device sees its page mapped by the response, but KVM zaps it again
 * before the device retries: the retry misses and makes a new request.
 */
static void zap_before_retry(struct dma_dev *d, u64 iova, void *arg)
{
	struct kt_iopf *t = arg;
	static int left;

	if (__atomic_fetch_add(&left, 1, __ATOMIC_SEQ_CST) < 3)
		kvm_model_zap(t->kvm, iova >> PAGE_SHIFT, (iova >> PAGE_SHIFT) + 1, false);
}

TEST(iopf_fault_racing_an_invalidation_retries)
{
	struct kt_iopf t;
	u64 word = 0xfeed;

	if (!setup(&t, 0, 1))
		return false;
	t.dma.pri_before_retry = zap_before_retry;
	t.dma.pri_before_retry_arg = &t;
	ASSERT_EQ(dma_write(&t.dma, 0x7000, &word, sizeof(word)), 0);
	t.dma.pri_before_retry = NULL;
	/* three zaps between response and retry: four requests in all */
	ASSERT_EQ(t.dma.page_requests, 4);
	ASSERT_EQ(t.dma.pri_retries, 4);
	ASSERT_EQ(stats(&t).faultins, 4);
	word = 0;
	ASSERT_EQ(kvm_model_guest_read(t.kvm, 0x7000, &word, sizeof(word)), 0);
	ASSERT_EQ(word, 0xfeed);
	return teardown(&t);
}

/* Faults on a device that can fault while another one needs everything pinned. */
TEST(iopf_pins_only_for_devices_that_cannot_fault)
{
	struct kt_iopf t;
	u64 word = 3;

	if (!setup(&t, 0, 1))
		return false;
	ASSERT_TRUE(nothing_pinned(&t));
	ASSERT_EQ(kt_kvm_hwpt_attach(&t.hwpt_b, t.kio, &t.iopt, &t.dev_b,
				     KVM_IOMMU_POLICY_AUTO), 0);
	ASSERT_EQ(t.hwpt_b.mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_EQ(stats(&t).pinned_pages, RAM >> PAGE_SHIFT);
	ASSERT_EQ(kvm_model_pinned(t.kvm), RAM >> PAGE_SHIFT);
	/* everything is present now: the faulting device needs no request */
	ASSERT_EQ(dma_write(&t.dma, 0x3000, &word, sizeof(word)), 0);
	ASSERT_EQ(t.dma.page_requests, 0);
	kt_kvm_hwpt_detach(&t.hwpt_b);
	ASSERT_TRUE(nothing_pinned(&t));
	ASSERT_EQ(stats(&t).shared_domains, 1);
	ASSERT_EQ(stats(&t).fault_domains, 1);
	/* the IOAS is still registered with KVM: a discard still reaches it */
	kvm_model_discard(t.kvm, 0x3000, PAGE_SIZE);
	ASSERT_EQ(dma_write(&t.dma, 0x3000, &word, sizeof(word)), 0);
	ASSERT_EQ(t.dma.page_requests, 1);
	/* the faulting device goes first this time: B still gets its pins */
	kt_kvm_hwpt_detach(&t.hwpt);
	ASSERT_EQ(stats(&t).shared_domains, 0);
	ASSERT_EQ(kt_kvm_hwpt_attach(&t.hwpt_b, t.kio, &t.iopt, &t.dev_b,
				     KVM_IOMMU_POLICY_AUTO), 0);
	ASSERT_EQ(stats(&t).pinned_pages, RAM >> PAGE_SHIFT);
	kt_kvm_hwpt_detach(&t.hwpt_b);
	ASSERT_TRUE(nothing_pinned(&t));
	return teardown(&t);
}

/* The VMM is exiting: the handler cannot borrow its mm and answers Invalid. */
TEST(iopf_after_the_vmm_exited_fails)
{
	struct kt_iopf t;
	u64 word = 3;

	if (!setup(&t, 0, 1))
		return false;
	__atomic_store_n(&kt_mm.exited, true, __ATOMIC_RELEASE);
	ASSERT_EQ(dma_write(&t.dma, 0x3000, &word, sizeof(word)), -EFAULT);
	__atomic_store_n(&kt_mm.exited, false, __ATOMIC_RELEASE);
	ASSERT_EQ(stats(&t).iopf_failed, 1);
	ASSERT_EQ(stats(&t).faultins, 0);
	ASSERT_TRUE(kt_fault_wait(&t.fault, 1, 5000));
	ASSERT_EQ(kt_fault_queued(&t.fault), 1);
	return teardown(&t);
}

/* Allocation failures in the attach of a device that can fault leave nothing. */
TEST(iopf_attach_fail_nth)
{
	struct kt_iopf t;
	int nth, failed = 0;
	u64 word = 5;

	if (!setup(&t, 0, 1))
		return false;
	kt_kvm_hwpt_detach(&t.hwpt);
	for (nth = 1; nth < 200; nth++) {
		long live = kt_alloc_live();
		bool injected;
		int ret;

		kt_fail_nth_set(nth);
		ret = kt_kvm_hwpt_attach_fault(&t.hwpt, t.kio, &t.iopt, &t.dev,
					       KVM_IOMMU_POLICY_AUTO, &t.fault, t.iopfq);
		injected = kt_fault_injected();
		kt_fail_nth_set(0);
		if (!injected) {
			ASSERT_EQ(ret, 0);
			break;
		}
		failed++;
		ASSERT_EQ(ret, -ENOMEM);
		ASSERT_EQ(kt_alloc_live(), live);
		ASSERT_EQ(stats(&t).shared_domains, 0);
		ASSERT_EQ(stats(&t).attached, 0);
		ASSERT_TRUE(nothing_pinned(&t));
	}
	printf("#   %d fault points swept in the attach of a device that can fault\n",
	       failed);
	ASSERT_GE(failed, 3);
	/* the last attach succeeded: the device faults its way in */
	ASSERT_EQ(dma_write(&t.dma, 0x3000, &word, sizeof(word)), 0);
	ASSERT_EQ(t.dma.page_requests, 1);
	return teardown(&t);
}

/*
 * Threads: the device writes and reads back 64 pages over and over while
 * another thread zaps, discards and write-protects them.  Every transfer
 * completes through page requests, every byte the device wrote is there
 * when it reads it back (a discard gives it a fresh page: the device
 * writes first), and no access goes through a stale translation.
 */
struct churn {
	struct kt_iopf *t;
	bool stop;
	unsigned long changes;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = 1;

	rcu_register_thread();
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		u64 gfn = 0x100 + rand_r(&seed) % 64;

		switch (rand_r(&seed) % 3) {
		case 0:
			kvm_model_zap(c->t->kvm, gfn, gfn + 1, false);
			break;
		case 1:
			kvm_model_wrprot(c->t->kvm, gfn, gfn + 1);
			break;
		default:
			kvm_model_discard(c->t->kvm, gfn << PAGE_SHIFT, PAGE_SIZE);
			break;
		}
		c->changes++;
	}
	rcu_unregister_thread();
	return NULL;
}

TEST(iopf_dma_against_zaps_and_discards)
{
	struct kt_iopf t;
	struct churn c = { .t = &t };
	struct vtdm_stats vs;
	pthread_t th;
	unsigned int round, i;
	u64 w, r;

	if (!setup(&t, 0, 1))
		return false;
	ASSERT_EQ(pthread_create(&th, NULL, churn_thread, &c), 0);
	for (round = 0; round < 40; round++) {
		for (i = 0; i < 64; i++) {
			u64 gpa = ((0x100ULL + i) << PAGE_SHIFT) + 8 * (round % 64);

			w = ((u64)round << 32) | i;
			ASSERT_EQ(dma_write(&t.dma, gpa, &w, sizeof(w)), 0);
			ASSERT_EQ(dma_read(&t.dma, gpa, &r, sizeof(r)), 0);
			/* a discard between the two reads a fresh zero page */
			ASSERT_TRUE(r == w || r == 0);
		}
	}
	__atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	vs = vtd_stats(t.hw);
	printf("#   %llu page requests, %lu KVM changes, %llu retries\n",
	       (unsigned long long)t.dma.page_requests, c.changes,
	       (unsigned long long)t.dma.pri_retries);
	ASSERT_GT(c.changes, 0);
	ASSERT_GE(t.dma.page_requests, 64);
	ASSERT_EQ(t.dma.pri_failures, 0);
	ASSERT_EQ(vs.stale_iotlb + vs.stale_psc + vs.freed_table_reads, 0);
	ASSERT_TRUE(nothing_pinned(&t));
	return teardown(&t);
}
