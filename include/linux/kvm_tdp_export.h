/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exporting a KVM VM's TDP (EPT/NPT) root to an importer that programs it
 * into an IOMMU.
 *
 * DOC: The contract between KVM and an importer
 *
 * KVM owns the table.  The importer never writes it; it points hardware at
 * the exported root and must stop that hardware from using any translation
 * or table page KVM has removed.  KVM's side of the contract:
 *
 * - The exported root is the address-space-0 root (not SMM, not guest
 *   mode) with the role a vCPU of the VM uses, so vCPUs and the IOMMU
 *   share it.  Its geometry (granule, levels, address widths, leaf
 *   sizes) and entry format are described by struct kvm_tdp_format: every
 *   bit KVM may set in each kind of entry.  GFNs, in every call both ways,
 *   count the CPU's pages (PAGE_SIZE); an importer that assumes the
 *   table's granule is that page checks struct kvm_tdp_format.granule_shift.
 * - Every flush KVM performs on that root calls ->invalidate()
 *   synchronously, with the GFN range when KVM knows it: leaf zaps,
 *   permission downgrades, huge-page splits and collapses, and table pages
 *   unlinked from the tree (KVM_TDP_INV_TABLES; the call happens inside the
 *   RCU read side that keeps those pages alive, so it completes before the
 *   pages can be freed).  That includes the root-invalidation path where
 *   KVM skips the CPU TLB flush today.
 * - If KVM must replace the root, it calls ->root_changed() with the new
 *   root before the old one can be freed, and the importer re-points its
 *   hardware (and invalidates) before returning.
 * - No entry an IOMMU could read as present maps anything but guest RAM:
 *   KVM's software "MMU-present" marker lives in an ignored high bit, and
 *   cached-MMIO entries (which look present and writable to an IOMMU) are
 *   reported in struct kvm_tdp_format.mmio_bits so the importer refuses to
 *   share while they can exist.
 * - kvm_tdp_export_map() faults a GPA in from outside any vCPU, with write
 *   intent when asked, so a device that cannot fault can find every page
 *   present before it is allowed to DMA.
 * - kvm_tdp_export_listen() reports the existing memslots, then every
 *   change to them, so an importer knows which GPAs are guest memory and
 *   where the VMM maps them; this works without a vCPU or an exported
 *   root, and for importers that never share the table (a pinned IO page
 *   table mirroring the memslots).
 *
 * The importer's side: callbacks do not sleep (they may run under KVM's
 * mmu_lock, read or write), and ->invalidate() returns only after the
 * hardware has dropped every translation of the range.  KVM does not call
 * ->invalidate() when it makes an entry present (a vCPU fault,
 * kvm_tdp_export_map()) or clears an accessed bit: an IOMMU that may cache
 * non-present entries (VT-d caching mode) is the importer's to flush.
 * kvm_tdp_export_map() must be called from a task using the VM's mm (it
 * pins through current->mm); it fails with -EIO otherwise.
 *
 * The x86 TDP MMU exporter keeps the exported root for the VM's life, so it
 * never calls ->root_changed(); importers still implement it.
 *
 * DOC: Translations of pinned pages
 *
 * KVM treats its table as a cache of the VMM's page tables: on any
 * MMU-notifier invalidation it drops the leaves of the range, and a vCPU
 * faults them back in.  A device that cannot fault has no way back, so
 * for the pages an importer holds long-term pinned KVM does otherwise:
 *
 * - An importer that holds pins implements ->holds().  For every present
 *   leaf of the exported root in the range of an MMU-notifier invalidation
 *   for which mmu_notifier_event_keeps_pinned() is true, KVM asks it
 *   whether it holds the leaf's pages; if so the leaf stays, unchanged (no
 *   zap, no write-protection, no ->invalidate()).  Every other
 *   invalidation zaps as before: the VMM's own removal of memory (munmap(),
 *   mremap(), MAP_FIXED over it, MADV_DONTNEED, MADV_REMOVE, truncation and
 *   hole punching, which come as MMU_NOTIFY_UNMAP or MMU_NOTIFY_DISCARD),
 *   the mm's teardown, a poisoned page, and KVM's own zaps of a memslot
 *   being deleted or moved.
 * - When the VMM removes part of a huge leaf of held pages (MADV_DONTNEED
 *   of one page of a THP), KVM splits the leaf in place (the same pages,
 *   the same access, no invalidation) and zaps the range only, so the
 *   other pages keep their translations.  Without memory for the new
 *   table (the split cannot sleep), the whole leaf goes.
 * - Why a kept leaf is safe: the pin (FOLL_LONGTERM) keeps the page
 *   allocated, and ->holds() answers true only for the very PFNs the
 *   importer pinned at those GFNs' addresses.  Every event that keeps
 *   pinned pages fails, or leaves the same page at the same address, for
 *   a pinned page: migration and compaction (the pin's extra reference
 *   fails folio_migrate_mapping()), NUMA hinting (a protection change,
 *   then a migration attempt that fails), THP split (the same pages,
 *   mapped by PTEs) and collapse (refused on the reference count), KSM
 *   (write_protect_page() refuses), reclaim and page aging (an anonymous
 *   pinned page is not unmapped; a shmem page stays in the page cache at
 *   its index), fork (copy_present_page() copies a pinned page for the
 *   child and leaves the parent's mapping alone), mprotect(), userfaultfd
 *   write-protection and soft-dirty clearing (protection changes only).
 *   What does replace the page at an address is MMU_NOTIFY_DISCARD, which
 *   zaps: a copy-on-write fault (a VMM write to a page of a private file
 *   mapping that was pinned for read), truncation, hole punching, uprobes,
 *   memory failure.
 * - The difference for vCPUs: they use the same leaves, so a vCPU keeps
 *   the access it had to a held page across these events.  In particular
 *   it keeps write access after the VMM's mprotect(PROT_READ) or a
 *   userfaultfd write-protection, as the device does: both already wrote
 *   through a pin the VMM took with write access.  Pages nobody holds
 *   (outside the slots the importer pins, or replaced since the pin) are
 *   zapped as KVM always did.
 * - Before it drops such pins the importer zaps their GFNs with
 *   kvm_tdp_export_zap(): a kept leaf may map a page whose VMM mapping is
 *   gone for now (reclaim unmaps a pinned shmem page and leaves it in the
 *   page cache), which nothing would zap once the pin no longer keeps the
 *   page.
 * - KVM's own zaps that are not about memory skip the exported root or
 *   keep its leaves: NX huge page recovery and the collapse of small
 *   SPTEs after dirty logging skip it; a memslot flags change other than
 *   dirty logging does not zap; an MMU-notifier range zaps only its own
 *   GFNs.  One does not yet: on EPT, KVM zaps every leaf to re-derive
 *   memory types when the VM's non-coherent DMA state changes.  The
 *   format says so (struct kvm_tdp_format.memtype_zaps), and an importer
 *   must not give such a table to a device that cannot fault.
 *
 * DOC: Dirty logging
 *
 * While a memslot logs dirty pages, KVM must report every page a device
 * may have written since the last harvest, as it reports the vCPUs'
 * writes: through KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG, whose bitmap
 * also serves a VM that uses the dirty ring with
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP.  KVM does not see DMA, so:
 *
 * - Before every harvest of a slot (kvm_arch_sync_dirty_log()), KVM calls
 *   every memslot listener's ->log_dirty() with the slot's dirty bitmap.
 *   The listener sets the bit of each page its devices may have written
 *   without KVM seeing it; with nothing better, every page they can write
 *   (a PINNED IO page table, a device that writes through leaves KVM does
 *   not write-protect).  Bits are set atomically: vCPUs set bits of the
 *   same bitmap concurrently.
 * - Where the format logs by clearing dirty bits rather than by
 *   write-protecting (struct kvm_tdp_format.log_clears_dirty: EPT with
 *   PML), an importer whose IOMMU sets the format's dirty bit in leaves it
 *   writes through returns KVM_TDP_DIRTY_SCAN, and KVM then reports every
 *   leaf of the slot in the exported root whose dirty bit is set.  KVM
 *   clears the bits of the pages it reported when the harvest re-arms them,
 *   and flushes (->invalidate()) before the harvest returns, so the next
 *   DMA write sets the bit again; a write racing with the clear lands
 *   before the VMM copies the page.
 * - Logging write-protects the slot (in either format, huge leaves at
 *   least), which a device that cannot fault would hit.  A leaf an importer
 *   holds (->holds()) is not write-protected for logging: the device and
 *   the vCPUs keep writing it unseen, and the importer reports its pages
 *   at every harvest as above.  A device that can fault takes a write fault
 *   instead, and kvm_tdp_export_map() with KVM_TDP_MAP_WRITE logs the page
 *   as a vCPU's write fault does.
 * - A VM with a dirty ring and no bitmap has nowhere to report writes made
 *   without a vCPU: kvm_tdp_export_dma_loggable() says so, and an importer
 *   must not let a device write such a VM's memory.  KVM refuses to turn
 *   the dirty ring on (-EBUSY) once memslot listeners follow the VM.
 */
#ifndef __LINUX_KVM_TDP_EXPORT_H
#define __LINUX_KVM_TDP_EXPORT_H

#include <linux/bitops.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct kvm;
struct kvm_memory_slot;

/**
 * enum kvm_tdp_fmt_type - page-table format of an exported root
 * @KVM_TDP_FMT_EPT: Intel EPT entries (R/W/X in bits 0-2, memory type 5:3)
 * @KVM_TDP_FMT_NPT: AMD NPT entries (x86-64 long-mode paging format)
 * @KVM_TDP_FMT_ARM64_S2: Arm VMSAv8-64 stage-2 descriptors (arm64 KVM's
 *	stage-2 table); no exporter produces it yet
 */
enum kvm_tdp_fmt_type {
	KVM_TDP_FMT_EPT = 1,
	KVM_TDP_FMT_NPT = 2,
	KVM_TDP_FMT_ARM64_S2 = 3,
};

/**
 * struct kvm_tdp_format - what KVM writes into the exported table
 * @size: how much of the structure KVM filled in, sizeof() of its own
 *	definition.  Fields are only ever added at the end; an importer that
 *	knows a field past @size must treat it as 0 (absent).
 * @type: entry format
 * @granule_shift: log2 of the smallest page the table maps (the
 *	translation granule): 12 on x86; 12, 14 or 16 on arm64.  Each level
 *	resolves @granule_shift - 3 bits.
 * @levels: levels of the walk, from the root table to the smallest leaf:
 *	4 or 5 on x86, 2 to 5 on arm64
 * @start_level: the root table's level in the format's own numbering: on
 *	x86 levels count down to 1 at the 4 KiB leaf, so it equals @levels;
 *	on arm64 they count up to 3 at the smallest leaf, so it is
 *	4 - @levels (-1 with 52-bit input addresses and 4 KiB granules)
 * @ias: width of the guest-physical (input) addresses the table translates
 * @oas: width of the physical (output) addresses KVM writes (x86:
 *	MAXPHYADDR)
 * @leaf_sizes: sizes of the leaves KVM may install, one bit per size in
 *	bytes (bit n: 2^n bytes, as struct iommu_domain.pgsize_bitmap); always
 *	includes the granule
 * @addr_mask: the physical-address field of an entry
 * @leaf_bits: every bit outside @addr_mask KVM may set in a present leaf
 * @nonleaf_bits: every bit outside @addr_mask KVM may set in a present
 *	non-leaf entry
 * @always_bits: bits KVM sets in every present entry, leaf and non-leaf
 *	(so a walker may ignore them: e.g. NPT's U bit, which KVM requires for
 *	guest accesses but never clears)
 * @nonpresent_bits: every bit KVM may set in an entry that maps nothing
 *	(non-present, frozen, access-tracked, removed)
 * @mmio_bits: every bit KVM may set in a cached-MMIO entry; 0 when no such
 *	entry can exist in this VM's table (MMIO caching is off)
 * @read_mask: bits that must all be set for a leaf to allow reads
 * @write_mask: bits that must all be set for a leaf to allow writes
 * @accessed_mask: accessed bit a walker may set (0: none)
 * @dirty_mask: dirty bit a walker may set in leaves (0: none)
 * @memtype_zaps: KVM zaps every leaf when the VM's memory types change
 *	(x86 EPT honouring guest PAT: when the VM's first non-coherent DMA
 *	device is registered or its last one goes), pinned or not; a device
 *	that cannot fault would lose its translations then
 * @log_clears_dirty: dirty logging clears @dirty_mask in 4 KiB leaves
 *	instead of write-protecting them (x86: EPT with PML, where the CPU
 *	logs its own writes); leaves another walker marks dirty are reported
 *	when an importer asks (KVM_TDP_DIRTY_SCAN, see DOC: Dirty logging)
 */
struct kvm_tdp_format {
	u32 size;
	enum kvm_tdp_fmt_type type;
	u8 granule_shift;
	u8 levels;
	s8 start_level;
	u8 ias;
	u8 oas;
	u64 leaf_sizes;
	u64 addr_mask;
	u64 leaf_bits;
	u64 nonleaf_bits;
	u64 always_bits;
	u64 nonpresent_bits;
	u64 mmio_bits;
	u64 read_mask;
	u64 write_mask;
	u64 accessed_mask;
	u64 dirty_mask;
	bool memtype_zaps;
	bool log_clears_dirty;
};

/**
 * kvm_tdp_fmt_leaf_level() - the level of a format's largest leaf
 * @fmt: the format
 *
 * Levels counted from the smallest leaf, which is level 1, whatever the
 * format's own numbering: on x86, 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB).
 *
 * Return: the level, 0 for a format without leaves.
 */
static inline unsigned int kvm_tdp_fmt_leaf_level(const struct kvm_tdp_format *fmt)
{
	unsigned int bits = fmt->granule_shift - 3;
	int largest = fls64(fmt->leaf_sizes) - 1;

	if (largest < fmt->granule_shift || !bits)
		return 0;
	return (largest - fmt->granule_shift) / bits + 1;
}

/* ->invalidate() flags */
#define KVM_TDP_INV_LEAF	0	/* only leaf entries changed */
#define KVM_TDP_INV_TABLES	(1u << 0) /* table pages were unlinked */

struct kvm_tdp_importer;

/**
 * struct kvm_tdp_importer_ops - callbacks KVM makes into an importer
 * @invalidate: translations of GFNs [@start, @end) were removed or
 *	downgraded, or table pages covering them unlinked (@flags); @end is
 *	exclusive and (0, ~0) means everything.  Must not sleep; must return
 *	only when no hardware can use the old translations any more.
 * @root_changed: KVM replaces the exported root with @new_root (0: none,
 *	the VM's MMU is going away).  The importer re-points its hardware and
 *	invalidates before returning; the old root is freed afterwards.
 * @release: the VM is being destroyed; no call follows.
 * @vmid_changed: optional.  KVM tags the TLB entries of the exported root
 *	with a new stage-2 identifier, @vmid (arm64: the VMID, after a
 *	rollover of the VMID space).  An IOMMU that shares the CPU's
 *	identifiers (an SMMU with broadcast TLB maintenance) re-points its
 *	context at @vmid before returning; KVM has invalidated the old one.
 *	Must not sleep; called with KVM's MMU lock held.  x86 never calls it:
 *	its TDP roots carry no such identifier that an importer sees.
 * @holds: optional.  Whether the importer holds a long-term pin on each page
 *	of PFNs [@pfn, @pfn + @npages) as the VMM's page at GFNs [@gfn,
 *	@gfn + @npages) (a leaf of the exported root), with pin_user_pages()
 *	and FOLL_LONGTERM; see DOC: Translations of pinned pages.  The
 *	answer must stay true until the importer drops the pins, which it does
 *	only after KVM has zapped the leaves or once ->holds() would answer
 *	false.  KVM also asks before it write-protects a leaf for dirty
 *	logging (see DOC: Dirty logging).  Must not sleep; called with KVM's
 *	mmu_lock held (read or write).
 */
struct kvm_tdp_importer_ops {
	void (*invalidate)(struct kvm_tdp_importer *imp, u64 start, u64 end,
			   unsigned int flags);
	void (*root_changed)(struct kvm_tdp_importer *imp, u64 new_root);
	void (*release)(struct kvm_tdp_importer *imp);
	void (*vmid_changed)(struct kvm_tdp_importer *imp, u64 vmid);
	bool (*holds)(struct kvm_tdp_importer *imp, u64 gfn, u64 npages,
		      u64 pfn);
};

/**
 * struct kvm_tdp_importer - one user of an exported root
 * @ops: callbacks, set by the importer before registering
 * @node: KVM's list of importers; owned by KVM while registered
 */
struct kvm_tdp_importer {
	const struct kvm_tdp_importer_ops *ops;
	struct list_head node;
};

/**
 * struct kvm_tdp_export - what registration returns
 * @root: physical address of the exported root table
 * @fmt: the entry format KVM writes into it
 */
struct kvm_tdp_export {
	u64 root;
	struct kvm_tdp_format fmt;
};

/**
 * struct kvm_tdp_memslot - one memslot of address space 0, for an importer
 * @gpa: first guest-physical address of the slot
 * @size: size in bytes
 * @hva: start of the VMM's mapping of the slot
 * @readonly: the slot is KVM_MEM_READONLY
 * @dirty_log: the slot is KVM_MEM_LOG_DIRTY_PAGES (see DOC: Dirty logging)
 */
struct kvm_tdp_memslot {
	u64 gpa;
	u64 size;
	unsigned long hva;
	bool readonly;
	bool dirty_log;
};

/**
 * enum kvm_tdp_memslot_change - what happens to a memslot
 * @KVM_TDP_SLOT_CREATE: a slot appears (@new only)
 * @KVM_TDP_SLOT_DELETE: a slot goes away (@old only)
 * @KVM_TDP_SLOT_MOVE: a slot changes its GPA, same memory (@old and @new)
 * @KVM_TDP_SLOT_FLAGS: a slot changes its flags (@old and @new)
 */
enum kvm_tdp_memslot_change {
	KVM_TDP_SLOT_CREATE,
	KVM_TDP_SLOT_DELETE,
	KVM_TDP_SLOT_MOVE,
	KVM_TDP_SLOT_FLAGS,
};

struct kvm_tdp_memslot_listener;

/**
 * struct kvm_tdp_memslot_ops - memslot changes, as KVM makes them
 * @prepare: before KVM changes anything.  May sleep and fail; a failure
 *	fails the change (KVM_SET_USER_MEMORY_REGION returns it) and neither
 *	@commit nor @abort follows for this listener.
 * @commit: the change is complete: for DELETE and MOVE KVM has already
 *	removed (and flushed) every translation of @old.  Cannot fail.
 * @abort: KVM failed the change after this listener's @prepare succeeded.
 * @log_dirty: optional.  KVM is about to report the dirty pages of a slot
 *	of address space 0 that logs them (KVM_GET_DIRTY_LOG,
 *	KVM_CLEAR_DIRTY_LOG): set in @bitmap (bit n: GFN @gfn + n; @npages
 *	bits, the slot's dirty bitmap) every page a device may have written
 *	since the last call without KVM seeing the write, with set_bit_le()
 *	or another atomic update.  Return KVM_TDP_DIRTY_SCAN to have KVM
 *	report the leaves the IOMMU marked dirty as well (see DOC: Dirty
 *	logging), else 0.  Must not sleep.
 *
 * Called in the VMM's context (current->mm is the VM's mm), under KVM's
 * slots_lock, for the user memslots of address space 0 only (not KVM's
 * internal slots nor SMM's address space), in the order KVM makes the
 * changes.  A listener must not take slots_lock nor call
 * kvm_tdp_export_listen() from them; kvm_tdp_export_map() is allowed.
 */
struct kvm_tdp_memslot_ops {
	int (*prepare)(struct kvm_tdp_memslot_listener *l,
		       const struct kvm_tdp_memslot *old,
		       const struct kvm_tdp_memslot *new,
		       enum kvm_tdp_memslot_change change);
	void (*commit)(struct kvm_tdp_memslot_listener *l,
		       const struct kvm_tdp_memslot *old,
		       const struct kvm_tdp_memslot *new,
		       enum kvm_tdp_memslot_change change);
	void (*abort)(struct kvm_tdp_memslot_listener *l,
		      const struct kvm_tdp_memslot *old,
		      const struct kvm_tdp_memslot *new,
		      enum kvm_tdp_memslot_change change);
	unsigned int (*log_dirty)(struct kvm_tdp_memslot_listener *l, u64 gfn,
				  u64 npages, unsigned long *bitmap);
};

/* ->log_dirty() answer: also report leaves with the format's dirty bit */
#define KVM_TDP_DIRTY_SCAN	(1u << 0)

/**
 * struct kvm_tdp_memslot_listener - a follower of a VM's memslots
 * @ops: callbacks, set before kvm_tdp_export_listen()
 * @node: on the VM's list of listeners; owned by KVM while listening
 */
struct kvm_tdp_memslot_listener {
	const struct kvm_tdp_memslot_ops *ops;
	struct list_head node;
};

/* kvm_tdp_export_map() flags */
#define KVM_TDP_MAP_WRITE	(1u << 0)	/* map writable (write intent) */

int kvm_tdp_export_register(struct kvm *kvm, struct kvm_tdp_importer *imp,
			    struct kvm_tdp_export *exp);
void kvm_tdp_export_unregister(struct kvm *kvm, struct kvm_tdp_importer *imp);
int kvm_tdp_export_map(struct kvm *kvm, u64 gpa, unsigned int flags,
		       u64 *mapped_size);
int kvm_tdp_export_map_range(struct kvm *kvm, u64 gpa, u64 size,
			     unsigned int flags, u64 *done);
void kvm_tdp_export_zap(struct kvm *kvm, u64 gfn, u64 npages);
bool kvm_tdp_export_dma_loggable(struct kvm *kvm);
int kvm_tdp_export_listen(struct kvm *kvm, struct kvm_tdp_memslot_listener *l);
void kvm_tdp_export_unlisten(struct kvm *kvm, struct kvm_tdp_memslot_listener *l);

/*
 * DOC: Inside KVM
 *
 * The rest of this header is KVM's own, not an importer's.  The exporter is
 * split in two.  The arch-neutral part (virt/iommufd/kvm_tdp_export.c,
 * built into KVM) keeps the importers, the pending invalidation, the
 * memslot listeners and every loop over them, with its state in struct
 * kvm (struct kvm_tdp_export_state).  The arch's MMU (x86: the TDP MMU,
 * arch/x86/kvm-iommu/tdp_export.c) owns the exported root and implements
 * the kvm_arch_tdp_export_*() calls below; it records every change to the
 * root that removes or downgrades a translation with
 * kvm_tdp_export_record() as it makes it, and calls kvm_tdp_export_flush()
 * where it flushes the CPUs' TLBs for it, and at the latest before table
 * pages it unlinked can be freed.  KVM's memslot code
 * (virt/kvm/kvm_main.c) describes the slots to the listeners.
 */

/**
 * struct kvm_tdp_memslot_notice - one memslot change on its way to listeners
 * @active: the listeners prepared; they get a commit or an abort
 * @change: what happens
 * @old: the slot before (not for KVM_TDP_SLOT_CREATE)
 * @new: the slot after (not for KVM_TDP_SLOT_DELETE)
 *
 * Filled by KVM's memslot code before it changes anything, so that the
 * commit can still say what went away after KVM freed the old slot.
 */
struct kvm_tdp_memslot_notice {
	bool active;
	enum kvm_tdp_memslot_change change;
	struct kvm_tdp_memslot old;
	struct kvm_tdp_memslot new;
};

#ifdef CONFIG_KVM_TDP_EXPORT

/**
 * struct kvm_tdp_export_state - the exporter's per-VM state (kvm->tdp_export)
 * @lock: serializes registration, unregistration, release,
 *	kvm_tdp_export_map() and each batch of kvm_tdp_export_map_range(),
 *	and with them the arch's exported root and
 *	what the arch keeps for it (memory caches for kvm_tdp_export_map()).
 *	Sleepable; never taken under the arch's MMU lock.
 * @inv_lock: protects @importers and the pending invalidation.  Taken
 *	inside the arch's MMU lock and inside RCU read-side sections, so
 *	every importer callback but ->release() runs under it and must not
 *	sleep nor call back into KVM.
 * @importers: struct kvm_tdp_importer.node; changed with @lock and
 *	@inv_lock held.  Not empty, with @lock held, exactly while the arch
 *	holds an exported root.
 * @pending: GFNs [@pend_start, @pend_end) of the exported root lost or
 *	downgraded translations, or table pages covering them were unlinked
 *	(@pend_flags, KVM_TDP_INV_*), since the importers were last
 *	invalidated.  Cleared only once every importer has been invalidated,
 *	so reading it as false without @inv_lock means nothing is outstanding.
 * @pend_flags: see @pending
 * @pend_start: see @pending
 * @pend_end: see @pending
 *
 * Lock order: kvm->slots_lock, then @lock, then the arch's MMU lock
 * (kvm->mmu_lock, read or write), then @inv_lock.  The memslot listeners
 * (kvm->memslot_listeners) are under kvm->slots_lock.
 */
struct kvm_tdp_export_state {
	struct mutex lock;
	spinlock_t inv_lock;
	struct list_head importers;
	bool pending;
	unsigned int pend_flags;
	u64 pend_start;
	u64 pend_end;
};

/* The arch-neutral exporter, for KVM (virt/iommufd/kvm_tdp_export.c) */
void kvm_tdp_export_init(struct kvm *kvm);
void kvm_tdp_export_release(struct kvm *kvm);
void kvm_tdp_export_record(struct kvm *kvm, u64 start, u64 end,
			   unsigned int flags);
void kvm_tdp_export_flush(struct kvm *kvm);
bool kvm_tdp_export_importers_hold(struct kvm *kvm, u64 gfn, u64 npages,
				   u64 pfn);
void kvm_tdp_export_root_changed(struct kvm *kvm, u64 new_root);
void kvm_tdp_export_vmid_changed(struct kvm *kvm, u64 vmid);
unsigned int kvm_tdp_export_log_dirty(struct kvm *kvm, u64 gfn, u64 npages,
				      unsigned long *bitmap);
int kvm_tdp_export_slots_prepare(struct kvm *kvm,
				 struct kvm_tdp_memslot_notice *n);
void kvm_tdp_export_slots_end(struct kvm *kvm, struct kvm_tdp_memslot_notice *n,
			      bool commit);

/* The arch's MMU, for the exporter (x86: arch/x86/kvm-iommu/tdp_export.c) */
int kvm_arch_tdp_export_get_root(struct kvm *kvm);
void kvm_arch_tdp_export_describe(struct kvm *kvm, struct kvm_tdp_export *exp);
void kvm_arch_tdp_export_put_root(struct kvm *kvm);
int kvm_arch_tdp_export_map(struct kvm *kvm, u64 gpa, bool write,
			    u64 *mapped_size);
int kvm_arch_tdp_export_map_range(struct kvm *kvm, u64 gpa, u64 size,
				  bool write, u64 *mapped);
void kvm_arch_tdp_export_zap(struct kvm *kvm, u64 gfn, u64 npages);

/* For KVM's memslot update (virt/kvm/kvm_main.c); change: kvm_mr_change */
int kvm_tdp_export_memslot_prepare(struct kvm *kvm,
				   const struct kvm_memory_slot *old,
				   const struct kvm_memory_slot *new,
				   unsigned int change,
				   struct kvm_tdp_memslot_notice *n);
#else
/* kvm_tdp_export_flush() has its stub with the arch's TLB flush hooks. */
static inline void kvm_tdp_export_init(struct kvm *kvm) {}
static inline void kvm_tdp_export_release(struct kvm *kvm) {}
static inline void kvm_tdp_export_record(struct kvm *kvm, u64 start, u64 end,
					 unsigned int flags) {}
static inline int
kvm_tdp_export_memslot_prepare(struct kvm *kvm,
			       const struct kvm_memory_slot *old,
			       const struct kvm_memory_slot *new,
			       unsigned int change,
			       struct kvm_tdp_memslot_notice *n)
{
	return 0;
}
static inline void kvm_tdp_export_slots_end(struct kvm *kvm,
					    struct kvm_tdp_memslot_notice *n,
					    bool commit) {}
#endif /* CONFIG_KVM_TDP_EXPORT */

#endif /* __LINUX_KVM_TDP_EXPORT_H */
