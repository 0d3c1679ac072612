/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VT-d platform for tests: physical memory, one remapping unit driven
 * by the driver stand-in, a driver-style second-stage table, a DMA device
 * (SID 00:03.0, like edu in QEMU) and a block of "RAM" pages.
 */
#ifndef __KT_FIXTURE_H
#define __KT_FIXTURE_H

#include "../vtd_internal.h"
#include "../platform/dma.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"

#define KT_SID		0x0018	/* 00:03.0 */
#define KT_DID		7

struct kt_vtd {
	struct phys *pm;
	struct vtd *hw;
	struct intel_iommu *iommu;
	struct kt_ss_table ss;
	struct dma_dev dev;
	u64 ram;		/* HPA of the RAM block */
	u64 ram_size;
};

/* Build the platform; @ram_order: RAM block of 2^order pages (2M aligned). */
bool kt_vtd_setup(struct kt_vtd *f, u64 cap, u64 ecap, unsigned int levels,
		  unsigned int ram_order);
/* Point the device at the fixture's second-stage table. */
int kt_vtd_attach(struct kt_vtd *f);
/* Tear down; false (with a diagnostic) if physical pages leaked. */
bool kt_vtd_teardown(struct kt_vtd *f);

#endif /* __KT_FIXTURE_H */
