/* API: the role matrix (each role against each write endpoint), anonymous
 * reads, cookie sessions with CSRF protection, and login throttling. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tl_node node;

static char *new_record(const char *path, const char *body)
{
    tl_resp r;
    tl_api(&r, &node, "POST", path, node.token[TL_ADMIN], body, NULL);
    const char *id = json_string_value(json_object_get(r.json, "id"));
    char *out = id ? strdup(id) : strdup("missing");
    tl_resp_free(&r);
    return out;
}

/* One write endpoint of the matrix. The path may contain %s for a fresh
 * record id made by `fresh` for each attempt. */
typedef struct endpoint {
    const char *method, *path, *fresh_path, *fresh_body, *body, *if_match;
    int min_role; /* TL_ADMIN or TL_EDITOR: the weakest role allowed */
} endpoint;

#define ORG "{\"name\":\"Matrix e. V.\",\"kind\":\"civil_society\"}"
#define MEAS "{\"title\":\"Matrixmaßnahme\",\"fields_of_action\":[\"HF5\"]}"

static const endpoint endpoints[] = {
    {"POST", "/api/v1/organisations", NULL, NULL, ORG, NULL, TL_EDITOR},
    {"PATCH", "/api/v1/organisations/%s", "/api/v1/organisations", ORG, "{\"name\":\"Neu\"}",
     "If-Match: \"1\"", TL_EDITOR},
    {"DELETE", "/api/v1/organisations/%s", "/api/v1/organisations", ORG, NULL, NULL, TL_EDITOR},
    {"POST", "/api/v1/measures", NULL, NULL, MEAS, NULL, TL_EDITOR},
    {"PATCH", "/api/v1/measures/%s", "/api/v1/measures", MEAS, "{\"progress\":5}",
     "If-Match: \"1\"", TL_EDITOR},
    {"DELETE", "/api/v1/measures/%s", "/api/v1/measures", MEAS, NULL, NULL, TL_EDITOR},
    {"POST", "/api/v1/measures/%s/progress", "/api/v1/measures", MEAS,
     "{\"date\":\"2025-01-01\",\"title\":\"Stand\"}", NULL, TL_EDITOR},
    {"POST", "/api/v1/users", NULL, NULL, "{\"name\":\"u%d\",\"role\":\"viewer\","
                                          "\"password\":\"ein-langes-passwort\"}",
     NULL, TL_ADMIN},
    {"PATCH", "/api/v1/users/viewer", NULL, NULL, "{\"role\":\"viewer\"}", NULL, TL_ADMIN},
    {"POST", "/api/v1/tokens", NULL, NULL, "{\"name\":\"t%d\",\"role\":\"viewer\"}", NULL,
     TL_ADMIN},
    {"GET", "/api/v1/users", NULL, NULL, NULL, NULL, TL_ADMIN},
    {"GET", "/api/v1/tokens", NULL, NULL, NULL, NULL, TL_ADMIN},
};

static void role_matrix(void)
{
    int counter = 0;
    for (size_t e = 0; e < sizeof endpoints / sizeof endpoints[0]; e++) {
        const endpoint *ep = &endpoints[e];
        /* roles 0..3 then -1 = anonymous */
        for (int r = -1; r < TL_NROLES; r++) {
            char path[256], body[256];
            char *id = ep->fresh_path ? new_record(ep->fresh_path, ep->fresh_body) : NULL;
            snprintf(path, sizeof path, ep->path, id ? id : "");
            if (ep->body)
                snprintf(body, sizeof body, ep->body, counter++);
            tl_resp resp;
            tl_api(&resp, &node, ep->method, path, r >= 0 ? node.token[r] : NULL,
                   ep->body ? body : NULL, ep->if_match);
            bool allowed = r >= 0 && r <= ep->min_role;
            const char *who = r >= 0 ? tl_role_names[r] : "anonymous";
            if (allowed)
                CHECK(resp.status >= 200 && resp.status < 300, "%s %s as %s: %ld, want 2xx (%s)",
                      ep->method, ep->path, who, resp.status, resp.body);
            else
                CHECK(resp.status == (r < 0 ? 401 : 403), "%s %s as %s: %ld, want %d", ep->method,
                      ep->path, who, resp.status, r < 0 ? 401 : 403);
            tl_resp_free(&resp);
            free(id);
        }
    }
    /* Reads of published records need no login. */
    tl_resp resp;
    tl_api(&resp, &node, "GET", "/api/v1/measures", NULL, NULL, NULL);
    CHECK_INT(resp.status, 200, "anonymous list");
    tl_resp_free(&resp);
    tl_api(&resp, &node, "GET", "/api/v1/measures", "dnt_0000000000000000000000000000000000000000000000000000000000000000", NULL, NULL);
    CHECK_INT(resp.status, 200, "a wrong token on a read is just anonymous");
    tl_resp_free(&resp);
    tl_api(&resp, &node, "POST", "/api/v1/measures",
           "dnt_0000000000000000000000000000000000000000000000000000000000000000", MEAS, NULL);
    CHECK_INT(resp.status, 401, "a wrong token cannot write");
    tl_resp_free(&resp);
}

static void revoked_token(void)
{
    char data[600];
    snprintf(data, sizeof data, "%s/node", node.dir);
    const char *ca[] = {"token", "create", "--data", data, "--role", "editor", "shortlived", NULL};
    char *tok = NULL;
    CHECK_INT(tl_dinet(NULL, &tok, ca), 0, "token create");
    tok[strcspn(tok, "\n")] = '\0';
    tl_resp r;
    tl_api(&r, &node, "POST", "/api/v1/measures", tok, MEAS, NULL);
    CHECK_INT(r.status, 201, "fresh token writes");
    tl_resp_free(&r);
    const char *ra[] = {"token", "revoke", "--data", data, "shortlived", NULL};
    CHECK_INT(tl_dinet(NULL, NULL, ra), 0, "token revoke");
    tl_api(&r, &node, "POST", "/api/v1/measures", tok, MEAS, NULL);
    CHECK_INT(r.status, 401, "revoked token is refused");
    tl_resp_free(&r);
    free(tok);
}

static void login(const char *jar, const char *name, const char *pw, tl_resp *r)
{
    char url[256], body[256];
    snprintf(url, sizeof url, "%s/api/v1/session", node.srv.base);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}", name, pw);
    const char *h[] = {"Content-Type: application/json", NULL};
    tl_http(r, "POST", url, h, body, jar);
}

static void csrf(void)
{
    char jar[700];
    snprintf(jar, sizeof jar, "%s/cookies.txt", node.dir);
    tl_resp r;
    login(jar, "editor", TL_PASSWORD, &r);
    CHECK_INT(r.status, 200, "login");
    char *cookie = tl_header(&r, "Set-Cookie");
    CHECK(cookie && strstr(cookie, "HttpOnly") && strstr(cookie, "SameSite=Strict") &&
              !strstr(cookie, "Secure"),
          "session cookie is HttpOnly, SameSite=Strict, not Secure on http: %s", cookie);
    free(cookie);
    char csrf_token[80];
    snprintf(csrf_token, sizeof csrf_token, "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    CHECK_STR(json_string_value(json_object_get(r.json, "role")), "editor", "own role shown");
    tl_resp_free(&r);

    char url[256], hdr[160];
    snprintf(url, sizeof url, "%s/api/v1/measures", node.srv.base);
    const char *no_csrf[] = {"Content-Type: application/json", NULL};
    tl_http(&r, "POST", url, no_csrf, MEAS, jar);
    CHECK_INT(r.status, 403, "cookie write without CSRF token");
    tl_resp_free(&r);
    const char *bad_csrf[] = {"Content-Type: application/json", "X-CSRF-Token: 1234", NULL};
    tl_http(&r, "POST", url, bad_csrf, MEAS, jar);
    CHECK_INT(r.status, 403, "cookie write with a wrong CSRF token");
    tl_resp_free(&r);
    snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", csrf_token);
    const char *good[] = {"Content-Type: application/json", hdr, NULL};
    tl_http(&r, "POST", url, good, MEAS, jar);
    CHECK_INT(r.status, 201, "cookie write with the CSRF token");
    CHECK_STR(json_string_value(json_object_get(r.json, "title")), "Matrixmaßnahme", "stored");
    tl_resp_free(&r);

    char surl[256];
    snprintf(surl, sizeof surl, "%s/api/v1/session", node.srv.base);
    tl_http(&r, "GET", surl, NULL, NULL, jar);
    CHECK(json_is_true(json_object_get(r.json, "authenticated")), "session is known");
    tl_resp_free(&r);
    tl_http(&r, "DELETE", surl, good, NULL, jar);
    CHECK_INT(r.status, 200, "logout");
    tl_resp_free(&r);
    tl_http(&r, "POST", url, good, MEAS, jar);
    CHECK_INT(r.status, 401, "after logout the cookie is worthless");
    tl_resp_free(&r);
}

static void throttling(void)
{
    tl_resp r;
    for (int i = 0; i < 5; i++) {
        login(NULL, "moderator", "falsches-passwort", &r);
        CHECK_INT(r.status, 401, "wrong password");
        tl_resp_free(&r);
    }
    login(NULL, "moderator", TL_PASSWORD, &r);
    CHECK_INT(r.status, 429, "account throttled after 5 failures, even with the right password");
    char *ra = tl_header(&r, "Retry-After");
    CHECK(ra && atoi(ra) > 0, "Retry-After given: %s", ra ? ra : "(none)");
    free(ra);
    tl_resp_free(&r);
    /* Per client address: 20 failures across many names block new names. */
    for (int i = 0; i < 15; i++) {
        char name[32];
        snprintf(name, sizeof name, "niemand%d", i);
        login(NULL, name, "falsches-passwort", &r);
        tl_resp_free(&r);
    }
    login(NULL, "viewer", TL_PASSWORD, &r);
    CHECK_INT(r.status, 429, "client address throttled after 20 failures");
    tl_resp_free(&r);
}

static void settings_and_last_admin(void)
{
    tl_resp r;
    tl_api(&r, &node, "GET", "/api/v1/settings", NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "settings are public");
    CHECK_STR(json_string_value(json_object_get(r.json, "name")), "Integrationsbüro Magdeburg",
              "default name from the configuration");
    char *etag = tl_header(&r, "ETag");
    CHECK_STR(etag, "\"0\"", "never saved: version 0");
    free(etag);
    tl_resp_free(&r);
    const char *body = "{\"contact\":{\"email\":\"integration@magdeburg.example\"},"
                       "\"texts\":{\"impressum\":{\"de\":\"Landeshauptstadt Magdeburg\"}}}";
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_EDITOR], body, "If-Match: \"0\"");
    CHECK_INT(r.status, 403, "editors cannot change settings");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 428, "settings need If-Match");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_ADMIN],
           "{\"contact\":{\"email\":\"kein-at\"}}", "If-Match: \"0\"");
    CHECK_INT(r.status, 422, "a bad e-mail address is refused");
    CHECK(strstr(r.body, "contact.email") != NULL, "the error names contact.email");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_ADMIN], body, "If-Match: \"0\"");
    CHECK_INT(r.status, 200, "an admin saves the settings");
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 1, "version 1");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_ADMIN], body, "If-Match: \"0\"");
    CHECK_INT(r.status, 412, "a stale settings edit is refused");
    CHECK(json_object_get(r.json, "current") != NULL, "412 carries the stored settings");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/settings", NULL, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(r.json, "texts"),
                                                                "impressum"),
                                                "de")),
              "Landeshauptstadt Magdeburg", "Impressum text stored");
    tl_resp_free(&r);

    /* The last active admin cannot be demoted or disabled. */
    tl_api(&r, &node, "PATCH", "/api/v1/users/admin", node.token[TL_ADMIN],
           "{\"role\":\"editor\"}", NULL);
    CHECK_INT(r.status, 409, "the last admin cannot be demoted");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/users/admin", node.token[TL_ADMIN], "{\"disabled\":true}",
           NULL);
    CHECK_INT(r.status, 409, "the last admin cannot be disabled");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/users/editor", node.token[TL_ADMIN],
           "{\"role\":\"admin\"}", NULL);
    CHECK_INT(r.status, 200, "make a second admin");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/users/admin", node.token[TL_ADMIN],
           "{\"role\":\"editor\"}", NULL);
    CHECK_INT(r.status, 200, "now the first admin may step down");
    tl_resp_free(&r);

    /* Recent changes across records, newest first. */
    tl_api(&r, &node, "GET", "/api/v1/changes?limit=2", node.token[TL_VIEWER], NULL, NULL);
    CHECK_INT(r.status, 200, "changes");
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    CHECK(json_string_value(json_object_get(first, "op")) &&
              json_string_value(json_object_get(first, "actor")) &&
              json_is_array(json_object_get(first, "fields")),
          "a change names op, actor and fields");
    CHECK(json_string_value(json_object_get(r.json, "next_cursor")) != NULL, "changes page on");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", "/api/v1/changes?limit=2", NULL, NULL, NULL);
    CHECK(!json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "actor"),
          "anonymous readers do not see who changed what");
    tl_resp_free(&r);
}

int main(void)
{
    if (tl_node_setup(&node, "access", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    role_matrix();
    revoked_token();
    csrf();
    throttling();
    settings_and_last_admin();
    tl_server_stop(&node.srv);
    return tl_done();
}
