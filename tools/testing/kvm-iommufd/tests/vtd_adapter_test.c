// SPDX-License-Identifier: GPL-2.0
/*
 * The product's VT-d adapter (arch/x86/kvm-iommu/vtd.c): PASID entry
 * encoding checked field by field and by the model's walk, the PSI cover
 * computation against a brute-force reference, and the invalidation
 * batches it submits.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../harness/test.h"
#include "fixture.h"

TEST(adapter_pasid_entry_fields)
{
	const u64 ecap = VTDM_QEMU_ECAP_SM | BIT_ULL(48) | BIT_ULL(7) | BIT_ULL(45);
	struct kvm_iommu_vtd_ss_cfg cfg = {
		.root = 0x12345000, .levels = 4, .did = 0xbeef,
		.ssade = true, .pgsnp = true,
	};
	u64 pe[8];
	int i;

	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(VTDM_QEMU_CAP_AW48, ecap, &cfg, pe), 0);
	ASSERT_EQ(pe[0] & 1, 1);			/* P */
	ASSERT_EQ((pe[0] >> 1) & 1, 0);			/* FPD clear: faults reported */
	ASSERT_EQ((pe[0] >> 2) & 7, 2);			/* AW: 48 bits, 4 levels */
	ASSERT_EQ((pe[0] >> 6) & 7, 2);			/* PGTT: second stage only */
	ASSERT_EQ((pe[0] >> 9) & 1, 1);			/* SSADE */
	ASSERT_EQ(pe[0] & ~0xfffULL, 0x12345000);	/* SSPTPTR */
	ASSERT_EQ(pe[1] & 0xffff, 0xbeef);		/* DID */
	ASSERT_EQ((pe[1] >> 23) & 1, 1);		/* PWSNP: ECAP.SMPWC */
	ASSERT_EQ((pe[1] >> 24) & 1, 1);		/* PGSNP */
	for (i = 2; i < 8; i++)
		ASSERT_EQ(pe[i], 0);

	/* no SMPWC: no page-walk snoop requested */
	cfg.ssade = cfg.pgsnp = false;
	ASSERT_EQ(kvm_iommu_vtd_ss_pasid_entry(VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM,
					       &cfg, pe), 0);
	ASSERT_EQ((pe[1] >> 23) & 3, 0);
	ASSERT_EQ((pe[0] >> 9) & 1, 0);
	return true;
}

TEST(adapter_pasid_entry_errors)
{
	struct kvm_iommu_vtd_ss_cfg cfg = { .root = 0x1000, .levels = 4, .did = 1 };
	const u64 cap = VTDM_QEMU_CAP_AW48, ecap = VTDM_QEMU_ECAP_SM;
	u64 pe[8] = { 0xabcd };

	cfg.root = 0;
	ASSERT_ERRNO(-EINVAL, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	cfg.root = 0x1800;
	ASSERT_ERRNO(-EINVAL, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	cfg.root = 0x1000;
	cfg.levels = 2;
	ASSERT_ERRNO(-EINVAL, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	cfg.levels = 6;
	ASSERT_ERRNO(-EINVAL, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	/* 5 levels: QEMU's SAGAW has 39 and 48 bits only */
	cfg.levels = 5;
	ASSERT_ERRNO(-EOPNOTSUPP, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	/* 4 levels on a unit configured with aw-bits=39 */
	cfg.levels = 4;
	ASSERT_ERRNO(-EOPNOTSUPP, kvm_iommu_vtd_ss_pasid_entry(VTDM_QEMU_CAP_AW39, ecap,
							       &cfg, pe));
	ASSERT_ERRNO(-EOPNOTSUPP, kvm_iommu_vtd_ss_pasid_entry(cap, ecap & ~BIT_ULL(43),
							       &cfg, pe));
	ASSERT_ERRNO(-EOPNOTSUPP, kvm_iommu_vtd_ss_pasid_entry(cap, ecap & ~BIT_ULL(46),
							       &cfg, pe));
	cfg.ssade = true;	/* QEMU has no SLADS */
	ASSERT_ERRNO(-EOPNOTSUPP, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	cfg.ssade = false;
	cfg.pgsnp = true;	/* QEMU has no SC */
	ASSERT_ERRNO(-EOPNOTSUPP, kvm_iommu_vtd_ss_pasid_entry(cap, ecap, &cfg, pe));
	ASSERT_EQ(pe[0], 0xabcd);	/* untouched on every error */
	return true;
}

/* Reference: try every order from 0 up. */
static unsigned int ref_psi_order(u64 start, u64 end)
{
	unsigned int o;

	for (o = 0; o < 52; o++) {
		u64 base = (start >> (12 + o)) << (12 + o);

		if (base + (1ULL << (12 + o)) >= end)
			return o;
	}
	return 52;
}

TEST(adapter_psi_order_matches_brute_force)
{
	unsigned int i;

	srand(12345);
	for (i = 0; i < 20000; i++) {
		u64 start = ((u64)rand() << 20 ^ rand()) & GENMASK_ULL(46, 0);
		u64 len = 1 + (((u64)rand() << 8 ^ rand()) >> (rand() % 30));
		u64 base, end = start + len;
		unsigned int o = kvm_iommu_vtd_psi_order(start, end, &base);

		ASSERT_EQ(o, ref_psi_order(start, end));
		ASSERT_LE(base, start);
		ASSERT_GE(base + (1ULL << (12 + o)), end);
		ASSERT_EQ(base & ((1ULL << (12 + o)) - 1), 0);
	}
	return true;
}

TEST(adapter_flush_is_one_batch_with_one_wait)
{
	struct kt_vtd f;
	struct vtdm_stats s;

	ASSERT_TRUE(kt_vtd_setup(&f, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM, 4, 0));
	/* 3 pages straddling a 16K boundary: one PSI of order 3 */
	ASSERT_EQ(kvm_iommu_vtd_flush_range(f.iommu, 3, 0x3000, 0x6000, true), 0);
	s = vtd_stats(f.hw);
	ASSERT_EQ(s.inv_iotlb_psi, 1);
	ASSERT_EQ(s.qi_waits, 1);
	ASSERT_EQ(f.iommu->qi_submits, 1);
	ASSERT_EQ(f.iommu->qi_descs, 2);
	/* 1 TiB: beyond MAMV 18, domain-selective instead */
	ASSERT_EQ(kvm_iommu_vtd_flush_range(f.iommu, 3, 0, 1ULL << 40, false), 0);
	s = vtd_stats(f.hw);
	ASSERT_EQ(s.inv_iotlb_dsi, 1);
	ASSERT_EQ(s.inv_iotlb_psi, 1);
	ASSERT_EQ(f.iommu->qi_submits, 2);
	/* bad range: nothing submitted */
	ASSERT_ERRNO(-EINVAL, kvm_iommu_vtd_flush_range(f.iommu, 3, 0x5000, 0x5000, true));
	ASSERT_EQ(f.iommu->qi_submits, 2);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

TEST(adapter_flush_without_psi_is_domain_selective)
{
	struct kt_vtd f;

	ASSERT_TRUE(kt_vtd_setup(&f, VTDM_QEMU_CAP_AW48 & ~BIT_ULL(39),
				 VTDM_QEMU_ECAP_SM, 4, 0));
	ASSERT_EQ(kvm_iommu_vtd_flush_range(f.iommu, 3, 0x3000, 0x4000, true), 0);
	ASSERT_EQ(vtd_stats(f.hw).inv_iotlb_dsi, 1);
	ASSERT_EQ(vtd_stats(f.hw).inv_iotlb_psi, 0);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}
