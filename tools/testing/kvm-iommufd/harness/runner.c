// SPDX-License-Identifier: GPL-2.0
/*
 * Test runner: runs every registered TEST() (or those whose name contains
 * one of the arguments), prints TAP, checks for leaks and warnings after
 * each test, and ends with "N passed, N failed".
 *
 *   kvm-iommufd-test [-l] [substring...]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kvm_iommu_internal.h"
#include "test.h"

extern const struct kt_test *__start_kt_tests[];
extern const struct kt_test *__stop_kt_tests[];
void kt_alloc_report(int max);

#ifdef __SANITIZE_THREAD__
/*
 * ThreadSanitizer build.  A report fails the test it occurs in, like a
 * WARN_ON: the runtime calls __tsan_on_report() for each one it prints.
 *
 * One suppression, compiled in: liburcu is not instrumented, and it
 * allocates the work items of rcu_barrier() and call_rcu() in one thread
 * and frees them in its call_rcu thread, ordered by its own lock-free
 * queue and futex, which TSan cannot see; so TSan reports the library's
 * malloc()/free() pairs as races.  "called_from_lib" makes TSan ignore
 * what the library itself calls, nothing of ours; the ordering RCU gives
 * our code is annotated in include/custom.h instead.
 */
static long kt_tsan_reports;

const char *__tsan_default_suppressions(void);
/**
 * __tsan_default_suppressions() - the TSan runtime's compiled-in suppressions
 *
 * Return: the suppression list (see above).
 */
const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:liburcu.so\n";
}

void __tsan_on_report(const void *report);
/**
 * __tsan_on_report() - the TSan runtime prints a report
 * @report: the runtime's description (unused)
 *
 * Counted, so the runner fails the test that caused it.
 */
void __tsan_on_report(const void *report)
{
	(void)report;
	__atomic_add_fetch(&kt_tsan_reports, 1, __ATOMIC_SEQ_CST);
}

static long kt_sanitizer_reports(void)
{
	return __atomic_load_n(&kt_tsan_reports, __ATOMIC_SEQ_CST);
}
#else
static long kt_sanitizer_reports(void)
{
	return 0;
}
#endif

void kt_fail_msg(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("#   FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static bool selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc == 0)
		return true;
	for (i = 0; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

static int cmp_test(const void *a, const void *b)
{
	const struct kt_test *const *x = a, *const *y = b;
	int r = strcmp((*x)->file, (*y)->file);

	return r ? r : strcmp((*x)->name, (*y)->name);
}

int main(int argc, char **argv)
{
	size_t n = __stop_kt_tests - __start_kt_tests, i;
	const struct kt_test **tests = malloc(n * sizeof(*tests));
	int passed = 0, failed = 0, planned = 0, idx = 0;
	bool list = argc > 1 && !strcmp(argv[1], "-l");

	if (list) {
		argc--;
		argv++;
	}
	memcpy(tests, __start_kt_tests, n * sizeof(*tests));
	qsort(tests, n, sizeof(*tests), cmp_test);
	for (i = 0; i < n; i++)
		planned += selected(tests[i]->name, argc - 1, argv + 1);
	if (list) {
		for (i = 0; i < n; i++)
			if (selected(tests[i]->name, argc - 1, argv + 1))
				printf("%s\n", tests[i]->name);
		free(tests);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rcu_register_thread();
	printf("TAP version 13\n1..%d\n", planned);
	for (i = 0; i < n; i++) {
		const struct kt_test *t = tests[i];
		long live, warns, reports;
		struct timespec t0, t1;
		bool ok;

		if (!selected(t->name, argc - 1, argv + 1))
			continue;
		idx++;
		live = kt_alloc_live();
		warns = kt_warn_count();
		reports = kt_sanitizer_reports();
		kt_fail_nth_set(0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = t->fn();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		kt_fail_nth_set(0);
		rcu_barrier();	/* let deferred frees run before counting */
		if (kt_alloc_live() != live) {
			printf("#   FAIL %s: %ld allocation(s) leaked\n", t->name,
			       kt_alloc_live() - live);
			kt_alloc_report(8);
			ok = false;
		}
		if (kt_warn_count() != warns) {
			printf("#   FAIL %s: %ld WARN_ON(s) fired\n", t->name,
			       kt_warn_count() - warns);
			ok = false;
		}
		if (kt_sanitizer_reports() != reports) {
			printf("#   FAIL %s: %ld ThreadSanitizer report(s), on stderr\n",
			       t->name, kt_sanitizer_reports() - reports);
			ok = false;
		}
		printf("%s %d - %s # %.1f ms\n", ok ? "ok" : "not ok", idx, t->name,
		       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		if (ok)
			passed++;
		else
			failed++;
	}
	rcu_unregister_thread();
	free(tests);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
