/* draft-cavage HTTP Signatures with RSA-SHA256, as the fediverse uses them.
 *
 * Mastodon (all released versions), snac and Fedify 1.5 verify only
 * draft-cavage `rsa-sha256` signatures with RSA keys, so every request the
 * node sends is signed that way, and every inbox POST and signed GET it
 * receives is checked that way. `hs2019` is accepted as RSA-SHA256, which is
 * what Mastodon sends and expects for RSA keys.
 *
 * Signing string (one line per signed header, joined by "\n"):
 *   (request-target): <lowercase method> <path>[?<query>]
 *   host: <value>
 *   date: <value>
 *   digest: SHA-256=<base64 of SHA-256(body)>
 *   content-type: <value>
 *
 * Thread-safe: no global state; keys may be shared between threads. */
#ifndef DINET_HTTPSIG_H
#define DINET_HTTPSIG_H

#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>

/* Longest keyId we accept (URLs; longer ones are refused as malformed). */
#define HTTPSIG_KEYID_MAX 1024
/* At most this many names in the `headers` parameter. */
#define HTTPSIG_MAX_HEADERS 32

/* Headers to send with a signed request. All strings are malloc'd and owned
 * by the struct; release them with httpsig_out_free(). */
typedef struct httpsig_out {
    char *date;      /* value for "Date:" (IMF-fixdate) */
    char *digest;    /* value for "Digest:" ("SHA-256=..."), NULL without a body */
    char *signature; /* value for "Signature:" */
} httpsig_out;

/* Signs a request with an RSA private key.
 *
 * method is the HTTP method as sent ("POST"), target the path with query
 * ("/inbox", "/outbox?page=2"), host the Host header value (with ":port"
 * when the URL has one). body may be NULL (a GET); when it is not NULL, even
 * with body_len 0, a Digest is computed and signed. content_type, when not
 * NULL, is signed too (send the same value). now is the request time; 0
 * means the current time.
 *
 * Signs "(request-target) host date" plus "digest" with a body plus
 * "content-type" when given. The Signature value is
 *   keyId="...",algorithm="rsa-sha256",headers="...",signature="..."
 *
 * Returns 0 and fills *out (zeroed first), or -1 when key is not an RSA
 * private key, an argument is missing or contains characters that cannot go
 * into a header (CR, LF, '"' in key_id, ...), or on a crypto error; *out is
 * then empty (nothing to free, but httpsig_out_free is harmless). */
int httpsig_sign(EVP_PKEY *key, const char *key_id, const char *method, const char *target,
                 const char *host, const char *body, size_t body_len, const char *content_type,
                 time_t now, httpsig_out *out);

/* Frees the strings of out and zeroes it; out may be NULL. */
void httpsig_out_free(httpsig_out *out);

/* Header lookup for verification: returns the value of the request header
 * whose lowercase name is lower_name, or NULL when it is absent. The string
 * must stay valid during httpsig_verify(). When a header occurs several
 * times, return the values joined by ", " (as HTTP defines). */
typedef const char *(*httpsig_header_fn)(void *ud, const char *lower_name);

/* A received request, as the verifier needs it. Nothing is copied. */
typedef struct httpsig_request {
    const char *method;       /* "POST", any case */
    const char *path;         /* "/inbox", without the query */
    const char *query;        /* "page=2" without '?', or NULL */
    httpsig_header_fn header; /* header lookup, required */
    void *header_ud;          /* passed to header() */
    const char *body;         /* request body or NULL */
    size_t body_len;
} httpsig_request;

/* Returns the public key for keyId (the actor's RSA key), or NULL when it is
 * unknown or cannot be fetched. The key stays owned by the callback's side
 * (typically a cache): httpsig_verify() never frees it and does not keep it
 * after returning, so the cache must only keep it alive for the duration of
 * the call. Parse PEM once and cache the EVP_PKEY (fed_keys_rsa_from_pem);
 * parsing is far slower than verifying. */
typedef EVP_PKEY *(*httpsig_key_lookup)(void *ud, const char *key_id);

typedef enum httpsig_code {
    HTTPSIG_OK = 0,
    HTTPSIG_MISSING,        /* no Signature header (nor Authorization: Signature) */
    HTTPSIG_MALFORMED,      /* unparsable header, no keyId/signature, bad base64,
                               unparsable Date */
    HTTPSIG_BAD_ALGORITHM,  /* algorithm other than rsa-sha256/hs2019, or a non-RSA key */
    HTTPSIG_MISSING_HEADER, /* a required header is not signed, or a signed header
                               is absent from the request */
    HTTPSIG_STALE_DATE,     /* Date (or created/expires) outside the window */
    HTTPSIG_BAD_DIGEST,     /* Digest does not match the body */
    HTTPSIG_NO_KEY,         /* lookup returned NULL */
    HTTPSIG_BAD_SIGNATURE,  /* the signature does not verify with the key */
    HTTPSIG_ERROR,          /* out of memory or internal crypto failure */
} httpsig_code;

typedef struct httpsig_result {
    httpsig_code code;
    char key_id[HTTPSIG_KEYID_MAX]; /* copy of keyId as soon as it was parsed, else "" */
    char reason[200];               /* human-readable explanation, "valid" on success */
} httpsig_result;

/* Verifies the draft-cavage signature of a request.
 *
 * Reads "Signature", or "Authorization: Signature ..." when absent.
 * Parameters may come in any order with spaces around them; keyId and
 * signature are required; algorithm may be absent, "rsa-sha256" or
 * "hs2019"; headers defaults to "date". The signed headers must include
 * (request-target), host, and date (or the (created) pseudo-header, as
 * Mastodon allows), plus digest for a POST or any request with a body.
 *
 * With window_seconds > 0 the signed Date (and (created)/(expires), when
 * signed) must lie within +-window_seconds of now; 0 disables time checks
 * (for fixed test vectors); now 0 means the current time. A Digest (SHA-256
 * and/or SHA-512, base64) must match the body. Cheap checks come first;
 * lookup is called only after all of them passed, so a request that is stale
 * or has a wrong digest never triggers a key fetch. (request-target) is
 * tried with the query string and, if that fails, without it, because
 * senders differ on that.
 *
 * Returns res->code (HTTPSIG_OK == 0 when valid) and fills *res, which is
 * required (HTTPSIG_ERROR without touching anything when res is NULL).
 *
 * Key rotation: verification is stateless. On HTTPSIG_BAD_SIGNATURE (or
 * HTTPSIG_NO_KEY) the caller may refetch the key for res->key_id, replace its
 * cache entry and simply call httpsig_verify() again with the same request;
 * do that once, not in a loop. */
httpsig_code httpsig_verify(const httpsig_request *req, httpsig_key_lookup lookup, void *lookup_ud,
                            time_t now, long window_seconds, httpsig_result *res);

/* Short name of a code ("ok", "missing", "malformed", "bad_algorithm",
 * "missing_header", "stale_date", "bad_digest", "no_key", "bad_signature",
 * "error"), for logs and metrics. Static string. */
const char *httpsig_code_name(httpsig_code code);

/* Formats t as an IMF-fixdate ("Wed, 25 Nov 2026 12:00:00 GMT"),
 * independent of the locale. buf needs 30 bytes. Returns 0, or -1 when
 * buf is too small or t cannot be represented. */
int httpsig_format_date(time_t t, char *buf, size_t buflen);

/* Parses an IMF-fixdate (zone "GMT"; "UTC" and "+0000" are tolerated).
 * Returns 0 and sets *out, or -1 when s is not such a date. */
int httpsig_parse_date(const char *s, time_t *out);

#endif
