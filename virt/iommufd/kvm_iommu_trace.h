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
 * kvm_iommu_invalidate - one batch of IOTLB invalidation was queued
 * @unit: IOMMU instance (VT-d: seq_id)
 * @did: domain id invalidated
 * @start: first IOVA (GPA) of the range, inclusive
 * @end: end of the range, exclusive; 0 with @pages 0 means the whole domain
 * @pages: 4 KiB pages covered by the descriptors (0: domain-selective)
 * @descs: descriptors in the batch, not counting the wait descriptor
 */
TRACE_EVENT(kvm_iommu_invalidate,
	TP_PROTO(u32 unit, u16 did, u64 start, u64 end, u64 pages, u32 descs),
	TP_ARGS(unit, did, start, end, pages, descs),

	TP_STRUCT__entry(
		__field(u32, unit)
		__field(u16, did)
		__field(u64, start)
		__field(u64, end)
		__field(u64, pages)
		__field(u32, descs)
	),

	TP_fast_assign(
		__entry->unit = unit;
		__entry->did = did;
		__entry->start = start;
		__entry->end = end;
		__entry->pages = pages;
		__entry->descs = descs;
	),

	TP_printk("unit %u did %u [0x%llx, 0x%llx) pages %llu descs %u",
		  __entry->unit, __entry->did, __entry->start, __entry->end,
		  __entry->pages, __entry->descs)
);

/*
 * kvm_iommu_sync - the IOMMU reported completion of a batch (or failed to)
 * @unit: IOMMU instance
 * @did: domain id of the batch
 * @ret: 0 on completion, or the negative errno of the submission
 */
TRACE_EVENT(kvm_iommu_sync,
	TP_PROTO(u32 unit, u16 did, int ret),
	TP_ARGS(unit, did, ret),

	TP_STRUCT__entry(
		__field(u32, unit)
		__field(u16, did)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->unit = unit;
		__entry->did = did;
		__entry->ret = ret;
	),

	TP_printk("unit %u did %u ret %d", __entry->unit, __entry->did,
		  __entry->ret)
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
 */
TRACE_EVENT(kvm_iommu_memslot,
	TP_PROTO(u32 change, u64 gpa, u64 size, int ret),
	TP_ARGS(change, gpa, size, ret),

	TP_STRUCT__entry(
		__field(u32, change)
		__field(u64, gpa)
		__field(u64, size)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->change = change;
		__entry->gpa = gpa;
		__entry->size = size;
		__entry->ret = ret;
	),

	TP_printk("change %u gpa 0x%llx size 0x%llx ret %d", __entry->change,
		  __entry->gpa, __entry->size, __entry->ret)
);

#endif /* _TRACE_KVM_IOMMU_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH ../../virt/iommufd
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kvm_iommu_trace

#include <trace/define_trace.h>
