// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_GET_HW_INFO on the edu device bound through its VFIO cdev must
 * report the VT-d unit QEMU emulates: type INTEL_VTD and the same cap/ecap
 * the guest's intel-iommu driver shows in sysfs.  QEMU runs with
 * x-scalable-mode=on, so ecap must advertise scalable mode (SMTS).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <libgen.h>

#include "iommufd_utils.h"
#include "vfio_edu.h"

#define VTD_ECAP_SMTS		(1ULL << 43)

static int read_hex_file(const char *path, uint64_t *val)
{
	char buf[64], *end;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*val = strtoull(buf, &end, 16);
	return (end == buf) ? -EINVAL : 0;
}

/* The sysfs directory of the DMAR unit the edu sits behind. */
static int edu_dmar_dir(char *dir, size_t len)
{
	char link[PATH_MAX];
	ssize_t n;

	n = readlink("/sys/bus/pci/devices/" EDU_BDF "/iommu", link,
		     sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(dir, len, "/sys/class/iommu/%s/intel-iommu",
		 basename(link));
	return 0;
}

int main(void)
{
	struct iommu_hw_info_vtd vtd;
	struct iommu_hw_info out;
	uint8_t big[sizeof(vtd) + 16];
	uint64_t cap, ecap;
	char dir[128], path[160];
	struct edu_dev edu;
	uint32_t ioas_id;
	unsigned int i;
	int fd, ret;

	tap_plan(5);

	tap_begin("sysfs_cap_ecap");
	ret = edu_dmar_dir(dir, sizeof(dir));
	TEST_ASSERT(!ret, "edu has no iommu link: %s", errno_name(-ret));
	snprintf(path, sizeof(path), "%s/cap", dir);
	ret = read_hex_file(path, &cap);
	TEST_ASSERT(!ret, "%s: %s", path, errno_name(-ret));
	snprintf(path, sizeof(path), "%s/ecap", dir);
	ret = read_hex_file(path, &ecap);
	TEST_ASSERT(!ret, "%s: %s", path, errno_name(-ret));
	tap_diag("%s: cap 0x%llx ecap 0x%llx", dir, (unsigned long long)cap,
		 (unsigned long long)ecap);
	tap_end();

	tap_begin("bind");
	fd = iommufd_open();
	edu_open(&edu);
	edu_bind(&edu, fd);
	tap_end();

	tap_begin("hw_info_vtd_matches_sysfs");
	memset(&vtd, 0xff, sizeof(vtd));
	test_ioctl_get_hw_info(fd, edu.dev_id, &vtd, sizeof(vtd), &out);
	TEST_EXPECT_EQ(out.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	TEST_EXPECT_EQ(out.data_len, sizeof(vtd));
	TEST_EXPECT_EQ(vtd.__reserved, 0);
	TEST_EXPECT_EQ(vtd.cap_reg, cap);
	TEST_EXPECT_EQ(vtd.ecap_reg, ecap);
	TEST_EXPECT(vtd.ecap_reg & VTD_ECAP_SMTS,
		    "ecap 0x%llx lacks SMTS (bit 43)",
		    (unsigned long long)vtd.ecap_reg);
	tap_diag("flags 0x%x capabilities 0x%llx", vtd.flags,
		 (unsigned long long)out.out_capabilities);
	tap_end();

	tap_begin("hw_info_lengths");
	/* A zero-length buffer still reports the type and the full length. */
	test_ioctl_get_hw_info(fd, edu.dev_id, NULL, 0, &out);
	TEST_EXPECT_EQ(out.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	TEST_EXPECT_EQ(out.data_len, sizeof(vtd));
	/* A larger buffer gets its tail zeroed. */
	memset(big, 0xa5, sizeof(big));
	test_ioctl_get_hw_info(fd, edu.dev_id, big, sizeof(big), &out);
	TEST_EXPECT_EQ(out.data_len, sizeof(vtd));
	for (i = sizeof(vtd); i < sizeof(big); i++)
		if (!TEST_EXPECT(!big[i], "tail byte %u is 0x%02x", i, big[i]))
			break;
	memcpy(&vtd, big, sizeof(vtd));
	TEST_EXPECT_EQ(vtd.ecap_reg, ecap);
	tap_end();

	tap_begin("hw_info_errors");
	test_err_ioctl_get_hw_info(EOPNOTSUPP, fd, edu.dev_id, &vtd,
				   sizeof(vtd), 1);
	test_err_ioctl_get_hw_info(ENOENT, fd, edu.dev_id + 100, &vtd,
				   sizeof(vtd), 0);
	test_ioctl_ioas_alloc(fd, &ioas_id);
	/* An IOAS id is not a device id. */
	test_err_ioctl_get_hw_info(ENOENT, fd, ioas_id, &vtd, sizeof(vtd), 0);
	test_ioctl_destroy(fd, ioas_id);
	tap_end();

	edu_close(&edu);
	close(fd);
	tap_finish();
}
