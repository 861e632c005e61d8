/* SPDX-License-Identifier: MPL-2.0 */
/* wb — installing index templates (PUT _index_template/NAME). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_archive.h"
#include "wb_err.h"
#include "wb_esload.h"
#include "wb_estemplate.h"
#include "wb_pipe.h"

/* PUT the template text[0..len) as 'name'; dies if it is not installed. */
static void
put_template_or_die(struct wb_esconn *es, const char *name, const char *text,
    size_t len)
{
	const char *headers[3] = { "Content-Type: application/json", es->auth,
	    NULL };
	struct wb_http_response r;
	char path[256], why[512], *u;

	snprintf(path, sizeof path, "/_index_template/%s", name);
	u = wb_esconn_url(es, path);
	if (wb_http_request(es->http, "PUT", u, headers, text, len, 1 << 20,
	    &r) < 0) {
		if (r.reader_gone)
			wb_pipe_die();
		wb_die(WB_EXIT_TEMP, "unable to install template %s: %s", name,
		    r.error);
	}
	free(u);
	if (r.status != 200 || !wb_es_acknowledged(r.body, r.len)) {
		if (r.status == 200)
			snprintf(why, sizeof why, "not acknowledged");
		else
			wb_es_error_text(r.body, r.len, why, sizeof why);
		wb_die(r.status == 401 || r.status == 403 || r.status < 500 ?
		    WB_EXIT_USAGE : WB_EXIT_TEMP, "unable to install template %s "
		    "(HTTP %ld): %s", name, r.status, why);
	}
	wb_http_response_free(&r);
}

int
wb_estemplate_install_or_die(struct wb_esconn *es, const char *dir)
{
	struct wb_es_buf text = { 0 };
	struct dirent **names;
	char path[4096], name[128], why[512];
	int n, count = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		wb_diesys(WB_EXIT_USAGE, "unable to list %s", dir);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);

		if (len <= 5 || len - 5 >= sizeof name ||
		    strcmp(names[i]->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(len - 5),
		    names[i]->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (wb_archive_load(path, &text.p, &text.cap, &text.len) < 0)
			wb_diesys(errno == ENOMEM ? WB_EXIT_TEMP :
			    WB_EXIT_USAGE, "unable to read %s", path);
		if (wb_es_template_check(name, text.p, text.len, why,
		    sizeof why) < 0)
			wb_die(WB_EXIT_USAGE, "%s: %s", path, why);
		put_template_or_die(es, name, text.p, text.len);
		wb_info("installed index template %s", name);
		count++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	wb_es_buf_free(&text);
	if (count == 0)
		wb_die(WB_EXIT_USAGE, "no *.json template in %s", dir);
	return WB_EXIT_OK;
}
