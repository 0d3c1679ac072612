// SPDX-License-Identifier: GPL-2.0-only
/*
 * A HWPT with a fault object on a KVM-sourced IOAS (IOMMU_HWPT_FAULT_ID_VALID).
 *
 * QEMU's VT-d offers no page requests, so edu cannot fault and its page
 * fault path cannot run here; what can be checked is everything around
 * it.  The SHARED HWPT of a device that can fault pins nothing; PIN_ONLY
 * gives a PINNED one; both hold the fault object (it cannot be destroyed
 * under them) and let it go with them.  Attaching edu fails (no PRI), and
 * leaves edu attachable to an ordinary SHARED HWPT, through which DMA
 * works.  A fault id that is not a fault object fails with ENOENT, the
 * fault flag with a flag a KVM IOAS refuses still fails with EOPNOTSUPP,
 * and with both policy flags with EINVAL.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

static struct shared_vm s;

static void fault_alloc(uint32_t *id, int *fd)
{
	struct iommu_fault_alloc cmd = {
		.size = sizeof(cmd),
	};

	TEST_ASSERT(!ioctl(s.iommufd, IOMMU_FAULT_QUEUE_ALLOC, &cmd),
		    "IOMMU_FAULT_QUEUE_ALLOC: %s", errno_name(errno));
	*id = cmd.out_fault_id;
	*fd = cmd.out_fault_fd;
}

/* IOMMU_HWPT_ALLOC for edu on the IOAS with a fault object; 0 or -errno */
static int hwpt_alloc_fault(uint32_t flags, uint32_t fault_id, uint32_t *hwpt_id,
			    uint32_t *mode)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags | IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = s.edu.dev_id,
		.pt_id = s.ioas_id,
		.fault_id = fault_id,
		.out_kvm_mode = ~0u,
	};
	int ret = __iommufd_ret(ioctl(s.iommufd, IOMMU_HWPT_ALLOC, &cmd));

	if (!ret)
		*hwpt_id = cmd.out_hwpt_id;
	*mode = cmd.out_kvm_mode;
	return ret;
}

static struct iommu_test_kvm_ioas_stats stats(void)
{
	struct iommu_test_kvm_ioas_stats st;

	shared_kvm_stats(s.iommufd, s.ioas_id, &st);
	return st;
}

int main(void)
{
	struct iommu_hwpt_pgfault rec;
	uint32_t fault_id, hwpt_id, mode;
	struct iommu_test_kvm_ioas_stats st;
	uint64_t pins;
	int fault_fd, ret;

	tap_plan(5);

	tap_begin("shared_fault_hwpt_pins_nothing");
	shared_vm_create(&s);
	fault_alloc(&fault_id, &fault_fd);
	/* nothing to read; closed, so that only HWPTs hold the object */
	TEST_EXPECT_EQ(read(fault_fd, &rec, sizeof(rec)), 0);
	close(fault_fd);
	pins = stats().pin_calls;
	TEST_ASSERT(!hwpt_alloc_fault(IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED, fault_id,
				      &hwpt_id, &mode),
		    "HWPT_ALLOC(SHARE_REQUIRED | FAULT_ID_VALID): %s", errno_name(errno));
	TEST_EXPECT_EQ(mode, IOMMU_KVM_MODE_SHARED);
	st = stats();
	TEST_EXPECT_EQ(st.shared_domains, 1);
	TEST_EXPECT_EQ(st.fault_domains, 1);
	TEST_EXPECT_EQ(st.pin_calls, pins);
	TEST_EXPECT_EQ(st.pinned_pages, 0);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	tap_end();

	tap_begin("attach_without_pri_fails");
	ret = _edu_attach(&s.edu, hwpt_id);
	tap_diag("attach to the fault-capable SHARED HWPT: %s", errno_name(-ret));
	TEST_EXPECT(ret < 0, "edu has no PRI, yet the attach succeeded");
	TEST_EXPECT_EQ(stats().attached, 0);
	/* the HWPT holds the fault object */
	test_err_ioctl_destroy(EBUSY, s.iommufd, fault_id);
	test_ioctl_destroy(s.iommufd, hwpt_id);
	st = stats();
	TEST_EXPECT_EQ(st.shared_domains, 0);
	TEST_EXPECT_EQ(st.fault_domains, 0);
	tap_end();

	tap_begin("pinned_fault_hwpt");
	TEST_ASSERT(!hwpt_alloc_fault(IOMMU_HWPT_ALLOC_KVM_PIN_ONLY, fault_id, &hwpt_id,
				      &mode),
		    "HWPT_ALLOC(PIN_ONLY | FAULT_ID_VALID): %s", errno_name(errno));
	TEST_EXPECT_EQ(mode, IOMMU_KVM_MODE_PINNED);
	TEST_EXPECT(_edu_attach(&s.edu, hwpt_id) < 0, "PINNED attach without PRI succeeded");
	test_err_ioctl_destroy(EBUSY, s.iommufd, fault_id);
	test_ioctl_destroy(s.iommufd, hwpt_id);
	tap_end();

	tap_begin("refused_requests");
	TEST_EXPECT_EQ(hwpt_alloc_fault(0, s.ioas_id, &hwpt_id, &mode), -ENOENT);
	TEST_EXPECT_EQ(hwpt_alloc_fault(IOMMU_HWPT_ALLOC_NEST_PARENT, fault_id, &hwpt_id,
					&mode), -EOPNOTSUPP);
	TEST_EXPECT_EQ(hwpt_alloc_fault(IOMMU_HWPT_ALLOC_KVM_PIN_ONLY |
					IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED, fault_id,
					&hwpt_id, &mode), -EINVAL);
	TEST_EXPECT_EQ(stats().shared_domains, 0);
	/* no HWPT holds the fault object any more */
	test_ioctl_destroy(s.iommufd, fault_id);
	tap_end();

	tap_begin("edu_still_attaches_and_dmas");
	shared_vm_attach_shared(&s);
	shared_vm_copy_check(&s);
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
