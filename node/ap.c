/* ActivityPub routes; see ap.h. */
#include "ap.h"
#include "api.h"
#include "as2.h"
#include "delivery.h"
#include "inbox.h"
#include "log.h"
#include "net.h"
#include "outbox.h"
#include "portal.h"
#include "record.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fed_ctx ctx;
static bool ctx_ready;

static int publish_hook(db *d, rec_kind kind, const char *op, const json_t *doc, void *ud)
{
    (void)kind;
    (void)ud;
    return outbox_publish_record(d, &ctx, op, doc);
}

int ap_init(const config *cfg, char *err, size_t errlen)
{
    net_policy pol;
    if (net_policy_init(&pol, cfg->allow_private, err, errlen))
        return -1;
    if (fed_ctx_init(&ctx, cfg, err, errlen))
        return -1;
    remote_init(&pol);
    ctx_ready = true;
    record_set_publish_hook(publish_hook, NULL);
    outbox_set_wake(delivery_wake);
    delivery_set_retry_base_ms(cfg->retry_base_ms);
    return 0;
}

int ap_start_delivery(const char *db_path)
{
    return delivery_start(&ctx, db_path);
}

void ap_stop_delivery(void)
{
    delivery_stop();
}

void ap_shutdown(void)
{
    if (ctx_ready) {
        remote_cache_clear();
        record_set_publish_hook(NULL, NULL);
        fed_ctx_free(&ctx);
        ctx_ready = false;
    }
}

const fed_ctx *ap_ctx(void)
{
    return &ctx;
}

#define AS2_TYPE "application/activity+json; charset=utf-8"

static void as2(http_resp *resp, int status, json_t *j)
{
    http_json(resp, status, j);
    resp->ctype = AS2_TYPE;
    http_set_header(resp, "Vary", "Accept");
}

/* True when the client asks for ActivityStreams rather than HTML. */
static bool wants_as2(const http_req *req)
{
    const char *a = http_header(req, "Accept");
    if (!a)
        return false;
    return strstr(a, "application/activity+json") ||
           (strstr(a, "application/ld+json") && strstr(a, "activitystreams"));
}

static void h_webfinger(http_req *req, http_resp *resp)
{
    const char *res = http_query(req, "resource");
    json_t *j = res ? as2_webfinger(&ctx, res) : NULL;
    if (res && !j && !strcmp(req->cfg->role, "state")) {
        /* acct:hf3@host names the Group of HF3 on the state node. */
        const char *a = strncmp(res, "acct:", 5) == 0 ? res + 5 : NULL;
        const char *at = a ? strchr(a, '@') : NULL;
        char code[16] = "";
        if (at && at - a < 8 && !strcasecmp(at + 1, ctx.host)) {
            for (int i = 0; i < at - a; i++)
                code[i] = (char)(a[i] >= 'a' && a[i] <= 'z' ? a[i] - 'a' + 'A' : a[i]);
            code[at - a] = '\0';
            sqlite3_stmt *st = db_stmt(req->db, "SELECT 1 FROM taxonomy WHERE code=:c");
            bool ok = false;
            if (st) {
                db_bind_text(st, ":c", code);
                ok = sqlite3_step(st) == SQLITE_ROW;
                db_done(st);
            }
            if (ok) {
                fed_ctx g;
                fed_ctx_group(&ctx, code, &g);
                j = json_pack("{s:s, s:[s], s:[{s:s, s:s, s:s}]}", "subject", res, "aliases",
                              g.actor, "links", "rel", "self", "type",
                              "application/activity+json", "href", g.actor);
            }
        }
    }
    if (!res) {
        http_problem(resp, 400, "invalid-parameter", "resource missing",
                     "Ask for ?resource=acct:NAME@HOST.", "resource", NULL);
    } else if (!j) {
        http_problem(resp, 404, "not-found", "Unknown resource", NULL, "resource", NULL);
    } else {
        http_json(resp, 200, j);
        resp->ctype = "application/jrd+json; charset=utf-8";
    }
    http_set_header(resp, "Access-Control-Allow-Origin", "*");
}

static void h_nodeinfo_links(http_req *req, http_resp *resp)
{
    (void)req;
    http_json(resp, 200, as2_nodeinfo_links(&ctx));
    http_set_header(resp, "Access-Control-Allow-Origin", "*");
}

static long count_of(db *d, const char *sql)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    long n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    db_done(st);
    return n;
}

static void nodeinfo(http_req *req, http_resp *resp, const char *version)
{
    long users = count_of(req->db, "SELECT count(*) FROM users WHERE disabled=0");
    long posts = count_of(req->db, "SELECT count(*) FROM records WHERE deleted IS NULL");
    http_json(resp, 200, as2_nodeinfo(&ctx, version, users, posts));
    char ct[128];
    snprintf(ct, sizeof ct,
             "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/%s#\"",
             version);
    http_set_header(resp, "Access-Control-Allow-Origin", "*");
    resp->ctype = strcmp(version, "2.1") == 0
                      ? "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\""
                      : "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"";
}

static void h_nodeinfo21(http_req *req, http_resp *resp)
{
    nodeinfo(req, resp, "2.1");
}

static void h_nodeinfo20(http_req *req, http_resp *resp)
{
    nodeinfo(req, resp, "2.0");
}

static void h_actor(http_req *req, http_resp *resp)
{
    (void)req;
    as2(resp, 200, as2_actor(&ctx, false));
}

static void h_instance(http_req *req, http_resp *resp)
{
    (void)req;
    as2(resp, 200, as2_actor(&ctx, true));
}

static void h_context(http_req *req, http_resp *resp)
{
    (void)req;
    http_json(resp, 200, as2_context_document());
    resp->ctype = "application/ld+json; charset=utf-8";
    http_set_header(resp, "Access-Control-Allow-Origin", "*");
    http_set_header(resp, "Cache-Control", "public, max-age=86400");
}

static long long query_ll(const http_req *req, const char *name)
{
    const char *v = http_query(req, name);
    return v ? strtoll(v, NULL, 10) : 0;
}

/* A boolean query parameter: "true"/"1" or "false"/"0"; -1 for anything
 * else. Absent is false. */
static int query_bool(const http_req *req, const char *name)
{
    const char *v = http_query(req, name);
    if (!v || !strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    return !strcmp(v, "true") || !strcmp(v, "1") ? 1 : -1;
}

static void h_outbox(http_req *req, http_resp *resp)
{
    const char *page = http_query(req, "page");
    const char *object = http_query(req, "object");
    if (object) {
        /* The latest signed activity about one object: lets a follower
         * repair a single record with its proof. */
        char *a = outbox_latest_for(req->db, object);
        if (!a) {
            http_problem(resp, 404, "not-found", "No activity for this object", NULL, "object",
                         NULL);
            return;
        }
        resp->status = 200;
        resp->ctype = AS2_TYPE;
        buf_puts(&resp->body, a);
        free(a);
        return;
    }
    int latest = query_bool(req, "latest");
    if (latest < 0) {
        http_problem(resp, 400, "invalid-parameter", "Bad latest",
                     "latest must be true or false.", "latest", NULL);
        return;
    }
    long long after = http_query(req, "min_id") ? query_ll(req, "min_id") : -1;
    const char *after_id = http_query(req, "after");
    if (after_id) {
        after = outbox_seq_of(req->db, after_id);
        if (!after) {
            http_problem(resp, 404, "not-found", "Unknown activity",
                         "after must be the id of an activity in this outbox.", "after", NULL);
            return;
        }
    }
    json_t *c = outbox_collection(req->db, &ctx, page || after >= 0, query_ll(req, "max_id"),
                                  after, (int)query_ll(req, "limit"), latest == 1);
    if (!c) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        return;
    }
    as2(resp, 200, c);
}

static void collection_count(http_req *req, http_resp *resp, const char *id, const char *sql)
{
    long n = count_of(req->db, sql);
    as2(resp, 200,
        json_pack("{s:s, s:s, s:s, s:i}", "@context", "https://www.w3.org/ns/activitystreams",
                  "id", id, "type", "OrderedCollection", "totalItems", (int)n));
}

static void h_followers(http_req *req, http_resp *resp)
{
    /* Only the count is public; who follows is personal data. */
    collection_count(req, resp, ctx.followers,
                     "SELECT count(*) FROM followers WHERE state='accepted' AND local=''");
}

static void h_following(http_req *req, http_resp *resp)
{
    collection_count(req, resp, ctx.following,
                     "SELECT count(*) FROM following WHERE state='accepted'");
}

static void h_activity(http_req *req, http_resp *resp)
{
    char id[FED_URL + 64];
    snprintf(id, sizeof id, "%s/activities/%s", ctx.cfg->base_url, req->params[0]);
    char *a = outbox_activity(req->db, id);
    if (!a) {
        http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
        return;
    }
    resp->status = 200;
    resp->ctype = AS2_TYPE;
    buf_puts(&resp->body, a);
    free(a);
}

/* One URL per record: AS2 for fediverse clients, HTML for browsers. */
static void record_page(http_req *req, http_resp *resp, rec_kind kind)
{
    json_t *doc = NULL;
    rec_status rs = record_get(req->db, kind, req->params[0], &doc);
    if (rs == REC_NOT_FOUND && !wants_as2(req)) {
        portal_not_found(req, resp);
        return;
    }
    if (rs != REC_OK && rs != REC_GONE) {
        if (rs == REC_NOT_FOUND)
            http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
        else
            http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        return;
    }
    if (wants_as2(req)) {
        as2(resp, rs == REC_GONE ? 410 : 200, as2_object(&ctx, doc, true));
        json_decref(doc);
        return;
    }
    /* Browsers get the public portal's page of the record. */
    portal_record_page(req, resp, kind, doc, rs == REC_GONE);
    http_set_header(resp, "Vary", "Accept");
    json_decref(doc);
}

static void h_measure_page(http_req *req, http_resp *resp)
{
    record_page(req, resp, REC_MEASURE);
}

static void h_org_page(http_req *req, http_resp *resp)
{
    record_page(req, resp, REC_ORGANISATION);
}

static void h_progress_page(http_req *req, http_resp *resp)
{
    record_page(req, resp, REC_PROGRESS);
}

/* ---- inbox -------------------------------------------------------------- */

static const char *header_of(void *ud, const char *name)
{
    return http_header(ud, name);
}

static void h_inbox(http_req *req, http_resp *resp)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || (!strstr(ct, "activity+json") && !strstr(ct, "ld+json") &&
                !strstr(ct, "application/json"))) {
        http_problem(resp, 415, "unsupported-media-type", "Send application/activity+json", NULL,
                     "Content-Type", NULL);
        return;
    }
    const char *q = strchr(req->target, '?');
    inbox_request ir = {req->method, req->path, q ? q + 1 : NULL, header_of, req,
                        req->body,   req->body_len};
    inbox_result res;
    inbox_status st = inbox_receive(req->db, &ctx, &ir, &res);
    static const int codes[] = {202, 202, 202, 400, 401, 403, 413, 500};
    if (st == INBOX_ACCEPTED || st == INBOX_DUPLICATE || st == INBOX_IGNORED) {
        http_json(resp, 202, json_pack("{s:s, s:s}", "status",
                                       st == INBOX_ACCEPTED    ? "accepted"
                                       : st == INBOX_DUPLICATE ? "duplicate"
                                                               : "ignored",
                                       "detail", res.reason));
    } else {
        http_problem(resp, codes[st], "inbox", "Activity refused", res.reason, NULL, NULL);
    }
}

/* ---- federation admin API ------------------------------------------------- */

static json_t *rows(db *d, const char *sql, const char *bind_name, const char *bind_val)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = db_stmt(d, sql);
    if (!st)
        return arr;
    if (bind_name)
        db_bind_text(st, bind_name, bind_val);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                json_object_set_new(o, name, json_null());
            else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
                json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i)));
            else
                json_object_set_new(o, name,
                                    json_string((const char *)sqlite3_column_text(st, i)));
        }
        json_array_append_new(arr, o);
    }
    db_done(st);
    return arr;
}

static void h_fed_followers(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    http_json(resp, 200,
              json_pack("{s:o}", "items",
                        rows(req->db,
                             "SELECT actor_id AS actor, local AS followed, inbox, shared_inbox, "
                             "state, created FROM followers ORDER BY created DESC",
                             NULL, NULL)));
}

static void h_fed_following(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    http_json(resp, 200,
              json_pack("{s:o}", "items",
                        rows(req->db,
                             "SELECT actor_id AS actor, follow_id, state, created, updated "
                             "FROM following ORDER BY created DESC",
                             NULL, NULL)));
}

static const char *body_str(json_t *in, const char *k)
{
    return json_string_value(json_object_get(in, k));
}

static void h_fed_follow(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *target = body_str(in, "target");
    char actor[1024], err[512] = "";
    if (!target || !*target) {
        http_problem(resp, 422, "validation", "target required",
                     "An actor URL or a handle like name@host.", "target", NULL);
    } else if (ap_follow(req->db, target, actor, sizeof actor, err, sizeof err)) {
        http_problem(resp, 422, "validation", "Cannot follow", err, "target", NULL);
    } else {
        http_json(resp, 202, json_pack("{s:s, s:s}", "actor", actor, "state", "pending"));
    }
    json_decref(in);
}

static void h_fed_follower_action(http_req *req, http_resp *resp)
{
    /* {"actor": URL, "action": "approve"|"remove"|"block"} */
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *actor = body_str(in, "actor"), *action = body_str(in, "action");
    if (!actor || !action ||
        (strcmp(action, "approve") && strcmp(action, "remove") && strcmp(action, "block"))) {
        http_problem(resp, 422, "validation", "actor and action required",
                     "action is approve, remove or block", !actor ? "actor" : "action", NULL);
        json_decref(in);
        return;
    }
    int rc = db_begin(req->db);
    sqlite3_stmt *st = NULL;
    long changed = 0;
    char inbox[1024] = "", fid[1024] = "";
    if (!rc) {
        st = db_stmt(req->db,
                     "SELECT inbox, follow_id FROM followers WHERE actor_id=:a AND local=''");
        if (st) {
            db_bind_text(st, ":a", actor);
            if (sqlite3_step(st) == SQLITE_ROW) {
                snprintf(inbox, sizeof inbox, "%s", (const char *)sqlite3_column_text(st, 0));
                snprintf(fid, sizeof fid, "%s", (const char *)sqlite3_column_text(st, 1));
            }
            db_done(st);
        }
    }
    if (!rc && !strcmp(action, "approve")) {
        st = db_stmt(req->db, "UPDATE followers SET state='accepted' WHERE actor_id=:a AND "
                              "local='' AND "
                              "state='pending'");
        db_bind_text(st, ":a", actor);
        rc = db_exec_stmt(st);
        changed = sqlite3_changes(db_handle(req->db));
        if (!rc && changed) {
            json_t *acc = as2_direct_activity(
                &ctx, "Accept",
                json_pack("{s:s, s:s, s:s, s:s}", "id", fid, "type", "Follow", "actor", actor,
                          "object", ctx.actor),
                actor);
            char *txt = acc ? json_dumps(acc, JSON_COMPACT) : NULL;
            rc = txt ? outbox_enqueue(req->db, "", json_string_value(json_object_get(acc, "id")),
                                      txt, inbox)
                     : -1;
            free(txt);
            json_decref(acc);
        }
    } else if (!rc) {
        /* "remove" may name which of our actors it concerns ("followed": ""
         * for the node, or a Group code); a block ends every follow. */
        const char *followed = body_str(in, "followed");
        bool scoped = followed && !strcmp(action, "remove");
        st = db_stmt(req->db, scoped ? "DELETE FROM followers WHERE actor_id=:a AND local=:l"
                                     : "DELETE FROM followers WHERE actor_id=:a");
        db_bind_text(st, ":a", actor);
        if (scoped)
            db_bind_text(st, ":l", followed);
        rc = db_exec_stmt(st);
        changed = sqlite3_changes(db_handle(req->db));
        if (!rc && !strcmp(action, "block")) {
            char now[21];
            util_now_iso(now);
            st = db_stmt(req->db, "INSERT OR IGNORE INTO blocks(pattern, kind, created) "
                                  "VALUES(:p, 'actor', :now)");
            db_bind_text(st, ":p", actor);
            db_bind_text(st, ":now", now);
            rc = db_exec_stmt(st);
            changed = 1;
        }
    }
    if (rc || db_commit(req->db)) {
        db_rollback(req->db);
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    } else if (!changed) {
        http_problem(resp, 404, "not-found", "No such follower", NULL, "actor", NULL);
    } else {
        http_json(resp, 200, json_pack("{s:s, s:s}", "actor", actor, "done", action));
    }
    json_decref(in);
}

static void h_fed_blocks(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    http_json(resp, 200,
              json_pack("{s:o}", "items",
                        rows(req->db, "SELECT pattern, kind, created FROM blocks ORDER BY created",
                             NULL, NULL)));
}

static void h_fed_block_add(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *pattern = body_str(in, "pattern"), *kind = body_str(in, "kind");
    if (!kind || (strcmp(kind, "actor") && strcmp(kind, "domain"))) {
        http_problem(resp, 422, "validation", "kind is actor or domain", NULL, "kind", NULL);
    } else if (!pattern || !*pattern || strlen(pattern) > 1000 ||
               (!strcmp(kind, "actor") && strncmp(pattern, "http", 4)) ||
               (!strcmp(kind, "domain") && strpbrk(pattern, "/:@ "))) {
        http_problem(resp, 422, "validation", "Bad pattern",
                     "An actor URL, or a domain name like spam.example.", "pattern", NULL);
    } else {
        char now[21];
        util_now_iso(now);
        sqlite3_stmt *st = db_stmt(req->db, "INSERT OR REPLACE INTO blocks(pattern, kind, created) "
                                            "VALUES(:p, :k, :now)");
        db_bind_text(st, ":p", pattern);
        db_bind_text(st, ":k", kind);
        db_bind_text(st, ":now", now);
        if (db_exec_stmt(st))
            http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        else
            http_json(resp, 201, json_pack("{s:s, s:s}", "pattern", pattern, "kind", kind));
    }
    json_decref(in);
}

static void h_fed_block_del(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    const char *pattern = http_query(req, "pattern");
    sqlite3_stmt *st = db_stmt(req->db, "DELETE FROM blocks WHERE pattern=:p");
    db_bind_text(st, ":p", pattern);
    if (!pattern || db_exec_stmt(st) || sqlite3_changes(db_handle(req->db)) == 0)
        http_problem(resp, 404, "not-found", "No such block", NULL, "pattern", NULL);
    else
        http_json(resp, 200, json_pack("{s:s}", "removed", pattern));
}

static void h_fed_deliveries(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    const char *state = http_query(req, "state");
    if (state && strcmp(state, "pending") && strcmp(state, "failed") && strcmp(state, "done") &&
        strcmp(state, "superseded")) {
        http_problem(resp, 400, "invalid-parameter", "Bad state",
                     "state is pending, failed, done or superseded", "state", NULL);
        return;
    }
    const char *l = http_query(req, "limit");
    int limit = l ? atoi(l) : 100;
    if (limit < 1 || limit > 1000) {
        http_problem(resp, 400, "invalid-parameter", "Bad limit", "limit must be 1-1000.",
                     "limit", NULL);
        return;
    }
    json_t *j = delivery_summary(req->db);
    json_object_set_new(j, "items", delivery_list(req->db, state ? state : "failed", limit));
    http_json(resp, 200, j);
}

static void h_fed_retry(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    long long id = strtoll(req->params[0], NULL, 10);
    if (delivery_retry(req->db, id))
        http_problem(resp, 404, "not-found", "No failed delivery with this id", NULL, NULL, NULL);
    else
        http_json(resp, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "pending"));
}

static void h_fed_remote(http_req *req, http_resp *resp)
{
    /* What the actors we follow published (latest state per object). */
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    const char *actor = http_query(req, "actor");
    json_t *items =
        actor ? rows(req->db,
                     "SELECT id, actor, type, version, deleted, updated, object FROM "
                     "remote_objects WHERE actor=:a ORDER BY updated DESC LIMIT 500",
                     ":a", actor)
              : rows(req->db,
                     "SELECT id, actor, type, version, deleted, updated, object FROM "
                     "remote_objects ORDER BY updated DESC LIMIT 500",
                     NULL, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e)
    {
        json_t *o = json_loads(json_string_value(json_object_get(e, "object")), JSON_DECODE_ANY,
                               NULL);
        json_object_set_new(e, "object", o ? o : json_null());
    }
    http_json(resp, 200, json_pack("{s:o}", "items", items));
}

int ap_follow(db *d, const char *target, char *actor_out, size_t actor_len, char *err,
              size_t errlen)
{
    char url[1024];
    if (strncmp(target, "http://", 7) && strncmp(target, "https://", 8)) {
        if (remote_webfinger(&ctx, target, url, sizeof url, err, errlen))
            return -1;
    } else {
        snprintf(url, sizeof url, "%s", target);
    }
    remote_actor a;
    if (remote_actor_get(d, &ctx, url, true, &a, err, errlen))
        return -1;
    if (!strcmp(a.id, ctx.actor)) {
        snprintf(err, errlen, "a node cannot follow itself");
        remote_actor_free(&a);
        return -1;
    }
    json_t *follow = as2_direct_activity(&ctx, "Follow", json_string(a.id), a.id);
    char *txt = follow ? json_dumps(follow, JSON_COMPACT) : NULL;
    const char *fid = json_string_value(json_object_get(follow, "id"));
    char now[21];
    util_now_iso(now);
    int rc = -1;
    if (txt && db_begin(d) == 0) {
        sqlite3_stmt *st = db_stmt(
            d, "INSERT INTO following(actor_id, follow_id, state, created, updated) "
               "VALUES(:a, :fid, 'pending', :now, :now) ON CONFLICT(actor_id) DO UPDATE SET "
               "follow_id=:fid, state=CASE WHEN state='accepted' THEN 'accepted' ELSE "
               "'pending' END, updated=:now");
        if (st) {
            db_bind_text(st, ":a", a.id);
            db_bind_text(st, ":fid", fid);
            db_bind_text(st, ":now", now);
            rc = db_exec_stmt(st);
        }
        if (!rc)
            rc = outbox_enqueue(d, "", fid, txt, a.inbox);
        if (rc || db_commit(d)) {
            db_rollback(d);
            rc = -1;
            snprintf(err, errlen, "storage failure");
        }
    }
    if (!rc)
        snprintf(actor_out, actor_len, "%s", a.id);
    free(txt);
    json_decref(follow);
    remote_actor_free(&a);
    return rc;
}

int ap_unfollow(db *d, const char *actor_id, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT follow_id FROM following WHERE actor_id=:a");
    if (!st)
        return -1;
    db_bind_text(st, ":a", actor_id);
    char fid[1100] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(fid, sizeof fid, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    if (!fid[0])
        return 0; /* not following */
    remote_actor a;
    if (remote_actor_get(d, &ctx, actor_id, false, &a, err, errlen))
        return -1;
    json_t *follow = json_pack("{s:s, s:s, s:s, s:s}", "id", fid, "type", "Follow", "actor",
                               ctx.actor, "object", actor_id);
    json_t *undo = as2_direct_activity(&ctx, "Undo", follow, actor_id);
    char *txt = undo ? json_dumps(undo, JSON_COMPACT) : NULL;
    int rc = -1;
    if (txt && db_begin(d) == 0) {
        st = db_stmt(d, "DELETE FROM following WHERE actor_id=:a");
        rc = st ? 0 : -1;
        if (st) {
            db_bind_text(st, ":a", actor_id);
            rc = db_exec_stmt(st);
        }
        if (!rc)
            rc = outbox_enqueue(d, "", json_string_value(json_object_get(undo, "id")), txt, a.inbox);
        if (rc || db_commit(d)) {
            db_rollback(d);
            rc = -1;
            snprintf(err, errlen, "storage failure");
        }
    }
    free(txt);
    json_decref(undo);
    remote_actor_free(&a);
    return rc;
}

int ap_follow_registered(db *d, const char *actor_url, char *actor_out, size_t actor_len,
                         char *err, size_t errlen)
{
    return ap_follow(d, actor_url, actor_out, actor_len, err, errlen);
}

int ap_rotate_keys(db *d, const config *cfg, char *err, size_t errlen)
{
    char kdir[1100];
    fed_keys_dir(cfg, kdir, sizeof kdir);
    if (fed_keys_rotate(kdir)) {
        snprintf(err, errlen, "cannot rotate the keys in %s", kdir);
        return -1;
    }
    /* Build the actor with the new keys, then sign the Update with the old
     * ones, so followers can trust the change. */
    fed_ctx newc, oldc;
    if (fed_ctx_init(&newc, cfg, err, errlen))
        return -1;
    char olddir[1200];
    snprintf(olddir, sizeof olddir, "%s/old", kdir);
    oldc = newc;
    oldc.rsa_public_pem = NULL;
    oldc.ed_multibase = NULL;
    if (fed_keys_load(olddir, &oldc.keys)) {
        fed_ctx_free(&newc);
        snprintf(err, errlen, "cannot load the old keys from %s", olddir);
        return -1;
    }
    json_t *actor = as2_actor(&newc, false);
    json_object_del(actor, "@context");
    json_t *upd = as2_activity(&oldc, "Update", actor);
    int rc = -1;
    if (upd && db_begin(d) == 0) {
        rc = outbox_append(d, &oldc, upd);
        if (rc || db_commit(d)) {
            db_rollback(d);
            rc = -1;
        }
    }
    if (rc)
        snprintf(err, errlen, "keys rotated, but the Update could not be queued");
    json_decref(upd);
    fed_keys_free(&oldc.keys);
    fed_ctx_free(&newc);
    return rc;
}

/* ---- the state's Group actors (one per field of action and theme) -------- */

/* Resolves /groups/CODE on the state node; answers 404 otherwise. */
static bool group_view(http_req *req, http_resp *resp, fed_ctx *g, char *name, size_t namelen)
{
    const char *code = req->params[0];
    bool ok = !strcmp(req->cfg->role, "state") && strlen(code) <= 8;
    if (ok) {
        sqlite3_stmt *st = db_stmt(req->db, "SELECT name_de, kind FROM taxonomy WHERE code=:c "
                                            "AND retired=0");
        ok = false;
        if (st) {
            db_bind_text(st, ":c", code);
            if (sqlite3_step(st) == SQLITE_ROW) {
                ok = true;
                snprintf(name, namelen, "%s %s: %s",
                         strcmp((const char *)sqlite3_column_text(st, 1), "field")
                             ? "Querschnittsthema"
                             : "Handlungsfeld",
                         code, (const char *)sqlite3_column_text(st, 0));
            }
            db_done(st);
        }
    }
    if (!ok) {
        http_problem(resp, 404, "not-found", "No such group",
                     "Groups exist on the state node, one per field of action and theme.", NULL,
                     NULL);
        return false;
    }
    fed_ctx_group(&ctx, code, g);
    return true;
}

static void h_group(http_req *req, http_resp *resp)
{
    fed_ctx g;
    char name[400];
    if (!group_view(req, resp, &g, name, sizeof name))
        return;
    json_t *a = as2_actor(&g, false);
    char handle[16];
    snprintf(handle, sizeof handle, "%s", g.local);
    for (char *p = handle; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    char summary[600];
    snprintf(summary, sizeof summary,
             "<p>Teilt die Maßnahmen aller Kreise zum %s (Landesintegrationskonzept "
             "Sachsen-Anhalt).</p>",
             name);
    json_object_set_new(a, "type", json_string("Group"));
    json_object_set_new(a, "preferredUsername", json_string(handle));
    json_object_set_new(a, "name", json_string(name));
    json_object_set_new(a, "summary", json_string(summary));
    json_object_set_new(a, "manuallyApprovesFollowers", json_false());
    json_object_del(a, "attachment");
    as2(resp, 200, a);
}

static void h_group_outbox(http_req *req, http_resp *resp)
{
    fed_ctx g;
    char name[400];
    if (!group_view(req, resp, &g, name, sizeof name))
        return;
    const char *page = http_query(req, "page");
    long long after = http_query(req, "min_id") ? query_ll(req, "min_id") : -1;
    json_t *c = outbox_collection(req->db, &g, page || after >= 0, query_ll(req, "max_id"), after,
                                  (int)query_ll(req, "limit"), query_bool(req, "latest") == 1);
    if (c)
        as2(resp, 200, c);
    else
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
}

static void h_group_followers(http_req *req, http_resp *resp)
{
    fed_ctx g;
    char name[400];
    if (!group_view(req, resp, &g, name, sizeof name))
        return;
    sqlite3_stmt *st =
        db_stmt(req->db, "SELECT count(*) FROM followers WHERE state='accepted' AND local=:l");
    long n = 0;
    if (st) {
        db_bind_text(st, ":l", g.local);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        db_done(st);
    }
    as2(resp, 200,
        json_pack("{s:s, s:s, s:s, s:i}", "@context", "https://www.w3.org/ns/activitystreams",
                  "id", g.followers, "type", "OrderedCollection", "totalItems", (int)n));
}

static void h_group_inbox(http_req *req, http_resp *resp)
{
    fed_ctx g;
    char name[400];
    if (!group_view(req, resp, &g, name, sizeof name))
        return;
    h_inbox(req, resp);
}

const http_route ap_routes[] = {
    {"GET", "/groups/*", h_group},
    {"GET", "/groups/*/outbox", h_group_outbox},
    {"GET", "/groups/*/followers", h_group_followers},
    {"POST", "/groups/*/inbox", h_group_inbox},
    {"POST", "/actor/inbox", h_inbox},
    {"POST", "/inbox", h_inbox},
    {"GET", "/api/v1/federation/followers", h_fed_followers},
    {"POST", "/api/v1/federation/followers", h_fed_follower_action},
    {"GET", "/api/v1/federation/following", h_fed_following},
    {"POST", "/api/v1/federation/following", h_fed_follow},
    {"GET", "/api/v1/federation/blocks", h_fed_blocks},
    {"POST", "/api/v1/federation/blocks", h_fed_block_add},
    {"DELETE", "/api/v1/federation/blocks", h_fed_block_del},
    {"GET", "/api/v1/federation/deliveries", h_fed_deliveries},
    {"POST", "/api/v1/federation/deliveries/*/retry", h_fed_retry},
    {"GET", "/api/v1/federation/objects", h_fed_remote},
    {"GET", "/.well-known/webfinger", h_webfinger},
    {"GET", "/.well-known/nodeinfo", h_nodeinfo_links},
    {"GET", "/nodeinfo/2.1", h_nodeinfo21},
    {"GET", "/nodeinfo/2.0", h_nodeinfo20},
    {"GET", "/actor", h_actor},
    {"GET", "/instance", h_instance},
    {"GET", "/ns/v1", h_context},
    {"GET", "/actor/outbox", h_outbox},
    {"GET", "/actor/followers", h_followers},
    {"GET", "/actor/following", h_following},
    {"GET", "/activities/*", h_activity},
    {"GET", "/measures/*", h_measure_page},
    {"GET", "/organisations/*", h_org_page},
    {"GET", "/progress/*", h_progress_page},
    {NULL, NULL, NULL},
};
