/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the archived files of an issue, read and checked for indexing.
 *
 * $WB_DATA/current/N/issue.json (read by wb_archive_load_issue, never
 * through a symbolic link below $WB_DATA: a link at current/, current/N
 * or either file is reported, naming it, and the issue skipped) must be
 * a JSON object and timeline.json a JSON array of objects, both checked
 * whole by lib/wb_jscan.c; their text is kept as read, with the spans of
 * the objects, so that documents are copied from it rather than parsed
 * into values.
 */
#ifndef WB_ESLOAD_H
#define WB_ESLOAD_H

#include "wb_es.h"
#include "wb_jscan.h"

/* One issue's files; zero-initialise it, reuse it from issue to issue. */
struct wb_esload {
	struct wb_es_buf itext, ttext;	/* issue.json, timeline.json */
	struct wb_jscan_span ispan;	/* the issue object in itext */
	struct wb_jscan_spans spans;	/* each event object in ttext */
};


/*
 * Read and check both files of issue 'number' under the archive root
 * 'data' into 'ld'. Returns 1 when they are good; 0 when the issue is
 * gone (no directory, while current/ is there); -1 when it must be
 * skipped (a file unreadable or malformed, or no archive at all), after
 * a warning on stderr that names the issue number and the path. Dies 100
 * when 'data' is too long for a path.
 */
int wb_esload_issue_or_die(struct wb_esload *ld, const char *data, long number);

/*
 * The two halves of wb_esload_issue_or_die: read both files without checking
 * them (same returns; the spans are not set), then check what was read
 * (1, or -1 after a warning, as above). wb-sqlite checks only the files
 * that differ from what it stored.
 */
int wb_esload_read_or_die(struct wb_esload *ld, const char *data, long number);
int wb_esload_check(struct wb_esload *ld, const char *data, long number);

/* Free what 'ld' holds. */
void wb_esload_free(struct wb_esload *ld);

#endif
