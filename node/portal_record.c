/* The HTML pages of the records: measures, organisations and progress
 * entries (the browser side of /measures/ID, /organisations/ID,
 * /progress/ID; ap.c answers ActivityStreams clients itself). */
#include "portal.h"
#include "aggregate.h"
#include "district.h"
#include "portal_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct record_arg {
    rec_kind kind;
    const json_t *doc;
    bool gone;
} record_arg;

static const char *sv(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void section_open(pctx *c, const char *title, const char *id)
{
    pt_outf(c, "<section aria-labelledby=\"%s\"><h2 id=\"%s\">", id, id);
    pt_esc(c, title);
    pt_out(c, "</h2>");
}

static void fact_open(pctx *c, const char *term)
{
    pt_out(c, "<div><dt>");
    pt_esc(c, term);
    pt_out(c, "</dt><dd>");
}

static void org_link(pctx *c, const char *id)
{
    char title[400];
    bool deleted = false;
    if (!pt_pd_title(c, id, title, sizeof title, NULL, 0, &deleted)) {
        /* A district may name an organisation the state has not received. */
        pt_esc(c, pt_msg(c, "org.unknown"));
        return;
    }
    pt_out(c, "<a href=\"");
    pt_hreff(c, "/organisations/%s", id);
    pt_out(c, "\">");
    pt_data(c, title);
    pt_out(c, "</a>");
    if (deleted) {
        pt_out(c, " (");
        pt_esc(c, pt_msg(c, "record.deleted_short"));
        pt_out(c, ")");
    }
}

/* Where the record comes from: on the state node the signed activity it
 * came with, checked now against the district's pinned key. */
static void provenance(pctx *c, const json_t *doc)
{
    const char *id = sv(doc, "id");
    pt_out(c, "<section aria-labelledby=\"herkunft\" class=\"provenance\"><h2 id=\"herkunft\">");
    pt_esc(c, pt_msg(c, "prov.title"));
    pt_out(c, "</h2>");
    if (!c->state) {
        pt_out(c, "<p class=\"prov-line\" data-verified=\"local\">");
        pt_esc(c, pt_msg(c, "prov.local"));
        pt_out(c, " (");
        pt_esc(c, pt_node_name(c));
        pt_out(c, ").</p>");
        pt_out(c, "</section>");
        return;
    }
    json_t *p = agg_provenance(c->req->db, id);
    const char *dist = sv(doc, "district");
    if (!p) {
        pt_out(c, "<p class=\"prov-line\" data-verified=\"none\">");
        pt_esc(c, pt_msg(c, "prov.none"));
        pt_out(c, "</p>");
    } else {
        bool ok = json_is_true(json_object_get(p, "verified"));
        pt_outf(c, "<p class=\"prov-line %s\" data-verified=\"%s\">", ok ? "ok" : "warn",
                ok ? "true" : "false");
        pt_esc(c, pt_msg(c, "prov.signed_by"));
        pt_out(c, " ");
        pt_esc(c, pt_district_label(sv(p, "district") ? sv(p, "district") : dist));
        pt_out(c, "; ");
        pt_esc(c, pt_msg(c, ok ? "prov.verified" : "prov.not_verified"));
        if (!ok && sv(p, "reason")) {
            pt_out(c, " (");
            pt_esc(c, sv(p, "reason"));
            pt_out(c, ")");
        }
        pt_out(c, ".</p><dl class=\"facts small\">");
        json_t *key = json_object_get(p, "key");
        if (key) {
            fact_open(c, pt_msg(c, "prov.key"));
            pt_out(c, "<code>");
            pt_esc(c, sv(key, "fingerprint"));
            pt_out(c, "</code></dd></div>");
        }
        fact_open(c, pt_msg(c, "prov.received"));
        pt_fmt_datetime(c, sv(p, "received"));
        pt_out(c, "</dd></div>");
        fact_open(c, pt_msg(c, "prov.activity"));
        pt_out(c, "<a href=\"");
        pt_hreff(c, "/api/v1/provenance/%s", id);
        pt_out(c, "\">");
        pt_esc(c, pt_msg(c, "prov.activity_link"));
        pt_out(c, "</a></dd></div></dl>");
        json_decref(p);
    }
    const char *home = sv(doc, "home_url");
    if (home && (!strncmp(home, "https://", 8) || !strncmp(home, "http://", 7))) {
        pt_out(c, "<p class=\"home-link\"><a href=\"");
        pt_esc(c, home);
        pt_out(c, "\" rel=\"external\">");
        pt_esc(c, pt_msg(c, "prov.home"));
        pt_out(c, " ");
        pt_esc(c, pt_district_label(dist));
        pt_out(c, "</a></p>");
    }
    if (dist && pt_district_ok(dist)) {
        pt_out(c, "<p><a href=\"");
        pt_hreff(c, "/kreise/%s", dist);
        pt_out(c, "#abgleich\">");
        pt_esc(c, pt_msg(c, "prov.keys_link"));
        pt_out(c, "</a></p>");
    }
    pt_out(c, "</section>");
}

/* The handle of a district's actor, from the registry and the cached actor. */
static bool district_handle_of(pctx *c, const char *code, char *o, size_t n)
{
    sqlite3_stmt *st =
        db_stmt(c->req->db, "SELECT a.doc, d.actor_id FROM districts d JOIN remote_actors a ON "
                            "a.id=d.actor_id WHERE d.code=:c");
    bool ok = false;
    if (!st)
        return false;
    db_bind_text(st, ":c", code);
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        const char *actor = (const char *)sqlite3_column_text(st, 1);
        const char *u = sv(doc, "preferredUsername"), *h = strstr(actor, "://");
        if (u && h) {
            h += 3;
            const char *slash = strchr(h, '/');
            snprintf(o, n, "@%s@%.*s", u, slash ? (int)(slash - h) : (int)strlen(h), h);
            ok = true;
        }
        json_decref(doc);
    }
    db_done(st);
    return ok;
}

static void follow_section(pctx *c, const json_t *doc)
{
    pt_out(c, "<section aria-labelledby=\"folgen\" class=\"follow\"><h2 id=\"folgen\">");
    pt_esc(c, pt_msg(c, "follow.title"));
    pt_out(c, "</h2><ul class=\"handles\">");
    char h[600];
    if (!c->state) {
        snprintf(h, sizeof h, "@%s@%s", c->cfg->handle, c->host);
        pt_out(c, "<li>");
        pt_esc(c, pt_msg(c, "follow.fediverse"));
        pt_out(c, ": <code class=\"handle\">");
        pt_esc(c, h);
        pt_out(c, "</code></li>");
    } else {
        const char *dist = sv(doc, "district");
        if (dist && district_handle_of(c, dist, h, sizeof h)) {
            pt_out(c, "<li>");
            pt_esc(c, pt_msg(c, "follow.fediverse"));
            pt_out(c, ": <code class=\"handle\">");
            pt_esc(c, h);
            pt_out(c, "</code> (");
            pt_esc(c, pt_district_label(dist));
            pt_out(c, ")</li>");
        }
        snprintf(h, sizeof h, "@%s@%s", c->cfg->handle, c->host);
        pt_out(c, "<li>");
        pt_esc(c, pt_msg(c, "follow.fediverse"));
        pt_out(c, ": <code class=\"handle\">");
        pt_esc(c, h);
        pt_out(c, "</code> (");
        pt_esc(c, pt_msg(c, "follow.state"));
        pt_out(c, ")</li>");
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(doc, "fields_of_action"), i, x)
        {
            const char *code = json_string_value(x);
            char low[16];
            snprintf(low, sizeof low, "%s", code ? code : "");
            for (char *p = low; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            snprintf(h, sizeof h, "@%s@%s", low, c->host);
            pt_out(c, "<li>");
            pt_esc(c, pt_msg(c, "follow.group"));
            pt_out(c, " ");
            pt_esc(c, code);
            pt_out(c, ": <code class=\"handle\">");
            pt_esc(c, h);
            pt_out(c, "</code></li>");
        }
    }
    pt_out(c, "</ul><p class=\"hint\">");
    pt_esc(c, pt_msg(c, "follow.hint"));
    pt_out(c, "</p></section>");
}

static void tax_list(pctx *c, const json_t *codes)
{
    size_t i;
    json_t *x;
    pt_out(c, "<ul class=\"inline\">");
    json_array_foreach(codes, i, x)
    {
        pt_out(c, "<li>");
        pt_tax_link(c, json_string_value(x));
        pt_out(c, "</li>");
    }
    pt_out(c, "</ul>");
}

static const char *field_label(pctx *c, const char *f)
{
    char k[64];
    snprintf(k, sizeof k, "f.%s", f);
    const char *t = pt_msg(c, k);
    return strncmp(t, "[[", 2) ? t : f;
}

static void history_table(pctx *c, const char *id)
{
    json_t *h = NULL;
    if (record_history(c->req->db, id, &h) != REC_OK || !json_array_size(h)) {
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "history.none"));
        pt_out(c, "</p>");
        json_decref(h);
        return;
    }
    size_t n = json_array_size(h);
    pt_out(c, "<p>");
    pt_esc(c, pt_msg(c, "history.created"));
    pt_out(c, " ");
    pt_fmt_date(c, sv(json_array_get(h, 0), "at"));
    pt_out(c, ", ");
    pt_esc(c, pt_msg(c, "history.changed"));
    pt_out(c, " ");
    pt_fmt_date(c, sv(json_array_get(h, n - 1), "at"));
    pt_outf(c, " (%s %lld).</p>", pt_msg(c, "history.version"),
            (long long)json_integer_value(json_object_get(json_array_get(h, n - 1), "version")));
    char tid[16];
    pt_new_id(c, tid);
    pt_outf(c,
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
            "<table class=\"history\"><caption id=\"%s\">",
            tid, tid);
    pt_esc(c, pt_msg(c, "history.caption"));
    pt_out(c, "</caption><thead><tr><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "history.version"));
    pt_out(c, "</th><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "history.date"));
    pt_out(c, "</th><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "history.what"));
    pt_out(c, "</th><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "history.fields"));
    pt_out(c, "</th></tr></thead><tbody>");
    /* Newest first, at most 20 rows. */
    for (size_t k = 0; k < n && k < 20; k++) {
        json_t *e = json_array_get(h, n - 1 - k);
        pt_outf(c, "<tr><th scope=\"row\">%lld</th><td>",
                (long long)json_integer_value(json_object_get(e, "version")));
        pt_fmt_datetime(c, sv(e, "at"));
        pt_out(c, "</td><td>");
        char ok[32];
        snprintf(ok, sizeof ok, "op.%s", sv(e, "op") ? sv(e, "op") : "");
        pt_esc(c, pt_msg(c, ok));
        pt_out(c, "</td><td>");
        const char *f;
        json_t *v;
        int m = 0;
        json_object_foreach(json_object_get(e, "changes"), f, v)
        {
            (void)v;
            if (m++)
                pt_out(c, ", ");
            pt_esc(c, field_label(c, f));
        }
        if (!m)
            pt_out(c, "–");
        pt_out(c, "</td></tr>");
    }
    pt_out(c, "</tbody></table></div>");
    json_decref(h);
}

static void render_measure(pctx *c, const json_t *doc)
{
    const char *id = sv(doc, "id");
    const char *title = sv(doc, "title");
    char desc[400], canon[80], feed[96];
    pt_text_cut(sv(doc, "description"), 280, desc, sizeof desc);
    if (!desc[0])
        snprintf(desc, sizeof desc, "%s", pt_msg(c, "measure.og_fallback"));
    snprintf(canon, sizeof canon, "/measures/%s", id);
    snprintf(feed, sizeof feed, "/feeds/massnahme/%s.atom", id);
    page_meta m = {.title = title,
                   .description = desc,
                   .canon = canon,
                   .og_type = "article",
                   .feed = feed,
                   .feed_title = title};
    pt_page_begin(c, &m);
    const char *dist = sv(doc, "district");
    if (!dist && !c->state)
        dist = c->cfg->district;
    pt_out(c, "<article class=\"record\"><header class=\"record-head\"><p class=\"kicker\">");
    pt_esc(c, pt_msg(c, "measure.kicker"));
    if (dist) {
        pt_out(c, " <span class=\"sep\">·</span> ");
        pt_esc(c, pt_district_label(dist));
    }
    pt_out(c, "</p><h1>");
    pt_data(c, title);
    pt_out(c, "</h1><p class=\"meta\">");
    pt_status_badge(c, sv(doc, "status"));
    pt_out(c, "</p>");
    pt_progress_bar(c, (int)json_integer_value(json_object_get(doc, "progress")));
    pt_out(c, "</header>");
    if (sv(doc, "description") && *sv(doc, "description"))
        pt_data_paragraphs(c, sv(doc, "description"));

    section_open(c, pt_msg(c, "measure.facts"), "steckbrief");
    pt_out(c, "<dl class=\"facts\">");
    fact_open(c, pt_msg(c, "filter.status"));
    pt_esc(c, pt_status_label(c, sv(doc, "status")));
    pt_out(c, "</dd></div>");
    fact_open(c, pt_msg(c, "progress"));
    pt_fmt_pct(c, (double)json_integer_value(json_object_get(doc, "progress")));
    pt_out(c, "</dd></div>");
    fact_open(c, pt_msg(c, "measure.start"));
    if (sv(doc, "start_date")) {
        pt_out(c, "<time datetime=\"");
        pt_esc(c, sv(doc, "start_date"));
        pt_out(c, "\">");
        pt_fmt_date(c, sv(doc, "start_date"));
        pt_out(c, "</time>");
    } else {
        pt_esc(c, pt_msg(c, "measure.no_date"));
    }
    pt_out(c, "</dd></div>");
    fact_open(c, pt_msg(c, "measure.end"));
    if (sv(doc, "end_date")) {
        pt_out(c, "<time datetime=\"");
        pt_esc(c, sv(doc, "end_date"));
        pt_out(c, "\">");
        pt_fmt_date(c, sv(doc, "end_date"));
        pt_out(c, "</time>");
    } else {
        pt_esc(c, pt_msg(c, "open_end"));
    }
    pt_out(c, "</dd></div>");
    fact_open(c, pt_msg(c, "nav.fields"));
    tax_list(c, json_object_get(doc, "fields_of_action"));
    pt_out(c, "</dd></div>");
    if (json_array_size(json_object_get(doc, "themes"))) {
        fact_open(c, pt_msg(c, "nav.themes"));
        tax_list(c, json_object_get(doc, "themes"));
        pt_out(c, "</dd></div>");
    }
    if (json_array_size(json_object_get(doc, "target_groups"))) {
        fact_open(c, pt_msg(c, "measure.target_groups"));
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(doc, "target_groups"), i, x)
        {
            if (i)
                pt_out(c, ", ");
            pt_esc(c, json_string_value(x));
        }
        pt_out(c, "</dd></div>");
    }
    fact_open(c, pt_msg(c, "measure.lead"));
    if (sv(doc, "lead_organisation"))
        org_link(c, sv(doc, "lead_organisation"));
    else
        pt_esc(c, pt_msg(c, "measure.none"));
    pt_out(c, "</dd></div>");
    fact_open(c, pt_msg(c, "measure.partners"));
    if (json_array_size(json_object_get(doc, "partner_organisations"))) {
        pt_out(c, "<ul class=\"inline\">");
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(doc, "partner_organisations"), i, x)
        {
            pt_out(c, "<li>");
            org_link(c, json_string_value(x));
            pt_out(c, "</li>");
        }
        pt_out(c, "</ul>");
    } else {
        pt_esc(c, pt_msg(c, "measure.none"));
    }
    pt_out(c, "</dd></div>");
    if (dist && pt_district_ok(dist)) {
        fact_open(c, pt_msg(c, "district"));
        pt_out(c, "<a href=\"");
        pt_hreff(c, "/kreise/%s", dist);
        pt_out(c, "\">");
        pt_esc(c, pt_district_label(dist));
        pt_out(c, "</a></dd></div>");
    }
    fact_open(c, pt_msg(c, "record.updated"));
    pt_fmt_datetime(c, sv(doc, "updated"));
    pt_outf(c, " (%s %lld)</dd></div></dl></section>", pt_msg(c, "history.version"),
            (long long)json_integer_value(json_object_get(doc, "version")));

    json_t *inds = json_object_get(doc, "indicators");
    section_open(c, pt_msg(c, "measure.indicators"), "indikatoren");
    if (!json_array_size(inds)) {
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "measure.no_indicators"));
        pt_out(c, "</p>");
    }
    size_t i;
    json_t *ind;
    json_array_foreach(inds, i, ind) pt_svg_indicator(c, ind, 3);
    pt_out(c, "</section>");

    section_open(c, pt_msg(c, "measure.timeline"), "verlauf");
    sqlite3_stmt *st =
        db_stmt(c->req->db, "SELECT doc FROM records WHERE kind='progress' AND parent=:id AND "
                            "deleted IS NULL ORDER BY start_date DESC, seq DESC LIMIT 100");
    int n = 0;
    if (st) {
        db_bind_text(st, ":id", id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *p = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
            if (!p)
                continue;
            if (!n++)
                pt_out(c, "<ol class=\"timeline\">");
            pt_out(c, "<li><p class=\"when\"><time datetime=\"");
            pt_esc(c, sv(p, "date"));
            pt_out(c, "\">");
            pt_fmt_date(c, sv(p, "date"));
            pt_out(c, "</time>");
            json_t *pr = json_object_get(p, "progress");
            if (json_is_integer(pr)) {
                pt_out(c, " <span class=\"sep\">·</span> ");
                pt_esc(c, pt_msg(c, "progress"));
                pt_out(c, " ");
                pt_fmt_pct(c, (double)json_integer_value(pr));
            }
            pt_out(c, "</p><h3 class=\"tl-title\"><a href=\"");
            pt_hreff(c, "/progress/%s", sv(p, "id"));
            pt_out(c, "\">");
            pt_data(c, sv(p, "title"));
            pt_out(c, "</a></h3>");
            if (sv(p, "text") && *sv(p, "text"))
                pt_data_paragraphs(c, sv(p, "text"));
            pt_out(c, "</li>");
            json_decref(p);
        }
        db_done(st);
    }
    if (n)
        pt_out(c, "</ol>");
    else {
        pt_out(c, "<p>");
        pt_esc(c, pt_msg(c, "list.no_progress"));
        pt_out(c, "</p>");
    }
    pt_out(c, "</section>");

    section_open(c, pt_msg(c, "history.title"), "aenderungen");
    history_table(c, id);
    pt_out(c, "</section>");

    provenance(c, doc);
    follow_section(c, doc);

    pt_discussion(c, "measure", id);

    pt_out(c, "<p class=\"record-links\"><a href=\"");
    pt_esc(c, feed);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "feed.measure"));
    pt_out(c, " (Atom)</a> <span class=\"sep\">·</span> <a href=\"");
    pt_hreff(c, "/api/v1/measures/%s", id);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "record.json"));
    pt_out(c, "</a></p></article>");
    pt_page_end(c);
}

static void render_org(pctx *c, const json_t *doc)
{
    const char *id = sv(doc, "id"), *name = sv(doc, "name");
    char desc[400], canon[80];
    pt_text_cut(sv(doc, "description"), 280, desc, sizeof desc);
    snprintf(canon, sizeof canon, "/organisations/%s", id);
    page_meta m = {
        .title = name, .description = desc, .canon = canon, .og_type = "profile", .nav = "orgs"};
    pt_page_begin(c, &m);
    const char *dist = sv(doc, "district");
    if (!dist && !c->state)
        dist = c->cfg->district;
    pt_out(c, "<article class=\"record\"><header class=\"record-head\"><p class=\"kicker\">");
    pt_esc(c, pt_msg(c, "org.kicker"));
    if (dist) {
        pt_out(c, " <span class=\"sep\">·</span> ");
        pt_esc(c, pt_district_label(dist));
    }
    pt_out(c, "</p><h1>");
    pt_data(c, name);
    pt_out(c, "</h1><p class=\"meta\">");
    pt_esc(c, pt_kind_label(c, sv(doc, "kind")));
    pt_out(c, "</p></header>");
    if (sv(doc, "description") && *sv(doc, "description"))
        pt_data_paragraphs(c, sv(doc, "description"));
    section_open(c, pt_msg(c, "org.facts"), "steckbrief");
    pt_out(c, "<dl class=\"facts\">");
    fact_open(c, pt_msg(c, "orgs.kind"));
    pt_esc(c, pt_kind_label(c, sv(doc, "kind")));
    pt_out(c, "</dd></div>");
    if (json_array_size(json_object_get(doc, "fields_of_action"))) {
        fact_open(c, pt_msg(c, "nav.fields"));
        tax_list(c, json_object_get(doc, "fields_of_action"));
        pt_out(c, "</dd></div>");
    }
    if (json_array_size(json_object_get(doc, "languages"))) {
        fact_open(c, pt_msg(c, "org.languages"));
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(doc, "languages"), i, x)
        {
            if (i)
                pt_out(c, ", ");
            pt_esc(c, pt_lang_label(c, json_string_value(x)));
        }
        pt_out(c, "</dd></div>");
    }
    const char *web = sv(doc, "website");
    if (web && (!strncmp(web, "https://", 8) || !strncmp(web, "http://", 7))) {
        fact_open(c, pt_msg(c, "org.website"));
        pt_out(c, "<a href=\"");
        pt_esc(c, web);
        pt_out(c, "\" rel=\"external noopener\">");
        pt_esc(c, web);
        pt_out(c, "</a></dd></div>");
    }
    json_t *ct = json_object_get(doc, "contact");
    if (sv(ct, "person") && *sv(ct, "person")) {
        fact_open(c, pt_msg(c, "org.person"));
        pt_esc(c, sv(ct, "person"));
        pt_out(c, "</dd></div>");
    }
    if (sv(ct, "email") && *sv(ct, "email")) {
        fact_open(c, pt_msg(c, "org.email"));
        pt_out(c, "<a href=\"mailto:");
        pt_esc(c, sv(ct, "email"));
        pt_out(c, "\">");
        pt_esc(c, sv(ct, "email"));
        pt_out(c, "</a></dd></div>");
    }
    if (sv(ct, "phone") && *sv(ct, "phone")) {
        fact_open(c, pt_msg(c, "org.phone"));
        buf tel;
        buf_init(&tel);
        for (const char *p = sv(ct, "phone"); *p; p++)
            if ((*p >= '0' && *p <= '9') || *p == '+')
                buf_append(&tel, p, 1);
        pt_out(c, "<a href=\"tel:");
        pt_esc(c, tel.p ? tel.p : "");
        pt_out(c, "\">");
        pt_esc(c, sv(ct, "phone"));
        pt_out(c, "</a></dd></div>");
        buf_free(&tel);
    }
    json_t *ad = json_object_get(doc, "address");
    if (json_is_object(ad) && json_object_size(ad)) {
        fact_open(c, pt_msg(c, "org.address"));
        pt_out(c, "<address>");
        pt_esc(c, sv(ad, "street"));
        if (sv(ad, "street"))
            pt_out(c, "<br>");
        pt_esc(c, sv(ad, "postal_code"));
        pt_out(c, " ");
        pt_esc(c, sv(ad, "city"));
        pt_out(c, "</address></dd></div>");
    }
    json_t *loc = json_object_get(doc, "location");
    if (json_is_object(loc)) {
        fact_open(c, pt_msg(c, "org.location"));
        pt_outf(c, "%.5f, %.5f", json_number_value(json_object_get(loc, "lat")),
                json_number_value(json_object_get(loc, "lon")));
        pt_out(c, "</dd></div>");
    }
    if (dist && pt_district_ok(dist)) {
        fact_open(c, pt_msg(c, "district"));
        pt_out(c, "<a href=\"");
        pt_hreff(c, "/kreise/%s", dist);
        pt_out(c, "\">");
        pt_esc(c, pt_district_label(dist));
        pt_out(c, "</a></dd></div>");
    }
    fact_open(c, pt_msg(c, "record.updated"));
    pt_fmt_datetime(c, sv(doc, "updated"));
    pt_out(c, "</dd></div></dl></section>");

    record_filter f = {.limit = 50, .organisation = id};
    json_t *l = pt_pd_list(c, REC_MEASURE, &f);
    pt_outf(c, "<section aria-labelledby=\"massnahmen\"><h2 id=\"massnahmen\">%s (%lld)</h2>",
            pt_msg(c, "org.measures"), (long long)json_integer_value(json_object_get(l, "total")));
    pt_measure_list(c, json_object_get(l, "items"), 3);
    pt_out(c, "</section>");
    json_decref(l);
    provenance(c, doc);
    pt_out(c, "<p class=\"record-links\"><a href=\"");
    pt_hreff(c, "/api/v1/organisations/%s", id);
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "record.json"));
    pt_out(c, "</a></p></article>");
    pt_page_end(c);
}

static void render_progress(pctx *c, const json_t *doc)
{
    const char *id = sv(doc, "id"), *title = sv(doc, "title");
    char desc[400], canon[80];
    pt_text_cut(sv(doc, "text"), 280, desc, sizeof desc);
    snprintf(canon, sizeof canon, "/progress/%s", id);
    page_meta m = {.title = title, .description = desc, .canon = canon, .og_type = "article"};
    pt_page_begin(c, &m);
    pt_out(c, "<article class=\"record\"><header class=\"record-head\"><p class=\"kicker\">");
    pt_esc(c, pt_msg(c, "progress.kicker"));
    pt_out(c, " <span class=\"sep\">·</span> <time datetime=\"");
    pt_esc(c, sv(doc, "date"));
    pt_out(c, "\">");
    pt_fmt_date(c, sv(doc, "date"));
    pt_out(c, "</time></p><h1>");
    pt_data(c, title);
    pt_out(c, "</h1>");
    char mt[400];
    const char *mid = sv(doc, "measure");
    if (mid && pt_pd_title(c, mid, mt, sizeof mt, NULL, 0, NULL)) {
        pt_out(c, "<p class=\"meta\">");
        pt_esc(c, pt_msg(c, "progress.of"));
        pt_out(c, " <a href=\"");
        pt_hreff(c, "/measures/%s", mid);
        pt_out(c, "\">");
        pt_esc(c, mt);
        pt_out(c, "</a></p>");
    }
    json_t *pr = json_object_get(doc, "progress");
    if (json_is_integer(pr))
        pt_progress_bar(c, (int)json_integer_value(pr));
    pt_out(c, "</header>");
    if (sv(doc, "text") && *sv(doc, "text"))
        pt_data_paragraphs(c, sv(doc, "text"));
    pt_out(c, "<p class=\"small\">");
    pt_esc(c, pt_msg(c, "record.updated"));
    pt_out(c, ": ");
    pt_fmt_datetime(c, sv(doc, "updated"));
    pt_out(c, "</p>");
    provenance(c, doc);
    pt_discussion(c, "progress", id);
    if (mid) {
        pt_out(c, "<p class=\"record-links\"><a href=\"");
        pt_hreff(c, "/feeds/massnahme/%s.atom", mid);
        pt_out(c, "\">");
        pt_esc(c, pt_msg(c, "feed.measure"));
        pt_out(c, " (Atom)</a></p>");
    }
    pt_out(c, "</article>");
    pt_page_end(c);
}

static void render_gone(pctx *c, const json_t *doc)
{
    page_meta m = {.title = pt_msg(c, "record.gone_title"), .noindex = true};
    pt_page_begin(c, &m);
    pt_out(c, "<h1>");
    pt_esc(c, pt_msg(c, "record.gone_title"));
    pt_out(c, "</h1><p>");
    pt_esc(c, pt_msg(c, "record.gone_text"));
    if (sv(doc, "deleted")) {
        pt_out(c, " ");
        pt_esc(c, pt_msg(c, "record.gone_at"));
        pt_out(c, " ");
        pt_fmt_date(c, sv(doc, "deleted"));
        pt_out(c, ".");
    }
    pt_out(c, "</p><p><a href=\"");
    pt_href(c, "/");
    pt_out(c, "\">");
    pt_esc(c, pt_msg(c, "back.home"));
    pt_out(c, "</a></p>");
    pt_page_end(c);
    c->resp->status = 410;
}

static void render_record(pctx *c)
{
    const record_arg *a = c->arg;
    if (a->gone)
        render_gone(c, a->doc);
    else if (a->kind == REC_MEASURE)
        render_measure(c, a->doc);
    else if (a->kind == REC_ORGANISATION)
        render_org(c, a->doc);
    else
        render_progress(c, a->doc);
}

void portal_record_page(http_req *req, http_resp *resp, rec_kind kind, const json_t *doc, bool gone)
{
    record_arg a = {kind, doc, gone};
    buf_free(&resp->body);
    buf_init(&resp->body);
    portal_cached_arg(req, resp, "record", render_record, &a);
    http_set_header(resp, "Vary", "Accept");
}

static void render_not_found(pctx *c)
{
    pt_page_error(c, 404, pt_msg(c, "err.notfound"), pt_msg(c, "err.no_record"));
}

void portal_not_found(http_req *req, http_resp *resp)
{
    buf_free(&resp->body);
    buf_init(&resp->body);
    portal_cached(req, resp, "missing", render_not_found);
    http_set_header(resp, "Vary", "Accept");
}
