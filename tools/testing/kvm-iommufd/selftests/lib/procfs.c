// SPDX-License-Identifier: GPL-2.0-only
/* /proc, /sys and /dev/kmsg for the selftests: see procfs.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

#define PAGEMAP_PRESENT		(1ULL << 63)
#define PAGEMAP_PFN_MASK	((1ULL << 55) - 1)

bool write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok;
}

bool write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return write_file(path, buf);
}

bool read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

long read_long(const char *path)
{
	char buf[64];

	return read_file(path, buf, sizeof(buf)) ? strtol(buf, NULL, 0) : -1;
}

long vmstat(const char *name)
{
	char key[64];
	long val = -1, v;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			val = v;
			break;
		}
	}
	fclose(f);
	return val;
}

bool pagemap_pfns(const void *addr, unsigned long n, uint64_t *pfns)
{
	off_t off = (uintptr_t)addr / 4096 * sizeof(uint64_t);
	size_t len = n * sizeof(uint64_t);
	bool any = false;
	unsigned long i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return false;
	if (pread(fd, pfns, len, off) != (ssize_t)len) {
		close(fd);
		return false;
	}
	close(fd);
	for (i = 0; i < n; i++) {
		pfns[i] = pfns[i] & PAGEMAP_PRESENT ? pfns[i] & PAGEMAP_PFN_MASK : 0;
		any |= pfns[i] != 0;
	}
	return any;
}

long kpageflags_count(const uint64_t *pfns, unsigned long n, unsigned int bit)
{
	unsigned long i;
	uint64_t flags;
	long count = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return -1;
	for (i = 0; i < n && count >= 0; i++) {
		if (!pfns[i])
			continue;
		if (pread(fd, &flags, sizeof(flags), pfns[i] * sizeof(flags)) != sizeof(flags))
			count = -1;
		else
			count += (flags >> bit) & 1;
	}
	close(fd);
	return count;
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

unsigned int kmsg_dmar_faults(int fd, uint64_t gpa)
{
	char rec[2048], want[48];
	unsigned int n = 0;
	ssize_t len;

	if (fd < 0)
		return 0;
	snprintf(want, sizeof(want), "fault addr 0x%llx ", (unsigned long long)gpa);
	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)		/* overwritten: go on */
			continue;
		if (len <= 0)
			break;
		rec[len] = 0;
		if (!strstr(rec, "DMAR: [DMA "))
			continue;
		if (gpa == KMSG_ANY_ADDR ? strstr(rec, "fault addr 0x") != NULL :
					   strstr(rec, want) != NULL)
			n++;
	}
	return n;
}
