// SPDX-License-Identifier: GPL-2.0
/* Stand-in for the intel-iommu driver over the VT-d model: see intel_iommu.h. */
#include "../vtd_internal.h"
#include "intel/iommu.h"
#include "iopf.h"

#define QI_RING_DESCS	128
#define QI_CC_TYPE	1
#define QI_CC_GLOBAL	(1ULL << 4)
#define QI_WAIT_TYPE	5
#define QI_WAIT_SW	BIT_ULL(5)

/* Page group response descriptor (VT-d spec 7.6.1). */
#define QI_PGRP_TYPE	9
#define QI_PGRP_PP	BIT_ULL(4)
#define QI_PGRP_RC	GENMASK_ULL(15, 12)
#define QI_PGRP_RID	GENMASK_ULL(31, 16)
#define QI_PGRP_PASID	GENMASK_ULL(51, 32)
#define QI_PGRP_PRGI	GENMASK_ULL(11, 3)
#define QI_RESP_SUCCESS	0x0
#define QI_RESP_INVALID	0x1
#define QI_RESP_FAILURE	0xf

/* Page request descriptor (VT-d spec 7.4.1.1), 256 bits. */
#define PRQ_DESC_SIZE	32
#define PRQ_TYPE	GENMASK_ULL(7, 0)	/* qw0 */
#define PRQ_PP		BIT_ULL(8)
#define PRQ_RID		GENMASK_ULL(31, 16)
#define PRQ_PASID	GENMASK_ULL(51, 32)
#define PRQ_EXR		BIT_ULL(52)
#define PRQ_PMR		BIT_ULL(53)
#define PRQ_RDR		BIT_ULL(0)		/* qw1 */
#define PRQ_WRR		BIT_ULL(1)
#define PRQ_LPIG	BIT_ULL(2)
#define PRQ_PRGI	GENMASK_ULL(11, 3)
#define PRQ_ADDR	GENMASK_ULL(63, 12)
#define PRQ_TYPE_PAGE_REQ	1

/* Page request registers. */
#define PRS_PPR		BIT(0)
#define PRS_PRO		BIT(1)
#define PECTL_IM	BIT(31)

/* ECAP: device-TLB (translation requests) and page requests supported. */
#define ECAP_DT		BIT_ULL(2)
#define ECAP_PRS	BIT_ULL(29)

/* Scalable-mode context entry: device-TLB and page requests enabled. */
#define CTX_SM_DTE	BIT_ULL(2)
#define CTX_SM_PRE	BIT_ULL(4)

/* The machine's units; changed under dmar_drhd_units_lock */
LIST_HEAD(dmar_drhd_units);
static pthread_mutex_t dmar_drhd_units_lock = PTHREAD_MUTEX_INITIALIZER;

/* the knob of intel_iommu.h; both atomic */
static int kt_qi_breakage = KT_QI_CORRECT;
static u64 kt_qi_broken;

/**
 * kt_qi_break() - make every unit's invalidation queue misbehave
 * @how: what to get wrong; KT_QI_CORRECT puts it right again
 *
 * Also restarts the count of kt_qi_broken_descs().
 */
void kt_qi_break(enum kt_qi_breakage how)
{
	__atomic_store_n(&kt_qi_broken, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&kt_qi_breakage, how, __ATOMIC_SEQ_CST);
}

/**
 * kt_qi_broken_descs() - descriptors the knob broke
 *
 * Return: descriptors dropped or weakened since the knob was last set.
 */
u64 kt_qi_broken_descs(void)
{
	return __atomic_load_n(&kt_qi_broken, __ATOMIC_SEQ_CST);
}

/*
 * Apply the knob to @d; false to drop it.  IOTLB invalidate descriptor:
 * granularity in bits 5:4 of qw0 (1 global, 2 domain, 3 page-selective),
 * the invalidation hint in bit 6 of qw1.
 */
static bool qi_break_desc(struct qi_desc *d)
{
	int how = __atomic_load_n(&kt_qi_breakage, __ATOMIC_SEQ_CST);
	bool psi = ((d->qw0 >> 4) & 3) == 3, ih = d->qw1 & BIT_ULL(6);
	bool keep = true;

	if (how == KT_QI_CORRECT || (d->qw0 & 0xf) != 2 || (d->qw0 & (7ULL << 9)))
		return true;
	if (how == KT_QI_DROP_TABLE_INV && !(psi && ih))
		keep = false;
	else if (how == KT_QI_DROP_LEAF_INV && psi && ih)
		keep = false;
	else if (how == KT_QI_FORCE_LEAF_HINT && psi && !ih)
		d->qw1 |= BIT_ULL(6);
	else
		return true;
	__atomic_add_fetch(&kt_qi_broken, 1, __ATOMIC_SEQ_CST);
	return keep;
}

struct intel_iommu *kt_intel_iommu_create(struct phys *pm, struct vtd *hw,
					  int seq_id)
{
	struct intel_iommu *iommu = kzalloc(sizeof(*iommu), GFP_KERNEL);
	struct dmar_drhd_unit *drhd, *tmp;

	if (!iommu)
		return NULL;
	spin_lock_init(&iommu->qi_lock);
	spin_lock_init(&iommu->lock);
	INIT_LIST_HEAD(&iommu->kt_devices);
	INIT_LIST_HEAD(&iommu->drhd.list);
	iommu->drhd.iommu = iommu;
	mutex_init(&iommu->iopf_lock);
	pthread_mutex_init(&iommu->prq_wait_lock, NULL);
	pthread_cond_init(&iommu->prq_wait, NULL);
	iommu->pm = pm;
	iommu->hw = hw;
	iommu->cap = hw->cap;
	iommu->ecap = hw->ecap;
	iommu->seq_id = seq_id;
	iommu->root_table = phys_alloc_kind(pm, 0, PHYS_IOMMU);
	iommu->qi_base = phys_alloc_kind(pm, 0, PHYS_IOMMU);
	iommu->qi_status = phys_alloc_kind(pm, 0, PHYS_IOMMU);
	if (!iommu->root_table || !iommu->qi_base || !iommu->qi_status) {
		kt_intel_iommu_destroy(iommu);
		return NULL;
	}
	/* Scalable mode (TTM = 01b), 256-bit descriptors (DW), one page (QS = 0). */
	vtd_set_rtaddr(hw, iommu->root_table | (1ULL << 10));
	vtd_set_iqa(hw, iommu->qi_base | BIT_ULL(11));
	kt_machine_mem_get(pm);
	pthread_mutex_lock(&dmar_drhd_units_lock);
	/* units of another machine: a failed test left them behind */
	list_for_each_entry_safe(drhd, tmp, &dmar_drhd_units, list)
		if (drhd->iommu->pm != pm)
			list_del_init(&drhd->list);
	list_add_tail(&iommu->drhd.list, &dmar_drhd_units);
	pthread_mutex_unlock(&dmar_drhd_units_lock);
	return iommu;
}

static void free_pasid_tables(struct intel_iommu *iommu)
{
	u64 *root = phys_va(iommu->pm, iommu->root_table);
	unsigned int bus, half, devfn;

	for (bus = 0; bus < 256; bus++) {
		for (half = 0; half < 2; half++) {
			u64 ctp = root[bus * 2 + half];

			if (!(ctp & 1))
				continue;
			ctp &= PAGE_MASK;
			for (devfn = 0; devfn < 128; devfn++) {
				u64 *ce = phys_va(iommu->pm, ctp + devfn * 32);
				u64 pdir = ce[0] & PAGE_MASK;

				if (!(ce[0] & 1))
					continue;
				phys_free(iommu->pm,
					  *(u64 *)phys_va(iommu->pm, pdir) & PAGE_MASK, 0);
				phys_free(iommu->pm, pdir, 0);
			}
			phys_free(iommu->pm, ctp, 0);
		}
	}
}

void kt_intel_iommu_destroy(struct intel_iommu *iommu)
{
	struct device_domain_info *info, *tmp;

	if (!iommu)
		return;
	pthread_mutex_lock(&dmar_drhd_units_lock);
	if (!list_empty(&iommu->drhd.list)) {
		list_del_init(&iommu->drhd.list);
		kt_machine_mem_put(iommu->pm);
	}
	pthread_mutex_unlock(&dmar_drhd_units_lock);
	list_for_each_entry_safe(info, tmp, &iommu->kt_devices, kt_node) {
		WARN_ON(info->domain_attached);
		list_del(&info->kt_node);
		free(info);	/* calloc() in kt_intel_probe_device() */
	}
	kt_intel_prq_disable(iommu);
	if (iommu->root_table)
		free_pasid_tables(iommu);
	phys_free(iommu->pm, iommu->root_table, 0);
	phys_free(iommu->pm, iommu->qi_base, 0);
	phys_free(iommu->pm, iommu->qi_status, 0);
	pthread_cond_destroy(&iommu->prq_wait);
	pthread_mutex_destroy(&iommu->prq_wait_lock);
	mutex_destroy(&iommu->iopf_lock);
	kfree(iommu);
}

/**
 * qi_submit_sync() - queue descriptors plus a wait, and wait for it
 * @iommu: the unit
 * @desc: descriptors to queue
 * @count: number of descriptors
 * @options: unused (no drain options in the stand-in)
 *
 * Return: 0 when the wait status was written; -EINVAL when the unit
 * reported an invalidation queue error (the bad descriptor is dropped, as
 * the driver does); -ENOSPC when @count does not fit the ring.
 */
int qi_submit_sync(struct intel_iommu *iommu, struct qi_desc *desc,
		   unsigned int count, unsigned long options)
{
	u32 *status = phys_va(iommu->pm, iommu->qi_status);
	unsigned int i;
	u32 seq;
	int ret = 0;

	(void)options;
	if (count + 1 >= QI_RING_DESCS)
		return -ENOSPC;
	spin_lock(&iommu->qi_lock);
	seq = ++iommu->qi_seq;
	for (i = 0; i <= count; i++) {
		struct qi_desc wait = {
			.qw0 = QI_WAIT_TYPE | QI_WAIT_SW | ((u64)seq << 32),
			.qw1 = iommu->qi_status,
		};
		struct qi_desc copy;
		const struct qi_desc *d = &wait;

		if (i < count) {
			copy = desc[i];
			if (!qi_break_desc(&copy))
				continue;
			d = &copy;
		}
		memcpy(phys_va(iommu->pm, iommu->qi_base + iommu->qi_tail), d,
		       sizeof(*d));
		iommu->qi_tail = (iommu->qi_tail + 32) % (QI_RING_DESCS * 32);
	}
	iommu->qi_submits++;
	iommu->qi_descs += count + 1;
	vtd_set_iqt(iommu->hw, iommu->qi_tail);
	if (vtd_iqe(iommu->hw)) {
		/* Recover the queue the way the driver does: reset it. */
		vtd_set_iqa(iommu->hw, iommu->qi_base | BIT_ULL(11));
		iommu->qi_tail = 0;
		ret = -EINVAL;
	} else if (__atomic_load_n(status, __ATOMIC_ACQUIRE) != seq) {
		ret = -ETIMEDOUT;
	}
	spin_unlock(&iommu->qi_lock);
	return ret;
}

static int pasid_cache_flush(struct intel_iommu *iommu, u16 did)
{
	struct qi_desc d = {
		/* PASID-selective-within-domain, PASID 0 */
		.qw0 = QI_PC_TYPE | (1ULL << 4) | ((u64)did << 16),
	};

	return qi_submit_sync(iommu, &d, 1, 0);
}

static u64 *context_entry(struct intel_iommu *iommu, u16 sid, bool alloc)
{
	u64 *re = phys_va(iommu->pm, iommu->root_table);
	unsigned int bus = sid >> 8, devfn = sid & 0xff;
	u64 *slot = &re[bus * 2 + (devfn >= 128)];

	if (!(*slot & 1)) {
		u64 ctp;

		if (!alloc)
			return NULL;
		ctp = phys_alloc_kind(iommu->pm, 0, PHYS_IOMMU);
		if (!ctp)
			return NULL;
		*slot = ctp | 1;
	}
	return phys_va(iommu->pm, (*slot & PAGE_MASK) + (devfn & 0x7f) * 32);
}

/* Context entry bits of a device registered for page requests. */
static u64 ctx_pri_bits(struct intel_iommu *iommu)
{
	return (iommu->ecap & ECAP_DT ? CTX_SM_DTE : 0) |
	       (iommu->ecap & ECAP_PRS ? CTX_SM_PRE : 0);
}

/* Index of the device registered for page requests with @sid, or -1. */
static int prq_dev_index(struct intel_iommu *iommu, u16 sid)
{
	unsigned int i;

	for (i = 0; i < iommu->nr_prq_devs; i++)
		if (iommu->prq_sids[i] == sid)
			return i;
	return -1;
}

u64 *kt_intel_pasid_entry(struct intel_iommu *iommu, u16 sid, bool alloc)
{
	u64 *ce, *pde, pdir, ptbl;

	lockdep_assert_held(&iommu->lock);
	ce = context_entry(iommu, sid, alloc);
	if (!ce)
		return NULL;
	if (!(ce[0] & 1)) {
		if (!alloc)
			return NULL;
		pdir = phys_alloc_kind(iommu->pm, 0, PHYS_IOMMU);
		ptbl = phys_alloc_kind(iommu->pm, 0, PHYS_IOMMU);
		if (!pdir || !ptbl) {
			phys_free(iommu->pm, pdir, 0);
			phys_free(iommu->pm, ptbl, 0);
			return NULL;
		}
		pde = phys_va(iommu->pm, pdir);
		pde[0] = ptbl | 1;
		ce[1] = 0;		/* RID_PASID = 0 */
		/* PDTS 0; ATS and page requests for a registered device */
		__atomic_store_n(&ce[0], pdir | 1 | (prq_dev_index(iommu, sid) >= 0 ?
						     ctx_pri_bits(iommu) : 0),
				 __ATOMIC_RELEASE);
	}
	pde = phys_va(iommu->pm, ce[0] & PAGE_MASK);
	return phys_va(iommu->pm, pde[0] & PAGE_MASK);	/* PASID 0 is slot 0 */
}

int kt_intel_set_pasid_entry(struct intel_iommu *iommu, u16 sid, const u64 pe[8])
{
	u64 *dst;
	int i;

	spin_lock(&iommu->lock);
	dst = kt_intel_pasid_entry(iommu, sid, true);
	if (!dst) {
		spin_unlock(&iommu->lock);
		return -ENOMEM;
	}
	/* Write P last, as the driver does (WRITE_ONCE: the unit reads it) */
	for (i = 7; i >= 1; i--)
		__atomic_store_n(&dst[i], pe[i], __ATOMIC_RELAXED);
	__atomic_store_n(&dst[0], pe[0], __ATOMIC_RELEASE);
	spin_unlock(&iommu->lock);
	return pasid_cache_flush(iommu, pe[1] & 0xffff);
}

int kt_intel_clear_pasid_entry(struct intel_iommu *iommu, u16 sid, u16 did)
{
	struct qi_desc dsi = { .qw0 = 2 | (2ULL << 4) | ((u64)did << 16) };
	u64 *pe;
	int ret;

	spin_lock(&iommu->lock);
	pe = kt_intel_pasid_entry(iommu, sid, false);
	if (!pe) {
		spin_unlock(&iommu->lock);
		return -ENOENT;
	}
	__atomic_store_n(&pe[0], 0, __ATOMIC_RELEASE);
	spin_unlock(&iommu->lock);
	ret = pasid_cache_flush(iommu, did);
	return ret ? ret : qi_submit_sync(iommu, &dsi, 1, 0);
}

/* ---- page requests ---- */

int kt_intel_prq_register_dev(struct intel_iommu *iommu, struct device *dev)
{
	bool flush = false;
	int i, ret = 0;
	u64 *ce, bits;

	if (!iommu)
		return 0;
	bits = ctx_pri_bits(iommu);
	mutex_lock(&iommu->iopf_lock);
	spin_lock(&iommu->lock);
	i = prq_dev_index(iommu, dev->sid);
	if (i < 0 && iommu->nr_prq_devs < KT_PRQ_MAX_DEVS)
		i = iommu->nr_prq_devs++;
	if (i >= 0) {
		iommu->prq_devs[i] = dev;
		iommu->prq_sids[i] = dev->sid;
	} else {
		ret = -ENOSPC;
	}
	ce = ret ? NULL : context_entry(iommu, dev->sid, false);
	if (ce && (ce[0] & 1) && (ce[0] & bits) != bits) {
		__atomic_store_n(&ce[0], ce[0] | bits, __ATOMIC_RELEASE);
		flush = true;
	}
	spin_unlock(&iommu->lock);
	mutex_unlock(&iommu->iopf_lock);
	if (flush) {
		struct qi_desc cc = { .qw0 = QI_CC_TYPE | QI_CC_GLOBAL };

		ret = qi_submit_sync(iommu, &cc, 1, 0);
	}
	return ret;
}

void kt_intel_prq_unregister_dev(struct intel_iommu *iommu, struct device *dev)
{
	int i;

	mutex_lock(&iommu->iopf_lock);
	spin_lock(&iommu->lock);
	i = prq_dev_index(iommu, dev->sid);
	if (i >= 0 && iommu->prq_devs[i] == dev) {
		iommu->nr_prq_devs--;
		iommu->prq_devs[i] = iommu->prq_devs[iommu->nr_prq_devs];
		iommu->prq_sids[i] = iommu->prq_sids[iommu->nr_prq_devs];
	}
	spin_unlock(&iommu->lock);
	mutex_unlock(&iommu->iopf_lock);
}

static void prq_count(u64 *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

struct kt_prq_stats kt_intel_prq_stats(struct intel_iommu *iommu)
{
	struct kt_prq_stats s;

	s.wakeups = __atomic_load_n(&iommu->prq_stats.wakeups, __ATOMIC_RELAXED);
	s.reported = __atomic_load_n(&iommu->prq_stats.reported, __ATOMIC_RELAXED);
	s.bad = __atomic_load_n(&iommu->prq_stats.bad, __ATOMIC_RELAXED);
	s.stop_markers = __atomic_load_n(&iommu->prq_stats.stop_markers, __ATOMIC_RELAXED);
	s.overflows = __atomic_load_n(&iommu->prq_stats.overflows, __ATOMIC_RELAXED);
	s.responses = __atomic_load_n(&iommu->prq_stats.responses, __ATOMIC_RELAXED);
	return s;
}

static void page_group_response(struct intel_iommu *iommu, u16 sid, bool pasid_present,
				u32 pasid, u16 prgi, u64 code)
{
	struct qi_desc desc = {
		.qw0 = QI_PGRP_TYPE | FIELD_PREP(QI_PGRP_RC, code) |
		       FIELD_PREP(QI_PGRP_RID, sid) |
		       (pasid_present ? QI_PGRP_PP | FIELD_PREP(QI_PGRP_PASID, pasid) : 0),
		.qw1 = FIELD_PREP(QI_PGRP_PRGI, prgi),
	};

	prq_count(&iommu->prq_stats.responses);
	WARN_ON(qi_submit_sync(iommu, &desc, 1, 0));
}

void kt_intel_page_response(struct device *dev, struct iopf_fault *evt,
			    struct iommu_page_response *msg)
{
	const struct iommu_fault_page_request *prm = &evt->fault.prm;
	u64 code;

	switch (msg->code) {
	case IOMMU_PAGE_RESP_SUCCESS:
		code = QI_RESP_SUCCESS;
		break;
	case IOMMU_PAGE_RESP_INVALID:
		code = QI_RESP_INVALID;
		break;
	default:
		code = QI_RESP_FAILURE;
		break;
	}
	page_group_response(kt_intel_dev_unit(dev), dev->sid,
			    prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID,
			    prm->pasid, prm->grpid, code);
}

/* Handle the descriptor at @hpa (the prq thread). */
static void prq_handle(struct intel_iommu *iommu, u64 hpa)
{
	u64 qw0 = phys_load64(iommu->pm, hpa), qw1 = phys_load64(iommu->pm, hpa + 8);
	bool rd = qw1 & PRQ_RDR, wr = qw1 & PRQ_WRR, lpig = qw1 & PRQ_LPIG;
	bool pp = qw0 & PRQ_PP;
	u16 sid = FIELD_GET(PRQ_RID, qw0);
	u32 pasid = pp ? FIELD_GET(PRQ_PASID, qw0) : 0;
	u16 prgi = FIELD_GET(PRQ_PRGI, qw1);
	struct iopf_fault evt = { };
	int i;

	if (FIELD_GET(PRQ_TYPE, qw0) != PRQ_TYPE_PAGE_REQ)
		goto bad;
	if ((qw0 & PRQ_PMR) && (rd || wr))
		goto bad;	/* supervisor requests: not supported */
	if ((qw0 & PRQ_EXR) && rd)
		goto bad;	/* execute requests: not supported */
	if (lpig && !rd && !wr) {
		prq_count(&iommu->prq_stats.stop_markers);
		return;		/* a stop marker: no response */
	}

	evt.fault.type = IOMMU_FAULT_PAGE_REQ;
	evt.fault.prm.addr = qw1 & PRQ_ADDR;
	evt.fault.prm.grpid = prgi;
	evt.fault.prm.pasid = pasid;
	if (rd)
		evt.fault.prm.perm |= IOMMU_FAULT_PERM_READ;
	if (wr)
		evt.fault.prm.perm |= IOMMU_FAULT_PERM_WRITE;
	if (qw0 & PRQ_EXR)
		evt.fault.prm.perm |= IOMMU_FAULT_PERM_EXEC;
	if (qw0 & PRQ_PMR)
		evt.fault.prm.perm |= IOMMU_FAULT_PERM_PRIV;
	if (lpig)
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	if (pp)
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
				       IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;

	mutex_lock(&iommu->iopf_lock);
	i = prq_dev_index(iommu, sid);
	if (i >= 0) {
		prq_count(&iommu->prq_stats.reported);
		iommu_report_device_fault(iommu->prq_devs[i], &evt);
	}
	mutex_unlock(&iommu->iopf_lock);
	if (i >= 0)
		return;
bad:
	/* only the last request of a group is answered */
	prq_count(&iommu->prq_stats.bad);
	if (lpig)
		page_group_response(iommu, sid, pp, pasid, prgi, QI_RESP_INVALID);
}

/* One run of the prq thread: what the interrupt announced, and more. */
static void prq_process(struct intel_iommu *iommu)
{
	u64 size = PAGE_SIZE << KT_PRQ_ORDER, mask = size - PRQ_DESC_SIZE;
	struct vtd *hw = iommu->hw;
	u64 head, tail;

	/* clear PPR first, so a request written from now on interrupts again */
	vtd_clear_prs(hw, PRS_PPR);
	tail = vtd_get_pqt(hw) & mask;
	head = vtd_get_pqh(hw) & mask;
	while (head != tail) {
		prq_handle(iommu, iommu->prq + head);
		head = (head + PRQ_DESC_SIZE) & mask;
	}
	vtd_set_pqh(hw, tail);

	/* after an overflow: lost last requests leave partial faults behind */
	if (vtd_get_prs(hw) & PRS_PRO) {
		head = vtd_get_pqh(hw) & mask;
		tail = vtd_get_pqt(hw) & mask;
		if (head == tail) {
			unsigned int i;

			mutex_lock(&iommu->iopf_lock);
			for (i = 0; i < iommu->nr_prq_devs; i++)
				kt_iopf_dev_discard_partial(iommu->prq_devs[i]);
			mutex_unlock(&iommu->iopf_lock);
			vtd_clear_prs(hw, PRS_PRO);
			prq_count(&iommu->prq_stats.overflows);
		} else {
			/* more arrived meanwhile: go round again */
			pthread_mutex_lock(&iommu->prq_wait_lock);
			iommu->prq_kick = true;
			pthread_mutex_unlock(&iommu->prq_wait_lock);
		}
	}
}

/* The unit's page request interrupt (called with the unit's lock held). */
static void prq_irq(void *priv)
{
	struct intel_iommu *iommu = priv;

	pthread_mutex_lock(&iommu->prq_wait_lock);
	iommu->prq_kick = true;
	pthread_cond_signal(&iommu->prq_wait);
	pthread_mutex_unlock(&iommu->prq_wait_lock);
}

static void *prq_thread(void *arg)
{
	struct intel_iommu *iommu = arg;

	kt_set_kthread();
	rcu_register_thread();
	pthread_mutex_lock(&iommu->prq_wait_lock);
	for (;;) {
		while (!iommu->prq_kick && !iommu->prq_stop)
			pthread_cond_wait(&iommu->prq_wait, &iommu->prq_wait_lock);
		if (iommu->prq_stop)
			break;
		iommu->prq_kick = false;
		pthread_mutex_unlock(&iommu->prq_wait_lock);
		prq_count(&iommu->prq_stats.wakeups);
		prq_process(iommu);
		pthread_mutex_lock(&iommu->prq_wait_lock);
	}
	pthread_mutex_unlock(&iommu->prq_wait_lock);
	rcu_unregister_thread();
	return NULL;
}

int kt_intel_prq_enable(struct intel_iommu *iommu)
{
	struct vtd *hw = iommu->hw;
	u64 prq;

	if (!(iommu->ecap & ECAP_PRS))
		return -ENODEV;
	if (iommu->prq)
		return -EBUSY;
	prq = phys_alloc_kind(iommu->pm, KT_PRQ_ORDER, PHYS_IOMMU);
	if (!prq)
		return -ENOMEM;
	vtd_set_pectl(hw, PECTL_IM);
	vtd_set_pqh(hw, 0);
	vtd_set_pqt(hw, 0);
	vtd_set_pqa(hw, prq | KT_PRQ_ORDER);
	iommu->prq_stop = false;
	iommu->prq_kick = false;
	if (pthread_create(&iommu->prq_thread, NULL, prq_thread, iommu)) {
		vtd_set_pqa(hw, 0);
		phys_free(iommu->pm, prq, KT_PRQ_ORDER);
		return -EAGAIN;
	}
	iommu->prq = prq;
	vtd_set_prq_irq(hw, prq_irq, iommu);
	vtd_set_pectl(hw, 0);
	return 0;
}

void kt_intel_prq_disable(struct intel_iommu *iommu)
{
	struct vtd *hw = iommu->hw;

	if (!iommu->prq)
		return;
	vtd_set_pectl(hw, PECTL_IM);
	vtd_set_prq_irq(hw, NULL, NULL);
	pthread_mutex_lock(&iommu->prq_wait_lock);
	iommu->prq_stop = true;
	pthread_cond_signal(&iommu->prq_wait);
	pthread_mutex_unlock(&iommu->prq_wait_lock);
	pthread_join(iommu->prq_thread, NULL);
	vtd_set_pqa(hw, 0);
	vtd_set_pqh(hw, 0);
	vtd_set_pqt(hw, 0);
	vtd_clear_prs(hw, PRS_PPR | PRS_PRO);
	phys_free(iommu->pm, iommu->prq, KT_PRQ_ORDER);
	iommu->prq = 0;
}

/* ---- a driver-style second-stage table ---- */

int kt_ss_table_init(struct kt_ss_table *t, struct phys *pm, unsigned int levels)
{
	t->pm = pm;
	t->levels = levels;
	t->root = phys_alloc_kind(pm, 0, PHYS_TABLE);
	t->table_pages = t->root ? 1 : 0;
	return t->root ? 0 : -ENOMEM;
}

static void free_level(struct kt_ss_table *t, u64 table, unsigned int level)
{
	u64 *e = phys_va(t->pm, table);
	unsigned int i;

	for (i = 0; level > 1 && i < 512; i++)
		if ((e[i] & 3) && !(e[i] & BIT_ULL(7)))
			free_level(t, e[i] & GENMASK_ULL(51, 12), level - 1);
	phys_free(t->pm, table, 0);
	t->table_pages--;
}

void kt_ss_table_free(struct kt_ss_table *t)
{
	if (t->root)
		free_level(t, t->root, t->levels);
	t->root = 0;
}

static u64 *walk_alloc(struct kt_ss_table *t, u64 iova, unsigned int leaf_level)
{
	u64 table = t->root;
	unsigned int level;

	for (level = t->levels; level > leaf_level; level--) {
		u64 *e = phys_va(t->pm, table) + ((iova >> (12 + 9 * (level - 1))) & 511) * 8;

		if (!(*e & 3)) {
			u64 next = phys_alloc_kind(t->pm, 0, PHYS_TABLE);

			if (!next)
				return NULL;
			t->table_pages++;
			__atomic_store_n(e, next | 3, __ATOMIC_RELEASE);
		} else if (*e & BIT_ULL(7)) {
			return NULL;	/* a large leaf is in the way */
		}
		table = *e & GENMASK_ULL(51, 12);
	}
	return (u64 *)phys_va(t->pm, table) + ((iova >> (12 + 9 * (leaf_level - 1))) & 511);
}

int kt_ss_map(struct kt_ss_table *t, u64 iova, u64 hpa, u64 size,
	      unsigned int shift, unsigned int prot)
{
	unsigned int level = (shift - 12) / 9 + 1;
	u64 pg = 1ULL << shift, off;

	if ((shift != 12 && shift != 21 && shift != 30) || !prot || (prot & ~3u) ||
	    !IS_ALIGNED(iova | hpa | size, pg))
		return -EINVAL;
	for (off = 0; off < size; off += pg) {
		u64 *e = walk_alloc(t, iova + off, level);

		if (!e)
			return -ENOMEM;
		if (*e & 3)
			return -EEXIST;
		__atomic_store_n(e, (hpa + off) | prot | (level > 1 ? BIT_ULL(7) : 0),
				 __ATOMIC_RELEASE);
	}
	return 0;
}

int kt_ss_unmap(struct kt_ss_table *t, u64 iova, u64 size)
{
	u64 end = iova + size;

	while (iova < end) {
		u64 table = t->root, *e = NULL;
		unsigned int level;

		for (level = t->levels; level >= 1; level--) {
			e = (u64 *)phys_va(t->pm, table) +
			    ((iova >> (12 + 9 * (level - 1))) & 511);
			if (!(*e & 3))
				return -ENOENT;
			if (level == 1 || (*e & BIT_ULL(7)))
				break;
			table = *e & GENMASK_ULL(51, 12);
		}
		__atomic_store_n(e, 0, __ATOMIC_RELEASE);
		iova += 1ULL << (12 + 9 * (level - 1));
	}
	return 0;
}
