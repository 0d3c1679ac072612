/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of KVM's x86 TDP MMU for the host build, and the host stand-in
 * for KVM's side of include/linux/kvm_tdp_export.h.
 *
 * Tables live in emulated physical memory and hold the SPTEs of
 * kvm_spte.c (KVM 6.12's encodings).  Faults install 4 KiB leaves with
 * compare-and-exchange under mmu_lock held for read; zaps, write-protection
 * and root replacement take it for write.  Every flush calls the
 * registered importers synchronously: leaf changes with their GFN range,
 * unlinked tables (KVM_TDP_INV_TABLES) inside the RCU read side before
 * call_rcu() frees them, and root replacement through ->root_changed()
 * before the old root's pages are freed.  Freed table pages are poisoned.
 *
 * Guest memory: each memslot is backed by host pages allocated on first
 * touch.  kvm_model_discard() is the VMM's MADV_DONTNEED: the MMU
 * notifier zaps and flushes, and the old page is kept aside (as a second
 * mapping of a memfd would keep it observable) so tests can check that no
 * DMA reaches it afterwards.
 */
#ifndef __KT_KVM_MMU_H
#define __KT_KVM_MMU_H

#include "../kvm_iommu_internal.h"
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

struct kvm_model_slot {
	bool used;
	bool readonly;
	bool dirty_log;
	u64 base_gfn;
	u64 npages;
	u64 *backing;		/* host page HPA per GFN, 0 = never touched */
	u64 *discarded;		/* last page discarded per GFN, kept observable */
	unsigned long hva;	/* the VMM's mapping of the slot */
	struct page *pages;	/* per GFN, for pins */
};

struct kvm {
	struct file file;	/* the VM's file: private_data = this */
	int fd;
	unsigned int id;	/* index in the model registry, for HVAs */
	struct phys *pm;
	struct kspte_cfg cfg;
	pthread_rwlock_t mmu_lock;
	u64 root;		/* current root, 0 until needed */
	struct kvm_model_slot slots[KVM_MODEL_SLOTS];
	pthread_mutex_t importers_lock;	/* protects importers */
	struct list_head importers;
	/* KVM's slots_lock: serialises memslot changes; protects listeners */
	pthread_mutex_t slots_lock;
	struct list_head listeners;
	/* test knob: the next @skip_invalidate importer calls are dropped */
	int skip_invalidate;
	/* counters */
	u64 flushes, importer_calls, tables_freed, root_replacements;
	long table_pages;
	bool *destroyed;	/* set true when the VM is destroyed */
};

struct kvm *kvm_model_create(struct phys *pm, const struct kspte_cfg *cfg,
			     bool *destroyed);
/* The VMM closes the VM fd; the VM goes when its last reference does. */
void kvm_model_close(struct kvm *kvm);
int kvm_model_set_slot(struct kvm *kvm, unsigned int slot, u64 gpa, u64 size,
		       bool readonly);
int kvm_model_delete_slot(struct kvm *kvm, unsigned int slot);
/* KVM_MR_MOVE: same memory (same HVA), new GPA */
int kvm_model_move_slot(struct kvm *kvm, unsigned int slot, u64 new_gpa);
/* KVM_MR_FLAGS_ONLY with KVM_MEM_LOG_DIRTY_PAGES: on write-protects the slot */
int kvm_model_set_dirty_log(struct kvm *kvm, unsigned int slot, bool on);

/* A vCPU access: fault the page in as KVM would, then read or write it. */
int kvm_model_guest_write(struct kvm *kvm, u64 gpa, const void *buf, size_t len);
int kvm_model_guest_read(struct kvm *kvm, u64 gpa, void *buf, size_t len);
int kvm_model_fault(struct kvm *kvm, u64 gpa, bool write);
/* Host page backing @gpa (0 if never touched) and the last one discarded. */
u64 kvm_model_backing(struct kvm *kvm, u64 gpa);
u64 kvm_model_discarded(struct kvm *kvm, u64 gpa);

/* MMU-notifier style invalidation of host memory (MADV_DONTNEED). */
void kvm_model_discard(struct kvm *kvm, u64 gpa, u64 len);
/* Zap GFN range leaves; with @tables also unlink fully covered L1 tables. */
void kvm_model_zap(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables);
/* Dirty-logging style write protection of a GFN range. */
void kvm_model_wrprot(struct kvm *kvm, u64 gfn_start, u64 gfn_end);
/* Fast zap: a new root replaces the current one. */
int kvm_model_replace_root(struct kvm *kvm);

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
