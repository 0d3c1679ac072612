// SPDX-License-Identifier: GPL-2.0-only
/*
 * One pin per page per IOAS, and RLIMIT_MEMLOCK bounds any mix of modes.
 *
 * Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK at one and a half times
 * guest RAM, in each IOMMU_OPTION_RLIMIT_MODE (0: the user's locked_vm,
 * 1: the mm's VmLck): edu's SHARED HWPT (edu cannot fault, so every guest
 * page is pinned) and a PIN_ONLY HWPT on the same IOAS hold one copy of
 * guest RAM: VmPin, and VmLck in mode 1, equal the RAM, not twice it.  A
 * second KVM IOAS of the same VM is a second copy: a SHARED or PIN_ONLY
 * HWPT on it fails with ENOMEM and changes no counter, until the first
 * IOAS gives its pins back.  Nothing stays pinned at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define RAM_KB	((long)(SHARED_VM_RAM >> 10))

static void set_memlock(rlim_t bytes)
{
	const struct rlimit lim = { bytes, bytes };

	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &lim), "RLIMIT_MEMLOCK: %s",
		    errno_name(errno));
}

/* VmPin == @pin and VmLck == @lck, in KiB */
static bool charged(long pin, long lck)
{
	bool ok = TEST_EXPECT_EQ(shared_vm_pinned_kb(), pin);

	return TEST_EXPECT_EQ(shared_vm_locked_kb(), lck) && ok;
}

/* edu copies SRC to @dst through its buffer; the host sees SRC's bytes there */
static void dma_lands(struct shared_vm *s, uint64_t dst)
{
	const uint8_t *src = addr_gpa2hva(s->vm, SHARED_SRC_GPA);
	uint8_t *to = addr_gpa2hva(s->vm, dst);

	memset(to, 0, SHARED_LEN);
	TEST_ASSERT(!edu_dma_to_dev(&s->edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA GPA->edu");
	TEST_ASSERT(!edu_dma_from_dev(&s->edu, 0, dst, SHARED_LEN), "DMA edu->GPA");
	TEST_EXPECT(!memcmp(src, to, SHARED_LEN), "bytes edu wrote at %#lx", (unsigned long)dst);
}

static void one_mode(bool account_mm)
{
	const long lck = account_mm ? RAM_KB : 0;
	uint32_t shared_id, pinned_id, ioas2, id, mode, reasons;
	struct shared_vm s;
	char name[64];

	snprintf(name, sizeof(name), "mode%d_shared_and_pinned_pin_once",
		 account_mm);
	tap_begin(name);
	shared_vm_create_opts(&s, SHARED_VM_NO_IPC_LOCK |
				  (account_mm ? SHARED_VM_ACCOUNT_MM : 0));
	set_memlock(SHARED_VM_RAM + SHARED_VM_RAM / 2);
	shared_vm_attach_shared(&s);
	shared_id = s.hwpt_id;
	charged(RAM_KB, lck);
	shared_vm_copy_check(&s);
	TEST_ASSERT(!shared_vm_alloc_hwpt_flags(&s, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY),
		    "PIN_ONLY next to SHARED: %s", errno_name(errno));
	pinned_id = s.hwpt_id;
	TEST_EXPECT_EQ(s.mode, IOMMU_KVM_MODE_PINNED);
	charged(RAM_KB, lck);
	tap_end();

	snprintf(name, sizeof(name), "mode%d_second_copy_over_limit_enomem",
		 account_mm);
	tap_begin(name);
	test_ioctl_ioas_alloc_kvm(s.iommufd, s.vm->fd, &ioas2);
	TEST_EXPECT_EQ(_test_ioctl_hwpt_alloc_kvm_flags(s.iommufd, s.edu.dev_id, ioas2,
							IOMMU_HWPT_ALLOC_KVM_PIN_ONLY,
							&id, &mode, &reasons),
		       -ENOMEM);
	TEST_EXPECT_EQ(_test_ioctl_hwpt_alloc_kvm_flags(s.iommufd, s.edu.dev_id, ioas2,
							0, &id, &mode, &reasons),
		       -ENOMEM);
	charged(RAM_KB, lck);
	/* the PIN_ONLY HWPT goes: the SHARED one still holds the copy */
	test_ioctl_destroy(s.iommufd, pinned_id);
	charged(RAM_KB, lck);
	dma_lands(&s, SHARED_DST_GPA + 0x10000);
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, shared_id);
	charged(0, 0);
	/* now the second IOAS has room for its copy */
	TEST_EXPECT_EQ(_test_ioctl_hwpt_alloc_kvm_flags(s.iommufd, s.edu.dev_id, ioas2,
							IOMMU_HWPT_ALLOC_KVM_PIN_ONLY,
							&id, &mode, &reasons),
		       0);
	charged(RAM_KB, lck);
	test_ioctl_destroy(s.iommufd, id);
	test_ioctl_destroy(s.iommufd, ioas2);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	charged(0, 0);
	tap_end();

	shared_vm_destroy(&s);
}

int main(void)
{
	tap_plan(4);
	one_mode(false);
	one_mode(true);
	tap_finish();
}
