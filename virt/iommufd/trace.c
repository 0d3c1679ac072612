// SPDX-License-Identifier: GPL-2.0
/* Instantiates the kvm_iommu trace events (kernel build only needs it once). */
#include "kvm_iommu_internal.h"

#define CREATE_TRACE_POINTS
#include "kvm_iommu_trace.h"
