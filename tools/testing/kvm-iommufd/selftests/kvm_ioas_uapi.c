// SPDX-License-Identifier: GPL-2.0-only
/*
 * uAPI conformance of a KVM-sourced IOAS: every flag's field
 * lies within the size passed, and every reserved field is checked.
 *
 * - IOMMU_IOAS_ALLOC with IOMMU_IOAS_ALLOC_FLAG_KVM_FD and the 12-byte
 *   first-version struct (no kvm_fd) fails with EINVAL.  To tell that
 *   apart from "fd 0 is not a VM", fd 0 is made a dup of the VM's fd
 *   first: a kernel that reads the zero-filled kvm_fd would succeed.
 * - With size 16 (offsetofend of kvm_fd) it succeeds, reads kvm_fd (a
 *   non-VM fd there fails with EINVAL), and the IOAS is KVM-sourced
 *   (IOMMU_IOAS_MAP on it fails with EPERM).
 * - With the full struct, a non-zero __reserved fails with EOPNOTSUPP, as
 *   does an unknown flag.
 * - IOMMU_HWPT_ALLOC on a KVM-sourced IOAS with a non-zero __reserved2
 *   fails with EOPNOTSUPP, with either policy, and leaves nothing behind:
 *   no domain, no pins, and a following HWPT_ALLOC and attach work and
 *   edu's DMA copies guest memory.
 * - struct iommu_test_cmd is as large as in upstream 6.12, so IOMMU_TEST_CMD
 *   accepts the same sizes (the iommufd selftests built against upstream's
 *   header keep working): 68 bytes, offsetofend of last, is enough for
 *   IOMMU_TEST_OP_KVM_IOAS_STATS and 67 fails with EINVAL.  The op writes
 *   at most kvm_ioas_stats.length bytes of its struct, returns the struct's
 *   size there, and fails with EFAULT on a buffer it cannot write.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma_buf.h"
#include "iommufd_utils.h"
#include "shared_vm.h"

#define IOAS_ALLOC_V1_SIZE	12	/* size, flags, out_ioas_id */
#define offsetofend(T, m)	(offsetof(T, m) + sizeof(((T *)0)->m))

/*
 * sizeof(struct iommu_test_cmd) and offsetofend(struct iommu_test_cmd, last)
 * in Linux 6.12's drivers/iommu/iommufd/iommufd_test.h (linux-source-6.12):
 * IOMMU_TEST_CMD requires offsetofend of last, so the series' ops must not
 * grow the union.
 */
#define TEST_CMD_SIZE_6_12		72
#define TEST_CMD_MIN_SIZE_6_12	68
static_assert(sizeof(struct iommu_test_cmd) == TEST_CMD_SIZE_6_12,
	      "struct iommu_test_cmd differs in size from upstream 6.12's");
static_assert(offsetofend(struct iommu_test_cmd, last) == TEST_CMD_MIN_SIZE_6_12,
	      "IOMMU_TEST_CMD's minimum size differs from upstream 6.12's");

static struct shared_vm s;

/* IOMMU_IOAS_ALLOC of @size bytes of @cmd; 0 or -errno */
static int ioas_alloc_raw(struct iommu_ioas_alloc *cmd, uint32_t size)
{
	cmd->size = size;
	return __iommufd_ret(ioctl(s.iommufd, IOMMU_IOAS_ALLOC, cmd));
}

/* Expect @err from an IOAS_ALLOC; destroy what a wrong success made. */
static void expect_ioas_alloc_err(int err, struct iommu_ioas_alloc *cmd, uint32_t size,
				  const char *what)
{
	int ret = ioas_alloc_raw(cmd, size);

	TEST_EXPECT(ret == -err, "%s: expected %s, got %s", what, errno_name(err),
		    errno_name(-ret));
	if (!ret) {
		tap_diag("%s: accepted, IOAS %u", what, cmd->out_ioas_id);
		test_ioctl_destroy(s.iommufd, cmd->out_ioas_id);
	}
}

static struct iommu_test_kvm_ioas_stats stats(uint32_t ioas_id)
{
	struct iommu_test_kvm_ioas_stats st;

	shared_kvm_stats(s.iommufd, ioas_id, &st);
	return st;
}

/*
 * IOMMU_TEST_OP_KVM_IOAS_STATS on @ioas_id with a command of @size bytes
 * into @buf, @length bytes; 0 or -errno, @length gets what the kernel
 * returned.
 */
static int stats_raw(uint32_t ioas_id, uint32_t size, void *buf, uint32_t *length)
{
	struct iommu_test_cmd cmd = {
		.size = size,
		.op = IOMMU_TEST_OP_KVM_IOAS_STATS,
		.id = ioas_id,
		.kvm_ioas_stats = {
			.uptr = (uintptr_t)buf,
			.length = *length,
		},
	};
	int ret = __iommufd_ret(ioctl(s.iommufd, IOMMU_TEST_CMD, &cmd));

	*length = cmd.kvm_ioas_stats.length;
	return ret;
}

static void test_cmd_size_and_stats_buffer(uint32_t ioas_id)
{
	struct iommu_test_kvm_ioas_stats st, want = stats(ioas_id);
	const uint32_t full = sizeof(st);
	uint32_t length;
	uint8_t *gone;
	size_t i;
	int ret;

	/* the minimum size is upstream's */
	memset(&st, 0xa5, sizeof(st));
	length = full;
	ret = stats_raw(ioas_id, TEST_CMD_MIN_SIZE_6_12, &st, &length);
	TEST_EXPECT(!ret, "size %d: %s", TEST_CMD_MIN_SIZE_6_12, errno_name(-ret));
	TEST_EXPECT_EQ(length, full);
	TEST_EXPECT_EQ(st.memslot_initial, want.memslot_initial);
	TEST_EXPECT_EQ(st.__reserved, 0);
	length = full;
	ret = stats_raw(ioas_id, TEST_CMD_MIN_SIZE_6_12 - 1, &st, &length);
	TEST_EXPECT(ret == -EINVAL, "size %d: expected EINVAL, got %s",
		    TEST_CMD_MIN_SIZE_6_12 - 1, errno_name(-ret));

	/* a shorter buffer: only its bytes are written */
	memset(&st, 0xa5, sizeof(st));
	length = sizeof(st.invalidations);
	ret = stats_raw(ioas_id, sizeof(struct iommu_test_cmd), &st, &length);
	TEST_EXPECT(!ret, "length 8: %s", errno_name(-ret));
	TEST_EXPECT_EQ(length, full);
	TEST_EXPECT_EQ(st.invalidations, want.invalidations);
	for (i = sizeof(st.invalidations); i < sizeof(st); i++)
		if (((uint8_t *)&st)[i] != 0xa5)
			break;
	TEST_EXPECT(i == sizeof(st), "length 8: byte %zu of the buffer written", i);

	/* a buffer the kernel cannot write */
	gone = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	TEST_ASSERT(gone != MAP_FAILED, "mmap: %s", errno_name(errno));
	TEST_ASSERT(!munmap(gone, PAGE_SIZE), "munmap: %s", errno_name(errno));
	length = full;
	ret = stats_raw(ioas_id, sizeof(struct iommu_test_cmd), gone, &length);
	TEST_EXPECT(ret == -EFAULT, "unmapped buffer: expected EFAULT, got %s",
		    errno_name(-ret));
	length = full;
	ret = stats_raw(ioas_id, sizeof(struct iommu_test_cmd), NULL, &length);
	TEST_EXPECT(ret == -EFAULT, "NULL buffer: expected EFAULT, got %s", errno_name(-ret));
	/* length 0 only asks for the size */
	length = 0;
	ret = stats_raw(ioas_id, sizeof(struct iommu_test_cmd), NULL, &length);
	TEST_EXPECT(!ret, "NULL buffer, length 0: %s", errno_name(-ret));
	TEST_EXPECT_EQ(length, full);
}

/* IOMMU_HWPT_ALLOC for edu on @ioas_id with __reserved2 = @reserved2 */
static int hwpt_alloc_raw(uint32_t ioas_id, uint32_t flags, uint32_t reserved2,
			  uint32_t *hwpt_id, uint32_t *mode)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = s.edu.dev_id,
		.pt_id = ioas_id,
		.__reserved2 = reserved2,
		.out_kvm_mode = ~0u,
		.out_kvm_reasons = ~0u,
	};
	int ret = __iommufd_ret(ioctl(s.iommufd, IOMMU_HWPT_ALLOC, &cmd));

	*hwpt_id = cmd.out_hwpt_id;
	*mode = cmd.out_kvm_mode;
	return ret;
}

int main(void)
{
	struct iommu_ioas_alloc cmd;
	uint32_t ioas16, hwpt_id, mode, want_mode;
	uint8_t *src, *dst, *buf;
	uint64_t iova = 0x100000;
	int saved0, ret;

	tap_plan(6);
	shared_vm_create(&s);
	want_mode = shared_expected_reasons() ? IOMMU_KVM_MODE_PINNED : IOMMU_KVM_MODE_SHARED;

	tap_begin("ioas_alloc_v1_size_with_kvm_fd_einval");
	saved0 = dup(0);
	TEST_ASSERT(saved0 >= 0, "dup(0): %s", errno_name(errno));
	TEST_ASSERT(dup2(s.vm->fd, 0) == 0, "dup2(vm, 0): %s", errno_name(errno));
	memset(&cmd, 0, sizeof(cmd));
	cmd.flags = IOMMU_IOAS_ALLOC_FLAG_KVM_FD;
	expect_ioas_alloc_err(EINVAL, &cmd, IOAS_ALLOC_V1_SIZE, "size 12, KVM_FD");
	/* the first-version struct itself is fine */
	memset(&cmd, 0, sizeof(cmd));
	ret = ioas_alloc_raw(&cmd, IOAS_ALLOC_V1_SIZE);
	TEST_EXPECT(!ret, "size 12, no flag: %s", errno_name(-ret));
	if (!ret)
		test_ioctl_destroy(s.iommufd, cmd.out_ioas_id);
	TEST_ASSERT(dup2(saved0, 0) == 0, "restore fd 0: %s", errno_name(errno));
	close(saved0);
	tap_end();

	tap_begin("ioas_alloc_size_16_with_kvm_fd");
	memset(&cmd, 0, sizeof(cmd));
	cmd.flags = IOMMU_IOAS_ALLOC_FLAG_KVM_FD;
	cmd.kvm_fd = s.vm->fd;
	TEST_ASSERT_EQ(offsetofend(struct iommu_ioas_alloc, kvm_fd), 16);
	ret = ioas_alloc_raw(&cmd, 16);
	TEST_ASSERT(!ret, "size 16, KVM_FD: %s", errno_name(-ret));
	ioas16 = cmd.out_ioas_id;
	TEST_EXPECT(ioas16 != 0, "IOAS id 0");
	/* it is KVM-sourced: the VMM cannot map into it */
	buf = alloc_buf(PAGE_SIZE, 0);
	test_err_ioctl_ioas_map_fixed(EPERM, s.iommufd, ioas16, buf, PAGE_SIZE, iova);
	TEST_EXPECT_EQ(stats(ioas16).memslot_initial, 1);
	/* kvm_fd is read at size 16: an iommufd is not a VM */
	memset(&cmd, 0, sizeof(cmd));
	cmd.flags = IOMMU_IOAS_ALLOC_FLAG_KVM_FD;
	cmd.kvm_fd = s.iommufd;
	expect_ioas_alloc_err(EINVAL, &cmd, 16, "size 16, KVM_FD, kvm_fd an iommufd");
	tap_end();

	tap_begin("test_cmd_upstream_size_stats_buffer");
	test_cmd_size_and_stats_buffer(ioas16);
	tap_end();

	tap_begin("ioas_alloc_reserved_eopnotsupp");
	memset(&cmd, 0, sizeof(cmd));
	cmd.flags = IOMMU_IOAS_ALLOC_FLAG_KVM_FD;
	cmd.kvm_fd = s.vm->fd;
	cmd.__reserved = 1;
	expect_ioas_alloc_err(EOPNOTSUPP, &cmd, sizeof(cmd), "KVM_FD, __reserved 1");
	memset(&cmd, 0, sizeof(cmd));
	cmd.__reserved = 1;
	expect_ioas_alloc_err(EOPNOTSUPP, &cmd, sizeof(cmd), "no flag, __reserved 1");
	memset(&cmd, 0, sizeof(cmd));
	cmd.flags = IOMMU_IOAS_ALLOC_FLAG_KVM_FD << 1;
	cmd.kvm_fd = s.vm->fd;
	expect_ioas_alloc_err(EOPNOTSUPP, &cmd, sizeof(cmd), "unknown flag");
	tap_end();

	tap_begin("hwpt_alloc_reserved2_eopnotsupp");
	ret = hwpt_alloc_raw(ioas16, 0, 1, &hwpt_id, &mode);
	TEST_EXPECT(ret == -EOPNOTSUPP, "AUTO, __reserved2 1: expected EOPNOTSUPP, got %s",
		    errno_name(-ret));
	if (!ret) {
		tap_diag("AUTO, __reserved2 1: accepted, HWPT %u mode %u", hwpt_id, mode);
		test_ioctl_destroy(s.iommufd, hwpt_id);
	}
	ret = hwpt_alloc_raw(ioas16, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY, 1, &hwpt_id, &mode);
	TEST_EXPECT(ret == -EOPNOTSUPP,
		    "PIN_ONLY, __reserved2 1: expected EOPNOTSUPP, got %s", errno_name(-ret));
	if (!ret) {
		tap_diag("PIN_ONLY, __reserved2 1: accepted, HWPT %u mode %u", hwpt_id, mode);
		test_ioctl_destroy(s.iommufd, hwpt_id);
	}
	/* nothing left: no SHARED domain, no pins, nothing attached */
	TEST_EXPECT_EQ(stats(ioas16).shared_domains, 0);
	TEST_EXPECT_EQ(stats(ioas16).pinned_pages, 0);
	TEST_EXPECT_EQ(stats(ioas16).attached, 0);
	tap_end();

	tap_begin("good_hwpt_alloc_and_dma_after_refusal");
	ret = hwpt_alloc_raw(ioas16, 0, 0, &hwpt_id, &mode);
	TEST_ASSERT(!ret, "HWPT_ALLOC: %s", errno_name(-ret));
	TEST_EXPECT_EQ(mode, want_mode);
	edu_attach(&s.edu, hwpt_id);
	TEST_EXPECT_EQ(stats(ioas16).attached, 1);
	src = addr_gpa2hva(s.vm, SHARED_SRC_GPA);
	dst = addr_gpa2hva(s.vm, SHARED_DST_GPA);
	memset(dst, 0, SHARED_LEN);
	TEST_ASSERT(!edu_dma_to_dev(&s.edu, SHARED_SRC_GPA, 0, SHARED_LEN), "DMA GPA->edu");
	TEST_ASSERT(!edu_dma_from_dev(&s.edu, 0, SHARED_DST_GPA, SHARED_LEN), "DMA edu->GPA");
	TEST_EXPECT(check_bytes("DST", dst, src, SHARED_LEN), "edu's copy");
	TEST_EXPECT_EQ(shared_vm_guest_compare(&s), SHARED_EQUAL);
	TEST_EXPECT_EQ(_edu_detach(&s.edu), 0);
	test_ioctl_destroy(s.iommufd, hwpt_id);
	test_ioctl_destroy(s.iommufd, ioas16);
	tap_end();

	shared_vm_destroy(&s);
	tap_finish();
}
