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
 */
#ifndef __KT_DMA_H
#define __KT_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "vtd.h"

#define DMA_DEV_BUF	4096

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
};

void dma_dev_init(struct dma_dev *d, struct vtd *iommu, uint16_t sid);
/* 0, or -EFAULT when the IOMMU refused a page (fault recorded there). */
int dma_read(struct dma_dev *d, uint64_t iova, void *buf, size_t len);
int dma_write(struct dma_dev *d, uint64_t iova, const void *buf, size_t len);
/* RAM -> device buffer -> RAM, as edu does with two commands. */
int dma_copy(struct dma_dev *d, uint64_t src, uint64_t dst, size_t len);

#endif /* __KT_DMA_H */
