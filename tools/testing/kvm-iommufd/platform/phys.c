// SPDX-License-Identifier: GPL-2.0
/* Emulated host physical memory: see phys.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "phys.h"

#define PG	4096ULL

struct phys *phys_create(uint64_t size)
{
	struct phys *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->size = size & ~(PG - 1);
	pm->npages = pm->size / PG;
	pm->memfd = memfd_create("kt-phys", 0);
	if (pm->memfd < 0 || ftruncate(pm->memfd, pm->size))
		goto err;
	pm->base = mmap(NULL, pm->size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_NORESERVE, pm->memfd, 0);
	if (pm->base == MAP_FAILED)
		goto err;
	pm->bitmap = calloc((pm->npages + 63) / 64, sizeof(uint64_t));
	pm->kind = calloc(pm->npages, 1);
	pm->tag = calloc(pm->npages, 1);
	if (!pm->bitmap || !pm->kind || !pm->tag)
		goto err_unmap;
	pm->bitmap[0] = 1;	/* HPA 0 is never allocated */
	pm->kind[0] = PHYS_OTHER;
	pm->next = 1;
	pthread_mutex_init(&pm->lock, NULL);
	return pm;
err_unmap:
	free(pm->bitmap);
	free(pm->kind);
	free(pm->tag);
	munmap(pm->base, pm->size);
err:
	if (pm->memfd >= 0)
		close(pm->memfd);
	free(pm);
	return NULL;
}

void phys_destroy(struct phys *pm)
{
	if (!pm)
		return;
	munmap(pm->base, pm->size);
	close(pm->memfd);
	free(pm->bitmap);
	free(pm->kind);
	free(pm->tag);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

/* Called with pm->lock held. */
static bool range_free(struct phys *pm, uint64_t pfn, uint64_t n)
{
	uint64_t i;

	for (i = pfn; i < pfn + n; i++)
		if (__atomic_load_n(&pm->bitmap[i / 64], __ATOMIC_RELAXED) & (1ULL << (i % 64)))
			return false;
	return true;
}

/*
 * Called with pm->lock held; atomic stores because phys_page_allocated()
 * and phys_page_kind() read without the lock.
 */
static void range_mark(struct phys *pm, uint64_t pfn, uint64_t n, enum phys_kind kind)
{
	uint64_t i;

	for (i = pfn; i < pfn + n; i++) {
		if (kind != PHYS_FREE)
			__atomic_fetch_or(&pm->bitmap[i / 64], 1ULL << (i % 64), __ATOMIC_RELEASE);
		else
			__atomic_fetch_and(&pm->bitmap[i / 64], ~(1ULL << (i % 64)),
					   __ATOMIC_RELEASE);
		__atomic_store_n(&pm->kind[i], (uint8_t)kind, __ATOMIC_RELEASE);
		__atomic_store_n(&pm->tag[i], 0, __ATOMIC_RELEASE);
	}
}

/*
 * Fill pages with @pattern.  Devices may read or write any page at any
 * time (a stale translation is a device's use of a freed page, which the
 * models count), so the "CPU" writes emulated memory with atomic stores:
 * no C-level data race with a device, whatever the device does.
 */
static void fill(struct phys *pm, uint64_t hpa, uint64_t len, uint64_t pattern)
{
	uint64_t *p = (uint64_t *)(pm->base + hpa), i;

	for (i = 0; i < len / 8; i++)
		__atomic_store_n(&p[i], pattern, __ATOMIC_RELAXED);
}

uint64_t phys_alloc(struct phys *pm, unsigned int order)
{
	return phys_alloc_kind(pm, order, PHYS_OTHER);
}

/**
 * phys_alloc_kind() - allocate pages for a purpose
 * @pm: the emulated memory
 * @order: 2^@order pages, naturally aligned
 * @kind: what they are for (not PHYS_FREE); phys_page_kind() reports it
 *	until they are freed
 *
 * Return: the HPA of the first page, zeroed; 0 when no such block is free.
 */
uint64_t phys_alloc_kind(struct phys *pm, unsigned int order, enum phys_kind kind)
{
	uint64_t n = 1ULL << order, pfn, tries;

	pthread_mutex_lock(&pm->lock);
	pfn = (pm->next + n - 1) & ~(n - 1);
	for (tries = 0; tries <= pm->npages / n; tries++) {
		if (pfn + n > pm->npages)
			pfn = n;	/* wrap, skipping page 0's block */
		if (range_free(pm, pfn, n)) {
			range_mark(pm, pfn, n, kind);
			pm->next = pfn + n;
			pm->nr_alloc += n;
			pthread_mutex_unlock(&pm->lock);
			fill(pm, pfn * PG, n * PG, 0);
			return pfn * PG;
		}
		pfn += n;
	}
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

void phys_free(struct phys *pm, uint64_t hpa, unsigned int order)
{
	uint64_t n = 1ULL << order, pfn = hpa / PG;

	if (!hpa)
		return;
	if (pfn + n > pm->npages) {
		fprintf(stderr, "phys_free: bad hpa %#llx\n", (unsigned long long)hpa);
		abort();
	}
	fill(pm, hpa, n * PG, PHYS_POISON);
	pthread_mutex_lock(&pm->lock);
	range_mark(pm, pfn, n, PHYS_FREE);
	pm->nr_alloc -= n;
	pm->nr_freed += n;
	pthread_mutex_unlock(&pm->lock);
}

void *phys_va(struct phys *pm, uint64_t hpa)
{
	return pm->base + hpa;
}

bool phys_valid(struct phys *pm, uint64_t hpa, uint64_t len)
{
	return hpa < pm->size && len <= pm->size - hpa;
}

long phys_allocated(struct phys *pm)
{
	long n;

	pthread_mutex_lock(&pm->lock);
	n = pm->nr_alloc;
	pthread_mutex_unlock(&pm->lock);
	return n;
}

bool phys_page_allocated(struct phys *pm, uint64_t hpa)
{
	uint64_t pfn = hpa / PG;

	if (pfn >= pm->npages)
		return false;
	return __atomic_load_n(&pm->bitmap[pfn / 64], __ATOMIC_ACQUIRE) & (1ULL << (pfn % 64));
}

/**
 * phys_page_kind() - what a page is allocated for
 * @pm: the emulated memory
 * @hpa: any address in the page
 *
 * Context: any; reads without the lock.
 * Return: the kind it was allocated with, PHYS_FREE when it is free or
 * outside the memory.
 */
enum phys_kind phys_page_kind(struct phys *pm, uint64_t hpa)
{
	uint64_t pfn = hpa / PG;

	if (pfn >= pm->npages)
		return PHYS_FREE;
	return __atomic_load_n(&pm->kind[pfn], __ATOMIC_ACQUIRE);
}

/**
 * phys_freed() - pages freed so far
 * @pm: the emulated memory
 *
 * Return: the number of pages phys_free() returned since phys_create().
 */
uint64_t phys_freed(struct phys *pm)
{
	uint64_t n;

	pthread_mutex_lock(&pm->lock);
	n = pm->nr_freed;
	pthread_mutex_unlock(&pm->lock);
	return n;
}

/**
 * phys_set_tag() - keep a byte with a page
 * @pm: the emulated memory
 * @hpa: any address in the page, which must be allocated
 * @tag: the byte; phys_tag() reports it until the page is freed
 */
void phys_set_tag(struct phys *pm, uint64_t hpa, uint8_t tag)
{
	uint64_t pfn = hpa / PG;

	if (pfn < pm->npages)
		__atomic_store_n(&pm->tag[pfn], tag, __ATOMIC_RELEASE);
}

/**
 * phys_tag() - the byte kept with a page
 * @pm: the emulated memory
 * @hpa: any address in the page
 *
 * Context: any; reads without the lock.
 * Return: what phys_set_tag() stored since the page was allocated, else 0.
 */
uint8_t phys_tag(struct phys *pm, uint64_t hpa)
{
	uint64_t pfn = hpa / PG;

	return pfn < pm->npages ? __atomic_load_n(&pm->tag[pfn], __ATOMIC_ACQUIRE) : 0;
}
