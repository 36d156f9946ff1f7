/* Unit tests for federation/net: the SSRF guard, limits and batches.
 *
 * All traffic stays on loopback. The test servers listen on 127.0.0.1 and
 * on 127.0.0.2; the allowlist holds only 127.0.0.1/32, so every request to
 * 127.0.0.2 (directly, by a name mapped with CURLOPT_RESOLVE, or by a
 * redirect) must be refused before a connection is made, which the
 * 127.0.0.2 server proves by counting zero connections. No other address
 * outside 127.0.0.0/8 is ever contacted: the remaining addresses appear only
 * in the pure net_addr_allowed() table. */
#include "net.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Test servers                                                             */
/* ------------------------------------------------------------------------ */

struct srv {
    struct MHD_Daemon *d;
    int port;
    char ip[INET_ADDRSTRLEN];
    char base[64];         /* "http://IP:PORT" */
    atomic_int requests;    /* completed request headers seen */
    atomic_int connections; /* accepted connections */
    atomic_int cur, max;    /* in-flight /delay requests and their peak */
    atomic_int release;     /* lets /slow answer */
};

struct upload {
    char *data;
    size_t len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    uint64_t total = (uint64_t)(uintptr_t)cls;
    if (pos >= total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = (size_t)(total - pos);
    if (n > max)
        n = max;
    if (n > 700) /* several chunks */
        n = 700;
    memset(buf, 'y', n);
    return (ssize_t)n;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             const char *hname, const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct srv *s = cls;
    struct upload *u = *con_cls;
    (void)version;

    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size) {
        char *nd = realloc(u->data, u->len + *upload_data_size + 1);
        if (!nd)
            return MHD_NO;
        memcpy(nd + u->len, upload_data, *upload_data_size);
        u->data = nd;
        u->len += *upload_data_size;
        u->data[u->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&s->requests, 1);

    if (strcmp(url, "/ok") == 0) {
        return reply(c, 200, "hello", MHD_HTTP_HEADER_CONTENT_TYPE, "application/activity+json");
    }
    if (strcmp(url, "/fast") == 0)
        return reply(c, 200, "f", NULL, NULL);
    if (strcmp(url, "/echo") == 0) {
        const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
        const char *xt = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
        const char *ex = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
        char buf[1024];
        snprintf(buf, sizeof buf, "%s\n%s\n%s\n%s\n%s", method, ua ? ua : "-", xt ? xt : "-",
                 ex ? ex : "-", u->data ? u->data : "");
        return reply(c, 200, buf, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    }
    if (strcmp(url, "/big") == 0 || strcmp(url, "/chunked") == 0) {
        const char *ns = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
        size_t n = ns ? (size_t)strtoul(ns, NULL, 10) : 0;
        struct MHD_Response *r;
        if (url[1] == 'b') {
            char *body = malloc(n ? n : 1);
            if (!body)
                return MHD_NO;
            memset(body, 'x', n);
            r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
        } else {
            r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, chunk_reader,
                                                  (void *)(uintptr_t)n, NULL);
        }
        if (!r)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/slow") == 0) {
        for (int i = 0; i < 500 && !atomic_load(&s->release); i++)
            usleep(10000);
        return reply(c, 200, "late", NULL, NULL);
    }
    if (strcmp(url, "/delay") == 0) {
        int cur = atomic_fetch_add(&s->cur, 1) + 1;
        int m = atomic_load(&s->max);
        while (cur > m && !atomic_compare_exchange_weak(&s->max, &m, cur)) {
        }
        usleep(5000);
        atomic_fetch_sub(&s->cur, 1);
        return reply(c, 200, "d", NULL, NULL);
    }
    if (strcmp(url, "/redirect") == 0) {
        const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
        return reply(c, 302, "moved", MHD_HTTP_HEADER_LOCATION, to ? to : "/ok");
    }
    if (strcmp(url, "/loop") == 0)
        return reply(c, 302, "again", MHD_HTTP_HEADER_LOCATION, "/loop");
    if (strcmp(url, "/429") == 0)
        return reply(c, 429, "slow down", MHD_HTTP_HEADER_RETRY_AFTER, "120");
    if (strcmp(url, "/429date") == 0) {
        char date[64];
        time_t t = time(NULL) + 60;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        return reply(c, 429, "slow down", MHD_HTTP_HEADER_RETRY_AFTER, date);
    }
    if (strcmp(url, "/503") == 0)
        return reply(c, 503, "busy", NULL, NULL);
    return reply(c, 404, "not found", NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct upload *u = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (u) {
        free(u->data);
        free(u);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct srv *s = cls;
    (void)c;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s->connections, 1);
}

/* Starts a server on ip (a 127.0.0.x address) and port 0. */
static int srv_start(struct srv *s, const char *ip)
{
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *info;

    memset(s, 0, sizeof *s);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
        return -1;
    snprintf(s->ip, sizeof s->ip, "%s", ip);
    s->d = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_THREAD_PER_CONNECTION,
                            0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                            (const struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED, completed,
                            s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->d)
        return -1;
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        return -1;
    s->port = info->port;
    snprintf(s->base, sizeof s->base, "http://%s:%d", ip, s->port);
    return 0;
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->release, 1);
    if (s->d)
        MHD_stop_daemon(s->d);
    s->d = NULL;
}

/* A port on 127.0.0.1 that nobody listens on (bound, read, closed). */
static int closed_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    if (fd < 0)
        return 0;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* GET url under p (with an optional resolve list); returns the rc. */
static int get(const net_policy *p, const char *url, const char *const *resolve, net_resp *r)
{
    net_req q;
    memset(&q, 0, sizeof q);
    q.url = url;
    q.resolve = resolve;
    return net_request(p, &q, r, NULL, 0);
}

static void expect_refused(const net_policy *p, const char *url, const char *const *resolve,
                           const char *want_msg)
{
    net_resp r;
    char err[NET_ERROR_MAX];
    net_req q;
    memset(&q, 0, sizeof q);
    q.url = url;
    q.resolve = resolve;
    int rc = net_request(p, &q, &r, err, sizeof err);
    CHECK(rc == -1, "%s: rc %d", url, rc);
    CHECK(r.err == NET_ERR_REFUSED_ADDRESS, "%s: err %s (%s)", url, net_err_name(r.err),
          r.error);
    CHECK(r.status == 0 && r.body == NULL, "%s: no response expected", url);
    CHECK_STR(err, r.error, "err buffer copies resp.error");
    if (want_msg)
        CHECK_STR(r.error, want_msg, url);
    net_resp_free(&r);
}

static void expect_class(const net_policy *p, const char *url, net_err want)
{
    net_resp r;
    int rc = get(p, url, NULL, &r);
    CHECK(rc == -1 && r.err == want, "%s: rc %d err %s, want %s (%s)", url, rc,
          net_err_name(r.err), net_err_name(want), r.error);
    CHECK(r.error[0] != '\0', "%s: message set", url);
    net_resp_free(&r);
}

static bool addr_ok(const net_policy *p, const char *lit)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(lit, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(443);
        if (inet_pton(AF_INET6, lit, &s6->sin6_addr) != 1) {
            CHECK(0, "bad test literal %s", lit);
            return false;
        }
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(80);
        if (inet_pton(AF_INET, lit, &s4->sin_addr) != 1) {
            CHECK(0, "bad test literal %s", lit);
            return false;
        }
    }
    return net_addr_allowed(p, (const struct sockaddr *)&ss);
}

static char *addr_reason(const net_policy *p, const char *lit, char *why, size_t len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(lit, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, lit, &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, lit, &s4->sin_addr);
    }
    net_addr_check(p, (const struct sockaddr *)&ss, why, len);
    return why;
}

/* ------------------------------------------------------------------------ */
/* Pure tests                                                               */
/* ------------------------------------------------------------------------ */

static void test_policy_init(void)
{
    net_policy p;
    char err[200];

    CHECK(net_policy_init(&p, NULL, err, sizeof err) == 0, "NULL allowlist");
    CHECK_INT(p.nallow, 0, "no entries");
    CHECK_INT(p.max_response_bytes, 1 << 20, "default body limit");
    CHECK_INT(p.timeout_ms, 10000, "default timeout");
    CHECK_INT(p.connect_timeout_ms, 3000, "default connect timeout");
    CHECK_INT(p.max_redirects, 3, "default redirects");
    CHECK(net_policy_init(&p, "", err, sizeof err) == 0 && p.nallow == 0, "empty allowlist");
    CHECK(net_policy_init(&p, " 127.0.0.0/8 , 10.1.0.0/16,fd00::/8,::1 ,192.168.5.7,", err,
                          sizeof err) == 0,
          "list with spaces: %s", err);
    CHECK_INT(p.nallow, 5, "five entries");
    CHECK_INT(p.allow[3].prefix, 128, "bare IPv6 is /128");
    CHECK_INT(p.allow[4].prefix, 32, "bare IPv4 is /32");
    CHECK(net_policy_init(&p, "::ffff:10.9.0.0/112", err, sizeof err) == 0, "mapped CIDR");
    CHECK(p.allow[0].family == AF_INET && p.allow[0].prefix == 16, "mapped CIDR became IPv4/16");
    CHECK(net_policy_init(&p, "10.1.2.3/16", err, sizeof err) == 0, "host bits allowed");
    CHECK(p.allow[0].addr[2] == 0 && p.allow[0].addr[3] == 0, "host bits cleared");

    const char *bad[] = {"10.0.0.0/33", "abc", "::1/129", "1.2.3.4/", "1.2.3.4/x",
                         "1.2.3/8",     "10.0.0.0/-1", "fe80::1%lo/64", "1.2.3.4/0008",
                         "1.2.3.4 /8 x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char list[128];
        snprintf(list, sizeof list, "127.0.0.1/32,%s", bad[i]);
        err[0] = '\0';
        int rc = net_policy_init(&p, list, err, sizeof err);
        CHECK(rc == -1, "'%s' rejected", bad[i]);
        CHECK(strstr(err, bad[i]) != NULL, "message names '%s': %s", bad[i], err);
        CHECK_INT(p.nallow, 0, "allowlist empty after failure");
    }
    char many[2048] = "";
    for (int i = 0; i <= NET_POLICY_MAX_CIDRS; i++) {
        char item[32];
        snprintf(item, sizeof item, "%s10.%d.0.0/16", i ? "," : "", i);
        strncat(many, item, sizeof many - strlen(many) - 1);
    }
    CHECK(net_policy_init(&p, many, err, sizeof err) == -1, "too many entries rejected");
    CHECK(net_policy_init(&p, NULL, NULL, 0) == 0, "err may be NULL");
    CHECK(net_policy_init(&p, "nope", NULL, 0) == -1, "err may be NULL on failure");

    char ua[128];
    CHECK(net_user_agent(ua, sizeof ua, "https://lsa.example") == 0, "user agent");
    CHECK_STR(ua, "dinet/" DINET_VERSION " (+https://lsa.example)", "user agent text");
    CHECK(net_user_agent(ua, 8, "https://lsa.example") == -1 && ua[0] == '\0', "UA too long");
}

struct addr_case {
    const char *allow;
    const char *addr;
    bool ok;
};

static void test_addr_table(void)
{
    static const struct addr_case cases[] = {
        /* IPv4, no allowlist */
        {NULL, "8.8.8.8", true},
        {NULL, "1.1.1.1", true},
        {NULL, "93.184.216.34", true},
        {NULL, "11.0.0.1", true},
        {NULL, "126.255.255.255", true},
        {NULL, "128.0.0.1", true},
        {NULL, "127.0.0.1", false},
        {NULL, "127.0.0.2", false},
        {NULL, "127.255.255.254", false},
        {NULL, "0.0.0.0", false},
        {NULL, "0.1.2.3", false},
        {NULL, "10.0.0.1", false},
        {NULL, "10.255.255.255", false},
        {NULL, "9.255.255.255", true},
        {NULL, "172.15.255.255", true},
        {NULL, "172.16.0.1", false},
        {NULL, "172.31.255.255", false},
        {NULL, "172.32.0.0", true},
        {NULL, "192.168.0.1", false},
        {NULL, "192.168.255.255", false},
        {NULL, "192.169.0.1", true},
        {NULL, "169.254.169.254", false},
        {NULL, "169.253.0.1", true},
        {NULL, "100.63.255.255", true},
        {NULL, "100.64.0.1", false},
        {NULL, "100.127.255.255", false},
        {NULL, "100.128.0.0", true},
        {NULL, "224.0.0.1", false},
        {NULL, "239.255.255.250", false},
        {NULL, "240.0.0.1", false},
        {NULL, "255.255.255.255", false},
        {NULL, "192.0.2.1", false},
        {NULL, "198.51.100.7", false},
        {NULL, "203.0.113.9", false},
        {NULL, "198.18.0.1", false},
        /* IPv6, no allowlist */
        {NULL, "2001:4860:4860::8888", true},
        {NULL, "2a00:1450:4001::1", true},
        {NULL, "::", false},
        {NULL, "::1", false},
        {NULL, "::2", false},
        {NULL, "fc00::1", false},
        {NULL, "fd12:3456:789a::1", false},
        {NULL, "fe80::1", false},
        {NULL, "febf:ffff::1", false},
        {NULL, "fec0::1", false},
        {NULL, "ff02::1", false},
        {NULL, "ff0e::1", false},
        {NULL, "2001:db8::1", false},
        {NULL, "100::1", false},
        {NULL, "3fff::1", false},
        /* IPv4-mapped and -compatible IPv6 */
        {NULL, "::ffff:127.0.0.1", false},
        {NULL, "::ffff:127.0.0.2", false},
        {NULL, "::ffff:10.0.0.1", false},
        {NULL, "::ffff:172.16.0.1", false},
        {NULL, "::ffff:192.168.1.1", false},
        {NULL, "::ffff:169.254.169.254", false},
        {NULL, "::ffff:100.64.0.1", false},
        {NULL, "::ffff:224.0.0.1", false},
        {NULL, "::ffff:0.0.0.0", false},
        {NULL, "::ffff:255.255.255.255", false},
        {NULL, "::ffff:8.8.8.8", true},
        {NULL, "::127.0.0.1", false},
        /* NAT64 and 6to4 carrying IPv4 */
        {NULL, "64:ff9b::10.0.0.1", false},
        {NULL, "64:ff9b::127.0.0.1", false},
        {NULL, "64:ff9b::8.8.8.8", true},
        {NULL, "2002:7f00:1::1", false},
        {NULL, "2002:a9fe:a9fe::1", false},
        {NULL, "2002:808:808::1", true},
        /* allowlist of one loopback host */
        {"127.0.0.1/32", "127.0.0.1", true},
        {"127.0.0.1/32", "127.0.0.2", false},
        {"127.0.0.1/32", "::ffff:127.0.0.1", true},
        {"127.0.0.1/32", "::ffff:127.0.0.2", false},
        {"127.0.0.1/32", "::1", false},
        {"127.0.0.1/32", "10.0.0.1", false},
        {"127.0.0.1/32", "8.8.8.8", true},
        /* district network allowlists */
        {"10.1.0.0/16,fd00::/8", "10.1.2.3", true},
        {"10.1.0.0/16,fd00::/8", "10.1.255.255", true},
        {"10.1.0.0/16,fd00::/8", "10.2.0.1", false},
        {"10.1.0.0/16,fd00::/8", "10.0.255.255", false},
        {"10.1.0.0/16,fd00::/8", "::ffff:10.1.0.9", true},
        {"10.1.0.0/16,fd00::/8", "fd00::1", true},
        {"10.1.0.0/16,fd00::/8", "fdff:ffff::1", true},
        {"10.1.0.0/16,fd00::/8", "fc00::1", false},
        {"10.1.0.0/16,fd00::/8", "192.168.0.1", false},
        {"172.20.0.0/14", "172.23.255.255", true},
        {"172.20.0.0/14", "172.24.0.0", false},
        {"::ffff:127.0.0.0/104", "127.0.0.2", true},
        {"::ffff:127.0.0.0/104", "::ffff:127.9.9.9", true},
        {"::1", "::1", true},
        {"::1", "127.0.0.1", false},
        {"fe80::/10", "fe80::1", true},
        {"64:ff9b::/96", "64:ff9b::10.0.0.1", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        net_policy p;
        char err[200];
        if (net_policy_init(&p, cases[i].allow, err, sizeof err)) {
            CHECK(0, "policy %s: %s", cases[i].allow, err);
            continue;
        }
        bool got = addr_ok(&p, cases[i].addr);
        CHECK(got == cases[i].ok, "%s with allowlist %s: got %s", cases[i].addr,
              cases[i].allow ? cases[i].allow : "(none)", got ? "allowed" : "refused");
    }

    net_policy p;
    char why[200];
    net_policy_init(&p, "127.0.0.1/32", NULL, 0);
    CHECK(!net_addr_allowed(NULL, NULL), "NULL address refused");
    CHECK(addr_ok(NULL, "8.8.8.8") && !addr_ok(NULL, "127.0.0.1"), "NULL policy works");
    CHECK_STR(addr_reason(&p, "127.0.0.2", why, sizeof why),
              "refused: 127.0.0.2 is a loopback address not on the allowlist", "reason v4");
    CHECK_STR(addr_reason(&p, "::ffff:10.0.0.1", why, sizeof why),
              "refused: ::ffff:10.0.0.1 (IPv4 10.0.0.1) is a private address not on the "
              "allowlist",
              "reason mapped");
    CHECK_STR(addr_reason(&p, "fe80::1", why, sizeof why),
              "refused: fe80::1 is a link-local address not on the allowlist", "reason v6");
    CHECK_STR(addr_reason(&p, "100.64.1.1", why, sizeof why),
              "refused: 100.64.1.1 is a shared (CGNAT) address not on the allowlist",
              "reason cgnat");
    CHECK_STR(addr_reason(&p, "127.0.0.1", why, sizeof why), "", "no reason when allowed");

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    CHECK(!net_addr_check(&p, (const struct sockaddr *)&ss, why, sizeof why),
          "AF_UNIX refused");
    CHECK(strstr(why, "family") != NULL, "AF_UNIX reason: %s", why);
}

/* ------------------------------------------------------------------------ */
/* Single requests                                                          */
/* ------------------------------------------------------------------------ */

static void test_requests(struct srv *a, struct srv *b)
{
    net_policy p;
    net_resp r;
    char url[512], map[128], err[NET_ERROR_MAX];
    int rc;

    CHECK(net_policy_init(&p, "127.0.0.1/32", err, sizeof err) == 0, "policy: %s", err);

    /* Allowed server. */
    snprintf(url, sizeof url, "%s/ok", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.err == NET_OK, "GET allowed: rc %d %s", rc, r.error);
    CHECK_INT(r.status, 200, "status");
    CHECK_STR(r.body, "hello", "body");
    CHECK_INT(r.len, 5, "len");
    CHECK_STR(r.content_type, "application/activity+json", "content type");
    CHECK_STR(r.final_url, url, "final url");
    CHECK_INT(r.retry_after_seconds, -1, "no Retry-After");
    CHECK_STR(r.error, "", "no error");
    net_resp_free(&r);
    net_resp_free(&r);
    CHECK(r.body == NULL, "free is idempotent");

    /* Refused: literal 127.0.0.2 and other loopback forms. */
    char want[200];
    snprintf(url, sizeof url, "%s/ok", b->base);
    expect_refused(&p, url, NULL, "refused: 127.0.0.2 is a loopback address not on the allowlist");
    snprintf(url, sizeof url, "http://[::ffff:127.0.0.2]:%d/ok", b->port);
    expect_refused(&p, url, NULL, NULL);
    snprintf(url, sizeof url, "http://2130706434:%d/ok", b->port); /* 127.0.0.2 as one number */
    expect_refused(&p, url, NULL, NULL);
    snprintf(url, sizeof url, "http://127.2:%d/ok", b->port); /* 127.0.0.2, short form */
    expect_refused(&p, url, NULL, NULL);
    expect_refused(&p, "http://127.0.0.3/", NULL, NULL);
    int conns_before = atomic_load(&a->connections);
    snprintf(url, sizeof url, "http://[::1]:%d/ok", a->port);
    expect_refused(&p, url, NULL, "refused: ::1 is a loopback address not on the allowlist");
    snprintf(url, sizeof url, "http://0.0.0.0:%d/ok", a->port);
    expect_refused(&p, url, NULL, "refused: 0.0.0.0 is an unspecified address not on the "
                                  "allowlist");
    snprintf(url, sizeof url, "http://[::ffff:127.0.0.1]:%d/ok", a->port);
    rc = get(&p, url, NULL, &r); /* the mapped form of an allowlisted address */
    CHECK(rc == 0 && r.status == 200, "::ffff:127.0.0.1 allowed: %s", r.error);
    net_resp_free(&r);
    CHECK_INT(atomic_load(&a->connections), conns_before + 1,
              "refused ::1 and 0.0.0.0 made no connection to the 127.0.0.1 server");

    /* Host names mapped with CURLOPT_RESOLVE. */
    snprintf(map, sizeof map, "evil.example:%d:127.0.0.2", b->port);
    const char *evil[] = {map, NULL};
    snprintf(url, sizeof url, "http://evil.example:%d/ok", b->port);
    expect_refused(&p, url, evil, "refused: 127.0.0.2 is a loopback address not on the allowlist");
    char map2[128];
    snprintf(map2, sizeof map2, "good.example:%d:127.0.0.1", a->port);
    const char *good[] = {map2, NULL};
    snprintf(url, sizeof url, "http://good.example:%d/ok", a->port);
    rc = get(&p, url, good, &r);
    CHECK(rc == 0 && r.status == 200, "mapped to 127.0.0.1: rc %d %s", rc, r.error);
    net_resp_free(&r);
    /* A name with both answers: the refused one is skipped, the other used. */
    char map3[128];
    snprintf(map3, sizeof map3, "mixed.example:%d:127.0.0.2,127.0.0.1", a->port);
    const char *mixed[] = {map3, NULL};
    snprintf(url, sizeof url, "http://mixed.example:%d/ok", a->port);
    rc = get(&p, url, mixed, &r);
    CHECK(rc == 0 && r.status == 200, "mixed answers use the allowed one: rc %d %s", rc,
          r.error);
    net_resp_free(&r);

    /* Redirects. */
    snprintf(url, sizeof url, "%s/redirect?to=http://127.0.0.2:%d/ok", a->base, b->port);
    expect_refused(&p, url, NULL, "refused: 127.0.0.2 is a loopback address not on the allowlist");
    snprintf(url, sizeof url, "%s/redirect?to=http://evil.example:%d/ok", a->base, b->port);
    expect_refused(&p, url, evil, NULL);
    snprintf(url, sizeof url, "%s/redirect?to=/ok", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.status == 200, "redirect to allowed: rc %d %s", rc, r.error);
    CHECK_STR(r.body, "hello", "redirected body (not the 302's)");
    snprintf(want, sizeof want, "%s/ok", a->base);
    CHECK_STR(r.final_url, want, "final url after redirect");
    net_resp_free(&r);
    snprintf(url, sizeof url, "%s/redirect?to=file:///etc/passwd", a->base);
    expect_class(&p, url, NET_ERR_PROTOCOL);
    snprintf(url, sizeof url, "%s/redirect?to=ftp://127.0.0.1/", a->base);
    expect_class(&p, url, NET_ERR_PROTOCOL);
    snprintf(url, sizeof url, "%s/loop", a->base);
    expect_class(&p, url, NET_ERR_PROTOCOL);
    {
        net_policy p0 = p;
        p0.max_redirects = 0;
        snprintf(url, sizeof url, "%s/redirect?to=/ok", a->base);
        rc = get(&p0, url, NULL, &r);
        CHECK(rc == 0 && r.status == 302, "max_redirects 0 returns the 302: rc %d %ld", rc,
              r.status);
        CHECK_STR(r.body, "moved", "302 body");
        net_resp_free(&r);
    }

    /* Schemes and bad input. */
    expect_class(&p, "file:///etc/passwd", NET_ERR_PROTOCOL);
    expect_class(&p, "ftp://127.0.0.1/", NET_ERR_PROTOCOL);
    expect_class(&p, "gopher://127.0.0.1/", NET_ERR_PROTOCOL);
    expect_class(&p, "not a url", NET_ERR_PROTOCOL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port());
    expect_class(&p, url, NET_ERR_CONNECT);

    int before = atomic_load(&a->requests);
    {
        net_req q;
        memset(&q, 0, sizeof q);
        snprintf(url, sizeof url, "%s/echo", a->base);
        q.url = url;
        const char *bad_hdr[] = {"X-Test: a\r\nX-Injected: 1", NULL};
        q.headers = bad_hdr;
        CHECK(net_request(&p, &q, &r, err, sizeof err) == -1 && r.err == NET_ERR_OTHER,
              "header with CRLF rejected");
        CHECK(strstr(err, "CR") != NULL, "message: %s", err);
        net_resp_free(&r);
        q.headers = NULL;
        q.method = "GET /x HTTP/1.1\r\n";
        CHECK(net_request(&p, &q, &r, NULL, 0) == -1 && r.err == NET_ERR_OTHER,
              "bad method rejected");
        net_resp_free(&r);
        q.method = "GET";
        q.user_agent = "x\r\nX-Injected: 1";
        CHECK(net_request(&p, &q, &r, NULL, 0) == -1 && r.err == NET_ERR_OTHER,
              "UA with CRLF rejected");
        net_resp_free(&r);
        CHECK(net_request(&p, NULL, &r, NULL, 0) == -1 && r.err == NET_ERR_OTHER, "NULL req");
        net_resp_free(&r);
    }
    CHECK_INT(atomic_load(&a->requests), before, "rejected requests never reached the server");

    /* Method, headers, body and User-Agent arrive as given. */
    {
        char ua[128];
        net_user_agent(ua, sizeof ua, "https://lsa.example");
        const char *hdrs[] = {"X-Test: yes", "Content-Type: application/activity+json", NULL};
        net_req q;
        memset(&q, 0, sizeof q);
        snprintf(url, sizeof url, "%s/echo", a->base);
        q.method = "POST";
        q.url = url;
        q.headers = hdrs;
        q.body = "{\"a\":1}";
        q.body_len = 7;
        q.user_agent = ua;
        rc = net_request(&p, &q, &r, err, sizeof err);
        CHECK(rc == 0 && r.status == 200, "POST: rc %d %s", rc, err);
        CHECK_STR(r.body, "POST\ndinet/" DINET_VERSION " (+https://lsa.example)\nyes\n-\n{\"a\":1}",
                  "echo POST");
        net_resp_free(&r);

        q.method = "PUT";
        q.body = "abc\0def"; /* embedded NUL: body_len counts */
        q.body_len = 3;
        rc = net_request(&p, &q, &r, err, sizeof err);
        CHECK_STR(rc == 0 ? r.body : err, "PUT\ndinet/" DINET_VERSION " (+https://lsa.example)\nyes\n-\nabc",
                  "echo PUT");
        net_resp_free(&r);

        q.method = NULL;
        q.body = "ignored";
        q.body_len = 7;
        q.user_agent = NULL;
        q.headers = NULL;
        rc = net_request(&p, &q, &r, err, sizeof err);
        CHECK_STR(rc == 0 ? r.body : err, "GET\ndinet/" DINET_VERSION "\n-\n-\n", "echo GET");
        net_resp_free(&r);

        q.method = "DELETE";
        q.body = NULL;
        q.body_len = 0;
        rc = net_request(&p, &q, &r, err, sizeof err);
        CHECK_STR(rc == 0 ? r.body : err, "DELETE\ndinet/" DINET_VERSION "\n-\n-\n",
                  "echo DELETE");
        net_resp_free(&r);

        snprintf(url, sizeof url, "%s/ok", a->base);
        q.method = "HEAD";
        rc = net_request(&p, &q, &r, err, sizeof err);
        CHECK(rc == 0 && r.status == 200 && r.len == 0 && r.body && r.body[0] == '\0',
              "HEAD: rc %d status %ld len %zu", rc, r.status, r.len);
        net_resp_free(&r);
    }

    /* Statuses and Retry-After. */
    snprintf(url, sizeof url, "%s/429", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.status == 429, "429: rc %d status %ld", rc, r.status);
    CHECK_INT(r.retry_after_seconds, 120, "Retry-After seconds");
    CHECK_STR(r.body, "slow down", "429 body kept");
    net_resp_free(&r);
    snprintf(url, sizeof url, "%s/429date", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.status == 429, "429 date: rc %d", rc);
    CHECK(r.retry_after_seconds >= 55 && r.retry_after_seconds <= 61,
          "Retry-After HTTP-date: %ld", r.retry_after_seconds);
    net_resp_free(&r);
    snprintf(url, sizeof url, "%s/503", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.status == 503 && r.err == NET_OK, "503: rc %d status %ld", rc, r.status);
    CHECK_INT(r.retry_after_seconds, -1, "503 without Retry-After");
    net_resp_free(&r);
    snprintf(url, sizeof url, "%s/missing", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.status == 404, "404: rc %d status %ld", rc, r.status);
    net_resp_free(&r);
}

static void test_limits(struct srv *a)
{
    net_policy p;
    net_resp r;
    char url[256];
    int rc;

    net_policy_init(&p, "127.0.0.1/32", NULL, 0);
    snprintf(url, sizeof url, "%s/big?n=2000000", a->base);
    expect_class(&p, url, NET_ERR_TOO_LARGE);
    snprintf(url, sizeof url, "%s/big?n=1048576", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.len == 1048576, "exactly 1 MiB passes: rc %d %s", rc, r.error);
    net_resp_free(&r);

    p.max_response_bytes = SIZE_MAX;
    snprintf(url, sizeof url, "%s/ok", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.status == 200, "SIZE_MAX limit works: %s", r.error);
    net_resp_free(&r);
    p.max_response_bytes = 0;
    expect_class(&p, url, NET_ERR_TOO_LARGE);

    p.max_response_bytes = 1000;
    snprintf(url, sizeof url, "%s/big?n=1000", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.len == 1000 && r.body[999] == 'x' && r.body[1000] == '\0',
          "body at the limit: rc %d len %zu", rc, r.len);
    net_resp_free(&r);
    snprintf(url, sizeof url, "%s/big?n=1001", a->base);
    expect_class(&p, url, NET_ERR_TOO_LARGE);
    snprintf(url, sizeof url, "%s/chunked?n=1000", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == 0 && r.len == 1000, "chunked at the limit: rc %d len %zu %s", rc, r.len,
          r.error);
    net_resp_free(&r);
    snprintf(url, sizeof url, "%s/chunked?n=5000", a->base);
    rc = get(&p, url, NULL, &r);
    CHECK(rc == -1 && r.err == NET_ERR_TOO_LARGE, "chunked over the limit: %s", r.error);
    CHECK(strstr(r.error, "1000 bytes") != NULL, "message names the limit: %s", r.error);
    net_resp_free(&r);

    /* Timeout: the server holds /slow until released. */
    p.timeout_ms = 1000;
    atomic_store(&a->release, 0);
    snprintf(url, sizeof url, "%s/slow", a->base);
    double t0 = now_s();
    rc = get(&p, url, NULL, &r);
    double dt = now_s() - t0;
    atomic_store(&a->release, 1);
    CHECK(rc == -1 && r.err == NET_ERR_TIMEOUT, "slow server: %s (%s)", net_err_name(r.err),
          r.error);
    /* Behaviour, not speed: the timeout must not fire early. */
    CHECK(dt >= 0.9, "timed out after %.2f s, not before the 1 s limit", dt);
    net_resp_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

static void test_batch_concurrency(void)
{
    enum { NSRV = 3, NREQ = 300 };
    struct srv *s = calloc(NSRV, sizeof *s);
    net_req *reqs = calloc(NREQ, sizeof *reqs);
    net_resp *resps = calloc(NREQ, sizeof *resps);
    char (*urls)[128] = calloc(NREQ, sizeof *urls);
    net_policy p;
    int started = 1;

    net_policy_init(&p, "127.0.0.1/32", NULL, 0);
    for (int i = 0; i < NSRV; i++)
        if (srv_start(&s[i], "127.0.0.1"))
            started = 0;
    CHECK(started, "servers started");
    if (!started)
        goto out;
    for (int i = 0; i < NREQ; i++) {
        snprintf(urls[i], sizeof urls[i], "%s/delay", s[i % NSRV].base);
        reqs[i].url = urls[i];
    }
    double t0 = now_s();
    int rc = net_batch(&p, reqs, NREQ, resps, 4, 64);
    double dt = now_s() - t0;
    CHECK(rc == 0, "batch ran");
    int ok = 0;
    for (int i = 0; i < NREQ; i++)
        if (resps[i].err == NET_OK && resps[i].status == 200 && strcmp(resps[i].body, "d") == 0)
            ok++;
        else if (ok == i)
            fprintf(stderr, "  request %d: %s\n", i, resps[i].error);
    CHECK_INT(ok, NREQ, "all requests succeeded");
    for (int i = 0; i < NSRV; i++) {
        int mx = atomic_load(&s[i].max), conns = atomic_load(&s[i].connections);
        printf("  server %d: %d requests, max %d concurrent, %d connections\n", i,
               atomic_load(&s[i].requests), mx, conns);
        CHECK_INT(atomic_load(&s[i].requests), NREQ / NSRV, "requests per server");
        CHECK(mx <= 4, "server %d saw %d concurrent requests (limit 4)", i, mx);
        CHECK(mx >= 2, "server %d ran requests concurrently (max %d)", i, mx);
        CHECK(conns <= 8, "server %d: %d connections for 100 requests (keep-alive)", i, conns);
    }
    printf("  300 requests over 3 hosts, 4 per host, 5 ms each: %.3f s\n", dt);
    for (int i = 0; i < NREQ; i++)
        net_resp_free(&resps[i]);

    /* max_total caps the sum over hosts. */
    for (int i = 0; i < NSRV; i++)
        atomic_store(&s[i].max, 0);
    rc = net_batch(&p, reqs, 60, resps, 10, 1);
    ok = 0;
    for (int i = 0; i < 60; i++)
        ok += resps[i].err == NET_OK && resps[i].status == 200;
    CHECK(rc == 0 && ok == 60, "max_total 1: %d ok", ok);
    for (int i = 0; i < NSRV; i++)
        CHECK(atomic_load(&s[i].max) == 1, "max_total 1: server %d max %d", i,
              atomic_load(&s[i].max));
    for (int i = 0; i < 60; i++)
        net_resp_free(&resps[i]);
    /* One host, max_per_host 3. */
    for (int i = 0; i < 60; i++)
        snprintf(urls[i], sizeof urls[i], "%s/delay", s[0].base);
    atomic_store(&s[0].max, 0);
    rc = net_batch(&p, reqs, 60, resps, 3, 64);
    ok = 0;
    for (int i = 0; i < 60; i++)
        ok += resps[i].err == NET_OK && resps[i].status == 200;
    CHECK(rc == 0 && ok == 60, "one host: %d ok", ok);
    CHECK(atomic_load(&s[0].max) <= 3, "one host: max %d", atomic_load(&s[0].max));
    for (int i = 0; i < 60; i++)
        net_resp_free(&resps[i]);
out:
    for (int i = 0; i < NSRV; i++)
        srv_stop(&s[i]);
    free(s);
    free(reqs);
    free(resps);
    free(urls);
}

static void test_batch_mixed(struct srv *a, struct srv *b)
{
    enum { N = 9 };
    net_req reqs[N];
    net_resp resps[N];
    char urls[N][160], map[128];
    net_policy p;

    net_policy_init(&p, "127.0.0.1/32", NULL, 0);
    p.timeout_ms = 1000;
    memset(reqs, 0, sizeof reqs);
    snprintf(map, sizeof map, "evil.example:%d:127.0.0.2", b->port);
    const char *evil[] = {map, NULL};
    snprintf(urls[0], sizeof urls[0], "%s/ok", a->base);
    snprintf(urls[1], sizeof urls[1], "%s/ok", b->base);
    snprintf(urls[2], sizeof urls[2], "http://evil.example:%d/ok", b->port);
    snprintf(urls[3], sizeof urls[3], "%s/slow", a->base);
    snprintf(urls[4], sizeof urls[4], "%s/missing", a->base);
    snprintf(urls[5], sizeof urls[5], "::not a url");
    snprintf(urls[6], sizeof urls[6], "%s/redirect?to=http://127.0.0.2:%d/ok", a->base, b->port);
    snprintf(urls[7], sizeof urls[7], "%s/429", a->base);
    snprintf(urls[8], sizeof urls[8], "%s/echo", a->base);
    for (int i = 0; i < N; i++)
        reqs[i].url = urls[i];
    reqs[2].resolve = evil;
    reqs[8].method = "POST";
    reqs[8].body = "payload";
    reqs[8].body_len = 7;
    atomic_store(&a->release, 0);
    int rc = net_batch(&p, reqs, N, resps, 2, 4);
    atomic_store(&a->release, 1);
    CHECK(rc == 0, "mixed batch ran");
    CHECK(resps[0].err == NET_OK && resps[0].status == 200, "[0] ok: %s", resps[0].error);
    CHECK_STR(resps[0].content_type, "application/activity+json", "[0] content type");
    CHECK(resps[1].err == NET_ERR_REFUSED_ADDRESS, "[1] refused: %s", resps[1].error);
    CHECK_STR(resps[1].error, "refused: 127.0.0.2 is a loopback address not on the allowlist",
              "[1] message");
    CHECK(resps[2].err == NET_ERR_REFUSED_ADDRESS, "[2] refused: %s", resps[2].error);
    CHECK(resps[3].err == NET_ERR_TIMEOUT, "[3] timeout: %s", resps[3].error);
    CHECK(resps[4].err == NET_OK && resps[4].status == 404, "[4] 404");
    CHECK(resps[5].err == NET_ERR_PROTOCOL, "[5] bad url: %s", resps[5].error);
    CHECK(resps[6].err == NET_ERR_REFUSED_ADDRESS, "[6] redirect refused: %s", resps[6].error);
    CHECK(resps[7].status == 429 && resps[7].retry_after_seconds == 120, "[7] 429");
    CHECK(resps[8].status == 200 && resps[8].body && strstr(resps[8].body, "payload"),
          "[8] POST body");
    for (int i = 0; i < N; i++)
        net_resp_free(&resps[i]);

    CHECK(net_batch(&p, reqs, 0, resps, 1, 1) == 0, "empty batch");
    CHECK(net_batch(NULL, reqs, 2, resps, 1, 1) == -1 && resps[0].err == NET_ERR_OTHER &&
              resps[1].err == NET_ERR_OTHER,
          "batch without policy");
    net_resp_free(&resps[0]);
    net_resp_free(&resps[1]);
}

/* Many hosts: names h0.test .. h99.test all mapped to one server. */
static void test_batch_scale(struct srv *a)
{
    enum { NHOST = 100, NREQ = 1000 };
    net_req *reqs = calloc(NREQ, sizeof *reqs);
    net_resp *resps = calloc(NREQ, sizeof *resps);
    char (*urls)[96] = calloc(NREQ, sizeof *urls);
    char (*maps)[64] = calloc(NHOST, sizeof *maps);
    const char *(*lists)[2] = calloc(NHOST, sizeof *lists);
    net_policy p;

    net_policy_init(&p, "127.0.0.1/32", NULL, 0);
    for (int h = 0; h < NHOST; h++) {
        snprintf(maps[h], sizeof maps[h], "h%d.test:%d:127.0.0.1", h, a->port);
        lists[h][0] = maps[h];
        lists[h][1] = NULL;
    }
    for (int i = 0; i < NREQ; i++) {
        int h = i % NHOST;
        snprintf(urls[i], sizeof urls[i], "http://h%d.test:%d/fast", h, a->port);
        reqs[i].url = urls[i];
        reqs[i].resolve = lists[h];
    }
    for (int round = 0; round < 2; round++) {
        size_t n = round == 0 ? NHOST : NREQ;
        double t0 = now_s();
        int rc = net_batch(&p, reqs, n, resps, 4, 64);
        double dt = now_s() - t0;
        int ok = 0;
        for (size_t i = 0; i < n; i++)
            if (resps[i].err == NET_OK && resps[i].status == 200)
                ok++;
            else if ((size_t)ok == i)
                fprintf(stderr, "  request %zu: %s\n", i, resps[i].error);
        CHECK(rc == 0 && ok == (int)n, "%zu requests over %d hosts: %d ok", n, NHOST, ok);
        printf("  %zu requests over %d hosts: %.3f s\n", n, NHOST, dt);
        for (size_t i = 0; i < n; i++)
            net_resp_free(&resps[i]);
    }
    free(reqs);
    free(resps);
    free(urls);
    free(maps);
    free(lists);
}

int main(void)
{
    struct srv a, b;

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_policy_init();
    test_addr_table();

    if (srv_start(&a, "127.0.0.1") || srv_start(&b, "127.0.0.2")) {
        CHECK(0, "test servers did not start");
        goto out;
    }
    test_requests(&a, &b);
    test_limits(&a);
    test_batch_mixed(&a, &b);
    test_batch_scale(&a);
    test_batch_concurrency();

    /* Nothing reached 127.0.0.2 ... */
    CHECK_INT(atomic_load(&b.connections), 0, "connections to 127.0.0.2");
    CHECK_INT(atomic_load(&b.requests), 0, "requests to 127.0.0.2");
    /* ... although it was reachable all along: allowlisted, it answers. */
    {
        net_policy p;
        net_resp r;
        char url[128];
        net_policy_init(&p, "127.0.0.0/8", NULL, 0);
        snprintf(url, sizeof url, "%s/ok", b.base);
        int rc = get(&p, url, NULL, &r);
        CHECK(rc == 0 && r.status == 200, "127.0.0.2 reachable when allowlisted: %s", r.error);
        net_resp_free(&r);
        CHECK_INT(atomic_load(&b.connections), 1, "control connection counted");
    }
out:
    srv_stop(&a);
    srv_stop(&b);
    curl_global_cleanup();
    return tl_done();
}
