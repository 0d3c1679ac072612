// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through page aging and reclaim
 * of guest memory in the VMM: the guest's pages marked idle through
 * /sys/kernel/mm/page_idle/bitmap (their PFNs from /proc/self/pagemap;
 * setting and reading the bits clears the accessed bits of every mapping,
 * KVM's among them), then MADV_COLD and MADV_PAGEOUT on the test slot.
 * The pages edu holds are pinned, so reclaim must leave them where they
 * are; edu's DMA must read and write the guest's pages before, during and
 * after each.  Anonymous and memfd guest memory.  See lib/mm_events.h.
 *
 * shared_keeps_aging attaches edu SHARED; pinned_keeps_aging, built from
 * this file, PINNED.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "mm_events.h"

#define IDLE_BITMAP		"/sys/kernel/mm/page_idle/bitmap"
#define IDLE_ROUNDS		2

/*
 * Set (@set) or read the idle bit of every page of the slot; pages idle.
 * The bitmap's last word, where max_pfn cuts it short, is processed but
 * reads and writes as 0 bytes.
 */
static unsigned long idle_bits(int fd, const uint64_t *pfns, bool set)
{
	unsigned long i, idle = 0;
	uint64_t word;
	ssize_t ret;
	off_t off;

	for (i = 0; i < MM_NR_PAGES; i++) {
		if (!pfns[i])
			continue;
		off = pfns[i] / 64 * sizeof(word);
		word = 1ULL << (pfns[i] % 64);
		ret = set ? pwrite(fd, &word, sizeof(word), off) : pread(fd, &word, sizeof(word), off);
		TEST_ASSERT(ret == sizeof(word) || !ret, "%s " IDLE_BITMAP " at PFN %#llx: %s",
			    set ? "write" : "read", (unsigned long long)pfns[i],
			    errno_name(errno));
		if (!set && ret)
			idle += (word >> (pfns[i] % 64)) & 1;
	}
	return idle;
}

static bool page_idle(struct mm_vm *t, void *arg)
{
	uint64_t *pfns = calloc(MM_NR_PAGES, sizeof(*pfns));
	unsigned int i;
	int fd;

	(void)arg;
	TEST_ASSERT(pfns, "out of memory");
	fd = open(IDLE_BITMAP, O_RDWR);
	if (fd < 0 || !pagemap_pfns(t->mem, MM_NR_PAGES, pfns)) {
		tap_skip("%s", fd < 0 ? "no " IDLE_BITMAP " (CONFIG_IDLE_PAGE_TRACKING)" :
			 "no PFNs in /proc/self/pagemap");
		free(pfns);
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (i = 0; i < IDLE_ROUNDS; i++) {
		idle_bits(fd, pfns, true);
		mm_loop_wait(t, 1);
		tap_diag("round %u: %lu of %lu pages still idle", i, idle_bits(fd, pfns, false),
			 MM_NR_PAGES);
	}
	close(fd);
	free(pfns);
	return true;
}

static bool cold_pageout(struct mm_vm *t, void *arg)
{
	(void)arg;
	TEST_ASSERT(!madvise(t->mem, MM_SLOT_SIZE, MADV_COLD), "MADV_COLD: %s",
		    errno_name(errno));
	mm_loop_wait(t, 1);
	TEST_ASSERT(!madvise(t->mem, MM_SLOT_SIZE, MADV_PAGEOUT), "MADV_PAGEOUT: %s",
		    errno_name(errno));
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "page_idle", .event = page_idle },
		{ .name = "cold_pageout", .event = cold_pageout },
	};

	mm_main(MM_MODE, MM_ANON | MM_MEMFD, steps, ARRAY_SIZE(steps));
}
