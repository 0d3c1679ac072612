/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for arch/x86/kvm/mmu.h, found as "mmu.h" by KVM's
 * files through the include path the host Makefile gives them: the MMU
 * interfaces tdp_export.c calls, implemented by the KVM model
 * (platform/kvm_mmu.c).
 *
 * KVM's module-wide settings (enable_mmio_caching, the SPTE masks of
 * mmu/spte.h, the host's physical address width) are per VM in the model,
 * which emulates one host per VM (its struct kspte_cfg): where KVM reads a
 * global, these macros read the VM of the caller's scope, named @kvm in
 * every such use.
 */
#ifndef __KVM_X86_MMU_H
#define __KVM_X86_MMU_H

#include <linux/kvm_host.h>

extern bool tdp_enabled;
extern bool tdp_mmu_enabled;
/* enable_mmio_caching, as the VM's host has it (struct kspte_cfg) */
bool kvm_model_mmio_caching(struct kvm *kvm);
#define enable_mmio_caching	kvm_model_mmio_caching(kvm)

int kvm_mmu_topup_memory_cache(struct kvm_mmu_memory_cache *mc, int min);
void kvm_mmu_free_memory_cache(struct kvm_mmu_memory_cache *mc);

int kvm_mmu_max_mapping_level(struct kvm *kvm,
			      const struct kvm_memory_slot *slot, gfn_t gfn,
			      int max_level);
bool kvm_mmu_may_ignore_guest_pat(struct kvm *kvm);

/* kvm_x86_ops.cpu_dirty_log_size: PML's log, 0 without */
#define kvm_cpu_dirty_log_size()	kvm_model_cpu_dirty_log_size(kvm)
int kvm_model_cpu_dirty_log_size(struct kvm *kvm);

/* boot_cpu_data and kvm_host: the host's physical address widths */
struct kt_cpuinfo_x86 {
	u8 x86_phys_bits;
};

struct kt_kvm_host_values {
	u8 maxphyaddr;
};

#define boot_cpu_data		(*kvm_model_cpu_data(kvm))
#define kvm_host		(*kvm_model_host_values(kvm))
const struct kt_cpuinfo_x86 *kvm_model_cpu_data(struct kvm *kvm);
const struct kt_kvm_host_values *kvm_model_host_values(struct kvm *kvm);

/* the highest GFN the host's physical address width allows */
#define kvm_mmu_max_gfn()	((1ULL << (kvm_host.maxphyaddr - PAGE_SHIFT)) - 1)

#endif /* __KVM_X86_MMU_H */
