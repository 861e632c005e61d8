/* SPDX-License-Identifier: MPL-2.0 */
/* wb — noticing that the next stage of a pipeline is gone.
 *
 * A stage learns that its reader died only when it writes (EPIPE); one that
 * waits (on Redis, a timer, a drained pipe, a server) must look too, or it
 * outlives its pipeline. On Linux the write end of a pipe whose reader has
 * closed polls POLLERR (a socket or a terminal: POLLHUP), with no events
 * asked for; a regular file never does.
 */
#ifndef WB_PIPE_H
#define WB_PIPE_H

/* 1 when standard output's reader is gone, else 0. Never blocks. */
int wb_pipe_out_gone(void);

/*
 * Wait up to 'ms' milliseconds (ms < 0: no limit) for 'events' on 'fd'
 * (fd < 0: nothing but the time), watching standard output meanwhile.
 * Returns 1 when 'fd' is ready (its revents, POLLHUP or POLLERR included,
 * are left for the caller to read), 0 when the time is up, and -1 when
 * standard output's reader is gone. Signals do not cut it short. Exits
 * 111 when the kernel has no memory for poll(2), its only failure here,
 * as the wb_x* allocators (wb_xalloc.h).
 */
int wb_pipe_wait(int fd, short events, long long ms);

/* Sleep 'ms' milliseconds: 0, or -1 as soon as standard output's reader is gone. */
int wb_pipe_sleep(long long ms);

/*
 * What a stage does once its reader is gone: say so and exit 111 at once,
 * emitting and acknowledging nothing more (buffered output is dropped).
 * Safe from any thread.
 */
void wb_pipe_die(void) __attribute__((noreturn));

#endif
