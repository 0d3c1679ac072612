// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd bench: what sharing KVM's table costs and saves against the
 * conventional iommufd path, on the host build's emulated platform (KVM
 * TDP MMU model, VT-d model, DMA devices), running the product's code.
 *
 * Every figure is a ratio or a count measured side by side in this run;
 * nothing here judges a time.  An operation that fails (an errno, a DMA
 * that does not land, a WARN_ON of the product or the platform) stops the
 * bench with a message and exit status 1.
 *
 *   kvm-iommufd-bench [-q] [-T] [-o DIR] [-s SECTIONS]
 *
 * bench.csv's rows, by their first field:
 *   attach,MODE,BACKING,fresh|populated,MiB,reps,seconds,io_table_pages,
 *	kvm_table_pages_added,other_pages,pinned_pages
 *   populate,BACKING,MiB,seconds
 *   kvm,discard|memslots,DEVICE,rounds,ops_per_round,seconds_per_round,
 *	kvm_flushes,ioas_flushes,domain_flushes,qi_descs,qi_waits
 *   iopf,4k,faults,p50_s,p99_s,max_s,groups,handler_mean_s,handler_max_s
 *   iopf,2m,pages,page_requests,huge_leaves
 * and, appended by scripts/bench.sh (section 5 again under perf record,
 * through tools/kvm-iommu-report):
 *   iopf-report,4k,responses,p50_s,p99_s,max_s,groups,handler_max_s,
 *	device_p50_s,device_p99_s    or    iopf-report,4k,skipped,WHY
 *
 * -q: the quick set of sizes (for a smoke run).  -s: the sections to run,
 * as digits (default 12345; 1 runs 1-3, which share their measurements).
 * -T: section 5 without its THP part, so that every IO page fault of the
 * run is one of the 4 KiB part (scripts/bench.sh records that run under
 * perf for the report tool).  DIR (default .) receives
 * bench.txt (the table, as printed), bench.csv (one row per measurement)
 * and the .dat files the plots are drawn from (scripts/bench.sh).
 * BENCH_MAX_PIN_MIB caps the guest size of the modes that pin (their
 * memory is real: see the README's Performance section); BENCH_MAX_MIB
 * caps every size, BENCH_MAX_PIN2_MIB the pinning modes' size in the tables
 * other than fresh 4 KiB memory (default 1024).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../vtd_internal.h"
#include "../platform/dma.h"
#include "../platform/kvm_mmu.h"
#include "../standin/fault.h"
#include "../standin/intel_kvm_domain.h"
#include "../standin/intel_paging_domain.h"
#include "../standin/iopf.h"
#include "../harness/hwpt.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"
#include <linux/kvm_iommufd.h>
#include <uapi/linux/iommufd_kvm.h>

#define SID		0x0018		/* 00:03.0 */
#define GPA0		(4ULL << 30)	/* guest RAM above the MSI window */
#define MIB		(1ULL << 20)
#define GIB		(1ULL << 30)
#define HUGE		(2 * MIB)

long kt_warn_count(void);

static FILE *txt, *csv;
static const char *outdir = ".";

/* ---- output ---- */

static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (txt) {
		va_start(ap, fmt);
		vfprintf(txt, fmt, ap);
		va_end(ap);
	}
}

static void csv_row(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(csv, fmt, ap);
	va_end(ap);
	fputc('\n', csv);
}

static FILE *dat(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define MUST(expr)							\
	({								\
		long __r = (long)(expr);				\
		if (__r < 0)						\
			die("%s:%d: %s: %s", __FILE__, __LINE__, #expr, strerror((int)-__r)); \
		__r;							\
	})
#define MUST_TRUE(cond, ...)						\
	do {								\
		if (!(cond))						\
			die(__VA_ARGS__);				\
	} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check_warns(const char *what)
{
	static long seen;
	long n = kt_warn_count();

	MUST_TRUE(n == seen, "%s: %ld WARN_ON(s) fired (see above)", what, n - seen);
}

/* ---- the platform: one VT-d unit with page requests, one device ---- */

struct env {
	struct phys *pm;
	struct vtd *hw;
	struct intel_iommu *iommu;
	struct iopf_queue *iopfq;
	struct device dev;
	struct dma_dev dma;
	struct kvm *kvm;
	bool destroyed;
};

static struct kspte_cfg npt(void)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};
	return c;
}

static u64 max_pin = 4 * GIB, max_all = 16 * GIB;

/* Fault in [@p, @p + @len) without changing its contents. */
static void resident(void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1);

	len += (uintptr_t)p - a;
	if (madvise((void *)a, len, MADV_POPULATE_WRITE))
		die("madvise(MADV_POPULATE_WRITE) of the emulated memory: %s", strerror(errno));
}

/*
 * Emulated memory sized for @guest bytes of RAM plus tables.  It is a
 * sparse memfd: the host faults its pages in on first touch, a cost real
 * RAM does not have, so when the guest's memory may all be used (@guest
 * up to max_pin) it is made resident first, outside any measurement;
 * above that, its first 256 MiB (where tables and IOMMU structures come
 * from) and the page map.
 */
static void env_up(struct env *e, u64 guest, bool huge)
{
	struct kspte_cfg cfg = npt();

	memset(e, 0, sizeof(*e));
	e->pm = phys_create(guest + guest / 64 + 256 * MIB);
	MUST_TRUE(e->pm, "phys_create(%llu MiB)", (unsigned long long)(guest >> 20));
	/* above max_pin: what tables and IOMMU structures use, and the page map */
	resident(e->pm->base, guest <= max_pin ? e->pm->size : 256 * MIB);
	resident(e->pm->bitmap, (e->pm->npages + 63) / 64 * 8);
	resident(e->pm->kind, e->pm->npages);
	e->hw = vtd_create(e->pm, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI);
	MUST_TRUE(e->hw, "vtd_create");
	e->iommu = kt_intel_iommu_create(e->pm, e->hw, 0);
	MUST_TRUE(e->iommu, "kt_intel_iommu_create");
	MUST(kt_intel_prq_enable(e->iommu));
	e->iopfq = kt_iopf_queue_alloc("bench-iopf");
	MUST_TRUE(e->iopfq, "kt_iopf_queue_alloc");
	e->dev.name = "dev";
	kt_intel_probe_device(&e->dev, e->iommu, SID);
	dma_dev_init(&e->dma, e->hw, SID);
	e->kvm = kvm_model_create(e->pm, &cfg, &e->destroyed);
	MUST_TRUE(e->kvm, "kvm_model_create");
	MUST(kvm_model_set_slot_flags(e->kvm, 0, GPA0, guest, huge ? KVM_MODEL_SLOT_HUGE : 0));
	/* the first vCPU builds KVM's root */
	MUST(kvm_model_fault(e->kvm, GPA0, false));
}

static void env_down(struct env *e)
{
	long left;

	kvm_model_close(e->kvm);
	MUST_TRUE(e->destroyed, "the VM outlived its fd");
	if (e->dma.pri)
		dma_dev_disable_pri(&e->dma);
	kt_iopf_queue_free(e->iopfq);
	kt_intel_prq_disable(e->iommu);
	kt_intel_iommu_destroy(e->iommu);
	left = phys_allocated(e->pm);
	MUST_TRUE(left == 0, "%ld emulated physical pages leaked", left);
	MUST_TRUE(kt_mm.locked_vm == 0 && kt_user.locked_vm == 0, "pins left charged");
	vtd_destroy(e->hw);
	phys_destroy(e->pm);
	check_warns("teardown");
}

/* The VMM touches every page of the slot, as MAP_POPULATE does. */
static void populate(struct env *e, u64 size)
{
	u64 off;

	for (off = 0; off < size; off += PAGE_SIZE)
		MUST_TRUE(kvm_model_hva_to_page(kvm_model_hva(e->kvm, GPA0 + off), true),
			  "populate GPA %#llx", (unsigned long long)(GPA0 + off));
}

/* ---- the four ways to give a device the guest's memory ---- */

enum mode { M_CONV, M_PINNED, M_SHARED, M_FAULT, NMODES };
static const char *const mode_name[NMODES] = {
	"conventional", "PINNED", "SHARED", "SHARED+faultq",
};
static const char *const mode_key[NMODES] = { "conv", "pinned", "shared", "faultq" };

struct attached {
	enum mode mode;
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct kt_kvm_hwpt hwpt;
	struct iommu_domain *domain;	/* conventional */
	struct iommufd_fault fault;
};

/*
 * Give @e's device the slot's memory in @m, as a VMM would: the
 * conventional IOAS is IOMMU_IOAS_ALLOC, IOMMU_HWPT_ALLOC + attach, and
 * IOMMU_IOAS_MAP of the slot's memory at IOVA = GPA; the others are
 * IOMMU_IOAS_ALLOC with the VM fd and IOMMU_HWPT_ALLOC (+ attach) under a
 * policy, with a fault queue for M_FAULT.
 */
static void attach(struct env *e, struct attached *a, enum mode m, u64 size)
{
	static const enum kvm_iommu_policy policy[NMODES] = {
		[M_PINNED] = KVM_IOMMU_POLICY_PIN_ONLY,
		[M_SHARED] = KVM_IOMMU_POLICY_SHARE_REQUIRED,
		[M_FAULT] = KVM_IOMMU_POLICY_SHARE_REQUIRED,
	};
	unsigned long iova = GPA0;

	memset(a, 0, sizeof(*a));
	a->mode = m;
	a->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&a->iopt);
	if (m == M_CONV) {
		a->domain = iommu_paging_domain_alloc(&e->dev);
		if (IS_ERR(a->domain))
			die("iommu_paging_domain_alloc: %s", strerror(-PTR_ERR(a->domain)));
		MUST(iopt_table_enforce_dev_resv_regions(&a->iopt, &e->dev, NULL));
		MUST(iopt_table_add_domain(&a->iopt, a->domain));
		MUST(a->domain->ops->attach_dev(a->domain, &e->dev));
		MUST(iopt_map_user_pages(&a->ictx, &a->iopt, &iova,
					 (void __user *)kvm_model_hva(e->kvm, GPA0), size,
					 IOMMU_READ | IOMMU_WRITE, 0));
		return;
	}
	a->kio = kvm_iommu_ioas_alloc(e->kvm->fd, &a->ictx, &a->iopt);
	if (IS_ERR(a->kio))
		die("kvm_iommu_ioas_alloc: %s", strerror(-PTR_ERR(a->kio)));
	if (m == M_FAULT) {
		kt_fault_init(&a->fault);
		MUST_TRUE(e->dma.pri, "the device's PRI is off");
		MUST(kt_kvm_hwpt_attach_fault(&a->hwpt, a->kio, &a->iopt, &e->dev, policy[m],
					      &a->fault, e->iopfq));
	} else {
		MUST(kt_kvm_hwpt_attach(&a->hwpt, a->kio, &a->iopt, &e->dev, policy[m]));
	}
	MUST_TRUE(a->hwpt.mode == (m == M_PINNED ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED),
		  "%s: got mode %u (reasons %#x)", mode_name[m], a->hwpt.mode, a->hwpt.reasons);
}

static void detach(struct env *e, struct attached *a)
{
	if (a->mode == M_CONV) {
		MUST(kt_paging_domain_detach(a->domain, &e->dev));
		iopt_table_remove_domain(&a->iopt, a->domain);
		a->domain->ops->free(a->domain);
		iopt_remove_reserved_iova(&a->iopt, &e->dev);
		MUST(iopt_unmap_all(&a->iopt, NULL));
	} else {
		kt_kvm_hwpt_detach(&a->hwpt);
		kvm_iommu_ioas_free(a->kio);
		iopt_unmap_all(&a->iopt, NULL);
		if (a->mode == M_FAULT)
			kt_fault_destroy(&a->fault);
	}
	iopt_destroy_table(&a->iopt);
	check_warns(mode_name[a->mode]);
}

/* The device writes and reads back a word at @gpa: the attach works. */
static void dma_probe(struct env *e, u64 gpa)
{
	u64 v = gpa ^ 0x5a5a5a5a5a5a5a5aULL, got = 0;

	MUST(dma_write(&e->dma, gpa, &v, sizeof(v)));
	MUST(kvm_model_guest_read(e->kvm, gpa, &got, sizeof(got)));
	MUST_TRUE(got == v, "DMA to GPA %#llx did not land", (unsigned long long)gpa);
}

/* Pages of the IO page table the attach built (the paging domain's). */
static long io_table_pages(struct attached *a)
{
	if (a->mode == M_CONV)
		return to_kt_paging_domain(a->domain)->ss.table_pages;
	if (a->mode == M_PINNED)
		return to_kt_paging_domain(a->hwpt.domain)->ss.table_pages;
	return 0;
}

/* ---- 1, 2, 3: attach cost against guest size ---- */

struct attach_res {
	double sec;
	long io_tables;		/* pages of IO page table */
	long other;		/* other pages the attach allocated: IOMMU structures */
	long kvm_tables;	/* KVM table pages the attach added */
	long backed;		/* guest pages that got host memory during the attach */
	long pinned;		/* guest pages pinned after it */
};

static void measure_attach(enum mode m, u64 size, bool huge, bool populated,
			   struct attach_res *r)
{
	long phys0, kvm0, backed0;
	struct attached a;
	struct env e;
	double t0;

	env_up(&e, size, huge);
	if (populated)
		populate(&e, size);
	/* the device turns PRI on when its driver probes it, before any attach */
	if (m == M_FAULT)
		MUST(dma_dev_enable_pri(&e.dma, 1));
	phys0 = phys_allocated(e.pm);
	kvm0 = e.kvm->table_pages;
	backed0 = kvm_model_backed(e.kvm);
	t0 = now_s();
	attach(&e, &a, m, size);
	r->sec = now_s() - t0;
	r->kvm_tables = e.kvm->table_pages - kvm0;
	r->backed = kvm_model_backed(e.kvm) - backed0;
	r->io_tables = io_table_pages(&a);
	r->other = phys_allocated(e.pm) - phys0 - r->kvm_tables - r->backed - r->io_tables;
	r->pinned = kvm_model_pinned(e.kvm);
	MUST_TRUE(r->pinned == (m == M_FAULT ? 0 : (long)(size >> PAGE_SHIFT)),
		  "%s: %ld pages pinned, want %llu", mode_name[m], r->pinned,
		  (unsigned long long)(m == M_FAULT ? 0 : size >> PAGE_SHIFT));
	dma_probe(&e, GPA0 + size / 2 + 8);
	dma_probe(&e, GPA0 + size - 8);
	detach(&e, &a);
	env_down(&e);
}

/* The VMM populates fresh memory (MAP_POPULATE): seconds. */
static double measure_populate(u64 size, bool huge)
{
	struct env e;
	double t0, t;

	env_up(&e, size, huge);
	t0 = now_s();
	populate(&e, size);
	t = now_s() - t0;
	env_down(&e);
	return t;
}

static double median(double *v, int n)
{
	int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define FAULT_REPS	9

/* Repetitions at a size: more for small ones, so each figure is a median. */
static int reps_for(u64 size)
{
	return size <= 64 * MIB ? 5 : size <= GIB ? 3 : 1;
}

#define MAX_SIZES	16
static u64 sizes[MAX_SIZES];
static int nsizes;

struct attach_table {
	double sec[NMODES][MAX_SIZES];	/* < 0: not measured */
	struct attach_res last[NMODES][MAX_SIZES];
	double populate;		/* at pin_rate_size, in turn with the modes */
};

/* The size at which section 3 sets pinning against populating. */
static u64 pin_rate_size;

/*
 * Whether mode @m is measured at @size: the modes that pin up to max_pin
 * on fresh 4 KiB memory, up to max_pin2 in the other tables (each GiB a
 * pinning mode attaches costs seconds of zeroing emulated memory).
 */
static u64 max_pin2 = GIB;
static const char *table_backing;

static bool runs(int m, u64 size, bool populated)
{
	u64 lim = populated || strcmp(table_backing, "4k") ? max_pin2 : max_pin;

	if (size > max_all || (m != M_FAULT && size > lim))
		return false;
	return !(populated && m == M_FAULT);	/* it touches nothing: as fresh */
}

static void attach_rows(const char *backing, bool huge, bool populated,
			struct attach_table *t)
{
	int m, s, i;
	char name[64];
	FILE *f;

	table_backing = backing;
	for (s = 0; s < nsizes; s++) {
		/* the modes take turns, so a change of load hits each alike */
		double v[NMODES][FAULT_REPS], vp[FAULT_REPS];
		int n = reps_for(sizes[s]), nr;
		bool pop = !populated && sizes[s] == pin_rate_size;

		/* SHARED+faultq costs microseconds: more repetitions for its median */
		for (i = 0; i < FAULT_REPS; i++) {
			for (m = 0; m < NMODES; m++) {
				if (!runs(m, sizes[s], populated) || (i >= n && m != M_FAULT))
					continue;
				measure_attach(m, sizes[s], huge, populated, &t->last[m][s]);
				v[m][i] = t->last[m][s].sec;
			}
			if (pop && i < n)
				vp[i] = measure_populate(sizes[s], huge);
		}
		if (pop)
			t->populate = median(vp, n);
		for (m = 0; m < NMODES; m++) {
			t->sec[m][s] = -1;
			if (!runs(m, sizes[s], populated))
				continue;
			nr = m == M_FAULT ? FAULT_REPS : n;
			t->sec[m][s] = median(v[m], nr);
			csv_row("attach,%s,%s,%s,%llu,%d,%.9f,%ld,%ld,%ld,%ld", mode_key[m],
				backing, populated ? "populated" : "fresh",
				(unsigned long long)(sizes[s] >> 20), nr, t->sec[m][s],
				t->last[m][s].io_tables, t->last[m][s].kvm_tables,
				t->last[m][s].other, t->last[m][s].pinned);
		}
	}
	out("\n  %s backing, %s memory: attach time (median), and each mode / conventional\n",
	    backing, populated ? "VMM-populated" : "fresh");
	out("  %9s", "guest");
	for (m = 0; m < NMODES; m++)
		if (!(populated && m == M_FAULT))
			out(" %14s", mode_name[m]);
	for (m = 1; m < NMODES; m++)
		if (!(populated && m == M_FAULT))
			out(" %14s", m == M_PINNED ? "PINNED/conv" : m == M_SHARED ? "SHARED/conv" :
			    "faultq/conv");
	out("\n");
	snprintf(name, sizeof(name), "attach-%s-%s.dat", backing, populated ? "populated" : "fresh");
	f = dat(name);
	fprintf(f, "# MiB conv pinned shared faultq (seconds; -1 = not measured)\n");
	for (s = 0; s < nsizes; s++) {
		if (sizes[s] > max_all)
			continue;
		if (sizes[s] >= GIB)
			out("  %6llu GiB", (unsigned long long)(sizes[s] >> 30));
		else
			out("  %6llu MiB", (unsigned long long)(sizes[s] >> 20));
		for (m = 0; m < NMODES; m++) {
			if (populated && m == M_FAULT)
				continue;
			if (t->sec[m][s] < 0)
				out(" %14s", "-");
			else if (t->sec[m][s] < 1e-3)
				out(" %11.1f us", t->sec[m][s] * 1e6);
			else
				out(" %11.2f ms", t->sec[m][s] * 1e3);
		}
		for (m = 1; m < NMODES; m++) {
			if (populated && m == M_FAULT)
				continue;
			if (t->sec[m][s] < 0 || t->sec[M_CONV][s] < 0)
				out(" %14s", "-");
			else if (t->sec[m][s] / t->sec[M_CONV][s] < 0.01)
				out(" %13.2gx", t->sec[m][s] / t->sec[M_CONV][s]);
			else
				out(" %13.2fx", t->sec[m][s] / t->sec[M_CONV][s]);
		}
		out("\n");
		fprintf(f, "%llu", (unsigned long long)(sizes[s] >> 20));
		for (m = 0; m < NMODES; m++)
			fprintf(f, " %.9g", t->sec[m][s]);
		fprintf(f, "\n");
	}
	fclose(f);
}

static int size_index(u64 size)
{
	int s;

	for (s = 0; s < nsizes; s++)
		if (sizes[s] == size)
			return s;
	return -1;
}

/* ---- 4: KVM's side ---- */

static double trimmed_mean(double *v, int n)
{
	int i, cut = n / 10;
	double sum = 0;

	median(v, n);		/* sorts */
	for (i = cut; i < n - cut; i++)
		sum += v[i];
	return sum / (n - 2 * cut);
}

struct kvm_res {
	double sec;		/* a round: mean without the slowest and fastest tenth */
	u64 ops;		/* per round */
	u64 kvm_flushes, ioas_flushes, domain_flushes, qi_descs, qi_waits;
};

enum wl_dev { WL_NONE, WL_PINNED, WL_SHARED, WL_FAULT, NWL };
static const char *const wl_name[NWL] = { "no device", "PINNED", "SHARED", "SHARED+faultq" };
static const char *const wl_key[NWL] = { "none", "pinned", "shared", "faultq" };

#define WL_RAM		(256 * MIB)
#define WL_REGION	(64 * MIB)	/* what the vCPU faults in and the VMM discards */
#define SLOT_GPA	(GPA0 + 64 * GIB)
#define SLOT_SIZE	(2 * MIB)
#define WL_MAX_ROUNDS	401

/*
 * One VM per configuration, side by side on one emulated memory, each
 * with its own VT-d unit (so each unit's counters are its own) and
 * device; the configurations take turns round by round, so a change of
 * the machine's load hits each alike.
 */
struct wl_cfg {
	struct env e;		/* pm and iopfq shared with wl[0]'s */
	struct attached a;
	struct kvm_iommu_stats st0;
	struct vtdm_stats v0;
	u64 f0;
	double t[WL_MAX_ROUNDS];
};

static void wl_round(struct wl_cfg *c, bool memslots)
{
	struct kvm *kvm = c->e.kvm;
	u64 off;

	if (memslots) {
		/* the VMM adds a 2 MiB slot, the vCPU writes it all, the VMM deletes it */
		MUST(kvm_model_set_slot(kvm, 1, SLOT_GPA, SLOT_SIZE, false));
		for (off = 0; off < SLOT_SIZE; off += PAGE_SIZE)
			MUST(kvm_model_fault(kvm, SLOT_GPA + off, true));
		MUST(kvm_model_delete_slot(kvm, 1));
		return;
	}
	/* the vCPU faults in the region, the VMM discards it 2 MiB at a time */
	for (off = 0; off < WL_REGION; off += PAGE_SIZE)
		MUST(kvm_model_fault(kvm, GPA0 + off, true));
	for (off = 0; off < WL_REGION; off += HUGE)
		kvm_model_discard(kvm, GPA0 + off, HUGE);
}

static void kvm_rows(bool quick)
{
	static const enum mode dm[NWL] = { 0, M_PINNED, M_SHARED, M_FAULT };
	const char *wl[2] = { "fault-in / discard / re-fault", "memslot add / delete" };
	const char *unit[2] = { "pages/s", "slots/s" };
	int rounds[2] = { quick ? 5 : 41, quick ? 51 : 401 };
	static struct wl_cfg c[NWL];
	struct kvm_res r[2][NWL];
	struct kspte_cfg cfg = npt();
	int w, d, k, i;

	/* wl[0]'s env holds the memory for all */
	env_up(&c[0].e, NWL * WL_RAM + WL_REGION, false);
	for (d = 1; d < NWL; d++) {
		struct env *e = &c[d].e;

		memset(e, 0, sizeof(*e));
		e->pm = c[0].e.pm;
		e->iopfq = c[0].e.iopfq;
		e->hw = vtd_create(e->pm, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI);
		MUST_TRUE(e->hw, "vtd_create");
		e->iommu = kt_intel_iommu_create(e->pm, e->hw, d);
		MUST_TRUE(e->iommu, "kt_intel_iommu_create");
		MUST(kt_intel_prq_enable(e->iommu));
		e->dev.name = wl_key[d];
		kt_intel_probe_device(&e->dev, e->iommu, SID);
		dma_dev_init(&e->dma, e->hw, SID);
		if (dm[d] == M_FAULT)
			MUST(dma_dev_enable_pri(&e->dma, 1));
		e->kvm = kvm_model_create(e->pm, &cfg, &e->destroyed);
		MUST_TRUE(e->kvm, "kvm_model_create");
		MUST(kvm_model_set_slot(e->kvm, 0, GPA0, WL_RAM, false));
		MUST(kvm_model_fault(e->kvm, GPA0, false));
		attach(e, &c[d].a, dm[d], WL_RAM);
	}
	/* the VM without a device: its slot is WL_RAM too */
	MUST(kvm_model_delete_slot(c[0].e.kvm, 0));
	MUST(kvm_model_set_slot(c[0].e.kvm, 0, GPA0, WL_RAM, false));

	for (w = 0; w < 2; w++) {
		/*
		 * one round first, untimed, so every configuration starts from
		 * the same state (an attach that pins has populated the region)
		 */
		for (d = 0; d < NWL; d++) {
			wl_round(&c[d], w == 1);
			if (d)
				kvm_iommu_get_stats(c[d].a.kio, &c[d].st0);
			c[d].v0 = vtd_stats(c[d].e.hw);
			c[d].f0 = c[d].e.kvm->flushes;
		}
		/*
		 * the order rotates each round: a configuration's round is
		 * cheaper right after another's freed memory it reuses (the
		 * emulated memory's allocator, caches), so each follows each
		 * other alike
		 */
		for (k = 0; k < rounds[w]; k++)
			for (i = 0; i < NWL; i++) {
				double t0;

				d = (k + i) % NWL;
				t0 = now_s();
				wl_round(&c[d], w == 1);
				c[d].t[k] = now_s() - t0;
			}
		for (d = 0; d < NWL; d++) {
			struct kvm_iommu_stats st1 = { 0 };
			struct vtdm_stats v1 = vtd_stats(c[d].e.hw);
			struct kvm_res *x = &r[w][d];

			if (d)
				kvm_iommu_get_stats(c[d].a.kio, &st1);
			else
				memset(&c[d].st0, 0, sizeof(c[d].st0));
			x->sec = trimmed_mean(c[d].t, rounds[w]);
			x->ops = w ? 1 : WL_REGION >> PAGE_SHIFT;
			x->kvm_flushes = c[d].e.kvm->flushes - c[d].f0;
			x->ioas_flushes = st1.flushes - c[d].st0.flushes;
			x->domain_flushes = st1.domain_flushes - c[d].st0.domain_flushes;
			x->qi_descs = d ? v1.qi_descs - c[d].v0.qi_descs : 0;
			x->qi_waits = d ? v1.qi_waits - c[d].v0.qi_waits : 0;
			csv_row("kvm,%s,%s,%d,%llu,%.9f,%llu,%llu,%llu,%llu,%llu",
				w ? "memslots" : "discard", wl_key[d], rounds[w],
				(unsigned long long)x->ops, x->sec,
				(unsigned long long)x->kvm_flushes,
				(unsigned long long)x->ioas_flushes,
				(unsigned long long)x->domain_flushes,
				(unsigned long long)x->qi_descs,
				(unsigned long long)x->qi_waits);
		}
	}
	for (d = NWL - 1; d >= 1; d--) {
		dma_probe(&c[d].e, GPA0 + WL_RAM - 8);
		detach(&c[d].e, &c[d].a);
		kvm_model_close(c[d].e.kvm);
		MUST_TRUE(c[d].e.destroyed, "the VM outlived its fd");
		if (c[d].e.dma.pri)
			dma_dev_disable_pri(&c[d].e.dma);
		kt_intel_prq_disable(c[d].e.iommu);
		kt_intel_iommu_destroy(c[d].e.iommu);
		vtd_destroy(c[d].e.hw);
	}
	env_down(&c[0].e);

	out("\n4. KVM's side: vCPU and VMM workloads with a device attached (%llu MiB guests, 4 KiB\n"
	    "   backing, one VM per configuration taking turns in rotating order; a round's time\n"
	    "   is the mean without the fastest and slowest tenth): throughput / no\n"
	    "   device, and per KVM flush: IOAS flushes (one invalidation batch to every SHARED\n"
	    "   domain), domain flushes, invalidation descriptors and waits the VT-d unit\n"
	    "   processed\n", WL_RAM >> 20);
	for (w = 0; w < 2; w++) {
		out("\n  %s (%s, %d rounds)\n", wl[w],
		    w ? "2 MiB slot the vCPU writes whole, per round"
		      : "64 MiB region, 2 MiB discards", rounds[w]);
		out("  %-14s %12s %8s %10s %10s %10s %10s %10s\n", "device", unit[w], "/ none",
		    "KVM flush", "batch/fl", "dom/fl", "desc/fl", "wait/fl");
		for (d = 0; d < NWL; d++) {
			struct kvm_res *x = &r[w][d];
			double fl = x->kvm_flushes ? x->kvm_flushes : 1;

			out("  %-14s %12.0f %7.2fx %10llu %10.2f %10.2f %10.2f %10.2f\n", wl_name[d],
			    x->ops / x->sec, (x->ops / x->sec) / (r[w][0].ops / r[w][0].sec),
			    (unsigned long long)x->kvm_flushes, x->ioas_flushes / fl,
			    x->domain_flushes / fl, x->qi_descs / fl, x->qi_waits / fl);
		}
	}
}

/* ---- 5: IO page faults ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void iopf_rows(bool quick, bool thp)
{
	const u64 size = quick ? 16 * MIB : 64 * MIB;
	/* page 0 is the vCPU's (env_up()): every other page is fresh */
	const u64 n = (size >> PAGE_SHIFT) - 1;
	double *lat = calloc(n, sizeof(*lat)), t0, tw0, tw;
	struct kvm_iommu_stats st;
	struct attached a;
	u64 req0, off, i, huge0;
	struct env e;
	u64 v = 1;
	FILE *f;

	MUST_TRUE(lat, "calloc");
	/* 4 KiB backing: one page request per page, each timed by the device */
	env_up(&e, size, false);
	MUST(dma_dev_enable_pri(&e.dma, 1));
	attach(&e, &a, M_FAULT, size);
	req0 = e.dma.page_requests;
	tw0 = now_s();
	for (i = 0; i < n; i++) {
		t0 = now_s();
		MUST(dma_write(&e.dma, GPA0 + (i + 1) * PAGE_SIZE, &v, sizeof(v)));
		lat[i] = now_s() - t0;
	}
	tw = now_s() - tw0;
	MUST_TRUE(e.dma.page_requests - req0 == n, "%llu page requests for %llu pages",
		  (unsigned long long)(e.dma.page_requests - req0), (unsigned long long)n);
	kvm_iommu_get_stats(a.kio, &st);
	detach(&e, &a);
	env_down(&e);
	qsort(lat, n, sizeof(*lat), cmp_double);
	f = dat("iopf-latency.dat");
	fprintf(f, "# fraction round-trip-us\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%.6f %.3f\n", (double)(i + 1) / n, lat[i] * 1e6);
	fclose(f);
	out("\n5. IO page faults (a device with ATS and PRI, SHARED with a fault queue, %llu MiB\n"
	    "   of fresh guest memory, one 8-byte write per page)\n", size >> 20);
	out("  4 KiB backing: %llu page requests for %llu pages; round trip as the device sees\n"
	    "  it (request -> response -> translated write): p50 %.1f us, p99 %.1f us, max %.1f us\n",
	    (unsigned long long)n, (unsigned long long)n, lat[n / 2] * 1e6,
	    lat[n * 99 / 100] * 1e6, lat[n - 1] * 1e6);
	out("  the IOAS's own count (group received -> answered, kvm_iommu_iopf_end): %llu groups,\n"
	    "  mean %.1f us, max %.1f us; %.0f faults/s through the whole path\n",
	    (unsigned long long)st.iopf_groups,
	    st.iopf_groups ? st.iopf_ns_total / 1e3 / st.iopf_groups : 0.0,
	    st.iopf_ns_max / 1e3, n / tw);
	csv_row("iopf,4k,%llu,%.9f,%.9f,%.9f,%llu,%.9f,%.9f", (unsigned long long)n, lat[n / 2],
		lat[n * 99 / 100], lat[n - 1], (unsigned long long)st.iopf_groups,
		st.iopf_groups ? st.iopf_ns_total / 1e9 / st.iopf_groups : 0.0,
		st.iopf_ns_max / 1e9);
	if (!thp) {
		out("  2 MiB (THP) backing: not run (-T)\n");
		free(lat);
		return;
	}

	/* THP backing: every page written, requests counted per 2 MiB */
	env_up(&e, size, true);
	MUST(dma_dev_enable_pri(&e.dma, 1));
	attach(&e, &a, M_FAULT, size);
	req0 = e.dma.page_requests;
	huge0 = e.kvm->huge_faults;
	/* the first 2 MiB is the vCPU's (env_up()) */
	for (off = HUGE; off < size; off += PAGE_SIZE)
		MUST(dma_write(&e.dma, GPA0 + off, &v, sizeof(v)));
	out("  2 MiB (THP) backing: %llu page requests for %llu pages = %.2f per 2 MiB; KVM mapped\n"
	    "  %llu 2 MiB leaves\n", (unsigned long long)(e.dma.page_requests - req0),
	    (unsigned long long)((size - HUGE) >> PAGE_SHIFT),
	    (double)(e.dma.page_requests - req0) / (size / HUGE - 1),
	    (unsigned long long)(e.kvm->huge_faults - huge0));
	csv_row("iopf,2m,%llu,%llu,%llu", (unsigned long long)n,
		(unsigned long long)(e.dma.page_requests - req0),
		(unsigned long long)(e.kvm->huge_faults - huge0));
	detach(&e, &a);
	env_down(&e);
	free(lat);
}

/* ---- machine and parameters ---- */

static void machine(void)
{
	char line[256], model[256] = "?";
	struct utsname u;
	double load[3] = { 0 };
	long mem_kb = 0;
	time_t t = time(NULL);
	FILE *f;

	uname(&u);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (f) {
		if (fscanf(f, "MemTotal: %ld kB", &mem_kb) != 1)
			mem_kb = 0;
		fclose(f);
	}
	getloadavg(load, 3);
	out("machine: %s, %ld CPUs online, %.1f GiB RAM, %s %s\n", model,
	    sysconf(_SC_NPROCESSORS_ONLN), mem_kb / 1048576.0, u.sysname, u.release);
	out("run: %s", ctime(&t));
	out("load average at start: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
}

int main(int argc, char **argv)
{
	struct attach_table fresh4k, pop4k, fresh2m;
	const char *only = "12345";
	bool quick = false, thp = true;
	double t_start = now_s(), t_pop;
	const char *s;
	char path[4096];
	int opt, i, m, i1, i4, imax;

	while ((opt = getopt(argc, argv, "qTo:s:")) != -1) {
		if (opt == 'q')
			quick = true;
		else if (opt == 'T')
			thp = false;
		else if (opt == 's')
			only = optarg;
		else if (opt == 'o')
			outdir = optarg;
		else
			die("usage: %s [-q] [-T] [-o DIR] [-s SECTIONS]", argv[0]);
	}
	if ((s = getenv("BENCH_MAX_PIN_MIB")))
		max_pin = strtoull(s, NULL, 0) * MIB;
	if ((s = getenv("BENCH_MAX_PIN2_MIB")))
		max_pin2 = strtoull(s, NULL, 0) * MIB;
	if ((s = getenv("BENCH_MAX_MIB")))
		max_all = strtoull(s, NULL, 0) * MIB;
	if (max_pin2 > max_pin)
		max_pin2 = max_pin;
	if (quick) {
		max_pin = max_pin < 256 * MIB ? max_pin : 256 * MIB;
		max_pin2 = max_pin;
		max_all = max_all < GIB ? max_all : GIB;
	}
	for (nsizes = 0; (64 * MIB << (2 * nsizes)) <= 16 * GIB; nsizes++)
		sizes[nsizes] = 64 * MIB << (2 * nsizes);	/* 64M 256M 1G 4G 16G */
	snprintf(path, sizeof(path), "%s/bench.txt", outdir);
	txt = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/bench.csv", outdir);
	csv = fopen(path, "w");
	MUST_TRUE(txt && csv, "cannot write to %s", outdir);
	csv_row("row,mode,backing,memory,MiB,reps,seconds,io_table_pages,kvm_table_pages_added,"
		"other_pages,pinned_pages");
	rcu_register_thread();
	setvbuf(stdout, NULL, _IOLBF, 0);

	out("kvm-iommufd bench (host build: the product's code over the emulated platform)\n");
	machine();
	out("platform: VT-d model (QEMU 7.2 scalable mode, aw-bits=48, with page requests),\n"
	    "          KVM TDP MMU model with NPT tables, one device 00:03.0; guest RAM one\n"
	    "          memslot at GPA 4 GiB\n");
	out("parameters: sizes 64 MiB..%llu MiB; modes that pin: up to %llu MiB on fresh 4 KiB\n"
	    "            memory, %llu MiB otherwise; %s; repetitions: 5 up to 64 MiB, 3 up to\n"
	    "            1 GiB, 1 above, SHARED+faultq 9 (medians)\n",
	    (unsigned long long)(max_all >> 20), (unsigned long long)(max_pin >> 20),
	    (unsigned long long)(max_pin2 >> 20), quick ? "quick set" : "full set");

	if (!strchr(only, '1'))
		goto kvm;
	pin_rate_size = GIB <= max_pin2 ? GIB : max_pin2;
	out("\n1. attach cost against guest size (IOAS alloc + HWPT alloc + attach; conventional:\n"
	    "   + IOMMU_IOAS_MAP of the same memory)\n");
	attach_rows("4k", false, false, &fresh4k);
	attach_rows("4k", false, true, &pop4k);
	attach_rows("2m", true, false, &fresh2m);

	i1 = size_index(GIB);
	i4 = size_index(4 * GIB);
	for (imax = nsizes - 1; imax > 0 && fresh4k.sec[M_FAULT][imax] < 0; imax--)
		;
	out("\n  SHARED+faultq flatness: t(%llu MiB)/t(1 GiB) = %.2f (4 KiB), %.2f (2 MiB)\n",
	    (unsigned long long)(sizes[imax] >> 20),
	    fresh4k.sec[M_FAULT][imax] / fresh4k.sec[M_FAULT][i1],
	    fresh2m.sec[M_FAULT][imax] / fresh2m.sec[M_FAULT][i1]);
	if (i4 >= 0 && fresh4k.sec[M_CONV][i4] > 0)
		out("  conventional / SHARED+faultq at 4 GiB, 4 KiB backing: %.0fx\n",
		    fresh4k.sec[M_CONV][i4] / fresh4k.sec[M_FAULT][i4]);

	out("\n2. IO page-table memory per GiB of guest RAM (the platform's page counts, at the\n"
	    "   largest size each mode ran; 4 KiB backing / 2 MiB backing)\n");
	out("  %-14s %18s %18s %22s %16s\n", "mode", "IO table KiB/GiB", "(2 MiB backing)",
	    "KVM table added KiB/GiB", "IOMMU structs KiB");
	for (m = 0; m < NMODES; m++) {
		int j, k;

		for (j = nsizes - 1; j > 0 && fresh4k.sec[m][j] < 0; j--)
			;
		for (k = nsizes - 1; k > 0 && fresh2m.sec[m][k] < 0; k--)
			;
		out("  %-14s %18.1f %18.1f %22.1f %16ld\n", mode_name[m],
		    fresh4k.last[m][j].io_tables * 4.0 / ((double)sizes[j] / GIB),
		    fresh2m.last[m][k].io_tables * 4.0 / ((double)sizes[k] / GIB),
		    fresh4k.last[m][j].kvm_tables * 4.0 / ((double)sizes[j] / GIB),
		    fresh4k.last[m][j].other * 4);
	}

	/* 3: pin rate against populating the same memory, at 1 GiB (or the largest pinned size) */
	{
		u64 psz = pin_rate_size;
		int ip = size_index(psz);

		out("\n3. pin rate against the VMM populating the same fresh memory (MAP_POPULATE), %llu MiB,\n"
		    "   populate measured in turn with the attaches of section 1\n",
		    (unsigned long long)(psz >> 20));
		out("  %-8s %14s %14s %14s %14s %14s\n", "backing", "populate", "conventional",
		    "PINNED", "SHARED", "(rate / populate)");
		for (i = 0; i < 2 && ip >= 0; i++) {
			struct attach_table *t = i ? &fresh2m : &fresh4k;

			t_pop = t->populate;
			out("  %-8s %11.1f ms %11.1f ms %11.1f ms %11.1f ms\n", i ? "2 MiB" : "4 KiB",
			    t_pop * 1e3, t->sec[M_CONV][ip] * 1e3, t->sec[M_PINNED][ip] * 1e3,
			    t->sec[M_SHARED][ip] * 1e3);
			out("  %-8s %14s %13.2fx %13.2fx %13.2fx\n", "", "rate:",
			    t_pop / t->sec[M_CONV][ip], t_pop / t->sec[M_PINNED][ip],
			    t_pop / t->sec[M_SHARED][ip]);
			csv_row("populate,%s,%llu,%.9f", i ? "2m" : "4k",
				(unsigned long long)(psz >> 20), t_pop);
		}
	}

kvm:
	if (strchr(only, '4'))
		kvm_rows(quick);
	if (strchr(only, '5'))
		iopf_rows(quick, thp);

	{
		double load[3] = { 0 };

		getloadavg(load, 3);
		out("\nload average at the end: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
	}
	out("bench: done in %.0f s\n", now_s() - t_start);
	fclose(txt);
	fclose(csv);
	rcu_unregister_thread();
	return 0;
}
