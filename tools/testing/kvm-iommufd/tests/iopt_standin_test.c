// SPDX-License-Identifier: GPL-2.0
/*
 * The io_pagetable stand-in (standin/iopt.c) and the stand-in driver's
 * paging domain (standin/intel_paging_domain.c) on the emulated platform:
 * user memory is a KVM model's memslots (pinned through the stand-in
 * pin_user_pages_fast()), the domain's table is walked by the VT-d model,
 * and the emulated DMA device moves bytes through it.
 *
 * Errnos, each as Linux 6.12 returns it (the upstream function in
 * brackets; see the table in standin/iopt.c):
 *
 *   overlap with an existing area      -EEXIST     [iopt_check_iova]
 *   unmap cutting an area              -ENOENT     [iopt_unmap_iova_range]
 *   unmap of nothing                   0, unmapped 0 [iopt_unmap_iova_range]
 *   iova + length wraps                -EOVERFLOW  [iopt_check_iova]
 *   uptr + length wraps                -EOVERFLOW  [iopt_alloc_pages]
 *   unmap iova + length wraps          -EOVERFLOW  [iopt_unmap_iova]
 *   outside a domain's aperture        -EINVAL     [iopt_check_iova]
 *   add_domain, area outside aperture  -EADDRINUSE [iopt_reserve_iova]
 *   iova misaligned                    -EINVAL     [iopt_check_iova]
 *   length misaligned                  -EINVAL     [iopt_alloc_area_pages]
 *   uptr page offset misaligned        -EINVAL     [iopt_insert_area]
 *   add_domain, sub-page area          -EADDRINUSE [iopt_check_iova_alignment]
 *   map of length 0                    -EINVAL     [iopt_alloc_pages]
 *   unmap of length 0                  -EINVAL     [iopt_unmap_iova]
 *   over RLIMIT_MEMLOCK, USER mode     -ENOMEM     [incr_user_locked_vm]
 *   over RLIMIT_MEMLOCK, MM mode       -ENOMEM     [__account_locked_vm]
 *   user range not pinnable            -EFAULT     [pfn_reader_user_pin]
 *
 * Every failing case checks that nothing was left behind: pins, the
 * user's and the mm's locked_vm, the mm's pinned_vm, areas, leaves in the
 * domains and emulated pages.
 */
#include <stdio.h>

#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include "../standin/intel_kvm_domain.h"
#include "../standin/intel_paging_domain.h"
#include "fixture.h"

#define RAM		(32ULL << 20)	/* slot 0: GPA 0, writable */
#define RO_GPA		(64ULL << 20)	/* slot 1: 1 MiB, read-only */
#define RO_SIZE		(1ULL << 20)
#define NDOMS		2

struct env {
	struct kt_vtd v;		/* memory, VT-d unit, DMA device at KT_SID */
	struct kvm *kvm;		/* the VMM's memory */
	bool vm_destroyed;
	struct device dev;		/* the DMA device, as the driver sees it */
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct iommu_domain *dom[NDOMS];
	bool added[NDOMS];
	int mm_refs;
};

static void *uptr(struct env *e, u64 gpa)
{
	return (void *)kvm_model_hva(e->kvm, gpa);
}

static bool setup(struct env *e, u8 account_mode)
{
	const struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};

	memset(e, 0, sizeof(*e));
	/* teardown() checked these; a failed test may have left them behind */
	kt_mm.memlock_limit = LONG_MAX;
	kt_mm.cap_ipc_lock = false;
	kt_user.locked_vm = 0;
	kt_mm.locked_vm = 0;
	kt_mm.pinned_vm = 0;
	e->mm_refs = kt_mm.refs;
	ASSERT_TRUE(kt_vtd_setup(&e->v, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM, 4, 0));
	e->kvm = kvm_model_create(e->v.pm, &c, &e->vm_destroyed);
	ASSERT_TRUE(e->kvm);
	ASSERT_EQ(kvm_model_set_slot(e->kvm, 0, 0, RAM, false), 0);
	ASSERT_EQ(kvm_model_set_slot(e->kvm, 1, RO_GPA, RO_SIZE, true), 0);
	kt_intel_probe_device(&e->dev, e->v.iommu, KT_SID);
	e->ictx.account_mode = account_mode;
	iopt_init_table(&e->iopt);
	return true;
}

/* Allocate paging domain @i for the device; attach the device to it if @attach. */
static bool domain(struct env *e, int i, bool attach)
{
	struct iommu_domain *d = iommu_paging_domain_alloc(&e->dev);

	ASSERT_FALSE(IS_ERR(d));
	ASSERT_EQ(d->type, IOMMU_DOMAIN_UNMANAGED);
	e->dom[i] = d;
	if (attach)
		ASSERT_EQ(d->ops->attach_dev(d, &e->dev), 0);
	return true;
}

static int add(struct env *e, int i)
{
	int ret = iopt_table_add_domain(&e->iopt, e->dom[i]);

	e->added[i] = !ret;
	return ret;
}

static void remove_domain(struct env *e, int i)
{
	iopt_table_remove_domain(&e->iopt, e->dom[i]);
	e->added[i] = false;
}

static bool teardown(struct env *e)
{
	unsigned long unmapped;
	int i;

	ASSERT_EQ(iopt_unmap_all(&e->iopt, &unmapped), 0);
	for (i = 0; i < NDOMS; i++) {
		if (!e->dom[i])
			continue;
		if (e->added[i])
			remove_domain(e, i);
		kt_paging_domain_detach(e->dom[i], &e->dev);
		iommu_domain_free(e->dom[i]);
	}
	iopt_destroy_table(&e->iopt);
	ASSERT_EQ(kvm_model_pinned(e->kvm), 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_mm.pinned_vm, 0);
	ASSERT_EQ(kt_mm.refs, e->mm_refs);
	kvm_model_close(e->kvm);
	ASSERT_TRUE(e->vm_destroyed);
	kt_mm.memlock_limit = LONG_MAX;
	kt_mm.cap_ipc_lock = false;
	ASSERT_TRUE(kt_vtd_teardown(&e->v));
	return true;
}

/* Pins, charges (user locked_vm, mm locked_vm) and areas are these. */
static bool state_is(struct env *e, long pinned, long user_locked, long mm_locked,
		     unsigned long areas)
{
	ASSERT_EQ(kvm_model_pinned(e->kvm), pinned);
	ASSERT_EQ(kt_iopt_npinned(&e->iopt), pinned);
	ASSERT_EQ(kt_mm.pinned_vm, pinned);
	ASSERT_EQ(kt_user.locked_vm, user_locked);
	ASSERT_EQ(kt_mm.locked_vm, mm_locked);
	ASSERT_EQ(kt_iopt_nr_areas(&e->iopt), areas);
	return true;
}

/* Emulated pages other than guest memory and the domains' tables. */
static long loose_pages(struct env *e)
{
	long n = phys_allocated(e->v.pm) - kvm_model_backed(e->kvm) - e->kvm->table_pages;
	int i;

	for (i = 0; i < NDOMS; i++)
		if (e->dom[i])
			n -= to_kt_paging_domain(e->dom[i])->ss.table_pages;
	return n;
}

/* @d translates nothing in [iova, iova + len). */
static bool maps_nothing(struct iommu_domain *d, u64 iova, u64 len)
{
	u64 off;

	for (off = 0; off < len; off += PAGE_SIZE)
		ASSERT_EQ(iommu_iova_to_phys(d, iova + off), 0);
	return true;
}

/* @d translates [iova, iova + len) to the host pages behind [gpa, ...). */
static bool maps(struct env *e, struct iommu_domain *d, u64 iova, u64 gpa, u64 len)
{
	u64 off;

	for (off = 0; off < len; off += PAGE_SIZE) {
		ASSERT_NE(kvm_model_backing(e->kvm, gpa + off), 0);
		ASSERT_EQ(iommu_iova_to_phys(d, iova + off),
			  kvm_model_backing(e->kvm, gpa + off));
	}
	return true;
}

/* The VMM touches [gpa, gpa + len) page by page, upwards or downwards. */
static bool touch(struct env *e, u64 gpa, u64 len, bool downwards)
{
	u64 i, n = len >> PAGE_SHIFT;

	for (i = 0; i < n; i++) {
		u64 g = gpa + (downwards ? n - 1 - i : i) * PAGE_SIZE;
		struct page *p;

		ASSERT_EQ(pin_user_pages_fast((unsigned long)uptr(e, g), 1, FOLL_WRITE, &p), 1);
		unpin_user_pages(&p, 1);
	}
	return true;
}

/* Back [gpa, gpa + len) with one physically contiguous, @len-aligned block. */
static bool touch_contiguous(struct env *e, u64 gpa, u64 len)
{
	unsigned int order = __builtin_ctzll(len) - PAGE_SHIFT;
	u64 blk = phys_alloc(e->v.pm, order), off;

	ASSERT_NE(blk, 0);
	phys_free(e->v.pm, blk, order);
	e->v.pm->next = blk >> PAGE_SHIFT;	/* the next pages come from there */
	ASSERT_TRUE(touch(e, gpa, len, false));
	for (off = 0; off < len; off += PAGE_SIZE)
		ASSERT_EQ(kvm_model_backing(e->kvm, gpa + off), blk + off);
	return true;
}

static int map(struct env *e, unsigned long iova, u64 gpa, unsigned long len, int prot)
{
	return iopt_map_user_pages(&e->ictx, &e->iopt, &iova, uptr(e, gpa), len, prot, 0);
}

#define RW	(IOMMU_READ | IOMMU_WRITE)

/* The leaf size the VT-d model walks for the device at @iova (0: fault). */
static unsigned int leaf_shift(struct env *e, u64 iova)
{
	unsigned long long hpa;
	unsigned int shift = 0;

	if (vtd_translate(e->v.hw, KT_SID, VTDM_NO_PASID, iova, false, &hpa, &shift))
		return 0;
	return shift;
}

/* ---- errnos ---- */

TEST(iopt_map_overlap_is_eexist)
{
	struct env e;
	long loose;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_TRUE(touch(&e, 0x40000, 0x20000, false));
	loose = loose_pages(&e);

	ASSERT_ERRNO(-EEXIST, map(&e, 0x100000, 0x40000, 0x10000, RW));	/* same */
	ASSERT_ERRNO(-EEXIST, map(&e, 0x108000, 0x40000, 0x10000, RW));	/* tail */
	ASSERT_ERRNO(-EEXIST, map(&e, 0x0f8000, 0x40000, 0x10000, RW));	/* head */
	ASSERT_ERRNO(-EEXIST, map(&e, 0x0f0000, 0x40000, 0x20000, RW));	/* cover */
	ASSERT_ERRNO(-EEXIST, map(&e, 0x104000, 0x40000, 0x1000, RW));	/* inside */
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_EQ(loose_pages(&e), loose);
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x0f0000, 0x10000));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x100000, 0x10000, 0x10000));
	/* adjacent on both sides is fine */
	ASSERT_EQ(map(&e, 0x0f0000, 0x40000, 0x10000, RW), 0);
	ASSERT_EQ(map(&e, 0x110000, 0x50000, 0x10000, RW), 0);
	ASSERT_TRUE(state_is(&e, 48, 48, 0, 3));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_unmap_cutting_an_area_is_enoent)
{
	unsigned long unmapped = 1;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_EQ(map(&e, 0x200000, 0x20000, 0x10000, RW), 0);

	/* inside, head, tail of the first area: nothing unmapped */
	ASSERT_ERRNO(-ENOENT, iopt_unmap_iova(&e.iopt, 0x104000, 0x1000, &unmapped));
	ASSERT_EQ(unmapped, 0);
	ASSERT_ERRNO(-ENOENT, iopt_unmap_iova(&e.iopt, 0x0ff000, 0x2000, &unmapped));
	ASSERT_ERRNO(-ENOENT, iopt_unmap_iova(&e.iopt, 0x10f000, 0x2000, &unmapped));
	ASSERT_EQ(unmapped, 0);
	ASSERT_TRUE(state_is(&e, 32, 32, 0, 2));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x100000, 0x10000, 0x10000));

	/*
	 * Covering the first area and cutting the second: upstream unmaps
	 * the areas it passed before the one it cannot cut.
	 */
	ASSERT_ERRNO(-ENOENT, iopt_unmap_iova(&e.iopt, 0x100000, 0x108000, &unmapped));
	ASSERT_EQ(unmapped, 0x10000);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x100000, 0x10000));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x200000, 0x20000, 0x10000));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_unmap_of_nothing_unmaps_zero_bytes)
{
	unsigned long unmapped = 1;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x100000, 0x10000, &unmapped), 0);
	ASSERT_EQ(unmapped, 0);
	ASSERT_EQ(iopt_unmap_all(&e.iopt, &unmapped), 0);
	ASSERT_EQ(unmapped, 0);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	unmapped = 1;
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x200000, 0x10000, &unmapped), 0);
	ASSERT_EQ(unmapped, 0);
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x0f0000, 0x10000, &unmapped), 0);	/* just below */
	ASSERT_EQ(unmapped, 0);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	/* the whole address space covers the area */
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0, ULONG_MAX, &unmapped), 0);
	ASSERT_EQ(unmapped, 0x10000);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_out_of_range_and_overflow)
{
	unsigned long unmapped, iova;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	/* iova + length wraps */
	ASSERT_ERRNO(-EOVERFLOW, map(&e, ULONG_MAX - 0xfff, 0x10000, 0x2000, RW));
	/* uptr + length wraps */
	iova = 0x100000;
	ASSERT_ERRNO(-EOVERFLOW, iopt_map_user_pages(&e.ictx, &e.iopt, &iova,
						     (void *)(ULONG_MAX - 0xfff), 0x2000,
						     RW, 0));
	/* a length the iommu API cannot express */
	ASSERT_ERRNO(-EINVAL, iopt_map_user_pages(&e.ictx, &e.iopt, &iova, uptr(&e, 0),
						  ULONG_MAX - 0x800, RW, 0));
	ASSERT_ERRNO(-EOVERFLOW, iopt_unmap_iova(&e.iopt, ULONG_MAX - 0xfff, 0x2000,
						 &unmapped));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));

	/* with a domain, IOVA beyond its 48-bit aperture is reserved */
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(e.dom[0]->geometry.aperture_end, (1ULL << 48) - 1);
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_ERRNO(-EINVAL, map(&e, 1UL << 48, 0x10000, 0x10000, RW));
	ASSERT_ERRNO(-EINVAL, map(&e, (1UL << 48) - 0x8000, 0x10000, 0x10000, RW));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));

	/* without one it is not; adding the domain then fails */
	remove_domain(&e, 0);
	ASSERT_EQ(map(&e, 1UL << 48, 0x10000, 0x10000, RW), 0);
	ASSERT_ERRNO(-EADDRINUSE, add(&e, 0));
	ASSERT_EQ(e.iopt.next_domain_id, 0);
	ASSERT_EQ(e.iopt.iova_alignment, 1);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0, 0x10000));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_misaligned_is_einval)
{
	unsigned long iova;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(e.iopt.iova_alignment, PAGE_SIZE);
	ASSERT_ERRNO(-EINVAL, map(&e, 0x100800, 0x10000, 0x10000, RW));	/* iova */
	ASSERT_ERRNO(-EINVAL, map(&e, 0x100000, 0x10000, 0x10800, RW));	/* length */
	/* uptr's page offset differs from the (aligned) iova's */
	ASSERT_ERRNO(-EINVAL, map(&e, 0x100000, 0x10800, 0x10000, RW));
	ASSERT_ERRNO(-EINVAL, map(&e, 0x100800, 0x10800, 0x10000, RW));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x100000, 0x11000));
	remove_domain(&e, 0);
	ASSERT_EQ(e.iopt.iova_alignment, 1);

	/*
	 * Without a domain any alignment goes (an offset into the page that
	 * differs from the iova's included), nothing is pinned; a domain
	 * with 4 KiB pages cannot be added over it.
	 */
	iova = 0x2000;
	ASSERT_EQ(iopt_map_user_pages(&e.ictx, &e.iopt, &iova, (char *)uptr(&e, 0x10000) + 0x10,
				      0x100, RW, 0), 0);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	ASSERT_ERRNO(-EADDRINUSE, add(&e, 0));
	ASSERT_EQ(e.iopt.iova_alignment, 1);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x2000, 0x100, &iova), 0);
	ASSERT_EQ(iova, 0x100);
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_zero_length_is_einval)
{
	unsigned long unmapped;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_ERRNO(-EINVAL, map(&e, 0x100000, 0x10000, 0, RW));
	ASSERT_ERRNO(-EINVAL, iopt_unmap_iova(&e.iopt, 0x100000, 0, &unmapped));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_ERRNO(-EINVAL, map(&e, 0x100000, 0x10000, 0, RW));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_unpinnable_user_memory_is_efault)
{
	unsigned long iova = 0x100000;
	struct env e;
	long loose;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	loose = loose_pages(&e);
	/* the last 8 pages of the memslot and 8 beyond it: pins the first 8, then fails */
	ASSERT_ERRNO(-EFAULT, map(&e, 0x100000, RAM - 0x8000, 0x10000, RW));
	/* not a VMM address at all */
	ASSERT_ERRNO(-EFAULT, iopt_map_user_pages(&e.ictx, &e.iopt, &iova, (void *)0x10000,
						  0x10000, RW, 0));
	/* the read-only slot, mapped writable (FOLL_WRITE) */
	ASSERT_ERRNO(-EFAULT, map(&e, 0x100000, RO_GPA, 0x10000, RW));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x100000, 0x10000));
	ASSERT_EQ(loose_pages(&e), loose);
	/* and mapped read-only it pins */
	ASSERT_EQ(map(&e, 0x100000, RO_GPA, 0x10000, IOMMU_READ), 0);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(teardown(&e));
	return true;
}

/*
 * Map N pages over a limit of N - 1, at add_domain time and at map time.
 * @refused: out, whether the charge was refused; @user, @mm: the user's
 * and the mm's locked_vm when it was not.
 */
static bool limit_scenario(u8 mode, bool cap, bool *refused, long *user, long *mm)
{
	const long n = 16;
	struct env e;
	int ret;

	ASSERT_TRUE(setup(&e, mode));
	kt_mm.memlock_limit = n - 1;
	kt_mm.cap_ipc_lock = cap;
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_EQ(map(&e, 0x100000, 0x10000, n * PAGE_SIZE, RW), 0);	/* lazy: no charge */
	ret = add(&e, 0);
	*refused = ret != 0;
	if (ret) {
		ASSERT_EQ(ret, -ENOMEM);
		ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
		ASSERT_EQ(e.iopt.next_domain_id, 0);
		ASSERT_TRUE(maps_nothing(e.dom[0], 0x100000, n * PAGE_SIZE));
		/* and at map time, with a domain already there */
		ASSERT_EQ(iopt_unmap_all(&e.iopt, NULL), 0);
		ASSERT_EQ(add(&e, 1), 0);
		ASSERT_ERRNO(-ENOMEM, map(&e, 0x100000, 0x10000, n * PAGE_SIZE, RW));
		ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));
		ASSERT_TRUE(maps_nothing(e.dom[1], 0x100000, n * PAGE_SIZE));
		/* a charge that fits goes through, the next page does not */
		ASSERT_EQ(map(&e, 0x100000, 0x10000, (n - 1) * PAGE_SIZE, RW), 0);
		ASSERT_ERRNO(-ENOMEM, map(&e, 0x200000, 0x30000, PAGE_SIZE, RW));
		ASSERT_TRUE(state_is(&e, n - 1, mode == IOPT_PAGES_ACCOUNT_MM ? 0 : n - 1,
				     mode == IOPT_PAGES_ACCOUNT_MM ? n - 1 : 0, 1));
		ASSERT_TRUE(maps_nothing(e.dom[1], 0x200000, PAGE_SIZE));
	} else {
		ASSERT_EQ(map(&e, 0x200000, 0x30000, n * PAGE_SIZE, RW), 0);
		ASSERT_EQ(kvm_model_pinned(e.kvm), 2 * n);
		ASSERT_EQ(kt_mm.pinned_vm, 2 * n);
		*user = kt_user.locked_vm;
		*mm = kt_mm.locked_vm;
	}
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_memlock_limit_user_mode_is_enomem)
{
	bool refused = false;
	long user, mm;

	ASSERT_TRUE(limit_scenario(IOPT_PAGES_ACCOUNT_USER, false, &refused, &user, &mm));
	ASSERT_TRUE(refused);
	return true;
}

TEST(iopt_memlock_limit_user_mode_cap_ipc_lock_bypasses)
{
	long user = -1, mm = -1;
	bool refused = true;

	ASSERT_TRUE(limit_scenario(IOPT_PAGES_ACCOUNT_USER, true, &refused, &user, &mm));
	ASSERT_FALSE(refused);
	ASSERT_EQ(user, 0);		/* ACCOUNT_NONE: only pinned_vm */
	ASSERT_EQ(mm, 0);
	return true;
}

TEST(iopt_memlock_limit_mm_mode_is_enomem)
{
	bool refused = false;
	long user, mm;

	ASSERT_TRUE(limit_scenario(IOPT_PAGES_ACCOUNT_MM, false, &refused, &user, &mm));
	ASSERT_TRUE(refused);
	return true;
}

TEST(iopt_memlock_limit_mm_mode_cap_ipc_lock_bypasses)
{
	long user = -1, mm = -1;
	bool refused = true;

	ASSERT_TRUE(limit_scenario(IOPT_PAGES_ACCOUNT_MM, true, &refused, &user, &mm));
	ASSERT_FALSE(refused);
	ASSERT_EQ(user, 0);
	ASSERT_EQ(mm, 0);
	return true;
}

TEST(iopt_charges_user_or_mm_by_mode)
{
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(teardown(&e));

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_MM));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_TRUE(state_is(&e, 16, 0, 16, 1));
	ASSERT_TRUE(teardown(&e));
	return true;
}

/* ---- pinning, domains and DMA ---- */

TEST(iopt_map_before_add_domain_pins_lazily)
{
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_EQ(map(&e, 0x400000, 0x80000, 0x3000, IOMMU_READ), 0);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 2));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_TRUE(state_is(&e, 19, 19, 0, 2));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x100000, 0x10000, 0x10000));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x400000, 0x80000, 0x3000));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x403000, 0x1000));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_map_after_add_domain_pins_at_once)
{
	unsigned long unmapped;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x100000, 0x10000, 0x10000));
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x100000, 0x10000, &unmapped), 0);
	ASSERT_EQ(unmapped, 0x10000);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 0));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x100000, 0x10000));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_dma_through_paging_domain)
{
	u8 out[300], in[300], probe[8] = { 0 };
	struct vtdm_fault f;
	struct env e;
	u64 hpa, i, syncs;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_EQ(kt_intel_ss_pointer(e.v.iommu, KT_SID),
		  to_kt_paging_domain(e.dom[0])->ss.root);
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x4000, RW), 0);
	ASSERT_EQ(map(&e, 0x300000, RO_GPA, 0x1000, IOMMU_READ), 0);
	ASSERT_EQ(add(&e, 0), 0);

	/* device -> memory: the bytes land in the pinned page */
	for (i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 7 + 1);
	ASSERT_EQ(dma_write(&e.v.dev, 0x101ff0, out, sizeof(out)), 0);	/* crosses a page */
	ASSERT_NE(kvm_model_backing(e.kvm, 0x11000), 0);
	hpa = kvm_model_backing(e.kvm, 0x11000) + 0xff0;
	ASSERT_EQ(memcmp(phys_va(e.v.pm, hpa), out, 16), 0);
	ASSERT_EQ(memcmp(phys_va(e.v.pm, kvm_model_backing(e.kvm, 0x12000)), out + 16,
			 sizeof(out) - 16), 0);
	/* memory -> device */
	ASSERT_EQ(dma_read(&e.v.dev, 0x101ff0, in, sizeof(in)), 0);
	ASSERT_EQ(memcmp(in, out, sizeof(in)), 0);
	/* a read-only area reads, but does not take writes */
	ASSERT_EQ(dma_read(&e.v.dev, 0x300000, in, 8), 0);
	ASSERT_ERRNO(-EFAULT, dma_write(&e.v.dev, 0x300000, out, 8));
	ASSERT_TRUE(vtd_fault_pop(e.v.hw, &f));
	ASSERT_EQ(f.reason, VTDM_F_SS_WRITE);
	/* an unmapped IOVA is blocked */
	ASSERT_ERRNO(-EFAULT, dma_write(&e.v.dev, 0x104000, out, 8));
	ASSERT_TRUE(vtd_fault_pop(e.v.hw, &f));
	ASSERT_EQ(f.reason, VTDM_F_SS_NP);
	ASSERT_EQ(f.addr, 0x104000);

	/* after unmap (the IOTLB holds 0x101000 now), DMA there is blocked too */
	syncs = to_kt_paging_domain(e.dom[0])->syncs;
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x100000, 0x4000, NULL), 0);
	ASSERT_GT(to_kt_paging_domain(e.dom[0])->syncs, syncs);
	ASSERT_ERRNO(-EFAULT, dma_write(&e.v.dev, 0x101ff0, probe, sizeof(probe)));
	ASSERT_TRUE(vtd_fault_pop(e.v.hw, &f));
	ASSERT_EQ(f.reason, VTDM_F_SS_NP);
	ASSERT_EQ(memcmp(phys_va(e.v.pm, hpa), out, 8), 0);	/* untouched */
	ASSERT_EQ(vtd_stats(e.v.hw).freed_table_reads, 0);
	ASSERT_TRUE(state_is(&e, 1, 1, 0, 1));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_huge_leaf_when_contiguous)
{
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(e.dom[0]->pgsize_bitmap & SZ_2M);
	ASSERT_EQ(add(&e, 0), 0);

	/* 4 MiB, physically contiguous and 2 MiB aligned, at a 2 MiB aligned IOVA */
	ASSERT_TRUE(touch_contiguous(&e, 0x400000, 0x400000));
	ASSERT_EQ(map(&e, 0x40000000, 0x400000, 0x400000, RW), 0);
	ASSERT_EQ(leaf_shift(&e, 0x40000000), 21);
	ASSERT_EQ(leaf_shift(&e, 0x40000000 + 0x3ff000), 21);
	ASSERT_TRUE(maps(&e, e.dom[0], 0x40000000, 0x400000, 0x400000));

	/* the same pages at an IOVA that is not 2 MiB aligned: 4 KiB leaves */
	ASSERT_EQ(map(&e, 0x80001000, 0x400000, 0x200000, RW), 0);
	ASSERT_EQ(leaf_shift(&e, 0x80001000), 12);
	ASSERT_EQ(leaf_shift(&e, 0x80200000), 12);

	/* 2 MiB touched downwards: not contiguous upwards, 4 KiB leaves */
	ASSERT_TRUE(touch(&e, 0x800000, 0x200000, true));
	ASSERT_EQ(map(&e, 0xc0000000, 0x800000, 0x200000, RW), 0);
	ASSERT_EQ(leaf_shift(&e, 0xc0000000), 12);
	ASSERT_TRUE(maps(&e, e.dom[0], 0xc0000000, 0x800000, 0x200000));

	/* unmapping a huge leaf: blocked afterwards, cached translation gone */
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, 0x40000000, 0x400000, NULL), 0);
	ASSERT_EQ(leaf_shift(&e, 0x40000000), 0);
	ASSERT_EQ(leaf_shift(&e, 0x40200000), 0);
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x40000000, 0x400000));

	/* the second mapping's pins stay */
	ASSERT_TRUE(state_is(&e, 1024, 1024, 0, 2));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_remove_domain_unpins)
{
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_EQ(map(&e, 0x100000, 0x10000, 0x10000, RW), 0);
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(add(&e, 1), 0);
	/* two domains: each page pinned and charged once */
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x100000, 0x10000, 0x10000));
	ASSERT_TRUE(maps(&e, e.dom[1], 0x100000, 0x10000, 0x10000));
	/* a map reaches both */
	ASSERT_EQ(map(&e, 0x200000, 0x30000, 0x2000, RW), 0);
	ASSERT_TRUE(maps(&e, e.dom[1], 0x200000, 0x30000, 0x2000));
	ASSERT_EQ(leaf_shift(&e, 0x201000), 12);
	ASSERT_TRUE(state_is(&e, 18, 18, 0, 2));

	/* removing one keeps the pins; it maps nothing any more */
	remove_domain(&e, 0);
	ASSERT_TRUE(state_is(&e, 18, 18, 0, 2));
	ASSERT_TRUE(maps_nothing(e.dom[0], 0x100000, 0x10000));
	ASSERT_EQ(leaf_shift(&e, 0x201000), 0);		/* and was flushed */
	ASSERT_TRUE(maps(&e, e.dom[1], 0x200000, 0x30000, 0x2000));
	/* removing the last unpins and uncharges; the areas stay */
	remove_domain(&e, 1);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 2));
	ASSERT_EQ(e.iopt.iova_alignment, 1);
	ASSERT_TRUE(maps_nothing(e.dom[1], 0x100000, 0x10000));
	/* and adding one again pins again */
	ASSERT_EQ(add(&e, 1), 0);
	ASSERT_TRUE(state_is(&e, 18, 18, 0, 2));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_alloc_iova_finds_aligned_free_space)
{
	unsigned long a = 0, b = 0, unmapped;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(map(&e, 0x10000, 0x10000, 0x10000, RW), 0);	/* fixed, 64K at 64K */
	ASSERT_EQ(iopt_map_user_pages(&e.ictx, &e.iopt, &a, uptr(&e, 0x100000), 0x10000, RW,
				      IOPT_ALLOC_IOVA), 0);
	ASSERT_EQ(iopt_map_user_pages(&e.ictx, &e.iopt, &b, uptr(&e, 0x200000), 0x3000, RW,
				      IOPT_ALLOC_IOVA), 0);
	ASSERT_GE(a, PAGE_SIZE);
	ASSERT_EQ(a & 0xffff, 0);			/* the length's alignment */
	ASSERT_TRUE(a >= 0x20000 || a + 0x10000 <= 0x10000);
	ASSERT_EQ(b & 0x3fff, 0);
	ASSERT_TRUE(b + 0x3000 <= a || b >= a + 0x10000);
	ASSERT_TRUE(b + 0x3000 <= 0x10000 || b >= 0x20000);
	ASSERT_TRUE(maps(&e, e.dom[0], a, 0x100000, 0x10000));
	ASSERT_TRUE(maps(&e, e.dom[0], b, 0x200000, 0x3000));
	/* a length whose power of two would overflow */
	ASSERT_ERRNO(-EOVERFLOW, iopt_map_user_pages(&e.ictx, &e.iopt, &a, uptr(&e, 0),
						     1UL << 63, RW, IOPT_ALLOC_IOVA));
	ASSERT_EQ(iopt_unmap_all(&e.iopt, &unmapped), 0);
	ASSERT_EQ(unmapped, 0x23000);
	ASSERT_TRUE(teardown(&e));
	return true;
}

/* ---- the paging domain itself ---- */

TEST(paging_domain_superpage_over_emptied_table_and_1g_leaf)
{
	struct kt_paging_domain *pd;
	struct env e;
	u64 hpa, tables;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	pd = to_kt_paging_domain(e.dom[0]);
	ASSERT_EQ(e.dom[0]->pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	hpa = phys_alloc(e.v.pm, 9);
	ASSERT_NE(hpa, 0);

	/* 4 KiB leaves, unmapped: their table stays, empty */
	ASSERT_EQ(iommu_map(e.dom[0], 0x200000, hpa, 0x1000, RW, GFP_KERNEL), 0);
	ASSERT_EQ(iommu_map(e.dom[0], 0x3ff000, hpa + 0x1ff000, 0x1000, RW, GFP_KERNEL), 0);
	ASSERT_EQ(leaf_shift(&e, 0x200000), 12);
	ASSERT_EQ(iommu_unmap(e.dom[0], 0x200000, 0x1000), 0x1000);
	ASSERT_EQ(iommu_unmap(e.dom[0], 0x3ff000, 0x1000), 0x1000);
	tables = pd->ss.table_pages;
	/* a 2 MiB leaf there unlinks that table, flushes, frees it */
	ASSERT_EQ(iommu_map(e.dom[0], 0x200000, hpa, SZ_2M, RW, GFP_KERNEL), 0);
	ASSERT_EQ(pd->superpage_switches, 1);
	ASSERT_EQ(pd->ss.table_pages, tables - 1);
	ASSERT_EQ(leaf_shift(&e, 0x200000), 21);
	ASSERT_EQ(leaf_shift(&e, 0x3ff000), 21);
	ASSERT_EQ(iommu_iova_to_phys(e.dom[0], 0x212345), hpa + 0x12345);
	/* a live leaf is in the way of any other */
	ASSERT_ERRNO(-EEXIST, iommu_map(e.dom[0], 0x200000, hpa, 0x1000, RW, GFP_KERNEL));
	ASSERT_ERRNO(-EEXIST, iommu_map(e.dom[0], 0x3ff000, hpa, 0x1000, RW, GFP_KERNEL));
	ASSERT_ERRNO(-EEXIST, iommu_map(e.dom[0], 0x200000, hpa, SZ_2M, RW, GFP_KERNEL));
	ASSERT_ERRNO(-EEXIST, iommu_map(e.dom[0], 0x0, SZ_1G, SZ_1G, RW, GFP_KERNEL));
	ASSERT_EQ(iommu_iova_to_phys(e.dom[0], 0x0), 0);
	/* a 4 KiB unmap of a 2 MiB leaf unmaps the whole leaf */
	ASSERT_EQ(iommu_unmap(e.dom[0], 0x200000, 0x1000), SZ_2M);
	ASSERT_EQ(leaf_shift(&e, 0x200000), 0);

	/* 1 GiB: a translation check (no memory behind it is touched) */
	ASSERT_EQ(iommu_map(e.dom[0], SZ_1G, SZ_1G, SZ_1G, IOMMU_READ, GFP_KERNEL), 0);
	ASSERT_EQ(leaf_shift(&e, SZ_1G + 0x12345000), 30);
	ASSERT_EQ(iommu_iova_to_phys(e.dom[0], SZ_1G + 0x123), SZ_1G + 0x123);
	ASSERT_EQ(iommu_unmap(e.dom[0], SZ_1G, SZ_1G), SZ_1G);
	ASSERT_EQ(leaf_shift(&e, SZ_1G), 0);

	/* beyond the aperture; no permission; misaligned */
	ASSERT_ERRNO(-EFAULT, iommu_map(e.dom[0], 1ULL << 48, hpa, 0x1000, RW, GFP_KERNEL));
	ASSERT_ERRNO(-EINVAL, iommu_map(e.dom[0], 0x1000, hpa, 0x1000, 0, GFP_KERNEL));
	ASSERT_ERRNO(-EINVAL, iommu_map(e.dom[0], 0x1800, hpa, 0x1000, RW, GFP_KERNEL));
	ASSERT_EQ(vtd_stats(e.v.hw).freed_table_reads, 0);
	phys_free(e.v.pm, hpa, 9);
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(paging_domain_on_a_39_bit_unit)
{
	struct iommu_domain *d;
	struct kt_vtd v;
	struct device dev;

	ASSERT_TRUE(kt_vtd_setup(&v, VTDM_QEMU_CAP_AW39, VTDM_QEMU_ECAP_SM, 3, 0));
	kt_intel_probe_device(&dev, v.iommu, KT_SID);
	d = iommu_paging_domain_alloc(&dev);
	ASSERT_FALSE(IS_ERR(d));
	ASSERT_EQ(to_kt_paging_domain(d)->ss.levels, 3);
	ASSERT_EQ(d->geometry.aperture_end, (1ULL << 39) - 1);
	ASSERT_EQ(d->ops->attach_dev(d, &dev), 0);
	ASSERT_EQ(iommu_map(d, 0x5000, v.ram, 0x1000, RW, GFP_KERNEL), 0);
	ASSERT_EQ(dma_write(&v.dev, 0x5010, "dma", 4), 0);
	ASSERT_EQ(memcmp((char *)phys_va(v.pm, v.ram) + 0x10, "dma", 4), 0);
	ASSERT_ERRNO(-EFAULT, iommu_map(d, 1ULL << 39, v.ram, 0x1000, RW, GFP_KERNEL));
	ASSERT_EQ(iommu_unmap(d, 0x5000, 0x1000), 0x1000);
	ASSERT_ERRNO(-EFAULT, dma_write(&v.dev, 0x5010, "dma", 4));
	ASSERT_EQ(kt_paging_domain_detach(d, &dev), 0);
	iommu_domain_free(d);
	ASSERT_TRUE(kt_vtd_teardown(&v));
	return true;
}

/* ---- fault injection: every failure leaves nothing behind ---- */

/*
 * Run @op once to count its fault points, undo it with @undo, then fail
 * each point in turn: the op must fail and leave the state @check accepts
 * (the state before the op).
 */
typedef int (*kt_op_fn)(struct env *e);

static bool sweep(struct env *e, kt_op_fn op, void (*undo)(struct env *e),
		  bool (*check)(struct env *e, long loose))
{
	long loose = loose_pages(e);
	int points, nth, ret;

	kt_fail_nth_set(0);
	ASSERT_EQ(op(e), 0);
	points = kt_fault_points_seen();
	undo(e);
	ASSERT_TRUE(check(e, loose));
	ASSERT_GT(points, 0);
	for (nth = 1; nth <= points; nth++) {
		kt_fail_nth_set(nth);
		ret = op(e);
		ASSERT_TRUE(kt_fault_injected());
		kt_fail_nth_set(0);
		if (ret != -ENOMEM && ret != -EFAULT)
			printf("#   fault point %d of %d: %d\n", nth, points, ret);
		ASSERT_TRUE(ret == -ENOMEM || ret == -EFAULT);
		if (!check(e, loose)) {
			printf("#   after fault point %d of %d\n", nth, points);
			return false;
		}
	}
	printf("#   %d fault points swept on the io_pagetable\n", points);
	return true;
}

/* Area A: 2 MiB contiguous plus pages from elsewhere, several map calls. */
#define A_IOVA	0x40000000UL
#define A_GPA	0x400000ULL
#define A_LEN	0x210000UL
#define B_IOVA	0x100000UL

static int op_map_a(struct env *e)
{
	return map(e, A_IOVA, A_GPA, A_LEN, RW);
}

static void undo_map_a(struct env *e)
{
	unsigned long unmapped = 0;

	WARN_ON(iopt_unmap_iova(&e->iopt, A_IOVA, A_LEN, &unmapped) || unmapped != A_LEN);
}

/* Only B is mapped: 16 pages, in both domains. */
static bool check_only_b(struct env *e, long loose)
{
	ASSERT_TRUE(state_is(e, 16, 16, 0, 1));
	ASSERT_TRUE(maps_nothing(e->dom[0], A_IOVA, A_LEN));
	ASSERT_TRUE(maps_nothing(e->dom[1], A_IOVA, A_LEN));
	ASSERT_TRUE(maps(e, e->dom[0], B_IOVA, 0x10000, 0x10000));
	ASSERT_TRUE(maps(e, e->dom[1], B_IOVA, 0x10000, 0x10000));
	ASSERT_EQ(loose_pages(e), loose);
	return true;
}

TEST(iopt_fail_nth_map_leaves_nothing)
{
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(add(&e, 1), 0);
	ASSERT_TRUE(touch_contiguous(&e, A_GPA, SZ_2M));
	ASSERT_TRUE(touch(&e, A_GPA + SZ_2M, A_LEN - SZ_2M, true));
	ASSERT_EQ(map(&e, B_IOVA, 0x10000, 0x10000, RW), 0);
	ASSERT_TRUE(sweep(&e, op_map_a, undo_map_a, check_only_b));
	/* and it still works */
	ASSERT_EQ(op_map_a(&e), 0);
	ASSERT_EQ(leaf_shift(&e, A_IOVA), 21);
	ASSERT_TRUE(maps(&e, e.dom[1], A_IOVA, A_GPA, A_LEN));
	ASSERT_TRUE(teardown(&e));
	return true;
}

static int op_add_0(struct env *e)
{
	return add(e, 0);
}

static void undo_add_0(struct env *e)
{
	remove_domain(e, 0);
}

/* A and B mapped, no domain: nothing pinned, domain 0 maps nothing. */
static bool check_no_domain(struct env *e, long loose)
{
	ASSERT_TRUE(state_is(e, 0, 0, 0, 2));
	ASSERT_EQ(e->iopt.next_domain_id, 0);
	ASSERT_EQ(e->iopt.iova_alignment, 1);
	ASSERT_TRUE(maps_nothing(e->dom[0], A_IOVA, A_LEN));
	ASSERT_TRUE(maps_nothing(e->dom[0], B_IOVA, 0x10000));
	ASSERT_EQ(loose_pages(e), loose);
	return true;
}

static int op_add_1(struct env *e)
{
	return add(e, 1);
}

static void undo_add_1(struct env *e)
{
	remove_domain(e, 1);
}

/* A and B mapped, domain 0 only. */
static bool check_domain_0(struct env *e, long loose)
{
	ASSERT_TRUE(state_is(e, A_LEN / PAGE_SIZE + 16, A_LEN / PAGE_SIZE + 16, 0, 2));
	ASSERT_EQ(e->iopt.next_domain_id, 1);
	ASSERT_TRUE(maps(e, e->dom[0], A_IOVA, A_GPA, A_LEN));
	ASSERT_TRUE(maps_nothing(e->dom[1], A_IOVA, A_LEN));
	ASSERT_TRUE(maps_nothing(e->dom[1], B_IOVA, 0x10000));
	ASSERT_EQ(loose_pages(e), loose);
	return true;
}

TEST(iopt_fail_nth_add_domain_leaves_nothing)
{
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_MM));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_TRUE(touch_contiguous(&e, A_GPA, SZ_2M));
	ASSERT_TRUE(touch(&e, A_GPA + SZ_2M, A_LEN - SZ_2M, true));
	ASSERT_EQ(map(&e, B_IOVA, 0x10000, 0x10000, RW), 0);
	ASSERT_EQ(map(&e, A_IOVA, A_GPA, A_LEN, RW), 0);
	/* the first domain pins and charges (MM mode here) */
	ASSERT_TRUE(sweep(&e, op_add_0, undo_add_0, check_no_domain));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(kt_mm.locked_vm, A_LEN / PAGE_SIZE + 16);
	ASSERT_EQ(kt_user.locked_vm, 0);
	ASSERT_TRUE(teardown(&e));

	/* a second one only maps */

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_TRUE(touch_contiguous(&e, A_GPA, SZ_2M));
	ASSERT_TRUE(touch(&e, A_GPA + SZ_2M, A_LEN - SZ_2M, true));
	ASSERT_EQ(map(&e, B_IOVA, 0x10000, 0x10000, RW), 0);
	ASSERT_EQ(map(&e, A_IOVA, A_GPA, A_LEN, RW), 0);
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_TRUE(sweep(&e, op_add_1, undo_add_1, check_domain_0));
	ASSERT_TRUE(teardown(&e));
	return true;
}

TEST(iopt_fail_nth_unmap_and_remove_cannot_fail)
{
	unsigned long unmapped = 0;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_EQ(add(&e, 1), 0);
	ASSERT_EQ(map(&e, B_IOVA, 0x10000, 0x10000, RW), 0);
	ASSERT_EQ(map(&e, A_IOVA, A_GPA, A_LEN, RW), 0);
	/* destroy paths have no fault points: the first one is never reached */
	kt_fail_nth_set(1);
	ASSERT_EQ(iopt_unmap_iova(&e.iopt, A_IOVA, A_LEN, &unmapped), 0);
	remove_domain(&e, 1);
	ASSERT_FALSE(kt_fault_injected());
	ASSERT_EQ(kt_fault_points_seen(), 0);
	kt_fail_nth_set(0);
	ASSERT_EQ(unmapped, A_LEN);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(maps_nothing(e.dom[0], A_IOVA, A_LEN));
	ASSERT_TRUE(maps_nothing(e.dom[1], B_IOVA, 0x10000));
	ASSERT_TRUE(teardown(&e));
	return true;
}

/* ---- locking: maps and unmaps racing domain changes ---- */

struct race {
	struct env *e;
	int rounds;
	int errors;
};

static void *race_map_unmap(void *arg)
{
	struct race *r = arg;
	unsigned long unmapped;
	int i;

	for (i = 0; i < r->rounds; i++) {
		if (map(r->e, A_IOVA, A_GPA, 0x20000, RW) ||
		    iopt_unmap_iova(&r->e->iopt, A_IOVA, 0x20000, &unmapped) ||
		    unmapped != 0x20000)
			r->errors++;
	}
	return NULL;
}

static void *race_add_remove(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < r->rounds; i++) {
		if (iopt_table_add_domain(&r->e->iopt, r->e->dom[1]))
			r->errors++;
		else
			iopt_table_remove_domain(&r->e->iopt, r->e->dom[1]);
	}
	return NULL;
}

TEST(iopt_map_unmap_race_domain_add_remove)
{
	struct race a, b;
	pthread_t ta, tb;
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_TRUE(domain(&e, 1, false));
	ASSERT_TRUE(touch(&e, A_GPA, 0x20000, false));
	ASSERT_EQ(map(&e, B_IOVA, 0x10000, 0x10000, RW), 0);	/* lazily, till a domain */
	a = (struct race) { .e = &e, .rounds = 300 };
	b = (struct race) { .e = &e, .rounds = 300 };
	ASSERT_EQ(pthread_create(&ta, NULL, race_map_unmap, &a), 0);
	ASSERT_EQ(pthread_create(&tb, NULL, race_add_remove, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ASSERT_EQ(a.errors, 0);
	ASSERT_EQ(b.errors, 0);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	ASSERT_TRUE(maps_nothing(e.dom[1], A_IOVA, 0x20000));
	ASSERT_TRUE(maps_nothing(e.dom[1], B_IOVA, 0x10000));
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(teardown(&e));
	return true;
}

/*
 * In-kernel pins of the table (iopt_pin_pages(), what an iommufd access
 * does): without a domain they pin and charge exactly the range; a domain
 * added over them pins only the rest; each page is pinned and charged once
 * however many holders it has, and stays pinned until the last one goes.
 */
TEST(iopt_pin_pages_share_pins_with_domains)
{
	struct page *pg[16], *again[16];
	struct env e;
	unsigned int i;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_USER));
	ASSERT_TRUE(domain(&e, 0, true));
	ASSERT_EQ(map(&e, 0x100000, 0, 0x40000, RW), 0);		/* 64 pages */
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	ASSERT_EQ(iopt_pin_pages(&e.iopt, 0x104000, 0x10000, pg, IOMMUFD_ACCESS_RW_WRITE), 0);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(page_to_pfn(pg[i]) << PAGE_SHIFT, kvm_model_backing(e.kvm, 0x4000 + i * PAGE_SIZE));
	/* a second access to part of it: the same pages, nothing more charged */
	ASSERT_EQ(iopt_pin_pages(&e.iopt, 0x108000, 0x4000, again, 0), 0);
	ASSERT_TRUE(state_is(&e, 16, 16, 0, 1));
	ASSERT_TRUE(pg[4] == again[0] && pg[7] == again[3]);
	/* the domain pins the other 48 pages only */
	ASSERT_EQ(add(&e, 0), 0);
	ASSERT_TRUE(state_is(&e, 64, 64, 0, 1));
	ASSERT_TRUE(maps(&e, e.dom[0], 0x100000, 0, 0x40000));
	iopt_unpin_pages(&e.iopt, 0x104000, 0x10000);
	ASSERT_TRUE(state_is(&e, 64, 64, 0, 1));
	/* without the domain, what the second access holds stays pinned */
	remove_domain(&e, 0);
	ASSERT_TRUE(state_is(&e, 4, 4, 0, 1));
	iopt_unpin_pages(&e.iopt, 0x108000, 0x4000);
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 1));
	ASSERT_TRUE(teardown(&e));
	return true;
}

/* Bad ranges pin nothing: the documented errnos, no charge left behind. */
TEST(iopt_pin_pages_errnos_leave_nothing)
{
	struct page *pg[512];
	struct env e;

	ASSERT_TRUE(setup(&e, IOPT_PAGES_ACCOUNT_MM));
	ASSERT_EQ(map(&e, 0x100000, 0, 0x40000, RW), 0);
	ASSERT_EQ(map(&e, 0x200000, RO_GPA, 0x10000, IOMMU_READ), 0);
	ASSERT_ERRNO(-EINVAL, iopt_pin_pages(&e.iopt, 0x100000, 0, pg, 0));
	ASSERT_ERRNO(-EOVERFLOW, iopt_pin_pages(&e.iopt, ULONG_MAX & ~0xfffUL, 0x2000, pg, 0));
	/* runs past the area's end into nothing: the part pinned is dropped */
	ASSERT_ERRNO(-ENOENT, iopt_pin_pages(&e.iopt, 0x130000, 0x20000, pg, 0));
	ASSERT_ERRNO(-EPERM, iopt_pin_pages(&e.iopt, 0x200000, 0x1000, pg,
					    IOMMUFD_ACCESS_RW_WRITE));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 2));
	/* over the limit (MM mode: the mm's locked_vm) */
	kt_mm.memlock_limit = 8;
	ASSERT_ERRNO(-ENOMEM, iopt_pin_pages(&e.iopt, 0x100000, 0x10000, pg, 0));
	ASSERT_TRUE(state_is(&e, 0, 0, 0, 2));
	ASSERT_EQ(iopt_pin_pages(&e.iopt, 0x100000, 0x8000, pg, 0), 0);
	ASSERT_TRUE(state_is(&e, 8, 0, 8, 2));
	iopt_unpin_pages(&e.iopt, 0x100000, 0x8000);
	kt_mm.memlock_limit = LONG_MAX;
	ASSERT_TRUE(teardown(&e));
	return true;
}
