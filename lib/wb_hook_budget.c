/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the bytes of request bodies held in memory at once. */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>

#include "wb_hook_budget.h"

static atomic_ullong held;			/* in all */
static atomic_ullong addr_held[WB_HOOK_BUDGET_SLOTS];	/* per address slot */

unsigned
wb_hook_budget_slot(const struct sockaddr *sa)
{
	const unsigned char *p = NULL;
	size_t n = 0;
	uint32_t h = 2166136261u;	/* FNV-1a */

	if (sa != NULL && sa->sa_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		n = 4;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		n = 8;	/* the /64: one client's */
	}
	for (size_t k = 0; k < n; k++)
		h = (h ^ p[k]) * 16777619u;
	return h % WB_HOOK_BUDGET_SLOTS;
}

/* What 'size' bytes in all may take of the whole budget. */
static unsigned long long
ceiling(size_t size)
{
	return size <= WB_HOOK_BUDGET_SMALL ? WB_HOOK_BUDGET_BYTES :
	    WB_HOOK_BUDGET_BYTES - WB_HOOK_BUDGET_RESERVE;
}

int
wb_hook_budget_fits(unsigned slot, size_t size)
{
	return atomic_load(&held) + size <= ceiling(size) &&
	    (size <= WB_HOOK_BUDGET_SMALL ||
	    atomic_load(&addr_held[slot % WB_HOOK_BUDGET_SLOTS]) + size <=
	    WB_HOOK_BUDGET_ADDR_BYTES);
}

int
wb_hook_budget_reserve(unsigned slot, size_t more, size_t size)
{
	atomic_ullong *mine = &addr_held[slot % WB_HOOK_BUDGET_SLOTS];

	if (atomic_fetch_add(&held, more) + more > ceiling(size)) {
		atomic_fetch_sub(&held, more);
		return -1;
	}
	if (atomic_fetch_add(mine, more) + more > WB_HOOK_BUDGET_ADDR_BYTES &&
	    size > WB_HOOK_BUDGET_SMALL) {
		atomic_fetch_sub(mine, more);
		atomic_fetch_sub(&held, more);
		return -1;
	}
	return 0;
}

void
wb_hook_budget_release(unsigned slot, size_t n)
{
	atomic_fetch_sub(&held, n);
	atomic_fetch_sub(&addr_held[slot % WB_HOOK_BUDGET_SLOTS], n);
}
