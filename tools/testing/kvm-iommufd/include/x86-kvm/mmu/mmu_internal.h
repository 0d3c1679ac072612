/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu/mmu_internal.h: the shadow page
 * and memory cache types are in <asm/kvm_host.h>; the header cache, the NX
 * huge page setting and the ranged remote TLB flush here.
 */
#ifndef __KVM_X86_MMU_INTERNAL_H
#define __KVM_X86_MMU_INTERNAL_H

#include <linux/kvm_host.h>

extern struct kmem_cache *mmu_page_header_cache;

/* the NX huge page mitigation, as the VM's host has it */
bool kvm_model_nx_huge_pages(struct kvm *kvm);
#define is_nx_huge_page_enabled(kvm)	kvm_model_nx_huge_pages(kvm)

static inline void kvm_flush_remote_tlbs_gfn(struct kvm *kvm, gfn_t gfn,
					     int level)
{
	kvm_flush_remote_tlbs_range(kvm, gfn & -KVM_PAGES_PER_HPAGE(level),
				    KVM_PAGES_PER_HPAGE(level));
}

#endif /* __KVM_X86_MMU_INTERNAL_H */
