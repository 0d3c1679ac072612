// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd demo on the host build's emulated platform.
 *
 * A VMM-side view of device DMA through an emulated VT-d unit: the
 * product's VT-d adapter encodes the PASID entry that points the device at
 * a second-stage table, a DMA device copies guest bytes through it, a
 * mapping is removed, the IOMMU keeps using its stale IOTLB entry until the
 * adapter's invalidation batch completes, and then the DMA is blocked.
 * Each step is checked; the demo exits non-zero if any check fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../vtd_internal.h"
#include "../platform/dma.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"

#define SID	0x0018		/* 00:03.0, where QEMU puts edu */
#define DID	1
#define RAM_MB	16

static int failures;

#define CHECK(cond, fmt, ...)						\
	do {								\
		bool __ok = (cond);					\
		printf("  [%s] " fmt "\n", __ok ? " ok " : "FAIL", ##__VA_ARGS__); \
		failures += !__ok;					\
	} while (0)

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(void)
{
	struct phys *pm = phys_create(1ULL << 30);
	struct vtd *hw = vtd_create(pm, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM);
	struct intel_iommu *iommu = kt_intel_iommu_create(pm, hw, 0);
	struct kvm_iommu_vtd_ss_cfg cfg = { .levels = 4, .did = DID };
	struct kt_ss_table ss;
	struct vtdm_stats st;
	struct vtdm_fault flt;
	struct dma_dev dev;
	u64 ram, pe[8], hpa;
	u8 *g, msg[64];
	double t0;
	int ret, i;

	rcu_register_thread();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("kvm-iommufd demo: device DMA through an emulated VT-d unit\n");
	printf("platform: VT-d cap %#llx ecap %#llx (QEMU 7.2, scalable mode, aw-bits=48)\n",
	       (unsigned long long)hw->cap, (unsigned long long)hw->ecap);

	ram = phys_alloc(pm, 12);	/* 16 MiB of guest RAM at a 2 MiB boundary */
	g = phys_va(pm, ram);
	if (!iommu || !ram || kt_ss_table_init(&ss, pm, 4))
		return 1;

	printf("\n1. map %d MiB of guest RAM at IOVA 0 with 2 MiB pages, attach device 00:03.0\n",
	       RAM_MB);
	t0 = now_us();
	ret = kt_ss_map(&ss, 0, ram, RAM_MB << 20, 21, 3);
	cfg.root = ss.root;
	if (!ret)
		ret = kvm_iommu_vtd_ss_pasid_entry(iommu->cap, iommu->ecap, &cfg, pe);
	if (!ret)
		ret = kt_intel_set_pasid_entry(iommu, SID, pe);
	CHECK(ret == 0, "PASID entry: P=%llu PGTT=%llu AW=%llu (4 levels) DID=%llu, "
	      "table root %#llx (%.0f us)", pe[0] & 1, (pe[0] >> 6) & 7, (pe[0] >> 2) & 7,
	      pe[1] & 0xffff, (unsigned long long)ss.root, now_us() - t0);
	printf("  IO page table: %ld table page(s) = %ld bytes for %d MiB\n",
	       ss.table_pages, ss.table_pages * 4096, RAM_MB);

	printf("\n2. the guest writes a message; the device copies it from GPA 0x1000 to 0x200000\n");
	snprintf((char *)msg, sizeof(msg), "hello from the guest, via VT-d");
	memcpy(g + 0x1000, msg, sizeof(msg));
	memset(g + 0x200000, 0, 4096);
	dma_dev_init(&dev, hw, SID);
	ret = dma_copy(&dev, 0x1000, 0x200000, sizeof(msg));
	CHECK(ret == 0 && !memcmp(g + 0x200000, msg, sizeof(msg)),
	      "DMA copied %zu bytes: \"%s\"", sizeof(msg), (char *)g + 0x200000);
	st = vtd_stats(hw);
	printf("  IOMMU: %llu translations, %llu walks (%llu entries read), %llu IOTLB hits\n",
	       (unsigned long long)st.translations, (unsigned long long)st.walks,
	       (unsigned long long)st.walk_reads, (unsigned long long)st.iotlb_hits);
	ret = vtd_translate(hw, SID, VTDM_NO_PASID, 0x200000, true, &hpa, NULL);
	CHECK(ret == 0 && hpa == ram + 0x200000, "GPA 0x200000 -> HPA %#llx", (unsigned long long)hpa);

	printf("\n3. the mapping of GPA 0x200000-0x3fffff is removed from the table\n");
	kt_ss_unmap(&ss, 0x200000, SZ_2M);
	memset(g + 0x200000, 0, 4096);
	ret = dma_copy(&dev, 0x1000, 0x200000, sizeof(msg));
	CHECK(ret == 0 && !memcmp(g + 0x200000, msg, sizeof(msg)),
	      "without invalidation the IOMMU still uses its cached translation (stale DMA landed)");
	memset(g + 0x200000, 0, 4096);

	printf("\n4. the VT-d adapter invalidates the range: one descriptor batch, one wait\n");
	ret = kvm_iommu_vtd_flush_range(iommu, DID, 0x200000, 0x400000, false);
	st = vtd_stats(hw);
	CHECK(ret == 0, "page-selective invalidations %llu, waits %llu, IOTLB entries dropped %llu",
	      (unsigned long long)st.inv_iotlb_psi, (unsigned long long)st.qi_waits,
	      (unsigned long long)st.iotlb_dropped);
	ret = dma_copy(&dev, 0x1000, 0x200000, sizeof(msg));
	for (i = 0; i < 4096 && !g[0x200000 + i]; i++)
		;
	CHECK(ret == -EFAULT && i == 4096, "DMA to GPA 0x200000 is now blocked; memory unchanged");
	if (vtd_fault_pop(hw, &flt))
		printf("  IOMMU fault record: %s, sid %02x:%02x.%x, addr %#llx, %s, level %d\n",
		       vtd_fault_name(flt.reason), flt.sid >> 8, (flt.sid >> 3) & 0x1f,
		       flt.sid & 7, (unsigned long long)flt.addr,
		       flt.write ? "write" : "read", flt.level);

	kt_ss_table_free(&ss);
	kt_intel_iommu_destroy(iommu);
	phys_free(pm, ram, 12);
	CHECK(phys_allocated(pm) == 0, "teardown: no physical page left allocated");
	vtd_destroy(hw);
	phys_destroy(pm);
	rcu_unregister_thread();
	printf("\ndemo %s: %d check(s) failed\n", failures ? "FAILED" : "passed", failures);
	return failures ? 1 : 0;
}
