// SPDX-License-Identifier: GPL-2.0
/*
 * The iommufd selftest driver's KVM-table domain
 * (virt/iommufd/kvm_selftest_domain.c), the code the kernel's mock device
 * runs in the "mock" QEMU profile: its share check against formats of
 * every kind the export descriptor can describe, and IOMMU_TEST_OP_KVM_DMA
 * through a mock device attached SHARED with a fault queue to a
 * KVM-sourced IOAS over the KVM model, with page requests resolved by the
 * core's handler on the IO page fault queue.
 */
#include <stdio.h>

#include "../harness/test.h"
#include "../platform/kvm_mmu.h"
#include "../standin/fault.h"
#include "../standin/iopf.h"
#include "../standin/mock_iommu.h"
#include "../harness/hwpt.h"
#include "../../../../virt/iommufd/kvm_iommu_test.h"
#include <linux/kvm_iommufd.h>
#include <linux/kvm_tdp_export.h>
#include <uapi/linux/iommufd_kvm.h>

#define RAM		(8ULL << 20)
#define HOLE_GPA	(1ULL << 30)	/* no memslot */

struct kt_mock {
	struct phys *pm;
	struct iopf_queue *iopfq;
	struct kvm *kvm;
	bool vm_destroyed;
	struct device dev;
	struct iommufd_ctx ictx;
	struct io_pagetable iopt;
	struct kvm_iommu_ioas *kio;
	struct iommufd_fault fault;
	struct kt_kvm_hwpt hwpt;
};

static bool setup(struct kt_mock *t)
{
	struct kspte_cfg c = {
		.present_bit = 59, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 2,
	};

	memset(t, 0, sizeof(*t));
	t->pm = phys_create(1ULL << 30);
	ASSERT_TRUE(t->pm);
	kt_machine_mem_get(t->pm);
	t->iopfq = kt_iopf_queue_alloc("mock-iopfq");
	ASSERT_TRUE(t->iopfq);
	kt_mock_probe_device(&t->dev, "iommufd_mock0");
	kt_fault_init(&t->fault);
	t->kvm = kvm_model_create(t->pm, &c, &t->vm_destroyed);
	ASSERT_TRUE(t->kvm);
	ASSERT_EQ(kvm_model_set_slot(t->kvm, 0, 0, RAM, 0), 0);
	t->ictx.account_mode = IOPT_PAGES_ACCOUNT_USER;
	iopt_init_table(&t->iopt);
	t->kio = kvm_iommu_ioas_alloc(t->kvm->fd, &t->ictx, &t->iopt);
	ASSERT_FALSE(IS_ERR(t->kio));
	/* KVM builds its root with the first vCPU */
	ASSERT_EQ(kvm_model_fault(t->kvm, RAM - PAGE_SIZE, false), 0);
	ASSERT_EQ(kt_kvm_hwpt_attach_fault(&t->hwpt, t->kio, &t->iopt, &t->dev,
					   KVM_IOMMU_POLICY_SHARE_REQUIRED,
					   &t->fault, t->iopfq), 0);
	ASSERT_EQ(t->hwpt.mode, IOMMU_KVM_MODE_SHARED);
	ASSERT_TRUE(iommu_get_domain_for_dev(&t->dev) == t->hwpt.domain);
	return true;
}

static bool teardown(struct kt_mock *t)
{
	long left;

	kt_kvm_hwpt_detach(&t->hwpt);
	kt_fault_destroy(&t->fault);
	kvm_iommu_ioas_free(t->kio);
	iopt_unmap_all(&t->iopt, NULL);
	iopt_destroy_table(&t->iopt);
	kvm_model_close(t->kvm);
	ASSERT_TRUE(t->vm_destroyed);
	kt_iopf_queue_free(t->iopfq);
	kt_machine_mem_put(t->pm);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	left = phys_allocated(t->pm);
	phys_destroy(t->pm);
	ASSERT_EQ(left, 0);
	return true;
}

/* IOMMU_TEST_OP_KVM_DMA of the mock device: the op's return, @d filled in */
static int mock_dma(struct kt_mock *t, struct iommu_test_kvm_dma *d, u64 gpa,
		    void *buf, u64 len, u32 flags)
{
	memset(d, 0, sizeof(*d));
	d->flags = flags;
	d->gpa = gpa;
	d->length = len;
	d->uptr = (uintptr_t)buf;
	return iommufd_test_kvm_dma(&t->dev, (uintptr_t)d, sizeof(*d));
}

/* A format the mock unit shares: NPT-like, 4 levels, 4 KiB to 1 GiB. */
static struct kvm_tdp_format npt_like(void)
{
	return (struct kvm_tdp_format) {
		.size = sizeof(struct kvm_tdp_format),
		.type = KVM_TDP_FMT_NPT,
		.granule_shift = 12, .levels = 4, .start_level = 4,
		.ias = 48, .oas = 46,
		.leaf_sizes = SZ_4K | SZ_2M | SZ_1G,
		.addr_mask = GENMASK_ULL(45, 12),
		.leaf_bits = 0x67 | BIT_ULL(59) | BIT_ULL(63),
		.nonleaf_bits = 0x27 | BIT_ULL(59),
		.always_bits = BIT_ULL(2) | BIT_ULL(59),
		.nonpresent_bits = 0x5a0,
		.read_mask = BIT_ULL(0), .write_mask = BIT_ULL(1),
		.accessed_mask = BIT_ULL(5), .dirty_mask = BIT_ULL(6),
	};
}

static u32 reasons_of(const struct kvm_tdp_format *fmt)
{
	struct kvm_iommu_share_info info;
	struct device dev;

	kt_mock_probe_device(&dev, "iommufd_mock0");
	memset(&info, 0xa5, sizeof(info));
	dev.iommu_ops->kvm_tdp_share_info(&dev, fmt, &info);
	return info.reasons;
}

TEST(mock_domain_share_check_reads_the_descriptor)
{
	struct kvm_tdp_format f = npt_like();
	struct kvm_tdp_export exp = { .root = 0x200000 };
	u32 reasons;

	ASSERT_EQ(reasons_of(&f), 0);
	f.mmio_bits = BIT_ULL(0) | BIT_ULL(51);
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_MMIO_CACHING);
	f = npt_like();
	f.nonpresent_bits |= BIT_ULL(1);
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_NONPRESENT);
	f = npt_like();
	f.nonleaf_bits &= ~BIT_ULL(1);		/* table entries without W */
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_FORMAT);
	f = npt_like();
	f.levels = 6;
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_LEVELS);
	f = npt_like();
	f.leaf_sizes |= 1ULL << 39;		/* a leaf at the root's level */
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_PAGE_SIZES);
	f = npt_like();
	f.oas = 56;
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_ADDR_WIDTH);
	f = npt_like();
	f.accessed_mask = 0;
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_ACCESS_TRACKING);
	f = npt_like();
	f.type = 9;
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_FORMAT);

	/* arm64 stage 2: 16 KiB and 64 KiB granules are other formats, not copies */
	f = npt_like();
	f.type = KVM_TDP_FMT_ARM64_S2;
	f.granule_shift = 14;
	f.levels = 3;
	f.start_level = 1;
	f.ias = 47;
	f.leaf_sizes = (1ULL << 14) | (1ULL << 25);
	f.addr_mask = GENMASK_ULL(47, 14);
	f.leaf_bits = 0x7c3;
	f.nonleaf_bits = 0x3;
	f.read_mask = BIT_ULL(0) | BIT_ULL(6);
	f.write_mask = BIT_ULL(0) | BIT_ULL(7);
	f.leaf_bits |= BIT_ULL(6) | BIT_ULL(7);
	f.nonleaf_bits |= BIT_ULL(6) | BIT_ULL(7);
	f.always_bits = BIT_ULL(0);
	f.nonpresent_bits = BIT_ULL(56);
	f.accessed_mask = BIT_ULL(10);
	ASSERT_EQ(reasons_of(&f), 0);
	f.leaf_sizes |= 1ULL << 36;			/* 16 KiB granule: 32 MiB, 64 GiB */
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_PAGE_SIZES);
	f.leaf_sizes = (1ULL << 14) | SZ_2M;		/* not a level's size */
	ASSERT_EQ(reasons_of(&f), IOMMU_KVM_SHARE_PAGE_SIZES);
	f.granule_shift = 13;
	ASSERT_TRUE(reasons_of(&f) & IOMMU_KVM_SHARE_FORMAT);

	/* the allocation refuses with the same reasons, and a bad root */
	exp.fmt = npt_like();
	exp.fmt.mmio_bits = BIT_ULL(1);
	ASSERT_EQ(PTR_ERR(iommufd_test_kvm_domain_alloc(NULL, &exp, &reasons)),
		  -EOPNOTSUPP);
	ASSERT_EQ(reasons, IOMMU_KVM_SHARE_MMIO_CACHING);
	exp.fmt = npt_like();
	exp.root = 0x200800;
	ASSERT_EQ(PTR_ERR(iommufd_test_kvm_domain_alloc(NULL, &exp, &reasons)),
		  -EINVAL);
	ASSERT_EQ(reasons, 0);
	return true;
}

TEST(mock_dma_faults_in_untouched_pages_nothing_pinned)
{
	enum { N = 12 };
	u8 out[N * PAGE_SIZE], in[N * PAGE_SIZE], check[N * PAGE_SIZE];
	struct iommu_test_kvm_dma d;
	struct kvm_iommu_stats st;
	struct kt_mock t;
	u64 gpa = 0x100000 + 0x123;	/* unaligned: 13 pages touched */
	size_t len = sizeof(out) - 0x123;
	unsigned int i;

	if (!setup(&t))
		return false;
	for (i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 7 + 3);
	/* no page request: KVM has no leaf, nothing moves */
	ASSERT_EQ(mock_dma(&t, &d, gpa, out, len, IOMMU_TEST_KVM_DMA_WRITE), 0);
	ASSERT_EQ(d.out_done, 0);
	ASSERT_EQ(d.out_faults, 0);
	ASSERT_EQ(d.out_walks, 1);
	ASSERT_EQ(mock_dma(&t, &d, gpa, out, len,
			   IOMMU_TEST_KVM_DMA_WRITE | IOMMU_TEST_KVM_DMA_FAULT), 0);
	ASSERT_EQ(d.out_done, len);
	ASSERT_EQ(d.out_faults, N);
	ASSERT_EQ(d.out_code, IOMMU_PAGE_RESP_SUCCESS);
	/* the bytes are in guest memory, where a vCPU reads them */
	ASSERT_EQ(kvm_model_guest_read(t.kvm, gpa, check, len), 0);
	ASSERT_EQ(memcmp(check, out, len), 0);
	/* reachable now: read back with no page request */
	memset(in, 0, sizeof(in));
	ASSERT_EQ(mock_dma(&t, &d, gpa, in, len, IOMMU_TEST_KVM_DMA_FAULT), 0);
	ASSERT_EQ(d.out_done, len);
	ASSERT_EQ(d.out_faults, 0);
	ASSERT_EQ(memcmp(in, out, len), 0);
	st = (kvm_iommu_get_stats(t.kio, &st), st);
	ASSERT_EQ(st.iopf_groups, N);
	ASSERT_EQ(st.faultins, N);
	ASSERT_EQ(st.pinned_pages, 0);
	ASSERT_EQ(kvm_model_pinned(t.kvm), 0);
	ASSERT_EQ(kt_mm.locked_vm, 0);
	ASSERT_EQ(kt_iopt_npinned(&t.iopt), 0);
	return teardown(&t);
}

TEST(mock_dma_refused_outside_memslots_answered_invalid)
{
	struct iommu_test_kvm_dma d;
	struct kt_pgfault rec[2];
	struct kt_mock t;
	u8 buf[64] = { 0 };

	if (!setup(&t))
		return false;
	ASSERT_EQ(mock_dma(&t, &d, HOLE_GPA + 8, buf, sizeof(buf),
			   IOMMU_TEST_KVM_DMA_FAULT), 0);
	ASSERT_EQ(d.out_done, 0);
	ASSERT_EQ(d.out_faults, 1);
	ASSERT_EQ(d.out_code, IOMMU_PAGE_RESP_INVALID);
	ASSERT_TRUE(kt_fault_wait(&t.fault, 1, 5000));
	ASSERT_EQ(kt_fault_read(&t.fault, rec, ARRAY_SIZE(rec)), 1);
	ASSERT_EQ(rec[0].addr, HOLE_GPA);
	ASSERT_TRUE(rec[0].flags & IOMMU_PGFAULT_FLAGS_ANSWERED);
	ASSERT_FALSE(rec[0].perm & IOMMU_FAULT_PERM_WRITE);
	return teardown(&t);
}

TEST(mock_iotlb_keeps_a_leaf_until_kvm_invalidates_it)
{
	struct iommu_test_kvm_dma d;
	struct kt_mock t;
	u64 flushes, gpa = 0x300000;
	u8 buf[32];

	if (!setup(&t))
		return false;
	ASSERT_EQ(mock_dma(&t, &d, gpa, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT), 0);
	ASSERT_EQ(d.out_done, sizeof(buf));
	ASSERT_EQ(mock_dma(&t, &d, gpa, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_PROBE), 0);
	ASSERT_EQ(d.out_hits, 1);
	ASSERT_EQ(d.out_walks, 0);
	flushes = d.out_flushes;
	/* a KVM change the domain is not told about stays cached */
	kvm_model_discard(t.kvm, gpa, PAGE_SIZE);
	ASSERT_EQ(mock_dma(&t, &d, gpa, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_PROBE), 0);
	ASSERT_EQ(d.out_done, 0);
	ASSERT_EQ(d.out_hits, 0);
	ASSERT_TRUE(d.out_flushes > flushes);
	/* and the page request brings it back */
	ASSERT_EQ(mock_dma(&t, &d, gpa, buf, sizeof(buf), IOMMU_TEST_KVM_DMA_FAULT), 0);
	ASSERT_EQ(d.out_done, sizeof(buf));
	ASSERT_EQ(d.out_faults, 1);
	return teardown(&t);
}

TEST(mock_dma_bad_requests_fail_with_einval)
{
	struct iommu_test_kvm_dma d;
	struct device other;
	struct kt_mock t;
	u8 buf[16];

	if (!setup(&t))
		return false;
	mock_dma(&t, &d, 0, buf, sizeof(buf), 0);
	ASSERT_EQ(iommufd_test_kvm_dma(&t.dev, (uintptr_t)&d,
				       offsetof(struct iommu_test_kvm_dma, out_done) - 1),
		  -EINVAL);
	ASSERT_EQ(mock_dma(&t, &d, 0, buf, sizeof(buf), 1u << 3), -EINVAL);
	ASSERT_EQ(mock_dma(&t, &d, 0, buf, 0, 0), -EINVAL);
	ASSERT_EQ(mock_dma(&t, &d, 0, buf, SZ_2M + 1, 0), -EINVAL);
	d.__reserved = 1;
	ASSERT_EQ(iommufd_test_kvm_dma(&t.dev, (uintptr_t)&d, sizeof(d)), -EINVAL);
	/* a device attached to no mock KVM-table domain */
	kt_mock_probe_device(&other, "iommufd_mock1");
	memset(&d, 0, sizeof(d));
	d.length = sizeof(buf);
	d.uptr = (uintptr_t)buf;
	ASSERT_EQ(iommufd_test_kvm_dma(&other, (uintptr_t)&d, sizeof(d)), -EINVAL);
	return teardown(&t);
}
