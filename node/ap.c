/* ActivityPub routes; see ap.h. */
#include "ap.h"
#include "as2.h"
#include "log.h"
#include "outbox.h"
#include "record.h"

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
    if (fed_ctx_init(&ctx, cfg, err, errlen))
        return -1;
    ctx_ready = true;
    record_set_publish_hook(publish_hook, NULL);
    return 0;
}

void ap_shutdown(void)
{
    if (ctx_ready) {
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

static void h_outbox(http_req *req, http_resp *resp)
{
    const char *page = http_query(req, "page");
    long long after = query_ll(req, "min_id");
    const char *after_id = http_query(req, "after");
    if (after_id) {
        after = outbox_seq_of(req->db, after_id);
        if (!after) {
            http_problem(resp, 404, "not-found", "Unknown activity",
                         "after must be the id of an activity in this outbox.", "after", NULL);
            return;
        }
    }
    json_t *c = outbox_collection(req->db, &ctx, page || after, query_ll(req, "max_id"), after,
                                  (int)query_ll(req, "limit"));
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
                     "SELECT count(*) FROM followers WHERE state='accepted'");
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

static void html_escape(buf *b, const char *s)
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

/* One URL per record: AS2 for fediverse clients, HTML for browsers. */
static void record_page(http_req *req, http_resp *resp, rec_kind kind)
{
    json_t *doc = NULL;
    rec_status rs = record_get(req->db, kind, req->params[0], &doc);
    if (rs != REC_OK && rs != REC_GONE) {
        http_problem(resp, rs == REC_NOT_FOUND ? 404 : 500, "not-found", "Not found", NULL, NULL,
                     NULL);
        return;
    }
    if (wants_as2(req)) {
        as2(resp, rs == REC_GONE ? 410 : 200, as2_object(&ctx, doc, true));
        json_decref(doc);
        return;
    }
    json_t *obj = as2_object(&ctx, doc, false);
    const char *title = json_string_value(json_object_get(obj, "name"));
    const char *summary = json_string_value(json_object_get(obj, "summary"));
    const char *content = json_string_value(json_object_get(obj, "content"));
    resp->status = rs == REC_GONE ? 410 : 200;
    resp->ctype = "text/html; charset=utf-8";
    http_set_header(resp, "Vary", "Accept");
    buf *b = &resp->body;
    buf_puts(b, "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    html_escape(b, title ? title : "Eintrag");
    buf_puts(b, "</title><link rel=\"alternate\" type=\"application/activity+json\" href=\"");
    html_escape(b, json_string_value(json_object_get(doc, "url")));
    buf_puts(b, "\"></head><body><main><h1>");
    html_escape(b, rs == REC_GONE ? "Gelöscht" : title ? title : "Sachstand");
    buf_puts(b, "</h1>");
    if (summary) {
        buf_puts(b, "<p>");
        html_escape(b, summary);
        buf_puts(b, "</p>");
    }
    if (content && rs != REC_GONE)
        buf_puts(b, content); /* produced by as2_html_paragraphs: already escaped */
    buf_puts(b, "<p><a href=\"/\">Zur Startseite</a></p></main></body></html>");
    json_decref(obj);
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

const http_route ap_routes[] = {
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
