/* Open data at /opendata/ on a district node:
 *  - the CSV files are strict RFC 4180 (CRLF, quoting, no BOM) and parse back
 *    to exactly the records the API serves, including titles with commas,
 *    quotes and line breaks; indicators give one row per value;
 *  - the JSON files list the same documents as the API, with district and
 *    home_url, without deleted records and without contact persons' names;
 *  - the DCAT-AP.de catalog is JSON-LD with the classes and properties the
 *    issue names, and every distribution URL in it answers 200 (and, when
 *    jsonld.js from the interop suite is installed, it expands to RDF);
 *  - ETag / Last-Modified: If-None-Match and If-Modified-Since answer 304,
 *    and a write changes the ETag;
 *  - the HTML index links every file; the licence is configurable. */
#include "testlib.h"

#include "config.h"
#include "db.h"
#include "opendata.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tl_node node;
#define EDITOR node.token[TL_EDITOR]

/* ---- a strict RFC 4180 reader ------------------------------------------------ */

typedef struct csv_row {
    char **f;
    int n;
} csv_row;

typedef struct csv {
    csv_row *rows;
    int n;
    char err[128];
} csv;

static void add_field(csv_row *r, buf *field)
{
    r->f = realloc(r->f, sizeof *r->f * (size_t)(r->n + 1));
    r->f[r->n++] = field->p ? buf_take(field) : strdup("");
    buf_init(field);
}

/* Records end with CRLF; a CR or LF anywhere else must be inside quotes.
 * Returns 0, or -1 with c->err. */
static int csv_parse(const char *s, size_t len, csv *c)
{
    memset(c, 0, sizeof *c);
    size_t i = 0;
    buf field;
    buf_init(&field);
    while (i < len) {
        c->rows = realloc(c->rows, sizeof *c->rows * (size_t)(c->n + 1));
        csv_row *r = &c->rows[c->n++];
        memset(r, 0, sizeof *r);
        for (;;) {
            if (i < len && s[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) {
                        snprintf(c->err, sizeof c->err, "row %d: unterminated quote", c->n);
                        return -1;
                    }
                    if (s[i] == '"') {
                        if (i + 1 < len && s[i + 1] == '"') {
                            buf_append(&field, "\"", 1);
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    buf_append(&field, s + i, 1);
                    i++;
                }
                if (i < len && s[i] != ',' && s[i] != '\r') {
                    snprintf(c->err, sizeof c->err, "row %d: text after a closing quote", c->n);
                    return -1;
                }
            } else {
                while (i < len && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
                    if (s[i] == '"') {
                        snprintf(c->err, sizeof c->err, "row %d: quote in an unquoted field", c->n);
                        return -1;
                    }
                    buf_append(&field, s + i, 1);
                    i++;
                }
                if (i < len && s[i] == '\n') {
                    snprintf(c->err, sizeof c->err, "row %d: bare LF (records end with CRLF)",
                             c->n);
                    return -1;
                }
            }
            add_field(r, &field);
            if (i < len && s[i] == ',') {
                i++;
                continue;
            }
            if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') {
                i += 2;
                break;
            }
            if (i >= len) {
                snprintf(c->err, sizeof c->err, "row %d: the last record has no CRLF", c->n);
                return -1;
            }
            snprintf(c->err, sizeof c->err, "row %d: bare CR", c->n);
            return -1;
        }
    }
    buf_free(&field);
    return 0;
}

static void csv_free(csv *c)
{
    for (int i = 0; i < c->n; i++) {
        for (int j = 0; j < c->rows[i].n; j++)
            free(c->rows[i].f[j]);
        free(c->rows[i].f);
    }
    free(c->rows);
    memset(c, 0, sizeof *c);
}

static int col_of(const csv *c, const char *name)
{
    for (int j = 0; c->n && j < c->rows[0].n; j++)
        if (!strcmp(c->rows[0].f[j], name))
            return j;
    return -1;
}

static const char *cell(const csv *c, int row, const char *name)
{
    int j = col_of(c, name);
    return j >= 0 && row < c->n && j < c->rows[row].n ? c->rows[row].f[j] : NULL;
}

static int row_of(const csv *c, const char *col, const char *value)
{
    int j = col_of(c, col);
    for (int i = 1; j >= 0 && i < c->n; i++)
        if (j < c->rows[i].n && !strcmp(c->rows[i].f[j], value))
            return i;
    return -1;
}

/* The cell text the files promise for a JSON value. */
static void expect_text(const json_t *v, char *out, size_t outlen)
{
    out[0] = '\0';
    if (json_is_string(v))
        snprintf(out, outlen, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
    else if (json_is_array(v)) {
        size_t i, n = 0;
        const json_t *e;
        json_array_foreach(v, i, e) n +=
            (size_t)snprintf(out + n, outlen - n, "%s%s", i ? ";" : "", json_string_value(e));
    }
}

/* ---- helpers ----------------------------------------------------------------- */

static char *create(const char *path, const char *body)
{
    tl_resp r;
    tl_api(&r, &node, "POST", path, EDITOR, body, NULL);
    CHECK_INT(r.status, 201, path);
    const char *id = json_string_value(json_object_get(r.json, "id"));
    char *out = strdup(id ? id : "none");
    tl_resp_free(&r);
    return out;
}

static void get(tl_resp *r, const char *path, const char *extra)
{
    tl_api(r, &node, "GET", path, NULL, NULL, extra);
}

static json_t *find_by(const json_t *items, const char *key, const char *value)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *v = json_string_value(json_object_get(it, key));
        if (v && !strcmp(v, value))
            return it;
    }
    return NULL;
}

static char *org_id, *m_tricky, *m_plain, *m_gone;

static void seed(void)
{
    char body[2048];
    org_id =
        create("/api/v1/organisations",
               "{\"name\":\"Verein \\\"Brücke\\\", Halle e. V.\",\"kind\":\"civil_society\","
               "\"description\":\"Beratung,\\nBegleitung\",\"fields_of_action\":[\"HF2\"],"
               "\"languages\":[\"de\",\"ar\",\"fa-AF\"],\"website\":\"https://bruecke.example\","
               "\"contact\":{\"email\":\"info@bruecke.example\",\"phone\":\"+49 391 1234\","
               "\"person\":\"Erika Mustermann\"},"
               "\"address\":{\"street\":\"Domplatz 1\",\"postal_code\":\"39104\","
               "\"city\":\"Magdeburg\"},\"location\":{\"lat\":52.13,\"lon\":11.64}}");
    snprintf(body, sizeof body,
             "{\"title\":\"Sprachcafé, \\\"Deutsch & mehr\\\"\\nmit Kinderbetreuung\","
             "\"description\":\"Zeile eins,\\r\\nZeile \\\"zwei\\\"\\n\\nEnde\","
             "\"fields_of_action\":[\"HF3\",\"HF5\"],\"themes\":[\"QT2\"],\"status\":\"active\","
             "\"progress\":40,\"start_date\":\"2025-01-01\",\"end_date\":\"2025-12-31\","
             "\"lead_organisation\":\"%s\",\"partner_organisations\":[\"%s\"],"
             "\"target_groups\":[\"Eltern\",\"Kinder, Jugendliche\"],"
             "\"indicators\":[{\"name\":\"Teilnehmende, gesamt\",\"unit\":\"Personen\","
             "\"baseline\":0,\"target\":50.5,\"values\":[{\"date\":\"2025-03-31\",\"value\":12},"
             "{\"date\":\"2025-06-30\",\"value\":20.25}]},"
             "{\"name\":\"Kurse\",\"unit\":\"\",\"baseline\":null,\"target\":4,\"values\":[]}]}",
             org_id, org_id);
    m_tricky = create("/api/v1/measures", body);
    m_plain = create("/api/v1/measures", "{\"title\":\"Jobmesse\",\"fields_of_action\":[\"HF4\"],"
                                         "\"start_date\":\"2024-06-01\"}");
    m_gone =
        create("/api/v1/measures", "{\"title\":\"Wird gelöscht\",\"fields_of_action\":[\"HF1\"],"
                                   "\"start_date\":\"2020-01-01\",\"end_date\":\"2030-12-31\"}");
    char path[200];
    snprintf(path, sizeof path, "/api/v1/measures/%s/progress", m_tricky);
    free(create(path, "{\"date\":\"2025-04-01\",\"title\":\"Start, endlich\","
                      "\"text\":\"Der \\\"erste\\\" Kurs\\nläuft.\",\"progress\":20}"));
    free(create(path, "{\"date\":\"2025-07-01\",\"title\":\"Halbzeit\"}"));
    snprintf(path, sizeof path, "/api/v1/measures/%s", m_gone);
    tl_resp r;
    tl_api(&r, &node, "DELETE", path, EDITOR, NULL, NULL);
    CHECK_INT(r.status, 200, "delete a measure");
    tl_resp_free(&r);
}

/* ---- CSV ------------------------------------------------------------------------ */

static bool get_csv(const char *file, csv *c)
{
    char path[128];
    snprintf(path, sizeof path, "/opendata/%s", file);
    tl_resp r;
    get(&r, path, NULL);
    CHECK_INT(r.status, 200, file);
    char *ct = tl_header(&r, "Content-Type");
    CHECK(ct && !strncmp(ct, "text/csv; charset=utf-8", 23), "%s: Content-Type %s", file,
          ct ? ct : "(none)");
    free(ct);
    CHECK(r.len >= 3 && memcmp(r.body, "\xEF\xBB\xBF", 3) != 0, "%s: no byte-order mark", file);
    int rc = csv_parse(r.body, r.len, c);
    CHECK(rc == 0, "%s parses as RFC 4180: %s", file, c->err);
    bool ok = rc == 0 && c->n >= 1;
    for (int i = 1; ok && i < c->n; i++)
        CHECK(c->rows[i].n == c->rows[0].n, "%s: row %d has %d fields, the header %d", file, i,
              c->rows[i].n, c->rows[0].n);
    tl_resp_free(&r);
    return ok;
}

static void test_measures_csv(void)
{
    csv c;
    if (!get_csv("measures.csv", &c))
        return;
    tl_resp r;
    get(&r, "/api/v1/measures?limit=200", NULL);
    json_t *items = json_object_get(r.json, "items");
    CHECK_INT(c.n - 1, json_array_size(items), "measures.csv has one row per live measure");
    CHECK(row_of(&c, "id", m_gone) < 0, "the deleted measure is not in measures.csv");
    static const char *const cols[] = {"id",
                                       "url",
                                       "title",
                                       "description",
                                       "status",
                                       "progress",
                                       "start_date",
                                       "end_date",
                                       "fields_of_action",
                                       "themes",
                                       "lead_organisation",
                                       "partner_organisations",
                                       "target_groups",
                                       "version",
                                       "created",
                                       "updated",
                                       NULL};
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        int row = row_of(&c, "id", id);
        CHECK(row > 0, "measure %s is in measures.csv", id);
        if (row < 0)
            continue;
        for (int k = 0; cols[k]; k++) {
            char want[4096], what[128];
            expect_text(json_object_get(it, cols[k]), want, sizeof want);
            snprintf(what, sizeof what, "measures.csv %s.%s", id, cols[k]);
            CHECK_STR(cell(&c, row, cols[k]), want, what);
        }
        CHECK_STR(cell(&c, row, "district"), "15003", "measures.csv district");
        CHECK_STR(cell(&c, row, "district_name"), "Magdeburg", "measures.csv district_name");
        CHECK_STR(cell(&c, row, "home_url"), json_string_value(json_object_get(it, "url")),
                  "measures.csv home_url is the record's URL on its district node");
    }
    int row = row_of(&c, "id", m_tricky);
    CHECK_STR(cell(&c, row, "title"), "Sprachcafé, \"Deutsch & mehr\"\nmit Kinderbetreuung",
              "a title with comma, quotes and a line break survives");
    CHECK_STR(cell(&c, row, "description"), "Zeile eins,\r\nZeile \"zwei\"\n\nEnde",
              "a description with CRLF inside survives");
    tl_resp_free(&r);
    csv_free(&c);
}

static void test_other_csv(void)
{
    csv c;
    tl_resp r;
    char path[200];
    if (get_csv("progress.csv", &c)) {
        snprintf(path, sizeof path, "/api/v1/measures/%s/progress", m_tricky);
        get(&r, path, NULL);
        json_t *items = json_object_get(r.json, "items");
        CHECK_INT(c.n - 1, json_array_size(items), "progress.csv: one row per entry");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *id = json_string_value(json_object_get(it, "id"));
            int row = row_of(&c, "id", id);
            static const char *const cols[] = {"measure",  "date",    "title", "text",
                                               "progress", "version", NULL};
            for (int k = 0; row > 0 && cols[k]; k++) {
                char want[4096], what[128];
                expect_text(json_object_get(it, cols[k]), want, sizeof want);
                snprintf(what, sizeof what, "progress.csv %s.%s", id, cols[k]);
                CHECK_STR(cell(&c, row, cols[k]), want, what);
            }
            CHECK(row > 0, "entry %s in progress.csv", id);
        }
        tl_resp_free(&r);
        csv_free(&c);
    }

    if (get_csv("indicators.csv", &c)) {
        /* Two values of the first indicator, and the second (no values) once. */
        static const char *const want[][6] = {
            {"1", "Teilnehmende, gesamt", "Personen", "0", "50.5", "2025-03-31"},
            {"1", "Teilnehmende, gesamt", "Personen", "0", "50.5", "2025-06-30"},
            {"2", "Kurse", "", "", "4", ""},
        };
        static const char *const values[] = {"12", "20.25", ""};
        static const char *const cols[] = {"indicator_no", "indicator", "unit",
                                           "baseline",     "target",    "date"};
        CHECK_INT(c.n - 1, 3, "indicators.csv: one row per value, one for an indicator without");
        for (int i = 0; i < 3 && i + 1 < c.n; i++) {
            CHECK_STR(cell(&c, i + 1, "measure"), m_tricky, "indicators.csv measure");
            CHECK_STR(cell(&c, i + 1, "measure_title"),
                      "Sprachcafé, \"Deutsch & mehr\"\nmit Kinderbetreuung",
                      "indicators.csv measure_title");
            CHECK_STR(cell(&c, i + 1, "district"), "15003", "indicators.csv district");
            for (int k = 0; k < 6; k++)
                CHECK_STR(cell(&c, i + 1, cols[k]), want[i][k], cols[k]);
            CHECK_STR(cell(&c, i + 1, "value"), values[i], "indicators.csv value");
        }
        csv_free(&c);
    }

    if (get_csv("organisations.csv", &c)) {
        int row = row_of(&c, "id", org_id);
        CHECK(row > 0, "the organisation is in organisations.csv");
        CHECK_STR(cell(&c, row, "name"), "Verein \"Brücke\", Halle e. V.", "org name");
        CHECK_STR(cell(&c, row, "description"), "Beratung,\nBegleitung", "org description");
        CHECK_STR(cell(&c, row, "languages"), "de;ar;fa-AF", "org languages");
        CHECK_STR(cell(&c, row, "email"), "info@bruecke.example", "public e-mail is included");
        CHECK_STR(cell(&c, row, "phone"), "+49 391 1234", "public phone is included");
        CHECK_STR(cell(&c, row, "website"), "https://bruecke.example", "website");
        CHECK_STR(cell(&c, row, "postal_code"), "39104", "postal code");
        CHECK_STR(cell(&c, row, "lat"), "52.13", "latitude in its shortest form");
        CHECK_STR(cell(&c, row, "lon"), "11.64", "longitude");
        CHECK(col_of(&c, "person") < 0 && col_of(&c, "contact_person") < 0,
              "no column for contact persons");
        csv_free(&c);
    }
    get(&r, "/opendata/organisations.csv", NULL);
    CHECK(!strstr(r.body, "Mustermann"), "the contact person's name is in no CSV file");
    tl_resp_free(&r);
    get(&r, "/opendata/organisations.json", NULL);
    CHECK(r.status == 200 && !strstr(r.body, "Mustermann"),
          "the contact person's name is not in organisations.json");
    tl_resp_free(&r);
}

/* ---- JSON ------------------------------------------------------------------------- */

static void compare_json(const char *file, const char *api_path, bool drop_person)
{
    char path[128];
    snprintf(path, sizeof path, "/opendata/%s", file);
    tl_resp f, a;
    get(&f, path, NULL);
    get(&a, api_path, NULL);
    CHECK_INT(f.status, 200, file);
    char *ct = tl_header(&f, "Content-Type");
    CHECK(ct && !strncmp(ct, "application/json", 16), "%s is JSON", file);
    free(ct);
    json_t *fi = json_object_get(f.json, "items"), *ai = json_object_get(a.json, "items");
    CHECK(json_is_array(fi), "%s has items", file);
    CHECK_INT(json_array_size(fi), json_array_size(ai), "same number of items as the API");
    CHECK_INT(json_integer_value(json_object_get(f.json, "count")), json_array_size(ai), "count");
    CHECK_STR(json_string_value(json_object_get(f.json, "license")), OPENDATA_DEFAULT_LICENSE,
              "the JSON file names its licence");
    size_t i;
    json_t *it;
    json_array_foreach(ai, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        json_t *mine = find_by(fi, "id", id);
        CHECK(mine != NULL, "%s: %s is listed", file, id);
        if (!mine)
            continue;
        json_t *want = json_deep_copy(it);
        if (drop_person)
            json_object_del(json_object_get(want, "contact"), "person");
        json_object_set_new(want, "district", json_string("15003"));
        json_object_set(want, "home_url", json_object_get(it, "url"));
        CHECK(json_equal(want, mine), "%s: %s equals the API document (plus district, home_url)",
              file, id);
        json_decref(want);
    }
    tl_resp_free(&f);
    tl_resp_free(&a);
}

static void test_json(void)
{
    compare_json("measures.json", "/api/v1/measures?limit=200", false);
    compare_json("organisations.json", "/api/v1/organisations?limit=200", true);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/measures/%s/progress?limit=200", m_tricky);
    compare_json("progress.json", path, false);
    tl_resp r;
    get(&r, "/opendata/indicators.json", NULL);
    json_t *items = json_object_get(r.json, "items");
    CHECK_INT(json_array_size(items), 3, "indicators.json: three rows");
    json_t *second = json_array_get(items, 1);
    CHECK(json_number_value(json_object_get(second, "value")) == 20.25 &&
              json_number_value(json_object_get(second, "target")) == 50.5,
          "indicators.json keeps numbers as numbers");
    CHECK(json_is_null(json_object_get(json_array_get(items, 2), "value")),
          "an indicator without values has value null");
    tl_resp_free(&r);
}

/* ---- catalog ------------------------------------------------------------------------- */

static const char *idof(const json_t *o)
{
    return json_string_value(json_object_get(o, "@id"));
}

static bool has_ref(const json_t *arr, const char *iri)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) if (idof(e) && !strcmp(idof(e), iri)) return true;
    return false;
}

static const char *val(const json_t *o, const char *k)
{
    const json_t *x = json_object_get(o, k);
    return json_is_string(x) ? json_string_value(x)
                             : json_string_value(json_object_get(x, "@value"));
}

static void test_catalog(void)
{
    tl_resp r, n;
    get(&r, "/opendata/catalog.jsonld", NULL);
    get(&n, "/api/v1/node", NULL);
    const char *name = json_string_value(json_object_get(n.json, "name"));
    CHECK_INT(r.status, 200, "catalog.jsonld");
    char *ct = tl_header(&r, "Content-Type");
    CHECK(ct && !strncmp(ct, "application/ld+json", 19), "catalog is application/ld+json: %s",
          ct ? ct : "");
    free(ct);
    json_t *c = r.json;
    CHECK(json_is_object(c), "the catalog is valid JSON");
    json_t *ctx = json_object_get(c, "@context");
    static const char *const ns[][2] = {{"dcat", "http://www.w3.org/ns/dcat#"},
                                        {"dct", "http://purl.org/dc/terms/"},
                                        {"foaf", "http://xmlns.com/foaf/0.1/"},
                                        {"vcard", "http://www.w3.org/2006/vcard/ns#"},
                                        {"dcatde", "http://dcat-ap.de/def/dcatde/"}};
    for (size_t i = 0; i < 5; i++)
        CHECK_STR(json_string_value(json_object_get(ctx, ns[i][0])), ns[i][1], ns[i][0]);
    CHECK_STR(val(c, "@type"), "dcat:Catalog", "catalog type");
    CHECK_STR(json_string_value(json_object_get(json_object_get(c, "dct:publisher"), "foaf:name")),
              name, "catalog publisher");
    json_t *dsets = json_object_get(c, "dcat:dataset");
    CHECK_INT(json_array_size(dsets), 4, "four datasets");
    int urls = 0;
    size_t i;
    json_t *ds;
    json_array_foreach(dsets, i, ds)
    {
        const char *id = idof(ds);
        CHECK_STR(val(ds, "@type"), "dcat:Dataset", "dataset type");
        CHECK(val(ds, "dct:title") && *val(ds, "dct:title"), "%s: dct:title", id);
        CHECK(val(ds, "dct:description") && *val(ds, "dct:description"), "%s: dct:description", id);
        json_t *pub = json_object_get(ds, "dct:publisher");
        CHECK_STR(val(pub, "@type"), "foaf:Agent", "publisher is a foaf:Agent");
        CHECK_STR(json_string_value(json_object_get(pub, "foaf:name")), name,
                  "publisher is the node's name");
        CHECK_STR(idof(json_object_get(ds, "dct:license")), OPENDATA_DEFAULT_LICENSE,
                  "default licence dl-by-de/2.0");
        CHECK(val(ds, "dcatde:licenseAttributionByText") &&
                  strstr(val(ds, "dcatde:licenseAttributionByText"), name),
              "%s: attribution text names the publisher", id);
        json_t *sp = json_object_get(ds, "dct:spatial");
        CHECK(has_ref(sp, "http://dcat-ap.de/def/politicalGeocoding/stateKey/15") &&
                  has_ref(sp, "http://dcat-ap.de/def/politicalGeocoding/districtKey/15003"),
              "%s: dct:spatial names the state (15) and the district (15003)", id);
        CHECK_STR(idof(json_object_get(ds, "dcatde:politicalGeocodingLevelURI")),
                  "http://dcat-ap.de/def/politicalGeocoding/Level/administrativeDistrict",
                  "geocoding level of a district node");
        json_t *tmp = json_object_get(ds, "dct:temporal");
        CHECK_STR(val(tmp, "@type"), "dct:PeriodOfTime", "dct:temporal is a dct:PeriodOfTime");
        CHECK(val(tmp, "dcat:startDate") && val(tmp, "dcat:endDate"), "%s: start and end", id);
        CHECK(val(ds, "dct:modified") && strlen(val(ds, "dct:modified")) == 20,
              "%s: dct:modified is a timestamp", id);
        if (id && strstr(id, "#measures")) {
            /* From the live measures' dates; the deleted one (2020-2030) is out. */
            CHECK_STR(val(tmp, "dcat:startDate"), "2024-06-01", "measures: temporal start");
            CHECK_STR(val(tmp, "dcat:endDate"), "2025-12-31", "measures: temporal end");
        }
        if (id && strstr(id, "#indicators")) {
            CHECK_STR(val(tmp, "dcat:startDate"), "2025-03-31", "indicators: temporal start");
            CHECK_STR(val(tmp, "dcat:endDate"), "2025-06-30", "indicators: temporal end");
        }
        json_t *dists = json_object_get(ds, "dcat:distribution");
        CHECK_INT(json_array_size(dists), 2, "CSV and JSON distributions");
        size_t k;
        json_t *d;
        json_array_foreach(dists, k, d)
        {
            CHECK_STR(val(d, "@type"), "dcat:Distribution", "distribution type");
            const char *fmt = idof(json_object_get(d, "dct:format"));
            const char *mt = idof(json_object_get(d, "dcat:mediaType"));
            CHECK(fmt && strstr(fmt, "/file-type/"), "dct:format from the EU file types");
            CHECK(mt && strstr(mt, "iana.org/assignments/media-types/"), "dcat:mediaType");
            CHECK_STR(idof(json_object_get(d, "dct:license")), OPENDATA_DEFAULT_LICENSE,
                      "distribution licence");
            const char *acc = idof(json_object_get(d, "dcat:accessURL"));
            const char *dl = idof(json_object_get(d, "dcat:downloadURL"));
            CHECK(acc && dl, "accessURL and downloadURL");
            const char *const u[] = {acc, dl};
            for (int j = 0; j < 2 && acc && dl && mt; j++) {
                tl_resp x;
                tl_http(&x, "GET", u[j], NULL, NULL, NULL);
                CHECK_INT(x.status, 200, u[j]);
                char *xct = tl_header(&x, "Content-Type");
                const char *want = strstr(mt, "media-types/") + 12;
                CHECK(xct && !strncmp(xct, want, strlen(want)), "%s is served as %s (%s)", u[j],
                      want, xct ? xct : "");
                free(xct);
                tl_resp_free(&x);
                urls++;
            }
        }
    }
    CHECK_INT(urls, 16, "every distribution URL was fetched");

    /* Real JSON-LD processing when jsonld.js (a dependency of the Fedify
     * interop suite) is installed: expansion in safe mode fails on any term
     * the context does not define. */
    const char *src = getenv("DINET_SOURCE_DIR");
    char mod[1024], dir[600], file[700], script[1200], cmd[4096];
    snprintf(mod, sizeof mod, "%s/tests/interop/node_modules/jsonld", src ? src : ".");
    struct stat st;
    if (stat(mod, &st) == 0 && system("node --version >/dev/null 2>&1") == 0) {
        snprintf(dir, sizeof dir, "%s", node.dir);
        snprintf(file, sizeof file, "%s/catalog.jsonld", dir);
        snprintf(script, sizeof script, "%s/expand.cjs", dir);
        FILE *f = fopen(file, "w");
        if (f) {
            fwrite(r.body, 1, r.len, f);
            fclose(f);
        }
        f = fopen(script, "w");
        if (f) {
            fprintf(
                f,
                "const jsonld = require(process.env.JSONLD_MODULE);\n"
                "const doc = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));\n"
                "jsonld.toRDF(doc, {format: 'application/n-quads', safe: true}).then(nq => {\n"
                "  const need = ['<http://www.w3.org/ns/dcat#Catalog>',\n"
                "    '<http://www.w3.org/ns/dcat#Dataset>', "
                "'<http://www.w3.org/ns/dcat#Distribution>',\n"
                "    '<http://purl.org/dc/terms/PeriodOfTime>', "
                "'<http://xmlns.com/foaf/0.1/Agent>',\n"
                "    '<http://dcat-ap.de/def/dcatde/licenseAttributionByText>',\n"
                "    '<http://purl.org/dc/terms/license>', '<http://purl.org/dc/terms/spatial>',\n"
                "    '<http://purl.org/dc/terms/temporal>', "
                "'<http://purl.org/dc/terms/modified>',\n"
                "    '<http://www.w3.org/ns/dcat#startDate>', "
                "'<http://www.w3.org/ns/dcat#downloadURL>',\n"
                "    'XMLSchema#date>', 'XMLSchema#dateTime>'];\n"
                "  const miss = need.filter(n => !nq.includes(n));\n"
                "  if (miss.length) { console.error('missing', miss); process.exit(1); }\n"
                "}).catch(e => { console.error(e.message); process.exit(1); });\n");
            fclose(f);
        }
        snprintf(cmd, sizeof cmd, "cd '%s' && JSONLD_MODULE='%s' node expand.cjs catalog.jsonld",
                 dir, mod);
        CHECK(system(cmd) == 0, "jsonld.js expands the catalog (safe mode) to the DCAT triples");
    } else {
        printf("note: jsonld.js not installed (tests/interop); JSON-LD expansion not checked\n");
    }
    tl_resp_free(&r);
    tl_resp_free(&n);
}

/* ---- index, caching, errors --------------------------------------------------------------- */

static void test_index(void)
{
    tl_resp r;
    get(&r, "/opendata/", NULL);
    CHECK_INT(r.status, 200, "/opendata/");
    char *ct = tl_header(&r, "Content-Type");
    CHECK(ct && !strncmp(ct, "text/html", 9), "the index is HTML");
    free(ct);
    CHECK(strstr(r.body, "<html lang=\"de\">") && strstr(r.body, "<caption>") &&
              strstr(r.body, "scope=\"col\"") && strstr(r.body, "<main>"),
          "the index is German and uses a captioned table with header cells");
    CHECK(strstr(r.body, "Datenlizenz Deutschland – Namensnennung – Version 2.0") != NULL,
          "the index names the licence");
    int links = 0;
    for (const char *p = strstr(r.body, "href=\""); p; p = strstr(p + 6, "href=\"")) {
        char href[256];
        const char *q = p + 6;
        size_t n = strcspn(q, "\"");
        snprintf(href, sizeof href, "%.*s", (int)n, q);
        if (strchr(href, ':') || href[0] == '/')
            continue; /* the licence, the start page */
        char path[300];
        snprintf(path, sizeof path, "/opendata/%s", href);
        tl_resp x;
        get(&x, path, NULL);
        CHECK_INT(x.status, 200, path);
        tl_resp_free(&x);
        links++;
    }
    CHECK(links >= 9, "the index links the eight files and the catalog (%d links)", links);
    tl_resp_free(&r);

    get(&r, "/opendata", NULL);
    CHECK_INT(r.status, 308, "/opendata redirects");
    char *loc = tl_header(&r, "Location");
    CHECK_STR(loc, "/opendata/", "to /opendata/");
    free(loc);
    tl_resp_free(&r);
    get(&r, "/opendata/secrets.csv", NULL);
    CHECK_INT(r.status, 404, "unknown file");
    tl_resp_free(&r);
    get(&r, "/opendata/..%2Fdinet.db", NULL);
    CHECK_INT(r.status, 404, "no path tricks");
    tl_resp_free(&r);
    tl_api(&r, &node, "POST", "/opendata/measures.csv", EDITOR, "{}", NULL);
    CHECK_INT(r.status, 405, "read only");
    tl_resp_free(&r);
}

static void test_caching(void)
{
    tl_resp r;
    get(&r, "/opendata/measures.csv", NULL);
    char *etag = tl_header(&r, "ETag"), *lm = tl_header(&r, "Last-Modified");
    char *body1 = strdup(r.body);
    CHECK(etag && etag[0] == '"' && etag[strlen(etag) - 1] == '"', "a strong ETag: %s",
          etag ? etag : "(none)");
    CHECK(lm && strstr(lm, " GMT"), "Last-Modified is an HTTP date: %s", lm ? lm : "(none)");
    tl_resp_free(&r);
    if (!etag || !lm) {
        free(etag);
        free(lm);
        free(body1);
        return;
    }
    char h[300];
    snprintf(h, sizeof h, "If-None-Match: %s", etag);
    get(&r, "/opendata/measures.csv", h);
    CHECK_INT(r.status, 304, "If-None-Match with the current ETag");
    CHECK_INT(r.len, 0, "304 has no body");
    char *e2 = tl_header(&r, "ETag");
    CHECK_STR(e2, etag, "304 repeats the ETag");
    free(e2);
    tl_resp_free(&r);
    snprintf(h, sizeof h, "If-None-Match: \"other\", W/%s", etag);
    get(&r, "/opendata/measures.csv", h);
    CHECK_INT(r.status, 304, "a list with the weak form of the ETag");
    tl_resp_free(&r);
    get(&r, "/opendata/measures.csv", "If-None-Match: \"od-measures.csv-0-000000000000\"");
    CHECK_INT(r.status, 200, "another ETag gets the file");
    tl_resp_free(&r);
    snprintf(h, sizeof h, "If-Modified-Since: %s", lm);
    get(&r, "/opendata/measures.csv", h);
    CHECK_INT(r.status, 304, "If-Modified-Since the Last-Modified date");
    tl_resp_free(&r);
    get(&r, "/opendata/measures.csv", "If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT");
    CHECK_INT(r.status, 200, "If-Modified-Since an older date");
    tl_resp_free(&r);
    get(&r, "/opendata/measures.csv", "Accept-Encoding: gzip");
    char *enc = tl_header(&r, "Content-Encoding");
    CHECK(r.status == 200 && !enc && !strcmp(r.body, body1),
          "Accept-Encoding: gzip gets the identity encoding");
    free(enc);
    tl_resp_free(&r);
    char url[256];
    snprintf(url, sizeof url, "%s/opendata/measures.csv", node.srv.base);
    tl_http(&r, "HEAD", url, NULL, NULL, NULL);
    e2 = tl_header(&r, "ETag");
    CHECK(r.status == 200 && r.len == 0 && e2 && !strcmp(e2, etag), "HEAD: 200, same ETag");
    free(e2);
    tl_resp_free(&r);

    /* A write changes the ETag and the content. */
    char path[200];
    snprintf(path, sizeof path, "/api/v1/measures/%s", m_plain);
    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"title\":\"Jobmesse, zweite Auflage\"}",
           "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "update a measure");
    tl_resp_free(&r);
    snprintf(h, sizeof h, "If-None-Match: %s", etag);
    get(&r, "/opendata/measures.csv", h);
    CHECK_INT(r.status, 200, "after a write the old ETag no longer matches");
    e2 = tl_header(&r, "ETag");
    CHECK(e2 && strcmp(e2, etag), "a new ETag after a write");
    CHECK(strstr(r.body, "\"Jobmesse, zweite Auflage\"") != NULL, "the file shows the change");
    free(e2);
    tl_resp_free(&r);
    free(etag);
    free(lm);
    free(body1);
}

/* ---- the licence setting, in process ------------------------------------------------ */

static void test_license_setting(void)
{
    config cfg;
    char err[512], path[700], data[600];
    snprintf(data, sizeof data, "%s/node", node.dir);
    config_defaults(&cfg);
    CHECK_INT(config_load(&cfg, data, err, sizeof err), 0, "load the node's configuration");
    config_path(&cfg, "dinet.db", path, sizeof path);
    db *d = NULL;
    if (db_open(path, &d, err, sizeof err)) {
        CHECK(0, "open the node's database: %s", err);
        return;
    }
    unsetenv("DINET_OPENDATA_LICENSE");
    opendata_set_license(NULL);
    CHECK_STR(opendata_license(), OPENDATA_DEFAULT_LICENSE, "default licence");
    CHECK_INT(opendata_set_license("javascript:alert(1)"), -1, "a non-http licence is refused");
    CHECK_STR(opendata_license(), OPENDATA_DEFAULT_LICENSE, "and the default stays");
    CHECK_INT(opendata_set_license("http://dcat-ap.de/def/licenses/cc-by/4.0"), 0, "set CC BY");
    buf b;
    buf_init(&b);
    CHECK_INT(opendata_render(d, &cfg, "catalog.jsonld", &b), 0, "render the catalog");
    CHECK(b.p && strstr(b.p, "\"http://dcat-ap.de/def/licenses/cc-by/4.0\"") &&
              !strstr(b.p, "dl-by-de"),
          "the catalog states the configured licence");
    buf_free(&b);
    buf_init(&b);
    CHECK_INT(opendata_render(d, &cfg, "", &b), 0, "render the index");
    CHECK(b.p && strstr(b.p, "Creative Commons Namensnennung"), "the index names it in German");
    buf_free(&b);
    setenv("DINET_OPENDATA_LICENSE", "http://dcat-ap.de/def/licenses/dl-zero-de/2.0", 1);
    CHECK_INT(opendata_set_license(NULL), 0, "back to the default");
    CHECK_STR(opendata_license(), "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
              "the default comes from DINET_OPENDATA_LICENSE when set");
    unsetenv("DINET_OPENDATA_LICENSE");
    opendata_set_license(NULL);
    CHECK_STR(opendata_license(), OPENDATA_DEFAULT_LICENSE, "and from the constant otherwise");
    buf_init(&b);
    CHECK_INT(opendata_render(d, &cfg, "nothing.csv", &b), -1, "unknown file name");
    buf_free(&b);
    db_close(d);
}

int main(void)
{
    if (tl_node_setup_fed(&node, "opendata", "15003", NULL)) {
        fprintf(stderr, "node setup failed\n");
        return 1;
    }
    seed();
    test_measures_csv();
    test_other_csv();
    test_json();
    test_catalog();
    test_index();
    test_caching();
    test_license_setting();
    tl_server_stop(&node.srv);
    free(org_id);
    free(m_tricky);
    free(m_plain);
    free(m_gone);
    return tl_done();
}
