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
	exit(wb_cli_end(WB_EXIT_OK));
}

int
wb_cli_no_options(int argc, char **argv, const char *usage, const char *help)
{
	static const struct option longopts[] = { WB_CLI_LONGOPTS };
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			wb_cli_help(usage, help);
		case 'V':
			wb_cli_version();
		default:
			wb_dieusage(usage);
		}
	}
	return optind;
}

unsigned long long
wb_cli_uint(const char *name, const char *arg, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v;
	char why[32];

	if (wb_scan_uint(arg, strlen(arg), min, max, &v, why, sizeof why) < 0)
		wb_die(WB_EXIT_USAGE, "%s is %s (%llu..%llu): %s", name, why, min,
		    max, arg);
	return v;
}

void
wb_cli_version(void)
{
	printf("%s (wb) %s\n", wb_prog, WB_VERSION);
	exit(wb_cli_end(WB_EXIT_OK));
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
wb_cli_end(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		wb_diesys(WB_EXIT_TEMP, "unable to write to standard output");
	return status;
}
