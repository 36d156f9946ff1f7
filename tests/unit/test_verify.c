/* verify_document(): eddsa-jcs-2022 proofs of district activities and of
 * the state node's provenance documents, in process:
 *  - a signed activity verifies with its key and names its district;
 *  - every single changed character of it is rejected;
 *  - another key, another proof purpose, a missing proof are rejected;
 *  - a Linked Data "signature" added afterwards is ignored (as Fedify does);
 *  - a provenance document verifies through its activity, and its unsigned
 *    record_id and district must agree with it;
 *  - with a district registry: the pinned key is found by the proof's key id,
 *    an unregistered key is rejected, and a district cannot sign for
 *    another one. */
#include "testlib.h"

#include "db.h"
#include "keys.h"
#include "mbase.h"
#include "proof.h"
#include "verify.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static fed_keys k1, k2;

#define ACTOR1 "https://integration.magdeburg.example/actor"
#define VM1 ACTOR1 "#ed25519-key"
#define ACTOR2 "https://integration.halle.example/actor"
#define VM2 ACTOR2 "#ed25519-key"

/* A Create as a district node publishes it. */
static json_t *activity(const char *actor, const char *code, const char *title)
{
    char obj_id[256], rec_url[256];
    snprintf(obj_id, sizeof obj_id, "%.*s/measures/m-abcdefghijklmnop",
             (int)(strlen(actor) - strlen("/actor")), actor);
    snprintf(rec_url, sizeof rec_url, "%s", obj_id);
    json_t *a = json_pack(
        "{s:[s, s, {s:s, s:s, s:s, s:{s:s, s:s}}], s:s, s:s, s:s, s:s, s:[s], "
        "s:{s:s, s:s, s:s, s:s, s:I, s:{s:s, s:s, s:s, s:s, s:[s], s:i, s:I, s:s, s:s}}}",
        "@context", "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1", "dinet",
        "tag:dinet.sachsen-anhalt.de,2026:ns#", "districtCode", "dinet:districtCode",
        "recordVersion", "dinet:recordVersion", "record", "@id", "dinet:record", "@type", "@json",
        "id", "https://integration.example/activities/a1", "type", "Create", "actor", actor,
        "published", "2026-11-25T10:00:00Z", "to", "https://www.w3.org/ns/activitystreams#Public",
        "object", "id", obj_id, "type", "Article", "name", title, "districtCode", code,
        "recordVersion", (json_int_t)3, "record", "id", "m-abcdefghijklmnop", "type", "measure",
        "url", rec_url, "title", title, "fields_of_action", "HF3", "progress", 40, "version",
        (json_int_t)3, "created", "2026-11-01T09:00:00Z", "updated", "2026-11-25T10:00:00Z");
    return a;
}

static json_t *signed_activity(const fed_keys *k, const char *vm, const char *actor,
                               const char *code, const char *purpose)
{
    json_t *a = activity(actor, code, "Sprachcafé, \"Deutsch & mehr\"");
    CHECK(a != NULL, "build an activity");
    CHECK_INT(proof_sign(a, k->ed_sk, vm, purpose, 0), 0, "sign it");
    return a;
}

static int check(db *d, const json_t *doc, const unsigned char *key, char *msg, size_t msglen)
{
    return verify_document(d, doc, key, msg, msglen);
}

static void test_with_key(void)
{
    char msg[700];
    json_t *a = signed_activity(&k1, VM1, ACTOR1, "15003", NULL);
    CHECK_INT(check(NULL, a, k1.ed_pk, msg, sizeof msg), VERIFY_VALID, "a signed activity");
    char *fp = fed_keys_fingerprint_ed(k1.ed_pk);
    char want[300];
    snprintf(want, sizeof want, "signed by district 15003 (Magdeburg), key %s", fp);
    CHECK_STR(msg, want, "the message names district and key");
    free(fp);

    CHECK_INT(check(NULL, a, k2.ed_pk, msg, sizeof msg), VERIFY_INVALID, "another key");
    CHECK(strstr(msg, "does not verify") != NULL, "reason: %s", msg);

    /* Every single changed character either breaks the JSON or the proof. */
    char *txt = json_dumps(a, JSON_COMPACT);
    size_t n = strlen(txt), parsed = 0, accepted = 0;
    for (size_t i = 0; i < n; i++) {
        char saved = txt[i];
        char c = saved;
        if (c >= 'a' && c <= 'y')
            c++;
        else if (c == 'z')
            c = 'a';
        else if (c >= 'A' && c <= 'Z')
            c = c == 'Z' ? 'A' : c + 1;
        else if (c >= '0' && c <= '8')
            c++;
        else if (c == '9')
            c = '0';
        else
            c = 'x';
        txt[i] = c;
        json_t *t = json_loads(txt, JSON_REJECT_DUPLICATES, NULL);
        txt[i] = saved;
        if (!t)
            continue;
        parsed++;
        if (check(NULL, t, k1.ed_pk, msg, sizeof msg) == VERIFY_VALID) {
            accepted++;
            fprintf(stderr, "accepted a change at %zu: %.40s\n", i, txt + (i > 20 ? i - 20 : 0));
        }
        json_decref(t);
    }
    CHECK(parsed > n / 2, "most one-character changes still parse (%zu of %zu)", parsed, n);
    CHECK_INT(accepted, 0, "no one-character change is accepted");
    free(txt);

    /* A Linked Data signature added after the proof is not part of it. */
    json_t *withsig = json_deep_copy(a);
    json_object_set_new(withsig, "signature",
                        json_pack("{s:s, s:s, s:s}", "type", "RsaSignature2017", "creator",
                                  ACTOR1 "#main-key", "signatureValue", "AAAA"));
    CHECK_INT(check(NULL, withsig, k1.ed_pk, msg, sizeof msg), VERIFY_VALID,
              "a top-level signature member is ignored");
    json_decref(withsig);

    json_t *noproof = json_deep_copy(a);
    json_object_del(noproof, "proof");
    CHECK_INT(check(NULL, noproof, k1.ed_pk, msg, sizeof msg), VERIFY_INVALID, "no proof");
    json_decref(noproof);

    json_t *auth = signed_activity(&k1, VM1, ACTOR1, "15003", "authentication");
    CHECK_INT(check(NULL, auth, k1.ed_pk, msg, sizeof msg), VERIFY_INVALID,
              "a proof for another purpose");
    CHECK(strstr(msg, "assertionMethod") != NULL, "reason: %s", msg);
    json_decref(auth);

    /* Claims inside the signed data must agree with each other. */
    json_t *mixed = activity(ACTOR1, "15003", "x");
    json_object_set_new(json_object_get(json_object_get(mixed, "object"), "record"), "district",
                        json_string("15002"));
    proof_sign(mixed, k1.ed_sk, VM1, NULL, 0);
    CHECK_INT(check(NULL, mixed, k1.ed_pk, msg, sizeof msg), VERIFY_INVALID,
              "districtCode and record.district disagree");
    json_decref(mixed);

    CHECK_INT(check(NULL, a, NULL, msg, sizeof msg), VERIFY_ERROR, "no key and no registry");

    /* A provenance document of the state node. */
    json_t *prov = json_pack("{s:s, s:s, s:s, s:O}", "record_id", "m-abcdefghijklmnop", "district",
                             "15003", "received", "2026-11-25T10:00:01Z", "activity", a);
    CHECK_INT(check(NULL, prov, k1.ed_pk, msg, sizeof msg), VERIFY_VALID, "a provenance document");
    json_object_set_new(prov, "record_id", json_string("m-zzzzzzzzzzzzzzzz"));
    CHECK_INT(check(NULL, prov, k1.ed_pk, msg, sizeof msg), VERIFY_INVALID,
              "its record_id must be the signed record's");
    json_object_set_new(prov, "record_id", json_string("m-abcdefghijklmnop"));
    json_object_set_new(prov, "district", json_string("15002"));
    CHECK_INT(check(NULL, prov, k1.ed_pk, msg, sizeof msg), VERIFY_INVALID,
              "its district must be the signer's");
    json_object_set_new(prov, "activity", json_null());
    CHECK_INT(check(NULL, prov, k1.ed_pk, msg, sizeof msg), VERIFY_INVALID,
              "a provenance document without an activity");
    json_decref(prov);
    json_decref(a);
}

static int add_district(db *d, const char *code, const char *actor, const char *vm,
                        const unsigned char pk[32])
{
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, pk, 32);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db_handle(d),
        "INSERT INTO districts(code, actor_id, inbox, outbox, key_id, rsa_pem, rsa_fp, "
        "ed_key_id, ed_pk, ed_fp, added) VALUES(?1, ?2, ?2 || '/inbox', ?2 || '/outbox', "
        "?2 || '#main-key', 'PEM', 'SHA256:x', ?3, ?4, 'SHA256:y', '2026-11-25T00:00:00Z')",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, hex, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    /* Pinning also records the key in the district's key history. */
    st = NULL;
    if (rc == 0 && sqlite3_prepare_v2(db_handle(d),
                                      "INSERT INTO district_keys(code, actor_id, ed_key_id, ed_pk, "
                                      "ed_fp, pinned) VALUES(?1, ?2, ?3, ?4, 'SHA256:y', "
                                      "'2026-11-25T00:00:00Z')",
                                      -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, hex, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

static void test_registry(const char *dir)
{
    char path[700], err[256], msg[700];
    snprintf(path, sizeof path, "%s/state.db", dir);
    db *d = NULL;
    if (db_open(path, &d, err, sizeof err)) {
        CHECK(0, "open a database: %s", err);
        return;
    }
    json_t *a = signed_activity(&k1, VM1, ACTOR1, "15003", NULL);
    CHECK_INT(check(d, a, NULL, msg, sizeof msg), VERIFY_INVALID, "no district registered");
    CHECK(strstr(msg, "not the pinned key") != NULL, "reason: %s", msg);
    CHECK_INT(add_district(d, "15003", ACTOR1, VM1, k1.ed_pk), 0, "register 15003");
    CHECK_INT(add_district(d, "15002", ACTOR2, VM2, k2.ed_pk), 0, "register 15002");
    CHECK_INT(check(d, a, NULL, msg, sizeof msg), VERIFY_VALID, "the pinned key of 15003");
    CHECK(strstr(msg, "signed by district 15003 (Magdeburg)") != NULL, "message: %s", msg);
    verify_info vi;
    CHECK_INT(verify_document_info(d, a, NULL, &vi), VERIFY_VALID, "with details");
    CHECK(vi.pinned && !strcmp(vi.key_id, VM1) && !strcmp(vi.district, "15003"),
          "details: pinned key %s of %s", vi.key_id, vi.district);
    CHECK_INT(check(d, a, k1.ed_pk, msg, sizeof msg), VERIFY_VALID,
              "a given key is named by the registry too");

    /* Halle signs an activity that claims to be Magdeburg's. */
    json_t *forged = signed_activity(&k2, VM2, ACTOR2, "15003", NULL);
    CHECK_INT(check(d, forged, NULL, msg, sizeof msg), VERIFY_INVALID,
              "a district signing for another");
    CHECK(strstr(msg, "signed by district 15002") != NULL, "reason: %s", msg);
    json_decref(forged);
    /* Halle's key, Halle's claim, but Magdeburg's actor. */
    forged = signed_activity(&k2, VM2, ACTOR1, "15002", NULL);
    CHECK_INT(check(d, forged, NULL, msg, sizeof msg), VERIFY_INVALID,
              "the actor must be the signing district's");
    json_decref(forged);
    /* Magdeburg's key id, but signed with Halle's key. */
    forged = signed_activity(&k2, VM1, ACTOR1, "15003", NULL);
    CHECK_INT(check(d, forged, NULL, msg, sizeof msg), VERIFY_INVALID,
              "a key id that does not match the signing key");
    json_decref(forged);
    json_decref(a);
    db_close(d);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    char *dir = tl_tmpdir("verify");
    char d1[600], d2[600];
    snprintf(d1, sizeof d1, "%s/k1", dir);
    snprintf(d2, sizeof d2, "%s/k2", dir);
    mkdir(d1, 0700);
    mkdir(d2, 0700);
    if (fed_keys_generate(d1) || fed_keys_generate(d2) || fed_keys_load(d1, &k1) ||
        fed_keys_load(d2, &k2)) {
        fprintf(stderr, "cannot make keys\n");
        return 1;
    }
    test_with_key();
    test_registry(dir);
    fed_keys_free(&k1);
    fed_keys_free(&k2);
    free(dir);
    return tl_done();
}
