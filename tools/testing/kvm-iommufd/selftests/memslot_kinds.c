// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memslots the devices cannot use (DOC: Memslots the devices cannot
 * use): with edu attached to the VM's KVM-sourced IOAS (the default
 * policy: PINNED in the default profile, SHARED with kvm.mmio_caching=0),
 * KVM_SET_USER_MEMORY_REGION accepts every slot it accepts without a
 * device, DMA to a slot is served or blocked (never sent elsewhere: the
 * VMM's other memory keeps its bytes), and IOMMU_KVM_SLOTS says why:
 * - a RAM slot: reasons 0, DMA reads and writes reach it;
 * - a KVM_MEM_READONLY slot (a ROM): readonly 1, reads served, writes
 *   blocked;
 * - RAM mapped PROT_READ without KVM_MEM_READONLY (memfd and anonymous):
 *   IOMMU_KVM_SLOT_HVA_READONLY, readonly 1, reads served, writes blocked;
 * - an HVA with nothing mapped (a PROT_NONE reservation, munmapped):
 *   IOMMU_KVM_SLOT_UNMAPPED, DMA blocked; once the VMM maps a memfd there
 *   (MAP_FIXED), IOMMU_KVM_SLOTS with IOMMU_KVM_SLOTS_RETRY makes it RAM
 *   and DMA reaches the new memory; a slot half mapped is UNMAPPED as a
 *   whole (DMA to its mapped half blocked too) until the rest is mapped;
 * - a PROT_NONE mapping (memory there, no access): accepted, not RAM, DMA
 *   blocked both ways, RAM after mprotect(RW) and a retry;
 * - a memfd mapping whose second half lies beyond the end of the file:
 *   accepted, not RAM, DMA beyond EOF blocked; RAM once the file is
 *   extended (ftruncate) and a retry;
 * - edu's own BAR0 mmapped through its VFIO device fd (VM_PFNMAP|VM_IO):
 *   IOMMU_KVM_SLOT_PFNMAP; creating, moving, deleting and re-creating the
 *   slot succeed, and no GPA of it translates (no DMA at it: edu writing
 *   its own registers is no test);
 * - a slot over the MSI window (0xfee00000): IOMMU_KVM_SLOT_RESERVED, both
 *   when created while edu is attached and when edu is attached while the
 *   slot exists (which used to fail with EADDRINUSE); both modes translate
 *   the part below the window to the VMM's pages (mapped and pinned around
 *   the window), and PINNED leaves the window out of the IO page table.
 * Before this rule every non-RAM slot failed KVM_SET_USER_MEMORY_REGION
 * (EFAULT; EINVAL over the MSI window) once edu was attached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "kvm_slots.h"
#include "procfs.h"
#include "shared_vm.h"

#define LEN		SHARED_LEN
#define MiB		(1UL << 20)

/* memslots of this test; slot 0 (16 MiB at GPA 0) is shared_vm's */
#define RAM_SLOT	10
#define RAM_GPA		0x1000000UL
#define RAM_SIZE	MiB
#define ROM_SLOT	11
#define ROM_GPA		0x1100000UL
#define ROM_SIZE	(256UL << 10)
#define HRO_SLOT	12
#define HRO_GPA		0x1200000UL
#define HRO_SIZE	MiB
#define HRO_ANON_SLOT	13
#define HRO_ANON_GPA	0x1300000UL
#define HRO_ANON_SIZE	(64UL << 10)
#define UNM_SLOT	14
#define UNM_GPA		0x1400000UL
#define UNM_SIZE	MiB
#define PART_SLOT	15
#define PART_GPA	0x1600000UL
#define PART_SIZE	MiB
#define NONE_SLOT	16
#define NONE_GPA	0x1800000UL
#define NONE_SIZE	MiB
#define EOF_SLOT	19
#define EOF_GPA		0x1a00000UL
#define EOF_SIZE	MiB
#define BAR_SLOT	17
#define BAR_GPA_A	0x2000000UL
#define BAR_GPA_B	0x2400000UL
#define MSI_SLOT	18
#define MSI_GPA		0xfed00000UL	/* 2 MiB: the MiB below the window, and the window */
#define MSI_SIZE	(2 * MiB)
#define MSI_WINDOW	0xfee00000UL

static struct shared_vm s;
static uint32_t want_mode;
static const uint8_t *pat;	/* the guest's pattern at SHARED_SRC_GPA */
static uint8_t *dst;		/* SHARED_DST_GPA */
static const uint8_t zeros[LEN];

/* The VMM's memory: each blocked DMA must leave all of it as it was. */
struct region {
	const char *name;
	const uint8_t *view;
	size_t size;
	uint8_t *copy;
};
static struct region regions[16];
static unsigned int nr_regions;

/* The slots the final listing expects, as each case left them. */
static struct iommu_kvm_slot final[16];
static unsigned int nr_final;

static void add_region(const char *name, const void *view, size_t size)
{
	struct region *r = &regions[nr_regions++];

	TEST_ASSERT(nr_regions <= sizeof(regions) / sizeof(regions[0]), "too many regions");
	r->name = name;
	r->view = view;
	r->size = size;
	r->copy = malloc(size);
	TEST_ASSERT(r->copy, "out of memory");
}

static void expect_final(uint64_t gpa, uint64_t size, uint32_t reasons, uint32_t readonly)
{
	struct iommu_kvm_slot e = { .gpa = gpa, .size = size, .reasons = reasons,
				    .readonly = readonly };
	unsigned int i = nr_final++;

	/* GPA order */
	for (; i && final[i - 1].gpa > gpa; i--)
		final[i] = final[i - 1];
	final[i] = e;
}

static bool dma_ok(int ret, const char *dir, uint64_t gpa)
{
	return TEST_EXPECT(!ret, "DMA %s %#llx did not complete: %s", dir,
			   (unsigned long long)gpa, errno_name(-ret));
}

/* edu's buffer gets the guest's pattern */
static bool load_pattern(void)
{
	return dma_ok(edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, LEN), "from", SHARED_SRC_GPA);
}

/* edu writes the pattern at @gpa; @view (the VMM's memory there) gets it */
static bool write_lands(const char *what, uint64_t gpa, const uint8_t *view)
{
	if (!load_pattern() || !dma_ok(edu_dma_from_dev(&s.edu, 0, gpa, LEN), "to", gpa))
		return false;
	return TEST_EXPECT(check_bytes(what, view, pat, LEN), "%s: edu's write to %#llx did not land",
			   what, (unsigned long long)gpa);
}

/* edu writes the pattern at @gpa: none of the VMM's memory changes */
static bool write_blocked(const char *what, uint64_t gpa)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < nr_regions; i++)
		memcpy(regions[i].copy, regions[i].view, regions[i].size);
	if (!load_pattern() || !dma_ok(edu_dma_from_dev(&s.edu, 0, gpa, LEN), "to", gpa))
		return false;
	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];

		if (!memcmp(r->copy, r->view, r->size))
			continue;
		check_bytes(r->name, r->view, r->copy, r->size);
		ok = TEST_EXPECT(0, "%s: edu's write to %#llx changed %s", what,
				 (unsigned long long)gpa, r->name);
	}
	return ok;
}

/* edu reads @gpa: it gets @want (written to DST to look at) */
static bool read_served(const char *what, uint64_t gpa, const uint8_t *want)
{
	memset(dst, 0, LEN);
	if (!dma_ok(edu_dma_to_dev(&s.edu, gpa, 0, LEN), "from", gpa) ||
	    !dma_ok(edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, LEN), "to", SHARED_DST_GPA))
		return false;
	return TEST_EXPECT(check_bytes(what, dst, want, LEN), "%s: edu's read of %#llx",
			   what, (unsigned long long)gpa);
}

/* edu reads @gpa: no 16 bytes of @secret reach it */
static bool read_blocked(const char *what, uint64_t gpa, const uint8_t *secret)
{
	unsigned int i, run = 0;

	if (!load_pattern())
		return false;
	memset(dst, 0, LEN);
	if (!dma_ok(edu_dma_to_dev(&s.edu, gpa, 0, LEN), "from", gpa) ||
	    !dma_ok(edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, LEN), "to", SHARED_DST_GPA))
		return false;
	for (i = 0; i < LEN; i++) {
		run = dst[i] == secret[i] ? run + 1 : 0;
		if (run == 16)
			return TEST_EXPECT(0, "%s: edu read the slot's bytes at %#llx (offset %#x)",
					   what, (unsigned long long)gpa, i - 15);
	}
	return true;
}

static struct kvm_vm *plain_vm;	/* a VM without a device: what KVM accepts */

/*
 * Create memslot @slot in the test's VM, with edu attached: it must succeed
 * as it does in a VM without a device (which is checked first).
 */
static bool slot_created(const char *what, uint32_t slot, uint32_t flags, uint64_t gpa,
			 uint64_t size, const void *hva)
{
	int plain = kvm_set_slot(plain_vm, slot, flags, gpa, size, hva), ret;

	TEST_EXPECT(!plain, "KVM_SET_USER_MEMORY_REGION (%s) without a device: %s", what,
		    errno_name(-plain));
	if (!plain)
		TEST_ASSERT(!kvm_set_slot(plain_vm, slot, flags, gpa, 0, hva),
			    "delete the slot of the VM without a device");
	ret = kvm_set_slot(s.vm, slot, flags, gpa, size, hva);
	return TEST_EXPECT(!ret, "KVM_SET_USER_MEMORY_REGION (%s) with edu attached: %s, "
			   "without a device: %s", what, errno_name(-ret), errno_name(-plain));
}

static void dmar_faults(int kmsg, uint64_t gpa)
{
	/* dmar_fault() rate-limits its reports: evidence, not a check */
	usleep(100000);
	tap_diag("%u DMAR fault reports for %#llx", kmsg_dmar_faults(kmsg, gpa),
		 (unsigned long long)gpa);
}

static bool attach(void)
{
	int ret = shared_vm_alloc_hwpt(&s);

	if (!TEST_EXPECT(!ret, "HWPT_ALLOC: %s (reasons %#x)", errno_name(-ret), s.reasons))
		return false;
	TEST_EXPECT_EQ(s.mode, want_mode);
	ret = _edu_attach(&s.edu, s.hwpt_id);
	if (!TEST_EXPECT(!ret, "attach edu: %s", errno_name(-ret))) {
		test_ioctl_destroy(s.iommufd, s.hwpt_id);
		return false;
	}
	return true;
}

static void case_setup(void)
{
	tap_begin("setup_attach");
	shared_vm_create(&s);
	plain_vm = vm_create();
	want_mode = shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED;
	tap_diag("expect edu %s", want_mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED");
	TEST_ASSERT(attach(), "edu cannot be attached");
	pat = addr_gpa2hva(s.vm, SHARED_SRC_GPA);
	dst = addr_gpa2hva(s.vm, SHARED_DST_GPA);
	add_region("slot 0", addr_gpa2hva(s.vm, 0), SHARED_VM_RAM);
	write_lands("slot 0", SHARED_DST_GPA, dst);
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, 0, SHARED_VM_RAM, 0, 0);
	expect_final(0, SHARED_VM_RAM, 0, 0);
	tap_end();
}

static void case_ram(void)
{
	uint8_t *mem;

	tap_begin("ram_slot_read_write");
	mem = map_memfd(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, memfd_of(RAM_SIZE), 0);
	fill_pattern(mem, RAM_SIZE, 0x11);
	if (slot_created("RAM", RAM_SLOT, 0, RAM_GPA, RAM_SIZE, mem)) {
		add_region("RAM slot", mem, RAM_SIZE);
		expect_final(RAM_GPA, RAM_SIZE, 0, 0);
		kvm_slot_expect(s.iommufd, s.ioas_id, 0, RAM_GPA, RAM_SIZE, 0, 0);
		read_served("RAM slot", RAM_GPA + 0x8000, mem + 0x8000);
		write_lands("RAM slot", RAM_GPA + 0x3000, mem + 0x3000);
	}
	tap_end();
}

static void case_rom(void)
{
	uint8_t *rom;
	int kmsg;

	tap_begin("rom_slot_dma_reads_only");
	/* QEMU maps its ROMs read-write and gives them to KVM read-only */
	rom = map_memfd(NULL, ROM_SIZE, PROT_READ | PROT_WRITE, memfd_of(ROM_SIZE), 0);
	fill_pattern(rom, ROM_SIZE, 0x22);
	if (slot_created("KVM_MEM_READONLY", ROM_SLOT, KVM_MEM_READONLY, ROM_GPA, ROM_SIZE,
			 rom)) {
		add_region("ROM slot", rom, ROM_SIZE);
		expect_final(ROM_GPA, ROM_SIZE, 0, 1);
		kvm_slot_expect(s.iommufd, s.ioas_id, 0, ROM_GPA, ROM_SIZE, 0, 1);
		read_served("ROM slot", ROM_GPA + 0x1000, rom + 0x1000);
		kmsg = kmsg_open();
		write_blocked("ROM slot", ROM_GPA + 0x2000);
		dmar_faults(kmsg, ROM_GPA + 0x2000);
		close(kmsg);
	}
	tap_end();
}

static void case_hva_readonly(void)
{
	uint8_t *alias, *view, *anon;
	int fd;

	tap_begin("hva_readonly_slot_dma_reads_only");
	fd = memfd_of(HRO_SIZE);
	alias = map_memfd(NULL, HRO_SIZE, PROT_READ | PROT_WRITE, fd, 0);
	fill_pattern(alias, HRO_SIZE, 0x33);
	view = map_memfd(NULL, HRO_SIZE, PROT_READ, fd, 0);
	anon = mmap(NULL, HRO_ANON_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(anon != MAP_FAILED, "mmap: %s", errno_name(errno));

	if (slot_created("memfd mapped PROT_READ", HRO_SLOT, 0, HRO_GPA, HRO_SIZE, view)) {
		add_region("read-only memfd slot", alias, HRO_SIZE);
		expect_final(HRO_GPA, HRO_SIZE, IOMMU_KVM_SLOT_HVA_READONLY, 1);
		kvm_slot_expect(s.iommufd, s.ioas_id, 0, HRO_GPA, HRO_SIZE,
				IOMMU_KVM_SLOT_HVA_READONLY, 1);
		read_served("read-only memfd slot", HRO_GPA + 0x5000, alias + 0x5000);
		write_blocked("read-only memfd slot", HRO_GPA + 0x6000);
	}
	if (slot_created("anonymous PROT_READ", HRO_ANON_SLOT, 0, HRO_ANON_GPA, HRO_ANON_SIZE,
			 anon)) {
		add_region("read-only anonymous slot", anon, HRO_ANON_SIZE);
		expect_final(HRO_ANON_GPA, HRO_ANON_SIZE, IOMMU_KVM_SLOT_HVA_READONLY, 1);
		kvm_slot_expect(s.iommufd, s.ioas_id, 0, HRO_ANON_GPA, HRO_ANON_SIZE,
				IOMMU_KVM_SLOT_HVA_READONLY, 1);
		read_served("read-only anonymous slot", HRO_ANON_GPA + 0x1000, zeros);
		write_blocked("read-only anonymous slot", HRO_ANON_GPA + 0x2000);
	}
	tap_end();
}

static void case_unmapped(void)
{
	uint8_t *hole, *mem;
	struct iommu_kvm_slot e[1];
	uint32_t nr = 0;
	int kmsg, ret;

	tap_begin("unmapped_hva_slot_blocked_until_retry");
	hole = hva_hole(UNM_SIZE);
	if (!slot_created("nothing mapped", UNM_SLOT, 0, UNM_GPA, UNM_SIZE, hole))
		goto out;
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, UNM_GPA, UNM_SIZE, IOMMU_KVM_SLOT_UNMAPPED, 0);
	kmsg = kmsg_open();
	write_blocked("unmapped slot", UNM_GPA + 0x1000);
	dmar_faults(kmsg, UNM_GPA + 0x1000);
	close(kmsg);

	/* the VMM maps RAM there now */
	mem = map_memfd(hole, UNM_SIZE, PROT_READ | PROT_WRITE, memfd_of(UNM_SIZE), 0);
	fill_pattern(mem, UNM_SIZE, 0x44);
	add_region("unmapped slot, mapped later", mem, UNM_SIZE);
	/* what the IOAS says before it is asked to look again (not checked) */
	ret = kvm_slots_query(s.iommufd, s.ioas_id, 0, e, &nr);
	tap_diag("before IOMMU_KVM_SLOTS_RETRY: %s, %u slots", errno_name(-ret), nr);

	kvm_slot_expect(s.iommufd, s.ioas_id, IOMMU_KVM_SLOTS_RETRY, UNM_GPA, UNM_SIZE, 0, 0);
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, UNM_GPA, UNM_SIZE, 0, 0);
	expect_final(UNM_GPA, UNM_SIZE, 0, 0);
	read_served("mapped later", UNM_GPA + 0x9000, mem + 0x9000);
	write_lands("mapped later", UNM_GPA + 0x2000, mem + 0x2000);
out:
	tap_end();
}

static void case_partly_mapped(void)
{
	const size_t half = PART_SIZE / 2;
	uint8_t *hva;
	int fd;

	tap_begin("partly_mapped_slot_blocked_until_retry");
	hva = hva_hole(PART_SIZE);
	fd = memfd_of(PART_SIZE);
	map_memfd(hva, half, PROT_READ | PROT_WRITE, fd, 0);
	fill_pattern(hva, half, 0x55);
	if (!slot_created("half mapped", PART_SLOT, 0, PART_GPA, PART_SIZE, hva))
		goto out;
	add_region("half-mapped slot", hva, half);
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, PART_GPA, PART_SIZE, IOMMU_KVM_SLOT_UNMAPPED, 0);
	/* the mapped half is blocked too: the slot is not RAM */
	write_blocked("mapped half", PART_GPA + 0x1000);
	read_blocked("mapped half", PART_GPA + 0x3000, hva + 0x3000);
	/* looking again changes nothing while the second half is a hole */
	kvm_slot_expect(s.iommufd, s.ioas_id, IOMMU_KVM_SLOTS_RETRY, PART_GPA, PART_SIZE,
			IOMMU_KVM_SLOT_UNMAPPED, 0);
	write_blocked("mapped half after a retry", PART_GPA + 0x1000);

	map_memfd(hva + half, half, PROT_READ | PROT_WRITE, fd, half);
	fill_pattern(hva + half, half, 0x56);
	add_region("half-mapped slot, second half", hva + half, half);
	kvm_slot_expect(s.iommufd, s.ioas_id, IOMMU_KVM_SLOTS_RETRY, PART_GPA, PART_SIZE, 0, 0);
	expect_final(PART_GPA, PART_SIZE, 0, 0);
	/* across the two mappings */
	write_lands("both halves", PART_GPA + half - 0x800, hva + half - 0x800);
	read_served("both halves", PART_GPA + 0x3000, hva + 0x3000);
out:
	tap_end();
}

static void case_prot_none(void)
{
	uint8_t *alias, *view;
	struct iommu_kvm_slot e[32];
	uint32_t nr = 32, i;
	char why[64];
	int fd, ret;

	tap_begin("prot_none_hva_slot_blocked_until_retry");
	fd = memfd_of(NONE_SIZE);
	alias = map_memfd(NULL, NONE_SIZE, PROT_READ | PROT_WRITE, fd, 0);
	fill_pattern(alias, NONE_SIZE, 0x66);
	view = map_memfd(NULL, NONE_SIZE, PROT_NONE, fd, 0);
	if (!slot_created("memfd mapped PROT_NONE", NONE_SLOT, 0, NONE_GPA, NONE_SIZE, view))
		goto out;
	add_region("PROT_NONE slot", alias, NONE_SIZE);
	ret = kvm_slots_query(s.iommufd, s.ioas_id, 0, e, &nr);
	if (TEST_EXPECT(!ret, "IOMMU_KVM_SLOTS: %s", errno_name(-ret))) {
		for (i = 0; i < nr && i < 32 && e[i].gpa != NONE_GPA; i++)
			;
		if (TEST_EXPECT(i < nr && i < 32, "no slot at %#lx", NONE_GPA)) {
			tap_diag("PROT_NONE slot: reasons %s readonly %u",
				 kvm_slot_reason_names(e[i].reasons, why, sizeof(why)), e[i].readonly);
			TEST_EXPECT(e[i].reasons, "a PROT_NONE slot is reported as RAM");
		}
	}
	write_blocked("PROT_NONE slot", NONE_GPA + 0x1000);
	read_blocked("PROT_NONE slot", NONE_GPA + 0x3000, alias + 0x3000);

	TEST_ASSERT(!mprotect(view, NONE_SIZE, PROT_READ | PROT_WRITE), "mprotect: %s",
		    errno_name(errno));
	kvm_slot_expect(s.iommufd, s.ioas_id, IOMMU_KVM_SLOTS_RETRY, NONE_GPA, NONE_SIZE, 0, 0);
	expect_final(NONE_GPA, NONE_SIZE, 0, 0);
	write_lands("PROT_NONE slot after mprotect", NONE_GPA + 0x2000, alias + 0x2000);
out:
	tap_end();
}

static void case_beyond_eof(void)
{
	const size_t half = EOF_SIZE / 2;
	struct iommu_kvm_slot e[32];
	uint32_t nr = 32, i;
	uint8_t *mem;
	char why[64];
	int fd, ret;

	tap_begin("beyond_eof_slot_blocked_until_retry");
	fd = memfd_of(half);
	mem = map_memfd(NULL, EOF_SIZE, PROT_READ | PROT_WRITE, fd, 0);
	fill_pattern(mem, half, 0x68);
	if (!slot_created("memfd mapping past EOF", EOF_SLOT, 0, EOF_GPA, EOF_SIZE, mem))
		goto out;
	add_region("slot past EOF, the file's half", mem, half);
	ret = kvm_slots_query(s.iommufd, s.ioas_id, 0, e, &nr);
	if (TEST_EXPECT(!ret, "IOMMU_KVM_SLOTS: %s", errno_name(-ret))) {
		for (i = 0; i < nr && i < 32 && e[i].gpa != EOF_GPA; i++)
			;
		if (TEST_EXPECT(i < nr && i < 32, "no slot at %#lx", EOF_GPA)) {
			tap_diag("slot past EOF: reasons %s readonly %u",
				 kvm_slot_reason_names(e[i].reasons, why, sizeof(why)), e[i].readonly);
			TEST_EXPECT(e[i].reasons, "a slot past EOF is reported as RAM");
		}
	}
	write_blocked("past EOF", EOF_GPA + half + 0x1000);

	TEST_ASSERT(!ftruncate(fd, EOF_SIZE), "ftruncate: %s", errno_name(errno));
	fill_pattern(mem + half, half, 0x69);
	add_region("slot past EOF, extended", mem + half, half);
	kvm_slot_expect(s.iommufd, s.ioas_id, IOMMU_KVM_SLOTS_RETRY, EOF_GPA, EOF_SIZE, 0, 0);
	expect_final(EOF_GPA, EOF_SIZE, 0, 0);
	write_lands("extended", EOF_GPA + half + 0x1000, mem + half + 0x1000);
	read_served("extended", EOF_GPA + 0x2000, mem + 0x2000);
out:
	tap_end();
}

static void io_pt_check_none(const char *what, uint64_t gpa, uint64_t size)
{
	struct io_pt pt;

	if (TEST_EXPECT(io_pt_read(&pt), "edu's IO page table cannot be read"))
		io_pt_expect_none(&pt, what, gpa, size);
	io_pt_free(&pt);
}

static void case_bar(void)
{
	const void *bar = (const void *)s.edu.bar0;
	size_t size = s.edu.bar0_size;

	tap_begin("bar_slot_pfnmap");
	tap_diag("edu BAR0: %zu bytes at %p", size, bar);
	if (!slot_created("edu's BAR0 mmap", BAR_SLOT, 0, BAR_GPA_A, size, bar))
		goto out;
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, BAR_GPA_A, size, IOMMU_KVM_SLOT_PFNMAP, 0);
	io_pt_check_none("BAR slot", BAR_GPA_A, size);

	/* moved */
	TEST_EXPECT_EQ(kvm_set_slot(s.vm, BAR_SLOT, 0, BAR_GPA_B, size, bar), 0);
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, BAR_GPA_B, size, IOMMU_KVM_SLOT_PFNMAP, 0);
	kvm_slot_expect_absent(s.iommufd, s.ioas_id, BAR_GPA_A);
	/* looking again finds the BAR again */
	kvm_slot_expect(s.iommufd, s.ioas_id, IOMMU_KVM_SLOTS_RETRY, BAR_GPA_B, size,
			IOMMU_KVM_SLOT_PFNMAP, 0);
	io_pt_check_none("moved BAR slot", BAR_GPA_B, size);

	/* deleted, re-created, deleted */
	TEST_EXPECT_EQ(kvm_set_slot(s.vm, BAR_SLOT, 0, BAR_GPA_B, 0, bar), 0);
	kvm_slot_expect_absent(s.iommufd, s.ioas_id, BAR_GPA_B);
	TEST_EXPECT_EQ(kvm_set_slot(s.vm, BAR_SLOT, 0, BAR_GPA_A, size, bar), 0);
	kvm_slot_expect(s.iommufd, s.ioas_id, 0, BAR_GPA_A, size, IOMMU_KVM_SLOT_PFNMAP, 0);
	TEST_EXPECT_EQ(kvm_set_slot(s.vm, BAR_SLOT, 0, BAR_GPA_A, 0, bar), 0);
	kvm_slot_expect_absent(s.iommufd, s.ioas_id, BAR_GPA_A);
out:
	/* the BAR mapping still works, and so does edu */
	TEST_EXPECT(edu_alive(&s.edu), "edu's BAR0 does not answer");
	write_lands("slot 0", SHARED_DST_GPA, dst);
	tap_end();
}

/* The MiB below the window translates in both modes; PINNED leaves the window out */
static void msi_slot_checks(const uint8_t *mem)
{
	struct io_pt pt;

	kvm_slot_expect(s.iommufd, s.ioas_id, 0, MSI_GPA, MSI_SIZE, IOMMU_KVM_SLOT_RESERVED, 0);
	if (!TEST_EXPECT(io_pt_read(&pt), "edu's IO page table cannot be read"))
		return;
	io_pt_expect_maps(&pt, "slot over the MSI window, below it", MSI_GPA, mem,
			  MSI_WINDOW - MSI_GPA, true);
	if (want_mode == IOMMU_KVM_MODE_PINNED)
		io_pt_expect_none(&pt, "the MSI window", MSI_WINDOW,
				  MSI_GPA + MSI_SIZE - MSI_WINDOW);
	io_pt_free(&pt);
}

static void case_msi_while_attached(uint8_t *mem)
{
	tap_begin("msi_window_slot_created_while_attached");
	if (slot_created("over the MSI window", MSI_SLOT, 0, MSI_GPA, MSI_SIZE, mem)) {
		msi_slot_checks(mem);
		TEST_EXPECT_EQ(kvm_set_slot(s.vm, MSI_SLOT, 0, MSI_GPA, 0, mem), 0);
		kvm_slot_expect_absent(s.iommufd, s.ioas_id, MSI_GPA);
	}
	write_lands("slot 0", SHARED_DST_GPA, dst);
	tap_end();
}

static void case_attach_with_msi_slot(uint8_t *mem)
{
	bool created, attached;
	int ret;

	tap_begin("attach_with_msi_window_slot");
	TEST_ASSERT(!_edu_detach(&s.edu), "detach edu: %s", errno_name(errno));
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	/* without a device: KVM and the IOAS take it */
	ret = kvm_set_slot(s.vm, MSI_SLOT, 0, MSI_GPA, MSI_SIZE, mem);
	created = TEST_EXPECT(!ret, "slot over the MSI window without a device: %s",
			      errno_name(-ret));
	attached = attach();
	if (attached && created) {
		msi_slot_checks(mem);
		write_lands("slot 0", SHARED_DST_GPA, dst);
	}
	if (created) {
		TEST_EXPECT_EQ(kvm_set_slot(s.vm, MSI_SLOT, 0, MSI_GPA, 0, mem), 0);
		if (attached)
			kvm_slot_expect_absent(s.iommufd, s.ioas_id, MSI_GPA);
	}
	if (!attached) {
		tap_diag("attaching again without the slot");
		TEST_ASSERT(attach(), "edu cannot be attached");
	}
	tap_end();
}

static void case_listing(void)
{
	struct iommu_kvm_slot e[4];
	uint32_t nr;
	int ret;

	tap_begin("slots_listed_in_gpa_order");
	kvm_slots_expect_all(s.iommufd, s.ioas_id, final, nr_final);
	/* a short array: the count of all, the first ones only */
	memset(e, 0xa5, sizeof(e));
	nr = 2;
	ret = kvm_slots_query(s.iommufd, s.ioas_id, 0, e, &nr);
	if (TEST_EXPECT(!ret, "IOMMU_KVM_SLOTS, 2 entries: %s", errno_name(-ret))) {
		TEST_EXPECT_EQ(nr, nr_final);
		TEST_EXPECT(!memcmp(e, final, 2 * sizeof(e[0])), "the first two slots");
		TEST_EXPECT(check_fill("entries beyond nr_slots", (uint8_t *)&e[2], 0xa5,
				       2 * sizeof(e[0])), "written beyond nr_slots");
	}
	nr = 0;
	ret = kvm_slots_query(s.iommufd, s.ioas_id, 0, NULL, &nr);
	if (TEST_EXPECT(!ret, "IOMMU_KVM_SLOTS, no array: %s", errno_name(-ret)))
		TEST_EXPECT_EQ(nr, nr_final);
	nr = 4;
	TEST_EXPECT_EQ(kvm_slots_query(s.iommufd, s.ioas_id, 1u << 31, e, &nr), -EOPNOTSUPP);
	/* the guest still sees edu's copy through KVM */
	write_lands("slot 0", SHARED_DST_GPA, dst);
	TEST_EXPECT_EQ(shared_vm_guest_compare(&s), SHARED_EQUAL);
	tap_end();
}

int main(void)
{
	uint8_t *msi_mem;

	tap_plan(13);
	case_setup();
	case_ram();
	case_rom();
	case_hva_readonly();
	case_unmapped();
	case_partly_mapped();
	case_prot_none();
	case_beyond_eof();
	case_bar();
	msi_mem = map_memfd(NULL, MSI_SIZE, PROT_READ | PROT_WRITE, memfd_of(MSI_SIZE), 0);
	memset(msi_mem, 0x77, MSI_SIZE);
	case_msi_while_attached(msi_mem);
	case_attach_with_msi_slot(msi_mem);
	case_listing();

	tap_begin("detach_destroy");
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, s.hwpt_id);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	tap_end();

	shared_vm_destroy(&s);
	kvm_vm_free(plain_vm);
	tap_finish();
}
