/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of KVM's x86 TDP MMU for the host build, under the product's
 * exporter: the arch-neutral part (virt/iommufd/kvm_tdp_export.c: the
 * importers, the pending invalidation, the memslot listeners) and the x86
 * part (arch/x86/kvm-iommu/tdp_export.c: the kvm_arch_tdp_export_*() calls,
 * the format, kvm_tdp_export_map() faults, the dirty-log sync).  The model
 * provides the KVM interfaces tdp_export.c calls (declared by the shims in
 * include/x86-kvm/ and include/linux/kvm_host.h): upstream KVM's memslots
 * under SRCU, PFN lookup, MMU-notifier sequence, remote TLB flushes, and
 * the TDP MMU operations the series adds, with their contracts.
 *
 * Tables live in emulated physical memory and hold the SPTEs of
 * kvm_spte.c (KVM 6.12's encodings).  Faults install leaves with
 * compare-and-exchange under mmu_lock held for read: 4 KiB leaves, or a
 * 2 MiB leaf where the slot allows huge pages, the host memory behind the
 * 2 MiB region is one aligned contiguous block, dirty logging is off and
 * nothing is mapped there yet.  Every change that removes or downgrades a
 * translation or unlinks a table page takes mmu_lock for write and goes
 * the way KVM's does: hand each SPTE change to the product's
 * kvm_tdp_export_note_change() (arch/x86/kvm-iommu/tdp_mmu_export.c, which
 * records what importers must drop with kvm_tdp_export_record()), flush (kvm_tdp_export_flush(), which calls every importer's
 * ->invalidate(); a root replacement goes through
 * kvm_tdp_export_root_changed()), and only then free the unlinked table
 * pages (call_rcu(), still inside the RCU read side) and let host pages
 * be reused.  The changes: leaf zaps (kvm_model_zap(), memslot delete and
 * move, kvm_model_discard(), kvm_model_mm_event(); on the exported root
 * the product's kvm_tdp_export_zap_leafs(), which keeps or splits the
 * leaves importers hold), write-protection (kvm_model_wrprot(), dirty
 * logging), huge-page splits (a 2 MiB leaf becomes a table of 4 KiB
 * leaves; kvm_model_split(), dirty logging, a write fault on a
 * write-protected huge page while dirty logging), collapses (a table of
 * 4 KiB leaves becomes one 2 MiB leaf; kvm_model_collapse()) and root
 * replacement.  Freed table pages are poisoned.
 *
 * While a change is flushed it is published to the VT-d model
 * (vtd_change_publish(), vtd_change_verify()), which checks that no IOMMU
 * still caches anything the change took away; kvm->change_seq is odd
 * from the start of a change to the end of its flush, so a lockless
 * observer can tell a quiet period (see kvm_model_translate()).
 *
 * Guest memory: each memslot is backed by host pages allocated on first
 * touch; a slot created with KVM_MODEL_SLOT_HUGE gets an aligned 2 MiB
 * block for a 2 MiB region touched while wholly unbacked, as THP would.
 * kvm_model_discard() is the VMM's MADV_DONTNEED: the MMU notifier zaps
 * and flushes, and the old page is kept aside (as a second mapping of a
 * memfd would keep it observable) so tests can check that no DMA reaches
 * it afterwards; the one it kept before is freed then.
 *
 * Locking, outermost first:
 * - slots_lock (KVM's slots_lock): memslot changes, the listeners;
 * - tdp_export.lock (the exporter's): registration, kvm_tdp_export_map(),
 *   root replacement (kvm->root_page);
 * - srcu (KVM's SRCU over the memslots, here a reader-writer lock): read
 *   by kvm_tdp_export_map(), write around memslot changes;
 * - mmu_lock (rwlock, writers preferred): the tables; read for faults,
 *   write for changes; a slot's geometry (used, base_gfn, dirty_log)
 *   changes under it for write and is read under it, or locklessly with
 *   an acquire load of @used first; @skip_record;
 * - tdp_export.inv_lock (the exporter's): the importers, the pending
 *   invalidation;
 * - backing_lock (the host mm): every slot's backing[], discarded[] and
 *   pages[].hpa;
 * - the physical memory's lock.
 * Counters are updated under mmu_lock for write unless noted.
 */
#ifndef __KT_KVM_MMU_H
#define __KT_KVM_MMU_H

#include "../kvm_iommu_internal.h"
#include <linux/kvm_tdp_export.h>
#include <asm/kvm_host.h>
#include "kvm_spte.h"
#include "phys.h"

#define KVM_MODEL_SLOTS		8
#define KVM_MODEL_MAX		16
/* The VMM's mapping of guest memory: HVA = base + model id * 2^40 + GPA. */
#define KVM_MODEL_HVA_BASE	0x100000000000ULL
#define KVM_MODEL_HVA_SHIFT	40

/* A host page of guest memory, as pin_user_pages() hands it out. */
struct page {
	u64 hpa;
	int pins;
};

/* kvm_model_set_slot_flags() flags */
#define KVM_MODEL_SLOT_READONLY	(1u << 0)
#define KVM_MODEL_SLOT_HUGE	(1u << 1)	/* THP-like 2 MiB host blocks */
/*
 * What the VMM has at the slot's HVA, if not RAM: nothing yet; a device
 * BAR (VM_PFNMAP | VM_IO: KVM maps it, nothing can pin it); RAM mapped
 * read-only (KVM maps it read-only).  kvm_model_map_hva() maps RAM there.
 */
#define KVM_MODEL_SLOT_HVA_UNMAPPED	(1u << 2)
#define KVM_MODEL_SLOT_HVA_PFNMAP	(1u << 3)
#define KVM_MODEL_SLOT_HVA_RO		(1u << 4)
/* a file mapping beyond the file's end: a VMA, but every access SIGBUS */
#define KVM_MODEL_SLOT_HVA_SIGBUS	(1u << 5)
#define KVM_MODEL_SLOT_HVA_KINDS	(KVM_MODEL_SLOT_HVA_UNMAPPED | \
					 KVM_MODEL_SLOT_HVA_PFNMAP | \
					 KVM_MODEL_SLOT_HVA_RO | \
					 KVM_MODEL_SLOT_HVA_SIGBUS)
/*
 * one of KVM's own memslots (as x86 KVM's APIC access page): its id is
 * above the user slots', and KVM makes it as it makes the others
 */
#define KVM_MODEL_SLOT_KVM_INTERNAL	(1u << 6)

/* KVM's memslot, with the model's view of the VMM's memory behind it */
struct kvm_memory_slot {
	bool used;		/* atomic; see Locking */
	/*
	 * KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES as @readonly and
	 * @dirty_log say; changed under srcu for write too
	 */
	u32 flags;
	short as_id;		/* always 0: no SMM address space */
	short id;		/* the slot number */
	struct kvm *kvm;	/* the VM, for the PFN lookup */
	bool readonly;
	bool huge;		/* KVM_MODEL_SLOT_HUGE */
	bool dirty_log;
	/*
	 * KVM's dirty bitmap while @dirty_log (none with a ring without bitmap);
	 * bits set atomically, pointer changed under slots_lock and mmu_lock
	 */
	unsigned long *dirty_bitmap;
	u64 base_gfn;
	u64 npages;
	/* under backing_lock: */
	u64 *backing;		/* host page HPA per GFN, 0 = never touched */
	u64 *discarded;		/* last page discarded per GFN, kept observable */
	unsigned long hva;	/* the VMM's mapping of the slot */
	unsigned long userspace_addr;	/* KVM's name for @hva */
	unsigned int hva_kind;	/* KVM_MODEL_SLOT_HVA_*, 0: RAM */
	struct page *pages;	/* per GFN, for pins */
};

/*
 * kvm->srcu, KVM's SRCU over the memslots: a reader (srcu_read_lock()) sees
 * the slot it looked up unchanged until it unlocks; the model changes a
 * slot's geometry, flags and bitmap with it held for write, where KVM
 * installs new memslots and waits for readers (synchronize_srcu()).
 */
struct srcu_struct {
	pthread_rwlock_t rw;
};

struct kvm {
	struct file file;	/* the VM's file: private_data = this */
	int fd;
	unsigned int id;	/* index in the model registry, for HVAs */
	struct phys *pm;
	struct kspte_cfg cfg;
	rwlock_t mmu_lock;	/* see Locking */
	struct srcu_struct srcu;	/* see struct srcu_struct */
	pthread_mutex_t backing_lock;	/* the host mm: see Locking */
	/* current root, 0 until needed; written under mmu_lock (write), atomically */
	u64 root;
	u64 change_seq;		/* odd during a change and its flush; atomic */
	struct kvm_memory_slot slots[KVM_MODEL_SLOTS];
	/*
	 * KVM's x86 fields: the exporter's root (arch.tdp_export, the
	 * product's), the VM type; vCPU 0, whose root role the exporter
	 * copies; the shadow page describing the current root (@root_page.spt
	 * is @root's page, changed with tdp_export.lock and mmu_lock held)
	 */
	struct kvm_arch arch;
	struct kvm_vcpu vcpu0;
	struct kvm_mmu_page root_page;
	/*
	 * KVM's MMU-notifier sequence: bumped, under mmu_lock for write, at
	 * the end of every invalidation of the VMM's mapping (discard, mm
	 * events), after the host pages changed
	 */
	_Atomic unsigned long mmu_invalidate_seq;
	/* the exporter's state, and KVM's fields it uses */
	struct kvm_tdp_export_state tdp_export;
	struct mutex slots_lock;	/* serialises memslot changes */
	struct list_head memslot_listeners;	/* under slots_lock */
	struct mm_struct *mm;		/* the VMM's: &kt_mm */
	bool vm_dead;
	/*
	 * test knob: the model's TDP MMU forgets to record its next
	 * @skip_record changes (they are made, but their SPTE changes are not
	 * handed to kvm_tdp_export_note_change(), so no importer hears of them)
	 */
	int skip_record;
	/*
	 * the model's change a walk of the product's (tdp_mmu_export.c) is
	 * part of, or NULL: its SPTE changes are noted in it; mmu_lock (write)
	 */
	struct change *walk_change;
	/*
	 * test hook: called while a memslot create is between the listeners'
	 * prepare and commit (another VMM thread acting in that window)
	 */
	void (*mid_create)(struct kvm *kvm, void *arg);
	void *mid_create_arg;
	/*
	 * test hook: called by __gfn_to_pfn_memslot() after it looked up
	 * @gfn's host page, without the model's locks (another VMM thread
	 * acting between the exporter's lookups and its walk)
	 */
	void (*after_lookup)(struct kvm *kvm, u64 gfn, void *arg);
	void *after_lookup_arg;
	/* write-tracked GFNs (KVM's page-track), under mmu_lock */
#define KVM_MODEL_TRACKED	8
	u64 tracked[KVM_MODEL_TRACKED];
	unsigned int ntracked;
	/*
	 * counters, under mmu_lock (write), but for the atomic ones; flushes
	 * of a change, and the importers registered at each
	 */
	u64 flushes, importer_calls, root_replacements;
	u64 changes, splits, collapses;
	u64 tables_freed;	/* by RCU callbacks; atomic */
	/*
	 * kvm_model_mm_event() calls; pages it migrated; leaves importers
	 * held (kvm_tdp_export_importers_hold() said so; atomic)
	 */
	u64 mm_events, migrated, kept_leaves;
	u64 export_zaps;	/* kvm_tdp_export_zap() calls */
	u64 mmio_gen;		/* MMIO generation of new MMIO SPTEs; mmu_lock */
	u64 huge_faults;	/* 2 MiB leaves installed by faults; atomic */
	/* kvm_tdp_export_map()'s PFN lookups, by intent; atomic */
	u64 export_map_reads, export_map_writes;
	long table_pages;	/* atomic */
	bool *destroyed;	/* set true when the VM is destroyed */
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (without INITIALLY_SET) */
	bool manual_protect;
	/* KVM's dirty ring (entries, 0: none), with or without bitmaps */
	u32 dirty_ring_size;
	bool dirty_ring_with_bitmap;
	/* harvests, and those that scanned D bits for an importer; slots_lock */
	u64 dirty_harvests, dirty_scans;
};

struct kvm *kvm_model_create(struct phys *pm, const struct kspte_cfg *cfg,
			     bool *destroyed);
/* The VMM closes the VM fd; the VM goes when its last reference does. */
void kvm_model_close(struct kvm *kvm);
int kvm_model_set_slot(struct kvm *kvm, unsigned int slot, u64 gpa, u64 size,
		       bool readonly);
int kvm_model_set_slot_flags(struct kvm *kvm, unsigned int slot, u64 gpa, u64 size,
			     unsigned int flags);
int kvm_model_delete_slot(struct kvm *kvm, unsigned int slot);
/* The VMM mmaps RAM over the slot's HVA range (it had something else). */
int kvm_model_map_hva(struct kvm *kvm, unsigned int slot);
/* KVM_MR_MOVE: same memory (same HVA), new GPA */
int kvm_model_move_slot(struct kvm *kvm, unsigned int slot, u64 new_gpa);
/*
 * KVM_MR_FLAGS_ONLY with KVM_MEM_LOG_DIRTY_PAGES: on splits huge leaves and
 * write-protects the slot (PML: clears its D bits), but for leaves an
 * importer holds (patch 0008).
 */
int kvm_model_set_dirty_log(struct kvm *kvm, unsigned int slot, bool on);
/*
 * The host turns the NX huge page mitigation on or off (KVM's
 * set_nx_huge_pages()): with the VM's root exported, the fast zap spares
 * it and KVM calls kvm_tdp_export_nx_huge_pages_changed() (patch 0003);
 * otherwise the whole root is zapped.
 */
void kvm_model_set_nx_huge_pages(struct kvm *kvm, bool on);
/*
 * A vCPU's access to @gpa, which no memslot holds: with MMIO caching (the
 * VM's struct kspte_cfg), KVM installs an MMIO SPTE for it with the MMIO
 * generation, @kvm->mmio_gen (make_mmio_spte()).  -EINVAL without MMIO
 * caching or inside a memslot, -EEXIST where a leaf maps it, -ENOMEM.
 */
int kvm_model_mmio_fault(struct kvm *kvm, u64 gpa);
/*
 * The MMIO generation wraps to 0 (kvm_mmu_invalidate_mmio_sptes()): the
 * fast zap spares an exported root and KVM calls
 * kvm_tdp_export_mmio_gen_wrapped() (patch 0003); otherwise the whole root
 * is zapped.
 */
void kvm_model_mmio_gen_wrap(struct kvm *kvm);
int kvm_model_get_dirty_log(struct kvm *kvm, unsigned int slot, unsigned long *bitmap);
int kvm_model_clear_dirty_log(struct kvm *kvm, unsigned int slot, u64 first, u64 npages,
			      const unsigned long *bitmap);

/* A vCPU access: fault the page in as KVM would, then read or write it. */
int kvm_model_guest_write(struct kvm *kvm, u64 gpa, const void *buf, size_t len);
int kvm_model_guest_read(struct kvm *kvm, u64 gpa, void *buf, size_t len);
int kvm_model_fault(struct kvm *kvm, u64 gpa, bool write);
/* Host page backing @gpa (0 if never touched) and the last one discarded. */
u64 kvm_model_backing(struct kvm *kvm, u64 gpa);
u64 kvm_model_discarded(struct kvm *kvm, u64 gpa);

/* MMU-notifier style invalidation of host memory (MADV_DONTNEED). */
void kvm_model_discard(struct kvm *kvm, u64 gpa, u64 len);
/*
 * An MMU-notifier invalidation of the VMM's mapping of GPAs [@gpa, @gpa +
 * @len) with @event, as the host's memory management raises it: fork's
 * copy-on-write protection and mprotect (MMU_NOTIFY_PROTECTION_*),
 * soft-dirty clearing (MMU_NOTIFY_SOFT_DIRTY), and compaction, migration,
 * NUMA hinting, THP split and collapse attempts, KSM and reclaim
 * (MMU_NOTIFY_CLEAR).  KVM zaps the range's leaves, except those an
 * importer holds when mmu_notifier_event_keeps_pinned(@event).  With
 * @migrate, every page of the range that is not pinned then moves to a new
 * host page, its contents copied and the old page freed (poisoned), as
 * compaction, NUMA balancing and KSM do; pinned pages stay.
 * MMU_NOTIFY_DISCARD is kvm_model_discard().
 */
void kvm_model_mm_event(struct kvm *kvm, u64 gpa, u64 len, enum mmu_notifier_event event,
			bool migrate);
/* Zap GFN range leaves; with @tables also unlink fully covered L1 tables. */
void kvm_model_zap(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables);
/*
 * KVM's write tracking of @gpa's GFN (as KVMGT asks for): huge leaves over
 * it are split and it is write-protected; later writes to it are emulated
 * (a vCPU's and kvm_tdp_export_map()'s fail with -EPERM).  -ENOSPC when
 * the model tracks too many.
 */
int kvm_model_write_track(struct kvm *kvm, u64 gpa);
/* Dirty-logging style write protection of a GFN range. */
void kvm_model_wrprot(struct kvm *kvm, u64 gfn_start, u64 gfn_end);
/*
 * Split every 2 MiB leaf overlapping the range into a table of 4 KiB
 * leaves (write-protected within the range with @wrprot, as dirty logging
 * does); returns how many were split.
 */
int kvm_model_split(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool wrprot);
/*
 * Replace the table of 4 KiB leaves under the 2 MiB region holding @gfn by
 * one 2 MiB leaf; 0, or -EAGAIN when the region cannot be mapped huge.
 */
int kvm_model_collapse(struct kvm *kvm, u64 gfn);
/* Fast zap: a new root replaces the current one. */
int kvm_model_replace_root(struct kvm *kvm);
/* kvm->change_seq: odd while a change is being made and flushed. */
u64 kvm_model_change_seq(struct kvm *kvm);
/*
 * KVM's translation of @gpa now, read without mmu_lock inside RCU: the
 * host address and whether it is writable; false when nothing is mapped.
 * Only meaningful if kvm_model_change_seq() is the same even value
 * before and after.
 */
bool kvm_model_translate(struct kvm *kvm, u64 gpa, u64 *hpa, bool *writable);

/* The SPTE for @gpa at the level where the walk ends. */
u64 kvm_model_spte(struct kvm *kvm, u64 gpa, unsigned int *level);
/* The VMM's address of @gpa, and the reverse used by the pin stand-in. */
unsigned long kvm_model_hva(struct kvm *kvm, u64 gpa);
struct page *kvm_model_hva_to_page(unsigned long hva, bool write);
/* Pages of the VM currently pinned. */
long kvm_model_pinned(struct kvm *kvm);
/* Guest pages that have a host page behind them. */
long kvm_model_backed(struct kvm *kvm);

#endif /* __KT_KVM_MMU_H */
