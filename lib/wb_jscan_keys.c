/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the duplicate-key check of the JSON scanner (wb_jscan.h).
 *
 * A second walk over a text the scanner accepted, for wb-write: the keys
 * of each object, unescaped where they hold an escape, are compared when
 * the object closes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wb_jscan.h"

/* A key of an object still open: its raw inside, and unescaped if need be. */
struct ukey {
	const unsigned char *p;	/* the key's bytes (p[0..n)) to compare */
	size_t n;
	size_t at;		/* offset of its opening quote in the text */
	unsigned char *plain;	/* owned: the unescaped copy p points to */
};

static int
ukey_cmp(const void *a, const void *b)
{
	const struct ukey *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

/*
 * Whether two of the k keys of one object are the same; *at then gets
 * the offset of the later one. Sorted when there are many: a hostile
 * object of millions of keys costs k log k, not k^2.
 */
static int
duplicate_in(struct ukey *keys, size_t k, size_t *at)
{
	if (k <= 8) {
		for (size_t i = 1; i < k; i++)
			for (size_t j = 0; j < i; j++)
				if (ukey_cmp(&keys[i], &keys[j]) == 0) {
					*at = keys[i].at;
					return 1;
				}
		return 0;
	}
	qsort(keys, k, sizeof *keys, ukey_cmp);
	for (size_t i = 1; i < k; i++)
		if (ukey_cmp(&keys[i], &keys[i - 1]) == 0) {
			*at = keys[i].at > keys[i - 1].at ? keys[i].at :
			    keys[i - 1].at;
			return 1;
		}
	return 0;
}

/*
 * Add the key whose inside is start[0..n) ('escaped': it holds an
 * escape) to keys[0..*nkeys) (*cap of them). Returns 0, or -1 with *at
 * set when out of memory.
 */
static int
add_key(struct ukey **keys, size_t *nkeys, size_t *cap,
    const unsigned char *base, const unsigned char *start, size_t n,
    int escaped, size_t *at)
{
	struct ukey *k;

	if (*nkeys == *cap) {
		size_t c = *cap ? *cap * 2 : 64;

		if ((k = realloc(*keys, c * sizeof *k)) == NULL) {
			*at = (size_t)(start - 1 - base);
			return -1;
		}
		*keys = k;
		*cap = c;
	}
	k = &(*keys)[(*nkeys)++];
	k->p = start;
	k->n = n;
	k->at = (size_t)(start - 1 - base);
	k->plain = NULL;
	if (!escaped)
		return 0;
	/* An escape is longer than what it stands for. */
	if ((k->plain = malloc(k->n + 1)) == NULL) {
		*at = k->at;
		return -1;
	}
	wb_jscan_unescape((const char *)start, k->n, (char *)k->plain, k->n,
	    &k->n);
	k->p = k->plain;
	return 0;
}

int
wb_jscan_unique_keys(const char *text, size_t len, size_t *at)
{
	const unsigned char *base = (const unsigned char *)text, *p = base;
	const unsigned char *end = p + len;
	size_t frame[WB_JSCAN_MAX_DEPTH + 1];	/* first key, or SIZE_MAX */
	struct ukey *keys = NULL;
	size_t nkeys = 0, cap = 0;
	int depth = 0, key_next = 0, rc = 0;

	while (p < end && rc == 0) {
		const unsigned char *q, *start;
		int esc = 0;

		switch (*p++) {
		case '{':
		case '[':
			if (depth > WB_JSCAN_MAX_DEPTH) {
				*at = (size_t)(p - 1 - base);
				rc = -1;
				break;
			}
			key_next = p[-1] == '{';
			frame[depth++] = key_next ? nkeys : SIZE_MAX;
			break;
		case '}':
		case ']':
			if (depth == 0 || (frame[depth - 1] == SIZE_MAX) !=
			    (p[-1] == ']')) {
				*at = (size_t)(p - 1 - base);
				rc = -1;
				break;
			}
			depth--;
			if (p[-1] == '}') {
				if (nkeys - frame[depth] > 1 &&
				    duplicate_in(keys + frame[depth],
				    nkeys - frame[depth], at))
					rc = -1;
				while (nkeys > frame[depth])
					free(keys[--nkeys].plain);
			}
			key_next = 0;
			break;
		case ',':
			key_next = depth > 0 && frame[depth - 1] != SIZE_MAX;
			break;
		case '"':	/* p is inside the string */
			for (q = p; q < end && *q != '"'; q++)
				if (*q == '\\') {
					esc = 1;
					q++;
				}
			if (q >= end) {
				*at = (size_t)(p - 1 - base);
				rc = -1;
				break;
			}
			start = p;
			p = q + 1;
			if (key_next) {
				key_next = 0;
				if (add_key(&keys, &nkeys, &cap, base, start,
				    (size_t)(q - start), esc, at) < 0)
					rc = -1;
			}
			break;
		}
	}
	while (nkeys > 0)
		free(keys[--nkeys].plain);
	free(keys);
	return rc;
}
