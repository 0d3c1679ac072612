// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through mprotect() of guest
 * memory in the VMM.  mprotect() to the protection the memory already has
 * (read-write) changes nothing: edu's DMA must read and write the guest's
 * pages before, while it runs and after.  Read-only: edu must still read
 * the guest's bytes while the protection changes and while it lasts (its
 * writes are not tried then).  Back to read-write: edu must read while the
 * protection changes, and every DMA write must land again after.  Anonymous
 * and memfd guest memory.  See lib/mm_events.h for the checks.
 *
 * shared_keeps_mprotect attaches edu SHARED; pinned_keeps_mprotect, built
 * from this file, PINNED.
 */
#include <sys/mman.h>

#include "mm_events.h"

#define ROUNDS		4
#define RW		((void *)(long)(PROT_READ | PROT_WRITE))
#define RO		((void *)(long)PROT_READ)

static bool protect(struct mm_vm *t, void *arg)
{
	int prot = (int)(long)arg;
	unsigned int i;

	for (i = 0; i < ROUNDS; i++) {
		TEST_ASSERT(!mprotect(t->mem, MM_SLOT_SIZE, prot), "mprotect(%#x): %s", prot,
			    errno_name(errno));
		if (i == ROUNDS / 2)
			mm_loop_wait(t, 1);
	}
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "rw_to_rw", .event = protect, .arg = RW },
		{ .name = "rw_to_ro", .event = protect, .arg = RO,
		  .flags = MM_DURING_READS_ONLY | MM_AFTER_READS_ONLY },
		{ .name = "ro_to_rw", .event = protect, .arg = RW,
		  .flags = MM_DURING_READS_ONLY },
	};

	mm_main(MM_MODE, MM_ANON | MM_MEMFD, steps, ARRAY_SIZE(steps));
}
