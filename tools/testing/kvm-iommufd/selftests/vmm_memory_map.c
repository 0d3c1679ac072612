// SPDX-License-Identifier: GPL-2.0-only
/*
 * The memory map a VMM builds for a q35 guest with an assigned device,
 * in QEMU's order, with edu on the VM's KVM-sourced
 * IOAS (the default policy: PINNED in the default profile, SHARED with
 * kvm.mmio_caching=0):
 *   1. RAM below 4 GiB: pc.ram [0, 640 KiB) and [1 MiB, 8 MiB)
 *   2. RAM above 4 GiB: pc.ram's next 4 MiB at 4 GiB
 *   3. ROMs, KVM_MEM_READONLY: the option ROM area (pc.rom, 0xc0000), the
 *      isa-bios alias of the BIOS's last 128 KiB (0xe0000), the BIOS
 *      (pc.bios, 0xfffc0000)
 *   4. edu's BAR0 as a slot over its VFIO mmap (VM_PFNMAP|VM_IO)
 *   5. the guest re-programs the BAR: QEMU deletes the slot and creates it
 *      at the new GPA
 *   6. RAM hot-plug: a pc-dimm at the device memory base (5 GiB)
 * The VMM's vCPU exists first, as in QEMU.  Three runs, each in a new VM:
 * without the device (the baseline: KVM takes every step), edu attached
 * before step 1 (early) and after step 6 (late).  With the device every
 * KVM_SET_USER_MEMORY_REGION must succeed as without it, and then
 * - IOMMU_KVM_SLOTS lists the 8 slots in GPA order: RAM reasons 0, ROMs
 *   readonly 1, the BAR IOMMU_KVM_SLOT_PFNMAP (at its new GPA only);
 * - edu's IO page table (intel-iommu debugfs: iommufd's table when PINNED,
 *   KVM's own when SHARED) translates every page of every RAM slot to the
 *   VMM's page there, writable, every ROM page to the VMM's ROM page,
 *   read-only, and nothing else: not the BAR (either GPA), not the holes;
 * - edu's DMA (it reaches only the low 256 MiB): writes into the RAM slots
 *   land and the VMM reads them back; writes to the ROMs, the VGA hole, the
 *   hole above 8 MiB change none of the VMM's memory (a write across the
 *   end of RAM into the VGA hole changes only RAM); reads of RAM and ROM
 *   are served; PINNED: DMA to the BAR's GPA is refused (edu's liveness
 *   register keeps its value, its ID register does not come back).
 * The slots above 256 MiB (high RAM, the BIOS, the DIMM) are checked by
 * their translations only: edu's DMA mask is 28 bits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "kvm_slots.h"
#include "shared_vm.h"

#define KiB		(1UL << 10)
#define MiB		(1UL << 20)
#define LEN		4000U

/* pc.ram: 8 MiB below 4 GiB, 4 MiB above */
#define RAM_BELOW	(8 * MiB)
#define RAM_ABOVE	(4 * MiB)
#define RAM_SIZE	(RAM_BELOW + RAM_ABOVE)
#define HIGH_GPA	0x100000000ULL
#define VGA_HOLE	0xa0000ULL
#define OPTROM_GPA	0xc0000ULL
#define OPTROM_SIZE	(128 * KiB)
#define ISABIOS_GPA	0xe0000ULL
#define ISABIOS_SIZE	(128 * KiB)
#define BIOS_GPA	0xfffc0000ULL
#define BIOS_SIZE	(256 * KiB)
/* the PCI hole of this small VM; BAR addresses edu's DMA can reach */
#define BAR_GPA_A	0x8000000ULL
#define BAR_GPA_B	0xc000000ULL
/* the device memory region: 4 GiB + RAM above 4 GiB, 1 GiB aligned */
#define DIMM_GPA	0x140000000ULL
#define DIMM_SIZE	(2 * MiB)
#define READ_DST_GPA	0x400000ULL	/* where edu's reads are written to look at them */
#define PROBE_VALUE	0x5aa5c33cU

#define SLOT_BAR	6
#define SLOT_DIMM	7

enum run { NO_DEVICE, EARLY, LATE, NR_RUNS };
static const char *const run_names[] = { "no_device", "early_attach", "late_attach" };

struct step {
	const char *name;
	uint32_t slot, flags;
	uint64_t gpa, size;
	const void *hva;
};
#define NR_STEPS	10

/* one run's VMM */
struct vmm {
	enum run run;
	struct kvm_vm *vm;
	int iommufd;
	uint32_t ioas_id, hwpt_id, mode, reasons;
	struct edu_dev edu;
	bool attached;
	uint8_t *ram, *optrom, *bios, *dimm;
	struct step steps[NR_STEPS];
};

/* the VMM's memory and what it should hold */
struct object {
	const char *name;
	uint8_t *mem, *shadow;
	size_t size;
};
static struct object objs[4];

static int baseline[NR_STEPS];
static uint32_t want_mode;

static uint8_t *map_mem(size_t size, uint8_t seed)
{
	uint8_t *p = map_memfd(NULL, size, PROT_READ | PROT_WRITE, memfd_of(size), 0);

	fill_pattern(p, size, seed);
	return p;
}

static void vmm_steps(struct vmm *v)
{
	const struct step steps[NR_STEPS] = {
		{ "ram-below-4g [0, 640K)", 0, 0, 0, VGA_HOLE, v->ram },
		{ "ram-below-4g [1M, 8M)", 1, 0, 0x100000, RAM_BELOW - 0x100000, v->ram + 0x100000 },
		{ "ram-above-4g", 2, 0, HIGH_GPA, RAM_ABOVE, v->ram + RAM_BELOW },
		{ "pc.rom (option ROMs)", 3, KVM_MEM_READONLY, OPTROM_GPA, OPTROM_SIZE, v->optrom },
		{ "isa-bios", 4, KVM_MEM_READONLY, ISABIOS_GPA, ISABIOS_SIZE,
		  v->bios + BIOS_SIZE - ISABIOS_SIZE },
		{ "pc.bios", 5, KVM_MEM_READONLY, BIOS_GPA, BIOS_SIZE, v->bios },
		{ "edu BAR0", SLOT_BAR, 0, BAR_GPA_A, v->edu.bar0_size, (const void *)v->edu.bar0 },
		{ "edu BAR0 off (re-programmed)", SLOT_BAR, 0, BAR_GPA_A, 0,
		  (const void *)v->edu.bar0 },
		{ "edu BAR0 at its new address", SLOT_BAR, 0, BAR_GPA_B, v->edu.bar0_size,
		  (const void *)v->edu.bar0 },
		{ "pc-dimm hot-plugged", SLOT_DIMM, 0, DIMM_GPA, DIMM_SIZE, v->dimm },
	};

	memcpy(v->steps, steps, sizeof(steps));
}

static bool attach(struct vmm *v)
{
	int ret;

	ret = _test_ioctl_hwpt_alloc_kvm(v->iommufd, v->edu.dev_id, v->ioas_id, &v->hwpt_id,
					 &v->mode, &v->reasons);
	if (!TEST_EXPECT(!ret, "%s: HWPT_ALLOC: %s (reasons %#x)", run_names[v->run],
			 errno_name(-ret), v->reasons))
		return false;
	TEST_EXPECT_EQ(v->mode, want_mode);
	ret = _edu_attach(&v->edu, v->hwpt_id);
	if (!TEST_EXPECT(!ret, "%s: attach edu: %s", run_names[v->run], errno_name(-ret))) {
		test_ioctl_destroy(v->iommufd, v->hwpt_id);
		return false;
	}
	v->attached = true;
	return true;
}

static void vmm_begin(struct vmm *v, enum run run)
{
	unsigned int i;

	memset(v, 0, sizeof(*v));
	v->run = run;
	v->ram = map_mem(RAM_SIZE, 0x10);
	v->optrom = map_mem(OPTROM_SIZE, 0x20);
	v->optrom[0] = 0x55;
	v->optrom[1] = 0xaa;
	v->bios = map_mem(BIOS_SIZE, 0x30);
	v->dimm = map_mem(DIMM_SIZE, 0x40);
	objs[0] = (struct object){ "pc.ram", v->ram, NULL, RAM_SIZE };
	objs[1] = (struct object){ "pc.rom", v->optrom, NULL, OPTROM_SIZE };
	objs[2] = (struct object){ "pc.bios", v->bios, NULL, BIOS_SIZE };
	objs[3] = (struct object){ "pc-dimm", v->dimm, NULL, DIMM_SIZE };
	for (i = 0; i < 4; i++) {
		objs[i].shadow = malloc(objs[i].size);
		TEST_ASSERT(objs[i].shadow, "out of memory");
		memcpy(objs[i].shadow, objs[i].mem, objs[i].size);
	}

	v->vm = vm_create();
	vcpu_add(v->vm, 0);
	v->iommufd = iommufd_open();
	/* the device is bound (VFIO needs it to mmap the BAR) in every run */
	edu_open(&v->edu);
	edu_bind(&v->edu, v->iommufd);
	edu_map_bar0(&v->edu);
	if (run != NO_DEVICE)
		test_ioctl_ioas_alloc_kvm(v->iommufd, v->vm->fd, &v->ioas_id);
	vmm_steps(v);
}

static void vmm_end(struct vmm *v)
{
	unsigned int i;

	if (v->attached) {
		TEST_EXPECT_EQ(_edu_detach(&v->edu), 0);
		test_ioctl_destroy(v->iommufd, v->hwpt_id);
	}
	if (v->ioas_id)
		test_ioctl_destroy(v->iommufd, v->ioas_id);
	kvm_vm_free(v->vm);
	edu_close(&v->edu);
	close(v->iommufd);
	for (i = 0; i < 4; i++) {
		munmap(objs[i].mem, objs[i].size);
		free(objs[i].shadow);
	}
}

/* Build the memory map; with edu attached, look at the BAR slot as it moves. */
static void build_map(struct vmm *v)
{
	unsigned int i;

	for (i = 0; i < NR_STEPS; i++) {
		const struct step *st = &v->steps[i];
		int ret = kvm_set_slot(v->vm, st->slot, st->flags, st->gpa, st->size, st->hva);

		if (v->run == NO_DEVICE) {
			baseline[i] = ret;
			TEST_EXPECT(!ret, "without a device, step %u (%s): %s", i + 1, st->name,
				    errno_name(-ret));
			continue;
		}
		TEST_EXPECT(ret == baseline[i], "%s, step %u (%s): %s, without the device %s",
			    run_names[v->run], i + 1, st->name, errno_name(-ret),
			    errno_name(-baseline[i]));
		if (!v->attached || ret)
			continue;
		/* the BAR slot as the IOAS sees it while it moves */
		if (i == 6)
			kvm_slot_expect(v->iommufd, v->ioas_id, 0, BAR_GPA_A, v->edu.bar0_size,
					IOMMU_KVM_SLOT_PFNMAP, 0);
		if (i == 7)
			kvm_slot_expect_absent(v->iommufd, v->ioas_id, BAR_GPA_A);
	}
}

static void check_slots(struct vmm *v)
{
	const struct iommu_kvm_slot want[] = {
		{ 0, VGA_HOLE, 0, 0 },
		{ OPTROM_GPA, OPTROM_SIZE, 0, 1 },
		{ ISABIOS_GPA, ISABIOS_SIZE, 0, 1 },
		{ 0x100000, RAM_BELOW - 0x100000, 0, 0 },
		{ BAR_GPA_B, v->edu.bar0_size, IOMMU_KVM_SLOT_PFNMAP, 0 },
		{ BIOS_GPA, BIOS_SIZE, 0, 1 },
		{ HIGH_GPA, RAM_ABOVE, 0, 0 },
		{ DIMM_GPA, DIMM_SIZE, 0, 0 },
	};

	kvm_slots_expect_all(v->iommufd, v->ioas_id, want, sizeof(want) / sizeof(want[0]));
}

static void check_io_pt(struct vmm *v)
{
	unsigned int i;
	struct io_pt pt;

	if (!TEST_EXPECT(io_pt_read(&pt), "edu's IO page table cannot be read"))
		return;
	tap_diag("edu's IO page table: %zu leaves", pt.n);
	for (i = 0; i < NR_STEPS; i++) {
		const struct step *st = &v->steps[i];

		if (!st->size || st->slot == SLOT_BAR)
			continue;
		io_pt_expect_maps(&pt, st->name, st->gpa, st->hva, st->size,
				  !(st->flags & KVM_MEM_READONLY));
	}
	io_pt_expect_none(&pt, "edu BAR0's first address", BAR_GPA_A, v->edu.bar0_size);
	io_pt_expect_none(&pt, "edu BAR0", BAR_GPA_B, v->edu.bar0_size);
	io_pt_expect_none(&pt, "the VGA hole", VGA_HOLE, OPTROM_GPA - VGA_HOLE);
	io_pt_expect_none(&pt, "above RAM below 4 GiB", RAM_BELOW, 8 * MiB);
	io_pt_expect_none(&pt, "above RAM above 4 GiB", HIGH_GPA + RAM_ABOVE, 4 * MiB);
	io_pt_free(&pt);
}

/* Every object holds what its shadow says; false (reported) if not. */
static bool memory_as_expected(const char *after)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < 4; i++) {
		if (!memcmp(objs[i].mem, objs[i].shadow, objs[i].size))
			continue;
		check_bytes(objs[i].name, objs[i].mem, objs[i].shadow, objs[i].size);
		ok = TEST_EXPECT(0, "after %s, %s is not what the VMM and edu wrote", after,
				 objs[i].name);
		memcpy(objs[i].shadow, objs[i].mem, objs[i].size);	/* report once */
	}
	return ok;
}

static bool dma_ok(int ret, const char *dir, uint64_t gpa)
{
	return TEST_EXPECT(!ret, "DMA %s %#llx did not complete: %s", dir,
			   (unsigned long long)gpa, errno_name(-ret));
}

/* edu's buffer gets LEN bytes from pc.ram at 1 MiB (a RAM slot) */
static const uint8_t *load_src(struct vmm *v)
{
	if (!dma_ok(edu_dma_to_dev(&v->edu, 0x100000, 0, LEN), "from", 0x100000))
		return NULL;
	return v->ram + 0x100000;
}

/* edu writes to @gpa below 8 MiB (pc.ram's offset): the bytes land, nothing else changes */
static void write_ram(struct vmm *v, uint64_t gpa)
{
	char what[64];
	const uint8_t *src = load_src(v);

	snprintf(what, sizeof(what), "edu's write to RAM at %#llx", (unsigned long long)gpa);
	if (!src || !dma_ok(edu_dma_from_dev(&v->edu, 0, gpa, LEN), "to", gpa))
		return;
	memcpy(objs[0].shadow + gpa, src, LEN);
	memory_as_expected(what);
}

/* edu writes to @gpa: none of the VMM's memory changes */
static void write_nothing(struct vmm *v, uint64_t gpa, const char *where)
{
	char what[96];

	snprintf(what, sizeof(what), "edu's write to %s (%#llx)", where, (unsigned long long)gpa);
	if (!load_src(v) || !dma_ok(edu_dma_from_dev(&v->edu, 0, gpa, LEN), "to", gpa))
		return;
	memory_as_expected(what);
}

/* edu reads @gpa: it gets @want */
static void read_served(struct vmm *v, uint64_t gpa, const uint8_t *want, const char *where)
{
	char what[96];

	snprintf(what, sizeof(what), "edu's read of %s (%#llx)", where, (unsigned long long)gpa);
	if (!dma_ok(edu_dma_to_dev(&v->edu, gpa, 0, LEN), "from", gpa) ||
	    !dma_ok(edu_dma_from_dev(&v->edu, 0, READ_DST_GPA, LEN), "to", READ_DST_GPA))
		return;
	TEST_EXPECT(check_bytes(what, v->ram + READ_DST_GPA, want, LEN), "%s", what);
	memcpy(objs[0].shadow + READ_DST_GPA, want, LEN);
	memory_as_expected(what);
}

/* PINNED: DMA at the BAR's GPA is refused, both ways */
static void bar_dma_refused(struct vmm *v, uint64_t bar_gpa)
{
	uint32_t id;

	edu_write32(&v->edu, EDU_REG_LIVENESS, PROBE_VALUE);
	TEST_ASSERT(edu_read32(&v->edu, EDU_REG_LIVENESS) == ~PROBE_VALUE, "edu liveness");
	/* the first 4 bytes of pc.ram at 1 MiB, to the liveness register */
	if (!load_src(v) ||
	    !dma_ok(edu_dma_from_dev(&v->edu, 0, bar_gpa + EDU_REG_LIVENESS, 4), "to", bar_gpa))
		return;
	TEST_EXPECT(edu_read32(&v->edu, EDU_REG_LIVENESS) == ~PROBE_VALUE,
		    "edu's DMA write to its BAR slot (%#llx) reached its registers: liveness %#x",
		    (unsigned long long)bar_gpa, edu_read32(&v->edu, EDU_REG_LIVENESS));
	/* the ID register must not come back */
	if (!dma_ok(edu_dma_to_dev(&v->edu, bar_gpa + EDU_REG_ID, 0, 4), "from", bar_gpa) ||
	    !dma_ok(edu_dma_from_dev(&v->edu, 0, READ_DST_GPA, 4), "to", READ_DST_GPA))
		return;
	memcpy(&id, v->ram + READ_DST_GPA, 4);
	TEST_EXPECT(id != EDU_ID_VALUE, "edu's DMA read of its BAR slot (%#llx) got its ID register",
		    (unsigned long long)bar_gpa);
	memcpy(objs[0].shadow + READ_DST_GPA, v->ram + READ_DST_GPA, 4);
	memory_as_expected("edu's DMA at its BAR slot");
}

static void check_dma(struct vmm *v)
{
	uint8_t before[0x800];
	const uint64_t edge = VGA_HOLE - sizeof(before);

	/* RAM slots: the bytes land, the VMM reads them back */
	write_ram(v, 0x1000);
	write_ram(v, 0x200000);
	write_ram(v, RAM_BELOW - 0x1000);
	read_served(v, 0x300000, v->ram + 0x300000, "RAM");
	/* holes */
	write_nothing(v, VGA_HOLE, "the VGA hole");
	write_nothing(v, RAM_BELOW + MiB, "above RAM below 4 GiB");
	/* across the end of RAM into the VGA hole: only RAM may change */
	memcpy(before, v->ram + edge, sizeof(before));
	if (load_src(v) && dma_ok(edu_dma_from_dev(&v->edu, 0, edge, LEN), "to", edge)) {
		bool landed = !memcmp(v->ram + edge, v->ram + 0x100000, sizeof(before));
		bool kept = !memcmp(v->ram + edge, before, sizeof(before));

		tap_diag("the RAM part of a write across into the VGA hole %s",
			 landed ? "landed" : kept ? "did not land" : "is garbled");
		TEST_EXPECT(landed || kept, "a write across the end of RAM garbled its last bytes");
		memcpy(objs[0].shadow + edge, v->ram + edge, sizeof(before));
		memory_as_expected("edu's write across the end of RAM into the VGA hole");
	}
	/* ROMs: reads served, writes refused */
	read_served(v, OPTROM_GPA, v->optrom, "the option ROM");
	read_served(v, ISABIOS_GPA + 0x10000, v->bios + BIOS_SIZE - ISABIOS_SIZE + 0x10000,
		    "isa-bios");
	write_nothing(v, OPTROM_GPA + 0x100, "the option ROM");
	write_nothing(v, ISABIOS_GPA + 0x1000, "isa-bios");
	/* the BAR (edu's own registers: PINNED only, where it must be refused) */
	if (v->mode == IOMMU_KVM_MODE_PINNED) {
		bar_dma_refused(v, BAR_GPA_B);
		bar_dma_refused(v, BAR_GPA_A);
	}
	TEST_EXPECT(edu_alive(&v->edu), "edu's BAR0 does not answer");
}

static void run(enum run run)
{
	struct vmm v;
	bool ok;

	tap_begin("%s_memory_map_accepted", run_names[run]);
	vmm_begin(&v, run);
	if (run == EARLY)
		attach(&v);
	build_map(&v);
	if (run == LATE)
		attach(&v);
	ok = tap_end();
	if (run == NO_DEVICE) {
		vmm_end(&v);
		return;
	}
	if (!v.attached) {
		tap_begin("%s_slots_listed", run_names[run]);
		tap_skip("edu is not attached");
		tap_begin("%s_io_page_table", run_names[run]);
		tap_skip("edu is not attached");
		tap_begin("%s_dma_reaches_ram_only", run_names[run]);
		tap_skip("edu is not attached");
		vmm_end(&v);
		return;
	}
	tap_diag("edu is %s; memory map %s", v.mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED",
		 ok ? "built" : "built with failures");

	tap_begin("%s_slots_listed", run_names[run]);
	check_slots(&v);
	tap_end();

	tap_begin("%s_io_page_table", run_names[run]);
	check_io_pt(&v);
	tap_end();

	tap_begin("%s_dma_reaches_ram_only", run_names[run]);
	check_dma(&v);
	tap_end();

	vmm_end(&v);
}

int main(void)
{
	tap_plan(9);
	want_mode = shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED;
	tap_diag("expect edu %s", want_mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED");
	run(NO_DEVICE);
	run(EARLY);
	run(LATE);
	tap_finish();
}
