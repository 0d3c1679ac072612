// SPDX-License-Identifier: GPL-2.0-only
/*
 * The QEMU edu device driven through a VFIO device cdev bound to iommufd.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vfio_edu.h"

#define PCI_COMMAND_OFF		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

int edu_find_cdev(const char *bdf, char *path, size_t len)
{
	char dir[128];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(path, len, "/dev/vfio/devices/%s", de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

int _edu_open(struct edu_dev *edu)
{
	int ret;

	memset(edu, 0, sizeof(*edu));
	edu->fd = -1;
	ret = edu_find_cdev(EDU_BDF, edu->path, sizeof(edu->path));
	if (ret)
		return ret;
	edu->fd = open(edu->path, O_RDWR | O_CLOEXEC);
	return edu->fd < 0 ? -errno : 0;
}

void edu_open(struct edu_dev *edu)
{
	int ret = _edu_open(edu);

	if (ret)
		TEST_FAIL("edu %s vfio cdev %s: %s (bound to vfio-pci?)",
			  EDU_BDF, edu->path[0] ? edu->path : "not found",
			  errno_name(-ret));
}

void edu_close(struct edu_dev *edu)
{
	if (edu->bar0)
		munmap((void *)edu->bar0, edu->bar0_size);
	if (edu->fd >= 0)
		close(edu->fd);
	edu->bar0 = NULL;
	edu->fd = -1;
}

int _edu_bind(struct edu_dev *edu, int iommufd)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};

	if (ioctl(edu->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	edu->dev_id = bind.out_devid;
	return 0;
}

void edu_bind(struct edu_dev *edu, int iommufd)
{
	int ret = _edu_bind(edu, iommufd);

	if (ret)
		TEST_FAIL("VFIO_DEVICE_BIND_IOMMUFD failed: %s",
			  errno_name(-ret));
}

int _edu_attach(struct edu_dev *edu, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};

	if (ioctl(edu->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -errno;
	edu->pt_id = attach.pt_id;
	return 0;
}

void edu_attach(struct edu_dev *edu, uint32_t pt_id)
{
	int ret = _edu_attach(edu, pt_id);

	if (ret)
		TEST_FAIL("VFIO_DEVICE_ATTACH_IOMMUFD_PT(%u) failed: %s",
			  pt_id, errno_name(-ret));
}

int _edu_detach(struct edu_dev *edu)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	if (ioctl(edu->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach))
		return -errno;
	edu->pt_id = 0;
	return 0;
}

static void edu_region_info(struct edu_dev *edu, uint32_t index,
			    struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(edu->fd, VFIO_DEVICE_GET_REGION_INFO, info))
		TEST_FAIL("VFIO_DEVICE_GET_REGION_INFO(%u) failed: %s", index,
			  errno_name(errno));
}

void edu_map_bar0(struct edu_dev *edu)
{
	struct vfio_region_info info;
	uint16_t cmd;
	void *p;

	edu_region_info(edu, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	edu->cfg_offset = info.offset;
	TEST_ASSERT(pread(edu->fd, &cmd, 2, info.offset + PCI_COMMAND_OFF) == 2,
		    "read PCI_COMMAND: %s", errno_name(errno));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	TEST_ASSERT(pwrite(edu->fd, &cmd, 2, info.offset + PCI_COMMAND_OFF) == 2,
		    "write PCI_COMMAND: %s", errno_name(errno));

	edu_region_info(edu, VFIO_PCI_BAR0_REGION_INDEX, &info);
	TEST_ASSERT(info.flags & VFIO_REGION_INFO_FLAG_MMAP,
		    "BAR0 cannot be mmapped (flags 0x%x)", info.flags);
	TEST_ASSERT(info.size >= 0x100, "BAR0 size 0x%llx",
		    (unsigned long long)info.size);
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 edu->fd, info.offset);
	TEST_ASSERT(p != MAP_FAILED, "mmap BAR0: %s", errno_name(errno));
	edu->bar0 = p;
	edu->bar0_size = info.size;
}

void edu_setup(struct edu_dev *edu, int iommufd, uint32_t pt_id)
{
	edu_open(edu);
	edu_bind(edu, iommufd);
	edu_attach(edu, pt_id);
	edu_map_bar0(edu);
}

bool edu_alive(struct edu_dev *edu)
{
	uint32_t id = edu_read32(edu, EDU_REG_ID);
	uint32_t probe = 0x5aa5c33c;

	if (id != EDU_ID_VALUE) {
		tap_diag("edu id register 0x%08x", id);
		return false;
	}
	edu_write32(edu, EDU_REG_LIVENESS, probe);
	return edu_read32(edu, EDU_REG_LIVENESS) == ~probe;
}

uint32_t edu_read32(struct edu_dev *edu, unsigned int reg)
{
	return *(volatile uint32_t *)(edu->bar0 + reg);
}

uint64_t edu_read64(struct edu_dev *edu, unsigned int reg)
{
	return *(volatile uint64_t *)(edu->bar0 + reg);
}

void edu_write32(struct edu_dev *edu, unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)(edu->bar0 + reg) = val;
}

void edu_write64(struct edu_dev *edu, unsigned int reg, uint64_t val)
{
	*(volatile uint64_t *)(edu->bar0 + reg) = val;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int edu_wait_idle(struct edu_dev *edu)
{
	const struct timespec tick = { .tv_nsec = 1000000 };
	uint64_t deadline = now_ms() + EDU_DMA_TIMEOUT_MS;

	while (edu_read32(edu, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	__sync_synchronize();
	return 0;
}

static bool edu_dma_args_ok(uint64_t iova, uint32_t dev_off, uint32_t len)
{
	if (!len || dev_off >= EDU_DMA_MAX || len > EDU_DMA_MAX - dev_off)
		return false;
	return iova < EDU_IOVA_LIMIT && len <= EDU_IOVA_LIMIT - iova;
}

static int edu_dma(struct edu_dev *edu, uint64_t src, uint64_t dst,
		   uint32_t len, uint32_t dir)
{
	int ret;

	ret = edu_wait_idle(edu);
	if (ret)
		return ret;
	__sync_synchronize();
	edu_write64(edu, EDU_REG_DMA_SRC, src);
	edu_write64(edu, EDU_REG_DMA_DST, dst);
	edu_write64(edu, EDU_REG_DMA_COUNT, len);
	edu_write64(edu, EDU_REG_DMA_CMD, EDU_DMA_START | dir);
	return edu_wait_idle(edu);
}

int edu_dma_to_dev(struct edu_dev *edu, uint64_t iova, uint32_t dev_off,
		   uint32_t len)
{
	if (!edu_dma_args_ok(iova, dev_off, len))
		return -EINVAL;
	return edu_dma(edu, iova, EDU_BUF_ADDR + dev_off, len, 0);
}

int edu_dma_from_dev(struct edu_dev *edu, uint32_t dev_off, uint64_t iova,
		     uint32_t len)
{
	if (!edu_dma_args_ok(iova, dev_off, len))
		return -EINVAL;
	return edu_dma(edu, EDU_BUF_ADDR + dev_off, iova, len, EDU_DMA_TO_RAM);
}
