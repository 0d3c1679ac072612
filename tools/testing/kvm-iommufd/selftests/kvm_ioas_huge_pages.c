// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_OPTION_HUGE_PAGES on a KVM-sourced IOAS (DOC: Options of
 * a KVM-sourced IOAS in include/uapi/linux/iommufd_kvm.h):
 *
 * - GET on a new KVM IOAS returns 1.
 * - With 1 and edu attached PINNED (IOMMU_HWPT_ALLOC_KVM_PIN_ONLY) while
 *   memslots exist, the PINNED table maps the THP-backed slot with 2 MiB
 *   IO pages (the control that shows the census below can see them), SET 0
 *   fails with EINVAL and changes nothing (GET 1, same table).
 * - On a new KVM IOAS, SET 0 before any device is attached works and GET
 *   returns 0; edu attached with the default policy (PINNED in the default
 *   profile, SHARED in the shared one) then DMAs into both slots, and a
 *   PINNED table maps every page of every memslot with a 4 KiB IO page.
 *   In the shared profile a PIN_ONLY HWPT is checked the same way.
 *
 * The IO page sizes come from the intel-iommu debugfs dump of edu's
 * table (domain_translation_struct): one line per leaf, whose number of
 * entry columns gives its level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "procfs.h"
#include "shared_vm.h"

#define THP_SLOT	1
#define THP_GPA		0x1000000UL	/* right after the 16 MiB of slot 0 */
#define THP_SIZE	(4UL << 20)
#define THP_PAGES	(THP_SIZE / PAGE_SIZE)
#define TARGET0_GPA	0x100000UL	/* edu writes here in slot 0 */
#define TARGET1_GPA	(THP_GPA + 0x201000UL)	/* and here in the THP slot */
#define SENTINEL	0x3c
#define EDU_TABLE	"/sys/kernel/debug/iommu/intel/" EDU_BDF "/domain_translation_struct"

static struct shared_vm s;

/* IOMMU_OPTION_HUGE_PAGES on @ioas_id; 0 or -errno, *val for GET */
static int huge_pages(uint32_t ioas_id, uint16_t op, uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = op,
		.object_id = ioas_id,
		.val64 = op == IOMMU_OPTION_OP_SET ? *val : ~0ULL,
	};
	int ret = __iommufd_ret(ioctl(s.iommufd, IOMMU_OPTION, &cmd));

	if (!ret && op == IOMMU_OPTION_OP_GET)
		*val = cmd.val64;
	return ret;
}

static uint64_t huge_pages_get(uint32_t ioas_id)
{
	uint64_t val = ~0ULL;
	int ret = huge_pages(ioas_id, IOMMU_OPTION_OP_GET, &val);

	TEST_EXPECT(!ret, "GET HUGE_PAGES: %s", errno_name(-ret));
	return val;
}

static int huge_pages_set(uint32_t ioas_id, uint64_t val)
{
	return huge_pages(ioas_id, IOMMU_OPTION_OP_SET, &val);
}

/* The leaves of edu's IO page table inside [gpa, gpa + size), by size. */
struct census {
	unsigned long n4k, n2m, n1g;
};

static void table_census(uint64_t gpa, uint64_t size, struct census *c)
{
	char line[512], *bar, *p;
	unsigned long leaves = 0;
	FILE *f = fopen(EDU_TABLE, "r");

	memset(c, 0, sizeof(*c));
	TEST_ASSERT(f, "open %s: %s", EDU_TABLE, errno_name(errno));
	/* "0x<IOVA PFN> |\t0x<PML5E>\t0x<PML4E>\t0x<PDPE>[\t0x<PDE>[\t0x<PTE>]]" */
	while (fgets(line, sizeof(line), f)) {
		unsigned long long pfn;
		unsigned int cols = 0;

		bar = strchr(line, '|');
		if (strncmp(line, "0x", 2) || !bar || sscanf(line, "%llx", &pfn) != 1)
			continue;
		leaves++;
		for (p = bar; (p = strstr(p, "0x")); p += 2)
			cols++;
		if (pfn < gpa / PAGE_SIZE || pfn >= (gpa + size) / PAGE_SIZE)
			continue;
		if (cols == 5)
			c->n4k++;
		else if (cols == 4)
			c->n2m++;
		else if (cols == 3)
			c->n1g++;
		else
			TEST_FAIL("leaf line with %u entries: %s", cols, line);
	}
	fclose(f);
	TEST_ASSERT(leaves, "no leaf in %s", EDU_TABLE);
}

static void census_diag(const char *what, const struct census *c)
{
	tap_diag("%s: %lu 4 KiB, %lu 2 MiB, %lu 1 GiB IO pages", what, c->n4k, c->n2m, c->n1g);
}

/* Every page of [gpa, gpa + size) mapped by exactly one 4 KiB IO page. */
static void expect_all_4k(const char *what, uint64_t gpa, uint64_t size)
{
	struct census c;

	table_census(gpa, size, &c);
	census_diag(what, &c);
	TEST_EXPECT_EQ(c.n4k, size / PAGE_SIZE);
	TEST_EXPECT_EQ(c.n2m, 0);
	TEST_EXPECT_EQ(c.n1g, 0);
}

/* edu copies slot 0's pattern into both slots; the bytes must land. */
static void expect_dma(const char *what)
{
	const uint8_t *src = addr_gpa2hva(s.vm, SHARED_SRC_GPA);
	uint64_t gpas[] = { TARGET0_GPA, TARGET1_GPA };
	unsigned int i;

	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "%s: DMA GPA->edu",
		    what);
	for (i = 0; i < 2; i++) {
		uint8_t *host = addr_gpa2hva(s.vm, gpas[i]);

		memset(host, SENTINEL, PAGE_SIZE);
		TEST_ASSERT(!edu_dma_from_dev(&s.edu, 0, gpas[i], SHARED_LEN),
			    "%s: DMA edu->%#llx", what, (unsigned long long)gpas[i]);
		TEST_EXPECT(check_bytes(what, host, src, SHARED_LEN), "%s: DMA to %#llx", what,
			    (unsigned long long)gpas[i]);
		TEST_EXPECT(check_fill(what, host + SHARED_LEN, SENTINEL, PAGE_SIZE - SHARED_LEN),
			    "%s: DMA beyond its bytes", what);
	}
}

static uint32_t attach(uint32_t flags, uint32_t *mode)
{
	uint32_t hwpt_id, reasons;
	int ret;

	ret = _test_ioctl_hwpt_alloc_kvm_flags(s.iommufd, s.edu.dev_id, s.ioas_id, flags,
					       &hwpt_id, mode, &reasons);
	TEST_ASSERT(!ret, "HWPT_ALLOC(flags %#x): %s", flags, errno_name(-ret));
	edu_attach(&s.edu, hwpt_id);
	return hwpt_id;
}

static void detach(uint32_t hwpt_id)
{
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, hwpt_id);
}

/* Slot 1: anonymous memory in transparent huge pages. */
static void add_thp_slot(void)
{
	uint64_t *pfns = calloc(THP_PAGES, sizeof(*pfns));
	uint8_t *mem;
	long thp;

	TEST_ASSERT(pfns, "out of memory");
	TEST_ASSERT(!vm_prealloc_memslot(s.vm, THP_SLOT, THP_SIZE, VM_MEM_ANON), "prealloc");
	mem = s.vm->regions[THP_SLOT].host_mem;
	TEST_ASSERT(!madvise(mem, THP_SIZE, MADV_HUGEPAGE), "MADV_HUGEPAGE: %s",
		    errno_name(errno));
	memset(mem, 0x11, THP_SIZE);
	TEST_ASSERT(pagemap_pfns(mem, THP_PAGES, pfns), "pagemap");
	thp = kpageflags_count(pfns, THP_PAGES, KPF_THP);
	tap_diag("THP slot: %ld of %lu pages in transparent huge pages", thp, THP_PAGES);
	/* the control below needs at least one huge page */
	TEST_ASSERT(thp >= (long)(HUGE_PAGE_SIZE / PAGE_SIZE), "no THP behind the slot");
	free(pfns);
	vm_add_memslot(s.vm, THP_SLOT, THP_GPA, THP_SIZE, 0, VM_MEM_ANON);
}

int main(void)
{
	uint32_t hwpt_id, mode, want_mode;
	struct census c;
	int ret;

	tap_plan(5);
	shared_vm_create(&s);
	add_thp_slot();
	want_mode = shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED;

	tap_begin("get_on_new_ioas_is_1");
	TEST_EXPECT_EQ(huge_pages_get(s.ioas_id), 1);
	tap_end();

	tap_begin("pinned_attached_set0_einval");
	hwpt_id = attach(IOMMU_HWPT_ALLOC_KVM_PIN_ONLY, &mode);
	TEST_EXPECT_EQ(mode, IOMMU_KVM_MODE_PINNED);
	table_census(THP_GPA, THP_SIZE, &c);
	census_diag("THP slot, HUGE_PAGES 1", &c);
	/* the control: huge IO pages where the memory is huge, all covered */
	TEST_EXPECT(c.n2m >= 1, "no 2 MiB IO page over the THP slot");
	TEST_EXPECT_EQ(c.n4k + c.n2m * 512 + c.n1g * 262144, THP_PAGES);
	expect_dma("HUGE_PAGES 1");
	ret = huge_pages_set(s.ioas_id, 0);
	TEST_EXPECT(ret == -EINVAL, "SET 0 with a PINNED device: expected EINVAL, got %s",
		    errno_name(-ret));
	TEST_EXPECT_EQ(huge_pages_get(s.ioas_id), 1);
	{
		struct census after;

		table_census(THP_GPA, THP_SIZE, &after);
		TEST_EXPECT(!memcmp(&c, &after, sizeof(c)), "the table changed");
	}
	expect_dma("after the refused SET 0");
	detach(hwpt_id);
	test_ioctl_destroy(s.iommufd, s.ioas_id);
	tap_end();

	tap_begin("set0_before_attach");
	test_ioctl_ioas_alloc_kvm(s.iommufd, s.vm->fd, &s.ioas_id);
	TEST_EXPECT_EQ(huge_pages_get(s.ioas_id), 1);
	ret = huge_pages_set(s.ioas_id, 0);
	TEST_EXPECT(!ret, "SET 0: %s", errno_name(-ret));
	TEST_EXPECT_EQ(huge_pages_get(s.ioas_id), 0);
	tap_end();

	tap_begin("dma_after_set0");
	hwpt_id = attach(0, &mode);
	TEST_EXPECT_EQ(mode, want_mode);
	tap_diag("edu %s", mode == IOMMU_KVM_MODE_SHARED ? "SHARED" : "PINNED");
	expect_dma("HUGE_PAGES 0");
	if (mode == IOMMU_KVM_MODE_PINNED) {
		expect_all_4k("slot 0, HUGE_PAGES 0", 0, SHARED_VM_RAM);
		expect_all_4k("THP slot, HUGE_PAGES 0", THP_GPA, THP_SIZE);
	}
	TEST_EXPECT_EQ(huge_pages_get(s.ioas_id), 0);
	detach(hwpt_id);
	tap_end();

	tap_begin("pinned_4k_after_set0");
	if (want_mode == IOMMU_KVM_MODE_PINNED) {
		tap_skip("dma_after_set0 checked PINNED");
	} else {
		hwpt_id = attach(IOMMU_HWPT_ALLOC_KVM_PIN_ONLY, &mode);
		TEST_EXPECT_EQ(mode, IOMMU_KVM_MODE_PINNED);
		expect_dma("PINNED, HUGE_PAGES 0");
		expect_all_4k("slot 0, HUGE_PAGES 0", 0, SHARED_VM_RAM);
		expect_all_4k("THP slot, HUGE_PAGES 0", THP_GPA, THP_SIZE);
		detach(hwpt_id);
		tap_end();
	}
	test_ioctl_destroy(s.iommufd, s.ioas_id);

	shared_vm_destroy(&s);
	tap_finish();
}
