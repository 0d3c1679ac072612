// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for the IOMMU core's paging API (drivers/iommu/iommu.c):
 * iommu_paging_domain_alloc(), iommu_map(), iommu_unmap(),
 * iommu_unmap_fast() and iommu_iova_to_phys() over a domain's ops, with
 * the core's contract: a range is cut into the largest pages of
 * domain->pgsize_bitmap that both the IOVA and the physical address are
 * aligned to, a failed map leaves nothing mapped, and iommu_unmap()
 * flushes (->iotlb_sync()) before it returns.
 */
#include "../kvm_iommu_internal.h"

/* Smallest page size of @domain (its IOVA granule). */
static unsigned long min_pgsize(const struct iommu_domain *domain)
{
	return domain->pgsize_bitmap & -domain->pgsize_bitmap;
}

/*
 * The page size to map @size bytes at @iova -> @paddr with, and in
 * @count how many such pages to map before a larger page size could take
 * over (the addresses reach its alignment) or the range ends.
 */
static size_t pick_pgsize(const struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t size, size_t *count)
{
	unsigned long sizes = domain->pgsize_bitmap, align = iova | paddr;
	size_t pgsize = 0, bigger = 0, n;
	unsigned int b;

	for (b = 0; b < 8 * sizeof(long); b++) {
		size_t ps = 1UL << b;

		if (!(sizes & ps))
			continue;
		if (ps <= size && !(align & (ps - 1))) {
			pgsize = ps;
			continue;
		}
		if (pgsize)
			bigger = ps;
		break;
	}
	if (WARN_ON(!pgsize)) {		/* callers checked the alignment */
		*count = 0;
		return 0;
	}
	n = size / pgsize;
	/*
	 * Stop at the next boundary of a bigger size when both addresses can
	 * reach it together and the rest of the range still holds one.
	 */
	if (bigger && !((iova ^ paddr) & (bigger - 1))) {
		size_t to_boundary = bigger - (iova & (bigger - 1));

		if (to_boundary < size && size - to_boundary >= bigger)
			n = to_boundary / pgsize;
	}
	*count = n;
	return pgsize;
}

/**
 * iommu_paging_domain_alloc() - a paging (UNMANAGED) domain for @dev
 * @dev: a device behind an IOMMU
 *
 * Return: the domain, with type IOMMU_DOMAIN_UNMANAGED, or an ERR_PTR():
 * -EOPNOTSUPP when the driver has no paging domains, or the driver's error.
 */
struct iommu_domain *iommu_paging_domain_alloc(struct device *dev)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	struct iommu_domain *domain;

	if (!ops || !ops->domain_alloc_paging)
		return ERR_PTR(-EOPNOTSUPP);
	domain = ops->domain_alloc_paging(dev);
	if (IS_ERR(domain))
		return domain;
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->type = IOMMU_DOMAIN_UNMANAGED;
	return domain;
}

/**
 * iommu_unmap_fast() - unmap a range without flushing
 * @domain: a paging domain
 * @iova: start of the range, aligned to the domain's smallest page
 * @size: length, aligned likewise
 * @iotlb_gather: collects what the caller must flush (iommu_iotlb_sync())
 *
 * Return: bytes unmapped; stops early at an IOVA that is not mapped, and 0
 * for a misaligned range or a domain without ->unmap_pages().
 */
size_t iommu_unmap_fast(struct iommu_domain *domain, unsigned long iova,
			size_t size, struct iommu_iotlb_gather *iotlb_gather)
{
	const struct iommu_domain_ops *ops = domain->ops;
	size_t done = 0;

	if (!(domain->type & __IOMMU_DOMAIN_PAGING))
		return 0;
	if (WARN_ON(!ops->unmap_pages || !domain->pgsize_bitmap))
		return 0;
	if ((iova | size) & (min_pgsize(domain) - 1))
		return 0;
	while (done < size) {
		size_t pgsize, count, n;

		pgsize = pick_pgsize(domain, iova + done, iova + done, size - done,
				     &count);
		if (!pgsize)
			break;
		n = ops->unmap_pages(domain, iova + done, pgsize, count, iotlb_gather);
		if (!n)
			break;
		done += n;
	}
	return done;
}

/**
 * iommu_unmap() - unmap a range and flush the IOTLB for it
 * @domain: a paging domain
 * @iova: start of the range, aligned to the domain's smallest page
 * @size: length, aligned likewise
 *
 * Return: bytes unmapped, as iommu_unmap_fast().
 */
size_t iommu_unmap(struct iommu_domain *domain, unsigned long iova, size_t size)
{
	struct iommu_iotlb_gather gather;
	size_t done;

	iommu_iotlb_gather_init(&gather);
	done = iommu_unmap_fast(domain, iova, size, &gather);
	iommu_iotlb_sync(domain, &gather);
	return done;
}

/**
 * iommu_map() - map a physically contiguous range
 * @domain: a paging domain
 * @iova: where to map it
 * @paddr: physical start
 * @size: length
 * @prot: IOMMU_READ / IOMMU_WRITE
 * @gfp: allocation flags for the driver's tables
 *
 * @iova, @paddr and @size must be aligned to the domain's smallest page;
 * each piece is mapped with the largest page both addresses allow.
 *
 * Return: 0, or -EINVAL (not a paging domain, misaligned), -ENODEV (no
 * ->map_pages()) or the driver's error; on error nothing of the range is
 * left mapped.
 */
int iommu_map(struct iommu_domain *domain, unsigned long iova,
	      phys_addr_t paddr, size_t size, int prot, gfp_t gfp)
{
	const struct iommu_domain_ops *ops = domain->ops;
	size_t done = 0;
	int ret = 0;

	if (!(domain->type & __IOMMU_DOMAIN_PAGING))
		return -EINVAL;
	if (WARN_ON(!ops->map_pages || !domain->pgsize_bitmap))
		return -ENODEV;
	if ((iova | paddr | size) & (min_pgsize(domain) - 1))
		return -EINVAL;
	while (done < size) {
		size_t pgsize, count, mapped = 0;

		pgsize = pick_pgsize(domain, iova + done, paddr + done, size - done,
				     &count);
		if (!pgsize) {
			ret = -EINVAL;
			break;
		}
		ret = ops->map_pages(domain, iova + done, paddr + done, pgsize,
				     count, prot, gfp, &mapped);
		done += mapped;
		if (ret)
			break;
	}
	if (!ret && ops->iotlb_sync_map)
		ret = ops->iotlb_sync_map(domain, iova, size);
	if (ret && done)
		iommu_unmap(domain, iova, done);
	return ret;
}

/**
 * iommu_iova_to_phys() - where @domain translates @iova
 * @domain: a paging domain
 * @iova: the address
 *
 * Return: the physical address, or 0 when @iova is not mapped.
 */
phys_addr_t iommu_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova)
{
	if (!(domain->type & __IOMMU_DOMAIN_PAGING) || !domain->ops->iova_to_phys)
		return 0;
	return domain->ops->iova_to_phys(domain, iova);
}

/*
 * iommu_get_resv_regions(): what the intel driver reports for a device
 * (intel_iommu_get_resv_regions()): the interrupt range as IOMMU_RESV_MSI,
 * and no RMRR on the emulated platform.  Drivers do not report a failed
 * allocation here, so the regions come from calloc(), outside the
 * failure-injecting allocator.
 */
void iommu_get_resv_regions(struct device *dev, struct list_head *list)
{
	struct iommu_resv_region *r;

	if (!dev->iommu)
		return;
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->start = 0xfee00000;
	r->length = 0x100000;
	r->prot = IOMMU_WRITE;
	r->type = IOMMU_RESV_MSI;
	list_add_tail(&r->list, list);
}

void iommu_put_resv_regions(struct device *dev, struct list_head *list)
{
	struct iommu_resv_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, list, list)
		free(r);
}
