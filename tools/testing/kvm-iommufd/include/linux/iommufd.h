/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build: Debian 12's linux-libc-dev (6.1) has no <linux/iommufd.h>.
 * include/uapi/linux/iommufd_kvm.h needs only the ioctl type from it.
 */
#ifndef _KT_LINUX_IOMMUFD_H
#define _KT_LINUX_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOMMUFD_TYPE (';')

#endif
