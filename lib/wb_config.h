/* SPDX-License-Identifier: MPL-2.0 */
/* wb — configuration from the environment (SPEC.md, "Configuration"). */
#ifndef WB_CONFIG_H
#define WB_CONFIG_H

struct wb_config {
	const char *repo;		/* WB_REPO, "owner/name" */
	const char *private_repo;	/* WB_PRIVATE_REPO */
	const char *private_titles;	/* WB_PRIVATE_TITLES, '|'-separated */
	const char *github_token;	/* WB_GITHUB_TOKEN or GITHUB_TOKEN; NULL if none */
	const char *github_api;		/* WB_GITHUB_API */
	const char *redis;		/* WB_REDIS */
	const char *data;		/* WB_DATA */
	double delay;			/* WB_DELAY, seconds */
	const char *es;			/* WB_ES */
	const char *es_api_key;		/* WB_ES_API_KEY; NULL if none */
	const char *hook_listen;	/* WB_HOOK_LISTEN */
	const char *hook_secret;	/* WB_HOOK_SECRET; NULL if none */
	long long max_deliveries;	/* WB_MAX_DELIVERIES, 1..1000000 */
	const char *sqlite;		/* WB_SQLITE, else $WB_DATA/wb.sqlite */
};

/*
 * Fill 'cfg' from the environment, with SPEC.md's defaults for what is
 * unset or empty. A malformed value (WB_DELAY that is not a number of
 * seconds, WB_REPO without a '/', WB_MAX_DELIVERIES that is not an integer
 * from 1 to 1000000) is a permanent error: exits 100 with a
 * message naming the variable. The strings belong to the environment.
 */
void wb_config_load_or_die(struct wb_config *cfg);

#endif
