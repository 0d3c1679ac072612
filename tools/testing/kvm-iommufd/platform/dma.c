// SPDX-License-Identifier: GPL-2.0
/* Emulated DMA device: see dma.h. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "dma.h"

enum { PRG_FREE, PRG_OUTSTANDING, PRG_ANSWERED };

void dma_dev_init(struct dma_dev *d, struct vtd *iommu, uint16_t sid)
{
	memset(d, 0, sizeof(*d));
	d->iommu = iommu;
	d->sid = sid;
	d->pasid = VTDM_NO_PASID;
}

static void pri_count(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* The IOMMU delivers a page group response (its lock held: see vtd.h). */
static void pri_response(void *priv, const struct vtdm_prg_resp *resp)
{
	struct dma_dev *d = priv;

	pthread_mutex_lock(&d->pri_lock);
	if (resp->prgi >= DMA_PRI_GROUPS ||
	    d->pri_state[resp->prgi] != PRG_OUTSTANDING) {
		pri_count(&d->pri_unexpected);
	} else {
		d->pri_state[resp->prgi] = PRG_ANSWERED;
		d->pri_code[resp->prgi] = resp->code;
		pri_count(&d->pri_responses);
		pthread_cond_broadcast(&d->pri_cond);
	}
	pthread_mutex_unlock(&d->pri_lock);
}

int dma_dev_enable_pri(struct dma_dev *d, unsigned int group_pages)
{
	pthread_condattr_t attr;
	int ret;

	if (!group_pages)
		return -EINVAL;
	pthread_mutex_init(&d->pri_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->pri_cond, &attr);
	pthread_condattr_destroy(&attr);
	memset(d->pri_state, PRG_FREE, sizeof(d->pri_state));
	d->pri_next = 0;
	d->pri_group_pages = group_pages;
	if (!d->pri_timeout_ms)
		d->pri_timeout_ms = DMA_PRI_TIMEOUT_MS;
	if (!d->pri_max_retries)
		d->pri_max_retries = DMA_PRI_MAX_RETRIES;
	ret = vtd_endpoint_register(d->iommu, d->sid, pri_response, d);
	if (ret) {
		pthread_cond_destroy(&d->pri_cond);
		pthread_mutex_destroy(&d->pri_lock);
		return ret;
	}
	d->pri = true;
	return 0;
}

void dma_dev_disable_pri(struct dma_dev *d)
{
	if (!d->pri)
		return;
	vtd_endpoint_unregister(d->iommu, d->sid);
	d->pri = false;
	pthread_cond_destroy(&d->pri_cond);
	pthread_mutex_destroy(&d->pri_lock);
}

/*
 * Ask for the pages of the transfer from @iova (@len bytes left) in one
 * group and wait for its response: 0 on Success, -EFAULT on another code,
 * -ETIMEDOUT without a response.
 */
static int pri_request(struct dma_dev *d, uint64_t iova, size_t len, bool write)
{
	uint64_t page = iova & ~4095ULL, last = (iova + len - 1) & ~4095ULL;
	unsigned int n = (last - page) / 4096 + 1, i;
	struct timespec deadline;
	uint16_t prgi = 0;
	uint8_t code;
	bool found = false;

	if (n > d->pri_group_pages)
		n = d->pri_group_pages;
	pthread_mutex_lock(&d->pri_lock);
	for (i = 0; i < DMA_PRI_GROUPS && !found; i++) {
		prgi = (d->pri_next + i) % DMA_PRI_GROUPS;
		found = d->pri_state[prgi] == PRG_FREE;
	}
	if (found) {
		d->pri_state[prgi] = PRG_OUTSTANDING;
		d->pri_next = (prgi + 1) % DMA_PRI_GROUPS;
	}
	pthread_mutex_unlock(&d->pri_lock);
	if (!found)
		return -EBUSY;

	pri_count(&d->pri_groups);
	for (i = 0; i < n; i++) {
		struct vtdm_page_req req = {
			.sid = d->sid,
			.pasid = d->pasid,
			.addr = page + (uint64_t)i * 4096,
			.read = !write,
			.write = write,
			.lpig = i == n - 1,
			.prgi = prgi,
		};

		pri_count(&d->page_requests);
		vtd_page_request(d->iommu, &req);
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += d->pri_timeout_ms / 1000;
	deadline.tv_nsec += (long)(d->pri_timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&d->pri_lock);
	while (d->pri_state[prgi] == PRG_OUTSTANDING) {
		if (pthread_cond_timedwait(&d->pri_cond, &d->pri_lock, &deadline) == ETIMEDOUT &&
		    d->pri_state[prgi] == PRG_OUTSTANDING) {
			d->pri_state[prgi] = PRG_FREE;	/* a late response is unexpected */
			pthread_mutex_unlock(&d->pri_lock);
			pri_count(&d->pri_timeouts);
			return -ETIMEDOUT;
		}
	}
	code = d->pri_code[prgi];
	d->pri_state[prgi] = PRG_FREE;
	pthread_mutex_unlock(&d->pri_lock);
	if (code == VTDM_RESP_SUCCESS)
		return 0;
	pri_count(&d->pri_failures);
	d->last_pri_code = code;
	return -EFAULT;
}

/*
 * Translate one page for an access: with PRI, a translation request and
 * page requests until it is granted.  Returns with the drain held (see
 * vtd_dma_begin()) on success.
 */
static int dma_translate(struct dma_dev *d, uint64_t iova, size_t len, bool write,
			 unsigned long long *hpa)
{
	struct vtdm_ats_completion c;
	unsigned int attempts = 0;
	enum vtdm_fault_reason r;
	int ret;

	if (!d->pri) {
		vtd_dma_begin(d->iommu);
		r = vtd_translate(d->iommu, d->sid, d->pasid, iova, write, hpa, NULL);
		if (!r)
			return 0;
		vtd_dma_end(d->iommu);
		d->faults++;
		d->last_fault = r;
		return -EFAULT;
	}
	for (;;) {
		vtd_dma_begin(d->iommu);
		r = vtd_translate_ats(d->iommu, d->sid, d->pasid, iova, !write, &c);
		if (!r && (write ? c.w : c.r)) {
			*hpa = c.hpa;
			return 0;
		}
		/* no device-TLB: nothing to keep, nothing to invalidate later */
		vtd_dma_end(d->iommu);
		if (r) {
			d->faults++;
			d->last_fault = r;
			return -EFAULT;
		}
		if (attempts == d->pri_max_retries) {
			pri_count(&d->pri_gave_up);
			return -EFAULT;
		}
		if (attempts)
			sched_yield();	/* the last Success did not make it translate */
		ret = pri_request(d, iova, len, write);
		if (ret)
			return ret;
		attempts++;
		pri_count(&d->pri_retries);
		if (d->pri_before_retry)
			d->pri_before_retry(d, iova, d->pri_before_retry_arg);
	}
}

static int dma_access(struct dma_dev *d, uint64_t iova, uint8_t *buf,
		      size_t len, bool write)
{
	struct phys *pm = d->iommu->pm;

	while (len) {
		size_t chunk = 4096 - (iova & 4095);
		enum phys_kind kind;
		unsigned long long hpa;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = dma_translate(d, iova, len, write, &hpa);
		if (ret)
			return ret;
		d->last_hpa = hpa & ~4095ULL;
		kind = phys_page_kind(pm, hpa);
		if (kind != PHYS_GUEST && kind != PHYS_OTHER) {
			/* atomic: a test may watch it while the device runs */
			if (!__atomic_fetch_add(&d->bad_pages, 1, __ATOMIC_RELAXED))
				d->first_bad = hpa;
		} else if (write) {
			phys_copy(phys_va(pm, hpa), buf, chunk);
		} else {
			phys_copy(buf, phys_va(pm, hpa), chunk);
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
