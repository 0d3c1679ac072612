/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: the IOMMU core's driver interface is in dup.h. */
#include "../../kvm_iommu_internal.h"
