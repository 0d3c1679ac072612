// SPDX-License-Identifier: GPL-2.0
/* Emulated VT-d remapping unit (scalable mode): see vtd.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtd.h"

#define B(n)			(1ULL << (n))
#define MASK(h, l)		((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define ADDR_4K			MASK(63, 12)

/* CAP / ECAP fields used by the model (VT-d spec, chapter 11). */
#define CAP_SAGAW(c)		(((c) >> 8) & 0x1f)
#define CAP_MGAW(c)		((((c) >> 16) & 0x3f) + 1)
#define CAP_SLLPS(c)		(((c) >> 34) & 0xf)
#define ECAP_DT(e)		(((e) >> 2) & 1)
#define ECAP_SC(e)		(((e) >> 7) & 1)
#define ECAP_PRS(e)		(((e) >> 29) & 1)
#define ECAP_SMTS(e)		(((e) >> 43) & 1)
#define ECAP_SLADS(e)		(((e) >> 45) & 1)

/* Second-stage entry bits. */
#define SS_R			B(0)
#define SS_W			B(1)
#define SS_PS			B(7)
#define SS_A			B(8)
#define SS_D			B(9)
#define SS_SNP			B(11)
#define SS_TM			B(62)

/* Scalable-mode context entry, low qword. */
#define CTX_P			B(0)
#define CTX_DTE			B(2)	/* device-TLB (translation requests) enabled */
#define CTX_PRE			B(4)	/* page requests enabled */

/* PASID table entry (512 bits, as 8 qwords). */
#define PE0_P			B(0)
#define PE0_AW(q)		(((q) >> 2) & 7)
#define PE0_PGTT(q)		(((q) >> 6) & 7)
#define PE0_SSADE		B(9)
#define PE1_DID(q)		((q) & 0xffff)
#define PGTT_SS			2

/* Queued-invalidation descriptors (256-bit). */
#define QI_TYPE(q0)		(((q0) & 0xf) | ((((q0) >> 9) & 7) << 4))
#define QI_GRAN(q0)		(((q0) >> 4) & 3)
#define QI_DID(q0)		(((q0) >> 16) & 0xffff)
/* Page group response descriptor (type 9). */
#define PGRP_PP(q0)		(((q0) >> 4) & 1)
#define PGRP_RC(q0)		(((q0) >> 12) & 0xf)
#define PGRP_RID(q0)		(((q0) >> 16) & 0xffff)
#define PGRP_PASID(q0)		(((q0) >> 32) & 0xfffff)
#define PGRP_PRGI(q1)		(((q1) >> 3) & 0x1ff)

/* Page request descriptor (256-bit), spec 7.4.1.1. */
#define PRQ_DESC		32
#define PRQ_TYPE_PAGE_REQ	0x01ULL		/* qw0 bits 7:0 */
#define PRQ_PP			B(8)
#define PRQ_RID_SHIFT		16		/* qw0 bits 31:16 */
#define PRQ_PASID_SHIFT		32		/* qw0 bits 51:32 */
#define PRQ_RDR			B(0)		/* qw1 */
#define PRQ_WRR			B(1)
#define PRQ_LPIG		B(2)
#define PRQ_PRGI_SHIFT		3		/* qw1 bits 11:3 */

static const char *const fault_names[VTDM_F_NR] = {
	[VTDM_OK] = "ok",
	[VTDM_F_ROOT_NP] = "root entry not present",
	[VTDM_F_CTX_NP] = "context entry not present",
	[VTDM_F_PDIR_NP] = "PASID directory entry not present",
	[VTDM_F_PASID_NP] = "PASID entry not present",
	[VTDM_F_PASID_RANGE] = "PASID beyond directory size",
	[VTDM_F_PGTT] = "unsupported PGTT",
	[VTDM_F_AW] = "AW not supported by SAGAW",
	[VTDM_F_INPUT_WIDTH] = "input address beyond address width",
	[VTDM_F_SS_NP] = "second-stage entry not present",
	[VTDM_F_SS_RSVD] = "second-stage reserved bit set",
	[VTDM_F_SS_READ] = "read without R permission",
	[VTDM_F_SS_WRITE] = "write without W permission",
	[VTDM_F_BAD_TABLE] = "table pointer outside memory",
	[VTDM_F_CTX_DTE] = "translation request with DTE clear",
	[VTDM_F_CTX_PRE] = "page request with PRE clear",
	[VTDM_F_UNSUPPORTED] = "request type not supported (ECAP)",
};

const char *vtd_fault_name(enum vtdm_fault_reason r)
{
	return r < VTDM_F_NR ? fault_names[r] : "?";
}

/* Every unit, for vtd_change_verify(); taken outside each unit's lock. */
static struct vtd *vtd_units;
static pthread_mutex_t vtd_units_lock = PTHREAD_MUTEX_INITIALIZER;
/* The change the owner of a table flushes on this thread, if any. */
static __thread const struct vtd_table_change *vtd_cur_change;

struct vtd *vtd_create(struct phys *pm, uint64_t cap, uint64_t ecap)
{
	struct vtd *v = calloc(1, sizeof(*v));
	pthread_rwlockattr_t attr;

	if (!v)
		return NULL;
	v->pm = pm;
	v->cap = cap;
	v->ecap = ecap;
	v->haw = CAP_MGAW(cap);
	v->pectl = VTDM_PECTL_IM;	/* the page request event is masked at reset */
	pthread_mutex_init(&v->lock, NULL);
	/* invalidations must not starve behind a stream of device accesses */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&v->drain, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_lock(&vtd_units_lock);
	v->next_unit = vtd_units;
	vtd_units = v;
	pthread_mutex_unlock(&vtd_units_lock);
	return v;
}

void vtd_destroy(struct vtd *v)
{
	struct vtd **pp;

	if (!v)
		return;
	pthread_mutex_lock(&vtd_units_lock);
	for (pp = &vtd_units; *pp; pp = &(*pp)->next_unit) {
		if (*pp == v) {
			*pp = v->next_unit;
			break;
		}
	}
	pthread_mutex_unlock(&vtd_units_lock);
	pthread_rwlock_destroy(&v->drain);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/**
 * vtd_dma_begin() - a device access starts
 * @v: the unit that translates it
 *
 * The access translates with vtd_translate() and touches memory before
 * vtd_dma_end(); the invalidation queue is not processed meanwhile (the
 * drain of the IOTLB invalidation descriptor), so no access outlives the
 * wait descriptor of an invalidation that removed its translation.
 */
void vtd_dma_begin(struct vtd *v)
{
	pthread_rwlock_rdlock(&v->drain);
}

/**
 * vtd_dma_end() - the device access begun by vtd_dma_begin() is done
 * @v: the unit
 */
void vtd_dma_end(struct vtd *v)
{
	pthread_rwlock_unlock(&v->drain);
}

void vtd_set_rtaddr(struct vtd *v, uint64_t val)
{
	pthread_mutex_lock(&v->lock);
	v->rtaddr = val;
	pthread_mutex_unlock(&v->lock);
}

static bool table_ok(struct vtd *v, uint64_t hpa, uint64_t len)
{
	if (v->haw < 64 && (hpa >> v->haw))
		return false;
	return phys_valid(v->pm, hpa, len);
}

/* Record a non-recoverable fault; @v->lock held. */
static void __record(struct vtd *v, enum vtdm_fault_reason r, uint16_t sid,
		     uint32_t pasid, uint64_t addr, bool write, int level,
		     uint64_t entry)
{
	struct vtdm_fault *f;

	v->stats.faults++;
	if (v->nfaults == VTDM_FAULT_LOG) {
		v->fault_overflow = true;
	} else {
		f = &v->faults[v->nfaults++];
		f->reason = r;
		f->sid = sid;
		f->pasid = pasid;
		f->addr = addr;
		f->write = write;
		f->level = level;
		f->entry = entry;
	}
}

static enum vtdm_fault_reason record(struct vtd *v, enum vtdm_fault_reason r,
				     uint16_t sid, uint32_t pasid, uint64_t addr,
				     bool write, int level, uint64_t entry)
{
	pthread_mutex_lock(&v->lock);
	__record(v, r, sid, pasid, addr, write, level, entry);
	pthread_mutex_unlock(&v->lock);
	return r;
}

bool vtd_fault_pop(struct vtd *v, struct vtdm_fault *f)
{
	bool ret = false;

	pthread_mutex_lock(&v->lock);
	if (v->nfaults) {
		*f = v->faults[0];
		memmove(v->faults, v->faults + 1, --v->nfaults * sizeof(*f));
		ret = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

unsigned int vtd_fault_count(struct vtd *v)
{
	unsigned int n;

	pthread_mutex_lock(&v->lock);
	n = v->nfaults;
	pthread_mutex_unlock(&v->lock);
	return n;
}

struct vtdm_stats vtd_stats(struct vtd *v)
{
	struct vtdm_stats s;

	pthread_mutex_lock(&v->lock);
	s = v->stats;
	pthread_mutex_unlock(&v->lock);
	/* updated by walks without the lock */
	s.walk_reads = __atomic_load_n(&v->walk_reads, __ATOMIC_RELAXED);
	s.freed_table_reads = __atomic_load_n(&v->freed_table_reads, __ATOMIC_SEQ_CST);
	return s;
}

unsigned int vtd_iotlb_count(struct vtd *v)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VTDM_IOTLB_SIZE; i++)
		n += v->iotlb[i].valid;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/*
 * Reserved bits of a second-stage entry at @level (1 = 4K table).
 * Bits the model ignores, as the hardware does: 2-6, 8-10, 52-61, 63.
 * Checked: address bits at and above HAW; PS where no large page is
 * allowed; the large-page offset bits; SNP (bit 11) in non-leaf entries,
 * and in leaves unless scalable mode or snoop control is on; TM (bit 62)
 * in leaves.
 */
static uint64_t ss_rsvd(struct vtd *v, int level, uint64_t e, bool *leaf)
{
	uint64_t rsvd = v->haw < 52 ? MASK(51, v->haw) : 0;
	unsigned int sllps = CAP_SLLPS(v->cap);

	*leaf = level == 1;
	if (level == 2 || level == 3) {
		if (e & SS_PS) {
			if (!(sllps & (1u << (level - 2))))
				return SS_PS;	/* large page not supported */
			*leaf = true;
			rsvd |= MASK(12 + 9 * (level - 1) - 1, 12);
		}
	} else if (level > 3) {
		rsvd |= SS_PS;
	}
	if (*leaf) {
		rsvd |= SS_TM;
		if (!ECAP_SMTS(v->ecap) && !ECAP_SC(v->ecap))
			rsvd |= SS_SNP;
	} else {
		rsvd |= SS_SNP;
	}
	return rsvd;
}

static struct vtdm_pasid_cache_entry *pc_lookup(struct vtd *v, uint16_t sid,
						uint32_t pasid)
{
	unsigned int i;

	for (i = 0; i < VTDM_PC_SIZE; i++)
		if (v->pc[i].valid && v->pc[i].sid == sid && v->pc[i].pasid == pasid)
			return &v->pc[i];
	return NULL;
}

/*
 * Find the PASID table entry for (sid, pasid), through the PASID cache;
 * the context entry must have the bits of @ctx_need (CTX_DTE, CTX_PRE).
 */
static enum vtdm_fault_reason get_pasid_entry(struct vtd *v, uint16_t sid,
					      uint32_t *pasid, uint64_t pe[8],
					      uint64_t ctx_need)
{
	uint64_t rt = v->rtaddr & ADDR_4K, re, ce0, ce1, ctp, pdir, pde, pt;
	unsigned int bus = sid >> 8, devfn = sid & 0xff, i;
	struct vtdm_pasid_cache_entry *c;
	uint64_t dir_entries;

	if (!table_ok(v, rt, 4096))
		return VTDM_F_BAD_TABLE;
	re = phys_load64(v->pm, rt + bus * 16 + (devfn >= 128 ? 8 : 0));
	if (!(re & 1))
		return VTDM_F_ROOT_NP;
	ctp = re & ADDR_4K;
	if (!table_ok(v, ctp, 4096))
		return VTDM_F_BAD_TABLE;
	ce0 = phys_load64(v->pm, ctp + (devfn & 0x7f) * 32);
	ce1 = phys_load64(v->pm, ctp + (devfn & 0x7f) * 32 + 8);
	if (!(ce0 & CTX_P))
		return VTDM_F_CTX_NP;
	if ((ce0 & ctx_need & CTX_DTE) != (ctx_need & CTX_DTE))
		return VTDM_F_CTX_DTE;
	if ((ce0 & ctx_need & CTX_PRE) != (ctx_need & CTX_PRE))
		return VTDM_F_CTX_PRE;
	if (*pasid == VTDM_NO_PASID)
		*pasid = ce1 & 0xfffff;		/* RID_PASID */

	pthread_mutex_lock(&v->lock);
	c = pc_lookup(v, sid, *pasid);
	if (c) {
		memcpy(pe, c->pe, 8 * sizeof(uint64_t));
		pthread_mutex_unlock(&v->lock);
		return VTDM_OK;
	}
	pthread_mutex_unlock(&v->lock);

	dir_entries = 1ULL << (((ce0 >> 9) & 7) + 7);
	if ((*pasid >> 6) >= dir_entries)
		return VTDM_F_PASID_RANGE;
	pdir = ce0 & ADDR_4K;
	if (!table_ok(v, pdir + (*pasid >> 6) * 8, 8))
		return VTDM_F_BAD_TABLE;
	pde = phys_load64(v->pm, pdir + (*pasid >> 6) * 8);
	if (!(pde & 1))
		return VTDM_F_PDIR_NP;
	pt = (pde & ADDR_4K) + (*pasid & 0x3f) * 64;
	if (!table_ok(v, pt, 64))
		return VTDM_F_BAD_TABLE;
	for (i = 0; i < 8; i++)
		pe[i] = phys_load64(v->pm, pt + i * 8);
	if (!(pe[0] & PE0_P))
		return VTDM_F_PASID_NP;

	pthread_mutex_lock(&v->lock);
	c = &v->pc[v->pc_next++ % VTDM_PC_SIZE];
	c->valid = true;
	c->sid = sid;
	c->pasid = *pasid;
	memcpy(c->pe, pe, sizeof(c->pe));
	pthread_mutex_unlock(&v->lock);
	return VTDM_OK;
}

static bool set_bits(struct vtd *v, uint64_t hpa, uint64_t old, uint64_t bits)
{
	uint64_t *p = phys_va(v->pm, hpa);

	if ((old & bits) == bits)
		return true;
	return __atomic_compare_exchange_n(p, &old, old | bits, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Start the walk from the deepest cached non-leaf entry covering @iova. */
static void psc_lookup(struct vtd *v, uint16_t did, uint32_t pasid, uint64_t iova,
		       int *level, uint64_t *table, bool *r, bool *w)
{
	struct vtdm_psc_entry *best = NULL;
	unsigned int i;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VTDM_PSC_SIZE; i++) {
		struct vtdm_psc_entry *p = &v->psc[i];

		if (!p->valid || p->did != did || p->pasid != pasid ||
		    p->prefix != iova >> (12 + 9 * (p->level - 1)))
			continue;
		if (!best || p->level < best->level)
			best = p;
	}
	if (best) {
		*level = best->level - 1;
		*table = best->table;
		*r = best->r;
		*w = best->w;
		v->stats.psc_hits++;
	}
	pthread_mutex_unlock(&v->lock);
}

static void psc_fill(struct vtd *v, uint16_t did, uint32_t pasid, uint64_t iova,
		     int level, uint64_t table, bool r, bool w, uint64_t root,
		     unsigned int levels)
{
	struct vtdm_psc_entry *p;

	pthread_mutex_lock(&v->lock);
	p = &v->psc[v->psc_next++ % VTDM_PSC_SIZE];
	p->valid = true;
	p->did = did;
	p->pasid = pasid;
	p->level = level;
	p->prefix = iova >> (12 + 9 * (level - 1));
	p->table = table;
	p->r = r;
	p->w = w;
	p->root = root;
	p->levels = levels;
	pthread_mutex_unlock(&v->lock);
}

unsigned int vtd_psc_count(struct vtd *v)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VTDM_PSC_SIZE; i++)
		n += v->psc[i].valid;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/* Drop cached non-leaf entries of @did overlapping [start, start + 2^(12+am)). */
static void psc_inv(struct vtd *v, bool by_did, uint16_t did, uint64_t addr,
		    unsigned int am)
{
	uint64_t start = am < 52 ? addr & ~((1ULL << (12 + am)) - 1) : 0;
	uint64_t end = am < 52 ? start + (1ULL << (12 + am)) : 0;
	unsigned int i;

	for (i = 0; i < VTDM_PSC_SIZE; i++) {
		struct vtdm_psc_entry *p = &v->psc[i];
		unsigned int sh;

		if (!p->valid || (by_did && p->did != did))
			continue;
		sh = 12 + 9 * (p->level - 1);
		if (am < 52 && sh < 64 &&
		    ((p->prefix + 1) << sh <= start || p->prefix << sh >= end))
			continue;
		p->valid = false;
		v->stats.psc_dropped++;
	}
}

/*
 * Translate @iova for device @sid.  An untranslated request (@ats NULL)
 * needs @write or read rights and records a fault without them.  A
 * translation request (@ats set; @write: write access asked for) gets the
 * rights the tables grant in @ats, R=W=0 where they map nothing, and
 * records only what makes translation impossible.
 */
static enum vtdm_fault_reason translate(struct vtd *v, uint16_t sid, uint32_t pasid,
					uint64_t iova, bool write,
					struct vtdm_ats_completion *ats,
					unsigned long long *hpa, unsigned int *shift)
{
	uint64_t pe[8], table, e = 0, ea = 0;
	enum vtdm_fault_reason r;
	unsigned int aw, levels, i, sh = 12;
	bool rd = true, wr = true, leaf = false, ssade;
	uint16_t did;
	int level;

	if (ats && !ECAP_DT(v->ecap))
		return record(v, VTDM_F_UNSUPPORTED, sid, pasid, iova, write, 0, 0);
	r = get_pasid_entry(v, sid, &pasid, pe, ats ? CTX_DTE : 0);
	if (r)
		return record(v, r, sid, pasid, iova, write, 0, 0);
	if (PE0_PGTT(pe[0]) != PGTT_SS)
		return record(v, VTDM_F_PGTT, sid, pasid, iova, write, 0, pe[0]);
	aw = PE0_AW(pe[0]);
	if (aw > 4 || !(CAP_SAGAW(v->cap) & (1u << aw)))
		return record(v, VTDM_F_AW, sid, pasid, iova, write, 0, pe[0]);
	levels = aw + 2;
	did = PE1_DID(pe[1]);
	ssade = (pe[0] & PE0_SSADE) && ECAP_SLADS(v->ecap);
	if (iova >> (12 + 9 * levels) || iova >> CAP_MGAW(v->cap))
		return record(v, VTDM_F_INPUT_WIDTH, sid, pasid, iova, write, 0, 0);

	pthread_mutex_lock(&v->lock);
	v->stats.translations++;
	for (i = 0; i < VTDM_IOTLB_SIZE; i++) {
		struct vtdm_iotlb_entry *t = &v->iotlb[i], hit;

		if (!t->valid || t->did != did || t->pasid != pasid ||
		    (iova >> t->shift) != (t->iova >> t->shift))
			continue;
		if (ssade && write && t->w && !t->d) {
			t->valid = false;	/* refilled by the walk below */
			break;
		}
		hit = *t;	/* the slot may be refilled once the lock is dropped */
		v->stats.iotlb_hits++;
		pthread_mutex_unlock(&v->lock);
		if (ats) {
			ats->r = hit.r;
			ats->w = hit.w && write;
		} else if (write ? !hit.w : !hit.r) {
			return record(v, write ? VTDM_F_SS_WRITE : VTDM_F_SS_READ,
				      sid, pasid, iova, write, 0, 0);
		}
		*hpa = hit.hpa | (iova & ((1ULL << hit.shift) - 1));
		if (shift)
			*shift = hit.shift;
		return VTDM_OK;
	}
	v->stats.walks++;
	pthread_mutex_unlock(&v->lock);

	table = pe[0] & ADDR_4K;
	level = levels;
	psc_lookup(v, did, pasid, iova, &level, &table, &rd, &wr);
	for (; level >= 1; level--) {
		uint64_t ptr = table + ((iova >> (12 + 9 * (level - 1))) & 511) * 8;

		if (!table_ok(v, ptr, 8))
			return record(v, VTDM_F_BAD_TABLE, sid, pasid, iova, write,
				      level, 0);
		if (!phys_page_allocated(v->pm, ptr))
			__atomic_add_fetch(&v->freed_table_reads, 1, __ATOMIC_SEQ_CST);
		e = phys_load64(v->pm, ptr);
		__atomic_add_fetch(&v->walk_reads, 1, __ATOMIC_RELAXED);
		if (!(e & (SS_R | SS_W))) {
			if (ats)	/* a completion with R=W=0, not a fault */
				return VTDM_OK;
			return record(v, VTDM_F_SS_NP, sid, pasid, iova, write,
				      level, e);
		}
		if (e & ss_rsvd(v, level, e, &leaf))
			return record(v, VTDM_F_SS_RSVD, sid, pasid, iova, write,
				      level, e);
		rd &= !!(e & SS_R);
		wr &= !!(e & SS_W);
		if (ssade)
			set_bits(v, ptr, e, SS_A);
		if (leaf) {
			ea = ptr;
			sh = 12 + 9 * (level - 1);
			break;
		}
		table = e & MASK(51, 12);
		psc_fill(v, did, pasid, iova, level, table, rd, wr, pe[0] & ADDR_4K, levels);
	}
	if (ats) {
		ats->r = rd;
		ats->w = wr && write;
		if (!rd && !wr)
			return VTDM_OK;
	} else if (write ? !wr : !rd) {
		return record(v, write ? VTDM_F_SS_WRITE : VTDM_F_SS_READ, sid,
			      pasid, iova, write, level, e);
	}
	if (ssade && write && wr) {
		set_bits(v, ea, phys_load64(v->pm, ea), SS_D);
		e |= SS_D;
	}

	*hpa = (e & MASK(51, sh)) | (iova & ((1ULL << sh) - 1));
	if (shift)
		*shift = sh;

	pthread_mutex_lock(&v->lock);
	{
		struct vtdm_iotlb_entry *t = &v->iotlb[v->iotlb_next++ % VTDM_IOTLB_SIZE];

		t->valid = true;
		t->did = did;
		t->pasid = pasid;
		t->pgtt = PGTT_SS;
		t->shift = sh;
		t->iova = iova & ~((1ULL << sh) - 1);
		t->hpa = e & MASK(51, sh);
		t->r = rd;
		t->w = wr;
		t->d = !!(e & SS_D);
		t->root = pe[0] & ADDR_4K;
		t->levels = levels;
	}
	pthread_mutex_unlock(&v->lock);
	return VTDM_OK;
}

enum vtdm_fault_reason vtd_translate(struct vtd *v, uint16_t sid, uint32_t pasid,
				     uint64_t iova, bool write, unsigned long long *hpa,
				     unsigned int *shift)
{
	return translate(v, sid, pasid, iova, write, NULL, hpa, shift);
}

/**
 * vtd_translate_ats() - a translation request (ATS) of a device
 * @v: the unit
 * @sid: requester id
 * @pasid: the request's PASID, VTDM_NO_PASID for none
 * @iova: the address to translate
 * @no_write: the request asks for read access only (NW)
 * @c: the completion
 *
 * Return: VTDM_OK and @c (R=W=0 when the second-stage tables map nothing
 * at @iova or grant no access: that is no fault and nothing is recorded);
 * or the reason, recorded, why the request cannot be translated (no
 * ECAP.DT, DTE clear, a missing context or PASID entry, a reserved bit).
 */
enum vtdm_fault_reason vtd_translate_ats(struct vtd *v, uint16_t sid, uint32_t pasid,
					 uint64_t iova, bool no_write,
					 struct vtdm_ats_completion *c)
{
	unsigned long long hpa = 0;
	enum vtdm_fault_reason r;

	*c = (struct vtdm_ats_completion){ .shift = 12 };
	r = translate(v, sid, pasid, iova, !no_write, c, &hpa, &c->shift);
	c->hpa = hpa;
	pthread_mutex_lock(&v->lock);
	v->stats.ats_requests++;
	if (!r && !c->r && !c->w)
		v->stats.ats_no_access++;
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* ---- invalidation checks (see vtd.h) ---- */

/*
 * Walk the table in memory from @root, bypassing every cache and setting
 * no A/D bit, down to a leaf or to level @stop.  True when it stops at a
 * present entry: *@e is that entry, *@level its level, *@leaf whether it
 * maps, *@r and *@w the rights accumulated down to it.  False when a
 * non-present or malformed entry (*@e, at *@level) stops it first.
 */
static bool fresh_walk(struct vtd *v, uint64_t root, unsigned int levels,
		       uint64_t iova, unsigned int stop, uint64_t *e,
		       unsigned int *level, bool *leaf, bool *r, bool *w)
{
	uint64_t table = root;
	unsigned int l;

	*r = *w = true;
	*e = 0;
	*leaf = false;
	for (l = levels; l >= 1; l--) {
		uint64_t ptr = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8;

		*level = l;
		if (!table_ok(v, ptr, 8))
			return false;
		*e = phys_load64(v->pm, ptr);
		if (!(*e & (SS_R | SS_W)) || (*e & ss_rsvd(v, l, *e, leaf)))
			return false;
		*r &= !!(*e & SS_R);
		*w &= !!(*e & SS_W);
		if (*leaf || l == stop)
			return true;
		table = *e & MASK(51, 12);
	}
	return false;
}

static uint64_t umin(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t umax(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * Does IOTLB entry @t agree with the table over [@lo, @hi) (within the
 * entry)?  On a disagreement, *@bad is the IOVA and *@seen the entry the
 * walk read there.
 */
static bool iotlb_agrees(struct vtd *v, const struct vtdm_iotlb_entry *t,
			 uint64_t lo, uint64_t hi, uint64_t *bad, uint64_t *seen)
{
	uint64_t a = lo & ~0xfffULL;

	while (a < hi) {
		unsigned int l, sh;
		bool leaf, r, w;
		uint64_t e, span;

		*bad = a;
		if (!fresh_walk(v, t->root, t->levels, a, 1, &e, &l, &leaf, &r, &w)) {
			*seen = e;
			return false;
		}
		*seen = e;
		sh = 12 + 9 * (l - 1);
		span = 1ULL << sh;
		if ((e & MASK(51, sh)) + (a & (span - 1)) != t->hpa + (a - t->iova) ||
		    (t->r && !r) || (t->w && !w))
			return false;
		a = (a & ~(span - 1)) + span;
	}
	return true;
}

/* Does paging-structure entry @p still lead to the same table page? */
static bool psc_agrees(struct vtd *v, const struct vtdm_psc_entry *p, uint64_t *seen)
{
	uint64_t iova = p->prefix << (12 + 9 * (p->level - 1)), e;
	bool leaf, r, w;
	unsigned int l;

	if (!fresh_walk(v, p->root, p->levels, iova, p->level, &e, &l, &leaf, &r, &w)) {
		*seen = e;
		return false;
	}
	*seen = e;
	return l == p->level && !leaf && (e & MASK(51, 12)) == p->table &&
	       (!p->r || r) && (!p->w || w);
}

static void note_stale(struct vtd *v, bool psc, bool at_wait, uint16_t did,
		       uint64_t iova, unsigned int level, uint64_t cached,
		       uint64_t root, uint64_t seen)
{
	if (!v->stats.stale_iotlb && !v->stats.stale_psc) {
		v->first_stale = (struct vtdm_stale){
			.psc = psc, .at_wait = at_wait, .did = did, .iova = iova,
			.level = level, .cached = cached, .root = root,
			.table_entry = seen,
		};
	}
	if (psc)
		v->stats.stale_psc++;
	else
		v->stats.stale_iotlb++;
	if (at_wait)
		v->stats.stale_at_wait++;
}

/*
 * Compare what @v caches for domain @did (every domain with @all_dids)
 * through @c->root, over IOVAs [@start, @end), with the table; anything
 * cached from @c->old_root contradicts it wherever it is.  Called with
 * v->lock held, while the table's owner holds the table still.
 */
static void check_caches(struct vtd *v, const struct vtd_table_change *c,
			 bool all_dids, uint16_t did, uint64_t start, uint64_t end,
			 bool at_wait)
{
	unsigned int i;

	v->stats.inv_checks++;
	for (i = 0; i < VTDM_IOTLB_SIZE; i++) {
		const struct vtdm_iotlb_entry *t = &v->iotlb[i];
		uint64_t lo, hi, bad, seen = 0;

		if (!t->valid || (!all_dids && t->did != did))
			continue;
		if (c->old_root && t->root == c->old_root) {
			v->stats.inv_checked++;
			note_stale(v, false, at_wait, t->did, t->iova, t->shift, t->hpa,
				   t->root, 0);
			continue;
		}
		if (t->root != c->root)
			continue;
		lo = umax(t->iova, start);
		hi = umin(t->iova + (1ULL << t->shift), end);
		if (lo >= hi)
			continue;
		v->stats.inv_checked++;
		if (!iotlb_agrees(v, t, lo, hi, &bad, &seen))
			note_stale(v, false, at_wait, t->did, bad, t->shift, t->hpa,
				   t->root, seen);
	}
	for (i = 0; i < VTDM_PSC_SIZE; i++) {
		const struct vtdm_psc_entry *p = &v->psc[i];
		unsigned int sh = 12 + 9 * (p->level - 1);
		uint64_t seen = 0;

		if (!p->valid || (!all_dids && p->did != did))
			continue;
		if (c->old_root && p->root == c->old_root) {
			v->stats.inv_checked++;
			note_stale(v, true, at_wait, p->did, p->prefix << sh, p->level,
				   p->table, p->root, 0);
			continue;
		}
		if (p->root != c->root)
			continue;
		if ((p->prefix + 1) << sh <= start || p->prefix << sh >= end)
			continue;
		v->stats.inv_checked++;
		if (!psc_agrees(v, p, &seen))
			note_stale(v, true, at_wait, p->did, p->prefix << sh, p->level,
				   p->table, p->root, seen);
	}
}

/* Remember an IOTLB invalidation until the next wait descriptor. */
static void batch_add(struct vtd *v, bool all_dids, uint16_t did, uint64_t start,
		      uint64_t end)
{
	struct vtdm_batch_inv *b;

	if (v->nbatch == VTDM_BATCH) {
		v->batch_overflow = true;
		return;
	}
	b = &v->batch[v->nbatch++];
	b->all_dids = all_dids;
	b->did = did;
	b->start = start;
	b->end = end;
}

/*
 * A wait descriptor completes: if this thread flushes a published change,
 * the domains the batch invalidated must agree with the table over what
 * they invalidated within the change's range.
 */
static void check_batch(struct vtd *v)
{
	const struct vtd_table_change *c = vtd_cur_change;
	unsigned int i;

	for (i = 0; c && !v->batch_overflow && i < v->nbatch; i++) {
		const struct vtdm_batch_inv *b = &v->batch[i];
		uint64_t start = c->start, end = c->end;

		if (b->start != b->end) {
			start = umax(start, b->start);
			end = umin(end, b->end);
		}
		if (start < end)
			check_caches(v, c, b->all_dids, b->did, start, end, true);
	}
	v->nbatch = 0;
	v->batch_overflow = false;
}

/**
 * vtd_change_publish() - the change the calling thread is flushing
 * @c: the change, NULL when the flush is over; must stay valid until then
 *
 * The owner of the table calls it around the flush, holding the table
 * still: each wait descriptor this thread's invalidations complete with
 * then checks the domains they invalidated against the table.
 */
void vtd_change_publish(const struct vtd_table_change *c)
{
	vtd_cur_change = c;
}

/**
 * vtd_change_verify() - after a flush, check every unit against the table
 * @c: the change just flushed
 *
 * Compares what every unit caches through @c->root over @c's range (and
 * anything from @c->old_root) with the table in memory, counting each
 * contradiction in the unit's stats.
 *
 * Context: the table's owner holds the table still; takes the list lock
 * and each unit's lock.
 */
void vtd_change_verify(const struct vtd_table_change *c)
{
	struct vtd *v;

	pthread_mutex_lock(&vtd_units_lock);
	for (v = vtd_units; v; v = v->next_unit) {
		pthread_mutex_lock(&v->lock);
		check_caches(v, c, true, 0, c->start, c->end, false);
		pthread_mutex_unlock(&v->lock);
	}
	pthread_mutex_unlock(&vtd_units_lock);
}

/**
 * vtd_first_stale() - describe the first contradiction a unit found
 * @v: the unit
 * @buf: filled with a one-line description
 * @len: size of @buf
 *
 * Return: true if the unit found one (and @buf describes it).
 */
bool vtd_first_stale(struct vtd *v, char *buf, size_t len)
{
	struct vtdm_stale f;
	bool found;

	pthread_mutex_lock(&v->lock);
	found = v->stats.stale_iotlb || v->stats.stale_psc;
	f = v->first_stale;
	pthread_mutex_unlock(&v->lock);
	if (!found)
		return false;
	if (f.psc)
		snprintf(buf, len, "paging-structure entry did %u level %u for IOVA %#llx "
			 "-> table %#llx (root %#llx), the table now has %#llx there; found at %s",
			 f.did, f.level, (unsigned long long)f.iova,
			 (unsigned long long)f.cached, (unsigned long long)f.root,
			 (unsigned long long)f.table_entry, f.at_wait ? "a wait" : "the end");
	else
		snprintf(buf, len, "IOTLB entry did %u (2^%u bytes) at IOVA %#llx -> HPA page "
			 "%#llx (root %#llx), the table now has %#llx there; found at %s",
			 f.did, f.level, (unsigned long long)f.iova,
			 (unsigned long long)f.cached, (unsigned long long)f.root,
			 (unsigned long long)f.table_entry, f.at_wait ? "a wait" : "the end");
	return true;
}

/* ---- queued invalidation ---- */

void vtd_set_iqa(struct vtd *v, uint64_t val)
{
	pthread_mutex_lock(&v->lock);
	v->iqa = val;
	v->iqh = 0;
	v->iqt = 0;
	v->iqe = false;
	pthread_mutex_unlock(&v->lock);
}

uint64_t vtd_get_iqh(struct vtd *v)
{
	uint64_t h;

	pthread_mutex_lock(&v->lock);
	h = v->iqh;
	pthread_mutex_unlock(&v->lock);
	return h;
}

bool vtd_iqe(struct vtd *v)
{
	bool e;

	pthread_mutex_lock(&v->lock);
	e = v->iqe;
	pthread_mutex_unlock(&v->lock);
	return e;
}

static void iotlb_inv(struct vtd *v, bool by_did, uint16_t did, bool by_pasid,
		      uint32_t pasid, bool ss_only, uint64_t addr, unsigned int am)
{
	/* am >= 52: the whole address space (domain- or PASID-selective) */
	uint64_t start = am < 52 ? addr & ~((1ULL << (12 + am)) - 1) : 0;
	uint64_t end = am < 52 ? start + (1ULL << (12 + am)) : 0;
	unsigned int i;

	for (i = 0; i < VTDM_IOTLB_SIZE; i++) {
		struct vtdm_iotlb_entry *t = &v->iotlb[i];
		uint64_t ts, te;

		if (!t->valid)
			continue;
		if (by_did && t->did != did)
			continue;
		if (by_pasid && t->pasid != pasid)
			continue;
		/* PASID-based IOTLB invalidation leaves second-stage-only entries. */
		if (!ss_only && t->pgtt == PGTT_SS)
			continue;
		if (am < 52) {
			ts = t->iova;
			te = t->iova + (1ULL << t->shift);
			if (te <= start || ts >= end)
				continue;
		}
		t->valid = false;
		v->stats.iotlb_dropped++;
	}
}

static void pc_inv(struct vtd *v, bool by_pasid, uint32_t pasid, bool by_did,
		   uint16_t did)
{
	unsigned int i;

	for (i = 0; i < VTDM_PC_SIZE; i++) {
		struct vtdm_pasid_cache_entry *c = &v->pc[i];

		if (!c->valid)
			continue;
		if (by_pasid && c->pasid != pasid)
			continue;
		if (by_did && PE1_DID(c->pe[1]) != did)
			continue;
		c->valid = false;
	}
}

static void prg_deliver(struct vtd *v, const struct vtdm_prg_resp *resp);

/* Execute one descriptor; false on an invalid descriptor (sets IQE). */
static bool qi_exec(struct vtd *v, const uint64_t d[4])
{
	unsigned int type = QI_TYPE(d[0]), gran = QI_GRAN(d[0]);
	uint16_t did = QI_DID(d[0]);

	v->stats.qi_descs++;
	switch (type) {
	case 1:		/* context-cache invalidate: cached PASID entries go too */
		v->stats.inv_cc++;
		pc_inv(v, false, 0, gran == 2, did);
		return true;
	case 2:		/* IOTLB invalidate */
		if (gran == 1) {
			v->stats.inv_iotlb_global++;
			iotlb_inv(v, false, 0, false, 0, true, 0, 64);
			psc_inv(v, false, 0, 0, 64);
			batch_add(v, true, 0, 0, 0);
		} else if (gran == 2) {
			v->stats.inv_iotlb_dsi++;
			iotlb_inv(v, true, did, false, 0, true, 0, 64);
			psc_inv(v, true, did, 0, 64);
			batch_add(v, false, did, 0, 0);
		} else if (gran == 3) {
			unsigned int am = d[1] & 0x3f;
			uint64_t base;

			if (am > 52)
				return false;
			v->stats.inv_iotlb_psi++;
			iotlb_inv(v, true, did, false, 0, true, d[1] & ADDR_4K, am);
			if (!(d[1] & B(6)))	/* IH clear: non-leaf caches too */
				psc_inv(v, true, did, d[1] & ADDR_4K, am);
			base = d[1] & ADDR_4K & ~((1ULL << (12 + am)) - 1);
			batch_add(v, false, did, base, base + (1ULL << (12 + am)));
		} else {
			return false;
		}
		return true;
	case 3:		/* device-TLB invalidate: the model's devices cache nothing */
	case 8:
		v->stats.inv_devtlb++;
		return true;
	case 9: {	/* page group response: 256-bit descriptors and PRS only */
		struct vtdm_prg_resp resp = {
			.sid = PGRP_RID(d[0]),
			.pasid_present = PGRP_PP(d[0]),
			.pasid = PGRP_PASID(d[0]),
			.prgi = PGRP_PRGI(d[1]),
			.code = PGRP_RC(d[0]),
		};

		if (!(v->iqa & B(11)) || !ECAP_PRS(v->ecap))
			return false;
		v->stats.prg_responses++;
		prg_deliver(v, &resp);
		return true;
	}
	case 5:		/* invalidation wait */
		v->stats.qi_waits++;
		check_batch(v);
		if (d[0] & B(5)) {
			uint64_t a = d[1] & MASK(63, 2);

			if (!phys_valid(v->pm, a, 4))
				return false;
			__atomic_store_n((uint32_t *)phys_va(v->pm, a),
					 (uint32_t)(d[0] >> 32), __ATOMIC_RELEASE);
		}
		return true;
	case 6: {	/* PASID-based IOTLB invalidate */
		uint32_t pasid = (d[0] >> 32) & 0xfffff;

		v->stats.inv_piotlb++;
		if (gran == 2)
			iotlb_inv(v, true, did, true, pasid, false, 0, 64);
		else if (gran == 3)
			iotlb_inv(v, true, did, true, pasid, false,
				  d[1] & ADDR_4K, d[1] & 0x3f);
		else
			return false;
		return true;
	}
	case 7: {	/* PASID-cache invalidate */
		uint32_t pasid = (d[0] >> 32) & 0xfffff;

		v->stats.inv_pc++;
		if (gran == 0)
			pc_inv(v, false, 0, true, did);
		else if (gran == 1)
			pc_inv(v, true, pasid, true, did);
		else if (gran == 3)
			pc_inv(v, false, 0, false, 0);
		else
			return false;
		return true;
	}
	default:
		return false;
	}
}

void vtd_set_iqt(struct vtd *v, uint64_t tail)
{
	uint64_t base = v->iqa & ADDR_4K;
	uint64_t qsize = 4096ULL << (v->iqa & 7);
	unsigned int dsz = (v->iqa & B(11)) ? 32 : 16;

	/* drain: accesses already translated finish first (see vtd.h) */
	pthread_rwlock_wrlock(&v->drain);
	pthread_mutex_lock(&v->lock);
	v->iqt = tail;
	while (!v->iqe && v->iqh != v->iqt) {
		uint64_t d[4] = { 0 };
		unsigned int i;

		if (!phys_valid(v->pm, base + v->iqh, dsz)) {
			v->iqe = true;
			break;
		}
		for (i = 0; i < dsz / 8; i++)
			d[i] = phys_load64(v->pm, base + v->iqh + i * 8);
		if (!qi_exec(v, d)) {
			v->iqe = true;
			break;
		}
		v->iqh = (v->iqh + dsz) % qsize;
	}
	pthread_mutex_unlock(&v->lock);
	pthread_rwlock_unlock(&v->drain);
}

/* ---- page requests (see vtd.h) ---- */

/* Hand @resp to the endpoint of its RID; @v->lock held. */
static void prg_deliver(struct vtd *v, const struct vtdm_prg_resp *resp)
{
	unsigned int i;

	for (i = 0; i < VTDM_ENDPOINTS; i++) {
		struct vtdm_endpoint *ep = &v->endpoints[i];

		if (ep->used && ep->sid == resp->sid) {
			v->stats.prg_delivered++;
			ep->fn(ep->priv, resp);
			return;
		}
	}
	v->stats.prg_dropped++;
}

/* The unit answers a dropped request itself; @v->lock held. */
static void auto_respond(struct vtd *v, const struct vtdm_page_req *req, uint8_t code)
{
	struct vtdm_prg_resp resp = {
		.sid = req->sid,
		.pasid_present = req->pasid != VTDM_NO_PASID,
		.pasid = req->pasid != VTDM_NO_PASID ? req->pasid : 0,
		.prgi = req->prgi & 0x1ff,
		.code = code,
		.automatic = true,
	};

	v->stats.prq_auto_responses++;
	prg_deliver(v, &resp);
}

/*
 * PPR or PRO is about to be set: raise the page request event unless one
 * of them is set already; @v->lock held.
 */
static void prq_event(struct vtd *v)
{
	if (v->prs & (VTDM_PRS_PPR | VTDM_PRS_PRO))
		return;
	v->pectl |= VTDM_PECTL_IP;
	if (v->pectl & VTDM_PECTL_IM)
		return;
	v->pectl &= ~VTDM_PECTL_IP;
	v->stats.prq_events++;
	if (v->prq_irq)
		v->prq_irq(v->prq_irq_priv);
}

/**
 * vtd_page_request() - a device sends a page request
 * @v: the unit
 * @req: the request
 *
 * See the comment at the top of vtd.h: a request the unit cannot look up
 * is recorded as a non-recoverable fault and, with LPIG, answered Invalid
 * Request; a request that finds the queue full or overflowed is dropped
 * and, with LPIG, answered Success; otherwise the unit invalidates its
 * cached translations of the page and writes the descriptor.  Responses
 * the unit generates are delivered before this returns.
 *
 * Return: what the unit did with it.
 */
enum vtdm_prq_result vtd_page_request(struct vtd *v, const struct vtdm_page_req *req)
{
	uint64_t page = req->addr & ADDR_4K, base, size, next, d0, d1;
	uint32_t pasid = req->pasid;
	enum vtdm_fault_reason r;
	uint64_t pe[8];
	uint16_t did;

	if (!ECAP_PRS(v->ecap)) {
		pthread_mutex_lock(&v->lock);
		v->stats.page_requests++;
		v->stats.prq_unsupported++;
		if (req->lpig)
			auto_respond(v, req, VTDM_RESP_INVALID);
		pthread_mutex_unlock(&v->lock);
		return VTDM_PRQ_UNSUPPORTED;
	}
	r = get_pasid_entry(v, req->sid, &pasid, pe, CTX_PRE);
	if (!r && PE0_PGTT(pe[0]) != PGTT_SS)
		r = VTDM_F_PGTT;

	pthread_mutex_lock(&v->lock);
	v->stats.page_requests++;
	base = v->pqa & ADDR_4K;
	size = 4096ULL << (v->pqa & 7);
	if (!r && (!base || !table_ok(v, base, size)))
		r = VTDM_F_BAD_TABLE;	/* no queue to write to */
	if (r) {
		__record(v, r, req->sid, req->pasid, page, req->write, 0, 0);
		v->stats.prq_table_faults++;
		if (req->lpig)
			auto_respond(v, req, VTDM_RESP_INVALID);
		pthread_mutex_unlock(&v->lock);
		return VTDM_PRQ_FAULT;
	}
	if (v->prs & VTDM_PRS_PRO) {
		v->stats.prq_overflow++;
		if (req->lpig)
			auto_respond(v, req, VTDM_RESP_SUCCESS);
		pthread_mutex_unlock(&v->lock);
		return VTDM_PRQ_OVERFLOW;
	}
	next = (v->pqt + PRQ_DESC) % size;
	if (next == v->pqh % size) {
		prq_event(v);
		v->prs |= VTDM_PRS_PRO;
		v->stats.prq_full++;
		if (req->lpig)
			auto_respond(v, req, VTDM_RESP_SUCCESS);
		pthread_mutex_unlock(&v->lock);
		return VTDM_PRQ_FULL;
	}

	/* implicit invalidation: page-selective within the domain, AM 0, IH 0 */
	did = PE1_DID(pe[1]);
	iotlb_inv(v, true, did, false, 0, true, page, 0);
	psc_inv(v, true, did, page, 0);

	d0 = PRQ_TYPE_PAGE_REQ | ((uint64_t)req->sid << PRQ_RID_SHIFT);
	if (req->pasid != VTDM_NO_PASID)
		d0 |= PRQ_PP | ((uint64_t)(req->pasid & 0xfffff) << PRQ_PASID_SHIFT);
	d1 = page | ((uint64_t)(req->prgi & 0x1ff) << PRQ_PRGI_SHIFT);
	if (req->read)
		d1 |= PRQ_RDR;
	if (req->write)
		d1 |= PRQ_WRR;
	if (req->lpig)
		d1 |= PRQ_LPIG;
	phys_store64(v->pm, base + v->pqt, d0);
	phys_store64(v->pm, base + v->pqt + 8, d1);
	phys_store64(v->pm, base + v->pqt + 16, 0);
	phys_store64(v->pm, base + v->pqt + 24, 0);
	v->pqt = next;
	prq_event(v);
	v->prs |= VTDM_PRS_PPR;
	v->stats.prq_descs++;
	pthread_mutex_unlock(&v->lock);
	return VTDM_PRQ_QUEUED;
}

static void set_reg64(struct vtd *v, uint64_t *reg, uint64_t val)
{
	pthread_mutex_lock(&v->lock);
	*reg = val;
	pthread_mutex_unlock(&v->lock);
}

static uint64_t get_reg64(struct vtd *v, const uint64_t *reg)
{
	uint64_t val;

	pthread_mutex_lock(&v->lock);
	val = *reg;
	pthread_mutex_unlock(&v->lock);
	return val;
}

/* PQA_REG: queue base (bits 63:12) and size, 2^PQS pages (bits 2:0). */
void vtd_set_pqa(struct vtd *v, uint64_t val)
{
	set_reg64(v, &v->pqa, val & (ADDR_4K | 7));
}

/* PQH_REG: byte offset of the next descriptor software will read. */
void vtd_set_pqh(struct vtd *v, uint64_t val)
{
	set_reg64(v, &v->pqh, val & MASK(18, 5));
}

/* PQT_REG: byte offset of the next descriptor the unit writes. */
void vtd_set_pqt(struct vtd *v, uint64_t val)
{
	set_reg64(v, &v->pqt, val & MASK(18, 5));
}

uint64_t vtd_get_pqh(struct vtd *v)
{
	return get_reg64(v, &v->pqh);
}

uint64_t vtd_get_pqt(struct vtd *v)
{
	return get_reg64(v, &v->pqt);
}

uint32_t vtd_get_prs(struct vtd *v)
{
	uint32_t val;

	pthread_mutex_lock(&v->lock);
	val = v->prs;
	pthread_mutex_unlock(&v->lock);
	return val;
}

/**
 * vtd_clear_prs() - software writes 1s to PRS_REG
 * @v: the unit
 * @bits: VTDM_PRS_PPR and/or VTDM_PRS_PRO to clear
 *
 * Clearing PRO ends the overflow condition.  With both clear, a held
 * event (IP) is dropped, as the spec has it.
 */
void vtd_clear_prs(struct vtd *v, uint32_t bits)
{
	pthread_mutex_lock(&v->lock);
	v->prs &= ~(bits & (VTDM_PRS_PPR | VTDM_PRS_PRO));
	if (!v->prs)
		v->pectl &= ~VTDM_PECTL_IP;
	pthread_mutex_unlock(&v->lock);
}

/**
 * vtd_set_pectl() - software writes PECTL_REG
 * @v: the unit
 * @val: VTDM_PECTL_IM to mask the event, 0 to unmask it
 *
 * Unmasking with an event held (IP) delivers it.
 */
void vtd_set_pectl(struct vtd *v, uint32_t val)
{
	pthread_mutex_lock(&v->lock);
	v->pectl = (v->pectl & VTDM_PECTL_IP) | (val & VTDM_PECTL_IM);
	if (!(v->pectl & VTDM_PECTL_IM) && (v->pectl & VTDM_PECTL_IP)) {
		v->pectl &= ~VTDM_PECTL_IP;
		v->stats.prq_events++;
		if (v->prq_irq)
			v->prq_irq(v->prq_irq_priv);
	}
	pthread_mutex_unlock(&v->lock);
}

uint32_t vtd_get_pectl(struct vtd *v)
{
	uint32_t val;

	pthread_mutex_lock(&v->lock);
	val = v->pectl;
	pthread_mutex_unlock(&v->lock);
	return val;
}

/**
 * vtd_set_prq_irq() - where the page request event's interrupt goes
 * @v: the unit
 * @fn: called with the unit's lock held when the event is delivered;
 *	NULL: nowhere
 * @priv: passed to @fn
 *
 * Once this returns, an old @fn is no longer running nor called.
 */
void vtd_set_prq_irq(struct vtd *v, void (*fn)(void *priv), void *priv)
{
	pthread_mutex_lock(&v->lock);
	v->prq_irq = fn;
	v->prq_irq_priv = priv;
	pthread_mutex_unlock(&v->lock);
}

/**
 * vtd_endpoint_register() - a device receives page group responses
 * @v: the unit
 * @sid: its requester id
 * @fn: called with each response for @sid, with the unit's lock held
 * @priv: passed to @fn
 *
 * Return: 0, -EBUSY when @sid has an endpoint, -ENOSPC when the unit has
 * VTDM_ENDPOINTS already.
 */
int vtd_endpoint_register(struct vtd *v, uint16_t sid, vtdm_prg_resp_fn fn, void *priv)
{
	struct vtdm_endpoint *free_ep = NULL;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VTDM_ENDPOINTS; i++) {
		struct vtdm_endpoint *ep = &v->endpoints[i];

		if (ep->used && ep->sid == sid)
			ret = -EBUSY;
		else if (!ep->used && !free_ep)
			free_ep = ep;
	}
	if (!ret && !free_ep)
		ret = -ENOSPC;
	if (!ret)
		*free_ep = (struct vtdm_endpoint){
			.used = true, .sid = sid, .fn = fn, .priv = priv,
		};
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/**
 * vtd_endpoint_unregister() - responses for @sid are dropped again
 * @v: the unit
 * @sid: the requester id
 *
 * Once this returns, the endpoint's callback is no longer running nor
 * called.
 */
void vtd_endpoint_unregister(struct vtd *v, uint16_t sid)
{
	unsigned int i;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VTDM_ENDPOINTS; i++)
		if (v->endpoints[i].used && v->endpoints[i].sid == sid)
			v->endpoints[i].used = false;
	pthread_mutex_unlock(&v->lock);
}
