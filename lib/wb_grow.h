/* SPDX-License-Identifier: MPL-2.0 */
/* wb — growing arrays. */
#ifndef WB_GROW_H
#define WB_GROW_H

#include <stddef.h>

/*
 * The array p of *cap elements of 'size' bytes, with room for element
 * 'n' (the one about to be added): unchanged while n < *cap, else
 * reallocated to twice as many (8 at first) and *cap updated. Out of
 * memory exits 111.
 */
void *wb_grow(void *p, size_t n, size_t *cap, size_t size);

#endif
