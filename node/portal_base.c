/* The portal's common parts: page context, escaping, the page frame, the
 * page cache wrapper, formatting and data helpers; see portal_internal.h. */
#include "portal_internal.h"
#include "district.h"
#include "pagecache.h"
#include "settings.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const portal_statuses[PORTAL_STATUSES] = {"planned", "active", "completed", "paused",
                                                      "cancelled"};
const char *const portal_org_kinds[] = {
    "administration", "civil_society", "education", "migrant_organisation",
    "welfare",        "business",      "other",     NULL};

/* ---- context ------------------------------------------------------------ */

void pt_pc_init(pctx *c, http_req *req, http_resp *resp)
{
    memset(c, 0, sizeof *c);
    c->req = req;
    c->resp = resp;
    c->b = &resp->body;
    c->cfg = req->cfg;
    c->state = !strcmp(req->cfg->role, "state");
    const char *l = http_query(req, "lang");
    c->en = l && !strcmp(l, "en");
    const char *h = strstr(req->cfg->base_url, "://");
    snprintf(c->host, sizeof c->host, "%s", h ? h + 3 : req->cfg->base_url);
    char *slash = strchr(c->host, '/');
    if (slash)
        *slash = '\0';
}

void pt_pc_free(pctx *c)
{
    json_decref(c->tax);
    json_decref(c->settings);
    c->tax = NULL;
    c->settings = NULL;
}

json_t *pt_pd_settings(pctx *c)
{
    if (!c->settings)
        c->settings = settings_get(c->req->db, c->cfg->name);
    if (!c->settings)
        c->settings = json_object();
    return c->settings;
}

const char *pt_node_name(pctx *c)
{
    const char *n = json_string_value(json_object_get(pt_pd_settings(c), "name"));
    return n && *n ? n : c->cfg->name;
}

/* ---- output ----------------------------------------------------------- */

void pt_out(pctx *c, const char *s)
{
    buf_puts(c->b, s ? s : "");
}

void pt_outf(pctx *c, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        buf_append(c->b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        c->b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_append(c->b, big, (size_t)n);
    free(big);
}

void pt_esc_to(buf *b, const char *s)
{
    if (!s)
        return;
    const char *start = s;
    for (; *s; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&':
            r = "&amp;";
            break;
        case '<':
            r = "&lt;";
            break;
        case '>':
            r = "&gt;";
            break;
        case '"':
            r = "&quot;";
            break;
        case '\'':
            r = "&#39;";
            break;
        default:
            break;
        }
        if (r) {
            buf_append(b, start, (size_t)(s - start));
            buf_puts(b, r);
            start = s + 1;
        }
    }
    buf_append(b, start, (size_t)(s - start));
}

void pt_esc(pctx *c, const char *s)
{
    pt_esc_to(c->b, s);
}

void pt_xml_esc(buf *b, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '&')
            buf_puts(b, "&amp;");
        else if (*p == '<')
            buf_puts(b, "&lt;");
        else if (*p == '>')
            buf_puts(b, "&gt;");
        else if (*p == '"')
            buf_puts(b, "&quot;");
        else if (*p == '\'')
            buf_puts(b, "&apos;");
        else if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            continue; /* not allowed in XML 1.0 */
        else if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
            p += 2; /* U+FFFE, U+FFFF */
        else
            buf_append(b, p, 1);
    }
}

void pt_url_enc(buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}

void pt_href(pctx *c, const char *url)
{
    pt_esc(c, url);
    if (c->en)
        pt_out(c, strchr(url, '?') ? "&amp;lang=en" : "?lang=en");
}

void pt_hreff(pctx *c, const char *fmt, ...)
{
    char u[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u, sizeof u, fmt, ap);
    va_end(ap);
    pt_href(c, u);
}

void pt_form_lang(pctx *c)
{
    if (c->en)
        pt_out(c, "<input type=\"hidden\" name=\"lang\" value=\"en\">");
}

const char *pt_new_id(pctx *c, char o[16])
{
    snprintf(o, 16, "p-%d", ++c->ids);
    return o;
}

/* ---- the page frame ----------------------------------------------------- */

/* The request target without its lang parameter, with lang=en added when
 * en is set: the other language's version of this page. */
static void target_in_lang(pctx *c, buf *u, bool en)
{
    const char *t = c->req->target;
    const char *q = strchr(t, '?');
    buf_append(u, t, q ? (size_t)(q - t) : strlen(t));
    int n = 0;
    if (q) {
        const char *p = q + 1;
        while (*p) {
            const char *amp = strchr(p, '&');
            size_t len = amp ? (size_t)(amp - p) : strlen(p);
            if (len && strncmp(p, "lang=", 5) && strncmp(p, "lang&", 5) &&
                !(len == 4 && !strncmp(p, "lang", 4))) {
                buf_puts(u, n++ ? "&" : "?");
                buf_append(u, p, len);
            }
            p += len;
            if (*p == '&')
                p++;
        }
    }
    if (en)
        buf_puts(u, n ? "&lang=en" : "?lang=en");
}

static void nav_item(pctx *c, const page_meta *m, const char *key, const char *url,
                     const char *label)
{
    pt_out(c, "<li><a href=\"");
    pt_href(c, url);
    pt_out(c, "\"");
    if (m->nav && !strcmp(m->nav, key))
        pt_out(c, " aria-current=\"page\"");
    pt_out(c, ">");
    pt_esc(c, label);
    pt_out(c, "</a></li>");
}

void pt_page_begin(pctx *c, const page_meta *m)
{
    const config *cfg = c->cfg;
    const char *lang = c->en ? "en" : "de";
    const char *desc =
        m->description && *m->description ? m->description : pt_msg(c, "site.description");
    const char *canon = m->canon ? m->canon : c->req->path;
    c->resp->status = 200;
    c->resp->ctype = "text/html; charset=utf-8";
    pt_outf(c, "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", lang);
    pt_out(c, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    pt_esc(c, m->title);
    pt_out(c, " – ");
    pt_esc(c, pt_node_name(c));
    pt_out(c, "</title>\n<meta name=\"description\" content=\"");
    pt_esc(c, desc);
    pt_out(c, "\">\n");
    if (m->noindex)
        pt_out(c, "<meta name=\"robots\" content=\"noindex, follow\">\n");
    /* Canonical and language alternates: absolute URLs of this origin. */
    buf u;
    buf_init(&u);
    buf_puts(&u, cfg->base_url);
    buf_puts(&u, canon);
    if (c->en)
        buf_puts(&u, strchr(canon, '?') ? "&lang=en" : "?lang=en");
    pt_out(c, "<link rel=\"canonical\" href=\"");
    pt_esc(c, u.p);
    pt_out(c, "\">\n<link rel=\"alternate\" hreflang=\"de\" href=\"");
    pt_esc(c, cfg->base_url);
    pt_esc(c, canon);
    pt_out(c, "\">\n<link rel=\"alternate\" hreflang=\"en\" href=\"");
    pt_esc(c, cfg->base_url);
    pt_esc(c, canon);
    pt_out(c, strchr(canon, '?') ? "&amp;lang=en" : "?lang=en");
    pt_out(c, "\">\n");
    /* OpenGraph, so link previews (Mastodon and others) show title and summary. */
    pt_out(c, "<meta property=\"og:type\" content=\"");
    pt_esc(c, m->og_type ? m->og_type : "website");
    pt_out(c, "\">\n<meta property=\"og:title\" content=\"");
    pt_esc(c, m->title);
    pt_out(c, "\">\n<meta property=\"og:description\" content=\"");
    pt_esc(c, desc);
    pt_out(c, "\">\n<meta property=\"og:url\" content=\"");
    pt_esc(c, u.p);
    pt_out(c, "\">\n<meta property=\"og:site_name\" content=\"");
    pt_esc(c, pt_node_name(c));
    pt_outf(c, "\">\n<meta property=\"og:locale\" content=\"%s\">\n", c->en ? "en_GB" : "de_DE");
    buf_free(&u);
    if (m->feed) {
        pt_out(c, "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"");
        pt_esc(c, m->feed_title ? m->feed_title : m->title);
        pt_out(c, "\" href=\"");
        pt_esc(c, m->feed);
        pt_out(c, "\">\n");
    }
    pt_out(c, "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"");
    pt_esc(c, pt_msg(c, "feed.all"));
    pt_out(c, "\" href=\"/feeds/alle.atom\">\n"
              "<link rel=\"icon\" href=\"/assets/icon.svg\" type=\"image/svg+xml\">\n"
              "<link rel=\"stylesheet\" href=\"/assets/portal.css?v=" DINET_VERSION "\">\n"
              "<script src=\"/assets/portal.js?v=" DINET_VERSION "\" defer></script>\n"
              "</head>\n<body>\n<a class=\"skip\" href=\"#inhalt\">");
    pt_esc(c, pt_msg(c, "skip"));
    pt_out(c, "</a>\n<header class=\"site-header\">\n<div class=\"wrap head-row\">\n"
              "<p class=\"site-title\"><a href=\"");
    pt_href(c, "/");
    pt_out(c,
           "\"><svg class=\"logo\" viewBox=\"0 0 32 32\" aria-hidden=\"true\" focusable=\"false\">"
           "<rect x=\"2\" y=\"2\" width=\"12\" height=\"12\" rx=\"2\"/>"
           "<rect x=\"18\" y=\"2\" width=\"12\" height=\"12\" rx=\"2\"/>"
           "<rect x=\"2\" y=\"18\" width=\"12\" height=\"12\" rx=\"2\"/>"
           "<rect x=\"18\" y=\"18\" width=\"12\" height=\"12\" rx=\"2\" class=\"logo-accent\"/>"
           "</svg><span>");
    pt_esc(c, pt_msg(c, "site.name"));
    pt_out(c, "</span></a><span class=\"site-node\">");
    pt_esc(c, pt_node_name(c));
    pt_out(c, "</span></p>\n<p class=\"tools\"><a href=\"");
    buf v;
    buf_init(&v);
    target_in_lang(c, &v, !c->en);
    pt_esc(c, v.p);
    buf_free(&v);
    pt_outf(c, "\" lang=\"%s\" hreflang=\"%s\">", c->en ? "de" : "en", c->en ? "de" : "en");
    pt_esc(c, pt_msg(c, "lang.other"));
    pt_out(c,
           "</a> <button type=\"button\" class=\"contrast-toggle\" aria-pressed=\"false\" hidden>");
    pt_esc(c, pt_msg(c, "contrast"));
    pt_out(c, "</button></p>\n</div>\n<nav class=\"site-nav\" aria-label=\"");
    pt_esc(c, pt_msg(c, "nav.label"));
    pt_out(c, "\"><ul class=\"wrap\">");
    nav_item(c, m, "home", "/", pt_msg(c, "nav.home"));
    nav_item(c, m, "fields", "/handlungsfelder", pt_msg(c, "nav.fields"));
    if (c->state) {
        nav_item(c, m, "districts", "/kreise", pt_msg(c, "nav.districts"));
    } else {
        char u2[64];
        snprintf(u2, sizeof u2, "/kreise/%s", cfg->district);
        nav_item(c, m, "districts", u2, pt_msg(c, "nav.district"));
    }
    nav_item(c, m, "orgs", "/akteure", pt_msg(c, "nav.orgs"));
    nav_item(c, m, "events", "/events", pt_msg(c, "nav.events"));
    nav_item(c, m, "report", "/bericht", pt_msg(c, "nav.report"));
    nav_item(c, m, "search", "/suche", pt_msg(c, "nav.search"));
    pt_out(c, "</ul></nav>\n</header>\n<main id=\"inhalt\" class=\"wrap\" tabindex=\"-1\">\n");
}

void pt_page_end(pctx *c)
{
    pt_out(c, "\n</main>\n<footer class=\"site-footer\">\n<div class=\"wrap foot-grid\">\n"
              "<nav aria-label=\"");
    pt_esc(c, pt_msg(c, "footer.legal"));
    pt_out(c, "\"><h2 class=\"foot-h\">");
    pt_esc(c, pt_msg(c, "footer.legal"));
    pt_out(c, "</h2><ul><li><a href=\"");
    pt_href(c, "/impressum");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "legal.impressum"));
    pt_out(c, "</a></li><li><a href=\"");
    pt_href(c, "/datenschutz");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "legal.datenschutz"));
    pt_out(c, "</a></li><li><a href=\"");
    pt_href(c, "/barrierefreiheit");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "legal.barrierefreiheit"));
    pt_out(c, "</a></li></ul></nav>\n<nav aria-label=\"");
    pt_esc(c, pt_msg(c, "footer.data"));
    pt_out(c, "\"><h2 class=\"foot-h\">");
    pt_esc(c, pt_msg(c, "footer.data"));
    pt_out(c, "</h2><ul><li><a href=\"/feeds/alle.atom\">");
    pt_esc(c, pt_msg(c, "feed.all"));
    pt_out(c, " (Atom)</a></li><li><a href=\"/api/v1/openapi.json\">");
    pt_esc(c, pt_msg(c, "footer.api"));
    pt_out(c, "</a></li><li><a href=\"/sitemap.xml\">");
    pt_esc(c, pt_msg(c, "footer.sitemap"));
    pt_out(c, "</a></li><li><a href=\"/admin/\">");
    pt_esc(c, pt_msg(c, "footer.admin"));
    pt_out(c, "</a></li></ul></nav>\n<div class=\"foot-about\"><p>");
    pt_esc(c, pt_msg(c, "footer.about"));
    pt_out(c, "</p><p>");
    pt_esc(c, pt_node_name(c));
    pt_out(c, " · dinet " DINET_VERSION "</p></div>\n</div>\n</footer>\n</body>\n</html>\n");
}

void pt_page_error(pctx *c, int status, const char *title, const char *text)
{
    buf_free(c->b);
    buf_init(c->b);
    page_meta m = {.title = title, .noindex = true};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, title);
    pt_out(c, "</h1><p>");
    pt_esc(c, text);
    pt_out(c, "</p><p><a href=\"");
    pt_href(c, "/");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "back.home"));
    pt_out(c, "</a></p>");
    pt_page_end(c);
    c->resp->status = status;
}

void portal_cached(http_req *req, http_resp *resp, const char *kind, void (*render)(pctx *c))
{
    portal_cached_arg(req, resp, kind, render, NULL);
}

void portal_cached_arg(http_req *req, http_resp *resp, const char *kind, void (*render)(pctx *c),
                       const void *arg)
{
    char key[1100];
    snprintf(key, sizeof key, "portal|%s|%s", kind, req->target);
    pagecache_stamp st;
    bool claimed;
    pagecache_blob *hit = pagecache_get_or_claim(key, &st, &claimed);
    if (hit) {
        const char *data = pagecache_blob_data(hit);
        /* The content type is stored in front of the body. */
        const char *nl = strchr(data, '\n');
        static const char *const types[] = {
            "text/html; charset=utf-8", "application/atom+xml; charset=utf-8",
            "application/xml; charset=utf-8", "text/plain; charset=utf-8"};
        int t = data[0] - '0';
        resp->status = 200;
        resp->ctype = t >= 0 && t < 4 ? types[t] : types[0];
        resp->ext = nl + 1;
        resp->ext_len = pagecache_blob_len(hit) - (size_t)(nl + 1 - data);
        resp->ext_free = pagecache_blob_release;
        resp->ext_cls = hit;
        http_set_header(resp, "Cache-Control", "public, max-age=30");
        return;
    }
    pctx c;
    pt_pc_init(&c, req, resp);
    c.arg = arg;
    render(&c);
    pt_pc_free(&c);
    if (resp->status == 200 && !resp->body.oom && resp->ctype) {
        int t = strstr(resp->ctype, "atom")    ? 1
                : strstr(resp->ctype, "xml")   ? 2
                : strstr(resp->ctype, "plain") ? 3
                                               : 0;
        buf k;
        buf_init(&k);
        buf_printf(&k, "%d\n", t);
        buf_append(&k, resp->body.p, resp->body.len);
        if (!k.oom)
            pagecache_put(key, k.p, k.len, &st);
        else if (claimed)
            pagecache_release_claim(key);
        buf_free(&k);
    } else if (claimed) {
        pagecache_release_claim(key);
    }
    if (resp->status == 200)
        http_set_header(resp, "Cache-Control", "public, max-age=30");
}

/* ---- formatting --------------------------------------------------------- */

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void pt_fmt_date(pctx *c, const char *iso)
{
    if (!iso || strlen(iso) < 10 || !digits(iso, 4) || iso[4] != '-' || !digits(iso + 5, 2) ||
        iso[7] != '-' || !digits(iso + 8, 2)) {
        pt_esc(c, iso ? iso : "–");
        return;
    }
    if (c->en)
        buf_append(c->b, iso, 10);
    else
        pt_outf(c, "%.2s.%.2s.%.4s", iso + 8, iso + 5, iso);
}

void pt_fmt_datetime(pctx *c, const char *iso)
{
    pt_fmt_date(c, iso);
    if (iso && strlen(iso) >= 16 && iso[10] == 'T' && digits(iso + 11, 2) && digits(iso + 14, 2))
        pt_outf(c, "%s%.5s UTC", c->en ? " " : ", ", iso + 11);
}

void pt_fmt_pct(pctx *c, double v)
{
    if (v < 0 || isnan(v)) {
        pt_out(c, "–");
        return;
    }
    pt_outf(c, c->en ? "%ld%%" : "%ld&nbsp;%%", lround(v));
}

void pt_fmt_num(pctx *c, double v)
{
    char t[64];
    if (isnan(v) || isinf(v)) {
        pt_out(c, "–");
        return;
    }
    if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15) {
        snprintf(t, sizeof t, "%.0f", v);
    } else {
        snprintf(t, sizeof t, "%.2f", v);
        size_t n = strlen(t);
        while (n && t[n - 1] == '0')
            t[--n] = '\0';
        if (!c->en)
            for (char *p = t; *p; p++)
                if (*p == '.')
                    *p = ',';
    }
    pt_out(c, t);
}

const char *pt_status_label(const pctx *c, const char *status)
{
    char k[48];
    snprintf(k, sizeof k, "status.%s", status ? status : "");
    for (int i = 0; i < PORTAL_STATUSES; i++)
        if (status && !strcmp(status, portal_statuses[i]))
            return pt_msg(c, k);
    return status ? status : "–";
}

void pt_status_badge(pctx *c, const char *status)
{
    bool known = false;
    for (int i = 0; i < PORTAL_STATUSES; i++)
        known = known || (status && !strcmp(status, portal_statuses[i]));
    pt_outf(c, "<span class=\"badge s-%s\">", known ? status : "other");
    pt_esc(c, pt_status_label(c, status));
    pt_out(c, "</span>");
}

const char *pt_kind_label(const pctx *c, const char *kind)
{
    for (int i = 0; portal_org_kinds[i]; i++)
        if (kind && !strcmp(kind, portal_org_kinds[i])) {
            char k[64];
            snprintf(k, sizeof k, "kind.%s", kind);
            return pt_msg(c, k);
        }
    return kind ? kind : "–";
}

const char *pt_lang_label(const pctx *c, const char *code)
{
    static const char *const known[] = {"de", "en", "ar", "uk", "ru", "fa", "ku", "tr", "prs",
                                        "ps", "ti", "so", "fr", "es", "pl", "ro", "bg", "sq",
                                        "sr", "vi", "zh", "it", "pt", "hu", "hr", "bs", NULL};
    for (int i = 0; known[i]; i++)
        if (code && !strcmp(code, known[i])) {
            char k[32];
            snprintf(k, sizeof k, "language.%s", code);
            return pt_msg(c, k);
        }
    return code ? code : "";
}

void pt_progress_bar(pctx *c, int pct)
{
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    pt_outf(c,
            "<span class=\"progress\"><svg class=\"bar\" viewBox=\"0 0 100 10\" "
            "preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\">"
            "<rect class=\"bar-bg\" width=\"100\" height=\"10\"/>"
            "<rect class=\"bar-fg\" width=\"%d\" height=\"10\"/></svg>"
            "<span class=\"progress-text\">",
            pct);
    pt_esc(c, pt_msg(c, "progress"));
    pt_out(c, " ");
    pt_fmt_pct(c, pct);
    pt_out(c, "</span></span>");
}

/* ---- taxonomy and districts --------------------------------------------- */

json_t *pt_tax_rows(pctx *c)
{
    if (c->tax)
        return c->tax;
    c->tax = json_array();
    sqlite3_stmt *st = db_stmt(c->req->db, "SELECT code, kind, name_de, name_en FROM taxonomy "
                                           "WHERE retired=0 ORDER BY kind, position");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            c->tax, json_pack("{s:s, s:s, s:s, s:s}", "code", sqlite3_column_text(st, 0), "kind",
                              sqlite3_column_text(st, 1), "de", sqlite3_column_text(st, 2), "en",
                              sqlite3_column_text(st, 3)));
    db_done(st);
    return c->tax;
}

static json_t *tax_row(pctx *c, const char *code)
{
    size_t i;
    json_t *r;
    json_array_foreach(
        pt_tax_rows(c), i,
        r) if (code && !strcmp(json_string_value(json_object_get(r, "code")), code)) return r;
    return NULL;
}

const char *pt_tax_name(pctx *c, const char *code)
{
    json_t *r = tax_row(c, code);
    return r ? json_string_value(json_object_get(r, c->en ? "en" : "de")) : code;
}

const char *pt_tax_kind(pctx *c, const char *code)
{
    json_t *r = tax_row(c, code);
    return r ? json_string_value(json_object_get(r, "kind")) : NULL;
}

void pt_tax_link(pctx *c, const char *code)
{
    const char *kind = pt_tax_kind(c, code);
    if (!kind) {
        pt_esc(c, code);
        return;
    }
    pt_out(c, "<a href=\"");
    pt_hreff(c, "/%s/%s", strcmp(kind, "field") ? "querschnittsthemen" : "handlungsfelder", code);
    pt_out(c, "\"><abbr class=\"code\">");
    pt_esc(c, code);
    pt_out(c, "</abbr> ");
    pt_esc(c, pt_tax_name(c, code));
    pt_out(c, "</a>");
}

const char *pt_district_label(const char *code)
{
    const district *d = district_find(code);
    return d ? d->name : code ? code : "";
}

bool pt_district_ok(const char *code)
{
    return code && strcmp(code, "15") && district_find(code);
}

/* ---- data --------------------------------------------------------------- */

json_t *pt_pd_list(pctx *c, rec_kind kind, const record_filter *f)
{
    buf b;
    buf_init(&b);
    json_t *errors = NULL;
    rec_status rs = record_list(c->req->db, kind, f, &b, &errors);
    json_decref(errors);
    json_t *j = rs == REC_OK && b.p ? json_loadb(b.p, b.len, 0, NULL) : NULL;
    buf_free(&b);
    return j;
}

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t')
            return false;
    return true;
}

char *pt_pd_setting(pctx *c, const char *key, bool *german)
{
    if (german)
        *german = false;
    if (c->en) {
        /* English texts live in the settings document only (texts.KEY.en). */
        static const char *const map[][2] = {{"impressum", "impressum"},
                                             {"datenschutz", "privacy"},
                                             {"barrierefreiheit", "accessibility"}};
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(key, map[i][0])) {
                const char *t = json_string_value(json_object_get(
                    json_object_get(json_object_get(pt_pd_settings(c), "texts"), map[i][1]), "en"));
                if (t && !blank(t))
                    return xstrdup(t);
                if (german)
                    *german = true;
            }
    }
    /* German texts and the contact address are kept under plain keys. */
    char *v = NULL;
    sqlite3_stmt *st = db_stmt(c->req->db, "SELECT value FROM settings WHERE key=:k");
    if (!st)
        return NULL;
    db_bind_text(st, ":k", key);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
        !blank((const char *)sqlite3_column_text(st, 0)))
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    db_done(st);
    if (!v && german)
        *german = false;
    return v;
}

bool pt_pd_title(pctx *c, const char *id, char *title, size_t tlen, char *dist, size_t dlen,
                 bool *deleted)
{
    sqlite3_stmt *st = db_stmt(c->req->db, "SELECT title, COALESCE(district, ''), deleted IS NOT "
                                           "NULL FROM records WHERE id=:id");
    bool ok = false;
    if (!st)
        return false;
    db_bind_text(st, ":id", id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        ok = true;
        if (title)
            snprintf(title, tlen, "%s", (const char *)sqlite3_column_text(st, 0));
        if (dist)
            snprintf(dist, dlen, "%s", (const char *)sqlite3_column_text(st, 1));
        if (deleted)
            *deleted = sqlite3_column_int(st, 2);
    }
    db_done(st);
    return ok;
}

#define WEIGHT                                                                                     \
    "(CASE WHEN r.start_date IS NOT NULL AND r.end_date IS NOT NULL THEN "                         \
    "julianday(r.end_date) - julianday(r.start_date) + 1 END)"

static void figures_query(pctx *c, const char *term, const char *dcode, pd_figures *f)
{
    memset(f, 0, sizeof *f);
    sqlite3_stmt *st = db_stmt(
        c->req->db,
        "SELECT r.status, count(*), sum(r.progress), sum(r.progress * " WEIGHT "), sum(" WEIGHT
        ") FROM records r WHERE r.kind='measure' AND r.deleted IS NULL AND (:term IS NULL OR "
        "r.seq IN (SELECT seq FROM record_terms WHERE term=:term)) AND (:d IS NULL OR "
        "r.district=:d) GROUP BY r.status");
    double sum = 0, wsum = 0, w = 0;
    if (st) {
        db_bind_text(st, ":term", term);
        db_bind_text(st, ":d", dcode);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            long long n = sqlite3_column_int64(st, 1);
            for (int i = 0; i < PORTAL_STATUSES; i++)
                if (s && !strcmp(s, portal_statuses[i]))
                    f->counts[i] += n;
            f->total += n;
            sum += sqlite3_column_double(st, 2);
            wsum += sqlite3_column_double(st, 3);
            w += sqlite3_column_double(st, 4);
        }
        db_done(st);
    }
    f->mean = f->total ? sum / (double)f->total : -1;
    f->weighted = w > 0 ? wsum / w : -1;
}

/* The figures of every (field or theme, district, status), summed in one
 * pass and kept while the records do not change: the start page asks for
 * the figures of each field, a field page for those of each district, and
 * each query on its own scanned all measures. */
typedef struct cube_row {
    char term[12], district[8], status[16];
    long long n;
    double sum, wsum, w;
} cube_row;

static pthread_mutex_t cube_mu = PTHREAD_MUTEX_INITIALIZER;
static cube_row *cube;
static int ncube;
static bool cube_valid;
static pagecache_stamp cube_stamp;

static cube_row *cube_build(db *d, int *n)
{
    static const char *const sql[] = {
        "SELECT t.term, r.district, r.status, count(*), sum(r.progress), sum(r.progress * " WEIGHT
        "), sum(" WEIGHT ") FROM records r JOIN record_terms t ON t.seq=r.seq WHERE "
        "r.kind='measure' AND r.deleted IS NULL AND (t.term GLOB 'HF*' OR t.term GLOB 'QT*') "
        "GROUP BY 1, 2, 3",
        "SELECT '', r.district, r.status, count(*), sum(r.progress), sum(r.progress * " WEIGHT
        "), sum(" WEIGHT ") FROM records r WHERE r.kind='measure' AND r.deleted IS NULL "
        "GROUP BY 2, 3"};
    int cap = 64;
    cube_row *rows = malloc(sizeof *rows * (size_t)cap);
    *n = 0;
    bool in_read = db_begin_read(d) == 0;
    for (int q = 0; rows && q < 2; q++) {
        sqlite3_stmt *st = db_stmt(d, sql[q]);
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            if (*n == cap) {
                cube_row *more = realloc(rows, sizeof *rows * (size_t)(cap *= 2));
                if (!more)
                    break;
                rows = more;
            }
            cube_row *r = &rows[(*n)++];
            const char *t = (const char *)sqlite3_column_text(st, 0);
            const char *di = (const char *)sqlite3_column_text(st, 1);
            const char *s = (const char *)sqlite3_column_text(st, 2);
            snprintf(r->term, sizeof r->term, "%s", t ? t : "");
            /* NULL (a district node's own records) never equals a code. */
            snprintf(r->district, sizeof r->district, "%s", di ? di : "\x01");
            snprintf(r->status, sizeof r->status, "%s", s ? s : "");
            r->n = sqlite3_column_int64(st, 3);
            r->sum = sqlite3_column_double(st, 4);
            r->wsum = sqlite3_column_double(st, 5);
            r->w = sqlite3_column_double(st, 6);
        }
        db_done(st);
    }
    if (in_read)
        db_end_read(d);
    return rows;
}

void pt_pd_figures_of(pctx *c, const char *term, const char *dcode, pd_figures *f)
{
    if (term && strncmp(term, "HF", 2) && strncmp(term, "QT", 2)) {
        figures_query(c, term, dcode, f);
        return;
    }
    pagecache_stamp now;
    pagecache_stamp_now(&now);
    pthread_mutex_lock(&cube_mu);
    if (!cube_valid || memcmp(&now, &cube_stamp, sizeof now)) {
        int n = 0;
        cube_row *rows = cube_build(c->req->db, &n);
        free(cube);
        cube = rows;
        ncube = rows ? n : 0;
        cube_valid = rows != NULL;
        cube_stamp = now;
    }
    if (!cube_valid) {
        pthread_mutex_unlock(&cube_mu);
        figures_query(c, term, dcode, f);
        return;
    }
    memset(f, 0, sizeof *f);
    double sum = 0, wsum = 0, w = 0;
    for (int i = 0; i < ncube; i++) {
        const cube_row *r = &cube[i];
        if (strcmp(r->term, term ? term : "") || (dcode && strcmp(r->district, dcode)))
            continue;
        for (int k = 0; k < PORTAL_STATUSES; k++)
            if (!strcmp(r->status, portal_statuses[k]))
                f->counts[k] += r->n;
        f->total += r->n;
        sum += r->sum;
        wsum += r->wsum;
        w += r->w;
    }
    pthread_mutex_unlock(&cube_mu);
    f->mean = f->total ? sum / (double)f->total : -1;
    f->weighted = w > 0 ? wsum / w : -1;
}

/* ---- query parameters ------------------------------------------------------ */

const char *pt_q_field(pctx *c, const char *name)
{
    const char *v = http_query(c->req, name);
    return v && pt_tax_kind(c, v) ? v : NULL;
}

const char *pt_q_district(pctx *c, const char *name)
{
    const char *v = http_query(c->req, name);
    return pt_district_ok(v) ? v : NULL;
}

const char *pt_q_status(pctx *c, const char *name)
{
    const char *v = http_query(c->req, name);
    for (int i = 0; v && i < PORTAL_STATUSES; i++)
        if (!strcmp(v, portal_statuses[i]))
            return v;
    return NULL;
}

const char *pt_q_date(pctx *c, const char *name)
{
    const char *v = http_query(c->req, name);
    return v && util_valid_date(v) ? v : NULL;
}

const char *pt_q_text(pctx *c, const char *name)
{
    const char *v = http_query(c->req, name);
    if (!v || !*v || strlen(v) > 200 || !util_utf8_valid(v, strlen(v)))
        return NULL;
    for (const char *p = v; *p; p++)
        if (*p != ' ')
            return v;
    return NULL;
}

long long pt_q_cursor(pctx *c)
{
    const char *v = http_query(c->req, "cursor");
    if (!v)
        return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n < 1 ? 0 : n;
}

/* ---- shared blocks ----------------------------------------------------------- */

void pt_text_paragraphs(pctx *c, const char *text)
{
    pt_out(c, "<div class=\"prose\"><p>");
    int nl = 0;
    for (const char *p = text; p && *p;) {
        if (*p == '\r') {
            p++;
            continue;
        }
        if (*p == '\n') {
            nl++;
            p++;
            continue;
        }
        if (nl == 1)
            pt_out(c, "<br>");
        else if (nl > 1)
            pt_out(c, "</p><p>");
        nl = 0;
        const char *e = p;
        while (*e && *e != '\n' && *e != '\r')
            e++;
        char *line = strndup(p, (size_t)(e - p));
        pt_esc(c, line);
        free(line);
        p = e;
    }
    pt_out(c, "</p></div>");
}

void pt_data(pctx *c, const char *s)
{
    if (c->en)
        pt_out(c, "<span lang=\"de\">");
    pt_esc(c, s);
    if (c->en)
        pt_out(c, "</span>");
}

void pt_data_paragraphs(pctx *c, const char *text)
{
    if (c->en)
        pt_out(c, "<div lang=\"de\">");
    pt_text_paragraphs(c, text);
    if (c->en)
        pt_out(c, "</div>");
}

void pt_text_cut(const char *s, size_t max, char *o, size_t olen)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    if (n <= max) {
        snprintf(o, olen, "%s", s);
        return;
    }
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    while (k > 0 && s[k - 1] != ' ' && max - k < 20)
        k--;
    if (k == 0)
        k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    snprintf(o, olen, "%.*s…", (int)k, s);
}

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void heading_open(pctx *c, int level, const char *cls)
{
    pt_outf(c, "<h%d%s%s%s>", level, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
}

void pt_measure_list(pctx *c, const json_t *items, int hlevel)
{
    if (!json_array_size(items)) {
        pt_outf(c, "<p class=\"empty\">%s</p>", pt_msg(c, "list.no_measures"));
        return;
    }
    pt_out(c, "<ul class=\"cards\">");
    size_t i;
    json_t *m;
    json_array_foreach(items, i, m)
    {
        pt_out(c, "<li class=\"card\">");
        heading_open(c, hlevel, "card-title");
        pt_out(c, "<a href=\"");
        pt_hreff(c, "/measures/%s", sv(m, "id"));
        pt_out(c, "\">");
        pt_data(c, sv(m, "title"));
        pt_outf(c, "</a></h%d><p class=\"meta\">", hlevel);
        pt_status_badge(c, sv(m, "status"));
        if (c->state && sv(m, "district")) {
            pt_out(c, " <span class=\"sep\">·</span> ");
            pt_esc(c, pt_district_label(sv(m, "district")));
        }
        if (sv(m, "start_date") || sv(m, "end_date")) {
            pt_out(c, " <span class=\"sep\">·</span> ");
            if (sv(m, "start_date"))
                pt_fmt_date(c, sv(m, "start_date"));
            pt_out(c, " – ");
            if (sv(m, "end_date"))
                pt_fmt_date(c, sv(m, "end_date"));
            else
                pt_esc(c, pt_msg(c, "open_end"));
        }
        pt_out(c, "</p>");
        pt_progress_bar(c, (int)json_integer_value(json_object_get(m, "progress")));
        pt_out(c, "<p class=\"tags\">");
        size_t j;
        json_t *code;
        int n = 0;
        json_array_foreach(json_object_get(m, "fields_of_action"), j, code)
        {
            pt_outf(c, "%s<span class=\"tag\">", n++ ? " " : "");
            pt_esc(c, json_string_value(code));
            pt_out(c, "</span>");
        }
        json_array_foreach(json_object_get(m, "themes"), j, code)
        {
            pt_outf(c, "%s<span class=\"tag tag-theme\">", n++ ? " " : "");
            pt_esc(c, json_string_value(code));
            pt_out(c, "</span>");
        }
        pt_out(c, "</p></li>");
    }
    pt_out(c, "</ul>");
}

void pt_org_list(pctx *c, const json_t *items, int hlevel)
{
    if (!json_array_size(items)) {
        pt_outf(c, "<p class=\"empty\">%s</p>", pt_msg(c, "list.no_orgs"));
        return;
    }
    pt_out(c, "<ul class=\"cards\">");
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        pt_out(c, "<li class=\"card\">");
        heading_open(c, hlevel, "card-title");
        pt_out(c, "<a href=\"");
        pt_hreff(c, "/organisations/%s", sv(o, "id"));
        pt_out(c, "\">");
        pt_data(c, sv(o, "name"));
        pt_outf(c, "</a></h%d><p class=\"meta\">", hlevel);
        pt_esc(c, pt_kind_label(c, sv(o, "kind")));
        if (c->state && sv(o, "district")) {
            pt_out(c, " <span class=\"sep\">·</span> ");
            pt_esc(c, pt_district_label(sv(o, "district")));
        }
        pt_out(c, "</p>");
        size_t j;
        json_t *x;
        if (json_array_size(json_object_get(o, "fields_of_action"))) {
            pt_out(c, "<p class=\"tags\"><span class=\"visually-hidden\">");
            pt_esc(c, pt_msg(c, "nav.fields"));
            pt_out(c, ": </span>");
            json_array_foreach(json_object_get(o, "fields_of_action"), j, x)
            {
                pt_outf(c, "%s<span class=\"tag\">", j ? " " : "");
                pt_esc(c, json_string_value(x));
                pt_out(c, "</span>");
            }
            pt_out(c, "</p>");
        }
        if (json_array_size(json_object_get(o, "languages"))) {
            pt_out(c, "<p class=\"langs\">");
            pt_esc(c, pt_msg(c, "org.languages"));
            pt_out(c, ": ");
            json_array_foreach(json_object_get(o, "languages"), j, x)
            {
                if (j)
                    pt_out(c, ", ");
                pt_esc(c, pt_lang_label(c, json_string_value(x)));
            }
            pt_out(c, "</p>");
        }
        pt_out(c, "</li>");
    }
    pt_out(c, "</ul>");
}

void pt_more_link(pctx *c, const json_t *list, const char *base, const char *label_key)
{
    const char *next = sv(list, "next_cursor");
    bool paged = pt_q_cursor(c) > 0;
    if (!next && !paged)
        return;
    pt_out(c, "<p class=\"more\">");
    if (paged) {
        pt_out(c, "<a href=\"");
        pt_href(c, base);
        pt_out(c, "\">");
        pt_esc(c, pt_msg(c, "list.first"));
        pt_out(c, "</a> ");
    }
    if (next) {
        char u[1200];
        snprintf(u, sizeof u, "%s%scursor=%s", base, strchr(base, '?') ? "&" : "?", next);
        pt_out(c, "<a href=\"");
        pt_href(c, u);
        pt_out(c, "\" rel=\"next\">");
        pt_esc(c, pt_msg(c, label_key));
        pt_out(c, "</a>");
    }
    pt_out(c, "</p>");
}

void pt_fields_table(pctx *c, const char *dcode, const char *caption)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *kind = pass ? "theme" : "field";
        char id[16];
        pt_new_id(c, id);
        pt_outf(c,
                "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
                "<table class=\"figures\" data-kind=\"%s\"><caption id=\"%s\">",
                id, kind, id);
        pt_esc(c, pt_msg(c, pass ? "nav.themes" : "nav.fields"));
        if (caption) {
            pt_out(c, ": ");
            pt_esc(c, caption);
        }
        pt_out(c, "</caption><thead><tr><th scope=\"col\">");
        pt_esc(c, pt_msg(c, pass ? "theme" : "field"));
        pt_out(c, "</th>");
        for (int i = 0; i < PORTAL_STATUSES; i++) {
            pt_outf(c, "<th scope=\"col\" class=\"num\">");
            pt_esc(c, pt_status_label(c, portal_statuses[i]));
            pt_out(c, "</th>");
        }
        pt_out(c, "<th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "total"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "progress.mean"));
        pt_out(c, "</th><th scope=\"col\" class=\"dist\">");
        pt_esc(c, pt_msg(c, "distribution"));
        pt_out(c, "</th></tr></thead><tbody>");
        size_t i;
        json_t *r;
        json_array_foreach(pt_tax_rows(c), i, r)
        {
            if (strcmp(sv(r, "kind"), kind))
                continue;
            const char *code = sv(r, "code");
            pd_figures f;
            pt_pd_figures_of(c, code, dcode, &f);
            pt_out(c, "<tr data-code=\"");
            pt_esc(c, code);
            pt_out(c, "\"><th scope=\"row\">");
            pt_tax_link(c, code);
            pt_out(c, "</th>");
            for (int s = 0; s < PORTAL_STATUSES; s++)
                pt_outf(c, "<td class=\"num\" data-status=\"%s\">%lld</td>", portal_statuses[s],
                        f.counts[s]);
            pt_outf(c, "<td class=\"num\" data-total=\"%lld\">%lld</td><td class=\"num\">", f.total,
                    f.total);
            pt_fmt_pct(c, f.mean);
            pt_out(c, "</td><td class=\"dist\">");
            pt_svg_status_bar(c, f.counts);
            pt_out(c, "</td></tr>");
        }
        pt_out(c, "</tbody></table></div>");
    }
    /* One legend for the bars. */
    pt_out(c, "<ul class=\"legend status-legend\" aria-hidden=\"true\">");
    for (int s = 0; s < PORTAL_STATUSES; s++) {
        pt_outf(c,
                "<li><svg viewBox=\"0 0 10 10\" class=\"swatch\" focusable=\"false\"><rect "
                "class=\"st-%s\" width=\"10\" height=\"10\"/></svg> ",
                portal_statuses[s]);
        pt_esc(c, pt_status_label(c, portal_statuses[s]));
        pt_out(c, "</li>");
    }
    pt_out(c, "</ul>");
}

void pt_latest_progress(pctx *c, const char *dcode, int n, int hlevel)
{
    sqlite3_stmt *st =
        db_stmt(c->req->db, "SELECT doc FROM records WHERE kind='progress' AND deleted IS NULL "
                            "AND (:d IS NULL OR district=:d) ORDER BY start_date DESC, seq DESC "
                            "LIMIT :n");
    json_t *items = json_array();
    if (st) {
        db_bind_text(st, ":d", dcode);
        db_bind_int(st, ":n", n);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *d = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
            if (d)
                json_array_append_new(items, d);
        }
        db_done(st);
    }
    if (!json_array_size(items)) {
        pt_outf(c, "<p class=\"empty\">%s</p>", pt_msg(c, "list.no_progress"));
        json_decref(items);
        return;
    }
    pt_out(c, "<ol class=\"timeline\">");
    size_t i;
    json_t *p;
    json_array_foreach(items, i, p)
    {
        pt_out(c, "<li><p class=\"when\"><time datetime=\"");
        pt_esc(c, sv(p, "date"));
        pt_out(c, "\">");
        pt_fmt_date(c, sv(p, "date"));
        pt_out(c, "</time>");
        if (c->state && sv(p, "district")) {
            pt_out(c, " <span class=\"sep\">·</span> ");
            pt_esc(c, pt_district_label(sv(p, "district")));
        }
        pt_out(c, "</p>");
        heading_open(c, hlevel, "tl-title");
        pt_out(c, "<a href=\"");
        pt_hreff(c, "/progress/%s", sv(p, "id"));
        pt_out(c, "\">");
        pt_data(c, sv(p, "title"));
        pt_outf(c, "</a></h%d>", hlevel);
        char title[400];
        if (sv(p, "measure") &&
            pt_pd_title(c, sv(p, "measure"), title, sizeof title, NULL, 0, NULL)) {
            pt_out(c, "<p class=\"meta\">");
            pt_esc(c, pt_msg(c, "progress.of"));
            pt_out(c, " <a href=\"");
            pt_hreff(c, "/measures/%s", sv(p, "measure"));
            pt_out(c, "\">");
            pt_data(c, title);
            pt_out(c, "</a>");
            json_t *pr = json_object_get(p, "progress");
            if (json_is_integer(pr)) {
                pt_out(c, " <span class=\"sep\">·</span> ");
                pt_esc(c, pt_msg(c, "progress"));
                pt_out(c, " ");
                pt_fmt_pct(c, (double)json_integer_value(pr));
            }
            pt_out(c, "</p>");
        }
        pt_out(c, "</li>");
    }
    pt_out(c, "</ol>");
    json_decref(items);
}

void pt_search_form(pctx *c, const char *q, bool big)
{
    char id[16];
    pt_new_id(c, id);
    pt_outf(c,
            "<form class=\"search%s\" role=\"search\" action=\"/suche\" method=\"get\" "
            "aria-label=\"",
            big ? " search-big" : "");
    pt_esc(c, pt_msg(c, "search.label"));
    pt_outf(c, "\"><label for=\"%s\">", id);
    pt_esc(c, pt_msg(c, "search.label"));
    pt_outf(c,
            "</label><span class=\"search-row\"><input id=\"%s\" name=\"q\" type=\"search\" "
            "maxlength=\"200\" value=\"",
            id);
    pt_esc(c, q);
    pt_out(c, "\"> <button type=\"submit\">");
    pt_esc(c, pt_msg(c, "search.button"));
    pt_out(c, "</button></span>");
    pt_form_lang(c);
    pt_out(c, "</form>");
}
