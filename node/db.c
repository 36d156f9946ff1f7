/* Storage; see db.h. */
#include "db.h"
#include "log.h"
#include "schema.h"
#include "util.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE 64
#define AFTER_COMMIT_MAX 8

struct cached {
    char *sql;
    unsigned hash;
    sqlite3_stmt *st;
};

struct db {
    sqlite3 *h;
    struct cached cache[STMT_CACHE];
    int ncache;
    bool writing;                         /* holds the process write lock */
    void (*after[AFTER_COMMIT_MAX])(void); /* run once after the next COMMIT */
    int nafter;
};

/* Writers in one process queue on this mutex instead of on SQLite's busy
 * handler, which sleeps in growing steps and wastes most of the time when
 * many HTTP threads write at once. SQLite's own lock still guards against
 * other processes (the CLI). A thread that already holds it through another
 * connection does not take it again. */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int write_depth;

static int write_lock(void)
{
    if (write_depth++ > 0)
        return 0;
    struct timespec ts;
    util_deadline_ms(&ts, 10000); /* the same patience as the busy timeout */
    if (pthread_mutex_timedlock(&write_mu, &ts) != 0) {
        write_depth--;
        return -1;
    }
    return 0;
}

static void write_unlock(void)
{
    if (write_depth > 0 && --write_depth == 0)
        pthread_mutex_unlock(&write_mu);
}

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int db_schema_version(void)
{
    int n = 0;
    while (schema_migrations[n])
        n++;
    return n;
}

int db_exec(db *d, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_event(LOG_ERROR, "db.exec", "error", msg ? msg : "?", NULL);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int migrate(db *d, char *err, size_t errlen)
{
    int current = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        current = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int target = db_schema_version();
    if (current > target) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this program (%d); "
                 "upgrade dinet",
                 current, target);
        return -1;
    }
    for (int v = current; v < target; v++) {
        /* Each migration and its version bump commit together, so a crash
         * leaves the database at a whole version. */
        if (db_begin(d))
            goto fail;
        char *msg = NULL;
        if (sqlite3_exec(d->h, schema_migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %d failed: %s", v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            db_rollback(d);
            return -1;
        }
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v + 1);
        if (db_exec(d, pragma) || db_commit(d)) {
            db_rollback(d);
            goto fail;
        }
        char vs[16];
        snprintf(vs, sizeof vs, "%d", v + 1);
        log_event(LOG_DEBUG, "db.migrated", "version", vs, NULL);
    }
    return 0;
fail:
    snprintf(err, errlen, "migration failed: %s", sqlite3_errmsg(d->h));
    return -1;
}

static void (*write_hook)(void);

void db_set_write_hook(void (*fn)(void))
{
    write_hook = fn;
}

static int wal_committed(void *ud, sqlite3 *h, const char *name, int pages)
{
    (void)ud;
    (void)h;
    (void)name;
    (void)pages;
    if (write_hook)
        write_hook();
    return SQLITE_OK;
}

int db_open(const char *path, db **out, char *err, size_t errlen)
{
    db *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sqlite3_open_v2(path, &d->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, d->h ? sqlite3_errmsg(d->h) : "cannot open");
        db_close(d);
        return -1;
    }
    sqlite3_busy_timeout(d->h, 10000);
    /* WAL: readers never block the writer. synchronous=NORMAL in WAL mode
     * loses no committed transaction when the process dies (kill -9); only
     * an OS crash or power loss can roll back the last commits. */
    if (db_exec(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                   "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;")) {
        snprintf(err, errlen, "%s: cannot configure database: %s", path, sqlite3_errmsg(d->h));
        db_close(d);
        return -1;
    }
    if (migrate(d, err, errlen)) {
        db_close(d);
        return -1;
    }
    /* The hook replaces SQLite's automatic checkpoint on this connection;
     * it is only set in the server, whose checkpointer thread does that. */
    if (write_hook)
        sqlite3_wal_hook(d->h, wal_committed, NULL);
    *out = d;
    return 0;
}

void db_close(db *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->ncache; i++) {
        sqlite3_finalize(d->cache[i].st);
        free(d->cache[i].sql);
    }
    sqlite3_close(d->h);
    free(d);
}

sqlite3 *db_handle(db *d)
{
    return d->h;
}

sqlite3_stmt *db_stmt(db *d, const char *sql)
{
    unsigned h = hash_str(sql);
    for (int i = 0; i < d->ncache; i++) {
        if (d->cache[i].hash == h && strcmp(d->cache[i].sql, sql) == 0) {
            sqlite3_reset(d->cache[i].st);
            sqlite3_clear_bindings(d->cache[i].st);
            return d->cache[i].st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_event(LOG_ERROR, "db.prepare", "error", sqlite3_errmsg(d->h), "sql", sql, NULL);
        return NULL;
    }
    if (d->ncache == STMT_CACHE) {
        /* Full: evict the oldest entry. Dynamic filter queries can produce
         * many shapes; the common ones get re-cached quickly. */
        sqlite3_finalize(d->cache[0].st);
        free(d->cache[0].sql);
        memmove(&d->cache[0], &d->cache[1], sizeof d->cache[0] * (STMT_CACHE - 1));
        d->ncache--;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        return NULL;
    }
    d->cache[d->ncache++] = (struct cached){copy, h, st};
    return st;
}

void db_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static int param(sqlite3_stmt *st, const char *name)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (!i)
        log_event(LOG_ERROR, "db.bind", "missing", name, "sql", sqlite3_sql(st), NULL);
    return i;
}

void db_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int i = param(st, name);
    if (!i)
        return;
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void db_bind_int(sqlite3_stmt *st, const char *name, long long v)
{
    int i = param(st, name);
    if (i)
        sqlite3_bind_int64(st, i, v);
}

int db_exec_stmt(sqlite3_stmt *st)
{
    int rc;
    /* A write outside a transaction queues on the process's write lock
     * too, instead of sleeping in SQLite's busy handler while another
     * thread's transaction runs. */
    bool lock = sqlite3_get_autocommit(sqlite3_db_handle(st)) && !sqlite3_stmt_readonly(st) &&
                write_lock() == 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (lock)
        write_unlock();
    int ok = rc == SQLITE_DONE ? 0 : -1;
    if (ok)
        log_event(LOG_ERROR, "db.step", "error", sqlite3_errmsg(sqlite3_db_handle(st)), "sql",
                  sqlite3_sql(st), NULL);
    db_done(st);
    return ok;
}

void db_request_done(db *d)
{
    /* A statement stepped but never reset keeps a read transaction open, and
     * the connection would go on seeing that old snapshot in later requests
     * (a revoked token still working, say). Reset them, end any transaction
     * a handler left open, and name the statement so the bug can be fixed. */
    for (int i = 0; i < d->ncache; i++) {
        if (sqlite3_stmt_busy(d->cache[i].st)) {
            log_event(LOG_WARN, "db.statement_left_open", "sql", d->cache[i].sql, NULL);
            sqlite3_reset(d->cache[i].st);
        }
    }
    if (!sqlite3_get_autocommit(d->h)) {
        log_event(LOG_WARN, "db.transaction_left_open", NULL);
        db_rollback(d);
    }
}

int db_begin(db *d)
{
    if (d->writing || write_lock())
        return -1;
    if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        write_unlock();
        return -1;
    }
    d->writing = true;
    d->nafter = 0;
    return 0;
}

void db_after_commit(db *d, void (*fn)(void))
{
    if (sqlite3_get_autocommit(d->h)) {
        fn(); /* not in a transaction: the change is already durable */
        return;
    }
    for (int i = 0; i < d->nafter; i++)
        if (d->after[i] == fn)
            return;
    if (d->nafter < AFTER_COMMIT_MAX)
        d->after[d->nafter++] = fn;
    else
        fn(); /* never lose a wake-up; an early one only costs a poll */
}

static void end_write(db *d)
{
    if (d->writing) {
        d->writing = false;
        write_unlock();
    }
}

int db_begin_read(db *d)
{
    sqlite3_stmt *st = db_stmt(d, "BEGIN");
    return st ? db_exec_stmt(st) : -1;
}

void db_end_read(db *d)
{
    if (!sqlite3_get_autocommit(d->h)) {
        sqlite3_stmt *st = db_stmt(d, "COMMIT");
        if (st)
            db_exec_stmt(st);
    }
}

int db_commit(db *d)
{
    if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return -1; /* still in the transaction: the caller rolls back */
    end_write(d);
    int n = d->nafter;
    d->nafter = 0;
    for (int i = 0; i < n; i++)
        d->after[i]();
    return 0;
}

void db_rollback(db *d)
{
    if (!sqlite3_get_autocommit(d->h))
        sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
    d->nafter = 0;
    end_write(d);
}

static char *thread_path;
static atomic_bool ckpt_running;
static pthread_t ckpt_thread;
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

/* A thread's connection, registered so that the checkpointer thread can
 * close it while the thread is idle (see db_thread_close_idle). The owner
 * marks it busy in db_thread and idle again in db_thread_release; the closer
 * only takes a connection that is not busy, under mu, so a connection is
 * never closed while its thread uses it. Only the owner opens one. */
typedef struct tconn {
    pthread_mutex_t mu; /* guards d, busy and idle_since */
    db *d;              /* NULL while closed; reopened by the next db_thread */
    bool busy;
    long long idle_since; /* monotonic ns of the last db_thread_release */
    struct tconn *next;
} tconn;

static pthread_mutex_t tconns_mu = PTHREAD_MUTEX_INITIALIZER;
static tconn *tconns;
/* Monotonic ns of the last release by any thread, and how many threads hold
 * their connection right now: the checkpointer trims the heap once after
 * each period of activity, when no thread is busy. */
static atomic_llong last_release;
static atomic_int busy_threads;

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void tconn_unlink(tconn *t)
{
    pthread_mutex_lock(&tconns_mu);
    for (tconn **pp = &tconns; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    pthread_mutex_unlock(&tconns_mu);
}

/* Unregisters and frees t and closes its connection; t is the calling
 * thread's (or that of a thread that is ending). */
static void tconn_free(tconn *t)
{
    tconn_unlink(t);
    if (t->busy)
        atomic_fetch_sub(&busy_threads, 1);
    db_close(t->d);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static void thread_destroy(void *p)
{
    tconn_free(p);
}

static void thread_key_make(void)
{
    pthread_key_create(&thread_key, thread_destroy);
}

void db_thread_init(const char *path)
{
    pthread_once(&thread_once, thread_key_make);
    free(thread_path);
    thread_path = strdup(path);
}

db *db_thread(void)
{
    pthread_once(&thread_once, thread_key_make);
    tconn *t = pthread_getspecific(thread_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) {
            log_event(LOG_ERROR, "db.open", "error", "out of memory", NULL);
            return NULL;
        }
        pthread_mutex_init(&t->mu, NULL);
        pthread_setspecific(thread_key, t);
        pthread_mutex_lock(&tconns_mu);
        t->next = tconns;
        tconns = t;
        pthread_mutex_unlock(&tconns_mu);
    }
    pthread_mutex_lock(&t->mu);
    if (!t->busy) {
        t->busy = true;
        atomic_fetch_add(&busy_threads, 1);
    }
    db *d = t->d; /* only this thread sets it while busy: no race below */
    pthread_mutex_unlock(&t->mu);
    if (d)
        return d;
    char err[512];
    if (!thread_path || db_open(thread_path, &d, err, sizeof err)) {
        log_event(LOG_ERROR, "db.open", "error", thread_path ? err : "no path", NULL);
        return NULL; /* stays busy until db_thread_release, as with a connection */
    }
    if (atomic_load(&ckpt_running))
        sqlite3_wal_autocheckpoint(d->h, 0); /* the checkpointer thread does it */
    pthread_mutex_lock(&t->mu);
    t->d = d;
    pthread_mutex_unlock(&t->mu);
    return d;
}

void db_thread_release(void)
{
    pthread_once(&thread_once, thread_key_make);
    tconn *t = pthread_getspecific(thread_key);
    if (!t)
        return;
    long long now = mono_ns();
    pthread_mutex_lock(&t->mu);
    if (t->busy) {
        t->busy = false;
        atomic_fetch_sub(&busy_threads, 1);
    }
    t->idle_since = now;
    pthread_mutex_unlock(&t->mu);
    atomic_store(&last_release, now);
}

int db_thread_close_idle(long long idle_ns)
{
    long long now = mono_ns();
    int n = 0;
    pthread_mutex_lock(&tconns_mu);
    for (tconn *t = tconns; t; t = t->next) {
        pthread_mutex_lock(&t->mu);
        db *d = NULL;
        if (!t->busy && t->d && now - t->idle_since >= idle_ns) {
            d = t->d;
            t->d = NULL;
        }
        pthread_mutex_unlock(&t->mu);
        if (d) {
            /* The owner reopens only after taking t->mu and finding d
             * NULL, so closing outside the lock is safe. */
            db_close(d);
            n++;
        }
    }
    pthread_mutex_unlock(&tconns_mu);
    return n;
}

void db_thread_close_current(void)
{
    pthread_once(&thread_once, thread_key_make);
    tconn *t = pthread_getspecific(thread_key);
    if (t) {
        pthread_setspecific(thread_key, NULL);
        tconn_free(t);
    }
}

/* Idle housekeeping, run by the checkpointer thread: the connections of
 * threads idle for DB_IDLE_NS are closed (each holds its schema, statement
 * cache and page cache, 100-170 kB on a district) and, once after each
 * period of activity when no thread holds its connection any more, free
 * memory goes back to the system. Reopening costs a thread about a
 * millisecond on its next request. */
#define DB_IDLE_NS (2 * 1000000000LL)

static void (*idle_hook)(void);

void db_set_idle_hook(void (*fn)(void))
{
    idle_hook = fn;
}

static void idle_housekeeping(db *ckpt, long long *trimmed_for)
{
    int closed = db_thread_close_idle(DB_IDLE_NS);
    long long last = atomic_load(&last_release);
    if (last == *trimmed_for || atomic_load(&busy_threads) > 0 || mono_ns() - last < DB_IDLE_NS)
        return;
    *trimmed_for = last;
    if (idle_hook)
        idle_hook();
    sqlite3_db_release_memory(ckpt->h);
    /* Unlike the automatic trim at the top of the heap, this also returns
     * free pages inside every arena (glibc madvises them away). */
    malloc_trim(0);
    char n[16];
    snprintf(n, sizeof n, "%d", closed);
    log_event(LOG_DEBUG, "db.idle_trim", "closed", n, NULL);
}

/* Background WAL checkpoints: with the automatic checkpoint the writer that
 * crosses 1,000 pages copies the WAL into the database inside its commit,
 * while holding the write lock. A PASSIVE checkpoint from this thread never
 * blocks writers or readers. */
static void *ckpt_main(void *arg)
{
    db *d = arg;
    int prev_log = -1, prev_ckpt = -1;
    long long trimmed_for = 0;
    while (atomic_load(&ckpt_running)) {
        int nlog = 0, nckpt = 0;
        sqlite3_wal_checkpoint_v2(d->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
        if (nckpt > 0 && (nckpt != prev_ckpt || nlog != prev_log) && write_hook)
            write_hook(); /* the database file changed, by us */
        prev_log = nlog;
        prev_ckpt = nckpt;
        struct timespec ts = {0, nlog > 4000 ? 20 * 1000000L : 200 * 1000000L};
        nanosleep(&ts, NULL);
        idle_housekeeping(d, &trimmed_for);
    }
    db_close(d);
    return NULL;
}

int db_checkpointer_start(const char *path)
{
    db *d = NULL;
    char err[512];
    if (atomic_load(&ckpt_running))
        return 0;
    if (db_open(path, &d, err, sizeof err)) {
        log_event(LOG_ERROR, "db.checkpointer", "error", err, NULL);
        return -1;
    }
    atomic_store(&ckpt_running, true);
    if (pthread_create(&ckpt_thread, NULL, ckpt_main, d)) {
        atomic_store(&ckpt_running, false);
        db_close(d);
        return -1;
    }
    return 0;
}

void db_checkpointer_stop(void)
{
    if (!atomic_exchange(&ckpt_running, false))
        return;
    pthread_join(ckpt_thread, NULL);
}

int db_backup(db *d, const char *dest, char *err, size_t errlen)
{
    sqlite3 *to = NULL;
    int rc = -1;
    if (sqlite3_open(dest, &to) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", dest, to ? sqlite3_errmsg(to) : "cannot open");
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(to, "main", d->h, "main");
    if (!b) {
        snprintf(err, errlen, "backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    /* Copy in steps so that writers of a running node are not blocked for
     * the whole copy; a change made meanwhile restarts the copy. */
    int step;
    while ((step = sqlite3_backup_step(b, 256)) == SQLITE_OK || step == SQLITE_BUSY ||
           step == SQLITE_LOCKED)
        sqlite3_sleep(5);
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "backup: %s", sqlite3_errstr(step));
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(to);
    return rc;
}
