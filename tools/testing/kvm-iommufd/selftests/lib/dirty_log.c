// SPDX-License-Identifier: GPL-2.0-only
/* KVM dirty logging for the migration selftests: see dirty_log.h. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "dirty_log.h"
#include "iommufd_utils.h"

/* missing pages named in a diagnostic, the rest only counted */
#define MISSING_REPORTS		8

unsigned long *bitmap_alloc(unsigned long nbits)
{
	unsigned long *bm = calloc((nbits + BITS_PER_LONG - 1) / BITS_PER_LONG,
				   sizeof(unsigned long));

	TEST_ASSERT(bm, "out of memory");
	return bm;
}

unsigned long bitmap_weight(const unsigned long *bm, unsigned long nbits)
{
	unsigned long i, n = 0;

	for (i = 0; i < nbits; i++)
		n += test_bit(bm, i);
	return n;
}

unsigned long dirty_missing(const char *what, const unsigned long *reported,
			    const unsigned long *written, unsigned long npages,
			    uint64_t base_gpa)
{
	unsigned long i, n = 0;

	for (i = 0; i < npages; i++) {
		if (!test_bit(written, i) || test_bit(reported, i))
			continue;
		if (n++ < MISSING_REPORTS)
			tap_diag("%s: page %lu (GPA %#llx) written, not reported dirty",
				 what, i, (unsigned long long)(base_gpa + i * PAGE_SIZE));
	}
	if (n > MISSING_REPORTS)
		tap_diag("%s: ... %lu written pages not reported in all", what, n);
	return n;
}

int dirty_log_get(struct kvm_vm *vm, uint32_t slot, unsigned long *bitmap)
{
	struct kvm_dirty_log log = {
		.slot = slot,
		.dirty_bitmap = bitmap,
	};

	return _vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
}

int dirty_log_clear(struct kvm_vm *vm, uint32_t slot, uint64_t first,
		    uint32_t num, unsigned long *bitmap)
{
	struct kvm_clear_dirty_log log = {
		.slot = slot,
		.num_pages = num,
		.first_page = first,
		.dirty_bitmap = bitmap,
	};

	return _vm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &log);
}

static int vm_enable_cap(struct kvm_vm *vm, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap c = {
		.cap = cap,
		.args = { arg0 },
	};

	return _vm_ioctl(vm, KVM_ENABLE_CAP, &c);
}

int vm_check_cap(struct kvm_vm *vm, uint32_t cap)
{
	return _vm_ioctl(vm, KVM_CHECK_EXTENSION, (unsigned long)cap);
}

int dirty_log_enable_manual(struct kvm_vm *vm)
{
	return vm_enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			     KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
}

int dirty_ring_enable(struct kvm_vm *vm, uint32_t bytes, uint32_t *cap)
{
	*cap = vm_check_cap(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL) > 0 ?
	       KVM_CAP_DIRTY_LOG_RING_ACQ_REL : KVM_CAP_DIRTY_LOG_RING;
	return vm_enable_cap(vm, *cap, bytes);
}

int dirty_ring_enable_bitmap(struct kvm_vm *vm)
{
	return vm_enable_cap(vm, KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, 0);
}

int dirty_share_query(int iommufd, uint32_t dev_id, uint32_t ioas_id,
		      uint32_t *mode, uint32_t *dirty_log)
{
	struct iommu_kvm_share_query q;
	int ret;

	ret = _test_ioctl_kvm_share_query(iommufd, dev_id, ioas_id, &q);
	if (ret)
		return ret;
	*mode = q.out_mode;
	*dirty_log = q.out_dirty_log;
	return 0;
}

const char *dirty_log_name(uint32_t dirty_log)
{
	static char buf[16];

	switch (dirty_log) {
	case IOMMU_KVM_DIRTY_NONE:	return "NONE";
	case IOMMU_KVM_DIRTY_FAULTS:	return "FAULTS";
	case IOMMU_KVM_DIRTY_TABLE:	return "TABLE";
	case IOMMU_KVM_DIRTY_ALL:	return "ALL";
	}
	snprintf(buf, sizeof(buf), "%u", dirty_log);
	return buf;
}

void dirty_ring_map(struct kvm_vcpu *vcpu, uint32_t bytes, struct dirty_ring *ring)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd,
		 (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * page);
	TEST_ASSERT(p != MAP_FAILED, "mmap of vCPU %u's dirty ring: %s", vcpu->id,
		    errno_name(errno));
	ring->gfns = p;
	ring->nents = bytes / sizeof(struct kvm_dirty_gfn);
	ring->fetch = 0;
}

unsigned long dirty_ring_collect(struct dirty_ring *ring, uint32_t slot,
				 unsigned long *bitmap)
{
	unsigned long n = 0;

	for (;;) {
		struct kvm_dirty_gfn *e = &ring->gfns[ring->fetch % ring->nents];

		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (e->slot == slot)
			set_bit(bitmap, e->offset);
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		ring->fetch++;
		n++;
	}
	return n;
}
