// SPDX-License-Identifier: GPL-2.0
/* Emulated DMA device: see dma.h. */
#include <errno.h>
#include <string.h>

#include "dma.h"

void dma_dev_init(struct dma_dev *d, struct vtd *iommu, uint16_t sid)
{
	memset(d, 0, sizeof(*d));
	d->iommu = iommu;
	d->sid = sid;
	d->pasid = VTDM_NO_PASID;
}

/* Copy as a device does: no torn 8-byte words, no C-level data race. */
static void dev_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	while (n && ((uintptr_t)dst | (uintptr_t)src) & 7) {
		__atomic_store_n(dst++, __atomic_load_n(src++, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
		n--;
	}
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		__atomic_store_n((uint64_t *)dst,
				 __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	while (n--)
		__atomic_store_n(dst++, __atomic_load_n(src++, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

static int dma_access(struct dma_dev *d, uint64_t iova, uint8_t *buf,
		      size_t len, bool write)
{
	struct phys *pm = d->iommu->pm;

	while (len) {
		size_t chunk = 4096 - (iova & 4095);
		enum vtdm_fault_reason r;
		enum phys_kind kind;
		unsigned long long hpa;

		if (chunk > len)
			chunk = len;
		vtd_dma_begin(d->iommu);
		r = vtd_translate(d->iommu, d->sid, d->pasid, iova, write, &hpa, NULL);
		if (r) {
			vtd_dma_end(d->iommu);
			d->faults++;
			d->last_fault = r;
			return -EFAULT;
		}
		d->last_hpa = hpa & ~4095ULL;
		kind = phys_page_kind(pm, hpa);
		if (kind != PHYS_GUEST && kind != PHYS_OTHER) {
			/* atomic: a test may watch it while the device runs */
			if (!__atomic_fetch_add(&d->bad_pages, 1, __ATOMIC_RELAXED))
				d->first_bad = hpa;
		} else if (write) {
			dev_copy(phys_va(pm, hpa), buf, chunk);
		} else {
			dev_copy(buf, phys_va(pm, hpa), chunk);
		}
		vtd_dma_end(d->iommu);
		if (write)
			d->bytes_written += chunk;
		else
			d->bytes_read += chunk;
		iova += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int dma_read(struct dma_dev *d, uint64_t iova, void *buf, size_t len)
{
	return dma_access(d, iova, buf, len, false);
}

int dma_write(struct dma_dev *d, uint64_t iova, const void *buf, size_t len)
{
	return dma_access(d, iova, (uint8_t *)buf, len, true);
}

int dma_copy(struct dma_dev *d, uint64_t src, uint64_t dst, size_t len)
{
	int ret;

	if (len > DMA_DEV_BUF)
		return -EINVAL;
	ret = dma_read(d, src, d->buf, len);
	if (ret)
		return ret;
	return dma_write(d, dst, d->buf, len);
}
