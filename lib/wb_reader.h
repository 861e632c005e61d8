/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the record reader: lines of standard input, then records.
 *
 * A stage reads its input in large chunks and hands out one line (or one
 * valid record, wb_record.h) at a time; a line over the cap (WB_MAX_LINE)
 * is reported and skipped, and so is a line that is not a record. Before
 * it blocks on input the reader flushes stdout, so that a filter never
 * sits on output while it waits.
 */
#ifndef WB_READER_H
#define WB_READER_H

#include <stddef.h>
#include <stdio.h>

#include "wb_record.h"

#define WB_MAX_LINE_DEFAULT (64UL << 20)	/* 64 MiB; WB_MAX_LINE overrides */

struct wb_reader {
	int fd;
	char *buf;
	size_t cap, off, len;	/* unread bytes are buf[off..len) */
	size_t scan;		/* where to look for the next '\n' from */
	size_t max_line;
	unsigned long lineno;	/* number of the last line returned */
	unsigned long rejected;	/* lines reported and skipped */
	int eof;
	/*
	 * Called when input has paused for idle_ms (0: whenever a read would
	 * block), before the reader blocks: the place for a filter to send
	 * what it has batched. Set these after wb_reader_init_or_die().
	 */
	void (*idle_fn)(void *arg);
	void *idle_arg;
	int idle_ms;
};

/*
 * The longest line a tool reads: WB_MAX_LINE, or its default. A malformed
 * WB_MAX_LINE exits 100.
 */
size_t wb_reader_max_line_or_die(void);

/*
 * Start reading 'fd'. The line cap comes from WB_MAX_LINE, if set (a
 * malformed value exits 100); out of memory exits 111.
 */
void wb_reader_init_or_die(struct wb_reader *r, int fd);
void wb_reader_free(struct wb_reader *r);

/*
 * Next line, without its '\n', at *line (valid until the next call; a NUL
 * follows it). A line longer than the cap is reported, counted as rejected
 * and skipped. Returns 1, or 0 at the end of input. stdout is flushed
 * before blocking on input, so that a filter never sits on output while it
 * waits. A read error exits 111.
 */
int wb_reader_line_or_die(struct wb_reader *r, char **line, size_t *len);

/*
 * Next valid record into *rec; the caller owns rec->value. Invalid lines
 * are reported ("line N: ...") and skipped. Returns 1, or 0 at the end.
 * A read error exits 111.
 */
int wb_reader_next_or_die(struct wb_reader *r, struct wb_record *rec);

/*
 * Report at the end of input how many lines were rejected; returns the
 * exit status the tool should end with (0, or 1 if any were rejected).
 */
int wb_reader_status(const struct wb_reader *r);

#endif
