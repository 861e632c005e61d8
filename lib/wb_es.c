/* SPDX-License-Identifier: MPL-2.0 */
/* wb — Elasticsearch documents and answers, apart from any I/O. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "wb_es.h"
#include "wb_json.h"

int
wb_es_buf_reserve(struct wb_es_buf *b, size_t more)
{
	size_t want;
	char *p;

	if (b->cap - b->len > more)
		return 0;
	want = b->cap ? b->cap : 65536;
	while (want - b->len <= more)
		want *= 2;
	if ((p = realloc(b->p, want)) == NULL)
		return -1;
	b->p = p;
	b->cap = want;
	return 0;
}

void
wb_es_buf_free(struct wb_es_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Decimal digits of v >= 0 at dst; returns how many. */
static size_t
put_uint(char *dst, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

static size_t
put_id(char *dst, long number, long pos)
{
	size_t n = put_uint(dst, (unsigned long)number);

	if (pos >= 0) {
		dst[n++] = '-';
		n += put_uint(dst + n, (unsigned long)pos);
	}
	return n;
}

void
wb_es_doc_id(long number, long pos, char *buf)
{
	buf[put_id(buf, number, pos)] = '\0';
}

#define ACTION_ISSUE "{\"index\":{\"_index\":\"" WB_ES_ISSUES "\",\"_id\":\""
#define ACTION_EVENT "{\"index\":{\"_index\":\"" WB_ES_TIMELINES "\",\"_id\":\""
#define BUG_NUMBER_KEY "bug_number"
#define BUG_NUMBER "\"" BUG_NUMBER_KEY "\":"

/* The action line of a document at the end of 'b' (room reserved). */
static void
put_action(struct wb_es_buf *b, long number, long pos)
{
	char *d = b->p + b->len;

	if (pos < 0) {
		memcpy(d, ACTION_ISSUE, sizeof ACTION_ISSUE - 1);
		d += sizeof ACTION_ISSUE - 1;
	} else {
		memcpy(d, ACTION_EVENT, sizeof ACTION_EVENT - 1);
		d += sizeof ACTION_EVENT - 1;
	}
	d += put_id(d, number, pos);
	memcpy(d, "\"}}\n", 4);
	b->len = (size_t)(d + 4 - b->p);
}

int
wb_es_put_doc(struct wb_es_buf *b, long number, long pos, const char *text,
    const struct wb_jscan_span *span, char *why, size_t whylen)
{
	static const char *const bug_number_key = BUG_NUMBER_KEY;
	const char *src = text + span->off;
	size_t n;
	char *d;

	int empty = (span->flags & WB_JSCAN_EMPTY) != 0;

	if (wb_es_buf_reserve(b, span->len + 128) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	put_action(b, number, pos);
	d = b->p + b->len;
	/* Everything but the closing brace, then our member and the brace. */
	if (span->flags & WB_JSCAN_ODDKEY)
		n = wb_jscan_without_keys(d, src, span->len, &bug_number_key, 1,
		    &empty) - 1;
	else if (span->flags & WB_JSCAN_WS)
		n = wb_jscan_compact(d, src, span->len) - 1;
	else {
		n = span->len - 1;
		memcpy(d, src, n);
	}
	d += n;
	if (!empty)
		*d++ = ',';
	memcpy(d, BUG_NUMBER, sizeof BUG_NUMBER - 1);
	d += sizeof BUG_NUMBER - 1;
	d += put_uint(d, (unsigned long)number);
	*d++ = '}';
	*d++ = '\n';
	b->len = (size_t)(d - b->p);
	return 0;
}

/* Printable excerpt of s (control bytes as '?'), at most 300 bytes. */
static void
clean(char *dst, size_t dstlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < dstlen && i < 300; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	dst[i] = '\0';
}

/* "type: reason" of an ES error value (borrowed), as a new string. */
static char *
error_reason(jv err)
{
	char type[320], reason[320], cause[320], out[1024];
	const char *t, *r;
	jv caused;

	if (jv_get_kind(err) == JV_KIND_STRING) {
		clean(reason, sizeof reason, jv_string_value(err));
		return strdup(reason);
	}
	if (jv_get_kind(err) != JV_KIND_OBJECT)
		return strdup("no reason given");
	t = wb_json_string(err, "type");
	r = wb_json_string(err, "reason");
	clean(type, sizeof type, t != NULL ? t : "error");
	clean(reason, sizeof reason, r != NULL ? r : "no reason given");
	caused = wb_json_path(err, "caused_by.reason");
	if (jv_get_kind(caused) == JV_KIND_STRING) {
		clean(cause, sizeof cause, jv_string_value(caused));
		snprintf(out, sizeof out, "%s: %s (%s)", type, reason, cause);
	} else
		snprintf(out, sizeof out, "%s: %s", type, reason);
	jv_free(caused);
	return strdup(out);
}

/* Parse 'body' as a JSON object, or explain why not. */
static jv
parse_object(const char *what, const char *body, size_t len, char *why,
    size_t whylen)
{
	jv v;

	if (body == NULL || len == 0) {
		snprintf(why, whylen, "%s is empty", what);
		return jv_invalid();
	}
	if (len > (size_t)1 << 30) {
		snprintf(why, whylen, "%s is too large", what);
		return jv_invalid();
	}
	v = jv_parse_sized(body, (int)len);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		char m[320];

		clean(m, sizeof m, jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "parse error");
		snprintf(why, whylen, "%s is not JSON: %s", what, m);
		jv_free(msg);
		return jv_invalid();
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		snprintf(why, whylen, "%s is not a JSON object", what);
		return jv_invalid();
	}
	return v;
}

/* One item of a bulk answer (borrowed) against what was sent. */
static int
bulk_item(jv item, struct wb_es_item *it, size_t i, char *why, size_t whylen)
{
	char id[32];
	const char *got;
	double status;
	jv r, err;

	if (jv_get_kind(item) != JV_KIND_OBJECT ||
	    jv_object_length(jv_copy(item)) != 1) {
		snprintf(why, whylen, "item %zu is not an object of one action", i);
		return -1;
	}
	r = jv_object_get(jv_copy(item), jv_string("index"));
	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		jv_free(r);
		snprintf(why, whylen, "item %zu is not an \"index\" result", i);
		return -1;
	}
	wb_es_doc_id(it->number, it->pos, id);
	got = wb_json_string(r, "_id");
	if (got == NULL || strcmp(got, id) != 0) {
		jv_free(r);
		snprintf(why, whylen, "item %zu is not about document %s", i, id);
		return -1;
	}
	if (wb_json_number(r, "status", &status) < 0 || status != floor(status) ||
	    status < 100 || status > 599) {
		jv_free(r);
		snprintf(why, whylen, "item %zu (%s) has no valid status", i, id);
		return -1;
	}
	it->status = (long)status;
	if (it->status == 200 || it->status == 201)
		it->outcome = WB_ES_OK;
	else {
		it->outcome = it->status == 429 || it->status >= 500 ?
		    WB_ES_RETRY : WB_ES_FAILED;
		err = jv_object_get(jv_copy(r), jv_string("error"));
		it->reason = error_reason(err);
		jv_free(err);
	}
	jv_free(r);
	return 0;
}

int
wb_es_bulk_parse(const char *body, size_t len, struct wb_es_item *items,
    size_t n, char *why, size_t whylen)
{
	jv v = parse_object("answer", body, len, why, whylen), list, errors;
	int rc = -1, any = 0;

	for (size_t i = 0; i < n; i++) {
		items[i].outcome = WB_ES_FAILED;
		items[i].status = 0;
		items[i].reason = NULL;
	}
	if (!jv_is_valid(v))
		return -1;
	errors = jv_object_get(jv_copy(v), jv_string("errors"));
	list = jv_object_get(jv_copy(v), jv_string("items"));
	if (jv_get_kind(errors) != JV_KIND_TRUE &&
	    jv_get_kind(errors) != JV_KIND_FALSE)
		snprintf(why, whylen, "answer has no boolean \"errors\"");
	else if (jv_get_kind(list) != JV_KIND_ARRAY)
		snprintf(why, whylen, "answer has no \"items\" array");
	else if ((size_t)jv_array_length(jv_copy(list)) != n)
		snprintf(why, whylen, "answer has %d items for %zu documents",
		    jv_array_length(jv_copy(list)), n);
	else {
		rc = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			jv item = jv_array_get(jv_copy(list), (int)i);

			rc = bulk_item(item, &items[i], i, why, whylen);
			any |= rc == 0 && items[i].outcome != WB_ES_OK;
			jv_free(item);
		}
		if (rc == 0 && any && jv_get_kind(errors) == JV_KIND_FALSE) {
			snprintf(why, whylen, "answer says no errors but an item "
			    "failed");
			rc = -1;
		}
	}
	if (rc < 0)
		wb_es_items_clear(items, n);
	jv_free(errors);
	jv_free(list);
	jv_free(v);
	return rc;
}

void
wb_es_items_clear(struct wb_es_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].reason);
		items[i].reason = NULL;
	}
}

static int
put_str(struct wb_es_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (wb_es_buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* ",\"N\"" or "\"N-i\"" etc.: a JSON value with a comma before all but the first. */
static int
put_item(struct wb_es_buf *b, int first, int quoted, long number, long pos)
{
	char *d;

	if (wb_es_buf_reserve(b, 48) < 0)
		return -1;
	d = b->p + b->len;
	if (!first)
		*d++ = ',';
	if (quoted)
		*d++ = '"';
	d += put_id(d, number, pos);
	if (quoted)
		*d++ = '"';
	*d = '\0';
	b->len = (size_t)(d - b->p);
	return 0;
}

static int
dbq_keep(struct wb_es_buf *b, const struct wb_es_keep *keep, size_t nkeep)
{
	int first = 1;

	if (put_str(b, "{\"bool\":{\"filter\":[{\"terms\":{\"bug_number\":[") < 0)
		return -1;
	for (size_t i = 0; i < nkeep; i++)
		if (put_item(b, i == 0, 0, keep[i].number, -1) < 0)
			return -1;
	if (put_str(b, "]}}],\"must_not\":[{\"ids\":{\"values\":[") < 0)
		return -1;
	for (size_t i = 0; i < nkeep; i++) {
		if (put_item(b, first, 1, keep[i].number, -1) < 0)
			return -1;
		first = 0;
		for (long e = 0; e < keep[i].nevents; e++)
			if (put_item(b, 0, 1, keep[i].number, e) < 0)
				return -1;
	}
	return put_str(b, "]}}]}}");
}

int
wb_es_dbq_body(struct wb_es_buf *b, const struct wb_es_keep *keep,
    size_t nkeep, const long *gone, size_t ngone)
{
	b->len = 0;
	if (put_str(b, "{\"query\":{\"bool\":{\"should\":[") < 0)
		goto oom;
	if (nkeep > 0 && dbq_keep(b, keep, nkeep) < 0)
		goto oom;
	if (ngone > 0) {
		if (put_str(b, nkeep > 0 ? ",{\"terms\":{\"bug_number\":[" :
		    "{\"terms\":{\"bug_number\":[") < 0)
			goto oom;
		for (size_t i = 0; i < ngone; i++)
			if (put_item(b, i == 0, 0, gone[i], -1) < 0)
				goto oom;
		if (put_str(b, "]}}") < 0)
			goto oom;
	}
	if (put_str(b, "],\"minimum_should_match\":1}}}") < 0)
		goto oom;
	return 0;
oom:
	b->len = 0;
	return -1;
}

int
wb_es_dbq_parse(const char *body, size_t len, long *deleted, char *why,
    size_t whylen)
{
	jv v = parse_object("answer", body, len, why, whylen), failures;
	double d;
	int rc = -1;

	if (!jv_is_valid(v))
		return -1;
	failures = jv_object_get(jv_copy(v), jv_string("failures"));
	if (wb_json_number(v, "deleted", &d) < 0 || d < 0)
		snprintf(why, whylen, "answer has no \"deleted\" count");
	else if (jv_get_kind(failures) != JV_KIND_ARRAY)
		snprintf(why, whylen, "answer has no \"failures\" array");
	else if (jv_array_length(jv_copy(failures)) > 0) {
		jv first = jv_array_get(jv_copy(failures), 0);
		jv cause = jv_get_kind(first) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(first), jv_string("cause")) : jv_null();
		char *r = error_reason(cause);

		snprintf(why, whylen, "%d failures, the first: %s",
		    jv_array_length(jv_copy(failures)), r ? r : "?");
		free(r);
		jv_free(cause);
		jv_free(first);
		rc = 1;
	} else if (wb_json_true(v, "timed_out")) {
		snprintf(why, whylen, "timed out");
		rc = 1;
	} else {
		*deleted = (long)d;
		rc = 0;
	}
	jv_free(failures);
	jv_free(v);
	return rc;
}

int
wb_es_template_check(const char *name, const char *text, size_t len,
    char *why, size_t whylen)
{
	size_t n = strlen(name);
	jv v, pat, tpl;
	int rc = -1;

	if (n == 0 || n > 64 || strspn(name,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		snprintf(why, whylen, "template name is not 1..64 of a-z 0-9 _ -");
		return -1;
	}
	v = parse_object("template", text, len, why, whylen);
	if (!jv_is_valid(v))
		return -1;
	pat = jv_object_get(jv_copy(v), jv_string("index_patterns"));
	tpl = jv_object_get(jv_copy(v), jv_string("template"));
	if (jv_get_kind(pat) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(pat)) == 0)
		snprintf(why, whylen, "no \"index_patterns\" array");
	else if (jv_get_kind(tpl) != JV_KIND_OBJECT)
		snprintf(why, whylen, "no \"template\" object");
	else
		rc = 0;
	jv_free(pat);
	jv_free(tpl);
	jv_free(v);
	return rc;
}

int
wb_es_acknowledged(const char *body, size_t len)
{
	char why[320];
	jv v = parse_object("answer", body, len, why, sizeof why);
	int ack;

	if (!jv_is_valid(v))
		return 0;
	ack = wb_json_true(v, "acknowledged");
	jv_free(v);
	return ack;
}

void
wb_es_excerpt(const char *body, size_t len, char *dst, size_t dstlen)
{
	size_t i, n = body != NULL ? len : 0;

	if (n > 200)
		n = 200;
	if (n > dstlen - 1)
		n = dstlen - 1;
	for (i = 0; i < n; i++)
		dst[i] = (unsigned char)body[i] < 0x20 || body[i] == 0x7f ?
		    ' ' : body[i];
	dst[i] = '\0';
}

void
wb_es_error_text(const char *body, size_t len, char *why, size_t whylen)
{
	jv v = parse_object("answer", body, len, why, whylen), err;
	char *r = NULL;

	if (body == NULL || len == 0) {
		snprintf(why, whylen, "no reason given");
		return;
	}
	if (jv_is_valid(v)) {
		err = jv_object_get(jv_copy(v), jv_string("error"));
		if (jv_get_kind(err) == JV_KIND_OBJECT ||
		    jv_get_kind(err) == JV_KIND_STRING)
			r = error_reason(err);
		jv_free(err);
		jv_free(v);
	}
	if (r != NULL) {
		snprintf(why, whylen, "%s", r);
		free(r);
	} else
		wb_es_excerpt(body, len, why, whylen);
}
