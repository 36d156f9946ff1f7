/* The implementation report (Umsetzungsbericht): the measures of a field of
 * action (or all), a district (or all) and a period, as a printable page.
 * The print style sheet lays it out on A4 with page numbers; the first
 * page holds the overview, the measures follow on their own pages. */
#include "district.h"
#include "portal_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_MAX 500

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int by_district_title(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *dx = sv(x, "district"), *dy = sv(y, "district");
    int r = strcmp(dx ? pt_district_label(dx) : "", dy ? pt_district_label(dy) : "");
    if (r)
        return r;
    return strcmp(sv(x, "title") ? sv(x, "title") : "", sv(y, "title") ? sv(y, "title") : "");
}

static void select_opt(pctx *c, const char *value, const char *label, const char *cur)
{
    pt_out(c, "<option value=\"");
    pt_esc(c, value);
    pt_out(c, "\"");
    if (cur && !strcmp(cur, value))
        pt_out(c, " selected");
    pt_out(c, ">");
    pt_esc(c, label);
    pt_out(c, "</option>");
}

static void report_form(pctx *c, const char *field, const char *dist, const char *from,
                        const char *to)
{
    char id[16];
    pt_out(c, "<form class=\"filters no-print\" method=\"get\" action=\"/bericht\" aria-label=\"");
    pt_esc(c, pt_msg(c, "report.choose"));
    pt_out(c, "\"><div class=\"filter-grid\">");
    pt_new_id(c, id);
    pt_outf(c, "<p class=\"field\"><label for=\"%s\">", id);
    pt_esc(c, pt_msg(c, "filter.field"));
    pt_outf(c, "</label><select id=\"%s\" name=\"field\">", id);
    select_opt(c, "", pt_msg(c, "filter.all_fields"), field ? field : "");
    size_t i;
    json_t *r;
    json_array_foreach(pt_tax_rows(c), i, r)
    {
        char lab[400];
        snprintf(lab, sizeof lab, "%s %s", sv(r, "code"), sv(r, c->en ? "en" : "de"));
        select_opt(c, sv(r, "code"), lab, field);
    }
    pt_out(c, "</select></p>");
    if (c->state) {
        pt_new_id(c, id);
        pt_outf(c, "<p class=\"field\"><label for=\"%s\">", id);
        pt_esc(c, pt_msg(c, "filter.district"));
        pt_outf(c, "</label><select id=\"%s\" name=\"district\">", id);
        select_opt(c, "", pt_msg(c, "filter.all_districts"), dist ? dist : "");
        for (const district *d = district_all(); d->code; d++)
            select_opt(c, d->code, d->name, dist);
        pt_out(c, "</select></p>");
    }
    const char *names[2] = {"from", "to"}, *vals[2] = {from, to};
    for (int k = 0; k < 2; k++) {
        pt_new_id(c, id);
        pt_outf(c, "<p class=\"field\"><label for=\"%s\">", id);
        pt_esc(c, pt_msg(c, k ? "filter.to" : "filter.from"));
        pt_outf(c, "</label><input type=\"date\" id=\"%s\" name=\"%s\" value=\"", id, names[k]);
        pt_esc(c, vals[k]);
        pt_out(c, "\"></p>");
    }
    pt_out(c, "</div><p class=\"actions\"><button type=\"submit\">");
    pt_esc(c, pt_msg(c, "report.make"));
    pt_out(c, "</button> <button type=\"button\" class=\"print-button\" hidden>");
    pt_esc(c, pt_msg(c, "report.print"));
    pt_out(c, "</button></p>");
    pt_form_lang(c);
    pt_out(c, "<p class=\"hint\">");
    pt_esc(c, pt_msg(c, "report.print_hint"));
    pt_out(c, "</p></form>");
}

static void th_row(pctx *c, const char *label)
{
    pt_out(c, "<tr><th scope=\"row\">");
    pt_esc(c, label);
    pt_out(c, "</th><td>");
}

static void report_measure(pctx *c, const json_t *m, int n, const char *from, const char *to)
{
    const char *id = sv(m, "id");
    pt_out(c, "<article class=\"report-measure\" id=\"m-");
    pt_esc(c, id);
    pt_outf(c, "\"><h3><span class=\"num-prefix\">3.%d</span> ", n);
    pt_data(c, sv(m, "title"));
    pt_out(c, "</h3><table class=\"facts-table\"><caption>");
    pt_esc(c, pt_msg(c, "report.facts"));
    pt_out(c, "</caption><tbody>");
    if (sv(m, "district")) {
        th_row(c, pt_msg(c, "district"));
        pt_esc(c, pt_district_label(sv(m, "district")));
        pt_out(c, "</td></tr>");
    }
    th_row(c, pt_msg(c, "filter.status"));
    pt_esc(c, pt_status_label(c, sv(m, "status")));
    pt_out(c, "</td></tr>");
    th_row(c, pt_msg(c, "progress"));
    pt_progress_bar(c, (int)json_integer_value(json_object_get(m, "progress")));
    pt_out(c, "</td></tr>");
    th_row(c, pt_msg(c, "report.period"));
    if (sv(m, "start_date"))
        pt_fmt_date(c, sv(m, "start_date"));
    else
        pt_esc(c, pt_msg(c, "measure.no_date"));
    pt_out(c, " – ");
    if (sv(m, "end_date"))
        pt_fmt_date(c, sv(m, "end_date"));
    else
        pt_esc(c, pt_msg(c, "open_end"));
    pt_out(c, "</td></tr>");
    th_row(c, pt_msg(c, "nav.fields"));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(m, "fields_of_action"), i, x)
    {
        if (i)
            pt_out(c, "; ");
        pt_esc(c, json_string_value(x));
        pt_out(c, " ");
        pt_esc(c, pt_tax_name(c, json_string_value(x)));
    }
    pt_out(c, "</td></tr>");
    if (json_array_size(json_object_get(m, "themes"))) {
        th_row(c, pt_msg(c, "nav.themes"));
        json_array_foreach(json_object_get(m, "themes"), i, x)
        {
            if (i)
                pt_out(c, "; ");
            pt_esc(c, json_string_value(x));
            pt_out(c, " ");
            pt_esc(c, pt_tax_name(c, json_string_value(x)));
        }
        pt_out(c, "</td></tr>");
    }
    char title[400];
    th_row(c, pt_msg(c, "measure.lead"));
    if (sv(m, "lead_organisation") &&
        pt_pd_title(c, sv(m, "lead_organisation"), title, sizeof title, NULL, 0, NULL))
        pt_esc(c, title);
    else
        pt_esc(c, pt_msg(c, "measure.none"));
    pt_out(c, "</td></tr>");
    if (json_array_size(json_object_get(m, "partner_organisations"))) {
        th_row(c, pt_msg(c, "measure.partners"));
        int k = 0;
        json_array_foreach(json_object_get(m, "partner_organisations"), i, x)
        {
            if (!pt_pd_title(c, json_string_value(x), title, sizeof title, NULL, 0, NULL))
                continue;
            if (k++)
                pt_out(c, "; ");
            pt_esc(c, title);
        }
        pt_out(c, "</td></tr>");
    }
    if (json_array_size(json_object_get(m, "target_groups"))) {
        th_row(c, pt_msg(c, "measure.target_groups"));
        json_array_foreach(json_object_get(m, "target_groups"), i, x)
        {
            if (i)
                pt_out(c, "; ");
            pt_esc(c, json_string_value(x));
        }
        pt_out(c, "</td></tr>");
    }
    th_row(c, pt_msg(c, "report.link"));
    pt_out(c, "<a href=\"");
    pt_hreff(c, "/measures/%s", id);
    pt_out(c, "\">");
    pt_esc(c, c->cfg->base_url);
    pt_out(c, "/measures/");
    pt_esc(c, id);
    pt_out(c, "</a></td></tr></tbody></table>");
    if (sv(m, "description") && *sv(m, "description"))
        pt_data_paragraphs(c, sv(m, "description"));

    json_t *inds = json_object_get(m, "indicators");
    if (json_array_size(inds)) {
        pt_out(c, "<table class=\"report-ind\"><caption>");
        pt_esc(c, pt_msg(c, "measure.indicators"));
        pt_out(c, "</caption><thead><tr><th scope=\"col\">");
        pt_esc(c, pt_msg(c, "report.indicator"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "ind.baseline"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "ind.latest"));
        pt_out(c, "</th><th scope=\"col\" class=\"num\">");
        pt_esc(c, pt_msg(c, "ind.target"));
        pt_out(c, "</th></tr></thead><tbody>");
        json_t *ind;
        json_array_foreach(inds, i, ind)
        {
            pt_out(c, "<tr><th scope=\"row\">");
            pt_esc(c, sv(ind, "name"));
            if (sv(ind, "unit") && *sv(ind, "unit")) {
                pt_out(c, " (");
                pt_esc(c, sv(ind, "unit"));
                pt_out(c, ")");
            }
            pt_out(c, "</th><td class=\"num\">");
            json_t *b = json_object_get(ind, "baseline"), *t = json_object_get(ind, "target");
            if (json_is_number(b))
                pt_fmt_num(c, json_number_value(b));
            else
                pt_out(c, "–");
            pt_out(c, "</td><td class=\"num\">");
            json_t *vals = json_object_get(ind, "values");
            /* The latest value inside the period (or overall). */
            const json_t *best = NULL;
            size_t j;
            json_t *v;
            json_array_foreach(vals, j, v)
            {
                const char *d = sv(v, "date");
                if (!d || (from && strcmp(d, from) < 0) || (to && strcmp(d, to) > 0))
                    continue;
                if (!best || strcmp(d, sv(best, "date")) >= 0)
                    best = v;
            }
            if (best) {
                pt_fmt_num(c, json_number_value(json_object_get(best, "value")));
                pt_out(c, " (");
                pt_fmt_date(c, sv(best, "date"));
                pt_out(c, ")");
            } else {
                pt_out(c, "–");
            }
            pt_out(c, "</td><td class=\"num\">");
            if (json_is_number(t))
                pt_fmt_num(c, json_number_value(t));
            else
                pt_out(c, "–");
            pt_out(c, "</td></tr>");
        }
        pt_out(c, "</tbody></table>");
    }

    sqlite3_stmt *st =
        db_stmt(c->req->db, "SELECT doc FROM records WHERE kind='progress' AND parent=:id AND "
                            "deleted IS NULL AND (:from IS NULL OR start_date >= :from) AND "
                            "(:to IS NULL OR start_date <= :to) ORDER BY start_date, seq");
    int np = 0;
    if (st) {
        db_bind_text(st, ":id", id);
        db_bind_text(st, ":from", from);
        db_bind_text(st, ":to", to);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *p = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
            if (!p)
                continue;
            if (!np++) {
                pt_out(c, "<h4>");
                pt_esc(c, pt_msg(c, "report.progress_in_period"));
                pt_out(c, "</h4><ul class=\"report-progress\">");
            }
            pt_out(c, "<li><strong>");
            pt_fmt_date(c, sv(p, "date"));
            pt_out(c, ": ");
            pt_data(c, sv(p, "title"));
            pt_out(c, "</strong>");
            if (json_is_integer(json_object_get(p, "progress"))) {
                pt_out(c, " (");
                pt_esc(c, pt_msg(c, "progress"));
                pt_out(c, " ");
                pt_fmt_pct(c, (double)json_integer_value(json_object_get(p, "progress")));
                pt_out(c, ")");
            }
            if (sv(p, "text") && *sv(p, "text")) {
                pt_out(c, "<br>");
                pt_esc(c, sv(p, "text"));
            }
            pt_out(c, "</li>");
            json_decref(p);
        }
        db_done(st);
    }
    if (np)
        pt_out(c, "</ul>");
    else {
        pt_out(c, "<p class=\"small\">");
        pt_esc(c, pt_msg(c, "report.no_progress"));
        pt_out(c, "</p>");
    }
    pt_out(c, "</article>");
}

void portal_report(pctx *c)
{
    const char *field = pt_q_field(c, "field");
    const char *dist = c->state ? pt_q_district(c, "district") : c->cfg->district;
    const char *from = pt_q_date(c, "from"), *to = pt_q_date(c, "to");
    bool bad =
        (http_query(c->req, "from") && *http_query(c->req, "from") && !from) ||
        (http_query(c->req, "to") && *http_query(c->req, "to") && !to) ||
        (http_query(c->req, "field") && *http_query(c->req, "field") && !field) ||
        (c->state && http_query(c->req, "district") && *http_query(c->req, "district") && !dist);
    if (from && to && strcmp(from, to) > 0)
        bad = true, from = to = NULL;

    /* The title names the choice. */
    char scope_field[400], scope_dist[200];
    if (field)
        snprintf(scope_field, sizeof scope_field, "%s %s: %s",
                 pt_msg(c, strcmp(pt_tax_kind(c, field), "field") ? "theme" : "field"), field,
                 pt_tax_name(c, field));
    else
        snprintf(scope_field, sizeof scope_field, "%s", pt_msg(c, "report.all_fields"));
    snprintf(scope_dist, sizeof scope_dist, "%s",
             dist ? pt_district_label(dist) : pt_msg(c, "report.all_districts"));
    buf canon;
    buf_init(&canon);
    buf_puts(&canon, "/bericht");
    int nq = 0;
    const char *qn[4] = {"field", "district", "from", "to"},
               *qv[4] = {field, c->state ? dist : NULL, from, to};
    for (int k = 0; k < 4; k++)
        if (qv[k]) {
            buf_printf(&canon, "%s%s=", nq++ ? "&" : "?", qn[k]);
            pt_url_enc(&canon, qv[k]);
        }
    char title[800];
    snprintf(title, sizeof title, "%s – %s – %s", pt_msg(c, "report.title"), scope_field,
             scope_dist);
    page_meta m = {
        .title = title, .nav = "report", .canon = canon.p, .description = pt_msg(c, "report.desc")};
    pt_page_begin(c, &m);
    pt_out(c, "<div class=\"report\"><header class=\"report-head\"><p class=\"kicker\">");
    pt_esc(c, pt_msg(c, "site.name"));
    pt_out(c, "</p><h1>");
    pt_esc(c, pt_msg(c, "report.title"));
    pt_out(c, " <span class=\"subtitle\">");
    pt_esc(c, scope_field);
    pt_out(c, " – ");
    pt_esc(c, scope_dist);
    pt_out(c, "</span></h1>");
    report_form(c, field, c->state ? dist : NULL, from, to);
    if (bad) {
        pt_out(c, "<p class=\"notice\" role=\"alert\">");
        pt_esc(c, pt_msg(c, "report.bad_params"));
        pt_out(c, "</p>");
    }

    /* The measures: every page of the list, then the period applied here. A
     * measure belongs to the period when it started before its end and has
     * not ended before its start; open ends count as running (record_list's
     * own date filter drops open-ended measures, see the portal notes). */
    json_t *all = json_array();
    long long total = 0;
    record_filter f = {.limit = 200, .district = dist};
    if (field && !strcmp(pt_tax_kind(c, field), "theme"))
        f.themes = field;
    else
        f.fields_of_action = field;
    for (int guard = 0; guard < 100; guard++) {
        json_t *l = pt_pd_list(c, REC_MEASURE, &f);
        if (!l)
            break;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(l, "items"), i, it)
        {
            const char *sd = sv(it, "start_date"), *ed = sv(it, "end_date");
            if ((to && sd && strcmp(sd, to) > 0) || (from && ed && strcmp(ed, from) < 0))
                continue;
            total++;
            if (json_array_size(all) < REPORT_MAX)
                json_array_append(all, it);
        }
        const char *next = sv(l, "next_cursor");
        long long cur = next ? strtoll(next, NULL, 10) : 0;
        json_decref(l);
        if (!cur)
            break;
        f.cursor = cur;
    }
    size_t n = json_array_size(all);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++)
        items[i] = json_array_get(all, i);
    if (items)
        qsort(items, n, sizeof *items, by_district_title);

    char now[21];
    util_now_iso(now);
    pt_out(c, "<dl class=\"report-params\"><div><dt>");
    pt_esc(c, pt_msg(c, "filter.field"));
    pt_out(c, "</dt><dd>");
    pt_esc(c, scope_field);
    pt_out(c, "</dd></div><div><dt>");
    pt_esc(c, pt_msg(c, "filter.district"));
    pt_out(c, "</dt><dd>");
    pt_esc(c, scope_dist);
    pt_out(c, "</dd></div><div><dt>");
    pt_esc(c, pt_msg(c, "report.period"));
    pt_out(c, "</dt><dd>");
    if (from || to) {
        if (from)
            pt_fmt_date(c, from);
        pt_out(c, " – ");
        if (to)
            pt_fmt_date(c, to);
    } else {
        pt_esc(c, pt_msg(c, "report.all_time"));
    }
    pt_out(c, "</dd></div><div><dt>");
    pt_esc(c, pt_msg(c, "report.generated"));
    pt_out(c, "</dt><dd>");
    pt_fmt_datetime(c, now);
    pt_out(c, "</dd></div><div><dt>");
    pt_esc(c, pt_msg(c, "report.source"));
    pt_out(c, "</dt><dd>");
    pt_esc(c, pt_node_name(c));
    pt_out(c, ", ");
    pt_esc(c, c->cfg->base_url);
    pt_esc(c, canon.p);
    pt_out(c, "</dd></div></dl></header>");

    /* 1. Overview. */
    pd_figures fg = {0};
    double sum = 0, wsum = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = sv(items[i], "status");
        for (int k = 0; k < PORTAL_STATUSES; k++)
            if (s && !strcmp(s, portal_statuses[k]))
                fg.counts[k]++;
        fg.total++;
        sum += (double)json_integer_value(json_object_get(items[i], "progress"));
    }
    /* Duration weights from the dates (days, both ends included). */
    for (size_t i = 0; i < n; i++) {
        const char *sd = sv(items[i], "start_date"), *ed = sv(items[i], "end_date");
        if (!sd || !ed)
            continue;
        struct tm a = {0}, b = {0};
        if (sscanf(sd, "%d-%d-%d", &a.tm_year, &a.tm_mon, &a.tm_mday) != 3 ||
            sscanf(ed, "%d-%d-%d", &b.tm_year, &b.tm_mon, &b.tm_mday) != 3)
            continue;
        a.tm_year -= 1900, b.tm_year -= 1900, a.tm_mon--, b.tm_mon--;
        double days = (double)(timegm(&b) - timegm(&a)) / 86400.0 + 1;
        double p = (double)json_integer_value(json_object_get(items[i], "progress"));
        wsum += p * days;
        w += days;
    }
    fg.mean = n ? sum / (double)n : -1;
    fg.weighted = w > 0 ? wsum / w : -1;

    pt_out(c, "<section class=\"report-overview\" aria-labelledby=\"r-overview\"><h2 "
              "id=\"r-overview\">1. ");
    pt_esc(c, pt_msg(c, "report.overview"));
    pt_out(c, "</h2>");
    if ((long long)n < total) {
        pt_out(c, "<p class=\"notice\">");
        pt_outf(c, pt_msg(c, "report.capped"), (long long)n, total);
        pt_out(c, "</p>");
    }
    pt_out(c, "<table class=\"figures\"><caption>");
    pt_esc(c, pt_msg(c, "field.by_status"));
    pt_out(c, "</caption><thead><tr><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "filter.status"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "figure.measures"));
    pt_out(c, "</th></tr></thead><tbody>");
    for (int k = 0; k < PORTAL_STATUSES; k++) {
        pt_out(c, "<tr><th scope=\"row\">");
        pt_esc(c, pt_status_label(c, portal_statuses[k]));
        pt_outf(c, "</th><td class=\"num\">%lld</td></tr>", fg.counts[k]);
    }
    pt_out(c, "</tbody><tfoot><tr><th scope=\"row\">");
    pt_esc(c, pt_msg(c, "total"));
    pt_outf(c, "</th><td class=\"num\" data-total=\"%lld\">%lld</td></tr></tfoot></table>",
            fg.total, fg.total);
    pt_out(c, "<dl class=\"keyfigs\"><div><dt>");
    pt_esc(c, pt_msg(c, "progress.mean"));
    pt_out(c, "</dt><dd>");
    pt_fmt_pct(c, fg.mean);
    pt_out(c, "</dd></div><div><dt>");
    pt_esc(c, pt_msg(c, "progress.weighted"));
    pt_out(c, "</dt><dd>");
    pt_fmt_pct(c, fg.weighted);
    pt_out(c, "</dd></div></dl><p class=\"hint\">");
    pt_esc(c, pt_msg(c, "progress.weighted_hint"));
    pt_out(c, "</p>");

    /* 2. Contents. */
    pt_out(c, "<h2 id=\"r-contents\">2. ");
    pt_esc(c, pt_msg(c, "report.contents"));
    pt_out(c, "</h2>");
    if (!n) {
        pt_out(c, "<p class=\"empty\">");
        pt_esc(c, pt_msg(c, "list.no_measures"));
        pt_out(c, "</p>");
    } else {
        pt_out(c, "<ol class=\"report-toc\">");
        for (size_t i = 0; i < n; i++) {
            pt_out(c, "<li><a href=\"#m-");
            pt_esc(c, sv(items[i], "id"));
            pt_out(c, "\">");
            pt_data(c, sv(items[i], "title"));
            pt_out(c, "</a>");
            if (!dist && sv(items[i], "district")) {
                pt_out(c, " (");
                pt_esc(c, pt_district_label(sv(items[i], "district")));
                pt_out(c, ")");
            }
            pt_out(c, " – ");
            pt_esc(c, pt_status_label(c, sv(items[i], "status")));
            pt_out(c, "</li>");
        }
        pt_out(c, "</ol>");
    }
    pt_out(c, "</section>");

    /* 3. The measures, starting on a new page. */
    if (n) {
        pt_out(c, "<section class=\"report-measures\" aria-labelledby=\"r-measures\"><h2 "
                  "id=\"r-measures\">3. ");
        pt_esc(c, pt_msg(c, "report.details"));
        pt_out(c, "</h2>");
        for (size_t i = 0; i < n; i++)
            report_measure(c, items[i], (int)i + 1, from, to);
        pt_out(c, "</section>");
    }
    pt_out(c, "<p class=\"report-end small\">");
    pt_esc(c, pt_msg(c, "report.end"));
    pt_out(c, "</p></div>");
    free(items);
    json_decref(all);
    buf_free(&canon);
    pt_page_end(c);
}
