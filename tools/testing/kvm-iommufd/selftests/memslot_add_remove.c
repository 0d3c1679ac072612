// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memslot changes reach an attached device with no iommufd call: after the
 * VMM adds a memslot, edu can DMA into it; after it moves one, DMA reaches
 * the same memory at the new GPA and not at the old; after it deletes one,
 * DMA into it is blocked and its pages are no longer pinned (the charge
 * goes back where it was).  The device gets whatever mode the default
 * policy picks in this boot: PINNED (charged in VmPin) in the default
 * profile, SHARED (charged in VmLck) where KVM's table can be shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "shared_vm.h"

#define NEW_SLOT	1
#define NEW_GPA		0x1000000UL	/* right after the 16 MiB of slot 0 */
#define MOVED_GPA	0x1800000UL
#define NEW_SIZE	(1UL << 20)
#define OFF		0x3000UL
#define SENTINEL	0xa5

static struct shared_vm s;

/* The charge for the attached device's pins, in KiB: VmPin in either mode. */
static long charged_kb(void)
{
	return shared_vm_pinned_kb();
}

/* edu's buffer holds the guest's pattern; write it to @gpa. */
static bool dma_lands(uint64_t gpa, const uint8_t *host)
{
	const uint8_t *src = addr_gpa2hva(s.vm, SHARED_SRC_GPA);

	if (!TEST_EXPECT(!edu_dma_from_dev(&s.edu, 0, gpa, SHARED_LEN), "DMA edu->%#llx",
			 (unsigned long long)gpa))
		return false;
	return check_bytes("new slot", host, src, SHARED_LEN);
}

int main(void)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct vm_region *r;
	uint8_t *host;
	long base;

	tap_plan(5);
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &unlimited), "RLIMIT_MEMLOCK");

	tap_begin("attach");
	shared_vm_create_opts(&s, SHARED_VM_NO_IPC_LOCK);
	TEST_ASSERT(shared_vm_alloc_hwpt(&s) == 0, "HWPT_ALLOC: %s", errno_name(errno));
	tap_diag("edu is %s", s.mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED");
	edu_attach(&s.edu, s.hwpt_id);
	base = charged_kb();
	TEST_EXPECT_EQ(base, SHARED_VM_RAM >> 10);
	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA GPA->edu");
	tap_end();

	tap_begin("added_memslot_takes_dma");
	vm_add_memslot(s.vm, NEW_SLOT, NEW_GPA, NEW_SIZE, 0, VM_MEM_MEMFD);
	r = vm_get_region(s.vm, NEW_SLOT);
	host = r->host_mem;
	TEST_EXPECT_EQ(charged_kb(), base + (long)(NEW_SIZE >> 10));
	TEST_EXPECT(dma_lands(NEW_GPA + OFF, host + OFF), "DMA into the new slot");
	tap_end();

	tap_begin("moved_memslot_follows");
	TEST_ASSERT(!_vm_update_memslot(s.vm, NEW_SLOT, MOVED_GPA, NEW_SIZE, 0),
		    "move: %s", errno_name(errno));
	TEST_EXPECT_EQ(charged_kb(), base + (long)(NEW_SIZE >> 10));
	memset(host, SENTINEL, NEW_SIZE);
	edu_dma_from_dev(&s.edu, 0, NEW_GPA + OFF, SHARED_LEN);
	TEST_EXPECT(check_fill("old GPA", host, SENTINEL, NEW_SIZE),
		    "DMA to the slot's old GPA reached its memory");
	TEST_EXPECT(dma_lands(MOVED_GPA + OFF, host + OFF), "DMA at the new GPA");
	tap_end();

	tap_begin("deleted_memslot_blocked_and_unpinned");
	TEST_ASSERT(!_vm_update_memslot(s.vm, NEW_SLOT, MOVED_GPA, 0, 0),
		    "delete: %s", errno_name(errno));
	TEST_EXPECT_EQ(charged_kb(), base);
	memset(host, SENTINEL, NEW_SIZE);
	edu_dma_from_dev(&s.edu, 0, MOVED_GPA + OFF, SHARED_LEN);
	TEST_EXPECT(check_fill("deleted slot", host, SENTINEL, NEW_SIZE),
		    "DMA into a deleted memslot reached its memory");
	/* slot 0 still works */
	TEST_EXPECT(!edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN), "control DMA");
	TEST_EXPECT_EQ(shared_vm_guest_compare(&s), SHARED_EQUAL);
	tap_end();

	tap_begin("detach_releases_everything");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
