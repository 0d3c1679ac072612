/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small test framework for the host build, with TAP output.
 *
 * TEST(name) { ... return true; } registers a test; ASSERT_*() print the
 * failing expression with file:line and make the test return false.
 * After each test the runner checks the allocator: any allocation still
 * live, any fault-injection left armed, or any WARN_ON() that fired fails
 * the test.  The run ends with the line "N passed, N failed".
 */
#ifndef __KT_TEST_H
#define __KT_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

struct kt_test {
	const char *name;
	bool (*fn)(void);
	const char *file;
};

#define TEST(name)							\
	static bool test_##name(void);					\
	static const struct kt_test __kt_t_##name = {			\
		#name, test_##name, __FILE__ };				\
	static const struct kt_test *__kt_p_##name			\
	__attribute__((used, section("kt_tests"))) = &__kt_t_##name;	\
	static bool test_##name(void)

void kt_fail_msg(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define ASSERT_TRUE(c)							\
	do { if (!(c)) {						\
		kt_fail_msg(__FILE__, __LINE__, "%s", #c);		\
		return false; } } while (0)
#define ASSERT_FALSE(c)		ASSERT_TRUE(!(c))
#define __ASSERT_CMP(a, op, b)						\
	do { long long __a = (long long)(a), __b = (long long)(b);	\
	     if (!(__a op __b)) {					\
		kt_fail_msg(__FILE__, __LINE__,				\
			    "%s " #op " %s (0x%llx vs 0x%llx)",		\
			    #a, #b, __a, __b);				\
		return false; } } while (0)
#define ASSERT_EQ(a, b)		__ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b)		__ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b)		__ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b)		__ASSERT_CMP(a, <=, b)
#define ASSERT_GT(a, b)		__ASSERT_CMP(a, >, b)
#define ASSERT_GE(a, b)		__ASSERT_CMP(a, >=, b)
/* ASSERT_ERRNO(-EINVAL, fn()) : a kernel-style call returned this -errno. */
#define ASSERT_ERRNO(err, call)	ASSERT_EQ(call, err)

/* Allocation accounting, for tests that check it themselves. */
long kt_alloc_live(void);
/* Fault injection: fail the nth fault point of this thread (0 = off). */
void kt_fail_nth_set(int nth);
/* Number of fault points this thread has passed since the last set. */
int kt_fault_points_seen(void);
/* True once the armed fault was injected. */
bool kt_fault_injected(void);
/* Warnings recorded by WARN_ON() so far. */
long kt_warn_count(void);
/* A test that provokes @n warnings on purpose takes them off the count. */
void kt_warn_consume(long n);

#endif /* __KT_TEST_H */
