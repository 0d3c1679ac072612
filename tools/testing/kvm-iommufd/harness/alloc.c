// SPDX-License-Identifier: GPL-2.0
/*
 * Counting allocator, fault injection, warning and lock-assertion
 * back ends for the host build.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kvm_iommu_internal.h"
#include "test.h"

#define KT_ALLOC_MAGIC	0x6b74616c6c6f6321ULL

struct kt_hdr {
	u64 magic;
	size_t size;
	const char *site;
	struct kt_hdr *prev, *next;
	u64 pad;	/* keeps the payload 16-byte aligned */
};

#ifdef __SANITIZE_THREAD__
char kt_rcu_tsan_readers, kt_rcu_tsan_callbacks;	/* see custom.h */
#endif

static pthread_mutex_t kt_alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kt_hdr kt_live = { .prev = &kt_live, .next = &kt_live };
static long kt_nlive;
static long kt_nwarn;

static __thread int kt_fail_nth;
static __thread int kt_points;
static __thread bool kt_injected;

void kt_fail_nth_set(int nth)
{
	kt_fail_nth = nth;
	kt_points = 0;
	kt_injected = false;
}

int kt_fault_points_seen(void)
{
	return kt_points;
}

bool kt_fault_injected(void)
{
	return kt_injected;
}

bool kt_should_fail(const char *site)
{
	(void)site;
	kt_points++;
	if (kt_fail_nth && kt_points == kt_fail_nth) {
		kt_injected = true;
		return true;
	}
	return false;
}

void *kt_alloc(size_t size, bool zero, const char *site)
{
	struct kt_hdr *h;

	if (kt_should_fail(site))
		return NULL;
	if (size > (1UL << 40))
		return NULL;
	h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	if (zero)
		memset(h + 1, 0, size);
	else
		memset(h + 1, 0xa5, size);	/* catch reads of uninitialised memory */
	h->magic = KT_ALLOC_MAGIC;
	h->size = size;
	h->site = site;
	pthread_mutex_lock(&kt_alloc_lock);
	h->next = kt_live.next;
	h->prev = &kt_live;
	kt_live.next->prev = h;
	kt_live.next = h;
	kt_nlive++;
	pthread_mutex_unlock(&kt_alloc_lock);
	return h + 1;
}

void kt_free(const void *ptr)
{
	struct kt_hdr *h;

	if (!ptr)
		return;
	h = (struct kt_hdr *)ptr - 1;
	if (h->magic != KT_ALLOC_MAGIC) {
		kt_warn("kfree of a pointer kmalloc did not return", __FILE__, __LINE__);
		return;
	}
	pthread_mutex_lock(&kt_alloc_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	kt_nlive--;
	pthread_mutex_unlock(&kt_alloc_lock);
	h->magic = 0;
	memset(h + 1, 0x6b, h->size);	/* poison: use-after-free reads garbage */
	free(h);
}

long kt_alloc_live(void)
{
	long n;

	pthread_mutex_lock(&kt_alloc_lock);
	n = kt_nlive;
	pthread_mutex_unlock(&kt_alloc_lock);
	return n;
}

/* Print up to @max live allocations (leak report). */
void kt_alloc_report(int max)
{
	struct kt_hdr *h;

	pthread_mutex_lock(&kt_alloc_lock);
	for (h = kt_live.next; h != &kt_live && max-- > 0; h = h->next)
		printf("#   leaked %zu bytes allocated at %s\n", h->size, h->site);
	pthread_mutex_unlock(&kt_alloc_lock);
}

void kt_warn(const char *cond, const char *file, int line)
{
	__atomic_add_fetch(&kt_nwarn, 1, __ATOMIC_SEQ_CST);
	printf("# WARNING: %s at %s:%d\n", cond, file, line);
}

void kt_warn_consume(long n)
{
	__atomic_sub_fetch(&kt_nwarn, n, __ATOMIC_SEQ_CST);
}

long kt_warn_count(void)
{
	return __atomic_load_n(&kt_nwarn, __ATOMIC_SEQ_CST);
}

void kt_assert_held(const struct kt_lockinfo *li, const char *what,
		    const char *file, int line)
{
	if (__atomic_load_n(&li->readers, __ATOMIC_SEQ_CST) > 0)
		return;
	if (li->writers && pthread_equal(li->owner, pthread_self()))
		return;
	kt_warn(what, file, line);
}

void kt_assert_held_write(const struct kt_lockinfo *li, const char *what,
			  const char *file, int line)
{
	if (li->writers && pthread_equal(li->owner, pthread_self()))
		return;
	kt_warn(what, file, line);
}

void kt_assert_not_held(const struct kt_lockinfo *li, const char *what,
			const char *file, int line)
{
	if (li->writers && pthread_equal(li->owner, pthread_self()))
		kt_warn(what, file, line);
}
