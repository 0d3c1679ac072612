/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulated host physical memory.
 *
 * One memfd holds every "host physical" page: page tables, IOMMU
 * structures and the pages that back guest RAM.  Page 0 is never handed
 * out, so HPA 0 can mean "none".  Freed pages are poisoned with a pattern
 * that no valid table entry contains, so a model that walks a freed table
 * page sees garbage (and the IOMMU model treats it as a fault).
 *
 * Each page also carries what it is allocated for (enum phys_kind), so a
 * device model can tell a DMA that lands in guest memory from one that
 * lands in a freed page, a page table or the IOMMU's own structures.
 *
 * Locking: @lock protects the allocation cursor and counters; the bitmap
 * and the kind of each page are written under it with atomic stores and
 * may be read without it (phys_page_allocated(), phys_page_kind()).
 */
#ifndef __KT_PHYS_H
#define __KT_PHYS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHYS_POISON	0xdbdbdbdbdbdbdbdbULL

/* What a page is allocated for; PHYS_FREE while it is free. */
enum phys_kind {
	PHYS_FREE = 0,
	PHYS_OTHER,	/* anything not listed below (tests' RAM blocks) */
	PHYS_GUEST,	/* host memory backing guest RAM */
	PHYS_TABLE,	/* a page table the IOMMU may walk (KVM's, a driver's) */
	PHYS_IOMMU,	/* IOMMU structures: root/context/PASID tables, queue */
};

struct phys {
	int memfd;
	uint8_t *base;
	uint64_t size;
	uint64_t npages;
	uint64_t *bitmap;	/* 1 = allocated; atomic stores under @lock */
	uint8_t *kind;		/* enum phys_kind per page; as @bitmap */
	/*
	 * a byte per page for the page's owner, 0 when allocated (KVM's
	 * model: a table page's level); atomic
	 */
	uint8_t *tag;
	uint64_t next;		/* allocation cursor, in pages; under @lock */
	long nr_alloc;		/* under @lock */
	uint64_t nr_freed;	/* pages freed so far; under @lock */
	pthread_mutex_t lock;
};

struct phys *phys_create(uint64_t size);
void phys_destroy(struct phys *pm);
/* Allocate 2^order naturally aligned, zeroed pages; 0 when none is free. */
uint64_t phys_alloc(struct phys *pm, unsigned int order);
/* The same, recording what the pages are for. */
uint64_t phys_alloc_kind(struct phys *pm, unsigned int order, enum phys_kind kind);
void phys_free(struct phys *pm, uint64_t hpa, unsigned int order);
void *phys_va(struct phys *pm, uint64_t hpa);
bool phys_valid(struct phys *pm, uint64_t hpa, uint64_t len);
long phys_allocated(struct phys *pm);
/* Is the page holding @hpa allocated now? (a walk of a freed page is a bug) */
bool phys_page_allocated(struct phys *pm, uint64_t hpa);
/* What the page holding @hpa is allocated for (PHYS_FREE if it is not). */
enum phys_kind phys_page_kind(struct phys *pm, uint64_t hpa);
/* Pages freed since phys_create(). */
uint64_t phys_freed(struct phys *pm);
/* The owner's byte of the page holding @hpa (0 until set, and once freed). */
void phys_set_tag(struct phys *pm, uint64_t hpa, uint8_t tag);
uint8_t phys_tag(struct phys *pm, uint64_t hpa);

static inline uint64_t phys_load64(struct phys *pm, uint64_t hpa)
{
	return __atomic_load_n((uint64_t *)phys_va(pm, hpa), __ATOMIC_ACQUIRE);
}

static inline void phys_store64(struct phys *pm, uint64_t hpa, uint64_t v)
{
	__atomic_store_n((uint64_t *)phys_va(pm, hpa), v, __ATOMIC_RELEASE);
}

/*
 * Copy to or from emulated memory as hardware does, a device or a CPU: no
 * torn 8-byte words, no C-level data race with other such copies.
 */
static inline void phys_copy(uint8_t *dst, const uint8_t *src, size_t n)
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

#endif /* __KT_PHYS_H */
