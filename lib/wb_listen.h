/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a listening TCP address from configuration: "host:port" or
 * "[v6]:port", resolved once and bound by as many sockets as there are
 * serving threads (SO_REUSEPORT), and named back for messages.
 */
#ifndef WB_LISTEN_H
#define WB_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Resolve 'spec' (borrowed), "host:port" or "[v6]:port" (an empty host is
 * every address, a port 0 is any free one), into 'ss'; returns its
 * length. 'var' names the setting in messages (e.g. "WB_HOOK_LISTEN"). A
 * malformed or unknown address exits 100, a resolver failure that may
 * pass exits 111.
 */
socklen_t wb_listen_resolve_or_die(const char *var, const char *spec,
    struct sockaddr_storage *ss);

/*
 * A non-blocking, close-on-exec listening socket on 'ss', with
 * SO_REUSEADDR and SO_REUSEPORT so that several can share the address
 * and the kernel spreads the connections. A port 0 in 'ss' is replaced by
 * the one chosen, so that the next sockets join it. 'spec' (borrowed)
 * names the address in messages. Failure exits 111.
 */
int wb_listen_socket_or_die(struct sockaddr_storage *ss, socklen_t len,
    const char *spec);

/*
 * Write 'ss' as "host:port" or "[v6]:port" into 'out' of 'outlen' bytes,
 * numerically; 'fallback' (borrowed) if it cannot be named.
 */
void wb_listen_name(const struct sockaddr_storage *ss, socklen_t len,
    const char *fallback, char *out, size_t outlen);

#endif
