/* SPDX-License-Identifier: MPL-2.0 */
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
#include "wb_jscan_internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct scan {
	const unsigned char *base, *p, *end;
	int depth;
	int ws;			/* whitespace seen since it was last cleared */
	const char *err;	/* static reason, set at the first error */
	size_t err_at;
	/* wb_jscan_paths: the paths wanted, split, and where their values are */
	const struct path *paths;
	struct wb_jscan_value *vals;
};

/* A wanted member path, split at its dots. */
struct path {
	const char *comp[WB_JSCAN_PATH_DEPTH];
	size_t complen[WB_JSCAN_PATH_DEPTH];
	int ncomp;
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

/* A hex digit's value plus one, 0 for other bytes: \u is on a hot path. */
static const unsigned char hexv1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

/* The code unit of the four hex digits at p, or -1 if one is not hex. */
static inline long
hex4(const unsigned char *p)
{
	int a = hexv1[p[0]] - 1, b = hexv1[p[1]] - 1, c = hexv1[p[2]] - 1,
	    d = hexv1[p[3]] - 1;

	if ((a | b | c | d) < 0)
		return -1;
	return (long)a << 12 | b << 8 | c << 4 | d;
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
			case 'u': {
				long c = s->end - p < 6 ? -1 : hex4(p + 2), lo;

				if (c < 0) {
					s->p = p;
					return fail(s, "bad \\u escape");
				}
				/* Only whole surrogate pairs (see wb_jscan.h). */
				if ((c & 0xF800) == 0xD800) {
					lo = c >= 0xDC00 || s->end - p < 12 ||
					    p[6] != '\\' || p[7] != 'u' ? -1 :
					    hex4(p + 8);
					if ((lo & ~0x3FFL) != 0xDC00) {
						s->p = p;
						return fail(s,
						    "lone UTF-16 surrogate escape");
					}
					p += 6;
				}
				p += 6;
				break;
			}
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
static int object_paths(struct scan *s, unsigned want, int level);
static int key_eq(const unsigned char *k, size_t n, int escaped,
    const char *want, size_t wl);

/*
 * jq 1.6's depth rule: a '[' or '{' is refused when the open arrays plus
 * twice the open objects (an object and its pending key) reach 256.
 */
static inline int
deeper(struct scan *s, int by)
{
	if (s->depth >= WB_JSCAN_MAX_DEPTH)
		return fail(s, "nested too deeply");
	s->depth += by;
	return 0;
}

/*
 * The wanted paths of 'want' (a bit per path, at component 'level') that
 * the key k[0..n) (raw, quotes excluded) continues.
 */
static unsigned
match_key(const struct scan *s, unsigned want, int level,
    const unsigned char *k, size_t n, int escaped)
{
	unsigned got = 0;

	for (unsigned i = 0; want >> i != 0; i++)
		if (want >> i & 1 && key_eq(k, n, escaped,
		    s->paths[i].comp[level], s->paths[i].complen[level]))
			got |= 1u << i;
	return got;
}

/* Record the value just scanned from 'v' for every path of 'leaves'. */
static void
keep(struct scan *s, unsigned leaves, const unsigned char *v)
{
	struct wb_jscan_value val;

	val.off = (size_t)(v - s->base);
	val.len = (size_t)(s->p - v);
	if (*v == '"') {
		val.kind = WB_JSCAN_STRING;
		val.off++;
		val.len -= 2;
	} else if (*v == '-' || (*v >= '0' && *v <= '9'))
		val.kind = WB_JSCAN_NUMBER;
	else
		val.kind = WB_JSCAN_OTHER;
	for (unsigned i = 0; leaves >> i != 0; i++)
		if (leaves >> i & 1)
			s->vals[i] = val;
}

/*
 * An object, s->p at '{'. When 'flags' is not NULL this is a document's
 * top level: note an empty object and keys that need the slow path.
 * When 'track' (a constant: this body is compiled twice, the plain
 * object() that wb-bulk runs paying nothing for paths) 'want' holds the
 * wanted paths that lead into this object, whose keys are their
 * component 'level'.
 */
static inline __attribute__((always_inline)) int
object_body(struct scan *s, unsigned *flags, unsigned want, int level,
    const int track)
{
	int first = 1;

	if (deeper(s, 2) < 0)
		return -1;
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		s->depth -= 2;
		if (flags != NULL)
			*flags |= WB_JSCAN_EMPTY;
		return 0;
	}
	for (;;) {
		const unsigned char *key, *v;
		unsigned inner = 0, leaves = 0;
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
		if (track && (inner = match_key(s, want, level, key,
		    (size_t)(s->p - 1 - key), escaped)) != 0) {
			/* The last of duplicate keys wins, whole: a new
			 * "issue" forgets what the one before held. */
			for (unsigned i = 0; inner >> i != 0; i++)
				if (inner >> i & 1) {
					s->vals[i].kind = WB_JSCAN_ABSENT;
					if (s->paths[i].ncomp == level + 1)
						leaves |= 1u << i;
				}
			inner &= ~leaves;
		}
		skip_ws(s);
		if (s->p >= s->end)
			return fail(s, "unexpected end of input");
		if (*s->p != ':')
			return fail(s, "expected ':'");
		s->p++;
		skip_ws(s);
		v = s->p;
		if (track && inner != 0 && v < s->end && *v == '{') {
			if (object_paths(s, inner, level + 1) < 0)
				return -1;
		} else if (value(s, NULL) < 0)
			return -1;
		if (track && leaves != 0)
			keep(s, leaves, v);
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			s->depth -= 2;
			return 0;
		}
		return fail(s, s->p >= s->end ? "unexpected end of input" :
		    "expected ',' or '}'");
	}
}

static int
object(struct scan *s, unsigned *flags)
{
	return object_body(s, flags, 0, 0, 0);
}

static int
object_paths(struct scan *s, unsigned want, int level)
{
	return object_body(s, NULL, want, level, 1);
}

static int
array(struct scan *s)
{
	if (deeper(s, 1) < 0)
		return -1;
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
	s.depth = 1;	/* the array */
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

size_t
wb_jscan_put_utf8(unsigned char *o, unsigned long c)
{
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xC0 | c >> 6);
		o[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xE0 | c >> 12);
		o[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | c >> 18);
	o[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (c & 0x3F));
	return 4;
}

unsigned long
wb_jscan_escape(const unsigned char **p)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const unsigned char *e = *p;
	unsigned long c;

	if (e[1] != 'u') {
		*p = e + 2;
		return (unsigned char)to[strchr(from, e[1]) - from];
	}
	c = (unsigned long)hex4(e + 2);
	*p = e + 6;
	if (c >= 0xD800 && c <= 0xDBFF) {	/* a pair: scanned */
		c = 0x10000 + ((c - 0xD800) << 10) +
		    ((unsigned long)hex4(e + 8) - 0xDC00);
		*p = e + 12;
	}
	return c;
}

int
wb_jscan_unescape(const char *raw, size_t len, char *out, size_t cap,
    size_t *n)
{
	const unsigned char *p = (const unsigned char *)raw, *end = p + len;
	unsigned char tmp[4];
	size_t o = 0, k;

	while (p < end) {
		if (*p != '\\') {
			tmp[0] = *p++;
			k = 1;
		} else
			k = wb_jscan_put_utf8(tmp, wb_jscan_escape(&p));
		if (o + k > cap) {
			*n = o;
			return -1;
		}
		memcpy(out + o, tmp, k);
		o += k;
	}
	*n = o;
	return 0;
}

/* Whether the raw key k[0..n) (quotes excluded) unescapes to want[0..wl). */
static int
key_eq(const unsigned char *k, size_t n, int escaped, const char *want,
    size_t wl)
{
	char buf[WB_JSCAN_KEY_MAX];
	size_t got;

	if (!escaped)
		return n == wl && memcmp(k, want, wl) == 0;
	if (n < wl)	/* an escape is longer than what it stands for */
		return 0;
	return wb_jscan_unescape((const char *)k, n, buf, wl, &got) == 0 &&
	    got == wl && memcmp(buf, want, wl) == 0;
}

int
wb_jscan_paths(const char *text, size_t len, const char *const *paths,
    size_t npaths, struct wb_jscan_value *vals, char *why, size_t whylen)
{
	struct path split[WB_JSCAN_PATHS_MAX];
	struct scan s;

	if (npaths > WB_JSCAN_PATHS_MAX) {
		snprintf(why, whylen, "too many paths");
		return -1;
	}
	for (size_t i = 0; i < npaths; i++) {
		const char *c = paths[i], *dot;

		vals[i].kind = WB_JSCAN_ABSENT;
		vals[i].off = vals[i].len = 0;
		split[i].ncomp = 0;
		do {
			dot = strchr(c, '.');
			if (split[i].ncomp == WB_JSCAN_PATH_DEPTH) {
				snprintf(why, whylen, "path too deep: %s",
				    paths[i]);
				return -1;
			}
			split[i].comp[split[i].ncomp] = c;
			split[i].complen[split[i].ncomp] = dot != NULL ?
			    (size_t)(dot - c) : strlen(c);
			if (split[i].complen[split[i].ncomp] >=
			    WB_JSCAN_KEY_MAX) {
				snprintf(why, whylen, "path key too long: %s",
				    paths[i]);
				return -1;
			}
			split[i].ncomp++;
			if (dot != NULL)
				c = dot + 1;
		} while (dot != NULL);
	}
	init(&s, text, len);
	s.paths = split;
	s.vals = vals;
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		fail(&s, s.p >= s.end ? "empty" : "not a JSON object");
		return report(&s, why, whylen);
	}
	if (object_paths(&s, npaths == 0 ? 0 :
	    ~0u >> (sizeof(unsigned) * 8 - npaths), 0) < 0)
		return report(&s, why, whylen);
	skip_ws(&s);
	if (s.p != s.end) {
		fail(&s, "trailing data after the object");
		return report(&s, why, whylen);
	}
	return 0;
}

size_t
wb_jscan_without_keys(char *dst, const char *src, size_t len,
    const char *const *keys, size_t nkeys, int *empty)
{
	size_t kl[WB_JSCAN_PATHS_MAX];
	struct scan s;
	size_t o = 0;

	for (size_t i = 0; i < nkeys && i < WB_JSCAN_PATHS_MAX; i++)
		kl[i] = strlen(keys[i]);
	init(&s, src, len);
	skip_ws(&s);
	s.p++;
	dst[o++] = '{';
	*empty = 1;
	for (;;) {
		const unsigned char *start, *k;
		int escaped, drop = 0;

		skip_ws(&s);
		if (*s.p == '}')
			break;
		start = s.p;
		k = s.p + 1;
		escaped = 0;
		string(&s, &escaped);
		for (size_t i = 0; i < nkeys && i < WB_JSCAN_PATHS_MAX && !drop;
		    i++)
			drop = key_eq(k, (size_t)(s.p - 1 - k), escaped, keys[i],
			    kl[i]);
		skip_ws(&s);
		s.p++;
		skip_ws(&s);
		value(&s, NULL);
		if (!drop) {
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
