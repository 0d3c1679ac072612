/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The QEMU edu device (1234:11e8) driven through a VFIO device cdev bound to
 * iommufd.
 *
 * edu facts that matter here (QEMU 7.2):
 * - BAR0 registers: 0x00 identification, 0x04 liveness (reads back ~value),
 *   0x80 DMA source, 0x88 DMA destination, 0x90 count, 0x98 command
 *   (bit 0 start/busy, bit 1 direction: 1 = edu buffer -> RAM, bit 2 irq).
 * - Its DMA buffer is at device address 0x40000, 4 KiB.  A transfer that
 *   ends exactly at the end of the buffer (or outside it) is a fatal QEMU
 *   error, so at most 4095 bytes are usable; the helpers refuse anything
 *   else with -EINVAL before touching the device.
 * - Its DMA mask is 28 bits: IOVAs must stay below 256 MiB.
 * - A transfer completes about 100 ms (virtual clock) after it starts.
 */
#ifndef KVM_IOMMUFD_VFIO_EDU_H
#define KVM_IOMMUFD_VFIO_EDU_H

#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

#include "tap.h"

#define EDU_BDF			"0000:00:03.0"
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8

#define EDU_REG_ID		0x00
#define EDU_ID_VALUE		0x010000ed
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_IRQ		0x4

#define EDU_BUF_ADDR		0x40000ULL
#define EDU_BUF_SIZE		0x1000U
#define EDU_DMA_MAX		(EDU_BUF_SIZE - 1)
#define EDU_IOVA_LIMIT		(1ULL << 28)

#define EDU_DMA_TIMEOUT_MS	5000

struct edu_dev {
	int fd;			/* VFIO device cdev */
	uint32_t dev_id;	/* iommufd device id after bind */
	uint32_t pt_id;		/* attached IOAS/HWPT id, 0 if none */
	volatile uint8_t *bar0;
	size_t bar0_size;
	uint64_t cfg_offset;	/* config space region offset in fd */
	char path[64];
};

/* Finds /dev/vfio/devices/vfioN for a PCI device; 0 or -errno. */
int edu_find_cdev(const char *bdf, char *path, size_t len);

int _edu_open(struct edu_dev *edu);
void edu_open(struct edu_dev *edu);
void edu_close(struct edu_dev *edu);

int _edu_bind(struct edu_dev *edu, int iommufd);
void edu_bind(struct edu_dev *edu, int iommufd);
int _edu_attach(struct edu_dev *edu, uint32_t pt_id);
void edu_attach(struct edu_dev *edu, uint32_t pt_id);
int _edu_detach(struct edu_dev *edu);

/* mmaps BAR0 and enables memory decoding and bus mastering. */
void edu_map_bar0(struct edu_dev *edu);

/* edu_open() + edu_bind() + edu_attach() + edu_map_bar0(). */
void edu_setup(struct edu_dev *edu, int iommufd, uint32_t pt_id);

/* Identification register and liveness check (write x, read ~x). */
bool edu_alive(struct edu_dev *edu);

uint32_t edu_read32(struct edu_dev *edu, unsigned int reg);
uint64_t edu_read64(struct edu_dev *edu, unsigned int reg);
void edu_write32(struct edu_dev *edu, unsigned int reg, uint32_t val);
void edu_write64(struct edu_dev *edu, unsigned int reg, uint64_t val);

/*
 * DMA between an IOVA and the edu buffer (dev_off is an offset into it).
 * Returns 0 when the device reports completion, -EINVAL for arguments that
 * would crash QEMU's edu, -ETIMEDOUT if it never completes.  Completion
 * says nothing about whether the IOMMU let the access through.
 */
int edu_dma_to_dev(struct edu_dev *edu, uint64_t iova, uint32_t dev_off,
		   uint32_t len);
int edu_dma_from_dev(struct edu_dev *edu, uint32_t dev_off, uint64_t iova,
		     uint32_t len);

#endif /* KVM_IOMMUFD_VFIO_EDU_H */
