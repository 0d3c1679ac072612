// SPDX-License-Identifier: GPL-2.0-only
/*
 * RLIMIT_MEMLOCK binds the PINNED table: without CAP_IPC_LOCK and with a
 * limit below guest RAM, a PINNED attach fails with ENOMEM and leaves the
 * charge (VmPin) and the object ids as they were.  With room for the RAM
 * but not for more, a memslot the VMM adds is refused by
 * KVM_SET_USER_MEMORY_REGION with ENOMEM, and nothing changes.  iommufd
 * runs in its VFIO-compatible accounting mode (IOMMU_OPTION_RLIMIT_MODE 1),
 * so the charge shows in VmLck as well as VmPin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define EXTRA_GPA	0x1000000UL
#define EXTRA_SIZE	(2UL << 20)

static void set_memlock(rlim_t bytes)
{
	const struct rlimit lim = { bytes, bytes };

	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &lim), "RLIMIT_MEMLOCK: %s",
		    errno_name(errno));
}

int main(void)
{
	struct shared_vm s;
	uint32_t probe, probe2;

	tap_plan(4);

	tap_begin("pinned_attach_over_limit_enomem");
	shared_vm_create_opts(&s, SHARED_VM_NO_IPC_LOCK | SHARED_VM_ACCOUNT_MM);
	set_memlock(SHARED_VM_RAM / 2);
	test_ioctl_ioas_alloc(s.iommufd, &probe);
	test_ioctl_destroy(s.iommufd, probe);
	TEST_EXPECT_EQ(shared_vm_alloc_hwpt_flags(&s, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY), -ENOMEM);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	TEST_EXPECT_EQ(_edu_attach(&s.edu, s.ioas_id), -ENOMEM);	/* AUTO or PINNED */
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	tap_end();

	tap_begin("nothing_left_behind");
	test_ioctl_ioas_alloc(s.iommufd, &probe2);
	TEST_EXPECT_EQ(probe2, probe);
	test_ioctl_destroy(s.iommufd, probe2);
	tap_end();

	tap_begin("memslot_over_limit_refused");
	set_memlock(SHARED_VM_RAM + EXTRA_SIZE / 2);
	TEST_ASSERT(!shared_vm_alloc_hwpt_flags(&s, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY),
		    "PIN_ONLY within the limit: %s", errno_name(errno));
	edu_attach(&s.edu, s.hwpt_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), SHARED_VM_RAM >> 10);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), SHARED_VM_RAM >> 10);
	TEST_EXPECT_EQ(_vm_add_memslot(s.vm, 1, EXTRA_GPA, EXTRA_SIZE, 0, VM_MEM_MEMFD),
		       -ENOMEM);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), SHARED_VM_RAM >> 10);
	/* the slot does not exist: the same slot can be created within the limit */
	set_memlock(SHARED_VM_RAM + EXTRA_SIZE);
	TEST_EXPECT_EQ(_vm_add_memslot(s.vm, 1, EXTRA_GPA, EXTRA_SIZE, 0, VM_MEM_MEMFD), 0);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), (SHARED_VM_RAM + EXTRA_SIZE) >> 10);
	tap_end();

	tap_begin("detach_releases");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
