/* Outbox; see outbox.h. */
#include "outbox.h"
#include "as2.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void (*wake_fn)(void);

void outbox_set_wake(void (*wake)(void))
{
    wake_fn = wake;
}

int outbox_enqueue(db *d, const char *local, const char *activity_id, const char *activity_json,
                   const char *inbox)
{
    sqlite3_stmt *st =
        db_stmt(d, "INSERT INTO deliveries(activity_id, activity, inbox, state, created, "
                   "next_attempt, local) VALUES(:aid, :act, :inbox, 'pending', :now, :now, :local)");
    if (!st)
        return -1;
    db_bind_text(st, ":local", local ? local : "");
    db_bind_text(st, ":aid", activity_id);
    db_bind_text(st, ":act", activity_json);
    db_bind_text(st, ":inbox", inbox);
    db_bind_int(st, ":now", (long long)time(NULL));
    int rc = db_exec_stmt(st);
    if (!rc && wake_fn)
        db_after_commit(d, wake_fn);
    return rc;
}

int outbox_append(db *d, const fed_ctx *ctx, const json_t *activity)
{
    char *txt = json_dumps(activity, JSON_COMPACT);
    const json_t *obj = json_object_get(activity, "object");
    const char *oid = json_is_string(obj) ? json_string_value(obj)
                                          : json_string_value(json_object_get(obj, "id"));
    int rc = -1;
    if (!txt)
        return -1;
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO outbox(activity_id, type, object_id, published, "
                                  "activity, local) VALUES(:id, :type, :oid, :pub, :act, :local)");
    if (!st)
        goto out;
    db_bind_text(st, ":local", ctx->local);
    db_bind_text(st, ":id", json_string_value(json_object_get(activity, "id")));
    db_bind_text(st, ":type", json_string_value(json_object_get(activity, "type")));
    db_bind_text(st, ":oid", oid);
    db_bind_text(st, ":pub", json_string_value(json_object_get(activity, "published")));
    db_bind_text(st, ":act", txt);
    if (db_exec_stmt(st))
        goto out;
    /* One delivery per distinct inbox: followers on the same server share
     * its shared inbox, so a server with 10,000 followers gets one POST. */
    st = db_stmt(d, "INSERT INTO deliveries(activity_id, activity, inbox, state, created, "
                    "next_attempt, local) SELECT :aid, :act, ib, 'pending', :now, :now, :local FROM "
                    "(SELECT DISTINCT COALESCE(shared_inbox, inbox) AS ib FROM followers "
                    "WHERE state='accepted' AND local=:local)");
    if (!st)
        goto out;
    db_bind_text(st, ":local", ctx->local);
    db_bind_text(st, ":aid", json_string_value(json_object_get(activity, "id")));
    db_bind_text(st, ":act", txt);
    db_bind_int(st, ":now", (long long)time(NULL));
    if (db_exec_stmt(st))
        goto out;
    const char *type = json_string_value(json_object_get(activity, "type"));
    if (oid && type && (!strcmp(type, "Update") || !strcmp(type, "Delete")) &&
        strcmp(oid, ctx->actor)) {
        /* An Update still waiting for an inbox that now gets a newer Update
         * or the Delete of the same object would only be ignored there (or
         * overwritten at once): it is not retried. After an outage a
         * follower gets each object's newest state instead of every step.
         * Updates of the actor itself (key rotations: each signed by the
         * key before it) are never superseded. The query starts from the
         * object's few outbox rows, never from the pending queue, which is
         * long exactly when this matters. */
        st = db_stmt(d, "UPDATE deliveries SET state='superseded', last_error='superseded by ' || :aid "
                        "WHERE id IN (SELECT dl.id FROM outbox o INDEXED BY outbox_object "
                        "JOIN deliveries dl INDEXED BY deliveries_activity "
                        "ON dl.activity_id=o.activity_id WHERE o.object_id=:oid AND o.local=:local "
                        "AND o.type='Update' AND o.activity_id != :aid AND dl.state='pending' "
                        "AND dl.inbox IN (SELECT inbox FROM deliveries WHERE activity_id=:aid))");
        if (!st)
            goto out;
        db_bind_text(st, ":aid", json_string_value(json_object_get(activity, "id")));
        db_bind_text(st, ":local", ctx->local);
        db_bind_text(st, ":oid", oid);
        if (db_exec_stmt(st))
            goto out;
    }
    if (wake_fn)
        db_after_commit(d, wake_fn);
    rc = 0;
out:
    free(txt);
    return rc;
}

int outbox_publish_record(db *d, const fed_ctx *ctx, const char *op, const json_t *doc)
{
    const char *type = !strcmp(op, "create") ? "Create" : !strcmp(op, "update") ? "Update"
                                                                                 : "Delete";
    json_t *obj = as2_object(ctx, doc, false);
    if (!obj)
        return -1;
    json_t *act = as2_activity(ctx, type, obj);
    if (!act) {
        log_event(LOG_ERROR, "outbox.sign_failed", NULL);
        return -1;
    }
    int rc = outbox_append(d, ctx, act);
    json_decref(act);
    return rc;
}

long long outbox_seq_of(db *d, const char *activity_id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT seq FROM outbox WHERE activity_id=:id");
    if (!st)
        return 0;
    db_bind_text(st, ":id", activity_id);
    long long seq = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return seq;
}

char *outbox_latest_for(db *d, const char *object_id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT activity FROM outbox WHERE object_id=:o AND local='' "
                                  "AND type IN ('Create','Update','Delete') "
                                  "ORDER BY seq DESC LIMIT 1");
    if (!st)
        return NULL;
    db_bind_text(st, ":o", object_id);
    char *out = sqlite3_step(st) == SQLITE_ROW ? strdup((const char *)sqlite3_column_text(st, 0))
                                               : NULL;
    db_done(st);
    return out;
}

char *outbox_activity(db *d, const char *activity_id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT activity FROM outbox WHERE activity_id=:id");
    if (!st)
        return NULL;
    db_bind_text(st, ":id", activity_id);
    char *out = sqlite3_step(st) == SQLITE_ROW ? strdup((const char *)sqlite3_column_text(st, 0))
                                               : NULL;
    db_done(st);
    return out;
}

json_t *outbox_collection(db *d, const fed_ctx *ctx, bool page, long long max_seq,
                          long long after_seq, int limit, bool latest)
{
    latest = latest && after_seq >= 0;
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM outbox WHERE local=:local");
    long long total = 0;
    if (st) {
        db_bind_text(st, ":local", ctx->local);
        if (sqlite3_step(st) == SQLITE_ROW)
            total = sqlite3_column_int64(st, 0);
    }
    db_done(st);
    char first[FED_URL + 32];
    snprintf(first, sizeof first, "%s?page=true", ctx->outbox);
    if (!page)
        return json_pack("{s:s, s:s, s:s, s:I, s:s}", "@context",
                         "https://www.w3.org/ns/activitystreams", "id", ctx->outbox, "type",
                         "OrderedCollection", "totalItems", (json_int_t)total, "first", first);
    if (limit < 1 || limit > 100)
        limit = 20;
    if (latest)
        st = db_stmt(d, "SELECT o.seq, o.activity FROM outbox o WHERE o.seq > :after AND "
                        "o.local=:local AND (o.type NOT IN ('Create','Update') OR "
                        "o.object_id IS NULL OR o.object_id=:actor OR NOT EXISTS("
                        "SELECT 1 FROM outbox n INDEXED BY outbox_object WHERE n.object_id=o.object_id AND n.seq > o.seq "
                        "AND n.local=o.local AND n.type IN ('Create','Update','Delete'))) "
                        "ORDER BY o.seq ASC LIMIT :limit");
    else if (after_seq >= 0)
        st = db_stmt(d, "SELECT seq, activity FROM outbox WHERE seq > :after AND local=:local "
                        "ORDER BY seq ASC LIMIT :limit");
    else if (max_seq > 0)
        st = db_stmt(d, "SELECT seq, activity FROM outbox WHERE seq < :max AND local=:local "
                        "ORDER BY seq DESC LIMIT :limit");
    else
        st = db_stmt(d, "SELECT seq, activity FROM outbox WHERE local=:local "
                        "ORDER BY seq DESC LIMIT :limit");
    if (!st)
        return NULL;
    db_bind_text(st, ":local", ctx->local);
    if (latest)
        db_bind_text(st, ":actor", ctx->actor);
    if (after_seq >= 0)
        db_bind_int(st, ":after", after_seq);
    else if (max_seq > 0)
        db_bind_int(st, ":max", max_seq);
    db_bind_int(st, ":limit", limit);
    json_t *items = json_array();
    long long last = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        json_t *a = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (a)
            json_array_append_new(items, a);
    }
    db_done(st);
    char self[FED_URL + 96], next[FED_URL + 96];
    /* The next page keeps the limit and latest of this one. */
    char lq[48];
    snprintf(lq, sizeof lq, "%s&limit=%d", latest ? "&latest=true" : "", limit);
    if (after_seq >= 0)
        snprintf(self, sizeof self, "%s?page=true&min_id=%lld%s", ctx->outbox, after_seq, lq);
    else if (max_seq > 0)
        snprintf(self, sizeof self, "%s?page=true&max_id=%lld", ctx->outbox, max_seq);
    else
        snprintf(self, sizeof self, "%s?page=true", ctx->outbox);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "@context",
                          "https://www.w3.org/ns/activitystreams", "id", self, "type",
                          "OrderedCollectionPage", "partOf", ctx->outbox, "totalItems",
                          (json_int_t)total, "orderedItems", items);
    if ((int)json_array_size(items) == limit) {
        if (after_seq >= 0)
            snprintf(next, sizeof next, "%s?page=true&min_id=%lld%s", ctx->outbox, last, lq);
        else
            snprintf(next, sizeof next, "%s?page=true&max_id=%lld%s", ctx->outbox, last, lq);
        json_object_set_new(p, "next", json_string(next));
    }
    return p;
}
