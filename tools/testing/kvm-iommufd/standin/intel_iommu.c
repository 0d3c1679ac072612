// SPDX-License-Identifier: GPL-2.0
/* Stand-in for the intel-iommu driver over the VT-d model: see intel_iommu.h. */
#include "../vtd_internal.h"

#define QI_RING_DESCS	128
#define QI_WAIT_TYPE	5
#define QI_WAIT_SW	BIT_ULL(5)
#define QI_PC_TYPE	7

struct intel_iommu *kt_intel_iommu_create(struct phys *pm, struct vtd *hw,
					  int seq_id)
{
	struct intel_iommu *iommu = kzalloc(sizeof(*iommu), GFP_KERNEL);

	if (!iommu)
		return NULL;
	iommu->pm = pm;
	iommu->hw = hw;
	iommu->cap = hw->cap;
	iommu->ecap = hw->ecap;
	iommu->seq_id = seq_id;
	iommu->root_table = phys_alloc_kind(pm, 0, PHYS_IOMMU);
	iommu->qi_base = phys_alloc_kind(pm, 0, PHYS_IOMMU);
	iommu->qi_status = phys_alloc_kind(pm, 0, PHYS_IOMMU);
	if (!iommu->root_table || !iommu->qi_base || !iommu->qi_status) {
		kt_intel_iommu_destroy(iommu);
		return NULL;
	}
	spin_lock_init(&iommu->qi_lock);
	spin_lock_init(&iommu->tables_lock);
	/* Scalable mode (TTM = 01b), 256-bit descriptors (DW), one page (QS = 0). */
	vtd_set_rtaddr(hw, iommu->root_table | (1ULL << 10));
	vtd_set_iqa(hw, iommu->qi_base | BIT_ULL(11));
	return iommu;
}

static void free_pasid_tables(struct intel_iommu *iommu)
{
	u64 *root = phys_va(iommu->pm, iommu->root_table);
	unsigned int bus, half, devfn;

	for (bus = 0; bus < 256; bus++) {
		for (half = 0; half < 2; half++) {
			u64 ctp = root[bus * 2 + half];

			if (!(ctp & 1))
				continue;
			ctp &= PAGE_MASK;
			for (devfn = 0; devfn < 128; devfn++) {
				u64 *ce = phys_va(iommu->pm, ctp + devfn * 32);
				u64 pdir = ce[0] & PAGE_MASK;

				if (!(ce[0] & 1))
					continue;
				phys_free(iommu->pm,
					  *(u64 *)phys_va(iommu->pm, pdir) & PAGE_MASK, 0);
				phys_free(iommu->pm, pdir, 0);
			}
			phys_free(iommu->pm, ctp, 0);
		}
	}
}

void kt_intel_iommu_destroy(struct intel_iommu *iommu)
{
	if (!iommu)
		return;
	if (iommu->root_table)
		free_pasid_tables(iommu);
	phys_free(iommu->pm, iommu->root_table, 0);
	phys_free(iommu->pm, iommu->qi_base, 0);
	phys_free(iommu->pm, iommu->qi_status, 0);
	kfree(iommu);
}

/**
 * qi_submit_sync() - queue descriptors plus a wait, and wait for it
 * @iommu: the unit
 * @desc: descriptors to queue
 * @count: number of descriptors
 * @options: unused (no drain options in the stand-in)
 *
 * Return: 0 when the wait status was written; -EINVAL when the unit
 * reported an invalidation queue error (the bad descriptor is dropped, as
 * the driver does); -ENOSPC when @count does not fit the ring.
 */
int qi_submit_sync(struct intel_iommu *iommu, struct qi_desc *desc,
		   unsigned int count, unsigned long options)
{
	u32 *status = phys_va(iommu->pm, iommu->qi_status);
	unsigned int i;
	u32 seq;
	int ret = 0;

	(void)options;
	if (count + 1 >= QI_RING_DESCS)
		return -ENOSPC;
	spin_lock(&iommu->qi_lock);
	seq = ++iommu->qi_seq;
	for (i = 0; i <= count; i++) {
		struct qi_desc wait = {
			.qw0 = QI_WAIT_TYPE | QI_WAIT_SW | ((u64)seq << 32),
			.qw1 = iommu->qi_status,
		};
		const struct qi_desc *d = i < count ? &desc[i] : &wait;

		memcpy(phys_va(iommu->pm, iommu->qi_base + iommu->qi_tail), d,
		       sizeof(*d));
		iommu->qi_tail = (iommu->qi_tail + 32) % (QI_RING_DESCS * 32);
	}
	iommu->qi_submits++;
	iommu->qi_descs += count + 1;
	vtd_set_iqt(iommu->hw, iommu->qi_tail);
	if (vtd_iqe(iommu->hw)) {
		/* Recover the queue the way the driver does: reset it. */
		vtd_set_iqa(iommu->hw, iommu->qi_base | BIT_ULL(11));
		iommu->qi_tail = 0;
		ret = -EINVAL;
	} else if (__atomic_load_n(status, __ATOMIC_ACQUIRE) != seq) {
		ret = -ETIMEDOUT;
	}
	spin_unlock(&iommu->qi_lock);
	return ret;
}

static int pasid_cache_flush(struct intel_iommu *iommu, u16 did)
{
	struct qi_desc d = {
		/* PASID-selective-within-domain, PASID 0 */
		.qw0 = QI_PC_TYPE | (1ULL << 4) | ((u64)did << 16),
	};

	return qi_submit_sync(iommu, &d, 1, 0);
}

static u64 *context_entry(struct intel_iommu *iommu, u16 sid, bool alloc)
{
	u64 *re = phys_va(iommu->pm, iommu->root_table);
	unsigned int bus = sid >> 8, devfn = sid & 0xff;
	u64 *slot = &re[bus * 2 + (devfn >= 128)];

	if (!(*slot & 1)) {
		u64 ctp;

		if (!alloc)
			return NULL;
		ctp = phys_alloc_kind(iommu->pm, 0, PHYS_IOMMU);
		if (!ctp)
			return NULL;
		*slot = ctp | 1;
	}
	return phys_va(iommu->pm, (*slot & PAGE_MASK) + (devfn & 0x7f) * 32);
}

int kt_intel_set_pasid_entry(struct intel_iommu *iommu, u16 sid, const u64 pe[8])
{
	u64 *ce, *pde, pdir, ptbl;
	u64 *dst;
	int i;

	spin_lock(&iommu->tables_lock);
	ce = context_entry(iommu, sid, true);
	if (!ce)
		goto nomem;
	if (!(ce[0] & 1)) {
		pdir = phys_alloc_kind(iommu->pm, 0, PHYS_IOMMU);
		ptbl = phys_alloc_kind(iommu->pm, 0, PHYS_IOMMU);
		if (!pdir || !ptbl) {
			phys_free(iommu->pm, pdir, 0);
			phys_free(iommu->pm, ptbl, 0);
			goto nomem;
		}
		pde = phys_va(iommu->pm, pdir);
		pde[0] = ptbl | 1;
		ce[1] = 0;		/* RID_PASID = 0 */
		__atomic_store_n(&ce[0], pdir | 1, __ATOMIC_RELEASE);	/* PDTS 0 */
	}
	pde = phys_va(iommu->pm, ce[0] & PAGE_MASK);
	dst = phys_va(iommu->pm, pde[0] & PAGE_MASK);	/* PASID 0 is slot 0 */
	/* Write P last, as the driver does (WRITE_ONCE: the unit reads it) */
	for (i = 7; i >= 1; i--)
		__atomic_store_n(&dst[i], pe[i], __ATOMIC_RELAXED);
	__atomic_store_n(&dst[0], pe[0], __ATOMIC_RELEASE);
	spin_unlock(&iommu->tables_lock);
	return pasid_cache_flush(iommu, pe[1] & 0xffff);
nomem:
	spin_unlock(&iommu->tables_lock);
	return -ENOMEM;
}

int kt_intel_clear_pasid_entry(struct intel_iommu *iommu, u16 sid, u16 did)
{
	struct qi_desc dsi = { .qw0 = 2 | (2ULL << 4) | ((u64)did << 16) };
	u64 *ce, *pde, *pe;
	int ret;

	spin_lock(&iommu->tables_lock);
	ce = context_entry(iommu, sid, false);
	if (!ce || !(ce[0] & 1)) {
		spin_unlock(&iommu->tables_lock);
		return -ENOENT;
	}
	pde = phys_va(iommu->pm, ce[0] & PAGE_MASK);
	pe = phys_va(iommu->pm, pde[0] & PAGE_MASK);
	__atomic_store_n(&pe[0], 0, __ATOMIC_RELEASE);
	spin_unlock(&iommu->tables_lock);
	ret = pasid_cache_flush(iommu, did);
	return ret ? ret : qi_submit_sync(iommu, &dsi, 1, 0);
}

/* ---- a driver-style second-stage table ---- */

int kt_ss_table_init(struct kt_ss_table *t, struct phys *pm, unsigned int levels)
{
	t->pm = pm;
	t->levels = levels;
	t->root = phys_alloc_kind(pm, 0, PHYS_TABLE);
	t->table_pages = t->root ? 1 : 0;
	return t->root ? 0 : -ENOMEM;
}

static void free_level(struct kt_ss_table *t, u64 table, unsigned int level)
{
	u64 *e = phys_va(t->pm, table);
	unsigned int i;

	for (i = 0; level > 1 && i < 512; i++)
		if ((e[i] & 3) && !(e[i] & BIT_ULL(7)))
			free_level(t, e[i] & GENMASK_ULL(51, 12), level - 1);
	phys_free(t->pm, table, 0);
	t->table_pages--;
}

void kt_ss_table_free(struct kt_ss_table *t)
{
	if (t->root)
		free_level(t, t->root, t->levels);
	t->root = 0;
}

static u64 *walk_alloc(struct kt_ss_table *t, u64 iova, unsigned int leaf_level)
{
	u64 table = t->root;
	unsigned int level;

	for (level = t->levels; level > leaf_level; level--) {
		u64 *e = phys_va(t->pm, table) + ((iova >> (12 + 9 * (level - 1))) & 511) * 8;

		if (!(*e & 3)) {
			u64 next = phys_alloc_kind(t->pm, 0, PHYS_TABLE);

			if (!next)
				return NULL;
			t->table_pages++;
			__atomic_store_n(e, next | 3, __ATOMIC_RELEASE);
		} else if (*e & BIT_ULL(7)) {
			return NULL;	/* a large leaf is in the way */
		}
		table = *e & GENMASK_ULL(51, 12);
	}
	return (u64 *)phys_va(t->pm, table) + ((iova >> (12 + 9 * (leaf_level - 1))) & 511);
}

int kt_ss_map(struct kt_ss_table *t, u64 iova, u64 hpa, u64 size,
	      unsigned int shift, unsigned int prot)
{
	unsigned int level = (shift - 12) / 9 + 1;
	u64 pg = 1ULL << shift, off;

	if ((shift != 12 && shift != 21 && shift != 30) || !prot || (prot & ~3u) ||
	    !IS_ALIGNED(iova | hpa | size, pg))
		return -EINVAL;
	for (off = 0; off < size; off += pg) {
		u64 *e = walk_alloc(t, iova + off, level);

		if (!e)
			return -ENOMEM;
		if (*e & 3)
			return -EEXIST;
		__atomic_store_n(e, (hpa + off) | prot | (level > 1 ? BIT_ULL(7) : 0),
				 __ATOMIC_RELEASE);
	}
	return 0;
}

int kt_ss_unmap(struct kt_ss_table *t, u64 iova, u64 size)
{
	u64 end = iova + size;

	while (iova < end) {
		u64 table = t->root, *e = NULL;
		unsigned int level;

		for (level = t->levels; level >= 1; level--) {
			e = (u64 *)phys_va(t->pm, table) +
			    ((iova >> (12 + 9 * (level - 1))) & 511);
			if (!(*e & 3))
				return -ENOENT;
			if (level == 1 || (*e & BIT_ULL(7)))
				break;
			table = *e & GENMASK_ULL(51, 12);
		}
		__atomic_store_n(e, 0, __ATOMIC_RELEASE);
		iova += 1ULL << (12 + 9 * (level - 1));
	}
	return 0;
}
