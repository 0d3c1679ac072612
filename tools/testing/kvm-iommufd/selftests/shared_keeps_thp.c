// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through transparent huge pages
 * in guest memory.  Anonymous guest memory starts in huge pages (THP
 * "always", a 2 MiB-aligned mapping).  The VMM splits its huge mappings
 * (MADV_NOHUGEPAGE on a few pages inside each 2 MiB: the mapping is split
 * there, and with it each huge PMD, for pages that stay where they are),
 * asks for huge pages again and a synchronous collapse (MADV_HUGEPAGE,
 * MADV_COLLAPSE), and khugepaged scans it.  The pages edu holds are
 * pinned, so a collapse must leave them where they are; edu's DMA must
 * read and write the guest's pages before, during and after each.  memfd
 * guest memory (in small pages) goes through the same steps.  See
 * lib/mm_events.h for the checks.
 *
 * shared_keeps_thp attaches edu SHARED; pinned_keeps_thp, built from this
 * file, PINNED.
 */
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "mm_events.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

#define KHUGEPAGED		"/sys/kernel/mm/transparent_hugepage/khugepaged/"
#define KHUGEPAGED_SCANS	2
#define KHUGEPAGED_TIMEOUT_S	10

/* a few pages inside each 2 MiB of the slot, in no probed pair */
static const unsigned long split_pages[] = { 300, 700 };
#define SPLIT_NR_PAGES		4

static bool split(struct mm_vm *t, void *arg)
{
	unsigned int i;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(split_pages); i++) {
		TEST_ASSERT(!madvise(t->mem + split_pages[i] * PAGE_SIZE,
				     SPLIT_NR_PAGES * PAGE_SIZE, MADV_NOHUGEPAGE),
			    "MADV_NOHUGEPAGE: %s", errno_name(errno));
		mm_loop_wait(t, 1);
	}
	mm_huge_diag(t);
	return true;
}

static bool collapse(struct mm_vm *t, void *arg)
{
	int ret;

	(void)arg;
	TEST_ASSERT(!madvise(t->mem, MM_SLOT_SIZE, MADV_HUGEPAGE), "MADV_HUGEPAGE: %s",
		    errno_name(errno));
	mm_loop_wait(t, 1);
	ret = madvise(t->mem, MM_SLOT_SIZE, MADV_COLLAPSE);
	tap_diag("MADV_COLLAPSE: %s", ret ? errno_name(errno) : "collapsed");
	mm_huge_diag(t);
	return true;
}

static bool khugepaged(struct mm_vm *t, void *arg)
{
	long sleep_ms = read_long(KHUGEPAGED "scan_sleep_millisecs");
	long to_scan = read_long(KHUGEPAGED "pages_to_scan");
	long collapsed = read_long(KHUGEPAGED "pages_collapsed");
	long start = read_long(KHUGEPAGED "full_scans"), scans = 0;
	time_t deadline = time(NULL) + KHUGEPAGED_TIMEOUT_S;

	(void)arg;
	if (start < 0 || sleep_ms < 0 || to_scan < 0) {
		tap_skip("no " KHUGEPAGED);
		return false;
	}
	TEST_ASSERT(write_long(KHUGEPAGED "pages_to_scan", 4096) &&
		    write_long(KHUGEPAGED "scan_sleep_millisecs", 10),
		    "khugepaged settings: %s", errno_name(errno));
	while ((scans = read_long(KHUGEPAGED "full_scans") - start) < KHUGEPAGED_SCANS &&
	       time(NULL) < deadline)
		usleep(10000);
	write_long(KHUGEPAGED "pages_to_scan", to_scan);
	write_long(KHUGEPAGED "scan_sleep_millisecs", sleep_ms);
	tap_diag("khugepaged: %ld full scans, %ld pages collapsed", scans,
		 read_long(KHUGEPAGED "pages_collapsed") - collapsed);
	mm_huge_diag(t);
	TEST_EXPECT(scans >= KHUGEPAGED_SCANS, "khugepaged did %ld full scans in %d s", scans,
		    KHUGEPAGED_TIMEOUT_S);
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "split", .event = split },
		{ .name = "collapse", .event = collapse },
		{ .name = "khugepaged", .event = khugepaged },
	};

	mm_main(MM_MODE, MM_ANON | MM_MEMFD, steps, ARRAY_SIZE(steps));
}
