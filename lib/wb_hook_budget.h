/* SPDX-License-Identifier: MPL-2.0 */
/* wb — how many bytes of request bodies a server holds in memory at
 * once: in all (WB_HOOK_BUDGET_BYTES), and from one client address
 * (WB_HOOK_BUDGET_ADDR_BYTES). A few bodies of GitHub's largest size fit, a
 * flood of them does not exhaust memory, and one address cannot take it
 * all. Small bodies (up to WB_HOOK_BUDGET_SMALL, what a delivery nearly always
 * is) have a reserve that large ones cannot take: as many connections
 * as a server allows (WB_HOOK_BUDGET_CONNS) each holding a small body fit in
 * it, so a small delivery is always read, however many large bodies
 * arrive at once. One budget per process, shared by its threads (atomic
 * counters); addresses are hashed into WB_HOOK_BUDGET_SLOTS slots (an IPv6
 * address by its /64, what one client is usually given).
 */
#ifndef WB_HOOK_BUDGET_H
#define WB_HOOK_BUDGET_H

#include <stddef.h>
#include <sys/socket.h>

#define WB_HOOK_BUDGET_SMALL (64ULL << 10)	/* a small body, at most */
#define WB_HOOK_BUDGET_CONNS 512		/* connections, at most */
/* The reserve of small bodies: 32 MB. */
#define WB_HOOK_BUDGET_RESERVE (WB_HOOK_BUDGET_CONNS * WB_HOOK_BUDGET_SMALL)
#define WB_HOOK_BUDGET_BYTES (128ULL << 20)	/* bodies held at once */
/* Bytes of large bodies from one address. */
#define WB_HOOK_BUDGET_ADDR_BYTES (32ULL << 20)
#define WB_HOOK_BUDGET_SLOTS 1024

/*
 * The slot the client address 'sa' (borrowed, may be NULL) counts
 * against: a hash of its IPv4 address or of its IPv6 /64 (not of the
 * port), the same slot for every address of another family or none.
 */
unsigned wb_hook_budget_slot(const struct sockaddr *sa);

/*
 * Whether a body of 'size' bytes from address slot 'slot' would fit now
 * (nothing is held): 1 or 0. For refusing at once, from its declared
 * length, a body that would be refused on the way.
 */
int wb_hook_budget_fits(unsigned slot, size_t size);

/*
 * Hold 'more' bytes of the budget, and of that of address slot 'slot',
 * for a body that will then hold 'size' bytes in all: a small one (size
 * up to WB_HOOK_BUDGET_SMALL) may use the reserve and is not bounded per
 * address. Returns 0, or -1 (nothing held) when it would not fit.
 */
int wb_hook_budget_reserve(unsigned slot, size_t more, size_t size);

/* Give back 'n' bytes that wb_hook_budget_reserve() held for 'slot'. */
void wb_hook_budget_release(unsigned slot, size_t n);

#endif
