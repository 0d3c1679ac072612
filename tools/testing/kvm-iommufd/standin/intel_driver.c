// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for the VT-d driver's own plumbing that the product's KVM-TDP
 * domain (arch/x86/kvm-iommu/intel_kvm_tdp.c) calls, over the stand-in
 * unit (intel_iommu.c) and the VT-d model: see intel/iommu.h and
 * intel/pasid.h for the interfaces.  What Linux 6.12's driver does in
 * iommu.c (probe, domain ids, blocking a device), cache.c (cache tags and
 * their batched invalidation) and pasid.c (PASID entries and their cache
 * invalidation) is written here again for the host, from the driver's
 * interfaces and the VT-d specification; the KVM-TDP domain itself is not.
 *
 * device_block_translation() follows the order patch 0011 gives it:
 * the PASID entry goes (with its invalidations) before the cache tags.
 */
#include "../vtd_internal.h"
#include "intel/iommu.h"
#include "intel/pasid.h"
#include "intel_kvm_domain.h"
#include "intel_paging_domain.h"

/* Domain id 0 is reserved, 1 is the driver's default first-stage one. */
#define KT_FIRST_DID	2

const struct iommu_ops intel_iommu_ops = {
	.domain_alloc_paging = kt_intel_domain_alloc_paging,	/* intel_paging_domain.c */
	.page_response = kt_intel_page_response,		/* intel_iommu.c */
	/* patch 0011's entries: the product's domain */
	.domain_alloc_kvm_tdp = intel_kvm_tdp_domain_alloc,
	.kvm_tdp_share_info = intel_kvm_tdp_share_info,
};

/* ---- devices ---- */

/**
 * kt_intel_probe_device() - the driver's probe of @dev behind @iommu
 * @dev: the device
 * @iommu: its unit; NULL for a device behind none
 * @sid: its requester id (bus << 8 | devfn)
 *
 * Gives @dev the driver's per-device data (dev_iommu_priv_get()), which
 * the unit keeps until it is destroyed, and registers it for page
 * requests.  Probing a device again on the same unit reuses its data.
 * The data comes from calloc(): probe failures are not modelled.
 */
void kt_intel_probe_device(struct device *dev, struct intel_iommu *iommu, u16 sid)
{
	struct device_domain_info *info = NULL, *pos;

	dev->iommu_ops = &intel_iommu_ops;
	dev->sid = sid;
	dev->iommu = NULL;
	if (!iommu)
		return;
	spin_lock(&iommu->lock);
	list_for_each_entry(pos, &iommu->kt_devices, kt_node)
		if (pos->dev == dev)
			info = pos;
	if (!info) {
		info = calloc(1, sizeof(*info));
		if (info) {
			info->dev = dev;
			info->iommu = iommu;
			INIT_LIST_HEAD(&info->link);
			list_add_tail(&info->kt_node, &iommu->kt_devices);
		}
	}
	spin_unlock(&iommu->lock);
	if (WARN_ON(!info))
		return;
	info->bus = sid >> 8;
	info->devfn = sid & 0xff;
	dev->kt_dev_iommu = (struct dev_iommu){ .priv = info };
	dev->iommu = &dev->kt_dev_iommu;
	WARN_ON(kt_intel_prq_register_dev(iommu, dev));
}

struct intel_iommu *kt_intel_dev_unit(struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);

	return info ? info->iommu : NULL;
}

bool iommu_paging_structure_coherency(struct intel_iommu *iommu)
{
	return sm_supported(iommu) ? ecap_smpwc(iommu->ecap) :
				     ecap_coherent(iommu->ecap);
}

/* ATS would be enabled here; the emulated devices have no device TLB. */
void iommu_enable_pci_caps(struct device_domain_info *info)
{
	if (info->ats_supported)
		info->ats_enabled = 1;
}

static void iommu_disable_pci_caps(struct device_domain_info *info)
{
	info->ats_enabled = 0;
}

/* ---- domain ids ---- */

/* serialises the domains' iommu_array slots between units */
static pthread_mutex_t kt_xa_lock = PTHREAD_MUTEX_INITIALIZER;

/**
 * domain_attach_iommu() - give @domain an id on @iommu, or count one more
 *	device of it there
 * @domain: the domain
 * @iommu: the unit
 *
 * Return: 0, -ENOMEM, or -ENOSPC when the unit has no id left.
 */
int domain_attach_iommu(struct dmar_domain *domain, struct intel_iommu *iommu)
{
	unsigned long ndoms = min_t(unsigned long, cap_ndoms(iommu->cap), KT_NR_DIDS);
	struct iommu_domain_info *info, *curr;
	unsigned long did;
	unsigned int slot;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;

	spin_lock(&iommu->lock);
	curr = xa_load(&domain->iommu_array, iommu->seq_id);
	if (curr) {
		curr->refcnt++;
		spin_unlock(&iommu->lock);
		kfree(info);
		return 0;
	}
	for (did = KT_FIRST_DID; did < ndoms; did++)
		if (!(iommu->domain_ids[did / BITS_PER_LONG] & BIT(did % BITS_PER_LONG)))
			break;
	pthread_mutex_lock(&kt_xa_lock);
	for (slot = 0; slot < KT_XA_SLOTS; slot++)
		if (!domain->iommu_array.entry[slot])
			break;
	if (did >= ndoms || slot == KT_XA_SLOTS) {
		pthread_mutex_unlock(&kt_xa_lock);
		spin_unlock(&iommu->lock);
		kfree(info);
		return -ENOSPC;
	}
	iommu->domain_ids[did / BITS_PER_LONG] |= BIT(did % BITS_PER_LONG);
	info->iommu = iommu;
	info->refcnt = 1;
	info->did = did;
	__atomic_store_n(&domain->iommu_array.index[slot], iommu->seq_id,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&domain->iommu_array.entry[slot], info, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&kt_xa_lock);
	spin_unlock(&iommu->lock);
	return 0;
}

/**
 * domain_detach_iommu() - undo one domain_attach_iommu()
 * @domain: the domain
 * @iommu: the unit
 *
 * The last device of @domain behind @iommu frees the domain's id there.
 */
void domain_detach_iommu(struct dmar_domain *domain, struct intel_iommu *iommu)
{
	struct iommu_domain_info *info;
	unsigned int slot;

	spin_lock(&iommu->lock);
	info = xa_load(&domain->iommu_array, iommu->seq_id);
	if (!WARN_ON(!info) && !--info->refcnt) {
		iommu->domain_ids[info->did / BITS_PER_LONG] &= ~BIT(info->did % BITS_PER_LONG);
		pthread_mutex_lock(&kt_xa_lock);
		for (slot = 0; slot < KT_XA_SLOTS; slot++)
			if (domain->iommu_array.entry[slot] == info)
				__atomic_store_n(&domain->iommu_array.entry[slot], NULL,
						 __ATOMIC_RELEASE);
		pthread_mutex_unlock(&kt_xa_lock);
		kfree(info);
	}
	spin_unlock(&iommu->lock);
}

/* ---- queued invalidation ---- */

static struct qi_desc iotlb_desc(struct intel_iommu *iommu, u16 did, u64 addr,
				 unsigned int am, bool ih, u64 type)
{
	struct qi_desc d = {
		.qw0 = QI_IOTLB_TYPE | QI_IOTLB_GRAN(type) | QI_IOTLB_DID(did) |
		       QI_IOTLB_DR(cap_read_drain(iommu->cap)) |
		       QI_IOTLB_DW(cap_write_drain(iommu->cap)),
	};

	if (type == DMA_TLB_PSI_FLUSH)
		d.qw1 = QI_IOTLB_ADDR(addr) | QI_IOTLB_IH(ih) | QI_IOTLB_AM(am);
	return d;
}

/**
 * qi_flush_iotlb() - one IOTLB invalidation, and a wait
 * @iommu: the unit
 * @did: the domain id
 * @addr: page-selective: the first address, aligned to 2^@size_order pages
 *	(its bit 6 is the invalidation hint)
 * @size_order: page-selective: log2 of the number of pages
 * @type: DMA_TLB_DSI_FLUSH or DMA_TLB_PSI_FLUSH
 */
void qi_flush_iotlb(struct intel_iommu *iommu, u16 did, u64 addr,
		    unsigned int size_order, u64 type)
{
	struct qi_desc d = iotlb_desc(iommu, did, addr, size_order,
				      addr & BIT_ULL(6), type);

	WARN_ON(qi_submit_sync(iommu, &d, 1, 0));
}

/**
 * qi_flush_piotlb() - one PASID-based IOTLB invalidation, and a wait
 * @iommu: the unit
 * @did: the domain id
 * @pasid: the PASID
 * @addr: unused: only the PASID-selective form (@npages -1) is modelled
 * @npages: -1
 * @ih: unused, as @addr
 */
void qi_flush_piotlb(struct intel_iommu *iommu, u16 did, u32 pasid, u64 addr,
		     unsigned long npages, bool ih)
{
	struct qi_desc d = {
		.qw0 = QI_EIOTLB_PASID(pasid) | QI_EIOTLB_DID(did) |
		       QI_EIOTLB_GRAN(QI_GRAN_NONG_PASID) | QI_EIOTLB_TYPE,
	};

	WARN_ON(npages != -1UL);
	WARN_ON(qi_submit_sync(iommu, &d, 1, 0));
}

/* ---- cache tags ---- */

/**
 * cache_tag_assign_domain() - the caches @dev's translations through
 *	@domain may sit in: its unit's IOTLB, for the domain's id there
 * @domain: the domain, attached to @dev's unit (domain_attach_iommu())
 * @dev: the device
 * @pasid: the PASID @domain is attached to
 *
 * Devices behind one unit share its tag (counted in @users).
 *
 * Return: 0 or -ENOMEM.
 */
int cache_tag_assign_domain(struct dmar_domain *domain, struct device *dev,
			    u32 pasid)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	u16 did = domain_id_iommu(domain, iommu);
	struct cache_tag *tag, *pos;
	unsigned long flags;

	tag = kzalloc(sizeof(*tag), GFP_KERNEL);
	if (!tag)
		return -ENOMEM;
	tag->type = CACHE_TAG_IOTLB;
	tag->iommu = iommu;
	tag->domain_id = did;
	tag->pasid = pasid;
	tag->users = 1;

	spin_lock_irqsave(&domain->cache_lock, flags);
	list_for_each_entry(pos, &domain->cache_tags, node) {
		if (pos->type == tag->type && pos->iommu == iommu &&
		    pos->domain_id == did && pos->pasid == pasid) {
			pos->users++;
			spin_unlock_irqrestore(&domain->cache_lock, flags);
			kfree(tag);
			return 0;
		}
	}
	list_add_tail(&tag->node, &domain->cache_tags);
	spin_unlock_irqrestore(&domain->cache_lock, flags);
	return 0;
}

/**
 * cache_tag_unassign_domain() - undo cache_tag_assign_domain()
 * @domain: the domain
 * @dev: the device
 * @pasid: the PASID
 */
void cache_tag_unassign_domain(struct dmar_domain *domain, struct device *dev,
			       u32 pasid)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	u16 did = domain_id_iommu(domain, info->iommu);
	struct cache_tag *tag;
	unsigned long flags;

	spin_lock_irqsave(&domain->cache_lock, flags);
	list_for_each_entry(tag, &domain->cache_tags, node) {
		if (tag->type == CACHE_TAG_IOTLB && tag->iommu == info->iommu &&
		    tag->domain_id == did && tag->pasid == pasid) {
			if (!--tag->users) {
				list_del(&tag->node);
				kfree(tag);
			}
			break;
		}
	}
	spin_unlock_irqrestore(&domain->cache_lock, flags);
}

/* Descriptors for one unit, submitted with one wait (the driver's qi_batch). */
#define KT_QI_BATCH	16

struct kt_qi_batch {
	struct intel_iommu *iommu;
	struct qi_desc desc[KT_QI_BATCH];
	unsigned int n;
};

static void batch_submit(struct kt_qi_batch *b)
{
	if (b->n)
		WARN_ON(qi_submit_sync(b->iommu, b->desc, b->n, 0));
	b->n = 0;
}

static void batch_add(struct kt_qi_batch *b, struct intel_iommu *iommu,
		      const struct qi_desc *d)
{
	if (b->iommu != iommu || b->n == KT_QI_BATCH) {
		batch_submit(b);
		b->iommu = iommu;
	}
	b->desc[b->n++] = *d;
}

/*
 * The smallest naturally aligned block of 2^*@am pages holding the pages
 * of [@start, @end] (inclusive); its first address.
 */
static u64 psi_block(u64 start, u64 end, unsigned int *am)
{
	u64 first = start >> VTD_PAGE_SHIFT, last = end >> VTD_PAGE_SHIFT;

	*am = first == last ? 0 : 64 - __builtin_clzll(first ^ last);
	if (*am >= 64 - VTD_PAGE_SHIFT)
		return 0;
	return (first & ~((1ULL << *am) - 1)) << VTD_PAGE_SHIFT;
}

/**
 * cache_tag_flush_range() - invalidate what @domain's caches hold of a range
 * @domain: the domain
 * @start: first address
 * @end: last address (inclusive)
 * @ih: invalidation hint: only leaves changed, the paging-structure caches
 *	may stay
 *
 * Per unit, one page-selective invalidation covering the range (domain-
 * selective when the unit has none, or the block is larger than it
 * takes), all of a unit's descriptors with one wait.
 *
 * Context: takes @domain->cache_lock; spins on the queue.
 */
void cache_tag_flush_range(struct dmar_domain *domain, unsigned long start,
			   unsigned long end, int ih)
{
	struct kt_qi_batch b = { 0 };
	struct cache_tag *tag;
	unsigned long flags;
	unsigned int am;
	u64 addr = psi_block(start, end, &am);

	spin_lock_irqsave(&domain->cache_lock, flags);
	list_for_each_entry(tag, &domain->cache_tags, node) {
		struct intel_iommu *iommu = tag->iommu;
		struct qi_desc d;

		if (!cap_pgsel_inv(iommu->cap) || am > cap_max_amask_val(iommu->cap))
			d = iotlb_desc(iommu, tag->domain_id, 0, 0, false,
				       DMA_TLB_DSI_FLUSH);
		else
			d = iotlb_desc(iommu, tag->domain_id, addr, am, ih,
				       DMA_TLB_PSI_FLUSH);
		batch_add(&b, iommu, &d);
	}
	batch_submit(&b);
	spin_unlock_irqrestore(&domain->cache_lock, flags);
}

/**
 * cache_tag_flush_all() - invalidate everything @domain's caches hold
 * @domain: the domain
 *
 * Context: as cache_tag_flush_range().
 */
void cache_tag_flush_all(struct dmar_domain *domain)
{
	struct kt_qi_batch b = { 0 };
	struct cache_tag *tag;
	unsigned long flags;

	spin_lock_irqsave(&domain->cache_lock, flags);
	list_for_each_entry(tag, &domain->cache_tags, node) {
		struct qi_desc d = iotlb_desc(tag->iommu, tag->domain_id, 0, 0,
					      false, DMA_TLB_DSI_FLUSH);

		batch_add(&b, tag->iommu, &d);
	}
	batch_submit(&b);
	spin_unlock_irqrestore(&domain->cache_lock, flags);
}

/* ---- PASID entries ---- */

struct pasid_entry *intel_pasid_get_entry(struct device *dev, u32 pasid)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);

	if (WARN_ON(!info || pasid != IOMMU_NO_PASID))
		return NULL;
	return (struct pasid_entry *)kt_intel_pasid_entry(info->iommu, dev->sid,
							  true);
}

/**
 * pasid_cache_invalidation_with_pasid() - PASID-selective-within-domain
 *	PASID cache invalidation, and a wait
 * @iommu: the unit
 * @did: the domain id
 * @pasid: the PASID
 */
void pasid_cache_invalidation_with_pasid(struct intel_iommu *iommu,
					 u16 did, u32 pasid)
{
	struct qi_desc d = {
		.qw0 = QI_PC_DID(did) | QI_PC_GRAN(QI_PC_PASID_SEL) |
		       QI_PC_PASID(pasid) | QI_PC_TYPE,
	};

	WARN_ON(qi_submit_sync(iommu, &d, 1, 0));
}

/**
 * pasid_flush_caches() - after an entry became present
 * @iommu: the unit
 * @pte: the entry
 * @pasid: its PASID
 * @did: its domain id
 *
 * A unit in caching mode may cache non-present entries: invalidate its
 * PASID cache and the PASID's IOTLB.  Otherwise there is nothing to
 * invalidate (and the model has no write buffer to flush).
 */
void pasid_flush_caches(struct intel_iommu *iommu, struct pasid_entry *pte,
			u32 pasid, u16 did)
{
	if (!ecap_coherent(iommu->ecap))
		clflush_cache_range(pte, sizeof(*pte));
	if (cap_caching_mode(iommu->cap)) {
		pasid_cache_invalidation_with_pasid(iommu, did, pasid);
		qi_flush_piotlb(iommu, did, pasid, 0, -1, 0);
	}
}

/* The stand-in sets context entries up when it makes them. */
int intel_pasid_setup_sm_context(struct device *dev)
{
	return 0;
}

/**
 * intel_pasid_tear_down_entry() - clear a PASID entry and invalidate
 * @iommu: the unit
 * @dev: the device
 * @pasid: the PASID
 * @fault_ignore: unused (the model reports every fault)
 *
 * Clears the entry, then invalidates the PASID cache and the domain's
 * IOTLB (second-stage entries: domain-selective).
 */
void intel_pasid_tear_down_entry(struct intel_iommu *iommu,
				 struct device *dev, u32 pasid,
				 bool fault_ignore)
{
	struct pasid_entry *pte;
	u16 did;

	spin_lock(&iommu->lock);
	pte = pasid == IOMMU_NO_PASID ?
	      (struct pasid_entry *)kt_intel_pasid_entry(iommu, dev->sid, false) : NULL;
	if (!pte || !pasid_pte_is_present(pte)) {
		spin_unlock(&iommu->lock);
		return;
	}
	did = pasid_get_domain_id(pte);
	pasid_clear_entry(pte);
	spin_unlock(&iommu->lock);

	pasid_cache_invalidation_with_pasid(iommu, did, pasid);
	qi_flush_iotlb(iommu, did, 0, 0, DMA_TLB_DSI_FLUSH);
}

/**
 * device_block_translation() - the device's DMA blocked, its domain left
 * @dev: a probed device
 *
 * Tears the RID_PASID entry down (with its invalidations), then drops the
 * device's cache tags, disables ATS, takes the device off its domain's
 * list and gives up the domain's id on the unit when it was the last.
 *
 * Context: the group mutex in the kernel: callers serialise it per device.
 */
void device_block_translation(struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	struct dmar_domain *domain = info->domain;
	unsigned long flags;

	if (!info->domain_attached)
		return;
	intel_pasid_tear_down_entry(iommu, dev, IOMMU_NO_PASID, false);
	if (domain)
		cache_tag_unassign_domain(domain, dev, IOMMU_NO_PASID);
	iommu_disable_pci_caps(info);
	info->domain_attached = false;
	if (!domain)
		return;
	spin_lock_irqsave(&domain->lock, flags);
	list_del_init(&info->link);
	spin_unlock_irqrestore(&domain->lock, flags);
	domain_detach_iommu(domain, iommu);
	info->domain = NULL;
}

/* ---- test helpers of intel_kvm_domain.h ---- */

/**
 * kt_kvm_domain_detach() - detach @dev from the KVM-TDP domain @domain
 * @domain: the domain
 * @dev: a device attached to it
 *
 * What attaching the blocking domain does: device_block_translation().
 *
 * Return: 0, or -ENOENT when @dev is not attached to @domain.
 */
int kt_kvm_domain_detach(struct iommu_domain *domain, struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);

	if (!info || !info->domain_attached || !info->domain ||
	    &info->domain->domain != domain)
		return -ENOENT;
	device_block_translation(dev);
	return 0;
}

u64 kt_intel_ss_pointer(struct intel_iommu *iommu, u16 sid)
{
	u64 *pe;

	spin_lock(&iommu->lock);
	pe = kt_intel_pasid_entry(iommu, sid, false);
	pe = pe && (__atomic_load_n(&pe[0], __ATOMIC_RELAXED) & 1) ? pe : NULL;
	spin_unlock(&iommu->lock);
	return pe ? __atomic_load_n(&pe[0], __ATOMIC_RELAXED) & PAGE_MASK : 0;
}
