// SPDX-License-Identifier: GPL-2.0-only
/*
 * SHARED mode end to end: a VM made with the library writes its memory,
 * a KVM-sourced IOAS is allocated for it, edu is attached in SHARED mode
 * and copies between two GPAs, and the guest sees the bytes.  The unit's
 * second-stage pointer is KVM's root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define UNTOUCHED_GPA	0x500000UL	/* the guest never writes here */

int main(void)
{
	struct shared_vm s;
	uint8_t *src, *dst;
	uint32_t id, buf[4];
	unsigned int i;

	tap_plan(7);

	tap_begin("ioas_alloc_kvm");
	shared_vm_create(&s);
	/* not a VM fd, no fd at all, unknown flags, reserved bits */
	test_err_ioctl_ioas_alloc_kvm(EINVAL, s.iommufd, s.iommufd,
				      IOMMU_IOAS_ALLOC_FLAG_KVM_FD, &id);
	test_err_ioctl_ioas_alloc_kvm(EBADF, s.iommufd, -1,
				      IOMMU_IOAS_ALLOC_FLAG_KVM_FD, &id);
	test_err_ioctl_ioas_alloc_kvm(EOPNOTSUPP, s.iommufd, s.vm->fd, 1u << 31, &id);
	tap_end();

	tap_begin("userspace_mapping_refused");
	test_err_ioctl_ioas_map_fixed(EPERM, s.iommufd, s.ioas_id, buf, 4096, 0x100000);
	test_err_ioctl_ioas_unmap(EPERM, s.iommufd, s.ioas_id, 0, 4096);
	tap_end();

	tap_begin("hwpt_shared");
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	TEST_ASSERT(shared_vm_alloc_hwpt(&s) == 0, "HWPT_ALLOC on the KVM IOAS: %s (reasons %#x)",
		    errno_name(errno), s.reasons);
	TEST_EXPECT_EQ(s.mode, IOMMU_KVM_MODE_SHARED);
	TEST_EXPECT_EQ(s.reasons, 0);
	edu_attach(&s.edu, s.hwpt_id);
	tap_end();

	tap_begin("dma_gpa_to_gpa_guest_sees_bytes");
	src = addr_gpa2hva(s.vm, SHARED_SRC_GPA);
	dst = addr_gpa2hva(s.vm, SHARED_DST_GPA);
	for (i = 0; i < SHARED_LEN; i++)
		TEST_ASSERT(src[i] == shared_pattern(i), "guest pattern byte %u", i);
	TEST_ASSERT(dst[0] == 0 && !memcmp(dst, dst + 1, SHARED_LEN - 1), "DST not zeroed");
	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA GPA->edu");
	TEST_ASSERT(!edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN), "DMA edu->GPA");
	TEST_EXPECT(!memcmp(src, dst, SHARED_LEN), "host view of DST");
	TEST_EXPECT_EQ(shared_vm_guest_compare(&s), SHARED_EQUAL);
	tap_end();

	tap_begin("pinned_and_prefaulted");
	/* edu cannot fault: all guest RAM pinned (iommufd's pins), and mapped */
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), SHARED_VM_RAM >> 10);
	dst = addr_gpa2hva(s.vm, UNTOUCHED_GPA);
	TEST_ASSERT(!edu_dma_from_dev(&s.edu, 0, UNTOUCHED_GPA, SHARED_LEN),
		    "DMA to a GPA the guest never touched");
	TEST_EXPECT(!memcmp(src, dst, SHARED_LEN), "bytes at the untouched GPA");
	tap_end();

	tap_begin("ss_pointer_is_kvm_root");
	{
		uint64_t root = shared_kvm_root(&s), ss;
		unsigned int pgtt = 0;

		ss = shared_vtd_ss_pointer(&pgtt);
		tap_diag("KVM root %#llx, VT-d second-stage pointer %#llx, PGTT %u",
			 (unsigned long long)root, (unsigned long long)ss, pgtt);
		TEST_EXPECT(root != 0, "no KVM root");
		TEST_EXPECT_EQ(ss, root);
		TEST_EXPECT_EQ(pgtt, 2);	/* second stage only */
	}
	tap_end();

	tap_begin("detach_destroy");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);	/* pins released */
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
