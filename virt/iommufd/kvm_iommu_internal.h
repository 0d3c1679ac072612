/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers required by the kvm-iommufd core and its architecture adapters.
 *
 * Every product .c file includes this header (directly or through its
 * architecture's internal header) instead of kernel headers, so that the
 * host build in tools/testing/kvm-iommufd can substitute all of them at once
 * with a header that uses the same include guard.
 */
#ifndef __KVM_IOMMU_INTERNAL_H
#define __KVM_IOMMU_INTERNAL_H

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/kvm_host.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

/* dev_iommu_ops(): the core is part of iommufd, which uses the same header */
#include "../../drivers/iommu/iommu-priv.h"
/* The io_pagetable behind PINNED domains: iommufd's own pinned path */
#include "../../drivers/iommu/iommufd/iommufd_private.h"

#endif /* __KVM_IOMMU_INTERNAL_H */
