/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the record reader: lines of standard input, then records. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_err.h"
#include "wb_pipe.h"
#include "wb_reader.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#define READ_CHUNK (64UL << 10)

size_t
wb_reader_max_line_or_die(void)
{
	const char *cap = getenv("WB_MAX_LINE");
	unsigned long long v;
	char why[32];

	if (cap == NULL || *cap == '\0')
		return WB_MAX_LINE_DEFAULT;
	if (wb_scan_uint(cap, strlen(cap), 1, 1UL << 30, &v, why,
	    sizeof why) < 0)
		wb_die(WB_EXIT_USAGE, "WB_MAX_LINE is %s: %s", why, cap);
	return (size_t)v;
}

void
wb_reader_init_or_die(struct wb_reader *r, int fd)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->max_line = wb_reader_max_line_or_die();
	r->cap = READ_CHUNK + 1;
	r->buf = wb_xmalloc(r->cap);
}

void
wb_reader_free(struct wb_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/*
 * Wait up to 'ms' (< 0: no limit) for input: 1 when there is some (or
 * EOF), 0 when the time is up. A stage blocked on its input while its
 * reader dies exits at once.
 */
static int
wait_input_or_die(const struct wb_reader *r, int ms)
{
	int got = wb_pipe_wait(r->fd, POLLIN, ms);

	if (got < 0)
		wb_pipe_die();
	return got;
}

/* Read more input after the unread bytes; returns bytes read, 0 at EOF. */
static size_t
fill_or_die(struct wb_reader *r)
{
	ssize_t n;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->scan -= r->off;
		r->off = 0;
	}
	if (r->cap - r->len < READ_CHUNK + 1) {
		size_t want = r->len + READ_CHUNK + 1;

		if (want < r->cap * 2)
			want = r->cap * 2;
		r->buf = wb_xrealloc(r->buf, want);
		r->cap = want;
	}
	if (r->idle_fn != NULL && wait_input_or_die(r, r->idle_ms) == 0)
		r->idle_fn(r->idle_arg);
	/* Flush before blocking: the next stage must not wait on us. */
	fflush(stdout);
	wait_input_or_die(r, -1);
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to read standard input");
	r->len += (size_t)n;
	return (size_t)n;
}

int
wb_reader_line_or_die(struct wb_reader *r, char **line, size_t *len)
{
	int skipping = 0;

	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
		size_t n;

		if (nl == NULL && !r->eof) {
			if (r->len - r->off > r->max_line) {
				/* Too long: drop what we have, keep skipping. */
				if (!skipping) {
					wb_warn("line %lu: longer than %zu bytes, "
					    "skipped", r->lineno + 1, r->max_line);
					r->rejected++;
					skipping = 1;
				}
				r->off = r->scan = r->len;
			} else
				r->scan = r->len;
			if (fill_or_die(r) == 0)
				r->eof = 1;
			continue;
		}
		if (nl == NULL && r->off == r->len)
			return 0;
		n = (nl != NULL ? (size_t)(nl - r->buf) : r->len) - r->off;
		r->lineno++;
		if (skipping || n > r->max_line) {
			if (!skipping) {
				wb_warn("line %lu: longer than %zu bytes, skipped",
				    r->lineno, r->max_line);
				r->rejected++;
			}
			skipping = 0;
			r->off = r->scan = nl != NULL ? (size_t)(nl - r->buf) + 1 : r->len;
			continue;
		}
		*line = r->buf + r->off;
		(*line)[n] = '\0';	/* over the '\n', or in the spare byte */
		*len = n;
		r->off = r->scan = r->off + n + (nl != NULL);
		return 1;
	}
}

int
wb_reader_next_or_die(struct wb_reader *r, struct wb_record *rec)
{
	char why[256];
	char *line;
	size_t len;

	while (wb_reader_line_or_die(r, &line, &len)) {
		if (wb_record_parse(line, len, rec, why, sizeof why) == 0)
			return 1;
		wb_warn("line %lu: %s, skipped", r->lineno, why);
		r->rejected++;
	}
	return 0;
}

int
wb_reader_status(const struct wb_reader *r)
{
	if (r->rejected == 0)
		return WB_EXIT_OK;
	wb_warn("%lu input line%s rejected", r->rejected,
	    r->rejected == 1 ? " was" : "s were");
	return WB_EXIT_REJECTED;
}
