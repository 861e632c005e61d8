#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# lib/wb_metrics.c's writer, without Redis: families once, series once,
# names checked, label values and help escaped, values as the format
# spells them; the exposition passes promtool check metrics. A small C
# driver calls the library.
. "${0%/*}/lib.sh"
command -v cc >/dev/null || skip_all "no C compiler"
command -v promtool >/dev/null || { echo "Bail out! no promtool (make deps installs prometheus)"; exit 1; }
[ -f "$WB_BUILD/libwb.a" ] || skip_all "no $WB_BUILD/libwb.a (run make)"
plan 22

cat >"$SCRATCH/d.c" <<'EOC'
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "wb_metrics.h"
#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })
int main(int argc, char **argv) {
	struct wb_metrics m;
	const char *c = argv[1];
	int rc = 0;
	(void)argc;
	wb_metrics_init(&m);
	if (!strcmp(c, "escape")) {
		wb_metrics_family(&m, "x_total", "counter", "a \\ back\nslash \"q\"");
		rc = wb_metrics_sample(&m, L("v", argv[2]), 1);
	} else if (!strcmp(c, "values")) {
		double v[] = { 0, -3, 1.5, 0.1, 1e20, 9007199254740991.0, NAN,
		    INFINITY, -INFINITY };
		char n[8];
		wb_metrics_family(&m, "v", "gauge", "values");
		for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
			snprintf(n, sizeof n, "%zu", i);
			wb_metrics_sample(&m, L("i", n), v[i]);
		}
	} else if (!strcmp(c, "family")) {
		/* argv[2]: a name; argv[3]: a type */
		rc = wb_metrics_family(&m, argv[2], argv[3], "h");
		if (rc == 0)
			wb_metrics_sample(&m, NULL, 1);
	} else if (!strcmp(c, "label")) {
		wb_metrics_family(&m, "f", "gauge", "h");
		rc = wb_metrics_sample(&m, L(argv[2], "x"), 1);
	} else if (!strcmp(c, "twice")) {
		wb_metrics_family(&m, "a", "gauge", "h");
		wb_metrics_sample(&m, L("q", "x", "s", "y"), 1);
		printf("%d ", wb_metrics_sample(&m, L("q", "x", "s", "y"), 2));
		printf("%d ", wb_metrics_sample(&m, L("q", "x", "s", "z"), 3));
		printf("%d ", wb_metrics_sample(&m, L("q", "x", "q", "z"), 4));
		wb_metrics_family(&m, "b", "gauge", "h");
		printf("%d ", wb_metrics_sample(&m, L("q", "x", "s", "y"), 5));
		printf("%d ", wb_metrics_family(&m, "a", "gauge", "again"));
		printf("%d ", wb_metrics_sample(&m, L("q", "w"), 6));
		printf("%d ", wb_metrics_family(&m, "c-d", "gauge", "bad"));
		printf("%d ", wb_metrics_sample(&m, L("q", "v"), 7));
		printf("%d\n", m.refused);
	} else if (!strcmp(c, "empty")) {
		rc = wb_metrics_sample(&m, NULL, 1);
		wb_metrics_family(&m, "nothing", "gauge", "no samples");
		wb_metrics_family(&m, "something", "gauge", "one");
		wb_metrics_sample(&m, NULL, 7);
	} else if (!strcmp(c, "down")) {
		wb_metrics_render(&m, 0, NULL, 0, NULL);
	} else if (!strcmp(c, "queues")) {
		struct wb_metrics_queue q[2] = {
		    { "download", { .ready = 2, .waiting = 3, .claimed = 4,
		      .expired = 1, .dead = 5, .oldest_ready_ms = 61999 } },
		    { "index", { .oldest_ready_ms = -1 } } };
		struct wb_metrics_notes n = { .remaining = 4999, .reset = 1700000000,
		    .seen = -1, .success = { 1700000001, -1, 1700000002 } };
		printf("%d\n", wb_metrics_render(&m, 1, q, 2, &n));
	}
	fwrite(m.text, 1, m.len, stdout);
	if (rc < 0)
		puts("refused");
	wb_metrics_free(&m);
	return 0;
}
EOC
flags="-std=c11 -D_GNU_SOURCE -I$TOP/lib $(pkg-config --cflags hiredis)"
case $WB_BUILD in *san*) flags="$flags -fsanitize=address,undefined" ;; esac
# shellcheck disable=SC2046,SC2086
cc $flags -o "$SCRATCH/d" "$SCRATCH/d.c" "$WB_BUILD/libwb.a" \
	$(pkg-config --libs libcurl hiredis libmicrohttpd libcrypto) -ljq -lm ||
	{ echo "Bail out! the driver does not build"; exit 1; }
d() { "$SCRATCH/d" "$@"; }
# promtool: the text is valid (lint warnings are printed, and fail too).
check() { printf '%s\n' "$1" | promtool check metrics 2>&1; }

out=$(d escape 'a\b"c
d')
is "$out" '# HELP x_total a \\ back\nslash "q"
# TYPE x_total counter
x_total{v="a\\b\"c\nd"} 1' "label value and help escaped as the format says"
is "$(check "$out")" "" "promtool: escaped text is valid"
is "$(d escape "$(printf 'tab\there')")" refused "a control character in a label value is refused"
is "$(d escape "$(printf 'caf\303\251')")" refused "a byte above ASCII in a label value is refused"
out=$(d values)
is "$out" '# HELP v values
# TYPE v gauge
v{i="0"} 0
v{i="1"} -3
v{i="2"} 1.5
v{i="3"} 0.10000000000000001
v{i="4"} 1e+20
v{i="5"} 9007199254740991
v{i="6"} NaN
v{i="7"} +Inf
v{i="8"} -Inf' "values: integers, reals, NaN and infinities"
is "$(check "$out")" "" "promtool: every value parses"
is "$(d family wb_ok:x_1 gauge)" '# HELP wb_ok:x_1 h
# TYPE wb_ok:x_1 gauge
wb_ok:x_1 1' "a metric name with a colon and digits"
is "$(d family 1abc gauge)" refused "a metric name starting with a digit is refused"
is "$(d family 'a-b' gauge)" refused "a metric name with a dash is refused"
is "$(d family '' gauge)" refused "an empty metric name is refused"
is "$(d family ok histogram)" refused "a type the writer cannot fill is refused"
is "$(d label __name)" refused "a label name starting with __ is refused"
is "$(d label 9x)" refused "a label name starting with a digit is refused"
is "$(d label 'a:b')" refused "a label name with a colon is refused"
out=$(d twice)
is "$(printf '%s\n' "$out" | head -1)" "-1 0 -1 0 -1 -1 -1 -1 6" "a series twice, a label twice, a family twice (and its samples), a bad family (and its samples): refused; the same labels in another family: fine"
is "$(printf '%s\n' "$out" | tail -n +2)" '# HELP a h
# TYPE a gauge
a{q="x",s="y"} 1
a{q="x",s="z"} 3
# HELP b h
# TYPE b gauge
b{q="x",s="y"} 5' "only what was accepted is written"
is "$(d empty)" '# HELP something one
# TYPE something gauge
something 7
refused' "a sample before any family is refused; a family without samples leaves nothing"
is "$(d down)" '# HELP wb_redis_up 1 when Redis answered, 0 when it could not be reached.
# TYPE wb_redis_up gauge
wb_redis_up 0' "Redis down: wb_redis_up 0 and nothing else"
out=$(d queues)
is "$(printf '%s\n' "$out" | head -1)" 0 "nothing refused"
out=$(printf '%s\n' "$out" | tail -n +2)
is "$(printf '%s\n' "$out" | grep -v '^#')" 'wb_redis_up 1
wb_queue_items{queue="download",state="pending"} 5
wb_queue_items{queue="index",state="pending"} 0
wb_queue_items{queue="download",state="leased"} 4
wb_queue_items{queue="index",state="leased"} 0
wb_queue_items{queue="download",state="dead"} 5
wb_queue_items{queue="index",state="dead"} 0
wb_queue_ready_items{queue="download"} 2
wb_queue_ready_items{queue="index"} 0
wb_queue_expired_leases{queue="download"} 1
wb_queue_expired_leases{queue="index"} 0
wb_queue_oldest_ready_age_seconds{queue="download"} 61
wb_queue_oldest_ready_age_seconds{queue="index"} 0
wb_github_ratelimit_remaining 4999
wb_github_ratelimit_reset_timestamp_seconds 1700000000
wb_last_success_timestamp_seconds{stage="fetch"} 1700000001
wb_last_success_timestamp_seconds{stage="sqlite"} 1700000002' "queues: pending = ready + waiting, leased, dead, ready, expired, oldest age in whole seconds; notes only where known"
is "$(printf '%s\n' "$out" | grep -c '^# TYPE')" 8 "one TYPE line per family with samples"
is "$(check "$out")" "" "promtool: the shared families are clean"
done_testing
