/* The outbound HTTP client; see net.h. */
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef DINET_VERSION
#define DINET_VERSION "0"
#endif

/* Longest allowlist item we parse ("ffff:...:ffff/128" is 43 characters). */
#define CIDR_TEXT_MAX 64
/* Longest method name we send. */
#define METHOD_MAX 16
/* Longest Retry-After value we look at. */
#define RETRY_AFTER_MAX 128
/* Retry-After delays are clamped to this (about 31 years). */
#define RETRY_AFTER_CAP 999999999L
/* Idle connections a batch keeps at most (each one is a file descriptor). */
#define BATCH_MAX_CONNECTS 256
/* Longest time curl_multi_poll sleeps in one call. */
#define BATCH_POLL_MS 1000

/* ------------------------------------------------------------------------ */
/* Address classification                                                   */
/* ------------------------------------------------------------------------ */

typedef enum addr_class {
    AC_PUBLIC,
    AC_UNSPECIFIED,
    AC_LOOPBACK,
    AC_PRIVATE,
    AC_LINK_LOCAL,
    AC_MULTICAST,
    AC_CGNAT,
    AC_BROADCAST,
    AC_RESERVED
} addr_class;

static const char *class_text(addr_class c)
{
    switch (c) {
    case AC_UNSPECIFIED:
        return "an unspecified address";
    case AC_LOOPBACK:
        return "a loopback address";
    case AC_PRIVATE:
        return "a private address";
    case AC_LINK_LOCAL:
        return "a link-local address";
    case AC_MULTICAST:
        return "a multicast address";
    case AC_CGNAT:
        return "a shared (CGNAT) address";
    case AC_BROADCAST:
        return "a broadcast address";
    case AC_RESERVED:
        return "a reserved address";
    case AC_PUBLIC:
        break;
    }
    return "a public address";
}

/* A special-purpose range; the first match in a table wins. */
struct range {
    unsigned char net[16];
    unsigned prefix;
    addr_class cls;
};

static const struct range v4_ranges[] = {
    {{0, 0, 0, 0}, 8, AC_UNSPECIFIED},          /* "this network" */
    {{10, 0, 0, 0}, 8, AC_PRIVATE},             /* RFC 1918 */
    {{100, 64, 0, 0}, 10, AC_CGNAT},            /* RFC 6598 shared space */
    {{127, 0, 0, 0}, 8, AC_LOOPBACK},
    {{169, 254, 0, 0}, 16, AC_LINK_LOCAL},
    {{172, 16, 0, 0}, 12, AC_PRIVATE},          /* RFC 1918 */
    {{192, 0, 0, 0}, 24, AC_RESERVED},          /* IETF protocol assignments */
    {{192, 0, 2, 0}, 24, AC_RESERVED},          /* TEST-NET-1 */
    {{192, 88, 99, 0}, 24, AC_RESERVED},        /* former 6to4 relay anycast */
    {{192, 168, 0, 0}, 16, AC_PRIVATE},         /* RFC 1918 */
    {{198, 18, 0, 0}, 15, AC_RESERVED},         /* benchmarking */
    {{198, 51, 100, 0}, 24, AC_RESERVED},       /* TEST-NET-2 */
    {{203, 0, 113, 0}, 24, AC_RESERVED},        /* TEST-NET-3 */
    {{224, 0, 0, 0}, 4, AC_MULTICAST},
    {{255, 255, 255, 255}, 32, AC_BROADCAST},   /* limited broadcast */
    {{240, 0, 0, 0}, 4, AC_RESERVED},           /* future use */
};

static const struct range v6_ranges[] = {
    {{0}, 128, AC_UNSPECIFIED},                               /* :: */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, AC_LOOPBACK}, /* ::1 */
    {{0}, 8, AC_RESERVED},           /* ::/8: IPv4-compatible, NAT64 local use, ... */
    {{0x01, 0x00}, 64, AC_RESERVED}, /* 100::/64 discard-only */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, AC_RESERVED}, /* 2001:db8::/32 documentation */
    {{0x3f, 0xff, 0x00}, 20, AC_RESERVED},       /* 3fff::/20 documentation */
    {{0xfc}, 7, AC_PRIVATE},                     /* unique local */
    {{0xfe, 0x80}, 10, AC_LINK_LOCAL},
    {{0xfe, 0xc0}, 10, AC_PRIVATE},              /* deprecated site-local */
    {{0xff}, 8, AC_MULTICAST},
};

/* The IPv6 prefixes that carry an IPv4 address. */
static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const unsigned char nat64_prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
static const unsigned char sixtofour_prefix[2] = {0x20, 0x02};

/* True when the first prefix bits of a and net agree. */
static bool prefix_match(const unsigned char *a, const unsigned char *net, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static addr_class classify(const struct range *t, size_t n, const unsigned char *a)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_match(a, t[i].net, t[i].prefix))
            return t[i].cls;
    return AC_PUBLIC;
}

static bool allowlisted(const net_policy *p, int family, const unsigned char *a)
{
    if (!p)
        return false;
    for (size_t i = 0; i < p->nallow && i < NET_POLICY_MAX_CIDRS; i++)
        if (p->allow[i].family == family && prefix_match(a, p->allow[i].addr, p->allow[i].prefix))
            return true;
    return false;
}

bool net_addr_check(const net_policy *p, const struct sockaddr *sa, char *why, size_t whylen)
{
    unsigned char a6[16], a4[4];
    char shown[INET6_ADDRSTRLEN] = "?", inner[INET_ADDRSTRLEN] = "";
    addr_class cls = AC_PUBLIC;
    bool ok = false;

    if (why && whylen)
        why[0] = '\0';
    if (!sa) {
        if (why && whylen)
            snprintf(why, whylen, "refused: no address");
        goto out;
    }
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in s4;
        memcpy(&s4, sa, sizeof s4);
        memcpy(a4, &s4.sin_addr, 4);
        inet_ntop(AF_INET, a4, shown, sizeof shown);
        if (allowlisted(p, AF_INET, a4)) {
            ok = true;
            goto out;
        }
        cls = classify(v4_ranges, sizeof v4_ranges / sizeof v4_ranges[0], a4);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, sa, sizeof s6);
        memcpy(a6, &s6.sin6_addr, 16);
        inet_ntop(AF_INET6, a6, shown, sizeof shown);
        if (memcmp(a6, v4_mapped_prefix, 12) == 0) {
            /* An IPv4 connection in IPv6 clothing: judge the IPv4 address. */
            memcpy(a4, a6 + 12, 4);
            inet_ntop(AF_INET, a4, inner, sizeof inner);
            if (allowlisted(p, AF_INET, a4)) {
                ok = true;
                goto out;
            }
            cls = classify(v4_ranges, sizeof v4_ranges / sizeof v4_ranges[0], a4);
        } else {
            if (allowlisted(p, AF_INET6, a6)) {
                ok = true;
                goto out;
            }
            /* NAT64 and 6to4 translate to the embedded IPv4 address. */
            bool embeds = false;
            if (memcmp(a6, nat64_prefix, 12) == 0) {
                memcpy(a4, a6 + 12, 4);
                embeds = true;
            } else if (memcmp(a6, sixtofour_prefix, 2) == 0) {
                memcpy(a4, a6 + 2, 4);
                embeds = true;
            }
            if (embeds) {
                cls = classify(v4_ranges, sizeof v4_ranges / sizeof v4_ranges[0], a4);
                if (cls != AC_PUBLIC)
                    inet_ntop(AF_INET, a4, inner, sizeof inner);
            } else {
                cls = classify(v6_ranges, sizeof v6_ranges / sizeof v6_ranges[0], a6);
            }
        }
    } else {
        if (why && whylen)
            snprintf(why, whylen, "refused: address family %d is not IPv4 or IPv6",
                     (int)sa->sa_family);
        goto out;
    }
    if (cls == AC_PUBLIC) {
        ok = true;
        goto out;
    }
    if (why && whylen) {
        if (inner[0])
            snprintf(why, whylen, "refused: %s (IPv4 %s) is %s not on the allowlist", shown,
                     inner, class_text(cls));
        else
            snprintf(why, whylen, "refused: %s is %s not on the allowlist", shown,
                     class_text(cls));
    }
out:
    return ok;
}

bool net_addr_allowed(const net_policy *p, const struct sockaddr *sa)
{
    return net_addr_check(p, sa, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Policy                                                                   */
/* ------------------------------------------------------------------------ */

/* Parses one CIDR item (no surrounding spaces) into *c. Returns 0 or -1. */
static int parse_cidr(const char *item, size_t len, net_cidr *c)
{
    char text[CIDR_TEXT_MAX];
    char *slash;
    unsigned max, prefix;
    int rc = -1;

    if (len == 0 || len >= sizeof text)
        goto out;
    memcpy(text, item, len);
    text[len] = '\0';
    memset(c, 0, sizeof *c);
    slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    if (strchr(text, ':')) {
        if (inet_pton(AF_INET6, text, c->addr) != 1)
            goto out;
        c->family = AF_INET6;
        max = 128;
    } else {
        if (inet_pton(AF_INET, text, c->addr) != 1)
            goto out;
        c->family = AF_INET;
        max = 32;
    }
    prefix = max;
    if (slash) {
        const char *d = slash + 1;
        size_t nd = strlen(d);
        if (nd == 0 || nd > 3)
            goto out;
        prefix = 0;
        for (size_t i = 0; i < nd; i++) {
            if (d[i] < '0' || d[i] > '9')
                goto out;
            prefix = prefix * 10 + (unsigned)(d[i] - '0');
        }
        if (prefix > max)
            goto out;
    }
    if (c->family == AF_INET6 && prefix >= 96 && memcmp(c->addr, v4_mapped_prefix, 12) == 0) {
        /* ::ffff:a.b.c.d/len is the IPv4 CIDR a.b.c.d/(len - 96). */
        memmove(c->addr, c->addr + 12, 4);
        memset(c->addr + 4, 0, 12);
        c->family = AF_INET;
        prefix -= 96;
    }
    c->prefix = prefix;
    /* Clear host bits so that matching can compare whole bytes. */
    for (unsigned bit = prefix; bit < 128; bit++)
        c->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    rc = 0;
out:
    return rc;
}

int net_policy_init(net_policy *p, const char *allow_private_cidrs, char *err, size_t errlen)
{
    const char *s = allow_private_cidrs;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!p) {
        if (err && errlen)
            snprintf(err, errlen, "no policy");
        goto out;
    }
    memset(p, 0, sizeof *p);
    p->max_response_bytes = NET_DEFAULT_MAX_RESPONSE_BYTES;
    p->timeout_ms = NET_DEFAULT_TIMEOUT_MS;
    p->connect_timeout_ms = NET_DEFAULT_CONNECT_TIMEOUT_MS;
    p->max_redirects = NET_DEFAULT_MAX_REDIRECTS;
    while (s && *s) {
        const char *end = strchr(s, ',');
        const char *b = s, *e = end ? end : s + strlen(s);
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e > b) {
            if (p->nallow >= NET_POLICY_MAX_CIDRS) {
                if (err && errlen)
                    snprintf(err, errlen, "allowlist has more than %d entries",
                             NET_POLICY_MAX_CIDRS);
                p->nallow = 0;
                goto out;
            }
            if (parse_cidr(b, (size_t)(e - b), &p->allow[p->nallow])) {
                if (err && errlen)
                    snprintf(err, errlen, "invalid CIDR '%.*s' in allowlist",
                             (int)((e - b) > 80 ? 80 : (e - b)), b);
                memset(p->allow, 0, sizeof p->allow);
                p->nallow = 0;
                goto out;
            }
            p->nallow++;
        }
        s = end ? end + 1 : NULL;
    }
    rc = 0;
out:
    return rc;
}

int net_user_agent(char *buf, size_t len, const char *base_url)
{
    int n, rc = -1;

    if (!buf || len == 0)
        goto out;
    if (base_url && *base_url)
        n = snprintf(buf, len, "dinet/%s (+%s)", DINET_VERSION, base_url);
    else
        n = snprintf(buf, len, "dinet/%s", DINET_VERSION);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        goto out;
    }
    rc = 0;
out:
    return rc;
}

const char *net_err_name(net_err e)
{
    switch (e) {
    case NET_OK:
        return "ok";
    case NET_ERR_REFUSED_ADDRESS:
        return "refused address";
    case NET_ERR_TIMEOUT:
        return "timeout";
    case NET_ERR_CONNECT:
        return "connection failed";
    case NET_ERR_TOO_LARGE:
        return "response too large";
    case NET_ERR_PROTOCOL:
        return "protocol error";
    case NET_ERR_OTHER:
        break;
    }
    return "error";
}

/* ------------------------------------------------------------------------ */
/* One transfer                                                             */
/* ------------------------------------------------------------------------ */

/* Everything one request needs while curl runs it. */
struct xfer {
    const net_policy *pol;
    net_resp *resp;
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    char *buf; /* body of the current response */
    size_t len, cap;
    bool too_large;
    /* Sockets refused / opened since the last response status line, so
     * that the classification looks at the hop that failed. */
    unsigned refused, opened;
    char refusal[NET_ERROR_MAX];
    long retry_after;
    size_t host; /* batch: index of the host group */
    struct xfer *prev, *next; /* batch: list of running transfers */
    char errbuf[CURL_ERROR_SIZE];
};

static void set_error(net_resp *r, net_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(net_resp *r, net_err e, const char *fmt, ...)
{
    va_list ap;
    r->err = e;
    r->status = 0;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

static void resp_reset(net_resp *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after_seconds = -1;
}

/* CURLOPT_OPENSOCKETFUNCTION: the address check. It runs for every socket
 * curl opens, with the address it is about to connect to. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = clientp;
    struct sockaddr_storage ss;
    curl_socket_t fd = CURL_SOCKET_BAD;

    if (purpose != CURLSOCKTYPE_IPCXN || a->addrlen > sizeof ss ||
        a->addrlen < sizeof(sa_family_t)) {
        snprintf(x->refusal, sizeof x->refusal, "refused: unexpected socket request");
        x->refused++;
        goto out;
    }
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, &a->addr, a->addrlen);
    if ((ss.ss_family == AF_INET && a->addrlen < sizeof(struct sockaddr_in)) ||
        (ss.ss_family == AF_INET6 && a->addrlen < sizeof(struct sockaddr_in6)) ||
        ss.ss_family != a->family ||
        !net_addr_check(x->pol, (const struct sockaddr *)&ss, x->refusal, sizeof x->refusal)) {
        if (!x->refusal[0])
            snprintf(x->refusal, sizeof x->refusal, "refused: malformed address");
        x->refused++;
        goto out;
    }
    fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd != CURL_SOCKET_BAD)
        x->opened++;
out:
    return fd;
}

/* The body limit as used internally: clamped so that "limit + 1" and the
 * conversion to curl_off_t cannot overflow. */
static size_t body_limit(const net_policy *p)
{
    return p->max_response_bytes > SIZE_MAX / 4 ? SIZE_MAX / 4 : p->max_response_bytes;
}

/* CURLOPT_WRITEFUNCTION: collects the body up to the policy's limit.
 * Returning anything but n aborts the transfer with CURLE_WRITE_ERROR. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb, max = body_limit(x->pol), taken = 0;

    if (n > max || x->len > max - n) {
        x->too_large = true;
        goto out;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        char *nb = realloc(x->buf, cap);
        if (!nb)
            goto out;
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, ptr, n);
    x->len += n;
    taken = n;
out:
    return taken;
}

/* Retry-After: delay-seconds or an HTTP-date. Returns seconds or -1. */
static long parse_retry_after(const char *v, size_t n)
{
    char text[RETRY_AFTER_MAX];
    long secs = -1;
    size_t i;

    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    if (n == 0 || n >= sizeof text)
        goto out;
    memcpy(text, v, n);
    text[n] = '\0';
    for (i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
        ;
    if (i == n) {
        secs = 0;
        for (i = 0; i < n; i++) {
            secs = secs * 10 + (text[i] - '0');
            if (secs > RETRY_AFTER_CAP) {
                secs = RETRY_AFTER_CAP;
                break;
            }
        }
    } else {
        time_t t = curl_getdate(text, NULL), now = time(NULL);
        if (t == (time_t)-1)
            goto out;
        secs = t <= now ? 0 : (t - now > RETRY_AFTER_CAP ? RETRY_AFTER_CAP : (long)(t - now));
    }
out:
    return secs;
}

/* CURLOPT_HEADERFUNCTION: a status line starts a new response (a redirect
 * hop or an interim 1xx), so per-response state is reset there. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    static const char ra[] = "retry-after:";

    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        x->len = 0;
        x->retry_after = -1;
        x->refused = x->opened = 0;
        x->refusal[0] = '\0';
    } else if (n >= sizeof ra - 1 && strncasecmp(ptr, ra, sizeof ra - 1) == 0) {
        x->retry_after = parse_retry_after(ptr + sizeof ra - 1, n - (sizeof ra - 1));
    }
    return n;
}

static bool valid_method(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > METHOD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z')
            return false;
    return true;
}

/* Frees what x owns (not x itself, not the response). */
static void xfer_cleanup(struct xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->resolve);
    free(x->buf);
    x->easy = NULL;
    x->headers = x->resolve = NULL;
    x->buf = NULL;
}

/* Appends s to *list; -1 when out of memory (the list is kept). */
static int slist_add(struct curl_slist **list, const char *s)
{
    struct curl_slist *n = curl_slist_append(*list, s);
    if (!n)
        return -1;
    *list = n;
    return 0;
}

#define SETOPT(opt, val)                                                                          \
    do {                                                                                          \
        if (curl_easy_setopt(x->easy, opt, val) != CURLE_OK) {                                    \
            set_error(resp, NET_ERR_OTHER, "cannot set curl option %s", #opt);                    \
            goto out;                                                                             \
        }                                                                                         \
    } while (0)

/* Prepares x (zeroed first) to run req under p, results into resp (which
 * the caller has reset). Returns 0, or -1 with resp->err/error set; x must
 * be released with xfer_cleanup() either way. */
static int xfer_setup(struct xfer *x, const net_policy *p, const net_req *req, net_resp *resp)
{
    const char *method;
    bool has_expect = false, sends_body;
    int rc = -1;

    memset(x, 0, sizeof *x);
    x->pol = p;
    x->resp = resp;
    x->retry_after = -1;
    if (!req->url || !*req->url) {
        set_error(resp, NET_ERR_PROTOCOL, "no URL");
        goto out;
    }
    method = req->method ? req->method : "GET";
    if (!valid_method(method)) {
        set_error(resp, NET_ERR_OTHER, "invalid method '%.20s'", method);
        goto out;
    }
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        const char *h = req->headers[i];
        if (!*h || strpbrk(h, "\r\n")) {
            set_error(resp, NET_ERR_OTHER, "header %zu is empty or contains CR/LF", i);
            goto out;
        }
        if (strncasecmp(h, "Expect:", 7) == 0)
            has_expect = true;
        if (slist_add(&x->headers, h))
            goto oom;
    }
    if (req->user_agent && strpbrk(req->user_agent, "\r\n")) {
        set_error(resp, NET_ERR_OTHER, "User-Agent contains CR/LF");
        goto out;
    }
    for (size_t i = 0; req->resolve && req->resolve[i]; i++)
        if (slist_add(&x->resolve, req->resolve[i]))
            goto oom;
    sends_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
                 (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                  strcmp(method, "PATCH") == 0);
    /* Bodies are small; no 100-continue round trip. */
    if (sends_body && !has_expect && slist_add(&x->headers, "Expect:"))
        goto oom;

    x->easy = curl_easy_init();
    if (!x->easy)
        goto oom;
    SETOPT(CURLOPT_PRIVATE, (void *)x);
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    /* The guards: schemes, the address check, no proxy, TLS verification. */
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SETOPT(CURLOPT_OPENSOCKETDATA, (void *)x);
    SETOPT(CURLOPT_PROXY, "");
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (p->max_redirects > 0) {
        SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(CURLOPT_MAXREDIRS, p->max_redirects);
    }
    SETOPT(CURLOPT_TIMEOUT_MS, p->timeout_ms > 0 ? p->timeout_ms : NET_DEFAULT_TIMEOUT_MS);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
           p->connect_timeout_ms > 0 ? p->connect_timeout_ms : NET_DEFAULT_CONNECT_TIMEOUT_MS);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, (void *)x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, (void *)x);
    SETOPT(CURLOPT_ACCEPT_ENCODING, "");
    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "dinet/" DINET_VERSION);
    if (x->headers)
        SETOPT(CURLOPT_HTTPHEADER, x->headers);
    if (x->resolve)
        SETOPT(CURLOPT_RESOLVE, x->resolve);

    if (strcmp(method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else {
        /* Refuse early on a declared Content-Length over the limit. */
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body_limit(p));
        if (strcmp(method, "GET") == 0) {
            SETOPT(CURLOPT_HTTPGET, 1L);
        } else {
            if (strcmp(method, "POST") != 0)
                SETOPT(CURLOPT_CUSTOMREQUEST, method);
            if (sends_body) {
                SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
                SETOPT(CURLOPT_POSTFIELDS, req->body ? req->body : "");
            }
        }
    }
    rc = 0;
    goto out;
oom:
    set_error(resp, NET_ERR_OTHER, "out of memory");
out:
    return rc;
}

#undef SETOPT

/* Fills x->resp from the finished transfer (curl result rc). */
static void xfer_finish(struct xfer *x, CURLcode rc)
{
    net_resp *r = x->resp;
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    char *ct = NULL, *eff = NULL;
    long status = 0;

    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
        if (x->refused && !x->opened)
            set_error(r, NET_ERR_REFUSED_ADDRESS, "%s", x->refusal);
        else
            set_error(r, NET_ERR_CONNECT, "connection failed: %s", detail);
        goto out;
    case CURLE_OPERATION_TIMEDOUT:
        set_error(r, NET_ERR_TIMEOUT, "timeout: %s", detail);
        goto out;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        set_error(r, NET_ERR_CONNECT, "connection failed: %s", detail);
        goto out;
    case CURLE_FILESIZE_EXCEEDED:
        set_error(r, NET_ERR_TOO_LARGE, "response body exceeds the limit of %zu bytes",
                  body_limit(x->pol));
        goto out;
    case CURLE_WRITE_ERROR:
        if (x->too_large)
            set_error(r, NET_ERR_TOO_LARGE, "response body exceeds the limit of %zu bytes",
                      body_limit(x->pol));
        else
            set_error(r, NET_ERR_OTHER, "out of memory while receiving");
        goto out;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        set_error(r, NET_ERR_PROTOCOL, "protocol error: %s", detail);
        goto out;
    default:
        set_error(r, NET_ERR_OTHER, "request failed: %s", detail);
        goto out;
    }

    /* A response arrived. */
    if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
        ct = NULL;
    if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK)
        eff = NULL;
    if (!x->buf) {
        x->buf = malloc(1);
        x->cap = x->buf ? 1 : 0;
    }
    r->content_type = ct ? strdup(ct) : NULL;
    r->final_url = eff ? strdup(eff) : NULL;
    if (!x->buf || (ct && !r->content_type) || (eff && !r->final_url)) {
        free(r->content_type);
        free(r->final_url);
        r->content_type = r->final_url = NULL;
        set_error(r, NET_ERR_OTHER, "out of memory");
        goto out;
    }
    x->buf[x->len] = '\0';
    r->err = NET_OK;
    r->status = status;
    r->body = x->buf;
    r->len = x->len;
    r->retry_after_seconds = x->retry_after;
    r->error[0] = '\0';
    x->buf = NULL;
    x->len = x->cap = 0;
out:
    return;
}

int net_request(const net_policy *p, const net_req *req, net_resp *resp, char *err,
                size_t errlen)
{
    struct xfer x;
    int rc = -1;

    memset(&x, 0, sizeof x);
    if (err && errlen)
        err[0] = '\0';
    if (!resp)
        goto out;
    resp_reset(resp);
    if (!p || !req) {
        set_error(resp, NET_ERR_OTHER, "no policy or request");
        goto out;
    }
    if (xfer_setup(&x, p, req, resp))
        goto out;
    xfer_finish(&x, curl_easy_perform(x.easy));
    rc = resp->err == NET_OK ? 0 : -1;
out:
    xfer_cleanup(&x);
    if (rc && err && errlen)
        snprintf(err, errlen, "%s", resp ? resp->error : "no response struct");
    return rc;
}

void net_resp_free(net_resp *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->content_type);
    free(resp->final_url);
    memset(resp, 0, sizeof *resp);
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/* A request and the host:port key it is scheduled under. */
struct slot {
    char *key;
    size_t idx;
};

/* The requests of one host:port: order[first .. first+count), of which
 * those before next have been started. */
struct host {
    size_t first, count, next;
    int inflight;
    bool queued;
};

/* Round-robin queue of hosts that have pending requests and a free slot;
 * each host is in it at most once. */
struct ring {
    size_t *v;
    size_t cap, head, len;
};

static void ring_push(struct ring *r, struct host *hosts, size_t h)
{
    if (hosts[h].queued || r->len == r->cap)
        return;
    r->v[(r->head + r->len) % r->cap] = h;
    r->len++;
    hosts[h].queued = true;
}

static size_t ring_pop(struct ring *r, struct host *hosts)
{
    size_t h = r->v[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    hosts[h].queued = false;
    return h;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* "host:port" of url in lowercase (port defaulted from the scheme), or NULL
 * when the URL does not parse or memory runs out. */
static char *host_key(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *key = NULL;
    size_t n;

    if (!u || !url)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    n = strlen(host) + strlen(port) + 2;
    key = malloc(n);
    if (!key)
        goto out;
    snprintf(key, n, "%s:%s", host, port);
    for (char *c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
out:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return key;
}

/* Shared state of one net_batch() run. */
struct batch {
    const net_policy *pol;
    const net_req *reqs;
    net_resp *resps;
    CURLM *multi;
    struct slot *order;
    struct host *hosts;
    size_t nhosts;
    struct ring ready;
    struct xfer *live; /* running transfers */
    int max_per_host, max_total, running;
};

static void live_add(struct batch *b, struct xfer *x)
{
    x->prev = NULL;
    x->next = b->live;
    if (b->live)
        b->live->prev = x;
    b->live = x;
}

static void live_remove(struct batch *b, struct xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        b->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

/* Starts request order[pos] of host h. A request that cannot start gets its
 * error in its response and does not count as running. */
static void batch_start(struct batch *b, size_t h, size_t pos)
{
    size_t i = b->order[pos].idx;
    struct xfer *x = calloc(1, sizeof *x);

    if (!x) {
        set_error(&b->resps[i], NET_ERR_OTHER, "out of memory");
        goto out;
    }
    if (xfer_setup(x, b->pol, &b->reqs[i], &b->resps[i]))
        goto out;
    x->host = h;
    if (curl_multi_add_handle(b->multi, x->easy) != CURLM_OK) {
        set_error(&b->resps[i], NET_ERR_OTHER, "cannot add transfer to the multi handle");
        goto out;
    }
    live_add(b, x);
    b->hosts[h].inflight++;
    b->running++;
    x = NULL; /* owned by the batch until batch_collect() */
out:
    if (x) {
        xfer_cleanup(x);
        free(x);
    }
}

/* Starts requests round-robin over the hosts while limits allow. */
static void batch_fill(struct batch *b)
{
    while (b->running < b->max_total && b->ready.len) {
        size_t h = ring_pop(&b->ready, b->hosts);
        struct host *ho = &b->hosts[h];
        batch_start(b, h, ho->next++);
        if (ho->next < ho->first + ho->count && ho->inflight < b->max_per_host)
            ring_push(&b->ready, b->hosts, h);
    }
}

/* Collects finished transfers; returns how many finished. */
static int batch_collect(struct batch *b)
{
    CURLMsg *m;
    int left, done = 0;

    while ((m = curl_multi_info_read(b->multi, &left))) {
        char *priv = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode result = m->data.result;
        if (curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv)
            continue; /* cannot happen: every handle carries its xfer */
        struct xfer *x = (struct xfer *)(void *)priv;
        xfer_finish(x, result);
        curl_multi_remove_handle(b->multi, e);
        live_remove(b, x);
        struct host *ho = &b->hosts[x->host];
        ho->inflight--;
        b->running--;
        if (ho->next < ho->first + ho->count && ho->inflight < b->max_per_host)
            ring_push(&b->ready, b->hosts, x->host);
        xfer_cleanup(x);
        free(x);
        done++;
    }
    return done;
}

/* Ends every running transfer with an error (after a multi failure). */
static void batch_abort(struct batch *b, const char *why)
{
    while (b->live) {
        struct xfer *x = b->live;
        live_remove(b, x);
        curl_multi_remove_handle(b->multi, x->easy);
        set_error(x->resp, NET_ERR_OTHER, "batch aborted: %s", why);
        xfer_cleanup(x);
        free(x);
    }
    b->running = 0;
    for (size_t h = 0; h < b->nhosts; h++) {
        struct host *ho = &b->hosts[h];
        while (ho->next < ho->first + ho->count) {
            size_t i = b->order[ho->next++].idx;
            set_error(&b->resps[i], NET_ERR_OTHER, "batch aborted: %s", why);
        }
    }
}

int net_batch(const net_policy *p, const net_req *reqs, size_t n, net_resp *resps,
              int max_per_host, int max_total)
{
    struct batch b;
    size_t nvalid = 0;
    int rc = -1;

    memset(&b, 0, sizeof b);
    for (size_t i = 0; resps && i < n; i++)
        resp_reset(&resps[i]);
    if (n == 0) {
        rc = 0;
        goto out;
    }
    if (!p || !reqs || !resps) {
        for (size_t i = 0; resps && i < n; i++)
            set_error(&resps[i], NET_ERR_OTHER, "no policy or requests");
        goto out;
    }
    b.pol = p;
    b.reqs = reqs;
    b.resps = resps;
    b.max_per_host = max_per_host < 1 ? 1 : max_per_host;
    b.max_total = max_total < 1 ? 1 : max_total;

    /* Group the requests by host:port, keeping their order per host. */
    b.order = calloc(n, sizeof *b.order);
    if (!b.order)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        char *key = host_key(reqs[i].url);
        if (!key) {
            set_error(&resps[i], NET_ERR_PROTOCOL, "invalid URL (or no host in it)");
            continue;
        }
        b.order[nvalid].key = key;
        b.order[nvalid].idx = i;
        nvalid++;
    }
    qsort(b.order, nvalid, sizeof *b.order, slot_cmp);
    b.hosts = calloc(nvalid ? nvalid : 1, sizeof *b.hosts);
    b.ready.v = calloc(nvalid ? nvalid : 1, sizeof *b.ready.v);
    if (!b.hosts || !b.ready.v)
        goto oom;
    for (size_t i = 0; i < nvalid; i++) {
        if (i == 0 || strcmp(b.order[i].key, b.order[i - 1].key) != 0) {
            b.hosts[b.nhosts].first = b.hosts[b.nhosts].next = i;
            b.nhosts++;
        }
        b.hosts[b.nhosts - 1].count++;
    }
    b.ready.cap = b.nhosts ? b.nhosts : 1;
    for (size_t h = 0; h < b.nhosts; h++)
        ring_push(&b.ready, b.hosts, h);

    b.multi = curl_multi_init();
    if (!b.multi)
        goto oom;
    {
        /* Keep an idle connection per host and slot when that is affordable. */
        size_t conns = b.nhosts * (size_t)b.max_per_host;
        if (conns > BATCH_MAX_CONNECTS)
            conns = BATCH_MAX_CONNECTS;
        if (conns < (size_t)b.max_total)
            conns = (size_t)b.max_total;
        curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, (long)conns);
    }

    batch_fill(&b);
    while (b.running > 0) {
        int still = 0;
        CURLMcode mc = curl_multi_perform(b.multi, &still);
        if (mc != CURLM_OK) {
            batch_abort(&b, curl_multi_strerror(mc));
            goto out;
        }
        if (batch_collect(&b))
            batch_fill(&b);
        if (b.running == 0)
            break;
        mc = curl_multi_poll(b.multi, NULL, 0, BATCH_POLL_MS, NULL);
        if (mc != CURLM_OK) {
            batch_abort(&b, curl_multi_strerror(mc));
            goto out;
        }
    }
    rc = 0;
    goto out;
oom:
    for (size_t i = 0; i < n; i++)
        if (resps[i].err == NET_OK && resps[i].status == 0)
            set_error(&resps[i], NET_ERR_OTHER, "out of memory");
out:
    if (b.multi)
        curl_multi_cleanup(b.multi);
    for (size_t i = 0; b.order && i < nvalid; i++)
        free(b.order[i].key);
    free(b.order);
    free(b.hosts);
    free(b.ready.v);
    return rc;
}
