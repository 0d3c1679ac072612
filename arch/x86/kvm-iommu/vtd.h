/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VT-d adapter of kvm-iommufd: second-stage PASID entries and IOTLB
 * invalidation for domains whose second-stage table is not owned by the
 * intel-iommu driver (KVM's TDP root in SHARED mode).
 *
 * Field layouts follow the VT-d specification (scalable-mode PASID table
 * entry, queued-invalidation descriptors); names carry a KVM_IOMMU_VTD_
 * prefix so they never collide with the driver's own macros.
 */
#ifndef __KVM_IOMMU_VTD_H
#define __KVM_IOMMU_VTD_H

/* Capability / extended capability fields this adapter depends on. */
#define KVM_IOMMU_VTD_CAP_SAGAW		GENMASK_ULL(12, 8)
#define KVM_IOMMU_VTD_CAP_MGAW		GENMASK_ULL(21, 16)
#define KVM_IOMMU_VTD_CAP_SLLPS		GENMASK_ULL(37, 34)
#define KVM_IOMMU_VTD_CAP_PSI		BIT_ULL(39)
#define KVM_IOMMU_VTD_CAP_MAMV		GENMASK_ULL(53, 48)
#define KVM_IOMMU_VTD_CAP_DWD		BIT_ULL(54)
#define KVM_IOMMU_VTD_CAP_DRD		BIT_ULL(55)
#define KVM_IOMMU_VTD_ECAP_SC		BIT_ULL(7)
#define KVM_IOMMU_VTD_ECAP_SMTS		BIT_ULL(43)
#define KVM_IOMMU_VTD_ECAP_SLADS	BIT_ULL(45)
#define KVM_IOMMU_VTD_ECAP_SLTS		BIT_ULL(46)
#define KVM_IOMMU_VTD_ECAP_SMPWC	BIT_ULL(48)

/* Second-stage entry bits the IOMMU interprets (see vtd_share.c). */
#define KVM_IOMMU_VTD_SS_R		BIT_ULL(0)
#define KVM_IOMMU_VTD_SS_W		BIT_ULL(1)
#define KVM_IOMMU_VTD_SS_PS		BIT_ULL(7)
#define KVM_IOMMU_VTD_SS_A		BIT_ULL(8)
#define KVM_IOMMU_VTD_SS_D		BIT_ULL(9)
#define KVM_IOMMU_VTD_SS_SNP		BIT_ULL(11)
#define KVM_IOMMU_VTD_SS_TM		BIT_ULL(62)

/* Scalable-mode PASID table entry, as eight 64-bit words. */
#define KVM_IOMMU_VTD_PE0_P		BIT_ULL(0)
#define KVM_IOMMU_VTD_PE0_FPD		BIT_ULL(1)
#define KVM_IOMMU_VTD_PE0_AW		GENMASK_ULL(4, 2)
#define KVM_IOMMU_VTD_PE0_PGTT		GENMASK_ULL(8, 6)
#define KVM_IOMMU_VTD_PE0_SSADE		BIT_ULL(9)
#define KVM_IOMMU_VTD_PE0_SSPTPTR	GENMASK_ULL(63, 12)
#define KVM_IOMMU_VTD_PE1_DID		GENMASK_ULL(15, 0)
#define KVM_IOMMU_VTD_PE1_PWSNP		BIT_ULL(23)
#define KVM_IOMMU_VTD_PE1_PGSNP		BIT_ULL(24)
#define KVM_IOMMU_VTD_PGTT_SS		2

/* IOTLB invalidate descriptor (type 2). */
#define KVM_IOMMU_VTD_QI_IOTLB		2
#define KVM_IOMMU_VTD_QI_GRAN		GENMASK_ULL(5, 4)
#define KVM_IOMMU_VTD_QI_DW		BIT_ULL(6)
#define KVM_IOMMU_VTD_QI_DR		BIT_ULL(7)
#define KVM_IOMMU_VTD_QI_DID		GENMASK_ULL(31, 16)
#define KVM_IOMMU_VTD_QI_GRAN_DSI	2
#define KVM_IOMMU_VTD_QI_GRAN_PSI	3
#define KVM_IOMMU_VTD_QI_AM		GENMASK_ULL(5, 0)
#define KVM_IOMMU_VTD_QI_IH		BIT_ULL(6)
#define KVM_IOMMU_VTD_QI_ADDR		GENMASK_ULL(63, 12)

/**
 * struct kvm_iommu_vtd_ss_cfg - a second-stage translation to install
 * @root: physical address of the top-level table (4 KiB aligned)
 * @levels: number of table levels, 3 to 5 (AW = @levels - 2)
 * @did: domain id the IOTLB tags translations with
 * @ssade: let the IOMMU set accessed/dirty bits in the entries
 * @pgsnp: force snooping of every access (page snoop)
 */
struct kvm_iommu_vtd_ss_cfg {
	u64 root;
	unsigned int levels;
	u16 did;
	bool ssade;
	bool pgsnp;
};

struct intel_iommu;

int kvm_iommu_vtd_ss_pasid_entry(u64 cap, u64 ecap,
				 const struct kvm_iommu_vtd_ss_cfg *cfg, u64 pe[8]);
unsigned int kvm_iommu_vtd_psi_order(u64 start, u64 end, u64 *base);
int kvm_iommu_vtd_flush_range(struct intel_iommu *iommu, u16 did, u64 start,
			      u64 end, bool leaf_only);
int kvm_iommu_vtd_flush_domain(struct intel_iommu *iommu, u16 did);

struct kvm_tdp_format;

struct kvm_iommu_share_info;

bool kvm_iommu_vtd_sets_dirty(const struct kvm_tdp_format *fmt, u64 ecap);
u32 kvm_iommu_vtd_share_check(const struct kvm_tdp_format *fmt, u64 cap,
			      u64 ecap, bool walk_coherent,
			      struct kvm_iommu_share_info *info);

#endif /* __KVM_IOMMU_VTD_H */
