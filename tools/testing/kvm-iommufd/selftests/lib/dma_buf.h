/* SPDX-License-Identifier: GPL-2.0-only */
/* DMA buffers for the selftests: allocation, patterns, byte checks. */
#ifndef KVM_IOMMUFD_DMA_BUF_H
#define KVM_IOMMUFD_DMA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Anonymous, page-aligned, filled with @fill; asserts on failure. */
void *alloc_buf(size_t len, uint8_t fill);
void fill_pattern(uint8_t *p, size_t len, uint8_t seed);
/* Bytes that differ from page to page and from seed to seed. */
void fill_random(uint8_t *p, size_t len, uint32_t seed);
/* Report the first mismatch as a TAP diagnostic; true if all match. */
bool check_bytes(const char *what, const uint8_t *got, const uint8_t *exp,
		 size_t len);
bool check_fill(const char *what, const uint8_t *got, uint8_t fill, size_t len);

#endif /* KVM_IOMMUFD_DMA_BUF_H */
