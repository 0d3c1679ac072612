/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd IO address spaces sourced from a KVM VM: uAPI definitions.
 *
 * DOC: Why a device cannot share the VM's table
 *
 * When a device is attached to a KVM-sourced IOAS, the kernel compares
 * what KVM writes into its TDP (EPT/NPT) or stage-2 table with what the
 * device's IOMMU checks and ignores when it walks a table.  Every mismatch
 * is one bit of enum iommu_kvm_share_reason; a non-zero mask means the
 * device cannot walk KVM's table (it is served by a pinned IO page table
 * instead, or the request fails when sharing was required).
 *
 * DOC: Choosing a mode per device
 *
 * IOMMU_HWPT_ALLOC on a KVM-sourced IOAS (and attaching a device to the
 * IOAS directly, which allocates with the default policy) chooses per
 * device, from the HWPT flags:
 * - neither flag (AUTO): SHARED when the device can walk the VM's table,
 *   otherwise PINNED;
 * - IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED: SHARED, or fail with EOPNOTSUPP;
 * - IOMMU_HWPT_ALLOC_KVM_PIN_ONLY: PINNED, whatever the device could do.
 * The mode chosen and the reasons come back in out_kvm_mode and
 * out_kvm_reasons of struct iommu_hwpt_alloc (the reasons also with
 * EOPNOTSUPP); IOMMU_KVM_SHARE_QUERY answers the same without allocating.
 * Both policy flags together fail with EINVAL; IOMMU_HWPT_FAULT_ID_VALID
 * is accepted (below); any other HWPT flag, driver data, a PASID or a
 * non-zero __reserved2 fail with EOPNOTSUPP.  AUTO and SHARE_REQUIRED need the VM's table, which KVM
 * builds with the first vCPU: EAGAIN before that.
 *
 * A device that can fault (PCIe PRI) gets its HWPT with
 * IOMMU_HWPT_FAULT_ID_VALID and a fault object; attaching it turns on IO
 * page faults for the device, or fails when the device or its IOMMU cannot
 * fault.  In SHARED mode nothing is then pinned or faulted in: the kernel
 * resolves each page request by asking KVM to map the page with the
 * request's access, as for a vCPU, and answers it.  Only groups KVM
 * refused (no memslot, a write to a read-only or write-tracked page, a
 * privileged request) reach the fault object, for the
 * VMM to see: already answered with IOMMU_PAGE_RESP_INVALID, their records
 * carry IOMMU_PGFAULT_FLAGS_ANSWERED and cookie 0, and take no response.
 * In PINNED mode every fault reaches the fault object for userspace to
 * answer, as iommufd delivers faults elsewhere.
 *
 * A PINNED device translates through an ordinary IO page table that the
 * kernel keeps equal to the VM's memslots of address space 0: every slot
 * is mapped at its guest-physical address with its pages pinned and
 * charged like IOMMU_IOAS_MAP's (RLIMIT_MEMLOCK, IOMMU_OPTION_RLIMIT_MODE).
 * Creating, deleting, moving and changing the flags of a memslot reach
 * every device on the IOAS, SHARED or PINNED, without any iommufd call.
 * When a new slot cannot be pinned within the memlock limit, creating it
 * fails in KVM_SET_USER_MEMORY_REGION with ENOMEM.
 *
 * One pin per page: the pins of SHARED devices that cannot fault are the
 * same io_pagetable's pins.  However many devices of either mode an IOAS
 * serves, each page is pinned once for it and charged once, to the
 * counters IOMMU_IOAS_MAP's pins are charged to in the context's
 * IOMMU_OPTION_RLIMIT_MODE; so RLIMIT_MEMLOCK bounds what one iommufd
 * pins, whatever mix of modes.  Each KVM-sourced IOAS is its own copy.
 *
 * DOC: Memslots the devices cannot use
 *
 * Attaching a device never changes what KVM accepts from the VMM: a
 * memslot whose memory the IOAS cannot pin is accepted all the same, and
 * DMA to it is blocked (never sent elsewhere), or served where it can be.
 * The IOAS looks at the slot's HVA range when the slot is created, and
 * again on IOMMU_KVM_SLOTS with IOMMU_KVM_SLOTS_RETRY; IOMMU_KVM_SLOTS
 * reports each slot with the reasons (enum iommu_kvm_slot_reason), the
 * kvm_iommu_memslot trace event carries them, and kvm_iommu_stats counts
 * the slots blocked.  By kind:
 *
 * - RAM (anonymous, memfd, hugetlbfs, a regular file): reached, read-write
 *   (read-only for a KVM_MEM_READONLY slot, such as a ROM).
 * - Mapped read-only by the VMM without KVM_MEM_READONLY
 *   (IOMMU_KVM_SLOT_HVA_READONLY): reached read-only, as by the vCPUs
 *   (KVM maps such pages read-only); DMA writes are blocked.
 * - Not mapped yet, mapped PROT_NONE, or nothing behind the mapping (a
 *   file mapping beyond the file's end) (IOMMU_KVM_SLOT_UNMAPPED), or a
 *   device's BAR or other VM_PFNMAP / VM_IO memory
 *   (IOMMU_KVM_SLOT_PFNMAP): nothing can be pinned there.  PINNED devices' DMA to it is blocked: Linux 6.12's
 *   iommufd cannot map such memory, so peer-to-peer DMA to another
 *   device's BAR is not served for them.  SHARED devices walk KVM's own
 *   table, which maps a page there once a vCPU (or a device that can
 *   fault) touches it and the VMM has memory there: such DMA is served,
 *   peer to peer for a BAR, but without the pin that keeps a translation
 *   for a device that cannot fault (DOC: What a device's DMA survives).
 *   Once the VMM has mapped RAM there, IOMMU_KVM_SLOTS with
 *   IOMMU_KVM_SLOTS_RETRY makes the slot RAM to every device.
 * - Overlapping IOVA the IOMMU reserves for an attached device, such as
 *   the MSI window at 0xfee00000 on x86 (IOMMU_KVM_SLOT_RESERVED): DMA
 *   there is an interrupt or is refused by the IOMMU, never a memory
 *   access.  The rest of the slot is RAM to every device: it is mapped and
 *   pinned around the reserved IOVA (attaching a device whose reserved
 *   IOVA a slot overlaps maps the slot again around it, so the attach does
 *   not fail).
 *
 * DOC: Options of a KVM-sourced IOAS
 *
 * IOMMU_OPTION_HUGE_PAGES (GET and SET, object_id the IOAS) works as on
 * any IOAS and applies to the IO page table of its PINNED devices: with 0
 * the memslots are mapped with 4 KiB IO pages; SET fails with EINVAL once a
 * PINNED device is attached while memslots exist (its table is built).
 * SHARED devices walk KVM's table, whose leaf sizes KVM chooses, whatever
 * the option.  IOMMU_OPTION_RLIMIT_MODE (the iommufd context's) applies to
 * all pins of the IOAS, of PINNED devices and of SHARED devices that
 * cannot fault alike, as to IOMMU_IOAS_MAP's.  IOMMU_IOAS_ALLOC with
 * IOMMU_IOAS_ALLOC_FLAG_KVM_FD needs a @size that includes @kvm_fd
 * (EINVAL otherwise).
 *
 * DOC: What a device's DMA survives
 *
 * While a device that cannot fault is attached SHARED, every GPA of a
 * memslot stays translated to the page the VMM had mapped there when the
 * device was attached (or when the memslot was created) until the VMM
 * itself removes that memory: munmap(), mremap() or mmap(MAP_FIXED) over
 * it, madvise(MADV_DONTNEED) or MADV_REMOVE, a hole punch or truncation of
 * its file, or deleting or moving the memslot.  After such a removal DMA
 * to those GPAs is blocked (never sent to the old page) until the memory is
 * mapped into KVM again (a vCPU touching it, or a new memslot).
 *
 * Where that cannot be promised, a device that cannot fault is not given
 * SHARED (AUTO gives it PINNED, SHARE_REQUIRED fails with the reason): on
 * EPT, where KVM zaps its whole table when the VM's memory types change
 * (IOMMU_KVM_SHARE_KVM_ZAPS).  Elsewhere nothing else removes or downgrades
 * the translation, not even for a moment: not fork() (with or without MADV_DONTFORK), not mprotect() (in
 * either direction: the device keeps the access it was attached with, as a
 * PINNED device's IO page table does, and the vCPUs share that access to
 * the pages), not compaction or migration, NUMA balancing, THP split or
 * collapse, KSM, reclaim or page aging, userfaultfd write-protection or
 * soft-dirty clearing, and not KVM's own zaps that are not about memory.
 * The pages are pinned for as long as the device is attached, so keeping
 * their translations never reaches a page the VMM no longer has.  Dirty
 * logging does not take write access away from such a device either (see
 * DOC: Dirty logging and migration).
 *
 * A PINNED device keeps its IO page table through all of these too, and
 * through the VMM's removals as well: like IOMMU_IOAS_MAP, it translates
 * to the pages pinned when the memslot was mapped until the memslot is
 * deleted or moved.  A SHARED device that can fault needs no such rule:
 * it faults the current page back in.
 *
 * DOC: Dirty logging and migration
 *
 * The rule: while a memslot logs dirty pages (KVM_MEM_LOG_DIRTY_PAGES),
 * every page that a device attached to the IOAS may have written since the
 * last harvest is reported dirty by KVM's own interfaces, in every mode:
 * KVM_GET_DIRTY_LOG, and KVM_CLEAR_DIRTY_LOG with manual protection (a
 * page stays reported until the VMM clears it, and is reported again at the
 * next KVM_GET_DIRTY_LOG if a device may have written it since).  A VM
 * that uses the dirty ring gets the device's pages in the bitmap of
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, which the VMM enables after the ring
 * and before creating memslots, and harvests with KVM_GET_DIRTY_LOG beside
 * the ring; without that bitmap a device cannot be given the VM's memory:
 * IOMMU_HWPT_ALLOC (and attaching directly) fails with ENXIO, as
 * KVM_GET_DIRTY_LOG does for such a VM, and once a KVM-sourced IOAS
 * follows the VM, KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING*) fails with EBUSY
 * (the VMM enables the ring before it creates the IOAS).  And a device
 * that cannot fault never has a write blocked because of logging.
 *
 * How each device's writes are found is reported by IOMMU_KVM_SHARE_QUERY
 * (enum iommu_kvm_dirty_log):
 * - IOMMU_KVM_DIRTY_ALL (conservative, like a VFIO IOAS without dirty
 *   tracking): every page of a writable memslot the device can write is
 *   reported at every harvest.  A PINNED device, and a SHARED device that
 *   cannot fault on a table KVM logs by write-protection (NPT, EPT without
 *   PML) or whose IOMMU does not mark dirty bits: KVM then leaves the
 *   pinned pages' leaves writable while logging, so the vCPUs' writes to
 *   them are not logged one by one either, and they are reported by the
 *   same rule.  After such a device detaches, the pages it could write are
 *   reported once more, at the next harvest.
 * - IOMMU_KVM_DIRTY_TABLE (precise): a SHARED device whose IOMMU sets the
 *   dirty bit in KVM's own entries (VT-d second-stage A/D on EPT, with KVM
 *   logging by clearing dirty bits: PML).  At each harvest KVM reports the
 *   pages whose entries the CPU or the IOMMU marked dirty, clears the bits
 *   and flushes the IOMMU before the harvest returns.
 * - IOMMU_KVM_DIRTY_FAULTS (precise): a SHARED device that can fault, on a
 *   table KVM logs by write-protection: its writes fault like a vCPU's, and
 *   KVM logs each page it makes writable.
 * A PINNED device's IO page table does not use the IOMMU's dirty tracking
 * yet; its mode is IOMMU_KVM_DIRTY_ALL everywhere.
 */
#ifndef _UAPI_IOMMUFD_KVM_H
#define _UAPI_IOMMUFD_KVM_H

#include <linux/iommufd.h>
#include <linux/types.h>

/**
 * enum iommu_kvm_share_reason - why an IOMMU cannot walk KVM's table
 * @IOMMU_KVM_SHARE_NO_TRANSLATION: the IOMMU has no translation mode that
 *	can point at an external table (VT-d: scalable mode with second-stage
 *	translation)
 * @IOMMU_KVM_SHARE_FORMAT: the IOMMU reads permissions from other bits than
 *	KVM writes them to
 * @IOMMU_KVM_SHARE_LEVELS: the IOMMU cannot walk a table with as many
 *	levels as KVM's root (VT-d: SAGAW)
 * @IOMMU_KVM_SHARE_ADDR_WIDTH: KVM may write physical addresses wider than
 *	the IOMMU accepts
 * @IOMMU_KVM_SHARE_PAGE_SIZES: KVM may install leaves larger than the
 *	IOMMU can walk (VT-d: SLLPS)
 * @IOMMU_KVM_SHARE_RSVD_BITS: KVM sets, in present entries, bits the IOMMU
 *	checks as reserved (so DMA would fault where the vCPU does not)
 * @IOMMU_KVM_SHARE_NONPRESENT: an entry that maps nothing for KVM could
 *	look present to the IOMMU
 * @IOMMU_KVM_SHARE_MMIO_CACHING: KVM caches emulated-MMIO GFNs in entries
 *	the IOMMU would read as present (turn off MMIO caching to share)
 * @IOMMU_KVM_SHARE_WALK_COHERENCY: the IOMMU does not snoop its table walks,
 *	and KVM never flushes CPU caches after writing its table
 * @IOMMU_KVM_SHARE_ACCESS_TRACKING: KVM ages memory by making entries
 *	non-present (no hardware accessed bit), which a device that cannot
 *	fault would hit
 * @IOMMU_KVM_SHARE_DEVICE: the device itself cannot be given a shared
 *	table whatever its IOMMU (VT-d: not a PCI device, a DMA alias of
 *	another device, or firmware requires 1:1 mappings for it)
 * @IOMMU_KVM_SHARE_KVM_ZAPS: KVM may take every translation away for a
 *	reason of its own that is not about memory (x86 EPT: memory types are
 *	re-derived when a non-coherent DMA device is assigned to the VM), which
 *	a device that cannot fault would hit.  Only devices attached without a
 *	fault queue are refused for it; IOMMU_KVM_SHARE_QUERY reports it
 *	whenever the VM's table has it.
 */
enum iommu_kvm_share_reason {
	IOMMU_KVM_SHARE_NO_TRANSLATION	= 1 << 0,
	IOMMU_KVM_SHARE_FORMAT		= 1 << 1,
	IOMMU_KVM_SHARE_LEVELS		= 1 << 2,
	IOMMU_KVM_SHARE_ADDR_WIDTH	= 1 << 3,
	IOMMU_KVM_SHARE_PAGE_SIZES	= 1 << 4,
	IOMMU_KVM_SHARE_RSVD_BITS	= 1 << 5,
	IOMMU_KVM_SHARE_NONPRESENT	= 1 << 6,
	IOMMU_KVM_SHARE_MMIO_CACHING	= 1 << 7,
	IOMMU_KVM_SHARE_WALK_COHERENCY	= 1 << 8,
	IOMMU_KVM_SHARE_ACCESS_TRACKING	= 1 << 9,
	IOMMU_KVM_SHARE_DEVICE		= 1 << 10,
	IOMMU_KVM_SHARE_KVM_ZAPS	= 1 << 11,
};

/**
 * enum iommu_kvm_mode - how a device on a KVM-sourced IOAS translates
 * @IOMMU_KVM_MODE_NONE: not attached (or the attachment was refused)
 * @IOMMU_KVM_MODE_SHARED: the IOMMU walks KVM's own table
 * @IOMMU_KVM_MODE_PINNED: the IOMMU walks its own table, built from the
 *	VM's memslots with the guest memory pinned
 */
enum iommu_kvm_mode {
	IOMMU_KVM_MODE_NONE	= 0,
	IOMMU_KVM_MODE_SHARED	= 1,
	IOMMU_KVM_MODE_PINNED	= 2,
};

/**
 * enum iommu_kvm_format - entry format of KVM's table
 * @IOMMU_KVM_FORMAT_EPT: Intel EPT
 * @IOMMU_KVM_FORMAT_NPT: AMD NPT (x86-64 long-mode paging entries)
 */
enum iommu_kvm_format {
	IOMMU_KVM_FORMAT_EPT	= 1,
	IOMMU_KVM_FORMAT_NPT	= 2,
};

/**
 * enum iommu_kvm_dirty_log - how a device's DMA writes reach KVM's dirty log
 * @IOMMU_KVM_DIRTY_NONE: the device is not attached to the IOAS
 * @IOMMU_KVM_DIRTY_FAULTS: its writes fault while a slot logs, and KVM logs
 *	each page it maps writable for them (precise)
 * @IOMMU_KVM_DIRTY_TABLE: its IOMMU marks KVM's entries dirty, and KVM
 *	reports those pages (precise)
 * @IOMMU_KVM_DIRTY_ALL: every page of a writable slot the device can write
 *	is reported at every harvest (conservative)
 *
 * See DOC: Dirty logging and migration.
 */
enum iommu_kvm_dirty_log {
	IOMMU_KVM_DIRTY_NONE	= 0,
	IOMMU_KVM_DIRTY_FAULTS	= 1,
	IOMMU_KVM_DIRTY_TABLE	= 2,
	IOMMU_KVM_DIRTY_ALL	= 3,
};

/*
 * Well above iommufd's own commands (0x80 onwards, one number per command)
 * and its test command (0xa0), so later upstream commands do not collide.
 */
#define IOMMUFD_CMD_KVM_SHARE_QUERY	0xb0

/**
 * struct iommu_kvm_share_query - ioctl(IOMMU_KVM_SHARE_QUERY)
 * @size: sizeof(struct iommu_kvm_share_query)
 * @flags: must be 0
 * @dev_id: a device bound to this iommufd
 * @ioas_id: an IOAS allocated with IOMMU_IOAS_ALLOC_FLAG_KVM_FD
 * @out_mode: enum iommu_kvm_mode of the device on @ioas_id now:
 *	IOMMU_KVM_MODE_NONE when it is not attached to a HWPT of that IOAS
 * @out_reasons: mask of enum iommu_kvm_share_reason: every reason the
 *	device cannot walk the VM's table; 0 when it can
 * @out_kvm_format: enum iommu_kvm_format of the VM's table
 * @out_kvm_levels: levels of the VM's root table
 * @out_iommu_levels: table depths the device's IOMMU can walk, as a mask
 *	(bit n set: n levels)
 * @out_kvm_addr_bits: width of the physical addresses KVM writes into its
 *	table
 * @out_iommu_addr_bits: width of the physical addresses the device's
 *	IOMMU accepts in a table it walks
 * @out_dirty_log: enum iommu_kvm_dirty_log: how the device's DMA writes
 *	are reported while a memslot logs dirty pages, in its mode on
 *	@ioas_id now; IOMMU_KVM_DIRTY_NONE when @out_mode is
 *	IOMMU_KVM_MODE_NONE
 * @out_kvm_pgsizes: sizes of the leaves KVM may install (bit n: 2^n bytes)
 * @out_iommu_pgsizes: leaf sizes the device's IOMMU can walk in a table of
 *	this format (bit n: 2^n bytes)
 * @out_rsvd_conflict: bits KVM sets in present entries that the IOMMU
 *	checks as reserved (the detail behind IOMMU_KVM_SHARE_RSVD_BITS)
 *
 * Tells a VMM whether a device can share the VM's table before (or after)
 * it attaches, and why not, with both sides of each comparison.  Nothing
 * is allocated and nothing is attached.
 *
 * Errors: ENOENT when @dev_id or @ioas_id is not an object of that type,
 * EINVAL when @ioas_id is not sourced from a KVM VM, EAGAIN while the VM
 * has no vCPU (KVM builds its table with the first vCPU), EOPNOTSUPP for
 * non-zero @flags.
 */
struct iommu_kvm_share_query {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 ioas_id;
	__u32 out_mode;
	__u32 out_reasons;
	__u32 out_kvm_format;
	__u32 out_kvm_levels;
	__u32 out_iommu_levels;
	__u32 out_kvm_addr_bits;
	__u32 out_iommu_addr_bits;
	__u32 out_dirty_log;
	__aligned_u64 out_kvm_pgsizes;
	__aligned_u64 out_iommu_pgsizes;
	__aligned_u64 out_rsvd_conflict;
};
#define IOMMU_KVM_SHARE_QUERY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_KVM_SHARE_QUERY)

/**
 * enum iommu_kvm_slot_reason - why DMA to (part of) a memslot is not RAM
 * @IOMMU_KVM_SLOT_UNMAPPED: part of the slot's HVA range was not mapped,
 *	was mapped PROT_NONE, or had nothing to pin (a file mapping beyond
 *	the file's end)
 * @IOMMU_KVM_SLOT_PFNMAP: part of it is VM_PFNMAP or VM_IO memory, such as
 *	a device's BAR mapped through VFIO
 * @IOMMU_KVM_SLOT_HVA_READONLY: part of it was mapped without write
 *	permission, and the slot is not KVM_MEM_READONLY: DMA reads only
 * @IOMMU_KVM_SLOT_RESERVED: the slot overlaps IOVA the IOMMU reserves for
 *	an attached device (the MSI window): that part is not memory to the
 *	devices, the rest is
 * @IOMMU_KVM_SLOT_PIN_FAILED: mapping, pinning or faulting in the slot
 *	failed after KVM had made the change (a move; a create, whose pages
 *	SHARED devices that cannot fault need in KVM's table; or
 *	IOMMU_KVM_SLOTS_RETRY: the memlock limit, no memory): blocked for
 *	PINNED devices and unpinned for SHARED devices that cannot fault
 *	until a retry succeeds
 *
 * See DOC: Memslots the devices cannot use.
 */
enum iommu_kvm_slot_reason {
	IOMMU_KVM_SLOT_UNMAPPED		= 1 << 0,
	IOMMU_KVM_SLOT_PFNMAP		= 1 << 1,
	IOMMU_KVM_SLOT_HVA_READONLY	= 1 << 2,
	IOMMU_KVM_SLOT_RESERVED		= 1 << 3,
	IOMMU_KVM_SLOT_PIN_FAILED	= 1 << 4,
};

/**
 * struct iommu_kvm_slot - a memslot as the devices of a KVM-sourced IOAS
 *	see it
 * @gpa: the slot's first guest-physical address
 * @size: its size in bytes
 * @reasons: mask of enum iommu_kvm_slot_reason; 0 when devices reach the
 *	slot as RAM
 * @readonly: 1 when DMA writes to the slot are blocked (KVM_MEM_READONLY,
 *	or IOMMU_KVM_SLOT_HVA_READONLY), else 0
 */
struct iommu_kvm_slot {
	__aligned_u64 gpa;
	__aligned_u64 size;
	__u32 reasons;
	__u32 readonly;
};

/**
 * enum iommu_kvm_slots_flags - flags of IOMMU_KVM_SLOTS
 * @IOMMU_KVM_SLOTS_RETRY: first look again at every slot blocked for its
 *	memory (IOMMU_KVM_SLOT_UNMAPPED, _PFNMAP, _HVA_READONLY, _PIN_FAILED),
 *	and give the devices what is there now; needs the VM's process
 */
enum iommu_kvm_slots_flags {
	IOMMU_KVM_SLOTS_RETRY = 1 << 0,
};

#define IOMMUFD_CMD_KVM_SLOTS		0xb1

/**
 * struct iommu_kvm_slots - ioctl(IOMMU_KVM_SLOTS)
 * @size: sizeof(struct iommu_kvm_slots)
 * @flags: combination of enum iommu_kvm_slots_flags
 * @ioas_id: an IOAS allocated with IOMMU_IOAS_ALLOC_FLAG_KVM_FD
 * @nr_slots: in: entries at @slots_uptr; out: the memslots the IOAS
 *	follows, in GPA order (only the first entries fit when it is larger
 *	than the number passed in)
 * @slots_uptr: user pointer to an array of struct iommu_kvm_slot
 *
 * Reports what DMA to each memslot of the VM does (DOC: Memslots the
 * devices cannot use).  Errors: ENOENT when @ioas_id is not an IOAS,
 * EINVAL when it is not sourced from a KVM VM, EOPNOTSUPP for unknown
 * @flags, EFAULT when @slots_uptr cannot be written, EIO for
 * IOMMU_KVM_SLOTS_RETRY from another process than the VM's, ENOMEM for
 * IOMMU_KVM_SLOTS_RETRY beyond the memlock limit (the slot stays blocked).
 */
struct iommu_kvm_slots {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 nr_slots;
	__aligned_u64 slots_uptr;
};
#define IOMMU_KVM_SLOTS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_KVM_SLOTS)

#endif /* _UAPI_IOMMUFD_KVM_H */
