/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host stand-in for iommufd's io_pagetable, the pinned path of an IOAS
 * (Linux 6.12 drivers/iommu/iommufd/io_pagetable.[ch], pages.c, and the
 * declarations of iommufd_private.h): areas of IOVA backed by user memory,
 * pinned and mapped into every attached paging domain.
 *
 * The functions declared here have upstream's signatures, semantics and
 * errnos (the table is in iopt.c and tests/iopt_standin_test.c); the
 * structures keep upstream's names and the fields the stand-in needs.
 * Pins go through the stand-in pin_user_pages_fast() and are charged as
 * upstream charges them (standin/mm.c: kt_user, kt_mm).
 */
#ifndef __KT_STANDIN_IOPT_H
#define __KT_STANDIN_IOPT_H

#include "../kvm_iommu_internal.h"

/* How an iopt_pages charges its pins (io_pagetable.h; an anonymous enum in 6.12). */
enum {
	IOPT_PAGES_ACCOUNT_NONE = 0,	/* CAP_IPC_LOCK: only mm->pinned_vm */
	IOPT_PAGES_ACCOUNT_USER = 1,	/* the user's locked_vm, against RLIMIT_MEMLOCK */
	IOPT_PAGES_ACCOUNT_MM = 2,	/* the mm's locked_vm (VFIO compatible) */
};

/* iommufd_access_pin_pages() flags (include/linux/iommufd.h) */
enum {
	IOMMUFD_ACCESS_RW_READ = 0,
	IOMMUFD_ACCESS_RW_WRITE = 1 << 0,
};

/* iopt_map_user_pages() flags */
enum {
	IOPT_ALLOC_IOVA = 1 << 0,
};

/**
 * struct iommufd_ctx - the stand-in iommufd context
 * @account_mode: IOPT_PAGES_ACCOUNT_USER (or NONE: the same) by default;
 *	IOPT_PAGES_ACCOUNT_MM turns a USER charge into an MM one, as
 *	IOMMU_OPTION_RLIMIT_MODE does
 */
struct iommufd_ctx {
	u8 account_mode;
};

/**
 * struct io_pagetable - IOVA areas and the paging domains they are mapped into
 * @domains_rwsem: taken for write to add or remove a domain, for read to
 *	load an area into the domains or unload it (map, unmap): the set of
 *	domains does not change while an area is pinned or unpinned
 * @domains: the attached domains (struct iopt_domain), in attach order;
 *	changed under both rwsems for write, read under either
 * @next_domain_id: number of entries in @domains
 * @iova_rwsem: protects @areas (membership, each area's IOVA range and
 *	->pages) and @iova_alignment.  A map inserts its area with ->pages
 *	NULL under it, drops it to pin and map under @domains_rwsem, and
 *	retakes it to set ->pages; an unmap clears ->pages under it before
 *	unloading.  Adding or removing a domain holds it for write throughout.
 * @areas: struct iopt_area, sorted by IOVA, not overlapping
 * @iova_alignment: alignment every IOVA, length and user page offset
 *	must have: 1 without domains, the largest smallest-page of the
 *	domains otherwise
 *
 * Lock order, as upstream: @domains_rwsem, @iova_rwsem, then an area's
 * iopt_pages::mutex (the pin state: pinned page array and the counts
 * charged).  An area's pages are pinned exactly while the table has a
 * domain.
 */
struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct list_head domains;
	unsigned int next_domain_id;

	struct rw_semaphore iova_rwsem;
	struct list_head areas;
	struct list_head reserved;	/* devices' reserved IOVA (iopt_reserved) */
	unsigned long iova_alignment;
};

void iopt_init_table(struct io_pagetable *iopt);
void iopt_destroy_table(struct io_pagetable *iopt);
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, void __user *uptr,
			unsigned long length, int iommu_prot,
			unsigned int flags);
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped);
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain);
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct device *dev,
					phys_addr_t *sw_msi_start);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain);
int iopt_pin_pages(struct io_pagetable *iopt, unsigned long iova,
		   unsigned long length, struct page **out_pages, unsigned int flags);
void iopt_unpin_pages(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long length);

/* Test introspection: areas in @iopt, and pages pinned for them. */
unsigned long kt_iopt_nr_areas(struct io_pagetable *iopt);
unsigned long kt_iopt_npinned(struct io_pagetable *iopt);

#endif /* __KT_STANDIN_IOPT_H */
