/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulated DMA-capable device behind a VT-d unit.  Every access is split
 * at 4 KiB boundaries and translated by the IOMMU model; a faulting page
 * stops the transfer (pages before it were already accessed, as on real
 * hardware).  The device has a 4 KiB internal buffer, like QEMU's edu.
 *
 * Each page is translated and accessed between vtd_dma_begin() and
 * vtd_dma_end(), so invalidations drain it.  Memory is accessed with
 * relaxed atomic loads and stores, as a device does (no C data race with
 * the CPU's accesses).  An access whose translation lands in a page that
 * is not guest memory or plain RAM (a freed page, a page table, the
 * IOMMU's own structures) is a use of a stale translation: it is counted
 * in @bad_pages (the first one kept in @first_bad) and its data dropped,
 * so that the emulated platform stays intact for the rest of the run.
 * @last_hpa is the host address of the last page accessed.
 *
 * ATS and PRI mode (dma_dev_enable_pri()): instead of untranslated
 * requests, the device sends a translation request (vtd_translate_ats())
 * for each page and accesses memory at the translated address.  It has no
 * address translation cache: it asks the IOMMU again for every page of
 * every transfer and keeps nothing, so software never needs to invalidate
 * a device-TLB for it.  When the completion does not grant the access
 * (R=W=0, or no W for a write), the device sends page requests: for that
 * page and, up to @pri_group_pages in all, the following pages of the same
 * transfer, in one group (one PRGI) with LPIG on the last; then it waits
 * for the group's response (up to @pri_timeout_ms, else -ETIMEDOUT and
 * pri_timeouts).  On Success it asks for the translation again (a page
 * that still does not translate, say because an invalidation took it
 * again, makes a new group); on Invalid Request or Response Failure (or a
 * reserved code) the transfer stops with -EFAULT.  A page retried more
 * than @pri_max_retries times stops it with -EFAULT too (pri_gave_up), so
 * a handler that answers Success without mapping cannot hang a test.
 * Responses arrive on another thread (the one that processes the IOMMU's
 * invalidation queue, or the device's own when the IOMMU answers a
 * dropped request itself); @pri_lock and @pri_cond carry them.  The PRI
 * counters are atomic; pri_unexpected counts responses for a group that
 * is not outstanding (never sent, answered already, or given up after a
 * timeout) and must stay 0.
 */
#ifndef __KT_DMA_H
#define __KT_DMA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vtd.h"

#define DMA_DEV_BUF	4096
#define DMA_PRI_TIMEOUT_MS	5000
#define DMA_PRI_MAX_RETRIES	1000
#define DMA_PRI_GROUPS		512	/* PRGI is 9 bits */

struct dma_dev {
	struct vtd *iommu;
	uint16_t sid;
	uint32_t pasid;		/* VTDM_NO_PASID: requests without PASID */
	uint8_t buf[DMA_DEV_BUF];
	uint64_t bytes_read, bytes_written, faults;
	enum vtdm_fault_reason last_fault;
	uint64_t last_hpa;
	uint64_t bad_pages;	/* accesses to freed / table / IOMMU pages; atomic */
	uint64_t first_bad;	/* HPA of the first one */
	/* ATS + PRI mode (see above) */
	bool pri;
	unsigned int pri_group_pages;	/* pages requested per group, >= 1 */
	unsigned int pri_timeout_ms;	/* wait for a response at most this */
	unsigned int pri_max_retries;	/* Success responses per page, at most */
	uint64_t page_requests;		/* page request messages sent */
	uint64_t pri_groups;		/* groups sent (one PRGI each) */
	uint64_t pri_responses;		/* responses to outstanding groups */
	uint64_t pri_failures;		/* of those, not Success */
	uint64_t pri_retries;		/* translations asked again after Success */
	uint64_t pri_unexpected;	/* responses to groups not outstanding */
	uint64_t pri_timeouts;		/* groups given up without a response */
	uint64_t pri_gave_up;		/* pages given up after pri_max_retries */
	uint8_t last_pri_code;		/* code of the last failed response */
	/*
	 * Test hook: called after a Success response, before the device asks
	 * for the translation of @iova again (to race an invalidation).
	 */
	void (*pri_before_retry)(struct dma_dev *d, unsigned long long iova, void *arg);
	void *pri_before_retry_arg;
	pthread_mutex_t pri_lock;	/* protects pri_next, pri_state, pri_code */
	pthread_cond_t pri_cond;	/* a response arrived */
	uint16_t pri_next;		/* next PRGI to try */
	uint8_t pri_state[DMA_PRI_GROUPS];
	uint8_t pri_code[DMA_PRI_GROUPS];
};

void dma_dev_init(struct dma_dev *d, struct vtd *iommu, uint16_t sid);
/*
 * 0, or -EFAULT when the IOMMU refused a page (fault recorded there; in
 * PRI mode: or the page group response was not Success); in PRI mode also
 * -ETIMEDOUT without a response.
 */
int dma_read(struct dma_dev *d, uint64_t iova, void *buf, size_t len);
int dma_write(struct dma_dev *d, uint64_t iova, const void *buf, size_t len);
/* RAM -> device buffer -> RAM, as edu does with two commands. */
int dma_copy(struct dma_dev *d, uint64_t src, uint64_t dst, size_t len);

/**
 * dma_dev_enable_pri() - switch the device to ATS and PRI
 * @d: the device (dma_dev_init() done, no transfer running)
 * @group_pages: pages per page request group, at least 1
 *
 * Registers the device with its IOMMU for page group responses to its
 * SID.  The unit must report ECAP.DT and ECAP.PRS and the device's
 * context entry must enable both (DTE, PRE), or transfers fail.
 *
 * Return: 0, -EINVAL for @group_pages 0, or vtd_endpoint_register()'s
 * error.
 */
int dma_dev_enable_pri(struct dma_dev *d, unsigned int group_pages);

/**
 * dma_dev_disable_pri() - back to untranslated requests
 * @d: a device in PRI mode, no transfer running
 *
 * Unregisters from the IOMMU; responses that arrive later are dropped by
 * the IOMMU.  Call it before the IOMMU model is destroyed.
 */
void dma_dev_disable_pri(struct dma_dev *d);

#endif /* __KT_DMA_H */
