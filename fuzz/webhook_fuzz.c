/* libFuzzer target for lib/wb_webhook.c: arbitrary headers and bodies.
 *
 * Input: one flag byte, then "event\nsignature\ndelivery\ncontent-length\n"
 * and the body (the rest). Flag bits: 1 a secret is set, 2 sign the body
 * correctly (so the fuzzer gets past the signature), 4 send no event,
 * 8 send no Content-Length. Besides crashes and sanitizer reports, it
 * aborts when a decision is wrong: anything queued that libjq would not
 * read as an issue number of the repository, or a body the scanner
 * accepts that libjq reads differently. Run by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jv.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wb_json.h"
#include "wb_record.h"
#include "wb_webhook.h"

#define SECRET "It's a Secret to Everybody"
#define REPO "webcompat/web-bugs"

/* Take the next '\n'-terminated field (NUL-terminated copy) or NULL. */
static char *
field(const uint8_t **p, size_t *left)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n;
	char *s;

	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - *p);
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + 1;
	*left -= n + 1;
	return s;
}

/* What libjq makes of the body of an issue event: status and number. */
static int
jq_decision(const char *body, size_t len, long *number)
{
	jv v = jv_parse_sized(body, (int)len), name, num;
	const char *why;
	int status;

	*number = 0;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return 400;
	}
	name = wb_json_path(v, "repository.full_name");
	num = wb_json_path(v, "issue.number");
	if (jv_get_kind(name) != JV_KIND_STRING)
		status = 400;
	else if ((size_t)jv_string_length_bytes(jv_copy(name)) != strlen(REPO) ||
	    strncasecmp(jv_string_value(name), REPO, strlen(REPO)) != 0)
		status = 202;
	else if (!jv_is_valid(num) || wb_number_from_jv(num, number, &why) < 0)
		status = 400;
	else
		status = 202;
	jv_free(name);
	jv_free(num);
	jv_free(v);
	return status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_hook_config cfg = { NULL, 0, REPO };
	struct wb_hook_request req = { 0 };
	struct wb_hook_decision d;
	char *event, *sig, *delivery, *cl, good[80];
	unsigned char mac[32];
	unsigned int maclen;
	uint8_t flags;
	long n;

	if (size < 1)
		return 0;
	flags = data[0];
	data++, size--;
	event = field(&data, &size);
	sig = field(&data, &size);
	delivery = field(&data, &size);
	cl = field(&data, &size);
	req.event = flags & 4 ? NULL : event;
	req.signature = sig;
	req.delivery = delivery;
	req.content_length = flags & 8 ? NULL : cl;
	req.body = (const char *)data;
	req.len = size;
	if (flags & 1) {
		cfg.secret = SECRET;
		cfg.secret_len = strlen(SECRET);
	}
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), data, size, mac, &maclen);
	strcpy(good, "sha256=");
	for (int i = 0; i < 32; i++)
		sprintf(good + 7 + 2 * i, "%02x", mac[i]);
	if (flags & 2)
		req.signature = good;

	wb_webhook_route(event ? event : "", sig ? sig : "");
	if (wb_webhook_headers(&cfg, &req, &d) != 0 && (d.status < 400 ||
	    d.enqueue))
		abort();
	wb_webhook_decide(&cfg, &req, &d);
	if (strlen(d.delivery) >= sizeof d.delivery || strlen(d.event) >=
	    sizeof d.event || strlen(d.action) >= sizeof d.action)
		abort();
	for (const char *p = d.action; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			abort();
	if (d.enqueue && (d.status != 202 || d.number < 1 ||
	    d.number > 2147483647L || req.event == NULL ||
	    (strcmp(req.event, "issues") != 0 &&
	    strcmp(req.event, "issue_comment") != 0)))
		abort();
	if (d.enqueue && cfg.secret != NULL &&
	    (req.signature == NULL || strcasecmp(req.signature, good) != 0))
		abort();	/* queued with a signature we did not make */
	/* Whatever the scanner read as JSON, libjq must read the same way. */
	if (req.event != NULL && (strcmp(req.event, "issues") == 0 ||
	    strcmp(req.event, "issue_comment") == 0) &&
	    (d.status == 202 || (d.status == 400 &&
	    strcmp(d.outcome, "body is not a JSON object") != 0 &&
	    strcmp(d.outcome, "bad Content-Length") != 0 &&
	    strcmp(d.outcome, "no X-GitHub-Event") != 0))) {
		int st = jq_decision(req.body, req.len, &n);

		if (st != d.status || n != d.number) {
			fprintf(stderr, "scanner %d %ld (%s), libjq %d %ld\n",
			    d.status, d.number, d.outcome, st, n);
			abort();
		}
	}
	free(event);
	free(sig);
	free(delivery);
	free(cl);
	return 0;
}
