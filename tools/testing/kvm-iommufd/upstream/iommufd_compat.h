/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compile-only compatibility shim for tools/testing/selftests/iommu of
 * Debian's linux-source-6.12 (6.12.117).
 *
 * That tree's iommufd selftests come from a later kernel than its own uAPI
 * (include/uapi/linux/iommufd.h) and selftest header
 * (drivers/iommu/iommufd/iommufd_test.h): they use four names those headers
 * do not have, so they do not compile as shipped.  This header is
 * force-included (gcc -include) before the selftest sources and supplies
 * exactly those names, with the values the later kernel gives them.  It
 * adds no behaviour: a 6.12 kernel still rejects what it does not know
 * (IOMMU_GET_HW_INFO with a non-zero flags word, a mock device with the
 * PASID flag), and the tests built on those requests fail the same way on
 * the patched and on the unpatched kernel.  Nothing here is used by the
 * kernel or by the kvm-iommufd selftests.
 *
 * When the uAPI or iommufd_test.h grows one of these names, the build fails
 * (a duplicate member, or a macro expanded inside an enum): drop that name
 * from this file.
 */
#ifndef KVM_IOMMUFD_UPSTREAM_IOMMUFD_COMPAT_H
#define KVM_IOMMUFD_UPSTREAM_IOMMUFD_COMPAT_H

/*
 * struct iommu_hw_info: later kernels make the 6.12 output field
 * out_data_type a union with an input field in_data_type (the requested
 * type, honoured when IOMMU_HW_INFO_FLAG_INPUT_TYPE is set in flags).  Same
 * offset, same size: spell the input name as the 6.12 member.  The tests
 * only use in_data_type as a designated initialiser.
 */
#define in_data_type out_data_type

/* enum iommu_hw_info_type: "whatever the IOMMU reports", same value as NONE */
#define IOMMU_HW_INFO_TYPE_DEFAULT 0

/* enum iommufd_hw_info_flags: in_data_type is valid */
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE (1 << 0)

/* iommufd_test.h: mock device that supports PASIDs, and their width */
#define MOCK_FLAGS_DEVICE_PASID (1 << 2)
#define MOCK_PASID_WIDTH 20

#endif
