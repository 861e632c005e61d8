/* wb — how many bytes of request bodies a server holds in memory at
 * once: in all (WB_BUDGET_BYTES), and from one client address
 * (WB_BUDGET_ADDR_BYTES). A few bodies of GitHub's largest size fit, a
 * flood of them does not exhaust memory, and one address cannot take it
 * all. One budget per process, shared by its threads (atomic counters);
 * addresses are hashed into WB_BUDGET_SLOTS slots.
 */
#ifndef WB_BUDGET_H
#define WB_BUDGET_H

#include <stddef.h>
#include <sys/socket.h>

#define WB_BUDGET_BYTES (128ULL << 20)		/* bodies held at once */
#define WB_BUDGET_ADDR_BYTES (32ULL << 20)	/* of which from one address */
#define WB_BUDGET_SLOTS 1024

/*
 * The slot the client address 'sa' (borrowed, may be NULL) counts
 * against: a hash of its IPv4 or IPv6 address (not of the port), the
 * same slot for every address of another family or none.
 */
unsigned wb_budget_slot(const struct sockaddr *sa);

/*
 * Hold 'more' bytes of the budget, and of that of address slot 'slot'.
 * Returns 0, or -1 (nothing held) when either would be exceeded.
 */
int wb_budget_reserve(unsigned slot, size_t more);

/* Give back 'n' bytes that wb_budget_reserve() held for 'slot'. */
void wb_budget_release(unsigned slot, size_t n);

#endif
