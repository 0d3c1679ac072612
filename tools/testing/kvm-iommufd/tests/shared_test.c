// SPDX-License-Identifier: GPL-2.0
/*
 * SHARED mode on the emulated platform: the core (virt/iommufd/kvm_ioas.c)
 * imports the KVM model's TDP root into a VT-d domain; a DMA device
 * translates through KVM's own table; KVM's flushes reach the IOMMU
 * through the importer callbacks.
 */
#include <stdio.h>

#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include "../standin/file.h"
#include "../standin/intel_kvm_domain.h"
#include "../harness/hwpt.h"
#include <linux/kvm_iommufd.h>
#include "fixture.h"
#include <uapi/linux/iommufd_kvm.h>

#define RAM	(16ULL << 20)

extern struct mm_struct kt_mm;

struct kt_shared {
	struct phys *pm;
	struct vtd *hw;
	struct intel_iommu *iommu;
	struct kvm *kvm;
	bool vm_destroyed;
	bool vm_closed;
	struct device dev;
	struct dma_dev dma;
	struct iommufd_ctx ictx;	/* the iommufd the IOAS belongs to */
	struct io_pagetable iopt;	/* the IOAS's table, mirroring the memslots */
	struct kvm_iommu_ioas *kio;
	struct iommu_domain *domain;
	bool attached;
	bool skips_flushes;	/* KVM forgets to record changes on purpose */
};

static struct kspte_cfg npt_cfg(void)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};
	return c;
}

static bool setup(struct kt_shared *s, const struct kspte_cfg *cfg, u64 cap, u64 ecap)
{
	memset(s, 0, sizeof(*s));
	s->pm = phys_create(1ULL << 31);
	ASSERT_TRUE(s->pm);
	s->hw = vtd_create(s->pm, cap, ecap);
	s->iommu = kt_intel_iommu_create(s->pm, s->hw, 0);
	ASSERT_TRUE(s->hw && s->iommu);
	s->kvm = kvm_model_create(s->pm, cfg, &s->vm_destroyed);
	ASSERT_TRUE(s->kvm);
	ASSERT_EQ(kvm_model_set_slot(s->kvm, 0, 0, RAM, false), 0);
	kt_intel_probe_device(&s->dev, s->iommu, KT_SID);
	dma_dev_init(&s->dma, s->hw, KT_SID);
	s->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&s->iopt);
	return true;
}

/* IOMMU_IOAS_ALLOC(KVM fd) + HWPT alloc + attach, as iommufd does them. */
static int share(struct kt_shared *s, u32 *reasons)
{
	int ret;

	s->kio = kvm_iommu_ioas_alloc(s->kvm->fd, &s->ictx, &s->iopt);
	if (IS_ERR(s->kio)) {
		ret = PTR_ERR(s->kio);
		s->kio = NULL;
		return ret;
	}
	s->domain = kvm_iommu_domain_alloc(s->kio, &s->dev,
					   KVM_IOMMU_POLICY_SHARE_REQUIRED, NULL, reasons);
	if (IS_ERR(s->domain)) {
		ret = PTR_ERR(s->domain);
		s->domain = NULL;
		return ret;
	}
	ret = s->domain->ops->attach_dev(s->domain, &s->dev);
	s->attached = !ret;
	return ret;
}

static void close_device(struct kt_shared *s)
{
	if (s->attached)
		kt_kvm_domain_detach(s->domain, &s->dev);
	s->attached = false;
}

/* Closing the iommufd: devices detached, HWPT then IOAS destroyed. */
static void close_iommufd(struct kt_shared *s)
{
	close_device(s);
	if (s->domain) {
		kvm_iommu_domain_free(s->kio, s->domain);
		s->domain->ops->free(s->domain);
		s->domain = NULL;
	}
	/* as iommufd_ioas_destroy(): stop mirroring, then empty the table */
	kvm_iommu_ioas_free(s->kio);
	s->kio = NULL;
	iopt_unmap_all(&s->iopt, NULL);
}

static void close_vm(struct kt_shared *s)
{
	if (!s->vm_closed)
		kvm_model_close(s->kvm);
	s->vm_closed = true;
}

static bool teardown(struct kt_shared *s)
{
	struct vtdm_stats v = vtd_stats(s->hw);
	long left;

	/* the unit never cached what KVM's flushes had taken away */
	if (!s->skips_flushes) {
		ASSERT_EQ(v.stale_iotlb, 0);
		ASSERT_EQ(v.stale_psc, 0);
	}
	close_iommufd(s);
	iopt_destroy_table(&s->iopt);
	close_vm(s);
	ASSERT_TRUE(s->vm_destroyed);
	kt_intel_iommu_destroy(s->iommu);
	left = phys_allocated(s->pm);
	vtd_destroy(s->hw);
	phys_destroy(s->pm);
	ASSERT_EQ(left, 0);
	return true;
}

static void fill(u8 *b, size_t n, u8 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (u8)(seed + i * 13);
}

TEST(shared_dma_lands_in_guest_memory)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	u8 src[4095], dst[4095] = { 0 };
	long phys_before, kvm_tables, backed;
	u32 reasons = ~0u;
	struct kvm_iommu_stats st;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	fill(src, sizeof(src), 7);
	ASSERT_EQ(kvm_model_guest_write(s.kvm, 0x1000, src, sizeof(src)), 0);
	ASSERT_EQ(kvm_model_guest_write(s.kvm, 0x200000, dst, sizeof(dst)), 0);
	kvm_tables = s.kvm->table_pages;
	backed = kvm_model_backed(s.kvm);
	phys_before = phys_allocated(s.pm);

	ASSERT_EQ(share(&s, &reasons), 0);
	ASSERT_EQ(reasons, 0);
	/*
	 * Attach built no IO page table: what is new is the PASID structures
	 * (3 pages), the guest pages pinning touched, and KVM's own table
	 * pages for the pages it faulted in.
	 */
	ASSERT_EQ(phys_allocated(s.pm) - phys_before,
		  3 + (kvm_model_backed(s.kvm) - backed) + (s.kvm->table_pages - kvm_tables));
	/* the unit's second-stage pointer is KVM's root */
	ASSERT_EQ(kt_intel_ss_pointer(s.iommu, KT_SID), s.kvm->root);
	ASSERT_EQ(kvm_iommu_ioas_root(s.kio), s.kvm->root);

	ASSERT_EQ(dma_copy(&s.dma, 0x1000, 0x200000, sizeof(src)), 0);
	ASSERT_EQ(kvm_model_guest_read(s.kvm, 0x200000, dst, sizeof(dst)), 0);
	ASSERT_EQ(memcmp(src, dst, sizeof(src)), 0);
	kvm_iommu_get_stats(s.kio, &st);
	ASSERT_EQ(st.shared_domains, 1);
	ASSERT_TRUE(teardown(&s));
	return true;
}

TEST(shared_dma_outside_memslot_is_blocked)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	struct vtdm_fault f;
	u8 buf[256], probe[256];
	long before;
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	fill(buf, sizeof(buf), 1);
	ASSERT_EQ(kvm_model_guest_write(s.kvm, 0x5000, buf, sizeof(buf)), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	before = phys_allocated(s.pm);
	/* 64 MiB is outside the only memslot (16 MiB at 0) */
	ASSERT_EQ(dma_write(&s.dma, 0x4000000, buf, sizeof(buf)), -EFAULT);
	ASSERT_TRUE(vtd_fault_pop(s.hw, &f));
	ASSERT_EQ(f.reason, VTDM_F_SS_NP);
	ASSERT_EQ(f.addr, 0x4000000);
	/* nothing allocated, guest memory as it was */
	ASSERT_EQ(phys_allocated(s.pm), before);
	ASSERT_EQ(kvm_model_guest_read(s.kvm, 0x5000, probe, sizeof(probe)), 0);
	ASSERT_EQ(memcmp(buf, probe, sizeof(buf)), 0);
	ASSERT_TRUE(teardown(&s));
	return true;
}

/*
 * The VMM discards a guest page (MADV_DONTNEED): after the discard
 * returns, a DMA write to that GPA must not reach the old page, which stays
 * observable through the "second mapping".  @skip has KVM's TDP MMU forget
 * to record that many changes for the exporter (a broken KVM), so no
 * importer is invalidated: then the stale IOTLB entry lets the write land
 * in the old page, and the function reports it.
 */
static bool discard_scenario(int skip, bool *landed_in_old_page)
{
	struct kspte_cfg c = npt_cfg();
	const u64 x = 0x300000;
	struct kt_shared s;
	u8 old[4096], dev[64], now[64];
	u64 old_hpa;
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	memset(old, 0xaa, sizeof(old));
	ASSERT_EQ(kvm_model_guest_write(s.kvm, x, old, sizeof(old)), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	ASSERT_EQ(dma_read(&s.dma, x, dev, sizeof(dev)), 0);	/* IOTLB now holds x */
	ASSERT_EQ(dev[0], 0xaa);

	s.kvm->skip_record = skip;
	s.skips_flushes = skip;
	kvm_model_discard(s.kvm, x, PAGE_SIZE);
	old_hpa = kvm_model_discarded(s.kvm, x);
	ASSERT_NE(old_hpa, 0);
	/* the unit's check found the IOTLB entry the skipped flush left */
	if (skip)
		ASSERT_GT(vtd_stats(s.hw).stale_iotlb, 0);
	memset(dev, 0x55, sizeof(dev));
	dma_write(&s.dma, x, dev, sizeof(dev));
	*landed_in_old_page = ((u8 *)phys_va(s.pm, old_hpa))[0] != 0xaa;
	if (!skip) {
		/* the guest touches the page again: DMA lands in the new page */
		ASSERT_EQ(kvm_model_guest_read(s.kvm, x, now, sizeof(now)), 0);
		ASSERT_EQ(now[0], 0);
		ASSERT_EQ(dma_write(&s.dma, x, dev, sizeof(dev)), 0);
		ASSERT_EQ(kvm_model_guest_read(s.kvm, x, now, sizeof(now)), 0);
		ASSERT_EQ(memcmp(now, dev, sizeof(dev)), 0);
		ASSERT_EQ(((u8 *)phys_va(s.pm, old_hpa))[0], 0xaa);
	}
	ASSERT_TRUE(teardown(&s));
	return true;
}

TEST(shared_after_discard_dma_never_reaches_the_old_page)
{
	bool landed = true;

	ASSERT_TRUE(discard_scenario(0, &landed));
	ASSERT_FALSE(landed);
	return true;
}

/* Negative control: the same scenario catches a change KVM did not record. */
TEST(shared_skipped_invalidation_is_caught)
{
	bool landed = false;

	ASSERT_TRUE(discard_scenario(1, &landed));
	ASSERT_TRUE(landed);
	return true;
}

/* Tables KVM unlinks must leave the paging-structure caches before they are freed. */
static bool table_free_scenario(int skip, u64 *freed_reads)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	u8 b[8] = { 1 };
	u32 reasons;
	u64 gpa;
	int ret;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	for (gpa = 0x400000; gpa < 0x400000 + 8 * PAGE_SIZE; gpa += PAGE_SIZE)
		ASSERT_EQ(kvm_model_guest_write(s.kvm, gpa, b, sizeof(b)), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	ASSERT_EQ(dma_read(&s.dma, 0x400000, b, sizeof(b)), 0);
	ASSERT_GT(vtd_psc_count(s.hw), 0);

	s.kvm->skip_record = skip;
	s.skips_flushes = skip;
	kvm_model_zap(s.kvm, 0x400000 >> 12, 0x600000 >> 12, true);
	rcu_barrier();				/* the unlinked L1 table is freed now */
	ASSERT_GT(s.kvm->tables_freed, 0);
	/* ... and the check at the flush's end found the cache pointing at it */
	if (skip)
		ASSERT_GT(vtd_stats(s.hw).stale_psc, 0);
	/*
	 * A page of that 2 MiB region that is not in the IOTLB needs a walk:
	 * blocked; with the change not recorded, the stale paging-structure
	 * cache sends the walk into the freed (poisoned) table instead.
	 */
	ret = dma_read(&s.dma, 0x403000, b, sizeof(b));
	if (!skip)
		ASSERT_EQ(ret, -EFAULT);
	*freed_reads = vtd_stats(s.hw).freed_table_reads;
	ASSERT_TRUE(teardown(&s));
	return true;
}

TEST(shared_unlinked_tables_leave_walk_caches_before_free)
{
	u64 freed = ~0ULL;

	ASSERT_TRUE(table_free_scenario(0, &freed));
	ASSERT_EQ(freed, 0);
	ASSERT_TRUE(table_free_scenario(1, &freed));	/* change not recorded */
	ASSERT_GT(freed, 0);
	return true;
}

TEST(shared_write_protect_blocks_dma_writes)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	u8 b[16] = { 9 };
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(kvm_model_guest_write(s.kvm, 0x7000, b, sizeof(b)), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	ASSERT_EQ(dma_write(&s.dma, 0x7000, b, sizeof(b)), 0);
	kvm_model_wrprot(s.kvm, 0, RAM >> 12);		/* dirty logging starts */
	ASSERT_EQ(dma_write(&s.dma, 0x7000, b, sizeof(b)), -EFAULT);
	ASSERT_EQ(s.dma.last_fault, VTDM_F_SS_WRITE);
	ASSERT_EQ(dma_read(&s.dma, 0x7000, b, sizeof(b)), 0);
	ASSERT_TRUE(teardown(&s));
	return true;
}

TEST(shared_root_replacement_repoints_the_unit)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	struct kvm_iommu_stats st;
	u8 b[16] = { 3 }, r[16];
	u64 old_root;
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(kvm_model_guest_write(s.kvm, 0x9000, b, sizeof(b)), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	ASSERT_EQ(dma_read(&s.dma, 0x9000, r, sizeof(r)), 0);
	old_root = s.kvm->root;
	ASSERT_EQ(kvm_model_replace_root(s.kvm), 0);
	rcu_barrier();					/* the old tree is freed */
	ASSERT_NE(s.kvm->root, old_root);
	ASSERT_EQ(kt_intel_ss_pointer(s.iommu, KT_SID), s.kvm->root);
	ASSERT_EQ(kvm_iommu_ioas_root(s.kio), s.kvm->root);
	/* not mapped in the new root yet: blocked, and no walk of freed pages */
	ASSERT_EQ(dma_read(&s.dma, 0x9000, r, sizeof(r)), -EFAULT);
	ASSERT_EQ(kvm_model_guest_read(s.kvm, 0x9000, r, sizeof(r)), 0);
	ASSERT_EQ(dma_read(&s.dma, 0x9000, r, sizeof(r)), 0);
	ASSERT_EQ(r[0], 3);
	ASSERT_EQ(vtd_stats(s.hw).freed_table_reads, 0);
	kvm_iommu_get_stats(s.kio, &st);
	ASSERT_EQ(st.root_changes, 1);
	ASSERT_TRUE(teardown(&s));
	return true;
}

struct refusal {
	const char *what;
	unsigned int present_bit, root_level;
	bool mmio;
	u64 cap;
	u32 reasons;
};

TEST(shared_refused_with_reasons_and_nothing_left_behind)
{
	const struct refusal cases[] = {
		{ "stock 6.12 (bit 11)", 11, 4, false, VTDM_QEMU_CAP_AW48,
		  IOMMU_KVM_SHARE_RSVD_BITS },
		{ "5-level NPT (LA57)", 59, 5, false, VTDM_QEMU_CAP_AW48,
		  IOMMU_KVM_SHARE_LEVELS },
		{ "VT-d aw-bits=39", 59, 4, false, VTDM_QEMU_CAP_AW39,
		  IOMMU_KVM_SHARE_LEVELS | IOMMU_KVM_SHARE_ADDR_WIDTH },
		{ "MMIO caching on", 59, 4, true, VTDM_QEMU_CAP_AW48,
		  IOMMU_KVM_SHARE_MMIO_CACHING },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kspte_cfg c = npt_cfg();
		struct kt_shared s;
		struct kvm_iommu_stats st;
		u32 reasons = 0;

		c.present_bit = cases[i].present_bit;
		c.root_level = cases[i].root_level;
		c.mmio_caching = cases[i].mmio;
		ASSERT_TRUE(setup(&s, &c, cases[i].cap, VTDM_QEMU_ECAP_SM));
		ASSERT_ERRNO(-EOPNOTSUPP, share(&s, &reasons));
		if (reasons != cases[i].reasons)
			printf("#   %s: reasons %#x\n", cases[i].what, reasons);
		ASSERT_EQ(reasons, cases[i].reasons);
		ASSERT_TRUE(s.domain == NULL);
		kvm_iommu_get_stats(s.kio, &st);
		ASSERT_EQ(st.shared_domains, 0);
		/* the importer went away with the failed attempt */
		ASSERT_TRUE(list_empty(&s.kvm->tdp_export.importers));
		ASSERT_EQ(kt_intel_ss_pointer(s.iommu, KT_SID), 0);
		ASSERT_TRUE(teardown(&s));
	}
	return true;
}

TEST(shared_ioas_rejects_fds_that_are_not_vms)
{
	struct file f = { .is_kvm = false };
	int fd = kt_file_install(&f);

	ASSERT_GE(fd, 0);
	struct iommufd_ctx ictx = { .account_mode = IOPT_PAGES_ACCOUNT_USER };
	struct io_pagetable iopt;

	iopt_init_table(&iopt);
	ASSERT_EQ(PTR_ERR(kvm_iommu_ioas_alloc(fd, &ictx, &iopt)), -EINVAL);
	ASSERT_EQ(f.refs, 1);			/* the reference was dropped */
	ASSERT_EQ(PTR_ERR(kvm_iommu_ioas_alloc(60, &ictx, &iopt)), -EBADF);
	ASSERT_EQ(PTR_ERR(kvm_iommu_ioas_alloc(-1, &ictx, &iopt)), -EBADF);
	ASSERT_EQ(kt_iopt_nr_areas(&iopt), 0);
	iopt_destroy_table(&iopt);
	ASSERT_EQ(kt_file_close(fd), 0);
	return true;
}

/* Close the VM fd, the iommufd and the device in every order. */
TEST(shared_lifetimes_in_any_order)
{
	static const char orders[6][3] = {
		"dim", "dmi", "idm", "imd", "mdi", "mid",	/* d: device, i: iommufd, m: VM */
	};
	unsigned int o, k;

	for (o = 0; o < 6; o++) {
		struct kspte_cfg c = npt_cfg();
		struct kt_shared s;
		u8 b[8] = { 1 };
		u32 reasons;

		ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
		ASSERT_EQ(kvm_model_guest_write(s.kvm, 0x1000, b, sizeof(b)), 0);
		ASSERT_EQ(share(&s, &reasons), 0);
		for (k = 0; k < 3; k++) {
			switch (orders[o][k]) {
			case 'd':
				close_device(&s);
				break;
			case 'i':
				close_iommufd(&s);
				break;
			case 'm':
				close_vm(&s);
				/* the IOAS keeps the VM alive until it goes */
				ASSERT_EQ(s.vm_destroyed, s.kio == NULL);
				break;
			}
		}
		ASSERT_TRUE(s.vm_destroyed);
		ASSERT_TRUE(teardown(&s));
	}
	return true;
}

/*
 * Fail every fault point of the SHARED attach path in turn (allocations,
 * KVM's export registration): each failure is an errno, and leaves no
 * domain, no importer registered with KVM, no PASID entry, no allocation.
 */
TEST(shared_attach_fail_nth_sweep)
{
	struct kspte_cfg c = npt_cfg();
	int nth, swept = 0;

	for (nth = 1; nth < 100; nth++) {
		struct kt_shared s;
		long live;
		u32 reasons;
		int ret;
		bool injected;

		ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
		live = kt_alloc_live();
		kt_fail_nth_set(nth);
		ret = share(&s, &reasons);
		injected = kt_fault_injected();
		kt_fail_nth_set(0);
		if (!injected) {
			ASSERT_EQ(ret, 0);		/* every point swept */
			ASSERT_TRUE(teardown(&s));
			break;
		}
		swept++;
		ASSERT_TRUE(ret == -ENOMEM || ret == -EBUSY);
		/* what share() got before the failure is undone by its owner */
		if (s.domain) {
			ASSERT_FALSE(s.attached);
			kvm_iommu_domain_free(s.kio, s.domain);
			s.domain->ops->free(s.domain);
			s.domain = NULL;
		}
		ASSERT_TRUE(list_empty(&s.kvm->tdp_export.importers));
		ASSERT_EQ(kt_intel_ss_pointer(s.iommu, KT_SID), 0);
		kvm_iommu_ioas_free(s.kio);
		s.kio = NULL;
		iopt_unmap_all(&s.iopt, NULL);
		ASSERT_EQ(kt_alloc_live(), live);
		ASSERT_TRUE(teardown(&s));
	}
	printf("#   %d fault points swept\n", swept);
	ASSERT_GE(swept, 4);
	return true;
}

/*
 * edu-like devices cannot fault: the attach pins every page of every
 * memslot, charged to RLIMIT_MEMLOCK, and faults each one into KVM's table
 * writable, so DMA reaches memory the guest never touched.  The last SHARED
 * domain releases the pins and the charge.
 */
TEST(shared_pins_and_prefaults_for_devices_that_cannot_fault)
{
	struct kspte_cfg c = npt_cfg();
	struct kvm_iommu_stats st;
	struct kt_shared s;
	unsigned int level;
	u8 b[32], r[32];
	u32 reasons;
	u64 gpa;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(kvm_model_set_slot(s.kvm, 1, 0x10000000, 2 << 20, true), 0);	/* ROM */
	ASSERT_EQ(kvm_model_pinned(s.kvm), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	ASSERT_EQ(kvm_model_pinned(s.kvm), (RAM + (2 << 20)) >> PAGE_SHIFT);
	/* the io_pagetable's pins, charged as iommufd charges (USER mode) */
	ASSERT_EQ(kt_user.locked_vm, (RAM + (2 << 20)) >> PAGE_SHIFT);
	ASSERT_EQ(kt_mm.pinned_vm, (RAM + (2 << 20)) >> PAGE_SHIFT);
	kvm_iommu_get_stats(s.kio, &st);
	ASSERT_EQ(st.pinned_pages, (RAM + (2 << 20)) >> PAGE_SHIFT);
	/* every page present in KVM's table, writable except in the ROM slot */
	for (gpa = 0; gpa < RAM; gpa += PAGE_SIZE) {
		u64 spte = kvm_model_spte(s.kvm, gpa, &level);
		bool rd, wr;

		ASSERT_TRUE(kspte_is_present_leaf(&c, spte, &rd, &wr));
		ASSERT_TRUE(wr);
	}
	{
		u64 spte = kvm_model_spte(s.kvm, 0x10000000, &level);
		bool rd, wr;

		ASSERT_TRUE(kspte_is_present_leaf(&c, spte, &rd, &wr));
		ASSERT_FALSE(wr);
	}
	/* DMA into memory the guest never touched lands in the pinned page */
	memset(b, 0x3c, sizeof(b));
	ASSERT_EQ(dma_write(&s.dma, 0xabc000, b, sizeof(b)), 0);
	ASSERT_EQ(kvm_model_guest_read(s.kvm, 0xabc000, r, sizeof(r)), 0);
	ASSERT_EQ(memcmp(b, r, sizeof(b)), 0);
	ASSERT_EQ(dma_write(&s.dma, 0x10000000, b, sizeof(b)), -EFAULT);	/* ROM */
	ASSERT_EQ(s.dma.last_fault, VTDM_F_SS_WRITE);
	ASSERT_EQ(dma_read(&s.dma, 0x10000000, r, sizeof(r)), 0);
	close_iommufd(&s);
	ASSERT_EQ(kvm_model_pinned(s.kvm), 0);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	ASSERT_TRUE(teardown(&s));
	return true;
}

/* RLIMIT_MEMLOCK below guest RAM: the attach fails and leaves nothing. */
TEST(shared_memlock_limit_refuses_and_leaves_nothing)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	kt_mm.memlock_limit = (RAM >> PAGE_SHIFT) - 1;
	ASSERT_ERRNO(-ENOMEM, share(&s, &reasons));
	kt_mm.memlock_limit = LONG_MAX;
	ASSERT_EQ(reasons, 0);
	ASSERT_TRUE(s.domain == NULL);
	ASSERT_EQ(kvm_model_pinned(s.kvm), 0);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	ASSERT_TRUE(list_empty(&s.kvm->tdp_export.importers));
	ASSERT_EQ(kt_intel_ss_pointer(s.iommu, KT_SID), 0);
	ASSERT_TRUE(teardown(&s));
	return true;
}

/* ---- host memory management under a device that cannot fault ---- */

#define MM_BASE		0x100000ULL	/* 64 pages the device uses */
#define MM_PAGES	64

/* The host's events that cannot change a pinned page, as the mm raises them. */
static const struct {
	const char *name;
	enum mmu_notifier_event event;
	bool migrate;		/* the mm then moves the pages nobody pins */
} mm_events[] = {
	{ "fork (copy-on-write protection)", MMU_NOTIFY_PROTECTION_PAGE, false },
	{ "mprotect", MMU_NOTIFY_PROTECTION_VMA, false },
	{ "soft-dirty clear", MMU_NOTIFY_SOFT_DIRTY, false },
	{ "compaction / NUMA migration / KSM", MMU_NOTIFY_CLEAR, true },
	{ "THP split, reclaim, aging", MMU_NOTIFY_CLEAR, false },
};

static u64 stat_kept(struct kt_shared *s)
{
	struct kvm_iommu_stats st;

	kvm_iommu_get_stats(s->kio, &st);
	return st.kept_leaves;
}

/* Every page of the device's range: DMA write, then the guest reads it back. */
static bool dma_each_page_lands(struct kt_shared *s, const u64 *hpa, u8 seed)
{
	u8 w[64], r[64];
	unsigned int i;

	for (i = 0; i < MM_PAGES; i++) {
		u64 gpa = MM_BASE + i * PAGE_SIZE;

		fill(w, sizeof(w), seed + i);
		ASSERT_EQ(dma_write(&s->dma, gpa, w, sizeof(w)), 0);
		ASSERT_EQ(kvm_model_backing(s->kvm, gpa), hpa[i]);	/* the pinned page */
		ASSERT_EQ(memcmp(phys_va(s->pm, hpa[i]), w, sizeof(w)), 0);
		ASSERT_EQ(dma_read(&s->dma, gpa + 100, r, sizeof(r)), 0);
		ASSERT_EQ(kvm_model_guest_read(s->kvm, gpa + 100, w, sizeof(w)), 0);
		ASSERT_EQ(memcmp(r, w, sizeof(r)), 0);
	}
	ASSERT_EQ(vtd_fault_count(s->hw), 0);
	return true;
}

/*
 * Each host event that cannot change a pinned page leaves a device that
 * cannot fault with every translation: KVM keeps the leaves the IOAS holds
 * (kept_leaves counts them), the pages stay where they were, and every DMA
 * lands.  Without the IOAS's ->holds() (or with an exporter that ignores
 * the event), KVM zaps the range and the device's DMA faults.
 */
TEST(shared_host_mm_events_keep_dma_of_a_device_that_cannot_fault)
{
	struct kspte_cfg c = npt_cfg();
	struct kt_shared s;
	u64 hpa[MM_PAGES], kept = 0;
	unsigned int e, i;
	u32 reasons;
	u8 b[64];

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(share(&s, &reasons), 0);
	for (i = 0; i < MM_PAGES; i++)
		hpa[i] = kvm_model_backing(s.kvm, MM_BASE + i * PAGE_SIZE);
	ASSERT_TRUE(dma_each_page_lands(&s, hpa, 1));
	for (e = 0; e < ARRAY_SIZE(mm_events); e++) {
		u64 migrated = s.kvm->migrated;

		kvm_model_mm_event(s.kvm, 0, RAM, mm_events[e].event, mm_events[e].migrate);
		if (!dma_each_page_lands(&s, hpa, 16 * (e + 2))) {
			fprintf(stderr, "# after %s\n", mm_events[e].name);
			return false;
		}
		ASSERT_GT(stat_kept(&s), kept);		/* KVM asked and kept */
		kept = stat_kept(&s);
		ASSERT_EQ(s.kvm->migrated, migrated);	/* every page is pinned */
	}
	/* the VMM's own removals still block DMA: munmap, then a discard */
	kvm_model_mm_event(s.kvm, MM_BASE, PAGE_SIZE, MMU_NOTIFY_UNMAP, false);
	ASSERT_EQ(dma_write(&s.dma, MM_BASE, b, sizeof(b)), -EFAULT);
	kvm_model_mm_event(s.kvm, MM_BASE + PAGE_SIZE, PAGE_SIZE, MMU_NOTIFY_DISCARD, false);
	ASSERT_EQ(dma_write(&s.dma, MM_BASE + PAGE_SIZE, b, sizeof(b)), -EFAULT);
	ASSERT_EQ(stat_kept(&s), kept);
	while (vtd_fault_count(s.hw)) {
		struct vtdm_fault f;

		ASSERT_TRUE(vtd_fault_pop(s.hw, &f));
		ASSERT_TRUE(f.addr == MM_BASE || f.addr == MM_BASE + PAGE_SIZE);
	}
	ASSERT_TRUE(teardown(&s));
	return true;
}

/*
 * A page the IOAS does not hold is zapped and may move: after a discard the
 * vCPU faults in a new page at the GPA, which nobody pinned; compaction
 * then moves it.  KVM must not keep its leaf (the pinned page is another
 * PFN), so no DMA or vCPU access reaches the page compaction freed.
 */
TEST(shared_host_mm_events_move_pages_the_ioas_does_not_hold)
{
	struct kspte_cfg c = npt_cfg();
	const u64 x = MM_BASE + 5 * PAGE_SIZE;
	struct kt_shared s;
	u64 fresh, moved;
	u8 w[64], r[64];
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(share(&s, &reasons), 0);
	kvm_model_discard(s.kvm, x, PAGE_SIZE);
	fill(w, sizeof(w), 0x33);
	ASSERT_EQ(kvm_model_guest_write(s.kvm, x, w, sizeof(w)), 0);	/* a new page */
	fresh = kvm_model_backing(s.kvm, x);
	ASSERT_EQ(dma_read(&s.dma, x, r, sizeof(r)), 0);	/* the IOTLB holds it */
	ASSERT_EQ(memcmp(r, w, sizeof(r)), 0);

	kvm_model_mm_event(s.kvm, 0, RAM, MMU_NOTIFY_CLEAR, true);
	moved = kvm_model_backing(s.kvm, x);
	ASSERT_NE(moved, fresh);			/* compaction moved it ... */
	ASSERT_FALSE(phys_page_allocated(s.pm, fresh));	/* ... and freed the old one */
	/* KVM zapped the leaf: the device, which cannot fault, is blocked */
	ASSERT_EQ(dma_read(&s.dma, x, r, sizeof(r)), -EFAULT);
	/* the vCPU faults the moved page in, and the device follows it */
	ASSERT_EQ(kvm_model_guest_read(s.kvm, x, r, sizeof(r)), 0);
	ASSERT_EQ(memcmp(r, w, sizeof(r)), 0);
	ASSERT_EQ(dma_read(&s.dma, x, r, sizeof(r)), 0);
	ASSERT_EQ(memcmp(r, w, sizeof(r)), 0);
	ASSERT_EQ(s.dma.bad_pages, 0);
	while (vtd_fault_count(s.hw)) {
		struct vtdm_fault f;

		ASSERT_TRUE(vtd_fault_pop(s.hw, &f));
	}
	ASSERT_TRUE(teardown(&s));
	return true;
}

/*
 * Unpinning zaps the leaves KVM kept: once the pins are gone nothing would
 * stop the mm from moving those pages, so no leaf may outlive them.  With no
 * leaf kept, detaching zaps nothing.
 */
TEST(shared_unpin_zaps_the_leaves_kvm_kept)
{
	unsigned int round;

	for (round = 0; round < 2; round++) {
		struct kspte_cfg c = npt_cfg();
		struct kt_shared s;
		unsigned int level;
		bool rd, wr;
		u32 reasons;
		u8 r[8];

		ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
		ASSERT_EQ(share(&s, &reasons), 0);
		if (round)
			kvm_model_mm_event(s.kvm, 0, RAM, MMU_NOTIFY_PROTECTION_PAGE, false);
		ASSERT_EQ(stat_kept(&s) > 0, round == 1);
		ASSERT_TRUE(kspte_is_present_leaf(&c, kvm_model_spte(s.kvm, MM_BASE, &level),
						  &rd, &wr));
		close_device(&s);
		kvm_iommu_domain_free(s.kio, s.domain);
		s.domain->ops->free(s.domain);
		s.domain = NULL;
		ASSERT_EQ(s.kvm->export_zaps, round);
		ASSERT_EQ(kvm_model_pinned(s.kvm), 0);
		ASSERT_EQ(kspte_is_present_leaf(&c, kvm_model_spte(s.kvm, MM_BASE, &level),
						&rd, &wr), round == 0);
		/* compaction moves everything now, and the vCPU reads right */
		kvm_model_mm_event(s.kvm, 0, RAM, MMU_NOTIFY_CLEAR, true);
		ASSERT_GT(s.kvm->migrated, 0);
		ASSERT_EQ(kvm_model_guest_read(s.kvm, MM_BASE, r, sizeof(r)), 0);
		ASSERT_TRUE(teardown(&s));
	}
	return true;
}

struct mm_engine {
	struct kt_shared *s;
	bool stop;		/* atomic */
	u64 dmas, aborted, wrong;
};

/* DMA to the device's pages only: nothing the VMM removes. */
static void *mm_engine_thread(void *arg)
{
	struct mm_engine *e = arg;
	u64 seed = 0x2545f4914f6cdd1dULL;
	u8 w[32], r[32];

	rcu_register_thread();
	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		u64 gpa;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		gpa = MM_BASE + (seed % MM_PAGES) * PAGE_SIZE + (seed >> 32) % (PAGE_SIZE - sizeof(w));
		fill(w, sizeof(w), (u8)e->dmas);
		if (dma_write(&e->s->dma, gpa, w, sizeof(w)) ||
		    dma_read(&e->s->dma, gpa, r, sizeof(r)))
			e->aborted++;
		else if (memcmp(w, r, sizeof(r)))
			e->wrong++;
		e->dmas++;
	}
	rcu_unregister_thread();
	return NULL;
}

/*
 * A device that cannot fault DMAs without pause while the host runs every
 * event that cannot change a pinned page over all guest memory (half of
 * them migrating what nobody pins), vCPUs fault, and the VMM discards
 * memory and creates and deletes a memslot elsewhere: not one of its DMAs
 * is aborted, and each reads back what it wrote.
 */
TEST(shared_host_mm_events_never_abort_dma_of_a_device_that_cannot_fault)
{
	const unsigned int n = ARRAY_SIZE(mm_events);
	struct kspte_cfg c = npt_cfg();
	struct mm_engine e = { 0 };
	struct kt_shared s;
	unsigned int i;
	pthread_t thr;
	u32 reasons;
	u8 b[8] = { 7 };

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(share(&s, &reasons), 0);
	e.s = &s;
	ASSERT_EQ(pthread_create(&thr, NULL, mm_engine_thread, &e), 0);
	for (i = 0; i < 400; i++) {
		u64 away = (8ULL << 20) + (i % 64) * PAGE_SIZE;

		kvm_model_mm_event(s.kvm, 0, RAM, mm_events[i % n].event, mm_events[i % n].migrate);
		kvm_model_mm_event(s.kvm, MM_BASE + (i % MM_PAGES) * PAGE_SIZE, PAGE_SIZE,
				   mm_events[(i / n) % n].event, true);
		kvm_model_discard(s.kvm, away, PAGE_SIZE);
		ASSERT_EQ(kvm_model_guest_write(s.kvm, away, b, sizeof(b)), 0);
		if (i % 50 == 0) {
			ASSERT_EQ(kvm_model_set_slot(s.kvm, 1, 32ULL << 20, 1ULL << 20, false), 0);
			ASSERT_EQ(kvm_model_delete_slot(s.kvm, 1), 0);
		}
	}
	__atomic_store_n(&e.stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(pthread_join(thr, NULL), 0);
	printf("#   %llu DMAs, %llu aborted, %llu read back wrong; %llu leaves kept, "
	       "%llu pages migrated\n", (unsigned long long)e.dmas,
	       (unsigned long long)e.aborted, (unsigned long long)e.wrong,
	       (unsigned long long)stat_kept(&s), (unsigned long long)s.kvm->migrated);
	ASSERT_GT(e.dmas, 0);
	ASSERT_EQ(e.aborted, 0);
	ASSERT_EQ(e.wrong, 0);
	ASSERT_GT(s.kvm->migrated, 0);		/* the pages nobody pinned did move */
	ASSERT_EQ(s.dma.bad_pages, 0);
	ASSERT_EQ(vtd_fault_count(s.hw), 0);
	ASSERT_TRUE(teardown(&s));
	return true;
}

/*
 * On EPT KVM zaps its whole table when the VM's memory types change (a
 * non-coherent DMA device assigned), held pages or not: a device that
 * cannot fault is refused SHARED there with IOMMU_KVM_SHARE_KVM_ZAPS, and
 * the default policy gives it PINNED, whose DMA works.
 */
TEST(shared_refused_for_a_device_that_cannot_fault_where_kvm_zaps_on_its_own)
{
	struct kspte_cfg c = {
		.ept = true, .ept_ad = true, .present_bit = 59, .phys_bits = 40,
		.nx_huge_pages = true, .root_level = 4, .max_leaf_level = 3,
	};
	struct kvm_iommu_share_info info;
	struct kt_kvm_hwpt h;
	struct kt_shared s;
	u8 w[16] = { 9, 8, 7 }, r[16];
	long registered;
	u32 reasons;

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(share(&s, &reasons), -EOPNOTSUPP);
	ASSERT_EQ(reasons, IOMMU_KVM_SHARE_KVM_ZAPS);
	ASSERT_EQ(kvm_model_pinned(s.kvm), 0);
	registered = 0;
	spin_lock(&s.kvm->tdp_export.inv_lock);
	registered = !list_empty(&s.kvm->tdp_export.importers);
	spin_unlock(&s.kvm->tdp_export.inv_lock);
	ASSERT_EQ(registered, 0);
	ASSERT_EQ(kvm_iommu_share_query(s.kio, &s.dev, &info), 0);
	ASSERT_EQ(info.reasons, IOMMU_KVM_SHARE_KVM_ZAPS);

	ASSERT_EQ(kt_kvm_hwpt_attach(&h, s.kio, &s.iopt, &s.dev, KVM_IOMMU_POLICY_AUTO), 0);
	ASSERT_EQ(h.mode, IOMMU_KVM_MODE_PINNED);
	ASSERT_EQ(h.reasons, IOMMU_KVM_SHARE_KVM_ZAPS);
	ASSERT_EQ(dma_write(&s.dma, 0x5000, w, sizeof(w)), 0);
	ASSERT_EQ(kvm_model_guest_read(s.kvm, 0x5000, r, sizeof(r)), 0);
	ASSERT_EQ(memcmp(w, r, sizeof(r)), 0);
	kt_kvm_hwpt_detach(&h);
	ASSERT_TRUE(teardown(&s));
	return true;
}

/* Whether a leaf lets the guest execute from it, in @c's encoding. */
static bool spte_exec(const struct kspte_cfg *c, u64 spte)
{
	struct kspte_masks m;

	kspte_masks(c, &m);
	return (!m.x || (spte & m.x)) && !(spte & m.nx);
}

/*
 * The host turns the NX huge page mitigation on while a device that cannot
 * fault shares KVM's table (NPT), mapped with 2 MiB leaves: KVM's fast zap
 * spares the exported root, whose huge leaves become non-executable in
 * place instead (so a vCPU executing from one faults and splits it), the
 * IOMMU drops what it cached of them, and DMA goes on with no fault.
 */
TEST(shared_nx_huge_pages_turned_on_keeps_dma_of_huge_leaves)
{
	const u64 base = 32ULL << 20, x = base + 0x7000;
	struct kspte_cfg c = npt_cfg();
	u64 spte, inv, changes;
	unsigned int level;
	struct kt_shared s;
	u8 w[16], r[16];
	u32 reasons;

	c.nx_huge_pages = false;
	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(kvm_model_set_slot_flags(s.kvm, 1, base, 4ULL << 20, KVM_MODEL_SLOT_HUGE), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	spte = kvm_model_spte(s.kvm, x, &level);
	ASSERT_EQ(level, 2);
	ASSERT_TRUE(spte_exec(&c, spte));
	ASSERT_EQ(dma_read(&s.dma, x, r, sizeof(r)), 0);	/* cached */
	inv = vtd_stats(s.hw).inv_iotlb_psi + vtd_stats(s.hw).inv_iotlb_dsi;
	changes = s.kvm->changes;

	kvm_model_set_nx_huge_pages(s.kvm, true);
	spte = kvm_model_spte(s.kvm, x, &level);
	ASSERT_EQ(level, 2);			/* not zapped */
	ASSERT_FALSE(spte_exec(&c, spte));
	ASSERT_EQ(s.kvm->changes, changes);	/* the exported root was spared */
	ASSERT_GT(vtd_stats(s.hw).inv_iotlb_psi + vtd_stats(s.hw).inv_iotlb_dsi, inv);
	ASSERT_EQ(vtd_stats(s.hw).stale_iotlb, 0);
	fill(w, sizeof(w), 0x3c);
	ASSERT_EQ(dma_write(&s.dma, x, w, sizeof(w)), 0);
	ASSERT_EQ(kvm_model_guest_read(s.kvm, x, r, sizeof(r)), 0);
	ASSERT_EQ(memcmp(w, r, sizeof(r)), 0);
	ASSERT_EQ(vtd_fault_count(s.hw), 0);
	ASSERT_TRUE(teardown(&s));
	return true;
}

/*
 * The VMM discards one page inside a 2 MiB leaf of pages the IOAS holds:
 * KVM splits the leaf in place and zaps that page only, so the device
 * keeps the other 511 translations (zapping the whole leaf would take
 * away what the VMM did not remove).
 */
TEST(shared_discard_inside_a_huge_leaf_keeps_its_other_pages)
{
	const u64 base = 32ULL << 20, x = base + 0x12c000;
	struct kspte_cfg c = npt_cfg();
	unsigned int level, i;
	struct kt_shared s;
	u64 huge0 = 0;
	u32 reasons;
	u8 w[16], r[16];

	ASSERT_TRUE(setup(&s, &c, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM));
	ASSERT_EQ(kvm_model_set_slot_flags(s.kvm, 1, base, 4ULL << 20, KVM_MODEL_SLOT_HUGE), 0);
	ASSERT_EQ(share(&s, &reasons), 0);
	kvm_model_spte(s.kvm, x, &level);
	ASSERT_EQ(level, 2);			/* the attach mapped it with a 2 MiB leaf */
	huge0 = s.kvm->huge_faults;
	ASSERT_GT(huge0, 0);

	kvm_model_mm_event(s.kvm, x, PAGE_SIZE, MMU_NOTIFY_DISCARD, false);
	ASSERT_EQ(dma_write(&s.dma, x, w, sizeof(w)), -EFAULT);	/* the VMM removed it */
	for (i = 0; i < 512; i++) {
		u64 gpa = base + i * PAGE_SIZE;		/* the 2 MiB region of x */

		if (gpa == x)
			continue;
		fill(w, sizeof(w), (u8)i);
		ASSERT_EQ(dma_write(&s.dma, gpa, w, sizeof(w)), 0);
		ASSERT_EQ(kvm_model_guest_read(s.kvm, gpa, r, sizeof(r)), 0);
		ASSERT_EQ(memcmp(w, r, sizeof(r)), 0);
	}
	kvm_model_spte(s.kvm, x + PAGE_SIZE, &level);
	ASSERT_EQ(level, 1);			/* split in place */
	ASSERT_GT(stat_kept(&s), 0);
	while (vtd_fault_count(s.hw)) {
		struct vtdm_fault f;

		ASSERT_TRUE(vtd_fault_pop(s.hw, &f));
		ASSERT_EQ(f.addr, x);
	}
	ASSERT_TRUE(teardown(&s));
	return true;
}
