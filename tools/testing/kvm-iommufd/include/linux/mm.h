/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: the direct map and the zero page are in custom.h. */
#include "../../kvm_iommu_internal.h"
