// SPDX-License-Identifier: GPL-2.0
/*
 * TDP MMU operations on the root exported to IOMMU importers (see
 * tdp_export.c) that need only the TDP MMU's interfaces: which SPTE changes
 * the importers must hear of, and walks of the exported root with its
 * iterator (which may yield mmu_lock with tdp_mmu_iter_cond_resched()).
 * Built into KVM next to tdp_export.o, with KVM's include path.
 * The operations here that change the root go through the TDP MMU's own
 * helpers (kvm_tdp_mmu_link_or_split(), kvm_tdp_mmu_set_spte_atomic(),
 * kvm_tdp_mmu_iter_set_spte(), kvm_tdp_mmu_split_huge_leaf()), which call
 * kvm_tdp_export_note_change() for each change they make to the exported
 * root, as every other SPTE change of tdp_mmu.c does.
 *
 * Locking: each function says which mmu_lock mode its caller holds; the
 * walks run inside an RCU read-side section, as every TDP MMU walk does, so
 * the page tables they read are not freed under them.
 */
#include <linux/kvm_host.h>

#include "mmu.h"
#include "mmu/mmu_internal.h"
#include "mmu/spte.h"
#include "mmu/tdp_iter.h"
#include "mmu/tdp_mmu.h"
#include "tdp_export.h"

/* Whether an SPTE change must be invalidated in IOMMUs, and how. */
static bool tdp_export_change_needs_inv(struct kvm *kvm, u64 old_spte,
					u64 new_spte, int level,
					unsigned int *flags)
{
	const u64 access = PT_PRESENT_MASK | PT_WRITABLE_MASK |
			   shadow_user_mask | shadow_x_mask | shadow_dirty_mask;

	*flags = KVM_TDP_INV_LEAF;

	/* MMIO SPTEs look present (and writable) to an IOMMU. */
	if (!is_shadow_present_pte(old_spte))
		return is_mmio_spte(kvm, old_spte) && old_spte != new_spte;

	if (!is_last_spte(old_spte, level)) {
		/* The only non-leaf to non-leaf change is an A/D bit update. */
		if (is_shadow_present_pte(new_spte) &&
		    !is_last_spte(new_spte, level))
			return false;

		*flags = KVM_TDP_INV_TABLES;
		return true;
	}

	if (!is_shadow_present_pte(new_spte))
		return true;

	/* Splitting a huge page keeps every translation. */
	if (!is_last_spte(new_spte, level))
		return false;

	/*
	 * Like the CPU TLB, an IOMMU must drop translations whose PFN changed
	 * or that lost access, and whose Dirty bit was cleared (so the walker
	 * sets it again).  Clearing the Accessed bit needs no invalidation.
	 */
	return spte_to_pfn(old_spte) != spte_to_pfn(new_spte) ||
	       (old_spte & ~new_spte & access) ||
	       (new_spte & ~old_spte & shadow_nx_mask);
}

/**
 * kvm_tdp_export_note_change() - record a change to the exported root
 * @kvm: the VM
 * @gfn: the first GFN the changed SPTE maps
 * @level: the SPTE's level
 * @old_spte: the SPTE before the change
 * @new_spte: the SPTE after it
 *
 * An exported root is shared with IOMMUs, which neither see KVM's TLB
 * flushes nor take faults.  Every change to it that removes or downgrades
 * a translation (a leaf zapped, made read-only or non-executable, its PFN
 * or Dirty bit changed; an MMIO SPTE changed) or unlinks page tables is
 * recorded here with kvm_tdp_export_record(), as it is made; the record
 * becomes an importer invalidation at the next remote TLB flush, and at
 * the latest before the RCU read-side section in which the change was
 * made ends, which keeps unlinked page tables (freed via RCU) alive until
 * the IOMMUs drop them.  Splits, Accessed bit changes and new mappings are
 * not recorded.
 *
 * Context: mmu_lock held, inside the RCU read-side section of the change;
 * does not sleep.
 */
void kvm_tdp_export_note_change(struct kvm *kvm, gfn_t gfn, int level,
				u64 old_spte, u64 new_spte)
{
	unsigned int flags;

	if (tdp_export_change_needs_inv(kvm, old_spte, new_spte, level, &flags))
		kvm_tdp_export_record(kvm, gfn, gfn + KVM_PAGES_PER_HPAGE(level),
				      flags);
}

/**
 * kvm_tdp_mmu_mapped_level() - the level at which a root maps a GFN
 * @kvm: the VM
 * @root: a TDP MMU root of @kvm, e.g. the exported one
 * @gfn: the GFN
 * @write: whether the mapping must allow writes
 *
 * Context: mmu_lock held, for read or write.
 * Return: the level of the leaf SPTE that maps @gfn in @root, if it allows
 * reads (it is not access-tracked) and, with @write, writes; else 0.
 */
int kvm_tdp_mmu_mapped_level(struct kvm *kvm, struct kvm_mmu_page *root,
			     gfn_t gfn, bool write)
{
	struct tdp_iter iter;
	int level = 0;

	lockdep_assert_held(&kvm->mmu_lock);

	rcu_read_lock();

	for_each_tdp_pte(iter, root, gfn, gfn + 1) {
		if (!is_shadow_present_pte(iter.old_spte) ||
		    !is_last_spte(iter.old_spte, iter.level))
			continue;

		if (!is_access_track_spte(iter.old_spte) &&
		    (!write || is_writable_pte(iter.old_spte)))
			level = iter.level;
		break;
	}

	rcu_read_unlock();

	return level;
}

/**
 * kvm_tdp_mmu_exported_dirty() - report the exported root's dirty leaves
 * @kvm: the VM
 * @slot: a memslot of address space 0 with a dirty bitmap
 *
 * Sets in @slot's dirty bitmap every GFN of the slot whose leaf in the
 * exported root has the Dirty bit set, by a vCPU or by an IOMMU walking the
 * root.  Meant for dirty logging that clears Dirty bits (PML): KVM clears
 * them again for the GFNs it reports when the harvest re-arms them.  Does
 * nothing without an exported root or without Dirty bits.
 *
 * Context: mmu_lock held for read; may yield it.
 */
void kvm_tdp_mmu_exported_dirty(struct kvm *kvm,
				const struct kvm_memory_slot *slot)
{
	struct kvm_mmu_page *root = kvm_tdp_export_root(kvm);
	gfn_t end = slot->base_gfn + slot->npages;
	struct tdp_iter iter;
	gfn_t gfn, last;

	lockdep_assert_held_read(&kvm->mmu_lock);

	if (!root || !shadow_dirty_mask)
		return;

	rcu_read_lock();

	for_each_tdp_pte(iter, root, slot->base_gfn, end) {
		if (tdp_mmu_iter_cond_resched(kvm, &iter, false, true))
			continue;

		if (!is_shadow_present_pte(iter.old_spte) ||
		    !is_last_spte(iter.old_spte, iter.level) ||
		    !(iter.old_spte & shadow_dirty_mask))
			continue;

		/* A huge leaf may start before the slot or end after it. */
		gfn = max(iter.gfn, slot->base_gfn);
		last = min(iter.gfn + KVM_PAGES_PER_HPAGE(iter.level), end);
		for (; gfn < last; gfn++)
			set_bit_le(gfn - slot->base_gfn, slot->dirty_bitmap);
	}

	rcu_read_unlock();
}

/**
 * kvm_tdp_mmu_map_no_vcpu() - map a GFN in a root from VM context
 * @kvm: the VM
 * @root: a TDP MMU root of @kvm (the exported one)
 * @slot: the memslot of @gfn
 * @gfn: the GFN
 * @pfn: the host PFN that backs @gfn, looked up by the caller
 * @write: whether the mapping must allow writes
 * @host_writable: whether the host maps @pfn writable for the VM
 * @max_level: the largest leaf allowed (the host mapping level; 4 KiB
 *	while @slot logs dirty pages)
 * @header_cache: shadow page headers for new page tables, topped up
 * @pt_cache: page-table pages for them, topped up
 * @level: set to the level of the leaf that maps @gfn on success
 *
 * Installs the leaf the way kvm_tdp_mmu_map() does for a vCPU's TDP fault:
 * it links missing page tables, splits a huge page above the target level,
 * keeps a page table the NX huge page mitigation asked for, and builds the
 * SPTE with make_tdp_spte_no_vcpu() (full access, write-protected where KVM
 * keeps @gfn write-protected, the page logged when the leaf is writable in
 * a slot that logs dirty pages).  A present leaf for @gfn at the target
 * level must already map @pfn: the caller checked the MMU-notifier sequence
 * after looking @pfn up, so any older mapping of @gfn was zapped.
 *
 * Context: mmu_lock held for read; the caller checked
 * mmu_invalidate_retry_gfn() for @gfn under it.  Does not sleep.
 * Return: 0; -EAGAIN if the walk raced with another change and must be
 * retried; -EPERM if @write was requested but KVM keeps @gfn
 * write-protected (e.g. write-tracked); -EIO if a present leaf maps
 * another PFN.
 */
int kvm_tdp_mmu_map_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *root,
			    const struct kvm_memory_slot *slot, gfn_t gfn,
			    kvm_pfn_t pfn, bool write, bool host_writable,
			    int max_level,
			    struct kvm_mmu_memory_cache *header_cache,
			    struct kvm_mmu_memory_cache *pt_cache, int *level)
{
	bool nx_huge_pages = is_nx_huge_page_enabled(kvm);
	int goal_level = max_level;
	struct kvm_mmu_page *sp;
	struct tdp_iter iter;
	int ret = -EAGAIN;
	u64 new_spte;

	lockdep_assert_held_read(&kvm->mmu_lock);

	rcu_read_lock();

	for_each_tdp_pte(iter, root, gfn, gfn + 1) {
		if (is_frozen_spte(iter.old_spte))
			goto out;

		/*
		 * Don't replace a page table that the NX huge page mitigation
		 * asked for with a huge page, see disallowed_hugepage_adjust().
		 */
		if (nx_huge_pages && iter.level == goal_level &&
		    iter.level > PG_LEVEL_4K &&
		    is_shadow_present_pte(iter.old_spte) &&
		    !is_large_pte(iter.old_spte) &&
		    spte_to_child_sp(iter.old_spte)->nx_huge_page_disallowed)
			goal_level--;

		if (iter.level == goal_level)
			goto map_target_level;

		if (is_shadow_present_pte(iter.old_spte) &&
		    !is_large_pte(iter.old_spte))
			continue;

		/* Non-present, or a huge page to split down to @goal_level. */
		sp = kvm_mmu_memory_cache_alloc(header_cache);
		sp->spt = kvm_mmu_memory_cache_alloc(pt_cache);
		if (kvm_tdp_mmu_link_or_split(kvm, &iter, sp))
			goto out;
	}
	goto out;

map_target_level:
	pfn &= ~(KVM_PAGES_PER_HPAGE(iter.level) - 1);

	if (is_shadow_present_pte(iter.old_spte) &&
	    is_last_spte(iter.old_spte, iter.level) &&
	    WARN_ON_ONCE(spte_to_pfn(iter.old_spte) != pfn)) {
		ret = -EIO;
		goto out;
	}

	make_tdp_spte_no_vcpu(kvm, sptep_to_sp(rcu_dereference(iter.sptep)),
			      slot, iter.gfn, pfn, iter.old_spte,
			      host_writable, &new_spte);

	if (new_spte != iter.old_spte) {
		if (kvm_tdp_mmu_set_spte_atomic(kvm, &iter, new_spte))
			goto out;

		/* A page table was replaced by a huge page. */
		if (is_shadow_present_pte(iter.old_spte) &&
		    !is_last_spte(iter.old_spte, iter.level))
			kvm_flush_remote_tlbs_gfn(kvm, iter.gfn, iter.level);
	}

	*level = iter.level;
	ret = write && !is_writable_pte(new_spte) ? -EPERM : 0;
out:
	rcu_read_unlock();
	return ret;
}

/*
 * Whether a present leaf allows the access asked for, as
 * kvm_tdp_mmu_mapped_level() sees it (the SPTE masks are @kvm's).
 */
static bool tdp_export_leaf_grants(struct kvm *kvm, u64 spte, bool write)
{
	return !is_access_track_spte(spte) && (!write || is_writable_pte(spte));
}

/**
 * kvm_tdp_mmu_map_range_no_vcpu() - map GFNs with 4 KiB leaves in one walk
 * @kvm: the VM
 * @root: a TDP MMU root of @kvm (the exported one)
 * @slot: the memslot of the GFNs
 * @start: the first GFN
 * @npages: how many GFNs, at most 64, all in the 2 MiB-aligned block of
 *	@start
 * @pfns: the host PFNs that back the GFNs, looked up by the caller
 * @host_writable: bit i set if the host maps @pfns[i] writable for the VM
 * @write: whether the mappings must allow writes
 * @header_cache: shadow page headers for new page tables, topped up with
 *	one path of page tables and one split
 * @pt_cache: page-table pages for them, topped up likewise
 * @done: set to how many GFNs from @start are mapped as asked
 *
 * kvm_tdp_mmu_map_no_vcpu() with a 4 KiB target level for each GFN of the
 * range, in one walk: missing page tables are linked and a huge page above
 * the 4 KiB level is split as there (the GFNs share one 4 KiB table, so
 * that is one path), and each leaf is built with make_tdp_spte_no_vcpu()
 * and installed with kvm_tdp_mmu_set_spte_atomic().  A leaf that already
 * allows the access asked for, whatever its level (a huge one maps the
 * whole range), is left as it is, as kvm_tdp_mmu_mapped_level() makes the
 * single-GFN path leave it.  A present 4 KiB leaf for a GFN must already
 * map its PFN (see kvm_tdp_mmu_map_no_vcpu()).
 *
 * Context: mmu_lock held for read; the caller checked
 * mmu_invalidate_retry_gfn() for every GFN of the range under it.  Does not
 * sleep.
 * Return: 0 with *@done == @npages; else the error for GFN @start + *@done,
 * the GFNs before it being mapped: -EAGAIN if the walk raced with another
 * change there and must be retried; -EPERM if @write was requested but KVM
 * keeps that GFN write-protected (it is mapped readable); -EIO if a present
 * leaf maps another PFN.
 */
int kvm_tdp_mmu_map_range_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *root,
				  const struct kvm_memory_slot *slot,
				  gfn_t start, int npages, const kvm_pfn_t *pfns,
				  u64 host_writable, bool write,
				  struct kvm_mmu_memory_cache *header_cache,
				  struct kvm_mmu_memory_cache *pt_cache,
				  int *done)
{
	const gfn_t block = KVM_PAGES_PER_HPAGE(PG_LEVEL_2M);
	gfn_t end = start + npages, next = start;
	struct kvm_mmu_page *sp;
	struct tdp_iter iter;
	u64 new_spte;
	int ret = 0;
	int i;

	lockdep_assert_held_read(&kvm->mmu_lock);

	*done = 0;
	if (WARN_ON_ONCE(npages <= 0 || npages > 64 ||
			 (start & -block) != ((end - 1) & -block)))
		return -EINVAL;

	rcu_read_lock();

	for_each_tdp_pte(iter, root, start, end) {
		if (is_frozen_spte(iter.old_spte)) {
			ret = -EAGAIN;
			break;
		}

		if (iter.level > PG_LEVEL_4K) {
			if (is_shadow_present_pte(iter.old_spte)) {
				if (!is_last_spte(iter.old_spte, iter.level))
					continue;
				/*
				 * A huge leaf maps the whole range: keep it if
				 * it allows the access; the walk then ends.
				 */
				if (tdp_export_leaf_grants(kvm,
							   iter.old_spte,
							   write)) {
					next = end;
					continue;
				}
			}

			/* Non-present, or a huge page to split. */
			sp = kvm_mmu_memory_cache_alloc(header_cache);
			sp->spt = kvm_mmu_memory_cache_alloc(pt_cache);
			if (kvm_tdp_mmu_link_or_split(kvm, &iter, sp)) {
				ret = -EAGAIN;
				break;
			}
			continue;
		}

		if (is_shadow_present_pte(iter.old_spte) &&
		    tdp_export_leaf_grants(kvm, iter.old_spte, write)) {
			next = iter.gfn + 1;
			continue;
		}

		i = iter.gfn - start;
		if (is_shadow_present_pte(iter.old_spte) &&
		    WARN_ON_ONCE(spte_to_pfn(iter.old_spte) != pfns[i])) {
			ret = -EIO;
			break;
		}

		make_tdp_spte_no_vcpu(kvm,
				      sptep_to_sp(rcu_dereference(iter.sptep)),
				      slot, iter.gfn, pfns[i], iter.old_spte,
				      host_writable & BIT_ULL(i), &new_spte);

		if (new_spte != iter.old_spte &&
		    kvm_tdp_mmu_set_spte_atomic(kvm, &iter, new_spte)) {
			ret = -EAGAIN;
			break;
		}

		if (write && !is_writable_pte(new_spte)) {
			ret = -EPERM;
			break;
		}
		next = iter.gfn + 1;
	}

	rcu_read_unlock();

	*done = next - start;
	return ret;
}

/**
 * kvm_tdp_mmu_zap_exported_mmio_sptes() - zap the exported root's MMIO SPTEs
 * @kvm: the VM
 *
 * After the MMIO generation wrapped, KVM zaps every MMIO SPTE with a fast
 * zap, which spares the exported root; this zaps the root's own.  An MMIO
 * SPTE looks present and writable to an IOMMU, so each one zapped is
 * recorded for the importers by kvm_tdp_mmu_iter_set_spte().
 *
 * Context: mmu_lock held for write; may yield it.
 * Return: whether a TLB flush is needed.
 */
bool kvm_tdp_mmu_zap_exported_mmio_sptes(struct kvm *kvm)
{
	struct kvm_mmu_page *root = kvm_tdp_export_root(kvm);
	struct tdp_iter iter;
	bool flush = false;

	lockdep_assert_held_write(&kvm->mmu_lock);

	if (!root || !enable_mmio_caching)
		return false;

	rcu_read_lock();

	/* Bounded at host.MAXPHYADDR, as tdp_mmu.c's own walks are. */
	for_each_tdp_pte(iter, root, 0, kvm_mmu_max_gfn() + 1) {
		if (tdp_mmu_iter_cond_resched(kvm, &iter, flush, false)) {
			flush = false;
			continue;
		}

		if (!is_mmio_spte(kvm, iter.old_spte))
			continue;

		kvm_tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);
		flush = true;
	}

	rcu_read_unlock();

	return flush;
}

/**
 * kvm_tdp_mmu_exported_nx_huge_pages() - make exported huge pages non-exec
 * @kvm: the VM
 *
 * After the NX huge page mitigation was enabled, KVM zaps its roots with a
 * fast zap, which spares the exported root; this makes the root's huge
 * pages non-executable instead, so that a vCPU that executes from one
 * faults and splits it, as for any huge page mapped under the mitigation,
 * while DMA through it goes on.  Each change is recorded for the importers
 * by kvm_tdp_mmu_iter_set_spte().
 *
 * Context: mmu_lock held for write; may yield it.
 * Return: whether a TLB flush is needed.
 */
bool kvm_tdp_mmu_exported_nx_huge_pages(struct kvm *kvm)
{
	const u64 saved_x = SPTE_EPT_EXECUTABLE_MASK <<
			    SHADOW_ACC_TRACK_SAVED_BITS_SHIFT;
	struct kvm_mmu_page *root = kvm_tdp_export_root(kvm);
	struct tdp_iter iter;
	bool flush = false;
	u64 new_spte;

	lockdep_assert_held_write(&kvm->mmu_lock);

	if (!root || !is_nx_huge_page_enabled(kvm))
		return false;

	rcu_read_lock();

	/* Bounded at host.MAXPHYADDR, as tdp_mmu.c's own walks are. */
	for_each_tdp_pte_min_level(iter, root, PG_LEVEL_2M, 0,
				   kvm_mmu_max_gfn() + 1) {
		if (tdp_mmu_iter_cond_resched(kvm, &iter, flush, false)) {
			flush = false;
			continue;
		}

		if (!is_shadow_present_pte(iter.old_spte) ||
		    !is_large_pte(iter.old_spte))
			continue;

		/* Access-tracked SPTEs keep their X bit in the saved bits. */
		if (is_access_track_spte(iter.old_spte))
			new_spte = iter.old_spte & ~saved_x;
		else
			new_spte = (iter.old_spte & ~shadow_x_mask) |
				   shadow_nx_mask;
		if (new_spte == iter.old_spte)
			continue;

		kvm_tdp_mmu_iter_set_spte(kvm, &iter, new_spte);
		flush = true;
	}

	rcu_read_unlock();

	return flush;
}

/**
 * kvm_tdp_export_zap_leafs() - zap the exported root's leaves of a GFN range
 * @kvm: the VM
 * @root: the exported root
 * @start: the first GFN
 * @end: the GFN after the range, bounded at host.MAXPHYADDR by the caller
 * @can_yield: whether mmu_lock may be yielded
 * @flush: whether a TLB flush is already pending
 * @keep_held: whether the zap is for an MMU-notifier invalidation that
 *	leaves long-term pinned pages where they are
 *	(mmu_notifier_event_keeps_pinned())
 *
 * The TDP MMU's leaf zap, tdp_mmu_zap_leafs(), for the exported root, on
 * which a device that cannot fault loses DMA through every leaf zapped
 * under it.  A leaf whose pages an importer holds long-term pinned as the
 * pages of its GFNs (kvm_tdp_export_holds()) is kept with @keep_held: such
 * an invalidation cannot change them.  Without @keep_held, such a huge leaf
 * that reaches outside [@start, @end) (the VMM removes one page of a THP)
 * is split in place first with kvm_tdp_mmu_split_huge_leaf(), so that only
 * the range loses its translations; if there is no memory for the split,
 * it is zapped whole.  Every other present leaf of the range is zapped, as
 * tdp_mmu_zap_leafs() does on other roots, and recorded for the importers
 * by kvm_tdp_mmu_iter_set_spte().
 *
 * Context: mmu_lock held for write; with @can_yield, may yield it.  Only
 * leaves are zapped, so no page table is freed under the caller.
 * Return: whether a TLB flush is needed.
 */
bool kvm_tdp_export_zap_leafs(struct kvm *kvm, struct kvm_mmu_page *root,
			      gfn_t start, gfn_t end, bool can_yield,
			      bool flush, bool keep_held)
{
	struct tdp_iter iter;
	bool partial;

	lockdep_assert_held_write(&kvm->mmu_lock);

	rcu_read_lock();

	for_each_tdp_pte_min_level(iter, root, PG_LEVEL_4K, start, end) {
		if (can_yield &&
		    tdp_mmu_iter_cond_resched(kvm, &iter, flush, false)) {
			flush = false;
			continue;
		}

		if (!is_shadow_present_pte(iter.old_spte) ||
		    !is_last_spte(iter.old_spte, iter.level))
			continue;

		partial = iter.level > PG_LEVEL_4K &&
			  (iter.gfn < start ||
			   iter.gfn + KVM_PAGES_PER_HPAGE(iter.level) > end);
		if ((keep_held || partial) &&
		    kvm_tdp_export_holds(kvm, iter.gfn, iter.level,
					 spte_to_pfn(iter.old_spte))) {
			if (keep_held)
				continue;
			/* The iterator then steps down into the new table. */
			if (kvm_tdp_mmu_split_huge_leaf(kvm, &iter))
				continue;
		}

		kvm_tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);

		/* As for any root: an invalid one needs no TLB flush. */
		if (!root->role.invalid)
			flush = true;
	}

	rcu_read_unlock();

	return flush;
}
