// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-iommufd: iommufd selftest ops on a KVM-sourced IOAS.
 *
 * Built with CONFIG_IOMMUFD_TEST only; drivers/iommu/iommufd/selftest.c
 * dispatches IOMMU_TEST_OP_KVM_IOAS_ROOT and IOMMU_TEST_OP_KVM_IOAS_STATS
 * here and responds with its command.  Locking: the IOAS is held by its
 * object reference for the call; the core reads its counters locklessly.
 */
#include "kvm_iommu_internal.h"
#include "kvm_iommu_test.h"

static struct iommufd_ioas *kvm_test_get_ioas(struct iommufd_ctx *ictx,
					      u32 ioas_id)
{
	struct iommufd_ioas *ioas = iommufd_get_ioas(ictx, ioas_id);

	if (!IS_ERR(ioas) && !ioas->kvm) {
		iommufd_put_object(ictx, &ioas->obj);
		return ERR_PTR(-EINVAL);
	}
	return ioas;
}

/**
 * iommufd_test_kvm_ioas_root() - the KVM root of a KVM-sourced IOAS
 * @ictx: the iommufd context of the command
 * @ioas_id: the IOAS
 * @root: set to the physical address of the KVM root the IOAS's SHARED
 *	domains translate through (0 when there is none)
 *
 * Test-only, so a selftest can compare it with what the IOMMU was
 * programmed with: it reveals a host physical address.
 *
 * Return: 0; -ENOENT if @ioas_id names no IOAS, -EINVAL if the IOAS is not
 * sourced from a KVM VM.
 */
int iommufd_test_kvm_ioas_root(struct iommufd_ctx *ictx, u32 ioas_id,
			       u64 *root)
{
	struct iommufd_ioas *ioas = kvm_test_get_ioas(ictx, ioas_id);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*root = kvm_iommu_ioas_root(ioas->kvm);
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}

/**
 * iommufd_test_kvm_ioas_stats() - copy a KVM-sourced IOAS's counters out
 * @ictx: the iommufd context of the command
 * @ioas_id: the IOAS
 * @uptr: user address of a struct iommu_test_kvm_ioas_stats
 * @length: in: the bytes at @uptr; out: sizeof(struct
 *	iommu_test_kvm_ioas_stats) as this kernel has it
 *
 * Copies the counters of struct kvm_iommu_stats that selftests check: how
 * many flushes KVM reported and how many domain flushes they caused, so a
 * test can check that every KVM flush reached every SHARED domain once;
 * and the counters behind the kvm_iommu trace events (but for retried
 * memslots and dirty-log harvests), so a test can check that each event
 * fired once per count.  Only the first min(*@length, size) bytes are
 * written; a @length of 0 writes nothing and only reports the size.
 *
 * Return: 0; -ENOENT if @ioas_id names no IOAS, -EINVAL if the IOAS is not
 * sourced from a KVM VM, -EFAULT if @uptr cannot be written (*@length is
 * then unchanged).
 */
int iommufd_test_kvm_ioas_stats(struct iommufd_ctx *ictx, u32 ioas_id,
				u64 uptr, u32 *length)
{
	struct iommu_test_kvm_ioas_stats out = {};
	struct iommufd_ioas *ioas;
	struct kvm_iommu_stats st;
	size_t len;

	ioas = kvm_test_get_ioas(ictx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	kvm_iommu_get_stats(ioas->kvm, &st);
	iommufd_put_object(ictx, &ioas->obj);

	out.invalidations = st.invalidations;
	out.domain_flushes = st.domain_flushes;
	out.flush_errors = st.flush_errors;
	out.pinned_pages = st.pinned_pages;
	out.memslot_changes = st.memslot_changes;
	out.mirror_errors = st.mirror_errors;
	out.flushes = st.flushes;
	out.attaches = st.attaches;
	out.detaches = st.detaches;
	out.pin_calls = st.pin_calls;
	out.unpin_calls = st.unpin_calls;
	out.iopf_groups = st.iopf_groups;
	out.faultins = st.faultins;
	out.modes = st.modes;
	out.memslot_refused = st.memslot_refused;
	out.memslot_initial = st.memslot_initial;
	out.shared_domains = st.shared_domains;
	out.attached = st.attached;
	out.fault_domains = st.fault_domains;
	len = min_t(size_t, *length, sizeof(out));
	if (copy_to_user(u64_to_user_ptr(uptr), &out, len))
		return -EFAULT;
	*length = sizeof(out);
	return 0;
}
