/* SPDX-License-Identifier: MPL-2.0 */
/* wb — what every tool's command line has: --help, --version, usage. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_cli.h"
#include "wb_err.h"
#include "wb_scan.h"

#ifndef WB_VERSION
#define WB_VERSION "0.0.0"
#endif

void
wb_cli_help(const char *usage, const char *help)
{
	printf("usage: %s\n\n%s", usage, help);
	exit(wb_cli_end_or_die(WB_EXIT_OK));
}

int
wb_cli_no_options_or_die(int argc, char **argv, const char *usage,
    const char *help)
{
	static const struct option longopts[] = { WB_CLI_LONGOPTS };
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		wb_cli_option(ch, usage, help);
	return optind;
}

unsigned long long
wb_cli_uint_or_die(const char *name, const char *arg, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v;
	char why[32];

	if (wb_scan_uint(arg, strlen(arg), min, max, &v, why, sizeof why) < 0)
		wb_die(WB_EXIT_USAGE, "%s is %s (%llu..%llu): %s", name, why, min,
		    max, arg);
	return v;
}

double
wb_cli_seconds_or_die(const char *name, const char *arg, double max)
{
	double s;

	if (wb_scan_seconds(arg, &s) == 0 && (max == 0 || s <= max))
		return s;
	if (max == 0)
		wb_die(WB_EXIT_USAGE, "%s is not a number of seconds: %s", name,
		    arg);
	wb_die(WB_EXIT_USAGE, "%s is not a number of seconds (0..%g): %s",
	    name, max, arg);
}

void
wb_cli_option(int ch, const char *usage, const char *help)
{
	if (ch == 'h')
		wb_cli_help(usage, help);
	if (ch == 'V')
		wb_cli_version();
	wb_dieusage(usage);
}

void
wb_cli_version(void)
{
	printf("%s (wb) %s\n", wb_prog, WB_VERSION);
	exit(wb_cli_end_or_die(WB_EXIT_OK));
}

void
wb_cli_start(const char *prog)
{
	static char outbuf[1 << 16];

	wb_prog = prog;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
}

int
wb_cli_end_or_die(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
	return status;
}
