/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu/tdp_iter.h: KVM's iterator over
 * the SPTEs of a TDP MMU root, in its order (an entry, then the table it
 * points to, then the next entry; up when a table ends), over the KVM
 * model's tables (platform/kvm_mmu.c implements the steps).
 */
#ifndef __KVM_X86_MMU_TDP_ITER_H
#define __KVM_X86_MMU_TDP_ITER_H

#include <linux/kvm_host.h>
#include "../mmu.h"
#include "spte.h"

struct tdp_iter {
	/* the GFN the walk heads for; where it steps down */
	gfn_t next_last_level_gfn;
	/* the first GFN the current SPTE maps, and its level */
	gfn_t gfn;
	int level;
	int min_level;
	int root_level;
	/* the current SPTE, where it is, and the value read there */
	u64 *sptep;
	u64 old_spte;
	/* false once the walk left the root */
	bool valid;
	/* set when the walk yielded mmu_lock: the next step restarts it */
	bool yielded;
	/* where the walk last (re)started; it yields only past it */
	gfn_t yielded_gfn;
	/* the model's: the VM, and the table at each level of the walk */
	struct kvm *kvm;
	struct kvm_mmu_page *root;
	u64 *pt_path[PT64_ROOT_MAX_LEVEL + 1];
};

void tdp_iter_start(struct tdp_iter *iter, struct kvm_mmu_page *root,
		    int min_level, gfn_t next_last_level_gfn);
void tdp_iter_next(struct tdp_iter *iter);

#define for_each_tdp_pte_min_level(iter, root, min_level, start, end)	\
	for (tdp_iter_start(&iter, root, min_level, start);		\
	     iter.valid && iter.gfn < (end);				\
	     tdp_iter_next(&iter))

#define for_each_tdp_pte(iter, root, start, end)			\
	for_each_tdp_pte_min_level(iter, root, PG_LEVEL_4K, start, end)

#endif /* __KVM_X86_MMU_TDP_ITER_H */
