// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VM built with the library runs a real-mode guest under KVM (nested SVM
 * inside the QEMU test bed): the guest fills memory in a memfd-backed slot
 * and an anonymous slot, signals a value with an OUT, then halts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kvm_util.h"

#define SLOT_MEMFD		0
#define SLOT_MEMFD_GPA		0x0
#define SLOT_ANON		1
#define SLOT_ANON_GPA		0x10000
#define SLOT_SIZE		0x10000

#define CODE_GPA		0x1000
#define STACK_TOP		0x8000
#define PATTERN_GPA		0x2000
#define PATTERN_LEN		256
#define PATTERN_SEED		0x5a
#define PATTERN_STEP		0x3d
#define ANON_SEG		0x1000	/* SLOT_ANON_GPA >> 4 */
#define ANON_OFF		0x100
#define ANON_MAGIC		0xc0ffee11
#define SIGNAL_PORT		0x7e9
#define SIGNAL_VALUE		0x4b564d21

#define __str(x)		#x
#define str(x)			__str(x)

extern const unsigned char guest_code[], guest_code_end[];

/*
 * 16-bit guest, assembled by the host assembler and copied to CODE_GPA.
 * It only uses immediates and relative jumps, so it runs at any address.
 */
asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"guest_code:\n"
	"	xor %ax, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	cld\n"
	"	mov $" str(PATTERN_GPA) ", %di\n"
	"	mov $" str(PATTERN_LEN) ", %cx\n"
	"	mov $" str(PATTERN_SEED) ", %al\n"
	"1:	stosb\n"
	"	add $" str(PATTERN_STEP) ", %al\n"
	"	loop 1b\n"
	"	mov $" str(ANON_SEG) ", %ax\n"
	"	mov %ax, %es\n"
	"	mov $" str(ANON_OFF) ", %di\n"
	"	mov $" str(ANON_MAGIC) ", %eax\n"
	"	stosl\n"
	"	mov $" str(SIGNAL_PORT) ", %dx\n"
	"	mov $" str(SIGNAL_VALUE) ", %eax\n"
	"	out %eax, %dx\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	"guest_code_end:\n"
	".code64\n"
	".popsection\n");

static uint8_t pattern_byte(unsigned int i)
{
	return (uint8_t)(PATTERN_SEED + i * PATTERN_STEP);
}

static bool pattern_ok(const uint8_t *p)
{
	unsigned int i;

	for (i = 0; i < PATTERN_LEN; i++) {
		if (p[i] != pattern_byte(i)) {
			tap_diag("byte %u: 0x%02x, expected 0x%02x", i, p[i],
				 pattern_byte(i));
			return false;
		}
	}
	/* The guest must not write past the pattern. */
	if (p[PATTERN_LEN]) {
		tap_diag("byte %u past the pattern is 0x%02x", PATTERN_LEN,
			 p[PATTERN_LEN]);
		return false;
	}
	return true;
}

int main(void)
{
	size_t code_len = guest_code_end - guest_code;
	struct vm_region *r;
	struct kvm_vcpu *vcpu;
	struct kvm_regs regs;
	struct kvm_vm *vm;
	uint32_t reason, val;
	uint16_t port;
	uint32_t *magic;
	uint8_t *alias;

	tap_plan(6);

	tap_begin("vm_create");
	vm = vm_create();
	vm_add_memslot(vm, SLOT_MEMFD, SLOT_MEMFD_GPA, SLOT_SIZE, 0,
		       VM_MEM_MEMFD);
	vm_add_memslot(vm, SLOT_ANON, SLOT_ANON_GPA, SLOT_SIZE, 0,
		       VM_MEM_ANON);
	vm_load_code(vm, CODE_GPA, guest_code, code_len);
	vcpu = vcpu_add(vm, 0);
	vcpu_setup_realmode(vcpu, CODE_GPA, STACK_TOP);
	TEST_EXPECT(_vm_add_memslot(vm, 2, SLOT_ANON_GPA, SLOT_SIZE, 0,
				    VM_MEM_ANON) == -EEXIST,
		    "overlapping memslot not refused with EEXIST");
	tap_end();

	tap_begin("guest_out_signal");
	reason = vcpu_run(vcpu);
	TEST_ASSERT(reason == KVM_EXIT_IO, "exit reason %s, expected IO",
		    exit_reason_str(reason));
	TEST_ASSERT(vcpu_get_io_out(vcpu, &port, &val),
		    "not a 1/2/4-byte OUT (dir %u size %u count %u)",
		    vcpu->run->io.direction, vcpu->run->io.size,
		    vcpu->run->io.count);
	TEST_EXPECT_EQ(port, SIGNAL_PORT);
	TEST_EXPECT_EQ(vcpu->run->io.size, 4);
	TEST_EXPECT_EQ(val, SIGNAL_VALUE);
	vcpu_get_regs(vcpu, &regs);
	TEST_EXPECT_EQ(regs.rax & 0xffffffff, SIGNAL_VALUE);
	tap_end();

	tap_begin("memfd_slot_written");
	TEST_EXPECT(pattern_ok(addr_gpa2hva(vm, PATTERN_GPA)),
		    "pattern at gpa 0x%x", PATTERN_GPA);
	tap_end();

	tap_begin("anon_slot_written");
	magic = addr_gpa2hva(vm, SLOT_ANON_GPA + ANON_OFF);
	TEST_EXPECT_EQ(*magic, ANON_MAGIC);
	tap_end();

	tap_begin("memfd_second_mapping");
	r = vm_get_region(vm, SLOT_MEMFD);
	TEST_ASSERT(r->memfd >= 0, "memfd slot has no memfd");
	alias = mmap(NULL, r->size, PROT_READ, MAP_SHARED, r->memfd, 0);
	TEST_ASSERT(alias != MAP_FAILED, "mmap memfd: %s", errno_name(errno));
	TEST_EXPECT(alias != r->host_mem, "second mapping is the first");
	TEST_EXPECT(pattern_ok(alias + PATTERN_GPA - SLOT_MEMFD_GPA),
		    "pattern via the second mapping");
	TEST_EXPECT(!memcmp(alias + CODE_GPA, guest_code, code_len),
		    "guest code via the second mapping");
	munmap(alias, r->size);
	tap_end();

	tap_begin("guest_halts");
	reason = vcpu_run(vcpu);
	TEST_EXPECT(reason == KVM_EXIT_HLT, "exit reason %s, expected HLT",
		    exit_reason_str(reason));
	tap_end();

	kvm_vm_free(vm);
	tap_finish();
}
