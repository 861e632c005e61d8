/* SPDX-License-Identifier: MPL-2.0 */
/* wb — a listening TCP address from configuration. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "wb_err.h"
#include "wb_listen.h"
#include "wb_scan.h"

socklen_t
wb_listen_resolve_or_die(const char *var, const char *spec,
    struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	    .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[256], port[8];
	unsigned long long p;
	const char *colon, *h = spec;
	socklen_t len;
	size_t hl;
	int rc;

	if (*spec == '[') {
		const char *rb = strchr(spec, ']');
		colon = rb != NULL && rb[1] == ':' ? rb + 1 : NULL;
		h = spec + 1;
		hl = rb != NULL ? (size_t)(rb - h) : 0;
	} else {
		colon = strrchr(spec, ':');
		hl = colon != NULL ? (size_t)(colon - spec) : 0;
	}
	if (colon == NULL || hl >= sizeof host ||
	    wb_scan_uint(colon + 1, strlen(colon + 1), 0, 65535, &p, NULL,
	    0) < 0)
		wb_die(WB_EXIT_USAGE, "%s is not host:port or [v6]:port: %s",
		    var, spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, sizeof port, "%llu", p);
	if ((rc = getaddrinfo(hl ? host : NULL, port, &hints, &ai)) != 0)
		wb_die(rc == EAI_AGAIN ? WB_EXIT_TEMP : WB_EXIT_USAGE,
		    "unable to resolve %s %s: %s", var, spec, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return len;
}

int
wb_listen_socket_or_die(struct sockaddr_storage *ss, socklen_t len,
    const char *spec)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to create a socket for %s", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)ss, len) < 0 || listen(fd, 511) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to listen on %s", spec);
	getsockname(fd, (struct sockaddr *)ss, &len);
	return fd;
}

void
wb_listen_name(const struct sockaddr_storage *ss, socklen_t len,
    const char *fallback, char *out, size_t outlen)
{
	char hs[NI_MAXHOST], ps[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, len, hs, sizeof hs, ps,
	    sizeof ps, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, outlen, strchr(hs, ':') ? "[%s]:%s" : "%s:%s",
		    hs, ps);
	else
		snprintf(out, outlen, "%s", fallback);
}
