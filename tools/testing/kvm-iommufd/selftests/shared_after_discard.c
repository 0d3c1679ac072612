// SPDX-License-Identifier: GPL-2.0-only
/*
 * SHARED mode: after the VMM discards a guest page from the memslot's
 * mapping (MADV_DONTNEED), KVM drops its translation and so must the IOMMU:
 * a DMA write to that GPA must not land in the page.  A second mapping of
 * the memfd keeps the page observable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

int main(void)
{
	struct vm_region *r;
	struct shared_vm s;
	uint8_t *alias, *page;
	unsigned int i, changed = 0;

	tap_plan(3);

	tap_begin("dma_lands_before_discard");
	shared_vm_create(&s);
	shared_vm_attach_shared(&s);
	r = vm_get_region(s.vm, 0);
	alias = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	TEST_ASSERT(alias != MAP_FAILED, "second mapping of the memfd");
	page = alias + SHARED_DST_GPA;
	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA in");
	TEST_ASSERT(!edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN), "DMA out");
	TEST_EXPECT(page[0] == shared_pattern(0) && page[100] == shared_pattern(100),
		    "DMA did not reach the page before the discard");
	tap_end();

	tap_begin("no_dma_after_discard");
	memset(page, 0xee, 4096);
	TEST_ASSERT(!madvise((uint8_t *)r->host_mem + SHARED_DST_GPA, 4096, MADV_DONTNEED),
		    "madvise: %s", errno_name(errno));
	edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN);
	for (i = 0; i < 4096; i++)
		changed += page[i] != 0xee;
	TEST_EXPECT(!changed, "%u bytes of the discarded page changed after the discard", changed);
	tap_end();

	tap_begin("guest_faults_it_back");
	/* the guest's comparison reads DST again: KVM maps the page back */
	TEST_EXPECT_EQ(shared_vm_guest_compare(&s), SHARED_DIFFER);
	TEST_EXPECT(!edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN), "DMA out");
	TEST_EXPECT(page[0] == shared_pattern(0), "DMA after the guest touched the page");
	tap_end();

	munmap(alias, r->size);
	shared_vm_destroy(&s);
	tap_finish();
}
