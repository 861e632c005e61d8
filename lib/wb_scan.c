/* SPDX-License-Identifier: MPL-2.0 */
/* wb — strict parsing of numbers and names from untrusted text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_err.h"
#include "wb_queue.h"
#include "wb_scan.h"

int
wb_scan_uint(const char *s, size_t len, unsigned long long min,
    unsigned long long max, unsigned long long *out, char *why, size_t whylen)
{
	unsigned long long v = 0;

	if (len == 0 || (len > 1 && s[0] == '0')) {
		snprintf(why, whylen, "not a decimal integer");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, whylen, "not a decimal integer");
			return -1;
		}
		if (v > (max - (unsigned)(s[i] - '0')) / 10) {
			snprintf(why, whylen, "out of range");
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < min || v > max) {
		snprintf(why, whylen, "out of range");
		return -1;
	}
	*out = v;
	return 0;
}

int
wb_scan_number(const char *s, long *out, char *why, size_t whylen)
{
	unsigned long long v;

	if (wb_scan_uint(s, strlen(s), 1, WB_NUMBER_MAX, &v, why, whylen) < 0)
		return -1;
	*out = (long)v;
	return 0;
}

int
wb_scan_seconds(const char *s, double *out)
{
	char *end;
	double d;

	if (*s < '0' || *s > '9')
		return -1;
	d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d) || d < 0 || d > 1e9)
		return -1;
	*out = d;
	return 0;
}

int
wb_scan_iso8601(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end;
	char again[32];
	time_t t;

	if (strlen(s) != 20 || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ",
	    &tm)) == NULL || *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* strptime takes 2024-02-30 and timegm makes it March 1: refuse. */
	gmtime_r(&t, &tm);
	strftime(again, sizeof again, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(again, s) != 0)
		return -1;
	*out = t;
	return 0;
}

int
wb_scan_queue_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > WB_QUEUE_NAME_MAX)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

void
wb_scan_queue_name_or_die(const char *name)
{
	if (!wb_scan_queue_name(name))
		wb_die(WB_EXIT_USAGE, "bad queue name (1 to 64 of A-Z a-z 0-9 _ . -): "
		    "%s", name);
}
