// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd: the iommufd selftest driver's KVM-table domain.
 *
 * DOC: A mock IOMMU that walks KVM's table
 *
 * Built with CONFIG_IOMMUFD_TEST only.  The mock IOMMU of iommufd's
 * selftest driver (drivers/iommu/iommufd/selftest.c) offers this file's
 * domain through ->domain_alloc_kvm_tdp(), so a mock device attached
 * SHARED to a KVM-sourced IOAS runs the kvm-iommufd core's whole path: the
 * share check, registration with KVM's exporter, KVM's invalidations and,
 * with a fault queue, the IO page fault handler that resolves page
 * requests through KVM.  No device in the test bed sends page requests;
 * this one does.
 *
 * The domain translates by walking KVM's table in software, reading each
 * entry as struct kvm_tdp_format describes it, so one walker serves EPT,
 * NPT and arm64 stage 2:
 *
 * - an entry allows reads when it has every bit of read_mask, writes when
 *   it has every bit of write_mask, and a walk allows what every entry on
 *   its way allows;
 * - an entry above the smallest leaf is a leaf when it says so in the
 *   format's way: on x86 bit 7 (PS) set, on arm64 bit 1 (table) clear;
 * - the next table, or the page, is at the entry's addr_mask bits.
 *
 * kvm_mock_share_check() refuses a format such a walker would read
 * differently from KVM, with the reasons a real unit gives.
 *
 * Like hardware, the domain caches what it walked: an IOTLB of
 * KVM_MOCK_IOTLB_ENTRIES leaves, each kept until ->kvm_tdp_flush() or
 * ->kvm_tdp_set_root() drops it, whatever KVM did to its table meanwhile.
 * A mock DMA (iommufd_test_kvm_dma()) translates each page from the IOTLB
 * or by a walk; where neither gives it the access it needs, the device
 * raises a page request for the page, when the caller allows it, waits for
 * the response and walks again.
 *
 * Locking: kvm_mock_domain.lock (a spinlock, interrupts off) protects the
 * root and the IOTLB, and is held across each page's translation and copy.
 * ->kvm_tdp_flush() takes it, so it returns only once no DMA uses a
 * translation it dropped, as a unit completes an invalidation only after
 * the DMA in flight: KVM may free the page as soon as it returns.  Walks
 * run under rcu_read_lock(), which keeps table pages KVM unlinked until
 * the walk is done.  Outstanding page requests are on kvm_mock_prqs, under
 * kvm_mock_prq_lock.
 */
#include "kvm_iommu_internal.h"
#include "kvm_iommu_test.h"
#include <linux/kvm_iommufd.h>
#include <linux/kvm_tdp_export.h>
#include <uapi/linux/iommufd_kvm.h>

#define KVM_MOCK_IOTLB_ENTRIES	8
/* the output addresses the mock unit can reach */
#define KVM_MOCK_OAS		52
/* how long a device waits for the answer to its page request */
#define KVM_MOCK_PRQ_TIMEOUT	(10 * HZ)
/* the largest mock DMA */
#define KVM_MOCK_DMA_MAX	SZ_2M
/* page requests the mock device raises itself: group ids 256-511 */
#define KVM_MOCK_GRPID_BASE	256
#define KVM_MOCK_GRPID_MASK	255

/**
 * struct kvm_mock_tlbe - one leaf the mock IOTLB keeps
 * @iova: first guest physical address the leaf maps
 * @size: the leaf's size; 0 for an unused entry
 * @phys: the host physical address @iova translates to
 * @writable: the walk allowed writes
 */
struct kvm_mock_tlbe {
	u64 iova;
	u64 size;
	u64 phys;
	bool writable;
};

/**
 * struct kvm_mock_domain - a mock IOMMU_DOMAIN_KVM_TDP domain
 * @domain: the IOMMU core's domain
 * @lock: protects @root, @iotlb, @victim and @flushes (see the DOC)
 * @root: physical address of KVM's root table; 0: none, DMA is refused
 * @fmt: what KVM writes into its table
 * @iotlb: the leaves the domain cached
 * @victim: the entry of @iotlb the next walk replaces when none is free
 * @flushes: ->kvm_tdp_flush() and ->kvm_tdp_set_root() calls so far
 * @grpid: the next page request's group id (under no lock: atomic)
 */
struct kvm_mock_domain {
	struct iommu_domain domain;
	spinlock_t lock;
	u64 root;
	struct kvm_tdp_format fmt;
	struct kvm_mock_tlbe iotlb[KVM_MOCK_IOTLB_ENTRIES];
	unsigned int victim;
	u64 flushes;
	atomic_t grpid;
};

/**
 * struct kvm_mock_prq - a page request the mock device waits on
 * @node: on kvm_mock_prqs
 * @dev: the device that raised it
 * @grpid: its page request group
 * @answered: the response arrived (written under kvm_mock_prq_lock,
 *	read by the waiter with smp_load_acquire())
 * @code: the response's enum iommu_page_response_code
 */
struct kvm_mock_prq {
	struct list_head node;
	struct device *dev;
	u32 grpid;
	bool answered;
	u32 code;
};

static LIST_HEAD(kvm_mock_prqs);
static DEFINE_SPINLOCK(kvm_mock_prq_lock);

static const struct iommu_domain_ops kvm_mock_domain_ops;

static struct kvm_mock_domain *to_kvm_mock(struct iommu_domain *domain)
{
	return container_of(domain, struct kvm_mock_domain, domain);
}

static bool has_all(u64 entry, u64 mask)
{
	return (entry & mask) == mask;
}

/* Bits a level of @fmt's table resolves. */
static unsigned int level_bits(const struct kvm_tdp_format *fmt)
{
	return fmt->granule_shift - 3;
}

/* Size of what an entry of @level maps (level 1: the granule). */
static u64 level_size(const struct kvm_tdp_format *fmt, unsigned int level)
{
	return BIT_ULL(fmt->granule_shift + (level - 1) * level_bits(fmt));
}

/* Does a present @entry above the smallest leaf map a block? */
static bool is_block(const struct kvm_tdp_format *fmt, u64 entry)
{
	if (fmt->type == KVM_TDP_FMT_ARM64_S2)
		return !(entry & BIT_ULL(1));
	return entry & BIT_ULL(7);
}

/*
 * Leaf sizes the walker takes for @fmt: one per level below the root, the
 * granule's and each larger level's.
 */
static u64 walker_leaf_sizes(const struct kvm_tdp_format *fmt)
{
	u64 sizes = 0;
	unsigned int level;

	for (level = 1; level < fmt->levels; level++) {
		if (fmt->granule_shift + (level - 1) * level_bits(fmt) >= 64)
			break;
		sizes |= level_size(fmt, level);
	}
	return sizes;
}

/*
 * What the mock unit refuses, as a real unit's check does: a format whose
 * entries it would read differently from KVM.  The read and write masks
 * must be in every table entry KVM links (the walker requires them at
 * every level); no entry that maps nothing, and no cached-MMIO entry, may
 * carry a bit of them (the unit would read it as present); without an
 * accessed bit KVM ages pages by clearing permissions, without a flush.
 */
static u32 kvm_mock_share_check(const struct kvm_tdp_format *fmt,
				struct kvm_iommu_share_info *info)
{
	u64 rw = fmt->read_mask | fmt->write_mask;
	u32 r = 0;

	kvm_iommu_share_info_init(info, fmt);
	info->iommu_levels = GENMASK(5, 2);
	info->iommu_max_leaf_level = fmt->levels ? fmt->levels - 1 : 0;
	info->iommu_addr_bits = KVM_MOCK_OAS;

	if ((fmt->type != KVM_TDP_FMT_EPT && fmt->type != KVM_TDP_FMT_NPT &&
	     fmt->type != KVM_TDP_FMT_ARM64_S2) ||
	    (fmt->granule_shift != 12 && fmt->granule_shift != 14 &&
	     fmt->granule_shift != 16) ||
	    !fmt->read_mask || !fmt->write_mask ||
	    !has_all(fmt->nonleaf_bits, rw) || !has_all(fmt->leaf_bits, rw))
		r |= IOMMU_KVM_SHARE_FORMAT;
	if (fmt->levels < 2 || fmt->levels > 5 ||
	    fmt->ias > fmt->granule_shift + fmt->levels * (fmt->granule_shift - 3))
		r |= IOMMU_KVM_SHARE_LEVELS;
	if (fmt->oas > KVM_MOCK_OAS)
		r |= IOMMU_KVM_SHARE_ADDR_WIDTH;
	if (!(r & (IOMMU_KVM_SHARE_FORMAT | IOMMU_KVM_SHARE_LEVELS)) &&
	    (fmt->leaf_sizes & ~walker_leaf_sizes(fmt)))
		r |= IOMMU_KVM_SHARE_PAGE_SIZES;
	if (fmt->nonpresent_bits & rw)
		r |= IOMMU_KVM_SHARE_NONPRESENT;
	if (fmt->mmio_bits & rw)
		r |= IOMMU_KVM_SHARE_MMIO_CACHING;
	if (!fmt->accessed_mask)
		r |= IOMMU_KVM_SHARE_ACCESS_TRACKING;
	info->reasons = r;
	return r;
}

/**
 * iommufd_test_kvm_share_info() - ->kvm_tdp_share_info() of the mock IOMMU
 * @dev: a mock device
 * @fmt: the format KVM writes
 * @info: filled with both sides of the comparison and the reasons
 *
 * The mock unit walks any table of 2 to 5 levels of 4, 16 or 64 KiB
 * granules, with a leaf at every level but the root, and reaches 52-bit
 * output addresses.  It never sets accessed or dirty bits.
 *
 * Context: any; allocates nothing.
 */
void iommufd_test_kvm_share_info(struct device *dev,
				 const struct kvm_tdp_format *fmt,
				 struct kvm_iommu_share_info *info)
{
	kvm_mock_share_check(fmt, info);
}

/**
 * iommufd_test_kvm_domain_alloc() - ->domain_alloc_kvm_tdp() of the mock IOMMU
 * @dev: a mock device
 * @exp: KVM's root and entry format
 * @reasons: set to the enum iommu_kvm_share_reason mask on -EOPNOTSUPP,
 *	to 0 otherwise
 *
 * Context: process context; may sleep.
 * Return: the domain; ERR_PTR(-EOPNOTSUPP) with *@reasons set when the
 * mock unit cannot walk the table; ERR_PTR(-EINVAL) for a root that is 0
 * or not aligned to the granule; ERR_PTR(-ENOMEM).
 */
struct iommu_domain *iommufd_test_kvm_domain_alloc(struct device *dev,
						   const struct kvm_tdp_export *exp,
						   u32 *reasons)
{
	struct kvm_iommu_share_info info;
	struct kvm_mock_domain *mock;

	*reasons = 0;
	if (kvm_mock_share_check(&exp->fmt, &info)) {
		*reasons = info.reasons;
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (!exp->root || !IS_ALIGNED(exp->root, BIT_ULL(exp->fmt.granule_shift)))
		return ERR_PTR(-EINVAL);

	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&mock->lock);
	mock->root = exp->root;
	mock->fmt = exp->fmt;
	atomic_set(&mock->grpid, 0);

	mock->domain.type = IOMMU_DOMAIN_KVM_TDP;
	mock->domain.ops = &kvm_mock_domain_ops;
	mock->domain.owner = dev_iommu_ops(dev);
	mock->domain.pgsize_bitmap = exp->fmt.leaf_sizes;
	mock->domain.geometry.aperture_start = 0;
	mock->domain.geometry.aperture_end = exp->fmt.ias < 64 ?
					     BIT_ULL(exp->fmt.ias) - 1 : U64_MAX;
	mock->domain.geometry.force_aperture = true;
	return &mock->domain;
}

static int kvm_mock_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	return 0;
}

/* The walker reads KVM's table as it is: coherent with the CPU's caches. */
static bool kvm_mock_enforce_cache_coherency(struct iommu_domain *domain)
{
	return true;
}

/* Drop the IOTLB entries of leaves overlapping [@start, @end). */
static void iotlb_drop(struct kvm_mock_domain *mock, u64 start, u64 end)
{
	struct kvm_mock_tlbe *e;

	for (e = mock->iotlb; e < mock->iotlb + KVM_MOCK_IOTLB_ENTRIES; e++)
		if (e->size && e->iova < end && start < e->iova + e->size)
			e->size = 0;
}

/*
 * KVM changed the translations of [@start, @end): drop what the IOTLB
 * holds of them.  The mock unit caches no table entries, so @tables asks
 * for nothing more.  Holding the lock waits for the page a DMA is copying.
 */
static int kvm_mock_flush(struct iommu_domain *domain, u64 start, u64 end,
			  bool tables)
{
	struct kvm_mock_domain *mock = to_kvm_mock(domain);
	unsigned long flags;

	if (end <= start)
		return -EINVAL;
	spin_lock_irqsave(&mock->lock, flags);
	iotlb_drop(mock, start, end);
	mock->flushes++;
	spin_unlock_irqrestore(&mock->lock, flags);
	return 0;
}

static int kvm_mock_set_root(struct iommu_domain *domain, u64 root)
{
	struct kvm_mock_domain *mock = to_kvm_mock(domain);
	unsigned long flags;

	if (!IS_ALIGNED(root, BIT_ULL(mock->fmt.granule_shift)))
		return -EINVAL;
	spin_lock_irqsave(&mock->lock, flags);
	mock->root = root;
	iotlb_drop(mock, 0, U64_MAX);
	mock->flushes++;
	spin_unlock_irqrestore(&mock->lock, flags);
	return 0;
}

static void kvm_mock_free(struct iommu_domain *domain)
{
	kfree(to_kvm_mock(domain));
}

static const struct iommu_domain_ops kvm_mock_domain_ops = {
	.attach_dev = kvm_mock_attach_dev,
	.enforce_cache_coherency = kvm_mock_enforce_cache_coherency,
	.kvm_tdp_flush = kvm_mock_flush,
	.kvm_tdp_set_root = kvm_mock_set_root,
	.free = kvm_mock_free,
};

/*
 * Walk KVM's table for @iova: fill @out with the leaf and return true, or
 * return false when no entry on the way allows reads.  Called with the
 * domain's lock held.
 */
static bool kvm_mock_walk(struct kvm_mock_domain *mock, u64 iova,
			  struct kvm_mock_tlbe *out)
{
	const struct kvm_tdp_format *fmt = &mock->fmt;
	unsigned int level = fmt->levels;
	bool writable = true, found = false;
	u64 table = mock->root;

	if (!table || (fmt->ias < 64 && iova >> fmt->ias))
		return false;

	rcu_read_lock();
	for (;;) {
		u64 size = level_size(fmt, level);
		u64 index = (iova / size) & (BIT_ULL(level_bits(fmt)) - 1);
		u64 *entries, entry;

		if (!pfn_valid(PHYS_PFN(table)))
			break;
		entries = phys_to_virt(table);
		entry = READ_ONCE(entries[index]);
		if (!has_all(entry, fmt->read_mask))
			break;
		writable &= has_all(entry, fmt->write_mask);
		if (level == 1 || (level < fmt->levels && is_block(fmt, entry))) {
			out->size = size;
			out->iova = iova & ~(size - 1);
			out->phys = entry & fmt->addr_mask & ~(size - 1);
			out->writable = writable;
			found = true;
			break;
		}
		table = entry & fmt->addr_mask;
		level--;
	}
	rcu_read_unlock();
	return found;
}

static struct kvm_mock_tlbe *iotlb_find(struct kvm_mock_domain *mock, u64 iova)
{
	struct kvm_mock_tlbe *e;

	for (e = mock->iotlb; e < mock->iotlb + KVM_MOCK_IOTLB_ENTRIES; e++)
		if (e->size && iova - e->iova < e->size)
			return e;
	return NULL;
}

static struct kvm_mock_tlbe *iotlb_insert(struct kvm_mock_domain *mock,
					  const struct kvm_mock_tlbe *leaf)
{
	struct kvm_mock_tlbe *e;

	for (e = mock->iotlb; e < mock->iotlb + KVM_MOCK_IOTLB_ENTRIES; e++)
		if (!e->size)
			break;
	if (e == mock->iotlb + KVM_MOCK_IOTLB_ENTRIES) {
		e = &mock->iotlb[mock->victim];
		mock->victim = (mock->victim + 1) % KVM_MOCK_IOTLB_ENTRIES;
	}
	*e = *leaf;
	return e;
}

/**
 * struct kvm_mock_dma - one mock DMA in progress
 * @mock: the domain it goes through
 * @dev: the device doing it
 * @req: the request, whose out_* fields are filled in as it goes
 * @buf: the bytes read, or to write
 */
struct kvm_mock_dma {
	struct kvm_mock_domain *mock;
	struct device *dev;
	struct iommu_test_kvm_dma req;
	u8 *buf;
};

/*
 * Move the bytes of one page, [@iova, @iova + @len), translating it from
 * the IOTLB or, unless the request only probes, by a walk.  Return false
 * when neither gives the access the request needs.
 */
static bool kvm_mock_dma_page(struct kvm_mock_dma *dma, u64 iova, u8 *buf,
			      u32 len)
{
	bool write = dma->req.flags & IOMMU_TEST_KVM_DMA_WRITE;
	struct kvm_mock_domain *mock = dma->mock;
	struct kvm_mock_tlbe leaf, *e;
	unsigned long flags;
	bool moved = false;
	u64 phys;
	void *va;

	spin_lock_irqsave(&mock->lock, flags);
	e = iotlb_find(mock, iova);
	if (e && write && !e->writable) {
		/* a unit re-walks before it reports a write to a read-only leaf */
		e->size = 0;
		e = NULL;
	}
	if (e) {
		dma->req.out_hits++;
	} else if (!(dma->req.flags & IOMMU_TEST_KVM_DMA_PROBE)) {
		dma->req.out_walks++;
		if (kvm_mock_walk(mock, iova, &leaf))
			e = iotlb_insert(mock, &leaf);
	}
	if (!e || (write && !e->writable))
		goto out;
	phys = e->phys + (iova - e->iova);
	/* KVM maps guest RAM only: anything else is refused, not touched */
	if (!pfn_valid(PHYS_PFN(phys)))
		goto out;
	va = kmap_local_pfn(PHYS_PFN(phys));
	if (write)
		memcpy(va + offset_in_page(phys), buf, len);
	else
		memcpy(buf, va + offset_in_page(phys), len);
	kunmap_local(va);
	moved = true;
out:
	dma->req.out_flushes = mock->flushes;
	spin_unlock_irqrestore(&mock->lock, flags);
	return moved;
}

/*
 * Raise a page request for the page of @iova with the request's intent and
 * wait for its answer.  Return 0 with the response code in out_code, or
 * -ETIMEDOUT when none came.
 */
static int kvm_mock_page_request(struct kvm_mock_dma *dma, u64 iova)
{
	struct iopf_fault evt = {};
	struct kvm_mock_prq prq = {
		.dev = dma->dev,
		.grpid = KVM_MOCK_GRPID_BASE +
			 (atomic_inc_return(&dma->mock->grpid) &
			  KVM_MOCK_GRPID_MASK),
	};
	unsigned long flags;

	spin_lock_irqsave(&kvm_mock_prq_lock, flags);
	list_add_tail(&prq.node, &kvm_mock_prqs);
	spin_unlock_irqrestore(&kvm_mock_prq_lock, flags);

	evt.fault.type = IOMMU_FAULT_PAGE_REQ;
	evt.fault.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	evt.fault.prm.addr = iova & PAGE_MASK;
	evt.fault.prm.grpid = prq.grpid;
	evt.fault.prm.perm = IOMMU_FAULT_PERM_READ;
	if (dma->req.flags & IOMMU_TEST_KVM_DMA_WRITE)
		evt.fault.prm.perm |= IOMMU_FAULT_PERM_WRITE;
	dma->req.out_faults++;
	/* every outcome, the handler's or the core's refusal, is a response */
	iommu_report_device_fault(dma->dev, &evt);
	/* pairs with the release in iommufd_test_kvm_page_response(): code */
	wait_var_event_timeout(&prq.answered, smp_load_acquire(&prq.answered),
			       KVM_MOCK_PRQ_TIMEOUT);

	spin_lock_irqsave(&kvm_mock_prq_lock, flags);
	list_del(&prq.node);
	spin_unlock_irqrestore(&kvm_mock_prq_lock, flags);
	if (!prq.answered)
		return -ETIMEDOUT;
	dma->req.out_code = prq.code;
	return 0;
}

/**
 * iommufd_test_kvm_page_response() - ->page_response() of the mock IOMMU
 * @dev: the mock device a page request group is answered for
 * @msg: the response
 *
 * Wakes the mock DMA waiting for the group, if one is; the answers to
 * requests raised with IOMMU_TEST_OP_TRIGGER_IOPF go nowhere.
 *
 * Context: any; does not sleep.
 */
void iommufd_test_kvm_page_response(struct device *dev,
				    struct iommu_page_response *msg)
{
	struct kvm_mock_prq *prq;
	unsigned long flags;

	spin_lock_irqsave(&kvm_mock_prq_lock, flags);
	list_for_each_entry(prq, &kvm_mock_prqs, node) {
		if (prq->dev == dev && prq->grpid == msg->grpid &&
		    !prq->answered) {
			prq->code = msg->code;
			/* @code is seen by the waiter's acquire of @answered */
			smp_store_release(&prq->answered, true);
			wake_up_var(&prq->answered);
			break;
		}
	}
	spin_unlock_irqrestore(&kvm_mock_prq_lock, flags);
}

/* Run @dma page by page; 0 also when a page was refused (see out_done). */
static int kvm_mock_dma_run(struct kvm_mock_dma *dma)
{
	struct iommu_test_kvm_dma *req = &dma->req;
	bool retried = false;
	int ret;

	while (req->out_done < req->length) {
		u64 iova = req->gpa + req->out_done;
		u32 len = min_t(u64, req->length - req->out_done,
				PAGE_SIZE - offset_in_page(iova));

		if (kvm_mock_dma_page(dma, iova, dma->buf + req->out_done, len)) {
			req->out_done += len;
			retried = false;
			continue;
		}
		/* one page request per page; a second miss ends the DMA */
		if (!(req->flags & IOMMU_TEST_KVM_DMA_FAULT) || retried)
			break;
		ret = kvm_mock_page_request(dma, iova);
		if (ret)
			return ret;
		if (req->out_code != IOMMU_PAGE_RESP_SUCCESS)
			break;
		retried = true;
	}
	return 0;
}

/**
 * iommufd_test_kvm_dma() - a mock DMA through a mock device's KVM-table domain
 * @dev: a mock device; the caller keeps its attachment as it is
 * @uptr: user address of a struct iommu_test_kvm_dma
 * @length: its size as the caller knows it
 *
 * Reads or writes the request's bytes at its guest physical address
 * through the domain @dev is attached to, page by page, as described in
 * the DOC above, and writes the outcome back to @uptr: the bytes moved
 * before the first page that was refused, the IOTLB hits, walks and page
 * requests, and the response to the last page request.  A read's bytes go
 * to the request's buffer only up to the bytes moved.
 *
 * Context: process context; sleeps while a page request is answered.
 * Return: 0, also when a page was refused; -EFAULT for user memory that
 * cannot be read or written; -EINVAL for a @length shorter than the
 * request's input fields, unknown flags, a reserved field that is not
 * zero, a request of 0 bytes or more than
 * 2 MiB, or a device not attached to a mock KVM-table domain; -ENOMEM;
 * -ETIMEDOUT when a page request went unanswered for 10 seconds.
 */
int iommufd_test_kvm_dma(struct device *dev, u64 uptr, u32 length)
{
	const u32 known = IOMMU_TEST_KVM_DMA_WRITE | IOMMU_TEST_KVM_DMA_FAULT |
			  IOMMU_TEST_KVM_DMA_PROBE;
	void __user *ubuf;
	struct kvm_mock_dma dma = { .dev = dev };
	struct iommu_domain *domain;
	size_t size = min_t(size_t, length, sizeof(dma.req));
	int ret;

	if (length < offsetof(struct iommu_test_kvm_dma, out_done))
		return -EINVAL;
	if (copy_from_user(&dma.req, u64_to_user_ptr(uptr), size))
		return -EFAULT;
	if ((dma.req.flags & ~known) || dma.req.__reserved || !dma.req.length ||
	    dma.req.length > KVM_MOCK_DMA_MAX)
		return -EINVAL;
	domain = iommu_get_domain_for_dev(dev);
	if (!domain || domain->ops != &kvm_mock_domain_ops)
		return -EINVAL;
	dma.mock = to_kvm_mock(domain);
	ubuf = u64_to_user_ptr(dma.req.uptr);
	memset(&dma.req.out_done, 0,
	       sizeof(dma.req) - offsetof(struct iommu_test_kvm_dma, out_done));

	dma.buf = kvzalloc(dma.req.length, GFP_KERNEL_ACCOUNT);
	if (!dma.buf)
		return -ENOMEM;
	ret = -EFAULT;
	if ((dma.req.flags & IOMMU_TEST_KVM_DMA_WRITE) &&
	    copy_from_user(dma.buf, ubuf, dma.req.length))
		goto out;
	ret = kvm_mock_dma_run(&dma);
	if (ret)
		goto out;
	ret = -EFAULT;
	if (!(dma.req.flags & IOMMU_TEST_KVM_DMA_WRITE) &&
	    copy_to_user(ubuf, dma.buf, dma.req.out_done))
		goto out;
	if (copy_to_user(u64_to_user_ptr(uptr), &dma.req, size))
		goto out;
	ret = 0;
out:
	kvfree(dma.buf);
	return ret;
}
