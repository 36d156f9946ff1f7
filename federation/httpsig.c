/* draft-cavage HTTP Signatures; see httpsig.h. */
#include "httpsig.h"

#include <ctype.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RSA-16384 signatures are 2048 bytes; nothing real is larger. */
#define SIG_MAX 2048
#define METHOD_MAX 32

/* A slice of the Signature header value; nothing is copied while parsing. */
typedef struct slice {
    const char *p;
    size_t n;
} slice;

typedef struct sig_params {
    slice key_id, algorithm, headers, signature, created, expires;
    int has_key_id, has_algorithm, has_headers, has_signature, has_created, has_expires;
} sig_params;

/* Growable text buffer for the signing string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Appends n bytes; on overflow or allocation failure sets b->failed, which
 * makes every later append a no-op, so callers check once at the end. */
static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        goto out;
    if (n > SIZE_MAX - 1 - b->len) {
        b->failed = 1;
        goto out;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            goto out;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
out:
    return;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void set_res(httpsig_result *res, httpsig_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_res(httpsig_result *res, httpsig_code code, const char *fmt, ...)
{
    va_list ap;
    res->code = code;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
}

const char *httpsig_code_name(httpsig_code code)
{
    switch (code) {
    case HTTPSIG_OK:
        return "ok";
    case HTTPSIG_MISSING:
        return "missing";
    case HTTPSIG_MALFORMED:
        return "malformed";
    case HTTPSIG_BAD_ALGORITHM:
        return "bad_algorithm";
    case HTTPSIG_MISSING_HEADER:
        return "missing_header";
    case HTTPSIG_STALE_DATE:
        return "stale_date";
    case HTTPSIG_BAD_DIGEST:
        return "bad_digest";
    case HTTPSIG_NO_KEY:
        return "no_key";
    case HTTPSIG_BAD_SIGNATURE:
        return "bad_signature";
    case HTTPSIG_ERROR:
        return "error";
    }
    return "unknown";
}

int httpsig_format_date(time_t t, char *buf, size_t buflen)
{
    struct tm tm;
    int n, rc = -1;

    /* Own day and month names: strftime's %a/%b follow LC_TIME. */
    if (!buf || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
        goto out;
    n = snprintf(buf, buflen, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || (size_t)n >= buflen)
        goto out;
    rc = 0;
out:
    return rc;
}

/* Reads exactly `digits` decimal digits. */
static int read_num(const char **s, int digits, int *out)
{
    int rc = -1;
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            goto out;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += digits;
    *out = v;
    rc = 0;
out:
    return rc;
}

static int expect_str(const char **s, const char *lit)
{
    int rc = -1;
    size_t n = strlen(lit);
    if (strncmp(*s, lit, n) != 0)
        goto out;
    *s += n;
    rc = 0;
out:
    return rc;
}

int httpsig_parse_date(const char *s, time_t *out)
{
    int rc = -1;
    struct tm tm = {0};
    int day, year, h, m, sec, mon = -1, wday = -1;
    time_t t;

    if (!s || !out)
        goto out;
    while (*s == ' ' || *s == '\t')
        s++;
    for (int i = 0; i < 7; i++)
        if (strncmp(s, wdays[i], 3) == 0)
            wday = i;
    if (wday < 0)
        goto out;
    s += 3;
    if (expect_str(&s, ", ") || read_num(&s, 2, &day) || expect_str(&s, " "))
        goto out;
    for (int i = 0; i < 12; i++)
        if (strncmp(s, months[i], 3) == 0)
            mon = i;
    if (mon < 0)
        goto out;
    s += 3;
    if (expect_str(&s, " ") || read_num(&s, 4, &year) || expect_str(&s, " ") ||
        read_num(&s, 2, &h) || expect_str(&s, ":") || read_num(&s, 2, &m) || expect_str(&s, ":") ||
        read_num(&s, 2, &sec) || expect_str(&s, " "))
        goto out;
    if (expect_str(&s, "GMT") && expect_str(&s, "UTC") && expect_str(&s, "+0000"))
        goto out;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60)
        goto out;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        goto out;
    *out = t;
    rc = 0;
out:
    return rc;
}

/* May s go into a header value (or a quoted parameter when quoted)? */
static int header_safe(const char *s, int quoted)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || (quoted && (c == '"' || c == '\\')))
            return 0;
    }
    return 1;
}

/* "(request-target): post /path?query" into b. */
static void put_request_target(sbuf *b, const char *method, const char *path, const char *query)
{
    char lm[METHOD_MAX];
    size_t n = strlen(method);
    if (n >= sizeof lm) {
        b->failed = 1; /* reported by the caller's check of b->failed */
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        lm[i] = (char)tolower((unsigned char)method[i]);
    lm[n] = '\0';
    sb_str(b, "(request-target): ");
    sb_str(b, lm);
    sb_str(b, " ");
    sb_str(b, path);
    if (query && *query) {
        sb_str(b, "?");
        sb_str(b, query);
    }
out:
    return;
}

static char *b64(const unsigned char *bin, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    if (s)
        sodium_bin2base64(s, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

/* Value of a standard base64 character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict standard base64 (with padding) decoder. Signatures and digests are
 * public, so plain branches are fine; libsodium's constant-time decoder was a
 * noticeable share of a verification. Returns 0 and sets *outlen, or -1 on a
 * bad character, bad padding or a result larger than cap. */
static int unb64(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    int rc = -1;
    size_t o = 0, pad = 0;

    if (n == 0 || n % 4)
        goto out;
    if (s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    if ((n / 4) * 3 - pad > cap)
        goto out;
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int a = b64_value((unsigned char)s[i]), b = b64_value((unsigned char)s[i + 1]);
        int c = (last && pad == 2) ? 0 : b64_value((unsigned char)s[i + 2]);
        int d = (last && pad >= 1) ? 0 : b64_value((unsigned char)s[i + 3]);
        if ((a | b | c | d) < 0)
            goto out;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        if (!(last && pad == 2))
            out[o++] = (unsigned char)(v >> 8);
        if (!(last && pad >= 1))
            out[o++] = (unsigned char)v;
    }
    *outlen = o;
    rc = 0;
out:
    return rc;
}

int httpsig_sign(EVP_PKEY *key, const char *key_id, const char *method, const char *target,
                 const char *host, const char *body, size_t body_len, const char *content_type,
                 time_t now, httpsig_out *out)
{
    EVP_MD_CTX *md = NULL;
    sbuf tbs = {0}, sigh = {0};
    unsigned char *sig = NULL, hash[crypto_hash_sha256_BYTES];
    char date[64], *sig64 = NULL;
    size_t siglen = 0;
    int rc = -1;

    if (!out)
        goto out;
    memset(out, 0, sizeof *out);
    if (!key || !EVP_PKEY_is_a(key, "RSA") || !header_safe(key_id, 1) || !header_safe(method, 1) ||
        strlen(method) >= METHOD_MAX || !header_safe(target, 1) || target[0] != '/' ||
        strchr(target, ' ') || !header_safe(host, 1) ||
        (content_type && !header_safe(content_type, 0)))
        goto out;
    if (now == 0)
        now = time(NULL);
    if (httpsig_format_date(now, date, sizeof date))
        goto out;
    out->date = strdup(date);
    if (!out->date)
        goto out;
    if (body) {
        static const char prefix[] = "SHA-256=";
        crypto_hash_sha256(hash, (const unsigned char *)body, body_len);
        char *h64 = b64(hash, sizeof hash);
        if (!h64)
            goto out;
        out->digest = malloc(sizeof prefix + strlen(h64));
        if (out->digest)
            snprintf(out->digest, sizeof prefix + strlen(h64), "%s%s", prefix, h64);
        free(h64);
        if (!out->digest)
            goto out;
    }

    put_request_target(&tbs, method, target, NULL);
    sb_str(&tbs, "\nhost: ");
    sb_str(&tbs, host);
    sb_str(&tbs, "\ndate: ");
    sb_str(&tbs, out->date);
    if (out->digest) {
        sb_str(&tbs, "\ndigest: ");
        sb_str(&tbs, out->digest);
    }
    if (content_type) {
        sb_str(&tbs, "\ncontent-type: ");
        sb_str(&tbs, content_type);
    }
    if (tbs.failed)
        goto out;

    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)tbs.p, tbs.len) != 1)
        goto out;
    sig = malloc(siglen);
    if (!sig || EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tbs.p, tbs.len) != 1)
        goto out;
    sig64 = b64(sig, siglen);
    if (!sig64)
        goto out;

    sb_str(&sigh, "keyId=\"");
    sb_str(&sigh, key_id);
    sb_str(&sigh, "\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date");
    if (out->digest)
        sb_str(&sigh, " digest");
    if (content_type)
        sb_str(&sigh, " content-type");
    sb_str(&sigh, "\",signature=\"");
    sb_str(&sigh, sig64);
    sb_str(&sigh, "\"");
    if (sigh.failed)
        goto out;
    out->signature = sigh.p;
    sigh.p = NULL;
    rc = 0;
out:
    if (rc && out)
        httpsig_out_free(out);
    EVP_MD_CTX_free(md);
    free(sig);
    free(sig64);
    free(tbs.p);
    free(sigh.p);
    return rc;
}

void httpsig_out_free(httpsig_out *out)
{
    if (out) {
        free(out->date);
        free(out->digest);
        free(out->signature);
        memset(out, 0, sizeof *out);
    }
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int slice_eq(slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* Stores one parameter; a repeated one makes the header ambiguous. */
static int store_param(sig_params *sp, slice name, slice value)
{
    static const struct {
        const char *name;
        size_t slot_off, flag_off;
    } known[] = {
        {"keyId", offsetof(sig_params, key_id), offsetof(sig_params, has_key_id)},
        {"algorithm", offsetof(sig_params, algorithm), offsetof(sig_params, has_algorithm)},
        {"headers", offsetof(sig_params, headers), offsetof(sig_params, has_headers)},
        {"signature", offsetof(sig_params, signature), offsetof(sig_params, has_signature)},
        {"created", offsetof(sig_params, created), offsetof(sig_params, has_created)},
        {"expires", offsetof(sig_params, expires), offsetof(sig_params, has_expires)},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!slice_eq(name, known[i].name))
            continue;
        int *flag = (int *)((char *)sp + known[i].flag_off);
        if (*flag)
            return -1;
        *flag = 1;
        *(slice *)((char *)sp + known[i].slot_off) = value;
        return 0;
    }
    return 0; /* unknown parameters are ignored, as the draft asks */
}

/* Parses `name="value", name=token, ...` with optional whitespace. */
static int parse_params(const char *s, sig_params *sp)
{
    int rc = -1;
    memset(sp, 0, sizeof *sp);
    for (;;) {
        while (is_ows(*s) || *s == ',')
            s++;
        if (!*s)
            break;
        slice name = {s, 0}, value;
        while (isalnum((unsigned char)*s) || *s == '-' || *s == '_')
            s++;
        name.n = (size_t)(s - name.p);
        if (!name.n)
            goto out;
        while (is_ows(*s))
            s++;
        if (*s++ != '=')
            goto out;
        while (is_ows(*s))
            s++;
        if (*s == '"') {
            value.p = ++s;
            while (*s && *s != '"')
                s++;
            if (*s != '"')
                goto out;
            value.n = (size_t)(s - value.p);
            s++;
        } else {
            value.p = s;
            while (*s && *s != ',' && !is_ows(*s))
                s++;
            value.n = (size_t)(s - value.p);
        }
        if (store_param(sp, name, value))
            goto out;
        while (is_ows(*s))
            s++;
        if (*s && *s != ',')
            goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Parses a decimal Unix time parameter ((created)/(expires)). */
static int slice_time(slice s, time_t *out)
{
    int rc = -1;
    long long v = 0;
    if (!s.n || s.n > 18)
        goto out;
    for (size_t i = 0; i < s.n; i++) {
        if (!isdigit((unsigned char)s.p[i]))
            goto out;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = (time_t)v;
    rc = 0;
out:
    return rc;
}

/* Header value with surrounding whitespace removed, as a slice. */
static int header_value(const httpsig_request *req, const char *lname, slice *out)
{
    int rc = -1;
    const char *v = req->header(req->header_ud, lname);
    if (!v)
        goto out;
    while (is_ows(*v))
        v++;
    size_t n = strlen(v);
    while (n && is_ows(v[n - 1]))
        n--;
    out->p = v;
    out->n = n;
    rc = 0;
out:
    return rc;
}

/* Checks the Digest header ("SHA-256=..., SHA-512=...") against the body.
 * Each hash is computed only when the header asks for it. */
static httpsig_code check_digest(const char *value, const char *body, size_t len, char *why,
                                 size_t whylen)
{
    unsigned char h[crypto_hash_sha512_BYTES], got[crypto_hash_sha512_BYTES];
    int known = 0;
    httpsig_code rc = HTTPSIG_BAD_DIGEST;
    const char *s = value;
    static const unsigned char empty = 0;
    const unsigned char *b = body ? (const unsigned char *)body : &empty;

    if (!body)
        len = 0;
    while (*s) {
        while (is_ows(*s) || *s == ',')
            s++;
        if (!*s)
            break;
        const char *alg = s;
        while (*s && *s != '=')
            s++;
        if (*s != '=') {
            snprintf(why, whylen, "Digest header is malformed");
            goto out;
        }
        size_t alglen = (size_t)(s - alg);
        const char *val = ++s;
        while (*s && *s != ',')
            s++;
        size_t vlen = (size_t)(s - val);
        while (vlen && is_ows(val[vlen - 1]))
            vlen--;
        size_t hlen;
        if (alglen == 7 && strncasecmp(alg, "SHA-256", 7) == 0) {
            crypto_hash_sha256(h, b, len);
            hlen = crypto_hash_sha256_BYTES;
        } else if (alglen == 7 && strncasecmp(alg, "SHA-512", 7) == 0) {
            crypto_hash_sha512(h, b, len);
            hlen = crypto_hash_sha512_BYTES;
        } else {
            continue; /* another algorithm: neither proof nor disproof */
        }
        size_t gotlen = 0;
        if (unb64(val, vlen, got, sizeof got, &gotlen) || gotlen != hlen ||
            memcmp(got, h, hlen) != 0) {
            snprintf(why, whylen, "digest does not match the body (%.*s)", (int)alglen, alg);
            goto out;
        }
        known = 1;
    }
    if (!known) {
        snprintf(why, whylen, "Digest header has no SHA-256 or SHA-512 value");
        goto out;
    }
    rc = HTTPSIG_OK;
out:
    return rc;
}

/* Builds the signing string for the signed header names. */
static int build_signing_string(const httpsig_request *req, const slice *names, size_t nnames,
                                const sig_params *sp, int with_query, sbuf *b)
{
    int rc = -1;

    b->len = 0;
    b->failed = 0;
    for (size_t i = 0; i < nnames; i++) {
        char lname[64];
        slice v;
        if (i)
            sb_put(b, "\n", 1);
        if (names[i].n >= sizeof lname)
            goto out;
        for (size_t k = 0; k < names[i].n; k++)
            lname[k] = (char)tolower((unsigned char)names[i].p[k]);
        lname[names[i].n] = '\0';
        if (!strcmp(lname, "(request-target)")) {
            put_request_target(b, req->method, req->path, with_query ? req->query : NULL);
        } else if (!strcmp(lname, "(created)") || !strcmp(lname, "(expires)")) {
            slice t = lname[1] == 'c' ? sp->created : sp->expires;
            sb_str(b, lname);
            sb_put(b, ": ", 2);
            sb_put(b, t.p, t.n);
        } else {
            if (header_value(req, lname, &v))
                goto out;
            sb_str(b, lname);
            sb_put(b, ": ", 2);
            sb_put(b, v.p, v.n);
        }
    }
    rc = b->failed ? -1 : 0;
out:
    return rc;
}

/* One RSA-SHA256 verification with a fresh context (contexts are cheap and
 * sharing one across threads is not allowed). 1 valid, 0 invalid, -1 error. */
static int rsa_verify(EVP_PKEY *key, const unsigned char *sig, size_t siglen, const sbuf *tbs)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -1;
    if (!md || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1)
        goto out;
    rc = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)tbs->p, tbs->len) == 1 ? 1 : 0;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

static int has_name(const slice *names, size_t n, const char *lit)
{
    for (size_t i = 0; i < n; i++)
        if (slice_eq(names[i], lit))
            return 1;
    return 0;
}

httpsig_code httpsig_verify(const httpsig_request *req, httpsig_key_lookup lookup, void *lookup_ud,
                            time_t now, long window_seconds, httpsig_result *res)
{
    sig_params sp;
    slice names[HTTPSIG_MAX_HEADERS];
    size_t nnames = 0;
    unsigned char sig[SIG_MAX];
    size_t siglen = 0;
    sbuf tbs = {0};
    const char *hv;
    slice v;
    int body_expected;
    EVP_PKEY *key;
    httpsig_result scratch; /* so a NULL res still gets HTTPSIG_ERROR */

    if (!res) {
        res = &scratch;
        memset(res, 0, sizeof *res);
        set_res(res, HTTPSIG_ERROR, "no result struct");
        goto out;
    }
    memset(res, 0, sizeof *res);
    if (!req || !req->method || !req->path || !req->header || !lookup) {
        set_res(res, HTTPSIG_ERROR, "incomplete request description");
        goto out;
    }
    hv = req->header(req->header_ud, "signature");
    if (!hv) {
        hv = req->header(req->header_ud, "authorization");
        while (hv && is_ows(*hv))
            hv++;
        if (hv && strncasecmp(hv, "Signature", 9) == 0 && is_ows(hv[9]))
            hv += 10;
        else
            hv = NULL;
    }
    if (!hv) {
        set_res(res, HTTPSIG_MISSING, "no Signature header");
        goto out;
    }
    if (parse_params(hv, &sp)) {
        set_res(res, HTTPSIG_MALFORMED, "Signature header cannot be parsed");
        goto out;
    }
    if (!sp.has_key_id || !sp.key_id.n || sp.key_id.n >= sizeof res->key_id) {
        set_res(res, HTTPSIG_MALFORMED, "keyId missing or too long");
        goto out;
    }
    memcpy(res->key_id, sp.key_id.p, sp.key_id.n);
    res->key_id[sp.key_id.n] = '\0';
    if (!sp.has_signature || unb64(sp.signature.p, sp.signature.n, sig, sizeof sig, &siglen) ||
        !siglen) {
        set_res(res, HTTPSIG_MALFORMED, "signature parameter missing or not base64");
        goto out;
    }
    if (sp.has_algorithm && !slice_eq(sp.algorithm, "rsa-sha256") &&
        !slice_eq(sp.algorithm, "hs2019")) {
        set_res(res, HTTPSIG_BAD_ALGORITHM, "algorithm '%.*s' is not supported",
                (int)(sp.algorithm.n > 40 ? 40 : sp.algorithm.n), sp.algorithm.p);
        goto out;
    }

    /* The signed header list; the draft's default is just "date". */
    {
        slice h = sp.has_headers ? sp.headers : (slice){"date", 4};
        size_t i = 0;
        while (i < h.n) {
            while (i < h.n && is_ows(h.p[i]))
                i++;
            if (i >= h.n)
                break;
            size_t start = i;
            while (i < h.n && !is_ows(h.p[i]))
                i++;
            if (nnames == HTTPSIG_MAX_HEADERS) {
                set_res(res, HTTPSIG_MALFORMED, "too many signed headers");
                goto out;
            }
            names[nnames++] = (slice){h.p + start, i - start};
        }
    }
    body_expected = req->body_len > 0 || strcasecmp(req->method, "POST") == 0;
    if (!has_name(names, nnames, "(request-target)") || !has_name(names, nnames, "host") ||
        (!has_name(names, nnames, "date") && !has_name(names, nnames, "(created)")) ||
        (body_expected && !has_name(names, nnames, "digest"))) {
        set_res(res, HTTPSIG_MISSING_HEADER,
                "signed headers must include (request-target), host, date%s",
                body_expected ? " and digest" : "");
        goto out;
    }
    for (size_t i = 0; i < nnames; i++) {
        char lname[64];
        if (names[i].n >= sizeof lname) {
            set_res(res, HTTPSIG_MALFORMED, "signed header name too long");
            goto out;
        }
        for (size_t k = 0; k < names[i].n; k++)
            lname[k] = (char)tolower((unsigned char)names[i].p[k]);
        lname[names[i].n] = '\0';
        if (!strcmp(lname, "(request-target)"))
            continue;
        if (!strcmp(lname, "(created)") || !strcmp(lname, "(expires)")) {
            time_t t;
            if (!(lname[1] == 'c' ? sp.has_created : sp.has_expires) ||
                slice_time(lname[1] == 'c' ? sp.created : sp.expires, &t)) {
                set_res(res, HTTPSIG_MALFORMED, "%s signed without a valid parameter", lname);
                goto out;
            }
            continue;
        }
        if (!req->header(req->header_ud, lname)) {
            set_res(res, HTTPSIG_MISSING_HEADER, "signed header '%s' is missing", lname);
            goto out;
        }
    }

    /* Freshness of what was signed. */
    if (now == 0)
        now = time(NULL);
    if (window_seconds > 0) {
        time_t t;
        if (has_name(names, nnames, "date")) {
            if (header_value(req, "date", &v) || httpsig_parse_date(v.p, &t)) {
                set_res(res, HTTPSIG_MALFORMED, "Date header cannot be parsed");
                goto out;
            }
            if (t < now - window_seconds || t > now + window_seconds) {
                set_res(res, HTTPSIG_STALE_DATE, "Date is %+lld s away from now (window %ld s)",
                        (long long)(t - now), window_seconds);
                goto out;
            }
        }
        if (has_name(names, nnames, "(created)") && !slice_time(sp.created, &t) &&
            (t < now - window_seconds || t > now + window_seconds)) {
            set_res(res, HTTPSIG_STALE_DATE, "created is outside the window");
            goto out;
        }
        if (has_name(names, nnames, "(expires)") && !slice_time(sp.expires, &t) && t < now) {
            set_res(res, HTTPSIG_STALE_DATE, "signature expired");
            goto out;
        }
    }

    /* The body, through its digest: a Digest that is present is always
     * checked (a GET has an empty body). */
    hv = req->header(req->header_ud, "digest");
    if (hv) {
        httpsig_code dc =
            check_digest(hv, req->body, req->body_len, res->reason, sizeof res->reason);
        if (dc != HTTPSIG_OK) {
            res->code = dc;
            goto out;
        }
    }

    /* Only now is a key worth fetching. */
    key = lookup(lookup_ud, res->key_id);
    if (!key) {
        set_res(res, HTTPSIG_NO_KEY, "no key for keyId");
        goto out;
    }
    if (!EVP_PKEY_is_a(key, "RSA")) {
        set_res(res, HTTPSIG_BAD_ALGORITHM, "key for keyId is not an RSA key");
        goto out;
    }
    for (int with_query = (req->query && *req->query) ? 1 : 0; with_query >= 0; with_query--) {
        if (build_signing_string(req, names, nnames, &sp, with_query, &tbs)) {
            set_res(res, tbs.failed ? HTTPSIG_ERROR : HTTPSIG_MISSING_HEADER,
                    "cannot build the signing string");
            goto out;
        }
        int ok = rsa_verify(key, sig, siglen, &tbs);
        if (ok == 1) {
            set_res(res, HTTPSIG_OK, "valid");
            goto out;
        }
        if (ok < 0) {
            set_res(res, HTTPSIG_ERROR, "crypto error");
            goto out;
        }
    }
    set_res(res, HTTPSIG_BAD_SIGNATURE, "signature does not verify");
out:
    free(tbs.p);
    return res->code;
}
