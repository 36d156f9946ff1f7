/* Moderated public discussion; see comment.h and protocol-docs/discussion.md. */
#include "comment.h"
#include "account.h"
#include "api.h"
#include "as2.h"
#include "log.h"
#include "outbox.h"
#include "pagecache.h"
#include "settings.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONTENT_MAX 5000
#define HOUR 3600
#define REGISTER_PER_HOUR 6 /* attempts per client address */
#define PLACEHOLDER_NOTE "Von der Moderation ausgeblendet"

static const fed_ctx *cctx;

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

/* ---- settings ------------------------------------------------------------- */

typedef struct modset {
    bool participants_post, remote_post;
    long auto_hide, rate;
} modset;

static void load_settings(db *d, modset *m)
{
    m->participants_post = m->remote_post = false;
    m->auto_hide = 3;
    m->rate = 10;
    json_t *s = settings_get(d, "");
    json_t *mo = json_object_get(s, "moderation");
    const char *p = util_jstr(mo, "participants"), *r = util_jstr(mo, "remote");
    m->participants_post = p && !strcmp(p, "post");
    m->remote_post = r && !strcmp(r, "post");
    if (json_is_integer(json_object_get(mo, "auto_hide_reports")))
        m->auto_hide = (long)json_integer_value(json_object_get(mo, "auto_hide_reports"));
    if (json_is_integer(json_object_get(mo, "rate_per_hour")))
        m->rate = (long)json_integer_value(json_object_get(mo, "rate_per_hour"));
    json_decref(s);
}

/* ---- rate limits ---------------------------------------------------------- */

/* Events of key within the last window seconds; *retry gets the seconds
 * until the oldest leaves the window. */
static long rate_count(db *d, const char *key, long window, long *retry)
{
    long now = (long)time(NULL);
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*), min(at) FROM rate_events WHERE key=:k AND "
                                  "at>:since");
    long n = 0;
    *retry = 1;
    if (!st)
        return 0;
    db_bind_text(st, ":k", key);
    db_bind_int(st, ":since", now - window);
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int(st, 0);
        *retry = (long)sqlite3_column_int64(st, 1) + window - now;
        if (*retry < 1)
            *retry = 1;
    }
    db_done(st);
    return n;
}

static int rate_add(db *d, const char *key)
{
    long now = (long)time(NULL);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO rate_events(key, at) VALUES(:k, :at)");
    if (!st)
        return -1;
    db_bind_text(st, ":k", key);
    db_bind_int(st, ":at", now);
    if (db_exec_stmt(st))
        return -1;
    st = db_stmt(d, "DELETE FROM rate_events WHERE at<:old");
    if (st) {
        db_bind_int(st, ":old", now - 2 * HOUR);
        db_exec_stmt(st);
    }
    return 0;
}

/* ---- text ----------------------------------------------------------------- */

static void put_utf8(buf *b, unsigned long cp)
{
    char o[4];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (char)cp;
        buf_append(b, o, 1);
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        buf_append(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        buf_append(b, o, 3);
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        buf_append(b, o, 4);
    }
}

static bool tag_is(const char *p, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(p, name, n) == 0 && (p[n] == '>' || p[n] == ' ' || p[n] == '/' ||
                                            p[n] == '\t' || p[n] == '\n');
}

char *comment_html_to_text(const char *html)
{
    buf b;
    buf_init(&b);
    static const struct {
        const char *name;
        unsigned long cp;
    } ents[] = {{"amp", '&'},   {"lt", '<'},     {"gt", '>'},     {"quot", '"'},
                {"apos", '\''}, {"nbsp", 0xA0},  {"shy", 0xAD},   {"auml", 0xE4},
                {"ouml", 0xF6}, {"uuml", 0xFC},  {"Auml", 0xC4},  {"Ouml", 0xD6},
                {"Uuml", 0xDC}, {"szlig", 0xDF}, {"hellip", 0x2026}, {"ndash", 0x2013},
                {"mdash", 0x2014}, {"euro", 0x20AC}};
    for (const char *p = html ? html : ""; *p;) {
        if (*p == '<') {
            const char *q = p + 1;
            bool closing = *q == '/';
            if (closing)
                q++;
            /* Script and style bodies are dropped with their tags. */
            if (!closing && (tag_is(q, "script") || tag_is(q, "style"))) {
                const char *end = strcasestr(q, tag_is(q, "script") ? "</script" : "</style");
                p = end ? end : p + strlen(p);
                if (end) {
                    const char *gt = strchr(end, '>');
                    p = gt ? gt + 1 : end + strlen(end);
                }
                continue;
            }
            if (tag_is(q, "br"))
                buf_puts(&b, "\n");
            else if (closing && (tag_is(q, "p") || tag_is(q, "div") || tag_is(q, "li") ||
                                 tag_is(q, "blockquote")))
                buf_puts(&b, "\n\n");
            const char *gt = strchr(p, '>');
            p = gt ? gt + 1 : p + strlen(p);
            continue;
        }
        if (*p == '&') {
            const char *semi = strchr(p, ';');
            if (semi && semi - p <= 10) {
                unsigned long cp = 0;
                bool ok = false;
                if (p[1] == '#') {
                    char *end;
                    cp = (p[2] == 'x' || p[2] == 'X') ? strtoul(p + 3, &end, 16)
                                                      : strtoul(p + 2, &end, 10);
                    ok = end == semi && end > p + 2;
                } else {
                    for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !ok; i++)
                        if ((size_t)(semi - p - 1) == strlen(ents[i].name) &&
                            !strncmp(p + 1, ents[i].name, (size_t)(semi - p - 1))) {
                            cp = ents[i].cp;
                            ok = true;
                        }
                }
                if (ok) {
                    put_utf8(&b, cp);
                    p = semi + 1;
                    continue;
                }
            }
        }
        buf_append(&b, p, 1);
        p++;
    }
    if (!b.len) {
        buf_free(&b);
        return strdup("");
    }
    char *t = buf_take(&b);
    if (!t)
        return strdup("");
    /* Trim, and collapse runs of more than two line breaks. */
    char *o = t, *w = t;
    while (*o == '\n' || *o == ' ' || *o == '\r' || *o == '\t')
        o++;
    int nl = 0;
    for (; *o; o++) {
        if (*o == '\r')
            continue;
        if (*o == '\n') {
            if (++nl > 2)
                continue;
        } else {
            nl = 0;
        }
        *w++ = *o;
    }
    while (w > t && (w[-1] == '\n' || w[-1] == ' ' || w[-1] == '\t'))
        w--;
    *w = '\0';
    return t;
}

/* Checks comment text; returns an error detail or NULL. */
static const char *check_content(const json_t *v)
{
    if (!json_is_string(v))
        return "content: required, a string";
    const char *s = json_string_value(v);
    if (!util_utf8_valid(s, strlen(s)))
        return "content: not valid UTF-8";
    size_t n = util_utf8_len(s);
    bool blank = true;
    for (const char *p = s; *p && blank; p++)
        blank = isspace((unsigned char)*p);
    if (n == 0 || blank)
        return "content: must not be empty";
    if (n > CONTENT_MAX)
        return "content: at most 5000 characters";
    return NULL;
}

/* ---- rows ----------------------------------------------------------------- */

#define COMMENT_COLS                                                                               \
    "c.id, c.target_kind, c.target_id, c.parent_id, c.author_user_id, c.author_actor, "            \
    "c.author_name, c.content, c.status, c.moderation_reason, c.moderated_by, c.report_count, "   \
    "c.created, c.updated, c.version, c.ap_id, c.district, c.published, u.name AS author_user "    \
    "FROM comments c LEFT JOIN users u ON u.id=c.author_user_id "

static json_t *row_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            json_object_set_new(o, name, json_null());
        else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
            json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i)));
        else
            json_object_set_new(o, name, json_string(col(st, i)));
    }
    return o;
}

/* One comment by id (by_ap: by its ActivityPub id), or NULL. */
static json_t *load(db *d, const char *id, bool by_ap)
{
    sqlite3_stmt *st = db_stmt(d, by_ap ? "SELECT " COMMENT_COLS "WHERE c.ap_id=:id"
                                        : "SELECT " COMMENT_COLS "WHERE c.id=:id");
    if (!st)
        return NULL;
    db_bind_text(st, ":id", id);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? row_json(st) : NULL;
    db_done(st);
    return o;
}

static long long iget(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void comment_url(const char *id, char *out, size_t len)
{
    snprintf(out, len, "%s/comments/%s", cctx ? cctx->cfg->base_url : "", id);
}

/* The API document of a comment. full: everything moderators see. */
static json_t *public_doc(const json_t *row, bool full)
{
    const char *status = util_jstr(row, "status");
    if (!full && strcmp(status, "approved")) {
        json_t *p = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "id", util_jstr(row, "id"), "parent",
                              util_jstr(row, "parent_id"), "status", status, "note",
                              strcmp(status, "hidden") ? "Gelöscht" : PLACEHOLDER_NOTE,
                              "created", util_jstr(row, "created"));
        if (util_jstr(row, "district"))
            json_object_set_new(p, "district", json_string(util_jstr(row, "district")));
        return p;
    }
    char url[FED_URL + 64];
    if (util_jstr(row, "district"))
        snprintf(url, sizeof url, "%s", util_jstr(row, "ap_id"));
    else
        comment_url(util_jstr(row, "id"), url, sizeof url);
    bool remote = util_jstr(row, "author_actor") != NULL;
    json_t *author = json_pack("{s:s, s:s}", "name", util_jstr(row, "author_name"), "kind",
                               util_jstr(row, "district") ? "district" : remote ? "remote" : "local");
    if (remote)
        json_object_set_new(author, "actor", json_string(util_jstr(row, "author_actor")));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:s, s:s, s:s, s:s, s:I}", "id",
        util_jstr(row, "id"), "type", "comment", "url", url, "target_kind", util_jstr(row, "target_kind"),
        "target_id", util_jstr(row, "target_id"), "parent", util_jstr(row, "parent_id"), "author_name",
        util_jstr(row, "author_name"), "author", author, "content", util_jstr(row, "content"), "status",
        status, "created", util_jstr(row, "created"), "updated", util_jstr(row, "updated"), "version",
        (json_int_t)iget(row, "version"));
    if (util_jstr(row, "district")) {
        json_object_set_new(o, "district", json_string(util_jstr(row, "district")));
        json_object_set_new(o, "home_url", json_string(util_jstr(row, "ap_id")));
    } else if (remote) {
        json_object_set_new(o, "origin", json_string(util_jstr(row, "ap_id")));
    }
    if (full) {
        json_object_set_new(o, "report_count", json_integer(iget(row, "report_count")));
        json_object_set_new(o, "moderation_reason",
                            json_incref(json_object_get(row, "moderation_reason")));
        json_object_set_new(o, "moderated_by", json_incref(json_object_get(row, "moderated_by")));
        json_object_set_new(o, "author_user", json_incref(json_object_get(row, "author_user")));
    }
    return o;
}

/* Whether a live record of kind exists; *district and *measure (the measure
 * a progress entry belongs to) are filled. */
static bool target_ok(db *d, const char *kind, const char *id, char *district, size_t dlen,
                      char *measure, size_t mlen, char *title, size_t tlen)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT district, parent, title FROM records WHERE id=:id AND "
                                  "kind=:k AND deleted IS NULL");
    if (!st)
        return false;
    db_bind_text(st, ":id", id);
    db_bind_text(st, ":k", kind);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        if (district)
            snprintf(district, dlen, "%s", col(st, 0) ? col(st, 0) : "");
        if (measure)
            snprintf(measure, mlen, "%s", !strcmp(kind, "progress") && col(st, 1) ? col(st, 1)
                                                                                   : id);
        if (title)
            snprintf(title, tlen, "%s", col(st, 2) ? col(st, 2) : "");
    }
    db_done(st);
    return ok;
}

/* ---- federation out ------------------------------------------------------- */

/* The AS2 Note of a comment of this node (row as from load()). */
static json_t *note_of(db *d, const json_t *row, bool with_context)
{
    const fed_ctx *c = cctx;
    const char *base = c->cfg->base_url, *tk = util_jstr(row, "target_kind");
    char id[FED_URL + 64], reply[FED_URL + 64], ctxurl[FED_URL + 64], page[FED_URL + 128];
    char measure[64] = "";
    comment_url(util_jstr(row, "id"), id, sizeof id);
    if (!strcmp(tk, "progress")) {
        if (!target_ok(d, "progress", util_jstr(row, "target_id"), NULL, 0, measure,
                             sizeof measure, NULL, 0))
            snprintf(measure, sizeof measure, "%s", "");
    } else {
        snprintf(measure, sizeof measure, "%s", util_jstr(row, "target_id"));
    }
    if (util_jstr(row, "parent_id"))
        comment_url(util_jstr(row, "parent_id"), reply, sizeof reply);
    else
        snprintf(reply, sizeof reply, "%s/%s/%s", base,
                 !strcmp(tk, "progress") ? "progress" : "measures", util_jstr(row, "target_id"));
    if (measure[0])
        snprintf(ctxurl, sizeof ctxurl, "%s/measures/%s", base, measure);
    else
        snprintf(ctxurl, sizeof ctxurl, "%s", reply);
    /* The comment's place on the public pages: its measure's or progress
     * entry's page. */
    snprintf(page, sizeof page, "%s/%s/%s#c-%s", base,
             !strcmp(tk, "progress") ? "progress" : "measures", util_jstr(row, "target_id"),
             util_jstr(row, "id"));
    buf b;
    buf_init(&b);
    char *name = as2_html_paragraphs(util_jstr(row, "author_name"));
    char *text = as2_html_paragraphs(util_jstr(row, "content"));
    /* <p>Name</p> becomes <p><strong>Name</strong>:</p>. */
    if (name && strlen(name) >= 7) {
        buf_puts(&b, "<p><strong>");
        buf_append(&b, name + 3, strlen(name) - 7);
        buf_puts(&b, "</strong>:</p>");
    }
    buf_puts(&b, text ? text : "");
    free(name);
    free(text);
    json_t *lit = json_pack(
        "{s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:I}", "id", util_jstr(row, "id"), "type",
        "comment", "target_kind", tk, "target_id", util_jstr(row, "target_id"), "parent",
        util_jstr(row, "parent_id"), "measure", measure, "author_name", util_jstr(row, "author_name"),
        "author_kind", util_jstr(row, "author_actor") ? "remote" : "local", "content",
        util_jstr(row, "content"), "created", util_jstr(row, "created"), "version",
        (json_int_t)iget(row, "version"));
    json_object_set_new(lit, "updated", json_string(util_jstr(row, "updated")));
    if (util_jstr(row, "author_actor")) {
        json_object_set_new(lit, "author_actor", json_string(util_jstr(row, "author_actor")));
        json_object_set_new(lit, "origin", json_string(util_jstr(row, "ap_id")));
    }
    json_t *o = json_object();
    if (with_context)
        json_object_set_new(o, "@context", as2_context());
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "type", json_string("Note"));
    json_object_set_new(o, "attributedTo", json_string(c->actor));
    json_object_set_new(o, "url", json_string(page));
    json_object_set_new(o, "published", json_string(util_jstr(row, "created")));
    json_object_set_new(o, "updated", json_string(util_jstr(row, "updated")));
    json_object_set_new(o, "to", json_pack("[s]", AS2_PUBLIC));
    json_object_set_new(o, "cc", json_pack("[s]", c->followers));
    json_object_set_new(o, "inReplyTo", json_string(reply));
    json_object_set_new(o, "context", json_string(ctxurl));
    json_object_set_new(o, "content", json_string(b.p ? b.p : ""));
    json_object_set_new(o, "districtCode", json_string(c->cfg->district));
    json_object_set_new(o, "comment", lit);
    buf_free(&b);
    return o;
}

static json_t *tombstone_of(const json_t *row, bool with_context)
{
    char id[FED_URL + 64], now[21];
    comment_url(util_jstr(row, "id"), id, sizeof id);
    util_now_iso(now);
    /* recordVersion: the comment's version at its removal, so a receiver
     * can tell a Delete from a later re-approval (a new Create) that
     * overtook it. */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "type", "Tombstone", "formerType",
                          "Note", "deleted", now, "recordVersion", (json_int_t)iget(row, "version"));
    if (with_context)
        json_object_set_new(o, "@context", as2_context());
    return o;
}

/* Publishes op ("Create", "Update", "Delete") for the comment (row reloaded
 * by the caller after the change). Local comments of a district only. Inside
 * the caller's transaction. */
static int publish(db *d, const json_t *row, const char *op)
{
    if (!cctx || util_jstr(row, "district"))
        return 0;
    json_t *obj = !strcmp(op, "Delete") ? tombstone_of(row, false) : note_of(d, row, false);
    json_t *act = as2_activity(cctx, op, obj);
    if (!act) {
        log_event(LOG_ERROR, "comment.sign_failed", NULL);
        return -1;
    }
    int rc = outbox_append(d, cctx, act);
    json_decref(act);
    if (rc)
        return -1;
    sqlite3_stmt *st = db_stmt(d, "UPDATE comments SET published=:p WHERE id=:id");
    if (!st)
        return -1;
    db_bind_int(st, ":p", strcmp(op, "Delete") != 0);
    db_bind_text(st, ":id", util_jstr(row, "id"));
    return db_exec_stmt(st);
}

/* Sets a comment's status (and bumps version/updated), then publishes what
 * followers need to know: Create when it became visible, Delete when it
 * stopped being visible. Inside a transaction. */
static int set_status(db *d, const char *id, const char *status, const char *reason,
                      const char *by)
{
    json_t *before = load(d, id, false);
    if (!before)
        return -1;
    char now[21];
    util_now_iso(now);
    bool wipe = !strcmp(status, "deleted");
    sqlite3_stmt *st = db_stmt(
        d, wipe ? "UPDATE comments SET status=:s, moderation_reason=:r, moderated_by=:b, "
                  "updated=:now, version=version+1, content='', raw=NULL WHERE id=:id"
                : "UPDATE comments SET status=:s, moderation_reason=:r, moderated_by=:b, "
                  "updated=:now, version=version+1 WHERE id=:id");
    int rc = -1;
    if (st) {
        db_bind_text(st, ":s", status);
        db_bind_text(st, ":r", reason);
        db_bind_text(st, ":b", by);
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":id", id);
        rc = db_exec_stmt(st);
    }
    json_t *after = rc ? NULL : load(d, id, false);
    if (after) {
        bool was_pub = iget(before, "published") != 0;
        bool visible = !strcmp(status, "approved");
        if (visible && !was_pub)
            rc = publish(d, after, "Create");
        else if (visible && was_pub)
            rc = publish(d, after, "Update");
        else if (!visible && was_pub)
            rc = publish(d, after, "Delete");
    } else {
        rc = -1;
    }
    json_decref(before);
    json_decref(after);
    return rc;
}

/* ---- reports -------------------------------------------------------------- */

/* Adds a report; returns 1 when added, 0 when this reporter reported it
 * already, -1 on error. Hides the comment after N reports. Inside a
 * transaction. */
static int add_report(db *d, const json_t *row, const char *reporter, const char *reason,
                      long n_hide, bool *hidden)
{
    char now[21];
    util_now_iso(now);
    *hidden = false;
    sqlite3_stmt *st = db_stmt(d, "INSERT OR IGNORE INTO comment_reports(comment_id, reporter, "
                                  "reason, created) VALUES(:c, :r, :why, :now)");
    if (!st)
        return -1;
    db_bind_text(st, ":c", util_jstr(row, "id"));
    db_bind_text(st, ":r", reporter);
    db_bind_text(st, ":why", reason);
    db_bind_text(st, ":now", now);
    if (db_exec_stmt(st))
        return -1;
    if (sqlite3_changes(db_handle(d)) == 0)
        return 0;
    st = db_stmt(d, "UPDATE comments SET report_count=report_count+1 WHERE id=:id");
    if (!st)
        return -1;
    db_bind_text(st, ":id", util_jstr(row, "id"));
    if (db_exec_stmt(st))
        return -1;
    if (!strcmp(util_jstr(row, "status"), "approved") && iget(row, "report_count") + 1 >= n_hide) {
        char why[64];
        snprintf(why, sizeof why, "auto-hidden after %ld reports", n_hide);
        if (set_status(d, util_jstr(row, "id"), "hidden", why, "system"))
            return -1;
        *hidden = true;
        log_event(LOG_INFO, "comment.auto_hidden", "comment", util_jstr(row, "id"), NULL);
    }
    return 1;
}

static const char *reason_of(const char *s)
{
    static const char *const reasons[] = {"spam", "offensive", "off-topic", NULL};
    for (int i = 0; s && reasons[i]; i++)
        if (!strcasecmp(s, reasons[i]))
            return reasons[i];
    return NULL;
}

/* ---- storing -------------------------------------------------------------- */

typedef struct new_comment {
    const char *target_kind, *target_id, *parent_id;
    long long user_id;       /* local author, or 0 */
    const char *actor;       /* remote author, or NULL */
    const char *author_name;
    const char *content;
    const char *status;
    const char *ap_id;       /* NULL: BASE/comments/ID */
    const char *district;    /* state: the home district */
    const char *raw;
    const char *created, *updated;
    long long version;
} new_comment;

/* Inserts a comment; *id_out gets its id. Publishes Create when it is
 * approved and local. Inside a transaction. */
static int insert_comment(db *d, const new_comment *n, char id_out[40])
{
    char now[21], apid[FED_URL + 64];
    util_now_iso(now);
    util_random_id("c-", id_out, 40);
    if (n->ap_id)
        snprintf(apid, sizeof apid, "%s", n->ap_id);
    else
        comment_url(id_out, apid, sizeof apid);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO comments(id, target_kind, target_id, parent_id, author_user_id, "
           "author_actor, author_name, content, status, created, updated, version, ap_id, "
           "district, raw) VALUES(:id, :tk, :tid, :par, :uid, :actor, :name, :content, :status, "
           ":created, :updated, :v, :ap, :district, :raw)");
    if (!st)
        return -1;
    db_bind_text(st, ":id", id_out);
    db_bind_text(st, ":tk", n->target_kind);
    db_bind_text(st, ":tid", n->target_id);
    db_bind_text(st, ":par", n->parent_id);
    if (n->user_id)
        db_bind_int(st, ":uid", n->user_id);
    else
        db_bind_text(st, ":uid", NULL);
    db_bind_text(st, ":actor", n->actor);
    db_bind_text(st, ":name", n->author_name);
    db_bind_text(st, ":content", n->content);
    db_bind_text(st, ":status", n->status);
    db_bind_text(st, ":created", n->created ? n->created : now);
    db_bind_text(st, ":updated", n->updated ? n->updated : now);
    db_bind_int(st, ":v", n->version > 0 ? n->version : 1);
    db_bind_text(st, ":ap", apid);
    db_bind_text(st, ":district", n->district);
    db_bind_text(st, ":raw", n->raw);
    if (db_exec_stmt(st))
        return -1;
    if (!strcmp(n->status, "approved") && !n->district) {
        json_t *row = load(d, id_out, false);
        int rc = row ? publish(d, row, "Create") : -1;
        json_decref(row);
        return rc;
    }
    return 0;
}

/* ---- HTTP helpers --------------------------------------------------------- */

static void problem_internal(http_resp *resp)
{
    http_problem(resp, 500, "internal", "Internal error", "Nothing was stored.", NULL, NULL);
}

static void not_found(http_resp *resp)
{
    http_problem(resp, 404, "not-found", "Not found", "No such comment.", NULL, NULL);
}

static bool is_state(const http_req *req)
{
    return !strcmp(req->cfg->role, "state");
}

static void too_many(http_resp *resp, long retry, const char *what)
{
    char ra[32];
    snprintf(ra, sizeof ra, "%ld", retry);
    http_problem(resp, 429, "rate-limited", "Too many requests", what, NULL, NULL);
    http_set_header(resp, "Retry-After", ra);
}

/* Rejects members other than the allowed ones (422 naming the first). */
static bool only_fields(http_resp *resp, const json_t *in, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = !strcmp(k, allowed[i]);
        if (!ok) {
            char d[160];
            snprintf(d, sizeof d, "%s: not a known field", k);
            http_problem(resp, 422, "validation", "Unknown field", d, k, NULL);
            return false;
        }
    }
    return true;
}

static const char *kind_of(const http_req *req)
{
    return strncmp(req->path, "/api/v1/progress/", 17) == 0 ? "progress" : "measure";
}

/* Staff (moderator, editor, admin) are post-moderated. */
static bool is_staff(const principal *p)
{
    return p->role >= ROLE_MODERATOR;
}

/* ---- registration and accounts ------------------------------------------ */

static void h_register(http_req *req, http_resp *resp)
{
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    static const char *const allowed[] = {"name", "password", "display_name", NULL};
    if (!only_fields(resp, in, allowed)) {
        json_decref(in);
        return;
    }
    char key[128];
    snprintf(key, sizeof key, "register:%s", req->client);
    long retry;
    if (rate_count(req->db, key, HOUR, &retry) >= REGISTER_PER_HOUR) {
        too_many(resp, retry, "Too many registrations from this address; see Retry-After.");
        json_decref(in);
        return;
    }
    const char *name = util_jstr(in, "name"), *pw = util_jstr(in, "password"),
               *dn = util_jstr(in, "display_name");
    char err[256] = "";
    acct_status s;
    if (!name)
        s = ACCT_INVALID, snprintf(err, sizeof err, "name: required");
    else if (!pw)
        s = ACCT_INVALID, snprintf(err, sizeof err, "password: required");
    else if (!dn)
        s = ACCT_INVALID, snprintf(err, sizeof err, "display_name: required");
    else
        s = account_register(req->db, name, pw, dn, err, sizeof err);
    if (s == ACCT_OK) {
        rate_add(req->db, key);
        log_event(LOG_INFO, "user.registered", "user", name, NULL);
        http_set_header(resp, "Location", "/api/v1/session");
        http_json(resp, 201, json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", name, "display_name",
                                       dn, "role", "participant", "approved", 0, "trusted", 0));
    } else {
        rate_add(req->db, key);
        const char *field = strncmp(err, "password", 8) == 0       ? "password"
                            : strncmp(err, "display_name", 12) == 0 ? "display_name"
                                                                    : "name";
        if (s == ACCT_EXISTS)
            http_problem(resp, 409, "exists", "Name taken", err, field, NULL);
        else if (s == ACCT_INVALID)
            http_problem(resp, 422, "validation", "Invalid value", err, field, NULL);
        else
            problem_internal(resp);
    }
    json_decref(in);
}

static void h_registrations(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    http_json(resp, 200, json_pack("{s:o}", "items", account_pending_list(req->db)));
}

static void h_registration_action(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    bool approve = strstr(req->path, "/approve") != NULL;
    acct_status s = approve ? account_approve(req->db, req->params[0])
                            : account_reject(req->db, req->params[0]);
    if (s == ACCT_OK) {
        log_event(LOG_INFO, approve ? "user.approved" : "user.rejected", "by", req->who.actor,
                  "user", req->params[0], NULL);
        http_json(resp, 200, json_pack("{s:s, s:s}", "name", req->params[0], "status",
                                       approve ? "approved" : "rejected"));
    } else if (s == ACCT_NOT_FOUND) {
        http_problem(resp, 404, "not-found", "Not found", "No pending registration of that name.",
                     NULL, NULL);
    } else {
        problem_internal(resp);
    }
}

static void h_participants(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    json_t *all = account_user_list(req->db), *items = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(all, i, u)
    {
        const char *r = util_jstr(u, "role");
        if (r && (!strcmp(r, "participant") || !strcmp(r, "viewer"))) {
            json_object_del(u, "id");
            json_array_append(items, u);
        }
    }
    json_decref(all);
    http_json(resp, 200, json_pack("{s:o}", "items", items));
}

static void h_trust(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    static const char *const allowed[] = {"trusted", NULL};
    json_t *t = json_object_get(in, "trusted");
    if (!only_fields(resp, in, allowed)) {
    } else if (!json_is_boolean(t)) {
        http_problem(resp, 422, "validation", "Invalid value", "trusted: true or false",
                     "trusted", NULL);
    } else {
        acct_status s = account_set_trusted(req->db, req->params[0], json_is_true(t));
        if (s == ACCT_OK)
            http_json(resp, 200, json_pack("{s:s, s:b}", "name", req->params[0], "trusted",
                                           json_is_true(t)));
        else if (s == ACCT_NOT_FOUND)
            http_problem(resp, 404, "not-found", "Not found", "No such user.", NULL, NULL);
        else
            problem_internal(resp);
    }
    json_decref(in);
}

static json_t *rows_of(db *d, const char *sql, long long uid, const char *text, bool full)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = db_stmt(d, sql);
    if (!st)
        return arr;
    if (uid)
        db_bind_int(st, ":uid", uid);
    if (text)
        db_bind_text(st, ":t", text);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *row = row_json(st);
        json_array_append_new(arr, full ? public_doc(row, true) : json_incref(row));
        json_decref(row);
    }
    db_done(st);
    return arr;
}

static void h_export(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    if (!req->who.user_id) {
        http_problem(resp, 403, "forbidden", "Not allowed", "API tokens have no account data.",
                     NULL, NULL);
        return;
    }
    json_t *users = account_user_list(req->db), *me = NULL;
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) if (iget(u, "id") == req->who.user_id) me = json_incref(u);
    json_decref(users);
    json_t *comments = rows_of(req->db,
                               "SELECT " COMMENT_COLS "WHERE c.author_user_id=:uid AND "
                               "c.status!='deleted' ORDER BY c.seq",
                               req->who.user_id, NULL, true);
    char reporter[200];
    snprintf(reporter, sizeof reporter, "user:%s", req->who.name);
    json_t *reports = rows_of(req->db,
                              "SELECT comment_id, reason, created FROM comment_reports WHERE "
                              "reporter=:t ORDER BY created",
                              0, reporter, false);
    char now[21];
    util_now_iso(now);
    json_t *out = json_pack("{s:o, s:o, s:o, s:s}", "account", me ? me : json_object(),
                            "comments", comments, "reports", reports, "exported", now);
    http_json(resp, 200, out);
    char cd[200];
    snprintf(cd, sizeof cd, "attachment; filename=\"dinet-export-%s.json\"", req->who.name);
    http_set_header(resp, "Content-Disposition", cd);
    http_set_header(resp, "Cache-Control", "no-store");
}

static void h_delete_me(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    if (!req->who.user_id) {
        http_problem(resp, 403, "forbidden", "Not allowed", "API tokens are revoked, not deleted.",
                     NULL, NULL);
        return;
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *pw = util_jstr(in, "password");
    char key[160];
    snprintf(key, sizeof key, "delete-me:%lld", req->who.user_id);
    long retry;
    if (rate_count(req->db, key, 900, &retry) >= 5) {
        too_many(resp, retry, "Too many wrong passwords; see Retry-After.");
        json_decref(in);
        return;
    }
    if (!pw || !account_check_password(req->db, req->who.user_id, pw)) {
        rate_add(req->db, key);
        http_problem(resp, 422, "validation", "Wrong password",
                     "password: confirm the deletion with your password.", "password", NULL);
        json_decref(in);
        return;
    }
    json_decref(in);
    if (req->who.role == ROLE_ADMIN) {
        sqlite3_stmt *st = db_stmt(req->db, "SELECT count(*) FROM users WHERE role='admin' AND "
                                            "disabled=0");
        long admins = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        db_done(st);
        if (admins <= 1) {
            http_problem(resp, 409, "last-admin", "The last administrator",
                         "At least one active admin must remain.", NULL, NULL);
            return;
        }
    }
    db *d = req->db;
    if (db_begin(d)) {
        problem_internal(resp);
        return;
    }
    json_t *mine = rows_of(d, "SELECT " COMMENT_COLS "WHERE c.author_user_id=:uid AND "
                              "c.status!='deleted'",
                           req->who.user_id, NULL, false);
    size_t i;
    json_t *row;
    int rc = 0;
    json_array_foreach(mine, i, row) if (!rc) rc =
        set_status(d, util_jstr(row, "id"), "deleted", "account deleted", req->who.actor);
    size_t n = json_array_size(mine);
    json_decref(mine);
    char reporter[200];
    snprintf(reporter, sizeof reporter, "user:%s", req->who.name);
    sqlite3_stmt *st = rc ? NULL : db_stmt(d, "DELETE FROM comment_reports WHERE reporter=:r");
    if (st) {
        db_bind_text(st, ":r", reporter);
        rc = db_exec_stmt(st);
    } else {
        rc = -1;
    }
    /* The comments' rows stay (without content and author) so their ids are
     * never reused; the account itself is removed. */
    st = rc ? NULL : db_stmt(d, "UPDATE comments SET author_user_id=NULL, author_name='' WHERE "
                                "author_user_id=:uid");
    if (st) {
        db_bind_int(st, ":uid", req->who.user_id);
        rc = db_exec_stmt(st);
    } else {
        rc = -1;
    }
    st = rc ? NULL : db_stmt(d, "DELETE FROM users WHERE id=:uid");
    if (st) {
        db_bind_int(st, ":uid", req->who.user_id);
        rc = db_exec_stmt(st);
    } else {
        rc = -1;
    }
    if (rc || db_commit(d)) {
        db_rollback(d);
        problem_internal(resp);
        return;
    }
    pagecache_bump();
    log_event(LOG_INFO, "user.deleted_self", "user", req->who.name, NULL);
    bool secure = strncmp(req->cfg->base_url, "https://", 8) == 0;
    char c[200];
    snprintf(c, sizeof c, "dinet_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             secure ? "; Secure" : "");
    http_set_header(resp, "Set-Cookie", c);
    http_json(resp, 200, json_pack("{s:b, s:I}", "deleted", 1, "comments_deleted",
                                   (json_int_t)n));
}

/* ---- comments ------------------------------------------------------------- */

json_t *comment_thread(db *d, const char *target_kind, const char *target_id)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = db_stmt(d, "SELECT " COMMENT_COLS "WHERE c.target_kind=:k AND "
                                  "c.target_id=:id AND c.status IN ('approved','hidden') "
                                  "ORDER BY c.created, c.seq LIMIT 1000");
    if (!st)
        return arr;
    db_bind_text(st, ":k", target_kind);
    db_bind_text(st, ":id", target_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *row = row_json(st);
        json_array_append_new(arr, public_doc(row, false));
        json_decref(row);
    }
    db_done(st);
    return arr;
}

static void h_list(http_req *req, http_resp *resp)
{
    const char *kind = kind_of(req);
    if (!target_ok(req->db, kind, req->params[0], NULL, 0, NULL, 0, NULL, 0)) {
        http_problem(resp, 404, "not-found", "Not found", "No such record.", NULL, NULL);
        return;
    }
    const char *all = http_query(req, "all");
    json_t *items;
    if (all && !strcmp(all, "1")) {
        if (!api_require(req, resp, ROLE_MODERATOR))
            return;
        items = json_array();
        sqlite3_stmt *st = db_stmt(req->db, "SELECT " COMMENT_COLS "WHERE c.target_kind=:k AND "
                                            "c.target_id=:id ORDER BY c.created, c.seq");
        if (st) {
            db_bind_text(st, ":k", kind);
            db_bind_text(st, ":id", req->params[0]);
            while (sqlite3_step(st) == SQLITE_ROW) {
                json_t *row = row_json(st);
                json_array_append_new(items, public_doc(row, true));
                json_decref(row);
            }
            db_done(st);
        }
    } else if (req->authed && req->who.user_id) {
        /* A logged-in person also sees the own pending comments (full form),
         * and every own comment is marked own. */
        items = json_array();
        sqlite3_stmt *st = db_stmt(
            req->db, "SELECT " COMMENT_COLS "WHERE c.target_kind=:k AND c.target_id=:id AND "
                     "(c.status IN ('approved','hidden') OR (c.status='pending' AND "
                     "c.author_user_id=:uid)) ORDER BY c.created, c.seq LIMIT 1000");
        if (st) {
            db_bind_text(st, ":k", kind);
            db_bind_text(st, ":id", req->params[0]);
            db_bind_int(st, ":uid", req->who.user_id);
            while (sqlite3_step(st) == SQLITE_ROW) {
                json_t *row = row_json(st);
                bool own = iget(row, "author_user_id") == req->who.user_id;
                json_t *doc = public_doc(row, own);
                json_object_set_new(doc, "own", json_boolean(own));
                json_array_append_new(items, doc);
                json_decref(row);
            }
            db_done(st);
        }
    } else {
        items = comment_thread(req->db, kind, req->params[0]);
    }
    http_json(resp, 200,
              json_pack("{s:s, s:s, s:I, s:o}", "target_kind", kind, "target_id", req->params[0],
                        "total", (json_int_t)json_array_size(items), "items", items));
}

static void h_post(http_req *req, http_resp *resp)
{
    const char *kind = kind_of(req);
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    if (!req->who.user_id) {
        http_problem(resp, 403, "forbidden", "Not allowed",
                     "Comments are written by people: log in with an account.", NULL, NULL);
        return;
    }
    if (is_state(req)) {
        http_problem(resp, 409, "foreign-record", "Discussed on the district's node",
                     "The state node shows the districts' discussions; comment on the "
                     "district's node.",
                     NULL, NULL);
        return;
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    static const char *const allowed[] = {"content", "parent", NULL};
    const char *bad = NULL;
    json_t *par = json_object_get(in, "parent");
    json_t *prow = NULL;
    if (!only_fields(resp, in, allowed))
        goto out;
    if (!target_ok(req->db, kind, req->params[0], NULL, 0, NULL, 0, NULL, 0)) {
        http_problem(resp, 404, "not-found", "Not found", "No such record.", NULL, NULL);
        goto out;
    }
    if ((bad = check_content(json_object_get(in, "content")))) {
        http_problem(resp, 422, "validation", "Invalid value", bad, "content", NULL);
        goto out;
    }
    if (par && !json_is_null(par)) {
        prow = json_is_string(par) ? load(req->db, json_string_value(par), false) : NULL;
        if (!prow || strcmp(util_jstr(prow, "target_kind"), kind) ||
            strcmp(util_jstr(prow, "target_id"), req->params[0]) ||
            strcmp(util_jstr(prow, "status"), "approved")) {
            http_problem(resp, 422, "validation", "Invalid value",
                         "parent: not a visible comment on this record", "parent", NULL);
            goto out;
        }
    }
    modset m;
    load_settings(req->db, &m);
    char key[64];
    snprintf(key, sizeof key, "comment:user:%lld", req->who.user_id);
    long retry;
    if (rate_count(req->db, key, HOUR, &retry) >= m.rate) {
        too_many(resp, retry, "Too many comments in the last hour; see Retry-After.");
        goto out;
    }
    bool post = is_staff(&req->who) || req->who.trusted || m.participants_post;
    new_comment n = {.target_kind = kind,
                     .target_id = req->params[0],
                     .parent_id = prow ? util_jstr(prow, "id") : NULL,
                     .user_id = req->who.user_id,
                     .author_name = req->who.display[0] ? req->who.display : req->who.name,
                     .content = json_string_value(json_object_get(in, "content")),
                     .status = post ? "approved" : "pending"};
    char id[40];
    if (db_begin(req->db)) {
        problem_internal(resp);
        goto out;
    }
    if (insert_comment(req->db, &n, id) || rate_add(req->db, key) || db_commit(req->db)) {
        db_rollback(req->db);
        problem_internal(resp);
        goto out;
    }
    pagecache_bump();
    json_t *row = load(req->db, id, false);
    char loc[96];
    snprintf(loc, sizeof loc, "/api/v1/comments/%s", id);
    http_set_header(resp, "Location", loc);
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", row ? iget(row, "version") : 1);
    http_set_header(resp, "ETag", etag);
    http_json(resp, 201, row ? public_doc(row, true) : json_object());
    json_decref(row);
    log_event(LOG_INFO, "comment.created", "comment", id, "status", n.status, NULL);
out:
    json_decref(prow);
    json_decref(in);
}

/* Who may see a comment in full: moderators, and its author. */
static bool sees_full(const http_req *req, const json_t *row)
{
    if (!req->authed)
        return false;
    return req->who.role >= ROLE_MODERATOR ||
           (req->who.user_id && iget(row, "author_user_id") == req->who.user_id);
}

static void h_get(http_req *req, http_resp *resp)
{
    json_t *row = load(req->db, req->params[0], false);
    if (!row || !strcmp(util_jstr(row, "status"), "deleted") ||
        (!sees_full(req, row) && strcmp(util_jstr(row, "status"), "approved") &&
         strcmp(util_jstr(row, "status"), "hidden"))) {
        not_found(resp);
    } else {
        char etag[32];
        snprintf(etag, sizeof etag, "\"%lld\"", iget(row, "version"));
        http_set_header(resp, "ETag", etag);
        http_json(resp, 200, public_doc(row, sees_full(req, row)));
    }
    json_decref(row);
}

static long long if_match(http_req *req, bool *bad)
{
    const char *h = http_header(req, "If-Match");
    *bad = false;
    if (!h)
        return -1;
    while (*h == ' ')
        h++;
    if (!strncmp(h, "W/", 2))
        h += 2;
    if (*h == '"')
        h++;
    char *end;
    long long v = strtoll(h, &end, 10);
    if (end == h || v < 1)
        *bad = true;
    return v;
}

static void h_patch(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    json_t *in = NULL, *row = load(req->db, req->params[0], false);
    if (!row || !strcmp(util_jstr(row, "status"), "deleted")) {
        not_found(resp);
        goto out;
    }
    if (!req->who.user_id || iget(row, "author_user_id") != req->who.user_id) {
        http_problem(resp, 403, "forbidden", "Not allowed", "Only the author edits a comment.",
                     NULL, NULL);
        goto out;
    }
    if (!strcmp(util_jstr(row, "status"), "hidden")) {
        http_problem(resp, 409, "hidden", "Hidden by moderation",
                     "A comment hidden by moderation cannot be edited.", NULL, NULL);
        goto out;
    }
    bool bad;
    long long v = if_match(req, &bad);
    if (bad) {
        http_problem(resp, 400, "invalid-parameter", "Bad If-Match", NULL, "If-Match", NULL);
        goto out;
    }
    if (v > 0 && v != iget(row, "version")) {
        http_problem(resp, 412, "stale", "Changed meanwhile",
                     "The comment was changed meanwhile; reload it.", "If-Match", NULL);
        goto out;
    }
    in = api_body_object(req, resp);
    if (!in)
        goto out;
    static const char *const allowed[] = {"content", NULL};
    const char *err;
    if (!only_fields(resp, in, allowed))
        goto out;
    if ((err = check_content(json_object_get(in, "content")))) {
        http_problem(resp, 422, "validation", "Invalid value", err, "content", NULL);
        goto out;
    }
    modset m;
    load_settings(req->db, &m);
    /* An edit of a pre-moderated author goes back to the queue. */
    bool post = is_staff(&req->who) || req->who.trusted || m.participants_post;
    const char *status = util_jstr(row, "status");
    const char *next = !strcmp(status, "approved") && !post ? "pending" : status;
    char now[21];
    util_now_iso(now);
    db *d = req->db;
    if (db_begin(d)) {
        problem_internal(resp);
        goto out;
    }
    sqlite3_stmt *st = db_stmt(d, "UPDATE comments SET content=:c, updated=:now, "
                                  "version=version+1 WHERE id=:id");
    int rc = -1;
    if (st) {
        db_bind_text(st, ":c", json_string_value(json_object_get(in, "content")));
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":id", req->params[0]);
        rc = db_exec_stmt(st);
    }
    if (!rc && strcmp(next, status))
        rc = set_status(d, req->params[0], next, "edited; awaits moderation again", NULL);
    else if (!rc && iget(row, "published")) {
        json_t *after = load(d, req->params[0], false);
        rc = after ? publish(d, after, "Update") : -1;
        json_decref(after);
    }
    if (rc || db_commit(d)) {
        db_rollback(d);
        problem_internal(resp);
        goto out;
    }
    pagecache_bump();
    json_decref(row);
    row = load(d, req->params[0], false);
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", row ? iget(row, "version") : 0);
    http_set_header(resp, "ETag", etag);
    http_json(resp, 200, row ? public_doc(row, true) : json_object());
out:
    json_decref(in);
    json_decref(row);
}

static void h_delete(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    json_t *row = load(req->db, req->params[0], false);
    if (!row || !strcmp(util_jstr(row, "status"), "deleted")) {
        not_found(resp);
        json_decref(row);
        return;
    }
    bool own = req->who.user_id && iget(row, "author_user_id") == req->who.user_id;
    if (!own && req->who.role < ROLE_MODERATOR) {
        http_problem(resp, 403, "forbidden", "Not allowed",
                     "Only the author or a moderator deletes a comment.", NULL, NULL);
        json_decref(row);
        return;
    }
    db *d = req->db;
    if (db_begin(d) || set_status(d, req->params[0], "deleted",
                                  own ? "deleted by its author" : "deleted by moderation",
                                  req->who.actor) ||
        db_commit(d)) {
        db_rollback(d);
        problem_internal(resp);
        json_decref(row);
        return;
    }
    pagecache_bump();
    log_event(LOG_INFO, "comment.deleted", "comment", req->params[0], "by", req->who.actor, NULL);
    http_json(resp, 200, json_pack("{s:s, s:s}", "id", req->params[0], "status", "deleted"));
    json_decref(row);
}

static void h_report(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    static const char *const allowed[] = {"reason", NULL};
    json_t *row = NULL;
    const char *reason = reason_of(util_jstr(in, "reason"));
    if (!only_fields(resp, in, allowed))
        goto out;
    if (!reason) {
        http_problem(resp, 422, "validation", "Invalid value",
                     "reason: one of spam, offensive, off-topic", "reason", NULL);
        goto out;
    }
    row = load(req->db, req->params[0], false);
    if (!row || strcmp(util_jstr(row, "status"), "approved")) {
        not_found(resp);
        goto out;
    }
    modset m;
    load_settings(req->db, &m);
    db *d = req->db;
    bool hidden = false;
    if (db_begin(d)) {
        problem_internal(resp);
        goto out;
    }
    int added = add_report(d, row, req->who.actor, reason, m.auto_hide, &hidden);
    if (added < 0 || db_commit(d)) {
        db_rollback(d);
        problem_internal(resp);
        goto out;
    }
    if (!added) {
        http_problem(resp, 409, "exists", "Reported already",
                     "You reported this comment already.", NULL, NULL);
        goto out;
    }
    pagecache_bump();
    json_t *after = load(d, req->params[0], false);
    http_json(resp, 201, json_pack("{s:s, s:s, s:I, s:s}", "comment", req->params[0], "reason",
                                   reason, "report_count",
                                   (json_int_t)(after ? iget(after, "report_count") : 0),
                                   "status", after ? util_jstr(after, "status") : "?"));
    json_decref(after);
out:
    json_decref(row);
    json_decref(in);
}

static void h_moderate(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    static const char *const allowed[] = {"action", "reason", NULL};
    json_t *row = NULL;
    const char *action = util_jstr(in, "action"), *reason = util_jstr(in, "reason");
    json_t *rj = json_object_get(in, "reason");
    if (!only_fields(resp, in, allowed))
        goto out;
    if (!action || (strcmp(action, "approve") && strcmp(action, "hide") &&
                    strcmp(action, "restore") && strcmp(action, "dismiss"))) {
        http_problem(resp, 422, "validation", "Invalid value",
                     "action: one of approve, hide, restore, dismiss", "action", NULL);
        goto out;
    }
    if ((rj && !json_is_null(rj) && !json_is_string(rj)) ||
        (reason && util_utf8_len(reason) > 500)) {
        http_problem(resp, 422, "validation", "Invalid value", "reason: text, at most 500 chars",
                     "reason", NULL);
        goto out;
    }
    bool blank = true;
    for (const char *p = reason ? reason : ""; *p && blank; p++)
        blank = isspace((unsigned char)*p);
    if (!strcmp(action, "hide") && blank) {
        http_problem(resp, 422, "validation", "Reason required",
                     "reason: say why the comment is hidden", "reason", NULL);
        goto out;
    }
    row = load(req->db, req->params[0], false);
    if (!row || !strcmp(util_jstr(row, "status"), "deleted")) {
        not_found(resp);
        goto out;
    }
    const char *cur = util_jstr(row, "status");
    const char *next = !strcmp(action, "hide") ? "hidden" : "approved";
    if ((!strcmp(action, "dismiss") && strcmp(cur, "approved")) ||
        (!strcmp(action, "approve") && strcmp(cur, "pending")) ||
        (!strcmp(action, "restore") && strcmp(cur, "hidden")) ||
        (!strcmp(action, "hide") && !strcmp(cur, "hidden"))) {
        char detail[160];
        snprintf(detail, sizeof detail, "action: cannot %s a comment that is %s", action, cur);
        http_problem(resp, 409, "conflict", "Not possible now", detail, "action", NULL);
        goto out;
    }
    db *d = req->db;
    int rc = db_begin(d);
    if (!rc && (!strcmp(action, "restore") || !strcmp(action, "dismiss"))) {
        /* The moderator decided: earlier reports no longer count. */
        sqlite3_stmt *st = db_stmt(d, "DELETE FROM comment_reports WHERE comment_id=:id");
        rc = !st;
        if (st) {
            db_bind_text(st, ":id", req->params[0]);
            rc = db_exec_stmt(st);
        }
        st = rc ? NULL : db_stmt(d, "UPDATE comments SET report_count=0 WHERE id=:id");
        if (st) {
            db_bind_text(st, ":id", req->params[0]);
            rc = db_exec_stmt(st);
        }
    }
    if (!rc && strcmp(action, "dismiss"))
        rc = set_status(d, req->params[0], next, blank ? NULL : reason, req->who.actor);
    else if (!rc) {
        /* dismiss: the comment stays as it is; only who decided is noted. */
        sqlite3_stmt *st = db_stmt(d, "UPDATE comments SET moderated_by=:b, "
                                      "moderation_reason=:r WHERE id=:id");
        rc = !st;
        if (st) {
            db_bind_text(st, ":b", req->who.actor);
            db_bind_text(st, ":r", blank ? "reports dismissed" : reason);
            db_bind_text(st, ":id", req->params[0]);
            rc = db_exec_stmt(st);
        }
    }
    if (rc || db_commit(d)) {
        db_rollback(d);
        problem_internal(resp);
        goto out;
    }
    pagecache_bump();
    log_event(LOG_INFO, "comment.moderated", "comment", req->params[0], "action", action, "by",
              req->who.actor, NULL);
    json_t *after = load(d, req->params[0], false);
    http_json(resp, 200, after ? public_doc(after, true) : json_object());
    json_decref(after);
out:
    json_decref(row);
    json_decref(in);
}

static void h_queue(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_MODERATOR))
        return;
    const char *state = http_query(req, "state");
    if (!state)
        state = "pending";
    if (!strcmp(state, "flagged")) {
        /* Records (measures, progress entries) flagged from the fediverse. */
        sqlite3_stmt *st = db_stmt(req->db, "SELECT r.comment_id, k.kind, k.title, count(*), "
                                            "max(r.created) FROM comment_reports r JOIN records k "
                                            "ON k.id=r.comment_id GROUP BY r.comment_id "
                                            "ORDER BY max(r.created) DESC LIMIT 500");
        json_t *items = json_array();
        while (st && sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(
                items, json_pack("{s:{s:s, s:s, s:s}, s:I, s:s}", "target", "kind", col(st, 1),
                                 "id", col(st, 0), "title", col(st, 2) ? col(st, 2) : "",
                                 "report_count", (json_int_t)sqlite3_column_int64(st, 3),
                                 "created", col(st, 4)));
        db_done(st);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) json_object_set_new(
            it, "reports",
            rows_of(req->db,
                    "SELECT reason, created, reporter FROM comment_reports WHERE comment_id=:t "
                    "ORDER BY created",
                    0, json_string_value(json_object_get(json_object_get(it, "target"), "id")),
                    false));
        http_json(resp, 200, json_pack("{s:s, s:I, s:o}", "state", state, "total",
                                       (json_int_t)json_array_size(items), "items", items));
        return;
    }
    const char *where = !strcmp(state, "pending")    ? "c.status='pending'"
                        : !strcmp(state, "reported") ? "c.report_count>0 AND c.status='approved'"
                        : !strcmp(state, "hidden")   ? "c.status='hidden'"
                                                     : NULL;
    if (!where) {
        http_problem(resp, 400, "invalid-parameter", "Bad state",
                     "state: one of pending, reported, hidden, flagged", "state", NULL);
        return;
    }
    char sql[1200];
    snprintf(sql, sizeof sql, "SELECT " COMMENT_COLS "WHERE %s ORDER BY c.seq LIMIT 500", where);
    sqlite3_stmt *st = db_stmt(req->db, sql);
    json_t *items = json_array();
    json_t *rows = json_array();
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(rows, row_json(st));
    db_done(st);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *doc = public_doc(row, true);
        char title[600] = "";
        target_ok(req->db, util_jstr(row, "target_kind"), util_jstr(row, "target_id"), NULL, 0, NULL, 0,
                  title, sizeof title);
        json_object_set_new(doc, "target",
                            json_pack("{s:s, s:s, s:s}", "kind", util_jstr(row, "target_kind"), "id",
                                      util_jstr(row, "target_id"), "title", title));
        json_t *reps = rows_of(req->db,
                               "SELECT reason, created FROM comment_reports WHERE "
                               "comment_id=:t ORDER BY created",
                               0, util_jstr(row, "id"), false);
        json_object_set_new(doc, "reports", reps);
        json_array_append_new(items, doc);
    }
    json_decref(rows);
    http_json(resp, 200, json_pack("{s:s, s:I, s:o}", "state", state, "total",
                                   (json_int_t)json_array_size(items), "items", items));
}

/* GET /comments/ID: the Note for ActivityPub clients, else the measure page. */
static void h_object(http_req *req, http_resp *resp)
{
    json_t *row = load(req->db, req->params[0], false);
    const char *a = http_header(req, "Accept");
    bool as2 = a && (strstr(a, "application/activity+json") ||
                     (strstr(a, "application/ld+json") && strstr(a, "activitystreams")));
    if (!row || util_jstr(row, "district") || !strcmp(util_jstr(row, "status"), "pending") || !cctx) {
        json_decref(row);
        http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
        return;
    }
    if (as2) {
        bool live = !strcmp(util_jstr(row, "status"), "approved");
        json_t *o = live ? note_of(req->db, row, true) : tombstone_of(row, true);
        http_json(resp, live ? 200 : 410, o);
        resp->ctype = "application/activity+json; charset=utf-8";
    } else {
        char loc[FED_URL + 128];
        if (!strcmp(util_jstr(row, "target_kind"), "progress"))
            snprintf(loc, sizeof loc, "/progress/%s#c-%s", util_jstr(row, "target_id"),
                     util_jstr(row, "id"));
        else
            snprintf(loc, sizeof loc, "/measures/%s#c-%s", util_jstr(row, "target_id"),
                     util_jstr(row, "id"));
        http_text(resp, 303, "text/plain; charset=utf-8", loc);
        http_set_header(resp, "Location", loc);
    }
    http_set_header(resp, "Vary", "Accept");
    json_decref(row);
}

/* ---- federation in -------------------------------------------------------- */

/* If url is BASE/measures/ID, BASE/progress/ID or BASE/comments/ID of this
 * node (base), fills kind ("measure", "progress", "comment") and id. */
static bool local_target(const char *base, const char *url, char *kind, char *id, size_t idlen)
{
    if (!url || !base)
        return false;
    size_t bl = strlen(base);
    if (strncmp(url, base, bl) || url[bl] != '/')
        return false;
    const char *rest = url + bl + 1;
    static const char *const pre[][2] = {
        {"measures/", "measure"}, {"progress/", "progress"}, {"comments/", "comment"}};
    for (int i = 0; i < 3; i++) {
        size_t pl = strlen(pre[i][0]);
        if (!strncmp(rest, pre[i][0], pl)) {
            const char *p = rest + pl;
            size_t n = strcspn(p, "/?#");
            if (n == 0 || n >= idlen || p[n])
                return false;
            memcpy(id, p, n);
            id[n] = '\0';
            strcpy(kind, pre[i][1]);
            return true;
        }
    }
    return false;
}

static const char *id_of(const json_t *x)
{
    if (json_is_string(x))
        return json_string_value(x);
    return util_jstr(x, "id");
}

/* The base URL of an actor URL's origin ("http://host:port"). */
static void origin_of(const char *url, char *out, size_t len)
{
    const char *p = strstr(url, "://");
    size_t n = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : 0;
    snprintf(out, len, "%.*s", (int)n, url);
}

/* A remote actor's display name from the actor cache. */
static void actor_name(db *d, const char *actor, char *out, size_t len)
{
    snprintf(out, len, "%.150s", actor);
    sqlite3_stmt *st = db_stmt(d, "SELECT doc FROM remote_actors WHERE id=:id");
    if (!st)
        return;
    db_bind_text(st, ":id", actor);
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *doc = json_loads(col(st, 0) ? col(st, 0) : "", 0, NULL);
        const char *n = util_jstr(doc, "name");
        if (!n || !*n)
            n = util_jstr(doc, "preferredUsername");
        if (n && *n) {
            char *t = comment_html_to_text(n);
            snprintf(out, len, "%.80s", t);
            free(t);
        }
        json_decref(doc);
    }
    db_done(st);
}

/* Text of a Note: its HTML content converted, else `source`/contentMap. */
static char *note_text(const json_t *obj)
{
    const char *html = util_jstr(obj, "content");
    if (!html) {
        const json_t *cm = json_object_get(obj, "contentMap");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)cm, k, v) if (!html && json_is_string(v)) html =
            json_string_value(v);
    }
    return html ? comment_html_to_text(html) : NULL;
}

#define REFUSE(st, ...)                                                                            \
    do {                                                                                           \
        *status = (st);                                                                            \
        snprintf(reason, rlen, __VA_ARGS__);                                                       \
        log_event(LOG_WARN, "comment.refused", "actor", who->id, "reason", reason, NULL);          \
        rc = 1;                                                                                    \
        goto out;                                                                                  \
    } while (0)

static int on_remote_note(db *d, const json_t *act, const char *type, const remote_actor *who,
                          const char *raw, inbox_status *status, char *reason, size_t rlen)
{
    const json_t *obj = json_object_get(act, "object");
    const char *base = cctx->cfg->base_url;
    char kind[16], tid[128];
    int rc = 0;
    json_t *prow = NULL, *existing = NULL;
    char *text = NULL;
    if (!json_is_object(obj) || !util_jstr(obj, "type") || strcmp(util_jstr(obj, "type"), "Note"))
        return 0;
    const char *oid = util_jstr(obj, "id");
    if (!strcmp(type, "Update")) {
        existing = oid ? load(d, oid, true) : NULL;
        if (!existing)
            return 0;
    } else if (!local_target(base, id_of(json_object_get(obj, "inReplyTo")), kind, tid,
                             sizeof tid)) {
        return 0; /* not a reply to us */
    }
    const char *attributed = id_of(json_object_get(obj, "attributedTo"));
    if (!oid || !util_same_host(oid, who->id))
        REFUSE(INBOX_FORBIDDEN, "the Note's id is not on the actor's host");
    if (attributed && strcmp(attributed, who->id))
        REFUSE(INBOX_FORBIDDEN, "the Note is attributed to someone else");
    text = note_text(obj);
    if (!text || !*text)
        REFUSE(INBOX_BAD_REQUEST, "the Note has no content");
    if (util_utf8_len(text) > CONTENT_MAX)
        REFUSE(INBOX_BAD_REQUEST, "the Note is longer than %d characters", CONTENT_MAX);
    modset m;
    load_settings(d, &m);
    char now[21];
    util_now_iso(now);
    if (existing) {
        if (!util_jstr(existing, "author_actor") || strcmp(util_jstr(existing, "author_actor"), who->id))
            REFUSE(INBOX_FORBIDDEN, "only the author updates a comment");
        if (!strcmp(util_jstr(existing, "status"), "deleted")) {
            *status = INBOX_IGNORED;
            snprintf(reason, rlen, "ignored: the comment was deleted");
            rc = 1;
            goto out;
        }
        sqlite3_stmt *st = db_stmt(d, "UPDATE comments SET content=:c, raw=:raw, updated=:now, "
                                      "version=version+1 WHERE id=:id");
        if (!st)
            goto fail;
        db_bind_text(st, ":c", text);
        db_bind_text(st, ":raw", raw);
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":id", util_jstr(existing, "id"));
        if (db_exec_stmt(st))
            goto fail;
        const char *cur = util_jstr(existing, "status");
        if (!strcmp(cur, "approved") && !m.remote_post) {
            if (set_status(d, util_jstr(existing, "id"), "pending", "edited; awaits moderation again",
                           NULL))
                goto fail;
        } else if (iget(existing, "published")) {
            json_t *after = load(d, util_jstr(existing, "id"), false);
            int prc = after ? publish(d, after, "Update") : -1;
            json_decref(after);
            if (prc)
                goto fail;
        }
        *status = INBOX_ACCEPTED;
        snprintf(reason, rlen, "comment %s updated", util_jstr(existing, "id"));
        rc = 1;
        goto out;
    }
    existing = load(d, oid, true);
    if (existing) {
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: comment exists already");
        rc = 1;
        goto out;
    }
    const char *target_kind = kind, *target_id = tid, *parent = NULL;
    if (!strcmp(kind, "comment")) {
        prow = load(d, tid, false);
        if (!prow || util_jstr(prow, "district") || strcmp(util_jstr(prow, "status"), "approved"))
            REFUSE(INBOX_FORBIDDEN, "inReplyTo names no visible comment of this node");
        target_kind = util_jstr(prow, "target_kind");
        target_id = util_jstr(prow, "target_id");
        parent = util_jstr(prow, "id");
    }
    if (!target_ok(d, target_kind, target_id, NULL, 0, NULL, 0, NULL, 0))
        REFUSE(INBOX_FORBIDDEN, "inReplyTo names no live record of this node");
    char key[REMOTE_URL + 32];
    snprintf(key, sizeof key, "comment:actor:%s", who->id);
    long retry;
    if (rate_count(d, key, HOUR, &retry) >= m.rate)
        REFUSE(INBOX_FORBIDDEN, "rate limit: more than %ld comments per hour from this actor",
               m.rate);
    char name[200];
    actor_name(d, who->id, name, sizeof name);
    new_comment n = {.target_kind = target_kind,
                     .target_id = target_id,
                     .parent_id = parent,
                     .actor = who->id,
                     .author_name = name,
                     .content = text,
                     .status = m.remote_post ? "approved" : "pending",
                     .ap_id = oid,
                     .raw = raw};
    char id[40];
    if (insert_comment(d, &n, id) || rate_add(d, key))
        goto fail;
    *status = INBOX_ACCEPTED;
    snprintf(reason, rlen, "comment %s stored (%s)", id, n.status);
    log_event(LOG_INFO, "comment.received", "comment", id, "actor", who->id, "status", n.status,
              NULL);
    rc = 1;
    goto out;
fail:
    rc = -1;
out:
    free(text);
    json_decref(prow);
    json_decref(existing);
    return rc;
}

static int on_remote_delete(db *d, const json_t *act, const remote_actor *who,
                            inbox_status *status, char *reason, size_t rlen)
{
    const char *oid = id_of(json_object_get(act, "object"));
    json_t *row = oid ? load(d, oid, true) : NULL;
    if (!row || !util_jstr(row, "author_actor"))
        return json_decref(row), 0;
    int rc = 1;
    if (strcmp(util_jstr(row, "author_actor"), who->id)) {
        *status = INBOX_FORBIDDEN;
        snprintf(reason, rlen, "only the author deletes a comment");
    } else if (!strcmp(util_jstr(row, "status"), "deleted")) {
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: deleted already");
    } else if (set_status(d, util_jstr(row, "id"), "deleted", "deleted by its author", who->id)) {
        rc = -1;
    } else {
        *status = INBOX_ACCEPTED;
        snprintf(reason, rlen, "comment %s deleted", util_jstr(row, "id"));
    }
    json_decref(row);
    return rc;
}

/* A Flag: every object that is one of our comments counts as a report. */
static int on_flag(db *d, const json_t *act, const remote_actor *who, inbox_status *status,
                   char *reason, size_t rlen)
{
    const json_t *objs = json_object_get(act, "object");
    json_t *list = json_is_array(objs) ? json_incref((json_t *)objs) : json_pack("[O]", objs);
    const char *why = reason_of(util_jstr(act, "content"));
    if (!why)
        why = reason_of(util_jstr(act, "summary"));
    if (!why)
        why = "offensive";
    modset m;
    load_settings(d, &m);
    int reports = 0, measures = 0, rc = 0;
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        char kind[16], id[128];
        if (!local_target(cctx->cfg->base_url, id_of(o), kind, id, sizeof id))
            continue;
        if (!strcmp(kind, "comment")) {
            json_t *row = load(d, id, false);
            bool hidden;
            if (row && !strcmp(util_jstr(row, "status"), "approved")) {
                int a = add_report(d, row, who->id, why, m.auto_hide, &hidden);
                if (a < 0)
                    rc = -1;
                reports += a > 0;
            }
            json_decref(row);
        } else if (target_ok(d, kind, id, NULL, 0, NULL, 0, NULL, 0)) {
            /* A flagged measure or progress entry: a report the moderators see
             * in the queue (state=flagged); records are never hidden by it. */
            char now[21];
            util_now_iso(now);
            sqlite3_stmt *st = db_stmt(d, "INSERT OR IGNORE INTO comment_reports(comment_id, "
                                          "reporter, reason, created) VALUES(:c, :r, :why, :now)");
            if (!st)
                rc = -1;
            else {
                db_bind_text(st, ":c", id);
                db_bind_text(st, ":r", who->id);
                db_bind_text(st, ":why", why);
                db_bind_text(st, ":now", now);
                if (db_exec_stmt(st))
                    rc = -1;
            }
            log_event(LOG_WARN, "record.flagged", "record", id, "actor", who->id, "reason", why,
                      NULL);
            measures++;
        }
    }
    json_decref(list);
    if (rc)
        return -1;
    if (!reports && !measures)
        return 0;
    *status = INBOX_ACCEPTED;
    snprintf(reason, rlen, "flag: %d comment report(s), %d record(s) flagged (%s)", reports,
             measures, why);
    return 1;
}

/* ---- the state node: districts' comments ---------------------------------- */

int comment_from_district(db *d, const char *code, const char *district_actor,
                          const json_t *act, const char *raw, inbox_status *status, char *reason,
                          size_t rlen)
{
    const char *type = util_jstr(act, "type");
    const json_t *obj = json_object_get(act, "object");
    if (!type)
        return 0;
    if (!strcmp(type, "Delete")) {
        const char *oid = id_of(obj);
        json_t *row = oid ? load(d, oid, true) : NULL;
        if (!row)
            return 0;
        int rc = 1;
        if (!util_jstr(row, "district") || strcmp(util_jstr(row, "district"), code)) {
            *status = INBOX_FORBIDDEN;
            snprintf(reason, rlen, "the comment does not belong to district %s", code);
        } else if (!strcmp(util_jstr(row, "status"), "deleted")) {
            *status = INBOX_IGNORED;
            snprintf(reason, rlen, "ignored: deleted already");
        } else if (json_is_integer(json_object_get(obj, "recordVersion")) &&
                   json_integer_value(json_object_get(obj, "recordVersion")) < iget(row, "version")) {
            /* Deliveries run in parallel: the re-approval (a Create with a
             * higher version) of a comment hidden for moderation can arrive
             * before the Delete of its hiding. */
            *status = INBOX_IGNORED;
            snprintf(reason, rlen, "ignored: a newer version is held");
        } else {
            sqlite3_stmt *st = db_stmt(d, "UPDATE comments SET status='deleted', content='', "
                                          "author_name='', raw=NULL, updated=:now, "
                                          "version=MAX(version, COALESCE(:v, version)) WHERE id=:id");
            char now[21];
            util_now_iso(now);
            if (!st)
                rc = -1;
            else {
                db_bind_text(st, ":now", now);
                const json_t *tv = json_object_get(obj, "recordVersion");
                if (json_is_integer(tv))
                    db_bind_int(st, ":v", json_integer_value(tv));
                db_bind_text(st, ":id", util_jstr(row, "id"));
                rc = db_exec_stmt(st) ? -1 : 1;
            }
            *status = INBOX_ACCEPTED;
            snprintf(reason, rlen, "comment removed");
            pagecache_bump();
        }
        json_decref(row);
        return rc;
    }
    if (strcmp(type, "Create") && strcmp(type, "Update"))
        return 0;
    const json_t *lit = json_object_get(obj, "comment");
    if (!json_is_object(obj) || !json_is_object(lit))
        return 0;
    const char *oid = util_jstr(obj, "id");
    *status = INBOX_FORBIDDEN;
    if (!oid || !util_same_host(oid, district_actor) ||
        (util_jstr(obj, "attributedTo") && strcmp(util_jstr(obj, "attributedTo"), district_actor))) {
        snprintf(reason, rlen, "the comment is not the district's own");
        return 1;
    }
    const char *tk = util_jstr(lit, "target_kind"), *tid = util_jstr(lit, "target_id"),
               *content = util_jstr(lit, "content"), *name = util_jstr(lit, "author_name");
    if (!tk || !tid || !content || !name || (strcmp(tk, "measure") && strcmp(tk, "progress")) ||
        util_utf8_len(content) > CONTENT_MAX) {
        snprintf(reason, rlen, "the comment is incomplete or too long");
        return 1;
    }
    /* inReplyTo must be the district's own record or comment. */
    char dbase[600], kind[16], rid[128], rdist[16] = "";
    origin_of(district_actor, dbase, sizeof dbase);
    const char *irt = id_of(json_object_get(obj, "inReplyTo"));
    if (!local_target(dbase, irt, kind, rid, sizeof rid)) {
        snprintf(reason, rlen, "inReplyTo is not on the district's node");
        return 1;
    }
    const char *parent = NULL;
    json_t *prow = NULL;
    if (!strcmp(kind, "comment")) {
        prow = load(d, irt, true);
        if (!prow || !util_jstr(prow, "district") || strcmp(util_jstr(prow, "district"), code)) {
            json_decref(prow);
            snprintf(reason, rlen, "inReplyTo names no comment of district %s", code);
            return 1;
        }
        parent = util_jstr(prow, "id");
    } else if (strcmp(kind, tk) || strcmp(rid, tid)) {
        snprintf(reason, rlen, "inReplyTo and the comment's target differ");
        return 1;
    }
    if (!target_ok(d, tk, tid, rdist, sizeof rdist, NULL, 0, NULL, 0) || strcmp(rdist, code)) {
        json_decref(prow);
        snprintf(reason, rlen, "the comment's %s %s is not a record of district %s", tk, tid,
                 code);
        return 1;
    }
    long long version = json_integer_value(json_object_get(lit, "version"));
    json_t *row = load(d, oid, true);
    int rc = 1;
    if (row) {
        if (version <= iget(row, "version")) {
            *status = INBOX_IGNORED;
            snprintf(reason, rlen, "ignored: not newer");
        } else {
            sqlite3_stmt *st = db_stmt(d, "UPDATE comments SET content=:c, author_name=:n, "
                                          "status='approved', version=:v, updated=:u, raw=:raw "
                                          "WHERE id=:id");
            if (!st)
                rc = -1;
            else {
                db_bind_text(st, ":c", content);
                db_bind_text(st, ":n", name);
                db_bind_int(st, ":v", version);
                db_bind_text(st, ":u", util_jstr(lit, "updated") ? util_jstr(lit, "updated") : "");
                db_bind_text(st, ":raw", raw);
                db_bind_text(st, ":id", util_jstr(row, "id"));
                rc = db_exec_stmt(st) ? -1 : 1;
            }
            *status = INBOX_ACCEPTED;
            snprintf(reason, rlen, "comment replicated (updated)");
        }
    } else {
        new_comment n = {.target_kind = tk,
                         .target_id = tid,
                         .parent_id = parent,
                         .author_name = name,
                         .content = content,
                         .status = "approved",
                         .ap_id = oid,
                         .district = code,
                         .raw = raw,
                         .created = util_jstr(lit, "created"),
                         .updated = util_jstr(lit, "updated"),
                         .version = version};
        char id[40];
        if (insert_comment(d, &n, id))
            rc = -1;
        *status = INBOX_ACCEPTED;
        snprintf(reason, rlen, "comment replicated");
    }
    if (rc == 1 && *status == INBOX_ACCEPTED)
        pagecache_bump();
    json_decref(row);
    json_decref(prow);
    return rc;
}

static int content_hook(void *ud, db *d, const json_t *act, const char *type,
                        const remote_actor *who, const char *raw, inbox_status *status,
                        char *reason, size_t rlen)
{
    (void)ud;
    if (!cctx)
        return 0;
    if (!strcmp(cctx->cfg->role, "state")) {
        /* Only registered districts' comments; everything else goes on to
         * the aggregator's rules. */
        sqlite3_stmt *st = db_stmt(d, "SELECT code FROM districts WHERE actor_id=:a");
        char code[16] = "";
        if (!st)
            return -1;
        db_bind_text(st, ":a", who->id);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(code, sizeof code, "%s", col(st, 0));
        db_done(st);
        if (!code[0])
            return 0;
        if (!json_object_get(act, "proof"))
            return 0; /* the aggregator refuses it with its reason */
        return comment_from_district(d, code, who->id, act, raw, status, reason, rlen);
    }
    if (!strcmp(type, "Create") || !strcmp(type, "Update"))
        return on_remote_note(d, act, type, who, raw, status, reason, rlen);
    if (!strcmp(type, "Delete"))
        return on_remote_delete(d, act, who, status, reason, rlen);
    if (!strcmp(type, "Flag"))
        return on_flag(d, act, who, status, reason, rlen);
    return 0;
}

void comment_init(const fed_ctx *ctx)
{
    cctx = ctx;
    static bool hooked;
    if (!hooked) {
        inbox_hooks h = {NULL, content_hook, NULL, 10, NULL};
        inbox_add_hooks(&h);
        hooked = true;
    }
}

const http_route comment_routes[] = {
    {"POST", "/api/v1/register", h_register},
    {"GET", "/api/v1/registrations", h_registrations},
    {"POST", "/api/v1/registrations/*/approve", h_registration_action},
    {"POST", "/api/v1/registrations/*/reject", h_registration_action},
    {"POST", "/api/v1/users/*/trust", h_trust},
    {"GET", "/api/v1/participants", h_participants},
    {"GET", "/api/v1/me/export", h_export},
    {"DELETE", "/api/v1/me", h_delete_me},
    {"GET", "/api/v1/measures/*/comments", h_list},
    {"POST", "/api/v1/measures/*/comments", h_post},
    {"GET", "/api/v1/progress/*/comments", h_list},
    {"POST", "/api/v1/progress/*/comments", h_post},
    {"GET", "/api/v1/comments/*", h_get},
    {"PATCH", "/api/v1/comments/*", h_patch},
    {"DELETE", "/api/v1/comments/*", h_delete},
    {"POST", "/api/v1/comments/*/reports", h_report},
    {"POST", "/api/v1/comments/*/moderation", h_moderate},
    {"GET", "/api/v1/moderation/queue", h_queue},
    {"GET", "/comments/*", h_object},
    {NULL, NULL, NULL},
};
