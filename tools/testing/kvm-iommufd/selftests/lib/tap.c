// SPDX-License-Identifier: GPL-2.0-only
/*
 * Minimal TAP output for the kvm-iommufd selftests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

static unsigned int tap_planned;
static unsigned int tap_nr;
static unsigned int tap_nr_fail;
static unsigned int tap_nr_skip;
static bool tap_open;
static bool tap_failed;
static char tap_name[128];

void tap_plan(unsigned int nr_cases)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_planned = nr_cases;
	printf("1..%u\n", nr_cases);
}

static void tap_vdiag(const char *fmt, va_list ap)
{
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

void tap_begin(const char *fmt, ...)
{
	va_list ap;

	if (tap_open)
		tap_end();
	va_start(ap, fmt);
	vsnprintf(tap_name, sizeof(tap_name), fmt, ap);
	va_end(ap);
	tap_open = true;
	tap_failed = false;
}

bool tap_case_failed(void)
{
	return tap_open && tap_failed;
}

bool tap_end(void)
{
	bool ok = !tap_failed;

	if (!tap_open)
		return true;
	tap_open = false;
	tap_nr++;
	if (!ok)
		tap_nr_fail++;
	printf("%sok %u %s\n", ok ? "" : "not ", tap_nr, tap_name);
	fflush(stdout);
	return ok;
}

void tap_skip(const char *reason, ...)
{
	va_list ap;

	if (!tap_open)
		return;
	tap_open = false;
	tap_nr++;
	tap_nr_skip++;
	printf("ok %u %s # SKIP ", tap_nr, tap_name);
	va_start(ap, reason);
	vprintf(reason, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_skip_all(const char *reason, ...)
{
	va_list ap;

	printf("1..0 # SKIP ");
	va_start(ap, reason);
	vprintf(reason, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(KSFT_SKIP);
}

void tap_finish(void)
{
	if (tap_open)
		tap_end();
	if (tap_nr != tap_planned) {
		tap_diag("planned %u cases, ran %u", tap_planned, tap_nr);
		tap_nr_fail++;
	}
	fflush(stdout);
	if (tap_nr_fail)
		exit(KSFT_FAIL);
	if (tap_nr && tap_nr_skip == tap_nr)
		exit(KSFT_SKIP);
	exit(KSFT_PASS);
}

static void tap_vwhere(const char *file, int line, const char *expr,
		       const char *fmt, va_list ap)
{
	if (expr)
		printf("# %s:%d: '%s' failed: ", file, line, expr);
	else
		printf("# %s:%d: ", file, line);
	vprintf(fmt, ap);
	printf("\n");
}

bool __tap_expect(bool cond, const char *file, int line, const char *expr,
		  const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return true;
	va_start(ap, fmt);
	tap_vwhere(file, line, expr, fmt, ap);
	va_end(ap);
	tap_failed = true;
	if (!tap_open)
		tap_nr_fail++;
	return false;
}

void __tap_assert_fail(const char *file, int line, const char *expr,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vwhere(file, line, expr, fmt, ap);
	va_end(ap);
	if (tap_open) {
		tap_failed = true;
		tap_end();
	}
	printf("Bail out!\n");
	fflush(stdout);
	exit(KSFT_FAIL);
}

const char *errno_name(int err)
{
	static char buf[16];
	const char *name = err ? strerrorname_np(err) : "0";

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}
