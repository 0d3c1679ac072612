/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: the bit operations the product uses beyond dup.h's. */
#ifndef __KT_LINUX_BITOPS_H
#define __KT_LINUX_BITOPS_H

#include "../../kvm_iommu_internal.h"

/* the last (most significant) bit set, counted from 1; 0 for 0 */
static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

#endif /* __KT_LINUX_BITOPS_H */
