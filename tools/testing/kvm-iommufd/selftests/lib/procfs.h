/* SPDX-License-Identifier: GPL-2.0-only */
/* /proc, /sys and /dev/kmsg for the selftests. */
#ifndef KVM_IOMMUFD_PROCFS_H
#define KVM_IOMMUFD_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write @val to @path (truncating); false if it cannot be written. */
bool write_file(const char *path, const char *val);
/* Write the number @val to @path. */
bool write_long(const char *path, long val);
/* The first line of @path, without its newline; false if unreadable. */
bool read_file(const char *path, char *buf, size_t len);
/* The number at the start of @path; -1 if it cannot be read. */
long read_long(const char *path);
/* A counter of /proc/vmstat; -1 if there is none of that name. */
long vmstat(const char *name);
/*
 * PFNs of the @n pages from @addr in this process (/proc/self/pagemap),
 * 0 where a page is not present; false if pagemap cannot be read or shows
 * no PFNs (no CAP_SYS_ADMIN).
 */
bool pagemap_pfns(const void *addr, unsigned long n, uint64_t *pfns);

/*
 * How many of the @n pages at @pfns (0: none) have kpageflags bit @bit
 * (/proc/kpageflags; KPF_THP: in a transparent huge page); -1 if unreadable.
 */
#define KPF_THP		22
long kpageflags_count(const uint64_t *pfns, unsigned long n, unsigned int bit);

/*
 * DMAR fault reports in the kernel log.  kmsg_open() returns a /dev/kmsg fd
 * positioned at the end of the log (-1 if there is none);
 * kmsg_dmar_faults() reads the records that came since and counts the
 * intel-iommu fault reports ("DMAR: [DMA Write ...] Request device [..]
 * fault addr 0x...") for the page at @gpa, or for any address if @gpa is
 * KMSG_ANY_ADDR.
 */
#define KMSG_ANY_ADDR	(~0ULL)
int kmsg_open(void);
unsigned int kmsg_dmar_faults(int fd, uint64_t gpa);

#endif /* KVM_IOMMUFD_PROCFS_H */
