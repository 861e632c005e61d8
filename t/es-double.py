#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""An Elasticsearch test double for wb: the subset of the REST API wb uses,
held to the documented formats.

  _bulk                 NDJSON (Content-Type application/x-ndjson), an action
                        line and, for index/create, a source line; the body
                        must end with a newline; answers took/errors/items
                        with per-item _index/_id/status/result or error;
                        honours filter_path
  _delete_by_query      bool/term/terms/ids/match_all queries; sees only
                        refreshed documents, as Elasticsearch does; a
                        document re-indexed since the last refresh is a
                        version conflict (skipped with conflicts=proceed)
  _count, _search       the same query subset (or q=FIELD:VALUE), refreshed
                        documents only
  _refresh              makes every document visible; documents also become
                        visible at the next tick of --refresh-interval
  _index_template/NAME  PUT (checked) and GET; a new index takes the
                        mappings of the matching template, and documents
                        are mapped as Elasticsearch does (explicit types,
                        dynamic templates, defaults): a value that does not
                        fit is a per-item mapper_parsing_exception
  INDEX/_mapping        GET, the mapping so far

Checks Authorization (ApiKey with --api-key, Basic with --basic). Answers
413 as soon as the declared Content-Length is over --max-content-length,
and closes the connection without reading the body, as Elasticsearch does.
Fault injection through POST /_double/faults (JSON): {"item_429": {"ID": times}, "item_503": {"ID": times},
"item_400": ["ID", ...], "bulk_400": ["ID", ...] (a bulk request
holding one of these documents is refused whole, 400), "http_503": n, "garbage": n, "drop": n,
"reset_413": n (the next n requests over --max-content-length see their
connection reset, as when the reset overtakes the 413 answer; not those
sent with "Expect: 100-continue", answered before any body is sent),
"bad_answer": ["short" | "wrong_id" | "no_status" | "errors_lie" |
"not_object", ...] (each lie told once, to one bulk request),
"dbq_failure": n (the next n _delete_by_query fail: 429 with a rejected
delete in "failures", nothing deleted), "dbq_timeout": n (408, timed_out),
"refresh_400": n (the next n _refresh: 400 index_closed_exception),
"item_429_share": p (each bulk item is rejected 429 with probability p),
"http_503_share": p (each API request fails 503 with probability p): the
shares draw from a generator seeded with --seed, and count what they
injected in the stats "item_429_shared" and "http_503_shared"}.
GET /_double/stats counts requests. --stand-in accepts bulk requests
(checking their format) without indexing anything, for benchmarks.

Standard library only; run with Debian's /usr/bin/python3.
"""
import argparse
import base64
import fnmatch
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LOCK = threading.Lock()


class State:
    def __init__(self, args):
        self.args = args
        self.indices = {}  # name -> {id: Doc}
        self.refreshed = {}  # name -> time of the last explicit refresh
        self.mappings = {}  # name -> Mapping
        self.templates = {}
        self.faults = {}
        self.stats = {"bulk": 0, "bulk_docs": 0, "bulk_bytes": 0, "bulk_max_bytes": 0,
                      "delete_by_query": 0, "deleted": 0, "refresh": 0,
                      "search": 0, "count": 0, "templates": 0,
                      "requests": 0, "rejected_413": 0, "unauthorized": 0,
                      "faults": 0, "item_429_shared": 0, "http_503_shared": 0}
        self.random = random.Random(args.seed)
        self.seq = 0
        self.log = []  # "METHOD /path" of the last 10000 API requests


class Doc:
    __slots__ = ("source", "version", "created", "updated", "seq")

    def __init__(self, source, now, seq):
        self.source = source
        self.version = 1
        self.created = now
        self.updated = now
        self.seq = seq


class BadRequest(Exception):
    def __init__(self, status, etype, reason):
        super().__init__(reason)
        self.status = status
        self.etype = etype
        self.reason = reason


def error_body(status, etype, reason):
    return {"error": {"root_cause": [{"type": etype, "reason": reason}],
                      "type": etype, "reason": reason}, "status": status}


def no_dups(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError("Duplicate field '%s'" % k)
        obj[k] = v
    return obj


def strict_loads(text):
    def bad_constant(name):
        raise ValueError("Unrecognized token '%s'" % name)
    return json.loads(text, object_pairs_hook=no_dups,
                      parse_constant=bad_constant)


def filter_paths(value, paths):
    """Elasticsearch's filter_path, inclusive paths with '*' wildcards."""
    def keep(v, patterns):
        if not patterns:
            return v
        if isinstance(v, list):
            out = [keep(x, patterns) for x in v]
            out = [x for x in out if x is not None]
            return out or None
        if not isinstance(v, dict):
            return None
        out = {}
        for k, x in v.items():
            sub = []
            whole = False
            for p in patterns:
                if fnmatch.fnmatchcase(k, p[0]):
                    if len(p) == 1:
                        whole = True
                    else:
                        sub.append(p[1:])
            if whole:
                out[k] = x
            elif sub:
                y = keep(x, sub)
                if y is not None and y != {} and y != []:
                    out[k] = y
        return out or None
    pats = [p.split(".") for p in paths.split(",") if p]
    got = keep(value, pats)
    return got if got is not None else {}


# ---------------------------------------------------------------- queries

def field_values(source, field):
    v = source
    for part in field.split("."):
        if isinstance(v, dict) and part in v:
            v = v[part]
        else:
            return []
    return v if isinstance(v, list) else [v]


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else \
            str(a).lower() == str(b).lower()
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b


def compile_query(q):
    if not isinstance(q, dict) or len(q) != 1:
        raise BadRequest(400, "parsing_exception",
                         "a query is an object with one key")
    kind, body = next(iter(q.items()))
    if kind == "match_all":
        return lambda _id, src: True
    if kind in ("term", "terms"):
        if not isinstance(body, dict):
            raise BadRequest(400, "parsing_exception", "[%s] malformed" % kind)
        fields = [k for k in body if k != "boost"]
        if len(fields) != 1:
            raise BadRequest(400, "parsing_exception",
                             "[%s] query requires one field" % kind)
        field = fields[0]
        want = body[field]
        if kind == "term":
            if isinstance(want, dict):
                if "value" not in want:
                    raise BadRequest(400, "parsing_exception",
                                     "[term] query requires a value")
                want = want["value"]
            if isinstance(want, (list, dict)) or want is None:
                raise BadRequest(400, "parsing_exception",
                                 "[term] query does not support arrays")
            wants = [want]
        else:
            if not isinstance(want, list):
                raise BadRequest(400, "parsing_exception",
                                 "[terms] query requires an array")
            if len(want) > 65536:
                raise BadRequest(400, "illegal_argument_exception",
                                 "too many terms")
            wants = want
        return lambda _id, src: any(same(v, w) for v in
                                    field_values(src, field) for w in wants)
    if kind == "ids":
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise BadRequest(400, "parsing_exception", "[ids] requires values")
        values = set(str(v) for v in body["values"])
        return lambda _id, src: _id in values
    if kind == "bool":
        if not isinstance(body, dict):
            raise BadRequest(400, "parsing_exception", "[bool] malformed")
        parts = {}
        for key in ("must", "filter", "should", "must_not"):
            v = body.get(key, [])
            if isinstance(v, dict):
                v = [v]
            if not isinstance(v, list):
                raise BadRequest(400, "parsing_exception",
                                 "[bool] %s malformed" % key)
            parts[key] = [compile_query(x) for x in v]
        for key in body:
            if key not in ("must", "filter", "should", "must_not",
                           "minimum_should_match", "boost"):
                raise BadRequest(400, "parsing_exception",
                                 "[bool] query does not support [%s]" % key)
        msm = body.get("minimum_should_match")
        if msm is None:
            msm = 0 if (parts["must"] or parts["filter"]) else 1
        if not isinstance(msm, int) and not (isinstance(msm, str) and msm.isdigit()):
            raise BadRequest(400, "parsing_exception",
                             "minimum_should_match: integers only here")
        msm = int(msm)
        if not parts["should"]:
            msm = 0
        clauses = sum(len(p) for p in parts.values())
        if clauses > 1024:
            raise BadRequest(400, "too_many_clauses",
                             "maxClauseCount is set to 1024")

        def match(_id, src):
            if not all(f(_id, src) for f in parts["must"] + parts["filter"]):
                return False
            if any(f(_id, src) for f in parts["must_not"]):
                return False
            if msm:
                return sum(1 for f in parts["should"] if f(_id, src)) >= msm
            return True
        return match
    raise BadRequest(400, "parsing_exception",
                     "unknown query [%s] (this double knows bool, term, "
                     "terms, ids, match_all)" % kind)


# ---------------------------------------------------------------- server

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once
    server_version = "es-double"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("es-double: " + (fmt % args) + "\n")

    # -- plumbing

    def send_json(self, status, obj, query=None):
        if query is not None and "filter_path" in query:
            obj = filter_paths(obj, query["filter_path"][-1])
        data = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'ApiKey, Basic realm="security"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def authorized(self):
        a = self.server.state.args
        if not a.api_key and not a.basic:
            return True
        got = self.headers.get("Authorization", "")
        if a.api_key and got == "ApiKey " + a.api_key:
            return True
        if a.basic and got == "Basic " + base64.b64encode(a.basic.encode()).decode():
            return True
        return False

    def content_type(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def take_fault(self, name):
        st = self.server.state
        with LOCK:
            n = st.faults.get(name, 0)
            if n:
                st.faults[name] = n - 1
                st.stats["faults"] += 1
                return True
        return False

    def take_share(self, name):
        """A fault drawn with the probability faults[name + "_share"]."""
        st = self.server.state
        with LOCK:
            p = st.faults.get(name + "_share", 0)
            if p and st.random.random() < p:
                st.stats[name + "_shared"] += 1
                return True
        return False

    def count_request(self):
        st = self.server.state
        with LOCK:
            st.stats["requests"] += 1
            st.log.append("%s %s" % (self.command, urlsplit(self.path).path))
            del st.log[:-10000]

    def too_large(self):
        """The declared Content-Length is over http.max_content_length."""
        limit = self.server.state.args.max_content_length
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return False
        return bool(limit) and length > limit

    def refuse_too_large(self, counted=False, body_sent=True):
        """As Elasticsearch (Netty's HttpObjectAggregator) does: 413 as soon
        as the declared length is over the limit, then close the connection
        without reading the body. A client still uploading then often sees
        its connection reset instead of the answer. Not one that waits for
        100 Continue (body_sent False): it has sent no body, so the close
        leaves nothing unread and cannot reset the connection."""
        st = self.server.state
        if not counted:
            self.count_request()
        with LOCK:
            st.stats["rejected_413"] += 1
        self.close_connection = True
        if body_sent and self.take_fault("reset_413"):
            # The reset won the race: the client never sees the answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            return
        self.send_response(413)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def handle_expect_100(self):
        # Elasticsearch answers 413 instead of 100 Continue, too.
        if not self.path.startswith("/_double") and self.too_large():
            self.refuse_too_large(body_sent=False)
            return False
        return super().handle_expect_100()

    def handle_any(self):
        st = self.server.state
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = [unquote(p) for p in parts.path.split("/") if p]
        if path[:1] != ["_double"] and self.too_large():
            return self.refuse_too_large()
        body = self.read_body()
        if path[:1] == ["_double"]:
            return self.double_api(path[1:], body)
        self.count_request()
        if self.take_fault("drop"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if st.args.max_content_length and len(body) > st.args.max_content_length:
            # A chunked body, whose length is known once read.
            return self.refuse_too_large(counted=True)
        if not self.authorized():
            with LOCK:
                st.stats["unauthorized"] += 1
            return self.send_json(401, error_body(
                401, "security_exception",
                "missing authentication credentials for REST request [%s]" % parts.path))
        if self.take_fault("http_503") or self.take_share("http_503"):
            return self.send_json(503, error_body(
                503, "cluster_block_exception", "injected: no master"))
        try:
            self.route(path, query, body)
        except BadRequest as e:
            self.send_json(e.status, error_body(e.status, e.etype, e.reason))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    def route(self, path, query, body):
        m = self.command
        if path and path[-1] == "_bulk" and len(path) <= 2 and m in ("POST", "PUT"):
            return self.bulk(path[0] if len(path) == 2 else None, query, body)
        if len(path) == 2 and path[1] == "_delete_by_query" and m == "POST":
            return self.delete_by_query(path[0], query, body)
        if path and path[-1] in ("_count", "_search") and len(path) <= 2 and m in ("GET", "POST"):
            return self.search(path[0] if len(path) == 2 else "*", path[-1], query, body)
        if path and path[-1] == "_refresh" and len(path) <= 2 and m in ("GET", "POST"):
            return self.refresh(path[0] if len(path) == 2 else "*", query)
        if len(path) == 2 and path[1] == "_mapping" and m == "GET":
            with LOCK:
                names = self.resolve(path[0])
                out = {n: {"mappings": self.server.state.mappings[n].dump()}
                       for n in names}
            return self.send_json(200, out)
        if len(path) == 2 and path[0] == "_index_template":
            return self.template(path[1], body)
        if not path and m in ("GET", "HEAD"):
            return self.send_json(200, {"name": "es-double", "cluster_name": "wb",
                                        "version": {"number": "8.11.0"},
                                        "tagline": "You Know, for Search"})
        raise BadRequest(405 if path and path[-1].startswith("_") else 400,
                         "illegal_argument_exception",
                         "no handler for [%s] [%s]" % (m, self.path))

    def double_api(self, path, body):
        st = self.server.state
        if path == ["stats"]:
            with LOCK:
                if self.command == "DELETE":
                    for k in st.stats:
                        st.stats[k] = 0
                return self.send_json(200, dict(st.stats))
        if path == ["log"]:
            with LOCK:
                return self.send_json(200, list(st.log))
        if path == ["faults"] and self.command == "POST":
            with LOCK:
                st.faults = json.loads(body or b"{}")
            return self.send_json(200, {"acknowledged": True})
        if path == ["dump"]:
            with LOCK:
                out = {name: {i: d.source for i, d in docs.items()}
                       for name, docs in st.indices.items()}
            return self.send_json(200, out)
        raise BadRequest(404, "not_found", "no such double endpoint")

    # -- the APIs

    def bulk(self, default_index, query, body):
        st = self.server.state
        if self.content_type() != "application/x-ndjson":
            raise BadRequest(406, "media_type_header_exception",
                             "Content-Type header [%s] is not supported"
                             % self.headers.get("Content-Type", ""))
        if not body:
            raise BadRequest(400, "action_request_validation_exception",
                             "Validation Failed: 1: no requests added;")
        if not body.endswith(b"\n"):
            raise BadRequest(400, "illegal_argument_exception",
                             "The bulk request must be terminated by a newline [\\n]")
        for key in query:
            if key not in ("filter_path", "refresh", "pretty", "timeout"):
                raise BadRequest(400, "illegal_argument_exception",
                                 "request [/_bulk] contains unrecognized parameter: [%s]" % key)
        if self.take_fault("garbage"):
            data = b'{"took":3,"errors":false,"items":[{"index":{"_id"'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        start = time.time()
        if st.args.stand_in:
            fast = self.stand_in_bulk(body, query, start)
            if fast is not None:
                return fast
        lines = body.split(b"\n")
        lines.pop()  # after the final newline
        items = []
        actions = []
        errors = False
        i = 0
        now = time.time()
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            try:
                action = strict_loads(lines[i])
            except ValueError as e:
                raise BadRequest(400, "x_content_parse_exception",
                                 "[%d:1] Malformed action/metadata line: %s" % (i + 1, e))
            if not isinstance(action, dict) or len(action) != 1:
                raise BadRequest(400, "illegal_argument_exception",
                                 "Malformed action/metadata line [%d], expected a simple value for field [index] but found [START_OBJECT]" % (i + 1))
            op, meta = next(iter(action.items()))
            if op not in ("index", "create", "update", "delete") or not isinstance(meta, dict):
                raise BadRequest(400, "illegal_argument_exception",
                                 "Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]" % (i + 1, op))
            for k in meta:
                if k not in ("_index", "_id", "routing", "version", "version_type",
                             "if_seq_no", "if_primary_term", "pipeline", "require_alias"):
                    raise BadRequest(400, "illegal_argument_exception",
                                     "Action/metadata line [%d] contains an unknown parameter [%s]" % (i + 1, k))
            index = meta.get("_index", default_index)
            if not isinstance(index, str) or not index:
                raise BadRequest(400, "action_request_validation_exception",
                                 "Validation Failed: 1: index is missing;")
            _id = meta.get("_id")
            if _id is not None and not isinstance(_id, str):
                _id = str(_id)
            if op in ("index", "create", "update"):
                if i + 1 >= len(lines):
                    raise BadRequest(400, "illegal_argument_exception",
                                     "The bulk request must be terminated by a newline [\\n]")
                source_line = lines[i + 1]
                i += 2
            else:
                source_line = None
                i += 1
            if op == "update":
                raise BadRequest(400, "illegal_argument_exception",
                                 "this double does not do [update]")
            actions.append((op, index, _id, source_line))
            with LOCK:
                bad = _id in st.faults.get("bulk_400", [])
                if bad:
                    st.stats["faults"] += 1
            if bad:
                # As for an action line Elasticsearch cannot parse.
                raise BadRequest(400, "illegal_argument_exception",
                                 "Malformed action/metadata line [%d], injected for [%s]"
                                 % (i - (2 if source_line is not None else 1) + 1, _id))
        # As Elasticsearch, read every action line before doing any.
        for op, index, _id, source_line in actions:
            items.append(self.bulk_item(op, index, _id, source_line, now))
            if "error" in items[-1][op]:
                errors = True
        with LOCK:
            st.stats["bulk"] += 1
            st.stats["bulk_docs"] += len(items)
            st.stats["bulk_bytes"] += len(body)
            st.stats["bulk_max_bytes"] = max(st.stats["bulk_max_bytes"], len(body))
        took = int((time.time() - start) * 1000)
        answer = {"took": took, "errors": errors, "items": items}
        with LOCK:
            lies = st.faults.get("bad_answer", [])
            lie = lies.pop(0) if lies else None
        if lie == "short":
            answer["items"] = items[:-1]
        elif lie == "wrong_id":
            next(iter(items[-1].values()))["_id"] = "0-0"
        elif lie == "no_status":
            del next(iter(items[0].values()))["status"]
        elif lie == "errors_lie":
            next(iter(items[0].values()))["status"] = 400
        elif lie == "not_object":
            answer = [answer]
        self.send_json(200, answer, query)

    SIMPLE_ACTION = re.compile(
        rb'\{"index":\{"_index":"([A-Za-z0-9_.-]+)","_id":"([A-Za-z0-9_.-]+)"\}\}')

    def stand_in_bulk(self, body, query, start):
        """The stand-in's fast path for bodies of plain index actions, which
        it checks line by line as the general path does, at C speed: every
        other line an action line of this exact form, every source line an
        object on one line. Returns None to take the general path."""
        st = self.server.state
        lines = body.split(b"\n")
        lines.pop()
        if len(lines) % 2:
            return None
        match = self.SIMPLE_ACTION.fullmatch
        acts = [match(a) for a in lines[0::2]]
        if not all(acts):
            return None
        if not all(l[:1] == b"{" and l[-1:] == b"}" for l in lines[1::2]):
            return None
        sample = {"index": {"_index": "\x00I", "_id": "\x00D", "_version": 1,
                            "result": "created",
                            "_shards": {"total": 2, "successful": 1, "failed": 0},
                            "_seq_no": 0, "_primary_term": 1, "status": 201}}
        keys = ["took", "errors", "items"]
        one = sample
        if "filter_path" in query:
            paths = query["filter_path"][-1]
            one = filter_paths({"items": [sample]}, paths).get("items", [{}])[0]
            tops = [p.split(".")[0] for p in paths.split(",") if p]
            keys = [k for k in keys if any(fnmatch.fnmatchcase(k, t) for t in tops)]
        tmpl = json.dumps(one, separators=(",", ":")).encode()
        tmpl = tmpl.replace(b"\\", b"\\\\")
        tmpl = tmpl.replace(b'"\\\\u0000I"', b'"\\1"').replace(b'"\\\\u0000D"', b'"\\2"')
        # Every action line matched: one substitution over all of them.
        items = self.SIMPLE_ACTION.sub(tmpl, b"\n".join(lines[0::2]))
        items = items.replace(b"\n", b",").decode()
        head = {"took": int((time.time() - start) * 1000), "errors": False,
                "items": 0}
        text = json.dumps({k: head[k] for k in keys}, separators=(",", ":"))
        if "items" in keys:
            text = text.replace('"items":0', '"items":[' + items + ']', 1)
        data = text.encode()
        with LOCK:
            st.stats["bulk"] += 1
            st.stats["bulk_docs"] += len(acts)
            st.stats["bulk_bytes"] += len(body)
            st.stats["bulk_max_bytes"] = max(st.stats["bulk_max_bytes"], len(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True

    def bulk_item(self, op, index, _id, source_line, now):
        st = self.server.state
        shards = {"total": 2, "successful": 1, "failed": 0}

        def fail(status, etype, reason):
            return {op: {"_index": index, "_id": _id, "status": status,
                         "error": {"type": etype, "reason": reason,
                                   "index": index}}}
        with LOCK:
            for kind, status, etype in (("item_429", 429, "es_rejected_execution_exception"),
                                        ("item_503", 503, "unavailable_shards_exception")):
                left = st.faults.get(kind, {}).get(_id, 0)
                if left:
                    st.faults[kind][_id] = left - 1
                    st.stats["faults"] += 1
                    return fail(status, etype, "injected: rejected execution of the write")
            p = st.faults.get("item_429_share", 0)
            if p and st.random.random() < p:
                st.stats["item_429_shared"] += 1
                return fail(429, "es_rejected_execution_exception",
                            "injected: rejected execution of the write")
            if _id in st.faults.get("item_400", []):
                st.stats["faults"] += 1
                return fail(400, "mapper_parsing_exception",
                            "failed to parse field [created_at] of type [date] in document with id '%s'" % _id)
        if source_line is not None and not st.args.stand_in:
            try:
                source = strict_loads(source_line)
            except (ValueError, UnicodeDecodeError) as e:
                return fail(400, "mapper_parsing_exception",
                            "failed to parse: %s" % e)
            if not isinstance(source, dict):
                return fail(400, "mapper_parsing_exception",
                            "failed to parse, document is empty")
        elif source_line is not None:
            source = None
            if not source_line.startswith(b"{") or not source_line.rstrip().endswith(b"}"):
                return fail(400, "mapper_parsing_exception", "failed to parse")
        if st.args.stand_in:
            if _id is None:
                _id = "auto"
            return {op: {"_index": index, "_id": _id, "_version": 1,
                         "result": "created", "_shards": shards,
                         "_seq_no": 0, "_primary_term": 1, "status": 201}}
        with LOCK:
            st.seq += 1
            docs = st.indices.get(index)
            if docs is None:
                if op == "delete":
                    return {op: {"_index": index, "_id": _id, "_version": 1,
                                 "result": "not_found", "_shards": shards,
                                 "_seq_no": st.seq, "_primary_term": 1,
                                 "status": 404}}
                docs = st.indices[index] = {}
                st.refreshed[index] = 0
                st.mappings[index] = Mapping(template_for(st.templates, index))
            if _id is None:
                _id = "auto%d" % st.seq
            old = docs.get(_id)
            if op == "delete":
                if old is None:
                    return {op: {"_index": index, "_id": _id, "_version": 1,
                                 "result": "not_found", "_shards": shards,
                                 "_seq_no": st.seq, "_primary_term": 1,
                                 "status": 404}}
                del docs[_id]
                return {op: {"_index": index, "_id": _id,
                             "_version": old.version + 1, "result": "deleted",
                             "_shards": shards, "_seq_no": st.seq,
                             "_primary_term": 1, "status": 200}}
            problem = st.mappings[index].check(source)
            if problem:
                return fail(400, "mapper_parsing_exception",
                            problem + " in document with id '%s'" % _id)
            if op == "create" and old is not None:
                return fail(409, "version_conflict_engine_exception",
                            "[%s]: version conflict, document already exists" % _id)
            if old is None:
                docs[_id] = Doc(source, now, st.seq)
                version, result, status = 1, "created", 201
            else:
                old.source = source
                old.version += 1
                old.updated = now
                old.seq = st.seq
                version, result, status = old.version, "updated", 200
            return {op: {"_index": index, "_id": _id, "_version": version,
                         "result": result, "_shards": shards,
                         "_seq_no": st.seq, "_primary_term": 1,
                         "status": status}}

    def resolve(self, expr, ignore_unavailable=False):
        st = self.server.state
        names = []
        for part in expr.split(","):
            if part in ("_all", "*"):
                names.extend(sorted(st.indices))
            elif "*" in part:
                names.extend(sorted(n for n in st.indices if fnmatch.fnmatchcase(n, part)))
            elif part in st.indices:
                names.append(part)
            elif not ignore_unavailable:
                raise BadRequest(404, "index_not_found_exception",
                                 "no such index [%s]" % part)
        return names

    def visible_point(self, index):
        """Documents indexed at or before this time are searchable."""
        st = self.server.state
        iv = st.args.refresh_interval
        tick = (time.time() // iv) * iv if iv > 0 else 0
        return max(tick, st.refreshed.get(index, 0))

    def parse_query(self, body):
        if not body:
            return None
        if self.content_type() != "application/json":
            raise BadRequest(406, "media_type_header_exception",
                             "Content-Type header [%s] is not supported"
                             % self.headers.get("Content-Type", ""))
        try:
            req = strict_loads(body)
        except ValueError as e:
            raise BadRequest(400, "parsing_exception", str(e))
        if not isinstance(req, dict):
            raise BadRequest(400, "parsing_exception", "request body is not an object")
        return req

    def delete_by_query(self, expr, query, body):
        st = self.server.state
        for key in query:
            if key not in ("conflicts", "ignore_unavailable", "allow_no_indices",
                           "refresh", "filter_path", "wait_for_completion"):
                raise BadRequest(400, "illegal_argument_exception",
                                 "request [_delete_by_query] contains unrecognized parameter: [%s]" % key)
        conflicts = query.get("conflicts", ["abort"])[-1]
        if conflicts not in ("abort", "proceed"):
            raise BadRequest(400, "illegal_argument_exception", "conflicts may only be \"proceed\" or \"abort\"")
        req = self.parse_query(body)
        if req is None or "query" not in req:
            raise BadRequest(400, "action_request_validation_exception",
                             "Validation Failed: 1: query is missing;")
        for key in req:
            if key not in ("query", "max_docs"):
                raise BadRequest(400, "parsing_exception", "Unknown key [%s]" % key)
        match = compile_query(req["query"])
        start = time.time()
        # Elasticsearch answers with the highest status among the
        # failures, 408 when it timed out (and failures then carry the
        # documents it could not delete).
        if self.take_fault("dbq_timeout"):
            return self.send_json(408, self.dbq_answer(start, 0, 0, 0, [], True), query)
        if self.take_fault("dbq_failure"):
            return self.send_json(429, self.dbq_answer(start, 1, 0, 0, [
                {"index": "timelines", "id": "0-0", "status": 429,
                 "cause": {"type": "es_rejected_execution_exception",
                           "reason": "injected: rejected execution of delete",
                           "index": "timelines"}}], False), query)
        with LOCK:
            names = self.resolve(expr, query.get("ignore_unavailable", ["false"])[-1] == "true")
            deleted = conflicts_n = total = 0
            failures = []
            for name in names:
                point = self.visible_point(name)
                docs = st.indices[name]
                for _id in list(docs):
                    d = docs[_id]
                    if d.created > point or not match(_id, d.source):
                        continue
                    total += 1
                    if d.updated > point:
                        conflicts_n += 1
                        if conflicts == "abort":
                            failures.append({"index": name, "id": _id, "status": 409,
                                             "cause": {"type": "version_conflict_engine_exception",
                                                       "reason": "[%s]: version conflict" % _id}})
                        continue
                    if failures:
                        continue
                    del docs[_id]
                    deleted += 1
            st.stats["delete_by_query"] += 1
            st.stats["deleted"] += deleted
        out = self.dbq_answer(start, total, deleted, conflicts_n, failures, False)
        self.send_json(409 if failures else 200, out, query)

    @staticmethod
    def dbq_answer(start, total, deleted, conflicts_n, failures, timed_out):
        return {"took": int((time.time() - start) * 1000), "timed_out": timed_out,
                "total": total, "deleted": deleted, "batches": 1,
                "version_conflicts": conflicts_n, "noops": 0,
                "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
                "requests_per_second": -1.0, "throttled_until_millis": 0,
                "failures": failures}

    def search(self, expr, what, query, body):
        st = self.server.state
        req = self.parse_query(body) or {}
        if "q" in query:
            # URI search, in its simplest form only: q=FIELD:VALUE, a term.
            m = re.fullmatch(r"([A-Za-z0-9_.]+):([^\s:()\[\]{}\"*?~^\\]+)", query["q"][-1])
            if m is None or "query" in req:
                raise BadRequest(400, "query_shard_exception",
                                 "this double knows q=FIELD:VALUE only")
            value = m.group(2)
            req["query"] = {"term": {m.group(1): int(value) if value.isdigit() else value}}
        match = compile_query(req.get("query", {"match_all": {}}))
        size = int(query.get("size", [req.get("size", 10)])[-1])
        with LOCK:
            names = self.resolve(expr, query.get("ignore_unavailable", ["false"])[-1] == "true")
            hits = []
            for name in names:
                point = self.visible_point(name)
                for _id, d in st.indices[name].items():
                    if d.created <= point and match(_id, d.source):
                        hits.append({"_index": name, "_id": _id, "_score": 1.0,
                                     "_source": d.source})
            st.stats[what[1:]] += 1
        shards = {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}
        if what == "_count":
            return self.send_json(200, {"count": len(hits), "_shards": shards}, query)
        hits.sort(key=lambda h: (h["_index"], h["_id"]))
        self.send_json(200, {"took": 1, "timed_out": False, "_shards": shards,
                             "hits": {"total": {"value": len(hits), "relation": "eq"},
                                      "max_score": 1.0 if hits else None,
                                      "hits": hits[:size]}}, query)

    def refresh(self, expr, query):
        st = self.server.state
        if self.take_fault("refresh_400"):
            raise BadRequest(400, "index_closed_exception", "injected: closed")
        with LOCK:
            names = self.resolve(expr, query.get("ignore_unavailable", ["false"])[-1] == "true")
            for name in names:
                st.refreshed[name] = time.time()
            st.stats["refresh"] += 1
        self.send_json(200, {"_shards": {"total": len(names), "successful": len(names),
                                         "failed": 0}})

    def template(self, name, body):
        st = self.server.state
        if self.command == "GET":
            with LOCK:
                t = st.templates.get(name)
            if t is None:
                raise BadRequest(404, "resource_not_found_exception",
                                 "index template matching [%s] not found" % name)
            return self.send_json(200, {"index_templates": [{"name": name, "index_template": t}]})
        if self.command not in ("PUT", "POST"):
            raise BadRequest(405, "illegal_argument_exception", "method not allowed")
        req = self.parse_query(body)
        if req is None:
            raise BadRequest(400, "parse_exception", "request body is required")
        pats = req.get("index_patterns")
        if isinstance(pats, str):
            pats = [pats]
        if not isinstance(pats, list) or not pats or not all(isinstance(p, str) for p in pats):
            raise BadRequest(400, "action_request_validation_exception",
                             "Validation Failed: 1: index patterns are missing;")
        for key in req:
            if key not in ("index_patterns", "template", "priority", "version",
                           "_meta", "composed_of", "data_stream", "allow_auto_create"):
                raise BadRequest(400, "x_content_parse_exception",
                                 "[index_template] unknown field [%s]" % key)
        tpl = req.get("template", {})
        if not isinstance(tpl, dict) or any(k not in ("settings", "mappings", "aliases") for k in tpl):
            raise BadRequest(400, "x_content_parse_exception", "[template] malformed")
        mappings = tpl.get("mappings", {})
        if not isinstance(mappings, dict) or not isinstance(mappings.get("properties", {}), dict):
            raise BadRequest(400, "mapper_parsing_exception", "malformed mappings")
        check_mapping(mappings.get("properties", {}))
        with LOCK:
            st.templates[name] = req
            st.stats["templates"] += 1
        self.send_json(200, {"acknowledged": True})


ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
                      r"(Z|[+-]\d{2}(:?\d{2})?)?)?)?)?$")
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "scaled_float"}


def template_for(templates, index):
    """The mappings of the highest-priority template matching index."""
    best = None
    for t in templates.values():
        pats = t["index_patterns"]
        pats = [pats] if isinstance(pats, str) else pats
        if any(fnmatch.fnmatchcase(index, p) for p in pats):
            if best is None or t.get("priority", 0) > best.get("priority", 0):
                best = t
    return (best or {}).get("template", {}).get("mappings", {})


class Mapping:
    """Elasticsearch's mapping of one index, as far as wb needs it: the
    template's explicit properties and dynamic_templates, and dynamic
    mapping for the rest (strings as text with a keyword sub-field, numbers
    as long or float, date_detection as configured). A value that does not
    fit its field's type is a mapper_parsing_exception, as in
    Elasticsearch, and a document that adds a field fixes its type."""

    def __init__(self, mappings):
        self.props = json.loads(json.dumps(mappings.get("properties", {})))
        self.dynamic = mappings.get("dynamic_templates", [])
        self.date_detection = mappings.get("date_detection", True)

    def dump(self):
        return {"dynamic_templates": self.dynamic,
                "date_detection": self.date_detection,
                "properties": self.props}

    def dynamic_for(self, name, path, value):
        kind = ("string" if isinstance(value, str) else
                "boolean" if isinstance(value, bool) else
                "long" if isinstance(value, int) else
                "double" if isinstance(value, float) else "object")
        for entry in self.dynamic:
            (_, t), = entry.items()
            if t.get("match_mapping_type", "*") not in ("*", kind):
                continue
            if "match" in t:
                if t.get("match_pattern") == "regex":
                    if not re.search(t["match"], name):
                        continue
                elif not fnmatch.fnmatchcase(name, t["match"]):
                    continue
            if "path_match" in t and not fnmatch.fnmatchcase(path, t["path_match"]):
                continue
            return json.loads(json.dumps(t["mapping"]))
        if kind == "string":
            if self.date_detection and ISO_DATE.match(value) and len(value) >= 10:
                return {"type": "date"}
            return {"type": "text", "fields": {"keyword": {"type": "keyword",
                                                           "ignore_above": 256}}}
        return {"type": kind if kind != "object" else "object"} \
            if kind != "double" else {"type": "float"}

    def check(self, source):
        """None, or why 'source' does not fit (the mapping grows with it)."""
        try:
            self.walk(self.props, source, "")
        except ValueError as e:
            return str(e)
        return None

    def walk(self, props, obj, prefix):
        for name, value in obj.items():
            path = prefix + name
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v is None:
                    continue
                m = props.get(name)
                if m is None:
                    m = self.dynamic_for(name, path, v)
                    if m.get("type") == "object" or isinstance(v, dict):
                        m = {"properties": {}} if "type" not in m or m["type"] == "object" else m
                    props[name] = m
                self.fits(m, v, path)

    def fits(self, m, v, path):
        t = m.get("type", "object")
        if t in ("object", "nested"):
            if not isinstance(v, dict):
                raise ValueError("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value" % (path, path))
            m.setdefault("properties", {})
            self.walk(m["properties"], v, path + ".")
            return
        if isinstance(v, dict):
            raise ValueError("failed to parse field [%s] of type [%s]: an object" % (path, t))
        if t == "date":
            ok = (isinstance(v, str) and ISO_DATE.match(v)) or \
                (isinstance(v, int) and not isinstance(v, bool))
        elif t in NUMERIC:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if isinstance(v, str):
                try:
                    float(v)
                    ok = True
                except ValueError:
                    ok = False
        elif t == "boolean":
            ok = isinstance(v, bool) or v in ("true", "false", "")
        else:
            ok = True
        if not ok:
            raise ValueError("failed to parse field [%s] of type [%s]" % (path, t))


TYPES = {"text", "keyword", "date", "long", "integer", "short", "byte", "double",
         "float", "boolean", "object", "nested", "ip", "flattened", "scaled_float"}


def check_mapping(props, where=""):
    for name, m in props.items():
        if not isinstance(m, dict):
            raise BadRequest(400, "mapper_parsing_exception",
                             "Expected map for property [%s%s]" % (where, name))
        t = m.get("type", "object")
        if t not in TYPES:
            raise BadRequest(400, "mapper_parsing_exception",
                             "No handler for type [%s] declared on field [%s%s]" % (t, where, name))
        if "properties" in m:
            check_mapping(m["properties"], where + name + ".")
        for sub, sm in m.get("fields", {}).items():
            check_mapping({sub: sm}, where + name + ".")


def main():
    p = argparse.ArgumentParser(description="Elasticsearch test double")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--api-key", help="require Authorization: ApiKey KEY")
    p.add_argument("--basic", help="require Authorization: Basic for USER:PASS")
    p.add_argument("--max-content-length", type=int, default=100 * 1024 * 1024)
    p.add_argument("--refresh-interval", type=float, default=1.0)
    p.add_argument("--stand-in", action="store_true",
                   help="check bulk requests, index nothing")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                   help="serve HTTPS with this certificate and key")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the shared faults (item_429_share, http_503_share)")
    args = p.parse_args()
    if args.api_key is None and os.environ.get("ES_DOUBLE_API_KEY"):
        args.api_key = os.environ["ES_DOUBLE_API_KEY"]
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.state = State(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
