// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach and IOMMU_HWPT_ALLOC never fail because of a concurrent memslot
 * change: a VMM thread keeps creating, moving and deleting a
 * 1 MiB memslot (KVM_SET_USER_MEMORY_REGION) while the main thread, in a
 * loop, allocates a HWPT for edu on the KVM-sourced IOAS (the default
 * policy: SHARED where KVM's table can be shared, PINNED otherwise),
 * attaches edu to it, has edu write into guest RAM of a memslot nobody
 * changes, detaches and destroys the HWPT.  Every HWPT_ALLOC, attach and
 * memslot change must succeed, every HWPT must have the mode this boot
 * gives, every DMA must land, and the IOAS must have seen each memslot
 * change once, without a mirror error.  The loop runs RACE_MS; the counts
 * show how many attaches overlapped a memslot change.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "shared_vm.h"

#define RACE_MS		6000
#define CHURN_SLOT	1
#define CHURN_GPA_A	0x1000000UL	/* right after the 16 MiB of slot 0 */
#define CHURN_GPA_B	0x1800000UL
#define CHURN_SIZE	(1UL << 20)
/* edu writes into slot 0, which nobody changes: 16 pages from here */
#define TARGET_GPA	0x100000UL
#define TARGET_PAGES	16
#define SENTINEL	0x5c
/* a run that does less than this exercised nothing */
#define MIN_ATTACHES	8
#define MIN_CHANGES	50

static struct shared_vm s;
static volatile int stop;
/* written by the churn thread, read by the main thread */
static unsigned long changes;		/* successful memslot changes */
static unsigned long change_failures;
static int first_change_errno;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void change_done(int ret)
{
	if (!ret) {
		__atomic_add_fetch(&changes, 1, __ATOMIC_ACQ_REL);
		return;
	}
	if (!change_failures++)
		first_change_errno = -ret;
}

/* create at A, move to B, delete; again */
static void *churn_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		change_done(_vm_update_memslot(s.vm, CHURN_SLOT, CHURN_GPA_A, CHURN_SIZE, 0));
		change_done(_vm_update_memslot(s.vm, CHURN_SLOT, CHURN_GPA_B, CHURN_SIZE, 0));
		change_done(_vm_update_memslot(s.vm, CHURN_SLOT, CHURN_GPA_B, 0, 0));
	}
	return NULL;
}

int main(void)
{
	unsigned long attaches = 0, raced = 0, alloc_fail = 0, attach_fail = 0;
	unsigned long detach_fail = 0, dma_fail = 0, mode_wrong = 0, before, i;
	int alloc_errno = 0, attach_errno = 0;
	uint32_t want_mode, hwpt_id, mode, reasons;
	const uint8_t *src;
	uint8_t *target;
	struct iommu_test_kvm_ioas_stats st;
	pthread_t thread;
	bool loaded = false;
	long deadline;

	tap_plan(2);

	tap_begin("setup");
	shared_vm_create(&s);
	want_mode = shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED;
	tap_diag("expect edu %s", want_mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED");
	/* the churn slot's memory; it is deleted again right away */
	vm_add_memslot(s.vm, CHURN_SLOT, CHURN_GPA_A, CHURN_SIZE, 0, VM_MEM_MEMFD);
	TEST_ASSERT(!_vm_update_memslot(s.vm, CHURN_SLOT, CHURN_GPA_A, 0, 0),
		    "delete the churn slot: %s", errno_name(errno));
	src = addr_gpa2hva(s.vm, SHARED_SRC_GPA);
	target = addr_gpa2hva(s.vm, TARGET_GPA);
	shared_kvm_stats(s.iommufd, s.ioas_id, &st);
	/* the two changes above */
	TEST_EXPECT_EQ(st.memslot_changes, 2);
	tap_end();

	tap_begin("attach_races_memslot_changes");
	TEST_ASSERT(!pthread_create(&thread, NULL, churn_thread, NULL), "pthread_create");
	deadline = now_ms() + RACE_MS;
	for (i = 0; now_ms() < deadline; i++) {
		uint64_t gpa = TARGET_GPA + (i % TARGET_PAGES) * PAGE_SIZE;
		uint8_t *host = target + (i % TARGET_PAGES) * PAGE_SIZE;
		int ret;

		before = __atomic_load_n(&changes, __ATOMIC_ACQUIRE);
		ret = _test_ioctl_hwpt_alloc_kvm(s.iommufd, s.edu.dev_id, s.ioas_id, &hwpt_id,
						 &mode, &reasons);
		if (ret) {
			if (!alloc_fail++)
				alloc_errno = -ret;
			continue;
		}
		if (mode != want_mode && !mode_wrong++)
			tap_diag("HWPT %lu: mode %u, reasons %#x", i, mode, reasons);
		ret = _edu_attach(&s.edu, hwpt_id);
		if (__atomic_load_n(&changes, __ATOMIC_ACQUIRE) != before)
			raced++;
		if (ret) {
			if (!attach_fail++)
				attach_errno = -ret;
			test_ioctl_destroy(s.iommufd, hwpt_id);
			continue;
		}
		attaches++;
		/* edu's buffer gets slot 0's pattern once; it keeps it */
		if (!loaded) {
			TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN),
				    "DMA GPA->edu");
			loaded = true;
		}
		memset(host, SENTINEL, PAGE_SIZE);
		if (edu_dma_from_dev(&s.edu, 0, gpa, SHARED_LEN) ||
		    memcmp(host, src, SHARED_LEN) ||
		    !check_fill("past edu's bytes", host + SHARED_LEN, SENTINEL,
				PAGE_SIZE - SHARED_LEN)) {
			if (!dma_fail++)
				check_bytes("edu's write", host, src, SHARED_LEN);
		}
		if (_edu_detach(&s.edu))
			detach_fail++;
		test_ioctl_destroy(s.iommufd, hwpt_id);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);

	tap_diag("%lu HWPT_ALLOCs, %lu attaches (%lu overlapping a memslot change), "
		 "%lu memslot changes", i, attaches, raced, changes);
	tap_diag("failures: HWPT_ALLOC %lu (%s), attach %lu (%s), detach %lu, DMA %lu, "
		 "wrong mode %lu, memslot change %lu (%s)", alloc_fail,
		 alloc_fail ? errno_name(alloc_errno) : "-", attach_fail,
		 attach_fail ? errno_name(attach_errno) : "-", detach_fail, dma_fail,
		 mode_wrong, change_failures,
		 change_failures ? errno_name(first_change_errno) : "-");
	TEST_EXPECT_EQ(alloc_fail, 0);
	TEST_EXPECT_EQ(attach_fail, 0);
	TEST_EXPECT_EQ(detach_fail, 0);
	TEST_EXPECT_EQ(dma_fail, 0);
	TEST_EXPECT_EQ(mode_wrong, 0);
	TEST_EXPECT_EQ(change_failures, 0);
	TEST_EXPECT(attaches >= MIN_ATTACHES, "only %lu attaches", attaches);
	TEST_EXPECT(changes >= MIN_CHANGES, "only %lu memslot changes", changes);
	TEST_EXPECT(raced > 0, "no attach overlapped a memslot change");
	/* each change reached the IOAS once, and it mirrored every one */
	shared_kvm_stats(s.iommufd, s.ioas_id, &st);
	TEST_EXPECT_EQ(st.memslot_changes, changes + 2);
	TEST_EXPECT_EQ(st.mirror_errors, 0);
	TEST_EXPECT_EQ(st.attached, 0);
	TEST_EXPECT_EQ(st.shared_domains, 0);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
