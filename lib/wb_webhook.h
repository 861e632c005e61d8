/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a GitHub webhook delivery, from request to decision.
 *
 * No sockets here: wb-hook(1) hands in the method, path, headers and raw
 * body, and gets back the HTTP status to answer and whether an issue
 * number is to be queued. That keeps every check testable and fuzzable
 * without a server (fuzz/webhook_fuzz.c).
 */
#ifndef WB_WEBHOOK_H
#define WB_WEBHOOK_H

#include <stddef.h>

#define WB_HOOK_BODY_MAX (25ULL * 1024 * 1024)	/* GitHub's largest payload */
#define WB_HOOK_PATH "/github/receive"
#define WB_HOOK_HEALTH_PATH "/healthz"
#define WB_HOOK_METRICS_PATH "/metrics"

enum wb_hook_route {
	WB_HOOK_RECEIVE,	/* POST /github/receive */
	WB_HOOK_HEALTH,		/* GET or HEAD /healthz */
	WB_HOOK_METRICS,	/* GET or HEAD /metrics */
	WB_HOOK_NOT_FOUND,	/* any other path: 404 */
	WB_HOOK_BAD_METHOD	/* a known path, another method: 405 */
};

struct wb_hook_config {
	const char *secret;	/* WB_HOOK_SECRET, NULL: signatures not checked */
	size_t secret_len;
	const char *repo;	/* WB_REPO, "owner/name" */
};

/* What a delivery carries; every pointer is borrowed, NULL when absent. */
struct wb_hook_request {
	const char *event;		/* X-GitHub-Event */
	const char *signature;		/* X-Hub-Signature-256 */
	const char *delivery;		/* X-GitHub-Delivery */
	const char *content_length;	/* Content-Length, when the client sent one */
	const char *body;		/* the raw body, 'len' bytes */
	size_t len;
};

struct wb_hook_decision {
	int status;		/* HTTP status to answer */
	int enqueue;		/* 1: queue 'number' into download first, and
				   answer 'status' (202) only once Redis
				   confirmed it, 503 otherwise */
	int quiet;		/* 1: an ignored delivery, logged at debug level */
	long number;		/* issue number, 0 if none was read */
	const char *outcome;	/* static text for the log: "queued", ... */
	/* Request fields for the log, sanitised: printable ASCII only,
	 * bounded, "-" when absent. */
	char delivery[68];	/* 64 bytes, or 64 and "..." */
	char event[36];		/* 32 bytes, or 32 and "..." */
	char action[36];
};

/* Which handler 'method' and 'path' (borrowed) go to. */
enum wb_hook_route wb_webhook_route(const char *method, const char *path);

/*
 * The checks that need only the headers of a POST to the receive path:
 * a Content-Length over WB_HOOK_BODY_MAX (413) and, when a secret is set,
 * a missing or malformed signature (401). Fills 'd' (its log fields too)
 * and returns 0 when the body is worth reading, or the status to answer
 * now without reading it.
 */
int wb_webhook_headers(const struct wb_hook_config *cfg,
    const struct wb_hook_request *req, struct wb_hook_decision *d);

/*
 * Decide on a complete delivery: the header checks again, then the
 * signature over the raw body (constant-time), then the event, and for
 * "issues" and "issue_comment" the JSON body: repository.full_name must be
 * cfg->repo (compared ignoring case, as GitHub does) and issue.number an
 * integer 1..2^31-1. Always fills 'd'; d->enqueue is set only for a
 * signed (when a secret is set), well-formed event of cfg->repo.
 */
void wb_webhook_decide(const struct wb_hook_config *cfg,
    const struct wb_hook_request *req, struct wb_hook_decision *d);

#endif
