// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for the VMM's memory as the core pins it: pin_user_pages_fast()
 * resolves HVAs in the KVM models' address space (platform/kvm_mmu.c) and
 * counts pins per page; account_locked_vm() charges kt_mm against its
 * RLIMIT_MEMLOCK (kt_mm.memlock_limit, in pages) unless the task has
 * CAP_IPC_LOCK (kt_mm.cap_ipc_lock), as mm/util.c does.  kt_user is the
 * VMM's user: iommufd's IOPT_PAGES_ACCOUNT_USER charges its locked_vm.
 */
#include "../platform/kvm_mmu.h"

struct mm_struct kt_mm = { .memlock_limit = LONG_MAX };
struct user_struct kt_user;
static struct task_struct kt_task = { .mm = &kt_mm, .user = &kt_user };
__thread struct task_struct *kt_current = &kt_task;
/* a kernel thread's task, one per thread that called kt_set_kthread() */
static __thread struct task_struct kt_kthread;
/* protects kt_mm.locked_vm (mmap_write_lock() in the kernel) */
static pthread_mutex_t kt_mm_lock = PTHREAD_MUTEX_INITIALIZER;

/**
 * capable() - does the current task have capability @cap
 * @cap: a capability; only CAP_IPC_LOCK is modelled (kt_mm.cap_ipc_lock)
 *
 * Return: true when it has it.
 */
bool capable(int cap)
{
	return cap == CAP_IPC_LOCK && kt_current->mm &&
	       READ_ONCE(kt_current->mm->cap_ipc_lock);
}

/**
 * kt_set_kthread() - make the calling thread a kernel thread
 *
 * Its current->mm is NULL until kthread_use_mm(); it charges no user.
 */
void kt_set_kthread(void)
{
	kt_kthread.mm = NULL;
	kt_kthread.user = NULL;
	kt_current = &kt_kthread;
}

/**
 * mmget_not_zero() - take a user reference on @mm unless its process exited
 * @mm: the mm
 *
 * Return: true with a reference taken (mmput() drops it).
 */
bool mmget_not_zero(struct mm_struct *mm)
{
	if (__atomic_load_n(&mm->exited, __ATOMIC_ACQUIRE))
		return false;
	__atomic_add_fetch(&mm->users, 1, __ATOMIC_SEQ_CST);
	return true;
}

void mmput(struct mm_struct *mm)
{
	WARN_ON(__atomic_sub_fetch(&mm->users, 1, __ATOMIC_SEQ_CST) < 0);
}

/**
 * kthread_use_mm() - a kernel thread borrows @mm (current->mm = @mm)
 * @mm: the mm, with a user reference held by the caller
 */
void kthread_use_mm(struct mm_struct *mm)
{
	WARN_ON(kt_current != &kt_kthread || kt_kthread.mm);
	kt_kthread.mm = mm;
}

void kthread_unuse_mm(struct mm_struct *mm)
{
	WARN_ON(kt_kthread.mm != mm);
	kt_kthread.mm = NULL;
}

long pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags,
			 struct page **pages)
{
	int i;

	if (kt_should_fail("pin_user_pages_fast"))
		return -ENOMEM;
	for (i = 0; i < nr_pages; i++) {
		struct page *p = kvm_model_hva_to_page(start + (unsigned long)i * PAGE_SIZE,
						       gup_flags & FOLL_WRITE);

		if (!p)
			break;			/* like GUP: a short count, or -EFAULT */
		__atomic_add_fetch(&p->pins, 1, __ATOMIC_SEQ_CST);
		pages[i] = p;
	}
	return i ? i : -EFAULT;
}

void unpin_user_pages(struct page **pages, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		WARN_ON(__atomic_sub_fetch(&pages[i]->pins, 1, __ATOMIC_SEQ_CST) < 0);
}

/* The model's pages have no dirty state to keep: unpin only. */
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
				 bool make_dirty)
{
	(void)make_dirty;
	unpin_user_pages(pages, npages);
}

unsigned long page_to_pfn(const struct page *page)
{
	return page->hpa >> PAGE_SHIFT;
}

/**
 * __account_locked_vm() - charge or uncharge @mm's locked_vm
 * @mm: the mm
 * @pages: number of pages
 * @inc: charge (true) or uncharge
 * @task: whose RLIMIT_MEMLOCK applies (the stand-in's limit is
 *	@mm->memlock_limit: one task)
 * @bypass_rlim: charge without checking the limit (CAP_IPC_LOCK)
 *
 * Return: 0, or -ENOMEM when charging would exceed the limit (nothing is
 * charged then).
 */
int __account_locked_vm(struct mm_struct *mm, unsigned long pages, bool inc,
			struct task_struct *task, bool bypass_rlim)
{
	int ret = 0;

	(void)task;
	pthread_mutex_lock(&kt_mm_lock);
	if (inc) {
		if (!bypass_rlim && mm->locked_vm + (long)pages > mm->memlock_limit)
			ret = -ENOMEM;
		else
			mm->locked_vm += pages;
	} else {
		WARN_ON(mm->locked_vm < (long)pages);
		mm->locked_vm -= pages;
	}
	pthread_mutex_unlock(&kt_mm_lock);
	return ret;
}

int account_locked_vm(struct mm_struct *mm, unsigned long pages, bool inc)
{
	if (!pages || !mm)
		return 0;
	return __account_locked_vm(mm, pages, inc, current, capable(CAP_IPC_LOCK));
}

void mmgrab(struct mm_struct *mm)
{
	__atomic_add_fetch(&mm->refs, 1, __ATOMIC_SEQ_CST);
}

void mmdrop(struct mm_struct *mm)
{
	WARN_ON(__atomic_sub_fetch(&mm->refs, 1, __ATOMIC_SEQ_CST) < 0);
}

pthread_mutex_t kt_var_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t kt_var_cond = PTHREAD_COND_INITIALIZER;

void wake_up_var(void *var)
{
	(void)var;
	pthread_mutex_lock(&kt_var_lock);
	pthread_cond_broadcast(&kt_var_cond);
	pthread_mutex_unlock(&kt_var_lock);
}

/*
 * One wait of wait_var_event_timeout(), kt_var_lock held: until a wake-up
 * or the CLOCK_MONOTONIC deadline.  Return: 0 once the deadline passed.
 */
long kt_wait_var_timeout_ns(u64 deadline_ns)
{
	u64 now = ktime_get_ns();
	struct timespec ts;

	if (now >= deadline_ns)
		return 0;
	/* kt_var_cond waits on CLOCK_REALTIME */
	clock_gettime(CLOCK_REALTIME, &ts);
	now = deadline_ns - now + ts.tv_nsec;
	ts.tv_sec += now / 1000000000ULL;
	ts.tv_nsec = now % 1000000000ULL;
	pthread_cond_timedwait(&kt_var_cond, &kt_var_lock, &ts);
	return 1;
}

/* ---- the machine's physical memory (custom.h) ---- */

/* protects kt_machine */
static pthread_mutex_t kt_machine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct phys *pm;
	struct page zero;	/* .hpa: the zero page */
	int users;
} kt_machine;

/**
 * kt_machine_mem_get() - use @pm as the machine's physical memory
 * @pm: the emulated memory; one machine at a time
 *
 * The first reference allocates the zero page (a table of non-present
 * entries to any walker).  References to another memory are forgotten:
 * they belong to a test that failed before its teardown (its units are
 * dropped from dmar_drhd_units likewise, see kt_intel_iommu_create()).
 */
void kt_machine_mem_get(struct phys *pm)
{
	pthread_mutex_lock(&kt_machine_lock);
	if (kt_machine.pm != pm)
		kt_machine.users = 0;
	if (!kt_machine.users++) {
		kt_machine.pm = pm;
		kt_machine.zero.hpa = phys_alloc_kind(pm, 0, PHYS_OTHER);
		WARN_ON(!kt_machine.zero.hpa);
	}
	pthread_mutex_unlock(&kt_machine_lock);
}

/**
 * kt_machine_mem_put() - drop a reference of kt_machine_mem_get()
 * @pm: the memory passed to it
 *
 * The last one frees the zero page.
 */
void kt_machine_mem_put(struct phys *pm)
{
	pthread_mutex_lock(&kt_machine_lock);
	if (kt_machine.pm == pm && !WARN_ON(!kt_machine.users) &&
	    !--kt_machine.users) {
		phys_free(pm, kt_machine.zero.hpa, 0);
		kt_machine.zero.hpa = 0;
		kt_machine.pm = NULL;
	}
	pthread_mutex_unlock(&kt_machine_lock);
}

void *phys_to_virt(phys_addr_t pa)
{
	return phys_va(kt_machine.pm, pa);
}

bool pfn_valid(unsigned long pfn)
{
	return kt_machine.pm &&
	       phys_valid(kt_machine.pm, (u64)pfn << PAGE_SHIFT, PAGE_SIZE);
}

struct page *kt_zero_page(void)
{
	return &kt_machine.zero;
}
