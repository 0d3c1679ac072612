// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live migration loses no DMA write.  While a memslot logs dirty
 * pages, every page edu wrote since the last harvest must be reported dirty
 * by KVM's own interface, and every write edu makes must land: edu cannot
 * fault, so logging must never block its writes.  edu is attached to the
 * VM's KVM-sourced IOAS with the default policy: PINNED in the default
 * profile (KVM caches MMIO GFNs), SHARED in the shared profile.
 *
 * Built three times, one harvest interface each:
 *   dirty_log_get_dma    KVM_GET_DIRTY_LOG
 *   dirty_log_clear_dma  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: KVM_GET_DIRTY_LOG,
 *                        then KVM_CLEAR_DIRTY_LOG of what it reported; a page
 *                        stays reported until it is cleared
 *   dirty_log_ring_dma   a dirty ring (KVM_CAP_DIRTY_LOG_RING_ACQ_REL, or
 *                        KVM_CAP_DIRTY_LOG_RING) with
 *                        KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP: the device's
 *                        pages come in KVM_GET_DIRTY_LOG's bitmap; without
 *                        that bitmap the device is refused (ENXIO)
 *
 * The logged slot is a 2 MiB anonymous memslot at 16 MiB.  In each round
 * the CPU writes fresh bytes into a page of slot 0 (not logged), edu reads
 * them into its buffer and writes parts of them to pages of the logged
 * slot: both ends of the slot and of 64-page bitmap words, writes that
 * cross a page boundary (both pages count as written), pages written again
 * after a harvest.  The whole slot must then hold what a shadow copy says
 * (each write landed where it was sent, nothing else changed), and the
 * harvest must report every page written.  Pages reported that edu did not
 * write are allowed (IOMMU_KVM_DIRTY_ALL reports every page a device can
 * write, at every harvest), and counted.  The vCPU's own writes to the slot
 * (in the ring variant: found in the ring or in the bitmap) must be
 * reported too: the device's rule may take write protection away from them.
 * Then logging is turned off (KVM_GET_DIRTY_LOG fails with ENOENT, edu's
 * writes land), on again (reported again), and edu detaches: what it wrote
 * since the last harvest is still reported at the next one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirty_log.h"
#include "dma_buf.h"
#include "iommufd_utils.h"
#include "shared_vm.h"

#if defined(HARVEST_CLEAR)
#define HARVEST		"KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG (manual protect)"
#elif defined(HARVEST_RING)
#define HARVEST		"dirty ring + KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP"
#else
#define HARVEST		"KVM_GET_DIRTY_LOG"
#endif

#define TEST_SLOT	1
#define TEST_GPA	0x1000000UL	/* right after slot 0 */
#define TEST_SIZE	(2UL << 20)
#define TEST_PAGES	(TEST_SIZE / PAGE_SIZE)
#define STAGE_GPA	0x100000UL	/* slot 0: the fresh bytes edu reads */
#define RING_BYTES	(64 * 1024)	/* 4096 entries per vCPU */

/* the vCPU's writes (vcpu_round()): code and stack in slot 0 */
#define VCPU_CODE_GPA	0x6000
#define VCPU_STACK	0x8000
#define VCPU_PORT	0x7ec
#define VCPU_OFF	0x10		/* where in each page it writes its dword */

#define __str(x)	#x
#define str(x)		__str(x)

extern const unsigned char vcpu_writer[], vcpu_writer_end[];

/*
 * ES's base is the logged slot's GPA and its limit 4 GiB (KVM_SET_SREGS);
 * ECX dwords, EAX the first (then EAX + 1, ...), at ESI, ESI + EBX, ...;
 * then OUT of the next value.
 */
asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"vcpu_writer:\n"
	"1:	movl %eax, %es:(%esi)\n"
	"	addl %ebx, %esi\n"
	"	incl %eax\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	mov $" str(VCPU_PORT) ", %dx\n"
	"	outl %eax, %dx\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	"vcpu_writer_end:\n"
	".code64\n"
	".popsection\n");

/* edu writes @len bytes of its buffer at @off of page @page of the slot */
struct dma_write {
	uint32_t page, off, len;
};

/* the ends of the slot and of bitmap words; 100-101 cross a page boundary */
static const struct dma_write round1[] = {
	{ 0, 0, EDU_DMA_MAX }, { 1, 0x10, 0x100 }, { 63, 0xff0, 0x10 },
	{ 64, 0, 1 }, { 100, 0x800, EDU_DMA_MAX }, { 255, 0, EDU_DMA_MAX },
	{ 256, 0x7ff, 0x400 }, { 511, 0xf00, 0x100 },
};
/* after a harvest: pages of round 1 again (0, 101) and new ones (127-128 cross) */
static const struct dma_write round2[] = {
	{ 0, 0x400, 0x200 }, { 101, 0x20, 0x40 }, { 2, 0, EDU_DMA_MAX },
	{ 127, 0xc00, 0x800 }, { 300, 0x123, 0x321 }, { 510, 0, EDU_DMA_MAX },
};
/* logging off */
static const struct dma_write round_off[] = {
	{ 5, 0, EDU_DMA_MAX }, { 400, 0x100, 0x100 },
};
/* logging on again: page 5 again, new pages */
static const struct dma_write round_again[] = {
	{ 5, 0x800, 0x200 }, { 6, 0, EDU_DMA_MAX }, { 401, 0, 0x10 },
};
/* just before edu detaches */
static const struct dma_write round_detach[] = {
	{ 7, 0x40, 0x80 }, { 450, 0xf80, 0x100 },	/* 450-451 cross */
};

#define ROUND(r)	r, sizeof(r) / sizeof((r)[0])

static struct shared_vm s;
static uint8_t *mem;			/* host mapping of the logged slot */
static uint8_t *shadow;			/* what it must hold */
static unsigned long *written;		/* pages written since the last harvest */
static unsigned long *reported;
static unsigned int seq;
#ifdef HARVEST_RING
static struct dirty_ring ring;		/* vCPU 0's */
static unsigned long ring_entries;	/* fetched at the last harvest */
#endif

/* Fresh bytes into edu's buffer (through slot 0), then edu's writes. */
static void dma_round(const struct dma_write *w, unsigned int n)
{
	uint8_t *stage = addr_gpa2hva(s.vm, STAGE_GPA);
	uint8_t buf[EDU_DMA_MAX];
	unsigned int i;
	uint64_t p;
	int ret;

	fill_random(buf, sizeof(buf), ++seq);
	memcpy(stage, buf, sizeof(buf));
	ret = edu_dma_to_dev(&s.edu, STAGE_GPA, 0, EDU_DMA_MAX);
	TEST_ASSERT(!ret, "DMA slot 0 -> edu: %s", errno_name(-ret));
	for (i = 0; i < n; i++) {
		uint64_t off = w[i].page * PAGE_SIZE + w[i].off;
		uint32_t dev_off = (i * 0x35) % (EDU_DMA_MAX - w[i].len + 1);

		ret = edu_dma_from_dev(&s.edu, dev_off, TEST_GPA + off, w[i].len);
		TEST_ASSERT(!ret, "DMA edu -> %#llx: %s",
			    (unsigned long long)(TEST_GPA + off), errno_name(-ret));
		memcpy(shadow + off, buf + dev_off, w[i].len);
		for (p = off / PAGE_SIZE; p <= (off + w[i].len - 1) / PAGE_SIZE; p++)
			set_bit(written, p);
	}
}

/*
 * The vCPU writes a dword at VCPU_OFF of @n pages of the slot, from
 * @first, every @stride pages.
 */
static void vcpu_round(uint32_t first, uint32_t stride, uint32_t n)
{
	struct kvm_vcpu *vcpu = s.vcpu;
	uint32_t v = 0xc0de0000u + (++seq << 8), val, reason, i;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint16_t port;

	vcpu_setup_realmode(vcpu, VCPU_CODE_GPA, VCPU_STACK);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.es.base = TEST_GPA;
	sregs.es.limit = 0xffffffff;
	sregs.es.g = 1;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_get_regs(vcpu, &regs);
	regs.rax = v;
	regs.rsi = first * PAGE_SIZE + VCPU_OFF;
	regs.rbx = stride * PAGE_SIZE;
	regs.rcx = n;
	vcpu_set_regs(vcpu, &regs);
	reason = vcpu_run(vcpu);
	TEST_ASSERT(reason == KVM_EXIT_IO && vcpu_get_io_out(vcpu, &port, &val) &&
		    port == VCPU_PORT, "guest writer: exit %s", exit_reason_str(reason));
	TEST_EXPECT_EQ(val, v + n);
	for (i = 0; i < n; i++) {
		uint32_t w = v + i;

		memcpy(shadow + (first + i * stride) * PAGE_SIZE + VCPU_OFF, &w, sizeof(w));
		set_bit(written, first + i * stride);
	}
}

/*
 * The slot holds what the shadow says: every write landed where it was
 * sent and nothing else changed.  Afterwards the shadow takes what the slot
 * holds, so that one lost write is reported once.
 */
static bool slot_ok(const char *what)
{
	unsigned long i, bad = 0;
	char name[96];

	for (i = 0; i < TEST_PAGES; i++) {
		const uint8_t *got = mem + i * PAGE_SIZE, *want = shadow + i * PAGE_SIZE;

		if (!memcmp(got, want, PAGE_SIZE))
			continue;
		if (bad++ < 4) {
			snprintf(name, sizeof(name), "%s: page %lu (GPA %#llx)%s", what, i,
				 (unsigned long long)(TEST_GPA + i * PAGE_SIZE),
				 test_bit(written, i) ? ", written" : "");
			check_bytes(name, got, want, PAGE_SIZE);
		}
	}
	if (bad) {
		tap_diag("%s: %lu of %lu pages differ from what was written", what, bad,
			 TEST_PAGES);
		memcpy(shadow, mem, TEST_SIZE);
	}
	return !bad;
}

/*
 * KVM_GET_DIRTY_LOG into @reported; with the ring, what the vCPU's ring
 * holds for the slot is added to it (the vCPU's own writes are logged
 * there), and the ring is reset.
 */
static int harvest_get(void)
{
	int ret = dirty_log_get(s.vm, TEST_SLOT, reported);

#ifdef HARVEST_RING
	if (ret)
		return ret;
	ring_entries = dirty_ring_collect(&ring, TEST_SLOT, reported);
	ret = _vm_ioctl(s.vm, KVM_RESET_DIRTY_RINGS, NULL);
	if (ret > 0)	/* the number of entries reset */
		ret = 0;
#endif
	return ret;
}

/*
 * Harvest and check that every page written since the last harvest is
 * reported; the written set starts afresh.  With manual protect a second
 * KVM_GET_DIRTY_LOG must still report them (nothing cleared them), and
 * then KVM_CLEAR_DIRTY_LOG clears what was reported, as a VMM does after
 * copying those pages.
 */
static void harvest_check(const char *what)
{
	unsigned long nw = bitmap_weight(written, TEST_PAGES), missing;
#ifdef HARVEST_CLEAR
	unsigned long i;
#endif
	int ret;

	memset(reported, 0, TEST_PAGES / 8);
	ret = harvest_get();
	TEST_ASSERT(!ret, "%s: harvest: %s", what, errno_name(-ret));
	missing = dirty_missing(what, reported, written, TEST_PAGES, TEST_GPA);
	tap_diag("%s: %lu of %lu pages reported dirty, %lu written, %lu of those missing",
		 what, bitmap_weight(reported, TEST_PAGES), TEST_PAGES, nw, missing);
#ifdef HARVEST_RING
	tap_diag("%s: %lu dirty ring entries", what, ring_entries);
#endif
	TEST_EXPECT(!missing, "%lu of the %lu pages written are not reported dirty",
		    missing, nw);
#ifdef HARVEST_CLEAR
	memset(reported, 0, TEST_PAGES / 8);
	ret = dirty_log_get(s.vm, TEST_SLOT, reported);
	TEST_ASSERT(!ret, "%s: second KVM_GET_DIRTY_LOG: %s", what, errno_name(-ret));
	for (missing = 0, i = 0; i < TEST_PAGES; i++)
		missing += test_bit(written, i) && !test_bit(reported, i);
	TEST_EXPECT(!missing, "%s: %lu written pages not reported by a second KVM_GET_DIRTY_LOG "
		    "before KVM_CLEAR_DIRTY_LOG", what, missing);
	ret = dirty_log_clear(s.vm, TEST_SLOT, 0, TEST_PAGES, reported);
	TEST_ASSERT(!ret, "%s: KVM_CLEAR_DIRTY_LOG: %s", what, errno_name(-ret));
#endif
	memset(written, 0, TEST_PAGES / 8);
}

/* The first harvest after logging starts: nothing to check, counted. */
static void harvest_first(void)
{
	int ret;

	memset(reported, 0, TEST_PAGES / 8);
	ret = harvest_get();
	TEST_ASSERT(!ret, "first harvest: %s", errno_name(-ret));
	tap_diag("first harvest: %lu of %lu pages reported dirty",
		 bitmap_weight(reported, TEST_PAGES), TEST_PAGES);
#ifdef HARVEST_CLEAR
	ret = dirty_log_clear(s.vm, TEST_SLOT, 0, TEST_PAGES, reported);
	TEST_ASSERT(!ret, "first KVM_CLEAR_DIRTY_LOG: %s", errno_name(-ret));
#endif
	memset(written, 0, TEST_PAGES / 8);
}

static void set_logging(bool on)
{
	int ret = _vm_update_memslot(s.vm, TEST_SLOT, TEST_GPA, TEST_SIZE,
				     on ? KVM_MEM_LOG_DIRTY_PAGES : 0);

	TEST_ASSERT(!ret, "KVM_MEM_LOG_DIRTY_PAGES %s: %s", on ? "on" : "off",
		    errno_name(-ret));
}

static const char *mode_name(uint32_t mode)
{
	return mode == IOMMU_KVM_MODE_SHARED ? "SHARED" :
	       mode == IOMMU_KVM_MODE_PINNED ? "PINNED" :
	       mode == IOMMU_KVM_MODE_NONE ? "NONE" : "?";
}

#ifdef HARVEST_RING
static uint32_t ring_cap;

static const char *ring_cap_name(void)
{
	return ring_cap == KVM_CAP_DIRTY_LOG_RING_ACQ_REL ? "KVM_CAP_DIRTY_LOG_RING_ACQ_REL" :
							    "KVM_CAP_DIRTY_LOG_RING";
}

/* before the memslots and the vCPU: the ring, and (@arg) its bitmap */
static void enable_ring(struct kvm_vm *vm, void *arg)
{
	bool with_bitmap = *(bool *)arg;
	int ret;

	ret = dirty_ring_enable(vm, RING_BYTES, &ring_cap);
	TEST_ASSERT(!ret, "%s(%u bytes): %s", ring_cap_name(), RING_BYTES, errno_name(-ret));
	if (!with_bitmap)
		return;
	tap_diag("KVM_CHECK_EXTENSION(KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP) = %d",
		 vm_check_cap(vm, KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP));
	ret = dirty_ring_enable_bitmap(vm);
	TEST_ASSERT(!ret, "KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP): %s",
		    errno_name(-ret));
}

/*
 * A VM with a dirty ring and no bitmap could not report the device's
 * writes: a HWPT for the device on its IOAS, and attaching the device to
 * the IOAS directly, fail with ENXIO (as KVM_GET_DIRTY_LOG does there).
 */
static void ring_without_bitmap_refused(void)
{
	struct shared_vm r;
	bool with_bitmap = false;
	unsigned long bm[SHARED_VM_RAM / PAGE_SIZE / BITS_PER_LONG];
	int ret;

	tap_begin("ring_without_bitmap_refused");
	shared_vm_create_hook(&r, 0, enable_ring, &with_bitmap);
	tap_diag("%s, %u bytes per vCPU, no bitmap", ring_cap_name(), RING_BYTES);
	TEST_EXPECT_EQ(dirty_log_get(r.vm, 0, bm), -ENXIO);
	ret = shared_vm_alloc_hwpt(&r);
	TEST_EXPECT(ret == -ENXIO, "IOMMU_HWPT_ALLOC: expected ENXIO, got %s (mode %s)",
		    errno_name(-ret), ret ? "-" : mode_name(r.mode));
	if (!ret)
		test_ioctl_destroy(r.iommufd, r.hwpt_id);
	ret = _edu_attach(&r.edu, r.ioas_id);
	TEST_EXPECT(ret == -ENXIO, "attach to the IOAS: expected ENXIO, got %s",
		    errno_name(-ret));
	if (!ret)
		_edu_detach(&r.edu);
	shared_vm_destroy(&r);
	tap_end();
}

/*
 * Once a KVM-sourced IOAS follows a VM, its dirty ring can no longer be
 * turned on (the ring, and its bitmap, come first): EBUSY, and again
 * possible once the IOAS is gone.
 */
static void ring_after_ioas_refused(void)
{
	struct kvm_vm *vm = vm_create();
	int iommufd = iommufd_open();
	uint32_t ioas_id, cap;

	tap_begin("ring_after_ioas_refused");
	test_ioctl_ioas_alloc_kvm(iommufd, vm->fd, &ioas_id);
	TEST_EXPECT_EQ(dirty_ring_enable(vm, RING_BYTES, &cap), -EBUSY);
	test_ioctl_destroy(iommufd, ioas_id);
	TEST_EXPECT_EQ(dirty_ring_enable(vm, RING_BYTES, &cap), 0);
	close(iommufd);
	kvm_vm_free(vm);
	tap_end();
}
#endif

static void create_vm(void)
{
#ifdef HARVEST_RING
	bool with_bitmap = true;

	shared_vm_create_hook(&s, 0, enable_ring, &with_bitmap);
	tap_diag("%s, %u bytes per vCPU, with KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP",
		 ring_cap_name(), RING_BYTES);
	dirty_ring_map(s.vcpu, RING_BYTES, &ring);
#else
	shared_vm_create(&s);
#endif
	vm_load_code(s.vm, VCPU_CODE_GPA, vcpu_writer, vcpu_writer_end - vcpu_writer);
}

int main(void)
{
	uint32_t mode, dirty, want_mode;
	char rbuf[128];
	int ret;

#ifdef HARVEST_RING
	tap_plan(14);
	ring_without_bitmap_refused();
	ring_after_ioas_refused();
#else
	tap_plan(12);
#endif
	written = bitmap_alloc(TEST_PAGES);
	reported = bitmap_alloc(TEST_PAGES);
	shadow = malloc(TEST_SIZE);
	TEST_ASSERT(shadow, "out of memory");

	tap_begin("attach");
	tap_diag("harvest: %s", HARVEST);
	create_vm();
	vm_add_memslot(s.vm, TEST_SLOT, TEST_GPA, TEST_SIZE, 0, VM_MEM_ANON);
	mem = vm_get_region(s.vm, TEST_SLOT)->host_mem;
	fill_random(shadow, TEST_SIZE, 0x5eed);
	memcpy(mem, shadow, TEST_SIZE);
	ret = dirty_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &mode, &dirty);
	TEST_ASSERT(!ret, "IOMMU_KVM_SHARE_QUERY: %s", errno_name(-ret));
	TEST_EXPECT(mode == IOMMU_KVM_MODE_NONE && dirty == IOMMU_KVM_DIRTY_NONE,
		    "before attach: mode %s, dirty log %s", mode_name(mode),
		    dirty_log_name(dirty));
	ret = shared_vm_alloc_hwpt(&s);
	TEST_ASSERT(!ret, "IOMMU_HWPT_ALLOC: %s (reasons %s)", errno_name(-ret),
		    shared_reason_names(s.reasons, rbuf, sizeof(rbuf)));
	/* the mode this profile is meant to test: SHARED where it can be shared */
	want_mode = shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED;
	tap_diag("edu is %s (reasons %s)", mode_name(s.mode),
		 shared_reason_names(s.reasons, rbuf, sizeof(rbuf)));
	TEST_EXPECT(s.mode == want_mode, "mode %s, expected %s", mode_name(s.mode),
		    mode_name(want_mode));
	edu_attach(&s.edu, s.hwpt_id);
	tap_end();

	tap_begin("share_query_dirty_all");
	ret = dirty_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &mode, &dirty);
	TEST_ASSERT(!ret, "IOMMU_KVM_SHARE_QUERY: %s", errno_name(-ret));
	tap_diag("IOMMU_KVM_SHARE_QUERY: mode %s, dirty log %s", mode_name(mode),
		 dirty_log_name(dirty));
	TEST_EXPECT_EQ(mode, s.mode);
	/* NPT on VT-d: no precise path, in either mode */
	TEST_EXPECT(dirty == IOMMU_KVM_DIRTY_ALL, "out_dirty_log %s, expected ALL",
		    dirty_log_name(dirty));
	tap_end();

	tap_begin("no_logging_dma_lands");
	dma_round(ROUND(round_off));
	TEST_EXPECT(slot_ok("no logging"), "edu's writes did not all land");
	TEST_EXPECT_EQ(dirty_log_get(s.vm, TEST_SLOT, reported), -ENOENT);
	memset(written, 0, TEST_PAGES / 8);
	tap_end();

	tap_begin("log_on");
#ifdef HARVEST_CLEAR
	ret = dirty_log_enable_manual(s.vm);
	TEST_ASSERT(!ret, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: %s", errno_name(-ret));
#endif
	set_logging(true);
	harvest_first();
	tap_end();

	tap_begin("round1_writes_land");
	dma_round(ROUND(round1));
	TEST_EXPECT(slot_ok("round 1"), "edu's writes did not all land while the slot logs");
	tap_end();

	tap_begin("round1_written_reported");
	harvest_check("round 1");
	tap_end();

	tap_begin("round2_writes_land");
	dma_round(ROUND(round2));
	TEST_EXPECT(slot_ok("round 2"), "edu's writes did not all land while the slot logs");
	tap_end();

	tap_begin("round2_written_reported");
	harvest_check("round 2");
	tap_end();

	/*
	 * Not about the device, but its rule takes write protection away from
	 * the pages it can write: the vCPU's writes there are reported too.
	 */
	tap_begin("vcpu_writes_reported");
	vcpu_round(3, 71, 7);	/* pages 3, 74, ... 429 */
	TEST_EXPECT(slot_ok("vCPU"), "the vCPU's writes did not all land");
	harvest_check("vCPU");
	tap_end();

	tap_begin("log_off_restores");
	set_logging(false);
	TEST_EXPECT_EQ(dirty_log_get(s.vm, TEST_SLOT, reported), -ENOENT);
#ifdef HARVEST_CLEAR
	TEST_EXPECT_EQ(dirty_log_clear(s.vm, TEST_SLOT, 0, TEST_PAGES, reported), -ENOENT);
#endif
	dma_round(ROUND(round_off));
	TEST_EXPECT(slot_ok("logging off"), "edu's writes did not all land after logging");
	memset(written, 0, TEST_PAGES / 8);
	tap_end();

	tap_begin("log_on_again_reported");
	set_logging(true);
	harvest_first();
	dma_round(ROUND(round_again));
	TEST_EXPECT(slot_ok("logging on again"), "edu's writes did not all land");
	harvest_check("logging on again");
	tap_end();

	/* a page written since the last harvest is reported even when edu has gone */
	tap_begin("detach_written_reported");
	dma_round(ROUND(round_detach));
	TEST_EXPECT(slot_ok("before detach"), "edu's writes did not all land");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	ret = dirty_share_query(s.iommufd, s.edu.dev_id, s.ioas_id, &mode, &dirty);
	TEST_EXPECT(!ret && mode == IOMMU_KVM_MODE_NONE && dirty == IOMMU_KVM_DIRTY_NONE,
		    "after detach: %s, mode %s, dirty log %s", errno_name(-ret),
		    mode_name(mode), dirty_log_name(dirty));
	harvest_check("after detach");
	set_logging(false);
	tap_end();

	test_ioctl_destroy(s.iommufd, s.ioas_id);
	shared_vm_destroy(&s);
	free(shadow);
	free(written);
	free(reported);
	tap_finish();
}
