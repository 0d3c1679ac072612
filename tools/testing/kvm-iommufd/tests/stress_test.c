// SPDX-License-Identifier: GPL-2.0
/*
 * "Invalidation is never late": SHARED devices DMA through KVM's own TDP
 * table while other threads change that table every way KVM does.
 *
 * The platform: two VT-d units; devices A and B behind the first, C behind
 * the second, each attached SHARED through the product's core (one IOAS,
 * three KVM-TDP domains); a VM whose 32 MiB of RAM is THP-backed (2 MiB
 * leaves) and a second, 4 MiB slot that moves and comes and goes.
 *
 * Threads:
 * - DMA engines (two on A, one on B, one on C): random reads and writes
 *   at random GPAs, inside and outside the memslots;
 * - "fault": vCPU-style faults, single pages and whole 2 MiB regions
 *   (2 MiB leaves when the host block allows);
 * - "zap": leaf zaps, zaps that unlink table pages, mmu-notifier discards
 *   (the old host page is kept aside, the one kept before is freed), and
 *   the host's mmu-notifier events that cannot change a pinned page (fork,
 *   mprotect, soft-dirty, compaction, NUMA, KSM, THP, reclaim), which KVM
 *   skips for the leaves the IOAS holds, half of them followed by the
 *   migration of every page nobody pins (the old page freed);
 * - "huge": huge-page splits (plain and dirty-logging style), collapses
 *   of 4 KiB tables into 2 MiB leaves, write-protection;
 * - "vm": root replacement, memslot move, delete and re-create, dirty
 *   logging on and off (the core's memslot callbacks run for each).
 * Before the threads start, one thread does each kind of change once, so
 * each is known to have happened at least once.
 *
 * What catches a late invalidation (every failure is a counter):
 * - the VT-d model compares its IOTLB and paging-structure caches with
 *   KVM's table at each wait descriptor of a KVM flush and when the flush
 *   returns (stale_iotlb, stale_psc, stale_at_wait: platform/vtd.h);
 * - a walk that reads a freed table page (freed_table_reads);
 * - a DMA that lands in a freed page, a page table or the IOMMU's own
 *   structures (the device's bad_pages);
 * - a DMA that completes in a quiet period (no KVM change in progress from
 *   before it started until after it was compared) but not at the page KVM
 *   maps, or writes through a mapping KVM has write-protected (off_mapping
 *   here).
 *
 * STRESS_SECONDS (environment) sets the length of the clean run
 * (stress_shared_dma_vs_kvm_changes), STRESS_SEED the random seed.  The
 * stress_catches_* tests run the product's importer over a broken
 * invalidation queue (the stand-in driver's knob, kt_qi_break() in
 * standin/intel_iommu.h: IOTLB invalidations dropped or weakened) and
 * must see the counters move within their bounded run.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include "../standin/intel_kvm_domain.h"
#include "../harness/hwpt.h"
#include <linux/kvm_iommufd.h>
#include <linux/kvm_tdp_export.h>
#include "fixture.h"
#include <uapi/linux/iommufd_kvm.h>

#define ST_RAM		(32ULL << 20)	/* slot 0, THP-backed */
#define ST_SLOT1	1
#define ST_SLOT1_A	(64ULL << 20)	/* slot 1 moves between A and B */
#define ST_SLOT1_B	(80ULL << 20)
#define ST_SLOT1_SIZE	(4ULL << 20)
#define ST_GPA_SPACE	(96ULL << 20)	/* what DMA aims at */
#define ST_REGION	512ULL		/* GFNs in 2 MiB */
#define ST_PHYS		(512ULL << 20)	/* emulated host memory */
#define ST_UNITS	2
#define ST_DEVS		3
#define ST_ENGINES	4
#define ST_MUTATORS	4

/* Clean run length in `make test`; STRESS_SECONDS overrides it. */
#define ST_DEFAULT_SECONDS	5.0
/* A broken importer must be caught within this. */
#define ST_BROKEN_SECONDS	10.0

struct st;

struct st_engine {
	struct st *st;
	pthread_t thr;
	u64 seed;
	struct dma_dev dma;
	u64 dmas, ok, faulted;
	u64 checked;		/* compared with KVM's table in a quiet period */
	u64 off_mapping;	/* ... and found elsewhere than KVM maps */
	u64 first_off_gpa, first_off_hpa, first_off_kvm;
	u8 buf[256];
};

struct st_mutator {
	struct st *st;
	pthread_t thr;
	u64 seed;
	const char *name;
	void (*op)(struct st *st, u64 *seed);
	u64 ops;
};

struct st {
	struct phys *pm;
	struct vtd *hw[ST_UNITS];
	struct intel_iommu *iommu[ST_UNITS];
	struct kvm *kvm;
	bool vm_destroyed;
	struct device dev[ST_DEVS];
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct kt_kvm_hwpt hwpt[ST_DEVS];
	struct st_engine eng[ST_ENGINES];
	struct st_mutator mut[ST_MUTATORS];
	bool stop;		/* atomic */
	/* the "vm" thread's view of slot 1: only it changes slot 1 */
	u64 slot1_gpa;		/* 0 while deleted */
	bool dirty_logging;
	/* change counts, atomic */
	u64 faults, zaps, table_zaps, discards, mm_events, wrprots, split_calls, collapses,
	    collapse_misses, root_replacements, slot_moves, slot_recreates, dirty_toggles;
};

static const u16 st_sids[ST_DEVS] = { 0x0018, 0x0020, 0x0018 };
static const unsigned int st_unit_of[ST_DEVS] = { 0, 0, 1 };
static const unsigned int st_dev_of[ST_ENGINES] = { 0, 0, 1, 2 };

static u64 rnd(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static u64 rnd_below(u64 *s, u64 n)
{
	return rnd(s) % n;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void count(u64 *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static bool stopping(struct st *st)
{
	return __atomic_load_n(&st->stop, __ATOMIC_ACQUIRE);
}

/* A random GPA the changes or the DMA aim at: mostly memslots, some holes. */
static u64 pick_gpa(u64 *s)
{
	u64 r = rnd_below(s, 10);

	if (r < 7)
		return rnd_below(s, ST_RAM);
	if (r < 9)
		return ST_SLOT1_A + rnd_below(s, ST_SLOT1_B + ST_SLOT1_SIZE - ST_SLOT1_A);
	return rnd_below(s, ST_GPA_SPACE);
}

/* A random GFN range of up to @max pages at a random GPA. */
static void pick_range(u64 *s, u64 max, u64 *start, u64 *end)
{
	*start = pick_gpa(s) >> PAGE_SHIFT;
	*end = *start + 1 + rnd_below(s, max);
}

static void pause_a_little(u64 *s)
{
	usleep(rnd_below(s, 100));
}

/* ---- the changes ---- */

static void op_fault(struct st *st, u64 *s)
{
	u64 gpa = pick_gpa(s), end, mapped;

	if (rnd_below(s, 3) == 0) {
		kvm_model_fault(st->kvm, gpa, rnd_below(s, 4) != 0);
	} else {
		/* a whole 2 MiB region, as the core's prefault goes */
		gpa = ALIGN_DOWN(gpa, ST_REGION * PAGE_SIZE);
		for (end = gpa + ST_REGION * PAGE_SIZE; gpa < end;
		     gpa = ALIGN_DOWN(gpa, mapped) + mapped)
			if (kvm_tdp_export_map(st->kvm, gpa, KVM_TDP_MAP_WRITE, &mapped))
				mapped = PAGE_SIZE;
	}
	count(&st->faults);
}

/* A host event that cannot change a pinned page, maybe with migration. */
static void mm_event(struct st *st, u64 *s, u64 gpa, u64 len)
{
	static const enum mmu_notifier_event keep[] = {
		MMU_NOTIFY_CLEAR, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_PROTECTION_PAGE,
		MMU_NOTIFY_SOFT_DIRTY,
	};

	kvm_model_mm_event(st->kvm, gpa, len, keep[rnd_below(s, ARRAY_SIZE(keep))],
			   rnd_below(s, 2));
	count(&st->mm_events);
}

static void op_zap(struct st *st, u64 *s)
{
	u64 start, end;

	switch (rnd_below(s, 6)) {
	case 4:
		pick_range(s, 600, &start, &end);
		mm_event(st, s, start << PAGE_SHIFT, (end - start) << PAGE_SHIFT);
		break;
	case 5:
		/* fork or mprotect of all guest memory */
		mm_event(st, s, 0, ST_GPA_SPACE);
		break;
	case 0:
		pick_range(s, 64, &start, &end);
		kvm_model_zap(st->kvm, start, end, false);
		count(&st->zaps);
		break;
	case 1:
		/* whole L1 tables go when the range covers them */
		start = ALIGN_DOWN(pick_gpa(s) >> PAGE_SHIFT, ST_REGION);
		kvm_model_zap(st->kvm, start, start + ST_REGION * (1 + rnd_below(s, 2)), true);
		count(&st->table_zaps);
		break;
	case 2:
		pick_range(s, 16, &start, &end);
		kvm_model_discard(st->kvm, start << PAGE_SHIFT, (end - start) << PAGE_SHIFT);
		count(&st->discards);
		break;
	default:
		/* a whole region: the next touch gets a fresh 2 MiB block */
		start = ALIGN_DOWN(pick_gpa(s), ST_REGION * PAGE_SIZE);
		kvm_model_discard(st->kvm, start, ST_REGION * PAGE_SIZE);
		count(&st->discards);
		break;
	}
}

static void op_huge(struct st *st, u64 *s)
{
	u64 start, end;

	switch (rnd_below(s, 3)) {
	case 0:
		start = ALIGN_DOWN(pick_gpa(s) >> PAGE_SHIFT, ST_REGION);
		kvm_model_split(st->kvm, start, start + ST_REGION * (1 + rnd_below(s, 2)),
				rnd_below(s, 2));
		count(&st->split_calls);
		break;
	case 1:
		if (kvm_model_collapse(st->kvm, pick_gpa(s) >> PAGE_SHIFT))
			count(&st->collapse_misses);
		else
			count(&st->collapses);
		break;
	default:
		pick_range(s, 128, &start, &end);
		kvm_model_wrprot(st->kvm, start, end);
		count(&st->wrprots);
		break;
	}
}

static bool move_slot1(struct st *st)
{
	u64 to = st->slot1_gpa == ST_SLOT1_A ? ST_SLOT1_B : ST_SLOT1_A;

	if (kvm_model_move_slot(st->kvm, ST_SLOT1, to))
		return false;
	st->slot1_gpa = to;
	count(&st->slot_moves);
	return true;
}

static bool recreate_slot1(struct st *st)
{
	if (st->slot1_gpa) {
		if (kvm_model_delete_slot(st->kvm, ST_SLOT1))
			return false;
		st->slot1_gpa = 0;
	}
	if (kvm_model_set_slot_flags(st->kvm, ST_SLOT1, ST_SLOT1_A, ST_SLOT1_SIZE,
				     KVM_MODEL_SLOT_HUGE))
		return false;
	st->slot1_gpa = ST_SLOT1_A;
	count(&st->slot_recreates);
	return true;
}

static bool toggle_dirty_log(struct st *st)
{
	if (kvm_model_set_dirty_log(st->kvm, 0, !st->dirty_logging))
		return false;
	st->dirty_logging = !st->dirty_logging;
	count(&st->dirty_toggles);
	return true;
}

static void op_vm(struct st *st, u64 *s)
{
	switch (rnd_below(s, 16)) {
	case 0:
		/* rare: it takes every translation away at once */
		if (!kvm_model_replace_root(st->kvm))
			count(&st->root_replacements);
		break;
	case 1 ... 4:
		move_slot1(st);
		break;
	case 5 ... 8:
		recreate_slot1(st);
		break;
	case 9 ... 10:
		toggle_dirty_log(st);
		break;
	default:
		break;
	}
	usleep(500 + rnd_below(s, 2000));
}

static void *mutator_thread(void *arg)
{
	struct st_mutator *m = arg;

	rcu_register_thread();
	while (!stopping(m->st)) {
		m->op(m->st, &m->seed);
		m->ops++;
		pause_a_little(&m->seed);
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- the DMA engines ---- */

static void engine_dma(struct st_engine *e)
{
	struct st *st = e->st;
	u64 gpa = pick_gpa(&e->seed), seq, hpa = 0;
	size_t len = 1 + rnd_below(&e->seed, sizeof(e->buf));
	bool write = rnd_below(&e->seed, 2), writable = false, present;
	int ret;

	if ((gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		gpa = ALIGN_DOWN(gpa, PAGE_SIZE) + PAGE_SIZE - len;
	seq = kvm_model_change_seq(st->kvm);
	if (write) {
		memset(e->buf, (u8)e->dmas, len);
		ret = dma_write(&e->dma, gpa, e->buf, len);
	} else {
		ret = dma_read(&e->dma, gpa, e->buf, len);
	}
	e->dmas++;
	if (ret) {
		e->faulted++;
		return;
	}
	e->ok++;
	/*
	 * A quiet period: no change began or ended from before the DMA was
	 * translated until after KVM's table was read.  Then every flush
	 * KVM made had completed, and the DMA must have used what KVM maps.
	 */
	if (seq & 1)
		return;
	present = kvm_model_translate(st->kvm, gpa, &hpa, &writable);
	if (kvm_model_change_seq(st->kvm) != seq)
		return;
	e->checked++;
	if (!present || hpa != e->dma.last_hpa || (write && !writable)) {
		/* atomic: the main thread watches it */
		if (!__atomic_fetch_add(&e->off_mapping, 1, __ATOMIC_RELAXED)) {
			e->first_off_gpa = gpa;
			e->first_off_hpa = e->dma.last_hpa;
			e->first_off_kvm = present ? hpa | writable : ~0ULL;
		}
	}
}

static void *engine_thread(void *arg)
{
	struct st_engine *e = arg;

	rcu_register_thread();
	while (!stopping(e->st)) {
		engine_dma(e);
		/* bursts: leave the changing threads some of the 2 CPUs */
		if (!rnd_below(&e->seed, 32))
			usleep(rnd_below(&e->seed, 100));
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- the platform ---- */

static bool st_setup(struct st *st, u64 seed)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};
	unsigned int i;

	memset(st, 0, sizeof(*st));
	/* small, so that freed pages are soon reused, and the run's memory bounded */
	st->pm = phys_create(ST_PHYS);
	ASSERT_TRUE(st->pm);
	for (i = 0; i < ST_UNITS; i++) {
		st->hw[i] = vtd_create(st->pm, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM);
		ASSERT_TRUE(st->hw[i]);
		st->iommu[i] = kt_intel_iommu_create(st->pm, st->hw[i], i);
		ASSERT_TRUE(st->iommu[i]);
	}
	st->kvm = kvm_model_create(st->pm, &c, &st->vm_destroyed);
	ASSERT_TRUE(st->kvm);
	ASSERT_EQ(kvm_model_set_slot_flags(st->kvm, 0, 0, ST_RAM, KVM_MODEL_SLOT_HUGE), 0);
	ASSERT_EQ(kvm_model_set_slot_flags(st->kvm, ST_SLOT1, ST_SLOT1_A, ST_SLOT1_SIZE,
					   KVM_MODEL_SLOT_HUGE), 0);
	st->slot1_gpa = ST_SLOT1_A;
	st->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&st->iopt);
	st->kio = kvm_iommu_ioas_alloc(st->kvm->fd, &st->ictx, &st->iopt);
	ASSERT_FALSE(IS_ERR(st->kio));
	for (i = 0; i < ST_DEVS; i++) {
		kt_intel_probe_device(&st->dev[i], st->iommu[st_unit_of[i]], st_sids[i]);
		ASSERT_EQ(kt_kvm_hwpt_attach(&st->hwpt[i], st->kio, &st->iopt, &st->dev[i],
					     KVM_IOMMU_POLICY_SHARE_REQUIRED), 0);
		ASSERT_EQ(st->hwpt[i].mode, IOMMU_KVM_MODE_SHARED);
	}
	for (i = 0; i < ST_ENGINES; i++) {
		unsigned int d = st_dev_of[i];

		st->eng[i].st = st;
		st->eng[i].seed = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		dma_dev_init(&st->eng[i].dma, st->hw[st_unit_of[d]], st_sids[d]);
	}
	return true;
}

static bool st_teardown(struct st *st)
{
	unsigned int i;
	long left;

	for (i = 0; i < ST_DEVS; i++)
		kt_kvm_hwpt_detach(&st->hwpt[i]);
	kvm_iommu_ioas_free(st->kio);
	iopt_unmap_all(&st->iopt, NULL);
	iopt_destroy_table(&st->iopt);
	kvm_model_close(st->kvm);
	ASSERT_TRUE(st->vm_destroyed);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	for (i = 0; i < ST_UNITS; i++) {
		kt_intel_iommu_destroy(st->iommu[i]);
		vtd_destroy(st->hw[i]);
	}
	left = phys_allocated(st->pm);
	phys_destroy(st->pm);
	ASSERT_EQ(left, 0);
	return true;
}

/* Every engine does a few DMAs (the caches fill between the changes). */
static void some_dma(struct st *st)
{
	unsigned int i, k;

	for (i = 0; i < ST_ENGINES; i++)
		for (k = 0; k < 64; k++)
			engine_dma(&st->eng[i]);
}

/* Each kind of change once, from one thread, with DMA in between. */
static bool st_warm_up(struct st *st)
{
	u64 seed = 1, g;

	some_dma(st);
	/* the attach faulted slot 0 in with 2 MiB leaves */
	ASSERT_GT(st->kvm->huge_faults, 0);
	ASSERT_EQ(kvm_model_split(st->kvm, 0, ST_REGION, true), 1);
	count(&st->split_calls);
	some_dma(st);
	kvm_model_wrprot(st->kvm, 4, 300);
	count(&st->wrprots);
	some_dma(st);
	ASSERT_EQ(kvm_model_collapse(st->kvm, 7), 0);
	count(&st->collapses);
	some_dma(st);
	ASSERT_EQ(kvm_model_split(st->kvm, ST_REGION, 2 * ST_REGION, false), 1);
	count(&st->split_calls);
	kvm_model_zap(st->kvm, ST_REGION, 2 * ST_REGION, true);
	count(&st->table_zaps);
	some_dma(st);
	kvm_model_zap(st->kvm, 3 * ST_REGION + 5, 3 * ST_REGION + 9, false);
	count(&st->zaps);
	kvm_model_discard(st->kvm, 4 * ST_REGION * PAGE_SIZE, 3 * PAGE_SIZE);
	count(&st->discards);
	some_dma(st);
	kvm_model_mm_event(st->kvm, 0, ST_GPA_SPACE, MMU_NOTIFY_CLEAR, true);
	count(&st->mm_events);
	ASSERT_GT(st->kvm->kept_leaves, 0);
	some_dma(st);
	for (g = 0; g < 4 * ST_REGION; g += 97)
		op_fault(st, &seed);
	ASSERT_EQ(kvm_model_replace_root(st->kvm), 0);
	count(&st->root_replacements);
	some_dma(st);
	ASSERT_TRUE(move_slot1(st));
	some_dma(st);
	ASSERT_TRUE(recreate_slot1(st));
	ASSERT_TRUE(toggle_dirty_log(st));
	some_dma(st);
	ASSERT_TRUE(toggle_dirty_log(st));
	some_dma(st);
	return true;
}

struct st_result {
	double seconds;
	u64 warm_violations;		/* found before the threads started */
	u64 dmas, ok, faulted, checked, off_mapping, bad_pages;
	struct vtdm_stats vtd;		/* summed over the units */
	u64 freed_tables, freed_pages, flushes, changes, importer_calls;
	u64 broken_calls;		/* flushes the test knob broke */
	struct kvm_iommu_stats core;
};

static u64 violations(const struct st_result *r)
{
	return r->vtd.stale_iotlb + r->vtd.stale_psc + r->vtd.freed_table_reads +
	       r->bad_pages + r->off_mapping;
}

/*
 * The violations so far, while the threads run: only what may be read
 * concurrently (the units' counters under their lock, atomic counters).
 */
static u64 live_violations(struct st *st)
{
	u64 n = 0;
	unsigned int i;

	for (i = 0; i < ST_UNITS; i++) {
		struct vtdm_stats v = vtd_stats(st->hw[i]);

		n += v.stale_iotlb + v.stale_psc + v.freed_table_reads;
	}
	for (i = 0; i < ST_ENGINES; i++)
		n += __atomic_load_n(&st->eng[i].off_mapping, __ATOMIC_RELAXED) +
		     __atomic_load_n(&st->eng[i].dma.bad_pages, __ATOMIC_RELAXED);
	return n;
}

/* Everything, once the threads have stopped. */
static void st_collect(struct st *st, struct st_result *r)
{
	unsigned int i;

	for (i = 0; i < ST_ENGINES; i++) {
		struct st_engine *e = &st->eng[i];

		r->dmas += e->dmas;
		r->ok += e->ok;
		r->faulted += e->faulted;
		r->checked += e->checked;
		r->off_mapping += e->off_mapping;
		r->bad_pages += e->dma.bad_pages;
	}
	for (i = 0; i < ST_UNITS; i++) {
		struct vtdm_stats v = vtd_stats(st->hw[i]);

		r->vtd.qi_waits += v.qi_waits;
		r->vtd.inv_iotlb_psi += v.inv_iotlb_psi;
		r->vtd.inv_iotlb_dsi += v.inv_iotlb_dsi;
		r->vtd.iotlb_hits += v.iotlb_hits;
		r->vtd.psc_hits += v.psc_hits;
		r->vtd.walks += v.walks;
		r->vtd.inv_checks += v.inv_checks;
		r->vtd.inv_checked += v.inv_checked;
		r->vtd.stale_iotlb += v.stale_iotlb;
		r->vtd.stale_psc += v.stale_psc;
		r->vtd.stale_at_wait += v.stale_at_wait;
		r->vtd.freed_table_reads += v.freed_table_reads;
	}
	r->freed_tables = __atomic_load_n(&st->kvm->tables_freed, __ATOMIC_RELAXED);
	r->freed_pages = phys_freed(st->pm);
	r->flushes = st->kvm->flushes;
	r->changes = st->kvm->changes;
	r->importer_calls = st->kvm->importer_calls;
	kvm_iommu_get_stats(st->kio, &r->core);
}

static void st_print(struct st *st, const struct st_result *r, const char *what)
{
	char buf[320];
	unsigned int i;

	printf("#   %s: %.2f s with the threads, %d DMA engines on %d devices, "
	       "%d changing threads\n", what, r->seconds, ST_ENGINES, ST_DEVS, ST_MUTATORS);
	printf("#   DMA: %llu (%llu completed, %llu blocked by a fault); "
	       "%llu compared with KVM's table in a quiet period\n",
	       (unsigned long long)r->dmas, (unsigned long long)r->ok,
	       (unsigned long long)r->faulted, (unsigned long long)r->checked);
	printf("#   KVM: %llu changes, %llu flushes (%llu importer calls); %llu faults, "
	       "%llu zaps, %llu table zaps, %llu discards, %llu host mm events "
	       "(%llu leaves kept, %llu pages migrated), %llu write-protects, "
	       "%llu splits (%llu calls), %llu collapses (%llu tries found none), "
	       "%llu root replacements, %llu 2M faults, slot 1 moved %llu and re-created "
	       "%llu times, dirty logging toggled %llu times\n",
	       (unsigned long long)r->changes, (unsigned long long)r->flushes,
	       (unsigned long long)r->importer_calls, (unsigned long long)st->faults,
	       (unsigned long long)st->zaps, (unsigned long long)st->table_zaps,
	       (unsigned long long)st->discards, (unsigned long long)st->mm_events,
	       (unsigned long long)st->kvm->kept_leaves, (unsigned long long)st->kvm->migrated,
	       (unsigned long long)st->wrprots,
	       (unsigned long long)st->kvm->splits, (unsigned long long)st->split_calls,
	       (unsigned long long)st->kvm->collapses, (unsigned long long)st->collapse_misses,
	       (unsigned long long)st->kvm->root_replacements,
	       (unsigned long long)st->kvm->huge_faults,
	       (unsigned long long)st->slot_moves, (unsigned long long)st->slot_recreates,
	       (unsigned long long)st->dirty_toggles);
	printf("#   threads:");
	for (i = 0; i < ST_MUTATORS; i++)
		printf(" %s %llu ops%s", st->mut[i].name, (unsigned long long)st->mut[i].ops,
		       i + 1 < ST_MUTATORS ? "," : "\n");
	printf("#   core: %llu invalidations, %llu domain flushes, %llu root changes; "
	       "VT-d: %llu page-selective and %llu domain invalidations, %llu waits\n",
	       (unsigned long long)r->core.invalidations,
	       (unsigned long long)r->core.domain_flushes,
	       (unsigned long long)r->core.root_changes,
	       (unsigned long long)r->vtd.inv_iotlb_psi,
	       (unsigned long long)r->vtd.inv_iotlb_dsi, (unsigned long long)r->vtd.qi_waits);
	printf("#   checks: %llu cache checks over %llu cached entries; frees: %llu table "
	       "pages, %llu pages in all\n",
	       (unsigned long long)r->vtd.inv_checks, (unsigned long long)r->vtd.inv_checked,
	       (unsigned long long)r->freed_tables, (unsigned long long)r->freed_pages);
	printf("#   stale uses found: %llu, %llu of them before the threads started (IOTLB "
	       "%llu, paging-structure %llu (%llu at a wait), freed-table walks %llu, "
	       "DMA into freed/table/IOMMU pages %llu, DMA off KVM's mapping %llu)\n",
	       (unsigned long long)violations(r), (unsigned long long)r->warm_violations,
	       (unsigned long long)r->vtd.stale_iotlb,
	       (unsigned long long)r->vtd.stale_psc, (unsigned long long)r->vtd.stale_at_wait,
	       (unsigned long long)r->vtd.freed_table_reads,
	       (unsigned long long)r->bad_pages, (unsigned long long)r->off_mapping);
	for (i = 0; i < ST_UNITS; i++)
		if (vtd_first_stale(st->hw[i], buf, sizeof(buf)))
			printf("#   unit %u, first: %s\n", i, buf);
	for (i = 0; i < ST_ENGINES; i++) {
		struct st_engine *e = &st->eng[i];

		if (e->off_mapping)
			printf("#   engine %u, first DMA off KVM's mapping: GPA %#llx reached "
			       "HPA %#llx, KVM maps %#llx\n", i,
			       (unsigned long long)e->first_off_gpa,
			       (unsigned long long)e->first_off_hpa,
			       (unsigned long long)e->first_off_kvm);
		if (e->dma.bad_pages)
			printf("#   engine %u, first DMA into a non-guest page: HPA %#llx\n",
			       i, (unsigned long long)e->dma.first_bad);
	}
}

/* STRESS_SECONDS, or @dflt */
static double stress_seconds(double dflt)
{
	const char *v = getenv("STRESS_SECONDS");
	double s = v ? atof(v) : 0;

	return s > 0 ? s : dflt;
}

static u64 stress_seed(void)
{
	const char *v = getenv("STRESS_SEED");

	return v ? strtoull(v, NULL, 0) : (u64)time(NULL);
}

/*
 * Set up, warm up, run every thread for @seconds (or, with @until_caught,
 * until a violation shows), stop, collect and tear down.
 */
static bool st_run(enum kt_qi_breakage how, double seconds, bool until_caught,
		   const char *what, struct st_result *r)
{
	static void (*const ops[ST_MUTATORS])(struct st *, u64 *) = {
		op_fault, op_zap, op_huge, op_vm,
	};
	static const char *const names[ST_MUTATORS] = { "fault", "zap", "huge", "vm" };
	struct st *st = calloc(1, sizeof(*st));
	u64 seed = stress_seed();
	unsigned int i;
	double t0;

	memset(r, 0, sizeof(*r));
	ASSERT_TRUE(st);
	printf("#   %s: seed %llu (STRESS_SEED)\n", what, (unsigned long long)seed);
	if (!st_setup(st, seed))
		goto fail;
	kt_qi_break(how);
	if (!st_warm_up(st))
		goto fail;
	r->warm_violations = live_violations(st);
	t0 = now();
	for (i = 0; i < ST_MUTATORS; i++) {
		st->mut[i] = (struct st_mutator){
			.st = st, .op = ops[i], .name = names[i],
			.seed = seed * 0x2545f4914f6cdd1dULL + 101 * (i + 1),
		};
		if (pthread_create(&st->mut[i].thr, NULL, mutator_thread, &st->mut[i]))
			goto fail;
	}
	for (i = 0; i < ST_ENGINES; i++)
		if (pthread_create(&st->eng[i].thr, NULL, engine_thread, &st->eng[i]))
			goto fail;
	while (now() - t0 < seconds) {
		usleep(10000);
		if (until_caught && live_violations(st) > r->warm_violations)
			break;
	}
	__atomic_store_n(&st->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < ST_ENGINES; i++)
		pthread_join(st->eng[i].thr, NULL);
	for (i = 0; i < ST_MUTATORS; i++)
		pthread_join(st->mut[i].thr, NULL);
	r->seconds = now() - t0;
	rcu_barrier();		/* the last unlinked tables are freed */
	st_collect(st, r);
	st_print(st, r, what);
	r->broken_calls = kt_qi_broken_descs();
	if (how != KT_QI_CORRECT)
		printf("#   invalidation descriptors broken on purpose: %llu\n",
		       (unsigned long long)r->broken_calls);
	kt_qi_break(KT_QI_CORRECT);
	if (!st_teardown(st))
		goto fail_freed;
	free(st);
	return true;

fail:
	__atomic_store_n(&st->stop, true, __ATOMIC_RELEASE);
	kt_qi_break(KT_QI_CORRECT);
fail_freed:
	free(st);
	return false;
}

/*
 * The product's invalidation coupling under every kind of KVM change at
 * once: no stale translation is ever cached past a flush, no walk reads a
 * freed table page, no DMA lands anywhere but where KVM maps it.
 */
TEST(stress_shared_dma_vs_kvm_changes)
{
	struct st_result r;

	ASSERT_TRUE(st_run(KT_QI_CORRECT, stress_seconds(ST_DEFAULT_SECONDS), false,
			   "clean run", &r));
	ASSERT_EQ(violations(&r), 0);
	ASSERT_EQ(r.vtd.stale_at_wait, 0);
	ASSERT_EQ(r.broken_calls, 0);
	ASSERT_EQ(r.core.flush_errors, 0);
	/* it did exercise what it claims */
	ASSERT_GT(r.ok, 0);
	ASSERT_GT(r.checked, 0);
	ASSERT_GT(r.faulted, 0);
	ASSERT_GT(r.vtd.inv_checked, 0);
	ASSERT_GT(r.freed_tables, 0);
	ASSERT_GT(r.core.invalidations, 0);
	ASSERT_GT(r.core.root_changes, 0);
	return true;
}

/*
 * Flushes for unlinked table pages that do not reach the unit (the queue
 * drops every IOTLB invalidation that would drop paging-structure
 * caches) are caught.
 */
TEST(stress_catches_skipped_table_flush)
{
	struct st_result r;

	ASSERT_TRUE(st_run(KT_QI_DROP_TABLE_INV, ST_BROKEN_SECONDS, true,
			   "queue dropping table invalidations", &r));
	ASSERT_GT(r.broken_calls, 0);
	/* caught by the checks running with the threads, too */
	ASSERT_GT(violations(&r), r.warm_violations);
	ASSERT_GT(r.vtd.stale_psc + r.vtd.freed_table_reads, 0);
	return true;
}

/*
 * Flushes for leaf changes that do not reach the unit (the queue drops
 * page-selective invalidations with the leaf-only hint) are caught.
 */
TEST(stress_catches_skipped_leaf_flush)
{
	struct st_result r;

	ASSERT_TRUE(st_run(KT_QI_DROP_LEAF_INV, ST_BROKEN_SECONDS, true,
			   "queue dropping leaf-only invalidations", &r));
	ASSERT_GT(r.broken_calls, 0);
	/* caught by the checks running with the threads, too */
	ASSERT_GT(violations(&r), r.warm_violations);
	ASSERT_GT(r.vtd.stale_iotlb + r.off_mapping + r.bad_pages, 0);
	return true;
}

/*
 * Unlinked tables flushed with the leaf-only hint (the queue sets it in
 * every page-selective invalidation, so the paging-structure caches keep
 * pointing at them) are caught at the wait descriptor of that very flush.
 */
TEST(stress_catches_table_flush_with_leaf_hint)
{
	struct st_result r;

	ASSERT_TRUE(st_run(KT_QI_FORCE_LEAF_HINT, ST_BROKEN_SECONDS, true,
			   "queue flushing unlinked tables as leaves", &r));
	ASSERT_GT(r.broken_calls, 0);
	/* caught by the checks running with the threads, too */
	ASSERT_GT(violations(&r), r.warm_violations);
	ASSERT_GT(r.vtd.stale_at_wait, 0);
	ASSERT_GT(r.vtd.stale_psc, 0);
	return true;
}
