// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small live migration with a device writing: the source VM
 * (the shared_vm: 16 MiB memfd slot 0, the real-mode guest stopped after
 * stage 1) has edu attached to its KVM-sourced IOAS with the default policy
 * (PINNED in the default profile, SHARED in the shared profile); the
 * destination VM has an anonymous slot 0 of the same size.
 *
 * Iterative pre-copy: slot 0 of the source logs dirty pages; a thread
 * keeps edu writing (it reloads edu's buffer from a random place of guest
 * memory every few transfers, and writes random lengths from it to random
 * places above 1 MiB, some across a page boundary); the VMM copies the
 * whole slot once, then for several rounds harvests with KVM_GET_DIRTY_LOG
 * and copies the pages reported, while edu goes on writing.  Then edu
 * stops (the thread is joined), copies the guest's SRC to DST as its last
 * writes, and the VMM harvests and copies a last time.
 *
 * Checked: each round reports every page edu finished writing before the
 * harvest began (a write that finished while the harvest ran may come in
 * that harvest or the next); the source holds every byte edu wrote (its
 * writes land while the slot logs); the destination's memory equals the
 * source's byte for byte; the destination's vCPU, given the source's
 * registers, runs the guest's comparison of SRC and DST on the copied
 * memory and finds them equal.  Each round prints how many pages it
 * reported and how many edu wrote.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dirty_log.h"
#include "dma_buf.h"
#include "iommufd_utils.h"
#include "shared_vm.h"

#define RAM		SHARED_VM_RAM
#define NPAGES		(RAM / PAGE_SIZE)
#define WRITE_LO	0x100000UL	/* above the guest's code, stack, SRC and DST */
#define ROUNDS		5
#define ROUND_WRITES	4		/* edu's transfers to wait for, per round */
#define RELOAD_EVERY	3		/* a new buffer every few writes */
#define MAX_WRITES	1024
#define ROUND_TIMEOUT_S	30

static struct shared_vm s;
static struct kvm_vm *dst;
static uint8_t *src_mem, *dst_mem;
static uint8_t *shadow;		/* what the source must hold */
static unsigned long *reported;

/*
 * edu's writes, in order: the pages each touched (first and last), and
 * whether a harvest whose copy started after the write finished reported
 * each of them.  The writer fills write[i] before it publishes
 * nr_done = i + 1.
 */
static struct {
	uint32_t first, last;
	bool first_ok, last_ok;
} write_log[MAX_WRITES];
static unsigned long nr_done;
static int stop, writer_err;
static unsigned long nr_reloads;
/* writes finished before the last harvest began */
static unsigned long last_before;

static uint32_t rnd_state = 0x12345678;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void log_write(uint64_t gpa, uint32_t len)
{
	unsigned long i = __atomic_load_n(&nr_done, __ATOMIC_RELAXED);

	write_log[i].first = gpa / PAGE_SIZE;
	write_log[i].last = (gpa + len - 1) / PAGE_SIZE;
	__atomic_store_n(&nr_done, i + 1, __ATOMIC_RELEASE);
}

/* edu's writes; every buffer it loads comes out of guest memory */
static void *writer(void *arg)
{
	uint8_t buf[EDU_DMA_MAX];
	unsigned long n = 0;
	int ret;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE) && n < MAX_WRITES - 8) {
		uint32_t len, dev_off;
		uint64_t gpa;

		if (!(n % RELOAD_EVERY)) {
			gpa = WRITE_LO + rnd() % (RAM - WRITE_LO - EDU_DMA_MAX);
			ret = edu_dma_to_dev(&s.edu, gpa, 0, EDU_DMA_MAX);
			if (ret)
				goto err;
			memcpy(buf, shadow + gpa, EDU_DMA_MAX);
			nr_reloads++;
		}
		len = 1 + rnd() % EDU_DMA_MAX;
		dev_off = rnd() % (EDU_DMA_MAX - len + 1);
		gpa = WRITE_LO + rnd() % (RAM - WRITE_LO - len);
		ret = edu_dma_from_dev(&s.edu, dev_off, gpa, len);
		if (ret)
			goto err;
		memcpy(shadow + gpa, buf + dev_off, len);
		log_write(gpa, len);
		n++;
	}
	return NULL;
err:
	writer_err = ret;
	return NULL;
}

static unsigned long done(void)
{
	return __atomic_load_n(&nr_done, __ATOMIC_ACQUIRE);
}

/* Copy every reported page to the destination; how many. */
static unsigned long copy_reported(void)
{
	unsigned long i, n = 0;

	for (i = 0; i < NPAGES; i++) {
		if (!test_bit(reported, i))
			continue;
		memcpy(dst_mem + i * PAGE_SIZE, src_mem + i * PAGE_SIZE, PAGE_SIZE);
		n++;
	}
	return n;
}

/*
 * One harvest and copy.  Writes finished before KVM_GET_DIRTY_LOG began
 * must be reported by now: by this harvest, or, if they finished while the
 * previous one ran (so that its copy began after them), by that one.
 * Returns the number of writes finished since the previous harvest began
 * whose pages were not.
 */
static unsigned long harvest(const char *what)
{
	unsigned long before, after, i, nr_rep, copied, missing = 0, nw;
	unsigned long *wpages = bitmap_alloc(NPAGES);
	int ret;

	before = done();
	memset(reported, 0, NPAGES / 8);
	ret = dirty_log_get(s.vm, 0, reported);
	TEST_ASSERT(!ret, "%s: KVM_GET_DIRTY_LOG: %s", what, errno_name(-ret));
	after = done();
	copied = copy_reported();
	nr_rep = bitmap_weight(reported, NPAGES);

	for (i = 0; i < after; i++) {
		write_log[i].first_ok |= test_bit(reported, write_log[i].first);
		write_log[i].last_ok |= test_bit(reported, write_log[i].last);
	}
	/* each write is judged at the first harvest that began after it finished */
	for (i = last_before; i < before; i++) {
		if (write_log[i].first_ok && write_log[i].last_ok)
			continue;
		if (missing++ < 6)
			tap_diag("%s: edu's write %lu to GPA %#llx-%#llx (pages %u-%u) not reported dirty",
				 what, i, (unsigned long long)write_log[i].first * PAGE_SIZE,
				 (unsigned long long)(write_log[i].last + 1) * PAGE_SIZE - 1,
				 write_log[i].first, write_log[i].last);
	}
	for (i = last_before; i < before; i++) {
		set_bit(wpages, write_log[i].first);
		set_bit(wpages, write_log[i].last);
	}
	nw = bitmap_weight(wpages, NPAGES);
	tap_diag("%s: %lu of %lu pages reported dirty and copied (%lu), edu wrote %lu pages "
		 "in %lu transfers since the last harvest; %lu writes not reported",
		 what, nr_rep, NPAGES, copied, nw, before - last_before, missing);
	last_before = before;
	free(wpages);
	return missing;
}

static bool wait_writes(unsigned long n)
{
	time_t deadline = time(NULL) + ROUND_TIMEOUT_S;
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

	while (done() < n) {
		if (writer_err || time(NULL) > deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

/* Pages where @a and @b differ, the first few named; the number of them. */
static unsigned long diff_pages(const char *what, const uint8_t *got, const uint8_t *want)
{
	unsigned long i, n = 0;
	char name[96];

	for (i = 0; i < NPAGES; i++) {
		if (!memcmp(got + i * PAGE_SIZE, want + i * PAGE_SIZE, PAGE_SIZE))
			continue;
		if (n++ < 4) {
			snprintf(name, sizeof(name), "%s: page %lu (GPA %#lx)", what, i,
				 i * PAGE_SIZE);
			check_bytes(name, got + i * PAGE_SIZE, want + i * PAGE_SIZE, PAGE_SIZE);
		}
	}
	if (n)
		tap_diag("%s: %lu of %lu pages differ", what, n, NPAGES);
	return n;
}

static const char *mode_name(uint32_t mode)
{
	return mode == IOMMU_KVM_MODE_SHARED ? "SHARED" :
	       mode == IOMMU_KVM_MODE_PINNED ? "PINNED" : "?";
}

int main(void)
{
	unsigned long missing, total_missing = 0;
	uint32_t mode, dirty, val, reason;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	unsigned int r;
	uint16_t port;
	char rbuf[128];
	int ret;

	tap_plan(7);
	reported = bitmap_alloc(NPAGES);

	tap_begin("attach");
	shared_vm_create(&s);
	ret = shared_vm_alloc_hwpt(&s);
	TEST_ASSERT(!ret, "IOMMU_HWPT_ALLOC: %s (reasons %s)", errno_name(-ret),
		    shared_reason_names(s.reasons, rbuf, sizeof(rbuf)));
	edu_attach(&s.edu, s.hwpt_id);
	ret = dirty_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &mode, &dirty);
	TEST_ASSERT(!ret, "IOMMU_KVM_SHARE_QUERY: %s", errno_name(-ret));
	tap_diag("edu is %s (reasons %s), dirty log %s", mode_name(s.mode),
		 shared_reason_names(s.reasons, rbuf, sizeof(rbuf)), dirty_log_name(dirty));
	TEST_EXPECT_EQ(s.mode,
		       shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED);
	src_mem = vm_get_region(s.vm, 0)->host_mem;
	fill_random(src_mem + WRITE_LO, RAM - WRITE_LO, 0x5eed);
	shadow = malloc(RAM);
	TEST_ASSERT(shadow, "out of memory");
	memcpy(shadow, src_mem, RAM);

	dst = vm_create();
	vm_add_memslot(dst, 0, 0, RAM, 0, VM_MEM_ANON);
	dst_mem = vm_get_region(dst, 0)->host_mem;
	tap_end();

	tap_begin("precopy_rounds_report_writes");
	ret = _vm_update_memslot(s.vm, 0, 0, RAM, KVM_MEM_LOG_DIRTY_PAGES);
	TEST_ASSERT(!ret, "KVM_MEM_LOG_DIRTY_PAGES: %s", errno_name(-ret));
	TEST_ASSERT(!pthread_create(&thread, NULL, writer, NULL), "pthread_create");
	/* round 0: everything, while edu writes */
	memcpy(dst_mem, src_mem, RAM);
	tap_diag("round 0: all %lu pages copied", NPAGES);
	for (r = 1; r <= ROUNDS; r++) {
		char what[16];

		if (!wait_writes(last_before + ROUND_WRITES))
			break;
		snprintf(what, sizeof(what), "round %u", r);
		total_missing += harvest(what);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	TEST_EXPECT(!writer_err, "edu transfer: %s", errno_name(-writer_err));
	TEST_EXPECT(r > ROUNDS, "only %u of %u rounds: edu finished %lu transfers", r - 1,
		    ROUNDS, done());
	TEST_EXPECT(!total_missing, "%lu of edu's writes were not reported dirty in time",
		    total_missing);
	tap_end();

	tap_begin("stop_and_copy");
	/* edu's last writes, after the thread: the guest's SRC into DST */
	ret = edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN);
	TEST_ASSERT(!ret, "DMA SRC -> edu: %s", errno_name(-ret));
	ret = edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN);
	TEST_ASSERT(!ret, "DMA edu -> DST: %s", errno_name(-ret));
	memcpy(shadow + SHARED_DST_GPA, shadow + SHARED_SRC_GPA, SHARED_LEN);
	log_write(SHARED_DST_GPA, SHARED_LEN);
	missing = harvest("final");
	TEST_EXPECT(!missing, "%lu of edu's writes were never reported dirty", missing);
	ret = _vm_update_memslot(s.vm, 0, 0, RAM, 0);
	TEST_EXPECT(!ret, "logging off: %s", errno_name(-ret));
	tap_diag("edu: %lu writes, %lu buffer loads", done(), nr_reloads);
	tap_end();

	tap_begin("source_holds_every_write");
	TEST_EXPECT(!diff_pages("source vs edu's writes", src_mem, shadow),
		    "edu's writes did not all land in the source while it logged");
	tap_end();

	tap_begin("destination_equals_source");
	TEST_EXPECT(!diff_pages("destination vs source", dst_mem, src_mem),
		    "the destination's memory differs from the source's");
	tap_end();

	/* the source's vCPU, stopped at its stage-1 OUT, resumes on the destination */
	tap_begin("destination_guest_runs");
	vcpu_get_sregs(s.vcpu, &sregs);
	vcpu_get_regs(s.vcpu, &regs);
	vcpu = vcpu_add(dst, 0);
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_set_regs(vcpu, &regs);
	val = SHARED_STAGE1;
	for (r = 0; r < 2 && val == SHARED_STAGE1; r++) {
		reason = vcpu_run(vcpu);
		TEST_ASSERT(reason == KVM_EXIT_IO, "exit %s, expected IO", exit_reason_str(reason));
		TEST_ASSERT(vcpu_get_io_out(vcpu, &port, &val) && port == SHARED_PORT,
			    "unexpected IO exit");
	}
	TEST_EXPECT(val == SHARED_EQUAL, "the destination guest finds DST %s SRC (%u)",
		    val == SHARED_DIFFER ? "differs from" : "?", val);
	tap_end();

	tap_begin("detach");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	tap_end();

	kvm_vm_free(dst);
	shared_vm_destroy(&s);
	free(shadow);
	free(reported);
	tap_finish();
}
