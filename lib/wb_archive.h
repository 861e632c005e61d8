/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the archive on disk (SPEC.md, "The archive").
 *
 * $WB_DATA/current/N/issue.json and timeline.json, compact JSON, replaced
 * atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory. Writes go in batches so that many issues share
 * the waits for the disk, and a file whose content would not change is
 * not rewritten. The ETags of an issue live outside current/, in
 * $WB_DATA/etags/N, so that current/ stays exactly the original layout;
 * that file also records which files it describes (inode, size, mtime),
 * and is ignored when they were replaced since.
 *
 * Paths are only ever built from validated issue numbers. $WB_DATA may
 * be a symbolic link (where the operator put the archive); nothing below
 * it is ever followed, read or written through a link: current/,
 * etags/, current/N and the files in them are ours, and a link found
 * there is reported, never followed nor removed.
 *
 * Writers of one issue take turns: the pair of files of current/N is
 * written under an exclusive flock(2) of the directory current/N itself,
 * held from the comparison with the files there to the ETags stored, so
 * that two writers of the same issue leave one writer's pair, never one
 * file of each.
 */
#ifndef WB_ARCHIVE_H
#define WB_ARCHIVE_H

#include <stddef.h>
#include <stdio.h>

#include <jv.h>

#include "wb_etags.h"

#define WB_ARCHIVE_MAX_FILE (256UL << 20)	/* bytes read back */

/*
 * "data/current/N" (file NULL) or "data/current/N/file" into buf[len].
 * Returns 0, or -1 if 'number' is not 1..2^31-1 or the path does not fit.
 */
int wb_archive_path(char *buf, size_t len, const char *data, long number,
    const char *file);

/*
 * The archived 'file' of issue 'number', parsed. Returns the value, or
 * jv_invalid_with_msg() when absent, unreadable or not JSON.
 */
jv wb_archive_read(const char *data, long number, const char *file);

/*
 * Read the file 'path' whole (a regular file of at most
 * WB_ARCHIVE_MAX_FILE bytes) into *buf, grown with realloc as needed
 * (*cap its size; both may start as NULL and 0, and are kept for the
 * next file), NUL-terminated, its length in *len. Returns 0, or -1 with
 * errno set (EINVAL: not a regular file; EFBIG: over the cap).
 */
int wb_archive_load(const char *path, char **buf, size_t *cap, size_t *len);
/*
 * As wb_archive_load, from the file open on 'fd' (left open): for a
 * caller that opened it its own way (openat, O_NOFOLLOW).
 */
int wb_archive_load_fd(int fd, char **buf, size_t *cap, size_t *len);

/*
 * $data/current/N/file of issue 'number', read as wb_archive_load reads
 * a path (into the reusable *buf), but never through a symbolic link
 * below $data: current/, current/N or the file itself being one fails
 * with ENOTDIR or ELOOP, and nothing is read. $data itself may be a link.
 * Returns 0, or -1 with errno set (EINVAL also for a bad 'number').
 */
int wb_archive_load_issue(const char *data, long number, const char *file,
    char **buf, size_t *cap, size_t *len);

/*
 * The text of $data/current/N/file (never through a symbolic link, as
 * wb_archive_load_issue), read whole (at most
 * WB_ARCHIVE_MAX_FILE bytes) into a new NUL-terminated buffer (free()
 * it), its length in *len; NULL with errno set when it cannot be read.
 */
char *wb_archive_slurp(const char *data, long number, const char *file,
    size_t *len);

/*
 * Load $data/etags/N (never through a symbolic link) into *e
 * (initialized here). Returns 0 when it exists, is well formed
 * (wb_etags_parse) and still describes the archived files; otherwise -1
 * and *e is left empty.
 */
int wb_archive_load_etags(const char *data, long number, struct wb_etags *e);

/* One issue to store or to remove. */
struct wb_archive_item {
	long number;
	int remove;		/* remove current/N and etags/N */
	/*
	 * What to store unless 'remove': the JSON texts of the issue and its
	 * timeline (valid: checked by wb_jscan), borrowed until
	 * wb_archive_prepare returns.
	 */
	const char *text[2];
	size_t len[2];
	struct wb_etags etags;	/* owned */
	int failed;
	char err[512];		/* why, when failed */
	/* private */
	int fd[2];
	char tmp[2][4096];
	int newdir;
	int dfd;		/* current/N, locked; -1 if none */
	struct wb_etags_stamp stamp[2];
};

/*
 * Set *it to store issue 'number': the JSON texts issue[0..issue_len) (an
 * object) and timeline[0..timeline_len) (an array), both accepted by
 * wb_jscan and borrowed until wb_archive_prepare returns, and 'etags'
 * (moved into the item; *etags is left empty).
 */
void wb_archive_item_set(struct wb_archive_item *it, long number,
    const char *issue, size_t issue_len, const char *timeline,
    size_t timeline_len, struct wb_etags *etags);
/* An item that removes issue 'number'. */
void wb_archive_item_remove(struct wb_archive_item *it, long number);

/*
 * First phase: create current/N and lock it (see above), then write the
 * temporary files of what changed (nothing is visible yet), each text
 * printed as libjq prints it (wb_jscan_canonical: compact, jq's
 * escapes). The lock is held until wb_archive_item_free. When another
 * writer holds it and 'may_wait' is 0, returns 1 having done nothing:
 * the caller commits and frees the items it holds (so that no two
 * writers wait for each other), then calls again with 'may_wait' 1,
 * which waits for the lock. Otherwise returns 0; on failure sets
 * it->failed and it->err and leaves no temporary file, nor a current/N it
 * created. A symbolic link where current/, current/N, its files, etags/
 * or etags/N belong is such a failure, with a reason that names it.
 */
int wb_archive_prepare(const char *data, struct wb_archive_item *it,
    int may_wait);

/*
 * Second phase, for items[0..n) prepared: fsync the temporary files,
 * rename them into place (timeline.json first, issue.json last, the
 * previous timeline.json kept under a second name, a hard link, until
 * then), fsync the directories, then store the ETags. A removed issue's
 * directory is renamed aside before it is emptied. Items that fail get
 * it->failed and it->err; their previous files stay, both of them.
 */
void wb_archive_commit(const char *data, struct wb_archive_item *items,
    size_t n);

/*
 * Remove what writers killed mid-work left under $data/current: each
 * ".N.gone.PID.SEQ" directory (a removal cut short: finished, emptied and
 * removed), and with 'deep' the temporary files (".issue.json.PID.SEQ",
 * ".timeline.json.PID.SEQ", ".timeline.json.old.PID.SEQ", regular files
 * only) of every current/N. Each directory is locked first; one held by
 * a live writer is skipped. wb_archive_prepare already removes those of
 * the issue it locks. Returns how many were removed, or -1 with errno
 * when current/ cannot be read.
 */
long wb_archive_sweep(const char *data, int deep);

/*
 * Release an item, removing any temporary file it still has, and its
 * lock.
 */
void wb_archive_item_free(struct wb_archive_item *it);

#endif
