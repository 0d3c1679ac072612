/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for virt/iommufd/kvm_iommu_internal.h.
 *
 * It uses the same include guard as the kernel header, so when a test
 * translation unit includes this file first, the product's own
 * aggregator is skipped and every kernel facility resolves to the shims in
 * include/ (stubs.h: no-ops; dup.h: mirrored declarations; custom.h:
 * test-customised versions).
 */
#ifndef __KVM_IOMMU_INTERNAL_H
#define __KVM_IOMMU_INTERNAL_H

#include "include/stubs.h"
#include "include/dup.h"
#include "include/custom.h"
/* iommufd's io_pagetable (iommufd_private.h in the kernel) */
#include "standin/iopt.h"
/* iommufd's objects, HWPTs and fault queue, around virt/iommufd/kvm_hwpt.c */
#include "standin/iommufd.h"
#include "standin/fault.h"

#endif /* __KVM_IOMMU_INTERNAL_H */
