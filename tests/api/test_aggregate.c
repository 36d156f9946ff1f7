/* The state aggregator on loopback: three district nodes (15003 Magdeburg,
 * 15085 Harz, 15088 Saalekreis), a fourth one that is never registered
 * (15089 Salzlandkreis) and the state node (--role state, sync_interval 1).
 *
 *  1. Registry and replication: two districts are registered with
 *     `dinet district add` while the state runs, one through
 *     POST /api/v1/districts; the printed fingerprints are the districts'
 *     own. Records created before registration arrive by backfill, later
 *     ones live; organisations, measures and progress entries that are
 *     created, updated and deleted appear on the state with the right
 *     versions (summary hashes equal, every (id, version) pair equal, items
 *     of /api/v1/measures?district=CODE carry district and home_url), and
 *     deleted ones are 410 there.
 *  2. Rejections at the state's inbox, signed with the districts' real keys
 *     (HTTP signature + eddsa-jcs-2022 proof): a record claiming another
 *     district's code (in the object or in the record), a record URL on
 *     another district's host, another district's record id, a missing
 *     proof (403); an altered record or proofValue (401); an unregistered
 *     district (403). Each reason is in the state's serve.log and nothing
 *     changed.
 *  3. Outage: the state is stopped while the districts write 1,000 changes
 *     (creates and updates, three writers in parallel); after its restart
 *     it converges by itself to exactly the districts' state, checked pair
 *     by pair, within a bounded wait.
 *  4. Lost deliveries: the state is down, a district writes, its pending
 *     deliveries are marked done without being sent; the state catches up
 *     (a) from the outbox after its cursor and (b) with the cursor moved
 *     past the lost activities, by the summary check alone (a
 *     district.reconcile is logged). (c) An activity altered in a
 *     district's outbox after signing is refused when the state replays it.
 *  5. Statewide figures: per-district measure counts, statuses, fields and
 *     organisation kinds on the state equal each district's own; the
 *     provenance of replicated records (and of a tombstone) verifies with
 *     the pinned key; the timeline links home; no delivery was refused.
 *  6. Key rotation: `dinet keys rotate` on 15003; the state pins the new
 *     keys (the Update is signed with the old ones) and accepts what is
 *     signed with them.
 *  7. Removing a district (DELETE /api/v1/districts/CODE) makes its next
 *     activity a 403.
 *
 * Scale: DINET_TEST_SCALE=N (default 1) divides the number of outage
 * changes (1,000) by N, for slow machines; the default does all 1,000, also
 * under ASan (about 3x slower). Every wait is a bounded poll; the bounds are
 * tripled in a sanitizer build.
 *
 * DINET_TEST_STRICT=1 adds checks for aggregator bugs found while writing
 * this test (a misleading rejection reason, an update of a deleted record,
 * sync of an unregistered code, outbox pages over the 1 MiB response
 * limit, writes after `dinet keys rotate` on a running district, a district
 * taking another's record id, a removed district still followed; and two
 * that are fixed: provenance after a key rotation, `district add` waiting
 * for sync_interval). They fail until those are fixed and should then run
 * always. */
#include "testlib.h"

#include "httpsig.h"
#include "keys.h"
#include "proof.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLOW 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW 3
#endif
#endif
#ifndef SLOW
#define SLOW 1
#endif

#define ND 3
static tl_node S, D[ND], X;
static const char *const CODE[ND] = {"15003", "15085", "15088"};
static const char *const XCODE = "15089";
static char fp_rsa[ND][128], fp_ed[ND][128];

/* ---- writing records on a district (thread-safe: no CHECKs) -------------- */

typedef struct rec {
    char id[40];
    long long version;
} rec;

/* POSTs a record; fills r on 201. Returns the status. */
static long api_create(tl_node *n, const char *path, const char *body, rec *r)
{
    tl_resp resp;
    long st = tl_api(&resp, n, "POST", path, n->token[TL_EDITOR], body, NULL) ? -1 : resp.status;
    if (st == 201 && r) {
        snprintf(r->id, sizeof r->id, "%s", tl_jstr(resp.json, "id") ? tl_jstr(resp.json, "id") : "");
        r->version = tl_jint(resp.json, "version");
    }
    tl_resp_free(&resp);
    return st;
}

/* PATCHes /api/v1/KIND/ID with If-Match; on 200 the version must go up by
 * one (else -2 is returned) and r->version follows. */
static long api_patch(tl_node *n, const char *kind, rec *r, const char *body)
{
    char path[128], im[48];
    snprintf(path, sizeof path, "/api/v1/%s/%s", kind, r->id);
    snprintf(im, sizeof im, "If-Match: \"%lld\"", r->version);
    tl_resp resp;
    long st = tl_api(&resp, n, "PATCH", path, n->token[TL_EDITOR], body, im) ? -1 : resp.status;
    if (st == 200) {
        long long v = tl_jint(resp.json, "version");
        if (v != r->version + 1)
            st = -2;
        r->version = v;
    }
    tl_resp_free(&resp);
    return st;
}

static long api_delete(tl_node *n, const char *kind, rec *r)
{
    char path[128], im[48];
    snprintf(path, sizeof path, "/api/v1/%s/%s", kind, r->id);
    snprintf(im, sizeof im, "If-Match: \"%lld\"", r->version);
    tl_resp resp;
    long st = tl_api(&resp, n, "DELETE", path, n->token[TL_EDITOR], NULL, im) ? -1 : resp.status;
    if (st == 200)
        r->version = tl_jint(resp.json, "version");
    tl_resp_free(&resp);
    return st;
}

static void create_ok(tl_node *n, const char *path, const char *body, rec *r, const char *what)
{
    long st = api_create(n, path, body, r);
    CHECK(st == 201, "%s: create %s answered %ld", n->srv.base, what, st);
}

static void patch_ok(tl_node *n, const char *kind, rec *r, const char *body, const char *what)
{
    long st = api_patch(n, kind, r, body);
    CHECK(st == 200, "%s: update %s answered %ld", n->srv.base, what, st);
}

static void delete_ok(tl_node *n, const char *kind, rec *r, const char *what)
{
    long st = api_delete(n, kind, r);
    CHECK(st == 200, "%s: delete %s answered %ld", n->srv.base, what, st);
}

/* ---- comparing a district with the state ---------------------------------- */

static bool hash_equal(int i)
{
    json_t *a = tl_get_json(&D[i], "/api/v1/summary", NULL, NULL);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/summary?district=%s", CODE[i]);
    json_t *b = tl_get_json(&S, path, NULL, NULL);
    bool eq = tl_jstr(a, "hash") && tl_jstr(b, "hash") && !strcmp(tl_jstr(a, "hash"), tl_jstr(b, "hash")) &&
              tl_jint(a, "records") == tl_jint(b, "records") && tl_jint(a, "records") > 0;
    json_decref(a);
    json_decref(b);
    return eq;
}

static bool all_hashes_equal(void *arg)
{
    (void)arg;
    for (int i = 0; i < ND; i++)
        if (!hash_equal(i))
            return false;
    return true;
}

static bool hash_equal_cb(void *arg)
{
    return hash_equal(*(int *)arg);
}

/* Compares every (id, version) pair of district i with the state's copy.
 * Returns the number of differences (-1 when a summary could not be read)
 * and describes the first one in why. *pairs gets the district's count. */
static int pair_diff(int i, char *why, size_t whylen, long *pairs)
{
    json_t *a = tl_get_json(&D[i], "/api/v1/summary?detail=1", NULL, NULL);
    char path[80];
    snprintf(path, sizeof path, "/api/v1/summary?district=%s&detail=1", CODE[i]);
    json_t *b = tl_get_json(&S, path, NULL, NULL);
    json_t *ia = json_object_get(a, "items"), *ib = json_object_get(b, "items");
    int diff = 0;
    if (why)
        why[0] = '\0';
    if (pairs)
        *pairs = (long)json_array_size(ia);
    if (!json_is_array(ia) || !json_is_array(ib)) {
        if (why)
            snprintf(why, whylen, "summary without items");
        diff = -1;
        goto out;
    }
    size_t x = 0, y = 0, na = json_array_size(ia), nb = json_array_size(ib);
    while (x < na || y < nb) {
        const char *ka =
            x < na ? json_string_value(json_array_get(json_array_get(ia, x), 0)) : NULL;
        const char *kb =
            y < nb ? json_string_value(json_array_get(json_array_get(ib, y), 0)) : NULL;
        long long va = ka ? json_integer_value(json_array_get(json_array_get(ia, x), 1)) : 0;
        long long vb = kb ? json_integer_value(json_array_get(json_array_get(ib, y), 1)) : 0;
        int c = !ka ? 1 : !kb ? -1 : strcmp(ka, kb);
        if (c == 0 && va == vb) {
            x++;
            y++;
            continue;
        }
        if (why && !diff) {
            if (c == 0)
                snprintf(why, whylen, "%s: version %lld on the district, %lld on the state", ka, va,
                         vb);
            else if (c < 0)
                snprintf(why, whylen, "%s (version %lld) is missing on the state", ka, va);
            else
                snprintf(why, whylen, "%s (version %lld) is on the state only", kb, vb);
        }
        diff++;
        if (c <= 0)
            x++;
        if (c >= 0)
            y++;
    }
out:
    json_decref(a);
    json_decref(b);
    return diff;
}

static bool all_pairs_equal(void *arg)
{
    (void)arg;
    for (int i = 0; i < ND; i++)
        if (pair_diff(i, NULL, 0, NULL) != 0)
            return false;
    return true;
}

static void check_pairs(const char *when)
{
    for (int i = 0; i < ND; i++) {
        char why[300];
        long pairs = 0;
        int d = pair_diff(i, why, sizeof why, &pairs);
        CHECK(d == 0 && pairs > 0,
              "%s: district %s vs state: %d of %ld (id, version) pairs differ; %s", when, CODE[i],
              d, pairs, why);
    }
}

/* ---- registry ------------------------------------------------------------- */

static void load_fingerprints(int i)
{
    const char *argv[] = {"info", "--data", tl_node_data(&D[i]), "--json", NULL};
    char *out = NULL;
    CHECK_INT(tl_dinet(NULL, &out, argv), 0, "dinet info");
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    snprintf(fp_rsa[i], sizeof fp_rsa[i], "%s",
             tl_jstr(j, "rsa_fingerprint") ? tl_jstr(j, "rsa_fingerprint") : "?");
    snprintf(fp_ed[i], sizeof fp_ed[i], "%s",
             tl_jstr(j, "ed25519_fingerprint") ? tl_jstr(j, "ed25519_fingerprint") : "?");
    json_decref(j);
    free(out);
}

static bool state_follows_all(void *arg)
{
    (void)arg;
    json_t *j = tl_get_json(&S, "/api/v1/federation/following", S.token[TL_VIEWER], NULL);
    int ok = 0;
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), k, it)
    {
        for (int i = 0; i < ND; i++) {
            char actor[128];
            snprintf(actor, sizeof actor, "%s/actor", D[i].srv.base);
            if (tl_jstr(it, "actor") && !strcmp(tl_jstr(it, "actor"), actor) && tl_jstr(it, "state") &&
                !strcmp(tl_jstr(it, "state"), "accepted"))
                ok++;
        }
    }
    json_decref(j);
    return ok == ND;
}

static void register_districts(void)
{
    char actor[ND][128];
    for (int i = 0; i < ND; i++) {
        snprintf(actor[i], sizeof actor[i], "%s/actor", D[i].srv.base);
        load_fingerprints(i);
    }
    /* 15003 and 15085 with the CLI while the state runs. */
    for (int i = 0; i < 2; i++) {
        const char *argv[] = {"district", "add",   "--data", tl_node_data(&S),
                              "--code",   CODE[i], actor[i], NULL};
        char *out = NULL;
        int rc = tl_dinet(NULL, &out, argv);
        CHECK_INT(rc, 0, "dinet district add");
        CHECK(out && strstr(out, "registered district") && strstr(out, fp_rsa[i]) &&
                  strstr(out, fp_ed[i]),
              "district add prints the district's own RSA %s and Ed25519 %s fingerprints: %s",
              fp_rsa[i], fp_ed[i], out ? out : "(none)");
        free(out);
    }
    /* 15088 through the admin API. */
    tl_resp r;
    char body[256];
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"actor\":\"%s\"}", CODE[2], actor[2]);
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_EDITOR], body, NULL);
    CHECK_INT(r.status, 403, "an editor cannot register a district");
    tl_resp_free(&r);
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 201, "POST /api/v1/districts");
    const char *fps = tl_jstr(r.json, "fingerprints");
    CHECK(fps && strstr(fps, fp_rsa[2]) && strstr(fps, fp_ed[2]),
          "the API answers with the district's fingerprints: %s", fps ? fps : "(none)");
    tl_resp_free(&r);

    /* Refusals: registered twice, unknown code, the state's own code. */
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 422, "the same district twice");
    tl_resp_free(&r);
    snprintf(body, sizeof body, "{\"code\":\"15099\",\"actor\":\"%s/actor\"}", X.srv.base);
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 422, "an unknown district code");
    tl_resp_free(&r);
    snprintf(body, sizeof body, "{\"code\":\"15\",\"actor\":\"%s/actor\"}", X.srv.base);
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 422, "the state's own code is no district");
    tl_resp_free(&r);
    const char *dargv[] = {"district", "add", "--data",   tl_node_data(&D[0]),
                           "--code",   XCODE, X.srv.base, NULL};
    CHECK(tl_dinet(NULL, NULL, dargv) != 0, "a district node keeps no registry");

    const char *largv[] = {"district", "list", "--data", tl_node_data(&S), NULL};
    char *out = NULL;
    tl_dinet(NULL, &out, largv);
    CHECK(out && strstr(out, CODE[0]) && strstr(out, CODE[1]) && strstr(out, CODE[2]) &&
              !strstr(out, XCODE),
          "dinet district list names the three: %s", out ? out : "(none)");
    free(out);
    CHECK(tl_eventually(state_follows_all, NULL, 20), "the state follows the three districts");
}

/* ---- 1. replication -------------------------------------------------------- */

typedef struct dset {
    rec org1, m1, p1, mdel;             /* before registration */
    rec m2, p2, p3, org2, m3, p4, org3; /* live */
} dset;
static dset ds[ND];

static void seed(int i)
{
    tl_node *n = &D[i];
    dset *s = &ds[i];
    char b[2048];
    snprintf(b, sizeof b,
             "{\"name\":\"Träger %s\",\"kind\":\"welfare\",\"fields_of_action\":[\"HF2\"]}",
             CODE[i]);
    create_ok(n, "/api/v1/organisations", b, &s->org1, "organisation");
    snprintf(b, sizeof b,
             "{\"title\":\"Sprachkurs %s\",\"fields_of_action\":[\"HF3\"],\"status\":\"planned\","
             "\"progress\":10,\"start_date\":\"2025-01-01\",\"end_date\":\"2025-12-31\","
             "\"lead_organisation\":\"%s\"}",
             CODE[i], s->org1.id);
    create_ok(n, "/api/v1/measures", b, &s->m1, "measure");
    snprintf(b, sizeof b, "/api/v1/measures/%s/progress", s->m1.id);
    create_ok(n, b, "{\"date\":\"2025-03-01\",\"title\":\"Kurs gestartet\",\"progress\":20}",
              &s->p1, "progress entry");
    patch_ok(n, "measures", &s->m1, "{\"status\":\"active\",\"progress\":20}", "measure");
    snprintf(b, sizeof b, "{\"title\":\"Wird gelöscht %s\",\"fields_of_action\":[\"HF1\"]}",
             CODE[i]);
    create_ok(n, "/api/v1/measures", b, &s->mdel, "measure");
    delete_ok(n, "measures", &s->mdel, "measure");
}

static void live_writes(int i)
{
    tl_node *n = &D[i];
    dset *s = &ds[i];
    char b[2048];
    snprintf(b, sizeof b,
             "{\"title\":\"Jobmesse %s\",\"fields_of_action\":[\"HF4\"],\"themes\":[\"QT1\"],"
             "\"status\":\"active\",\"progress\":50,\"start_date\":\"2025-02-01\","
             "\"end_date\":\"2025-06-30\"}",
             CODE[i]);
    create_ok(n, "/api/v1/measures", b, &s->m2, "measure");
    snprintf(b, sizeof b, "/api/v1/measures/%s/progress", s->m2.id);
    create_ok(n, b, "{\"date\":\"2025-03-15\",\"title\":\"Erste Messe\",\"progress\":60}", &s->p2,
              "progress entry");
    create_ok(n, b, "{\"date\":\"2025-06-30\",\"title\":\"Abschluss\",\"progress\":100}", &s->p3,
              "progress entry");
    patch_ok(n, "measures", &s->m2, "{\"progress\":60}", "measure");
    patch_ok(n, "measures", &s->m2, "{\"status\":\"completed\",\"progress\":100}", "measure");
    snprintf(b, sizeof b,
             "{\"name\":\"Migrantenverein %s\",\"kind\":\"migrant_organisation\","
             "\"fields_of_action\":[\"HF5\"]}",
             CODE[i]);
    create_ok(n, "/api/v1/organisations", b, &s->org2, "organisation");
    snprintf(b, sizeof b, "{\"name\":\"Migrantenverein %s e. V.\"}", CODE[i]);
    patch_ok(n, "organisations", &s->org2, b, "organisation");
    delete_ok(n, "progress", &s->p2, "progress entry");
    snprintf(b, sizeof b, "{\"title\":\"Kurzlebig %s\",\"fields_of_action\":[\"HF6\"]}", CODE[i]);
    create_ok(n, "/api/v1/measures", b, &s->m3, "measure");
    snprintf(b, sizeof b, "/api/v1/measures/%s/progress", s->m3.id);
    create_ok(n, b, "{\"date\":\"2025-04-01\",\"title\":\"Geht mit\"}", &s->p4, "progress entry");
    delete_ok(n, "measures", &s->m3, "measure with a progress entry");
    s->p4.version++; /* its tombstone */
    create_ok(n, "/api/v1/organisations", "{\"name\":\"Einmal da\",\"kind\":\"other\"}", &s->org3,
              "organisation");
    delete_ok(n, "organisations", &s->org3, "organisation");
}

/* GET on the state: status and version of one record. */
static long state_get(const char *kind, const rec *r, long long *version, json_t **doc)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/%s/%s", kind, r->id);
    long st;
    json_t *j = tl_get_json(&S, path, NULL, &st);
    if (version)
        *version = tl_jint(j, "version");
    if (doc)
        *doc = j;
    else
        json_decref(j);
    return st;
}

static void spot_check_lists(int i, const char *kind)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/%s?limit=100", kind);
    json_t *own = tl_get_json(&D[i], path, NULL, NULL);
    snprintf(path, sizeof path, "/api/v1/%s?district=%s&limit=100", kind, CODE[i]);
    json_t *st = tl_get_json(&S, path, NULL, NULL);
    CHECK(tl_jint(own, "total") > 0 && tl_jint(own, "total") == tl_jint(st, "total"),
          "%s of %s: %lld on the district, %lld on the state", kind, CODE[i], tl_jint(own, "total"),
          tl_jint(st, "total"));
    size_t k;
    json_t *it;
    int bad = 0, checked = 0;
    json_array_foreach(json_object_get(st, "items"), k, it)
    {
        char home[256];
        snprintf(home, sizeof home, "%s/%s/%s", D[i].srv.base, kind, tl_jstr(it, "id"));
        if (!tl_jstr(it, "district") || strcmp(tl_jstr(it, "district"), CODE[i]) ||
            !tl_jstr(it, "home_url") || strcmp(tl_jstr(it, "home_url"), home))
            bad++;
        size_t m;
        json_t *o;
        json_array_foreach(json_object_get(own, "items"), m, o)
        {
            if (!strcmp(tl_jstr(o, "id"), tl_jstr(it, "id"))) {
                checked++;
                if (tl_jint(o, "version") != tl_jint(it, "version"))
                    bad++;
            }
        }
    }
    CHECK(bad == 0 && checked == (int)tl_jint(own, "total"),
          "state's %s?district=%s: district, home_url and version of every item (%d bad, %d of "
          "%lld matched)",
          kind, CODE[i], bad, checked, tl_jint(own, "total"));
    json_decref(own);
    json_decref(st);
}

/* Every registered district shows a last contact, accepted activities,
 * its 6 live records and no error. */
static bool registry_ok(void *arg)
{
    (void)arg;
    json_t *reg = tl_get_json(&S, "/api/v1/districts", NULL, NULL);
    size_t k;
    json_t *it;
    bool ok = json_array_size(json_object_get(reg, "items")) == ND;
    json_array_foreach(json_object_get(reg, "items"), k, it) ok =
        ok && tl_jstr(it, "last_contact") && tl_jint(it, "accepted") > 0 &&
        json_is_null(json_object_get(it, "last_error")) && tl_jint(it, "records") == 6;
    json_decref(reg);
    return ok;
}

static void replication(void)
{
    for (int i = 0; i < ND; i++)
        seed(i);
    register_districts();
    for (int i = 0; i < ND; i++)
        live_writes(i);
    CHECK(tl_eventually(all_hashes_equal, NULL, 30),
          "the three districts' summaries equal the state's (backfilled and live records)");
    check_pairs("after live writes");

    for (int i = 0; i < ND; i++) {
        dset *s = &ds[i];
        long long v = 0;
        json_t *doc = NULL;
        CHECK_INT(state_get("measures", &s->m1, &v, &doc), 200, "backfilled measure on the state");
        CHECK_INT(v, 2, "backfilled measure's version");
        char home[256];
        snprintf(home, sizeof home, "%s/measures/%s", D[i].srv.base, s->m1.id);
        CHECK_STR(tl_jstr(doc, "home_url"), home, "home_url of a replicated measure");
        CHECK_STR(tl_jstr(doc, "district"), CODE[i], "district of a replicated measure");
        CHECK_STR(tl_jstr(doc, "lead_organisation"), s->org1.id, "its lead organisation");
        json_decref(doc);
        CHECK_INT(state_get("measures", &s->m2, &v, NULL), 200, "live measure on the state");
        CHECK_INT(v, 3, "live measure updated twice");
        CHECK_INT(state_get("organisations", &s->org2, &v, &doc), 200, "organisation on the state");
        CHECK_INT(v, 2, "organisation's version");
        char name[64];
        snprintf(name, sizeof name, "Migrantenverein %s e. V.", CODE[i]);
        CHECK_STR(tl_jstr(doc, "name"), name, "organisation's updated name");
        json_decref(doc);
        CHECK_INT(state_get("progress", &s->p1, &v, NULL), 200, "progress entry on the state");
        CHECK_INT(state_get("progress", &s->p3, &v, NULL), 200, "progress entry on the state");
        CHECK_INT(state_get("measures", &s->mdel, NULL, NULL), 410,
                  "a measure deleted before registration is gone on the state");
        CHECK_INT(state_get("progress", &s->p2, NULL, NULL), 410, "deleted progress entry");
        CHECK_INT(state_get("measures", &s->m3, NULL, NULL), 410, "deleted measure");
        CHECK_INT(state_get("progress", &s->p4, NULL, NULL), 410,
                  "a progress entry deleted with its measure");
        CHECK_INT(state_get("organisations", &s->org3, NULL, NULL), 410, "deleted organisation");
        spot_check_lists(i, "measures");
        spot_check_lists(i, "organisations");
    }
    json_t *all = tl_get_json(&S, "/api/v1/measures?limit=1", NULL, NULL);
    CHECK_INT(tl_jint(all, "total"), 3 * 2, "the state lists the live measures of all districts");
    json_decref(all);

    /* The sync state: a sync that overlapped the live writes may have
     * flagged a difference; the next one (sync_interval 1 s) clears it. */
    bool ok = tl_eventually(registry_ok, NULL, 10);
    json_t *reg = tl_get_json(&S, "/api/v1/districts", NULL, NULL);
    size_t k;
    json_t *it;
    CHECK_INT(json_array_size(json_object_get(reg, "items")), ND, "three districts registered");
    json_array_foreach(json_object_get(reg, "items"), k, it)
    {
        CHECK(ok, "sync state of %s: last contact %s, accepted %lld, records %lld, error %s",
              tl_jstr(it, "code"), tl_jstr(it, "last_contact"), tl_jint(it, "accepted"), tl_jint(it, "records"),
              tl_jstr(it, "last_error"));
    }
    json_decref(reg);
}

/* ---- 2. rejections ------------------------------------------------------- */

typedef struct signer {
    fed_keys keys;
    char base[64], actor[128], key_id[160], ed_id[160], code[8];
} signer;

static json_t *as2_ctx; /* the @context of a real district activity */

static int signer_load(signer *s, const tl_node *n, const char *code)
{
    char dir[700];
    snprintf(dir, sizeof dir, "%s/keys", tl_node_data(n));
    snprintf(s->base, sizeof s->base, "%s", n->srv.base);
    snprintf(s->actor, sizeof s->actor, "%s/actor", n->srv.base);
    snprintf(s->key_id, sizeof s->key_id, "%s/actor#main-key", n->srv.base);
    snprintf(s->ed_id, sizeof s->ed_id, "%s/actor#ed25519-key", n->srv.base);
    snprintf(s->code, sizeof s->code, "%s", code);
    return fed_keys_load(dir, &s->keys);
}

/* POSTs body to the state's shared inbox, HTTP-signed with s's RSA key. */
static long post_inbox(const signer *s, const char *body, char **detail)
{
    char url[128], host[64];
    snprintf(url, sizeof url, "%s/inbox", S.srv.base);
    snprintf(host, sizeof host, "%s", strstr(S.srv.base, "://") + 3);
    httpsig_out sig = {0};
    if (httpsig_sign(s->keys.rsa, s->key_id, "POST", "/inbox", host, body, strlen(body),
                     "application/activity+json", 0, &sig))
        return -1;
    char h_date[128], h_dig[160], *h_sig = malloc(strlen(sig.signature) + 16);
    snprintf(h_date, sizeof h_date, "Date: %s", sig.date);
    snprintf(h_dig, sizeof h_dig, "Digest: %s", sig.digest);
    sprintf(h_sig, "Signature: %s", sig.signature);
    const char *hdrs[] = {"Content-Type: application/activity+json", h_date, h_dig, h_sig, NULL};
    tl_resp r;
    long st = tl_http(&r, "POST", url, hdrs, body, NULL) ? -1 : r.status;
    if (detail)
        *detail = strdup(r.body ? r.body : "");
    tl_resp_free(&r);
    free(h_sig);
    httpsig_out_free(&sig);
    return st;
}

/* A measure record as a district serves it, with home URL on `host_base`. */
static json_t *measure_record(const char *host_base, const char *id, long long version,
                              const char *title)
{
    char url[256];
    snprintf(url, sizeof url, "%s/measures/%s", host_base, id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[], s:s, s:i, s:n, s:n, s:n, s:[], s:[], "
                     "s:[], s:I, s:s, s:s}",
                     "id", id, "type", "measure", "url", url, "title", title, "description", "",
                     "fields_of_action", "HF1", "themes", "status", "planned", "progress", 0,
                     "start_date", "end_date", "lead_organisation", "partner_organisations",
                     "target_groups", "indicators", "version", (json_int_t)version, "created",
                     "2025-05-01T10:00:00Z", "updated", "2025-05-01T10:00:00Z");
}

/* A signed activity by s about record (stolen): the object names
 * object_code as its district and sits at the record's URL. */
static char *activity_json(const signer *s, const char *type, json_t *record,
                           const char *object_code, bool prove)
{
    static int seq;
    char id[256];
    snprintf(id, sizeof id, "%s/activities/crafted-%d-%d", s->base, (int)getpid(), ++seq);
    const char *url = tl_jstr(record, "url");
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "id", url, "type", "Article", "url",
                            url, "districtCode", object_code, "recordVersion",
                            json_object_get(record, "version"), "record", record);
    json_decref(record);
    char followers[160];
    snprintf(followers, sizeof followers, "%s/followers", s->actor);
    json_t *a =
        json_pack("{s:O, s:s, s:s, s:s, s:s, s:[s], s:[s], s:o}", "@context", as2_ctx, "id", id,
                  "type", type, "actor", s->actor, "published", "2025-05-01T10:00:00Z", "to",
                  "https://www.w3.org/ns/activitystreams#Public", "cc", followers, "object", obj);
    if (prove && proof_sign(a, s->keys.ed_sk, s->ed_id, "assertionMethod", 0))
        CHECK(0, "proof_sign");
    char *txt = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return txt;
}

/* Replaces the first occurrence of from in txt by to, which is not longer. */
static void replace_once(char *txt, const char *from, const char *to)
{
    char *p = strstr(txt, from);
    size_t fl = strlen(from), tl = strlen(to);
    CHECK(p && tl <= fl, "replace '%s' by '%s'", from, to);
    if (!p || tl > fl)
        return;
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
}

static void expect_refused(const signer *s, char *body, long want, const char *reason,
                           const char *what)
{
    char *detail = NULL;
    long st = post_inbox(s, body, &detail);
    CHECK(st == want && detail && strstr(detail, reason), "%s: got %ld, want %ld with '%s': %s",
          what, st, want, reason, detail ? detail : "");
    free(detail);
    free(body);
}

static int log_has(const char *needle)
{
    return tl_log_count(&S, needle);
}

static void rejections(void)
{
    signer a, x, b;
    CHECK_INT(signer_load(&a, &D[0], CODE[0]), 0, "load 15003's keys");
    CHECK_INT(signer_load(&b, &D[1], CODE[1]), 0, "load 15085's keys");
    CHECK_INT(signer_load(&x, &X, XCODE), 0, "load 15089's keys");
    json_t *page = tl_get_json(&D[0], "/actor/outbox?page=true&limit=1", NULL, NULL);
    as2_ctx = json_incref(
        json_object_get(json_array_get(json_object_get(page, "orderedItems"), 0), "@context"));
    json_decref(page);
    CHECK(as2_ctx != NULL, "a real activity's @context");

    char before[ND][65];
    for (int i = 0; i < ND; i++) {
        char path[64];
        snprintf(path, sizeof path, "/api/v1/summary?district=%s", CODE[i]);
        json_t *j = tl_get_json(&S, path, NULL, NULL);
        snprintf(before[i], sizeof before[i], "%s", tl_jstr(j, "hash") ? tl_jstr(j, "hash") : "");
        json_decref(j);
    }

    /* Control: 15003's own record, as stored, signed by 15003: valid, and
     * ignored because the state has this version already. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s", ds[0].m1.id);
    json_t *own = tl_get_json(&D[0], path, NULL, NULL);
    char *body = activity_json(&a, "Update", own, CODE[0], true);
    char *detail = NULL;
    long st = post_inbox(&a, body, &detail);
    CHECK(st == 202 && detail && strstr(detail, "not newer"),
          "control: a correctly signed replay of a known version is accepted and ignored: %ld %s",
          st, detail ? detail : "");
    free(detail);
    free(body);

    /* A district claiming another district's code. */
    expect_refused(&a,
                   activity_json(&a, "Create", measure_record(a.base, "m-forged-code", 1, "Fremd"),
                                 CODE[1], true),
                   403, "claims district 15085", "districtCode of 15085 signed by 15003");
    json_t *mrec = measure_record(a.base, "m-forged-rec", 1, "Fremd");
    json_object_set_new(mrec, "district", json_string(CODE[1]));
    expect_refused(&a, activity_json(&a, "Create", mrec, CODE[0], true), 403, "claims district",
                   "record.district of 15085 signed by 15003");
    expect_refused(&a,
                   activity_json(&a, "Create", measure_record(b.base, "m-forged-host", 1, "Fremd"),
                                 CODE[0], true),
                   403, "not on the district's host", "a record URL on 15085's host");
    /* 15085's real measure, overwritten by 15003 with a higher version. */
    expect_refused(
        &a,
        activity_json(&a, "Update",
                      measure_record(a.base, ds[1].m2.id, ds[1].m2.version + 5, "Übernommen"),
                      CODE[0], true),
        403, "belongs to another district", "another district's record id");
    expect_refused(&a,
                   activity_json(&a, "Create", measure_record(a.base, "m-forged-noproof", 1, "X"),
                                 CODE[0], false),
                   403, "must carry an eddsa-jcs-2022 proof", "no proof");

    /* Altered after signing: the record, or the proofValue. */
    body = activity_json(&a, "Create", measure_record(a.base, "m-forged-alter", 1, "Original"),
                         CODE[0], true);
    replace_once(body, "\"Original\"", "\"Falsche\"");
    expect_refused(&a, body, 401, "proof", "a record changed after its proof");
    body = activity_json(&a, "Create", measure_record(a.base, "m-forged-pv", 1, "Original"),
                         CODE[0], true);
    char *pv = strstr(body, "\"proofValue\":\"z");
    if (pv)
        pv[18] = pv[18] == 'A' ? 'B' : 'A';
    expect_refused(&a, body, 401, "proof", "a changed proofValue");
    /* Signed with 15089's Ed25519 key, but naming 15003's key. */
    body = NULL;
    {
        signer mixed = a;
        memcpy(mixed.keys.ed_sk, x.keys.ed_sk, sizeof mixed.keys.ed_sk);
        body = activity_json(&mixed, "Create", measure_record(a.base, "m-forged-key", 1, "X"),
                             CODE[0], true);
    }
    expect_refused(&a, body, 401, "proof", "a proof by another key");

    /* An unregistered district, with its own valid keys and records. */
    expect_refused(&x,
                   activity_json(&x, "Create",
                                 measure_record(x.base, "m-unregistered", 1, "Salzland"), XCODE,
                                 true),
                   403, "is not a registered district", "an unregistered district");

    for (int i = 0; i < ND; i++) {
        char path2[64];
        snprintf(path2, sizeof path2, "/api/v1/summary?district=%s", CODE[i]);
        json_t *j = tl_get_json(&S, path2, NULL, NULL);
        CHECK_STR(tl_jstr(j, "hash"), before[i], "nothing changed on the state");
        json_decref(j);
    }
    json_t *j = tl_get_json(&S, "/api/v1/summary?district=15089", NULL, NULL);
    CHECK_INT(tl_jint(j, "records"), 0, "nothing stored for the unregistered district");
    json_decref(j);
    const char *forged[] = {"m-forged-code",  "m-forged-rec", "m-forged-host", "m-forged-noproof",
                            "m-forged-alter", "m-forged-pv",  "m-forged-key",  "m-unregistered"};
    for (size_t k = 0; k < sizeof forged / sizeof *forged; k++) {
        rec r;
        snprintf(r.id, sizeof r.id, "%s", forged[k]);
        long s2 = state_get("measures", &r, NULL, NULL);
        CHECK(s2 == 404, "refused record %s is not on the state (%ld)", forged[k], s2);
    }
    long long v = 0;
    json_t *doc = NULL;
    state_get("measures", &ds[1].m2, &v, &doc);
    CHECK(v == ds[1].m2.version && tl_jstr(doc, "district") &&
              !strcmp(tl_jstr(doc, "district"), CODE[1]) &&
              strcmp(tl_jstr(doc, "title") ? tl_jstr(doc, "title") : "", "Übernommen"),
          "15085's record is untouched (version %lld)", v);
    json_decref(doc);

    /* The reasons are in the state's log. */
    CHECK(log_has("the record claims district 15085, but the sender is 15003") >= 1,
          "log: claimed district");
    CHECK(log_has("the record's URL is not on the district's host") >= 1, "log: foreign host");
    CHECK(log_has("this record id belongs to another district") >= 1, "log: foreign record id");
    CHECK(log_has("must carry an eddsa-jcs-2022 proof") >= 1, "log: missing proof");
    CHECK(log_has("outcome=bad_proof") >= 3, "log: altered proofs (%d)",
          log_has("outcome=bad_proof"));
    CHECK(log_has("is not a registered district") >= 1, "log: unregistered district");
    CHECK(log_has("event=district.rejected district=15003") >= 5,
          "log: each rule's rejection is logged per district (%d)",
          log_has("event=district.rejected district=15003"));
    json_t *reg = tl_get_json(&S, "/api/v1/districts", NULL, NULL);
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(reg, "items"), k, it) if (!strcmp(tl_jstr(it, "code"), CODE[0]))
        CHECK(tl_jint(it, "rejected") >= 5 && tl_jstr(it, "last_rejection"),
              "rejections are counted for 15003 (%lld)", tl_jint(it, "rejected"));
    json_decref(reg);
    fed_keys_free(&a.keys);
    fed_keys_free(&b.keys);
    fed_keys_free(&x.keys);
}

/* ---- 3. outage ---------------------------------------------------------- */

typedef struct writer {
    int i, n;         /* district index, changes to make */
    int made, errors; /* changes made (new versions), failed requests */
    int creates, updates;
    long last_status;
} writer;

static void *write_changes(void *arg)
{
    writer *w = arg;
    tl_node *n = &D[w->i];
    enum { MAXR = 1024 };
    rec *ms = calloc(MAXR, sizeof *ms), *os = calloc(MAXR, sizeof *os);
    int nm = 0, no = 0;
    unsigned seed = 1234u + (unsigned)w->i;
    char b[2048];
    for (int k = 0; k < w->n; k++) {
        int r = k % 10;
        long st;
        if (nm == 0 || ((r == 0 || r == 3 || r == 6) && nm < MAXR)) {
            if (no && r == 6)
                snprintf(b, sizeof b,
                         "{\"title\":\"Massnahme %s %d\",\"fields_of_action\":[\"HF%d\"],"
                         "\"status\":\"active\",\"progress\":%d,\"lead_organisation\":\"%s\"}",
                         CODE[w->i], k, 1 + k % 7, k % 101, os[rand_r(&seed) % (unsigned)no].id);
            else
                snprintf(
                    b, sizeof b,
                    "{\"title\":\"Massnahme %s %d\",\"fields_of_action\":[\"HF%d\"],"
                    "\"progress\":%d,\"start_date\":\"2025-01-01\",\"end_date\":\"2026-%02d-28\"}",
                    CODE[w->i], k, 1 + k % 7, k % 101, 1 + k % 12);
            st = api_create(n, "/api/v1/measures", b, &ms[nm]);
            if (st == 201) {
                nm++;
                w->creates++;
            }
        } else if (r == 1 && no < MAXR) {
            snprintf(b, sizeof b,
                     "{\"name\":\"Verein %s "
                     "%d\",\"kind\":\"civil_society\",\"fields_of_action\":[\"HF5\"]}",
                     CODE[w->i], k);
            st = api_create(n, "/api/v1/organisations", b, &os[no]);
            if (st == 201) {
                no++;
                w->creates++;
            }
        } else if (r == 8) {
            char path[96];
            snprintf(path, sizeof path, "/api/v1/measures/%s/progress",
                     ms[rand_r(&seed) % (unsigned)nm].id);
            snprintf(b, sizeof b,
                     "{\"date\":\"2025-%02d-%02d\",\"title\":\"Stand %d\",\"progress\":%d}",
                     1 + k % 12, 1 + k % 28, k, k % 101);
            rec p;
            st = api_create(n, path, b, &p);
            if (st == 201)
                w->creates++;
        } else if (r == 5 && no) {
            snprintf(b, sizeof b, "{\"name\":\"Verein %s, Stand %d\"}", CODE[w->i], k);
            st = api_patch(n, "organisations", &os[rand_r(&seed) % (unsigned)no], b);
            if (st == 200)
                w->updates++;
        } else {
            snprintf(b, sizeof b, "{\"title\":\"Massnahme %s, Stand %d\",\"progress\":%d}",
                     CODE[w->i], k, k % 101);
            st = api_patch(n, "measures", &ms[rand_r(&seed) % (unsigned)nm], b);
            if (st == 200)
                w->updates++;
        }
        if (st == 200 || st == 201)
            w->made++;
        else {
            w->errors++;
            w->last_status = st;
        }
    }
    free(ms);
    free(os);
    return NULL;
}

static int scale(void)
{
    const char *s = getenv("DINET_TEST_SCALE");
    int n = s ? atoi(s) : 1;
    return n >= 1 ? n : 1;
}

static void outage(void)
{
    int total = 1000 / scale();
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state stops cleanly");
    double t0 = tl_mono();
    writer w[ND];
    pthread_t th[ND];
    for (int i = 0; i < ND; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].i = i;
        w[i].n = total / ND + (i < total % ND);
        pthread_create(&th[i], NULL, write_changes, &w[i]);
    }
    int made = 0, creates = 0, updates = 0;
    for (int i = 0; i < ND; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0, "district %s: %d of its writes failed (last status %ld)", CODE[i],
              w[i].errors, w[i].last_status);
        made += w[i].made;
        creates += w[i].creates;
        updates += w[i].updates;
    }
    double t1 = tl_mono();
    CHECK_INT(made, total, "changes written while the state was down");
    CHECK(creates > 0 && updates > 0, "a mix of creates (%d) and updates (%d)", creates, updates);
    printf("# outage: %d changes (%d creates, %d updates) in %.1f s while the state was down\n",
           made, creates, updates, t1 - t0);

    CHECK_INT(tl_node_restart(&S), 0, "the state comes back");
    double t2 = tl_mono();
    bool ok = tl_eventually(all_pairs_equal, NULL, 60);
    double t3 = tl_mono();
    CHECK(ok, "after the outage the state converges by itself to every (id, version) pair");
    printf("# outage: converged %.1f s after the restart\n", t3 - t2);
    check_pairs("after the outage");
    CHECK(all_hashes_equal(NULL), "summary hashes equal after the outage");
}

/* ---- 4. lost deliveries ------------------------------------------------- */

/* Runs one SQL statement on a stopped node's database; returns the rows
 * changed, or -1. One text parameter may be bound (?1). */
static int sql_exec(const tl_node *n, const char *sql, const char *param)
{
    char path[700];
    snprintf(path, sizeof path, "%s/dinet.db", tl_node_data(n));
    sqlite3 *h = NULL;
    int changed = -1;
    if (sqlite3_open(path, &h) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
            if (param)
                sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_DONE)
                changed = sqlite3_changes(h);
        } else {
            fprintf(stderr, "sql: %s\n", sqlite3_errmsg(h));
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return changed;
}

/* The first column of the first row of a query, malloc'd, or NULL (a read;
 * the node may be running). */
static char *sql_text(const tl_node *n, const char *sql)
{
    char path[700];
    snprintf(path, sizeof path, "%s/dinet.db", tl_node_data(n));
    sqlite3 *h = NULL;
    char *out = NULL;
    if (sqlite3_open(path, &h) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            out = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return out;
}

/* The quoted ids of the activities whose deliveries were dropped, as an SQL
 * list. */
static char *lost_ids;

/* With the state down, district i makes k changes (creates, updates, one
 * delete); then, with the district stopped, its pending deliveries are
 * marked done without being sent, and the district starts again. */
static void lose_deliveries(int i, int k, const char *tag, rec *first)
{
    tl_node *n = &D[i];
    char b[256];
    int made = 0, nrec = 0;
    rec rs[64];
    char *since = sql_text(n, "SELECT coalesce(max(id), 0) FROM deliveries");
    for (int c = 0; c < k; c++) {
        long st;
        if (nrec == 0 || c % 3 == 0) {
            snprintf(b, sizeof b, "{\"title\":\"%s change %s %d\",\"fields_of_action\":[\"HF2\"]}",
                     tag, CODE[i], c);
            st = api_create(n, "/api/v1/measures", b, &rs[nrec]);
            if (st == 201)
                nrec++;
        } else if (c == k - 1) {
            st = api_delete(n, "measures", &rs[nrec - 1]);
        } else {
            snprintf(b, sizeof b, "{\"title\":\"%s change %s %d\",\"progress\":%d}", tag, CODE[i],
                     c, c);
            st = api_patch(n, "measures", &rs[c % nrec], b);
        }
        made += st == 200 || st == 201;
    }
    CHECK_INT(made, k, "changes while the state is down");
    if (first)
        *first = rs[0];
    CHECK_INT(tl_server_stop(&n->srv), 0, "the district stops cleanly");
    /* The deliveries of these k changes: none was attempted successfully,
     * as the state was down throughout. */
    char q[200];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM deliveries WHERE state='superseded' AND id > %s",
             since ? since : "0");
    char *sup_txt = sql_text(n, q);
    int superseded = sup_txt ? atoi(sup_txt) : 0;
    free(sup_txt);
    snprintf(q, sizeof q,
             "SELECT group_concat(quote(activity_id)) FROM deliveries WHERE state='pending' "
             "AND id > %s",
             since ? since : "0");
    free(since);
    char *ids = sql_text(n, q);
    if (ids) {
        size_t need = strlen(lost_ids) + strlen(ids) + 2;
        char *all = malloc(need);
        snprintf(all, need, "%s%s%s", lost_ids, lost_ids[0] ? "," : "", ids);
        free(lost_ids);
        lost_ids = all;
        free(ids);
    }
    int lost = sql_exec(n, "UPDATE deliveries SET state='done' WHERE state='pending'", NULL);
    /* Updates superseded by a later change of the same measure were never
     * to be sent (federation.md, section 7). */
    CHECK(superseded > 0 && lost + superseded >= k,
          "%d pending deliveries marked done without being sent, %d superseded (want >= %d in all)",
          lost, superseded, k);
    CHECK_INT(tl_node_restart(n), 0, "the district starts again");
}

static void lost_deliveries(void)
{
    int i = 2; /* 15088 */
    lost_ids = strdup("");
    /* (a) Lost deliveries: the state catches up from the district's outbox. */
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state stops cleanly");
    rec first;
    lose_deliveries(i, 30, "Lost", &first);
    json_t *q = tl_get_json(&D[i], "/api/v1/federation/deliveries", D[i].token[TL_VIEWER], NULL);
    CHECK(tl_jint(q, "pending") == 0 && tl_jint(q, "failed") == 0,
          "nothing is left to deliver (pending %lld, failed %lld)", tl_jint(q, "pending"),
          tl_jint(q, "failed"));
    json_decref(q);
    CHECK_INT(tl_node_restart(&S), 0, "the state comes back");
    double t0 = tl_mono();
    CHECK(tl_eventually(hash_equal_cb, &i, 30), "lost deliveries: the summaries agree again");
    printf("# lost deliveries (outbox after the cursor): reconciled in %.1f s\n", tl_mono() - t0);
    check_pairs("after lost deliveries");

    /* (b) The same, with the state's cursor already past the lost
     * activities: only the summary check can find them. */
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state stops cleanly");
    lose_deliveries(i, 20, "Unseen", NULL);
    char *newest = sql_text(&D[i], "SELECT activity_id FROM outbox ORDER BY seq DESC LIMIT 1");
    CHECK(newest != NULL, "the district's newest activity");
    CHECK_INT(sql_exec(&S, "UPDATE districts SET cursor=?1 WHERE code='15088'", newest), 1,
              "the state's cursor moved past the lost activities");
    free(newest);
    const char *needle = "event=district.reconcile district=15088";
    int before = log_has(needle);
    CHECK_INT(tl_node_restart(&S), 0, "the state comes back");
    t0 = tl_mono();
    CHECK(tl_eventually(hash_equal_cb, &i, 30), "summary check: the summaries agree again");
    printf("# lost deliveries (summary check, full replay): reconciled in %.1f s\n", tl_mono() - t0);
    CHECK(log_has(needle) > before, "the summary check found the difference (%d -> %d)", before,
          log_has(needle));
    check_pairs("after the summary check");

    /* (c) An activity altered in the district's outbox after signing is
     * refused when the state replays the outbox; the state keeps the
     * genuine version. */
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state stops cleanly");
    CHECK_INT(tl_server_stop(&D[i].srv), 0, "the district stops cleanly");
    char url[256];
    snprintf(url, sizeof url, "%s/measures/%s", D[i].srv.base, first.id);
    CHECK_INT(sql_exec(&D[i],
                       "UPDATE outbox SET activity=replace(activity, 'Lost change', 'Fake change') "
                       "WHERE seq=(SELECT max(seq) FROM outbox WHERE object_id=?1)",
                       url),
              1, "one outbox activity altered after signing");
    /* None of the lost activities ever reached the state's inbox: what the
     * state has of them came by pulling. */
    size_t qlen = strlen(lost_ids) + 128;
    char *sql = malloc(qlen);
    snprintf(sql, qlen, "SELECT count(*) FROM inbox_log WHERE activity_id IN (%s)", lost_ids);
    char *in_inbox = sql_text(&S, sql);
    CHECK(in_inbox && !strcmp(in_inbox, "0") && strchr(lost_ids, ','),
          "the dropped activities never reached the state's inbox (%s of them did)",
          in_inbox ? in_inbox : "?");
    free(in_inbox);
    free(sql);
    CHECK_INT(sql_exec(&S, "UPDATE districts SET cursor='' WHERE code='15088'", NULL), 1,
              "the state will replay the whole outbox");
    const char *bad = "proof does not verify with the pinned key";
    before = log_has(bad);
    CHECK_INT(tl_node_restart(&D[i]), 0, "the district starts again");
    CHECK_INT(tl_node_restart(&S), 0, "the state comes back");
    bool logged = false;
    for (int t = 0; t < 100 * SLOW && !logged; t++) {
        logged = log_has(bad) > before;
        if (!logged)
            usleep(100000);
    }
    CHECK(logged, "the altered outbox activity is refused with its reason");
    json_t *doc = NULL;
    long st = state_get("measures", &first, NULL, &doc);
    CHECK(st == 200 && tl_jstr(doc, "title") && strstr(tl_jstr(doc, "title"), "Lost change"),
          "the state keeps the genuine record (%ld, %s)", st, tl_jstr(doc, "title"));
    json_decref(doc);
    CHECK(hash_equal(i), "summaries still agree");
    free(lost_ids);
}

/* ---- 5. statewide figures and provenance -------------------------------- */

static void figures(void)
{
    json_t *state = tl_get_json(&S, "/api/v1/stats", NULL, NULL);
    json_t *sd = json_object_get(state, "districts");
    long long sum = 0;
    for (int i = 0; i < ND; i++) {
        json_t *own = tl_get_json(&D[i], "/api/v1/stats", NULL, NULL);
        json_t *o = json_object_get(json_object_get(own, "districts"), CODE[i]);
        json_t *s = json_object_get(sd, CODE[i]);
        json_t *list = tl_get_json(&D[i], "/api/v1/measures?limit=1", NULL, NULL);
        CHECK(tl_jint(o, "measures") > 0 && tl_jint(o, "measures") == tl_jint(s, "measures") &&
                  tl_jint(list, "total") == tl_jint(s, "measures"),
              "measures of %s: %lld on the state, %lld in the district's stats, %lld listed",
              CODE[i], tl_jint(s, "measures"), tl_jint(o, "measures"), tl_jint(list, "total"));
        CHECK(json_equal(json_object_get(o, "by_status"), json_object_get(s, "by_status")),
              "measures by status of %s agree", CODE[i]);
        CHECK(json_equal(json_object_get(o, "organisations_by_kind"),
                         json_object_get(s, "organisations_by_kind")),
              "organisations by kind of %s agree", CODE[i]);
        CHECK(json_equal(json_object_get(o, "by_field"), json_object_get(s, "by_field")),
              "measures by field of action of %s agree", CODE[i]);
        sum += tl_jint(s, "measures");
        json_decref(own);
        json_decref(list);
    }
    CHECK_INT(tl_jint(json_object_get(state, "state"), "measures"), sum,
              "the state's total is the sum of the districts'");
    CHECK_INT(json_object_size(sd), ND, "the statewide figures cover the three districts");
    json_decref(state);

    /* Provenance of replicated records, live and deleted. */
    for (int i = 0; i < ND; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/provenance/%s", ds[i].m2.id);
        long st;
        json_t *p = tl_get_json(&S, path, NULL, &st);
        CHECK_INT(st, 200, "provenance of a replicated measure");
        CHECK(json_is_true(json_object_get(p, "verified")), "its proof verifies: %s",
              tl_jstr(p, "reason") ? tl_jstr(p, "reason") : "");
        CHECK_STR(tl_jstr(p, "district"), CODE[i], "provenance names the district");
        CHECK_STR(tl_jstr(json_object_get(p, "key"), "fingerprint"), fp_ed[i],
                  "provenance names the district's pinned Ed25519 key");
        json_t *act = json_object_get(p, "activity");
        CHECK(tl_jint(json_object_get(act, "object"), "recordVersion") == ds[i].m2.version &&
                  tl_jstr(json_object_get(act, "proof"), "proofValue"),
              "the kept activity is the latest version with its proof");
        json_decref(p);
        snprintf(path, sizeof path, "/api/v1/provenance/%s", ds[i].m3.id);
        p = tl_get_json(&S, path, NULL, &st);
        CHECK(st == 200 && json_is_true(json_object_get(p, "verified")) &&
                  !strcmp(tl_jstr(json_object_get(p, "activity"), "type")
                              ? tl_jstr(json_object_get(p, "activity"), "type")
                              : "",
                          "Delete"),
              "a tombstone's provenance is its signed Delete (%ld)", st);
        json_decref(p);
    }
    long st;
    json_t *p = tl_get_json(&S, "/api/v1/provenance/m-doesnotexist", NULL, &st);
    CHECK_INT(st, 404, "no provenance for an unknown record");
    json_decref(p);

    json_t *tl = tl_get_json(&S, "/api/v1/timeline?limit=200", NULL, NULL);
    size_t k;
    json_t *it;
    int bad = 0, n = 0;
    json_array_foreach(json_object_get(tl, "items"), k, it)
    {
        n++;
        const char *d = tl_jstr(it, "district"), *home = tl_jstr(it, "home_url");
        int idx = -1;
        for (int i = 0; i < ND; i++)
            if (d && !strcmp(d, CODE[i]))
                idx = i;
        if (idx < 0 || !home || strncmp(home, D[idx].srv.base, strlen(D[idx].srv.base)))
            bad++;
    }
    CHECK(n > 0 && bad == 0, "timeline: %d progress entries, %d without district or home link", n,
          bad);
    json_decref(tl);

    for (int i = 0; i < ND; i++) {
        json_t *q = tl_get_json(&D[i], "/api/v1/federation/deliveries", D[i].token[TL_VIEWER], NULL);
        CHECK_INT(tl_jint(q, "failed"), 0, "the state refused none of a district's deliveries");
        json_decref(q);
    }
}

/* ---- 6. key rotation ------------------------------------------------------ */

static bool pinned_is_current(void *arg)
{
    int i = *(int *)arg;
    json_t *reg = tl_get_json(&S, "/api/v1/districts", NULL, NULL);
    bool ok = false;
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(reg, "items"), k, it) if (!strcmp(tl_jstr(it, "code"), CODE[i]))
        ok = tl_jstr(json_object_get(it, "fingerprints"), "ed25519") &&
             !strcmp(tl_jstr(json_object_get(it, "fingerprints"), "ed25519"), fp_ed[i]) &&
             tl_jstr(json_object_get(it, "fingerprints"), "rsa") &&
             !strcmp(tl_jstr(json_object_get(it, "fingerprints"), "rsa"), fp_rsa[i]);
    json_decref(reg);
    return ok;
}

static rec after_rotation;

/* 15003 rotates its keys: the Update signed with the old keys makes the
 * state pin the new ones, and what 15003 signs afterwards is accepted. */
static void rotation(void)
{
    int i = 0;
    char old_ed[sizeof fp_ed[0]];
    memcpy(old_ed, fp_ed[i], sizeof old_ed);
    const char *argv[] = {"keys", "rotate", "--data", tl_node_data(&D[i]), NULL};
    /* While the node runs, it delivers the Update with its old keys; should
     * the CLI refuse to rotate under a running node, rotate it stopped (the
     * state then finds the Update in the outbox). */
    bool running = true;
    if (tl_dinet(NULL, NULL, argv) != 0) {
        running = false;
        CHECK_INT(tl_server_stop(&D[i].srv), 0, "the district stops cleanly");
        CHECK_INT(tl_dinet(NULL, NULL, argv), 0, "dinet keys rotate");
        CHECK_INT(tl_node_restart(&D[i]), 0, "the district starts with its new keys");
    }
    load_fingerprints(i);
    CHECK(strcmp(old_ed, fp_ed[i]) != 0, "new Ed25519 key");
    CHECK(tl_eventually(pinned_is_current, &i, 20),
          "the state pins the rotated keys, announced with the old ones");
    if (running) {
        CHECK_INT(tl_server_stop(&D[i].srv), 0, "the district stops cleanly");
        CHECK_INT(tl_node_restart(&D[i]), 0, "the district starts with its new keys");
    }
    create_ok(&D[i], "/api/v1/measures",
              "{\"title\":\"Nach dem Schlüsselwechsel\",\"fields_of_action\":[\"HF7\"]}",
              &after_rotation, "measure");
    CHECK(tl_eventually(hash_equal_cb, &i, 20), "records signed with the new keys are accepted");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/provenance/%s", after_rotation.id);
    json_t *p = tl_get_json(&S, path, NULL, NULL);
    CHECK(json_is_true(json_object_get(p, "verified")) &&
              !strcmp(tl_jstr(json_object_get(p, "key"), "fingerprint")
                          ? tl_jstr(json_object_get(p, "key"), "fingerprint")
                          : "",
                      fp_ed[i]),
          "a record signed with the new key verifies: %s", tl_jstr(p, "reason"));
    json_decref(p);
}

/* ---- 7. strict: aggregator bugs found while writing this test -------------- */

/* The version of one record in a node's summary of district code. */
static long long summary_version(tl_node *n, const char *code, const char *id)
{
    char path[80];
    snprintf(path, sizeof path, "/api/v1/summary?district=%s&detail=1", code);
    json_t *j = tl_get_json(n, path, NULL, NULL);
    long long v = -1;
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), k,
                       it) if (!strcmp(json_string_value(json_array_get(it, 0)), id)) v =
        json_integer_value(json_array_get(it, 1));
    json_decref(j);
    return v;
}

static bool strict(void)
{
    /* On by default since every check passes; DINET_TEST_STRICT=0 skips them. */
    const char *s = getenv("DINET_TEST_STRICT");
    return !s || strcmp(s, "0");
}

/* A node holds a measure in a given version. */
typedef struct holds {
    tl_node *n;
    rec r;
} holds;

static bool node_holds(void *arg)
{
    holds *h = arg;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/measures/%s", h->r.id);
    long st;
    json_t *j = tl_get_json(h->n, path, NULL, &st);
    bool ok = st == 200 && tl_jint(j, "version") == h->r.version;
    json_decref(j);
    return ok;
}

static void strict_checks(void)
{
    char path[128];
    /* (a) Provenance survives a key rotation: records signed with the old,
     * then pinned key stay verifiable. */
    snprintf(path, sizeof path, "/api/v1/provenance/%s", ds[0].m2.id);
    json_t *p = tl_get_json(&S, path, NULL, NULL);
    CHECK(json_is_true(json_object_get(p, "verified")),
          "strict: a record signed before the key rotation still verifies: %s", tl_jstr(p, "reason"));
    json_decref(p);

    /* (b) The reason names the district the record claims (the record's
     * "district" of 15085 in phase 2), not the sender's own code. */
    CHECK(log_has("the record claims district 15003, but the sender is 15003") == 0,
          "strict: no rejection reason says a district claims its own code (%d)",
          log_has("the record claims district 15003, but the sender is 15003"));

    /* (c) A Create for a deleted record with a higher version is ignored
     * and changes nothing. */
    signer a;
    CHECK_INT(signer_load(&a, &D[0], CODE[0]), 0, "load 15003's (new) keys");
    char *body = activity_json(
        &a, "Update", measure_record(a.base, ds[0].mdel.id, ds[0].mdel.version + 1, "Wieder da"),
        CODE[0], true);
    char *detail = NULL;
    long st = post_inbox(&a, body, &detail);
    free(body);
    long gs = state_get("measures", &ds[0].mdel, NULL, NULL);
    long long v = summary_version(&S, CODE[0], ds[0].mdel.id);
    CHECK(st == 202 && gs == 410 && v == ds[0].mdel.version && hash_equal(0),
          "strict: an update of a deleted record changes nothing (%ld %s; state %ld with version "
          "%lld, want 410 with version %lld)",
          st, detail ? detail : "", gs, v, ds[0].mdel.version);
    free(detail);

    /* (d) /api/v1/districts/CODE/sync names a registered district. */
    tl_resp r;
    tl_api(&r, &S, "POST", "/api/v1/districts/15090/sync", S.token[TL_EDITOR], NULL, NULL);
    CHECK_INT(r.status, 404, "strict: sync of an unregistered district");
    tl_resp_free(&r);

    /* (e) Large records: outbox pages of 100 activities exceed the 1 MiB
     * response limit; backfill and the summary check must still work. */
    int i = 2;
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state stops cleanly");
    char *big = malloc(16000);
    memset(big, 'x', 15000);
    big[15000] = '\0';
    size_t blen = strlen(big) + 256;
    char *mb = malloc(blen);
    int made = 0;
    rec last = {0};
    for (int k = 0; k < 40; k++) {
        snprintf(mb, blen,
                 "{\"title\":\"Gross %d\",\"fields_of_action\":[\"HF3\"],\"description\":\"%s\"}",
                 k, big);
        made += api_create(&D[i], "/api/v1/measures", mb, &last) == 201;
    }
    free(mb);
    free(big);
    CHECK_INT(made, 40, "large measures written");
    CHECK_INT(tl_server_stop(&D[i].srv), 0, "the district stops cleanly");
    CHECK(sql_exec(&D[i], "UPDATE deliveries SET state='done' WHERE state='pending'", NULL) >= 40,
          "their deliveries are lost");
    CHECK_INT(tl_node_restart(&D[i]), 0, "the district starts again");
    CHECK_INT(tl_node_restart(&S), 0, "the state comes back");
    bool ok = tl_eventually(hash_equal_cb, &i, 20);
    json_t *reg = tl_get_json(&S, "/api/v1/districts", NULL, NULL);
    size_t k;
    json_t *it;
    const char *err = NULL;
    json_array_foreach(json_object_get(reg, "items"), k, it) if (!strcmp(tl_jstr(it, "code"), CODE[i]))
        err = tl_jstr(it, "last_error");
    CHECK(ok, "strict: 40 measures of 15,000 characters are backfilled (last_error: %s)",
          err ? err : "none");
    json_decref(reg);

    /* (f) `dinet district add` while the state runs with the default
     * sync_interval: the backfill starts without waiting for the interval. */
    tl_node S2;
    const char *conf[] = {"sync_interval = 300", NULL};
    if (tl_node_setup_state(&S2, "aggstate2", conf) == 0) {
        char actor[128];
        snprintf(actor, sizeof actor, "%s/actor", D[1].srv.base);
        const char *argv[] = {"district", "add",   "--data", tl_node_data(&S2),
                              "--code",   CODE[1], actor,    NULL};
        CHECK_INT(tl_dinet(NULL, NULL, argv), 0, "district add on a second state node");
        holds h = {&S2, ds[1].m1};
        ok = tl_eventually(node_holds, &h, 10);
        CHECK(ok, "strict: a district added with the CLI is backfilled within 10 s, not after "
                  "sync_interval (300 s)");
        CHECK_INT(tl_server_stop(&S2.srv), 0, "the second state exits cleanly");
    } else {
        CHECK(0, "second state node");
    }
    free(S2.dir);

    /* (h) `dinet keys rotate` on a running district that is not restarted
     * at once: it must either refuse, or the running node must sign with
     * the new keys, or what the district writes meanwhile is refused by the
     * state, which pinned the new keys, and is never replicated. */
    {
        int bi = 1;
        const char *rargv[] = {"keys", "rotate", "--data", tl_node_data(&D[bi]), NULL};
        char *out = NULL;
        int rc = tl_dinet(NULL, &out, rargv);
        free(out);
        if (rc == 0) {
            load_fingerprints(bi);
            CHECK(tl_eventually(pinned_is_current, &bi, 20), "the state pins 15085's new keys");
            rec mr;
            create_ok(&D[bi], "/api/v1/measures",
                      "{\"title\":\"Vor dem Neustart\",\"fields_of_action\":[\"HF2\"]}", &mr,
                      "measure");
            holds h = {&S, mr};
            CHECK(tl_eventually(node_holds, &h, 10),
                  "strict: what a district writes after `dinet keys rotate` (not yet "
                  "restarted) reaches the state");
            CHECK_INT(tl_server_stop(&D[bi].srv), 0, "the district stops cleanly");
            CHECK_INT(tl_node_restart(&D[bi]), 0, "the district starts with its new keys");
        }
    }

    /* (g) No district can claim another district's record id before that
     * district's record arrives: 15085 is taken off the registry, writes a
     * measure, 15003 sends a Create with that id on its own host, 15085 is
     * registered again. 15085's record must reach the state as 15085's. */
    tl_api(&r, &S, "DELETE", "/api/v1/districts/15085", S.token[TL_ADMIN], NULL, NULL);
    CHECK_INT(r.status, 200, "remove 15085");
    tl_resp_free(&r);
    rec mb2;
    create_ok(&D[1], "/api/v1/measures", "{\"title\":\"Harz, neu\",\"fields_of_action\":[\"HF1\"]}",
              &mb2, "measure");
    CHECK(!strncmp(mb2.id, "m-15085-", 8), "a new record's id carries its district's code: %s",
          mb2.id);
    body = activity_json(&a, "Create", measure_record(a.base, mb2.id, 1, "Besetzt"), CODE[0], true);
    st = post_inbox(&a, body, NULL);
    free(body);
    CHECK(st == 403 && log_has("this record id belongs to another district") > 0,
          "a Create of an id that carries another district's code is refused (%ld)", st);
    char rb[256];
    snprintf(rb, sizeof rb, "{\"code\":\"15085\",\"actor\":\"%s/actor\"}", D[1].srv.base);
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], rb, NULL);
    CHECK_INT(r.status, 201, "register 15085 again");
    tl_resp_free(&r);
    int b = 1;
    ok = tl_eventually(hash_equal_cb, &b, 15);
    json_t *doc = NULL;
    state_get("measures", &mb2, NULL, &doc);
    CHECK(ok && tl_jstr(doc, "district") && !strcmp(tl_jstr(doc, "district"), CODE[1]),
          "strict: 15003 could not take 15085's record id (its Create answered %ld; the state "
          "holds it for %s)",
          st, tl_jstr(doc, "district"));
    json_decref(doc);
    fed_keys_free(&a.keys);
}

/* The state is not among district i's followers. */
static bool state_not_follower(void *arg)
{
    int i = *(int *)arg;
    json_t *j = tl_get_json(&D[i], "/api/v1/federation/followers", D[i].token[TL_VIEWER], NULL);
    char actor[128];
    snprintf(actor, sizeof actor, "%s/actor", S.srv.base);
    bool found = false;
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), k,
                       it) if (tl_jstr(it, "actor") && !strcmp(tl_jstr(it, "actor"), actor)) found = true;
    bool ok = j && json_is_array(json_object_get(j, "items")) && !found;
    json_decref(j);
    return ok;
}

/* A removed district's next activity is refused. */
static void removal(void)
{
    tl_resp r;
    tl_api(&r, &S, "DELETE", "/api/v1/districts/15088", S.token[TL_ADMIN], NULL, NULL);
    CHECK_INT(r.status, 200, "remove a district");
    tl_resp_free(&r);
    tl_api(&r, &S, "DELETE", "/api/v1/districts/15088", S.token[TL_ADMIN], NULL, NULL);
    CHECK_INT(r.status, 404, "remove it twice");
    tl_resp_free(&r);
    int before = log_has("is not a registered district");
    signer c;
    CHECK_INT(signer_load(&c, &D[2], CODE[2]), 0, "load 15088's keys");
    char *body = activity_json(&c, "Create", measure_record(c.base, "m-after-removal", 1, "Danach"),
                               CODE[2], true);
    expect_refused(&c, body, 403, "is not a registered district", "a removed district");
    CHECK(log_has("is not a registered district") > before, "removal: reason logged");
    fed_keys_free(&c.keys);
    if (strict()) {
        /* The state stops following a removed district, so its writes no
         * longer end as refused deliveries. */
        int i = 2;
        CHECK(tl_eventually(state_not_follower, &i, 10),
              "strict: the state no longer follows a removed district");
        rec m;
        create_ok(&D[2], "/api/v1/measures",
                  "{\"title\":\"Nach der Abmeldung\",\"fields_of_action\":[\"HF1\"]}", &m,
                  "measure");
        sleep(2);
        json_t *q = tl_get_json(&D[2], "/api/v1/federation/deliveries", D[2].token[TL_VIEWER], NULL);
        CHECK(tl_jint(q, "failed") == 0 && tl_jint(q, "pending") == 0,
              "strict: a removed district no longer delivers to the state (failed %lld, pending "
              "%lld)",
              tl_jint(q, "failed"), tl_jint(q, "pending"));
        json_decref(q);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double t0 = tl_mono();
    int fail = 0;
    for (int i = 0; i < ND && !fail; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "agg%s", CODE[i]);
        fail = tl_node_setup_role(&D[i], tag, "district", CODE[i], NULL);
    }
    if (!fail)
        fail = tl_node_setup_role(&X, "agg15089", "district", XCODE, NULL);
    if (!fail)
        fail = tl_node_setup_state(&S, "aggstate", NULL);
    if (fail) {
        CHECK(0, "node setup");
        return tl_done();
    }
    double t1 = tl_mono();
    printf("# setup: %.1f s\n", t1 - t0);
    replication();
    double t2 = tl_mono();
    printf("# 1 replication: %.1f s\n", t2 - t1);
    rejections();
    double t3 = tl_mono();
    printf("# 2 rejections: %.1f s\n", t3 - t2);
    outage();
    double t4 = tl_mono();
    printf("# 3 outage: %.1f s\n", t4 - t3);
    lost_deliveries();
    double t5 = tl_mono();
    printf("# 4 lost deliveries: %.1f s\n", t5 - t4);
    figures();
    double t6 = tl_mono();
    printf("# 5 figures, provenance: %.1f s\n", t6 - t5);
    rotation();
    double t7 = tl_mono();
    printf("# 6 key rotation: %.1f s\n", t7 - t6);
    if (strict()) {
        strict_checks();
        printf("# 7 strict checks: %.1f s\n", tl_mono() - t7);
    }
    removal();
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state exits cleanly");
    for (int i = 0; i < ND; i++)
        CHECK_INT(tl_server_stop(&D[i].srv), 0, "a district exits cleanly");
    CHECK_INT(tl_server_stop(&X.srv), 0, "the fourth district exits cleanly");
    printf("# total: %.1f s\n", tl_mono() - t0);
    json_decref(as2_ctx);
    curl_global_cleanup();
    return tl_done();
}
