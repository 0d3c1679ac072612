// SPDX-License-Identifier: GPL-2.0-only
/*
 * A configuration where edu's IOMMU cannot walk KVM's table: with
 * IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED the allocation fails with EOPNOTSUPP
 * and a reason for each cause, IOMMU_KVM_SHARE_QUERY says the same with
 * both sides' numbers, and nothing is left behind: no object, no pin, no
 * charge.  The default policy then falls back to PINNED.  Which causes
 * apply is stated from what the test can see (VT-d CAP, CPU paging depth
 * and address width, KVM's MMIO caching); the boot profiles of
 * test-kernel.sh provide aw-bits=39, LA57, and MMIO caching on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

static unsigned int cpu_levels(void)
{
	char line[4096];
	unsigned int levels = 4;
	FILE *f = fopen("/proc/cpuinfo", "r");

	TEST_ASSERT(f, "open /proc/cpuinfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) && strstr(line, " la57"))
			levels = 5;
	fclose(f);
	return levels;
}

int main(void)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	const uint32_t both = IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED |
			      IOMMU_HWPT_ALLOC_KVM_PIN_ONLY;
	char want_s[128], got_s[128];
	struct iommu_kvm_share_query q;
	uint32_t want, probe, probe2;
	struct shared_vm s;

	tap_plan(6);
	want = shared_expected_reasons();
	if (!want)
		tap_skip_all("this machine can share: nothing to refuse");
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &unlimited), "RLIMIT_MEMLOCK");

	tap_begin("share_required_refused");
	shared_vm_create_opts(&s, SHARED_VM_NO_IPC_LOCK);
	/* the id the next object gets, to show the refusal leaves none */
	test_ioctl_ioas_alloc(s.iommufd, &probe);
	test_ioctl_destroy(s.iommufd, probe);
	TEST_EXPECT_EQ(shared_vm_alloc_hwpt_flags(&s, IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED),
		       -EOPNOTSUPP);
	TEST_EXPECT_EQ(s.mode, IOMMU_KVM_MODE_NONE);
	tap_diag("reasons %s, expected %s", shared_reason_names(s.reasons, got_s, sizeof(got_s)),
		 shared_reason_names(want, want_s, sizeof(want_s)));
	TEST_EXPECT_EQ(s.reasons, want);
	tap_end();

	tap_begin("nothing_left_behind");
	test_ioctl_ioas_alloc(s.iommufd, &probe2);
	TEST_EXPECT_EQ(probe2, probe);
	test_err_ioctl_destroy(ENOENT, s.iommufd, probe2 + 1);
	test_ioctl_destroy(s.iommufd, probe2);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	TEST_EXPECT_EQ(shared_kvm_root(&s), 0);
	tap_end();

	tap_begin("query_reports_both_sides");
	TEST_ASSERT(!_test_ioctl_kvm_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &q),
		    "IOMMU_KVM_SHARE_QUERY: %s", errno_name(errno));
	tap_diag("kvm: format %u levels %u addr bits %u pgsizes %#llx; iommu: levels %#x "
		 "addr bits %u pgsizes %#llx; rsvd conflict %#llx", q.out_kvm_format,
		 q.out_kvm_levels, q.out_kvm_addr_bits, (unsigned long long)q.out_kvm_pgsizes,
		 q.out_iommu_levels, q.out_iommu_addr_bits,
		 (unsigned long long)q.out_iommu_pgsizes,
		 (unsigned long long)q.out_rsvd_conflict);
	TEST_EXPECT_EQ(q.out_reasons, want);
	TEST_EXPECT_EQ(q.out_mode, IOMMU_KVM_MODE_NONE);
	TEST_EXPECT_EQ(q.out_kvm_format, IOMMU_KVM_FORMAT_NPT);	/* SVM guest */
	TEST_EXPECT_EQ(q.out_kvm_levels, cpu_levels());
	TEST_EXPECT_EQ(!!(want & IOMMU_KVM_SHARE_LEVELS),
		       !(q.out_iommu_levels & (1u << q.out_kvm_levels)));
	TEST_EXPECT_EQ(!!(want & IOMMU_KVM_SHARE_ADDR_WIDTH),
		       q.out_kvm_addr_bits > q.out_iommu_addr_bits);
	TEST_EXPECT(q.out_kvm_pgsizes & 0x1000, "KVM maps 4 KiB pages");
	TEST_EXPECT(q.out_iommu_pgsizes & 0x1000, "the IOMMU walks 4 KiB leaves");
	q.flags = 1;
	TEST_EXPECT_EQ(__iommufd_ret(ioctl(s.iommufd, IOMMU_KVM_SHARE_QUERY, &q)), -EOPNOTSUPP);
	TEST_EXPECT_EQ(_test_ioctl_kvm_share_query(s.iommufd, s.edu.dev_id, s.edu.dev_id, &q),
		       -ENOENT);
	test_ioctl_ioas_alloc(s.iommufd, &probe);
	TEST_EXPECT_EQ(_test_ioctl_kvm_share_query(s.iommufd, s.edu.dev_id, probe, &q),
		       -EINVAL);	/* not sourced from a VM */
	test_ioctl_destroy(s.iommufd, probe);
	tap_end();

	tap_begin("policy_flags");
	TEST_EXPECT_EQ(shared_vm_alloc_hwpt_flags(&s, both), -EINVAL);
	TEST_EXPECT_EQ(shared_vm_alloc_hwpt_flags(&s, IOMMU_HWPT_ALLOC_DIRTY_TRACKING),
		       -EOPNOTSUPP);
	TEST_ASSERT(!shared_vm_alloc_hwpt_flags(&s, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY),
		    "PIN_ONLY: %s", errno_name(errno));
	TEST_EXPECT_EQ(s.mode, IOMMU_KVM_MODE_PINNED);
	TEST_EXPECT_EQ(s.reasons, 0);	/* PIN_ONLY does not look */
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), SHARED_VM_RAM >> 10);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	tap_end();

	tap_begin("attach_to_ioas_falls_back_pinned");
	TEST_EXPECT_EQ(_edu_attach(&s.edu, s.ioas_id), 0);
	TEST_ASSERT(!_test_ioctl_kvm_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &q),
		    "IOMMU_KVM_SHARE_QUERY: %s", errno_name(errno));
	TEST_EXPECT_EQ(q.out_mode, IOMMU_KVM_MODE_PINNED);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), SHARED_VM_RAM >> 10);
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	tap_end();

	tap_begin("all_released");
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
