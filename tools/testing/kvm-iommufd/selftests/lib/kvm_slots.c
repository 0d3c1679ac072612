// SPDX-License-Identifier: GPL-2.0-only
/* Memslots the devices of a KVM-sourced IOAS cannot use: see kvm_slots.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kvm_slots.h"
#include "procfs.h"
#include "shared_vm.h"
#include "vfio_edu.h"

#define MAX_SLOTS	64
#define IO_PT_PATH	"/sys/kernel/debug/iommu/intel/" EDU_BDF "/domain_translation_struct"
/* address bits of a leaf (VT-d second stage, x86 NPT and first stage alike) */
#define LEAF_ADDR_MASK	0x000ffffffffff000ULL
#define LEAF_WRITE	(1ULL << 1)
/* hva_hole()s: 48 TiB, half way up the 47-bit user address space */
#define HOLE_BASE	0x300000000000UL

int kvm_slots_query(int iommufd, uint32_t ioas_id, uint32_t flags,
		    struct iommu_kvm_slot *slots, uint32_t *nr)
{
	struct iommu_kvm_slots cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.nr_slots = *nr,
		.slots_uptr = (uintptr_t)slots,
	};

	if (ioctl(iommufd, IOMMU_KVM_SLOTS, &cmd))
		return -errno;
	*nr = cmd.nr_slots;
	return 0;
}

const char *kvm_slot_reason_names(uint32_t reasons, char *buf, size_t len)
{
	static const char *const names[] = {
		"UNMAPPED", "PFNMAP", "HVA_READONLY", "RESERVED", "PIN_FAILED",
	};

	return mask_names(reasons, names, sizeof(names) / sizeof(names[0]), buf, len);
}

/* All the IOAS's slots into @slots; false (a failed expectation) on error. */
static bool query_all(int iommufd, uint32_t ioas_id, uint32_t flags,
		      struct iommu_kvm_slot *slots, uint32_t *nr)
{
	int ret;

	*nr = MAX_SLOTS;
	memset(slots, 0xff, MAX_SLOTS * sizeof(*slots));
	ret = kvm_slots_query(iommufd, ioas_id, flags, slots, nr);
	if (ret == -ENOTTY)
		return TEST_EXPECT(0, "IOMMU_KVM_SLOTS: ENOTTY (this kernel has no IOMMU_KVM_SLOTS)");
	if (!TEST_EXPECT(!ret, "IOMMU_KVM_SLOTS(flags %#x): %s", flags, errno_name(-ret)))
		return false;
	return TEST_EXPECT(*nr <= MAX_SLOTS, "IOMMU_KVM_SLOTS: %u slots", *nr);
}

static void diag_slot(const char *pfx, const struct iommu_kvm_slot *e)
{
	char why[64];

	tap_diag("%s%#llx+%#llx reasons %s readonly %u", pfx, (unsigned long long)e->gpa,
		 (unsigned long long)e->size, kvm_slot_reason_names(e->reasons, why, sizeof(why)),
		 e->readonly);
}

static void diag_all(const struct iommu_kvm_slot *slots, uint32_t nr)
{
	uint32_t i;

	tap_diag("IOMMU_KVM_SLOTS lists %u slots:", nr);
	for (i = 0; i < nr; i++)
		diag_slot("  ", &slots[i]);
}

bool kvm_slot_expect(int iommufd, uint32_t ioas_id, uint32_t flags, uint64_t gpa,
		     uint64_t size, uint32_t reasons, uint32_t readonly)
{
	struct iommu_kvm_slot slots[MAX_SLOTS], want = {
		.gpa = gpa, .size = size, .reasons = reasons, .readonly = readonly,
	};
	uint32_t nr, i;

	if (!query_all(iommufd, ioas_id, flags, slots, &nr))
		return false;
	for (i = 0; i < nr; i++) {
		if (slots[i].gpa != gpa)
			continue;
		if (slots[i].size == size && slots[i].reasons == reasons &&
		    slots[i].readonly == readonly)
			return true;
		diag_slot("expected ", &want);
		diag_slot("got      ", &slots[i]);
		return TEST_EXPECT(0, "slot %#llx as the IOAS reports it", (unsigned long long)gpa);
	}
	diag_slot("expected ", &want);
	diag_all(slots, nr);
	return TEST_EXPECT(0, "IOMMU_KVM_SLOTS has no slot at %#llx", (unsigned long long)gpa);
}

bool kvm_slot_expect_absent(int iommufd, uint32_t ioas_id, uint64_t gpa)
{
	struct iommu_kvm_slot slots[MAX_SLOTS];
	uint32_t nr, i;

	if (!query_all(iommufd, ioas_id, 0, slots, &nr))
		return false;
	for (i = 0; i < nr; i++) {
		if (slots[i].gpa != gpa)
			continue;
		diag_slot("still listed: ", &slots[i]);
		return TEST_EXPECT(0, "IOMMU_KVM_SLOTS lists a deleted slot at %#llx",
				   (unsigned long long)gpa);
	}
	return true;
}

bool kvm_slots_expect_all(int iommufd, uint32_t ioas_id,
			  const struct iommu_kvm_slot *want, uint32_t n)
{
	struct iommu_kvm_slot slots[MAX_SLOTS];
	uint32_t nr, i;
	bool ok;

	if (!query_all(iommufd, ioas_id, 0, slots, &nr))
		return false;
	ok = nr == n;
	for (i = 0; ok && i < n; i++)
		ok = slots[i].gpa == want[i].gpa && slots[i].size == want[i].size &&
		     slots[i].reasons == want[i].reasons && slots[i].readonly == want[i].readonly;
	if (ok)
		return true;
	tap_diag("expected %u slots:", n);
	for (i = 0; i < n; i++)
		diag_slot("  ", &want[i]);
	diag_all(slots, nr);
	return TEST_EXPECT(0, "IOMMU_KVM_SLOTS does not list the VM's memslots as expected");
}

int kvm_set_slot(struct kvm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		 uint64_t size, const void *hva)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return _vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m);
}

void *hva_hole(size_t size)
{
	/*
	 * Far from where the kernel places mmap() (top down from below the
	 * stack) and brk: a hole there stays a hole while the test allocates.
	 */
	static uintptr_t next = HOLE_BASE;
	void *p = (void *)next, *q;

	next += (size + 2 * HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
	q = mmap(p, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		 MAP_FIXED_NOREPLACE, -1, 0);
	TEST_ASSERT(q == p, "reserve %zu bytes at %p: %s", size, p, errno_name(errno));
	TEST_ASSERT(!munmap(p, size), "munmap the reservation: %s", errno_name(errno));
	return p;
}

int memfd_of(size_t size)
{
	int fd = memfd_create("kvm_slots", MFD_CLOEXEC);

	TEST_ASSERT(fd >= 0, "memfd_create: %s", errno_name(errno));
	TEST_ASSERT(!ftruncate(fd, size), "ftruncate: %s", errno_name(errno));
	return fd;
}

void *map_memfd(void *addr, size_t size, int prot, int fd, off_t off)
{
	void *p = mmap(addr, size, prot, MAP_SHARED | (addr ? MAP_FIXED : 0), fd, off);

	TEST_ASSERT(p != MAP_FAILED && (!addr || p == addr), "mmap memfd at %p: %s", addr,
		    errno_name(errno));
	return p;
}

/*
 * A line of domain_translation_struct: "0x<iova pfn> |" then PML5E, PML4E
 * and PDPE, and the PDE and PTE when the walk went that deep: 3 entries
 * after the bar is a 1 GiB leaf, 4 a 2 MiB one, 5 a 4 KiB one.
 */
static bool parse_line(const char *line, struct io_pte *e)
{
	unsigned long long pfn, v[5];
	const char *bar = strchr(line, '|');
	int n;

	if (strncmp(line, "0x", 2) || !bar || sscanf(line, "%llx", &pfn) != 1)
		return false;
	n = sscanf(bar + 1, "%llx %llx %llx %llx %llx", &v[0], &v[1], &v[2], &v[3], &v[4]);
	if (n < 3)
		return false;
	e->iova = pfn << 12;
	e->size = n == 3 ? 1ULL << 30 : n == 4 ? 1ULL << 21 : 1ULL << 12;
	e->val = v[n - 1];
	return true;
}

bool io_pt_read(struct io_pt *pt)
{
	size_t cap = 1024;
	char line[512];
	FILE *f;

	pt->n = 0;
	pt->e = malloc(cap * sizeof(*pt->e));
	TEST_ASSERT(pt->e, "out of memory");
	f = fopen(IO_PT_PATH, "r");
	if (!f) {
		tap_diag("open %s: %s", IO_PT_PATH, errno_name(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		struct io_pte e;

		if (!parse_line(line, &e))
			continue;
		if (pt->n == cap) {
			cap *= 2;
			pt->e = realloc(pt->e, cap * sizeof(*pt->e));
			TEST_ASSERT(pt->e, "out of memory");
		}
		pt->e[pt->n++] = e;
	}
	fclose(f);
	return true;
}

void io_pt_free(struct io_pt *pt)
{
	free(pt->e);
	pt->e = NULL;
	pt->n = 0;
}

const struct io_pte *io_pt_lookup(const struct io_pt *pt, uint64_t iova)
{
	size_t lo = 0, hi = pt->n;

	/* the last leaf starting at or below @iova */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pt->e[mid].iova <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (iova - pt->e[lo - 1].iova < pt->e[lo - 1].size)
		return &pt->e[lo - 1];
	return NULL;
}

bool io_pt_expect_maps(const struct io_pt *pt, const char *what, uint64_t gpa,
		       const void *hva, uint64_t size, bool writable)
{
	unsigned long n = size / PAGE_SIZE, i;
	uint64_t *pfns = calloc(n, sizeof(*pfns));
	bool ok = true;

	TEST_ASSERT(pfns, "out of memory");
	if (!TEST_EXPECT(pagemap_pfns(hva, n, pfns), "%s: /proc/self/pagemap shows no PFNs", what)) {
		free(pfns);
		return false;
	}
	for (i = 0; i < n && ok; i++) {
		uint64_t iova = gpa + i * PAGE_SIZE, pa;
		const struct io_pte *e = io_pt_lookup(pt, iova);

		if (!e) {
			ok = TEST_EXPECT(0, "%s: GPA %#llx has no translation", what,
					 (unsigned long long)iova);
			break;
		}
		pa = (e->val & LEAF_ADDR_MASK & ~(e->size - 1)) + (iova - e->iova);
		ok = TEST_EXPECT(pfns[i] && pa == pfns[i] * PAGE_SIZE,
				 "%s: GPA %#llx translates to %#llx (leaf %#llx), the VMM's page is at %#llx",
				 what, (unsigned long long)iova, (unsigned long long)pa,
				 (unsigned long long)e->val, (unsigned long long)(pfns[i] * PAGE_SIZE));
		if (ok)
			ok = TEST_EXPECT(!!(e->val & LEAF_WRITE) == writable,
					 "%s: GPA %#llx leaf %#llx is %s, expected %s", what,
					 (unsigned long long)iova, (unsigned long long)e->val,
					 e->val & LEAF_WRITE ? "writable" : "read-only",
					 writable ? "writable" : "read-only");
	}
	free(pfns);
	return ok;
}

bool io_pt_expect_none(const struct io_pt *pt, const char *what, uint64_t gpa, uint64_t size)
{
	uint64_t iova;

	for (iova = gpa; iova - gpa < size; iova += PAGE_SIZE) {
		const struct io_pte *e = io_pt_lookup(pt, iova);

		if (e)
			return TEST_EXPECT(0, "%s: GPA %#llx translates (leaf %#llx at %#llx)", what,
					   (unsigned long long)iova, (unsigned long long)e->val,
					   (unsigned long long)e->iova);
	}
	return true;
}
