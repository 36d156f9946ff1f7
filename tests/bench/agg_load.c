/* tests/bench/agg_load.c: load generator and latency meter for bench_aggregate.sh.
 *
 *   agg_load latency --targets FILE --state URL [--writes 50] [--spread 20]
 *                    [--poll-ms 10] [--drain 30] [--out FILE] [--seed N] [--max-seconds 300]
 *   agg_load bulk    --targets FILE [--changes 100000] [--seconds 300] [--conns 2]
 *                    [--create-ratio 0.25] [--seed N] [--max-seconds 900]
 *   agg_load threads --pid PID [--interval-ms 10] [--max-seconds 900]
 *
 * FILE has one line per district node: "CODE BASE_URL EDITOR_TOKEN".
 *
 * latency: every district writes --writes measures (creates and updates alternately,
 * the first a create) through POST/PATCH /api/v1/measures, one connection per district,
 * the writes spread evenly over --spread seconds and the districts staggered. One
 * poller reads the state's outbox (GET /actor/outbox?page=true&after=LAST, every
 * --poll-ms): the state announces each version it replicates, in the same transaction
 * that stores it. For each announced record, one GET /api/v1/measures/ID on the
 * state reads the version it holds (the state may announce a new record before
 * the district's 201 has been read here: such a write counts as 0 ms and as "seen
 * before the 2xx was read"). A write's latency is
 * from the district's 2xx answer to the completion of the first state GET that shows
 * its version or a later one. Writes still unseen 1 s after their answer are also
 * checked directly every 500 ms (a safety net, counted). Prints key=value lines; --out
 * gets one line per write: code op id version latency_ms.
 *
 * bulk: --conns connections per district write as fast as the districts answer, until
 * --changes writes have succeeded or --seconds have passed; each connection creates
 * records (share --create-ratio) and updates its own records (If-Match with the version
 * it knows). Prints the counts and the write rate as key=value lines.
 *
 * threads: until PID ends, SIGINT/SIGTERM or --max-seconds, samples every thread of
 * PID every --interval-ms: running or runnable (state R), else the system call it is
 * blocked in (/proc/PID/task/TID/syscall). Also reads each thread's schedstat at the
 * start and the end (CPU time, time spent waiting for a CPU). Prints one line per
 * thread; the thread created last is marked (in a state node, the sync worker).
 *
 * Only the URLs in FILE and --state are contacted; the script gives 127.0.0.1 ones.
 * Every request has a 30 s timeout and the program ends after --max-seconds whatever
 * happens. Build: gcc -O2 -o agg_load agg_load.c $(pkg-config --cflags --libs libcurl jansson)
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#define MAXD 32
#define REQ_TIMEOUT_MS 30000L

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *msg)
{
    fprintf(stderr, "agg_load: %s\n", msg);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        die("out of memory");
    return p;
}

/* xorshift64*: deterministic per seed. */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static double rnd01(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- growable buffer for response bodies ---------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} buf;

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, add);
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

/* ---- districts ------------------------------------------------------------- */

typedef struct {
    char code[16];
    char *url, *auth;
} target;

static target targets[MAXD];
static int ntargets;

static void read_targets(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot read the targets file");
    char line[4096];
    while (fgets(line, sizeof line, f) && ntargets < MAXD) {
        char code[16], url[1024], tok[1024];
        if (sscanf(line, "%15s %1023s %1023s", code, url, tok) != 3)
            continue;
        if (strncmp(url, "http://127.", 11))
            die("only http://127.x.y.z targets are allowed");
        target *t = &targets[ntargets++];
        snprintf(t->code, sizeof t->code, "%s", code);
        t->url = xstrdup(url);
        size_t n = strlen(tok) + 32;
        t->auth = xmalloc(n);
        snprintf(t->auth, n, "Authorization: Bearer %s", tok);
    }
    fclose(f);
    if (!ntargets)
        die("no targets");
}

/* ---- request bodies ---------------------------------------------------------- */

static const char *fields[] = {"HF1", "HF2", "HF3", "HF4", "HF5", "HF6", "HF7"};
static const char *themes[] = {"QT1", "QT2", "QT3"};
static const char *statuses[] = {"planned", "active", "completed", "paused"};
static const char *words[] = {"Sprachkurs", "Beratung",   "Lotsen", "Elterncafé", "Begegnung",
                              "Ausbildung", "Gesundheit", "Sport",  "Kultur",     "Ehrenamt"};

static char *create_body(long n)
{
    const char *w = words[rnd() % 10];
    int f1 = (int)(rnd() % 7), f2 = (int)(rnd() % 7);
    char flist[32];
    if (f2 != f1 && rnd() % 2)
        snprintf(flist, sizeof flist, "\"%s\",\"%s\"", fields[f1], fields[f2]);
    else
        snprintf(flist, sizeof flist, "\"%s\"", fields[f1]);
    char *b = NULL;
    if (asprintf(&b,
                 "{\"title\":\"%s %ld für Zugewanderte\",\"description\":\"Maßnahme %ld: %s im "
                 "Quartier, mit Sprachmittlung und Kinderbetreuung; Benchmark-Daten.\","
                 "\"fields_of_action\":[%s],\"themes\":[\"%s\"],\"status\":\"%s\","
                 "\"progress\":%d,\"start_date\":\"2024-%02d-%02d\",\"end_date\":\"2026-12-31\","
                 "\"target_groups\":[\"Geflüchtete\",\"Familien\"]}",
                 w, n, n, w, flist, themes[rnd() % 3], statuses[rnd() % 4], (int)(rnd() % 101),
                 (int)(rnd() % 12 + 1), (int)(rnd() % 28 + 1)) < 0)
        die("out of memory");
    return b;
}

static char *update_body(long n)
{
    char *b = NULL;
    int r;
    if (n % 3 == 0)
        r = asprintf(&b,
                     "{\"progress\":%d,\"status\":\"%s\",\"description\":\"Stand %ld: "
                     "Teilnehmende aus %d Ländern, Sprachmittlung in %d Sprachen.\"}",
                     (int)(rnd() % 101), statuses[rnd() % 4], n, (int)(rnd() % 40 + 1),
                     (int)(rnd() % 9 + 1));
    else
        r = asprintf(&b, "{\"progress\":%d,\"status\":\"%s\"}", (int)(rnd() % 101),
                     statuses[rnd() % 4]);
    if (r < 0)
        die("out of memory");
    return b;
}

/* ---- one write connection -------------------------------------------------- */

typedef struct {
    char id[64];
    long version;
} rec;

typedef struct conn {
    int d; /* index into targets */
    CURL *h;
    struct curl_slist *hdrs;
    char *body;
    buf resp;
    bool busy;
    bool is_create;
    int upd_idx; /* record updated, index into recs */
    double t_send;
    rec *recs;
    int nrecs, caprecs;
    long seq; /* writes made by this connection */
    int wref; /* latency mode: index of the write in flight */
} conn;

static void conn_add_rec(conn *c, const char *id, long version)
{
    if (c->nrecs == c->caprecs) {
        c->caprecs = c->caprecs ? c->caprecs * 2 : 64;
        c->recs = realloc(c->recs, (size_t)c->caprecs * sizeof *c->recs);
        if (!c->recs)
            die("out of memory");
    }
    snprintf(c->recs[c->nrecs].id, sizeof c->recs[0].id, "%s", id);
    c->recs[c->nrecs].version = version;
    c->nrecs++;
}

/* Starts a write on c: a create, or an update of one of its records. */
static void conn_start(CURLM *m, conn *c, bool create)
{
    target *t = &targets[c->d];
    char url[1200], im[64];
    curl_easy_reset(c->h);
    curl_slist_free_all(c->hdrs);
    c->hdrs = NULL;
    free(c->body);
    c->resp.len = 0;
    if (c->resp.p)
        c->resp.p[0] = '\0';
    c->hdrs = curl_slist_append(c->hdrs, t->auth);
    c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/json");
    c->hdrs = curl_slist_append(c->hdrs, "Expect:");
    c->is_create = create || c->nrecs == 0;
    c->seq++;
    if (c->is_create) {
        snprintf(url, sizeof url, "%s/api/v1/measures", t->url);
        c->body = create_body(c->seq * 1000 + c->d);
        curl_easy_setopt(c->h, CURLOPT_POST, 1L);
    } else {
        c->upd_idx = (int)(rnd() % (uint64_t)c->nrecs);
        rec *r = &c->recs[c->upd_idx];
        snprintf(url, sizeof url, "%s/api/v1/measures/%s", t->url, r->id);
        snprintf(im, sizeof im, "If-Match: \"%ld\"", r->version);
        c->hdrs = curl_slist_append(c->hdrs, im);
        c->body = update_body(c->seq);
        curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, "PATCH");
    }
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->resp);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
    c->t_send = now_ms();
    c->busy = true;
    curl_multi_add_handle(m, c->h);
}

/* Reads the answer of c's write: returns the HTTP status; on 2xx fills id/version
 * and updates c's record list. */
static long conn_finish(conn *c, char *id, size_t idlen, long *version)
{
    long code = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
    c->busy = false;
    id[0] = '\0';
    *version = 0;
    if (code < 200 || code > 299)
        return code;
    json_t *j = json_loadb(c->resp.p ? c->resp.p : "", c->resp.len, 0, NULL);
    const char *rid = json_string_value(json_object_get(j, "id"));
    *version = (long)json_integer_value(json_object_get(j, "version"));
    if (rid && *version > 0) {
        snprintf(id, idlen, "%s", rid);
        if (c->is_create)
            conn_add_rec(c, rid, *version);
        else
            c->recs[c->upd_idx].version = *version;
    } else {
        code = 999; /* a 2xx without id/version: count as a failure */
    }
    json_decref(j);
    return code;
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int s)
{
    (void)s;
    stop_flag = 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
    if (!n)
        return NAN;
    /* nearest rank */
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return sorted[k - 1];
}

/* ---- latency mode ---------------------------------------------------------------- */

typedef struct {
    int d;
    bool create;
    char id[64];
    long version;
    double t_resp, lat;
    bool ok, seen, before_resp;
} write_rec;

/* Records we wrote, by id: what the state showed last. */
typedef struct entry {
    char id[64];
    long seen_ver;
    bool inflight, recheck;
    double last_check;
    int *writes;
    int nwrites, capw;
    struct entry *next;
} entry;

#define HBUCKETS 4096
static entry *htab[HBUCKETS];

static unsigned hash_s(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % HBUCKETS;
}

static entry *lookup(const char *id, bool create)
{
    unsigned h = hash_s(id);
    for (entry *e = htab[h]; e; e = e->next)
        if (!strcmp(e->id, id))
            return e;
    if (!create)
        return NULL;
    entry *e = xmalloc(sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->next = htab[h];
    htab[h] = e;
    return e;
}

typedef struct {
    CURL *h;
    buf resp;
    entry *e;
    bool busy, direct;
} checker;

#define NCHECK 8

static int run_latency(const char *state, int writes, double spread, double poll_ms, double drain_s,
                       const char *out_path, double max_s)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
    int nd = ntargets;
    conn *conns = xmalloc((size_t)nd * sizeof *conns);
    for (int i = 0; i < nd; i++) {
        conns[i].d = i;
        conns[i].h = curl_easy_init();
    }
    int total = nd * writes;
    write_rec *w = xmalloc((size_t)total * sizeof *w);
    int *next_i = xmalloc((size_t)nd * sizeof *next_i);
    double gap = spread * 1000.0 / writes; /* ms between a district's writes */

    /* Pending-check queue: entries waiting for a free checker. */
    entry **queue = xmalloc((size_t)(total + 16) * sizeof *queue);
    int qhead = 0, qtail = 0, qcap = total + 16;
    checker ck[NCHECK];
    memset(ck, 0, sizeof ck);
    for (int i = 0; i < NCHECK; i++)
        ck[i].h = curl_easy_init();

    /* The outbox poller: first the newest item, to start after it. */
    CURL *ph = curl_easy_init();
    buf pb = {0};
    char cursor[1024] = "";
    bool poll_busy = false, poll_started = false;
    double next_poll = 0;
    long polls = 0, announces = 0, checks = 0, direct_checks = 0, poll_errors = 0;
    char purl[3000];

    {
        snprintf(purl, sizeof purl, "%s/actor/outbox?page=true&limit=1", state);
        curl_easy_setopt(ph, CURLOPT_URL, purl);
        curl_easy_setopt(ph, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(ph, CURLOPT_WRITEDATA, &pb);
        curl_easy_setopt(ph, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS);
        if (curl_easy_perform(ph) != CURLE_OK)
            die("cannot read the state's outbox");
        json_t *j = json_loadb(pb.p, pb.len, 0, NULL);
        json_t *it = json_array_get(json_object_get(j, "orderedItems"), 0);
        if (json_string_value(json_object_get(it, "id")))
            snprintf(cursor, sizeof cursor, "%s", json_string_value(json_object_get(it, "id")));
        json_decref(j);
    }

    double t0 = now_ms() + 200, deadline = t0 + max_s * 1000;
    for (int d = 0; d < nd; d++)
        next_i[d] = 0;
    int done_writes = 0, failed = 0;
    double writes_end = 0;
    long fail_codes[8] = {0};

#define ENQUEUE(E)                                                                                 \
    do {                                                                                           \
        if ((E)->inflight) {                                                                       \
            (E)->recheck = true;                                                                   \
        } else if (qtail - qhead < qcap) {                                                         \
            queue[qtail % qcap] = (E);                                                             \
            qtail++;                                                                               \
            (E)->inflight = true;                                                                  \
        }                                                                                          \
    } while (0)

    for (;;) {
        double now = now_ms();
        if (stop_flag || now > deadline)
            break;
        /* Start due writes. */
        for (int d = 0; d < nd; d++) {
            if (conns[d].busy || next_i[d] >= writes)
                continue;
            double due = t0 + d * gap / nd + next_i[d] * gap;
            if (now < due)
                continue;
            int k = d * writes + next_i[d];
            w[k].d = d;
            w[k].create = next_i[d] % 2 == 0;
            conns[d].wref = k;
            conn_start(m, &conns[d], w[k].create);
            w[k].create = conns[d].is_create;
            next_i[d]++;
        }
        /* Poll the outbox. */
        if (!poll_busy && now >= next_poll) {
            char *enc = cursor[0] ? curl_easy_escape(ph, cursor, 0) : NULL;
            if (enc)
                snprintf(purl, sizeof purl, "%s/actor/outbox?page=true&limit=100&after=%s", state,
                         enc);
            else
                snprintf(purl, sizeof purl, "%s/actor/outbox?page=true&limit=100&min_id=0", state);
            curl_free(enc);
            pb.len = 0;
            curl_easy_setopt(ph, CURLOPT_URL, purl);
            curl_easy_setopt(ph, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(ph, CURLOPT_PRIVATE, NULL);
            curl_multi_add_handle(m, ph);
            poll_busy = true;
            poll_started = true;
            next_poll = now + poll_ms;
            polls++;
        }
        /* Safety net: writes unseen for 1 s are checked directly every 500 ms. */
        for (int k = 0; k < total; k++) {
            if (!w[k].ok || w[k].seen || now - w[k].t_resp < 1000)
                continue;
            entry *e = lookup(w[k].id, false);
            if (e && !e->inflight && now - e->last_check > 500) {
                ENQUEUE(e);
                direct_checks++;
            }
        }
        /* Start checks. */
        for (int i = 0; i < NCHECK && qhead < qtail; i++) {
            if (ck[i].busy)
                continue;
            entry *e = queue[qhead % qcap];
            qhead++;
            char url[1200];
            snprintf(url, sizeof url, "%s/api/v1/measures/%s", state, e->id);
            curl_easy_reset(ck[i].h);
            ck[i].resp.len = 0;
            ck[i].e = e;
            ck[i].busy = true;
            curl_easy_setopt(ck[i].h, CURLOPT_URL, url);
            curl_easy_setopt(ck[i].h, CURLOPT_WRITEFUNCTION, on_body);
            curl_easy_setopt(ck[i].h, CURLOPT_WRITEDATA, &ck[i].resp);
            curl_easy_setopt(ck[i].h, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS);
            curl_easy_setopt(ck[i].h, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(ck[i].h, CURLOPT_PRIVATE, &ck[i]);
            curl_multi_add_handle(m, ck[i].h);
            checks++;
        }

        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode res = msg->data.result;
            curl_multi_remove_handle(m, h);
            double t = now_ms();
            if (h == ph) {
                poll_busy = false;
                long code = 0;
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
                json_t *j =
                    res == CURLE_OK && code == 200 ? json_loadb(pb.p, pb.len, 0, NULL) : NULL;
                if (!j) {
                    poll_errors++;
                    continue;
                }
                json_t *items = json_object_get(j, "orderedItems");
                size_t i;
                json_t *it;
                json_array_foreach(items, i, it)
                {
                    const char *aid = json_string_value(json_object_get(it, "id"));
                    if (aid)
                        snprintf(cursor, sizeof cursor, "%s", aid);
                    const char *obj = json_string_value(json_object_get(it, "object"));
                    if (!obj)
                        continue;
                    announces++;
                    /* Also ids we have not seen an answer for yet: the state can
                     * show a new record before we have read the district's 201. */
                    const char *slash = strrchr(obj, '/');
                    entry *e = lookup(slash ? slash + 1 : obj, true);
                    ENQUEUE(e);
                }
                if (json_array_size(items) == 100)
                    next_poll = 0; /* more waiting: at once */
                json_decref(j);
                continue;
            }
            void *priv = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
            bool is_check = false;
            for (int i = 0; i < NCHECK; i++)
                if (priv == &ck[i])
                    is_check = true;
            if (is_check) {
                checker *c = priv;
                entry *e = c->e;
                c->busy = false;
                e->inflight = false;
                e->last_check = t;
                long code = 0;
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
                if (res == CURLE_OK && code == 200) {
                    json_t *j = json_loadb(c->resp.p, c->resp.len, 0, NULL);
                    long v = (long)json_integer_value(json_object_get(j, "version"));
                    json_decref(j);
                    if (v > e->seen_ver) {
                        e->seen_ver = v;
                        for (int x = 0; x < e->nwrites; x++) {
                            write_rec *wr = &w[e->writes[x]];
                            if (!wr->seen && wr->version <= v) {
                                wr->seen = true;
                                wr->lat = t - wr->t_resp;
                            }
                        }
                    }
                }
                if (e->recheck) {
                    e->recheck = false;
                    ENQUEUE(e);
                }
                continue;
            }
            conn *c = priv;
            write_rec *wr = &w[c->wref];
            char id[64];
            long v;
            long code = res == CURLE_OK ? conn_finish(c, id, sizeof id, &v) : (c->busy = false, 0);
            done_writes++;
            if (done_writes == total)
                writes_end = t;
            if (code < 200 || code > 299) {
                failed++;
                fail_codes[code == 0 ? 0 : code < 400 ? 1 : code < 500 ? 2 : 3]++;
                continue;
            }
            wr->ok = true;
            wr->t_resp = t;
            snprintf(wr->id, sizeof wr->id, "%s", id);
            wr->version = v;
            entry *e = lookup(id, true);
            if (e->nwrites == e->capw) {
                e->capw = e->capw ? e->capw * 2 : 8;
                e->writes = realloc(e->writes, (size_t)e->capw * sizeof *e->writes);
                if (!e->writes)
                    die("out of memory");
            }
            e->writes[e->nwrites++] = c->wref;
            if (e->seen_ver >= v) { /* the state showed it before we read the answer */
                wr->seen = true;
                wr->before_resp = true;
                wr->lat = 0;
            }
        }
        /* Finished? */
        if (done_writes == total) {
            bool all = true;
            for (int k = 0; k < total && all; k++)
                if (w[k].ok && !w[k].seen)
                    all = false;
            if (all || now_ms() > writes_end + drain_s * 1000)
                break;
        }
        /* Sleep until the next event, at most poll_ms. */
        double wait = poll_ms;
        double n2 = now_ms();
        if (next_poll - n2 < wait)
            wait = next_poll - n2;
        for (int d = 0; d < nd; d++) {
            if (conns[d].busy || next_i[d] >= writes)
                continue;
            double due = t0 + d * gap / nd + next_i[d] * gap;
            if (due - n2 < wait)
                wait = due - n2;
        }
        if (wait < 0)
            wait = 0;
        int nfds;
        curl_multi_poll(m, NULL, 0, (int)wait, &nfds);
    }
    (void)poll_started;

    /* Results. */
    double *lat = xmalloc((size_t)total * sizeof *lat);
    size_t n = 0;
    int ok = 0, unseen = 0, before = 0, creates = 0;
    FILE *out = out_path ? fopen(out_path, "w") : NULL;
    for (int k = 0; k < total; k++) {
        if (!w[k].ok)
            continue;
        ok++;
        creates += w[k].create;
        if (w[k].before_resp)
            before++;
        if (w[k].seen)
            lat[n++] = w[k].lat;
        else
            unseen++;
        if (out)
            fprintf(out, "%s %s %s %ld %.2f\n", targets[w[k].d].code,
                    w[k].create ? "create" : "update", w[k].id, w[k].version,
                    w[k].seen ? w[k].lat : -1.0);
    }
    if (out)
        fclose(out);
    qsort(lat, n, sizeof *lat, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lat[i];
    size_t over200 = 0;
    for (size_t i = 0; i < n; i++)
        over200 += lat[i] >= 200;
    double elapsed = (writes_end > 0 ? writes_end : now_ms()) - t0;
    printf("writes=%d\nwrites_ok=%d\ncreates=%d\nupdates=%d\nwrites_failed=%d\n", total, ok,
           creates, ok - creates, failed);
    printf("fail_transport=%ld\nfail_3xx=%ld\nfail_4xx=%ld\nfail_5xx=%ld\n", fail_codes[0],
           fail_codes[1], fail_codes[2], fail_codes[3]);
    printf("write_seconds=%.2f\nwrite_rate=%.1f\n", elapsed / 1000, ok / (elapsed / 1000));
    printf("seen=%zu\nunseen=%d\nseen_before_response=%d\n", n, unseen, before);
    printf("lat_p50_ms=%.1f\nlat_p90_ms=%.1f\nlat_p99_ms=%.1f\nlat_max_ms=%.1f\nlat_mean_ms=%.1f\n",
           pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99), n ? lat[n - 1] : NAN,
           n ? sum / (double)n : NAN);
    printf("lat_share_200ms_or_more=%.1f\n", n ? 100.0 * (double)over200 / (double)n : 0.0);
    printf("polls=%ld\npoll_errors=%ld\nannounces=%ld\nchecks=%ld\nsafety_net_checks=%ld\n", polls,
           poll_errors, announces, checks, direct_checks);
    return unseen || failed ? 1 : 0;
}

/* ---- bulk mode ------------------------------------------------------------------- */

static int run_bulk(long changes, double seconds, int per, double create_ratio, double max_s)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)per);
    int nc = ntargets * per;
    conn *conns = xmalloc((size_t)nc * sizeof *conns);
    long *ok_by = xmalloc((size_t)ntargets * sizeof *ok_by);
    for (int i = 0; i < nc; i++) {
        conns[i].d = i % ntargets;
        conns[i].h = curl_easy_init();
    }
    long started = 0, ok = 0, creates = 0, failed = 0, codes[4] = {0};
    double t0 = now_ms(), stop_at = t0 + seconds * 1000, hard = t0 + max_s * 1000;
    double next_report = t0 + 10000, t_end = t0;
    double *lat = NULL;
    size_t nlat = 0, caplat = 0;
    for (;;) {
        double now = now_ms();
        bool can_start = !stop_flag && now < stop_at && started < changes;
        int busy = 0;
        for (int i = 0; i < nc; i++) {
            if (!conns[i].busy && can_start && started < changes) {
                conn_start(m, &conns[i], rnd01() < create_ratio);
                started++;
            }
            busy += conns[i].busy;
        }
        if (!busy || now > hard)
            break;
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode res = msg->data.result;
            curl_multi_remove_handle(m, h);
            conn *c = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, &c);
            char id[64];
            long v;
            double t = now_ms();
            long code = res == CURLE_OK ? conn_finish(c, id, sizeof id, &v) : (c->busy = false, 0);
            t_end = t;
            if (code >= 200 && code <= 299) {
                ok++;
                ok_by[c->d]++;
                creates += c->is_create;
                if (nlat == caplat) {
                    caplat = caplat ? caplat * 2 : 4096;
                    lat = realloc(lat, caplat * sizeof *lat);
                    if (!lat)
                        die("out of memory");
                }
                lat[nlat++] = t - c->t_send;
            } else {
                failed++;
                codes[code == 0 ? 0 : code < 400 ? 1 : code < 500 ? 2 : 3]++;
                if (failed <= 5)
                    fprintf(stderr, "agg_load: write to %s failed: HTTP %ld %s\n",
                            targets[c->d].code, code, c->resp.p ? c->resp.p : "");
            }
        }
        if (now_ms() >= next_report) {
            fprintf(stderr, "   %.0f s: %ld changes written (%.0f/s), %ld failed\n",
                    (now_ms() - t0) / 1000, ok, ok / ((now_ms() - t0) / 1000), failed);
            next_report += 10000;
        }
        int nfds;
        curl_multi_poll(m, NULL, 0, 100, &nfds);
    }
    double el = (t_end - t0) / 1000;
    qsort(lat, nlat, sizeof *lat, cmp_double);
    printf("changes=%ld\ncreates=%ld\nupdates=%ld\nfailed=%ld\n", ok, creates, ok - creates,
           failed);
    printf("fail_transport=%ld\nfail_3xx=%ld\nfail_4xx=%ld\nfail_5xx=%ld\n", codes[0], codes[1],
           codes[2], codes[3]);
    printf("seconds=%.2f\nrate=%.1f\nconnections=%d\n", el, el > 0 ? ok / el : 0.0, nc);
    printf("write_p50_ms=%.1f\nwrite_p99_ms=%.1f\n", pct(lat, nlat, 50), pct(lat, nlat, 99));
    printf("per_district=");
    for (int d = 0; d < ntargets; d++)
        printf("%s%s:%ld", d ? "," : "", targets[d].code, ok_by[d]);
    printf("\n");
    return failed ? 1 : 0;
}

/* ---- threads mode ------------------------------------------------------------------ */

#define MAXT 64
#define NSYS 8

typedef struct {
    long tid;
    long samples, running;
    long sys_nr[NSYS], sys_n[NSYS], sys_other;
    unsigned long long cpu0, wait0, cpu1, wait1;
    bool have0, alive;
} tstat;

static bool read_schedstat(long pid, long tid, unsigned long long *cpu, unsigned long long *wait)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/schedstat", pid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fscanf(f, "%llu %llu", cpu, wait) == 2;
    fclose(f);
    return ok;
}

static const char *sys_name(long nr)
{
    switch (nr) {
    case 0:
        return "read";
    case 1:
        return "write";
    case 7:
        return "poll";
    case 17:
        return "pread64";
    case 18:
        return "pwrite64";
    case 23:
        return "select";
    case 35:
        return "nanosleep";
    case 74:
        return "fsync";
    case 75:
        return "fdatasync";
    case 202:
        return "futex";
    case 230:
        return "clock_nanosleep";
    case 232:
        return "epoll_wait";
    case 270:
        return "pselect6";
    case 271:
        return "ppoll";
    case 281:
        return "epoll_pwait";
    default:
        return NULL;
    }
}

static int run_threads(long pid, double interval_ms, double max_s)
{
    tstat *ts = xmalloc(MAXT * sizeof *ts);
    int nt = 0;
    double t0 = now_ms(), deadline = t0 + max_s * 1000;
    char path[128];
    long nsamples = 0;
    while (!stop_flag && now_ms() < deadline) {
        snprintf(path, sizeof path, "/proc/%ld/task", pid);
        DIR *dir = opendir(path);
        if (!dir)
            break; /* the process has ended */
        struct dirent *de;
        for (int i = 0; i < nt; i++)
            ts[i].alive = false;
        while ((de = readdir(dir))) {
            long tid = atol(de->d_name);
            if (tid <= 0)
                continue;
            int i;
            for (i = 0; i < nt && ts[i].tid != tid; i++)
                ;
            if (i == nt) {
                if (nt == MAXT)
                    continue;
                memset(&ts[nt], 0, sizeof ts[nt]);
                ts[nt].tid = tid;
                ts[nt].have0 = read_schedstat(pid, tid, &ts[nt].cpu0, &ts[nt].wait0);
                nt++;
            }
            tstat *t = &ts[i];
            t->alive = true;
            char st[512] = "";
            snprintf(path, sizeof path, "/proc/%ld/task/%ld/stat", pid, tid);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            size_t n = fread(st, 1, sizeof st - 1, f);
            fclose(f);
            st[n] = '\0';
            const char *p = strrchr(st, ')');
            char state = p && p[1] == ' ' ? p[2] : '?';
            t->samples++;
            read_schedstat(pid, tid, &t->cpu1, &t->wait1);
            if (state == 'R') {
                t->running++;
                continue;
            }
            snprintf(path, sizeof path, "/proc/%ld/task/%ld/syscall", pid, tid);
            f = fopen(path, "r");
            long nr = -1;
            if (f) {
                char line[256] = "";
                if (fgets(line, sizeof line, f) && strncmp(line, "running", 7))
                    nr = atol(line);
                fclose(f);
            }
            int k;
            for (k = 0; k < NSYS && t->sys_n[k] && t->sys_nr[k] != nr; k++)
                ;
            if (k < NSYS) {
                t->sys_nr[k] = nr;
                t->sys_n[k]++;
            } else {
                t->sys_other++;
            }
        }
        closedir(dir);
        nsamples++;
        struct timespec rq = {0, (long)(interval_ms * 1e6)};
        nanosleep(&rq, NULL);
    }
    double el = (now_ms() - t0) / 1000;
    long last = 0;
    for (int i = 0; i < nt; i++)
        if (ts[i].tid > last)
            last = ts[i].tid;
    printf("sampled %ld times over %.1f s, every %.0f ms\n", nsamples, el, interval_ms);
    for (int i = 0; i < nt; i++) {
        tstat *t = &ts[i];
        if (!t->samples)
            continue;
        printf("tid %ld%s: cpu %.1f s, waiting for a cpu %.1f s; samples: running/runnable %.0f%%",
               t->tid, t->tid == last ? " (created last: sync worker)" : "",
               t->have0 ? (double)(t->cpu1 - t->cpu0) / 1e9 : (double)t->cpu1 / 1e9,
               t->have0 ? (double)(t->wait1 - t->wait0) / 1e9 : (double)t->wait1 / 1e9,
               100.0 * (double)t->running / (double)t->samples);
        for (int k = 0; k < NSYS && t->sys_n[k]; k++) {
            const char *nm = sys_name(t->sys_nr[k]);
            if (nm)
                printf(", %s %.0f%%", nm, 100.0 * (double)t->sys_n[k] / (double)t->samples);
            else
                printf(", syscall %ld %.0f%%", t->sys_nr[k],
                       100.0 * (double)t->sys_n[k] / (double)t->samples);
        }
        if (t->sys_other)
            printf(", other %.0f%%", 100.0 * (double)t->sys_other / (double)t->samples);
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: agg_load latency|bulk --targets FILE ... (see the source)");
    const char *mode = argv[1], *tfile = NULL, *state = NULL, *out = NULL;
    int writes = 50, conns = 2;
    double spread = 20, poll_ms = 10, drain = 30, seconds = 300, ratio = 0.25, max_s = 0;
    long changes = 100000, pid = 0;
    double interval = 10;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("an option lacks its value");
        if (!strcmp(a, "--targets"))
            tfile = v;
        else if (!strcmp(a, "--state"))
            state = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--writes"))
            writes = atoi(v);
        else if (!strcmp(a, "--spread"))
            spread = atof(v);
        else if (!strcmp(a, "--poll-ms"))
            poll_ms = atof(v);
        else if (!strcmp(a, "--drain"))
            drain = atof(v);
        else if (!strcmp(a, "--changes"))
            changes = atol(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--conns"))
            conns = atoi(v);
        else if (!strcmp(a, "--create-ratio"))
            ratio = atof(v);
        else if (!strcmp(a, "--seed"))
            rng_state = strtoull(v, NULL, 10) * 2654435761ULL + 1;
        else if (!strcmp(a, "--pid"))
            pid = atol(v);
        else if (!strcmp(a, "--interval-ms"))
            interval = atof(v);
        else if (!strcmp(a, "--max-seconds"))
            max_s = atof(v);
        else
            die("unknown option");
        i++;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (!strcmp(mode, "threads")) {
        if (pid <= 0 || interval < 1)
            die("threads needs --pid PID (and --interval-ms >= 1)");
        if (max_s <= 0)
            max_s = 900;
        alarm((unsigned)max_s + 30);
        return run_threads(pid, interval, max_s);
    }
    if (!tfile)
        die("--targets is required");
    read_targets(tfile);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* A hard limit whatever happens. */
    if (!strcmp(mode, "latency")) {
        if (!state || strncmp(state, "http://127.", 11))
            die("--state must be an http://127.x.y.z URL");
        if (writes < 1 || spread <= 0 || poll_ms < 1)
            die("bad --writes, --spread or --poll-ms");
        if (max_s <= 0)
            max_s = spread + drain + 120;
        alarm((unsigned)max_s + 30);
        return run_latency(state, writes, spread, poll_ms, drain, out, max_s);
    }
    if (!strcmp(mode, "bulk")) {
        if (changes < 1 || seconds <= 0 || conns < 1 || conns > 16 || ratio < 0 || ratio > 1)
            die("bad --changes, --seconds, --conns or --create-ratio");
        if (max_s <= 0)
            max_s = seconds + 120;
        alarm((unsigned)max_s + 30);
        return run_bulk(changes, seconds, conns, ratio, max_s);
    }
    die("mode must be latency or bulk");
    return 2;
}
