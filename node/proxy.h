/* The client address behind a reverse proxy on the same host.
 *
 * Behind nginx every request reaches dinet from 127.0.0.1, so per-client
 * rules (login throttling) would treat all clients as one. The proxy sends
 * the real address in X-Real-IP (deploy/nginx/dinet.conf); it is believed
 * only when the peer itself is a loopback address, so a client that reaches
 * dinet directly cannot choose its address. X-Forwarded-For is never used:
 * a client can put anything in it and nginx appends to it. */
#ifndef DINET_PROXY_H
#define DINET_PROXY_H

#include <stddef.h>

/* client holds the peer address as text (inet_ntop). When it is a loopback
 * address and x_real_ip is a valid IPv4 or IPv6 address, client is replaced
 * by x_real_ip in canonical form. Otherwise client is left as it is. */
void proxy_client_addr(char *client, size_t len, const char *x_real_ip);

#endif
