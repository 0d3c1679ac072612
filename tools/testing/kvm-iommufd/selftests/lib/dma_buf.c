// SPDX-License-Identifier: GPL-2.0-only
/* DMA buffers for the selftests: see dma_buf.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "dma_buf.h"
#include "tap.h"

void *alloc_buf(size_t len, uint8_t fill)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap %zu: %s", len, errno_name(errno));
	memset(p, fill, len);
	return p;
}

void fill_pattern(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static bool check(const char *what, const uint8_t *got, const uint8_t *exp,
		  uint8_t fill, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t want = exp ? exp[i] : fill;

		if (got[i] != want) {
			tap_diag("%s: byte 0x%zx is 0x%02x, expected 0x%02x",
				 what, i, got[i], want);
			return false;
		}
	}
	return true;
}

bool check_bytes(const char *what, const uint8_t *got, const uint8_t *exp,
		 size_t len)
{
	return check(what, got, exp, 0, len);
}

bool check_fill(const char *what, const uint8_t *got, uint8_t fill, size_t len)
{
	return check(what, got, NULL, fill, len);
}

void fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 0x9e3779b9u + 0x7f4a7c15u;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = x >> 24;
	}
}
