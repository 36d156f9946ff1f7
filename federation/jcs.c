/* RFC 8785 JSON Canonicalization Scheme; see jcs.h. */
#include "jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same limit as jansson's parser, so anything it parsed can be canonicalised;
 * it also bounds our recursion on values built in code. */
#define JCS_MAX_DEPTH 2048

/* Growable output buffer. `failed` makes every later append a no-op, so the
 * emitters can append unconditionally and check once. */
typedef struct jbuf {
    char *p;
    size_t len, cap;
    int failed;
} jbuf;

typedef struct jmember {
    const char *key;
    size_t klen;
    const json_t *val;
} jmember;

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Makes room for add more bytes plus a NUL. Returns 0, or -1 (and marks
 * the buffer failed) on overflow or when out of memory. */
static int jb_reserve(jbuf *b, size_t add)
{
    size_t need, cap;
    char *np;
    int rc = -1;

    if (b->failed)
        goto out;
    if (add > SIZE_MAX - 1 - b->len) {
        b->failed = 1;
        goto out;
    }
    need = b->len + add + 1;
    if (need > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            goto out;
        }
        b->p = np;
        b->cap = cap;
    }
    rc = 0;
out:
    return rc;
}

static void jb_put(jbuf *b, const char *s, size_t n)
{
    if (jb_reserve(b, n) == 0) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
    }
}

static void jb_putc(jbuf *b, char c)
{
    jb_put(b, &c, 1);
}

/* Decodes one code point of strict UTF-8 at s[*i] (len bytes in total) and
 * advances *i. Rejects overlong forms, surrogates and values above U+10FFFF:
 * JCS output must be valid UTF-8, and a lone surrogate has no UTF-16 order. */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    size_t p = *i;
    unsigned c = s[p];
    uint32_t v;
    size_t n;
    uint32_t min;
    int rc = -1;

    if (c < 0x80) {
        n = 0;
        v = c;
        min = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        v = c & 0x07;
        min = 0x10000;
    } else {
        goto out;
    }
    if (n > len - p - 1)
        goto out;
    for (size_t k = 1; k <= n; k++) {
        unsigned cc = s[p + k];
        if ((cc & 0xC0) != 0x80)
            goto out;
        v = (v << 6) | (cc & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        goto out;
    *cp = v;
    *i = p + n + 1;
    rc = 0;
out:
    return rc;
}

static int utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    uint32_t cp;
    int ok = 1;
    while (ok && i < len)
        ok = utf8_next((const unsigned char *)s, len, &i, &cp) == 0;
    return ok;
}

/* Maps a code point to a weight whose order equals the order of its first
 * UTF-16 code unit, breaking ties by the code point. Astral characters are
 * encoded with surrogates (0xD800..0xDFFF), which sort below U+E000..U+FFFF
 * but above U+D7FF; among themselves surrogate pairs keep code point order.
 * So: BMP below the surrogates keeps its value, astral keeps its value (all
 * >= 0x10000 > 0xD7FF), and U+E000..U+FFFF is lifted above every astral one. */
static uint32_t utf16_weight(uint32_t cp)
{
    return (cp >= 0xE000 && cp <= 0xFFFF) ? cp + 0x200000 : cp;
}

/* qsort comparator: member names in UTF-16 code unit order (RFC 8785 3.2.3).
 * Names were validated before sorting. */
static int member_cmp(const void *a, const void *b)
{
    const jmember *x = a, *y = b;
    const unsigned char *s = (const unsigned char *)x->key, *t = (const unsigned char *)y->key;
    size_t i = 0, j = 0;
    int rc = 0;
    while (rc == 0 && i < x->klen && j < y->klen) {
        uint32_t c1 = 0, c2 = 0;
        if (utf8_next(s, x->klen, &i, &c1) || utf8_next(t, y->klen, &j, &c2))
            break; /* unreachable: names are validated first */
        if (c1 != c2)
            rc = utf16_weight(c1) < utf16_weight(c2) ? -1 : 1;
    }
    if (rc == 0 && i < x->klen)
        rc = 1;
    else if (rc == 0 && j < y->klen)
        rc = -1;
    return rc;
}

/* Writes a string literal with RFC 8785 3.2.2.2 escaping: only '"', '\\'
 * and control characters are escaped, the short forms where JSON has them,
 * else \u00xx in lowercase hex; every other character is copied as UTF-8. */
static int put_string(jbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc = -1;

    jb_putc(b, '"');
    while (i < len) {
        size_t at = i;
        uint32_t cp;
        if (utf8_next(u, len, &i, &cp))
            goto out;
        if (cp >= 0x20 && cp != '"' && cp != '\\')
            continue; /* part of a raw run, copied in bulk below */
        jb_put(b, s + run, at - run);
        run = i;
        switch (cp) {
        case '"':
            jb_put(b, "\\\"", 2);
            break;
        case '\\':
            jb_put(b, "\\\\", 2);
            break;
        case '\b':
            jb_put(b, "\\b", 2);
            break;
        case '\f':
            jb_put(b, "\\f", 2);
            break;
        case '\n':
            jb_put(b, "\\n", 2);
            break;
        case '\r':
            jb_put(b, "\\r", 2);
            break;
        case '\t':
            jb_put(b, "\\t", 2);
            break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 0xF]};
            jb_put(b, esc, sizeof esc);
        }
        }
    }
    jb_put(b, s + run, len - run);
    jb_putc(b, '"');
    rc = 0;
out:
    return rc;
}

/* Parses the output of "%.*e" (d[.ddd]e±x, any decimal separator, which
 * keeps this independent of LC_NUMERIC) into an integer significand and the
 * decimal exponent of its first digit. */
static void parse_sci(const char *s, unsigned long long *sig, int *exp10)
{
    unsigned long long d = 0;
    while (*s && *s != 'e') {
        if (*s >= '0' && *s <= '9')
            d = d * 10 + (unsigned long long)(*s - '0');
        s++;
    }
    *sig = d;
    *exp10 = *s == 'e' ? atoi(s + 1) : 0;
}

/* Does sig * 10^(exp10 - p + 1) read back as exactly v? The candidate is
 * printed without a decimal point, so strtod's locale does not matter. */
static int reads_back(unsigned long long sig, int exp10, int p, double v)
{
    char t[48];
    snprintf(t, sizeof t, "%llue%d", sig, exp10 - p + 1);
    return strtod(t, NULL) == v;
}

/* Finds the shortest significand that reads back as v (v > 0, finite): the
 * digits go to d (NUL-terminated, no trailing zeros), *k gets their count and
 * *n the ECMAScript exponent (value = 0.d * 10^n).
 *
 * For each precision p from 1 up, printf gives the p-digit decimal nearest
 * to v (glibc rounds exactly). If that does not read back, one of its two
 * p-digit neighbours still might, because the interval of decimals that round
 * to v is not centred on v at a power of two; the round-tripping decimals
 * form a contiguous run, so when the nearest one is outside the run the run
 * starts at its neighbour. p = 17 always round-trips. */
static void shortest_digits(double v, char d[24], int *k, int *n)
{
    static const unsigned long long pow10[18] = {1ULL,
                                                 10ULL,
                                                 100ULL,
                                                 1000ULL,
                                                 10000ULL,
                                                 100000ULL,
                                                 1000000ULL,
                                                 10000000ULL,
                                                 100000000ULL,
                                                 1000000000ULL,
                                                 10000000000ULL,
                                                 100000000000ULL,
                                                 1000000000000ULL,
                                                 10000000000000ULL,
                                                 100000000000000ULL,
                                                 1000000000000000ULL,
                                                 10000000000000000ULL,
                                                 100000000000000000ULL};
    unsigned long long sig = 0;
    int e = 0, p;

    /* Integers below 2^53 are exact and common (counts, ids): skip the search. */
    if (v < 9007199254740992.0 && v == floor(v)) {
        snprintf(d, 24, "%.0f", v);
        *n = (int)strlen(d);
        *k = *n;
        while (*k > 1 && d[*k - 1] == '0')
            d[--*k] = '\0';
        goto out;
    }
    for (p = 1; p <= 17; p++) {
        char t[48];
        snprintf(t, sizeof t, "%.*e", p - 1, v);
        parse_sci(t, &sig, &e);
        if (strtod(t, NULL) == v)
            break;
        unsigned long long up = sig + 1, down = sig - 1;
        int eu = e, ed = e;
        if (up == pow10[p]) {
            up = pow10[p - 1];
            eu = e + 1;
        }
        if (sig == pow10[p - 1]) {
            down = pow10[p] - 1;
            ed = e - 1;
        }
        if (reads_back(up, eu, p, v)) {
            sig = up;
            e = eu;
            break;
        }
        if (reads_back(down, ed, p, v)) {
            sig = down;
            e = ed;
            break;
        }
    }
    if (p > 17)
        p = 17; /* not reached: 17 digits always round-trip */
    snprintf(d, 24, "%0*llu", p, sig);
    *k = p;
    while (*k > 1 && d[*k - 1] == '0')
        d[--*k] = '\0';
    *n = e + 1;
out:
    return;
}

int jcs_format_double(double v, char *buf, size_t buflen)
{
    char out[JCS_NUMBER_MAX + 16];
    char d[24];
    size_t o = 0;
    int k, n, rc = -1;

    if (!isfinite(v) || !buf)
        goto out;
    if (v == 0) { /* also -0, which ECMAScript prints as "0" */
        out[o++] = '0';
    } else {
        if (v < 0) {
            out[o++] = '-';
            v = -v;
        }
        shortest_digits(v, d, &k, &n);
        if (k <= n && n <= 21) { /* integer: digits then n-k zeros */
            memcpy(out + o, d, (size_t)k);
            o += (size_t)k;
            for (int z = 0; z < n - k; z++)
                out[o++] = '0';
        } else if (0 < n && n <= 21) { /* decimal point inside the digits */
            memcpy(out + o, d, (size_t)n);
            o += (size_t)n;
            out[o++] = '.';
            memcpy(out + o, d + n, (size_t)(k - n));
            o += (size_t)(k - n);
        } else if (-6 < n && n <= 0) { /* 0.000ddd */
            out[o++] = '0';
            out[o++] = '.';
            for (int z = 0; z < -n; z++)
                out[o++] = '0';
            memcpy(out + o, d, (size_t)k);
            o += (size_t)k;
        } else { /* exponent form d[.ddd]e±x */
            out[o++] = d[0];
            if (k > 1) {
                out[o++] = '.';
                memcpy(out + o, d + 1, (size_t)(k - 1));
                o += (size_t)(k - 1);
            }
            int w = snprintf(out + o, sizeof out - o, "e%c%d", n - 1 >= 0 ? '+' : '-',
                             n - 1 >= 0 ? n - 1 : 1 - n);
            if (w < 0 || (size_t)w >= sizeof out - o)
                goto out;
            o += (size_t)w;
        }
    }
    if (o + 1 > buflen)
        goto out;
    memcpy(buf, out, o);
    buf[o] = '\0';
    rc = (int)o;
out:
    return rc;
}

static int emit(jbuf *b, const json_t *v, int depth, char *err, size_t errlen);

static int emit_object(jbuf *b, const json_t *v, int depth, char *err, size_t errlen)
{
    size_t n = json_object_size(v), i = 0;
    jmember *m = NULL;
    int rc = -1;

    if (n) {
        m = calloc(n, sizeof *m);
        if (!m) {
            set_err(err, errlen, "out of memory");
            goto out;
        }
    }
    /* json_object_iter is not const-correct, but iteration does not modify. */
    for (void *it = json_object_iter((json_t *)v); it && i < n;
         it = json_object_iter_next((json_t *)v, it), i++) {
        m[i].key = json_object_iter_key(it);
        m[i].klen = json_object_iter_key_len(it);
        m[i].val = json_object_iter_value(it);
        if (!utf8_valid(m[i].key, m[i].klen)) {
            set_err(err, errlen, "member name is not valid UTF-8");
            goto out;
        }
    }
    n = i;
    if (n > 1)
        qsort(m, n, sizeof *m, member_cmp);
    jb_putc(b, '{');
    for (i = 0; i < n; i++) {
        if (i)
            jb_putc(b, ',');
        put_string(b, m[i].key, m[i].klen);
        jb_putc(b, ':');
        if (emit(b, m[i].val, depth + 1, err, errlen))
            goto out;
    }
    jb_putc(b, '}');
    rc = 0;
out:
    free(m);
    return rc;
}

static int emit(jbuf *b, const json_t *v, int depth, char *err, size_t errlen)
{
    char num[JCS_NUMBER_MAX];
    int rc = -1;

    if (depth > JCS_MAX_DEPTH) {
        set_err(err, errlen, "nesting too deep");
        goto out;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (emit_object(b, v, depth, err, errlen))
            goto out;
        break;
    case JSON_ARRAY:
        jb_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                jb_putc(b, ',');
            if (emit(b, json_array_get(v, i), depth + 1, err, errlen))
                goto out;
        }
        jb_putc(b, ']');
        break;
    case JSON_STRING:
        if (put_string(b, json_string_value(v), json_string_length(v))) {
            set_err(err, errlen, "string is not valid UTF-8");
            goto out;
        }
        break;
    case JSON_INTEGER:
    case JSON_REAL: {
        /* An integer means the double it denotes (JCS has only doubles). */
        double d = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
        int w = jcs_format_double(d, num, sizeof num);
        if (w < 0) {
            set_err(err, errlen, "number is not finite");
            goto out;
        }
        jb_put(b, num, (size_t)w);
        break;
    }
    case JSON_TRUE:
        jb_put(b, "true", 4);
        break;
    case JSON_FALSE:
        jb_put(b, "false", 5);
        break;
    case JSON_NULL:
        jb_put(b, "null", 4);
        break;
    default:
        set_err(err, errlen, "unknown JSON type");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Shared by both entry points: canonicalise v, report problems into err. */
static char *jcs_run(const json_t *v, char *err, size_t errlen)
{
    jbuf b = {0};
    char *res = NULL;

    if (!v) {
        set_err(err, errlen, "no value");
        goto out;
    }
    if (emit(&b, v, 0, err, errlen))
        goto out;
    if (jb_reserve(&b, 0)) { /* also makes sure an empty buffer exists */
        set_err(err, errlen, "out of memory");
        goto out;
    }
    b.p[b.len] = '\0';
    res = b.p;
    b.p = NULL;
out:
    free(b.p);
    return res;
}

char *jcs_canonicalize(const json_t *v)
{
    return jcs_run(v, NULL, 0);
}

char *jcs_canonicalize_text(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *v = NULL;
    char *res = NULL;

    if (!json) {
        set_err(err, errlen, "no input");
        goto out;
    }
    v = json_loadb(
        json, len,
        JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        if (err && errlen)
            snprintf(err, errlen, "%s (line %d, column %d)", je.text, je.line, je.column);
        goto out;
    }
    res = jcs_run(v, err, errlen);
out:
    json_decref(v);
    return res;
}
