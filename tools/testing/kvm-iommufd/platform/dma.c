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

static int dma_access(struct dma_dev *d, uint64_t iova, uint8_t *buf,
		      size_t len, bool write)
{
	while (len) {
		size_t chunk = 4096 - (iova & 4095);
		enum vtdm_fault_reason r;
		unsigned long long hpa;

		if (chunk > len)
			chunk = len;
		r = vtd_translate(d->iommu, d->sid, d->pasid, iova, write, &hpa, NULL);
		if (r) {
			d->faults++;
			d->last_fault = r;
			return -EFAULT;
		}
		if (write) {
			memcpy(phys_va(d->iommu->pm, hpa), buf, chunk);
			d->bytes_written += chunk;
		} else {
			memcpy(buf, phys_va(d->iommu->pm, hpa), chunk);
			d->bytes_read += chunk;
		}
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
