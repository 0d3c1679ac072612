/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build: kernel trace events become USDT probes (<sys/sdt.h>).
 *
 * A product trace header written with TRACE_EVENT() yields, on the host,
 * one `static inline void trace_<name>(proto)` per event that fires the
 * USDT probe <TRACE_SYSTEM>:<name> with the event's arguments in order.
 * After `perf buildid-cache --add <binary>`, perf lists them as
 * sdt_<system>:<name>.
 */
#ifndef __KVM_IOMMU_SHIM_TRACEPOINT_H
#define __KVM_IOMMU_SHIM_TRACEPOINT_H

#define SDT_USE_VARIADIC 1
#include <sys/sdt.h>

#define TP_PROTO(...)		__VA_ARGS__
#define TP_ARGS(...)		__VA_ARGS__
#define PARAMS(...)		__VA_ARGS__

#define __KT_PROBE(sys, name, ...)	STAP_PROBEV(sys, name, ##__VA_ARGS__)
#define _KT_PROBE(sys, name, ...)	__KT_PROBE(sys, name, ##__VA_ARGS__)

/*
 * trace_<name>_enabled() is always true: the probe is a nop until perf
 * attaches, and the in-process count always wants the event.
 *
 * Every firing is also counted in process (harness/trace.c), so tests can
 * assert how often an event fired without perf: one counter per event and
 * translation unit, summed by name by kt_trace_count().
 */
struct kt_trace_event {
	const char *event;
	unsigned long count;		/* atomic */
	int registered;			/* atomic */
	struct kt_trace_event *next;
};
void kt_trace_hit(struct kt_trace_event *ev);
unsigned long kt_trace_count(const char *name);

#define __KT_TRACE_FN(name, proto, args)				\
	static inline bool trace_##name##_enabled(void)			\
	{								\
		return true;						\
	}								\
	static inline void trace_##name(proto)				\
	{								\
		static struct kt_trace_event __ev = { .event = #name };	\
									\
		kt_trace_hit(&__ev);					\
		_KT_PROBE(TRACE_SYSTEM, name, args);			\
	}
#define TRACE_EVENT(name, proto, args, tstruct, assign, print)		\
	__KT_TRACE_FN(name, PARAMS(proto), PARAMS(args))
#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)
#define DEFINE_EVENT(class, name, proto, args)				\
	__KT_TRACE_FN(name, PARAMS(proto), PARAMS(args))
#define TRACE_DEFINE_ENUM(x)

#endif /* __KVM_IOMMU_SHIM_TRACEPOINT_H */
