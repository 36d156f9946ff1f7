/* Response cache; see pagecache.h. */
#include "pagecache.h"

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
static atomic_ulong generation;
static char wal_path[1200], db_path[1200];
static bool enabled;

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

void pagecache_stamp_now(pagecache_stamp *s)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    s->gen = atomic_load(&generation);
    if (stat(wal_path, &st) == 0) {
        s->wal_mtime_ns = ns_of(&st.st_mtim);
        s->wal_size = st.st_size;
    }
    if (stat(db_path, &st) == 0)
        s->db_mtime_ns = ns_of(&st.st_mtim);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

pagecache_blob *pagecache_get(const char *key)
{
    if (!enabled)
        return NULL;
    pagecache_stamp now;
    pagecache_stamp_now(&now);
    pagecache_blob *hit = NULL;
    pthread_mutex_lock(&mu);
    entry *e = &slots[hash(key) % SLOTS];
    if (e->key && strcmp(e->key, key) == 0 && memcmp(&e->stamp, &now, sizeof now) == 0 &&
        mono_ns() - e->stored_ns < TTL_NS) {
        hit = e->body;
        atomic_fetch_add(&hit->ref, 1);
    }
    pthread_mutex_unlock(&mu);
    return hit;
}

void pagecache_put(const char *key, const char *body, size_t len, const pagecache_stamp *s)
{
    if (!enabled || len > MAX_BODY)
        return;
    char *k = strdup(key);
    pagecache_blob *b = malloc(sizeof *b + len + 1);
    if (!k || !b) {
        free(k);
        free(b);
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
    pthread_mutex_unlock(&mu);
}

void pagecache_bump(void)
{
    atomic_fetch_add(&generation, 1);
}
