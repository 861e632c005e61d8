/* SPDX-License-Identifier: MPL-2.0 */
/* wb-search — search the SQLite database.
 *
 * Full-text search (FTS5 query syntax) over the titles, bodies and
 * comments of the issues in $WB_SQLITE, with filters, best matches first;
 * without a query, the filters alone, most recently updated first. One
 * record per issue, {"number","title","state","updated_at","snippet"},
 * which wb-enqueue takes as it is; an aligned table on a terminal. The
 * database is opened read only; the query is lib/wb_sqlitesearch.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_record.h"
#include "wb_scan.h"
#include "wb_sqlite.h"
#include "wb_sqlitesearch.h"
#include "wb_xalloc.h"

#define USAGE "wb-search [--state open|closed] [--label NAME]... " \
	"[--since T] [--until T] [--limit N] [--window N] [--count] [QUERY]"
#define HELP \
	"Search the issues of $WB_SQLITE (FTS5 query syntax), best first.\n" \
	"  -s, --state STATE  open or closed issues only\n" \
	"  -l, --label NAME   issues that have label NAME (repeatable: all)\n" \
	"  -S, --since T      updated at T or later (YYYY-MM-DDTHH:MM:SSZ)\n" \
	"  -U, --until T      updated before T\n" \
	"  -n, --limit N      at most N issues (default: all)\n" \
	"  -w, --window N     with --limit, rank the N most recent matches\n" \
	"                     (default 0: every match)\n" \
	"  -c, --count        print the number of matches only\n" \
	"See wb-search(1).\n"

/* A column's text for the table: control characters as spaces. */
static void
cell(const unsigned char *s, const char *dflt)
{
	if (s == NULL)
		s = (const unsigned char *)dflt;
	for (; *s != '\0'; s++)
		putchar(*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static const char *
text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* One match: a record, or a table row on a terminal. */
static void
put(sqlite3_stmt *st, int table)
{
	static const char *const keys[] = { "title", "state", "updated_at",
	    "snippet" };
	struct wb_record rec = { sqlite3_column_int64(st, 0), jv_object() };

	if (table) {
		printf("%8ld  %-6s  %-20s  ", rec.number, text(st, 2) ? text(st,
		    2) : "", text(st, 3) ? text(st, 3) : "");
		cell(sqlite3_column_text(st, 1), "");
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			fputs("\n          ", stdout);
			cell(sqlite3_column_text(st, 4), "");
		}
		putchar('\n');
		jv_free(rec.value);
		return;
	}
	rec.value = jv_object_set(rec.value, jv_string("number"),
	    jv_number((double)rec.number));
	for (int i = 0; i < 4; i++)
		rec.value = jv_object_set(rec.value, jv_string(keys[i]),
		    text(st, i + 1) == NULL ? jv_null() : jv_string_sized(text(st,
		    i + 1), sqlite3_column_bytes(st, i + 1)));
	wb_record_put_or_die(stdout, &rec);
	wb_record_free(&rec);
}

static const char *
when(const char *name, const char *arg)
{
	time_t t;

	if (wb_scan_iso8601(arg, &t) < 0)
		wb_die(WB_EXIT_USAGE, "%s is not YYYY-MM-DDTHH:MM:SSZ: %s", name,
		    arg);
	return arg;
}

/* The operands, joined by spaces: the query (NULL if none). */
static char *
query_of(int argc, char **argv)
{
	size_t len = 0;
	char *q;

	if (argc == 0)
		return NULL;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > WB_SQLITESEARCH_MAX_QUERY)
		wb_die(WB_EXIT_USAGE, "the query is too long (%zu bytes, at most "
		    "%d)", len - 1, WB_SQLITESEARCH_MAX_QUERY);
	q = wb_xmalloc(len + 1);
	q[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(q, " ");
		strcat(q, argv[i]);
	}
	if (!wb_sqlitesearch_utf8(q, len - 1))
		wb_die(WB_EXIT_USAGE, "the query is not valid UTF-8");
	return q;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", no_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		{ "limit", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' },
		{ "state", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'U' },
		{ "window", required_argument, NULL, 'w' },
		WB_CLI_LONGOPTS
	};
	struct wb_sqlitesearch s = { .limit = -1,
	    .window = WB_SQLITESEARCH_WINDOW };
	const char **labels = NULL;
	size_t cap = 0;
	struct wb_config cfg;
	char why[1024], *q;
	sqlite3_stmt *st;
	sqlite3 *db;
	int ch, code, r, table;

	wb_cli_start("wb-search");
	while ((ch = getopt_long(argc, argv, "S:U:chl:n:s:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'S':
			s.since = when("--since", optarg);
			break;
		case 'U':
			s.until = when("--until", optarg);
			break;
		case 'c':
			s.count = 1;
			break;
		case 'h':
			wb_cli_help(USAGE, HELP);
		case 'l':
			labels = wb_xgrow(labels, s.nlabels, &cap,
			    sizeof *labels);
			labels[s.nlabels++] = optarg;
			break;
		case 'n':
			s.limit = (long long)wb_cli_uint_or_die("--limit",
			    optarg, 1, 1000000000);
			break;
		case 's':
			if (strcmp(optarg, "open") != 0 &&
			    strcmp(optarg, "closed") != 0)
				wb_die(WB_EXIT_USAGE, "--state is open or closed, "
				    "not %s", optarg);
			s.state = optarg;
			break;
		case 'w':
			s.window = (long long)wb_cli_uint_or_die("--window",
			    optarg, 0, 1000000000);
			break;
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(USAGE);
		}
	}
	s.labels = labels;
	s.query = q = query_of(argc - optind, argv + optind);
	wb_config_load_or_die(&cfg);
	if ((db = wb_sqlite_open(cfg.sqlite, WB_SQLITE_READ, &code, why,
	    sizeof why)) == NULL ||
	    (st = wb_sqlitesearch_prepare(db, &s, &code, why, sizeof why)) == NULL)
		wb_die(code, "%s", why);
	table = !s.count && isatty(1);
	while ((r = wb_sqlitesearch_step(st, &s, &code, why, sizeof why)) > 0) {
		if (s.count)
			printf("%lld\n", (long long)sqlite3_column_int64(st, 0));
		else
			put(st, table);
	}
	if (r < 0)
		wb_die(code, "%s", why);
	sqlite3_finalize(st);
	wb_sqlitesearch_free(&s);
	wb_sqlite_close(db);
	free(labels);
	free(q);
	return wb_cli_end_or_die(WB_EXIT_OK);
}
