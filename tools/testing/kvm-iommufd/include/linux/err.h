/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: ERR_PTR() and friends, in the shims (dup.h). */
#include "../../kvm_iommu_internal.h"
