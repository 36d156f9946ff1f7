/* Prometheus metrics; see metrics.h. */
#include "metrics.h"
#include "aggregate.h"
#include "delivery.h"
#include "inbox.h"
#include "log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- request series ------------------------------------------------------ */

/* Upper bounds of the latency histogram, in seconds. */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                                      "other"};
#define NMETHODS (sizeof methods / sizeof methods[0])

#define MAX_CODES 12    /* distinct status codes kept per series; more count as "other" */
#define MAX_SERIES 256  /* (route, method) pairs; more go to route="other" */
#define SLOTS 512       /* open-addressing table, a power of two > MAX_SERIES */

typedef struct series {
    char route[160];
    int method;
    atomic_int code[MAX_CODES];
    atomic_long code_count[MAX_CODES];
    atomic_long code_other;
    atomic_long bucket[NBOUNDS + 1]; /* not cumulative; the last is +Inf */
    atomic_ullong sum_ns;
    atomic_long count;
} series;

static _Atomic(series *) slots[SLOTS];
static series *overflow; /* route="other", guarded by table_mu when created */
static int nseries;      /* guarded by table_mu */
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned hash_key(const char *route, int method)
{
    unsigned h = 2166136261u;
    for (const char *p = route; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return (h ^ (unsigned)method) * 16777619u;
}

static int method_index(const char *m)
{
    for (int i = 0; i < (int)NMETHODS - 1; i++)
        if (m && !strcmp(m, methods[i]))
            return i;
    return (int)NMETHODS - 1;
}

static series *series_new(const char *route, int method)
{
    series *s = calloc(1, sizeof *s);
    if (s) {
        snprintf(s->route, sizeof s->route, "%s", route);
        s->method = method;
    }
    return s;
}

/* Finds or creates the series of (route, method). Readers never lock; a new
 * series is published with a release store after it is initialised. */
static series *series_get(const char *route, int method)
{
    unsigned h = hash_key(route, method);
    for (unsigned i = 0; i < SLOTS; i++) {
        series *s = atomic_load_explicit(&slots[(h + i) & (SLOTS - 1)], memory_order_acquire);
        if (!s)
            break;
        if (s->method == method && !strcmp(s->route, route))
            return s;
    }
    pthread_mutex_lock(&table_mu);
    series *found = NULL;
    for (unsigned i = 0; i < SLOTS && !found; i++) {
        _Atomic(series *) *slot = &slots[(h + i) & (SLOTS - 1)];
        series *s = atomic_load_explicit(slot, memory_order_acquire);
        if (s && s->method == method && !strcmp(s->route, route)) {
            found = s;
        } else if (!s) {
            if (nseries >= MAX_SERIES) {
                if (!overflow)
                    overflow = series_new("other", (int)NMETHODS - 1);
                found = overflow;
            } else if ((found = series_new(route, method)) != NULL) {
                nseries++;
                atomic_store_explicit(slot, found, memory_order_release);
            }
            break;
        }
    }
    pthread_mutex_unlock(&table_mu);
    return found;
}

static void count_status(series *s, int status)
{
    for (int i = 0; i < MAX_CODES; i++) {
        int c = atomic_load(&s->code[i]);
        if (c == 0) {
            int expect = 0;
            if (atomic_compare_exchange_strong(&s->code[i], &expect, status))
                c = status;
            else
                c = expect;
        }
        if (c == status) {
            atomic_fetch_add(&s->code_count[i], 1);
            return;
        }
    }
    atomic_fetch_add(&s->code_other, 1);
}

double metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void metrics_observe(const char *route_pattern, const char *method, int status, double seconds)
{
    series *s = series_get(route_pattern ? route_pattern : "unmatched", method_index(method));
    if (!s)
        return;
    if (seconds < 0)
        seconds = 0;
    count_status(s, status);
    size_t b = 0;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    atomic_fetch_add(&s->bucket[b], 1);
    atomic_fetch_add(&s->sum_ns, (unsigned long long)(seconds * 1e9));
    atomic_fetch_add(&s->count, 1);
    /* One line per request at debug level: the route pattern, never the
     * path, the query or the client, so no personal data reaches the log. */
    char st[16], ms[40];
    snprintf(st, sizeof st, "%d", status);
    snprintf(ms, sizeof ms, "%.1f", seconds * 1e3);
    log_event(status >= 500 ? LOG_WARN : LOG_DEBUG, status >= 500 ? "http.error" : "http.request",
              "method", methods[s->method], "route", s->route, "status", st, "ms", ms, NULL);
}

/* ---- access ---------------------------------------------------------------- */

bool metrics_is_loopback(const char *client)
{
    if (!client)
        return false;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, client, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, client, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

bool metrics_access_allowed(const char *client, bool forwarded, const char *authorization,
                            const char *token)
{
    if (token && *token && authorization && strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *given = authorization + 7;
        while (*given == ' ')
            given++;
        size_t n = strlen(given);
        while (n && (given[n - 1] == ' ' || given[n - 1] == '\t'))
            n--;
        /* Compare digests so that neither length nor content leaks through
         * timing. */
        unsigned char hg[crypto_generichash_BYTES], ht[crypto_generichash_BYTES];
        crypto_generichash(hg, sizeof hg, (const unsigned char *)given, n, NULL, 0);
        crypto_generichash(ht, sizeof ht, (const unsigned char *)token, strlen(token), NULL, 0);
        if (sodium_memcmp(hg, ht, sizeof hg) == 0)
            return true;
    }
    return !forwarded && metrics_is_loopback(client);
}

const char *metrics_token(const config *cfg)
{
    (void)cfg; /* the configuration key metrics_token will take precedence */
    const char *t = getenv("DINET_METRICS_TOKEN");
    return t && *t ? t : NULL;
}

/* ---- exposition ------------------------------------------------------------ */

static void put_label(buf *b, const char *v)
{
    for (; v && *v; v++) {
        if (*v == '\\')
            buf_puts(b, "\\\\");
        else if (*v == '"')
            buf_puts(b, "\\\"");
        else if (*v == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, v, 1);
    }
}

static void head(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Snapshot of the series table, sorted by route then method for a stable
 * output. */
static int cmp_series(const void *a, const void *b)
{
    const series *x = *(series *const *)a, *y = *(series *const *)b;
    int c = strcmp(x->route, y->route);
    return c ? c : x->method - y->method;
}

static size_t snapshot(series **out, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < SLOTS && n < max; i++) {
        series *s = atomic_load_explicit(&slots[i], memory_order_acquire);
        if (s)
            out[n++] = s;
    }
    pthread_mutex_lock(&table_mu);
    if (overflow && n < max)
        out[n++] = overflow;
    pthread_mutex_unlock(&table_mu);
    qsort(out, n, sizeof *out, cmp_series);
    return n;
}

static void render_http(buf *b)
{
    static series *list[MAX_SERIES + 1];
    static pthread_mutex_t render_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&render_mu);
    size_t n = snapshot(list, MAX_SERIES + 1);

    head(b, "dinet_http_requests_total", "counter",
         "HTTP requests handled, by route pattern, method and status.");
    for (size_t i = 0; i < n; i++) {
        series *s = list[i];
        for (int c = 0; c < MAX_CODES; c++) {
            int code = atomic_load(&s->code[c]);
            if (!code)
                break;
            buf_puts(b, "dinet_http_requests_total{route=\"");
            put_label(b, s->route);
            buf_printf(b, "\",method=\"%s\",status=\"%d\"} %ld\n", methods[s->method], code,
                       atomic_load(&s->code_count[c]));
        }
        long other = atomic_load(&s->code_other);
        if (other) {
            buf_puts(b, "dinet_http_requests_total{route=\"");
            put_label(b, s->route);
            buf_printf(b, "\",method=\"%s\",status=\"other\"} %ld\n", methods[s->method], other);
        }
    }

    head(b, "dinet_http_request_duration_seconds", "histogram",
         "Time to handle a request (routing, handler, database), by route pattern and method.");
    for (size_t i = 0; i < n; i++) {
        series *s = list[i];
        /* Read the buckets first and derive the count from them, so that
         * the +Inf bucket and _count agree within one scrape. */
        long cum = 0;
        for (size_t k = 0; k <= NBOUNDS; k++) {
            cum += atomic_load(&s->bucket[k]);
            buf_puts(b, "dinet_http_request_duration_seconds_bucket{route=\"");
            put_label(b, s->route);
            if (k < NBOUNDS)
                buf_printf(b, "\",method=\"%s\",le=\"%g\"} %ld\n", methods[s->method], bounds[k],
                           cum);
            else
                buf_printf(b, "\",method=\"%s\",le=\"+Inf\"} %ld\n", methods[s->method], cum);
        }
        buf_puts(b, "dinet_http_request_duration_seconds_sum{route=\"");
        put_label(b, s->route);
        buf_printf(b, "\",method=\"%s\"} %.9f\n", methods[s->method],
                   (double)atomic_load(&s->sum_ns) / 1e9);
        buf_puts(b, "dinet_http_request_duration_seconds_count{route=\"");
        put_label(b, s->route);
        buf_printf(b, "\",method=\"%s\"} %ld\n", methods[s->method], cum);
    }
    pthread_mutex_unlock(&render_mu);
}

static void render_inbox(buf *b)
{
    char text[1024] = "";
    inbox_counters(text, sizeof text);
    static const char *const accepted[] = {"accepted", "duplicate", "ignored"};
    buf acc, rej;
    buf_init(&acc);
    buf_init(&rej);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char name[64];
        long n;
        if (sscanf(line, "%63s %ld", name, &n) != 2)
            continue;
        bool ok = false;
        for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
            ok = ok || !strcmp(name, accepted[i]);
        buf *to = ok ? &acc : &rej;
        buf_printf(to, "%s{%s=\"", ok ? "dinet_inbox_accepted_total" : "dinet_inbox_rejected_total",
                   ok ? "outcome" : "reason");
        put_label(to, name);
        buf_printf(to, "\"} %ld\n", n);
    }
    head(b, "dinet_inbox_accepted_total", "counter",
         "Inbox activities taken (accepted, duplicate, ignored) since the node started.");
    buf_puts(b, acc.p ? acc.p : "");
    head(b, "dinet_inbox_rejected_total", "counter",
         "Inbox activities refused since the node started, by reason.");
    buf_puts(b, rej.p ? rej.p : "");
    buf_free(&acc);
    buf_free(&rej);
}

static long long jint(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void render_delivery(buf *b, db *d)
{
    json_t *s = delivery_summary(d);
    head(b, "dinet_delivery_queue_depth", "gauge",
         "Outgoing deliveries waiting to be sent or retried.");
    buf_printf(b, "dinet_delivery_queue_depth %lld\n", jint(s, "pending"));
    head(b, "dinet_deliveries", "gauge",
         "Outgoing deliveries by state (failed: given up after a permanent error or 7 days; "
         "superseded: a newer Update or the Delete of the object went to the same inbox).");
    static const char *const states[] = {"pending", "failed", "done", "superseded"};
    for (size_t i = 0; i < 4; i++)
        buf_printf(b, "dinet_deliveries{state=\"%s\"} %lld\n", states[i], jint(s, states[i]));
    const char *next = json_string_value(json_object_get(s, "next_attempt"));
    time_t t = next ? util_parse_iso_time(next) : -1;
    if (t > 0) {
        head(b, "dinet_delivery_next_attempt_timestamp_seconds", "gauge",
             "When the next pending delivery is due (Unix time).");
        buf_printf(b, "dinet_delivery_next_attempt_timestamp_seconds %lld\n", (long long)t);
    }
    json_decref(s);
}

static void district_series(buf *b, json_t *list, const char *name, const char *type,
                            const char *help, const char *key)
{
    head(b, name, type, help);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        json_t *v = json_object_get(e, key);
        long long n;
        if (!strcmp(key, "last_error"))
            n = json_is_string(v) ? 1 : 0;
        else if (json_is_boolean(v))
            n = json_is_true(v) ? 1 : 0;
        else if (json_is_integer(v))
            n = (long long)json_integer_value(v);
        else
            continue; /* unknown, e.g. lag of a district never heard from */
        buf_printf(b, "%s{district=\"", name);
        put_label(b, json_string_value(json_object_get(e, "code")));
        buf_puts(b, "\",name=\"");
        put_label(b, json_string_value(json_object_get(e, "name")));
        buf_printf(b, "\"} %lld\n", n);
    }
}

static void render_districts(buf *b, db *d)
{
    json_t *l = agg_district_list(d);
    head(b, "dinet_districts_registered", "gauge", "Districts in the state node's registry.");
    buf_printf(b, "dinet_districts_registered %zu\n", json_array_size(l));
    district_series(b, l, "dinet_district_sync_lag_seconds", "gauge",
                    "Seconds since the state node last heard from the district (absent: never).",
                    "lag_seconds");
    district_series(b, l, "dinet_district_records", "gauge",
                    "Live records of the district held by the state node.", "records");
    district_series(b, l, "dinet_district_accepted_total", "counter",
                    "Activities of the district the state node ingested.", "accepted");
    district_series(b, l, "dinet_district_rejected_total", "counter",
                    "Activities of the district refused since the node started.", "rejected");
    district_series(b, l, "dinet_district_error", "gauge",
                    "1 when the last sync with the district ended in an error.", "last_error");
    district_series(b, l, "dinet_district_key_change_pending", "gauge",
                    "1 when a key change of the district waits for confirmation.",
                    "key_change_pending");
    json_decref(l);
}

static long long pragma_int(db *d, const char *sql)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    long long v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    db_done(st);
    return v;
}

static void render_db(buf *b, db *d, const config *cfg)
{
    long long pages = pragma_int(d, "PRAGMA page_count");
    long long size = pragma_int(d, "PRAGMA page_size");
    long long freel = pragma_int(d, "PRAGMA freelist_count");
    if (pages >= 0 && size > 0) {
        head(b, "dinet_database_size_bytes", "gauge",
             "Size of the SQLite database (page_count * page_size), without the WAL.");
        buf_printf(b, "dinet_database_size_bytes %lld\n", pages * size);
        if (freel >= 0) {
            head(b, "dinet_database_free_bytes", "gauge",
                 "Unused pages inside the database file (freelist_count * page_size).");
            buf_printf(b, "dinet_database_free_bytes %lld\n", freel * size);
        }
    }
    char path[1200];
    config_path(cfg, "dinet.db-wal", path, sizeof path);
    struct stat st;
    head(b, "dinet_database_wal_bytes", "gauge", "Size of the write-ahead log file.");
    buf_printf(b, "dinet_database_wal_bytes %lld\n",
               stat(path, &st) == 0 ? (long long)st.st_size : 0LL);
    head(b, "dinet_database_schema_version", "gauge", "Schema version (PRAGMA user_version).");
    buf_printf(b, "dinet_database_schema_version %lld\n", pragma_int(d, "PRAGMA user_version"));
}

static void render_process(buf *b)
{
    char *stat_txt = util_read_file("/proc/self/stat", NULL);
    char *p = stat_txt ? strrchr(stat_txt, ')') : NULL;
    if (p) {
        /* Fields after the command name, from field 3 (state) on. */
        unsigned long long f[40] = {0};
        int n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(p + 2, " ", &save); tok && n < 40;
             tok = strtok_r(NULL, " ", &save))
            f[n++] = strtoull(tok, NULL, 10);
        long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        if (n > 21 && hz > 0 && page > 0) {
            head(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
            buf_printf(b, "process_cpu_seconds_total %.2f\n", (double)(f[11] + f[12]) / (double)hz);
            head(b, "process_resident_memory_bytes", "gauge", "Resident memory size.");
            buf_printf(b, "process_resident_memory_bytes %llu\n", f[21] * (unsigned long long)page);
            head(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
            buf_printf(b, "process_virtual_memory_bytes %llu\n", f[20]);
            struct timespec now, boot;
            if (clock_gettime(CLOCK_REALTIME, &now) == 0 &&
                clock_gettime(CLOCK_BOOTTIME, &boot) == 0) {
                double up = (double)boot.tv_sec + (double)boot.tv_nsec / 1e9 -
                            (double)f[19] / (double)hz;
                head(b, "process_start_time_seconds", "gauge",
                     "Start time of the process since the Unix epoch.");
                buf_printf(b, "process_start_time_seconds %.0f\n", (double)now.tv_sec - up);
            }
        }
    }
    free(stat_txt);
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        long fds = -1; /* the directory stream itself */
        for (struct dirent *e; (e = readdir(dir)) != NULL;)
            if (e->d_name[0] != '.')
                fds++;
        closedir(dir);
        head(b, "process_open_fds", "gauge", "Open file descriptors.");
        buf_printf(b, "process_open_fds %ld\n", fds);
    }
}

void metrics_render(db *d, const config *cfg, buf *out)
{
    head(out, "dinet_build_info", "gauge", "The node's version, role and district code.");
    buf_puts(out, "dinet_build_info{version=\"" DINET_VERSION "\",role=\"");
    put_label(out, cfg->role);
    buf_puts(out, "\",district=\"");
    put_label(out, cfg->district);
    buf_puts(out, "\"} 1\n");
    render_http(out);
    render_inbox(out);
    if (d) {
        render_delivery(out, d);
        if (!strcmp(cfg->role, "state"))
            render_districts(out, d);
        render_db(out, d, cfg);
    }
    render_process(out);
}

/* ---- route ----------------------------------------------------------------- */

static void h_metrics(http_req *req, http_resp *resp)
{
    bool forwarded = http_header(req, "X-Forwarded-For") || http_header(req, "X-Real-IP") ||
                     http_header(req, "Forwarded");
    if (!metrics_access_allowed(req->client, forwarded, http_header(req, "Authorization"),
                                metrics_token(req->cfg))) {
        http_problem(resp, 403, "forbidden", "Forbidden",
                     "/metrics answers the local host, or a request with the metrics token "
                     "(Authorization: Bearer …).",
                     NULL, NULL);
        return;
    }
    resp->status = 200;
    resp->ctype = "text/plain; version=0.0.4; charset=utf-8";
    metrics_render(req->db, req->cfg, &resp->body);
    if (resp->body.oom) {
        http_problem(resp, 500, "internal", "Out of memory", NULL, NULL, NULL);
        return;
    }
    http_set_header(resp, "Cache-Control", "no-store");
}

const http_route metrics_routes[] = {
    {"GET", "/metrics", h_metrics},
    {NULL, NULL, NULL},
};
