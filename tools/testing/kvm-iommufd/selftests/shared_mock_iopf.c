// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's IO page fault path, run by the iommufd selftest driver's
 * mock device through its KVM-table domain.
 *
 * A mock device (IOMMU_TEST_OP_MOCK_DOMAIN) is given a SHARED HWPT with a
 * fault object on the KVM-sourced IOAS of a shared_vm without edu, whose
 * guest only ever touches its code, stack and two buffers.  It runs in a
 * boot without the vIOMMU, where the mock device works (TESTBED.md).  IOMMU_TEST_OP_KVM_DMA
 * then moves bytes through the mock domain, which walks KVM's table and
 * keeps what it walked in a small IOTLB; a page it cannot reach makes the
 * device raise a page request, which the kvm-iommufd core resolves through
 * KVM (kvm_tdp_export_map()) on the IO page fault workqueue.  The cases:
 *
 * - zero pin: the attach pins nothing (VmPin, VmLck, the IOAS's pinned
 *   pages); memory the vCPU never touched becomes reachable with one page
 *   request per 4 KiB page, or one per 2 MiB of THP-backed memory, and
 *   the bytes the device reads are the VMM's;
 * - write intent: after a dirty-log harvest write-protected a page, a
 *   write without a page request is refused, one with a write request
 *   lands, and the next harvest reports the page;
 * - refusals: a GPA outside every memslot, and a write to a read-only
 *   memslot, are answered Invalid; the VMM reads the answered record from
 *   the fault queue, and nothing else changed (the bytes, the pins);
 * - invalidation: MADV_DONTNEED of a page the IOTLB holds drops the entry
 *   before madvise() returns (an IOTLB-only probe misses right after);
 * - trace events: kvm_iommu_iopf_begin, kvm_iommu_kvm_faultin and
 *   kvm_iommu_iopf_end each fired once per page request;
 * - teardown with faults in flight: while a thread raises page requests
 *   (TRIGGER_IOPF, whose groups the core's handler queues, and mock DMAs),
 *   the device is detached (replaced by a paging domain of another IOAS),
 *   and its HWPT, fault queue, the KVM-sourced IOAS and the VM are
 *   destroyed: no page request goes unanswered, every DMA-raised group is
 *   counted once by the core, DMA after the detach is refused, and the
 *   kernel logs no WARNING or BUG.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirty_log.h"
#include "iommufd_utils.h"
#include "procfs.h"
#include "shared_vm.h"

#define PAGE		4096UL
#define UNTOUCHED_GPA	0x400000UL	/* slot 0: neither the guest nor edu uses it */
#define UNTOUCHED_PAGES	16
#define WRITE_GPA	0x600000UL	/* slot 0: the write-intent page */
#define DISCARD_GPA	0x700000UL	/* slot 0: the discarded page */
#define THP_SLOT	1
#define THP_GPA		(32UL << 20)
#define THP_SIZE	(4UL << 20)
#define RO_SLOT		2
#define RO_GPA		(64UL << 20)
#define RO_SIZE		(1UL << 20)
#define HOLE_GPA	(1UL << 30)	/* no memslot */
#define TRACEFS		"/sys/kernel/tracing"
#define EVENTS		TRACEFS "/events/kvm_iommu"

static struct shared_vm s;
static uint32_t plain_ioas, stdev_id, idev_id, fault_id, hwpt_id;
static int fault_fd;
/* page requests mock DMAs raised, for the trace event count */
static unsigned long faults_raised;

static int test_cmd(struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return __iommufd_ret(ioctl(s.iommufd, IOMMU_TEST_CMD, cmd));
}

/* IOMMU_TEST_OP_KVM_DMA of the mock device; 0 or -errno, @d filled in */
static int _mock_dma(uint32_t dev_id, struct iommu_test_kvm_dma *d)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_KVM_DMA,
		.id = dev_id,
		.kvm_dma = {
			.uptr = (uintptr_t)d,
			.length = sizeof(*d),
		},
	};

	return test_cmd(&cmd);
}

static struct iommu_test_kvm_dma mock_dma(uint64_t gpa, void *buf, uint64_t len,
					  uint32_t flags)
{
	struct iommu_test_kvm_dma d = {
		.flags = flags,
		.gpa = gpa,
		.length = len,
		.uptr = (uintptr_t)buf,
	};
	int ret = _mock_dma(idev_id, &d);

	TEST_ASSERT(!ret, "IOMMU_TEST_OP_KVM_DMA(%#llx, %llu, flags %#x): %s",
		    (unsigned long long)gpa, (unsigned long long)len, flags,
		    errno_name(-ret));
	faults_raised += d.out_faults;
	return d;
}

static struct iommu_test_kvm_ioas_stats stats(void)
{
	struct iommu_test_kvm_ioas_stats st;

	shared_kvm_stats(s.iommufd, s.ioas_id, &st);
	return st;
}

/* Attach the mock device to @pt_id instead; 0 or -errno */
static int mock_replace(uint32_t pt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace.pt_id = pt_id,
	};

	return test_cmd(&cmd);
}

/* A mock device on a plain IOAS, then a SHARED HWPT with a fault object. */
static void mock_attach_shared(void)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct iommu_fault_alloc falloc = {
		.size = sizeof(falloc),
	};
	struct iommu_hwpt_alloc halloc = {
		.size = sizeof(halloc),
		.flags = IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED,
		.pt_id = s.ioas_id,
	};
	char why[128];
	int ret;

	test_ioctl_ioas_alloc(s.iommufd, &plain_ioas);
	cmd.id = plain_ioas;
	ret = test_cmd(&cmd);
	TEST_ASSERT(!ret, "IOMMU_TEST_OP_MOCK_DOMAIN: %s", errno_name(-ret));
	stdev_id = cmd.mock_domain.out_stdev_id;
	idev_id = cmd.mock_domain.out_idev_id;

	TEST_ASSERT(!ioctl(s.iommufd, IOMMU_FAULT_QUEUE_ALLOC, &falloc),
		    "IOMMU_FAULT_QUEUE_ALLOC: %s", errno_name(errno));
	fault_id = falloc.out_fault_id;
	fault_fd = falloc.out_fault_fd;

	halloc.dev_id = idev_id;
	halloc.fault_id = fault_id;
	ret = __iommufd_ret(ioctl(s.iommufd, IOMMU_HWPT_ALLOC, &halloc));
	TEST_ASSERT(!ret, "HWPT_ALLOC(mock, SHARE_REQUIRED | FAULT_ID_VALID): %s, reasons %s",
		    errno_name(-ret),
		    shared_reason_names(halloc.out_kvm_reasons, why, sizeof(why)));
	TEST_ASSERT_EQ(halloc.out_kvm_mode, IOMMU_KVM_MODE_SHARED);
	hwpt_id = halloc.out_hwpt_id;

	ret = mock_replace(hwpt_id);
	TEST_ASSERT(!ret, "MOCK_DOMAIN_REPLACE to the SHARED HWPT: %s", errno_name(-ret));
}

/* Fill @len bytes at @p with a pattern of @seed. */
static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = shared_pattern(i + seed);
}

static void tracing_start(void)
{
	struct stat st;

	if (stat(TRACEFS "/events", &st))
		TEST_ASSERT(!mount("tracefs", TRACEFS, "tracefs", 0, NULL),
			    "mount tracefs: %s", errno_name(errno));
	TEST_ASSERT(write_file(TRACEFS "/tracing_on", "0"), "tracing_on");
	TEST_ASSERT(write_file(TRACEFS "/buffer_size_kb", "4096"), "buffer_size_kb");
	TEST_ASSERT(write_file(TRACEFS "/trace", ""), "clear the trace buffer");
	TEST_ASSERT(write_file(EVENTS "/kvm_iommu_iopf_begin/enable", "1") &&
		    write_file(EVENTS "/kvm_iommu_kvm_faultin/enable", "1") &&
		    write_file(EVENTS "/kvm_iommu_iopf_end/enable", "1"),
		    "enable the IO page fault events");
	TEST_ASSERT(write_file(TRACEFS "/tracing_on", "1"), "tracing_on");
}

/* Occurrences of each event in the trace buffer, tracing stopped. */
static void tracing_count(unsigned long *begin, unsigned long *faultin,
			  unsigned long *end)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	write_file(TRACEFS "/tracing_on", "0");
	*begin = *faultin = *end = 0;
	f = fopen(TRACEFS "/trace", "r");
	TEST_ASSERT(f, "open the trace buffer: %s", errno_name(errno));
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#')
			continue;
		*begin += !!strstr(line, " kvm_iommu_iopf_begin:");
		*faultin += !!strstr(line, " kvm_iommu_kvm_faultin:");
		*end += !!strstr(line, " kvm_iommu_iopf_end:");
	}
	free(line);
	fclose(f);
	write_file(EVENTS "/enable", "0");
}

/* The answered fault records queued since the last call; @gpa of each. */
static unsigned int read_answered(uint64_t gpa)
{
	struct iommu_hwpt_pgfault rec;
	unsigned int n = 0;
	int fl = fcntl(fault_fd, F_GETFL);

	fcntl(fault_fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fault_fd, &rec, sizeof(rec)) == sizeof(rec)) {
		TEST_EXPECT(rec.flags & IOMMU_PGFAULT_FLAGS_ANSWERED,
			    "record flags %#x without ANSWERED", rec.flags);
		TEST_EXPECT_EQ(rec.cookie, 0);
		TEST_EXPECT_EQ(rec.addr, gpa);
		n++;
	}
	fcntl(fault_fd, F_SETFL, fl);
	return n;
}

static void case_zero_pin(void)
{
	struct iommu_test_kvm_ioas_stats st;

	tap_begin("mock_attach_pins_nothing");
	mock_attach_shared();
	st = stats();
	tap_diag("SHARED with a fault queue: VmPin %ld KiB, VmLck %ld KiB, pinned pages %llu",
		 shared_vm_pinned_kb(), shared_vm_locked_kb(),
		 (unsigned long long)st.pinned_pages);
	TEST_EXPECT_EQ(st.fault_domains, 1);
	TEST_EXPECT_EQ(st.attached, 1);
	TEST_EXPECT_EQ(st.pinned_pages, 0);
	TEST_EXPECT_EQ(st.pin_calls, 0);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	tap_end();
}

static void case_untouched_pages(void)
{
	const size_t len = UNTOUCHED_PAGES * PAGE;
	uint8_t *host = addr_gpa2hva(s.vm, UNTOUCHED_GPA), *buf = calloc(1, len);
	struct iommu_test_kvm_ioas_stats before, after;
	struct iommu_test_kvm_dma d;

	tap_begin("untouched_pages_one_fault_each");
	fill(host, len, 7);
	/* no page request: KVM has no leaf there, nothing moves */
	d = mock_dma(UNTOUCHED_GPA, buf, len, 0);
	TEST_EXPECT_EQ(d.out_done, 0);
	TEST_EXPECT_EQ(d.out_faults, 0);
	before = stats();
	d = mock_dma(UNTOUCHED_GPA, buf, len, IOMMU_TEST_KVM_DMA_FAULT);
	after = stats();
	tap_diag("%d untouched pages: %llu bytes, %u page requests, %u walks, %u hits, code %u",
		 UNTOUCHED_PAGES, (unsigned long long)d.out_done, d.out_faults,
		 d.out_walks, d.out_hits, d.out_code);
	TEST_EXPECT_EQ(d.out_done, len);
	TEST_EXPECT_EQ(d.out_faults, UNTOUCHED_PAGES);
	TEST_EXPECT_EQ(d.out_code, 0);
	TEST_EXPECT(!memcmp(buf, host, len), "the device read other bytes than the VMM's");
	TEST_EXPECT_EQ(after.iopf_groups - before.iopf_groups, UNTOUCHED_PAGES);
	TEST_EXPECT_EQ(after.faultins - before.faultins, UNTOUCHED_PAGES);
	/* reachable now: no more page requests */
	memset(buf, 0, len);
	d = mock_dma(UNTOUCHED_GPA, buf, len, IOMMU_TEST_KVM_DMA_FAULT);
	TEST_EXPECT_EQ(d.out_done, len);
	TEST_EXPECT_EQ(d.out_faults, 0);
	TEST_EXPECT(!memcmp(buf, host, len), "second read");
	/* and still nothing pinned */
	TEST_EXPECT_EQ(stats().pinned_pages, 0);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	free(buf);
	tap_end();
}

static void case_thp(void)
{
	uint8_t *host, *buf = calloc(1, 2 * HUGE_PAGE_SIZE);
	struct iommu_test_kvm_dma d;
	uint64_t pfns[2];
	unsigned int i;

	tap_begin("thp_one_fault_per_2m");
	vm_add_memslot(s.vm, THP_SLOT, THP_GPA, THP_SIZE, 0, VM_MEM_ANON);
	host = addr_gpa2hva(s.vm, THP_GPA);
	TEST_ASSERT(!madvise(host, THP_SIZE, MADV_HUGEPAGE), "MADV_HUGEPAGE: %s",
		    errno_name(errno));
	fill(host, THP_SIZE, 11);
	/* both 2 MiB halves must be huge pages, or the count means nothing */
	if (!pagemap_pfns(host, 1, &pfns[0]) ||
	    !pagemap_pfns(host + HUGE_PAGE_SIZE, 1, &pfns[1]) ||
	    kpageflags_count(pfns, 2, KPF_THP) != 2) {
		tap_skip("the slot's memory is not backed by THPs");
		free(buf);
		return;
	}
	/* a DMA moves at most 2 MiB: one per huge page */
	for (i = 0; i < 2; i++) {
		d = mock_dma(THP_GPA + i * HUGE_PAGE_SIZE, buf + i * HUGE_PAGE_SIZE,
			     HUGE_PAGE_SIZE, IOMMU_TEST_KVM_DMA_FAULT);
		tap_diag("2 MiB of THP: %llu bytes, %u page requests, %u walks, %u IOTLB hits",
			 (unsigned long long)d.out_done, d.out_faults, d.out_walks,
			 d.out_hits);
		TEST_EXPECT_EQ(d.out_done, HUGE_PAGE_SIZE);
		TEST_EXPECT_EQ(d.out_faults, 1);
		/* one 2 MiB leaf: every page after the first hits the IOTLB */
		TEST_EXPECT_EQ(d.out_hits, HUGE_PAGE_SIZE / PAGE - 1);
	}
	TEST_EXPECT(!memcmp(buf, host, 2 * HUGE_PAGE_SIZE), "THP bytes");
	free(buf);
	tap_end();
}

static void case_write_intent(void)
{
	const unsigned long npages = SHARED_VM_RAM / PAGE, pg = WRITE_GPA / PAGE;
	uint8_t *host = addr_gpa2hva(s.vm, WRITE_GPA), buf[256];
	unsigned long *bm = bitmap_alloc(npages);
	struct iommu_test_kvm_dma d;
	int ret;

	tap_begin("write_fault_on_write_protected_page");
	ret = _vm_update_memslot(s.vm, 0, 0, SHARED_VM_RAM, KVM_MEM_LOG_DIRTY_PAGES);
	TEST_ASSERT(!ret, "dirty logging on slot 0: %s", errno_name(-ret));
	TEST_ASSERT(!dirty_log_get(s.vm, 0, bm), "KVM_GET_DIRTY_LOG");
	memset(host, 0x5a, sizeof(buf));
	/* KVM maps it; the harvest then write-protects it */
	d = mock_dma(WRITE_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT);
	TEST_EXPECT_EQ(d.out_done, sizeof(buf));
	TEST_ASSERT(!dirty_log_get(s.vm, 0, bm), "KVM_GET_DIRTY_LOG");
	fill(buf, sizeof(buf), 3);
	d = mock_dma(WRITE_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_WRITE);
	tap_diag("write to the harvested page without a page request: %llu bytes",
		 (unsigned long long)d.out_done);
	TEST_EXPECT_EQ(d.out_done, 0);
	TEST_EXPECT_EQ(host[0], 0x5a);
	d = mock_dma(WRITE_GPA, buf, sizeof(buf),
		     IOMMU_TEST_KVM_DMA_WRITE | IOMMU_TEST_KVM_DMA_FAULT);
	tap_diag("with a write request: %llu bytes, %u requests, code %u",
		 (unsigned long long)d.out_done, d.out_faults, d.out_code);
	TEST_EXPECT_EQ(d.out_done, sizeof(buf));
	TEST_EXPECT_EQ(d.out_faults, 1);
	TEST_EXPECT(!memcmp(host, buf, sizeof(buf)), "the write did not land");
	TEST_ASSERT(!dirty_log_get(s.vm, 0, bm), "KVM_GET_DIRTY_LOG");
	TEST_EXPECT(test_bit(bm, pg), "the page the device wrote is not reported dirty");
	ret = _vm_update_memslot(s.vm, 0, 0, SHARED_VM_RAM, 0);
	TEST_ASSERT(!ret, "dirty logging off: %s", errno_name(-ret));
	free(bm);
	tap_end();
}

static void case_refusals(void)
{
	struct iommu_test_kvm_ioas_stats before, after;
	uint8_t buf[64], *ro;
	struct iommu_test_kvm_dma d;
	long pinned = shared_vm_pinned_kb();

	tap_begin("refused_requests_answered_invalid");
	read_answered(0);
	before = stats();
	d = mock_dma(HOLE_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT);
	tap_diag("outside the memslots: %llu bytes, %u requests, code %u",
		 (unsigned long long)d.out_done, d.out_faults, d.out_code);
	TEST_EXPECT_EQ(d.out_done, 0);
	TEST_EXPECT_EQ(d.out_faults, 1);
	TEST_EXPECT_EQ(d.out_code, 1);	/* IOMMU_PAGE_RESP_INVALID */
	TEST_EXPECT_EQ(read_answered(HOLE_GPA), 1);

	vm_add_memslot(s.vm, RO_SLOT, RO_GPA, RO_SIZE, KVM_MEM_READONLY, VM_MEM_MEMFD);
	ro = addr_gpa2hva(s.vm, RO_GPA);
	memset(ro, 0x3c, sizeof(buf));
	d = mock_dma(RO_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT);
	TEST_EXPECT_EQ(d.out_done, sizeof(buf));
	TEST_EXPECT_EQ(buf[0], 0x3c);
	memset(buf, 0xc3, sizeof(buf));
	d = mock_dma(RO_GPA, buf, sizeof(buf),
		     IOMMU_TEST_KVM_DMA_WRITE | IOMMU_TEST_KVM_DMA_FAULT);
	tap_diag("write to a read-only slot: %llu bytes, %u requests, code %u",
		 (unsigned long long)d.out_done, d.out_faults, d.out_code);
	TEST_EXPECT_EQ(d.out_done, 0);
	TEST_EXPECT_EQ(d.out_code, 1);
	TEST_EXPECT_EQ(ro[0], 0x3c);
	TEST_EXPECT_EQ(read_answered(RO_GPA), 1);
	after = stats();
	TEST_EXPECT_EQ(after.iopf_groups - before.iopf_groups, 3);
	TEST_EXPECT_EQ(after.pinned_pages, 0);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), pinned);
	tap_end();
}

static void case_invalidate(void)
{
	uint8_t *host = addr_gpa2hva(s.vm, DISCARD_GPA), buf[64];
	struct iommu_test_kvm_dma d;
	uint64_t flushes;

	tap_begin("discard_drops_the_iotlb_entry");
	memset(host, 0x77, PAGE);
	d = mock_dma(DISCARD_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT);
	TEST_EXPECT_EQ(d.out_done, sizeof(buf));
	d = mock_dma(DISCARD_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_PROBE);
	TEST_EXPECT_EQ(d.out_done, sizeof(buf));
	TEST_EXPECT_EQ(d.out_hits, 1);
	flushes = d.out_flushes;
	TEST_ASSERT(!madvise(host, PAGE, MADV_DONTNEED), "MADV_DONTNEED: %s",
		    errno_name(errno));
	d = mock_dma(DISCARD_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_PROBE);
	tap_diag("IOTLB probe after MADV_DONTNEED: %llu bytes, %u hits, flushes %llu -> %llu",
		 (unsigned long long)d.out_done, d.out_hits,
		 (unsigned long long)flushes, (unsigned long long)d.out_flushes);
	TEST_EXPECT_EQ(d.out_done, 0);
	TEST_EXPECT_EQ(d.out_hits, 0);
	TEST_EXPECT(d.out_flushes > flushes, "no invalidation reached the domain");
	/* the page is gone from KVM's table too: a request brings it back */
	d = mock_dma(DISCARD_GPA, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT);
	TEST_EXPECT_EQ(d.out_done, sizeof(buf));
	TEST_EXPECT_EQ(d.out_faults, 1);
	TEST_EXPECT_EQ(buf[0], 0x77);	/* the memfd keeps the page */
	tap_end();
}

static void case_trace(unsigned long begin, unsigned long faultin, unsigned long end)
{
	tap_begin("trace_events_counted");
	tap_diag("page requests raised %lu: iopf_begin %lu, kvm_faultin %lu, iopf_end %lu",
		 faults_raised, begin, faultin, end);
	TEST_EXPECT(faults_raised > 0, "no page request was raised");
	TEST_EXPECT_EQ(begin, faults_raised);
	TEST_EXPECT_EQ(faultin, faults_raised);
	TEST_EXPECT_EQ(end, faults_raised);
	tap_end();
}

struct storm {
	bool stop;	/* __atomic builtins */
	unsigned long dmas, dma_faults, refused, triggers, timeouts, other;
};

/*
 * Page requests until told to stop: TRIGGER_IOPF and mock DMAs.  Once the
 * device is detached from the KVM-table domain, its DMAs fail with EINVAL
 * and its page requests are refused by the IOMMU core.
 */
static void *storm_thread(void *arg)
{
	struct storm *st = arg;
	uint8_t *host = addr_gpa2hva(s.vm, DISCARD_GPA), buf[64];
	unsigned int i;
	int ret;

	for (i = 0; !__atomic_load_n(&st->stop, __ATOMIC_RELAXED); i++) {
		struct iommu_test_cmd cmd = {
			.op = IOMMU_TEST_OP_TRIGGER_IOPF,
			.trigger_iopf = {
				.dev_id = idev_id,
				.pasid = 0,
				.grpid = i & 0xff,
				.perm = IOMMU_PGFAULT_PERM_READ,
				.addr = UNTOUCHED_GPA + (i % UNTOUCHED_PAGES) * PAGE,
			},
		};
		struct iommu_test_kvm_dma d = {
			.flags = IOMMU_TEST_KVM_DMA_FAULT,
			.gpa = DISCARD_GPA,
			.length = sizeof(buf),
			.uptr = (uintptr_t)buf,
		};

		ret = test_cmd(&cmd);
		if (ret)
			st->other++;
		st->triggers += !ret;
		/* the VM's memory goes with the VM: then this fails, harmlessly */
		madvise(host, PAGE, MADV_DONTNEED);
		ret = _mock_dma(idev_id, &d);
		if (ret == -EINVAL)
			st->refused++;
		else if (ret == -ETIMEDOUT)
			st->timeouts++;
		else if (ret)
			st->other++;
		else {
			st->dmas++;
			st->dma_faults += d.out_faults;
		}
	}
	return NULL;
}

/* WARNING or BUG lines the kernel logged since @fd was opened */
static unsigned int kmsg_splats(int fd)
{
	char rec[2048];
	unsigned int n = 0;
	ssize_t len;

	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;
		if (len <= 0)
			break;
		rec[len] = 0;
		if (strstr(rec, "WARNING:") || strstr(rec, "BUG:")) {
			tap_diag("kernel: %s", rec);
			n++;
		}
	}
	return n;
}

static void case_teardown(void)
{
	struct iommu_test_kvm_ioas_stats before, after;
	struct storm st = {};
	pthread_t thread;
	int kmsg = kmsg_open(), ret;

	tap_begin("teardown_with_faults_in_flight");
	before = stats();
	TEST_ASSERT(!pthread_create(&thread, NULL, storm_thread, &st), "pthread_create");
	usleep(300 * 1000);
	/* detach under the storm: back to a paging domain of the plain IOAS */
	ret = mock_replace(plain_ioas);
	TEST_EXPECT(!ret, "MOCK_DOMAIN_REPLACE to the plain IOAS: %s", errno_name(-ret));
	after = stats();
	TEST_EXPECT_EQ(after.attached, 0);
	usleep(100 * 1000);
	/* the HWPT, its fault queue, the IOAS and the VM go, still under it */
	test_ioctl_destroy(s.iommufd, hwpt_id);
	/* the fault queue's file holds the object */
	close(fault_fd);
	test_ioctl_destroy(s.iommufd, fault_id);
	TEST_EXPECT_EQ(stats().fault_domains, 0);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	kvm_vm_free(s.vm);
	usleep(100 * 1000);
	__atomic_store_n(&st.stop, true, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	tap_diag("storm: %lu DMAs (%lu page requests), %lu refused after the detach, %lu TRIGGER_IOPF, %lu timeouts, %lu other errors; core groups +%llu",
		 st.dmas, st.dma_faults, st.refused, st.triggers, st.timeouts,
		 st.other, (unsigned long long)(after.iopf_groups - before.iopf_groups));
	TEST_EXPECT(st.dmas > 0, "no DMA ran before the detach");
	TEST_EXPECT(st.refused > 0, "no DMA ran after the detach");
	TEST_EXPECT_EQ(st.timeouts, 0);
	TEST_EXPECT_EQ(st.other, 0);
	/* each DMA-raised group counted once; triggered ones at most once */
	TEST_EXPECT(after.iopf_groups - before.iopf_groups >= st.dma_faults &&
		    after.iopf_groups - before.iopf_groups <= st.dma_faults + st.triggers,
		    "core groups %llu for %lu DMA requests and %lu triggered",
		    (unsigned long long)(after.iopf_groups - before.iopf_groups),
		    st.dma_faults, st.triggers);
	/*
	 * Unbind once the storm is over: 6.12's iommufd_object_destroy_user()
	 * sleeps uninterruptibly for the last short-term user, whom
	 * iommufd_put_object() wakes with wake_up_interruptible_all(), so a
	 * storm ioctl racing with the unbind stalls it for 60 s.
	 */
	test_ioctl_destroy(s.iommufd, stdev_id);
	test_ioctl_destroy(s.iommufd, plain_ioas);
	close(s.iommufd);
	TEST_EXPECT_EQ(kmsg_splats(kmsg), 0);
	close(kmsg);
	tap_end();
}

int main(void)
{
	unsigned long begin, faultin, end;

	tap_plan(8);
	shared_vm_create_opts(&s, SHARED_VM_NO_EDU);
	tracing_start();
	case_zero_pin();
	case_untouched_pages();
	case_thp();
	case_write_intent();
	case_refusals();
	case_invalidate();
	tracing_count(&begin, &faultin, &end);
	case_trace(begin, faultin, end);
	case_teardown();
	tap_finish();
}
