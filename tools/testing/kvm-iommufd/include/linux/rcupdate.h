/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: RCU (liburcu), in the shims (dup.h, custom.h). */
#include "../../kvm_iommu_internal.h"
