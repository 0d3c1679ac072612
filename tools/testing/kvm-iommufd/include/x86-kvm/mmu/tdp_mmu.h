/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu/tdp_mmu.h: the TDP MMU
 * operations tdp_export.c and tdp_mmu_export.c call.  kvm_tdp_mmu_put_root()
 * and tdp_mmu_iter_cond_resched() are upstream's (the latter made visible by
 * patch 0008); the root's allocation and lookup, kvm_tdp_mmu_zap_exported_leafs()
 * and the helpers that change SPTEs for the exporter's walks
 * (kvm_tdp_mmu_link_or_split(), kvm_tdp_mmu_set_spte_atomic(),
 * kvm_tdp_mmu_iter_set_spte()) are patch 0004's, thin forms of upstream's
 * own, and kvm_tdp_mmu_split_huge_leaf() (splitting a huge leaf with
 * mmu_lock held for write) is patch 0007's; the KVM model
 * (platform/kvm_mmu.c) implements all of these with the same contracts
 * over its tables.  The rest is the product's tdp_mmu_export.c.
 */
#ifndef __KVM_X86_MMU_TDP_MMU_H
#define __KVM_X86_MMU_TDP_MMU_H

#include <linux/kvm_host.h>
#include "tdp_iter.h"

void kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root);

struct kvm_mmu_page *kvm_tdp_mmu_alloc_vm_root(void);
void kvm_tdp_mmu_free_vm_root(struct kvm_mmu_page *sp);
struct kvm_mmu_page *kvm_tdp_mmu_get_vm_root(struct kvm *kvm,
					     union kvm_mmu_page_role role,
					     struct kvm_mmu_page **new);
int kvm_tdp_mmu_mapped_level(struct kvm *kvm, struct kvm_mmu_page *root,
			     gfn_t gfn, bool write);
int kvm_tdp_mmu_map_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *root,
			    const struct kvm_memory_slot *slot, gfn_t gfn,
			    kvm_pfn_t pfn, bool write, bool host_writable,
			    int max_level,
			    struct kvm_mmu_memory_cache *header_cache,
			    struct kvm_mmu_memory_cache *pt_cache, int *level);
bool kvm_tdp_mmu_zap_exported_leafs(struct kvm *kvm, gfn_t start, gfn_t end,
				    bool flush);
int kvm_tdp_mmu_link_or_split(struct kvm *kvm, struct tdp_iter *iter,
			      struct kvm_mmu_page *sp);
int kvm_tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter,
				u64 new_spte);
void kvm_tdp_mmu_iter_set_spte(struct kvm *kvm, struct tdp_iter *iter,
			       u64 new_spte);
bool kvm_tdp_mmu_split_huge_leaf(struct kvm *kvm, struct tdp_iter *iter);
bool kvm_tdp_mmu_zap_exported_mmio_sptes(struct kvm *kvm);
bool kvm_tdp_mmu_exported_nx_huge_pages(struct kvm *kvm);
void kvm_tdp_mmu_exported_dirty(struct kvm *kvm,
				const struct kvm_memory_slot *slot);
bool tdp_mmu_iter_cond_resched(struct kvm *kvm, struct tdp_iter *iter,
			       bool flush, bool shared);

#endif /* __KVM_X86_MMU_TDP_MMU_H */
