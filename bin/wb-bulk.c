/* SPDX-License-Identifier: MPL-2.0 */
/* wb-bulk — index archived issues into Elasticsearch with the bulk API.
 *
 * For each input record, reads $WB_DATA/current/N/issue.json and
 * timeline.json and indexes the issue into "issues" and every event into
 * "timelines", in batches; then one delete-by-query per batch removes the
 * documents those issues no longer have (and every document of an issue
 * whose directory is gone). A record is written out only once all of its
 * issue's documents are in, so the wb-ack after it acknowledges only what
 * was done. The machinery is lib/wb_esindexer.c and what it uses.
 */
#include <stdio.h>
#include <string.h>

#include "wb_cli.h"
#include "wb_config.h"
#include "wb_err.h"
#include "wb_esconn.h"
#include "wb_esindexer.h"
#include "wb_estemplate.h"
#include "wb_indexloop.h"

#define USAGE "wb-bulk [--dry-run] [--batch-bytes N] [--batch-docs N] " \
	"[--idle S] [--install-templates DIR]"
#define HELP \
	"Index the archived issues of the input records into Elasticsearch.\n" \
	"  -n, --dry-run        write the bulk bodies to stdout, send nothing\n" \
	"  -b, --batch-bytes N  bytes of a bulk request (default 5000000)\n" \
	"  -c, --batch-docs N   documents of a bulk request (default 10000)\n" \
	"  -i, --idle S         send a batch once input pauses S seconds (1)\n" \
	"  -T, --install-templates DIR  install DIR/*.json as index templates\n" \
	"See wb-bulk(1).\n"

static void
add(void *ix, struct wb_record *rec, int idle_ms)
{
	wb_esindexer_add_or_die(ix, rec, idle_ms);
}

static void
flush(void *ix)
{
	wb_esindexer_flush_or_die(ix);
}

static unsigned long long
report(void *ix)
{
	return wb_esindexer_report(ix);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch-bytes", required_argument, NULL, 'b' },
		{ "batch-docs", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 'i' },
		{ "install-templates", required_argument, NULL, 'T' },
		WB_CLI_LONGOPTS
	};
	size_t max_bytes = 5000000, max_docs = 10000;
	const char *templates = NULL;
	struct wb_esindexer ix;
	struct wb_indexloop loop = { &ix, add, wb_esindexer_idle_or_die, flush,
	    report, NULL };
	struct wb_esconn es;
	struct wb_config cfg;
	double idle = 1;
	int ch, dry_run = 0, status;

	wb_cli_start("wb-bulk");
	while ((ch = getopt_long(argc, argv, "T:b:c:hi:n", longopts, NULL)) != -1) {
		switch (ch) {
		case 'T':
			templates = optarg;
			break;
		case 'b':
			max_bytes = (size_t)wb_cli_uint_or_die("--batch-bytes",
			    optarg, 1000, 1UL << 30);
			break;
		case 'c':
			max_docs = (size_t)wb_cli_uint_or_die("--batch-docs",
			    optarg, 1, 1000000);
			break;
		case 'i':
			idle = wb_cli_seconds_or_die("--idle", optarg, 3600);
			break;
		case 'n':
			dry_run = 1;
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (optind != argc || (templates != NULL && dry_run))
		wb_dieusage(USAGE);
	wb_config_load_or_die(&cfg);
	if (!dry_run)
		wb_esconn_open_or_die(&es, cfg.es, cfg.es_api_key);
	if (templates != NULL) {
		status = wb_estemplate_install_or_die(&es, templates);
		wb_esconn_close(&es);
		return wb_cli_end_or_die(status);
	}
	wb_esindexer_open_or_die(&ix, cfg.data, dry_run ? NULL : &es, max_bytes,
	    max_docs);

	status = wb_indexloop_run_or_die(&loop, idle);
	wb_esindexer_free(&ix);
	if (!dry_run)
		wb_esconn_close(&es);
	return wb_cli_end_or_die(status);
}
