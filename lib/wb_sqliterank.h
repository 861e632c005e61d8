/* SPDX-License-Identifier: MPL-2.0 */
/* wb — FTS5's bm25, computed the same way, faster for many matches.
 *
 * FTS5's bm25() reads each matching row's size (in tokens) with a query
 * of its own on the %_docsize table: a B-tree search per match, most of
 * the cost when a word is in every issue. wb_rank() is bm25() to the bit
 * (the same formula, in the same order, on the same values), but reads
 * the sizes from the packed table wb-sqlite keeps (lib/wb_sqlitetokens.h,
 * when its totals are FTS5's own), a row per 1024 issues, or else in one
 * pass over %_docsize alongside the matches, which come in rowid order:
 * for a word in 31,200 of 32,000 issues, well under a millisecond or a
 * few, instead of tens. Call it as bm25 is called, its weights
 * included: wb_rank(issues_fts, 10.0, 3.0, 1.0).
 */
#ifndef WB_SQLITERANK_H
#define WB_SQLITERANK_H

#include <stddef.h>

#include <sqlite3.h>

/*
 * Make the FTS5 auxiliary function wb_rank() known to 'db'. Returns 0, or
 * -1 with why[whylen] set (FTS5 missing).
 */
int wb_sqliterank_register(sqlite3 *db, char *why, size_t whylen);

#endif
