/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: struct kvm is the model's (platform/kvm_mmu.h). */
#include "../../kvm_iommu_internal.h"
#include "../../platform/kvm_mmu.h"
