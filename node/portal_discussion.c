/* The public side of the discussion: the thread on measure and progress
 * pages (approved comments and placeholders for hidden ones, all text
 * escaped), the /netiquette page and comment entries in a measure's feed.
 * Writing happens in admin-web (/admin/#/discuss/…), so public pages stay
 * cookie-free. */
#include "comment.h"
#include "portal.h"
#include "portal_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void one(pctx *c, const json_t *items, const json_t *it, int depth);

static void children(pctx *c, const json_t *items, const char *parent, int depth)
{
    size_t i;
    json_t *it;
    int n = 0;
    json_array_foreach(items, i, it)
    {
        const char *p = sv(it, "parent");
        if (!p || strcmp(p, parent))
            continue;
        if (!n++)
            pt_out(c, "<ol class=\"comments replies\">");
        one(c, items, it, depth + 1);
    }
    if (n)
        pt_out(c, "</ol>");
}

static void one(pctx *c, const json_t *items, const json_t *it, int depth)
{
    pt_out(c, "<li class=\"comment");
    if (strcmp(sv(it, "status"), "approved"))
        pt_out(c, " comment-hidden");
    pt_out(c, "\" id=\"c-");
    pt_esc(c, sv(it, "id"));
    pt_out(c, "\">");
    if (strcmp(sv(it, "status"), "approved")) {
        pt_out(c, "<p class=\"comment-placeholder\"><em>");
        pt_esc(c, pt_msg(c, "discussion.hidden"));
        pt_out(c, "</em></p>");
    } else {
        pt_out(c, "<p class=\"comment-meta\"><strong>");
        pt_esc(c, sv(it, "author_name"));
        pt_out(c, "</strong> <span class=\"sep\">·</span> <time datetime=\"");
        pt_esc(c, sv(it, "created"));
        pt_out(c, "\">");
        pt_fmt_datetime(c, sv(it, "created"));
        pt_out(c, "</time>");
        if (sv(it, "district")) {
            pt_out(c, " <span class=\"sep\">·</span> ");
            pt_esc(c, pt_msg(c, "district"));
            pt_out(c, " ");
            pt_esc(c, pt_district_label(sv(it, "district")));
        }
        pt_out(c, "</p><div class=\"comment-text\" lang=\"de\">");
        pt_text_paragraphs(c, sv(it, "content"));
        pt_out(c, "</div>");
    }
    if (depth < 8)
        children(c, items, sv(it, "id"), depth);
    pt_out(c, "</li>");
}

void pt_discussion(pctx *c, const char *kind, const char *id)
{
    json_t *items = comment_thread(c->req->db, kind, id);
    pt_out(c, "<section aria-labelledby=\"diskussion-h\" class=\"discussion\" id=\"diskussion\" "
              "data-discussion=\"");
    pt_esc(c, id);
    pt_out(c, "\"><h2 id=\"diskussion-h\">");
    pt_esc(c, pt_msg(c, "discussion.title"));
    pt_out(c, "</h2>");
    if (!json_array_size(items)) {
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "discussion.none"));
        pt_out(c, "</p>");
    } else {
        pt_out(c, "<ol class=\"comments\">");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            /* Top level: no parent, or a parent that is not shown. */
            const char *p = sv(it, "parent");
            bool shown = false;
            size_t k;
            json_t *o;
            json_array_foreach(items, k, o) if (p && !strcmp(sv(o, "id"), p)) shown = true;
            if (!shown)
                one(c, items, it, 0);
        }
        pt_out(c, "</ol>");
    }
    pt_out(c, "<p class=\"discussion-links\">");
    if (!c->state) {
        pt_out(c, "<a class=\"button\" href=\"/admin/#/discuss/");
        pt_esc(c, kind);
        pt_out(c, "/");
        pt_esc(c, id);
        pt_out(c, "\">");
        pt_esc(c, pt_msg(c, "discussion.join"));
        pt_out(c, "</a> <span class=\"sep\">·</span> ");
    }
    pt_out(c, "<a href=\"");
    pt_href(c, "/netiquette");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "discussion.netiquette"));
    pt_out(c, "</a></p></section>");
    json_decref(items);
}

void pt_discussion_feed(pctx *c, const char *measure_id, void (*xml)(pctx *, const char *))
{
    json_t *items = comment_thread(c->req->db, "measure", measure_id);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (strcmp(sv(it, "status"), "approved"))
            continue;
        pt_out(c, "<entry>\n<id>");
        xml(c, sv(it, "url"));
        pt_out(c, "</id>\n<title type=\"text\">");
        xml(c, pt_msg(c, "discussion.feed_prefix"));
        pt_out(c, ": ");
        xml(c, sv(it, "author_name"));
        pt_out(c, "</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
        xml(c, c->cfg->base_url);
        xml(c, "/measures/");
        xml(c, measure_id);
        xml(c, "#c-");
        xml(c, sv(it, "id"));
        pt_out(c, "\"/>\n<updated>");
        xml(c, sv(it, "updated"));
        pt_out(c, "</updated>\n<published>");
        xml(c, sv(it, "created"));
        pt_out(c, "</published>\n<author><name>");
        xml(c, sv(it, "author_name"));
        pt_out(c, "</name></author>\n<content type=\"text\">");
        xml(c, sv(it, "content"));
        pt_out(c, "</content>\n</entry>\n");
    }
    json_decref(items);
}

static void render_netiquette(pctx *c)
{
    page_meta m = {.title = pt_msg(c, "netiquette.title")};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, "netiquette.title"));
    pt_out(c, "</h1>");
    json_t *t = json_object_get(json_object_get(pt_pd_settings(c), "texts"), "netiquette");
    const char *text = sv(t, c->en ? "en" : "de");
    if ((!text || !*text) && c->en)
        text = sv(t, "de");
    if (text && *text)
        pt_text_paragraphs(c, text);
    else
        pt_text_paragraphs(c, pt_msg(c, "netiquette.default"));
    pt_page_end(c);
    c->resp->status = 200;
}

static void h_netiquette(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "netiquette", render_netiquette);
}

const http_route portal_discussion_routes[] = {
    {"GET", "/netiquette", h_netiquette},
    {NULL, NULL, NULL},
};
