/* HTTP layer; see http.h. */
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Per-request state kept in MHD's *req_cls between calls. */
typedef struct reqstate {
    buf body;
    bool too_large;
    bool has_body;
    bool started;
    char *target; /* raw request target, path and query as sent */
} reqstate;

/* MHD calls this first for each request with the raw URI; its return value
 * becomes the request's state, so the undecoded target (needed to verify
 * HTTP signatures over "(request-target)") is kept. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    reqstate *rs = calloc(1, sizeof *rs);
    if (rs && uri)
        rs->target = strndup(uri, 8192);
    return rs;
}

static const http_server_opts *srv;

const char *http_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

void http_set_header(http_resp *r, const char *name, const char *value)
{
    if (r->nheaders == HTTP_MAX_HEADERS)
        return;
    r->hname[r->nheaders] = xstrdup(name);
    r->hvalue[r->nheaders] = xstrdup(value);
    r->nheaders++;
}

void http_json(http_resp *r, int status, json_t *j)
{
    r->status = status;
    r->ctype = "application/json; charset=utf-8";
    buf_free(&r->body);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (txt) {
        buf_puts(&r->body, txt);
        free(txt);
    } else {
        r->status = 500;
        buf_puts(&r->body, "{}");
    }
    json_decref(j);
}

void http_text(http_resp *r, int status, const char *ctype, const char *text)
{
    r->status = status;
    r->ctype = ctype;
    buf_free(&r->body);
    buf_puts(&r->body, text);
}

void http_problem(http_resp *r, int status, const char *slug, const char *title,
                  const char *detail, const char *field, json_t *errors)
{
    char type[128];
    snprintf(type, sizeof type, "/problems/%s", slug);
    if (field && !errors)
        errors = json_pack("[{s:s, s:s}]", "field", field, "detail", detail ? detail : title);
    json_t *p = json_pack("{s:s, s:s, s:i}", "type", type, "title", title, "status", status);
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    if (errors)
        json_object_set_new(p, "errors", errors);
    http_json(r, status, p);
    r->ctype = "application/problem+json; charset=utf-8";
}

static bool match(const char *pattern, const char *path, const char **params, char *store,
                  size_t storelen)
{
    int np = 0;
    size_t used = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '*' && p[1] == '*' && p[2] == '\0') {
            size_t n = strlen(s);
            if (np == HTTP_MAX_PARAMS || used + n + 1 > storelen)
                return false;
            memcpy(store + used, s, n + 1);
            params[np++] = store + used;
            return true;
        }
        if (*p == '*') {
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (n == 0 || np == HTTP_MAX_PARAMS || used + n + 1 > storelen)
                return false;
            memcpy(store + used, s, n);
            store[used + n] = '\0';
            params[np++] = store + used;
            used += n + 1;
            p++;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

static void client_addr(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outlen);
}

static void add_common_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                            "base-uri 'self'; form-action 'self'");
}

static enum MHD_Result send_response(struct MHD_Connection *conn, http_resp *r)
{
    struct MHD_Response *resp = NULL;
    if (r->file[0]) {
        int fd = open(r->file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
        } else {
            if (fd >= 0)
                close(fd);
            r->status = 404;
            r->ctype = "text/plain; charset=utf-8";
            buf_free(&r->body);
            buf_puts(&r->body, "not found\n");
        }
    }
    if (!resp && r->ext) {
        resp = MHD_create_response_from_buffer_with_free_callback_cls(
            r->ext_len, (void *)r->ext, r->ext_free, r->ext_cls);
        if (resp)
            r->ext = NULL; /* MHD owns the release now */
    }
    if (!resp) {
        size_t len = r->body.len;
        char *body = buf_take(&r->body);
        if (!body) {
            body = strdup("");
            len = 0;
            r->status = 500;
        }
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(body);
            return MHD_NO;
        }
    }
    if (r->ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    add_common_headers(resp);
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->hname[i], r->hvalue[i]);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void resp_free(http_resp *r)
{
    buf_free(&r->body);
    if (r->ext && r->ext_free)
        r->ext_free(r->ext_cls);
    for (int i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
}

static const char *dispatch(http_req *req, http_resp *resp)
{
    char store[2048];
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    bool path_matched = false;
    buf allow;
    buf_init(&allow);
    for (const http_route *const *tab = srv->routes; *tab; tab++)
    for (const http_route *rt = *tab; rt->method; rt++) {
        const char *params[HTTP_MAX_PARAMS] = {0};
        if (!match(rt->pattern, req->path, params, store, sizeof store))
            continue;
        path_matched = true;
        if (strcmp(rt->method, method) != 0) {
            buf_printf(&allow, "%s%s", allow.len ? ", " : "", rt->method);
            continue;
        }
        memcpy(req->params, params, sizeof params);
        rt->fn(req, resp);
        buf_free(&allow);
        return rt->pattern;
    }
    if (path_matched) {
        http_problem(resp, 405, "method-not-allowed", "Method not allowed", NULL, NULL, NULL);
        http_set_header(resp, "Allow", allow.p ? allow.p : "");
    } else {
        http_problem(resp, 404, "not-found", "Not found", "There is nothing at this address.",
                     NULL, NULL);
    }
    buf_free(&allow);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)cls;
    (void)version;
    reqstate *rs = *req_cls;
    if (!rs)
        return MHD_NO;
    if (!rs->started) {
        rs->started = true;
        /* Refuse a declared oversized body before reading any of it. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > srv->cfg->max_body)
            rs->too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        rs->has_body = true;
        if (!rs->too_large && rs->body.len + *upload_data_size > (size_t)srv->cfg->max_body)
            rs->too_large = true;
        if (!rs->too_large)
            buf_append(&rs->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    double t0 = metrics_now();
    const char *route = NULL;
    http_req req;
    http_resp resp;
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    buf_init(&resp.body);
    req.conn = conn;
    req.method = method;
    req.path = url;
    req.target = rs->target ? rs->target : url;
    req.cfg = srv->cfg;
    req.too_large = rs->too_large || rs->body.oom;
    if (rs->has_body && !req.too_large) {
        req.body = rs->body.p;
        req.body_len = rs->body.len;
    }
    client_addr(conn, req.client, sizeof req.client);
    proxy_client_addr(req.client, sizeof req.client, http_header(&req, "X-Real-IP"));
    req.db = db_thread();
    if (!req.db) {
        http_problem(&resp, 503, "unavailable", "Storage unavailable", NULL, NULL, NULL);
    } else if (req.too_large) {
        char detail[128];
        snprintf(detail, sizeof detail, "The request body is larger than %ld bytes.",
                 srv->cfg->max_body);
        http_problem(&resp, 413, "too-large", "Request body too large", detail, "body", NULL);
    } else {
        if (srv->authenticate)
            srv->authenticate(&req);
        route = dispatch(&req, &resp);
        db_request_done(req.db);
    }
    /* The connection may be closed from now on while this thread waits for
     * the next request (idle housekeeping in db.c). */
    db_thread_release();
    metrics_observe(route, method, resp.status, metrics_now() - t0);
    enum MHD_Result ret = send_response(conn, &resp);
    resp_free(&resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    reqstate *rs = *req_cls;
    if (rs) {
        buf_free(&rs->body);
        free(rs->target);
        free(rs);
        *req_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_event(LOG_WARN, "http.mhd", "msg", msg, NULL);
}

int http_serve(const http_server_opts *opts)
{
    srv = opts;
    const config *cfg = opts->cfg;
    char host[128];
    snprintf(host, sizeof host, "%s", cfg->listen);
    char *colon = strrchr(host, ':');
    *colon = '\0';
    int port = atoi(colon + 1);
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strlen(h) - 1] = '\0';
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    bool v6 = strchr(h, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, h, &s6->sin6_addr) != 1) {
            fprintf(stderr, "dinet: listen: '%s' is not an IP address\n", h);
            return 2;
        }
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (strcmp(h, "localhost") == 0)
            h = "127.0.0.1";
        if (inet_pton(AF_INET, h, &s4->sin_addr) != 1) {
            fprintf(stderr, "dinet: listen: '%s' is not an IP address\n", h);
            return 2;
        }
    }
    /* Twice the cores, at least 4: an inbox request may wait on a remote key
     * fetch, and a waiting thread must not stall the readers. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long threads = cfg->threads > 0 ? cfg->threads : (2 * ncpu < 4 ? 4 : 2 * ncpu);
    if (threads < 1)
        threads = 1;

    /* Block the stop signals here so every server thread inherits the mask
     * and only sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_TURBO | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "dinet: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int bound = di ? di->port : port;
    if (opts->on_start)
        opts->on_start();
    printf("listening on http://%s%s%s:%d\n", v6 ? "[" : "", h, v6 ? "]" : "", bound);
    fflush(stdout);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", bound);
    log_event(LOG_INFO, "server.start", "listen", h, "port", ps, "base_url", cfg->base_url, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    log_event(LOG_INFO, "server.stop", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    MHD_stop_daemon(d);
    if (opts->on_stop)
        opts->on_stop();
    return 0;
}
