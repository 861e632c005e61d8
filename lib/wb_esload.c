/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the archived files of an issue, read and checked for indexing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "wb_archive.h"
#include "wb_err.h"
#include "wb_esload.h"

/*
 * Issue 'number' has no directory: gone (0) if the archive is there;
 * without it (a fresh system, an unmounted disk) nothing can be told
 * (-1, after a warning).
 */
static int
gone(const char *data, long number)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof path, "%s/current", data);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	wb_warn("issue %ld: no archive at %s, skipped", number, path);
	return -1;
}

/*
 * The first of current, current/N and current/N/file of 'data' that is
 * a symbolic link, its path in buf[len]; NULL when none is.
 */
static const char *
link_below(char *buf, size_t len, const char *data, long n, const char *file)
{
	struct stat st;

	snprintf(buf, len, "%s/current", data);
	if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode))
		return buf;
	wb_archive_path(buf, len, data, n, NULL);
	if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode))
		return buf;
	wb_archive_path(buf, len, data, n, file);
	if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode))
		return buf;
	return NULL;
}

/*
 * Load 'file' of issue n into 'b' (never through a link below 'data'):
 * 1, or 0 when issue.json is absent with its directory (gone: see
 * above), or -1 after a warning. Exits 111 when memory runs out.
 */
static int
load_or_die(struct wb_es_buf *b, const char *data, long n, const char *file)
{
	char path[4096];
	struct stat st;
	int e;

	if (wb_archive_load_issue(data, n, file, &b->p, &b->cap, &b->len) == 0)
		return 1;
	if ((e = errno) == ENOMEM)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
	if ((e == ELOOP || e == ENOTDIR) && link_below(path, sizeof path, data,
	    n, file) != NULL) {
		wb_warn("issue %ld: %s is a symbolic link, where the archive "
		    "keeps its own files; not followed, skipped", n, path);
		return -1;
	}
	wb_archive_path(path, sizeof path, data, n, NULL);
	if (e == ENOENT && strcmp(file, "issue.json") == 0 &&
	    lstat(path, &st) < 0 && errno == ENOENT)
		return gone(data, n);
	wb_archive_path(path, sizeof path, data, n, file);
	errno = e;
	wb_warnsys("issue %ld: unable to read %s, skipped", n, path);
	return -1;
}

int
wb_esload_read_or_die(struct wb_esload *ld, const char *data, long n)
{
	char path[4096];
	int got;

	if (wb_archive_path(path, sizeof path, data, n, "timeline.json") < 0)
		wb_die(WB_EXIT_USAGE, "WB_DATA is too long");
	if ((got = load_or_die(&ld->itext, data, n, "issue.json")) < 1)
		return got;
	return load_or_die(&ld->ttext, data, n, "timeline.json") < 1 ? -1 : 1;
}

int
wb_esload_check(struct wb_esload *ld, const char *data, long n)
{
	char path[4096], why[256];

	wb_archive_path(path, sizeof path, data, n, "issue.json");
	if (wb_jscan_object(ld->itext.p, ld->itext.len, &ld->ispan, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s is not a JSON object: %s, skipped", n,
		    path, why);
		return -1;
	}
	wb_archive_path(path, sizeof path, data, n, "timeline.json");
	if (wb_jscan_array(ld->ttext.p, ld->ttext.len, &ld->spans, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s is not a JSON array of objects: %s, "
		    "skipped", n, path, why);
		return -1;
	}
	return 1;
}

int
wb_esload_issue_or_die(struct wb_esload *ld, const char *data, long n)
{
	int got = wb_esload_read_or_die(ld, data, n);

	return got < 1 ? got : wb_esload_check(ld, data, n);
}

void
wb_esload_free(struct wb_esload *ld)
{
	wb_es_buf_free(&ld->itext);
	wb_es_buf_free(&ld->ttext);
	wb_jscan_spans_free(&ld->spans);
}
