/* Portal pages of events: /events (upcoming and recent) and /events/ID for
 * browsers; ActivityStreams and iCalendar are in events.c. */
#include "events.h"
#include "portal_internal.h"

#include <stdio.h>
#include <string.h>

static const char *sget(const json_t *o, const char *k)
{
    const json_t *x = json_object_get(o, k);
    return json_is_string(x) ? json_string_value(x) : NULL;
}

/* "01.12.2026, 09:00 UTC – 17:00 UTC" (end date only when it differs). */
static void when(pctx *c, const json_t *e)
{
    const char *s = sget(e, "start_time"), *t = sget(e, "end_time");
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
    const char *n = sget(loc, "name"), *a = sget(loc, "address");
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
        pt_hreff(c, "/events/%s", sget(e, "id"));
        pt_out(c, "\">");
        pt_data(c, sget(e, "name"));
        pt_out(c, "</a></h3><p>");
        when(c, e);
        pt_out(c, "</p>");
        const json_t *loc = json_object_get(e, "location");
        if ((sget(loc, "name") && *sget(loc, "name")) ||
            (sget(loc, "address") && *sget(loc, "address"))) {
            pt_out(c, "<p>");
            place(c, e);
            pt_out(c, "</p>");
        }
        if (c->state && sget(e, "district")) {
            pt_out(c, "<p>");
            pt_esc(c, pt_district_label(sget(e, "district")));
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
    if (sget(doc, "deleted")) {
        pt_page_error(&c, 410, pt_msg(&c, "events.gone"), pt_msg(&c, "events.gone.text"));
        resp->status = 410;
        pt_pc_free(&c);
        return;
    }
    page_meta m = {.title = sget(doc, "name"), .nav = "events", .og_type = "article"};
    pt_page_begin(&c, &m);
    pt_out(&c, "<article><h1>");
    pt_data(&c, sget(doc, "name"));
    pt_out(&c, "</h1>\n<dl class=\"facts\"><dt>");
    pt_esc(&c, pt_msg(&c, "events.when"));
    pt_out(&c, "</dt><dd>");
    when(&c, doc);
    pt_out(&c, "</dd>");
    const json_t *loc = json_object_get(doc, "location");
    if ((sget(loc, "name") && *sget(loc, "name")) ||
        (sget(loc, "address") && *sget(loc, "address"))) {
        pt_out(&c, "<dt>");
        pt_esc(&c, pt_msg(&c, "events.where"));
        pt_out(&c, "</dt><dd>");
        place(&c, doc);
        pt_out(&c, "</dd>");
    }
    if (sget(doc, "district")) {
        pt_out(&c, "<dt>");
        pt_esc(&c, pt_msg(&c, "events.by"));
        pt_out(&c, "</dt><dd>");
        pt_esc(&c, pt_district_label(sget(doc, "district")));
        pt_out(&c, "</dd>");
    }
    pt_out(&c, "</dl>\n");
    if (sget(doc, "content") && *sget(doc, "content"))
        pt_data_paragraphs(&c, sget(doc, "content"));
    pt_out(&c, "<p><a href=\"/events/");
    pt_esc(&c, sget(doc, "id"));
    pt_out(&c, ".ics\">");
    pt_esc(&c, pt_msg(&c, "events.ics.one"));
    pt_out(&c, "</a>");
    if (sget(doc, "home_url") && sget(doc, "url") && strcmp(sget(doc, "home_url"), "") &&
        strstr(sget(doc, "home_url"), c.host) == NULL) {
        pt_out(&c, " · <a href=\"");
        pt_esc(&c, sget(doc, "home_url"));
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
