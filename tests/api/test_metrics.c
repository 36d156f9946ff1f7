/* /metrics: the access rule (unit), the exposition format, request counters
 * and latency histograms by route, inbox accepts and rejects by reason, the
 * delivery queue, the database size, and on the state node the per-district
 * sync lag and record counts.
 *
 *  1. metrics_access_allowed(): loopback (IPv4, IPv6, IPv4-mapped) without a
 *     token; never other addresses without the token; never a request that
 *     a proxy forwarded (X-Forwarded-For …) without the token; the token from
 *     anywhere; a wrong, empty, prefix or extended token never.
 *  2. A district node (the test sets DINET_METRICS_TOKEN before starting
 *     it): every line of /metrics parses as text format 0.0.4, every sample
 *     belongs to a family with a TYPE line, no series appears twice,
 *     histogram buckets are cumulative and +Inf equals _count; requests to
 *     /healthz, a record route, a POST and an unknown path raise exactly the
 *     right counters by route pattern (never by path); an unsigned activity
 *     raises one inbox rejection; the database size is page_count *
 *     page_size of the file; X-Forwarded-For without the token is 403, with
 *     it 200, with a wrong one 403.
 *  3. A state node that registers the district: the district's Follow is
 *     counted as accepted in the district's inbox and its Accept as a done
 *     delivery; the state reports the district's sync lag (small), its
 *     record count (following a new record) and its accepted activities. */
#include "testlib.h"

#include "metrics.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLOW 3
#else
#define SLOW 1
#endif

#define TOKEN "metrics-test-token-0123456789abcdef"

/* ---- 1. the access rule ---------------------------------------------------- */

static void access_rule(void)
{
    static const char *const local[] = {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"};
    static const char *const remote[] = {"10.0.0.1",  "192.168.1.20", "203.0.113.7", "::2",
                                         "fe80::1",   "::ffff:10.0.0.1", "2001:db8::1",
                                         "0.0.0.0",   "?", "", "127.0.0.1.example",
                                         "localhost", "128.0.0.1"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        CHECK(metrics_is_loopback(local[i]), "%s is loopback", local[i]);
        CHECK(metrics_access_allowed(local[i], false, NULL, NULL), "%s without token", local[i]);
        CHECK(metrics_access_allowed(local[i], false, NULL, TOKEN),
              "%s without token while a token is configured", local[i]);
        CHECK(!metrics_access_allowed(local[i], true, NULL, TOKEN),
              "%s forwarded by a proxy needs the token", local[i]);
        CHECK(!metrics_access_allowed(local[i], true, NULL, NULL),
              "%s forwarded by a proxy, no token configured", local[i]);
        CHECK(metrics_access_allowed(local[i], true, "Bearer " TOKEN, TOKEN),
              "%s forwarded with the token", local[i]);
    }
    CHECK(!metrics_is_loopback(NULL), "NULL is no loopback");
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        CHECK(!metrics_is_loopback(remote[i]), "'%s' is not loopback", remote[i]);
        CHECK(!metrics_access_allowed(remote[i], false, NULL, NULL), "'%s' denied", remote[i]);
        CHECK(!metrics_access_allowed(remote[i], false, NULL, TOKEN), "'%s' without token denied",
              remote[i]);
        CHECK(metrics_access_allowed(remote[i], false, "Bearer " TOKEN, TOKEN),
              "'%s' with the token allowed", remote[i]);
        CHECK(metrics_access_allowed(remote[i], true, "bearer " TOKEN, TOKEN),
              "'%s' with the token (lower-case scheme) allowed", remote[i]);
    }
    const char *ip = "203.0.113.7";
    CHECK(!metrics_access_allowed(ip, false, "Bearer wrong", TOKEN), "wrong token");
    CHECK(!metrics_access_allowed(ip, false, "Bearer ", TOKEN), "empty token");
    CHECK(!metrics_access_allowed(ip, false, "Bearer metrics-test", TOKEN), "prefix of the token");
    CHECK(!metrics_access_allowed(ip, false, "Bearer " TOKEN "x", TOKEN), "token plus a character");
    CHECK(!metrics_access_allowed(ip, false, "Basic " TOKEN, TOKEN), "another scheme");
    CHECK(!metrics_access_allowed(ip, false, TOKEN, TOKEN), "no scheme");
    CHECK(!metrics_access_allowed(ip, false, "Bearer ", ""), "empty configured token is off");
    CHECK(!metrics_access_allowed(ip, false, "Bearer ", NULL), "no configured token");
    CHECK(!metrics_access_allowed(ip, false, "Bearer x", NULL), "no configured token, any value");
}

/* ---- parsing the exposition -------------------------------------------------- */

typedef struct sample {
    char key[512]; /* name{labels} exactly as sent */
    char name[128];
    double value;
} sample;

typedef struct expo {
    sample *s;
    size_t n;
    char types[64][128]; /* family names with a TYPE line */
    char kinds[64][16];
    size_t ntypes;
    int errors; /* lines that did not parse */
    char first_error[256];
} expo;

static void expo_free(expo *e)
{
    free(e->s);
    memset(e, 0, sizeof *e);
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static void bad(expo *e, const char *line)
{
    if (!e->errors++)
        snprintf(e->first_error, sizeof e->first_error, "%.200s", line);
}

/* Parses a label set starting at '{'; returns the position after '}' or
 * NULL. */
static const char *parse_labels(const char *p)
{
    if (*p != '{')
        return NULL;
    p++;
    while (*p != '}') {
        if (!name_char(*p, true))
            return NULL;
        while (name_char(*p, false))
            p++;
        if (*p++ != '=' || *p++ != '"')
            return NULL;
        while (*p && *p != '"') {
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                    return NULL;
                p++;
            } else if (*p == '\n') {
                return NULL;
            }
            p++;
        }
        if (*p++ != '"')
            return NULL;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

static void parse_expo(const char *text, expo *e)
{
    memset(e, 0, sizeof *e);
    size_t cap = 64;
    e->s = calloc(cap, sizeof *e->s);
    char *copy = strdup(text ? text : "");
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!*line)
            continue;
        if (line[0] == '#') {
            char fam[128], kind[16];
            if (!strncmp(line, "# TYPE ", 7)) {
                if (sscanf(line + 7, "%127s %15s", fam, kind) != 2 ||
                    (strcmp(kind, "counter") && strcmp(kind, "gauge") &&
                     strcmp(kind, "histogram") && strcmp(kind, "summary") &&
                     strcmp(kind, "untyped"))) {
                    bad(e, line);
                } else if (e->ntypes < 64) {
                    snprintf(e->types[e->ntypes], sizeof e->types[0], "%s", fam);
                    snprintf(e->kinds[e->ntypes++], sizeof e->kinds[0], "%s", kind);
                }
            } else if (strncmp(line, "# HELP ", 7)) {
                /* other comments are allowed */
            }
            continue;
        }
        const char *p = line;
        if (!name_char(*p, true)) {
            bad(e, line);
            continue;
        }
        while (name_char(*p, false))
            p++;
        size_t nlen = (size_t)(p - line);
        if (*p == '{' && !(p = parse_labels(p))) {
            bad(e, line);
            continue;
        }
        size_t klen = (size_t)(p - line);
        if (*p != ' ' || klen >= sizeof e->s[0].key || nlen >= sizeof e->s[0].name) {
            bad(e, line);
            continue;
        }
        char *end;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || (*end && *end != ' ')) {
            bad(e, line);
            continue;
        }
        if (e->n == cap) {
            cap *= 2;
            e->s = realloc(e->s, cap * sizeof *e->s);
        }
        sample *s = &e->s[e->n++];
        memcpy(s->key, line, klen);
        s->key[klen] = '\0';
        memcpy(s->name, line, nlen);
        s->name[nlen] = '\0';
        s->value = v;
    }
    free(copy);
}

/* The value of the series with exactly this key, or -1 when absent. */
static double val(const expo *e, const char *key)
{
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->s[i].key, key))
            return e->s[i].value;
    return -1;
}

static const char *family_kind(const expo *e, const char *sample_name)
{
    for (size_t i = 0; i < e->ntypes; i++) {
        size_t n = strlen(e->types[i]);
        if (strncmp(sample_name, e->types[i], n))
            continue;
        const char *rest = sample_name + n;
        if (!*rest)
            return e->kinds[i];
        if (!strcmp(e->kinds[i], "histogram") &&
            (!strcmp(rest, "_bucket") || !strcmp(rest, "_sum") || !strcmp(rest, "_count")))
            return e->kinds[i];
    }
    return NULL;
}

/* Structural checks of one scrape. */
static void check_format(const expo *e, const char *who)
{
    CHECK(e->errors == 0, "%s: every line parses (first bad line: %s)", who, e->first_error);
    CHECK(e->n > 20, "%s: %zu samples", who, e->n);
    for (size_t i = 0; i < e->n; i++) {
        CHECK(family_kind(e, e->s[i].name), "%s: %s has a TYPE line", who, e->s[i].key);
        for (size_t j = i + 1; j < e->n; j++)
            if (!strcmp(e->s[i].key, e->s[j].key))
                CHECK(0, "%s: %s appears twice", who, e->s[i].key);
    }
    for (size_t i = 0; i < e->ntypes; i++)
        for (size_t j = i + 1; j < e->ntypes; j++)
            CHECK(strcmp(e->types[i], e->types[j]), "%s: TYPE %s twice", who, e->types[i]);
    /* Histograms: buckets cumulative, +Inf = _count. */
    for (size_t i = 0; i < e->n; i++) {
        const sample *s = &e->s[i];
        if (strcmp(s->name, "dinet_http_request_duration_seconds_count"))
            continue;
        const char *lab = strchr(s->key, '{');
        char prefix[600];
        snprintf(prefix, sizeof prefix, "dinet_http_request_duration_seconds_bucket%.*s",
                 (int)strlen(lab) - 1, lab);
        double prev = 0, inf = -1;
        int buckets = 0;
        for (size_t j = 0; j < e->n; j++) {
            if (strncmp(e->s[j].key, prefix, strlen(prefix)) || strncmp(e->s[j].key + strlen(prefix), ",le=", 4))
                continue;
            buckets++;
            CHECK(e->s[j].value >= prev, "%s: bucket %s is cumulative", who, e->s[j].key);
            prev = e->s[j].value;
            if (strstr(e->s[j].key, "le=\"+Inf\""))
                inf = e->s[j].value;
        }
        CHECK(buckets == 14, "%s: %s has 14 buckets (%d)", who, s->key, buckets);
        CHECK(inf == s->value, "%s: +Inf bucket %g equals %s", who, inf, s->key);
    }
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET /metrics with optional extra headers; parses into e. Returns the status. */
static long scrape(tl_node *n, expo *e, const char *h1, const char *h2)
{
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", n->srv.base);
    const char *hdrs[3] = {h1, h1 ? h2 : NULL, NULL};
    tl_resp r;
    long st = tl_http(&r, "GET", url, hdrs, NULL, NULL) ? -1 : r.status;
    if (e) {
        parse_expo(st == 200 ? r.body : "", e);
        if (st == 200) {
            char *ct = tl_header(&r, "Content-Type");
            CHECK(ct && !strncmp(ct, "text/plain; version=0.0.4", 25),
                  "Content-Type of /metrics: %s", ct ? ct : "(none)");
            free(ct);
        }
    }
    tl_resp_free(&r);
    return st;
}

static double scrape_val(tl_node *n, const char *key)
{
    expo e;
    scrape(n, &e, NULL, NULL);
    double v = val(&e, key);
    expo_free(&e);
    return v;
}

static long get(tl_node *n, const char *method, const char *path, const char *token,
                const char *body, const char *extra)
{
    tl_resp r;
    long st = tl_api(&r, n, method, path, token, body, extra) ? -1 : r.status;
    tl_resp_free(&r);
    return st;
}

/* ---- 2. one district node ---------------------------------------------------- */

static tl_node D, S;

#define REQ(route, method, status)                                                                 \
    "dinet_http_requests_total{route=\"" route "\",method=\"" method "\",status=\"" status "\"}"
#define HCOUNT(route, method)                                                                      \
    "dinet_http_request_duration_seconds_count{route=\"" route "\",method=\"" method "\"}"

static double sum_prefix(const expo *e, const char *prefix)
{
    double t = 0;
    for (size_t i = 0; i < e->n; i++)
        if (!strncmp(e->s[i].key, prefix, strlen(prefix)))
            t += e->s[i].value;
    return t;
}

static void district_node(void)
{
    expo a, b;
    CHECK_INT(scrape(&D, &a, NULL, NULL), 200, "GET /metrics from 127.0.0.1");
    check_format(&a, "first scrape");
    CHECK(val(&a, "dinet_build_info{version=\"" DINET_VERSION "\",role=\"district\","
                  "district=\"15003\"}") == 1,
          "build info names version, role and district");
    CHECK(val(&a, "dinet_delivery_queue_depth") >= 0, "delivery queue depth is exported");
    CHECK(val(&a, "dinet_deliveries{state=\"failed\"}") >= 0, "failed deliveries are exported");
    CHECK(val(&a, "dinet_inbox_accepted_total{outcome=\"accepted\"}") >= 0,
          "inbox accepts are exported");
    CHECK(val(&a, "dinet_inbox_rejected_total{reason=\"bad_signature\"}") >= 0,
          "inbox rejects by reason are exported");
    CHECK(val(&a, "process_resident_memory_bytes") > 1e6, "RSS is exported");
    CHECK(val(&a, "dinet_district_sync_lag_seconds{district=\"15003\",name=\"Magdeburg\"}") < 0,
          "a district node has no per-district sync lag");

    /* Requests by route pattern. */
    double h0 = val(&a, REQ("/healthz", "GET", "200"));
    double hc0 = val(&a, HCOUNT("/healthz", "GET"));
    double m0 = val(&a, REQ("/api/v1/measures", "POST", "201"));
    double g0 = val(&a, REQ("/api/v1/measures/*", "GET", "200"));
    double u0 = val(&a, REQ("unmatched", "GET", "404"));
    double r0 = sum_prefix(&a, "dinet_inbox_rejected_total{");
    double s0 = val(&a, REQ("/metrics", "GET", "200"));
    for (int i = 0; i < 7; i++)
        CHECK_INT(get(&D, "GET", "/healthz", NULL, NULL, NULL), 200, "GET /healthz");
    tl_resp r;
    tl_api(&r, &D, "POST", "/api/v1/measures", D.token[TL_EDITOR],
           "{\"title\":\"Sprachcafé für Metriken\",\"fields_of_action\":[\"HF1\"]}", NULL);
    CHECK_INT(r.status, 201, "POST /api/v1/measures");
    char path[160];
    snprintf(path, sizeof path, "/api/v1/measures/%s",
             json_string_value(json_object_get(r.json, "id")) ? json_string_value(json_object_get(r.json, "id")) : "x");
    tl_resp_free(&r);
    for (int i = 0; i < 3; i++)
        CHECK_INT(get(&D, "GET", path, NULL, NULL, NULL), 200, "GET the measure");
    CHECK_INT(get(&D, "GET", "/no/such/page-4711", NULL, NULL, NULL), 404, "unknown path");
    CHECK_INT(get(&D, "GET", "/no/such/page-4712", NULL, NULL, NULL), 404, "unknown path");
    /* An activity without a signature: one inbox rejection. */
    long st = get(&D, "POST", "/inbox",
                  NULL, "{\"@context\":\"https://www.w3.org/ns/activitystreams\",\"id\":"
                        "\"https://unsigned.example/a/1\",\"type\":\"Follow\",\"actor\":"
                        "\"https://unsigned.example/actor\",\"object\":\"x\"}",
                  "Content-Type: application/activity+json");
    CHECK(st == 401 || st == 400, "an unsigned activity is refused (%ld)", st);

    CHECK_INT(scrape(&D, &b, NULL, NULL), 200, "second scrape");
    check_format(&b, "second scrape");
    CHECK(val(&b, REQ("/healthz", "GET", "200")) == (h0 < 0 ? 0 : h0) + 7,
          "7 more /healthz requests: %g -> %g", h0, val(&b, REQ("/healthz", "GET", "200")));
    CHECK(val(&b, HCOUNT("/healthz", "GET")) == (hc0 < 0 ? 0 : hc0) + 7,
          "7 more /healthz latencies in the histogram");
    CHECK(val(&b, REQ("/api/v1/measures", "POST", "201")) == (m0 < 0 ? 0 : m0) + 1,
          "one more POST /api/v1/measures 201");
    CHECK(val(&b, REQ("/api/v1/measures/*", "GET", "200")) == (g0 < 0 ? 0 : g0) + 3,
          "3 more GET /api/v1/measures/* 200, counted by route pattern");
    CHECK(val(&b, REQ("unmatched", "GET", "404")) == (u0 < 0 ? 0 : u0) + 2,
          "2 more unmatched 404");
    CHECK(val(&b, REQ("/metrics", "GET", "200")) == (s0 < 0 ? 0 : s0) + 1,
          "the first scrape is counted by the second");
    CHECK(sum_prefix(&b, "dinet_inbox_rejected_total{") == r0 + 1,
          "one more inbox rejection: %g -> %g", r0, sum_prefix(&b, "dinet_inbox_rejected_total{"));
    CHECK(val(&b, REQ("/inbox", "POST", "401")) + val(&b, REQ("/inbox", "POST", "400")) >= 0,
          "the refused POST /inbox is counted under its route");
    for (size_t i = 0; i < b.n; i++)
        CHECK(!strstr(b.s[i].key, "page-4711") && !strstr(b.s[i].key, path + 17),
              "no path or record id in a label: %s", b.s[i].key);

    /* Database size: page_count * page_size of the file. */
    char dbp[700];
    snprintf(dbp, sizeof dbp, "%s/dinet.db", D.srv.data);
    sqlite3 *h = NULL;
    long long pages = 0, psize = 0;
    if (sqlite3_open_v2(dbp, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, "SELECT page_count, page_size FROM pragma_page_count, "
                                  "pragma_page_size", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            pages = sqlite3_column_int64(q, 0);
            psize = sqlite3_column_int64(q, 1);
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    double size = val(&b, "dinet_database_size_bytes");
    CHECK(size > 0 && size == (double)(pages * psize), "database size %g = %lld pages * %lld",
          size, pages, psize);
    expo_free(&a);
    expo_free(&b);

    /* Access over HTTP. */
    CHECK_INT(scrape(&D, NULL, "X-Forwarded-For: 203.0.113.9", NULL), 403,
              "a request forwarded by a proxy without the token");
    CHECK_INT(scrape(&D, NULL, "X-Real-IP: 203.0.113.9", NULL), 403, "X-Real-IP without token");
    CHECK_INT(scrape(&D, NULL, "Forwarded: for=203.0.113.9", NULL), 403, "Forwarded without token");
    CHECK_INT(scrape(&D, NULL, "X-Forwarded-For: 203.0.113.9", "Authorization: Bearer nope"), 403,
              "a wrong token");
    CHECK_INT(scrape(&D, NULL, "X-Forwarded-For: 203.0.113.9", "Authorization: Bearer " TOKEN),
              200, "the metrics token");
    CHECK_INT(scrape(&D, NULL, "Authorization: Bearer nope", NULL), 200,
              "from the local host a wrong token does not matter");
}

/* ---- 3. the state node -------------------------------------------------------- */

#define LAG_KEY "dinet_district_sync_lag_seconds{district=\"15003\",name=\"Magdeburg\"}"
#define REC_KEY "dinet_district_records{district=\"15003\",name=\"Magdeburg\"}"

static bool wait_for(tl_node *n, const char *key, double atleast, double seconds)
{
    double end = mono() + seconds * SLOW;
    while (mono() < end) {
        if (scrape_val(n, key) >= atleast)
            return true;
        usleep(200000);
    }
    return false;
}

static void state_node(void)
{
    double d_acc0 = scrape_val(&D, "dinet_inbox_accepted_total{outcome=\"accepted\"}");
    char actor[128];
    snprintf(actor, sizeof actor, "%s/actor", D.srv.base);
    const char *argv[] = {"district", "add", "--data", tl_node_data(&S), "--code", "15003",
                          actor, NULL};
    CHECK_INT(tl_dinet(NULL, NULL, argv), 0, "dinet district add 15003");

    CHECK(wait_for(&D, "dinet_inbox_accepted_total{outcome=\"accepted\"}", d_acc0 + 1, 20),
          "the district's inbox counts the state's Follow as accepted");
    CHECK(wait_for(&D, "dinet_deliveries{state=\"done\"}", 1, 20),
          "the district's Accept is a done delivery");
    CHECK(wait_for(&S, REC_KEY, 1, 20), "the state reports the district's record");
    expo e;
    CHECK_INT(scrape(&S, &e, NULL, NULL), 200, "GET /metrics on the state");
    check_format(&e, "state scrape");
    CHECK(val(&e, "dinet_build_info{version=\"" DINET_VERSION "\",role=\"state\","
                  "district=\"15\"}") == 1,
          "state build info");
    CHECK(val(&e, "dinet_districts_registered") == 1, "one district registered");
    double lag = val(&e, LAG_KEY);
    CHECK(lag >= 0 && lag < 60 * SLOW, "sync lag of 15003 is small: %g", lag);
    CHECK(val(&e, "dinet_district_error{district=\"15003\",name=\"Magdeburg\"}") == 0,
          "no sync error");
    CHECK(val(&e, "dinet_district_key_change_pending{district=\"15003\",name=\"Magdeburg\"}") == 0,
          "no key change pending");
    CHECK(val(&e, "dinet_district_accepted_total{district=\"15003\",name=\"Magdeburg\"}") >= 0,
          "accepted activities of the district are exported");
    double recs = val(&e, REC_KEY);
    expo_free(&e);

    /* A new record on the district reaches the state through its inbox. */
    double s_acc0 = scrape_val(&S, "dinet_inbox_accepted_total{outcome=\"accepted\"}");
    CHECK_INT(get(&D, "POST", "/api/v1/organisations", D.token[TL_EDITOR],
                  "{\"name\":\"Metrik e. V.\",\"kind\":\"civil_society\"}", NULL),
              201, "POST /api/v1/organisations on the district");
    CHECK(wait_for(&S, REC_KEY, recs + 1, 20), "the state's record count of 15003 follows");
    CHECK(wait_for(&S, "dinet_inbox_accepted_total{outcome=\"accepted\"}", s_acc0 + 1, 20),
          "the state's inbox counts the district's Create as accepted");
    CHECK(scrape_val(&S, LAG_KEY) < 10 * SLOW, "sync lag after live delivery is small");
}

int main(void)
{
    access_rule();
    setenv("DINET_METRICS_TOKEN", TOKEN, 1);
    if (tl_node_setup_role(&D, "metrics-d", "district", "15003", NULL) ||
        tl_node_setup_state(&S, "metrics-s", NULL)) {
        CHECK(0, "nodes start");
        return tl_done();
    }
    district_node();
    state_node();
    CHECK_INT(tl_server_stop(&S.srv), 0, "state stops cleanly");
    CHECK_INT(tl_server_stop(&D.srv), 0, "district stops cleanly");
    return tl_done();
}
