// SPDX-License-Identifier: GPL-2.0
/*
 * A model of KVM's x86 TDP MMU, under the product's exporter (its
 * arch-neutral and x86 parts): see kvm_mmu.h.
 */
#include <linux/kvm_tdp_export.h>

#include "../standin/file.h"
#include "kvm_mmu.h"
/* KVM's MMU headers as the exporter's x86 side sees them (include/x86-kvm/) */
#include "../include/x86-kvm/mmu.h"
#include "../include/x86-kvm/mmu/spte.h"
#include "../include/x86-kvm/mmu/tdp_iter.h"
#include "../include/x86-kvm/mmu/tdp_mmu.h"
#include "../../../../arch/x86/kvm-iommu/tdp_export.h"
#include "vtd.h"

#define ENTRIES		512
#define HUGE_PAGES	512		/* 4 KiB pages in a 2 MiB region */
#define ADDR_MASK	GENMASK_ULL(51, 12)
#define ADDR_MASK_2M	GENMASK_ULL(51, 21)
#define SPTE_W		BIT_ULL(1)	/* writable, in NPT and EPT alike */

/* fault_once() results asking kvm_model_fault() to retry */
#define FAULT_RETRY		1	/* lost a race: try again */
#define FAULT_NEED_ROOT		2	/* no root yet: make one, try again */
#define FAULT_NEED_SPLIT	3	/* write to a huge leaf while logging */

static struct kvm *kvm_models[KVM_MODEL_MAX];
static pthread_mutex_t kvm_models_lock = PTHREAD_MUTEX_INITIALIZER;

static u64 *entry(struct kvm *kvm, u64 table, u64 gfn, unsigned int level)
{
	return (u64 *)phys_va(kvm->pm, table) + ((gfn >> (9 * (level - 1))) & 511);
}

/* GFNs an entry at @level covers */
static u64 span_of(unsigned int level)
{
	return 1ULL << (9 * (level - 1));
}

static u64 gfn_to_gpa(u64 gfn)
{
	return gfn > (~0ULL >> PAGE_SHIFT) ? ~0ULL : gfn << PAGE_SHIFT;
}

/*
 * A table page for entries of @level (0: not known until it is linked,
 * table_linked() then records it), all non-present.
 */
static u64 alloc_table(struct kvm *kvm, unsigned int level)
{
	u64 t = phys_alloc_kind(kvm->pm, 0, PHYS_TABLE), *e;
	unsigned int i;

	if (!t)
		return 0;
	phys_set_tag(kvm->pm, t, level);
	e = phys_va(kvm->pm, t);
	/* an IOMMU may read the page (through a stale cache): store atomically */
	for (i = 0; i < ENTRIES; i++)
		__atomic_store_n(&e[i], kspte_nonpresent(&kvm->cfg), __ATOMIC_RELAXED);
	__atomic_add_fetch(&kvm->table_pages, 1, __ATOMIC_RELAXED);
	return t;
}

/* A never-linked table page goes back at once. */
static void free_table_now(struct kvm *kvm, u64 table)
{
	phys_free(kvm->pm, table, 0);
	__atomic_sub_fetch(&kvm->table_pages, 1, __ATOMIC_RELAXED);
}

/* A table page unlinked by a change, freed once the change is flushed. */
struct table_free {
	struct rcu_head rcu;
	struct kvm *kvm;
	u64 table;
	struct table_free *next;
};

static void free_table_rcu(struct rcu_head *head)
{
	struct table_free *tf = container_of(head, struct table_free, rcu);

	phys_free(tf->kvm->pm, tf->table, 0);	/* poisons the page */
	__atomic_sub_fetch(&tf->kvm->table_pages, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tf->kvm->tables_freed, 1, __ATOMIC_RELAXED);
	free(tf);
}

static bool is_leaf(struct kvm *kvm, u64 spte, unsigned int level)
{
	return level == 1 || (spte & BIT_ULL(7));
}

static bool is_present(struct kvm *kvm, u64 spte)
{
	struct kspte_masks m;

	kspte_masks(&kvm->cfg, &m);
	return (spte & m.mmu_present) && spte != m.frozen;
}

/*
 * Put the table page @table (at @level) and every table below it on
 * @list, to be freed after the flush.
 */
static void unlink_tree(struct kvm *kvm, u64 table, unsigned int level,
			struct table_free **list)
{
	u64 *e = phys_va(kvm->pm, table);
	struct table_free *tf;
	unsigned int i;

	for (i = 0; level > 1 && i < ENTRIES; i++) {
		u64 old = __atomic_load_n(&e[i], __ATOMIC_ACQUIRE);

		if (is_present(kvm, old) && !is_leaf(kvm, old, level))
			unlink_tree(kvm, old & ADDR_MASK, level - 1, list);
	}
	tf = malloc(sizeof(*tf));
	if (WARN_ON(!tf))
		return;		/* leaks one page of the emulated platform */
	tf->kvm = kvm;
	tf->table = table;
	tf->next = *list;
	*list = tf;
}

/* Statistics: the importers a flush reaches, on the exporter's list. */
static unsigned int nr_importers(struct kvm *kvm)
{
	struct kvm_tdp_importer *imp;
	unsigned int n = 0;

	spin_lock(&kvm->tdp_export.inv_lock);
	list_for_each_entry(imp, &kvm->tdp_export.importers, node)
		n++;
	spin_unlock(&kvm->tdp_export.inv_lock);
	return n;
}

/*
 * ---- changes: record, flush, then free ----
 *
 * Every operation that may remove or downgrade a translation, or unlink a
 * table page, runs under mmu_lock held for write (and, when it unlinks
 * table pages, inside the RCU read side, as KVM's do):
 *	change_begin();
 *	... modify entries, change_spte() each, unlink_tree() ...
 *	change_flush();		kvm_tdp_export_flush() (the importers), the
 *				IOMMU model's checks, call_rcu()
 *	change_end();
 * change_spte() hands each SPTE change to the product's
 * kvm_tdp_export_note_change(), as KVM's TDP MMU does where it sets SPTEs
 * of the exported root (patch 0003), which records what importers must
 * drop with kvm_tdp_export_record().
 */
struct change {
	u64 start, end;		/* GFNs changed; start >= end: nothing */
	bool forget;		/* the @skip_record knob: no SPTE change noted */
	struct table_free *unlinked;
};

static void change_begin(struct kvm *kvm, struct change *c)
{
	c->start = ~0ULL;
	c->end = 0;
	c->forget = kvm->skip_record > 0;
	c->unlinked = NULL;
	kvm->changes++;
	__atomic_add_fetch(&kvm->change_seq, 1, __ATOMIC_SEQ_CST);	/* odd */
}

static void change_note(struct change *c, u64 gfn_start, u64 gfn_end)
{
	c->start = min(c->start, gfn_start);
	c->end = max(c->end, gfn_end);
}

/* The SPTE of @gfn at @level went from @old to @new, as part of @c. */
static void change_spte(struct kvm *kvm, struct change *c, u64 gfn, unsigned int level,
			u64 old, u64 new)
{
	change_note(c, gfn, gfn + span_of(level));
	if (!c->forget)
		kvm_tdp_export_note_change(kvm, gfn, level, old, new);
}

/*
 * Flush what @c changed (recorded SPTE by SPTE, but for the changes the
 * @skip_record knob makes it forget), only if something changed, as KVM's
 * TDP MMU flushes with kvm_tdp_export_flush().  The VT-d model checks the
 * caches over the requested range [@start, @end) widened to every entry
 * changed (a huge leaf reaching past it), at each wait descriptor on the
 * way and once the importers return; then the unlinked table pages are
 * handed to call_rcu(), which cannot free them before the caller leaves
 * the RCU read side.
 */
static void change_flush(struct kvm *kvm, struct change *c, u64 start, u64 end)
{
	struct vtd_table_change vc;
	struct table_free *tf, *next;

	if (c->start < c->end) {
		start = min(start, c->start);
		end = max(end, c->end);
		vc = (struct vtd_table_change){
			.root = kvm->root,
			.start = gfn_to_gpa(start),
			.end = gfn_to_gpa(end),
		};
		if (c->forget)
			kvm->skip_record--;
		kvm->flushes++;
		kvm->importer_calls += nr_importers(kvm);
		vtd_change_publish(&vc);
		kvm_tdp_export_flush(kvm);
		vtd_change_publish(NULL);
		vtd_change_verify(&vc);
	}
	for (tf = c->unlinked; tf; tf = next) {
		next = tf->next;
		call_rcu(&tf->rcu, free_table_rcu);
	}
	c->unlinked = NULL;
}

static void change_end(struct kvm *kvm)
{
	__atomic_add_fetch(&kvm->change_seq, 1, __ATOMIC_SEQ_CST);	/* even */
}

/**
 * kvm_model_change_seq() - the change counter
 * @kvm: the VM
 *
 * Return: kvm->change_seq, odd while a change (one that may remove or
 * downgrade a translation) is being made or flushed.
 */
u64 kvm_model_change_seq(struct kvm *kvm)
{
	return __atomic_load_n(&kvm->change_seq, __ATOMIC_SEQ_CST);
}

static struct kvm_memory_slot *find_slot(struct kvm *kvm, u64 gfn)
{
	unsigned int i;

	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_memory_slot *s = &kvm->slots[i];

		if (__atomic_load_n(&s->used, __ATOMIC_ACQUIRE) && gfn >= s->base_gfn &&
		    gfn < s->base_gfn + s->npages)
			return s;
	}
	return NULL;
}

/* The VM is going: no importer, no walker is left. */
static void free_tree(struct kvm *kvm, u64 table, unsigned int level)
{
	u64 *e = phys_va(kvm->pm, table);
	unsigned int i;

	for (i = 0; level > 1 && i < ENTRIES; i++)
		if (is_present(kvm, e[i]) && !is_leaf(kvm, e[i], level))
			free_tree(kvm, e[i] & ADDR_MASK, level - 1);
	free_table_now(kvm, table);
}

static void kvm_model_destroy(struct file *file)
{
	struct kvm *kvm = file->private_data;
	unsigned int i;

	/* kvm_mmu_pre_destroy_vm() */
	kvm_tdp_export_release(kvm);
	if (kvm->root)
		free_tree(kvm, kvm->root, kvm->cfg.root_level);
	kvm->root = 0;
	WARN_ON(!list_empty(&kvm->memslot_listeners));
	for (i = 0; i < KVM_MODEL_SLOTS; i++)
		kvm_model_delete_slot(kvm, i);
	rcu_barrier();
	pthread_mutex_lock(&kvm_models_lock);
	kvm_models[kvm->id] = NULL;
	pthread_mutex_unlock(&kvm_models_lock);
	if (kvm->destroyed)
		*kvm->destroyed = true;
	rwlock_destroy(&kvm->mmu_lock);
	pthread_rwlock_destroy(&kvm->srcu.rw);
	pthread_mutex_destroy(&kvm->backing_lock);
	mutex_destroy(&kvm->slots_lock);
	mutex_destroy(&kvm->tdp_export.lock);
	free(kvm);
}

struct kvm *kvm_model_create(struct phys *pm, const struct kspte_cfg *cfg,
			     bool *destroyed)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));
	union kvm_mmu_page_role role = { .level = cfg->root_level, .direct = 1 };
	struct kspte_masks m;

	if (!kvm)
		return NULL;
	kvm->pm = pm;
	kvm->cfg = *cfg;
	kvm->destroyed = destroyed;
	if (destroyed)
		*destroyed = false;
	/* changes must not starve behind a stream of faults */
	rwlock_init(&kvm->mmu_lock);
	pthread_rwlock_init(&kvm->srcu.rw, NULL);
	/* a default VM whose vCPU 0 has loaded its TDP MMU */
	kspte_masks(cfg, &m);
	kvm->arch.vm_type = KVM_X86_DEFAULT_VM;
	kvm->arch.shadow_mmio_value = m.mmio_value;
	kvm->vcpu0.kvm = kvm;
	kvm->vcpu0.arch.root_mmu.root_role = role;
	kvm->root_page.role = role;
	kvm->mmio_gen = 1;
	kvm->arch.tdp_export.page_header_cache.model_kvm = kvm;
	kvm->arch.tdp_export.shadow_page_cache.model_kvm = kvm;
	pthread_mutex_init(&kvm->backing_lock, NULL);
	/* kvm_create_vm() */
	mutex_init(&kvm->slots_lock);
	kvm_tdp_export_init(kvm);
	kvm->mm = &kt_mm;
	kvm->file.private_data = kvm;
	kvm->file.is_kvm = true;
	kvm->file.release = kvm_model_destroy;
	pthread_mutex_lock(&kvm_models_lock);
	for (kvm->id = 0; kvm->id < KVM_MODEL_MAX && kvm_models[kvm->id]; kvm->id++)
		;
	if (kvm->id < KVM_MODEL_MAX)
		kvm_models[kvm->id] = kvm;
	pthread_mutex_unlock(&kvm_models_lock);
	if (kvm->id == KVM_MODEL_MAX) {
		free(kvm);
		return NULL;
	}
	kvm->fd = kt_file_install(&kvm->file);
	if (kvm->fd < 0) {
		kvm_models[kvm->id] = NULL;
		free(kvm);
		return NULL;
	}
	return kvm;
}

void kvm_model_close(struct kvm *kvm)
{
	kt_file_close(kvm->fd);
}

/* ---- memslots, and the exporter's memslot notifications ---- */

/*
 * kvm_set_memslot() with patch 0005: KVM hands the change (@old, @new as
 * KVM's slots before and after) to the exporter's
 * kvm_tdp_export_memslot_prepare() first, makes the change, and ends it
 * with kvm_tdp_export_slots_end().  Called with slots_lock held.
 */
static int slots_prepare(struct kvm *kvm, const struct kvm_memory_slot *old,
			 const struct kvm_memory_slot *new, enum kvm_mr_change change,
			 struct kvm_tdp_memslot_notice *n)
{
	int ret = kvm_tdp_export_memslot_prepare(kvm, old, new, change, n);

	/* kvm_prepare_memory_region() fails after the listeners prepared */
	if (!ret && kt_should_fail("kvm_prepare_memory_region")) {
		kvm_tdp_export_slots_end(kvm, n, false);
		ret = -ENOMEM;
	}
	return ret;
}

static bool slot_overlaps(struct kvm *kvm, unsigned int skip, u64 gfn, u64 npages)
{
	unsigned int i;

	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_memory_slot *s = &kvm->slots[i];

		if (i != skip && __atomic_load_n(&s->used, __ATOMIC_ACQUIRE) &&
		    gfn < s->base_gfn + s->npages &&
		    s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

static void zap_locked(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables);
static int split_locked(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool wrprot);

int kvm_model_set_slot(struct kvm *kvm, unsigned int slot, u64 gpa, u64 size,
		       bool readonly)
{
	return kvm_model_set_slot_flags(kvm, slot, gpa, size,
					readonly ? KVM_MODEL_SLOT_READONLY : 0);
}

/**
 * kvm_model_set_slot_flags() - KVM_SET_USER_MEMORY_REGION, create
 * @kvm: the VM
 * @slot: slot number, below KVM_MODEL_SLOTS
 * @gpa: first GPA, page aligned
 * @size: bytes, page aligned
 * @flags: KVM_MODEL_SLOT_READONLY, KVM_MODEL_SLOT_HUGE (THP-like 2 MiB
 *	host blocks, so KVM may map 2 MiB leaves)
 *
 * Listeners prepare and commit as KVM's memslot notifications go.
 *
 * Return: 0; -EINVAL, -EEXIST (slot in use or overlapping), -ENOMEM, or a
 * listener's error.
 */
int kvm_model_set_slot_flags(struct kvm *kvm, unsigned int slot, u64 gpa, u64 size,
			     unsigned int flags)
{
	struct kvm_tdp_memslot_notice n;
	struct kvm_memory_slot *s;
	int ret;

	if (slot >= KVM_MODEL_SLOTS || !size || (gpa | size) & (PAGE_SIZE - 1))
		return -EINVAL;
	mutex_lock(&kvm->slots_lock);
	s = &kvm->slots[slot];
	ret = -EEXIST;
	if (s->used || slot_overlaps(kvm, slot, gpa >> PAGE_SHIFT, size >> PAGE_SHIFT))
		goto out_unlock;
	ret = -ENOMEM;
	s->backing = calloc(size >> PAGE_SHIFT, sizeof(u64));
	s->discarded = calloc(size >> PAGE_SHIFT, sizeof(u64));
	s->pages = calloc(size >> PAGE_SHIFT, sizeof(*s->pages));
	if (!s->backing || !s->discarded || !s->pages)
		goto out_free;
	s->hva = kvm_model_hva(kvm, gpa);
	s->userspace_addr = s->hva;
	s->id = flags & KVM_MODEL_SLOT_KVM_INTERNAL ? KVM_USER_MEM_SLOTS + slot : slot;
	s->base_gfn = gpa >> PAGE_SHIFT;
	s->npages = size >> PAGE_SHIFT;
	s->readonly = flags & KVM_MODEL_SLOT_READONLY;
	s->flags = s->readonly ? KVM_MEM_READONLY : 0;
	s->as_id = 0;
	s->kvm = kvm;
	s->huge = flags & KVM_MODEL_SLOT_HUGE;
	s->hva_kind = flags & KVM_MODEL_SLOT_HVA_KINDS;
	s->dirty_log = false;
	ret = slots_prepare(kvm, NULL, s, KVM_MR_CREATE, &n);
	if (ret) {
		u64 i;

		/* the VMM unmaps the memory it had prepared for the slot */
		for (i = 0; i < s->npages; i++) {
			WARN_ON(s->pages[i].pins);
			phys_free(kvm->pm, s->backing[i], 0);
		}
		goto out_free;
	}
	if (kvm->mid_create)
		kvm->mid_create(kvm, kvm->mid_create_arg);
	__atomic_store_n(&s->used, true, __ATOMIC_RELEASE);
	kvm_tdp_export_slots_end(kvm, &n, true);
	mutex_unlock(&kvm->slots_lock);
	return 0;

out_free:
	free(s->backing);
	free(s->discarded);
	free(s->pages);
	s->backing = s->discarded = NULL;
	s->pages = NULL;
out_unlock:
	mutex_unlock(&kvm->slots_lock);
	return ret;
}

/*
 * Take slots_lock for a change to an existing slot: the slot; NULL (and
 * the lock not held) if there is no such slot.
 */
static struct kvm_memory_slot *lock_used_slot(struct kvm *kvm, unsigned int slot)
{
	if (slot >= KVM_MODEL_SLOTS)
		return NULL;
	mutex_lock(&kvm->slots_lock);
	if (!kvm->slots[slot].used) {
		mutex_unlock(&kvm->slots_lock);
		return NULL;
	}
	return &kvm->slots[slot];
}

int kvm_model_delete_slot(struct kvm *kvm, unsigned int slot)
{
	struct kvm_tdp_memslot_notice n;
	struct kvm_memory_slot *s;
	int ret;
	u64 i;

	s = lock_used_slot(kvm, slot);
	if (!s)
		return -EINVAL;
	ret = slots_prepare(kvm, s, NULL, KVM_MR_DELETE, &n);
	if (ret)
		goto out_unlock;
	/*
	 * KVM invalidates the slot (no new faults), waits for the memslot
	 * readers (synchronize_srcu()), then zaps and flushes
	 */
	pthread_rwlock_wrlock(&kvm->srcu.rw);
	write_lock(&kvm->mmu_lock);
	__atomic_store_n(&s->used, false, __ATOMIC_RELEASE);
	zap_locked(kvm, s->base_gfn, s->base_gfn + s->npages, false);
	write_unlock(&kvm->mmu_lock);
	pthread_rwlock_unlock(&kvm->srcu.rw);
	kvm_tdp_export_slots_end(kvm, &n, true);
	/* The VMM frees the memory after the ioctl: nothing may pin it now */
	for (i = 0; i < s->npages; i++) {
		WARN_ON(s->pages[i].pins);
		phys_free(kvm->pm, s->backing[i], 0);
		phys_free(kvm->pm, s->discarded[i], 0);
	}
	free(s->backing);
	free(s->discarded);
	free(s->pages);
	free(s->dirty_bitmap);
	s->backing = s->discarded = NULL;
	s->pages = NULL;
	s->dirty_bitmap = NULL;
	s->dirty_log = false;
out_unlock:
	mutex_unlock(&kvm->slots_lock);
	return ret;
}

int kvm_model_move_slot(struct kvm *kvm, unsigned int slot, u64 new_gpa)
{
	struct kvm_tdp_memslot_notice n;
	struct kvm_memory_slot *s, new;
	u64 old_gfn;
	int ret;

	if (new_gpa & (PAGE_SIZE - 1))
		return -EINVAL;
	s = lock_used_slot(kvm, slot);
	if (!s)
		return -EINVAL;
	ret = -EEXIST;
	if (slot_overlaps(kvm, slot, new_gpa >> PAGE_SHIFT, s->npages))
		goto out_unlock;
	/* KVM's new slot: the old one at its new GFN */
	new = *s;
	new.base_gfn = new_gpa >> PAGE_SHIFT;
	ret = slots_prepare(kvm, s, &new, KVM_MR_MOVE, &n);
	if (ret)
		goto out_unlock;
	old_gfn = s->base_gfn;
	pthread_rwlock_wrlock(&kvm->srcu.rw);
	write_lock(&kvm->mmu_lock);
	__atomic_store_n(&s->used, false, __ATOMIC_RELEASE);
	zap_locked(kvm, old_gfn, old_gfn + s->npages, false);
	s->base_gfn = new_gpa >> PAGE_SHIFT;
	__atomic_store_n(&s->used, true, __ATOMIC_RELEASE);
	write_unlock(&kvm->mmu_lock);
	pthread_rwlock_unlock(&kvm->srcu.rw);
	kvm_tdp_export_slots_end(kvm, &n, true);
out_unlock:
	mutex_unlock(&kvm->slots_lock);
	return ret;
}

/*
 * kvm_mmu_zap_all_fast() after a change to @kvm's MMU settings, which the
 * caller made with mmu_lock held for write and drops: the fast zap spares
 * an exported root, for which KVM calls @exported (a hook of patch 0003);
 * else the model zaps its root whole.  slots_lock held.
 */
static void zap_all_fast_unlock(struct kvm *kvm, void (*exported)(struct kvm *kvm))
{
	bool is_exported = kvm->arch.tdp_export.root;

	lockdep_assert_held_write(&kvm->mmu_lock);
	if (!is_exported)
		zap_locked(kvm, 0, ~0ULL, true);
	write_unlock(&kvm->mmu_lock);
	if (is_exported)
		exported(kvm);
}

void kvm_model_set_nx_huge_pages(struct kvm *kvm, bool on)
{
	mutex_lock(&kvm->slots_lock);
	write_lock(&kvm->mmu_lock);
	kvm->cfg.nx_huge_pages = on;
	zap_all_fast_unlock(kvm, kvm_tdp_export_nx_huge_pages_changed);
	mutex_unlock(&kvm->slots_lock);
}

static int ensure_root(struct kvm *kvm);

int kvm_model_mmio_fault(struct kvm *kvm, u64 gpa)
{
	u64 gfn = gpa >> PAGE_SHIFT, table, old = 0, *e = NULL;
	unsigned int level;
	int ret;

	write_lock(&kvm->mmu_lock);
	ret = -EINVAL;
	if (!kvm->cfg.mmio_caching || find_slot(kvm, gfn))
		goto out;
	ret = ensure_root(kvm);
	if (ret)
		goto out;
	table = kvm->root;
	for (level = kvm->cfg.root_level; level >= 1; level--) {
		e = entry(kvm, table, gfn, level);
		old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		if (level == 1 || (is_present(kvm, old) && is_leaf(kvm, old, level)))
			break;
		if (!is_present(kvm, old)) {
			ret = -ENOMEM;
			table = alloc_table(kvm, level - 1);
			if (!table)
				goto out;
			__atomic_store_n(e, kspte_nonleaf(&kvm->cfg, table), __ATOMIC_RELEASE);
		} else {
			table = old & ADDR_MASK;
		}
	}
	ret = -EEXIST;
	if (is_present(kvm, old))
		goto out;
	__atomic_store_n(e, kspte_mmio(&kvm->cfg, gfn, kvm->mmio_gen), __ATOMIC_RELEASE);
	ret = 0;
out:
	write_unlock(&kvm->mmu_lock);
	return ret;
}

void kvm_model_mmio_gen_wrap(struct kvm *kvm)
{
	mutex_lock(&kvm->slots_lock);
	write_lock(&kvm->mmu_lock);
	kvm->mmio_gen = 0;
	zap_all_fast_unlock(kvm, kvm_tdp_export_mmio_gen_wrapped);
	mutex_unlock(&kvm->slots_lock);
}

static void log_start_locked(struct kvm *kvm, struct kvm_memory_slot *s);

int kvm_model_set_dirty_log(struct kvm *kvm, unsigned int slot, bool on)
{
	struct kvm_tdp_memslot_notice n;
	unsigned long *bitmap = NULL;
	struct kvm_memory_slot *s, new;
	int ret;

	s = lock_used_slot(kvm, slot);
	if (!s)
		return -EINVAL;
	if (s->dirty_log == on) {
		ret = 0;
		goto out_unlock;
	}
	/* KVM allocates the bitmap (unless the VM uses only a dirty ring) */
	if (on && (!kvm->dirty_ring_size || kvm->dirty_ring_with_bitmap)) {
		bitmap = calloc(BITS_TO_LONGS(s->npages), sizeof(long));
		if (!bitmap) {
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	/* KVM's new slot: the old one with the new flags */
	new = *s;
	new.flags = (s->flags & ~KVM_MEM_LOG_DIRTY_PAGES) | (on ? KVM_MEM_LOG_DIRTY_PAGES : 0);
	ret = slots_prepare(kvm, s, &new, KVM_MR_FLAGS_ONLY, &n);
	if (ret) {
		free(bitmap);
		goto out_unlock;
	}
	pthread_rwlock_wrlock(&kvm->srcu.rw);
	write_lock(&kvm->mmu_lock);
	s->dirty_log = on;
	s->flags = new.flags;
	if (on) {
		s->dirty_bitmap = bitmap;
		log_start_locked(kvm, s);
	} else {
		/*
		 * When logging stops, the vCPUs' writes make pages writable
		 * again (and kvm_model_collapse() recovers huge pages).
		 */
		bitmap = s->dirty_bitmap;
		s->dirty_bitmap = NULL;
	}
	write_unlock(&kvm->mmu_lock);
	pthread_rwlock_unlock(&kvm->srcu.rw);
	if (!on)
		free(bitmap);
	kvm_tdp_export_slots_end(kvm, &n, true);
out_unlock:
	mutex_unlock(&kvm->slots_lock);
	return ret;
}

/* Called with mmu_lock held for write. */
static int ensure_root(struct kvm *kvm)
{
	if (!kvm->root) {
		__atomic_store_n(&kvm->root, alloc_table(kvm, kvm->cfg.root_level),
				 __ATOMIC_RELEASE);
		if (kvm->root)
			kvm->root_page.spt = phys_va(kvm->pm, kvm->root);
	}
	return kvm->root ? 0 : -ENOMEM;
}

/* ---- host memory behind the slots (backing_lock) ---- */

/*
 * Index of the first page of the host 2 MiB block holding slot page @idx,
 * or ~0 when the slot is not THP-backed there (not KVM_MODEL_SLOT_HUGE, or
 * the aligned block reaches outside the slot's mapping).
 */
static u64 host_block(const struct kvm_memory_slot *s, u64 idx)
{
	u64 off = ((s->hva >> PAGE_SHIFT) + idx) & (HUGE_PAGES - 1);

	if (!s->huge || idx < off || idx - off + HUGE_PAGES > s->npages)
		return ~0ULL;
	return idx - off;
}

/*
 * The host page behind slot page @idx, allocated on first touch as the
 * host would: a whole aligned 2 MiB block when the page's THP-backed block
 * is untouched, else one 4 KiB page.  0 when memory runs out.  Called with
 * backing_lock held.
 */
static u64 backing_get(struct kvm *kvm, struct kvm_memory_slot *s, u64 idx)
{
	u64 first = host_block(s, idx), blk, i;

	if (s->backing[idx])
		return s->backing[idx];
	if (first != ~0ULL) {
		for (i = 0; i < HUGE_PAGES && !s->backing[first + i]; i++)
			;
		blk = i == HUGE_PAGES ? phys_alloc_kind(kvm->pm, 9, PHYS_GUEST) : 0;
		if (blk) {
			for (i = 0; i < HUGE_PAGES; i++)
				s->backing[first + i] = blk + i * PAGE_SIZE;
			return s->backing[idx];
		}
	}
	s->backing[idx] = phys_alloc_kind(kvm->pm, 0, PHYS_GUEST);
	return s->backing[idx];
}

/*
 * The 2 MiB block behind slot pages [@first, @first + 512) when they are
 * one aligned contiguous host block, else 0.  Called with backing_lock
 * held.
 */
static u64 backing_block(const struct kvm_memory_slot *s, u64 first)
{
	u64 b0 = s->backing[first], i;

	if (!b0 || !IS_ALIGNED(b0, HUGE_PAGES * PAGE_SIZE))
		return 0;
	for (i = 1; i < HUGE_PAGES; i++)
		if (s->backing[first + i] != b0 + i * PAGE_SIZE)
			return 0;
	return b0;
}

/*
 * The first slot index of @gfn's 2 MiB GFN region when KVM may map that
 * region with one 2 MiB leaf (the VM allows it, the slot is THP-backed
 * there with GPA and HVA aligned alike, no dirty logging), else ~0.
 * Called with mmu_lock held.
 */
static bool write_tracked(struct kvm *kvm, u64 gfn_start, u64 gfn_end)
{
	unsigned int i;

	for (i = 0; i < kvm->ntracked; i++)
		if (kvm->tracked[i] >= gfn_start && kvm->tracked[i] < gfn_end)
			return true;
	return false;
}

static u64 huge_region(struct kvm *kvm, const struct kvm_memory_slot *s, u64 gfn)
{
	u64 g0 = ALIGN_DOWN(gfn, HUGE_PAGES);

	if (kvm->cfg.max_leaf_level < 2 || s->dirty_log || g0 < s->base_gfn ||
	    g0 + HUGE_PAGES > s->base_gfn + s->npages)
		return ~0ULL;
	/* KVM disallows huge pages over write-tracked GFNs */
	if (write_tracked(kvm, g0, g0 + HUGE_PAGES))
		return ~0ULL;
	if (host_block(s, g0 - s->base_gfn) != g0 - s->base_gfn)
		return ~0ULL;
	return g0 - s->base_gfn;
}

/* ---- faults (mmu_lock held for read) ---- */

/*
 * Make @gfn present: a 2 MiB leaf for @huge_hpa when it is non-zero and
 * nothing is mapped at the 2 MiB level yet, else a 4 KiB leaf for @hpa;
 * writable with @writable.  A present 2 MiB leaf is made writable in
 * place, unless the slot logs dirty pages (then it must be split).
 * *@mapped: the size of the leaf that maps @gfn afterwards.
 */
static int map_gfn(struct kvm *kvm, const struct kvm_memory_slot *s, u64 gfn,
		   bool write, bool writable, u64 hpa, u64 huge_hpa, u64 *mapped,
		   bool *made_w)
{
	u64 table = kvm->root, *e, old, new;
	unsigned int level;

	*mapped = PAGE_SIZE;
	*made_w = false;
	for (level = kvm->cfg.root_level; level > 1; level--) {
		e = entry(kvm, table, gfn, level);
		old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		if (level == 2 && is_present(kvm, old) && is_leaf(kvm, old, 2)) {
			*mapped = HUGE_PAGES * PAGE_SIZE;
			if (!write || (old & SPTE_W))
				return 0;
			if (s->dirty_log)
				return FAULT_NEED_SPLIT;
			/* making a leaf writable needs no flush */
			new = kspte_leaf(&kvm->cfg, (old & ADDR_MASK_2M) >> PAGE_SHIFT, 2,
					 true, true, false, true);
			if (!__atomic_compare_exchange_n(e, &old, new, false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST))
				return FAULT_RETRY;
			*made_w = true;
			return 0;
		}
		if (level == 2 && huge_hpa && !is_present(kvm, old)) {
			new = kspte_leaf(&kvm->cfg, huge_hpa >> PAGE_SHIFT, 2, writable, true,
					 false, true);
			if (!__atomic_compare_exchange_n(e, &old, new, false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST))
				return FAULT_RETRY;
			__atomic_add_fetch(&kvm->huge_faults, 1, __ATOMIC_RELAXED);
			*mapped = HUGE_PAGES * PAGE_SIZE;
			*made_w = writable;
			return 0;
		}
		if (!is_present(kvm, old)) {
			u64 child = alloc_table(kvm, level - 1);

			if (!child)
				return -ENOMEM;
			if (!__atomic_compare_exchange_n(e, &old, kspte_nonleaf(&kvm->cfg, child),
							 false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST))
				free_table_now(kvm, child);	/* lost the race */
			old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
			if (!is_present(kvm, old) || is_leaf(kvm, old, level))
				return FAULT_RETRY;
		}
		table = old & ADDR_MASK;
	}
	e = entry(kvm, table, gfn, 1);
	old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
	new = kspte_leaf(&kvm->cfg, hpa >> PAGE_SHIFT, 1, writable, true, false, true);
	if (is_present(kvm, old) && (old & ADDR_MASK) == hpa && (!writable || (old & SPTE_W)))
		return 0;
	/* KVM zaps (and flushes) before it changes a PFN */
	if (WARN_ON(is_present(kvm, old) && (old & ADDR_MASK) != hpa))
		return -EIO;
	if (!__atomic_compare_exchange_n(e, &old, new, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return FAULT_RETRY;
	*made_w = writable;
	return 0;
}

/* The entry of @gfn's leaf, or NULL; mmu_lock held. */
static u64 *leaf_entry(struct kvm *kvm, u64 gfn, unsigned int *level)
{
	u64 table = kvm->root, *e, spte;
	unsigned int l;

	for (l = kvm->cfg.root_level; table && l >= 1; l--) {
		e = entry(kvm, table, gfn, l);
		spte = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		if (!is_present(kvm, spte))
			return NULL;
		if (is_leaf(kvm, spte, l)) {
			*level = l;
			return e;
		}
		table = spte & ADDR_MASK;
	}
	return NULL;
}

/* mark_page_dirty_in_slot(): mmu_lock held, or slots_lock */
static void mark_dirty(struct kvm_memory_slot *s, u64 gfn)
{
	if (s->dirty_bitmap)
		set_bit_le(gfn - s->base_gfn, s->dirty_bitmap);
}

static int fault_once(struct kvm *kvm, u64 gfn, bool write, u64 *mapped)
{
	struct kvm_memory_slot *s;
	u64 idx, first, hpa, huge_hpa = 0;
	bool writable, made_w, host_ro;
	int ret;

	read_lock(&kvm->mmu_lock);
	s = find_slot(kvm, gfn);
	if (!s) {
		ret = -ENOENT;
		goto out;
	}
	if (write && s->readonly) {
		ret = -EFAULT;
		goto out;
	}
	if (!kvm->root) {
		ret = FAULT_NEED_ROOT;
		goto out;
	}
	idx = gfn - s->base_gfn;
	first = huge_region(kvm, s, gfn);
	pthread_mutex_lock(&kvm->backing_lock);
	/* __gfn_to_pfn_memslot(): nothing mapped, or a write to a read-only VMA */
	if ((s->hva_kind & (KVM_MODEL_SLOT_HVA_UNMAPPED | KVM_MODEL_SLOT_HVA_SIGBUS)) ||
	    (write && (s->hva_kind & KVM_MODEL_SLOT_HVA_RO))) {
		pthread_mutex_unlock(&kvm->backing_lock);
		ret = -EFAULT;
		goto out;
	}
	host_ro = s->hva_kind & KVM_MODEL_SLOT_HVA_RO;
	hpa = backing_get(kvm, s, idx);
	if (hpa && first != ~0ULL)
		huge_hpa = backing_block(s, first);
	pthread_mutex_unlock(&kvm->backing_lock);
	ret = -ENOMEM;
	if (!hpa)
		goto out;
	/* a write to a write-tracked GFN is emulated, never mapped */
	ret = -EPERM;
	if (write && write_tracked(kvm, gfn, gfn + 1))
		goto out;
	/* while logging, KVM maps writable only on a write, to log it */
	writable = !s->readonly && !host_ro && (write || !s->dirty_log) &&
		   !write_tracked(kvm, gfn, gfn + 1);
	ret = map_gfn(kvm, s, gfn, write, writable, hpa, huge_hpa, mapped, &made_w);
	/* dirty logging: a leaf made writable is logged (make_spte()) */
	if (!ret && s->dirty_log && made_w)
		mark_dirty(s, gfn);
out:
	read_unlock(&kvm->mmu_lock);
	return ret;
}

static int fault(struct kvm *kvm, u64 gpa, bool write, u64 *mapped)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	int ret;

	for (;;) {
		ret = fault_once(kvm, gfn, write, mapped);
		if (ret == FAULT_NEED_ROOT) {
			write_lock(&kvm->mmu_lock);
			ret = ensure_root(kvm);
			write_unlock(&kvm->mmu_lock);
			if (ret)
				return ret;
		} else if (ret == FAULT_NEED_SPLIT) {
			/* KVM's fault path splits the huge page (and flushes) */
			write_lock(&kvm->mmu_lock);
			ret = split_locked(kvm, ALIGN_DOWN(gfn, HUGE_PAGES),
					   ALIGN_DOWN(gfn, HUGE_PAGES) + HUGE_PAGES, false);
			write_unlock(&kvm->mmu_lock);
			if (ret < 0)
				return ret;
		} else if (ret != FAULT_RETRY) {
			return ret;
		}
	}
}

int kvm_model_fault(struct kvm *kvm, u64 gpa, bool write)
{
	u64 mapped;

	return fault(kvm, gpa, write, &mapped);
}

/*
 * A vCPU's write to @gpa completed: while its slot logs, the write is
 * logged (with PML the CPU sets the leaf's D bit and logs the GPA; without,
 * the write fault that made the leaf writable did, and logging it again
 * after the store covers a harvest that write-protected the page between
 * that fault and the store, after which the vCPU would have faulted again).
 */
static void log_vcpu_write(struct kvm *kvm, u64 gpa)
{
	u64 gfn = gpa >> PAGE_SHIFT, *e;
	struct kvm_memory_slot *s;
	struct kspte_masks m;
	unsigned int level;

	read_lock(&kvm->mmu_lock);
	s = find_slot(kvm, gfn);
	if (s && s->dirty_log) {
		kspte_masks(&kvm->cfg, &m);
		e = kvm->cfg.pml ? leaf_entry(kvm, gfn, &level) : NULL;
		if (e)
			__atomic_or_fetch(e, m.dirty, __ATOMIC_SEQ_CST);
		mark_dirty(s, gfn);
	}
	read_unlock(&kvm->mmu_lock);
}

static int guest_access(struct kvm *kvm, u64 gpa, void *buf, size_t len, bool write)
{
	while (len) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		int ret = kvm_model_fault(kvm, gpa, write);
		u64 hpa;

		if (ret)
			return ret;
		hpa = kvm_model_backing(kvm, gpa) + (gpa & (PAGE_SIZE - 1));
		/* a vCPU's accesses race with DMA as hardware's do */
		if (write) {
			phys_copy(phys_va(kvm->pm, hpa), buf, chunk);
			log_vcpu_write(kvm, gpa);
		} else {
			phys_copy(buf, phys_va(kvm->pm, hpa), chunk);
		}
		gpa += chunk;
		buf = (u8 *)buf + chunk;
		len -= chunk;
	}
	return 0;
}

int kvm_model_guest_write(struct kvm *kvm, u64 gpa, const void *buf, size_t len)
{
	return guest_access(kvm, gpa, (void *)buf, len, true);
}

int kvm_model_guest_read(struct kvm *kvm, u64 gpa, void *buf, size_t len)
{
	return guest_access(kvm, gpa, buf, len, false);
}

/* One of a slot's per-page HPAs for @gpa, read under backing_lock. */
static u64 slot_page(struct kvm *kvm, u64 gpa, bool discarded)
{
	struct kvm_memory_slot *s;
	u64 hpa = 0;

	pthread_mutex_lock(&kvm->backing_lock);
	s = find_slot(kvm, gpa >> PAGE_SHIFT);
	if (s)
		hpa = (discarded ? s->discarded : s->backing)[(gpa >> PAGE_SHIFT) - s->base_gfn];
	pthread_mutex_unlock(&kvm->backing_lock);
	return hpa;
}

u64 kvm_model_backing(struct kvm *kvm, u64 gpa)
{
	return slot_page(kvm, gpa, false);
}

u64 kvm_model_discarded(struct kvm *kvm, u64 gpa)
{
	return slot_page(kvm, gpa, true);
}

/* ---- changes (mmu_lock held for write, inside the RCU read side) ---- */

/*
 * Whether an importer holds the pages of the leaf at @gfn (@npages pages
 * from host address @hpa) pinned: tdp_export.h's kvm_tdp_export_holds(),
 * which asks the exporter.
 */
static bool importer_holds(struct kvm *kvm, u64 gfn, u64 npages, u64 hpa)
{
	return kvm_tdp_export_importers_hold(kvm, gfn, npages, hpa >> PAGE_SHIFT);
}

/*
 * The product's kvm_tdp_export_importers_hold() (kvm_tdp_export.c), called
 * through the linker's --wrap: the model counts the leaves importers held.
 */
bool __real_kvm_tdp_export_importers_hold(struct kvm *kvm, u64 gfn, u64 npages, u64 pfn);
bool __wrap_kvm_tdp_export_importers_hold(struct kvm *kvm, u64 gfn, u64 npages, u64 pfn);
bool __wrap_kvm_tdp_export_importers_hold(struct kvm *kvm, u64 gfn, u64 npages, u64 pfn)
{
	bool held = __real_kvm_tdp_export_importers_hold(kvm, gfn, npages, pfn);

	if (held)
		__atomic_add_fetch(&kvm->kept_leaves, 1, __ATOMIC_RELAXED);
	return held;
}

/*
 * Zap leaves in [gfn_start, gfn_end), as tdp_mmu_zap_leafs() does on a
 * root that is not exported; with @tables also unlink covered L1 tables.
 */
static void zap_range(struct kvm *kvm, u64 table, unsigned int level, u64 base,
		      u64 gfn_start, u64 gfn_end, bool tables, struct change *c)
{
	u64 span = span_of(level);
	unsigned int i;

	for (i = 0; i < ENTRIES; i++) {
		u64 gfn = base + i * span, *e;
		u64 old;

		if (gfn + span <= gfn_start || gfn >= gfn_end)
			continue;
		e = (u64 *)phys_va(kvm->pm, table) + i;
		old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		if (!is_present(kvm, old))
			continue;
		if (is_leaf(kvm, old, level)) {
			/* a huge leaf goes whole, whatever part of it was asked for */
			__atomic_store_n(e, kspte_nonpresent(&kvm->cfg), __ATOMIC_RELEASE);
			change_spte(kvm, c, gfn, level, old, kspte_nonpresent(&kvm->cfg));
		} else if (tables && level == 2 && gfn >= gfn_start && gfn + span <= gfn_end) {
			/* unlink the whole L1 table; freed after the flush */
			__atomic_store_n(e, kspte_nonpresent(&kvm->cfg), __ATOMIC_RELEASE);
			unlink_tree(kvm, old & ADDR_MASK, level - 1, &c->unlinked);
			change_spte(kvm, c, gfn, level, old, kspte_nonpresent(&kvm->cfg));
		} else {
			zap_range(kvm, old & ADDR_MASK, level - 1, gfn, gfn_start, gfn_end,
				  tables, c);
		}
	}
}

/*
 * Called with mmu_lock held for write.  On the exported root, the leaf zap
 * is the product's kvm_tdp_export_zap_leafs() (tdp_mmu_zap_leafs() hands
 * it the root, patch 0007), which keeps the leaves an importer holds with
 * @keep_held (an MMU-notifier event that cannot change a pinned page) and
 * splits a held huge leaf the range cuts; with @tables, the model then
 * unlinks the covered L1 tables it emptied.  The model's zaps do not yield
 * mmu_lock (can_yield false): each is one change, made and flushed in one
 * critical section, and an MMU-notifier zap has no
 * mmu_invalidate_in_progress here to keep faults off while it yielded.
 */
static void zap_keep_locked(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables,
			    bool keep_held)
{
	struct kvm_mmu_page *exported = kvm_tdp_export_root(kvm);
	struct change c;

	lockdep_assert_held_write(&kvm->mmu_lock);
	if (!kvm->root)
		return;
	change_begin(kvm, &c);
	rcu_read_lock();
	if (exported) {
		kvm->walk_change = &c;
		kvm_tdp_export_zap_leafs(kvm, exported, gfn_start,
					 min_t(u64, gfn_end, kvm_mmu_max_gfn() + 1), false,
					 false, keep_held);
		kvm->walk_change = NULL;
	}
	if (!exported || tables)
		zap_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn_start, gfn_end, tables,
			  &c);
	change_flush(kvm, &c, gfn_start, gfn_end);
	/* the unlinked tables' RCU callbacks cannot run before this */
	rcu_read_unlock();
	change_end(kvm);
}

static void zap_locked(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables)
{
	zap_keep_locked(kvm, gfn_start, gfn_end, tables, false);
}

void kvm_model_zap(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables)
{
	write_lock(&kvm->mmu_lock);
	zap_locked(kvm, gfn_start, gfn_end, tables);
	write_unlock(&kvm->mmu_lock);
}

/*
 * Move slot page @idx to a new host page, as migration does, unless it is
 * pinned (the pin's reference fails the migration); a THP-like block is
 * split up (its other pages stay).  Called with backing_lock held, after
 * the MMU-notifier zap.
 */
static void migrate_page(struct kvm *kvm, struct kvm_memory_slot *s, u64 idx)
{
	u64 old = s->backing[idx], new;

	/* a pin holds the page it was taken on, not whatever the GFN maps now */
	if (!old ||
	    (__atomic_load_n(&s->pages[idx].pins, __ATOMIC_SEQ_CST) && s->pages[idx].hpa == old))
		return;
	new = phys_alloc_kind(kvm->pm, 0, PHYS_GUEST);
	if (!new)
		return;		/* no memory: the migration fails */
	memcpy(phys_va(kvm->pm, new), phys_va(kvm->pm, old), PAGE_SIZE);
	s->backing[idx] = new;
	phys_free(kvm->pm, old, 0);	/* poisoned: a stale use shows */
	kvm->migrated++;
}

void kvm_model_mm_event(struct kvm *kvm, u64 gpa, u64 len, enum mmu_notifier_event event,
			bool migrate)
{
	u64 gfn, start = gpa >> PAGE_SHIFT, end = (gpa + len + PAGE_SIZE - 1) >> PAGE_SHIFT;

	if (event == MMU_NOTIFY_DISCARD) {
		kvm_model_discard(kvm, gpa, len);
		return;
	}
	/* invalidate_range_start, then what the mm does to the pages */
	write_lock(&kvm->mmu_lock);
	zap_keep_locked(kvm, start, end, false, mmu_notifier_event_keeps_pinned(event));
	kvm->mm_events++;
	pthread_mutex_lock(&kvm->backing_lock);
	for (gfn = start; migrate && gfn < end; gfn++) {
		struct kvm_memory_slot *s = find_slot(kvm, gfn);

		if (s)
			migrate_page(kvm, s, gfn - s->base_gfn);
	}
	pthread_mutex_unlock(&kvm->backing_lock);
	/*
	 * invalidate_range_end: a PFN looked up before this, even during the
	 * change above, is not mapped (mmu_invalidate_retry_gfn())
	 */
	kvm->mmu_invalidate_seq++;
	write_unlock(&kvm->mmu_lock);
}

void kvm_model_discard(struct kvm *kvm, u64 gpa, u64 len)
{
	u64 gfn, start = gpa >> PAGE_SHIFT, end = (gpa + len + PAGE_SIZE - 1) >> PAGE_SHIFT;

	/* invalidate_range_start (MMU_NOTIFY_DISCARD): zap and flush before the pages go */
	write_lock(&kvm->mmu_lock);
	zap_locked(kvm, start, end, false);
	pthread_mutex_lock(&kvm->backing_lock);
	for (gfn = start; gfn < end; gfn++) {
		struct kvm_memory_slot *s = find_slot(kvm, gfn);
		u64 *page, *old;

		if (!s)
			continue;
		page = &s->backing[gfn - s->base_gfn];
		old = &s->discarded[gfn - s->base_gfn];
		phys_free(kvm->pm, *old, 0);
		*old = *page;		/* still observable, like a memfd's other mapping */
		*page = 0;
		/* a pinned page stays the pinner's; the next touch gets a new one */
	}
	pthread_mutex_unlock(&kvm->backing_lock);
	/* invalidate_range_end, as in kvm_model_mm_event() */
	kvm->mmu_invalidate_seq++;
	write_unlock(&kvm->mmu_lock);
}

static void wrprot_range(struct kvm *kvm, u64 table, unsigned int level, u64 base,
			 u64 gfn_start, u64 gfn_end, bool keep_held, struct change *c)
{
	u64 span = span_of(level);
	unsigned int i;

	for (i = 0; i < ENTRIES; i++) {
		u64 gfn = base + i * span, *e = (u64 *)phys_va(kvm->pm, table) + i;
		u64 old = __atomic_load_n(e, __ATOMIC_ACQUIRE);

		if (gfn + span <= gfn_start || gfn >= gfn_end || !is_present(kvm, old))
			continue;
		if (!is_leaf(kvm, old, level)) {
			wrprot_range(kvm, old & ADDR_MASK, level - 1, gfn, gfn_start, gfn_end,
				     keep_held, c);
		} else if ((old & SPTE_W) &&
			   !(keep_held && importer_holds(kvm, gfn, span,
							 old & (level == 2 ? ADDR_MASK_2M :
								ADDR_MASK)))) {
			/* a huge leaf is write-protected whole */
			__atomic_store_n(e, kspte_wrprot(&kvm->cfg, old), __ATOMIC_RELEASE);
			change_spte(kvm, c, gfn, level, old, kspte_wrprot(&kvm->cfg, old));
		}
	}
}

static int split_range(struct kvm *kvm, u64 table, unsigned int level, u64 base,
		       u64 gfn_start, u64 gfn_end, bool wrprot, struct change *c);

int kvm_model_write_track(struct kvm *kvm, u64 gpa)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	struct change c;

	write_lock(&kvm->mmu_lock);
	if (kvm->ntracked == KVM_MODEL_TRACKED) {
		write_unlock(&kvm->mmu_lock);
		return -ENOSPC;
	}
	kvm->tracked[kvm->ntracked++] = gfn;
	/* as kvm_write_track_add_gfn(): no writable leaf maps it any more */
	if (kvm->root) {
		change_begin(kvm, &c);
		split_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn, gfn + 1,
			    true, &c);
		wrprot_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn, gfn + 1, false, &c);
		change_flush(kvm, &c, gfn, gfn + 1);
		change_end(kvm);
	}
	write_unlock(&kvm->mmu_lock);
	return 0;
}

void kvm_model_wrprot(struct kvm *kvm, u64 gfn_start, u64 gfn_end)
{
	struct change c;

	write_lock(&kvm->mmu_lock);
	if (kvm->root) {
		change_begin(kvm, &c);
		wrprot_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn_start, gfn_end, false, &c);
		change_flush(kvm, &c, gfn_start, gfn_end);
		change_end(kvm);
	}
	write_unlock(&kvm->mmu_lock);
}

/*
 * Replace each 2 MiB leaf overlapping [gfn_start, gfn_end) by a table of
 * the 512 4 KiB leaves it maps (write-protected inside the range with
 * @wrprot); returns how many, or -ENOMEM.
 */
static int split_range(struct kvm *kvm, u64 table, unsigned int level, u64 base,
		       u64 gfn_start, u64 gfn_end, bool wrprot, struct change *c)
{
	u64 span = span_of(level);
	unsigned int i, j;
	int n = 0, ret;

	for (i = 0; i < ENTRIES && level >= 2; i++) {
		u64 gfn = base + i * span, *e = (u64 *)phys_va(kvm->pm, table) + i;
		u64 old = __atomic_load_n(e, __ATOMIC_ACQUIRE), child, *ce, pfn;

		if (gfn + span <= gfn_start || gfn >= gfn_end || !is_present(kvm, old))
			continue;
		if (!is_leaf(kvm, old, level)) {
			ret = split_range(kvm, old & ADDR_MASK, level - 1, gfn, gfn_start,
					  gfn_end, wrprot, c);
			if (ret < 0)
				return ret;
			n += ret;
			continue;
		}
		if (level != 2)
			continue;	/* the model maps no 1 GiB leaf */
		child = alloc_table(kvm, level - 1);
		if (!child)
			return -ENOMEM;
		ce = phys_va(kvm->pm, child);
		pfn = (old & ADDR_MASK_2M) >> PAGE_SHIFT;
		for (j = 0; j < ENTRIES; j++) {
			bool w = (old & SPTE_W) &&
				 !(wrprot && gfn + j >= gfn_start && gfn + j < gfn_end);

			__atomic_store_n(&ce[j], kspte_leaf(&kvm->cfg, pfn + j, 1, w, true,
							    false, true), __ATOMIC_RELAXED);
		}
		__atomic_store_n(e, kspte_nonleaf(&kvm->cfg, child), __ATOMIC_RELEASE);
		/* the split keeps every translation; then write-protection, if asked */
		change_spte(kvm, c, gfn, level, old, kspte_nonleaf(&kvm->cfg, child));
		for (j = 0; j < ENTRIES; j++)
			if ((old & SPTE_W) && !(ce[j] & SPTE_W))
				change_spte(kvm, c, gfn + j, 1,
					    kspte_leaf(&kvm->cfg, pfn + j, 1, true, true, false,
						       true), ce[j]);
		n++;
	}
	return n;
}

/* Called with mmu_lock held for write. */
static int split_locked(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool wrprot)
{
	struct change c;
	int n;

	if (!kvm->root)
		return 0;
	change_begin(kvm, &c);
	n = split_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn_start, gfn_end,
			wrprot, &c);
	if (wrprot)
		wrprot_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn_start, gfn_end, false, &c);
	/* the mappings are the same, but an importer may cache the huge one */
	change_flush(kvm, &c, gfn_start, gfn_end);
	change_end(kvm);
	if (n > 0)
		kvm->splits += n;
	return n;
}

/**
 * kvm_model_split() - split huge pages, as KVM's eager and lazy splits do
 * @kvm: the VM
 * @gfn_start: first GFN
 * @gfn_end: end GFN, exclusive
 * @wrprot: write-protect the new 4 KiB leaves inside the range (and every
 *	leaf there), as enabling dirty logging does, in the same flush
 *
 * Every 2 MiB leaf overlapping the range becomes a table of 512 4 KiB
 * leaves mapping the same pages; then the importers are flushed over the
 * range widened to those leaves (KVM_TDP_INV_LEAF: no table is unlinked).
 *
 * Return: the number of leaves split, or -ENOMEM.
 */
int kvm_model_split(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool wrprot)
{
	int n;

	write_lock(&kvm->mmu_lock);
	n = split_locked(kvm, gfn_start, gfn_end, wrprot);
	write_unlock(&kvm->mmu_lock);
	return n;
}

/* ---- dirty logging (KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG) ---- */

/* Clear the D bit of 4 KiB leaves in the range (PML logging); mmu_lock write. */
static void clear_d_range(struct kvm *kvm, u64 gfn_start, u64 gfn_end, struct change *c)
{
	struct kspte_masks m;
	unsigned int level;
	u64 gfn, *e, old;

	kspte_masks(&kvm->cfg, &m);
	for (gfn = gfn_start; gfn < gfn_end; gfn++) {
		e = leaf_entry(kvm, gfn, &level);
		old = e && level == 1 ? __atomic_load_n(e, __ATOMIC_ACQUIRE) : 0;
		if (!(old & m.dirty))
			continue;
		__atomic_and_fetch(e, ~m.dirty, __ATOMIC_SEQ_CST);
		change_spte(kvm, c, gfn, 1, old, old & ~m.dirty);
	}
}

/*
 * Start logging @s (kvm_mmu_slot_apply_flags()): split huge leaves eagerly
 * (same mappings), then clear the 4 KiB leaves' D bits (PML; KVM would
 * write-protect huge leaves, none is left) or write-protect them, keeping
 * the leaves an importer holds writable (patch 0008).  mmu_lock held for
 * write.
 */
static void log_start_locked(struct kvm *kvm, struct kvm_memory_slot *s)
{
	u64 start = s->base_gfn, end = s->base_gfn + s->npages;
	struct change c;

	if (!kvm->root)
		return;
	split_locked(kvm, start, end, false);
	change_begin(kvm, &c);
	if (kvm->cfg.pml)
		clear_d_range(kvm, start, end, &c);
	else
		wrprot_range(kvm, kvm->root, kvm->cfg.root_level, 0, start, end, true, &c);
	change_flush(kvm, &c, start, end);
	change_end(kvm);
}

/*
 * kvm_arch_sync_dirty_log() with patch 0008: the listeners add what their
 * devices wrote unseen; with PML, when one asks, the leaves marked dirty.
 * slots_lock held.
 */
static void sync_dirty_log(struct kvm *kvm, struct kvm_memory_slot *s)
{
	kvm_tdp_export_sync_dirty_log(kvm, s);
}

/*
 * kvm_arch_mmu_enable_log_dirty_pt_masked(): log the GFNs of @mask again
 * (4 KiB leaves: clear D with PML, else write-protect but for held leaves).
 * mmu_lock held for write.
 */
static void rearm(struct kvm *kvm, struct kvm_memory_slot *s, u64 first, unsigned long mask,
		  struct change *c)
{
	struct kspte_masks m;
	unsigned int level;
	u64 gfn, *e, old;

	kspte_masks(&kvm->cfg, &m);
	for (; mask; mask &= mask - 1) {
		gfn = s->base_gfn + first + __builtin_ctzl(mask);
		e = leaf_entry(kvm, gfn, &level);
		if (!e || level != 1)
			continue;
		old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		if (kvm->cfg.pml) {
			if (!(old & m.dirty))
				continue;
			__atomic_and_fetch(e, ~m.dirty, __ATOMIC_SEQ_CST);
			change_spte(kvm, c, gfn, 1, old, old & ~m.dirty);
		} else {
			if (!(old & SPTE_W) || importer_holds(kvm, gfn, 1, old & ADDR_MASK))
				continue;
			__atomic_store_n(e, kspte_wrprot(&kvm->cfg, old), __ATOMIC_RELEASE);
			change_spte(kvm, c, gfn, 1, old, kspte_wrprot(&kvm->cfg, old));
		}
	}
}

static struct kvm_memory_slot *lock_logging_slot(struct kvm *kvm, unsigned int slot)
{
	if (slot >= KVM_MODEL_SLOTS)
		return NULL;
	mutex_lock(&kvm->slots_lock);
	if (!kvm->slots[slot].used || !kvm->slots[slot].dirty_bitmap) {
		mutex_unlock(&kvm->slots_lock);
		return NULL;
	}
	return &kvm->slots[slot];
}

/**
 * kvm_model_get_dirty_log() - KVM_GET_DIRTY_LOG
 * @kvm: the VM
 * @slot: the slot
 * @bitmap: receives the slot's dirty bitmap (one bit per page)
 *
 * Without manual protection (kvm->manual_protect), the bits are taken and
 * their pages logged again, then flushed, before this returns; with it, the
 * bitmap is copied and left for kvm_model_clear_dirty_log().
 *
 * Return: 0; -ENOENT when the slot does not exist or does not log.
 */
int kvm_model_get_dirty_log(struct kvm *kvm, unsigned int slot, unsigned long *bitmap)
{
	struct kvm_memory_slot *s = lock_logging_slot(kvm, slot);
	u64 w, words;
	struct change c;

	if (!s)
		return -ENOENT;
	words = BITS_TO_LONGS(s->npages);
	sync_dirty_log(kvm, s);
	kvm->dirty_harvests++;
	if (kvm->manual_protect) {
		for (w = 0; w < words; w++)
			bitmap[w] = __atomic_load_n(&s->dirty_bitmap[w], __ATOMIC_ACQUIRE);
		mutex_unlock(&kvm->slots_lock);
		return 0;
	}
	write_lock(&kvm->mmu_lock);
	change_begin(kvm, &c);
	for (w = 0; w < words; w++) {
		bitmap[w] = __atomic_exchange_n(&s->dirty_bitmap[w], 0, __ATOMIC_SEQ_CST);
		if (kvm->root)
			rearm(kvm, s, w * BITS_PER_LONG, bitmap[w], &c);
	}
	change_flush(kvm, &c, s->base_gfn, s->base_gfn + s->npages);
	change_end(kvm);
	write_unlock(&kvm->mmu_lock);
	mutex_unlock(&kvm->slots_lock);
	return 0;
}

/**
 * kvm_model_clear_dirty_log() - KVM_CLEAR_DIRTY_LOG (manual protection)
 * @kvm: the VM
 * @slot: the slot
 * @first: first page, a multiple of 64
 * @npages: pages, a multiple of 64 or up to the end of the slot
 * @bitmap: the pages to clear and log again (bit n: page @first + n)
 *
 * Return: 0; -ENOENT as kvm_model_get_dirty_log(); -EINVAL for a bad range.
 */
int kvm_model_clear_dirty_log(struct kvm *kvm, unsigned int slot, u64 first, u64 npages,
			      const unsigned long *bitmap)
{
	struct kvm_memory_slot *s = lock_logging_slot(kvm, slot);
	unsigned long mask;
	struct change c;
	u64 w;

	if (!s)
		return -ENOENT;
	if (first % BITS_PER_LONG || first + npages > s->npages ||
	    (npages % BITS_PER_LONG && first + npages != s->npages)) {
		mutex_unlock(&kvm->slots_lock);
		return -EINVAL;
	}
	sync_dirty_log(kvm, s);
	write_lock(&kvm->mmu_lock);
	change_begin(kvm, &c);
	for (w = 0; w < BITS_TO_LONGS(npages); w++) {
		unsigned long *word = &s->dirty_bitmap[first / BITS_PER_LONG + w];

		mask = bitmap[w] & __atomic_load_n(word, __ATOMIC_ACQUIRE);
		if (!mask)
			continue;
		__atomic_and_fetch(word, ~mask, __ATOMIC_SEQ_CST);
		if (kvm->root)
			rearm(kvm, s, first + w * BITS_PER_LONG, mask, &c);
	}
	change_flush(kvm, &c, s->base_gfn, s->base_gfn + s->npages);
	change_end(kvm);
	write_unlock(&kvm->mmu_lock);
	mutex_unlock(&kvm->slots_lock);
	return 0;
}

/**
 * kvm_model_collapse() - recover a huge page, as KVM does after dirty logging
 * @kvm: the VM
 * @gfn: a GFN of the 2 MiB region
 *
 * When the region may be mapped huge (see huge_region()) and its host
 * memory is one contiguous block, the table of 4 KiB leaves under it is
 * replaced by one 2 MiB leaf (writable only if every present 4 KiB leaf
 * was), the importers are flushed with KVM_TDP_INV_TABLES over the region,
 * and only then is the old table page handed to call_rcu().
 *
 * Return: 0, or -EAGAIN when the region cannot be collapsed now.
 */
int kvm_model_collapse(struct kvm *kvm, u64 gfn)
{
	u64 g0 = ALIGN_DOWN(gfn, HUGE_PAGES), table, *e, old, l1, blk = 0, *le, huge;
	struct kvm_memory_slot *s;
	struct change c;
	unsigned int level, i;
	bool writable;
	int ret = -EAGAIN;

	write_lock(&kvm->mmu_lock);
	s = find_slot(kvm, gfn);
	table = kvm->root;
	if (!s || !table || huge_region(kvm, s, gfn) == ~0ULL)
		goto out;
	pthread_mutex_lock(&kvm->backing_lock);
	blk = backing_block(s, g0 - s->base_gfn);
	pthread_mutex_unlock(&kvm->backing_lock);
	if (!blk)
		goto out;
	for (level = kvm->cfg.root_level; level > 2; level--) {
		old = __atomic_load_n(entry(kvm, table, g0, level), __ATOMIC_ACQUIRE);
		if (!is_present(kvm, old) || is_leaf(kvm, old, level))
			goto out;
		table = old & ADDR_MASK;
	}
	e = entry(kvm, table, g0, 2);
	old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
	if (!is_present(kvm, old) || is_leaf(kvm, old, 2))
		goto out;
	/* KVM's huge SPTE keeps what the small ones allowed */
	l1 = old & ADDR_MASK;
	le = phys_va(kvm->pm, l1);
	writable = !s->readonly;
	for (i = 0; i < ENTRIES; i++) {
		u64 spte = __atomic_load_n(&le[i], __ATOMIC_ACQUIRE);

		if (!is_present(kvm, spte))
			continue;
		if (WARN_ON((spte & ADDR_MASK) != blk + i * PAGE_SIZE))
			goto out;
		writable &= !!(spte & SPTE_W);
	}
	change_begin(kvm, &c);
	rcu_read_lock();
	huge = kspte_leaf(&kvm->cfg, blk >> PAGE_SHIFT, 2, writable, true, false, true);
	__atomic_store_n(e, huge, __ATOMIC_RELEASE);
	unlink_tree(kvm, l1, 1, &c.unlinked);
	change_spte(kvm, &c, g0, 2, old, huge);
	change_flush(kvm, &c, g0, g0 + HUGE_PAGES);
	rcu_read_unlock();
	change_end(kvm);
	kvm->collapses++;
	ret = 0;
out:
	write_unlock(&kvm->mmu_lock);
	return ret;
}

int kvm_model_replace_root(struct kvm *kvm)
{
	struct vtd_table_change vc;
	struct change c;
	u64 old, new;

	/* the exported root's description changes too (kvm->root_page) */
	mutex_lock(&kvm->tdp_export.lock);
	write_lock(&kvm->mmu_lock);
	new = alloc_table(kvm, kvm->cfg.root_level);
	if (!new) {
		write_unlock(&kvm->mmu_lock);
		mutex_unlock(&kvm->tdp_export.lock);
		return -ENOMEM;
	}
	change_begin(kvm, &c);
	old = kvm->root;
	__atomic_store_n(&kvm->root, new, __ATOMIC_RELEASE);
	kvm->root_page.spt = phys_va(kvm->pm, new);
	kvm->root_replacements++;
	rcu_read_lock();
	vc = (struct vtd_table_change){
		.root = new, .old_root = old, .start = 0, .end = ~0ULL,
	};
	vtd_change_publish(&vc);
	kvm_tdp_export_root_changed(kvm, new);
	vtd_change_publish(NULL);
	if (old) {
		vtd_change_verify(&vc);
		unlink_tree(kvm, old, kvm->cfg.root_level, &c.unlinked);
	}
	/* the old tree goes after every importer has let go of it */
	change_flush(kvm, &c, 0, 0);
	rcu_read_unlock();
	change_end(kvm);
	write_unlock(&kvm->mmu_lock);
	mutex_unlock(&kvm->tdp_export.lock);
	return 0;
}

u64 kvm_model_spte(struct kvm *kvm, u64 gpa, unsigned int *level)
{
	u64 table = __atomic_load_n(&kvm->root, __ATOMIC_ACQUIRE), gfn = gpa >> PAGE_SHIFT;
	u64 spte = kspte_nonpresent(&kvm->cfg);
	unsigned int l;

	for (l = kvm->cfg.root_level; table && l >= 1; l--) {
		spte = __atomic_load_n(entry(kvm, table, gfn, l), __ATOMIC_ACQUIRE);
		*level = l;
		if (!is_present(kvm, spte) || is_leaf(kvm, spte, l))
			break;
		table = spte & ADDR_MASK;
	}
	return spte;
}

/**
 * kvm_model_translate() - what KVM's table maps at a GPA now
 * @kvm: the VM
 * @gpa: the address
 * @hpa: set to the host address of the page mapped there
 * @writable: set to whether the mapping allows writes
 *
 * Reads the table without mmu_lock, inside the RCU read side, so it may
 * race with a change: compare kvm_model_change_seq() before and after.
 *
 * Return: true when a leaf maps @gpa (then @hpa and @writable are set).
 */
bool kvm_model_translate(struct kvm *kvm, u64 gpa, u64 *hpa, bool *writable)
{
	unsigned int level = 0;
	bool present;
	u64 spte;

	rcu_read_lock();
	spte = kvm_model_spte(kvm, gpa, &level);
	present = level && is_present(kvm, spte) && is_leaf(kvm, spte, level);
	if (present) {
		u64 span = span_of(level) << PAGE_SHIFT;

		*hpa = (spte & ADDR_MASK & ~(span - 1)) + (gpa & (span - 1) & PAGE_MASK);
		*writable = spte & SPTE_W;
	}
	rcu_read_unlock();
	return present;
}

/*
 * ---- KVM around the exporter's x86 side ----
 *
 * The product's arch/x86/kvm-iommu/tdp_export.c implements the
 * kvm_arch_tdp_export_*() calls of the arch-neutral exporter on KVM's own
 * interfaces, declared by the shims of "mmu.h", "mmu/spte.h",
 * "mmu/tdp_mmu.h" (include/x86-kvm/) and <linux/kvm_host.h>.  The model
 * provides them: upstream KVM's as KVM behaves (memslots under SRCU, the
 * PFN lookup, the MMU-notifier sequence, memory caches, remote TLB
 * flushes, the root's reference, the host's settings), and the TDP MMU
 * operations the series adds to tdp_mmu.c (patches 0003, 0004, 0008),
 * with their contracts, over the model's tables.
 */

/* module parameters: the TDP MMU is on; MMIO caching is per VM (below) */
bool tdp_enabled = true;
bool tdp_mmu_enabled = true;

bool kvm_model_mmio_caching(struct kvm *kvm)
{
	return kvm->cfg.mmio_caching;
}
/*
 * KVM's slab of shadow page headers: the model allocates them with
 * malloc(), so the slab is only a name, which tells a cache of headers
 * from one of page-table pages (kvm_mmu_topup_memory_cache())
 */
static struct kmem_cache { char name[24]; } model_page_header_slab = {
	"kvm_mmu_page_header",
};
struct kmem_cache *mmu_page_header_cache = &model_page_header_slab;

/* KVM's host-wide values, for the host the VM's configuration describes */
const struct kt_spte_masks *kvm_model_spte_masks(struct kvm *kvm)
{
	/* as kspte_masks(): per thread, for the last configuration seen */
	static __thread struct kspte_cfg cfg;
	static __thread struct kt_spte_masks k;
	static __thread bool valid;
	struct kspte_masks m;

	if (valid && !memcmp(&cfg, &kvm->cfg, sizeof(cfg)))
		return &k;
	kspte_masks(&kvm->cfg, &m);
	memcpy(&cfg, &kvm->cfg, sizeof(cfg));
	valid = true;
	k = (struct kt_spte_masks){
		.present = m.present, .user = m.user, .x = m.x, .nx = m.nx,
		.accessed = m.accessed, .dirty = m.dirty, .memtype = m.memtype,
		.acc_track = m.acc_track, .host_writable = m.host_writable,
		.mmu_writable = m.mmu_writable, .mmu_present = m.mmu_present,
		.me_value = kvm->cfg.me_value, .mmio_access = m.mmio_access_mask,
		.nonpresent_or_rsvd = m.nonpresent_or_rsvd, .gen_low = m.gen_low,
		.gen_high = m.gen_high, .ad_disabled = m.ad_disabled,
		.nonpresent = m.nonpresent, .frozen = m.frozen,
		.mmio_mask = m.mmio_mask,
	};
	return &k;
}

/* kvm_ad_enabled(): A/D bits are used when there is an Accessed bit */
bool kvm_model_ad_enabled(struct kvm *kvm)
{
	return !!kvm_model_spte_masks(kvm)->accessed;
}

/* VMX's PML logs 512 GPAs per vCPU exit; SVM has no such log */
int kvm_model_cpu_dirty_log_size(struct kvm *kvm)
{
	return kvm->cfg.pml ? 512 : 0;
}

const struct kt_cpuinfo_x86 *kvm_model_cpu_data(struct kvm *kvm)
{
	static __thread struct kt_cpuinfo_x86 c;

	c.x86_phys_bits = kvm->cfg.phys_bits;
	return &c;
}

const struct kt_kvm_host_values *kvm_model_host_values(struct kvm *kvm)
{
	static __thread struct kt_kvm_host_values v;

	v.maxphyaddr = kvm->cfg.phys_bits;
	return &v;
}

/*
 * The largest leaf the MMU creates, a host-wide value in KVM; the model's
 * comes from the live VMs' configuration, which must agree.
 */
int kvm_mmu_max_huge_page_level(void)
{
	int level = 0;
	unsigned int i;

	pthread_mutex_lock(&kvm_models_lock);
	for (i = 0; i < KVM_MODEL_MAX; i++) {
		struct kvm *kvm = kvm_models[i];

		if (!kvm)
			continue;
		WARN_ON(level && level != (int)kvm->cfg.max_leaf_level);
		level = kvm->cfg.max_leaf_level;
	}
	pthread_mutex_unlock(&kvm_models_lock);
	return level ? level : PG_LEVEL_4K;
}

/* VMX ignores the guest's PAT by default (and zaps to re-derive memtypes) */
bool kvm_mmu_may_ignore_guest_pat(struct kvm *kvm)
{
	return kvm->cfg.ept;
}

/* The emulated physical memory @va is in, if a VM's. */
static struct phys *pm_of(const void *va)
{
	struct phys *pm = NULL;
	unsigned int i;

	pthread_mutex_lock(&kvm_models_lock);
	for (i = 0; i < KVM_MODEL_MAX && !pm; i++) {
		struct phys *p = kvm_models[i] ? kvm_models[i]->pm : NULL;

		if (p && (const u8 *)va >= p->base && (const u8 *)va < p->base + p->size)
			pm = p;
	}
	pthread_mutex_unlock(&kvm_models_lock);
	return pm;
}

/* __pa() of a table page's mapping in emulated physical memory */
u64 kvm_model_pa(const void *va)
{
	struct phys *pm = pm_of(va);

	if (WARN_ON(!pm))
		return ~0ULL;
	return (const u8 *)va - pm->base;
}

int srcu_read_lock(struct srcu_struct *ssp)
{
	pthread_rwlock_rdlock(&ssp->rw);
	return 0;
}

void srcu_read_unlock(struct srcu_struct *ssp, int idx)
{
	pthread_rwlock_unlock(&ssp->rw);
}

/* vCPU 0 exists from the start, its MMU loaded with the VM's root role */
struct kvm_vcpu *kvm_get_vcpu(struct kvm *kvm, int i)
{
	return i == 0 ? &kvm->vcpu0 : NULL;
}

bool kvm_arch_has_private_mem(struct kvm *kvm)
{
	return false;
}

/* Under kvm->srcu: the slot stays as found until srcu_read_unlock(). */
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn)
{
	return find_slot(kvm, gfn);
}

bool kvm_is_visible_memslot(struct kvm_memory_slot *slot)
{
	return slot;
}

bool kvm_slot_dirty_track_enabled(const struct kvm_memory_slot *slot)
{
	return slot->flags & KVM_MEM_LOG_DIRTY_PAGES;
}

bool kvm_slot_can_be_private(const struct kvm_memory_slot *slot)
{
	return false;
}

/*
 * hva_to_pfn() through the VMM's mapping of the slot: the host page (the
 * VMM touches it), writable if the slot and the VMA are; an error when
 * nothing is mapped there, the file behind it ends (SIGBUS), a write
 * meets a read-only VMA, or memory runs out.  Counts the lookups (only
 * the exporter's kvm_tdp_export_map() makes them) by intent, and calls
 * the test's @kvm->after_lookup hook.
 */
kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, unsigned long *hva)
{
	struct kvm_memory_slot *s = (struct kvm_memory_slot *)slot;
	struct kvm *kvm = s->kvm;
	kvm_pfn_t pfn = KVM_PFN_ERR_FAULT;
	u64 hpa;

	__atomic_add_fetch(write_fault ? &kvm->export_map_writes : &kvm->export_map_reads, 1,
			   __ATOMIC_RELAXED);
	pthread_mutex_lock(&kvm->backing_lock);
	if (!(s->hva_kind & (KVM_MODEL_SLOT_HVA_UNMAPPED | KVM_MODEL_SLOT_HVA_SIGBUS)) &&
	    !(write_fault && (s->hva_kind & KVM_MODEL_SLOT_HVA_RO))) {
		hpa = backing_get(kvm, s, gfn - s->base_gfn);
		if (hpa)
			pfn = hpa >> PAGE_SHIFT;
	}
	if (writable)
		*writable = !s->readonly && !(s->hva_kind & KVM_MODEL_SLOT_HVA_RO);
	pthread_mutex_unlock(&kvm->backing_lock);
	if (kvm->after_lookup)
		kvm->after_lookup(kvm, gfn, kvm->after_lookup_arg);
	return pfn;
}

/*
 * The model's host pages are not reference-counted: a page the VMM
 * discards stays allocated until the next discard of its GFN, and the
 * invalidation sequence makes the lookup retry before then.
 */
void kvm_release_pfn_clean(kvm_pfn_t pfn)
{
}

bool mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	lockdep_assert_held(&kvm->mmu_lock);
	return kvm->mmu_invalidate_seq != mmu_seq;
}

/* kvm_arch_flush_remote_tlbs() with patch 0003: the importers too */
void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	kvm_tdp_export_flush(kvm);
}

void kvm_flush_remote_tlbs_range(struct kvm *kvm, gfn_t gfn, u64 nr_pages)
{
	kvm_tdp_export_flush(kvm);
}

/*
 * KVM's TDP iterator (tdp_iter.c) over the model's tables: the same order
 * and fields, the tables read through emulated physical memory.  Inside
 * the RCU read side, as KVM's walks are.
 */
static u64 iter_span(int level)
{
	return 1ULL << (9 * (level - 1));
}

static void iter_read(struct tdp_iter *iter)
{
	iter->sptep = iter->pt_path[iter->level] +
		      ((iter->gfn >> (9 * (iter->level - 1))) & (ENTRIES - 1));
	iter->old_spte = __atomic_load_n(iter->sptep, __ATOMIC_ACQUIRE);
}

void tdp_iter_start(struct tdp_iter *iter, struct kvm_mmu_page *root, int min_level,
		    gfn_t next_last_level_gfn)
{
	struct kvm *kvm = container_of(root, struct kvm, root_page);

	memset(iter, 0, sizeof(*iter));
	iter->kvm = kvm;
	iter->root = root;
	iter->root_level = root->role.level;
	iter->min_level = min_level;
	iter->next_last_level_gfn = next_last_level_gfn;
	iter->yielded_gfn = next_last_level_gfn;
	iter->level = iter->root_level;
	iter->pt_path[iter->level] = root->spt;
	iter->gfn = ALIGN_DOWN(next_last_level_gfn, iter_span(iter->level));
	iter->valid = root->spt != NULL;
	if (iter->valid)
		iter_read(iter);
}

void tdp_iter_next(struct tdp_iter *iter)
{
	struct kvm *kvm = iter->kvm;

	/* after a yield: again from the root, toward where the walk was */
	if (iter->yielded) {
		tdp_iter_start(iter, iter->root, iter->min_level,
			       iter->next_last_level_gfn);
		return;
	}

	/*
	 * down into the table the entry points to, read again first: the walk
	 * may have changed the entry (try_step_down())
	 */
	if (iter->level > iter->min_level)
		iter->old_spte = __atomic_load_n(iter->sptep, __ATOMIC_ACQUIRE);
	if (iter->level > iter->min_level && is_present(kvm, iter->old_spte) &&
	    !is_leaf(kvm, iter->old_spte, iter->level)) {
		iter->pt_path[iter->level - 1] = phys_va(kvm->pm, iter->old_spte & ADDR_MASK);
		iter->level--;
		iter->gfn = ALIGN_DOWN(iter->next_last_level_gfn, iter_span(iter->level));
		iter_read(iter);
		return;
	}
	/* to the next entry, up as long as a table ends */
	for (;;) {
		if (((iter->gfn >> (9 * (iter->level - 1))) & (ENTRIES - 1)) != ENTRIES - 1) {
			iter->gfn += iter_span(iter->level);
			iter->next_last_level_gfn = iter->gfn;
			iter_read(iter);
			return;
		}
		if (iter->level == iter->root_level) {
			iter->valid = false;
			return;
		}
		iter->level++;
		iter->gfn = ALIGN_DOWN(iter->gfn, iter_span(iter->level));
	}
}

/*
 * KVM's memory caches: shadow page headers (@mc->kmem_cache set) or
 * page-table pages of the cache's VM, allocated before mmu_lock is taken.
 * May fail (-ENOMEM) like an allocation.
 */
int kvm_mmu_topup_memory_cache(struct kvm_mmu_memory_cache *mc, int min)
{
	struct kvm *kvm = mc->model_kvm;
	void *obj;
	u64 t;

	if (WARN_ON(min > KVM_MODEL_CACHE_CAPACITY || !kvm))
		return -EIO;
	while (mc->nobjs < min) {
		if (kt_should_fail("kvm_mmu_topup_memory_cache"))
			return -ENOMEM;
		if (mc->kmem_cache) {
			obj = calloc(1, sizeof(struct kvm_mmu_page));
		} else {
			t = alloc_table(kvm, 0);
			obj = t ? phys_va(kvm->pm, t) : NULL;
		}
		if (!obj)
			return -ENOMEM;
		mc->objects[mc->nobjs++] = obj;
	}
	return 0;
}

static void free_cache_object(struct kvm_mmu_memory_cache *mc, void *obj)
{
	struct kvm *kvm = mc->model_kvm;

	if (mc->kmem_cache)
		free(obj);
	else
		free_table_now(kvm, (u8 *)obj - kvm->pm->base);
}

void kvm_mmu_free_memory_cache(struct kvm_mmu_memory_cache *mc)
{
	while (mc->nobjs)
		free_cache_object(mc, mc->objects[--mc->nobjs]);
}

void *kvm_mmu_memory_cache_alloc(struct kvm_mmu_memory_cache *mc)
{
	/* KVM allocates atomically when the cache ran dry: a caller's bug */
	if (WARN_ON(!mc->nobjs) && kvm_mmu_topup_memory_cache(mc, 1))
		abort();
	return mc->objects[--mc->nobjs];
}

/* The highest level the host maps @gfn's page at: a THP block or 4 KiB. */
int kvm_mmu_max_mapping_level(struct kvm *kvm, const struct kvm_memory_slot *slot,
			      gfn_t gfn, int max_level)
{
	u64 first = huge_region(kvm, slot, gfn);
	int level = PG_LEVEL_4K;

	lockdep_assert_held(&kvm->mmu_lock);
	if (first != ~0ULL) {
		pthread_mutex_lock(&kvm->backing_lock);
		if (backing_block(slot, first))
			level = PG_LEVEL_2M;
		pthread_mutex_unlock(&kvm->backing_lock);
	}
	return min(level, max_level);
}

/*
 * The root's references: the model keeps its root for the VM's life (the
 * exporter's reference never is the last one, as in KVM).
 */
void kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	WARN_ON(root != &kvm->root_page);
}

/* patch 0004: a shadow page for a root made from VM context */
struct kvm_mmu_page *kvm_tdp_mmu_alloc_vm_root(void)
{
	if (kt_should_fail("kvm_tdp_export_register"))
		return NULL;
	return calloc(1, sizeof(struct kvm_mmu_page));
}

void kvm_tdp_mmu_free_vm_root(struct kvm_mmu_page *sp)
{
	free(sp);
}

/*
 * patch 0004: the VM's root with @role, referenced for the caller; made if
 * no vCPU has made it yet (the model's one root, described by
 * kvm->root_page: *@new is not needed and stays the caller's to free).
 */
struct kvm_mmu_page *kvm_tdp_mmu_get_vm_root(struct kvm *kvm, union kvm_mmu_page_role role,
					     struct kvm_mmu_page **new)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	WARN_ON(role.word != kvm->vcpu0.arch.root_mmu.root_role.word);
	if (WARN_ON(ensure_root(kvm)))
		return NULL;
	return &kvm->root_page;
}

/*
 * patch 0004: zap the exported root's leaves of [@start, @end), held ones
 * too, with tdp_mmu_zap_leafs() (so the product's
 * kvm_tdp_export_zap_leafs()).  mmu_lock held for write.  The model
 * flushes each change before it returns, so nothing is left to flush:
 * false.  Counts kvm_tdp_export_zap() calls (the only caller in the model).
 */
bool kvm_tdp_mmu_zap_exported_leafs(struct kvm *kvm, gfn_t start, gfn_t end, bool flush)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	zap_locked(kvm, start, end, false);
	kvm->export_zaps++;
	return false;
}

/*
 * ---- the TDP MMU's helpers for the exporter's walks (patch 0004) ----
 *
 * tdp_mmu_export.c maps, zaps and changes SPTEs of the exported root with
 * these, as tdp_mmu.c's own walks do with the helpers they wrap: each SPTE
 * change goes to handle_changed() (upstream's handle_changed_spte(), with
 * patch 0003's note to the importers).
 */

/*
 * The shadow pages the model hands out, one per level: it keeps only each
 * table page's level (phys_tag()), and no table is kept from becoming a
 * huge page by the NX huge page mitigation (its vCPUs do not execute).
 */
#define MODEL_SP(l)	[l] = { .role = { .level = l, .direct = 1 } }
static struct kvm_mmu_page model_sps[PT64_ROOT_MAX_LEVEL + 1] = {
	MODEL_SP(1), MODEL_SP(2), MODEL_SP(3), MODEL_SP(4), MODEL_SP(5),
};

static struct kvm_mmu_page *model_sp(unsigned int level)
{
	if (WARN_ON(level < 1 || level > PT64_ROOT_MAX_LEVEL))
		level = 1;
	return &model_sps[level];
}

/* The shadow page of the table page holding @sptep. */
struct kvm_mmu_page *sptep_to_sp(u64 *sptep)
{
	struct phys *pm = pm_of(sptep);

	if (WARN_ON(!pm))
		return model_sp(1);
	return model_sp(phys_tag(pm, (u8 *)sptep - pm->base));
}

struct kvm_mmu_page *kvm_model_child_sp(struct kvm *kvm, u64 spte)
{
	return model_sp(phys_tag(kvm->pm, spte & ADDR_MASK));
}

bool kvm_model_nx_huge_pages(struct kvm *kvm)
{
	return kvm->cfg.nx_huge_pages;
}

/*
 * make_spte() for a TDP fault with full access from VM context (patch
 * 0002): writable when the host maps @pfn writable and KVM does not keep
 * @gfn write-protected (write tracking); executable but for huge leaves
 * under the NX huge page mitigation; a writable leaf in a slot that logs
 * dirty pages logs the page (mark_page_dirty_in_slot()).  Returns whether
 * the leaf was write-protected.
 */
bool make_tdp_spte_no_vcpu(struct kvm *kvm, struct kvm_mmu_page *sp,
			   const struct kvm_memory_slot *slot, gfn_t gfn,
			   kvm_pfn_t pfn, u64 old_spte, bool host_writable,
			   u64 *new_spte)
{
	struct kvm_memory_slot *s = (struct kvm_memory_slot *)slot;
	unsigned int level = sp->role.level;
	bool wrprot = write_tracked(kvm, gfn, gfn + KVM_PAGES_PER_HPAGE(level));
	bool writable = host_writable && !wrprot;

	lockdep_assert_held(&kvm->mmu_lock);
	*new_spte = kspte_leaf(&kvm->cfg, pfn, level, writable, true, false, host_writable);
	if (writable && s->dirty_log) {
		WARN_ON(level > PG_LEVEL_4K);
		WARN_ON(!kvm_arch_allow_write_without_running_vcpu(kvm));
		mark_dirty(s, gfn);
	}
	return wrprot;
}

/*
 * handle_changed_spte(): the SPTE of @gfn at @level went from @old to @new
 * in a change the exporter's walk made; tell the importers (as part of the
 * model's change the walk runs in, if any: kvm->walk_change), count a huge
 * leaf installed, and hand a page table it unlinked (a huge leaf replaced
 * it) to RCU, freed after the caller's flush and its RCU read side.
 */
static void handle_changed(struct kvm *kvm, u64 gfn, int level, u64 old, u64 new)
{
	struct table_free *list = NULL, *tf, *next;

	if (kvm->walk_change)
		change_spte(kvm, kvm->walk_change, gfn, level, old, new);
	else
		kvm_tdp_export_note_change(kvm, gfn, level, old, new);
	if (level > 1 && is_present(kvm, new) && is_leaf(kvm, new, level) &&
	    !(is_present(kvm, old) && is_leaf(kvm, old, level)))
		__atomic_add_fetch(&kvm->huge_faults, 1, __ATOMIC_RELAXED);
	if (level > 1 && is_present(kvm, old) && !is_leaf(kvm, old, level)) {
		unlink_tree(kvm, old & ADDR_MASK, level - 1, &list);
		for (tf = list; tf; tf = next) {
			next = tf->next;
			call_rcu(&tf->rcu, free_table_rcu);
		}
	}
}

/* tdp_mmu_set_spte_atomic(): mmu_lock held for read; -EBUSY if it changed */
int kvm_tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	u64 old = iter->old_spte;

	lockdep_assert_held_read(&kvm->mmu_lock);
	if (!__atomic_compare_exchange_n(iter->sptep, &old, new_spte, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		iter->old_spte = old;
		return -EBUSY;
	}
	handle_changed(kvm, iter->gfn, iter->level, old, new_spte);
	return 0;
}

/*
 * tdp_mmu_iter_set_spte(): mmu_lock held for write; as upstream's, it
 * leaves the value it replaced in iter->old_spte.
 */
void kvm_tdp_mmu_iter_set_spte(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	WARN_ON(iter->yielded);
	iter->old_spte = __atomic_exchange_n(iter->sptep, new_spte, __ATOMIC_SEQ_CST);
	handle_changed(kvm, iter->gfn, iter->level, iter->old_spte, new_spte);
}

/* The leaves of a table of @level that splits @huge: make_small_spte(). */
static void fill_split_table(u64 *spt, unsigned int level, u64 huge)
{
	unsigned int j;

	for (j = 0; j < ENTRIES; j++) {
		u64 small = huge + ((u64)j * span_of(level) << PAGE_SHIFT);

		if (level == PG_LEVEL_4K)
			small &= ~PT_PAGE_SIZE_MASK;
		__atomic_store_n(&spt[j], small, __ATOMIC_RELAXED);
	}
}

/*
 * tdp_mmu_init_child_sp(), then tdp_mmu_link_sp() where nothing is present
 * or tdp_mmu_split_huge_page() for a huge leaf (its 512 smaller leaves map
 * the same pages with the same bits, make_small_spte()), under mmu_lock
 * for read.  The model keeps no shadow page per table, only the table's
 * level: the header goes once the table is linked.  On failure (the SPTE
 * changed) both are freed.
 */
int kvm_tdp_mmu_link_or_split(struct kvm *kvm, struct tdp_iter *iter, struct kvm_mmu_page *sp)
{
	unsigned int level = iter->level - 1;
	u64 table = (u8 *)sp->spt - kvm->pm->base, old = iter->old_spte;
	bool split = is_present(kvm, old);
	int ret;

	lockdep_assert_held_read(&kvm->mmu_lock);
	phys_set_tag(kvm->pm, table, level);
	if (split)
		fill_split_table(sp->spt, level, old);
	ret = kvm_tdp_mmu_set_spte_atomic(kvm, iter, kspte_nonleaf(&kvm->cfg, table));
	if (ret)
		free_table_now(kvm, table);
	else if (split)
		__atomic_add_fetch(&kvm->splits, 1, __ATOMIC_RELAXED);
	free(sp);
	return ret;
}

/*
 * patch 0007: tdp_mmu_split_huge_page() of the huge leaf at @iter under
 * mmu_lock held for write, into a table allocated without sleeping, which
 * may fail: false then, with nothing changed.  The smaller leaves map the
 * same pages with the same bits (make_small_spte()), so the change is
 * noted but records nothing for the importers; iter->old_spte keeps the
 * huge leaf, and the iterator re-reads the entry before stepping down into
 * the new table.
 */
bool kvm_tdp_mmu_split_huge_leaf(struct kvm *kvm, struct tdp_iter *iter)
{
	unsigned int level = iter->level - 1;
	u64 table;

	lockdep_assert_held_write(&kvm->mmu_lock);
	if (WARN_ON(iter->level <= PG_LEVEL_4K || !is_present(kvm, iter->old_spte) ||
		    !is_leaf(kvm, iter->old_spte, iter->level)))
		return false;
	table = alloc_table(kvm, level);
	if (!table)
		return false;
	fill_split_table(phys_va(kvm->pm, table), level, iter->old_spte);
	kvm_tdp_mmu_iter_set_spte(kvm, iter, kspte_nonleaf(&kvm->cfg, table));
	return true;
}

/*
 * tdp_mmu.c's tdp_mmu_iter_cond_resched() (made visible by patch 0008):
 * when the scheduler asks for the CPU, and the walk made progress since it
 * last (re)started, flush what the walk changed (KVM's TLBs with @flush,
 * else the importers, as patch 0003 has it), drop mmu_lock and
 * RCU, take them again and mark the iterator, whose next step restarts the
 * walk from the root.  Here the scheduler asks at every 32nd call, so
 * that walks yield under the tests.  Returns whether it yielded.
 */
bool tdp_mmu_iter_cond_resched(struct kvm *kvm, struct tdp_iter *iter, bool flush,
			       bool shared)
{
	static unsigned long ticks;

	WARN_ON_ONCE(iter->yielded);
	if (iter->next_last_level_gfn == iter->yielded_gfn)
		return false;
	if (__atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED) % 32)
		return false;

	if (flush)
		kvm_flush_remote_tlbs(kvm);
	else
		kvm_tdp_export_flush(kvm);
	rcu_read_unlock();
	if (shared) {
		read_unlock(&kvm->mmu_lock);
		sched_yield();
		read_lock(&kvm->mmu_lock);
	} else {
		write_unlock(&kvm->mmu_lock);
		sched_yield();
		write_lock(&kvm->mmu_lock);
	}
	rcu_read_lock();
	iter->yielded = true;
	return true;
}

/*
 * The product's kvm_tdp_mmu_exported_dirty() (tdp_mmu_export.c), called
 * through the linker's --wrap: the model counts the scans KVM makes.
 */
void __real_kvm_tdp_mmu_exported_dirty(struct kvm *kvm, const struct kvm_memory_slot *slot);
void __wrap_kvm_tdp_mmu_exported_dirty(struct kvm *kvm, const struct kvm_memory_slot *slot);
void __wrap_kvm_tdp_mmu_exported_dirty(struct kvm *kvm, const struct kvm_memory_slot *slot)
{
	kvm->dirty_scans++;
	__real_kvm_tdp_mmu_exported_dirty(kvm, slot);
}

/* ---- the VMM's view of guest memory, for the pin stand-in ---- */

unsigned long kvm_model_hva(struct kvm *kvm, u64 gpa)
{
	return KVM_MODEL_HVA_BASE + ((u64)kvm->id << KVM_MODEL_HVA_SHIFT) + gpa;
}

/* The slot the VMM maps at @hva: a moved slot keeps its mapping. */
static struct kvm_memory_slot *find_slot_hva(struct kvm *kvm, unsigned long hva)
{
	unsigned int i;

	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_memory_slot *s = &kvm->slots[i];

		/* the VMM's memory exists before KVM installs the slot */
		if (s->backing && hva >= s->hva && hva < s->hva + (s->npages << PAGE_SHIFT))
			return s;
	}
	return NULL;
}

struct page *kvm_model_hva_to_page(unsigned long hva, bool write)
{
	u64 off = hva - KVM_MODEL_HVA_BASE, idx, hpa;
	struct kvm_memory_slot *s;
	struct kvm *kvm;

	if (hva < KVM_MODEL_HVA_BASE || (off >> KVM_MODEL_HVA_SHIFT) >= KVM_MODEL_MAX)
		return NULL;
	kvm = kvm_models[off >> KVM_MODEL_HVA_SHIFT];
	s = kvm ? find_slot_hva(kvm, hva) : NULL;
	/* pin_user_pages(): not for a hole, VM_PFNMAP | VM_IO, or a read-only VMA */
	if (!s || (write && (s->readonly || (s->hva_kind & KVM_MODEL_SLOT_HVA_RO))) ||
	    (s->hva_kind & (KVM_MODEL_SLOT_HVA_UNMAPPED | KVM_MODEL_SLOT_HVA_PFNMAP |
			    KVM_MODEL_SLOT_HVA_SIGBUS)))
		return NULL;
	idx = (hva - s->hva) >> PAGE_SHIFT;
	pthread_mutex_lock(&kvm->backing_lock);
	hpa = backing_get(kvm, s, idx);		/* the VMM touches the page */
	s->pages[idx].hpa = hpa;
	pthread_mutex_unlock(&kvm->backing_lock);
	return hpa ? &s->pages[idx] : NULL;
}

/* Sum over every guest page: its pins, or whether a host page backs it. */
static long count_pages(struct kvm *kvm, bool pins)
{
	long n = 0;
	unsigned int i;
	u64 g;

	pthread_mutex_lock(&kvm->backing_lock);
	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_memory_slot *s = &kvm->slots[i];

		for (g = 0; __atomic_load_n(&s->used, __ATOMIC_ACQUIRE) && g < s->npages; g++)
			n += pins ? __atomic_load_n(&s->pages[g].pins, __ATOMIC_RELAXED) :
				    !!s->backing[g];
	}
	pthread_mutex_unlock(&kvm->backing_lock);
	return n;
}

long kvm_model_pinned(struct kvm *kvm)
{
	return count_pages(kvm, true);
}

long kvm_model_backed(struct kvm *kvm)
{
	return count_pages(kvm, false);
}

int kvm_model_map_hva(struct kvm *kvm, unsigned int slot)
{
	if (slot >= KVM_MODEL_SLOTS || !kvm->slots[slot].backing)
		return -EINVAL;
	pthread_mutex_lock(&kvm->backing_lock);
	kvm->slots[slot].hva_kind = 0;
	pthread_mutex_unlock(&kvm->backing_lock);
	return 0;
}

/*
 * find_vma() over the VMMs' address space: each slot's HVA range is one
 * VMA (but for a slot with nothing mapped there), anonymous RAM, a BAR or
 * a read-only mapping.  The VMA returned is the caller's thread's until
 * its next call.
 */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	static __thread struct vm_area_struct vma;
	bool found = false;
	unsigned int m, i;

	pthread_mutex_lock(&kvm_models_lock);
	for (m = 0; m < KVM_MODEL_MAX; m++) {
		struct kvm *kvm = kvm_models[m];

		if (!kvm)
			continue;
		pthread_mutex_lock(&kvm->backing_lock);
		for (i = 0; i < KVM_MODEL_SLOTS; i++) {
			struct kvm_memory_slot *s = &kvm->slots[i];
			unsigned long end = s->hva + (s->npages << PAGE_SHIFT);

			if (!s->backing || (s->hva_kind & KVM_MODEL_SLOT_HVA_UNMAPPED) ||
			    end <= addr || (found && s->hva >= vma.vm_start))
				continue;
			found = true;
			vma.vm_start = s->hva;
			vma.vm_end = end;
			vma.vm_flags = VM_READ |
				       ((s->hva_kind & KVM_MODEL_SLOT_HVA_RO) ? 0 : VM_WRITE);
			if (s->hva_kind & KVM_MODEL_SLOT_HVA_PFNMAP)
				vma.vm_flags |= VM_PFNMAP | VM_IO;
		}
		pthread_mutex_unlock(&kvm->backing_lock);
	}
	pthread_mutex_unlock(&kvm_models_lock);
	return found ? &vma : NULL;
}
