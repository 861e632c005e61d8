/* SPDX-License-Identifier: MPL-2.0 */
/* wb — NDJSON records: framing, validation, pass-through. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_err.h"
#include "wb_jscan.h"
#include "wb_queue.h"
#include "wb_record.h"
#include "wb_scan.h"

int
wb_record_number(jv v, long *out, char *why, size_t whylen)
{
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		snprintf(why, whylen, "not a number");
		return -1;
	}
	d = jv_number_value(v);
	if (!isfinite(d) || d != floor(d)) {
		snprintf(why, whylen, "not an integer");
		return -1;
	}
	if (d < 1 || d > WB_NUMBER_MAX) {
		snprintf(why, whylen, "out of range 1..2147483647");
		return -1;
	}
	*out = (long)d;
	return 0;
}

/* Quote at most 40 bytes of the line, control bytes as '?', for messages. */
static void
excerpt(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t i, n = len > 40 ? 40 : len;

	if (dstlen < 4)
		return;
	if (n > dstlen - 4)
		n = dstlen - 4;
	for (i = 0; i < n; i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (n < len)
		dst[i++] = '.', dst[i++] = '.', dst[i++] = '.';
	dst[i] = '\0';
}

/*
 * The one rule for an issue number, in a JSON record as on a bare line
 * (and as wb-hook reads issue.number): a decimal integer in
 * 1..2147483647 written as one, digits only. 1e3, 12.0, 012 or -5 are
 * refused, although libjq would read some of them as integers.
 */
static int
number_text(const char *s, size_t len, long *out)
{
	unsigned long long n;

	if (wb_scan_uint(s, len, 1, WB_NUMBER_MAX, &n, NULL, 0) < 0)
		return -1;
	*out = (long)n;
	return 0;
}

/*
 * Where the value of the last top-level key "number" of 'line' is
 * written, for a line libjq read but the scanner refuses (not RFC 8259:
 * nan, invalid UTF-8, a lone surrogate escape, ... elsewhere in it): its
 * token at *off, *toklen bytes. Strings are skipped whole and nesting is
 * counted; nothing else is checked, libjq has read the line. Returns 0,
 * or -1 when no such key is written plainly (without escapes).
 */
static int
number_token_lenient(const char *s, size_t len, size_t *off, size_t *toklen)
{
	int depth = 0, found = -1;

	for (size_t i = 0; i < len; i++) {
		size_t start, j, k;

		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if (s[i] == '}' || s[i] == ']')
			depth--;
		if (s[i] != '"')
			continue;
		for (start = ++i; i < len && s[i] != '"'; i++)
			i += s[i] == '\\';
		if (i >= len)
			break;
		for (j = i + 1; j < len && isspace((unsigned char)s[j]); j++)
			;
		if (depth != 1 || i - start != 6 ||
		    memcmp(s + start, "number", 6) != 0 || j >= len || s[j] != ':')
			continue;
		for (j++; j < len && isspace((unsigned char)s[j]); j++)
			;
		for (k = j; k < len && strchr(",}] \t\r\n", s[k]) == NULL; k++)
			;
		*off = j;
		*toklen = k - j;
		found = 0;
	}
	return found;
}

int
wb_record_parse(const char *line, size_t len, struct wb_record *rec,
    char *why, size_t whylen)
{
	static const char *const number_path[] = { "number" };
	struct wb_jscan_value num;
	char quoted[48], refused[200];
	jv v;

	while (len > 0 && isspace((unsigned char)*line))
		line++, len--;
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	if (len == 0) {
		snprintf(why, whylen, "empty line");
		return -1;
	}
	/* libjq's parser stops at a NUL: what follows would go unread. */
	if (memchr(line, '\0', len) != NULL) {
		snprintf(why, whylen, "a NUL byte in the line");
		return -1;
	}
	if (line[0] != '{') {
		if (number_text(line, len, &rec->number) < 0) {
			excerpt(quoted, sizeof quoted, line, len);
			snprintf(why, whylen, "not an issue number (1..2147483647) "
			    "nor a JSON object: %s", quoted);
			return -1;
		}
		rec->value = jv_null();
		return 0;
	}
	v = jv_parse_sized(line, (int)len);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);

		snprintf(why, whylen, "not valid JSON: %s",
		    jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) :
		    "parse error");
		jv_free(msg);
		return -1;
	}
	/* The number as written: its token, not libjq's double. */
	if (wb_jscan_paths(line, len, number_path, 1, &num, refused,
	    sizeof refused) < 0) {
		jv n = jv_object_get(jv_copy(v), jv_string("number"));

		num.kind = jv_get_kind(n) == JV_KIND_NUMBER ? WB_JSCAN_NUMBER :
		    jv_is_valid(n) ? WB_JSCAN_OTHER : WB_JSCAN_ABSENT;
		jv_free(n);
		if (num.kind == WB_JSCAN_NUMBER && number_token_lenient(line,
		    len, &num.off, &num.len) < 0) {
			jv_free(v);
			snprintf(why, whylen, "\"number\" is not written plainly");
			return -1;
		}
	}
	if (num.kind == WB_JSCAN_ABSENT) {
		jv_free(v);
		snprintf(why, whylen, "object without \"number\"");
		return -1;
	}
	if (num.kind != WB_JSCAN_NUMBER) {
		jv_free(v);
		snprintf(why, whylen, "\"number\" is not a number");
		return -1;
	}
	if (number_text(line + num.off, num.len, &rec->number) < 0) {
		jv_free(v);
		excerpt(quoted, sizeof quoted, line + num.off, num.len);
		snprintf(why, whylen, "\"number\" is not a decimal integer in "
		    "1..2147483647: %s", quoted);
		return -1;
	}
	rec->value = v;
	return 0;
}

jv
wb_record_get(const struct wb_record *rec, const char *key)
{
	jv v;

	if (jv_get_kind(rec->value) != JV_KIND_OBJECT)
		return jv_invalid();
	v = jv_object_get(jv_copy(rec->value), jv_string(key));
	return v;
}

void
wb_record_set(struct wb_record *rec, const char *key, jv value)
{
	if (jv_get_kind(rec->value) != JV_KIND_OBJECT) {
		jv_free(rec->value);
		rec->value = jv_object_set(jv_object(), jv_string("number"),
		    jv_number(rec->number));
	}
	rec->value = jv_object_set(rec->value, jv_string(key), value);
}

void
wb_record_del(struct wb_record *rec, const char *key)
{
	if (jv_get_kind(rec->value) == JV_KIND_OBJECT)
		rec->value = jv_object_delete(rec->value, jv_string(key));
}

int
wb_record_claim(const struct wb_record *rec, char *queue, char *claim,
    char *why, size_t whylen)
{
	jv q = wb_record_get(rec, "queue");
	jv c = wb_record_get(rec, "claim");
	const char *qs, *cs;
	int rc = -1;

	if (!jv_is_valid(q) && !jv_is_valid(c)) {
		rc = 0;
		goto out;
	}
	snprintf(why, whylen, "no \"queue\" string");
	if (jv_get_kind(q) != JV_KIND_STRING)
		goto out;
	qs = jv_string_value(q);
	snprintf(why, whylen, "bad \"queue\" name");
	if (!wb_scan_queue_name(qs))
		goto out;
	snprintf(why, whylen, "no \"claim\" string of digits");
	if (jv_get_kind(c) != JV_KIND_STRING)
		goto out;
	cs = jv_string_value(c);
	if (*cs == '\0' || strlen(cs) >= WB_CLAIM_MAX ||
	    strspn(cs, "0123456789") != strlen(cs))
		goto out;
	memcpy(queue, qs, strlen(qs) + 1);
	memcpy(claim, cs, strlen(cs) + 1);
	rc = 1;
out:
	jv_free(q);
	jv_free(c);
	return rc;
}

void
wb_record_free(struct wb_record *rec)
{
	jv_free(rec->value);
	rec->value = jv_null();
}

void
wb_record_put_or_die(FILE *f, const struct wb_record *rec)
{
	if (jv_get_kind(rec->value) == JV_KIND_OBJECT)
		jv_dumpf(jv_copy(rec->value), f, 0);
	else
		fprintf(f, "{\"number\":%ld}", rec->number);
	if (putc('\n', f) == EOF || ferror(f))
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
}

static int
count_put(void *arg, const char *p, size_t n)
{
	(void)p;
	*(size_t *)arg += n;
	return 0;
}

static int
file_put(void *arg, const char *p, size_t n)
{
	return fwrite(p, 1, n, arg) == n ? 0 : -1;
}

/*
 * The line of 'rec' plus member 'key' printed by 'print', through put:
 * the record's own members as libjq prints them, then that one.
 */
static int
put_with(const struct wb_record *rec, const char *key,
    wb_record_printer *print, void *what,
    int (*put)(void *arg, const char *p, size_t n), void *arg)
{
	char head[48];
	jv text = jv_invalid();
	const char *p = head;
	size_t n;
	int rc;

	if (jv_get_kind(rec->value) == JV_KIND_OBJECT) {
		text = jv_dump_string(jv_copy(rec->value), 0);
		p = jv_string_value(text);
		n = (size_t)jv_string_length_bytes(jv_copy(text));
	} else
		n = (size_t)snprintf(head, sizeof head, "{\"number\":%ld}",
		    rec->number);
	if (key == NULL)
		rc = put(arg, p, n);
	else
		rc = put(arg, p, n - 1) < 0 ||
		    (n > 2 && put(arg, ",", 1) < 0) ||
		    put(arg, "\"", 1) < 0 || put(arg, key, strlen(key)) < 0 ||
		    put(arg, "\":", 2) < 0 || print(what, put, arg) < 0 ||
		    put(arg, "}", 1) < 0 ? -1 : 0;
	jv_free(text);
	return rc;
}

int
wb_record_size_with(const struct wb_record *rec, const char *key,
    wb_record_printer *print, void *what, size_t *size)
{
	*size = 0;
	return put_with(rec, key, print, what, count_put, size);
}

void
wb_record_put_with_or_die(FILE *f, const struct wb_record *rec, const char *key,
    wb_record_printer *print, void *what)
{
	if (put_with(rec, key, print, what, file_put, f) < 0 ||
	    putc('\n', f) == EOF || ferror(f))
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
}

void
wb_record_flush_or_die(FILE *f)
{
	if (fflush(f) == EOF || ferror(f))
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
}
