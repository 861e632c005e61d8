/* SPDX-License-Identifier: MPL-2.0 */
/* wb-sqlite — keep the SQLite database equal to the archive.
 *
 * For each input record, reads $WB_DATA/current/N/issue.json and
 * timeline.json and makes the rows of issue N in $WB_SQLITE equal to
 * them (an issue whose directory is gone is removed), in batches, one
 * transaction each; a record is written out only once the transaction
 * holding its issue has committed. --rebuild makes the whole database
 * again from the archive, in a scratch file copied in at the end in one
 * transaction. The machinery is lib/wb_sqliteindexer.c and what it uses.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_indexloop.h"
#include "wb_pipe.h"
#include "wb_reader.h"
#include "wb_record.h"
#include "wb_scan.h"
#include "wb_sqlite.h"
#include "wb_sqliteindexer.h"
#include "wb_xalloc.h"

#define USAGE "wb-sqlite [--batch-issues N] [--batch-bytes N] [--idle S] " \
	"| wb-sqlite --rebuild"
#define HELP \
	"Keep the SQLite database $WB_SQLITE equal to the archive.\n" \
	"  -c, --batch-issues N  issues of a batch (default 1000)\n" \
	"  -b, --batch-bytes N   bytes of JSON of a transaction (default 32000000)\n" \
	"  -i, --idle S          commit once input pauses S seconds (1)\n" \
	"  -R, --rebuild         make the database again from the whole archive\n" \
	"See wb-sqlite(1).\n"

static char scratch[4096];

static void
drop_scratch(void)
{
	if (scratch[0] != '\0')
		unlink(scratch);
}

static int
by_number(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Every issue number of $data/current, sorted, into *out; their count. */
static size_t
archive_numbers(const char *data, long **out)
{
	char path[4096];
	struct dirent *de;
	size_t n = 0, cap = 0;
	long *v = NULL, num;
	DIR *d;

	snprintf(path, sizeof path, "%s/current", data);
	if ((d = opendir(path)) == NULL)
		wb_diesys(WB_EXIT_USAGE, "unable to read %s", path);
	while ((de = readdir(d)) != NULL) {
		if (wb_scan_number(de->d_name, &num, NULL, 0) < 0)
			continue;
		v = wb_xgrow(v, n, &cap, sizeof *v);
		v[n++] = num;
	}
	closedir(d);
	qsort(v, n, sizeof *v, by_number);
	*out = v;
	return n;
}

/*
 * Before the reader would block on input, wait for it here instead,
 * watching standard output: once its reader is gone, stop at once,
 * without writing (lib/wb_pipe.h). A batch is indexed once input has
 * paused for the idle time.
 */
static void
wait_input(const struct wb_reader *in, void *arg)
{
	struct wb_sqliteindexer *ix = arg;
	int r = 1;

	if (in->eof || (in->len > in->off &&
	    memchr(in->buf + in->off, '\n', in->len - in->off) != NULL))
		return;
	if (ix->nrecs > 0 && (r = wb_pipe_wait(0, POLLIN, in->idle_ms)) == 0)
		wb_sqliteindexer_flush_or_die(ix);
	if (r < 0 || wb_pipe_wait(0, POLLIN, -1) < 0)
		wb_die(WB_EXIT_TEMP, "standard output's reader is gone, "
		    "stopping");
}

/*
 * Remove the scratch files "<live>.rebuild-PID" left by rebuilds that
 * died (killed, or the machine went down) in the directory of 'live'.
 */
static void
drop_dead_scratch(const char *live)
{
	const char *slash = strrchr(live, '/'), *base = slash ? slash + 1 : live;
	char dir[4096], prefix[512], path[8192];
	size_t plen;
	struct dirent *de;
	long pid;
	DIR *d;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == live ? 1 :
		    (int)(slash - live), live);
	if ((size_t)snprintf(prefix, sizeof prefix, "%s.rebuild-", base) >=
	    sizeof prefix || (d = opendir(dir)) == NULL)
		return;
	plen = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		char num[16];
		size_t n;

		/* "PID", or "PID-wal" and the like: the scratch's own. */
		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    (n = strcspn(de->d_name + plen, "-")) >= sizeof num)
			continue;
		snprintf(num, sizeof num, "%.*s", (int)n, de->d_name + plen);
		if (wb_scan_number(num, &pid, NULL, 0) < 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			wb_info("removed %s, left by a rebuild that died", path);
	}
	closedir(d);
}

/*
 * --rebuild: index the whole archive into a scratch file, then put it in
 * place (wb_sqlite_replace).
 */
static int
rebuild(const struct wb_config *cfg, size_t max_bytes)
{
	struct wb_sqliteindexer ix;
	struct wb_record rec;
	unsigned long long skipped;
	char why[1024];
	long *nums;
	size_t n;
	sqlite3 *db;
	int code;

	if ((size_t)snprintf(scratch, sizeof scratch, "%s.rebuild-%ld",
	    cfg->sqlite, (long)getpid()) >= sizeof scratch)
		wb_die(WB_EXIT_USAGE, "WB_SQLITE is too long");
	atexit(drop_scratch);
	drop_dead_scratch(cfg->sqlite);
	unlink(scratch);
	if ((db = wb_sqlite_scratch(scratch, cfg->sqlite, &code, why,
	    sizeof why)) == NULL)
		wb_die(code, "%s", why);
	wb_sqliteindexer_open_or_die(&ix, cfg->data, db, NULL, SIZE_MAX, max_bytes,
	    0);
	n = archive_numbers(cfg->data, &nums);
	for (size_t i = 0; i < n; i++) {
		rec = (struct wb_record){ nums[i], jv_null() };
		wb_sqliteindexer_add_or_die(&ix, &rec, INT_MAX);
	}
	wb_sqliteindexer_flush_or_die(&ix);
	skipped = wb_sqliteindexer_report(&ix);
	free(nums);
	wb_sqliteindexer_free(&ix);
	if (wb_sqlite_replace(cfg->sqlite, db, scratch, &code, why,
	    sizeof why) < 0)
		wb_die(code, "%s", why);
	wb_info("%llu issues indexed into %s, %llu skipped",
	    (unsigned long long)n - skipped, cfg->sqlite, skipped);
	return skipped > 0 ? WB_EXIT_REJECTED : WB_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch-bytes", required_argument, NULL, 'b' },
		{ "batch-issues", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "rebuild", no_argument, NULL, 'R' },
		WB_CLI_LONGOPTS
	};
	size_t max_bytes = 32000000, max_issues = 1000;
	struct wb_sqliteindexer ix;
	struct wb_indexloop loop = { &ix, wb_sqliteindexer_add_or_die,
	    wb_sqliteindexer_idle_or_die, wb_sqliteindexer_flush_or_die,
	    wb_sqliteindexer_report, wait_input };
	struct wb_config cfg;
	double idle = 1;
	int ch, code, rebuilding = 0, status;
	char why[1024];
	struct stat st;
	sqlite3 *db;

	wb_cli_start("wb-sqlite");
	while ((ch = getopt_long(argc, argv, "Rb:c:hi:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'R':
			rebuilding = 1;
			break;
		case 'b':
			max_bytes = (size_t)wb_cli_uint_or_die("--batch-bytes",
			    optarg, 1, 1UL << 30);
			break;
		case 'c':
			max_issues = (size_t)wb_cli_uint_or_die(
			    "--batch-issues", optarg, 1, 1000000);
			break;
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 'i':
			idle = wb_cli_seconds_or_die("--idle", optarg, 3600);
			break;
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	if (optind != argc)
		wb_dieusage(USAGE);
	wb_config_load_or_die(&cfg);
	if (stat(cfg.data, &st) < 0 || !S_ISDIR(st.st_mode))
		wb_die(WB_EXIT_USAGE, "no archive at %s (WB_DATA)", cfg.data);
	if (rebuilding)
		return wb_cli_end_or_die(rebuild(&cfg, max_bytes));
	if ((db = wb_sqlite_open(cfg.sqlite, WB_SQLITE_WRITE, &code, why,
	    sizeof why)) == NULL)
		wb_die(code, "%s", why);
	wb_sqliteindexer_open_or_die(&ix, cfg.data, db, cfg.sqlite, max_issues,
	    max_bytes, 1);

	status = wb_indexloop_run_or_die(&loop, idle);
	wb_sqliteindexer_free(&ix);
	wb_sqlite_close(db);
	return wb_cli_end_or_die(status);
}
