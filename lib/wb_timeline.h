/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a timeline kept as JSON text.
 *
 * The events of an issue's timeline, in order, as spans of the texts
 * they arrived in (the answers of GitHub, the archived timeline.json),
 * checked by wb_jscan and never parsed into values: a timeline of
 * thousands of events costs about its own size in memory, not the ten
 * times libjq's values take, and is written out as libjq would print it.
 */
#ifndef WB_TIMELINE_H
#define WB_TIMELINE_H

#include <stddef.h>

#include <jv.h>

#include "wb_jscan.h"

/* A run of events of one text. */
struct wb_timeline_piece {
	const char *text;		/* one of the timeline's texts */
	struct wb_jscan_span *v;	/* owned */
	size_t n;
};

struct wb_timeline {
	char **texts;			/* owned */
	size_t ntexts, textcap;
	struct wb_timeline_piece *pieces;
	size_t npieces, piececap;
	size_t events;
};

/* The sink of wb_timeline_print: returns 0, or -1 to stop. */
typedef int wb_timeline_sink(void *arg, const char *p, size_t n);

void wb_timeline_init(struct wb_timeline *t);
/* Release everything, texts included; *t is then empty, as after init. */
void wb_timeline_free(struct wb_timeline *t);

/*
 * Take the JSON text text[0..len) (malloc'd, NUL-terminated; kept and
 * freed by wb_timeline_free whatever happens) as a list of events, and
 * set *spans to its events. A text that is strict JSON without a key
 * twice in one object is used as it is; any other that libjq reads
 * (invalid UTF-8, a lone surrogate escape, "nan", duplicate keys) is used
 * as libjq prints it, as when timelines were parsed. Returns the text
 * the spans are in (kept), or NULL with a reason in why[whylen] when it
 * is not a list of objects.
 */
const char *wb_timeline_take(struct wb_timeline *t, char *text, size_t len,
    struct wb_jscan_spans *spans, char *why, size_t whylen);

/*
 * Append the events spans[0..n) of 'text' (a text kept, or one that
 * outlives the timeline) after those already there.
 */
void wb_timeline_add(struct wb_timeline *t, const char *text,
    const struct wb_jscan_span *spans, size_t n);

/*
 * The events as a JSON array of values, parsed one by one, for the few
 * issues that need them.
 */
jv wb_timeline_to_jv(const struct wb_timeline *t);

/*
 * Write the timeline as one JSON array, as libjq prints it
 * (wb_jscan_canonical), through put(arg, bytes, n). Returns 0, or -1 as
 * soon as put does.
 */
int wb_timeline_print(const struct wb_timeline *t, wb_timeline_sink *put,
    void *arg);

#endif
