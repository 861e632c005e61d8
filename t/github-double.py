#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""A strict stand-in for the GitHub REST API, for wb's tests and benchmarks.

Serves, as docs.github.com describes them:
  GET /repos/O/N                          the repository
  GET /repos/O/N/issues/M                 an issue (301 when transferred,
                                          404 when missing, 410 when deleted)
  GET /repos/O/N/issues/M/timeline        its timeline, paginated
  GET /repos/O/N/issues                   the issue listing (state, since,
                                          sort, direction), pull requests too
  GET /repositories/ID/...                the same by repository id (what
                                          redirects and Link headers use)
owner and name compared case-insensitively, as GitHub does,
with ETag / If-None-Match / 304, Last-Modified / If-Modified-Since on
issues, Link rel="next"/"last"/"prev"/"first", per_page (1..100, default
30), X-RateLimit-* headers on every answer (a 304 does not use the budget),
403 "API rate limit exceeded" once the budget is spent until its reset,
401 for a wrong token, 403 without a User-Agent, 400 for an unknown
X-GitHub-Api-Version.

Tests steer it through POST /_double/<command> with a JSON body (never
logged, never counted): set, events, state, private, pull, fault, faults,
ratelimit, add, renamed ({"on": true, "to": "owner/new"}: the repository
answers under its new name and the old name redirects to /repositories/ID,
as GitHub does after a rename; "private" with "edit": true changes the
private issue's title and body as its cross-reference shows them, without
touching the public issue), bulk ({"from": A, "to": B, "fields": {...}}:
issues A..B edited in one go, as a bulk label edit, milestone move or
transfer does, so that they all share one updated_at: now, or "at", a
time in the past no earlier than any of their updates; GitHub's times
only move forward); GET /_double/dump/M and /_double/stats. A fault is
{"match": REGEX on the request path, "kind": KIND, "times": N (-1: always),
"after": N (let the first N matching requests pass, default 0)}
with KIND one of status (+ "status", "retry_after"), drop (close without
an answer), truncate (close in the middle of the body), cut (a complete
answer whose JSON stops short), notjson, wrongshape (+ "body"), raw (a
200 answer of exactly the bytes "hex": JSON that a parser reads but that
is not strict, such as duplicate keys or invalid UTF-8), huge
(+ "bytes"), bomb (a gzip answer inflating to "bytes"), redirect
(+ "location", "status"), link (the normal answer with its Link header
replaced by "link"; a list of strings sends one Link field for each, in
that order, as a proxy may split the header), header (the normal answer with header "name" set to
"value"), touch (issue "number" is edited at that moment, then the
normal answer; with "numbers": [N, ...] instead, the next of them at each
firing: with "match" and "after", "edit issue N after the Kth listing
request"), state (issue "number" gets "state" at that moment, as the
state command gives it: deleted, or transferred to "to_number"; then the
normal answer), slow (+ "seconds", then the normal answer), ratelimit (the
budget is spent until "seconds" from now), secondary / secondary429
(+ "retry_after"), forbidden. Every API request
is appended to --log as one JSON line: method, path, status, auth
("bearer", "token", "none" or "bad"; never the token), counted, inm, ims,
accept, api_version, user_agent, gzip (the answer was compressed, as
GitHub does for clients that accept it), conn (the client's port: one
per connection).

Standard library only: python3 github-double.py --port-file F [options].
"""
import argparse
import datetime
import email.utils
import gzip
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
MOD_TITLES = ("In the moderation queue.", "Issue closed.")
DOCS = "https://docs.github.com/rest"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?)?", s)
    if not m:
        return None
    y, mo, d, h, mi, se, tz = m.groups()
    dt = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0),
                           int(se or 0), tzinfo=datetime.timezone.utc)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        dt -= sign * datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return dt.timestamp()


class World:
    """Repositories, issues and timelines, all generated deterministically."""

    def __init__(self, a, base):
        self.lock = threading.RLock()
        self.base = base
        self.repo = a.repo
        self.owner = a.repo.split("/")[0]
        self.private_repo = a.private_repo
        self.repo_id = 17839063
        self.other = self.owner + "/web-bugs-archive"
        self.other_id = 17839064
        self.renamed = False   # the repository now answers as new_name
        self.new_name = self.owner + "/web-bugs-renamed"
        self.issues = {}       # number -> dict(issue fields) for a.repo
        self.events = {}       # number -> list of events
        self.state = {}        # number -> "ok" | "missing" | "deleted" | ("moved", M)
        self.moved = {}        # number in other repo -> issue
        self.default_events = a.events
        self.version = 0
        self.cache = {}
        for n in range(1, a.issues + 1):
            self.make(n, a.events)
        self.token = a.token
        self.limit = a.limit
        self.window = a.reset_in
        self.buckets = {}
        self.faults = []
        self.counts = {"requests": 0, "counted": 0, "not_modified": 0}

    # ---- shapes -------------------------------------------------------
    def user(self, i):
        login = "user%d" % (i % 97)
        return {"login": login, "id": 5000 + i % 97, "node_id": "MDQ6VXNlcj%05d" % (i % 97),
                "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % (5000 + i % 97),
                "gravatar_id": "", "url": self.base + "/users/" + login,
                "html_url": "https://github.com/" + login, "type": "User", "site_admin": False}

    def label(self, i):
        names = ["browser-firefox", "priority-normal", "severity-minor", "status-needsinfo",
                 "type-media", "engine-gecko", "os-android", "nsfw"]
        name = names[i % len(names)]
        return {"id": 900000 + i % len(names), "node_id": "LA_kwDO%06d" % (i % len(names)),
                "url": "%s/repos/%s/labels/%s" % (self.base, self.repo, name), "name": name,
                "color": "%06x" % (0x123456 * (i % 7 + 1) & 0xFFFFFF), "default": False,
                "description": None}

    def milestone(self, i):
        titles = ["needstriage", "needsdiagnosis", "needscontact", "sitewait", "duplicate"]
        t = titles[i % len(titles)]
        return {"url": "%s/repos/%s/milestones/%d" % (self.base, self.repo, i % 5 + 1),
                "html_url": "https://github.com/%s/milestone/%d" % (self.repo, i % 5 + 1),
                "id": 700 + i % 5, "node_id": "MDk6TWlsZXN0b25l%d" % (i % 5), "number": i % 5 + 1,
                "title": t, "description": "", "creator": self.user(1), "open_issues": 10,
                "closed_issues": 3, "state": "open", "created_at": iso(EPOCH.timestamp()),
                "updated_at": iso(EPOCH.timestamp()), "due_on": None, "closed_at": None}

    def repository(self, full, rid):
        owner, name = full.split("/")
        return {"id": rid, "node_id": "R_kgDO%08d" % rid, "name": name, "full_name": full,
                "private": name == self.private_repo,
                "owner": {"login": owner, "id": 4000, "type": "Organization"},
                "html_url": "https://github.com/" + full, "url": self.base + "/repos/" + full}

    def make(self, n, k):
        t = EPOCH.timestamp() + n * 60
        self.issues[n] = {"n": n, "title": "example.com - site is not usable (%d) \u00e9\u2603" % n,
                          "body": "<!-- @browser: Firefox 120 -->\nSteps: %d\n\u00fcnicode \U0001F600" % n,
                          "created": t, "updated": t + 30, "state": "open", "labels": [n, n + 3],
                          "milestone": n, "pull": False, "extra": {}}
        self.events[n] = [self.event(n, i) for i in range(k)]
        self.state[n] = "ok"

    def event(self, n, i, kind=None):
        kinds = ["commented", "labeled", "milestoned", "renamed", "cross-referenced",
                 "unlabeled", "closed", "reopened", "assigned", "mentioned", "subscribed"]
        kind = kind or kinds[i % len(kinds)]
        t = iso(EPOCH.timestamp() + n * 60 + i + 1)
        actor = self.user(n + i)
        ev = {"id": n * 10000 + i, "node_id": "EV_%d_%d" % (n, i),
              "url": "%s/repos/%s/issues/events/%d" % (self.base, self.repo, n * 10000 + i),
              "actor": actor, "event": kind, "commit_id": None, "commit_url": None,
              "created_at": t, "performed_via_github_app": None}
        if kind == "commented":
            ev = {"url": "%s/repos/%s/issues/comments/%d" % (self.base, self.repo, n * 10000 + i),
                  "html_url": "https://github.com/%s/issues/%d#issuecomment-%d" % (self.repo, n, n * 10000 + i),
                  "issue_url": "%s/repos/%s/issues/%d" % (self.base, self.repo, n),
                  "id": n * 10000 + i, "node_id": "IC_%d_%d" % (n, i), "user": actor,
                  "created_at": t, "updated_at": t, "author_association": "CONTRIBUTOR",
                  "body": "Thanks for the report %d/%d \u2014 \"quoted\" \\ back\tslash" % (n, i),
                  "reactions": {"url": "x", "total_count": 0, "+1": 0, "-1": 0},
                  "performed_via_github_app": None, "event": "commented", "actor": actor}
        elif kind in ("labeled", "unlabeled"):
            ev["label"] = {"name": self.label(n + i)["name"], "color": self.label(n + i)["color"]}
        elif kind == "milestoned":
            ev["milestone"] = {"title": self.milestone(n + i)["title"]}
        elif kind == "renamed":
            ev["rename"] = {"from": "In the moderation queue.", "to": "example.com - renamed %d" % i}
        elif kind == "cross-referenced":
            ev = {"actor": actor, "created_at": t, "updated_at": t, "event": kind,
                  "source": {"type": "issue", "issue": self.xref_issue(n, i, self.repo, self.repo_id,
                                                                        "see also", "")}}
        elif kind in ("assigned",):
            ev["assignee"] = self.user(n + i + 1)
        return ev

    def xref_issue(self, n, i, full, rid, title, body):
        return {"url": "%s/repos/%s/issues/%d" % (self.base, full, 100000 + n),
                "repository_url": "%s/repos/%s" % (self.base, full), "id": 3000000 + n * 100 + i,
                "number": 100000 + n, "title": title, "user": self.user(n), "labels": [],
                "state": "open", "locked": False, "comments": 0, "created_at": iso(EPOCH.timestamp()),
                "updated_at": iso(EPOCH.timestamp()), "closed_at": None, "body": body,
                "repository": self.repository(full, rid)}

    def issue(self, n, full=None, number=None):
        d = self.issues[n]
        full = full or self.current()
        number = number or n
        u = "%s/repos/%s/issues/%d" % (self.base, full, number)
        obj = {"url": u, "repository_url": "%s/repos/%s" % (self.base, full),
               "labels_url": u + "/labels{/name}", "comments_url": u + "/comments",
               "events_url": u + "/events", "html_url": "https://github.com/%s/issues/%d" % (full, number),
               "id": 2000000 + n, "node_id": "I_kwDOA%07d" % n, "number": number, "title": d["title"],
               "user": self.user(n), "labels": [self.label(i) for i in d["labels"]],
               "state": d["state"], "locked": False, "assignee": None, "assignees": [],
               "milestone": self.milestone(d["milestone"]) if d["milestone"] is not None else None,
               "comments": sum(1 for e in self.events[n] if e.get("event") == "commented"),
               "created_at": iso(d["created"]), "updated_at": iso(d["updated"]),
               "closed_at": None, "author_association": "NONE", "active_lock_reason": None,
               "body": d["body"],
               "reactions": {"url": u + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
                             "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
               "timeline_url": u + "/timeline", "performed_via_github_app": None, "state_reason": None}
        if d["pull"]:
            obj["pull_request"] = {"url": "%s/repos/%s/pulls/%d" % (self.base, full, number),
                                   "html_url": "https://github.com/%s/pull/%d" % (full, number),
                                   "diff_url": None, "patch_url": None, "merged_at": None}
        obj.update(d["extra"])
        return obj

    def current(self):
        """The repository's name now (after a rename, GitHub's new one)."""
        return self.new_name if self.renamed else self.repo

    def set_state(self, n, body):
        st = body["state"]
        self.state[n] = ("moved", body["to_number"]) if st == "transferred" else st
        if st == "transferred":
            self.moved[body["to_number"]] = n
        self.version += 1

    def touch(self, n):
        d = self.issues[n]
        # GitHub's times have whole seconds.
        d["updated"] = max(d["updated"] + 1, int(time.time()))
        self.version += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"

    def version_string(self):
        return self.server_version

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle
        # and delayed ACKs add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ---- plumbing -----------------------------------------------------
    def send(self, status, body=None, headers=(), raw=None):
        w = self.server.world
        data = raw if raw is not None else (
            b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
        # GitHub compresses answers for clients that accept it.
        self.gzipped = (status == 200 and len(data) > 1024 and
                        "gzip" in (self.headers.get("Accept-Encoding") or ""))
        if self.gzipped:
            data = gzip.compress(data, 1)
        # Logged first: a client that gave up still made the request.
        self.logline(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        if self.gzipped:
            self.send_header("Content-Encoding", "gzip")
        overrides = getattr(self, "overrides", None) or {}
        # A list is one field sent several times, as a proxy may split it
        # (RFC 9110, 5.3: the receiver joins them into one list).
        headers = [(k, v) for k, v in headers if k not in overrides] + \
            [(k, x) for k, v in overrides.items() for x in (v if isinstance(v, list) else [v])]
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(data)
        return data

    def logline(self, status):
        w = self.server.world
        if self.path.startswith("/_double/"):
            return
        a = self.headers.get("Authorization")
        if a is None:
            auth = "none"
        elif w.token and a == "Bearer " + w.token:
            auth = "bearer"
        elif w.token and a == "token " + w.token:
            auth = "token"
        else:
            auth = "bad"
        rec = {"method": self.command, "path": self.path, "status": status, "auth": auth,
               "counted": getattr(self, "counted", False),
               "inm": self.headers.get("If-None-Match") is not None,
               "ims": self.headers.get("If-Modified-Since") is not None,
               "accept": self.headers.get("Accept"), "api_version": self.headers.get("X-GitHub-Api-Version"),
               "user_agent": self.headers.get("User-Agent"),
               "gzip": getattr(self, "gzipped", False),
               "conn": self.client_address[1]}
        with w.lock:
            w.counts["requests"] += 1
            if rec["counted"]:
                w.counts["counted"] += 1
            if status == 304:
                w.counts["not_modified"] += 1
            if self.server.log:
                self.server.log.write(json.dumps(rec) + "\n")
                self.server.log.flush()

    def bucket(self, key=None):
        """The budget of the caller (its token, or anonymous: 60 an hour)."""
        w = self.server.world
        if key is None:
            key = "token" if self.headers.get("Authorization") else "anon"
        now = time.time()
        b = w.buckets.get(key)
        if b is None or now >= b["reset"]:
            limit = w.limit if key == "token" else 60
            b = {"limit": limit, "remaining": limit, "reset": int(now + w.window)}
            w.buckets[key] = b
        return b

    def rate_headers(self, b):
        return [("X-RateLimit-Limit", str(b["limit"])), ("X-RateLimit-Remaining", str(b["remaining"])),
                ("X-RateLimit-Reset", str(b["reset"])), ("X-RateLimit-Used", str(b["limit"] - b["remaining"])),
                ("X-RateLimit-Resource", "core")]

    def error(self, status, message, headers=()):
        return self.send(status, {"message": message, "documentation_url": DOCS,
                                  "status": str(status)}, headers)

    # ---- control ------------------------------------------------------
    def control(self):
        w = self.server.world
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}") if self.command == "POST" else {}
        cmd = self.path[len("/_double/"):]
        with w.lock:
            w.version += 1
            if cmd.startswith("dump/"):
                m = int(cmd[5:])
                return self.send(200, {"issue": w.issue(m), "timeline": w.events[m]})
            if cmd == "stats":
                return self.send(200, w.counts)
            num = body.get("number")
            if cmd == "set":
                w.issues[num]["extra"].update(body.get("fields", {}))
                if "title" in body:
                    w.issues[num]["title"] = body["title"]
                w.touch(num)
            elif cmd == "events":
                if "append" in body:
                    k = len(w.events[num])
                    w.events[num] += [w.event(num, k + i) for i in range(body["append"])]
                else:
                    w.events[num] = [w.event(num, i) for i in range(body["count"])]
                w.touch(num)
            elif cmd == "state":
                w.set_state(num, body)
            elif cmd == "private" and body.get("edit"):
                # The private issue edited: its cross-reference shows the
                # new title and body; the public issue is not touched.
                for ev in w.events[num]:
                    src = ev.get("source", {}).get("issue", {})
                    if ev.get("event") == "cross-referenced" and \
                            src.get("repository", {}).get("name") == w.private_repo:
                        src["title"] = body["private_title"]
                        src["body"] = body.get("private_body")
                        break
            elif cmd == "private":
                w.issues[num]["title"] = body.get("title", MOD_TITLES[0])
                ev = w.event(num, 0, "cross-referenced")
                full = w.owner + "/" + body.get("repo", w.private_repo)
                ev["source"]["issue"] = w.xref_issue(num, 0, full, 99, body["private_title"],
                                                     body.get("private_body"))
                w.events[num].insert(body.get("at", 1), ev)
                w.touch(num)
            elif cmd == "bulk":
                bad = self.bulk(body)
                if bad:
                    return self.send(400, {"message": bad})
            elif cmd == "pull":
                w.issues[num]["pull"] = True
            elif cmd == "add":
                for m in range(body["from"], body["to"] + 1):
                    w.make(m, body.get("events", w.default_events))
            elif cmd == "fault":
                body.setdefault("times", 1)
                w.faults.append(body)
            elif cmd == "faults":
                w.faults = []
            elif cmd == "ratelimit":
                b = self.bucket(body.get("bucket", "token"))
                if "remaining" in body:
                    b["remaining"] = body["remaining"]
                if "reset_in" in body:
                    b["reset"] = int(time.time() + body["reset_in"])
                if "window" in body:
                    w.window = body["window"]
            elif cmd == "renamed":
                w.renamed = bool(body.get("on", True))
                w.new_name = body.get("to", w.new_name)
            else:
                return self.send(404, {"message": "unknown command " + cmd})
        return self.send(200, {"ok": True})

    def bulk(self, body):
        """Edit issues from..to at one second; returns why not, or None."""
        w = self.server.world
        a, z = body.get("from"), body.get("to")
        if not (type(a) is int and type(z) is int and 1 <= a <= z):
            return "bulk needs integers 1 <= from <= to"
        ns = range(a, z + 1)
        if any(w.state.get(n) != "ok" for n in ns):
            return "bulk: some issue of %d..%d does not exist here" % (a, z)
        now = int(time.time())
        t = now if "at" not in body else parse_iso(str(body["at"]))
        if t is None or t > now:
            return "bulk: \"at\" must be a time, not in the future"
        if any(w.issues[n]["updated"] > t for n in ns):
            return "bulk: \"at\" is earlier than an update of one of these issues"
        for n in ns:
            w.issues[n]["extra"].update(body.get("fields", {}))
            w.issues[n]["updated"] = int(t)
        w.version += 1
        return None

    # ---- faults -------------------------------------------------------
    def fault(self):
        w = self.server.world
        with w.lock:
            for f in w.faults:
                if f["times"] != 0 and re.search(f.get("match", ""), self.path):
                    if f.get("after", 0) > 0:
                        f["after"] -= 1
                        continue
                    if f["times"] > 0:
                        f["times"] -= 1
                    return dict(f)
        return None

    def inject(self, f, b):
        kind = f["kind"]
        w = self.server.world
        if kind == "status":
            h = [("Retry-After", str(f["retry_after"]))] if "retry_after" in f else []
            self.counted = True
            return self.error(f.get("status", 500), "Server Error", h + self.rate_headers(b))
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            self.logline(0)
            return True
        if kind == "truncate":
            data = b'[{"id":1,"event":"labeled","label":{"name":"x"}},{"id":2,"event":"commented"}]'
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            self.logline(200)
            return True
        if kind == "cut":
            # A complete answer whose JSON body stops in the middle.
            self.counted = True
            return self.send(200, raw=b'[{"id":1,"event":"labeled","label":{"na', headers=self.rate_headers(b))
        if kind == "notjson":
            self.counted = True
            return self.send(200, raw=b"<html><body>Unicorn!</body></html>", headers=self.rate_headers(b))
        if kind == "raw":
            self.counted = True
            return self.send(200, raw=bytes.fromhex(f["hex"]), headers=self.rate_headers(b))
        if kind == "wrongshape":
            self.counted = True
            shape = f.get("body", {"message": "an object where an array belongs"})
            return self.send(200, shape, self.rate_headers(b))
        if kind == "huge":
            self.counted = True
            size = int(f.get("bytes", 40 << 20))
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                self.wfile.write(b"[" + b" " * (size - 2) + b"]")
            except OSError:
                pass
            self.close_connection = True
            self.logline(200)
            return True
        if kind == "bomb":
            # A small compressed answer that inflates beyond any cap.
            self.counted = True
            self.gzipped = True
            data = gzip.compress(b"[" + b" " * (int(f.get("bytes", 200 << 20)) - 2) + b"]", 9)
            self.logline(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass
            return True
        if kind == "redirect":
            self.counted = True
            return self.error(int(f.get("status", 301)), "Moved Permanently",
                              [("Location", f["location"])] + self.rate_headers(b))
        if kind == "touch":
            with w.lock:
                if "numbers" in f:
                    # f is a copy of the armed fault, its list the same
                    # one: each firing takes the next number.
                    if f["numbers"]:
                        w.touch(f["numbers"].pop(0))
                else:
                    w.touch(f["number"])
            return None
        if kind == "state":
            with w.lock:
                w.set_state(f["number"], f)
            return None
        if kind == "link":
            self.overrides = {"Link": f["link"]}
            return None
        if kind == "header":
            self.overrides = {f["name"]: f["value"]}
            return None
        if kind == "slow":
            time.sleep(float(f.get("seconds", 1)))
            return None
        if kind == "ratelimit":
            with w.lock:
                b["remaining"] = 0
                b["reset"] = int(time.time() + float(f.get("seconds", 1)))
            return None
        if kind in ("secondary", "secondary429"):
            h = [("Retry-After", str(f["retry_after"]))] if "retry_after" in f else []
            return self.error(429 if kind == "secondary429" else 403,
                              "You have exceeded a secondary rate limit. Please wait a few minutes "
                              "before you try again.", h + self.rate_headers(b))
        if kind == "forbidden":
            return self.error(403, "Resource not accessible by integration", self.rate_headers(b))
        raise ValueError(kind)

    # ---- the API ------------------------------------------------------
    def do_POST(self):
        if self.path.startswith("/_double/"):
            return self.control()
        return self.error(404, "Not Found")

    def do_GET(self):
        w = self.server.world
        self.counted = False
        self.overrides = None
        if self.path.startswith("/_double/"):
            return self.control()
        if not self.headers.get("User-Agent"):
            return self.error(403, "Request forbidden by administrative rules. Please make sure your "
                                   "request has a User-Agent header (https://docs.github.com/en/rest/"
                                   "overview/resources-in-the-rest-api#user-agent-required).")
        v = self.headers.get("X-GitHub-Api-Version")
        if v is not None and v != "2022-11-28":
            return self.error(400, "API version '%s' is not supported." % v)
        a = self.headers.get("Authorization")
        if a is not None and not (w.token and a in ("Bearer " + w.token, "token " + w.token)):
            return self.error(401, "Bad credentials")
        with w.lock:
            b = self.bucket()
            if b["remaining"] <= 0:
                return self.error(403, "API rate limit exceeded for user ID 1. If you reach out to "
                                       "GitHub Support for help, please include the request ID.",
                                  self.rate_headers(b))
        f = self.fault()
        if f is not None:
            done = self.inject(f, b)
            if done is not None:
                return
            with w.lock:
                if b["remaining"] <= 0:
                    return self.error(403, "API rate limit exceeded for user ID 1.", self.rate_headers(b))
        try:
            self.route(b)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def conditional(self, b, status, body, extra=(), last_modified=None):
        """Answer 'body' or 304; only answers other than 304 use the budget."""
        w = self.server.world
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        etag = 'W/"%s"' % hashlib.sha256(data).hexdigest()
        h = [("ETag", etag), ("Cache-Control", "private, max-age=60, s-maxage=60"),
             ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")]
        if last_modified is not None:
            h.append(("Last-Modified", email.utils.formatdate(last_modified, usegmt=True)))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = False
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            fresh = "*" in tags or any(t.replace("W/", "", 1) == etag.replace("W/", "", 1) for t in tags)
        elif ims is not None and last_modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
                fresh = int(last_modified) <= since
            except (TypeError, ValueError):
                fresh = False
        with w.lock:
            if not fresh:
                b["remaining"] -= 1
                self.counted = True
            rh = self.rate_headers(b)
        if fresh:
            return self.send(304, None, h + rh)
        return self.send(status, raw=data, headers=h + rh + list(extra))

    def counted_error(self, b, status, message, extra=()):
        with self.server.world.lock:
            b["remaining"] -= 1
            self.counted = True
            rh = self.rate_headers(b)
        return self.error(status, message, rh + list(extra))

    def page_args(self, q):
        try:
            per = int(q.get("per_page", ["30"])[0])
            page = int(q.get("page", ["1"])[0])
        except ValueError:
            return None
        return max(1, min(per, 100)), max(1, page)

    def links(self, prefix, q, page, last):
        rels = []
        keep = "&".join("%s=%s" % (k, v[0]) for k, v in sorted(q.items()) if k != "page")
        url = lambda p: "<%s%s?%s%spage=%d>" % (self.server.world.base, prefix, keep,
                                                "&" if keep else "", p)
        if page < last:
            rels += ['%s; rel="next"' % url(page + 1), '%s; rel="last"' % url(last)]
        if page > 1:
            rels = ['%s; rel="prev"' % url(min(page - 1, last)), '%s; rel="first"' % url(1)] + rels
        return [("Link", ", ".join(rels))] if rels else []

    def route(self, b):
        w = self.server.world
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        parts = u.path.strip("/").split("/")
        with w.lock:
            if parts[0] == "repos" and len(parts) >= 3:
                # Owner and name are case-insensitive, as on GitHub.
                full, rest = (parts[1] + "/" + parts[2]).lower(), parts[3:]
                if full == w.repo.lower() and w.renamed:
                    # GitHub redirects the old name to the repository's id.
                    loc = "%s/repositories/%d%s" % (w.base, w.repo_id, "/" + "/".join(rest) if rest else "")
                    if u.query:
                        loc += "?" + u.query
                    return self.counted_error(b, 301, "Moved Permanently", [("Location", loc)])
                rid = {w.current().lower(): w.repo_id, w.other.lower(): w.other_id}.get(full)
                if rid is None:
                    return self.counted_error(b, 404, "Not Found")
                full = w.repo if rid == w.repo_id else w.other
            elif parts[0] == "repositories" and len(parts) >= 2 and parts[1].isdigit():
                rid, rest = int(parts[1]), parts[2:]
                full = {w.repo_id: w.repo, w.other_id: w.other}.get(rid)
                if full is None:
                    return self.counted_error(b, 404, "Not Found")
            else:
                return self.counted_error(b, 404, "Not Found")
            prefix = "/repositories/%d" % rid
            if not rest:
                return self.conditional(b, 200, w.repository(w.current() if rid == w.repo_id else full, rid))
            if rest[0] != "issues":
                return self.counted_error(b, 404, "Not Found")
            if len(rest) == 1:
                if full != w.repo:
                    return self.conditional(b, 200, [])
                return self.listing(b, q, prefix + "/issues")
            if not rest[1].isdigit() or len(rest) > 3 or (len(rest) == 3 and rest[2] != "timeline"):
                return self.counted_error(b, 404, "Not Found")
            n = int(rest[1])
            if full == w.other:
                if n not in w.moved:
                    return self.counted_error(b, 404, "Not Found")
                src = w.moved[n]
                if len(rest) == 3:
                    return self.timeline(b, q, src, prefix + "/issues/%d/timeline" % n)
                return self.conditional(b, 200, w.issue(src, w.other, n),
                                        last_modified=w.issues[src]["updated"])
            st = w.state.get(n, "missing")
            if st == "missing":
                return self.counted_error(b, 404, "Not Found")
            if st == "deleted":
                return self.counted_error(b, 410, "This issue was deleted")
            if isinstance(st, tuple):
                loc = "%s/repositories/%d/issues/%d%s" % (w.base, w.other_id, st[1],
                                                          "/timeline" if len(rest) == 3 else "")
                if u.query:
                    loc += "?" + u.query
                return self.counted_error(b, 301, "Moved Permanently", [("Location", loc)])
            if len(rest) == 3:
                return self.timeline(b, q, n, prefix + "/issues/%d/timeline" % n)
            return self.conditional(b, 200, w.issue(n), last_modified=w.issues[n]["updated"])

    def timeline(self, b, q, n, prefix):
        w = self.server.world
        pa = self.page_args(q)
        if pa is None:
            return self.counted_error(b, 422, "Validation Failed")
        per, page = pa
        ev = w.events[n]
        last = max(1, (len(ev) + per - 1) // per)
        return self.conditional(b, 200, ev[(page - 1) * per: page * per], self.links(prefix, q, page, last))

    def listing(self, b, q, prefix):
        w = self.server.world
        pa = self.page_args(q)
        state = q.get("state", ["open"])[0]
        sort = q.get("sort", ["created"])[0]
        direction = q.get("direction", ["desc"])[0]
        since = q.get("since", [None])[0]
        since_t = parse_iso(since) if since is not None else None
        if (pa is None or state not in ("open", "closed", "all") or
                sort not in ("created", "updated", "comments") or direction not in ("asc", "desc") or
                (since is not None and since_t is None)):
            return self.counted_error(b, 422, "Validation Failed")
        per, page = pa
        items = [n for n, st in w.state.items() if st == "ok"]
        items = [n for n in items if state == "all" or w.issues[n]["state"] == state]
        if since_t is not None:
            items = [n for n in items if w.issues[n]["updated"] >= since_t]
        key = {"created": lambda n: (w.issues[n]["created"], n),
               "updated": lambda n: (w.issues[n]["updated"], n),
               "comments": lambda n: (len(w.events[n]), n)}[sort]
        items.sort(key=key, reverse=direction == "desc")
        last = max(1, (len(items) + per - 1) // per)
        chunk = [w.issue(n) for n in items[(page - 1) * per: page * per]]
        return self.conditional(b, 200, chunk, self.links(prefix, q, page, last))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up (after giving up on an answer) is normal.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--repo", default="webcompat/web-bugs")
    p.add_argument("--private-repo", default="web-bugs-private")
    p.add_argument("--issues", type=int, default=10)
    p.add_argument("--events", type=int, default=3)
    p.add_argument("--token")
    p.add_argument("--limit", type=int, default=5000)
    p.add_argument("--reset-in", type=int, default=3600)
    a = p.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    srv.world = World(a, "http://127.0.0.1:%d" % port)
    srv.log = open(a.log, "a") if a.log else None
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
