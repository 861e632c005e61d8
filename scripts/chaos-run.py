#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The chaos run of `make chaos` (issue 9), started by scripts/chaos.

The whole system as `make run` lays it out (scripts/run: every service of
s6/, real s6-svscan on a scan dir in a temporary directory), against the
GitHub double (t/github-double.py), the Elasticsearch double
(t/es-double.py) and a real redis-server with append-only persistence
(appendfsync always), mirrors a generated repository while:

  - kill -9 hits a random process of a random pipeline stage every
    CHAOS_KILL_MIN..CHAOS_KILL_MAX seconds (wb-hook and the indexer too);
  - Redis is killed and started again CHAOS_REDIS_RESTARTS times;
  - the GitHub double answers 5xx, drops connections, truncates bodies,
    and spends the rate limit once (reset 3 s later); the Elasticsearch
    double rejects a share of bulk items with 429 and fails a share of
    requests with 503;
  - signed webhooks keep arriving for the issues being downloaded at that
    moment, most after a change made on the double (the lost-update race).

Then it waits, polling, at most CHAOS_SETTLE seconds for the exact state,
and prints one TAP line per promise and "N passed, N failed":
the archive equals what the double serves (after the private
substitution, both sides as compact JSON in the order served), the index
(the ES double's documents) holds exactly the archive's documents, both
queues are empty, no temporary file is left, no process of a dead pipeline
instance remains (every pid seen is tracked per instance), nothing is left
once s6 is stopped, no secret appears in any log or output file, and
every webhook was accepted. Exits 1 when any failed, 2 on a setup error.

Parameters (environment): CHAOS_ISSUES (2000), CHAOS_DURATION (seconds
of faults, 90), CHAOS_KILL_MIN / CHAOS_KILL_MAX (1 / 3), CHAOS_MIN_KILLS
(30), CHAOS_REDIS_RESTARTS (2), CHAOS_SETTLE (90), CHAOS_SEED (1),
CHAOS_DIR (a new temporary directory), CHAOS_KEEP (1: keep it), WB_BUILD.
The data are generated from the seed; nothing is cached.

With --backfill SECONDS (make bench, scripts/bench.d/80-backfill-kills.sh) it
runs no fault but kill -9 of a downloader or indexer process every
SECONDS (0: none) while the repository is mirrored, and prints
"backfill TIME KILLS": the seconds from the start of s6 to both queues
empty, and the kills made; it exits 1 if the state is then not exact
(CHAOS_SETTLE is the time allowed, from the start of s6).
"""
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
REPO = "webcompat/web-bugs"
PRIVATE_REPO = "web-bugs-private"
MOD_TITLES = ("In the moderation queue.", "Issue closed.")


def env_num(name, default, kind=int):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        return kind(v)
    except ValueError:
        sys.exit("chaos: %s=%r is not a number" % (name, v))


P = {
    "issues": env_num("CHAOS_ISSUES", 2000),
    "duration": env_num("CHAOS_DURATION", 90.0, float),
    "kill_min": env_num("CHAOS_KILL_MIN", 1.0, float),
    "kill_max": env_num("CHAOS_KILL_MAX", 3.0, float),
    "min_kills": env_num("CHAOS_MIN_KILLS", 30),
    "redis_restarts": env_num("CHAOS_REDIS_RESTARTS", 2),
    "settle": env_num("CHAOS_SETTLE", 90.0, float),
    "seed": env_num("CHAOS_SEED", 1),
}
BUILD = os.environ.get("WB_BUILD") or os.path.join(TOP, "build")
T0 = time.time()
OUT_LOCK = threading.Lock()
OUT_FILE = None


def say(msg):
    """A progress line on stdout (and in the run's output file)."""
    out("# chaos %6.1fs: %s" % (time.time() - T0, msg))


def out(line):
    with OUT_LOCK:
        print(line, flush=True)
        if OUT_FILE:
            OUT_FILE.write(line + "\n")
            OUT_FILE.flush()


def canon(v):
    """Compact JSON in the order given, as jq -c prints it."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- processes

def proc_table():
    """pid -> (ppid, starttime, comm) of every process now."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                st = f.read()
        except OSError:
            continue
        r = st.rindex(b")")
        comm = st[st.index(b"(") + 1:r].decode(errors="replace")
        fields = st[r + 2:].split()
        t[int(d)] = (int(fields[1]), int(fields[19]), comm)
    return t


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def environ_has(pid, needle):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return needle in f.read().split(b"\0")
    except OSError:
        return False


def alive(pid, start):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            st = f.read()
    except OSError:
        return False
    r = st.rindex(b")")
    f = st[r + 2:].split()
    return int(f[19]) == start and f[0] != b"Z"


class Monitor:
    """Every process of every pipeline instance, polled from /proc.

    An instance is one child of a service's s6-supervise (the run script,
    or whatever it became) with every descendant seen while it lived. When
    its root is gone the instance is dead, and each of its processes still
    alive is an orphan."""

    def __init__(self, svscan_pid, secrets):
        self.svscan = svscan_pid
        self.secrets = secrets
        self.lock = threading.Lock()
        self.instances = {}   # (service, pid, start) -> dict
        self.pids = {}        # (pid, start) -> instance key
        self.cmd_leaks = []   # (comm, which secret) seen in a command line
        self.stop = False
        self.orphans_late = {}  # (pid, start) -> (service, comm, seconds)

    def tick(self):
        now = time.time()
        t = proc_table()
        kids = {}
        for pid, (ppid, start, comm) in t.items():
            kids.setdefault(ppid, []).append(pid)
        sups = {}
        for pid in kids.get(self.svscan, []):
            if t[pid][2] != "s6-supervise":
                continue
            args = cmdline(pid).split(b"\0")
            name = args[1].decode(errors="replace") if len(args) > 1 else "?"
            if name.endswith("/log"):
                continue
            sups[pid] = name
        with self.lock:
            live_roots = set()
            for sp, name in sups.items():
                for root in kids.get(sp, []):
                    key = (name, root, t[root][1])
                    live_roots.add(key)
                    inst = self.instances.get(key)
                    if inst is None:
                        inst = {"service": name, "born": now, "died": None,
                                "procs": {}, "sup": (sp, t[sp][1])}
                        self.instances[key] = inst
                    todo = [root]
                    while todo:
                        p = todo.pop()
                        if p not in t:
                            continue
                        pk = (p, t[p][1])
                        if pk not in inst["procs"]:
                            inst["procs"][pk] = t[p][2]
                            self.pids[pk] = key
                            cl = cmdline(p)
                            for which, s in self.secrets.items():
                                if s.encode() in cl:
                                    self.cmd_leaks.append((t[p][2], which))
                        else:
                            # exec'd since: keep the newest name
                            inst["procs"][pk] = t[p][2]
                        todo.extend(kids.get(p, []))
            for key, inst in self.instances.items():
                if inst["died"] is None and key not in live_roots:
                    inst["died"] = now
                if inst["died"] is None:
                    continue
                for (p, start), comm in inst["procs"].items():
                    if p in t and t[p][1] == start:
                        late = now - inst["died"]
                        if late > 2.0:
                            self.orphans_late[(p, start)] = (inst["service"], comm, late)

    def run(self):
        while not self.stop:
            try:
                self.tick()
            except Exception as e:  # a process vanished mid-read
                say("monitor: %r" % e)
            time.sleep(0.1)

    def live_members(self, service):
        """(pid, start, comm) of the live instance(s) of 'service'."""
        with self.lock:
            res = []
            for key, inst in self.instances.items():
                if inst["service"] == service and inst["died"] is None:
                    for (p, start), comm in inst["procs"].items():
                        res.append((p, start, comm))
            return res

    def services(self):
        with self.lock:
            return sorted({i["service"] for i in self.instances.values()})

    def orphans(self):
        """Processes of dead instances still alive now, and processes of
        live ones no longer under the instance (reparented)."""
        res = []
        t = proc_table()
        with self.lock:
            for key, inst in self.instances.items():
                if inst["died"] is None:
                    mine = {p for (p, start) in inst["procs"] if p in t and t[p][1] == start}
                    for (p, start), comm in inst["procs"].items():
                        if p in mine and p != key[1] and t[p][0] not in mine:
                            res.append((inst["service"], p, start, comm + " (reparented)", 0.0))
                    continue
                for (p, start), comm in inst["procs"].items():
                    if alive(p, start):
                        res.append((inst["service"], p, start, comm,
                                    time.time() - inst["died"]))
        return res

    def all_pids(self):
        with self.lock:
            return list(self.pids)


# ---------------------------------------------------------------- doubles

def http(method, url, body=None, headers=None, timeout=30):
    data = None
    h = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_file(path, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.05)
    return False


class GitHub:
    def __init__(self, d, token):
        self.dir = d
        os.makedirs(d)
        self.log = os.path.join(d, "requests.log")
        port = os.path.join(d, "port")
        self.err = open(os.path.join(d, "stderr"), "w")
        self.proc = subprocess.Popen(
            [PY, os.path.join(TOP, "t/github-double.py"), "--port-file", port,
             "--log", self.log, "--issues", str(P["issues"]), "--events", "0",
             "--token", token, "--limit", "1000000", "--reset-in", "3600"],
            stdout=self.err, stderr=subprocess.STDOUT)
        if not wait_file(port, 20):
            raise SystemExit("chaos: the GitHub double did not start")
        self.url = "http://127.0.0.1:%d" % int(open(port).read())

    def cmd(self, name, body):
        st, data = http("POST", self.url + "/_double/" + name, body)
        if st != 200:
            raise RuntimeError("github double %s: %d %s" % (name, st, data[:200]))

    def dump(self, n):
        st, data = http("GET", self.url + "/_double/dump/%d" % n)
        if st != 200:
            raise RuntimeError("github double dump %d: %d" % (n, st))
        return json.loads(data)


class Elastic:
    def __init__(self, d, api_key, basic):
        os.makedirs(d)
        port = os.path.join(d, "port")
        self.err = open(os.path.join(d, "stderr"), "w")
        self.proc = subprocess.Popen(
            [PY, os.path.join(TOP, "t/es-double.py"), "--port-file", port,
             "--api-key", api_key, "--basic", basic, "--seed", str(P["seed"])],
            stdout=self.err, stderr=subprocess.STDOUT)
        if not wait_file(port, 20):
            raise SystemExit("chaos: the Elasticsearch double did not start")
        self.port = int(open(port).read())
        self.url = "http://127.0.0.1:%d" % self.port

    def faults(self, body):
        st, _ = http("POST", self.url + "/_double/faults", body)
        if st != 200:
            raise RuntimeError("es double faults: %d" % st)

    def stats(self):
        return json.loads(http("GET", self.url + "/_double/stats")[1])

    def dump(self):
        return json.loads(http("GET", self.url + "/_double/dump", timeout=120)[1])


class Redis:
    """A real redis-server, append-only (appendfsync always), by PID."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(d)
        self.sock = os.path.join(d, "redis.sock")
        self.conf = os.path.join(d, "redis.conf")
        with open(self.conf, "w") as f:
            f.write("port 0\nunixsocket %s\nunixsocketperm 700\ndir %s\n"
                    "save \"\"\nappendonly yes\nappendfsync always\n"
                    "daemonize no\nlogfile %s\n"
                    % (self.sock, d, os.path.join(d, "redis.log")))
        self.proc = None
        self.restarts = 0

    def start(self):
        self.proc = subprocess.Popen(["redis-server", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        end = time.time() + 30
        while time.time() < end:
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise SystemExit("chaos: redis-server did not start")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cli(self, *args):
        try:
            r = subprocess.run(["redis-cli", "-s", self.sock] + list(args),
                               capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        return r.stdout.strip() if r.returncode == 0 else None


# ---------------------------------------------------------------- the world

WEIRD = [
    "emoji \U0001F600\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 "
    "\U0001F3F3\ufe0f\u200d\U0001F308 flags \U0001F1EB\U0001F1F7 and \U0001D54F \U0010FFFF",
    "escapes that are text: \\n \\\" \\\\ \\u0000 \\ud800 \\x00 %00 %s %n",
    "quote \" backslash \\ tab \t newline \n cr \r formfeed \f backspace \b",
    "control: NUL \u0000 inside, bell \u0007, ESC \u001b[31m, DEL \u007f, "
    "C1 \u0085, LS \u2028 PS \u2029, BOM \ufeff",
    "{\"number\": 1, \"issue\": null, \"gone\": true} }]\"\\ not JSON: {\"a\":",
    "<script>alert(1)</script> ../../etc/passwd $(reboot) `id` ; rm -rf /",
    "zero\u200bwidth\u200djoiner rtl \u202egnirts\u202c \ufffd replacement",
    "CRLF\r\nline\r\n\r\nLF only\n\n\ntrailing spaces   ",
    "",
    None,
]


def event_count(rng):
    r = rng.random()
    if r < 0.30:
        return 0
    if r < 0.65:
        return rng.randint(1, 8)
    if r < 0.90:
        return rng.randint(9, 40)
    if r < 0.98:
        return rng.randint(41, 150)
    return rng.randint(151, 400)


class World:
    """What the double serves, generated from the seed; what must be gone."""

    def __init__(self, gh, rng):
        self.gh = gh
        self.rng = rng
        self.n = P["issues"]
        self.state = {n: "ok" for n in range(1, self.n + 1)}
        self.private = set()
        self.events = 0
        self.lock = threading.Lock()

    def build(self):
        rng, n = self.rng, self.n
        huge = set(rng.sample(range(1, n + 1), max(1, n // 400)))
        for i in range(1, n + 1):
            k = rng.randint(1000, 1300) if i in huge else event_count(rng)
            self.events += k
            if k:
                self.gh.cmd("events", {"number": i, "count": k})
            r = rng.random()
            if r < 0.03:
                self.gh.cmd("private", {
                    "number": i, "title": MOD_TITLES[i % 2],
                    "private_title": "example.org - real title %d \U0001F512 \"x\"" % i,
                    "private_body": rng.choice(WEIRD)})
                self.private.add(i)
                self.events += 1
            elif r < 0.13:
                self.gh.cmd("set", {"number": i, "fields": {"body": rng.choice(WEIRD)},
                                    "title": "weird %d %s" % (i, (rng.choice(WEIRD) or "")[:40])})
            elif r < 0.14:
                # a long body: 100 kB of text
                self.gh.cmd("set", {"number": i, "fields": {"body": ("long \u00e9\U0001F600 %d " % i) * 8000}})
        # Gone before the first download: deleted (410), missing (404),
        # and one transferred (301 to the other repository).
        ok = list(range(1, n + 1))
        rng.shuffle(ok)
        for i in ok[: max(2, n // 100)]:
            self.gh.cmd("state", {"number": i, "state": "deleted"})
            self.state[i] = "deleted"
        for i in ok[max(2, n // 100): max(2, n // 100) + max(1, n // 200)]:
            self.gh.cmd("state", {"number": i, "state": "missing"})
            self.state[i] = "missing"
        t = ok[max(2, n // 100) + max(1, n // 200)]
        self.gh.cmd("state", {"number": t, "state": "transferred", "to_number": 900000 + t})
        self.state[t] = "transferred"

    def numbers(self):
        """Every number queued at the start: the repository and 5 past it."""
        return list(range(1, self.n + 6))

    def expected(self):
        """number -> (issue.json, timeline.json) text for every issue that
        must be archived, as the double serves it now."""
        exp = {}
        for i in range(1, self.n + 1):
            if self.state[i] != "ok":
                continue
            d = self.gh.dump(i)
            exp[i] = (canon(substitute(d["issue"], d["timeline"])), canon(d["timeline"]))
        return exp


def substitute(issue, timeline):
    """SPEC.md's private substitution (wb_github_substitute)."""
    if issue.get("title") not in MOD_TITLES:
        return issue
    for ev in timeline:
        if ev.get("event") != "cross-referenced":
            continue
        src = (ev.get("source") or {}).get("issue") or {}
        if (src.get("repository") or {}).get("name") != PRIVATE_REPO:
            continue
        if not isinstance(src.get("title"), str):
            return issue
        body = src.get("body")
        issue = dict(issue)
        issue["title"] = src["title"]
        issue["body"] = body if isinstance(body, (str, type(None))) else None
        issue["__WEBCOMPAT_PRIVATE_ISSUE__"] = True
        return issue
    return issue


# ---------------------------------------------------------------- chaos

class Chaos:
    def __init__(self, root):
        self.root = root
        rnd = random.Random(P["seed"] * 7919)
        tag = "%08x" % rnd.getrandbits(32)
        self.secrets = {
            "github token": "ghp_chaosTOKEN%sQx7" % tag,
            "es api key": "chaosESAPIKEY%sZk2" % tag,
            "es password": "chaosESPASS%sWv9" % tag,
            "webhook secret": "chaosHOOKSECRET%sMn4" % tag,
        }
        self.kills = []        # (t, service, comm)
        self.kill_misses = 0
        self.gh_faults = {}
        self.ratelimits = 0
        self.last_fault = None
        self.hooks_sent = 0
        self.hooks_accepted = 0
        self.hooks_failed = []
        self.hook_retries = 0
        self.edits = 0
        self.race_edits = 0
        self.midrun_gone = []
        self.hook_threads = []

    # -- setup
    def setup(self):
        self.start_doubles()
        self.start_system()

    def start_doubles(self):
        """The doubles, Redis, the generated repository, the services'
        environment."""
        r = self.root
        self.github = GitHub(os.path.join(r, "github"), self.secrets["github token"])
        self.es = Elastic(os.path.join(r, "es"), self.secrets["es api key"],
                          "chaos:" + self.secrets["es password"])
        self.redis = Redis(os.path.join(r, "redis"))
        self.redis.start()
        say("doubles and Redis up; generating %d issues (seed %d)" % (P["issues"], P["seed"]))
        self.world = World(self.github, random.Random(P["seed"] + 1))
        self.world.build()
        say("world: %d issues, %d timeline events, %d private, %d gone at start"
            % (self.world.n, self.world.events, len(self.world.private),
               sum(1 for s in self.world.state.values() if s != "ok")))
        self.hook_port = free_port()
        self.data = os.path.join(r, "data")
        self.run_dir = os.path.join(r, "run")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("WB_") and k not in ("GITHUB_TOKEN",)}
        self.env.update({
            "WB_BUILD": BUILD,
            "WB_RUN": self.run_dir,
            "WB_DATA": self.data,
            "WB_REDIS": "unix://" + self.redis.sock,
            "WB_GITHUB_API": self.github.url,
            "WB_GITHUB_TOKEN": self.secrets["github token"],
            "WB_ES": "http://chaos:%s@127.0.0.1:%d" % (self.secrets["es password"], self.es.port),
            "WB_ES_API_KEY": self.secrets["es api key"],
            "WB_HOOK_LISTEN": "127.0.0.1:%d" % self.hook_port,
            "WB_HOOK_SECRET": self.secrets["webhook secret"],
            "WB_DELAY": "1",
            "WB_FETCH_BACKOFF": "0.1",
            "PATH": os.path.join(BUILD, "bin") + ":" + os.path.join(TOP, "scripts") + ":"
                    + os.environ.get("PATH", "/usr/bin:/bin"),
        })

    def start_system(self):
        """Queue every number into download, then scripts/run (s6) and the
        monitor; 't_start' is when scripts/run was started."""
        nums = "\n".join(str(i) for i in self.world.numbers()) + "\n"
        r = subprocess.run(["wb-enqueue", "download"], input=nums, env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("chaos: wb-enqueue download failed: " + r.stderr.strip())
        say("queued %d numbers into download" % len(self.world.numbers()))
        self.runlog = open(os.path.join(self.root, "scripts-run.out"), "w")
        self.t_start = time.time()
        self.run_proc = subprocess.Popen(["sh", os.path.join(TOP, "scripts/run")],
                                         env=self.env, stdout=self.runlog,
                                         stderr=subprocess.STDOUT)
        end = time.time() + 30
        self.svscan = None
        scan = os.path.join(self.run_dir, "service").encode()
        while time.time() < end and self.svscan is None:
            # scripts/run's s6-svscan (its child, or itself once exec'd).
            # A child it forked has its name and command line too until
            # it execs s6-supervise: the one whose parent is not such a
            # process (taking any of them watched a supervisor: no kill).
            t = proc_table()
            ours = {pid for pid, (_, _, comm) in t.items()
                    if comm == "s6-svscan" and scan in cmdline(pid)}
            for pid in ours:
                if t[pid][0] not in ours:
                    self.svscan = pid
            time.sleep(0.05)
        if self.svscan is None:
            raise SystemExit("chaos: scripts/run started no s6-svscan (see %s)" % self.runlog.name)
        self.monitor = Monitor(self.svscan, self.secrets)
        threading.Thread(target=self.monitor.run, daemon=True).start()
        services = sorted(d for d in os.listdir(os.path.join(self.run_dir, "service"))
                          if not d.startswith("."))
        end = time.time() + 30
        while not set(self.monitor.services()) >= set(services):
            if time.time() >= end:
                raise SystemExit("chaos: s6-svscan %d started no instance of %s within 30 s"
                                 % (self.svscan, " ".join(sorted(set(services) - set(self.monitor.services())))))
            time.sleep(0.1)
        self.services = services
        say("s6-svscan %d supervises %s" % (self.svscan, " ".join(services)))
        if not self.wait_hook(30):
            say("wb-hook does not answer /healthz after 30 s")

    def wait_hook(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            try:
                st, _ = http("GET", "http://127.0.0.1:%d/healthz" % self.hook_port, timeout=2)
                if st == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    # -- faults
    def fault(self):
        self.last_fault = time.time()

    def killer(self, end, targets=None, done=None):
        """Kills until 'end', and on (at most twice as long again) until
        CHAOS_MIN_KILLS is reached: a loaded machine must not make the
        run miss its count. With 'done' (an Event), kills until it is set
        instead. 'targets' limits the kills to those services."""
        rng = random.Random(P["seed"] + 2)
        order = []
        services = [s for s in self.services if targets is None or s in targets]
        last = end + 2 * P["duration"]

        def more():
            if done is not None:
                return not done.is_set()
            return time.time() < end or (len(self.kills) < P["min_kills"] and time.time() < last)
        while more():
            pause = rng.uniform(P["kill_min"], P["kill_max"])
            if done is not None:
                done.wait(pause)
            else:
                stop = end if len(self.kills) >= P["min_kills"] else last
                time.sleep(max(0.0, min(pause, stop - time.time())))
            if not more():
                break
            for _ in range(20):
                cands = {}
                for s in services:
                    m = [x for x in self.monitor.live_members(s) if x[2].startswith("wb-")
                         and alive(x[0], x[1])]
                    if m:
                        cands[s] = m
                if cands:
                    break
                time.sleep(0.1)
            if not cands:
                self.kill_misses += 1
                continue
            if not any(x in cands for x in order):
                order = sorted(services)
                rng.shuffle(order)
            s = next(x for x in order if x in cands)
            order.remove(s)
            pid, start, comm = rng.choice(sorted(cands[s]))
            try:
                if alive(pid, start):
                    os.kill(pid, signal.SIGKILL)
                    self.kills.append((time.time(), s, comm))
                    self.fault()
            except ProcessLookupError:
                self.kill_misses += 1

    def redis_chaos(self, t_start, end):
        n = P["redis_restarts"]
        for k in range(n):
            at = t_start + (end - t_start) * (k + 1) / (n + 1)
            while time.time() < at:
                time.sleep(0.1)
            say("redis: kill -9")
            self.redis.kill9()
            self.fault()
            time.sleep(1.5)
            self.redis.start()
            self.redis.restarts += 1
            self.fault()
            say("redis: started again from its append-only file")

    def github_chaos(self, end):
        rng = random.Random(P["seed"] + 3)
        rate_at = time.time() + (end - time.time()) * 0.4
        # Every kind in turn, 5xx twice as often.
        pool = ["status", "drop", "status", "truncate", "cut"]
        turn = 0
        seen = {}
        armed_at = 0
        while time.time() < end:
            time.sleep(rng.uniform(0.3, 1.0))
            # At most one fault per 15 requests: armed faults pile up
            # while the downloader restarts, and six in a row would fail
            # one issue for good (until its lease expires).
            total = self.count_requests(seen)
            if total - armed_at < 15:
                continue
            armed_at = total
            if self.ratelimits == 0 and time.time() >= rate_at:
                self.github.cmd("fault", {"match": "/issues/", "kind": "ratelimit",
                                          "seconds": 3, "times": 1})
                self.ratelimits += 1
                self.fault()
                say("github: rate limit spent, reset in 3 s")
                continue
            kind = pool[turn % len(pool)]
            turn += 1
            f = {"kind": kind, "times": rng.randint(1, 2), "after": rng.randint(0, 5),
                 "match": rng.choice([r"/issues/\d+$", r"/issues/\d+/timeline", r"/issues/\d+"])}
            if kind == "status":
                f["status"] = rng.choice([500, 502, 503, 504])
            if kind == "truncate":
                f["match"] = r"/issues/\d+/timeline"
            self.github.cmd("fault", f)
            self.gh_faults[kind] = self.gh_faults.get(kind, 0) + 1
            self.fault()
        self.github.cmd("faults", {})

    def new_log_lines(self, state):
        """The complete lines the GitHub double logged since last time."""
        try:
            with open(self.github.log, "rb") as f:
                f.seek(state.get("off", 0))
                data = f.read()
        except OSError:
            return []
        cut = data.rfind(b"\n") + 1
        state["off"] = state.get("off", 0) + cut
        return data[:cut].splitlines()

    def count_requests(self, state):
        """How many requests the GitHub double logged so far."""
        state["n"] = state.get("n", 0) + len(self.new_log_lines(state))
        return state["n"]

    # -- webhooks
    def recent_numbers(self, state):
        """Issue numbers the GitHub double was asked for since last time."""
        nums = []
        for line in self.new_log_lines(state):
            m = re.search(rb'"path": "/repos/[^/]+/[^/]+/issues/(\d+)', line)
            if m:
                nums.append(int(m.group(1)))
        return nums[-20:]

    def webhooks(self, end):
        rng = random.Random(P["seed"] + 4)
        st = {}
        recent = []
        deletes = transfers = 0
        while time.time() < end:
            time.sleep(rng.uniform(0.15, 0.5))
            fresh = self.recent_numbers(st)
            recent = (recent + fresh)[-20:]
            w = self.world
            cands = [n for n in recent if 1 <= n <= w.n and w.state[n] == "ok"]
            in_flight = bool(cands) and rng.random() < 0.85
            n = rng.choice(cands) if in_flight else rng.randint(1, w.n)
            if w.state[n] != "ok":
                continue
            r = rng.random()
            action = "edited"
            event = "issues"
            if r < 0.45:
                self.github.cmd("events", {"number": n, "append": rng.randint(1, 3)})
                event, action = "issue_comment", "created"
            elif r < 0.70:
                self.github.cmd("set", {"number": n, "title": "edited %d %s" % (n, (rng.choice(WEIRD) or "")[:30]),
                                        "fields": {"body": rng.choice(WEIRD)}})
            elif r < 0.78 and n in w.private:
                self.github.cmd("private", {"number": n, "edit": True,
                                            "private_title": "private edit %d \u2603" % n,
                                            "private_body": rng.choice(WEIRD)})
                # the public issue is not touched: only its timeline changed
                self.github.cmd("events", {"number": n, "append": 1})
            elif r < 0.80 and deletes < 3 and in_flight:
                self.github.cmd("state", {"number": n, "state": "deleted"})
                w.state[n] = "deleted"
                deletes += 1
                action = "deleted"
                self.midrun_gone.append((n, "deleted"))
            elif r < 0.81 and transfers < 1 and in_flight:
                self.github.cmd("state", {"number": n, "state": "transferred",
                                          "to_number": 950000 + n})
                w.state[n] = "transferred"
                transfers += 1
                action = "transferred"
                self.midrun_gone.append((n, "transferred"))
            elif r < 0.90:
                action = "labeled"
                self.github.cmd("set", {"number": n, "fields": {"labels": [{"name": "chaos-%d" % rng.randint(1, 9)}]}})
            else:
                action = "edited"   # a delivery without a change
                self.hooks_sent += 1
                self.send_hook(event, action, n)
                continue
            self.edits += 1
            if in_flight and n in fresh:
                self.race_edits += 1
            self.hooks_sent += 1
            self.send_hook(event, action, n)

    def send_hook(self, event, action, n):
        t = threading.Thread(target=self.deliver, args=(event, action, n), daemon=True)
        t.start()
        self.hook_threads.append(t)

    def deliver(self, event, action, n):
        body = json.dumps({
            "action": action,
            "issue": {"url": "https://api.github.com/repos/%s/issues/%d" % (REPO, n),
                      "number": n, "title": "whatever the payload says",
                      "state": "open", "body": "payload text \U0001F600"},
            "repository": {"id": 17839063, "name": REPO.split("/")[1], "full_name": REPO,
                           "private": False, "owner": {"login": REPO.split("/")[0]}},
            "sender": {"login": "octocat", "id": 583231}}).encode()
        sig = "sha256=" + hmac.new(self.secrets["webhook secret"].encode(), body,
                                   hashlib.sha256).hexdigest()
        delivery = "%08x-chaos-%d-%d" % (n, int(time.time() * 1000), threading.get_ident() % 100000)
        end = time.time() + 120
        tries = 0
        last = None
        while time.time() < end:
            tries += 1
            try:
                st, _ = http("POST", "http://127.0.0.1:%d/github/receive" % self.hook_port, body,
                             {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                              "X-Hub-Signature-256": sig, "User-Agent": "GitHub-Hookshot/chaos",
                              "Content-Type": "application/json"}, timeout=10)
                last = st
                if st == 202:
                    with OUT_LOCK:
                        self.hooks_accepted += 1
                        self.hook_retries += tries - 1
                    return
            except OSError as e:
                last = type(e).__name__
            # As an operator redelivers a failed delivery.
            time.sleep(0.3)
        with OUT_LOCK:
            self.hooks_failed.append((n, action, last))

    def go(self):
        t_start = time.time()
        end = t_start + P["duration"]
        say("faults for %.0f s: kill -9 every %.1f..%.1f s, %d Redis restarts, "
            "GitHub and Elasticsearch faults, webhooks" %
            (P["duration"], P["kill_min"], P["kill_max"], P["redis_restarts"]))
        self.es.faults({"item_429_share": 0.05, "http_503_share": 0.08})
        ths = [threading.Thread(target=f, args=a, daemon=True) for f, a in (
            (self.killer, (end,)), (self.redis_chaos, (t_start, end)),
            (self.github_chaos, (end,)), (self.webhooks, (end,)))]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        self.es.faults({})
        self.fault()
        say("faults over: %d kills; waiting for the webhooks in flight" % len(self.kills))
        for t in self.hook_threads:
            t.join(130)

    # -- the final state
    def queues(self):
        res = {}
        for q in ("download", "index"):
            r = subprocess.run(["wb-queue", "length", q], env=self.env,
                               capture_output=True, text=True)
            res[q] = r.stdout.strip() if r.returncode == 0 else "error: " + r.stderr.strip()
        return res

    def dead_letters(self):
        """Parked items per queue, once wb-queue knows dead letters."""
        res = {}
        for q in ("download", "index"):
            r = subprocess.run(["wb-queue", "dead", q], env=self.env,
                               capture_output=True, text=True)
            if r.returncode == 0:
                res[q] = [l for l in r.stdout.splitlines() if l.strip()]
        return res

    def queue_items(self, q):
        r = subprocess.run(["wb-queue", "list", q], env=self.env, capture_output=True, text=True)
        return r.stdout.strip().splitlines()

    def archive_diff(self, exp, cache):
        cur = os.path.join(self.data, "current")
        try:
            have = {int(d) for d in os.listdir(cur) if d.isdigit()}
            others = [d for d in os.listdir(cur) if not d.isdigit()]
        except FileNotFoundError:
            have, others = set(), []
        missing = sorted(set(exp) - have)
        extra = sorted(have - set(exp))
        differ = []
        for n in sorted(set(exp) & have):
            for i, name in enumerate(("issue.json", "timeline.json")):
                p = os.path.join(cur, str(n), name)
                try:
                    s = os.stat(p)
                except OSError:
                    differ.append((n, name, "absent"))
                    continue
                key = (s.st_ino, s.st_size, s.st_mtime_ns)
                got = cache.get(p)
                if got is None or got[0] != key:
                    try:
                        with open(p, "rb") as f:
                            got = (key, canon(json.loads(f.read().decode("utf-8"))))
                    except (ValueError, OSError) as e:
                        got = (key, "unreadable: %s" % e)
                    cache[p] = got
                if got[1] != exp[n][i]:
                    differ.append((n, name, first_difference(got[1], exp[n][i])))
        return missing, extra, differ, others

    def archived(self):
        """number -> (issue, timeline) parsed from the archive as it is."""
        cur = os.path.join(self.data, "current")
        res = {}
        for d in sorted(os.listdir(cur)) if os.path.isdir(cur) else []:
            if not d.isdigit():
                continue
            try:
                with open(os.path.join(cur, d, "issue.json"), "rb") as f:
                    issue = json.loads(f.read())
                with open(os.path.join(cur, d, "timeline.json"), "rb") as f:
                    timeline = json.loads(f.read())
            except (OSError, ValueError):
                continue
            res[int(d)] = (issue, timeline)
        return res

    def index_diff(self):
        """The ES double's documents against the archive's."""
        dump = self.es.dump()
        want = {"issues": {}, "timelines": {}}
        for n, (issue, timeline) in self.archived().items():
            issue = dict(issue)
            issue["bug_number"] = n
            want["issues"][str(n)] = issue
            for i, ev in enumerate(timeline):
                ev = dict(ev)
                ev["bug_number"] = n
                want["timelines"]["%d-%d" % (n, i)] = ev
        res = {}
        for idx in ("issues", "timelines"):
            got = dump.get(idx, {})
            w = want[idx]
            missing = sorted(set(w) - set(got))
            extra = sorted(set(got) - set(w))
            differ = sorted(k for k in set(w) & set(got) if got[k] != w[k])
            res[idx] = (len(got), len(w), missing, extra, differ)
        return res

    def exact(self, exp, cache):
        """Whether the state is the exact final one: both queues empty,
        the archive equal to 'exp', no temporary file, no orphan, the
        index equal to the archive."""
        if self.queues() != {"download": "0", "index": "0"}:
            return False
        m, e, d, o = self.archive_diff(exp, cache)
        if m or e or d or o or self.temp_files() or self.monitor.orphans():
            return False
        return all(not (v[2] or v[3] or v[4]) for v in self.index_diff().values())

    def temp_files(self):
        found = []
        for d, dirs, files in os.walk(self.data):
            for f in files + dirs:
                if f.startswith(".") or f.endswith((".tmp", ".new", "~")) or ".tmp." in f:
                    found.append(os.path.relpath(os.path.join(d, f), self.data))
        return found

    def watch_queues(self, done):
        """Until 'done' is set, polls both queues 4 times a second:
        'empty_since' is when they were last seen becoming both empty (None
        while one is not), with a progress line every 5 s."""
        self.empty_since = None
        said = 0
        while not done.is_set():
            q = self.queues()
            now = time.time()
            if q == {"download": "0", "index": "0"}:
                if self.empty_since is None:
                    self.empty_since = now
            else:
                self.empty_since = None
            if now - said >= 5:
                say("settling: download %s, index %s" % (q["download"], q["index"]))
                said = now
            done.wait(0.25)

    def settle(self):
        """Waits for the exact state. Checking it takes seconds (the
        double's final data first, then the archive and the index), so the
        time it was reached is when both queues became empty for the last
        time, as polled meanwhile: once they are, nothing changes any
        more, and the check then passing says the state was exact."""
        t_last = self.last_fault
        done = threading.Event()
        watch = threading.Thread(target=self.watch_queues, args=(done,), daemon=True)
        watch.start()
        say("faults over; computing the double's final data")
        exp = self.world.expected()
        deadline = t_last + P["settle"]
        cache = {}
        reached = None
        while time.time() < deadline:
            if self.exact(exp, cache):
                since = self.empty_since
                reached = (since if since is not None else time.time()) - t_last
                break
            time.sleep(1.0)
        done.set()
        watch.join()
        say("checks done %.1f s after the last fault" % (time.time() - t_last))
        self.exp = exp
        self.reached = reached
        # The final state, before s6 is stopped.
        q = self.queues()
        self.final = {
            "queues": q,
            "items": {n: self.queue_items(n) for n in q if q[n] != "0"},
            "archive": self.archive_diff(exp, {}),
            "index": self.index_diff(),
            "temp": self.temp_files(),
            "orphans": self.monitor.orphans(),
            "dead": self.dead_letters(),
        }
        say("exact state %s" % ("after %.1f s" % reached if reached is not None
                                else "not reached within %.0f s of the last fault" % P["settle"]))

    def shutdown(self):
        """s6-svscanctl -t, then nothing of the system may be left."""
        self.monitor.stop = True
        time.sleep(0.2)
        self.monitor.tick()
        self.run_rc, self.left_after_stop = self.stop_s6(15)

    def stop_s6(self, seconds):
        """s6-svscanctl -t; then scripts/run's status (None if it did not
        end within 'seconds') and what was left 5 s later, which is then
        killed (by PID: all of it was started under our s6-svscan)."""
        scan = os.path.join(self.run_dir, "service")
        subprocess.run(["s6-svscanctl", "-t", scan], capture_output=True)
        try:
            self.run_proc.wait(seconds)
            run_rc = self.run_proc.returncode
        except subprocess.TimeoutExpired:
            run_rc = None
        end = time.time() + (5 if run_rc is not None else 0)
        left = self.leftovers()
        while left and time.time() < end:
            time.sleep(0.1)
            left = self.leftovers()
        for pid, start, comm in left:
            try:
                if alive(pid, start):
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if run_rc is None:
            for p in (self.svscan, self.run_proc.pid):
                try:
                    if p is not None:
                        os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.run_proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        return run_rc, left

    def leftovers(self):
        res = []
        tracked = set(self.monitor.all_pids())
        needle = ("WB_DATA=" + self.data).encode()
        for pid, (ppid, start, comm) in proc_table().items():
            if (pid, start) in tracked or environ_has(pid, needle) or \
                    self.run_dir.encode() in cmdline(pid):
                if alive(pid, start) and pid != os.getpid():
                    res.append((pid, start, comm))
        return res

    def secrets_found(self):
        """Every file under the run's directory but the envdir (where the
        secrets are configured) and the doubles' configuration."""
        needles = {}
        for which, s in self.secrets.items():
            needles[which] = [s.encode()]
        needles["es password"].append(base64.b64encode(("chaos:" + self.secrets["es password"]).encode()))
        skip = os.path.join(self.run_dir, "env")
        found, nfiles = [], 0
        for d, dirs, files in os.walk(self.root):
            if d == skip or d.startswith(skip + os.sep):
                continue
            for f in files:
                p = os.path.join(d, f)
                if not os.path.isfile(p) or os.path.islink(p):
                    continue
                nfiles += 1
                try:
                    with open(p, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                for which, ns in needles.items():
                    if any(x in data for x in ns):
                        found.append((os.path.relpath(p, self.root), which))
        for comm, which in self.monitor.cmd_leaks:
            found.append(("command line of " + comm, which))
        return found, nfiles

    def cleanup(self):
        for p in (getattr(self, "github", None), getattr(self, "es", None)):
            if p is not None and p.proc.poll() is None:
                p.proc.terminate()
                try:
                    p.proc.wait(10)
                except subprocess.TimeoutExpired:
                    p.proc.kill()
        if getattr(self, "redis", None):
            self.redis.stop()


def first_difference(got, want):
    i = 0
    while i < min(len(got), len(want)) and got[i] == want[i]:
        i += 1
    return "at byte %d: got %r, expected %r (sizes %d, %d)" % (
        i, got[max(0, i - 20): i + 40], want[max(0, i - 20): i + 40], len(got), len(want))


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def report(c):
    results = []

    def check(okay, name, details=()):
        results.append(okay)
        out("%s %d - %s" % ("ok" if okay else "not ok", len(results), name))
        for d in list(details)[:12]:
            out("#   " + d)
        if len(details) > 12:
            out("#   ... and %d more" % (len(details) - 12))

    by = {}
    for _, s, comm in c.kills:
        by.setdefault(s, {}).setdefault(comm, 0)
        by[s][comm] += 1
    out("# kills: %d in all (%d times no stage to kill); %s" % (len(c.kills), c.kill_misses, "; ".join(
        "%s %d (%s)" % (s, sum(v.values()), ", ".join("%s %d" % kv for kv in sorted(v.items())))
        for s, v in sorted(by.items()))))
    es = c.es.stats()
    out("# faults: Redis killed and restarted %d times; GitHub %s, rate limit spent %d; "
        "Elasticsearch %d bulk items 429, %d requests 503"
        % (c.redis.restarts, ", ".join("%s %d" % kv for kv in sorted(c.gh_faults.items())),
           c.ratelimits, es.get("item_429_shared", 0), es.get("http_503_shared", 0)))
    out("# webhooks: %d sent, %d accepted (%d retries after refusals or resets); "
        "%d changes on the double, %d of them to an issue being downloaded; gone mid-run: %s"
        % (c.hooks_sent, c.hooks_accepted, c.hook_retries, c.edits, c.race_edits,
           ", ".join("%d %s" % g for g in c.midrun_gone) or "none"))
    check(len(c.kills) >= P["min_kills"], "at least %d kills of pipeline stages (%d)" % (P["min_kills"], len(c.kills)))
    killed_services = sorted(by)
    want_services = [s for s in c.services if s in ("wb-hook", "wb-indexer", "wb-downloader")]
    check(all(s in by for s in want_services) or P["min_kills"] < 3,
          "kills hit %s" % ", ".join(want_services), ["killed: " + " ".join(killed_services)])
    check(c.redis.restarts == P["redis_restarts"],
          "Redis killed and started again %d times" % c.redis.restarts)
    check(not c.hooks_failed, "every webhook accepted (202) within 120 s",
          ["issue %d (%s): last answer %s" % f for f in c.hooks_failed])

    f = c.final
    q = f["queues"]
    det = []
    for name in ("download", "index"):
        if q[name] != "0":
            items = f["items"][name]
            states = {}
            for line in items:
                x = line.split("\t")
                if len(x) == 3:
                    states[x[1]] = states.get(x[1], 0) + 1
            det.append("%s: %s items (%s): %s" % (
                name, q[name], ", ".join("%s %d" % kv for kv in sorted(states.items())),
                " | ".join(items[:6])))
    check(q == {"download": "0", "index": "0"},
          "both queues empty (download %s, index %s)" % (q["download"], q["index"]), det)
    dead = f["dead"]
    if dead:
        check(not any(dead.values()), "no dead letter (%s)" % ", ".join(
            "%s %d" % (k, len(v)) for k, v in sorted(dead.items())),
            ["%s: %s" % (k, " | ".join(v[:10])) for k, v in sorted(dead.items()) if v])
    else:
        out("# dead letters: wb-queue dead is not available here")

    missing, extra, differ, others = f["archive"]
    # Where each number still is in the download queue ("claimed until").
    where = {}
    for line in f["items"].get("download", []):
        x = line.split("\t")
        if len(x) == 3 and x[0].isdigit():
            where[int(x[0])] = "%s %s" % (x[1], x[2])

    def queued(ns):
        ins = [n for n in ns if n in where]
        return (" (%d of them still in download, e.g. %d %s)" % (len(ins), ins[0], where[ins[0]])
                if ins else " (none of them in download any more)")
    dn = sorted({d[0] for d in differ})
    check(not (missing or extra or differ or others),
          "archive equals the double's data: %d issues expected, %d missing, %d extra, %d files differ"
          % (len(c.exp), len(missing), len(extra), len(differ)),
          (["missing: " + " ".join(map(str, missing[:30])) + queued(missing)] if missing else []) +
          (["extra: " + " ".join(map(str, extra[:30])) + queued(extra)] if extra else []) +
          (["not issue numbers in current/: " + " ".join(others[:10])] if others else []) +
          (["differ: " + " ".join(map(str, dn[:30])) + queued(dn)] if dn else []) +
          ["%d/%s %s" % d for d in differ])

    ix = f["index"]
    det = []
    for idx, (got, want, m, e, d) in sorted(ix.items()):
        if m or e or d:
            det.append("%s: %d documents, %d expected; missing %s; extra %s; different %s" % (
                idx, got, want, " ".join(m[:8]), " ".join(e[:8]), " ".join(d[:8])))
    check(not det, "index holds exactly the archive's documents (issues %d, timelines %d)"
          % (ix["issues"][0], ix["timelines"][0]), det)

    tmp = f["temp"]
    check(not tmp, "no temporary file left in the archive (%d)" % len(tmp), tmp)

    orph = f["orphans"]
    ninst = len(c.monitor.instances)
    npids = len(c.monitor.pids)
    check(not orph, "no process of a dead pipeline instance remains (%d instances, %d processes tracked)"
          % (ninst, npids),
          ["%s: pid %d %s, %.1f s after its pipeline died" % (s, p, comm, age)
           for s, p, _, comm, age in orph])
    late = sorted(c.monitor.orphans_late.values(), key=lambda x: -x[2])
    check(not late, "no process outlived its pipeline instance by more than 2 s (%d did)" % len(late),
          ["%s: %s outlived its pipeline by %.1f s" % x for x in late])

    check(c.reached is not None,
          "exact final state reached %s" % ("%.1f s after the last fault" % c.reached
                                            if c.reached is not None else
                                            "never within %.0f s of the last fault" % P["settle"]))
    left = c.left_after_stop
    check(not left and c.run_rc is not None,
          "after s6-svscanctl -t, nothing of the system is left within 5 s (scripts/run status %s)"
          % c.run_rc, ["pid %d %s" % (p, comm) for p, _, comm in left])
    san = []
    for d, _, files in os.walk(os.path.join(c.run_dir, "log")):
        for fn in files:
            try:
                with open(os.path.join(d, fn), "rb") as fh:
                    for line in fh:
                        if b"Sanitizer" in line or b"runtime error:" in line:
                            san.append("%s: %s" % (os.path.basename(d),
                                                   line.decode(errors="replace").strip()[:200]))
            except OSError:
                pass
    check(not san, "no sanitizer report in the services' logs (%d lines)" % len(san), san)
    found, nfiles = c.secrets_found()
    check(not found, "no secret in any log, output file or command line (%d files searched)" % nfiles,
          ["%s in %s" % (w, p) for p, w in found])
    npass = sum(1 for r in results if r)
    out("1..%d" % len(results))
    out("# chaos: %d issues, %d kills, exact state %s; %d passed, %d failed"
        % (P["issues"], len(c.kills),
           "%.1f s after the last fault" % c.reached if c.reached is not None else "not reached",
           npass, len(results) - npass))
    print("%d passed, %d failed" % (npass, len(results) - npass))
    return npass == len(results)


def backfill(c, every):
    """The backfill figure of make bench (scripts/bench.d/80-backfill-kills.sh):
    the generated repository queued and mirrored through the doubles
    under s6, with no other fault than, when 'every' > 0, kill -9 of a
    random process of the downloader or the indexer every 'every'
    seconds. Prints "backfill SECONDS KILLS": the time from the start of
    scripts/run to both queues empty; then checks the state is exact."""
    c.start_doubles()
    c.start_system()
    done = threading.Event()
    killer = None
    if every > 0:
        P["kill_min"] = P["kill_max"] = every
        killer = threading.Thread(target=c.killer, args=(0,), daemon=True, kwargs={
            "targets": ("wb-downloader", "wb-indexer"), "done": done})
        killer.start()
    took = None
    while time.time() < c.t_start + P["settle"]:
        if c.queues() == {"download": "0", "index": "0"}:
            took = time.time() - c.t_start
            break
        time.sleep(0.2)
    done.set()
    if killer:
        killer.join()
    if took is None:
        say("backfill: queues not empty %.0f s after the start" % P["settle"])
        return False
    exact = c.exact(c.world.expected(), {})
    if not exact:
        say("backfill: queues empty after %.1f s, but the state is not exact" % took)
    c.shutdown()
    out("backfill %.3f %d" % (took, len(c.kills)))
    return exact


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main():
    global OUT_FILE
    # Stopped by a signal, it still stops what it started (the finally).
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    for tool in ("s6-svscan", "s6-svscanctl", "execlineb", "redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            print("chaos: %s is not installed" % tool, file=sys.stderr)
            return 2
    if not os.path.exists(os.path.join(BUILD, "bin", "wb-fetch")):
        print("chaos: no tools in %s/bin (make first)" % BUILD, file=sys.stderr)
        return 2
    every = None
    if sys.argv[1:2] == ["--backfill"] and len(sys.argv) == 3:
        try:
            every = float(sys.argv[2])
        except ValueError:
            every = None
    if every is None and len(sys.argv) > 1:
        print("chaos: usage: chaos-run.py [--backfill SECONDS]", file=sys.stderr)
        return 100
    root = os.environ.get("CHAOS_DIR") or tempfile.mkdtemp(prefix="wb-chaos.")
    os.makedirs(root, exist_ok=True)
    OUT_FILE = open(os.path.join(root, "chaos.out"), "w")
    say("in %s; %s" % (root, " ".join("%s=%s" % kv for kv in sorted(P.items()))))
    c = Chaos(root)
    okay = False
    try:
        if every is not None:
            okay = backfill(c, every)
        else:
            c.setup()
            c.go()
            c.settle()
            c.shutdown()
            OUT_FILE.flush()
            okay = report(c)
    except KeyboardInterrupt:
        print("chaos: interrupted", file=sys.stderr)
    finally:
        if getattr(c, "run_proc", None) is not None and c.run_proc.poll() is None:
            try:
                c.stop_s6(10)
            except Exception as e:
                print("chaos: stopping s6: %r" % e, file=sys.stderr)
        c.cleanup()
        OUT_FILE.close()
        if os.environ.get("CHAOS_KEEP") == "1" or not okay:
            if os.environ.get("CHAOS_KEEP") != "0":
                print("# chaos: logs and data kept in %s" % root)
        if os.environ.get("CHAOS_KEEP") != "1" and (okay or os.environ.get("CHAOS_KEEP") == "0"):
            shutil.rmtree(root, ignore_errors=True)
    return 0 if okay else 1


if __name__ == "__main__":
    sys.exit(main())
