/* SPDX-License-Identifier: MPL-2.0 */
/* libFuzzer target for lib/wb_webhook.c and lib/wb_jscan.c, the one JSON
 * scanner: arbitrary headers and bodies.
 *
 * Input: one flag byte, then "event\nsignature\ndelivery\ncontent-length\n"
 * and the body (the rest). Flag bits: 1 a secret is set, 2 sign the body
 * correctly (so the fuzzer gets past the signature), 4 send no event,
 * 8 send no Content-Length. Besides crashes and sanitizer reports, it
 * aborts when a decision is wrong: anything queued that libjq would not
 * read as an issue number of the repository, or a body the scanner
 * accepts that libjq reads differently. The body is also given to every
 * entry of wb_jscan, each checked against libjq: whatever the scanner
 * accepts, libjq must accept and read the same way (the elements of an
 * array, the values at the paths, the compacted copy, the copy without
 * "bug_number"; the canonical copy is byte for byte what libjq prints,
 * unless the text has duplicate keys); the scanner may refuse more than libjq (libjq 1.6 takes
 * leading zeros, "nan", invalid UTF-8 and lone low surrogate escapes),
 * never less, and its two object entries must agree. Run by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jv.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wb_jscan.h"
#include "wb_json.h"
#include "wb_record.h"
#include "wb_webhook.h"

#define SECRET "It's a Secret to Everybody"
#define REPO "webcompat/web-bugs"

/* Take the next '\n'-terminated field (NUL-terminated copy) or NULL. */
static char *
field(const uint8_t **p, size_t *left)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n;
	char *s;

	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - *p);
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + 1;
	*left -= n + 1;
	return s;
}

/* What libjq makes of the body of an issue event: status and number. */
static int
jq_decision(const char *body, size_t len, long *number)
{
	jv v = jv_parse_sized(body, (int)len), name, num;
	char why[128];
	int status;

	*number = 0;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return 400;
	}
	name = wb_json_path(v, "repository.full_name");
	num = wb_json_path(v, "issue.number");
	if (jv_get_kind(name) != JV_KIND_STRING)
		status = 400;
	else if ((size_t)jv_string_length_bytes(jv_copy(name)) != strlen(REPO) ||
	    strncasecmp(jv_string_value(name), REPO, strlen(REPO)) != 0)
		status = 202;
	else if (!jv_is_valid(num) || wb_record_number(num, number, why,
	    sizeof why) < 0)
		status = 400;
	else
		status = 202;
	jv_free(name);
	jv_free(num);
	jv_free(v);
	return status;
}

/* libjq's reading of text[0..len), or an invalid jv. */
static jv
jq_parse(const char *text, size_t len)
{
	return jv_parse_sized(text, (int)len);
}

/* Abort unless the copy dst[0..n) reads as 'want' (consumed) in libjq. */
static void
same_as_jq(const char *what, const char *dst, size_t n, jv want)
{
	jv got = jq_parse(dst, n);

	if (!jv_equal(got, want)) {
		fprintf(stderr, "wb_jscan %s: libjq reads the copy differently\n",
		    what);
		abort();
	}
}

/* The element spans and their copies, against libjq's reading. */
static void
check_spans(const char *text, const struct wb_jscan_span *span, jv elem)
{
	static const char *const bug_number = "bug_number";
	char *dst = malloc(span->len + 1);
	const char *src = text + span->off;
	int empty;
	size_t n;

	if (dst == NULL)
		abort();
	if (jv_get_kind(elem) != JV_KIND_OBJECT || src[0] != '{' ||
	    src[span->len - 1] != '}')
		abort();
	same_as_jq("span", src, span->len, jv_copy(elem));
	if ((jv_object_length(jv_copy(elem)) == 0) !=
	    ((span->flags & WB_JSCAN_EMPTY) != 0))
		abort();
	if (!(span->flags & WB_JSCAN_ODDKEY) &&
	    jv_object_has(jv_copy(elem), jv_string("bug_number")))
		abort();	/* wb-bulk would copy it without removing it */
	n = wb_jscan_compact(dst, src, span->len);
	if (!(span->flags & WB_JSCAN_WS) && (n != span->len ||
	    memcmp(dst, src, n) != 0))
		abort();	/* wb-bulk copies it as it is */
	same_as_jq("compact", dst, n, jv_copy(elem));
	n = wb_jscan_without_keys(dst, src, span->len, &bug_number, 1, &empty);
	elem = jv_object_delete(elem, jv_string("bug_number"));
	if (empty != (jv_object_length(jv_copy(elem)) == 0))
		abort();
	same_as_jq("without_key", dst, n, elem);
	free(dst);
}

/* A growing buffer, the sink of wb_jscan_canonical. */
struct out {
	char *p;
	size_t n, cap;
};

static int
out_put(void *arg, const char *p, size_t n)
{
	struct out *o = arg;

	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return 0;
}

/* The members of every object in 'v' (borrowed), as libjq kept them. */
static size_t
jq_members(jv v)
{
	size_t n = 0;

	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_array_foreach(v, i, e) {
			n += jq_members(e);
			jv_free(e);
		}
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, e) {
			n += 1 + jq_members(e);
			jv_free(k);
			jv_free(e);
		}
	}
	return n;
}

/* The members written in the compact text t[0..n): its ':' outside strings. */
static size_t
text_members(const char *t, size_t n)
{
	size_t m = 0;
	int in = 0;

	for (size_t i = 0; i < n; i++)
		if (in && t[i] == '\\')
			i++;
		else if (t[i] == '"')
			in = !in;
		else if (!in && t[i] == ':')
			m++;
	return m;
}

/*
 * The canonical copy is what libjq prints: byte for byte unless the text
 * has duplicate keys (then it reads as the same value), and unchanged
 * when the text is jq's own printing.
 */
static void
check_canonical(const char *text, size_t len, jv v)
{
	struct out c = { 0 }, again = { 0 };
	jv dump = jv_dump_string(jv_copy(v), 0);
	const char *d = jv_string_value(dump);
	size_t dn = (size_t)jv_string_length_bytes(jv_copy(dump)), at;
	int unique;

	if (wb_jscan_canonical(text, len, out_put, &c) < 0)
		abort();
	unique = text_members(c.p, c.n) == jq_members(v);
	if ((wb_jscan_unique_keys(text, len, &at) == 0) != unique) {
		fprintf(stderr, "wb_jscan_unique_keys says %s\n", unique ?
		    "duplicate" : "unique");
		abort();
	}
	if (unique) {
		if (c.n != dn || memcmp(c.p, d, dn) != 0) {
			fprintf(stderr, "wb_jscan_canonical: %.*s\nlibjq:  %s\n",
			    (int)c.n, c.p, d);
			abort();
		}
	} else	/* against jq's printing: it reads 1e999 as inf, prints DBL_MAX */
		same_as_jq("canonical", c.p, c.n, jq_parse(d, dn));
	if (wb_jscan_canonical(d, dn, out_put, &again) < 0 || again.n != dn ||
	    memcmp(again.p, d, dn) != 0)
		abort();	/* jq's printing is copied unchanged */
	free(c.p);
	free(again.p);
	jv_free(dump);
	jv_free(v);
}

/*
 * Any JSON value, not only objects and arrays of them, as wb-write takes
 * a timeline: scanned as the value of a member, then its canonical copy
 * checked.
 */
static void
check_value(const char *text, size_t len)
{
	static const char *const path[] = { "v" };
	struct wb_jscan_value val;
	char why[128], *wrapped = malloc(len + 7);
	jv v;

	if (wrapped == NULL)
		abort();
	memcpy(wrapped, "{\"v\":", 5);
	memcpy(wrapped + 5, text, len);
	wrapped[len + 5] = '}';
	if (wb_jscan_paths(wrapped, len + 6, path, 1, &val, why,
	    sizeof why) == 0 && val.kind != WB_JSCAN_ABSENT) {
		v = jq_parse(wrapped + val.off - (val.kind == WB_JSCAN_STRING),
		    val.len + 2 * (val.kind == WB_JSCAN_STRING));
		if (!jv_is_valid(v))
			abort();	/* the scanner took what jq does not */
		check_canonical(wrapped + val.off - (val.kind ==
		    WB_JSCAN_STRING), val.len + 2 * (val.kind ==
		    WB_JSCAN_STRING), v);
	}
	free(wrapped);
}

/* Every entry of the scanner on one text, against libjq. */
static void
check_scanner(const char *text, size_t len)
{
	static const char *const paths[] = { "action", "issue.number",
	    "repository.full_name", "a.b.c", "\xc3\xa9" };
	struct wb_jscan_value vals[5];
	struct wb_jscan_spans spans = { 0 };
	struct wb_jscan_span span;
	char why[128];
	int obj, pth, arr;
	jv v;

	check_value(text, len);
	obj = wb_jscan_object(text, len, &span, why, sizeof why);
	pth = wb_jscan_paths(text, len, paths, 5, vals, why, sizeof why);
	arr = wb_jscan_array(text, len, &spans, why, sizeof why);
	if (obj != pth)
		abort();
	if (obj != 0 && arr != 0) {
		/* Refused: nothing to compare (libjq 1.6 leaks on some
		 * invalid texts, so it is not asked). */
		wb_jscan_spans_free(&spans);
		return;
	}
	v = jq_parse(text, len);
	check_canonical(text, len, jv_copy(v));
	if (obj == 0) {
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			fprintf(stderr, "wb_jscan accepts an object libjq does not\n");
			abort();
		}
		check_spans(text, &span, jv_copy(v));
		for (int i = 0; i < 5; i++) {
			jv want = wb_json_path(v, paths[i]);	/* v borrowed */
			char buf[256];
			size_t n;

			switch (vals[i].kind) {
			case WB_JSCAN_ABSENT:
				if (jv_is_valid(want))
					abort();
				break;
			case WB_JSCAN_STRING:
				if (jv_get_kind(want) != JV_KIND_STRING)
					abort();
				if (wb_jscan_unescape(text + vals[i].off,
				    vals[i].len, buf, sizeof buf, &n) == 0 &&
				    (n != (size_t)jv_string_length_bytes(jv_copy(want)) ||
				    memcmp(buf, jv_string_value(want), n) != 0))
					abort();
				break;
			case WB_JSCAN_NUMBER: {
				char *tok = strndup(text + vals[i].off, vals[i].len);

				if (tok == NULL)
					abort();
				if (jv_get_kind(want) != JV_KIND_NUMBER ||
				    strtod(tok, NULL) != jv_number_value(want))
					abort();
				free(tok);
				break;
			}
			case WB_JSCAN_OTHER:
				if (!jv_is_valid(want) ||
				    jv_get_kind(want) == JV_KIND_STRING ||
				    jv_get_kind(want) == JV_KIND_NUMBER)
					abort();
				break;
			}
			jv_free(want);
		}
	}
	if (arr == 0) {
		if (jv_get_kind(v) != JV_KIND_ARRAY ||
		    (size_t)jv_array_length(jv_copy(v)) != spans.n) {
			fprintf(stderr, "wb_jscan accepts an array libjq does not\n");
			abort();
		}
		for (size_t i = 0; i < spans.n; i++)
			check_spans(text, &spans.v[i],
			    jv_array_get(jv_copy(v), (int)i));
	}
	wb_jscan_spans_free(&spans);
	jv_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_hook_config cfg = { NULL, 0, REPO };
	struct wb_hook_request req = { 0 };
	struct wb_hook_decision d;
	char *event, *sig, *delivery, *cl, good[80];
	unsigned char mac[32];
	unsigned int maclen;
	uint8_t flags;
	long n;

	if (size < 1)
		return 0;
	flags = data[0];
	data++, size--;
	event = field(&data, &size);
	sig = field(&data, &size);
	delivery = field(&data, &size);
	cl = field(&data, &size);
	req.event = flags & 4 ? NULL : event;
	req.signature = sig;
	req.delivery = delivery;
	req.content_length = flags & 8 ? NULL : cl;
	req.body = (const char *)data;
	req.len = size;
	if (flags & 1) {
		cfg.secret = SECRET;
		cfg.secret_len = strlen(SECRET);
	}
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), data, size, mac, &maclen);
	strcpy(good, "sha256=");
	for (int i = 0; i < 32; i++)
		sprintf(good + 7 + 2 * i, "%02x", mac[i]);
	if (flags & 2)
		req.signature = good;

	wb_webhook_route(event ? event : "", sig ? sig : "");
	if (wb_webhook_headers(&cfg, &req, &d) != 0 && (d.status < 400 ||
	    d.enqueue))
		abort();
	wb_webhook_decide(&cfg, &req, &d);
	if (strlen(d.delivery) >= sizeof d.delivery || strlen(d.event) >=
	    sizeof d.event || strlen(d.action) >= sizeof d.action)
		abort();
	for (const char *p = d.action; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			abort();
	if (d.enqueue && (d.status != 202 || d.number < 1 ||
	    d.number > 2147483647L || req.event == NULL ||
	    (strcmp(req.event, "issues") != 0 &&
	    strcmp(req.event, "issue_comment") != 0)))
		abort();
	if (d.enqueue && cfg.secret != NULL &&
	    (req.signature == NULL || strcasecmp(req.signature, good) != 0))
		abort();	/* queued with a signature we did not make */
	/* Whatever the scanner read as JSON, libjq must read the same way. */
	if (req.event != NULL && (strcmp(req.event, "issues") == 0 ||
	    strcmp(req.event, "issue_comment") == 0) &&
	    (d.status == 202 || (d.status == 400 &&
	    strcmp(d.outcome, "body is not a JSON object") != 0 &&
	    strcmp(d.outcome, "bad Content-Length") != 0 &&
	    strcmp(d.outcome, "no X-GitHub-Event") != 0 &&
	    /* libjq cannot see how a number was written: 1.2e2 is 120. */
	    strcmp(d.outcome, "issue.number is not a decimal integer in "
	    "1..2147483647") != 0))) {
		int st = jq_decision(req.body, req.len, &n);

		if (st != d.status || n != d.number) {
			fprintf(stderr, "scanner %d %ld (%s), libjq %d %ld\n",
			    d.status, d.number, d.outcome, st, n);
			abort();
		}
	}
	check_scanner(req.body, req.len);
	free(event);
	free(sig);
	free(delivery);
	free(cl);
	return 0;
}
