// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging with devices on a KVM-sourced IOAS (DOC: Dirty logging and
 * migration in include/uapi/linux/iommufd_kvm.h): while a memslot logs,
 * every page a device may have written since the last harvest is reported
 * by KVM's own harvest (the model's KVM_GET_DIRTY_LOG and
 * KVM_CLEAR_DIRTY_LOG, which call the core's ->log_dirty() as patch 0008
 * makes KVM do), and a device that cannot fault never has a write blocked
 * by logging.  Each mode is taken through it:
 * - PINNED and SHARED without faults on NPT: every page they can write is
 *   reported at every harvest (IOMMU_KVM_DIRTY_ALL);
 * - SHARED with faults on NPT: writes fault, KVM logs each page it maps
 *   writable (IOMMU_KVM_DIRTY_FAULTS);
 * - SHARED with faults on EPT with PML behind a unit with second-stage A/D:
 *   the unit marks KVM's entries dirty and KVM reports exactly those pages
 *   (IOMMU_KVM_DIRTY_TABLE); without second-stage A/D, everything.
 * The migration tests copy a VM's memory round by round while a device and
 * a vCPU keep writing, then compare the copy with the memory byte for
 * byte, and print what the harvests reported against what was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
#define NPAGES		(RAM >> PAGE_SHIFT)
#define SID		0x0018		/* 00:03.0 */
#define SID_B		0x0020		/* 00:04.0 */
#define ECAP_SLADS	(1ULL << 45)	/* second-stage accessed/dirty */

enum dl_table { DL_NPT, DL_EPT_PML };

struct kt_dl {
	struct phys *pm;
	struct vtd *hw[2];
	struct intel_iommu *iommu[2];
	struct iopf_queue *iopfq;
	struct kvm *kvm;
	bool vm_destroyed;
	struct device dev[2];
	struct dma_dev dma[2];
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct iommufd_fault fault;
	struct kt_kvm_hwpt hwpt[2];
	unsigned long bm[BITS_TO_LONGS(NPAGES)];
};

/*
 * A VM with one slot of RAM (slot 0) in KVM's table format @table, and two
 * devices behind units with extended capabilities @ecap: device 0 can
 * fault (ATS and PRI) when @fault; device 1 cannot.  Nothing is attached.
 */
static bool setup(struct kt_dl *t, enum dl_table table, u64 ecap, bool fault)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 2,
		.ept = table == DL_EPT_PML, .ept_ad = table == DL_EPT_PML,
		.pml = table == DL_EPT_PML,
	};
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->pm = phys_create(1ULL << 31);
	ASSERT_TRUE(t->pm);
	for (i = 0; i < 2; i++) {
		t->hw[i] = vtd_create(t->pm, VTDM_QEMU_CAP_AW48,
				      i == 0 && fault ? ecap | VTDM_ECAP_SM_PRI : ecap);
		ASSERT_TRUE(t->hw[i]);
		t->iommu[i] = kt_intel_iommu_create(t->pm, t->hw[i], i);
		ASSERT_TRUE(t->iommu[i]);
		kt_intel_probe_device(&t->dev[i], t->iommu[i], i ? SID_B : SID);
		dma_dev_init(&t->dma[i], t->hw[i], i ? SID_B : SID);
	}
	if (fault) {
		ASSERT_EQ(kt_intel_prq_enable(t->iommu[0]), 0);
		t->iopfq = kt_iopf_queue_alloc("iopf");
		ASSERT_TRUE(t->iopfq);
		ASSERT_EQ(dma_dev_enable_pri(&t->dma[0], 1), 0);
	}
	kt_fault_init(&t->fault);
	t->kvm = kvm_model_create(t->pm, &c, &t->vm_destroyed);
	ASSERT_TRUE(t->kvm);
	ASSERT_EQ(kvm_model_set_slot(t->kvm, 0, 0, RAM, false), 0);
	t->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&t->iopt);
	t->kio = kvm_iommu_ioas_alloc(t->kvm->fd, &t->ictx, &t->iopt);
	ASSERT_FALSE(IS_ERR(t->kio));
	/* KVM builds its root with the first vCPU */
	ASSERT_EQ(kvm_model_fault(t->kvm, RAM - PAGE_SIZE, false), 0);
	return true;
}

static bool attach(struct kt_dl *t, unsigned int i, enum kvm_iommu_policy policy, u32 mode)
{
	if (i == 0 && t->iopfq)
		ASSERT_EQ(kt_kvm_hwpt_attach_fault(&t->hwpt[0], t->kio, &t->iopt, &t->dev[0],
						   policy, &t->fault, t->iopfq), 0);
	else
		ASSERT_EQ(kt_kvm_hwpt_attach(&t->hwpt[i], t->kio, &t->iopt, &t->dev[i],
					     policy), 0);
	ASSERT_EQ(t->hwpt[i].mode, mode);
	return true;
}

static bool teardown(struct kt_dl *t)
{
	unsigned int i;
	long left;

	for (i = 0; i < 2; i++)
		kt_kvm_hwpt_detach(&t->hwpt[i]);
	kt_fault_destroy(&t->fault);
	kvm_iommu_ioas_free(t->kio);
	iopt_unmap_all(&t->iopt, NULL);
	iopt_destroy_table(&t->iopt);
	kvm_model_close(t->kvm);
	ASSERT_TRUE(t->vm_destroyed);
	if (t->iopfq) {
		dma_dev_disable_pri(&t->dma[0]);
		kt_iopf_queue_free(t->iopfq);
		kt_intel_prq_disable(t->iommu[0]);
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(t->dma[i].bad_pages, 0);
		kt_intel_iommu_destroy(t->iommu[i]);
		vtd_destroy(t->hw[i]);
	}
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	left = phys_allocated(t->pm);
	phys_destroy(t->pm);
	ASSERT_EQ(left, 0);
	return true;
}

static bool bit(const unsigned long *bm, u64 page)
{
	return bm[page / BITS_PER_LONG] & (1UL << (page % BITS_PER_LONG));
}

static u64 weight(const unsigned long *bm)
{
	u64 w, n = 0;

	for (w = 0; w < BITS_TO_LONGS(NPAGES); w++)
		n += __builtin_popcountl(bm[w]);
	return n;
}

/* KVM_GET_DIRTY_LOG of slot 0 into t->bm: the number of pages reported. */
static u64 harvest(struct kt_dl *t)
{
	memset(t->bm, 0, sizeof(t->bm));
	if (kvm_model_get_dirty_log(t->kvm, 0, t->bm))
		return ~0ULL;
	return weight(t->bm);
}

/* Scattered distinct pages, one per 2 MiB region and page offset. */
static u64 nth_gpa(unsigned int i)
{
	return ((u64)(i % 8) << 21) + ((u64)(i * 37 % 512) << 12) + (i & 0xff);
}

/* Device @i writes a distinct word to each of the first @n pages; all land. */
static bool dma_write_pages(struct kt_dl *t, unsigned int i, unsigned int n, u64 tag)
{
	unsigned int k;
	u64 word;

	for (k = 0; k < n; k++) {
		word = tag + k;
		ASSERT_EQ(dma_write(&t->dma[i], nth_gpa(k), &word, sizeof(word)), 0);
	}
	for (k = 0; k < n; k++) {
		ASSERT_EQ(kvm_model_guest_read(t->kvm, nth_gpa(k), &word, sizeof(word)), 0);
		ASSERT_EQ(word, tag + k);
	}
	return true;
}

static bool all_reported(struct kt_dl *t, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		ASSERT_TRUE(bit(t->bm, nth_gpa(k) >> PAGE_SHIFT));
	return true;
}

/* Mode ALL, on NPT: a PINNED device, and one attached SHARED that cannot fault. */
static bool conservative(enum kvm_iommu_policy policy, u32 mode, bool manual)
{
	enum { N = 37 };
	struct kvm_iommu_stats st;
	struct kt_dl t;
	u64 hpa, word = 7;
	bool writable;

	if (!setup(&t, DL_NPT, VTDM_QEMU_ECAP_SM, false))
		return false;
	t.kvm->manual_protect = manual;
	ASSERT_TRUE(attach(&t, 1, policy, mode));
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, t.hwpt[1].domain), IOMMU_KVM_DIRTY_ALL);
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, NULL), IOMMU_KVM_DIRTY_NONE);
	ASSERT_EQ(kvm_model_get_dirty_log(t.kvm, 0, t.bm), -ENOENT);

	ASSERT_EQ(kvm_model_set_dirty_log(t.kvm, 0, true), 0);
	/* the device's writes are never blocked, and all of them land */
	ASSERT_TRUE(dma_write_pages(&t, 1, N, 0xd1a0000));
	ASSERT_EQ(harvest(&t), NPAGES);
	ASSERT_TRUE(all_reported(&t, N));
	if (manual) {
		/* reported until cleared, and again after: it may write them */
		ASSERT_EQ(harvest(&t), NPAGES);
		ASSERT_EQ(kvm_model_clear_dirty_log(t.kvm, 0, 0, NPAGES, t.bm), 0);
	}
	/* every harvest, written since or not */
	ASSERT_EQ(harvest(&t), NPAGES);
	ASSERT_TRUE(dma_write_pages(&t, 1, 1, 0xd1b0000));
	ASSERT_EQ(harvest(&t), NPAGES);
	kvm_iommu_get_stats(t.kio, &st);
	ASSERT_EQ(st.dirty_all_pages, st.dirty_harvests * NPAGES);
	ASSERT_EQ(st.dirty_harvests, manual ? 5 : 3);
	ASSERT_EQ(st.dirty_scans, 0);
	if (mode == IOMMU_KVM_MODE_SHARED) {
		/* KVM left the leaves of the held pages writable */
		ASSERT_TRUE(kvm_model_translate(t.kvm, nth_gpa(3), &hpa, &writable));
		ASSERT_TRUE(writable);
		ASSERT_GT(t.kvm->kept_leaves, 0);
	}

	/* logging off: no log, the device keeps writing */
	ASSERT_EQ(kvm_model_set_dirty_log(t.kvm, 0, false), 0);
	ASSERT_EQ(kvm_model_get_dirty_log(t.kvm, 0, t.bm), -ENOENT);
	ASSERT_EQ(dma_write(&t.dma[1], 0x5000, &word, sizeof(word)), 0);
	ASSERT_EQ(t.dma[1].faults, 0);
	return teardown(&t);
}

TEST(dirty_log_pinned_device_pages_are_reported_at_every_harvest)
{
	return conservative(KVM_IOMMU_POLICY_PIN_ONLY, IOMMU_KVM_MODE_PINNED, false);
}

TEST(dirty_log_pinned_device_pages_manual_protect)
{
	return conservative(KVM_IOMMU_POLICY_PIN_ONLY, IOMMU_KVM_MODE_PINNED, true);
}

TEST(dirty_log_shared_device_that_cannot_fault_keeps_writing)
{
	return conservative(KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED, false);
}

TEST(dirty_log_shared_device_that_cannot_fault_manual_protect)
{
	return conservative(KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED, true);
}

/* A device that went away is reported once more, then no longer. */
TEST(dirty_log_detached_device_is_reported_once_more)
{
	struct kt_dl t;

	if (!setup(&t, DL_NPT, VTDM_QEMU_ECAP_SM, false))
		return false;
	ASSERT_EQ(kvm_model_set_dirty_log(t.kvm, 0, true), 0);
	ASSERT_EQ(harvest(&t), 0);
	ASSERT_TRUE(attach(&t, 1, KVM_IOMMU_POLICY_PIN_ONLY, IOMMU_KVM_MODE_PINNED));
	ASSERT_TRUE(dma_write_pages(&t, 1, 5, 0xde000));
	kt_kvm_hwpt_detach(&t.hwpt[1]);
	ASSERT_EQ(harvest(&t), NPAGES);
	ASSERT_EQ(harvest(&t), 0);
	/* and the same for a SHARED device */
	ASSERT_TRUE(attach(&t, 1, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_TRUE(dma_write_pages(&t, 1, 5, 0xdf000));
	kt_kvm_hwpt_detach(&t.hwpt[1]);
	ASSERT_EQ(harvest(&t), NPAGES);
	ASSERT_EQ(harvest(&t), 0);
	return teardown(&t);
}

/* Mode FAULTS: a device that can fault, on a table KVM logs by write-protection. */
TEST(dirty_log_faulting_device_is_logged_by_its_faults)
{
	enum { N = 37 };
	struct kt_dl t;
	u64 word = 0xfa;

	if (!setup(&t, DL_NPT, VTDM_QEMU_ECAP_SM, true))
		return false;
	ASSERT_TRUE(attach(&t, 0, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, t.hwpt[0].domain), IOMMU_KVM_DIRTY_FAULTS);
	ASSERT_EQ(kvm_model_set_dirty_log(t.kvm, 0, true), 0);
	ASSERT_EQ(harvest(&t), 0);
	ASSERT_TRUE(dma_write_pages(&t, 0, N, 0xfa0000));
	ASSERT_EQ(t.dma[0].pri_failures, 0);
	/* exactly the pages written */
	ASSERT_EQ(harvest(&t), N);
	ASSERT_TRUE(all_reported(&t, N));
	ASSERT_EQ(harvest(&t), 0);
	/* the harvest write-protected them again: the next write faults and is logged */
	ASSERT_EQ(dma_write(&t.dma[0], nth_gpa(4), &word, sizeof(word)), 0);
	ASSERT_EQ(harvest(&t), 1);
	ASSERT_TRUE(bit(t.bm, nth_gpa(4) >> PAGE_SHIFT));
	ASSERT_EQ(kt_fault_queued(&t.fault), 0);
	return teardown(&t);
}

/* Mode TABLE: the unit marks KVM's EPT entries dirty; KVM reports exactly them. */
static bool precise(bool manual)
{
	enum { N = 37 };
	struct kvm_iommu_stats st;
	unsigned long one[BITS_TO_LONGS(NPAGES)];
	struct kt_dl t;
	u64 word = 0xab, p4 = nth_gpa(4) >> PAGE_SHIFT;

	if (!setup(&t, DL_EPT_PML, VTDM_QEMU_ECAP_SM | ECAP_SLADS, true))
		return false;
	t.kvm->manual_protect = manual;
	ASSERT_TRUE(attach(&t, 0, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, t.hwpt[0].domain), IOMMU_KVM_DIRTY_TABLE);
	/* the device wrote pages before logging: mapped writable, dirty */
	ASSERT_TRUE(dma_write_pages(&t, 0, N, 0xe0000));
	ASSERT_EQ(kvm_model_set_dirty_log(t.kvm, 0, true), 0);
	ASSERT_EQ(harvest(&t), 0);
	/* through the leaves KVM keeps writable: no fault, the unit sets D */
	ASSERT_TRUE(dma_write_pages(&t, 0, N, 0xe1000));
	ASSERT_EQ(t.dma[0].page_requests, N);	/* the first round's only */
	ASSERT_EQ(harvest(&t), N);
	ASSERT_TRUE(all_reported(&t, N));
	if (manual) {
		/* still reported until cleared; then not, until written again */
		ASSERT_EQ(harvest(&t), N);
		ASSERT_EQ(kvm_model_clear_dirty_log(t.kvm, 0, 0, NPAGES, t.bm), 0);
	}
	ASSERT_EQ(harvest(&t), 0);
	/* a write after the harvest shows in the next one, and only it */
	ASSERT_EQ(dma_write(&t.dma[0], nth_gpa(4), &word, sizeof(word)), 0);
	ASSERT_EQ(harvest(&t), 1);
	ASSERT_TRUE(bit(t.bm, p4));
	if (manual) {
		memset(one, 0, sizeof(one));
		one[p4 / BITS_PER_LONG] = 1UL << (p4 % BITS_PER_LONG);
		ASSERT_EQ(kvm_model_clear_dirty_log(t.kvm, 0, 0, NPAGES, one), 0);
	}
	/* vCPU writes are logged too (PML), each page once */
	ASSERT_EQ(kvm_model_guest_write(t.kvm, nth_gpa(5), &word, sizeof(word)), 0);
	ASSERT_EQ(kvm_model_guest_write(t.kvm, 0xf00000, &word, sizeof(word)), 0);
	ASSERT_EQ(harvest(&t), 2);
	ASSERT_TRUE(bit(t.bm, nth_gpa(5) >> PAGE_SHIFT));
	ASSERT_TRUE(bit(t.bm, 0xf00));
	kvm_iommu_get_stats(t.kio, &st);
	ASSERT_EQ(st.dirty_all_pages, 0);
	ASSERT_EQ(st.dirty_scans, st.dirty_harvests);
	ASSERT_EQ(t.kvm->dirty_scans, st.dirty_scans);
	return teardown(&t);
}

TEST(dirty_log_precise_where_the_unit_marks_kvm_entries_dirty)
{
	return precise(false);
}

TEST(dirty_log_precise_manual_protect)
{
	return precise(true);
}

/* The same table behind a unit without second-stage A/D: everything, every time. */
TEST(dirty_log_without_second_stage_ad_reports_everything)
{
	struct kt_dl t;

	if (!setup(&t, DL_EPT_PML, VTDM_QEMU_ECAP_SM, true))
		return false;
	ASSERT_TRUE(attach(&t, 0, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, t.hwpt[0].domain), IOMMU_KVM_DIRTY_ALL);
	ASSERT_TRUE(dma_write_pages(&t, 0, 3, 0xe2000));
	ASSERT_EQ(kvm_model_set_dirty_log(t.kvm, 0, true), 0);
	ASSERT_EQ(harvest(&t), NPAGES);
	/* written through a writable leaf, no fault, no dirty bit: still reported */
	ASSERT_TRUE(dma_write_pages(&t, 0, 3, 0xe3000));
	ASSERT_EQ(harvest(&t), NPAGES);
	return teardown(&t);
}

/* No dirty bitmap (a dirty ring alone): no device may write the VM's memory. */
TEST(dirty_log_ring_without_bitmap_refuses_devices)
{
	struct kvm_iommu_stats st;
	unsigned int i;
	struct kt_dl t;

	if (!setup(&t, DL_NPT, VTDM_QEMU_ECAP_SM, false))
		return false;
	t.kvm->dirty_ring_size = 4096;	/* without its bitmap */
	for (i = 0; i < 3; i++) {
		static const enum kvm_iommu_policy pol[3] = {
			KVM_IOMMU_POLICY_AUTO, KVM_IOMMU_POLICY_SHARE_REQUIRED,
			KVM_IOMMU_POLICY_PIN_ONLY,
		};

		ASSERT_EQ(kt_kvm_hwpt_attach(&t.hwpt[1], t.kio, &t.iopt, &t.dev[1], pol[i]),
			  -ENXIO);
		ASSERT_EQ(t.hwpt[1].domain, NULL);
	}
	kvm_iommu_get_stats(t.kio, &st);
	ASSERT_EQ(st.attached, 0);
	ASSERT_EQ(st.shared_domains, 0);
	ASSERT_EQ(st.pinned_pages, 0);
	ASSERT_EQ(kt_iopt_npinned(&t.iopt), 0);
	ASSERT_EQ(kvm_model_pinned(t.kvm), 0);
	t.kvm->dirty_ring_size = 0;
	return teardown(&t);
}

/* ---- migration: pre-copy while a device and a vCPU write ---- */

/*
 * Which writes a harvest must report: a write to page P that started after
 * harvest g had returned and completed before harvest k began must be
 * reported by one of harvests g + 1 .. k (before g returned, P may still
 * have been writable, or dirty, from a fault or a write that g reported;
 * after it, the first write of P is seen again).  Each page has one writer,
 * which publishes, after each write, the number of harvests that had
 * returned when the write started.
 */
struct kt_mig {
	struct kt_dl *t;
	unsigned int dev;	/* the device that writes */
	bool stop;		/* atomic */
	int error;		/* a writer's failure, which stops it (atomic) */
	u64 seed;
	u64 gen;		/* harvests returned (atomic) */
	/* per page: (gen when the last completed write started) << 1 | 1 (atomic) */
	u64 done[NPAGES];
	u64 last_reported[NPAGES];	/* the last harvest that reported the page */
	u64 dma_writes, vcpu_writes;
};

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void written(struct kt_mig *m, u64 page, u64 gen)
{
	__atomic_store_n(&m->done[page], gen << 1 | 1, __ATOMIC_SEQ_CST);
}

/* Writers use disjoint halves so that a page's last value is well defined. */
static void *dma_writer(void *arg)
{
	struct kt_mig *m = arg;
	u64 s = m->seed, n = 0, page, word, gen;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		page = xorshift(&s) % (NPAGES / 2);
		word = (page << 32) | ++n;
		gen = __atomic_load_n(&m->gen, __ATOMIC_SEQ_CST);
		if (dma_write(&m->t->dma[m->dev], (page << PAGE_SHIFT) + 8 * (n % 512), &word,
			      sizeof(word))) {
			__atomic_store_n(&m->error, 1, __ATOMIC_RELEASE);
			break;
		}
		written(m, page, gen);
		__atomic_add_fetch(&m->dma_writes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *vcpu_writer(void *arg)
{
	struct kt_mig *m = arg;
	u64 s = m->seed * 3 + 1, n = 0, page, word, gen;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		page = NPAGES / 2 + xorshift(&s) % (NPAGES / 2);
		word = (page << 32) | ++n;
		gen = __atomic_load_n(&m->gen, __ATOMIC_SEQ_CST);
		if (kvm_model_guest_write(m->t->kvm, (page << PAGE_SHIFT) + 8 * (n % 512),
					  &word, sizeof(word))) {
			__atomic_store_n(&m->error, 2, __ATOMIC_RELEASE);
			break;
		}
		written(m, page, gen);
		__atomic_add_fetch(&m->vcpu_writes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Copy source page @page into @dst as the VMM would (racing with writers). */
static void copy_page(struct kt_dl *t, u64 page, u8 *dst)
{
	u64 hpa = kvm_model_backing(t->kvm, page << PAGE_SHIFT);

	if (hpa)
		phys_copy(dst + (page << PAGE_SHIFT), phys_va(t->pm, hpa), PAGE_SIZE);
	else
		memset(dst + (page << PAGE_SHIFT), 0, PAGE_SIZE);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mig_seconds(void)
{
	const char *s = getenv("STRESS_SECONDS");
	double v = s ? atof(s) : 0;

	return v > 0 ? v / 4 : 1.0;
}

/*
 * Pre-copy migration of slot 0 into a buffer while device @dev and a vCPU
 * write: a full copy, then rounds of harvest-and-copy, then stop, a last
 * harvest and copy; the copy must equal the memory.  Prints the pages
 * each round reported against the pages written in it.
 */
static bool migrate(struct kt_dl *t, unsigned int dev, const char *what)
{
	u64 page, rounds = 0, reported = 0, written = 0, unwritten = 0, missed = 0, diff = 0;
	u64 got;
	double end = seconds() + mig_seconds();
	pthread_t thr[2];
	struct kt_mig *m;
	u64 *snap;
	u8 *dst;

	m = calloc(1, sizeof(*m));
	snap = calloc(NPAGES, sizeof(*snap));
	dst = malloc(RAM);
	ASSERT_TRUE(m && snap && dst);
	m->t = t;
	m->dev = dev;
	m->seed = 0x9e3779b97f4a7c15ULL;
	ASSERT_EQ(kvm_model_set_dirty_log(t->kvm, 0, true), 0);
	ASSERT_EQ(pthread_create(&thr[0], NULL, dma_writer, m), 0);
	ASSERT_EQ(pthread_create(&thr[1], NULL, vcpu_writer, m), 0);
	for (page = 0; page < NPAGES; page++)
		copy_page(t, page, dst);
	do {
		/*
		 * Several rounds with both writers at work, however slow the
		 * build (ASan, TSan) or the machine; or a writer failed.
		 */
		bool last = (seconds() >= end && rounds >= 4 &&
			     __atomic_load_n(&m->dma_writes, __ATOMIC_RELAXED) &&
			     __atomic_load_n(&m->vcpu_writes, __ATOMIC_RELAXED)) ||
			    __atomic_load_n(&m->error, __ATOMIC_ACQUIRE);

		if (last) {
			__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
			pthread_join(thr[0], NULL);
			pthread_join(thr[1], NULL);
		}
		/* the writes completed up to now, against what the harvest says */
		for (page = 0; page < NPAGES; page++)
			snap[page] = __atomic_exchange_n(&m->done[page], 0, __ATOMIC_SEQ_CST);
		got = harvest(t);
		ASSERT_NE(got, ~0ULL);
		reported += got;
		for (page = 0; page < NPAGES; page++) {
			written += snap[page] & 1;
			if (bit(t->bm, page)) {
				m->last_reported[page] = rounds + 1;
				unwritten += !(snap[page] & 1);
				copy_page(t, page, dst);
			}
			missed += (snap[page] & 1) &&
				  m->last_reported[page] <= snap[page] >> 1;
		}
		__atomic_store_n(&m->gen, rounds + 1, __ATOMIC_SEQ_CST);
		rounds++;
		if (last)
			break;
	} while (1);
	for (page = 0; page < NPAGES; page++) {
		u64 hpa = kvm_model_backing(t->kvm, page << PAGE_SHIFT);
		static const u8 zero[PAGE_SIZE];
		const u8 *src = hpa ? phys_va(t->pm, hpa) : zero;

		diff += memcmp(src, dst + (page << PAGE_SHIFT), PAGE_SIZE) != 0;
	}
	printf("# %s: %llu rounds, %llu DMA and %llu vCPU writes; %llu page-rounds written, "
	       "%llu of them not reported in time; harvests reported %llu pages, %llu of "
	       "them not written before the harvest began; %llu pages differ\n", what,
	       (unsigned long long)rounds, (unsigned long long)m->dma_writes,
	       (unsigned long long)m->vcpu_writes, (unsigned long long)written,
	       (unsigned long long)missed, (unsigned long long)reported,
	       (unsigned long long)unwritten, (unsigned long long)diff);
	ASSERT_EQ(missed, 0);
	ASSERT_EQ(diff, 0);
	ASSERT_EQ(m->error, 0);
	ASSERT_GT(m->dma_writes, 0);
	ASSERT_GT(m->vcpu_writes, 0);
	ASSERT_EQ(kvm_model_set_dirty_log(t->kvm, 0, false), 0);
	free(dst);
	free(snap);
	free(m);
	return true;
}

TEST(stress_dirty_log_migration_precise_loses_no_write)
{
	struct kt_dl t;

	if (!setup(&t, DL_EPT_PML, VTDM_QEMU_ECAP_SM | ECAP_SLADS, true))
		return false;
	ASSERT_TRUE(attach(&t, 0, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, t.hwpt[0].domain), IOMMU_KVM_DIRTY_TABLE);
	ASSERT_TRUE(migrate(&t, 0, "precise (EPT, PML, second-stage A/D)"));
	return teardown(&t);
}

TEST(stress_dirty_log_migration_faults_loses_no_write)
{
	struct kt_dl t;

	if (!setup(&t, DL_NPT, VTDM_QEMU_ECAP_SM, true))
		return false;
	ASSERT_TRUE(attach(&t, 0, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_EQ(kvm_iommu_dirty_log(t.kio, t.hwpt[0].domain), IOMMU_KVM_DIRTY_FAULTS);
	ASSERT_TRUE(migrate(&t, 0, "precise (NPT, write faults)"));
	return teardown(&t);
}

TEST(stress_dirty_log_migration_conservative_loses_no_write)
{
	struct kt_dl t;

	if (!setup(&t, DL_NPT, VTDM_QEMU_ECAP_SM, false))
		return false;
	ASSERT_TRUE(attach(&t, 0, KVM_IOMMU_POLICY_AUTO, IOMMU_KVM_MODE_SHARED));
	ASSERT_TRUE(attach(&t, 1, KVM_IOMMU_POLICY_PIN_ONLY, IOMMU_KVM_MODE_PINNED));
	ASSERT_TRUE(migrate(&t, 0, "conservative (NPT, SHARED and PINNED)"));
	return teardown(&t);
}
