// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SPTEs KVM's TDP MMU writes can be walked by an IOMMU: bit 11 (reserved
 * in VT-d second-stage non-leaf entries, snoop control in leaves) is never
 * set, and KVM's software MMU-present marker is bit 59.
 *
 * A real-mode guest writes a page of RAM and a byte outside every memslot
 * (an MMIO access, cached as an MMIO SPTE when kvm.mmio_caching is on); the
 * slot is then deleted, which zaps the SPTEs.  Every SPTE change is read back
 * from the kvmmmu:kvm_tdp_mmu_spte_changed trace event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kvm_util.h"
#include "procfs.h"

#define TRACING			"/sys/kernel/tracing"
#define EVENT			"kvmmmu/kvm_tdp_mmu_spte_changed"

#define SLOT			0
#define SLOT_SIZE		0x80000
#define CODE_GPA		0x1000
#define STACK_TOP		0x8000
#define DATA_GPA		0x2000
#define MMIO_GPA		0xa0000	/* outside the slot */
#define SIGNAL_PORT		0x7e9
#define SIGNAL_VALUE		0x5b1759

#define BIT11			(1ULL << 11)
#define TDP_MMU_PRESENT		(1ULL << 59)
#define PAGE_SIZE_BIT		(1ULL << 7)
#define NONPRESENT		(1ULL << 63)
#define FROZEN			(NONPRESENT | 0x5a0ULL)

#define __str(x)		#x
#define str(x)			__str(x)

extern const unsigned char spte_guest[], spte_guest_end[];

asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"spte_guest:\n"
	"	xor %ax, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	cld\n"
	"	mov $" str(DATA_GPA) ", %di\n"
	"	mov $4096, %cx\n"
	"	mov $0x5a, %al\n"
	"	rep stosb\n"
	"	mov $" str(MMIO_GPA) " >> 4, %ax\n"
	"	mov %ax, %es\n"
	"	xor %di, %di\n"
	"	mov $0x11, %al\n"
	"	stosb\n"
	"	mov $" str(SIGNAL_PORT) ", %dx\n"
	"	mov $" str(SIGNAL_VALUE) ", %eax\n"
	"	out %eax, %dx\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	"spte_guest_end:\n"
	".code64\n"
	".popsection\n");

static bool mmio_caching_on(void)
{
	FILE *f = fopen("/sys/module/kvm/parameters/mmio_caching", "r");
	char c = 'N';

	if (f) {
		if (fscanf(f, " %c", &c) != 1)
			c = 'N';
		fclose(f);
	}
	return c == 'Y';
}

struct spte_stats {
	unsigned long events;
	unsigned long bit11;
	unsigned long present_leaf;
	unsigned long present_nonleaf;
	unsigned long mmio;
	unsigned long zapped;
};

static void check_spte(struct spte_stats *st, int level, uint64_t spte,
		       const char *line)
{
	if (spte & BIT11) {
		if (st->bit11++ < 5)
			tap_diag("bit 11 set: %s", line);
	}
	if (spte & TDP_MMU_PRESENT) {
		if (level == 1 || (spte & PAGE_SIZE_BIT))
			st->present_leaf++;
		else
			st->present_nonleaf++;
	} else if (spte != NONPRESENT && spte != FROZEN) {
		st->mmio++;
	}
}

static void read_trace(struct spte_stats *st)
{
	FILE *f = fopen(TRACING "/trace", "r");
	char line[512];

	TEST_ASSERT(f, "open %s/trace: %s", TRACING, errno_name(errno));
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "kvm_tdp_mmu_spte_changed: ");
		unsigned long long gfn, old_spte, new_spte;
		int as_id, level;

		if (!p)
			continue;
		if (sscanf(p, "kvm_tdp_mmu_spte_changed: as id %d gfn %llx level %d old_spte %llx new_spte %llx",
			   &as_id, &gfn, &level, &old_spte, &new_spte) != 5)
			continue;
		line[strcspn(line, "\n")] = 0;
		st->events++;
		check_spte(st, level, old_spte, line);
		check_spte(st, level, new_spte, line);
		if ((old_spte & TDP_MMU_PRESENT) && new_spte == NONPRESENT)
			st->zapped++;
	}
	fclose(f);
}

int main(void)
{
	struct kvm_userspace_memory_region region;
	struct kvm_vcpu *vcpu;
	struct spte_stats st;
	struct kvm_vm *vm;
	uint32_t reason, val;
	uint16_t port;

	tap_plan(5);

	if (access(TRACING "/events/" EVENT "/enable", W_OK))
		tap_skip_all("no %s event", EVENT);

	tap_begin("guest_runs");
	TEST_ASSERT(write_file(TRACING "/events/" EVENT "/enable", "0") &&
		    write_file(TRACING "/trace", "") &&
		    write_file(TRACING "/events/" EVENT "/enable", "1"),
		    "cannot enable %s", EVENT);

	vm = vm_create();
	vm_add_memslot(vm, SLOT, 0, SLOT_SIZE, 0, VM_MEM_ANON);
	vm_load_code(vm, CODE_GPA, spte_guest, spte_guest_end - spte_guest);
	vcpu = vcpu_add(vm, 0);
	vcpu_setup_realmode(vcpu, CODE_GPA, STACK_TOP);

	reason = vcpu_run(vcpu);
	TEST_ASSERT(reason == KVM_EXIT_MMIO, "exit %s, expected MMIO",
		    exit_reason_str(reason));
	TEST_EXPECT_EQ(vcpu->run->mmio.phys_addr, MMIO_GPA);
	reason = vcpu_run(vcpu);
	TEST_ASSERT(reason == KVM_EXIT_IO && vcpu_get_io_out(vcpu, &port, &val),
		    "exit %s, expected an OUT", exit_reason_str(reason));
	TEST_EXPECT_EQ(val, SIGNAL_VALUE);

	/* Deleting the slot zaps its SPTEs. */
	region = vm_get_region(vm, SLOT)->kvm;
	region.memory_size = 0;
	vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);

	write_file(TRACING "/events/" EVENT "/enable", "0");
	read_trace(&st);
	tap_diag("%lu SPTE changes: %lu present leaves, %lu present non-leaves, %lu MMIO, %lu zapped",
		 st.events, st.present_leaf, st.present_nonleaf, st.mmio,
		 st.zapped);
	TEST_EXPECT(st.events, "no %s events", EVENT);
	tap_end();

	tap_begin("bit_11_never_set");
	TEST_EXPECT(!st.bit11, "%lu SPTE values with bit 11 set", st.bit11);
	tap_end();

	tap_begin("present_sptes_marked_with_bit_59");
	TEST_EXPECT(st.present_leaf, "no present leaf SPTE with bit 59");
	TEST_EXPECT(st.present_nonleaf, "no present non-leaf SPTE with bit 59");
	tap_end();

	tap_begin("mmio_spte_cached");
	if (mmio_caching_on()) {
		TEST_EXPECT(st.mmio, "no MMIO SPTE for gpa 0x%x", MMIO_GPA);
		tap_end();
	} else {
		tap_skip("kvm.mmio_caching is off");
	}

	tap_begin("slot_delete_zaps");
	TEST_EXPECT(st.zapped, "no present SPTE zapped");
	tap_end();

	kvm_vm_free(vm);
	write_file(TRACING "/trace", "");
	tap_finish();
}
