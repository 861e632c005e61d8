/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the SQLite database: schema, open, upgrade, replace (wb_sqlite.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_pipe.h"
#include "wb_sqlite.h"
#include "wb_sqlitetokens.h"

/* The tables of lib/wb_sqlitetokens.h (version 2). */
#define WB_SQLITE_TOKENS \
    "CREATE TABLE issue_tokens (\n" \
    "  chunk INTEGER PRIMARY KEY,\n" \
    "  sizes BLOB NOT NULL\n" \
    ");\n" \
    "CREATE TABLE issue_tokens_total (\n" \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n" \
    "  issues INTEGER NOT NULL,\n" \
    "  tokens INTEGER NOT NULL\n" \
    ");\n"

/*
 * The schema (SPEC.md). The full-text index keeps no text of its own:
 * its content is the view issues_text, read only for snippet(), so the
 * words are stored once, in the JSON. wb-sqlite feeds the index itself
 * with the values it reads from the archived text (and removes them the
 * same way, from the stored text), which is what the view computes.
 * issue_labels answers --label without reading JSON. issue_tokens and
 * issue_tokens_total hold each issue's size in the full-text index,
 * packed, for ranking (lib/wb_sqlitetokens.h); a writer fills them in
 * when it opens the database.
 */
static const char schema[] =
    "CREATE TABLE issues (\n"
    "  number INTEGER PRIMARY KEY,\n"
    "  json TEXT NOT NULL,\n"
    "  title TEXT,\n"
    "  state TEXT,\n"
    "  created_at TEXT,\n"
    "  updated_at TEXT,\n"
    "  closed_at TEXT,\n"
    "  author TEXT,\n"
    "  labels TEXT,\n"
    "  milestone TEXT,\n"
    "  private INTEGER NOT NULL DEFAULT 0,\n"
    "  timeline_sha256 BLOB\n"
    ");\n"
    "CREATE INDEX issues_updated_at ON issues (updated_at);\n"
    "CREATE INDEX issues_state ON issues (state, updated_at);\n"
    "CREATE INDEX issues_author ON issues (author);\n"
    "CREATE INDEX issues_milestone ON issues (milestone);\n"
    "CREATE TABLE issue_labels (\n"
    "  number INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  PRIMARY KEY (number, name)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX issue_labels_name ON issue_labels (name);\n"
    "CREATE TABLE timelines (\n"
    "  number INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  json TEXT NOT NULL,\n"
    "  event TEXT,\n"
    "  created_at TEXT,\n"
    "  actor TEXT,\n"
    "  PRIMARY KEY (number, position)\n"
    ");\n"
    "CREATE INDEX timelines_event ON timelines (event, number);\n"
    "CREATE VIEW issues_text (number, title, body, comments) AS\n"
    "  SELECT number, title, json ->> '$.body',\n"
    "    (SELECT group_concat(t.json ->> '$.body', char(10))\n"
    "       FROM timelines AS t\n"
    "      WHERE t.number = issues.number AND t.event = 'commented')\n"
    "  FROM issues;\n"
    "CREATE VIRTUAL TABLE " WB_SQLITE_FTS " USING fts5 (title, body, comments,\n"
    "  content = 'issues_text', content_rowid = 'number',\n"
    "  tokenize = 'unicode61 remove_diacritics 2');\n"
    "INSERT INTO " WB_SQLITE_FTS " (" WB_SQLITE_FTS ", rank)\n"
    "  VALUES ('rank', 'bm25(" WB_SQLITE_RANK_WEIGHTS ")');\n"
    WB_SQLITE_TOKENS;

/*
 * upgrade[v] turns schema version v into v + 1 (v >= 1); NULL: no way,
 * the database must be rebuilt. Version 2 adds the packed sizes (filled
 * in by the check every writer makes: schema_ready).
 */
static const char *const upgrade[WB_SQLITE_VERSION] = { NULL,
	WB_SQLITE_TOKENS };

static int out_gone;
static const char *busy_path;

int
wb_sqlite_out_gone(void)
{
	return out_gone;
}

/*
 * SQLite's busy handler: wait, as long as it takes, in short sleeps that
 * watch standard output (a stage whose reader died must not linger),
 * saying so once after 10 s.
 */
static int
busy(void *arg, int count)
{
	static long long since;
	static int warned;

	(void)arg;
	if (count == 0) {
		since = wb_clock_ms();
		warned = 0;
	} else if (!warned && wb_clock_ms() - since >= 10000) {
		wb_warn("%s is busy (another writer holds it), waiting",
		    busy_path);
		warned = 1;
	}
	if (wb_pipe_sleep(count < 5 ? 1 << count : 25) < 0) {
		out_gone = 1;
		return 0;
	}
	return 1;
}

int
wb_sqlite_fail(sqlite3 *db, const char *what, char *why, size_t whylen)
{
	snprintf(why, whylen, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) :
	    "out of memory");
	return -1;
}

int
wb_sqlite_exec(sqlite3 *db, const char *sql, const char *what, char *why,
    size_t whylen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return wb_sqlite_fail(db, what, why, whylen);
	return 0;
}

/* The exit status an error of SQLite deserves: 100 if it will not pass. */
static int
code_of(sqlite3 *db)
{
	switch (db != NULL ? sqlite3_errcode(db) : SQLITE_NOMEM) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return WB_EXIT_USAGE;
	default:
		return WB_EXIT_TEMP;
	}
}

/* One integer from a query (a PRAGMA); -1 with why set on failure. */
static int
query_int(sqlite3 *db, const char *sql, long long *out, char *why,
    size_t whylen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return wb_sqlite_fail(db, sql, why, whylen);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return wb_sqlite_fail(db, sql, why, whylen);
	return 0;
}

/*
 * What to do about schema version v found in 'path' (0: none): create
 * (1), upgrade (2), go on (0), or refuse (-1, the reason in why, *code
 * 100).
 * 'empty': the file holds no table at all.
 */
static int
decide(const char *path, long long v, int empty, int writer, int *code,
    char *why, size_t whylen)
{
	*code = WB_EXIT_USAGE;
	if (v == WB_SQLITE_VERSION)
		return 0;
	if (v == 0 && empty && writer)
		return 1;
	if (v == 0)
		snprintf(why, whylen, "%s is not a wb database (it holds no "
		    "schema version): move it away, or run wb-sqlite --rebuild",
		    path);
	else if (v > WB_SQLITE_VERSION)
		snprintf(why, whylen, "%s has schema version %lld, newer than "
		    "this one's (%d): run wb-sqlite --rebuild", path, v,
		    WB_SQLITE_VERSION);
	else if (!writer)
		snprintf(why, whylen, "%s has schema version %lld, older than "
		    "this one's (%d): run wb-sqlite once to upgrade it, or "
		    "wb-sqlite --rebuild", path, v, WB_SQLITE_VERSION);
	else if (v < 0 || upgrade[v] == NULL)
		snprintf(why, whylen, "%s has schema version %lld, which cannot "
		    "be upgraded to %d: run wb-sqlite --rebuild", path, v,
		    WB_SQLITE_VERSION);
	else
		return 2;
	return -1;
}

/*
 * Create, upgrade or check the schema, in one write transaction; a
 * writer makes the packed sizes equal to the index's in it.
 */
static int
schema_ready(sqlite3 *db, const char *path, int writer, int *code, char *why,
    size_t whylen)
{
	long long v, tables;
	char sql[64];
	int what;

	if (writer && wb_sqlite_exec(db, "BEGIN IMMEDIATE", "unable to begin",
	    why, whylen) < 0)
		goto fail;
	if (query_int(db, "PRAGMA user_version", &v, why, whylen) < 0 ||
	    query_int(db, "SELECT count(*) FROM sqlite_schema", &tables, why,
	    whylen) < 0)
		goto fail;
	if ((what = decide(path, v, tables == 0, writer, code, why,
	    whylen)) < 0) {
		if (writer)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (what == 1 && wb_sqlite_exec(db, schema, "unable to create the "
	    "schema", why, whylen) < 0)
		goto fail;
	for (; what == 2 && v < WB_SQLITE_VERSION; v++)
		if (wb_sqlite_exec(db, upgrade[v], "unable to upgrade the "
		    "schema", why, whylen) < 0)
			goto fail;
	if (what != 0) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    WB_SQLITE_VERSION);
		if (wb_sqlite_exec(db, sql, "unable to set the schema version",
		    why, whylen) < 0)
			goto fail;
	}
	if (writer && wb_sqlitetokens_check(db, why, whylen) < 0)
		goto fail;
	if (writer && wb_sqlite_exec(db, "COMMIT", "unable to commit", why,
	    whylen) < 0)
		goto fail;
	return 0;
fail:
	*code = code_of(db);
	if (writer)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Open 'path' with 'flags', busy handler set. */
static sqlite3 *
open_with(const char *path, int flags, int *code, char *why, size_t whylen)
{
	sqlite3 *db = NULL;

	/*
	 * Before SQLite's first use (later it is refused, harmlessly):
	 * no memory statistics, which cost a global lock per allocation.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		*code = WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to open %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	busy_path = path;
	sqlite3_busy_handler(db, busy, NULL);
	sqlite3_extended_result_codes(db, 0);
	return db;
}

/* Journal in WAL mode (persistent in the file), commits durable. */
static int
set_wal(sqlite3 *db, const char *path, int *code, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	const unsigned char *mode;
	int ok;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		*code = code_of(db);
		snprintf(why, whylen, "unable to use %s: %s", path,
		    sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	mode = sqlite3_column_text(st, 0);
	ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		*code = WB_EXIT_USAGE;
		snprintf(why, whylen, "unable to put %s in WAL mode (its file "
		    "system may not support it)", path);
		return -1;
	}
	if (wb_sqlite_exec(db, "PRAGMA synchronous = FULL;"
	    "PRAGMA journal_size_limit = 67108864;"
	    "PRAGMA cache_size = -16384", "unable to configure", why,
	    whylen) < 0) {
		*code = code_of(db);
		return -1;
	}
	return 0;
}

/*
 * The page size in the header of the database file 'path' (bytes 16-17,
 * big-endian, 1 meaning 65536); WB_SQLITE_PAGE_SIZE when it is absent or
 * no SQLite database.
 */
static int
page_size_of(const char *path)
{
	unsigned char h[18];
	FILE *f;
	int size = WB_SQLITE_PAGE_SIZE;

	if ((f = fopen(path, "rb")) == NULL)
		return size;
	if (fread(h, 1, sizeof h, f) == sizeof h &&
	    memcmp(h, "SQLite format 3", 16) == 0)
		size = h[16] << 8 | h[17];
	fclose(f);
	return size == 1 ? 65536 : size;
}

/*
 * Whether the file 'db' opened was renamed over or removed since (a
 * --rebuild put a new one in its place: wb_sqlite_replace). Then 'db'
 * is closed without touching the files named after it (the -wal and
 * -shm are the new database's now), and the caller opens it again.
 */
static int
moved(sqlite3 *db)
{
	int m = 0;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED,
	    &m) != SQLITE_OK || !m)
		return 0;
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_close(db);
	return 1;
}

/* wb_sqlite_open, a new database getting pages of 'page_size' bytes. */
static sqlite3 *
open_db(const char *path, enum wb_sqlite_mode mode, int page_size, int *code,
    char *why, size_t whylen)
{
	sqlite3 *db = NULL;
	struct stat st;
	char sql[64];
	int tries = 0;

again:
	if (tries++ == 10) {
		*code = WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to open %s: it keeps being "
		    "replaced", path);
		return NULL;
	}
	if (mode == WB_SQLITE_READ) {
		if (stat(path, &st) < 0) {
			*code = errno == ENOENT ? WB_EXIT_USAGE : WB_EXIT_TEMP;
			snprintf(why, whylen, "no database at %s (WB_SQLITE): "
			    "%s; make it with wb-sqlite --rebuild", path,
			    strerror(errno));
			return NULL;
		}
		if ((db = open_with(path, SQLITE_OPEN_READONLY, code, why,
		    whylen)) == NULL)
			return NULL;
		/*
		 * Pages read from the mapped file rather than copied in: a
		 * search reads a few MB of the full-text index (best effort).
		 */
		sqlite3_exec(db, "PRAGMA mmap_size = " WB_SQLITE_MMAP, NULL,
		    NULL, NULL);
		/* Its first read waits for a --rebuild that is replacing it. */
		if (schema_ready(db, path, 0, code, why, whylen) < 0) {
			if (moved(db))
				goto again;
			goto fail;
		}
		if (moved(db))
			goto again;
		return db;
	}
	if ((db = open_with(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    code, why, whylen)) == NULL)
		return NULL;
	/* A new database's page size; an existing one keeps its own. */
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d", page_size);
	if (wb_sqlite_exec(db, sql, "unable to configure", why, whylen) < 0) {
		*code = code_of(db);
		goto fail;
	}
	/*
	 * A first read (what it finds is said below) waits for a --rebuild
	 * replacing the file; the file is then checked before anything is
	 * written through names (-wal) that may be the new file's.
	 */
	sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (mode != WB_SQLITE_SCRATCH && moved(db))
		goto again;
	if (mode == WB_SQLITE_SCRATCH) {
		if (wb_sqlite_exec(db, "PRAGMA journal_mode = OFF;"
		    "PRAGMA synchronous = OFF;PRAGMA cache_size = -16384",
		    "unable to configure", why, whylen) < 0) {
			*code = code_of(db);
			goto fail;
		}
	} else if (set_wal(db, path, code, why, whylen) < 0)
		goto fail;
	if (schema_ready(db, path, 1, code, why, whylen) < 0)
		goto fail;
	if (mode != WB_SQLITE_SCRATCH && moved(db))
		goto again;
	return db;
fail:
	if (*code != WB_EXIT_USAGE && out_gone)
		snprintf(why, whylen, "standard output's reader is gone while "
		    "%s was busy", path);
	sqlite3_close(db);
	return NULL;
}

sqlite3 *
wb_sqlite_open(const char *path, enum wb_sqlite_mode mode, int *code,
    char *why, size_t whylen)
{
	return open_db(path, mode, WB_SQLITE_PAGE_SIZE, code, why, whylen);
}

sqlite3 *
wb_sqlite_scratch(const char *path, const char *live, int *code, char *why,
    size_t whylen)
{
	return open_db(path, WB_SQLITE_SCRATCH, page_size_of(live), code, why,
	    whylen);
}

void
wb_sqlite_close(sqlite3 *db)
{
	sqlite3_close(db);
}

/* Copy 'src' into the live database 'path' in one write transaction. */
static int
copy_in(const char *path, sqlite3 *src, int *code, char *why, size_t whylen)
{
	sqlite3_backup *b;
	sqlite3 *dst;
	char sql[64];
	int rc;

	if ((dst = open_with(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    code, why, whylen)) == NULL)
		return -1;
	/*
	 * A new file must take src's page size (wb_sqlite_scratch's) before
	 * it is in WAL mode; for an existing one this does nothing, and the
	 * error of a bad file is reported by set_wal.
	 */
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d", page_size_of(path));
	sqlite3_exec(dst, sql, NULL, NULL, NULL);
	if (set_wal(dst, path, code, why, whylen) < 0) {
		if (*code == WB_EXIT_USAGE)
			snprintf(why + strlen(why), whylen - strlen(why),
			    ": move it away and run wb-sqlite --rebuild again");
		sqlite3_close(dst);
		return -1;
	}
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		*code = code_of(dst);
		wb_sqlite_fail(dst, "unable to copy into the database", why,
		    whylen);
		sqlite3_close(dst);
		return -1;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		*code = out_gone || rc != SQLITE_CORRUPT ? WB_EXIT_TEMP :
		    WB_EXIT_USAGE;
		snprintf(why, whylen, "unable to copy into %s: %s", path,
		    sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	/* The WAL holds the whole database now: copy back what it can. */
	sqlite3_wal_checkpoint_v2(dst, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
	    NULL);
	sqlite3_close(dst);
	return 0;
}

/* fsync the file or directory 'path'; -1 with why set. */
static int
sync_path(const char *path, int flags, char *why, size_t whylen)
{
	int fd, rc;

	if ((fd = open(path, flags | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "unable to open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = fsync(fd);
	close(fd);
	if (rc < 0) {
		snprintf(why, whylen, "unable to sync %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The directory of 'path' into dir[len]. */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/*
 * Rename the finished scratch file 'scratch' over 'path', if no other
 * connection has the database open: 1 done, 0 not possible (others have
 * it open: copy instead), -1 with why set and *code.
 *
 * A connection to a database in WAL mode holds a shared lock on the
 * file for as long as it is open, so an exclusive lock proves that no
 * other has it open. Holding it, the live database leaves WAL mode (its
 * -wal file is copied back and deleted, so that the new file does not
 * meet it), the scratch file takes its name, and only then is the lock
 * released. A connection that opened the old file before the rename
 * finds it moved once it gets its lock (wb_sqlite_open checks, and
 * opens the new one).
 */
static int
rename_over(const char *path, const char *scratch, int *code, char *why,
    size_t whylen)
{
	char dir[4096], side[4200];
	sqlite3_stmt *st = NULL;
	sqlite3 *dst;
	int alone = 0, rc;

	dir_of(path, dir, sizeof dir);
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		/* No database: a -wal or -shm left is no one's. */
		snprintf(side, sizeof side, "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", path);
		unlink(side);
	}
	if (link(scratch, path) == 0) {
		/* There was none: the new one is in place. */
		unlink(scratch);
		return sync_path(dir, O_RDONLY | O_DIRECTORY, why, whylen) < 0 ?
		    (*code = WB_EXIT_TEMP, -1) : 1;
	}
	if (errno != EEXIST) {
		*code = WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to put %s in place: %s", path,
		    strerror(errno));
		return -1;
	}
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(dst);
		return 0;
	}
	sqlite3_db_config(dst, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_busy_timeout(dst, WB_SQLITE_REPLACE_WAIT_MS);
	if (sqlite3_exec(dst, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto done;
	rc = sqlite3_prepare_v2(dst, "PRAGMA journal_mode = DELETE", -1, &st,
	    NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_NOTADB) {
		*code = WB_EXIT_USAGE;
		snprintf(why, whylen, "unable to use %s: %s: move it away and "
		    "run wb-sqlite --rebuild again", path, sqlite3_errmsg(dst));
		alone = -1;
		goto done;
	}
	if (rc != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "delete") != 0)
		goto done;
	sqlite3_finalize(st);
	st = NULL;
	/* Held until the connection closes (locking_mode EXCLUSIVE). */
	if (sqlite3_exec(dst, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
		goto done;
	if (rename(scratch, path) < 0) {
		*code = WB_EXIT_TEMP;
		snprintf(why, whylen, "unable to rename %s to %s: %s", scratch,
		    path, strerror(errno));
		alone = -1;
		goto done;
	}
	alone = 1;
	if (sync_path(dir, O_RDONLY | O_DIRECTORY, why, whylen) < 0) {
		*code = WB_EXIT_TEMP;
		alone = -1;
	}
done:
	sqlite3_finalize(st);
	sqlite3_exec(dst, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(dst);
	return alone;
}

int
wb_sqlite_replace(const char *path, sqlite3 *src, const char *scratch,
    int *code, char *why, size_t whylen)
{
	int r;

	/* The new file in WAL mode (in its header), complete on disk. */
	if (set_wal(src, scratch, code, why, whylen) < 0) {
		sqlite3_close(src);
		return -1;
	}
	sqlite3_close(src);
	if (sync_path(scratch, O_RDONLY, why, whylen) < 0) {
		*code = WB_EXIT_TEMP;
		return -1;
	}
	if ((r = rename_over(path, scratch, code, why, whylen)) != 0)
		return r < 0 ? -1 : 0;
	/*
	 * Others have it open: copy it in, in one transaction (from a
	 * connection that may write, so that closing it removes the scratch
	 * file's -wal and -shm).
	 */
	if ((src = open_with(scratch, SQLITE_OPEN_READWRITE, code, why,
	    whylen)) == NULL)
		return -1;
	r = copy_in(path, src, code, why, whylen);
	sqlite3_close(src);
	return r;
}
