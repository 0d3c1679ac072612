// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through memory compaction
 * (echo 1 > /proc/sys/vm/compact_memory), which tries to migrate the pages
 * of every zone, the guest's among them: the pages edu holds are pinned, so
 * none may move, and edu's DMA must read and write each sampled page of the
 * test slot before, while compaction runs and after (the pages sampled
 * include those with the lowest PFNs, which compaction reaches first); the
 * whole slot keeps its bytes.  Anonymous and memfd guest memory.  See
 * lib/mm_events.h.
 *
 * shared_keeps_compaction attaches edu SHARED; pinned_keeps_compaction,
 * built from this file, PINNED.
 */
#include <unistd.h>

#include "mm_events.h"

#define COMPACT		"/proc/sys/vm/compact_memory"
#define ROUNDS		2
#define LOW_PAIRS	6

static const char *const counters[] = {
	"compact_migrate_scanned", "compact_isolated", "compact_fail", "compact_success",
};

/*
 * Compaction's migrate scanner walks each zone up from its lowest PFN until
 * it meets the free scanner coming down from the top: the test slot's
 * lowest pages are the likeliest to be tried.  Probe the pairs that hold
 * them too.
 */
static void lowest_pfn_pairs(struct mm_vm *t)
{
	bool taken[MM_NR_PAGES] = { false };
	unsigned long i, low, page;
	unsigned int n;

	for (n = 0; n < LOW_PAIRS; n++) {
		low = MM_NR_PAGES;
		for (i = 0; i < MM_NR_PAGES; i++)
			if (t->pfns[i] && !taken[i] &&
			    (low == MM_NR_PAGES || t->pfns[i] < t->pfns[low]))
				low = i;
		if (low == MM_NR_PAGES)
			break;
		/* the pair of @low and its free neighbour, or the one before */
		page = low;
		if (low == MM_NR_PAGES - 1 || (low && taken[low + 1]))
			page = low - 1;
		taken[page] = taken[page + 1] = true;
		mm_add_pair(t, MM_SLOT_GPA + page * PAGE_SIZE);
		tap_diag("also probed: the pair at %#lx, PFNs %#llx and %#llx",
			 MM_SLOT_GPA + page * PAGE_SIZE, (unsigned long long)t->pfns[page],
			 (unsigned long long)t->pfns[page + 1]);
	}
}

static bool compact(struct mm_vm *t, void *arg)
{
	long before[ARRAY_SIZE(counters)];
	unsigned int i;

	(void)arg;
	if (access(COMPACT, W_OK)) {
		tap_skip("no %s (CONFIG_COMPACTION)", COMPACT);
		return false;
	}
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		before[i] = vmstat(counters[i]);
	for (i = 0; i < ROUNDS; i++) {
		TEST_ASSERT(write_file(COMPACT, "1"), "write %s: %s", COMPACT, errno_name(errno));
		mm_loop_wait(t, 1);
	}
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		tap_diag("%s +%ld", counters[i], vmstat(counters[i]) - before[i]);
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "compaction", .event = compact, .prepare = lowest_pfn_pairs },
	};

	mm_main(MM_MODE, MM_ANON | MM_MEMFD, steps, ARRAY_SIZE(steps));
}
