// SPDX-License-Identifier: GPL-2.0
/* Stand-in intel-iommu paging domain: see intel_paging_domain.h. */
#include "intel_paging_domain.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"

#define SS_PRESENT	(KVM_IOMMU_VTD_SS_R | KVM_IOMMU_VTD_SS_W)
#define SS_ADDR		GENMASK_ULL(51, 12)

/* Domain ids of paging domains; apart from the KVM-TDP stand-in's. */
static u16 kt_next_paging_did = 0x8000;

static unsigned int level_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

static u64 *ss_entry(struct kt_ss_table *t, u64 table, u64 iova, unsigned int level)
{
	return (u64 *)phys_va(t->pm, table) + ((iova >> level_shift(level)) & 511);
}

static bool ss_is_leaf(u64 e, unsigned int level)
{
	return level == 1 || (e & KVM_IOMMU_VTD_SS_PS);
}

/*
 * The entry that translates @iova, walking down to @stop at the lowest:
 * a leaf, the first entry that is not present, or the entry at @stop.
 */
static u64 *ss_walk(struct kt_ss_table *t, u64 iova, unsigned int stop,
		    unsigned int *level)
{
	u64 table = t->root, *e;
	unsigned int l;

	for (l = t->levels;; l--) {
		e = ss_entry(t, table, iova, l);
		if (l == stop || !(*e & SS_PRESENT) || ss_is_leaf(*e, l))
			break;
		table = *e & SS_ADDR;
	}
	*level = l;
	return e;
}

/* Does the table at @level (below a non-leaf entry) map anything? */
static bool ss_table_maps(struct kt_ss_table *t, u64 table, unsigned int level)
{
	u64 *e = phys_va(t->pm, table);
	unsigned int i;

	for (i = 0; i < 512; i++) {
		if (!(e[i] & SS_PRESENT))
			continue;
		if (ss_is_leaf(e[i], level) || ss_table_maps(t, e[i] & SS_ADDR, level - 1))
			return true;
	}
	return false;
}

static void ss_free_tables(struct kt_ss_table *t, u64 table, unsigned int level)
{
	u64 *e = phys_va(t->pm, table);
	unsigned int i;

	for (i = 0; level > 1 && i < 512; i++)
		if ((e[i] & SS_PRESENT) && !ss_is_leaf(e[i], level))
			ss_free_tables(t, e[i] & SS_ADDR, level - 1);
	phys_free(t->pm, table, 0);
	t->table_pages--;
}

/*
 * Make room for a leaf of 1 << @shift at @iova: -EEXIST when a leaf is
 * there or covers it; an emptied table where the leaf goes is unlinked,
 * the unit's IOTLB and paging-structure caches for the range are flushed
 * (IH clear), and only then is it freed.
 */
static int make_room(struct kt_paging_domain *pd, u64 iova, unsigned int shift)
{
	unsigned int want = (shift - 12) / 9 + 1, level;
	u64 *e = ss_walk(&pd->ss, iova, want, &level), table;
	int ret;

	if (!(*e & SS_PRESENT))
		return 0;			/* nothing there, or tables to build */
	if (level != want || ss_is_leaf(*e, level))
		return -EEXIST;			/* a leaf covers the range */
	table = *e & SS_ADDR;
	if (ss_table_maps(&pd->ss, table, level - 1))
		return -EEXIST;
	__atomic_store_n(e, 0, __ATOMIC_RELEASE);
	ret = kvm_iommu_vtd_flush_range(pd->iommu, pd->did, iova, iova + (1ULL << shift),
					false);
	if (WARN_ON(ret)) {
		/* the unit may still walk it: keep the page rather than free it */
		__atomic_store_n(e, table | SS_PRESENT, __ATOMIC_RELEASE);
		return ret;
	}
	ss_free_tables(&pd->ss, table, level - 1);
	pd->superpage_switches++;
	return 0;
}

static int pd_map_pages(struct iommu_domain *domain, unsigned long iova,
			phys_addr_t paddr, size_t pgsize, size_t pgcount,
			int prot, gfp_t gfp, size_t *mapped)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);
	unsigned int shift = __builtin_ctzl(pgsize), ss_prot = 0;
	u64 last;
	size_t i;
	int ret = 0;

	if (!pgsize || (pgsize & (pgsize - 1)) || !(domain->pgsize_bitmap & pgsize))
		return -EINVAL;
	if (prot & IOMMU_READ)
		ss_prot |= 1;
	if (prot & IOMMU_WRITE)
		ss_prot |= 2;
	if (!ss_prot)
		return -EINVAL;
	/* as the driver: beyond the domain's address width is -EFAULT */
	if (!pgcount || check_mul_overflow((u64)pgsize, (u64)pgcount, &last) ||
	    check_add_overflow((u64)iova, last - 1, &last) ||
	    last > domain->geometry.aperture_end)
		return -EFAULT;
	/* the driver allocates table pages here */
	if (kt_should_fail("paging map_pages"))
		return -ENOMEM;

	spin_lock(&pd->lock);
	for (i = 0; i < pgcount && !ret; i++) {
		u64 va = iova + i * pgsize, pa = paddr + i * pgsize;

		ret = make_room(pd, va, shift);
		if (!ret)
			ret = kt_ss_map(&pd->ss, va, pa, pgsize, shift, ss_prot);
		if (!ret)
			*mapped += pgsize;
	}
	spin_unlock(&pd->lock);
	return ret;
}

/*
 * Clears whole leaves: one larger than @pgsize is unmapped entirely and
 * counted as such, as the driver does.
 */
static size_t pd_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			     size_t pgsize, size_t pgcount,
			     struct iommu_iotlb_gather *gather)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);
	u64 size = (u64)pgsize * pgcount, done = 0;

	spin_lock(&pd->lock);
	while (done < size) {
		unsigned int level;
		u64 *e = ss_walk(&pd->ss, iova + done, 1, &level), ls, base;

		if (!(*e & SS_PRESENT))
			break;
		ls = 1ULL << level_shift(level);
		base = (iova + done) & ~(ls - 1);
		WARN_ON(base != iova + done);	/* a leaf cut in the middle */
		WARN_ON(kt_ss_unmap(&pd->ss, base, ls));
		iommu_iotlb_gather_add_range(gather, base, ls);
		done = base + ls - iova;
	}
	spin_unlock(&pd->lock);
	return done;
}

static void pd_iotlb_sync(struct iommu_domain *domain, struct iommu_iotlb_gather *gather)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);

	if (gather->start > gather->end)
		return;
	/* table pages stay: leaves only (IH), the paging-structure caches hold */
	WARN_ON(kvm_iommu_vtd_flush_range(pd->iommu, pd->did, gather->start,
					  (u64)gather->end + 1, true));
	pd->syncs++;
}

static void pd_flush_iotlb_all(struct iommu_domain *domain)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);

	WARN_ON(kvm_iommu_vtd_flush_domain(pd->iommu, pd->did));
}

static phys_addr_t pd_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);
	unsigned int level;
	u64 *e, sh;

	if (iova > domain->geometry.aperture_end)
		return 0;
	e = ss_walk(&pd->ss, iova, 1, &level);
	if (!(*e & SS_PRESENT))
		return 0;
	sh = level_shift(level);
	return (*e & SS_ADDR & ~((1ULL << sh) - 1)) | (iova & ((1ULL << sh) - 1));
}

static int pd_attach(struct iommu_domain *domain, struct device *dev)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);
	struct kvm_iommu_vtd_ss_cfg cfg = {
		.root = pd->ss.root, .levels = pd->ss.levels, .did = pd->did,
	};
	unsigned int i;
	u64 pe[8];
	int ret;

	if (kt_intel_dev_unit(dev) != pd->iommu)
		return -EINVAL;
	for (i = 0; i < pd->ndevs; i++)
		if (pd->devs[i] == dev)
			return 0;
	if (pd->ndevs == KT_PAGING_DOMAIN_MAX_DEVS)
		return -ENOSPC;
	ret = kvm_iommu_vtd_ss_pasid_entry(pd->iommu->cap, pd->iommu->ecap, &cfg, pe);
	if (!ret)
		ret = kt_intel_set_pasid_entry(pd->iommu, dev->sid, pe);
	if (ret)
		return ret;
	pd->devs[pd->ndevs++] = dev;
	return 0;
}

/**
 * kt_paging_domain_detach() - detach a device from a paging domain
 * @domain: a domain of kt_intel_domain_alloc_paging()
 * @dev: a device attached to it
 *
 * Clears the device's PASID entry and flushes the PASID cache and the
 * domain's IOTLB, as the driver does when a device leaves a domain.
 *
 * Return: 0, -ENOENT when @dev is not attached, or the flush's error.
 */
int kt_paging_domain_detach(struct iommu_domain *domain, struct device *dev)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);
	unsigned int i;

	for (i = 0; i < pd->ndevs; i++) {
		if (pd->devs[i] == dev) {
			pd->devs[i] = pd->devs[--pd->ndevs];
			return kt_intel_clear_pasid_entry(pd->iommu, dev->sid, pd->did);
		}
	}
	return -ENOENT;
}

static void pd_free(struct iommu_domain *domain)
{
	struct kt_paging_domain *pd = to_kt_paging_domain(domain);

	WARN_ON(pd->ndevs);
	kt_ss_table_free(&pd->ss);
	kfree(pd);
}

static const struct iommu_domain_ops kt_paging_domain_ops = {
	.attach_dev = pd_attach,
	.map_pages = pd_map_pages,
	.unmap_pages = pd_unmap_pages,
	.flush_iotlb_all = pd_flush_iotlb_all,
	.iotlb_sync = pd_iotlb_sync,
	.iova_to_phys = pd_iova_to_phys,
	.free = pd_free,
};

/**
 * kt_intel_domain_alloc_paging() - a paging domain for @dev's unit
 * @dev: a device probed with kt_intel_probe_device()
 *
 * The table has 4 levels when the unit walks 48-bit tables (SAGAW), else
 * 3; the aperture is what those levels and the unit's MGAW cover; page
 * sizes are 4 KiB plus what SLLPS allows.
 *
 * Return: the domain, ERR_PTR(-ENODEV) without a unit, ERR_PTR(-EOPNOTSUPP)
 * when the unit walks neither 3- nor 4-level tables, ERR_PTR(-ENOMEM).
 */
struct iommu_domain *kt_intel_domain_alloc_paging(struct device *dev)
{
	struct intel_iommu *iommu = kt_intel_dev_unit(dev);
	unsigned int sagaw, sllps, levels, aw;
	struct kt_paging_domain *pd;

	if (!iommu)
		return ERR_PTR(-ENODEV);
	sagaw = FIELD_GET(KVM_IOMMU_VTD_CAP_SAGAW, iommu->cap);
	sllps = FIELD_GET(KVM_IOMMU_VTD_CAP_SLLPS, iommu->cap);
	if (sagaw & BIT(2))
		levels = 4;
	else if (sagaw & BIT(1))
		levels = 3;
	else
		return ERR_PTR(-EOPNOTSUPP);
	aw = min_t(unsigned int, level_shift(levels + 1),
		   FIELD_GET(KVM_IOMMU_VTD_CAP_MGAW, iommu->cap) + 1);
	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd)
		return ERR_PTR(-ENOMEM);
	if (kt_ss_table_init(&pd->ss, iommu->pm, levels)) {
		kfree(pd);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock_init(&pd->lock);
	pd->iommu = iommu;
	pd->did = __atomic_fetch_add(&kt_next_paging_did, 1, __ATOMIC_RELAXED);
	pd->domain.ops = &kt_paging_domain_ops;
	pd->domain.type = IOMMU_DOMAIN_UNMANAGED;
	pd->domain.pgsize_bitmap = SZ_4K;
	if (sllps & 1)
		pd->domain.pgsize_bitmap |= SZ_2M;
	if (sllps & 2)
		pd->domain.pgsize_bitmap |= SZ_1G;
	pd->domain.geometry.aperture_start = 0;
	pd->domain.geometry.aperture_end = (1ULL << aw) - 1;
	pd->domain.geometry.force_aperture = true;
	return &pd->domain;
}
