/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the ETags of one issue: in memory, in a record, in an etags file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_etags.h"
#include "wb_xalloc.h"

#define ETAGS_FILE_MAX (1UL << 20)	/* bytes of an etags file read */

int
wb_etags_ok(const char *etag)
{
	size_t n = strlen(etag);

	if (n == 0 || n >= WB_ETAG_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (etag[i] < 0x21 || etag[i] > 0x7e)
			return 0;
	return 1;
}

void
wb_etags_init(struct wb_etags *e)
{
	memset(e, 0, sizeof *e);
}

void
wb_etags_free(struct wb_etags *e)
{
	free(e->page);
	wb_etags_init(e);
}

int
wb_etags_add(struct wb_etags *e, const char *etag, int count)
{
	if (e->npages >= WB_ETAGS_MAX_PAGES || count < 0 ||
	    count > WB_ETAGS_PER_PAGE || !wb_etags_ok(etag))
		return -1;
	e->page = wb_xgrow(e->page, e->npages, &e->cap, sizeof *e->page);
	snprintf(e->page[e->npages].etag, WB_ETAG_MAX, "%s", etag);
	e->page[e->npages].count = count;
	e->npages++;
	return 0;
}

jv
wb_etags_to_jv(const struct wb_etags *e)
{
	jv pages = jv_array();

	for (size_t i = 0; i < e->npages; i++)
		pages = jv_array_append(pages, JV_ARRAY(
		    jv_string(e->page[i].etag), jv_number(e->page[i].count)));
	return JV_OBJECT(jv_string("issue"), e->issue[0] ? jv_string(e->issue) :
	    jv_null(), jv_string("timeline"), pages);
}

int
wb_etags_from_jv(jv v, struct wb_etags *e)
{
	jv issue, pages;
	int n, ok = 0;

	wb_etags_init(e);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return -1;
	issue = jv_object_get(jv_copy(v), jv_string("issue"));
	pages = jv_object_get(jv_copy(v), jv_string("timeline"));
	if (jv_get_kind(issue) == JV_KIND_STRING &&
	    wb_etags_ok(jv_string_value(issue)))
		snprintf(e->issue, sizeof e->issue, "%s",
		    jv_string_value(issue));
	else if (jv_get_kind(issue) != JV_KIND_NULL &&
	    jv_get_kind(issue) != JV_KIND_INVALID)
		goto out;
	if (jv_get_kind(pages) != JV_KIND_ARRAY)
		goto out;
	n = jv_array_length(jv_copy(pages));
	for (int i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(pages), i);
		jv etag = jv_array_get(jv_copy(p), 0), count = jv_array_get(p, 1);
		double c = jv_get_kind(count) == JV_KIND_NUMBER ?
		    jv_number_value(count) : -1;
		/* In range before the cast: a huge count is no int. */
		int good = jv_get_kind(etag) == JV_KIND_STRING &&
		    c >= 0 && c <= WB_ETAGS_PER_PAGE && c == (int)c &&
		    wb_etags_add(e, jv_string_value(etag), (int)c) == 0;

		jv_free(etag);
		jv_free(count);
		if (!good)
			goto out;
	}
	ok = 1;
out:
	jv_free(issue);
	jv_free(pages);
	if (!ok)
		wb_etags_free(e);
	return ok ? 0 : -1;
}

char *
wb_etags_format(const struct wb_etags *e,
    const struct wb_etags_stamp stamp[2], size_t *len)
{
	char *buf = NULL;
	FILE *m;

	/* Built in memory that grows as needed: no length to get wrong. */
	if ((m = open_memstream(&buf, len)) == NULL)
		return NULL;
	fprintf(m, "wb-etags 1\nfiles %llu %llu %lld %lld %llu %llu %lld %lld\n",
	    stamp[0].ino, stamp[0].size, stamp[0].sec, stamp[0].nsec,
	    stamp[1].ino, stamp[1].size, stamp[1].sec, stamp[1].nsec);
	if (e->issue[0] != '\0')
		fprintf(m, "issue %s\n", e->issue);
	for (size_t i = 0; i < e->npages; i++)
		fprintf(m, "page %d %s\n", e->page[i].count, e->page[i].etag);
	if ((ferror(m) | fclose(m)) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The next line of 'f' into *line (without its newline). Returns 1, 0 at
 * the end, -1 for a line with a NUL byte, or past 'max' bytes in all.
 */
static int
next_line(FILE *f, char **line, size_t *cap, size_t *total, size_t max)
{
	ssize_t n = getline(line, cap, f);

	if (n < 0)
		return 0;
	if ((*total += (size_t)n) > max || strlen(*line) != (size_t)n)
		return -1;
	if (n > 0 && (*line)[n - 1] == '\n')
		(*line)[n - 1] = '\0';
	return 1;
}

/* One "issue ETAG" or "page COUNT ETAG" line into *e: 0, or -1. */
static int
parse_line(const char *line, struct wb_etags *e)
{
	char etag[WB_ETAG_MAX], again[WB_ETAG_MAX + 32];
	int count, n;

	if (strncmp(line, "issue ", 6) == 0 && e->npages == 0 &&
	    e->issue[0] == '\0' && wb_etags_ok(line + 6)) {
		snprintf(e->issue, sizeof e->issue, "%s", line + 6);
		return 0;
	}
	/* Only the canonical form: printed again, it must be the same. */
	if (sscanf(line, "page %d %255s", &count, etag) != 2)
		return -1;
	n = snprintf(again, sizeof again, "page %d %s", count, etag);
	if (n < 0 || (size_t)n >= sizeof again || strcmp(line, again) != 0)
		return -1;
	return wb_etags_add(e, etag, count);
}

int
wb_etags_parse(FILE *f, struct wb_etags *e, struct wb_etags_stamp stamp[2])
{
	char *line = NULL;
	size_t cap = 0, total = 0;
	int ok = 0, rc;

	wb_etags_init(e);
	if (next_line(f, &line, &cap, &total, ETAGS_FILE_MAX) != 1 ||
	    strcmp(line, "wb-etags 1") != 0)
		goto out;
	if (next_line(f, &line, &cap, &total, ETAGS_FILE_MAX) != 1 ||
	    sscanf(line, "files %llu %llu %lld %lld %llu %llu %lld %lld",
	    &stamp[0].ino, &stamp[0].size, &stamp[0].sec, &stamp[0].nsec,
	    &stamp[1].ino, &stamp[1].size, &stamp[1].sec,
	    &stamp[1].nsec) != 8)
		goto out;
	while ((rc = next_line(f, &line, &cap, &total, ETAGS_FILE_MAX)) == 1)
		if (parse_line(line, e) < 0)
			goto out;
	ok = rc == 0 && !ferror(f);
out:
	free(line);
	if (!ok)
		wb_etags_free(e);
	return ok ? 0 : -1;
}
