// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned DMA through iommufd: the edu device, bound through its VFIO cdev
 * and attached to an IOAS, copies RAM -> edu -> RAM between IOVAs mapped
 * with IOMMU_IOAS_MAP; the bytes must arrive.  Also checks the usual
 * IOAS_MAP/IOAS_UNMAP/DESTROY error paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/mman.h>

#include "iommufd_utils.h"
#include "dma_buf.h"
#include "vfio_edu.h"

#define SRC_IOVA	0x100000ULL
#define DST_IOVA	0x200000ULL
#define HOLE_IOVA	0x300000ULL
#define MULTI_IOVA	0x400000ULL
#define MULTI_PAGES	4
#define PAGE		4096UL

int main(void)
{
	uint8_t *src, *dst, *multi, *unused;
	struct edu_dev edu;
	uint64_t out_len;
	uint32_t ioas_id;
	int fd, ret;

	tap_plan(7);

	tap_begin("bind_attach");
	fd = iommufd_open();
	test_ioctl_ioas_alloc(fd, &ioas_id);
	edu_setup(&edu, fd, ioas_id);
	TEST_EXPECT(edu.pt_id != 0, "attach returned pt_id 0");
	TEST_ASSERT(edu_alive(&edu), "edu BAR0 does not respond");
	tap_end();

	tap_begin("ioas_map");
	src = alloc_buf(PAGE, 0);
	dst = alloc_buf(PAGE, 0);
	multi = alloc_buf(MULTI_PAGES * PAGE, 0xee);
	unused = alloc_buf(PAGE, 0);
	fill_pattern(src, PAGE, 0x11);
	test_ioctl_ioas_map_fixed(fd, ioas_id, src, PAGE, SRC_IOVA);
	test_ioctl_ioas_map_fixed(fd, ioas_id, dst, PAGE, DST_IOVA);
	test_ioctl_ioas_map_fixed(fd, ioas_id, multi, MULTI_PAGES * PAGE,
				  MULTI_IOVA);
	tap_end();

	tap_begin("dma_ram_edu_ram");
	ret = edu_dma_to_dev(&edu, SRC_IOVA, 0, EDU_DMA_MAX);
	TEST_ASSERT(!ret, "DMA RAM->edu: %s", errno_name(-ret));
	ret = edu_dma_from_dev(&edu, 0, DST_IOVA, EDU_DMA_MAX);
	TEST_ASSERT(!ret, "DMA edu->RAM: %s", errno_name(-ret));
	TEST_EXPECT(check_bytes("dst", dst, src, EDU_DMA_MAX), "dst != src");
	TEST_EXPECT_EQ(dst[EDU_DMA_MAX], 0);
	tap_end();

	tap_begin("dma_offsets");
	memset(dst, 0x77, PAGE);
	ret = edu_dma_to_dev(&edu, SRC_IOVA + 0x100, 0x800, 0x200);
	TEST_ASSERT(!ret, "DMA RAM->edu: %s", errno_name(-ret));
	ret = edu_dma_from_dev(&edu, 0x800, DST_IOVA + 0x10, 0x200);
	TEST_ASSERT(!ret, "DMA edu->RAM: %s", errno_name(-ret));
	TEST_EXPECT(check_fill("dst head", dst, 0x77, 0x10), "head touched");
	TEST_EXPECT(check_bytes("dst", dst + 0x10, src + 0x100, 0x200),
		    "dst != src");
	TEST_EXPECT(check_fill("dst tail", dst + 0x210, 0x77, PAGE - 0x210),
		    "tail touched");
	tap_end();

	tap_begin("dma_across_pages");
	/* The edu buffer 0..0x7ff still holds src 0..0x7ff. */
	ret = edu_dma_from_dev(&edu, 0, MULTI_IOVA + 2 * PAGE + 0xc00, 0x800);
	TEST_ASSERT(!ret, "DMA edu->RAM: %s", errno_name(-ret));
	TEST_EXPECT(check_fill("multi head", multi, 0xee, 2 * PAGE + 0xc00),
		    "head touched");
	TEST_EXPECT(check_bytes("multi", multi + 2 * PAGE + 0xc00, src, 0x800),
		    "multi != src");
	TEST_EXPECT(check_fill("multi tail", multi + 3 * PAGE + 0x400, 0xee,
			       PAGE - 0x400), "tail touched");
	tap_end();

	tap_begin("map_unmap_errors");
	test_err_ioctl_ioas_map_fixed(EEXIST, fd, ioas_id, unused, PAGE,
				      SRC_IOVA);
	test_err_ioctl_ioas_map_fixed(EEXIST, fd, ioas_id, unused, PAGE,
				      MULTI_IOVA + PAGE);
	test_err_ioctl_ioas_map_fixed(EINVAL, fd, ioas_id, unused, PAGE,
				      HOLE_IOVA + 0x800);
	test_err_ioctl_ioas_map_fixed(EINVAL, fd, ioas_id, unused, 0,
				      HOLE_IOVA);
	test_err_ioctl_ioas_unmap(ENOENT, fd, ioas_id, HOLE_IOVA, PAGE);
	/* Part of an area cannot be unmapped. */
	test_err_ioctl_ioas_unmap(ENOENT, fd, ioas_id, MULTI_IOVA + PAGE, PAGE);
	/* The attached device holds the IOAS. */
	test_err_ioctl_destroy(EBUSY, fd, ioas_id);
	/* Edu helpers refuse what would crash QEMU's edu. */
	TEST_EXPECT_EQ(edu_dma_to_dev(&edu, SRC_IOVA, 0, EDU_BUF_SIZE),
		       -EINVAL);
	TEST_EXPECT_EQ(edu_dma_from_dev(&edu, 0, EDU_IOVA_LIMIT, 16), -EINVAL);
	tap_end();

	tap_begin("unmap_detach_destroy");
	ret = _test_ioctl_ioas_unmap(fd, ioas_id, SRC_IOVA, PAGE, &out_len);
	TEST_EXPECT(!ret, "unmap src: %s", errno_name(-ret));
	TEST_EXPECT_EQ(out_len, PAGE);
	test_err_ioctl_ioas_unmap(ENOENT, fd, ioas_id, SRC_IOVA, PAGE);
	ret = _test_ioctl_ioas_unmap(fd, ioas_id, 0, UINT64_MAX, &out_len);
	TEST_EXPECT(!ret, "unmap all: %s", errno_name(-ret));
	TEST_EXPECT_EQ(out_len, (1 + MULTI_PAGES) * PAGE);
	ret = _edu_detach(&edu);
	TEST_EXPECT(!ret, "detach: %s", errno_name(-ret));
	test_ioctl_destroy(fd, ioas_id);
	tap_end();

	edu_close(&edu);
	close(fd);
	tap_finish();
}
