// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kvm_iommu trace events fire once per count of the IOAS's counters.
 *
 * With every event of system kvm_iommu enabled in tracefs, a KVM-sourced
 * IOAS is allocated for a VM of one memslot: one kvm_iommu_memslot event,
 * counted as an initial memslot.  With the buffer cleared again, edu is
 * attached SHARED to the IOAS, copies between two GPAs (the guest checks
 * the bytes), the VMM discards a page so that KVM flushes the domain, and
 * edu is detached; its HWPT is destroyed.  The events in the trace buffer
 * are then counted per name and compared with the differences of
 * IOMMU_TEST_OP_KVM_IOAS_STATS over the same window: one attach and one
 * detach, one mode decision (SHARED), a pin per memslot and as many
 * unpins, an invalidate and a sync per flush of the SHARED domains (KVM's
 * and the core's own after faulting in), no memslot change, and no IO page
 * fault (edu cannot fault).  A missing or extra event makes a count differ.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define TRACEFS		"/sys/kernel/tracing"
#define EVENTS		TRACEFS "/events/kvm_iommu"
#define DISCARD_GPA	0x500000UL	/* neither the guest nor edu uses it */

enum {
	EV_ATTACH, EV_DETACH, EV_MODE, EV_PIN, EV_UNPIN, EV_INVALIDATE,
	EV_SYNC, EV_MEMSLOT, EV_IOPF_BEGIN, EV_FAULTIN, EV_IOPF_END, NR_EV,
};

static const char *const ev_names[NR_EV] = {
	[EV_ATTACH] = "kvm_iommu_attach",
	[EV_DETACH] = "kvm_iommu_detach",
	[EV_MODE] = "kvm_iommu_mode",
	[EV_PIN] = "kvm_iommu_pin",
	[EV_UNPIN] = "kvm_iommu_unpin",
	[EV_INVALIDATE] = "kvm_iommu_invalidate",
	[EV_SYNC] = "kvm_iommu_sync",
	[EV_MEMSLOT] = "kvm_iommu_memslot",
	[EV_IOPF_BEGIN] = "kvm_iommu_iopf_begin",
	[EV_FAULTIN] = "kvm_iommu_kvm_faultin",
	[EV_IOPF_END] = "kvm_iommu_iopf_end",
};

/* What the trace buffer held */
struct trace_counts {
	unsigned long n[NR_EV];
	/* events whose "mode %u" field was IOMMU_KVM_MODE_SHARED */
	unsigned long shared[NR_EV];
	unsigned long in_buffer, written;
};

static struct shared_vm s;
static bool tracing;

/* 0 or -errno */
static int _write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ret = 0;
	ssize_t len = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static void write_file(const char *path, const char *val)
{
	int ret = _write_file(path, val);

	TEST_ASSERT(!ret, "write '%s' to %s: %s", val, path, errno_name(-ret));
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Stop tracing and turn the events off again (also at exit, after a failure). */
static void tracing_off(void)
{
	if (!tracing)
		return;
	tracing = false;
	_write_file(TRACEFS "/tracing_on", "0");
	_write_file(EVENTS "/enable", "0");
}

/* tracefs mounted, every kvm_iommu event there; enable them all, empty buffer. */
static void tracing_start(void)
{
	char path[256];
	unsigned int i;

	if (!exists(TRACEFS "/events"))
		TEST_ASSERT(!mount("tracefs", TRACEFS, "tracefs", 0, NULL),
			    "mount tracefs on %s: %s", TRACEFS, errno_name(errno));
	TEST_ASSERT(exists(EVENTS), "no trace event system kvm_iommu in %s", TRACEFS);
	for (i = 0; i < NR_EV; i++) {
		snprintf(path, sizeof(path), EVENTS "/%s/enable", ev_names[i]);
		TEST_ASSERT(exists(path), "no trace event kvm_iommu:%s", ev_names[i]);
	}
	write_file(TRACEFS "/tracing_on", "0");
	write_file(TRACEFS "/trace", "");	/* O_TRUNC empties the buffer */
	tracing = true;
	atexit(tracing_off);
	write_file(EVENTS "/enable", "1");
	write_file(TRACEFS "/tracing_on", "1");
}

/* The "mode %u" field of an event line, or -1. */
static long mode_field(const char *fields)
{
	const char *p = strstr(fields, "mode ");
	unsigned int mode;

	if (!p || sscanf(p, "mode %u", &mode) != 1)
		return -1;
	return mode;
}

/*
 * Count the events in the trace buffer.  An event line is
 * "TASK-PID [CPU] FLAGS TIMESTAMP: NAME: FIELDS".
 */
static void count_events(struct trace_counts *c)
{
	FILE *f = fopen(TRACEFS "/trace", "r");
	char *line = NULL, *p, *end;
	bool header = false;
	size_t cap = 0;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	TEST_ASSERT(f, "open %s/trace: %s", TRACEFS, errno_name(errno));
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#') {
			if (sscanf(line, "# entries-in-buffer/entries-written: %lu/%lu",
				   &c->in_buffer, &c->written) == 2)
				header = true;
			continue;
		}
		p = strstr(line, ": kvm_iommu_");
		if (!p)
			continue;
		p += 2;
		end = strchr(p, ':');
		if (!end)
			continue;
		*end = 0;
		for (i = 0; i < NR_EV; i++) {
			if (strcmp(p, ev_names[i]))
				continue;
			c->n[i]++;
			if (mode_field(end + 1) == IOMMU_KVM_MODE_SHARED)
				c->shared[i]++;
			break;
		}
		TEST_EXPECT(i < NR_EV, "unknown event %s", p);
	}
	free(line);
	fclose(f);
	TEST_EXPECT(header, "no entries-in-buffer/entries-written line in %s/trace", TRACEFS);
}

#define delta(a, b, field) \
	((unsigned long)((a)->field - (b)->field))

int main(void)
{
	struct iommu_test_kvm_ioas_stats before, mid, after;
	struct trace_counts c;
	unsigned long pins;

	tap_plan(7);

	tap_begin("ioas_alloc_memslot_events");
	tracing_start();
	shared_vm_create(&s);
	shared_kvm_stats(s.iommufd, s.ioas_id, &before);
	count_events(&c);
	tap_diag("IOAS allocation: kvm_iommu_memslot %lu, initial memslots %lu, other events %lu",
		 c.n[EV_MEMSLOT], (unsigned long)before.memslot_initial,
		 c.in_buffer - c.n[EV_MEMSLOT]);
	/* the IOAS starts following the VM's one slot: an event for it, no change */
	TEST_EXPECT_EQ(c.n[EV_MEMSLOT], 1);
	TEST_EXPECT_EQ(before.memslot_initial, c.n[EV_MEMSLOT]);
	TEST_EXPECT_EQ(before.memslot_changes + before.memslot_refused, 0);
	TEST_EXPECT_EQ(c.in_buffer, c.n[EV_MEMSLOT]);
	/* from here on, the window */
	write_file(TRACEFS "/trace", "");
	shared_kvm_stats(s.iommufd, s.ioas_id, &before);
	tap_end();

	tap_begin("shared_attach");
	shared_vm_attach_shared(&s);
	tap_end();

	tap_begin("dma_guest_sees_bytes");
	shared_vm_copy_check(&s);
	tap_end();

	tap_begin("kvm_flush_reaches_domain");
	/* a page the DMA does not use: KVM zaps it and flushes the domain */
	TEST_ASSERT(!madvise((uint8_t *)vm_get_region(s.vm, 0)->host_mem + DISCARD_GPA,
			     4096, MADV_DONTNEED), "madvise: %s", errno_name(errno));
	tap_end();

	tap_begin("stats_before_detach");
	shared_kvm_stats(s.iommufd, s.ioas_id, &mid);
	TEST_EXPECT_EQ(mid.attached, 1);
	TEST_EXPECT_EQ(delta(&mid, &before, attaches), 1);
	TEST_EXPECT_EQ(delta(&mid, &before, detaches), 0);
	TEST_EXPECT_EQ(delta(&mid, &before, modes), 1);
	TEST_EXPECT(delta(&mid, &before, pin_calls) >= 1, "no slot pinned");
	TEST_EXPECT_EQ(delta(&mid, &before, unpin_calls), 0);
	TEST_EXPECT(delta(&mid, &before, invalidations) >= 1, "no flush from KVM");
	TEST_EXPECT(delta(&mid, &before, flushes) > delta(&mid, &before, invalidations),
		    "no flush after the pins were faulted in");
	TEST_EXPECT_EQ(mid.shared_domains, 1);
	TEST_EXPECT_EQ(mid.fault_domains, 0);
	tap_end();

	tap_begin("detach_destroy");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	shared_kvm_stats(s.iommufd, s.ioas_id, &after);
	tracing_off();
	TEST_EXPECT_EQ(after.attached, 0);
	TEST_EXPECT_EQ(after.shared_domains, 0);
	TEST_EXPECT_EQ(after.pinned_pages, 0);
	tap_end();

	tap_begin("events_match_counters");
	count_events(&c);
	pins = c.n[EV_PIN];
	tap_diag("trace buffer: %lu entries of %lu written", c.in_buffer, c.written);
	tap_diag("kvm_iommu_attach %lu (SHARED %lu), attaches +%lu",
		 c.n[EV_ATTACH], c.shared[EV_ATTACH], delta(&after, &before, attaches));
	tap_diag("kvm_iommu_detach %lu (SHARED %lu), detaches +%lu",
		 c.n[EV_DETACH], c.shared[EV_DETACH], delta(&after, &before, detaches));
	tap_diag("kvm_iommu_mode %lu (SHARED %lu), modes +%lu",
		 c.n[EV_MODE], c.shared[EV_MODE], delta(&after, &before, modes));
	tap_diag("kvm_iommu_pin %lu, pin_calls +%lu", c.n[EV_PIN],
		 delta(&after, &before, pin_calls));
	tap_diag("kvm_iommu_unpin %lu, unpin_calls +%lu", c.n[EV_UNPIN],
		 delta(&after, &before, unpin_calls));
	tap_diag("kvm_iommu_invalidate %lu, kvm_iommu_sync %lu, flushes +%lu (KVM's +%lu)",
		 c.n[EV_INVALIDATE], c.n[EV_SYNC], delta(&after, &before, flushes),
		 delta(&after, &before, invalidations));
	tap_diag("kvm_iommu_memslot %lu, memslot changes +%lu, refused +%lu",
		 c.n[EV_MEMSLOT], delta(&after, &before, memslot_changes),
		 delta(&after, &before, memslot_refused));
	tap_diag("kvm_iommu_iopf_begin %lu, kvm_iommu_iopf_end %lu, iopf groups +%lu",
		 c.n[EV_IOPF_BEGIN], c.n[EV_IOPF_END], delta(&after, &before, iopf_groups));
	tap_diag("kvm_iommu_kvm_faultin %lu, faultins +%lu", c.n[EV_FAULTIN],
		 delta(&after, &before, faultins));

	/* nothing was lost, so every event is counted */
	TEST_EXPECT(c.written > 0 && c.in_buffer == c.written,
		    "trace buffer lost events: %lu of %lu", c.in_buffer, c.written);
	TEST_EXPECT_EQ(c.n[EV_ATTACH], 1);
	TEST_EXPECT_EQ(c.shared[EV_ATTACH], 1);
	TEST_EXPECT_EQ(c.n[EV_ATTACH], delta(&after, &before, attaches));
	TEST_EXPECT_EQ(c.n[EV_DETACH], 1);
	TEST_EXPECT_EQ(c.shared[EV_DETACH], 1);
	TEST_EXPECT_EQ(c.n[EV_DETACH], delta(&after, &before, detaches));
	TEST_EXPECT_EQ(c.n[EV_MODE], 1);
	TEST_EXPECT_EQ(c.shared[EV_MODE], 1);
	TEST_EXPECT_EQ(c.n[EV_MODE], delta(&after, &before, modes));
	TEST_EXPECT(pins >= 1, "no kvm_iommu_pin event");
	TEST_EXPECT_EQ(pins, delta(&after, &before, pin_calls));
	TEST_EXPECT_EQ(c.n[EV_UNPIN], delta(&after, &before, unpin_calls));
	TEST_EXPECT_EQ(c.n[EV_UNPIN], pins);
	TEST_EXPECT(c.n[EV_INVALIDATE] >= 1, "no kvm_iommu_invalidate event");
	TEST_EXPECT_EQ(c.n[EV_INVALIDATE], delta(&after, &before, flushes));
	TEST_EXPECT_EQ(c.n[EV_SYNC], delta(&after, &before, flushes));
	TEST_EXPECT_EQ(c.n[EV_MEMSLOT], 0);
	TEST_EXPECT_EQ(delta(&after, &before, memslot_changes) +
		       delta(&after, &before, memslot_refused), 0);
	TEST_EXPECT_EQ(c.n[EV_IOPF_BEGIN], 0);
	TEST_EXPECT_EQ(c.n[EV_FAULTIN], 0);
	TEST_EXPECT_EQ(c.n[EV_IOPF_END], 0);
	TEST_EXPECT_EQ(delta(&after, &before, iopf_groups), 0);
	TEST_EXPECT_EQ(delta(&after, &before, faultins), 0);
	tap_end();

	test_ioctl_destroy(s.iommufd, s.ioas_id);
	shared_vm_destroy(&s);
	tap_finish();
}
