/* SPDX-License-Identifier: MPL-2.0 */
/* wb — allocations that exit when memory runs out (wb_xalloc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wb_err.h"
#include "wb_xalloc.h"

/* 'p', or exit 111 when it is NULL: memory ran out. */
static void *
xcheck(void *p)
{
	if (p == NULL) {
		errno = ENOMEM;
		wb_diesys(WB_EXIT_TEMP, "unable to allocate");
	}
	return p;
}

/* A size of 0 asks for 1 byte, so that NULL always means out of memory. */
void *
wb_xmalloc(size_t size)
{
	return xcheck(malloc(size ? size : 1));
}

void *
wb_xcalloc(size_t n, size_t size)
{
	return xcheck(calloc(n ? n : 1, size ? size : 1));
}

void *
wb_xrealloc(void *p, size_t size)
{
	return xcheck(realloc(p, size ? size : 1));
}

char *
wb_xstrdup(const char *s)
{
	return xcheck(strdup(s));
}

void *
wb_xgrow(void *p, size_t n, size_t *cap, size_t size)
{
	size_t want = *cap ? *cap : 8;

	if (n < *cap)
		return p;
	while (want <= n)
		want *= 2;
	p = xcheck(reallocarray(p, want, size));
	*cap = want;
	return p;
}
