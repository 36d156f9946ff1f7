/* Unit tests for federation/proof: eddsa-jcs-2022 against the W3C vectors
 * (tests/vectors/eddsa-jcs-2022, from w3c/vc-di-eddsa), the FEP-8b32 example,
 * round trips and tampering. */
#include "jcs.h"
#include "mbase.h"
#include "proof.h"
#include "testlib.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char w3c_pk[32], w3c_sk[64];

/* Reads a vector file and drops one trailing newline. */
static char *vec(const char *rel)
{
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof path, "eddsa-jcs-2022/%s", rel);
    char *s = tl_read_file(tl_vector(path), &n);
    if (s && n && s[n - 1] == '\n')
        s[n - 1] = '\0';
    return s;
}

static json_t *vec_json(const char *rel)
{
    char *s = vec(rel);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    return j;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

static void check_vec_str(const char *got, const char *rel)
{
    char *want = vec(rel);
    CHECK_STR(got, want, rel);
    free(want);
}

static void load_w3c_keys(void)
{
    json_t *kp = vec_json("keyPair.json");
    unsigned char seed[32], pk[32];
    const char *priv = json_string_value(json_object_get(kp, "privateKeyMultibase"));
    const char *pub = json_string_value(json_object_get(kp, "publicKeyMultibase"));
    CHECK(priv && mbase_multikey_ed_priv_decode(priv, seed) == 0, "secret key decodes");
    CHECK(pub && mbase_multikey_ed_pub_decode(pub, pk) == 0, "public key decodes");
    crypto_sign_seed_keypair(w3c_pk, w3c_sk, seed);
    CHECK(memcmp(pk, w3c_pk, 32) == 0, "key pair matches");
    json_decref(kp);
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

static void test_w3c_vector(void)
{
    json_t *signed_doc = vec_json("signedJCS.json");
    json_t *config = vec_json("proofConfigJCS.json");
    CHECK(signed_doc && config, "vectors parse");
    if (!signed_doc || !config)
        goto out;
    const json_t *vproof = json_object_get(signed_doc, "proof");
    const char *vm = json_string_value(json_object_get(vproof, "verificationMethod"));

    /* Each intermediate value. */
    json_t *doc = json_copy(signed_doc);
    json_object_del(doc, "proof");
    char *c = jcs_canonicalize(doc);
    check_vec_str(c, "canonDocJCS.txt");
    free(c);
    c = jcs_canonicalize(config);
    check_vec_str(c, "proofCanonJCS.txt");
    free(c);

    unsigned char hash[64], sig[64];
    char hx[129];
    CHECK_INT(proof_hash_data(doc, config, hash), 0, "hash data");
    hex(hash, 32, hx);
    check_vec_str(hx, "proofHashJCS.txt");
    hex(hash + 32, 32, hx);
    check_vec_str(hx, "docHashJCS.txt");
    hex(hash, 64, hx);
    check_vec_str(hx, "combinedHashJCS.txt");
    crypto_sign_detached(sig, NULL, hash, sizeof hash, w3c_sk);
    hex(sig, 64, hx);
    check_vec_str(hx, "sigHexJCS.txt");
    char *mb = mbase_encode(sig, 64);
    check_vec_str(mb, "sigBTC58JCS.txt");
    free(mb);

    /* proof_sign builds the same configuration and signature. */
    CHECK_INT(proof_sign(doc, w3c_sk, vm, "assertionMethod", utc(2023, 2, 24, 23, 36, 38)), 0,
              "proof_sign");
    const json_t *p = json_object_get(doc, "proof");
    check_vec_str(json_string_value(json_object_get(p, "proofValue")), "sigBTC58JCS.txt");
    json_t *cfg = json_copy((json_t *)p);
    json_object_del(cfg, "proofValue");
    c = jcs_canonicalize(cfg);
    check_vec_str(c, "proofCanonJCS.txt");
    free(c);
    json_decref(cfg);
    char *a = jcs_canonicalize(doc), *b = jcs_canonicalize(signed_doc);
    CHECK_STR(a, b, "signed document equals signedJCS.json");
    free(a);
    free(b);
    json_decref(doc);

    /* The published signed document verifies. */
    char reason[200];
    CHECK_INT(proof_verify(signed_doc, w3c_pk, reason, sizeof reason), PROOF_OK, reason);
    CHECK_STR(reason, "valid", "reason on success");
    CHECK_STR(proof_verification_method(signed_doc), vm, "verification method");
out:
    json_decref(signed_doc);
    json_decref(config);
}

/* FEP-8b32's own example (fep-8b32.feature, CC0), signed with the W3C key. */
static void test_fep_vector(void)
{
    static const char doc_text[] =
        "{\"@context\":[\"https://www.w3.org/ns/activitystreams\","
        "\"https://w3id.org/security/data-integrity/v2\"],"
        "\"id\":\"https://server.example/activities/1\",\"type\":\"Create\","
        "\"actor\":\"https://server.example/users/alice\","
        "\"object\":{\"id\":\"https://server.example/objects/1\",\"type\":\"Note\","
        "\"attributedTo\":\"https://server.example/users/alice\",\"content\":\"Hello world\","
        "\"location\":{\"type\":\"Place\",\"longitude\":-71.184902,\"latitude\":25.273962}}}";
    json_t *doc = json_loads(doc_text, 0, NULL);
    CHECK(doc != NULL, "FEP document parses");
    CHECK_INT(proof_sign(doc, w3c_sk, "https://server.example/users/alice#ed25519-key", NULL,
                         utc(2023, 2, 24, 23, 36, 38)),
              0, "sign FEP example");
    const json_t *p = json_object_get(doc, "proof");
    CHECK_STR(
        json_string_value(json_object_get(p, "proofValue")),
        "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL",
        "FEP-8b32 proofValue");
    CHECK_STR(json_string_value(json_object_get(p, "proofPurpose")), "assertionMethod",
              "default purpose");
    CHECK_STR(json_string_value(json_object_get(p, "created")), "2023-02-24T23:36:38Z", "created");
    CHECK_INT(proof_verify(doc, w3c_pk, NULL, 0), PROOF_OK, "FEP example verifies");
    json_decref(doc);
}

static json_t *activity(void)
{
    return json_pack("{s:[s,s],s:s,s:s,s:s,s:{s:s,s:s,s:s,s:f,s:I,s:[b,n]}}", "@context",
                     "https://www.w3.org/ns/activitystreams",
                     "https://w3id.org/security/data-integrity/v1", "id",
                     "https://magdeburg.example/actor/activities/1", "type", "Create", "actor",
                     "https://magdeburg.example/actor", "object", "id",
                     "https://magdeburg.example/actor/measures/1", "type", "Article", "name",
                     "Sprachcaf\xc3\xa9 f\xc3\xbcr Neuzugewanderte \xf0\x9f\x98\x80", "score", 0.1,
                     "count", (json_int_t)12345678901LL, "flags", 1);
}

static void expect(json_t *doc, const unsigned char pk[32], int want, const char *what)
{
    char reason[200] = "";
    int rc = proof_verify(doc, pk, reason, sizeof reason);
    CHECK(rc == want, "%s: got %d (%s), want %d", what, rc, reason, want);
    CHECK(reason[0] != '\0', "%s: reason given", what);
}

static void test_roundtrip_and_tamper(void)
{
    unsigned char pk[32], sk[64], pk2[32], sk2[64];
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    const char *vm = "https://magdeburg.example/actor#ed25519-key";

    json_t *doc = activity();
    CHECK_INT(proof_sign(doc, sk, vm, NULL, 0), 0, "sign fresh");
    expect(doc, pk, PROOF_OK, "round trip");
    CHECK_STR(proof_verification_method(doc), vm, "verification method");
    const char *created =
        json_string_value(json_object_get(json_object_get(doc, "proof"), "created"));
    CHECK(created && strlen(created) == 20 && created[19] == 'Z', "created '%s'",
          created ? created : "");
    CHECK_INT(proof_sign(doc, sk, vm, NULL, 0), -1, "signing a signed document is refused");

    /* Key order and formatting do not matter, only the data. */
    char *text = json_dumps(doc, JSON_INDENT(3) | JSON_SORT_KEYS);
    json_t *re = json_loads(text, 0, NULL);
    expect(re, pk, PROOF_OK, "re-serialised document");
    json_decref(re);
    free(text);

    json_t *t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "object"), "name", json_string("changed"));
    expect(t, pk, PROOF_MISMATCH, "changed object field");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "object"), "count", json_integer(12345678902LL));
    expect(t, pk, PROOF_MISMATCH, "changed number");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(t, "extra", json_true());
    expect(t, pk, PROOF_MISMATCH, "added member");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "proof"), "created",
                        json_string("2020-01-01T00:00:00Z"));
    expect(t, pk, PROOF_MISMATCH, "changed proof created");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "proof"), "proofPurpose", json_string("authentication"));
    expect(t, pk, PROOF_MISMATCH, "changed proof purpose");
    json_decref(t);

    expect(doc, pk2, PROOF_MISMATCH, "wrong key");

    static const char *const garbage[] = {
        "not-multibase", "z", "z0OIl", "uAAAA",
        /* 63 zero bytes in base58btc */
        "z111111111111111111111111111111111111111111111111111111111111111"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        t = json_deep_copy(doc);
        json_object_set_new(json_object_get(t, "proof"), "proofValue", json_string(garbage[i]));
        expect(t, pk, PROOF_INVALID, garbage[i]);
        json_decref(t);
    }
    t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "proof"), "proofValue", json_integer(5));
    expect(t, pk, PROOF_INVALID, "numeric proofValue");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "proof"), "type", json_string("Ed25519Signature2020"));
    expect(t, pk, PROOF_INVALID, "wrong proof type");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(json_object_get(t, "proof"), "cryptosuite", json_string("eddsa-rdfc-2022"));
    expect(t, pk, PROOF_INVALID, "wrong cryptosuite");
    CHECK(proof_verification_method(t) == NULL, "no method for a foreign cryptosuite");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_del(t, "proof");
    expect(t, pk, PROOF_NONE, "missing proof");
    CHECK(proof_verification_method(t) == NULL, "no method without proof");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(t, "proof", json_string("x"));
    expect(t, pk, PROOF_INVALID, "proof of the wrong JSON type");
    json_decref(t);

    /* @context rules. */
    t = json_deep_copy(doc);
    json_array_append_new(json_object_get(t, "@context"), json_string("https://example/extra"));
    expect(t, pk, PROOF_OK, "trailing @context added after signing (W3C rule)");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_set_new(t, "@context", json_string("https://www.w3.org/ns/activitystreams"));
    expect(t, pk, PROOF_INVALID, "@context reduced");
    json_decref(t);

    t = json_deep_copy(doc);
    json_object_del(json_object_get(t, "proof"), "@context");
    expect(t, pk, PROOF_OK, "proof without @context, configuration with the document's (Fedify)");
    json_array_append_new(json_object_get(t, "@context"), json_string("https://example/extra"));
    expect(t, pk, PROOF_MISMATCH, "... and then a changed document @context");
    json_decref(t);

    /* Proof sets. */
    t = json_deep_copy(doc);
    json_t *p = json_incref(json_object_get(t, "proof"));
    json_t *other = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "DataIntegrityProof", "cryptosuite",
                              "eddsa-rdfc-2022", "verificationMethod", "https://x.example/k",
                              "proofPurpose", "assertionMethod", "proofValue", "z1");
    json_object_set_new(t, "proof", json_pack("[o,o]", other, p));
    expect(t, pk, PROOF_OK, "proof set with one of ours");
    CHECK_STR(proof_verification_method(t), vm, "method from proof set");
    expect(t, pk2, PROOF_MISMATCH, "proof set, wrong key");
    json_array_remove(json_object_get(t, "proof"), 1);
    expect(t, pk, PROOF_NONE, "proof set without ours");
    json_decref(t);
    json_decref(doc);

    /* A document without @context signs a configuration without one. */
    doc = json_pack("{s:s,s:i}", "id", "urn:x", "n", 1);
    CHECK_INT(proof_sign(doc, sk, vm, "authentication", utc(2026, 11, 25, 18, 15, 0)), 0,
              "sign without @context");
    p = json_object_get(doc, "proof");
    CHECK(json_object_get(p, "@context") == NULL, "no @context in the proof");
    CHECK_STR(json_string_value(json_object_get(p, "created")), "2026-11-25T18:15:00Z",
              "created format");
    CHECK_STR(json_string_value(json_object_get(p, "proofPurpose")), "authentication", "purpose");
    expect(doc, pk, PROOF_OK, "document without @context");
    json_decref(doc);

    /* Refused inputs. */
    json_t *arr = json_array();
    CHECK_INT(proof_sign(arr, sk, vm, NULL, 0), -1, "array refused");
    json_decref(arr);
    doc = json_object();
    CHECK_INT(proof_sign(doc, sk, NULL, NULL, 0), -1, "verification method required");
    CHECK(json_object_size(doc) == 0, "doc unchanged on failure");
    json_object_set_new(doc, "bad", json_stringn_nocheck("\xff", 1));
    CHECK_INT(proof_sign(doc, sk, vm, NULL, 0), -1, "invalid UTF-8 refused");
    CHECK(json_object_get(doc, "proof") == NULL, "no proof added on failure");
    json_decref(doc);
    CHECK(proof_verify(NULL, pk, NULL, 0) != PROOF_OK, "NULL document");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    load_w3c_keys();
    test_w3c_vector();
    test_fep_vector();
    test_roundtrip_and_tamper();
    return tl_done();
}
