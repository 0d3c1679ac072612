/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommufd ioctl helpers for the kvm-iommufd selftests.
 *
 * Each command has three forms:
 *   _test_ioctl_x(fd, ...)                  0 or -errno, outputs filled in
 *   test_ioctl_x(fd, ...)                   fatal TEST_ASSERT on failure
 *   test_err_ioctl_x(errno, fd, ...)        non-fatal: expects that errno
 */
#ifndef KVM_IOMMUFD_IOMMUFD_UTILS_H
#define KVM_IOMMUFD_IOMMUFD_UTILS_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_kvm.h>

#include "tap.h"

#define IOMMUFD_DEV	"/dev/iommu"

#define MAP_RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static inline int __iommufd_ret(int ret)
{
	return ret ? -errno : 0;
}

#define __test_ioctl_assert(expr, name)					\
do {									\
	int __r = (expr);						\
	if (__r)							\
		TEST_FAIL("%s failed: %s", name, errno_name(-__r));	\
} while (0)

#define __test_ioctl_expect_err(_errno, expr, name)			\
({									\
	int __r = (expr), __e = (_errno);				\
	TEST_EXPECT(__r == -__e, "%s: expected %s, got %s", name,	\
		    errno_name(__e), errno_name(-__r));			\
})

static inline int iommufd_open(void)
{
	int fd = open(IOMMUFD_DEV, O_RDWR | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open %s: %s", IOMMUFD_DEV, errno_name(errno));
	return fd;
}

/* IOMMU_DESTROY */
static inline int _test_ioctl_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = {
		.size = sizeof(cmd),
		.id = id,
	};

	return __iommufd_ret(ioctl(fd, IOMMU_DESTROY, &cmd));
}
#define test_ioctl_destroy(fd, id)					\
	__test_ioctl_assert(_test_ioctl_destroy(fd, id), "IOMMU_DESTROY")
#define test_err_ioctl_destroy(_errno, fd, id)				\
	__test_ioctl_expect_err(_errno, _test_ioctl_destroy(fd, id),	\
				"IOMMU_DESTROY")

/* IOMMU_IOAS_ALLOC */
static inline int _test_ioctl_ioas_alloc(int fd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
	};
	int ret;

	ret = __iommufd_ret(ioctl(fd, IOMMU_IOAS_ALLOC, &cmd));
	if (!ret)
		*ioas_id = cmd.out_ioas_id;
	return ret;
}
#define test_ioctl_ioas_alloc(fd, ioas_id)				\
do {									\
	__test_ioctl_assert(_test_ioctl_ioas_alloc(fd, ioas_id),	\
			    "IOMMU_IOAS_ALLOC");			\
	TEST_ASSERT(*(ioas_id) != 0, "IOMMU_IOAS_ALLOC returned id 0");	\
} while (0)

/* IOMMU_IOAS_MAP; *iova is the input for FIXED_IOVA, and the output. */
static inline int _test_ioctl_ioas_map(int fd, uint32_t ioas_id, void *buf,
				       uint64_t length, uint64_t *iova,
				       uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = length,
		.iova = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? *iova : 0,
	};
	int ret;

	ret = __iommufd_ret(ioctl(fd, IOMMU_IOAS_MAP, &cmd));
	if (!ret)
		*iova = cmd.iova;
	return ret;
}

static inline int _test_ioctl_ioas_map_fixed(int fd, uint32_t ioas_id,
					     void *buf, uint64_t length,
					     uint64_t iova)
{
	return _test_ioctl_ioas_map(fd, ioas_id, buf, length, &iova,
				    MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}
#define test_ioctl_ioas_map(fd, ioas_id, buf, length, iova_p)		\
	__test_ioctl_assert(_test_ioctl_ioas_map(fd, ioas_id, buf,	\
						 length, iova_p,	\
						 MAP_RW),		\
			    "IOMMU_IOAS_MAP")
#define test_err_ioctl_ioas_map(_errno, fd, ioas_id, buf, length, iova_p) \
	__test_ioctl_expect_err(_errno,					\
				_test_ioctl_ioas_map(fd, ioas_id, buf,	\
						     length, iova_p,	\
						     MAP_RW),		\
				"IOMMU_IOAS_MAP")
#define test_ioctl_ioas_map_fixed(fd, ioas_id, buf, length, iova)	\
	__test_ioctl_assert(_test_ioctl_ioas_map_fixed(fd, ioas_id, buf, \
						       length, iova),	\
			    "IOMMU_IOAS_MAP(FIXED_IOVA)")
#define test_err_ioctl_ioas_map_fixed(_errno, fd, ioas_id, buf, length, iova) \
	__test_ioctl_expect_err(_errno,					\
				_test_ioctl_ioas_map_fixed(fd, ioas_id,	\
							   buf, length,	\
							   iova),	\
				"IOMMU_IOAS_MAP(FIXED_IOVA)")

/* IOMMU_IOAS_UNMAP; out_len (optional) gets the length unmapped. */
static inline int _test_ioctl_ioas_unmap(int fd, uint32_t ioas_id,
					 uint64_t iova, uint64_t length,
					 uint64_t *out_len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int ret;

	ret = __iommufd_ret(ioctl(fd, IOMMU_IOAS_UNMAP, &cmd));
	if (!ret && out_len)
		*out_len = cmd.length;
	return ret;
}
#define test_ioctl_ioas_unmap(fd, ioas_id, iova, length)		\
	__test_ioctl_assert(_test_ioctl_ioas_unmap(fd, ioas_id, iova,	\
						   length, NULL),	\
			    "IOMMU_IOAS_UNMAP")
#define test_err_ioctl_ioas_unmap(_errno, fd, ioas_id, iova, length)	\
	__test_ioctl_expect_err(_errno,					\
				_test_ioctl_ioas_unmap(fd, ioas_id, iova, \
						       length, NULL),	\
				"IOMMU_IOAS_UNMAP")

/*
 * IOMMU_GET_HW_INFO: data/data_len is the caller's buffer; out (optional)
 * gets the whole command back (out_data_type, data_len, capabilities).
 */
static inline int _test_ioctl_get_hw_info(int fd, uint32_t dev_id,
					  void *data, uint32_t data_len,
					  uint32_t flags,
					  struct iommu_hw_info *out)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int ret;

	ret = __iommufd_ret(ioctl(fd, IOMMU_GET_HW_INFO, &cmd));
	if (!ret && out)
		*out = cmd;
	return ret;
}
#define test_ioctl_get_hw_info(fd, dev_id, data, data_len, out)	\
	__test_ioctl_assert(_test_ioctl_get_hw_info(fd, dev_id, data,	\
						    data_len, 0, out),	\
			    "IOMMU_GET_HW_INFO")
#define test_err_ioctl_get_hw_info(_errno, fd, dev_id, data, data_len, flags) \
	__test_ioctl_expect_err(_errno,					\
				_test_ioctl_get_hw_info(fd, dev_id, data, \
							data_len, flags, \
							NULL),		\
				"IOMMU_GET_HW_INFO")

/* IOMMU_IOAS_ALLOC sourced from a KVM VM (IOMMU_IOAS_ALLOC_FLAG_KVM_FD) */
static inline int _test_ioctl_ioas_alloc_kvm(int fd, int vm_fd, uint32_t flags,
					     uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.kvm_fd = vm_fd,
	};
	int ret;

	ret = __iommufd_ret(ioctl(fd, IOMMU_IOAS_ALLOC, &cmd));
	if (!ret)
		*ioas_id = cmd.out_ioas_id;
	return ret;
}
#define test_ioctl_ioas_alloc_kvm(fd, vm_fd, ioas_id)			\
	__test_ioctl_assert(_test_ioctl_ioas_alloc_kvm(fd, vm_fd,	\
			IOMMU_IOAS_ALLOC_FLAG_KVM_FD, ioas_id),		\
			"IOMMU_IOAS_ALLOC(KVM_FD)")
#define test_err_ioctl_ioas_alloc_kvm(_errno, fd, vm_fd, flags, ioas_id) \
	__test_ioctl_expect_err(_errno,					\
			_test_ioctl_ioas_alloc_kvm(fd, vm_fd, flags, ioas_id), \
			"IOMMU_IOAS_ALLOC(KVM_FD)")

/*
 * IOMMU_HWPT_ALLOC on a KVM-sourced IOAS with policy @flags (0: AUTO,
 * IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED, IOMMU_HWPT_ALLOC_KVM_PIN_ONLY):
 * mode and reasons come back, also on failure.
 */
static inline int _test_ioctl_hwpt_alloc_kvm_flags(int fd, uint32_t dev_id,
						   uint32_t pt_id, uint32_t flags,
						   uint32_t *hwpt_id,
						   uint32_t *mode,
						   uint32_t *reasons)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.out_kvm_mode = ~0u,
		.out_kvm_reasons = ~0u,
	};
	int ret;

	ret = __iommufd_ret(ioctl(fd, IOMMU_HWPT_ALLOC, &cmd));
	if (!ret && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	if (mode)
		*mode = cmd.out_kvm_mode;
	if (reasons)
		*reasons = cmd.out_kvm_reasons;
	return ret;
}
static inline int _test_ioctl_hwpt_alloc_kvm(int fd, uint32_t dev_id,
					     uint32_t pt_id, uint32_t *hwpt_id,
					     uint32_t *mode, uint32_t *reasons)
{
	return _test_ioctl_hwpt_alloc_kvm_flags(fd, dev_id, pt_id, 0, hwpt_id,
						mode, reasons);
}
#define test_ioctl_hwpt_alloc_kvm(fd, dev_id, pt_id, hwpt_id, mode, reasons) \
	__test_ioctl_assert(_test_ioctl_hwpt_alloc_kvm(fd, dev_id, pt_id, \
			hwpt_id, mode, reasons), "IOMMU_HWPT_ALLOC(KVM IOAS)")

/* IOMMU_KVM_SHARE_QUERY for (device, KVM-sourced IOAS). */
static inline int _test_ioctl_kvm_share_query(int fd, uint32_t dev_id,
					      uint32_t ioas_id,
					      struct iommu_kvm_share_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->dev_id = dev_id;
	q->ioas_id = ioas_id;
	return __iommufd_ret(ioctl(fd, IOMMU_KVM_SHARE_QUERY, q));
}

/* IOMMU_OPTION_RLIMIT_MODE: 1 charges pins to the mm too (VmPin). */
static inline int _test_ioctl_set_rlimit_mode(int fd, uint64_t mode)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = mode,
	};

	return __iommufd_ret(ioctl(fd, IOMMU_OPTION, &cmd));
}

#endif /* KVM_IOMMUFD_IOMMUFD_UTILS_H */
