/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a validating JSON scanner that finds values without building them.
 *
 * The one JSON scanner of wb, for its hot paths, where libjq's parser
 * (about 110 us per 8 KB, jansson twice that) would be the cost:
 *   - wb-bulk turns archive files into bulk bodies by copying bytes, not by
 *     parsing every event into a tree and printing it again; the scanner
 *     checks the whole text and reports where each top-level element
 *     starts and ends, so that a corrupt file is refused before any of it
 *     is copied (wb_jscan_object, wb_jscan_array);
 *   - wb-hook checks a webhook body and reads three values from it
 *     (wb_jscan_paths, wb_jscan_unescape);
 *   - wb-write checks a record and copies its issue and timeline into the
 *     archive as libjq would print them (wb_jscan_paths,
 *     wb_jscan_without_keys, wb_jscan_canonical): parsing and printing
 *     them with libjq was three quarters of its time.
 *
 * What is accepted: RFC 8259's grammar (strings with their escapes and
 * strict UTF-8: no overlong forms, no encoded surrogates, nothing above
 * U+10FFFF; numbers; literals; whitespace), and of that exactly what both
 * consumers read the way the text says: libjq 1.6, whose reading the
 * webhook decision must equal (the fuzz target checks it), and Jackson,
 * Elasticsearch's parser, for the bulk documents. Where RFC 8259 leaves
 * room, two rules:
 *
 *   - Nesting: jq 1.6's own limit, exactly. A '[' or '{' is refused when
 *     the arrays open around it plus twice the objects open around it (jq
 *     keeps an object and its pending key on its stack) reach 256: 256
 *     nested arrays pass, 257 do not; 128 nested objects pass, 129 do not.
 *     Jackson takes up to 1,000 levels (its default), so this is the
 *     smaller of the two, and jq reads every text accepted here. (The two
 *     scanners before this one said 255 and 256 levels: both were wrong
 *     for objects.)
 *   - UTF-16 surrogate escapes: only a high one (\uD800-\uDBFF) directly
 *     followed by a low one (\uDC00-\uDFFF) is accepted; any lone
 *     surrogate escape is refused. jq 1.6 refuses a lone high one and
 *     silently turns a lone low one into U+FFFD, while Jackson keeps
 *     either as a lone UTF-16 unit in a Java string (which Lucene turns
 *     into U+FFFD only in the index, not in _source): the same text would
 *     mean different strings to the two, which is what RFC 8259 section 8.2
 *     calls unpredictable and I-JSON (RFC 7493) forbids. GitHub does not
 *     send them, and the archive is written by jq. This is the one place
 *     where the scanner refuses an RFC 8259 text jq accepts (jq also
 *     takes texts outside RFC 8259, which the scanner refuses: leading
 *     zeros, "nan", ".5", invalid UTF-8).
 *
 * Duplicate keys are accepted (RFC 8259 allows them); wb_jscan_paths
 * reads them as jq does: the last one wins, whole.
 *
 * The scanner is lib/wb_jscan.c; the duplicate-key check
 * (wb_jscan_unique_keys) is lib/wb_jscan_keys.c, and the printer that
 * prints a text as libjq does (wb_jscan_canonical) lib/wb_jscan_print.c.
 */
#ifndef WB_JSCAN_H
#define WB_JSCAN_H

#include <stddef.h>

/* The nesting limit: open arrays + 2 x open objects, as jq 1.6 counts. */
#define WB_JSCAN_MAX_DEPTH 256
#define WB_JSCAN_PATHS_MAX 8	/* paths one wb_jscan_paths call can want */
#define WB_JSCAN_PATH_DEPTH 4	/* keys in one path */
#define WB_JSCAN_KEY_MAX 64	/* bytes in one key of a path, and more */

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

/* The value found at a wanted path. */
enum wb_jscan_kind {
	WB_JSCAN_ABSENT,	/* no such member (or a parent is not an object) */
	WB_JSCAN_STRING,	/* off/len: its raw inside, quotes excluded */
	WB_JSCAN_NUMBER,	/* off/len: its token */
	WB_JSCAN_OTHER		/* an object, an array, true, false or null */
};

struct wb_jscan_value {
	enum wb_jscan_kind kind;
	size_t off, len;	/* in the text; off 0, len 0 when ABSENT */
};

/*
 * Check that the 'len' bytes at 'text' are one JSON object, with only
 * whitespace around it, and set vals[i] to the value at paths[i] for each
 * of the 'npaths' (at most WB_JSCAN_PATHS_MAX) member paths: keys joined
 * with dots, e.g. "issue.number" (at most WB_JSCAN_PATH_DEPTH keys, each
 * shorter than WB_JSCAN_KEY_MAX bytes, none holding a dot). Keys are
 * compared once unescaped; of duplicate keys the last wins, whole: in
 * {"issue":{"number":1},"issue":{}} "issue.number" is ABSENT, as jq reads
 * it. A string's raw inside is read with wb_jscan_unescape. Returns 0, or
 * -1 with a reason naming the byte offset in why[whylen] (vals are then
 * meaningless).
 */
int wb_jscan_paths(const char *text, size_t len, const char *const *paths,
    size_t npaths, struct wb_jscan_value *vals, char *why, size_t whylen);

/*
 * Decode the raw inside raw[0..len) of a string this scanner accepted
 * (escapes, surrogate pairs) into out[0..cap) as UTF-8, no NUL added.
 * Sets *n to the bytes written; returns 0, or -1 when the rest did not
 * fit (out then holds the first *n bytes of the decoded string, which
 * may end inside a UTF-8 sequence).
 */
int wb_jscan_unescape(const char *raw, size_t len, char *out, size_t cap,
    size_t *n);

/*
 * Copy the valid JSON text src[0..len) to dst without the whitespace
 * between tokens; dst needs room for 'len' bytes. Returns the bytes
 * written. Whitespace inside strings is kept, of course.
 */
size_t wb_jscan_compact(char *dst, const char *src, size_t len);

/*
 * Copy the valid JSON object src[0..len) to dst, compacted, without its
 * top-level members whose key, once unescaped, is one of keys[0..nkeys)
 * (at most WB_JSCAN_PATHS_MAX keys, each shorter than WB_JSCAN_KEY_MAX
 * bytes). dst needs room for 'len' bytes. Sets *empty when no member is
 * left; returns the bytes written.
 */
size_t wb_jscan_without_keys(char *dst, const char *src, size_t len,
    const char *const *keys, size_t nkeys, int *empty);

/*
 * Check that no object of the valid JSON text[0..len) (one the scanner
 * accepted) has two members whose keys, once unescaped, are the same.
 * Returns 0, or -1 with the offset of the later key's opening quote in
 * *at (or of where the text is not valid). Objects of many keys are
 * checked in k log k.
 */
int wb_jscan_unique_keys(const char *text, size_t len, size_t *at);

/*
 * Write the valid JSON text src[0..len) (one the scanner accepted) to
 * put(arg, bytes, n) exactly as libjq 1.6 prints (jv_dumpf, flags 0) the
 * value it reads from that text: no whitespace between tokens; strings
 * with jq's escapes (\" \\ \b \f \n \r \t, \u00XX in lower-case hex
 * for other control characters and DEL, everything else as UTF-8, so
 * "\u00e9" becomes "é" and "\/" "/"); numbers as jq prints them ("1.0"
 * becomes "1", "1E2" "100"). Made from the bytes, in one pass, without
 * building the value: copying jq's own output is copying it unchanged.
 * The one difference: duplicate keys are all kept, in order (jq keeps
 * the first one's place and the last one's value); wb_jscan_unique_keys
 * tells whether a text has any.
 * Returns 0, or -1 as soon as put returns -1 (errno is put's).
 */
int wb_jscan_canonical(const char *src, size_t len,
    int (*put)(void *arg, const char *p, size_t n), void *arg);

#endif
