/* API: every validation rule answers 4xx with an RFC 9457 problem document
 * naming the offending field, and nothing is stored. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tl_node node;
#define EDITOR node.token[TL_EDITOR]

static long long total(const char *kind)
{
    tl_resp r;
    char path[64];
    snprintf(path, sizeof path, "/api/v1/%s?limit=1", kind);
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    long long t = json_integer_value(json_object_get(r.json, "total"));
    tl_resp_free(&r);
    return t;
}

static bool names_field(const tl_resp *r, const char *field)
{
    json_t *errs = json_object_get(r->json, "errors");
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (f && strcmp(f, field) == 0)
            return true;
    }
    return false;
}

/* Sends body (raw) with content type ctype and expects status and field. */
static void expect(const char *method, const char *path, const char *body, const char *ctype,
                   const char *extra, long status, const char *field, const char *what)
{
    char url[512], auth[160], ct[128];
    snprintf(url, sizeof url, "%s%s", node.srv.base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", EDITOR);
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    const char *hdrs[] = {auth, ct, extra, NULL};
    tl_resp r;
    tl_http(&r, method, url, hdrs, body, NULL);
    CHECK(r.status == status, "%s: status %ld, want %ld (%s)", what, r.status, status, r.body);
    char *rct = tl_header(&r, "Content-Type");
    CHECK(rct && strstr(rct, "application/problem+json"), "%s: problem+json", what);
    free(rct);
    CHECK(json_integer_value(json_object_get(r.json, "status")) == status &&
              json_string_value(json_object_get(r.json, "title")),
          "%s: problem has status and title", what);
    if (field)
        CHECK(names_field(&r, field), "%s: names field '%s' in %s", what, field, r.body);
    tl_resp_free(&r);
}

static char org_id[64];

static void measure_rules(void)
{
    long long before = total("measures");
    const char *P = "/api/v1/measures";
    expect("POST", P, "{\"title\": \"kaputt\"", NULL, NULL, 400, "body", "invalid JSON");
    expect("POST", P, "[1,2]", NULL, NULL, 400, "body", "not an object");
    expect("POST", P, "{\"title\":\"\xC3\x28\",\"fields_of_action\":[\"HF1\"]}", NULL, NULL, 400,
           "body", "invalid UTF-8");
    expect("POST", P, "{\"title\":\"a\",\"fields_of_action\":[\"HF1\"]}", "text/plain", NULL, 415,
           "Content-Type", "wrong content type");
    expect("POST", P, "{\"title\":42,\"fields_of_action\":[\"HF1\"]}", NULL, NULL, 422, "title",
           "title of the wrong type");
    expect("POST", P, "{\"fields_of_action\":[\"HF1\"]}", NULL, NULL, 422, "title",
           "missing title");
    expect("POST", P, "{\"title\":\"   \",\"fields_of_action\":[\"HF1\"]}", NULL, NULL, 422,
           "title", "blank title");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":\"HF1\"}", NULL, NULL, 422,
           "fields_of_action", "fields_of_action not an array");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF9\"]}", NULL, NULL, 422,
           "fields_of_action[0]", "unknown field of action");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[]}", NULL, NULL, 422,
           "fields_of_action", "no field of action");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"themes\":[\"QT7\"]}",
           NULL, NULL, 422, "themes[0]", "unknown theme");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"status\":\"done\"}",
           NULL, NULL, 422, "status", "unknown status");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"progress\":101}", NULL,
           NULL, 422, "progress", "progress above 100");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"progress\":-1}", NULL,
           NULL, 422, "progress", "progress below 0");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"progress\":\"50\"}",
           NULL, NULL, 422, "progress", "progress as a string");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"progress\":50.5}", NULL,
           NULL, 422, "progress", "fractional progress");
    expect("POST", P,
           "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"start_date\":\"2025-05-01\","
           "\"end_date\":\"2025-04-30\"}",
           NULL, NULL, 422, "end_date", "end before start");
    expect("POST", P,
           "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"start_date\":\"2025-02-30\"}", NULL,
           NULL, 422, "start_date", "impossible date");
    expect("POST", P,
           "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"lead_organisation\":\"o-nope\"}",
           NULL, NULL, 422, "lead_organisation", "unknown lead organisation");
    expect("POST", P,
           "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"partner_organisations\":[\"o-nope\"]}",
           NULL, NULL, 422, "partner_organisations[0]", "unknown partner organisation");
    expect("POST", P,
           "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"indicators\":[{\"unit\":\"%\"}]}",
           NULL, NULL, 422, "indicators[0].name", "indicator without name");
    expect("POST", P,
           "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"indicators\":[{\"name\":\"n\","
           "\"values\":[{\"date\":\"2025-13-01\",\"value\":1}]}]}",
           NULL, NULL, 422, "indicators[0].values[0]", "indicator value with bad date");
    expect("POST", P, "{\"title\":\"x\",\"fields_of_action\":[\"HF1\"],\"colour\":\"red\"}", NULL,
           NULL, 422, "colour", "unknown field");
    expect("POST", P, "{\"title\":\"x\",\"title\":\"y\",\"fields_of_action\":[\"HF1\"]}", NULL,
           NULL, 400, "body", "duplicate keys");
    /* A body over the limit (1 MiB by default) is refused. */
    size_t big = 1100 * 1024;
    char *huge = malloc(big + 64);
    memcpy(huge, "{\"title\":\"", 10);
    memset(huge + 10, 'a', big);
    memcpy(huge + 10 + big, "\",\"fields_of_action\":[\"HF1\"]}", 30);
    expect("POST", P, huge, NULL, NULL, 413, "body", "oversized body");
    free(huge);
    CHECK_INT(total("measures"), before, "nothing was stored by invalid creates");

    /* Updates: invalid patches leave the stored record as it was. */
    tl_resp r;
    char body[256];
    snprintf(body, sizeof body,
             "{\"title\":\"Gültig\",\"fields_of_action\":[\"HF2\"],\"progress\":10,"
             "\"start_date\":\"2025-01-01\",\"lead_organisation\":\"%s\"}",
             org_id);
    tl_api(&r, &node, "POST", P, EDITOR, body, NULL);
    CHECK_INT(r.status, 201, "valid create");
    char path[128];
    snprintf(path, sizeof path, "%s/%s", P, json_string_value(json_object_get(r.json, "id")));
    tl_resp_free(&r);
    expect("PATCH", path, "{\"progress\":150}", NULL, "If-Match: \"1\"", 422, "progress",
           "patch progress above 100");
    expect("PATCH", path, "{\"end_date\":\"2024-12-31\"}", NULL, "If-Match: \"1\"", 422,
           "end_date", "patch end before stored start");
    expect("PATCH", path, "{\"fields_of_action\":[\"HFX\"]}", NULL, "If-Match: \"1\"", 422,
           "fields_of_action[0]", "patch unknown code");
    expect("PATCH", path, "{\"title\":null}", NULL, "If-Match: \"1\"", 422, "title",
           "patch removes required title");
    expect("PATCH", path, "{\"title\":\"x\"}", NULL, "If-Match: \"abc\"", 400, "If-Match",
           "malformed If-Match");
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 1,
              "rejected patches made no version");
    CHECK_INT(json_integer_value(json_object_get(r.json, "progress")), 10, "progress unchanged");
    CHECK_STR(json_string_value(json_object_get(r.json, "title")), "Gültig", "title unchanged");
    tl_resp_free(&r);

    /* Progress entries. */
    char ppath[160];
    snprintf(ppath, sizeof ppath, "%s/progress", path);
    expect("POST", ppath, "{\"title\":\"ohne Datum\"}", NULL, NULL, 422, "date",
           "progress entry without date");
    expect("POST", ppath, "{\"date\":\"2025-01-01\",\"title\":\"t\",\"progress\":200}", NULL,
           NULL, 422, "progress", "progress entry progress above 100");
    expect("POST", "/api/v1/measures/m-nope/progress", "{\"date\":\"2025-01-01\",\"title\":\"t\"}",
           NULL, NULL, 404, NULL, "progress entry for an unknown measure");
}

static void organisation_rules(void)
{
    long long before = total("organisations");
    const char *P = "/api/v1/organisations";
    expect("POST", P, "{\"kind\":\"welfare\"}", NULL, NULL, 422, "name", "missing name");
    expect("POST", P, "{\"name\":\"n\",\"kind\":\"church\"}", NULL, NULL, 422, "kind",
           "unknown kind");
    expect("POST", P, "{\"name\":\"n\",\"kind\":\"welfare\",\"website\":\"ftp://x\"}", NULL, NULL,
           422, "website", "bad website");
    expect("POST", P, "{\"name\":\"n\",\"kind\":\"welfare\",\"languages\":[\"Deutsch\"]}", NULL,
           NULL, 422, "languages[0]", "bad language code");
    expect("POST", P, "{\"name\":\"n\",\"kind\":\"welfare\",\"contact\":{\"email\":\"nope\"}}",
           NULL, NULL, 422, "contact.email", "bad e-mail");
    expect("POST", P,
           "{\"name\":\"n\",\"kind\":\"welfare\",\"address\":{\"postal_code\":\"123\"}}", NULL,
           NULL, 422, "address.postal_code", "bad postal code");
    expect("POST", P,
           "{\"name\":\"n\",\"kind\":\"welfare\",\"location\":{\"lat\":95,\"lon\":11}}", NULL,
           NULL, 422, "location", "latitude out of range");
    expect("POST", P, "{\"name\":\"n\",\"kind\":\"welfare\",\"fields_of_action\":[\"QT1\"]}",
           NULL, NULL, 422, "fields_of_action[0]", "theme code as a field of action");
    CHECK_INT(total("organisations"), before, "nothing was stored by invalid creates");
}

static void filter_rules(void)
{
    tl_resp r;
    tl_api(&r, &node, "GET", "/api/v1/measures?limit=0", NULL, NULL, NULL);
    CHECK_INT(r.status, 400, "limit 0");
    CHECK(names_field(&r, "limit"), "limit named");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?field_of_action=HF8", NULL, NULL, NULL);
    CHECK_INT(r.status, 400, "unknown field filter");
    CHECK(names_field(&r, "field_of_action"), "field_of_action named");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?status=finished", NULL, NULL, NULL);
    CHECK_INT(r.status, 400, "unknown status filter");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/measures?q=%22%29%20OR%20%2A", NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "search text with FTS syntax characters is taken literally");
    tl_resp_free(&r);
}

int main(void)
{
    if (tl_node_setup(&node, "validation", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    tl_resp r;
    tl_api(&r, &node, "POST", "/api/v1/organisations", EDITOR,
           "{\"name\":\"Träger\",\"kind\":\"civil_society\"}", NULL);
    snprintf(org_id, sizeof org_id, "%s", json_string_value(json_object_get(r.json, "id")));
    tl_resp_free(&r);
    measure_rules();
    organisation_rules();
    filter_rules();
    tl_server_stop(&node.srv);
    return tl_done();
}
