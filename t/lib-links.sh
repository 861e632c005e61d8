# SPDX-License-Identifier: MPL-2.0
# Helpers for the tests of loaders meeting symbolic links in the archive
# (t/5011, t/6005). Sourced after t/lib.sh; POSIX sh.
#
#   mk_links DATA ELSEWHERE   with issues 21-23 archived under ELSEWHERE:
#                             DATA/current/21 a link to ELSEWHERE's 21,
#                             22's issue.json and 23's timeline.json links
#                             to ELSEWHERE's files (the other file copied),
#                             24 a dangling link
#   target_sums ELSEWHERE     the MD5 of every file under ELSEWHERE
#   link_warning PROG N PATH  the line PROG says for the link PATH of N
# shellcheck shell=sh

mk_links() {
	ln -s "$2/current/21" "$1/current/21"
	mkdir "$1/current/22" "$1/current/23"
	ln -s "$2/current/22/issue.json" "$1/current/22/issue.json"
	cp "$2/current/22/timeline.json" "$1/current/22/timeline.json"
	cp "$2/current/23/issue.json" "$1/current/23/issue.json"
	ln -s "$2/current/23/timeline.json" "$1/current/23/timeline.json"
	ln -s "$SCRATCH/nowhere" "$1/current/24"
}

target_sums() { find "$1" -type f | LC_ALL=C sort | xargs md5sum; }

link_warning() {
	echo "$1: warning: issue $2: $3 is a symbolic link, where the archive keeps its own files; not followed, skipped"
}
