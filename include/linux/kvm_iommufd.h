/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-iommufd core: IO address spaces whose source is a KVM VM.
 *
 * iommufd calls these from its IOAS and HWPT paths (see the patch series):
 * an IOAS allocated with IOMMU_IOAS_ALLOC_FLAG_KVM_FD carries a
 * struct kvm_iommu_ioas; its IOVA space is the VM's guest-physical space
 * (address space 0) and userspace cannot map or unmap in it.  A paging HWPT
 * allocated on it in SHARED mode gets a domain whose translation is KVM's
 * own TDP table; this file keeps the list of those domains and forwards
 * every invalidation and root change KVM reports to each of them.  A
 * device that cannot share gets a PINNED domain instead: an ordinary
 * paging domain of the IOAS's io_pagetable, which the core keeps equal to
 * the VM's memslots.  A SHARED domain of a device that can fault (PRI)
 * pins nothing: its IO page faults are resolved by asking KVM to map the
 * GPA (kvm_tdp_export_map()), and the ones KVM cannot resolve are answered
 * with a failure and reported in the HWPT's iommufd fault queue.
 */
#ifndef __LINUX_KVM_IOMMUFD_H
#define __LINUX_KVM_IOMMUFD_H

#include <linux/types.h>

struct device;
struct io_pagetable;
struct iommu_domain;
struct iommufd_ctx;
struct iommufd_fault;
struct iopf_group;
struct kvm_iommu_ioas;
struct kvm_tdp_format;

/**
 * enum kvm_iommu_policy - which modes a device may get on a KVM-sourced IOAS
 * @KVM_IOMMU_POLICY_AUTO: SHARED when the device can walk KVM's table,
 *	otherwise PINNED
 * @KVM_IOMMU_POLICY_SHARE_REQUIRED: SHARED or nothing
 * @KVM_IOMMU_POLICY_PIN_ONLY: PINNED whatever the device could do
 */
enum kvm_iommu_policy {
	KVM_IOMMU_POLICY_AUTO,
	KVM_IOMMU_POLICY_SHARE_REQUIRED,
	KVM_IOMMU_POLICY_PIN_ONLY,
};

/**
 * struct kvm_iommu_share_info - both sides of a sharing decision
 * @reasons: mask of enum iommu_kvm_share_reason; 0 when sharing is possible
 * @kvm_format: enum kvm_tdp_fmt_type of KVM's table
 * @kvm_levels: levels of KVM's root
 * @kvm_max_leaf_level: largest leaf KVM may install (1: 4K, 2: 2M, 3: 1G)
 * @kvm_phys_bits: width of the physical addresses KVM writes
 * @iommu_levels: mask of table depths the IOMMU can walk (bit n: n levels)
 * @iommu_max_leaf_level: largest leaf the IOMMU can walk
 * @iommu_addr_bits: width of the addresses the IOMMU accepts
 * @rsvd_conflict: bits KVM sets in present entries that the IOMMU reserves
 * @sets_dirty: the IOMMU marks KVM's leaves dirty (struct
 *	kvm_tdp_format.dirty_mask) when it writes through them, as the CPU
 *	does, so KVM's table tells which pages the device wrote
 */
struct kvm_iommu_share_info {
	u32 reasons;
	u8 kvm_format;
	u8 kvm_levels;
	u8 kvm_max_leaf_level;
	u8 kvm_phys_bits;
	u8 iommu_levels;
	u8 iommu_max_leaf_level;
	u8 iommu_addr_bits;
	u64 rsvd_conflict;
	bool sets_dirty;
};

/**
 * struct kvm_iommu_stats - counters of one KVM-sourced IOAS
 * @invalidations: invalidate callbacks received from KVM
 * @domain_flushes: domain flushes issued (one per SHARED domain and flush,
 *	see @flushes)
 * @flushes: flushes of every SHARED domain at once: one per KVM
 *	invalidation, plus the core's own after it faulted pages in; each is
 *	one kvm_iommu_invalidate and one kvm_iommu_sync trace event
 * @flush_errors: domain flushes and root replacements a domain reported
 *	as failed
 * @root_changes: root replacements received from KVM
 * @shared_domains: SHARED domains currently allocated
 * @pinned_pages: guest pages held pinned for SHARED devices that cannot
 *	fault (the io_pagetable's pins: a page a PINNED domain holds too is
 *	pinned and charged once)
 * @memslot_changes: memslot changes KVM reported (after the initial slots)
 * @mirror_errors: memslot changes the IOAS could not follow after KVM had
 *	made them: a slot that could not be mapped, pinned or faulted into
 *	KVM's table at its (new) GPAs stays out, and DMA there is blocked,
 *	until a retry or its deletion (IOMMU_KVM_SLOT_PIN_FAILED)
 * @fault_domains: SHARED domains currently allocated for devices that can
 *	fault (they pin nothing)
 * @attached: devices currently attached to a domain of the IOAS
 * @attaches: device attaches reported (kvm_iommu_device_attached())
 * @detaches: device detaches reported (kvm_iommu_device_detached())
 * @pin_calls: slot ranges pinned for SHARED devices that cannot fault
 * @unpin_calls: slot ranges unpinned again
 * @iopf_groups: page request groups received by SHARED domains
 * @iopf_faults: page requests in them
 * @iopf_failed: groups answered with a failure: a page request was refused
 *	or the VMM's mm was gone (the group is then reported to the HWPT's
 *	fault queue), or the handler could not queue its work (the IOMMU core
 *	answers Response Failure)
 * @faultins: page requests resolved, in a group's order up to the first
 *	one refused: for each, KVM was asked to map the GPA (a request for a
 *	privileged access is refused without asking)
 * @faultin_errors: of those, the ones refused
 * @iopf_ns_total: time from receiving a group to answering it, summed
 * @iopf_ns_max: the longest of those times
 * @modes: mode decisions made: SHARED, PINNED or none (a refusal); one per
 *	kvm_iommu_domain_alloc() call but those that failed on the device's
 *	reserved IOVA first
 * @memslot_refused: memslot creations the IOAS refused (prepare failed)
 * @memslot_initial: the VM's slots when the IOAS started following them
 * @kept_leaves: leaves of KVM's table that an MMU-notifier invalidation
 *	left in place because the IOAS holds their pages pinned for devices
 *	that cannot fault (fork, mprotect, compaction, ...: see DOC: Devices
 *	that cannot fault in kvm_ioas.c)
 * @dirty_harvests: harvests of a logging slot (KVM_GET_DIRTY_LOG,
 *	KVM_CLEAR_DIRTY_LOG) to which the IOAS added pages or for which it
 *	asked KVM to scan its table
 * @dirty_all_pages: pages those harvests reported dirty whether written or
 *	not (the conservative rule: IOMMU_KVM_DIRTY_ALL)
 * @dirty_scans: harvests for which KVM reported the leaves an IOMMU marked
 *	dirty (IOMMU_KVM_DIRTY_TABLE)
 * @blocked_slots: memslots that DMA does not reach as RAM now (see DOC:
 *	Memslots the devices cannot use in include/uapi/linux/iommufd_kvm.h)
 * @slot_retries: slots looked at again: IOMMU_KVM_SLOTS_RETRY, and slots
 *	taken out of the PINNED table for a device's reserved IOVA
 *
 * Each trace event of kvm_iommu_trace.h fires once per count of one of
 * these: kvm_iommu_attach @attaches, kvm_iommu_detach @detaches,
 * kvm_iommu_mode @modes, kvm_iommu_iopf_begin and kvm_iommu_iopf_end
 * @iopf_groups, kvm_iommu_kvm_faultin @faultins, kvm_iommu_invalidate and
 * kvm_iommu_sync @flushes, kvm_iommu_pin @pin_calls, kvm_iommu_unpin
 * @unpin_calls, kvm_iommu_memslot @memslot_initial + @memslot_changes +
 * @memslot_refused + @slot_retries, kvm_iommu_dirty_log @dirty_harvests.
 */
struct kvm_iommu_stats {
	u64 invalidations;
	u64 domain_flushes;
	u64 flushes;
	u64 flush_errors;
	u64 root_changes;
	u32 shared_domains;
	u64 pinned_pages;
	u64 memslot_changes;
	u64 mirror_errors;
	u32 fault_domains;
	u32 attached;
	u64 attaches;
	u64 detaches;
	u64 pin_calls;
	u64 unpin_calls;
	u64 iopf_groups;
	u64 iopf_faults;
	u64 iopf_failed;
	u64 faultins;
	u64 faultin_errors;
	u64 iopf_ns_total;
	u64 iopf_ns_max;
	u64 modes;
	u64 memslot_refused;
	u64 memslot_initial;
	u64 kept_leaves;
	u64 dirty_harvests;
	u64 dirty_all_pages;
	u64 dirty_scans;
	u64 blocked_slots;
	u64 slot_retries;
};

#ifdef CONFIG_KVM_IOMMUFD
struct kvm_iommu_ioas *kvm_iommu_ioas_alloc(int kvm_fd,
					    struct iommufd_ctx *ictx,
					    struct io_pagetable *iopt);
void kvm_iommu_ioas_free(struct kvm_iommu_ioas *kio);
void kvm_iommu_domain_free(struct kvm_iommu_ioas *kio,
			   struct iommu_domain *domain);
void kvm_iommu_get_stats(struct kvm_iommu_ioas *kio,
			 struct kvm_iommu_stats *stats);
u64 kvm_iommu_ioas_root(struct kvm_iommu_ioas *kio);
void kvm_iommu_share_info_init(struct kvm_iommu_share_info *info,
			       const struct kvm_tdp_format *fmt);
#else
#include <linux/err.h>
#include <linux/string.h>

/*
 * Without CONFIG_KVM_IOMMUFD no IOAS is sourced from a KVM VM: allocating
 * one fails, and iommufd never holds a struct kvm_iommu_ioas to pass to
 * the others.
 */
static inline struct kvm_iommu_ioas *
kvm_iommu_ioas_alloc(int kvm_fd, struct iommufd_ctx *ictx,
		     struct io_pagetable *iopt)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void kvm_iommu_ioas_free(struct kvm_iommu_ioas *kio) {}

static inline void kvm_iommu_domain_free(struct kvm_iommu_ioas *kio,
					 struct iommu_domain *domain) {}

static inline void kvm_iommu_get_stats(struct kvm_iommu_ioas *kio,
				       struct kvm_iommu_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
}

static inline u64 kvm_iommu_ioas_root(struct kvm_iommu_ioas *kio)
{
	return 0;
}
#endif /* CONFIG_KVM_IOMMUFD */
struct iommu_domain *kvm_iommu_domain_alloc(struct kvm_iommu_ioas *kio,
					    struct device *dev,
					    enum kvm_iommu_policy policy,
					    struct iommufd_fault *fault,
					    u32 *reasons);
void kvm_iommu_device_attached(struct kvm_iommu_ioas *kio, u32 dev_id,
			       u32 mode);
void kvm_iommu_device_detached(struct kvm_iommu_ioas *kio, u32 dev_id,
			       u32 mode);
int kvm_iommu_share_query(struct kvm_iommu_ioas *kio, struct device *dev,
			  struct kvm_iommu_share_info *info);
u32 kvm_iommu_dirty_log(struct kvm_iommu_ioas *kio, struct iommu_domain *domain);
struct iommu_kvm_slot;
int kvm_iommu_slots(struct kvm_iommu_ioas *kio, u32 flags,
		    struct iommu_kvm_slot *slots, u32 *nr_slots);

/*
 * Provided by iommufd (virt/iommufd/kvm_hwpt.c, on the fault queue of
 * drivers/iommu/iommufd/fault.c with the series): queue @group, which the
 * caller has already answered, as an event userspace reads from the fault
 * object; the queue frees the group.
 */
void iommufd_fault_report_answered(struct iommufd_fault *fault,
				   struct iopf_group *group);

#endif /* __LINUX_KVM_IOMMUFD_H */
