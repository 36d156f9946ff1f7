/* Provenance checks; see verify.h. */
#include "verify.h"
#include "cli.h"
#include "config.h"
#include "district.h"
#include "fed.h"
#include "keys.h"
#include "mbase.h"
#include "proof.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DINET_VERSION
#define DINET_VERSION "0"
#endif

const json_t *verify_signed_part(const json_t *doc)
{
    if (!json_is_object(doc))
        return NULL;
    if (json_object_get(doc, "proof"))
        return doc;
    const json_t *act = json_object_get(doc, "activity");
    return json_is_object(act) ? act : NULL;
}

static void set_reason(verify_info *out, const char *fmt, const char *a, const char *b)
{
    /* Long URLs are cut; the return value is looked at so that the
     * compiler does not warn about that. */
    if (snprintf(out->reason, sizeof out->reason, fmt, a ? a : "(none)", b ? b : "(none)") < 0)
        out->reason[0] = '\0';
}

/* The proof entry whose verificationMethod is used (the first
 * eddsa-jcs-2022 one of a set). */
static const json_t *our_proof(const json_t *act)
{
    const json_t *p = json_object_get(act, "proof");
    if (json_is_object(p))
        return p;
    size_t i;
    const json_t *e;
    json_array_foreach(p, i, e)
    {
        const char *cs = util_jstr(e, "cryptosuite");
        if (cs && !strcmp(cs, PROOF_CRYPTOSUITE))
            return e;
    }
    return NULL;
}

/* A registered district found by its pinned key id or key. */
typedef struct pinned {
    char code[8];
    char actor[1024];
    unsigned char pk[32];
} pinned;

/* 1 found, 0 not found, -1 storage error. Looks in every key a district
 * ever had pinned; by key id, the key that verifies act's proof wins (a
 * record signed before a rotation carries the same key id as after it). */
static int find_pinned(db *d, const char *key_id, const unsigned char *pk, const json_t *act,
                       pinned *out)
{
    memset(out, 0, sizeof *out);
    char hex[65] = "";
    if (pk)
        sodium_bin2hex(hex, sizeof hex, pk, 32);
    sqlite3_stmt *st = db_stmt(d, pk ? "SELECT code, actor_id, ed_pk FROM district_keys WHERE "
                                       "lower(ed_pk)=:v ORDER BY pinned DESC"
                                     : "SELECT code, actor_id, ed_pk FROM district_keys WHERE "
                                       "ed_key_id=:v ORDER BY pinned DESC");
    if (!st)
        return -1;
    db_bind_text(st, ":v", pk ? hex : key_id);
    int found = 0;
    json_t *copy = act ? json_deep_copy(act) : NULL;
    if (copy)
        json_object_del(copy, "signature");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *a = (const char *)sqlite3_column_text(st, 1);
        const char *k = (const char *)sqlite3_column_text(st, 2);
        size_t n = 0;
        unsigned char cand[32];
        if (!k || sodium_hex2bin(cand, 32, k, strlen(k), NULL, &n, NULL) != 0 || n != 32)
            continue;
        char why[64];
        bool verifies = copy && proof_verify(copy, cand, why, sizeof why) == PROOF_OK;
        if (!found || verifies) {
            snprintf(out->code, sizeof out->code, "%s", c ? c : "");
            snprintf(out->actor, sizeof out->actor, "%s", a ? a : "");
            memcpy(out->pk, cand, 32);
            found = 1;
        }
        if (verifies || pk)
            break;
    }
    json_decref(copy);
    db_done(st);
    return found;
}

/* expect_code / expect_actor: the signer as known from elsewhere (the
 * node's own identity for its own key), or NULL. */
static int verify_impl(db *d, const json_t *doc, const unsigned char *key, const char *expect_code,
                       const char *expect_actor, verify_info *out)
{
    memset(out, 0, sizeof *out);
    const json_t *act = verify_signed_part(doc);
    if (!act) {
        snprintf(out->reason, sizeof out->reason,
                 "the document has no proof and no signed activity");
        return VERIFY_INVALID;
    }
    const char *vm = proof_verification_method(act);
    if (!vm) {
        snprintf(out->reason, sizeof out->reason, "the activity has no %s proof",
                 PROOF_CRYPTOSUITE);
        return VERIFY_INVALID;
    }
    snprintf(out->key_id, sizeof out->key_id, "%s", vm);
    const char *purpose = util_jstr(our_proof(act), "proofPurpose");
    if (purpose && strcmp(purpose, "assertionMethod")) {
        set_reason(out, "the proof's purpose is '%s', not assertionMethod%s", purpose, "");
        return VERIFY_INVALID;
    }

    /* Which key, and whose. */
    pinned p;
    int found = 0;
    unsigned char pk[32];
    if (key) {
        memcpy(pk, key, 32);
        if (d && (found = find_pinned(d, NULL, key, NULL, &p)) < 0) {
            snprintf(out->reason, sizeof out->reason, "cannot read the district registry");
            return VERIFY_ERROR;
        }
    } else if (d) {
        found = find_pinned(d, vm, NULL, act, &p);
        if (found < 0) {
            snprintf(out->reason, sizeof out->reason, "cannot read the district registry");
            return VERIFY_ERROR;
        }
        if (!found) {
            set_reason(out, "the proof's key %s is not the pinned key of a registered district%s",
                       vm, "");
            return VERIFY_INVALID;
        }
        memcpy(pk, p.pk, 32);
    } else {
        snprintf(out->reason, sizeof out->reason,
                 "no key to verify with: give a key or a state node's district registry");
        return VERIFY_ERROR;
    }
    char *fp = fed_keys_fingerprint_ed(pk);
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", fp ? fp : "");
    free(fp);
    out->pinned = found > 0;

    /* The cryptography, over the activity without a Linked Data signature. */
    json_t *copy = json_deep_copy(act);
    if (!copy) {
        snprintf(out->reason, sizeof out->reason, "out of memory");
        return VERIFY_ERROR;
    }
    json_object_del(copy, "signature");
    char why[256] = "";
    int prc = proof_verify(copy, pk, why, sizeof why);
    json_decref(copy);
    if (prc != PROOF_OK) {
        set_reason(out, "proof: %s (key %s)", why[0] ? why : "does not verify", out->fingerprint);
        return VERIFY_INVALID;
    }

    /* What the document claims must agree with who signed it. */
    const json_t *obj = json_object_get(act, "object");
    const char *claimed = util_jstr(obj, "districtCode");
    const char *rec_district = util_jstr(json_object_get(obj, "record"), "district");
    const char *signer = found ? p.code : expect_code;
    const char *signer_actor = found ? p.actor : expect_actor;
    if (signer && claimed && strcmp(claimed, signer)) {
        set_reason(out, "the activity claims district %s, but it was signed by district %s",
                   claimed, signer);
        return VERIFY_INVALID;
    }
    if (signer && rec_district && strcmp(rec_district, signer)) {
        set_reason(out, "the record names district %s, but it was signed by district %s",
                   rec_district, signer);
        return VERIFY_INVALID;
    }
    if (!signer)
        signer = claimed ? claimed : rec_district;
    if (claimed && rec_district && strcmp(claimed, rec_district)) {
        set_reason(out, "the activity claims district %s, but its record names district %s",
                   claimed, rec_district);
        return VERIFY_INVALID;
    }
    if (signer_actor && *signer_actor && util_jstr(act, "actor") &&
        strcmp(util_jstr(act, "actor"), signer_actor)) {
        set_reason(out, "the activity's actor %s is not the signing district's actor %s",
                   util_jstr(act, "actor"), signer_actor);
        return VERIFY_INVALID;
    }
    if (act != doc) {
        /* A provenance document: its own statements are not signed, so
         * they must match the signed activity. */
        const char *rid = util_jstr(doc, "record_id");
        const char *signed_rid = util_jstr(json_object_get(obj, "record"), "id");
        if (rid && (!signed_rid || strcmp(rid, signed_rid))) {
            set_reason(out, "the provenance is for record %s, but the signed activity is about %s",
                       rid, signed_rid);
            return VERIFY_INVALID;
        }
        const char *pd = util_jstr(doc, "district");
        if (pd && signer && strcmp(pd, signer)) {
            set_reason(out, "the provenance names district %s, but the activity is from %s", pd,
                       signer);
            return VERIFY_INVALID;
        }
        if (!signer)
            signer = pd;
    }
    if (signer) {
        snprintf(out->district, sizeof out->district, "%s", signer);
        const district *dist = district_find(signer);
        snprintf(out->district_name, sizeof out->district_name, "%s", dist ? dist->name : "");
    }
    return VERIFY_VALID;
}

int verify_document_info(db *d, const json_t *doc, const unsigned char *key_or_null,
                         verify_info *out)
{
    return verify_impl(d, doc, key_or_null, NULL, NULL, out);
}

static void valid_message(const verify_info *vi, char *msg, size_t msglen)
{
    if (vi->district[0])
        snprintf(msg, msglen, "signed by district %s (%s), key %s", vi->district,
                 vi->district_name[0] ? vi->district_name : "unknown district", vi->fingerprint);
    else
        snprintf(msg, msglen, "signed by key %s (the document names no district)", vi->fingerprint);
}

int verify_document(db *d, const json_t *doc, const unsigned char *key_or_null, char *msg,
                    size_t msglen)
{
    verify_info vi;
    int rc = verify_document_info(d, doc, key_or_null, &vi);
    if (rc == VERIFY_VALID)
        valid_message(&vi, msg, msglen);
    else
        snprintf(msg, msglen, "%s", vi.reason);
    return rc;
}

/* ---- dinet verify ---------------------------------------------------------- */

static const char *verify_help =
    "usage: dinet verify FILE|URL [--key MULTIBASE] [--data DIR]\n"
    "\n"
    "Checks the eddsa-jcs-2022 proof of a signed activity, or of a provenance\n"
    "document of the state node (GET /api/v1/provenance/ID), read from FILE ('-' for\n"
    "standard input) or fetched from an http(s) URL. The key is either\n"
    "  --key z6Mk…   a district's Ed25519 Multikey, confirmed out of band, or\n"
    "  --data DIR    a state node's data directory: the pinned key of the district\n"
    "                whose key id the proof names (a district node's own key when\n"
    "                DIR is a district node).\n"
    "Prints 'valid: signed by district CODE (NAME), key SHA256:…' and exits 0, or\n"
    "'INVALID: reason' and exits 1. Exits 2 for bad usage or when the document\n"
    "cannot be read.\n";

#define MAX_DOC (16L * 1024 * 1024)

typedef struct sink {
    buf b;
    bool too_big;
} sink;

static size_t sink_write(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t add = size * n;
    if (s->b.len + add > (size_t)MAX_DOC) {
        s->too_big = true;
        return 0;
    }
    return buf_append(&s->b, p, add) ? add : 0;
}

static char *fetch_url(const char *url, size_t *len, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot start the HTTP client");
        return NULL;
    }
    sink s = {0};
    buf_init(&s.b);
    struct curl_slist *h = curl_slist_append(
        NULL, "Accept: application/activity+json, application/ld+json, application/json;q=0.9");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "dinet/" DINET_VERSION " (verify)");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status < 200 || status > 299 || s.b.oom) {
        if (s.too_big)
            snprintf(err, errlen, "the document is larger than %ld bytes", MAX_DOC);
        else if (rc != CURLE_OK)
            snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        else
            snprintf(err, errlen, "HTTP status %ld", status);
        buf_free(&s.b);
        return NULL;
    }
    *len = s.b.len;
    char *out = buf_take(&s.b);
    if (!out) {
        out = strdup("");
        *len = 0;
    }
    return out;
}

static char *read_stream(FILE *f, size_t *len, char *err, size_t errlen)
{
    buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > (size_t)MAX_DOC) {
            snprintf(err, errlen, "the document is larger than %ld bytes", MAX_DOC);
            buf_free(&b);
            return NULL;
        }
        buf_append(&b, chunk, n);
    }
    if (ferror(f) || b.oom) {
        snprintf(err, errlen, "%s", ferror(f) ? strerror(errno) : "out of memory");
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    char *out = buf_take(&b);
    if (!out) {
        out = strdup("");
        *len = 0;
    }
    return out;
}

static char *load_source(const char *src, size_t *len, char *err, size_t errlen)
{
    if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8))
        return fetch_url(src, len, err, errlen);
    if (!strcmp(src, "-"))
        return read_stream(stdin, len, err, errlen);
    FILE *f = fopen(src, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    char *t = read_stream(f, len, err, errlen);
    fclose(f);
    return t;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "dinet verify: %s (see 'dinet verify --help')\n", msg);
    return 2;
}

int verify_main(int argc, char **argv)
{
    static const cli_opt opts[] = {{"key", true}, {"data", true}, {"help", false}, {NULL, false}};
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(verify_help, stdout);
            return 0;
        }
    cli_args a;
    if (cli_parse("verify", argc, argv, opts, &a))
        return 2;
    if (a.npos != 1)
        return usage_error("exactly one FILE or URL is required");
    const char *src = a.pos[0];
    if (strstr(src, "://") && strncmp(src, "http://", 7) && strncmp(src, "https://", 8))
        return usage_error("only http and https URLs can be fetched");
    const char *keytxt = cli_get(&a, "key"), *dir = cli_get(&a, "data");
    if (!keytxt && !dir)
        return usage_error("give the key with --key MULTIBASE or a state node's --data DIR");
    unsigned char key[32];
    bool have_key = false;
    if (keytxt) {
        if (mbase_multikey_ed_pub_decode(keytxt, key))
            return usage_error("--key must be an Ed25519 Multikey (z6Mk…)");
        have_key = true;
    }

    /* The node: its registry, or (a district node) its own key. */
    config cfg;
    db *d = NULL;
    char err[1024] = "", own_actor[700] = "";
    const char *own_code = NULL;
    if (dir) {
        config_defaults(&cfg);
        if (!*dir || config_load(&cfg, dir, err, sizeof err)) {
            fprintf(stderr, "dinet verify: %s\n", err[0] ? err : "--data DIR is empty");
            return 2;
        }
        char path[1200];
        config_path(&cfg, "dinet.db", path, sizeof path);
        if (db_open(path, &d, err, sizeof err)) {
            fprintf(stderr, "dinet verify: %s\n", err);
            return 2;
        }
        if (strcmp(cfg.role, "state") && !have_key) {
            char kdir[1200];
            fed_keys k;
            fed_keys_dir(&cfg, kdir, sizeof kdir);
            if (fed_keys_load(kdir, &k)) {
                db_close(d);
                fprintf(stderr, "dinet verify: cannot read the node's keys in %s\n", kdir);
                return 2;
            }
            memcpy(key, k.ed_pk, 32);
            fed_keys_free(&k);
            have_key = true;
            own_code = cfg.district;
            snprintf(own_actor, sizeof own_actor, "%s/actor", cfg.base_url);
        }
    }

    size_t len = 0;
    char *text = load_source(src, &len, err, sizeof err);
    if (!text) {
        db_close(d);
        fprintf(stderr, "dinet verify: cannot read %s: %s\n", src, err);
        return 2;
    }
    int rc;
    json_error_t je;
    bool utf8 = util_utf8_valid(text, len);
    json_t *doc = utf8 ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    free(text);
    if (!doc) {
        if (utf8)
            printf("INVALID: not a JSON document (line %d, column %d: %s)\n", je.line, je.column,
                   je.text);
        else
            printf("INVALID: not UTF-8 text\n");
        rc = 1;
    } else {
        verify_info vi;
        int v =
            verify_impl(d, doc, have_key ? key : NULL, own_code, own_code ? own_actor : NULL, &vi);
        if (v == VERIFY_VALID) {
            char msg[700];
            valid_message(&vi, msg, sizeof msg);
            printf("valid: %s\n", msg);
            rc = 0;
        } else if (v == VERIFY_INVALID) {
            printf("INVALID: %s\n", vi.reason);
            rc = 1;
        } else {
            fprintf(stderr, "dinet verify: %s\n", vi.reason);
            rc = 2;
        }
        json_decref(doc);
    }
    db_close(d);
    return rc;
}
