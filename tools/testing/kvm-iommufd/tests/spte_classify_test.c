// SPDX-License-Identifier: GPL-2.0
/*
 * Every SPTE state KVM 6.12 writes, walked by the VT-d model.
 *
 * For each configuration (EPT with and without A/D, NPT; MMU-present
 * marker at bit 11 as in 6.12 or at bit 59 as the series moves it; MMIO
 * caching on or off; several VT-d units) the test builds KVM's table with
 * KVM's own encodings, puts one entry state at a time on a walk path (every
 * leaf size, permission variant, prefetch/access-tracked, write-protected,
 * non-present, frozen, MMIO with several generations, at every level), and
 * asks the VT-d model to translate a read and a write.  It compares what
 * the IOMMU did with what KVM meant (maps this PFN with these rights, or
 * maps nothing).
 *
 * The product's compatibility check (kvm_iommu_vtd_share_check) must be
 * sound against this: when it allows sharing, no state may disagree; and
 * when it names an entry-format reason, the model must show a state that
 * disagrees (a witness), except where noted.
 */
#include <stdio.h>

#include "../harness/test.h"
#include "../platform/kvm_spte.h"
#include "fixture.h"
#include <linux/kvm_tdp_export.h>
#include <linux/kvm_iommufd.h>
#include <uapi/linux/iommufd_kvm.h>

#define IOVA	0x40201000ULL	/* L4 0, L3 1, L2 1, L1 1 */

struct tally {
	unsigned int states;
	unsigned int unsafe;	/* IOMMU translated where KVM maps nothing, or elsewhere */
	unsigned int spurious;	/* IOMMU faulted where KVM allows the access */
	unsigned int rsvd_faults, np_faults;
};

struct path {
	u64 table[5];		/* table[l]: HPA of the level-l table on the path */
};

static unsigned int idx(u64 iova, unsigned int level)
{
	return (iova >> (12 + 9 * (level - 1))) & 511;
}

static u64 *slot(struct kt_vtd *f, struct path *p, unsigned int level)
{
	return (u64 *)phys_va(f->pm, p->table[level]) + idx(IOVA, level);
}

/* Link the path with KVM non-leaf entries down to level 1. */
static void link_path(struct kt_vtd *f, const struct kspte_cfg *c, struct path *p)
{
	unsigned int l;

	for (l = 4; l > 1; l--)
		*slot(f, p, l) = kspte_nonleaf(c, p->table[l - 1]);
}

static void check_state(struct kt_vtd *f, const struct kspte_cfg *c, struct path *p,
			unsigned int level, u64 spte, struct tally *t, bool verbose,
			const char *what)
{
	bool kvm_leaf, kr = false, kw = false, acc;
	unsigned int access;

	link_path(f, c, p);
	*slot(f, p, level) = spte;
	kvm_iommu_vtd_flush_domain(f->iommu, KT_DID);
	kvm_leaf = kspte_is_present_leaf(c, spte, &kr, &kw);
	if (!kvm_leaf)
		kr = kw = false;
	t->states++;
	for (access = 0; access < 2; access++) {
		bool write = access, want = write ? kw : kr;
		enum vtdm_fault_reason r;
		unsigned long long hpa = 0;
		u64 expect = kspte_pfn_pa(c, spte) | (IOVA & ((1ULL << (12 + 9 * (level - 1))) - 1));

		r = vtd_translate(f->hw, KT_SID, VTDM_NO_PASID, IOVA, write, &hpa, NULL);
		acc = r == VTDM_OK;
		if (r == VTDM_F_SS_RSVD)
			t->rsvd_faults++;
		if (r == VTDM_F_SS_NP)
			t->np_faults++;
		if (acc && (!want || hpa != expect)) {
			t->unsafe++;
			if (verbose)
				printf("#     unsafe: %s L%u %s spte %#llx -> hpa %#llx\n",
				       what, level, write ? "write" : "read", spte, hpa);
		} else if (!acc && want) {
			t->spurious++;
			if (verbose)
				printf("#     spurious fault: %s L%u %s spte %#llx: %s\n",
				       what, level, write ? "write" : "read", spte,
				       vtd_fault_name(r));
		}
		while (vtd_fault_count(f->hw))
			vtd_fault_pop(f->hw, &(struct vtdm_fault){ 0 });
	}
}

static void all_states(struct kt_vtd *f, const struct kspte_cfg *c, struct path *p,
		       struct tally *t, bool verbose)
{
	static const u64 gens[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff };
	unsigned int level, i, v;

	for (level = 1; level <= c->max_leaf_level; level++) {
		u64 pfn = (0x1c0000000ULL >> 12) & ~((1ULL << (9 * (level - 1))) - 1);

		for (v = 0; v < 16; v++) {
			bool w = v & 1, x = v & 2, pre = v & 4, hw = v & 8;
			u64 s = kspte_leaf(c, pfn, level, w, x, pre, hw);

			check_state(f, c, p, level, s, t, verbose, "leaf");
			check_state(f, c, p, level, kspte_wrprot(c, s), t, verbose, "wrprot leaf");
			check_state(f, c, p, level, kspte_access_track(c, s), t, verbose,
				    "aged leaf");
		}
	}
	for (level = 1; level <= 4; level++) {
		check_state(f, c, p, level, kspte_nonpresent(c), t, verbose, "non-present");
		check_state(f, c, p, level, kspte_frozen(c), t, verbose, "frozen");
	}
	/* with MMIO caching off KVM never installs MMIO entries */
	for (i = 0; c->mmio_caching && i < ARRAY_SIZE(gens); i++)
		for (level = 1; level <= 2; level++)
			check_state(f, c, p, level, kspte_mmio(c, 0xfee00 + i, gens[i]), t,
				    verbose, "mmio");
}

struct unit {
	const char *name;
	u64 cap, ecap;
};

static bool run_config(const struct kspte_cfg *c, const struct unit *u, bool verbose,
		       u32 *reasons_out, struct tally *t)
{
	struct kvm_tdp_format fmt;
	struct kvm_iommu_share_info info;
	struct kt_vtd f;
	struct path p;
	u32 reasons;
	int ret;
	unsigned int l;

	memset(t, 0, sizeof(*t));
	kspte_format(c, &fmt);
	reasons = kvm_iommu_vtd_share_check(&fmt, u->cap, u->ecap, true, &info);
	*reasons_out = reasons;
	ASSERT_TRUE(kt_vtd_setup(&f, u->cap, u->ecap, 4, 0));
	/* point the unit at the path's root, built from KVM's entries */
	kt_ss_table_free(&f.ss);
	for (l = 1; l <= 4; l++) {
		p.table[l] = phys_alloc(f.pm, 0);
		ASSERT_NE(p.table[l], 0);
	}
	f.ss.root = 0;
	{
		struct kvm_iommu_vtd_ss_cfg cfg = {
			.root = p.table[4], .levels = 4, .did = KT_DID,
		};
		u64 pe[8];

		ret = kvm_iommu_vtd_ss_pasid_entry(u->cap, u->ecap, &cfg, pe);
		/* the encoder refuses exactly when the levels do not fit */
		ASSERT_EQ(ret != 0, !!(reasons & IOMMU_KVM_SHARE_LEVELS));
		if (!ret) {
			ASSERT_EQ(kt_intel_set_pasid_entry(f.iommu, KT_SID, pe), 0);
			all_states(&f, c, &p, t, verbose);
		}
	}
	for (l = 1; l <= 4; l++)
		phys_free(f.pm, p.table[l], 0);
	ASSERT_TRUE(kt_vtd_teardown(&f));
	return true;
}

static const struct unit units[] = {
	{ "QEMU aw48", VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM },
	{ "QEMU aw48 +SC", VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM | BIT_ULL(7) },
	{ "QEMU aw39", VTDM_QEMU_CAP_AW39, VTDM_QEMU_ECAP_SM },
};

static struct kspte_cfg base_cfg(bool ept, bool ad, unsigned int bit, bool mmio)
{
	struct kspte_cfg c = {
		.ept = ept, .ept_ad = ad, .present_bit = bit, .phys_bits = 40,
		.nx_huge_pages = true, .mmio_caching = mmio, .root_level = 4,
		.max_leaf_level = 3,
	};
	return c;
}

/* Sharing allowed => every state agrees; entry-format reasons => a witness. */
TEST(spte_states_vs_vtd_walker_all_configs)
{
	const u32 entry_reasons = IOMMU_KVM_SHARE_RSVD_BITS | IOMMU_KVM_SHARE_NONPRESENT;
	unsigned int e, bit, mmio, u, configs = 0, shareable = 0;

	for (e = 0; e < 3; e++) {
		for (bit = 0; bit < 2; bit++) {
			for (mmio = 0; mmio < 2; mmio++) {
				for (u = 0; u < ARRAY_SIZE(units); u++) {
					struct kspte_cfg c = base_cfg(e < 2, e == 0,
								      bit ? 59 : 11, mmio);
					struct tally t;
					u32 reasons;

					ASSERT_TRUE(run_config(&c, &units[u], false, &reasons, &t));
					configs++;
					if (!(reasons & IOMMU_KVM_SHARE_LEVELS))
						ASSERT_GT(t.states, 100);
					if (!reasons) {
						shareable++;
						if (t.unsafe || t.spurious)
							ASSERT_TRUE(run_config(&c, &units[u], true,
									       &reasons, &t));
						ASSERT_EQ(t.unsafe, 0);
						ASSERT_EQ(t.spurious, 0);
					}
					if ((reasons & entry_reasons) &&
					    !(reasons & IOMMU_KVM_SHARE_LEVELS)) {
						if (!(t.unsafe + t.spurious))
							printf("#   no witness: e%u bit %u mmio %u unit %s reasons %#x\n",
							       e, bit ? 59 : 11, mmio, units[u].name, reasons);
						ASSERT_GT(t.unsafe + t.spurious, 0);
					}
					/*
					 * EPT MMIO entries are W=1 R=0: writable garbage to
					 * the IOMMU, once the path above them can be walked.
					 */
					if (e < 2 && (reasons & IOMMU_KVM_SHARE_MMIO_CACHING) &&
					    !(reasons & (IOMMU_KVM_SHARE_LEVELS |
							 IOMMU_KVM_SHARE_RSVD_BITS)))
						ASSERT_GT(t.unsafe, 0);
				}
			}
		}
	}
	ASSERT_EQ(configs, 36);
	/*
	 * Shareable: marker at 59, MMIO caching off, the two aw48 units, for
	 * EPT with A/D and for NPT (EPT without A/D ages by access tracking).
	 */
	ASSERT_EQ(shareable, 4);
	return true;
}

TEST(spte_stock_612_npt_faults_on_bit11)
{
	struct kspte_cfg c = base_cfg(false, false, 11, false);
	struct tally t;
	u32 reasons;

	ASSERT_TRUE(run_config(&c, &units[0], false, &reasons, &t));
	ASSERT_EQ(reasons, IOMMU_KVM_SHARE_RSVD_BITS);
	/* every present leaf sits under a bit-11 non-leaf: all rejected as reserved */
	ASSERT_EQ(t.unsafe, 0);
	ASSERT_GT(t.spurious, 0);
	ASSERT_GT(t.rsvd_faults, 0);
	return true;
}

TEST(spte_moved_marker_npt_is_exact)
{
	struct kspte_cfg c = base_cfg(false, false, 59, false);
	struct tally t;
	u32 reasons;

	ASSERT_TRUE(run_config(&c, &units[0], false, &reasons, &t));
	ASSERT_EQ(reasons, 0);
	ASSERT_EQ(t.unsafe + t.spurious, 0);
	ASSERT_EQ(t.rsvd_faults, 0);
	/* non-present and frozen at 4 levels, twice each (read, write) */
	ASSERT_GE(t.np_faults, 16);
	return true;
}

TEST(spte_ept_mmio_is_unsafe_and_refused)
{
	struct kspte_cfg c = base_cfg(true, true, 59, true);
	struct tally t;
	u32 reasons;

	ASSERT_TRUE(run_config(&c, &units[0], false, &reasons, &t));
	ASSERT_EQ(reasons, IOMMU_KVM_SHARE_MMIO_CACHING);
	ASSERT_GT(t.unsafe, 0);
	return true;
}

TEST(spte_refusal_reasons_name_each_cause)
{
	struct kspte_cfg c = base_cfg(false, false, 11, true);
	struct kvm_tdp_format fmt;
	struct kvm_iommu_share_info info;
	u32 r;

	/* stock 6.12, MMIO caching on, 5-level root (LA57), QEMU with aw-bits=39 */
	c.root_level = 5;
	kspte_format(&c, &fmt);
	r = kvm_iommu_vtd_share_check(&fmt, VTDM_QEMU_CAP_AW39, VTDM_QEMU_ECAP_SM, false, &info);
	ASSERT_EQ(r, IOMMU_KVM_SHARE_LEVELS | IOMMU_KVM_SHARE_ADDR_WIDTH |
		     IOMMU_KVM_SHARE_RSVD_BITS | IOMMU_KVM_SHARE_MMIO_CACHING |
		     IOMMU_KVM_SHARE_WALK_COHERENCY);
	ASSERT_EQ(info.kvm_levels, 5);
	ASSERT_EQ(info.iommu_levels, 1 << 3);
	ASSERT_EQ(info.iommu_addr_bits, 39);
	ASSERT_EQ(info.kvm_phys_bits, 40);
	ASSERT_EQ(info.rsvd_conflict, BIT_ULL(11));
	/* 1G leaves against a unit with 2M only */
	c = base_cfg(false, false, 59, false);
	kspte_format(&c, &fmt);
	r = kvm_iommu_vtd_share_check(&fmt, VTDM_QEMU_CAP_AW48 & ~(2ULL << 34),
				      VTDM_QEMU_ECAP_SM, true, &info);
	ASSERT_EQ(r, IOMMU_KVM_SHARE_PAGE_SIZES);
	ASSERT_EQ(info.iommu_max_leaf_level, 2);
	/* no scalable mode: no way to point the unit at KVM's root */
	r = kvm_iommu_vtd_share_check(&fmt, VTDM_QEMU_CAP_AW48,
				      VTDM_QEMU_ECAP_SM & ~BIT_ULL(43), true, &info);
	ASSERT_EQ(r, IOMMU_KVM_SHARE_NO_TRANSLATION);
	/* EPT without A/D bits ages by making entries non-present */
	c = base_cfg(true, false, 59, false);
	kspte_format(&c, &fmt);
	r = kvm_iommu_vtd_share_check(&fmt, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM, true, &info);
	ASSERT_EQ(r, IOMMU_KVM_SHARE_ACCESS_TRACKING);
	return true;
}

/* The exporter's description must cover every bit the encoders produce. */
TEST(spte_format_description_covers_the_encodings)
{
	unsigned int e, bit, mmio, level, v, g;

	for (e = 0; e < 3; e++) {
		for (bit = 0; bit < 2; bit++) {
			for (mmio = 0; mmio < 2; mmio++) {
				struct kspte_cfg c = base_cfg(e < 2, e == 0, bit ? 59 : 11, mmio);
				struct kvm_tdp_format fmt;

				kspte_format(&c, &fmt);
				ASSERT_EQ(kspte_nonleaf(&c, 0x1234000) & ~fmt.addr_mask &
					  ~fmt.nonleaf_bits, 0);
				ASSERT_EQ(~kspte_nonleaf(&c, 0x1234000) & fmt.always_bits, 0);
				ASSERT_EQ(kspte_nonpresent(&c) & ~fmt.nonpresent_bits, 0);
				ASSERT_EQ(kspte_frozen(&c) & ~fmt.nonpresent_bits, 0);
				for (level = 1; level <= 3; level++) {
					for (v = 0; v < 16; v++) {
						u64 s = kspte_leaf(&c, 0xabcde000ULL >> 12 << (9 * (level - 1)) >> (9 * (level - 1)),
								   level, v & 1, v & 2, v & 4, v & 8);
						bool r, w;

						if (kspte_is_present_leaf(&c, s, &r, &w) && r) {
							ASSERT_EQ(s & ~fmt.addr_mask & ~fmt.leaf_bits, 0);
							ASSERT_EQ(~s & fmt.always_bits, 0);
						}
						else
							ASSERT_EQ(s & ~fmt.addr_mask & ~fmt.nonpresent_bits, 0);
					}
				}
				for (g = 0; g < 0x8000; g += 0x7ff)
					ASSERT_EQ(kspte_mmio(&c, 0xfee00, g) & ~fmt.mmio_bits,
						  mmio ? 0 : kspte_mmio(&c, 0xfee00, g));
			}
		}
	}
	return true;
}
