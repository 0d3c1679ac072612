// SPDX-License-Identifier: GPL-2.0-only
/*
 * PINNED fallback: in a boot where edu's IOMMU cannot walk KVM's table
 * (KVM caches MMIO GFNs by default), the default policy gives edu a pinned
 * IO page table built from the VM's memslots.  The reasons are the ones the
 * test predicts from the machine, every page of guest RAM is pinned and
 * charged (VmPin, with iommufd's mm accounting), and DMA between two GPAs
 * moves the guest's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define OUTSIDE_GPA	0x2000000UL	/* past the 16 MiB memslot */
#define UNTOUCHED_GPA	0x500000UL	/* the guest never writes here */

int main(void)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char want_s[128], got_s[128];
	struct iommu_kvm_share_query q;
	struct vm_region *r;
	struct shared_vm s;
	uint8_t *src, *dst, *before;
	uint32_t want;

	tap_plan(6);
	want = shared_expected_reasons();
	if (!want)
		tap_skip_all("this machine can share: AUTO does not fall back");
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &unlimited), "RLIMIT_MEMLOCK");

	tap_begin("auto_picks_pinned");
	shared_vm_create_opts(&s, SHARED_VM_NO_IPC_LOCK);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);	/* the mirror pins nothing */
	TEST_ASSERT(shared_vm_alloc_hwpt(&s) == 0, "HWPT_ALLOC: %s", errno_name(errno));
	tap_diag("mode %u reasons %s, expected %s", s.mode,
		 shared_reason_names(s.reasons, got_s, sizeof(got_s)),
		 shared_reason_names(want, want_s, sizeof(want_s)));
	TEST_EXPECT_EQ(s.mode, IOMMU_KVM_MODE_PINNED);
	TEST_EXPECT_EQ(s.reasons, want);
	tap_end();

	tap_begin("pinned_pages_equal_guest_ram");
	edu_attach(&s.edu, s.hwpt_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), SHARED_VM_RAM >> 10);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);	/* no SHARED pins */
	TEST_EXPECT_EQ(shared_kvm_root(&s), 0);		/* no SHARED domain */
	TEST_ASSERT(!_test_ioctl_kvm_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &q),
		    "IOMMU_KVM_SHARE_QUERY: %s", errno_name(errno));
	TEST_EXPECT_EQ(q.out_mode, IOMMU_KVM_MODE_PINNED);
	TEST_EXPECT_EQ(q.out_reasons, want);
	tap_end();

	tap_begin("dma_gpa_to_gpa_guest_sees_bytes");
	shared_vm_copy_check(&s);
	tap_end();

	tap_begin("dma_to_untouched_gpa");
	src = addr_gpa2hva(s.vm, SHARED_SRC_GPA);
	dst = addr_gpa2hva(s.vm, UNTOUCHED_GPA);
	TEST_ASSERT(!edu_dma_from_dev(&s.edu, 0, UNTOUCHED_GPA, SHARED_LEN),
		    "DMA to a GPA the guest never touched");
	TEST_EXPECT(!memcmp(src, dst, SHARED_LEN), "bytes at the untouched GPA");
	tap_end();

	tap_begin("dma_outside_memslots_blocked");
	r = vm_get_region(s.vm, 0);
	before = malloc(r->size);
	TEST_ASSERT(before, "malloc");
	memcpy(before, r->host_mem, r->size);
	edu_dma_from_dev(&s.edu, 0, OUTSIDE_GPA, SHARED_LEN);
	TEST_EXPECT(!memcmp(before, r->host_mem, r->size), "guest memory changed");
	free(before);
	tap_end();

	tap_begin("detach_unpins");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
