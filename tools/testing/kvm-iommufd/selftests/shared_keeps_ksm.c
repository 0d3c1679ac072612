// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through KSM: the VMM fills its
 * anonymous guest memory (in small pages: KSM would have to split a huge
 * one first, which a pin stops before anything else) with identical
 * pages, marks it MADV_MERGEABLE and runs ksmd until it has scanned
 * everything twice (merging needs a page seen unchanged on two scans).
 * The pages edu holds are pinned: KSM must not merge them away from the
 * device (each page keeps its PFN, and edu's DMA to the pages that stayed
 * identical lands where the VMM sees it), and edu's DMA must read and
 * write the guest's pages before, while ksmd scans (the DMA loop keeps
 * some pairs changing) and after.  See lib/mm_events.h for the checks.
 *
 * shared_keeps_ksm attaches edu SHARED; pinned_keeps_ksm, built from this
 * file, PINNED.
 */
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "mm_events.h"

#define KSM			"/sys/kernel/mm/ksm/"
#define KSM_SCANS		2
#define KSM_TIMEOUT_S		20

static void identical_pages(struct mm_vm *t)
{
	mm_fill(t, true);
}

static bool ksm(struct mm_vm *t, void *arg)
{
	long to_scan = read_long(KSM "pages_to_scan");
	long sleep_ms = read_long(KSM "sleep_millisecs");
	long start = read_long(KSM "full_scans"), scans = 0;
	time_t deadline = time(NULL) + KSM_TIMEOUT_S;

	(void)arg;
	if (start < 0 || access(KSM "run", W_OK)) {
		tap_skip("no " KSM " (CONFIG_KSM)");
		return false;
	}
	TEST_ASSERT(!madvise(t->mem, MM_SLOT_SIZE, MADV_MERGEABLE), "MADV_MERGEABLE: %s",
		    errno_name(errno));
	TEST_ASSERT(write_long(KSM "pages_to_scan", 2 * MM_NR_PAGES) &&
		    write_long(KSM "sleep_millisecs", 10) && write_long(KSM "run", 1),
		    "KSM settings: %s", errno_name(errno));
	while ((scans = read_long(KSM "full_scans") - start) < KSM_SCANS &&
	       time(NULL) < deadline)
		usleep(10000);
	tap_diag("KSM: %ld full scans; pages_shared %ld, pages_sharing %ld", scans,
		 read_long(KSM "pages_shared"), read_long(KSM "pages_sharing"));
	write_long(KSM "run", 0);
	write_long(KSM "pages_to_scan", to_scan);
	write_long(KSM "sleep_millisecs", sleep_ms);
	TEST_EXPECT(scans >= KSM_SCANS, "ksmd did %ld full scans in %d s", scans, KSM_TIMEOUT_S);
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "ksm", .event = ksm, .prepare = identical_pages },
	};

	/* KSM merges anonymous pages only, and splits huge ones first */
	mm_main(MM_MODE, MM_ANON | MM_SMALL_PAGES, steps, ARRAY_SIZE(steps));
}
