// SPDX-License-Identifier: GPL-2.0-only
/*
 * SHARED mode keeps the VMM's own removals: while edu (which cannot fault)
 * must keep its DMA through the kernel's memory management (shared_keeps_*),
 * a page the VMM itself takes out of guest memory must be out of edu's
 * reach.  After MADV_DONTNEED of a page of anonymous guest memory (in
 * transparent huge pages: the discard splits a huge mapping), and after
 * munmap() or MADV_REMOVE of a page of memfd guest memory, edu's DMA to
 * that GPA is blocked: its write does not reach the page the VMM now has
 * there (nor, for munmap, the memfd page, seen through a second mapping),
 * and its read does not return the removed bytes (the IOMMU reports DMAR
 * faults for the page, shown when the rate limit lets them through).  The
 * other pages of the slot, those in the same 2 MiB among them, keep their
 * DMA and bytes.  See lib/mm_events.h for the checks.
 *
 * SHARED only: a PINNED device keeps the pages it pinned whatever the VMM
 * does with its mappings, as with any VFIO device.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "dma_buf.h"
#include "mm_events.h"

/* pages in none of the probed pairs */
#define DONTNEED_GPA	(MM_SLOT_GPA + 300 * PAGE_SIZE)
#define MUNMAP_GPA	(MM_SLOT_GPA + 300 * PAGE_SIZE)
#define REMOVE_GPA	(MM_SLOT_GPA + 700 * PAGE_SIZE)

#define KMSG_WAIT_US	100000

enum removal { DONTNEED, MUNMAP, REMOVE };

static const char *const removal_names[] = { "dontneed", "munmap", "remove" };

/*
 * Case "<backing>_<how>_blocks": remove the page at @gpa from the VMM's
 * guest memory, try edu's DMA on it and check it was blocked; case
 * "<backing>_<how>_others_work": the other pages keep their DMA (the
 * probed pairs, three of them in the same 2 MiB as the page) and the slot
 * its bytes.  @view shows what the VMM has at @gpa now: the slot's
 * mapping, or a second mapping of the memfd where the slot's is gone
 * (munmap).
 */
static void removal_blocks(struct mm_vm *t, uint64_t gpa, enum removal how)
{
	const uint8_t *view = mm_hva(t, gpa);
	uint8_t old[PAGE_SIZE], want[PAGE_SIZE], read[EDU_DMA_MAX];
	struct vm_region *r = vm_get_region(t->s.vm, MM_SLOT);
	off_t off = gpa - MM_SLOT_GPA;
	uint8_t *alias = NULL, *page = mm_hva(t, gpa);
	unsigned int faults;
	int kmsg;

	tap_begin("%s_%s_blocks", t->name, removal_names[how]);
	memcpy(old, page, PAGE_SIZE);
	kmsg = kmsg_open();
	switch (how) {
	case DONTNEED:
		TEST_ASSERT(!madvise(page, PAGE_SIZE, MADV_DONTNEED), "MADV_DONTNEED: %s",
			    errno_name(errno));
		mm_page_dropped(t, gpa);
		break;
	case MUNMAP:
		alias = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, off);
		TEST_ASSERT(alias != MAP_FAILED, "second mapping of the memfd: %s",
			    errno_name(errno));
		TEST_ASSERT(!munmap(page, PAGE_SIZE), "munmap: %s", errno_name(errno));
		view = alias;	/* the page stays in the memfd */
		break;
	case REMOVE:
		TEST_ASSERT(!madvise(page, PAGE_SIZE, MADV_REMOVE), "MADV_REMOVE: %s",
			    errno_name(errno));
		mm_page_dropped(t, gpa);
		break;
	}
	memcpy(want, t->shadow + off, PAGE_SIZE);

	mm_dma_at(t, gpa, read);
	TEST_EXPECT(check_bytes("the page the VMM has at the GPA", view, want, PAGE_SIZE),
		    "edu's write reached the page after %s", removal_names[how]);
	TEST_EXPECT(memcmp(read, old, EDU_DMA_MAX), "edu read the bytes removed by %s",
		    removal_names[how]);
	/* dmar_fault() rate-limits its reports: evidence, not a check */
	usleep(KMSG_WAIT_US);
	faults = kmsg_dmar_faults(kmsg, gpa);
	tap_diag("%u DMAR fault reports for %#llx", faults, (unsigned long long)gpa);
	if (kmsg >= 0)
		close(kmsg);
	tap_end();

	tap_begin("%s_%s_others_work", t->name, removal_names[how]);
	mm_probe_pairs(t, 0);		/* while the page is gone */
	if (how == MUNMAP) {
		TEST_ASSERT(mmap(page, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 r->memfd, off) == page, "map the page back: %s", errno_name(errno));
		munmap(alias, PAGE_SIZE);
	}
	mm_check_slot(t);
	tap_end();
}

int main(void)
{
	struct mm_vm t;

	tap_plan(10);

	mm_vm_begin(&t, IOMMU_KVM_MODE_SHARED, VM_MEM_ANON, 0);
	removal_blocks(&t, DONTNEED_GPA, DONTNEED);
	mm_vm_end(&t);

	mm_vm_begin(&t, IOMMU_KVM_MODE_SHARED, VM_MEM_MEMFD, 0);
	removal_blocks(&t, MUNMAP_GPA, MUNMAP);
	removal_blocks(&t, REMOVE_GPA, REMOVE);
	mm_vm_end(&t);

	tap_finish();
}
