/* SSRF guard at the node: outbound fetches to loopback, private or other
 * internal addresses are refused before any connection unless the address
 * is on the node's allowlist, and every redirect hop is checked again.
 * Only 127.0.0.0/8 is ever contacted. */
#include "testlib.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

static atomic_int hits;

static enum MHD_Result sink(void *cls, struct MHD_Connection *c, const char *url,
                            const char *method, const char *version, const char *data,
                            size_t *size, void **rc)
{
    (void)cls;
    (void)method;
    (void)version;
    (void)data;
    (void)size;
    if (!*rc) {
        *rc = (void *)1;
        return MHD_YES;
    }
    atomic_fetch_add(&hits, 1);
    struct MHD_Response *r;
    unsigned status = 200;
    if (strncmp(url, "/redirect", 9) == 0) {
        r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", url + 9); /* /redirect<URL> */
        status = 302;
    } else {
        const char *body = "{\"id\":\"x\"}";
        r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *start_sink(const char *ip, int *port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.sin_addr);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, sink, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
    const union MHD_DaemonInfo *di = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    *port = di ? di->port : 0;
    return d;
}

static long follow(tl_node *n, const char *target, char **detail)
{
    char body[512];
    snprintf(body, sizeof body, "{\"target\":\"%s\"}", target);
    tl_resp r;
    tl_api(&r, n, "POST", "/api/v1/federation/following", n->token[TL_EDITOR], body, NULL);
    long st = r.status;
    if (detail)
        *detail = strdup(json_string_value(json_object_get(r.json, "detail"))
                             ? json_string_value(json_object_get(r.json, "detail"))
                             : "");
    tl_resp_free(&r);
    return st;
}

int main(void)
{
    int p1 = 0, p2 = 0;
    struct MHD_Daemon *s1 = start_sink("127.0.0.1", &p1);
    struct MHD_Daemon *s2 = start_sink("127.0.0.2", &p2);
    CHECK(s1 && s2, "sinks on 127.0.0.1 and 127.0.0.2");

    /* A node that may reach 127.0.0.1 only. */
    tl_node n;
    const char *allow1[] = {"--allow-private", "127.0.0.1/32", NULL};
    if (tl_node_setup(&n, "ssrf", allow1)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    char url[256], *detail = NULL;
    snprintf(url, sizeof url, "http://127.0.0.2:%d/actor", p2);
    atomic_store(&hits, 0);
    CHECK_INT(follow(&n, url, &detail), 422, "127.0.0.2 is not on the allowlist");
    CHECK(detail && strstr(detail, "refused"), "the reason says refused: %s", detail);
    CHECK_INT(atomic_load(&hits), 0, "no request reached 127.0.0.2");
    free(detail);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirecthttp://127.0.0.2:%d/actor", p1, p2);
    atomic_store(&hits, 0);
    CHECK_INT(follow(&n, url, &detail), 422, "a redirect to 127.0.0.2 is refused at the hop");
    CHECK_INT(atomic_load(&hits), 1, "only the allowed first hop was contacted");
    free(detail);

    snprintf(url, sizeof url, "http://[::1]:%d/actor", p1);
    CHECK_INT(follow(&n, url, NULL), 422, "::1 is loopback too");
    tl_server_stop(&n.srv);
    free(n.dir);

    /* A node with the default policy reaches no internal address at all. */
    tl_node m;
    if (tl_node_setup(&m, "ssrf-default", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/actor", p1);
    atomic_store(&hits, 0);
    CHECK_INT(follow(&m, url, &detail), 422, "default policy refuses loopback");
    CHECK_INT(atomic_load(&hits), 0, "nothing was contacted");
    free(detail);
    CHECK_INT(follow(&m, "acct:someone@127.0.0.1", NULL), 422,
              "WebFinger to an internal host is refused too");
    CHECK_INT(atomic_load(&hits), 0, "still nothing contacted");
    tl_server_stop(&m.srv);
    free(m.dir);

    /* A bad allowlist is a clear init error. */
    char *d = tl_tmpdir("ssrf-bad");
    char data[600];
    snprintf(data, sizeof data, "%s/node", d);
    const char *bad[] = {"init", "--data", data, "--role", "district", "--district", "15003",
                         "--base-url", "http://127.0.0.1:1", "--allow-private", "127.0.0.0/99",
                         NULL};
    CHECK(tl_dinet(NULL, NULL, bad) != 0, "an invalid CIDR is refused at init");
    free(d);
    MHD_stop_daemon(s1);
    MHD_stop_daemon(s2);
    return tl_done();
}
