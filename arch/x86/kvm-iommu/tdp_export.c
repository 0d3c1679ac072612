// SPDX-License-Identifier: GPL-2.0
/*
 * Exporting a TDP MMU root to importers that program it into an IOMMU: the
 * x86 side, see include/linux/kvm_tdp_export.h for the contract and
 * virt/iommufd/kvm_tdp_export.c for the arch-neutral exporter (importers,
 * pending invalidations, memslot listeners), which calls the
 * kvm_arch_tdp_export_*() functions here.
 *
 * DOC: Exported TDP MMU roots
 *
 * Which root: the address space 0, non-SMM, non-guest-mode TDP MMU root with
 * the role vCPU 0 uses.  The root is found or, if no vCPU has loaded it yet,
 * created from VM context exactly as kvm_tdp_mmu_alloc_root() would, so that
 * vCPUs pick it up when they load their MMU.  The role (the root level with
 * EPT) depends on the vCPU's CPUID, so registration needs at least one vCPU
 * and fails with -EAGAIN before.  If userspace later changes CPUID such that
 * the vCPUs need another level, they use another root, and the exported one
 * is only populated by kvm_tdp_export_map() (and kept coherent all the same).
 * KVM holds a reference to the root while importers are registered.
 *
 * The exported root is never replaced: kvm_tdp_mmu_invalidate_all_roots()
 * skips it, so the root HPA is stable and ->root_changed() is never called.
 * The callers of the "fast zap" that need something from the exported root
 * do it in place instead:
 *
 * - memslot deletion and move (KVM_X86_QUIRK_SLOT_ZAP_ALL) zap the slot's
 *   GFNs only, as the non-quirk path does for every root;
 * - an MMIO generation wrap zaps the root's MMIO SPTEs;
 * - enabling the NX huge page mitigation makes its huge pages
 *   non-executable.
 *
 * VM destruction (kvm_mmu_pre_destroy_vm()) calls kvm_tdp_export_release()
 * before the MMU is torn down, which drops the reference so that the normal
 * teardown frees the root.
 *
 * Invalidation: every change to the exported root that removes or downgrades
 * a translation (zap, write-protect, Dirty bit clear, unlinked page table) is
 * recorded with kvm_tdp_export_record() as it is made, by the TDP MMU
 * (tdp_mmu.c).  kvm_arch_flush_remote_tlbs() and
 * kvm_arch_flush_remote_tlbs_range() call kvm_tdp_export_flush(), and so
 * does the TDP MMU before the RCU read-side section in which the change was
 * made ends (when it yields, and after zapping a whole root, where KVM skips
 * the TLB flush).  So an IOMMU is invalidated no later than the CPUs for the
 * same change, and before page tables unlinked from the root can be freed by
 * the RCU callback.  Changes that KVM does not flush for the CPU either
 * (clearing Accessed bits, aging access-tracked SPTEs) are not invalidated.
 *
 * Things that would leave DMA without a mapping are avoided while importers
 * are registered: NX huge page recovery and the collapse of huge pages after
 * dirty logging skip the exported root (they would zap small SPTEs for a vCPU
 * to fault back in).  MMU-notifier invalidations that cannot change a pinned
 * page and dirty logging's write protection keep the leaves importers hold
 * (kvm_tdp_export_holds()).  Everything else that zaps, e.g. the memtype
 * changes of kvm_arch_register_noncoherent_dma() with EPT, still applies to
 * the exported root; the importer must keep the memory pinned and avoid the
 * rest.
 *
 * Dirty logging: before each harvest kvm_arch_sync_dirty_log() calls
 * kvm_tdp_export_sync_dirty_log(), which has the memslot listeners set the
 * pages their devices may have written unseen, and, when one asks and KVM
 * logs by clearing dirty bits (PML), reports the leaves of the exported root
 * an IOMMU marked dirty.  kvm_tdp_export_map() logs the pages it makes
 * writable, into the slot's dirty bitmap (kvm_arch_allow_write_without_
 * running_vcpu()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/kvm_tdp_export.h>

/* built into KVM (arch/x86/kvm/Makefile), with its include path */
#include "mmu.h"
#include "mmu/mmu_internal.h"
#include "mmu/spte.h"
#include "mmu/tdp_mmu.h"
#include "tdp_export.h"

/* Describe the entries KVM writes into @root, from KVM's actual masks. */
static void kvm_tdp_export_format(struct kvm *kvm, struct kvm_mmu_page *root,
				  struct kvm_tdp_format *fmt)
{
	/* EPT has an executable bit, NPT an NX bit; see kvm_mmu_set_ept_masks(). */
	const bool ept = !!shadow_x_mask;
	const bool ad = kvm_ad_enabled();
	u64 common, leaf, mmio = 0;
	int level;

	memset(fmt, 0, sizeof(*fmt));
	fmt->size = sizeof(*fmt);
	fmt->type = ept ? KVM_TDP_FMT_EPT : KVM_TDP_FMT_NPT;
	fmt->granule_shift = PAGE_SHIFT;
	fmt->levels = root->role.level;
	fmt->start_level = root->role.level;
	fmt->ias = PAGE_SHIFT + 9 * root->role.level;
	fmt->oas = boot_cpu_data.x86_phys_bits;
	for (level = PG_LEVEL_4K; level <= kvm_mmu_max_huge_page_level(); level++)
		fmt->leaf_sizes |= KVM_HPAGE_SIZE(level);
	fmt->addr_mask = GENMASK_ULL(fmt->oas - 1, PAGE_SHIFT);

	/* make_nonleaf_spte(); the exported root is never guest-mode. */
	common = SPTE_TDP_MMU_PRESENT_MASK | shadow_present_mask |
		 PT_WRITABLE_MASK | shadow_user_mask | shadow_x_mask |
		 shadow_me_value |
		 (ad ? shadow_accessed_mask : SPTE_TDP_AD_DISABLED);
	fmt->nonleaf_bits = common & ~fmt->addr_mask;

	/* make_spte() and the NX huge page mitigation. */
	leaf = common | shadow_nx_mask | PT_PAGE_SIZE_MASK |
	       shadow_memtype_mask | shadow_host_writable_mask |
	       shadow_mmu_writable_mask | (ad ? shadow_dirty_mask : 0);
	fmt->leaf_bits = leaf & ~fmt->addr_mask;

	/*
	 * Set in every present entry, except that access tracking (A/D bits
	 * disabled) clears RWX; an access-tracked leaf is not present to a
	 * walker either.
	 */
	fmt->always_bits = SPTE_TDP_MMU_PRESENT_MASK | shadow_present_mask |
			   shadow_user_mask | (ad ? 0 : SPTE_TDP_AD_DISABLED);

	fmt->nonpresent_bits = SHADOW_NONPRESENT_VALUE | FROZEN_SPTE;
	/*
	 * Without A/D bits, aging and prefetching make leaves non-present by
	 * clearing RWX (mark_spte_for_access_track()); such entries keep the
	 * PFN and everything else, plus the saved R and X bits.
	 */
	if (!ad)
		fmt->nonpresent_bits |= (leaf & ~shadow_acc_track_mask) |
					fmt->addr_mask |
					(SHADOW_ACC_TRACK_SAVED_BITS_MASK <<
					 SHADOW_ACC_TRACK_SAVED_BITS_SHIFT);

	/* make_mmio_spte(): value, access, generation, GPA (L1TF-relocated). */
	if (enable_mmio_caching && kvm->arch.shadow_mmio_value)
		mmio = kvm->arch.shadow_mmio_value | shadow_mmio_access_mask |
		       MMIO_SPTE_GEN_LOW_MASK | MMIO_SPTE_GEN_HIGH_MASK |
		       GENMASK_ULL(kvm_host.maxphyaddr - 1, PAGE_SHIFT) |
		       shadow_nonpresent_or_rsvd_mask |
		       (shadow_nonpresent_or_rsvd_mask <<
			SHADOW_NONPRESENT_OR_RSVD_MASK_LEN);
	fmt->mmio_bits = mmio;

	/* TDP maps everything with ACC_ALL: user (NPT) / readable (EPT) */
	fmt->always_bits = SPTE_TDP_MMU_PRESENT_MASK | shadow_present_mask |
			   shadow_user_mask;
	fmt->read_mask = ept ? VMX_EPT_READABLE_MASK :
			       PT_PRESENT_MASK | PT_USER_MASK;
	fmt->write_mask = fmt->read_mask | PT_WRITABLE_MASK;
	fmt->accessed_mask = shadow_accessed_mask;
	fmt->dirty_mask = shadow_dirty_mask;

	/*
	 * kvm_noncoherent_dma_assignment_start_or_stop() zaps every SPTE to
	 * re-derive memory types, held pages included.
	 */
	fmt->memtype_zaps = kvm_mmu_may_ignore_guest_pat(kvm);

	/* kvm_mmu_slot_apply_flags(): PML logs by clearing 4 KiB D bits */
	fmt->log_clears_dirty = ad && kvm_cpu_dirty_log_size();
}

/*
 * The first importer registers: find or create the address space 0, non-SMM,
 * non-guest-mode TDP MMU root with the role of the VM's vCPUs and take a
 * reference to it.  Called with kvm->tdp_export.lock held.  -EOPNOTSUPP if
 * the VM does not use the TDP MMU, or has private (guest_memfd) memory or
 * protected state; -EAGAIN if the VM has no vCPU yet (the root level depends
 * on vCPU CPUID); -ENOMEM.
 */
int kvm_arch_tdp_export_get_root(struct kvm *kvm)
{
	struct kvm_tdp_export_arch *state = &kvm->arch.tdp_export;
	struct kvm_mmu_page *new;
	union kvm_mmu_page_role role;
	struct kvm_vcpu *vcpu;

	lockdep_assert_held(&kvm->tdp_export.lock);

	if (!tdp_enabled || !tdp_mmu_enabled)
		return -EOPNOTSUPP;

	if (kvm->arch.vm_type != KVM_X86_DEFAULT_VM ||
	    kvm_arch_has_private_mem(kvm) || kvm->arch.has_protected_state)
		return -EOPNOTSUPP;

	vcpu = kvm_get_vcpu(kvm, 0);
	if (!vcpu)
		return -EAGAIN;

	/* The vCPU may be in SMM or in guest mode right now. */
	role.word = READ_ONCE(vcpu->arch.root_mmu.root_role.word);
	role.smm = 0;
	role.guest_mode = 0;
	role.invalid = 0;
	if (WARN_ON_ONCE(!role.direct || role.level < PT64_ROOT_4LEVEL))
		return -EAGAIN;

	new = kvm_tdp_mmu_alloc_vm_root();
	if (!new)
		return -ENOMEM;

	state->page_header_cache.kmem_cache = mmu_page_header_cache;
	state->page_header_cache.gfp_zero = __GFP_ZERO;
	state->shadow_page_cache.init_value = SHADOW_NONPRESENT_VALUE;
	if (!state->shadow_page_cache.init_value)
		state->shadow_page_cache.gfp_zero = __GFP_ZERO;

	write_lock(&kvm->mmu_lock);
	state->root = kvm_tdp_mmu_get_vm_root(kvm, role, &new);
	write_unlock(&kvm->mmu_lock);

	if (new)
		kvm_tdp_mmu_free_vm_root(new);

	return 0;
}

/*
 * What an importer gets: the root's physical address and entry format.  The
 * root is not replaced while exported, so this stays valid until the
 * importer is unregistered or released.  Called with kvm->tdp_export.lock
 * held, while the root is exported.
 */
void kvm_arch_tdp_export_describe(struct kvm *kvm, struct kvm_tdp_export *exp)
{
	struct kvm_mmu_page *root = kvm->arch.tdp_export.root;

	exp->root = __pa(root->spt);
	kvm_tdp_export_format(kvm, root, &exp->fmt);
}

/*
 * The last importer is gone, or the VM is being destroyed: drop the
 * reference, after which the root is handled like any other root again
 * (fast zaps, NX huge page recovery, collapse), and the memory caches of
 * kvm_tdp_export_map().  Called with kvm->tdp_export.lock held.
 */
void kvm_arch_tdp_export_put_root(struct kvm *kvm)
{
	struct kvm_tdp_export_arch *state = &kvm->arch.tdp_export;
	struct kvm_mmu_page *root;

	lockdep_assert_held(&kvm->tdp_export.lock);

	write_lock(&kvm->mmu_lock);
	root = state->root;
	state->root = NULL;
	/* The root is valid, so this is never the last reference. */
	if (root)
		kvm_tdp_mmu_put_root(kvm, root);
	write_unlock(&kvm->mmu_lock);

	kvm_mmu_free_memory_cache(&state->page_header_cache);
	kvm_mmu_free_memory_cache(&state->shadow_page_cache);
}

/* Whether kvm_tdp_export_map() may map GFNs of @slot; see there. */
static int tdp_export_check_slot(struct kvm_memory_slot *slot, bool write)
{
	if (!kvm_is_visible_memslot(slot))
		return -ENOENT;
	if (write && (slot->flags & KVM_MEM_READONLY))
		return -EPERM;
	/* Written without a vCPU: only the bitmap can log the page. */
	if (kvm_slot_dirty_track_enabled(slot) && !slot->dirty_bitmap)
		return -EBUSY;
	if (kvm_slot_can_be_private(slot))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * The host page that backs @gfn, as a vCPU's fault looks it up: 0 with
 * *@pfn, to be released by the caller, or the error the lookup met.
 */
static int tdp_export_lookup(struct kvm_memory_slot *slot, gfn_t gfn,
			     bool write, kvm_pfn_t *pfn, bool *writable)
{
	*pfn = __gfn_to_pfn_memslot(slot, gfn, false, true, NULL, write,
				    writable, NULL);
	if (is_sigpending_pfn(*pfn))
		return -EINTR;
	if (*pfn == KVM_PFN_ERR_HWPOISON)
		return -EHWPOISON;
	if (is_error_noslot_pfn(*pfn))
		return -EFAULT;
	return 0;
}

/* The largest leaf a vCPU's fault would map @gfn with; mmu_lock held. */
static int tdp_export_max_level(struct kvm *kvm,
				const struct kvm_memory_slot *slot, gfn_t gfn)
{
	/* as kvm_mmu_hugepage_adjust(): log 4 KiB pages */
	if (kvm_slot_dirty_track_enabled(slot))
		return PG_LEVEL_4K;
	return kvm_mmu_max_mapping_level(kvm, slot, gfn, KVM_MAX_HUGEPAGE_LEVEL);
}

/*
 * kvm_tdp_export_map() on x86: what a vCPU's TDP page fault on @gpa would do,
 * from VM context and into the exported root.  Called with
 * kvm->tdp_export.lock held (which protects the memory caches), while the
 * root is exported, by a task using the VM's mm.
 */
int kvm_arch_tdp_export_map(struct kvm *kvm, u64 gpa, bool write,
			    u64 *mapped_size)
{
	struct kvm_tdp_export_arch *state = &kvm->arch.tdp_export;
	gfn_t gfn = gpa_to_gfn(gpa);
	struct kvm_memory_slot *slot;
	unsigned long mmu_seq;
	int r, idx, max_level, level = 0;
	bool writable;
	kvm_pfn_t pfn;

	lockdep_assert_held(&kvm->tdp_export.lock);

	idx = srcu_read_lock(&kvm->srcu);

	slot = gfn_to_memslot(kvm, gfn);
	r = tdp_export_check_slot(slot, write);
	if (r)
		goto out;

	for (;;) {
		read_lock(&kvm->mmu_lock);
		level = kvm_tdp_mmu_mapped_level(kvm, state->root, gfn, write);
		read_unlock(&kvm->mmu_lock);
		if (level) {
			r = 0;
			break;
		}

		r = kvm_mmu_topup_memory_cache(&state->page_header_cache,
					       PT64_ROOT_MAX_LEVEL);
		if (!r)
			r = kvm_mmu_topup_memory_cache(&state->shadow_page_cache,
						       PT64_ROOT_MAX_LEVEL);
		if (r)
			break;

		/* Snapshot the notifier sequence before looking up the pfn. */
		mmu_seq = kvm->mmu_invalidate_seq;
		/* Pairs with kvm_mmu_invalidate_end(), as for vCPU faults. */
		smp_rmb();

		r = tdp_export_lookup(slot, gfn, write, &pfn, &writable);
		if (r)
			break;

		read_lock(&kvm->mmu_lock);
		if (mmu_invalidate_retry_gfn(kvm, mmu_seq, gfn)) {
			r = -EAGAIN;
		} else {
			/* Host mapping level is stable with mmu_lock held. */
			max_level = tdp_export_max_level(kvm, slot, gfn);
			r = kvm_tdp_mmu_map_no_vcpu(kvm, state->root, slot, gfn,
						    pfn, write, writable,
						    max_level,
						    &state->page_header_cache,
						    &state->shadow_page_cache,
						    &level);
		}
		read_unlock(&kvm->mmu_lock);
		kvm_release_pfn_clean(pfn);

		if (r != -EAGAIN)
			break;
		if (signal_pending(current)) {
			r = -EINTR;
			break;
		}
		cond_resched();
	}

	if (!r)
		*mapped_size = KVM_HPAGE_SIZE(level);
out:
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}

/* The most GFNs kvm_arch_tdp_export_map_range() maps in one batch. */
#define TDP_EXPORT_BATCH	64

/*
 * kvm_tdp_export_map_range() on x86, one batch: GFNs from @gfn up to
 * @end, the end of @gfn's 2 MiB-aligned block and of its memslot, at most
 * TDP_EXPORT_BATCH of them, mapped as kvm_arch_tdp_export_map() maps each
 * one, with one memslot lookup, one memory cache top-up, the host pages
 * looked up in a row and one walk of the root for all of them (the
 * single-GFN path where a huge page can map them).
 *
 * Called with kvm->tdp_export.lock held (which protects the memory
 * caches), while the root is exported, by a task using the VM's mm.
 * Return: 0 with *@mapped (> 0) GFNs from @gfn now mapped, possibly beyond
 * @end (a huge page); else the error for GFN @gfn + *@mapped, the GFNs
 * before it being mapped.
 */
static int tdp_export_map_batch(struct kvm *kvm, gfn_t gfn, gfn_t end,
				bool write, u64 *mapped)
{
	struct kvm_tdp_export_arch *state = &kvm->arch.tdp_export;
	const gfn_t block = KVM_PAGES_PER_HPAGE(PG_LEVEL_2M);
	kvm_pfn_t pfns[TDP_EXPORT_BATCH];
	int r, lookup_r, idx, i, n, level, max_level, done;
	struct kvm_memory_slot *slot;
	unsigned long mmu_seq;
	u64 host_writable;
	bool writable;

	lockdep_assert_held(&kvm->tdp_export.lock);

	*mapped = 0;
	idx = srcu_read_lock(&kvm->srcu);

	slot = gfn_to_memslot(kvm, gfn);
	r = tdp_export_check_slot(slot, write);
	if (r)
		goto out;

	end = min_t(gfn_t, end, slot->base_gfn + slot->npages);
	end = min_t(gfn_t, end, (gfn | (block - 1)) + 1);
	end = min_t(gfn_t, end, gfn + TDP_EXPORT_BATCH);

	for (;;) {
		/* As the single-GFN path: a mapped first GFN is left alone. */
		read_lock(&kvm->mmu_lock);
		level = kvm_tdp_mmu_mapped_level(kvm, state->root, gfn, write);
		max_level = level ? 0 : tdp_export_max_level(kvm, slot, gfn);
		read_unlock(&kvm->mmu_lock);
		if (level) {
			*mapped = KVM_PAGES_PER_HPAGE(level) -
				  (gfn & (KVM_PAGES_PER_HPAGE(level) - 1));
			r = 0;
			break;
		}
		/* A huge page will map the block: look up one page only. */
		n = max_level > PG_LEVEL_4K ? 1 : end - gfn;

		/* One path of page tables, plus one huge page split. */
		r = kvm_mmu_topup_memory_cache(&state->page_header_cache,
					       PT64_ROOT_MAX_LEVEL);
		if (!r)
			r = kvm_mmu_topup_memory_cache(&state->shadow_page_cache,
						       PT64_ROOT_MAX_LEVEL);
		if (r)
			break;

		/* Snapshot the notifier sequence before looking up the pfns. */
		mmu_seq = kvm->mmu_invalidate_seq;
		/* Pairs with kvm_mmu_invalidate_end(), as for vCPU faults. */
		smp_rmb();

		host_writable = 0;
		lookup_r = 0;
		for (i = 0; i < n; i++) {
			lookup_r = tdp_export_lookup(slot, gfn + i, write,
						     &pfns[i], &writable);
			if (lookup_r)
				break;
			if (writable)
				host_writable |= BIT_ULL(i);
		}
		/* Map what was looked up; the error is for the GFN after. */
		n = i;
		if (!n) {
			r = lookup_r;
			break;
		}

		done = 0;
		read_lock(&kvm->mmu_lock);
		/* Only GFNs no invalidation has touched since the snapshot. */
		for (i = 0; i < n; i++)
			if (mmu_invalidate_retry_gfn(kvm, mmu_seq, gfn + i))
				break;
		if (!i) {
			r = -EAGAIN;
		} else {
			/* Host mapping level is stable with mmu_lock held. */
			max_level = tdp_export_max_level(kvm, slot, gfn);
			if (max_level > PG_LEVEL_4K) {
				r = kvm_tdp_mmu_map_no_vcpu(kvm, state->root,
							    slot, gfn, pfns[0],
							    write,
							    host_writable & 1,
							    max_level,
							    &state->page_header_cache,
							    &state->shadow_page_cache,
							    &level);
				if (!r)
					done = KVM_PAGES_PER_HPAGE(level) -
					       (gfn & (KVM_PAGES_PER_HPAGE(level) - 1));
			} else {
				r = kvm_tdp_mmu_map_range_no_vcpu(kvm,
								  state->root,
								  slot, gfn, i,
								  pfns,
								  host_writable,
								  write,
								  &state->page_header_cache,
								  &state->shadow_page_cache,
								  &done);
			}
		}
		read_unlock(&kvm->mmu_lock);
		for (i = 0; i < n; i++)
			kvm_release_pfn_clean(pfns[i]);

		*mapped = done;
		/* A lookup error is for the GFN after those looked up. */
		if (!r && done == n)
			r = lookup_r;
		if (r != -EAGAIN || done)
			break;
		if (signal_pending(current)) {
			r = -EINTR;
			break;
		}
		cond_resched();
	}

	/* Progress was made: the caller goes on from there. */
	if (r == -EAGAIN && *mapped)
		r = 0;
out:
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}

/*
 * kvm_tdp_export_map_range() on x86: maps a first part of the page-aligned
 * [@gpa, @gpa + @size), one batch (see tdp_export_map_batch()).  Called
 * with kvm->tdp_export.lock held, while the root is exported, by a task
 * using the VM's mm.
 * Return: 0 with *@mapped (> 0, at most @size) bytes from @gpa now mapped;
 * else the error for the page at @gpa + *@mapped, the pages before it
 * being mapped.
 */
int kvm_arch_tdp_export_map_range(struct kvm *kvm, u64 gpa, u64 size,
				  bool write, u64 *mapped)
{
	gfn_t gfn = gpa_to_gfn(gpa);
	u64 pages;
	int r;

	r = tdp_export_map_batch(kvm, gfn, gfn + (size >> PAGE_SHIFT), write,
				 &pages);
	*mapped = min_t(u64, pages << PAGE_SHIFT, size);
	return r;
}

/* kvm_tdp_export_zap() on x86: held leaves go too. */
void kvm_arch_tdp_export_zap(struct kvm *kvm, u64 gfn, u64 npages)
{
	write_lock(&kvm->mmu_lock);
	if (kvm_tdp_mmu_zap_exported_leafs(kvm, gfn, gfn + npages, false))
		kvm_flush_remote_tlbs_range(kvm, gfn, npages);
	write_unlock(&kvm->mmu_lock);
}

/*
 * kvm_tdp_export_map() logs the pages it makes writable from outside any
 * vCPU, into the slot's dirty bitmap, which only such a VM has (the function
 * refuses to log a page otherwise).  mark_page_dirty_in_slot() asks this.
 */
bool kvm_arch_allow_write_without_running_vcpu(struct kvm *kvm)
{
	return READ_ONCE(kvm->arch.tdp_export.root) &&
	       kvm_tdp_export_dma_loggable(kvm);
}

/*
 * KVM is about to report @slot's dirty pages (KVM_GET_DIRTY_LOG,
 * KVM_CLEAR_DIRTY_LOG): have the memslot listeners add the pages their
 * devices may have written, and report the exported root's leaves an IOMMU
 * marked dirty when a listener asks (see DOC: Dirty logging in
 * include/linux/kvm_tdp_export.h).  Called from kvm_arch_sync_dirty_log()
 * with slots_lock held.
 */
void kvm_tdp_export_sync_dirty_log(struct kvm *kvm,
				   struct kvm_memory_slot *slot)
{
	unsigned int ask;

	lockdep_assert_held(&kvm->slots_lock);

	if (slot->as_id != 0 || !slot->dirty_bitmap ||
	    !kvm_slot_dirty_track_enabled(slot))
		return;

	ask = kvm_tdp_export_log_dirty(kvm, slot->base_gfn, slot->npages,
				       slot->dirty_bitmap);

	/* Only where logging clears dirty bits do they mean "written since". */
	if (!(ask & KVM_TDP_DIRTY_SCAN) || !kvm_ad_enabled() ||
	    !kvm_cpu_dirty_log_size())
		return;

	read_lock(&kvm->mmu_lock);
	kvm_tdp_mmu_exported_dirty(kvm, slot);
	read_unlock(&kvm->mmu_lock);
}

/*
 * A memslot of address space 0 is deleted or moved and the fast zap, which
 * spares the exported root, was used: zap the slot's GFNs in the exported
 * root.  mmu_lock must be held for write.
 */
void kvm_tdp_export_zap_memslot(struct kvm *kvm,
				const struct kvm_memory_slot *slot)
{
	gfn_t end = slot->base_gfn + slot->npages;

	lockdep_assert_held_write(&kvm->mmu_lock);

	if (slot->as_id != 0)
		return;

	if (kvm_tdp_mmu_zap_exported_leafs(kvm, slot->base_gfn, end, false))
		kvm_flush_remote_tlbs_range(kvm, slot->base_gfn, slot->npages);
}

/*
 * The MMIO generation wrapped and the fast zap spared the exported root:
 * zap its MMIO SPTEs, which could otherwise match a new generation.
 */
void kvm_tdp_export_mmio_gen_wrapped(struct kvm *kvm)
{
	write_lock(&kvm->mmu_lock);
	if (kvm_tdp_mmu_zap_exported_mmio_sptes(kvm))
		kvm_flush_remote_tlbs(kvm);
	write_unlock(&kvm->mmu_lock);
}

/*
 * The NX huge page mitigation was toggled and the fast zap spared the
 * exported root: if it is now on, make the root's huge pages non-executable.
 */
void kvm_tdp_export_nx_huge_pages_changed(struct kvm *kvm)
{
	write_lock(&kvm->mmu_lock);
	if (kvm_tdp_mmu_exported_nx_huge_pages(kvm))
		kvm_flush_remote_tlbs(kvm);
	write_unlock(&kvm->mmu_lock);
}
