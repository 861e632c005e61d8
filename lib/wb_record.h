/* SPDX-License-Identifier: MPL-2.0 */
/* wb — NDJSON records: framing, validation, pass-through (SPEC.md, "Records").
 *
 * A record is one JSON object per line with an integer "number" in
 * 1..2^31-1; a line holding only such an integer stands for {"number":N}.
 * A bad line is reported on stderr with its line number and skipped, so
 * the stream resynchronises at the next newline.
 */
#ifndef WB_RECORD_H
#define WB_RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <jv.h>

struct wb_record {
	long number;
	jv value;	/* the object as read, or jv_null() for a bare integer */
};

/*
 * Parse one line into *rec. Returns 0, or -1 with a reason in 'why'
 * (which receives at most 'whylen' bytes).
 */
int wb_record_parse(const char *line, size_t len, struct wb_record *rec,
    char *why, size_t whylen);

/*
 * Check that 'v' (borrowed) is a JSON number holding an issue number.
 * Returns 0 and sets *out, or -1 with the reason in why[whylen].
 */
int wb_record_number(jv v, long *out, char *why, size_t whylen);

/* Field 'key' of the record: a new reference, or jv_invalid() if absent. */
jv wb_record_get(const struct wb_record *rec, const char *key);
/* Set field 'key' to 'value' (consumed). */
void wb_record_set(struct wb_record *rec, const char *key, jv value);
/* Remove field 'key' if present. */
void wb_record_del(struct wb_record *rec, const char *key);

/*
 * The "queue" and "claim" fields set by wb-dequeue, validated: a queue
 * name (see wb_scan_queue_name) and a token of 1..23 digits, copied into
 * queue[WB_QUEUE_NAME_MAX + 1] and claim[WB_CLAIM_MAX] (wb_queue.h).
 * Returns 1 when the record has both, 0 when it has neither, -1 with the
 * reason in why[whylen] when they are malformed.
 */
int wb_record_claim(const struct wb_record *rec, char *queue, char *claim,
    char *why, size_t whylen);
/* Release rec->value. */
void wb_record_free(struct wb_record *rec);

/*
 * Write the record as one compact line to 'f', every field passed through.
 * A write error exits 111. Does not flush: see wb_record_flush_or_die().
 */
void wb_record_put_or_die(FILE *f, const struct wb_record *rec);
/*
 * A value printed through a sink, put(arg, bytes, n), which returns 0 or
 * -1 (then stop and return -1); 'what' is the value.
 */
typedef int wb_record_printer(void *what,
    int (*put)(void *arg, const char *p, size_t n), void *arg);

/*
 * wb_record_put_or_die of 'rec' with one member more, "key" (plain
 * ASCII, not in the record), whose value print(what, ...) writes: for a
 * value too big to hold twice, such as a timeline kept as text. A write
 * error exits 111.
 */
void wb_record_put_with_or_die(FILE *f, const struct wb_record *rec,
    const char *key, wb_record_printer *print, void *what);
/*
 * The length of the line wb_record_put_with_or_die would write (key NULL:
 * that of wb_record_put_or_die) into *size, without its newline (what
 * WB_MAX_LINE bounds), counted without holding it. Returns 0, or -1 when 'print'
 * fails: then the line must not be written.
 */
int wb_record_size_with(const struct wb_record *rec, const char *key,
    wb_record_printer *print, void *what, size_t *size);

/* Flush 'f'; a write error exits 111. */
void wb_record_flush_or_die(FILE *f);

#endif
