# SPDX-License-Identifier: MPL-2.0
# wb — build, test, install. See README.md.
#
# Every bin/wb-*.c is a tool linked against every lib/*.c: adding a tool or
# a module needs no change here. User CFLAGS stay overridable; ours are in
# ALL_CFLAGS. `make check` runs the suite twice: on the plain build and on
# build-san/, built with AddressSanitizer and UBSan (SANITIZE=1).

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/wb
CC ?= gcc
CFLAGS ?= -O2 -g
PKGS = libcurl hiredis libmicrohttpd libcrypto sqlite3

WARNINGS = -Wall -Wextra -Werror -Wstrict-prototypes -Wwrite-strings \
	-Wno-missing-field-initializers
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DWB_VERSION='"$(VERSION)"' -Ilib \
	$(WARNINGS) $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
LIBS = $(shell pkg-config --libs $(PKGS)) -ljq -lm
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS)

ifneq ($(SANITIZE),)
BUILD ?= build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ALL_LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
endif

TOOLS = $(patsubst bin/%.c,%,$(wildcard bin/wb-*.c))
SCRIPTS = $(wildcard scripts/wb-*)
LIB_OBJ = $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(wildcard lib/*.c))
BINS = $(addprefix $(BUILD)/bin/,$(TOOLS))
MANS = $(wildcard man/*.[178])
S6_SRC = $(shell find s6)
TESTS = $(wildcard t/[0-9][0-9][0-9][0-9]-*.t)
PROVE_JOBS ?= 2

all: $(BINS) $(BUILD)/s6.made

$(BUILD)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libwb.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: bin/%.c $(BUILD)/libwb.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwb.a $(ALL_LDFLAGS) $(LIBS)

# The s6 service directories, $(BUILD)/s6/NAME for each s6/NAME: what
# every service shares (s6/shared: ./finish and the logger, log/) with the
# service's own files laid over it (its run script; a finish of its own
# replaces the shared one), and @SERVICE@ in log/run replaced by NAME.
# make install, scripts/run and the tests take them from there. (The
# directories are prerequisites too: removing a file remakes them all.)
$(BUILD)/s6.made: $(S6_SRC)
	rm -rf $(BUILD)/s6
	for d in s6/wb-*/; do n=$$(basename $$d); mkdir -p $(BUILD)/s6/$$n && \
		cp -R s6/shared/. $$d. $(BUILD)/s6/$$n/ && \
		sed -i "s|@SERVICE@|$$n|g" $(BUILD)/s6/$$n/log/run || exit 1; done
	touch $@

deps:
	@sh scripts/install-deps

# check: the suite on the plain build, then again under ASan + UBSan
# (unless SANITIZE is already set), then every tool under valgrind
# (memcheck, about 40 s). `make test` runs one build's suite.
check: deps
ifeq ($(SANITIZE),)
	$(MAKE) test
	$(MAKE) SANITIZE=1 test
	$(MAKE) memcheck
else
	$(MAKE) test
endif

test: all
	@echo "prove: $(words $(TESTS)) test files, build $(BUILD)"
	WB_BUILD=$(abspath $(BUILD)) prove -j$(PROVE_JOBS) $(TESTS)

# lint: mandoc over the man pages, shellcheck over every shell script,
# execlineb's parser over the execline ones, every source file's SPDX
# line, the names of the lib/ functions that may exit (scripts/lint says
# what and how).
lint: all
	sh scripts/lint

# memcheck: every tool of the plain build on a small workload under
# valgrind, with the servers it needs (scripts/memcheck): no error, no
# definite or indirect leak. Never on build-san: ASan and valgrind exclude
# each other.
memcheck: deps
	$(MAKE) SANITIZE= all
	WB_BUILD=$(abspath build) sh scripts/memcheck

bench: deps all
	sh scripts/bench

run: deps all
	sh scripts/run

# make chaos: the full chaos run of scripts/chaos (2,000 issues, 90 s of
# kill -9, Redis restarts and HTTP faults, then the exact state checked);
# CHAOS_* variables change it (see scripts/chaos). t/9101 runs a short form.
chaos: deps all
	WB_BUILD=$(abspath $(BUILD)) sh scripts/chaos

# make fuzz: the libFuzzer target of the webhook decision and of the JSON
# scanner, lib/wb_jscan (fuzz/), built with clang apart from the normal
# build; runs FUZZ_TIME seconds.
FUZZ_TIME ?= 60
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DWB_VERSION='"$(VERSION)"' -Ilib -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(shell pkg-config --cflags $(PKGS))

build/fuzz/webhook_fuzz: fuzz/webhook_fuzz.c lib/*.c lib/*.h
	@mkdir -p $(@D)/corpus
	clang $(FUZZ_CFLAGS) -o $@ fuzz/webhook_fuzz.c $(wildcard lib/*.c) $(LIBS)

fuzz: build/fuzz/webhook_fuzz
	build/fuzz/webhook_fuzz -max_total_time=$(FUZZ_TIME) -max_len=65536 \
		-timeout=10 -dict=fuzz/json.dict build/fuzz/corpus fuzz/corpus
.PHONY: fuzz

# make install: the tools and scripts into BINDIR, the man pages, and under
# DATADIR (PREFIX/share/wb) what wb-setup(8) lays out on a server: s6/ (the
# service directories, as made in $(BUILD)/s6), elasticsearch/ (the index
# templates) and examples/ (wb.env, nginx/wb.conf). DESTDIR stages it all
# elsewhere.
install: all
	mkdir -p "$(DESTDIR)$(BINDIR)"
	install -m 755 $(BINS) $(SCRIPTS) "$(DESTDIR)$(BINDIR)"
	for m in $(MANS); do s=$${m##*.}; \
		install -D -m 644 $$m "$(DESTDIR)$(MANDIR)/man$$s/$${m##*/}"; done
	for f in $$(cd $(BUILD) && find s6 -type f); do \
		case $${f##*/} in run | finish) mode=755 ;; *) mode=644 ;; esac; \
		install -D -m $$mode $(BUILD)/$$f "$(DESTDIR)$(DATADIR)/$$f" || exit 1; done
	for f in etc/elasticsearch/*.json; do \
		install -D -m 644 $$f "$(DESTDIR)$(DATADIR)/elasticsearch/$${f##*/}"; done
	install -D -m 644 etc/wb.env "$(DESTDIR)$(DATADIR)/examples/wb.env"
	install -D -m 644 etc/nginx/wb.conf "$(DESTDIR)$(DATADIR)/examples/nginx/wb.conf"

clean:
	rm -rf build build-san

.PHONY: all deps check test lint memcheck bench run chaos install clean
.SECONDARY:
