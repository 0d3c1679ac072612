/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM dirty logging for the migration selftests: harvest
 * interfaces (KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG with manual protect,
 * the dirty ring with its bitmap), page bitmaps, and how
 * IOMMU_KVM_SHARE_QUERY says a device's writes are reported.
 *
 * The rule the tests check: while a memslot logs dirty pages, every page
 * a device attached to a KVM-sourced IOAS may have written since the last
 * harvest is reported dirty by KVM's own interfaces, and a device that
 * cannot fault never has a write blocked because of logging.
 */
#ifndef KVM_IOMMUFD_DIRTY_LOG_H
#define KVM_IOMMUFD_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/iommufd_kvm.h>

#include "kvm_util.h"

/*
 * uAPI headers from before the dirty-log field: out_dirty_log took the
 * place of __reserved (same offset, same size), and its values are these.
 * The Makefile defines KVM_IOMMUFD_HAVE_DIRTY_LOG when the header has them.
 */
#ifndef KVM_IOMMUFD_HAVE_DIRTY_LOG
enum iommu_kvm_dirty_log {
	IOMMU_KVM_DIRTY_NONE	= 0,
	IOMMU_KVM_DIRTY_FAULTS	= 1,
	IOMMU_KVM_DIRTY_TABLE	= 2,
	IOMMU_KVM_DIRTY_ALL	= 3,
};
#define out_dirty_log		__reserved
#endif

#define BITS_PER_LONG		(8 * sizeof(unsigned long))

/* A bitmap of @nbits bits (calloc'd, freed by the caller) */
unsigned long *bitmap_alloc(unsigned long nbits);
static inline bool test_bit(const unsigned long *bm, unsigned long nr)
{
	return bm[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG) & 1;
}
static inline void set_bit(unsigned long *bm, unsigned long nr)
{
	bm[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}
unsigned long bitmap_weight(const unsigned long *bm, unsigned long nbits);

/*
 * Every page set in @written must be set in @reported: a TAP diagnostic
 * names the first ones that are not (as GPAs, from @base_gpa).  Returns the
 * number of written pages not reported.  Nothing is said about pages
 * reported and not written.
 */
unsigned long dirty_missing(const char *what, const unsigned long *reported,
			    const unsigned long *written, unsigned long npages,
			    uint64_t base_gpa);

/* KVM_GET_DIRTY_LOG of @slot into @bitmap; 0 or -errno */
int dirty_log_get(struct kvm_vm *vm, uint32_t slot, unsigned long *bitmap);
/* KVM_CLEAR_DIRTY_LOG of the pages set in @bitmap (from @first, @num pages) */
int dirty_log_clear(struct kvm_vm *vm, uint32_t slot, uint64_t first,
		    uint32_t num, unsigned long *bitmap);
/*
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE
 * only (not KVM_DIRTY_LOG_INITIALLY_SET: the log starts clear); 0 or -errno
 */
int dirty_log_enable_manual(struct kvm_vm *vm);
/*
 * Before any vCPU: a dirty ring of @bytes per vCPU, with
 * KVM_CAP_DIRTY_LOG_RING_ACQ_REL where KVM has it, else
 * KVM_CAP_DIRTY_LOG_RING; *@cap gets the one used.  0 or -errno.
 */
int dirty_ring_enable(struct kvm_vm *vm, uint32_t bytes, uint32_t *cap);
/* After the ring, before any memslot: KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP */
int dirty_ring_enable_bitmap(struct kvm_vm *vm);
/* KVM_CHECK_EXTENSION on the VM */
int vm_check_cap(struct kvm_vm *vm, uint32_t cap);

/* A vCPU's dirty ring, mapped from its fd, and where to fetch next */
struct dirty_ring {
	struct kvm_dirty_gfn *gfns;
	uint32_t nents;
	uint32_t fetch;
};

/* Map the dirty ring (@bytes, as enabled) of @vcpu; asserts. */
void dirty_ring_map(struct kvm_vcpu *vcpu, uint32_t bytes, struct dirty_ring *ring);
/*
 * Fetch the ring's dirty entries: those of @slot set their page in
 * @bitmap; each is marked for reset (KVM_RESET_DIRTY_RINGS resets them).
 * Returns the number of entries fetched.
 */
unsigned long dirty_ring_collect(struct dirty_ring *ring, uint32_t slot,
				 unsigned long *bitmap);

/*
 * IOMMU_KVM_SHARE_QUERY for (@dev_id, @ioas_id): 0 or -errno; *@mode and
 * *@dirty_log (enum iommu_kvm_dirty_log) filled on success.
 */
int dirty_share_query(int iommufd, uint32_t dev_id, uint32_t ioas_id,
		      uint32_t *mode, uint32_t *dirty_log);
const char *dirty_log_name(uint32_t dirty_log);

#endif /* KVM_IOMMUFD_DIRTY_LOG_H */
