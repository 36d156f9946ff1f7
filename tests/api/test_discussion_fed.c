/* Federation of the discussion between two real nodes on loopback: a
 * district (15003) and the state aggregator that registered it (real keys,
 * real signatures, the delivery queue).
 *
 *  1. A participant's comment, approved on the district, is delivered as
 *     Create{Note} and replicated by the state: visible in the state's
 *     /api/v1/measures/{id}/comments with district 15003, and on the state's
 *     measure page.
 *  2. A reply (inReplyTo the first comment) keeps its parent on the state.
 *  3. Hidden by the district's moderator → Delete → gone on the state.
 *  4. The participant deletes the account → Delete → the remaining comment
 *     is gone on the state.
 *  5. A state that missed the deliveries gets the comments by backfill from
 *     the district's outbox (a second state registered afterwards). */
#include "testlib.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tl_node D, S, S2;
static char measure[64];

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool wait_for(bool (*fn)(void *), void *arg, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (fn(arg))
            return true;
        usleep(100000);
    }
    return fn(arg);
}

typedef struct want {
    tl_node *n;
    const char *needle;
    bool present;
} want;

static bool state_thread_has(void *arg)
{
    want *w = arg;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    tl_resp r;
    tl_api(&r, w->n, "GET", path, NULL, NULL, NULL);
    bool has = r.status == 200 && r.body && strstr(r.body, w->needle);
    tl_resp_free(&r);
    return has == w->present;
}

static bool state_has_measure(void *arg)
{
    tl_node *n = arg;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s", measure);
    tl_resp r;
    tl_api(&r, n, "GET", path, NULL, NULL, NULL);
    bool ok = r.status == 200;
    tl_resp_free(&r);
    return ok;
}

static void register_at(tl_node *state)
{
    char actor[128];
    snprintf(actor, sizeof actor, "%s/actor", D.srv.base);
    const char *argv[] = {"district", "add", "--data", tl_node_data(state), "--code", "15003",
                          actor,      NULL};
    char *out = NULL;
    CHECK_INT(tl_dinet(NULL, &out, argv), 0, "dinet district add");
    free(out);
}

typedef struct sess {
    char jar[700], csrf[80];
} sess;

static long sx(tl_resp *r, sess *s, const char *method, const char *path, const char *body)
{
    char url[512], hdr[128];
    snprintf(url, sizeof url, "%s%s", D.srv.base, path);
    snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", s->csrf);
    const char *h[] = {"Content-Type: application/json", hdr, NULL};
    tl_http(r, method, url, h, body, s->jar);
    return r->status;
}

static char *post(sess *s, const char *content, const char *parent)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    json_t *b = json_pack("{s:s}", "content", content);
    if (parent)
        json_object_set_new(b, "parent", json_string(parent));
    char *body = json_dumps(b, 0);
    json_decref(b);
    tl_resp r;
    sx(&r, s, "POST", path, body);
    free(body);
    CHECK_INT(r.status, 201, "comment posted on the district");
    CHECK_STR(jstr(r.json, "status"), "pending", "pre-moderated");
    char *id = strdup(jstr(r.json, "id") ? jstr(r.json, "id") : "?");
    tl_resp_free(&r);
    char mp[128];
    snprintf(mp, sizeof mp, "/api/v1/comments/%s/moderation", id);
    tl_api(&r, &D, "POST", mp, D.token[TL_MODERATOR], "{\"action\":\"approve\"}", NULL);
    CHECK_INT(r.status, 200, "moderator approves on the district");
    tl_resp_free(&r);
    return id;
}

int main(void)
{
    if (tl_node_setup_role(&D, "discfed-d", "district", "15003", NULL) ||
        tl_node_setup_state(&S, "discfed-s", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    register_at(&S);
    tl_resp r;
    tl_api(&r, &D, "POST", "/api/v1/measures", D.token[TL_EDITOR],
           "{\"title\":\"Elternlotsen\",\"fields_of_action\":[\"HF2\"]}", NULL);
    CHECK_INT(r.status, 201, "measure on the district");
    snprintf(measure, sizeof measure, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "?");
    tl_resp_free(&r);
    CHECK(wait_for(state_has_measure, &S, 60), "the state has the measure");

    tl_api(&r, &D, "POST", "/api/v1/users", D.token[TL_ADMIN],
           "{\"name\":\"paula\",\"role\":\"participant\",\"password\":\"" TL_PASSWORD "\"}", NULL);
    CHECK_INT(r.status, 201, "participant account made by the admin");
    tl_resp_free(&r);
    sess p;
    snprintf(p.jar, sizeof p.jar, "%s/jar-paula.txt", D.dir);
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/session", D.srv.base);
    const char *h[] = {"Content-Type: application/json", NULL};
    tl_http(&r, "POST", url, h, "{\"name\":\"paula\",\"password\":\"" TL_PASSWORD "\"}", p.jar);
    CHECK_INT(r.status, 200, "participant logs in");
    snprintf(p.csrf, sizeof p.csrf, "%s", jstr(r.json, "csrf_token") ? jstr(r.json, "csrf_token") : "");
    tl_resp_free(&r);

    /* 1. Approved → replicated. */
    char *c1 = post(&p, "Gibt es auch Termine am Samstag?", NULL);
    want w = {&S, "Termine am Samstag", true};
    CHECK(wait_for(state_thread_has, &w, 60), "the comment reached the state");
    char path[160];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    tl_api(&r, &S, "GET", path, NULL, NULL, NULL);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    CHECK_STR(jstr(it, "district"), "15003", "state: the comment's district");
    CHECK_STR(jstr(json_object_get(it, "author"), "kind"), "district", "state: author kind");
    CHECK_STR(jstr(it, "author_name"), "paula", "state: author name");
    char home[256];
    snprintf(home, sizeof home, "%s/comments/%s", D.srv.base, c1);
    CHECK_STR(jstr(it, "home_url"), home, "state: home_url is the district's Note");
    char state_c1[64];
    snprintf(state_c1, sizeof state_c1, "%s", jstr(it, "id") ? jstr(it, "id") : "?");
    tl_resp_free(&r);
    snprintf(url, sizeof url, "%s/measures/%s", S.srv.base, measure);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK(r.body && strstr(r.body, "Termine am Samstag"), "state's measure page shows it");
    CHECK(r.body && strstr(r.body, "Magdeburg"), "state's page names the district");
    CHECK(r.body && !strstr(r.body, "/admin/#/discuss/"), "no discussion link on the state");
    tl_resp_free(&r);
    /* The state refuses local comments. */
    tl_api(&r, &S, "POST", path, S.token[TL_ADMIN], "{\"content\":\"x\"}", NULL);
    CHECK(r.status == 403 || r.status == 409, "no comments written on the state: %ld", r.status);
    tl_resp_free(&r);

    /* 2. A reply keeps its parent. */
    char *c2 = post(&p, "Und in den Ferien?", c1);
    want w2 = {&S, "in den Ferien", true};
    CHECK(wait_for(state_thread_has, &w2, 60), "the reply reached the state");
    tl_api(&r, &S, "GET", path, NULL, NULL, NULL);
    size_t i;
    bool parent_ok = false;
    json_array_foreach(json_object_get(r.json, "items"), i, it) if (jstr(it, "content") &&
                                                                   strstr(jstr(it, "content"),
                                                                          "Ferien"))
        parent_ok = jstr(it, "parent") && !strcmp(jstr(it, "parent"), state_c1);
    CHECK(parent_ok, "state: the reply's parent is the first comment");
    tl_resp_free(&r);

    /* 3. Hidden → Delete → gone on the state. */
    char mp[128];
    snprintf(mp, sizeof mp, "/api/v1/comments/%s/moderation", c1);
    tl_api(&r, &D, "POST", mp, D.token[TL_MODERATOR],
           "{\"action\":\"hide\",\"reason\":\"Doppelt\"}", NULL);
    CHECK_INT(r.status, 200, "hidden on the district");
    tl_resp_free(&r);
    want w3 = {&S, "Termine am Samstag", false};
    CHECK(wait_for(state_thread_has, &w3, 60), "hidden comment gone on the state");
    /* The Delete names the version it removes, so a state can ignore it when
     * the re-approval (a Create with a higher version) overtook it. */
    char op[700];
    char *enc = curl_easy_escape(NULL, home, 0);
    snprintf(op, sizeof op, "/actor/outbox?object=%s", enc ? enc : "");
    curl_free(enc);
    tl_api(&r, &D, "GET", op, NULL, NULL, NULL);
    const json_t *tomb = json_object_get(r.json, "object");
    CHECK(r.status == 200 && !strcmp(jstr(r.json, "type") ? jstr(r.json, "type") : "", "Delete") &&
              json_integer_value(json_object_get(tomb, "recordVersion")) >= 2,
          "the Delete's Tombstone carries the comment's version (%ld, %lld)", r.status,
          (long long)json_integer_value(json_object_get(tomb, "recordVersion")));
    tl_resp_free(&r);
    /* Restored: back on the state (its stored version moved with the
     * Delete, the new Create is newer), then hidden again for what follows. */
    tl_api(&r, &D, "POST", mp, D.token[TL_MODERATOR], "{\"action\":\"restore\"}", NULL);
    CHECK_INT(r.status, 200, "restored on the district");
    tl_resp_free(&r);
    want w3b = {&S, "Termine am Samstag", true};
    CHECK(wait_for(state_thread_has, &w3b, 60), "restored comment back on the state");
    tl_api(&r, &D, "POST", mp, D.token[TL_MODERATOR],
           "{\"action\":\"hide\",\"reason\":\"Doppelt\"}", NULL);
    CHECK_INT(r.status, 200, "hidden again");
    tl_resp_free(&r);
    CHECK(wait_for(state_thread_has, &w3, 60), "hidden again: gone on the state");

    /* 4. Account deletion → the reply is gone on the state. */
    CHECK_INT(sx(&r, &p, "DELETE", "/api/v1/me", "{\"password\":\"" TL_PASSWORD "\"}"), 200,
              "participant deletes the account");
    tl_resp_free(&r);
    want w4 = {&S, "in den Ferien", false};
    CHECK(wait_for(state_thread_has, &w4, 60), "the account's comment gone on the state");

    /* 5. Backfill: a state registered now reads the outbox from the start
     * and ends with the same (empty) discussion, the measure included. */
    if (tl_node_setup_state(&S2, "discfed-s2", NULL) == 0) {
        register_at(&S2);
        CHECK(wait_for(state_has_measure, &S2, 60), "second state has the measure");
        want w5 = {&S2, "in den Ferien", false}, w6 = {&S2, "Termine", false};
        CHECK(state_thread_has(&w5) && state_thread_has(&w6),
              "backfill replays Create and Delete: nothing left");
        /* A new comment reaches both. */
        tl_api(&r, &D, "POST", "/api/v1/users", D.token[TL_ADMIN],
               "{\"name\":\"quirin\",\"role\":\"participant\",\"password\":\"" TL_PASSWORD "\"}",
               NULL);
        tl_resp_free(&r);
        snprintf(p.jar, sizeof p.jar, "%s/jar-quirin.txt", D.dir);
        snprintf(url, sizeof url, "%s/api/v1/session", D.srv.base);
        tl_http(&r, "POST", url, h, "{\"name\":\"quirin\",\"password\":\"" TL_PASSWORD "\"}",
                p.jar);
        snprintf(p.csrf, sizeof p.csrf, "%s",
                 jstr(r.json, "csrf_token") ? jstr(r.json, "csrf_token") : "");
        tl_resp_free(&r);
        char *c3 = post(&p, "Danke für das Angebot!", NULL);
        want w7 = {&S2, "Danke für das Angebot", true}, w8 = {&S, "Danke für das Angebot", true};
        CHECK(wait_for(state_thread_has, &w7, 60), "second state receives the new comment");
        CHECK(wait_for(state_thread_has, &w8, 60), "first state receives the new comment");
        free(c3);
        CHECK_INT(tl_server_stop(&S2.srv), 0, "second state stops cleanly (no sanitizer report)");
    } else {
        CHECK(0, "second state setup");
    }
    free(c1);
    free(c2);
    CHECK_INT(tl_server_stop(&D.srv), 0, "district stops cleanly (no sanitizer report)");
    CHECK_INT(tl_server_stop(&S.srv), 0, "state stops cleanly (no sanitizer report)");
    return tl_done();
}
