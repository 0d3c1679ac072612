/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu/tdp_mmu.h: the upstream TDP MMU
 * operations tdp_export.c and tdp_mmu_export.c call, kvm_tdp_mmu_put_root()
 * and tdp_mmu_iter_cond_resched() (made visible by patch 0008).  What the
 * series adds to the TDP MMU for the exporter is declared by the product's
 * arch/x86/kvm-iommu/tdp_export.h; the KVM model (platform/kvm_mmu.c)
 * implements it with the same contracts over its tables.
 */
#ifndef __KVM_X86_MMU_TDP_MMU_H
#define __KVM_X86_MMU_TDP_MMU_H

#include <linux/kvm_host.h>
#include "tdp_iter.h"

void kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root);

bool tdp_mmu_iter_cond_resched(struct kvm *kvm, struct tdp_iter *iter,
			       bool flush, bool shared);

#endif /* __KVM_X86_MMU_TDP_MMU_H */
