/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal TAP output for the kvm-iommufd selftests.
 *
 * A test binary announces its plan, then runs cases: each case is opened
 * with tap_begin() and closed with tap_end(), which prints "ok N name" or
 * "not ok N name" depending on whether a TEST_EXPECT*() failed inside it.
 * TEST_ASSERT*() is fatal: it closes the open case as failed, prints
 * "Bail out!" and exits.  tap_finish() returns the exit code:
 * 0 all passed (skips allowed), 1 a failure or a plan mismatch,
 * 4 (KSFT_SKIP) everything skipped.
 */
#ifndef KVM_IOMMUFD_TAP_H
#define KVM_IOMMUFD_TAP_H

#include <stdbool.h>
#include <string.h>
#include <errno.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))

void tap_plan(unsigned int nr_cases);
void tap_diag(const char *fmt, ...) __printf(1, 2);
void tap_begin(const char *fmt, ...) __printf(1, 2);
bool tap_end(void);
void tap_skip(const char *reason, ...) __printf(1, 2);
bool tap_case_failed(void);
__noreturn void tap_skip_all(const char *reason, ...) __printf(1, 2);
__noreturn void tap_finish(void);

bool __tap_expect(bool cond, const char *file, int line, const char *expr,
		  const char *fmt, ...) __printf(5, 6);
__noreturn void __tap_assert_fail(const char *file, int line,
				  const char *expr, const char *fmt, ...)
	__printf(4, 5);

/* Non-fatal: mark the open case failed, return the condition. */
#define TEST_EXPECT(cond, fmt, ...)					\
	__tap_expect(!!(cond), __FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__)

/* Fatal: fail the open case and bail out of the whole binary. */
#define TEST_ASSERT(cond, fmt, ...)					\
do {									\
	if (!(cond))							\
		__tap_assert_fail(__FILE__, __LINE__, #cond, fmt,	\
				  ##__VA_ARGS__);			\
} while (0)

/* Fatal, unconditional: for callers that already tested the condition. */
#define TEST_FAIL(fmt, ...)						\
	__tap_assert_fail(__FILE__, __LINE__, NULL, fmt, ##__VA_ARGS__)

#define TEST_EXPECT_EQ(a, b)						\
({									\
	unsigned long long __a = (a), __b = (b);			\
	TEST_EXPECT(__a == __b, "%s = 0x%llx, %s = 0x%llx",		\
		    #a, __a, #b, __b);					\
})

#define TEST_ASSERT_EQ(a, b)						\
do {									\
	unsigned long long __a = (a), __b = (b);			\
	TEST_ASSERT(__a == __b, "%s = 0x%llx, %s = 0x%llx",		\
		    #a, __a, #b, __b);					\
} while (0)

/* Name of an errno value ("EEXIST"), or its number if unknown. */
const char *errno_name(int err);

#endif /* KVM_IOMMUFD_TAP_H */
