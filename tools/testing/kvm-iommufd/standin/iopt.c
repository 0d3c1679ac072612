// SPDX-License-Identifier: GPL-2.0
/*
 * Host stand-in for iommufd's io_pagetable: see iopt.h.
 *
 * Behaviour follows Linux 6.12: a map with no domain attached only
 * reserves its IOVA (nothing is pinned until a domain is added); a map
 * with domains pins the pages once (FOLL_LONGTERM, FOLL_WRITE for a
 * writable map), maps them into every domain, then charges them; an unmap
 * takes whole areas only, unmaps them from every domain (each unmap
 * flushes that domain's IOTLB) before it unpins and uncharges; adding a
 * domain pins and maps every area, or changes nothing; removing the last
 * domain unpins everything.  Physically contiguous pinned pages are mapped
 * with one iommu_map() call, so the core picks 2 MiB (or 1 GiB) leaves
 * where the IOVA and the pages allow, as upstream's PFN batches do.
 *
 * Errnos, with the upstream function that returns each:
 *
 *   iopt_map_user_pages()
 *     -EINVAL    length 0 or above SIZE_MAX - PAGE_SIZE   iopt_alloc_pages()
 *     -EOVERFLOW uptr + length wraps                      iopt_alloc_pages()
 *     -EINVAL    length not a multiple of iova_alignment  iopt_alloc_area_pages()
 *     -EINVAL    iova not aligned to iova_alignment       iopt_check_iova()
 *     -EOVERFLOW iova + length - 1 wraps                  iopt_check_iova()
 *     -EINVAL    range outside a domain's aperture
 *                (a reserved IOVA range)                  iopt_check_iova()
 *     -EEXIST    range overlaps an existing area          iopt_check_iova()
 *     -EINVAL    uptr's page offset not aligned to
 *                iova_alignment                           iopt_insert_area()
 *     -EOVERFLOW, -EINVAL, -ENOSPC (IOPT_ALLOC_IOVA)      iopt_alloc_iova()
 *     -EFAULT    the user range cannot be pinned          pfn_reader_user_pin()
 *     -ENOMEM    over RLIMIT_MEMLOCK (USER mode)          incr_user_locked_vm()
 *     -ENOMEM    over RLIMIT_MEMLOCK (MM mode)            __account_locked_vm()
 *     -ENOMEM    allocation failure; a domain's error     (kzalloc, iommu_map())
 *   iopt_unmap_iova()
 *     -EINVAL    length 0                                 iopt_unmap_iova()
 *     -EOVERFLOW iova + length - 1 wraps                  iopt_unmap_iova()
 *     -ENOENT    the range cuts an area (areas before it
 *                in the range are unmapped, *unmapped
 *                says how much)                           iopt_unmap_iova_range()
 *     -EBUSY     an area in the range is being mapped or
 *                unmapped concurrently                    iopt_unmap_iova_range()
 *     0          nothing mapped in the range: *unmapped
 *                is 0 (IOMMU_IOAS_UNMAP turns that into
 *                -ENOENT in iommufd_ioas_unmap())          iopt_unmap_iova_range()
 *   iopt_table_add_domain()
 *     -EEXIST    the domain is already added (WARN)        iopt_table_add_domain()
 *     -EINVAL    smallest page of the domain > PAGE_SIZE   iopt_table_add_domain()
 *     -EADDRINUSE an area is not aligned to the new
 *                iova_alignment                           iopt_check_iova_alignment()
 *     -EADDRINUSE an area lies outside the aperture        iopt_reserve_iova()
 *     -EFAULT, -ENOMEM as for a map, while pinning, mapping and charging
 *
 *   iopt_pin_pages() (iommufd_access_pin_pages() on the table, factored
 *   out of it by the series)
 *     -EINVAL    length 0, or an area boundary inside a page
 *     -EOVERFLOW iova + length - 1 wraps
 *     -ENOENT    part of the range is not mapped
 *     -EPERM     IOMMUFD_ACCESS_RW_WRITE on a read-only area
 *     -EFAULT, -ENOMEM as for a map
 *
 * A page is pinned once per iopt_pages, however many domains and in-kernel
 * accesses hold it, and charged once (upstream: the pinned_pfns xarray and
 * the storage domain); an unmap of an area that accesses still hold fails
 * with a WARN and -EDEADLOCK, as upstream does once no access responds.
 *
 * The stand-in's own structure, not visible through the API: each area
 * has its own iopt_pages (no iopt_get_pages() sharing), the pinned pages
 * are kept in a page array with a count of accesses per page (upstream
 * reads them back from a storage domain or the xarray, and keeps access
 * ranges in an interval tree), areas are a sorted list and domains a list
 * (interval trees and an xarray upstream), and the only reserved IOVA is
 * outside the domains' apertures.
 */
#include "iopt.h"
#include "../platform/kvm_mmu.h"

/* Pages per pin_user_pages_fast() call, as upstream's temporary page list. */
#define IOPT_PIN_BATCH	8192UL
/* HPAGE_SIZE: the largest alignment IOPT_ALLOC_IOVA looks for */
#define IOPT_HPAGE_SIZE	SZ_2M

/*
 * The pinned user pages behind one area.  @mutex protects the pin state:
 * @upages (per page: the pinned page, or NULL; NULL while nothing is
 * pinned), @access_users (per page: in-kernel accesses holding it; NULL
 * before the first access), @domain_pins (the area is loaded into the
 * domains: every page is held), @npinned and @last_npinned (what is
 * charged).  A page is pinned once, whoever holds it, and pinned exactly
 * while some holder needs it.  Everything else is set at allocation.
 */
struct iopt_pages {
	struct mutex mutex;
	void __user *uptr;		/* page aligned */
	size_t npages;
	bool writable;
	u8 account_mode;
	struct mm_struct *source_mm;
	struct user_struct *source_user;
	struct page **upages;
	unsigned int *access_users;
	bool domain_pins;
	size_t npinned;
	size_t last_npinned;
};

/*
 * [@iova, @last_iova] mapped from byte @page_offset of @pages.  @pages is
 * NULL while the area is being set up or torn down (see io_pagetable).
 */
struct iopt_area {
	struct list_head node;
	struct iopt_pages *pages;
	unsigned long iova;
	unsigned long last_iova;
	unsigned int page_offset;
	int iommu_prot;
	unsigned int num_accesses;	/* under iova_rwsem and pages->mutex */
};

struct iopt_domain {
	struct list_head node;
	struct iommu_domain *domain;
};

static unsigned long iopt_area_length(const struct iopt_area *area)
{
	return area->last_iova - area->iova + 1;
}

static u64 page_phys(const struct page *page)
{
	return page->hpa;
}

static unsigned long domain_min_pgsize(const struct iommu_domain *domain)
{
	return domain->pgsize_bitmap & -domain->pgsize_bitmap;
}

/* ---- iopt_pages: allocation, pinning, charging ---- */

static struct iopt_pages *iopt_alloc_pages(void __user *uptr, unsigned long length,
					   bool writable)
{
	unsigned long start = (unsigned long)uptr, end;
	struct iopt_pages *pages;

	if (length > SIZE_MAX - PAGE_SIZE || length == 0)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(start, length, &end))
		return ERR_PTR(-EOVERFLOW);
	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	mutex_init(&pages->mutex);
	pages->uptr = (void __user *)ALIGN_DOWN(start, PAGE_SIZE);
	pages->npages = DIV_ROUND_UP(length + start % PAGE_SIZE, PAGE_SIZE);
	pages->writable = writable;
	pages->account_mode = capable(CAP_IPC_LOCK) ? IOPT_PAGES_ACCOUNT_NONE :
						      IOPT_PAGES_ACCOUNT_USER;
	pages->source_mm = current->mm;
	mmgrab(pages->source_mm);
	pages->source_user = current_user();
	return pages;
}

static void iopt_put_pages(struct iopt_pages *pages)
{
	WARN_ON(pages->upages || pages->npinned || pages->last_npinned);
	kvfree(pages->access_users);
	mmdrop(pages->source_mm);
	mutex_destroy(&pages->mutex);
	kfree(pages);
}

static int incr_user_locked_vm(struct iopt_pages *pages, unsigned long npages)
{
	long limit = READ_ONCE(pages->source_mm->memlock_limit);
	long *locked = &pages->source_user->locked_vm;
	long cur = __atomic_load_n(locked, __ATOMIC_RELAXED);

	do {
		if (cur > limit || npages > (unsigned long)(limit - cur))
			return -ENOMEM;
	} while (!__atomic_compare_exchange_n(locked, &cur, cur + (long)npages, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	return 0;
}

static void decr_user_locked_vm(struct iopt_pages *pages, unsigned long npages)
{
	long *locked = &pages->source_user->locked_vm;

	if (WARN_ON(__atomic_load_n(locked, __ATOMIC_RELAXED) < (long)npages))
		return;
	__atomic_sub_fetch(locked, (long)npages, __ATOMIC_SEQ_CST);
}

/* Charge or uncharge @npages as @pages->account_mode says; pinned_vm always. */
static int do_update_pinned(struct iopt_pages *pages, unsigned long npages, bool inc)
{
	int rc = 0;

	switch (pages->account_mode) {
	case IOPT_PAGES_ACCOUNT_NONE:
		break;
	case IOPT_PAGES_ACCOUNT_USER:
		if (inc)
			rc = incr_user_locked_vm(pages, npages);
		else
			decr_user_locked_vm(pages, npages);
		break;
	case IOPT_PAGES_ACCOUNT_MM:
		rc = __account_locked_vm(pages->source_mm, npages, inc, current, false);
		break;
	}
	if (rc)
		return rc;
	pages->last_npinned = pages->npinned;
	if (inc)
		__atomic_add_fetch(&pages->source_mm->pinned_vm, (long)npages,
				   __ATOMIC_SEQ_CST);
	else
		__atomic_sub_fetch(&pages->source_mm->pinned_vm, (long)npages,
				   __ATOMIC_SEQ_CST);
	return 0;
}

/*
 * Bring the charge to @pages->npinned: charge what was pinned since the
 * last charge (nothing on failure), uncharge what was unpinned.
 */
static int iopt_pages_update_pinned(struct iopt_pages *pages)
{
	lockdep_assert_held(&pages->mutex);
	if (pages->npinned > pages->last_npinned)
		return do_update_pinned(pages, pages->npinned - pages->last_npinned, true);
	if (pages->npinned < pages->last_npinned)
		do_update_pinned(pages, pages->last_npinned - pages->npinned, false);
	return 0;
}

static bool iopt_page_needed(const struct iopt_pages *pages, size_t i)
{
	return pages->domain_pins || (pages->access_users && pages->access_users[i]);
}

/*
 * Unpin the pages of [@first, @last] no holder needs any more (no charge
 * change: the caller updates it).
 */
static void iopt_pages_unpin_unneeded(struct iopt_pages *pages, size_t first,
				      size_t last)
{
	size_t i, j;

	lockdep_assert_held(&pages->mutex);
	if (!pages->upages)
		return;
	for (i = first; i <= last; i = j) {
		for (j = i; j <= last && pages->upages[j] &&
		     !iopt_page_needed(pages, j); j++)
			;
		if (j > i) {
			unpin_user_pages(pages->upages + i, j - i);
			memset(pages->upages + i, 0, (j - i) * sizeof(*pages->upages));
			pages->npinned -= j - i;
		} else {
			j = i + 1;
		}
	}
	if (!pages->npinned) {
		kvfree(pages->upages);
		pages->upages = NULL;
	}
}

/*
 * Pin every page of [@first, @last] not pinned yet, a run of missing pages
 * per pin_user_pages_fast() batch.  On failure the caller, which has not
 * changed what its holder needs yet, unpins what no holder needs.
 */
static int iopt_pages_pin(struct iopt_pages *pages, size_t first, size_t last)
{
	unsigned int gup_flags = FOLL_LONGTERM | (pages->writable ? FOLL_WRITE : 0);
	size_t i = first, n;
	long rc;

	lockdep_assert_held(&pages->mutex);
	if (!pages->upages) {
		pages->upages = kvcalloc(pages->npages, sizeof(*pages->upages),
					 GFP_KERNEL_ACCOUNT);
		if (!pages->upages)
			return -ENOMEM;
	}
	while (i <= last) {
		if (pages->upages[i]) {
			i++;
			continue;
		}
		for (n = 1; i + n <= last && !pages->upages[i + n] &&
		     n < IOPT_PIN_BATCH; n++)
			;
		rc = pin_user_pages_fast((unsigned long)pages->uptr + i * PAGE_SIZE,
					 (int)n, gup_flags, pages->upages + i);
		if (rc <= 0) {
			if (WARN_ON(!rc))
				rc = -EFAULT;
			return (int)rc;
		}
		pages->npinned += rc;
		i += rc;
	}
	return 0;
}

/* The area is loaded into the domains from now on: pin all of it. */
static int iopt_pages_pin_for_domains(struct iopt_pages *pages)
{
	int rc;

	pages->domain_pins = true;
	rc = iopt_pages_pin(pages, 0, pages->npages - 1);
	if (rc) {
		pages->domain_pins = false;
		iopt_pages_unpin_unneeded(pages, 0, pages->npages - 1);
	}
	return rc;
}

/*
 * The area is in no domain any more: unpin and uncharge what no access
 * holds.  Every domain must be unmapped.
 */
static void iopt_pages_unpin_for_domains(struct iopt_pages *pages)
{
	lockdep_assert_held(&pages->mutex);
	pages->domain_pins = false;
	iopt_pages_unpin_unneeded(pages, 0, pages->npages - 1);
	iopt_pages_update_pinned(pages);
}

/* ---- loading areas into domains ---- */

static void iommu_unmap_nofail(struct iommu_domain *domain, unsigned long iova,
			       size_t size)
{
	/* a driver may not fail an unmap of what was mapped */
	WARN_ON(iommu_unmap(domain, iova, size) != size);
}

/*
 * Map @area's pinned pages into @domain, one iommu_map() per physically
 * contiguous run.  On failure nothing of the area is left in @domain.
 */
static int iopt_area_map_domain(struct iopt_area *area, struct iopt_pages *pages,
				struct iommu_domain *domain)
{
	unsigned long len = iopt_area_length(area), off = area->page_offset;
	unsigned long start, end;
	size_t i = 0, j;
	int rc;

	lockdep_assert_held(&pages->mutex);
	while (i < pages->npages) {
		for (j = i + 1; j < pages->npages; j++)
			if (page_phys(pages->upages[j]) !=
			    page_phys(pages->upages[j - 1]) + PAGE_SIZE)
				break;
		/* bytes of the area that pages [i, j) hold */
		start = i ? i * PAGE_SIZE - off : 0;
		end = min_t(unsigned long, len, j * PAGE_SIZE - off);
		rc = iommu_map(domain, area->iova + start,
			       page_phys(pages->upages[i]) + (i ? 0 : off),
			       end - start, area->iommu_prot, GFP_KERNEL_ACCOUNT);
		if (rc) {
			if (start)
				iommu_unmap_nofail(domain, area->iova, start);
			return rc;
		}
		i = j;
	}
	return 0;
}

/*
 * Load a new area into every domain (map path, under domains_rwsem):
 * pin, map into each domain, charge.  On failure every domain is left
 * unchanged and nothing is pinned or charged.
 */
static int iopt_area_fill_domains(struct io_pagetable *iopt, struct iopt_area *area,
				  struct iopt_pages *pages)
{
	struct iopt_domain *d, *failed = NULL;
	int rc;

	lockdep_assert_held(&iopt->domains_rwsem);
	if (list_empty(&iopt->domains))
		return 0;
	mutex_lock(&pages->mutex);
	rc = iopt_pages_pin_for_domains(pages);
	if (rc)
		goto out_unlock;
	list_for_each_entry(d, &iopt->domains, node) {
		rc = iopt_area_map_domain(area, pages, d->domain);
		if (rc) {
			failed = d;
			goto err_unmap;
		}
	}
	rc = iopt_pages_update_pinned(pages);
	if (!rc)
		goto out_unlock;
err_unmap:
	list_for_each_entry(d, &iopt->domains, node) {
		if (d == failed)
			break;
		iommu_unmap_nofail(d->domain, area->iova, iopt_area_length(area));
	}
	iopt_pages_unpin_for_domains(pages);
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/* Unload an area from every domain, then unpin and uncharge its pages. */
static void iopt_area_unfill_domains(struct io_pagetable *iopt, struct iopt_area *area,
				     struct iopt_pages *pages)
{
	struct iopt_domain *d;

	lockdep_assert_held(&iopt->domains_rwsem);
	mutex_lock(&pages->mutex);
	if (pages->domain_pins) {
		list_for_each_entry(d, &iopt->domains, node)
			iommu_unmap_nofail(d->domain, area->iova, iopt_area_length(area));
		iopt_pages_unpin_for_domains(pages);
	}
	mutex_unlock(&pages->mutex);
}

/*
 * Load one area into a domain being added; the first domain of the table
 * pins and charges.  On failure the domain and the pages are unchanged.
 */
static int iopt_area_fill_domain(struct iopt_area *area, struct iommu_domain *domain,
				 bool first)
{
	struct iopt_pages *pages = area->pages;
	int rc;

	mutex_lock(&pages->mutex);
	if (first) {
		rc = iopt_pages_pin_for_domains(pages);
		if (rc)
			goto out_unlock;
	}
	rc = iopt_area_map_domain(area, pages, domain);
	if (rc)
		goto err_unpin;
	if (first) {
		rc = iopt_pages_update_pinned(pages);
		if (rc)
			goto err_unmap;
	}
	goto out_unlock;

err_unmap:
	iommu_unmap_nofail(domain, area->iova, iopt_area_length(area));
err_unpin:
	if (first)
		iopt_pages_unpin_for_domains(pages);
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/* Unload one area from a domain being removed; the last domain unpins. */
static void iopt_area_unfill_domain(struct iopt_area *area, struct iommu_domain *domain,
				    bool last)
{
	struct iopt_pages *pages = area->pages;

	mutex_lock(&pages->mutex);
	iommu_unmap_nofail(domain, area->iova, iopt_area_length(area));
	if (last)
		iopt_pages_unpin_for_domains(pages);
	mutex_unlock(&pages->mutex);
}

/* ---- IOVA space ---- */

/* The first area intersecting [start, last], in IOVA order. */
static struct iopt_area *iopt_area_first(struct io_pagetable *iopt, unsigned long start,
					 unsigned long last)
{
	struct iopt_area *area;

	lockdep_assert_held(&iopt->iova_rwsem);
	list_for_each_entry(area, &iopt->areas, node) {
		if (area->iova > last)
			return NULL;
		if (area->last_iova >= start)
			return area;
	}
	return NULL;
}

/* A reserved IOVA range of a device (upstream: the reserved interval tree). */
struct iopt_reserved {
	struct list_head node;
	unsigned long start, last;
	void *owner;
};

/*
 * Is [start, last] reserved: by an attached device, or outside some
 * domain's aperture?
 */
static bool iopt_range_reserved(struct io_pagetable *iopt, unsigned long start,
				unsigned long last)
{
	struct iopt_reserved *r;
	struct iopt_domain *d;

	list_for_each_entry(r, &iopt->reserved, node)
		if (r->start <= last && start <= r->last)
			return true;
	list_for_each_entry(d, &iopt->domains, node)
		if (start < d->domain->geometry.aperture_start ||
		    last > d->domain->geometry.aperture_end)
			return true;
	return false;
}

static int iopt_check_iova(struct io_pagetable *iopt, unsigned long iova,
			   unsigned long length)
{
	unsigned long last;

	lockdep_assert_held(&iopt->iova_rwsem);
	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (iopt_range_reserved(iopt, iova, last))
		return -EINVAL;
	if (iopt_area_first(iopt, iova, last))
		return -EEXIST;
	return 0;
}

static unsigned long roundup_pow2(unsigned long n)
{
	return n <= 1 ? 1 : 1UL << (8 * sizeof(long) - __builtin_clzl(n - 1));
}

/* Fit @length at or after *@start, ending by @last, aligned (and offset). */
static bool iopt_fit(unsigned long *start, unsigned long last, unsigned long length,
		     unsigned long align, unsigned long page_offset)
{
	unsigned long s;

	if (check_add_overflow(*start, align - 1, &s))
		return false;
	s = (s & ~(align - 1)) | page_offset;
	if (s >= last || last - s < length - 1)
		return false;
	*start = s;
	return true;
}

/*
 * IOPT_ALLOC_IOVA: the lowest free IOVA from PAGE_SIZE up, inside every
 * domain's aperture, aligned as upstream aligns it (to the length's power
 * of two, at most uptr's alignment and 2 MiB).
 */
static int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
			   unsigned long uptr, unsigned long length)
{
	unsigned long page_offset = uptr % PAGE_SIZE, align, lo, hi, cur;
	struct iopt_area *area;
	struct iopt_domain *d;

	lockdep_assert_held(&iopt->iova_rwsem);
	if (length == 0 || length >= ULONG_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow2(length);
	if (uptr)
		align = min(align, uptr & -uptr);
	if (align > IOPT_HPAGE_SIZE)
		align = IOPT_HPAGE_SIZE;
	if (align < iopt->iova_alignment)
		return -EINVAL;

	lo = PAGE_SIZE;
	hi = ULONG_MAX - PAGE_SIZE;
	list_for_each_entry(d, &iopt->domains, node) {
		lo = max_t(unsigned long, lo, d->domain->geometry.aperture_start);
		hi = min_t(unsigned long, hi, d->domain->geometry.aperture_end);
	}
	cur = lo;
	list_for_each_entry(area, &iopt->areas, node) {
		unsigned long s = cur;

		if (area->last_iova < cur)
			continue;
		if (area->iova > cur &&
		    iopt_fit(&s, min(area->iova - 1, hi), length, align, page_offset)) {
			*iova = s;
			return 0;
		}
		if (area->last_iova >= hi)
			return -ENOSPC;
		cur = area->last_iova + 1;
	}
	if (cur <= hi && iopt_fit(&cur, hi, length, align, page_offset)) {
		*iova = cur;
		return 0;
	}
	return -ENOSPC;
}

/*
 * Check the IOVA range and insert @area for it, with ->pages NULL: the
 * range is taken, nothing is mapped yet.
 */
static int iopt_insert_area(struct io_pagetable *iopt, struct iopt_area *area,
			    struct iopt_pages *pages, unsigned long *dst_iova,
			    unsigned long start_byte, unsigned long length,
			    int iommu_prot, unsigned int flags)
{
	struct iopt_area *pos;
	int rc;

	down_write(&iopt->iova_rwsem);
	if ((length & (iopt->iova_alignment - 1)) || !length) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (flags & IOPT_ALLOC_IOVA)
		rc = iopt_alloc_iova(iopt, dst_iova,
				     (unsigned long)pages->uptr + start_byte, length);
	else
		rc = iopt_check_iova(iopt, *dst_iova, length);
	if (rc)
		goto out_unlock;

	if ((iommu_prot & IOMMU_WRITE) && !pages->writable) {
		rc = -EPERM;
		goto out_unlock;
	}
	area->iommu_prot = iommu_prot;
	area->page_offset = start_byte % PAGE_SIZE;
	if (area->page_offset & (iopt->iova_alignment - 1)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	area->iova = *dst_iova;
	if (check_add_overflow(area->iova, length - 1, &area->last_iova)) {
		rc = -EOVERFLOW;
		goto out_unlock;
	}
	/* keep @areas sorted: before the first area above the new one */
	list_for_each_entry(pos, &iopt->areas, node)
		if (pos->iova > area->last_iova)
			break;
	list_add_tail(&area->node, &pos->node);
	rc = 0;
out_unlock:
	up_write(&iopt->iova_rwsem);
	return rc;
}

static void iopt_abort_area(struct io_pagetable *iopt, struct iopt_area *area)
{
	down_write(&iopt->iova_rwsem);
	list_del(&area->node);
	up_write(&iopt->iova_rwsem);
	kfree(area);
}

/**
 * iopt_init_table() - initialise an empty io_pagetable
 * @iopt: the table
 *
 * No areas, no domains, and no alignment restriction until a domain is
 * added.
 */
void iopt_init_table(struct io_pagetable *iopt)
{
	init_rwsem(&iopt->domains_rwsem);
	INIT_LIST_HEAD(&iopt->domains);
	iopt->next_domain_id = 0;
	init_rwsem(&iopt->iova_rwsem);
	INIT_LIST_HEAD(&iopt->areas);
	INIT_LIST_HEAD(&iopt->reserved);
	iopt->iova_alignment = 1;
}

/**
 * iopt_destroy_table() - release an io_pagetable
 * @iopt: the table; its areas must have been unmapped (iopt_unmap_all())
 *	and its domains removed before
 */
void iopt_destroy_table(struct io_pagetable *iopt)
{
	WARN_ON(!list_empty(&iopt->domains));
	WARN_ON(!list_empty(&iopt->areas));
	WARN_ON(!list_empty(&iopt->reserved));
}

/**
 * iopt_map_user_pages() - map a user VA range at an IOVA
 * @ictx: the iommufd context (its account_mode)
 * @iopt: the table
 * @iova: the IOVA to map at; with IOPT_ALLOC_IOVA, out: the IOVA chosen
 * @uptr: user address of the memory
 * @length: bytes to map
 * @iommu_prot: IOMMU_READ and/or IOMMU_WRITE
 * @flags: 0 or IOPT_ALLOC_IOVA
 *
 * With domains attached the pages are pinned, mapped into every domain and
 * charged before this returns; without, nothing is pinned until a domain
 * is added.
 *
 * Context: process context of the task whose memory @uptr is.
 * Return: 0, or an errno of the table at the top of this file; on error
 * nothing is left mapped, pinned or charged.
 */
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, void __user *uptr,
			unsigned long length, int iommu_prot,
			unsigned int flags)
{
	struct iopt_pages *pages;
	struct iopt_area *area;
	int rc;

	pages = iopt_alloc_pages(uptr, length, iommu_prot & IOMMU_WRITE);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	if (ictx->account_mode == IOPT_PAGES_ACCOUNT_MM &&
	    pages->account_mode == IOPT_PAGES_ACCOUNT_USER)
		pages->account_mode = IOPT_PAGES_ACCOUNT_MM;

	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area) {
		rc = -ENOMEM;
		goto out_put;
	}
	rc = iopt_insert_area(iopt, area, pages, iova,
			      (unsigned long)uptr - (unsigned long)pages->uptr,
			      length, iommu_prot, flags);
	if (rc) {
		kfree(area);
		goto out_put;
	}

	down_read(&iopt->domains_rwsem);
	rc = iopt_area_fill_domains(iopt, area, pages);
	if (!rc) {
		/* under domains_rwsem: a domain added later sees the area */
		down_write(&iopt->iova_rwsem);
		area->pages = pages;
		up_write(&iopt->iova_rwsem);
	}
	up_read(&iopt->domains_rwsem);
	if (!rc)
		return 0;
	iopt_abort_area(iopt, area);
out_put:
	iopt_put_pages(pages);
	return rc;
}

static int iopt_unmap_iova_range(struct io_pagetable *iopt, unsigned long start,
				 unsigned long last, unsigned long *unmapped)
{
	unsigned long unmapped_bytes = 0;
	struct iopt_area *area;
	int rc = 0;

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	while ((area = iopt_area_first(iopt, start, last))) {
		unsigned long area_first = area->iova, area_last = area->last_iova;
		struct iopt_pages *pages = area->pages;

		if (!pages) {
			rc = -EBUSY;
			break;
		}
		if (area_first < start || area_last > last) {
			rc = -ENOENT;
			break;
		}
		/*
		 * Upstream asks the in-kernel accesses to unpin and gives up
		 * after 100 tries; there are none to ask here.
		 */
		if (WARN_ON(area->num_accesses)) {
			rc = -EDEADLOCK;
			break;
		}
		area->pages = NULL;
		up_write(&iopt->iova_rwsem);

		iopt_area_unfill_domains(iopt, area, pages);
		iopt_put_pages(pages);
		unmapped_bytes += area_last - area_first + 1;

		down_write(&iopt->iova_rwsem);
		list_del(&area->node);
		kfree(area);
		if (area_last >= last)
			break;
		start = area_last + 1;
	}
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	if (unmapped)
		*unmapped = unmapped_bytes;
	return rc;
}

/**
 * iopt_unmap_iova() - unmap the areas of an IOVA range
 * @iopt: the table
 * @iova: start of the range
 * @length: bytes
 * @unmapped: out, optional: bytes unmapped
 *
 * The range must cover whole areas.  Each area is unmapped from every
 * domain, each domain's IOTLB flushed, then its pages unpinned and
 * uncharged.
 *
 * Return: 0 (also when nothing was mapped there: *@unmapped is 0), or
 * -EINVAL, -EOVERFLOW, -ENOENT, -EBUSY as in the table at the top of this
 * file.
 */
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped)
{
	unsigned long last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iopt_unmap_iova_range(iopt, iova, last, unmapped);
}

/**
 * iopt_unmap_all() - unmap every area
 * @iopt: the table
 * @unmapped: out, optional: bytes unmapped
 *
 * Return: 0, or -EBUSY when an area is being mapped or unmapped concurrently.
 */
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped)
{
	return iopt_unmap_iova_range(iopt, 0, ULONG_MAX, unmapped);
}

/* Every area conforms to @align (iova, length and user page offset). */
static int iopt_check_iova_alignment(struct io_pagetable *iopt, unsigned long align)
{
	struct iopt_area *area;

	list_for_each_entry(area, &iopt->areas, node)
		if ((area->iova | iopt_area_length(area) | area->page_offset) &
		    (align - 1))
			return -EADDRINUSE;
	return 0;
}

/**
 * iopt_table_add_domain() - add a paging domain and load every area into it
 * @iopt: the table
 * @domain: a paging domain, not yet in @iopt
 *
 * The table's IOVA alignment becomes at least the domain's smallest page;
 * IOVA outside the domain's aperture can no longer be mapped.  The first
 * domain pins and charges every area's pages.
 *
 * Return: 0, or -EEXIST, -EINVAL, -EADDRINUSE, -EFAULT, -ENOMEM or the
 * domain's error (see the table at the top of this file); on error the
 * table, the domain and the pins are as they were.
 */
int iopt_table_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	const struct iommu_domain_geometry *geometry = &domain->geometry;
	unsigned long new_iova_alignment;
	struct iopt_area *area, *end_area;
	struct iopt_domain *d;
	bool first;
	int rc;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	list_for_each_entry(d, &iopt->domains, node) {
		if (WARN_ON(d->domain == domain)) {
			rc = -EEXIST;
			goto out_unlock;
		}
	}
	if (WARN_ON(!domain->pgsize_bitmap)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	new_iova_alignment = max_t(unsigned long, domain_min_pgsize(domain),
				   iopt->iova_alignment);
	if (new_iova_alignment > PAGE_SIZE) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (new_iova_alignment != iopt->iova_alignment) {
		rc = iopt_check_iova_alignment(iopt, new_iova_alignment);
		if (rc)
			goto out_unlock;
	}
	/* upstream reserves the IOVA outside the aperture: no area may be there */
	list_for_each_entry(area, &iopt->areas, node) {
		if (area->iova < geometry->aperture_start ||
		    area->last_iova > geometry->aperture_end) {
			rc = -EADDRINUSE;
			goto out_unlock;
		}
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	d->domain = domain;

	first = list_empty(&iopt->domains);
	list_for_each_entry(area, &iopt->areas, node) {
		if (!area->pages)	/* being set up: its map loads the domain */
			continue;
		rc = iopt_area_fill_domain(area, domain, first);
		if (rc)
			goto out_unfill;
	}
	list_add_tail(&d->node, &iopt->domains);
	iopt->next_domain_id++;
	iopt->iova_alignment = new_iova_alignment;
	rc = 0;
	goto out_unlock;

out_unfill:
	end_area = area;
	list_for_each_entry(area, &iopt->areas, node) {
		if (area == end_area)
			break;
		if (area->pages)
			iopt_area_unfill_domain(area, domain, first);
	}
	kfree(d);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

/**
 * iopt_table_remove_domain() - unload every area from a domain and remove it
 * @iopt: the table
 * @domain: a domain added with iopt_table_add_domain()
 *
 * Each area is unmapped from @domain (and its IOTLB flushed); when it was
 * the last domain, every area's pages are then unpinned and uncharged.  The
 * IOVA alignment drops to what the remaining domains need.
 */
void iopt_table_remove_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	unsigned long new_iova_alignment = 1;
	struct iopt_domain *d, *found = NULL;
	struct iopt_area *area;
	bool last;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	list_for_each_entry(d, &iopt->domains, node) {
		if (d->domain == domain) {
			found = d;
			break;
		}
	}
	if (WARN_ON(!found))
		goto out_unlock;
	list_del(&found->node);
	iopt->next_domain_id--;
	last = list_empty(&iopt->domains);
	list_for_each_entry(area, &iopt->areas, node)
		if (area->pages)
			iopt_area_unfill_domain(area, domain, last);
	kfree(found);

	list_for_each_entry(d, &iopt->domains, node)
		new_iova_alignment = max_t(unsigned long, new_iova_alignment,
					   domain_min_pgsize(d->domain));
	iopt->iova_alignment = new_iova_alignment;
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/* Page index in @area->pages of @iova */
static size_t iopt_area_index(const struct iopt_area *area, unsigned long iova)
{
	return (iova - area->iova + area->page_offset) / PAGE_SIZE;
}

/* Drop one in-kernel access to pages [@first, @last] of @area. */
static void iopt_area_remove_access(struct iopt_area *area, size_t first, size_t last)
{
	struct iopt_pages *pages = area->pages;
	size_t i;

	mutex_lock(&pages->mutex);
	for (i = first; i <= last; i++)
		if (!WARN_ON(!pages->access_users || !pages->access_users[i]))
			pages->access_users[i]--;
	area->num_accesses--;
	iopt_pages_unpin_unneeded(pages, first, last);
	iopt_pages_update_pinned(pages);
	mutex_unlock(&pages->mutex);
}

/* Add one in-kernel access to pages [@first, @last] of @area: pin, charge. */
static int iopt_area_add_access(struct iopt_area *area, size_t first, size_t last,
				struct page **out_pages)
{
	struct iopt_pages *pages = area->pages;
	size_t i;
	int rc;

	mutex_lock(&pages->mutex);
	if (!pages->access_users) {
		pages->access_users = kvcalloc(pages->npages, sizeof(*pages->access_users),
					       GFP_KERNEL_ACCOUNT);
		if (!pages->access_users) {
			rc = -ENOMEM;
			goto out_unlock;
		}
	}
	rc = iopt_pages_pin(pages, first, last);
	if (!rc)
		rc = iopt_pages_update_pinned(pages);
	if (rc) {
		iopt_pages_unpin_unneeded(pages, first, last);
		goto out_unlock;
	}
	for (i = first; i <= last; i++) {
		pages->access_users[i]++;
		out_pages[i - first] = pages->upages[i];
	}
	area->num_accesses++;
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/**
 * iopt_pin_pages() - pin the pages behind an IOVA range for the kernel
 * @iopt: the table
 * @iova: start of the range, page aligned
 * @length: bytes, a multiple of PAGE_SIZE
 * @out_pages: out: one page per PAGE_SIZE of the range
 * @flags: IOMMUFD_ACCESS_RW_WRITE when the caller will write the pages
 *
 * What iommufd_access_pin_pages() does for an access, on the table itself:
 * each page is pinned once per iopt_pages, whoever else (a domain, another
 * access) holds it too, and charged as the area's account mode says.
 *
 * Return: 0; -EINVAL (length 0, or an unaligned area boundary), -EOVERFLOW,
 * -ENOENT (the range is not fully mapped), -EPERM (a write to a read-only
 * area), or the pinning and charging errors (-EFAULT, -ENOMEM); on error
 * nothing is left pinned or charged by this call.
 */
int iopt_pin_pages(struct io_pagetable *iopt, unsigned long iova,
		   unsigned long length, struct page **out_pages, unsigned int flags)
{
	unsigned long last_iova, cur = iova;
	struct iopt_area *area;
	int rc = 0;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last_iova))
		return -EOVERFLOW;
	if ((iova | length) % PAGE_SIZE)
		return -EINVAL;

	down_read(&iopt->iova_rwsem);
	while (cur <= last_iova) {
		unsigned long last;

		area = iopt_area_first(iopt, cur, cur);
		if (!area || !area->pages) {
			rc = -ENOENT;
			break;
		}
		if (area->page_offset) {
			rc = -EINVAL;
			break;
		}
		if ((flags & IOMMUFD_ACCESS_RW_WRITE) &&
		    !(area->iommu_prot & IOMMU_WRITE)) {
			rc = -EPERM;
			break;
		}
		last = min(last_iova, area->last_iova);
		rc = iopt_area_add_access(area, iopt_area_index(area, cur),
					  iopt_area_index(area, last),
					  out_pages + (cur - iova) / PAGE_SIZE);
		if (rc)
			break;
		if (last == last_iova)
			break;
		cur = last + 1;
	}
	if (rc) {
		/* drop what this call added, area by area */
		unsigned long end = cur;

		for (cur = iova; cur < end; ) {
			unsigned long last;

			area = iopt_area_first(iopt, cur, cur);
			last = area->last_iova;
			iopt_area_remove_access(area, iopt_area_index(area, cur),
						iopt_area_index(area, last));
			cur = last + 1;
		}
	}
	up_read(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_unpin_pages() - undo iopt_pin_pages()
 * @iopt: the table
 * @iova: as given to iopt_pin_pages()
 * @length: as given to iopt_pin_pages()
 *
 * The caller must have stopped using the pages.  A page no other holder
 * needs is unpinned and uncharged.
 */
void iopt_unpin_pages(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long length)
{
	unsigned long last_iova, cur = iova;
	struct iopt_area *area;

	if (WARN_ON(!length) || WARN_ON(check_add_overflow(iova, length - 1, &last_iova)))
		return;
	down_read(&iopt->iova_rwsem);
	while (cur <= last_iova) {
		unsigned long last;

		area = iopt_area_first(iopt, cur, cur);
		if (WARN_ON(!area || !area->pages))
			break;
		last = min(last_iova, area->last_iova);
		iopt_area_remove_access(area, iopt_area_index(area, cur),
					iopt_area_index(area, last));
		if (last == last_iova)
			break;
		cur = last + 1;
	}
	up_read(&iopt->iova_rwsem);
}

/**
 * kt_iopt_nr_areas() - number of areas in @iopt (test introspection)
 * @iopt: the table
 *
 * Return: the areas, those being set up or torn down included.
 */
unsigned long kt_iopt_nr_areas(struct io_pagetable *iopt)
{
	struct iopt_area *area;
	unsigned long n = 0;

	down_read(&iopt->iova_rwsem);
	list_for_each_entry(area, &iopt->areas, node)
		n++;
	up_read(&iopt->iova_rwsem);
	return n;
}

/**
 * kt_iopt_npinned() - pages @iopt's areas hold pinned (test introspection)
 * @iopt: the table
 *
 * Return: the sum over the areas of their pinned pages.
 */
unsigned long kt_iopt_npinned(struct io_pagetable *iopt)
{
	struct iopt_area *area;
	unsigned long n = 0;

	down_read(&iopt->iova_rwsem);
	list_for_each_entry(area, &iopt->areas, node) {
		if (!area->pages)
			continue;
		mutex_lock(&area->pages->mutex);
		n += area->pages->npinned;
		mutex_unlock(&area->pages->mutex);
	}
	up_read(&iopt->iova_rwsem);
	return n;
}

/**
 * iopt_table_enforce_dev_resv_regions() - reserve a device's reserved IOVA
 * @iopt: the table
 * @dev: the device being attached
 * @sw_msi_start: unused (no software MSI window on VT-d)
 *
 * Return: 0, or -EADDRINUSE when an area lies in one of the ranges
 * (iopt_reserve_iova()); nothing is reserved then.
 */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct device *dev,
					phys_addr_t *sw_msi_start)
{
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int ret = 0;

	down_write(&iopt->iova_rwsem);
	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(resv, &regions, list) {
		unsigned long last = resv->start + resv->length - 1;
		struct iopt_reserved *r;

		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		if (iopt_area_first(iopt, resv->start, last)) {
			ret = -EADDRINUSE;
			break;
		}
		r = kzalloc(sizeof(*r), GFP_KERNEL);
		if (!r) {
			ret = -ENOMEM;
			break;
		}
		r->start = resv->start;
		r->last = last;
		r->owner = dev;
		list_add_tail(&r->node, &iopt->reserved);
	}
	iommu_put_resv_regions(dev, &regions);
	up_write(&iopt->iova_rwsem);
	if (ret)
		iopt_remove_reserved_iova(iopt, dev);
	return ret;
}

/* iopt_remove_reserved_iova(): drop what @owner reserved. */
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner)
{
	struct iopt_reserved *r, *tmp;

	down_write(&iopt->iova_rwsem);
	list_for_each_entry_safe(r, tmp, &iopt->reserved, node) {
		if (r->owner != owner)
			continue;
		list_del(&r->node);
		kfree(r);
	}
	up_write(&iopt->iova_rwsem);
}
