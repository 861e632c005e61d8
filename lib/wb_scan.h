/* SPDX-License-Identifier: MPL-2.0 */
/* wb — strict parsing of numbers and names from untrusted text. */
#ifndef WB_SCAN_H
#define WB_SCAN_H

#include <stddef.h>
#include <time.h>

#define WB_NUMBER_MAX 2147483647L	/* issue numbers are 1..2^31-1 */

/*
 * Parse the 'len' bytes at 's' as a decimal integer in [min, max]: digits
 * only, no sign, no blanks, no leading zero (except "0" itself), no
 * exponent. Returns 0 and sets *out, or -1 with the reason in
 * why[whylen] ("not a decimal integer", "out of range"; 'why' may be
 * NULL when 'whylen' is 0).
 */
int wb_scan_uint(const char *s, size_t len, unsigned long long min,
    unsigned long long max, unsigned long long *out, char *why,
    size_t whylen);

/* wb_scan_uint over a C string, for issue numbers: 1..2^31-1. */
int wb_scan_number(const char *s, long *out, char *why, size_t whylen);

/* Parse a duration in seconds ("300", "0.5"): 0 <= d <= 10^9. */
int wb_scan_seconds(const char *s, double *out);

/*
 * Parse 's' as exactly YYYY-MM-DDTHH:MM:SSZ (GitHub's timestamps), a real
 * UTC time (no February 30). Returns 0 and sets *out to seconds since the
 * epoch, or -1.
 */
int wb_scan_iso8601(const char *s, time_t *out);

/* A queue name is 1..64 of [A-Za-z0-9_.-]; returns 1 when 'name' is one. */
int wb_scan_queue_name(const char *name);
/* As wb_scan_queue_name, for an argument: exits 100 when it is not one. */
void wb_scan_queue_name_or_die(const char *name);

#endif
