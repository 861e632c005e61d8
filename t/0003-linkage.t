#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# What each tool links: wb-write, which only writes files, needs neither
# libcurl nor libcrypto nor a server's client library (lib/wb_etags.c
# holds the ETags apart from the GitHub client).
# shellcheck source=t/lib.sh
. "${0%/*}/lib.sh"
command -v readelf >/dev/null || skip_all "no readelf"
plan 3

# The libraries of the stack it names itself (NEEDED), sanitizers aside.
needed=$(readelf -d "$WB_BUILD/bin/wb-write" | sed -n 's/.*(NEEDED).*\[\(lib[a-z0-9]*\)\..*/\1/p' |
	grep -E '^lib(curl|crypto|ssl|hiredis|microhttpd|sqlite3|jq)$' | sort | tr '\n' ' ')
is "$needed" "libjq " "wb-write needs libjq alone of the stack"
run ldd "$WB_BUILD/bin/wb-write"
unlike "$OUT" "libcurl" "wb-write loads no libcurl"
unlike "$OUT" "libcrypto" "wb-write loads no libcrypto"
done_testing
