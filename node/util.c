/* Small utilities; see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

void buf_init(buf *b)
{
    memset(b, 0, sizeof *b);
}

void buf_free(buf *b)
{
    free(b->p);
    buf_init(b);
}

static bool buf_reserve(buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = ncap;
    return true;
}

bool buf_append(buf *b, const void *data, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

bool buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    bool ok = false;
    if (n >= 0 && buf_reserve(b, (size_t)n)) {
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
        ok = true;
    }
    va_end(ap2);
    return ok;
}

char *buf_take(buf *b)
{
    if (b->oom) {
        buf_free(b);
        return NULL;
    }
    if (!b->p && !buf_reserve(b, 0))
        return NULL;
    char *p = b->p;
    buf_init(b);
    return p;
}

void util_iso_time(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void util_now_iso(char out[21])
{
    util_iso_time(time(NULL), out);
}

static bool all_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

bool util_valid_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
        return false;
    return valid_ymd(atoi(s), atoi(s + 5), atoi(s + 8));
}

time_t util_parse_iso_time(const char *s)
{
    if (!s || strlen(s) < 20 || !util_valid_date((char[11]){s[0], s[1], s[2], s[3], s[4], s[5],
                                                            s[6], s[7], s[8], s[9], 0}))
        return -1;
    if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' || !all_digits(s + 11, 2) ||
        !all_digits(s + 14, 2) || !all_digits(s + 17, 2))
        return -1;
    struct tm tm = {0};
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' && all_digits(p + 1, 2) &&
               all_digits(p + 4, 2)) {
        off = (atoi(p + 1) * 3600L + atoi(p + 4) * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    return timegm(&tm) - off;
}

void util_random_id(const char *prefix, char *out, size_t outlen)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789"; /* 32, no l/o/0/1 */
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    size_t pl = strlen(prefix);
    if (outlen < pl + 17) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    memcpy(out, prefix, pl);
    for (int i = 0; i < 16; i++)
        out[pl + (size_t)i] = alphabet[rnd[i] & 31];
    out[pl + 16] = '\0';
}

void util_ordered_id(char *out, size_t outlen)
{
    /* The same 32 characters as util_random_id, in ASCII order, so that
     * ids sort by time. */
    static const char sorted[] = "23456789abcdefghijkmnpqrstuvwxyz";
    if (outlen < 19) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms = (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
    for (int i = 9; i >= 0; i--) {
        out[i] = sorted[ms & 31];
        ms >>= 5;
    }
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    for (int i = 0; i < 8; i++)
        out[10 + i] = sorted[rnd[i] & 31];
    out[18] = '\0';
}

void util_deadline_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void util_random_hex(char *out, size_t nbytes)
{
    unsigned char rnd[64];
    if (nbytes > sizeof rnd)
        nbytes = sizeof rnd;
    randombytes_buf(rnd, nbytes);
    sodium_bin2hex(out, nbytes * 2 + 1, rnd, nbytes);
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

bool util_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

size_t util_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

char *util_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    buf b;
    buf_init(&b);
    char tmp[8192];
    ssize_t got;
    while ((got = read(fd, tmp, sizeof tmp)) > 0)
        buf_append(&b, tmp, (size_t)got);
    close(fd);
    if (got < 0) {
        buf_free(&b);
        return NULL;
    }
    size_t n = b.len;
    char *p = buf_take(&b);
    if (p && len)
        *len = n;
    return p;
}

int util_write_file(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int util_mkdirs(const char *path, int mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

const char *util_jstr(const json_t *o, const char *k)
{
    const json_t *x = json_object_get(o, k);
    return json_is_string(x) ? json_string_value(x) : NULL;
}

bool util_same_host(const char *a, const char *b)
{
    const char *pa = a ? strstr(a, "://") : NULL, *pb = b ? strstr(b, "://") : NULL;
    if (!pa || !pb)
        return false;
    size_t la = strcspn(pa + 3, "/?#"), lb = strcspn(pb + 3, "/?#");
    return la == lb && strncasecmp(pa + 3, pb + 3, la) == 0;
}
