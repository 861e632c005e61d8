/* wb — a validating JSON scanner that finds values without building them.
 *
 * wb-bulk turns archive files into bulk bodies by copying bytes, not by
 * parsing every event into a tree and printing it again. This file is what
 * makes that safe: it checks the whole text against RFC 8259 (strings with
 * their escapes and UTF-8, numbers, literals, nesting) and reports where
 * each top-level element starts and ends, so that a corrupt file is refused
 * before any of it is copied.
 */
#ifndef WB_JSCAN_H
#define WB_JSCAN_H

#include <stddef.h>

#define WB_JSCAN_MAX_DEPTH 256	/* deeper nesting is refused, as jq does */

/* What the scanner learnt about one object. */
enum {
	WB_JSCAN_WS = 1,	/* holds whitespace between tokens: copy compacted */
	WB_JSCAN_EMPTY = 2,	/* "{}": no member */
	WB_JSCAN_ODDKEY = 4	/* a top-level key is "bug_number" or has an escape */
};

struct wb_jscan_span {
	size_t off, len;	/* from its '{' to its '}', both included */
	unsigned flags;
};

struct wb_jscan_spans {
	struct wb_jscan_span *v;
	size_t n, cap;
};

/*
 * Check that the 'len' bytes at 'text' are one JSON object, with only
 * whitespace around it, and describe it in *span. Returns 0, or -1 with a
 * reason naming the byte offset in why[whylen].
 */
int wb_jscan_object(const char *text, size_t len, struct wb_jscan_span *span,
    char *why, size_t whylen);

/*
 * Check that the 'len' bytes at 'text' are one JSON array whose elements
 * are all objects, and set out->v[0..out->n) to their spans (the array is
 * grown as needed and reused across calls; free it with
 * wb_jscan_spans_free). Returns 0, or -1 with a reason in why[whylen];
 * out->n is then meaningless.
 */
int wb_jscan_array(const char *text, size_t len, struct wb_jscan_spans *out,
    char *why, size_t whylen);

void wb_jscan_spans_free(struct wb_jscan_spans *s);

/*
 * Copy the valid JSON text src[0..len) to dst without the whitespace
 * between tokens; dst needs room for 'len' bytes. Returns the bytes
 * written. Whitespace inside strings is kept, of course.
 */
size_t wb_jscan_compact(char *dst, const char *src, size_t len);

/*
 * Copy the valid JSON object src[0..len) to dst, compacted, without its
 * top-level members whose key, once unescaped, is 'key' (ASCII). dst
 * needs room for 'len' bytes. Sets *empty when no member is left; returns
 * the bytes written.
 */
size_t wb_jscan_without_key(char *dst, const char *src, size_t len,
    const char *key, int *empty);

#endif
