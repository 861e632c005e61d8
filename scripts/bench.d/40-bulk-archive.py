#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Generate an archive like wb-write's for the wb-bulk benchmark:
DIR/current/N/issue.json and timeline.json, compact JSON shaped like
GitHub's REST answers (issue objects, commented/labeled/milestoned/
renamed/cross-referenced events with full user objects), about BYTES in
all. Usage: 40-bulk-archive.py DIR BYTES. Prints "issues events bytes"."""
import json, os, random, sys

r = random.Random(42)
WORDS = ("the page does not load layout broken on mobile firefox chrome "
         "safari video plays no sound button overlaps text scroll jank "
         "login fails redirect loop captcha site works in other browsers "
         "naïve café 日本語 ü ñ \"quoted\" back\\slash tab\there").split(" ")

def text(n):
    return " ".join(r.choice(WORDS) for _ in range(n)).replace("  ", "\n")

def user(login, uid):
    u = "https://api.github.com/users/" + login
    return {"login": login, "id": uid, "node_id": "MDQ6VXNlcj%d" % uid,
            "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % uid,
            "gravatar_id": "", "url": u, "html_url": "https://github.com/" + login,
            "followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
            "gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
            "subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
            "repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
            "received_events_url": u + "/received_events", "type": "User",
            "site_admin": False}

USERS = [user("user%d" % i, 1000 + i) for i in range(30)] + [user("webcompat-bot", 9)]
LABELS = [{"id": 100 + i, "node_id": "MDU6TGFiZWw%d" % i,
           "url": "https://api.github.com/repos/webcompat/web-bugs/labels/" + n,
           "name": n, "color": "%06x" % (i * 99991 % 0xffffff), "default": False,
           "description": text(4)}
          for i, n in enumerate(["browser-firefox", "browser-chrome", "status-needsdiagnosis",
                                 "priority-normal", "severity-critical", "engine-gecko",
                                 "type-media", "os-android", "action-needssitepatch"])]
REPO = "https://api.github.com/repos/webcompat/web-bugs"

def issue(n_key):
    body = text(r.randint(20, 400))
    return {"url": REPO + "/issues/@N@", "repository_url": REPO,
            "labels_url": REPO + "/issues/@N@/labels{/name}",
            "comments_url": REPO + "/issues/@N@/comments",
            "events_url": REPO + "/issues/@N@/events",
            "html_url": "https://github.com/webcompat/web-bugs/issues/@N@",
            "id": 500000000 + n_key, "node_id": "I_kwDOA%d" % n_key, "number": "@NUM@",
            "title": "www.example%d.com - %s" % (n_key, text(6)),
            "user": r.choice(USERS), "labels": r.sample(LABELS, r.randint(1, 5)),
            "state": r.choice(["open", "closed"]), "locked": False,
            "assignee": None, "assignees": [],
            "milestone": {"url": REPO + "/milestones/3", "id": 3, "number": 3,
                          "title": r.choice(["needstriage", "needsdiagnosis", "sitewait"]),
                          "state": "open", "created_at": "2017-01-01T00:00:00Z"},
            "comments": r.randint(0, 30), "created_at": "2021-0%d-1%dT10:20:30Z" % (r.randint(1, 9), r.randint(0, 9)),
            "updated_at": "2022-03-04T05:06:07Z", "closed_at": None,
            "author_association": "NONE", "active_lock_reason": None, "body": body,
            "reactions": {"url": REPO + "/issues/@N@/reactions", "total_count": 0,
                          "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0,
                          "heart": 0, "rocket": 0, "eyes": 0},
            "timeline_url": REPO + "/issues/@N@/timeline",
            "performed_via_github_app": None, "state_reason": None}

def event(i):
    kind = r.choices(["commented", "labeled", "milestoned", "renamed",
                      "cross-referenced", "closed"], [5, 4, 2, 1, 1, 1])[0]
    when = "2022-0%d-2%dT0%d:00:00Z" % (r.randint(1, 9), r.randint(0, 8), r.randint(0, 9))
    base = {"id": 9000000000 + i, "node_id": "LE_kwDO%d" % i,
            "url": REPO + "/issues/events/%d" % (9000000000 + i),
            "actor": r.choice(USERS), "event": kind, "commit_id": None,
            "commit_url": None, "created_at": when, "performed_via_github_app": None}
    if kind == "commented":
        return {"url": REPO + "/issues/comments/%d" % i,
                "html_url": "https://github.com/webcompat/web-bugs/issues/@N@#issuecomment-%d" % i,
                "issue_url": REPO + "/issues/@N@", "id": 800000000 + i,
                "node_id": "IC_kwDO%d" % i, "user": r.choice(USERS), "created_at": when,
                "updated_at": when, "author_association": "MEMBER",
                "body": text(r.randint(10, 250)),
                "reactions": {"url": REPO + "/issues/comments/%d/reactions" % i,
                              "total_count": 0, "+1": 0, "-1": 0},
                "performed_via_github_app": None, "event": "commented",
                "actor": r.choice(USERS)}
    if kind == "labeled":
        l = r.choice(LABELS)
        base["label"] = {"name": l["name"], "color": l["color"]}
    elif kind == "milestoned":
        base["milestone"] = {"title": r.choice(["needsdiagnosis", "sitewait", "needscontact"])}
    elif kind == "renamed":
        base["rename"] = {"from": "In the moderation queue.", "to": text(6)}
    elif kind == "cross-referenced":
        del base["id"], base["node_id"], base["url"], base["commit_id"], base["commit_url"]
        src = issue(i)
        src["number"] = i
        base["source"] = {"type": "issue", "issue": src}
        base["updated_at"] = when
    return base

def main():
    root, want = sys.argv[1], int(float(sys.argv[2]))
    pool_i = [json.dumps(issue(k), ensure_ascii=r.random() < 0.5, separators=(",", ":"))
              for k in range(40)]
    pool_t = []
    for k in range(40):
        n = min(int(r.expovariate(1 / 20)) + 1, 150)
        pool_t.append((n, json.dumps([event(k * 1000 + j) for j in range(n)],
                                     ensure_ascii=r.random() < 0.5, separators=(",", ":"))))
    cur = os.path.join(root, "current")
    os.makedirs(cur)
    total = events = n = 0
    while total < want:
        n += 1
        d = os.path.join(cur, str(n))
        os.mkdir(d)
        it = pool_i[n % 40].replace("@N@", str(n)).replace('"@NUM@"', str(n)).encode()
        ne, tt = pool_t[(n * 7) % 40]
        tt = tt.replace("@N@", str(n)).encode()
        with open(os.path.join(d, "issue.json"), "wb") as f:
            f.write(it)
        with open(os.path.join(d, "timeline.json"), "wb") as f:
            f.write(tt)
        total += len(it) + len(tt)
        events += ne
    print(n, events, total)

main()
