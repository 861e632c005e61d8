/* SPDX-License-Identifier: MPL-2.0 */
/* wb-write — store fetched issues in the archive, atomically.
 *
 * Writes $WB_DATA/current/N/issue.json and timeline.json of each record
 * from wb-fetch (temporary file, fsync, rename, fsync of the directory),
 * removes current/N of a record marked "gone", and emits the record
 * without "issue", "timeline" and "etags" once its files are durable.
 * Records are stored in batches (as many as arrive without waiting, up
 * to 256) so that they share the waits for the disk. Each issue is
 * locked while its pair of files is replaced, so that writers running
 * side by side leave one writer's pair (see wb_archive.h). The texts of the
 * issue and timeline are checked and copied from the line as libjq would
 * print them, never parsed into values: that was most of the time.
 */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_archive.h"
#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_jscan.h"
#include "wb_json.h"
#include "wb_reader.h"
#include "wb_record.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#define USAGE "wb-write [--clean]"
#define HELP \
	"Store the records of wb-fetch under $WB_DATA/current/N/ atomically\n" \
	"and write them on without \"issue\" and \"timeline\". See wb-write(1).\n" \
	"\n" \
	"  --clean   remove what killed writers left in every current/N, and exit\n"

#define BATCH 256	/* two files open per record until the batch commits */

struct batch {
	const char *data;
	struct wb_archive_item items[BATCH];
	struct wb_record recs[BATCH];
	size_t n;
	char *rest;		/* a line without its texts */
	size_t restcap;
	unsigned long written, removed, failed;
};

/* A batch holds up to 2 * BATCH files open: make room for them. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * BATCH) {
		rl.rlim_cur = rl.rlim_max < 4 * BATCH ? rl.rlim_max : 4 * BATCH;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Make everything gathered durable, then emit what succeeded, in order. */
static void
commit(void *arg)
{
	struct batch *b = arg;

	if (b->n == 0)
		return;
	wb_archive_commit(b->data, b->items, b->n);
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].failed) {
			wb_warn("%s; %ld not emitted", b->items[i].err,
			    b->recs[i].number);
			b->failed++;
		} else {
			wb_record_put_or_die(stdout, &b->recs[i]);
			if (b->items[i].remove)
				b->removed++;
			else
				b->written++;
		}
		wb_archive_item_free(&b->items[i]);
		wb_record_free(&b->recs[i]);
	}
	b->n = 0;
	wb_record_flush_or_die(stdout);
}

/* Where the texts of a record are: the values of these member paths. */
enum { ISSUE, TIMELINE, ETAGS, ISSUE_NUMBER, NPATHS };
static const char *const paths[NPATHS] = { "issue", "timeline", "etags",
    "issue.number" };

/*
 * Split a line: *rec gets the record without its texts ("issue",
 * "timeline", "etags"), v[] where they are in the line. The line is
 * checked whole by the scanner, and the texts are never parsed into
 * values: they are copied to the files as they are. Returns 0, or -1 with
 * a reason in why[whylen].
 */
static int
split(struct batch *b, const char *line, size_t len, struct wb_record *rec,
    struct wb_jscan_value v[NPATHS], char *why, size_t whylen)
{
	char refused[200];
	size_t n;
	int empty;

	if (wb_jscan_paths(line, len, paths, NPATHS, v, refused,
	    sizeof refused) < 0) {
		/*
		 * Not strict JSON (RFC 8259): a bare number, what libjq does
		 * not read either, or what it reads its own way (leading
		 * zeros, nan, invalid UTF-8, lone surrogate escapes). That
		 * cannot be stored as it is; a removal needs no text.
		 */
		for (int i = 0; i < NPATHS; i++)
			v[i].kind = WB_JSCAN_ABSENT;
		if (wb_record_parse(line, len, rec, why, whylen) < 0)
			return -1;
		if (jv_get_kind(rec->value) == JV_KIND_NULL ||
		    wb_json_true(rec->value, "gone"))
			return 0;
		wb_record_free(rec);
		snprintf(why, whylen, "not storable JSON: %s", refused);
		return -1;
	}
	if (len >= b->restcap) {
		b->rest = wb_xrealloc(b->rest, len + 1);
		b->restcap = len + 1;
	}
	n = wb_jscan_without_keys(b->rest, line, len, paths, ETAGS + 1, &empty);
	return wb_record_parse(b->rest, n, rec, why, whylen);
}

/* Whether the token at v (issue.number) is the record's number, in decimal. */
static int
same_number(const char *line, const struct wb_jscan_value *v, long number)
{
	unsigned long long n;

	return v->kind == WB_JSCAN_NUMBER && wb_scan_uint(line + v->off, v->len,
	    1, WB_NUMBER_MAX, &n, NULL, 0) == 0 && (long)n == number;
}

/*
 * 1 when the issue or the timeline has an object with a key twice (set
 * in why[whylen]): jq would keep one, and Elasticsearch refuses such a
 * document, so it is not stored as it is.
 */
static int
duplicate_key(const char *line, const struct wb_jscan_value v[NPATHS],
    char *why, size_t whylen)
{
	for (int i = ISSUE; i <= TIMELINE; i++) {
		size_t at;

		if (wb_jscan_unique_keys(line + v[i].off, v[i].len, &at) < 0) {
			snprintf(why, whylen, "not storable JSON: duplicate key "
			    "at byte %zu", v[i].off + at);
			return 1;
		}
	}
	return 0;
}

/*
 * Take one line into the batch. Returns 0, or -1 with *why set when the
 * record is not storable (it is then left to the caller).
 */
static int
gather(struct batch *b, const char *line, size_t len, char *why,
    size_t whylen)
{
	struct wb_jscan_value v[NPATHS];
	struct wb_archive_item *it;
	struct wb_etags etags;
	struct wb_record rec;

	if (split(b, line, len, &rec, v, why, whylen) < 0)
		return -1;
	/* One number at most once per batch, so that the order holds. */
	for (size_t i = 0; i < b->n; i++)
		if (b->recs[i].number == rec.number) {
			commit(b);
			break;
		}
	it = &b->items[b->n];
	if (wb_json_true(rec.value, "gone")) {
		wb_archive_item_remove(it, rec.number);
	} else if (v[ISSUE].kind != WB_JSCAN_OTHER || line[v[ISSUE].off] != '{' ||
	    v[TIMELINE].kind != WB_JSCAN_OTHER ||
	    line[v[TIMELINE].off] != '[' ||
	    !same_number(line, &v[ISSUE_NUMBER], rec.number)) {
		wb_record_free(&rec);
		snprintf(why, whylen, "no \"issue\" object of this number and "
		    "\"timeline\" array, nor \"gone\"");
		return -1;
	} else if (duplicate_key(line, v, why, whylen)) {
		wb_record_free(&rec);
		return -1;
	} else {
		wb_etags_init(&etags);
		if (v[ETAGS].kind == WB_JSCAN_OTHER) {
			jv e = jv_parse_sized(line + v[ETAGS].off,
			    (int)v[ETAGS].len);

			/* Unreadable ETags: none (it leaves them empty). */
			(void)wb_etags_from_jv(e, &etags);
			jv_free(e);
		}
		wb_archive_item_set(it, rec.number, line + v[ISSUE].off,
		    v[ISSUE].len, line + v[TIMELINE].off, v[TIMELINE].len,
		    &etags);
	}
	/*
	 * Another writer holds this issue: what this batch holds is
	 * committed and released first, so that no two writers ever wait
	 * for each other, then the issue is waited for.
	 */
	if (wb_archive_prepare(b->data, it, b->n == 0) > 0) {
		struct wb_archive_item held = *it;

		commit(b);
		it = &b->items[0];
		*it = held;
		wb_archive_prepare(b->data, it, 1);
	}
	if (it->failed) {
		wb_warn("%s; %ld not emitted", it->err, rec.number);
		wb_archive_item_free(it);
		wb_record_free(&rec);
		b->failed++;
		return 0;
	}
	b->recs[b->n++] = rec;
	if (b->n == BATCH)
		commit(b);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct batch b;
	struct wb_config cfg;
	struct wb_reader in;
	char why[256], *line;
	size_t len;
	int status;

	static const struct option longopts[] = {
		{ "clean", no_argument, NULL, 'c' },
		WB_CLI_LONGOPTS
	};
	long swept;
	int ch, clean = 0;

	wb_cli_start("wb-write");
	/* A file size limit is then an error to report, not a crash. */
	signal(SIGXFSZ, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			clean = 1;
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (optind != argc)
		wb_dieusage(USAGE);
	wb_config_load_or_die(&cfg);
	b.data = cfg.data;
	/*
	 * Removals cut short by a kill, at every start (one reading of
	 * current/); temporary files inside current/N go when N is written
	 * again, or all of them with --clean.
	 */
	swept = wb_archive_sweep(b.data, clean);
	if (clean && swept < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to read %s/current", b.data);
	if (clean) {
		wb_info("removed %ld leftovers of killed writers", swept);
		return wb_cli_end_or_die(WB_EXIT_OK);
	}
	raise_fd_limit();

	wb_reader_init_or_die(&in, 0);
	in.idle_fn = commit;
	in.idle_arg = &b;
	while (wb_reader_line_or_die(&in, &line, &len)) {
		if (gather(&b, line, len, why, sizeof why) < 0) {
			wb_warn("line %lu: %s, skipped", in.lineno, why);
			in.rejected++;
		}
	}
	commit(&b);
	status = wb_reader_status(&in);
	wb_reader_free(&in);
	free(b.rest);
	wb_debug("%lu written, %lu removed, %lu failed", b.written, b.removed,
	    b.failed);
	if (b.failed > 0)
		status = WB_EXIT_TEMP;
	return wb_cli_end_or_die(status);
}
