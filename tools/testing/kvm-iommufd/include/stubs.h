/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build shims, kind 1 of 3: kernel facilities made into no-ops.
 *
 * Everything here compiles away on the host because it has no observable
 * effect there: sparse/lock-analysis annotations, preemption and sleeping
 * hints, module metadata.  Anything a test needs to observe belongs in
 * custom.h instead.
 */
#ifndef __KVM_IOMMU_SHIM_STUBS_H
#define __KVM_IOMMU_SHIM_STUBS_H

#define __rcu
#define __iomem
#define __user
#define __force
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define __init
#define __exit
#define __read_mostly
#define __always_unused		__attribute__((unused))
#define __maybe_unused		__attribute__((unused))
#define __must_check		__attribute__((warn_unused_result))

/* the host stand-in of find_vma() takes its own lock */
#define mmap_read_lock(mm)	do { (void)(mm); } while (0)
#define mmap_read_unlock(mm)	do { (void)(mm); } while (0)
#define might_sleep()		do { } while (0)
#define cond_resched()		do { } while (0)
#define preempt_disable()	do { } while (0)
#define preempt_enable()	do { } while (0)
/* the emulated units snoop every access: nothing to write back */
#define clflush_cache_range(addr, size)	do { (void)(addr); (void)(size); } while (0)

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)
#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#define module_init(fn)
#define module_exit(fn)

#endif /* __KVM_IOMMU_SHIM_STUBS_H */
