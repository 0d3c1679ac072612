// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host memory management in the VMM under a device that cannot fault:
 * see mm_events.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "mm_events.h"

/* slot 0 pages the guest never touches */
#define SCRATCH_FRESH_GPA	0x100000UL	/* fresh bytes for mm_dma_at() */
#define SCRATCH_READ_GPA	0x102000UL	/* what read-only probes read */

/*
 * A probe of the pair at GPA g (pages g and g + 4096):
 *   [g + 3072, g + 5120) <- fresh bytes, written by the CPU
 *   edu[0, 4095) <- [g + 2048, g + 6143)	(read across the boundary)
 *   [g + 1024, g + 5119) <- edu[0, 4095)	(written back across it)
 * A read-only probe: edu[0, 4095) <- [g + 2048, g + 6143), then
 * SCRATCH_READ_GPA <- edu[0, 4095).
 */
#define PAIR_SIZE		(2 * PAGE_SIZE)
#define FRESH_OFF		(PAGE_SIZE - 1024)
#define FRESH_LEN		2048U
#define READ_OFF		(PAGE_SIZE - 2048)
#define WRITE_OFF		(PAGE_SIZE - 3072)
#define XFER_LEN		EDU_DMA_MAX

/* the guest's checksum of the test slot */
#define SUM_GPA			0x6000
#define SUM_STACK		0x8000
#define SUM_PORT		0x7eb

/* a probe loop that fails this often stops reporting each failure */
#define LOOP_REPORTS		3

#define __str(x)		#x
#define str(x)			__str(x)

extern const unsigned char mm_sum_guest[], mm_sum_guest_end[];

/*
 * ES's base is the test slot's GPA and its limit 4 GiB (set through
 * KVM_SET_SREGS), ECX the number of dwords: the checksum is
 * sum = rol(sum, 1) + dword, over the slot, reported with an OUT.
 */
asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"mm_sum_guest:\n"
	"	xorl %eax, %eax\n"
	"	xorl %esi, %esi\n"
	"1:	roll $1, %eax\n"
	"	addl %es:(%esi), %eax\n"
	"	addl $4, %esi\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	mov $" str(SUM_PORT) ", %dx\n"
	"	outl %eax, %dx\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	"mm_sum_guest_end:\n"
	".code64\n"
	".popsection\n");

const char *mm_mode_name(uint32_t mode)
{
	return mode == IOMMU_KVM_MODE_SHARED ? "SHARED" :
	       mode == IOMMU_KVM_MODE_PINNED ? "PINNED" : "?";
}

uint8_t *mm_hva(struct mm_vm *t, uint64_t gpa)
{
	return t->mem + (gpa - MM_SLOT_GPA);
}

void mm_page_dropped(struct mm_vm *t, uint64_t gpa)
{
	unsigned long i = (gpa - MM_SLOT_GPA) / PAGE_SIZE;

	memset(t->shadow + i * PAGE_SIZE, 0, PAGE_SIZE);
	t->pfns[i] = 0;
}

void mm_huge_diag(struct mm_vm *t)
{
	uint64_t *pfns = calloc(MM_NR_PAGES, sizeof(*pfns));
	long n = -1;

	TEST_ASSERT(pfns, "out of memory");
	if (pagemap_pfns(t->mem, MM_NR_PAGES, pfns))
		n = kpageflags_count(pfns, MM_NR_PAGES, KPF_THP);
	if (n >= 0)
		tap_diag("test slot: %ld of %lu pages in transparent huge pages", n, MM_NR_PAGES);
	free(pfns);
}

void mm_add_pair(struct mm_vm *t, uint64_t gpa)
{
	TEST_ASSERT(t->nr_pairs < MM_MAX_PAIRS, "more than %u probed pairs", MM_MAX_PAIRS);
	TEST_ASSERT(gpa >= MM_SLOT_GPA && gpa + 2 * PAGE_SIZE <= MM_SLOT_GPA + MM_SLOT_SIZE &&
		    !(gpa % PAGE_SIZE), "pair at %#llx", (unsigned long long)gpa);
	t->pairs[t->nr_pairs++] = gpa;
}

/* The loop probes the even-numbered spread pairs and every pair added. */
static bool loop_probes(unsigned int pair)
{
	return pair >= MM_NR_PAIRS || !(pair % 2);
}

void mm_fill(struct mm_vm *t, bool identical)
{
	unsigned long i;

	for (i = 0; i < MM_NR_PAGES; i++)
		fill_random(t->shadow + i * PAGE_SIZE, PAGE_SIZE, identical ? 0 : i + 1);
	memcpy(t->mem, t->shadow, MM_SLOT_SIZE);
}


/* Report where @got and @want differ, as @what; true if they do not. */
static bool same(const char *who, uint64_t gpa, const char *what,
		 const uint8_t *got, const uint8_t *want, size_t len, bool report)
{
	char buf[160];

	if (!memcmp(got, want, len))
		return true;
	if (report) {
		snprintf(buf, sizeof(buf), "%s: pair at %#llx, %s", who,
			 (unsigned long long)gpa, what);
		check_bytes(buf, got, want, len);
	}
	return false;
}

/* The pair at @gpa after a probe: edu's bytes where it wrote them, the rest kept. */
static bool pair_ok(struct mm_vm *t, uint64_t gpa, const char *who, bool report)
{
	const uint8_t *got = mm_hva(t, gpa);
	const uint8_t *want = t->shadow + (gpa - MM_SLOT_GPA);
	const size_t end = WRITE_OFF + XFER_LEN;
	bool ok;

	ok = same(who, gpa, "bytes edu read across the page boundary (fresh ones among "
		  "them) and wrote back 1 KiB lower", got + WRITE_OFF, want + WRITE_OFF,
		  XFER_LEN, report);
	ok &= same(who, gpa, "bytes before edu's write", got, want, WRITE_OFF, report);
	ok &= same(who, gpa, "bytes after edu's write", got + end, want + end,
		   PAIR_SIZE - end, report);
	return ok;
}

static bool dma_ok(const char *who, uint64_t gpa, int r1, int r2)
{
	if (!r1 && !r2)
		return true;
	tap_diag("%s: pair at %#llx: edu transfer failed (%s, %s)", who,
		 (unsigned long long)gpa, errno_name(-r1), errno_name(-r2));
	return false;
}

static bool probe_rw(struct mm_vm *t, uint64_t gpa, const char *who, bool report)
{
	struct edu_dev *edu = &t->s.edu;
	uint8_t *want = t->shadow + (gpa - MM_SLOT_GPA);
	int r1, r2;

	fill_random(want + FRESH_OFF, FRESH_LEN, 0x10000 + t->seq++);
	memcpy(mm_hva(t, gpa) + FRESH_OFF, want + FRESH_OFF, FRESH_LEN);
	r1 = edu_dma_to_dev(edu, gpa + READ_OFF, 0, XFER_LEN);
	r2 = edu_dma_from_dev(edu, 0, gpa + WRITE_OFF, XFER_LEN);
	memmove(want + WRITE_OFF, want + READ_OFF, XFER_LEN);
	return dma_ok(who, gpa, r1, r2) && pair_ok(t, gpa, who, report);
}

static bool probe_ro(struct mm_vm *t, uint64_t gpa, const char *who, bool report)
{
	struct edu_dev *edu = &t->s.edu;
	uint8_t *got = addr_gpa2hva(t->s.vm, SCRATCH_READ_GPA);
	const uint8_t *want = t->shadow + (gpa - MM_SLOT_GPA) + READ_OFF;
	unsigned int i;
	int r1, r2;

	for (i = 0; i < XFER_LEN; i++)		/* every byte must change */
		got[i] = ~want[i];
	r1 = edu_dma_to_dev(edu, gpa + READ_OFF, 0, XFER_LEN);
	r2 = edu_dma_from_dev(edu, 0, SCRATCH_READ_GPA, XFER_LEN);
	return dma_ok(who, gpa, r1, r2) &&
	       same(who, gpa, "bytes edu read (here -> edu -> slot 0)", got, want,
		    XFER_LEN, report);
}

static bool probe(struct mm_vm *t, unsigned int pair, unsigned int flags,
		  const char *who, bool report)
{
	uint64_t gpa = t->pairs[pair];

	return flags & MM_READS_ONLY ? probe_ro(t, gpa, who, report) :
				       probe_rw(t, gpa, who, report);
}

static uint32_t checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0, w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, 4);
		sum = ((sum << 1) | (sum >> 31)) + w;
	}
	return sum;
}

/* The guest's checksum of the test slot, as it sees it through KVM. */
static uint32_t guest_checksum(struct mm_vm *t)
{
	struct kvm_vcpu *vcpu = t->s.vcpu;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint32_t reason, val = 0;
	uint16_t port = 0;

	vcpu_setup_realmode(vcpu, SUM_GPA, SUM_STACK);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.es.base = MM_SLOT_GPA;
	sregs.es.limit = 0xffffffff;
	sregs.es.g = 1;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_get_regs(vcpu, &regs);
	regs.rcx = MM_SLOT_SIZE / 4;
	vcpu_set_regs(vcpu, &regs);
	reason = vcpu_run(vcpu);
	TEST_ASSERT(reason == KVM_EXIT_IO && vcpu_get_io_out(vcpu, &port, &val) &&
		    port == SUM_PORT, "guest checksum: exit %s, port %#x",
		    exit_reason_str(reason), port);
	return val;
}

/* The whole slot, as the host and as the guest see it, against the shadow. */
static bool slot_ok(struct mm_vm *t)
{
	unsigned long i, first = 0, nr = 0;
	uint32_t want, got;
	char what[96];
	bool ok = true;

	if (memcmp(t->mem, t->shadow, MM_SLOT_SIZE)) {
		for (i = MM_NR_PAGES; i-- > 0;) {
			if (memcmp(t->mem + i * PAGE_SIZE, t->shadow + i * PAGE_SIZE, PAGE_SIZE)) {
				first = i;
				nr++;
			}
		}
		snprintf(what, sizeof(what), "slot page at %#lx (first of %lu that differ)",
			 MM_SLOT_GPA + first * PAGE_SIZE, nr);
		check_bytes(what, t->mem + first * PAGE_SIZE, t->shadow + first * PAGE_SIZE,
			    PAGE_SIZE);
		ok = TEST_EXPECT(false, "%lu pages of the test slot are not what the test wrote "
				 "there", nr);
		/* said: the next checks start from what is there */
		memcpy(t->shadow, t->mem, MM_SLOT_SIZE);
	}
	want = checksum(t->shadow, MM_SLOT_SIZE);
	got = guest_checksum(t);
	ok &= TEST_EXPECT(got == want, "the guest's checksum of the slot is %#x, expected %#x",
			  got, want);
	return ok;
}

/* Every page that is mapped has the PFN it had when edu was attached. */
static bool pfns_ok(struct mm_vm *t)
{
	uint64_t *now = calloc(MM_NR_PAGES, sizeof(*now));
	unsigned long i, moved = 0, first = 0, absent = 0;
	bool ok = true;

	TEST_ASSERT(now, "out of memory");
	if (!t->have_pfns || !pagemap_pfns(t->mem, MM_NR_PAGES, now)) {
		free(now);
		return true;	/* no PFNs to compare (said at attach) */
	}
	for (i = MM_NR_PAGES; i-- > 0;) {
		if (!now[i] || !t->pfns[i]) {
			absent += !now[i];
			continue;
		}
		if (now[i] != t->pfns[i]) {
			moved++;
			first = i;
		}
	}
	if (absent)
		tap_diag("%lu pages of the test slot not mapped in the VMM now", absent);
	if (moved)
		ok = TEST_EXPECT(false, "%lu pages of the test slot moved away from the pages "
				 "edu holds; first at %#lx: PFN %#llx, was %#llx", moved,
				 MM_SLOT_GPA + first * PAGE_SIZE,
				 (unsigned long long)now[first],
				 (unsigned long long)t->pfns[first]);
	free(now);
	return ok;
}

bool mm_probe_pairs(struct mm_vm *t, unsigned int flags)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < t->nr_pairs; i++)
		ok &= TEST_EXPECT(probe(t, i, flags, "check", true), "%s probe of the pair at %#llx",
				  flags & MM_READS_ONLY ? "read" : "read+write",
				  (unsigned long long)t->pairs[i]);
	return ok;
}

bool mm_check_slot(struct mm_vm *t)
{
	bool ok;
	long kb;

	ok = slot_ok(t);
	ok &= pfns_ok(t);
	kb = shared_vm_pinned_kb();
	ok &= TEST_EXPECT(kb == t->charged_kb, "%s pins charged: %ld KiB, %ld KiB at attach",
			  mm_mode_name(t->mode), kb, t->charged_kb);
	return ok;
}

bool mm_check(struct mm_vm *t, unsigned int flags)
{
	bool ok = mm_probe_pairs(t, flags);

	return mm_check_slot(t) && ok;
}

void mm_dma_at(struct mm_vm *t, uint64_t gpa, uint8_t *read)
{
	struct edu_dev *edu = &t->s.edu;
	uint8_t *scratch_fresh = addr_gpa2hva(t->s.vm, SCRATCH_FRESH_GPA);
	uint8_t *scratch_read = addr_gpa2hva(t->s.vm, SCRATCH_READ_GPA);

	fill_random(scratch_fresh, EDU_DMA_MAX, 0x10000 + t->seq++);
	memset(scratch_read, 0, EDU_DMA_MAX);
	TEST_ASSERT(!edu_dma_to_dev(edu, SCRATCH_FRESH_GPA, 0, EDU_DMA_MAX), "DMA slot 0 -> edu");
	edu_dma_from_dev(edu, 0, gpa, EDU_DMA_MAX);
	edu_dma_to_dev(edu, gpa, 0, EDU_DMA_MAX);
	TEST_ASSERT(!edu_dma_from_dev(edu, 0, SCRATCH_READ_GPA, EDU_DMA_MAX), "DMA edu -> slot 0");
	memcpy(read, scratch_read, EDU_DMA_MAX);
}

static void *loop_thread(void *arg)
{
	struct mm_vm *t = arg;
	unsigned int pair = t->nr_pairs - 1;
	bool ok, report;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		do
			pair = (pair + 1) % t->nr_pairs;
		while (!loop_probes(pair));
		report = __atomic_load_n(&t->bad, __ATOMIC_ACQUIRE) < LOOP_REPORTS;
		ok = probe(t, pair, t->loop_flags, "loop", report);
		if (!ok)
			__atomic_add_fetch(&t->bad, 1, __ATOMIC_ACQ_REL);
		__atomic_add_fetch(&t->probes, 1, __ATOMIC_ACQ_REL);
	}
	return NULL;
}

void mm_loop_start(struct mm_vm *t, unsigned int flags)
{
	t->loop_flags = flags;
	t->stop = 0;
	t->probes = 0;
	t->bad = 0;
	TEST_ASSERT(!pthread_create(&t->thread, NULL, loop_thread, t), "DMA loop thread");
}

void mm_loop_wait(struct mm_vm *t, unsigned int n)
{
	unsigned long target = __atomic_load_n(&t->probes, __ATOMIC_ACQUIRE) + n;

	while (__atomic_load_n(&t->probes, __ATOMIC_ACQUIRE) < target)
		usleep(1000);
}

static void loop_join(struct mm_vm *t)
{
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
}

void mm_loop_stop(struct mm_vm *t)
{
	loop_join(t);
	TEST_EXPECT(t->probes >= 3, "only %lu probes while the event ran", t->probes);
	TEST_EXPECT(!t->bad, "%lu of %lu %s probes failed while the event ran", t->bad,
		    t->probes, t->loop_flags & MM_READS_ONLY ? "read" : "read+write");
}

bool mm_event(struct mm_vm *t, const char *name, mm_event_fn *event, void *arg,
	      unsigned int flags)
{
	tap_begin("%s_%s_during", t->name, name);
	mm_loop_start(t, flags & MM_DURING_READS_ONLY ? MM_READS_ONLY : 0);
	mm_loop_wait(t, 1);
	if (!event(t, arg)) {
		loop_join(t);
		tap_begin("%s_%s_after", t->name, name);
		tap_skip("%s did not run", name);
		return false;
	}
	mm_loop_wait(t, 2);
	mm_loop_stop(t);
	tap_end();

	tap_begin("%s_%s_after", t->name, name);
	mm_check(t, flags & MM_AFTER_READS_ONLY ? MM_READS_ONLY : 0);
	tap_end();
	return true;
}

void mm_vm_begin(struct mm_vm *t, uint32_t mode, enum vm_mem_backing backing,
		 unsigned int opts)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct shared_vm *s = &t->s;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->mode = mode;
	t->backing = backing;
	t->name = backing == VM_MEM_ANON ? "anon" : "memfd";
	/* spread evenly: the first and last pages, the middle pair across 2 MiB */
	for (i = 0; i < MM_NR_PAIRS; i++)
		mm_add_pair(t, MM_SLOT_GPA + i * (MM_NR_PAGES - 2) / (MM_NR_PAIRS - 1) * PAGE_SIZE);
	tap_begin("%s_before", t->name);

	/* without CAP_IPC_LOCK both modes charge their pins */
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &unlimited), "RLIMIT_MEMLOCK");
	shared_vm_create_opts(s, SHARED_VM_NO_IPC_LOCK);
	vm_load_code(s->vm, SUM_GPA, mm_sum_guest, mm_sum_guest_end - mm_sum_guest);
	TEST_ASSERT(!vm_prealloc_memslot(s->vm, MM_SLOT, MM_SLOT_SIZE, backing),
		    "test slot memory: %s", errno_name(errno));
	t->mem = s->vm->regions[MM_SLOT].host_mem;
	if (opts & MM_SMALL_PAGES)
		TEST_ASSERT(!madvise(t->mem, MM_SLOT_SIZE, MADV_NOHUGEPAGE),
			    "MADV_NOHUGEPAGE: %s", errno_name(errno));
	t->shadow = malloc(MM_SLOT_SIZE);
	t->pfns = calloc(MM_NR_PAGES, sizeof(*t->pfns));
	TEST_ASSERT(t->shadow && t->pfns, "out of memory");
	mm_fill(t, false);
	vm_add_memslot(s->vm, MM_SLOT, MM_SLOT_GPA, MM_SLOT_SIZE, 0, backing);

	if (mode == IOMMU_KVM_MODE_SHARED) {
		shared_vm_attach_shared(s);
	} else {
		TEST_ASSERT(!shared_vm_alloc_hwpt_flags(s, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY),
			    "HWPT_ALLOC(PIN_ONLY): %s", errno_name(errno));
		TEST_ASSERT(s->mode == IOMMU_KVM_MODE_PINNED, "PIN_ONLY gave mode %u", s->mode);
		edu_attach(&s->edu, s->hwpt_id);
	}
	tap_diag("edu attached %s; test slot: %s, %lu KiB at %#lx", mm_mode_name(s->mode),
		 t->name, MM_SLOT_SIZE >> 10, MM_SLOT_GPA);
	mm_huge_diag(t);
	t->charged_kb = shared_vm_pinned_kb();
	TEST_EXPECT_EQ(t->charged_kb, (SHARED_VM_RAM + MM_SLOT_SIZE) >> 10);
	t->have_pfns = pagemap_pfns(t->mem, MM_NR_PAGES, t->pfns);
	if (!t->have_pfns)
		tap_diag("no PFNs in /proc/self/pagemap: page moves not checked");
	mm_check(t, 0);
	tap_end();
}

void mm_vm_end(struct mm_vm *t)
{
	struct shared_vm *s = &t->s;

	tap_begin("%s_detach", t->name);
	TEST_EXPECT_EQ(_edu_detach(&s->edu), 0);
	test_ioctl_destroy(s->iommufd, s->hwpt_id);
	test_ioctl_destroy(s->iommufd, s->ioas_id);
	TEST_EXPECT_EQ(shared_vm_locked_kb(), 0);
	TEST_EXPECT_EQ(shared_vm_pinned_kb(), 0);
	tap_end();
	shared_vm_destroy(s);
	free(t->shadow);
	free(t->pfns);
}

static void mm_run(uint32_t mode, enum vm_mem_backing backing, unsigned int opts,
		   const struct mm_step *steps, unsigned int n)
{
	struct mm_vm t;
	unsigned int i;

	mm_vm_begin(&t, mode, backing, opts);
	for (i = 0; i < n; i++) {
		if (steps[i].prepare)
			steps[i].prepare(&t);
		mm_event(&t, steps[i].name, steps[i].event, steps[i].arg, steps[i].flags);
	}
	mm_vm_end(&t);
}

void mm_main(uint32_t mode, unsigned int backings, const struct mm_step *steps,
	     unsigned int n)
{
	static const enum vm_mem_backing order[] = { VM_MEM_ANON, VM_MEM_MEMFD };
	unsigned int i;

	tap_plan(__builtin_popcount(backings & (MM_ANON | MM_MEMFD)) * (2 + 2 * n));
	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (backings & (1u << order[i]))
			mm_run(mode, order[i], backings & MM_SMALL_PAGES, steps, n);
	tap_finish();
}
