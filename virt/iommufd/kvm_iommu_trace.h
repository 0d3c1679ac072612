/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of kvm-iommufd, system "kvm_iommu".
 *
 * One definition, two back ends: in the kernel these are tracepoints
 * (perf list: kvm_iommu:*); in the host build each event becomes a USDT
 * probe with the same name and the same arguments in the same order
 * (perf list, after perf buildid-cache --add: sdt_kvm_iommu:*).
 *
 * Field names are ABI for perf scripts: add a new event rather than
 * renaming or reordering the fields of an existing one.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_iommu

#if !defined(_TRACE_KVM_IOMMU_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_KVM_IOMMU_H

#include <linux/tracepoint.h>

/*
 * kvm_iommu_invalidate - KVM flushed its table; every SHARED domain is told
 * @start: first GPA of the range, inclusive
 * @end: end of the range, exclusive; (0, ~0) is the whole GPA space
 * @pages: 4 KiB pages in the range (0 for the whole space)
 * @tables: table pages were unlinked (paging-structure caches must go too)
 * @domains: SHARED domains flushed
 */
TRACE_EVENT(kvm_iommu_invalidate,
	TP_PROTO(u64 start, u64 end, u64 pages, u32 tables, u32 domains),
	TP_ARGS(start, end, pages, tables, domains),

	TP_STRUCT__entry(
		__field(u64, start)
		__field(u64, end)
		__field(u64, pages)
		__field(u32, tables)
		__field(u32, domains)
	),

	TP_fast_assign(
		__entry->start = start;
		__entry->end = end;
		__entry->pages = pages;
		__entry->tables = tables;
		__entry->domains = domains;
	),

	TP_printk("[0x%llx, 0x%llx) pages %llu tables %u domains %u",
		  __entry->start, __entry->end, __entry->pages,
		  __entry->tables, __entry->domains)
);

/*
 * kvm_iommu_sync - the domains of a kvm_iommu_invalidate finished: no
 * IOMMU can use the old translations any more
 * @domains: SHARED domains flushed
 * @ret: 0, or the first error a domain reported
 * @latency_ns: time from the invalidate event to now
 */
TRACE_EVENT(kvm_iommu_sync,
	TP_PROTO(u32 domains, int ret, u64 latency_ns),
	TP_ARGS(domains, ret, latency_ns),

	TP_STRUCT__entry(
		__field(u32, domains)
		__field(int, ret)
		__field(u64, latency_ns)
	),

	TP_fast_assign(
		__entry->domains = domains;
		__entry->ret = ret;
		__entry->latency_ns = latency_ns;
	),

	TP_printk("domains %u ret %d latency_ns %llu", __entry->domains,
		  __entry->ret, __entry->latency_ns)
);

/*
 * kvm_iommu_attach / kvm_iommu_detach - a device was attached to (or is
 * detached from) a domain of a KVM-sourced IOAS
 * @dev_id: iommufd's object id of the device
 * @mode: enum iommu_kvm_mode of the domain
 * @devices: devices attached to the IOAS afterwards
 */
DECLARE_EVENT_CLASS(kvm_iommu_attach_class,
	TP_PROTO(u32 dev_id, u32 mode, u32 devices),
	TP_ARGS(dev_id, mode, devices),

	TP_STRUCT__entry(
		__field(u32, dev_id)
		__field(u32, mode)
		__field(u32, devices)
	),

	TP_fast_assign(
		__entry->dev_id = dev_id;
		__entry->mode = mode;
		__entry->devices = devices;
	),

	TP_printk("dev_id %u mode %u devices %u", __entry->dev_id,
		  __entry->mode, __entry->devices)
);

DEFINE_EVENT(kvm_iommu_attach_class, kvm_iommu_attach,
	TP_PROTO(u32 dev_id, u32 mode, u32 devices),
	TP_ARGS(dev_id, mode, devices)
);

DEFINE_EVENT(kvm_iommu_attach_class, kvm_iommu_detach,
	TP_PROTO(u32 dev_id, u32 mode, u32 devices),
	TP_ARGS(dev_id, mode, devices)
);

/*
 * kvm_iommu_iopf_begin - a page request group reached a SHARED domain
 * @pasid: PASID of the requests (IOMMU_NO_PASID's value when none)
 * @grpid: page request group index
 * @addr: GPA of the last request of the group
 * @perm: IOMMU_FAULT_PERM_* of the last request
 * @faults: requests in the group
 */
TRACE_EVENT(kvm_iommu_iopf_begin,
	TP_PROTO(u32 pasid, u32 grpid, u64 addr, u32 perm, u32 faults),
	TP_ARGS(pasid, grpid, addr, perm, faults),

	TP_STRUCT__entry(
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u64, addr)
		__field(u32, perm)
		__field(u32, faults)
	),

	TP_fast_assign(
		__entry->pasid = pasid;
		__entry->grpid = grpid;
		__entry->addr = addr;
		__entry->perm = perm;
		__entry->faults = faults;
	),

	TP_printk("pasid %u grpid %u addr 0x%llx perm 0x%x faults %u",
		  __entry->pasid, __entry->grpid, __entry->addr,
		  __entry->perm, __entry->faults)
);

/*
 * kvm_iommu_kvm_faultin - KVM was asked to map a GPA for a page request
 * @gpa: the page
 * @write: write intent (a writable mapping was asked for)
 * @mapped: size of the leaf KVM mapped (0 on failure)
 * @ret: 0, or kvm_tdp_export_map()'s error
 */
TRACE_EVENT(kvm_iommu_kvm_faultin,
	TP_PROTO(u64 gpa, u32 write, u64 mapped, int ret),
	TP_ARGS(gpa, write, mapped, ret),

	TP_STRUCT__entry(
		__field(u64, gpa)
		__field(u32, write)
		__field(u64, mapped)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->gpa = gpa;
		__entry->write = write;
		__entry->mapped = mapped;
		__entry->ret = ret;
	),

	TP_printk("gpa 0x%llx write %u mapped 0x%llx ret %d", __entry->gpa,
		  __entry->write, __entry->mapped, __entry->ret)
);

/*
 * kvm_iommu_iopf_end - a page request group was answered
 * @pasid: as in kvm_iommu_iopf_begin
 * @grpid: as in kvm_iommu_iopf_begin
 * @code: enum iommu_page_response_code sent
 * @faults: requests in the group
 * @latency_ns: time from kvm_iommu_iopf_begin to the response
 */
TRACE_EVENT(kvm_iommu_iopf_end,
	TP_PROTO(u32 pasid, u32 grpid, u32 code, u32 faults, u64 latency_ns),
	TP_ARGS(pasid, grpid, code, faults, latency_ns),

	TP_STRUCT__entry(
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u32, code)
		__field(u32, faults)
		__field(u64, latency_ns)
	),

	TP_fast_assign(
		__entry->pasid = pasid;
		__entry->grpid = grpid;
		__entry->code = code;
		__entry->faults = faults;
		__entry->latency_ns = latency_ns;
	),

	TP_printk("pasid %u grpid %u code %u faults %u latency_ns %llu",
		  __entry->pasid, __entry->grpid, __entry->code,
		  __entry->faults, __entry->latency_ns)
);

/*
 * kvm_iommu_mode - a device's domain on a KVM-sourced IOAS was chosen
 * @mode: enum iommu_kvm_mode; NONE when the request was refused
 * @reasons: enum iommu_kvm_share_reason mask explaining why sharing was
 *	not possible (0 for SHARED)
 * @fmt: enum kvm_tdp_fmt_type of KVM's table (0 when unknown)
 * @levels: levels of KVM's root (0 when unknown)
 */
TRACE_EVENT(kvm_iommu_mode,
	TP_PROTO(u32 mode, u32 reasons, u32 fmt, u32 levels),
	TP_ARGS(mode, reasons, fmt, levels),

	TP_STRUCT__entry(
		__field(u32, mode)
		__field(u32, reasons)
		__field(u32, fmt)
		__field(u32, levels)
	),

	TP_fast_assign(
		__entry->mode = mode;
		__entry->reasons = reasons;
		__entry->fmt = fmt;
		__entry->levels = levels;
	),

	TP_printk("mode %u reasons 0x%x fmt %u levels %u", __entry->mode,
		  __entry->reasons, __entry->fmt, __entry->levels)
);

/*
 * kvm_iommu_pin / kvm_iommu_unpin - guest pages pinned (or released) for
 * devices that cannot fault
 * @gpa: first guest-physical address of the range
 * @pages: 4 KiB pages in the range
 */
DECLARE_EVENT_CLASS(kvm_iommu_pin_class,
	TP_PROTO(u64 gpa, u64 pages),
	TP_ARGS(gpa, pages),

	TP_STRUCT__entry(
		__field(u64, gpa)
		__field(u64, pages)
	),

	TP_fast_assign(
		__entry->gpa = gpa;
		__entry->pages = pages;
	),

	TP_printk("gpa 0x%llx pages %llu", __entry->gpa, __entry->pages)
);

DEFINE_EVENT(kvm_iommu_pin_class, kvm_iommu_pin,
	TP_PROTO(u64 gpa, u64 pages),
	TP_ARGS(gpa, pages)
);

DEFINE_EVENT(kvm_iommu_pin_class, kvm_iommu_unpin,
	TP_PROTO(u64 gpa, u64 pages),
	TP_ARGS(gpa, pages)
);

/*
 * kvm_iommu_memslot - a memslot change KVM reported, as the IOAS applied it
 * @change: enum kvm_tdp_memslot_change
 * @gpa: the slot's guest-physical address (the new one for a move)
 * @size: the slot's size in bytes
 * @ret: 0, or the error that failed (prepare) or could not be mirrored
 *	(commit) the change
 * @blocked: mask of enum iommu_kvm_slot_reason: why DMA to the slot is not
 *	RAM (0: it is)
 */
TRACE_EVENT(kvm_iommu_memslot,
	TP_PROTO(u32 change, u64 gpa, u64 size, int ret, u32 blocked),
	TP_ARGS(change, gpa, size, ret, blocked),

	TP_STRUCT__entry(
		__field(u32, change)
		__field(u64, gpa)
		__field(u64, size)
		__field(int, ret)
		__field(u32, blocked)
	),

	TP_fast_assign(
		__entry->change = change;
		__entry->gpa = gpa;
		__entry->size = size;
		__entry->ret = ret;
		__entry->blocked = blocked;
	),

	TP_printk("change %u gpa 0x%llx size 0x%llx ret %d blocked 0x%x",
		  __entry->change, __entry->gpa, __entry->size, __entry->ret,
		  __entry->blocked)
);

/*
 * kvm_iommu_dirty_log - KVM harvests the dirty pages of a slot our devices
 *	may have written (see DOC: Dirty logging in kvm_ioas.c)
 * @gpa: the slot's guest-physical address
 * @pages: the slot's pages
 * @all: every page was reported dirty (a device writes unseen)
 * @scan: KVM was asked to report the leaves the IOMMU marked dirty
 */
TRACE_EVENT(kvm_iommu_dirty_log,
	TP_PROTO(u64 gpa, u64 pages, bool all, bool scan),
	TP_ARGS(gpa, pages, all, scan),

	TP_STRUCT__entry(
		__field(u64, gpa)
		__field(u64, pages)
		__field(bool, all)
		__field(bool, scan)
	),

	TP_fast_assign(
		__entry->gpa = gpa;
		__entry->pages = pages;
		__entry->all = all;
		__entry->scan = scan;
	),

	TP_printk("gpa 0x%llx pages %llu all %d scan %d", __entry->gpa,
		  __entry->pages, __entry->all, __entry->scan)
);

#endif /* _TRACE_KVM_IOMMU_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH ../../virt/iommufd
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kvm_iommu_trace

#include <trace/define_trace.h>
