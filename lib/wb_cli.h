/* SPDX-License-Identifier: MPL-2.0 */
/* wb — what every tool's command line has: --help, --version, usage. */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <getopt.h>

/* The long options every tool accepts; end a tool's table with these. */
#define WB_CLI_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ NULL, 0, NULL, 0 }

/* Print "usage: <usage>", a blank line and 'help' on stdout; exit 0. */
void wb_cli_help(const char *usage, const char *help) __attribute__((noreturn));
/*
 * The whole option parsing of a tool that has no options but -h/--help and
 * --version: handles those, exits 100 on any other option, and returns
 * the index of the first operand in argv.
 */
int wb_cli_no_options_or_die(int argc, char **argv, const char *usage,
    const char *help);

/*
 * The argument 'arg' of option 'name' as a decimal integer in
 * [min, max] (wb_scan_uint); exits 100 with a message naming the option
 * when it is not one.
 */
unsigned long long wb_cli_uint_or_die(const char *name, const char *arg,
    unsigned long long min, unsigned long long max);

/*
 * The argument 'arg' of option 'name' as a number of seconds
 * (wb_scan_seconds) of at most 'max' (0: no bound but wb_scan_seconds');
 * exits 100 with a message naming the option when it is not one.
 */
double wb_cli_seconds_or_die(const char *name, const char *arg, double max);

/*
 * The last case of a tool's option switch, for what is none of its own
 * options: -h/--help and --version (WB_CLI_LONGOPTS) print and exit 0,
 * anything else is a usage error, exit 100.
 */
void wb_cli_option(int ch, const char *usage, const char *help)
    __attribute__((noreturn));

/* Print "<prog> (wb) <version>" on stdout; exit 0. */
void wb_cli_version(void) __attribute__((noreturn));

/*
 * Set the program name for messages, ignore SIGPIPE (a closed pipe is then
 * a write error, reported and exit 111) and make stdout fully buffered.
 */
void wb_cli_start(const char *prog);

/* Close stdout at exit, checked: a write error exits 111. */
int wb_cli_end_or_die(int status);

#endif
