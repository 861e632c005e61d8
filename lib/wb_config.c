/* SPDX-License-Identifier: MPL-2.0 */
/* wb — configuration from the environment, with SPEC.md's defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_config.h"
#include "wb_err.h"
#include "wb_scan.h"

static const char *
env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : dflt;
}

void
wb_config_load_or_die(struct wb_config *cfg)
{
	static char sqlite[4096];
	const char *delay, *max;
	char why[32];
	const char *slash;
	unsigned long long n;

	cfg->repo = env("WB_REPO", "webcompat/web-bugs");
	cfg->private_repo = env("WB_PRIVATE_REPO", "web-bugs-private");
	cfg->private_titles = env("WB_PRIVATE_TITLES",
	    "In the moderation queue.|Issue closed.");
	cfg->github_token = env("WB_GITHUB_TOKEN", env("GITHUB_TOKEN", NULL));
	cfg->github_api = env("WB_GITHUB_API", "https://api.github.com");
	cfg->redis = env("WB_REDIS", "redis://127.0.0.1:6379/0");
	cfg->data = env("WB_DATA", "./data");
	cfg->es = env("WB_ES", "http://127.0.0.1:9200");
	cfg->es_api_key = env("WB_ES_API_KEY", NULL);
	cfg->hook_listen = env("WB_HOOK_LISTEN", "127.0.0.1:8080");
	cfg->hook_secret = env("WB_HOOK_SECRET", NULL);
	cfg->sqlite = env("WB_SQLITE", NULL);
	if (cfg->sqlite == NULL) {
		if ((size_t)snprintf(sqlite, sizeof sqlite, "%s/wb.sqlite",
		    cfg->data) >= sizeof sqlite)
			wb_die(WB_EXIT_USAGE, "WB_DATA is too long");
		cfg->sqlite = sqlite;
	}

	delay = env("WB_DELAY", "300");
	if (wb_scan_seconds(delay, &cfg->delay) < 0)
		wb_die(WB_EXIT_USAGE, "WB_DELAY is not a number of seconds: %s",
		    delay);
	max = env("WB_MAX_DELIVERIES", "10");
	if (wb_scan_uint(max, strlen(max), 1, 1000000, &n, why, sizeof why) < 0)
		wb_die(WB_EXIT_USAGE, "WB_MAX_DELIVERIES is %s (1 to 1000000): %s",
		    why, max);
	cfg->max_deliveries = (long long)n;
	slash = strchr(cfg->repo, '/');
	if (slash == NULL || slash == cfg->repo || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		wb_die(WB_EXIT_USAGE, "WB_REPO is not owner/name: %s", cfg->repo);
}
