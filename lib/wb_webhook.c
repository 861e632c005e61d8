/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a GitHub webhook delivery, from request to decision.
 *
 * The headers are checked first, then the HMAC of the raw body; the body
 * is read as JSON (by lib/wb_jscan) only once its signature matched, and
 * only the values a decision needs are taken from it, each checked for
 * its kind.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wb_jscan.h"
#include "wb_scan.h"
#include "wb_webhook.h"

#define SIG_PREFIX "sha256="
#define SIG_HEX 64

enum wb_hook_route
wb_webhook_route(const char *method, const char *path)
{
	if (strcmp(path, WB_HOOK_PATH) == 0)
		return strcmp(method, "POST") == 0 ? WB_HOOK_RECEIVE :
		    WB_HOOK_BAD_METHOD;
	if (strcmp(path, WB_HOOK_HEALTH_PATH) == 0)
		return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ?
		    WB_HOOK_HEALTH : WB_HOOK_BAD_METHOD;
	if (strcmp(path, WB_HOOK_METRICS_PATH) == 0)
		return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ?
		    WB_HOOK_METRICS : WB_HOOK_BAD_METHOD;
	return WB_HOOK_NOT_FOUND;
}

/*
 * Copy the 'len' bytes at 's' (may be NULL) into 'dst' of 'dstlen' bytes
 * for a log line: bytes outside printable ASCII (and space) become '?', a
 * value longer than dstlen - 4 bytes is cut there and ends in "...", an
 * absent or empty one is "-".
 */
static void
wb_webhook_sanitise(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t i, n;

	if (dstlen < 5)
		return;
	if (s == NULL || len == 0) {
		strcpy(dst, "-");
		return;
	}
	n = len < dstlen - 4 ? len : dstlen - 4;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (n < len) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode "sha256=<64 hex>" into 'mac'; returns 0, or -1 if malformed. */
static int
parse_signature(const char *s, unsigned char mac[32])
{
	size_t pl = sizeof SIG_PREFIX - 1;

	if (strncmp(s, SIG_PREFIX, pl) != 0 || strlen(s + pl) != SIG_HEX)
		return -1;
	s += pl;
	for (int i = 0; i < 32; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
start(const struct wb_hook_request *req, struct wb_hook_decision *d)
{
	memset(d, 0, sizeof *d);
	wb_webhook_sanitise(d->delivery, sizeof d->delivery, req->delivery,
	    req->delivery != NULL ? strlen(req->delivery) : 0);
	wb_webhook_sanitise(d->event, sizeof d->event, req->event,
	    req->event != NULL ? strlen(req->event) : 0);
	strcpy(d->action, "-");
}

static int
answer(struct wb_hook_decision *d, int status, const char *outcome)
{
	d->status = status;
	d->outcome = outcome;
	return status;
}

int
wb_webhook_headers(const struct wb_hook_config *cfg,
    const struct wb_hook_request *req, struct wb_hook_decision *d)
{
	unsigned char mac[32];
	unsigned long long cl;

	start(req, d);
	if (req->content_length != NULL) {
		if (wb_scan_uint(req->content_length, strlen(req->content_length),
		    0, ~0ULL, &cl, NULL, 0) < 0)
			return answer(d, 400, "bad Content-Length");
		if (cl > WB_HOOK_BODY_MAX)
			return answer(d, 413, "body over 25 MB");
	}
	if (cfg->secret != NULL) {
		if (req->signature == NULL)
			return answer(d, 401, "no X-Hub-Signature-256");
		if (parse_signature(req->signature, mac) < 0)
			return answer(d, 401, "malformed X-Hub-Signature-256");
	}
	return 0;
}

/* 1 when the signature of the body matches, 0 otherwise. */
static int
signature_ok(const struct wb_hook_config *cfg, const struct wb_hook_request *req)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int gotlen = 0;

	if (parse_signature(req->signature, want) < 0)
		return 0;
	if (cfg->secret_len > (size_t)INT_MAX)
		return 0;
	if (HMAC(EVP_sha256(), cfg->secret, (int)cfg->secret_len,
	    (const unsigned char *)req->body, req->len, got, &gotlen) == NULL ||
	    gotlen != 32)
		return 0;
	return CRYPTO_memcmp(want, got, 32) == 0;
}

/* Does the scanned string 'raw' equal 'want', ignoring ASCII case? */
static int
same_name(const char *raw, size_t len, const char *want)
{
	char got[512];
	size_t n;

	if (wb_jscan_unescape(raw, len, got, sizeof got, &n) < 0 ||
	    n != strlen(want))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)got[i]) != tolower((unsigned char)want[i]))
			return 0;
	return 1;
}

enum { ACTION, FULL_NAME, NUMBER };
static const char *const wanted[] = { "action", "repository.full_name",
    "issue.number" };

/*
 * Read the JSON body of an issue event into 'd'. The body is scanned, not
 * built into a tree (see wb_jscan.h): the whole of it is checked, and only
 * the three values a decision needs are kept, each checked for its kind.
 */
static void
decide_issue(const struct wb_hook_config *cfg, const struct wb_hook_request *req,
    struct wb_hook_decision *d)
{
	struct wb_jscan_value v[3];
	char reason[80];
	unsigned long long n;

	if (wb_jscan_paths(req->body, req->len, wanted, 3, v, reason,
	    sizeof reason) < 0) {
		answer(d, 400, "body is not a JSON object");
		return;
	}
	if (v[ACTION].kind == WB_JSCAN_STRING) {
		char a[sizeof d->action];
		size_t al;

		/* Decoding stops past what the log keeps; sanitise marks the cut. */
		if (wb_jscan_unescape(req->body + v[ACTION].off, v[ACTION].len,
		    a, sizeof a, &al) < 0)
			while (al < sizeof a)
				a[al++] = '?';
		wb_webhook_sanitise(d->action, sizeof d->action, a, al);
	}
	if (v[FULL_NAME].kind != WB_JSCAN_STRING) {
		answer(d, 400, "no repository.full_name");
		return;
	}
	if (!same_name(req->body + v[FULL_NAME].off, v[FULL_NAME].len,
	    cfg->repo)) {
		d->quiet = 1;
		answer(d, 202, "other repository, ignored");
		return;
	}
	if (v[NUMBER].kind == WB_JSCAN_ABSENT) {
		answer(d, 400, "no issue.number");
		return;
	}
	if (v[NUMBER].kind != WB_JSCAN_NUMBER) {
		answer(d, 400, "issue.number is not a number");
		return;
	}
	/*
	 * GitHub writes issue numbers as plain integers; 1.2e2 or 120.0 is
	 * not what it sends, so it is refused, as by wb_scan everywhere else.
	 */
	if (wb_scan_uint(req->body + v[NUMBER].off, v[NUMBER].len, 1,
	    WB_NUMBER_MAX, &n, NULL, 0) < 0) {
		answer(d, 400, "issue.number is not a decimal integer in "
		    "1..2147483647");
		return;
	}
	d->number = (long)n;
	d->enqueue = 1;
	answer(d, 202, "queued");
}

void
wb_webhook_decide(const struct wb_hook_config *cfg,
    const struct wb_hook_request *req, struct wb_hook_decision *d)
{
	if (wb_webhook_headers(cfg, req, d) != 0)
		return;
	if (req->len > WB_HOOK_BODY_MAX) {
		answer(d, 413, "body over 25 MB");
		return;
	}
	if (cfg->secret != NULL && !signature_ok(cfg, req)) {
		answer(d, 401, "signature mismatch");
		return;
	}
	if (req->event == NULL) {
		answer(d, 400, "no X-GitHub-Event");
		return;
	}
	if (strcmp(req->event, "ping") == 0) {
		answer(d, 200, "ping");
		return;
	}
	if (strcmp(req->event, "issues") != 0 &&
	    strcmp(req->event, "issue_comment") != 0) {
		d->quiet = 1;
		answer(d, 202, "other event, ignored");
		return;
	}
	decide_issue(cfg, req, d);
}
