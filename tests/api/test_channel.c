/* The coordinators' channel on real nodes over loopback: a state node and
 * three district nodes. A (15003) and B (15085) are registered on the state
 * and join the HF3 group; C (15088) joins every group (`dinet channel join
 * --all`) but is not registered.
 *
 *  1. A posts in HF3: the state's HF3 Group announces it, and B lists the
 *     thread as unread for B's reader; read marks are per reader.
 *  2. B's reply threads under A's post on A, B and the state.
 *  3. A members-only post reaches B but is in no public outbox or URL, and
 *     anonymous readers get nothing from the API.
 *  4. C's post to the group is refused by the state (not a registered
 *     district) and never reaches B.
 *  5. Roles and validation: a viewer cannot post, content is required, a
 *     group not joined is 404; the state's own accounts post as the state. */
#include "testlib.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tl_node S, A, B, C;

/* Posts to a group; returns the HTTP status, *out the answer (may be NULL). */
static long post(tl_node *n, const char *token, const char *code, const char *body, json_t **out)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/channel/groups/%s/posts", code);
    tl_resp r;
    tl_api(&r, n, "POST", path, token, body, NULL);
    long st = r.status;
    if (out)
        *out = json_incref(r.json);
    tl_resp_free(&r);
    return st;
}

/* The thread of HF3 on node n whose root content contains needle, or NULL
 * (new reference). */
static json_t *find_thread(tl_node *n, const char *token, const char *needle)
{
    json_t *j = tl_get_json(n, "/api/v1/channel/groups/HF3/threads", token, NULL);
    json_t *found = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "items"), i, t)
    {
        const char *c = tl_jstr(t, "content");
        if (c && strstr(c, needle))
            found = json_incref(t);
    }
    json_decref(j);
    return found;
}

typedef struct want {
    tl_node *n;
    const char *token, *needle;
    long long min_replies;
} want;

static bool has_thread(void *arg)
{
    want *w = arg;
    json_t *t = find_thread(w->n, w->token, w->needle);
    bool ok = t && tl_jint(t, "replies") >= w->min_replies;
    json_decref(t);
    return ok;
}

static bool members_joined(void *arg)
{
    (void)arg;
    json_t *j = tl_get_json(&S, "/groups/HF3/followers", NULL, NULL);
    bool ok = tl_jint(j, "totalItems") == 3;
    json_decref(j);
    return ok;
}

static bool following_accepted(void *arg)
{
    tl_node *n = arg;
    json_t *j = tl_get_json(n, "/api/v1/federation/following", n->token[TL_VIEWER], NULL);
    bool ok = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), i, it)
    {
        if (strstr(tl_jstr(it, "actor") ? tl_jstr(it, "actor") : "", "/groups/HF3") &&
            !strcmp(tl_jstr(it, "state") ? tl_jstr(it, "state") : "", "accepted"))
            ok = true;
    }
    json_decref(j);
    return ok;
}

static bool log_has(void *arg)
{
    return tl_log_count(&S, arg) > 0;
}

static void setup_network(void)
{
    tl_resp r;
    char body[512];
    /* A and B are registered districts; C is not. */
    tl_node *reg[] = {&A, &B};
    const char *codes[] = {"15003", "15089"};
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body, "{\"code\":\"%s\",\"actor\":\"%s/actor\"}", codes[i],
                 reg[i]->srv.base);
        tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], body, NULL);
        CHECK_INT(r.status, 201, "register a district on the state");
        tl_resp_free(&r);
    }
    /* Joining: only admins; A and B through the API, C with the CLI. */
    snprintf(body, sizeof body, "{\"url\":\"%s/groups/HF3\"}", S.srv.base);
    tl_api(&r, &A, "POST", "/api/v1/channel/groups", A.token[TL_EDITOR], body, NULL);
    CHECK_INT(r.status, 403, "an editor cannot join a group");
    tl_resp_free(&r);
    tl_node *api_join[] = {&A, &B};
    for (int i = 0; i < 2; i++) {
        tl_api(&r, api_join[i], "POST", "/api/v1/channel/groups", api_join[i]->token[TL_ADMIN],
               body, NULL);
        CHECK_INT(r.status, 202, "POST /api/v1/channel/groups joins HF3");
        CHECK_STR(tl_jstr(r.json, "code"), "HF3", "joined group code");
        tl_resp_free(&r);
    }
    /* C joins every group at once. */
    const char *argv[] = {"channel", "join", "--data", tl_node_data(&C), "--all", S.srv.base, NULL};
    char *out = NULL;
    CHECK_INT(tl_dinet(NULL, &out, argv), 0, "dinet channel join --all");
    CHECK(out && strstr(out, "group HF1") && strstr(out, "group HF3") && strstr(out, "group QT3"),
          "channel join --all joins every group: %s", out ? out : "");
    free(out);
    json_t *cg = tl_get_json(&C, "/api/v1/channel/groups", C.token[TL_VIEWER], NULL);
    CHECK_INT(json_array_size(json_object_get(cg, "items")), 10, "C lists the ten joined groups");
    json_decref(cg);
    snprintf(body, sizeof body, "{\"url\":\"%s/actor\"}", S.srv.base);
    tl_api(&r, &A, "POST", "/api/v1/channel/groups", A.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 422, "the state's Organization actor is not a group");
    tl_resp_free(&r);
    CHECK(tl_eventually(members_joined, NULL, 20), "the HF3 group has three members");
    CHECK(tl_eventually(following_accepted, &A, 20), "A's follow of HF3 is accepted");
    CHECK(tl_eventually(following_accepted, &B, 20), "B's follow of HF3 is accepted");
    json_t *g = tl_get_json(&B, "/api/v1/channel/groups", B.token[TL_VIEWER], NULL);
    json_t *g0 = json_array_get(json_object_get(g, "items"), 0);
    CHECK(json_array_size(json_object_get(g, "items")) == 1 && tl_jstr(g0, "code") &&
              !strcmp(tl_jstr(g0, "code"), "HF3") && tl_jint(g0, "unread") == 0 && tl_jstr(g0, "name") &&
              strstr(tl_jstr(g0, "name"), "Bildungsintegration"),
          "B's groups: HF3 with its name, nothing unread");
    json_decref(g);
}

static char root_id[512];
static long long b_thread;

static void post_and_reply(void)
{
    json_t *res = NULL;
    long st = post(&A, A.token[TL_EDITOR], "HF3",
                   "{\"content\":\"Austausch HF3: Wer hat Erfahrung mit Sprachkursen <b>für</b> "
                   "Eltern?\"}",
                   &res);
    CHECK_INT(st, 201, "A's editor posts in HF3");
    CHECK(tl_jstr(res, "id") && strstr(tl_jstr(res, "id"), A.srv.base), "the post has an id on A");
    snprintf(root_id, sizeof root_id, "%s", tl_jstr(res, "id") ? tl_jstr(res, "id") : "");
    long long a_thread = tl_jint(res, "thread");
    json_decref(res);

    want w = {&B, B.token[TL_VIEWER], "Sprachkursen", 0};
    CHECK(tl_eventually(has_thread, &w, 20), "the post reaches B through the state's HF3 group");
    json_t *t = find_thread(&B, B.token[TL_VIEWER], "Sprachkursen");
    CHECK(t && json_is_true(json_object_get(t, "unread")), "the thread is unread for B's viewer");
    CHECK(t && tl_jstr(t, "content") && strstr(tl_jstr(t, "content"), "<b>für</b>"),
          "content is kept as text, not interpreted");
    CHECK(t && json_is_false(json_object_get(t, "members_only")), "a public post");
    json_t *root = json_object_get(t, "root");
    CHECK_STR(tl_jstr(root, "id"), root_id, "B has A's post under its own id");
    CHECK(tl_jstr(root, "author_name") && strstr(tl_jstr(root, "author_name"), "Magdeburg"),
          "the author is named: %s", tl_jstr(root, "author_name") ? tl_jstr(root, "author_name") : "");
    b_thread = tl_jint(t, "id");
    json_decref(t);
    json_t *g = tl_get_json(&B, "/api/v1/channel/groups", B.token[TL_VIEWER], NULL);
    CHECK(tl_jint(json_array_get(json_object_get(g, "items"), 0), "unread") == 1,
          "B's group list counts one unread post");
    json_decref(g);

    /* The state's group announced it: in its public outbox, as an Announce
     * by the group embedding A's signed Create. */
    json_t *ob = tl_get_json(&S, "/groups/HF3/outbox?page=true", NULL, NULL);
    bool announced = false;
    size_t i;
    json_t *a;
    char gurl[128];
    snprintf(gurl, sizeof gurl, "%s/groups/HF3", S.srv.base);
    json_array_foreach(json_object_get(ob, "orderedItems"), i, a)
    {
        json_t *create = json_object_get(a, "object");
        json_t *note = json_object_get(create, "object");
        if (tl_jstr(a, "type") && !strcmp(tl_jstr(a, "type"), "Announce") && tl_jstr(a, "actor") &&
            !strcmp(tl_jstr(a, "actor"), gurl) && tl_jstr(create, "type") &&
            !strcmp(tl_jstr(create, "type"), "Create") && json_object_get(create, "proof") &&
            tl_jstr(note, "id") && !strcmp(tl_jstr(note, "id"), root_id))
            announced = true;
    }
    CHECK(announced, "the HF3 group's outbox has its Announce of A's Create{Note}");
    json_decref(ob);

    /* Read marks are per reader. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/channel/threads/%lld", b_thread);
    json_t *th = tl_get_json(&B, path, B.token[TL_VIEWER], NULL);
    CHECK(json_array_size(json_object_get(th, "posts")) == 1 &&
              json_is_true(json_object_get(json_array_get(json_object_get(th, "posts"), 0),
                                           "unread")),
          "the thread view shows one unread post");
    json_decref(th);
    snprintf(path, sizeof path, "/api/v1/channel/threads/%lld/read", b_thread);
    tl_resp r;
    tl_api(&r, &B, "POST", path, B.token[TL_VIEWER], NULL, NULL);
    CHECK_INT(r.status, 200, "mark the thread read");
    tl_resp_free(&r);
    t = find_thread(&B, B.token[TL_VIEWER], "Sprachkursen");
    CHECK(t && json_is_false(json_object_get(t, "unread")), "read for B's viewer");
    json_decref(t);
    t = find_thread(&B, B.token[TL_EDITOR], "Sprachkursen");
    CHECK(t && json_is_true(json_object_get(t, "unread")), "still unread for B's editor");
    json_decref(t);

    /* B's reply threads under A's post everywhere. */
    char body[700];
    snprintf(body, sizeof body,
             "{\"content\":\"Antwort aus dem Salzlandkreis: ja, seit 2025.\",\"in_reply_to\":\"%s\"}",
             root_id);
    st = post(&B, B.token[TL_EDITOR], "HF3", body, &res);
    CHECK_INT(st, 201, "B's editor replies");
    CHECK_INT(tl_jint(res, "thread"), b_thread, "the reply is in the thread on B");
    json_decref(res);
    want wa = {&A, A.token[TL_VIEWER], "Sprachkursen", 1};
    CHECK(tl_eventually(has_thread, &wa, 20), "the reply reaches A");
    want ws = {&S, S.token[TL_VIEWER], "Sprachkursen", 1};
    CHECK(tl_eventually(has_thread, &ws, 20), "the state threads the reply");
    snprintf(path, sizeof path, "/api/v1/channel/threads/%lld", a_thread);
    th = tl_get_json(&A, path, A.token[TL_VIEWER], NULL);
    json_t *posts = json_object_get(th, "posts");
    json_t *p1 = json_array_get(posts, 1);
    CHECK(json_array_size(posts) == 2 && tl_jstr(p1, "in_reply_to") &&
              !strcmp(tl_jstr(p1, "in_reply_to"), root_id) && tl_jstr(p1, "content") &&
              strstr(tl_jstr(p1, "content"), "Salzlandkreis"),
          "A's thread view: the root and B's reply to it");
    json_decref(th);
    /* B's viewer has read the root only: the reply is new for them. */
    t = find_thread(&B, B.token[TL_VIEWER], "Sprachkursen");
    CHECK(t && tl_jint(t, "replies") == 1, "B counts one reply");
    json_decref(t);

    /* A reply to a post unknown in the group is refused. */
    st = post(&B, B.token[TL_EDITOR], "HF3",
              "{\"content\":\"x\",\"in_reply_to\":\"http://127.0.0.1:1/channel/posts/none\"}", NULL);
    CHECK_INT(st, 422, "in_reply_to must name a post of the group");
}

static char secret_id[512];

static bool b_has_secret(void *arg)
{
    (void)arg;
    json_t *t = find_thread(&B, B.token[TL_VIEWER], "Geheimtext");
    bool ok = t && json_is_true(json_object_get(t, "members_only"));
    json_decref(t);
    return ok;
}

static bool body_has(tl_node *n, const char *path, const char *needle, long *status)
{
    tl_resp r;
    tl_http(&r, "GET", path, NULL, NULL, NULL);
    (void)n;
    if (status)
        *status = r.status;
    bool has = r.body && strstr(r.body, needle);
    tl_resp_free(&r);
    return has;
}

static void members_only(void)
{
    json_t *res = NULL;
    long st = post(&A, A.token[TL_EDITOR], "HF3",
                   "{\"content\":\"Nur für Mitglieder: Geheimtext zur Fördermittelplanung\","
                   "\"members_only\":true}",
                   &res);
    CHECK_INT(st, 201, "A posts members-only");
    CHECK(json_is_true(json_object_get(res, "members_only")), "the post is members-only");
    snprintf(secret_id, sizeof secret_id, "%s", tl_jstr(res, "id") ? tl_jstr(res, "id") : "");
    json_decref(res);
    CHECK(tl_eventually(b_has_secret, NULL, 20), "the members-only post reaches B, marked so");
    /* C follows the group but is no registered district: it reads the public
     * posts, not the members-only ones. */
    want wc = {&C, C.token[TL_VIEWER], "Sprachkursen", 0};
    CHECK(tl_eventually(has_thread, &wc, 20), "a follower that is no district gets public posts");
    usleep(500000);
    json_t *ct = find_thread(&C, C.token[TL_VIEWER], "Geheimtext");
    CHECK(!ct, "but not the members-only post");
    json_decref(ct);

    char url[700];
    long status = 0;
    const char *anon[][2] = {{S.srv.base, "/groups/HF3/outbox?page=true&limit=100"},
                             {S.srv.base, "/actor/outbox?page=true&limit=100"},
                             {A.srv.base, "/actor/outbox?page=true&limit=100"},
                             {B.srv.base, "/actor/outbox?page=true&limit=100"},
                             {S.srv.base, "/"},
                             {A.srv.base, "/"},
                             {B.srv.base, "/"},
                             {S.srv.base, "/feeds/all.atom"}};
    for (size_t i = 0; i < sizeof anon / sizeof anon[0]; i++) {
        snprintf(url, sizeof url, "%s%s", anon[i][0], anon[i][1]);
        CHECK(!body_has(NULL, url, "Geheimtext", NULL), "anonymous %s does not show it", url);
    }
    snprintf(url, sizeof url, "%s/groups/HF3/outbox?page=true&limit=100", S.srv.base);
    CHECK(body_has(NULL, url, "Sprachkursen", NULL), "(the public post is in the group outbox)");
    CHECK(!body_has(NULL, secret_id, "Geheimtext", &status) && status == 404,
          "the members-only post's URL answers 404: %ld", status);
    CHECK(body_has(NULL, root_id, "Sprachkursen", &status) && status == 200,
          "the public post's URL serves it: %ld", status);
    /* The API needs an account. */
    long s1 = 0, s2 = 0;
    json_t *j = tl_get_json(&B, "/api/v1/channel/groups/HF3/threads", NULL, &s1);
    json_decref(j);
    j = tl_get_json(&S, "/api/v1/channel/groups/HF3/threads", NULL, &s2);
    json_decref(j);
    CHECK(s1 == 401 && s2 == 401, "anonymous channel API: %ld, %ld", s1, s2);
    /* A reply in a members-only thread stays members-only. */
    json_t *t = find_thread(&B, B.token[TL_VIEWER], "Geheimtext");
    char body[700];
    snprintf(body, sizeof body,
             "{\"content\":\"Antwort auf Geheimtext\",\"in_reply_to\":%lld}",
             tl_jint(json_object_get(t, "root"), "seq"));
    json_decref(t);
    st = post(&B, B.token[TL_EDITOR], "HF3", body, &res);
    CHECK(st == 201 && json_is_true(json_object_get(res, "members_only")),
          "a reply in a members-only thread is members-only");
    json_decref(res);
}

static bool b_has_state_post(void *arg)
{
    (void)arg;
    json_t *t = find_thread(&B, B.token[TL_VIEWER], "Landeskoordinierung");
    bool ok = t && tl_jstr(t, "author_name") && strstr(tl_jstr(t, "author_name"), "Land");
    json_decref(t);
    return ok;
}

static void refusals(void)
{
    /* C follows the group but is not a registered district. */
    int before = tl_log_count(&S, "is not a registered district");
    long st = post(&C, C.token[TL_EDITOR], "HF3",
                   "{\"content\":\"Werbung von einem nicht registrierten Knoten\"}", NULL);
    CHECK_INT(st, 201, "C stores its own post locally");
    (void)before;
    CHECK(tl_eventually(log_has, "is not a registered district: it cannot post to group HF3", 20),
          "the state refuses C's post to HF3");
    /* The state's own post arrives after it; C's never does. */
    st = post(&S, S.token[TL_EDITOR], "HF3",
              "{\"content\":\"Landeskoordinierung: Fachtag HF3 am 3. März\"}", NULL);
    CHECK_INT(st, 201, "the state's editor posts in its own group");
    CHECK(tl_eventually(b_has_state_post, NULL, 20), "the state's post reaches B, by the Land");
    json_t *t = find_thread(&B, B.token[TL_VIEWER], "nicht registrierten");
    CHECK(!t, "C's refused post never reaches B");
    json_decref(t);
    t = find_thread(&S, S.token[TL_VIEWER], "nicht registrierten");
    CHECK(!t, "nor is it stored on the state");
    json_decref(t);

    /* Roles and validation. */
    st = post(&B, B.token[TL_VIEWER], "HF3", "{\"content\":\"Ich darf nicht\"}", NULL);
    CHECK_INT(st, 403, "a viewer cannot post");
    st = post(&B, NULL, "HF3", "{\"content\":\"anonym\"}", NULL);
    CHECK_INT(st, 401, "anonymous cannot post");
    json_t *res = NULL;
    st = post(&B, B.token[TL_EDITOR], "HF3", "{\"content\":\"   \"}", &res);
    json_t *e0 = json_array_get(json_object_get(res, "errors"), 0);
    CHECK(st == 422 && tl_jstr(e0, "field") && !strcmp(tl_jstr(e0, "field"), "content"),
          "blank content is refused naming the field");
    json_decref(res);
    st = post(&B, B.token[TL_EDITOR], "HF3", "{\"content\":\"x\",\"members_only\":\"ja\"}", NULL);
    CHECK_INT(st, 422, "members_only must be a boolean");
    st = post(&B, B.token[TL_EDITOR], "HF5", "{\"content\":\"nicht beigetreten\"}", NULL);
    CHECK_INT(st, 404, "a group not joined");
    long s = 0;
    json_t *j = tl_get_json(&B, "/api/v1/channel/threads/999999", B.token[TL_VIEWER], &s);
    CHECK_INT(s, 404, "an unknown thread");
    json_decref(j);
    j = tl_get_json(&S, "/api/v1/channel/groups", S.token[TL_VIEWER], NULL);
    CHECK_INT(json_array_size(json_object_get(j, "items")), 10,
              "the state lists its ten groups");
    json_decref(j);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int fail = tl_node_setup_state(&S, "chanstate", NULL);
    if (!fail)
        fail = tl_node_setup_role(&A, "chanA", "district", "15003", NULL);
    if (!fail)
        fail = tl_node_setup_role(&B, "chanB", "district", "15089", NULL);
    if (!fail)
        fail = tl_node_setup_role(&C, "chanC", "district", "15088", NULL);
    if (fail) {
        CHECK(0, "node setup");
        return tl_done();
    }
    setup_network();
    post_and_reply();
    members_only();
    refusals();
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state exits cleanly");
    CHECK_INT(tl_server_stop(&A.srv), 0, "A exits cleanly");
    CHECK_INT(tl_server_stop(&B.srv), 0, "B exits cleanly");
    CHECK_INT(tl_server_stop(&C.srv), 0, "C exits cleanly");
    curl_global_cleanup();
    return tl_done();
}
