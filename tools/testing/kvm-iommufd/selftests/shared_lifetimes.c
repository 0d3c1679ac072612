// SPDX-License-Identifier: GPL-2.0-only
/*
 * SHARED mode lifetimes: close the device, the iommufd and the VM in each
 * of the six orders.  The KVM-sourced IOAS holds the VM, so the VM lives
 * until the IOAS goes (with the iommufd context, which a bound device
 * keeps after the iommufd fd is closed); at the end the VM is gone (no KVM debugfs directory
 * left), nothing is pinned or charged (VmLck 0), and the kernel log has no
 * warning (test-kernel.sh fails the run on one).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

/* VMs alive: KVM makes one debugfs directory "<pid>-<fd>" per VM. */
static int vms_alive(void)
{
	DIR *d = opendir("/sys/kernel/debug/kvm");
	struct dirent *e;
	int n = 0, pid, fd;

	TEST_ASSERT(d, "open /sys/kernel/debug/kvm");
	while ((e = readdir(d)))
		n += sscanf(e->d_name, "%d-%d", &pid, &fd) == 2;
	closedir(d);
	return n;
}

int main(void)
{
	static const char *const orders[] = { "dim", "dmi", "idm", "imd", "mdi", "mid" };
	unsigned int o, k;

	tap_plan(6);
	for (o = 0; o < 6; o++) {
		struct shared_vm s;

		tap_begin("close_%s", orders[o]);	/* d: device, i: iommufd, m: VM */
		shared_vm_create(&s);
		shared_vm_attach_shared(&s);
		TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA");
		TEST_EXPECT_EQ(vms_alive(), 1);
		for (k = 0; k < 3; k++) {
			switch (orders[o][k]) {
			case 'd':
				edu_close(&s.edu);
				break;
			case 'i':
				close(s.iommufd);
				s.iommufd = -1;
				break;
			case 'm':
				kvm_vm_free(s.vm);
				s.vm = NULL;
				/*
				 * The IOAS keeps the VM alive; the iommufd context
				 * (and its IOAS) lives while its fd is open or a
				 * device is still bound to it.
				 */
				TEST_EXPECT_EQ(vms_alive(), s.iommufd >= 0 || s.edu.fd >= 0);
				break;
			}
		}
		TEST_EXPECT_EQ(vms_alive(), 0);
		TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
		tap_end();
	}
	tap_finish();
}
