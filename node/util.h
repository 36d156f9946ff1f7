/* Small utilities below every other module: growable buffers, time
 * formatting, random identifiers and file helpers. */
#ifndef DINET_UTIL_H
#define DINET_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* A growable byte buffer that always keeps a NUL after its content.
 * A buffer whose allocation failed stays in the failed state (oom = true)
 * and ignores further appends, so callers check once at the end. */
typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
/* Appends n bytes; returns false on allocation failure or size overflow. */
bool buf_append(buf *b, const void *data, size_t n);
bool buf_puts(buf *b, const char *s);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the content to the caller (malloc'd, NUL-terminated) and resets b.
 * Returns NULL when the buffer ran out of memory. */
char *buf_take(buf *b);

/* Formats t as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void util_iso_time(time_t t, char out[21]);
/* The current time as util_iso_time. */
void util_now_iso(char out[21]);
/* Parses "YYYY-MM-DD" strictly (a real calendar date). */
bool util_valid_date(const char *s);
/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS(.fff)?(Z|±HH:MM)"; returns -1 on error. */
time_t util_parse_iso_time(const char *s);

/* Writes a random identifier made of `prefix` and 16 lowercase base32
 * characters (80 bits) into out (at least strlen(prefix)+17 bytes). */
void util_random_id(const char *prefix, char *out, size_t outlen);

/* An id that sorts by creation time: 10 characters of milliseconds since
 * 1970 and 8 random ones (18 in all; outlen >= 19). Activity ids use it, so
 * that the outbox's unique index grows at its end instead of being written
 * at a random place per activity. */
void util_ordered_id(char *out, size_t outlen);

struct timespec;
/* Fills *ts with the CLOCK_REALTIME time ms milliseconds from now, the
 * absolute deadline pthread_cond_timedwait and pthread_mutex_timedlock take. */
void util_deadline_ms(struct timespec *ts, long ms);
/* Fills out with n random bytes encoded as lowercase hex (2n+1 bytes). */
void util_random_hex(char *out, size_t nbytes);
/* SHA-256 of s as lowercase hex into out (65 bytes). */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/* True when s is valid UTF-8 (len bytes) without NUL bytes. */
bool util_utf8_valid(const char *s, size_t len);
/* Number of Unicode code points in valid UTF-8 s. */
size_t util_utf8_len(const char *s);

/* Reads a whole file; NULL when it cannot be read. *len may be NULL. */
char *util_read_file(const char *path, size_t *len);
/* Writes data to path atomically (temp file + rename) with the given mode. */
int util_write_file(const char *path, const void *data, size_t len, int mode);
/* mkdir -p with mode for the last component. */
int util_mkdirs(const char *path, int mode);

/* Duplicates s, aborting the process on allocation failure (used only for
 * small, bounded strings where there is no sensible recovery). */
char *xstrdup(const char *s);

/* The string member k of object o, or NULL (not an object, no such member,
 * not a string). */
const char *util_jstr(const json_t *o, const char *k);
/* Whether two absolute URLs have the same authority (host and port,
 * compared case-insensitively); false when either is not absolute. */
bool util_same_host(const char *a, const char *b);

#endif
