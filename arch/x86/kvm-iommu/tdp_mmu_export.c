// SPDX-License-Identifier: GPL-2.0
/*
 * TDP MMU operations on the root exported to IOMMU importers (see
 * tdp_export.c) that need only the TDP MMU's interfaces: which SPTE changes
 * the importers must hear of, and walks of the exported root with its
 * iterator (which may yield mmu_lock with tdp_mmu_iter_cond_resched()).
 * Built into KVM next to tdp_export.o, with KVM's include path.
 * The operations that change the root stay in tdp_mmu.c, which owns the
 * helpers that set SPTEs and calls kvm_tdp_export_note_change() for each
 * change it makes to the exported root.
 *
 * Locking: each function says which mmu_lock mode its caller holds; the
 * walks run inside an RCU read-side section, as every TDP MMU walk does, so
 * the page tables they read are not freed under them.
 */
#include <linux/kvm_host.h>

#include "mmu.h"
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
