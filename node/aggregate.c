/* State aggregator; see aggregate.h. */
#include "aggregate.h"
#include "comment.h"
#include "ap.h"
#include "as2.h"
#include "outbox.h"
#include "pagecache.h"
#include "api.h"
#include "district.h"
#include "inbox.h"
#include "keys.h"
#include "log.h"
#include "mbase.h"
#include "proof.h"
#include "record.h"
#include "remote.h"
#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const fed_ctx *actx;
static char *worker_path; /* the database of the background sync, when it runs */

static agg_object_fn object_handler;

void agg_set_object_handler(agg_object_fn fn)
{
    object_handler = fn;
}

/* Rejections cannot be counted in the database: the transaction that would
 * count them is rolled back. They are counted here per district. */
#define MAXD 32
static struct {
    char code[8];
    atomic_long rejected;
    char last_error[256];
} rej[MAXD];
static pthread_mutex_t rej_mu = PTHREAD_MUTEX_INITIALIZER;

static void note_rejection(const char *code, const char *why)
{
    pthread_mutex_lock(&rej_mu);
    for (int i = 0; i < MAXD; i++) {
        if (!rej[i].code[0] || !strcmp(rej[i].code, code)) {
            snprintf(rej[i].code, sizeof rej[i].code, "%s", code);
            atomic_fetch_add(&rej[i].rejected, 1);
            snprintf(rej[i].last_error, sizeof rej[i].last_error, "%s", why);
            break;
        }
    }
    pthread_mutex_unlock(&rej_mu);
}

static long rejections(const char *code, char *last, size_t lastlen)
{
    long n = 0;
    pthread_mutex_lock(&rej_mu);
    for (int i = 0; i < MAXD; i++)
        if (!strcmp(rej[i].code, code)) {
            n = atomic_load(&rej[i].rejected);
            if (last)
                snprintf(last, lastlen, "%s", rej[i].last_error);
        }
    pthread_mutex_unlock(&rej_mu);
    return n;
}

/* A registered district as stored. */
typedef struct district_row {
    char code[8];
    char actor[1024], inbox[1024], outbox[1024], key_id[1024], ed_key_id[1024];
    char *rsa_pem;
    unsigned char ed_pk[32];
    char cursor[1024];
} district_row;

static void row_free(district_row *r)
{
    free(r->rsa_pem);
    r->rsa_pem = NULL;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* Finds a district by code, actor id or key id (one of them non-NULL). */
static bool find_district(db *d, const char *code, const char *actor, const char *key_id,
                          district_row *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = db_stmt(d, "SELECT code, actor_id, inbox, outbox, key_id, rsa_pem, "
                                  "ed_key_id, ed_pk, cursor FROM districts WHERE code=:c OR "
                                  "actor_id=:a OR key_id=:k LIMIT 1");
    if (!st)
        return false;
    db_bind_text(st, ":c", code);
    db_bind_text(st, ":a", actor);
    db_bind_text(st, ":k", key_id);
    bool found = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out->code, sizeof out->code, "%s", col(st, 0));
        snprintf(out->actor, sizeof out->actor, "%s", col(st, 1));
        snprintf(out->inbox, sizeof out->inbox, "%s", col(st, 2));
        snprintf(out->outbox, sizeof out->outbox, "%s", col(st, 3));
        snprintf(out->key_id, sizeof out->key_id, "%s", col(st, 4));
        out->rsa_pem = strdup(col(st, 5));
        snprintf(out->ed_key_id, sizeof out->ed_key_id, "%s", col(st, 6));
        size_t n = 0;
        found = sodium_hex2bin(out->ed_pk, 32, col(st, 7), strlen(col(st, 7)), NULL, &n, NULL) ==
                    0 &&
                n == 32;
        snprintf(out->cursor, sizeof out->cursor, "%s", col(st, 8));
    }
    db_done(st);
    if (!found)
        row_free(out);
    return found;
}

/* Parsed RSA keys of the districts, so that a PEM is parsed once. */
static struct {
    char key_id[1024];
    unsigned char pem_hash[32];
    EVP_PKEY *rsa;
} keycache[MAXD];
static pthread_mutex_t keycache_mu = PTHREAD_MUTEX_INITIALIZER;

static EVP_PKEY *pinned_rsa(const char *key_id, const char *pem)
{
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)pem, strlen(pem));
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&keycache_mu);
    int free_slot = -1;
    for (int i = 0; i < MAXD; i++) {
        if (keycache[i].rsa && !strcmp(keycache[i].key_id, key_id) &&
            !memcmp(keycache[i].pem_hash, h, 32)) {
            k = keycache[i].rsa;
            EVP_PKEY_up_ref(k);
            break;
        }
        if (free_slot < 0 && (!keycache[i].rsa || !strcmp(keycache[i].key_id, key_id)))
            free_slot = i;
    }
    if (!k) {
        k = fed_keys_rsa_from_pem(pem);
        if (k && free_slot >= 0) {
            if (keycache[free_slot].rsa)
                EVP_PKEY_free(keycache[free_slot].rsa);
            snprintf(keycache[free_slot].key_id, sizeof keycache[0].key_id, "%s", key_id);
            memcpy(keycache[free_slot].pem_hash, h, 32);
            keycache[free_slot].rsa = k;
            EVP_PKEY_up_ref(k);
        }
    }
    pthread_mutex_unlock(&keycache_mu);
    return k;
}

static int pinned_hook(void *ud, db *d, const char *key_id, remote_actor *out)
{
    (void)ud;
    char actor[1024];
    snprintf(actor, sizeof actor, "%s", key_id);
    char *hash = strchr(actor, '#');
    if (hash)
        *hash = '\0';
    district_row r;
    if (!find_district(d, NULL, actor, key_id, &r))
        return 0;
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", r.actor);
    snprintf(out->inbox, sizeof out->inbox, "%s", r.inbox);
    snprintf(out->key_id, sizeof out->key_id, "%s", r.key_id);
    out->rsa = pinned_rsa(r.key_id, r.rsa_pem);
    out->ned = 1;
    snprintf(out->ed_id[0], sizeof out->ed_id[0], "%s", r.ed_key_id);
    memcpy(out->ed_pk[0], r.ed_pk, 32);
    row_free(&r);
    return out->rsa ? 1 : -1;
}

/* Pins the keys found in an actor document for a district. */
static int pin_keys(db *d, const char *code, const json_t *actor_doc, char *fps, size_t fplen,
                    char *err, size_t errlen)
{
    remote_actor a;
    if (remote_actor_parse(actor_doc, &a, err, errlen))
        return -1;
    int rc = -1;
    const json_t *pk = json_object_get(actor_doc, "publicKey");
    if (json_is_array(pk))
        pk = json_array_get(pk, 0);
    const char *pem = util_jstr(pk, "publicKeyPem");
    if (!a.rsa || !pem || a.ned < 1) {
        snprintf(err, errlen, "the actor has no RSA publicKey or no Ed25519 assertionMethod key");
        goto out;
    }
    char *rfp = fed_keys_fingerprint_rsa(a.rsa), *efp = fed_keys_fingerprint_ed(a.ed_pk[0]);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, a.ed_pk[0], 32);
    sqlite3_stmt *st = db_stmt(d, "UPDATE districts SET key_id=:k, rsa_pem=:pem, rsa_fp=:rfp, "
                                  "ed_key_id=:ek, ed_pk=:epk, ed_fp=:efp, pending_key=NULL "
                                  "WHERE code=:c");
    if (st && rfp && efp) {
        db_bind_text(st, ":k", a.key_id);
        db_bind_text(st, ":pem", pem);
        db_bind_text(st, ":rfp", rfp);
        db_bind_text(st, ":ek", a.ed_id[0]);
        db_bind_text(st, ":epk", hex);
        db_bind_text(st, ":efp", efp);
        db_bind_text(st, ":c", code);
        rc = db_exec_stmt(st);
        snprintf(fps, fplen, "RSA %s\nEd25519 %s", rfp, efp);
    }
    if (!rc) {
        char now[21];
        util_now_iso(now);
        st = db_stmt(d, "INSERT OR IGNORE INTO district_keys(code, actor_id, ed_key_id, ed_pk, "
                        "ed_fp, pinned) SELECT code, actor_id, ed_key_id, ed_pk, ed_fp, :now "
                        "FROM districts WHERE code=:c");
        rc = -1;
        if (st) {
            db_bind_text(st, ":now", now);
            db_bind_text(st, ":c", code);
            rc = db_exec_stmt(st);
        }
    }
    free(rfp);
    free(efp);
out:
    remote_actor_free(&a);
    return rc;
}

/* The state actor announces every new version of a district's record, so
 * one follow of the state covers the whole state; the Group of each field
 * of action and theme announces the measures of its field (FEP-1b12: the
 * object is announced by id, the form Mastodon handles best).
 * build_announces signs them: an array of [local, activity] ("" = the state
 * actor), or NULL (nothing to announce, or signing failed). It needs no
 * database, so the backfill builds them before its write transaction. */
static json_t *build_announces(const json_t *act)
{
    const json_t *obj = json_object_get(act, "object");
    const json_t *rec = json_object_get(obj, "record");
    const char *oid = util_jstr(obj, "id");
    if (!oid || !actx || !json_is_object(rec) || util_jstr(rec, "deleted"))
        return NULL;
    json_t *out = json_array();
    json_t *a = as2_announce(actx, oid);
    if (!a)
        goto fail;
    json_array_append_new(out, json_pack("[s, o]", "", a));
    if (strcmp(util_jstr(rec, "type") ? util_jstr(rec, "type") : "", "measure"))
        return out;
    const char *lists[] = {"fields_of_action", "themes"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *code;
        json_array_foreach(json_object_get(rec, lists[l]), i, code)
        {
            if (!json_is_string(code) || strlen(json_string_value(code)) > 8)
                continue;
            fed_ctx g;
            fed_ctx_group(actx, json_string_value(code), &g);
            json_t *ga = as2_announce(&g, oid);
            if (!ga)
                goto fail;
            json_array_append_new(out, json_pack("[s, o]", json_string_value(code), ga));
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* Appends the Announces (built by build_announces) to the actors' outboxes. */
static int announce(db *d, const json_t *list)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *local = json_string_value(json_array_get(e, 0));
        fed_ctx g;
        const fed_ctx *c = actx;
        if (local && *local) {
            fed_ctx_group(actx, local, &g);
            c = &g;
        }
        if (outbox_append(d, c, json_array_get(e, 1)))
            return -1;
    }
    return 0;
}

/* Whether act's proof verifies with a key the district had pinned before
 * its current one. */
static bool retired_key_verifies(db *d, const district_row *dr, const json_t *act)
{
    const char *vm = proof_verification_method(act);
    char cur[65];
    sodium_bin2hex(cur, sizeof cur, dr->ed_pk, 32);
    sqlite3_stmt *st = vm ? db_stmt(d, "SELECT ed_pk FROM district_keys WHERE code=:c AND "
                                       "ed_key_id=:k AND ed_pk != :cur")
                          : NULL;
    if (!st)
        return false;
    db_bind_text(st, ":c", dr->code);
    db_bind_text(st, ":k", vm);
    db_bind_text(st, ":cur", cur);
    json_t *copy = json_copy((json_t *)act);
    json_object_del(copy, "signature");
    bool ok = false;
    while (!ok && sqlite3_step(st) == SQLITE_ROW) {
        unsigned char pk[32];
        size_t n = 0;
        ok = sodium_hex2bin(pk, 32, col(st, 0), strlen(col(st, 0)), NULL, &n, NULL) == 0 &&
             n == 32 && proof_verify(copy, pk, NULL, 0) == 0;
    }
    db_done(st);
    json_decref(copy);
    return ok;
}

/* Applies one activity of a registered district. Runs inside the caller's
 * transaction. Returns 1 with *status/reason, or -1 on a storage error. */
static int ingest(db *d, const district_row *dr, const json_t *act, const char *raw,
                  bool check_proof, json_t *announces, inbox_status *status, char *reason,
                  size_t rlen)
{
    const char *type = util_jstr(act, "type");
    const json_t *obj = json_object_get(act, "object");
    const char *aid = util_jstr(act, "id");
    *status = INBOX_FORBIDDEN;
    if (!json_object_get(act, "proof")) {
        snprintf(reason, rlen, "a district's activity must carry an eddsa-jcs-2022 proof");
        goto refuse;
    }
    if (check_proof) {
        const char *vm = proof_verification_method(act);
        char why[256] = "";
        if (!vm || strcmp(vm, dr->ed_key_id) || proof_verify(act, dr->ed_pk, why, sizeof why)) {
            if (retired_key_verifies(d, dr, act)) {
                /* Published before a key rotation (a full replay reads it
                 * again): not a rejection, and no longer evidence. */
                *status = INBOX_IGNORED;
                snprintf(reason, rlen, "ignored: signed with a retired key");
                return 1;
            }
            snprintf(reason, rlen, "proof does not verify with the pinned key%s%s",
                     why[0] ? ": " : "", why);
            goto refuse;
        }
    }
    if (!util_jstr(act, "actor") || strcmp(util_jstr(act, "actor"), dr->actor)) {
        snprintf(reason, rlen, "the activity's actor is not the district %s", dr->code);
        goto refuse;
    }
    if (type && !strcmp(type, "Update") && util_jstr(obj, "id") && !strcmp(util_jstr(obj, "id"), dr->actor)) {
        /* A key rotation announced with the old, pinned key: trust it. */
        char fps[512], err[256];
        if (pin_keys(d, dr->code, obj, fps, sizeof fps, err, sizeof err))
            return -1;
        log_event(LOG_INFO, "district.keys_rotated", "district", dr->code, NULL);
        *status = INBOX_ACCEPTED;
        snprintf(reason, rlen, "keys rotated (signed by the old key)");
        return 1;
    }
    if (type && !strcmp(type, "Announce")) {
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: Announce from a district");
        return 1;
    }
    /* Discussion comments the district published (node/comment.c): the
     * live inbox hands them over before this hook; the backfill comes here. */
    int cm = comment_from_district(d, dr->code, dr->actor, act, raw, status, reason, rlen);
    if (cm < 0)
        return -1;
    if (cm > 0) {
        if (*status == INBOX_FORBIDDEN)
            goto refuse;
        return 1;
    }
    const json_t *rec = json_object_get(obj, "record");
    if (!json_is_object(rec) && object_handler) {
        int st = INBOX_IGNORED;
        int h = object_handler(d, dr->actor, act, raw, &st, reason, rlen);
        if (h != 0) {
            *status = (inbox_status)st;
            return h;
        }
    }
    if (!json_is_object(rec)) {
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: no dinet record in the object");
        return 1;
    }
    const char *claimed = util_jstr(obj, "districtCode"), *rec_district = util_jstr(rec, "district");
    if (claimed && !strcmp(claimed, dr->code) && rec_district && strcmp(rec_district, dr->code))
        claimed = rec_district; /* name the code that is wrong */
    if (!claimed || strcmp(claimed, dr->code) || (rec_district && strcmp(rec_district, dr->code))) {
        snprintf(reason, rlen, "the record claims district %s, but the sender is %s",
                 claimed ? claimed : "(none)", dr->code);
        goto refuse;
    }
    if (!util_same_host(util_jstr(rec, "url"), dr->actor) || !util_same_host(util_jstr(obj, "id"), dr->actor)) {
        snprintf(reason, rlen, "the record's URL is not on the district's host");
        goto refuse;
    }
    const char *why = NULL;
    rec_status rs = record_replicate(d, rec, dr->code, aid, raw, &why);
    if (rs == REC_ERROR)
        return -1;
    if (rs == REC_INVALID) {
        snprintf(reason, rlen, "%s", why ? why : "invalid record");
        goto refuse;
    }
    *status = rs == REC_OK ? INBOX_ACCEPTED : INBOX_IGNORED;
    snprintf(reason, rlen, "%s", rs == REC_OK ? "replicated" : "ignored: not newer");
    if (rs == REC_OK && !util_jstr(rec, "deleted")) {
        int arc = 0;
        if (announces) {
            arc = announce(d, announces);
        } else if (actx && util_jstr(obj, "id")) {
            /* A live record always has something to announce: NULL means
             * signing failed, which rolls the activity back. */
            json_t *own = build_announces(act);
            arc = own ? announce(d, own) : -1;
            json_decref(own);
        }
        if (arc)
            return -1;
    }
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st = db_stmt(d, "UPDATE districts SET last_contact=:now, "
                                  "accepted=accepted+:n WHERE code=:c");
    if (st) {
        db_bind_text(st, ":now", now);
        db_bind_int(st, ":n", rs == REC_OK);
        db_bind_text(st, ":c", dr->code);
        db_exec_stmt(st);
    }
    return 1;
refuse:
    note_rejection(dr->code, reason);
    log_event(LOG_WARN, "district.rejected", "district", dr->code, "activity", aid ? aid : "",
              "reason", reason, NULL);
    return 1;
}

static int content_hook(void *ud, db *d, const json_t *act, const char *type,
                        const remote_actor *who, const char *raw, inbox_status *status,
                        char *reason, size_t rlen)
{
    (void)ud;
    static const char *const owned[] = {"Create", "Update", "Delete", "Announce", NULL};
    bool mine = false;
    for (int i = 0; owned[i]; i++)
        mine = mine || !strcmp(type, owned[i]);
    if (!mine)
        return 0;
    district_row dr;
    if (!find_district(d, NULL, who->id, NULL, &dr)) {
        *status = INBOX_FORBIDDEN;
        snprintf(reason, rlen, "%s is not a registered district", who->id);
        return 1;
    }
    int rc = ingest(d, &dr, act, raw, false, NULL, status, reason, rlen);
    row_free(&dr);
    return rc;
}

/* The record version an outbox item carries and its object id; -1 when the
 * item is not a record change (a key rotation, an Announce). */
static long long item_version(const json_t *it, const char **oid)
{
    const json_t *obj = json_object_get(it, "object");
    *oid = util_jstr(obj, "id");
    const json_t *v = json_object_get(json_object_get(obj, "record"), "version");
    return *oid && json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Whether the state holds the record of act in version v or a newer one. */
static bool held_version(db *d, const json_t *act, long long v)
{
    const char *rid = util_jstr(json_object_get(json_object_get(act, "object"), "record"), "id");
    sqlite3_stmt *st = rid && v >= 0 ? db_stmt(d, "SELECT version FROM records WHERE id=:id") : NULL;
    if (!st)
        return false;
    db_bind_text(st, ":id", rid);
    bool held = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) >= v;
    db_done(st);
    return held;
}

/* A Create or Update of a record the state holds in that version or a newer
 * one: the backfill got there first (the live delivery follows), or it is
 * a retry. Ignored before the signature checks; see inbox_hooks.precheck. */
static int precheck_hook(void *ud, db *d, const json_t *act, const char *type, char *reason,
                         size_t rlen)
{
    (void)ud;
    if (strcmp(type, "Create") && strcmp(type, "Update"))
        return 0;
    const char *oid;
    bool stale = held_version(d, act, item_version(act, &oid));
    if (stale)
        snprintf(reason, rlen, "ignored: not newer");
    return stale;
}

void agg_init(const fed_ctx *ctx)
{
    actx = ctx;
    static bool hooked;
    if (!hooked) {
        inbox_hooks h = {pinned_hook, content_hook, NULL, 100, precheck_hook};
        inbox_add_hooks(&h);
        hooked = true;
    }
}

int agg_district_add(db *d, const char *code, const char *actor_url, char *fps, size_t fplen,
                     char *err, size_t errlen)
{
    const district *dist = district_find(code);
    if (!dist || !strcmp(code, "15")) {
        snprintf(err, errlen, "unknown district code '%s' (one of the 14 Kreisschlüssel)", code);
        return -1;
    }
    json_t *doc = NULL;
    if (remote_fetch(actx, actor_url, &doc, err, errlen))
        return -1;
    remote_actor a;
    if (remote_actor_parse(doc, &a, err, errlen)) {
        json_decref(doc);
        return -1;
    }
    int rc = -1;
    if (!util_same_host(a.id, actor_url)) {
        snprintf(err, errlen, "the actor %s is not on the host of %s", a.id, actor_url);
        goto out;
    }
    const json_t *outbox = json_object_get(doc, "outbox");
    char now[21];
    util_now_iso(now);
    if (db_begin(d))
        goto out;
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO districts(code, actor_id, inbox, outbox, key_id, rsa_pem, rsa_fp, "
           "ed_key_id, ed_pk, ed_fp, added) VALUES(:c, :a, :inbox, :outbox, '', '', '', '', '', "
           "'', :now)");
    if (!st) {
        db_rollback(d);
        goto out;
    }
    db_bind_text(st, ":c", code);
    db_bind_text(st, ":a", a.id);
    db_bind_text(st, ":inbox", a.shared_inbox[0] ? a.shared_inbox : a.inbox);
    db_bind_text(st, ":outbox", json_is_string(outbox) ? json_string_value(outbox) : "");
    db_bind_text(st, ":now", now);
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_done(st);
        db_rollback(d);
        snprintf(err, errlen, "district %s or actor %s is registered already", code, a.id);
        goto out;
    }
    db_done(st);
    if (pin_keys(d, code, doc, fps, fplen, err, errlen) || db_commit(d)) {
        db_rollback(d);
        goto out;
    }
    rc = 0;
    log_event(LOG_INFO, "district.added", "district", code, "actor", a.id, NULL);
out:
    remote_actor_free(&a);
    json_decref(doc);
    return rc;
}

int agg_district_remove(db *d, const char *code)
{
    district_row dr;
    if (!find_district(d, code, NULL, NULL, &dr))
        return -1;
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM districts WHERE code=:c");
    int rc = -1;
    if (st) {
        db_bind_text(st, ":c", code);
        rc = db_exec_stmt(st) || !sqlite3_changes(db_handle(d)) ? -1 : 0;
    }
    /* Stop following it, so that it no longer delivers to us only to be
     * refused. */
    char err[512] = "";
    if (!rc && actx && ap_unfollow(d, dr.actor, err, sizeof err))
        log_event(LOG_WARN, "district.unfollow_failed", "district", code, "error", err, NULL);
    row_free(&dr);
    return rc;
}

json_t *agg_summary(db *d, const char *code, bool detail)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT id, version FROM records WHERE district=:d ORDER BY id");
    if (!st)
        return NULL;
    db_bind_text(st, ":d", code);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    long n = 0, live = 0;
    json_t *recs = detail ? json_array() : NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char line[128];
        int len = snprintf(line, sizeof line, "%s %lld\n", col(st, 0),
                           (long long)sqlite3_column_int64(st, 1));
        crypto_hash_sha256_update(&h, (const unsigned char *)line, (unsigned long long)len);
        n++;
        if (recs)
            json_array_append_new(recs, json_pack("[s, I]", col(st, 0),
                                                  (json_int_t)sqlite3_column_int64(st, 1)));
    }
    db_done(st);
    st = db_stmt(d, "SELECT count(*) FROM records WHERE district=:d AND deleted IS NULL");
    if (st) {
        db_bind_text(st, ":d", code);
        if (sqlite3_step(st) == SQLITE_ROW)
            live = sqlite3_column_int(st, 0);
        db_done(st);
    }
    unsigned char out[32];
    crypto_hash_sha256_final(&h, out);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, out, 32);
    json_t *j = json_pack("{s:s, s:i, s:i, s:s}", "district", code, "records", (int)n, "live",
                          (int)live, "hash", hex);
    if (recs)
        json_object_set_new(j, "items", recs);
    return j;
}

static void district_base(const district_row *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", r->actor);
    char *p = strstr(out, "://");
    char *slash = p ? strchr(p + 3, '/') : NULL;
    if (slash)
        *slash = '\0';
}

static void set_sync_state(db *d, const char *code, const char *cursor, const char *error,
                           bool contact)
{
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st = db_stmt(
        d, "UPDATE districts SET cursor=COALESCE(:cur, cursor), last_sync=:now, last_error=:err, "
           "last_contact=CASE WHEN :contact THEN :now ELSE last_contact END WHERE code=:c");
    if (!st)
        return;
    db_bind_text(st, ":cur", cursor && *cursor ? cursor : NULL);
    db_bind_text(st, ":now", now);
    db_bind_text(st, ":err", error);
    db_bind_int(st, ":contact", contact);
    db_bind_text(st, ":c", code);
    db_exec_stmt(st);
}

/* Ingests one page of activities in one transaction; *last gets the id of
 * the last one. Returns how many were accepted. */
/* Ingests one outbox page. Within a page only the newest version of each
 * record is applied: the older ones are superseded and would be ignored as
 * "not newer" anyway, after costing a proof check, a render and an Announce
 * each (a district that was edited while the state was down sends many).
 * Proofs are checked before the write transaction, so that another
 * district's page can be written meanwhile; an item whose proof does not
 * verify with the current key is checked again inside (retired keys,
 * rejection with a reason). */
static int ingest_page(db *d, district_row *dr, const json_t *items, char *last, size_t lastlen)
{
    size_t n = json_array_size(items);
    if (n == 0)
        return 0;
    signed char *state = calloc(n, 1); /* 0 skip, 1 check proof in txn, 2 verified */
    json_t **pre = calloc(n, sizeof *pre); /* Announces signed before the transaction */
    if (!state) {
        free(pre);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const char *oid;
        long long v = item_version(json_array_get(items, i), &oid);
        state[i] = 1;
        for (size_t j = i + 1; v >= 0 && j < n; j++) {
            const char *ojd;
            long long vj = item_version(json_array_get(items, j), &ojd);
            if (vj >= v && !strcmp(oid, ojd)) {
                state[i] = 0; /* a later item of this page is at least as new */
                break;
            }
        }
        const json_t *it = json_array_get(items, i);
        const char *vm = state[i] ? proof_verification_method(it) : NULL;
        if (vm && !strcmp(vm, dr->ed_key_id) && proof_verify(it, dr->ed_pk, NULL, 0) == 0)
            state[i] = 2;
        /* Signing the Announces is the largest part of a replicated
         * version's work that needs no database: done here, another
         * district's page can be written meanwhile. Not for a version the
         * state holds already (a full replay). */
        if (pre && state[i] == 2 && !held_version(d, it, v))
            pre[i] = build_announces(it);
    }
    int total = 0;
    if (db_begin(d)) {
        free(state);
        for (size_t i = 0; pre && i < n; i++)
            json_decref(pre[i]);
        free(pre);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        if (util_jstr(it, "id") && last)
            snprintf(last, lastlen, "%s", util_jstr(it, "id"));
        if (!state[i])
            continue;
        char *raw = json_dumps(it, JSON_COMPACT);
        inbox_status st;
        char reason[300];
        if (raw &&
            ingest(d, dr, it, raw, state[i] == 1, pre ? pre[i] : NULL, &st, reason,
                   sizeof reason) == 1 &&
            st == INBOX_ACCEPTED)
            total++;
        free(raw);
    }
    if (db_commit(d))
        db_rollback(d);
    free(state);
    for (size_t i = 0; pre && i < n; i++)
        json_decref(pre[i]);
    free(pre);
    return total;
}

/* Reads the district's outbox oldest first, from after its cursor or from
 * the beginning, and ingests every activity (with proof checks). Each page
 * is asked for with an explicit limit and resumed after the last activity
 * seen; a page over the response size limit is asked for again with fewer
 * items (one activity always fits: it is at most INBOX_MAX_BODY). */
static int backfill(db *d, district_row *dr, bool from_start, char *err, size_t errlen)
{
    char after[1024];
    snprintf(after, sizeof after, "%s", from_start ? "" : dr->cursor);
    int total = 0, limit = 100;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int pages = 0; pages < 1000000; pages++) {
        char url[2400];
        if (after[0]) {
            char *enc = curl_easy_escape(c, after, 0);
            snprintf(url, sizeof url, "%s?page=true&limit=%d&latest=true&after=%s", dr->outbox,
                     limit, enc ? enc : "");
            curl_free(enc);
        } else {
            snprintf(url, sizeof url, "%s?page=true&limit=%d&latest=true&min_id=0", dr->outbox,
                     limit);
        }
        json_t *page = NULL;
        if (remote_fetch(actx, url, &page, err, errlen)) {
            if (strstr(err, "exceeds the limit") && limit > 1) {
                limit = limit > 4 ? limit / 4 : 1;
                continue;
            }
            if (!from_start && after[0] && !strcmp(after, dr->cursor) && strstr(err, "404")) {
                /* The district no longer knows our cursor: start over. */
                curl_easy_cleanup(c);
                return backfill(d, dr, true, err, errlen);
            }
            set_sync_state(d, dr->code, after, err, false);
            curl_easy_cleanup(c);
            return -1;
        }
        const json_t *items = json_object_get(page, "orderedItems");
        size_t n = json_array_size(items);
        total += ingest_page(d, dr, items, after, sizeof after);
        json_decref(page);
        set_sync_state(d, dr->code, after, NULL, true);
        if ((int)n < limit)
            break;
        if (limit < 100)
            limit = limit * 2 > 100 ? 100 : limit * 2;
    }
    curl_easy_cleanup(c);
    if (after[0])
        snprintf(dr->cursor, sizeof dr->cursor, "%s", after);
    return total;
}

/* Compares the district's published keys with the pinned ones. A change that
 * did not come as an Update signed by the old key is held for an admin to
 * confirm (dinet district confirm-key, or the API); until then the old keys
 * stay pinned and activities signed with the new ones are refused. */
static void check_keys(db *d, const district_row *dr)
{
    json_t *doc = NULL;
    char err[512];
    if (remote_fetch(actx, dr->actor, &doc, err, sizeof err))
        return;
    remote_actor a;
    if (remote_actor_parse(doc, &a, err, sizeof err) == 0) {
        const json_t *pk = json_object_get(doc, "publicKey");
        if (json_is_array(pk))
            pk = json_array_get(pk, 0);
        const char *pem = util_jstr(pk, "publicKeyPem");
        bool same = pem && dr->rsa_pem && !strcmp(pem, dr->rsa_pem) && a.ned >= 1 &&
                    !memcmp(a.ed_pk[0], dr->ed_pk, 32) && !strcmp(a.key_id, dr->key_id);
        sqlite3_stmt *st = db_stmt(d, "UPDATE districts SET pending_key=:p WHERE code=:c");
        if (st) {
            char *txt = same ? NULL : json_dumps(doc, JSON_COMPACT);
            db_bind_text(st, ":p", txt);
            db_bind_text(st, ":c", dr->code);
            db_exec_stmt(st);
            if (txt)
                log_event(LOG_WARN, "district.key_changed", "district", dr->code, "action",
                          "an admin must confirm the new keys", NULL);
            free(txt);
        }
        remote_actor_free(&a);
    }
    json_decref(doc);
}

int agg_confirm_keys(db *d, const char *code, char *fps, size_t fplen, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT pending_key FROM districts WHERE code=:c");
    if (!st)
        return -1;
    db_bind_text(st, ":c", code);
    char *pending = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        pending = strdup(col(st, 0));
    db_done(st);
    if (!pending) {
        snprintf(err, errlen, "no key change is waiting for district %s", code);
        return -1;
    }
    json_t *doc = json_loads(pending, 0, NULL);
    free(pending);
    int rc = doc ? pin_keys(d, code, doc, fps, fplen, err, errlen) : -1;
    json_decref(doc);
    if (rc == 0)
        log_event(LOG_INFO, "district.keys_confirmed", "district", code, NULL);
    return rc;
}

/* Entries of the district's detailed summary that we lack or hold in an
 * older version (entries we hold newer arrived after the summary was
 * taken: not a difference). Returns their count; fills ids (up to max). */
static long behind(db *d, const char *code, const json_t *remote, char (*ids)[40], long max)
{
    json_t *local = agg_summary(d, code, true);
    const json_t *li = json_object_get(local, "items");
    size_t x = 0, y = 0, nl = json_array_size(li), nr = json_array_size(remote);
    long n = 0;
    for (; y < nr; y++) {
        const char *rid = json_string_value(json_array_get(json_array_get(remote, y), 0));
        long long rv = json_integer_value(json_array_get(json_array_get(remote, y), 1));
        if (!rid)
            continue;
        while (x < nl &&
               strcmp(json_string_value(json_array_get(json_array_get(li, x), 0)), rid) < 0)
            x++;
        bool have = x < nl &&
                    !strcmp(json_string_value(json_array_get(json_array_get(li, x), 0)), rid);
        long long lv = have ? json_integer_value(json_array_get(json_array_get(li, x), 1)) : 0;
        if (!have || lv < rv) {
            if (ids && n < max)
                snprintf(ids[n], sizeof ids[0], "%s", rid);
            n++;
        }
    }
    json_decref(local);
    return n;
}

/* Fetches the latest signed activity about each record (outbox?object=URL)
 * and ingests it with its proof checked. */
static void fetch_records(db *d, district_row *dr, char (*ids)[40], long n)
{
    char base[1100];
    district_base(dr, base, sizeof base);
    CURL *c = curl_easy_init();
    for (long i = 0; c && i < n; i++) {
        const char *kind = !strncmp(ids[i], "o-", 2)   ? "organisations"
                           : !strncmp(ids[i], "m-", 2) ? "measures"
                                                       : "progress";
        char rurl[1300], url[4200], err[512];
        snprintf(rurl, sizeof rurl, "%s/%s/%s", base, kind, ids[i]);
        char *enc = curl_easy_escape(c, rurl, 0);
        snprintf(url, sizeof url, "%s?object=%s", dr->outbox, enc ? enc : "");
        curl_free(enc);
        json_t *act = NULL;
        if (remote_fetch(actx, url, &act, err, sizeof err) == 0) {
            json_t *one = json_pack("[O]", act);
            ingest_page(d, dr, one, NULL, 0);
            json_decref(one);
        }
        json_decref(act);
    }
    if (c)
        curl_easy_cleanup(c);
}

#define REPAIR_MAX 500
/* While a backfill still finds activities, the summary check (which hashes
 * every record of the district on both sides) runs at most this often. */
#define SUMMARY_BUSY_INTERVAL 30

static pthread_mutex_t summary_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char code[8];
    time_t at;
} summary_checked[64];

/* Whether the summary check of code is due; notes it as done now if so. A
 * round whose backfill found nothing always checks. */
static bool summary_due(const char *code, bool busy)
{
    time_t now = time(NULL);
    bool due = true;
    pthread_mutex_lock(&summary_mu);
    int slot = -1;
    for (int i = 0; i < 64 && slot < 0; i++)
        if (!strcmp(summary_checked[i].code, code) || !summary_checked[i].code[0])
            slot = i;
    if (slot >= 0) {
        if (busy && summary_checked[slot].code[0] &&
            now - summary_checked[slot].at < SUMMARY_BUSY_INTERVAL)
            due = false;
        if (due) {
            snprintf(summary_checked[slot].code, sizeof summary_checked[slot].code, "%s", code);
            summary_checked[slot].at = now;
        }
    }
    pthread_mutex_unlock(&summary_mu);
    return due;
}

static int sync_one(db *d, const char *code)
{
    district_row dr, dr2;
    if (!find_district(d, code, NULL, NULL, &dr))
        return -1;
    char err[512] = "";
    /* Backfill first: a rotation announced by an Update signed with the old
     * key re-pins the keys, and is then no change for check_keys to hold. */
    int n = backfill(d, &dr, false, err, sizeof err);
    if (find_district(d, code, NULL, NULL, &dr2)) {
        check_keys(d, &dr2);
        row_free(&dr2);
    }
    if (n >= 0 && summary_due(code, n > 0)) {
        /* Compare summaries; fetch what differs (a delivery was lost, or
         * the cursor skipped something). */
        char base[1100], url[1200];
        district_base(&dr, base, sizeof base);
        snprintf(url, sizeof url, "%s/api/v1/summary", base);
        json_t *remote = NULL;
        if (remote_fetch(actx, url, &remote, err, sizeof err) == 0) {
            json_t *local = agg_summary(d, dr.code, false);
            const char *rh = util_jstr(remote, "hash"), *lh = util_jstr(local, "hash");
            bool differ = !rh || !lh || strcmp(rh, lh);
            json_decref(local);
            json_decref(remote);
            remote = NULL;
            snprintf(url, sizeof url, "%s/api/v1/summary?detail=1", base);
            if (differ && remote_fetch(actx, url, &remote, err, sizeof err) == 0) {
                const json_t *items = json_object_get(remote, "items");
                char(*ids)[40] = calloc(REPAIR_MAX, sizeof *ids);
                long m = ids ? behind(d, dr.code, items, ids, REPAIR_MAX) : -1;
                if (m > 0) {
                    log_event(LOG_INFO, "district.reconcile", "district", dr.code, NULL);
                    if (m <= REPAIR_MAX)
                        fetch_records(d, &dr, ids, m);
                    else
                        backfill(d, &dr, true, err, sizeof err);
                    m = behind(d, dr.code, items, NULL, 0);
                    if (m > 0) {
                        snprintf(err, sizeof err, "%ld records behind the district's summary", m);
                        set_sync_state(d, dr.code, NULL, err, true);
                    }
                }
                free(ids);
            } else if (differ) {
                /* No detailed summary (e.g. over the response limit): replay
                 * the whole outbox, as before. */
                log_event(LOG_INFO, "district.reconcile", "district", dr.code, NULL);
                backfill(d, &dr, true, err, sizeof err);
            }
            json_decref(remote);
        } else {
            set_sync_state(d, dr.code, NULL, err, false);
        }
    }
    row_free(&dr);
    return n;
}

#define SYNC_THREADS 3

typedef struct sync_job {
    int nc;
    char (*codes)[8];
    atomic_int next;
    atomic_int total;
} sync_job;

static void sync_codes(db *d, sync_job *job)
{
    for (int i; (i = atomic_fetch_add(&job->next, 1)) < job->nc;) {
        int n = sync_one(d, job->codes[i]);
        if (n > 0)
            atomic_fetch_add(&job->total, n);
    }
}

static void *sync_thread(void *arg)
{
    db *d = NULL;
    char err[512];
    if (db_open(worker_path, &d, err, sizeof err)) {
        log_event(LOG_ERROR, "aggregate.db", "error", err, NULL);
        return NULL;
    }
    sync_codes(d, arg);
    db_close(d);
    return NULL;
}

int agg_sync(db *d, const char *code)
{
    if (code)
        return sync_one(d, code);
    char codes[MAXD][8];
    int nc = 0;
    sqlite3_stmt *st = db_stmt(d, "SELECT code FROM districts ORDER BY code");
    while (st && nc < MAXD && sqlite3_step(st) == SQLITE_ROW)
        snprintf(codes[nc++], sizeof codes[0], "%s", col(st, 0));
    db_done(st);
    sync_job job = {.nc = nc, .codes = codes};
    pthread_t extra[SYNC_THREADS - 1];
    int started = 0;
    /* Districts are synced in parallel: while one thread waits for a page or
     * verifies proofs, another writes. The extra threads open their own
     * connections; the CLI (no worker path) syncs one after the other. */
    for (int t = 0; worker_path && t < SYNC_THREADS - 1 && t < nc - 1; t++)
        if (pthread_create(&extra[started], NULL, sync_thread, &job) == 0)
            started++;
    sync_codes(d, &job);
    for (int t = 0; t < started; t++)
        pthread_join(extra[t], NULL);
    return atomic_load(&job.total);
}

json_t *agg_district_list(db *d)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT code, actor_id, rsa_fp, ed_fp, added, last_contact, "
                                  "last_sync, last_error, accepted, pending_key FROM districts "
                                  "ORDER BY code");
    json_t *arr = json_array();
    time_t now = time(NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const district *dist = district_find(col(st, 0));
        char last_rej[256] = "";
        long nrej = rejections(col(st, 0), last_rej, sizeof last_rej);
        json_t *e = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:I}", "code", col(st, 0),
                              "name", dist ? dist->name : "", "actor", col(st, 1),
                              "fingerprints", "rsa", col(st, 2), "ed25519", col(st, 3), "added",
                              col(st, 4), "accepted", (json_int_t)sqlite3_column_int64(st, 8));
        json_object_set_new(e, "rejected", json_integer(nrej));
        json_object_set_new(e, "last_rejection", last_rej[0] ? json_string(last_rej) : json_null());
        const char *lc = col(st, 5);
        json_object_set_new(e, "last_contact", *lc ? json_string(lc) : json_null());
        json_object_set_new(e, "last_sync", *col(st, 6) ? json_string(col(st, 6)) : json_null());
        json_object_set_new(e, "last_error", *col(st, 7) ? json_string(col(st, 7)) : json_null());
        json_object_set_new(e, "lag_seconds",
                            *lc ? json_integer((json_int_t)(now - util_parse_iso_time(lc)))
                                : json_null());
        json_object_set_new(e, "key_change_pending", json_boolean(*col(st, 9)));
        json_array_append_new(arr, e);
    }
    db_done(st);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        json_t *s = agg_summary(d, json_string_value(json_object_get(e, "code")), false);
        json_object_set(e, "records", json_object_get(s, "live"));
        json_object_set(e, "summary_hash", json_object_get(s, "hash"));
        json_decref(s);
    }
    return arr;
}

/* ---- background sync ----------------------------------------------------- */

static pthread_t worker;
static bool running;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long interval = 300;
static bool kick;

static void agg_wake(void)
{
    pthread_mutex_lock(&mu);
    kick = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker_main(void *arg)
{
    (void)arg;
    db *d = NULL;
    char err[512];
    if (db_open(worker_path, &d, err, sizeof err)) {
        log_event(LOG_ERROR, "aggregate.db", "error", err, NULL);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&mu);
        bool go = running;
        kick = false;
        pthread_mutex_unlock(&mu);
        if (!go)
            break;
        agg_sync(d, NULL);
        /* Wait for the interval, but look every two seconds for districts
         * registered meanwhile by another process (the CLI), which have
         * never been synced: they are backfilled at once. */
        time_t due = time(NULL) + interval;
        for (;;) {
            pthread_mutex_lock(&mu);
            if (running && !kick) {
                struct timespec ts;
                util_deadline_ms(&ts, (interval < 2 ? interval : 2) * 1000L);
                pthread_cond_timedwait(&cv, &mu, &ts);
            }
            bool stop_wait = !running || kick;
            pthread_mutex_unlock(&mu);
            if (stop_wait || time(NULL) >= due)
                break;
            sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM districts WHERE last_sync IS NULL");
            bool fresh = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
            db_done(st);
            if (fresh)
                break;
        }
    }
    db_close(d);
    return NULL;
}

int agg_start(const char *db_path, long interval_s)
{
    free(worker_path);
    worker_path = xstrdup(db_path);
    interval = interval_s > 0 ? interval_s : 300;
    running = true;
    if (pthread_create(&worker, NULL, worker_main, NULL)) {
        running = false;
        return -1;
    }
    return 0;
}

void agg_stop(void)
{
    pthread_mutex_lock(&mu);
    bool was = running;
    running = false;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    if (was)
        pthread_join(worker, NULL);
    free(worker_path);
    worker_path = NULL;
    pthread_mutex_lock(&keycache_mu);
    for (int i = 0; i < MAXD; i++)
        if (keycache[i].rsa) {
            EVP_PKEY_free(keycache[i].rsa);
            keycache[i].rsa = NULL;
        }
    pthread_mutex_unlock(&keycache_mu);
}

/* ---- statewide figures --------------------------------------------------- */

static json_t *obj_path(json_t *root, const char *a, const char *b)
{
    json_t *x = json_object_get(root, a);
    if (!x) {
        x = json_object();
        json_object_set_new(root, a, x);
    }
    if (!b)
        return x;
    json_t *y = json_object_get(x, b);
    if (!y) {
        y = json_object();
        json_object_set_new(x, b, y);
    }
    return y;
}

static void add_count(json_t *o, const char *k, long long n)
{
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + n));
}

/* Duration weight: planned days, when both dates are known. */
#define WEIGHT "(CASE WHEN r.start_date IS NOT NULL AND r.end_date IS NOT NULL THEN " \
               "julianday(r.end_date) - julianday(r.start_date) + 1 END)"

static void progress_stats(db *d, json_t *into, const char *group_sql, const char *key)
{
    sqlite3_stmt *st = db_stmt(d, group_sql);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = obj_path(into, col(st, 0), NULL);
        json_t *p = json_object();
        json_object_set_new(p, "mean", sqlite3_column_type(st, 1) == SQLITE_NULL
                                           ? json_null()
                                           : json_real(sqlite3_column_double(st, 1)));
        json_object_set_new(p, "weighted_by_duration",
                            sqlite3_column_type(st, 2) == SQLITE_NULL
                                ? json_null()
                                : json_real(sqlite3_column_double(st, 2)));
        json_object_set_new(p, "measures", json_integer(sqlite3_column_int(st, 3)));
        json_object_set_new(o, key, p);
    }
    db_done(st);
}

static json_t *compute_stats(db *d);

/* The figures change only with the records: the last result is kept with
 * the page cache's stamp and copied while nothing was written. */
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *stats_memo;
static pagecache_stamp stats_stamp;

json_t *agg_stats(db *d)
{
    pagecache_stamp now;
    pagecache_stamp_now(&now);
    pthread_mutex_lock(&stats_mu);
    json_t *copy = stats_memo && !memcmp(&now, &stats_stamp, sizeof now)
                       ? json_deep_copy(stats_memo)
                       : NULL;
    pthread_mutex_unlock(&stats_mu);
    if (copy)
        return copy;
    json_t *fresh = compute_stats(d);
    json_t *keep = fresh ? json_deep_copy(fresh) : NULL;
    pthread_mutex_lock(&stats_mu);
    json_decref(stats_memo);
    stats_memo = keep;
    stats_stamp = now;
    pthread_mutex_unlock(&stats_mu);
    return fresh;
}

static json_t *compute_stats(db *d)
{
    json_t *state = json_object(), *districts = json_object(), *fields = json_object();
    bool in_read = db_begin_read(d) == 0;
    /* Measures by field of action (and theme) × status, per district. */
    sqlite3_stmt *st = db_stmt(
        d, "SELECT t.term, r.status, COALESCE(r.district, ''), count(*) FROM records r "
           "JOIN record_terms t ON t.seq=r.seq WHERE r.kind='measure' AND r.deleted IS NULL "
           "AND (t.term GLOB 'HF*' OR t.term GLOB 'QT*') GROUP BY 1, 2, 3");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 3);
        const char *term = col(st, 0), *status = col(st, 1), *dist = col(st, 2);
        add_count(obj_path(obj_path(state, "by_field", NULL), term, NULL), status, n);
        add_count(obj_path(obj_path(state, "by_field", NULL), term, NULL), "total", n);
        json_t *dj = obj_path(districts, dist, NULL);
        add_count(obj_path(obj_path(dj, "by_field", NULL), term, NULL), status, n);
        add_count(obj_path(obj_path(dj, "by_field", NULL), term, NULL), "total", n);
    }
    db_done(st);
    st = db_stmt(d, "SELECT r.status, COALESCE(r.district, ''), count(*) FROM records r "
                    "WHERE r.kind='measure' AND r.deleted IS NULL GROUP BY 1, 2");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 2);
        add_count(obj_path(state, "by_status", NULL), col(st, 0), n);
        add_count(state, "measures", n);
        json_t *dj = obj_path(districts, col(st, 1), NULL);
        add_count(obj_path(dj, "by_status", NULL), col(st, 0), n);
        add_count(dj, "measures", n);
    }
    db_done(st);
    /* Progress: plain mean and the mean weighted by planned duration. */
    progress_stats(d, fields,
                   "SELECT t.term, avg(r.progress), sum(r.progress * " WEIGHT ") / sum(" WEIGHT
                   "), count(*) FROM records r JOIN record_terms t ON t.seq=r.seq "
                   "WHERE r.kind='measure' AND r.deleted IS NULL AND (t.term GLOB 'HF*' OR "
                   "t.term GLOB 'QT*') GROUP BY 1",
                   "progress");
    progress_stats(d, districts,
                   "SELECT COALESCE(r.district, ''), avg(r.progress), sum(r.progress * " WEIGHT
                   ") / sum(" WEIGHT "), count(*) FROM records r WHERE r.kind='measure' AND "
                   "r.deleted IS NULL GROUP BY 1",
                   "progress");
    json_t *all = json_object();
    progress_stats(d, all,
                   "SELECT 'all', avg(r.progress), sum(r.progress * " WEIGHT ") / sum(" WEIGHT
                   "), count(*) FROM records r WHERE r.kind='measure' AND r.deleted IS NULL",
                   "progress");
    json_object_set(state, "progress", json_object_get(json_object_get(all, "all"), "progress"));
    json_decref(all);
    /* Organisations by kind and by field of action. */
    st = db_stmt(d, "SELECT r.org_kind, COALESCE(r.district, ''), count(*) FROM records r "
                    "WHERE r.kind='organisation' AND r.deleted IS NULL GROUP BY 1, 2");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 2);
        add_count(obj_path(state, "organisations_by_kind", NULL), col(st, 0), n);
        add_count(obj_path(obj_path(districts, col(st, 1), NULL), "organisations_by_kind", NULL),
                  col(st, 0), n);
    }
    db_done(st);
    st = db_stmt(d, "SELECT t.term, count(*) FROM records r JOIN record_terms t ON t.seq=r.seq "
                    "WHERE r.kind='organisation' AND r.deleted IS NULL AND t.term GLOB 'HF*' "
                    "GROUP BY 1");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        add_count(obj_path(state, "organisations_by_field", NULL), col(st, 0),
                  sqlite3_column_int64(st, 1));
    db_done(st);
    if (in_read)
        db_end_read(d);
    /* Name the districts. */
    const char *k;
    json_t *v;
    json_object_foreach(districts, k, v)
    {
        const district *dist = district_find(k);
        json_object_set_new(v, "name", json_string(dist ? dist->name : k));
    }
    return json_pack("{s:o, s:o, s:o}", "state", state, "districts", districts, "fields", fields);
}

json_t *agg_timeline(db *d, int limit)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT doc FROM records WHERE kind='progress' AND deleted IS "
                                  "NULL ORDER BY start_date DESC, seq DESC LIMIT :n");
    json_t *arr = json_array();
    if (!st)
        return arr;
    db_bind_int(st, ":n", limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *doc = json_loads(col(st, 0), 0, NULL);
        if (doc)
            json_array_append_new(arr, doc);
    }
    db_done(st);
    return arr;
}

json_t *agg_provenance(db *d, const char *record_id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT district, activity_id, activity, received FROM "
                                  "provenance WHERE record_id=:id");
    if (!st)
        return NULL;
    db_bind_text(st, ":id", record_id);
    json_t *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *act = json_loads(col(st, 2), 0, NULL);
        out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "record_id", record_id, "district",
                        col(st, 0), "activity_id", col(st, 1), "received", col(st, 3), "activity",
                        act ? act : json_null());
    }
    db_done(st);
    if (!out)
        return NULL;
    district_row dr;
    const json_t *act = json_object_get(out, "activity");
    char why[256] = "";
    bool ok = false;
    if (find_district(d, json_string_value(json_object_get(out, "district")), NULL, NULL, &dr)) {
        const char *vm = proof_verification_method(act);
        json_t *copy = json_copy((json_t *)act);
        json_object_del(copy, "signature");
        /* The record may have been signed before a key rotation: try every
         * key this district ever had pinned, newest first. */
        unsigned char used[32];
        memcpy(used, dr.ed_pk, 32);
        st = db_stmt(d, "SELECT ed_pk FROM district_keys WHERE code=:c AND ed_key_id=:k "
                        "ORDER BY pinned DESC");
        if (st && vm) {
            db_bind_text(st, ":c", dr.code);
            db_bind_text(st, ":k", vm);
            while (!ok && sqlite3_step(st) == SQLITE_ROW) {
                unsigned char pk[32];
                size_t n = 0;
                if (sodium_hex2bin(pk, 32, col(st, 0), strlen(col(st, 0)), NULL, &n, NULL) == 0 &&
                    n == 32 && proof_verify(copy, pk, why, sizeof why) == 0) {
                    ok = true;
                    memcpy(used, pk, 32);
                }
            }
        }
        db_done(st);
        if (ok)
            why[0] = '\0';
        json_decref(copy);
        char *fp = fed_keys_fingerprint_ed(used);
        json_object_set_new(out, "key", json_pack("{s:s, s:s}", "id", dr.ed_key_id,
                                                  "fingerprint", fp ? fp : ""));
        free(fp);
        row_free(&dr);
    } else {
        snprintf(why, sizeof why, "the district is not registered here");
    }
    json_object_set_new(out, "verified", json_boolean(ok));
    if (!ok)
        json_object_set_new(out, "reason", json_string(why));
    return out;
}

/* ---- routes ---------------------------------------------------------------- */

static void h_districts(http_req *req, http_resp *resp)
{
    http_json(resp, 200, json_pack("{s:o}", "items", agg_district_list(req->db)));
}

/* The registry as admin-web's federation screen shows it: one row per
 * district of the district table, registered or not. */
static void h_fed_districts(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    json_t *reg = agg_district_list(req->db), *items = json_array();
    for (const district *dd = district_all(); dd->code; dd++) {
        json_t *e = NULL, *it;
        size_t i;
        json_array_foreach(reg, i, it) if (!strcmp(json_string_value(json_object_get(it, "code")),
                                                    dd->code)) e = it;
        const char *err = e ? json_string_value(json_object_get(e, "last_error")) : NULL;
        const char *sync = e ? json_string_value(json_object_get(e, "last_sync")) : NULL;
        const char *state = !e ? NULL : err ? "error" : sync ? "synced" : "pending";
        json_t *row = json_pack("{s:s, s:s}", "code", dd->code, "name", dd->name);
        json_object_set_new(row, "actor", e ? json_copy(json_object_get(e, "actor")) : json_null());
        json_object_set_new(row, "state", state ? json_string(state) : json_null());
        json_object_set_new(row, "last_sync", sync ? json_string(sync) : json_null());
        json_object_set_new(row, "objects", e ? json_copy(json_object_get(e, "records"))
                                              : json_integer(0));
        json_object_set_new(row, "last_error", err ? json_string(err) : json_null());
        json_array_append_new(items, row);
    }
    json_decref(reg);
    http_json(resp, 200, json_pack("{s:o}", "items", items));
}

static void h_district_add(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    if (strcmp(req->cfg->role, "state")) {
        http_problem(resp, 409, "wrong-role", "Only the state node keeps a district registry",
                     NULL, NULL, NULL);
        return;
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *code = json_string_value(json_object_get(in, "code"));
    const char *actor = json_string_value(json_object_get(in, "actor"));
    char fps[512] = "", err[1024] = "";
    if (!code || !district_find(code) || !strcmp(code, "15")) {
        http_problem(resp, 422, "validation", "Unknown district code",
                     "code: one of the 14 Kreisschlüssel", "code", NULL);
    } else if (!actor || strncmp(actor, "http", 4)) {
        http_problem(resp, 422, "validation", "actor URL required", NULL, "actor", NULL);
    } else if (agg_district_add(req->db, code, actor, fps, sizeof fps, err, sizeof err)) {
        http_problem(resp, 422, "validation", "Cannot register the district", err, "actor", NULL);
    } else {
        char f[1100];
        if (ap_follow_registered(req->db, actor, f, sizeof f, err, sizeof err))
            log_event(LOG_WARN, "district.follow_failed", "district", code, "error", err, NULL);
        agg_wake();
        http_json(resp, 201, json_pack("{s:s, s:s, s:s}", "code", code, "actor", actor,
                                       "fingerprints", fps));
    }
    json_decref(in);
}

static void h_district_del(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    if (agg_district_remove(req->db, req->params[0]))
        http_problem(resp, 404, "not-found", "No such district registered", NULL, NULL, NULL);
    else
        http_json(resp, 200, json_pack("{s:s}", "removed", req->params[0]));
}

static void h_district_sync(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    district_row dr;
    if (strcmp(req->cfg->role, "state") || !find_district(req->db, req->params[0], NULL, NULL, &dr)) {
        http_problem(resp, 404, "not-found", "No such district registered", NULL, NULL, NULL);
        return;
    }
    row_free(&dr);
    agg_wake();
    http_json(resp, 202, json_pack("{s:s}", "sync", "started"));
}

static void h_district_confirm(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    char fps[512] = "", err[512] = "";
    if (agg_confirm_keys(req->db, req->params[0], fps, sizeof fps, err, sizeof err))
        http_problem(resp, 409, "no-pending-key", "Nothing to confirm", err, NULL, NULL);
    else
        http_json(resp, 200, json_pack("{s:s, s:s}", "code", req->params[0], "fingerprints", fps));
}

static void html_text(buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            buf_puts(b, "&lt;");
        else if (*s == '>')
            buf_puts(b, "&gt;");
        else if (*s == '&')
            buf_puts(b, "&amp;");
        else if (*s == '"')
            buf_puts(b, "&quot;");
        else
            buf_append(b, s, 1);
    }
}

/* Public page per district: key fingerprints and sync state, so anyone can
 * compare them with what the district publishes. */
static void h_district_page(http_req *req, http_resp *resp)
{
    json_t *list = agg_district_list(req->db), *e = NULL, *it;
    size_t i;
    json_array_foreach(list, i, it) if (!strcmp(json_string_value(json_object_get(it, "code")),
                                                req->params[0])) e = it;
    if (!e) {
        json_decref(list);
        http_problem(resp, 404, "not-found", "No such district registered", NULL, NULL, NULL);
        return;
    }
    buf *b = &resp->body;
    resp->status = 200;
    resp->ctype = "text/html; charset=utf-8";
    const char *name = json_string_value(json_object_get(e, "name"));
    json_t *fp = json_object_get(e, "fingerprints");
    buf_puts(b, "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><meta "
                "name=\"viewport\" content=\"width=device-width\"><title>");
    html_text(b, name);
    buf_puts(b, " – Herkunft und Abgleich</title></head><body><main><h1>");
    html_text(b, name);
    buf_puts(b, "</h1><p>Kreisschlüssel ");
    html_text(b, json_string_value(json_object_get(e, "code")));
    buf_puts(b, ". Die Landesebene übernimmt nur Daten, die mit diesen Schlüsseln signiert "
                "sind.</p><h2>Schlüssel-Fingerabdrücke</h2><dl><dt>RSA (HTTP-Signaturen)</dt><dd><code>");
    html_text(b, json_string_value(json_object_get(fp, "rsa")));
    buf_puts(b, "</code></dd><dt>Ed25519 (Nachweise, eddsa-jcs-2022)</dt><dd><code>");
    html_text(b, json_string_value(json_object_get(fp, "ed25519")));
    buf_puts(b, "</code></dd></dl><h2>Abgleich</h2><dl><dt>Akteur</dt><dd><a href=\"");
    html_text(b, json_string_value(json_object_get(e, "actor")));
    buf_puts(b, "\">");
    html_text(b, json_string_value(json_object_get(e, "actor")));
    buf_printf(b, "</a></dd><dt>Datensätze</dt><dd>%lld</dd><dt>Letzter Kontakt</dt><dd>",
               (long long)json_integer_value(json_object_get(e, "records")));
    const char *lc = json_string_value(json_object_get(e, "last_contact"));
    html_text(b, lc ? lc : "noch keiner");
    buf_puts(b, "</dd><dt>Letzter Fehler</dt><dd>");
    const char *le = json_string_value(json_object_get(e, "last_error"));
    html_text(b, le ? le : "keiner");
    buf_puts(b, "</dd></dl><p><a href=\"/\">Zur Startseite</a></p></main></body></html>");
    json_decref(list);
}

static void h_summary(http_req *req, http_resp *resp)
{
    const char *code = http_query(req, "district");
    if (!code)
        code = req->cfg->district;
    if (!district_find(code)) {
        http_problem(resp, 400, "invalid-parameter", "Unknown district", NULL, "district", NULL);
        return;
    }
    json_t *s = agg_summary(req->db, code, http_query(req, "detail") != NULL);
    if (!s)
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    else
        http_json(resp, 200, s);
}

static void h_stats(http_req *req, http_resp *resp)
{
    http_json(resp, 200, agg_stats(req->db));
}

static void h_timeline(http_req *req, http_resp *resp)
{
    const char *l = http_query(req, "limit");
    int limit = l ? atoi(l) : 20;
    if (limit < 1 || limit > 200)
        limit = 20;
    http_json(resp, 200, json_pack("{s:o}", "items", agg_timeline(req->db, limit)));
}

static void h_provenance(http_req *req, http_resp *resp)
{
    json_t *p = agg_provenance(req->db, req->params[0]);
    if (!p)
        http_problem(resp, 404, "not-found", "No provenance for this record",
                     "Only records replicated from a district carry a provenance.", NULL, NULL);
    else
        http_json(resp, 200, p);
}

const http_route agg_routes[] = {
    {"GET", "/api/v1/districts", h_districts},
    {"GET", "/api/v1/federation/districts", h_fed_districts},
    {"POST", "/api/v1/districts", h_district_add},
    {"DELETE", "/api/v1/districts/*", h_district_del},
    {"POST", "/api/v1/districts/*/sync", h_district_sync},
    {"POST", "/api/v1/districts/*/confirm-key", h_district_confirm},
    {"GET", "/districts/*", h_district_page},
    {"GET", "/api/v1/summary", h_summary},
    {"GET", "/api/v1/stats", h_stats},
    {"GET", "/api/v1/timeline", h_timeline},
    {"GET", "/api/v1/provenance/*", h_provenance},
    {NULL, NULL, NULL},
};
