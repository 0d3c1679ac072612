// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fail every fault point the new paths reach, one at a time (the task's
 * fail-nth, with failslab and fail_page_alloc): allocating a KVM-sourced
 * IOAS, a HWPT on it (whatever mode the boot gives edu), attaching edu,
 * adding and deleting a memslot while attached, detaching and destroying.
 * Each injected failure must come back as one of the errnos these paths
 * document for it, and once the test has undone what did succeed, nothing
 * may be left: no pinned or locked page, no iommufd object, no memslot.
 * The errnos: ENOMEM for a failed allocation (slab or page allocator,
 * including the page faults of pinning); and the ones iommufd's own
 * test-only injection points (fail_iommufd, CONFIG_IOMMUFD_TEST) return:
 * ENOENT from an object lookup, EFAULT from pinning user pages, EINVAL
 * from the io_pagetable.  The kernel log must show no
 * WARN or oops (test-kernel.sh fails the boot on either).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define RAM		(2UL << 20)
#define EXTRA_GPA	(4UL << 20)
#define EXTRA_SIZE	(1UL << 20)
#define MAX_NTH		5000

static int fail_nth_fd = -1;

static void write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s: %s", path, errno_name(errno));
	TEST_ASSERT(write(fd, val, strlen(val)) == (ssize_t)strlen(val), "write %s", path);
	close(fd);
}

static void fail_nth_setup(void)
{
	char path[64];

	/* as tools/testing/selftests/iommu does: sleeping allocations fail too */
	write_str("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	write_str("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	/* injected failures are expected: only real splats may reach the log */
	write_str("/sys/kernel/debug/failslab/verbose", "0");
	write_str("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	write_str("/sys/kernel/debug/fail_iommufd/verbose", "0");
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	fail_nth_fd = open(path, O_RDWR);
	TEST_ASSERT(fail_nth_fd >= 0, "open %s: %s", path, errno_name(errno));
}

static void fail_nth_set(unsigned int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	TEST_ASSERT(pwrite(fail_nth_fd, buf, len, 0) == len, "fail-nth: %s", errno_name(errno));
}

/* True when the fault was injected (the countdown reached 0). */
static bool fail_nth_fired(void)
{
	char buf[16] = { 0 };

	TEST_ASSERT(pread(fail_nth_fd, buf, sizeof(buf) - 1, 0) > 0, "read fail-nth");
	fail_nth_set(0);
	return atoi(buf) == 0;
}

struct run {
	struct kvm_vm *vm;
	struct edu_dev *edu;
	int iommufd;
	uint32_t ioas, hwpt, mode, reasons;
	bool attached, extra;
	int err;		/* first error, -errno */
	const char *where;
};

static bool step(struct run *r, int ret, const char *where)
{
	if (ret && !r->err) {
		r->err = ret;
		r->where = where;
	}
	return !ret;
}

/* The sequence under test; stops at the first failure. */
static void sequence(struct run *r)
{
	if (!step(r, _test_ioctl_ioas_alloc_kvm(r->iommufd, r->vm->fd,
						IOMMU_IOAS_ALLOC_FLAG_KVM_FD, &r->ioas),
		  "IOAS_ALLOC"))
		return;
	if (!step(r, _test_ioctl_hwpt_alloc_kvm(r->iommufd, r->edu->dev_id, r->ioas, &r->hwpt,
						&r->mode, &r->reasons), "HWPT_ALLOC")) {
		r->hwpt = 0;
		return;
	}
	if (!step(r, _edu_attach(r->edu, r->hwpt), "attach"))
		return;
	r->attached = true;
	if (!step(r, _vm_add_memslot(r->vm, 1, EXTRA_GPA, EXTRA_SIZE, 0, VM_MEM_MEMFD),
		  "memslot add"))
		return;
	r->extra = true;
	/* KVM's deletion only: the VMM releases the memory outside the sweep */
	if (!step(r, _vm_update_memslot(r->vm, 1, EXTRA_GPA, 0, 0), "memslot delete"))
		return;
	r->extra = false;
	if (!step(r, _edu_detach(r->edu), "detach"))
		return;
	r->attached = false;
	if (!step(r, _test_ioctl_destroy(r->iommufd, r->hwpt), "destroy HWPT"))
		return;
	r->hwpt = 0;
	step(r, _test_ioctl_destroy(r->iommufd, r->ioas), "destroy IOAS");
	r->ioas = 0;
}

/* Undo what succeeded, without fault injection. */
static void unwind(struct run *r)
{
	if (r->vm->regions[1].used)
		TEST_ASSERT(!_vm_delete_memslot(r->vm, 1), "delete memslot");
	if (r->attached)
		TEST_ASSERT(!_edu_detach(r->edu), "detach");
	if (r->hwpt)
		TEST_ASSERT(!_test_ioctl_destroy(r->iommufd, r->hwpt), "destroy HWPT");
	if (r->ioas)
		TEST_ASSERT(!_test_ioctl_destroy(r->iommufd, r->ioas), "destroy IOAS");
}

int main(void)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned int nth, swept = 0, odd = 0, leaks = 0;
	unsigned int by_step[8] = { 0 };
	static const char *const steps[8] = {
		"IOAS_ALLOC", "HWPT_ALLOC", "attach", "memslot add", "memslot delete",
		"detach", "destroy HWPT", "destroy IOAS",
	};
	struct edu_dev edu;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint32_t probe, base, mode = 0;
	bool done = false;
	unsigned int i;

	tap_plan(2);
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &unlimited), "RLIMIT_MEMLOCK");
	drop_cap_ipc_lock();		/* so every pin is charged and counted */

	tap_begin("sweep");
	vm = vm_create();
	vm_add_memslot(vm, 0, 0, RAM, 0, VM_MEM_MEMFD);
	vcpu = vcpu_add(vm, 0);		/* KVM builds its table with a vCPU */
	(void)vcpu;
	edu_open(&edu);
	fail_nth_setup();
	for (nth = 1; nth <= MAX_NTH && !done; nth++) {
		struct run r = { .vm = vm, .edu = &edu };

		r.iommufd = iommufd_open();
		TEST_ASSERT(!_edu_bind(&edu, r.iommufd), "bind");
		/* the id the next object gets: nothing may hold one afterwards */
		test_ioctl_ioas_alloc(r.iommufd, &base);
		test_ioctl_destroy(r.iommufd, base);
		/* the VMM's memory for the new slot exists before the sweep */
		TEST_ASSERT(!vm_prealloc_memslot(vm, 1, EXTRA_SIZE, VM_MEM_MEMFD), "memory");
		fail_nth_set(nth);
		sequence(&r);
		if (!fail_nth_fired()) {
			TEST_EXPECT(!r.err, "no fault injected, yet %s failed: %s", r.where,
				    errno_name(-r.err));
			mode = r.mode;
			done = true;
		} else {
			swept++;
			for (i = 0; i < 8; i++)
				if (r.err && !strcmp(r.where, steps[i]))
					by_step[i]++;
			/* a documented errno, or absorbed (no error) */
			if (r.err && r.err != -ENOMEM && r.err != -ENOENT &&
			    r.err != -EFAULT && r.err != -EINVAL) {
				odd++;
				tap_diag("nth %u: %s failed with %s", nth, r.where,
					 errno_name(-r.err));
			}
		}
		unwind(&r);
		/* nothing left: no charge, no object, no memslot */
		test_ioctl_ioas_alloc(r.iommufd, &probe);
		if (probe != base || shared_vm_pinned_kb() || shared_vm_locked_kb()) {
			leaks++;
			tap_diag("nth %u (%s): next id %u, VmPin %ld kB, VmLck %ld kB", nth,
				 r.where ? r.where : "-", probe, shared_vm_pinned_kb(),
				 shared_vm_locked_kb());
		}
		test_ioctl_destroy(r.iommufd, probe);
		edu_close(&edu);	/* unbinds; reopen for the next round */
		close(r.iommufd);
		edu_open(&edu);
		TEST_ASSERT(!vm->regions[1].used, "memslot 1 left behind");
		if (vm->regions[1].prealloc)		/* never added */
			TEST_ASSERT(!_vm_delete_memslot(vm, 1), "release memory");
	}
	tap_diag("%u fault points swept in %s mode; failures by step:", swept,
		 mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED");
	for (i = 0; i < 8; i++)
		tap_diag("  %s: %u", steps[i], by_step[i]);
	TEST_EXPECT(done, "the sequence never ran without an injected fault");
	TEST_EXPECT(swept >= 10, "only %u fault points", swept);
	TEST_EXPECT_EQ(odd, 0);
	TEST_EXPECT_EQ(leaks, 0);
	tap_end();

	tap_begin("still_works");
	{
		struct run r = { .vm = vm, .edu = &edu };

		r.iommufd = iommufd_open();
		TEST_ASSERT(!_edu_bind(&edu, r.iommufd), "bind");
		TEST_ASSERT(!vm_prealloc_memslot(vm, 1, EXTRA_SIZE, VM_MEM_MEMFD), "memory");
		sequence(&r);
		TEST_EXPECT(!r.err, "%s: %s", r.where ? r.where : "-", errno_name(-r.err));
		unwind(&r);
		edu_close(&edu);
		close(r.iommufd);
	}
	tap_end();

	kvm_vm_free(vm);
	tap_finish();
}
