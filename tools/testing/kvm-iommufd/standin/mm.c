// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for the VMM's memory as the core pins it: pin_user_pages_fast()
 * resolves HVAs in the KVM models' address space (platform/kvm_mmu.c) and
 * counts pins per page; account_locked_vm() charges kt_mm against its
 * RLIMIT_MEMLOCK (kt_mm.memlock_limit, in pages).
 */
#include "../platform/kvm_mmu.h"

struct mm_struct kt_mm = { .memlock_limit = LONG_MAX };
static struct task_struct kt_task = { .mm = &kt_mm };
struct task_struct *kt_current = &kt_task;
static pthread_mutex_t kt_mm_lock = PTHREAD_MUTEX_INITIALIZER;

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

int account_locked_vm(struct mm_struct *mm, unsigned long pages, bool inc)
{
	int ret = 0;

	pthread_mutex_lock(&kt_mm_lock);
	if (inc) {
		if (mm->locked_vm + (long)pages > mm->memlock_limit)
			ret = -ENOMEM;
		else
			mm->locked_vm += pages;
	} else {
		mm->locked_vm -= pages;
		WARN_ON(mm->locked_vm < 0);
	}
	pthread_mutex_unlock(&kt_mm_lock);
	return ret;
}

void mmgrab(struct mm_struct *mm)
{
	__atomic_add_fetch(&mm->refs, 1, __ATOMIC_SEQ_CST);
}

void mmdrop(struct mm_struct *mm)
{
	WARN_ON(__atomic_sub_fetch(&mm->refs, 1, __ATOMIC_SEQ_CST) < 0);
}
