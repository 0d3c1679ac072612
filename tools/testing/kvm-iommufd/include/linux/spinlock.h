/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: locks are pthreads that remember their owner (custom.h). */
#include "../../kvm_iommu_internal.h"
