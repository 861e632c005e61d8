/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the jq-compatible printer of the JSON scanner (wb_jscan.h).
 *
 * wb_jscan_canonical: a text the scanner accepted, printed as libjq 1.6
 * prints the value it reads from it, made from the bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jv.h>

#include "wb_jscan.h"
#include "wb_jscan_internal.h"

/*
 * The canonical copy: what libjq 1.6 prints (jv_dumpf, flags 0) for the
 * value it reads from the text, made from the bytes, without building
 * the value. Output goes through a small buffer to the caller's sink.
 */
struct canon {
	int (*put)(void *arg, const char *p, size_t n);
	void *arg;
	char buf[1 << 16];	/* a file's worth of writes at once */
	size_t n;
	int failed;
};

static void
canon_flush(struct canon *c)
{
	if (c->n > 0 && !c->failed && c->put(c->arg, c->buf, c->n) < 0)
		c->failed = 1;
	c->n = 0;
}

static void
canon_put(struct canon *c, const void *p, size_t n)
{
	if (c->failed)
		return;
	if (c->n + n > sizeof c->buf) {
		canon_flush(c);
		if (n > sizeof c->buf) {	/* a long run: straight through */
			if (!c->failed && c->put(c->arg, p, n) < 0)
				c->failed = 1;
			return;
		}
	}
	memcpy(c->buf + c->n, p, n);
	c->n += n;
}

/* Code point 'u' inside a string, as jq prints it. */
static void
canon_char(struct canon *c, unsigned long u)
{
	static const char esc[] = "\"\\\b\f\n\r\t", by[] = "\"\\bfnrt";
	unsigned char o[8];
	const char *e;

	if (u > 0 && u < 0x80 &&
	    (e = memchr(esc, (int)u, sizeof esc - 1)) != NULL) {
		o[0] = '\\';
		o[1] = (unsigned char)by[e - esc];
		canon_put(c, o, 2);
	} else if (u < 0x20 || u == 0x7F) {
		char hex[8];

		snprintf(hex, sizeof hex, "\\u%04lx", u);
		canon_put(c, hex, 6);
	} else
		canon_put(c, o, wb_jscan_put_utf8(o, u));
}

/* The string whose inside is p[0..n) (valid), as jq prints it. */
static void
canon_string(struct canon *c, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;

	canon_put(c, "\"", 1);
	while (p < end) {
		const unsigned char *run = p;

		while (p < end && *p != '\\' && *p != 0x7F)
			p++;
		canon_put(c, run, (size_t)(p - run));
		if (p == end)
			break;
		canon_char(c, *p == 0x7F ? *p++ : wb_jscan_escape(&p));
	}
	canon_put(c, "\"", 1);
}

/*
 * The number token p[0..n), as jq prints it: an integer of up to 15
 * digits is printed as written (it is exact, and jq uses no exponent
 * below 10^16); any other is read and printed by libjq itself, whose
 * reading of some long tokens differs from strtod's (near 2^-1075).
 */
static void
canon_number(struct canon *c, const unsigned char *p, size_t n)
{
	size_t i = *p == '-';
	jv v, text;

	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == n && n - (*p == '-') <= 15) {
		canon_put(c, p, n);
		return;
	}
	v = n <= INT32_MAX ? jv_parse_sized((const char *)p, (int)n) :
	    jv_invalid();
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		jv_free(v);
		errno = EINVAL;
		c->failed = 1;
		return;
	}
	text = jv_dump_string(v, 0);
	canon_put(c, jv_string_value(text),
	    (size_t)jv_string_length_bytes(jv_copy(text)));
	jv_free(text);
}

int
wb_jscan_canonical(const char *src, size_t len,
    int (*put)(void *arg, const char *p, size_t n), void *arg)
{
	const unsigned char *p = (const unsigned char *)src, *end = p + len;
	const unsigned char *run = p;
	struct canon c;

	c.put = put;
	c.arg = arg;
	c.n = 0;
	c.failed = 0;
	while (p < end && !c.failed) {
		const unsigned char *q;
		int plain = 1;

		switch (*p) {
		case '"':
			for (q = p + 1; q < end && *q != '"'; q++)
				if (*q == '\\') {
					plain = 0;
					q++;
				} else if (*q == 0x7F)
					plain = 0;
			if (q >= end) {		/* not a text the scanner took */
				errno = EINVAL;
				c.failed = 1;
				break;
			}
			if (!plain) {
				canon_put(&c, run, (size_t)(p - run));
				canon_string(&c, p + 1, (size_t)(q - p - 1));
				run = q + 1;
			}
			p = q + 1;
			break;
		case ' ': case '\n': case '\r': case '\t':
			canon_put(&c, run, (size_t)(p - run));
			run = ++p;
			break;
		case '-': case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			for (q = p + 1; q < end && ((*q >= '0' && *q <= '9') ||
			    *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
			    *q == '-'); q++)
				;
			canon_put(&c, run, (size_t)(p - run));
			canon_number(&c, p, (size_t)(q - p));
			run = p = q;
			break;
		default:
			p++;
		}
	}
	canon_put(&c, run, (size_t)(p - run));
	canon_flush(&c);
	return c.failed ? -1 : 0;
}
