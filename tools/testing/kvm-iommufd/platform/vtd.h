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
 * Locking: one mutex protects the caches, the fault log and the queue
 * registers; table walks read memory with atomic 64-bit loads and set A/D
 * bits with compare-and-exchange, as hardware does, so the model can run
 * against concurrent writers of the tables.
 */
#ifndef __KT_VTD_H
#define __KT_VTD_H

#include <pthread.h>
#include <stdbool.h>
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
};

#define VTDM_IOTLB_SIZE		256
#define VTDM_PC_SIZE		32
#define VTDM_PSC_SIZE		64
#define VTDM_FAULT_LOG		64

struct vtdm_iotlb_entry {
	bool valid;
	uint16_t did;
	uint32_t pasid;
	uint8_t pgtt;
	uint64_t iova;		/* aligned to 1 << shift */
	unsigned int shift;	/* 12, 21 or 30 */
	uint64_t hpa;
	bool r, w;
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
	pthread_mutex_t lock;
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

/* Pop the oldest recorded fault; false when the log is empty. */
bool vtd_fault_pop(struct vtd *v, struct vtdm_fault *f);
unsigned int vtd_fault_count(struct vtd *v);
const char *vtd_fault_name(enum vtdm_fault_reason r);
struct vtdm_stats vtd_stats(struct vtd *v);
unsigned int vtd_iotlb_count(struct vtd *v);
unsigned int vtd_psc_count(struct vtd *v);

#endif /* __KT_VTD_H */
