/* Atom feeds (RFC 4287) per node, district, field of action or theme and
 * measure; the sitemap and robots.txt. */
#include "district.h"
#include "portal_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct feed_arg {
    const char *scope; /* all, district, field, theme, measure */
    char code[64];     /* district code, taxonomy code or measure id */
} feed_arg;

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void x(pctx *c, const char *s)
{
    pt_xml_esc(c->b, s);
}

static void feed_entry(pctx *c, const char *kind, const json_t *doc)
{
    bool measure = !strcmp(kind, "measure");
    const char *id = sv(doc, "id");
    char url[800];
    snprintf(url, sizeof url, "%s/%s/%s", c->cfg->base_url, measure ? "measures" : "progress", id);
    pt_out(c, "<entry>\n<id>");
    x(c, url);
    pt_out(c, "</id>\n<title type=\"text\">");
    x(c, pt_msg(c, measure ? "feed.prefix_measure" : "feed.prefix_progress"));
    pt_out(c, ": ");
    x(c, sv(doc, "title"));
    pt_out(c, "</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
    x(c, url);
    pt_out(c, "\"/>\n<updated>");
    x(c, sv(doc, "updated"));
    pt_out(c, "</updated>\n<published>");
    x(c, sv(doc, "created"));
    pt_out(c, "</published>\n<author><name>");
    const char *dist = sv(doc, "district");
    x(c, dist ? pt_district_label(dist) : pt_node_name(c));
    pt_out(c, "</name></author>\n");
    size_t i;
    json_t *t;
    for (int k = 0; k < 2 && measure; k++)
        json_array_foreach(json_object_get(doc, k ? "themes" : "fields_of_action"), i, t)
        {
            pt_out(c, "<category term=\"");
            x(c, json_string_value(t));
            pt_out(c, "\" label=\"");
            x(c, pt_tax_name(c, json_string_value(t)));
            pt_out(c, "\"/>\n");
        }
    /* A plain-text summary: status and progress, then the text. */
    buf s;
    buf_init(&s);
    if (measure) {
        buf_printf(&s, "%s: %s · %s %lld %%", pt_msg(c, "filter.status"),
                   pt_status_label(c, sv(doc, "status")), pt_msg(c, "progress"),
                   (long long)json_integer_value(json_object_get(doc, "progress")));
    } else {
        char mt[400];
        if (sv(doc, "measure") && pt_pd_title(c, sv(doc, "measure"), mt, sizeof mt, NULL, 0, NULL))
            buf_printf(&s, "%s %s", pt_msg(c, "progress.of"), mt);
        if (json_is_integer(json_object_get(doc, "progress")))
            buf_printf(&s, " · %s %lld %%", pt_msg(c, "progress"),
                       (long long)json_integer_value(json_object_get(doc, "progress")));
    }
    char cut[800];
    pt_text_cut(measure ? sv(doc, "description") : sv(doc, "text"), 600, cut, sizeof cut);
    if (cut[0])
        buf_printf(&s, "\n\n%s", cut);
    pt_out(c, "<summary type=\"text\">");
    x(c, s.p ? s.p : "");
    pt_out(c, "</summary>\n</entry>\n");
    buf_free(&s);
}

static void render_feed(pctx *c)
{
    const feed_arg *a = c->arg;
    const char *scope = a->scope, *code = a->code;
    char title[600], alt[200];
    const char *lang = c->en ? "en" : "de";
    if (!strcmp(scope, "district")) {
        snprintf(title, sizeof title, "%s: %s", pt_msg(c, "feed.district"),
                 pt_district_label(code));
        snprintf(alt, sizeof alt, "/kreise/%s", code);
    } else if (!strcmp(scope, "field") || !strcmp(scope, "theme")) {
        snprintf(title, sizeof title, "%s %s: %s",
                 pt_msg(c, !strcmp(scope, "field") ? "field" : "theme"), code,
                 pt_tax_name(c, code));
        snprintf(alt, sizeof alt, "/%s/%s",
                 !strcmp(scope, "field") ? "handlungsfelder" : "querschnittsthemen", code);
    } else if (!strcmp(scope, "measure")) {
        char mt[400] = "";
        pt_pd_title(c, code, mt, sizeof mt, NULL, 0, NULL);
        snprintf(title, sizeof title, "%s: %s", pt_msg(c, "feed.prefix_measure"), mt);
        snprintf(alt, sizeof alt, "/measures/%s", code);
    } else {
        snprintf(title, sizeof title, "%s – %s", pt_msg(c, "feed.all"), pt_node_name(c));
        snprintf(alt, sizeof alt, "/");
    }
    const char *sql =
        "SELECT kind, doc FROM records r WHERE r.deleted IS NULL AND r.kind IN "
        "('measure','progress') AND (:d IS NULL OR r.district=:d) AND (:m IS NULL OR r.id=:m OR "
        "r.parent=:m) AND (:t IS NULL OR (r.kind='measure' AND r.seq IN (SELECT seq FROM "
        "record_terms WHERE term=:t)) OR (r.kind='progress' AND r.parent IN (SELECT r2.id FROM "
        "records r2 JOIN record_terms t2 ON t2.seq=r2.seq WHERE t2.term=:t AND "
        "r2.kind='measure'))) ORDER BY r.updated DESC, r.seq DESC LIMIT 50";
    sqlite3_stmt *st = db_stmt(c->req->db, sql);
    json_t *rows = json_array();
    if (st) {
        db_bind_text(st, ":d", !strcmp(scope, "district") ? code : NULL);
        db_bind_text(st, ":m", !strcmp(scope, "measure") ? code : NULL);
        db_bind_text(st, ":t", !strcmp(scope, "field") || !strcmp(scope, "theme") ? code : NULL);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *d = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
            if (d)
                json_array_append_new(
                    rows, json_pack("{s:s, s:o}", "kind", sqlite3_column_text(st, 0), "doc", d));
        }
        db_done(st);
    }
    char updated[32];
    util_now_iso(updated);
    if (json_array_size(rows))
        snprintf(updated, sizeof updated, "%s",
                 sv(json_object_get(json_array_get(rows, 0), "doc"), "updated"));
    c->resp->status = 200;
    c->resp->ctype = "application/atom+xml; charset=utf-8";
    pt_outf(
        c,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" "
        "xml:lang=\"%s\">\n<id>",
        lang);
    x(c, c->cfg->base_url);
    x(c, c->req->path);
    pt_out(c, "</id>\n<title type=\"text\">");
    x(c, title);
    pt_out(c, "</title>\n<subtitle type=\"text\">");
    x(c, pt_msg(c, "site.description"));
    pt_out(c, "</subtitle>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
    x(c, c->cfg->base_url);
    x(c, c->req->path);
    pt_out(c, "\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
    x(c, c->cfg->base_url);
    x(c, alt);
    pt_out(c, "\"/>\n<updated>");
    x(c, updated);
    pt_out(c, "</updated>\n<author><name>");
    x(c, pt_node_name(c));
    pt_out(c, "</name><uri>");
    x(c, c->cfg->base_url);
    pt_out(c,
           "/</uri></author>\n<generator version=\"" DINET_VERSION "\">dinet</generator>\n<icon>");
    x(c, c->cfg->base_url);
    pt_out(c, "/assets/icon.svg</icon>\n");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) feed_entry(c, sv(r, "kind"), json_object_get(r, "doc"));
    if (!strcmp(scope, "measure"))
        pt_discussion_feed(c, code, x);
    pt_out(c, "</feed>\n");
    json_decref(rows);
}

static void feed_404(http_req *req, http_resp *resp, const char *what)
{
    pctx c;
    pt_pc_init(&c, req, resp);
    pt_page_error(&c, 404, pt_msg(&c, "err.notfound"), pt_msg(&c, what));
    pt_pc_free(&c);
}

void portal_feed(http_req *req, http_resp *resp, const char *scope, const char *arg)
{
    feed_arg a = {.scope = scope};
    if (arg) {
        size_t n = strlen(arg);
        if (n < 6 || n - 5 >= sizeof a.code || strcmp(arg + n - 5, ".atom")) {
            feed_404(req, resp, "err.no_feed");
            return;
        }
        memcpy(a.code, arg, n - 5);
        a.code[n - 5] = '\0';
    }
    bool state = !strcmp(req->cfg->role, "state");
    if (!strcmp(scope, "district")) {
        if (!pt_district_ok(a.code) || (!state && strcmp(a.code, req->cfg->district))) {
            feed_404(req, resp, "err.no_district");
            return;
        }
    } else if (!strcmp(scope, "field") || !strcmp(scope, "theme")) {
        sqlite3_stmt *st = db_stmt(req->db, "SELECT 1 FROM taxonomy WHERE code=:c AND kind=:k "
                                            "AND retired=0");
        bool ok = false;
        if (st) {
            db_bind_text(st, ":c", a.code);
            db_bind_text(st, ":k", scope);
            ok = sqlite3_step(st) == SQLITE_ROW;
            db_done(st);
        }
        if (!ok) {
            feed_404(req, resp, "err.no_field");
            return;
        }
    } else if (!strcmp(scope, "measure")) {
        char *doc = NULL;
        long long v;
        rec_status rs = record_get_raw(req->db, REC_MEASURE, a.code, &doc, &v);
        free(doc);
        if (rs != REC_OK) {
            feed_404(req, resp, "err.no_measure");
            if (rs == REC_GONE)
                resp->status = 410;
            return;
        }
    }
    portal_cached_arg(req, resp, "feed", render_feed, &a);
}

/* ---- sitemap and robots ----------------------------------------------------- */

static void sm_url(pctx *c, const char *path, const char *lastmod)
{
    pt_out(c, "<url><loc>");
    x(c, c->cfg->base_url);
    x(c, path);
    pt_out(c, "</loc>");
    if (lastmod && strlen(lastmod) >= 10) {
        pt_out(c, "<lastmod>");
        buf_append(c->b, lastmod, 10);
        pt_out(c, "</lastmod>");
    }
    pt_out(c, "</url>\n");
}

static void render_sitemap(pctx *c)
{
    c->resp->status = 200;
    c->resp->ctype = "application/xml; charset=utf-8";
    pt_out(c, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
              "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    static const char *const pages[] = {
        "/",          "/handlungsfelder", "/querschnittsthemen", "/akteure", "/bericht",
        "/impressum", "/datenschutz",     "/barrierefreiheit",   NULL};
    for (int i = 0; pages[i]; i++)
        sm_url(c, pages[i], NULL);
    size_t i;
    json_t *r;
    json_array_foreach(pt_tax_rows(c), i, r)
    {
        char p[96];
        snprintf(p, sizeof p, "/%s/%s",
                 strcmp(sv(r, "kind"), "field") ? "querschnittsthemen" : "handlungsfelder",
                 sv(r, "code"));
        sm_url(c, p, NULL);
    }
    if (c->state) {
        sm_url(c, "/kreise", NULL);
        for (const district *d = district_all(); d->code; d++) {
            char p[64];
            snprintf(p, sizeof p, "/kreise/%s", d->code);
            sm_url(c, p, NULL);
        }
    } else {
        char p[64];
        snprintf(p, sizeof p, "/kreise/%s", c->cfg->district);
        sm_url(c, p, NULL);
    }
    sqlite3_stmt *st =
        db_stmt(c->req->db, "SELECT kind, id, updated FROM records WHERE deleted IS NULL AND "
                            "kind IN ('measure','organisation') ORDER BY kind, seq LIMIT 49000");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        char p[128];
        snprintf(p, sizeof p, "/%s/%s",
                 strcmp((const char *)sqlite3_column_text(st, 0), "measure") ? "organisations"
                                                                             : "measures",
                 (const char *)sqlite3_column_text(st, 1));
        sm_url(c, p, (const char *)sqlite3_column_text(st, 2));
    }
    db_done(st);
    pt_out(c, "</urlset>\n");
}

void portal_sitemap(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "sitemap", render_sitemap);
}

void portal_robots(http_req *req, http_resp *resp)
{
    buf *b = &resp->body;
    buf_puts(b, "# Public portal of the Digitales Integrationsnetzwerk Sachsen-Anhalt\n"
                "User-agent: *\nAllow: /\nDisallow: /admin/\nDisallow: /api/\n"
                "Disallow: /suche\n\nSitemap: ");
    buf_puts(b, req->cfg->base_url);
    buf_puts(b, "/sitemap.xml\n");
    resp->status = 200;
    resp->ctype = "text/plain; charset=utf-8";
    http_set_header(resp, "Cache-Control", "public, max-age=3600");
}
