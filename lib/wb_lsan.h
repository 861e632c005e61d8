/* SPDX-License-Identifier: MPL-2.0 */
/* wb — exiting under LeakSanitizer without the risk of a hang.
 *
 * LeakSanitizer checks the heap at exit from a tracer that stops every
 * thread with PTRACE_ATTACH, whose SIGSTOP a SIGCONT discards: the tracer
 * then waits forever and the exiting thread spins (sched_yield) at 100 %
 * CPU. s6-supervise sends SIGCONT just after SIGTERM, so a supervised
 * program that exits fast on SIGTERM can hang so. In sanitizer builds the
 * check is made in a child process, whose pid nobody signals.
 */
#ifndef WB_LSAN_H
#define WB_LSAN_H

/*
 * exit(code) from a single-threaded process. Under AddressSanitizer: fork;
 * the child exits (at-exit handlers, leak check), the parent exits with
 * its status without running them. Never returns.
 */
_Noreturn void wb_lsan_exit_or_die(int code);

#endif
