/* SPDX-License-Identifier: MPL-2.0 */
/* wb — growing arrays. */
#include <stdlib.h>

#include "wb_err.h"
#include "wb_grow.h"

void *
wb_grow(void *p, size_t n, size_t *cap, size_t size)
{
	size_t want = *cap ? *cap : 8;

	if (n < *cap)
		return p;
	while (want <= n)
		want *= 2;
	if ((p = realloc(p, want * size)) == NULL)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate");
	*cap = want;
	return p;
}
