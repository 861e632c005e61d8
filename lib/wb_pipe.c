/* SPDX-License-Identifier: MPL-2.0 */
/* wb — noticing that the next stage of a pipeline is gone (wb_pipe.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_pipe.h"

int
wb_pipe_out_gone(void)
{
	struct pollfd p = { 1, 0, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) ? 1 : 0;
}

/*
 * poll(2), -1 after a signal (EINTR). With the one or two descriptors
 * wb_pipe_wait asks about, poll can fail otherwise only when the kernel
 * has no memory for its tables (ENOMEM): then it exits 111, as the wb_x*
 * allocators do (wb_xalloc.h), and its callers need not say they may.
 */
static int
xpoll(struct pollfd *p, nfds_t n, int ms)
{
	int got = poll(p, n, ms);

	if (got < 0 && errno != EINTR)
		wb_diesys(WB_EXIT_TEMP, "unable to poll");
	return got;
}

int
wb_pipe_wait(int fd, short events, long long ms)
{
	struct pollfd p[2] = { { 1, 0, 0 }, { fd, events, 0 } };
	long long end = ms < 0 ? 0 : wb_clock_ms() + ms, left = ms;
	int n;

	for (;;) {
		n = xpoll(p, fd < 0 ? 1 : 2,
		    left < 0 || left > 86400000 ? 86400000 : (int)left);
		if (n > 0 && (p[0].revents & (POLLERR | POLLHUP)))
			return -1;
		if (n > 0 && (p[0].revents & POLLNVAL))
			p[0].fd = -1;	/* no standard output to watch */
		if (n > 0 && fd >= 0 && p[1].revents)
			return 1;
		if (ms >= 0 && (left = end - wb_clock_ms()) <= 0)
			return 0;
	}
}

int
wb_pipe_sleep(long long ms)
{
	return wb_pipe_wait(-1, 0, ms) < 0 ? -1 : 0;
}

void
wb_pipe_die(void)
{
	/* _exit: stdio's buffers hold output for a reader that is gone. */
	fprintf(stderr, "%s: fatal: unable to go on: standard output's reader "
	    "is gone\n", wb_prog);
	_exit(WB_EXIT_TEMP);
}
