#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Every tool: a lint-clean man page, --help, --version, usage errors 100.
. "${0%/*}/lib.sh"
tools=$(cd "$TOP/bin" && ls wb-*.c | sed 's/\.c$//')
scripts=$(cd "$TOP/scripts" && { ls wb-* 2>/dev/null || true; })
n=0
for t in $tools $scripts; do n=$((n + 1)); done
plan $((n * 4 + 2))

run mandoc -Tlint -Wwarning "$TOP"/man/*.[178]
is "$RC:$OUT$ERR" "0:" "mandoc -Tlint is clean on every page"
ok "$(test -f "$TOP/man/wb.7"; echo $?)" "wb(7) exists"

for t in $tools $scripts; do
	ok "$(test -f "$TOP/man/$t.1" || test -f "$TOP/man/$t.8"; echo $?)" "$t has a man page"
	run "$t" --help
	like "$RC:$OUT" "^0:usage: $t" "$t --help"
	run "$t" --version
	is "$RC:$OUT" "0:$t (wb) 0.1.0" "$t --version"
	run "$t" --no-such-option
	like "$RC:$ERR" "^100:" "$t: an unknown option is a usage error"
done
done_testing
