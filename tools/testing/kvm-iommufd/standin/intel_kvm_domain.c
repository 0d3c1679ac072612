// SPDX-License-Identifier: GPL-2.0
/* Stand-in intel-iommu KVM-TDP domain: see intel_kvm_domain.h. */
#include "intel_kvm_domain.h"
#include <linux/kvm_iommufd.h>
#include <uapi/linux/iommufd_kvm.h>
#include "intel_paging_domain.h"
#include "../../../../arch/x86/kvm-iommu/vtd.h"
#include <linux/kvm_tdp_export.h>

#define CAP_CM		BIT_ULL(7)

static u16 kt_next_did = 100;
/* the test knob (intel_kvm_domain.h); both atomic */
static int kt_breakage = KT_KD_CORRECT;
static u64 kt_broken_calls;

/**
 * kt_kvm_domain_break() - make every KVM-TDP domain's flush misbehave
 * @how: what to get wrong; KT_KD_CORRECT puts it right again
 *
 * Also restarts the count of kt_kvm_domain_broken_calls().
 */
void kt_kvm_domain_break(enum kt_kd_breakage how)
{
	__atomic_store_n(&kt_broken_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&kt_breakage, how, __ATOMIC_SEQ_CST);
}

/**
 * kt_kvm_domain_broken_calls() - flushes the knob broke
 *
 * Return: kvm_tdp_flush calls skipped or weakened since the knob was set.
 */
u64 kt_kvm_domain_broken_calls(void)
{
	return __atomic_load_n(&kt_broken_calls, __ATOMIC_SEQ_CST);
}

static struct kt_kvm_domain *to_kd(struct iommu_domain *d)
{
	return container_of(d, struct kt_kvm_domain, domain);
}

static int program(struct kt_kvm_domain *kd, struct device *dev, u64 root)
{
	struct kvm_iommu_vtd_ss_cfg cfg = {
		.root = root, .levels = kd->levels, .did = kd->did,
		.ssade = kd->ssade,
	};
	u64 pe[8];
	int ret;

	ret = kvm_iommu_vtd_ss_pasid_entry(kd->iommu->cap, kd->iommu->ecap, &cfg, pe);
	return ret ? ret : kt_intel_set_pasid_entry(kd->iommu, dev->sid, pe);
}

static int kd_attach(struct iommu_domain *domain, struct device *dev)
{
	struct kt_kvm_domain *kd = to_kd(domain);
	int ret;

	if (dev->iommu != kd->iommu || kd->ndevs == KT_KVM_DOMAIN_MAX_DEVS)
		return -EINVAL;
	ret = program(kd, dev, kd->root);
	if (ret)
		return ret;
	kd->devs[kd->ndevs++] = dev;
	return 0;
}

int kt_kvm_domain_detach(struct iommu_domain *domain, struct device *dev)
{
	struct kt_kvm_domain *kd = to_kd(domain);
	unsigned int i;

	for (i = 0; i < kd->ndevs; i++) {
		if (kd->devs[i] == dev) {
			kd->devs[i] = kd->devs[--kd->ndevs];
			return kt_intel_clear_pasid_entry(kd->iommu, dev->sid, kd->did);
		}
	}
	return -ENOENT;
}

static int kd_flush(struct iommu_domain *domain, u64 start, u64 end, bool tables)
{
	struct kt_kvm_domain *kd = to_kd(domain);
	int how = __atomic_load_n(&kt_breakage, __ATOMIC_SEQ_CST);

	kd->flushes++;
	if ((how == KT_KD_SKIP_TABLE_FLUSH && tables) ||
	    (how == KT_KD_SKIP_LEAF_FLUSH && !tables)) {
		__atomic_add_fetch(&kt_broken_calls, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	if (how == KT_KD_TABLE_FLUSH_AS_LEAF && tables) {
		__atomic_add_fetch(&kt_broken_calls, 1, __ATOMIC_SEQ_CST);
		tables = false;
	}
	if (start == 0 && end == ~0ULL)
		return kvm_iommu_vtd_flush_domain(kd->iommu, kd->did);
	return kvm_iommu_vtd_flush_range(kd->iommu, kd->did, start, end, !tables);
}

static int kd_set_root(struct iommu_domain *domain, u64 root)
{
	struct kt_kvm_domain *kd = to_kd(domain);
	unsigned int i;
	int ret = 0;

	kd->root = root;
	for (i = 0; i < kd->ndevs && !ret; i++)
		ret = program(kd, kd->devs[i], root);
	return ret ? ret : kvm_iommu_vtd_flush_domain(kd->iommu, kd->did);
}

static void kd_free(struct iommu_domain *domain)
{
	struct kt_kvm_domain *kd = to_kd(domain);

	WARN_ON(kd->ndevs);
	kfree(kd);
}

static const struct iommu_domain_ops kt_kvm_domain_ops = {
	.attach_dev = kd_attach,
	.kvm_tdp_flush = kd_flush,
	.kvm_tdp_set_root = kd_set_root,
	.free = kd_free,
};

/* As the driver's op: the unit's check, walk coherency as the driver rules. */
static void kt_kvm_tdp_share_info(struct device *dev, const struct kvm_tdp_format *fmt,
				  struct kvm_iommu_share_info *info)
{
	struct intel_iommu *iommu = dev->iommu;
	/* scalable-mode walk coherency, or caching mode: an emulated unit */
	bool coherent = (iommu->ecap & KVM_IOMMU_VTD_ECAP_SMPWC) || (iommu->cap & CAP_CM);

	kvm_iommu_vtd_share_check(fmt, iommu->cap, iommu->ecap, coherent, info);
	if (dev->kt_no_share)
		info->reasons |= IOMMU_KVM_SHARE_DEVICE;
}

static struct iommu_domain *kt_alloc_kvm_tdp(struct device *dev,
					     const struct kvm_tdp_export *exp,
					     u32 *reasons)
{
	struct intel_iommu *iommu = dev->iommu;
	struct kvm_iommu_share_info info;
	struct kt_kvm_domain *kd;

	kt_kvm_tdp_share_info(dev, &exp->fmt, &info);
	*reasons = info.reasons;
	if (*reasons)
		return ERR_PTR(-EOPNOTSUPP);
	kd = kzalloc(sizeof(*kd), GFP_KERNEL);
	if (!kd)
		return ERR_PTR(-ENOMEM);
	kd->domain.type = IOMMU_DOMAIN_KVM_TDP;
	kd->domain.ops = &kt_kvm_domain_ops;
	kd->iommu = iommu;
	kd->root = exp->root;
	kd->levels = exp->fmt.root_level;
	kd->ssade = kvm_iommu_vtd_sets_dirty(&exp->fmt, iommu->ecap);
	kd->did = __atomic_fetch_add(&kt_next_did, 1, __ATOMIC_RELAXED);
	return &kd->domain;
}

const struct iommu_ops kt_intel_iommu_ops = {
	.domain_alloc_paging = kt_intel_domain_alloc_paging,	/* intel_paging_domain.c */
	.page_response = kt_intel_page_response,		/* intel_iommu.c */
	.domain_alloc_kvm_tdp = kt_alloc_kvm_tdp,
	.kvm_tdp_share_info = kt_kvm_tdp_share_info,
};

void kt_intel_probe_device(struct device *dev, struct intel_iommu *iommu, u16 sid)
{
	dev->iommu_ops = &kt_intel_iommu_ops;
	dev->iommu = iommu;
	dev->sid = sid;
	WARN_ON(kt_intel_prq_register_dev(iommu, dev));
}

u64 kt_intel_ss_pointer(struct intel_iommu *iommu, u16 sid)
{
	u64 *root = phys_va(iommu->pm, iommu->root_table), *ce, *pde, *pe;

	if (!(root[(sid >> 8) * 2 + ((sid & 0xff) >= 128)] & 1))
		return 0;
	ce = phys_va(iommu->pm, (root[(sid >> 8) * 2 + ((sid & 0xff) >= 128)] & PAGE_MASK) +
			 (sid & 0x7f) * 32);
	if (!(ce[0] & 1))
		return 0;
	pde = phys_va(iommu->pm, ce[0] & PAGE_MASK);
	pe = phys_va(iommu->pm, pde[0] & PAGE_MASK);
	return (pe[0] & 1) ? pe[0] & PAGE_MASK : 0;
}
