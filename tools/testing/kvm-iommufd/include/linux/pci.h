/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: dev_is_pci(), to_pci_dev() and the like are in dup.h. */
#include "../../kvm_iommu_internal.h"
