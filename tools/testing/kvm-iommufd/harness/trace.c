// SPDX-License-Identifier: GPL-2.0
/*
 * In-process counts of the trace events (include/linux/tracepoint.h): each
 * event's counter registers itself on first use on a lock-free list.
 */
#include <string.h>

#include "../kvm_iommu_internal.h"
#include <linux/tracepoint.h>

static struct kt_trace_event *kt_trace_events;

void kt_trace_hit(struct kt_trace_event *ev)
{
	int expected = 0;

	if (!__atomic_load_n(&ev->registered, __ATOMIC_ACQUIRE) &&
	    __atomic_compare_exchange_n(&ev->registered, &expected, 1, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		struct kt_trace_event *head = __atomic_load_n(&kt_trace_events,
							      __ATOMIC_ACQUIRE);

		do {
			ev->next = head;
		} while (!__atomic_compare_exchange_n(&kt_trace_events, &head, ev,
						      true, __ATOMIC_RELEASE,
						      __ATOMIC_ACQUIRE));
	}
	__atomic_add_fetch(&ev->count, 1, __ATOMIC_RELAXED);
}

/**
 * kt_trace_count() - how often an event fired in this process so far
 * @name: the event's name, e.g. "kvm_iommu_kvm_faultin"
 *
 * Return: the sum over every call site.
 */
unsigned long kt_trace_count(const char *name)
{
	struct kt_trace_event *ev;
	unsigned long n = 0;

	for (ev = __atomic_load_n(&kt_trace_events, __ATOMIC_ACQUIRE); ev; ev = ev->next)
		if (!strcmp(ev->event, name))
			n += __atomic_load_n(&ev->count, __ATOMIC_RELAXED);
	return n;
}
