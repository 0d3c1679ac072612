// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd demo: a VMM sets up device DMA for a guest, on the host
 * build's emulated platform (KVM TDP MMU model, VT-d model, DMA device),
 * running the product's core and VT-d adapter.
 *
 *   1. create a VM whose guest writes its memory;
 *   2. allocate a KVM-sourced IOAS and attach the device: SHARED, the
 *      IOMMU walks KVM's own table (attach time, IO page-table bytes,
 *      pages pinned);
 *   3. the device copies guest bytes from one GPA to another;
 *   4. the VMM discards a guest page: KVM's flush reaches the IOMMU and a
 *      DMA to that page no longer lands;
 *   5. a VM on stock Linux 6.12 (KVM's MMU-present bit 11) is refused,
 *      with the reasons named.
 * Every step is checked; the demo exits non-zero if a check fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../vtd_internal.h"
#include "../platform/dma.h"
#include "../platform/kvm_mmu.h"
#include "../standin/intel_kvm_domain.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"
#include <linux/kvm_iommufd.h>
#include <uapi/linux/iommufd_kvm.h>

#define SID	0x0018		/* 00:03.0, where QEMU puts edu */
#define RAM	(64ULL << 20)

extern struct mm_struct kt_mm;

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

static const char *reason_names(u32 r, char *buf, size_t len)
{
	static const char *const names[] = {
		"no translation mode", "permission format", "table levels",
		"address width", "page sizes", "reserved bits",
		"non-present entries", "MMIO caching", "walk coherency",
		"access tracking",
	};
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(r & (1u << i)))
			continue;
		if (buf[0])
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, names[i], len - strlen(buf) - 1);
	}
	return buf;
}

static struct kspte_cfg npt(unsigned int present_bit)
{
	struct kspte_cfg c = {
		.present_bit = present_bit, .phys_bits = 40, .nx_huge_pages = true,
		.root_level = 4, .max_leaf_level = 3,
	};
	return c;
}

int main(void)
{
	struct phys *pm = phys_create(1ULL << 31);
	struct vtd *hw = vtd_create(pm, VTDM_QEMU_CAP_AW48, VTDM_QEMU_ECAP_SM);
	struct intel_iommu *iommu = kt_intel_iommu_create(pm, hw, 0);
	struct kspte_cfg cfg = npt(59);
	struct kvm_iommu_ioas *kio;
	struct iommu_domain *domain;
	struct kvm_iommu_stats st;
	struct vtdm_stats vs;
	struct device dev = { .name = "edu" };
	struct dma_dev dma;
	struct kvm *kvm;
	bool destroyed;
	u8 msg[64], got[64], sentinel[64];
	u64 gpa, old_hpa;
	u32 reasons;
	long kvm_tables, phys_before, backed;
	double t0, t_attach;
	char why[256];
	int ret;

	rcu_register_thread();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("kvm-iommufd demo: device DMA through KVM's own page table\n");
	printf("platform: VT-d (QEMU 7.2 scalable mode, aw-bits=48, cap %#llx ecap %#llx),\n"
	       "          KVM TDP MMU with NPT tables, device 00:03.0\n",
	       (unsigned long long)hw->cap, (unsigned long long)hw->ecap);

	printf("\n1. the VMM creates a VM with %llu MiB of RAM; the guest writes a message\n",
	       RAM >> 20);
	kvm = kvm_model_create(pm, &cfg, &destroyed);
	ret = kvm ? kvm_model_set_slot(kvm, 0, 0, RAM, false) : -ENOMEM;
	snprintf((char *)msg, sizeof(msg), "hello from the guest, through KVM's NPT");
	if (!ret)
		ret = kvm_model_guest_write(kvm, 0x1000, msg, sizeof(msg));
	memset(got, 0, sizeof(got));
	for (gpa = 0x200000; !ret && gpa < 0x200000 + (4 << 20); gpa += PAGE_SIZE)
		ret = kvm_model_guest_write(kvm, gpa, got, 8);	/* the guest's buffers */
	CHECK(ret == 0, "VM fd %d, memslot 0 at GPA 0-%#llx; the guest touched %d pages; "
	      "KVM's NPT table: %ld pages", kvm ? kvm->fd : -1, RAM - 1,
	      1 + (4 << 20) / 4096, kvm ? kvm->table_pages : 0);
	if (ret)
		return 1;

	printf("\n2. IOMMU_IOAS_ALLOC(KVM fd) and attach the device: the mode is chosen per device\n");
	kt_intel_probe_device(&dev, iommu, SID);
	kvm_tables = kvm->table_pages;
	backed = kvm_model_backed(kvm);
	phys_before = phys_allocated(pm);
	t0 = now_us();
	kio = kvm_iommu_ioas_alloc(kvm->fd);
	domain = IS_ERR(kio) ? ERR_CAST(kio) : kvm_iommu_domain_alloc(kio, &dev, &reasons);
	ret = IS_ERR(domain) ? PTR_ERR(domain) : domain->ops->attach_dev(domain, &dev);
	t_attach = now_us() - t0;
	CHECK(ret == 0 && reasons == 0, "mode SHARED, attach took %.1f ms (most of it pinning and "
	      "faulting in the guest pages)", t_attach / 1000);
	if (ret)
		return 1;
	CHECK(kt_intel_ss_pointer(iommu, SID) == kvm->root,
	      "VT-d second-stage pointer %#llx == KVM's root %#llx",
	      (unsigned long long)kt_intel_ss_pointer(iommu, SID),
	      (unsigned long long)kvm->root);
	CHECK(phys_allocated(pm) - phys_before == 3 + (kvm_model_backed(kvm) - backed) +
	      (kvm->table_pages - kvm_tables),
	      "IO page-table bytes built: 0 (the IOMMU walks KVM's %ld table pages; "
	      "the attach added 3 pages of VT-d PASID structures)", kvm->table_pages);
	kvm_iommu_get_stats(kio, &st);
	CHECK(st.pinned_pages == RAM >> PAGE_SHIFT && kt_mm.locked_vm == (long)st.pinned_pages,
	      "pages pinned: %llu (%llu MiB, charged to RLIMIT_MEMLOCK): the device cannot "
	      "fault, so every guest page was pinned and faulted in writable",
	      (unsigned long long)st.pinned_pages, (unsigned long long)st.pinned_pages >> 8);

	printf("\n3. the device copies the message from GPA 0x1000 to GPA 0x200000\n");
	dma_dev_init(&dma, hw, SID);
	ret = dma_copy(&dma, 0x1000, 0x200000, sizeof(msg));
	kvm_model_guest_read(kvm, 0x200000, got, sizeof(got));
	CHECK(ret == 0 && !memcmp(got, msg, sizeof(msg)), "the guest reads at 0x200000: \"%s\"",
	      (char *)got);
	vs = vtd_stats(hw);
	printf("  IOMMU: %llu translations, %llu table walks, %llu IOTLB hits\n",
	       (unsigned long long)vs.translations, (unsigned long long)vs.walks,
	       (unsigned long long)vs.iotlb_hits);

	printf("\n4. the VMM discards the guest page at 0x200000 (MADV_DONTNEED)\n");
	kvm_model_discard(kvm, 0x200000, PAGE_SIZE);
	old_hpa = kvm_model_discarded(kvm, 0x200000);
	memcpy(sentinel, phys_va(pm, old_hpa), sizeof(sentinel));
	ret = dma_copy(&dma, 0x1000, 0x200000, sizeof(msg));
	kvm_iommu_get_stats(kio, &st);
	vs = vtd_stats(hw);
	CHECK(ret == -EFAULT && !memcmp(sentinel, phys_va(pm, old_hpa), sizeof(sentinel)),
	      "DMA to 0x200000 is blocked; the discarded page is untouched");
	printf("  KVM flushes seen by the IOAS: %llu; IOTLB invalidations: %llu page-selective, "
	       "%llu domain; waits: %llu\n", (unsigned long long)st.invalidations,
	       (unsigned long long)vs.inv_iotlb_psi, (unsigned long long)vs.inv_iotlb_dsi,
	       (unsigned long long)vs.qi_waits);

	kt_kvm_domain_detach(domain, &dev);
	kvm_iommu_domain_free(kio, domain);
	domain->ops->free(domain);
	kvm_iommu_ioas_free(kio);
	kvm_model_close(kvm);
	CHECK(destroyed && kt_mm.locked_vm == 0,
	      "device detached, IOAS destroyed (pins released), VM fd closed: the VM is gone");

	printf("\n5. the same on stock Linux 6.12, where KVM marks present entries with bit 11\n");
	cfg = npt(11);
	cfg.mmio_caching = true;
	kvm = kvm_model_create(pm, &cfg, &destroyed);
	kvm_model_set_slot(kvm, 0, 0, RAM, false);
	kio = kvm_iommu_ioas_alloc(kvm->fd);
	domain = kvm_iommu_domain_alloc(kio, &dev, &reasons);
	CHECK(PTR_ERR(domain) == -EOPNOTSUPP && reasons ==
	      (IOMMU_KVM_SHARE_RSVD_BITS | IOMMU_KVM_SHARE_MMIO_CACHING),
	      "refused (EOPNOTSUPP), reasons %#x: %s", reasons,
	      reason_names(reasons, why, sizeof(why)));
	kvm_iommu_ioas_free(kio);
	kvm_model_close(kvm);

	kt_intel_iommu_destroy(iommu);
	CHECK(phys_allocated(pm) == 0, "teardown: no page of the platform left allocated");
	vtd_destroy(hw);
	phys_destroy(pm);
	rcu_unregister_thread();
	printf("\ndemo %s: %d check(s) failed\n", failures ? "FAILED" : "passed", failures);
	return failures ? 1 : 0;
}
