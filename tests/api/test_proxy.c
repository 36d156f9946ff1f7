/* Behind a reverse proxy: the client address comes from X-Real-IP, but only
 * when the peer is the local host (deploy/nginx/dinet.conf sets it).
 *
 *  1. proxy_client_addr(): a loopback peer takes a valid IPv4 or IPv6
 *     X-Real-IP (canonical form, blanks trimmed); an invalid or empty value,
 *     a list, or any value from a non-loopback peer changes nothing.
 *  2. Over HTTP: failed logins from one forwarded client address (20, the
 *     per-client limit, with different unknown user names) throttle that
 *     address (429 with Retry-After) but not another forwarded address, so
 *     that the clients behind one proxy are not one client. */
#include "testlib.h"

#include "proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void unit(void)
{
    static const struct {
        const char *peer, *xri, *want;
    } cases[] = {
        {"127.0.0.1", "203.0.113.7", "203.0.113.7"},
        {"127.0.0.1", " 203.0.113.7 ", "203.0.113.7"},
        {"::1", "2001:DB8:0:0::1", "2001:db8::1"},
        {"::ffff:127.0.0.1", "198.51.100.2", "198.51.100.2"},
        {"127.0.0.1", "::ffff:198.51.100.2", "::ffff:198.51.100.2"},
        {"127.0.0.1", "", "127.0.0.1"},
        {"127.0.0.1", "not-an-address", "127.0.0.1"},
        {"127.0.0.1", "203.0.113.7, 10.0.0.1", "127.0.0.1"},
        {"127.0.0.1", "203.0.113.7:443", "127.0.0.1"},
        {"127.0.0.1", "999.1.1.1", "127.0.0.1"},
        {"10.0.0.5", "203.0.113.7", "10.0.0.5"},
        {"2001:db8::5", "203.0.113.7", "2001:db8::5"},
        {"?", "203.0.113.7", "?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char c[64];
        snprintf(c, sizeof c, "%s", cases[i].peer);
        proxy_client_addr(c, sizeof c, cases[i].xri);
        CHECK(!strcmp(c, cases[i].want), "peer %s, X-Real-IP '%s': got %s, want %s",
              cases[i].peer, cases[i].xri, c, cases[i].want);
    }
    char c[64] = "127.0.0.1";
    proxy_client_addr(c, sizeof c, NULL);
    CHECK_STR(c, "127.0.0.1", "no header");
}

static tl_node N;

static long login(const char *user, const char *real_ip)
{
    char body[160], hdr[80];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"falsch-falsch-falsch\"}", user);
    snprintf(hdr, sizeof hdr, "X-Real-IP: %s", real_ip);
    tl_resp r;
    long st = tl_api(&r, &N, "POST", "/api/v1/session", NULL, body, hdr) ? -1 : r.status;
    tl_resp_free(&r);
    return st;
}

static void throttling(void)
{
    const char *a = "198.51.100.23", *b = "198.51.100.42";
    int refused = 0;
    for (int i = 0; i < 20; i++) {
        char user[32];
        snprintf(user, sizeof user, "unbekannt%d", i);
        refused += login(user, a) == 401;
    }
    CHECK_INT(refused, 20, "20 failed logins from one forwarded address");
    CHECK_INT(login("noch-einer", a), 429, "that address is throttled");
    CHECK_INT(login("noch-einer", b), 401, "another forwarded address is not");
}

int main(void)
{
    unit();
    if (tl_node_setup_role(&N, "proxy", "district", "15003", NULL)) {
        CHECK(0, "node starts");
        return tl_done();
    }
    throttling();
    CHECK_INT(tl_server_stop(&N.srv), 0, "node stops");
    return tl_done();
}
