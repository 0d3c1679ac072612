/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/include/asm/kvm_host.h: the x86 KVM
 * types and constants the TDP MMU's exporter side
 * (arch/x86/kvm-iommu/tdp_export.c) uses, with only the fields it reads.
 * The KVM model (platform/kvm_mmu.c) embeds them in its struct kvm and
 * fills them.
 */
#ifndef _ASM_X86_KVM_HOST_H
#define _ASM_X86_KVM_HOST_H

#include "../../kvm_iommu_internal.h"

/* page table levels, and the pages a leaf of each maps */
#define PG_LEVEL_4K		1
#define PG_LEVEL_2M		2
#define PG_LEVEL_1G		3
#define KVM_MAX_HUGEPAGE_LEVEL	PG_LEVEL_1G
#define KVM_HPAGE_GFN_SHIFT(x)	(((x) - 1) * 9)
#define KVM_HPAGE_SHIFT(x)	(PAGE_SHIFT + KVM_HPAGE_GFN_SHIFT(x))
#define KVM_HPAGE_SIZE(x)	(1UL << KVM_HPAGE_SHIFT(x))
#define KVM_PAGES_PER_HPAGE(x)	(KVM_HPAGE_SIZE(x) / PAGE_SIZE)

#define PT64_ROOT_4LEVEL	4
#define PT64_ROOT_5LEVEL	5
#define PT64_ROOT_MAX_LEVEL	PT64_ROOT_5LEVEL

/* the physical address of a kernel mapping: of emulated physical memory */
u64 kvm_model_pa(const void *va);
#define __pa(x)			kvm_model_pa(x)

/* kvm->arch.vm_type */
#define KVM_X86_DEFAULT_VM	0

/* memslot flags (uAPI) */
#define KVM_MEM_LOG_DIRTY_PAGES	(1u << 0)
#define KVM_MEM_READONLY	(1u << 1)

/* the role of a shadow page: the bits the exporter reads and clears */
union kvm_mmu_page_role {
	u32 word;
	struct {
		unsigned int level:4;
		unsigned int direct:1;
		unsigned int invalid:1;
		unsigned int guest_mode:1;
		unsigned int smm:8;
	};
};

/*
 * a page table page of the TDP MMU: its role and its entries; whether the
 * NX huge page mitigation keeps it from becoming a huge page
 */
struct kvm_mmu_page {
	union kvm_mmu_page_role role;
	u64 *spt;
	bool nx_huge_page_disallowed;
};

/*
 * objects topped up before mmu_lock is taken, consumed under it: shadow
 * page headers with @kmem_cache, else page-table pages; the model's caches
 * are its VMs', each knowing its VM (@model_kvm, set by the model)
 */
#define KVM_MODEL_CACHE_CAPACITY	8
struct kvm_mmu_memory_cache {
	gfp_t gfp_zero;
	u64 init_value;
	struct kmem_cache *kmem_cache;
	int nobjs;
	void *objects[KVM_MODEL_CACHE_CAPACITY];
	struct kvm *model_kvm;
};

void *kvm_mmu_memory_cache_alloc(struct kvm_mmu_memory_cache *mc);

/* the TDP MMU's side of an exported root (patch 0003); see tdp_export.c */
struct kvm_tdp_export_arch {
	struct kvm_mmu_page *root;
	struct kvm_mmu_memory_cache page_header_cache;
	struct kvm_mmu_memory_cache shadow_page_cache;
};

struct kvm_arch {
	u8 vm_type;
	bool has_protected_state;
	u64 shadow_mmio_value;
	struct kvm_tdp_export_arch tdp_export;
};

struct kvm_mmu {
	union kvm_mmu_page_role root_role;
};

struct kvm_vcpu_arch {
	struct kvm_mmu root_mmu;
};

struct kvm_vcpu {
	struct kvm *kvm;
	struct kvm_vcpu_arch arch;
};

#endif /* _ASM_X86_KVM_HOST_H */
