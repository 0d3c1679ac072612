// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through NUMA balancing: with
 * /proc/sys/kernel/numa_balancing on, the scheduler's scan of the VMM
 * (task_numa_work, driven by the VMM's own CPU time) makes its memory
 * PROT_NONE to sample accesses, the guest's memory among it.  The pages edu
 * holds are pinned; edu's DMA must read and write the guest's pages before,
 * while the VMM runs and is scanned, and after.  Anonymous and memfd guest
 * memory.  Skipped where the kernel has no NUMA balancing.  See
 * lib/mm_events.h for the checks.
 *
 * shared_keeps_numa attaches edu SHARED; pinned_keeps_numa, built from
 * this file, PINNED.
 */
#include <time.h>
#include <unistd.h>

#include "mm_events.h"

#define NUMA_BALANCING		"/proc/sys/kernel/numa_balancing"
#define NUMA_DEBUG		"/sys/kernel/debug/sched/numa_balancing/"
#define NUMA_TIMEOUT_S		8
#define NUMA_SCANS_MS		500	/* run on after the first scan */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static bool numa_scan(struct mm_vm *t, void *arg)
{
	long old = read_long(NUMA_BALANCING);
	long delay = read_long(NUMA_DEBUG "scan_delay_ms");
	long period = read_long(NUMA_DEBUG "scan_period_min_ms");
	long updates = vmstat("numa_pte_updates"), faults = vmstat("numa_hint_faults");
	uint64_t deadline = now_ms() + NUMA_TIMEOUT_S * 1000, until = deadline;
	volatile unsigned long spin = 0;

	(void)t;
	(void)arg;
	if (old < 0) {
		tap_skip("no " NUMA_BALANCING " (CONFIG_NUMA_BALANCING)");
		return false;
	}
	/* scan soon and often (the knobs are in debugfs, if it is there) */
	write_long(NUMA_DEBUG "scan_delay_ms", 0);
	write_long(NUMA_DEBUG "scan_period_min_ms", 100);
	TEST_ASSERT(write_long(NUMA_BALANCING, 1), "enable NUMA balancing: %s",
		    errno_name(errno));
	/* the scan runs on this task's CPU time: spin until it has come twice */
	while (now_ms() < until) {
		spin++;
		if (!(spin & 0xfffff) && until == deadline &&
		    vmstat("numa_pte_updates") > updates)
			until = now_ms() + NUMA_SCANS_MS;
	}
	write_long(NUMA_BALANCING, old);
	if (delay >= 0)
		write_long(NUMA_DEBUG "scan_delay_ms", delay);
	if (period >= 0)
		write_long(NUMA_DEBUG "scan_period_min_ms", period);
	updates = vmstat("numa_pte_updates") - updates;
	faults = vmstat("numa_hint_faults") - faults;
	tap_diag("NUMA balancing: %ld PTE updates, %ld hinting faults", updates, faults);
	if (!updates) {
		tap_skip("NUMA balancing did not scan the VMM in %d s", NUMA_TIMEOUT_S);
		return false;
	}
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "numa_balancing", .event = numa_scan },
	};

	mm_main(MM_MODE, MM_ANON | MM_MEMFD, steps, ARRAY_SIZE(steps));
}
