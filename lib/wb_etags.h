/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the ETags of one issue: what wb-fetch sends back to GitHub.
 *
 * An issue has the ETag of its own answer and one per timeline page,
 * with the count of events that page held. They travel in a record's
 * "etags" field (wb_etags_to_jv, wb_etags_from_jv) and are kept by the
 * archive in $WB_DATA/etags/N (wb_archive.h), a text file whose format
 * is made and read here:
 *
 *	wb-etags 1
 *	files INO SIZE SEC NSEC INO SIZE SEC NSEC
 *	issue ETAG
 *	page COUNT ETAG
 *	...
 *
 * where "files" gives the identity of issue.json and timeline.json the
 * ETags describe (the file is void once they were replaced).
 */
#ifndef WB_ETAGS_H
#define WB_ETAGS_H

#include <stdio.h>

#include <jv.h>

#define WB_ETAG_MAX 256		/* bytes of an ETag, with its NUL */
#define WB_ETAGS_MAX_PAGES 1000	/* timeline pages: WB_GITHUB_MAX_PAGES */
#define WB_ETAGS_PER_PAGE 100	/* events of a page: WB_GITHUB_PER_PAGE */

struct wb_etag_page {
	char etag[WB_ETAG_MAX];
	int count;	/* events the page held */
};

/* The ETags of one issue: of the issue, and of each timeline page. */
struct wb_etags {
	char issue[WB_ETAG_MAX];	/* "" if unknown */
	struct wb_etag_page *page;
	size_t npages, cap;
};

/* The identity of a file the ETags describe, as fstat(2) gives it. */
struct wb_etags_stamp {
	unsigned long long ino, size;
	long long sec, nsec;
};

/* 1 when 'etag' can be stored and sent back: 1..255 printable ASCII. */
int wb_etags_ok(const char *etag);

void wb_etags_init(struct wb_etags *e);
void wb_etags_free(struct wb_etags *e);
/*
 * Append a page; returns 0, or -1 when over WB_ETAGS_MAX_PAGES, when
 * 'count' is not 0..WB_ETAGS_PER_PAGE or when 'etag' is not wb_etags_ok.
 * Out of memory exits 111 (wb_xgrow).
 */
int wb_etags_add(struct wb_etags *e, const char *etag, int count);

/*
 * The record field "etags": {"issue":"...","timeline":[["etag",count],...]}.
 * wb_etags_from_jv borrows 'v'; returns 0, or -1 (and *e empty) if
 * malformed.
 */
jv wb_etags_to_jv(const struct wb_etags *e);
int wb_etags_from_jv(jv v, struct wb_etags *e);

/*
 * The text of an etags file for 'e' describing the files 'stamp'[0]
 * (issue.json) and 'stamp'[1] (timeline.json), in a new buffer (free()
 * it) of *len bytes. Returns NULL when out of memory.
 */
char *wb_etags_format(const struct wb_etags *e,
    const struct wb_etags_stamp stamp[2], size_t *len);

/*
 * Read an etags file from 'f' (at most 1 MiB) into *e (initialized here)
 * and the identities it records into 'stamp'. Returns 0, or -1 (and *e
 * empty) when it is malformed: the caller then asks for everything again.
 */
int wb_etags_parse(FILE *f, struct wb_etags *e, struct wb_etags_stamp stamp[2]);

#endif
