/* A small cache of rendered list responses for the hot public reads.
 *
 * An entry is valid only while nothing could have changed: it carries a
 * stamp of (this process's write generation, the WAL file's mtime and size,
 * the database file's mtime) taken before the query ran, and lives at most
 * one second. Writes through this process bump the generation at once;
 * writes by another process (the CLI) change the WAL file. */
#ifndef DINET_PAGECACHE_H
#define DINET_PAGECACHE_H

#include "util.h"
#include <stdbool.h>

typedef struct pagecache_stamp {
    unsigned long gen;
    long long wal_mtime_ns, wal_size, db_mtime_ns;
} pagecache_stamp;

/* Sets the database path whose files are watched (once, at start). */
void pagecache_init(const char *db_path);
/* Takes the current stamp. */
void pagecache_stamp_now(pagecache_stamp *s);
/* A shared, reference-counted cached body. */
typedef struct pagecache_blob pagecache_blob;
const char *pagecache_blob_data(const pagecache_blob *b);
size_t pagecache_blob_len(const pagecache_blob *b);
/* Drops one reference (the argument is a pagecache_blob*; void* so it can be
 * a free callback). */
void pagecache_blob_release(void *b);

/* Returns a new reference to the cached body for key when it is valid, or
 * NULL. Sharing the body avoids copying it for every response. */
pagecache_blob *pagecache_get(const char *key);
/* Stores body for key under the stamp taken before it was computed. */
void pagecache_put(const char *key, const char *body, size_t len, const pagecache_stamp *s);
/* Invalidates everything (called after every committed write). */
void pagecache_bump(void);

#endif
