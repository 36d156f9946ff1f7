/* Delivery queue worker; see delivery.h. */
#include "delivery.h"
#include "httpsig.h"
#include "log.h"
#include "net.h"
#include "remote.h"
#include "util.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 256
#define MAX_PER_HOST 8
#define MAX_TOTAL 64
#define GIVE_UP_AFTER (7 * 24 * 3600)
#define MAX_DELAY_MS (6L * 3600 * 1000)

static long retry_base_ms = 30000;

void delivery_set_retry_base_ms(long ms)
{
    retry_base_ms = ms < 10 ? 10 : ms;
}

/* One prepared POST. */
typedef struct job {
    long long id;
    char local[16];
    int attempts;
    long long created;
    char *inbox;
    char *body;
    httpsig_out sig;
    char h_date[128], h_digest[128], *h_sig;
    const char *hdrs[6];
} job;

static int prepare(const fed_ctx *ctx, job *j)
{
    const char *p = strstr(j->inbox, "://");
    if (!p)
        return -1;
    p += 3;
    const char *slash = strchr(p, '/');
    char host[512];
    snprintf(host, sizeof host, "%.*s", (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
    const char *target = slash ? slash : "/";
    /* Sign as the local actor that sent it: a Group's activities carry the
     * Group's key id, so that signer and actor agree. */
    fed_ctx as;
    fed_ctx_local(ctx, j->local, &as);
    if (httpsig_sign(ctx->keys.rsa, as.key_id, "POST", target, host, j->body, strlen(j->body),
                     "application/activity+json", 0, &j->sig))
        return -1;
    snprintf(j->h_date, sizeof j->h_date, "Date: %s", j->sig.date);
    snprintf(j->h_digest, sizeof j->h_digest, "Digest: %s", j->sig.digest);
    size_t n = strlen(j->sig.signature) + 16;
    j->h_sig = malloc(n);
    if (!j->h_sig)
        return -1;
    snprintf(j->h_sig, n, "Signature: %s", j->sig.signature);
    j->hdrs[0] = "Content-Type: application/activity+json";
    j->hdrs[1] = j->h_date;
    j->hdrs[2] = j->h_digest;
    j->hdrs[3] = j->h_sig;
    j->hdrs[4] = "Accept: application/activity+json";
    j->hdrs[5] = NULL;
    return 0;
}

static long backoff_ms(int attempts)
{
    long ms = retry_base_ms;
    for (int i = 1; i < attempts && ms < MAX_DELAY_MS; i++)
        ms *= 2;
    if (ms > MAX_DELAY_MS)
        ms = MAX_DELAY_MS;
    /* ±20 % jitter so that many failed deliveries do not retry in step. */
    long jitter = (long)(randombytes_uniform(401)) - 200; /* -200..200 per mille */
    return ms + ms * jitter / 1000;
}

static void record_result(db *d, const job *j, const net_resp *r)
{
    long long now = (long long)time(NULL);
    const char *state = "pending";
    long long next = now;
    char err[300] = "";
    if (r->err == NET_OK && r->status >= 200 && r->status < 300) {
        state = "done";
    } else if (r->err == NET_OK && r->status == 429) {
        long wait = r->retry_after_seconds > 0 ? r->retry_after_seconds : retry_base_ms / 1000;
        next = now + (wait > 0 ? wait : 1);
        snprintf(err, sizeof err, "429 Too Many Requests; retry after %ld s", wait);
    } else if ((r->err == NET_OK && r->status >= 400 && r->status < 500) ||
               r->err == NET_ERR_REFUSED_ADDRESS || r->err == NET_ERR_TOO_LARGE ||
               r->err == NET_ERR_PROTOCOL) {
        state = "failed";
        if (r->err == NET_OK)
            snprintf(err, sizeof err, "HTTP %ld: the inbox refused it", r->status);
        else
            snprintf(err, sizeof err, "%s", r->error);
    } else {
        long ms = backoff_ms(j->attempts + 1);
        next = now + (ms + 999) / 1000;
        if (r->err == NET_OK)
            snprintf(err, sizeof err, "HTTP %ld", r->status);
        else
            snprintf(err, sizeof err, "%s", r->error);
        if (next > j->created + GIVE_UP_AFTER) {
            state = "failed";
            snprintf(err + strlen(err), sizeof err - strlen(err), "; gave up after 7 days");
        }
    }
    sqlite3_stmt *st = db_stmt(d, "UPDATE deliveries SET state=:state, attempts=attempts+1, "
                                  "next_attempt=:next, last_status=:status, last_error=:err "
                                  "WHERE id=:id AND state='pending'");
    if (!st)
        return;
    db_bind_text(st, ":state", state);
    db_bind_int(st, ":next", next);
    db_bind_int(st, ":status", r->status);
    db_bind_text(st, ":err", err[0] ? err : NULL);
    db_bind_int(st, ":id", j->id);
    db_exec_stmt(st);
    if (strcmp(state, "done"))
        log_event(!strcmp(state, "failed") ? LOG_WARN : LOG_INFO, "delivery.retry", "inbox",
                  j->inbox, "state", state, "error", err, NULL);
}

int delivery_run_once(db *d, const fed_ctx *ctx)
{
    int total = 0;
    for (;;) {
        sqlite3_stmt *st = db_stmt(d, "SELECT id, inbox, activity, attempts, created, local FROM "
                                      "deliveries WHERE state='pending' AND next_attempt<=:now "
                                      "ORDER BY next_attempt, id LIMIT :n");
        if (!st)
            return -1;
        db_bind_int(st, ":now", (long long)time(NULL));
        db_bind_int(st, ":n", BATCH);
        job *jobs = calloc(BATCH, sizeof *jobs);
        if (!jobs) {
            db_done(st);
            return -1;
        }
        int n = 0;
        while (n < BATCH && sqlite3_step(st) == SQLITE_ROW) {
            job *j = &jobs[n++];
            j->id = sqlite3_column_int64(st, 0);
            j->inbox = xstrdup((const char *)sqlite3_column_text(st, 1));
            j->body = xstrdup((const char *)sqlite3_column_text(st, 2));
            j->attempts = sqlite3_column_int(st, 3);
            j->created = sqlite3_column_int64(st, 4);
            snprintf(j->local, sizeof j->local, "%s", (const char *)sqlite3_column_text(st, 5));
        }
        db_done(st);
        net_req *reqs = calloc((size_t)n + 1, sizeof *reqs);
        net_resp *resps = calloc((size_t)n + 1, sizeof *resps);
        char ua[700];
        net_user_agent(ua, sizeof ua, ctx->cfg->base_url);
        int nreq = 0;
        int *map = calloc((size_t)n + 1, sizeof *map);
        for (int i = 0; i < n && reqs && resps && map; i++) {
            if (prepare(ctx, &jobs[i])) {
                net_resp bad = {.err = NET_ERR_PROTOCOL};
                snprintf(bad.error, sizeof bad.error, "cannot sign a request to %s",
                         jobs[i].inbox);
                record_result(d, &jobs[i], &bad);
                continue;
            }
            reqs[nreq] = (net_req){.method = "POST",
                                   .url = jobs[i].inbox,
                                   .headers = jobs[i].hdrs,
                                   .body = jobs[i].body,
                                   .body_len = strlen(jobs[i].body),
                                   .user_agent = ua};
            map[nreq++] = i;
        }
        if (nreq)
            net_batch(remote_policy(), reqs, (size_t)nreq, resps, MAX_PER_HOST, MAX_TOTAL);
        if (nreq && db_begin(d) == 0) {
            for (int k = 0; k < nreq; k++)
                record_result(d, &jobs[map[k]], &resps[k]);
            db_commit(d);
        }
        for (int k = 0; k < nreq; k++)
            net_resp_free(&resps[k]);
        for (int i = 0; i < n; i++) {
            free(jobs[i].inbox);
            free(jobs[i].body);
            free(jobs[i].h_sig);
            httpsig_out_free(&jobs[i].sig);
        }
        free(jobs);
        free(reqs);
        free(resps);
        free(map);
        total += n;
        if (n < BATCH)
            break;
    }
    return total;
}

static pthread_t worker;
static bool running;
static bool woken;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const fed_ctx *worker_ctx;
static char *worker_path;

void delivery_wake(void)
{
    pthread_mutex_lock(&mu);
    woken = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker_main(void *arg)
{
    (void)arg;
    db *d = NULL;
    char err[512];
    if (db_open(worker_path, &d, err, sizeof err)) {
        log_event(LOG_ERROR, "delivery.db", "error", err, NULL);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&mu);
        bool go = running;
        woken = false;
        pthread_mutex_unlock(&mu);
        if (!go)
            break;
        int n = delivery_run_once(d, worker_ctx);
        pthread_mutex_lock(&mu);
        if (running && !woken && n <= 0) {
            /* Poll as well as wait for a wake-up: another process (the
             * CLI) may queue work, and retries fall due with time. */
            struct timespec ts;
            util_deadline_ms(&ts, 250);
            pthread_cond_timedwait(&cv, &mu, &ts);
        }
        pthread_mutex_unlock(&mu);
    }
    db_close(d);
    return NULL;
}

int delivery_start(const fed_ctx *ctx, const char *db_path)
{
    worker_ctx = ctx;
    free(worker_path);
    worker_path = xstrdup(db_path);
    running = true;
    if (pthread_create(&worker, NULL, worker_main, NULL)) {
        running = false;
        return -1;
    }
    return 0;
}

void delivery_stop(void)
{
    pthread_mutex_lock(&mu);
    bool was = running;
    running = false;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    if (was)
        pthread_join(worker, NULL);
    free(worker_path);
    worker_path = NULL;
}

json_t *delivery_summary(db *d)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT sum(state='pending'), sum(state='failed'), "
                                  "sum(state='done'), min(CASE WHEN state='pending' THEN "
                                  "next_attempt END), sum(state='superseded') FROM deliveries");
    json_t *j = json_object();
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        json_object_set_new(j, "pending", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(j, "failed", json_integer(sqlite3_column_int64(st, 1)));
        json_object_set_new(j, "done", json_integer(sqlite3_column_int64(st, 2)));
        json_object_set_new(j, "superseded", json_integer(sqlite3_column_int64(st, 4)));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            char iso[21];
            util_iso_time((time_t)sqlite3_column_int64(st, 3), iso);
            json_object_set_new(j, "next_attempt", json_string(iso));
        } else {
            json_object_set_new(j, "next_attempt", json_null());
        }
    }
    db_done(st);
    return j;
}

json_t *delivery_list(db *d, const char *state, int limit)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT id, activity_id, inbox, state, attempts, created, "
                                  "next_attempt, last_status, last_error FROM deliveries "
                                  "WHERE state=:state ORDER BY id DESC LIMIT :n");
    json_t *arr = json_array();
    if (!st)
        return arr;
    db_bind_text(st, ":state", state);
    db_bind_int(st, ":n", limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char created[21], next[21];
        util_iso_time((time_t)sqlite3_column_int64(st, 5), created);
        util_iso_time((time_t)sqlite3_column_int64(st, 6), next);
        json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "activity_id",
                              sqlite3_column_text(st, 1), "inbox", sqlite3_column_text(st, 2),
                              "state", sqlite3_column_text(st, 3), "attempts",
                              sqlite3_column_int(st, 4), "created", created, "next_attempt", next);
        json_object_set_new(e, "last_status", sqlite3_column_type(st, 7) == SQLITE_NULL
                                                  ? json_null()
                                                  : json_integer(sqlite3_column_int(st, 7)));
        json_object_set_new(e, "last_error",
                            sqlite3_column_type(st, 8) == SQLITE_NULL
                                ? json_null()
                                : json_string((const char *)sqlite3_column_text(st, 8)));
        json_array_append_new(arr, e);
    }
    db_done(st);
    return arr;
}

int delivery_retry(db *d, long long id)
{
    sqlite3_stmt *st = db_stmt(d, "UPDATE deliveries SET state='pending', next_attempt=:now, "
                                  "created=:now WHERE id=:id AND state='failed'");
    if (!st)
        return -1;
    db_bind_int(st, ":now", (long long)time(NULL));
    db_bind_int(st, ":id", id);
    if (db_exec_stmt(st) || sqlite3_changes(db_handle(d)) == 0)
        return -1;
    delivery_wake();
    return 0;
}
