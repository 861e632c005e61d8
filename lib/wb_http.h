/* SPDX-License-Identifier: MPL-2.0 */
/* wb — an HTTP client over libcurl, shared by the GitHub and ES clients.
 *
 * One handle keeps one connection alive across requests (keep-alive,
 * HTTP/2 where offered, compressed answers where offered). Redirects are
 * never followed: the caller decides. Decisions about statuses and bodies
 * are the callers'; this file only moves bytes, with limits and timeouts.
 * A request in progress when standard output's reader dies is cut short
 * and says so (resp->reader_gone): the HTTP client serves pipeline
 * stages, which then end (wb_pipe_die).
 */
#ifndef WB_HTTP_H
#define WB_HTTP_H

#include <stddef.h>

struct wb_http;

struct wb_http_response {
	long status;		/* 0 when no answer arrived */
	char *body;		/* NUL-terminated; NULL if empty */
	size_t len;
	char *headers;		/* the final answer's header block, raw */
	size_t headers_len;
	int too_big;		/* the body exceeded the cap and was cut off */
	int reader_gone;	/* cut short: standard output's reader gone */
	char error[1024];	/* transport error, when the request failed */
};

/*
 * A new client whose requests carry 'user_agent'. Requests time out after
 * 'timeout_ms' in all (0: 5 minutes) and give up on a connection that
 * moves less than 1 byte/s for 30 s. HTTPS servers are checked against
 * the system's CA certificates, or those of the file named by
 * CURL_CA_BUNDLE when it is set (as for the curl command). Returns NULL
 * only on out of memory.
 */
struct wb_http *wb_http_new(const char *user_agent, long timeout_ms);
void wb_http_free(struct wb_http *h);

/*
 * Send 'method' to 'url' with the extra 'headers' (NULL-terminated array
 * of "Name: value", may be NULL) and 'body' (may be NULL). A body is
 * sent at once, without waiting for "100 Continue", unless 'headers'
 * holds an "Expect:" header of the caller's. The answer's
 * body is kept up to 'max_body' bytes; beyond, the transfer is aborted
 * and resp->too_big set. Returns 0 when an HTTP answer arrived (whatever
 * its status), -1 on a transport error (resp->error says which, with any
 * credentials of the URL left out), or when standard output's reader went
 * away meanwhile (looked at about once a second; resp->reader_gone set).
 * Free resp with wb_http_response_free.
 */
int wb_http_request(struct wb_http *h, const char *method, const char *url,
    const char *const *headers, const char *body, size_t body_len,
    size_t max_body, struct wb_http_response *resp);

void wb_http_response_free(struct wb_http_response *resp);

/*
 * Copy the value of header 'name' (case-insensitive, blanks trimmed) into
 * buf[buflen]. A field repeated is one list (RFC 9110, 5.3): the values
 * of every field of that name, in order, joined by ", " (a proxy may
 * split a Link header in two; a singleton field such as ETag sent twice
 * then reads as malformed, which it is). Returns 1 if found, 0 if not, 2
 * if found but longer than buflen - 1 (buf then holds its beginning,
 * which is rarely of any use: check for 2 before trusting the value).
 */
int wb_http_header(const struct wb_http_response *resp, const char *name,
    char *buf, size_t buflen);

/* Copy 'url' into buf[buflen] with any "user:password@" replaced by "***@". */
void wb_http_redact(const char *url, char *buf, size_t buflen);

#endif
