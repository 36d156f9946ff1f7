/* Federation between real nodes on loopback:
 *  - B follows A; A creates, updates and deletes measures; B ends with the
 *    same state;
 *  - B is down while A writes; when B is back the queue delivers it all;
 *  - A's inbox rejects each tampered request (changed body, changed signed
 *    header, wrong key, stale Date, wrong Digest, missing signature,
 *    invalid proof) with the reason logged, and processes a replayed
 *    activity id once. Requests are signed with B's real keys, which A
 *    fetches from B's actor document. */
#include "testlib.h"

#include "httpsig.h"
#include "keys.h"
#include "proof.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tl_node A, B;

/* Polls fn until it returns true or ~timeout seconds pass. */
static bool eventually(bool (*fn)(void *), void *arg, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (fn(arg))
            return true;
        usleep(50000);
    }
    return fn(arg);
}

static json_t *get_json(tl_node *n, const char *path, const char *token)
{
    tl_resp r;
    tl_api(&r, n, "GET", path, token, NULL, NULL);
    json_t *j = json_incref(r.json);
    tl_resp_free(&r);
    return j;
}

static bool b_follows_a(void *arg)
{
    (void)arg;
    json_t *j = get_json(&B, "/api/v1/federation/following", B.token[TL_VIEWER]);
    const char *st = json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "state"));
    bool ok = st && !strcmp(st, "accepted");
    json_decref(j);
    return ok;
}

/* B's stored copy of A's measures: {url: version} and tombstones. */
typedef struct expect {
    int live, dead;
    const char *url[8];
    long long version[8];
    int n;
} expect;

static bool b_has(void *arg)
{
    expect *e = arg;
    json_t *j = get_json(&B, "/api/v1/federation/objects", B.token[TL_VIEWER]);
    int live = 0, dead = 0, matched = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), i, it)
    {
        const char *type = json_string_value(json_object_get(it, "type"));
        if (type && !strcmp(type, "Tombstone"))
            dead++;
        else if (type && !strcmp(type, "Article"))
            live++;
        for (int k = 0; k < e->n; k++)
            if (!strcmp(json_string_value(json_object_get(it, "id")), e->url[k]) &&
                json_integer_value(json_object_get(it, "version")) == e->version[k])
                matched++;
    }
    json_decref(j);
    return live == e->live && dead == e->dead && matched == e->n;
}

static char *create_measure(const char *title, long long *version)
{
    char body[256];
    snprintf(body, sizeof body, "{\"title\":\"%s\",\"fields_of_action\":[\"HF4\"]}", title);
    tl_resp r;
    tl_api(&r, &A, "POST", "/api/v1/measures", A.token[TL_EDITOR], body, NULL);
    CHECK_INT(r.status, 201, "A creates a measure");
    char *url = strdup(json_string_value(json_object_get(r.json, "url")) ? json_string_value(json_object_get(r.json, "url")) : "");
    *version = json_integer_value(json_object_get(r.json, "version"));
    tl_resp_free(&r);
    return url;
}

static void replicate(void)
{
    char body[256];
    snprintf(body, sizeof body, "{\"target\":\"%s/actor\"}", A.srv.base);
    tl_resp r;
    tl_api(&r, &B, "POST", "/api/v1/federation/following", B.token[TL_EDITOR], body, NULL);
    CHECK_INT(r.status, 202, "B asks to follow A");
    tl_resp_free(&r);
    CHECK(eventually(b_follows_a, NULL, 15), "A accepted B's follow");

    expect e = {0};
    long long v;
    e.url[0] = create_measure("Sprachkurs Pflege", &v);
    e.url[1] = create_measure("Jobmesse", &v);
    e.url[2] = create_measure("Wird gelöscht", &v);
    const char *id1 = strrchr(e.url[0], '/') + 1, *id3 = strrchr(e.url[2], '/') + 1;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/measures/%s", id1);
    tl_api(&r, &A, "PATCH", path, A.token[TL_EDITOR], "{\"status\":\"active\"}", "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "A updates a measure");
    tl_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/measures/%s", id3);
    tl_api(&r, &A, "DELETE", path, A.token[TL_EDITOR], NULL, NULL);
    CHECK_INT(r.status, 200, "A deletes a measure");
    tl_resp_free(&r);
    e.version[0] = 2;
    e.version[1] = 1;
    e.version[2] = 2;
    e.n = 3;
    e.live = 2;
    e.dead = 1;
    CHECK(eventually(b_has, &e, 15), "B holds A's state: two measures (one updated), one tombstone");

    /* B goes down; A keeps writing; nothing is lost. */
    tl_server_stop(&B.srv);
    e.url[3] = create_measure("Während B weg ist", &v);
    e.url[4] = create_measure("Noch eine", &v);
    snprintf(path, sizeof path, "/api/v1/measures/%s", strrchr(e.url[1], '/') + 1);
    tl_api(&r, &A, "PATCH", path, A.token[TL_EDITOR], "{\"progress\":55}", "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "A updates while B is down");
    tl_resp_free(&r);
    json_t *q = get_json(&A, "/api/v1/federation/deliveries", A.token[TL_VIEWER]);
    long long sup0 = json_integer_value(json_object_get(q, "superseded"));
    json_decref(q);
    tl_api(&r, &A, "PATCH", path, A.token[TL_EDITOR], "{\"progress\":70}", "If-Match: \"2\"");
    CHECK_INT(r.status, 200, "A updates the same measure again while B is down");
    tl_resp_free(&r);
    q = get_json(&A, "/api/v1/federation/deliveries?state=superseded", A.token[TL_VIEWER]);
    CHECK(json_integer_value(json_object_get(q, "superseded")) == sup0 + 1 &&
              json_array_size(json_object_get(q, "items")) >= 1 &&
              !strncmp(tl_jstr(json_array_get(json_object_get(q, "items"), 0), "last_error")
                           ? tl_jstr(json_array_get(json_object_get(q, "items"), 0), "last_error")
                           : "",
                       "superseded by ", 14),
          "the first Update still waiting for B is superseded by the second (%lld, was %lld)",
          json_integer_value(json_object_get(q, "superseded")), sup0);
    json_decref(q);
    e.version[1] = 3;
    e.version[3] = 1;
    e.version[4] = 1;
    e.n = 5;
    e.live = 4;
    sleep(1);
    q = get_json(&A, "/api/v1/federation/deliveries?state=pending", A.token[TL_VIEWER]);
    CHECK(json_integer_value(json_object_get(q, "pending")) >= 3,
          "A's queue holds the undelivered activities (%lld pending)",
          json_integer_value(json_object_get(q, "pending")));
    json_decref(q);
    char data[600];
    snprintf(data, sizeof data, "%s/node", B.dir);
    int port = atoi(strrchr(B.srv.base, ':') + 1);
    CHECK_INT(tl_server_start_port(&B.srv, data, port), 0, "B comes back");
    CHECK(eventually(b_has, &e, 30), "after B returns, the queue delivered everything");
    q = get_json(&A, "/api/v1/federation/deliveries", A.token[TL_VIEWER]);
    CHECK_INT(json_integer_value(json_object_get(q, "pending")), 0, "A's queue is empty again");
    CHECK_INT(json_integer_value(json_object_get(q, "failed")), 0, "nothing failed");
    json_decref(q);
    for (int i = 0; i < 5; i++)
        free((void *)e.url[i]);
}

/* ---- signed requests as B ---------------------------------------------- */

static fed_keys bkeys;
static char b_actor[128], b_key_id[160], b_ed_id[160];

static long post_signed(const char *body, const char *sign_body, EVP_PKEY *key, time_t when,
                        const char *host_override, const char *digest_override, bool sign,
                        char **resp_body)
{
    char url[256], host[64], target[] = "/inbox";
    snprintf(url, sizeof url, "%s/inbox", A.srv.base);
    snprintf(host, sizeof host, "%s", strstr(A.srv.base, "://") + 3);
    httpsig_out sig = {0};
    const char *sb = sign_body ? sign_body : body;
    httpsig_sign(key, b_key_id, "POST", target, host, sb, strlen(sb), "application/activity+json",
                 when, &sig);
    char h_date[128], h_dig[160], *h_sig = NULL, h_host[128];
    snprintf(h_date, sizeof h_date, "Date: %s", sig.date ? sig.date : "");
    snprintf(h_dig, sizeof h_dig, "Digest: %s",
             digest_override ? digest_override : sig.digest ? sig.digest : "");
    if (sig.signature) {
        h_sig = malloc(strlen(sig.signature) + 16);
        sprintf(h_sig, "Signature: %s", sig.signature);
    }
    snprintf(h_host, sizeof h_host, "Host: %s", host_override ? host_override : host);
    const char *hdrs[] = {"Content-Type: application/activity+json", h_date, h_dig, h_host,
                          sign ? h_sig : NULL, NULL};
    tl_resp r;
    tl_http(&r, "POST", url, hdrs, body, NULL);
    long st = r.status;
    if (resp_body)
        *resp_body = strdup(r.body);
    tl_resp_free(&r);
    free(h_sig);
    httpsig_out_free(&sig);
    return st;
}

static char *activity(const char *type, int n, bool with_proof, bool tamper_after_proof)
{
    char id[256];
    snprintf(id, sizeof id, "%s/activities/test-%s-%d-%ld", B.srv.base, type, n, (long)time(NULL));
    json_t *a = json_pack("{s:[s,s], s:s, s:s, s:s, s:s}", "@context",
                          "https://www.w3.org/ns/activitystreams",
                          "https://w3id.org/security/data-integrity/v1", "id", id, "type", type,
                          "actor", b_actor, "object", !strcmp(type, "Follow") ? "" : "x");
    if (!strcmp(type, "Follow")) {
        char obj[160];
        snprintf(obj, sizeof obj, "%s/actor", A.srv.base);
        json_object_set_new(a, "object", json_string(obj));
    } else {
        json_object_set_new(a, "object",
                            json_pack("{s:s, s:s, s:s}", "id", id, "type", "Note", "content",
                                      "Hallo"));
    }
    if (with_proof)
        proof_sign(a, bkeys.ed_sk, b_ed_id, "assertionMethod", 0);
    if (tamper_after_proof)
        json_object_set_new(a, "type", json_string("Announce"));
    char *txt = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return txt;
}

static int deliveries_to_b(void)
{
    json_t *j = get_json(&A, "/api/v1/federation/followers", A.token[TL_VIEWER]);
    int n = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), i, it) if (
        !strcmp(json_string_value(json_object_get(it, "actor")), b_actor)) n++;
    json_decref(j);
    return n;
}

static void tamper(void)
{
    char keys[700];
    snprintf(keys, sizeof keys, "%s/node/keys", B.dir);
    CHECK_INT(fed_keys_load(keys, &bkeys), 0, "load B's keys");
    snprintf(b_actor, sizeof b_actor, "%s/actor", B.srv.base);
    snprintf(b_key_id, sizeof b_key_id, "%s/actor#main-key", B.srv.base);
    snprintf(b_ed_id, sizeof b_ed_id, "%s/actor#ed25519-key", B.srv.base);
    time_t now = time(NULL);

    char *ok = activity("Like", 1, true, false);
    CHECK_INT(post_signed(ok, NULL, bkeys.rsa, now, NULL, NULL, true, NULL), 202,
              "a correctly signed activity with a valid proof is accepted");
    free(ok);

    char *body = activity("Like", 2, false, false);
    char *changed = strdup(body);
    *strstr(changed, "Hallo") = 'W'; /* one character of the body, still valid JSON */
    CHECK_INT(post_signed(changed, body, bkeys.rsa, now, NULL, NULL, true, NULL), 401,
              "changed body");
    CHECK_INT(post_signed(body, NULL, bkeys.rsa, now, "evil.example", NULL, true, NULL), 401,
              "changed signed header (Host)");
    EVP_PKEY *other = EVP_RSA_gen(2048);
    CHECK_INT(post_signed(body, NULL, other, now, NULL, NULL, true, NULL), 401, "wrong key");
    EVP_PKEY_free(other);
    CHECK_INT(post_signed(body, NULL, bkeys.rsa, now - 7200, NULL, NULL, true, NULL), 401,
              "stale Date (2 h old)");
    CHECK_INT(post_signed(body, NULL, bkeys.rsa, now, NULL,
                          "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", true, NULL),
              401, "wrong Digest");
    CHECK_INT(post_signed(body, NULL, bkeys.rsa, now, NULL, NULL, false, NULL), 401,
              "missing signature");
    free(body);
    free(changed);
    char *badproof = activity("Like", 3, true, true);
    CHECK_INT(post_signed(badproof, NULL, bkeys.rsa, now, NULL, NULL, true, NULL), 401,
              "valid HTTP signature but an invalid proof");
    free(badproof);
    /* A Linked Data signature added after the proof (as Fedify and Mastodon
     * do) does not invalidate the proof. */
    char *ld = activity("Like", 5, true, false);
    json_t *ldj = json_loads(ld, 0, NULL);
    json_object_set_new(ldj, "signature", json_pack("{s:s, s:s, s:s}", "type", "RsaSignature2017",
                                                    "creator", b_key_id, "signatureValue", "AAAA"));
    char *ldtxt = json_dumps(ldj, JSON_COMPACT);
    CHECK_INT(post_signed(ldtxt, NULL, bkeys.rsa, now, NULL, NULL, true, NULL), 202,
              "proof still verifies next to a Linked Data signature");
    free(ld);
    free(ldtxt);
    json_decref(ldj);
    CHECK(tl_log_count(&A, "reason=\"HTTP signature: ") >= 6,
          "each signature rejection is logged with its reason (%d)",
          tl_log_count(&A, "reason=\"HTTP signature: "));
    CHECK(tl_log_count(&A, "digest does not match") == 2 && /* changed body, wrong Digest */
              tl_log_count(&A, "s away from now") == 1 && /* stale Date */
              tl_log_count(&A, "no Signature header") == 1 &&
              tl_log_count(&A, "outcome=bad_proof") == 1,
          "digest and proof rejections name their reason");

    /* Replay: the same Follow twice is processed once. */
    const char *processed = "event=inbox.accepted outcome=accepted type=Follow";
    int before = tl_log_count(&A, processed);
    char *follow = activity("Follow", 4, true, false);
    char *first = NULL, *second = NULL;
    CHECK_INT(post_signed(follow, NULL, bkeys.rsa, now, NULL, NULL, true, &first), 202, "Follow");
    CHECK_INT(post_signed(follow, NULL, bkeys.rsa, now, NULL, NULL, true, &second), 202,
              "replayed Follow is answered");
    CHECK(first && strstr(first, "\"accepted\""), "first Follow processed: %s", first);
    CHECK(second && strstr(second, "\"duplicate\""), "replay recognised: %s", second);
    CHECK_INT(deliveries_to_b(), 1, "one follower entry");
    CHECK_INT(tl_log_count(&A, processed), before + 1, "the Follow was processed exactly once");
    CHECK_INT(tl_log_count(&A, "outcome=duplicate"), 1, "replay logged once");
    free(first);
    free(second);
    free(follow);
    fed_keys_free(&bkeys);
}

static void discovery(void)
{
    char path[256];
    snprintf(path, sizeof path, "/.well-known/webfinger?resource=acct:magdeburg@%s",
             strstr(A.srv.base, "://") + 3);
    tl_resp r;
    tl_api(&r, &A, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "WebFinger");
    char *ct = tl_header(&r, "Content-Type");
    CHECK(ct && strstr(ct, "application/jrd+json"), "WebFinger content type: %s", ct);
    free(ct);
    char *cors = tl_header(&r, "Access-Control-Allow-Origin");
    CHECK_STR(cors, "*", "WebFinger allows CORS");
    free(cors);
    json_t *link = json_array_get(json_object_get(r.json, "links"), 0);
    char actor[160];
    snprintf(actor, sizeof actor, "%s/actor", A.srv.base);
    CHECK_STR(json_string_value(json_object_get(link, "href")), actor, "rel=self is the actor id");
    CHECK_STR(json_string_value(json_object_get(link, "type")), "application/activity+json",
              "rel=self type");
    tl_resp_free(&r);

    const char *as2[] = {"Accept: application/activity+json", NULL};
    char url[256];
    snprintf(url, sizeof url, "%s/actor", A.srv.base);
    tl_http(&r, "GET", url, as2, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(r.json, "id")), actor, "actor id equals its URL");
    CHECK_STR(json_string_value(json_object_get(r.json, "type")), "Organization", "actor type");
    CHECK(json_string_value(json_object_get(r.json, "preferredUsername")), "preferredUsername");
    json_t *pk = json_object_get(r.json, "publicKey");
    char kid[200];
    snprintf(kid, sizeof kid, "%s#main-key", actor);
    CHECK_STR(json_string_value(json_object_get(pk, "id")), kid, "keyId = actor#main-key");
    CHECK_STR(json_string_value(json_object_get(pk, "owner")), actor, "key owner");
    CHECK(json_string_value(json_object_get(pk, "publicKeyPem")) &&
              strstr(json_string_value(json_object_get(pk, "publicKeyPem")), "BEGIN PUBLIC KEY"),
          "publicKeyPem");
    json_t *am = json_array_get(json_object_get(r.json, "assertionMethod"), 0);
    CHECK_STR(json_string_value(json_object_get(am, "type")), "Multikey", "FEP-521a Multikey");
    CHECK(json_string_value(json_object_get(am, "publicKeyMultibase")) &&
              !strncmp(json_string_value(json_object_get(am, "publicKeyMultibase")), "z6Mk", 4),
          "Ed25519 multibase key");
    CHECK(json_string_value(json_object_get(json_object_get(r.json, "endpoints"), "sharedInbox")),
          "shared inbox");
    CHECK(json_is_boolean(json_object_get(r.json, "manuallyApprovesFollowers")) &&
              json_is_true(json_object_get(r.json, "discoverable")) &&
              json_is_true(json_object_get(r.json, "indexable")),
          "manuallyApprovesFollowers, discoverable, indexable");
    char *rct = tl_header(&r, "Content-Type");
    CHECK(rct && strstr(rct, "application/activity+json"), "actor content type");
    free(rct);
    tl_resp_free(&r);

    tl_api(&r, &A, "GET", "/.well-known/nodeinfo", NULL, NULL, NULL);
    const char *href = json_string_value(
        json_object_get(json_array_get(json_object_get(r.json, "links"), 0), "href"));
    CHECK(href && strstr(href, "/nodeinfo/2.1"), "NodeInfo 2.1 link");
    tl_resp_free(&r);
    tl_api(&r, &A, "GET", "/nodeinfo/2.1", NULL, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r.json, "software"), "name")),
              "dinet", "software name (lowercase)");
    CHECK_STR(json_string_value(json_array_get(json_object_get(r.json, "protocols"), 0)),
              "activitypub", "protocols");
    CHECK(json_is_integer(json_object_get(json_object_get(json_object_get(r.json, "usage"), "users"),
                                          "total")),
          "usage.users.total");
    tl_resp_free(&r);

    /* One URL per record: AS2 for fediverse clients, HTML for browsers. */
    json_t *list = get_json(&A, "/api/v1/measures?limit=1", NULL);
    const char *murl =
        json_string_value(json_object_get(json_array_get(json_object_get(list, "items"), 0), "url"));
    tl_http(&r, "GET", murl, as2, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(r.json, "type")), "Article", "measure is an Article");
    CHECK(json_string_value(json_object_get(r.json, "name")) &&
              json_string_value(json_object_get(r.json, "summary")) &&
              json_is_object(json_object_get(r.json, "record")),
          "Article has name, summary and the record in the extension context");
    tl_resp_free(&r);
    const char *ld[] = {"Accept: application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
                        NULL};
    tl_http(&r, "GET", murl, ld, NULL, NULL);
    CHECK_STR(json_string_value(json_object_get(r.json, "type")), "Article",
              "ld+json with the ActivityStreams profile gets AS2");
    tl_resp_free(&r);
    const char *html[] = {"Accept: text/html", NULL};
    tl_http(&r, "GET", murl, html, NULL, NULL);
    char *hct = tl_header(&r, "Content-Type");
    CHECK(hct && strstr(hct, "text/html") && strstr(r.body, "<h1>"), "a browser gets HTML");
    free(hct);
    tl_resp_free(&r);
    json_decref(list);

    /* The outbox pages and resumes after a known item. */
    json_t *ob = get_json(&A, "/actor/outbox", NULL);
    long long total = json_integer_value(json_object_get(ob, "totalItems"));
    CHECK(total >= 6, "outbox counts every published activity (%lld)", total);
    json_decref(ob);
    json_t *p1 = get_json(&A, "/actor/outbox?page=true&limit=2", NULL);
    json_t *items = json_object_get(p1, "orderedItems");
    CHECK_INT(json_array_size(items), 2, "first page");
    CHECK(json_string_value(json_object_get(p1, "next")), "first page links next");
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(items, 0), "proof"),
                                                "cryptosuite")),
              "eddsa-jcs-2022", "outbox activities carry their proof");
    const char *newest = json_string_value(json_object_get(json_array_get(items, 0), "id"));
    const char *second = json_string_value(json_object_get(json_array_get(items, 1), "id"));
    char rp[400];
    snprintf(rp, sizeof rp, "/actor/outbox?page=true&after=%s", second);
    json_t *resumed = get_json(&A, rp, NULL);
    json_t *ritems = json_object_get(resumed, "orderedItems");
    CHECK(json_array_size(ritems) >= 1 &&
              !strcmp(json_string_value(json_object_get(json_array_get(ritems, 0), "id")), newest),
          "resuming after the second newest item yields the newest");
    json_decref(resumed);
    json_decref(p1);
}

/* Counts the activities about object_id in a walk over every page of the
 * outbox from the start (following `next`); last_type and last_version get
 * the last one seen. */
static int outbox_walk(const char *query, const char *object_id, int *pages, char *last_type,
                       size_t tlen, long long *last_version)
{
    char url[600];
    snprintf(url, sizeof url, "%s/actor/outbox?page=true&min_id=0&limit=2%s", A.srv.base, query);
    int n = 0;
    *pages = 0;
    *last_version = -1;
    const char *as2[] = {"Accept: application/activity+json", NULL};
    for (int guard = 0; guard < 1000 && url[0]; guard++) {
        tl_resp r;
        tl_http(&r, "GET", url, as2, NULL, NULL);
        (*pages)++;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(r.json, "orderedItems"), i, it)
        {
            const json_t *obj = json_object_get(it, "object");
            const char *oid = json_is_string(obj) ? json_string_value(obj) : tl_jstr(obj, "id");
            if (oid && !strcmp(oid, object_id)) {
                n++;
                snprintf(last_type, tlen, "%s", tl_jstr(it, "type") ? tl_jstr(it, "type") : "");
                *last_version = tl_jint(json_object_get(obj, "record"), "version");
            }
        }
        const char *next = tl_jstr(r.json, "next");
        snprintf(url, sizeof url, "%s", next ? next : "");
        tl_resp_free(&r);
    }
    return n;
}

/* latest=true leaves out the Creates and Updates that a later activity
 * about the same object supersedes, across pages (the state's backfill). */
static void outbox_latest(void)
{
    long long v;
    char *m1 = create_measure("Verdichtet", &v);
    char *m2 = create_measure("Geloescht", &v);
    const char *id1 = strrchr(m1, '/') + 1, *id2 = strrchr(m2, '/') + 1;
    char path[200];
    tl_resp r;
    for (int k = 1; k <= 2; k++) {
        snprintf(path, sizeof path, "/api/v1/measures/%s", id1);
        char im[32];
        snprintf(im, sizeof im, "If-Match: \"%d\"", k);
        char body[32];
        snprintf(body, sizeof body, "{\"progress\":%d}", 20 * k);
        tl_api(&r, &A, "PATCH", path, A.token[TL_EDITOR], body, im);
        CHECK(r.status == 200, "update %d of the measure (%ld)", k, r.status);
        tl_resp_free(&r);
    }
    snprintf(path, sizeof path, "/api/v1/measures/%s", id2);
    tl_api(&r, &A, "DELETE", path, A.token[TL_EDITOR], NULL, NULL);
    CHECK(r.status == 200 || r.status == 204, "delete the second measure (%ld)", r.status);
    tl_resp_free(&r);
    char type[32];
    int pages_full, pages_latest;
    long long ver;
    int full = outbox_walk("", m1, &pages_full, type, sizeof type, &ver);
    CHECK_INT(full, 3, "the full outbox has the Create and both Updates");
    int latest = outbox_walk("&latest=true", m1, &pages_latest, type, sizeof type, &ver);
    CHECK(latest == 1 && !strcmp(type, "Update") && ver == 3,
          "latest=true: only the newest Update (%d items, %s, version %lld)", latest, type, ver);
    CHECK(pages_latest < pages_full, "latest=true needs fewer pages (%d, full %d)", pages_latest,
          pages_full);
    latest = outbox_walk("&latest=true", m2, &pages_latest, type, sizeof type, &ver);
    CHECK(latest == 1 && !strcmp(type, "Delete"),
          "latest=true: a deleted measure appears once, as its Delete (%d, %s)", latest, type);
    tl_api(&r, &A, "GET", "/actor/outbox?page=true&min_id=0&latest=yes", NULL, NULL, NULL);
    const json_t *e0 = json_array_get(json_object_get(r.json, "errors"), 0);
    CHECK(r.status == 400 && tl_jstr(e0, "field") && !strcmp(tl_jstr(e0, "field"), "latest"),
          "latest=yes is refused naming the parameter (%ld)", r.status);
    tl_resp_free(&r);
    free(m1);
    free(m2);
}

int main(void)
{
    if (tl_node_setup_fed(&A, "fedA", "15003", NULL) ||
        tl_node_setup_fed(&B, "fedB", "15085", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    replicate();
    discovery();
    outbox_latest();
    tamper();
    tl_server_stop(&A.srv);
    tl_server_stop(&B.srv);
    return tl_done();
}
