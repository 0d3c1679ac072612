/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small KVM selftest library: VMs, memslots, vCPUs and real-mode guests.
 *
 * ioctl wrappers come in three tiers:
 *   __vm_ioctl(vm, cmd, arg)  raw ioctl(): -1 and errno on failure
 *   _vm_ioctl(vm, cmd, arg)   returns the ioctl's value, or -errno
 *   vm_ioctl(vm, cmd, arg)    asserts success, naming the ioctl and errno
 * and the same for kvm_ (the /dev/kvm fd of a VM) and vcpu_.
 */
#ifndef KVM_IOMMUFD_KVM_UTIL_H
#define KVM_IOMMUFD_KVM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "tap.h"

#define KVM_MAX_SLOTS		8
#define KVM_MAX_VCPUS		4

#define PAGE_SIZE		4096UL
#define HUGE_PAGE_SIZE		(2UL << 20)	/* host mappings of 2 MiB or more align to it */

enum vm_mem_backing {
	VM_MEM_ANON,	/* private anonymous mapping */
	VM_MEM_MEMFD,	/* shared mapping of a memfd, fd kept open */
};

struct vm_region {
	bool used;
	struct kvm_userspace_memory_region kvm;
	enum vm_mem_backing backing;
	int memfd;		/* -1 for VM_MEM_ANON */
	void *host_mem;		/* host mapping handed to KVM */
	size_t size;
	bool prealloc;		/* memory set up, memslot not created yet */
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
};

struct kvm_vm {
	int kvm_fd;
	int fd;
	size_t run_size;
	struct vm_region regions[KVM_MAX_SLOTS];
	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
};

/* Raw tier: the value of ioctl(), errno set on failure. */
#define __kvm_ioctl(vm, cmd, arg)	ioctl((vm)->kvm_fd, (cmd), (arg))
#define __vm_ioctl(vm, cmd, arg)	ioctl((vm)->fd, (cmd), (arg))
#define __vcpu_ioctl(vcpu, cmd, arg)	ioctl((vcpu)->fd, (cmd), (arg))

/* Returning tier: the ioctl's value, or -errno. */
static inline int __kvm_ret(int ret)
{
	return ret < 0 ? -errno : ret;
}

#define _kvm_ioctl(vm, cmd, arg)	__kvm_ret(__kvm_ioctl(vm, cmd, arg))
#define _vm_ioctl(vm, cmd, arg)		__kvm_ret(__vm_ioctl(vm, cmd, arg))
#define _vcpu_ioctl(vcpu, cmd, arg)	__kvm_ret(__vcpu_ioctl(vcpu, cmd, arg))

/* Asserting tier: returns the (non-negative) ioctl value. */
#define __kvm_ioctl_assert(ret, name)					\
({									\
	int __r = (ret);						\
	if (__r < 0)							\
		TEST_FAIL("%s failed: %s", name, errno_name(-__r));	\
	__r;								\
})

#define kvm_ioctl(vm, cmd, arg)						\
	__kvm_ioctl_assert(_kvm_ioctl(vm, cmd, arg), #cmd)
#define vm_ioctl(vm, cmd, arg)						\
	__kvm_ioctl_assert(_vm_ioctl(vm, cmd, arg), #cmd)
#define vcpu_ioctl(vcpu, cmd, arg)					\
	__kvm_ioctl_assert(_vcpu_ioctl(vcpu, cmd, arg), #cmd)

struct kvm_vm *vm_create(void);
void kvm_vm_free(struct kvm_vm *vm);

int _vm_add_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		    size_t size, uint32_t flags, enum vm_mem_backing backing);
void vm_add_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		    size_t size, uint32_t flags, enum vm_mem_backing backing);
/*
 * KVM_SET_USER_MEMORY_REGION on an existing slot, same host memory: a new
 * GPA (move), new flags, or size 0 (delete).  The host mapping stays until
 * kvm_vm_free(), so a test can still look at the memory.  0 or -errno.
 */
int _vm_update_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		       uint64_t size, uint32_t flags);
/*
 * Set up the host memory of a memslot without creating it, so that a later
 * _vm_add_memslot() of the same slot and size only makes the KVM call.
 */
int vm_prealloc_memslot(struct kvm_vm *vm, uint32_t slot, size_t size,
			enum vm_mem_backing backing);
/*
 * Delete the memslot in KVM (unless it is already gone there), then release
 * its host memory; also releases memory vm_prealloc_memslot() set up for a
 * slot never created.  0 or -errno.
 */
int _vm_delete_memslot(struct kvm_vm *vm, uint32_t slot);
struct vm_region *vm_get_region(struct kvm_vm *vm, uint32_t slot);
void *addr_gpa2hva(struct kvm_vm *vm, uint64_t gpa);
void vm_load_code(struct kvm_vm *vm, uint64_t gpa, const void *code,
		  size_t len);

struct kvm_vcpu *vcpu_add(struct kvm_vm *vm, unsigned int id);
void vcpu_setup_realmode(struct kvm_vcpu *vcpu, uint64_t entry_gpa,
			 uint16_t sp);
void vcpu_get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs);
void vcpu_set_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs);
void vcpu_get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);
void vcpu_set_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);

/* Runs the vCPU once (retrying on EINTR); returns run->exit_reason. */
uint32_t vcpu_run(struct kvm_vcpu *vcpu);
const char *exit_reason_str(uint32_t reason);

/*
 * For a KVM_EXIT_IO OUT of 1, 2 or 4 bytes: the value written and the port.
 * Returns false if the last exit was not such an OUT.
 */
bool vcpu_get_io_out(struct kvm_vcpu *vcpu, uint16_t *port, uint32_t *val);

#endif /* KVM_IOMMUFD_KVM_UTIL_H */
