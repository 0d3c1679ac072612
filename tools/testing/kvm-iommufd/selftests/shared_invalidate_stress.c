// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidation is never late, under load: while a thread keeps edu writing
 * to one GPA of a memfd-backed VM, the VMM discards that page
 * (MADV_DONTNEED) and the guest touches it again, in a loop.  Through a
 * second mapping of the memfd the test watches the page: from the moment
 * the discard returns until the guest touches the page again, no byte DMA
 * writes may land in it (KVM zapped the translation, and its flush must
 * have reached the IOMMU before madvise() returned).  After the touch, DMA
 * lands again, which shows the device was writing all along.  The IOAS's
 * counters show that each KVM flush reached the one SHARED domain once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define ROUNDS		12
#define TOUCH_GPA	0x6000		/* the guest's touch loop */
#define TOUCH_DONE	4
#define SENTINEL	0xee
#define __str(x)	#x
#define str(x)		__str(x)

extern const unsigned char touch_guest[], touch_guest_end[];

/* Write the last byte of DST's page (outside edu's bytes), report, again. */
asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"touch_guest:\n"
	"	mov $" str(SHARED_DST_GPA) " >> 4, %ax\n"
	"	mov %ax, %es\n"
	"	movb $0x5a, %es:4095\n"
	"	mov $" str(SHARED_PORT) ", %dx\n"
	"	mov $" str(TOUCH_DONE) ", %eax\n"
	"	out %eax, %dx\n"
	"	jmp touch_guest\n"
	"touch_guest_end:\n"
	".code64\n"
	".popsection\n");

static struct shared_vm s;
static volatile int stop;
static unsigned long dmas;	/* DMA transfers completed, atomically */

static void *dma_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN);
		__atomic_add_fetch(&dmas, 1, __ATOMIC_ACQ_REL);
	}
	return NULL;
}

/* Wait until @n more transfers have completed. */
static void wait_dmas(unsigned long n)
{
	unsigned long target = __atomic_load_n(&dmas, __ATOMIC_ACQUIRE) + n;

	while (__atomic_load_n(&dmas, __ATOMIC_ACQUIRE) < target)
		usleep(1000);
}

static void guest_touch(void)
{
	uint32_t val;
	uint16_t port;

	TEST_ASSERT(vcpu_run(s.vcpu) == KVM_EXIT_IO && vcpu_get_io_out(s.vcpu, &port, &val) &&
		    val == TOUCH_DONE, "guest touch");
}

int main(void)
{
	unsigned int round, changed, landed = 0, lost = 0, i;
	struct iommu_test_kvm_ioas_stats before, after;
	struct vm_region *r;
	uint8_t *alias, *page;
	pthread_t thr;

	tap_plan(3);

	tap_begin("setup");
	shared_vm_create(&s);
	shared_vm_attach_shared(&s);
	r = vm_get_region(s.vm, 0);
	alias = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	TEST_ASSERT(alias != MAP_FAILED, "second mapping of the memfd");
	page = alias + SHARED_DST_GPA;
	/* edu's buffer holds the guest's pattern from now on */
	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA in");
	vm_load_code(s.vm, TOUCH_GPA, touch_guest, touch_guest_end - touch_guest);
	vcpu_setup_realmode(s.vcpu, TOUCH_GPA, 0x8000);
	guest_touch();
	shared_kvm_stats(s.iommufd, s.ioas_id, &before);
	TEST_ASSERT(!pthread_create(&thr, NULL, dma_thread, NULL), "DMA thread");
	tap_end();

	tap_begin("no_dma_lands_after_discard");
	for (round = 0; round < ROUNDS; round++) {
		/* the page is mapped: DMA lands */
		memset(page, 0, SHARED_LEN);
		wait_dmas(2);
		if (page[0] == shared_pattern(0) && page[SHARED_LEN - 1] ==
		    shared_pattern(SHARED_LEN - 1))
			landed++;
		TEST_ASSERT(!madvise((uint8_t *)r->host_mem + SHARED_DST_GPA, 4096,
				     MADV_DONTNEED), "madvise: %s", errno_name(errno));
		/* discard returned: from here on nothing may land */
		memset(page, SENTINEL, SHARED_LEN);
		wait_dmas(2);
		for (i = 0, changed = 0; i < SHARED_LEN; i++)
			changed += page[i] != SENTINEL;
		if (changed) {
			lost++;
			tap_diag("round %u: %u bytes landed after the discard", round, changed);
		}
		guest_touch();		/* KVM maps the page again */
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	tap_diag("%u rounds, %lu DMA transfers; DMA landed while mapped in %u rounds, "
		 "after a discard in %u", ROUNDS, dmas, landed, lost);
	TEST_EXPECT_EQ(lost, 0);
	TEST_EXPECT_EQ(landed, ROUNDS);		/* the device was writing all along */
	tap_end();

	tap_begin("every_flush_reached_the_domain_once");
	shared_kvm_stats(s.iommufd, s.ioas_id, &after);
	tap_diag("KVM flushes %llu, domain flushes %llu, errors %llu",
		 (unsigned long long)(after.invalidations -
				      before.invalidations),
		 (unsigned long long)(after.domain_flushes -
				      before.domain_flushes),
		 (unsigned long long)after.flush_errors);
	TEST_EXPECT(after.invalidations -
		    before.invalidations >= ROUNDS, "a flush per discard");
	TEST_EXPECT_EQ(after.domain_flushes -
		       before.domain_flushes,
		       after.invalidations -
		       before.invalidations);
	TEST_EXPECT_EQ(after.flush_errors, 0);
	TEST_EXPECT_EQ(after.shared_domains, 1);
	tap_end();

	munmap(alias, r->size);
	shared_vm_destroy(&s);
	tap_finish();
}
