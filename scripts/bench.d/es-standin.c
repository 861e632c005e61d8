/* SPDX-License-Identifier: MPL-2.0 */
/* es-standin — an Elasticsearch stand-in for benchmarks: it accepts _bulk
 * requests of "index" actions and indexes nothing, so that a benchmark of
 * wb-bulk measures wb-bulk. The Python double (t/es-double.py --stand-in)
 * does the same but costs about 5 ms per MB; this one costs well under 1.
 *
 * Like the double, it checks what it is sent: Content-Type
 * application/x-ndjson, a final newline, every other line an action line
 * {"index":{"_index":"...","_id":"..."}} and every source line one object
 * on one line; it answers the documented shape, item by item, in the order
 * sent (the filter_path wb-bulk asks for, or the full items). It answers
 * _delete_by_query (nothing deleted), _refresh and GET /_double/stats.
 *
 * Built by scripts/bench.d/40-bulk.sh:
 *   cc -O2 -o es-standin scripts/bench.d/es-standin.c $(pkg-config --cflags --libs libmicrohttpd)
 * Usage: es-standin PORT-FILE (listens on 127.0.0.1, a free port).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

#define FILTER "errors,items.*._id,items.*.status,items.*.error"

struct req {
	char *buf;
	size_t len, cap;
};

static unsigned long long n_bulk, n_docs, n_bytes, max_bytes, n_dbq, n_refresh;

static MHD_RESULT
answer(struct MHD_Connection *c, unsigned status, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	MHD_RESULT ok;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static MHD_RESULT
fail(struct MHD_Connection *c, unsigned status, const char *reason)
{
	char *b = malloc(512);
	int n = snprintf(b, 512, "{\"error\":{\"type\":\"illegal_argument_exception\","
	    "\"reason\":\"%s\"},\"status\":%u}", reason, status);

	return answer(c, status, b, (size_t)n);
}

/* Append to *out (grown as needed). */
static void
put(struct req *out, const char *s, size_t n)
{
	if (out->len + n + 1 > out->cap) {
		while (out->len + n + 1 > out->cap)
			out->cap = out->cap ? out->cap * 2 : 1 << 20;
		if ((out->buf = realloc(out->buf, out->cap)) == NULL)
			abort();
	}
	memcpy(out->buf + out->len, s, n);
	out->len += n;
}

#define PUTS(o, s) put((o), (s), strlen(s))

/* The quoted name after 'key' at *p (no escapes allowed), or NULL. */
static const char *
field(const char **p, const char *end, const char *key, size_t *n)
{
	size_t k = strlen(key);
	const char *q;

	if ((size_t)(end - *p) < k || memcmp(*p, key, k) != 0)
		return NULL;
	q = *p + k;
	*p = q;
	while (*p < end && **p != '"' && **p != '\\')
		(*p)++;
	if (*p >= end || **p != '"' || *p == q)
		return NULL;
	*n = (size_t)(*p - q);
	(*p)++;
	return q;
}

static MHD_RESULT
bulk(struct MHD_Connection *c, const struct req *in)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Content-Type");
	const char *filter = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "filter_path");
	const char *p = in->buf, *end = in->buf + in->len;
	int short_form = filter != NULL && strcmp(filter, FILTER) == 0;
	struct req out = { 0 };
	unsigned long long docs = 0;

	if (type == NULL || strncmp(type, "application/x-ndjson", 20) != 0)
		return fail(c, 406, "Content-Type must be application/x-ndjson");
	if (in->len == 0 || end[-1] != '\n')
		return fail(c, 400, "The bulk request must be terminated by a newline [\\\\n]");
	if (filter != NULL && !short_form)
		return fail(c, 400, "this stand-in knows one filter_path");
	PUTS(&out, short_form ? "{\"errors\":false,\"items\":[" :
	    "{\"took\":1,\"errors\":false,\"items\":[");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *src, *idx, *id;
		size_t ni, nd;

		idx = field(&p, eol, "{\"index\":{\"_index\":\"", &ni);
		id = idx ? field(&p, eol, ",\"_id\":\"", &nd) : NULL;
		if (id == NULL || eol - p != 2 || memcmp(p, "}}", 2) != 0) {
			free(out.buf);
			return fail(c, 400, "Malformed action/metadata line");
		}
		src = eol + 1;
		eol = src < end ? memchr(src, '\n', (size_t)(end - src)) : NULL;
		if (eol == NULL || eol - src < 2 || *src != '{' || eol[-1] != '}') {
			free(out.buf);
			return fail(c, 400, "a source line is not one object");
		}
		if (docs++ > 0)
			PUTS(&out, ",");
		PUTS(&out, "{\"index\":{");
		if (!short_form) {
			PUTS(&out, "\"_index\":\"");
			put(&out, idx, ni);
			PUTS(&out, "\",");
		}
		PUTS(&out, "\"_id\":\"");
		put(&out, id, nd);
		PUTS(&out, short_form ? "\",\"status\":201}}" :
		    "\",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":2,"
		    "\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1,"
		    "\"status\":201}}");
		p = eol + 1;
	}
	PUTS(&out, "]}");
	n_bulk++;
	n_docs += docs;
	n_bytes += in->len;
	if (in->len > max_bytes)
		max_bytes = in->len;
	return answer(c, 200, out.buf, out.len);
}

static MHD_RESULT
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **state)
{
	struct req *in = *state;
	size_t ul = strlen(url);
	char *b;
	int n;

	(void)cls, (void)version;
	if (in == NULL) {
		if ((in = calloc(1, sizeof *in)) == NULL)
			return MHD_NO;
		*state = in;
		return MHD_YES;
	}
	if (*size > 0) {
		put(in, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/_double/stats") == 0) {
		if (strcmp(method, "DELETE") == 0)
			n_bulk = n_docs = n_bytes = max_bytes = n_dbq = n_refresh = 0;
		b = malloc(512);
		n = snprintf(b, 512, "{\"bulk\":%llu,\"bulk_docs\":%llu,"
		    "\"bulk_bytes\":%llu,\"bulk_max_bytes\":%llu,"
		    "\"delete_by_query\":%llu,\"refresh\":%llu}", n_bulk, n_docs,
		    n_bytes, max_bytes, n_dbq, n_refresh);
		return answer(c, 200, b, (size_t)n);
	}
	if (strcmp(method, "POST") != 0)
		return fail(c, 405, "method not allowed");
	if (ul >= 6 && strcmp(url + ul - 6, "/_bulk") == 0)
		return bulk(c, in);
	if (ul >= 17 && strcmp(url + ul - 17, "/_delete_by_query") == 0) {
		if (in->len < 2 || in->buf[0] != '{' || in->buf[in->len - 1] != '}')
			return fail(c, 400, "request body is required");
		n_dbq++;
		b = strdup("{\"took\":1,\"timed_out\":false,\"total\":0,\"deleted\":0,"
		    "\"batches\":0,\"version_conflicts\":0,\"noops\":0,\"retries\":"
		    "{\"bulk\":0,\"search\":0},\"throttled_millis\":0,"
		    "\"requests_per_second\":-1.0,\"throttled_until_millis\":0,"
		    "\"failures\":[]}");
		return answer(c, 200, b, strlen(b));
	}
	if (ul >= 9 && strcmp(url + ul - 9, "/_refresh") == 0) {
		n_refresh++;
		b = strdup("{\"_shards\":{\"total\":2,\"successful\":2,\"failed\":0}}");
		return answer(c, 200, b, strlen(b));
	}
	return fail(c, 400, "no handler");
}

static void
completed(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	struct req *in = *state;

	(void)cls, (void)c, (void)toe;
	if (in != NULL)
		free(in->buf);
	free(in);
	*state = NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	char tmp[4096];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: es-standin PORT-FILE\n");
		return 100;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
	if (d == NULL || (info = MHD_get_daemon_info(d,
	    MHD_DAEMON_INFO_BIND_PORT)) == NULL) {
		fprintf(stderr, "es-standin: unable to listen\n");
		return 111;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	if ((f = fopen(tmp, "w")) == NULL)
		return 111;
	fprintf(f, "%u\n", (unsigned)info->port);
	fclose(f);
	rename(tmp, argv[1]);
	for (;;)
		pause();
}
