// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper (LD_PRELOAD): counts malloc/calloc/realloc calls made by
 * vpnd's datapath worker threads (named "vpnd-dp<N>"), so that a
 * namespace test can check the datapath allocates nothing per packet
 * (tests/topo/test_datapath.py). At exit, appends "<pid> <count>" to the
 * file named by VPND_MALLOC_COUNT_FILE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <execinfo.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);

static atomic_ulong dp_allocs;
static __thread int is_dp = -1; /* -1: not looked at yet */
static __thread int in_trace;

/* VPND_MALLOC_TRACE=FILE: the call stacks of the first allocations, to
 * find where they come from. */
static void trace(unsigned long n)
{
	const char *path = getenv("VPND_MALLOC_TRACE");
	void *bt[24];
	int fd, depth;

	if (!path || n > 20 || in_trace)
		return;
	in_trace = 1;
	depth = backtrace(bt, 24);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
	if (fd >= 0) {
		if (write(fd, "--\n", 3) < 0) {
			/* best effort */
		}
		backtrace_symbols_fd(bt, depth, fd);
		close(fd);
	}
	in_trace = 0;
}

static void note(void)
{
	if (is_dp < 0) {
		char name[17] = "";

		prctl(PR_GET_NAME, name);
		/* workers name themselves before their first allocation;
		 * other threads are decided once named anything else */
		is_dp = strncmp(name, "vpnd-dp", 7) == 0;
	}
	if (is_dp)
		trace(atomic_fetch_add(&dp_allocs, 1));
}

void *malloc(size_t n)
{
	note();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	note();
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	note();
	return __libc_realloc(p, n);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("VPND_MALLOC_COUNT_FILE");
	char line[64];
	int fd, len;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%d %lu\n", (int)getpid(),
		       atomic_load(&dp_allocs));
	if (write(fd, line, (size_t)len) < 0) {
		/* nothing to do in a destructor */
	}
	close(fd);
}
