/* The outbound HTTP client: every request the federation code sends to
 * another server goes through this module.
 *
 * It exists to make one rule impossible to forget: the node never talks to
 * a loopback, private, link-local, multicast, unspecified, CGNAT, reserved
 * or broadcast address (nor to an IPv4-mapped IPv6 form of one) unless that
 * address lies inside a CIDR the operator put on the allowlist. The check
 * runs in libcurl's open-socket callback, which sees the exact address curl
 * is about to connect to. So it covers literal addresses, every DNS answer
 * (including a rebinding answer that changes between lookups), every
 * redirect hop and CURLOPT_RESOLVE entries alike, and a refused address
 * never gets a connection attempt: no SYN leaves the machine.
 *
 * Further guards applied to every request:
 *   - only http and https, also on redirects; no proxy from the environment
 *     (a proxy would connect on our behalf and bypass the address check);
 *   - TLS certificates and host names are always verified;
 *   - at most max_redirects redirects are followed;
 *   - the response body (after content decoding) is capped at
 *     max_response_bytes; the transfer is aborted as soon as it is exceeded;
 *   - connect and total timeouts;
 *   - no cookies, no .netrc.
 *
 * libcurl must be initialised once per process (curl_global_init) before
 * the first request; node/main.c does that. All functions are thread-safe:
 * there is no global state, and a policy may be shared between threads
 * while nobody modifies it. */
#ifndef DINET_NET_H
#define DINET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Most CIDRs an allowlist may hold. */
#define NET_POLICY_MAX_CIDRS 32

/* Size of net_resp.error, including the NUL. */
#define NET_ERROR_MAX 256

/* Outcome classes. A delivery queue retries NET_ERR_TIMEOUT and
 * NET_ERR_CONNECT later (as it does a 5xx or 429 status) and gives up on
 * NET_ERR_REFUSED_ADDRESS, NET_ERR_TOO_LARGE and NET_ERR_PROTOCOL (as on
 * a 4xx status). */
typedef enum net_err {
    NET_OK = 0,              /* an HTTP response arrived (any status) */
    NET_ERR_REFUSED_ADDRESS, /* the address is not allowed by the policy */
    NET_ERR_TIMEOUT,         /* connect or total timeout */
    NET_ERR_CONNECT,         /* name did not resolve, connection refused,
                                reset or closed before a complete response */
    NET_ERR_TOO_LARGE,       /* body above max_response_bytes */
    NET_ERR_PROTOCOL,        /* bad URL, scheme other than http(s), too many
                                redirects, TLS failure, malformed HTTP */
    NET_ERR_OTHER            /* bad arguments, out of memory, anything else */
} net_err;

/* One allowlist entry. addr holds the network in network byte order (4
 * bytes used for AF_INET, 16 for AF_INET6); host bits are zero. */
typedef struct net_cidr {
    int family;
    unsigned char addr[16];
    unsigned prefix;
} net_cidr;

/* What outbound requests may do. Built by net_policy_init(); the limit
 * fields may be changed afterwards (plain assignment). The struct owns no
 * memory and can be copied. */
typedef struct net_policy {
    net_cidr allow[NET_POLICY_MAX_CIDRS];
    size_t nallow;
    size_t max_response_bytes; /* default 1 MiB */
    long timeout_ms;           /* whole transfer incl. redirects; default 10000 */
    long connect_timeout_ms;   /* name resolution + connect; default 3000 */
    long max_redirects;        /* default 3; 0 returns the 3xx response itself */
} net_policy;

#define NET_DEFAULT_MAX_RESPONSE_BYTES ((size_t)1 << 20)
#define NET_DEFAULT_TIMEOUT_MS 10000L
#define NET_DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define NET_DEFAULT_MAX_REDIRECTS 3L

/* Fills *p with the defaults and the allowlist parsed from
 * allow_private_cidrs: a comma-separated list of IPv4 or IPv6 CIDRs
 * ("127.0.0.0/8,10.1.0.0/16,fd00::/8"); spaces around items are ignored; an
 * address without "/len" is a single host; host bits below the prefix are
 * cleared. An IPv4-mapped IPv6 CIDR (::ffff:a.b.c.d/len, len >= 96) is
 * stored as the IPv4 CIDR it denotes. NULL or "" means no allowlist.
 * Returns 0, or -1 when an item is not a valid CIDR or there are more than
 * NET_POLICY_MAX_CIDRS of them; err (may be NULL) then names the offending
 * item, and *p holds the defaults with an empty allowlist. */
int net_policy_init(net_policy *p, const char *allow_private_cidrs, char *err, size_t errlen);

/* True when the node may connect to sa (AF_INET or AF_INET6; the port is
 * ignored): a public address, or any address inside an allowlisted CIDR.
 * IPv4-mapped IPv6 addresses are judged (and matched against the allowlist)
 * as the IPv4 address they carry; NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
 * addresses are refused when the IPv4 address they embed is not public,
 * unless the IPv6 address itself is allowlisted. p may be NULL (no
 * allowlist). Pure function, no I/O. */
bool net_addr_allowed(const net_policy *p, const struct sockaddr *sa);

/* Like net_addr_allowed(), and when the address is refused writes the
 * reason to why (may be NULL), e.g.
 *   "refused: 127.0.0.2 is a loopback address not on the allowlist". */
bool net_addr_check(const net_policy *p, const struct sockaddr *sa, char *why, size_t whylen);

/* Writes the User-Agent the node sends, "dinet/VERSION (+BASE_URL)", to buf.
 * Returns 0, or -1 when it does not fit (buf then holds "" if len > 0). */
int net_user_agent(char *buf, size_t len, const char *base_url);

/* A request. Nothing here is copied or freed by the module; all pointers
 * must stay valid until net_request()/net_batch() returns. */
typedef struct net_req {
    const char *method;           /* "GET" (also when NULL), "POST", "HEAD",
                                     "PUT", "DELETE", ...: uppercase letters */
    const char *url;              /* http:// or https:// */
    const char *const *headers;   /* NULL-terminated "Name: value" list, or
                                     NULL; no CR or LF allowed */
    const char *body;             /* sent for methods other than GET/HEAD;
                                     may be NULL (empty body) */
    size_t body_len;
    const char *user_agent;       /* NULL: "dinet/VERSION" */
    const char *const *resolve;   /* NULL-terminated CURLOPT_RESOLVE entries
                                     ("host:port:addr"), for tests; the
                                     address check applies to them as well */
} net_req;

/* A response, or the reason there is none. All pointers are malloc'd and
 * owned by the struct; release with net_resp_free(). */
typedef struct net_resp {
    net_err err;               /* NET_OK when a response arrived */
    long status;               /* HTTP status of the last response; 0 on error */
    char *body;                /* NUL-terminated (len excludes the NUL); ""
                                  when empty; NULL on error */
    size_t len;
    char *content_type;        /* Content-Type of the last response, or NULL */
    long retry_after_seconds;  /* Retry-After of the last response as seconds
                                  from now (delay or HTTP-date, a past date
                                  gives 0); -1 when absent or unparsable */
    char *final_url;           /* URL of the last response after redirects
                                  (NULL on error) */
    char error[NET_ERROR_MAX]; /* "" on NET_OK, else a message for logs */
} net_resp;

/* Performs one request under policy p. resp is overwritten (zeroed first).
 * Returns 0 when an HTTP response arrived, whatever its status; resp then
 * holds it. Returns -1 otherwise with resp->err and resp->error set (and
 * the message copied to err, which may be NULL). In both cases release resp
 * with net_resp_free(). Blocks for at most about p->timeout_ms. */
int net_request(const net_policy *p, const net_req *req, net_resp *resp, char *err,
                size_t errlen);

/* Frees what resp owns and zeroes it; resp may be NULL. Idempotent. */
void net_resp_free(net_resp *resp);

/* Runs n requests concurrently over one curl multi handle (connections are
 * kept alive and reused between requests to the same host), never more than
 * max_per_host at a time to the same host:port of the request URL and never
 * more than max_total at all; hosts are served round-robin, and each
 * request's timeout starts when it actually starts. Redirect targets are not
 * counted against the host they lead to.
 * resps must have room for n entries; each is overwritten and filled exactly
 * as net_request() would fill it (resps[i].err says whether reqs[i] got a
 * response; a URL without a parsable host gets NET_ERR_PROTOCOL without
 * being started). Returns 0 when the batch ran (individual requests may
 * still have failed), or -1 when it could not run (bad arguments, out of
 * memory, a failure of the curl multi handle): every request that had not
 * finished then carries NET_ERR_OTHER. Either way the caller releases every
 * resps[i] with net_resp_free(). max_per_host and max_total below 1 are
 * treated as 1. The requests of one batch share curl's DNS cache, so a
 * `resolve` entry of one request applies to the others as well (tests only;
 * the address check applies regardless). */
int net_batch(const net_policy *p, const net_req *reqs, size_t n, net_resp *resps,
              int max_per_host, int max_total);

/* Short English name of an error class ("refused address", "timeout", ...). */
const char *net_err_name(net_err e);

#endif
