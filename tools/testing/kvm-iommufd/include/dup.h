/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build shims, kind 2 of 3: declarations that mirror the kernel's.
 *
 * These must keep the kernel's meaning (names, argument order, return
 * conventions) so that product code compiles unchanged in both builds.
 * They are written for this project; keep them in step with Linux 6.12.
 */
#ifndef __KVM_IOMMU_SHIM_DUP_H
#define __KVM_IOMMU_SHIM_DUP_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;
#define U32_MAX		((u32)~0U)
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef long long s64;
typedef u64 phys_addr_t;
typedef u64 gpa_t;
typedef u64 gfn_t;
typedef u64 hpa_t;
typedef unsigned long kvm_pfn_t;

#ifndef PAGE_SHIFT
#define PAGE_SHIFT		12
#endif
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)
#define U64_MAX			((u64)~0ULL)
#define HZ			100

#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK(h, l)		(((~0UL) << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l)	(((~0ULL) << (l)) & (~0ULL >> (63 - (h))))

#define __bf_shf(x)		(__builtin_ffsll(x) - 1)
#define FIELD_PREP(mask, val)	(((u64)(val) << __bf_shf(mask)) & (mask))
#define FIELD_GET(mask, reg)	(((reg) & (mask)) >> __bf_shf(mask))

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN(x, a)		(((x) + (a) - 1) & ~((typeof(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((typeof(x))(a) - 1)) == 0)
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)		((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define SZ_4K			0x1000UL
#define SZ_32K			0x8000UL
#define SZ_2M			0x200000UL
#define SZ_1G			0x40000000UL

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)
#define fallthrough		__attribute__((__fallthrough__))

#define MAX_ERRNO		4095
#define IS_ERR_VALUE(x)		((unsigned long)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }

/* Doubly linked list, same API and semantics as <linux/list.h>. */
struct list_head {
	struct list_head *next, *prev;
};
#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)
static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}
static inline void __list_link(struct list_head *n, struct list_head *prev,
			       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_link(n, head, head->next);
}
static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_link(n, head->prev, head);
}
static inline void list_del_init(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	INIT_LIST_HEAD(e);
}
static inline void list_del(struct list_head *e)
{
	list_del_init(e);
}
static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}
#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_entry((head)->next, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_entry(pos->member.next, typeof(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_entry((head)->next, typeof(*pos), member),	\
	     n = list_entry(pos->member.next, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = n, n = list_entry(n->member.next, typeof(*n), member))

/* Atomics: the subset the product uses, on the compiler's builtins. */
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
#define atomic_read(a)		__atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define atomic_set(a, v)	__atomic_store_n(&(a)->counter, v, __ATOMIC_RELAXED)
#define atomic_inc(a)		__atomic_add_fetch(&(a)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_inc_return(a)	__atomic_add_fetch(&(a)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_dec(a)		__atomic_sub_fetch(&(a)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_dec_and_test(a)	(__atomic_sub_fetch(&(a)->counter, 1, __ATOMIC_SEQ_CST) == 0)
#define atomic64_read(a)	__atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define atomic64_add(v, a)	__atomic_add_fetch(&(a)->counter, v, __ATOMIC_SEQ_CST)
#define atomic64_sub(v, a)	__atomic_sub_fetch(&(a)->counter, v, __ATOMIC_SEQ_CST)
typedef struct { long counter; } atomic_long_t;
/* User memory is the test process's own memory. */
#define u64_to_user_ptr(x)	((void __user *)(uintptr_t)(x))
static inline unsigned long copy_from_user(void *to, const void __user *from,
					   unsigned long n)
{
	memcpy(to, from, n);
	return 0;
}
static inline unsigned long copy_to_user(void __user *to, const void *from,
					 unsigned long n)
{
	memcpy(to, from, n);
	return 0;
}
/* <linux/refcount.h>: the subset iommufd's objects use */
typedef struct { atomic_t refs; } refcount_t;
#define refcount_set(r, n)	atomic_set(&(r)->refs, n)
#define refcount_read(r)	atomic_read(&(r)->refs)
#define refcount_inc(r)		((void)atomic_inc(&(r)->refs))
#define refcount_dec(r)		((void)atomic_dec(&(r)->refs))
#define refcount_dec_and_test(r) atomic_dec_and_test(&(r)->refs)
#define atomic_long_or(v, a)	__atomic_or_fetch(&(a)->counter, v, __ATOMIC_SEQ_CST)
#ifndef BITS_PER_LONG
#define BITS_PER_LONG		(8 * (int)sizeof(long))
#endif
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
/* Little-endian bitmaps (KVM's dirty bitmaps); the host is little-endian. */
#define set_bit_le(nr, addr)						\
	((void)__atomic_or_fetch(&((unsigned long *)(addr))[(nr) / BITS_PER_LONG], \
				 1UL << ((nr) % BITS_PER_LONG), __ATOMIC_SEQ_CST))
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#ifdef __SANITIZE_THREAD__
/*
 * TSan has no fences; x86's smp_rmb() is a compiler barrier, and what it
 * orders in the host build is read with atomic loads (see struct kvm's
 * mmu_invalidate_seq), which TSan follows.
 */
#define smp_rmb()		__asm__ __volatile__("" ::: "memory")
#else
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#define smp_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define cmpxchg64(p, o, n)	__sync_val_compare_and_swap(p, o, n)
#define xchg(p, v)		__atomic_exchange_n(p, v, __ATOMIC_SEQ_CST)

/* GFP flags are accepted and ignored; the counting allocator decides. */
typedef unsigned int gfp_t;
#define GFP_KERNEL		0x1u
#define GFP_KERNEL_ACCOUNT	0x3u
#define GFP_ATOMIC		0x4u
#define __GFP_ZERO		0x100u
#define __GFP_NOWARN		0x200u

/* VFS: the subset the core uses to hold a VM's file (see custom.h). */
struct file {
	void *private_data;
	/* test fields */
	int refs;
	bool is_kvm;
	void (*release)(struct file *file);
};

/* Device and IOMMU driver interfaces, as include/linux/iommu.h with the series. */
struct iommu_ops;
struct kvm_tdp_export;

/* include/linux/iommu.h: the IOMMU core's per-device data */
struct dev_iommu {
	void *priv;		/* the driver's: dev_iommu_priv_get() */
	u32 require_direct:1;	/* firmware asks for 1:1 mappings (RMRR) */
};

struct device {
	const struct iommu_ops *iommu_ops;
	struct dev_iommu *iommu;	/* set when the driver probes the device */
	/* test fields */
	struct dev_iommu kt_dev_iommu;	/* what @iommu points to once probed */
	struct iommu_domain *kt_domain;	/* iommu_get_domain_for_dev() */
	u16 sid;
	const char *name;
};

static inline void *dev_iommu_priv_get(struct device *dev)
{
	return dev->iommu ? dev->iommu->priv : NULL;
}

static inline void dev_iommu_priv_set(struct device *dev, void *priv)
{
	dev->iommu->priv = priv;
}

#define IOMMU_NO_PASID		0U	/* the RID's own address space */

/*
 * include/linux/pci.h: every device of the host build is a PCI function
 * that issues DMA under its own requester id (no DMA alias).
 */
struct pci_dev;
#define dev_is_pci(dev)		((void)(dev), true)
static inline struct pci_dev *to_pci_dev(struct device *dev)
{
	return (struct pci_dev *)dev;
}

static inline struct pci_dev *pci_real_dma_dev(struct pci_dev *pdev)
{
	return pdev;
}

static inline int dev_to_node(struct device *dev)
{
	return -1;	/* NUMA_NO_NODE */
}

struct iommu_domain;
typedef u64 dma_addr_t;

/* include/linux/iommu.h: reserved regions of a device */
enum iommu_resv_type {
	IOMMU_RESV_DIRECT,
	IOMMU_RESV_DIRECT_RELAXABLE,
	IOMMU_RESV_RESERVED,
	IOMMU_RESV_MSI,
	IOMMU_RESV_SW_MSI,
};

struct iommu_resv_region {
	struct list_head list;
	phys_addr_t start;
	size_t length;
	int prot;
	enum iommu_resv_type type;
};

void iommu_get_resv_regions(struct device *dev, struct list_head *list);
void iommu_put_resv_regions(struct device *dev, struct list_head *list);

/* include/linux/mm.h: the VMA fields and flags the core reads */
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_IO		0x00004000UL
#define VM_PFNMAP	0x00000400UL

struct mm_struct;
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long vm_flags;
};

struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);

#define IOMMU_READ		(1 << 0)
#define IOMMU_WRITE		(1 << 1)
#define IOMMU_CACHE		(1 << 2)

/* What an unmap leaves to flush, for ->iotlb_sync() (see standin/iommu.c). */
struct iommu_iotlb_gather {
	unsigned long start;
	unsigned long end;	/* inclusive; start > end: nothing gathered */
	size_t pgsize;
	struct list_head freelist;
	bool queued;
};

struct iommu_domain_ops {
	int (*attach_dev)(struct iommu_domain *domain, struct device *dev);
	int (*map_pages)(struct iommu_domain *domain, unsigned long iova,
			 phys_addr_t paddr, size_t pgsize, size_t pgcount,
			 int prot, gfp_t gfp, size_t *mapped);
	size_t (*unmap_pages)(struct iommu_domain *domain, unsigned long iova,
			      size_t pgsize, size_t pgcount,
			      struct iommu_iotlb_gather *iotlb_gather);
	void (*flush_iotlb_all)(struct iommu_domain *domain);
	int (*iotlb_sync_map)(struct iommu_domain *domain, unsigned long iova,
			      size_t size);
	void (*iotlb_sync)(struct iommu_domain *domain,
			   struct iommu_iotlb_gather *iotlb_gather);
	phys_addr_t (*iova_to_phys)(struct iommu_domain *domain, dma_addr_t iova);
	bool (*enforce_cache_coherency)(struct iommu_domain *domain);
	int (*kvm_tdp_flush)(struct iommu_domain *domain, u64 start, u64 end,
			     bool tables);
	int (*kvm_tdp_set_root)(struct iommu_domain *domain, u64 root);
	void (*free)(struct iommu_domain *domain);
};

#define __IOMMU_DOMAIN_PAGING	(1U << 0)	/* iommu_map()/iommu_unmap() work */
#define IOMMU_DOMAIN_UNMANAGED	(__IOMMU_DOMAIN_PAGING)
#define IOMMU_DOMAIN_KVM_TDP	(1U << 7)	/* __IOMMU_DOMAIN_KVM_TDP */

struct iommu_domain_geometry {
	dma_addr_t aperture_start;	/* first address that can be mapped */
	dma_addr_t aperture_end;	/* last address that can be mapped */
	bool force_aperture;
};

struct iopf_group;

struct iommu_domain {
	unsigned int type;
	const struct iommu_ops *owner;	/* the driver that allocated it */
	const struct iommu_domain_ops *ops;
	unsigned long pgsize_bitmap;	/* page sizes the domain can map */
	struct iommu_domain_geometry geometry;
	int (*iopf_handler)(struct iopf_group *group);
	void *fault_data;
};

struct kvm_tdp_format;
struct kvm_iommu_share_info;

struct iopf_fault;
struct iommu_page_response;

struct iommu_ops {
	struct iommu_domain *(*domain_alloc_paging)(struct device *dev);
	void (*page_response)(struct device *dev, struct iopf_fault *evt,
			      struct iommu_page_response *msg);
	struct iommu_domain *(*domain_alloc_kvm_tdp)(struct device *dev,
						     const struct kvm_tdp_export *exp,
						     u32 *reasons);
	void (*kvm_tdp_share_info)(struct device *dev,
				   const struct kvm_tdp_format *fmt,
				   struct kvm_iommu_share_info *info);
};

static inline const struct iommu_ops *dev_iommu_ops(struct device *dev)
{
	return dev->iommu_ops;
}

static inline void iommu_domain_free(struct iommu_domain *domain)
{
	domain->ops->free(domain);
}

/* The IOMMU core's paging API over a domain's ops (standin/iommu.c). */
struct iommu_domain *iommu_paging_domain_alloc(struct device *dev);
int iommu_map(struct iommu_domain *domain, unsigned long iova,
	      phys_addr_t paddr, size_t size, int prot, gfp_t gfp);
size_t iommu_unmap(struct iommu_domain *domain, unsigned long iova, size_t size);
size_t iommu_unmap_fast(struct iommu_domain *domain, unsigned long iova,
			size_t size, struct iommu_iotlb_gather *iotlb_gather);
phys_addr_t iommu_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova);

static inline void iommu_iotlb_gather_init(struct iommu_iotlb_gather *gather)
{
	*gather = (struct iommu_iotlb_gather) { .start = ~0UL };
	INIT_LIST_HEAD(&gather->freelist);
}

static inline void iommu_iotlb_gather_add_range(struct iommu_iotlb_gather *gather,
						unsigned long iova, size_t size)
{
	unsigned long end = iova + size - 1;

	if (gather->start > iova)
		gather->start = iova;
	if (gather->end < end)
		gather->end = end;
}

static inline void iommu_iotlb_sync(struct iommu_domain *domain,
				    struct iommu_iotlb_gather *iotlb_gather)
{
	if (domain->ops->iotlb_sync)
		domain->ops->iotlb_sync(domain, iotlb_gather);
	iommu_iotlb_gather_init(iotlb_gather);
}

#define ALIGN_DOWN(x, a)	((x) & ~((typeof(x))(a) - 1))

/* GUP flags (include/linux/mm_types.h values are irrelevant on the host) */
#define FOLL_WRITE		0x01u
#define FOLL_LONGTERM		0x100u

struct page;
struct mm_struct;

/*
 * MMU-notifier events, as include/linux/mmu_notifier.h with the mm patch of
 * the series (MMU_NOTIFY_DISCARD and mmu_notifier_event_keeps_pinned()):
 * the KVM model raises its invalidations with them.
 */
enum mmu_notifier_event {
	MMU_NOTIFY_UNMAP = 0,
	MMU_NOTIFY_CLEAR,
	MMU_NOTIFY_PROTECTION_VMA,
	MMU_NOTIFY_PROTECTION_PAGE,
	MMU_NOTIFY_SOFT_DIRTY,
	MMU_NOTIFY_RELEASE,
	MMU_NOTIFY_MIGRATE,
	MMU_NOTIFY_EXCLUSIVE,
	MMU_NOTIFY_DISCARD,
};

static inline bool mmu_notifier_event_keeps_pinned(enum mmu_notifier_event event)
{
	switch (event) {
	case MMU_NOTIFY_CLEAR:
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return true;
	default:
		return false;
	}
}

/*
 * Work queues (standin/iopf.c): each queue has one worker thread that runs
 * its works in order, as an ordered workqueue does.
 */
struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct {
	struct list_head entry;
	work_func_t func;
};
#define INIT_WORK(w, f)	do { INIT_LIST_HEAD(&(w)->entry); (w)->func = (f); } while (0)
struct workqueue_struct;
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
void flush_workqueue(struct workqueue_struct *wq);

/* IO page faults, as include/linux/iommu.h in 6.12 (standin/iopf.c). */
#define IOMMU_FAULT_PERM_READ	(1 << 0)
#define IOMMU_FAULT_PERM_WRITE	(1 << 1)
#define IOMMU_FAULT_PERM_EXEC	(1 << 2)
#define IOMMU_FAULT_PERM_PRIV	(1 << 3)

enum iommu_fault_type {
	IOMMU_FAULT_PAGE_REQ = 1,
};

struct iommu_fault_page_request {
#define IOMMU_FAULT_PAGE_REQUEST_PASID_VALID	(1 << 0)
#define IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE	(1 << 1)
#define IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA	(1 << 2)
#define IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID	(1 << 3)
	u32 flags;
	u32 pasid;
	u32 grpid;
	u32 perm;
	u64 addr;
	u64 private_data[2];
};

struct iommu_fault {
	u32 type;
	struct iommu_fault_page_request prm;
};

enum iommu_page_response_code {
	IOMMU_PAGE_RESP_SUCCESS = 0,
	IOMMU_PAGE_RESP_INVALID,
	IOMMU_PAGE_RESP_FAILURE,
};

struct iommu_page_response {
	u32 pasid;
	u32 grpid;
	u32 code;
};

struct iopf_fault {
	struct iommu_fault fault;
	struct list_head list;
};

struct iopf_queue {
	struct workqueue_struct *wq;
};

struct iommu_fault_param {
	struct device *dev;
	struct iopf_queue *queue;
};

struct iommu_attach_handle {
	struct iommu_domain *domain;
};

struct iopf_group {
	struct iopf_fault last_fault;
	struct list_head faults;
	size_t fault_count;
	struct list_head pending_node;
	struct work_struct work;
	struct iommu_attach_handle *attach_handle;
	struct iommu_fault_param *fault_param;
	struct list_head node;
	u32 cookie;
};

void iopf_group_response(struct iopf_group *group,
			 enum iommu_page_response_code status);
void iopf_free_group(struct iopf_group *group);
int iommu_report_device_fault(struct device *dev, struct iopf_fault *evt);

/* The domain attached to @dev (the stand-in's attach records it). */
static inline struct iommu_domain *iommu_get_domain_for_dev(struct device *dev)
{
	return __atomic_load_n(&dev->kt_domain, __ATOMIC_ACQUIRE);
}

#endif /* __KVM_IOMMU_SHIM_DUP_H */
