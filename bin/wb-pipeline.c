/* SPDX-License-Identifier: MPL-2.0 */
/* wb-pipeline — run a pipeline as one process that lives and dies whole.
 *
 * Starts each '|'-separated command with its standard output piped into
 * the next one's standard input, and stays as their parent: the process a
 * supervisor watches and signals. No stage outlives it (each is killed by
 * the kernel when it dies, even by SIGKILL); when a stage fails, or a
 * signal asks it to stop, the other stages are ended too (SIGTERM, then
 * SIGKILL after a second), and the exit status says whether the failure
 * was permanent (100), so that s6 neither restarts a service forever nor
 * leaves half of it running.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wb_cli.h"
#include "wb_clock.h"
#include "wb_err.h"
#include "wb_lsan.h"
#include "wb_xalloc.h"

#define USAGE "wb-pipeline [-p] command [arg ...] ['|' command [arg ...]] ..."
#define HELP \
	"Run the commands as a pipeline, each one's output into the next one's\n" \
	"input, and end them all when one fails or a signal asks to stop.\n" \
	"  -p, --parent  stop as on SIGTERM when the parent process ends\n" \
	"See wb-pipeline(1).\n"

/* How long stages have to end after SIGTERM before SIGKILL. */
#define GRACE_MS 1000

struct stage {
	char **argv;
	pid_t pid;		/* 0 once reaped */
	int status;		/* its wait status, once reaped */
};

static struct stage *stages;
static size_t nstages, running;
static int stopping;		/* the stages were told to stop */
static int asked;		/* by a signal, before any stage failed */
static int failed;		/* the first failure's status, or 0 */
static int permanent;		/* a stage exited 100 */
static long long deadline = -1;	/* when to SIGKILL what still runs */

/* Send 'sig' to every stage still running. */
static void
signal_all(int sig)
{
	for (size_t i = 0; i < nstages; i++)
		if (stages[i].pid > 0)
			kill(stages[i].pid, sig);
}

/* Tell every stage to stop, SIGKILL to come after GRACE_MS. */
static void
stop_all(void)
{
	if (stopping)
		return;
	stopping = 1;
	signal_all(SIGTERM);
	signal_all(SIGCONT);	/* a stopped process would not see it */
	deadline = wb_clock_ms() + GRACE_MS;
}

/* The deadline is past: SIGKILL what still runs, saying so. */
static void
kill_all(void)
{
	for (size_t i = 0; i < nstages; i++)
		if (stages[i].pid > 0)
			wb_warn("%s (pid %ld) still runs %d ms after SIGTERM: "
			    "killing it", stages[i].argv[0], (long)stages[i].pid,
			    GRACE_MS);
	signal_all(SIGKILL);
	deadline = -1;
}

/*
 * In the child, before exec: die with the runner (re-checked, as it may
 * have died before the request), the caller's signal mask and SIGPIPE.
 */
static void
child(size_t i, int in, int out, pid_t runner, const sigset_t *mask)
{
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != runner)
		_exit(WB_EXIT_TEMP);
	if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0)) {
		fprintf(stderr, "%s: fatal: unable to set up the pipes of %s: "
		    "%s\n", wb_prog, stages[i].argv[0], strerror(errno));
		_exit(WB_EXIT_TEMP);
	}
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(stages[i].argv[0], stages[i].argv);
	e = errno;
	fprintf(stderr, "%s: fatal: unable to run %s: %s\n", wb_prog,
	    stages[i].argv[0], strerror(e));
	/* A command that is not there will not be there a second later. */
	_exit(e == ENOENT || e == EACCES || e == ENOEXEC || e == ENOTDIR ?
	    WB_EXIT_USAGE : WB_EXIT_TEMP);
}

/* Start every stage, piped together; dies 111 if one cannot be started. */
static void
start(const sigset_t *mask)
{
	pid_t runner = getpid();
	int in = -1, p[2];

	for (size_t i = 0; i < nstages; i++) {
		p[0] = p[1] = -1;
		if (i + 1 < nstages && pipe2(p, O_CLOEXEC) < 0) {
			signal_all(SIGKILL);
			wb_diesys(WB_EXIT_TEMP, "unable to create a pipe");
		}
		if ((stages[i].pid = fork()) < 0) {
			signal_all(SIGKILL);
			wb_diesys(WB_EXIT_TEMP, "unable to start %s",
			    stages[i].argv[0]);
		}
		if (stages[i].pid == 0)
			child(i, in, p[1], runner, mask);
		stages[i].status = -1;
		running++;
		if (in >= 0)
			close(in);
		if (p[1] >= 0)
			close(p[1]);
		in = p[0];
	}
}

/* Stage 's' ended with 'status': the first failure stops the others. */
static void
ended(struct stage *s, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	running--;
	if (code == WB_EXIT_USAGE && !asked)
		permanent = 1;
	if (code == 0 || asked || failed != 0) {
		/* Also reported: an end not caused by the stop's signals. */
		if (code == WB_EXIT_USAGE && !asked)
			wb_warn("%s (pid %ld) exited 100 (a permanent failure)",
			    s->argv[0], (long)s->pid);
		else if (code < 0 && !asked && WTERMSIG(status) != SIGTERM &&
		    (WTERMSIG(status) != SIGKILL || deadline >= 0))
			wb_warn("%s (pid %ld) killed by signal %d", s->argv[0],
			    (long)s->pid, WTERMSIG(status));
		return;
	}
	failed = code > 0 ? code : WB_EXIT_TEMP;
	if (code > 0)
		wb_warn("%s (pid %ld) exited %d%s: stopping the pipeline",
		    s->argv[0], (long)s->pid, code, code == WB_EXIT_USAGE ?
		    " (a permanent failure)" : "");
	else
		wb_warn("%s (pid %ld) killed by signal %d: stopping the pipeline",
		    s->argv[0], (long)s->pid, WTERMSIG(status));
	stop_all();
}

/*
 * Reap every stage that ended. Of those that ended together, the ones a
 * signal killed are looked at first: a neighbour that saw one die and
 * exited 111 at once is the consequence, not the cause.
 */
static void
reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (size_t i = 0; i < nstages; i++)
			if (stages[i].pid == pid)
				stages[i].status = status;
	for (int signalled = 1; signalled >= 0; signalled--)
		for (size_t i = 0; i < nstages; i++)
			if (stages[i].pid > 0 && stages[i].status != -1 &&
			    WIFSIGNALED(stages[i].status) == signalled) {
				ended(&stages[i], stages[i].status);
				stages[i].pid = 0;
			}
}

/*
 * Wait for signals until every stage is reaped: SIGCHLD reaps, the others
 * ask for a stop.
 */
static void
supervise(const sigset_t *set)
{
	while (running > 0) {
		long long left = deadline < 0 ? -1 : deadline - wb_clock_ms();
		struct timespec ts = { left / 1000, left % 1000 * 1000000 };
		int sig;

		if (deadline >= 0 && left <= 0) {
			kill_all();
			continue;
		}
		sig = sigtimedwait(set, NULL, deadline < 0 ? NULL : &ts);
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			wb_diesys(WB_EXIT_TEMP, "unable to wait for a signal");
		else if (sig == SIGCHLD)
			reap();
		else if (sig > 0 && !stopping) {
			wb_info("signal %d: stopping the pipeline", sig);
			asked = 1;
			stop_all();
		}
	}
}

/* Split argv at the "|" words into stages; exits 100 on an empty one. */
static void
split(int argc, char **argv)
{
	size_t n = 1;

	for (int i = 0; i < argc; i++)
		n += strcmp(argv[i], "|") == 0;
	stages = wb_xcalloc(n, sizeof *stages);
	stages[0].argv = argv;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "|") == 0) {
			argv[i] = NULL;	/* argv[argc] is NULL already */
			stages[++nstages].argv = argv + i + 1;
		}
	nstages++;
	for (size_t i = 0; i < nstages; i++)
		if (stages[i].argv[0] == NULL)
			wb_dieusage(USAGE);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "parent", no_argument, NULL, 'p' },
		WB_CLI_LONGOPTS
	};
	int ch, watch_parent = 0;
	sigset_t set, mask;
	pid_t parent = getppid();

	wb_cli_start("wb-pipeline");
	while ((ch = getopt_long(argc, argv, "+hp", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			watch_parent = 1;
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (optind == argc)
		wb_dieusage(USAGE);
	split(argc - optind, argv + optind);

	/* A closed 0, 1 or 2 would be taken by a pipe, and the stages' setup
	 * would then shuffle the wrong descriptors. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			wb_diesys(WB_EXIT_TEMP, "unable to open /dev/null");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &mask);
	if (watch_parent && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
	    getppid() != parent))
		kill(getpid(), SIGTERM);	/* blocked: handled below */
	start(&mask);

	supervise(&set);
	free(stages);
	/* s6-supervise's SIGCONT after SIGTERM must not hang LSan (wb_lsan.h). */
	wb_lsan_exit_or_die(wb_cli_end_or_die(permanent ? WB_EXIT_USAGE :
	    failed));
}
