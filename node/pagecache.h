/* A small cache of rendered responses for the hot public reads.
 *
 * An entry is valid only while nothing could have changed: it carries a
 * stamp of (this process's record write generation, the count of changes by
 * other processes) taken before the query ran, and lives at most one
 * second. Record writes through this process bump the generation at once.
 * Writes by another process (the CLI) are noticed by the database files'
 * mtime and size changing to a state that this process did not write
 * itself (pagecache_own_write is called after each own commit). Only one
 * thread renders a missing entry; the others wait for its result. */
#ifndef DINET_PAGECACHE_H
#define DINET_PAGECACHE_H

#include "util.h"
#include <stdbool.h>

typedef struct pagecache_stamp {
    unsigned long gen, foreign;
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
/* Like pagecache_get, but when the entry is missing and another thread is
 * rendering it, waits (up to 5 s) for that result. Otherwise returns NULL
 * with *stamp set; when *claimed, the caller renders and must end with
 * pagecache_put or pagecache_release_claim. */
pagecache_blob *pagecache_get_or_claim(const char *key, pagecache_stamp *stamp, bool *claimed);
void pagecache_release_claim(const char *key);
/* Notes that this process has just written the database (any table), so
 * that the files' change is not taken for another process's write. */
void pagecache_own_write(void);
/* Stores body for key under the stamp taken before it was computed; ends a
 * claim on key. */
void pagecache_put(const char *key, const char *body, size_t len, const pagecache_stamp *s);
/* Frees the entries that have outlived their second: they can never be
 * served again, but would stay until their slot is reused. Called when the
 * node has become idle (db_set_idle_hook). */
void pagecache_drop_expired(void);
/* Invalidates everything (called after every committed write). */
void pagecache_bump(void);

#endif
