#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# scripts/spdx on a small tree of every kind of source file: the licence
# line in each file's comment syntax, after "#!" (and a Python coding
# line), nothing else changed, modes kept; build outputs and other files
# left alone; --check names what lacks the line and exits 1, then 0; a
# second run changes nothing.
. "${0%/*}/lib.sh"
plan 12
D=$SCRATCH/tree
L='SPDX-License-Identifier: MPL-2.0'
mkdir -p "$D/lib" "$D/man" "$D/t" "$D/scripts/bench.d" "$D/s6/shared/log" "$D/s6/wb-x" \
	"$D/build/lib" "$D/etc"
printf '/* a */\nint x;\n' >"$D/lib/a.c"
printf '.Dd May 1, 2026\n.Dt A 1\n' >"$D/man/a.1"
printf '#!/bin/sh\necho t\n' >"$D/t/0001-a.t"
printf '# sourced\nx=1\n' >"$D/t/lib.sh"
printf '#!/usr/bin/python3\n# -*- coding: utf-8 -*-\nprint(1)\n' >"$D/t/d.py"
printf '#!/bin/sh\nexit 0\n' >"$D/scripts/tool"
printf '{ a }\n' >"$D/scripts/tool.supp"
printf '#!/usr/bin/execlineb -P\ns6-log -- /var/log/wb/@SERVICE@\n' >"$D/s6/shared/log/run"
printf '#!/usr/bin/execlineb -P\nexit 0\n' >"$D/s6/wb-x/run"
printf '3\n' >"$D/s6/wb-x/notification-fd"
printf 'all:\n\ttrue\n' >"$D/Makefile"
printf 'int y;\n' >"$D/build/lib/b.c"
printf 'WB_DATA=/x\n' >"$D/etc/wb.env"
chmod 755 "$D/scripts/tool" "$D/t/0001-a.t" "$D/s6/wb-x/run"
sums() { (cd "$D" && find . -type f -exec md5sum {} + | LC_ALL=C sort); }

run sh "$TOP/scripts/spdx" --check "$D"
is "$RC" 1 "--check: exit 1 while a file lacks the line"
is "$OUT" "spdx: no SPDX-License-Identifier line: Makefile
spdx: no SPDX-License-Identifier line: lib/a.c
spdx: no SPDX-License-Identifier line: man/a.1
spdx: no SPDX-License-Identifier line: s6/shared/log/run
spdx: no SPDX-License-Identifier line: s6/wb-x/run
spdx: no SPDX-License-Identifier line: scripts/tool
spdx: no SPDX-License-Identifier line: scripts/tool.supp
spdx: no SPDX-License-Identifier line: t/0001-a.t
spdx: no SPDX-License-Identifier line: t/d.py
spdx: no SPDX-License-Identifier line: t/lib.sh" "--check names every source file, and only those"

run sh "$TOP/scripts/spdx" "$D"
is "$RC:$OUT:$ERR" "0::" "spdx exits 0, silent"
is "$(cat "$D/lib/a.c")" "/* $L */
/* a */
int x;" "C: a /* */ comment on the first line"
is "$(cat "$D/man/a.1")" ".\\\" $L
.Dd May 1, 2026
.Dt A 1" "man page: a roff comment on the first line"
is "$(cat "$D/t/0001-a.t" "$D/scripts/tool" "$D/s6/wb-x/run")" "#!/bin/sh
# $L
echo t
#!/bin/sh
# $L
exit 0
#!/usr/bin/execlineb -P
# $L
exit 0" "scripts: the line after #!"
is "$(cat "$D/t/d.py")" "#!/usr/bin/python3
# -*- coding: utf-8 -*-
# $L
print(1)" "Python: after the coding line, which stays second"
is "$(cat "$D/t/lib.sh" "$D/Makefile" "$D/scripts/tool.supp")" "# $L
# sourced
x=1
# $L
all:
	true
# $L
{ a }" "no #!: a # comment on the first line"
is "$(cat "$D/build/lib/b.c" "$D/etc/wb.env" "$D/s6/wb-x/notification-fd")" "int y;
WB_DATA=/x
3" "build outputs and other files untouched"
is "$(stat -c %a "$D/scripts/tool" "$D/t/0001-a.t" "$D/s6/wb-x/run" "$D/lib/a.c" | tr '\n' ' ')" \
	"755 755 755 644 " "modes kept"

before=$(sums)
run sh "$TOP/scripts/spdx" "$D"
is "$RC:$OUT:$ERR:$(sums)" "0:::$before" "a second run changes nothing"
run sh "$TOP/scripts/spdx" --check "$D"
is "$RC:$OUT:$ERR" "0::" "--check: exit 0, silent, once every file has the line"
