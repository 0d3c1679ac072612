/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the parts of the intel-iommu driver that kvm-iommufd uses,
 * driving the VT-d model the way the driver drives hardware: root and
 * context tables in memory, PASID directory and table, and a queued
 * invalidation ring with wait descriptors.
 *
 * The fields and functions named like the driver's (struct intel_iommu's
 * cap, ecap and seq_id; struct qi_desc; qi_submit_sync()) keep the driver's
 * meaning; everything prefixed kt_ is test-only.
 *
 * Page requests, as the driver's prq.c handles them: a device registered
 * for page requests (kt_intel_prq_register_dev(), which
 * kt_intel_probe_device() calls) gets DTE and PRE in its context entry
 * when the unit supports them;
 * kt_intel_prq_enable() gives the unit a page request queue and starts the
 * "prq thread", which the unit's page request interrupt wakes (the
 * driver's prq_event_thread).  The thread clears PPR, reads the
 * descriptors between PQH and PQT from memory, reports each page request
 * of a registered device to the IOMMU core (iommu_report_device_fault(),
 * standin/iopf.c) with the device's registration lock held, answers
 * Invalid Request itself to what it cannot route (an unknown requester,
 * an execute or privileged request), drops stop markers, moves PQH, and
 * once the queue is drained after an overflow, discards the devices'
 * partial faults and clears PRO.  Unlike the 6.12 driver it routes
 * requests without PASID too (a device's RID_PASID domain, which is how
 * the KVM-TDP domain is attached).  ->page_response
 * (kt_intel_page_response()) queues a page group response descriptor and
 * a wait descriptor with qi_submit_sync(); the response code goes out in
 * the VT-d encoding (Response Failure is 0xf).
 */
#ifndef __KT_STANDIN_INTEL_IOMMU_H
#define __KT_STANDIN_INTEL_IOMMU_H

#include "../platform/phys.h"
#include "../platform/vtd.h"

struct qi_desc {
	u64 qw0;
	u64 qw1;
	u64 qw2;
	u64 qw3;
};

#define KT_PRQ_ORDER		0	/* one page: 128 descriptors, 127 usable */
#define KT_PRQ_MAX_DEVS		32

/**
 * struct kt_prq_stats - what the prq thread and ->page_response did
 * @wakeups: times the prq thread ran after an interrupt
 * @reported: page requests reported to the IOMMU core
 * @bad: page requests the driver answered Invalid Request itself
 * @stop_markers: stop markers dropped
 * @overflows: overflows (PRO) cleared after draining the queue
 * @responses: page group responses sent through ->page_response
 */
struct kt_prq_stats {
	u64 wakeups;
	u64 reported;
	u64 bad;
	u64 stop_markers;
	u64 overflows;
	u64 responses;
};

#define KT_NR_DIDS		0x8000	/* paging stand-in domains use 0x8000 up */

struct intel_iommu;

/* A DMA remapping hardware unit, in the driver's list of them. */
struct dmar_drhd_unit {
	struct list_head list;		/* in dmar_drhd_units */
	struct intel_iommu *iommu;
	bool ignored;
};

struct intel_iommu {
	u64 cap;
	u64 ecap;
	int seq_id;
	spinlock_t lock;	/* root/context/PASID tables, domain ids */
	/* domain ids in use (the driver's domain_ida), under @lock */
	unsigned long domain_ids[BITS_TO_LONGS(KT_NR_DIDS)];
	struct dmar_drhd_unit drhd;	/* this unit in dmar_drhd_units */
	/* stand-in state */
	struct list_head kt_devices;	/* probed devices' device_domain_info */
	struct vtd *hw;
	struct phys *pm;
	u64 root_table;
	u64 qi_base;		/* one page: 128 descriptors of 256 bits */
	u64 qi_tail;
	u64 qi_status;		/* 4-byte wait status */
	u32 qi_seq;
	u64 qi_submits;		/* qi_submit_sync() calls */
	u64 qi_descs;		/* descriptors submitted, waits included */
	spinlock_t qi_lock;	/* protects the ring, qi_seq and counters */
	/* page requests: the driver's iopf_lock, and what it protects */
	struct mutex iopf_lock;	/* held across a report; taken outside lock */
	struct device *prq_devs[KT_PRQ_MAX_DEVS];	/* written under both locks */
	u16 prq_sids[KT_PRQ_MAX_DEVS];	/* their sids, as registered */
	unsigned int nr_prq_devs;
	u64 prq;		/* the queue (KT_PRQ_ORDER pages); 0: disabled */
	pthread_t prq_thread;
	pthread_mutex_t prq_wait_lock;	/* protects prq_kick, prq_stop */
	pthread_cond_t prq_wait;	/* the interrupt, or a stop */
	bool prq_kick;
	bool prq_stop;
	struct kt_prq_stats prq_stats;	/* atomic */
};

int qi_submit_sync(struct intel_iommu *iommu, struct qi_desc *desc,
		   unsigned int count, unsigned long options);

/*
 * Test knob: a broken invalidation queue, for tests that must catch an
 * importer whose invalidations do not do their job.  qi_submit_sync() of
 * every unit, for IOTLB invalidate descriptors (type 2)
 * - KT_QI_DROP_TABLE_INV: drops those that also invalidate the
 *   paging-structure caches: domain-selective and global ones, and
 *   page-selective ones with the invalidation hint clear;
 * - KT_QI_DROP_LEAF_INV: drops page-selective ones with the hint set
 *   (leaves only changed);
 * - KT_QI_FORCE_LEAF_HINT: sets the hint in every page-selective one, so
 *   the paging-structure caches keep what they hold for the range.
 * Other descriptors and the wait go out as submitted.  It is global and
 * atomic so that a test can set it before starting threads and clear it
 * after joining them.
 */
enum kt_qi_breakage {
	KT_QI_CORRECT,
	KT_QI_DROP_TABLE_INV,
	KT_QI_DROP_LEAF_INV,
	KT_QI_FORCE_LEAF_HINT,
};
void kt_qi_break(enum kt_qi_breakage how);
/* Descriptors the knob dropped or weakened since it was last set. */
u64 kt_qi_broken_descs(void);

/*
 * A unit in scalable mode over @hw; it joins dmar_drhd_units and takes a
 * reference on the machine's memory (kt_machine_mem_get()).
 */
struct intel_iommu *kt_intel_iommu_create(struct phys *pm, struct vtd *hw,
					  int seq_id);
/* Free the unit, its tables and its devices' driver data. */
void kt_intel_iommu_destroy(struct intel_iommu *iommu);
/* The unit @dev is behind (probed with kt_intel_probe_device()), or NULL. */
struct intel_iommu *kt_intel_dev_unit(struct device *dev);
/*
 * The RID_PASID entry of device @sid, its context and PASID tables
 * allocated when @alloc; NULL when absent or out of memory.  Called with
 * @iommu->lock held.
 */
u64 *kt_intel_pasid_entry(struct intel_iommu *iommu, u16 sid, bool alloc);
/* Install @pe as the RID_PASID (PASID 0) entry of device @sid. */
int kt_intel_set_pasid_entry(struct intel_iommu *iommu, u16 sid, const u64 pe[8]);
/* Clear it again, with the PASID-cache and IOTLB invalidation a driver does. */
int kt_intel_clear_pasid_entry(struct intel_iommu *iommu, u16 sid, u16 did);

/**
 * kt_intel_prq_register_dev() - @dev's page requests reach the prq thread
 * @iommu: the unit @dev is behind (NULL: nothing to do)
 * @dev: the device, with ->sid set; replaces a device with the same sid
 *
 * Sets DTE and PRE (as far as the unit reports ECAP.DT and ECAP.PRS) in
 * the device's context entry, now (with a context-cache invalidation) or
 * when it is made.
 *
 * Return: 0, -ENOSPC with KT_PRQ_MAX_DEVS registered already, or the
 * invalidation's error.
 */
int kt_intel_prq_register_dev(struct intel_iommu *iommu, struct device *dev);

/**
 * kt_intel_prq_unregister_dev() - @dev's page requests are answered Invalid
 * @iommu: the unit
 * @dev: a registered device
 *
 * On return no report for @dev is running (the registration lock).
 */
void kt_intel_prq_unregister_dev(struct intel_iommu *iommu, struct device *dev);

/**
 * kt_intel_prq_enable() - set up the page request queue and its thread
 * @iommu: the unit, which must report ECAP.PRS
 *
 * Allocates the queue (KT_PRQ_ORDER pages), programs PQH = PQT = 0 and
 * PQA, routes the page request interrupt to the prq thread, starts it and
 * unmasks the interrupt.
 *
 * Return: 0, -ENODEV without ECAP.PRS, -EBUSY when enabled already,
 * -ENOMEM, or -EAGAIN when the thread cannot start.
 */
int kt_intel_prq_enable(struct intel_iommu *iommu);

/**
 * kt_intel_prq_disable() - stop the prq thread and free the queue
 * @iommu: the unit (a no-op when not enabled)
 *
 * Masks the interrupt, stops and joins the thread (a report in progress
 * finishes first) and clears PQA, so the unit answers later page requests
 * itself (Invalid Request, with a fault record).  Descriptors not read yet
 * are dropped.  kt_intel_iommu_destroy() calls it.
 */
void kt_intel_prq_disable(struct intel_iommu *iommu);

/* A snapshot of the unit's page request counters. */
struct kt_prq_stats kt_intel_prq_stats(struct intel_iommu *iommu);

/**
 * kt_intel_page_response() - ->page_response of the stand-in driver
 * @dev: the device the group came from
 * @evt: the group's last page request
 * @msg: the response (code in enum iommu_page_response_code)
 *
 * Queues a page group response descriptor for @dev's sid, with @evt's
 * PASID when it had one, and waits for it with a wait descriptor.
 */
void kt_intel_page_response(struct device *dev, struct iopf_fault *evt,
			    struct iommu_page_response *msg);

/*
 * A second-stage table built the way the intel-iommu driver builds its own
 * paging domains: R/W leaves (4K, 2M, 1G), non-leaf entries R|W.
 */
struct kt_ss_table {
	struct phys *pm;
	u64 root;
	unsigned int levels;
	long table_pages;
};

int kt_ss_table_init(struct kt_ss_table *t, struct phys *pm, unsigned int levels);
void kt_ss_table_free(struct kt_ss_table *t);
/* Map [iova, iova + size) to hpa with pages of 1 << shift; prot bit0 R, bit1 W. */
int kt_ss_map(struct kt_ss_table *t, u64 iova, u64 hpa, u64 size,
	      unsigned int shift, unsigned int prot);
/* Clear the leaves of [iova, iova + size); table pages stay. */
int kt_ss_unmap(struct kt_ss_table *t, u64 iova, u64 size);

#endif /* __KT_STANDIN_INTEL_IOMMU_H */
