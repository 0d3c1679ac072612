// SPDX-License-Identifier: GPL-2.0-only
/*
 * A configuration where edu's IOMMU cannot walk KVM's table: SHARED is
 * refused with EOPNOTSUPP and a reason for each cause, and nothing is left
 * behind.  Which causes apply is stated from what the test can see (VT-d
 * CAP, CPU paging depth and address width, KVM's MMIO caching); the boot
 * profiles of test-kernel.sh provide aw-bits=39, LA57, and MMIO caching on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

int main(void)
{
	char want_s[128], got_s[128];
	uint32_t want, probe, probe2, hwpt;
	struct shared_vm s;

	tap_plan(3);
	want = shared_expected_reasons();
	if (!want)
		tap_skip_all("this machine can share: nothing to refuse");

	tap_begin("hwpt_alloc_refused");
	shared_vm_create(&s);
	/* the id the next object gets, to show the refusal leaves none */
	test_ioctl_ioas_alloc(s.iommufd, &probe);
	test_ioctl_destroy(s.iommufd, probe);
	TEST_EXPECT_EQ(shared_vm_alloc_hwpt(&s), -EOPNOTSUPP);
	TEST_EXPECT_EQ(s.mode, IOMMU_KVM_MODE_NONE);
	tap_diag("reasons %s, expected %s", shared_reason_names(s.reasons, got_s, sizeof(got_s)),
		 shared_reason_names(want, want_s, sizeof(want_s)));
	TEST_EXPECT_EQ(s.reasons, want);
	tap_end();

	tap_begin("attach_refused");
	TEST_EXPECT_EQ(_edu_attach(&s.edu, s.ioas_id), -EOPNOTSUPP);
	tap_end();

	tap_begin("nothing_left_behind");
	test_ioctl_ioas_alloc(s.iommufd, &probe2);
	TEST_EXPECT_EQ(probe2, probe);
	test_err_ioctl_destroy(ENOENT, s.iommufd, probe2 + 1);
	hwpt = probe2;
	test_ioctl_destroy(s.iommufd, hwpt);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
