// SPDX-License-Identifier: GPL-2.0
/*
 * Exporting a VM's TDP root to importers that program it into an IOMMU: the
 * arch-neutral part, built into KVM.  See include/linux/kvm_tdp_export.h for
 * the contract and DOC: Inside KVM there for the split with the arch's MMU.
 *
 * DOC: The arch-neutral exporter
 *
 * Importers: registration adds an importer to kvm->tdp_export.importers;
 * the first one has the arch find (or create) the root and hold it
 * (kvm_arch_tdp_export_get_root()), the last one to go has it let go
 * (kvm_arch_tdp_export_put_root()).  VM destruction calls every importer's
 * ->release() before the arch's MMU is torn down, then lets the root go.
 *
 * Invalidation: the arch records every change to the exported root that
 * removes or downgrades a translation, as it makes it, into one pending GFN
 * range plus KVM_TDP_INV_TABLES when table pages were unlinked
 * (kvm_tdp_export_record()).  kvm_tdp_export_flush() hands the pending
 * range to every importer's ->invalidate() and clears it.  The arch calls
 * it wherever it flushes the CPUs' TLBs, and at the latest before table
 * pages it unlinked can be freed, so an IOMMU is invalidated no later than
 * the CPUs for the same change.
 *
 * Memslots: KVM's memslot code hands each change to
 * kvm_tdp_export_memslot_prepare() before it changes anything; for a user
 * memslot of address space 0 that describes it (struct
 * kvm_tdp_memslot_notice) and has the listeners prepare
 * (kvm_tdp_export_slots_prepare()); KVM then has them commit or abort
 * (kvm_tdp_export_slots_end()).
 */
#include <linux/kvm_host.h>
#include <linux/kvm_tdp_export.h>

/**
 * kvm_tdp_export_init() - initialize a VM's exporter state
 * @kvm: the VM, being created
 *
 * Context: process context, before the VM is visible to anyone.
 */
void kvm_tdp_export_init(struct kvm *kvm)
{
	struct kvm_tdp_export_state *exp = &kvm->tdp_export;

	mutex_init(&exp->lock);
	spin_lock_init(&exp->inv_lock);
	INIT_LIST_HEAD(&exp->importers);
	exp->pending = false;
	INIT_LIST_HEAD(&kvm->memslot_listeners);
}

/**
 * kvm_tdp_export_record() - note a change to the exported root
 * @kvm: the VM
 * @start: first GFN whose translation was removed or downgraded
 * @end: end of the range (exclusive)
 * @flags: KVM_TDP_INV_TABLES if table pages covering the range were
 *	unlinked, else KVM_TDP_INV_LEAF
 *
 * Adds the range to the pending invalidation, which the next
 * kvm_tdp_export_flush() hands to the importers.
 *
 * Context: the arch's MMU, with its MMU lock held, right after the change.
 */
void kvm_tdp_export_record(struct kvm *kvm, u64 start, u64 end,
			   unsigned int flags)
{
	struct kvm_tdp_export_state *exp = &kvm->tdp_export;

	spin_lock(&exp->inv_lock);
	if (exp->pending) {
		exp->pend_start = min(exp->pend_start, start);
		exp->pend_end = max(exp->pend_end, end);
		exp->pend_flags |= flags;
	} else {
		exp->pend_start = start;
		exp->pend_end = end;
		exp->pend_flags = flags;
		WRITE_ONCE(exp->pending, true);
	}
	spin_unlock(&exp->inv_lock);
}

/**
 * kvm_tdp_export_flush() - invalidate the importers for what was recorded
 * @kvm: the VM
 *
 * Calls every importer's ->invalidate() with the pending range, if any,
 * and returns only once they all have.  A caller that finds nothing
 * pending returns at once: whoever cleared it had finished invalidating.
 *
 * Context: any context the arch flushes TLBs from; does not sleep.
 */
void kvm_tdp_export_flush(struct kvm *kvm)
{
	struct kvm_tdp_export_state *exp = &kvm->tdp_export;
	struct kvm_tdp_importer *imp;

	/* Nothing recorded, or already invalidated (see below). */
	if (!smp_load_acquire(&exp->pending))
		return;

	spin_lock(&exp->inv_lock);
	if (exp->pending) {
		list_for_each_entry(imp, &exp->importers, node)
			imp->ops->invalidate(imp, exp->pend_start,
					     exp->pend_end, exp->pend_flags);
		/*
		 * Only now that every importer is done: a flusher that sees
		 * @pending clear must not return before the hardware has
		 * dropped the translations.  Pairs with the acquire above.
		 */
		smp_store_release(&exp->pending, false);
	}
	spin_unlock(&exp->inv_lock);
}

/**
 * kvm_tdp_export_importers_hold() - does an importer hold a leaf's pages
 * @kvm: the VM
 * @gfn: first GFN of a leaf of the exported root
 * @npages: the leaf's size in pages
 * @pfn: first PFN the leaf maps
 *
 * Asks the importers' ->holds(), see DOC: Translations of pinned pages and
 * DOC: Dirty logging in include/linux/kvm_tdp_export.h: a leaf one of them
 * holds stays across an MMU-notifier invalidation that cannot change a
 * pinned page, and is not write-protected for dirty logging.
 *
 * Context: the arch's MMU, with its MMU lock held (read or write).
 * Return: true if an importer holds every page of the leaf.
 */
bool kvm_tdp_export_importers_hold(struct kvm *kvm, u64 gfn, u64 npages,
				   u64 pfn)
{
	struct kvm_tdp_export_state *exp = &kvm->tdp_export;
	struct kvm_tdp_importer *imp;
	bool held = false;

	spin_lock(&exp->inv_lock);
	list_for_each_entry(imp, &exp->importers, node) {
		if (imp->ops->holds && imp->ops->holds(imp, gfn, npages, pfn)) {
			held = true;
			break;
		}
	}
	spin_unlock(&exp->inv_lock);

	return held;
}

/**
 * kvm_tdp_export_root_changed() - the arch replaced the exported root
 * @kvm: the VM
 * @new_root: physical address of the new root, 0 for none
 *
 * Calls every importer's ->root_changed(); they have re-pointed their
 * hardware and invalidated when this returns, so the arch may free the old
 * root afterwards.  An arch that keeps its exported root for the VM's life
 * (x86's TDP MMU) never calls it.
 *
 * Context: the arch's MMU, with its MMU lock held; does not sleep.
 */
void kvm_tdp_export_root_changed(struct kvm *kvm, u64 new_root)
{
	struct kvm_tdp_export_state *exp = &kvm->tdp_export;
	struct kvm_tdp_importer *imp;

	spin_lock(&exp->inv_lock);
	list_for_each_entry(imp, &exp->importers, node)
		imp->ops->root_changed(imp, new_root);
	spin_unlock(&exp->inv_lock);
}

/**
 * kvm_tdp_export_vmid_changed() - the exported root's TLB tag changed
 * @kvm: the VM
 * @vmid: the stage-2 identifier KVM now tags the root's translations with
 *
 * Calls every importer's ->vmid_changed(), if it has one.  An arch whose
 * TLB entries carry no identifier an importer shares (x86) never calls it.
 *
 * Context: the arch's MMU, with its MMU lock held; does not sleep.
 */
void kvm_tdp_export_vmid_changed(struct kvm *kvm, u64 vmid)
{
	struct kvm_tdp_export_state *exp = &kvm->tdp_export;
	struct kvm_tdp_importer *imp;

	spin_lock(&exp->inv_lock);
	list_for_each_entry(imp, &exp->importers, node)
		if (imp->ops->vmid_changed)
			imp->ops->vmid_changed(imp, vmid);
	spin_unlock(&exp->inv_lock);
}

/**
 * kvm_tdp_export_register() - export the VM's TDP root to an importer
 * @kvm: the VM
 * @imp: the importer, with @imp->ops set; @imp->node is KVM's until
 *	kvm_tdp_export_unregister() or ->release()
 * @exp: filled with the root's physical address and entry format
 *
 * Has the arch find or create the root vCPUs use (address space 0, not SMM,
 * not guest mode) and hold it, if no importer did yet, and adds @imp to the
 * importers, which get ->invalidate() calls for every change to the root
 * from here on.  @exp stays valid until @imp is unregistered or released,
 * or until ->root_changed() says otherwise.
 *
 * ->invalidate(), ->holds() and ->root_changed() are called with KVM's MMU
 * lock held (read or write), inside RCU read-side sections and under a KVM
 * spinlock: they must not sleep nor call back into KVM.  ->release() is
 * called from process context when the VM is destroyed, possibly
 * concurrently with ->invalidate(), and may sleep; the importer must stop
 * using the root before it returns and must not call
 * kvm_tdp_export_unregister() afterwards.  KVM takes no reference to the
 * VM for the importer.
 *
 * Context: process context; takes the MMU lock.  Must not be called from an
 * importer callback.
 * Return: 0 on success; -EINVAL if @imp->ops lacks ->invalidate(),
 * ->root_changed() or ->release(); the arch's error: -EOPNOTSUPP if the
 * VM's MMU cannot export its root, -EAGAIN if the root's format is not
 * known yet (x86: no vCPU yet), -ENOMEM.
 */
int kvm_tdp_export_register(struct kvm *kvm, struct kvm_tdp_importer *imp,
			    struct kvm_tdp_export *exp)
{
	struct kvm_tdp_export_state *state = &kvm->tdp_export;
	int r = 0;

	if (!imp->ops || !imp->ops->invalidate || !imp->ops->root_changed ||
	    !imp->ops->release)
		return -EINVAL;

	mutex_lock(&state->lock);
	if (list_empty(&state->importers))
		r = kvm_arch_tdp_export_get_root(kvm);
	if (!r) {
		spin_lock(&state->inv_lock);
		list_add_tail(&imp->node, &state->importers);
		spin_unlock(&state->inv_lock);
		kvm_arch_tdp_export_describe(kvm, exp);
	}
	mutex_unlock(&state->lock);

	return r;
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_register);

/* Called with the state's lock held, once the last importer is gone. */
static void kvm_tdp_export_drop_root(struct kvm *kvm)
{
	struct kvm_tdp_export_state *state = &kvm->tdp_export;

	kvm_arch_tdp_export_put_root(kvm);

	/* Nothing records into a root that is not exported. */
	spin_lock(&state->inv_lock);
	WRITE_ONCE(state->pending, false);
	spin_unlock(&state->inv_lock);
}

/**
 * kvm_tdp_export_unregister() - remove an importer of the VM's TDP root
 * @kvm: the VM
 * @imp: an importer registered with kvm_tdp_export_register()
 *
 * The importer's hardware must no longer use the root: KVM stops
 * invalidating it here.  No callback for @imp runs after this returns.
 * When the last importer goes, the arch lets the root go.
 *
 * Context: process context; takes the MMU lock.  Must not be called from an
 * importer callback, nor after ->release().
 */
void kvm_tdp_export_unregister(struct kvm *kvm, struct kvm_tdp_importer *imp)
{
	struct kvm_tdp_export_state *state = &kvm->tdp_export;
	bool last;

	mutex_lock(&state->lock);
	spin_lock(&state->inv_lock);
	list_del_init(&imp->node);
	last = list_empty(&state->importers);
	spin_unlock(&state->inv_lock);
	if (last)
		kvm_tdp_export_drop_root(kvm);
	mutex_unlock(&state->lock);
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_unregister);

/**
 * kvm_tdp_export_release() - the VM is being destroyed
 * @kvm: the VM
 *
 * Calls every importer's ->release() and lets the root go.  MMU notifiers
 * still run, so the importers stay on the list, i.e. invalidated, until
 * they have all stopped using the root.
 *
 * Context: process context, before the arch's MMU is torn down.
 */
void kvm_tdp_export_release(struct kvm *kvm)
{
	struct kvm_tdp_export_state *state = &kvm->tdp_export;
	struct kvm_tdp_importer *imp, *tmp;
	bool exported;

	mutex_lock(&state->lock);
	/* The list cannot change: that needs state->lock. */
	list_for_each_entry(imp, &state->importers, node)
		imp->ops->release(imp);

	spin_lock(&state->inv_lock);
	exported = !list_empty(&state->importers);
	list_for_each_entry_safe(imp, tmp, &state->importers, node)
		list_del_init(&imp->node);
	spin_unlock(&state->inv_lock);
	if (exported)
		kvm_tdp_export_drop_root(kvm);
	mutex_unlock(&state->lock);
}

/**
 * kvm_tdp_export_map() - fault a GPA into the exported root
 * @kvm: the VM
 * @gpa: guest physical address, in address space 0
 * @flags: KVM_TDP_MAP_WRITE to map writable (write intent: breaks CoW,
 *	allocates the page if needed), else readable
 * @mapped_size: on success, the size of the leaf now mapping @gpa,
 *	naturally aligned
 *
 * Does what a vCPU's fault on @gpa would do, from VM context and into the
 * exported root, as a real access rather than a prefetch: the leaf is
 * made accessible and, with KVM_TDP_MAP_WRITE, writable and dirty.  A GPA
 * already mapped with the requested access is not faulted again.  The
 * mapping lasts until KVM zaps it (MMU notifier, memslot change, ...),
 * which the importer learns from ->invalidate().  While the slot logs dirty
 * pages the leaf is the smallest size, and a page made writable is logged
 * in the slot's dirty bitmap, as a vCPU's write fault would log it.
 *
 * Context: Process context of a task using the VM's mm (like a KVM ioctl),
 * may sleep; takes kvm->srcu and the MMU lock.  At least one importer must
 * be registered.  Must not be called from an importer callback.
 * Return: 0 on success; -EIO if current->mm is not the VM's or the VM is
 * dead; -EINVAL for unknown @flags or if no importer is registered; the
 * arch's error: -ENOENT if @gpa is not in a user memslot (or the slot is
 * being deleted); -EPERM if KVM_TDP_MAP_WRITE is asked for a read-only slot
 * or for a page KVM keeps write-protected (write tracking); -EBUSY if the
 * slot logs dirty pages and has no dirty bitmap (a dirty ring without
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP: the write could not be logged);
 * -EOPNOTSUPP for guest_memfd slots; -EFAULT or -EHWPOISON if the host page
 * cannot be faulted in; -EINTR on a signal; -ENOMEM.
 */
int kvm_tdp_export_map(struct kvm *kvm, u64 gpa, unsigned int flags,
		       u64 *mapped_size)
{
	struct kvm_tdp_export_state *state = &kvm->tdp_export;
	int r = -EINVAL;

	if (flags & ~KVM_TDP_MAP_WRITE)
		return -EINVAL;

	/* Host pages are looked up in current->mm, as for KVM ioctls. */
	if (current->mm != kvm->mm || kvm->vm_dead)
		return -EIO;

	mutex_lock(&state->lock);
	if (!list_empty(&state->importers))
		r = kvm_arch_tdp_export_map(kvm, gpa, flags & KVM_TDP_MAP_WRITE,
					    mapped_size);
	mutex_unlock(&state->lock);
	return r;
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_map);

/**
 * kvm_tdp_export_map_range() - fault a GPA range into the exported root
 * @kvm: the VM
 * @gpa: first guest physical address, in address space 0, page-aligned
 * @size: bytes, page-aligned
 * @flags: KVM_TDP_MAP_WRITE to map writable, as for kvm_tdp_export_map()
 * @done: set to how many bytes from @gpa are mapped: @size on success,
 *	else those before the page that failed
 *
 * kvm_tdp_export_map() for each page of [@gpa, @gpa + @size), in order,
 * with the same semantics per page, but in batches: the arch maps many
 * pages per walk of the root.  The first error stops the range.
 *
 * Context: as kvm_tdp_export_map().  kvm->tdp_export.lock is taken for each
 * batch, not for the whole range, and the task may be rescheduled between
 * batches; an importer registered or unregistered meanwhile affects the
 * batches after.
 * Return: 0 on success; -EINVAL for unknown @flags, an unaligned or
 * wrapping range, or if no importer is registered; else the first page's
 * error as kvm_tdp_export_map() returns it (-ENOENT for a page outside
 * user memslots, -EPERM, -EBUSY, -EOPNOTSUPP, -EFAULT, -EHWPOISON, -EINTR,
 * -ENOMEM, -EIO).
 */
int kvm_tdp_export_map_range(struct kvm *kvm, u64 gpa, u64 size,
			     unsigned int flags, u64 *done)
{
	struct kvm_tdp_export_state *state = &kvm->tdp_export;
	u64 mapped, end;
	int r;

	*done = 0;
	if ((flags & ~KVM_TDP_MAP_WRITE) || !IS_ALIGNED(gpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE) || check_add_overflow(gpa, size, &end))
		return -EINVAL;

	while (*done < size) {
		/* Host pages are looked up in current->mm, as for ioctls. */
		if (current->mm != kvm->mm || kvm->vm_dead)
			return -EIO;

		mapped = 0;
		r = -EINVAL;
		mutex_lock(&state->lock);
		if (!list_empty(&state->importers))
			r = kvm_arch_tdp_export_map_range(kvm, gpa + *done,
							  size - *done,
							  flags & KVM_TDP_MAP_WRITE,
							  &mapped);
		mutex_unlock(&state->lock);
		*done += mapped;
		if (r)
			return r;
		cond_resched();
	}
	return 0;
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_map_range);

/**
 * kvm_tdp_export_zap() - zap leaves of the exported root
 * @kvm: the VM
 * @gfn: first GFN
 * @npages: number of GFNs
 *
 * Zaps the exported root's leaves of GFNs [@gfn, @gfn + @npages), held
 * pages included, and invalidates the importers before returning.  An
 * importer calls it before it drops pins for which ->holds() answered
 * true, so that no leaf outlives the pin that made keeping it safe.  vCPUs
 * fault the pages back in as usual; nothing happens without an exported
 * root.
 *
 * Context: process context; takes the MMU lock.
 */
void kvm_tdp_export_zap(struct kvm *kvm, u64 gfn, u64 npages)
{
	kvm_arch_tdp_export_zap(kvm, gfn, npages);
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_zap);

/**
 * kvm_tdp_export_dma_loggable() - can the VM log pages written without a vCPU
 * @kvm: the VM
 *
 * A device writes guest memory without a vCPU, so its writes can only be
 * logged in the memslots' dirty bitmaps: not in a VM that uses the dirty ring
 * without KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP.  An importer checks this before
 * it lets a device write the VM's memory (see DOC: Dirty logging in
 * include/linux/kvm_tdp_export.h).
 *
 * Context: any.
 * Return: false for such a VM, else true.
 */
bool kvm_tdp_export_dma_loggable(struct kvm *kvm)
{
	return !READ_ONCE(kvm->dirty_ring_size) ||
	       READ_ONCE(kvm->dirty_ring_with_bitmap);
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_dma_loggable);

/**
 * kvm_tdp_export_log_dirty() - have the listeners log what devices wrote
 * @kvm: the VM
 * @gfn: first GFN of a slot of address space 0 that logs dirty pages
 * @npages: the slot's size in pages
 * @bitmap: the slot's dirty bitmap
 *
 * KVM is about to report the slot's dirty pages: every listener's
 * ->log_dirty() sets the pages its devices may have written unseen.
 *
 * Context: KVM's dirty log harvest, with kvm->slots_lock held.
 * Return: the listeners' answers ORed: KVM_TDP_DIRTY_SCAN if one asks the
 * arch to report the leaves an IOMMU marked dirty as well.
 */
unsigned int kvm_tdp_export_log_dirty(struct kvm *kvm, u64 gfn, u64 npages,
				      unsigned long *bitmap)
{
	struct kvm_tdp_memslot_listener *l;
	unsigned int ask = 0;

	lockdep_assert_held(&kvm->slots_lock);

	list_for_each_entry(l, &kvm->memslot_listeners, node)
		if (l->ops->log_dirty)
			ask |= l->ops->log_dirty(l, gfn, npages, bitmap);
	return ask;
}

static const struct kvm_tdp_memslot *
notice_old(const struct kvm_tdp_memslot_notice *n)
{
	return n->change == KVM_TDP_SLOT_CREATE ? NULL : &n->old;
}

static const struct kvm_tdp_memslot *
notice_new(const struct kvm_tdp_memslot_notice *n)
{
	return n->change == KVM_TDP_SLOT_DELETE ? NULL : &n->new;
}

/* Abort the listeners before @failed (every one with NULL). */
static void kvm_tdp_export_slots_abort(struct kvm *kvm,
				       struct kvm_tdp_memslot_notice *n,
				       struct kvm_tdp_memslot_listener *failed)
{
	struct kvm_tdp_memslot_listener *l;

	list_for_each_entry(l, &kvm->memslot_listeners, node) {
		if (l == failed)
			break;
		l->ops->abort(l, notice_old(n), notice_new(n), n->change);
	}
}

/* Listeners follow guest RAM: the user memslots of address space 0. */
static bool kvm_tdp_export_slot_listened(const struct kvm_memory_slot *slot)
{
	return slot->as_id == 0 && slot->id < KVM_USER_MEM_SLOTS;
}

static void kvm_tdp_export_slot_describe(const struct kvm_memory_slot *slot,
					 struct kvm_tdp_memslot *d)
{
	d->gpa = (u64)slot->base_gfn << PAGE_SHIFT;
	d->size = (u64)slot->npages << PAGE_SHIFT;
	d->hva = slot->userspace_addr;
	d->readonly = slot->flags & KVM_MEM_READONLY;
	d->dirty_log = slot->flags & KVM_MEM_LOG_DIRTY_PAGES;
}

/**
 * kvm_tdp_export_memslot_prepare() - describe a memslot change and have the
 *	listeners prepare it
 * @kvm: the VM
 * @old: the slot before (NULL for a creation)
 * @new: the slot after (NULL for a deletion)
 * @change: KVM's enum kvm_mr_change for it
 * @n: filled with the description, for kvm_tdp_export_slots_end()
 *
 * Slots listeners do not follow (KVM's internal slots, other address
 * spaces) give an inactive @n.  The description is taken here, before KVM
 * frees the old slot.
 *
 * Context: kvm_set_memslot(), with kvm->slots_lock held, before KVM
 * changes anything.
 * Return: 0, or the failing listener's error (the change must fail).
 */
int kvm_tdp_export_memslot_prepare(struct kvm *kvm,
				   const struct kvm_memory_slot *old,
				   const struct kvm_memory_slot *new,
				   unsigned int change,
				   struct kvm_tdp_memslot_notice *n)
{
	static const enum kvm_tdp_memslot_change changes[] = {
		[KVM_MR_CREATE] = KVM_TDP_SLOT_CREATE,
		[KVM_MR_DELETE] = KVM_TDP_SLOT_DELETE,
		[KVM_MR_MOVE] = KVM_TDP_SLOT_MOVE,
		[KVM_MR_FLAGS_ONLY] = KVM_TDP_SLOT_FLAGS,
	};

	memset(n, 0, sizeof(*n));
	if (WARN_ON_ONCE(change >= ARRAY_SIZE(changes)) ||
	    !kvm_tdp_export_slot_listened(old ? old : new))
		return 0;
	n->change = changes[change];
	if (old)
		kvm_tdp_export_slot_describe(old, &n->old);
	if (new)
		kvm_tdp_export_slot_describe(new, &n->new);
	return kvm_tdp_export_slots_prepare(kvm, n);
}

/**
 * kvm_tdp_export_slots_prepare() - the listeners prepare a memslot change
 * @kvm: the VM
 * @n: the change, described; @n->active is set here
 *
 * Every listener prepares; the first failure aborts the ones before it and
 * fails the change.  When this returns 0 with listeners following the VM,
 * kvm_tdp_export_slots_end() must follow.
 *
 * Context: KVM's memslot update, with kvm->slots_lock held, before KVM
 * changes anything.
 * Return: 0, or the failing listener's error.
 */
int kvm_tdp_export_slots_prepare(struct kvm *kvm,
				 struct kvm_tdp_memslot_notice *n)
{
	struct kvm_tdp_memslot_listener *l;
	int r;

	lockdep_assert_held(&kvm->slots_lock);

	n->active = false;
	if (list_empty(&kvm->memslot_listeners))
		return 0;

	list_for_each_entry(l, &kvm->memslot_listeners, node) {
		r = l->ops->prepare(l, notice_old(n), notice_new(n), n->change);
		if (r) {
			kvm_tdp_export_slots_abort(kvm, n, l);
			return r;
		}
	}
	n->active = true;
	return 0;
}

/**
 * kvm_tdp_export_slots_end() - the listeners commit or abort a change
 * @kvm: the VM
 * @n: the change kvm_tdp_export_slots_prepare() prepared
 * @commit: KVM made the change (for delete and move, after removing and
 *	flushing every translation of the old slot), else it failed
 *
 * Context: KVM's memslot update, with kvm->slots_lock held.
 */
void kvm_tdp_export_slots_end(struct kvm *kvm, struct kvm_tdp_memslot_notice *n,
			      bool commit)
{
	struct kvm_tdp_memslot_listener *l;

	lockdep_assert_held(&kvm->slots_lock);

	if (!n->active)
		return;
	n->active = false;
	if (!commit) {
		kvm_tdp_export_slots_abort(kvm, n, NULL);
		return;
	}
	list_for_each_entry(l, &kvm->memslot_listeners, node)
		l->ops->commit(l, notice_old(n), notice_new(n), n->change);
}

/* For kvm_tdp_export_listen(): each slot listeners follow, until @fn fails. */
static int kvm_tdp_export_walk_slots(struct kvm *kvm,
				     int (*fn)(const struct kvm_tdp_memslot *slot,
					       void *arg),
				     void *arg)
{
	struct kvm_memory_slot *slot;
	struct kvm_tdp_memslot d;
	int bkt, r;

	lockdep_assert_held(&kvm->slots_lock);

	kvm_for_each_memslot(slot, bkt, __kvm_memslots(kvm, 0)) {
		if (!kvm_tdp_export_slot_listened(slot))
			continue;
		kvm_tdp_export_slot_describe(slot, &d);
		r = fn(&d, arg);
		if (r)
			return r;
	}
	return 0;
}

/* kvm_tdp_export_listen(): each existing slot, then undoing that */
struct kvm_tdp_export_listen_walk {
	struct kvm_tdp_memslot_listener *l;
	unsigned int done;
};

static int kvm_tdp_export_listen_create(const struct kvm_tdp_memslot *slot,
					void *arg)
{
	struct kvm_tdp_export_listen_walk *w = arg;
	int r;

	r = w->l->ops->prepare(w->l, NULL, slot, KVM_TDP_SLOT_CREATE);
	if (r)
		return r;
	w->l->ops->commit(w->l, NULL, slot, KVM_TDP_SLOT_CREATE);
	w->done++;
	return 0;
}

static int kvm_tdp_export_listen_undo(const struct kvm_tdp_memslot *slot,
				      void *arg)
{
	struct kvm_tdp_export_listen_walk *w = arg;

	if (!w->done)
		return 1;
	w->l->ops->commit(w->l, slot, NULL, KVM_TDP_SLOT_DELETE);
	w->done--;
	return 0;
}

/**
 * kvm_tdp_export_listen() - follow a VM's memslots
 * @kvm: the VM
 * @l: the listener, with its ops set
 *
 * Reports every existing user memslot of address space 0 as a create
 * (prepare, then commit), then every change until
 * kvm_tdp_export_unlisten(), as described in struct kvm_tdp_memslot_ops.
 *
 * Context: process context, in the VMM (the slots' addresses are in the
 * VM's mm); takes kvm->slots_lock.
 * Return: 0; -EIO when the caller does not use the VM's mm; a prepare
 * error, after the slots reported before it were reported deleted.
 */
int kvm_tdp_export_listen(struct kvm *kvm, struct kvm_tdp_memslot_listener *l)
{
	struct kvm_tdp_export_listen_walk w = { .l = l };
	int r;

	if (current->mm != kvm->mm)
		return -EIO;

	mutex_lock(&kvm->slots_lock);
	r = kvm_tdp_export_walk_slots(kvm, kvm_tdp_export_listen_create, &w);
	if (r)
		kvm_tdp_export_walk_slots(kvm, kvm_tdp_export_listen_undo, &w);
	else
		list_add_tail(&l->node, &kvm->memslot_listeners);
	mutex_unlock(&kvm->slots_lock);
	return r;
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_listen);

/**
 * kvm_tdp_export_unlisten() - stop following a VM's memslots
 * @kvm: the VM
 * @l: a listener kvm_tdp_export_listen() accepted
 *
 * No callback is running or follows once this returns.  The listener is
 * not told about the slots that still exist.
 *
 * Context: process context; takes kvm->slots_lock.
 */
void kvm_tdp_export_unlisten(struct kvm *kvm, struct kvm_tdp_memslot_listener *l)
{
	mutex_lock(&kvm->slots_lock);
	list_del(&l->node);
	mutex_unlock(&kvm->slots_lock);
}
EXPORT_SYMBOL_GPL(kvm_tdp_export_unlisten);
