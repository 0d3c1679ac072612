/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd IO address spaces sourced from a KVM VM: uAPI definitions.
 *
 * DOC: Why a device cannot share the VM's table
 *
 * When a device is attached to a KVM-sourced IOAS, the kernel compares
 * what KVM writes into its TDP (EPT/NPT) or stage-2 table with what the
 * device's IOMMU checks and ignores when it walks a table.  Every mismatch
 * is one bit of enum iommu_kvm_share_reason; a non-zero mask means the
 * device cannot walk KVM's table (it is served by a pinned IO page table
 * instead, or the request fails when sharing was required).
 */
#ifndef _UAPI_IOMMUFD_KVM_H
#define _UAPI_IOMMUFD_KVM_H

#include <linux/types.h>

/**
 * enum iommu_kvm_share_reason - why an IOMMU cannot walk KVM's table
 * @IOMMU_KVM_SHARE_NO_TRANSLATION: the IOMMU has no translation mode that
 *	can point at an external table (VT-d: scalable mode with second-stage
 *	translation)
 * @IOMMU_KVM_SHARE_FORMAT: the IOMMU reads permissions from other bits than
 *	KVM writes them to
 * @IOMMU_KVM_SHARE_LEVELS: the IOMMU cannot walk a table with as many
 *	levels as KVM's root (VT-d: SAGAW)
 * @IOMMU_KVM_SHARE_ADDR_WIDTH: KVM may write physical addresses wider than
 *	the IOMMU accepts
 * @IOMMU_KVM_SHARE_PAGE_SIZES: KVM may install leaves larger than the
 *	IOMMU can walk (VT-d: SLLPS)
 * @IOMMU_KVM_SHARE_RSVD_BITS: KVM sets, in present entries, bits the IOMMU
 *	checks as reserved (so DMA would fault where the vCPU does not)
 * @IOMMU_KVM_SHARE_NONPRESENT: an entry that maps nothing for KVM could
 *	look present to the IOMMU
 * @IOMMU_KVM_SHARE_MMIO_CACHING: KVM caches emulated-MMIO GFNs in entries
 *	the IOMMU would read as present (turn off MMIO caching to share)
 * @IOMMU_KVM_SHARE_WALK_COHERENCY: the IOMMU does not snoop its table walks,
 *	and KVM never flushes CPU caches after writing its table
 * @IOMMU_KVM_SHARE_ACCESS_TRACKING: KVM ages memory by making entries
 *	non-present (no hardware accessed bit), which a device that cannot
 *	fault would hit
 */
enum iommu_kvm_share_reason {
	IOMMU_KVM_SHARE_NO_TRANSLATION	= 1 << 0,
	IOMMU_KVM_SHARE_FORMAT		= 1 << 1,
	IOMMU_KVM_SHARE_LEVELS		= 1 << 2,
	IOMMU_KVM_SHARE_ADDR_WIDTH	= 1 << 3,
	IOMMU_KVM_SHARE_PAGE_SIZES	= 1 << 4,
	IOMMU_KVM_SHARE_RSVD_BITS	= 1 << 5,
	IOMMU_KVM_SHARE_NONPRESENT	= 1 << 6,
	IOMMU_KVM_SHARE_MMIO_CACHING	= 1 << 7,
	IOMMU_KVM_SHARE_WALK_COHERENCY	= 1 << 8,
	IOMMU_KVM_SHARE_ACCESS_TRACKING	= 1 << 9,
};

/**
 * enum iommu_kvm_mode - how a device on a KVM-sourced IOAS translates
 * @IOMMU_KVM_MODE_NONE: not attached (or the attachment was refused)
 * @IOMMU_KVM_MODE_SHARED: the IOMMU walks KVM's own table
 * @IOMMU_KVM_MODE_PINNED: the IOMMU walks its own table, built from the
 *	VM's memslots with the guest memory pinned
 */
enum iommu_kvm_mode {
	IOMMU_KVM_MODE_NONE	= 0,
	IOMMU_KVM_MODE_SHARED	= 1,
	IOMMU_KVM_MODE_PINNED	= 2,
};

#endif /* _UAPI_IOMMUFD_KVM_H */
