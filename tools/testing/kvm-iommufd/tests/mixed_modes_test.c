// SPDX-License-Identifier: GPL-2.0
/*
 * One KVM-sourced IOAS, two devices: A behind a VT-d unit that can walk
 * KVM's table (SHARED), B behind a unit that cannot (3-level, 39-bit:
 * PINNED through the IOAS's io_pagetable).  Both must DMA correctly, with
 * no call from the VMM to the IOAS, through a sequence of memslot changes:
 * create, move, dirty logging on and off, delete, and a create refused by
 * RLIMIT_MEMLOCK.  Pins and charges are counted at every step, on both
 * sides (the core's SHARED pins, the io_pagetable's pinned pages).
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include "../standin/intel_kvm_domain.h"
#include "../harness/hwpt.h"
#include <linux/kvm_iommufd.h>
#include <linux/tracepoint.h>
#include "fixture.h"
#include <uapi/linux/iommufd_kvm.h>
#include "../../../../virt/iommufd/kvm_iommu_test.h"

#define RAM		(16ULL << 20)
#define SID_A		0x0018		/* 00:03.0 */
#define SID_B		0x0020		/* 00:04.0 */
#define SLOT1_GPA	(32ULL << 20)
#define SLOT1_MOVED	(48ULL << 20)
#define SLOT1_SIZE	(2ULL << 20)
#define SRC		0x1000ULL
#define LEN		4000

struct kt_mixed {
	struct phys *pm;
	struct vtd *hw[2];
	struct intel_iommu *iommu[2];
	struct kvm *kvm;
	bool vm_destroyed;
	struct device dev[2];
	struct dma_dev dma[2];
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct kt_kvm_hwpt hwpt[2];
	u8 pattern[LEN];
};

static bool setup(struct kt_mixed *m)
{
	static const u64 caps[2] = { VTDM_QEMU_CAP_AW48, VTDM_QEMU_CAP_AW39 };
	static const u16 sids[2] = { SID_A, SID_B };
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->pm = phys_create(1ULL << 31);
	ASSERT_TRUE(m->pm);
	for (i = 0; i < 2; i++) {
		m->hw[i] = vtd_create(m->pm, caps[i], VTDM_QEMU_ECAP_SM);
		ASSERT_TRUE(m->hw[i]);
		m->iommu[i] = kt_intel_iommu_create(m->pm, m->hw[i], i);
		ASSERT_TRUE(m->iommu[i]);
		kt_intel_probe_device(&m->dev[i], m->iommu[i], sids[i]);
		dma_dev_init(&m->dma[i], m->hw[i], sids[i]);
	}
	m->kvm = kvm_model_create(m->pm, &c, &m->vm_destroyed);
	ASSERT_TRUE(m->kvm);
	ASSERT_EQ(kvm_model_set_slot(m->kvm, 0, 0, RAM, false), 0);
	for (i = 0; i < LEN; i++)
		m->pattern[i] = (u8)(i * 7 + 3);
	ASSERT_EQ(kvm_model_guest_write(m->kvm, SRC, m->pattern, LEN), 0);

	m->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&m->iopt);
	m->kio = kvm_iommu_ioas_alloc(m->kvm->fd, &m->ictx, &m->iopt);
	ASSERT_FALSE(IS_ERR(m->kio));
	return true;
}

static bool teardown(struct kt_mixed *m)
{
	unsigned int i;
	long left;

	for (i = 0; i < 2; i++)
		kt_kvm_hwpt_detach(&m->hwpt[i]);
	kvm_iommu_ioas_free(m->kio);
	iopt_unmap_all(&m->iopt, NULL);
	iopt_destroy_table(&m->iopt);
	kvm_model_close(m->kvm);
	ASSERT_TRUE(m->vm_destroyed);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_mm.pinned_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, 0);
	for (i = 0; i < 2; i++) {
		kt_intel_iommu_destroy(m->iommu[i]);
		vtd_destroy(m->hw[i]);
	}
	left = phys_allocated(m->pm);
	phys_destroy(m->pm);
	ASSERT_EQ(left, 0);
	return true;
}

/* Device @i copies the pattern from SRC to @gpa; the guest must read it there. */
static bool dma_reaches(struct kt_mixed *m, unsigned int i, u64 gpa)
{
	u8 got[LEN];

	memset(got, 0, sizeof(got));
	ASSERT_EQ(kvm_model_guest_write(m->kvm, gpa, got, LEN), 0);
	ASSERT_EQ(dma_copy(&m->dma[i], SRC, gpa, LEN), 0);
	ASSERT_EQ(kvm_model_guest_read(m->kvm, gpa, got, LEN), 0);
	ASSERT_EQ(memcmp(got, m->pattern, LEN), 0);
	return true;
}

static bool slot1_view(struct kt_mixed *m, u32 flags, u32 *reasons, u32 *readonly);

static u64 shared_pins(struct kt_mixed *m)
{
	struct kvm_iommu_stats st;

	kvm_iommu_get_stats(m->kio, &st);
	return st.pinned_pages;
}

/* Both devices on one IOAS, in different modes, and the reasons of B's. */
static bool attach_both(struct kt_mixed *m)
{
	struct kvm_iommu_share_info info;
	u32 want;

	ASSERT_EQ(kt_kvm_hwpt_attach(&m->hwpt[0], m->kio, &m->iopt, &m->dev[0],
				     KVM_IOMMU_POLICY_AUTO), 0);
	ASSERT_EQ(m->hwpt[0].mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_EQ(m->hwpt[0].reasons, 0);
	ASSERT_EQ(kt_kvm_hwpt_attach(&m->hwpt[1], m->kio, &m->iopt, &m->dev[1],
				     KVM_IOMMU_POLICY_AUTO), 0);
	ASSERT_EQ(m->hwpt[1].mode, IOMMU_KVM_MODE_PINNED);
	/* the reasons are those of the unit's check against KVM's format */
	ASSERT_EQ(kvm_iommu_share_query(m->kio, &m->dev[1], &info), 0);
	ASSERT_EQ(m->hwpt[1].reasons, info.reasons);
	want = IOMMU_KVM_SHARE_LEVELS | IOMMU_KVM_SHARE_ADDR_WIDTH;
	ASSERT_EQ(info.reasons, want);
	ASSERT_EQ(info.kvm_levels, 4);
	ASSERT_EQ(info.iommu_levels, 1u << 3);
	ASSERT_EQ(info.iommu_addr_bits, 39);
	ASSERT_EQ(info.kvm_phys_bits, 40);
	/* A walks KVM's root; B walks a table of its own */
	ASSERT_EQ(kvm_iommu_ioas_root(m->kio), m->kvm->root);
	ASSERT_EQ(kt_intel_ss_pointer(m->iommu[0], SID_A), m->kvm->root);
	ASSERT_NE(kt_intel_ss_pointer(m->iommu[1], SID_B), 0);
	ASSERT_NE(kt_intel_ss_pointer(m->iommu[1], SID_B), m->kvm->root);
	return true;
}

TEST(mixed_modes)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT, slot_pages = SLOT1_SIZE >> PAGE_SHIFT;
	struct kvm_iommu_stats st;
	struct kt_mixed m;
	unsigned int i;

	ASSERT_TRUE(setup(&m));
	/* the mirror pins nothing until a PINNED domain exists */
	ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 1);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), 0);
	ASSERT_TRUE(attach_both(&m));
	ASSERT_EQ(shared_pins(&m), ram_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	/* one pin per page, charged once, as iommufd charges (USER mode) */
	ASSERT_EQ(kvm_model_pinned(m.kvm), (long)ram_pages);
	ASSERT_EQ(kt_user.locked_vm, (long)ram_pages);
	ASSERT_EQ(kt_mm.pinned_vm, (long)ram_pages);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, 0x200000 + i * 0x100000));

	/* create: both devices reach the new slot */
	ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE, false), 0);
	ASSERT_EQ(shared_pins(&m), ram_pages + slot_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages + slot_pages);
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, SLOT1_GPA + 0x10000 + i * 0x1000));

	/* move: the same memory at the new GPA, nothing at the old */
	ASSERT_EQ(kvm_model_move_slot(m.kvm, 1, SLOT1_MOVED), 0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(dma_copy(&m.dma[i], SRC, SLOT1_GPA + 0x20000, LEN), -EFAULT);
		ASSERT_TRUE(dma_reaches(&m, i, SLOT1_MOVED + 0x20000 + i * 0x1000));
	}
	ASSERT_EQ(shared_pins(&m), ram_pages + slot_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages + slot_pages);

	/*
	 * Dirty logging takes no write access away from either device (KVM
	 * keeps the leaves the core holds writable), and every page either
	 * could write is reported at each harvest: all of the slot, as
	 * neither unit marks KVM's entries dirty.  When it stops, both keep
	 * writing.
	 */
	ASSERT_EQ(kvm_model_set_dirty_log(m.kvm, 1, true), 0);
	for (i = 0; i < 2; i++) {
		unsigned long bm[BITS_TO_LONGS(SLOT1_SIZE >> PAGE_SHIFT)];
		u64 p;

		ASSERT_TRUE(dma_reaches(&m, i, SLOT1_MOVED + 0x30000 + i * 0x1000));
		memset(bm, 0, sizeof(bm));
		ASSERT_EQ(kvm_model_get_dirty_log(m.kvm, 1, bm), 0);
		for (p = 0; p < slot_pages; p++)
			ASSERT_TRUE(bm[p / BITS_PER_LONG] & (1UL << (p % BITS_PER_LONG)));
	}
	ASSERT_EQ(kvm_model_set_dirty_log(m.kvm, 1, false), 0);
	ASSERT_EQ(dma_copy(&m.dma[0], SRC, SLOT1_MOVED + 0x30000, LEN), 0);
	ASSERT_TRUE(dma_reaches(&m, 0, SLOT1_MOVED + 0x32000));
	ASSERT_TRUE(dma_reaches(&m, 1, SLOT1_MOVED + 0x33000));

	/* delete: blocked for both, and every pin of the slot dropped */
	ASSERT_EQ(kvm_model_delete_slot(m.kvm, 1), 0);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(dma_copy(&m.dma[i], SRC, SLOT1_MOVED + 0x40000, LEN), -EFAULT);
	ASSERT_EQ(shared_pins(&m), ram_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, (long)ram_pages);
	ASSERT_EQ(kvm_model_pinned(m.kvm), (long)ram_pages);

	/* a slot the devices cannot pin within RLIMIT_MEMLOCK is refused */
	kt_mm.memlock_limit = ram_pages + slot_pages / 2;
	ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE, false), -ENOMEM);
	kt_mm.memlock_limit = LONG_MAX;
	ASSERT_FALSE(m.kvm->slots[1].used);
	ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 1);
	ASSERT_EQ(shared_pins(&m), ram_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_user.locked_vm, (long)ram_pages);
	ASSERT_EQ(kvm_model_pinned(m.kvm), (long)ram_pages);
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, 0x400000 + i * 0x1000));

	kvm_iommu_get_stats(m.kio, &st);
	ASSERT_EQ(st.memslot_changes, 5);	/* create, move, flags x2, delete */
	ASSERT_EQ(st.mirror_errors, 0);
	ASSERT_TRUE(teardown(&m));
	return true;
}

/*
 * Every allocation and injected failure on the memslot paths (KVM's own
 * prepare included) fails the change with an errno and leaves the IOAS as
 * it was: pins, charges, areas; the devices still DMA.
 */
TEST(mixed_modes_memslot_fail_nth_sweep)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT;
	int nth, swept = 0, not_refused = 0, committed = 0;

	for (nth = 1; nth < 200; nth++) {
		struct kvm_iommu_stats st;
		unsigned long events;
		struct kt_mixed m;
		bool injected;
		long live;
		int ret;

		ASSERT_TRUE(setup(&m));
		ASSERT_TRUE(attach_both(&m));
		live = kt_alloc_live();
		events = kt_trace_count("kvm_iommu_memslot");
		kt_fail_nth_set(nth);
		ret = kvm_model_set_slot(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE, false);
		injected = kt_fault_injected();
		kt_fail_nth_set(0);
		/* a refusal the IOAS saw is counted and traced once */
		kvm_iommu_get_stats(m.kio, &st);
		ASSERT_EQ(kt_trace_count("kvm_iommu_memslot") - events,
			  st.memslot_changes + st.memslot_refused);
		if (!injected) {
			ASSERT_EQ(ret, 0);
			ASSERT_TRUE(dma_reaches(&m, 1, SLOT1_GPA));
			ASSERT_TRUE(teardown(&m));
			break;
		}
		swept++;
		if (!ret) {
			u32 reasons, ro;

			/*
			 * A point in the commit, after KVM installed the slot:
			 * faulting its pins into KVM's table for the SHARED
			 * device ran out of memory.  The slot is out for both
			 * devices, unpinned, and says so; one retry gives it.
			 */
			committed++;
			ASSERT_EQ(st.mirror_errors, 1);
			ASSERT_EQ(st.memslot_refused, 0);
			ASSERT_TRUE(m.kvm->slots[1].used);
			ASSERT_TRUE(slot1_view(&m, 0, &reasons, &ro));
			ASSERT_EQ(reasons, IOMMU_KVM_SLOT_PIN_FAILED);
			ASSERT_EQ(shared_pins(&m), ram_pages);
			ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 1);
			ASSERT_EQ(kt_user.locked_vm, (long)ram_pages);
			ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_GPA + 0x1000, LEN), -EFAULT);
			ASSERT_TRUE(slot1_view(&m, IOMMU_KVM_SLOTS_RETRY, &reasons, &ro));
			ASSERT_EQ(reasons, 0);
			ASSERT_EQ(shared_pins(&m), ram_pages + (SLOT1_SIZE >> PAGE_SHIFT));
			ASSERT_TRUE(dma_reaches(&m, 0, SLOT1_GPA + 0x2000));
			ASSERT_TRUE(dma_reaches(&m, 1, SLOT1_GPA + 0x3000));
			ASSERT_TRUE(teardown(&m));
			continue;
		}
		/*
		 * Each point but one is in the IOAS's prepare, which counts
		 * its refusal; the one in KVM after the listeners prepared
		 * (kvm_prepare_memory_region) aborts them instead.
		 */
		ASSERT_LE(st.memslot_refused, 1);
		not_refused += !st.memslot_refused;
		ASSERT_EQ(ret, -ENOMEM);
		ASSERT_FALSE(m.kvm->slots[1].used);
		ASSERT_EQ(kt_alloc_live(), live);
		ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 1);
		ASSERT_EQ(shared_pins(&m), ram_pages);
		ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
		ASSERT_EQ(kt_user.locked_vm, (long)ram_pages);
		ASSERT_EQ(kt_mm.locked_vm, 0);
		ASSERT_EQ(kvm_model_pinned(m.kvm), (long)ram_pages);
		ASSERT_TRUE(dma_reaches(&m, 0, 0x200000));
		ASSERT_TRUE(dma_reaches(&m, 1, 0x201000));
		ASSERT_TRUE(teardown(&m));
	}
	printf("#   %d fault points swept on memslot create, %d of them in the commit\n",
	       swept, committed);
	ASSERT_GE(swept, 3);
	ASSERT_GE(committed, 1);
	ASSERT_EQ(not_refused, 1);
	return true;
}

/*
 * Fail each fault point of the whole attach path in turn: IOAS allocation
 * (the initial memslot mirror), A's SHARED attach (registration, pinning,
 * faulting in, the PASID entry), B's PINNED attach (the paging domain, the
 * io_pagetable pinning and mapping).  Each failure is ENOMEM or EBUSY and
 * what failed leaves nothing: the test undoes what succeeded and then finds
 * no allocation, pin, charge or physical page left.
 */
TEST(mixed_modes_attach_fail_nth_sweep)
{
	int nth, swept = 0;

	for (nth = 1; nth < 400; nth++) {
		struct kt_mixed m;
		bool injected;
		int ret = 0;
		long live;

		ASSERT_TRUE(setup(&m));
		/* setup() allocated the IOAS; do it again under injection */
		kvm_iommu_ioas_free(m.kio);
		iopt_unmap_all(&m.iopt, NULL);
		live = kt_alloc_live();
		kt_fail_nth_set(nth);
		m.kio = kvm_iommu_ioas_alloc(m.kvm->fd, &m.ictx, &m.iopt);
		if (IS_ERR(m.kio)) {
			ret = PTR_ERR(m.kio);
			m.kio = NULL;
		}
		if (!ret)
			ret = kt_kvm_hwpt_attach(&m.hwpt[0], m.kio, &m.iopt, &m.dev[0],
						 KVM_IOMMU_POLICY_AUTO);
		if (!ret)
			ret = kt_kvm_hwpt_attach(&m.hwpt[1], m.kio, &m.iopt, &m.dev[1],
						 KVM_IOMMU_POLICY_AUTO);
		injected = kt_fault_injected();
		kt_fail_nth_set(0);
		if (!injected) {
			ASSERT_EQ(ret, 0);
			ASSERT_EQ(m.hwpt[0].mode, IOMMU_KVM_MODE_SHARED);
			ASSERT_EQ(m.hwpt[1].mode, IOMMU_KVM_MODE_PINNED);
			ASSERT_TRUE(dma_reaches(&m, 0, 0x200000));
			ASSERT_TRUE(dma_reaches(&m, 1, 0x201000));
			ASSERT_TRUE(teardown(&m));
			break;
		}
		swept++;
		ASSERT_TRUE(ret == -ENOMEM || ret == -EBUSY);
		/* the failed step left nothing; undo the ones that succeeded */
		kt_kvm_hwpt_detach(&m.hwpt[1]);
		kt_kvm_hwpt_detach(&m.hwpt[0]);
		if (m.kio) {
			kvm_iommu_ioas_free(m.kio);
			m.kio = NULL;
			iopt_unmap_all(&m.iopt, NULL);
		}
		ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 0);
		ASSERT_EQ(kt_alloc_live(), live);
		ASSERT_EQ(kvm_model_pinned(m.kvm), 0);
		ASSERT_EQ(kt_mm.locked_vm, 0);
		ASSERT_EQ(kt_user.locked_vm, 0);
		ASSERT_TRUE(list_empty(&m.kvm->tdp_export.importers));
		ASSERT_TRUE(list_empty(&m.kvm->memslot_listeners));
		ASSERT_EQ(kt_intel_ss_pointer(m.iommu[0], SID_A), 0);
		ASSERT_EQ(kt_intel_ss_pointer(m.iommu[1], SID_B), 0);
		m.kio = kvm_iommu_ioas_alloc(m.kvm->fd, &m.ictx, &m.iopt);
		ASSERT_FALSE(IS_ERR(m.kio));
		ASSERT_TRUE(teardown(&m));
	}
	printf("#   %d fault points swept on IOAS allocation and both attaches\n", swept);
	/* as many as the path has: the SHARED pins are one batch of 8192 pages */
	ASSERT_GE(swept, 19);
	return true;
}

/*
 * A move is committed by KVM before the IOAS hears of it, so a failure to
 * map the slot at its new GPA cannot fail the ioctl: it is counted
 * (mirror_errors), the PINNED device's DMA to the new GPA is blocked rather
 * than misdirected, nothing leaks, and the next change (delete) cleans up.
 */
TEST(mixed_modes_move_mirror_failure_is_counted)
{
	int nth, swept = 0;

	for (nth = 1; nth < 100; nth++) {
		struct kvm_iommu_stats st;
		struct kt_mixed m;
		bool injected;
		int ret;

		ASSERT_TRUE(setup(&m));
		ASSERT_TRUE(attach_both(&m));
		ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE, false), 0);
		kt_fail_nth_set(nth);
		ret = kvm_model_move_slot(m.kvm, 1, SLOT1_MOVED);
		injected = kt_fault_injected();
		kt_fail_nth_set(0);
		kvm_iommu_get_stats(m.kio, &st);
		if (!injected) {
			ASSERT_EQ(ret, 0);
			ASSERT_EQ(st.mirror_errors, 0);
			ASSERT_TRUE(teardown(&m));
			break;
		}
		swept++;
		if (ret) {
			/* KVM's own prepare failed: nothing moved */
			ASSERT_EQ(ret, -ENOMEM);
			ASSERT_TRUE(dma_reaches(&m, 1, SLOT1_GPA + 0x1000));
		} else if (st.mirror_errors) {
			u32 reasons, ro;

			ASSERT_EQ(st.mirror_errors, 1);
			ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_MOVED + 0x1000, LEN), -EFAULT);
			ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_GPA + 0x1000, LEN), -EFAULT);
			/* the IOAS says so, and one retry makes it RAM again */
			ASSERT_TRUE(slot1_view(&m, 0, &reasons, &ro));
			ASSERT_EQ(reasons, IOMMU_KVM_SLOT_PIN_FAILED);
			ASSERT_TRUE(slot1_view(&m, IOMMU_KVM_SLOTS_RETRY, &reasons, &ro));
			ASSERT_EQ(reasons, 0);
			ASSERT_TRUE(dma_reaches(&m, 1, SLOT1_MOVED + 0x3000));
		}
		/* the SHARED device follows the move whatever the mirror did */
		if (!ret)
			ASSERT_TRUE(dma_reaches(&m, 0, SLOT1_MOVED + 0x2000));
		ASSERT_EQ(kvm_model_delete_slot(m.kvm, 1), 0);
		ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 1);
		ASSERT_EQ(kt_iopt_npinned(&m.iopt), RAM >> PAGE_SHIFT);
		ASSERT_TRUE(teardown(&m));
	}
	printf("#   %d fault points swept on memslot move\n", swept);
	ASSERT_GE(swept, 1);
	return true;
}

static void detach_shared(struct kvm *kvm, void *arg)
{
	kt_kvm_hwpt_detach(arg);
}

static void attach_shared(struct kvm *kvm, void *arg)
{
	struct kt_mixed *m = arg;

	WARN_ON(kt_kvm_hwpt_attach(&m->hwpt[0], m->kio, &m->iopt, &m->dev[0],
				   KVM_IOMMU_POLICY_AUTO));
}

/*
 * Another VMM thread attaches or detaches the SHARED device while a
 * memslot is being created (after the IOAS prepared the slot, before
 * KVM committed it): the slot's SHARED pins follow the domain count, so
 * nothing stays pinned after the last SHARED detach, and the first SHARED
 * attach covers the new slot too.
 */
TEST(mixed_modes_shared_attach_races_memslot_create)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT, slot_pages = SLOT1_SIZE >> PAGE_SHIFT;
	struct kt_mixed m;

	/* the last SHARED domain goes while slot 1 is being created */
	ASSERT_TRUE(setup(&m));
	ASSERT_TRUE(attach_both(&m));
	m.kvm->mid_create = detach_shared;
	m.kvm->mid_create_arg = &m.hwpt[0];
	ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE, false), 0);
	m.kvm->mid_create = NULL;
	ASSERT_EQ(shared_pins(&m), 0);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages + slot_pages);
	ASSERT_TRUE(dma_reaches(&m, 1, SLOT1_GPA + 0x3000));
	ASSERT_TRUE(teardown(&m));

	/* the first SHARED domain comes while slot 1 is being created */
	ASSERT_TRUE(setup(&m));
	m.kvm->mid_create = attach_shared;
	m.kvm->mid_create_arg = &m;
	ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE, false), 0);
	m.kvm->mid_create = NULL;
	ASSERT_EQ(m.hwpt[0].mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_EQ(shared_pins(&m), ram_pages + slot_pages);
	ASSERT_TRUE(dma_reaches(&m, 0, SLOT1_GPA + 0x3000));	/* faulted in */
	ASSERT_TRUE(teardown(&m));
	return true;
}

/*
 * Attach and HWPT allocation race with the VMM's memslot changes from
 * another thread: they see the memslots before or after each change, and
 * never fail because of it.  One thread attaches and detaches a device
 * (SHARED, then PINNED) in a loop; another creates, moves and deletes
 * slot 1.  Every attach must succeed and its device reach RAM.
 */
static double kt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct kt_race {
	struct kt_mixed *m;
	bool stop;		/* atomic */
	u64 changes, change_errors;
};

static void *memslot_churn(void *arg)
{
	struct kt_race *r = arg;
	struct kvm *kvm = r->m->kvm;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		r->change_errors += !!kvm_model_set_slot(kvm, 1, SLOT1_GPA, SLOT1_SIZE, false);
		r->change_errors += !!kvm_model_move_slot(kvm, 1, SLOT1_MOVED);
		r->change_errors += !!kvm_model_delete_slot(kvm, 1);
		r->changes += 3;
	}
	return NULL;
}

TEST(mixed_modes_attach_races_memslot_changes)
{
	u64 attaches[2] = { 0 }, failures = 0, missed = 0;
	struct kt_race r = { 0 };
	struct kt_mixed m;
	double end;
	pthread_t thr;
	int ret;

	ASSERT_TRUE(setup(&m));
	r.m = &m;
	ASSERT_EQ(kvm_model_fault(m.kvm, 0x3000, false), 0);	/* KVM's root */
	ASSERT_EQ(pthread_create(&thr, NULL, memslot_churn, &r), 0);
	end = kt_now() + 1.0;
	/* both kinds at least once, however slow the build; a broken attach ends it */
	while ((kt_now() < end || !attaches[0] || !attaches[1]) && failures < 100) {
		unsigned int i = (attaches[0] + attaches[1]) & 1;

		/* device 0 can share, device 1 cannot: SHARED, then PINNED */
		ret = kt_kvm_hwpt_attach(&m.hwpt[i], m.kio, &m.iopt, &m.dev[i],
					 KVM_IOMMU_POLICY_AUTO);
		if (ret) {
			if (!failures++)
				printf("# attach of device %u failed: %d\n", i, ret);
			continue;
		}
		attaches[i]++;
		missed += !dma_reaches(&m, i, 0x200000 + i * 0x1000);
		kt_kvm_hwpt_detach(&m.hwpt[i]);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	printf("# %llu SHARED and %llu PINNED attaches against %llu memslot changes: "
	       "%llu failed, %llu did not reach RAM\n", (unsigned long long)attaches[0],
	       (unsigned long long)attaches[1], (unsigned long long)r.changes,
	       (unsigned long long)failures, (unsigned long long)missed);
	ASSERT_EQ(failures, 0);
	ASSERT_EQ(missed, 0);
	ASSERT_EQ(r.change_errors, 0);
	ASSERT_GT(r.changes, 0);
	return teardown(&m);
}

/* ---- memslots the devices cannot use (DOC: Memslots the devices cannot use) ---- */

/* The IOAS's view of slot 1 (IOMMU_KVM_SLOTS), with @flags. */
static bool slot1_view(struct kt_mixed *m, u32 flags, u32 *reasons, u32 *readonly)
{
	struct iommu_kvm_slot sl[4];
	u32 n = ARRAY_SIZE(sl), i;

	ASSERT_EQ(kvm_iommu_slots(m->kio, flags, sl, &n), 0);
	for (i = 0; i < n; i++) {
		if (i)
			ASSERT_LT(sl[i - 1].gpa, sl[i].gpa);
		if (sl[i].gpa != m->kvm->slots[1].base_gfn << PAGE_SHIFT)
			continue;
		ASSERT_EQ(sl[i].size, SLOT1_SIZE);
		*reasons = sl[i].reasons;
		*readonly = sl[i].readonly;
		return true;
	}
	ASSERT_TRUE(false);
}

static u64 blocked_slots(struct kt_mixed *m)
{
	struct kvm_iommu_stats st;

	kvm_iommu_get_stats(m->kio, &st);
	return st.blocked_slots;
}

TEST(mixed_modes_slot_over_unmapped_memory_is_accepted_then_retried)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT, slot_pages = SLOT1_SIZE >> PAGE_SHIFT;
	u32 reasons, ro;
	struct kt_mixed m;
	unsigned int i;

	ASSERT_TRUE(setup(&m));
	ASSERT_TRUE(attach_both(&m));
	/* KVM accepts a slot before the VMM maps memory there: so does the IOAS */
	ASSERT_EQ(kvm_model_set_slot_flags(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE,
					   KVM_MODEL_SLOT_HVA_UNMAPPED), 0);
	ASSERT_TRUE(slot1_view(&m, 0, &reasons, &ro));
	ASSERT_EQ(reasons, IOMMU_KVM_SLOT_UNMAPPED);
	ASSERT_EQ(ro, 0);
	ASSERT_EQ(blocked_slots(&m), 1);
	ASSERT_EQ(shared_pins(&m), ram_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(dma_copy(&m.dma[i], SRC, SLOT1_GPA + 0x1000, LEN), -EFAULT);
	/* the VMM maps RAM there; one IOMMU_KVM_SLOTS_RETRY gives it to both */
	ASSERT_EQ(kvm_model_map_hva(m.kvm, 1), 0);
	ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_GPA + 0x1000, LEN), -EFAULT);
	ASSERT_TRUE(slot1_view(&m, IOMMU_KVM_SLOTS_RETRY, &reasons, &ro));
	ASSERT_EQ(reasons, 0);
	ASSERT_EQ(blocked_slots(&m), 0);
	ASSERT_EQ(shared_pins(&m), ram_pages + slot_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages + slot_pages);
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, SLOT1_GPA + 0x2000 + i * 0x1000));
	ASSERT_EQ(kvm_model_delete_slot(m.kvm, 1), 0);
	ASSERT_EQ(shared_pins(&m), ram_pages);
	return teardown(&m);
}

TEST(mixed_modes_bar_slot_is_blocked_for_pinned_peer_to_peer_for_shared)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT;
	u32 reasons, ro;
	struct kt_mixed m;

	ASSERT_TRUE(setup(&m));
	ASSERT_TRUE(attach_both(&m));
	/* a memslot over another device's BAR, mapped through VFIO */
	ASSERT_EQ(kvm_model_set_slot_flags(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE,
					   KVM_MODEL_SLOT_HVA_PFNMAP), 0);
	ASSERT_TRUE(slot1_view(&m, 0, &reasons, &ro));
	ASSERT_EQ(reasons, IOMMU_KVM_SLOT_PFNMAP);
	ASSERT_EQ(shared_pins(&m), ram_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	/* PINNED: 6.12's iommufd cannot map it; SHARED: not until KVM maps it */
	ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_GPA, LEN), -EFAULT);
	ASSERT_EQ(dma_copy(&m.dma[0], SRC, SLOT1_GPA, LEN), -EFAULT);
	/* a vCPU touches the BAR: KVM maps it, and the SHARED device reaches it */
	ASSERT_EQ(kvm_model_fault(m.kvm, SLOT1_GPA, true), 0);
	ASSERT_TRUE(dma_reaches(&m, 0, SLOT1_GPA));
	ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_GPA, LEN), -EFAULT);
	/* nothing to retry: it stays a BAR */
	ASSERT_TRUE(slot1_view(&m, IOMMU_KVM_SLOTS_RETRY, &reasons, &ro));
	ASSERT_EQ(reasons, IOMMU_KVM_SLOT_PFNMAP);
	ASSERT_EQ(kvm_model_delete_slot(m.kvm, 1), 0);
	ASSERT_EQ(blocked_slots(&m), 0);
	return teardown(&m);
}

TEST(mixed_modes_read_only_mapping_is_served_read_only)
{
	u32 reasons, ro;
	struct kt_mixed m;
	unsigned int i;

	ASSERT_TRUE(setup(&m));
	ASSERT_TRUE(attach_both(&m));
	ASSERT_EQ(kvm_model_set_slot_flags(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE,
					   KVM_MODEL_SLOT_HVA_RO), 0);
	ASSERT_TRUE(slot1_view(&m, 0, &reasons, &ro));
	ASSERT_EQ(reasons, IOMMU_KVM_SLOT_HVA_READONLY);
	ASSERT_EQ(ro, 1);
	for (i = 0; i < 2; i++) {
		/* reads from it land in RAM; writes to it are refused */
		ASSERT_EQ(dma_copy(&m.dma[i], SLOT1_GPA + 0x5000, 0x300000 + i * 0x1000, LEN),
			  0);
		ASSERT_EQ(dma_copy(&m.dma[i], SRC, SLOT1_GPA + 0x5000, LEN), -EFAULT);
	}
	ASSERT_EQ(kvm_model_delete_slot(m.kvm, 1), 0);
	return teardown(&m);
}

/*
 * KVM's own memslots are none of the VMM's guest RAM: listeners never hear
 * of them, whether they exist before the devices attach or are created,
 * moved and deleted after; nothing is pinned or reported for them.
 */
TEST(mixed_modes_kvm_internal_slots_are_not_followed)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT;
	struct iommu_kvm_slot sl[2];
	struct kt_mixed m;
	u32 n = 2;

	ASSERT_TRUE(setup(&m));
	ASSERT_EQ(kvm_model_set_slot_flags(m.kvm, 2, SLOT1_MOVED, SLOT1_SIZE,
					   KVM_MODEL_SLOT_KVM_INTERNAL), 0);
	ASSERT_TRUE(attach_both(&m));
	ASSERT_EQ(kvm_iommu_slots(m.kio, 0, sl, &n), 0);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	ASSERT_EQ(kvm_model_set_slot_flags(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE,
					   KVM_MODEL_SLOT_KVM_INTERNAL), 0);
	ASSERT_EQ(kvm_model_move_slot(m.kvm, 1, SLOT1_GPA + SLOT1_SIZE), 0);
	n = 2;
	ASSERT_EQ(kvm_iommu_slots(m.kio, 0, sl, &n), 0);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	ASSERT_EQ(dma_copy(&m.dma[1], SRC, SLOT1_GPA + SLOT1_SIZE, LEN), -EFAULT);
	ASSERT_EQ(kvm_model_delete_slot(m.kvm, 1), 0);
	ASSERT_EQ(kvm_model_delete_slot(m.kvm, 2), 0);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	return teardown(&m);
}

/*
 * The MSI window is reserved IOVA on every unit: a slot over it is mapped
 * and pinned around it, for both devices, whether it was created before or
 * after they attached, and IOMMU_KVM_SLOTS says RESERVED.
 */
TEST(mixed_modes_slot_over_the_msi_window)
{
	const u64 msi = 0xfee00000, ram_pages = RAM >> PAGE_SHIFT;
	const u64 rest = (SLOT1_SIZE - 0x100000) >> PAGE_SHIFT;	/* outside the 1 MiB window */
	struct iommu_kvm_slot sl[2];
	struct kt_mixed m;
	unsigned int i;
	u32 n = 2;

	/* created while devices are attached: accepted, mapped around the window */
	ASSERT_TRUE(setup(&m));
	ASSERT_TRUE(attach_both(&m));
	ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, msi, SLOT1_SIZE, false), 0);
	ASSERT_EQ(kvm_iommu_slots(m.kio, 0, sl, &n), 0);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(sl[1].gpa, msi);
	ASSERT_EQ(sl[1].reasons, IOMMU_KVM_SLOT_RESERVED);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages + rest);
	ASSERT_EQ(shared_pins(&m), ram_pages + rest);
	ASSERT_EQ(kvm_model_pinned(m.kvm), (long)(ram_pages + rest));
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, msi + 0x200000 - 0x2000 + i * 0x1000));
	/* the window itself is not memory for the PINNED device */
	ASSERT_EQ(dma_copy(&m.dma[1], SRC, msi + 0x1000, LEN), -EFAULT);
	ASSERT_TRUE(teardown(&m));

	/* there before any device: attaching one maps it around the window */
	ASSERT_TRUE(setup(&m));
	ASSERT_EQ(kvm_model_set_slot(m.kvm, 1, msi, SLOT1_SIZE, false), 0);
	ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 2);
	ASSERT_TRUE(attach_both(&m));
	n = 2;
	ASSERT_EQ(kvm_iommu_slots(m.kio, 0, sl, &n), 0);
	ASSERT_EQ(sl[1].reasons, IOMMU_KVM_SLOT_RESERVED);
	ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 2);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages + rest);
	ASSERT_EQ(kvm_model_pinned(m.kvm), (long)(ram_pages + rest));
	ASSERT_TRUE(dma_reaches(&m, 1, 0x200000));
	ASSERT_TRUE(dma_reaches(&m, 0, 0x201000));
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, msi + 0x180000 + i * 0x1000));
	ASSERT_EQ(dma_copy(&m.dma[1], SRC, msi + 0x1000, LEN), -EFAULT);
	/* only the first entries fit; the count is all of them */
	n = 1;
	ASSERT_EQ(kvm_iommu_slots(m.kio, 0, sl, &n), 0);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(sl[0].gpa, 0);
	ASSERT_EQ(kvm_iommu_slots(m.kio, 2, sl, &n), -EOPNOTSUPP);
	return teardown(&m);
}

/* A VMA with nothing behind it (a file mapping past its end): blocked, not refused. */
TEST(mixed_modes_slot_with_nothing_to_pin_is_blocked)
{
	const u64 ram_pages = RAM >> PAGE_SHIFT;
	u32 reasons, ro;
	struct kt_mixed m;
	unsigned int i;

	ASSERT_TRUE(setup(&m));
	ASSERT_TRUE(attach_both(&m));
	ASSERT_EQ(kvm_model_set_slot_flags(m.kvm, 1, SLOT1_GPA, SLOT1_SIZE,
					   KVM_MODEL_SLOT_HVA_SIGBUS), 0);
	ASSERT_TRUE(slot1_view(&m, 0, &reasons, &ro));
	ASSERT_EQ(reasons, IOMMU_KVM_SLOT_UNMAPPED);
	ASSERT_EQ(shared_pins(&m), ram_pages);
	ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
	ASSERT_EQ(kt_iopt_nr_areas(&m.iopt), 1);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(dma_copy(&m.dma[i], SRC, SLOT1_GPA, LEN), -EFAULT);
	/* the file grows: a retry gives the slot to both */
	ASSERT_EQ(kvm_model_map_hva(m.kvm, 1), 0);
	ASSERT_TRUE(slot1_view(&m, IOMMU_KVM_SLOTS_RETRY, &reasons, &ro));
	ASSERT_EQ(reasons, 0);
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(dma_reaches(&m, i, SLOT1_GPA + i * 0x1000));
	return teardown(&m);
}

/* Allocate the IOAS again, in @mode (IOMMU_OPTION_RLIMIT_MODE). */
static bool ioas_in_mode(struct kt_mixed *m, u8 mode)
{
	kvm_iommu_ioas_free(m->kio);
	iopt_unmap_all(&m->iopt, NULL);
	m->ictx.account_mode = mode;
	m->kio = kvm_iommu_ioas_alloc(m->kvm->fd, &m->ictx, &m->iopt);
	ASSERT_FALSE(IS_ERR(m->kio));
	return true;
}

/* What iommufd charged against RLIMIT_MEMLOCK, and the other counter */
static long charged(u8 mode)
{
	return mode == IOPT_PAGES_ACCOUNT_MM ? kt_mm.locked_vm : kt_user.locked_vm;
}

static long not_charged(u8 mode)
{
	return mode == IOPT_PAGES_ACCOUNT_MM ? kt_user.locked_vm : kt_mm.locked_vm;
}

/*
 * One pin per page per IOAS, and RLIMIT_MEMLOCK holds for any mix of modes.
 * With the limit at one copy of guest RAM, in either accounting mode and
 * with either device attached first: a SHARED device that cannot fault and
 * a PINNED device on one IOAS pin each page once, charged once, to the
 * counter iommufd charges in that mode (VmPin counts them once too).  A
 * second IOAS over the same VM is a second copy: its first pinning attach
 * is refused with ENOMEM, whatever its mode, and changes nothing.  With the
 * limit one page short, neither device attaches and nothing stays pinned.
 */
TEST(mixed_modes_one_pin_per_page_within_rlimit)
{
	static const u8 modes[] = { IOPT_PAGES_ACCOUNT_USER, IOPT_PAGES_ACCOUNT_MM };
	const long ram_pages = RAM >> PAGE_SHIFT;
	unsigned int mi, first, i;

	for (mi = 0; mi < ARRAY_SIZE(modes); mi++) {
		for (first = 0; first < 2; first++) {
			const u8 mode = modes[mi];
			struct kvm_iommu_stats st;
			struct io_pagetable iopt2;
			struct kvm_iommu_ioas *kio2;
			struct kt_kvm_hwpt h2;
			struct kt_mixed m;

			ASSERT_TRUE(setup(&m));
			ASSERT_TRUE(ioas_in_mode(&m, mode));
			kt_mm.memlock_limit = ram_pages;
			for (i = 0; i < 2; i++) {
				unsigned int d = i ^ first;

				ASSERT_EQ(kt_kvm_hwpt_attach(&m.hwpt[d], m.kio, &m.iopt,
							     &m.dev[d], KVM_IOMMU_POLICY_AUTO), 0);
			}
			ASSERT_EQ(m.hwpt[0].mode, IOMMU_KVM_MODE_SHARED);
			ASSERT_EQ(m.hwpt[1].mode, IOMMU_KVM_MODE_PINNED);
			kvm_iommu_get_stats(m.kio, &st);
			ASSERT_EQ(st.pinned_pages, ram_pages);	/* held for A */
			ASSERT_EQ(kt_iopt_npinned(&m.iopt), ram_pages);
			ASSERT_EQ(kvm_model_pinned(m.kvm), ram_pages);
			ASSERT_EQ(charged(mode), ram_pages);
			ASSERT_EQ(not_charged(mode), 0);
			ASSERT_EQ(kt_mm.pinned_vm, ram_pages);
			for (i = 0; i < 2; i++)
				ASSERT_TRUE(dma_reaches(&m, i, 0x200000 + i * 0x1000));

			/* a second copy, through either device's mode: refused */
			iopt_init_table(&iopt2);
			kio2 = kvm_iommu_ioas_alloc(m.kvm->fd, &m.ictx, &iopt2);
			ASSERT_FALSE(IS_ERR(kio2));
			kt_kvm_hwpt_detach(&m.hwpt[first]);
			memset(&h2, 0, sizeof(h2));
			ASSERT_ERRNO(-ENOMEM, kt_kvm_hwpt_attach(&h2, kio2, &iopt2,
								 &m.dev[first],
								 KVM_IOMMU_POLICY_AUTO));
			ASSERT_EQ(kvm_model_pinned(m.kvm), ram_pages);
			ASSERT_EQ(charged(mode), ram_pages);
			ASSERT_EQ(kt_iopt_npinned(&iopt2), 0);
			/* the remaining device alone still holds one copy */
			ASSERT_TRUE(dma_reaches(&m, first ^ 1, 0x300000));
			kt_kvm_hwpt_detach(&m.hwpt[first ^ 1]);
			ASSERT_EQ(kvm_model_pinned(m.kvm), 0);
			ASSERT_EQ(charged(mode), 0);
			/* the copy it gave back is the second IOAS's to take */
			ASSERT_EQ(kt_kvm_hwpt_attach(&h2, kio2, &iopt2, &m.dev[first],
						     KVM_IOMMU_POLICY_AUTO), 0);
			ASSERT_EQ(charged(mode), ram_pages);
			ASSERT_TRUE(dma_reaches(&m, first, 0x300000));
			kt_kvm_hwpt_detach(&h2);
			kvm_iommu_ioas_free(kio2);
			iopt_unmap_all(&iopt2, NULL);
			iopt_destroy_table(&iopt2);

			/* one page short of a copy: nobody pins */
			kt_mm.memlock_limit = ram_pages - 1;
			for (i = 0; i < 2; i++)
				ASSERT_ERRNO(-ENOMEM,
					     kt_kvm_hwpt_attach(&m.hwpt[i], m.kio, &m.iopt,
								&m.dev[i],
								KVM_IOMMU_POLICY_AUTO));
			ASSERT_EQ(kvm_model_pinned(m.kvm), 0);
			ASSERT_EQ(charged(mode), 0);
			ASSERT_EQ(kt_mm.pinned_vm, 0);
			kt_mm.memlock_limit = LONG_MAX;
			ASSERT_TRUE(teardown(&m));
		}
	}
	return true;
}

/*
 * The ioctl side of virt/iommufd/kvm_hwpt.c over iommufd's object table:
 * IOMMU_HWPT_ALLOC on the KVM-sourced IOAS (refused with its reasons
 * reported, refused for bad flags with nothing reported, PINNED and
 * SHARED), and IOMMU_KVM_SHARE_QUERY before and after each attach.
 * Every refusal leaves no object, allocation, pin or domain behind.
 */
struct kt_objs {
	struct iommufd_ioas ioas;
	struct iommufd_group igroup[2];
	struct iommufd_device idev[2];
};

static void objs_init(struct kt_mixed *m, struct kt_objs *o)
{
	unsigned int i;

	memset(o, 0, sizeof(*o));
	o->ioas.iopt = &m->iopt;
	o->ioas.kvm = m->kio;
	mutex_init(&o->ioas.mutex);
	INIT_LIST_HEAD(&o->ioas.hwpt_list);
	kt_iommufd_object_add(&o->ioas.obj, IOMMUFD_OBJ_IOAS);
	for (i = 0; i < 2; i++) {
		mutex_init(&o->igroup[i].lock);
		INIT_LIST_HEAD(&o->igroup[i].device_list);
		o->idev[i].ictx = &m->ictx;
		o->idev[i].igroup = &o->igroup[i];
		o->idev[i].dev = &m->dev[i];
		kt_iommufd_object_add(&o->idev[i].obj, IOMMUFD_OBJ_DEVICE);
	}
}

static void objs_fini(struct kt_objs *o)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		kt_iommufd_object_del(&o->idev[i].obj);
		mutex_destroy(&o->igroup[i].lock);
	}
	kt_iommufd_object_del(&o->ioas.obj);
	mutex_destroy(&o->ioas.mutex);
}

/* IOMMU_HWPT_ALLOC for device @i with @flags; *@out is what userspace reads. */
static struct iommufd_hwpt_paging *hwpt_alloc(struct kt_mixed *m, struct kt_objs *o,
					      unsigned int i, u32 flags, u32 reserved2,
					      struct iommu_hwpt_alloc *out)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd), .flags = flags, .dev_id = o->idev[i].obj.id,
		.pt_id = o->ioas.obj.id, .__reserved2 = reserved2,
	};
	struct iommufd_ucmd ucmd = {
		.ictx = &m->ictx, .ubuffer = out, .user_size = sizeof(*out), .cmd = &cmd,
	};
	struct iommufd_hwpt_paging *hwpt;

	mutex_lock(&o->ioas.mutex);
	hwpt = iommufd_hwpt_kvm_alloc_user(&ucmd, &o->ioas, &o->idev[i], NULL);
	if (!IS_ERR(hwpt)) {
		/* the rest of iommufd_hwpt_alloc(): respond, finalize */
		cmd.out_hwpt_id = hwpt->common.obj.id;
		WARN_ON(iommufd_ucmd_respond(&ucmd, sizeof(cmd)));
		iommufd_object_finalize(&m->ictx, &hwpt->common.obj);
	}
	mutex_unlock(&o->ioas.mutex);
	return hwpt;
}

static int share_query(struct kt_mixed *m, struct kt_objs *o, unsigned int i,
		       struct iommu_kvm_share_query *out)
{
	struct iommu_kvm_share_query cmd = {
		.size = sizeof(cmd), .dev_id = o->idev[i].obj.id,
		.ioas_id = o->ioas.obj.id,
	};
	struct iommufd_ucmd ucmd = {
		.ictx = &m->ictx, .ubuffer = out, .user_size = sizeof(*out), .cmd = &cmd,
	};

	memset(out, 0xff, sizeof(*out));
	return iommufd_kvm_share_query(&ucmd);
}

/* No object, domain, pin or attach left; no allocation unless @allocs < 0. */
static bool nothing_left(struct kt_mixed *m, long allocs, long objs)
{
	struct kvm_iommu_stats st;

	rcu_barrier();		/* what the core frees after a grace period */
	kvm_iommu_get_stats(m->kio, &st);
	if (allocs >= 0)
		ASSERT_EQ(kt_alloc_live(), allocs);
	ASSERT_EQ(kt_iommufd_objects_live(), objs);
	ASSERT_EQ(st.shared_domains, 0);
	ASSERT_EQ(st.pinned_pages, 0);
	ASSERT_EQ(st.attached, 0);
	ASSERT_EQ(kt_iopt_npinned(&m->iopt), 0);
	return true;
}

TEST(kvm_hwpt_alloc_and_share_query_ioctls)
{
	const u32 b_reasons = IOMMU_KVM_SHARE_LEVELS | IOMMU_KVM_SHARE_ADDR_WIDTH;
	struct iommufd_hwpt_paging *hwpt[2];
	struct iommu_kvm_share_query q;
	struct iommu_hwpt_alloc out;
	struct kt_mixed m;
	struct kt_objs o;
	long allocs, objs;
	unsigned int i;

	if (!setup(&m))
		return false;
	objs_init(&m, &o);
	objs = kt_iommufd_objects_live();
	/*
	 * A first refusal: the core keeps the device's reserved IOVA recorded
	 * for the IOAS's life (see avoid_reserved()), so count from there.
	 */
	ASSERT_EQ(PTR_ERR(hwpt_alloc(&m, &o, 1, IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED, 0,
				     &out)), -EOPNOTSUPP);
	ASSERT_EQ(kt_iommufd_objects_live(), objs);
	rcu_barrier();
	allocs = kt_alloc_live();

	/* nothing attached: B's reasons, no mode */
	ASSERT_EQ(share_query(&m, &o, 1, &q), 0);
	ASSERT_EQ(q.out_mode, IOMMU_KVM_MODE_NONE);
	ASSERT_EQ(q.out_reasons, b_reasons);
	ASSERT_EQ(share_query(&m, &o, 0, &q), 0);
	ASSERT_EQ(q.out_mode, IOMMU_KVM_MODE_NONE);
	ASSERT_EQ(q.out_reasons, 0);

	/* SHARE_REQUIRED for B: refused, and userspace reads why */
	memset(&out, 0xff, sizeof(out));
	hwpt[1] = hwpt_alloc(&m, &o, 1, IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED, 0, &out);
	ASSERT_EQ(PTR_ERR(hwpt[1]), -EOPNOTSUPP);
	ASSERT_EQ(out.out_kvm_reasons, b_reasons);
	ASSERT_EQ(out.out_kvm_mode, IOMMU_KVM_MODE_NONE);
	if (!nothing_left(&m, allocs, objs))
		return false;

	/* both policies, a non-zero __reserved2, a fault id that is not one */
	memset(&out, 0xff, sizeof(out));
	hwpt[1] = hwpt_alloc(&m, &o, 1, IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED |
			     IOMMU_HWPT_ALLOC_KVM_PIN_ONLY, 0, &out);
	ASSERT_EQ(PTR_ERR(hwpt[1]), -EINVAL);
	ASSERT_EQ(PTR_ERR(hwpt_alloc(&m, &o, 0, 0, 1, &out)), -EOPNOTSUPP);
	ASSERT_EQ(PTR_ERR(hwpt_alloc(&m, &o, 0, IOMMU_HWPT_FAULT_ID_VALID, 0, &out)),
		  -ENOENT);
	/* nothing was reported for those */
	ASSERT_EQ(out.out_kvm_mode, 0xffffffffu);
	ASSERT_EQ(out.out_kvm_reasons, 0xffffffffu);
	if (!nothing_left(&m, allocs, objs))
		return false;

	/* the coherency step applies to a SHARED hwpt as to any paging hwpt */
	o.idev[0].enforce_cache_coherency = true;
	hwpt[0] = hwpt_alloc(&m, &o, 0, 0, 0, &out);
	ASSERT_FALSE(IS_ERR(hwpt[0]));
	ASSERT_TRUE(hwpt[0]->kvm_shared);
	ASSERT_TRUE(hwpt[0]->enforce_cache_coherency);
	iommufd_object_destroy_user(&m.ictx, &hwpt[0]->common.obj);
	o.idev[0].enforce_cache_coherency = false;
	if (!nothing_left(&m, -1, objs))
		return false;
	/* from here on the io_pagetable keeps its per-page access counts */
	allocs = kt_alloc_live();

	/* each allocation failure of either constructor path leaves nothing */
	for (i = 0; i < 2; i++) {
		int nth, failed = 0;

		for (nth = 1; nth < 200; nth++) {
			bool injected;

			kt_fail_nth_set(nth);
			hwpt[i] = hwpt_alloc(&m, &o, i, 0, 0, &out);
			injected = kt_fault_injected();
			kt_fail_nth_set(0);
			if (!injected) {
				ASSERT_FALSE(IS_ERR(hwpt[i]));
				iommufd_object_destroy_user(&m.ictx, &hwpt[i]->common.obj);
				break;
			}
			failed++;
			ASSERT_EQ(PTR_ERR(hwpt[i]), -ENOMEM);
			if (!nothing_left(&m, allocs, objs))
				return false;
		}
		printf("#   %d fault points swept in IOMMU_HWPT_ALLOC, %s\n", failed,
		       i ? "PINNED" : "SHARED");
		ASSERT_GE(failed, 2);
	}
	if (!nothing_left(&m, allocs, objs))
		return false;

	/* AUTO: B PINNED with its reasons, A SHARED */
	hwpt[1] = hwpt_alloc(&m, &o, 1, 0, 0, &out);
	ASSERT_FALSE(IS_ERR(hwpt[1]));
	ASSERT_EQ(out.out_kvm_mode, IOMMU_KVM_MODE_PINNED);
	ASSERT_EQ(out.out_kvm_reasons, b_reasons);
	ASSERT_EQ(out.out_hwpt_id, hwpt[1]->common.obj.id);
	hwpt[0] = hwpt_alloc(&m, &o, 0, 0, 0, &out);
	ASSERT_FALSE(IS_ERR(hwpt[0]));
	ASSERT_EQ(out.out_kvm_mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_EQ(out.out_kvm_reasons, 0);
	ASSERT_TRUE(hwpt[0]->kvm_shared);
	ASSERT_FALSE(hwpt[1]->kvm_shared);
	ASSERT_EQ(kt_iommufd_objects_live(), objs + 2);

	/* allocated, not attached: no mode yet */
	ASSERT_EQ(share_query(&m, &o, 0, &q), 0);
	ASSERT_EQ(q.out_mode, IOMMU_KVM_MODE_NONE);
	ASSERT_EQ(iommufd_hw_pagetable_attach(&hwpt[0]->common, &o.idev[0],
					      IOMMU_NO_PASID), 0);
	ASSERT_EQ(iommufd_hw_pagetable_attach(&hwpt[1]->common, &o.idev[1],
					      IOMMU_NO_PASID), 0);
	ASSERT_EQ(share_query(&m, &o, 0, &q), 0);
	ASSERT_EQ(q.out_mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_EQ(q.out_reasons, 0);
	ASSERT_EQ(share_query(&m, &o, 1, &q), 0);
	ASSERT_EQ(q.out_mode, IOMMU_KVM_MODE_PINNED);
	ASSERT_EQ(q.out_reasons, b_reasons);
	ASSERT_EQ(q.out_dirty_log, IOMMU_KVM_DIRTY_ALL);
	if (!dma_reaches(&m, 0, 0x200000) || !dma_reaches(&m, 1, 0x300000))
		return false;

	/* the other device's hwpt is taken: EINVAL, as upstream */
	ASSERT_EQ(iommufd_hw_pagetable_attach(&hwpt[1]->common, &o.idev[0],
					      IOMMU_NO_PASID), -EINVAL);

	iommufd_hw_pagetable_detach(&o.idev[1], IOMMU_NO_PASID);
	iommufd_hw_pagetable_detach(&o.idev[0], IOMMU_NO_PASID);
	iommufd_object_destroy_user(&m.ictx, &hwpt[1]->common.obj);
	iommufd_object_destroy_user(&m.ictx, &hwpt[0]->common.obj);
	/* (the io_pagetable keeps its per-page access counts while the slot lives) */
	if (!nothing_left(&m, -1, objs))
		return false;
	ASSERT_EQ(share_query(&m, &o, 1, &q), 0);
	ASSERT_EQ(q.out_mode, IOMMU_KVM_MODE_NONE);
	objs_fini(&o);
	return teardown(&m);
}

/*
 * The selftest ops of virt/iommufd/kvm_selftest.c over iommufd's object
 * table: the root is 0 until a SHARED domain walks KVM's, then KVM's;
 * the counters arrive field by field, no more bytes than asked for, with
 * the kernel's size reported; an IOAS not sourced from a VM is EINVAL and
 * an id that names nothing ENOENT, with nothing written.
 */
static bool stats_match(const struct iommu_test_kvm_ioas_stats *out,
			const struct kvm_iommu_stats *st)
{
	ASSERT_EQ(out->invalidations, st->invalidations);
	ASSERT_EQ(out->domain_flushes, st->domain_flushes);
	ASSERT_EQ(out->flush_errors, st->flush_errors);
	ASSERT_EQ(out->pinned_pages, st->pinned_pages);
	ASSERT_EQ(out->memslot_changes, st->memslot_changes);
	ASSERT_EQ(out->mirror_errors, st->mirror_errors);
	ASSERT_EQ(out->flushes, st->flushes);
	ASSERT_EQ(out->attaches, st->attaches);
	ASSERT_EQ(out->detaches, st->detaches);
	ASSERT_EQ(out->pin_calls, st->pin_calls);
	ASSERT_EQ(out->unpin_calls, st->unpin_calls);
	ASSERT_EQ(out->iopf_groups, st->iopf_groups);
	ASSERT_EQ(out->faultins, st->faultins);
	ASSERT_EQ(out->modes, st->modes);
	ASSERT_EQ(out->memslot_refused, st->memslot_refused);
	ASSERT_EQ(out->memslot_initial, st->memslot_initial);
	ASSERT_EQ(out->shared_domains, st->shared_domains);
	ASSERT_EQ(out->attached, st->attached);
	ASSERT_EQ(out->fault_domains, st->fault_domains);
	ASSERT_EQ(out->__reserved, 0);
	return true;
}

/* Every byte of @buf from @from on still has the fill value @c. */
static bool untouched(const void *buf, size_t from, size_t size, unsigned char c)
{
	const unsigned char *p = buf;

	for (; from < size; from++)
		ASSERT_EQ(p[from], c);
	return true;
}

TEST(kvm_selftest_ops_report_root_and_counters)
{
	struct {
		struct iommu_test_kvm_ioas_stats s;
		unsigned char beyond[16];
	} buf;
	const size_t size = sizeof(buf.s);
	struct iommufd_ioas plain = {};
	struct iommufd_hwpt_paging *hwpt;
	struct iommu_hwpt_alloc out;
	struct kvm_iommu_stats st;
	struct kt_mixed m;
	struct kt_objs o;
	u32 len, id;
	u64 root;

	if (!setup(&m))
		return false;
	objs_init(&m, &o);
	id = o.ioas.obj.id;

	/* no SHARED domain yet: no root */
	root = ~0ull;
	ASSERT_EQ(iommufd_test_kvm_ioas_root(&m.ictx, id, &root), 0);
	ASSERT_EQ(root, 0);
	hwpt = hwpt_alloc(&m, &o, 0, 0, 0, &out);
	ASSERT_FALSE(IS_ERR(hwpt));
	ASSERT_EQ(out.out_kvm_mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_EQ(iommufd_hw_pagetable_attach(&hwpt->common, &o.idev[0],
					      IOMMU_NO_PASID), 0);
	ASSERT_EQ(iommufd_test_kvm_ioas_root(&m.ictx, id, &root), 0);
	ASSERT_EQ(root, m.kvm->root);
	ASSERT_NE(root, 0);

	/* a length of 0 only asks for the size */
	memset(&buf, 0xa5, sizeof(buf));
	len = 0;
	ASSERT_EQ(iommufd_test_kvm_ioas_stats(&m.ictx, id, (uintptr_t)&buf, &len), 0);
	ASSERT_EQ(len, size);
	if (!untouched(&buf, 0, sizeof(buf), 0xa5))
		return false;
	/* an older, shorter struct: its fields only */
	len = 2 * sizeof(u64);
	ASSERT_EQ(iommufd_test_kvm_ioas_stats(&m.ictx, id, (uintptr_t)&buf, &len), 0);
	ASSERT_EQ(len, size);
	kvm_iommu_get_stats(m.kio, &st);
	ASSERT_EQ(buf.s.invalidations, st.invalidations);
	ASSERT_EQ(buf.s.domain_flushes, st.domain_flushes);
	if (!untouched(&buf, 2 * sizeof(u64), sizeof(buf), 0xa5))
		return false;
	/* a newer, longer one: all of ours, the rest as it was */
	len = sizeof(buf);
	ASSERT_EQ(iommufd_test_kvm_ioas_stats(&m.ictx, id, (uintptr_t)&buf, &len), 0);
	ASSERT_EQ(len, size);
	kvm_iommu_get_stats(m.kio, &st);
	ASSERT_EQ(st.attached, 1);
	ASSERT_EQ(st.shared_domains, 1);
	if (!stats_match(&buf.s, &st) || !untouched(&buf, size, sizeof(buf), 0xa5))
		return false;

	/* an IOAS not sourced from a VM, and an id that names nothing */
	plain.iopt = NULL;
	mutex_init(&plain.mutex);
	INIT_LIST_HEAD(&plain.hwpt_list);
	kt_iommufd_object_add(&plain.obj, IOMMUFD_OBJ_IOAS);
	memset(&buf, 0xa5, sizeof(buf));
	len = sizeof(buf);
	root = 1;
	ASSERT_EQ(iommufd_test_kvm_ioas_root(&m.ictx, plain.obj.id, &root), -EINVAL);
	ASSERT_EQ(iommufd_test_kvm_ioas_stats(&m.ictx, plain.obj.id, (uintptr_t)&buf,
					      &len), -EINVAL);
	ASSERT_EQ(iommufd_test_kvm_ioas_root(&m.ictx, plain.obj.id + 1000, &root),
		  -ENOENT);
	ASSERT_EQ(iommufd_test_kvm_ioas_stats(&m.ictx, plain.obj.id + 1000,
					      (uintptr_t)&buf, &len), -ENOENT);
	/* the device's hwpt is not an IOAS either */
	ASSERT_EQ(iommufd_test_kvm_ioas_root(&m.ictx, hwpt->common.obj.id, &root),
		  -ENOENT);
	ASSERT_EQ(root, 1);
	ASSERT_EQ(len, sizeof(buf));
	if (!untouched(&buf, 0, sizeof(buf), 0xa5))
		return false;
	kt_iommufd_object_del(&plain.obj);
	mutex_destroy(&plain.mutex);

	iommufd_hw_pagetable_detach(&o.idev[0], IOMMU_NO_PASID);
	iommufd_object_destroy_user(&m.ictx, &hwpt->common.obj);
	ASSERT_EQ(iommufd_test_kvm_ioas_root(&m.ictx, id, &root), 0);
	ASSERT_EQ(root, 0);
	if (!nothing_left(&m, -1, kt_iommufd_objects_live()))
		return false;
	objs_fini(&o);
	return teardown(&m);
}
