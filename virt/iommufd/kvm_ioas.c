// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd core: the KVM-sourced IOAS and its SHARED domains.
 *
 * DOC: Invalidation coupling
 *
 * While at least one SHARED domain exists, the IOAS is registered with KVM
 * as an importer of the VM's TDP root.  KVM calls ->invalidate() on every
 * flush of that root, synchronously and possibly under its mmu_lock and
 * inside an RCU read-side section; the IOAS forwards the call to every
 * SHARED domain, whose kvm_tdp_flush op returns only once the hardware has
 * dropped the translations.  So when KVM's flush returns, no IOMMU can use
 * a removed translation, and no IOMMU walk can reach a table page KVM is
 * about to free.  Root replacement is forwarded the same way.
 *
 * DOC: Devices that cannot fault
 *
 * A device without a page-fault path (no PRI) must find every GPA of the
 * VM present in KVM's table before it may DMA, and KVM must not take a
 * translation away for its own reasons (reclaim, migration) while the
 * device uses it.  So with the first SHARED domain the IOAS pins every
 * page of every memslot of address space 0 (long-term, charged to the
 * VMM's RLIMIT_MEMLOCK) and faults each one into KVM's table with write
 * intent; it unpins them with the last SHARED domain.  No IO page table is
 * built.  The VMM can still drop translations itself (munmap,
 * MADV_DONTNEED): KVM's flush then blocks the device's DMA to those GPAs.
 *
 * Locking:
 * - kvm_iommu_ioas::lock (mutex) serialises domain allocation and freeing
 *   and the importer registration; it is never taken from KVM callbacks.
 * - kvm_iommu_ioas::domains_lock (spinlock) protects the domain list and
 *   the root; KVM callbacks take it, nested inside KVM's mmu_lock, so
 *   nothing here may call into KVM while holding it.
 */
#include "kvm_iommu_internal.h"
#include <linux/kvm_iommufd.h>
#include "kvm_iommu_trace.h"
#include <linux/kvm_tdp_export.h>
#include <uapi/linux/iommufd_kvm.h>

/**
 * struct kvm_iommu_ioas - the KVM side of a KVM-sourced IOAS
 * @kvm_file: reference on the VM's file: the VM lives while the IOAS does
 * @kvm: the VM
 * @lock: see DOC above
 * @domains_lock: see DOC above
 * @domains: SHARED domains (struct kvm_iommu_shared), under both locks
 *	for writing, either for reading
 * @nr_domains: entries in @domains; the importer is registered while > 0
 * @importer: our registration with KVM's exporter
 * @exp: root and format KVM reported; @exp.root under @domains_lock
 * @stats: counters, under @domains_lock
 * @mm: the VMM's mm, charged for the pins
 * @pinned: struct kvm_iommu_pinned ranges, under @lock
 * @nr_pinned: pages pinned, under @lock
 */
struct kvm_iommu_ioas {
	struct file *kvm_file;
	struct kvm *kvm;
	struct mutex lock;
	spinlock_t domains_lock;
	struct list_head domains;
	unsigned int nr_domains;
	struct kvm_tdp_importer importer;
	struct kvm_tdp_export exp;
	struct kvm_iommu_stats stats;
	struct mm_struct *mm;
	struct list_head pinned;
	unsigned long nr_pinned;
};

/* A memslot's pages, pinned for devices that cannot fault. */
struct kvm_iommu_pinned {
	struct list_head node;
	u64 gpa;
	unsigned long npages;
	struct page **pages;
};

struct kvm_iommu_shared {
	struct list_head node;
	struct iommu_domain *domain;
	u64 root;		/* root the domain was last pointed at */
};

static struct kvm_iommu_ioas *to_kio(struct kvm_tdp_importer *imp)
{
	return container_of(imp, struct kvm_iommu_ioas, importer);
}

static void kvm_iommu_invalidate(struct kvm_tdp_importer *imp, u64 start,
				 u64 end, unsigned int flags)
{
	struct kvm_iommu_ioas *kio = to_kio(imp);
	bool tables = flags & KVM_TDP_INV_TABLES;
	struct kvm_iommu_shared *s;
	u64 gpa_start, gpa_end;
	unsigned long irqflags;

	/* GFNs to GPAs; anything reaching past the GPA space means "all" */
	if (start == 0 && end == ~0ULL) {
		gpa_start = 0;
		gpa_end = ~0ULL;
	} else {
		gpa_start = start << PAGE_SHIFT;
		if (end > (~0ULL >> PAGE_SHIFT))
			gpa_end = ~0ULL;
		else
			gpa_end = end << PAGE_SHIFT;
	}

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	kio->stats.invalidations++;
	list_for_each_entry(s, &kio->domains, node) {
		int ret = s->domain->ops->kvm_tdp_flush(s->domain, gpa_start,
							gpa_end, tables);

		kio->stats.domain_flushes++;
		/* A failed IOTLB flush leaves DMA able to use freed memory. */
		if (WARN_ON(ret))
			kio->stats.flush_errors++;
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

static void kvm_iommu_root_changed(struct kvm_tdp_importer *imp, u64 new_root)
{
	struct kvm_iommu_ioas *kio = to_kio(imp);
	struct kvm_iommu_shared *s;
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	kio->exp.root = new_root;
	kio->stats.root_changes++;
	list_for_each_entry(s, &kio->domains, node) {
		if (WARN_ON(s->domain->ops->kvm_tdp_set_root(s->domain, new_root)))
			kio->stats.flush_errors++;
		s->root = new_root;
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
}

static void kvm_iommu_release(struct kvm_tdp_importer *imp)
{
	/*
	 * The IOAS holds the VM's file, so KVM cannot be destroying the VM
	 * while we are registered.
	 */
	WARN_ON(1);
}

static const struct kvm_tdp_importer_ops kvm_iommu_importer_ops = {
	.invalidate = kvm_iommu_invalidate,
	.root_changed = kvm_iommu_root_changed,
	.release = kvm_iommu_release,
};

/**
 * kvm_iommu_ioas_alloc() - the KVM side of a new KVM-sourced IOAS
 * @kvm_fd: a KVM VM file descriptor of the calling process
 *
 * Takes a reference on the VM's file, so the VM outlives the IOAS.
 *
 * Context: process context.
 * Return: the new object; ERR_PTR(-EBADF) if @kvm_fd is not an open file,
 * ERR_PTR(-EINVAL) if it is not a KVM VM, ERR_PTR(-ENOMEM).
 */
struct kvm_iommu_ioas *kvm_iommu_ioas_alloc(int kvm_fd)
{
	struct kvm_iommu_ioas *kio;
	struct file *file;

	file = fget(kvm_fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (!file_is_kvm(file)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	kio = kzalloc(sizeof(*kio), GFP_KERNEL_ACCOUNT);
	if (!kio) {
		fput(file);
		return ERR_PTR(-ENOMEM);
	}
	kio->kvm_file = file;
	kio->kvm = file->private_data;
	kio->mm = current->mm;
	mmgrab(kio->mm);
	INIT_LIST_HEAD(&kio->pinned);
	mutex_init(&kio->lock);
	spin_lock_init(&kio->domains_lock);
	INIT_LIST_HEAD(&kio->domains);
	kio->importer.ops = &kvm_iommu_importer_ops;
	return kio;
}

/**
 * kvm_iommu_ioas_free() - release the KVM side of an IOAS
 * @kio: the object; every SHARED domain must have been freed
 *
 * Context: process context.
 */
void kvm_iommu_ioas_free(struct kvm_iommu_ioas *kio)
{
	if (!kio)
		return;
	WARN_ON(kio->nr_domains || kio->nr_pinned);
	mmdrop(kio->mm);
	mutex_destroy(&kio->lock);
	fput(kio->kvm_file);
	kfree(kio);
}

static void unpin_range(struct kvm_iommu_ioas *kio, struct kvm_iommu_pinned *p,
			unsigned long npages)
{
	unpin_user_pages(p->pages, npages);
	account_locked_vm(kio->mm, npages, false);
	trace_kvm_iommu_unpin(p->gpa, npages);
}

static void unpin_all(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_pinned *p, *tmp;

	lockdep_assert_held(&kio->lock);
	list_for_each_entry_safe(p, tmp, &kio->pinned, node) {
		unpin_range(kio, p, p->npages);
		kio->nr_pinned -= p->npages;
		list_del(&p->node);
		kvfree(p->pages);
		kfree(p);
	}
}

/* Pin one memslot's pages and fault every page into KVM's table. */
static int pin_memslot(void *arg, const struct kvm_tdp_memslot *slot)
{
	struct kvm_iommu_ioas *kio = arg;
	unsigned int gup = FOLL_LONGTERM | (slot->readonly ? 0 : FOLL_WRITE);
	unsigned int map = slot->readonly ? 0 : KVM_TDP_MAP_WRITE;
	unsigned long npages = slot->size >> PAGE_SHIFT, done = 0;
	struct kvm_iommu_pinned *p;
	u64 off, mapped;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->gpa = slot->gpa;
	p->pages = kvcalloc(npages, sizeof(*p->pages), GFP_KERNEL_ACCOUNT);
	if (!p->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = account_locked_vm(kio->mm, npages, true);
	if (ret)
		goto err_free;
	while (done < npages) {
		long n = pin_user_pages_fast(slot->hva + done * PAGE_SIZE,
					     min(npages - done, 512UL), gup,
					     p->pages + done);

		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto err_unpin;
		}
		done += n;
	}
	trace_kvm_iommu_pin(slot->gpa, npages);
	/* Present, and writable unless the slot is read-only, before any DMA */
	for (off = 0; off < slot->size; off = ALIGN_DOWN(slot->gpa + off, mapped) +
							 mapped - slot->gpa) {
		ret = kvm_tdp_export_map(kio->kvm, slot->gpa + off, map, &mapped);
		if (ret)
			goto err_unpin;
	}
	p->npages = npages;
	list_add_tail(&p->node, &kio->pinned);
	kio->nr_pinned += npages;
	return 0;

err_unpin:
	unpin_user_pages(p->pages, done);
	account_locked_vm(kio->mm, npages, false);
	if (done == npages)
		trace_kvm_iommu_unpin(slot->gpa, npages);
err_free:
	kvfree(p->pages);
	kfree(p);
	return ret;
}

/* Pin and fault in every memslot; undone completely on failure. */
static int pin_all(struct kvm_iommu_ioas *kio)
{
	struct kvm_iommu_shared *s;
	unsigned long irqflags;
	int ret;

	lockdep_assert_held(&kio->lock);
	ret = kvm_tdp_export_for_each_memslot(kio->kvm, pin_memslot, kio);
	if (ret) {
		unpin_all(kio);
		return ret;
	}
	/*
	 * A unit in caching mode may have cached the entries as not present:
	 * KVM does not flush when it makes an entry present.
	 */
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_for_each_entry(s, &kio->domains, node)
		WARN_ON(s->domain->ops->kvm_tdp_flush(s->domain, 0, ~0ULL, false));
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	return 0;
}

/**
 * kvm_iommu_domain_alloc() - a SHARED domain translating through KVM's table
 * @kio: the IOAS's KVM side
 * @dev: the device the domain is for
 * @reasons: set to the enum iommu_kvm_share_reason mask when the device's
 *	IOMMU cannot walk KVM's table, else 0
 *
 * Registers with KVM's exporter when this is the first SHARED domain of
 * the IOAS.  The domain is on the invalidation list before any device can
 * be attached to it.
 *
 * Context: process context; takes @kio->lock.
 * Return: the domain; ERR_PTR(-EOPNOTSUPP) when sharing is not possible
 * (see @reasons); the exporter's error (-EOPNOTSUPP when the VM does not
 * use the TDP MMU); ERR_PTR(-ENOMEM).
 */
struct iommu_domain *kvm_iommu_domain_alloc(struct kvm_iommu_ioas *kio,
					    struct device *dev, u32 *reasons)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	struct iommu_domain *domain;
	struct kvm_iommu_shared *s;
	struct kvm_tdp_export exp;
	unsigned long irqflags;
	int ret;

	*reasons = 0;
	if (!ops->domain_alloc_kvm_tdp) {
		*reasons = IOMMU_KVM_SHARE_NO_TRANSLATION;
		return ERR_PTR(-EOPNOTSUPP);
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&kio->lock);
	if (!kio->nr_domains) {
		ret = kvm_tdp_export_register(kio->kvm, &kio->importer, &kio->exp);
		if (ret)
			goto err_unlock;
	}
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	exp = kio->exp;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);

	domain = ops->domain_alloc_kvm_tdp(dev, &exp, reasons);
	if (IS_ERR(domain)) {
		ret = PTR_ERR(domain);
		goto err_unregister;
	}
	s->domain = domain;
	s->root = exp.root;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_add_tail(&s->node, &kio->domains);
	kio->nr_domains++;
	kio->stats.shared_domains = kio->nr_domains;
	/* KVM replaced the root while the domain was being built */
	if (kio->exp.root != s->root) {
		WARN_ON(domain->ops->kvm_tdp_set_root(domain, kio->exp.root));
		s->root = kio->exp.root;
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	/* The device cannot fault: everything present before it is attached */
	if (kio->nr_domains == 1) {
		ret = pin_all(kio);
		if (ret)
			goto err_remove;
	}
	mutex_unlock(&kio->lock);
	trace_kvm_iommu_mode(IOMMU_KVM_MODE_SHARED, 0, exp.fmt.type,
			     exp.fmt.root_level);
	return domain;

err_remove:
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_del(&s->node);
	kio->nr_domains--;
	kio->stats.shared_domains = kio->nr_domains;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	iommu_domain_free(domain);

err_unregister:
	if (!kio->nr_domains)
		kvm_tdp_export_unregister(kio->kvm, &kio->importer);
err_unlock:
	mutex_unlock(&kio->lock);
	kfree(s);
	trace_kvm_iommu_mode(IOMMU_KVM_MODE_NONE, *reasons, 0, 0);
	return ERR_PTR(ret);
}

/**
 * kvm_iommu_domain_free() - take a SHARED domain off the invalidation list
 * @kio: the IOAS's KVM side
 * @domain: a domain from kvm_iommu_domain_alloc(), no longer attached
 *
 * Unregisters from KVM when it was the last SHARED domain.  The caller
 * frees the domain afterwards.
 *
 * Context: process context; takes @kio->lock.
 */
void kvm_iommu_domain_free(struct kvm_iommu_ioas *kio, struct iommu_domain *domain)
{
	struct kvm_iommu_shared *s, *found = NULL;
	unsigned long irqflags;

	mutex_lock(&kio->lock);
	spin_lock_irqsave(&kio->domains_lock, irqflags);
	list_for_each_entry(s, &kio->domains, node) {
		if (s->domain == domain) {
			found = s;
			list_del(&s->node);
			kio->nr_domains--;
			kio->stats.shared_domains = kio->nr_domains;
			break;
		}
	}
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	if (!WARN_ON(!found) && !kio->nr_domains) {
		unpin_all(kio);
		kvm_tdp_export_unregister(kio->kvm, &kio->importer);
	}
	mutex_unlock(&kio->lock);
	kfree(found);
}

/**
 * kvm_iommu_get_stats() - read the IOAS's counters
 * @kio: the IOAS's KVM side
 * @stats: filled with a consistent snapshot
 */
void kvm_iommu_get_stats(struct kvm_iommu_ioas *kio, struct kvm_iommu_stats *stats)
{
	unsigned long irqflags;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	*stats = kio->stats;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	stats->pinned_pages = READ_ONCE(kio->nr_pinned);
}

/**
 * kvm_iommu_ioas_root() - the KVM root the SHARED domains translate through
 * @kio: the IOAS's KVM side
 *
 * Return: the root's physical address, 0 while no SHARED domain exists.
 */
u64 kvm_iommu_ioas_root(struct kvm_iommu_ioas *kio)
{
	unsigned long irqflags;
	u64 root;

	spin_lock_irqsave(&kio->domains_lock, irqflags);
	root = kio->nr_domains ? kio->exp.root : 0;
	spin_unlock_irqrestore(&kio->domains_lock, irqflags);
	return root;
}
