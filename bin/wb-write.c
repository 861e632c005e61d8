/* wb-write — store fetched issues in the archive, atomically.
 *
 * Writes $WB_DATA/current/N/issue.json and timeline.json of each record
 * from wb-fetch (temporary file, fsync, rename, fsync of the directory),
 * removes current/N of a record marked "gone", and emits the record
 * without "issue", "timeline" and "etags" once its files are durable.
 * Records are stored in batches (as many as arrive without waiting, up
 * to 256) so that they share the waits for the disk.
 */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>

#include "wb_archive.h"
#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_json.h"
#include "wb_record.h"

#define USAGE "wb-write"
#define HELP \
	"Store the records of wb-fetch under $WB_DATA/current/N/ atomically\n" \
	"and write them on without \"issue\" and \"timeline\". See wb-write(1).\n"

#define BATCH 256	/* two files open per record until the batch commits */

struct batch {
	const char *data;
	struct wb_archive_item items[BATCH];
	struct wb_record recs[BATCH];
	size_t n;
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
			wb_record_put(stdout, &b->recs[i]);
			if (b->items[i].remove)
				b->removed++;
			else
				b->written++;
		}
		wb_archive_item_free(&b->items[i]);
		wb_record_free(&b->recs[i]);
	}
	b->n = 0;
	wb_flush(stdout);
}

/*
 * Take one record into the batch. Returns 0, or -1 with *why set when the
 * record is not storable (it is then left to the caller).
 */
static int
gather(struct batch *b, struct wb_record *rec, const char **why)
{
	struct wb_archive_item *it;
	struct wb_etags etags;
	jv issue, timeline, e;
	double num;

	/* One number at most once per batch, so that the order holds. */
	for (size_t i = 0; i < b->n; i++)
		if (b->recs[i].number == rec->number) {
			commit(b);
			break;
		}
	it = &b->items[b->n];
	if (wb_json_true(rec->value, "gone")) {
		wb_archive_item_remove(it, rec->number);
	} else {
		issue = wb_record_get(rec, "issue");
		timeline = wb_record_get(rec, "timeline");
		if (jv_get_kind(issue) != JV_KIND_OBJECT ||
		    jv_get_kind(timeline) != JV_KIND_ARRAY ||
		    wb_json_number(issue, "number", &num) < 0 ||
		    num != (double)rec->number) {
			jv_free(issue);
			jv_free(timeline);
			*why = "no \"issue\" object of this number and \"timeline\" "
			    "array, nor \"gone\"";
			return -1;
		}
		e = wb_record_get(rec, "etags");
		if (wb_etags_from_jv(e, &etags) < 0)
			wb_etags_init(&etags);
		jv_free(e);
		wb_archive_item_set(it, rec->number, issue, timeline, &etags);
	}
	wb_record_del(rec, "issue");
	wb_record_del(rec, "timeline");
	wb_record_del(rec, "etags");
	wb_archive_prepare(b->data, it);
	if (it->failed) {
		wb_warn("%s; %ld not emitted", it->err, rec->number);
		wb_archive_item_free(it);
		wb_record_free(rec);
		b->failed++;
		return 0;
	}
	b->recs[b->n++] = *rec;
	rec->value = jv_null();
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
	struct wb_record rec;
	const char *why;
	int status;

	wb_cli_start("wb-write");
	/* A file size limit is then an error to report, not a crash. */
	signal(SIGXFSZ, SIG_IGN);
	if (wb_cli_no_options(argc, argv, USAGE, HELP) != argc)
		wb_dieusage(USAGE);
	wb_config_load(&cfg);
	b.data = cfg.data;
	raise_fd_limit();

	wb_reader_init(&in, 0);
	in.idle_fn = commit;
	in.idle_arg = &b;
	while (wb_reader_next(&in, &rec)) {
		if (gather(&b, &rec, &why) < 0) {
			wb_warn("line %lu: %s, skipped", in.lineno, why);
			in.rejected++;
			wb_record_free(&rec);
		}
	}
	commit(&b);
	status = wb_reader_status(&in);
	wb_reader_free(&in);
	wb_debug("%lu written, %lu removed, %lu failed", b.written, b.removed,
	    b.failed);
	if (b.failed > 0)
		status = WB_EXIT_TEMP;
	return wb_cli_end(status);
}
