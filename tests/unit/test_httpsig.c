/* Unit tests for federation/httpsig: the independent vectors in
 * tests/vectors/http-signature-cavage, round trips and tampering. */
#include "httpsig.h"
#include "keys.h"
#include "testlib.h"

#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAXH 12

/* A request under test: headers as name/value pairs, looked up without
 * regard to case like a real server does. */
typedef struct treq {
    const char *names[MAXH];
    char *values[MAXH];
    int n;
    char method[16], path[256], query[256];
    const char *body;
    size_t body_len;
} treq;

static const char *treq_header(void *ud, const char *lower)
{
    treq *r = ud;
    for (int i = 0; i < r->n; i++)
        if (strcasecmp(r->names[i], lower) == 0)
            return r->values[i];
    return NULL;
}

static void treq_set(treq *r, const char *name, const char *value)
{
    for (int i = 0; i < r->n; i++) {
        if (strcasecmp(r->names[i], name) == 0) {
            free(r->values[i]);
            if (value) {
                r->values[i] = strdup(value);
            } else { /* remove */
                r->names[i] = r->names[r->n - 1];
                r->values[i] = r->values[r->n - 1];
                r->n--;
            }
            return;
        }
    }
    if (value && r->n < MAXH) {
        r->names[r->n] = name;
        r->values[r->n++] = strdup(value);
    }
}

static void treq_free(treq *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->values[i]);
    r->n = 0;
}

/* Splits "path?query" into the request. */
static void treq_target(treq *r, const char *method, const char *target)
{
    snprintf(r->method, sizeof r->method, "%s", method);
    const char *q = strchr(target, '?');
    snprintf(r->path, sizeof r->path, "%.*s", q ? (int)(q - target) : (int)strlen(target), target);
    snprintf(r->query, sizeof r->query, "%s", q ? q + 1 : "");
}

static httpsig_request view(treq *r)
{
    httpsig_request v = {r->method, r->path,    r->query[0] ? r->query : NULL, treq_header, r,
                         r->body,   r->body_len};
    return v;
}

/* Key lookup: one known keyId; counts calls. */
typedef struct keyring {
    const char *key_id;
    EVP_PKEY *key;
    int calls;
} keyring;

static EVP_PKEY *lookup(void *ud, const char *key_id)
{
    keyring *k = ud;
    k->calls++;
    return strcmp(key_id, k->key_id) == 0 ? k->key : NULL;
}

static EVP_PKEY *load_private(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return k;
}

static httpsig_code verify(treq *r, keyring *kr, time_t now, long window, httpsig_result *res)
{
    httpsig_request v = view(r);
    return httpsig_verify(&v, lookup, kr, now, window, res);
}

static void test_vectors(void)
{
    char *text = tl_read_file(tl_vector("http-signature-cavage/vectors.json"), NULL);
    char *pem = tl_read_file(tl_vector("http-signature-cavage/test-key.public.pem"), NULL);
    json_t *root = text ? json_loads(text, 0, NULL) : NULL;
    EVP_PKEY *pub = fed_keys_rsa_from_pem(pem);
    EVP_PKEY *priv = load_private(tl_vector("http-signature-cavage/test-key.private.pem"));
    json_t *cases = json_object_get(root, "cases");
    size_t i;
    json_t *c;
    CHECK(json_array_size(cases) >= 6 && pub && priv, "vectors and keys load");

    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        const char *method = json_string_value(json_object_get(c, "method"));
        const char *target = json_string_value(json_object_get(c, "request_target"));
        const char *body = json_string_value(json_object_get(c, "body"));
        json_t *hdrs = json_object_get(c, "headers");
        const char *k;
        json_t *hv;
        treq r = {0};
        treq_target(&r, method, target);
        json_object_foreach(hdrs, k, hv)
        {
            treq_set(&r, k, json_string_value(hv));
        }
        r.body = body;
        r.body_len = body ? strlen(body) : 0;

        /* keyId from the header, so the lookup knows it. */
        keyring kr = {"https://magdeburg.example/actor#main-key", pub, 0};
        httpsig_result res;
        httpsig_code got = verify(&r, &kr, 0, 0, &res);
        time_t date = 0;
        CHECK(httpsig_parse_date(treq_header(&r, "date"), &date) == 0, "%s: Date parses", name);
        httpsig_code got_clock = verify(&r, &kr, date + 30, 3600, &res);
        if (strcmp(expect, "valid") == 0) {
            CHECK(got == HTTPSIG_OK, "%s: valid (window off), got %s: %s", name,
                  httpsig_code_name(got), res.reason);
            CHECK(got_clock == HTTPSIG_OK, "%s: valid (clock set), got %s: %s", name,
                  httpsig_code_name(got_clock), res.reason);
            CHECK_STR(res.key_id, kr.key_id, "keyId reported");
        } else {
            httpsig_code want =
                strstr(expect, "digest") ? HTTPSIG_BAD_DIGEST : HTTPSIG_BAD_SIGNATURE;
            CHECK(got == want, "%s: got %s (%s), want %s", name, httpsig_code_name(got), res.reason,
                  httpsig_code_name(want));
            CHECK(got_clock == want, "%s with clock: got %s", name, httpsig_code_name(got_clock));
        }

        /* RSA PKCS#1 v1.5 is deterministic: signing the same request with the
         * vector's private key must give the vector's exact headers. */
        const char *sigh = json_string_value(json_object_get(hdrs, "Signature"));
        if (strcmp(expect, "valid") == 0 && strstr(sigh, "rsa-sha256")) {
            httpsig_out out;
            const char *ct = json_string_value(json_object_get(hdrs, "Content-Type"));
            CHECK_INT(httpsig_sign(priv, kr.key_id, method, target,
                                   json_string_value(json_object_get(hdrs, "Host")), body,
                                   body ? strlen(body) : 0, ct, date, &out),
                      0, "sign like the vector");
            CHECK_STR(out.date, json_string_value(json_object_get(hdrs, "Date")), "Date");
            if (body)
                CHECK_STR(out.digest, json_string_value(json_object_get(hdrs, "Digest")), "Digest");
            else
                CHECK(out.digest == NULL, "%s: no Digest without a body", name);
            CHECK_STR(out.signature, sigh, name);
            httpsig_out_free(&out);
        }
        treq_free(&r);
    }
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv);
    json_decref(root);
    free(text);
    free(pem);
}

/* Builds a signed request from httpsig_sign's output. */
static int make_signed(treq *r, EVP_PKEY *key, const char *key_id, const char *method,
                       const char *target, const char *body, time_t when)
{
    httpsig_out out;
    memset(r, 0, sizeof *r);
    treq_target(r, method, target);
    if (httpsig_sign(key, key_id, method, target, "halle.example", body, body ? strlen(body) : 0,
                     body ? "application/activity+json" : NULL, when, &out))
        return -1;
    treq_set(r, "Host", "halle.example");
    treq_set(r, "Date", out.date);
    if (out.digest)
        treq_set(r, "Digest", out.digest);
    if (body)
        treq_set(r, "Content-Type", "application/activity+json");
    treq_set(r, "Signature", out.signature);
    r->body = body;
    r->body_len = body ? strlen(body) : 0;
    httpsig_out_free(&out);
    return 0;
}

static void expect_code(treq *r, keyring *kr, time_t now, httpsig_code want, const char *what)
{
    httpsig_result res;
    httpsig_code got = verify(r, kr, now, 3600, &res);
    CHECK(got == want, "%s: got %s (%s), want %s", what, httpsig_code_name(got), res.reason,
          httpsig_code_name(want));
    CHECK(res.code == got && res.reason[0], "%s: result filled", what);
}

static void test_roundtrip_and_tamper(void)
{
    const char *kid = "https://halle.example/actor#main-key";
    const char *body = "{\"type\":\"Create\",\"object\":{\"content\":\"\xc3\xa4\"}}";
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    time_t now = time(NULL);
    keyring kr = {kid, key, 0}, wrong = {kid, other, 0};
    treq r;
    httpsig_result res;
    CHECK(key && other, "keys generated");

    /* POST round trip. */
    CHECK_INT(make_signed(&r, key, kid, "POST", "/inbox", body, now), 0, "sign POST");
    expect_code(&r, &kr, now, HTTPSIG_OK, "POST round trip");
    CHECK(strstr(treq_header(&r, "signature"),
                 "headers=\"(request-target) host date digest content-type\"") != NULL,
          "POST signs digest and content-type");
    CHECK_INT(kr.calls, 1, "one key lookup");

    /* Key rotation on the sender's side: the cached key is stale, the first
     * call fails, the caller refetches and calls again. */
    CHECK_INT(verify(&r, &wrong, now, 3600, &res), HTTPSIG_BAD_SIGNATURE, "stale cached key");
    CHECK_STR(res.key_id, kid, "keyId available for the refetch");
    CHECK_INT(verify(&r, &kr, now, 3600, &res), HTTPSIG_OK, "second call with refreshed key");

    /* Authorization: Signature form. */
    treq_set(&r, "Authorization", "x");
    free(r.values[r.n - 1]);
    size_t alen = strlen(treq_header(&r, "signature")) + 16;
    char *auth = malloc(alen);
    snprintf(auth, alen, "Signature %s", treq_header(&r, "signature"));
    r.values[r.n - 1] = auth;
    treq_set(&r, "Signature", NULL);
    expect_code(&r, &kr, now, HTTPSIG_OK, "Authorization: Signature");
    treq_free(&r);

    /* Tampering. */
    CHECK_INT(make_signed(&r, key, kid, "POST", "/inbox", body, now), 0, "sign POST");
    r.body = "{\"type\":\"Delete\"}";
    r.body_len = strlen(r.body);
    kr.calls = 0;
    expect_code(&r, &kr, now, HTTPSIG_BAD_DIGEST, "changed body");
    CHECK_INT(kr.calls, 0, "no key lookup for a bad digest");
    r.body = body;
    r.body_len = strlen(body);

    treq_set(&r, "Host", "evil.example");
    expect_code(&r, &kr, now, HTTPSIG_BAD_SIGNATURE, "changed signed header (host)");
    treq_set(&r, "Host", "halle.example");

    expect_code(&r, &wrong, now, HTTPSIG_BAD_SIGNATURE, "wrong key");
    keyring none = {"https://other.example/k", key, 0};
    expect_code(&r, &none, now, HTTPSIG_NO_KEY, "unknown key");

    kr.calls = 0;
    expect_code(&r, &kr, now + 7200, HTTPSIG_STALE_DATE, "Date 2 h old");
    expect_code(&r, &kr, now - 7200, HTTPSIG_STALE_DATE, "Date 2 h in the future");
    CHECK_INT(kr.calls, 0, "no key lookup for a stale request");
    httpsig_code nowin = verify(&r, &kr, now + 7200, 0, &res);
    CHECK(nowin == HTTPSIG_OK, "window 0 disables the date check: %s", res.reason);

    char *saved = strdup(treq_header(&r, "digest"));
    treq_set(&r, "Digest", "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    expect_code(&r, &kr, now, HTTPSIG_BAD_DIGEST, "wrong Digest");
    treq_set(&r, "Digest", "SHA-256=not base64!");
    expect_code(&r, &kr, now, HTTPSIG_BAD_DIGEST, "Digest not base64");
    treq_set(&r, "Digest", "MD5=abc");
    expect_code(&r, &kr, now, HTTPSIG_BAD_DIGEST, "Digest without a supported algorithm");
    treq_set(&r, "Digest", NULL);
    expect_code(&r, &kr, now, HTTPSIG_MISSING_HEADER, "signed Digest header removed");
    treq_set(&r, "Digest", saved);
    free(saved);
    expect_code(&r, &kr, now, HTTPSIG_OK, "restored request verifies");

    saved = strdup(treq_header(&r, "signature"));
    treq_set(&r, "Signature", NULL);
    expect_code(&r, &kr, now, HTTPSIG_MISSING, "missing Signature");

    /* Hand-made Signature headers: same signature, other parameters. */
    const char *sigval = strstr(saved, "signature=\"") + 11;
    char sigb64[1024];
    snprintf(sigb64, sizeof sigb64, "%.*s", (int)(strchr(sigval, '"') - sigval), sigval);
    char h[2048];
    const char *hl = "(request-target) host date digest content-type";

    snprintf(h, sizeof h, "keyId=\"%s\",algorithm=\"hmac-sha256\",headers=\"%s\",signature=\"%s\"",
             kid, hl, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_BAD_ALGORITHM, "algorithm hmac-sha256");

    snprintf(h, sizeof h, "  signature = \"%s\" , headers=\"%s\",  keyId=\"%s\" ,algorithm=hs2019 ",
             sigb64, hl, kid);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_OK, "any order, spaces, token value, hs2019");

    snprintf(h, sizeof h, "keyId=\"%s\",headers=\"%s\",signature=\"%s\"", kid, hl, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_OK, "algorithm absent");

    snprintf(h, sizeof h, "keyId=\"%s\",headers=\"%s\",signature=\"%s\",future=\"x\"", kid, hl,
             sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_OK, "unknown parameter ignored");

    snprintf(h, sizeof h, "keyId=\"%s\",signature=\"%s\"", kid, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MISSING_HEADER, "headers default to date only");

    snprintf(h, sizeof h, "keyId=\"%s\",headers=\"(request-target) host date\",signature=\"%s\"",
             kid, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MISSING_HEADER, "POST without signed digest");

    snprintf(h, sizeof h, "headers=\"%s\",signature=\"%s\"", hl, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MALFORMED, "keyId missing");

    snprintf(h, sizeof h, "keyId=\"%s\",headers=\"%s\",signature=\"%%%%%%\"", kid, hl);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MALFORMED, "signature not base64");

    snprintf(h, sizeof h, "keyId=\"%s\",keyId=\"x\",headers=\"%s\",signature=\"%s\"", kid, hl,
             sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MALFORMED, "duplicate parameter");

    snprintf(h, sizeof h, "keyId=\"%s\",headers=\"%s\",signature=\"%s", kid, hl, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MALFORMED, "unterminated quote");

    snprintf(h, sizeof h, "keyId=\"%s\",headers=\"%s x-extra\",signature=\"%s\"", kid, hl, sigb64);
    treq_set(&r, "Signature", h);
    expect_code(&r, &kr, now, HTTPSIG_MISSING_HEADER, "signed header absent from the request");
    free(saved);
    treq_free(&r);

    /* SHA-512 digests are accepted too. */
    CHECK_INT(make_signed(&r, key, kid, "POST", "/inbox", body, now), 0, "sign POST");
    {
        unsigned char d[64];
        char b64[128], dv[160];
        crypto_hash_sha512(d, (const unsigned char *)body, strlen(body));
        sodium_bin2base64(b64, sizeof b64, d, sizeof d, sodium_base64_VARIANT_ORIGINAL);
        snprintf(dv, sizeof dv, "%s, SHA-512=%s", treq_header(&r, "digest"), b64);
        treq_set(&r, "Digest", dv);
        /* The signed value changed, so only the digest check can pass. */
        httpsig_result rs;
        httpsig_code c = verify(&r, &kr, now, 3600, &rs);
        CHECK(c == HTTPSIG_BAD_SIGNATURE, "SHA-256 and SHA-512 both checked, got %s: %s",
              httpsig_code_name(c), rs.reason);
        snprintf(dv, sizeof dv, "sha-512=%s", b64);
        treq_set(&r, "Digest", dv);
        c = verify(&r, &kr, now, 3600, &rs);
        CHECK(c == HTTPSIG_BAD_SIGNATURE, "SHA-512 alone passes the digest check, got %s",
              httpsig_code_name(c));
    }
    treq_free(&r);

    /* GET with a query: signed with it, and signed without it. */
    CHECK_INT(make_signed(&r, key, kid, "GET", "/outbox?page=2", NULL, now), 0, "sign GET");
    CHECK(strstr(treq_header(&r, "signature"), "headers=\"(request-target) host date\"") != NULL,
          "GET signs (request-target) host date");
    CHECK(treq_header(&r, "digest") == NULL, "GET has no Digest");
    expect_code(&r, &kr, now, HTTPSIG_OK, "GET with query");
    snprintf(r.query, sizeof r.query, "page=3");
    expect_code(&r, &kr, now, HTTPSIG_BAD_SIGNATURE, "GET with changed query");
    treq_free(&r);
    CHECK_INT(make_signed(&r, key, kid, "GET", "/outbox", NULL, now), 0, "sign GET");
    snprintf(r.query, sizeof r.query, "page=2");
    expect_code(&r, &kr, now, HTTPSIG_OK, "signed without the query, received with it");
    snprintf(r.path, sizeof r.path, "/inbox");
    expect_code(&r, &kr, now, HTTPSIG_BAD_SIGNATURE, "other path");
    treq_free(&r);

    /* Refused signing inputs. */
    httpsig_out out;
    CHECK_INT(httpsig_sign(key, "k\"x", "GET", "/", "h", NULL, 0, NULL, now, &out), -1,
              "quote in keyId refused");
    CHECK_INT(httpsig_sign(key, kid, "GET", "/", "h\r\nX: y", NULL, 0, NULL, now, &out), -1,
              "CRLF in host refused");
    CHECK_INT(httpsig_sign(key, kid, "GET", "inbox", "h", NULL, 0, NULL, now, &out), -1,
              "target without '/' refused");
    CHECK_INT(httpsig_sign(NULL, kid, "GET", "/", "h", NULL, 0, NULL, now, &out), -1,
              "no key refused");
    CHECK(out.date == NULL && out.digest == NULL && out.signature == NULL,
          "nothing returned on failure");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    CHECK_INT(httpsig_sign(ed, kid, "GET", "/", "h", NULL, 0, NULL, now, &out), -1,
              "Ed25519 key refused for rsa-sha256");
    keyring edring = {kid, ed, 0};
    CHECK_INT(make_signed(&r, key, kid, "GET", "/actor", NULL, now), 0, "sign GET");
    expect_code(&r, &edring, now, HTTPSIG_BAD_ALGORITHM, "non-RSA key from lookup");
    treq_free(&r);
    EVP_PKEY_free(ed);

    httpsig_request empty = {0};
    CHECK_INT(httpsig_verify(&empty, lookup, &kr, now, 0, &res), HTTPSIG_ERROR,
              "incomplete request");
    CHECK_INT(httpsig_verify(&empty, lookup, &kr, now, 0, NULL), HTTPSIG_ERROR, "no result");

    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

static void test_dates(void)
{
    char buf[64];
    time_t t = 0;
    CHECK_INT(httpsig_format_date(1795608000, buf, sizeof buf), 0, "format");
    CHECK_STR(buf, "Wed, 25 Nov 2026 12:00:00 GMT", "IMF-fixdate");
    CHECK_INT(httpsig_parse_date("Wed, 25 Nov 2026 12:00:00 GMT", &t), 0, "parse");
    CHECK_INT(t, 1795608000, "parsed value");
    CHECK_INT(httpsig_parse_date("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0, "epoch");
    CHECK_INT(t, 0, "epoch value");
    CHECK_INT(httpsig_parse_date("Wed, 25 Nov 2026 12:00:00 UTC", &t), 0, "UTC tolerated");
    CHECK_INT(httpsig_parse_date("Wed, 25 Nov 2026 12:00:00", &t), -1, "zone required");
    CHECK_INT(httpsig_parse_date("Wednesday, 25-Nov-26 12:00:00 GMT", &t), -1, "RFC 850 refused");
    CHECK_INT(httpsig_parse_date("Wed, 25 Foo 2026 12:00:00 GMT", &t), -1, "bad month");
    CHECK_INT(httpsig_parse_date("Wed, 25 Nov 2026 25:00:00 GMT", &t), -1, "bad hour");
    CHECK_INT(httpsig_parse_date("Wed, 25 Nov 2026 12:00:00 GMT x", &t), -1, "trailing junk");
    CHECK_INT(httpsig_format_date(0, buf, 10), -1, "short buffer");
    CHECK_STR(httpsig_code_name(HTTPSIG_STALE_DATE), "stale_date", "code name");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_dates();
    test_vectors();
    test_roundtrip_and_tamper();
    return tl_done();
}
