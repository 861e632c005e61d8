/* SPDX-License-Identifier: MPL-2.0 */
/* wb — what the files of the JSON scanner share (wb_jscan.c, its
 * printer wb_jscan_print.c); not for other callers.
 */
#ifndef WB_JSCAN_INTERNAL_H
#define WB_JSCAN_INTERNAL_H

#include <stddef.h>

/* Append code point 'c' as UTF-8 at 'o'; returns the bytes written (1-4). */
size_t wb_jscan_put_utf8(unsigned char *o, unsigned long c);

/*
 * The code point of the escape at *p (a backslash, in a string the
 * scanner accepted: a surrogate pair is one escape); *p moves past it.
 */
unsigned long wb_jscan_escape(const unsigned char **p);

#endif
