/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exporting a TDP MMU root to IOMMU importers: the hooks the rest of the MMU
 * calls.  See tdp_export.c, and include/linux/kvm_tdp_export.h for the
 * arch-neutral exporter's (kvm_tdp_export_record(), kvm_tdp_export_flush(),
 * kvm_tdp_export_release()).  Included by KVM's MMU (mmu.c, tdp_mmu.c) as
 * "../kvm-iommu/tdp_export.h", through KVM's include path.
 */
#ifndef __KVM_X86_MMU_TDP_EXPORT_H
#define __KVM_X86_MMU_TDP_EXPORT_H

#include <linux/kvm_host.h>
#include <linux/kvm_tdp_export.h>

struct kvm_mmu_page;

#ifdef CONFIG_KVM_TDP_EXPORT
void kvm_tdp_export_zap_memslot(struct kvm *kvm,
				const struct kvm_memory_slot *slot);
void kvm_tdp_export_mmio_gen_wrapped(struct kvm *kvm);
void kvm_tdp_export_nx_huge_pages_changed(struct kvm *kvm);
void kvm_tdp_export_sync_dirty_log(struct kvm *kvm,
				   struct kvm_memory_slot *slot);

void kvm_tdp_export_note_change(struct kvm *kvm, gfn_t gfn, int level,
				u64 old_spte, u64 new_spte);
bool kvm_tdp_export_zap_leafs(struct kvm *kvm, struct kvm_mmu_page *root,
			      gfn_t start, gfn_t end, bool can_yield,
			      bool flush, bool keep_held);
int kvm_tdp_mmu_map_range_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *root,
				  const struct kvm_memory_slot *slot,
				  gfn_t start, int npages, const kvm_pfn_t *pfns,
				  u64 host_writable, bool write,
				  struct kvm_mmu_memory_cache *header_cache,
				  struct kvm_mmu_memory_cache *pt_cache,
				  int *done);

/* Provided by mmu.c: the largest leaf level the MMU creates. */
int kvm_mmu_max_huge_page_level(void);

struct tdp_iter;

/*
 * The TDP MMU's operations on the exported root (tdp_mmu.c, patches 0004
 * and 0007): allocating and finding the root with a vCPU's role, zapping
 * its leaves where the fast zap spares it, and the SPTE changes the walks
 * below make, noted for the importers as tdp_mmu.c's own are.
 */
struct kvm_mmu_page *kvm_tdp_mmu_alloc_vm_root(void);
void kvm_tdp_mmu_free_vm_root(struct kvm_mmu_page *sp);
struct kvm_mmu_page *kvm_tdp_mmu_get_vm_root(struct kvm *kvm,
					     union kvm_mmu_page_role role,
					     struct kvm_mmu_page **new);
bool kvm_tdp_mmu_zap_exported_leafs(struct kvm *kvm, gfn_t start, gfn_t end,
				    bool flush);
int kvm_tdp_mmu_link_or_split(struct kvm *kvm, struct tdp_iter *iter,
			      struct kvm_mmu_page *sp);
int __must_check kvm_tdp_mmu_set_spte_atomic(struct kvm *kvm,
					     struct tdp_iter *iter,
					     u64 new_spte);
void kvm_tdp_mmu_iter_set_spte(struct kvm *kvm, struct tdp_iter *iter,
			       u64 new_spte);
bool kvm_tdp_mmu_split_huge_leaf(struct kvm *kvm, struct tdp_iter *iter);

/* The exporter's walks of its root (tdp_mmu_export.c) */
int kvm_tdp_mmu_mapped_level(struct kvm *kvm, struct kvm_mmu_page *root,
			     gfn_t gfn, bool write);
int kvm_tdp_mmu_map_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *root,
			    const struct kvm_memory_slot *slot, gfn_t gfn,
			    kvm_pfn_t pfn, bool write, bool host_writable,
			    int max_level,
			    struct kvm_mmu_memory_cache *header_cache,
			    struct kvm_mmu_memory_cache *pt_cache, int *level);
bool kvm_tdp_mmu_zap_exported_mmio_sptes(struct kvm *kvm);
bool kvm_tdp_mmu_exported_nx_huge_pages(struct kvm *kvm);
void kvm_tdp_mmu_exported_dirty(struct kvm *kvm,
				const struct kvm_memory_slot *slot);

/*
 * The exported root, or NULL.  Stable while mmu_lock is held (either mode),
 * see struct kvm_tdp_export_arch.
 */
static inline struct kvm_mmu_page *kvm_tdp_export_root(struct kvm *kvm)
{
	return kvm->arch.tdp_export.root;
}

/*
 * Whether an importer holds the pages PFNs [@pfn, @pfn + pages) mapped by the
 * exported root's leaf at @gfn (@level) long-term pinned, as the VMM's pages
 * at those GFNs: kvm_tdp_export_importers_hold().  Such a leaf may stay
 * across an MMU-notifier invalidation that cannot change a pinned page
 * (mmu_notifier_event_keeps_pinned()), and while a slot logs dirty pages it
 * is not write-protected.  Called by the TDP MMU with mmu_lock held (read or
 * write).
 */
static inline bool kvm_tdp_export_holds(struct kvm *kvm, gfn_t gfn, int level,
					kvm_pfn_t pfn)
{
	lockdep_assert_held(&kvm->mmu_lock);

	return kvm_tdp_export_importers_hold(kvm, gfn,
					     KVM_PAGES_PER_HPAGE(level), pfn);
}
#else
static inline void kvm_tdp_export_note_change(struct kvm *kvm, gfn_t gfn,
					      int level, u64 old_spte,
					      u64 new_spte) {}
static inline bool kvm_tdp_export_zap_leafs(struct kvm *kvm,
					    struct kvm_mmu_page *root,
					    gfn_t start, gfn_t end,
					    bool can_yield, bool flush,
					    bool keep_held)
{
	return flush;
}
static inline void kvm_tdp_export_zap_memslot(struct kvm *kvm,
					      const struct kvm_memory_slot *slot) {}
static inline void kvm_tdp_export_mmio_gen_wrapped(struct kvm *kvm) {}
static inline void kvm_tdp_export_nx_huge_pages_changed(struct kvm *kvm) {}
static inline void kvm_tdp_export_sync_dirty_log(struct kvm *kvm,
						 struct kvm_memory_slot *slot) {}
static inline bool kvm_tdp_export_holds(struct kvm *kvm, gfn_t gfn, int level,
					kvm_pfn_t pfn)
{
	return false;
}

static inline struct kvm_mmu_page *kvm_tdp_export_root(struct kvm *kvm)
{
	return NULL;
}
#endif

#endif /* __KVM_X86_MMU_TDP_EXPORT_H */
