/* API: moderated public discussion (protocol-docs/discussion.md) on one
 * district node.
 *
 *  1. registration → pending (login 403 awaiting-approval) → approve → login;
 *     reject; role checks on the registration endpoints;
 *  2. a participant's comment is pre-moderated, approved by a moderator and
 *     then public and in the outbox as a Create{Note}; a trusted participant
 *     is post-moderated; anonymous, missing CSRF, viewer/participant
 *     moderating are refused;
 *  3. edit and delete own comments, not others';
 *  4. reports ×N → auto-hidden (placeholder without content); moderation hide
 *     needs a reason and leaves a placeholder; restore;
 *  5. script and markup stay inert on the portal page, in the Atom feed and
 *     in the AS2 Note;
 *  6. rate limit → 429 with Retry-After;
 *  7. bad input → problem+json naming the field, nothing stored;
 *  8. export, and account deletion (comments gone, Delete in the outbox). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tl_node node;
static char measure[64], progress[64];
static char base[128]; /* the node's configured base_url (ids use it) */

typedef struct sess {
    char jar[700];
    char csrf[80];
    char name[64];
} sess;

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long sx(tl_resp *r, sess *s, const char *method, const char *path, const char *body,
               bool with_csrf)
{
    char url[512], hdr[128];
    snprintf(url, sizeof url, "%s%s", node.srv.base, path);
    snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", s ? s->csrf : "");
    const char *h[4];
    int n = 0;
    if (body)
        h[n++] = "Content-Type: application/json";
    if (s && with_csrf)
        h[n++] = hdr;
    h[n] = NULL;
    tl_http(r, method, url, h, body, s ? s->jar : NULL);
    return r->status;
}

static long login(sess *s, const char *name, const char *pw)
{
    snprintf(s->jar, sizeof s->jar, "%s/jar-%s.txt", node.dir, name);
    snprintf(s->name, sizeof s->name, "%s", name);
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}", name, pw);
    tl_resp r;
    long st = sx(&r, s, "POST", "/api/v1/session", body, false);
    snprintf(s->csrf, sizeof s->csrf, "%s", jstr(r.json, "csrf_token") ? jstr(r.json, "csrf_token") : "");
    tl_resp_free(&r);
    return st;
}

static void register_user(const char *name, const char *display)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"password\":\"%s\",\"display_name\":\"%s\"}", name, TL_PASSWORD,
             display);
    tl_resp r;
    sx(&r, NULL, "POST", "/api/v1/register", body, false);
    CHECK(r.status == 201, "register %s: %ld", name, r.status);
    CHECK(json_is_false(json_object_get(r.json, "approved")), "%s not approved yet", name);
    CHECK_STR(jstr(r.json, "role"), "participant", "registered as participant");
    tl_resp_free(&r);
}

static long mod(const char *method, const char *path, const char *body, tl_resp *r, int role)
{
    tl_api(r, &node, method, path, role >= 0 ? node.token[role] : NULL, body, NULL);
    return r->status;
}

/* Number of public items on the measure and whether any contains needle. */
static size_t public_items(const char *needle, bool *found)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    tl_resp r;
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    size_t n = json_array_size(json_object_get(r.json, "items"));
    if (found)
        *found = needle && r.body && strstr(r.body, needle);
    tl_resp_free(&r);
    return n;
}

static bool outbox_has(const char *type, const char *object_id)
{
    char url[512];
    snprintf(url, sizeof url, "%s/actor/outbox?page=true&limit=100", node.srv.base);
    const char *h[] = {"Accept: application/activity+json", NULL};
    tl_resp r;
    tl_http(&r, "GET", url, h, NULL, NULL);
    bool ok = false;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r.json, "orderedItems"), i, a)
    {
        json_t *o = json_object_get(a, "object");
        const char *oid = json_is_string(o) ? json_string_value(o) : jstr(o, "id");
        if (jstr(a, "type") && !strcmp(jstr(a, "type"), type) && oid && !strcmp(oid, object_id))
            ok = true;
    }
    tl_resp_free(&r);
    return ok;
}

static char *post_comment(sess *s, const char *content, const char *parent, const char *want_status)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    json_t *b = json_pack("{s:s}", "content", content);
    if (parent)
        json_object_set_new(b, "parent", json_string(parent));
    char *body = json_dumps(b, 0);
    json_decref(b);
    tl_resp r;
    sx(&r, s, "POST", path, body, true);
    free(body);
    CHECK(r.status == 201, "%s posts a comment: %ld %s", s->name, r.status, r.body ? r.body : "");
    if (want_status)
        CHECK_STR(jstr(r.json, "status"), want_status, "status of the new comment");
    char *id = jstr(r.json, "id") ? strdup(jstr(r.json, "id")) : strdup("?");
    tl_resp_free(&r);
    return id;
}

static void approve(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/comments/%s/moderation", id);
    tl_resp r;
    CHECK(mod("POST", path, "{\"action\":\"approve\"}", &r, TL_MODERATOR) == 200,
          "moderator approves %s", id);
    CHECK_STR(jstr(r.json, "status"), "approved", "approved");
    tl_resp_free(&r);
}

static sess anna, bert, carl;

static void setup_records(void)
{
    tl_resp r;
    tl_api(&r, &node, "GET", "/api/v1/node", NULL, NULL, NULL);
    snprintf(base, sizeof base, "%.100s", jstr(r.json, "base_url") ? jstr(r.json, "base_url") : "?");
    tl_resp_free(&r);
    tl_api(&r, &node, "POST", "/api/v1/measures", node.token[TL_EDITOR],
           "{\"title\":\"Sprachcafé Nord\",\"fields_of_action\":[\"HF3\"]}", NULL);
    CHECK_INT(r.status, 201, "measure created");
    snprintf(measure, sizeof measure, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "?");
    tl_resp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/progress", measure);
    tl_api(&r, &node, "POST", path, node.token[TL_EDITOR],
           "{\"date\":\"2025-06-01\",\"title\":\"Erster Stand\"}", NULL);
    CHECK_INT(r.status, 201, "progress created");
    snprintf(progress, sizeof progress, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "?");
    tl_resp_free(&r);
}

static void registration(void)
{
    register_user("anna", "Anna A.");
    register_user("bert", "Bert B.");
    register_user("carl", "Carl C.");
    register_user("dora", "Dora D.");
    CHECK_INT(login(&anna, "anna", TL_PASSWORD), 403, "unapproved account cannot log in");
    tl_resp r;
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/session", node.srv.base);
    const char *h[] = {"Content-Type: application/json", NULL};
    tl_http(&r, "POST", url, h, "{\"name\":\"anna\",\"password\":\"" TL_PASSWORD "\"}", NULL);
    CHECK(r.body && strstr(r.body, "awaiting-approval"), "login problem says awaiting approval");
    tl_resp_free(&r);
    /* Wrong password of a pending account: the usual 401. */
    tl_http(&r, "POST", url, h, "{\"name\":\"anna\",\"password\":\"falsch-falsch-1\"}", NULL);
    CHECK_INT(r.status, 401, "wrong password of a pending account");
    tl_resp_free(&r);

    CHECK_INT(mod("GET", "/api/v1/registrations", NULL, &r, -1), 401, "anonymous: registrations");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", "/api/v1/registrations", NULL, &r, TL_VIEWER), 403,
              "viewer: registrations");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", "/api/v1/registrations", NULL, &r, TL_MODERATOR), 200,
              "moderator: registrations");
    CHECK_INT(json_array_size(json_object_get(r.json, "items")), 4, "four pending");
    tl_resp_free(&r);
    CHECK_INT(mod("POST", "/api/v1/registrations/anna/approve", NULL, &r, TL_VIEWER), 403,
              "viewer cannot approve");
    tl_resp_free(&r);
    const char *who[] = {"anna", "bert", "carl"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "/api/v1/registrations/%s/approve", who[i]);
        CHECK(mod("POST", p, NULL, &r, TL_MODERATOR) == 200, "approve %s", who[i]);
        tl_resp_free(&r);
    }
    CHECK_INT(mod("GET", "/api/v1/participants", NULL, &r, TL_VIEWER), 403,
              "viewer cannot list participants");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", "/api/v1/participants", NULL, &r, TL_MODERATOR), 200,
              "moderator lists participants");
    CHECK(r.body && strstr(r.body, "\"anna\"") && strstr(r.body, "\"dora\"") &&
              !strstr(r.body, "\"admin\""),
          "participants (approved or not), no staff: %s", r.body ? r.body : "");
    tl_resp_free(&r);
    CHECK_INT(login(&anna, "anna", TL_PASSWORD), 200, "approved account logs in");
    CHECK_INT(login(&bert, "bert", TL_PASSWORD), 200, "bert logs in");
    CHECK_INT(login(&carl, "carl", TL_PASSWORD), 200, "carl logs in");
    /* A participant cannot approve registrations. */
    CHECK_INT(sx(&r, &anna, "POST", "/api/v1/registrations/dora/approve", NULL, true), 403,
              "participant cannot approve");
    tl_resp_free(&r);
    CHECK_INT(mod("POST", "/api/v1/registrations/dora/reject", NULL, &r, TL_MODERATOR), 200,
              "moderator rejects dora");
    tl_resp_free(&r);
    sess dora;
    CHECK_INT(login(&dora, "dora", TL_PASSWORD), 401, "rejected account is gone");
    CHECK_INT(mod("GET", "/api/v1/registrations", NULL, &r, TL_MODERATOR), 200, "list again");
    CHECK_INT(json_array_size(json_object_get(r.json, "items")), 0, "none pending");
    tl_resp_free(&r);
    /* A participant is below viewer: no staff reads, no record writes. */
    CHECK_INT(sx(&r, &anna, "GET", "/api/v1/federation/followers", NULL, false), 403,
              "participant cannot read the federation lists");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "POST", "/api/v1/measures", "{\"title\":\"x\"}", true), 403,
              "participant cannot create measures");
    tl_resp_free(&r);
    /* Every staff endpoint refuses a participant (role below viewer). */
    static const char *const staff[][3] = {
        {"GET", "/api/v1/users", NULL},
        {"GET", "/api/v1/tokens", NULL},
        {"GET", "/api/v1/federation/following", NULL},
        {"GET", "/api/v1/federation/blocks", NULL},
        {"GET", "/api/v1/federation/deliveries", NULL},
        {"GET", "/api/v1/federation/objects", NULL},
        {"GET", "/api/v1/registrations", NULL},
        {"GET", "/api/v1/moderation/queue", NULL},
        {"POST", "/api/v1/organisations", "{\"name\":\"X e. V.\",\"kind\":\"civil_society\"}"},
        {"POST", "/api/v1/users", "{\"name\":\"zz\",\"role\":\"viewer\",\"password\":\"ein-langes-passwort\"}"},
        {"POST", "/api/v1/tokens", "{\"name\":\"zz\",\"role\":\"viewer\"}"},
        {"POST", "/api/v1/federation/blocks", "{\"pattern\":\"spam.example\",\"kind\":\"domain\"}"},
        {"POST", "/api/v1/federation/following", "{\"target\":\"http://127.0.0.1:1/actor\"}"},
        {"POST", "/api/v1/users/bert/trust", "{\"trusted\":true}"},
        {"PATCH", "/api/v1/settings", "{\"name\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof staff / sizeof staff[0]; i++) {
        long st = sx(&r, &anna, staff[i][0], staff[i][1], staff[i][2], true);
        CHECK(st == 403, "participant: %s %s gives 403, got %ld", staff[i][0], staff[i][1], st);
        tl_resp_free(&r);
    }
    sx(&r, &anna, "GET", "/api/v1/changes", NULL, false);
    CHECK(r.body && !strstr(r.body, "\"actor\""), "participant does not see who changed what");
    tl_resp_free(&r);
    /* A participant changes the own password and logs out. */
    CHECK_INT(sx(&r, &carl, "POST", "/api/v1/session/password",
                 "{\"old_password\":\"" TL_PASSWORD "\",\"new_password\":\"" TL_PASSWORD "-2\"}",
                 true),
              200, "participant changes the password");
    tl_resp_free(&r);
    CHECK_INT(login(&carl, "carl", TL_PASSWORD "-2"), 200, "login with the new password");
    CHECK_INT(sx(&r, &carl, "DELETE", "/api/v1/session", NULL, true), 200, "participant logs out");
    tl_resp_free(&r);
    CHECK_INT(login(&carl, "carl", TL_PASSWORD "-2"), 200, "carl logs in again");
    sx(&r, &anna, "GET", "/api/v1/session", NULL, false);
    CHECK_STR(jstr(r.json, "role"), "participant", "session role");
    CHECK_STR(jstr(r.json, "display_name"), "Anna A.", "session display name");
    tl_resp_free(&r);
}

static char *c_anna;

static void premoderation(void)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    tl_resp r;
    /* Anonymous and CSRF-less writes are refused. */
    CHECK_INT(sx(&r, NULL, "POST", path, "{\"content\":\"Hallo\"}", false), 401,
              "anonymous cannot post");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "POST", path, "{\"content\":\"Hallo\"}", false), 403,
              "no CSRF header");
    CHECK(r.body && strstr(r.body, "csrf"), "problem names csrf");
    tl_resp_free(&r);
    c_anna = post_comment(&anna, "Wann beginnt der nächste Kurs?", NULL, "pending");
    bool found;
    CHECK_INT(public_items("nächste Kurs", &found), 0, "pending comment is not public");
    CHECK(!found, "pending content not public");
    sx(&r, &anna, "GET", path, NULL, false);
    json_t *mine = json_array_get(json_object_get(r.json, "items"), 0);
    CHECK_STR(jstr(mine, "id"), c_anna, "the author sees the own pending comment");
    CHECK(json_is_true(json_object_get(mine, "own")), "marked own");
    CHECK_STR(jstr(mine, "status"), "pending", "own comment's status");
    tl_resp_free(&r);
    sx(&r, &bert, "GET", path, NULL, false);
    CHECK_INT(json_array_size(json_object_get(r.json, "items")), 0,
              "others do not see someone's pending comment");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", "/api/v1/moderation/queue?state=pending", NULL, &r, TL_MODERATOR), 200,
              "queue");
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    CHECK_STR(jstr(it, "id"), c_anna, "queue has the comment");
    CHECK_STR(jstr(json_object_get(it, "target"), "title"), "Sprachcafé Nord", "queue: title");
    CHECK_STR(jstr(json_object_get(it, "target"), "kind"), "measure", "queue: kind");
    CHECK_STR(jstr(it, "author_name"), "Anna A.", "queue: author");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", "/api/v1/moderation/queue", NULL, &r, TL_VIEWER), 403,
              "viewer cannot see the queue");
    tl_resp_free(&r);
    char mp[128];
    snprintf(mp, sizeof mp, "/api/v1/comments/%s/moderation", c_anna);
    CHECK_INT(mod("POST", mp, "{\"action\":\"approve\"}", &r, TL_VIEWER), 403,
              "viewer cannot moderate");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &bert, "POST", mp, "{\"action\":\"approve\"}", true), 403,
              "participant cannot moderate");
    tl_resp_free(&r);
    char url[256];
    char cid[256];
    snprintf(url, sizeof url, "%s/comments/%s", node.srv.base, c_anna);
    snprintf(cid, sizeof cid, "%s/comments/%s", base, c_anna);
    CHECK(!outbox_has("Create", cid), "nothing published while pending");
    approve(c_anna);
    CHECK_INT(public_items("nächste Kurs", &found), 1, "approved comment is public");
    CHECK(found, "its content is public");
    CHECK(outbox_has("Create", cid), "approved comment published as Create");
    /* The Note itself. */
    const char *h[] = {"Accept: application/activity+json", NULL};
    tl_http(&r, "GET", url, h, NULL, NULL);
    CHECK_INT(r.status, 200, "GET /comments/ID as AS2");
    CHECK_STR(jstr(r.json, "type"), "Note", "a Note");
    char murl[256];
    snprintf(murl, sizeof murl, "%s/measures/%s", base, measure);
    CHECK_STR(jstr(r.json, "inReplyTo"), murl, "inReplyTo the measure");
    CHECK_STR(jstr(r.json, "context"), murl, "context the measure");
    char actor[256];
    snprintf(actor, sizeof actor, "%s/actor", base);
    CHECK_STR(jstr(r.json, "attributedTo"), actor, "attributed to the node");
    CHECK(jstr(r.json, "content") && strstr(jstr(r.json, "content"), "Anna A."),
          "content names the author");
    tl_resp_free(&r);
    /* Browsers are sent to the comment on its page. */
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK_INT(r.status, 303, "GET /comments/ID for a browser redirects");
    char *loc = tl_header(&r, "Location");
    char wantloc[200];
    snprintf(wantloc, sizeof wantloc, "/measures/%s#c-%s", measure, c_anna);
    CHECK_STR(loc, wantloc, "redirect to the comment's anchor on the measure page");
    free(loc);
    tl_resp_free(&r);
    /* Trusted participants are post-moderated. */
    CHECK_INT(sx(&r, &anna, "POST", "/api/v1/users/bert/trust", "{\"trusted\":true}", true), 403,
              "participant cannot trust");
    tl_resp_free(&r);
    CHECK_INT(mod("POST", "/api/v1/users/bert/trust", "{\"trusted\":true}", &r, TL_MODERATOR),
              200, "moderator trusts bert");
    tl_resp_free(&r);
    login(&bert, "bert", TL_PASSWORD);
    char *c_bert = post_comment(&bert, "Ab März, dienstags.", c_anna, "approved");
    CHECK_INT(public_items("dienstags", &found), 2, "reply is public at once");
    CHECK(found, "reply content public");
    snprintf(url, sizeof url, "%s/comments/%s", node.srv.base, c_bert);
    tl_http(&r, "GET", url, h, NULL, NULL);
    char purl[256];
    snprintf(purl, sizeof purl, "%s/comments/%s", base, c_anna);
    CHECK_STR(jstr(r.json, "inReplyTo"), purl, "reply's inReplyTo is the parent comment");
    tl_resp_free(&r);
    free(c_bert);
    /* Comments on a progress entry. */
    snprintf(path, sizeof path, "/api/v1/progress/%s/comments", progress);
    CHECK_INT(sx(&r, &bert, "POST", path, "{\"content\":\"Guter Fortschritt\"}", true), 201,
              "comment on a progress entry");
    tl_resp_free(&r);
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(json_array_size(json_object_get(r.json, "items")), 1, "progress thread");
    tl_resp_free(&r);
}

static void edit_delete(void)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/comments/%s", c_anna);
    tl_resp r;
    CHECK_INT(sx(&r, &bert, "PATCH", path, "{\"content\":\"Fremd\"}", true), 403,
              "cannot edit another's comment");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &bert, "DELETE", path, NULL, true), 403, "cannot delete another's comment");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "PATCH", path, "{\"content\":\"Wann beginnt der Kurs genau?\"}", true),
              200, "author edits");
    CHECK_STR(jstr(r.json, "status"), "pending", "an edit of a pre-moderated author waits again");
    tl_resp_free(&r);
    approve(c_anna);
    bool found;
    public_items("Kurs genau", &found);
    CHECK(found, "edited text public after approval");
    char *tmp = post_comment(&anna, "Versehen", NULL, "pending");
    snprintf(path, sizeof path, "/api/v1/comments/%s", tmp);
    CHECK_INT(sx(&r, &anna, "DELETE", path, NULL, true), 200, "author deletes own comment");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", path, NULL, &r, TL_MODERATOR), 404, "deleted comment is gone");
    tl_resp_free(&r);
    free(tmp);
}

static void reports(void)
{
    char *victim = post_comment(&bert, "Kauft billige Uhren!", NULL, "approved");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/comments/%s/reports", victim);
    tl_resp r;
    CHECK_INT(sx(&r, NULL, "POST", path, "{\"reason\":\"spam\"}", false), 401,
              "anonymous cannot report");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "POST", path, "{\"reason\":\"spam\"}", true), 201, "report 1");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "POST", path, "{\"reason\":\"spam\"}", true), 409,
              "one report per reporter");
    tl_resp_free(&r);
    CHECK_INT(mod("GET", "/api/v1/moderation/queue?state=reported", NULL, &r, TL_MODERATOR), 200,
              "reported queue");
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    CHECK_STR(jstr(it, "id"), victim, "reported queue has it");
    CHECK_STR(jstr(json_array_get(json_object_get(it, "reports"), 0), "reason"), "spam",
              "report reason listed");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &carl, "POST", path, "{\"reason\":\"offensive\"}", true), 201, "report 2");
    CHECK_STR(jstr(r.json, "status"), "approved", "still visible after 2");
    tl_resp_free(&r);
    bool found;
    public_items("billige Uhren", &found);
    CHECK(found, "visible after 2 reports");
    CHECK_INT(mod("POST", path, "{\"reason\":\"off-topic\"}", &r, TL_EDITOR), 201, "report 3");
    CHECK_STR(jstr(r.json, "status"), "hidden", "auto-hidden after 3 reports");
    tl_resp_free(&r);
    public_items("billige Uhren", &found);
    CHECK(!found, "auto-hidden content is not public");
    char lp[128];
    snprintf(lp, sizeof lp, "/api/v1/measures/%s/comments", measure);
    tl_api(&r, &node, "GET", lp, NULL, NULL, NULL);
    bool placeholder = false;
    size_t i;
    json_array_foreach(json_object_get(r.json, "items"), i, it) if (jstr(it, "id") &&
                                                                    !strcmp(jstr(it, "id"), victim))
        placeholder = jstr(it, "status") && !strcmp(jstr(it, "status"), "hidden") &&
                      !json_object_get(it, "content") && jstr(it, "note");
    CHECK(placeholder, "hidden comment is a placeholder without content");
    tl_resp_free(&r);
    char url[256];
    snprintf(url, sizeof url, "%s/comments/%s", base, victim);
    CHECK(outbox_has("Delete", url), "auto-hide sends a Delete");
    CHECK_INT(mod("GET", "/api/v1/moderation/queue?state=hidden", NULL, &r, TL_MODERATOR), 200,
              "hidden queue");
    CHECK(r.body && strstr(r.body, "auto-hidden after 3 reports"), "reason auto-hidden");
    tl_resp_free(&r);

    /* Dismissing reports keeps a comment visible and clears its reports. */
    char *fine = post_comment(&bert, "Ganz normaler Beitrag", NULL, "approved");
    char rp[128], dp[128];
    snprintf(rp, sizeof rp, "/api/v1/comments/%s/reports", fine);
    snprintf(dp, sizeof dp, "/api/v1/comments/%s/moderation", fine);
    CHECK_INT(sx(&r, &anna, "POST", rp, "{\"reason\":\"off-topic\"}", true), 201,
              "report a fine comment");
    tl_resp_free(&r);
    CHECK_INT(mod("POST", dp, "{\"action\":\"dismiss\"}", &r, TL_MODERATOR), 200,
              "moderator dismisses the reports");
    CHECK_STR(jstr(r.json, "status"), "approved", "still approved");
    CHECK_INT(json_integer_value(json_object_get(r.json, "report_count")), 0, "reports cleared");
    tl_resp_free(&r);
    mod("GET", "/api/v1/moderation/queue?state=reported", NULL, &r, TL_MODERATOR);
    CHECK(r.body && !strstr(r.body, fine), "no longer in the reported queue");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "POST", rp, "{\"reason\":\"off-topic\"}", true), 201,
              "it can be reported again after a dismissal");
    tl_resp_free(&r);
    free(fine);

    /* Moderation: hide needs a reason; restore. */
    char mp[128];
    snprintf(mp, sizeof mp, "/api/v1/comments/%s/moderation", c_anna);
    CHECK_INT(mod("POST", mp, "{\"action\":\"hide\"}", &r, TL_MODERATOR), 422,
              "hide without reason");
    CHECK(r.body && strstr(r.body, "\"reason\""), "problem names the reason field");
    tl_resp_free(&r);
    CHECK_INT(mod("POST", mp, "{\"action\":\"hide\",\"reason\":\"Personenbezug\"}", &r,
                  TL_MODERATOR),
              200, "hide with reason");
    CHECK_STR(jstr(r.json, "moderation_reason"), "Personenbezug", "reason stored");
    tl_resp_free(&r);
    public_items("Kurs genau", &found);
    CHECK(!found, "hidden comment's text not public");
    tl_resp hr;
    char page[256];
    snprintf(page, sizeof page, "%s/measures/%s", node.srv.base, measure);
    tl_http(&hr, "GET", page, NULL, NULL, NULL);
    CHECK(hr.body && strstr(hr.body, "Von der Moderation ausgeblendet"),
          "page shows the hidden placeholder");
    CHECK(hr.body && !strstr(hr.body, "Kurs genau"), "page does not show hidden text");
    tl_resp_free(&hr);
    CHECK_INT(mod("POST", mp, "{\"action\":\"restore\"}", &r, TL_MODERATOR), 200, "restore");
    tl_resp_free(&r);
    public_items("Kurs genau", &found);
    CHECK(found, "restored comment public again");
    free(victim);
}

static void inert_markup(void)
{
    const char *evil = "<script>alert(1)</script><b>fett</b> & \\\"quote\\\"";
    char *id = post_comment(&bert, evil, NULL, "approved");
    tl_resp r;
    char page[256];
    snprintf(page, sizeof page, "%s/measures/%s", node.srv.base, measure);
    tl_http(&r, "GET", page, NULL, NULL, NULL);
    CHECK(r.body && strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"),
          "portal page escapes the script");
    CHECK(r.body && !strstr(r.body, "<script>alert(1)"), "no raw script on the page");
    CHECK(r.body && !strstr(r.body, "<b>fett"), "no raw markup on the page");
    CHECK(r.body && strstr(r.body, "Mitdiskutieren") && strstr(r.body, "/admin/#/discuss/measure/"),
          "page links to the discussion UI");
    CHECK(r.body && strstr(r.body, "/netiquette"), "page links to the netiquette");
    tl_resp_free(&r);
    char feed[256];
    snprintf(feed, sizeof feed, "%s/feeds/massnahme/%s.atom", node.srv.base, measure);
    tl_http(&r, "GET", feed, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "measure feed");
    CHECK(r.body && strstr(r.body, "&lt;script&gt;alert(1)"), "feed contains the escaped comment");
    CHECK(r.body && !strstr(r.body, "<script>"), "no raw script in the feed");
    tl_resp_free(&r);
    char url[256];
    snprintf(url, sizeof url, "%s/comments/%s", node.srv.base, id);
    const char *h[] = {"Accept: application/activity+json", NULL};
    tl_http(&r, "GET", url, h, NULL, NULL);
    const char *content = jstr(r.json, "content");
    CHECK(content && strstr(content, "&lt;script&gt;"), "Note content escapes the script");
    CHECK(content && !strstr(content, "<script>") && !strstr(content, "<b>"),
          "no raw markup in the Note");
    tl_resp_free(&r);
    snprintf(url, sizeof url, "%s/netiquette", node.srv.base);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "netiquette page");
    CHECK(r.body && strstr(r.body, "Netiquette"), "netiquette title");
    tl_resp_free(&r);
    free(id);
}

static void rate_limit(void)
{
    tl_resp r;
    tl_api(&r, &node, "GET", "/api/v1/settings", NULL, NULL, NULL);
    CHECK_STR(jstr(json_object_get(r.json, "moderation"), "participants"), "pre",
              "default pre-moderation");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r.json, "moderation"),
                                                 "auto_hide_reports")),
              3, "default auto-hide");
    char *etag = tl_header(&r, "ETag");
    tl_resp_free(&r);
    char im[64];
    snprintf(im, sizeof im, "If-Match: %s", etag ? etag : "\"0\"");
    free(etag);
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_ADMIN],
           "{\"moderation\":{\"rate_per_hour\":0}}", im);
    CHECK_INT(r.status, 422, "rate 0 refused");
    CHECK(r.body && strstr(r.body, "moderation.rate_per_hour"), "names the field");
    tl_resp_free(&r);
    tl_api(&r, &node, "PATCH", "/api/v1/settings", node.token[TL_ADMIN],
           "{\"moderation\":{\"rate_per_hour\":8}}", im);
    CHECK_INT(r.status, 200, "rate set to 8");
    tl_resp_free(&r);
    /* carl has posted nothing so far: 8 pass, the 9th is refused. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    int ok = 0;
    long last = 0;
    for (int i = 0; i < 9; i++) {
        last = sx(&r, &carl, "POST", path, "{\"content\":\"Noch eine Frage\"}", true);
        if (last == 201)
            ok++;
        if (last == 429) {
            char *ra = tl_header(&r, "Retry-After");
            CHECK(ra && atoi(ra) > 0, "Retry-After given");
            free(ra);
            CHECK(r.body && strstr(r.body, "rate-limited"), "rate-limited problem");
        }
        tl_resp_free(&r);
    }
    CHECK_INT(ok, 8, "eight comments pass");
    CHECK_INT(last, 429, "the ninth is refused");
}

static void bad_input(void)
{
    char lp[128];
    snprintf(lp, sizeof lp, "/api/v1/measures/%s/comments?all=1", measure);
    tl_resp r;
    mod("GET", lp, NULL, &r, TL_MODERATOR);
    size_t before = json_array_size(json_object_get(r.json, "items"));
    tl_resp_free(&r);
    CHECK_INT(mod("GET", lp, NULL, &r, TL_VIEWER), 403, "all=1 needs a moderator");
    tl_resp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s/comments", measure);
    struct {
        const char *body, *field;
    } cases[] = {{"{\"content\":\"\"}", "content"},
                 {"{\"content\":\"   \"}", "content"},
                 {"{\"content\":42}", "content"},
                 {"{}", "content"},
                 {"{\"content\":\"ok\",\"colour\":\"red\"}", "colour"},
                 {"{\"content\":\"ok\",\"parent\":\"c-nonexistent\"}", "parent"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sx(&r, &anna, "POST", path, cases[i].body, true);
        CHECK(r.status == 422, "bad input %s: %ld", cases[i].body, r.status);
        char *ct = tl_header(&r, "Content-Type");
        CHECK(ct && strstr(ct, "problem+json"), "problem+json for %s", cases[i].body);
        free(ct);
        char want[64];
        snprintf(want, sizeof want, "\"field\":\"%s\"", cases[i].field);
        CHECK(r.body && strstr(r.body, want), "problem names %s: %s", cases[i].field,
              r.body ? r.body : "");
        tl_resp_free(&r);
    }
    char *big = malloc(5200);
    memset(big, 'a', 5001);
    big[5001] = '\0';
    char *body = malloc(5300);
    snprintf(body, 5300, "{\"content\":\"%s\"}", big);
    sx(&r, &anna, "POST", path, body, true);
    CHECK_INT(r.status, 422, "5001 characters refused");
    CHECK(r.body && strstr(r.body, "\"field\":\"content\""), "names content");
    tl_resp_free(&r);
    free(big);
    free(body);
    snprintf(path, sizeof path, "/api/v1/measures/m-doesnotexist1234/comments");
    CHECK_INT(sx(&r, &anna, "POST", path, "{\"content\":\"x\"}", true), 404, "unknown measure");
    tl_resp_free(&r);
    mod("GET", lp, NULL, &r, TL_MODERATOR);
    CHECK_INT(json_array_size(json_object_get(r.json, "items")), before, "nothing stored");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, NULL, "POST", "/api/v1/register",
                 "{\"name\":\"eva\",\"password\":\"" TL_PASSWORD "\"}", false),
              422, "registration without display_name");
    CHECK(r.body && strstr(r.body, "\"field\":\"display_name\""), "names display_name");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, NULL, "POST", "/api/v1/register",
                 "{\"name\":\"eva\",\"password\":\"kurz\",\"display_name\":\"Eva\"}", false),
              422, "short password");
    CHECK(r.body && strstr(r.body, "\"field\":\"password\""), "names password");
    tl_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/comments/%s/reports", c_anna);
    CHECK_INT(sx(&r, &bert, "POST", path, "{\"reason\":\"boring\"}", true), 422, "bad reason");
    CHECK(r.body && strstr(r.body, "\"field\":\"reason\""), "names reason");
    tl_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/comments/%s/moderation", c_anna);
    CHECK_INT(mod("POST", path, "{\"action\":\"explode\"}", &r, TL_MODERATOR), 422, "bad action");
    CHECK(r.body && strstr(r.body, "\"field\":\"action\""), "names action");
    tl_resp_free(&r);
    /* Registration is rate limited per client address (6 attempts per hour;
     * 4 registrations and 2 failed ones above count). */
    CHECK_INT(sx(&r, NULL, "POST", "/api/v1/register",
                 "{\"name\":\"fritz\",\"password\":\"" TL_PASSWORD "\",\"display_name\":\"F\"}",
                 false),
              429, "registration rate limit");
    tl_resp_free(&r);
}

static void export_and_delete(void)
{
    tl_resp r;
    CHECK_INT(sx(&r, NULL, "GET", "/api/v1/me/export", NULL, false), 401, "export needs login");
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "GET", "/api/v1/me/export", NULL, false), 200, "export");
    CHECK_STR(jstr(json_object_get(r.json, "account"), "name"), "anna", "export: account");
    CHECK(r.body && strstr(r.body, c_anna), "export contains the comment");
    CHECK(json_array_size(json_object_get(r.json, "reports")) >= 1, "export contains reports");
    char *cd = tl_header(&r, "Content-Disposition");
    CHECK(cd && strstr(cd, "attachment"), "export is a download");
    free(cd);
    tl_resp_free(&r);
    CHECK_INT(sx(&r, &anna, "DELETE", "/api/v1/me", "{\"password\":\"falsch-falsch\"}", true), 422,
              "deletion needs the password");
    tl_resp_free(&r);
    bool found;
    public_items("Kurs genau", &found);
    CHECK(found, "still there before deletion");
    CHECK_INT(sx(&r, &anna, "DELETE", "/api/v1/me", "{\"password\":\"" TL_PASSWORD "\"}", true),
              200, "account deleted");
    tl_resp_free(&r);
    public_items("Kurs genau", &found);
    CHECK(!found, "the account's comments are gone");
    char url[256];
    snprintf(url, sizeof url, "%s/comments/%s", base, c_anna);
    CHECK(outbox_has("Delete", url), "a Delete was queued for the federated comment");
    snprintf(url, sizeof url, "%s/comments/%s", node.srv.base, c_anna);
    sess again;
    CHECK_INT(login(&again, "anna", TL_PASSWORD), 401, "deleted account cannot log in");
    const char *h[] = {"Accept: application/activity+json", NULL};
    tl_http(&r, "GET", url, h, NULL, NULL);
    CHECK_INT(r.status, 410, "deleted comment's Note is a Tombstone");
    CHECK(r.body && !strstr(r.body, "Kurs genau"), "tombstone without content");
    tl_resp_free(&r);
}

int main(void)
{
    if (tl_node_setup(&node, "discussion", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    setup_records();
    registration();
    premoderation();
    edit_delete();
    reports();
    inert_markup();
    rate_limit();
    bad_input();
    export_and_delete();
    free(c_anna);
    CHECK_INT(tl_server_stop(&node.srv), 0, "node stops cleanly (no sanitizer report)");
    return tl_done();
}
