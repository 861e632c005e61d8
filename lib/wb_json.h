/* SPDX-License-Identifier: MPL-2.0 */
/* wb — typed access to jv values from untrusted JSON.
 *
 * Every getter checks the kind before it reads: a value of the wrong kind
 * is "absent", never an assertion failure inside libjq. None consumes its
 * arguments.
 */
#ifndef WB_JSON_H
#define WB_JSON_H

#include <jv.h>

/* The string at obj[key], borrowed from 'obj' (valid while obj lives), or NULL. */
const char *wb_json_string(jv obj, const char *key);

/* obj[key] as a number into *out; returns 0, or -1 if absent or not a number. */
int wb_json_number(jv obj, const char *key, double *out);

/* 1 when obj[key] is true, 0 otherwise. */
int wb_json_true(jv obj, const char *key);

/*
 * Follow 'path' (keys separated by '.') from 'v'; returns a new reference
 * to the value, or jv_invalid() where any step is absent or not an object.
 */
jv wb_json_path(jv v, const char *path);

#endif
