/* SPDX-License-Identifier: MPL-2.0 */
/* wb — allocations that exit when memory runs out, as git's xmalloc.
 *
 * Each wb_x* function does what its libc namesake does, but never returns
 * NULL: when memory runs out it prints "PROG: fatal: unable to allocate:
 * Cannot allocate memory" and exits 111 (s6 restarts the program), and it
 * exits for nothing else. Out of memory is not something a caller could
 * handle differently, so a caller of these need not say it may exit (see
 * wb_err.h). Where a failed allocation must not end the process (the
 * receiver's serving threads), call malloc and handle NULL instead.
 */
#ifndef WB_XALLOC_H
#define WB_XALLOC_H

#include <stddef.h>

void *wb_xmalloc(size_t size);
void *wb_xcalloc(size_t n, size_t size);
void *wb_xrealloc(void *p, size_t size);
char *wb_xstrdup(const char *s);

/*
 * The array p of *cap elements of 'size' bytes, with room for element
 * 'n' (the one about to be added): unchanged while n < *cap, else
 * reallocated to twice as many (8 at first) and *cap updated.
 */
void *wb_xgrow(void *p, size_t n, size_t *cap, size_t size);

#endif
