/* The coordinators' channel; see channel.h and protocol-docs/channel.md. */
#include "channel.h"
#include "ap.h"
#include "api.h"
#include "as2.h"
#include "delivery.h"
#include "district.h"
#include "inbox.h"
#include "log.h"
#include "outbox.h"
#include "proof.h"
#include "remote.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const fed_ctx *cctx;

#define MAX_CONTENT 5000

static bool is_state(void)
{
    return cctx && !strcmp(cctx->cfg->role, "state");
}

/* Whether code names a current field of action or theme. */
static bool taxonomy_code(db *d, const char *code, char *name, size_t namelen)
{
    if (!code || strlen(code) > 8)
        return false;
    sqlite3_stmt *st = db_stmt(d, "SELECT name_de, kind FROM taxonomy WHERE code=:c AND retired=0");
    if (!st)
        return false;
    db_bind_text(st, ":c", code);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok && name)
        snprintf(name, namelen, "%s %s: %s",
                 strcmp((const char *)sqlite3_column_text(st, 1), "field") ? "Querschnittsthema"
                                                                            : "Handlungsfeld",
                 code, (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    return ok;
}

/* A group as this node knows it. */
typedef struct group_info {
    char code[16];
    char url[FED_URL], name[400], inbox[FED_URL], followers[FED_URL];
} group_info;

/* The state's own group CODE, or the joined group CODE on a district. */
static bool group_by_code(db *d, const char *code, group_info *g)
{
    memset(g, 0, sizeof *g);
    if (is_state()) {
        if (!taxonomy_code(d, code, g->name, sizeof g->name))
            return false;
        fed_ctx v;
        fed_ctx_group(cctx, code, &v);
        snprintf(g->code, sizeof g->code, "%s", code);
        snprintf(g->url, sizeof g->url, "%s", v.actor);
        snprintf(g->inbox, sizeof g->inbox, "%s", v.inbox);
        snprintf(g->followers, sizeof g->followers, "%s", v.followers);
        return true;
    }
    sqlite3_stmt *st = db_stmt(d, "SELECT code, url, name, inbox, followers FROM channel_groups "
                                  "WHERE code=:c");
    if (!st)
        return false;
    db_bind_text(st, ":c", code);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        snprintf(g->code, sizeof g->code, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(g->url, sizeof g->url, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(g->name, sizeof g->name, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(g->inbox, sizeof g->inbox, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(g->followers, sizeof g->followers, "%s",
                 (const char *)sqlite3_column_text(st, 4));
    }
    db_done(st);
    return ok;
}

/* On the state: which of its groups a URL names (the Group actor or its
 * followers collection). */
static bool own_group_of(db *d, const char *url, char *code, size_t codelen)
{
    if (!url || !is_state())
        return false;
    char prefix[FED_URL + 16];
    snprintf(prefix, sizeof prefix, "%s/groups/", cctx->cfg->base_url);
    size_t pl = strlen(prefix);
    if (strncmp(url, prefix, pl))
        return false;
    char c[16];
    size_t n = strcspn(url + pl, "/");
    if (n == 0 || n >= sizeof c)
        return false;
    memcpy(c, url + pl, n);
    c[n] = '\0';
    if (url[pl + n] && strcmp(url + pl + n, "/followers"))
        return false;
    if (!taxonomy_code(d, c, NULL, 0))
        return false;
    snprintf(code, codelen, "%s", c);
    return true;
}

/* Looks through to, cc and audience of o for one of our groups. */
static bool addressed_group(db *d, const json_t *o, char *code, size_t codelen)
{
    static const char *const keys[] = {"audience", "to", "cc"};
    for (int k = 0; k < 3; k++) {
        const json_t *v = json_object_get(o, keys[k]);
        if (json_is_string(v) && own_group_of(d, json_string_value(v), code, codelen))
            return true;
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e) && own_group_of(d, json_string_value(e), code, codelen))
                return true;
        }
    }
    return false;
}

static bool names_public(const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return !strcmp(s, AS2_PUBLIC) || !strcmp(s, "as:Public") || !strcmp(s, "Public");
    }
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (names_public(e))
            return true;
    }
    return false;
}

static bool is_public(const json_t *o)
{
    return names_public(json_object_get(o, "to")) || names_public(json_object_get(o, "cc"));
}

/* The post's plain text: source.content when it is text/plain, else the
 * HTML content with tags removed and the basic entities decoded. */
static char *plain_text(const json_t *note)
{
    const json_t *src = json_object_get(note, "source");
    const char *mt = util_jstr(src, "mediaType");
    if (util_jstr(src, "content") && mt && !strcmp(mt, "text/plain"))
        return strdup(util_jstr(src, "content"));
    const char *html = util_jstr(note, "content");
    if (!html)
        return NULL;
    buf b;
    buf_init(&b);
    for (const char *p = html; *p;) {
        if (*p == '<') {
            const char *e = strchr(p, '>');
            if (!e)
                break;
            if (!strncmp(p, "<br", 3))
                buf_puts(&b, "\n");
            else if (!strncmp(p, "</p>", 4) && e[1])
                buf_puts(&b, "\n\n");
            p = e + 1;
        } else if (*p == '&') {
            static const char *const ent[][2] = {{"&lt;", "<"},    {"&gt;", ">"},
                                                 {"&amp;", "&"},   {"&quot;", "\""},
                                                 {"&#39;", "'"},   {"&apos;", "'"}};
            size_t k;
            for (k = 0; k < sizeof ent / sizeof ent[0]; k++)
                if (!strncmp(p, ent[k][0], strlen(ent[k][0])))
                    break;
            if (k < sizeof ent / sizeof ent[0]) {
                buf_puts(&b, ent[k][1]);
                p += strlen(ent[k][0]);
            } else {
                buf_append(&b, p++, 1);
            }
        } else {
            buf_append(&b, p++, 1);
        }
    }
    return buf_take(&b);
}

static bool content_ok(const char *t)
{
    if (!t || !util_utf8_valid(t, strlen(t)))
        return false;
    size_t n = util_utf8_len(t);
    bool blank = true;
    for (const char *p = t; *p && blank; p++)
        blank = *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t';
    return n >= 1 && n <= MAX_CONTENT && !blank;
}

/* A signed activity by c with the given addressing (to and cc stolen,
 * cc may be NULL). The object is embedded as it is (stolen). */
static json_t *signed_activity(const fed_ctx *c, const char *type, json_t *object, json_t *to,
                               json_t *cc)
{
    char id[FED_URL + 64], rid[40], now[21];
    util_ordered_id(rid, sizeof rid);
    snprintf(id, sizeof id, "%s/activities/%s", c->cfg->base_url, rid);
    util_now_iso(now);
    json_t *a = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:o}", "@context", as2_context(), "id",
                          id, "type", type, "actor", c->actor, "published", now, "to", to,
                          "object", object);
    if (cc)
        json_object_set_new(a, "cc", cc);
    if (!a || proof_sign(a, c->keys.ed_sk, c->assertion_id, "assertionMethod", 0)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* The display name of a post's author: the district's name by the code the
 * note carries, else the actor URL. */
static void author_name(const json_t *note, const char *author, char *out, size_t outlen)
{
    const district *di = district_find(util_jstr(note, "districtCode") ? util_jstr(note, "districtCode") : "");
    if (di && !strcmp(di->code, "15"))
        snprintf(out, outlen, "Land Sachsen-Anhalt");
    else if (di)
        snprintf(out, outlen, "Integrationsbüro %s", di->name);
    else
        snprintf(out, outlen, "%s", author);
}

typedef struct parent_info {
    bool found;
    char thread[FED_URL * 2];
    char code[16];
    bool members_only;
} parent_info;

static parent_info find_parent(db *d, const char *id)
{
    parent_info p = {0};
    if (!id)
        return p;
    sqlite3_stmt *st =
        db_stmt(d, "SELECT thread, code, members_only FROM channel_posts WHERE id=:id");
    if (!st)
        return p;
    db_bind_text(st, ":id", id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        p.found = true;
        snprintf(p.thread, sizeof p.thread, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(p.code, sizeof p.code, "%s", (const char *)sqlite3_column_text(st, 1));
        p.members_only = sqlite3_column_int(st, 2);
    }
    db_done(st);
    return p;
}

/* Stores a post; returns its seq (0 when it was known already), -1 on a
 * storage error. */
static long long store_post(db *d, const group_info *g, const json_t *note, const char *text,
                            bool members_only, const char *written_by, const json_t *activity)
{
    const char *id = util_jstr(note, "id"), *reply = util_jstr(note, "inReplyTo");
    const char *author = util_jstr(note, "attributedTo");
    parent_info p = find_parent(d, reply);
    const char *thread = p.found ? p.thread : reply && util_jstr(note, "context") ? util_jstr(note, "context")
                                                                             : id;
    char name[400], now[21];
    author_name(note, author, name, sizeof name);
    util_now_iso(now);
    char *act = json_dumps(activity, JSON_COMPACT);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO channel_posts(id, grp, code, thread, in_reply_to, author, author_name, "
           "content, members_only, published, received, written_by, activity) VALUES(:id, :grp, "
           ":code, :thread, :reply, :author, :name, :content, :mo, :pub, :now, :by, :act) "
           "ON CONFLICT(id) DO NOTHING");
    long long rc = -1;
    if (st && act) {
        db_bind_text(st, ":id", id);
        db_bind_text(st, ":grp", g->url);
        db_bind_text(st, ":code", g->code);
        db_bind_text(st, ":thread", thread);
        db_bind_text(st, ":reply", reply);
        db_bind_text(st, ":author", author);
        db_bind_text(st, ":name", name);
        db_bind_text(st, ":content", text);
        db_bind_int(st, ":mo", members_only);
        db_bind_text(st, ":pub", util_jstr(note, "published") ? util_jstr(note, "published") : now);
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":by", written_by);
        db_bind_text(st, ":act", act);
        if (!db_exec_stmt(st))
            rc = sqlite3_changes(db_handle(d)) ? sqlite3_last_insert_rowid(db_handle(d)) : 0;
    } else if (st) {
        db_done(st);
    }
    free(act);
    return rc;
}

/* The state's group announces a post (the author's Create, embedded as it
 * was signed) to its members. A members-only Announce is addressed to the
 * members only and is not kept in the group's public outbox. */
static int group_announce(db *d, const char *code, const json_t *create, bool members_only)
{
    fed_ctx g;
    fed_ctx_group(cctx, code, &g);
    json_t *to = members_only ? json_pack("[s]", g.followers) : json_pack("[s]", AS2_PUBLIC);
    json_t *cc = members_only ? NULL : json_pack("[s]", g.followers);
    json_t *ann = signed_activity(&g, "Announce", json_deep_copy(create), to, cc);
    if (!ann)
        return -1;
    json_object_set_new(ann, "audience", json_string(g.actor));
    /* audience was added after signing: sign again over the whole. */
    json_object_del(ann, "proof");
    int rc = proof_sign(ann, g.keys.ed_sk, g.assertion_id, "assertionMethod", 0);
    if (!rc && !members_only) {
        rc = outbox_append(d, &g, ann);
    } else if (!rc) {
        /* Members only: the group's followers that are registered
         * districts (anyone may follow a group and read its public
         * posts; members-only posts are for the offices). */
        char *txt = json_dumps(ann, JSON_COMPACT);
        sqlite3_stmt *st = db_stmt(
            d, "INSERT INTO deliveries(activity_id, activity, inbox, state, created, "
               "next_attempt, local) SELECT :aid, :act, ib, 'pending', :now, :now, :l FROM "
               "(SELECT DISTINCT COALESCE(f.shared_inbox, f.inbox) AS ib FROM followers f "
               "WHERE f.state='accepted' AND f.local=:l AND EXISTS (SELECT 1 FROM districts "
               "x WHERE x.actor_id=f.actor_id))");
        if (!st || !txt) {
            db_done(st);
            rc = -1;
        } else {
            db_bind_text(st, ":aid", util_jstr(ann, "id"));
            db_bind_text(st, ":act", txt);
            db_bind_int(st, ":now", (long long)time(NULL));
            db_bind_text(st, ":l", code);
            rc = db_exec_stmt(st);
            if (!rc)
                delivery_wake();
        }
        free(txt);
    }
    json_decref(ann);
    return rc;
}

static long long district_code_of(db *d, const char *actor, char *code, size_t codelen)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT code FROM districts WHERE actor_id=:a");
    if (!st)
        return 0;
    db_bind_text(st, ":a", actor);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        snprintf(code, codelen, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    return ok;
}

static bool is_member(db *d, const char *code, const char *actor)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM followers WHERE local=:l AND actor_id=:a AND "
                                  "state='accepted'");
    if (!st)
        return false;
    db_bind_text(st, ":l", code);
    db_bind_text(st, ":a", actor);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return ok;
}

/* State: a Create{Note} addressed to one of our groups. */
static int on_group_post(db *d, const json_t *act, const remote_actor *who, const char *code,
                         inbox_status *status, char *reason, size_t rlen)
{
    const json_t *note = json_object_get(act, "object");
    char dcode[16] = "";
    *status = INBOX_FORBIDDEN;
    if (!district_code_of(d, who->id, dcode, sizeof dcode)) {
        snprintf(reason, rlen, "%s is not a registered district: it cannot post to group %s",
                 who->id, code);
        return 1;
    }
    if (!is_member(d, code, who->id)) {
        snprintf(reason, rlen, "district %s is not a member of group %s (follow it first)",
                 dcode, code);
        return 1;
    }
    if (!json_object_get(act, "proof")) {
        snprintf(reason, rlen, "a group post must carry an eddsa-jcs-2022 proof");
        return 1;
    }
    const char *nid = util_jstr(note, "id"), *by = util_jstr(note, "attributedTo");
    if (!nid || !util_same_host(nid, who->id) || !by || strcmp(by, who->id)) {
        snprintf(reason, rlen, "the post's id or author is not the sender's");
        return 1;
    }
    const char *claimed = util_jstr(note, "districtCode");
    if (claimed && strcmp(claimed, dcode)) {
        snprintf(reason, rlen, "the post claims district %s, but the sender is %s", claimed,
                 dcode);
        return 1;
    }
    char *text = plain_text(note);
    if (!content_ok(text)) {
        free(text);
        snprintf(reason, rlen, "the post's content is empty or longer than %d characters",
                 MAX_CONTENT);
        return 1;
    }
    bool members_only = !is_public(note);
    const char *reply = util_jstr(note, "inReplyTo");
    if (reply) {
        parent_info p = find_parent(d, reply);
        if (!p.found || strcmp(p.code, code)) {
            free(text);
            *status = INBOX_IGNORED;
            snprintf(reason, rlen, "ignored: reply to a post unknown in group %s", code);
            return 1;
        }
        if (p.members_only && !members_only) {
            free(text);
            snprintf(reason, rlen, "a public reply in a members-only thread");
            return 1;
        }
    }
    group_info g;
    group_by_code(d, code, &g);
    long long seq = store_post(d, &g, note, text, members_only, NULL, act);
    free(text);
    if (seq < 0)
        return -1;
    if (seq == 0) {
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: post known already");
        return 1;
    }
    if (group_announce(d, code, act, members_only))
        return -1;
    *status = INBOX_ACCEPTED;
    snprintf(reason, rlen, "group %s: post from %s announced to the members%s", code, dcode,
             members_only ? " (members only)" : "");
    return 1;
}

/* District: an Announce from a group we joined, carrying a Create{Note}. */
static int on_group_announce(db *d, const json_t *act, const remote_actor *who,
                             inbox_status *status, char *reason, size_t rlen)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT code FROM channel_groups WHERE url=:u");
    if (!st)
        return -1;
    db_bind_text(st, ":u", who->id);
    char code[16] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(code, sizeof code, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    if (!code[0])
        return 0;
    const json_t *obj = json_object_get(act, "object");
    const json_t *note = obj;
    const char *ot = util_jstr(obj, "type");
    if (ot && !strcmp(ot, "Create"))
        note = json_object_get(obj, "object");
    if (!util_jstr(note, "type") || strcmp(util_jstr(note, "type"), "Note") || !util_jstr(note, "id") ||
        !util_jstr(note, "attributedTo"))
        return 0; /* a measure the group shares: generic handling */
    char *text = plain_text(note);
    if (!content_ok(text)) {
        free(text);
        *status = INBOX_IGNORED;
        snprintf(reason, rlen, "ignored: empty or too long post");
        return 1;
    }
    group_info g;
    if (!group_by_code(d, code, &g)) {
        free(text);
        return 0;
    }
    bool members_only = !is_public(note);
    long long seq = store_post(d, &g, note, text, members_only, NULL, act);
    free(text);
    if (seq < 0)
        return -1;
    *status = seq ? INBOX_ACCEPTED : INBOX_IGNORED;
    snprintf(reason, rlen, "%s", seq ? "channel post stored" : "ignored: post known already");
    return 1;
}

static int content_hook(void *ud, db *d, const json_t *act, const char *type,
                        const remote_actor *who, const char *raw, inbox_status *status,
                        char *reason, size_t rlen)
{
    (void)ud;
    (void)raw;
    if (!cctx)
        return 0;
    if (is_state() && !strcmp(type, "Create")) {
        const json_t *note = json_object_get(act, "object");
        const char *nt = util_jstr(note, "type");
        char code[16];
        if (!nt || strcmp(nt, "Note"))
            return 0;
        if (!addressed_group(d, note, code, sizeof code) &&
            !addressed_group(d, act, code, sizeof code))
            return 0;
        return on_group_post(d, act, who, code, status, reason, rlen);
    }
    if (!is_state() && !strcmp(type, "Announce"))
        return on_group_announce(d, act, who, status, reason, rlen);
    return 0;
}

void channel_init(const fed_ctx *ctx)
{
    cctx = ctx;
    static bool hooked;
    if (!hooked) {
        inbox_hooks h = {NULL, content_hook, NULL, 20, NULL};
        inbox_add_hooks(&h);
        hooked = true;
    }
}

int channel_join(db *d, const char *group_url, char *code, size_t codelen, char *err,
                 size_t errlen)
{
    if (!cctx) {
        snprintf(err, errlen, "federation is not initialised");
        return -1;
    }
    if (is_state()) {
        snprintf(err, errlen, "the state node hosts the groups; districts join them");
        return -1;
    }
    json_t *doc = NULL;
    if (remote_fetch(cctx, group_url, &doc, err, errlen))
        return -1;
    const char *type = util_jstr(doc, "type"), *id = util_jstr(doc, "id");
    const char *inbox = util_jstr(doc, "inbox"), *followers = util_jstr(doc, "followers");
    const json_t *ep = json_object_get(doc, "endpoints");
    const char *shared = util_jstr(ep, "sharedInbox");
    const char *slash = id ? strrchr(id, '/') : NULL;
    int rc = -1;
    if (!type || strcmp(type, "Group") || !id || !inbox || !followers || !slash ||
        !strstr(id, "/groups/") || strlen(slash + 1) == 0 || strlen(slash + 1) > 8) {
        snprintf(err, errlen, "%s is not a dinet state Group actor (BASE/groups/CODE)", group_url);
        goto out;
    }
    (void)shared; /* posts go to the group's own inbox, so it knows the group */
    char gcode[16];
    snprintf(gcode, sizeof gcode, "%s", slash + 1);
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO channel_groups(url, code, name, inbox, followers, joined) VALUES(:u, :c, "
           ":n, :i, :f, :now) ON CONFLICT(url) DO UPDATE SET name=excluded.name, "
           "inbox=excluded.inbox, followers=excluded.followers");
    if (!st)
        goto out;
    db_bind_text(st, ":u", id);
    db_bind_text(st, ":c", gcode);
    db_bind_text(st, ":n", util_jstr(doc, "name") ? util_jstr(doc, "name") : gcode);
    db_bind_text(st, ":i", inbox);
    db_bind_text(st, ":f", followers);
    db_bind_text(st, ":now", now);
    if (db_exec_stmt(st)) {
        snprintf(err, errlen, "a group with the code %s from another node is joined already",
                 gcode);
        goto out;
    }
    char actor[1024];
    if (ap_follow(d, id, actor, sizeof actor, err, errlen))
        goto out;
    snprintf(code, codelen, "%s", gcode);
    log_event(LOG_INFO, "channel.joined", "group", id, NULL);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* ---- API ----------------------------------------------------------------- */

static const char *reader(const http_req *req)
{
    return req->who.actor;
}

static long long unread_in(db *d, const char *code, const char *who)
{
    sqlite3_stmt *st = db_stmt(
        d, "SELECT count(*) FROM channel_posts p LEFT JOIN channel_reads r ON r.reader=:r AND "
           "r.thread=p.thread WHERE p.code=:c AND p.seq > COALESCE(r.seen, 0) AND "
           "COALESCE(p.written_by, '') != :r");
    if (!st)
        return 0;
    db_bind_text(st, ":r", who);
    db_bind_text(st, ":c", code);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return n;
}

static long long threads_in(db *d, const char *code)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT count(*) FROM channel_posts WHERE code=:c AND id=thread");
    if (!st)
        return 0;
    db_bind_text(st, ":c", code);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);
    return n;
}

static json_t *group_json(db *d, const group_info *g, const char *who)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I}", "code", g->code, "url", g->url, "name",
                     g->name, "unread", (json_int_t)unread_in(d, g->code, who), "threads",
                     (json_int_t)threads_in(d, g->code));
}

static void h_groups(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    json_t *items = json_array();
    sqlite3_stmt *st =
        is_state() ? db_stmt(req->db, "SELECT code FROM taxonomy WHERE retired=0 "
                                      "ORDER BY kind, position")
                   : db_stmt(req->db, "SELECT code FROM channel_groups ORDER BY code");
    char codes[32][16];
    int n = 0;
    while (st && n < 32 && sqlite3_step(st) == SQLITE_ROW)
        snprintf(codes[n++], 16, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    for (int i = 0; i < n; i++) {
        group_info g;
        if (group_by_code(req->db, codes[i], &g))
            json_array_append_new(items, group_json(req->db, &g, reader(req)));
    }
    http_json(resp, 200, json_pack("{s:o, s:b}", "items", items, "host", is_state()));
}

static void h_join(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *url = util_jstr(in, "url");
    char code[16], err[1024] = "";
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        http_problem(resp, 422, "validation", "url required",
                     "The URL of a state Group actor, like https://land.example/groups/HF3.",
                     "url", NULL);
    } else if (is_state()) {
        http_problem(resp, 409, "conflict", "The state hosts the groups",
                     "Districts join the state's groups; the state's accounts post directly.",
                     NULL, NULL);
    } else if (channel_join(req->db, url, code, sizeof code, err, sizeof err)) {
        http_problem(resp, 422, "validation", "Cannot join", err, "url", NULL);
    } else {
        group_info g;
        group_by_code(req->db, code, &g);
        json_t *j = group_json(req->db, &g, reader(req));
        json_object_set_new(j, "state", json_string("pending"));
        http_json(resp, 202, j);
    }
    json_decref(in);
}

static json_t *post_json(sqlite3_stmt *st, int c0)
{
    /* columns: seq, id, in_reply_to, author, author_name, content,
     * members_only, published, written_by, unread */
    json_t *o = json_pack(
        "{s:I, s:s, s:s?, s:s, s:s, s:s, s:b, s:s, s:b}", "seq",
        (json_int_t)sqlite3_column_int64(st, c0), "id",
        (const char *)sqlite3_column_text(st, c0 + 1), "in_reply_to",
        (const char *)sqlite3_column_text(st, c0 + 2), "author",
        (const char *)sqlite3_column_text(st, c0 + 3), "author_name",
        sqlite3_column_text(st, c0 + 4) ? (const char *)sqlite3_column_text(st, c0 + 4) : "",
        "content", (const char *)sqlite3_column_text(st, c0 + 5), "members_only",
        sqlite3_column_int(st, c0 + 6), "published",
        (const char *)sqlite3_column_text(st, c0 + 7), "unread", sqlite3_column_int(st, c0 + 9));
    if (sqlite3_column_text(st, c0 + 8))
        json_object_set_new(o, "written_by",
                            json_string((const char *)sqlite3_column_text(st, c0 + 8)));
    return o;
}

static void h_threads(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    group_info g;
    if (!group_by_code(req->db, req->params[0], &g)) {
        http_problem(resp, 404, "not-found", "No such group",
                     is_state() ? "Groups are the fields of action and themes."
                                : "This node has not joined that group.",
                     NULL, NULL);
        return;
    }
    sqlite3_stmt *st = db_stmt(
        req->db,
        "SELECT t.seq, t.id, t.in_reply_to, t.author, t.author_name, t.content, t.members_only, "
        "t.published, t.written_by, "
        "(SELECT count(*) FROM channel_posts p WHERE p.thread=t.id AND p.seq > "
        "COALESCE(r.seen, 0) AND COALESCE(p.written_by, '') != :r) > 0, "
        "(SELECT count(*) FROM channel_posts p WHERE p.thread=t.id) - 1, "
        "(SELECT max(p.published) FROM channel_posts p WHERE p.thread=t.id), "
        "(SELECT count(*) FROM channel_posts p WHERE p.thread=t.id AND p.seq > "
        "COALESCE(r.seen, 0) AND COALESCE(p.written_by, '') != :r), "
        "(SELECT max(p.seq) FROM channel_posts p WHERE p.thread=t.id) AS last "
        "FROM channel_posts t LEFT JOIN channel_reads r ON r.reader=:r AND r.thread=t.id "
        "WHERE t.code=:c AND t.id=t.thread ORDER BY last DESC LIMIT 200");
    if (!st) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        return;
    }
    db_bind_text(st, ":r", reader(req));
    db_bind_text(st, ":c", g.code);
    json_t *items = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *root = post_json(st, 0);
        json_t *t = json_pack("{s:I, s:o, s:I, s:s, s:b, s:I}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "root", root, "replies",
                              (json_int_t)sqlite3_column_int64(st, 10), "last_activity",
                              (const char *)sqlite3_column_text(st, 11), "unread",
                              sqlite3_column_int64(st, 12) > 0, "unread_posts",
                              (json_int_t)sqlite3_column_int64(st, 12));
        json_object_set(t, "members_only", json_object_get(root, "members_only"));
        json_object_set(t, "content", json_object_get(root, "content"));
        json_object_set(t, "author_name", json_object_get(root, "author_name"));
        json_array_append_new(items, t);
    }
    db_done(st);
    json_t *j = group_json(req->db, &g, reader(req));
    json_object_set_new(j, "items", items);
    http_json(resp, 200, j);
}

/* The root post of thread seq: its id and group code. */
static bool thread_root(db *d, const char *seqs, char *id, size_t idlen, char *code,
                        size_t codelen)
{
    char *end;
    long long seq = strtoll(seqs, &end, 10);
    if (*end || seq < 1)
        return false;
    sqlite3_stmt *st =
        db_stmt(d, "SELECT id, code FROM channel_posts WHERE seq=:s AND id=thread");
    if (!st)
        return false;
    db_bind_int(st, ":s", seq);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        snprintf(id, idlen, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(code, codelen, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    db_done(st);
    return ok;
}

static void h_thread(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    char root[FED_URL * 2], code[16];
    if (!thread_root(req->db, req->params[0], root, sizeof root, code, sizeof code)) {
        http_problem(resp, 404, "not-found", "No such thread", NULL, NULL, NULL);
        return;
    }
    sqlite3_stmt *st = db_stmt(
        req->db,
        "SELECT p.seq, p.id, p.in_reply_to, p.author, p.author_name, p.content, p.members_only, "
        "p.published, p.written_by, p.seq > COALESCE(r.seen, 0) AND "
        "COALESCE(p.written_by, '') != :r FROM channel_posts p LEFT JOIN channel_reads r ON "
        "r.reader=:r AND r.thread=p.thread WHERE p.thread=:t AND p.code=:c ORDER BY p.seq");
    if (!st) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        return;
    }
    db_bind_text(st, ":r", reader(req));
    db_bind_text(st, ":t", root);
    db_bind_text(st, ":c", code);
    json_t *posts = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(posts, post_json(st, 0));
    db_done(st);
    group_info g;
    group_by_code(req->db, code, &g);
    http_json(resp, 200,
              json_pack("{s:I, s:s, s:s, s:s, s:o}", "id",
                        (json_int_t)strtoll(req->params[0], NULL, 10), "group", code,
                        "group_name", g.name, "root", root, "posts", posts));
}

static int mark_read(db *d, const char *who, const char *thread)
{
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO channel_reads(reader, thread, seen) VALUES(:r, :t, "
           "(SELECT COALESCE(max(seq), 0) FROM channel_posts WHERE thread=:t)) "
           "ON CONFLICT(reader, thread) DO UPDATE SET seen=MAX(seen, excluded.seen)");
    if (!st)
        return -1;
    db_bind_text(st, ":r", who);
    db_bind_text(st, ":t", thread);
    return db_exec_stmt(st);
}

static void h_read(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_VIEWER))
        return;
    char root[FED_URL * 2], code[16];
    if (!thread_root(req->db, req->params[0], root, sizeof root, code, sizeof code)) {
        http_problem(resp, 404, "not-found", "No such thread", NULL, NULL, NULL);
        return;
    }
    if (mark_read(req->db, reader(req), root))
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    else
        http_json(resp, 200, json_pack("{s:s, s:b}", "thread", req->params[0], "read", 1));
}

static void h_post(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    group_info g;
    if (!group_by_code(req->db, req->params[0], &g)) {
        http_problem(resp, 404, "not-found", "No such group",
                     "Join the group first (POST /api/v1/channel/groups).", NULL, NULL);
        return;
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *content = util_jstr(in, "content");
    const json_t *irt = json_object_get(in, "in_reply_to");
    const json_t *mo = json_object_get(in, "members_only");
    char parent_id[FED_URL * 2] = "";
    parent_info p = {0};
    if (json_is_integer(irt)) {
        sqlite3_stmt *st = db_stmt(req->db, "SELECT id FROM channel_posts WHERE seq=:s");
        if (st) {
            db_bind_int(st, ":s", json_integer_value(irt));
            if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(parent_id, sizeof parent_id, "%s",
                         (const char *)sqlite3_column_text(st, 0));
            db_done(st);
        }
    } else if (json_is_string(irt)) {
        snprintf(parent_id, sizeof parent_id, "%s", json_string_value(irt));
    }
    if (parent_id[0])
        p = find_parent(req->db, parent_id);
    if (!content_ok(content)) {
        http_problem(resp, 422, "validation", "The post is not valid",
                     "content must have 1 to 5000 characters.", "content", NULL);
        goto out;
    }
    if (mo && !json_is_boolean(mo)) {
        http_problem(resp, 422, "validation", "The post is not valid",
                     "members_only must be true or false.", "members_only", NULL);
        goto out;
    }
    if (irt && !json_is_null(irt) && (!p.found || strcmp(p.code, g.code))) {
        http_problem(resp, 422, "validation", "The post is not valid",
                     "in_reply_to must name a post of this group.", "in_reply_to", NULL);
        goto out;
    }
    bool members_only = json_is_true(mo) || p.members_only;
    char rid[40], nid[FED_URL + 64], now[21];
    util_random_id("", rid, sizeof rid);
    snprintf(nid, sizeof nid, "%s/channel/posts/%s", cctx->cfg->base_url, rid);
    util_now_iso(now);
    char *html = as2_html_paragraphs(content);
    json_t *to = json_pack("[s]", g.url);
    json_t *cc = json_pack("[s]", members_only ? g.followers : AS2_PUBLIC);
    json_t *note = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:O, s:O, s:s, s:s}", "id",
                             nid, "type", "Note", "attributedTo", cctx->actor, "content",
                             html ? html : "", "source", "content", content, "mediaType",
                             "text/plain", "published", now, "to", to, "cc", cc, "audience",
                             g.url, "districtCode", cctx->cfg->district);
    free(html);
    if (p.found) {
        json_object_set_new(note, "inReplyTo", json_string(parent_id));
        json_object_set_new(note, "context", json_string(p.thread));
    }
    json_t *act = signed_activity(cctx, "Create", note, to, cc);
    int rc = act ? db_begin(req->db) : -1;
    long long seq = -1;
    if (!rc) {
        seq = store_post(req->db, &g, json_object_get(act, "object"), content, members_only,
                         reader(req), act);
        rc = seq > 0 ? 0 : -1;
        if (!rc) {
            const char *thread = p.found ? p.thread : nid;
            rc = mark_read(req->db, reader(req), thread);
        }
        if (!rc && is_state()) {
            rc = group_announce(req->db, g.code, act, members_only);
        } else if (!rc) {
            char *txt = json_dumps(act, JSON_COMPACT);
            rc = txt ? outbox_enqueue(req->db, "", util_jstr(act, "id"), txt, g.inbox) : -1;
            free(txt);
        }
        if (rc || db_commit(req->db)) {
            db_rollback(req->db);
            rc = -1;
        }
    }
    if (rc) {
        http_problem(resp, 500, "internal", "Internal error", "The post could not be stored.",
                     NULL, NULL);
    } else {
        sqlite3_stmt *st = db_stmt(req->db, "SELECT seq FROM channel_posts WHERE id=:t");
        long long tseq = seq;
        if (st) {
            db_bind_text(st, ":t", p.found ? p.thread : nid);
            if (sqlite3_step(st) == SQLITE_ROW)
                tseq = sqlite3_column_int64(st, 0);
            db_done(st);
        }
        log_event(LOG_INFO, "channel.posted", "group", g.code, "post", nid, NULL);
        http_json(resp, 201,
                  json_pack("{s:I, s:s, s:I, s:s, s:b, s:s}", "seq", (json_int_t)seq, "id", nid,
                            "thread", (json_int_t)tseq, "group", g.code, "members_only",
                            members_only, "published", now));
    }
    json_decref(act);
out:
    json_decref(in);
}

/* A public post's AS2 object at its URL (members-only posts are 404). */
static void h_post_object(http_req *req, http_resp *resp)
{
    char id[FED_URL + 64];
    snprintf(id, sizeof id, "%s/channel/posts/%s", cctx ? cctx->cfg->base_url : "",
             req->params[0]);
    sqlite3_stmt *st = db_stmt(req->db, "SELECT activity FROM channel_posts WHERE id=:id AND "
                                        "members_only=0 AND written_by IS NOT NULL");
    json_t *act = NULL;
    if (st) {
        db_bind_text(st, ":id", id);
        if (sqlite3_step(st) == SQLITE_ROW)
            act = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        db_done(st);
    }
    json_t *note = json_incref(json_object_get(act, "object"));
    json_decref(act);
    if (!note) {
        http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
        return;
    }
    json_object_set_new(note, "@context", as2_context());
    http_json(resp, 200, note);
    resp->ctype = "application/activity+json; charset=utf-8";
}

const http_route channel_routes[] = {
    {"GET", "/api/v1/channel/groups", h_groups},
    {"POST", "/api/v1/channel/groups", h_join},
    {"GET", "/api/v1/channel/groups/*/threads", h_threads},
    {"POST", "/api/v1/channel/groups/*/posts", h_post},
    {"GET", "/api/v1/channel/threads/*", h_thread},
    {"POST", "/api/v1/channel/threads/*/read", h_read},
    {"GET", "/channel/posts/*", h_post_object},
    {NULL, NULL, NULL},
};
