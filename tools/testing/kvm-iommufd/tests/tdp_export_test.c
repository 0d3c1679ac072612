// SPDX-License-Identifier: GPL-2.0
/*
 * The arch-neutral exporter (virt/iommufd/kvm_tdp_export.c) on its own,
 * over the KVM model, with importers and memslot listeners that only
 * record what they are told: the order of prepare, commit and abort when
 * a listener refuses a change, kvm_tdp_export_listen() undoing what it
 * reported when a listener refuses an existing slot, and the pending
 * invalidation reaching every importer once.
 */
#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include <linux/kvm_tdp_export.h>
/* the TDP MMU's side: kvm_tdp_export_note_change() */
#include "../../../../arch/x86/kvm-iommu/tdp_export.h"

#define TE_MAX_CALLS	16

struct te_call {
	char what;		/* 'p'repare, 'c'ommit, 'a'bort */
	enum kvm_tdp_memslot_change change;
	u64 gpa;
};

struct te_listener {
	struct kvm_tdp_memslot_listener l;
	int refuse;		/* prepare fails with this */
	u64 refuse_gpa;		/* ... for a slot at this GPA */
	unsigned int ncalls;
	struct te_call calls[TE_MAX_CALLS];
};

static void te_note(struct kvm_tdp_memslot_listener *l, char what,
		    const struct kvm_tdp_memslot *old,
		    const struct kvm_tdp_memslot *new,
		    enum kvm_tdp_memslot_change change)
{
	struct te_listener *t = container_of(l, struct te_listener, l);

	if (t->ncalls < TE_MAX_CALLS)
		t->calls[t->ncalls++] = (struct te_call){
			.what = what, .change = change,
			.gpa = new ? new->gpa : old->gpa,
		};
}

static int te_prepare(struct kvm_tdp_memslot_listener *l,
		      const struct kvm_tdp_memslot *old,
		      const struct kvm_tdp_memslot *new,
		      enum kvm_tdp_memslot_change change)
{
	struct te_listener *t = container_of(l, struct te_listener, l);

	te_note(l, 'p', old, new, change);
	return new && new->gpa == t->refuse_gpa ? t->refuse : 0;
}

static void te_commit(struct kvm_tdp_memslot_listener *l,
		      const struct kvm_tdp_memslot *old,
		      const struct kvm_tdp_memslot *new,
		      enum kvm_tdp_memslot_change change)
{
	te_note(l, 'c', old, new, change);
}

static void te_abort(struct kvm_tdp_memslot_listener *l,
		     const struct kvm_tdp_memslot *old,
		     const struct kvm_tdp_memslot *new,
		     enum kvm_tdp_memslot_change change)
{
	te_note(l, 'a', old, new, change);
}

static const struct kvm_tdp_memslot_ops te_ops = {
	.prepare = te_prepare,
	.commit = te_commit,
	.abort = te_abort,
};

static bool te_calls_are(const struct te_listener *t, const char *whats)
{
	unsigned int i;

	for (i = 0; whats[i]; i++)
		if (i >= t->ncalls || t->calls[i].what != whats[i])
			return false;
	return i == t->ncalls;
}

static struct kvm *te_vm(struct phys **pm, bool *destroyed)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};

	*pm = phys_create(1ULL << 28);
	return *pm ? kvm_model_create(*pm, &c, destroyed) : NULL;
}

static bool te_done(struct kvm *kvm, struct phys *pm, bool *destroyed)
{
	kvm_model_close(kvm);
	ASSERT_TRUE(*destroyed);
	ASSERT_EQ(phys_allocated(pm), 0);
	phys_destroy(pm);
	return true;
}

/*
 * Two listeners; the second refuses a new slot: the first, which prepared,
 * is aborted, the second is not (its prepare failed), nobody commits, and
 * KVM fails the change with the second's error.
 */
TEST(tdp_export_refused_change_aborts_the_listeners_that_prepared)
{
	struct te_listener a = { .l.ops = &te_ops }, b = { .l.ops = &te_ops };
	bool destroyed;
	struct phys *pm;
	struct kvm *kvm = te_vm(&pm, &destroyed);

	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_tdp_export_listen(kvm, &a.l), 0);
	ASSERT_EQ(kvm_tdp_export_listen(kvm, &b.l), 0);
	b.refuse = -ENOSPC;
	b.refuse_gpa = 0x100000;
	ASSERT_EQ(kvm_model_set_slot(kvm, 1, 0x100000, 0x10000, false), -ENOSPC);
	ASSERT_TRUE(te_calls_are(&a, "pa"));
	ASSERT_EQ(a.calls[1].change, KVM_TDP_SLOT_CREATE);
	ASSERT_TRUE(te_calls_are(&b, "p"));

	/* an accepted change: both prepare, then both commit */
	a.ncalls = b.ncalls = 0;
	ASSERT_EQ(kvm_model_set_slot(kvm, 1, 0x200000, 0x10000, false), 0);
	ASSERT_TRUE(te_calls_are(&a, "pc"));
	ASSERT_TRUE(te_calls_are(&b, "pc"));
	a.ncalls = b.ncalls = 0;
	ASSERT_EQ(kvm_model_delete_slot(kvm, 1), 0);
	ASSERT_TRUE(te_calls_are(&a, "pc"));
	ASSERT_EQ(a.calls[1].change, KVM_TDP_SLOT_DELETE);
	ASSERT_EQ(a.calls[1].gpa, 0x200000);

	kvm_tdp_export_unlisten(kvm, &b.l);
	kvm_tdp_export_unlisten(kvm, &a.l);
	ASSERT_TRUE(list_empty(&kvm->memslot_listeners));
	return te_done(kvm, pm, &destroyed);
}

/*
 * kvm_tdp_export_listen() reports the existing slots as creates; when the
 * listener refuses one, the ones reported before it are reported deleted
 * and the listener is not added.
 */
TEST(tdp_export_listen_undoes_the_slots_before_a_refusal)
{
	struct te_listener a = { .l.ops = &te_ops };
	bool destroyed;
	struct phys *pm;
	struct kvm *kvm = te_vm(&pm, &destroyed);

	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_model_set_slot(kvm, 0, 0, 0x10000, false), 0);
	ASSERT_EQ(kvm_model_set_slot(kvm, 1, 0x100000, 0x10000, false), 0);
	ASSERT_EQ(kvm_model_set_slot(kvm, 2, 0x200000, 0x10000, false), 0);
	a.refuse = -EFAULT;
	a.refuse_gpa = 0x200000;
	ASSERT_EQ(kvm_tdp_export_listen(kvm, &a.l), -EFAULT);
	/* created 0 and 1, refused 2, deleted 0 and 1 */
	ASSERT_TRUE(te_calls_are(&a, "pcpcpcc"));
	ASSERT_EQ(a.calls[4].gpa, 0x200000);
	ASSERT_EQ(a.calls[5].change, KVM_TDP_SLOT_DELETE);
	ASSERT_EQ(a.calls[5].gpa, 0);
	ASSERT_EQ(a.calls[6].change, KVM_TDP_SLOT_DELETE);
	ASSERT_EQ(a.calls[6].gpa, 0x100000);
	ASSERT_TRUE(list_empty(&kvm->memslot_listeners));

	a.ncalls = 0;
	a.refuse = 0;
	ASSERT_EQ(kvm_tdp_export_listen(kvm, &a.l), 0);
	ASSERT_TRUE(te_calls_are(&a, "pcpcpc"));
	kvm_tdp_export_unlisten(kvm, &a.l);
	return te_done(kvm, pm, &destroyed);
}

struct te_importer {
	struct kvm_tdp_importer imp;
	unsigned int invalidations, released, flags;
	u64 start, end;
};

static void te_invalidate(struct kvm_tdp_importer *imp, u64 start, u64 end,
			  unsigned int flags)
{
	struct te_importer *t = container_of(imp, struct te_importer, imp);

	t->invalidations++;
	t->start = start;
	t->end = end;
	t->flags = flags;
}

static void te_root_changed(struct kvm_tdp_importer *imp, u64 new_root)
{
}

static void te_release(struct kvm_tdp_importer *imp)
{
	container_of(imp, struct te_importer, imp)->released++;
}

static const struct kvm_tdp_importer_ops te_imp_ops = {
	.invalidate = te_invalidate,
	.root_changed = te_root_changed,
	.release = te_release,
};

/*
 * A recorded change reaches every registered importer once, at the flush;
 * an unregistered importer hears nothing more; VM destruction releases the
 * ones left.
 */
TEST(tdp_export_flush_reaches_each_importer_once)
{
	struct te_importer a = { .imp.ops = &te_imp_ops }, b = { .imp.ops = &te_imp_ops };
	struct kvm_tdp_export exp;
	bool destroyed;
	struct phys *pm;
	struct kvm *kvm = te_vm(&pm, &destroyed);
	u64 mapped;
	u8 x = 1;

	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_model_set_slot(kvm, 0, 0, 0x100000, false), 0);
	/* nothing exported: no fault from VM context either */
	ASSERT_EQ(kvm_tdp_export_map(kvm, 0x6000, 0, &mapped), -EINVAL);
	ASSERT_EQ(kvm_tdp_export_register(kvm, &a.imp, &exp), 0);
	ASSERT_NE(exp.root, 0);
	ASSERT_EQ(kvm_tdp_export_register(kvm, &b.imp, &exp), 0);
	ASSERT_EQ(kvm_model_guest_write(kvm, 0x5000, &x, 1), 0);
	kvm_model_zap(kvm, 5, 6, false);
	ASSERT_EQ(a.invalidations, 1);
	ASSERT_EQ(b.invalidations, 1);
	ASSERT_LE(a.start, 5);
	ASSERT_GE(a.end, 6);
	/* nothing changed: nothing pending, no call */
	kvm_tdp_export_flush(kvm);
	ASSERT_EQ(a.invalidations, 1);

	kvm_tdp_export_unregister(kvm, &a.imp);
	ASSERT_EQ(kvm_model_guest_write(kvm, 0x5000, &x, 1), 0);
	kvm_model_zap(kvm, 5, 6, false);
	ASSERT_EQ(a.invalidations, 1);
	ASSERT_EQ(b.invalidations, 2);
	kvm_model_close(kvm);
	ASSERT_TRUE(destroyed);
	ASSERT_EQ(a.released, 0);
	ASSERT_EQ(b.released, 1);
	ASSERT_EQ(phys_allocated(pm), 0);
	phys_destroy(pm);
	return true;
}

struct te_vmid {
	struct kvm_tdp_importer imp;
	u64 vmid;
	unsigned int calls;
};

static void te_vmid_changed(struct kvm_tdp_importer *imp, u64 vmid)
{
	struct te_vmid *t = container_of(imp, struct te_vmid, imp);

	t->vmid = vmid;
	t->calls++;
}

static const struct kvm_tdp_importer_ops te_vmid_ops = {
	.invalidate = te_invalidate,
	.root_changed = te_root_changed,
	.release = te_release,
	.vmid_changed = te_vmid_changed,
};

/*
 * The format says what the model's x86 table is (4 KiB granule, 4 levels,
 * 4 KiB to 1 GiB leaves); a new stage-2 identifier reaches the importers
 * that follow one, and only them.
 */
TEST(tdp_export_format_and_vmid_changes)
{
	struct te_importer plain = { .imp.ops = &te_imp_ops };
	struct te_vmid tagged = { .imp.ops = &te_vmid_ops };
	struct kvm_tdp_export exp;
	bool destroyed;
	struct phys *pm;
	struct kvm *kvm = te_vm(&pm, &destroyed);

	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_tdp_export_register(kvm, &plain.imp, &exp), 0);
	ASSERT_EQ(kvm_tdp_export_register(kvm, &tagged.imp, &exp), 0);
	ASSERT_EQ(exp.fmt.size, sizeof(exp.fmt));
	ASSERT_EQ(exp.fmt.type, KVM_TDP_FMT_NPT);
	ASSERT_EQ(exp.fmt.granule_shift, 12);
	ASSERT_EQ(exp.fmt.levels, 4);
	ASSERT_EQ(exp.fmt.start_level, 4);
	ASSERT_EQ(exp.fmt.ias, 48);
	ASSERT_EQ(exp.fmt.oas, 40);
	ASSERT_EQ(exp.fmt.leaf_sizes, SZ_4K | SZ_2M | SZ_1G);
	ASSERT_EQ(kvm_tdp_fmt_leaf_level(&exp.fmt), 3);

	kvm_tdp_export_vmid_changed(kvm, 7);
	ASSERT_EQ(tagged.calls, 1);
	ASSERT_EQ(tagged.vmid, 7);

	kvm_tdp_export_unregister(kvm, &tagged.imp);
	kvm_tdp_export_vmid_changed(kvm, 8);
	ASSERT_EQ(tagged.calls, 1);
	kvm_tdp_export_unregister(kvm, &plain.imp);
	return te_done(kvm, pm, &destroyed);
}

/* The largest leaf's level, counted from the granule, in other granules. */
TEST(tdp_export_leaf_level_follows_the_granule)
{
	struct kvm_tdp_format f = { .granule_shift = 12, .leaf_sizes = SZ_4K };

	ASSERT_EQ(kvm_tdp_fmt_leaf_level(&f), 1);
	f.leaf_sizes |= SZ_2M;
	ASSERT_EQ(kvm_tdp_fmt_leaf_level(&f), 2);
	/* arm64 stage 2 with 64 KiB granules: 64 KiB and 512 MiB leaves */
	f = (struct kvm_tdp_format){ .type = KVM_TDP_FMT_ARM64_S2, .granule_shift = 16,
				     .leaf_sizes = (1ULL << 16) | (1ULL << 29) };
	ASSERT_EQ(kvm_tdp_fmt_leaf_level(&f), 2);
	/* 16 KiB granules: 16 KiB and 32 MiB */
	f = (struct kvm_tdp_format){ .type = KVM_TDP_FMT_ARM64_S2, .granule_shift = 14,
				     .leaf_sizes = (1ULL << 14) | (1ULL << 25) };
	ASSERT_EQ(kvm_tdp_fmt_leaf_level(&f), 2);
	f.leaf_sizes = 0;
	ASSERT_EQ(kvm_tdp_fmt_leaf_level(&f), 0);
	return true;
}

/*
 * One SPTE change at @gfn, @level, noted as the TDP MMU notes each change to
 * the exported root, then flushed: how many invalidations the importer got
 * (0 or 1), with their range and flags in @t.
 */
static unsigned int te_change(struct kvm *kvm, struct te_importer *t, u64 gfn,
			      int level, u64 old_spte, u64 new_spte)
{
	unsigned int before = t->invalidations;

	write_lock(&kvm->mmu_lock);
	rcu_read_lock();
	kvm_tdp_export_note_change(kvm, gfn, level, old_spte, new_spte);
	kvm_tdp_export_flush(kvm);
	rcu_read_unlock();
	write_unlock(&kvm->mmu_lock);
	return t->invalidations - before;
}

/*
 * The MMIO generation wraps while the root is exported: the fast zap spares
 * the root, so KVM zaps the root's MMIO SPTEs itself (they look present to
 * an IOMMU, and one left could match a new generation), and the importers
 * hear of each; a RAM leaf stays.
 */
TEST(tdp_export_mmio_gen_wrap_zaps_the_roots_mmio_sptes)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.mmio_caching = true, .root_level = 4, .max_leaf_level = 3,
	};
	struct te_importer t = { .imp.ops = &te_imp_ops };
	const u64 mmio = 0x8000000, ram = 0x5000;
	struct kvm_tdp_export exp;
	unsigned int level, inv;
	bool destroyed;
	struct phys *pm = phys_create(1ULL << 28);
	struct kvm *kvm = pm ? kvm_model_create(pm, &c, &destroyed) : NULL;
	u64 leaf;

	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_model_set_slot(kvm, 0, 0, 16ULL << 20, false), 0);
	ASSERT_EQ(kvm_tdp_export_register(kvm, &t.imp, &exp), 0);
	ASSERT_EQ(kvm_model_fault(kvm, ram, true), 0);
	leaf = kvm_model_spte(kvm, ram, &level);
	ASSERT_EQ(kvm_model_mmio_fault(kvm, ram), -EINVAL);	/* RAM */
	ASSERT_EQ(kvm_model_mmio_fault(kvm, mmio), 0);
	ASSERT_EQ(kvm_model_spte(kvm, mmio, &level),
		  kspte_mmio(&c, mmio >> PAGE_SHIFT, kvm->mmio_gen));
	inv = t.invalidations;

	kvm_model_mmio_gen_wrap(kvm);
	ASSERT_EQ(kvm_model_spte(kvm, mmio, &level), kspte_nonpresent(&c));
	ASSERT_EQ(t.invalidations, inv + 1);
	ASSERT_LE(t.start, mmio >> PAGE_SHIFT);
	ASSERT_GT(t.end, mmio >> PAGE_SHIFT);
	ASSERT_EQ(t.flags, KVM_TDP_INV_LEAF);
	ASSERT_EQ(kvm_model_spte(kvm, ram, &level), leaf);
	/* nothing left to zap: no flush */
	kvm_model_mmio_gen_wrap(kvm);
	ASSERT_EQ(t.invalidations, inv + 1);

	kvm_tdp_export_unregister(kvm, &t.imp);
	ASSERT_TRUE(te_done(kvm, pm, &destroyed));
	return true;
}

/*
 * Which SPTE changes importers hear of (arch/x86/kvm-iommu/tdp_mmu_export.c,
 * in KVM 6.12's NPT encodings with MMIO caching): a leaf zapped, made
 * read-only, given another PFN, its Dirty bit cleared, a table unlinked
 * (with KVM_TDP_INV_TABLES), an MMIO SPTE changed; not a new mapping, an
 * Accessed bit cleared, a huge page split or a table's A bit.
 */
TEST(tdp_export_note_change_records_what_importers_must_drop)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.mmio_caching = true, .root_level = 4, .max_leaf_level = 3,
	};
	struct te_importer t = { .imp.ops = &te_imp_ops };
	u64 leaf, huge, table, none, mmio;
	struct kvm_tdp_export exp;
	struct kspte_masks m;
	bool destroyed;
	struct phys *pm = phys_create(1ULL << 28);
	struct kvm *kvm = pm ? kvm_model_create(pm, &c, &destroyed) : NULL;

	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_tdp_export_register(kvm, &t.imp, &exp), 0);
	kspte_masks(&c, &m);
	leaf = kspte_leaf(&c, 0x1234, 1, true, true, false, true);
	huge = kspte_leaf(&c, 0x1400, 2, true, true, false, true);
	table = kspte_nonleaf(&c, 0x5000);
	none = kspte_nonpresent(&c);
	mmio = kspte_mmio(&c, 0x77, 3);

	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, leaf, none), 1);
	ASSERT_EQ(t.start, 0x77);
	ASSERT_EQ(t.end, 0x78);
	ASSERT_EQ(t.flags, KVM_TDP_INV_LEAF);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, leaf, kspte_wrprot(&c, leaf)), 1);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, leaf,
			  kspte_leaf(&c, 0x4321, 1, true, true, false, true)), 1);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, leaf, leaf & ~m.dirty), 1);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, leaf, leaf & ~m.accessed), 0);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, none, leaf), 0);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, leaf, leaf), 0);
	/* a 2 MiB leaf: its whole range; split into a table: nothing */
	ASSERT_EQ(te_change(kvm, &t, 0x400, 2, huge, none), 1);
	ASSERT_EQ(t.start, 0x400);
	ASSERT_EQ(t.end, 0x600);
	ASSERT_EQ(te_change(kvm, &t, 0x400, 2, huge, table), 0);
	/* a table unlinked, or replaced by a huge leaf (collapse) */
	ASSERT_EQ(te_change(kvm, &t, 0x400, 2, table, none), 1);
	ASSERT_EQ(t.flags, KVM_TDP_INV_TABLES);
	ASSERT_EQ(t.end, 0x600);
	ASSERT_EQ(te_change(kvm, &t, 0x400, 2, table, huge), 1);
	ASSERT_EQ(t.flags, KVM_TDP_INV_TABLES);
	ASSERT_EQ(te_change(kvm, &t, 0x400, 2, table, table & ~m.accessed), 0);
	/* MMIO SPTEs look present to an IOMMU */
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, mmio, none), 1);
	ASSERT_EQ(t.flags, KVM_TDP_INV_LEAF);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, mmio, mmio), 0);
	ASSERT_EQ(te_change(kvm, &t, 0x77, 1, none, none), 0);

	kvm_tdp_export_unregister(kvm, &t.imp);
	return te_done(kvm, pm, &destroyed);
}
