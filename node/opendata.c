/* Open data at /opendata/; see opendata.h. */
#include "opendata.h"
#include "util.h"
#include "district.h"
#include "jcs.h"
#include "log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef DINET_VERSION
#define DINET_VERSION "0"
#endif

/* ---- licence --------------------------------------------------------------- */

static char license_uri[512];
static pthread_once_t license_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t license_mu = PTHREAD_MUTEX_INITIALIZER;

static bool valid_uri(const char *s)
{
    return s && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) && strlen(s) < 500 &&
           !strpbrk(s, " \t\r\n\"<>\\{}|^`");
}

static void license_default(void)
{
    const char *env = getenv("DINET_OPENDATA_LICENSE");
    if (env && *env && !valid_uri(env)) {
        log_event(LOG_WARN, "opendata.license_invalid", "value", env, NULL);
        env = NULL;
    }
    snprintf(license_uri, sizeof license_uri, "%s", env && *env ? env : OPENDATA_DEFAULT_LICENSE);
}

int opendata_set_license(const char *uri)
{
    pthread_once(&license_once, license_default);
    pthread_mutex_lock(&license_mu);
    int rc = 0;
    if (!uri || !*uri)
        license_default();
    else if (valid_uri(uri))
        snprintf(license_uri, sizeof license_uri, "%s", uri);
    else
        rc = -1;
    pthread_mutex_unlock(&license_mu);
    return rc;
}

const char *opendata_license(void)
{
    pthread_once(&license_once, license_default);
    return license_uri;
}

/* German names of the licences of the DCAT-AP.de vocabulary most likely to
 * be chosen; any other URI is shown as it is. */
static const char *license_name(const char *uri)
{
    static const char *const names[][2] = {
        {"http://dcat-ap.de/def/licenses/dl-by-de/2.0",
         "Datenlizenz Deutschland – Namensnennung – Version 2.0"},
        {"http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
         "Datenlizenz Deutschland – Zero – Version 2.0"},
        {"http://dcat-ap.de/def/licenses/cc-by/4.0",
         "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)"},
        {"http://dcat-ap.de/def/licenses/cc-zero", "Creative Commons Zero (CC0 1.0)"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i][0], uri))
            return names[i][1];
    return uri;
}

/* ---- files and datasets ---------------------------------------------------- */

enum { DS_MEASURES, DS_PROGRESS, DS_INDICATORS, DS_ORGANISATIONS, NDS };

typedef struct dataset {
    const char *slug;  /* file name stem and fragment id */
    const char *kind;  /* records.kind the rows come from */
    const char *title; /* German */
    const char *description;
    const char *keywords[5];
    /* count, temporal start, temporal end, earliest created (live rows) */
    const char *stats_sql;
    /* extra condition on records r for the dataset's districts */
    const char *district_cond;
} dataset;

static const dataset datasets[NDS] = {
    {"measures",
     "measure",
     "Maßnahmen der Integrationsarbeit",
     "Maßnahmen der Integrationsarbeit mit Handlungsfeldern und Querschnittsthemen des "
     "Landesintegrationskonzepts, Status, Fortschritt, Laufzeit, beteiligten Akteuren, "
     "Zielgruppen und Indikatoren.",
     {"Integration", "Migration", "Maßnahmen", "Landesintegrationskonzept", NULL},
     "SELECT count(*), min(COALESCE(start_date, end_date)), max(COALESCE(end_date, start_date)), "
     "min(created) FROM records WHERE kind='measure' AND deleted IS NULL",
     ""},
    {"progress",
     "progress",
     "Sachstände zu Maßnahmen der Integrationsarbeit",
     "Datierte Sachstandsberichte zu den Maßnahmen: Titel, Text und gemeldeter Fortschritt.",
     {"Integration", "Migration", "Sachstand", "Fortschritt", NULL},
     "SELECT count(*), min(start_date), max(start_date), min(created) FROM records "
     "WHERE kind='progress' AND deleted IS NULL",
     ""},
    {"indicators",
     "measure",
     "Indikatoren der Maßnahmen der Integrationsarbeit",
     "Messwerte der Indikatoren der Maßnahmen, eine Zeile je Messwert (Maßnahme, Indikator, "
     "Einheit, Ausgangswert, Zielwert, Datum, Wert); ein Indikator ohne Messwerte steht in "
     "einer Zeile ohne Datum und Wert.",
     {"Integration", "Migration", "Indikatoren", "Wirkungsmessung", NULL},
     "SELECT count(*), min(json_extract(v.value, '$.date')), max(json_extract(v.value, "
     "'$.date')), min(r.created) FROM records r JOIN json_each(r.doc, '$.indicators') i "
     "LEFT JOIN json_each(i.value, '$.values') v WHERE r.kind='measure' AND r.deleted IS NULL",
     " AND json_array_length(r.doc, '$.indicators') > 0"},
    {"organisations",
     "organisation",
     "Akteure der Integrationsarbeit",
     "Verwaltungen, Vereine, Bildungsträger, Migrantenorganisationen, Wohlfahrtsverbände und "
     "weitere Akteure mit Art, Handlungsfeldern, Sprachen, öffentlichen Kontaktdaten "
     "(E-Mail, Telefon, Website) und Anschrift.",
     {"Integration", "Migration", "Akteure", "Beratung", NULL},
     "SELECT count(*), min(substr(created, 1, 10)), max(substr(updated, 1, 10)), min(created) "
     "FROM records WHERE kind='organisation' AND deleted IS NULL",
     ""},
};

enum { F_INDEX, F_CATALOG, F_FIRST_DATA };
#define NFILES (F_FIRST_DATA + 2 * NDS)

/* File i >= F_FIRST_DATA: dataset (i - F_FIRST_DATA) / 2, CSV when even. */
static const char *const file_names[NFILES] = {
    "",
    "catalog.jsonld",
    "measures.csv",
    "measures.json",
    "progress.csv",
    "progress.json",
    "indicators.csv",
    "indicators.json",
    "organisations.csv",
    "organisations.json",
};

#define CT_CSV "text/csv; charset=utf-8; header=present"
#define CT_JSON "application/json; charset=utf-8"
#define CT_JSONLD "application/ld+json; charset=utf-8"
#define CT_HTML "text/html; charset=utf-8"

static int file_index(const char *name)
{
    for (int i = 0; i < NFILES; i++)
        if (!strcmp(file_names[i], name))
            return i;
    return -1;
}

static const char *file_ctype(int fi)
{
    if (fi == F_INDEX)
        return CT_HTML;
    if (fi == F_CATALOG)
        return CT_JSONLD;
    return (fi - F_FIRST_DATA) % 2 == 0 ? CT_CSV : CT_JSON;
}

/* ---- small helpers --------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static void html(buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        default:
            buf_append(b, s, 1);
        }
    }
}

static const char *district_name(const char *code)
{
    const district *d = district_find(code);
    return d ? d->name : "";
}

/* ---- statistics per dataset ------------------------------------------------ */

#define MAXCODES 16

typedef struct ds_stats {
    long long count;
    char start[16], end[16]; /* temporal coverage (YYYY-MM-DD), "" when unknown */
    char issued[32];         /* earliest created of the live rows */
    char modified[32];       /* latest change, deletions included */
    char codes[MAXCODES][8]; /* districts with data (plus a district node's own) */
    int ncodes;
} ds_stats;

static void add_code(ds_stats *s, const char *code)
{
    if (!code || !*code || !strcmp(code, "15"))
        return;
    for (int i = 0; i < s->ncodes; i++)
        if (!strcmp(s->codes[i], code))
            return;
    if (s->ncodes < MAXCODES)
        snprintf(s->codes[s->ncodes++], sizeof s->codes[0], "%s", code);
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int dataset_stats(db *d, const config *cfg, int ds, ds_stats *s)
{
    memset(s, 0, sizeof *s);
    const dataset *x = &datasets[ds];
    sqlite3_stmt *st = db_stmt(d, x->stats_sql);
    if (!st)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->count = sqlite3_column_int64(st, 0);
        snprintf(s->start, sizeof s->start, "%.10s", col_text(st, 1));
        snprintf(s->end, sizeof s->end, "%.10s", col_text(st, 2));
        snprintf(s->issued, sizeof s->issued, "%s", col_text(st, 3));
    }
    db_done(st);
    if (!util_valid_date(s->start) || !util_valid_date(s->end))
        s->start[0] = s->end[0] = '\0';
    st = db_stmt(d, "SELECT max(updated) FROM records WHERE kind=:k");
    if (!st)
        return -1;
    db_bind_text(st, ":k", x->kind);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(s->modified, sizeof s->modified, "%s", col_text(st, 0));
    db_done(st);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT DISTINCT COALESCE(r.district, :own) FROM records r WHERE r.kind=:k AND "
             "r.deleted IS NULL%s",
             x->district_cond);
    st = db_stmt(d, sql);
    if (!st)
        return -1;
    db_bind_text(st, ":own", cfg->district);
    db_bind_text(st, ":k", x->kind);
    while (sqlite3_step(st) == SQLITE_ROW)
        add_code(s, col_text(st, 0));
    db_done(st);
    if (strcmp(cfg->role, "state"))
        add_code(s, cfg->district);
    qsort(s->codes, (size_t)s->ncodes, sizeof s->codes[0], cmp_code);
    return 0;
}

/* ---- CSV (RFC 4180) ------------------------------------------------------------ */

static void csv_field(buf *b, const char *s, bool first)
{
    if (!first)
        buf_puts(b, ",");
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        buf_puts(b, s);
        return;
    }
    buf_puts(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            buf_puts(b, "\"");
        buf_append(b, p, 1);
    }
    buf_puts(b, "\"");
}

/* Text of one JSON value for a cell: strings as they are, numbers in their
 * shortest exact form, lists joined with ';', null and absent as empty. */
static void cell_text(const json_t *v, buf *out)
{
    char num[JCS_NUMBER_MAX];
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        buf_append(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_printf(out, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        if (jcs_format_double(json_real_value(v), num, sizeof num) > 0)
            buf_puts(out, num);
        break;
    case JSON_TRUE:
        buf_puts(out, "true");
        break;
    case JSON_FALSE:
        buf_puts(out, "false");
        break;
    case JSON_ARRAY: {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i)
                buf_puts(out, ";");
            cell_text(e, out);
        }
        break;
    }
    case JSON_OBJECT: {
        char *t = json_dumps(v, JSON_COMPACT);
        buf_puts(out, t ? t : "");
        free(t);
        break;
    }
    default:
        break;
    }
}

/* A member by path "a" or "a.b". */
static const json_t *path_get(const json_t *doc, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return json_object_get(doc, path);
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    return json_object_get(json_object_get(doc, head), dot + 1);
}

static void csv_cell(buf *b, const json_t *v, bool first)
{
    buf t;
    buf_init(&t);
    cell_text(v, &t);
    csv_field(b, t.p ? t.p : "", first);
    buf_free(&t);
}

/* Columns: the CSV header and the document member each one shows. */
typedef struct column {
    const char *name, *path;
} column;

static const column measure_cols[] = {
    {"id", "id"},
    {"url", "url"},
    {"home_url", "home_url"},
    {"district", "district"},
    {"district_name", "district_name"},
    {"title", "title"},
    {"description", "description"},
    {"status", "status"},
    {"progress", "progress"},
    {"start_date", "start_date"},
    {"end_date", "end_date"},
    {"fields_of_action", "fields_of_action"},
    {"themes", "themes"},
    {"lead_organisation", "lead_organisation"},
    {"partner_organisations", "partner_organisations"},
    {"target_groups", "target_groups"},
    {"version", "version"},
    {"created", "created"},
    {"updated", "updated"},
    {NULL, NULL},
};

static const column progress_cols[] = {
    {"id", "id"},
    {"url", "url"},
    {"home_url", "home_url"},
    {"district", "district"},
    {"district_name", "district_name"},
    {"measure", "measure"},
    {"date", "date"},
    {"title", "title"},
    {"text", "text"},
    {"progress", "progress"},
    {"version", "version"},
    {"created", "created"},
    {"updated", "updated"},
    {NULL, NULL},
};

static const column org_cols[] = {
    {"id", "id"},
    {"url", "url"},
    {"home_url", "home_url"},
    {"district", "district"},
    {"district_name", "district_name"},
    {"name", "name"},
    {"kind", "kind"},
    {"description", "description"},
    {"fields_of_action", "fields_of_action"},
    {"languages", "languages"},
    {"website", "website"},
    {"email", "contact.email"},
    {"phone", "contact.phone"},
    {"street", "address.street"},
    {"postal_code", "address.postal_code"},
    {"city", "address.city"},
    {"lat", "location.lat"},
    {"lon", "location.lon"},
    {"version", "version"},
    {"created", "created"},
    {"updated", "updated"},
    {NULL, NULL},
};

static const column indicator_cols[] = {
    {"measure", "measure"},
    {"measure_title", "measure_title"},
    {"measure_url", "measure_url"},
    {"district", "district"},
    {"district_name", "district_name"},
    {"indicator_no", "indicator_no"},
    {"indicator", "indicator"},
    {"unit", "unit"},
    {"baseline", "baseline"},
    {"target", "target"},
    {"date", "date"},
    {"value", "value"},
    {NULL, NULL},
};

static const column *const dataset_cols[NDS] = {measure_cols, progress_cols, indicator_cols,
                                                org_cols};

static void csv_header(buf *b, const column *cols)
{
    for (int i = 0; cols[i].name; i++)
        csv_field(b, cols[i].name, i == 0);
    buf_puts(b, "\r\n");
}

static void csv_row(buf *b, const column *cols, const json_t *row, const char *code)
{
    for (int i = 0; cols[i].name; i++) {
        if (!strcmp(cols[i].path, "district_name"))
            csv_field(b, district_name(code), i == 0);
        else
            csv_cell(b, path_get(row, cols[i].path), i == 0);
    }
    buf_puts(b, "\r\n");
}

/* ---- records ---------------------------------------------------------------- */

/* The public form of a stored document: district and home_url added where
 * the document does not carry them (a district node's own records), the
 * person's name dropped from an organisation's contact. */
static void publish_form(json_t *doc, const char *code)
{
    if (!util_jstr(doc, "district"))
        json_object_set_new(doc, "district", json_string(code));
    if (!util_jstr(doc, "home_url") && util_jstr(doc, "url"))
        json_object_set_new(doc, "home_url", json_string(util_jstr(doc, "url")));
    json_t *contact = json_object_get(doc, "contact");
    if (json_is_object(contact))
        json_object_del(contact, "person");
}

/* One indicator row as an object (for both CSV and JSON). */
static json_t *indicator_row(const json_t *m, const char *code, size_t no, const json_t *ind,
                             const json_t *val)
{
    json_t *r = json_object();
    json_object_set_new(r, "measure", json_string(util_jstr(m, "id") ? util_jstr(m, "id") : ""));
    json_object_set_new(r, "measure_title", json_string(util_jstr(m, "title") ? util_jstr(m, "title") : ""));
    json_object_set_new(r, "measure_url", json_string(util_jstr(m, "url") ? util_jstr(m, "url") : ""));
    json_object_set_new(r, "district", json_string(code));
    json_object_set_new(r, "district_name", json_string(district_name(code)));
    json_object_set_new(r, "indicator_no", json_integer((json_int_t)no));
    json_object_set_new(r, "indicator", json_string(util_jstr(ind, "name") ? util_jstr(ind, "name") : ""));
    json_object_set_new(r, "unit", json_string(util_jstr(ind, "unit") ? util_jstr(ind, "unit") : ""));
    const json_t *x = json_object_get(ind, "baseline");
    json_object_set_new(r, "baseline", json_is_number(x) ? json_copy((json_t *)x) : json_null());
    x = json_object_get(ind, "target");
    json_object_set_new(r, "target", json_is_number(x) ? json_copy((json_t *)x) : json_null());
    x = val ? json_object_get(val, "date") : NULL;
    json_object_set_new(r, "date", json_is_string(x) ? json_copy((json_t *)x) : json_null());
    x = val ? json_object_get(val, "value") : NULL;
    json_object_set_new(r, "value", json_is_number(x) ? json_copy((json_t *)x) : json_null());
    return r;
}

static const char *const rows_sql[NDS] = {
    "SELECT doc, COALESCE(district, :own) FROM records WHERE kind='measure' AND deleted IS NULL "
    "ORDER BY 2, id",
    "SELECT doc, COALESCE(district, :own) FROM records WHERE kind='progress' AND deleted IS "
    "NULL ORDER BY 2, parent, start_date, id",
    "SELECT doc, COALESCE(district, :own) FROM records WHERE kind='measure' AND deleted IS NULL "
    "AND json_array_length(doc, '$.indicators') > 0 ORDER BY 2, id",
    "SELECT doc, COALESCE(district, :own) FROM records WHERE kind='organisation' AND deleted "
    "IS NULL ORDER BY 2, id",
};

/* Appends one item to a JSON array being written line by line. */
static void json_item(buf *b, const json_t *item, long long *n)
{
    char *t = json_dumps(item, JSON_COMPACT);
    if (!t) {
        b->oom = true;
        return;
    }
    buf_puts(b, *n ? ",\n" : "\n");
    buf_puts(b, t);
    free(t);
    (*n)++;
}

static int render_rows(db *d, const config *cfg, int ds, bool csv, buf *items, long long *n)
{
    const column *cols = dataset_cols[ds];
    if (csv)
        csv_header(items, cols);
    sqlite3_stmt *st = db_stmt(d, rows_sql[ds]);
    if (!st)
        return -1;
    db_bind_text(st, ":own", cfg->district);
    int rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *code = col_text(st, 1);
        json_t *doc = json_loads(col_text(st, 0), 0, NULL);
        if (!doc) {
            rc = -1;
            break;
        }
        publish_form(doc, code);
        if (ds != DS_INDICATORS) {
            if (csv) {
                csv_row(items, cols, doc, code);
                (*n)++;
            } else {
                json_item(items, doc, n);
            }
        } else {
            size_t i, j;
            const json_t *ind, *val;
            json_array_foreach(json_object_get(doc, "indicators"), i, ind)
            {
                const json_t *vals = json_object_get(ind, "values");
                size_t nv = json_array_size(vals);
                for (j = 0; j < (nv ? nv : 1); j++) {
                    val = nv ? json_array_get(vals, j) : NULL;
                    json_t *row = indicator_row(doc, code, i + 1, ind, val);
                    if (csv) {
                        csv_row(items, cols, row, code);
                        (*n)++;
                    } else {
                        json_item(items, row, n);
                    }
                    json_decref(row);
                }
            }
        }
        json_decref(doc);
    }
    db_done(st);
    return rc || items->oom ? -1 : 0;
}

static void node_base(const config *cfg, const char *path, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", cfg->base_url, path);
}

static void attribution(const config *cfg, char *out, size_t outlen)
{
    char src[700];
    node_base(cfg, "/opendata/", src, sizeof src);
    if (!strcmp(cfg->role, "state"))
        snprintf(out, outlen,
                 "%s, mit Daten der Landkreise und kreisfreien Städte Sachsen-Anhalts "
                 "(Datenquelle: %s)",
                 cfg->name, src);
    else
        snprintf(out, outlen, "%s (Datenquelle: %s)", cfg->name, src);
}

static int render_json_file(db *d, const config *cfg, int ds, buf *out)
{
    buf items;
    buf_init(&items);
    long long n = 0;
    ds_stats s;
    if (dataset_stats(d, cfg, ds, &s) || render_rows(d, cfg, ds, false, &items, &n)) {
        buf_free(&items);
        return -2;
    }
    char attr[1400], landing[700];
    attribution(cfg, attr, sizeof attr);
    node_base(cfg, "/opendata/", landing, sizeof landing);
    json_t *h =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "dataset", datasets[ds].slug, "title",
                  datasets[ds].title, "publisher", cfg->name, "license", opendata_license(),
                  "attribution", attr, "landing_page", landing, "district", cfg->district);
    json_object_set_new(h, "modified", s.modified[0] ? json_string(s.modified) : json_null());
    json_object_set_new(h, "count", json_integer(n));
    char *ht = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    if (!ht) {
        buf_free(&items);
        return -2;
    }
    /* {header members…, "items":[ one item per line ]} */
    buf_append(out, ht, strlen(ht) - 1);
    free(ht);
    buf_puts(out, ",\"items\":[");
    if (items.len)
        buf_append(out, items.p, items.len);
    buf_puts(out, n ? "\n]}\n" : "]}\n");
    buf_free(&items);
    return out->oom ? -2 : 0;
}

/* ---- DCAT-AP.de catalog ----------------------------------------------------- */

#define DCATDE_GEO "http://dcat-ap.de/def/politicalGeocoding/"
#define EU_AUTH "http://publications.europa.eu/resource/authority/"

static json_t *lit_de(const char *s)
{
    return json_pack("{s:s, s:s}", "@value", s, "@language", "de");
}

static json_t *typed(const char *v, const char *type)
{
    return json_pack("{s:s, s:s}", "@value", v, "@type", type);
}

static json_t *ref(const char *iri)
{
    return json_pack("{s:s}", "@id", iri);
}

static json_t *publisher(const config *cfg)
{
    char home[700];
    node_base(cfg, "/actor", home, sizeof home);
    return json_pack("{s:s, s:s, s:s}", "@id", home, "@type", "foaf:Agent", "foaf:name", cfg->name);
}

static json_t *geocoding(const ds_stats *s)
{
    json_t *a = json_array();
    json_array_append_new(a, ref(DCATDE_GEO "stateKey/15"));
    for (int i = 0; i < s->ncodes; i++) {
        char u[128];
        snprintf(u, sizeof u, DCATDE_GEO "districtKey/%s", s->codes[i]);
        json_array_append_new(a, ref(u));
    }
    return a;
}

static json_t *distribution(const config *cfg, int ds, bool csv, const ds_stats *s,
                            const char *attr)
{
    char url[700], id[760], title[200];
    char path[64];
    snprintf(path, sizeof path, "/opendata/%s.%s", datasets[ds].slug, csv ? "csv" : "json");
    node_base(cfg, path, url, sizeof url);
    snprintf(path, sizeof path, "/opendata/#%s-%s", datasets[ds].slug, csv ? "csv" : "json");
    node_base(cfg, path, id, sizeof id);
    snprintf(title, sizeof title, "%s (%s)", datasets[ds].title, csv ? "CSV" : "JSON");
    json_t *o =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "@id", id, "@type",
                  "dcat:Distribution", "dct:title", lit_de(title), "dcat:accessURL", ref(url),
                  "dcat:downloadURL", ref(url), "dct:format",
                  ref(csv ? EU_AUTH "file-type/CSV" : EU_AUTH "file-type/JSON"), "dcat:mediaType",
                  ref(csv ? "https://www.iana.org/assignments/media-types/text/csv"
                          : "https://www.iana.org/assignments/media-types/application/json"),
                  "dct:license", ref(opendata_license()), "dcatde:licenseAttributionByText",
                  lit_de(attr), "dct:language", ref(EU_AUTH "language/DEU"));
    if (csv)
        json_object_set_new(o, "dct:conformsTo", ref("https://www.rfc-editor.org/rfc/rfc4180"));
    if (s->modified[0])
        json_object_set_new(o, "dct:modified", typed(s->modified, "xsd:dateTime"));
    return o;
}

static json_t *dataset_node(const config *cfg, int ds, const ds_stats *s, const char *attr)
{
    char id[760], landing[700], path[64], title[400], home[700];
    snprintf(path, sizeof path, "/opendata/#%s", datasets[ds].slug);
    node_base(cfg, path, id, sizeof id);
    node_base(cfg, "/opendata/", landing, sizeof landing);
    node_base(cfg, "/", home, sizeof home);
    const district *own = district_find(cfg->district);
    snprintf(title, sizeof title, "%s – %s", datasets[ds].title, own ? own->name : cfg->name);
    json_t *kw = json_array();
    for (int i = 0; datasets[ds].keywords[i]; i++)
        json_array_append_new(kw, lit_de(datasets[ds].keywords[i]));
    json_array_append_new(kw, lit_de(own ? own->name : cfg->district));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:{s:s, s:s, s:o}, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:o}",
        "@id", id, "@type", "dcat:Dataset", "dct:identifier", id, "dct:title", lit_de(title),
        "dct:description", lit_de(datasets[ds].description), "dcat:keyword", kw, "dcat:theme",
        ref(EU_AUTH "data-theme/SOCI"), "dct:publisher", publisher(cfg), "dcat:contactPoint",
        "@type", "vcard:Organization", "vcard:fn", cfg->name, "vcard:hasURL", ref(home),
        "dct:license", ref(opendata_license()), "dcatde:licenseAttributionByText", lit_de(attr),
        "dct:accessRights", ref(EU_AUTH "access-right/PUBLIC"), "dct:language",
        ref(EU_AUTH "language/DEU"), "dct:spatial", geocoding(s), "dcatde:politicalGeocodingURI",
        geocoding(s), "dcatde:politicalGeocodingLevelURI",
        ref(strcmp(cfg->role, "state") ? DCATDE_GEO "Level/administrativeDistrict"
                                       : DCATDE_GEO "Level/state"),
        "dcat:landingPage", ref(landing));
    if (s->start[0]) {
        json_object_set_new(o, "dct:temporal",
                            json_pack("{s:s, s:o, s:o}", "@type", "dct:PeriodOfTime",
                                      "dcat:startDate", typed(s->start, "xsd:date"), "dcat:endDate",
                                      typed(s->end, "xsd:date")));
    }
    if (s->issued[0])
        json_object_set_new(o, "dct:issued", typed(s->issued, "xsd:dateTime"));
    if (s->modified[0])
        json_object_set_new(o, "dct:modified", typed(s->modified, "xsd:dateTime"));
    json_object_set_new(o, "dcat:distribution",
                        json_pack("[o, o]", distribution(cfg, ds, true, s, attr),
                                  distribution(cfg, ds, false, s, attr)));
    return o;
}

static int render_catalog(db *d, const config *cfg, buf *out)
{
    ds_stats s[NDS], all;
    memset(&all, 0, sizeof all);
    for (int i = 0; i < NDS; i++) {
        if (dataset_stats(d, cfg, i, &s[i]))
            return -2;
        if (strcmp(s[i].modified, all.modified) > 0)
            snprintf(all.modified, sizeof all.modified, "%s", s[i].modified);
        for (int k = 0; k < s[i].ncodes; k++)
            add_code(&all, s[i].codes[k]);
    }
    qsort(all.codes, (size_t)all.ncodes, sizeof all.codes[0], cmp_code);
    char attr[1400], id[700], home[700], title[400];
    attribution(cfg, attr, sizeof attr);
    node_base(cfg, "/opendata/#catalog", id, sizeof id);
    node_base(cfg, "/", home, sizeof home);
    snprintf(title, sizeof title, "Offene Daten: %s", cfg->name);
    json_t *dsets = json_array();
    for (int i = 0; i < NDS; i++)
        json_array_append_new(dsets, dataset_node(cfg, i, &s[i], attr));
    json_t *c = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
        "@context", "dcat", "http://www.w3.org/ns/dcat#", "dct", "http://purl.org/dc/terms/",
        "foaf", "http://xmlns.com/foaf/0.1/", "vcard", "http://www.w3.org/2006/vcard/ns#", "dcatde",
        "http://dcat-ap.de/def/dcatde/", "xsd", "http://www.w3.org/2001/XMLSchema#", "@id", id,
        "@type", "dcat:Catalog", "dct:title", lit_de(title), "dct:description",
        lit_de("Maßnahmen, Sachstände, Indikatoren und Akteure der Integrationsarbeit im "
               "Digitalen Integrationsnetzwerk Sachsen-Anhalt als offene Daten."),
        "dct:publisher", publisher(cfg), "foaf:homepage", ref(home), "dct:language",
        ref(EU_AUTH "language/DEU"), "dct:license", ref(opendata_license()), "dct:spatial",
        geocoding(&all));
    if (all.modified[0])
        json_object_set_new(c, "dct:modified", typed(all.modified, "xsd:dateTime"));
    json_object_set_new(c, "dcat:dataset", dsets);
    char *t = json_dumps(c, JSON_INDENT(2));
    json_decref(c);
    if (!t)
        return -2;
    buf_puts(out, t);
    buf_puts(out, "\n");
    free(t);
    return out->oom ? -2 : 0;
}

/* ---- the index page ------------------------------------------------------------ */

static void german_date(const char *iso, char *out, size_t outlen)
{
    /* "2026-11-25T…" → "25.11.2026" */
    if (strlen(iso) >= 10)
        snprintf(out, outlen, "%.2s.%.2s.%.4s", iso + 8, iso + 5, iso);
    else
        snprintf(out, outlen, "–");
}

static int render_index(db *d, const config *cfg, buf *b)
{
    ds_stats s[NDS];
    for (int i = 0; i < NDS; i++)
        if (dataset_stats(d, cfg, i, &s[i]))
            return -2;
    char attr[1400];
    attribution(cfg, attr, sizeof attr);
    const char *lic = opendata_license();
    buf_puts(b, "<!doctype html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>Offene Daten – ");
    html(b, cfg->name);
    buf_puts(b, "</title>\n<link rel=\"alternate\" type=\"application/ld+json\" "
                "href=\"catalog.jsonld\" title=\"Datenkatalog nach DCAT-AP.de\">\n"
                "<link rel=\"license\" href=\"");
    html(b, lic);
    buf_puts(b, "\">\n</head>\n<body>\n<header>\n<nav aria-label=\"Navigation\"><a href=\"/\">"
                "Zur Startseite</a></nav>\n</header>\n<main>\n<h1>Offene Daten</h1>\n<p>");
    html(b, cfg->name);
    buf_puts(b, " veröffentlicht hier die öffentlichen Einträge des Digitalen "
                "Integrationsnetzwerks Sachsen-Anhalt als offene Daten zum freien Herunterladen "
                "und Weiterverwenden.</p>\n<p>Lizenz: <a rel=\"license\" href=\"");
    html(b, lic);
    buf_puts(b, "\">");
    html(b, license_name(lic));
    buf_puts(b, "</a>. Bitte nennen Sie bei einer Weiterverwendung als Quelle: „");
    html(b, attr);
    buf_puts(b, "“.</p>\n<table>\n<caption>Datensätze und Dateien</caption>\n<thead>\n<tr>"
                "<th scope=\"col\">Datensatz</th><th scope=\"col\">Inhalt</th>"
                "<th scope=\"col\">Einträge</th><th scope=\"col\">Zuletzt geändert</th>"
                "<th scope=\"col\">Dateien</th></tr>\n</thead>\n<tbody>\n");
    for (int i = 0; i < NDS; i++) {
        char date[16];
        german_date(s[i].modified, date, sizeof date);
        buf_printf(b, "<tr id=\"%s\"><th scope=\"row\">", datasets[i].slug);
        html(b, datasets[i].title);
        buf_puts(b, "</th><td>");
        html(b, datasets[i].description);
        buf_printf(b, "</td><td>%lld</td><td>", s[i].count);
        if (s[i].modified[0]) {
            buf_puts(b, "<time datetime=\"");
            html(b, s[i].modified);
            buf_printf(b, "\">%s</time>", date);
        } else {
            buf_puts(b, "–");
        }
        buf_printf(b,
                   "</td><td><ul><li><a href=\"%s.csv\" type=\"text/csv\">%s.csv</a> "
                   "(CSV)</li><li><a href=\"%s.json\" type=\"application/json\">%s.json</a> "
                   "(JSON)</li></ul></td></tr>\n",
                   datasets[i].slug, datasets[i].slug, datasets[i].slug, datasets[i].slug);
    }
    buf_puts(b, "</tbody>\n</table>\n<h2>Metadaten</h2>\n<p><a href=\"catalog.jsonld\" "
                "type=\"application/ld+json\">catalog.jsonld</a>: Beschreibung aller Datensätze "
                "nach DCAT-AP.de (JSON-LD) mit Lizenz, Herausgeber, räumlicher und zeitlicher "
                "Abdeckung und Änderungsdatum, zum Einlesen in Datenportale.</p>\n"
                "<h2>Hinweise zu den Formaten</h2>\n<ul>\n"
                "<li>CSV nach RFC 4180: UTF-8 ohne Byte-Order-Mark, Komma als Trennzeichen, "
                "Zeilenende CRLF, erste Zeile mit den Spaltennamen. Felder mit Komma, "
                "Anführungszeichen oder Zeilenumbruch stehen in Anführungszeichen. Listen "
                "(etwa Handlungsfelder) sind durch Semikolon getrennt, Zahlen haben einen "
                "Dezimalpunkt.</li>\n"
                "<li>JSON: dieselben Einträge vollständig, so wie die Schnittstelle "
                "<code>/api/v1/</code> sie ausgibt, je Eintrag eine Zeile.</li>\n"
                "<li>Jeder Eintrag nennt seinen Kreisschlüssel (<code>district</code>) und "
                "seine Adresse beim Landkreis oder der kreisfreien Stadt, die ihn "
                "veröffentlicht (<code>home_url</code>). Gelöschte Einträge und Namen von "
                "Ansprechpersonen sind nicht enthalten.</li>\n"
                "</ul>\n</main>\n</body>\n</html>\n");
    return b->oom ? -2 : 0;
}

/* ---- rendering ------------------------------------------------------------------ */

static int render_file(db *d, const config *cfg, int fi, buf *out)
{
    if (fi == F_INDEX)
        return render_index(d, cfg, out);
    if (fi == F_CATALOG)
        return render_catalog(d, cfg, out);
    int ds = (fi - F_FIRST_DATA) / 2;
    if ((fi - F_FIRST_DATA) % 2 == 0) {
        long long n = 0;
        return render_rows(d, cfg, ds, true, out, &n) ? -2 : 0;
    }
    return render_json_file(d, cfg, ds, out);
}

int opendata_render(db *d, const config *cfg, const char *name, buf *out)
{
    int fi = file_index(name ? name : "");
    if (fi < 0)
        return -1;
    bool in_read = db_begin_read(d) == 0;
    int rc = render_file(d, cfg, fi, out);
    if (in_read)
        db_end_read(d);
    return rc;
}

/* ---- change stamp, ETag, Last-Modified -------------------------------------------- */

/* The ETag names the file, the last history row (every write of a record
 * adds one, on a district node and on the aggregator alike) and a digest of
 * what else shapes the output: software version, licence, node name, base
 * URL, district, role and the last row's time (so a restored older
 * database never repeats a tag). *lastmod gets that row's time, or 0. */
static int make_stamp(db *d, const config *cfg, int fi, char *etag, size_t etaglen, time_t *lastmod)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT hseq, at FROM history ORDER BY hseq DESC LIMIT 1");
    if (!st)
        return -1;
    long long hseq = 0;
    char at[40] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        hseq = sqlite3_column_int64(st, 0);
        snprintf(at, sizeof at, "%s", col_text(st, 1));
    }
    db_done(st);
    *lastmod = at[0] ? util_parse_iso_time(at) : 0;
    if (*lastmod < 0)
        *lastmod = 0;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    const char *parts[] = {DINET_VERSION, opendata_license(), cfg->name, cfg->base_url,
                           cfg->district, cfg->role,          at};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        crypto_hash_sha256_update(&h, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    unsigned char dig[32];
    crypto_hash_sha256_final(&h, dig);
    char hex[13];
    sodium_bin2hex(hex, sizeof hex, dig, 6);
    snprintf(etag, etaglen, "\"od-%s-%lld-%s\"", fi == F_INDEX ? "index" : file_names[fi], hseq,
             hex);
    return 0;
}

static void http_date(time_t t, char *out, size_t outlen)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static time_t parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    if (!end || *end)
        return -1;
    return timegm(&tm);
}

/* If-None-Match: a list of entity tags or "*"; compared weakly (RFC 9110
 * 13.1.2: W/ prefixes are ignored). */
static bool etag_listed(const char *list, const char *etag)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
        size_t n = end ? (size_t)(end - p + 1) : strcspn(p, ", \t");
        if (n == strlen(etag) && !strncmp(p, etag, n))
            return true;
        p += n;
    }
    return false;
}

static bool not_modified(const http_req *req, const char *etag, time_t lastmod)
{
    const char *inm = http_header(req, "If-None-Match");
    if (inm)
        return etag_listed(inm, etag);
    const char *ims = http_header(req, "If-Modified-Since");
    time_t t = ims ? parse_http_date(ims) : -1;
    return lastmod > 0 && t >= 0 && lastmod <= t;
}

/* ---- the rendered files kept per ETag --------------------------------------------------- */

typedef struct blob {
    atomic_int refs;
    size_t len;
    char data[];
} blob;

static void blob_release(void *p)
{
    blob *b = p;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

static struct {
    char etag[128];
    blob *b;
} cache[NFILES];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static blob *cache_get(int fi, const char *etag)
{
    blob *b = NULL;
    pthread_mutex_lock(&cache_mu);
    if (cache[fi].b && !strcmp(cache[fi].etag, etag)) {
        b = cache[fi].b;
        atomic_fetch_add(&b->refs, 1);
    }
    pthread_mutex_unlock(&cache_mu);
    return b;
}

/* Keeps b (taking one more reference) as the file's rendering for etag. */
static void cache_put(int fi, const char *etag, blob *b)
{
    atomic_fetch_add(&b->refs, 1);
    pthread_mutex_lock(&cache_mu);
    blob *old = cache[fi].b;
    cache[fi].b = b;
    snprintf(cache[fi].etag, sizeof cache[fi].etag, "%s", etag);
    pthread_mutex_unlock(&cache_mu);
    blob_release(old);
}

static blob *blob_from(const buf *body)
{
    blob *b = malloc(sizeof *b + body->len + 1);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = body->len;
    if (body->len)
        memcpy(b->data, body->p, body->len);
    b->data[body->len] = '\0';
    return b;
}

/* ---- handlers -------------------------------------------------------------------- */

static void set_validators(http_resp *resp, const char *etag, time_t lastmod)
{
    http_set_header(resp, "ETag", etag);
    if (lastmod > 0) {
        char lm[64];
        http_date(lastmod, lm, sizeof lm);
        http_set_header(resp, "Last-Modified", lm);
    }
    http_set_header(resp, "Cache-Control", "public, max-age=60");
    http_set_header(resp, "Access-Control-Allow-Origin", "*");
}

static void serve_file(http_req *req, http_resp *resp, int fi)
{
    char etag[128];
    time_t lastmod = 0;
    /* The stamp and the content come from one snapshot, so an ETag always
     * names exactly the data it was sent with. */
    bool in_read = db_begin_read(req->db) == 0;
    blob *b = NULL;
    int rc = make_stamp(req->db, req->cfg, fi, etag, sizeof etag, &lastmod);
    bool fresh = rc == 0 && not_modified(req, etag, lastmod);
    if (rc == 0 && !fresh && !(b = cache_get(fi, etag))) {
        buf out;
        buf_init(&out);
        rc = render_file(req->db, req->cfg, fi, &out);
        b = rc == 0 && !out.oom ? blob_from(&out) : NULL;
        buf_free(&out);
        if (b)
            cache_put(fi, etag, b);
        else
            log_event(LOG_ERROR, "opendata.render_failed", "file",
                      fi == F_INDEX ? "index" : file_names[fi], NULL);
    }
    if (in_read)
        db_end_read(req->db);
    if (fresh) {
        set_validators(resp, etag, lastmod);
        resp->status = 304;
        return;
    }
    if (!b) {
        http_problem(resp, 500, "internal", "Internal error", "The file could not be produced.",
                     NULL, NULL);
        return;
    }
    set_validators(resp, etag, lastmod);
    resp->status = 200;
    resp->ctype = file_ctype(fi);
    resp->ext = b->data;
    resp->ext_len = b->len;
    resp->ext_free = blob_release;
    resp->ext_cls = b;
}

static void h_index(http_req *req, http_resp *resp)
{
    serve_file(req, resp, F_INDEX);
}

static void h_file(http_req *req, http_resp *resp)
{
    int fi = file_index(req->params[0]);
    if (fi <= F_INDEX) {
        http_problem(resp, 404, "not-found", "Not found",
                     "No such file; /opendata/ lists the files.", NULL, NULL);
        return;
    }
    serve_file(req, resp, fi);
}

static void h_redirect(http_req *req, http_resp *resp)
{
    (void)req;
    http_text(resp, 308, "text/plain; charset=utf-8", "/opendata/\n");
    http_set_header(resp, "Location", "/opendata/");
}

const http_route opendata_routes[] = {
    {"GET", "/opendata", h_redirect},
    {"GET", "/opendata/", h_index},
    {"GET", "/opendata/*", h_file},
    {NULL, NULL, NULL},
};
