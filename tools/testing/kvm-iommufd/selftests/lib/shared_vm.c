// SPDX-License-Identifier: GPL-2.0-only
/* A VM whose memory device DMA reaches through a KVM-sourced IOAS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/iommufd_kvm.h>
#include <iommufd_test.h>

#include "iommufd_utils.h"
#include "shared_vm.h"

#define CODE_GPA	0x1000
#define STACK_TOP	0x8000
#define SEED		0x33
#define STEP		0x47

#define __str(x)	#x
#define str(x)		__str(x)

extern const unsigned char shared_guest[], shared_guest_end[];

asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"shared_guest:\n"
	"	cld\n"
	"	mov $" str(SHARED_SRC_GPA) " >> 4, %ax\n"
	"	mov %ax, %es\n"
	"	xor %di, %di\n"
	"	mov $" str(SHARED_LEN) ", %cx\n"
	"	mov $" str(SEED) ", %al\n"
	"1:	stosb\n"
	"	add $" str(STEP) ", %al\n"
	"	loop 1b\n"
	"	mov $" str(SHARED_DST_GPA) " >> 4, %ax\n"
	"	mov %ax, %es\n"
	"	xor %di, %di\n"
	"	mov $" str(SHARED_LEN) ", %cx\n"
	"	xor %al, %al\n"
	"	rep stosb\n"
	"	mov $" str(SHARED_PORT) ", %dx\n"
	"	mov $" str(SHARED_STAGE1) ", %eax\n"
	"	out %eax, %dx\n"
	"	mov $" str(SHARED_SRC_GPA) " >> 4, %ax\n"
	"	mov %ax, %ds\n"
	"	xor %si, %si\n"
	"	mov $" str(SHARED_DST_GPA) " >> 4, %ax\n"
	"	mov %ax, %es\n"
	"	xor %di, %di\n"
	"	mov $" str(SHARED_LEN) ", %cx\n"
	"	repe cmpsb\n"
	"	mov $" str(SHARED_DIFFER) ", %eax\n"
	"	jne 3f\n"
	"	mov $" str(SHARED_EQUAL) ", %eax\n"
	"3:	mov $" str(SHARED_PORT) ", %dx\n"
	"	out %eax, %dx\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	"shared_guest_end:\n"
	".code64\n"
	".popsection\n");

uint8_t shared_pattern(unsigned int i)
{
	return (uint8_t)(SEED + i * STEP);
}

static uint32_t run_to_out(struct kvm_vcpu *vcpu)
{
	uint32_t reason = vcpu_run(vcpu), val;
	uint16_t port;

	TEST_ASSERT(reason == KVM_EXIT_IO, "exit %s, expected IO", exit_reason_str(reason));
	TEST_ASSERT(vcpu_get_io_out(vcpu, &port, &val) && port == SHARED_PORT,
		    "unexpected IO exit");
	return val;
}

void shared_vm_create(struct shared_vm *s)
{
	shared_vm_create_opts(s, 0);
}

void shared_vm_create_opts(struct shared_vm *s, unsigned int opts)
{
	shared_vm_create_hook(s, opts, NULL, NULL);
}

void shared_vm_create_hook(struct shared_vm *s, unsigned int opts,
			   void (*before_memory)(struct kvm_vm *vm, void *arg),
			   void *arg)
{
	if (opts & SHARED_VM_NO_IPC_LOCK)
		drop_cap_ipc_lock();
	memset(s, 0, sizeof(*s));
	s->vm = vm_create();
	if (before_memory)
		before_memory(s->vm, arg);
	vm_add_memslot(s->vm, 0, 0, SHARED_VM_RAM, 0, VM_MEM_MEMFD);
	vm_load_code(s->vm, CODE_GPA, shared_guest, shared_guest_end - shared_guest);
	s->vcpu = vcpu_add(s->vm, 0);
	vcpu_setup_realmode(s->vcpu, CODE_GPA, STACK_TOP);
	TEST_ASSERT(run_to_out(s->vcpu) == SHARED_STAGE1, "guest stage 1");

	s->iommufd = iommufd_open();
	/* before the IOAS: its memslot areas take the mode when created */
	if (opts & SHARED_VM_ACCOUNT_MM)
		TEST_ASSERT(!_test_ioctl_set_rlimit_mode(s->iommufd, 1),
			    "IOMMU_OPTION_RLIMIT_MODE: %s", errno_name(errno));
	test_ioctl_ioas_alloc_kvm(s->iommufd, s->vm->fd, &s->ioas_id);
	s->edu.fd = -1;
	if (opts & SHARED_VM_NO_EDU)
		return;
	edu_open(&s->edu);
	edu_bind(&s->edu, s->iommufd);
	edu_map_bar0(&s->edu);
}

int shared_vm_alloc_hwpt(struct shared_vm *s)
{
	return shared_vm_alloc_hwpt_flags(s, 0);
}

int shared_vm_alloc_hwpt_flags(struct shared_vm *s, uint32_t flags)
{
	return _test_ioctl_hwpt_alloc_kvm_flags(s->iommufd, s->edu.dev_id,
						s->ioas_id, flags, &s->hwpt_id,
						&s->mode, &s->reasons);
}

uint32_t shared_vm_guest_compare(struct shared_vm *s)
{
	return run_to_out(s->vcpu);
}

void shared_vm_attach_shared(struct shared_vm *s)
{
	TEST_ASSERT(shared_vm_alloc_hwpt(s) == 0, "HWPT_ALLOC: %s (reasons %#x)",
		    errno_name(errno), s->reasons);
	TEST_ASSERT(s->mode == IOMMU_KVM_MODE_SHARED, "mode %u (reasons %#x)",
		    s->mode, s->reasons);
	edu_attach(&s->edu, s->hwpt_id);
}

void shared_vm_copy_check(struct shared_vm *s)
{
	uint8_t *src = addr_gpa2hva(s->vm, SHARED_SRC_GPA);
	uint8_t *dst = addr_gpa2hva(s->vm, SHARED_DST_GPA);

	TEST_ASSERT(!edu_dma_to_dev(&s->edu, SHARED_SRC_GPA, 0, SHARED_LEN),
		    "DMA GPA->edu");
	TEST_ASSERT(!edu_dma_from_dev(&s->edu, 0, SHARED_DST_GPA, SHARED_LEN),
		    "DMA edu->GPA");
	TEST_EXPECT(!memcmp(src, dst, SHARED_LEN), "host view of DST");
	TEST_EXPECT_EQ(shared_vm_guest_compare(s), SHARED_EQUAL);
}

void shared_vm_destroy(struct shared_vm *s)
{
	edu_close(&s->edu);
	close(s->iommufd);
	kvm_vm_free(s->vm);
}

static unsigned long long read_hex(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	TEST_ASSERT(f, "open %s", path);
	TEST_ASSERT(fscanf(f, "%llx", &v) == 1, "read %s", path);
	fclose(f);
	return v;
}

static int read_int(const char *path, int dflt)
{
	FILE *f = fopen(path, "r");
	char c = 0;

	if (!f)
		return dflt;
	if (fscanf(f, " %c", &c) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == '1' ? 1 : c == 'N' || c == '0' ? 0 : dflt;
}

uint32_t shared_expected_reasons(void)
{
	unsigned long long cap;
	unsigned int sagaw, mgaw, phys = 0, levels = 4;
	char line[4096];
	uint32_t r = 0;
	FILE *f;

	/* the unit the edu device sits behind */
	cap = read_hex("/sys/bus/pci/devices/" EDU_BDF "/iommu/intel-iommu/cap");
	sagaw = (cap >> 8) & 0x1f;
	mgaw = ((cap >> 16) & 0x3f) + 1;

	f = fopen("/proc/cpuinfo", "r");
	TEST_ASSERT(f, "open /proc/cpuinfo");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "flags", 5) && strstr(line, " la57"))
			levels = 5;	/* NPT follows the host's paging depth */
		if (!strncmp(line, "address sizes", 13))
			sscanf(strchr(line, ':') + 1, "%u", &phys);
	}
	fclose(f);

	if (!(sagaw & (1u << (levels - 2))))
		r |= IOMMU_KVM_SHARE_LEVELS;
	if (phys > mgaw)
		r |= IOMMU_KVM_SHARE_ADDR_WIDTH;
	if (read_int("/sys/module/kvm/parameters/mmio_caching", 1))
		r |= IOMMU_KVM_SHARE_MMIO_CACHING;
	return r;
}

const char *mask_names(uint32_t mask, const char *const *names, unsigned int n,
		       char *buf, size_t len)
{
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < 32; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (buf[0])
			strncat(buf, "|", len - strlen(buf) - 1);
		if (i < n)
			strncat(buf, names[i], len - strlen(buf) - 1);
		else
			snprintf(buf + strlen(buf), len - strlen(buf), "bit%u", i);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

const char *shared_reason_names(uint32_t reasons, char *buf, size_t len)
{
	static const char *const names[] = {
		"NO_TRANSLATION", "FORMAT", "LEVELS", "ADDR_WIDTH", "PAGE_SIZES",
		"RSVD_BITS", "NONPRESENT", "MMIO_CACHING", "WALK_COHERENCY",
		"ACCESS_TRACKING", "DEVICE", "KVM_ZAPS",
	};

	return mask_names(reasons, names, sizeof(names) / sizeof(names[0]), buf, len);
}

uint64_t shared_kvm_root(struct shared_vm *s)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_KVM_IOAS_ROOT,
		.id = s->ioas_id,
	};

	TEST_ASSERT(!ioctl(s->iommufd, IOMMU_TEST_CMD, &cmd),
		    "IOMMU_TEST_OP_KVM_IOAS_ROOT: %s", errno_name(errno));
	return cmd.kvm_ioas_root.out_root;
}

void shared_kvm_stats(int iommufd, uint32_t ioas_id, struct iommu_test_kvm_ioas_stats *st)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_KVM_IOAS_STATS,
		.id = ioas_id,
		.kvm_ioas_stats = {
			.uptr = (uintptr_t)st,
			.length = sizeof(*st),
		},
	};

	memset(st, 0, sizeof(*st));
	TEST_ASSERT(!ioctl(iommufd, IOMMU_TEST_CMD, &cmd),
		    "IOMMU_TEST_OP_KVM_IOAS_STATS: %s", errno_name(errno));
	TEST_ASSERT(cmd.kvm_ioas_stats.length == sizeof(*st),
		    "IOMMU_TEST_OP_KVM_IOAS_STATS: the kernel's struct is %u bytes, not %zu",
		    cmd.kvm_ioas_stats.length, sizeof(*st));
}

uint64_t shared_vtd_ss_pointer(unsigned int *pgtt)
{
	const char *path = "/sys/kernel/debug/iommu/intel/dmar_translation_struct";
	unsigned long long v2, v1, v0;
	char line[512], bdf[16];
	uint64_t ptr = 0;
	int pasid;
	FILE *f;

	f = fopen(path, "r");
	TEST_ASSERT(f, "open %s: %s", path, errno_name(errno));
	/* B:D.F  root.hi:lo  ctx.hi:lo  PASID  val[2]:val[1]:val[0] */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %*x:%*x %*x:%*x %d %llx:%llx:%llx", bdf, &pasid,
			   &v2, &v1, &v0) != 5)
			continue;
		if (strcmp(bdf, "00:03.0") || pasid != 0)
			continue;
		ptr = v0 & ~0xfffULL;
		if (pgtt)
			*pgtt = (v0 >> 6) & 7;
	}
	fclose(f);
	return ptr;
}

static long status_kb(const char *key)
{
	char line[256], fmt[32];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	TEST_ASSERT(f, "open /proc/self/status");
	snprintf(fmt, sizeof(fmt), "%s: %%ld kB", key);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

long shared_vm_locked_kb(void)
{
	return status_kb("VmLck");
}

long shared_vm_pinned_kb(void)
{
	return status_kb("VmPin");
}

void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	TEST_ASSERT(!syscall(SYS_capget, &hdr, data), "capget: %s", errno_name(errno));
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].inheritable &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	TEST_ASSERT(!syscall(SYS_capset, &hdr, data), "capset: %s", errno_name(errno));
}
