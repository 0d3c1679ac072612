// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd core: the KVM-sourced IOAS, its SHARED domains and the
 * memslot mirror behind its PINNED domains.
 *
 * DOC: Invalidation coupling
 *
 * While at least one SHARED domain exists, the IOAS is registered with KVM
 * as an importer of the VM's TDP root.  KVM calls ->invalidate() on every
 * flush of that root, synchronously and possibly under its mmu_lock and
 * inside an RCU read-side section; the IOAS forwards the call to every
 * SHARED domain, whose kvm_tdp_flush op returns only once the hardware has
 * dropped the translations.  So when KVM's flush returns, no IOMMU can use
 * a removed translation, and no IOMMU walk can reach a table page KVM is
 * about to free.  Root replacement is forwarded the same way.
 *
 * DOC: Invalidation paths
 *
 * Every path on which KVM removes or downgrades a translation the IOMMU
 * may hold, or frees a table page it may walk, reaches ->invalidate()
 * before the page can be reused: KVM records the change at its SPTE
 * primitives and delivers it on the next flush, at the latest before the
 * RCU read side in which it was made ends.  The paths are leaf zaps,
 * write-protection, huge-page splits and collapses, RCU table freeing,
 * root invalidation and replacement, memslot deletion and moves,
 * MMU-notifier invalidations (and the events that keep pinned pages), and
 * VM destruction.  tools/testing/kvm-iommufd/INVALIDATION.md lists the
 * host tests and guest selftests that cover each.
 *
 * Each KVM flush is one ->invalidate() call and one kvm_tdp_flush per
 * SHARED domain (kvm_iommu_stats.invalidations and .domain_flushes; the
 * guest's shared_invalidate_stress checks they are equal); the VT-d
 * domain turns it into one batch of ranged descriptors per unit with one
 * wait (adapter_flush_is_one_batch_with_one_wait on the host).
 *
 * DOC: Devices that cannot fault
 *
 * A device without a page-fault path (no PRI) must find every GPA of the
 * VM present in KVM's table before it may DMA, and KVM must not take a
 * translation away for its own reasons (reclaim, migration) while the
 * device uses it.  So with the first SHARED domain the IOAS pins every
 * page of every memslot of address space 0 (see DOC: One pin per page)
 * and faults each one into KVM's table with write intent; it unpins them
 * with the last SHARED domain.  No IO page table is built.
 *
 * KVM would still drop those translations on any MMU-notifier invalidation
 * (fork, mprotect, compaction, NUMA hinting, THP, KSM, reclaim), and the
 * device has no way back.  So the IOAS implements the exporter's ->holds():
 * KVM keeps a leaf across an invalidation that cannot change a pinned page
 * when the leaf maps exactly the pages pinned at its GFNs (the contract in
 * include/linux/kvm_tdp_export.h says why each kept leaf is safe).  Only
 * the VMM's own removal of memory (munmap, mremap, MAP_FIXED over it,
 * MADV_DONTNEED, MADV_REMOVE, hole punching, memslot delete or move) blocks
 * the device's DMA to those GPAs, through KVM's zap and flush.  Before it
 * unpins a slot in which KVM kept leaves, the IOAS zaps them
 * (kvm_tdp_export_zap()), so no leaf outlives the pin that made keeping
 * it safe.  kvm_iommu_stats.kept_leaves counts the leaves kept.  Where KVM
 * still zaps everything on its own (struct kvm_tdp_format.memtype_zaps:
 * EPT memory types), such a device is refused SHARED with
 * IOMMU_KVM_SHARE_KVM_ZAPS, and AUTO gives it PINNED.
 *
 * DOC: Devices that can fault
 *
 * A device with a page-fault path (PCIe ATS and PRI behind VT-d page
 * requests) gets a SHARED domain when its HWPT is allocated with a fault
 * queue (iommufd's IOMMU_HWPT_FAULT_ID_VALID); such a domain pins nothing
 * and faults nothing in when it is allocated.  The device translates
 * through KVM's table like any SHARED device; where KVM maps nothing (the
 * guest never touched the page, or KVM zapped it) or maps it read-only for
 * a write, the device sends a page request.  The IOMMU core hands the
 * group to kvm_iommu_iopf_handler(), which queues it on the device's IO
 * page fault workqueue; there, in the VMM's mm (kthread_use_mm()), each
 * request of the group is resolved by kvm_tdp_export_map() with the
 * request's intent (a write asks for a writable mapping), and the group is
 * answered once: SUCCESS when KVM mapped every page, otherwise INVALID
 * (the first refusal stops the group).  Refusals are GPAs outside the
 * memslots (emulated MMIO included), writes to read-only slots and to
 * write-tracked pages, and privileged requests; such a
 * group is also queued, already answered, on the HWPT's fault queue, so
 * the VMM reads what its device tried (iommufd_fault_report_answered()).
 *
 * A request racing with an invalidation needs nothing special: KVM's own
 * fault path retries while an MMU-notifier invalidation is in progress,
 * and if KVM zaps the page after mapping it but before the device retries,
 * the retry misses again and the device sends a new request.  The work
 * never outlives the domain: each group in flight holds a count on it, and
 * kvm_iommu_domain_free() waits for the count to drop to zero (the IOMMU
 * driver's detach drains the device's requests too, but the core does not
 * rely on it).  KVM does not flush when it makes an entry present, and
 * nothing is flushed here before the answer either: a VT-d unit drops
 * what it cached for a page when it receives a page request for it, so
 * the device's retry walks KVM's table afresh.
 *
 * DOC: One pin per page
 *
 * Whatever mix of devices an IOAS serves, each page of the VM's memory is
 * pinned at most once for it and charged once, by iommufd's own pinned
 * path: the SHARED pins are taken from the io_pagetable's area of the slot
 * (iopt_pin_pages(), the in-kernel access of iommufd_access_pin_pages()),
 * so a page that a PINNED domain of the same IOAS holds too is the same
 * pin.  Charging is iommufd's: RLIMIT_MEMLOCK, in the context's
 * IOMMU_OPTION_RLIMIT_MODE (the user's locked_vm and VmPin, or VmLck).  A
 * second IOAS of the same VM is a second copy, charged again, as a second
 * IOAS mapping the same memory is.  A slot that is not in the io_pagetable
 * (blocked, see DOC: Memslots the devices cannot use) is pinned for no
 * device.  The SHARED pins of a slot are dropped before its area leaves
 * the io_pagetable, so iommufd never unmaps a range that is still held.
 *
 * DOC: The memslot mirror and PINNED domains
 *
 * From its allocation the IOAS listens to the VM's memslots
 * (kvm_tdp_export_listen()) and keeps its io_pagetable equal to them: one
 * area per slot at the slot's GPA, mapping the VMM's pages read-only for a
 * read-only slot.  iommufd pins an area's pages only while a paging domain
 * is attached to the io_pagetable, so the mirror costs nothing until a
 * device is attached PINNED; from then on iommufd's own pinned path (long
 * term pins, RLIMIT_MEMLOCK and its accounting modes, huge IO mappings of
 * contiguous pages) serves the device.  KVM reports every change in the
 * VMM's context under its slots_lock:
 * - create: prepared by mapping the slot into the io_pagetable (pinning it
 *   for PINNED domains) and, with SHARED domains that cannot fault,
 *   pinning it through the io_pagetable; a failure (the memlock limit)
 *   fails KVM_SET_USER_MEMORY_REGION.  On commit the slot is faulted into
 *   KVM's table for the SHARED domains;
 * - delete: on commit, after KVM has zapped and flushed the slot, the
 *   SHARED pins are dropped and its range leaves the io_pagetable (iommufd
 *   unmaps, flushes and unpins);
 * - move: on commit, the SHARED pins are dropped, the range moves in the
 *   io_pagetable and is pinned again there (the same pages) and faulted
 *   in at the new GPAs.  KVM has already made the move, so if the new
 *   range cannot be mapped or pinned (no memory, the memlock limit), the
 *   slot stays out until a retry or its deletion (IOMMU_KVM_SLOT_PIN_FAILED):
 *   the DMA there of devices that need it pinned is blocked, never
 *   misdirected, and the failure is counted (kvm_iommu_stats.mirror_errors)
 *   and traced;
 * - flags: dirty logging (see DOC: Dirty logging); when it stops, the
 *   SHARED pins are faulted in writable again, should KVM have downgraded
 *   a leaf it did not ask us about.
 *
 * DOC: Dirty logging
 *
 * While a slot logs dirty pages, KVM calls kvm_iommu_log_dirty() before
 * every harvest of it (include/linux/kvm_tdp_export.h, DOC: Dirty
 * logging), and the IOAS adds what its devices may have written unseen
 * since the last one, per device (enum iommu_kvm_dirty_log, which
 * kvm_iommu_dirty_log() answers for IOMMU_KVM_SHARE_QUERY):
 * - a PINNED device (nr_pinned_devs) may write every page of a writable
 *   slot through its own IO page table: all of them (ALL);
 * - a SHARED device whose IOMMU marks KVM's leaves dirty, on a table KVM
 *   logs by clearing dirty bits (EPT with PML): nothing to add, but KVM is
 *   asked to report the leaves marked dirty (KVM_TDP_DIRTY_SCAN; TABLE);
 * - a SHARED device that can fault, on a table KVM logs by
 *   write-protection (NPT): its writes fault, and KVM logs the pages it
 *   maps writable for them (FAULTS);
 * - any other SHARED device: all pages of the slot (ALL).  For a device
 *   that cannot fault, KVM keeps the leaves of the pages we hold writable
 *   while logging (it asks ->holds() before write-protecting), so that the
 *   device never has a write blocked; vCPU writes to those pages are not
 *   logged one by one either, and the same rule reports them.
 * When a device that could write unseen goes away (a PINNED detach, a
 * SHARED domain freed) while slots log, or a PINNED device arrives, each
 * writable logging slot is reported whole once more at its next harvest
 * (kvm_iommu_slot.dma_dirty), so that nothing written between the last
 * harvest and the change is lost.  A VM whose dirty pages KVM could only
 * push to a vCPU's dirty ring (no bitmap) cannot log DMA at all: no device
 * is given its memory (kvm_iommu_domain_alloc() fails with -ENXIO).
 * kvm_iommu_stats counts the harvests, the pages reported whole and the
 * harvests that asked KVM to scan; kvm_iommu_dirty_log traces each.
 *
 * Locking:
 * - KVM's slots_lock is outside everything here: memslot callbacks run
 *   under it, and nothing here takes it.
 * - kvm_iommu_ioas::lock (mutex) serialises domain allocation and freeing,
 *   the importer registration, the slot list and the SHARED pins; it is
 *   taken inside slots_lock and outside KVM's exporter lock, the mm's
 *   mmap_lock and the io_pagetable's locks, never from KVM's flush
 *   callbacks.
 * - kvm_iommu_ioas::domains_lock (spinlock) protects the domain list and
 *   the root; KVM callbacks take it, nested inside KVM's mmu_lock, so
 *   nothing here may call into KVM while holding it.
 * - The IO page fault work takes neither lock while it calls KVM; it
 *   takes @domains_lock only for the counters.
 */
#include "kvm_iommu_internal.h"
#include <linux/kvm_iommufd.h>
#include "kvm_iommu_trace.h"
#include <linux/kvm_tdp_export.h>
#include <uapi/linux/iommufd_kvm.h>

/**
 * struct kvm_iommu_ioas - the KVM side of a KVM-sourced IOAS
 * @kvm_file: reference on the VM's file: the VM lives while the IOAS does
 * @kvm: the VM
 * @ictx: the iommufd context, for the io_pagetable's accounting
 * @iopt: the IOAS's io_pagetable, which PINNED domains translate through
 * @lock: see DOC above
 * @domains_lock: see DOC above
 * @domains: SHARED domains (struct kvm_iommu_shared), under both locks
 *	for writing, either for reading
 * @nr_domains: entries in @domains; the importer is registered while
 *	> 0; under both locks for writing
 * @nr_pinning: entries in @domains of devices that cannot fault; every
 *	slot is pinned while > 0; under @lock
 * @nr_pinned_devs: devices attached PINNED (they can write every writable
 *	slot); under @domains_lock
 * @importer: our registration with KVM's exporter
 * @listener: our registration with KVM's memslot notifications
 * @exp: root and format KVM reported; @exp.root under @domains_lock
 * @stats: counters, under @domains_lock
 * @mm: the VMM's mm, charged for the SHARED pins
 * @slots: the VM's memslots (struct kvm_iommu_slot), under @lock
 * @pending: the slot a create is preparing, under @lock (KVM's slots_lock
 *	allows one change at a time)
 * @nr_pinned: pages pinned for SHARED domains; written under @lock with
 *	WRITE_ONCE(), read locklessly by kvm_iommu_get_stats()
 * @resv: IOVA ranges attached devices reserve (struct kvm_iommu_resv),
 *	sorted and merged, under @lock; they only grow, and the slots are
 *	left out of the io_pagetable there
 */
struct kvm_iommu_ioas {
	struct file *kvm_file;
	struct kvm *kvm;
	struct iommufd_ctx *ictx;
	struct io_pagetable *iopt;
	struct mutex lock;		/* see DOC: Locking */
	spinlock_t domains_lock;	/* see DOC: Locking */
	struct list_head domains;
	unsigned int nr_domains;
	unsigned int nr_pinning;
	unsigned int nr_pinned_devs;
	struct kvm_tdp_importer importer;
	struct kvm_tdp_memslot_listener listener;
	struct kvm_tdp_export exp;
	struct kvm_iommu_stats stats;
	struct mm_struct *mm;
	struct list_head slots;
	struct kvm_iommu_slot *pending;
	unsigned long nr_pinned;
	struct list_head resv;
};

/* IOVA [@start, @last] that a device attached to the IOAS reserves */
struct kvm_iommu_resv {
	struct list_head node;
	u64 start;
	u64 last;
};

/*
 * One memslot.  @pages is non-NULL while the slot's pages are pinned for
 * the SHARED domains (NULL entries in reserved IOVA); @mirrored is set
 * while the slot is mapped in the io_pagetable, as the parts of it outside
 * kio->resv (a move that could not be mapped at its new GPA clears it);
 * @kept is set once KVM kept a leaf of the slot because we hold its pages
 * (kvm_iommu_holds()).  Slots on kio->slots, their @desc, @pages and @kept
 * are written under both kio->lock and kio->domains_lock, and read under
 * either (kvm_iommu_holds() takes @domains_lock).  @dma_dirty (under
 * kio->domains_lock) is set when a device that could write the slot unseen
 * comes or goes while it logs dirty pages: its pages are reported at the
 * next harvest (see DOC: Dirty logging).  @blocked (enum
 * iommu_kvm_slot_reason, see DOC: Memslots the devices cannot use) and
 * @dma_ro (DMA may only read: a read-only slot or mapping) are written under
 * both locks too.
 */
struct kvm_iommu_slot {
	struct list_head node;
	struct kvm_tdp_memslot desc;
	struct page **pages;
	u32 blocked;
	bool dma_ro;
	bool mirrored;
	bool kept;
	bool dma_dirty;
};

/* Reasons the slot's memory cannot be pinned: nothing is mirrored or pinned */
#define SLOT_NO_MEMORY	(IOMMU_KVM_SLOT_UNMAPPED | IOMMU_KVM_SLOT_PFNMAP)
/* Reasons IOMMU_KVM_SLOTS_RETRY looks at again */
#define SLOT_MEMORY	(SLOT_NO_MEMORY | IOMMU_KVM_SLOT_HVA_READONLY | \
			 IOMMU_KVM_SLOT_PIN_FAILED)

/*
 * One SHARED domain.  @fault is the HWPT's fault queue when the device can
 * fault (the domain pins nothing), NULL when it cannot.  @sets_dirty: the
 * device's IOMMU marks KVM's leaves dirty when it writes through them.
 */
struct kvm_iommu_shared {
	struct list_head node;
	struct iommu_domain *domain;
	struct kvm_iommu_ioas *kio;
	struct iommufd_fault *fault;
	bool sets_dirty;
	u64 root;		/* root the domain was last pointed at */
	atomic_t iopf_inflight;	/* page request groups being handled */
};

/* Add @n to @counter of @kio->stats; not under @kio->domains_lock. */
static void kio_stat_add(struct kvm_iommu_ioas *kio, u64 *counter, u64 n)
{
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	*counter += n;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

static struct kvm_iommu_ioas *to_kio(struct kvm_tdp_importer *imp)
{
	return container_of(imp, struct kvm_iommu_ioas, importer);
}

/*
 * Flush GPAs [@start, @end) ((0, ~0): everything) from every SHARED
 * domain; returns once none can use the old translations.  Called with
 * @kio->domains_lock held.
 */
static void flush_domains(struct kvm_iommu_ioas *kio, u64 start, u64 end,
			  bool tables)
{
	u64 pages = end == ~0ULL ? 0 : (end - start) >> PAGE_SHIFT;
	/* KVM's flush path: read the clock only for a sync event */
	bool timed = trace_kvm_iommu_sync_enabled();
	u64 t0 = timed ? ktime_get_ns() : 0;
	struct kvm_iommu_shared *s;
	int first_err = 0;

	lockdep_assert_held(&kio->domains_lock);
	kio->stats.flushes++;
	trace_kvm_iommu_invalidate(start, end, pages, tables, kio->nr_domains);
	list_for_each_entry(s, &kio->domains, node) {
		int ret = s->domain->ops->kvm_tdp_flush(s->domain, start, end,
							tables);

		kio->stats.domain_flushes++;
		/* A failed IOTLB flush leaves DMA able to use freed memory. */
		if (WARN_ON(ret)) {
			kio->stats.flush_errors++;
			if (!first_err)
				first_err = ret;
		}
	}
	if (timed)
		trace_kvm_iommu_sync(kio->nr_domains, first_err,
				     ktime_get_ns() - t0);
}

static void kvm_iommu_invalidate(struct kvm_tdp_importer *imp, u64 start,
				 u64 end, unsigned int flags)
{
	struct kvm_iommu_ioas *kio = to_kio(imp);
	bool tables = flags & KVM_TDP_INV_TABLES;
	u64 gpa_start, gpa_end;
	unsigned long irqflags;

	/* GFNs to GPAs; anything reaching past the GPA space means "all" */
	if (start == 0 && end == ~0ULL) {
		gpa_start = 0;
		gpa_end = ~0ULL;
	} else {
		gpa_start = start << PAGE_SHIFT;
		if (end > (~0ULL >> PAGE_SHIFT))
			gpa_end = ~0ULL;
		else
			gpa_end = end << PAGE_SHIFT;
	}

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	kio->stats.invalidations++;
	flush_domains(kio, gpa_start, gpa_end, tables);
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

static void kvm_iommu_root_changed(struct kvm_tdp_importer *imp, u64 new_root)
{
	struct kvm_iommu_ioas *kio = to_kio(imp);
	struct kvm_iommu_shared *s;
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	kio->exp.root = new_root;
	kio->stats.root_changes++;
	list_for_each_entry(s, &kio->domains, node) {
		if (WARN_ON(s->domain->ops->kvm_tdp_set_root(s->domain, new_root)))
			kio->stats.flush_errors++;
		s->root = new_root;
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

static void kvm_iommu_release(struct kvm_tdp_importer *imp)
{
	/*
	 * The IOAS holds the VM's file, so KVM cannot be destroying the VM
	 * while we are registered.
	 */
	WARN_ON(1);
}

static unsigned long slot_npages(const struct kvm_tdp_memslot *desc)
{
	return desc->size >> PAGE_SHIFT;
}

/*
 * KVM asks, before it zaps a leaf of the exported root for an MMU-notifier
 * event that cannot change a pinned page, whether we hold the leaf's pages:
 * true when GFNs [@gfn, @gfn + @npages) lie in one slot whose pages we
 * pinned for devices that cannot fault, and are exactly PFNs [@pfn, @pfn +
 * @npages).  A device that cannot fault then keeps its translations (see
 * DOC: Devices that cannot fault).  Called under KVM's mmu_lock.
 */
static bool kvm_iommu_holds(struct kvm_tdp_importer *imp, u64 gfn, u64 npages,
			    u64 pfn)
{
	struct kvm_iommu_ioas *kio = to_kio(imp);
	struct kvm_iommu_slot *s;
	unsigned long irqflags, i;
	bool held = false;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_for_each_entry(s, &kio->slots, node) {
		u64 first = s->desc.gpa >> PAGE_SHIFT;

		if (gfn < first || gfn - first >= slot_npages(&s->desc))
			continue;
		if (!s->pages || gfn + npages > first + slot_npages(&s->desc))
			break;
		for (i = 0; i < npages; i++) {
			unsigned long idx = gfn - first + i;

			if (!s->pages[idx] ||
			    page_to_pfn(s->pages[idx]) != pfn + i)
				break;
		}
		held = i == npages;
		if (held)
			s->kept = true;
		break;
	}
	if (held)
		kio->stats.kept_leaves++;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	return held;
}

static const struct kvm_tdp_importer_ops kvm_iommu_importer_ops = {
	.invalidate = kvm_iommu_invalidate,
	.root_changed = kvm_iommu_root_changed,
	.release = kvm_iommu_release,
	.holds = kvm_iommu_holds,
};

/* Tell every SHARED domain that entries may have become present. */
static void flush_all_domains(struct kvm_iommu_ioas *kio)
{
	unsigned long irqflags;

	/*
	 * A unit in caching mode may have cached the entries as not present:
	 * KVM does not flush when it makes an entry present.
	 */
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	flush_domains(kio, 0, ~0ULL, false);
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

/*
 * The first part [*@iova, *@iova + *@len) of [*@iova, @end) outside the
 * reserved IOVA (@kio->resv): how much of a slot the io_pagetable maps.
 * Return: false when nothing of the range is left.
 */
static bool next_piece(struct kvm_iommu_ioas *kio, u64 *iova, u64 end, u64 *len)
{
	struct kvm_iommu_resv *r;
	u64 start = *iova, stop = end;

	lockdep_assert_held(&kio->lock);
	list_for_each_entry(r, &kio->resv, node) {
		if (start >= end)
			return false;
		if (r->last < start)
			continue;
		if (r->start <= start) {
			if (r->last >= end - 1)
				return false;
			start = r->last + 1;
			continue;
		}
		stop = min(end, r->start);
		break;
	}
	if (start >= end)
		return false;
	*iova = start;
	*len = stop - start;
	return true;
}

/* Unpin what pin_slot() pinned of @s below GPA @upto; returns the pages. */
static unsigned long unpin_pieces(struct kvm_iommu_ioas *kio,
				  struct kvm_iommu_slot *s, u64 upto)
{
	u64 iova = s->desc.gpa, len;
	unsigned long n = 0;

	while (next_piece(kio, &iova, upto, &len)) {
		iopt_unpin_pages(kio->iopt, iova, len);
		n += len >> PAGE_SHIFT;
		iova += len;
	}
	return n;
}

/*
 * Drop the SHARED pins of @s, if it has any.  Leaves KVM kept because of
 * them go first: once unpinned, a page whose VMM mapping reclaim took away
 * could be freed with no MMU-notifier event left to zap KVM's leaf.
 */
static void unpin_slot(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	unsigned long npages = slot_npages(&s->desc), irqflags;
	struct page **pages = s->pages;
	bool kept;

	lockdep_assert_held(&kio->lock);
	if (!pages)
		return;
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	s->pages = NULL;	/* kvm_iommu_holds() answers false from now on */
	kept = s->kept;
	s->kept = false;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	if (kept)
		kvm_tdp_export_zap(kio->kvm, s->desc.gpa >> PAGE_SHIFT, npages);
	/* unpinned (dirty if writable) only where no PINNED domain holds them */
	npages = unpin_pieces(kio, s, s->desc.gpa + s->desc.size);
	trace_kvm_iommu_unpin(s->desc.gpa, npages);
	kio_stat_add(kio, &kio->stats.unpin_calls, 1);
	WRITE_ONCE(kio->nr_pinned, kio->nr_pinned - npages);
	kvfree(pages);
}

/*
 * Pin one slot's pages for the SHARED domains of devices that cannot fault;
 * nothing is left on failure.  The pins are the io_pagetable's, taken for
 * the slot's area the way an iommufd access takes them: a page a PINNED
 * domain holds too is pinned and charged once (RLIMIT_MEMLOCK, the
 * context's IOMMU_OPTION_RLIMIT_MODE), see DOC: One pin per page.  A slot
 * that is not in the io_pagetable (blocked) is not pinned.
 */
static int pin_slot(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	unsigned int rw = s->dma_ro ? IOMMUFD_ACCESS_RW_READ : IOMMUFD_ACCESS_RW_WRITE;
	unsigned long npages = slot_npages(&s->desc), irqflags;
	u64 gpa = s->desc.gpa, iova = gpa, len;
	unsigned long pinned = 0;
	struct page **pages;
	int ret = 0;

	lockdep_assert_held(&kio->lock);
	if (!s->mirrored)
		return 0;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	while (next_piece(kio, &iova, gpa + s->desc.size, &len)) {
		ret = iopt_pin_pages(kio->iopt, iova, len,
				     pages + ((iova - gpa) >> PAGE_SHIFT), rw);
		if (ret) {
			unpin_pieces(kio, s, iova);
			kvfree(pages);
			return ret;
		}
		pinned += len >> PAGE_SHIFT;
		iova += len;
	}
	trace_kvm_iommu_pin(s->desc.gpa, pinned);
	kio_stat_add(kio, &kio->stats.pin_calls, 1);
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	s->pages = pages;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	WRITE_ONCE(kio->nr_pinned, kio->nr_pinned + pinned);
	return 0;
}

/*
 * Make every page of @s present in KVM's table, writable unless read-only.
 * A slot KVM no longer has at @s's GPA is being deleted or moved: KVM
 * reports the change as soon as it can take @kio->lock, which we hold, and
 * its commit drops our copy (delete) or faults it in at the new GPA (move);
 * so that is not an error (a device attaching sees the memslots before or
 * after the change).
 */
static int prefault_slot(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	unsigned int map = s->dma_ro ? 0 : KVM_TDP_MAP_WRITE;
	u64 done;
	int ret;

	lockdep_assert_held(&kio->lock);
	ret = kvm_tdp_export_map_range(kio->kvm, s->desc.gpa, s->desc.size, map,
				       &done);
	return ret == -ENOENT ? 0 : ret;
}

/* Drop every SHARED pin, a slot being created included. */
static void unpin_all(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_slot *s;

	list_for_each_entry(s, &kio->slots, node)
		unpin_slot(kio, s);
	if (kio->pending)
		unpin_slot(kio, kio->pending);
}

/*
 * Pin and fault in every slot for the first SHARED domain of a device that
 * cannot fault; undone on failure.  A slot being created (between KVM's
 * prepare and commit) is pinned too, and faulted in by its commit, once
 * KVM has installed it.
 */
static int pin_all(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_slot *s;
	int ret = 0;

	lockdep_assert_held(&kio->lock);
	list_for_each_entry(s, &kio->slots, node) {
		ret = pin_slot(kio, s);
		if (ret)
			break;
	}
	if (!ret && kio->pending)
		ret = pin_slot(kio, kio->pending);
	list_for_each_entry(s, &kio->slots, node) {
		if (ret)
			break;
		if (s->pages)
			ret = prefault_slot(kio, s);
	}
	if (ret) {
		unpin_all(kio);
		return ret;
	}
	flush_all_domains(kio);
	return 0;
}

/* ---- the memslot mirror ---- */

static struct kvm_iommu_ioas *listener_to_kio(struct kvm_tdp_memslot_listener *l)
{
	return container_of(l, struct kvm_iommu_ioas, listener);
}

static struct kvm_iommu_slot *find_slot(struct kvm_iommu_ioas *kio, u64 gpa)
{
	struct kvm_iommu_slot *s;

	list_for_each_entry(s, &kio->slots, node)
		if (s->desc.gpa == gpa)
			return s;
	return NULL;
}

static int mirror_unmap(struct kvm_iommu_ioas *kio,
			const struct kvm_tdp_memslot *desc)
{
	unsigned long unmapped = 0;
	int ret;

	/* every area of the slot's parts, which lie inside its range */
	ret = iopt_unmap_iova(kio->iopt, desc->gpa, desc->size, &unmapped);
	WARN_ON(!ret && unmapped > desc->size);
	return ret;
}

/*
 * Map a slot into the io_pagetable at its GPA (pinned for PINNED domains),
 * as one area per part outside the reserved IOVA; nothing on failure.
 */
static int mirror_map(struct kvm_iommu_ioas *kio,
		      const struct kvm_tdp_memslot *desc, bool ro)
{
	int prot = IOMMU_READ | (ro ? 0 : IOMMU_WRITE);
	u64 iova = desc->gpa, len;
	int ret = 0;

	while (next_piece(kio, &iova, desc->gpa + desc->size, &len)) {
		unsigned long at = iova;

		ret = iopt_map_user_pages(kio->ictx, kio->iopt, &at,
					  (void __user *)(desc->hva + (iova - desc->gpa)),
					  len, prot, 0);
		if (ret) {
			if (iova != desc->gpa)
				mirror_unmap(kio, desc);
			break;
		}
		iova += len;
	}
	return ret;
}

/* Does the slot at [@gpa, @gpa + @size) overlap the reserved IOVA? */
static bool overlaps_resv(struct kvm_iommu_ioas *kio, u64 gpa, u64 size)
{
	struct kvm_iommu_resv *r;

	list_for_each_entry(r, &kio->resv, node)
		if (r->start <= gpa + size - 1 && gpa <= r->last)
			return true;
	return false;
}

/*
 * Why the VMM's mapping of @desc cannot be pinned as RAM: a mask of
 * IOMMU_KVM_SLOT_UNMAPPED (no VMA, or PROT_NONE), _PFNMAP and
 * _HVA_READONLY, 0 for RAM.  Looks at the VMAs of the VMM's mm, which must
 * be current's.
 */
static u32 slot_memory_reasons(struct kvm_iommu_ioas *kio,
			       const struct kvm_tdp_memslot *desc)
{
	unsigned long start = desc->hva, end = desc->hva + desc->size;
	struct vm_area_struct *vma;
	u32 why = 0;

	if (WARN_ON_ONCE(current->mm != kio->mm))
		return IOMMU_KVM_SLOT_UNMAPPED;
	mmap_read_lock(kio->mm);
	while (start < end) {
		vma = find_vma(kio->mm, start);
		if (!vma || vma->vm_start >= end) {
			why |= IOMMU_KVM_SLOT_UNMAPPED;
			break;
		}
		if (vma->vm_start > start)
			why |= IOMMU_KVM_SLOT_UNMAPPED;
		if (vma->vm_flags & (VM_PFNMAP | VM_IO))
			why |= IOMMU_KVM_SLOT_PFNMAP;
		else if (!(vma->vm_flags & VM_READ))	/* PROT_NONE */
			why |= IOMMU_KVM_SLOT_UNMAPPED;
		else if (!(vma->vm_flags & VM_WRITE) && !desc->readonly)
			why |= IOMMU_KVM_SLOT_HVA_READONLY;
		start = vma->vm_end;
	}
	mmap_read_unlock(kio->mm);
	return why;
}

static void set_blocked(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s,
			u32 blocked)
{
	unsigned long irqflags;

	lockdep_assert_held(&kio->lock);
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	if (!s->blocked != !blocked)
		kio->stats.blocked_slots += blocked ? 1 : -1;
	s->blocked = blocked;
	s->dma_ro = s->desc.readonly || (blocked & IOMMU_KVM_SLOT_HVA_READONLY);
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

/*
 * Put @s into the io_pagetable at its GPA, unless its memory cannot be
 * pinned; IOVA an attached device reserves (the MSI window) is left out
 * (IOMMU_KVM_SLOT_RESERVED), and the whole slot where the io_pagetable
 * refuses it all the same (outside a domain's aperture).  Other errors are
 * returned with nothing mapped.
 */
static int slot_mirror(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	u32 resv = overlaps_resv(kio, s->desc.gpa, s->desc.size) ?
		   IOMMU_KVM_SLOT_RESERVED : 0;
	int ret;

	set_blocked(kio, s, (s->blocked & ~IOMMU_KVM_SLOT_RESERVED) | resv);
	if (s->blocked & SLOT_NO_MEMORY)
		return 0;
	ret = mirror_map(kio, &s->desc, s->dma_ro);
	/* iopt_check_iova(): reserved IOVA intersects it */
	if (ret == -EINVAL) {
		set_blocked(kio, s, s->blocked | IOMMU_KVM_SLOT_RESERVED);
		return 0;
	}
	s->mirrored = !ret;
	return ret;
}

/*
 * Drop @s's SHARED pins and take it out of the io_pagetable, in this order:
 * the pins are the io_pagetable's.
 */
static void slot_unmap(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	unpin_slot(kio, s);
	if (s->mirrored)
		mirror_unmap(kio, &s->desc);
	s->mirrored = false;
}

/*
 * Leave @s out of the io_pagetable, and so blocked to DMA for every device
 * that needs it pinned, until a retry or its deletion: what follows a
 * failure to map, pin or fault it in.
 */
static void slot_leave_out(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	slot_unmap(kio, s);
	set_blocked(kio, s, s->blocked | IOMMU_KVM_SLOT_PIN_FAILED);
}

/*
 * Put @s back into the io_pagetable after its GPA or the reserved IOVA
 * changed, pinned again for the SHARED devices that cannot fault.  A slot
 * that cannot be mapped or pinned is left out for every device that needs
 * it pinned (IOMMU_KVM_SLOT_PIN_FAILED); the error is returned.
 */
static int slot_remirror(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	int ret = slot_mirror(kio, s);

	if (!ret && kio->nr_pinning)
		ret = pin_slot(kio, s);
	if (ret)
		slot_leave_out(kio, s);
	return ret;
}

/*
 * Give the devices @s's memory: look at the VMM's mapping, put the slot
 * into the io_pagetable (PINNED devices) and pin it (SHARED devices that
 * cannot fault), read-only where the mapping is; memory that cannot be
 * pinned leaves the slot blocked, with the reasons (see DOC: Memslots the
 * devices cannot use).  Other errors (the memlock limit, no memory) leave
 * nothing mapped or pinned and are returned.
 */
static int slot_map(struct kvm_iommu_ioas *kio, struct kvm_iommu_slot *s)
{
	int ret;

	lockdep_assert_held(&kio->lock);
	set_blocked(kio, s, slot_memory_reasons(kio, &s->desc));
	ret = slot_mirror(kio, s);
	if (!ret && kio->nr_pinning)
		ret = pin_slot(kio, s);
	if (ret)
		slot_unmap(kio, s);
	/*
	 * Mapped, but nothing to pin there: a file mapping beyond its end, a
	 * page the VMM's fault handler refuses.
	 */
	if (ret == -EFAULT) {
		set_blocked(kio, s, s->blocked | IOMMU_KVM_SLOT_UNMAPPED);
		ret = 0;
	}
	return ret;
}

static int kvm_iommu_slot_prepare(struct kvm_tdp_memslot_listener *l,
				  const struct kvm_tdp_memslot *old,
				  const struct kvm_tdp_memslot *new,
				  enum kvm_tdp_memslot_change change)
{
	struct kvm_iommu_ioas *kio = listener_to_kio(l);
	struct kvm_iommu_slot *s;
	int ret;

	if (change != KVM_TDP_SLOT_CREATE)
		return 0;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s) {
		ret = -ENOMEM;
		goto refused;
	}
	s->desc = *new;

	mutex_lock(&kio->lock);
	ret = slot_map(kio, s);
	if (ret) {
		set_blocked(kio, s, 0);
		mutex_unlock(&kio->lock);
		kfree(s);
		goto refused;
	}
	WARN_ON(kio->pending);
	kio->pending = s;
	mutex_unlock(&kio->lock);
	return 0;

refused:
	kio_stat_add(kio, &kio->stats.memslot_refused, 1);
	trace_kvm_iommu_memslot(change, new->gpa, new->size, ret, 0);
	return ret;
}

static void kvm_iommu_slot_abort(struct kvm_tdp_memslot_listener *l,
				 const struct kvm_tdp_memslot *old,
				 const struct kvm_tdp_memslot *new,
				 enum kvm_tdp_memslot_change change)
{
	struct kvm_iommu_ioas *kio = listener_to_kio(l);
	struct kvm_iommu_slot *s;

	if (change != KVM_TDP_SLOT_CREATE)
		return;

	mutex_lock(&kio->lock);
	s = kio->pending;
	kio->pending = NULL;
	if (!WARN_ON(!s)) {
		slot_unmap(kio, s);
		set_blocked(kio, s, 0);
	}
	mutex_unlock(&kio->lock);
	kfree(s);
}

static void kvm_iommu_slot_commit(struct kvm_tdp_memslot_listener *l,
				  const struct kvm_tdp_memslot *old,
				  const struct kvm_tdp_memslot *new,
				  enum kvm_tdp_memslot_change change)
{
	struct kvm_iommu_ioas *kio = listener_to_kio(l);
	const struct kvm_tdp_memslot *now = new ? new : old;
	struct kvm_iommu_slot *s;
	unsigned long irqflags;
	u32 blocked = 0;
	int ret = 0;

	mutex_lock(&kio->lock);
	if (change == KVM_TDP_SLOT_CREATE) {
		s = kio->pending;
		kio->pending = NULL;
		if (WARN_ON(!s))
			goto out_unlock;
		spin_lock_irqsave(&kio->domains_lock, irqflags);
		list_add_tail(&s->node, &kio->slots);
		spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	} else {
		s = find_slot(kio, old->gpa);
		if (WARN_ON(!s))
			goto out_unlock;
	}
	blocked = s->blocked;

	switch (change) {
	case KVM_TDP_SLOT_CREATE:
		break;
	case KVM_TDP_SLOT_DELETE:
		/* KVM has zapped and flushed the slot: no SHARED walk reaches it */
		slot_unmap(kio, s);
		set_blocked(kio, s, 0);
		spin_lock_irqsave(&kio->domains_lock, irqflags);
		list_del(&s->node);
		spin_unlock_irqrestore(&kio->domains_lock, irqflags);
		kfree(s);
		s = NULL;
		break;
	case KVM_TDP_SLOT_MOVE:
		/* KVM has zapped the old GPAs; the pins follow the area */
		slot_unmap(kio, s);
		spin_lock_irqsave(&kio->domains_lock, irqflags);
		s->desc = *new;
		spin_unlock_irqrestore(&kio->domains_lock, irqflags);
		ret = slot_remirror(kio, s);
		blocked = s->blocked;
		break;
	case KVM_TDP_SLOT_FLAGS:
		spin_lock_irqsave(&kio->domains_lock, irqflags);
		s->desc = *new;
		if (!new->dirty_log)
			s->dma_dirty = false;
		spin_unlock_irqrestore(&kio->domains_lock, irqflags);
		/*
		 * KVM keeps the leaves of our pins writable while the slot
		 * logs (see DOC: Dirty logging); fault the slot in again when
		 * logging stops all the same, in case KVM downgraded a leaf it
		 * did not ask us about.
		 */
		if (!old->dirty_log || new->dirty_log)
			s = NULL;
		break;
	}
	/*
	 * SHARED pins present at their (new) GPAs and writable.  KVM has made
	 * the change, so a slot that cannot be faulted in (no memory for
	 * KVM's page tables) stays out for every device until a retry or its
	 * deletion, as one that cannot be pinned.
	 */
	if (s && s->pages) {
		int err = prefault_slot(kio, s);

		if (err) {
			slot_leave_out(kio, s);
			blocked = s->blocked;
		}
		if (!ret)
			ret = err;
		flush_all_domains(kio);
	}
out_unlock:
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	if (ret)
		kio->stats.mirror_errors++;
	kio->stats.memslot_changes++;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	mutex_unlock(&kio->lock);
	trace_kvm_iommu_memslot(change, now->gpa, now->size, ret, blocked);
}

/* ---- dirty logging ---- */

/*
 * How KVM's dirty log learns of the writes of SHARED domain @d: enum
 * iommu_kvm_dirty_log.  Called with @kio->domains_lock held.
 */
static u32 shared_dirty_log(const struct kvm_iommu_ioas *kio,
			    const struct kvm_iommu_shared *d)
{
	lockdep_assert_held(&kio->domains_lock);
	if (d->sets_dirty && kio->exp.fmt.log_clears_dirty)
		return IOMMU_KVM_DIRTY_TABLE;
	if (d->fault && !kio->exp.fmt.log_clears_dirty)
		return IOMMU_KVM_DIRTY_FAULTS;
	return IOMMU_KVM_DIRTY_ALL;
}

/*
 * A device that could write the slots went away, or came while they log:
 * report every writable logging slot at its next harvest.  Called with
 * @kio->domains_lock held.
 */
static void dma_dirty_all(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_slot *s;

	lockdep_assert_held(&kio->domains_lock);
	list_for_each_entry(s, &kio->slots, node)
		if (s->desc.dirty_log && !s->desc.readonly)
			s->dma_dirty = true;
}

/* Set bits [0, @n) of a little-endian bitmap that others update too. */
static void set_bits_le_atomic(unsigned long *bitmap, u64 n)
{
	u64 w, i;

	/* a word of ones reads the same in either byte order */
	for (w = 0; w < n / BITS_PER_LONG; w++)
		atomic_long_or(~0UL, (atomic_long_t *)&bitmap[w]);
	for (i = w * BITS_PER_LONG; i < n; i++)
		set_bit_le(i, bitmap);
}

/*
 * KVM is about to report the dirty pages of a slot that logs them: set the
 * pages our devices may have written unseen (see DOC: Dirty logging).
 * Called under KVM's slots_lock; must not sleep.
 */
static unsigned int kvm_iommu_log_dirty(struct kvm_tdp_memslot_listener *l,
					u64 gfn, u64 npages,
					unsigned long *bitmap)
{
	struct kvm_iommu_ioas *kio = listener_to_kio(l);
	struct kvm_iommu_slot *s, *found = NULL;
	bool all = false, scan = false;
	struct kvm_iommu_shared *d;
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_for_each_entry(s, &kio->slots, node) {
		if (s->desc.gpa == gfn << PAGE_SHIFT) {
			found = s;
			break;
		}
	}
	if (found && !found->desc.readonly) {
		all = kio->nr_pinned_devs || found->dma_dirty;
		found->dma_dirty = false;
		list_for_each_entry(d, &kio->domains, node) {
			switch (shared_dirty_log(kio, d)) {
			case IOMMU_KVM_DIRTY_ALL:
				all = true;
				break;
			case IOMMU_KVM_DIRTY_TABLE:
				scan = true;
				break;
			}
		}
	}
	if (all || scan)
		kio->stats.dirty_harvests++;
	if (all)
		kio->stats.dirty_all_pages += npages;
	if (scan)
		kio->stats.dirty_scans++;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);

	if (all)
		set_bits_le_atomic(bitmap, npages);
	if (all || scan)
		trace_kvm_iommu_dirty_log(gfn << PAGE_SHIFT, npages, all, scan);
	return scan ? KVM_TDP_DIRTY_SCAN : 0;
}

/**
 * kvm_iommu_dirty_log() - how a device's DMA writes reach KVM's dirty log
 * @kio: the IOAS's KVM side
 * @domain: the domain the device is attached to on this IOAS (a SHARED
 *	domain, or the paging domain of a PINNED device), NULL when it is not
 *	attached to the IOAS
 *
 * Return: enum iommu_kvm_dirty_log, see DOC: Dirty logging and migration
 * in include/uapi/linux/iommufd_kvm.h.
 */
u32 kvm_iommu_dirty_log(struct kvm_iommu_ioas *kio, struct iommu_domain *domain)
{
	u32 ret = IOMMU_KVM_DIRTY_ALL;	/* a PINNED paging domain */
	struct kvm_iommu_shared *d;
	unsigned long irqflags;

	if (!domain)
		return IOMMU_KVM_DIRTY_NONE;
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_for_each_entry(d, &kio->domains, node) {
		if (d->domain == domain) {
			ret = shared_dirty_log(kio, d);
			break;
		}
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	return ret;
}

static const struct kvm_tdp_memslot_ops kvm_iommu_memslot_ops = {
	.prepare = kvm_iommu_slot_prepare,
	.commit = kvm_iommu_slot_commit,
	.abort = kvm_iommu_slot_abort,
	.log_dirty = kvm_iommu_log_dirty,
};

/**
 * kvm_iommu_slots() - what DMA to each memslot does (IOMMU_KVM_SLOTS)
 * @kio: the IOAS's KVM side
 * @flags: enum iommu_kvm_slots_flags
 * @slots: filled with up to *@nr_slots entries, in GPA order
 * @nr_slots: in: entries at @slots; out: memslots the IOAS follows
 *
 * With IOMMU_KVM_SLOTS_RETRY every slot blocked for its memory is looked at
 * again and given to the devices as it is now (mapped, pinned and faulted
 * in for SHARED devices that cannot fault); a slot that fails stays
 * blocked, and the first such error is returned after the report.
 *
 * Context: process context; the VM's process for IOMMU_KVM_SLOTS_RETRY.
 * Return: 0; -EOPNOTSUPP for unknown @flags; -EIO for a retry from another
 * process; -ENOMEM (memlock limit or no memory) when a retried slot could
 * not be given to the devices.
 */
int kvm_iommu_slots(struct kvm_iommu_ioas *kio, u32 flags,
		    struct iommu_kvm_slot *slots, u32 *nr_slots)
{
	bool retry = flags & IOMMU_KVM_SLOTS_RETRY, retried = false;
	struct kvm_iommu_slot *s;
	u32 n = 0, i;
	int ret = 0;

	if (flags & ~IOMMU_KVM_SLOTS_RETRY)
		return -EOPNOTSUPP;
	if (retry && current->mm != kio->mm)
		return -EIO;

	mutex_lock(&kio->lock);
	list_for_each_entry(s, &kio->slots, node) {
		int err;

		if (!retry || !(s->blocked & SLOT_MEMORY))
			continue;
		slot_unmap(kio, s);
		err = slot_map(kio, s);
		if (!err && s->pages)
			err = prefault_slot(kio, s);
		if (err) {
			slot_leave_out(kio, s);
			if (!ret)
				ret = err;
		}
		retried = true;
		kio_stat_add(kio, &kio->stats.slot_retries, 1);
		trace_kvm_iommu_memslot(KVM_TDP_SLOT_FLAGS, s->desc.gpa,
					s->desc.size, err, s->blocked);
	}
	if (retried && kio->nr_domains)
		flush_all_domains(kio);

	/* insertion into GPA order; slots do not overlap */
	list_for_each_entry(s, &kio->slots, node) {
		struct iommu_kvm_slot e = {
			.gpa = s->desc.gpa,
			.size = s->desc.size,
			.reasons = s->blocked,
			.readonly = s->dma_ro,
		};

		for (i = min(n, *nr_slots); i && slots[i - 1].gpa > e.gpa; i--)
			if (i < *nr_slots)
				slots[i] = slots[i - 1];
		if (i < *nr_slots)
			slots[i] = e;
		n++;
	}
	*nr_slots = n;
	mutex_unlock(&kio->lock);
	return ret;
}

/* Forget the slots; the io_pagetable is emptied by its owner. */
static void free_slots(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_resv *r, *rtmp;
	struct kvm_iommu_slot *s, *tmp;

	list_for_each_entry_safe(r, rtmp, &kio->resv, node) {
		list_del(&r->node);
		kfree(r);
	}

	list_for_each_entry_safe(s, tmp, &kio->slots, node) {
		WARN_ON(s->pages);
		list_del(&s->node);
		kfree(s);
	}
}

/**
 * kvm_iommu_ioas_alloc() - the KVM side of a new KVM-sourced IOAS
 * @kvm_fd: a KVM VM file descriptor of the calling process
 * @ictx: the iommufd context the IOAS belongs to
 * @iopt: the IOAS's io_pagetable, empty; from now on it mirrors the VM's
 *	memslots until kvm_iommu_ioas_free()
 *
 * Takes a reference on the VM's file, so the VM outlives the IOAS, and
 * starts following the VM's memslots: each existing slot is mapped into
 * @iopt (nothing is pinned until a PINNED domain is attached).
 *
 * Context: process context, in the process that created the VM (the
 * memslots' addresses are in its mm).
 * Return: the new object; ERR_PTR(-EBADF) if @kvm_fd is not an open file,
 * ERR_PTR(-EINVAL) if it is not a KVM VM, ERR_PTR(-EIO) if the caller
 * does not use the VM's mm, ERR_PTR(-ENOMEM), or the io_pagetable's error
 * for a slot it cannot map.
 */
struct kvm_iommu_ioas *kvm_iommu_ioas_alloc(int kvm_fd,
					    struct iommufd_ctx *ictx,
					    struct io_pagetable *iopt)
{
	struct kvm_iommu_ioas *kio;
	struct file *file;
	int ret;

	file = fget(kvm_fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (!file_is_kvm(file)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	kio = kzalloc(sizeof(*kio), GFP_KERNEL_ACCOUNT);
	if (!kio) {
		fput(file);
		return ERR_PTR(-ENOMEM);
	}
	kio->kvm_file = file;
	kio->kvm = file->private_data;
	kio->ictx = ictx;
	kio->iopt = iopt;
	kio->mm = current->mm;
	mmgrab(kio->mm);
	INIT_LIST_HEAD(&kio->slots);
	INIT_LIST_HEAD(&kio->resv);
	mutex_init(&kio->lock);
	spin_lock_init(&kio->domains_lock);
	INIT_LIST_HEAD(&kio->domains);
	kio->importer.ops = &kvm_iommu_importer_ops;
	kio->listener.ops = &kvm_iommu_memslot_ops;

	ret = kvm_tdp_export_listen(kio->kvm, &kio->listener);
	if (ret) {
		free_slots(kio);
		mmdrop(kio->mm);
		mutex_destroy(&kio->lock);
		fput(file);
		kfree(kio);
		return ERR_PTR(ret);
	}
	/* The initial slots are not changes */
	kio->stats.memslot_initial = kio->stats.memslot_changes;
	kio->stats.memslot_changes = 0;
	return kio;
}

/**
 * kvm_iommu_ioas_free() - release the KVM side of an IOAS
 * @kio: the object; every SHARED domain must have been freed
 *
 * Stops following the memslots first, so the caller may then empty and
 * destroy the io_pagetable.
 *
 * Context: process context.
 */
void kvm_iommu_ioas_free(struct kvm_iommu_ioas *kio)
{
	if (!kio)
		return;
	kvm_tdp_export_unlisten(kio->kvm, &kio->listener);
	WARN_ON(kio->nr_domains || kio->nr_pinned || kio->pending);
	free_slots(kio);
	mmdrop(kio->mm);
	mutex_destroy(&kio->lock);
	fput(kio->kvm_file);
	kfree(kio);
}

/* ---- IO page faults of SHARED devices that can fault ---- */

/* A page request group on its way to KVM. */
struct kvm_iommu_iopf {
	struct work_struct work;
	struct iopf_group *group;
	struct kvm_iommu_shared *shared;
	u64 start_ns;
};

/* Ask KVM to map one request's page with the request's intent. */
static int iopf_faultin(struct kvm_iommu_ioas *kio,
			const struct iommu_fault_page_request *prm)
{
	bool write = prm->perm & IOMMU_FAULT_PERM_WRITE;
	u64 gpa = prm->addr & PAGE_MASK, mapped = 0;
	int ret;

	/* A VM's address space has no supervisor pages for a device */
	if (prm->perm & IOMMU_FAULT_PERM_PRIV)
		ret = -EPERM;
	else
		ret = kvm_tdp_export_map(kio->kvm, gpa,
					 write ? KVM_TDP_MAP_WRITE : 0, &mapped);
	trace_kvm_iommu_kvm_faultin(gpa, write, ret ? 0 : mapped, ret);
	return ret;
}

static void iopf_done(struct kvm_iommu_ioas *kio, struct iopf_group *group,
		      enum iommu_page_response_code code, u64 start_ns,
		      unsigned int faultins, unsigned int refused)
{
	const struct iommu_fault_page_request *last =
		&group->last_fault.fault.prm;
	u64 ns = ktime_get_ns() - start_ns;
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	kio->stats.iopf_groups++;
	kio->stats.iopf_ns_total += ns;
	kio->stats.iopf_ns_max = max(kio->stats.iopf_ns_max, ns);
	kio->stats.iopf_faults += group->fault_count;
	kio->stats.faultins += faultins;
	kio->stats.faultin_errors += refused;
	if (code != IOMMU_PAGE_RESP_SUCCESS)
		kio->stats.iopf_failed++;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	trace_kvm_iommu_iopf_end(last->pasid, last->grpid, code,
				 group->fault_count, ns);
}

/* A group is no longer in flight; @s may be freed once this returns. */
static void iopf_put(struct kvm_iommu_shared *s)
{
	if (atomic_dec_and_test(&s->iopf_inflight))
		wake_up_var(&s->iopf_inflight);
}

static void kvm_iommu_iopf_work(struct work_struct *work)
{
	struct kvm_iommu_iopf *f = container_of(work, struct kvm_iommu_iopf,
						work);
	enum iommu_page_response_code code = IOMMU_PAGE_RESP_SUCCESS;
	struct iopf_group *group = f->group;
	struct kvm_iommu_shared *s = f->shared;
	struct kvm_iommu_ioas *kio = s->kio;
	unsigned int faultins = 0, refused = 0;
	struct iopf_fault *iopf;

	/* Host pages are looked up in the VMM's mm, as for its own ioctls */
	if (!mmget_not_zero(kio->mm)) {
		code = IOMMU_PAGE_RESP_INVALID;
	} else {
		kthread_use_mm(kio->mm);
		list_for_each_entry(iopf, &group->faults, list) {
			faultins++;
			if (iopf_faultin(kio, &iopf->fault.prm)) {
				refused++;
				code = IOMMU_PAGE_RESP_INVALID;
				break;
			}
		}
		kthread_unuse_mm(kio->mm);
		mmput(kio->mm);
	}

	/* Counted before the device can see the answer */
	iopf_done(kio, group, code, f->start_ns, faultins, refused);
	iopf_group_response(group, code);
	if (code != IOMMU_PAGE_RESP_SUCCESS && s->fault)
		iommufd_fault_report_answered(s->fault, group);
	else
		iopf_free_group(group);
	kfree(f);
	iopf_put(s);
}

/*
 * domain->iopf_handler of a SHARED domain that can fault: called by the
 * IOMMU core with a complete page request group, in a context that may
 * sleep but is not the VMM's; the work is done on the device's IO page
 * fault workqueue.  An error makes the IOMMU core answer FAILURE.
 */
static int kvm_iommu_iopf_handler(struct iopf_group *group)
{
	struct kvm_iommu_shared *s = group->attach_handle->domain->fault_data;
	const struct iommu_fault_page_request *last =
		&group->last_fault.fault.prm;
	struct kvm_iommu_iopf *f;
	u64 now = ktime_get_ns();

	trace_kvm_iommu_iopf_begin(last->pasid, last->grpid, last->addr,
				   last->perm, group->fault_count);
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (f) {
		f->group = group;
		f->shared = s;
		f->start_ns = now;
		INIT_WORK(&f->work, kvm_iommu_iopf_work);
		atomic_inc(&s->iopf_inflight);
		if (queue_work(group->fault_param->queue->wq, &f->work))
			return 0;
		iopf_put(s);
		kfree(f);
	}
	/* The IOMMU core answers Response Failure; no fault-queue event */
	iopf_done(s->kio, group, IOMMU_PAGE_RESP_FAILURE, now, 0, 0);
	return -ENOMEM;
}

static void mode_decided(struct kvm_iommu_ioas *kio, u32 mode, u32 reasons,
			 u32 fmt, u32 levels)
{
	kio_stat_add(kio, &kio->stats.modes, 1);
	trace_kvm_iommu_mode(mode, reasons, fmt, levels);
}

/*
 * Record [@start, @last] in @kio->resv, keeping it sorted and merged.
 * Return: 0 or -ENOMEM.
 */
static int resv_add(struct kvm_iommu_ioas *kio, u64 start, u64 last)
{
	struct kvm_iommu_resv *r, *tmp, *n;

	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	n->start = start;
	n->last = last;
	list_for_each_entry_safe(r, tmp, &kio->resv, node) {
		if (r->last + 1 < n->start)
			continue;
		if (n->last + 1 < r->start) {
			list_add_tail(&n->node, &r->node);
			return 0;
		}
		/* overlapping or adjacent: absorb it */
		n->start = min(n->start, r->start);
		n->last = max(n->last, r->last);
		list_del(&r->node);
		kfree(r);
	}
	list_add_tail(&n->node, &kio->resv);
	return 0;
}

/*
 * Attaching @dev to the IOAS reserves the IOVA its IOMMU reserves (the MSI
 * window) in the io_pagetable, which fails where a slot is mapped: record
 * the ranges, and map the slots they cut again around them, pinned again
 * for the SHARED devices that cannot fault (see DOC: Memslots the devices
 * cannot use).  A slot that cannot be mapped or pinned again is left out,
 * IOMMU_KVM_SLOT_PIN_FAILED.
 *
 * Return: 0, or -ENOMEM when a range cannot be recorded (nothing changed).
 */
static int avoid_reserved(struct kvm_iommu_ioas *kio, struct device *dev)
{
	struct iommu_resv_region *r;
	struct kvm_iommu_slot *s;
	LIST_HEAD(resv);
	int ret = 0;

	iommu_get_resv_regions(dev, &resv);
	mutex_lock(&kio->lock);
	list_for_each_entry(r, &resv, list) {
		u64 start = ALIGN_DOWN(r->start, PAGE_SIZE);
		u64 last = ALIGN(r->start + r->length, PAGE_SIZE) - 1;
		u64 next = start;
		u64 len;

		if (r->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		/* all of it recorded already */
		if (!next_piece(kio, &next, last + 1, &len))
			continue;
		/* the pins and areas of the slots it cuts go with the old parts */
		list_for_each_entry(s, &kio->slots, node)
			if (s->mirrored && s->desc.gpa <= last &&
			    start <= s->desc.gpa + s->desc.size - 1)
				slot_unmap(kio, s);
		ret = resv_add(kio, start, last);
		list_for_each_entry(s, &kio->slots, node) {
			int err;

			if (s->mirrored || s->desc.gpa > last ||
			    s->desc.gpa + s->desc.size - 1 < start ||
			    (s->blocked & (SLOT_NO_MEMORY | IOMMU_KVM_SLOT_PIN_FAILED)))
				continue;
			err = slot_remirror(kio, s);
			if (!err && s->pages) {
				err = prefault_slot(kio, s);
				if (err)
					slot_leave_out(kio, s);
			}
			trace_kvm_iommu_memslot(KVM_TDP_SLOT_FLAGS, s->desc.gpa,
						s->desc.size, err, s->blocked);
			kio_stat_add(kio, &kio->stats.slot_retries, 1);
		}
		if (ret)
			break;
	}
	mutex_unlock(&kio->lock);
	iommu_put_resv_regions(dev, &resv);
	return ret;
}

/**
 * kvm_iommu_share_info_init() - start a sharing decision with KVM's side
 * @info: set to KVM's side of @fmt; the IOMMU's side and the reasons 0
 * @fmt: the format KVM writes
 *
 * For the IOMMU drivers' ->kvm_tdp_share_info(), which fill in the rest.
 */
void kvm_iommu_share_info_init(struct kvm_iommu_share_info *info,
			       const struct kvm_tdp_format *fmt)
{
	*info = (struct kvm_iommu_share_info) {
		.kvm_format = fmt->type,
		.kvm_levels = fmt->levels,
		.kvm_max_leaf_level = kvm_tdp_fmt_leaf_level(fmt),
		.kvm_phys_bits = fmt->oas,
	};
}

static bool has_kvm_tdp_domain(const struct iommu_ops *ops)
{
	return ops->domain_alloc_kvm_tdp && ops->kvm_tdp_share_info;
}

/*
 * The one place that decides whether @dev can share KVM's table: fills
 * @info with both sides of the comparison and returns the reasons it
 * cannot (0: it can).  kvm_iommu_domain_alloc() acts on the answer and
 * kvm_iommu_share_query() reports it.  @exp is KVM's current export; it
 * may be NULL only when the device's IOMMU has no KVM-TDP domain (no need
 * to ask KVM).  A device that cannot fault (!@can_fault) must keep its
 * translations, which it cannot where KVM zaps its whole table on its own
 * (see DOC: What a device's DMA survives).
 */
static u32 share_reasons(struct device *dev, const struct kvm_tdp_export *exp,
			 bool can_fault, struct kvm_iommu_share_info *info)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);

	memset(info, 0, sizeof(*info));
	if (!has_kvm_tdp_domain(ops)) {
		if (exp)
			kvm_iommu_share_info_init(info, &exp->fmt);
		info->reasons = IOMMU_KVM_SHARE_NO_TRANSLATION;
	} else {
		ops->kvm_tdp_share_info(dev, &exp->fmt, info);
		/* Faults, pins and invalidations here are in the CPU's pages. */
		if (exp->fmt.granule_shift != PAGE_SHIFT)
			info->reasons |= IOMMU_KVM_SHARE_FORMAT;
	}
	if (exp && !can_fault && exp->fmt.memtype_zaps)
		info->reasons |= IOMMU_KVM_SHARE_KVM_ZAPS;
	return info->reasons;
}

/**
 * kvm_iommu_domain_alloc() - the domain a device gets on a KVM-sourced IOAS
 * @kio: the IOAS's KVM side
 * @dev: the device the domain is for
 * @policy: which modes the device may get
 * @fault: the HWPT's fault queue when the device can fault (ATS and PRI,
 *	with IO page faults enabled by the caller's attach), else NULL
 * @reasons: set to the enum iommu_kvm_share_reason mask when the device's
 *	IOMMU cannot walk KVM's table, else 0 (always 0 for PIN_ONLY, which
 *	does not look)
 *
 * A SHARED domain translates through KVM's table.  Registers with KVM's
 * exporter when this is the first SHARED domain of the IOAS.  For a device
 * that cannot fault, every memslot is pinned and faulted in when this is
 * the first such domain; a device that can fault gets a domain whose
 * iopf_handler resolves its page requests through KVM, and nothing is
 * pinned for it.  The domain is on the invalidation list before any device
 * can be attached to it.
 *
 * Context: process context, in the VMM (faulting in needs the VM's mm);
 * takes @kio->lock.
 * Return: a SHARED domain; NULL when the device is to be PINNED: the
 * caller allocates an ordinary paging domain for it and adds it to the
 * io_pagetable given to kvm_iommu_ioas_alloc(); ERR_PTR(-EOPNOTSUPP) under
 * SHARE_REQUIRED when sharing is not possible (see @reasons); the
 * exporter's error (-EAGAIN while the VM has no vCPU, -EOPNOTSUPP when it
 * does not use the TDP MMU); -ENOMEM, or the pinning error (-ENOMEM over
 * RLIMIT_MEMLOCK).
 */
struct iommu_domain *kvm_iommu_domain_alloc(struct kvm_iommu_ioas *kio,
					    struct device *dev,
					    enum kvm_iommu_policy policy,
					    struct iommufd_fault *fault,
					    u32 *reasons)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	struct kvm_iommu_share_info info;
	struct iommu_domain *domain;
	struct kvm_iommu_shared *s;
	struct kvm_tdp_export exp;
	unsigned long irqflags;
	u32 refused;
	int ret;

	*reasons = 0;
	/* No way to report the device's writes while the VM logs them */
	if (!kvm_tdp_export_dma_loggable(kio->kvm)) {
		mode_decided(kio, IOMMU_KVM_MODE_NONE, 0, 0, 0);
		return ERR_PTR(-ENXIO);
	}
	if (avoid_reserved(kio, dev))
		return ERR_PTR(-ENOMEM);
	if (policy == KVM_IOMMU_POLICY_PIN_ONLY)
		goto pinned;
	/* No KVM-TDP domain: refused without asking KVM for its table */
	if (!has_kvm_tdp_domain(ops)) {
		*reasons = share_reasons(dev, NULL, fault, &info);
		ret = -EOPNOTSUPP;
		goto refused;
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->kio = kio;
	s->fault = fault;

	mutex_lock(&kio->lock);
	if (!kio->nr_domains) {
		ret = kvm_tdp_export_register(kio->kvm, &kio->importer, &kio->exp);
		if (ret)
			goto err_unlock;
	}
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	exp = kio->exp;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);

	*reasons = share_reasons(dev, &exp, fault, &info);
	if (*reasons) {
		ret = -EOPNOTSUPP;
		goto err_unregister;
	}
	domain = ops->domain_alloc_kvm_tdp(dev, &exp, &refused);
	if (IS_ERR(domain)) {
		/* the driver checks what share_reasons() asked it: no more */
		*reasons |= refused;
		ret = PTR_ERR(domain);
		goto err_unregister;
	}
	s->domain = domain;
	s->root = exp.root;
	s->sets_dirty = info.sets_dirty;
	if (fault) {
		domain->iopf_handler = kvm_iommu_iopf_handler;
		domain->fault_data = s;
	}

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_add_tail(&s->node, &kio->domains);
	kio->nr_domains++;
	kio->stats.shared_domains = kio->nr_domains;
	if (fault)
		kio->stats.fault_domains++;
	/* KVM replaced the root while the domain was being built */
	if (kio->exp.root != s->root) {
		WARN_ON(domain->ops->kvm_tdp_set_root(domain, kio->exp.root));
		s->root = kio->exp.root;
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	/* The device cannot fault: everything present before it is attached */
	if (!fault && ++kio->nr_pinning == 1) {
		ret = pin_all(kio);
		if (ret) {
			kio->nr_pinning--;
			goto err_remove;
		}
	}
	mutex_unlock(&kio->lock);
	mode_decided(kio, IOMMU_KVM_MODE_SHARED, 0, exp.fmt.type,
		     exp.fmt.levels);
	return domain;

err_remove:
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_del(&s->node);
	kio->nr_domains--;
	kio->stats.shared_domains = kio->nr_domains;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	iommu_domain_free(domain);

err_unregister:
	if (!kio->nr_domains)
		kvm_tdp_export_unregister(kio->kvm, &kio->importer);
err_unlock:
	mutex_unlock(&kio->lock);
	kfree(s);
refused:
	/* Only a refusal with reasons may fall back to PINNED */
	if (ret != -EOPNOTSUPP || !*reasons ||
	    policy == KVM_IOMMU_POLICY_SHARE_REQUIRED) {
		mode_decided(kio, IOMMU_KVM_MODE_NONE, *reasons, 0, 0);
		return ERR_PTR(ret);
	}
pinned:
	mode_decided(kio, IOMMU_KVM_MODE_PINNED, *reasons, 0, 0);
	return NULL;
}

/**
 * kvm_iommu_domain_free() - take a SHARED domain off the invalidation list
 * @kio: the IOAS's KVM side
 * @domain: a domain from kvm_iommu_domain_alloc(), no longer attached (so
 *	no IO page fault work of it is queued or running)
 *
 * Drops the pins with the last SHARED domain of a device that cannot
 * fault, and unregisters from KVM with the last SHARED domain.  The caller
 * frees the domain afterwards.
 *
 * Context: process context; takes @kio->lock.
 */
void kvm_iommu_domain_free(struct kvm_iommu_ioas *kio, struct iommu_domain *domain)
{
	struct kvm_iommu_shared *s, *found = NULL;
	unsigned long irqflags;

	mutex_lock(&kio->lock);
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_for_each_entry(s, &kio->domains, node) {
		if (s->domain == domain) {
			found = s;
			list_del(&s->node);
			kio->nr_domains--;
			kio->stats.shared_domains = kio->nr_domains;
			if (s->fault)
				kio->stats.fault_domains--;
			/* what it wrote unseen since the last harvest */
			if (shared_dirty_log(kio, s) != IOMMU_KVM_DIRTY_FAULTS)
				dma_dirty_all(kio);
			break;
		}
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	if (!WARN_ON(!found)) {
		/* no page request work may use @found after it is freed */
		wait_var_event(&found->iopf_inflight,
			       !atomic_read(&found->iopf_inflight));
		if (!found->fault && !--kio->nr_pinning)
			unpin_all(kio);
		if (!kio->nr_domains)
			kvm_tdp_export_unregister(kio->kvm, &kio->importer);
	}
	mutex_unlock(&kio->lock);
	kfree(found);
}

static void device_event(struct kvm_iommu_ioas *kio, u32 dev_id, u32 mode,
			 bool attach)
{
	unsigned long irqflags;
	u32 attached;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	if (attach) {
		kio->stats.attaches++;
		attached = ++kio->stats.attached;
	} else {
		kio->stats.detaches++;
		WARN_ON(!kio->stats.attached);
		attached = --kio->stats.attached;
	}
	/*
	 * A PINNED device may write every writable slot.  Its writes between
	 * the attach and this count, and before its detach, are reported at
	 * the next harvest.
	 */
	if (mode == IOMMU_KVM_MODE_PINNED) {
		if (attach)
			kio->nr_pinned_devs++;
		else if (!WARN_ON(!kio->nr_pinned_devs))
			kio->nr_pinned_devs--;
		dma_dirty_all(kio);
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	if (attach)
		trace_kvm_iommu_attach(dev_id, mode, attached);
	else
		trace_kvm_iommu_detach(dev_id, mode, attached);
}

/**
 * kvm_iommu_device_attached() - a device now translates through the IOAS
 * @kio: the IOAS's KVM side
 * @dev_id: iommufd's object id of the device
 * @mode: enum iommu_kvm_mode of the domain it was attached to
 *
 * Called by iommufd after a successful attach; counts it and fires the
 * kvm_iommu_attach event.
 */
void kvm_iommu_device_attached(struct kvm_iommu_ioas *kio, u32 dev_id, u32 mode)
{
	device_event(kio, dev_id, mode, true);
}

/**
 * kvm_iommu_device_detached() - a device stops translating through the IOAS
 * @kio: the IOAS's KVM side
 * @dev_id: iommufd's object id of the device
 * @mode: enum iommu_kvm_mode of the domain it is detached from
 *
 * Called by iommufd when it detaches a device that
 * kvm_iommu_device_attached() reported.
 */
void kvm_iommu_device_detached(struct kvm_iommu_ioas *kio, u32 dev_id, u32 mode)
{
	device_event(kio, dev_id, mode, false);
}

/**
 * kvm_iommu_share_query() - could a device share the VM's table, and why not
 * @kio: the IOAS's KVM side
 * @dev: the device
 * @info: filled with both sides of the comparison and the reasons
 *
 * Allocates and attaches nothing.  While no SHARED domain exists the IOAS
 * registers with KVM's exporter just long enough to read the table's
 * format.
 *
 * Context: process context; takes @kio->lock.
 * Return: 0; the exporter's error (-EAGAIN while the VM has no vCPU,
 * -EOPNOTSUPP when it does not use the TDP MMU).
 */
int kvm_iommu_share_query(struct kvm_iommu_ioas *kio, struct device *dev,
			  struct kvm_iommu_share_info *info)
{
	struct kvm_tdp_export exp;
	unsigned long irqflags;
	int ret = 0;

	mutex_lock(&kio->lock);
	if (!kio->nr_domains) {
		ret = kvm_tdp_export_register(kio->kvm, &kio->importer, &kio->exp);
		if (ret)
			goto out_unlock;
	}
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	exp = kio->exp;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	if (!kio->nr_domains)
		kvm_tdp_export_unregister(kio->kvm, &kio->importer);

	/* the reasons of a device that cannot fault, the stricter answer */
	share_reasons(dev, &exp, false, info);
out_unlock:
	mutex_unlock(&kio->lock);
	return ret;
}

/**
 * kvm_iommu_get_stats() - read the IOAS's counters
 * @kio: the IOAS's KVM side
 * @stats: filled with a consistent snapshot
 */
void kvm_iommu_get_stats(struct kvm_iommu_ioas *kio, struct kvm_iommu_stats *stats)
{
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	*stats = kio->stats;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	stats->pinned_pages = READ_ONCE(kio->nr_pinned);
}

/**
 * kvm_iommu_ioas_root() - the KVM root the SHARED domains translate through
 * @kio: the IOAS's KVM side
 *
 * Return: the root's physical address, 0 while no SHARED domain exists.
 */
u64 kvm_iommu_ioas_root(struct kvm_iommu_ioas *kio)
{
	unsigned long irqflags;
	u64 root;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	root = kio->nr_domains ? kio->exp.root : 0;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	return root;
}
