/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulated Intel VT-d remapping unit, scalable mode.
 *
 * The model reads its real in-memory structures out of emulated physical
 * memory (struct phys): root table -> scalable-mode context entry -> PASID
 * directory -> PASID table entry -> second-stage page table.  Definitions
 * here are written from the VT-d specification (and checked against what
 * QEMU's VT-d accepts, see shared/reference/TESTBED.md); they deliberately
 * share nothing with the product's encoders, so the two check each other.
 *
 * Caches keep returning what they hold until software invalidates them
 * through the invalidation queue: an IOTLB (leaf translations) and a PASID
 * cache (decoded PASID entries).  Faults are recorded in a fault log.
 *
 * Invalidation checks: an owner of a second-stage table that the unit
 * walks without owning it (KVM's TDP table) publishes each change it
 * flushes (struct vtd_table_change: the root, the IOVA range, a root being
 * replaced) on the thread that flushes, while it keeps the table stable
 * (KVM holds its mmu_lock for write).  Then:
 * - at each completed invalidation wait descriptor processed on that
 *   thread, the unit compares what it still caches for the domains the
 *   batch just invalidated, over the range they invalidated within the
 *   published range, against a fresh walk of the table in memory;
 * - when the owner has finished flushing (vtd_change_verify()), every unit
 *   does the same for every domain rooted at the published root, over the
 *   whole published range, so an importer that sent nothing is caught too.
 * A cached translation contradicts the table when the walk now finds no
 * translation, another page, or fewer rights; a cached paging-structure
 * entry when the walk no longer reaches the same table page; any entry
 * filled from a replaced root.  Contradictions are counted (stale_iotlb,
 * stale_psc, stale_at_wait) and the first one is kept for diagnostics.
 * Changes the owner has made but not yet flushed are never looked at:
 * only the published range is, only on the publishing thread, and only
 * while the owner holds the table still.
 *
 * DMA and invalidation: a device access holds the unit's drain lock for
 * reading from its translation to the end of its memory access
 * (vtd_dma_begin()/vtd_dma_end()); processing the invalidation queue takes
 * it for writing.  So an invalidation completes only after the accesses
 * already translated have finished, as the drain bits of the IOTLB
 * invalidation descriptor ask of hardware, and no access can use a
 * translation after the wait descriptor that removed it.
 *
 * Device-TLB (ATS) translation requests: vtd_translate_ats() answers as
 * the unit answers a translation request (VT-d spec 4.2.3): with the
 * translation and the rights the tables grant, or with R=W=0 when the
 * second-stage tables map nothing there or grant less than asked.  A
 * completion with R=W=0 is not a fault and is not recorded; conditions
 * the tables cannot express (a missing context or PASID entry, a reserved
 * bit, DTE clear in the context entry) are.  They need ECAP.DT.  They
 * use and fill the IOTLB like other requests.  A device that uses the
 * completion at once, without caching it (the model's DMA device has no
 * device-TLB), brackets request and access with vtd_dma_begin() and
 * vtd_dma_end() as for vtd_translate(), so invalidations drain it.
 *
 * Page requests (spec 7.4-7.6, needs ECAP.PRS): a device sends one with
 * vtd_page_request().  The unit finds the request's PASID table entry
 * (context entry present with PRE set); if it cannot, it records a
 * non-recoverable fault and, for the last request of a group (LPIG),
 * answers Invalid Request itself.  Otherwise, unless the page request
 * queue overflows, it invalidates what its IOTLB and paging-structure
 * cache hold for the page (the implicit invalidation of spec 6.5.3.1),
 * writes a 256-bit page request descriptor at PQT in the queue in memory
 * (PQA, 2^PQS pages) and advances PQT.  The queue is full when PQT is one
 * descriptor behind PQH: the request is dropped and PRO set; while PRO
 * stays set (until software clears it) every request is dropped; a
 * dropped request with LPIG gets a Success response from the unit itself
 * (the device retries and faults again).  Writing a descriptor sets PPR;
 * setting PPR or PRO while both were clear raises the page request event:
 * IP in PECTL, and the interrupt callback (vtd_set_prq_irq()) unless IM
 * masks it (IM is set at reset; clearing it with IP set delivers the
 * event).  Software answers a group with a page group response descriptor
 * (type 9) in the invalidation queue; the unit hands each response, and
 * each it generates itself, to the endpoint registered for the RID
 * (vtd_endpoint_register()).
 *
 * Locking: @drain (rwlock, writers preferred) is taken outside @lock;
 * @lock (mutex) protects the caches, the fault log, the queue registers,
 * the page request registers and endpoints, the invalidation batch and
 * the counters (but for walk_reads and freed_table_reads, which walks
 * update atomically); table walks read memory with atomic 64-bit loads
 * and set A/D bits with compare-and-exchange, as hardware does, so the
 * model can run against concurrent writers of the tables.  The list of
 * units that vtd_change_verify() visits has its own mutex, taken outside
 * @lock.  Page request descriptors are written to memory under @lock
 * before PQT moves, so software that reads PQT and then the descriptors
 * sees them whole.  The interrupt callback and the endpoints' response
 * callbacks run with @lock held (responses from the invalidation queue
 * also with @drain held for writing, responses the unit generates on the
 * thread of vtd_page_request()): they must not call into the unit, and
 * whatever lock they take must never be held across a call into it.
 */
#ifndef __KT_VTD_H
#define __KT_VTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phys.h"

/*
 * Register values QEMU 7.2 reports (caching-mode=on, x-scalable-mode=on):
 * CAP with aw-bits=39 (SAGAW 39-bit, MGAW 39) and with aw-bits=48 (SAGAW
 * 39+48-bit, MGAW 48); SLLPS 2M+1G, PSI with MAMV 18.  ECAP: scalable mode,
 * second-stage translation, queued invalidation; no SC, no SMPWC, no PASID.
 */
#define VTDM_QEMU_CAP_AW39	0x00d2008c22260286ULL
#define VTDM_QEMU_CAP_AW48	0x00d2008c222f0686ULL
#define VTDM_QEMU_ECAP_SM	0x0000480080f00f4aULL

#define VTDM_NO_PASID		0xffffffffU

/*
 * ECAP bits for translation requests (DT: Device-TLB support) and page
 * requests (PRS), which QEMU 7.2 does not report; VTDM_ECAP_SM_PRI is
 * QEMU's scalable-mode ECAP with both, for tests of ATS and PRI.
 */
#define VTDM_ECAP_DT		(1ULL << 2)
#define VTDM_ECAP_PRS		(1ULL << 29)
#define VTDM_ECAP_SM_PRI	(VTDM_QEMU_ECAP_SM | VTDM_ECAP_DT | VTDM_ECAP_PRS)

/* Page Request Status Register (PRS_REG), write 1 to clear. */
#define VTDM_PRS_PPR		(1U << 0)	/* pending page request */
#define VTDM_PRS_PRO		(1U << 1)	/* page request overflow */
/* Page Request Event Control Register (PECTL_REG). */
#define VTDM_PECTL_IP		(1U << 30)	/* interrupt pending (read-only) */
#define VTDM_PECTL_IM		(1U << 31)	/* interrupt mask */

/* Response codes of a page group response (spec table 32). */
#define VTDM_RESP_SUCCESS	0x0
#define VTDM_RESP_INVALID	0x1
#define VTDM_RESP_FAILURE	0xf

enum vtdm_fault_reason {
	VTDM_OK = 0,
	VTDM_F_ROOT_NP,		/* root entry not present */
	VTDM_F_CTX_NP,		/* context entry not present */
	VTDM_F_PDIR_NP,		/* PASID directory entry not present */
	VTDM_F_PASID_NP,	/* PASID table entry not present */
	VTDM_F_PASID_RANGE,	/* PASID beyond the directory size */
	VTDM_F_PGTT,		/* unsupported PASID-granular translation type */
	VTDM_F_AW,		/* AW not in SAGAW */
	VTDM_F_INPUT_WIDTH,	/* IOVA beyond the address width */
	VTDM_F_SS_NP,		/* second-stage entry not present (R=W=0) */
	VTDM_F_SS_RSVD,		/* second-stage entry has a reserved bit set */
	VTDM_F_SS_READ,		/* read access to a mapping without R */
	VTDM_F_SS_WRITE,	/* write access to a mapping without W */
	VTDM_F_BAD_TABLE,	/* a table pointer outside physical memory */
	VTDM_F_CTX_DTE,		/* translation request, DTE clear in the context entry */
	VTDM_F_CTX_PRE,		/* page request, PRE clear in the context entry */
	VTDM_F_UNSUPPORTED,	/* request type the unit does not report in ECAP */
	VTDM_F_NR,
};

struct vtdm_fault {
	enum vtdm_fault_reason reason;
	uint16_t sid;
	uint32_t pasid;
	uint64_t addr;
	bool write;
	int level;		/* table level at which the walk stopped */
	uint64_t entry;		/* the offending entry, when one was read */
};

struct vtdm_stats {
	uint64_t translations;
	uint64_t iotlb_hits;
	uint64_t walks;
	uint64_t walk_reads;	/* table entries read by walks */
	uint64_t faults;
	uint64_t qi_descs;
	uint64_t qi_waits;
	uint64_t inv_iotlb_global, inv_iotlb_dsi, inv_iotlb_psi;
	uint64_t inv_piotlb;
	uint64_t inv_pc;
	uint64_t inv_cc;
	uint64_t inv_devtlb;
	uint64_t iotlb_dropped;	/* entries removed by invalidations */
	uint64_t psc_hits;	/* walks started from a cached non-leaf entry */
	uint64_t psc_dropped;
	uint64_t freed_table_reads;	/* walks that read a freed table page */
	/* invalidation checks (see the comment at the top) */
	uint64_t inv_checks;	/* checks run: waits within a change, and ends */
	uint64_t inv_checked;	/* cached entries compared with the table */
	uint64_t stale_iotlb;	/* IOTLB entries contradicting the table */
	uint64_t stale_psc;	/* paging-structure entries contradicting it */
	uint64_t stale_at_wait;	/* of those, found at a wait descriptor */
	/* translation requests (ATS) */
	uint64_t ats_requests;
	uint64_t ats_no_access;	/* completions with R=W=0 (not faults) */
	/* page requests */
	uint64_t page_requests;	/* received by vtd_page_request() */
	uint64_t prq_descs;	/* written to the queue */
	uint64_t prq_full;	/* dropped: the queue was full (PRO set) */
	uint64_t prq_overflow;	/* dropped: PRO was set already */
	uint64_t prq_table_faults;	/* dropped: no PASID entry, PRE clear, ... */
	uint64_t prq_unsupported;	/* dropped: no ECAP.PRS */
	uint64_t prq_auto_responses;	/* responses the unit generated itself */
	uint64_t prq_events;	/* page request interrupts delivered */
	uint64_t prg_responses;	/* page group response descriptors processed */
	uint64_t prg_delivered;	/* responses (both kinds) given to an endpoint */
	uint64_t prg_dropped;	/* responses for a RID with no endpoint */
};

/*
 * A change of a second-stage table, published by the table's owner while
 * it flushes: translations of IOVAs [@start, @end) through @root may have
 * been removed or downgraded, or table pages covering them unlinked; with
 * @old_root, the owner replaces @old_root by @root (nothing may be cached
 * from @old_root any more).  @end is exclusive; (0, ~0) is everything.
 */
struct vtd_table_change {
	uint64_t root;
	uint64_t old_root;
	uint64_t start, end;
};

/* The first contradiction a unit found, for diagnostics. */
struct vtdm_stale {
	bool psc;		/* a paging-structure entry (else IOTLB) */
	bool at_wait;		/* found at a wait descriptor (else at the end) */
	uint16_t did;
	uint64_t iova;		/* first IOVA where cache and table disagree */
	unsigned int level;	/* PSC: the entry's level; IOTLB: page shift */
	uint64_t cached;	/* IOTLB: HPA; PSC: next table */
	uint64_t root;		/* root the entry was walked from */
	uint64_t table_entry;	/* what the fresh walk read last */
};

#define VTDM_IOTLB_SIZE		256
#define VTDM_PC_SIZE		32
#define VTDM_PSC_SIZE		64
#define VTDM_FAULT_LOG		64
#define VTDM_BATCH		8

struct vtdm_iotlb_entry {
	bool valid;
	uint16_t did;
	uint32_t pasid;
	uint8_t pgtt;
	uint64_t iova;		/* aligned to 1 << shift */
	unsigned int shift;	/* 12, 21 or 30 */
	uint64_t hpa;
	bool r, w;
	/*
	 * second-stage A/D: the leaf was dirty when cached; a write through
	 * an entry cached clean walks again to set D, as the hardware must
	 */
	bool d;
	uint64_t root;		/* second-stage root of the walk (checks only) */
	unsigned int levels;	/* its number of levels */
};

/*
 * Paging-structure cache: a non-leaf entry at @level (2..5) for the IOVA
 * region @prefix (IOVA >> (12 + 9 * (level - 1))), giving the next table
 * and the permissions accumulated down to it.  Dropped by IOTLB
 * invalidations without the invalidation hint (IH), kept with it.
 */
struct vtdm_psc_entry {
	bool valid;
	uint16_t did;
	uint32_t pasid;
	unsigned int level;
	uint64_t prefix;
	uint64_t table;
	bool r, w;
	uint64_t root;		/* second-stage root of the walk (checks only) */
	unsigned int levels;	/* its number of levels */
};

/* An IOTLB invalidation since the last wait descriptor (for the checks). */
struct vtdm_batch_inv {
	bool all_dids;		/* global invalidation */
	uint16_t did;
	uint64_t start, end;	/* IOVA range; (0, 0): the whole space */
};

/**
 * struct vtdm_page_req - a page request message, as a device sends it
 * @sid: requester id
 * @pasid: the request's PASID, VTDM_NO_PASID for a request without PASID
 * @addr: the page (bits 11:0 are ignored)
 * @read: read access requested
 * @write: write access requested
 * @lpig: last page in the group
 * @prgi: page request group index (9 bits)
 */
struct vtdm_page_req {
	uint16_t sid;
	uint32_t pasid;
	uint64_t addr;
	bool read, write;
	bool lpig;
	uint16_t prgi;
};

/* What vtd_page_request() did with a request. */
enum vtdm_prq_result {
	VTDM_PRQ_QUEUED,	/* descriptor written, PQT advanced */
	VTDM_PRQ_FULL,		/* queue full: dropped, PRO set */
	VTDM_PRQ_OVERFLOW,	/* PRO set already: dropped */
	VTDM_PRQ_FAULT,		/* table error: dropped, fault recorded */
	VTDM_PRQ_UNSUPPORTED,	/* no ECAP.PRS: dropped */
};

/**
 * struct vtdm_prg_resp - a page group response message to a device
 * @sid: requester id it is for
 * @pasid_present: the response carries @pasid
 * @pasid: the PASID
 * @prgi: page request group index
 * @code: response code as written (VTDM_RESP_*; 2h-Eh are reserved)
 * @automatic: generated by the unit itself (queue full or overflow:
 *	Success; table error: Invalid Request), not by a descriptor.  The
 *	model says so for tests; a device cannot tell.
 */
struct vtdm_prg_resp {
	uint16_t sid;
	bool pasid_present;
	uint32_t pasid;
	uint16_t prgi;
	uint8_t code;
	bool automatic;
};

/*
 * Response delivery to an endpoint: called with the unit's lock held (see
 * Locking above); @priv is what the endpoint registered.
 */
typedef void (*vtdm_prg_resp_fn)(void *priv, const struct vtdm_prg_resp *resp);

#define VTDM_ENDPOINTS		16

struct vtdm_endpoint {
	bool used;
	uint16_t sid;
	vtdm_prg_resp_fn fn;
	void *priv;
};

/**
 * struct vtdm_ats_completion - a translation completion
 * @hpa: translation of the requested address (page offset included);
 *	meaningful only when @r or @w is set
 * @shift: size of the translation (12, 21 or 30)
 * @r: read access granted
 * @w: write access granted (never with a no-write request)
 */
struct vtdm_ats_completion {
	uint64_t hpa;
	unsigned int shift;
	bool r, w;
};

struct vtdm_pasid_cache_entry {
	bool valid;
	uint16_t sid;
	uint32_t pasid;
	uint64_t pe[8];		/* the PASID table entry as read */
};

struct vtd {
	struct phys *pm;
	uint64_t cap, ecap;
	unsigned int haw;	/* host address width for table/page pointers */
	/* registers */
	uint64_t rtaddr;
	uint64_t iqa;
	uint64_t iqh, iqt;
	bool iqe;		/* invalidation queue error */
	/* caches */
	struct vtdm_iotlb_entry iotlb[VTDM_IOTLB_SIZE];
	unsigned int iotlb_next;
	struct vtdm_pasid_cache_entry pc[VTDM_PC_SIZE];
	unsigned int pc_next;
	struct vtdm_psc_entry psc[VTDM_PSC_SIZE];
	unsigned int psc_next;
	/* fault log */
	struct vtdm_fault faults[VTDM_FAULT_LOG];
	unsigned int nfaults;
	bool fault_overflow;
	struct vtdm_stats stats;
	/* walks count these without @lock: atomic, copied by vtd_stats() */
	uint64_t walk_reads, freed_table_reads;
	/* IOTLB invalidations queued since the last wait descriptor */
	struct vtdm_batch_inv batch[VTDM_BATCH];
	unsigned int nbatch;
	bool batch_overflow;
	struct vtdm_stale first_stale;
	/* page requests: registers, interrupt and endpoints (under @lock) */
	uint64_t pqa, pqh, pqt;	/* PQA_REG, PQH_REG, PQT_REG */
	uint32_t prs, pectl;	/* PRS_REG, PECTL_REG */
	void (*prq_irq)(void *priv);
	void *prq_irq_priv;
	struct vtdm_endpoint endpoints[VTDM_ENDPOINTS];
	pthread_mutex_t lock;
	pthread_rwlock_t drain;	/* see "DMA and invalidation" above */
	struct vtd *next_unit;	/* on the list vtd_change_verify() visits */
};

struct vtd *vtd_create(struct phys *pm, uint64_t cap, uint64_t ecap);
void vtd_destroy(struct vtd *v);

/* Register interface (what a driver writes). */
void vtd_set_rtaddr(struct vtd *v, uint64_t val);	/* RTADDR_REG */
void vtd_set_iqa(struct vtd *v, uint64_t val);		/* IQA_REG */
/* IQT_REG write: processes descriptors up to the tail. */
void vtd_set_iqt(struct vtd *v, uint64_t tail);
uint64_t vtd_get_iqh(struct vtd *v);
bool vtd_iqe(struct vtd *v);

/*
 * Translate one access of device @sid (request without PASID when @pasid
 * is VTDM_NO_PASID).  Returns VTDM_OK and the HPA (and the mapping size
 * when @shift is non-NULL), or a fault reason after recording the fault.
 */
enum vtdm_fault_reason vtd_translate(struct vtd *v, uint16_t sid, uint32_t pasid,
				     uint64_t iova, bool write, unsigned long long *hpa,
				     unsigned int *shift);

/*
 * A translation request of device @sid (ATS): VTDM_OK with the completion
 * in @c, R=W=0 when the tables grant nothing there (not recorded); with
 * @no_write, write access is not asked for and not granted.  Another
 * reason (recorded) when the request cannot be translated at all.
 */
enum vtdm_fault_reason vtd_translate_ats(struct vtd *v, uint16_t sid, uint32_t pasid,
					 uint64_t iova, bool no_write,
					 struct vtdm_ats_completion *c);

/*
 * Page requests (see the comment at the top).  The register interface:
 * PQA_REG (base | PQS), PQH_REG and PQT_REG (byte offsets of descriptors
 * in the queue), PRS_REG (write 1 to clear), PECTL_REG (IM).
 */
void vtd_set_pqa(struct vtd *v, uint64_t val);
void vtd_set_pqh(struct vtd *v, uint64_t val);
void vtd_set_pqt(struct vtd *v, uint64_t val);
uint64_t vtd_get_pqh(struct vtd *v);
uint64_t vtd_get_pqt(struct vtd *v);
uint32_t vtd_get_prs(struct vtd *v);
void vtd_clear_prs(struct vtd *v, uint32_t bits);
void vtd_set_pectl(struct vtd *v, uint32_t val);
uint32_t vtd_get_pectl(struct vtd *v);
/* The page request event's interrupt (the MSI): @fn(@priv), or none. */
void vtd_set_prq_irq(struct vtd *v, void (*fn)(void *priv), void *priv);
/* A device sends a page request. */
enum vtdm_prq_result vtd_page_request(struct vtd *v, const struct vtdm_page_req *req);
/* Page group responses for RID @sid go to @fn(@priv). */
int vtd_endpoint_register(struct vtd *v, uint16_t sid, vtdm_prg_resp_fn fn, void *priv);
void vtd_endpoint_unregister(struct vtd *v, uint16_t sid);

/*
 * A device access: translate with vtd_translate() and access memory
 * between these two, so that invalidations wait for it (see above).
 */
void vtd_dma_begin(struct vtd *v);
void vtd_dma_end(struct vtd *v);

/*
 * The owner of a second-stage table publishes @c (NULL: nothing) on the
 * calling thread while it flushes a change; checked at the wait
 * descriptors this thread's invalidations complete with.
 */
void vtd_change_publish(const struct vtd_table_change *c);
/* The owner has flushed @c: check every unit's caches against the table. */
void vtd_change_verify(const struct vtd_table_change *c);
/* The first contradiction found by @v, as text; false if none was found. */
bool vtd_first_stale(struct vtd *v, char *buf, size_t len);

/* Pop the oldest recorded fault; false when the log is empty. */
bool vtd_fault_pop(struct vtd *v, struct vtdm_fault *f);
unsigned int vtd_fault_count(struct vtd *v);
const char *vtd_fault_name(enum vtdm_fault_reason r);
struct vtdm_stats vtd_stats(struct vtd *v);
unsigned int vtd_iotlb_count(struct vtd *v);
unsigned int vtd_psc_count(struct vtd *v);

#endif /* __KT_VTD_H */
