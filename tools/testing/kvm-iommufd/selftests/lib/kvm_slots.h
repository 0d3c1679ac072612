/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memslots the devices of a KVM-sourced IOAS cannot use:
 * IOMMU_KVM_SLOTS, raw memslots over any HVA, and the IO page table the
 * device's IOMMU walks, read back from the intel-iommu debugfs.
 */
#ifndef KVM_IOMMUFD_KVM_SLOTS_H
#define KVM_IOMMUFD_KVM_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/iommufd_kvm.h>

#include "kvm_util.h"

/*
 * IOMMU_KVM_SLOTS: 0 or -errno.  *@nr: in, the entries at @slots; out, the
 * memslots the IOAS follows.
 */
int kvm_slots_query(int iommufd, uint32_t ioas_id, uint32_t flags,
		    struct iommu_kvm_slot *slots, uint32_t *nr);
/* "UNMAPPED|PFNMAP", "none" */
const char *kvm_slot_reason_names(uint32_t reasons, char *buf, size_t len);
/*
 * Non-fatal: IOMMU_KVM_SLOTS (with @flags) must succeed and list a slot at
 * @gpa of @size with @reasons and @readonly.  Diagnoses what it got (and a
 * kernel without IOMMU_KVM_SLOTS: ENOTTY).
 */
bool kvm_slot_expect(int iommufd, uint32_t ioas_id, uint32_t flags, uint64_t gpa,
		     uint64_t size, uint32_t reasons, uint32_t readonly);
/* Non-fatal: IOMMU_KVM_SLOTS must succeed and list no slot at @gpa. */
bool kvm_slot_expect_absent(int iommufd, uint32_t ioas_id, uint64_t gpa);
/*
 * Non-fatal: IOMMU_KVM_SLOTS must list exactly the @n slots of @want, in
 * that (GPA) order.
 */
bool kvm_slots_expect_all(int iommufd, uint32_t ioas_id,
			  const struct iommu_kvm_slot *want, uint32_t n);

/*
 * KVM_SET_USER_MEMORY_REGION of memslot @slot over any @hva (mapped or
 * not, whatever it is), outside kvm_util's bookkeeping (use slot numbers
 * from KVM_MAX_SLOTS up); size 0 deletes.  0 or -errno.
 */
int kvm_set_slot(struct kvm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		 uint64_t size, const void *hva);

/*
 * An address range with nothing mapped: a PROT_NONE reservation that is
 * unmapped again, 2 MiB-aligned, where the kernel places no mmap() or brk
 * of the test's own (so it stays a hole until the test maps something
 * there with MAP_FIXED).
 */
void *hva_hole(size_t size);
/* A memfd of @size bytes (asserts); its fd. */
int memfd_of(size_t size);
/* mmap of @fd at @addr (MAP_FIXED when not NULL) with @prot; asserts. */
void *map_memfd(void *addr, size_t size, int prot, int fd, off_t off);

/*
 * The IO page table edu's IOMMU walks for its requests without PASID:
 * /sys/kernel/debug/iommu/intel/<edu>/domain_translation_struct, the
 * second-stage table of its PASID entry (PINNED: iommufd's IO page table;
 * SHARED: KVM's own table).
 */
struct io_pte {
	uint64_t iova;		/* first IOVA the leaf maps */
	uint64_t size;		/* 4 KiB, 2 MiB or 1 GiB */
	uint64_t val;		/* the leaf entry */
};

struct io_pt {
	size_t n;
	struct io_pte *e;	/* IOVA order */
};

/* Read the table now; false (diagnosed) if it cannot be read. */
bool io_pt_read(struct io_pt *pt);
void io_pt_free(struct io_pt *pt);
/* The leaf that translates @iova, or NULL. */
const struct io_pte *io_pt_lookup(const struct io_pt *pt, uint64_t iova);
/*
 * Non-fatal: every page of [@gpa, @gpa + @size) translates to the page this
 * process has at @hva (/proc/self/pagemap), writable iff @writable.
 */
bool io_pt_expect_maps(const struct io_pt *pt, const char *what, uint64_t gpa,
		       const void *hva, uint64_t size, bool writable);
/* Non-fatal: no page of [@gpa, @gpa + @size) translates. */
bool io_pt_expect_none(const struct io_pt *pt, const char *what, uint64_t gpa,
		       uint64_t size);

#endif /* KVM_IOMMUFD_KVM_SLOTS_H */
