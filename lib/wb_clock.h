/* wb — the monotonic clock, for deadlines. */
#ifndef WB_CLOCK_H
#define WB_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long wb_clock_ms(void);

#endif
