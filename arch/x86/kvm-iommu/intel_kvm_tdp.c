// SPDX-License-Identifier: GPL-2.0
/*
 * intel_kvm_tdp.c - VT-d domains translated by a KVM VM's TDP table
 *
 * DOC: KVM TDP domains
 *
 * An IOMMU_DOMAIN_KVM_TDP domain translates DMA from guest physical
 * addresses through the EPT/NPT table KVM maintains for a VM: the RID_PASID
 * entry of each attached device is a scalable-mode PASID entry with
 * PGTT = second-stage only and SSPTPTR = KVM's root.  The entry bits come
 * from kvm_iommu_vtd_ss_pasid_entry(), and whether a unit can walk KVM's
 * entries at all from kvm_iommu_vtd_share_check() (arch/x86/kvm-iommu).
 *
 * The driver owns no page table for such a domain.  It never maps, unmaps,
 * writes or frees KVM's table; it only reads it, under RCU, in
 * iova_to_phys() and in the debug dumps.  KVM changes the table under its
 * own locks, and the domain's owner reports every change through
 * ->kvm_tdp_flush() and every root replacement through ->kvm_tdp_set_root().
 * Both run in atomic context (under KVM's mmu_lock, possibly inside RCU
 * read-side sections): they spin on the invalidation queue, never sleep.
 *
 * Invalidations reuse the cache tags of the domain (cache.c): one IOTLB tag
 * per unit and one device-TLB tag per attached ATS device, so a flush reaches
 * exactly the units and devices the domain is attached to.
 *
 * Locking, in acquisition order:
 *
 * - intel_kvm_tdp_domain.lock serialises root changes with attach and with
 *   itself: an attach programs the current root, and a root change sees
 *   every attachment;
 * - intel_iommu.lock protects the unit's PASID tables and domain ids;
 * - dmar_domain.lock protects the domain's device list;
 * - dmar_domain.cache_lock protects the cache tags and the invalidation
 *   batch; ->kvm_tdp_flush() takes only this one.
 */

#include <linux/iommu.h>
#include <linux/kvm_iommufd.h>
#include <linux/kvm_tdp_export.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <uapi/linux/iommufd_kvm.h>

/* the intel driver's own headers: see the Makefile */
#include "iommu.h"
#include "pasid.h"
#include "vtd.h"

/**
 * struct intel_kvm_tdp_domain - a domain whose table is KVM's
 * @dmar: the driver's domain; its pgd stays NULL, so nothing ever walks
 *	or frees a table through it
 * @lock: serialises root changes with attach (see the DOC above)
 * @root: physical address of KVM's root; 0 while KVM has none (DMA blocked)
 * @fmt: KVM's entry format, as the exporter described it
 * @force_snooping: enforce_cache_coherency() succeeded: every attached unit
 *	forces snooping (PGSNP), and units without snoop control are refused
 */
struct intel_kvm_tdp_domain {
	struct dmar_domain dmar;
	spinlock_t lock;		/* root changes vs. attach */
	u64 root;
	struct kvm_tdp_format fmt;
	bool force_snooping;
};

static struct intel_kvm_tdp_domain *to_kvm_tdp_domain(struct iommu_domain *dom)
{
	return container_of(to_dmar_domain(dom), struct intel_kvm_tdp_domain,
			    dmar);
}

/* Width of the input addresses a table of @levels levels translates. */
static unsigned int kvm_tdp_width(unsigned int levels)
{
	return VTD_PAGE_SHIFT + levels * VTD_STRIDE_SHIFT;
}

/*
 * Address of the table a present non-leaf entry of KVM's points to: bits
 * 51:12.  The unit ignores bits 63:52, where KVM keeps software bits.
 */
static u64 kvm_tdp_table_addr(const struct dma_pte *pte)
{
	return pte->val & GENMASK_ULL(51, VTD_PAGE_SHIFT);
}

/*
 * The table the hardware walks.  With no root from KVM, point it at the
 * zero page: a table of non-present entries, so DMA faults and nothing
 * dangles.
 */
static u64 kvm_tdp_hw_root(u64 root)
{
	return root ? root : page_to_phys(ZERO_PAGE(0));
}

/*
 * Devices this domain refuses whatever their unit: non-PCI devices (no PASID
 * table), DMA aliases of another device (the PASID entry is the real DMA
 * device's), and devices whose firmware requires 1:1 mappings that KVM's
 * guest physical address space cannot provide.
 */
static bool kvm_tdp_dev_supported(struct device *dev)
{
	struct pci_dev *pdev;

	if (!dev_is_pci(dev) || dev->iommu->require_direct)
		return false;
	pdev = to_pci_dev(dev);

	return pci_real_dma_dev(pdev) == pdev;
}

/**
 * intel_kvm_tdp_share_info() - can @dev's unit walk tables of format @fmt
 * @dev: the device
 * @fmt: the format KVM writes
 * @info: filled with both sides of the comparison and every reason
 *
 * Context: any; allocates nothing.
 */
void intel_kvm_tdp_share_info(struct device *dev,
			      const struct kvm_tdp_format *fmt,
			      struct kvm_iommu_share_info *info)
{
	struct device_domain_info *dinfo = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = dinfo->iommu;
	bool walk_coherent;

	/*
	 * KVM writes its table with plain CPU stores and never flushes CPU
	 * caches, so the unit must snoop its table walks: paging-structure
	 * coherency (ECAP.SMPWC in scalable mode).  A unit reporting caching
	 * mode (CAP.CM=1) is, as the VT-d specification intends it, a
	 * remapping unit emulated in software by a VMM, which reads the
	 * tables from memory coherently with the CPU caches whatever ECAP
	 * says.
	 */
	walk_coherent = iommu_paging_structure_coherency(iommu) ||
			cap_caching_mode(iommu->cap);
	kvm_iommu_vtd_share_check(fmt, iommu->cap, iommu->ecap, walk_coherent,
				  info);
	/* A unit the driver runs in legacy mode has no PASID entries. */
	if (!sm_supported(iommu))
		info->reasons |= IOMMU_KVM_SHARE_NO_TRANSLATION;
	if (!kvm_tdp_dev_supported(dev))
		info->reasons |= IOMMU_KVM_SHARE_DEVICE;
}

/*
 * Install @new as @dev's entry for @pasid: a complete second-stage-only
 * entry, encoded outside the driver for a table the driver does not own.
 * The entry must not be present; it is written with the present bit last,
 * then the PASID cache and IOTLB are invalidated as for any new entry.
 *
 * Context: takes iommu->lock; does not sleep.
 * Return: 0; -EINVAL if @new is not such an entry; -ENODEV if @dev has no
 * PASID table entry for @pasid; -EBUSY if the entry is already present.
 */
static int kvm_tdp_pasid_install(struct intel_iommu *iommu, struct device *dev,
				 u32 pasid, const struct pasid_entry *new)
{
	u16 did = new->val[1] & GENMASK_ULL(15, 0);
	struct pasid_entry *pte;
	int i;

	if (!(new->val[0] & PASID_PTE_PRESENT) ||
	    FIELD_GET(GENMASK_ULL(8, 6), new->val[0]) != PASID_ENTRY_PGTT_SL_ONLY)
		return -EINVAL;

	spin_lock(&iommu->lock);
	pte = intel_pasid_get_entry(dev, pasid);
	if (!pte) {
		spin_unlock(&iommu->lock);
		return -ENODEV;
	}

	if (pasid_pte_is_present(pte)) {
		spin_unlock(&iommu->lock);
		return -EBUSY;
	}

	pasid_clear_entry(pte);
	for (i = ARRAY_SIZE(pte->val) - 1; i > 0; i--)
		WRITE_ONCE(pte->val[i], new->val[i]);
	WRITE_ONCE(pte->val[0], new->val[0]);
	spin_unlock(&iommu->lock);

	pasid_flush_caches(iommu, pte, pasid, did);

	return 0;
}

/*
 * Re-point @dev's second-stage entry for @pasid at the table at @root.
 * Only SSPTPTR changes, in one 64-bit store, so the unit reads either the
 * old or the new table, never a mix.  The caller then invalidates the PASID
 * cache (PASID-selective within @did), the IOTLB and the device TLB, in
 * that order.
 *
 * Context: the caller holds iommu->lock; does not sleep.
 * Return: true if the entry was rewritten; false if it is not (or no
 * longer) a present second-stage entry with @did, e.g. because the device
 * is being detached, and was left alone.
 */
static bool kvm_tdp_pasid_set_root(struct intel_iommu *iommu,
				   struct device *dev, u32 pasid, u16 did,
				   u64 root)
{
	struct pasid_entry *pte;

	lockdep_assert_held(&iommu->lock);

	pte = intel_pasid_get_entry(dev, pasid);
	if (!pte || !pasid_pte_is_present(pte) ||
	    pasid_pte_get_pgtt(pte) != PASID_ENTRY_PGTT_SL_ONLY ||
	    pasid_get_domain_id(pte) != did)
		return false;

	pasid_set_slptr(pte, root);
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(pte, sizeof(*pte));

	return true;
}

/*
 * Program the RID_PASID entry of @dev for the current root.  Called with
 * kdom->lock held, so a concurrent root change either precedes this (and
 * the new root is programmed) or follows it (and re-points this entry).
 */
static int kvm_tdp_install(struct intel_kvm_tdp_domain *kdom,
			   struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	struct kvm_iommu_vtd_ss_cfg cfg = {
		.root = kvm_tdp_hw_root(kdom->root),
		.levels = kdom->fmt.levels,
		.did = domain_id_iommu(&kdom->dmar, iommu),
		/* KVM maps guest RAM write-back: snoop whenever possible */
		.pgsnp = ecap_sc_support(iommu->ecap),
		/* mark KVM's EPT entries dirty for its dirty log */
		.ssade = kvm_iommu_vtd_sets_dirty(&kdom->fmt, iommu->ecap),
	};
	struct pasid_entry pe;
	int ret;

	lockdep_assert_held(&kdom->lock);

	if (kdom->force_snooping && !cfg.pgsnp)
		return -EINVAL;

	ret = kvm_iommu_vtd_ss_pasid_entry(iommu->cap, iommu->ecap, &cfg,
					   pe.val);
	if (ret)
		return ret == -EOPNOTSUPP ? -EINVAL : ret;

	return kvm_tdp_pasid_install(iommu, dev, IOMMU_NO_PASID, &pe);
}

/**
 * intel_kvm_tdp_attach_dev() - point a device's DMA at KVM's table
 * @domain: an IOMMU_DOMAIN_KVM_TDP domain
 * @dev: the device
 *
 * Checks the device and its unit first, so a refused attach leaves the
 * device as it was.  Then blocks the device (dropping its old domain, as
 * every attach of this driver does), takes a domain id on its unit, enables
 * ATS if the device supports it, adds the cache tags (so KVM's flushes
 * reach the unit and the device TLB from now on), and installs the PASID
 * entry last.
 *
 * Context: process context, called by the IOMMU core with the group mutex
 * held; may sleep.
 * Return: 0; -EINVAL if the device or its unit cannot use this domain
 * (any reason intel_kvm_tdp_share_info() finds, or snoop control required
 * but missing); -ENOMEM,
 * -ENOSPC (no domain id left) and the like otherwise.
 */
static int intel_kvm_tdp_attach_dev(struct iommu_domain *domain,
				    struct device *dev)
{
	struct intel_kvm_tdp_domain *kdom = to_kvm_tdp_domain(domain);
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct dmar_domain *dmar = &kdom->dmar;
	struct intel_iommu *iommu = info->iommu;
	struct kvm_iommu_share_info si;
	unsigned long flags;
	int ret;

	intel_kvm_tdp_share_info(dev, &kdom->fmt, &si);
	if (si.reasons)
		return -EINVAL;
	/* Early, to leave the device alone; kvm_tdp_install() checks again */
	if (READ_ONCE(kdom->force_snooping) && !ecap_sc_support(iommu->ecap))
		return -EINVAL;

	device_block_translation(dev);

	if (context_copied(iommu, info->bus, info->devfn)) {
		ret = intel_pasid_setup_sm_context(dev);
		if (ret)
			return ret;
	}

	ret = domain_attach_iommu(dmar, iommu);
	if (ret)
		return ret;

	info->domain = dmar;
	info->domain_attached = true;
	spin_lock_irqsave(&dmar->lock, flags);
	list_add(&info->link, &dmar->devices);
	spin_unlock_irqrestore(&dmar->lock, flags);

	/* Before the tags: the device-TLB tag exists only with ATS enabled */
	iommu_enable_pci_caps(info);
	ret = cache_tag_assign_domain(dmar, dev, IOMMU_NO_PASID);
	if (ret)
		goto err_block;

	spin_lock(&kdom->lock);
	ret = kvm_tdp_install(kdom, dev);
	spin_unlock(&kdom->lock);
	if (ret)
		goto err_block;

	return 0;

err_block:
	device_block_translation(dev);
	return ret;
}

/**
 * intel_kvm_tdp_flush() - invalidate what the IOMMUs cached of a GPA range
 * @domain: an IOMMU_DOMAIN_KVM_TDP domain
 * @start: first guest physical address
 * @end: end of the range, exclusive; (0, U64_MAX) means everything
 * @tables: KVM unlinked table pages: drop paging-structure caches too
 *	(invalidation hint 0); otherwise only leaves changed (hint 1)
 *
 * For every unit the domain is attached to, one page-selective IOTLB
 * invalidation covering the range (domain-selective when the range is too
 * large for the unit, or the unit has no page-selective invalidation), and
 * for every attached device with ATS enabled, one device-TLB invalidation
 * covering it; each unit's descriptors go out as one batch with one wait.
 * The range is clipped to what a table of KVM's depth can translate.
 *
 * Context: any context but hard interrupts; takes the domain's cache_lock
 * with interrupts disabled and spins until every unit reports completion.
 * Return: 0 once every invalidation completed (the queued-invalidation code
 * reports unit errors itself); -EINVAL if @end is not above @start.
 */
static int intel_kvm_tdp_flush(struct iommu_domain *domain, u64 start,
			       u64 end, bool tables)
{
	struct intel_kvm_tdp_domain *kdom = to_kvm_tdp_domain(domain);
	u64 limit = BIT_ULL(kvm_tdp_width(kdom->fmt.levels));

	if (end <= start)
		return -EINVAL;
	if (start >= limit)
		return 0;
	end = min(end, limit);

	if (!start && end == limit)
		cache_tag_flush_all(&kdom->dmar);
	else
		cache_tag_flush_range(&kdom->dmar, start, end - 1, !tables);

	return 0;
}

/**
 * intel_kvm_tdp_set_root() - re-point every attachment at a new KVM root
 * @domain: an IOMMU_DOMAIN_KVM_TDP domain
 * @root: physical address of KVM's new root, same format and depth; 0 when
 *	KVM has none, which blocks DMA (the entries then point at the zero
 *	page, a table with no present entry)
 *
 * Rewrites SSPTPTR in the RID_PASID entry of every attached device, one
 * unit at a time, then invalidates, per unit, the PASID cache
 * (PASID-selective within the domain id), and on every unit and attached
 * ATS device, the whole IOTLB of the domain and the device TLB.  When it
 * returns, no unit uses the old root or anything cached from it.
 *
 * Context: any context but hard interrupts; does not sleep.
 * Return: 0; -EINVAL if @root is not 4 KiB aligned.
 */
static int intel_kvm_tdp_set_root(struct iommu_domain *domain, u64 root)
{
	struct intel_kvm_tdp_domain *kdom = to_kvm_tdp_domain(domain);
	struct dmar_domain *dmar = &kdom->dmar;
	struct device_domain_info *info;
	struct dmar_drhd_unit *drhd;
	struct intel_iommu *iommu;
	unsigned long flags;
	u64 hw_root;

	if (!IS_ALIGNED(root, VTD_PAGE_SIZE))
		return -EINVAL;

	spin_lock(&kdom->lock);
	WRITE_ONCE(kdom->root, root);
	hw_root = kvm_tdp_hw_root(root);

	rcu_read_lock();
	for_each_active_iommu(iommu, drhd) {
		bool changed = false;
		u16 did = 0;

		/* The driver's order: the unit's lock, then the domain's */
		spin_lock(&iommu->lock);
		spin_lock_irqsave(&dmar->lock, flags);
		list_for_each_entry(info, &dmar->devices, link) {
			if (info->iommu != iommu)
				continue;
			did = domain_id_iommu(dmar, iommu);
			if (kvm_tdp_pasid_set_root(iommu, info->dev,
						   IOMMU_NO_PASID, did, hw_root))
				changed = true;
		}
		spin_unlock_irqrestore(&dmar->lock, flags);
		spin_unlock(&iommu->lock);

		if (changed)
			pasid_cache_invalidation_with_pasid(iommu, did,
							    IOMMU_NO_PASID);
	}
	rcu_read_unlock();

	cache_tag_flush_all(dmar);
	spin_unlock(&kdom->lock);

	return 0;
}

/**
 * intel_kvm_tdp_iova_to_phys() - translate a GPA the way the IOMMU would
 * @domain: an IOMMU_DOMAIN_KVM_TDP domain
 * @iova: guest physical address
 *
 * Walks KVM's table read-only, with VT-d second-stage semantics: an entry
 * is present when R or W is set, and PS makes a level 2 or 3 entry a leaf.
 * Only bits 51:12 of an entry are taken as an address; KVM keeps software
 * bits above them.  A snapshot: KVM may change the table meanwhile.
 *
 * Context: any; takes rcu_read_lock(), which keeps KVM's table pages
 * (replaced roots included) from being freed during the walk.
 * Return: the physical address, or 0 if @iova is not mapped.
 */
static phys_addr_t intel_kvm_tdp_iova_to_phys(struct iommu_domain *domain,
					      dma_addr_t iova)
{
	struct intel_kvm_tdp_domain *kdom = to_kvm_tdp_domain(domain);
	int level = kdom->fmt.levels;
	u64 pfn = iova >> VTD_PAGE_SHIFT;
	phys_addr_t phys = 0;
	struct dma_pte pte;
	u64 table;

	if (iova >> kvm_tdp_width(level))
		return 0;

	rcu_read_lock();
	table = READ_ONCE(kdom->root);
	while (table && pfn_valid(PHYS_PFN(table))) {
		struct dma_pte *entries = phys_to_virt(table);

		pte.val = READ_ONCE(entries[pfn_level_offset(pfn, level)].val);
		if (!dma_pte_present(&pte))
			break;
		if (level == 1 || (level <= 3 && dma_pte_superpage(&pte))) {
			u64 size = level_size(level) << VTD_PAGE_SHIFT;

			phys = (kvm_tdp_table_addr(&pte) & ~(size - 1)) |
			       (iova & (size - 1));
			break;
		}
		table = kvm_tdp_table_addr(&pte);
		level--;
	}
	rcu_read_unlock();

	return phys;
}

/**
 * intel_kvm_tdp_enforce_cache_coherency() - make all DMA snoop CPU caches
 * @domain: an IOMMU_DOMAIN_KVM_TDP domain
 *
 * Every entry installed on a unit with snoop control already forces
 * snooping (PGSNP), since KVM maps guest RAM write-back.  Succeeds when all
 * attached devices sit behind such units; from then on, units without snoop
 * control are refused.
 *
 * Context: process context; does not sleep.
 * Return: true if DMA through @domain always snoops.
 */
static bool intel_kvm_tdp_enforce_cache_coherency(struct iommu_domain *domain)
{
	struct intel_kvm_tdp_domain *kdom = to_kvm_tdp_domain(domain);
	struct dmar_domain *dmar = &kdom->dmar;
	struct device_domain_info *info;
	unsigned long flags;
	bool ret = true;

	spin_lock(&kdom->lock);
	if (!kdom->force_snooping) {
		spin_lock_irqsave(&dmar->lock, flags);
		list_for_each_entry(info, &dmar->devices, link) {
			if (!ecap_sc_support(info->iommu->ecap)) {
				ret = false;
				break;
			}
		}
		spin_unlock_irqrestore(&dmar->lock, flags);
		kdom->force_snooping = ret;
	}
	spin_unlock(&kdom->lock);

	return ret;
}

/**
 * intel_kvm_tdp_domain_free() - free a KVM TDP domain
 * @domain: the domain, attached to no device
 *
 * Frees the driver's own state only; KVM's table is KVM's.
 *
 * Context: process context.
 */
static void intel_kvm_tdp_domain_free(struct iommu_domain *domain)
{
	struct intel_kvm_tdp_domain *kdom = to_kvm_tdp_domain(domain);

	if (WARN_ON(!list_empty(&kdom->dmar.devices)))
		return;

	kfree(kdom->dmar.qi_batch);
	kfree(kdom);
}

static const struct iommu_domain_ops intel_kvm_tdp_domain_ops = {
	.attach_dev		= intel_kvm_tdp_attach_dev,
	.iova_to_phys		= intel_kvm_tdp_iova_to_phys,
	.enforce_cache_coherency = intel_kvm_tdp_enforce_cache_coherency,
	.kvm_tdp_flush		= intel_kvm_tdp_flush,
	.kvm_tdp_set_root	= intel_kvm_tdp_set_root,
	.free			= intel_kvm_tdp_domain_free,
};

/**
 * intel_kvm_tdp_domain_alloc() - allocate a domain translated by KVM's table
 * @dev: a device the domain is meant for
 * @exp: KVM's root and entry format
 * @reasons: set to the enum iommu_kvm_share_reason mask on -EOPNOTSUPP,
 *	to 0 otherwise
 *
 * Checks that @dev's unit can walk KVM's table, runs in scalable mode, and
 * that @dev is a device this domain supports.  The domain can then be
 * attached to any device passing the same checks (attach repeats them for
 * the device's own unit).
 *
 * Context: process context; may sleep.
 * Return: the domain; ERR_PTR(-EOPNOTSUPP) with *@reasons set when the unit
 * cannot walk KVM's table or the device cannot use such a domain
 * (IOMMU_KVM_SHARE_DEVICE); ERR_PTR(-EINVAL) for a root that is zero or
 * not 4 KiB aligned; ERR_PTR(-ENOMEM).
 */
struct iommu_domain *intel_kvm_tdp_domain_alloc(struct device *dev,
						const struct kvm_tdp_export *exp,
						u32 *reasons)
{
	struct kvm_iommu_share_info si;
	struct intel_kvm_tdp_domain *kdom;
	struct dmar_domain *dmar;

	*reasons = 0;
	if (!exp->root || !IS_ALIGNED(exp->root, VTD_PAGE_SIZE))
		return ERR_PTR(-EINVAL);

	intel_kvm_tdp_share_info(dev, &exp->fmt, &si);
	if (si.reasons) {
		*reasons = si.reasons;
		return ERR_PTR(-EOPNOTSUPP);
	}

	kdom = kzalloc(sizeof(*kdom), GFP_KERNEL_ACCOUNT);
	if (!kdom)
		return ERR_PTR(-ENOMEM);

	spin_lock_init(&kdom->lock);
	kdom->root = exp->root;
	kdom->fmt = exp->fmt;

	dmar = &kdom->dmar;
	INIT_LIST_HEAD(&dmar->devices);
	INIT_LIST_HEAD(&dmar->dev_pasids);
	INIT_LIST_HEAD(&dmar->cache_tags);
	spin_lock_init(&dmar->lock);
	spin_lock_init(&dmar->cache_lock);
	xa_init(&dmar->iommu_array);
	dmar->nid = dev_to_node(dev);
	/* Second stage, KVM's depth; no pgd: the table is not the driver's */
	dmar->agaw = exp->fmt.levels - 2;
	dmar->gaw = agaw_to_width(dmar->agaw);

	dmar->domain.type = IOMMU_DOMAIN_KVM_TDP;
	dmar->domain.ops = &intel_kvm_tdp_domain_ops;
	dmar->domain.owner = &intel_iommu_ops;
	dmar->domain.geometry.aperture_start = 0;
	dmar->domain.geometry.aperture_end = BIT_ULL(dmar->gaw) - 1;
	dmar->domain.geometry.force_aperture = true;

	return &dmar->domain;
}
