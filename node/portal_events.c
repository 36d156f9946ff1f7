/* Portal pages of events: /events (upcoming and recent) and /events/ID for
 * browsers; ActivityStreams and iCalendar are in events.c. */
#include "events.h"
#include "util.h"
#include "portal_internal.h"

#include <stdio.h>
#include <string.h>

/* "01.12.2026, 09:00 UTC – 17:00 UTC" (end date only when it differs). */
static void when(pctx *c, const json_t *e)
{
    const char *s = util_jstr(e, "start_time"), *t = util_jstr(e, "end_time");
    pt_out(c, "<time datetime=\"");
    pt_esc(c, s);
    pt_out(c, "\">");
    pt_fmt_datetime(c, s);
    pt_out(c, "</time> – <time datetime=\"");
    pt_esc(c, t);
    pt_out(c, "\">");
    if (s && t && !strncmp(s, t, 10))
        pt_outf(c, "%.5s UTC", strlen(t) >= 16 ? t + 11 : "");
    else
        pt_fmt_datetime(c, t);
    pt_out(c, "</time>");
}

static void place(pctx *c, const json_t *e)
{
    const json_t *loc = json_object_get(e, "location");
    const char *n = util_jstr(loc, "name"), *a = util_jstr(loc, "address");
    if ((!n || !*n) && (!a || !*a))
        return;
    pt_data(c, n && *n ? n : "");
    if (n && *n && a && *a)
        pt_out(c, ", ");
    pt_data(c, a && *a ? a : "");
}

static void event_list(pctx *c, const json_t *items)
{
    if (!json_array_size(items)) {
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "events.none"));
        pt_out(c, "</p>\n");
        return;
    }
    pt_out(c, "<ul class=\"cards\">\n");
    size_t i;
    const json_t *e;
    json_array_foreach(items, i, e)
    {
        pt_out(c, "<li class=\"card\"><h3><a href=\"");
        pt_hreff(c, "/events/%s", util_jstr(e, "id"));
        pt_out(c, "\">");
        pt_data(c, util_jstr(e, "name"));
        pt_out(c, "</a></h3><p>");
        when(c, e);
        pt_out(c, "</p>");
        const json_t *loc = json_object_get(e, "location");
        if ((util_jstr(loc, "name") && *util_jstr(loc, "name")) ||
            (util_jstr(loc, "address") && *util_jstr(loc, "address"))) {
            pt_out(c, "<p>");
            place(c, e);
            pt_out(c, "</p>");
        }
        if (c->state && util_jstr(e, "district")) {
            pt_out(c, "<p>");
            pt_esc(c, pt_district_label(util_jstr(e, "district")));
            pt_out(c, "</p>");
        }
        pt_out(c, "</li>\n");
    }
    pt_out(c, "</ul>\n");
}

void portal_events_page(http_req *req, http_resp *resp)
{
    pctx c;
    pt_pc_init(&c, req, resp);
    page_meta m = {.title = pt_msg(&c, "events.title"), .nav = "events"};
    pt_page_begin(&c, &m);
    pt_out(&c, "<h1>");
    pt_esc(&c, pt_msg(&c, "events.title"));
    pt_out(&c, "</h1>\n<p>");
    pt_esc(&c, pt_msg(&c, c.state ? "events.intro.state" : "events.intro"));
    pt_out(&c, " <a href=\"/events.ics\">");
    pt_esc(&c, pt_msg(&c, "events.ics"));
    pt_out(&c, "</a></p>\n<h2>");
    pt_esc(&c, pt_msg(&c, "events.upcoming"));
    pt_out(&c, "</h2>\n");
    json_t *up = events_list(req->db, false, 200);
    event_list(&c, up);
    json_decref(up);
    pt_out(&c, "<h2>");
    pt_esc(&c, pt_msg(&c, "events.past"));
    pt_out(&c, "</h2>\n");
    json_t *past = events_list(req->db, true, 20);
    event_list(&c, past);
    json_decref(past);
    pt_page_end(&c);
    pt_pc_free(&c);
}

void portal_event_page(http_req *req, http_resp *resp, const json_t *doc)
{
    pctx c;
    pt_pc_init(&c, req, resp);
    if (!doc) {
        pt_page_error(&c, 404, pt_msg(&c, "events.missing"), pt_msg(&c, "events.missing.text"));
        resp->status = 404;
        pt_pc_free(&c);
        return;
    }
    if (util_jstr(doc, "deleted")) {
        pt_page_error(&c, 410, pt_msg(&c, "events.gone"), pt_msg(&c, "events.gone.text"));
        resp->status = 410;
        pt_pc_free(&c);
        return;
    }
    page_meta m = {.title = util_jstr(doc, "name"), .nav = "events", .og_type = "article"};
    pt_page_begin(&c, &m);
    pt_out(&c, "<article><h1>");
    pt_data(&c, util_jstr(doc, "name"));
    pt_out(&c, "</h1>\n<dl class=\"facts\"><dt>");
    pt_esc(&c, pt_msg(&c, "events.when"));
    pt_out(&c, "</dt><dd>");
    when(&c, doc);
    pt_out(&c, "</dd>");
    const json_t *loc = json_object_get(doc, "location");
    if ((util_jstr(loc, "name") && *util_jstr(loc, "name")) ||
        (util_jstr(loc, "address") && *util_jstr(loc, "address"))) {
        pt_out(&c, "<dt>");
        pt_esc(&c, pt_msg(&c, "events.where"));
        pt_out(&c, "</dt><dd>");
        place(&c, doc);
        pt_out(&c, "</dd>");
    }
    if (util_jstr(doc, "district")) {
        pt_out(&c, "<dt>");
        pt_esc(&c, pt_msg(&c, "events.by"));
        pt_out(&c, "</dt><dd>");
        pt_esc(&c, pt_district_label(util_jstr(doc, "district")));
        pt_out(&c, "</dd>");
    }
    pt_out(&c, "</dl>\n");
    if (util_jstr(doc, "content") && *util_jstr(doc, "content"))
        pt_data_paragraphs(&c, util_jstr(doc, "content"));
    pt_out(&c, "<p><a href=\"/events/");
    pt_esc(&c, util_jstr(doc, "id"));
    pt_out(&c, ".ics\">");
    pt_esc(&c, pt_msg(&c, "events.ics.one"));
    pt_out(&c, "</a>");
    if (util_jstr(doc, "home_url") && util_jstr(doc, "url") && strcmp(util_jstr(doc, "home_url"), "") &&
        strstr(util_jstr(doc, "home_url"), c.host) == NULL) {
        pt_out(&c, " · <a href=\"");
        pt_esc(&c, util_jstr(doc, "home_url"));
        pt_out(&c, "\">");
        pt_esc(&c, pt_msg(&c, "events.home"));
        pt_out(&c, "</a>");
    }
    pt_out(&c, " · <a href=\"");
    pt_href(&c, "/events");
    pt_out(&c, "\">");
    pt_esc(&c, pt_msg(&c, "events.all"));
    pt_out(&c, "</a></p></article>\n");
    pt_page_end(&c);
    pt_pc_free(&c);
}
