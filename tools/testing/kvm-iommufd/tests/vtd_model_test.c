// SPDX-License-Identifier: GPL-2.0
/*
 * The VT-d model: second-stage walks, reserved-bit faults, permissions,
 * caches that stay stale until invalidated, queued invalidation.
 */
#include <stdio.h>

#include "../harness/test.h"
#include "fixture.h"

#define QEMU48	VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM

static u64 xlate(struct kt_vtd *f, u64 iova, bool write, enum vtdm_fault_reason *r,
		 unsigned int *shift)
{
	u64 hpa = ~0ULL;

	*r = vtd_translate(f->hw, KT_SID, VTDM_NO_PASID, iova, write, &hpa, shift);
	return hpa;
}

TEST(vtd_walks_4k_2m_1g_leaves)
{
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	unsigned int sh;
	u64 hpa;

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 9));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x1000, f.ram + 0x5000, 0x1000, 12, 3), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x200000, f.ram, SZ_2M, 21, 3), 0);
	/* A 1G leaf: the HPA need not be backed for a translation check. */
	ASSERT_EQ(kt_ss_map(&f.ss, 0x40000000, 0x40000000, SZ_1G, 30, 1), 0);

	hpa = xlate(&f, 0x1abc, true, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);
	ASSERT_EQ(hpa, f.ram + 0x5abc);
	ASSERT_EQ(sh, 12);
	hpa = xlate(&f, 0x3fffff, false, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);
	ASSERT_EQ(hpa, f.ram + 0x1fffff);
	ASSERT_EQ(sh, 21);
	hpa = xlate(&f, 0x7ffff123, false, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);
	ASSERT_EQ(hpa, 0x7ffff123);
	ASSERT_EQ(sh, 30);
	/* the 1G leaf is read-only */
	xlate(&f, 0x40000000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_F_SS_WRITE);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_not_present_is_recorded)
{
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	struct vtdm_fault flt;
	unsigned int sh;

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 0));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	xlate(&f, 0x123000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_F_SS_NP);
	ASSERT_EQ(vtd_fault_count(f.hw), 1);
	ASSERT_TRUE(vtd_fault_pop(f.hw, &flt));
	ASSERT_EQ(flt.reason, VTDM_F_SS_NP);
	ASSERT_EQ(flt.sid, KT_SID);
	ASSERT_EQ(flt.addr, 0x123000);
	ASSERT_TRUE(flt.write);
	ASSERT_EQ(flt.level, 4);
	ASSERT_FALSE(vtd_fault_pop(f.hw, &flt));
	/* a device with no context entry */
	ASSERT_EQ(vtd_translate(f.hw, 0x0100, VTDM_NO_PASID, 0, false, &(u64){0}, NULL),
		  VTDM_F_ROOT_NP);
	/* beyond the 4-level address width */
	xlate(&f, 1ULL << 48, false, &r, &sh);
	ASSERT_EQ(r, VTDM_F_INPUT_WIDTH);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

/* Set and clear bits in the entry at @level of @iova's walk; returns the old value. */
static u64 poke(struct kt_vtd *f, u64 iova, unsigned int level, u64 set, u64 clear)
{
	u64 old;

	u64 table = f->ss.root, *e = NULL;
	unsigned int l;

	for (l = f->ss.levels; l >= level; l--) {
		e = (u64 *)phys_va(f->pm, table) + ((iova >> (12 + 9 * (l - 1))) & 511);
		table = *e & GENMASK_ULL(51, 12);
	}
	old = *e;
	*e = (*e & ~clear) | set;
	return old;
}

struct rsvd_case {
	const char *what;
	unsigned int leaf_shift;	/* mapping used: 12 or 21 */
	unsigned int level;		/* entry poked */
	u64 bits;
	u64 ecap;
	enum vtdm_fault_reason expect;
};

TEST(vtd_reserved_bits_follow_the_spec)
{
	const u64 sm = VTDM_QEMU_ECAP_SM;
	const u64 legacy = VTDM_QEMU_ECAP_SM & ~(BIT_ULL(43) | BIT_ULL(7));
	const struct rsvd_case cases[] = {
		{ "SNP in a non-leaf (L4)", 12, 4, BIT_ULL(11), sm, VTDM_F_SS_RSVD },
		{ "SNP in a non-leaf (L2)", 12, 2, BIT_ULL(11), sm, VTDM_F_SS_RSVD },
		{ "SNP in a 4K leaf, scalable", 12, 1, BIT_ULL(11), sm, VTDM_OK },
		{ "SNP in a 4K leaf, no SM/SC", 12, 1, BIT_ULL(11), legacy, VTDM_F_SS_RSVD },
		{ "SNP in a 2M leaf, scalable", 21, 2, BIT_ULL(11), sm, VTDM_OK },
		{ "PS in an L4 entry", 12, 4, BIT_ULL(7), sm, VTDM_F_SS_RSVD },
		{ "TM in a leaf", 12, 1, BIT_ULL(62), sm, VTDM_F_SS_RSVD },
		{ "address bit 48 (HAW 48)", 12, 1, BIT_ULL(48), sm, VTDM_F_SS_RSVD },
		{ "address bit 50 in a non-leaf", 12, 3, BIT_ULL(50), sm, VTDM_F_SS_RSVD },
		{ "offset bit 12 in a 2M leaf", 21, 2, BIT_ULL(12), sm, VTDM_F_SS_RSVD },
		{ "ignored 2-6,8-10 in a leaf", 12, 1, GENMASK_ULL(6, 2) | GENMASK_ULL(10, 8), sm, VTDM_OK },
		{ "ignored 2-6,8-10 in non-leaves", 12, 3, GENMASK_ULL(6, 2) | GENMASK_ULL(10, 8), sm, VTDM_OK },
		{ "ignored 52-61,63 in a leaf", 12, 1, GENMASK_ULL(61, 52) | BIT_ULL(63), sm, VTDM_OK },
		{ "ignored 52-61,63 in the L4", 12, 4, GENMASK_ULL(61, 52) | BIT_ULL(63), sm, VTDM_OK },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct rsvd_case *c = &cases[i];
		enum vtdm_fault_reason r;
		struct kt_vtd f;
		unsigned int sh;
		u64 iova = 0x40200000, old;

		u64 pe[8];
		struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = KT_DID };

		ASSERT_TRUE(kt_vtd_setup(&f, VTDM_QEMU_CAP_AW48, c->ecap, 4, 9));
		/* encoded for a scalable-mode unit; the model checks leaves per c->ecap */
		cfg.root = f.ss.root;
		ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(VTDM_QEMU_CAP_AW48, sm, &cfg, pe), 0);
		ASSERT_EQ(kt_intel_set_pasid_entry(f.iommu, KT_SID, pe), 0);
		ASSERT_EQ(kt_ss_map(&f.ss, iova, f.ram, c->leaf_shift == 21 ? SZ_2M : SZ_4K,
				    c->leaf_shift, 3), 0);
		old = poke(&f, iova, c->level, c->bits, 0);
		xlate(&f, iova + 0x10, true, &r, &sh);
		poke(&f, iova, c->level, old, ~0ULL);	/* restore, so teardown frees all */
		if (r != c->expect)
			printf("#   case '%s': got '%s'\n", c->what, vtd_fault_name(r));
		ASSERT_EQ(r, c->expect);
		ASSERT_TRUE(kt_vtd_teardown(&f));
	}
	return true;
}

TEST(vtd_1g_leaf_needs_sllps)
{
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	unsigned int sh;
	u64 cap = VTDM_QEMU_CAP_AW48 & ~(2ULL << 34);	/* 2M only */

	ASSERT_TRUE(kt_vtd_setup(&f, cap, VTDM_QEMU_ECAP_SM, 4, 0));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0, 0, SZ_1G, 30, 3), 0);
	xlate(&f, 0x1000, false, &r, &sh);
	ASSERT_EQ(r, VTDM_F_SS_RSVD);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_permission_is_the_and_of_all_levels)
{
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	unsigned int sh;

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 0));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x5000, f.ram, SZ_4K, 12, 3), 0);
	poke(&f, 0x5000, 3, 0, BIT_ULL(1));	/* W clear in the L3 entry */
	xlate(&f, 0x5000, false, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);
	xlate(&f, 0x5000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_F_SS_WRITE);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_iotlb_stays_stale_until_invalidated)
{
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	unsigned int sh;
	u64 hpa;

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 1));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x10000, f.ram, SZ_4K, 12, 3), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x80000, f.ram + SZ_4K, SZ_4K, 12, 3), 0);
	xlate(&f, 0x10000, true, &r, &sh);
	xlate(&f, 0x80000, true, &r, &sh);
	ASSERT_EQ(vtd_iotlb_count(f.hw), 2);

	ASSERT_EQ(kt_ss_unmap(&f.ss, 0x10000, SZ_4K), 0);
	hpa = xlate(&f, 0x10000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);			/* stale, as hardware would be */
	ASSERT_EQ(hpa, f.ram);

	/* invalidating another range leaves it */
	ASSERT_EQ(kvm_iommu_vtd_flush_range(f.iommu, KT_DID, 0x20000, 0x21000, true), 0);
	xlate(&f, 0x10000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);
	/* and so does another domain id */
	ASSERT_EQ(kvm_iommu_vtd_flush_range(f.iommu, KT_DID + 1, 0x10000, 0x11000, true), 0);
	xlate(&f, 0x10000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);

	ASSERT_EQ(kvm_iommu_vtd_flush_range(f.iommu, KT_DID, 0x10000, 0x11000, true), 0);
	xlate(&f, 0x10000, true, &r, &sh);
	ASSERT_EQ(r, VTDM_F_SS_NP);
	/* the other page's entry survived the page-selective invalidation */
	xlate(&f, 0x80000, true, &r, &sh);
	ASSERT_EQ(vtd_stats(f.hw).iotlb_hits, 4);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_pasid_cache_stays_stale_until_invalidated)
{
	struct kt_vtd f;
	struct kt_ss_table other;
	enum vtdm_fault_reason r;
	unsigned int sh;
	u64 *pe_slot, hpa;
	struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = KT_DID };
	u64 pe[8];
	struct qi_desc pc = { .qw0 = 7 | (1ULL << 4) | ((u64)KT_DID << 16) };

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 1));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ASSERT_EQ(kt_ss_table_init(&other, f.pm, 4), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x1000, f.ram, SZ_4K, 12, 3), 0);
	ASSERT_EQ(kt_ss_map(&other, 0x1000, f.ram + SZ_4K, SZ_4K, 12, 3), 0);
	hpa = xlate(&f, 0x1000, false, &r, &sh);
	ASSERT_EQ(hpa, f.ram);

	/* Rewrite the PASID entry in memory, no invalidation at all. */
	cfg.root = other.root;
	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(f.iommu->cap, f.iommu->ecap, &cfg, pe), 0);
	{
		u64 *root = phys_va(f.pm, f.iommu->root_table);
		u64 *ce = phys_va(f.pm, (root[0] & PAGE_MASK) + (KT_SID & 0x7f) * 32);
		u64 *pde = phys_va(f.pm, ce[0] & PAGE_MASK);

		pe_slot = phys_va(f.pm, pde[0] & PAGE_MASK);
		memcpy(pe_slot, pe, sizeof(pe));
	}
	ASSERT_EQ(kvm_iommu_vtd_flush_domain(f.iommu, KT_DID), 0);
	hpa = xlate(&f, 0x1000, false, &r, &sh);
	ASSERT_EQ(hpa, f.ram);			/* the old PASID entry, cached */
	ASSERT_EQ(qi_submit_sync(f.iommu, &pc, 1, 0), 0);
	ASSERT_EQ(kvm_iommu_vtd_flush_domain(f.iommu, KT_DID), 0);
	hpa = xlate(&f, 0x1000, false, &r, &sh);
	ASSERT_EQ(hpa, f.ram + SZ_4K);
	kt_ss_table_free(&other);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_queue_error_on_a_bad_descriptor)
{
	struct kt_vtd f;
	struct qi_desc bad = { .qw0 = 0xf };	/* no such type */
	struct qi_desc psi_bad_am = { .qw0 = 2 | (3ULL << 4), .qw1 = 63 };
	u64 iqh;

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 0));
	iqh = vtd_get_iqh(f.hw);
	ASSERT_EQ(qi_submit_sync(f.iommu, &bad, 1, 0), -EINVAL);
	ASSERT_EQ(qi_submit_sync(f.iommu, &psi_bad_am, 1, 0), -EINVAL);
	/* the queue recovers and completes the next wait */
	ASSERT_EQ(kvm_iommu_vtd_flush_domain(f.iommu, KT_DID), 0);
	ASSERT_FALSE(vtd_iqe(f.hw));
	ASSERT_NE(vtd_get_iqh(f.hw), iqh);
	ASSERT_GE(vtd_stats(f.hw).qi_waits, 1);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_ssade_sets_accessed_and_dirty)
{
	const u64 ecap = VTDM_QEMU_ECAP_SM | BIT_ULL(45);	/* SLADS */
	struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = KT_DID, .ssade = true };
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	unsigned int sh;
	u64 pe[8], *leaf, *l4;

	ASSERT_TRUE(kt_vtd_setup(&f, VTDM_QEMU_CAP_AW48, ecap, 4, 0));
	cfg.root = f.ss.root;
	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(f.iommu->cap, ecap, &cfg, pe), 0);
	ASSERT_EQ(kt_intel_set_pasid_entry(f.iommu, KT_SID, pe), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x3000, f.ram, SZ_4K, 12, 3), 0);
	l4 = phys_va(f.pm, f.ss.root);
	xlate(&f, 0x3000, false, &r, &sh);
	ASSERT_EQ(r, VTDM_OK);
	{
		u64 table = f.ss.root;
		unsigned int l;

		for (l = 4; l > 1; l--)
			table = ((u64 *)phys_va(f.pm, table))[(0x3000ULL >> (12 + 9 * (l - 1))) & 511] &
				GENMASK_ULL(51, 12);
		leaf = (u64 *)phys_va(f.pm, table) + 3;
	}
	ASSERT_TRUE(l4[0] & BIT_ULL(8));
	ASSERT_TRUE(*leaf & BIT_ULL(8));
	ASSERT_FALSE(*leaf & BIT_ULL(9));
	ASSERT_EQ(kvm_iommu_vtd_flush_domain(f.iommu, KT_DID), 0);
	xlate(&f, 0x3000, true, &r, &sh);
	ASSERT_TRUE(*leaf & BIT_ULL(9));
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_aw_outside_sagaw_faults)
{
	struct kt_vtd f;
	enum vtdm_fault_reason r;
	unsigned int sh;
	u64 pe[8];
	struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = KT_DID };

	/* The unit supports 4 levels; the entry asks for 3 (AW 1) via a raw write. */
	ASSERT_TRUE(kt_vtd_setup(&f, VTDM_QEMU_CAP_AW48 & ~(2ULL << 8), VTDM_QEMU_ECAP_SM, 4, 0));
	cfg.root = f.ss.root;
	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(f.iommu->cap, f.iommu->ecap, &cfg, pe), 0);
	pe[0] = (pe[0] & ~GENMASK_ULL(4, 2)) | (1ULL << 2);
	ASSERT_EQ(kt_intel_set_pasid_entry(f.iommu, KT_SID, pe), 0);
	xlate(&f, 0, false, &r, &sh);
	ASSERT_EQ(r, VTDM_F_AW);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(dma_moves_bytes_and_is_blocked_when_unmapped)
{
	struct kt_vtd f;
	u8 *ram, pattern[4095];
	unsigned int i;

	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 4));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ram = phys_va(f.pm, f.ram);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x100000, f.ram, 4 * SZ_4K, 12, 3), 0);
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (u8)(i * 7 + 3);
	memcpy(ram, pattern, sizeof(pattern));
	memset(ram + 2 * SZ_4K, 0x5a, SZ_4K);
	memset(ram + 8 * SZ_4K, 0xee, SZ_4K);	/* sentinel page, never mapped */

	ASSERT_EQ(dma_copy(&f.dev, 0x100000, 0x102000, sizeof(pattern)), 0);
	ASSERT_EQ(memcmp(ram + 2 * SZ_4K, pattern, sizeof(pattern)), 0);
	ASSERT_EQ(f.dev.bytes_written, sizeof(pattern));

	/* IOVA 0x108000 is not mapped: nothing lands anywhere */
	ASSERT_EQ(dma_copy(&f.dev, 0x100000, 0x108000, 64), -EFAULT);
	ASSERT_EQ(f.dev.last_fault, VTDM_F_SS_NP);
	for (i = 0; i < SZ_4K; i++)
		ASSERT_EQ(ram[8 * SZ_4K + i], 0xee);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

/* ---- page requests, page group responses, translation requests ---- */

#define OTHER_SID	0x0020	/* 00:04.0 */

/* Responses an endpoint received and interrupts the unit raised. */
struct prq_rec {
	unsigned int n;
	struct vtdm_prg_resp last;
	unsigned int irqs;
};

static void rec_resp(void *priv, const struct vtdm_prg_resp *resp)
{
	struct prq_rec *rec = priv;

	rec->n++;
	rec->last = *resp;
}

static void rec_irq(void *priv)
{
	((struct prq_rec *)priv)->irqs++;
}

/*
 * A unit with ATS and page requests; the fixture's device registered for
 * page requests (so its context entry has DTE and PRE) and attached; a
 * one-page page request queue at *@q, programmed as the driver does.
 */
static bool prq_setup(struct kt_vtd *f, struct device *dev, u64 *q)
{
	ASSERT_TRUE(kt_vtd_setup(f, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI, 4, 4));
	*dev = (struct device){ .sid = KT_SID };
	ASSERT_EQ(kt_intel_prq_register_dev(f->iommu, dev), 0);
	ASSERT_EQ(kt_vtd_attach(f), 0);
	*q = phys_alloc_kind(f->pm, 0, PHYS_IOMMU);
	ASSERT_NE(*q, 0);
	vtd_set_pqh(f->hw, 0);
	vtd_set_pqt(f->hw, 0);
	vtd_set_pqa(f->hw, *q | 0);	/* PQS 0: one page, 128 descriptors */
	return true;
}

static bool prq_teardown(struct kt_vtd *f, u64 q)
{
	vtd_set_pqa(f->hw, 0);
	phys_free(f->pm, q, 0);
	return kt_vtd_teardown(f);
}

/* Copy the device's PASID entry 0 into slot @pasid of its PASID table. */
static void clone_pasid_entry(struct kt_vtd *f, u16 sid, u32 pasid)
{
	u64 *root = phys_va(f->pm, f->iommu->root_table);
	u64 *ce = phys_va(f->pm, (root[(sid >> 8) * 2] & PAGE_MASK) + (sid & 0x7f) * 32);
	u64 *pde = phys_va(f->pm, ce[0] & PAGE_MASK);
	u64 *pt = phys_va(f->pm, pde[0] & PAGE_MASK);

	memcpy(pt + pasid * 8, pt, 64);
}

static u64 desc_qw(struct kt_vtd *f, u64 q, unsigned int slot, unsigned int qw)
{
	return phys_load64(f->pm, q + slot * 32 + qw * 8);
}

TEST(vtd_prq_descriptors_as_the_spec_lays_them_out)
{
	struct prq_rec rec = { 0 };
	struct device dev;
	struct kt_vtd f;
	u64 q;
	struct vtdm_page_req a = {
		.sid = KT_SID, .pasid = VTDM_NO_PASID, .addr = 0x12345678,
		.read = true, .prgi = 0x1a5,
	};
	struct vtdm_page_req b = {
		.sid = KT_SID, .pasid = 0x2b, .addr = 0x7ffff000,
		.write = true, .lpig = true, .prgi = 0x0ff,
	};
	struct vtdm_page_req c = {
		.sid = KT_SID, .pasid = VTDM_NO_PASID, .addr = 0x3000,
		.read = true, .write = true, .lpig = true, .prgi = 0x100,
	};

	if (!prq_setup(&f, &dev, &q))
		return false;
	clone_pasid_entry(&f, KT_SID, 0x2b);
	vtd_set_prq_irq(f.hw, rec_irq, &rec);
	/* the event is masked at reset */
	ASSERT_TRUE(vtd_get_pectl(f.hw) & VTDM_PECTL_IM);

	ASSERT_EQ(vtd_page_request(f.hw, &a), VTDM_PRQ_QUEUED);
	ASSERT_EQ(vtd_get_pqt(f.hw), 32);
	ASSERT_EQ(vtd_get_prs(f.hw), VTDM_PRS_PPR);
	/* held pending (IP), not delivered, while masked */
	ASSERT_EQ(rec.irqs, 0);
	ASSERT_TRUE(vtd_get_pectl(f.hw) & VTDM_PECTL_IP);
	/* type 1, no PASID present (bit 8), RID in 31:16 */
	ASSERT_EQ(desc_qw(&f, q, 0, 0), 0x01ULL | ((u64)KT_SID << 16));
	/* address 63:12, PRGI 11:3, LPIG 2, WRR 1, RDR 0 */
	ASSERT_EQ(desc_qw(&f, q, 0, 1), 0x12345000ULL | (0x1a5ULL << 3) | 1);
	ASSERT_EQ(desc_qw(&f, q, 0, 2), 0);
	ASSERT_EQ(desc_qw(&f, q, 0, 3), 0);

	/* unmasking delivers the held event once */
	vtd_set_pectl(f.hw, 0);
	ASSERT_EQ(rec.irqs, 1);
	ASSERT_FALSE(vtd_get_pectl(f.hw) & VTDM_PECTL_IP);

	/* PPR still set: a second descriptor raises no new event */
	ASSERT_EQ(vtd_page_request(f.hw, &b), VTDM_PRQ_QUEUED);
	ASSERT_EQ(rec.irqs, 1);
	ASSERT_EQ(desc_qw(&f, q, 1, 0), 0x01ULL | BIT_ULL(8) | ((u64)KT_SID << 16) |
					   (0x2bULL << 32));
	ASSERT_EQ(desc_qw(&f, q, 1, 1), 0x7ffff000ULL | (0x0ffULL << 3) | BIT_ULL(2) |
					   BIT_ULL(1));

	/* software cleared PPR: the next one interrupts again */
	vtd_clear_prs(f.hw, VTDM_PRS_PPR);
	ASSERT_EQ(vtd_get_prs(f.hw), 0);
	ASSERT_EQ(vtd_page_request(f.hw, &c), VTDM_PRQ_QUEUED);
	ASSERT_EQ(rec.irqs, 2);
	ASSERT_EQ(desc_qw(&f, q, 2, 1), 0x3000ULL | (0x100ULL << 3) | BIT_ULL(2) | 3);
	ASSERT_EQ(vtd_get_pqt(f.hw), 96);

	ASSERT_EQ(vtd_stats(f.hw).page_requests, 3);
	ASSERT_EQ(vtd_stats(f.hw).prq_descs, 3);
	ASSERT_EQ(vtd_stats(f.hw).prq_events, 2);
	ASSERT_EQ(vtd_stats(f.hw).prq_auto_responses, 0);
	ASSERT_EQ(vtd_fault_count(f.hw), 0);
	vtd_set_prq_irq(f.hw, NULL, NULL);
	return prq_teardown(&f, q);
}

TEST(vtd_prq_full_and_overflow_answer_success_for_lpig)
{
	struct prq_rec rec = { 0 }, irq = { 0 };
	struct vtdm_page_req r = { .sid = KT_SID, .pasid = VTDM_NO_PASID, .read = true };
	struct device dev;
	struct kt_vtd f;
	unsigned int i;
	u64 q;

	if (!prq_setup(&f, &dev, &q))
		return false;
	ASSERT_EQ(vtd_endpoint_register(f.hw, KT_SID, rec_resp, &rec), 0);
	vtd_set_prq_irq(f.hw, rec_irq, &irq);
	vtd_set_pectl(f.hw, 0);

	/* 128 slots, 127 usable: the tail never catches up with the head */
	for (i = 0; i < 127; i++) {
		r.addr = (u64)i << 12;
		r.prgi = i;
		ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_QUEUED);
	}
	ASSERT_EQ(vtd_get_pqt(f.hw), 127 * 32);
	ASSERT_EQ(irq.irqs, 1);
	vtd_clear_prs(f.hw, VTDM_PRS_PPR);

	/* full: dropped, PRO set (an event: PPR and PRO were clear), Success */
	r.addr = 0x999000;
	r.prgi = 0x77;
	r.lpig = true;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_FULL);
	ASSERT_EQ(vtd_get_prs(f.hw), VTDM_PRS_PRO);
	ASSERT_EQ(irq.irqs, 2);
	ASSERT_EQ(vtd_get_pqt(f.hw), 127 * 32);
	ASSERT_EQ(desc_qw(&f, q, 127, 1), 0);		/* nothing written */
	ASSERT_EQ(rec.n, 1);
	ASSERT_EQ(rec.last.code, VTDM_RESP_SUCCESS);
	ASSERT_EQ(rec.last.prgi, 0x77);
	ASSERT_EQ(rec.last.sid, KT_SID);
	ASSERT_FALSE(rec.last.pasid_present);
	ASSERT_TRUE(rec.last.automatic);

	/* overflow: dropped; not the last of its group: no response */
	r.lpig = false;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_OVERFLOW);
	ASSERT_EQ(rec.n, 1);
	/* software drained the queue, but PRO is still set: dropped still */
	vtd_set_pqh(f.hw, vtd_get_pqt(f.hw));
	r.lpig = true;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_OVERFLOW);
	ASSERT_EQ(rec.n, 2);
	ASSERT_EQ(rec.last.code, VTDM_RESP_SUCCESS);
	ASSERT_EQ(irq.irqs, 2);

	/* PRO cleared: written again, and the tail wraps */
	vtd_clear_prs(f.hw, VTDM_PRS_PRO);
	r.addr = 0xabc000;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_QUEUED);
	ASSERT_EQ(vtd_get_pqt(f.hw), 0);
	ASSERT_EQ(desc_qw(&f, q, 127, 1) & ~0xfffULL, 0xabc000);
	ASSERT_EQ(irq.irqs, 3);
	ASSERT_EQ(rec.n, 2);

	ASSERT_EQ(vtd_stats(f.hw).prq_full, 1);
	ASSERT_EQ(vtd_stats(f.hw).prq_overflow, 2);
	ASSERT_EQ(vtd_stats(f.hw).prq_auto_responses, 2);
	ASSERT_EQ(vtd_stats(f.hw).prq_descs, 128);
	ASSERT_EQ(vtd_fault_count(f.hw), 0);	/* none of this is a fault */
	vtd_endpoint_unregister(f.hw, KT_SID);
	vtd_set_prq_irq(f.hw, NULL, NULL);
	return prq_teardown(&f, q);
}

TEST(vtd_prq_table_error_is_a_fault_answered_invalid)
{
	struct prq_rec none = { 0 }, nopre = { 0 };
	struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = KT_DID };
	struct vtdm_page_req r = {
		.pasid = VTDM_NO_PASID, .addr = 0x5000, .write = true, .lpig = true,
		.prgi = 3,
	};
	struct vtdm_fault flt;
	struct device dev;
	struct kt_vtd f;
	u64 q, pe[8];

	if (!prq_setup(&f, &dev, &q))
		return false;
	/* a device with no context entry */
	ASSERT_EQ(vtd_endpoint_register(f.hw, 0x0100, rec_resp, &none), 0);
	r.sid = 0x0100;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_FAULT);
	ASSERT_EQ(none.n, 1);
	ASSERT_EQ(none.last.code, VTDM_RESP_INVALID);
	ASSERT_EQ(none.last.prgi, 3);
	ASSERT_TRUE(vtd_fault_pop(f.hw, &flt));
	ASSERT_EQ(flt.reason, VTDM_F_ROOT_NP);
	ASSERT_EQ(flt.sid, 0x0100);
	ASSERT_EQ(flt.addr, 0x5000);

	/* a device whose context entry does not enable page requests */
	cfg.root = f.ss.root;
	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(f.iommu->cap, f.iommu->ecap, &cfg, pe), 0);
	ASSERT_EQ(kt_intel_set_pasid_entry(f.iommu, OTHER_SID, pe), 0);
	ASSERT_EQ(vtd_endpoint_register(f.hw, OTHER_SID, rec_resp, &nopre), 0);
	r.sid = OTHER_SID;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_FAULT);
	ASSERT_EQ(nopre.n, 1);
	ASSERT_EQ(nopre.last.code, VTDM_RESP_INVALID);
	ASSERT_TRUE(nopre.last.automatic);
	ASSERT_TRUE(vtd_fault_pop(f.hw, &flt));
	ASSERT_EQ(flt.reason, VTDM_F_CTX_PRE);
	/* not the last of its group: dropped, recorded, not answered */
	r.lpig = false;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_FAULT);
	ASSERT_EQ(nopre.n, 1);
	ASSERT_EQ(vtd_fault_count(f.hw), 1);

	/* a PASID with no entry */
	r.sid = KT_SID;
	r.pasid = 9;
	r.lpig = true;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_FAULT);
	ASSERT_EQ(vtd_fault_count(f.hw), 2);
	ASSERT_EQ(vtd_get_pqt(f.hw), 0);		/* nothing was queued */
	ASSERT_EQ(vtd_stats(f.hw).prq_table_faults, 4);
	ASSERT_EQ(vtd_stats(f.hw).prg_dropped, 1);	/* KT_SID has no endpoint */
	vtd_endpoint_unregister(f.hw, 0x0100);
	vtd_endpoint_unregister(f.hw, OTHER_SID);
	return prq_teardown(&f, q);
}

TEST(vtd_page_request_invalidates_the_cached_page)
{
	struct vtdm_page_req r = {
		.sid = KT_SID, .pasid = VTDM_NO_PASID, .addr = 0x42000, .write = true,
		.lpig = true, .prgi = 1,
	};
	enum vtdm_fault_reason res;
	struct device dev;
	struct kt_vtd f;
	unsigned int sh;
	u64 q;

	if (!prq_setup(&f, &dev, &q))
		return false;
	ASSERT_EQ(kt_ss_map(&f.ss, 0x42000, f.ram, SZ_4K, 12, 1), 0);	/* read-only */
	ASSERT_EQ(kt_ss_map(&f.ss, 0x80000, f.ram + SZ_4K, SZ_4K, 12, 1), 0);
	xlate(&f, 0x42000, false, &res, &sh);
	ASSERT_EQ(res, VTDM_OK);
	xlate(&f, 0x80000, false, &res, &sh);
	ASSERT_EQ(vtd_iotlb_count(f.hw), 2);
	/* software upgrades both to read-write without invalidating */
	poke(&f, 0x42000, 1, BIT_ULL(1), 0);
	poke(&f, 0x80000, 1, BIT_ULL(1), 0);
	xlate(&f, 0x42000, true, &res, &sh);
	ASSERT_EQ(res, VTDM_F_SS_WRITE);		/* the cached read-only entry */
	ASSERT_EQ(vtd_fault_count(f.hw), 1);
	/* the page request for it takes the stale entry out (spec 6.5.3.1) */
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_QUEUED);
	ASSERT_EQ(vtd_iotlb_count(f.hw), 1);
	xlate(&f, 0x42000, true, &res, &sh);
	ASSERT_EQ(res, VTDM_OK);
	/* the other page stays stale */
	xlate(&f, 0x80000, true, &res, &sh);
	ASSERT_EQ(res, VTDM_F_SS_WRITE);
	ASSERT_EQ(vtd_iotlb_count(f.hw), 2);	/* 0x42000 read-write again */
	/* a request the unit drops (the queue overflowed) invalidates nothing */
	vtd_set_pqh(f.hw, 64);		/* PQT is 32: one slot short of the head */
	r.addr = 0x80000;
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_FULL);
	ASSERT_EQ(vtd_iotlb_count(f.hw), 2);
	xlate(&f, 0x80000, true, &res, &sh);
	ASSERT_EQ(res, VTDM_F_SS_WRITE);
	vtd_set_pqh(f.hw, 32);
	vtd_clear_prs(f.hw, VTDM_PRS_PRO);
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_QUEUED);
	ASSERT_EQ(vtd_iotlb_count(f.hw), 1);
	xlate(&f, 0x80000, true, &res, &sh);
	ASSERT_EQ(res, VTDM_OK);
	return prq_teardown(&f, q);
}

TEST(vtd_page_group_response_reaches_its_sid)
{
	struct prq_rec a = { 0 }, b = { 0 };
	struct qi_desc resp = {
		/* type 9, PASID present, Response Failure, RID, PASID 0x2b */
		.qw0 = 9 | BIT_ULL(4) | (0xfULL << 12) | ((u64)OTHER_SID << 16) |
		       (0x2bULL << 32),
		.qw1 = 0x1a5ULL << 3,	/* PRGI */
	};
	struct qi_desc to_nobody = { .qw0 = 9 | (0x0030ULL << 16), .qw1 = 7 << 3 };
	struct vtdm_page_req r = {
		.sid = KT_SID, .pasid = VTDM_NO_PASID, .read = true, .lpig = true,
	};
	struct kt_vtd f;

	ASSERT_TRUE(kt_vtd_setup(&f, VTDM_QEMU_CAP_AW48, VTDM_ECAP_SM_PRI, 4, 0));
	ASSERT_EQ(vtd_endpoint_register(f.hw, KT_SID, rec_resp, &a), 0);
	ASSERT_EQ(vtd_endpoint_register(f.hw, OTHER_SID, rec_resp, &b), 0);
	ASSERT_EQ(vtd_endpoint_register(f.hw, OTHER_SID, rec_resp, &b), -EBUSY);

	ASSERT_EQ(qi_submit_sync(f.iommu, &resp, 1, 0), 0);
	ASSERT_EQ(a.n, 0);
	ASSERT_EQ(b.n, 1);
	ASSERT_EQ(b.last.sid, OTHER_SID);
	ASSERT_TRUE(b.last.pasid_present);
	ASSERT_EQ(b.last.pasid, 0x2b);
	ASSERT_EQ(b.last.prgi, 0x1a5);
	ASSERT_EQ(b.last.code, VTDM_RESP_FAILURE);
	ASSERT_FALSE(b.last.automatic);

	/* a response for a RID nobody registered goes nowhere */
	ASSERT_EQ(qi_submit_sync(f.iommu, &to_nobody, 1, 0), 0);
	ASSERT_EQ(a.n + b.n, 1);
	vtd_endpoint_unregister(f.hw, OTHER_SID);
	ASSERT_EQ(qi_submit_sync(f.iommu, &resp, 1, 0), 0);
	ASSERT_EQ(b.n, 1);
	ASSERT_EQ(vtd_stats(f.hw).prg_responses, 3);
	ASSERT_EQ(vtd_stats(f.hw).prg_delivered, 1);
	ASSERT_EQ(vtd_stats(f.hw).prg_dropped, 2);
	vtd_endpoint_unregister(f.hw, KT_SID);
	ASSERT_TRUE(kt_vtd_teardown(&f));

	/* a unit without PRS: the descriptor is invalid, requests unsupported */
	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 0));
	ASSERT_EQ(vtd_endpoint_register(f.hw, KT_SID, rec_resp, &a), 0);
	ASSERT_EQ(qi_submit_sync(f.iommu, &resp, 1, 0), -EINVAL);
	ASSERT_EQ(vtd_page_request(f.hw, &r), VTDM_PRQ_UNSUPPORTED);
	ASSERT_EQ(a.n, 1);
	ASSERT_EQ(a.last.code, VTDM_RESP_INVALID);
	vtd_endpoint_unregister(f.hw, KT_SID);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(vtd_ats_translation_with_no_access_is_not_a_fault)
{
	struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = KT_DID };
	struct vtdm_ats_completion c;
	struct device dev;
	struct kt_vtd f;
	u64 q, pe[8], hpa;

	if (!prq_setup(&f, &dev, &q))
		return false;
	ASSERT_EQ(kt_ss_map(&f.ss, 0x1000, f.ram, SZ_4K, 12, 3), 0);
	ASSERT_EQ(kt_ss_map(&f.ss, 0x2000, f.ram + SZ_4K, SZ_4K, 12, 1), 0);
	/* a 2M leaf: the HPA need not be backed for a translation */
	ASSERT_EQ(kt_ss_map(&f.ss, 0x200000, 0x40000000, SZ_2M, 21, 3), 0);

	ASSERT_EQ(vtd_translate_ats(f.hw, KT_SID, VTDM_NO_PASID, 0x1abc, false, &c), VTDM_OK);
	ASSERT_TRUE(c.r && c.w);
	ASSERT_EQ(c.hpa, f.ram + 0xabc);
	ASSERT_EQ(c.shift, 12);
	ASSERT_EQ(vtd_translate_ats(f.hw, KT_SID, VTDM_NO_PASID, 0x3ff000, false, &c), VTDM_OK);
	ASSERT_EQ(c.shift, 21);
	ASSERT_EQ(c.hpa, 0x401ff000);
	/* not mapped: R=W=0, and no fault */
	ASSERT_EQ(vtd_translate_ats(f.hw, KT_SID, VTDM_NO_PASID, 0x5000, false, &c), VTDM_OK);
	ASSERT_FALSE(c.r || c.w);
	/* read-only: asked for write, granted read */
	ASSERT_EQ(vtd_translate_ats(f.hw, KT_SID, VTDM_NO_PASID, 0x2000, false, &c), VTDM_OK);
	ASSERT_TRUE(c.r);
	ASSERT_FALSE(c.w);
	/* no-write request of a read-write page: read only */
	ASSERT_EQ(vtd_translate_ats(f.hw, KT_SID, VTDM_NO_PASID, 0x1000, true, &c), VTDM_OK);
	ASSERT_TRUE(c.r);
	ASSERT_FALSE(c.w);
	ASSERT_EQ(vtd_fault_count(f.hw), 0);
	ASSERT_EQ(vtd_stats(f.hw).ats_requests, 5);
	ASSERT_EQ(vtd_stats(f.hw).ats_no_access, 1);
	/* the same page untranslated is a recorded fault */
	ASSERT_EQ(vtd_translate(f.hw, KT_SID, VTDM_NO_PASID, 0x5000, false, &hpa, NULL),
		  VTDM_F_SS_NP);
	ASSERT_EQ(vtd_fault_count(f.hw), 1);

	/* a device whose context entry does not enable the device-TLB */
	cfg.root = f.ss.root;
	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(f.iommu->cap, f.iommu->ecap, &cfg, pe), 0);
	ASSERT_EQ(kt_intel_set_pasid_entry(f.iommu, OTHER_SID, pe), 0);
	ASSERT_EQ(vtd_translate_ats(f.hw, OTHER_SID, VTDM_NO_PASID, 0x1000, false, &c),
		  VTDM_F_CTX_DTE);
	ASSERT_EQ(vtd_fault_count(f.hw), 2);
	ASSERT_TRUE(prq_teardown(&f, q));

	/* a unit without ECAP.DT answers no translation request */
	ASSERT_TRUE(kt_vtd_setup(&f, QEMU48, 4, 0));
	ASSERT_EQ(kt_vtd_attach(&f), 0);
	ASSERT_EQ(vtd_translate_ats(f.hw, KT_SID, VTDM_NO_PASID, 0x1000, false, &c),
		  VTDM_F_UNSUPPORTED);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}
