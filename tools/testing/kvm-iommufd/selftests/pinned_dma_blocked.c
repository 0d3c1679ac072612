// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA to an IOVA that is not mapped in the IOAS never reaches memory.
 *
 * The edu buffer is loaded from a mapped IOVA; then edu->RAM transfers aim
 * at an IOVA that was mapped and unmapped, and at one never mapped: the
 * sentinel-filled buffers stay intact.  A RAM->edu transfer from an
 * unmapped IOVA must not pull the buffer's bytes into the device.  Control
 * transfers to a mapped IOVA, before and after, show the device works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "iommufd_utils.h"
#include "dma_buf.h"
#include "vfio_edu.h"

#define SRC_IOVA	0x100000ULL
#define DST_IOVA	0x200000ULL
#define GONE_IOVA	0x300000ULL	/* mapped, then unmapped */
#define NEVER_IOVA	0x5000000ULL	/* never mapped */
#define PAGE		4096UL
#define LEN		EDU_DMA_MAX
#define SENTINEL	0xa5
#define SECRET		0x3c

/* edu buffer -> dst (mapped): dst must then equal exp. */
static bool control_dma(struct edu_dev *edu, uint8_t *dst, const uint8_t *exp)
{
	int ret;

	memset(dst, 0, PAGE);
	ret = edu_dma_from_dev(edu, 0, DST_IOVA, LEN);
	if (!TEST_EXPECT(!ret, "control DMA: %s", errno_name(-ret)))
		return false;
	return TEST_EXPECT(check_bytes("dst", dst, exp, LEN), "dst != src");
}

int main(void)
{
	uint8_t *src, *dst, *gone, *secret;
	struct edu_dev edu;
	uint32_t ioas_id;
	unsigned int i;
	int fd, ret;

	tap_plan(5);

	tap_begin("setup_and_control_dma");
	fd = iommufd_open();
	test_ioctl_ioas_alloc(fd, &ioas_id);
	edu_setup(&edu, fd, ioas_id);
	TEST_ASSERT(edu_alive(&edu), "edu BAR0 does not respond");
	src = alloc_buf(PAGE, 0);
	dst = alloc_buf(PAGE, 0);
	gone = alloc_buf(PAGE, 0);
	for (i = 0; i < PAGE; i++)
		src[i] = (uint8_t)(i * 13 + 1);
	test_ioctl_ioas_map_fixed(fd, ioas_id, src, PAGE, SRC_IOVA);
	test_ioctl_ioas_map_fixed(fd, ioas_id, dst, PAGE, DST_IOVA);
	test_ioctl_ioas_map_fixed(fd, ioas_id, gone, PAGE, GONE_IOVA);
	ret = edu_dma_to_dev(&edu, SRC_IOVA, 0, LEN);
	TEST_ASSERT(!ret, "DMA RAM->edu: %s", errno_name(-ret));
	control_dma(&edu, dst, src);
	tap_end();

	tap_begin("write_to_unmapped_iova_blocked");
	/* Prove the IOVA worked while mapped, then take it away. */
	ret = edu_dma_from_dev(&edu, 0, GONE_IOVA, LEN);
	TEST_EXPECT(!ret, "DMA to mapped GONE_IOVA: %s", errno_name(-ret));
	TEST_EXPECT(check_bytes("gone (mapped)", gone, src, LEN),
		    "DMA to the still-mapped buffer failed");
	test_ioctl_ioas_unmap(fd, ioas_id, GONE_IOVA, PAGE);
	memset(gone, SENTINEL, PAGE);
	ret = edu_dma_from_dev(&edu, 0, GONE_IOVA, LEN);
	TEST_EXPECT(!ret, "DMA did not complete: %s", errno_name(-ret));
	TEST_EXPECT(check_fill("gone", gone, SENTINEL, PAGE),
		    "DMA to an unmapped IOVA reached memory");
	tap_end();

	tap_begin("write_to_never_mapped_iova_blocked");
	memset(dst, SENTINEL, PAGE);
	ret = edu_dma_from_dev(&edu, 0, NEVER_IOVA, LEN);
	TEST_EXPECT(!ret, "DMA did not complete: %s", errno_name(-ret));
	TEST_EXPECT(check_fill("gone", gone, SENTINEL, PAGE),
		    "unmapped buffer changed");
	TEST_EXPECT(check_fill("dst", dst, SENTINEL, PAGE),
		    "mapped buffer changed");
	tap_end();

	tap_begin("read_from_unmapped_iova_blocked");
	/*
	 * The bytes behind an IOVA that is gone must not reach the device:
	 * afterwards the edu buffer holds anything but them.
	 */
	secret = gone;
	memset(secret, SECRET, PAGE);
	ret = edu_dma_to_dev(&edu, GONE_IOVA, 0, LEN);
	TEST_EXPECT(!ret, "DMA did not complete: %s", errno_name(-ret));
	memset(dst, 0, PAGE);
	ret = edu_dma_from_dev(&edu, 0, DST_IOVA, LEN);
	TEST_EXPECT(!ret, "DMA edu->RAM: %s", errno_name(-ret));
	for (i = 0; i < LEN; i++) {
		/* Only the old contents (src) may hold SECRET bytes. */
		if (dst[i] == SECRET && src[i] != SECRET) {
			TEST_EXPECT(0, "edu byte 0x%x came from unmapped memory",
				    i);
			break;
		}
	}
	tap_end();

	tap_begin("device_still_works");
	ret = edu_dma_to_dev(&edu, SRC_IOVA, 0, LEN);
	TEST_EXPECT(!ret, "DMA RAM->edu: %s", errno_name(-ret));
	control_dma(&edu, dst, src);
	test_ioctl_ioas_unmap(fd, ioas_id, 0, UINT64_MAX);
	ret = _edu_detach(&edu);
	TEST_EXPECT(!ret, "detach: %s", errno_name(-ret));
	test_ioctl_destroy(fd, ioas_id);
	tap_end();

	edu_close(&edu);
	close(fd);
	tap_finish();
}
