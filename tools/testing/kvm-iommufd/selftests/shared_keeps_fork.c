// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that cannot fault keeps its DMA through fork() of the VMM.
 * fork() write-protects a private anonymous mapping for copy-on-write (the
 * pages edu holds are pinned, so each child gets copies of them) and leaves
 * a MAP_SHARED memfd mapping as it is; either way edu's DMA must land in
 * the guest's pages and read the guest's bytes before, while children are
 * forked (each exits at once, or sleeps briefly first) and after.  The VMM
 * does not use MADV_DONTFORK.  See lib/mm_events.h for the checks.
 *
 * shared_keeps_fork attaches edu SHARED; pinned_keeps_fork, built from
 * this file, PINNED.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include "mm_events.h"

#define FORKS		6
#define CHILD_SLEEP_US	100000

static bool fork_children(struct mm_vm *t, void *arg)
{
	unsigned int i;
	int status;
	pid_t pid;

	(void)arg;
	for (i = 0; i < FORKS; i++) {
		pid = fork();
		TEST_ASSERT(pid >= 0, "fork: %s", errno_name(errno));
		if (!pid) {
			if (i & 1)	/* the child lives on while edu moves bytes */
				usleep(CHILD_SLEEP_US);
			_exit(0);
		}
		if (i == FORKS / 2)
			mm_loop_wait(t, 1);
		TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid: %s", errno_name(errno));
		TEST_EXPECT(WIFEXITED(status) && !WEXITSTATUS(status), "child %u: status %#x",
			    i, status);
	}
	return true;
}

int main(void)
{
	static const struct mm_step steps[] = {
		{ .name = "fork", .event = fork_children },
	};

	mm_main(MM_MODE, MM_ANON | MM_MEMFD, steps, ARRAY_SIZE(steps));
}
