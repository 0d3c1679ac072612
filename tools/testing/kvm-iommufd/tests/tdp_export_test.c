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

/*
 * ---- kvm_tdp_export_map_range() ----
 *
 * The bulk fault of a GPA range, over the model's VM: a THP-backed slot
 * (2 MiB host blocks) followed by a slot of 4 KiB pages whose size is no
 * multiple of the batch.
 */
#define TE_HUGE_SIZE	0x400000ULL
#define TE_SMALL_GPA	TE_HUGE_SIZE
#define TE_SMALL_SIZE	0x103000ULL
#define TE_RAM_END	(TE_SMALL_GPA + TE_SMALL_SIZE)

/*
 * A VM with one importer, whose VMM populated [0, @end) of its slots (a
 * vCPU touched every page) and whose leaves were then zapped, so that the
 * host pages are there and KVM's table is empty.
 */
static struct kvm *te_populated_vm(struct phys **pm, bool *destroyed,
				   struct te_importer *t, struct kvm_tdp_export *exp,
				   bool huge, u64 end)
{
	struct kvm *kvm = te_vm(pm, destroyed);
	u64 gpa;
	u8 x = 1;

	if (!kvm)
		return NULL;
	if (huge && kvm_model_set_slot_flags(kvm, 0, 0, TE_HUGE_SIZE, KVM_MODEL_SLOT_HUGE))
		return NULL;
	if (kvm_model_set_slot(kvm, 1, TE_SMALL_GPA, TE_SMALL_SIZE, false))
		return NULL;
	if (kvm_tdp_export_register(kvm, &t->imp, exp))
		return NULL;
	for (gpa = huge ? 0 : TE_SMALL_GPA; gpa < end; gpa += PAGE_SIZE)
		if (kvm_model_guest_write(kvm, gpa, &x, 1))
			return NULL;
	kvm_model_zap(kvm, 0, end >> PAGE_SHIFT, true);
	return kvm;
}

/* Every page of [@start, @end) maps the host page behind it, writable. */
static bool te_all_mapped(struct kvm *kvm, u64 start, u64 end)
{
	bool writable;
	u64 gpa, hpa;

	for (gpa = start; gpa < end; gpa += PAGE_SIZE) {
		ASSERT_TRUE(kvm_model_translate(kvm, gpa, &hpa, &writable));
		ASSERT_EQ(hpa, kvm_model_backing(kvm, gpa));
		ASSERT_TRUE(writable);
	}
	return true;
}

/*
 * The bulk fault of the VM's memory installs exactly the leaves that
 * kvm_tdp_export_map() page by page installs in a VM with the same
 * history: same levels, same SPTE bits but for the host address, each
 * mapping the host page behind its GFN.  Some leaves were there before
 * (a vCPU mapped a 2 MiB page and a few 4 KiB pages, dirty logging style
 * write protection downgraded some): they are kept or upgraded alike.
 */
TEST(tdp_export_map_range_installs_the_leaves_of_the_single_path)
{
	struct te_importer ta = { .imp.ops = &te_imp_ops }, tb = { .imp.ops = &te_imp_ops };
	struct kvm_tdp_export exp;
	bool destroyed_a, destroyed_b;
	struct phys *pm_a, *pm_b;
	struct kvm *a, *b, *vms[2];
	unsigned int la, lb, i;
	u64 gpa, mapped, done, sa, sb;

	a = te_populated_vm(&pm_a, &destroyed_a, &ta, &exp, true, TE_RAM_END);
	b = te_populated_vm(&pm_b, &destroyed_b, &tb, &exp, true, TE_RAM_END);
	ASSERT_TRUE(a && b);
	vms[0] = a;
	vms[1] = b;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(kvm_model_fault(vms[i], 0x200000 + 0x5000, true), 0);
		ASSERT_EQ(kvm_model_fault(vms[i], TE_SMALL_GPA + 0x7000, false), 0);
		ASSERT_EQ(kvm_model_fault(vms[i], TE_SMALL_GPA + 0x48000, true), 0);
		for (gpa = TE_SMALL_GPA + 0x80000; gpa < TE_SMALL_GPA + 0x90000;
		     gpa += PAGE_SIZE)
			ASSERT_EQ(kvm_model_fault(vms[i], gpa, true), 0);
		kvm_model_wrprot(vms[i], (TE_SMALL_GPA + 0x84000) >> PAGE_SHIFT,
				 (TE_SMALL_GPA + 0x88000) >> PAGE_SHIFT);
	}

	ASSERT_EQ(kvm_tdp_export_map_range(a, 0, TE_RAM_END, KVM_TDP_MAP_WRITE, &done), 0);
	ASSERT_EQ(done, TE_RAM_END);
	for (gpa = 0; gpa < TE_RAM_END; gpa = ALIGN_DOWN(gpa, mapped) + mapped)
		ASSERT_EQ(kvm_tdp_export_map(b, gpa, KVM_TDP_MAP_WRITE, &mapped), 0);

	for (gpa = 0; gpa < TE_RAM_END; gpa += PAGE_SIZE) {
		la = lb = 0;
		sa = kvm_model_spte(a, gpa, &la);
		sb = kvm_model_spte(b, gpa, &lb);
		ASSERT_EQ(la, lb);
		ASSERT_EQ(sa & ~exp.fmt.addr_mask, sb & ~exp.fmt.addr_mask);
	}
	ASSERT_TRUE(te_all_mapped(a, 0, TE_RAM_END));
	ASSERT_TRUE(te_all_mapped(b, 0, TE_RAM_END));
	/* the THP-backed slot is mapped with 2 MiB leaves */
	kvm_model_spte(a, 0x300000, &la);
	ASSERT_EQ(la, 2);

	ASSERT_TRUE(te_done(a, pm_a, &destroyed_a));
	return te_done(b, pm_b, &destroyed_b);
}

struct te_race {
	u64 trigger_gfn;	/* the lookup after which the VMM acts */
	u64 victim_gpa;		/* a page looked up before, which migrates */
	bool fired;
};

static void te_migrate_after_lookup(struct kvm *kvm, u64 gfn, void *arg)
{
	struct te_race *r = arg;

	if (r->fired || gfn != r->trigger_gfn)
		return;
	r->fired = true;
	kvm_model_mm_event(kvm, r->victim_gpa, PAGE_SIZE, MMU_NOTIFY_CLEAR, true);
}

/*
 * An MMU-notifier invalidation between the host page lookups of a batch
 * and its walk moves a page looked up earlier in the batch: the walk sees
 * the notifier sequence changed and the batch is looked up again, so the
 * stale host page (freed, poisoned by the model) is never mapped.
 */
TEST(tdp_export_map_range_never_maps_a_page_invalidated_after_its_lookup)
{
	struct te_importer t = { .imp.ops = &te_imp_ops };
	struct te_race r = {
		.trigger_gfn = (TE_SMALL_GPA >> PAGE_SHIFT) + 10,
		.victim_gpa = TE_SMALL_GPA + 3 * PAGE_SIZE,
	};
	struct kvm_tdp_export exp;
	struct phys *pm;
	bool destroyed;
	struct kvm *kvm;
	u64 old, done;

	kvm = te_populated_vm(&pm, &destroyed, &t, &exp, false, TE_RAM_END);
	ASSERT_TRUE(kvm);
	old = kvm_model_backing(kvm, r.victim_gpa);
	kvm->after_lookup = te_migrate_after_lookup;
	kvm->after_lookup_arg = &r;
	ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_SMALL_GPA, TE_SMALL_SIZE,
					   KVM_TDP_MAP_WRITE, &done), 0);
	kvm->after_lookup = NULL;
	ASSERT_EQ(done, TE_SMALL_SIZE);
	ASSERT_TRUE(r.fired);
	ASSERT_EQ(kvm->migrated, 1);
	ASSERT_NE(kvm_model_backing(kvm, r.victim_gpa), old);
	ASSERT_TRUE(te_all_mapped(kvm, TE_SMALL_GPA, TE_RAM_END));
	return te_done(kvm, pm, &destroyed);
}

/*
 * A write-tracked page in the middle of a batch: the pages before it are
 * mapped writable, it is mapped readable, -EPERM with *done up to it, and
 * nothing after it is touched.  Without write intent the range maps.  A
 * range that runs past the memslots stops with -ENOENT there.
 */
TEST(tdp_export_map_range_stops_at_a_write_tracked_page)
{
	struct te_importer t = { .imp.ops = &te_imp_ops };
	const u64 tracked = TE_SMALL_GPA + 20 * PAGE_SIZE;
	struct kvm_tdp_export exp;
	struct phys *pm;
	bool destroyed, writable;
	struct kvm *kvm;
	u64 gpa, hpa, done;

	kvm = te_populated_vm(&pm, &destroyed, &t, &exp, false, TE_RAM_END);
	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_model_write_track(kvm, tracked), 0);
	ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_SMALL_GPA, 64 * PAGE_SIZE,
					   KVM_TDP_MAP_WRITE, &done), -EPERM);
	ASSERT_EQ(done, tracked - TE_SMALL_GPA);
	ASSERT_TRUE(te_all_mapped(kvm, TE_SMALL_GPA, tracked));
	ASSERT_TRUE(kvm_model_translate(kvm, tracked, &hpa, &writable));
	ASSERT_EQ(hpa, kvm_model_backing(kvm, tracked));
	ASSERT_FALSE(writable);
	for (gpa = tracked + PAGE_SIZE; gpa < TE_SMALL_GPA + 64 * PAGE_SIZE; gpa += PAGE_SIZE)
		ASSERT_FALSE(kvm_model_translate(kvm, gpa, &hpa, &writable));

	ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_SMALL_GPA, 64 * PAGE_SIZE, 0, &done), 0);
	ASSERT_EQ(done, 64 * PAGE_SIZE);
	for (gpa = TE_SMALL_GPA; gpa < TE_SMALL_GPA + 64 * PAGE_SIZE; gpa += PAGE_SIZE) {
		ASSERT_TRUE(kvm_model_translate(kvm, gpa, &hpa, &writable));
		ASSERT_EQ(hpa, kvm_model_backing(kvm, gpa));
	}

	ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_RAM_END - 2 * PAGE_SIZE, 4 * PAGE_SIZE, 0,
					   &done), -ENOENT);
	ASSERT_EQ(done, 2 * PAGE_SIZE);
	ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_SMALL_GPA + 1, PAGE_SIZE, 0, &done),
		  -EINVAL);
	return te_done(kvm, pm, &destroyed);
}

/*
 * Fail each fault point of a bulk fault in turn (the memory cache
 * top-ups): the error is -ENOMEM, the pages before *done are mapped and
 * none after, and the range then maps; nothing leaks.
 */
TEST(tdp_export_map_range_fail_nth_maps_a_prefix)
{
	int nth;

	for (nth = 1; nth < 200; nth++) {
		struct te_importer t = { .imp.ops = &te_imp_ops };
		struct kvm_tdp_export exp;
		struct phys *pm;
		bool destroyed, writable, injected;
		struct kvm *kvm;
		u64 gpa, hpa, done;
		int ret;

		kvm = te_populated_vm(&pm, &destroyed, &t, &exp, false, TE_RAM_END);
		ASSERT_TRUE(kvm);
		kt_fail_nth_set(nth);
		ret = kvm_tdp_export_map_range(kvm, TE_SMALL_GPA, TE_SMALL_SIZE,
					       KVM_TDP_MAP_WRITE, &done);
		injected = kt_fault_injected();
		kt_fail_nth_set(0);
		if (!injected) {
			ASSERT_EQ(ret, 0);
			ASSERT_GT(nth, 1);
			ASSERT_TRUE(te_all_mapped(kvm, TE_SMALL_GPA, TE_RAM_END));
			return te_done(kvm, pm, &destroyed);
		}
		ASSERT_EQ(ret, -ENOMEM);
		ASSERT_LT(done, TE_SMALL_SIZE);
		ASSERT_TRUE(te_all_mapped(kvm, TE_SMALL_GPA, TE_SMALL_GPA + done));
		for (gpa = TE_SMALL_GPA + done; gpa < TE_RAM_END; gpa += PAGE_SIZE)
			ASSERT_FALSE(kvm_model_translate(kvm, gpa, &hpa, &writable));
		ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_SMALL_GPA, TE_SMALL_SIZE,
						   KVM_TDP_MAP_WRITE, &done), 0);
		ASSERT_TRUE(te_all_mapped(kvm, TE_SMALL_GPA, TE_RAM_END));
		ASSERT_TRUE(te_done(kvm, pm, &destroyed));
	}
	ASSERT_TRUE(false);	/* more fault points than expected */
	return true;
}

static bool te_logged(const unsigned long *bm, u64 page)
{
	return bm[page / BITS_PER_LONG] & (1UL << (page % BITS_PER_LONG));
}

static bool te_holds_all(struct kvm_tdp_importer *imp, u64 gfn, u64 npages, u64 pfn)
{
	return true;
}

static const struct kvm_tdp_importer_ops te_holding_ops = {
	.invalidate = te_invalidate,
	.root_changed = te_root_changed,
	.release = te_release,
	.holds = te_holds_all,
};

/*
 * A leaf in the middle of a batch that already allows the write is left
 * as it is, as kvm_tdp_export_map() leaves it: while the slot logs dirty
 * pages, a page an importer holds stays writable across a harvest, and the
 * bulk fault does not log it again (only the pages it makes writable).
 */
TEST(tdp_export_map_range_keeps_leaves_that_allow_the_access)
{
	struct te_importer t = { .imp.ops = &te_holding_ops };
	const u64 kept = TE_SMALL_GPA + 5 * PAGE_SIZE;
	unsigned long bitmap[BITS_TO_LONGS(TE_SMALL_SIZE >> PAGE_SHIFT)];
	struct kvm_tdp_export exp;
	struct phys *pm;
	bool destroyed, writable;
	struct kvm *kvm;
	u64 hpa, done, i;
	u8 x = 2;

	kvm = te_populated_vm(&pm, &destroyed, &t, &exp, false, TE_RAM_END);
	ASSERT_TRUE(kvm);
	ASSERT_EQ(kvm_model_set_dirty_log(kvm, 1, true), 0);
	ASSERT_EQ(kvm_model_guest_write(kvm, kept, &x, 1), 0);
	ASSERT_EQ(kvm_model_get_dirty_log(kvm, 1, bitmap), 0);
	ASSERT_TRUE(te_logged(bitmap, 5));
	/* held: not write-protected by the harvest */
	ASSERT_TRUE(kvm_model_translate(kvm, kept, &hpa, &writable));
	ASSERT_TRUE(writable);

	ASSERT_EQ(kvm_tdp_export_map_range(kvm, TE_SMALL_GPA, 64 * PAGE_SIZE,
					   KVM_TDP_MAP_WRITE, &done), 0);
	ASSERT_TRUE(te_all_mapped(kvm, TE_SMALL_GPA, TE_SMALL_GPA + 64 * PAGE_SIZE));
	ASSERT_EQ(kvm_model_get_dirty_log(kvm, 1, bitmap), 0);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(te_logged(bitmap, i), i != 5);
	return te_done(kvm, pm, &destroyed);
}
