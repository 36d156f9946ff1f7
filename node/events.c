/* Events; see events.h. */
#include "events.h"
#include "util.h"
#include "aggregate.h"
#include "api.h"
#include "as2.h"
#include "district.h"
#include "inbox.h"
#include "log.h"
#include "outbox.h"
#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const fed_ctx *ectx;

#define MAX_NAME 200
#define MAX_CONTENT 10000
#define MAX_PLACE 200
#define MAX_ADDRESS 500

/* ---- AS2 ------------------------------------------------------------------ */

json_t *events_as2(const fed_ctx *ctx, const json_t *doc, bool with_context)
{
    const char *url = util_jstr(doc, "url");
    if (!url)
        return NULL;
    json_t *o = json_object();
    if (with_context)
        json_object_set_new(o, "@context", as2_context());
    json_object_set_new(o, "id", json_string(url));
    if (util_jstr(doc, "deleted")) {
        json_object_set_new(o, "type", json_string("Tombstone"));
        json_object_set_new(o, "formerType", json_string("Event"));
        json_object_set_new(o, "deleted", json_string(util_jstr(doc, "deleted")));
    } else {
        const json_t *loc = json_object_get(doc, "location");
        char *html = as2_html_paragraphs(util_jstr(doc, "content") ? util_jstr(doc, "content") : "");
        json_object_set_new(o, "type", json_string("Event"));
        json_object_set_new(o, "name", json_string(util_jstr(doc, "name")));
        json_object_set_new(o, "startTime", json_string(util_jstr(doc, "start_time")));
        json_object_set_new(o, "endTime", json_string(util_jstr(doc, "end_time")));
        json_t *place = json_pack("{s:s}", "type", "Place");
        json_object_set_new(place, "name",
                            json_string(util_jstr(loc, "name") ? util_jstr(loc, "name") : ""));
        json_object_set_new(place, "address",
                            json_string(util_jstr(loc, "address") ? util_jstr(loc, "address") : ""));
        json_object_set_new(o, "location", place);
        json_object_set_new(o, "content", json_string(html ? html : ""));
        json_object_set_new(o, "source",
                            json_pack("{s:s, s:s}", "content",
                                      util_jstr(doc, "content") ? util_jstr(doc, "content") : "",
                                      "mediaType", "text/plain"));
        json_object_set_new(o, "url", json_string(url));
        json_object_set_new(o, "attributedTo", json_string(ctx->actor));
        json_object_set_new(o, "published", json_string(util_jstr(doc, "created")));
        json_object_set_new(o, "updated", json_string(util_jstr(doc, "updated")));
        json_object_set_new(o, "to", json_pack("[s]", AS2_PUBLIC));
        json_object_set_new(o, "cc", json_pack("[s]", ctx->followers));
        free(html);
    }
    json_object_set_new(o, "districtCode",
                        json_string(util_jstr(doc, "district") ? util_jstr(doc, "district")
                                                          : ctx->cfg->district));
    json_object_set(o, "recordVersion", json_object_get(doc, "version"));
    return o;
}

/* ---- iCalendar (RFC 5545) --------------------------------------------------- */

/* Appends one content line, folded: no line longer than 75 octets, never
 * splitting a UTF-8 sequence; continuation lines start with one space. */
static void ics_line(buf *b, const char *line)
{
    size_t len = strlen(line), pos = 0, room = 75;
    while (len - pos > room) {
        size_t cut = pos + room;
        while (cut > pos && ((unsigned char)line[cut] & 0xC0) == 0x80)
            cut--;
        buf_append(b, line + pos, cut - pos);
        buf_puts(b, "\r\n ");
        pos = cut;
        room = 74;
    }
    buf_append(b, line + pos, len - pos);
    buf_puts(b, "\r\n");
}

/* TEXT value escaping: backslash, semicolon, comma and newlines. */
static void ics_text(buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '\\':
            buf_puts(b, "\\\\");
            break;
        case ';':
            buf_puts(b, "\\;");
            break;
        case ',':
            buf_puts(b, "\\,");
            break;
        case '\r':
            if (p[1] != '\n')
                buf_puts(b, "\\n");
            break;
        case '\n':
            buf_puts(b, "\\n");
            break;
        default:
            if ((unsigned char)*p >= 0x20 || *p == '\t')
                buf_append(b, p, 1);
        }
    }
}

/* "2026-12-01T09:00:00Z" → "20261201T090000Z". */
static void ics_time(buf *b, const char *iso)
{
    time_t t = iso ? util_parse_iso_time(iso) : (time_t)-1;
    if (t == (time_t)-1)
        t = 0;
    struct tm tm;
    gmtime_r(&t, &tm);
    char out[20];
    strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
    buf_puts(b, out);
}

static void ics_prop_text(buf *b, const char *name, const char *value)
{
    buf l;
    buf_init(&l);
    buf_puts(&l, name);
    buf_puts(&l, ":");
    ics_text(&l, value);
    ics_line(b, l.p ? l.p : "");
    buf_free(&l);
}

static void ics_prop_time(buf *b, const char *name, const char *iso)
{
    buf l;
    buf_init(&l);
    buf_puts(&l, name);
    buf_puts(&l, ":");
    ics_time(&l, iso);
    ics_line(b, l.p ? l.p : "");
    buf_free(&l);
}

void events_ics_vevent(buf *b, const json_t *doc)
{
    const json_t *loc = json_object_get(doc, "location");
    const char *ln = util_jstr(loc, "name"), *la = util_jstr(loc, "address");
    ics_line(b, "BEGIN:VEVENT");
    /* The URL is the event's one global identifier. */
    ics_prop_text(b, "UID", util_jstr(doc, "home_url") ? util_jstr(doc, "home_url") : util_jstr(doc, "url"));
    /* With METHOD, DTSTAMP is when this calendar was made (RFC 5545
     * 3.8.7.2); the event's own times are CREATED and LAST-MODIFIED. */
    char now[21];
    util_now_iso(now);
    ics_prop_time(b, "DTSTAMP", now);
    ics_prop_time(b, "CREATED", util_jstr(doc, "created"));
    ics_prop_time(b, "LAST-MODIFIED", util_jstr(doc, "updated"));
    ics_prop_time(b, "DTSTART", util_jstr(doc, "start_time"));
    ics_prop_time(b, "DTEND", util_jstr(doc, "end_time"));
    char seq[32];
    snprintf(seq, sizeof seq, "SEQUENCE:%lld",
             (long long)json_integer_value(json_object_get(doc, "version")));
    ics_line(b, seq);
    ics_prop_text(b, "SUMMARY", util_jstr(doc, "name"));
    if (util_jstr(doc, "content") && *util_jstr(doc, "content"))
        ics_prop_text(b, "DESCRIPTION", util_jstr(doc, "content"));
    if ((ln && *ln) || (la && *la)) {
        buf l;
        buf_init(&l);
        buf_printf(&l, "%s%s%s", ln ? ln : "", ln && *ln && la && *la ? ", " : "", la ? la : "");
        ics_prop_text(b, "LOCATION", l.p);
        buf_free(&l);
    }
    /* URI values are not TEXT: no escaping. */
    buf u;
    buf_init(&u);
    buf_printf(&u, "URL:%s", util_jstr(doc, "home_url") ? util_jstr(doc, "home_url") : util_jstr(doc, "url"));
    ics_line(b, u.p);
    buf_free(&u);
    ics_line(b, "END:VEVENT");
}

char *events_ics_calendar(const json_t *docs, const char *calname)
{
    buf b;
    buf_init(&b);
    ics_line(&b, "BEGIN:VCALENDAR");
    ics_line(&b, "VERSION:2.0");
    ics_line(&b, "PRODID:-//dinet//Digitales Integrationsnetzwerk Sachsen-Anhalt//DE");
    ics_line(&b, "CALSCALE:GREGORIAN");
    ics_line(&b, "METHOD:PUBLISH");
    ics_prop_text(&b, "X-WR-CALNAME", calname);
    size_t i;
    const json_t *e;
    json_array_foreach(docs, i, e)
    {
        events_ics_vevent(&b, e);
    }
    ics_line(&b, "END:VCALENDAR");
    return buf_take(&b);
}

/* ---- storage ------------------------------------------------------------------ */

json_t *events_get(db *d, const char *id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT doc FROM events WHERE id=:id");
    if (!st)
        return NULL;
    db_bind_text(st, ":id", id);
    json_t *j = sqlite3_step(st) == SQLITE_ROW
                    ? json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL)
                    : NULL;
    db_done(st);
    return j;
}

static json_t *list_where(db *d, const char *sql, const char *now, const char *dcode,
                          int limit)
{
    json_t *items = json_array();
    sqlite3_stmt *st = db_stmt(d, sql);
    if (!st)
        return items;
    if (now)
        db_bind_text(st, ":now", now);
    db_bind_text(st, ":d", dcode);
    db_bind_int(st, ":limit", limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *j = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        if (j)
            json_array_append_new(items, j);
    }
    db_done(st);
    return items;
}

json_t *events_list(db *d, bool past, int limit)
{
    char now[21];
    util_now_iso(now);
    return list_where(d,
                      past ? "SELECT doc FROM events WHERE deleted IS NULL AND end_time < :now "
                             "AND (:d IS NULL OR district=:d) ORDER BY start_time DESC LIMIT :limit"
                           : "SELECT doc FROM events WHERE deleted IS NULL AND end_time >= :now "
                             "AND (:d IS NULL OR district=:d) ORDER BY start_time, seq LIMIT :limit",
                      now, NULL, limit);
}

/* Normalises an RFC 3339 time to UTC "YYYY-MM-DDTHH:MM:SSZ"; false when
 * it does not parse. */
static bool norm_time(const char *in, char out[21])
{
    if (!in || strlen(in) > 40)
        return false;
    time_t t = util_parse_iso_time(in);
    if (t == (time_t)-1)
        return false;
    util_iso_time(t, out);
    return true;
}

static void add_error(json_t *errors, const char *field, const char *detail)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "detail", detail));
}

static bool text_ok(const json_t *v, size_t min, size_t max)
{
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = util_utf8_len(s);
    return n >= min && n <= max && strlen(s) == json_string_length(v);
}

/* Applies the fields of in onto doc (a new or stored document), checking
 * each; errors gets [{field, detail}]. */
static void apply_fields(json_t *doc, const json_t *in, json_t *errors, bool create)
{
    static const char *const known[] = {"name",    "start_time", "end_time", "location",
                                        "content", "id",         "type",     "version",
                                        "url",     "district",   "home_url", "created",
                                        "updated", "deleted",    NULL};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v)
    {
        bool ok = false;
        for (int i = 0; known[i]; i++)
            ok = ok || !strcmp(k, known[i]);
        if (!ok)
            add_error(errors, k, "unknown field");
    }
    v = json_object_get(in, "name");
    if (v || create) {
        if (!text_ok(v, 1, MAX_NAME))
            add_error(errors, "name", "required: 1 to 200 characters");
        else
            json_object_set(doc, "name", v);
    }
    const char *tf[] = {"start_time", "end_time"};
    for (int i = 0; i < 2; i++) {
        v = json_object_get(in, tf[i]);
        if (!v && !create)
            continue;
        char t[21];
        if (!norm_time(json_string_value(v), t))
            add_error(errors, tf[i], "required: a date and time like 2026-12-01T09:00:00Z");
        else
            json_object_set_new(doc, tf[i], json_string(t));
    }
    v = json_object_get(in, "content");
    if (v && !json_is_null(v)) {
        if (!text_ok(v, 0, MAX_CONTENT))
            add_error(errors, "content", "text of at most 10000 characters");
        else
            json_object_set(doc, "content", v);
    } else if (create || json_is_null(v)) {
        json_object_set_new(doc, "content", json_string(""));
    }
    v = json_object_get(in, "location");
    if (v && !json_is_null(v)) {
        const json_t *n = json_object_get(v, "name"), *a = json_object_get(v, "address");
        if (!json_is_object(v)) {
            add_error(errors, "location", "an object {name, address}");
        } else if (n && !json_is_null(n) && !text_ok(n, 0, MAX_PLACE)) {
            add_error(errors, "location.name", "at most 200 characters");
        } else if (a && !json_is_null(a) && !text_ok(a, 0, MAX_ADDRESS)) {
            add_error(errors, "location.address", "at most 500 characters");
        } else {
            json_object_set_new(
                doc, "location",
                json_pack("{s:s, s:s}", "name", json_is_string(n) ? json_string_value(n) : "",
                          "address", json_is_string(a) ? json_string_value(a) : ""));
        }
    } else if (create || json_is_null(v)) {
        json_object_set_new(doc, "location", json_pack("{s:s, s:s}", "name", "", "address", ""));
    }
    const char *s = util_jstr(doc, "start_time"), *e = util_jstr(doc, "end_time");
    if (s && e && strcmp(e, s) < 0 && json_array_size(errors) == 0)
        add_error(errors, "end_time", "must not be before start_time");
}

/* Writes doc (insert or update by id) and publishes op. In a transaction. */
static int save(db *d, const json_t *doc, const char *op)
{
    char *txt = json_dumps(doc, JSON_COMPACT);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO events(id, version, district, home_url, name, start_time, end_time, "
           "created, updated, deleted, doc) VALUES(:id, :v, :d, :home, :name, :s, :e, :c, :u, "
           ":del, :doc) ON CONFLICT(id) DO UPDATE SET version=:v, name=:name, start_time=:s, "
           "end_time=:e, updated=:u, deleted=:del, doc=:doc");
    int rc = -1;
    if (st && txt) {
        db_bind_text(st, ":id", util_jstr(doc, "id"));
        db_bind_int(st, ":v", json_integer_value(json_object_get(doc, "version")));
        db_bind_text(st, ":d", util_jstr(doc, "district"));
        db_bind_text(st, ":home", util_jstr(doc, "home_url"));
        db_bind_text(st, ":name", util_jstr(doc, "name") ? util_jstr(doc, "name") : "");
        db_bind_text(st, ":s", util_jstr(doc, "start_time") ? util_jstr(doc, "start_time") : "");
        db_bind_text(st, ":e", util_jstr(doc, "end_time") ? util_jstr(doc, "end_time") : "");
        db_bind_text(st, ":c", util_jstr(doc, "created"));
        db_bind_text(st, ":u", util_jstr(doc, "updated"));
        db_bind_text(st, ":del", util_jstr(doc, "deleted"));
        db_bind_text(st, ":doc", txt);
        rc = db_exec_stmt(st);
    } else if (st) {
        db_done(st);
    }
    free(txt);
    if (rc || !ectx)
        return rc;
    json_t *obj = events_as2(ectx, doc, false);
    const char *type = !strcmp(op, "create") ? "Create" : !strcmp(op, "update") ? "Update"
                                                                                 : "Delete";
    json_t *act = obj ? as2_activity(ectx, type, obj) : NULL;
    rc = act ? outbox_append(d, ectx, act) : -1;
    json_decref(act);
    return rc;
}

/* save() in a transaction of its own; -1 (rolled back) on any error. */
static int save_in_tx(db *d, const json_t *doc, const char *op)
{
    if (db_begin(d))
        return -1;
    if (save(d, doc, op) || db_commit(d)) {
        db_rollback(d);
        return -1;
    }
    return 0;
}

/* ---- the state's ingestion of districts' events -------------------------- */

static int events_ingest(db *d, const char *actor, const json_t *act, const char *raw,
                         int *status, char *reason, size_t rlen)
{
    const char *type = util_jstr(act, "type");
    if (!type || !ectx || strcmp(ectx->cfg->role, "state"))
        return 0;
    bool del = !strcmp(type, "Delete");
    if (strcmp(type, "Create") && strcmp(type, "Update") && !del)
        return 0;
    const json_t *obj = json_object_get(act, "object");
    const char *ot = util_jstr(obj, "type");
    if (!ot || !(!strcmp(ot, "Event") ||
                 (del && !strcmp(ot, "Tombstone") && util_jstr(obj, "formerType") &&
                  !strcmp(util_jstr(obj, "formerType"), "Event"))))
        return 0;
    *status = INBOX_FORBIDDEN;
    sqlite3_stmt *st = db_stmt(d, "SELECT code FROM districts WHERE actor_id=:a");
    if (!st)
        return -1;
    db_bind_text(st, ":a", actor);
    char code[16] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(code, sizeof code, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    if (!code[0]) {
        snprintf(reason, rlen, "%s is not a registered district", actor);
        return 1;
    }
    if (!json_object_get(act, "proof")) {
        snprintf(reason, rlen, "a district's activity must carry an eddsa-jcs-2022 proof");
        return 1;
    }
    const char *oid = util_jstr(obj, "id");
    const char *claimed = util_jstr(obj, "districtCode");
    if (!oid || !util_same_host(oid, actor) || (claimed && strcmp(claimed, code)) ||
        (!del && util_jstr(obj, "attributedTo") && strcmp(util_jstr(obj, "attributedTo"), actor))) {
        snprintf(reason, rlen, "the event is not on the district %s's host or claims another "
                 "district", code);
        return 1;
    }
    const char *slash = strrchr(oid, '/');
    char id[64];
    if (!slash || strlen(slash + 1) == 0 || strlen(slash + 1) >= sizeof id) {
        snprintf(reason, rlen, "bad event id");
        return 1;
    }
    snprintf(id, sizeof id, "%s", slash + 1);
    const json_t *vv = json_object_get(obj, "recordVersion");
    long long v = json_is_integer(vv) ? json_integer_value(vv) : 0;
    json_t *have = events_get(d, id);
    if (have && strcmp(util_jstr(have, "district") ? util_jstr(have, "district") : "", code)) {
        json_decref(have);
        snprintf(reason, rlen, "the event id is held by another district");
        return 1;
    }
    long long hv = have ? json_integer_value(json_object_get(have, "version")) : 0;
    if (have && (util_jstr(have, "deleted") || v <= hv)) {
        json_decref(have);
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: event not newer");
        return 1;
    }
    char now[21];
    util_now_iso(now);
    json_t *doc;
    if (del) {
        doc = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "type", "event",
                        "version", (json_int_t)(v > hv ? v : hv + 1), "district", code, "url",
                        oid, "home_url", oid, "created",
                        have && util_jstr(have, "created") ? util_jstr(have, "created") : now, "updated",
                        now, "deleted", util_jstr(obj, "deleted") ? util_jstr(obj, "deleted") : now);
    } else {
        const json_t *loc = json_object_get(obj, "location");
        const json_t *src = json_object_get(obj, "source");
        json_t *in = json_pack("{s:O?, s:O?, s:O?, s:{s:s, s:s}, s:s}", "name",
                               json_object_get(obj, "name"), "start_time",
                               json_object_get(obj, "startTime"), "end_time",
                               json_object_get(obj, "endTime"), "location", "name",
                               util_jstr(loc, "name") ? util_jstr(loc, "name") : "", "address",
                               util_jstr(loc, "address") ? util_jstr(loc, "address") : "", "content",
                               util_jstr(src, "content") ? util_jstr(src, "content") : "");
        json_t *errors = json_array();
        doc = json_object();
        apply_fields(doc, in, errors, true);
        json_decref(in);
        if (json_array_size(errors)) {
            const json_t *e0 = json_array_get(errors, 0);
            snprintf(reason, rlen, "invalid event: %s %s", util_jstr(e0, "field"), util_jstr(e0, "detail"));
            json_decref(errors);
            json_decref(doc);
            json_decref(have);
            return 1;
        }
        json_decref(errors);
        json_object_set_new(doc, "id", json_string(id));
        json_object_set_new(doc, "type", json_string("event"));
        json_object_set_new(doc, "version", json_integer(v > 0 ? v : hv + 1));
        json_object_set_new(doc, "district", json_string(code));
        json_object_set_new(doc, "url", json_string(util_jstr(obj, "url") ? util_jstr(obj, "url") : oid));
        json_object_set_new(doc, "home_url", json_string(oid));
        json_object_set_new(doc, "created", json_string(util_jstr(obj, "published")
                                                            ? util_jstr(obj, "published")
                                                            : now));
        json_object_set_new(doc, "updated",
                            json_string(util_jstr(obj, "updated") ? util_jstr(obj, "updated") : now));
        json_object_set_new(doc, "deleted", json_null());
    }
    json_decref(have);
    /* Stored without publishing: the state does not re-announce events. */
    const fed_ctx *keep = ectx;
    ectx = NULL;
    int rc = save(d, doc, del ? "delete" : have ? "update" : "create");
    ectx = keep;
    json_decref(doc);
    if (rc)
        return -1;
    st = db_stmt(d, "UPDATE events SET activity=:a WHERE id=:id");
    if (st) {
        db_bind_text(st, ":a", raw);
        db_bind_text(st, ":id", id);
        db_exec_stmt(st);
    }
    *status = INBOX_ACCEPTED;
    snprintf(reason, rlen, "event %s of district %s %s", id, code, del ? "deleted" : "stored");
    return 1;
}

static int event_hook(void *ud, db *d, const json_t *act, const char *type,
                      const remote_actor *who, const char *raw, inbox_status *status,
                      char *reason, size_t rlen)
{
    (void)ud;
    (void)type;
    int st = INBOX_IGNORED;
    int h = events_ingest(d, who->id, act, raw, &st, reason, rlen);
    *status = (inbox_status)st;
    return h;
}

void events_init(const fed_ctx *ctx)
{
    ectx = ctx;
    agg_set_object_handler(events_ingest);
    static bool hooked;
    if (!hooked) {
        inbox_hooks h = {NULL, event_hook, NULL, 21, NULL};
        inbox_add_hooks(&h);
        hooked = true;
    }
}

/* ---- API ------------------------------------------------------------------------ */

static void h_list(http_req *req, http_resp *resp)
{
    const char *when = http_query(req, "when");
    const char *dist = http_query(req, "district");
    const char *l = http_query(req, "limit");
    int limit = l ? atoi(l) : 100;
    if (limit < 1 || limit > 500) {
        http_problem(resp, 400, "invalid-parameter", "Bad limit", "limit must be 1-500.",
                     "limit", NULL);
        return;
    }
    if (when && strcmp(when, "upcoming") && strcmp(when, "past") && strcmp(when, "all")) {
        http_problem(resp, 400, "invalid-parameter", "Bad when",
                     "when is upcoming (default), past or all.", "when", NULL);
        return;
    }
    if (dist && !district_find(dist)) {
        http_problem(resp, 400, "invalid-parameter", "Bad district", NULL, "district", NULL);
        return;
    }
    char now[21];
    util_now_iso(now);
    const char *sql =
        when && !strcmp(when, "past")
            ? "SELECT doc FROM events WHERE deleted IS NULL AND end_time < :now AND "
              "(:d IS NULL OR district=:d) ORDER BY start_time DESC LIMIT :limit"
        : when && !strcmp(when, "all")
            ? "SELECT doc FROM events WHERE deleted IS NULL AND :now IS NOT NULL AND "
              "(:d IS NULL OR district=:d) ORDER BY start_time LIMIT :limit"
            : "SELECT doc FROM events WHERE deleted IS NULL AND end_time >= :now AND "
              "(:d IS NULL OR district=:d) ORDER BY start_time, seq LIMIT :limit";
    http_json(resp, 200, json_pack("{s:o}", "items", list_where(req->db, sql, now, dist, limit)));
}

static void h_get(http_req *req, http_resp *resp)
{
    json_t *doc = events_get(req->db, req->params[0]);
    if (!doc) {
        http_problem(resp, 404, "not-found", "Not found", "No such event.", NULL, NULL);
        return;
    }
    api_set_etag(resp, json_integer_value(json_object_get(doc, "version")));
    http_json(resp, util_jstr(doc, "deleted") ? 410 : 200, doc);
}

static void h_create(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    json_t *errors = json_array();
    json_t *doc = json_object();
    apply_fields(doc, in, errors, true);
    json_decref(in);
    if (json_array_size(errors)) {
        http_problem(resp, 422, "validation", "The event is not valid",
                     "See errors for each field.", NULL, errors);
        json_decref(doc);
        return;
    }
    json_decref(errors);
    char id[40], url[FED_URL + 64], now[21];
    util_random_id("e-", id, sizeof id);
    snprintf(url, sizeof url, "%s/events/%s", req->cfg->base_url, id);
    util_now_iso(now);
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "type", json_string("event"));
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, "district", json_string(req->cfg->district));
    json_object_set_new(doc, "url", json_string(url));
    json_object_set_new(doc, "home_url", json_string(url));
    json_object_set_new(doc, "created", json_string(now));
    json_object_set_new(doc, "updated", json_string(now));
    json_object_set_new(doc, "deleted", json_null());
    int rc = save_in_tx(req->db, doc, "create");
    if (rc) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        json_decref(doc);
        return;
    }
    log_event(LOG_INFO, "event.created", "id", id, "by", req->who.actor, NULL);
    api_set_etag(resp, 1);
    http_set_header(resp, "Location", url);
    http_json(resp, 201, doc);
}

/* Loads the local event for a write; answers 404/410/409/412 itself. */
static json_t *load_for_write(http_req *req, http_resp *resp)
{
    long long im = api_if_match(req);
    if (im == -2) {
        http_problem(resp, 400, "invalid-parameter", "Bad If-Match",
                     "If-Match must be the ETag of the version you edited, like \"3\".",
                     "If-Match", NULL);
        return NULL;
    }
    json_t *doc = events_get(req->db, req->params[0]);
    if (!doc) {
        http_problem(resp, 404, "not-found", "Not found", "No such event.", NULL, NULL);
        return NULL;
    }
    if (util_jstr(doc, "deleted")) {
        http_problem(resp, 410, "gone", "Deleted", "This event was deleted.", NULL, NULL);
    } else if (strcmp(util_jstr(doc, "district") ? util_jstr(doc, "district") : "", req->cfg->district)) {
        http_problem(resp, 409, "not-local", "Not this node's event",
                     "Events are changed only on the node that published them.", NULL, NULL);
    } else if (im > 0 && im != json_integer_value(json_object_get(doc, "version"))) {
        http_problem(resp, 412, "stale", "Changed by someone else",
                     "The event was changed meanwhile; reload it.", "If-Match", NULL);
    } else {
        return doc;
    }
    json_decref(doc);
    return NULL;
}

static void h_update(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    json_t *doc = load_for_write(req, resp);
    if (!doc) {
        json_decref(in);
        return;
    }
    json_t *errors = json_array();
    apply_fields(doc, in, errors, false);
    json_decref(in);
    if (json_array_size(errors)) {
        http_problem(resp, 422, "validation", "The event is not valid",
                     "See errors for each field.", NULL, errors);
        json_decref(doc);
        return;
    }
    json_decref(errors);
    char now[21];
    util_now_iso(now);
    long long v = json_integer_value(json_object_get(doc, "version")) + 1;
    json_object_set_new(doc, "version", json_integer(v));
    json_object_set_new(doc, "updated", json_string(now));
    int rc = save_in_tx(req->db, doc, "update");
    if (rc) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        json_decref(doc);
        return;
    }
    api_set_etag(resp, v);
    http_json(resp, 200, doc);
}

static void h_delete(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    json_t *doc = load_for_write(req, resp);
    if (!doc)
        return;
    char now[21];
    util_now_iso(now);
    long long v = json_integer_value(json_object_get(doc, "version")) + 1;
    json_t *tomb = json_pack("{s:O, s:s, s:I, s:O, s:O, s:O, s:O, s:s, s:s}", "id",
                             json_object_get(doc, "id"), "type", "event", "version", (json_int_t)v,
                             "district", json_object_get(doc, "district"), "url",
                             json_object_get(doc, "url"), "home_url",
                             json_object_get(doc, "home_url"), "created",
                             json_object_get(doc, "created"), "updated", now, "deleted", now);
    json_decref(doc);
    int rc = save_in_tx(req->db, tomb, "delete");
    if (rc)
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    else
        http_json(resp, 200, json_incref(tomb));
    json_decref(tomb);
}

/* ---- public URLs ------------------------------------------------------------------ */

static bool wants_as2(const http_req *req)
{
    const char *a = http_header(req, "Accept");
    return a && (strstr(a, "application/activity+json") ||
                 (strstr(a, "application/ld+json") && strstr(a, "activitystreams")));
}

static void ics_answer(http_resp *resp, char *text, const char *filename)
{
    resp->status = 200;
    resp->ctype = "text/calendar; charset=utf-8";
    buf_puts(&resp->body, text ? text : "");
    free(text);
    char cd[128];
    snprintf(cd, sizeof cd, "inline; filename=\"%s\"", filename);
    http_set_header(resp, "Content-Disposition", cd);
}

static void h_ics_all(http_req *req, http_resp *resp)
{
    char now[21];
    util_now_iso(now);
    /* Upcoming events and those of the last 180 days, so a subscribed
     * calendar keeps recent history. */
    time_t t = time(NULL) - 180 * 86400;
    char from[21];
    util_iso_time(t, from);
    json_t *docs = list_where(req->db,
                              "SELECT doc FROM events WHERE deleted IS NULL AND end_time >= :now "
                              "AND (:d IS NULL OR district=:d) ORDER BY start_time LIMIT :limit",
                              from, NULL, 2000);
    char name[300];
    snprintf(name, sizeof name, "%s – Veranstaltungen", req->cfg->name);
    ics_answer(resp, events_ics_calendar(docs, name), "events.ics");
    json_decref(docs);
}

static void h_event(http_req *req, http_resp *resp)
{
    const char *p = req->params[0];
    size_t n = strlen(p);
    bool ics = n > 4 && !strcmp(p + n - 4, ".ics");
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)(ics ? n - 4 : n), p);
    json_t *doc = events_get(req->db, id);
    if (ics) {
        if (!doc || util_jstr(doc, "deleted")) {
            http_problem(resp, doc ? 410 : 404, doc ? "gone" : "not-found", "No such event", NULL,
                         NULL, NULL);
        } else {
            json_t *docs = json_pack("[O]", doc);
            char fn[80];
            snprintf(fn, sizeof fn, "%s.ics", id);
            ics_answer(resp, events_ics_calendar(docs, util_jstr(doc, "name")), fn);
            json_decref(docs);
        }
        json_decref(doc);
        return;
    }
    if (wants_as2(req)) {
        http_set_header(resp, "Vary", "Accept");
        if (!doc) {
            http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
            return;
        }
        json_t *o = NULL;
        if (ectx && strcmp(util_jstr(doc, "district") ? util_jstr(doc, "district") : "",
                           ectx->cfg->district)) {
            /* A district's event on the state: the object as the district
             * signed it. */
            sqlite3_stmt *st = db_stmt(req->db, "SELECT activity FROM events WHERE id=:id");
            if (st) {
                db_bind_text(st, ":id", id);
                if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
                    json_t *a = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
                    o = json_incref(json_object_get(a, "object"));
                    json_decref(a);
                }
                db_done(st);
            }
            if (o)
                json_object_set_new(o, "@context", as2_context());
        }
        if (!o && ectx)
            o = events_as2(ectx, doc, true);
        http_json(resp, util_jstr(doc, "deleted") ? 410 : 200, o);
        resp->ctype = "application/activity+json; charset=utf-8";
        json_decref(doc);
        return;
    }
    portal_event_page(req, resp, doc);
    http_set_header(resp, "Vary", "Accept");
    json_decref(doc);
}

const http_route events_routes[] = {
    {"GET", "/api/v1/events", h_list},
    {"POST", "/api/v1/events", h_create},
    {"GET", "/api/v1/events/*", h_get},
    {"PATCH", "/api/v1/events/*", h_update},
    {"DELETE", "/api/v1/events/*", h_delete},
    {"GET", "/events", portal_events_page},
    {"GET", "/events.ics", h_ics_all},
    {"GET", "/events/*", h_event},
    {NULL, NULL, NULL},
};
