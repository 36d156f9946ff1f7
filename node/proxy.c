/* Client address behind a proxy; see proxy.h. */
#include "proxy.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

void proxy_client_addr(char *client, size_t len, const char *x_real_ip)
{
    if (!client || !x_real_ip || !metrics_is_loopback(client))
        return;
    char ip[64], out[INET6_ADDRSTRLEN];
    size_t n = strlen(x_real_ip);
    while (n && (x_real_ip[n - 1] == ' ' || x_real_ip[n - 1] == '\t'))
        n--;
    while (n && (*x_real_ip == ' ' || *x_real_ip == '\t')) {
        x_real_ip++;
        n--;
    }
    if (n == 0 || n >= sizeof ip)
        return;
    memcpy(ip, x_real_ip, n);
    ip[n] = '\0';
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1)
        inet_ntop(AF_INET, a, out, sizeof out);
    else if (inet_pton(AF_INET6, ip, a) == 1)
        inet_ntop(AF_INET6, a, out, sizeof out);
    else
        return;
    snprintf(client, len, "%s", out);
}
