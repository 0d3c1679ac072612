/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build shims, kind 3 of 3: kernel facilities customised for testing.
 *
 * - kmalloc() and friends go through a counting allocator that reports
 *   leaks per test and can fail the Nth fault point (kt_should_fail()),
 *   like the kernel's fail-nth;
 * - spinlocks, mutexes and rw-semaphores are pthread locks that remember
 *   their owner, so lockdep_assert_held() really checks;
 * - RCU is liburcu (memb flavour): readers, synchronize_rcu(), call_rcu();
 * - WARN_ON() records a warning that fails the running test;
 * - printk goes to stderr as TAP diagnostics.
 */
#ifndef __KVM_IOMMU_SHIM_CUSTOM_H
#define __KVM_IOMMU_SHIM_CUSTOM_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * liburcu's inline fast paths (_LGPL_SOURCE), but not under
 * ThreadSanitizer: there the read side stays inside the uninstrumented
 * library, whose inline atomics TSan would take for plain accesses; see
 * the RCU section below.
 */
#if !defined(_LGPL_SOURCE) && !defined(__SANITIZE_THREAD__)
#define _LGPL_SOURCE
#endif
#include <urcu.h>

#include "dup.h"

/* ---- fault injection and allocation accounting (harness/alloc.c) ---- */
bool kt_should_fail(const char *site);
void *kt_alloc(size_t size, bool zero, const char *site);
void kt_free(const void *ptr);

#define __kt_site		__FILE__ ":" __stringify(__LINE__)
#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

#define kmalloc(size, gfp)	kt_alloc(size, (gfp) & __GFP_ZERO, __kt_site)
#define kzalloc(size, gfp)	kt_alloc(size, true, __kt_site)
#define kcalloc(n, size, gfp)						\
	({ size_t __b;							\
	   __builtin_mul_overflow((size_t)(n), (size_t)(size), &__b) ?	\
		NULL : kt_alloc(__b, true, __kt_site); })
#define kvzalloc(size, gfp)	kzalloc(size, gfp)
#define kfree(p)		kt_free(p)
#define kvfree(p)		kt_free(p)

/* ---- warnings and printk ---- */
void kt_warn(const char *cond, const char *file, int line);

#define WARN_ON(cond)							\
	({ bool __c = !!(cond);						\
	   if (unlikely(__c))						\
		kt_warn(#cond, __FILE__, __LINE__);			\
	   unlikely(__c); })
#define WARN_ON_ONCE(cond)	WARN_ON(cond)
#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), #cond)

/* a product file that defines its own pr_fmt() is built with KT_OWN_PR_FMT */
#ifndef KT_OWN_PR_FMT
#define pr_fmt(fmt)		fmt
#endif
#define pr_err(fmt, ...)	fprintf(stderr, "# err: " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	fprintf(stderr, "# warn: " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	fprintf(stderr, "# " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...)	do { if (0) fprintf(stderr, fmt, ##__VA_ARGS__); } while (0)

/* ---- locks: pthreads that remember their owner ---- */
struct kt_lockinfo {
	pthread_t owner;
	int writers;	/* 0 or 1 */
	int readers;
};
void kt_assert_held(const struct kt_lockinfo *li, const char *what,
		    const char *file, int line);
void kt_assert_not_held(const struct kt_lockinfo *li, const char *what,
			const char *file, int line);
void kt_assert_held_write(const struct kt_lockinfo *li, const char *what,
			  const char *file, int line);

typedef struct {
	pthread_mutex_t m;
	struct kt_lockinfo li;
} spinlock_t;

struct mutex {
	pthread_mutex_t m;
	struct kt_lockinfo li;
};

struct rw_semaphore {
	pthread_rwlock_t rw;
	struct kt_lockinfo li;
};

static inline void __kt_lock_acquired(struct kt_lockinfo *li)
{
	li->owner = pthread_self();
	li->writers = 1;
}

static inline void __kt_lock_releasing(struct kt_lockinfo *li)
{
	li->writers = 0;
}

#define DEFINE_SPINLOCK(x)	spinlock_t x = { .m = PTHREAD_MUTEX_INITIALIZER }
#define spin_lock_init(l)						\
	do { pthread_mutex_init(&(l)->m, NULL);				\
	     (l)->li.writers = 0; (l)->li.readers = 0; } while (0)
#define spin_lock(l)							\
	do { pthread_mutex_lock(&(l)->m); __kt_lock_acquired(&(l)->li); } while (0)
#define spin_unlock(l)							\
	do { __kt_lock_releasing(&(l)->li); pthread_mutex_unlock(&(l)->m); } while (0)
#define spin_lock_irqsave(l, flags)	do { (void)(flags); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)

#define mutex_init(l)		spin_lock_init(l)
#define mutex_lock(l)		spin_lock(l)
#define mutex_unlock(l)		spin_unlock(l)
#define mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)

#define init_rwsem(s)							\
	do { pthread_rwlock_init(&(s)->rw, NULL);			\
	     (s)->li.writers = 0; (s)->li.readers = 0; } while (0)
#define down_write(s)							\
	do { pthread_rwlock_wrlock(&(s)->rw); __kt_lock_acquired(&(s)->li); } while (0)
#define up_write(s)							\
	do { __kt_lock_releasing(&(s)->li); pthread_rwlock_unlock(&(s)->rw); } while (0)
#define down_read(s)							\
	do { pthread_rwlock_rdlock(&(s)->rw);				\
	     __atomic_add_fetch(&(s)->li.readers, 1, __ATOMIC_SEQ_CST); } while (0)
#define up_read(s)							\
	do { __atomic_sub_fetch(&(s)->li.readers, 1, __ATOMIC_SEQ_CST);	\
	     pthread_rwlock_unlock(&(s)->rw); } while (0)

/*
 * rwlock_t (KVM's mmu_lock): a queued rwlock, where a waiting writer holds
 * off new readers; so is this one (writer-preferring pthread rwlock).
 */
typedef struct {
	pthread_rwlock_t rw;
	struct kt_lockinfo li;
} rwlock_t;

static inline void rwlock_init(rwlock_t *l)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&l->rw, &attr);
	pthread_rwlockattr_destroy(&attr);
	l->li.writers = 0;
	l->li.readers = 0;
}

#define rwlock_destroy(l)	pthread_rwlock_destroy(&(l)->rw)
#define write_lock(l)		down_write(l)
#define write_unlock(l)		up_write(l)
#define read_lock(l)		down_read(l)
#define read_unlock(l)		up_read(l)

#define lockdep_assert_held(l)	kt_assert_held(&(l)->li, #l, __FILE__, __LINE__)
#define lockdep_assert_held_write(l) \
	kt_assert_held_write(&(l)->li, #l, __FILE__, __LINE__)
#define lockdep_assert_held_read(l) \
	kt_assert_held(&(l)->li, #l, __FILE__, __LINE__)
#define lockdep_assert_not_held(l) \
	kt_assert_not_held(&(l)->li, #l, __FILE__, __LINE__)

/* ---- files: a per-process table of struct file (standin/file.c) ---- */
struct file *fget(int fd);
void fput(struct file *file);
bool file_is_kvm(struct file *file);

/*
 * ---- the VMM's memory: pins and locked-memory accounting (standin/mm.c) ----
 * A page is pinned in the KVM model that owns the address; RLIMIT_MEMLOCK
 * is kt_mm.memlock_limit (pages) and CAP_IPC_LOCK is kt_mm.cap_ipc_lock
 * (both belong to the task in the kernel; the VMM is the only task here).
 * The VMM's user is kt_user: user_struct::locked_vm is what iommufd's
 * IOPT_PAGES_ACCOUNT_USER charges.
 */
struct mm_struct {
	long locked_vm;
	long pinned_vm;
	long memlock_limit;
	int refs;		/* mm_count: mmgrab()/mmdrop() */
	int users;		/* mm_users beyond the VMM's own: mmget_not_zero() */
	bool exited;		/* test knob: the VMM exited, mmget_not_zero() fails */
	bool cap_ipc_lock;
};
struct user_struct {
	long locked_vm;		/* atomic_long_t in the kernel: __atomic builtins */
};
struct task_struct {
	struct mm_struct *mm;
	struct user_struct *user;
};
/*
 * current is per thread: every thread starts as the VMM's task (current->mm
 * is kt_mm); kt_set_kthread() makes the calling thread a kernel thread
 * (workqueue workers, an IOMMU driver's IRQ thread), whose current->mm is
 * NULL but during kthread_use_mm().
 */
extern __thread struct task_struct *kt_current;
void kt_set_kthread(void);
bool mmget_not_zero(struct mm_struct *mm);
void mmput(struct mm_struct *mm);
void kthread_use_mm(struct mm_struct *mm);
void kthread_unuse_mm(struct mm_struct *mm);
extern struct mm_struct kt_mm;		/* the VMM's mm: test knobs and counters */
extern struct user_struct kt_user;	/* the VMM's user */
#define current kt_current
#define current_user()		(kt_current->user)
#define CAP_IPC_LOCK		14
bool capable(int cap);
int __account_locked_vm(struct mm_struct *mm, unsigned long pages, bool inc,
			struct task_struct *task, bool bypass_rlim);
long pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags,
			 struct page **pages);
void unpin_user_pages(struct page **pages, unsigned long npages);
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
				 bool make_dirty);
/* the emulated physical page behind @page (platform/kvm_mmu.h) */
unsigned long page_to_pfn(const struct page *page);
int account_locked_vm(struct mm_struct *mm, unsigned long pages, bool inc);
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);
#define kvcalloc(n, size, gfp)	kcalloc(n, size, gfp)

/*
 * ---- the machine's physical memory as the kernel maps it (standin/mm.c) ----
 * The emulated physical memory (platform/phys.h) of the IOMMU units in use
 * is the machine's: kt_intel_iommu_create() takes a reference on it with
 * kt_machine_mem_get(), which allocates the zero page on the first one;
 * the last kt_machine_mem_put() frees it.  phys_to_virt() is the direct
 * map of that memory; pfn_valid() says whether a frame lies within it.
 */
struct phys;
void kt_machine_mem_get(struct phys *pm);
void kt_machine_mem_put(struct phys *pm);
void *phys_to_virt(phys_addr_t pa);
bool pfn_valid(unsigned long pfn);
struct page *kt_zero_page(void);
#define ZERO_PAGE(vaddr)	((void)(vaddr), kt_zero_page())
#define PHYS_PFN(x)		((unsigned long)((x) >> PAGE_SHIFT))
/* a frame of the machine's memory, through its direct map */
#define kmap_local_pfn(pfn)	phys_to_virt((phys_addr_t)(pfn) << PAGE_SHIFT)
#define kunmap_local(va)	((void)(va))
#define page_to_phys(page)	((phys_addr_t)page_to_pfn(page) << PAGE_SHIFT)

/*
 * ---- waiting for a variable (wait_var_event(), wake_up_var()) ----
 * One process-wide condition variable: a waiter re-evaluates @cond under
 * its mutex, a waker broadcasts under it after changing the variable, so
 * no wake-up is lost (standin/mm.c).
 */
extern pthread_mutex_t kt_var_lock;
extern pthread_cond_t kt_var_cond;
void wake_up_var(void *var);
#define wait_var_event(var, cond)					\
	do {								\
		(void)(var);						\
		pthread_mutex_lock(&kt_var_lock);			\
		while (!(cond))						\
			pthread_cond_wait(&kt_var_cond, &kt_var_lock);	\
		pthread_mutex_unlock(&kt_var_lock);			\
	} while (0)

/* The same, giving up after @timeout jiffies (HZ: dup.h); 0 on timeout. */
long kt_wait_var_timeout_ns(u64 deadline_ns);
#define wait_var_event_timeout(var, cond, timeout)			\
	({								\
		u64 __dl = ktime_get_ns() +				\
			   (u64)(timeout) * (1000000000ULL / HZ);	\
		long __left = 1;					\
		(void)(var);						\
		pthread_mutex_lock(&kt_var_lock);			\
		while (!(cond) && __left)				\
			__left = kt_wait_var_timeout_ns(__dl);		\
		__left = (cond) ? 1 : 0;				\
		pthread_mutex_unlock(&kt_var_lock);			\
		__left;							\
	})

/*
 * ---- wait queues (wake_up_interruptible()) ----
 * Nothing sleeps on one: the test polls what the queue's owner guards, as
 * poll(2) of its file would (standin/fault.c).  A queue counts its
 * wake-ups, which is what the test's poll compares.
 */
struct wait_queue_head {
	unsigned long wakeups;	/* __atomic builtins */
};
typedef struct wait_queue_head wait_queue_head_t;
#define init_waitqueue_head(wq)						\
	__atomic_store_n(&(wq)->wakeups, 0, __ATOMIC_RELAXED)
#define wake_up_interruptible(wq)					\
	((void)__atomic_add_fetch(&(wq)->wakeups, 1, __ATOMIC_RELEASE))

/* ---- time ---- */
#include <time.h>
static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- RCU: liburcu provides rcu_read_lock(), synchronize_rcu(), call_rcu() ---- */
#define rcu_read_lock_held()	1

/*
 * ThreadSanitizer does not see liburcu's grace periods (the library is not
 * instrumented).  Under -fsanitize=thread the host build tells it what RCU
 * guarantees, so that a report is a real race:
 * - rcu_assign_pointer() is a release store, rcu_dereference() an acquire
 *   load;
 * - a callback runs after the call_rcu() that queued it, and after every
 *   read-side critical section that ended before it: call_rcu() queues a
 *   wrapper that acquires both before calling the function (the second
 *   edge is wider than RCU's guarantee, as it also orders readers that
 *   began after the call_rcu(); it can only hide a reader that uses a
 *   pointer it could not have found, which the emulated memory's poisoning
 *   of freed pages catches instead);
 * - synchronize_rcu() returns after every reader that ended before;
 *   rcu_barrier() after every callback that ran before.
 * Elsewhere liburcu's own definitions stand.
 */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>

extern char kt_rcu_tsan_readers, kt_rcu_tsan_callbacks;	/* harness/alloc.c */

struct kt_rcu_wrap {
	struct rcu_head rcu;
	struct rcu_head *head;
	void (*func)(struct rcu_head *head);
};

static inline void kt_rcu_wrap_cb(struct rcu_head *rcu)
{
	struct kt_rcu_wrap *w = caa_container_of(rcu, struct kt_rcu_wrap, rcu);

	__tsan_acquire(w);
	__tsan_acquire(&kt_rcu_tsan_readers);
	w->func(w->head);
	__tsan_release(&kt_rcu_tsan_callbacks);
	free(w);
}

static inline void kt_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *))
{
	struct kt_rcu_wrap *w = malloc(sizeof(*w));

	if (!w)
		abort();
	w->head = head;
	w->func = func;
	__tsan_release(w);
	urcu_memb_call_rcu(&w->rcu, kt_rcu_wrap_cb);
}

static inline void kt_rcu_read_unlock(void)
{
	__tsan_release(&kt_rcu_tsan_readers);
	urcu_memb_read_unlock();
}

static inline void kt_synchronize_rcu(void)
{
	urcu_memb_synchronize_rcu();
	__tsan_acquire(&kt_rcu_tsan_readers);
}

static inline void kt_rcu_barrier(void)
{
	urcu_memb_barrier();
	__tsan_acquire(&kt_rcu_tsan_callbacks);
}

#undef rcu_read_unlock
#undef call_rcu
#undef synchronize_rcu
#undef rcu_barrier
#undef rcu_dereference
#undef rcu_assign_pointer
#define rcu_read_unlock()		kt_rcu_read_unlock()
#define call_rcu(head, func)		kt_call_rcu(head, func)
#define synchronize_rcu()		kt_synchronize_rcu()
#define rcu_barrier()			kt_rcu_barrier()
#define rcu_dereference(p)		__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_assign_pointer(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#endif

#endif /* __KVM_IOMMU_SHIM_CUSTOM_H */
