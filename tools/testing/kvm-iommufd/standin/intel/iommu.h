/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build stand-in for drivers/iommu/intel/iommu.h: what the VT-d
 * driver of Linux 6.12 offers the product's KVM-TDP domain
 * (arch/x86/kvm-iommu/intel_kvm_tdp.c), which includes it as "iommu.h"
 * from a directory on its include path only (the Makefile's counterpart
 * of CFLAGS_intel_kvm_tdp.o).  Written for this project from the
 * driver's interfaces and the VT-d specification: the structures carry
 * the fields the domain uses, with the driver's names and meaning; the
 * functions are implemented in standin/intel_driver.c over the VT-d model
 * (platform/vtd.h) and the stand-in unit (standin/intel_iommu.h).
 *
 * Not modelled: legacy (non-scalable) mode, copied kdump tables, nested
 * and first-stage domains, and device TLBs (the emulated devices cache no
 * translation, so the stand-in never enables ATS and a domain has IOTLB
 * cache tags only).
 */
#ifndef __KT_STANDIN_INTEL_DRIVER_IOMMU_H
#define __KT_STANDIN_INTEL_DRIVER_IOMMU_H

#include "../intel_iommu.h"

#define VTD_PAGE_SHIFT		12
#define VTD_PAGE_SIZE		(1UL << VTD_PAGE_SHIFT)
#define VTD_PAGE_MASK		(((u64)-1) << VTD_PAGE_SHIFT)
#define VTD_STRIDE_SHIFT	9
#define VTD_STRIDE_MASK		(((u64)-1) << VTD_STRIDE_SHIFT)

/* Capability and extended capability fields (VT-d spec 11.4.2, 11.4.3). */
#define cap_caching_mode(c)	(((c) >> 7) & 1)
#define cap_pgsel_inv(c)	(((c) >> 39) & 1)
#define cap_max_amask_val(c)	(((c) >> 48) & 0x3f)
#define cap_write_drain(c)	(((c) >> 54) & 1)
#define cap_read_drain(c)	(((c) >> 55) & 1)
#define cap_ndoms(c)		(1UL << (4 + 2 * ((c) & 7)))
#define ecap_coherent(e)	((e) & 1)
#define ecap_sc_support(e)	(((e) >> 7) & 1)
#define ecap_smts(e)		(((e) >> 43) & 1)
#define ecap_smpwc(e)		(((e) >> 48) & 1)

/* The stand-in runs every unit that supports it in scalable mode. */
#define sm_supported(iommu)	ecap_smts((iommu)->ecap)

/* Invalidation descriptors (VT-d spec 6.5.2). */
#define QI_IOTLB_TYPE		0x2
#define QI_PC_TYPE		0x7
#define QI_IOTLB_DID(did)	((u64)(did) << 16)
#define QI_IOTLB_DR(dr)		((u64)(dr) << 7)
#define QI_IOTLB_DW(dw)		((u64)(dw) << 6)
#define QI_IOTLB_GRAN(gran)	((u64)(gran) << 4)
#define QI_IOTLB_ADDR(addr)	((u64)(addr) & VTD_PAGE_MASK)
#define QI_IOTLB_IH(ih)		((u64)(ih) << 6)
#define QI_IOTLB_AM(am)		((u64)(am) & 0x3f)
#define DMA_TLB_DSI_FLUSH	2
#define DMA_TLB_PSI_FLUSH	3
#define QI_PC_DID(did)		((u64)(did) << 16)
#define QI_PC_PASID(pasid)	((u64)(pasid) << 32)
#define QI_PC_GRAN(gran)	((u64)(gran) << 4)
#define QI_PC_PASID_SEL		1	/* PASID-selective within a domain */
#define QI_EIOTLB_TYPE		0x6
#define QI_EIOTLB_DID(did)	((u64)(did) << 16)
#define QI_EIOTLB_PASID(pasid)	((u64)(pasid) << 32)
#define QI_EIOTLB_GRAN(gran)	((u64)(gran) << 4)
#define QI_GRAN_NONG_PASID	2

/* A second-stage table entry. */
struct dma_pte {
	u64 val;
};

static inline bool dma_pte_present(struct dma_pte *pte)
{
	return (pte->val & 3) != 0;
}

static inline bool dma_pte_superpage(struct dma_pte *pte)
{
	return (pte->val >> 7) & 1;
}

static inline unsigned int pfn_level_offset(u64 pfn, int level)
{
	return (pfn >> ((level - 1) * VTD_STRIDE_SHIFT)) & 511;
}

/* Pages of 4 KiB that an entry of @level maps. */
static inline u64 level_size(int level)
{
	return 1ULL << ((level - 1) * VTD_STRIDE_SHIFT);
}

static inline int agaw_to_width(int agaw)
{
	return min_t(int, 30 + agaw * VTD_STRIDE_SHIFT, 64);
}

/*
 * <linux/xarray.h>, as far as a domain's table of units needs it: a few
 * slots, read without a lock (domain_id_iommu()), written under the
 * unit's lock (standin/intel_driver.c).
 */
#define KT_XA_SLOTS		8

struct xarray {
	unsigned long index[KT_XA_SLOTS];
	void *entry[KT_XA_SLOTS];
};

static inline void xa_init(struct xarray *xa)
{
	memset(xa, 0, sizeof(*xa));
}

static inline void *xa_load(struct xarray *xa, unsigned long index)
{
	unsigned int i;

	for (i = 0; i < KT_XA_SLOTS; i++) {
		void *entry = __atomic_load_n(&xa->entry[i], __ATOMIC_ACQUIRE);

		if (entry && __atomic_load_n(&xa->index[i], __ATOMIC_RELAXED) == index)
			return entry;
	}
	return NULL;
}

struct qi_batch;

/* A unit a domain is attached to, and the domain's id there. */
struct iommu_domain_info {
	struct intel_iommu *iommu;
	unsigned int refcnt;	/* devices of the domain behind the unit */
	u16 did;
};

struct dmar_domain {
	int nid;
	struct xarray iommu_array;	/* struct iommu_domain_info by seq_id */
	spinlock_t lock;		/* protects @devices, @dev_pasids */
	struct list_head devices;	/* struct device_domain_info.link */
	struct list_head dev_pasids;
	spinlock_t cache_lock;		/* protects @cache_tags */
	struct list_head cache_tags;
	struct qi_batch *qi_batch;	/* the stand-in batches on the stack */
	struct dma_pte *pgd;
	int gaw;
	int agaw;
	struct iommu_domain domain;
};

static inline struct dmar_domain *to_dmar_domain(struct iommu_domain *dom)
{
	return container_of(dom, struct dmar_domain, domain);
}

/* The driver's per-device data: dev_iommu_priv_get(). */
struct device_domain_info {
	struct list_head link;		/* in the domain's @devices */
	u8 bus;
	u8 devfn;
	u8 ats_supported:1;
	u8 ats_enabled:1;
	u8 domain_attached:1;
	struct device *dev;
	struct intel_iommu *iommu;
	struct dmar_domain *domain;
	/* stand-in: the unit's list of probed devices */
	struct list_head kt_node;
};

static inline u16 domain_id_iommu(struct dmar_domain *domain,
				  struct intel_iommu *iommu)
{
	struct iommu_domain_info *info = xa_load(&domain->iommu_array,
						 iommu->seq_id);

	return info->did;
}

/* No unit of the host build inherits tables from a previous kernel. */
static inline bool context_copied(struct intel_iommu *iommu, u8 bus, u8 devfn)
{
	return false;
}

/* The DMA remapping hardware units (DRHD) of the machine. */
extern struct list_head dmar_drhd_units;

#define for_each_active_iommu(i, drhd)					\
	list_for_each_entry(drhd, &dmar_drhd_units, list)		\
		if (drhd->ignored) {} else				\
			for (i = drhd->iommu; i; i = NULL)

enum cache_tag_type {
	CACHE_TAG_IOTLB,
	CACHE_TAG_DEVTLB,
};

/* A cache a domain's translations may sit in: a unit's IOTLB here. */
struct cache_tag {
	struct list_head node;		/* in the domain's @cache_tags */
	enum cache_tag_type type;
	struct intel_iommu *iommu;
	struct device *dev;
	u16 domain_id;
	u32 pasid;
	unsigned int users;
};

extern const struct iommu_ops intel_iommu_ops;

bool iommu_paging_structure_coherency(struct intel_iommu *iommu);
void iommu_enable_pci_caps(struct device_domain_info *info);
int domain_attach_iommu(struct dmar_domain *domain, struct intel_iommu *iommu);
void domain_detach_iommu(struct dmar_domain *domain, struct intel_iommu *iommu);
void device_block_translation(struct device *dev);

int cache_tag_assign_domain(struct dmar_domain *domain, struct device *dev,
			    u32 pasid);
void cache_tag_unassign_domain(struct dmar_domain *domain, struct device *dev,
			       u32 pasid);
void cache_tag_flush_range(struct dmar_domain *domain, unsigned long start,
			   unsigned long end, int ih);
void cache_tag_flush_all(struct dmar_domain *domain);

void qi_flush_iotlb(struct intel_iommu *iommu, u16 did, u64 addr,
		    unsigned int size_order, u64 type);
void qi_flush_piotlb(struct intel_iommu *iommu, u16 did, u32 pasid, u64 addr,
		     unsigned long npages, bool ih);

/* The series' hooks into the driver (patch 0011): the product's domain. */
struct kvm_tdp_export;
struct kvm_tdp_format;
struct kvm_iommu_share_info;
struct iommu_domain *intel_kvm_tdp_domain_alloc(struct device *dev,
						const struct kvm_tdp_export *exp,
						u32 *reasons);
void intel_kvm_tdp_share_info(struct device *dev,
			      const struct kvm_tdp_format *fmt,
			      struct kvm_iommu_share_info *info);

#endif /* __KT_STANDIN_INTEL_DRIVER_IOMMU_H */
