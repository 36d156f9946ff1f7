/* API: create → read → update → delete round trips for organisations,
 * measures and progress entries; versions, ETag/If-Match, history, list
 * filters, paging and full-text search. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tl_node node;
#define EDITOR node.token[TL_EDITOR]

static char *create(const char *path, const char *body)
{
    tl_resp r;
    tl_api(&r, &node, "POST", path, EDITOR, body, NULL);
    CHECK_INT(r.status, 201, path);
    const char *id = json_string_value(json_object_get(r.json, "id"));
    char *out = id ? strdup(id) : NULL;
    tl_resp_free(&r);
    return out;
}

static void test_organisation_round_trip(void)
{
    tl_resp r;
    tl_api(&r, &node, "POST", "/api/v1/organisations", EDITOR,
           "{\"name\":\"Caritas Beratungsstelle\",\"kind\":\"welfare\","
           "\"fields_of_action\":[\"HF2\"],\"languages\":[\"de\",\"ar\"],"
           "\"website\":\"https://caritas.example\","
           "\"contact\":{\"email\":\"info@caritas.example\"},"
           "\"address\":{\"street\":\"Domplatz 1\",\"postal_code\":\"39104\",\"city\":\"Magdeburg\"},"
           "\"location\":{\"lat\":52.13,\"lon\":11.64}}",
           NULL);
    CHECK_INT(r.status, 201, "create organisation");
    char *loc = tl_header(&r, "Location");
    const char *id = json_string_value(json_object_get(r.json, "id"));
    CHECK(id && strncmp(id, "o-", 2) == 0, "organisation id has prefix o-: %s", id ? id : "(null)");
    CHECK(loc && id && strncmp(loc, "/api/v1/organisations/", 22) == 0 && strstr(loc, id),
          "Location is the API address of the record: %s", loc);
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 1, "version 1");
    char oid[64];
    snprintf(oid, sizeof oid, "%s", id ? id : "none");
    free(loc);
    tl_resp_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/api/v1/organisations/%s", oid);
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "anonymous read of a published organisation");
    CHECK_STR(json_string_value(json_object_get(r.json, "name")), "Caritas Beratungsstelle",
              "name read back");
    CHECK_STR(json_string_value(json_object_get(json_object_get(r.json, "address"), "city")),
              "Magdeburg", "address read back");
    char *etag = tl_header(&r, "ETag");
    CHECK_STR(etag, "\"1\"", "ETag is the version");
    free(etag);
    tl_resp_free(&r);

    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"name\":\"Caritas Migrationsberatung\"}",
           "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "update with the right version");
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 2, "version 2");
    CHECK_STR(json_string_value(json_object_get(r.json, "kind")), "welfare",
              "fields not in the patch are kept");
    tl_resp_free(&r);

    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"name\":\"Noch ein Name\"}", "If-Match: \"1\"");
    CHECK_INT(r.status, 412, "stale If-Match");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.json, "current"), "version")),
              2, "412 carries the stored version");
    CHECK_STR(json_string_value(json_object_get(json_object_get(r.json, "current"), "name")),
              "Caritas Migrationsberatung", "412 carries the stored document");
    tl_resp_free(&r);

    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"name\":\"Ohne Version\"}", NULL);
    CHECK_INT(r.status, 428, "PATCH without If-Match");
    tl_resp_free(&r);

    char hpath[160];
    snprintf(hpath, sizeof hpath, "%s/history", path);
    tl_api(&r, &node, "GET", hpath, EDITOR, NULL, NULL);
    CHECK_INT(r.status, 200, "history");
    json_t *h = json_object_get(r.json, "history");
    CHECK_INT(json_array_size(h), 2, "two history entries");
    json_t *ch = json_object_get(json_object_get(json_array_get(h, 1), "changes"), "name");
    CHECK_STR(json_string_value(json_object_get(ch, "from")), "Caritas Beratungsstelle",
              "history: from");
    CHECK_STR(json_string_value(json_object_get(ch, "to")), "Caritas Migrationsberatung",
              "history: to");
    CHECK_STR(json_string_value(json_object_get(json_array_get(h, 1), "actor")),
              "token:editor-token", "history: who");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", hpath, NULL, NULL, NULL);
    CHECK(json_array_size(json_object_get(r.json, "history")) == 2 &&
              !json_object_get(json_array_get(json_object_get(r.json, "history"), 0), "actor"),
          "anonymous history hides who changed it");
    tl_resp_free(&r);

    tl_api(&r, &node, "DELETE", path, EDITOR, NULL, "If-Match: \"2\"");
    CHECK_INT(r.status, 200, "delete");
    CHECK(json_object_get(r.json, "deleted") != NULL, "delete answers with the tombstone");
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 3,
              "tombstone has a higher version");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 410, "deleted record is gone");
    tl_resp_free(&r);
    tl_api(&r, &node, "DELETE", path, EDITOR, NULL, NULL);
    CHECK_INT(r.status, 410, "deleting twice");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/organisations/o-doesnotexist", NULL, NULL, NULL);
    CHECK_INT(r.status, 404, "unknown id");
    tl_resp_free(&r);
}

static void test_measure_and_progress(void)
{
    char *org = create("/api/v1/organisations",
                       "{\"name\":\"Volkshochschule Magdeburg\",\"kind\":\"education\"}");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"title\":\"Sprachförderung für Eltern\",\"description\":\"Elternkurse\","
             "\"fields_of_action\":[\"HF3\"],\"themes\":[\"QT2\"],\"status\":\"active\","
             "\"progress\":40,\"start_date\":\"2025-01-01\",\"end_date\":\"2025-12-31\","
             "\"lead_organisation\":\"%s\",\"partner_organisations\":[],"
             "\"target_groups\":[\"Eltern\"],"
             "\"indicators\":[{\"name\":\"Teilnehmende\",\"unit\":\"Personen\",\"baseline\":0,"
             "\"target\":50,\"values\":[{\"date\":\"2025-06-30\",\"value\":21}]}]}",
             org ? org : "x");
    char *m = create("/api/v1/measures", body);
    CHECK(m && strncmp(m, "m-", 2) == 0, "measure id");
    char path[160];
    snprintf(path, sizeof path, "/api/v1/measures/%s", m ? m : "x");
    tl_resp r;
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "read measure");
    json_t *ind = json_array_get(json_object_get(r.json, "indicators"), 0);
    CHECK_INT(json_number_value(json_object_get(json_array_get(json_object_get(ind, "values"), 0),
                                                "value")),
              21, "indicator value read back");
    CHECK_STR(json_string_value(json_object_get(r.json, "lead_organisation")), org, "lead");
    tl_resp_free(&r);

    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"status\":\"completed\",\"progress\":100}",
           "If-Match: 1");
    CHECK_INT(r.status, 200, "update measure");
    CHECK_STR(json_string_value(json_object_get(r.json, "status")), "completed", "new status");
    tl_resp_free(&r);

    char ppath[200];
    snprintf(ppath, sizeof ppath, "%s/progress", path);
    char *p = create(ppath, "{\"date\":\"2025-07-01\",\"title\":\"Kurs gestartet\","
                            "\"text\":\"Zwei Gruppen laufen.\",\"progress\":50}");
    CHECK(p && strncmp(p, "p-", 2) == 0, "progress entry id");
    tl_api(&r, &node, "GET", ppath, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "list progress entries");
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 1, "one progress entry");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "measure")),
              m, "entry names its measure");
    tl_resp_free(&r);
    char epath[160];
    snprintf(epath, sizeof epath, "/api/v1/progress/%s", p ? p : "x");
    tl_api(&r, &node, "PATCH", epath, EDITOR, "{\"title\":\"Kurs gestartet (2 Gruppen)\"}",
           "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "update progress entry");
    tl_resp_free(&r);
    tl_api(&r, &node, "DELETE", epath, EDITOR, NULL, NULL);
    CHECK_INT(r.status, 200, "delete progress entry");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", ppath, NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 0,
              "deleted entry leaves the list");
    tl_resp_free(&r);

    /* Filters: by organisation, field, theme, status; all combine. */
    char q[256];
    snprintf(q, sizeof q, "/api/v1/measures?organisation=%s&field_of_action=HF3,HF4&theme=QT2"
                          "&status=completed", org ? org : "x");
    tl_api(&r, &node, "GET", q, NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 1, "combined filters match");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?field_of_action=HF7", NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 0, "other field: none");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?status=planned", NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 0, "other status: none");
    tl_resp_free(&r);
    /* Trigram search finds a part of a German compound, case-insensitively. */
    tl_api(&r, &node, "GET", "/api/v1/measures?q=f%C3%B6rderung", NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 1, "q=förderung");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?q=ELTERNKURS", NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 1, "search in description");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?q=Pflegeheim", NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 0, "no false match");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/organisations?kind=education&q=hochschule", NULL, NULL,
           NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 1, "organisation search");
    tl_resp_free(&r);
    free(org);
    free(m);
    free(p);
}

/* Deleting things others refer to keeps the rest editable and consistent. */
static void test_delete_consequences(void)
{
    char *org = create("/api/v1/organisations", "{\"name\":\"Bald weg\",\"kind\":\"other\"}");
    char body[512];
    snprintf(body, sizeof body,
             "{\"title\":\"Mit Partner\",\"fields_of_action\":[\"HF2\"],"
             "\"lead_organisation\":\"%s\",\"partner_organisations\":[\"%s\"]}",
             org, org);
    char *m = create("/api/v1/measures", body);
    char path[160], opath[160], ppath[200];
    snprintf(path, sizeof path, "/api/v1/measures/%s", m ? m : "x");
    snprintf(opath, sizeof opath, "/api/v1/organisations/%s", org ? org : "x");
    snprintf(ppath, sizeof ppath, "%s/progress", path);
    char *p = create(ppath, "{\"date\":\"2025-02-01\",\"title\":\"Start\"}");
    tl_resp r;
    tl_api(&r, &node, "DELETE", opath, EDITOR, NULL, NULL);
    CHECK_INT(r.status, 200, "delete the lead organisation");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"status\":\"active\"}", "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "a measure whose organisation was deleted stays editable");
    tl_resp_free(&r);
    snprintf(body, sizeof body, "{\"partner_organisations\":[\"%s\",\"%s\"]}", org, org);
    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"lead_organisation\":\"o-neverexisted\"}",
           "If-Match: \"2\"");
    CHECK_INT(r.status, 422, "but a new unknown organisation is still refused");
    tl_resp_free(&r);
    tl_api(&r, &node, "DELETE", path, EDITOR, NULL, NULL);
    CHECK_INT(r.status, 200, "delete the measure");
    tl_resp_free(&r);
    char epath[160];
    snprintf(epath, sizeof epath, "/api/v1/progress/%s", p ? p : "x");
    tl_api(&r, &node, "GET", epath, NULL, NULL, NULL);
    CHECK_INT(r.status, 410, "its progress entries are deleted with it");
    tl_resp_free(&r);
    free(org);
    free(m);
    free(p);
}

static void test_paging(void)
{
    char *ids[7];
    for (int i = 0; i < 7; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"title\":\"Seitentest %d\",\"fields_of_action\":[\"HF5\"]}",
                 i);
        ids[i] = create("/api/v1/measures", body);
    }
    char path[256] = "/api/v1/measures?field_of_action=HF5&limit=3";
    int seen = 0, pages = 0;
    char got[7][40];
    while (pages < 5) {
        tl_resp r;
        tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
        CHECK_INT(json_integer_value(json_object_get(r.json, "total")), 7, "total on every page");
        json_t *items = json_object_get(r.json, "items");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (seen < 7)
                snprintf(got[seen], sizeof got[0], "%s",
                         json_string_value(json_object_get(it, "id")));
            seen++;
        }
        pages++;
        const char *next = json_string_value(json_object_get(r.json, "next_cursor"));
        if (!next) {
            tl_resp_free(&r);
            break;
        }
        snprintf(path, sizeof path, "/api/v1/measures?field_of_action=HF5&limit=3&cursor=%s",
                 next);
        tl_resp_free(&r);
    }
    CHECK_INT(seen, 7, "paging visits every record once");
    CHECK_INT(pages, 3, "three pages of 3");
    /* Newest first. */
    CHECK_STR(got[0], ids[6], "first item is the newest");
    CHECK_STR(got[6], ids[0], "last item is the oldest");
    for (int i = 0; i < 7; i++)
        free(ids[i]);
}

static void test_taxonomy_and_docs(void)
{
    tl_resp r;
    tl_api(&r, &node, "GET", "/api/v1/taxonomy", NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "taxonomy");
    json_t *f = json_object_get(r.json, "fields_of_action");
    CHECK_INT(json_array_size(f), 7, "seven fields of action");
    CHECK_INT(json_array_size(json_object_get(r.json, "themes")), 3, "three themes");
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(f, 2), "name"), "de")),
              "Bildungsintegration und Sprachförderung", "HF3 German name");
    CHECK_STR(json_string_value(json_object_get(r.json, "scheme")), "LIK2020", "scheme version");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "openapi served");
    CHECK(json_string_value(json_object_get(r.json, "openapi")) &&
              strncmp(json_string_value(json_object_get(r.json, "openapi")), "3.1", 3) == 0,
          "OpenAPI 3.1");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/nothing-here", NULL, NULL, NULL);
    CHECK_INT(r.status, 404, "unknown route");
    char *ct = tl_header(&r, "Content-Type");
    CHECK(ct && strstr(ct, "application/problem+json"), "404 is a problem document");
    free(ct);
    tl_resp_free(&r);
    tl_api(&r, &node, "PUT", "/api/v1/measures", EDITOR, "{}", NULL);
    CHECK_INT(r.status, 405, "wrong method");
    tl_resp_free(&r);
}

int main(void)
{
    if (tl_node_setup(&node, "records", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    test_organisation_round_trip();
    test_measure_and_progress();
    test_delete_consequences();
    test_paging();
    test_taxonomy_and_docs();
    CHECK_INT(tl_server_stop(&node.srv), 0, "clean shutdown");
    return tl_done();
}
