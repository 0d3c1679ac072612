// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd demo: a VMM sets up device DMA for a guest, on the host
 * build's emulated platform (KVM TDP MMU model, VT-d model, DMA device),
 * running the product's core and VT-d adapter.
 *
 *   1. create a VM whose guest writes its memory;
 *   2. allocate a KVM-sourced IOAS and attach a device: SHARED, the
 *      IOMMU walks KVM's own table (attach time, IO page-table bytes,
 *      pages pinned); the device copies guest bytes between two GPAs;
 *   3. attach a second device, behind a unit that cannot walk KVM's
 *      table, to the same IOAS: PINNED, with the reasons named;
 *   4. the VMM adds, then removes a memslot: both devices follow, with
 *      no call to the IOAS;
 *   5. the VMM forks and changes protections, and the host compacts,
 *      splits huge pages and reclaims: KVM keeps the leaves of the pages
 *      the IOAS holds pinned, edu (which cannot fault) keeps every DMA,
 *      and the pages nobody pins still move;
 *   6. live migration: the VMM logs dirty pages and copies the VM into a
 *      second VM round by round while edu (SHARED) and nic (PINNED) keep
 *      writing; each harvest reports every page a device may have written
 *      (the pages reported are shown), and the copy equals the source byte
 *      for byte;
 *   7. the VMM discards a guest page: KVM's flush reaches the IOMMU and a
 *      DMA to that page no longer lands;
 *   8. a VM on stock Linux 6.12 (KVM's MMU-present bit 11) cannot be
 *      shared: sharing required is refused with the reasons, the default
 *      policy pins;
 *   9. zero pin: a device that can fault (ATS and PRI) is attached with
 *      nothing pinned, DMAs into memory the guest never touched, and each
 *      page request is resolved by KVM (fault count and latency shown);
 *      one it cannot resolve is answered with a failure and shows up in
 *      the VMM's fault queue.
 * Every step is checked; the demo exits non-zero if a check fails.  At the
 * end it prints how often each trace event fired by its own counters (the
 * IOAS statistics), which `make perf-demo` compares with perf stat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../vtd_internal.h"
#include "../platform/dma.h"
#include "../platform/kvm_mmu.h"
#include "../standin/fault.h"
#include "../standin/intel_kvm_domain.h"
#include "../standin/iopf.h"
#include "../harness/hwpt.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"
#include <linux/kvm_iommufd.h>
#include <uapi/linux/iommufd_kvm.h>

#define SID	0x0018		/* 00:03.0, where QEMU puts edu */
#define SID_NIC	0x0020		/* 00:04.0 */
#define SID_ACC	0x0028		/* 00:05.0: an accelerator with ATS and PRI */
#define RAM	(64ULL << 20)
#define HOTPLUG_GPA	(1ULL << 30)
#define HOTPLUG_SIZE	(8ULL << 20)

extern struct mm_struct kt_mm;

static int failures;

#define CHECK(cond, fmt, ...)						\
	do {								\
		bool __ok = (cond);					\
		printf("  [%s] " fmt "\n", __ok ? " ok " : "FAIL", ##__VA_ARGS__); \
		failures += !__ok;					\
	} while (0)

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *reason_names(u32 r, char *buf, size_t len)
{
	static const char *const names[] = {
		"no translation mode", "permission format", "table levels",
		"address width", "page sizes", "reserved bits",
		"non-present entries", "MMIO caching", "walk coherency",
		"access tracking", "device", "KVM zaps on its own",
	};
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(r & (1u << i)))
			continue;
		if (buf[0])
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, names[i], len - strlen(buf) - 1);
	}
	return buf;
}

static struct kspte_cfg npt(unsigned int present_bit)
{
	struct kspte_cfg c = {
		.present_bit = present_bit, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};
	return c;
}

/* The device copies @len bytes from @src to @dst; true if the guest reads them there. */
static bool copy_seen(struct dma_dev *dma, struct kvm *kvm, u64 src, u64 dst,
		      const u8 *want, size_t len)
{
	u8 got[64] = { 0 };

	kvm_model_guest_write(kvm, dst, got, len);
	if (dma_copy(dma, src, dst, len))
		return false;
	kvm_model_guest_read(kvm, dst, got, len);
	return !memcmp(got, want, len);
}

/* Every IOAS's counters, summed as the IOASes go: the demo's trace counts. */
static struct kvm_iommu_stats total;

static void ioas_free(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_stats st;

	kvm_iommu_get_stats(kio, &st);
	total.attaches += st.attaches;
	total.detaches += st.detaches;
	total.modes += st.modes;
	total.iopf_groups += st.iopf_groups;
	total.faultins += st.faultins;
	total.flushes += st.flushes;
	total.pin_calls += st.pin_calls;
	total.unpin_calls += st.unpin_calls;
	total.memslot_changes += st.memslot_changes;
	total.memslot_refused += st.memslot_refused;
	total.memslot_initial += st.memslot_initial;
	total.dirty_harvests += st.dirty_harvests;
	total.slot_retries += st.slot_retries;
	kvm_iommu_ioas_free(kio);
}

static void print_trace_counts(void)
{
	const struct { const char *name; u64 n; } ev[] = {
		{ "kvm_iommu_attach", total.attaches },
		{ "kvm_iommu_detach", total.detaches },
		{ "kvm_iommu_mode", total.modes },
		{ "kvm_iommu_iopf_begin", total.iopf_groups },
		{ "kvm_iommu_kvm_faultin", total.faultins },
		{ "kvm_iommu_iopf_end", total.iopf_groups },
		{ "kvm_iommu_invalidate", total.flushes },
		{ "kvm_iommu_sync", total.flushes },
		{ "kvm_iommu_pin", total.pin_calls },
		{ "kvm_iommu_unpin", total.unpin_calls },
		{ "kvm_iommu_memslot", total.memslot_initial + total.memslot_changes +
					total.memslot_refused + total.slot_retries },
		{ "kvm_iommu_dirty_log", total.dirty_harvests },
	};
	unsigned int i;

	printf("\ntrace events (the demo's own counters; perf stat -e 'sdt_kvm_iommu:*' "
	       "counts the same):\n");
	for (i = 0; i < ARRAY_SIZE(ev); i++)
		printf("  %-28s %8llu\n", ev[i].name, (unsigned long long)ev[i].n);
}

/*
 * 7. A device with ATS and PRI behind a unit with page requests, on a VM
 * whose guest never touched its memory: SHARED with a fault queue, so
 * nothing is pinned and each page the device touches first is a page
 * request that KVM resolves.
 */
static void zero_pin(struct phys *pm, double t_pinned_attach)
{
	struct vtd *hw = vtd_create(pm, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI);
	struct intel_iommu *iommu = kt_intel_iommu_create(pm, hw, 2);
	struct iommufd_ctx ictx = { .account_mode = IOPT_PAGES_ACCOUNT_USER };
	struct iopf_queue *iopfq = kt_iopf_queue_alloc("iopf-demo");
	struct device acc = { .name = "acc" };
	struct kspte_cfg cfg = npt(59);
	struct iommufd_fault fault;
	struct kvm_iommu_stats st;
	struct kt_pgfault rec[4];
	struct kt_kvm_hwpt hwpt;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct dma_dev dma;
	static u8 buf[1 << 20];
	u64 gpa, huge0, requests;
	double t0, t_attach;
	struct kvm *kvm;
	bool destroyed;
	unsigned int i, n;
	int ret;

	printf("\n9. zero pin: a device that can fault (ATS + PRI), on a VM whose guest "
	       "never touched its %llu MiB\n", RAM >> 20);
	kvm = kvm_model_create(pm, &cfg, &destroyed);
	kvm_model_set_slot(kvm, 0, 0, RAM, false);
	kvm_model_set_slot_flags(kvm, 1, HOTPLUG_GPA, HOTPLUG_SIZE, KVM_MODEL_SLOT_HUGE);
	kvm_model_fault(kvm, 0, false);		/* the first vCPU builds KVM's root */
	kt_intel_prq_enable(iommu);
	kt_intel_probe_device(&acc, iommu, SID_ACC);
	dma_dev_init(&dma, hw, SID_ACC);
	dma_dev_enable_pri(&dma, 1);
	kt_fault_init(&fault);
	iopt_init_table(&iopt);
	kio = kvm_iommu_ioas_alloc(kvm->fd, &ictx, &iopt);
	t0 = now_us();
	ret = kt_kvm_hwpt_attach_fault(&hwpt, kio, &iopt, &acc, KVM_IOMMU_POLICY_AUTO,
				       &fault, iopfq);
	t_attach = now_us() - t0;
	kvm_iommu_get_stats(kio, &st);
	CHECK(ret == 0 && hwpt.mode == IOMMU_KVM_MODE_SHARED && st.pinned_pages == 0 &&
	      kvm_model_pinned(kvm) == 0 && kt_mm.locked_vm == 0 && kt_user.locked_vm == 0,
	      "acc: IOMMU_HWPT_ALLOC with a fault queue: mode SHARED, 0 pages pinned, "
	      "attach %.3f ms (edu's, which pinned everything: %.1f ms)",
	      t_attach / 1000, t_pinned_attach / 1000);
	if (ret)
		goto out;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 31 + 1);
	ret = dma_write(&dma, 16ULL << 20, buf, sizeof(buf));
	kvm_iommu_get_stats(kio, &st);
	memset(buf, 0, sizeof(buf));
	kvm_model_guest_read(kvm, 16ULL << 20, buf, sizeof(buf));
	for (i = 0; i < sizeof(buf) && buf[i] == (u8)(i * 31 + 1); i++)
		;
	CHECK(ret == 0 && i == sizeof(buf) && st.iopf_groups == 256 && st.faultins == 256,
	      "acc writes 1 MiB at GPA 16 MiB: %llu page requests, %llu resolved by KVM "
	      "(4 KiB each), the guest reads every byte", (unsigned long long)dma.page_requests,
	      (unsigned long long)st.faultins);
	printf("  fault latency (page request received -> response sent): mean %.1f us, "
	       "max %.1f us\n", st.iopf_groups ? st.iopf_ns_total / 1e3 / st.iopf_groups : 0,
	       st.iopf_ns_max / 1e3);

	requests = dma.page_requests;
	huge0 = kvm->huge_faults;
	for (gpa = HOTPLUG_GPA, ret = 0; !ret && gpa < HOTPLUG_GPA + HOTPLUG_SIZE;
	     gpa += PAGE_SIZE)
		ret = dma_write(&dma, gpa, buf, 64);
	CHECK(ret == 0 && dma.page_requests - requests == HOTPLUG_SIZE >> 21 &&
	      kvm->huge_faults - huge0 == HOTPLUG_SIZE >> 21,
	      "acc writes every page of %llu MiB of THP-backed memory: %llu page requests, "
	      "one per 2 MiB (KVM maps 2 MiB leaves)", HOTPLUG_SIZE >> 20,
	      (unsigned long long)(dma.page_requests - requests));

	ret = dma_write(&dma, 0x80000000ULL, buf, 8);
	kt_fault_wait(&fault, 1, 5000);		/* the VMM polls the fault fd */
	n = kt_fault_read(&fault, rec, ARRAY_SIZE(rec));
	CHECK(ret == -EFAULT && dma.last_pri_code == 1 && n == 1 &&
	      rec[0].addr == 0x80000000ULL,
	      "acc writes to GPA 0x80000000 (no memslot: emulated MMIO): answered Invalid "
	      "Request; the VMM reads it from the fault queue: dev %02x:%02x.%x addr %#llx "
	      "perm %s", n ? rec[0].dev_sid >> 8 : 0, n ? (rec[0].dev_sid >> 3) & 31 : 0,
	      n ? rec[0].dev_sid & 7 : 0, n ? (unsigned long long)rec[0].addr : 0,
	      n && (rec[0].perm & IOMMU_FAULT_PERM_WRITE) ? "write" : "read");
	kvm_iommu_get_stats(kio, &st);
	CHECK(st.pinned_pages == 0 && kvm_model_pinned(kvm) == 0 && kt_mm.locked_vm == 0 &&
	      dma.pri_unexpected == 0,
	      "still 0 pages pinned; %llu of %llu guest pages exist: the %llu the device "
	      "touched and the vCPU's one; every page request group answered once",
	      (unsigned long long)kvm_model_backed(kvm),
	      (unsigned long long)((RAM + HOTPLUG_SIZE) >> PAGE_SHIFT),
	      (unsigned long long)kvm_model_backed(kvm) - 1);
out:
	kt_kvm_hwpt_detach(&hwpt);
	kt_fault_destroy(&fault);
	ioas_free(kio);
	iopt_unmap_all(&iopt, NULL);
	iopt_destroy_table(&iopt);
	kvm_model_close(kvm);
	dma_dev_disable_pri(&dma);
	kt_iopf_queue_free(iopfq);
	kt_intel_prq_disable(iommu);
	kt_intel_iommu_destroy(iommu);
	vtd_destroy(hw);
}

static u64 shared_pins(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_stats st;

	kvm_iommu_get_stats(kio, &st);
	return st.pinned_pages;
}

/* Every page of the first 4 MiB: edu copies the message there, the guest reads it. */
static unsigned int copies_landed(struct dma_dev *dma, struct kvm *kvm, const u8 *msg,
				  size_t len)
{
	unsigned int n = 0;
	u64 gpa;

	for (gpa = 0x200000; gpa < 0x600000; gpa += PAGE_SIZE)
		n += copy_seen(dma, kvm, 0x1000, gpa, msg, len);
	return n;
}

static void host_mm_events(struct kvm *kvm, struct kvm_iommu_ioas *kio, struct dma_dev *dma,
			   struct dma_dev *nic_dma, const u8 *msg, size_t len)
{
	static const struct {
		const char *what;
		enum mmu_notifier_event event;
		bool migrate;
	} ev[] = {
		{ "the VMM forks (copy-on-write protection of guest memory)",
		  MMU_NOTIFY_PROTECTION_PAGE, false },
		{ "the VMM mprotects guest memory read-only, then read-write",
		  MMU_NOTIFY_PROTECTION_VMA, false },
		{ "the host compacts memory (every page it can move, moves)",
		  MMU_NOTIFY_CLEAR, true },
		{ "the host splits huge pages, merges (KSM) and reclaims",
		  MMU_NOTIFY_CLEAR, false },
	};
	const unsigned int pages = 0x400000 / PAGE_SIZE;
	u64 hpa0 = kvm_model_backing(kvm, 0x200000), kept0, migrated0;
	struct kvm_iommu_stats st;
	unsigned int i, n, nic_n;
	u8 b[8] = { 1 };

	printf("\n5. host memory management under edu, which cannot fault\n");
	for (i = 0; i < ARRAY_SIZE(ev); i++) {
		kvm_iommu_get_stats(kio, &st);
		kept0 = st.kept_leaves;
		migrated0 = kvm->migrated;
		kvm_model_mm_event(kvm, 0, RAM, ev[i].event, ev[i].migrate);
		if (ev[i].event == MMU_NOTIFY_PROTECTION_VMA)
			kvm_model_mm_event(kvm, 0, RAM, ev[i].event, false);
		n = copies_landed(dma, kvm, msg, len);
		nic_n = copies_landed(nic_dma, kvm, msg, len);
		kvm_iommu_get_stats(kio, &st);
		CHECK(n == pages && nic_n == pages && kvm->migrated == migrated0 &&
		      kvm_model_backing(kvm, 0x200000) == hpa0,
		      "%s: KVM kept %llu leaves (the IOAS holds their pages pinned); edu's "
		      "copies landed on %u/%u pages, nic's on %u/%u; no guest page moved",
		      ev[i].what, (unsigned long long)(st.kept_leaves - kept0), n, pages,
		      nic_n, pages);
	}
	/* a page nobody pins: the host moves it, and KVM zaps it */
	kvm_model_discard(kvm, 0x100000, PAGE_SIZE);
	kvm_model_guest_write(kvm, 0x100000, b, sizeof(b));
	migrated0 = kvm->migrated;
	kvm_model_mm_event(kvm, 0x100000, PAGE_SIZE, MMU_NOTIFY_CLEAR, true);
	CHECK(kvm->migrated == migrated0 + 1 && dma_copy(dma, 0x1000, 0x100000, 8) == -EFAULT,
	      "a page the guest faulted in after a discard is not pinned: compaction moves "
	      "it and KVM zaps its leaf (edu's DMA there is blocked until the vCPU touches it)");
}

static const char *dirty_log_name(u32 how)
{
	switch (how) {
	case IOMMU_KVM_DIRTY_FAULTS:
		return "FAULTS (precise: its writes fault and KVM logs each)";
	case IOMMU_KVM_DIRTY_TABLE:
		return "TABLE (precise: its IOMMU marks KVM's entries dirty)";
	case IOMMU_KVM_DIRTY_ALL:
		return "ALL (every page it can write, at every harvest)";
	}
	return "NONE";
}

/* Copy source page @page of @src into @dst through the destination guest's memory. */
static bool copy_page(struct phys *pm, struct kvm *src, struct kvm *dst, u64 page)
{
	static const u8 zero[PAGE_SIZE];
	u64 hpa = kvm_model_backing(src, page << PAGE_SHIFT);

	return !kvm_model_guest_write(dst, page << PAGE_SHIFT,
				      hpa ? phys_va(pm, hpa) : zero, PAGE_SIZE);
}

static u64 bitmap_weight_le(const unsigned long *bm, u64 bits)
{
	u64 w, n = 0;

	for (w = 0; w < BITS_TO_LONGS(bits); w++)
		n += __builtin_popcountl(bm[w]);
	return n;
}

/*
 * Pre-copy migration of slot 0 into a second VM while both devices and the
 * guest write, with KVM's own dirty log; then stop and compare.
 */
static void migration(struct phys *pm, struct kvm *kvm, struct kvm_iommu_ioas *kio,
		      struct kt_kvm_hwpt *edu, struct kt_kvm_hwpt *nic,
		      struct dma_dev *dma, struct dma_dev *nic_dma, const u8 *msg, size_t len)
{
	enum { ROUNDS = 4 };
	const u64 npages = RAM >> PAGE_SHIFT;
	u64 page, round, got, differ = 0, written = 0, reported = 0;
	struct kspte_cfg cfg = npt(59);
	struct kvm_iommu_stats st;
	unsigned long *bm;
	struct kvm *dst;
	bool ok = true, dst_gone;
	u8 a[PAGE_SIZE], b[PAGE_SIZE];

	printf("\n6. live migration: KVM logs dirty pages while edu and nic keep writing\n");
	printf("  how each device's writes reach KVM's dirty log (IOMMU_KVM_SHARE_QUERY): "
	       "edu %s; nic %s\n", dirty_log_name(kvm_iommu_dirty_log(kio, edu->domain)),
	       dirty_log_name(kvm_iommu_dirty_log(kio, nic->domain)));
	bm = calloc(BITS_TO_LONGS(npages), sizeof(long));
	dst = kvm_model_create(pm, &cfg, &dst_gone);
	if (!bm || !dst || kvm_model_set_slot(dst, 0, 0, RAM, false) ||
	    kvm_model_set_dirty_log(kvm, 0, true)) {
		CHECK(false, "set up the destination VM and dirty logging");
		return;
	}
	for (page = 0; page < npages; page++)
		ok &= copy_page(pm, kvm, dst, page);
	printf("  round 0: logging on (KVM_MEM_LOG_DIRTY_PAGES), all %llu pages copied\n",
	       (unsigned long long)npages);
	for (round = 1; round <= ROUNDS; round++) {
		/* the workload: both devices and the guest write a few pages */
		for (page = 0; page < 4; page++) {
			u64 gpa = (round << 22) + (page << 14);
			u8 tag[8] = { (u8)round, (u8)page };

			ok &= copy_seen(dma, kvm, 0x1000, gpa, msg, len);
			ok &= copy_seen(nic_dma, kvm, 0x1000, gpa + 0x1000, msg, len);
			ok &= !kvm_model_guest_write(kvm, gpa + 0x2000, tag, sizeof(tag));
			written += 3;
		}
		if (round == ROUNDS)
			printf("  the VM stops; the last harvest:\n");
		memset(bm, 0, BITS_TO_LONGS(npages) * sizeof(long));
		ok &= !kvm_model_get_dirty_log(kvm, 0, bm);
		got = bitmap_weight_le(bm, npages);
		reported += got;
		for (page = 0; page < npages; page++)
			if (bm[page / BITS_PER_LONG] & (1UL << (page % BITS_PER_LONG)))
				ok &= copy_page(pm, kvm, dst, page);
		printf("  round %llu: edu, nic and the guest wrote 12 pages; KVM_GET_DIRTY_LOG "
		       "reported %llu pages dirty; copied\n", (unsigned long long)round,
		       (unsigned long long)got);
	}
	for (page = 0; page < npages; page++) {
		ok &= !kvm_model_guest_read(kvm, page << PAGE_SHIFT, a, PAGE_SIZE);
		ok &= !kvm_model_guest_read(dst, page << PAGE_SHIFT, b, PAGE_SIZE);
		differ += memcmp(a, b, PAGE_SIZE) != 0;
	}
	kvm_iommu_get_stats(kio, &st);
	CHECK(ok && differ == 0 && st.dirty_harvests == ROUNDS,
	      "destination == source, byte for byte, over all %llu pages (%llu differ); "
	      "the harvests reported %llu pages for %llu written: the cost of the conservative "
	      "rule when a device writes unseen", (unsigned long long)npages,
	      (unsigned long long)differ, (unsigned long long)reported,
	      (unsigned long long)written);
	kvm_model_set_dirty_log(kvm, 0, false);
	kvm_model_close(dst);
	free(bm);
	printf("  (with EPT, PML and VT-d second-stage A/D the log is precise: "
	       "tests/dirty_log_test.c)\n");
}

int main(void)
{
	struct phys *pm = phys_create(1ULL << 31);
	struct vtd *hw = vtd_create(pm, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM);
	struct vtd *hw39 = vtd_create(pm, VTDM_QEMU_CAP_AW39, VTDM_QEMU_ECAP_SM);
	struct intel_iommu *iommu = kt_intel_iommu_create(pm, hw, 0);
	struct intel_iommu *iommu39 = kt_intel_iommu_create(pm, hw39, 1);
	struct iommufd_ctx ictx = { .account_mode = IOPT_PAGES_ACCOUNT_USER };
	struct device dev = { .name = "edu" }, nic = { .name = "nic" };
	struct kspte_cfg cfg = npt(59);
	struct kt_kvm_hwpt edu_hwpt, nic_hwpt;
	struct kvm_iommu_share_info info;
	struct kvm_iommu_stats st;
	struct dma_dev dma, nic_dma;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct iommu_domain *domain;
	struct vtdm_stats vs;
	struct kvm *kvm;
	bool destroyed;
	u8 msg[64], got[64], sentinel[64];
	u64 gpa, old_hpa, pins_before;
	u32 reasons;
	long kvm_tables, phys_before, backed;
	double t0, t_attach;
	char why[256];
	int ret;

	rcu_register_thread();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("kvm-iommufd demo: device DMA through KVM's own page table\n");
	printf("platform: VT-d (QEMU 7.2 scalable mode, aw-bits=48, cap %#llx ecap %#llx),\n"
	       "          KVM TDP MMU with NPT tables, device 00:03.0\n",
	       (unsigned long long)hw->cap, (unsigned long long)hw->ecap);

	printf("\n1. the VMM creates a VM with %llu MiB of RAM; the guest writes a message\n",
	       RAM >> 20);
	kvm = kvm_model_create(pm, &cfg, &destroyed);
	ret = kvm ? kvm_model_set_slot(kvm, 0, 0, RAM, false) : -ENOMEM;
	snprintf((char *)msg, sizeof(msg), "hello from the guest, through KVM's NPT");
	if (!ret)
		ret = kvm_model_guest_write(kvm, 0x1000, msg, sizeof(msg));
	memset(got, 0, sizeof(got));
	for (gpa = 0x200000; !ret && gpa < 0x200000 + (4 << 20); gpa += PAGE_SIZE)
		ret = kvm_model_guest_write(kvm, gpa, got, 8);	/* the guest's buffers */
	CHECK(ret == 0, "VM fd %d, memslot 0 at GPA 0-%#llx; the guest touched %d pages; "
	      "KVM's NPT table: %ld pages", kvm ? kvm->fd : -1, RAM - 1,
	      1 + (4 << 20) / 4096, kvm ? kvm->table_pages : 0);
	if (ret)
		return 1;

	printf("\n2. IOMMU_IOAS_ALLOC(KVM fd) and attach edu: the mode is chosen per device\n");
	kt_intel_probe_device(&dev, iommu, SID);
	kt_intel_probe_device(&nic, iommu39, SID_NIC);
	iopt_init_table(&iopt);
	kio = kvm_iommu_ioas_alloc(kvm->fd, &ictx, &iopt);
	CHECK(!IS_ERR(kio), "IOAS of VM fd %d: it follows the VM's memslots (%lu), nothing pinned",
	      kvm->fd, kt_iopt_nr_areas(&iopt));
	if (IS_ERR(kio))
		return 1;
	kvm_tables = kvm->table_pages;
	backed = kvm_model_backed(kvm);
	phys_before = phys_allocated(pm);
	t0 = now_us();
	ret = kt_kvm_hwpt_attach(&edu_hwpt, kio, &iopt, &dev, KVM_IOMMU_POLICY_AUTO);
	t_attach = now_us() - t0;
	CHECK(ret == 0 && edu_hwpt.mode == IOMMU_KVM_MODE_SHARED,
	      "edu: mode SHARED, attach took %.1f ms (most of it pinning and faulting in the "
	      "guest pages)", t_attach / 1000);
	if (ret)
		return 1;
	CHECK(kt_intel_ss_pointer(iommu, SID) == kvm->root,
	      "VT-d second-stage pointer %#llx == KVM's root %#llx",
	      (unsigned long long)kt_intel_ss_pointer(iommu, SID),
	      (unsigned long long)kvm->root);
	CHECK(phys_allocated(pm) - phys_before == 3 + (kvm_model_backed(kvm) - backed) +
	      (kvm->table_pages - kvm_tables),
	      "IO page-table bytes built: 0 (the IOMMU walks KVM's %ld table pages; "
	      "the attach added 3 pages of VT-d PASID structures)", kvm->table_pages);
	kvm_iommu_get_stats(kio, &st);
	CHECK(st.pinned_pages == RAM >> PAGE_SHIFT && kt_user.locked_vm == (long)st.pinned_pages &&
	      kvm_model_pinned(kvm) == (long)st.pinned_pages,
	      "pages pinned: %llu (%llu MiB, through the IOAS's io_pagetable, charged as "
	      "iommufd charges: locked_vm %ld, VmPin %ld): the device cannot fault, so every "
	      "guest page was pinned and faulted in writable",
	      (unsigned long long)st.pinned_pages, (unsigned long long)st.pinned_pages >> 8,
	      kt_user.locked_vm, kt_mm.pinned_vm);
	dma_dev_init(&dma, hw, SID);
	CHECK(copy_seen(&dma, kvm, 0x1000, 0x200000, msg, sizeof(msg)),
	      "edu copies the message from GPA 0x1000 to 0x200000; the guest reads: \"%s\"",
	      (char *)msg);
	vs = vtd_stats(hw);
	printf("  IOMMU: %llu translations, %llu table walks, %llu IOTLB hits\n",
	       (unsigned long long)vs.translations, (unsigned long long)vs.walks,
	       (unsigned long long)vs.iotlb_hits);

	printf("\n3. a second device, behind a unit that walks 3 levels and 39 address bits\n");
	ret = kvm_iommu_share_query(kio, &nic, &info);
	CHECK(ret == 0 && info.reasons,
	      "IOMMU_KVM_SHARE_QUERY: KVM %u levels, %u-bit addresses; the unit %s levels, "
	      "%u-bit addresses: cannot share (%s)", info.kvm_levels, info.kvm_phys_bits,
	      info.iommu_levels == 8 ? "3" : "other", info.iommu_addr_bits,
	      reason_names(info.reasons, why, sizeof(why)));
	phys_before = phys_allocated(pm);
	pins_before = kt_user.locked_vm;
	ret = kt_kvm_hwpt_attach(&nic_hwpt, kio, &iopt, &nic, KVM_IOMMU_POLICY_AUTO);
	CHECK(ret == 0 && nic_hwpt.mode == IOMMU_KVM_MODE_PINNED &&
	      nic_hwpt.reasons == info.reasons,
	      "nic: mode PINNED on the same IOAS, reasons %#x (%s)", nic_hwpt.reasons,
	      reason_names(nic_hwpt.reasons, why, sizeof(why)));
	CHECK(kt_iopt_npinned(&iopt) == RAM >> PAGE_SHIFT && kt_user.locked_vm == (long)pins_before &&
	      kvm_model_pinned(kvm) == (long)(RAM >> PAGE_SHIFT),
	      "a pinned IO page table built from the memslots: %ld table pages over the same "
	      "%lu pinned pages: one pin per page, nothing charged twice (locked_vm %ld, "
	      "VmPin %ld, host pins %ld: one copy of guest RAM)",
	      phys_allocated(pm) - phys_before - 3, kt_iopt_npinned(&iopt), kt_user.locked_vm,
	      kt_mm.pinned_vm, kvm_model_pinned(kvm));
	dma_dev_init(&nic_dma, hw39, SID_NIC);
	CHECK(copy_seen(&nic_dma, kvm, 0x1000, 0x300000, msg, sizeof(msg)),
	      "nic copies the message to GPA 0x300000; the guest reads it");

	printf("\n4. the VMM hot-adds %llu MiB of RAM at GPA %#llx, later removes it\n",
	       HOTPLUG_SIZE >> 20, HOTPLUG_GPA);
	ret = kvm_model_set_slot(kvm, 1, HOTPLUG_GPA, HOTPLUG_SIZE, false);
	CHECK(ret == 0 && copy_seen(&dma, kvm, 0x1000, HOTPLUG_GPA, msg, sizeof(msg)) &&
	      copy_seen(&nic_dma, kvm, 0x1000, HOTPLUG_GPA + 0x1000, msg, sizeof(msg)),
	      "KVM_SET_USER_MEMORY_REGION alone: edu and nic DMA into the new memory");
	CHECK(shared_pins(kio) == (RAM + HOTPLUG_SIZE) >> PAGE_SHIFT &&
	      kt_iopt_npinned(&iopt) == (RAM + HOTPLUG_SIZE) >> PAGE_SHIFT &&
	      kvm_model_pinned(kvm) == (long)((RAM + HOTPLUG_SIZE) >> PAGE_SHIFT) &&
	      kt_user.locked_vm == (long)((RAM + HOTPLUG_SIZE) >> PAGE_SHIFT),
	      "pins followed: edu (SHARED) and nic (PINNED) hold the same %lu pages, pinned "
	      "and charged once (locked_vm %ld)", kt_iopt_npinned(&iopt), kt_user.locked_vm);
	ret = kvm_model_delete_slot(kvm, 1);
	CHECK(ret == 0 && dma_copy(&dma, 0x1000, HOTPLUG_GPA, 64) == -EFAULT &&
	      dma_copy(&nic_dma, 0x1000, HOTPLUG_GPA, 64) == -EFAULT &&
	      shared_pins(kio) == RAM >> PAGE_SHIFT && kt_iopt_npinned(&iopt) == RAM >> PAGE_SHIFT,
	      "removed: DMA there is blocked for both, its pages unpinned");

	host_mm_events(kvm, kio, &dma, &nic_dma, msg, sizeof(msg));

	migration(pm, kvm, kio, &edu_hwpt, &nic_hwpt, &dma, &nic_dma, msg, sizeof(msg));

	printf("\n7. the VMM discards the guest page at 0x200000 (MADV_DONTNEED)\n");
	kvm_model_discard(kvm, 0x200000, PAGE_SIZE);
	old_hpa = kvm_model_discarded(kvm, 0x200000);
	memcpy(sentinel, phys_va(pm, old_hpa), sizeof(sentinel));
	ret = dma_copy(&dma, 0x1000, 0x200000, sizeof(msg));
	kvm_iommu_get_stats(kio, &st);
	vs = vtd_stats(hw);
	CHECK(ret == -EFAULT && !memcmp(sentinel, phys_va(pm, old_hpa), sizeof(sentinel)),
	      "edu's DMA to 0x200000 is blocked; the discarded page is untouched");
	printf("  KVM flushes seen by the IOAS: %llu; IOTLB invalidations: %llu page-selective, "
	       "%llu domain; waits: %llu\n", (unsigned long long)st.invalidations,
	       (unsigned long long)vs.inv_iotlb_psi, (unsigned long long)vs.inv_iotlb_dsi,
	       (unsigned long long)vs.qi_waits);

	kt_kvm_hwpt_detach(&nic_hwpt);
	kt_kvm_hwpt_detach(&edu_hwpt);
	ioas_free(kio);
	iopt_unmap_all(&iopt, NULL);
	kvm_model_close(kvm);
	CHECK(destroyed && kt_mm.locked_vm == 0 && kt_user.locked_vm == 0,
	      "devices detached, IOAS destroyed (pins released), VM fd closed: the VM is gone");

	printf("\n8. the same on stock Linux 6.12, where KVM marks present entries with bit 11\n");
	cfg = npt(11);
	cfg.mmio_caching = true;
	kvm = kvm_model_create(pm, &cfg, &destroyed);
	kvm_model_set_slot(kvm, 0, 0, RAM, false);
	kvm_model_guest_write(kvm, 0x1000, msg, sizeof(msg));
	kio = kvm_iommu_ioas_alloc(kvm->fd, &ictx, &iopt);
	domain = kvm_iommu_domain_alloc(kio, &dev, KVM_IOMMU_POLICY_SHARE_REQUIRED, NULL, &reasons);
	CHECK(PTR_ERR(domain) == -EOPNOTSUPP && reasons ==
	      (IOMMU_KVM_SHARE_RSVD_BITS | IOMMU_KVM_SHARE_MMIO_CACHING),
	      "sharing required: refused (EOPNOTSUPP), reasons %#x: %s", reasons,
	      reason_names(reasons, why, sizeof(why)));
	ret = kt_kvm_hwpt_attach(&edu_hwpt, kio, &iopt, &dev, KVM_IOMMU_POLICY_AUTO);
	CHECK(ret == 0 && edu_hwpt.mode == IOMMU_KVM_MODE_PINNED &&
	      copy_seen(&dma, kvm, 0x1000, 0x200000, msg, sizeof(msg)),
	      "default policy: edu PINNED, and its DMA reaches the guest");
	kt_kvm_hwpt_detach(&edu_hwpt);
	ioas_free(kio);
	iopt_unmap_all(&iopt, NULL);
	iopt_destroy_table(&iopt);
	kvm_model_close(kvm);

	zero_pin(pm, t_attach);

	kt_intel_iommu_destroy(iommu);
	kt_intel_iommu_destroy(iommu39);
	CHECK(phys_allocated(pm) == 0 && kt_mm.locked_vm == 0 && kt_user.locked_vm == 0,
	      "teardown: no page of the platform left allocated or pinned");
	vtd_destroy(hw);
	vtd_destroy(hw39);
	phys_destroy(pm);
	rcu_unregister_thread();
	print_trace_counts();
	printf("\ndemo %s: %d check(s) failed\n", failures ? "FAILED" : "passed", failures);
	return failures ? 1 : 0;
}
