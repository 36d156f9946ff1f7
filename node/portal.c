/* The public portal's pages and routes; see portal.h. */
#include "portal.h"
#include "aggregate.h"
#include "ap.h"
#include "district.h"
#include "keys.h"
#include "portal_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- form helpers ------------------------------------------------------- */

static void field_open(pctx *c, const char *label, char id[16])
{
    pt_new_id(c, id);
    pt_outf(c, "<p class=\"field\"><label for=\"%s\">", id);
    pt_esc(c, label);
    pt_out(c, "</label>");
}

static void option(pctx *c, const char *value, const char *label, const char *current)
{
    pt_out(c, "<option value=\"");
    pt_esc(c, value);
    pt_out(c, "\"");
    if (current && !strcmp(current, value))
        pt_out(c, " selected");
    pt_out(c, ">");
    pt_esc(c, label);
    pt_out(c, "</option>");
}

static void select_district(pctx *c, const char *current)
{
    char id[16];
    field_open(c, pt_msg(c, "filter.district"), id);
    pt_outf(c, "<select id=\"%s\" name=\"district\">", id);
    option(c, "", pt_msg(c, "filter.all_districts"), current ? current : "");
    for (const district *d = district_all(); d->code; d++)
        option(c, d->code, d->name, current);
    pt_out(c, "</select></p>");
}

static void select_status(pctx *c, const char *current)
{
    char id[16];
    field_open(c, pt_msg(c, "filter.status"), id);
    pt_outf(c, "<select id=\"%s\" name=\"status\">", id);
    option(c, "", pt_msg(c, "filter.all_statuses"), current ? current : "");
    for (int i = 0; i < PORTAL_STATUSES; i++)
        option(c, portal_statuses[i], pt_status_label(c, portal_statuses[i]), current);
    pt_out(c, "</select></p>");
}

/* kinds: "field", "theme" or NULL for both. */
static void select_tax(pctx *c, const char *name, const char *label, const char *kinds,
                       const char *current, const char *all_label)
{
    char id[16];
    field_open(c, label, id);
    pt_outf(c, "<select id=\"%s\" name=\"%s\">", id, name);
    option(c, "", all_label, current ? current : "");
    size_t i;
    json_t *r;
    json_array_foreach(pt_tax_rows(c), i, r)
    {
        if (kinds && strcmp(sv(r, "kind"), kinds))
            continue;
        char lab[400];
        snprintf(lab, sizeof lab, "%s %s", sv(r, "code"), sv(r, c->en ? "en" : "de"));
        option(c, sv(r, "code"), lab, current);
    }
    pt_out(c, "</select></p>");
}

static void input_date(pctx *c, const char *name, const char *label, const char *value)
{
    char id[16];
    field_open(c, label, id);
    pt_outf(c, "<input type=\"date\" id=\"%s\" name=\"%s\" value=\"", id, name);
    pt_esc(c, value);
    pt_out(c, "\"></p>");
}

static void filters_open(pctx *c, const char *action, const char *label)
{
    pt_out(c, "<form class=\"filters\" method=\"get\" action=\"");
    pt_esc(c, action);
    pt_out(c, "\" data-live=\"ergebnisse\" data-updated=\"");
    pt_esc(c, pt_msg(c, "live.updated"));
    pt_out(c, "\" aria-label=\"");
    pt_esc(c, label);
    pt_out(c, "\"><div class=\"filter-grid\">");
}

static void filters_close(pctx *c, const char *reset)
{
    pt_out(c, "</div><p class=\"actions\"><button type=\"submit\">");
    pt_esc(c, pt_msg(c, "filter.apply"));
    pt_out(c, "</button> <a href=\"");
    pt_href(c, reset);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "filter.reset"));
    pt_out(c, "</a></p>");
    pt_form_lang(c);
    pt_out(c, "<p class=\"live-hint\" hidden>");
    pt_esc(c, pt_msg(c, "filter.live_hint"));
    pt_out(c, "</p></form><p class=\"visually-hidden\" role=\"status\" id=\"live-status\"></p>");
}

/* Appends "&name=value" (URL-encoded) when value is set. */
static void qadd(buf *u, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    buf_puts(u, strchr(u->p ? u->p : "", '?') ? "&" : "?");
    buf_puts(u, name);
    buf_puts(u, "=");
    pt_url_enc(u, value);
}

static void section_open(pctx *c, const char *title, char id[16])
{
    pt_new_id(c, id);
    pt_outf(c, "<section aria-labelledby=\"%s\"><h2 id=\"%s\">", id, id);
    pt_esc(c, title);
    pt_out(c, "</h2>");
}

static long long count_sql(pctx *c, const char *sql, const char *d)
{
    sqlite3_stmt *st = db_stmt(c->req->db, sql);
    long long n = 0;
    if (st) {
        db_bind_text(st, ":d", d);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        db_done(st);
    }
    return n;
}

static long long orgs_in(pctx *c, const char *dcode)
{
    return count_sql(c,
                     "SELECT count(*) FROM records WHERE kind='organisation' AND deleted IS "
                     "NULL AND (:d IS NULL OR district=:d)",
                     dcode);
}

/* ---- start page ----------------------------------------------------------- */

/* Colour classes for a count: class k holds values up to floor(max*k/5). */
static int count_class(long long v, long long max)
{
    if (v <= 0 || max <= 0)
        return 0;
    for (int k = 1; k <= 5; k++)
        if (v <= (max * k) / 5)
            return k;
    return 5;
}

static int progress_class(double mean)
{
    if (mean < 0)
        return 0;
    long r = lround(mean);
    return r >= 80 ? 5 : r >= 60 ? 4 : r >= 40 ? 3 : r >= 20 ? 2 : 1;
}

static void legend_item(pctx *c, int k, const char *text)
{
    pt_outf(c,
            "<li><svg viewBox=\"0 0 10 10\" class=\"swatch\" aria-hidden=\"true\" "
            "focusable=\"false\"><rect class=\"c%d\" width=\"10\" height=\"10\"/></svg> ",
            k);
    pt_esc(c, text);
    pt_out(c, "</li>");
}

static void state_map(pctx *c)
{
    const char *figure = http_query(c->req, "figure");
    if (!figure || (strcmp(figure, "progress") && strcmp(figure, "field")))
        figure = "measures";
    const char *field = pt_q_field(c, "field");
    if (!strcmp(figure, "field") && !field)
        field = "HF1";
    json_t *stats = agg_stats(c->req->db);
    json_t *dists = json_object_get(stats, "districts");
    const district *all = district_all();
    char text[16][32];
    int cls[16];
    long long meas[16], fcount[16], maxc = 0;
    double mean[16];
    int n = 0;
    for (; all[n].code; n++) {
        json_t *d = json_object_get(dists, all[n].code);
        meas[n] = json_integer_value(json_object_get(d, "measures"));
        json_t *m = json_object_get(json_object_get(d, "progress"), "mean");
        mean[n] = json_is_number(m) ? json_number_value(m) : -1;
        fcount[n] = field ? json_integer_value(json_object_get(
                                json_object_get(json_object_get(d, "by_field"), field), "total"))
                          : 0;
        long long v = !strcmp(figure, "field") ? fcount[n] : meas[n];
        if (v > maxc)
            maxc = v;
    }
    for (int i = 0; i < n; i++) {
        if (!strcmp(figure, "progress")) {
            cls[i] = progress_class(mean[i]);
            if (mean[i] >= 0)
                snprintf(text[i], sizeof text[i], c->en ? "%ld%%" : "%ld %%", lround(mean[i]));
            else
                text[i][0] = '\0';
        } else {
            long long v = !strcmp(figure, "field") ? fcount[i] : meas[i];
            cls[i] = count_class(v, maxc);
            snprintf(text[i], sizeof text[i], "%lld", v);
        }
    }
    char figure_label[400];
    if (!strcmp(figure, "field"))
        snprintf(figure_label, sizeof figure_label, "%s %s", pt_msg(c, "figure.field_of"), field);
    else
        snprintf(figure_label, sizeof figure_label, "%s",
                 pt_msg(c, !strcmp(figure, "progress") ? "figure.progress" : "figure.measures"));

    char id[16];
    section_open(c, pt_msg(c, "start.map_title"), id);
    /* Choosing the figure: a plain GET form. */
    pt_out(c, "<form class=\"filters figure-form\" method=\"get\" action=\"/\" data-live=\"karte\" "
              "data-updated=\"");
    pt_esc(c, pt_msg(c, "live.updated"));
    pt_out(c, "\" aria-label=\"");
    pt_esc(c, pt_msg(c, "figure.choose"));
    pt_out(c, "\"><div class=\"filter-grid\">");
    char fid[16];
    field_open(c, pt_msg(c, "figure.label"), fid);
    pt_outf(c, "<select id=\"%s\" name=\"figure\">", fid);
    option(c, "measures", pt_msg(c, "figure.measures"), figure);
    option(c, "progress", pt_msg(c, "figure.progress"), figure);
    option(c, "field", pt_msg(c, "figure.field"), figure);
    pt_out(c, "</select></p>");
    select_tax(c, "field", pt_msg(c, "figure.field_label"), NULL, field,
               pt_msg(c, "figure.field_none"));
    pt_out(c, "</div><p class=\"actions\"><button type=\"submit\">");
    pt_esc(c, pt_msg(c, "figure.show"));
    pt_out(c, "</button></p>");
    pt_form_lang(c);
    pt_out(c, "</form><p class=\"visually-hidden\" role=\"status\" id=\"live-status\"></p>");

    pt_out(c, "<div id=\"karte\" class=\"split\"><figure class=\"map\">");
    pt_svg_tile_map(c, text, cls, NULL, true);
    pt_out(c, "<figcaption><span class=\"map-caption\">");
    pt_esc(c, pt_msg(c, pt_map_geojson() ? "map.caption_geo" : "map.caption"));
    pt_out(c, " ");
    pt_esc(c, figure_label);
    if (field) {
        pt_out(c, " (");
        pt_esc(c, pt_tax_name(c, field));
        pt_out(c, ")");
    }
    pt_out(c, ". ");
    pt_esc(c, pt_msg(c, "map.table_hint"));
    pt_out(c, "</span><ul class=\"legend\" aria-label=\"");
    pt_esc(c, pt_msg(c, "map.legend"));
    pt_out(c, "\">");
    if (!strcmp(figure, "progress")) {
        static const char *const ranges[] = {"0–19 %", "20–39 %", "40–59 %", "60–79 %", "80–100 %"};
        for (int k = 1; k <= 5; k++)
            legend_item(c, k, ranges[k - 1]);
    } else {
        for (int k = 1; k <= 5; k++) {
            long long lo = (maxc * (k - 1)) / 5 + 1, hi = (maxc * k) / 5;
            if (lo > hi)
                continue;
            char r[64];
            if (lo == hi)
                snprintf(r, sizeof r, "%lld", lo);
            else
                snprintf(r, sizeof r, "%lld–%lld", lo, hi);
            legend_item(c, k, r);
        }
    }
    legend_item(c, 0, pt_msg(c, "map.nodata"));
    pt_out(c, "</ul></figcaption></figure>");

    /* The table with the same numbers. */
    char tid[16];
    pt_new_id(c, tid);
    pt_outf(c,
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
            "<table id=\"kartentabelle\" class=\"figures\" data-figure=\"%s\"",
            tid, figure);
    if (field) {
        pt_out(c, " data-field=\"");
        pt_esc(c, field);
        pt_out(c, "\"");
    }
    pt_outf(c, "><caption id=\"%s\">", tid);
    pt_esc(c, pt_msg(c, "map.table_caption"));
    pt_out(c, "</caption><thead><tr><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "district"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "figure.measures"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_status_label(c, "active"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "figure.progress"));
    pt_out(c, "</th>");
    if (field) {
        pt_out(c, "<th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "figure.field_of"));
        pt_out(c, " <abbr class=\"code\" title=\"");
        pt_esc(c, pt_tax_name(c, field));
        pt_out(c, "\">");
        pt_esc(c, field);
        pt_out(c, "</abbr></th>");
    }
    pt_out(c, "</tr></thead><tbody>");
    long long sum = 0, sum_active = 0, sum_field = 0;
    for (int i = 0; i < n; i++) {
        json_t *d = json_object_get(dists, all[i].code);
        long long active =
            json_integer_value(json_object_get(json_object_get(d, "by_status"), "active"));
        pt_outf(c, "<tr data-code=\"%s\"><th scope=\"row\"><a href=\"", all[i].code);
        pt_hreff(c, "/kreise/%s", all[i].code);
        pt_out(c, "\">");
        pt_esc(c, all[i].name);
        pt_outf(c,
                "</a></th><td class=\"num\" data-col=\"measures\" data-value=\"%lld\">%lld</td>"
                "<td class=\"num\" data-col=\"active\" data-value=\"%lld\">%lld</td>"
                "<td class=\"num\" data-col=\"progress\" data-value=\"",
                meas[i], meas[i], active, active);
        if (mean[i] >= 0)
            pt_outf(c, "%.4f", mean[i]);
        pt_out(c, "\">");
        pt_fmt_pct(c, mean[i]);
        pt_out(c, "</td>");
        if (field)
            pt_outf(c, "<td class=\"num\" data-col=\"field\" data-value=\"%lld\">%lld</td>",
                    fcount[i], fcount[i]);
        pt_out(c, "</tr>");
        sum += meas[i];
        sum_active += active;
        sum_field += fcount[i];
    }
    json_t *sp =
        json_object_get(json_object_get(json_object_get(stats, "state"), "progress"), "mean");
    pt_out(c, "</tbody><tfoot><tr><th scope=\"row\">");
    pt_esc(c, pt_msg(c, "state.total"));
    pt_outf(c,
            "</th><td class=\"num\" data-col=\"measures\" data-value=\"%lld\">%lld</td>"
            "<td class=\"num\" data-col=\"active\" data-value=\"%lld\">%lld</td><td class=\"num\">",
            sum, sum, sum_active, sum_active);
    pt_fmt_pct(c, json_is_number(sp) ? json_number_value(sp) : -1);
    pt_out(c, "</td>");
    if (field)
        pt_outf(c, "<td class=\"num\" data-col=\"field\" data-value=\"%lld\">%lld</td>", sum_field,
                sum_field);
    pt_out(c, "</tr></tfoot></table></div></div></section>");
    json_decref(stats);
}

static void render_start(pctx *c)
{
    const district *own = district_find(c->cfg->district);
    char title[300];
    if (c->state)
        snprintf(title, sizeof title, "%s", pt_msg(c, "start.title_state"));
    else
        snprintf(title, sizeof title, "%s %s", pt_msg(c, "start.title_district"),
                 own ? own->name : c->cfg->district);
    page_meta m = {.title = title,
                   .nav = "home",
                   .canon = "/",
                   .description = pt_msg(c, c->state ? "start.desc_state" : "start.desc_district")};
    char feed[64];
    if (!c->state) {
        snprintf(feed, sizeof feed, "/feeds/kreis/%s.atom", c->cfg->district);
        m.feed = feed;
        m.feed_title = pt_msg(c, "feed.district");
    }
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, title);
    pt_out(c, "</h1><p class=\"lead\">");
    pt_esc(c, pt_msg(c, c->state ? "start.intro_state" : "start.intro_district"));
    pt_out(c, "</p>");
    pt_search_form(c, NULL, true);
    char id[16];
    if (c->state) {
        state_map(c);
    } else {
        const char *code = c->cfg->district;
        pd_figures f;
        pt_pd_figures_of(c, NULL, code, &f);
        section_open(c, pt_msg(c, "start.figures"), id);
        pt_out(c, "<div class=\"split\"><dl class=\"keyfigs\">");
        pt_outf(c, "<div><dt>%s</dt><dd data-col=\"measures\">%lld</dd></div>",
                pt_msg(c, "figure.measures"), f.total);
        pt_outf(c, "<div><dt>%s</dt><dd>%lld</dd></div>", pt_status_label(c, "active"),
                f.counts[1]);
        pt_outf(c, "<div><dt>%s</dt><dd>%lld</dd></div>", pt_status_label(c, "completed"),
                f.counts[2]);
        pt_outf(c, "<div><dt>%s</dt><dd>", pt_msg(c, "figure.progress"));
        pt_fmt_pct(c, f.mean);
        pt_outf(c, "</dd></div><div><dt>%s</dt><dd>%lld</dd></div></dl>", pt_msg(c, "nav.orgs"),
                orgs_in(c, code));
        char text[16][32];
        int cls[16];
        int i = 0;
        for (const district *d = district_all(); d->code; d++, i++) {
            bool me = !strcmp(d->code, code);
            cls[i] = me ? 4 : 0;
            text[i][0] = '\0';
            if (me)
                snprintf(text[i], sizeof text[i], "%lld", f.total);
        }
        pt_out(c, "<figure class=\"map map-small\">");
        pt_svg_tile_map(c, text, cls, code, false);
        pt_out(c, "<figcaption>");
        pt_esc(c, pt_msg(c, "map.locator"));
        pt_out(c, "</figcaption></figure></div></section>");
    }
    section_open(c, pt_msg(c, "start.fields_title"), id);
    pt_fields_table(c, c->state ? NULL : c->cfg->district, NULL);
    pt_out(c, "</section>");
    section_open(c, pt_msg(c, "start.latest_title"), id);
    pt_latest_progress(c, c->state ? NULL : c->cfg->district, 8, 3);
    pt_out(c, "</section>");
    if (!c->state) {
        section_open(c, pt_msg(c, "start.new_measures"), id);
        record_filter f = {.limit = 6};
        json_t *l = pt_pd_list(c, REC_MEASURE, &f);
        pt_measure_list(c, json_object_get(l, "items"), 3);
        json_decref(l);
        pt_out(c, "<p class=\"more\"><a href=\"");
        pt_href(c, "/suche");
        pt_out(c, "\">");
        pt_esc(c, pt_msg(c, "list.all_measures"));
        pt_out(c, "</a></p></section>");
    }
    section_open(c, pt_msg(c, "start.more_title"), id);
    pt_out(c, "<ul class=\"links\"><li><a href=\"");
    pt_href(c, "/bericht");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "start.link_report"));
    pt_out(c, "</a></li><li><a href=\"");
    pt_href(c, "/akteure");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "start.link_orgs"));
    pt_out(c, "</a></li><li><a href=\"/feeds/alle.atom\">");
    pt_esc(c, pt_msg(c, "feed.all"));
    pt_out(c, " (Atom)</a></li></ul></section>");
    pt_page_end(c);
}

static void h_start(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "start", render_start);
}

/* ---- search ------------------------------------------------------------------- */

static void render_search(pctx *c)
{
    const char *q = pt_q_text(c, "q"), *field = pt_q_field(c, "field"),
               *status = pt_q_status(c, "status"), *from = pt_q_date(c, "from"),
               *to = pt_q_date(c, "to");
    const char *dist = c->state ? pt_q_district(c, "district") : NULL;
    page_meta m = {
        .title = pt_msg(c, "search.title"), .nav = "search", .noindex = true, .canon = "/suche"};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, "search.title"));
    pt_out(c, "</h1>");
    filters_open(c, "/suche", pt_msg(c, "search.filters"));
    char id[16];
    field_open(c, pt_msg(c, "search.text"), id);
    pt_outf(c, "<input type=\"search\" id=\"%s\" name=\"q\" maxlength=\"200\" value=\"", id);
    pt_esc(c, q);
    pt_out(c, "\"></p>");
    select_tax(c, "field", pt_msg(c, "filter.field"), NULL, field, pt_msg(c, "filter.all_fields"));
    if (c->state)
        select_district(c, dist);
    select_status(c, status);
    input_date(c, "from", pt_msg(c, "filter.from"), from);
    input_date(c, "to", pt_msg(c, "filter.to"), to);
    filters_close(c, "/suche");

    record_filter f = {.limit = 20,
                       .q = q,
                       .status = status,
                       .district = dist,
                       .date_from = from,
                       .date_to = to,
                       .cursor = pt_q_cursor(c)};
    if (field && !strcmp(pt_tax_kind(c, field), "theme"))
        f.themes = field;
    else
        f.fields_of_action = field;
    json_t *l = pt_pd_list(c, REC_MEASURE, &f);
    pt_out(c, "<div id=\"ergebnisse\">");
    if (from && to && strcmp(from, to) > 0) {
        pt_out(c, "<p class=\"notice\">");
        pt_esc(c, pt_msg(c, "filter.bad_range"));
        pt_out(c, "</p>");
    }
    pt_outf(c, "<h2 data-count=\"%lld\">",
            (long long)json_integer_value(json_object_get(l, "total")));
    pt_outf(c, "%lld ", (long long)json_integer_value(json_object_get(l, "total")));
    pt_esc(c, pt_msg(c, "search.found"));
    pt_out(c, "</h2>");
    pt_measure_list(c, json_object_get(l, "items"), 3);
    buf u;
    buf_init(&u);
    buf_puts(&u, "/suche");
    qadd(&u, "q", q);
    qadd(&u, "field", field);
    qadd(&u, "district", dist);
    qadd(&u, "status", status);
    qadd(&u, "from", from);
    qadd(&u, "to", to);
    pt_more_link(c, l, u.p, "list.more_measures");
    buf_free(&u);
    pt_out(c, "</div>");
    json_decref(l);
    pt_page_end(c);
}

static void h_search(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "search", render_search);
}

/* ---- fields of action and themes ---------------------------------------------------- */

static void render_fields_index(pctx *c)
{
    page_meta m = {
        .title = pt_msg(c, "fields.title"), .nav = "fields", .canon = "/handlungsfelder"};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, "fields.title"));
    pt_out(c, "</h1><p class=\"lead\">");
    pt_esc(c, pt_msg(c, "fields.intro"));
    pt_out(c, "</p>");
    pt_fields_table(c, c->state ? NULL : c->cfg->district, NULL);
    pt_page_end(c);
}

static void h_fields_index(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "fields", render_fields_index);
}

static void status_table(pctx *c, const pd_figures *f, const char *caption)
{
    char id[16];
    pt_new_id(c, id);
    pt_outf(c,
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
            "<table class=\"figures status-table\"><caption id=\"%s\">",
            id, id);
    pt_esc(c, caption);
    pt_out(c, "</caption><thead><tr><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "filter.status"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "figure.measures"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "share"));
    pt_out(c, "</th></tr></thead><tbody>");
    for (int i = 0; i < PORTAL_STATUSES; i++) {
        pt_outf(c, "<tr data-status=\"%s\"><th scope=\"row\">", portal_statuses[i]);
        pt_status_badge(c, portal_statuses[i]);
        pt_outf(c, "</th><td class=\"num\">%lld</td><td class=\"num\">", f->counts[i]);
        pt_fmt_pct(c, f->total ? 100.0 * (double)f->counts[i] / (double)f->total : -1);
        pt_out(c, "</td></tr>");
    }
    pt_outf(c,
            "</tbody><tfoot><tr><th scope=\"row\">%s</th><td class=\"num\" data-total=\"%lld\">"
            "%lld</td><td class=\"num\">",
            pt_msg(c, "total"), f->total, f->total);
    pt_fmt_pct(c, f->total ? 100 : -1);
    pt_out(c, "</td></tr></tfoot></table></div>");
    pt_svg_status_bar(c, f->counts);
    pt_out(c, "<dl class=\"keyfigs\"><div><dt>");
    pt_esc(c, pt_msg(c, "progress.mean"));
    pt_out(c, "</dt><dd>");
    pt_fmt_pct(c, f->mean);
    pt_out(c, "</dd></div><div><dt>");
    pt_esc(c, pt_msg(c, "progress.weighted"));
    pt_out(c, "</dt><dd>");
    pt_fmt_pct(c, f->weighted);
    pt_out(c, "</dd></div></dl><p class=\"hint\">");
    pt_esc(c, pt_msg(c, "progress.weighted_hint"));
    pt_out(c, "</p>");
}

static void render_field(pctx *c)
{
    const char *code = c->req->params[0];
    bool theme = !strncmp(c->req->path, "/querschnittsthemen", 19);
    const char *kind = pt_tax_kind(c, code);
    if (!kind || strcmp(kind, theme ? "theme" : "field")) {
        pt_page_error(c, 404, pt_msg(c, "err.notfound"),
                      pt_msg(c, theme ? "err.no_theme" : "err.no_field"));
        return;
    }
    const char *dist = c->state ? pt_q_district(c, "district") : c->cfg->district;
    const char *status = pt_q_status(c, "status");
    char title[400], canon[64], feed[80];
    snprintf(title, sizeof title, "%s %s: %s", pt_msg(c, theme ? "theme" : "field"), code,
             pt_tax_name(c, code));
    snprintf(canon, sizeof canon, "/%s/%s", theme ? "querschnittsthemen" : "handlungsfelder", code);
    snprintf(feed, sizeof feed, "/feeds/%s/%s.atom", theme ? "querschnittsthema" : "handlungsfeld",
             code);
    char desc[600];
    snprintf(desc, sizeof desc, "%s %s.", pt_msg(c, "field.desc"), title);
    page_meta m = {.title = title,
                   .nav = "fields",
                   .canon = canon,
                   .feed = feed,
                   .feed_title = title,
                   .description = desc,
                   .noindex = (c->state && dist) || status};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, title);
    pt_out(c, "</h1><p class=\"lead\">");
    pt_esc(c, pt_msg(c, c->state ? "field.intro_state" : "field.intro_district"));
    pt_out(c, " <a href=\"");
    pt_esc(c, feed);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "feed.this"));
    pt_out(c, "</a></p>");
    filters_open(c, canon, pt_msg(c, "filter.label"));
    if (c->state)
        select_district(c, dist);
    select_status(c, status);
    filters_close(c, canon);

    pt_out(c, "<div id=\"ergebnisse\">");
    char id[16];
    pd_figures f;
    pt_pd_figures_of(c, code, dist, &f);
    section_open(c, pt_msg(c, "field.state_title"), id);
    status_table(c, &f, pt_msg(c, "field.by_status"));
    pt_out(c, "</section>");
    if (c->state && !dist) {
        section_open(c, pt_msg(c, "field.by_district"), id);
        char tid[16];
        pt_new_id(c, tid);
        pt_outf(c,
                "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
                "<table class=\"figures\"><caption id=\"%s\">",
                tid, tid);
        pt_esc(c, pt_msg(c, "field.by_district_caption"));
        pt_out(c, "</caption><thead><tr><th scope=\"col\">");
        pt_esc(c, pt_msg(c, "district"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "figure.measures"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_status_label(c, "active"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "progress.mean"));
        pt_out(c, "</th></tr></thead><tbody>");
        for (const district *d = district_all(); d->code; d++) {
            pd_figures g;
            pt_pd_figures_of(c, code, d->code, &g);
            pt_outf(c, "<tr data-code=\"%s\"><th scope=\"row\"><a href=\"", d->code);
            buf u;
            buf_init(&u);
            buf_printf(&u, "%s?district=%s", canon, d->code);
            pt_href(c, u.p);
            buf_free(&u);
            pt_out(c, "\">");
            pt_esc(c, d->name);
            pt_outf(c,
                    "</a></th><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
                    "<td class=\"num\">",
                    g.total, g.counts[1]);
            pt_fmt_pct(c, g.mean);
            pt_out(c, "</td></tr>");
        }
        pt_out(c, "</tbody></table></div></section>");
    }
    record_filter rf = {.limit = 20, .status = status, .district = dist, .cursor = pt_q_cursor(c)};
    if (theme)
        rf.themes = code;
    else
        rf.fields_of_action = code;
    json_t *l = pt_pd_list(c, REC_MEASURE, &rf);
    pt_new_id(c, id);
    pt_outf(c, "<section aria-labelledby=\"%s\"><h2 id=\"%s\" data-count=\"%lld\">", id, id,
            (long long)json_integer_value(json_object_get(l, "total")));
    pt_esc(c, pt_msg(c, "field.measures"));
    pt_outf(c, " (%lld)</h2>", (long long)json_integer_value(json_object_get(l, "total")));
    pt_measure_list(c, json_object_get(l, "items"), 3);
    buf u;
    buf_init(&u);
    buf_puts(&u, canon);
    if (c->state)
        qadd(&u, "district", dist);
    qadd(&u, "status", status);
    pt_more_link(c, l, u.p, "list.more_measures");
    buf_free(&u);
    json_decref(l);
    pt_out(c, "</section></div>");
    pt_page_end(c);
}

static void h_field(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "field", render_field);
}

/* ---- districts ------------------------------------------------------------------- */

static json_t *district_entry(json_t *list, const char *code)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) if (!strcmp(sv(e, "code"), code)) return e;
    return NULL;
}

static void render_districts(pctx *c)
{
    page_meta m = {.title = pt_msg(c, "districts.title"), .nav = "districts"};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, "districts.title"));
    pt_out(c, "</h1><p class=\"lead\">");
    pt_esc(c, pt_msg(c, "districts.intro"));
    pt_out(c, "</p>");
    json_t *list = agg_district_list(c->req->db);
    char id[16];
    pt_new_id(c, id);
    pt_outf(c,
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
            "<table class=\"figures\"><caption id=\"%s\">",
            id, id);
    pt_esc(c, pt_msg(c, "districts.caption"));
    pt_out(c, "</caption><thead><tr><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "district"));
    pt_out(c, "</th><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "district.kind"));
    pt_out(c, "</th><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "district.code"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "figure.measures"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "nav.orgs"));
    pt_out(c, "</th><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "sync.last"));
    pt_out(c, "</th></tr></thead><tbody>");
    for (const district *d = district_all(); d->code; d++) {
        json_t *e = district_entry(list, d->code);
        pd_figures f;
        pt_pd_figures_of(c, NULL, d->code, &f);
        pt_outf(c, "<tr data-code=\"%s\"><th scope=\"row\"><a href=\"", d->code);
        pt_hreff(c, "/kreise/%s", d->code);
        pt_out(c, "\">");
        pt_esc(c, d->name);
        pt_out(c, "</a></th><td>");
        pt_esc(c,
               pt_msg(c, !strcmp(d->kind, "Landkreis") ? "district.kind_lk" : "district.kind_ks"));
        pt_outf(c, "</td><td>%s</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>",
                d->code, f.total, orgs_in(c, d->code));
        if (!e)
            pt_esc(c, pt_msg(c, "sync.not_registered"));
        else if (sv(e, "last_sync"))
            pt_fmt_datetime(c, sv(e, "last_sync"));
        else
            pt_esc(c, pt_msg(c, "sync.never"));
        pt_out(c, "</td></tr>");
    }
    pt_out(c, "</tbody></table></div>");
    json_decref(list);
    pt_page_end(c);
}

static void h_districts(http_req *req, http_resp *resp)
{
    if (strcmp(req->cfg->role, "state")) {
        /* A district node has one district: its own page. */
        char loc[64];
        const char *l = http_query(req, "lang");
        snprintf(loc, sizeof loc, "/kreise/%s%s", req->cfg->district,
                 l && !strcmp(l, "en") ? "?lang=en" : "");
        http_text(resp, 303, "text/plain; charset=utf-8", loc);
        http_set_header(resp, "Location", loc);
        return;
    }
    portal_cached(req, resp, "districts", render_districts);
}

static void dl_item(pctx *c, const char *term, const char *value)
{
    pt_out(c, "<div><dt>");
    pt_esc(c, term);
    pt_out(c, "</dt><dd>");
    pt_esc(c, value);
    pt_out(c, "</dd></div>");
}

/* The handle of a district's actor from its cached actor document. */
static bool district_handle(pctx *c, const char *actor, char *outh, size_t n)
{
    sqlite3_stmt *st = db_stmt(c->req->db, "SELECT doc FROM remote_actors WHERE id=:id");
    bool ok = false;
    if (!st)
        return false;
    db_bind_text(st, ":id", actor);
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        const char *u = sv(doc, "preferredUsername");
        const char *h = strstr(actor, "://");
        if (u && h) {
            h += 3;
            const char *slash = strchr(h, '/');
            int hl = slash ? (int)(slash - h) : (int)strlen(h);
            snprintf(outh, n, "@%s@%.*s", u, hl, h);
            ok = true;
        }
        json_decref(doc);
    }
    db_done(st);
    return ok;
}

static void render_district(pctx *c)
{
    const char *code = c->req->params[0];
    if (!pt_district_ok(code) || (!c->state && strcmp(code, c->cfg->district))) {
        pt_page_error(c, 404, pt_msg(c, "err.notfound"), pt_msg(c, "err.no_district"));
        return;
    }
    const district *d = district_find(code);
    char canon[64], feed[64], desc[400];
    snprintf(canon, sizeof canon, "/kreise/%s", code);
    snprintf(feed, sizeof feed, "/feeds/kreis/%s.atom", code);
    snprintf(desc, sizeof desc, "%s %s.", pt_msg(c, "district.desc"), d->name);
    page_meta m = {.title = d->name,
                   .nav = "districts",
                   .canon = canon,
                   .feed = feed,
                   .feed_title = d->name,
                   .description = desc};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, d->name);
    pt_out(c, "</h1><p class=\"lead\">");
    pt_esc(c, pt_msg(c, !strcmp(d->kind, "Landkreis") ? "district.kind_lk" : "district.kind_ks"));
    pt_out(c, " <span class=\"sep\">·</span> ");
    pt_esc(c, pt_msg(c, "district.code"));
    pt_outf(c, " %s</p>", code);

    json_t *list = c->state ? agg_district_list(c->req->db) : NULL;
    json_t *e = c->state ? district_entry(list, code) : NULL;
    pd_figures f;
    pt_pd_figures_of(c, NULL, code, &f);
    char id[16];
    section_open(c, pt_msg(c, "district.profile"), id);
    pt_out(c, "<div class=\"split\"><div><dl class=\"facts\">");
    dl_item(c, pt_msg(c, "district.kind"),
            pt_msg(c, !strcmp(d->kind, "Landkreis") ? "district.kind_lk" : "district.kind_ks"));
    dl_item(c, pt_msg(c, "district.code"), code);
    char num[32];
    snprintf(num, sizeof num, "%lld", f.total);
    dl_item(c, pt_msg(c, "figure.measures"), num);
    snprintf(num, sizeof num, "%lld", orgs_in(c, code));
    dl_item(c, pt_msg(c, "nav.orgs"), num);
    pt_out(c, "<div><dt>");
    pt_esc(c, pt_msg(c, "figure.progress"));
    pt_out(c, "</dt><dd>");
    pt_fmt_pct(c, f.mean);
    pt_out(c, "</dd></div>");
    char handle[600];
    if (c->state && e) {
        const char *actor = sv(e, "actor");
        pt_out(c, "<div><dt>");
        pt_esc(c, pt_msg(c, "district.node"));
        pt_out(c, "</dt><dd><a href=\"");
        pt_esc(c, actor);
        pt_out(c, "\" rel=\"external\">");
        pt_esc(c, actor);
        pt_out(c, "</a></dd></div>");
        if (district_handle(c, actor, handle, sizeof handle))
            dl_item(c, pt_msg(c, "follow.fediverse"), handle);
    } else if (!c->state) {
        snprintf(handle, sizeof handle, "@%s@%s", c->cfg->handle, c->host);
        dl_item(c, pt_msg(c, "follow.fediverse"), handle);
        /* The public contact from the node settings (admin-web). */
        json_t *ct = json_object_get(pt_pd_settings(c), "contact");
        const char *mail = sv(ct, "email"), *phone = sv(ct, "phone"), *addr = sv(ct, "address");
        pt_out(c, "<div><dt>");
        pt_esc(c, pt_msg(c, "contact"));
        pt_out(c, "</dt><dd>");
        if (mail && *mail) {
            pt_out(c, "<a href=\"mailto:");
            pt_esc(c, mail);
            pt_out(c, "\">");
            pt_esc(c, mail);
            pt_out(c, "</a>");
        } else {
            pt_esc(c, pt_msg(c, "contact.none"));
        }
        pt_out(c, "</dd></div>");
        if (phone && *phone)
            dl_item(c, pt_msg(c, "org.phone"), phone);
        if (addr && *addr) {
            pt_out(c, "<div><dt>");
            pt_esc(c, pt_msg(c, "org.address"));
            pt_out(c, "</dt><dd><address>");
            for (const char *p = addr; *p; p++) {
                if (*p == '\n')
                    pt_out(c, "<br>");
                else if (*p != '\r') {
                    char ch[2] = {*p, 0};
                    pt_esc(c, ch);
                }
            }
            pt_out(c, "</address></dd></div>");
        }
    }
    pt_out(c, "</dl></div>");
    char text[16][32];
    int cls[16], i = 0;
    for (const district *x = district_all(); x->code; x++, i++) {
        bool me = !strcmp(x->code, code);
        cls[i] = me ? 4 : 0;
        text[i][0] = '\0';
        if (me)
            snprintf(text[i], sizeof text[i], "%lld", f.total);
    }
    pt_out(c, "<figure class=\"map map-small\">");
    pt_svg_tile_map(c, text, cls, code, c->state);
    pt_out(c, "<figcaption>");
    pt_esc(c, pt_msg(c, "map.locator"));
    pt_out(c, "</figcaption></figure></div></section>");

    /* Sync state and keys: what the state node pinned, or this node's own keys. */
    section_open(c, pt_msg(c, "district.sync_title"), id);
    if (c->state) {
        if (!e) {
            pt_out(c, "<p class=\"notice\">");
            pt_esc(c, pt_msg(c, "sync.not_registered_long"));
            pt_out(c, "</p>");
        } else {
            pt_out(c, "<dl class=\"facts\" id=\"abgleich\"><div><dt>");
            pt_esc(c, pt_msg(c, "sync.last"));
            pt_out(c, "</dt><dd data-col=\"last_sync\">");
            if (sv(e, "last_sync"))
                pt_fmt_datetime(c, sv(e, "last_sync"));
            else
                pt_esc(c, pt_msg(c, "sync.never"));
            pt_out(c, "</dd></div><div><dt>");
            pt_esc(c, pt_msg(c, "sync.last_contact"));
            pt_out(c, "</dt><dd>");
            if (sv(e, "last_contact"))
                pt_fmt_datetime(c, sv(e, "last_contact"));
            else
                pt_esc(c, pt_msg(c, "sync.never"));
            pt_outf(c, "</dd></div><div><dt>%s</dt><dd data-col=\"records\">%lld</dd></div>",
                    pt_msg(c, "sync.records"),
                    (long long)json_integer_value(json_object_get(e, "records")));
            pt_outf(c, "<div><dt>%s</dt><dd>%lld</dd></div>", pt_msg(c, "sync.accepted"),
                    (long long)json_integer_value(json_object_get(e, "accepted")));
            pt_outf(c, "<div><dt>%s</dt><dd>%lld</dd></div>", pt_msg(c, "sync.rejected"),
                    (long long)json_integer_value(json_object_get(e, "rejected")));
            pt_out(c, "<div><dt>");
            pt_esc(c, pt_msg(c, "sync.error"));
            pt_out(c, "</dt><dd>");
            pt_esc(c, sv(e, "last_error") ? sv(e, "last_error") : pt_msg(c, "sync.no_error"));
            pt_out(c, "</dd></div>");
            if (json_is_true(json_object_get(e, "key_change_pending"))) {
                pt_out(c, "<div><dt>");
                pt_esc(c, pt_msg(c, "sync.key_pending"));
                pt_out(c, "</dt><dd>");
                pt_esc(c, pt_msg(c, "sync.key_pending_text"));
                pt_out(c, "</dd></div>");
            }
            pt_out(c, "</dl><h3>");
            pt_esc(c, pt_msg(c, "keys.title"));
            pt_out(c, "</h3><p>");
            pt_esc(c, pt_msg(c, "keys.state_text"));
            pt_out(c, "</p><dl class=\"facts keys\"><div><dt>");
            pt_esc(c, pt_msg(c, "keys.rsa"));
            pt_out(c, "</dt><dd><code data-key=\"rsa\">");
            json_t *fp = json_object_get(e, "fingerprints");
            pt_esc(c, sv(fp, "rsa"));
            pt_out(c, "</code></dd></div><div><dt>");
            pt_esc(c, pt_msg(c, "keys.ed"));
            pt_out(c, "</dt><dd><code data-key=\"ed25519\">");
            pt_esc(c, sv(fp, "ed25519"));
            pt_out(c, "</code></dd></div></dl>");
        }
    } else {
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "keys.district_text"));
        pt_out(c, "</p>");
        const fed_ctx *fc = ap_ctx();
        if (fc && fc->keys.rsa) {
            char *rfp = fed_keys_fingerprint_rsa(fc->keys.rsa);
            char *efp = fed_keys_fingerprint_ed(fc->keys.ed_pk);
            pt_out(c, "<dl class=\"facts keys\"><div><dt>");
            pt_esc(c, pt_msg(c, "keys.rsa"));
            pt_out(c, "</dt><dd><code data-key=\"rsa\">");
            pt_esc(c, rfp);
            pt_out(c, "</code></dd></div><div><dt>");
            pt_esc(c, pt_msg(c, "keys.ed"));
            pt_out(c, "</dt><dd><code data-key=\"ed25519\">");
            pt_esc(c, efp);
            pt_out(c, "</code></dd></div></dl>");
            free(rfp);
            free(efp);
        }
    }
    pt_out(c, "</section>");
    json_decref(list);

    section_open(c, pt_msg(c, "start.fields_title"), id);
    pt_fields_table(c, code, d->name);
    pt_out(c, "</section>");

    record_filter rf = {.limit = 10, .district = code};
    json_t *l = pt_pd_list(c, REC_MEASURE, &rf);
    pt_new_id(c, id);
    pt_outf(c, "<section aria-labelledby=\"%s\"><h2 id=\"%s\">", id, id);
    pt_esc(c, pt_msg(c, "district.measures"));
    pt_outf(c, " (%lld)</h2>", (long long)json_integer_value(json_object_get(l, "total")));
    pt_measure_list(c, json_object_get(l, "items"), 3);
    pt_out(c, "<p class=\"more\"><a href=\"");
    buf u;
    buf_init(&u);
    buf_printf(&u, c->state ? "/suche?district=%s" : "/suche", code);
    pt_href(c, u.p);
    buf_free(&u);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "list.all_measures"));
    pt_out(c, "</a></p></section>");
    json_decref(l);

    record_filter of = {.limit = 10, .district = code};
    l = pt_pd_list(c, REC_ORGANISATION, &of);
    pt_new_id(c, id);
    pt_outf(c, "<section aria-labelledby=\"%s\"><h2 id=\"%s\">", id, id);
    pt_esc(c, pt_msg(c, "district.orgs"));
    pt_outf(c, " (%lld)</h2>", (long long)json_integer_value(json_object_get(l, "total")));
    pt_org_list(c, json_object_get(l, "items"), 3);
    pt_out(c, "<p class=\"more\"><a href=\"");
    buf_init(&u);
    buf_printf(&u, c->state ? "/akteure?district=%s" : "/akteure", code);
    pt_href(c, u.p);
    buf_free(&u);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "list.all_orgs"));
    pt_out(c, "</a></p></section>");
    json_decref(l);

    section_open(c, pt_msg(c, "start.latest_title"), id);
    pt_latest_progress(c, code, 5, 3);
    pt_out(c, "<p><a href=\"");
    pt_esc(c, feed);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "feed.this"));
    pt_out(c, "</a></p></section>");
    pt_page_end(c);
}

static void h_district(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "district", render_district);
}

/* ---- organisation directory ---------------------------------------------------------- */

static void render_orgs(pctx *c)
{
    const char *q = pt_q_text(c, "q"), *dist = c->state ? pt_q_district(c, "district") : NULL;
    const char *field = pt_q_field(c, "field");
    if (field && strcmp(pt_tax_kind(c, field), "field"))
        field = NULL;
    const char *kind = http_query(c->req, "kind");
    bool kind_ok = false;
    for (int i = 0; kind && portal_org_kinds[i]; i++)
        kind_ok = kind_ok || !strcmp(kind, portal_org_kinds[i]);
    if (!kind_ok)
        kind = NULL;
    /* Languages offered: the ones the organisations name. */
    json_t *langs = json_array();
    sqlite3_stmt *st =
        db_stmt(c->req->db, "SELECT DISTINCT substr(t.term, 6) FROM record_terms t JOIN "
                            "records r ON r.seq=t.seq WHERE t.term GLOB 'lang:*' AND "
                            "r.kind='organisation' AND r.deleted IS NULL ORDER BY 1");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(langs, json_string((const char *)sqlite3_column_text(st, 0)));
    db_done(st);
    const char *lang = http_query(c->req, "language");
    bool lang_ok = false;
    size_t i;
    json_t *x;
    json_array_foreach(langs, i, x) lang_ok =
        lang_ok || (lang && !strcmp(lang, json_string_value(x)));
    if (!lang_ok)
        lang = NULL;

    page_meta m = {.title = pt_msg(c, "orgs.title"),
                   .nav = "orgs",
                   .canon = "/akteure",
                   .description = pt_msg(c, "orgs.intro"),
                   .noindex = q || dist || field || kind || lang};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, "orgs.title"));
    pt_out(c, "</h1><p class=\"lead\">");
    pt_esc(c, pt_msg(c, "orgs.intro"));
    pt_out(c, "</p>");
    filters_open(c, "/akteure", pt_msg(c, "orgs.filters"));
    char id[16];
    field_open(c, pt_msg(c, "orgs.search"), id);
    pt_outf(c, "<input type=\"search\" id=\"%s\" name=\"q\" maxlength=\"200\" value=\"", id);
    pt_esc(c, q);
    pt_out(c, "\"></p>");
    if (c->state)
        select_district(c, dist);
    field_open(c, pt_msg(c, "orgs.kind"), id);
    pt_outf(c, "<select id=\"%s\" name=\"kind\">", id);
    option(c, "", pt_msg(c, "orgs.all_kinds"), kind ? kind : "");
    for (int k = 0; portal_org_kinds[k]; k++)
        option(c, portal_org_kinds[k], pt_kind_label(c, portal_org_kinds[k]), kind);
    pt_out(c, "</select></p>");
    select_tax(c, "field", pt_msg(c, "filter.field_only"), "field", field,
               pt_msg(c, "filter.all_fields_only"));
    field_open(c, pt_msg(c, "orgs.language"), id);
    pt_outf(c, "<select id=\"%s\" name=\"language\">", id);
    option(c, "", pt_msg(c, "orgs.all_languages"), lang ? lang : "");
    json_array_foreach(langs, i, x)
    {
        const char *code = json_string_value(x);
        char lab[160];
        const char *ll = pt_lang_label(c, code);
        if (strcmp(ll, code))
            snprintf(lab, sizeof lab, "%s (%s)", ll, code);
        else
            snprintf(lab, sizeof lab, "%s", code);
        option(c, code, lab, lang);
    }
    pt_out(c, "</select></p>");
    filters_close(c, "/akteure");

    record_filter f = {.limit = 20,
                       .q = q,
                       .district = dist,
                       .fields_of_action = field,
                       .org_kind = kind,
                       .language = lang,
                       .cursor = pt_q_cursor(c)};
    json_t *l = pt_pd_list(c, REC_ORGANISATION, &f);
    pt_out(c, "<div id=\"ergebnisse\">");
    pt_outf(c, "<h2 data-count=\"%lld\">%lld ",
            (long long)json_integer_value(json_object_get(l, "total")),
            (long long)json_integer_value(json_object_get(l, "total")));
    pt_esc(c, pt_msg(c, "orgs.found"));
    pt_out(c, "</h2>");
    pt_org_list(c, json_object_get(l, "items"), 3);
    buf u;
    buf_init(&u);
    buf_puts(&u, "/akteure");
    qadd(&u, "q", q);
    qadd(&u, "district", dist);
    qadd(&u, "kind", kind);
    qadd(&u, "field", field);
    qadd(&u, "language", lang);
    pt_more_link(c, l, u.p, "list.more_orgs");
    buf_free(&u);
    pt_out(c, "</div>");
    json_decref(l);
    json_decref(langs);
    pt_page_end(c);
}

static void h_orgs(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "orgs", render_orgs);
}

/* ---- report ------------------------------------------------------------------------ */

static void h_report(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "report", portal_report);
}

/* ---- legal pages ---------------------------------------------------------------------- */

static void render_legal(pctx *c)
{
    const char *key = c->req->path + 1; /* impressum, datenschutz, barrierefreiheit */
    char tkey[64];
    snprintf(tkey, sizeof tkey, "legal.%s", key);
    page_meta m = {.title = pt_msg(c, tkey)};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, tkey));
    pt_out(c, "</h1>");
    bool german = false;
    char *text = pt_pd_setting(c, key, &german);
    if (text && german) {
        pt_out(c, "<p class=\"notice\">");
        pt_esc(c, pt_msg(c, "legal.german_only"));
        pt_out(c, "</p><div lang=\"de\">");
        pt_text_paragraphs(c, text);
        pt_out(c, "</div>");
    } else if (text) {
        pt_text_paragraphs(c, text);
    } else {
        pt_out(c, "<div class=\"notice placeholder\" data-placeholder=\"");
        pt_esc(c, key);
        pt_out(c, "\"><p><strong>");
        pt_esc(c, pt_msg(c, "legal.placeholder_title"));
        pt_out(c, "</strong></p><p>");
        pt_esc(c, pt_msg(c, "legal.placeholder_text"));
        pt_out(c, " <code>");
        pt_esc(c, key);
        pt_out(c, "</code>).</p></div>");
    }
    free(text);
    if (!strcmp(key, "barrierefreiheit")) {
        char id[16];
        section_open(c, pt_msg(c, "a11y.feedback_title"), id);
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "a11y.feedback_text"));
        pt_out(c, "</p>");
        char *mail = pt_pd_setting(c, "contact_email", NULL);
        if (mail) {
            pt_out(c, "<p class=\"contact\">");
            pt_esc(c, pt_msg(c, "contact"));
            pt_out(c, ": <a href=\"mailto:");
            pt_esc(c, mail);
            pt_out(c, "\">");
            pt_esc(c, mail);
            pt_out(c, "</a></p>");
        } else {
            pt_out(c, "<div class=\"notice placeholder\" data-placeholder=\"contact_email\"><p>");
            pt_esc(c, pt_msg(c, "a11y.no_contact"));
            pt_out(c, " <code>contact_email</code>).</p></div>");
        }
        free(mail);
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "a11y.enforcement"));
        pt_out(c, "</p></section>");
    }
    pt_page_end(c);
}

static void h_legal(http_req *req, http_resp *resp)
{
    portal_cached(req, resp, "legal", render_legal);
}

/* ---- feeds, sitemap, robots, assets ----------------------------------------------------- */

static void h_feed_all(http_req *req, http_resp *resp)
{
    portal_feed(req, resp, "all", NULL);
}

static void h_feed_district(http_req *req, http_resp *resp)
{
    portal_feed(req, resp, "district", req->params[0]);
}

static void h_feed_field(http_req *req, http_resp *resp)
{
    portal_feed(req, resp, strncmp(req->path, "/feeds/querschnittsthema/", 25) ? "field" : "theme",
                req->params[0]);
}

static void h_feed_measure(http_req *req, http_resp *resp)
{
    portal_feed(req, resp, "measure", req->params[0]);
}

static void h_sitemap(http_req *req, http_resp *resp)
{
    portal_sitemap(req, resp);
}

static void h_robots(http_req *req, http_resp *resp)
{
    portal_robots(req, resp);
}

static void h_asset(http_req *req, http_resp *resp)
{
    portal_asset(req, resp, req->params[0]);
}

const http_route portal_routes[] = {
    {"GET", "/", h_start},
    {"GET", "/suche", h_search},
    {"GET", "/handlungsfelder", h_fields_index},
    {"GET", "/handlungsfelder/*", h_field},
    {"GET", "/querschnittsthemen", h_fields_index},
    {"GET", "/querschnittsthemen/*", h_field},
    {"GET", "/kreise", h_districts},
    {"GET", "/kreise/*", h_district},
    {"GET", "/akteure", h_orgs},
    {"GET", "/bericht", h_report},
    {"GET", "/impressum", h_legal},
    {"GET", "/datenschutz", h_legal},
    {"GET", "/barrierefreiheit", h_legal},
    {"GET", "/feeds/alle.atom", h_feed_all},
    {"GET", "/feeds/kreis/*", h_feed_district},
    {"GET", "/feeds/handlungsfeld/*", h_feed_field},
    {"GET", "/feeds/querschnittsthema/*", h_feed_field},
    {"GET", "/feeds/massnahme/*", h_feed_measure},
    {"GET", "/sitemap.xml", h_sitemap},
    {"GET", "/robots.txt", h_robots},
    {"GET", "/assets/*", h_asset},
    {NULL, NULL, NULL},
};
