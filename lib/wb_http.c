/* SPDX-License-Identifier: MPL-2.0 */
/* wb — an HTTP client over libcurl: one kept-alive handle, limits, timeouts. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "wb_clock.h"
#include "wb_err.h"
#include "wb_http.h"
#include "wb_pipe.h"

/* How often a transfer looks whether standard output's reader is gone. */
#define WATCH_MS 200

struct wb_http {
	CURL *curl;
	long long watched;	/* when stdout was last looked at */
	int reader_gone;	/* it was found gone: the transfer is cut */
	char errbuf[CURL_ERROR_SIZE];
};

struct sink {
	char *buf;
	size_t len, cap, max;
	int too_big;
};

static int
grow(struct sink *s, const char *data, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t want = s->cap ? s->cap * 2 : 16384;
		char *nb;

		while (want < s->len + n + 1)
			want *= 2;
		nb = realloc(s->buf, want);
		if (nb == NULL)
			return -1;
		s->buf = nb;
		s->cap = want;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->len + n > s->max) {
		s->too_big = 1;
		return 0;	/* aborts the transfer */
	}
	return grow(s, data, n) < 0 ? 0 : n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	/* A new status line starts a new answer (after 100 Continue). */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
		s->len = 0;
	if (s->len + n > s->max)
		return 0;
	return grow(s, data, n) < 0 ? 0 : n;
}

/*
 * libcurl calls this often during a transfer, and about once a second
 * while it waits: a stage waiting on a server learns that its reader is
 * gone at once, not when the answer comes (a non-zero return cuts the
 * transfer).
 */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct wb_http *h = arg;
	long long now = wb_clock_ms();

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (now - h->watched >= WATCH_MS) {
		h->watched = now;
		if (wb_pipe_out_gone())
			h->reader_gone = 1;
	}
	return h->reader_gone;
}

static int curl_ready;

struct wb_http *
wb_http_new(const char *user_agent, long timeout_ms)
{
	struct wb_http *h;
	const char *ca;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return NULL;
		curl_ready = 1;
	}
	h = calloc(1, sizeof *h);
	if (h == NULL || (h->curl = curl_easy_init()) == NULL) {
		free(h);
		return NULL;
	}
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, user_agent);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS,
	    timeout_ms > 0 ? timeout_ms : 300000L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* As the curl command does: a private CA for HTTPS servers. */
	if ((ca = getenv("CURL_CA_BUNDLE")) != NULL && *ca != '\0')
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	return h;
}

void
wb_http_free(struct wb_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

int
wb_http_request(struct wb_http *h, const char *method, const char *url,
    const char *const *headers, const char *body, size_t body_len,
    size_t max_body, struct wb_http_response *resp)
{
	struct sink b = { .max = max_body }, hd = { .max = 1 << 20 };
	struct curl_slist *list = NULL, *l;
	char where[512];
	int expect = 0;
	CURLcode rc;

	memset(resp, 0, sizeof *resp);
	for (; headers != NULL && *headers != NULL; headers++) {
		if (strncasecmp(*headers, "Expect:", 7) == 0)
			expect = 1;
		if ((l = curl_slist_append(list, *headers)) == NULL)
			goto oom;
		list = l;
	}
	/* No "Expect: 100-continue" round trip before a body, unless asked. */
	if (body != NULL && !expect) {
		if ((l = curl_slist_append(list, "Expect:")) == NULL)
			goto oom;
		list = l;
	}
	/*
	 * When asked, the answer to the Expect is waited for up to 30 s, not
	 * libcurl's 1 s: a server that takes longer to refuse would
	 * otherwise get the body it was asked about.
	 */
	curl_easy_setopt(h->curl, CURLOPT_EXPECT_100_TIMEOUT_MS,
	    expect ? 30000L : 1000L);
	h->errbuf[0] = '\0';
	h->reader_gone = 0;
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &hd);
	if (body != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	} else
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST,
	    strcmp(method, body != NULL ? "POST" : "GET") == 0 ? NULL : method);
	curl_easy_setopt(h->curl, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0);
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);
	resp->body = b.buf;
	resp->len = b.len;
	resp->headers = hd.buf;
	resp->headers_len = hd.len;
	resp->too_big = b.too_big;
	resp->reader_gone = h->reader_gone;
	if (rc != CURLE_OK) {
		wb_http_redact(url, where, sizeof where);
		snprintf(resp->error, sizeof resp->error, "%s: %s", where,
		    b.too_big ? "answer larger than the limit" :
		    h->reader_gone ? "standard output's reader is gone" :
		    h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	return 0;
oom:
	curl_slist_free_all(list);
	snprintf(resp->error, sizeof resp->error, "out of memory");
	return -1;
}

void
wb_http_response_free(struct wb_http_response *resp)
{
	free(resp->body);
	free(resp->headers);
	resp->body = resp->headers = NULL;
	resp->len = resp->headers_len = 0;
}

int
wb_http_header(const struct wb_http_response *resp, const char *name,
    char *buf, size_t buflen)
{
	size_t nl = strlen(name), n = 0;
	const char *p = resp->headers;
	int found = 0, over = 0;

	if (p == NULL || buflen == 0)
		return 0;
	buf[0] = '\0';
	/* Every field of that name, in order: one list (RFC 9110, 5.3). */
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t linelen = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (linelen > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1, *e = p + linelen;
			size_t k;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' ' ||
			    e[-1] == '\t'))
				e--;
			if (found++ > 0 && !over) {
				if (n + 2 >= buflen)
					over = 1;
				else {
					memcpy(buf + n, ", ", 2);
					n += 2;
				}
			}
			k = (size_t)(e - v);
			if (!over) {
				if (n + k >= buflen) {
					k = buflen - 1 - n;
					over = 1;
				}
				memcpy(buf + n, v, k);
				n += k;
				buf[n] = '\0';
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return !found ? 0 : over ? 2 : 1;
}

void
wb_http_redact(const char *url, char *buf, size_t buflen)
{
	const char *scheme = strstr(url, "://");
	const char *host, *at, *end;

	if (scheme == NULL) {
		snprintf(buf, buflen, "%s", url);
		return;
	}
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at == NULL) {
		snprintf(buf, buflen, "%s", url);
		return;
	}
	snprintf(buf, buflen, "%.*s***%s", (int)(host - url), url, at);
}
