/* wb — a validating JSON scanner that finds values without building them.
 *
 * A recursive descent over the bytes, depth-limited, with a fast path for
 * the long runs of plain ASCII inside strings (issue bodies and comments
 * are most of an archive): eight bytes at a time are tested for a quote, a
 * backslash, a control byte or a non-ASCII byte at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_jscan.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct scan {
	const unsigned char *base, *p, *end;
	int depth;
	int ws;			/* whitespace seen since it was last cleared */
	const char *err;	/* static reason, set at the first error */
	size_t err_at;
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static int
fail(struct scan *s, const char *why)
{
	if (s->err == NULL) {
		s->err = why;
		s->err_at = (size_t)(s->p - s->base);
	}
	return -1;
}

static inline void
skip_ws(struct scan *s)
{
	const unsigned char *p = s->p;

	if (p < s->end && *p > ' ')	/* the usual case: compact JSON */
		return;

	while (p < s->end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	if (p != s->p)
		s->ws = 1;
	s->p = p;
}

/* A word with any byte that needs a look: '"', '\\', < 0x20 or >= 0x80. */
static int
special8(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) |
	    ((x - ONES * 0x20) & ~x) | x) & HIGHS ? 1 : 0;
}

static int
hexdigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting with the byte >= 0x80 at s->p. */
static int
utf8(struct scan *s)
{
	const unsigned char *p = s->p;
	size_t left = (size_t)(s->end - p);
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;	/* no UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return fail(s, "invalid UTF-8");
	if (left <= n || p[1] < lo || p[1] > hi)
		return fail(s, "invalid UTF-8");
	for (size_t i = 2; i <= n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return fail(s, "invalid UTF-8");
	s->p = p + n + 1;
	return 0;
}

/* A string, s->p at its opening quote; sets *escaped if it holds one. */
static int
string(struct scan *s, int *escaped)
{
	const unsigned char *p = s->p + 1;

	for (;;) {
		uint64_t w;

#ifdef __SSE2__
		/*
		 * 16 bytes at a time: a signed compare with 0x20 catches control
		 * bytes and non-ASCII bytes (negative) at once.
		 */
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
		const __m128i space = _mm_set1_epi8(0x20);

		while (s->end - p >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
			    _mm_cmplt_epi8(x, space)));

			if (m != 0) {
				p += __builtin_ctz((unsigned)m);
				break;
			}
			p += 16;
		}
#endif
		while (s->end - p >= 8) {
			memcpy(&w, p, 8);
			if (special8(w))
				break;
			p += 8;
		}
		if (p >= s->end) {
			s->p = p;
			return fail(s, "unterminated string");
		}
		if (*p == '"') {
			s->p = p + 1;
			return 0;
		}
		if (*p == '\\') {
			*escaped = 1;
			if (s->end - p < 2) {
				s->p = p;
				return fail(s, "unterminated string");
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u':
				if (s->end - p < 6 || !hexdigit(p[2]) ||
				    !hexdigit(p[3]) || !hexdigit(p[4]) ||
				    !hexdigit(p[5])) {
					s->p = p;
					return fail(s, "bad \\u escape");
				}
				p += 6;
				break;
			default:
				s->p = p;
				return fail(s, "bad escape in a string");
			}
			continue;
		}
		if (*p < 0x20) {
			s->p = p;
			return fail(s, "control character in a string");
		}
		if (*p >= 0x80) {
			s->p = p;
			if (utf8(s) < 0)
				return -1;
			p = s->p;
			continue;
		}
		p++;
	}
}

static int
digits(struct scan *s)
{
	const unsigned char *p = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > p ? 0 : fail(s, "bad number");
}

static int
number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (s->p >= s->end || *s->p < '1' || *s->p > '9')
		return fail(s, "bad number");
	else
		digits(s);
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
	return 0;
}

static int
literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "not a JSON value");
	s->p += n;
	return 0;
}

static int value(struct scan *s, unsigned *flags);

/*
 * An object, s->p at '{'. When 'flags' is not NULL this is a document's
 * top level: note an empty object and keys that need the slow path.
 */
static int
object(struct scan *s, unsigned *flags)
{
	int first = 1;

	if (++s->depth > WB_JSCAN_MAX_DEPTH)
		return fail(s, "nested too deeply");
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		s->depth--;
		if (flags != NULL)
			*flags |= WB_JSCAN_EMPTY;
		return 0;
	}
	for (;;) {
		const unsigned char *key;
		int escaped = 0;

		if (!first)
			skip_ws(s);
		first = 0;
		if (s->p >= s->end)
			return fail(s, "unexpected end of input");
		if (*s->p != '"')
			return fail(s, "expected a string key");
		key = s->p + 1;
		if (string(s, &escaped) < 0)
			return -1;
		if (flags != NULL && (escaped || (s->p - 1 - key == 10 &&
		    memcmp(key, "bug_number", 10) == 0)))
			*flags |= WB_JSCAN_ODDKEY;
		skip_ws(s);
		if (s->p >= s->end)
			return fail(s, "unexpected end of input");
		if (*s->p != ':')
			return fail(s, "expected ':'");
		s->p++;
		skip_ws(s);
		if (value(s, NULL) < 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			s->depth--;
			return 0;
		}
		return fail(s, s->p >= s->end ? "unexpected end of input" :
		    "expected ',' or '}'");
	}
}

static int
array(struct scan *s)
{
	if (++s->depth > WB_JSCAN_MAX_DEPTH)
		return fail(s, "nested too deeply");
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;;) {
		skip_ws(s);
		if (value(s, NULL) < 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			s->depth--;
			return 0;
		}
		return fail(s, s->p >= s->end ? "unexpected end of input" :
		    "expected ',' or ']'");
	}
}

/* Any value at s->p (no leading whitespace). */
static int
value(struct scan *s, unsigned *flags)
{
	int escaped = 0;

	if (s->p >= s->end)
		return fail(s, "unexpected end of input");
	switch (*s->p) {
	case '{':
		return object(s, flags);
	case '[':
		return array(s);
	case '"':
		return string(s, &escaped);
	case 't':
		return literal(s, "true", 4);
	case 'f':
		return literal(s, "false", 5);
	case 'n':
		return literal(s, "null", 4);
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return fail(s, "not a JSON value");
	}
}

static void
init(struct scan *s, const char *text, size_t len)
{
	memset(s, 0, sizeof *s);
	s->base = s->p = (const unsigned char *)text;
	s->end = s->base + len;
}

static int
report(const struct scan *s, char *why, size_t whylen)
{
	snprintf(why, whylen, "%s at byte %zu", s->err, s->err_at);
	return -1;
}

/* One document object at s->p, described in *span. */
static int
document(struct scan *s, struct wb_jscan_span *span)
{
	span->off = (size_t)(s->p - s->base);
	span->flags = 0;
	s->ws = 0;
	if (object(s, &span->flags) < 0)
		return -1;
	span->len = (size_t)(s->p - s->base) - span->off;
	if (s->ws)
		span->flags |= WB_JSCAN_WS;
	return 0;
}

int
wb_jscan_object(const char *text, size_t len, struct wb_jscan_span *span,
    char *why, size_t whylen)
{
	struct scan s;

	init(&s, text, len);
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		fail(&s, s.p >= s.end ? "empty" : "not a JSON object");
		return report(&s, why, whylen);
	}
	if (document(&s, span) < 0)
		return report(&s, why, whylen);
	skip_ws(&s);
	if (s.p != s.end) {
		fail(&s, "trailing data after the object");
		return report(&s, why, whylen);
	}
	return 0;
}

static int
push(struct wb_jscan_spans *out, const struct wb_jscan_span *span)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 256;
		struct wb_jscan_span *v = realloc(out->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *span;
	return 0;
}

int
wb_jscan_array(const char *text, size_t len, struct wb_jscan_spans *out,
    char *why, size_t whylen)
{
	struct wb_jscan_span span;
	struct scan s;

	out->n = 0;
	init(&s, text, len);
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '[') {
		fail(&s, s.p >= s.end ? "empty" : "not a JSON array");
		return report(&s, why, whylen);
	}
	s.p++;
	s.depth = 1;
	skip_ws(&s);
	if (s.p < s.end && *s.p == ']')
		s.p++;
	else
		for (;;) {
			skip_ws(&s);
			if (s.p < s.end && *s.p != '{') {
				fail(&s, "an element is not an object");
				return report(&s, why, whylen);
			}
			if (s.p >= s.end) {
				fail(&s, "unexpected end of input");
				return report(&s, why, whylen);
			}
			if (document(&s, &span) < 0)
				return report(&s, why, whylen);
			if (push(out, &span) < 0) {
				snprintf(why, whylen, "out of memory");
				return -1;
			}
			skip_ws(&s);
			if (s.p < s.end && *s.p == ',') {
				s.p++;
				continue;
			}
			if (s.p < s.end && *s.p == ']') {
				s.p++;
				break;
			}
			fail(&s, s.p >= s.end ? "unexpected end of input" :
			    "expected ',' or ']'");
			return report(&s, why, whylen);
		}
	skip_ws(&s);
	if (s.p != s.end) {
		fail(&s, "trailing data after the array");
		return report(&s, why, whylen);
	}
	return 0;
}

void
wb_jscan_spans_free(struct wb_jscan_spans *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

size_t
wb_jscan_compact(char *dst, const char *src, size_t len)
{
	size_t i = 0, o = 0;
	int in_string = 0;

	while (i < len) {
		char c = src[i++];

		if (in_string) {
			dst[o++] = c;
			if (c == '\\')
				dst[o++] = src[i++];
			else if (c == '"')
				in_string = 0;
		} else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		else {
			dst[o++] = c;
			if (c == '"')
				in_string = 1;
		}
	}
	return o;
}

static int
hexval(unsigned char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Whether the raw string k[0..n) (quotes excluded) unescapes to 'want'. */
static int
key_is(const unsigned char *k, size_t n, const char *want)
{
	size_t i = 0, w = 0, wl = strlen(want);

	while (i < n) {
		unsigned c = k[i++];

		if (c == '\\') {
			c = k[i++];
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				c = (unsigned)(hexval(k[i]) << 12 | hexval(k[i + 1]) << 8 |
				    hexval(k[i + 2]) << 4 | hexval(k[i + 3]));
				i += 4;
				break;
			default: break;	/* '"', '\\', '/' */
			}
		}
		if (w >= wl || c != (unsigned char)want[w++])
			return 0;
	}
	return w == wl;
}

size_t
wb_jscan_without_key(char *dst, const char *src, size_t len, const char *key,
    int *empty)
{
	struct scan s;
	size_t o = 0;
	int escaped;

	init(&s, src, len);
	skip_ws(&s);
	s.p++;
	dst[o++] = '{';
	*empty = 1;
	for (;;) {
		const unsigned char *start, *k;

		skip_ws(&s);
		if (*s.p == '}')
			break;
		start = s.p;
		k = s.p + 1;
		string(&s, &escaped);
		if (key_is(k, (size_t)(s.p - 1 - k), key)) {
			skip_ws(&s);
			s.p++;
			skip_ws(&s);
			value(&s, NULL);
		} else {
			skip_ws(&s);
			s.p++;
			skip_ws(&s);
			value(&s, NULL);
			if (!*empty)
				dst[o++] = ',';
			*empty = 0;
			o += wb_jscan_compact(dst + o, (const char *)start,
			    (size_t)(s.p - start));
		}
		skip_ws(&s);
		if (*s.p == ',')
			s.p++;
	}
	dst[o++] = '}';
	return o;
}
