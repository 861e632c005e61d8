/* SPDX-License-Identifier: MPL-2.0 */
/* wb — exiting under LeakSanitizer without the risk of a hang. */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wb_err.h"
#include "wb_lsan.h"

#if defined(__SANITIZE_ADDRESS__)
#define WB_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WB_LSAN 1
#endif
#endif

void
wb_lsan_exit_or_die(int code)
{
#ifdef WB_LSAN
	pid_t pid = fork();
	int st;

	if (pid <= 0)
		exit(code);	/* the child, or no child: check here */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(WB_EXIT_TEMP);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : WB_EXIT_TEMP);
#else
	exit(code);
#endif
}
