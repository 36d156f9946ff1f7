/* Inbox; see inbox.h. */
#include "inbox.h"
#include "as2.h"
#include "log.h"
#include "outbox.h"
#include "proof.h"
#include "remote.h"
#include "util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    C_ACCEPTED,
    C_DUPLICATE,
    C_IGNORED,
    C_BAD_REQUEST,
    C_BAD_SIGNATURE,
    C_BAD_PROOF,
    C_WRONG_ACTOR,
    C_BLOCKED,
    C_TOO_LARGE,
    C_ERROR,
    C_N
};
static const char *const counter_names[C_N] = {
    "accepted", "duplicate", "ignored", "bad_request", "bad_signature",
    "bad_proof", "wrong_actor", "blocked", "too_large", "error"};
static atomic_long counters[C_N];
#define MAX_HOOKS 8
static inbox_hooks hooks[MAX_HOOKS];
static int nhooks;

void inbox_set_hooks(const inbox_hooks *h)
{
    nhooks = 0;
    if (h)
        inbox_add_hooks(h);
}

int inbox_add_hooks(const inbox_hooks *h)
{
    if (nhooks == MAX_HOOKS)
        return -1;
    int i = nhooks++;
    /* Keep the chain sorted by order; equal orders keep registration order. */
    while (i > 0 && hooks[i - 1].order > h->order) {
        hooks[i] = hooks[i - 1];
        i--;
    }
    hooks[i] = *h;
    return 0;
}

void inbox_counters(char *out, size_t outlen)
{
    size_t used = 0;
    for (int i = 0; i < C_N && used < outlen; i++) {
        int n = snprintf(out + used, outlen - used, "%s %ld\n", counter_names[i],
                         atomic_load(&counters[i]));
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static inbox_status finish(inbox_result *res, inbox_status st, int counter, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));

static inbox_status finish(inbox_result *res, inbox_status st, int counter, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
    res->status = st;
    atomic_fetch_add(&counters[counter], 1);
    enum log_level lvl = st == INBOX_ACCEPTED || st == INBOX_DUPLICATE || st == INBOX_IGNORED
                             ? LOG_INFO
                             : LOG_WARN;
    const char *event = st == INBOX_ACCEPTED    ? "inbox.accepted"
                        : st == INBOX_DUPLICATE ? "inbox.duplicate"
                        : st == INBOX_IGNORED   ? "inbox.ignored"
                                                : "inbox.rejected";
    log_event(lvl, event, "outcome",
              counter_names[counter], "type", res->type, "actor", res->actor, "reason",
              res->reason, NULL);
    return st;
}

/* The id of a value that is a string id or an object with an id. */
static const char *id_of(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : util_jstr(v, "id");
}

static bool blocked(db *d, const char *actor)
{
    const char *p = strstr(actor, "://");
    char domain[512] = "";
    if (p)
        snprintf(domain, sizeof domain, "%.*s", (int)strcspn(p + 3, "/:?#"), p + 3);
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM blocks WHERE (kind='actor' AND pattern=:a) OR "
                                  "(kind='domain' AND (pattern=:d OR :d LIKE '%.' || pattern))");
    if (!st)
        return false;
    db_bind_text(st, ":a", actor);
    db_bind_text(st, ":d", domain);
    bool b = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return b;
}

/* Key lookup for httpsig_verify: resolves through the remote actor cache. */
typedef struct lookup_ctx {
    db *d;
    const fed_ctx *ctx;
    bool refresh;
    remote_actor actor;
    bool have;
    bool pinned; /* the key is pinned: never refetched */
    char err[2200];
} lookup_ctx;

static EVP_PKEY *lookup_key(void *ud, const char *key_id)
{
    lookup_ctx *lc = ud;
    if (lc->have)
        remote_actor_free(&lc->actor);
    lc->have = false;
    for (int hi = 0; hi < nhooks; hi++) {
        if (!hooks[hi].pinned)
            continue;
        int p = hooks[hi].pinned(hooks[hi].ud, lc->d, key_id, &lc->actor);
        if (p == 1) {
            lc->have = true;
            lc->pinned = true;
            return lc->actor.rsa;
        }
    }
    lc->have = remote_actor_get(lc->d, lc->ctx, key_id, lc->refresh, &lc->actor, lc->err,
                                sizeof lc->err) == 0;
    if (!lc->have)
        return NULL;
    /* The key must be the one the actor publishes under that id. */
    if (strcmp(lc->actor.key_id, key_id) != 0) {
        snprintf(lc->err, sizeof lc->err, "keyId %s is not the actor's key %s", key_id,
                 lc->actor.key_id);
        return NULL;
    }
    return lc->actor.rsa;
}

static int log_activity(db *d, const char *id, const char *actor, const char *type,
                        const char *outcome, const char *raw, size_t rawlen)
{
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st = db_stmt(d, "INSERT OR IGNORE INTO inbox_log(activity_id, actor, type, "
                                  "received, outcome, raw) VALUES(:id, :actor, :type, :now, "
                                  ":outcome, :raw)");
    if (!st)
        return -1;
    db_bind_text(st, ":id", id);
    db_bind_text(st, ":actor", actor);
    db_bind_text(st, ":type", type);
    db_bind_text(st, ":now", now);
    db_bind_text(st, ":outcome", outcome);
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":raw"), raw, (int)rawlen,
                      SQLITE_TRANSIENT);
    if (db_exec_stmt(st))
        return -1;
    return sqlite3_changes(db_handle(d)) == 1 ? 1 : 0;
}

/* Whether an activity id is in the inbox log already. */
static bool logged(db *d, const char *id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM inbox_log WHERE activity_id=:id");
    if (!st)
        return true; /* unknown: take the full path */
    db_bind_text(st, ":id", id);
    bool seen = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return seen;
}

static bool following(db *d, const char *actor)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT 1 FROM following WHERE actor_id=:a AND state IN ('accepted','pending')");
    if (!st)
        return false;
    db_bind_text(st, ":a", actor);
    bool f = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return f;
}

static void set_outcome(db *d, const char *id, const char *outcome)
{
    sqlite3_stmt *st = db_stmt(d, "UPDATE inbox_log SET outcome=:o WHERE activity_id=:id");
    if (st) {
        db_bind_text(st, ":o", outcome);
        db_bind_text(st, ":id", id);
        db_exec_stmt(st);
    }
}

/* Which local actor a URL names: "" for the node's actor, the code for one
 * of the state's Group actors (BASE/groups/HF1). False when none. */
static bool local_of(db *d, const fed_ctx *ctx, const char *target, char *local, size_t len)
{
    if (!target)
        return false;
    if (!strcmp(target, ctx->actor)) {
        local[0] = '\0';
        return true;
    }
    char prefix[FED_URL + 16];
    snprintf(prefix, sizeof prefix, "%s/groups/", ctx->cfg->base_url);
    size_t pl = strlen(prefix);
    if (strcmp(ctx->cfg->role, "state") || strncmp(target, prefix, pl) || strlen(target + pl) > 8)
        return false;
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM taxonomy WHERE code=:c AND retired=0");
    if (!st)
        return false;
    db_bind_text(st, ":c", target + pl);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    if (ok)
        snprintf(local, len, "%s", target + pl);
    return ok;
}

/* Follow: store the follower and answer Accept (or hold it for approval). */
static int on_follow(db *d, const fed_ctx *ctx, const json_t *act, const remote_actor *who,
                     const char **outcome)
{
    char local[16];
    if (!local_of(d, ctx, id_of(json_object_get(act, "object")), local, sizeof local)) {
        *outcome = "ignored: follows someone else";
        return 0;
    }
    fed_ctx as;
    fed_ctx_local(ctx, local, &as);
    /* Groups accept every follow (FEP-1b12); the node's actor may hold
     * follows for approval. */
    bool manual = ctx->cfg->manual_approve && !local[0];
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO followers(local, actor_id, inbox, shared_inbox, follow_id, state, created) "
           "VALUES(:local, :a, :inbox, :shared, :fid, :state, :now) ON CONFLICT(local, actor_id) "
           "DO UPDATE SET inbox=excluded.inbox, shared_inbox=excluded.shared_inbox, "
           "follow_id=excluded.follow_id, state=CASE WHEN state='accepted' THEN 'accepted' "
           "ELSE excluded.state END");
    if (!st)
        return -1;
    db_bind_text(st, ":local", local);
    db_bind_text(st, ":a", who->id);
    db_bind_text(st, ":inbox", who->inbox);
    db_bind_text(st, ":shared", who->shared_inbox[0] ? who->shared_inbox : NULL);
    db_bind_text(st, ":fid", util_jstr(act, "id"));
    db_bind_text(st, ":state", manual ? "pending" : "accepted");
    db_bind_text(st, ":now", now);
    if (db_exec_stmt(st))
        return -1;
    if (manual) {
        *outcome = "follow pending approval";
        return 0;
    }
    json_t *follow = json_pack("{s:s, s:s, s:s, s:s}", "id", util_jstr(act, "id"), "type", "Follow",
                               "actor", who->id, "object", as.actor);
    json_t *accept = as2_direct_activity(&as, "Accept", follow, who->id);
    char *txt = accept ? json_dumps(accept, JSON_COMPACT) : NULL;
    int rc = txt ? outbox_enqueue(d, local, util_jstr(accept, "id"), txt, who->inbox) : -1;
    free(txt);
    json_decref(accept);
    *outcome = "follow accepted";
    return rc;
}

static int on_undo(db *d, const fed_ctx *ctx, const json_t *act, const remote_actor *who,
                   const char **outcome)
{
    const json_t *obj = json_object_get(act, "object");
    const char *otype = util_jstr(obj, "type");
    if (otype && strcmp(otype, "Follow")) {
        *outcome = "ignored: undo of something other than a Follow";
        return 0;
    }
    /* The undone Follow names whom it followed; by id only, it is found
     * among the stored follows. */
    char local[16];
    bool by_target = local_of(d, ctx, id_of(json_object_get(obj, "object")), local, sizeof local);
    sqlite3_stmt *st =
        by_target ? db_stmt(d, "DELETE FROM followers WHERE actor_id=:a AND local=:local")
                  : db_stmt(d, "DELETE FROM followers WHERE actor_id=:a AND follow_id=:fid");
    if (!st)
        return -1;
    db_bind_text(st, ":a", who->id);
    if (by_target)
        db_bind_text(st, ":local", local);
    else
        db_bind_text(st, ":fid", id_of(obj));
    if (db_exec_stmt(st))
        return -1;
    *outcome = sqlite3_changes(db_handle(d)) ? "unfollowed" : "ignored: was not following";
    return 0;
}

static int on_accept_reject(db *d, const json_t *act, const remote_actor *who, bool accept,
                            const char **outcome)
{
    const json_t *obj = json_object_get(act, "object");
    const char *fid = id_of(obj);
    char now[21];
    util_now_iso(now);
    /* Match our Follow by id, or by the actor when the object is inline
     * without an id. */
    sqlite3_stmt *st = db_stmt(d, "UPDATE following SET state=:s, updated=:now "
                                  "WHERE actor_id=:a AND (follow_id=:fid OR :fid IS NULL)");
    if (!st)
        return -1;
    db_bind_text(st, ":s", accept ? "accepted" : "rejected");
    db_bind_text(st, ":now", now);
    db_bind_text(st, ":a", who->id);
    db_bind_text(st, ":fid", fid);
    if (db_exec_stmt(st))
        return -1;
    *outcome = sqlite3_changes(db_handle(d)) ? (accept ? "follow accepted by them"
                                                       : "follow rejected by them")
                                             : "ignored: no matching follow";
    return 0;
}

static long long version_of(const json_t *obj)
{
    const json_t *v = json_object_get(obj, "recordVersion");
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Create/Update/Delete/Announce from an actor we follow. */
static int on_content(db *d, const json_t *act, const char *type, const remote_actor *who,
                      const char *raw, const char **outcome)
{
    if (!following(d, who->id)) {
        *outcome = "ignored: not following this actor";
        return 0;
    }
    const json_t *obj = json_object_get(act, "object");
    const char *oid = id_of(obj);
    if (!oid) {
        *outcome = "ignored: object without id";
        return 0;
    }
    /* An actor may only speak for objects on its own host. Announce is
     * the exception: it shares someone else's object. */
    if (strcmp(type, "Announce") && !util_same_host(oid, who->id)) {
        *outcome = "ignored: object is not on the actor's host";
        return 0;
    }
    char now[21];
    util_now_iso(now);
    if (!strcmp(type, "Delete")) {
        sqlite3_stmt *st = db_stmt(
            d, "INSERT INTO remote_objects(id, actor, type, version, deleted, updated, object, "
               "activity) VALUES(:id, :a, 'Tombstone', :v, :now, :now, :obj, :act) "
               "ON CONFLICT(id) DO UPDATE SET deleted=:now, updated=:now, type='Tombstone', "
               "object=:obj, activity=:act, version=MAX(COALESCE(version, -1), :v) "
               "WHERE remote_objects.actor=:a");
        if (!st)
            return -1;
        char *otxt = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
        db_bind_text(st, ":id", oid);
        db_bind_text(st, ":a", who->id);
        db_bind_int(st, ":v", version_of(obj));
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":obj", otxt);
        db_bind_text(st, ":act", raw);
        int rc = db_exec_stmt(st);
        free(otxt);
        *outcome = "deleted";
        return rc;
    }
    if (!json_is_object(obj)) {
        *outcome = "noted: object by reference";
        return 0;
    }
    /* Versions only move forward, so duplicates and reordering are
     * harmless: an older Update arriving late changes nothing. */
    sqlite3_stmt *st = db_stmt(d, "SELECT version, deleted IS NOT NULL FROM remote_objects "
                                  "WHERE id=:id");
    if (!st)
        return -1;
    db_bind_text(st, ":id", oid);
    long long v = version_of(obj), have = -2;
    bool was_deleted = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        have = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
        was_deleted = sqlite3_column_int(st, 1);
    }
    db_done(st);
    if (have != -2 && (was_deleted || (v >= 0 && v <= have))) {
        *outcome = was_deleted ? "ignored: object was deleted" : "ignored: not newer";
        return 0;
    }
    char *otxt = json_dumps(obj, JSON_COMPACT);
    st = db_stmt(d, "INSERT INTO remote_objects(id, actor, type, version, updated, object, "
                    "activity) VALUES(:id, :a, :type, :v, :now, :obj, :act) "
                    "ON CONFLICT(id) DO UPDATE SET type=:type, version=:v, updated=:now, "
                    "object=:obj, activity=:act");
    int rc = -1;
    if (st && otxt) {
        db_bind_text(st, ":id", oid);
        db_bind_text(st, ":a", who->id);
        db_bind_text(st, ":type", util_jstr(obj, "type") ? util_jstr(obj, "type") : "Object");
        if (v >= 0)
            db_bind_int(st, ":v", v);
        else
            db_bind_text(st, ":v", NULL);
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":obj", otxt);
        db_bind_text(st, ":act", raw);
        rc = db_exec_stmt(st);
    }
    free(otxt);
    *outcome = have == -2 ? "stored" : "updated";
    return rc;
}

static bool is_type(const char *t, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(t, *list))
            return true;
    return false;
}

inbox_status inbox_receive(db *d, const fed_ctx *ctx, const inbox_request *req, inbox_result *res)
{
    memset(res, 0, sizeof *res);
    json_t *act = NULL;
    lookup_ctx lc = {.d = d, .ctx = ctx};
    inbox_status st;
    if (req->body_len > INBOX_MAX_BODY) {
        st = finish(res, INBOX_TOO_LARGE, C_TOO_LARGE, "activity larger than %d bytes",
                    INBOX_MAX_BODY);
        goto out;
    }
    json_error_t je;
    act = req->body ? json_loadb(req->body, req->body_len, 0, &je) : NULL;
    const char *id = util_jstr(act, "id"), *type = util_jstr(act, "type");
    const char *actor = id_of(json_object_get(act, "actor"));
    if (!act || !json_is_object(act) || !id || !type || !actor) {
        st = finish(res, INBOX_BAD_REQUEST, C_BAD_REQUEST,
                    "not an activity: needs a JSON object with id, type and actor");
        goto out;
    }
    snprintf(res->type, sizeof res->type, "%s", type);
    snprintf(res->actor, sizeof res->actor, "%s", actor);
    if (blocked(d, actor)) {
        st = finish(res, INBOX_FORBIDDEN, C_BLOCKED, "actor or domain is blocked");
        goto out;
    }

    for (int hi = 0; hi < nhooks; hi++) {
        char why[300] = "";
        if (hooks[hi].precheck && !logged(d, id) &&
            hooks[hi].precheck(hooks[hi].ud, d, act, type, why, sizeof why) == 1) {
            st = finish(res, INBOX_IGNORED, C_IGNORED, "%s", why);
            goto out;
        }
    }

    httpsig_request hr = {req->method, req->path,   req->query,   req->header,
                          req->header_ud, req->body, req->body_len};
    httpsig_result sr;
    httpsig_code code = httpsig_verify(&hr, lookup_key, &lc, 0, 3600, &sr);
    if (!lc.pinned && (code == HTTPSIG_BAD_SIGNATURE || (code == HTTPSIG_NO_KEY && lc.have))) {
        /* The key may have been rotated: fetch it once more. */
        lc.refresh = true;
        code = httpsig_verify(&hr, lookup_key, &lc, 0, 3600, &sr);
    }
    if (code != HTTPSIG_OK) {
        st = finish(res, INBOX_UNAUTHORIZED, C_BAD_SIGNATURE, "HTTP signature: %s%s%s",
                    sr.reason, lc.err[0] ? "; " : "", lc.err);
        goto out;
    }
    if (!lc.have || strcmp(lc.actor.id, actor) != 0) {
        st = finish(res, INBOX_UNAUTHORIZED, C_WRONG_ACTOR, "signed by %s, not by the actor",
                    lc.have ? lc.actor.id : "an unknown key");
        goto out;
    }
    if (json_object_get(act, "proof")) {
        const char *vm = proof_verification_method(act);
        int k = -1;
        for (int i = 0; vm && i < lc.actor.ned; i++)
            if (!strcmp(lc.actor.ed_id[i], vm))
                k = i;
        if (k < 0 && vm && !lc.pinned) {
            remote_actor_free(&lc.actor);
            lc.have = remote_actor_get(d, ctx, actor, true, &lc.actor, lc.err,
                                       sizeof lc.err) == 0;
            for (int i = 0; lc.have && i < lc.actor.ned; i++)
                if (!strcmp(lc.actor.ed_id[i], vm))
                    k = i;
        }
        char why[256] = "";
        /* Fedify and Mastodon add a Linked Data signature ("signature",
         * RsaSignature2017) after the proof was made; like Fedify's inbox,
         * verify the proof over the activity without it. */
        json_t *unsigned_act = json_copy(act);
        if (unsigned_act)
            json_object_del(unsigned_act, "signature");
        int prc = k < 0 || !unsigned_act
                      ? -1
                      : proof_verify(unsigned_act, lc.actor.ed_pk[k], why, sizeof why);
        json_decref(unsigned_act);
        if (prc != 0) {
            st = finish(res, INBOX_UNAUTHORIZED, C_BAD_PROOF, "proof: %s",
                        k < 0 ? "verificationMethod is not one of the actor's keys" : why);
            goto out;
        }
    }

    if (db_begin(d)) {
        st = finish(res, INBOX_ERROR, C_ERROR, "storage busy");
        goto out;
    }
    int fresh = log_activity(d, id, actor, type, "received", req->body, req->body_len);
    if (fresh < 0) {
        db_rollback(d);
        st = finish(res, INBOX_ERROR, C_ERROR, "storage failure");
        goto out;
    }
    if (fresh == 0) {
        db_rollback(d);
        st = finish(res, INBOX_DUPLICATE, C_DUPLICATE, "activity %s was processed already", id);
        goto out;
    }
    const char *outcome = "ignored";
    int rc = 0;
    static const char *const content[] = {"Create", "Update", "Delete", "Announce", NULL};
    if (!strcmp(type, "Follow"))
        rc = on_follow(d, ctx, act, &lc.actor, &outcome);
    else if (!strcmp(type, "Undo"))
        rc = on_undo(d, ctx, act, &lc.actor, &outcome);
    else if (!strcmp(type, "Accept") || !strcmp(type, "Reject"))
        rc = on_accept_reject(d, act, &lc.actor, !strcmp(type, "Accept"), &outcome);
    else {
        inbox_status hst = INBOX_ACCEPTED;
        char hreason[300] = "";
        int h = 0;
        for (int hi = 0; hi < nhooks && h == 0; hi++)
            if (hooks[hi].content)
                h = hooks[hi].content(hooks[hi].ud, d, act, type, &lc.actor, req->body, &hst,
                                      hreason, sizeof hreason);
        if (h == 1 && hst != INBOX_ACCEPTED && hst != INBOX_IGNORED) {
            /* Refused by the role's rules: nothing of it is kept. */
            db_rollback(d);
            st = finish(res, hst, hst == INBOX_FORBIDDEN ? C_BLOCKED : C_BAD_PROOF, "%s",
                        hreason);
            goto out;
        }
        if (h == 1) {
            snprintf(res->reason, sizeof res->reason, "%s", hreason);
            outcome = hst == INBOX_IGNORED ? "ignored: " : "";
            set_outcome(d, id, hreason);
            if (db_commit(d)) {
                db_rollback(d);
                st = finish(res, INBOX_ERROR, C_ERROR, "storage failure");
                goto out;
            }
            st = finish(res, hst, hst == INBOX_IGNORED ? C_IGNORED : C_ACCEPTED, "%s", hreason);
            goto out;
        }
        if (h < 0)
            rc = -1;
        else if (is_type(type, content))
            rc = on_content(d, act, type, &lc.actor, req->body, &outcome);
        else
            outcome = "ignored: this activity type is not handled";
    }
    if (rc == 0)
        set_outcome(d, id, outcome);
    if (rc || db_commit(d)) {
        db_rollback(d);
        st = finish(res, INBOX_ERROR, C_ERROR, "storage failure while handling %s", type);
        goto out;
    }
    if (!strncmp(outcome, "ignored", 7))
        st = finish(res, INBOX_IGNORED, C_IGNORED, "%s", outcome);
    else
        st = finish(res, INBOX_ACCEPTED, C_ACCEPTED, "%s", outcome);
out:
    if (lc.have)
        remote_actor_free(&lc.actor);
    json_decref(act);
    return st;
}
