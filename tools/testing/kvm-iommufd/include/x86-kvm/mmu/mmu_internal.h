/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu/mmu_internal.h: the shadow page
 * and memory cache types are in <asm/kvm_host.h>; the header cache here.
 */
#ifndef __KVM_X86_MMU_INTERNAL_H
#define __KVM_X86_MMU_INTERNAL_H

#include <linux/kvm_host.h>

extern struct kmem_cache *mmu_page_header_cache;

#endif /* __KVM_X86_MMU_INTERNAL_H */
