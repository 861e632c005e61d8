/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the monotonic clock, for deadlines and backoffs. */
#include <time.h>

#include "wb_clock.h"

long long
wb_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
wb_clock_backoff(long long ms, long long max)
{
	return ms > max / 2 ? max : ms * 2;
}
