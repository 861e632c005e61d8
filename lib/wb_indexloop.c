/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the main loop of an indexing filter (wb_indexloop.h). */
#include "wb_err.h"
#include "wb_indexloop.h"

int
wb_indexloop_run_or_die(const struct wb_indexloop *l, double idle)
{
	struct wb_reader in;
	struct wb_record rec;
	int status;

	wb_reader_init_or_die(&in, 0);
	in.idle_fn = l->idle;
	in.idle_arg = l->ix;
	in.idle_ms = (int)(idle * 1000 + 0.5);
	for (;;) {
		if (l->wait != NULL)
			l->wait(&in, l->ix);
		if (!wb_reader_next_or_die(&in, &rec))
			break;
		l->add(l->ix, &rec, in.idle_ms);
	}
	l->flush(l->ix);
	status = wb_reader_status(&in);
	wb_reader_free(&in);
	if (l->report(l->ix) > 0)
		status = WB_EXIT_REJECTED;
	return status != 0 ? WB_EXIT_REJECTED : WB_EXIT_OK;
}

void
wb_indexloop_said_skipped(unsigned long long skipped)
{
	if (skipped > 0)
		wb_warn("%llu issue%s not indexed", skipped,
		    skipped == 1 ? " was" : "s were");
}
