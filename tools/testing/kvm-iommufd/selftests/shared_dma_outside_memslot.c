// SPDX-License-Identifier: GPL-2.0-only
/*
 * SHARED mode: a DMA write to a GPA outside every memslot is blocked by the
 * IOMMU (KVM's table maps nothing there) and guest memory is unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define OUTSIDE_GPA	0x8000000UL	/* 128 MiB: no memslot, below edu's 28-bit mask */

static uint64_t checksum(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

int main(void)
{
	struct vm_region *r;
	struct shared_vm s;
	uint64_t before;

	tap_plan(3);

	tap_begin("attach_shared");
	shared_vm_create(&s);
	shared_vm_attach_shared(&s);
	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "control DMA in");
	tap_end();

	tap_begin("dma_outside_memslots_blocked");
	r = vm_get_region(s.vm, 0);
	before = checksum(r->host_mem, r->size);
	edu_dma_from_dev(&s.edu, 0, OUTSIDE_GPA, SHARED_LEN);
	TEST_EXPECT(checksum(r->host_mem, r->size) == before, "guest memory changed");
	tap_end();

	tap_begin("device_still_works");
	TEST_EXPECT(!edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN), "control DMA out");
	TEST_EXPECT_EQ(shared_vm_guest_compare(&s), SHARED_EQUAL);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
