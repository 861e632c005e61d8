/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a timeline kept as JSON text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_timeline.h"
#include "wb_xalloc.h"

void
wb_timeline_init(struct wb_timeline *t)
{
	memset(t, 0, sizeof *t);
}

void
wb_timeline_free(struct wb_timeline *t)
{
	for (size_t i = 0; i < t->ntexts; i++)
		free(t->texts[i]);
	for (size_t i = 0; i < t->npieces; i++)
		free(t->pieces[i].v);
	free(t->texts);
	free(t->pieces);
	wb_timeline_init(t);
}

/* Take 'text' (malloc'd; freed by wb_timeline_free) into the timeline. */
static void
wb_timeline_keep(struct wb_timeline *t, char *text)
{
	t->texts = wb_xgrow(t->texts, t->ntexts, &t->textcap,
	    sizeof *t->texts);
	t->texts[t->ntexts++] = text;
}

const char *
wb_timeline_take(struct wb_timeline *t, char *text, size_t len,
    struct wb_jscan_spans *spans, char *why, size_t whylen)
{
	jv v, printed;
	char *copy;
	size_t at, n;

	wb_timeline_keep(t, text);
	if (wb_jscan_array(text, len, spans, why, whylen) == 0 &&
	    wb_jscan_unique_keys(text, len, &at) == 0)
		return text;
	/* Read and printed by libjq, as every timeline was before. */
	v = len <= INT32_MAX ? jv_parse_sized(text, (int)len) : jv_invalid();
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		if (why[0] == '\0')
			snprintf(why, whylen, "not a list");
		return NULL;
	}
	printed = jv_dump_string(v, 0);
	n = (size_t)jv_string_length_bytes(jv_copy(printed));
	copy = wb_xmalloc(n + 1);
	memcpy(copy, jv_string_value(printed), n + 1);
	jv_free(printed);
	wb_timeline_keep(t, copy);
	if (wb_jscan_array(copy, n, spans, why, whylen) < 0)
		return NULL;	/* events that are not objects */
	return copy;
}

void
wb_timeline_add(struct wb_timeline *t, const char *text,
    const struct wb_jscan_span *spans, size_t n)
{
	struct wb_timeline_piece *pc;

	if (n == 0)
		return;
	t->pieces = wb_xgrow(t->pieces, t->npieces, &t->piececap,
	    sizeof *t->pieces);
	pc = &t->pieces[t->npieces++];
	pc->text = text;
	pc->n = n;
	pc->v = wb_xmalloc(n * sizeof *pc->v);
	memcpy(pc->v, spans, n * sizeof *pc->v);
	t->events += n;
}

jv
wb_timeline_to_jv(const struct wb_timeline *t)
{
	jv a = jv_array();

	for (size_t i = 0; i < t->npieces; i++)
		for (size_t k = 0; k < t->pieces[i].n; k++) {
			const struct wb_jscan_span *s = &t->pieces[i].v[k];

			a = jv_array_append(a, jv_parse_sized(t->pieces[i].text +
			    s->off, (int)s->len));
		}
	return a;
}

int
wb_timeline_print(const struct wb_timeline *t, wb_timeline_sink *put,
    void *arg)
{
	int first = 1;

	if (put(arg, "[", 1) < 0)
		return -1;
	for (size_t i = 0; i < t->npieces; i++)
		for (size_t k = 0; k < t->pieces[i].n; k++) {
			const struct wb_jscan_span *s = &t->pieces[i].v[k];

			if ((!first && put(arg, ",", 1) < 0) ||
			    wb_jscan_canonical(t->pieces[i].text + s->off,
			    s->len, put, arg) < 0)
				return -1;
			first = 0;
		}
	return put(arg, "]", 1);
}
