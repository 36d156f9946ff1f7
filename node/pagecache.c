/* Response cache; see pagecache.h. */
#include "pagecache.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SLOTS 64
#define MAX_BODY (512 * 1024)
#define TTL_NS 1000000000LL

struct pagecache_blob {
    atomic_int ref;
    size_t len;
    char data[];
};

const char *pagecache_blob_data(const pagecache_blob *b)
{
    return b->data;
}

size_t pagecache_blob_len(const pagecache_blob *b)
{
    return b->len;
}

void pagecache_blob_release(void *p)
{
    pagecache_blob *b = p;
    if (b && atomic_fetch_sub(&b->ref, 1) == 1)
        free(b);
}

typedef struct entry {
    char *key;
    pagecache_blob *body;
    pagecache_stamp stamp;
    long long stored_ns;
} entry;

static entry slots[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static atomic_ulong generation;
static char wal_path[1200], db_path[1200];
static bool enabled;

/* Writes by other processes (the CLI: `dinet sample`, `user add`, `token
 * create`) are noticed by the database files' mtime and size, looked at no
 * more than every FILE_CHECK_NS: a change that this process's own commits
 * (pagecache_own_write, called from SQLite's WAL hook) do not explain bumps
 * foreign_gen. A commit of this process is noted right after it, so a stat
 * taken between the two is the only false alarm, and it costs one render. */
#define FILE_CHECK_NS 50000000LL
typedef struct files {
    long long wal_mtime_ns, wal_size, db_mtime_ns;
} files;
static files own_files, seen_files;
static unsigned long foreign_gen;
static long long last_check_ns;

/* Keys being rendered right now: other requests for them wait for the
 * result instead of rendering the same page again. */
#define INFLIGHT 16
static char *inflight[INFLIGHT];

void pagecache_init(const char *path)
{
    snprintf(db_path, sizeof db_path, "%s", path);
    snprintf(wal_path, sizeof wal_path, "%s-wal", path);
    enabled = true;
}

static long long ns_of(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static long long mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return ns_of(&t);
}

static void files_now(files *f)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    if (stat(wal_path, &st) == 0) {
        f->wal_mtime_ns = ns_of(&st.st_mtim);
        f->wal_size = st.st_size;
    }
    if (stat(db_path, &st) == 0)
        f->db_mtime_ns = ns_of(&st.st_mtim);
}

void pagecache_own_write(void)
{
    if (!enabled)
        return;
    files f;
    files_now(&f);
    pthread_mutex_lock(&mu);
    own_files = f;
    seen_files = f;
    pthread_mutex_unlock(&mu);
}

/* Under mu. */
static void stamp_locked(pagecache_stamp *s)
{
    long long t = mono_ns();
    if (t - last_check_ns >= FILE_CHECK_NS) {
        last_check_ns = t;
        files f;
        files_now(&f);
        if (memcmp(&f, &seen_files, sizeof f) && memcmp(&f, &own_files, sizeof f))
            foreign_gen++;
        seen_files = f;
    }
    memset(s, 0, sizeof *s);
    s->gen = atomic_load(&generation);
    s->foreign = foreign_gen;
}

void pagecache_stamp_now(pagecache_stamp *s)
{
    pthread_mutex_lock(&mu);
    stamp_locked(s);
    pthread_mutex_unlock(&mu);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Under mu: a new reference to key's valid entry, or NULL. */
static pagecache_blob *lookup_locked(const char *key, const pagecache_stamp *now)
{
    entry *e = &slots[hash(key) % SLOTS];
    if (e->key && strcmp(e->key, key) == 0 && memcmp(&e->stamp, now, sizeof *now) == 0 &&
        mono_ns() - e->stored_ns < TTL_NS) {
        atomic_fetch_add(&e->body->ref, 1);
        return e->body;
    }
    return NULL;
}

static int inflight_find(const char *key)
{
    for (int i = 0; i < INFLIGHT; i++)
        if (inflight[i] && !strcmp(inflight[i], key))
            return i;
    return -1;
}

pagecache_blob *pagecache_get(const char *key)
{
    if (!enabled)
        return NULL;
    pagecache_stamp now;
    pthread_mutex_lock(&mu);
    stamp_locked(&now);
    pagecache_blob *hit = lookup_locked(key, &now);
    pthread_mutex_unlock(&mu);
    return hit;
}

pagecache_blob *pagecache_get_or_claim(const char *key, pagecache_stamp *stamp, bool *claimed)
{
    *claimed = false;
    if (!enabled) {
        memset(stamp, 0, sizeof *stamp);
        return NULL;
    }
    pthread_mutex_lock(&mu);
    long long deadline = mono_ns() + 5 * 1000000000LL;
    for (;;) {
        stamp_locked(stamp);
        pagecache_blob *hit = lookup_locked(key, stamp);
        if (hit) {
            pthread_mutex_unlock(&mu);
            return hit;
        }
        if (inflight_find(key) < 0 || mono_ns() >= deadline)
            break;
        struct timespec ts;
        util_deadline_ms(&ts, 50);
        pthread_cond_timedwait(&done_cv, &mu, &ts);
    }
    for (int i = 0; i < INFLIGHT; i++)
        if (!inflight[i]) {
            inflight[i] = strdup(key);
            *claimed = inflight[i] != NULL;
            break;
        }
    pthread_mutex_unlock(&mu);
    return NULL;
}

void pagecache_release_claim(const char *key)
{
    pthread_mutex_lock(&mu);
    int i = inflight_find(key);
    if (i >= 0) {
        free(inflight[i]);
        inflight[i] = NULL;
    }
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&mu);
}

void pagecache_put(const char *key, const char *body, size_t len, const pagecache_stamp *s)
{
    if (!enabled)
        return;
    char *k = len <= MAX_BODY ? strdup(key) : NULL;
    pagecache_blob *b = k ? malloc(sizeof *b + len + 1) : NULL;
    if (!k || !b) {
        free(k);
        free(b);
        pagecache_release_claim(key);
        return;
    }
    atomic_init(&b->ref, 1);
    b->len = len;
    memcpy(b->data, body, len);
    b->data[len] = '\0';
    pthread_mutex_lock(&mu);
    entry *e = &slots[hash(key) % SLOTS];
    free(e->key);
    pagecache_blob_release(e->body);
    e->key = k;
    e->body = b;
    e->stamp = *s;
    e->stored_ns = mono_ns();
    int i = inflight_find(key);
    if (i >= 0) {
        free(inflight[i]);
        inflight[i] = NULL;
    }
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&mu);
}

void pagecache_drop_expired(void)
{
    long long now = mono_ns();
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SLOTS; i++) {
        entry *e = &slots[i];
        if (e->key && now - e->stored_ns >= TTL_NS) {
            free(e->key);
            pagecache_blob_release(e->body); /* responses being sent keep theirs */
            memset(e, 0, sizeof *e);
        }
    }
    pthread_mutex_unlock(&mu);
}

void pagecache_bump(void)
{
    atomic_fetch_add(&generation, 1);
}
