// SPDX-License-Identifier: GPL-2.0
/* A model of KVM's x86 TDP MMU and its exporter: see kvm_mmu.h. */
#include <linux/kvm_tdp_export.h>

#include "../standin/file.h"
#include "kvm_mmu.h"

#define ENTRIES		512

static struct kvm *kvm_models[KVM_MODEL_MAX];
static pthread_mutex_t kvm_models_lock = PTHREAD_MUTEX_INITIALIZER;
#define ADDR_MASK	GENMASK_ULL(51, 12)

static u64 *entry(struct kvm *kvm, u64 table, u64 gfn, unsigned int level)
{
	return (u64 *)phys_va(kvm->pm, table) + ((gfn >> (9 * (level - 1))) & 511);
}

static u64 alloc_table(struct kvm *kvm)
{
	u64 t = phys_alloc(kvm->pm, 0), *e;
	unsigned int i;

	if (!t)
		return 0;
	e = phys_va(kvm->pm, t);
	for (i = 0; i < ENTRIES; i++)
		e[i] = kspte_nonpresent(&kvm->cfg);
	__atomic_add_fetch(&kvm->table_pages, 1, __ATOMIC_RELAXED);
	return t;
}

struct table_free {
	struct rcu_head rcu;
	struct kvm *kvm;
	u64 table;
};

static void free_table_rcu(struct rcu_head *head)
{
	struct table_free *tf = container_of(head, struct table_free, rcu);

	phys_free(tf->kvm->pm, tf->table, 0);	/* poisons the page */
	__atomic_sub_fetch(&tf->kvm->table_pages, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tf->kvm->tables_freed, 1, __ATOMIC_RELAXED);
	free(tf);
}

/* Defer freeing a table page past every RCU reader, as KVM does. */
static void defer_free_table(struct kvm *kvm, u64 table)
{
	struct table_free *tf = malloc(sizeof(*tf));

	tf->kvm = kvm;
	tf->table = table;
	call_rcu(&tf->rcu, free_table_rcu);
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

/* KVM's flush: tell every importer, synchronously. */
static void flush(struct kvm *kvm, u64 gfn_start, u64 gfn_end, unsigned int flags)
{
	struct kvm_tdp_importer *imp;

	kvm->flushes++;
	pthread_mutex_lock(&kvm->importers_lock);
	list_for_each_entry(imp, &kvm->importers, node) {
		if (kvm->skip_invalidate > 0) {
			kvm->skip_invalidate--;
			continue;
		}
		kvm->importer_calls++;
		imp->ops->invalidate(imp, gfn_start, gfn_end, flags);
	}
	pthread_mutex_unlock(&kvm->importers_lock);
}

static struct kvm_model_slot *find_slot(struct kvm *kvm, u64 gfn)
{
	unsigned int i;

	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_model_slot *s = &kvm->slots[i];

		if (s->used && gfn >= s->base_gfn && gfn < s->base_gfn + s->npages)
			return s;
	}
	return NULL;
}

static void free_tree(struct kvm *kvm, u64 table, unsigned int level, bool defer)
{
	u64 *e = phys_va(kvm->pm, table);
	unsigned int i;

	for (i = 0; level > 1 && i < ENTRIES; i++)
		if (is_present(kvm, e[i]) && !is_leaf(kvm, e[i], level))
			free_tree(kvm, e[i] & ADDR_MASK, level - 1, defer);
	if (defer) {
		defer_free_table(kvm, table);
	} else {
		phys_free(kvm->pm, table, 0);
		kvm->table_pages--;
	}
}

static void kvm_model_destroy(struct file *file)
{
	struct kvm *kvm = file->private_data;
	struct kvm_tdp_importer *imp, *tmp;
	unsigned int i;

	list_for_each_entry_safe(imp, tmp, &kvm->importers, node)
		imp->ops->release(imp);
	if (kvm->root)
		free_tree(kvm, kvm->root, kvm->cfg.root_level, false);
	kvm->root = 0;
	WARN_ON(!list_empty(&kvm->listeners));
	for (i = 0; i < KVM_MODEL_SLOTS; i++)
		kvm_model_delete_slot(kvm, i);
	rcu_barrier();
	pthread_mutex_lock(&kvm_models_lock);
	kvm_models[kvm->id] = NULL;
	pthread_mutex_unlock(&kvm_models_lock);
	if (kvm->destroyed)
		*kvm->destroyed = true;
	pthread_rwlock_destroy(&kvm->mmu_lock);
	pthread_mutex_destroy(&kvm->importers_lock);
	pthread_mutex_destroy(&kvm->slots_lock);
	free(kvm);
}

struct kvm *kvm_model_create(struct phys *pm, const struct kspte_cfg *cfg,
			     bool *destroyed)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));

	if (!kvm)
		return NULL;
	kvm->pm = pm;
	kvm->cfg = *cfg;
	kvm->destroyed = destroyed;
	if (destroyed)
		*destroyed = false;
	pthread_rwlock_init(&kvm->mmu_lock, NULL);
	pthread_mutex_init(&kvm->importers_lock, NULL);
	INIT_LIST_HEAD(&kvm->importers);
	pthread_mutex_init(&kvm->slots_lock, NULL);
	INIT_LIST_HEAD(&kvm->listeners);
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

static void slot_desc(const struct kvm_model_slot *s, struct kvm_tdp_memslot *d)
{
	d->gpa = s->base_gfn << PAGE_SHIFT;
	d->size = s->npages << PAGE_SHIFT;
	d->hva = s->hva;
	d->readonly = s->readonly;
	d->dirty_log = s->dirty_log;
}

/*
 * KVM's order for one change: every listener prepares (the first failure
 * aborts the ones before it and fails the change), KVM makes the change,
 * every listener commits.  Called with slots_lock held.
 */
static int slots_prepare(struct kvm *kvm, const struct kvm_tdp_memslot *old,
			 const struct kvm_tdp_memslot *new,
			 enum kvm_tdp_memslot_change change)
{
	struct kvm_tdp_memslot_listener *l, *failed = NULL;
	int ret = 0;

	list_for_each_entry(l, &kvm->listeners, node) {
		ret = l->ops->prepare(l, old, new, change);
		if (ret) {
			failed = l;
			break;
		}
	}
	/* kvm_prepare_memory_region() fails after the listeners prepared */
	if (!ret && kt_should_fail("kvm_prepare_memory_region"))
		ret = -ENOMEM;
	if (!ret)
		return 0;
	list_for_each_entry(l, &kvm->listeners, node) {
		if (l == failed)
			break;
		l->ops->abort(l, old, new, change);
	}
	return ret;
}

static void slots_commit(struct kvm *kvm, const struct kvm_tdp_memslot *old,
			 const struct kvm_tdp_memslot *new,
			 enum kvm_tdp_memslot_change change)
{
	struct kvm_tdp_memslot_listener *l;

	list_for_each_entry(l, &kvm->listeners, node)
		l->ops->commit(l, old, new, change);
}

static bool slot_overlaps(struct kvm *kvm, unsigned int skip, u64 gfn, u64 npages)
{
	unsigned int i;

	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_model_slot *s = &kvm->slots[i];

		if (i != skip && s->used && gfn < s->base_gfn + s->npages &&
		    s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

int kvm_model_set_slot(struct kvm *kvm, unsigned int slot, u64 gpa, u64 size,
		       bool readonly)
{
	struct kvm_tdp_memslot desc;
	struct kvm_model_slot *s;
	int ret;

	if (slot >= KVM_MODEL_SLOTS || !size || (gpa | size) & (PAGE_SIZE - 1))
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
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
	s->base_gfn = gpa >> PAGE_SHIFT;
	s->npages = size >> PAGE_SHIFT;
	s->readonly = readonly;
	s->dirty_log = false;
	slot_desc(s, &desc);
	ret = slots_prepare(kvm, NULL, &desc, KVM_TDP_SLOT_CREATE);
	if (ret) {
		u64 i;

		/* the VMM unmaps the memory it had prepared for the slot */
		for (i = 0; i < s->npages; i++) {
			WARN_ON(s->pages[i].pins);
			phys_free(kvm->pm, s->backing[i], 0);
		}
		goto out_free;
	}
	__atomic_store_n(&s->used, true, __ATOMIC_RELEASE);
	slots_commit(kvm, NULL, &desc, KVM_TDP_SLOT_CREATE);
	pthread_mutex_unlock(&kvm->slots_lock);
	return 0;

out_free:
	free(s->backing);
	free(s->discarded);
	free(s->pages);
	s->backing = s->discarded = NULL;
	s->pages = NULL;
out_unlock:
	pthread_mutex_unlock(&kvm->slots_lock);
	return ret;
}

int kvm_model_delete_slot(struct kvm *kvm, unsigned int slot)
{
	struct kvm_tdp_memslot desc;
	struct kvm_model_slot *s;
	int ret;
	u64 i;

	if (slot >= KVM_MODEL_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	s = &kvm->slots[slot];
	ret = -EINVAL;
	if (!s->used)
		goto out_unlock;
	slot_desc(s, &desc);
	ret = slots_prepare(kvm, &desc, NULL, KVM_TDP_SLOT_DELETE);
	if (ret)
		goto out_unlock;
	/* KVM invalidates the slot (no new faults), then zaps and flushes */
	__atomic_store_n(&s->used, false, __ATOMIC_RELEASE);
	kvm_model_zap(kvm, s->base_gfn, s->base_gfn + s->npages, false);
	slots_commit(kvm, &desc, NULL, KVM_TDP_SLOT_DELETE);
	/* The VMM frees the memory after the ioctl: nothing may pin it now */
	for (i = 0; i < s->npages; i++) {
		WARN_ON(s->pages[i].pins);
		phys_free(kvm->pm, s->backing[i], 0);
		phys_free(kvm->pm, s->discarded[i], 0);
	}
	free(s->backing);
	free(s->discarded);
	free(s->pages);
	s->backing = s->discarded = NULL;
	s->pages = NULL;
out_unlock:
	pthread_mutex_unlock(&kvm->slots_lock);
	return ret;
}

int kvm_model_move_slot(struct kvm *kvm, unsigned int slot, u64 new_gpa)
{
	struct kvm_tdp_memslot old, new;
	struct kvm_model_slot *s;
	u64 old_gfn;
	int ret;

	if (slot >= KVM_MODEL_SLOTS || new_gpa & (PAGE_SIZE - 1))
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	s = &kvm->slots[slot];
	ret = -EINVAL;
	if (!s->used)
		goto out_unlock;
	ret = -EEXIST;
	if (slot_overlaps(kvm, slot, new_gpa >> PAGE_SHIFT, s->npages))
		goto out_unlock;
	slot_desc(s, &old);
	new = old;
	new.gpa = new_gpa;
	ret = slots_prepare(kvm, &old, &new, KVM_TDP_SLOT_MOVE);
	if (ret)
		goto out_unlock;
	old_gfn = s->base_gfn;
	__atomic_store_n(&s->used, false, __ATOMIC_RELEASE);
	kvm_model_zap(kvm, old_gfn, old_gfn + s->npages, false);
	s->base_gfn = new_gpa >> PAGE_SHIFT;
	__atomic_store_n(&s->used, true, __ATOMIC_RELEASE);
	slots_commit(kvm, &old, &new, KVM_TDP_SLOT_MOVE);
out_unlock:
	pthread_mutex_unlock(&kvm->slots_lock);
	return ret;
}

int kvm_model_set_dirty_log(struct kvm *kvm, unsigned int slot, bool on)
{
	struct kvm_tdp_memslot old, new;
	struct kvm_model_slot *s;
	int ret;

	if (slot >= KVM_MODEL_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	s = &kvm->slots[slot];
	ret = -EINVAL;
	if (!s->used)
		goto out_unlock;
	slot_desc(s, &old);
	new = old;
	new.dirty_log = on;
	ret = slots_prepare(kvm, &old, &new, KVM_TDP_SLOT_FLAGS);
	if (ret)
		goto out_unlock;
	s->dirty_log = on;
	/* KVM write-protects the slot to log writes */
	if (on)
		kvm_model_wrprot(kvm, s->base_gfn, s->base_gfn + s->npages);
	slots_commit(kvm, &old, &new, KVM_TDP_SLOT_FLAGS);
out_unlock:
	pthread_mutex_unlock(&kvm->slots_lock);
	return ret;
}

int kvm_tdp_export_listen(struct kvm *kvm, struct kvm_tdp_memslot_listener *l)
{
	struct kvm_tdp_memslot desc;
	unsigned int i, j;
	int ret = 0;

	pthread_mutex_lock(&kvm->slots_lock);
	for (i = 0; i < KVM_MODEL_SLOTS && !ret; i++) {
		if (!kvm->slots[i].used)
			continue;
		slot_desc(&kvm->slots[i], &desc);
		ret = l->ops->prepare(l, NULL, &desc, KVM_TDP_SLOT_CREATE);
		if (!ret)
			l->ops->commit(l, NULL, &desc, KVM_TDP_SLOT_CREATE);
	}
	if (ret) {
		/* Undo the slots reported before the failing one */
		for (j = 0; j + 1 < i; j++) {
			if (!kvm->slots[j].used)
				continue;
			slot_desc(&kvm->slots[j], &desc);
			l->ops->commit(l, &desc, NULL, KVM_TDP_SLOT_DELETE);
		}
	} else {
		list_add_tail(&l->node, &kvm->listeners);
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	return ret;
}

void kvm_tdp_export_unlisten(struct kvm *kvm, struct kvm_tdp_memslot_listener *l)
{
	pthread_mutex_lock(&kvm->slots_lock);
	list_del(&l->node);
	pthread_mutex_unlock(&kvm->slots_lock);
}

static int ensure_root(struct kvm *kvm)
{
	if (!kvm->root)
		kvm->root = alloc_table(kvm);
	return kvm->root ? 0 : -ENOMEM;
}

/* Install a 4 KiB leaf for @gfn (mmu_lock held for read). */
static int map_gfn(struct kvm *kvm, u64 gfn, bool writable, u64 hpa)
{
	u64 table = kvm->root;
	unsigned int level;

	for (level = kvm->cfg.root_level; level > 1; level--) {
		u64 *e = entry(kvm, table, gfn, level);
		u64 old = __atomic_load_n(e, __ATOMIC_ACQUIRE);

		if (!is_present(kvm, old)) {
			u64 child = alloc_table(kvm);

			if (!child)
				return -ENOMEM;
			if (!__atomic_compare_exchange_n(e, &old, kspte_nonleaf(&kvm->cfg, child),
							 false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST)) {
				phys_free(kvm->pm, child, 0);	/* lost the race */
				kvm->table_pages--;
			}
			old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		}
		table = old & ADDR_MASK;
	}
	{
		u64 *e = entry(kvm, table, gfn, 1);
		u64 old = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		u64 new = kspte_leaf(&kvm->cfg, hpa >> PAGE_SHIFT, 1, writable, true,
				     false, true);

		if (is_present(kvm, old) && (old & ADDR_MASK) == hpa && (!writable || (old & 2)))
			return 0;
		/* KVM zaps before changing a PFN; a present old leaf here is an upgrade */
		__atomic_compare_exchange_n(e, &old, new, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	}
	return 0;
}

int kvm_model_fault(struct kvm *kvm, u64 gpa, bool write)
{
	u64 gfn = gpa >> PAGE_SHIFT, *page;
	struct kvm_model_slot *s;
	int ret;

	pthread_rwlock_rdlock(&kvm->mmu_lock);
	s = find_slot(kvm, gfn);
	if (!s) {
		ret = -ENOENT;
		goto out;
	}
	if (write && s->readonly) {
		ret = -EFAULT;
		goto out;
	}
	ret = ensure_root(kvm);
	if (ret)
		goto out;
	page = &s->backing[gfn - s->base_gfn];
	if (!*page) {
		u64 p = phys_alloc(kvm->pm, 0);
		u64 zero = 0;

		if (!p) {
			ret = -ENOMEM;
			goto out;
		}
		if (!__atomic_compare_exchange_n(page, &zero, p, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			phys_free(kvm->pm, p, 0);
	}
	/* KVM maps writable when the slot and the host page allow it */
	ret = map_gfn(kvm, gfn, !s->readonly, *page);
out:
	pthread_rwlock_unlock(&kvm->mmu_lock);
	return ret;
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
		if (write)
			memcpy(phys_va(kvm->pm, hpa), buf, chunk);
		else
			memcpy(buf, phys_va(kvm->pm, hpa), chunk);
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

u64 kvm_model_backing(struct kvm *kvm, u64 gpa)
{
	struct kvm_model_slot *s = find_slot(kvm, gpa >> PAGE_SHIFT);

	return s ? __atomic_load_n(&s->backing[(gpa >> PAGE_SHIFT) - s->base_gfn],
				   __ATOMIC_ACQUIRE) : 0;
}

u64 kvm_model_discarded(struct kvm *kvm, u64 gpa)
{
	struct kvm_model_slot *s = find_slot(kvm, gpa >> PAGE_SHIFT);

	return s ? s->discarded[(gpa >> PAGE_SHIFT) - s->base_gfn] : 0;
}

/* Zap leaves in [gfn_start, gfn_end) under the write lock; true if any changed. */
static bool zap_range(struct kvm *kvm, u64 table, unsigned int level, u64 base,
		      u64 gfn_start, u64 gfn_end, bool tables, bool *unlinked)
{
	u64 span = 1ULL << (9 * (level - 1));
	bool changed = false;
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
			__atomic_store_n(e, kspte_nonpresent(&kvm->cfg), __ATOMIC_RELEASE);
			changed = true;
		} else if (tables && level == 2 && gfn >= gfn_start && gfn + span <= gfn_end) {
			/* unlink the whole L1 table; freed after the flush, via RCU */
			__atomic_store_n(e, kspte_nonpresent(&kvm->cfg), __ATOMIC_RELEASE);
			free_tree(kvm, old & ADDR_MASK, level - 1, true);
			*unlinked = changed = true;
		} else {
			changed |= zap_range(kvm, old & ADDR_MASK, level - 1, gfn,
					     gfn_start, gfn_end, tables, unlinked);
		}
	}
	return changed;
}

void kvm_model_zap(struct kvm *kvm, u64 gfn_start, u64 gfn_end, bool tables)
{
	bool unlinked = false;

	pthread_rwlock_wrlock(&kvm->mmu_lock);
	rcu_read_lock();
	if (kvm->root &&
	    zap_range(kvm, kvm->root, kvm->cfg.root_level, 0, gfn_start, gfn_end,
		      tables, &unlinked))
		flush(kvm, gfn_start, gfn_end,
		      unlinked ? KVM_TDP_INV_TABLES : KVM_TDP_INV_LEAF);
	/* the unlinked tables' RCU callbacks cannot run before this */
	rcu_read_unlock();
	pthread_rwlock_unlock(&kvm->mmu_lock);
}

void kvm_model_discard(struct kvm *kvm, u64 gpa, u64 len)
{
	u64 gfn, start = gpa >> PAGE_SHIFT, end = (gpa + len + PAGE_SIZE - 1) >> PAGE_SHIFT;

	/* invalidate_range_start: zap and flush before the pages go */
	kvm_model_zap(kvm, start, end, false);
	for (gfn = start; gfn < end; gfn++) {
		struct kvm_model_slot *s = find_slot(kvm, gfn);
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
}

static bool wrprot_range(struct kvm *kvm, u64 table, unsigned int level, u64 base,
			 u64 gfn_start, u64 gfn_end)
{
	u64 span = 1ULL << (9 * (level - 1));
	bool changed = false;
	unsigned int i;

	for (i = 0; i < ENTRIES; i++) {
		u64 gfn = base + i * span, *e = (u64 *)phys_va(kvm->pm, table) + i;
		u64 old = __atomic_load_n(e, __ATOMIC_ACQUIRE);

		if (gfn + span <= gfn_start || gfn >= gfn_end || !is_present(kvm, old))
			continue;
		if (!is_leaf(kvm, old, level)) {
			changed |= wrprot_range(kvm, old & ADDR_MASK, level - 1, gfn,
						gfn_start, gfn_end);
		} else if (old & 2) {
			__atomic_store_n(e, kspte_wrprot(&kvm->cfg, old), __ATOMIC_RELEASE);
			changed = true;
		}
	}
	return changed;
}

void kvm_model_wrprot(struct kvm *kvm, u64 gfn_start, u64 gfn_end)
{
	pthread_rwlock_wrlock(&kvm->mmu_lock);
	if (kvm->root && wrprot_range(kvm, kvm->root, kvm->cfg.root_level, 0,
				      gfn_start, gfn_end))
		flush(kvm, gfn_start, gfn_end, KVM_TDP_INV_LEAF);
	pthread_rwlock_unlock(&kvm->mmu_lock);
}

int kvm_model_replace_root(struct kvm *kvm)
{
	struct kvm_tdp_importer *imp;
	u64 old, new;

	pthread_rwlock_wrlock(&kvm->mmu_lock);
	new = alloc_table(kvm);
	if (!new) {
		pthread_rwlock_unlock(&kvm->mmu_lock);
		return -ENOMEM;
	}
	old = kvm->root;
	kvm->root = new;
	kvm->root_replacements++;
	rcu_read_lock();
	pthread_mutex_lock(&kvm->importers_lock);
	list_for_each_entry(imp, &kvm->importers, node)
		imp->ops->root_changed(imp, new);
	pthread_mutex_unlock(&kvm->importers_lock);
	if (old)
		free_tree(kvm, old, kvm->cfg.root_level, true);
	rcu_read_unlock();
	pthread_rwlock_unlock(&kvm->mmu_lock);
	return 0;
}

u64 kvm_model_spte(struct kvm *kvm, u64 gpa, unsigned int *level)
{
	u64 table = kvm->root, gfn = gpa >> PAGE_SHIFT, spte = kspte_nonpresent(&kvm->cfg);
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

/* ---- the exporter (KVM's side of include/linux/kvm_tdp_export.h) ---- */

int kvm_tdp_export_register(struct kvm *kvm, struct kvm_tdp_importer *imp,
			    struct kvm_tdp_export *exp)
{
	int ret;

	if (kt_should_fail("kvm_tdp_export_register"))
		return -ENOMEM;
	pthread_rwlock_wrlock(&kvm->mmu_lock);
	ret = ensure_root(kvm);
	if (!ret) {
		exp->root = kvm->root;
		kspte_format(&kvm->cfg, &exp->fmt);
		pthread_mutex_lock(&kvm->importers_lock);
		list_add_tail(&imp->node, &kvm->importers);
		pthread_mutex_unlock(&kvm->importers_lock);
	}
	pthread_rwlock_unlock(&kvm->mmu_lock);
	return ret;
}

void kvm_tdp_export_unregister(struct kvm *kvm, struct kvm_tdp_importer *imp)
{
	pthread_rwlock_wrlock(&kvm->mmu_lock);
	pthread_mutex_lock(&kvm->importers_lock);
	list_del(&imp->node);
	pthread_mutex_unlock(&kvm->importers_lock);
	pthread_rwlock_unlock(&kvm->mmu_lock);
}

int kvm_tdp_export_map(struct kvm *kvm, u64 gpa, unsigned int flags, u64 *mapped_size)
{
	int ret = kvm_model_fault(kvm, gpa, flags & KVM_TDP_MAP_WRITE);

	if (!ret && mapped_size)
		*mapped_size = PAGE_SIZE;
	return ret;
}

/* ---- the VMM's view of guest memory, for the pin stand-in ---- */

unsigned long kvm_model_hva(struct kvm *kvm, u64 gpa)
{
	return KVM_MODEL_HVA_BASE + ((u64)kvm->id << KVM_MODEL_HVA_SHIFT) + gpa;
}

/* The slot the VMM maps at @hva: a moved slot keeps its mapping. */
static struct kvm_model_slot *find_slot_hva(struct kvm *kvm, unsigned long hva)
{
	unsigned int i;

	for (i = 0; i < KVM_MODEL_SLOTS; i++) {
		struct kvm_model_slot *s = &kvm->slots[i];

		/* the VMM's memory exists before KVM installs the slot */
		if (s->backing && hva >= s->hva && hva < s->hva + (s->npages << PAGE_SHIFT))
			return s;
	}
	return NULL;
}

struct page *kvm_model_hva_to_page(unsigned long hva, bool write)
{
	u64 off = hva - KVM_MODEL_HVA_BASE, idx, *backing;
	struct kvm_model_slot *s;
	struct kvm *kvm;

	if (hva < KVM_MODEL_HVA_BASE || (off >> KVM_MODEL_HVA_SHIFT) >= KVM_MODEL_MAX)
		return NULL;
	kvm = kvm_models[off >> KVM_MODEL_HVA_SHIFT];
	s = kvm ? find_slot_hva(kvm, hva) : NULL;
	if (!s || (write && s->readonly))
		return NULL;
	idx = (hva - s->hva) >> PAGE_SHIFT;
	backing = &s->backing[idx];
	if (!*backing) {			/* the VMM touches the page */
		u64 p = phys_alloc(kvm->pm, 0), zero = 0;

		if (!p)
			return NULL;
		if (!__atomic_compare_exchange_n(backing, &zero, p, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			phys_free(kvm->pm, p, 0);
	}
	s->pages[idx].hpa = *backing;
	return &s->pages[idx];
}

/* Sum over every guest page: its pins, or whether a host page backs it. */
static long count_pages(struct kvm *kvm, bool pins)
{
	long n = 0;
	unsigned int i;
	u64 g;

	for (i = 0; i < KVM_MODEL_SLOTS; i++)
		for (g = 0; kvm->slots[i].used && g < kvm->slots[i].npages; g++)
			n += pins ? kvm->slots[i].pages[g].pins : !!kvm->slots[i].backing[g];
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
