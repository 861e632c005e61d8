#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The GitHub client's decisions, without I/O: Link parsing, where URLs and
# redirects may lead, what each answer means, backoff, rate-limit waits,
# the private substitution. A small C driver calls lib/wb_github.c.
. "${0%/*}/lib.sh"
command -v cc >/dev/null || skip_all "no C compiler"
[ -f "$WB_BUILD/libwb.a" ] || skip_all "no $WB_BUILD/libwb.a (run make)"
plan 57

cat >"$SCRATCH/d.c" <<'EOC'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wb_github.h"
#include "wb_scan.h"
static const char *nz(const char *s) { return strcmp(s, "-") ? s : NULL; }
int main(int argc, char **argv) {
	char buf[2048];
	const char *c = argv[1];
	if (!strcmp(c, "link")) {
		int rc = wb_github_link_next(argv[2], buf, sizeof buf);
		puts(rc > 0 ? buf : rc < 0 ? "!" : "-");
	} else if (!strcmp(c, "under")) {
		printf("%d\n", wb_github_url_under(argv[2], argv[3]));
	} else if (!strcmp(c, "repo")) {
		printf("%d\n", wb_github_repo_ok(argv[2]));
	} else if (!strcmp(c, "movedissue")) {
		jv v = jv_parse(argv[3]);
		int ok = wb_github_moved_from_issue(argv[2], v, buf, sizeof buf);
		printf("%d %s\n", ok, ok ? buf : "-");
		jv_free(v);
	} else if (!strcmp(c, "decide") || !strcmp(c, "decidetext")) {
		/* status remaining reset retry-after body now */
		struct wb_github_answer a = { .raw = c[6] != '\0' };
		char why[128];
		double wait;
		jv v = jv_null();
		static const char *names[] = { "OK", "NOT_MODIFIED", "GONE",
		    "MOVED", "RETRY", "RATE_WAIT", "FAIL", "FATAL" };
		if (!strcmp(argv[2], "transport")) a.transport_error = 1;
		else if (!strcmp(argv[2], "toobig")) a.too_big = a.transport_error = 1;
		else a.status = atol(argv[2]);
		a.conditional = strcmp(argv[2], "304u") != 0;
		a.remaining = nz(argv[3]); a.reset = nz(argv[4]);
		a.retry_after = nz(argv[5]);
		a.body = argv[6]; a.len = strlen(argv[6]);
		enum wb_github_verdict d = wb_github_decide(&a, atoll(argv[7]), &v, &wait, why, sizeof why);
		printf("%s %g %s%s\n", names[d], wait, why[0] ? why : "-",
		    a.raw && jv_get_kind(v) != JV_KIND_NULL ? " parsed" : "");
		jv_free(v);
	} else if (!strcmp(c, "backoff")) {
		printf("%g\n", wb_github_backoff(atoi(argv[2]), atof(argv[3]), atof(argv[4])));
	} else if (!strcmp(c, "limitwait")) {
		struct wb_github_limit l = { -1, -1 };
		wb_github_limit_update(&l, nz(argv[2]), nz(argv[3]));
		printf("%lld\n", wb_github_limit_wait(&l, atoll(argv[4])));
	} else if (!strcmp(c, "iso")) {
		time_t t;
		if (wb_scan_iso8601(argv[2], &t) < 0) puts("-");
		else printf("%lld\n", (long long)t);
	} else if (!strcmp(c, "issueurl")) {
		/* base url repo repo_id number tail */
		printf("%d\n", wb_github_issue_url(argv[2], argv[3], argv[4],
		    atoll(argv[5]), atol(argv[6]), argv[7]));
	} else if (!strcmp(c, "ours")) {
		jv v = jv_parse(argv[3]);
		printf("%d\n", wb_github_issue_ours(argv[2], v, argv[4]));
		jv_free(v);
	} else if (!strcmp(c, "repoid")) {
		printf("%lld\n", wb_github_location_repo_id(argv[2], argv[3]));
	} else if (!strcmp(c, "subst")) {
		jv tl = jv_parse(argv[3]);
		jv out = wb_github_substitute(jv_parse(argv[2]), tl, argv[4], argv[5]);
		jv_dumpf(out, stdout, JV_PRINT_SORTED);
		jv_free(tl);
		putchar('\n');
	}
	return 0;
}
EOC
flags="-std=c11 -D_GNU_SOURCE -I$TOP/lib"
case $WB_BUILD in *san*) flags="$flags -fsanitize=address,undefined" ;; esac
# shellcheck disable=SC2046,SC2086
cc $flags -o "$SCRATCH/d" "$SCRATCH/d.c" "$WB_BUILD/libwb.a" \
	$(pkg-config --libs libcurl hiredis libmicrohttpd libcrypto) -ljq -lm ||
	{ echo "Bail out! the driver does not build"; exit 1; }
d() { "$SCRATCH/d" "$@"; }

A=https://api.github.com
is "$(d link "<$A/x?page=2>; rel=\"next\", <$A/x?page=5>; rel=\"last\"")" "$A/x?page=2" "Link: next found"
is "$(d link "<$A/x?page=1>; rel=\"prev\", <$A/x?page=1>; rel=\"first\"")" "-" "Link: no next on the last page"
is "$(d link "<$A/x?page=4>; rel=\"prev\", <$A/x?page=6>; rel=\"next\"")" "$A/x?page=6" "Link: next after prev"
is "$(d link "<$A/a,b>;rel=next")" "$A/a,b" "Link: unquoted rel, comma inside the URL"
is "$(d link "<$A/y>; rel=\"next last\"")" "$A/y" "Link: rel listing several relations"
is "$(d link "<$A/broken; rel=\"next\"")" "!" "Link: malformed is an error, not the last page"
is "$(d link "<$A/x>; title=\"rel=next\"")" "-" "Link: rel= inside another parameter's quoted value is no rel"
is "$(d link "<$A/x>; title=\"a;rel=\\\"next\", <$A/y>; REL=next")" "$A/y" "Link: quoted-string with escapes and ';', then a real rel"
is "$(d link "<$A/x>; rel=prev; rel=next")" "-" "Link: only the first rel counts"
is "$(d link "<$A/x?$(printf '%03000d' 0)>; rel=next")" "!" "Link: a next URL too long is an error"
is "$(d link "<$A/x>; rel=\"next\" junk")" "!" "Link: junk after a link-value is an error"
is "$(d under "$A" "$A/repos/a/b")" 1 "URL under the base"
is "$(d under "$A" "https://api.github.com.evil.example/repos")" 0 "look-alike host refused"
is "$(d under "http://127.0.0.1:80" "http://127.0.0.1:8080/x")" 0 "another port refused"
is "$(d repo webcompat/web-bugs)$(d repo a/b/c)$(d repo '../x')$(d repo 'a/..')$(d repo 'a b/c')" "10000" "owner/name validated"
iu() { d issueurl "$A" "$1" o/r "$2" 7 "$3"; }
is "$(iu "$A/repos/o/r/issues/7/timeline?per_page=100&page=2" 0 /timeline)" 1 "issue URL: this issue's timeline by name"
is "$(iu "$A/repos/O/R/issues/7/timeline" 0 /timeline)" 1 "issue URL: the name in another case"
is "$(iu "$A/repositories/5/issues/7/timeline?page=2" 0 /timeline)" 2 "issue URL: by id, ours unknown yet: to be learned"
is "$(iu "$A/repositories/5/issues/7/timeline?page=2" 5 /timeline)" 1 "issue URL: by our id"
is "$(iu "$A/repositories/6/issues/7/timeline?page=2" 5 /timeline)" 0 "issue URL: another repository's id"
is "$(iu "$A/repos/evil/other/issues/7/timeline" 5 /timeline)$(iu "$A/repos/o/r2/issues/7/timeline" 5 /timeline)$(iu "$A/repos/o/r/issues/70/timeline" 5 /timeline)$(iu "$A/repos/o/r/issues/07/timeline" 5 /timeline)" 0000 "issue URL: another repository, a longer name, another issue, a leading zero"
is "$(iu "$A/repos/o/r/issues/7/timeline/../../8/timeline" 5 /timeline)$(iu "$A/repos/o/r/issues/7/timelinex" 5 /timeline)$(iu "$A/repos/o/r/issues/7" 5 /timeline)$(iu "https://x/repos/o/r/issues/7/timeline" 5 /timeline)" 0000 "issue URL: more path, another tail, another host"
is "$(iu "$A/repos/o/r/issues/7" 5 "")$(iu "$A/repositories/5/issues/7?x=1" 5 "")" 11 "issue URL: the issue itself"
is "$(d ours "$A" "{\"repository_url\":\"$A/repos/O/r\"}" o/r)$(d ours "$A" "{\"repository_url\":\"$A/repos/o/r2\"}" o/r)$(d ours "$A" '{}' o/r)$(d ours "$A" "{\"repository_url\":\"https://x/repos/o/r\"}" o/r)" 1000 "repository_url: ours (case aside); not another, none, nor another host"
is "$(d movedissue "$A" "{\"repository_url\":\"$A/repos/o/r2\",\"number\":9}")" "1 o/r2#9" "moved_to from the issue at the new place"
is "$(d movedissue "$A" "{\"repository_url\":\"https://x/repos/o/r2\",\"number\":9}")" "0 -" "moved_to not taken from another host"
is "$(d decide 200 4999 100 - '{"a":1}' 50)" "OK 0 -" "200 with JSON"
is "$(d decide 200 4999 100 - '{"a":' 50)" "RETRY 0 answer is not complete JSON" "200 with truncated JSON: retry"
is "$(d decide 200 4999 100 - '<html>' 50)" "RETRY 0 answer is not complete JSON" "200 with HTML: retry"
# Pages kept as text: checked, not parsed; what is JSON but not a list of
# objects is the caller's to refuse, what is not JSON is retried.
is "$(d decidetext 200 4999 100 - '[{"a":1},{"b":[2]}]' 50)" "OK 0 -" "text: a list of objects, not parsed"
is "$(d decidetext 200 4999 100 - '{"message":"x"}' 50)" "OK 0 -" "text: other JSON is for the caller to refuse"
is "$(d decidetext 200 4999 100 - '[{"a":' 50)" "RETRY 0 answer is not complete JSON" "text: truncated JSON: retry"
is "$(d decide 304 4999 100 - '' 50)" "NOT_MODIFIED 0 -" "304"
is "$(d decide 304u 4999 100 - '' 50)" "RETRY 0 304 to an unconditional request" "304 to an unconditional request: a bad answer"
is "$(d decide 404 4999 100 - '{}' 50)" "GONE 0 not found" "404 gone"
is "$(d decide 410 4999 100 - '{}' 50)" "GONE 0 gone" "410 gone"
is "$(d decide 301 4999 100 - '{}' 50)" "MOVED 0 moved" "301 moved"
is "$(d decide 403 0 80 - '{"message":"API rate limit exceeded"}' 50)" "RATE_WAIT 30 primary rate limit" "403 primary: until the reset"
is "$(d decide 429 0 80 5 '{}' 50)" "RATE_WAIT 5 primary rate limit" "429 primary with Retry-After"
is "$(d decide 403 10 80 3 '{"message":"secondary rate limit"}' 50)" "RATE_WAIT 3 secondary rate limit" "403 secondary: Retry-After"
is "$(d decide 403 10 80 - '{"message":"You have exceeded a secondary rate limit"}' 50)" "RATE_WAIT 60 secondary rate limit" "secondary without Retry-After: a minute"
is "$(d decide 429 - - - '' 50)" "RATE_WAIT 60 secondary rate limit" "429 without anything: a minute"
is "$(d decide 403 10 80 - '{"message":"Resource not accessible"}' 50)" "FAIL 0 forbidden" "plain 403: fails, no retry"
is "$(d decide 403 0 999999 - '{}' 50)" "RATE_WAIT 3600 primary rate limit" "absurd reset: waits an hour at most"
is "$(d decide 401 - - - '{}' 50)" "FATAL 0 GitHub refused the credentials" "401 fatal"
is "$(d decide 502 - - - '' 50)" "RETRY 0 server error" "502 retried"
is "$(d decide 503 - - 2 '' 50)" "RETRY 2 server error" "503 with Retry-After"
is "$(d decide transport - - - '' 50)" "RETRY 0 no complete answer" "transport error retried"
is "$(d decide toobig - - - '' 50)" "FAIL 0 answer larger than the limit" "huge answer: fails, no retry"
is "$(d backoff 0 1 0) $(d backoff 0 1 0.999) $(d backoff 3 1 0) $(d backoff 20 1 0.5)" "0.5 0.9995 4 45" "backoff doubles, jitter in [50%,100%), capped at 60s"
is "$(d limitwait 5 100 50) $(d limitwait 0 100 50) $(d limitwait 0 40 50) $(d limitwait - - 50) $(d limitwait 0 x 50)" "0 50 0 0 0" "budget spent: wait until the reset, else not"

is "$(d iso 2024-01-01T00:00:00Z) $(d iso 2024-02-29T23:59:59Z) $(d iso 1970-01-01T00:00:00Z)" "1704067200 1709251199 0" "ISO 8601: GitHub's timestamps"
is "$(d iso 2023-02-29T00:00:00Z)$(d iso 2024-01-01T00:00:00)$(d iso 2024-01-01T00:00:00Z.)$(d iso 2024-1-01T00:00:00Z)$(d iso ' 2024-01-01T00:00:00Z')$(d iso 2024-01-01T24:00:00Z)" "------" "ISO 8601: impossible dates and other shapes refused"
is "$(d repoid "$A" "$A/repositories/17839063/issues/5") $(d repoid "$A" "$A/repositories/17839063") $(d repoid "$A" "$A/repos/a/b/issues/5") $(d repoid "$A" "https://x/repositories/1/issues/5") $(d repoid "$A" "$A/repositories/0x1/issues/5")" \
	"17839063 17839063 0 0 0" "repository id of a redirect into /repositories/ID/"

TL='[{"event":"labeled"},{"event":"cross-referenced","source":{"issue":{"title":"public","body":"p","repository":{"name":"web-bugs"}}}},{"event":"cross-referenced","source":{"issue":{"title":"Real title","body":"Real body","repository":{"name":"web-bugs-private"}}}},{"event":"cross-referenced","source":{"issue":{"title":"second","body":"s","repository":{"name":"web-bugs-private"}}}}]'
T='In the moderation queue.|Issue closed.'
is "$(d subst '{"title":"Issue closed.","body":"x","number":1}' "$TL" "$T" web-bugs-private)" \
	'{"__WEBCOMPAT_PRIVATE_ISSUE__":true,"body":"Real body","number":1,"title":"Real title"}' "placeholder title: first private cross-reference wins"
is "$(d subst '{"title":"Issue closed","body":"x"}' "$TL" "$T" web-bugs-private)" \
	'{"body":"x","title":"Issue closed"}' "not exactly a placeholder: unchanged"
is "$(d subst '{"title":"In the moderation queue.","body":"x"}' '[{"event":"cross-referenced","source":{"issue":"odd"}},{"event":"commented"}]' "$T" web-bugs-private)" \
	'{"body":"x","title":"In the moderation queue."}' "no usable private event: unchanged"
done_testing
