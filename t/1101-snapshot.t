#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# wb-snapshot: the original's layout, latest.tar.gz, one run at a time, a
# live archive, failures that leave nothing behind.
. "${0%/*}/lib.sh"
plan 48
export WB_DATA="$SCRATCH/data"
S=$WB_DATA/snapshots
C=$WB_DATA/current
# The tools a snapshot runs, for the wrappers below.
real_tar=$(command -v tar)
real_pigz=$(command -v pigz || command -v gzip)
W=$SCRATCH/wrap
mkdir -p "$W"

# ls -A of the snapshots directory on one line.
snaps() { ls -A "$S" | tr '\n' ' '; }
# stamp PATH: the YYYYmmdd_HHMM of a snapshot's path.
stamp() { basename "$1" .tar.gz; }
# age: make the snapshot latest.tar.gz points at look old (20200101_0000)
# and remove the others, so that a next run in this same minute has a
# name of its own.
age() {
	_t=$(readlink "$S/latest.tar.gz")
	for _f in "$S"/*.tar.gz; do
		[ "${_f##*/}" = "$_t" ] || [ "${_f##*/}" = latest.tar.gz ] || rm -f "$_f"
	done
	[ "$_t" = 20200101_0000.tar.gz ] || mv "$S/$_t" "$S/20200101_0000.tar.gz"
	ln -sfn 20200101_0000.tar.gz "$S/latest.tar.gz"
}

run wb-snapshot
is "$RC:$ERR" "100:wb-snapshot: fatal: no archive at $C" "no archive: 100"
run wb-snapshot extra
is "$RC:$ERR" "100:wb-snapshot: usage: wb-snapshot" "an operand: usage, 100"

for n in 1 2 3 10; do mkdir -p "$C/$n"; done
printf '{"number":1,"title":"public"}' > "$C/1/issue.json"
printf '[{"event":"labeled"}]' > "$C/1/timeline.json"
printf '{"number":2,"__WEBCOMPAT_PRIVATE_ISSUE__":true}' > "$C/2/issue.json"
printf '[]' > "$C/2/timeline.json"
printf '{"number":3}' > "$C/3/issue.json"
printf '{"number":10}' > "$C/10/issue.json"
printf '[]' > "$C/10/timeline.json"
# What is not an issue's issue.json or timeline.json stays out.
printf 'x' > "$C/1/etag"
printf 'x' > "$C/1/.timeline.json.tmp"
mkdir -p "$C/foo" "$C/0" "$C/012" "$C/3/sub" "$WB_DATA/etags"
printf '{}' > "$C/foo/issue.json"
printf '{}' > "$C/0/issue.json"
printf '{}' > "$C/012/issue.json"
printf '{}' > "$C/3/sub/issue.json"
printf 'x' > "$C/README"
printf 'x' > "$WB_DATA/wb.sqlite"
printf 'x' > "$WB_DATA/etags/1"
ln -s "$C/1/issue.json" "$C/10/link.json"
ln -s ../1/issue.json "$C/3/timeline.json"

run wb-snapshot
st=$(stamp "$OUT")
is "$RC:$ERR" "0:" "a snapshot: 0, nothing on stderr"
like "$OUT" "^$S/[0-9]{8}_[0-9]{4}\\.tar\\.gz\$" "its path printed: snapshots/YYYYmmdd_HHMM.tar.gz"
is "$(tar -tzf "$OUT" | tr '\n' ' ')" \
	"$st/ $st/1/ $st/1/issue.json $st/1/timeline.json $st/2/ $st/2/issue.json $st/2/timeline.json $st/3/ $st/3/issue.json $st/10/ $st/10/issue.json $st/10/timeline.json " \
	"entries: STAMP/N/issue.json and timeline.json of the numeric directories, in order, nothing else"
is "$(readlink "$S/latest.tar.gz")" "$st.tar.gz" "latest.tar.gz: a relative link to it"
is "$(snaps)" "$st.tar.gz latest.tar.gz " "no temporary file left"
mkdir "$SCRATCH/x1"
tar -C "$SCRATCH/x1" -xzf "$S/latest.tar.gz"
is "$(cat "$SCRATCH/x1/$st/1/issue.json")$(cat "$SCRATCH/x1/$st/1/timeline.json")" \
	'{"number":1,"title":"public"}[{"event":"labeled"}]' "read back through latest.tar.gz: the same bytes"
is "$(gzip -t "$OUT" 2>&1; echo $?)" 0 "gzip -t: a whole gzip stream"
if command -v pigz >/dev/null; then
	# pigz announces itself in the header's OS byte no more than gzip;
	# the wrapper says it was run.
	printf '#!/bin/sh\necho "$@" >>"%s/pigz.log"\nexec "%s" "$@"\n' "$W" "$real_pigz" >"$W/pigz"
	chmod +x "$W/pigz"
	mkdir -p "$SCRATCH/one/current/5" && printf '{}' >"$SCRATCH/one/current/5/issue.json"
	WB_DATA=$SCRATCH/one PATH=$W:$PATH wb-snapshot >/dev/null 2>&1
	is "$(wc -l <"$W/pigz.log" | tr -d ' ')" 1 "pigz compresses when present (every core)"
	rm -f "$W/pigz"
else
	ok 0 "# SKIP pigz is not installed"
fi
# Without pigz: gzip. A PATH of the tools the script needs, but pigz.
mkdir -p "$SCRATCH/nopigz"
for t in sh tar gzip find sort awk sed date ln mv rm sync flock mkdir cat grep; do
	ln -s "$(command -v $t)" "$SCRATCH/nopigz/$t"
done
mkdir -p "$SCRATCH/two/current/6" && printf '{"n":6}' >"$SCRATCH/two/current/6/issue.json"
run env WB_DATA="$SCRATCH/two" PATH="$SCRATCH/nopigz" "$TOP/scripts/wb-snapshot"
is "$RC:$ERR:$(tar -xzOf "$SCRATCH/two/snapshots/latest.tar.gz" "$(stamp "$OUT")/6/issue.json")" \
	'0::{"n":6}' "without pigz, gzip"

# The archive read back is the archive (only what a snapshot holds).
rm -f "$C/1/etag" "$C/1/.timeline.json.tmp" "$C/10/link.json" "$C/3/timeline.json" "$C/README"
rm -rf "$C/foo" "$C/0" "$C/012" "$C/3/sub"
diff -r "$C" "$SCRATCH/x1/$st" >"$SCRATCH/diff" 2>&1
is "$?:$(cat "$SCRATCH/diff")" "0:" "tar -xzf reads back the archive identical (diff -r)"

# Two snapshots in one minute: the second is refused (whatever minute
# this is, a snapshot of it and of the next one exist).
now=$(date -u +%s)
for t in $now $((now + 60)); do
	n=$(date -u -d "@$t" +%Y%m%d_%H%M)
	[ -e "$S/$n.tar.gz" ] || printf 'placeholder' >"$S/$n.tar.gz"
done
before=$(snaps)
sums=$(cat "$S"/*_*.tar.gz | cksum)
run wb-snapshot
like "$RC:$ERR" "^111:wb-snapshot: fatal: unable to write $S/[0-9_]{13}\\.tar\\.gz: a snapshot of this minute exists\$" \
	"a second snapshot in the same minute: refused, 111"
is "$(snaps)" "$before" "nothing written"
is "$(readlink "$S/latest.tar.gz")" "$st.tar.gz" "latest.tar.gz unchanged"
is "$(cat "$S"/*_*.tar.gz | cksum)" "$sums" "the existing ones untouched"
rm -f "$S"/*.tar.gz
ln -s "$st.tar.gz" "$S/latest.tar.gz"	# dangling: replaced below
run wb-snapshot
st=$(stamp "$OUT")
is "$RC:$(readlink "$S/latest.tar.gz"):$(snaps)" "0:$st.tar.gz:$st.tar.gz latest.tar.gz " \
	"a dangling latest.tar.gz is replaced"

# One run at a time: a second one while the first is compressing is
# refused; the first one completes.
cat >"$W/pigz" <<EOF
#!/bin/sh
: >"$W/started"
while [ ! -e "$W/go" ]; do sleep 0.02; done
exec "$real_pigz" "\$@"
EOF
chmod +x "$W/pigz"
rm -f "$S"/*.tar.gz "$S/latest.tar.gz"
PATH=$W:$PATH wb-snapshot >"$SCRATCH/first.out" 2>"$SCRATCH/first.err" &
first=$!
wait_for 10 test -e "$W/started"
run wb-snapshot
is "$RC:$ERR" "111:wb-snapshot: fatal: unable to lock $S: another wb-snapshot is running" \
	"a second run meanwhile: refused, 111"
is "$(ls -A "$S" | grep -c '^\.wb-snapshot\.')" 2 "the first one's temporary files (tarball, list), hidden (dot) names"
[ -e "$S/latest.tar.gz" ] || [ -L "$S/latest.tar.gz" ]
is "$?" 1 "no latest.tar.gz before the first snapshot completes"
: >"$W/go"
wait "$first"
is "$?:$(cat "$SCRATCH/first.err")" "0:" "the first run completes"
st=$(stamp "$(cat "$SCRATCH/first.out")")
is "$(snaps)" "$st.tar.gz latest.tar.gz " "its snapshot and the link, nothing else"

# kill -9 mid-run: the old snapshot and latest.tar.gz stay; the files it
# left are hidden, the lock is free at once.
rm -f "$W/started" "$W/go"
age
st=20200101_0000
PATH=$W:$PATH wb-snapshot >/dev/null 2>&1 &
victim=$!
wait_for 10 test -e "$W/started"
kill -9 "$victim"
wait "$victim" 2>/dev/null
is "$(readlink "$S/latest.tar.gz")" "$st.tar.gz" "killed mid-run: latest.tar.gz unchanged"
is "$(ls "$S" | tr '\n' ' ')" "$st.tar.gz latest.tar.gz " "no new snapshot under a visible name"
left=$(ls -A "$S" | grep -c '^\.wb-snapshot\.')
is "$left" 2 "its temporary files are left (.wb-snapshot.*, for wb-prune-snapshots)"
rm -f "$W/pigz"
run wb-snapshot
st2=$(stamp "$OUT")
is "$RC:$ERR:$(readlink "$S/latest.tar.gz")" "0::$st2.tar.gz" "the next run takes the lock at once and succeeds"
: >"$W/go"	# let the orphaned compressor finish
wait_for 10 sh -c "gzip -t '$S'/.wb-snapshot.*.tmp"
ok $? "the orphan's tarball is completed, still under its temporary name"
rm -f "$S"/.wb-snapshot.*

# Disk full (a file size limit as small as a full disk): 111, no
# temporary file, the old snapshot and latest.tar.gz intact.
head -c 400000 /dev/urandom | base64 -w0 | sed 's/^/{"number":3,"body":"/; s/$/"}/' >"$C/3/issue.json"
age
before=$(snaps)
lsum=$(cksum <"$S/latest.tar.gz")
(ulimit -f 100 && exec wb-snapshot) >"$SCRATCH/.out" 2>"$SCRATCH/.err"
RC=$?
ERR=$(cat "$SCRATCH/.err")
is "$RC" 111 "a write over the size limit: 111"
like "$(printf '%s\n' "$ERR" | tail -n 1)" "^wb-snapshot: fatal: unable to write $S/[0-9_]{13}\\.tar\\.gz: tar exited 2\$" \
	"the last line says what could not be written"
like "$(printf '%s\n' "$ERR" | head -n 1)" "^wb-snapshot: warning: ." "tar's own words before it, as warnings"
is "$(snaps)" "$before" "no temporary file, no new snapshot"
is "$(cksum <"$S/latest.tar.gz")" "$lsum" "latest.tar.gz still the old one, whole"

# A real full disk: a small tmpfs (root only, in a mount namespace of its
# own, gone with it).
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	FD=$SCRATCH/full
	mkdir -p "$FD/current/1" "$FD/snapshots"
	printf '{"number":1}' >"$FD/current/1/issue.json"
	cat >"$SCRATCH/full.sh" <<EOF
mount -t tmpfs -o size=256k tmpfs "$FD/snapshots" || exit 3
WB_DATA=$FD wb-snapshot >"$FD/first.out" 2>&1 || exit 4
mv "$FD/snapshots/\$(readlink "$FD/snapshots/latest.tar.gz")" "$FD/snapshots/20200101_0000.tar.gz"
ln -sfn 20200101_0000.tar.gz "$FD/snapshots/latest.tar.gz"
old=\$(readlink "$FD/snapshots/latest.tar.gz")
cp "$C/3/issue.json" "$FD/current/1/issue.json"
WB_DATA=$FD wb-snapshot >"$FD/second.out" 2>"$FD/second.err"
echo "rc=\$? \$(ls -A "$FD/snapshots" | tr '\n' ' ')| \$(readlink "$FD/snapshots/latest.tar.gz") \$old"
EOF
	res=$(unshare -m sh "$SCRATCH/full.sh")
	like "$res" '^rc=111 [0-9_]{13}\.tar\.gz latest\.tar\.gz \| ([0-9_]{13}\.tar\.gz) \1$' \
		"ENOSPC: 111, only the old snapshot and latest.tar.gz, pointing at it"
	like "$(tail -n 1 "$FD/second.err")" "^wb-snapshot: fatal: unable to write .*: tar exited 2\$" "ENOSPC: reported"
	like "$(cat "$FD/second.err")" "No space left on device" "ENOSPC: the reason"
else
	for i in 1 2 3; do ok 0 "# SKIP a tmpfs needs root"; done
fi
printf '{"number":3}' > "$C/3/issue.json"

# A live archive: a file renamed over while tar reads it ("file changed
# as we read it", GNU tar's exit 1) is taken as read, whole.
head -c 3000000 /dev/urandom | base64 -w0 | sed 's/^/{"number":1,"body":"/; s/$/"}/' >"$C/1/issue.json"
cp "$C/1/issue.json" "$SCRATCH/old1.json"
printf '{"number":1,"title":"new"}' >"$SCRATCH/new1.json"
cat >"$W/pigz" <<EOF
#!/bin/sh
# Take 64 KB (tar is then inside 1/issue.json), replace the file as
# wb-write does, go on.
dd bs=65536 count=1 iflag=fullblock 2>/dev/null >"$W/head"
mv "$SCRATCH/new1.json" "$C/1/issue.json"
{ cat "$W/head"; cat; } | "$real_pigz" "\$@"
EOF
cat >"$W/tar" <<EOF
#!/bin/sh
"$real_tar" "\$@"
rc=\$?
echo \$rc >"$W/tar.rc"
exit \$rc
EOF
chmod +x "$W/pigz" "$W/tar"
age
run env PATH="$W:$PATH" wb-snapshot
st=$(stamp "$OUT")
is "$(cat "$W/tar.rc")" 1 "GNU tar exited 1: the file changed as it was read"
is "$RC:$ERR" "0:" "that is no failure: 0, nothing on stderr"
tar -xzOf "$OUT" "$st/1/issue.json" >"$SCRATCH/got1.json"
cmp -s "$SCRATCH/got1.json" "$SCRATCH/old1.json"
is "$?" 0 "the snapshot holds the file read, whole (the old one)"
is "$(cat "$C/1/issue.json")" '{"number":1,"title":"new"}' "the archive holds the new one"

# An issue removed between the listing and its reading is left out.
cat >"$W/tar" <<EOF
#!/bin/sh
rm -rf "$C/10"
exec "$real_tar" "\$@"
EOF
rm -f "$W/pigz"
age
run env PATH="$W:$PATH" wb-snapshot
st=$(stamp "$OUT")
is "$RC:$ERR" "0:" "an issue removed meanwhile: 0, nothing on stderr"
is "$(tar -tzf "$OUT" | tr '\n' ' ')" "$st/ $st/1/ $st/1/issue.json $st/1/timeline.json $st/2/ $st/2/issue.json $st/2/timeline.json $st/3/ $st/3/issue.json " \
	"it is left out, the others are there"
rm -f "$W/tar"

# No hard link is stored: tar knows files by inode, and a replaced file's
# inode is reused by the next one written (another issue's). Two names of
# one file (wb-write keeps the previous timeline.json under a second name
# for a moment) are two whole files.
ln "$C/3/issue.json" "$C/2/timeline.json.new" && mv "$C/2/timeline.json.new" "$C/2/timeline.json"
age
run wb-snapshot
st=$(stamp "$OUT")
is "$RC:$(tar -tvzf "$OUT" | grep -c '^h')" "0:0" "two names of one inode: no hard link entry"
mkdir "$SCRATCH/part"
tar -C "$SCRATCH/part" -xzf "$OUT" "$st/2/timeline.json"
is "$?:$(cat "$SCRATCH/part/$st/2/timeline.json")" '0:{"number":3}' "a member extracted alone is whole"
printf '[]' >"$C/2/timeline.json.new" && mv "$C/2/timeline.json.new" "$C/2/timeline.json"

# Under a writer that keeps replacing files (wb-write's way: a temporary
# file, then rename), every file read back is one of its versions, whole.
rm -rf "${C:?}"/*
i=1
while [ $i -le 300 ]; do
	mkdir "$C/$i"
	printf '{"number":%d,"v":0}' $i >"$C/$i/issue.json"
	printf '[{"v":0}]' >"$C/$i/timeline.json"
	i=$((i + 1))
done
cat >"$SCRATCH/writer.sh" <<EOF
v=1
while [ ! -e "$SCRATCH/stop" ]; do
	for i in 7 77 150 299; do
		printf '{"number":%d,"v":%d}' \$i \$((v % 2 ? v : v * 1000000)) >"$C/\$i/.issue.json.tmp"
		mv "$C/\$i/.issue.json.tmp" "$C/\$i/issue.json"
		printf '[{"v":%d}]' \$v >"$C/\$i/.t.tmp"
		mv "$C/\$i/.t.tmp" "$C/\$i/timeline.json"
	done
	v=\$((v + 1))
done
EOF
sh "$SCRATCH/writer.sh" &
writer=$!
atexit "kill $writer 2>/dev/null"
fails=0 bad=0 runs=0
age
while [ $runs -lt 6 ]; do
	out=$(wb-snapshot 2>"$SCRATCH/live.err") || fails=$((fails + 1))
	[ -s "$SCRATCH/live.err" ] && fails=$((fails + 1))
	rm -rf "$SCRATCH/live"
	mkdir "$SCRATCH/live"
	tar -C "$SCRATCH/live" -xzf "$out" || bad=$((bad + 1))
	[ "$(tar -tvzf "$out" | grep -c '^h')" -eq 0 ] || bad=$((bad + 1))
	n=$(find "$SCRATCH/live" -name issue.json | wc -l)
	[ "$n" -eq 300 ] || bad=$((bad + 1))
	for i in 7 77 150 299; do
		grep -Eq "^\\{\"number\":$i,\"v\":[0-9]+\\}\$" "$SCRATCH/live/$(stamp "$out")/$i/issue.json" || bad=$((bad + 1))
	done
	rm -f "$out"
	runs=$((runs + 1))
done
: >"$SCRATCH/stop"
wait "$writer"
is "$fails" 0 "6 snapshots of a live archive: each exits 0, nothing on stderr"
is "$bad" 0 "each holds the 300 issues, every file one whole version of its own, no hard link"
is "$(ls -A "$S" | grep -c '^\.wb-snapshot\..*\.\(list\|err\|files\|link\)$')" 0 "no temporary file of a completed run"

run wb-snapshot --help
like "$RC:$OUT" "^0:usage: wb-snapshot" "--help"
run wb-snapshot --version
is "$RC:$OUT" "0:wb-snapshot (wb) 0.1.0" "--version"
done_testing
