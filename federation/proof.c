/* FEP-8b32 / eddsa-jcs-2022 object integrity proofs; see proof.h. */
#include "proof.h"

#include "jcs.h"
#include "mbase.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_LEN crypto_sign_BYTES

static void set_reason(char *reason, size_t reasonlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_reason(char *reason, size_t reasonlen, const char *fmt, ...)
{
    va_list ap;
    if (reason && reasonlen) {
        va_start(ap, fmt);
        vsnprintf(reason, reasonlen, fmt, ap);
        va_end(ap);
    }
}

/* SHA-256 of the canonical form of v into out. */
static int hash_jcs(const json_t *v, unsigned char out[32])
{
    char *c = jcs_canonicalize(v);
    int rc = -1;
    if (c) {
        crypto_hash_sha256(out, (const unsigned char *)c, strlen(c));
        free(c);
        rc = 0;
    }
    return rc;
}

int proof_hash_data(const json_t *unsecured, const json_t *proof_config, unsigned char out[64])
{
    int rc = -1;
    if (!unsecured || !proof_config || !out)
        goto out;
    if (hash_jcs(proof_config, out) || hash_jcs(unsecured, out + 32))
        goto out;
    rc = 0;
out:
    return rc;
}

/* Is the proof an eddsa-jcs-2022 Data Integrity proof? */
static int is_ours(const json_t *p)
{
    const char *cs = json_string_value(json_object_get(p, "cryptosuite"));
    return json_is_object(p) && cs && strcmp(cs, PROOF_CRYPTOSUITE) == 0;
}

const char *proof_verification_method(const json_t *doc)
{
    const json_t *p = json_object_get(doc, "proof"), *found = NULL;
    if (json_is_array(p)) {
        size_t i;
        const json_t *e;
        json_array_foreach(p, i, e)
        {
            if (is_ours(e)) {
                found = e;
                break;
            }
        }
    } else if (is_ours(p)) {
        found = p;
    }
    return found ? json_string_value(json_object_get(found, "verificationMethod")) : NULL;
}

int proof_sign(json_t *doc, const unsigned char sk[64], const char *verification_method,
               const char *purpose, time_t created)
{
    json_t *proof = NULL;
    const json_t *ctx;
    unsigned char hash[64], sig[SIG_LEN];
    char when[32], *value = NULL;
    struct tm tm;
    int rc = -1;

    if (!json_is_object(doc) || !sk || !verification_method || !*verification_method ||
        json_object_get(doc, "proof"))
        goto out;
    if (created == 0)
        created = time(NULL);
    if (!gmtime_r(&created, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
        goto out;
    proof = json_object();
    if (!proof || json_object_set_new(proof, "type", json_string(PROOF_TYPE)) ||
        json_object_set_new(proof, "cryptosuite", json_string(PROOF_CRYPTOSUITE)) ||
        json_object_set_new(proof, "verificationMethod", json_string(verification_method)) ||
        json_object_set_new(proof, "proofPurpose",
                            json_string(purpose ? purpose : "assertionMethod")) ||
        json_object_set_new(proof, "created", json_string(when)))
        goto out;
    /* The configuration binds the document's @context, so a verifier that
     * swaps the context (and thereby the meaning of every term) fails. A deep
     * copy keeps the proof independent of later edits to doc's context. */
    ctx = json_object_get(doc, "@context");
    if (ctx && json_object_set_new(proof, "@context", json_deep_copy(ctx)))
        goto out;
    if (proof_hash_data(doc, proof, hash))
        goto out;
    if (sodium_init() < 0 || crypto_sign_detached(sig, NULL, hash, sizeof hash, sk))
        goto out;
    value = mbase_encode(sig, sizeof sig);
    if (!value || json_object_set_new(proof, "proofValue", json_string(value)))
        goto out;
    if (json_object_set(doc, "proof", proof))
        goto out;
    rc = 0;
out:
    free(value);
    json_decref(proof);
    return rc;
}

/* Do the first n values of the proof's @context equal the document's? A
 * single value counts as a one-element list on either side. */
static int context_prefix(const json_t *doc_ctx, const json_t *proof_ctx)
{
    size_t nd = json_is_array(doc_ctx) ? json_array_size(doc_ctx) : (doc_ctx ? 1 : 0);
    size_t np = json_is_array(proof_ctx) ? json_array_size(proof_ctx) : 1;

    if (np > nd)
        return 0;
    for (size_t i = 0; i < np; i++) {
        const json_t *a = json_is_array(proof_ctx) ? json_array_get(proof_ctx, i) : proof_ctx;
        const json_t *b = json_is_array(doc_ctx) ? json_array_get(doc_ctx, i) : doc_ctx;
        if (!json_equal(a, b))
            return 0;
    }
    return 1;
}

/* One hash-and-verify attempt. Returns PROOF_OK, PROOF_MISMATCH, or
 * PROOF_INVALID when a value cannot be canonicalised. */
static int attempt(const json_t *unsecured, const json_t *config, const unsigned char sig[SIG_LEN],
                   const unsigned char pk[32])
{
    unsigned char hash[64];
    int rc = PROOF_INVALID;
    if (proof_hash_data(unsecured, config, hash) == 0)
        rc = crypto_sign_verify_detached(sig, hash, sizeof hash, pk) == 0 ? PROOF_OK
                                                                          : PROOF_MISMATCH;
    return rc;
}

/* Verifies a single proof object against doc. */
static int verify_one(const json_t *doc, const json_t *proof, const unsigned char pk[32],
                      char *reason, size_t reasonlen)
{
    json_t *unsecured = NULL, *config = NULL;
    const char *type, *suite, *value;
    const json_t *doc_ctx, *proof_ctx;
    unsigned char sig[SIG_LEN + 1];
    size_t siglen = 0;
    int rc = PROOF_INVALID;

    if (!json_is_object(proof)) {
        set_reason(reason, reasonlen, "proof is not an object");
        goto out;
    }
    type = json_string_value(json_object_get(proof, "type"));
    suite = json_string_value(json_object_get(proof, "cryptosuite"));
    value = json_string_value(json_object_get(proof, "proofValue"));
    if (!type || strcmp(type, PROOF_TYPE) != 0) {
        set_reason(reason, reasonlen, "proof type '%s' is not " PROOF_TYPE, type ? type : "");
        goto out;
    }
    if (!suite || strcmp(suite, PROOF_CRYPTOSUITE) != 0) {
        set_reason(reason, reasonlen, "unsupported cryptosuite '%s'", suite ? suite : "");
        goto out;
    }
    if (!json_is_string(json_object_get(proof, "verificationMethod")) ||
        !json_is_string(json_object_get(proof, "proofPurpose"))) {
        set_reason(reason, reasonlen, "proof lacks verificationMethod or proofPurpose");
        goto out;
    }
    if (!value || mbase_decode(value, sig, sizeof sig, &siglen) || siglen != SIG_LEN) {
        set_reason(reason, reasonlen, "proofValue is not a base58btc Ed25519 signature");
        goto out;
    }
    /* Shallow copies: only the top-level members change. */
    unsecured = json_copy((json_t *)doc);
    config = json_copy((json_t *)proof);
    if (!unsecured || !config) {
        set_reason(reason, reasonlen, "out of memory");
        goto out;
    }
    json_object_del(unsecured, "proof");
    json_object_del(config, "proofValue");
    doc_ctx = json_object_get(doc, "@context");
    proof_ctx = json_object_get(proof, "@context");
    if (proof_ctx) {
        /* W3C: the document may have gained trailing contexts since signing;
         * it is hashed with the context the signer saw. */
        if (!context_prefix(doc_ctx, proof_ctx)) {
            set_reason(reason, reasonlen, "document @context does not start with the proof's");
            goto out;
        }
        if (json_object_set(unsecured, "@context", (json_t *)proof_ctx))
            goto out;
        rc = attempt(unsecured, config, sig, pk);
    } else if (doc_ctx) {
        /* Fedify's form first, then the literal W3C reading. */
        json_t *with = json_copy(config);
        if (!with || json_object_set(with, "@context", (json_t *)doc_ctx)) {
            json_decref(with);
            goto out;
        }
        rc = attempt(unsecured, with, sig, pk);
        json_decref(with);
        if (rc == PROOF_MISMATCH)
            rc = attempt(unsecured, config, sig, pk);
    } else {
        rc = attempt(unsecured, config, sig, pk);
    }
    if (rc == PROOF_MISMATCH)
        set_reason(reason, reasonlen, "signature does not verify");
    else if (rc == PROOF_INVALID)
        set_reason(reason, reasonlen, "document cannot be canonicalised (NaN or invalid UTF-8)");
out:
    json_decref(unsecured);
    json_decref(config);
    return rc;
}

int proof_verify(const json_t *doc, const unsigned char pk[32], char *reason, size_t reasonlen)
{
    const json_t *p;
    int rc = PROOF_NONE;

    set_reason(reason, reasonlen, "valid");
    if (!json_is_object(doc) || !pk) {
        rc = PROOF_INVALID;
        set_reason(reason, reasonlen, "document is not an object");
        goto out;
    }
    p = json_object_get(doc, "proof");
    if (!p) {
        set_reason(reason, reasonlen, "no proof");
        goto out;
    }
    if (json_is_array(p)) {
        size_t i;
        const json_t *e;
        json_array_foreach(p, i, e)
        {
            if (!is_ours(e))
                continue;
            rc = verify_one(doc, e, pk, reason, reasonlen);
            if (rc == PROOF_OK)
                break;
        }
        if (rc == PROOF_NONE)
            set_reason(reason, reasonlen, "no " PROOF_CRYPTOSUITE " proof in the proof set");
        goto out;
    }
    rc = verify_one(doc, p, pk, reason, reasonlen);
out:
    if (rc == PROOF_OK)
        set_reason(reason, reasonlen, "valid");
    return rc;
}
