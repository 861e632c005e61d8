/* wb — a GitHub webhook delivery, from request to decision.
 *
 * The headers are checked first, then the HMAC of the raw body; the body
 * is read as JSON only once its signature matched, and only the values a
 * decision needs are taken from it, each checked for its kind.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jv.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wb_record.h"
#include "wb_scan.h"
#include "wb_webhook.h"

#define SIG_PREFIX "sha256="
#define SIG_HEX 64

enum wb_hook_route
wb_webhook_route(const char *method, const char *path)
{
	if (strcmp(path, WB_HOOK_PATH) == 0)
		return strcmp(method, "POST") == 0 ? WB_HOOK_RECEIVE :
		    WB_HOOK_BAD_METHOD;
	if (strcmp(path, WB_HOOK_HEALTH_PATH) == 0)
		return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ?
		    WB_HOOK_HEALTH : WB_HOOK_BAD_METHOD;
	return WB_HOOK_NOT_FOUND;
}

void
wb_webhook_sanitise(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t i, n;

	if (dstlen < 5)
		return;
	if (s == NULL || len == 0) {
		strcpy(dst, "-");
		return;
	}
	n = len < dstlen - 4 ? len : dstlen - 4;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (n < len) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode "sha256=<64 hex>" into 'mac'; returns 0, or -1 if malformed. */
static int
parse_signature(const char *s, unsigned char mac[32])
{
	size_t pl = sizeof SIG_PREFIX - 1;

	if (strncmp(s, SIG_PREFIX, pl) != 0 || strlen(s + pl) != SIG_HEX)
		return -1;
	s += pl;
	for (int i = 0; i < 32; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
start(const struct wb_hook_request *req, struct wb_hook_decision *d)
{
	memset(d, 0, sizeof *d);
	wb_webhook_sanitise(d->delivery, sizeof d->delivery, req->delivery,
	    req->delivery != NULL ? strlen(req->delivery) : 0);
	wb_webhook_sanitise(d->event, sizeof d->event, req->event,
	    req->event != NULL ? strlen(req->event) : 0);
	strcpy(d->action, "-");
}

static int
answer(struct wb_hook_decision *d, int status, const char *outcome)
{
	d->status = status;
	d->outcome = outcome;
	return status;
}

int
wb_webhook_headers(const struct wb_hook_config *cfg,
    const struct wb_hook_request *req, struct wb_hook_decision *d)
{
	unsigned char mac[32];
	unsigned long long cl;
	const char *why;

	start(req, d);
	if (req->content_length != NULL) {
		if (wb_scan_uint(req->content_length, strlen(req->content_length),
		    0, ~0ULL, &cl, &why) < 0)
			return answer(d, 400, "bad Content-Length");
		if (cl > WB_HOOK_BODY_MAX)
			return answer(d, 413, "body over 25 MB");
	}
	if (cfg->secret != NULL) {
		if (req->signature == NULL)
			return answer(d, 401, "no X-Hub-Signature-256");
		if (parse_signature(req->signature, mac) < 0)
			return answer(d, 401, "malformed X-Hub-Signature-256");
	}
	return 0;
}

/* 1 when the signature of the body matches, 0 otherwise. */
static int
signature_ok(const struct wb_hook_config *cfg, const struct wb_hook_request *req)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int gotlen = 0;

	if (parse_signature(req->signature, want) < 0)
		return 0;
	if (cfg->secret_len > (size_t)INT_MAX)
		return 0;
	if (HMAC(EVP_sha256(), cfg->secret, (int)cfg->secret_len,
	    (const unsigned char *)req->body, req->len, got, &gotlen) == NULL ||
	    gotlen != 32)
		return 0;
	return CRYPTO_memcmp(want, got, 32) == 0;
}

/*
 * The body of an issue event is scanned, not built into a tree: libjq's
 * parser takes about 110 us for an 8 KB payload (jansson twice that),
 * which alone would cap the receiver near 9,000 deliveries a second per
 * core. The scanner below checks the whole body against RFC 8259's
 * grammar (UTF-8 included, at most 255 levels deep as in libjq) and
 * keeps only the three values wanted; keys and values mean what libjq
 * would read (escapes decoded, the last of duplicate keys wins), which
 * the fuzz target checks against libjq on every input.
 */
#define SCAN_DEPTH_MAX 255

enum ctx { CTX_NONE, CTX_ROOT, CTX_ISSUE, CTX_REPO };
enum kind { ABSENT, OTHER, STRING, NUMBER };

struct span {
	enum kind kind;
	const unsigned char *p;	/* STRING: between the quotes; NUMBER: the token */
	size_t len;
};

struct scan {
	const unsigned char *p, *end;
	int depth;
	struct span action, full_name, number;
};

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
	    *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

/* Length of the UTF-8 sequence at p (first byte >= 0x80), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, left = (size_t)(end - p);
	unsigned lo = 0x80, hi = 0xbf;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		if (*p == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (*p == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		if (*p == 0xf0)
			lo = 0x90;		/* overlong */
		else if (*p == 0xf4)
			hi = 0x8f;		/* above U+10FFFF */
	} else
		return 0;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static unsigned long
hex4(const unsigned char *p)
{
	return (unsigned long)(hexval(p[0]) << 12 | hexval(p[1]) << 8 |
	    hexval(p[2]) << 4 | hexval(p[3]));
}

/* A string at s->p (on the quote); sets 'out' to its inside. */
static int
scan_string(struct scan *s, struct span *out)
{
	const unsigned char *p = s->p + 1, *end = s->end;

	out->kind = STRING;
	out->p = p;
	for (;;) {
		/* Plain bytes (no control byte, quote, backslash or
		 * non-ASCII byte) sixteen, then eight at a time. */
#ifdef __SSE2__
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i bad = _mm_or_si128(
			    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

			/* Signed: bytes >= 0x80 are below 0x20 too. */
			if (_mm_movemask_epi8(bad) != 0)
				break;
			p += 16;
		}
#endif
		while (end - p >= 8) {
			uint64_t w, ones = 0x0101010101010101ULL;
			uint64_t high = 0x8080808080808080ULL, q, b;

			memcpy(&w, p, 8);
			q = w ^ (ones * '"');
			b = w ^ (ones * '\\');
			if (((w | ((w - ones * 0x20) & ~w) |
			    ((q - ones) & ~q) | ((b - ones) & ~b)) & high) != 0)
				break;
			p += 8;
		}
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		if (p >= end || *p < 0x20)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (p + 1 >= end)
				return -1;
			if (p[1] == 'u') {
				if (end - p < 6)
					return -1;
				for (int i = 2; i < 6; i++)
					if (hexval(p[i]) < 0)
						return -1;
				p += 6;
				/* A high surrogate must be followed by a low
				 * one, as libjq requires. */
				if (hex4(p - 4) >= 0xd800 && hex4(p - 4) <= 0xdbff &&
				    (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    hexval(p[2]) < 0 || hexval(p[3]) < 0 ||
				    hexval(p[4]) < 0 || hexval(p[5]) < 0 ||
				    hex4(p + 2) < 0xdc00 || hex4(p + 2) > 0xdfff))
					return -1;
			} else if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1]) {
				p += 2;
			} else
				return -1;
		} else {
			size_t n = utf8_len(p, end);

			if (n == 0)
				return -1;
			p += n;
		}
	}
	out->len = (size_t)(p - out->p);
	s->p = p + 1;
	return 0;
}

static int
digits(struct scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start ? 0 : -1;
}

static int
scan_number(struct scan *s, struct span *out)
{
	out->kind = NUMBER;
	out->p = s->p;
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) < 0)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (digits(s) < 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) < 0)
			return -1;
	}
	out->len = (size_t)(s->p - out->p);
	return 0;
}

static int
scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

/* Append code point 'c' as UTF-8; returns the bytes written. */
static size_t
put_utf8(unsigned char *o, unsigned long c)
{
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xc0 | c >> 6);
		o[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xe0 | c >> 12);
		o[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | c >> 18);
	o[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Decode the inside of a scanned string into 'out' (room for 'cap'
 * bytes, no NUL added); sets *len to the bytes written and returns 0, or
 * -1 when the rest did not fit. A lone low surrogate escape becomes
 * U+FFFD, as libjq makes it (a lone high one was refused by the scan).
 */
static int
decode(const struct span *sp, unsigned char *out, size_t cap, size_t *len)
{
	const unsigned char *p = sp->p, *end = sp->p + sp->len;
	unsigned char tmp[4];
	size_t n = 0, k;

	while (p < end) {
		if (*p != '\\') {
			tmp[0] = *p++;
			k = 1;
		} else if (p[1] != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			tmp[0] = (unsigned char)to[strchr(from, p[1]) - from];
			k = 1;
			p += 2;
		} else {
			unsigned long c = hex4(p + 2);

			p += 6;
			if (c >= 0xd800 && c <= 0xdbff && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' && hex4(p + 2) >= 0xdc00 &&
			    hex4(p + 2) <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (hex4(p + 2) - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c <= 0xdfff)
				c = 0xfffd;
			k = put_utf8(tmp, c);
		}
		if (n + k > cap) {
			*len = n;
			return -1;
		}
		memcpy(out + n, tmp, k);
		n += k;
	}
	*len = n;
	return 0;
}

/*
 * Where the value of the key just scanned goes: the context it is read in
 * (returned) and, for a wanted value, its slot in 's' (*slot, else NULL).
 */
static enum ctx
key_ctx(struct scan *s, enum ctx parent, const struct span *key,
    struct span **slot)
{
	unsigned char buf[16];
	const unsigned char *k = key->p;
	size_t n = key->len;

	*slot = NULL;
	if (memchr(key->p, '\\', key->len) != NULL) {
		if (decode(key, buf, sizeof buf, &n) < 0)
			return CTX_NONE;
		k = buf;
	}
#define KEY(word) (n == sizeof(word) - 1 && memcmp(k, word, n) == 0)
	if (parent == CTX_ROOT && KEY("issue"))
		return CTX_ISSUE;
	if (parent == CTX_ROOT && KEY("repository"))
		return CTX_REPO;
	if (parent == CTX_ROOT && KEY("action"))
		*slot = &s->action;
	else if (parent == CTX_ISSUE && KEY("number"))
		*slot = &s->number;
	else if (parent == CTX_REPO && KEY("full_name"))
		*slot = &s->full_name;
#undef KEY
	return CTX_NONE;
}

static int scan_value(struct scan *s, enum ctx ctx, struct span *val);

static int
scan_object(struct scan *s, enum ctx ctx)
{
	struct span key, val, *slot;
	enum ctx inner;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (s->p >= s->end || *s->p != '"' || scan_string(s, &key) < 0)
			return -1;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		skip_ws(s);
		inner = key_ctx(s, ctx, &key, &slot);
		/* The last duplicate wins: a new "issue" forgets the old. */
		if (inner == CTX_ISSUE)
			s->number.kind = ABSENT;
		if (inner == CTX_REPO)
			s->full_name.kind = ABSENT;
		if (scan_value(s, inner, &val) < 0)
			return -1;
		if (slot != NULL)
			*slot = val;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return -1;
	}
}

static int
scan_array(struct scan *s)
{
	struct span val;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (scan_value(s, CTX_NONE, &val) < 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return -1;
	}
}

/* One value at s->p; 'val' tells its kind (and where a string or number is). */
static int
scan_value(struct scan *s, enum ctx ctx, struct span *val)
{
	int rc;

	val->kind = OTHER;
	if (s->p >= s->end)
		return -1;
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > SCAN_DEPTH_MAX)
			return -1;
		rc = *s->p == '{' ? scan_object(s, ctx) : scan_array(s);
		s->depth--;
		return rc;
	case '"':
		return scan_string(s, val);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s, val);
		return -1;
	}
}

/* The value of a scanned number token, as libjq would read it. */
static double
number_value(const struct span *sp)
{
	char small[64], *buf = small;
	double d;

	if (sp->len >= sizeof small && (buf = malloc(sp->len + 1)) == NULL)
		return NAN;
	memcpy(buf, sp->p, sp->len);
	buf[sp->len] = '\0';
	d = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return d;
}

/* Does the scanned string 'sp' equal 'want', ignoring ASCII case? */
static int
same_name(const struct span *sp, const char *want)
{
	unsigned char got[512];
	size_t n;

	if (decode(sp, got, sizeof got, &n) < 0 || n != strlen(want))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower(got[i]) != tolower((unsigned char)want[i]))
			return 0;
	return 1;
}

/* Read the JSON body of an issue event into 'd'. */
static void
decide_issue(const struct wb_hook_config *cfg, const struct wb_hook_request *req,
    struct wb_hook_decision *d)
{
	struct scan s = { .p = (const unsigned char *)req->body,
	    .end = (const unsigned char *)req->body + req->len };
	struct span root;
	const char *why;
	long n;
	jv num;

	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{' || scan_value(&s, CTX_ROOT, &root) < 0 ||
	    (skip_ws(&s), s.p != s.end)) {
		answer(d, 400, "body is not a JSON object");
		return;
	}
	if (s.action.kind == STRING) {
		unsigned char a[sizeof d->action];
		size_t al;

		/* Decoding stops past what the log keeps; sanitise marks the cut. */
		if (decode(&s.action, a, sizeof a, &al) < 0)
			while (al < sizeof a)
				a[al++] = '?';
		wb_webhook_sanitise(d->action, sizeof d->action, (char *)a, al);
	}
	if (s.full_name.kind != STRING) {
		answer(d, 400, "no repository.full_name");
		return;
	}
	if (!same_name(&s.full_name, cfg->repo)) {
		d->quiet = 1;
		answer(d, 202, "other repository, ignored");
		return;
	}
	if (s.number.kind == ABSENT) {
		answer(d, 400, "no issue.number");
		return;
	}
	if (s.number.kind != NUMBER) {
		answer(d, 400, "issue.number is not a number");
		return;
	}
	num = jv_number(number_value(&s.number));
	if (wb_number_from_jv(num, &n, &why) < 0) {
		jv_free(num);
		answer(d, 400, "issue.number is not an integer in 1..2147483647");
		return;
	}
	jv_free(num);
	d->number = n;
	d->enqueue = 1;
	answer(d, 202, "queued");
}

void
wb_webhook_decide(const struct wb_hook_config *cfg,
    const struct wb_hook_request *req, struct wb_hook_decision *d)
{
	if (wb_webhook_headers(cfg, req, d) != 0)
		return;
	if (req->len > WB_HOOK_BODY_MAX) {
		answer(d, 413, "body over 25 MB");
		return;
	}
	if (cfg->secret != NULL && !signature_ok(cfg, req)) {
		answer(d, 401, "signature mismatch");
		return;
	}
	if (req->event == NULL) {
		answer(d, 400, "no X-GitHub-Event");
		return;
	}
	if (strcmp(req->event, "ping") == 0) {
		answer(d, 200, "ping");
		return;
	}
	if (strcmp(req->event, "issues") != 0 &&
	    strcmp(req->event, "issue_comment") != 0) {
		d->quiet = 1;
		answer(d, 202, "other event, ignored");
		return;
	}
	decide_issue(cfg, req, d);
}
