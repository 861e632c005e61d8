/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the SQLite database: its schema, opening it, upgrading it, and
 * replacing it whole (SPEC.md, "Search on one machine").
 *
 * $WB_SQLITE is written by wb-sqlite alone and read by anyone. It is in
 * WAL mode, so that readers never block the writer nor the writer them;
 * the writer commits with synchronous=FULL, because what it emits after
 * a commit is acknowledged upstream and must survive a power loss (WAL
 * with NORMAL stays consistent but may lose the last transactions). A
 * busy database is waited for, as long as it takes, while standard
 * output's reader is there (lib/wb_pipe.h). The schema version is
 * PRAGMA user_version: an older one is upgraded in place by the writer,
 * any other is refused with a message naming `wb-sqlite --rebuild`.
 */
#ifndef WB_SQLITE_H
#define WB_SQLITE_H

#include <stddef.h>

#include <sqlite3.h>

#define WB_SQLITE_VERSION 2	/* PRAGMA user_version of the schema below */
#define WB_SQLITE_FTS "issues_fts"
#define WB_SQLITE_FTS_COLUMNS 3	/* title, body, comments */
#define WB_SQLITE_RANK_WEIGHTS "10.0, 3.0, 1.0"	/* of bm25: title, body, comments */
#define WB_SQLITE_MMAP "1073741824"	/* bytes of a reader's file mapped */
/*
 * The page size of a new database: an issue's JSON fits in one page more
 * often than in 4 KB ones, and a full index writes and reads a quarter
 * as many pages (on the benchmark's archive, 12% smaller and about 20%
 * less CPU: BENCHMARKS.md). An existing database keeps its own.
 */
#define WB_SQLITE_PAGE_SIZE 16384
#define WB_SQLITE_REPLACE_WAIT_MS 2000	/* for others to close it */

/* How to open the database. */
enum wb_sqlite_mode {
	WB_SQLITE_READ,		/* read only; it must exist, at this version */
	WB_SQLITE_WRITE,	/* created or upgraded as needed */
	WB_SQLITE_SCRATCH	/* a new file to build: no journal, no sync */
};

/*
 * Open the database at 'path' in 'mode', wait-on-busy handler installed.
 * Returns the connection; or NULL with why[whylen] set and *code the exit
 * status it deserves: 100 when it is missing (READ), not a database, or
 * of a schema version this cannot use (the message names the command
 * that fixes it); 111 for what may pass (I/O, memory, standard output's
 * reader gone while waiting).
 */
sqlite3 *wb_sqlite_open(const char *path, enum wb_sqlite_mode mode,
    int *code, char *why, size_t whylen);

/*
 * wb_sqlite_open(path, WB_SQLITE_SCRATCH, ...) for a scratch database
 * that will replace the one at 'live' (wb_sqlite_replace): with the same
 * page size as 'live' has (a database in WAL mode cannot change its
 * own), WB_SQLITE_PAGE_SIZE when 'live' is absent or no database.
 */
sqlite3 *wb_sqlite_scratch(const char *path, const char *live, int *code,
    char *why, size_t whylen);

/* Close 'db' (NULL: nothing). */
void wb_sqlite_close(sqlite3 *db);

/*
 * Run the SQL 'sql' (no result rows wanted). Returns 0, or -1 with
 * why[whylen] set to "what: SQLite's message".
 */
int wb_sqlite_exec(sqlite3 *db, const char *sql, const char *what, char *why,
    size_t whylen);

/*
 * Set why[whylen] to "what: <the last error of db>"; returns -1, so that
 * callers may `return wb_sqlite_fail(...)`.
 */
int wb_sqlite_fail(sqlite3 *db, const char *what, char *why, size_t whylen);

/*
 * Whether the last wait for a busy database ended because standard
 * output's reader went away (then nothing should be emitted: exit).
 */
int wb_sqlite_out_gone(void);

/*
 * Replace the database at 'path' (created when absent) by the scratch
 * database 'src' (closed by this, whatever happens), a file at 'scratch'
 * in the same directory made by wb_sqlite_scratch. When no other
 * connection has 'path' open, the scratch file, put in WAL mode and
 * synced, is renamed over it: the database is written once. Otherwise
 * (a reader or the indexer has it open; waited for up to
 * WB_SQLITE_REPLACE_WAIT_MS), its content is copied in, in one write
 * transaction, and readers see the old database until it commits, then
 * the new one. A crash at any point leaves either the old database or
 * the new one. Returns 0, or -1 with why[whylen] set and *code as for
 * wb_sqlite_open.
 */
int wb_sqlite_replace(const char *path, sqlite3 *src, const char *scratch,
    int *code, char *why, size_t whylen);

#endif
