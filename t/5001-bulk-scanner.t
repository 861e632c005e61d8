#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-bulk --dry-run against Python's strict JSON parser as the truth: a few
# thousand generated archive files, half of them mutated (truncated, bytes
# flipped, inserted or deleted), in every whitespace and escape style. A
# valid file must give exactly its documents plus "bug_number", one line
# each; an invalid one must be reported with its path and give nothing.
# "Valid" is Python's reading plus the two rules of lib/wb_jscan.h: no
# lone UTF-16 surrogate escape, and jq 1.6's nesting limit.
. "${0%/*}/lib.sh"
plan 23

cat >"$SCRATCH/fuzz.py" <<'PY'
import json, os, random, re, sys
from decimal import Decimal

class Obj:
    def __init__(self, pairs): self.pairs = list(pairs)
    def __eq__(self, o): return isinstance(o, Obj) and self.pairs == o.pairs
    def __repr__(self): return "Obj(%r)" % self.pairs

def bad_constant(name): raise ValueError("constant " + name)

def no_surrogates(v):
    # json turns a "\\ud83d\\ude00" pair into one character; a lone
    # surrogate escape stays a surrogate, which wb_jscan refuses.
    if isinstance(v, str):
        if re.search("[\ud800-\udfff]", v): raise ValueError("lone surrogate")
    elif isinstance(v, Obj):
        for k, x in v.pairs: no_surrogates(k); no_surrogates(x)
    elif isinstance(v, list):
        for x in v: no_surrogates(x)

def parse(data, hook=Obj):
    text = data.decode("utf-8")          # strict: invalid UTF-8 raises
    v = json.loads(text, object_pairs_hook=hook, parse_float=Decimal,
                   parse_int=int, parse_constant=bad_constant)
    no_surrogates(v)
    return v

WS = ["", "", "", " ", "\n", "\t", "\r\n", "  \n "]
def ws(r): return r.choice(WS) if r.random() < 0.3 else ""

STR_PIECES = ["a", "plain text ", "é", "漢字", "😀", "\\n", "\\\"", "\\\\",
              "\\/", "\\u00e9", "\\ud83d\\ude00", "\\u0000", "\\t", "\\b\\f\\r",
              "https://example.com/a?b=c", "}", "{", "]", "[", ",", ":", "'",
              "bug_number", "x" * 40, "\\u005f", "\\uDBFF\\uDFFF"]
LONE = ["\\ud83d", "\\udE00", "\\udbff\\u0041", "\\udc00\\ud800"]  # refused
def gen_string(r):
    lone = r.choice(LONE) if r.random() < 0.01 else ""
    return '"' + "".join(r.choice(STR_PIECES) for _ in range(r.randint(0, 6))) + lone + '"'

NUMS = ["0", "-0", "1", "-1", "42", "123456789012", "1.5", "-0.25", "1e5",
        "1E+5", "2e-3", "-1.0E-10", "0.000001", "9007199254740993", "3.141592653589793"]
def gen_value(r, depth):
    k = r.random()
    if depth < 6 and k < 0.15: return gen_object(r, depth + 1)
    if depth < 6 and k < 0.25: return gen_array(r, depth + 1)
    if k < 0.6: return gen_string(r)
    if k < 0.85: return r.choice(NUMS)
    return r.choice(["true", "false", "null"])

KEYS = ["id", "event", "actor", "created_at", "body", "label", "a\\u0062",
        "bug_number", "bug\\u005fnumber", "", "é", "k" * 20]
def gen_object(r, depth, top=False):
    n = r.randint(0, 5)
    keys = KEYS if not top or r.random() < 0.1 else KEYS[:6]
    members = [ws(r) + '"' + r.choice(keys) + (r.choice(LONE) if r.random() < 0.002 else "") + '"' + ws(r) + ":" + ws(r) +
               gen_value(r, depth) + ws(r) for _ in range(n)]
    return "{" + ",".join(members) + (ws(r) if not members else "") + "}"
def gen_array(r, depth):
    items = [ws(r) + gen_value(r, depth) + ws(r) for _ in range(r.randint(0, 4))]
    return "[" + ",".join(items) + "]"

FLIPS = [b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"\n", b"\x00", b"\x1f",
         b"\x7f", b"\x80", b"\xc0", b"\xe0", b"\xed\xa0\x80", b"\xf4\x90", b"\xf5",
         b"\xff", b"0", b"-", b".", b"e", b"t", b"n", b" ", b"u", b"01", b"NaN", b"1.",
         b"\xc3", b"\xe6\xbc"]
def mutate(r, data):
    if not data: return b"x"
    i = r.randrange(len(data) + 1)
    m = r.randrange(4)
    if m == 0: return data[:r.randrange(len(data))]
    if m == 1: return data[:i] + r.choice(FLIPS) + data[i + 1:]
    if m == 2: return data[:i] + r.choice(FLIPS) + data[i:]
    return data[:i] + data[i + 1:]

def generate(root, n, seed):
    r = random.Random(seed)
    for k in range(1, n + 1):
        d = os.path.join(root, "current", str(k))
        os.makedirs(d)
        issue = (ws(r) + gen_object(r, 1, True) + ws(r)).encode()
        tl = (ws(r) + "[" + ",".join(ws(r) + gen_object(r, 1, True) + ws(r)
              for _ in range(r.randint(0, 6))) + ws(r) + "]" + ws(r)).encode()
        if r.random() < 0.15: issue = mutate(r, issue)
        if r.random() < 0.45: tl = mutate(r, tl)
        if r.random() < 0.02: tl = b"[" + tl + b"]"          # wrong shape
        if r.random() < 0.02: issue = b"[]"
        open(os.path.join(d, "issue.json"), "wb").write(issue)
        open(os.path.join(d, "timeline.json"), "wb").write(tl)

def truth(path, want):
    try:
        v = parse(open(path, "rb").read())
    except (ValueError, UnicodeDecodeError):
        return None
    if want is Obj:
        return v if isinstance(v, Obj) else None
    return v if isinstance(v, list) and all(isinstance(e, Obj) for e in v) else None

def same_doc(want, got, k):
    # Our own "bug_number" replaces any the object had, at the end.
    return got == Obj([p for p in want.pairs if p[0] != "bug_number"] +
                      [("bug_number", k)])

def check(root, n, out, err):
    problems = []
    docs = {}
    lines = open(out, "rb").read().split(b"\n")
    if lines[-1] != b"": problems.append("output does not end with a newline")
    lines = lines[:-1]
    if len(lines) % 2: problems.append("odd number of lines")
    for i in range(0, len(lines) - 1, 2):
        try:
            action = json.loads(lines[i]); src = parse(lines[i + 1])
        except Exception as e:
            problems.append("line %d or %d is not JSON: %s" % (i + 1, i + 2, e)); continue
        meta = action["index"]; _id = meta["_id"]
        k = int(_id.split("-")[0])
        docs.setdefault(k, []).append((meta["_index"], _id, src))
    errs = open(err).read()
    valid = invalid = 0
    for k in range(1, n + 1):
        d = os.path.join(root, "current", str(k))
        ip, tp = os.path.join(d, "issue.json"), os.path.join(d, "timeline.json")
        iv, tv = truth(ip, Obj), truth(tp, list)
        got = docs.get(k, [])
        if iv is None or tv is None:
            invalid += 1
            bad = ip if iv is None else tp
            what = "a JSON object" if iv is None else "a JSON array of objects"
            pat = "wb-bulk: warning: issue %d: %s is not %s: .* at byte [0-9]+, skipped\n" % (k, re.escape(bad), what)
            if not re.search(pat, errs): problems.append("issue %d: no report for %s" % (k, bad))
            if got: problems.append("issue %d: invalid, yet %d documents" % (k, len(got)))
            continue
        valid += 1
        if len(got) != 1 + len(tv):
            problems.append("issue %d: %d documents, expected %d" % (k, len(got), 1 + len(tv))); continue
        if got[0][:2] != ("issues", str(k)) or not same_doc(iv, got[0][2], k):
            problems.append("issue %d: issue document differs: %r" % (k, got[0]))
        for i, ev in enumerate(tv):
            if got[1 + i][:2] != ("timelines", "%d-%d" % (k, i)) or \
               not same_doc(ev, got[1 + i][2], k):
                problems.append("issue %d: event %d differs: %r vs %r" % (k, i, got[1 + i], ev))
    print("%d %d" % (valid, invalid))
    for p in problems[:20]: print(p, file=sys.stderr)
    return 1 if problems else 0

if __name__ == "__main__":
    if sys.argv[1] == "gen": generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else: sys.exit(check(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
PY

N=3000
SEED=${WB_FUZZ_SEED:-4}
/usr/bin/python3 "$SCRATCH/fuzz.py" gen "$SCRATCH/a" $N "$SEED"
seq 1 $N | WB_DATA=$SCRATCH/a wb-bulk --dry-run >"$SCRATCH/out" 2>"$SCRATCH/err"
rc=$?
counts=$(/usr/bin/python3 "$SCRATCH/fuzz.py" check "$SCRATCH/a" $N "$SCRATCH/out" "$SCRATCH/err" 2>"$SCRATCH/problems")
ok $? "every file as Python's strict parser sees it (seed $SEED)"
[ -s "$SCRATCH/problems" ] && diag "$(cat "$SCRATCH/problems")"
valid=${counts% *}
invalid=${counts#* }
ok "$([ "$valid" -gt 1000 ] && [ "$invalid" -gt 500 ] && echo 0 || echo 1)" "both kinds well represented ($valid valid, $invalid invalid)"
is "$rc" 1 "exit status 1 when issues were skipped"
like "$(tail -n 1 "$SCRATCH/err")" "^wb-bulk: warning: $invalid issues were not indexed\$" "the count of skipped issues"

# Hand-picked cases, each in its own archive: what must be refused.
refuse() {
	rm -rf "$SCRATCH/h"
	mkdir -p "$SCRATCH/h/current/9"
	printf '{}' >"$SCRATCH/h/current/9/issue.json"
	printf '%b' "$2" >"$SCRATCH/h/current/9/timeline.json"
	run sh -c "echo 9 | WB_DATA='$SCRATCH/h' wb-bulk --dry-run"
	is "$RC:$OUT" "1:" "$1: refused, nothing written"
}
deep=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "["; for (i = 0; i < 300; i++) printf "]" }')
refuse "nested deeper than 256" "[{\"a\":$deep}]"
# jq 1.6's limit: arrays count one, objects two (the object and its key).
nest() { awk -v n="$2" -v o="$1" -v c="$3" 'BEGIN { for (i = 0; i < n; i++) printf "%s", o; printf "1"; for (i = 0; i < n; i++) printf "%s", c }'; }
accept() {
	rm -rf "$SCRATCH/h"
	mkdir -p "$SCRATCH/h/current/9"
	printf '{}' >"$SCRATCH/h/current/9/issue.json"
	printf '%b' "$2" >"$SCRATCH/h/current/9/timeline.json"
	run sh -c "echo 9 | WB_DATA='$SCRATCH/h' wb-bulk --dry-run"
	is "$RC:$(echo "$OUT" | grep -c '^{"index"')" "0:2" "$1: accepted"
}
accept "[{ and 253 arrays: 256 in jq's count" "[{\"a\":$(nest '[' 253 ']')}]"
refuse "[{ and 254 arrays: 257 in jq's count" "[{\"a\":$(nest '[' 254 ']')}]"
accept "[ and 128 nested objects" "[$(nest '{"a":' 127 '}' | sed 's/1/{}/')]"
refuse "[ and 129 nested objects" "[$(nest '{"a":' 128 '}' | sed 's/1/{}/')]"
refuse "a lone high surrogate escape" '[{"a":"\\ud800"}]'
refuse "a high surrogate escape and no low one" '[{"a":"\\ud800\\u0041"}]'
refuse "a lone low surrogate escape" '[{"a":"\\udc00"}]'
refuse "a pair the wrong way round" '[{"a":"\\udc00\\ud800"}]'
refuse "a lone surrogate escape in a key" '[{"\\udfff":1}]'
refuse "a high surrogate escape cut at the end" '[{"a":"\\uD83D'
accept "a surrogate pair escape" '[{"a":"\\uD83D\\uDE00 \\udbff\\udfff"}]'
refuse "a NaN" '[{"a":NaN}]'
refuse "a leading zero" '[{"a":01}]'
refuse "a surrogate in UTF-8" '[{"a":"\355\240\200"}]'
refuse "an overlong UTF-8 form" '[{"a":"\300\257"}]'
refuse "a raw newline in a string" '[{"a":"x\ny"}]'
refuse "two arrays" '[{}][{}]'
like "$ERR" "^wb-bulk: warning: issue 9: $SCRATCH/h/current/9/timeline.json is not a JSON array of objects: trailing data after the array at byte 4, skipped\$" "the report names the path, the reason and the byte"
done_testing
