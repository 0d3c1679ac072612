// SPDX-License-Identifier: GPL-2.0
/*
 * TDP MMU operations on the root exported to IOMMU importers (see
 * tdp_export.c) that need only the TDP MMU's interfaces: walks of the
 * exported root with its iterator.  Built into KVM next to tdp_export.o,
 * with KVM's include path.  The operations that change the root stay in
 * tdp_mmu.c, which owns the helpers that set SPTEs.
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
