/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the monotonic clock, for deadlines and backoffs. */
#ifndef WB_CLOCK_H
#define WB_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long wb_clock_ms(void);

/*
 * The pause after 'ms' in a doubling backoff: twice 'ms', but no more
 * than 'max'. This function can't fail.
 */
long long wb_clock_backoff(long long ms, long long max);

#endif
