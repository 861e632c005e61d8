/* wb — a GitHub webhook delivery, from request to decision.
 *
 * The body is trusted only after its signature matched, and parsed only
 * then; every field read from it is checked for its kind first.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <jv.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wb_json.h"
#include "wb_record.h"
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
	return WB_HOOK_NOT_FOUND;
}

void
wb_webhook_sanitise(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, len;

	if (dstlen < 5)
		return;
	if (s == NULL || *s == '\0' || n == 0) {
		strcpy(dst, "-");
		return;
	}
	len = strnlen(s, n + 1);
	if (len > n)
		len = n + 1;	/* more than n: cut below */
	for (i = 0; i < len && i < n && i < dstlen - 4; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (i < len) {
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
	wb_webhook_sanitise(d->delivery, sizeof d->delivery, req->delivery, 64);
	wb_webhook_sanitise(d->event, sizeof d->event, req->event, 32);
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
	const char *why;

	start(req, d);
	if (req->content_length != NULL) {
		if (wb_scan_uint(req->content_length, strlen(req->content_length),
		    0, ~0ULL, &cl, &why) < 0)
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

/* Read the JSON body of an issue event into 'd'; consumes nothing. */
static void
decide_issue(const struct wb_hook_config *cfg, const struct wb_hook_request *req,
    struct wb_hook_decision *d)
{
	jv body, v;
	const char *s, *why;
	long n;

	if (req->len > (size_t)INT_MAX) {
		answer(d, 413, "body over 25 MB");
		return;
	}
	body = jv_parse_sized(req->body, (int)req->len);
	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		jv_free(body);
		answer(d, 400, "body is not a JSON object");
		return;
	}
	s = wb_json_string(body, "action");
	if (s != NULL)
		wb_webhook_sanitise(d->action, sizeof d->action, s, 32);
	v = wb_json_path(body, "repository.full_name");
	if (jv_get_kind(v) != JV_KIND_STRING) {
		answer(d, 400, "no repository.full_name");
	} else if (strcasecmp(jv_string_value(v), cfg->repo) != 0 ||
	    (size_t)jv_string_length_bytes(jv_copy(v)) != strlen(cfg->repo)) {
		d->quiet = 1;
		answer(d, 202, "other repository, ignored");
	} else {
		jv num = wb_json_path(body, "issue.number");

		if (!jv_is_valid(num))
			answer(d, 400, "no issue.number");
		else if (wb_number_from_jv(num, &n, &why) < 0)
			answer(d, 400, jv_get_kind(num) != JV_KIND_NUMBER ?
			    "issue.number is not a number" :
			    "issue.number is not an integer in 1..2147483647");
		else {
			d->number = n;
			d->enqueue = 1;
			answer(d, 202, "queued");
		}
		jv_free(num);
	}
	jv_free(v);
	jv_free(body);
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
