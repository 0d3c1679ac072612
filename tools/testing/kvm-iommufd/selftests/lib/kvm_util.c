// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small KVM selftest library: VMs, memslots, vCPUs and real-mode guests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kvm_util.h"

struct kvm_vm *vm_create(void)
{
	struct kvm_vm *vm;
	int ret;

	vm = calloc(1, sizeof(*vm));
	TEST_ASSERT(vm, "out of memory");

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(vm->kvm_fd >= 0, "open /dev/kvm: %s", errno_name(errno));

	ret = kvm_ioctl(vm, KVM_GET_API_VERSION, NULL);
	TEST_ASSERT(ret == KVM_API_VERSION, "KVM API version %d", ret);

	vm->run_size = kvm_ioctl(vm, KVM_GET_VCPU_MMAP_SIZE, NULL);
	TEST_ASSERT(vm->run_size >= sizeof(struct kvm_run),
		    "vcpu mmap size %zu", vm->run_size);

	vm->fd = kvm_ioctl(vm, KVM_CREATE_VM, 0);
	return vm;
}

void kvm_vm_free(struct kvm_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < KVM_MAX_VCPUS; i++) {
		struct kvm_vcpu *vcpu = vm->vcpus[i];

		if (!vcpu)
			continue;
		munmap(vcpu->run, vcpu->run_size);
		close(vcpu->fd);
		free(vcpu);
	}
	close(vm->fd);
	for (i = 0; i < KVM_MAX_SLOTS; i++) {
		struct vm_region *r = &vm->regions[i];

		if (!r->used)
			continue;
		munmap(r->host_mem, r->size);
		if (r->memfd >= 0)
			close(r->memfd);
	}
	close(vm->kvm_fd);
	free(vm);
}

/*
 * mmap() whose start is 2 MiB-aligned when the size is at least 2 MiB, so
 * that huge pages can back the region (THP, a collapse) and KVM can map
 * them as such: an aligned window of a larger PROT_NONE reservation.
 */
static void *map_aligned(size_t size, int flags, int fd)
{
	const size_t align = HUGE_PAGE_SIZE;
	uint8_t *resv, *p;

	if (size < align)
		return mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	resv = mmap(NULL, size + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)resv + align - 1) & ~(uintptr_t)(align - 1));
	if (mmap(p, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0) == MAP_FAILED) {
		int err = errno;

		munmap(resv, size + align);
		errno = err;
		return MAP_FAILED;
	}
	if (p > resv)
		munmap(resv, p - resv);
	munmap(p + size, resv + align - p);
	return p;
}

static int vm_region_alloc(struct vm_region *r, size_t size,
			   enum vm_mem_backing backing)
{
	void *mem;
	int fd = -1;

	switch (backing) {
	case VM_MEM_ANON:
		mem = map_aligned(size, MAP_PRIVATE | MAP_ANONYMOUS, -1);
		break;
	case VM_MEM_MEMFD:
		fd = memfd_create("kvm_vm_region", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, size)) {
			int err = -errno;

			close(fd);
			return err;
		}
		mem = map_aligned(size, MAP_SHARED, fd);
		break;
	default:
		return -EINVAL;
	}
	if (mem == MAP_FAILED) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	r->host_mem = mem;
	r->memfd = fd;
	r->size = size;
	r->backing = backing;
	return 0;
}

int _vm_add_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		    size_t size, uint32_t flags, enum vm_mem_backing backing)
{
	struct vm_region *r;
	int ret;

	if (slot >= KVM_MAX_SLOTS || vm->regions[slot].used)
		return -EINVAL;
	if ((gpa | size) & (PAGE_SIZE - 1) || !size)
		return -EINVAL;

	r = &vm->regions[slot];
	if (r->prealloc && (r->size != size || r->backing != backing))
		return -EINVAL;
	if (!r->prealloc) {
		ret = vm_region_alloc(r, size, backing);
		if (ret)
			return ret;
	}

	r->kvm.slot = slot;
	r->kvm.flags = flags;
	r->kvm.guest_phys_addr = gpa;
	r->kvm.memory_size = size;
	r->kvm.userspace_addr = (uintptr_t)r->host_mem;
	ret = _vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r->kvm);
	if (ret < 0) {
		if (r->prealloc)	/* kept for the next attempt */
			return ret;
		munmap(r->host_mem, size);
		if (r->memfd >= 0)
			close(r->memfd);
		return ret;
	}
	r->prealloc = false;
	r->used = true;
	return 0;
}

void vm_add_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		    size_t size, uint32_t flags, enum vm_mem_backing backing)
{
	int ret = _vm_add_memslot(vm, slot, gpa, size, flags, backing);

	if (ret)
		TEST_FAIL("memslot %u gpa 0x%llx size 0x%zx: %s",
			  slot, (unsigned long long)gpa, size, errno_name(-ret));
}

int _vm_update_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		       uint64_t size, uint32_t flags)
{
	struct kvm_userspace_memory_region m;
	struct vm_region *r;
	int ret;

	if (slot >= KVM_MAX_SLOTS || !vm->regions[slot].used)
		return -EINVAL;
	r = &vm->regions[slot];
	m = r->kvm;
	m.guest_phys_addr = gpa;
	m.memory_size = size;
	m.flags = flags;
	ret = _vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m);
	if (!ret)
		r->kvm = m;
	return ret;
}

int vm_prealloc_memslot(struct kvm_vm *vm, uint32_t slot, size_t size,
			enum vm_mem_backing backing)
{
	struct vm_region *r;
	int ret;

	if (slot >= KVM_MAX_SLOTS || vm->regions[slot].used || vm->regions[slot].prealloc)
		return -EINVAL;
	r = &vm->regions[slot];
	ret = vm_region_alloc(r, size, backing);
	if (!ret)
		r->prealloc = true;
	return ret;
}

int _vm_delete_memslot(struct kvm_vm *vm, uint32_t slot)
{
	struct vm_region *r;
	int ret;

	if (slot >= KVM_MAX_SLOTS || (!vm->regions[slot].used && !vm->regions[slot].prealloc))
		return -EINVAL;
	r = &vm->regions[slot];
	if (r->used && r->kvm.memory_size) {
		ret = _vm_update_memslot(vm, slot, r->kvm.guest_phys_addr, 0, 0);
		if (ret)
			return ret;
	}
	munmap(r->host_mem, r->size);
	if (r->memfd >= 0)
		close(r->memfd);
	r->used = false;
	r->prealloc = false;
	return 0;
}

struct vm_region *vm_get_region(struct kvm_vm *vm, uint32_t slot)
{
	TEST_ASSERT(slot < KVM_MAX_SLOTS && vm->regions[slot].used,
		    "no memslot %u", slot);
	return &vm->regions[slot];
}

void *addr_gpa2hva(struct kvm_vm *vm, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < KVM_MAX_SLOTS; i++) {
		struct vm_region *r = &vm->regions[i];

		if (!r->used || gpa < r->kvm.guest_phys_addr ||
		    gpa - r->kvm.guest_phys_addr >= r->size)
			continue;
		return (char *)r->host_mem + (gpa - r->kvm.guest_phys_addr);
	}
	TEST_ASSERT(0, "gpa 0x%llx is not in any memslot",
		    (unsigned long long)gpa);
	return NULL;
}

void vm_load_code(struct kvm_vm *vm, uint64_t gpa, const void *code,
		  size_t len)
{
	/* Both ends must fall in the same slot. */
	char *start = addr_gpa2hva(vm, gpa);
	char *last = addr_gpa2hva(vm, gpa + len - 1);

	TEST_ASSERT(last == start + len - 1,
		    "code at gpa 0x%llx len %zu crosses a memslot",
		    (unsigned long long)gpa, len);
	memcpy(start, code, len);
}

struct kvm_vcpu *vcpu_add(struct kvm_vm *vm, unsigned int id)
{
	struct kvm_vcpu *vcpu;

	TEST_ASSERT(id < KVM_MAX_VCPUS && !vm->vcpus[id], "vcpu id %u", id);
	vcpu = calloc(1, sizeof(*vcpu));
	TEST_ASSERT(vcpu, "out of memory");

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = vm_ioctl(vm, KVM_CREATE_VCPU, (unsigned long)id);
	vcpu->run_size = vm->run_size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	TEST_ASSERT(vcpu->run != MAP_FAILED, "mmap kvm_run: %s",
		    errno_name(errno));
	vm->vcpus[id] = vcpu;
	return vcpu;
}

void vcpu_get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs)
{
	vcpu_ioctl(vcpu, KVM_GET_REGS, regs);
}

void vcpu_set_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs)
{
	vcpu_ioctl(vcpu, KVM_SET_REGS, regs);
}

void vcpu_get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	vcpu_ioctl(vcpu, KVM_GET_SREGS, sregs);
}

void vcpu_set_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	vcpu_ioctl(vcpu, KVM_SET_SREGS, sregs);
}

static void realmode_seg(struct kvm_segment *s, uint16_t selector)
{
	s->selector = selector;
	s->base = (uint64_t)selector << 4;
	s->limit = 0xffff;
}

/*
 * Start the vCPU in real mode at entry_gpa (below 1 MiB), with CS chosen so
 * that IP is the low 16 bits of the entry, and DS = ES = SS = 0.
 */
void vcpu_setup_realmode(struct kvm_vcpu *vcpu, uint64_t entry_gpa,
			 uint16_t sp)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	TEST_ASSERT(entry_gpa < 0x100000, "real-mode entry 0x%llx",
		    (unsigned long long)entry_gpa);

	vcpu_get_sregs(vcpu, &sregs);
	realmode_seg(&sregs.cs, (entry_gpa & ~0xffffULL) >> 4);
	realmode_seg(&sregs.ds, 0);
	realmode_seg(&sregs.es, 0);
	realmode_seg(&sregs.ss, 0);
	realmode_seg(&sregs.fs, 0);
	realmode_seg(&sregs.gs, 0);
	sregs.cr0 &= ~1ULL;
	vcpu_set_sregs(vcpu, &sregs);

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry_gpa & 0xffff;
	regs.rsp = sp;
	regs.rflags = 0x2;
	vcpu_set_regs(vcpu, &regs);
}

uint32_t vcpu_run(struct kvm_vcpu *vcpu)
{
	int ret;

	do {
		ret = _vcpu_ioctl(vcpu, KVM_RUN, NULL);
	} while (ret == -EINTR);
	if (ret < 0)
		TEST_FAIL("KVM_RUN failed: %s", errno_name(-ret));
	return vcpu->run->exit_reason;
}

const char *exit_reason_str(uint32_t reason)
{
	static char buf[24];

	switch (reason) {
	case KVM_EXIT_UNKNOWN:		return "UNKNOWN";
	case KVM_EXIT_EXCEPTION:	return "EXCEPTION";
	case KVM_EXIT_IO:		return "IO";
	case KVM_EXIT_HLT:		return "HLT";
	case KVM_EXIT_MMIO:		return "MMIO";
	case KVM_EXIT_SHUTDOWN:		return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:	return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR:	return "INTERNAL_ERROR";
	}
	snprintf(buf, sizeof(buf), "%u", reason);
	return buf;
}

bool vcpu_get_io_out(struct kvm_vcpu *vcpu, uint16_t *port, uint32_t *val)
{
	struct kvm_run *run = vcpu->run;
	const uint8_t *data;
	uint32_t v = 0;

	if (run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.count != 1)
		return false;
	if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)
		return false;

	data = (const uint8_t *)run + run->io.data_offset;
	memcpy(&v, data, run->io.size);
	*port = run->io.port;
	*val = v;
	return true;
}
