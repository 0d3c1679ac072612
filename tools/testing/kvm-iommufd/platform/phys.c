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
	if (!pm->bitmap)
		goto err_unmap;
	pm->bitmap[0] = 1;	/* HPA 0 is never allocated */
	pm->next = 1;
	pthread_mutex_init(&pm->lock, NULL);
	return pm;
err_unmap:
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
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static bool range_free(struct phys *pm, uint64_t pfn, uint64_t n)
{
	uint64_t i;

	for (i = pfn; i < pfn + n; i++)
		if (pm->bitmap[i / 64] & (1ULL << (i % 64)))
			return false;
	return true;
}

static void range_mark(struct phys *pm, uint64_t pfn, uint64_t n, bool set)
{
	uint64_t i;

	for (i = pfn; i < pfn + n; i++) {
		if (set)
			pm->bitmap[i / 64] |= 1ULL << (i % 64);
		else
			pm->bitmap[i / 64] &= ~(1ULL << (i % 64));
	}
}

uint64_t phys_alloc(struct phys *pm, unsigned int order)
{
	uint64_t n = 1ULL << order, pfn, tries;

	pthread_mutex_lock(&pm->lock);
	pfn = (pm->next + n - 1) & ~(n - 1);
	for (tries = 0; tries <= pm->npages / n; tries++) {
		if (pfn + n > pm->npages)
			pfn = n;	/* wrap, skipping page 0's block */
		if (range_free(pm, pfn, n)) {
			range_mark(pm, pfn, n, true);
			pm->next = pfn + n;
			pm->nr_alloc += n;
			pthread_mutex_unlock(&pm->lock);
			memset(pm->base + pfn * PG, 0, n * PG);
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
	memset(pm->base + hpa, 0xdb, n * PG);	/* PHYS_POISON */
	pthread_mutex_lock(&pm->lock);
	if (pfn + n > pm->npages) {
		fprintf(stderr, "phys_free: bad hpa %#llx\n", (unsigned long long)hpa);
		abort();
	}
	range_mark(pm, pfn, n, false);
	pm->nr_alloc -= n;
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
