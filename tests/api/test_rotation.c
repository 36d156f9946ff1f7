/* Key rotation between a district and the state aggregator:
 *  - `dinet keys rotate` publishes an Update of the actor signed with the old
 *    keys; the state pins the new keys and keeps ingesting;
 *  - keys replaced without such an Update are not trusted: the district's
 *    activities are refused until an admin confirms the new keys. */
#include "testlib.h"

#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tl_node A, S;

static bool eventually(bool (*fn)(void), int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (fn())
            return true;
        usleep(100000);
    }
    return fn();
}

static char want_fp[200];

static bool state_pins_want(void)
{
    tl_resp r;
    tl_api(&r, &S, "GET", "/api/v1/districts", NULL, NULL, NULL);
    const char *fp = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "fingerprints"),
        "ed25519"));
    bool ok = fp && !strcmp(fp, want_fp);
    tl_resp_free(&r);
    return ok;
}

static char title[128];

static bool state_has_title(void)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/measures?q=%s", title);
    for (char *p = path; *p; p++)
        if (*p == ' ')
            *p = '+';
    tl_resp r;
    tl_api(&r, &S, "GET", path, NULL, NULL, NULL);
    bool ok = json_integer_value(json_object_get(r.json, "total")) == 1;
    tl_resp_free(&r);
    return ok;
}

static bool key_pending(void)
{
    tl_resp r;
    tl_api(&r, &S, "GET", "/api/v1/districts", NULL, NULL, NULL);
    bool ok = json_is_true(json_object_get(json_array_get(json_object_get(r.json, "items"), 0),
                                           "key_change_pending"));
    tl_resp_free(&r);
    return ok;
}

static bool no_key_pending(void)
{
    return !key_pending();
}

static void ed_fingerprint(tl_node *n, char *out, size_t len)
{
    char data[600], *txt = NULL;
    snprintf(data, sizeof data, "%s/node", n->dir);
    const char *argv[] = {"info", "--data", data, "--json", NULL};
    tl_dinet(NULL, &txt, argv);
    json_t *j = txt ? json_loads(txt, 0, NULL) : NULL;
    snprintf(out, len, "%s",
             json_string_value(json_object_get(j, "ed25519_fingerprint"))
                 ? json_string_value(json_object_get(j, "ed25519_fingerprint"))
                 : "");
    json_decref(j);
    free(txt);
}

static void restart(tl_node *n)
{
    tl_server_stop(&n->srv);
    char data[600];
    snprintf(data, sizeof data, "%s/node", n->dir);
    int port = atoi(strrchr(n->srv.base, ':') + 1);
    CHECK_INT(tl_server_start_port(&n->srv, data, port), 0, "restart");
}

static void create(const char *t)
{
    snprintf(title, sizeof title, "%s", t);
    char body[256];
    snprintf(body, sizeof body, "{\"title\":\"%s\",\"fields_of_action\":[\"HF6\"]}", t);
    tl_resp r;
    tl_api(&r, &A, "POST", "/api/v1/measures", A.token[TL_EDITOR], body, NULL);
    CHECK_INT(r.status, 201, "district writes");
    tl_resp_free(&r);
}

int main(void)
{
    const char *conf[] = {"sync_interval = 1", NULL};
    if (tl_node_setup_fed(&A, "rotA", "15086", NULL) ||
        tl_node_setup_fed(&S, "rotS", "15003", conf)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    /* tl_node_setup_fed makes district nodes; turn S into the state node. */
    tl_server_stop(&S.srv);
    char sdata[600], conf_path[700];
    snprintf(sdata, sizeof sdata, "%s/node", S.dir);
    snprintf(conf_path, sizeof conf_path, "%s/dinet.conf", sdata);
    FILE *f = fopen(conf_path, "a");
    fputs("role = state\ndistrict = 15\n", f);
    fclose(f);
    restart(&S);

    char actor[160];
    snprintf(actor, sizeof actor, "%s/actor", A.srv.base);
    const char *add[] = {"district", "add", "--data", sdata, "--code", "15086", actor, NULL};
    CHECK_INT(tl_dinet(NULL, NULL, add), 0, "register the district");
    ed_fingerprint(&A, want_fp, sizeof want_fp);
    CHECK(eventually(state_pins_want, 30), "state pinned the district's key");
    create("Vor der Rotation");
    CHECK(eventually(state_has_title, 30), "replicated before the rotation");

    /* 1. A proper rotation: Update signed with the old keys. */
    char adata[600];
    snprintf(adata, sizeof adata, "%s/node", A.dir);
    const char *rot[] = {"keys", "rotate", "--data", adata, NULL};
    char *rout = NULL;
    CHECK(tl_dinet(NULL, &rout, rot) != 0, "dinet keys rotate refuses while the node runs");
    free(rout);
    ed_fingerprint(&A, want_fp, sizeof want_fp);
    char before_fp[sizeof want_fp];
    snprintf(before_fp, sizeof before_fp, "%s", want_fp);
    CHECK_INT(tl_server_stop(&A.srv), 0, "the district stops for the rotation");
    CHECK_INT(tl_dinet(NULL, NULL, rot), 0, "dinet keys rotate");
    ed_fingerprint(&A, want_fp, sizeof want_fp);
    CHECK(strcmp(before_fp, want_fp) != 0, "the rotation made a new Ed25519 key");
    restart(&A); /* signs with the new keys and delivers the Update (old-key proof) */
    CHECK(eventually(state_pins_want, 30), "the signed Update made the state pin the new key");
    create("Nach der Rotation");
    CHECK(eventually(state_has_title, 30), "activities signed with the new keys are accepted");
    /* Between the Update and A's restart A still served its old keys, and a
     * sync in that window holds them as a change; the next sync, seeing the
     * new keys published, clears it. */
    CHECK(eventually(no_key_pending, 30), "nothing waits for confirmation");

    /* 2. Keys replaced behind the state's back: refused until confirmed. */
    tl_server_stop(&A.srv);
    char kdir[700];
    snprintf(kdir, sizeof kdir, "%s/keys", adata);
    CHECK_INT(fed_keys_rotate(kdir), 0, "replace the keys without telling anyone");
    char pinned_before[200];
    snprintf(pinned_before, sizeof pinned_before, "%s", want_fp);
    restart(&A);
    create("Mit fremdem Schlüssel");
    CHECK(eventually(key_pending, 30), "the sync notices the changed key and holds it");
    sleep(2);
    CHECK(!state_has_title(), "activities signed with the unconfirmed key are refused");
    snprintf(want_fp, sizeof want_fp, "%s", pinned_before);
    CHECK(state_pins_want(), "the old key stays pinned");
    CHECK(tl_log_count(&S, "district.key_changed") >= 1, "the key change is logged");
    tl_resp r;
    tl_api(&r, &S, "POST", "/api/v1/districts/15086/confirm-key", S.token[TL_EDITOR], "{}", NULL);
    CHECK_INT(r.status, 403, "only an admin confirms keys");
    tl_resp_free(&r);
    tl_api(&r, &S, "POST", "/api/v1/districts/15086/confirm-key", S.token[TL_ADMIN], "{}", NULL);
    CHECK_INT(r.status, 200, "an admin confirms the new keys");
    tl_resp_free(&r);
    ed_fingerprint(&A, want_fp, sizeof want_fp);
    CHECK(state_pins_want(), "the confirmed key is pinned");
    CHECK(eventually(state_has_title, 30), "after confirmation the sync catches up");

    /* Records signed before the rotations still prove their origin. */
    tl_api(&r, &S, "GET", "/api/v1/measures?q=Vor+der+Rotation", NULL, NULL, NULL);
    char ppath[128];
    snprintf(ppath, sizeof ppath, "/api/v1/provenance/%s",
             json_string_value(json_object_get(json_array_get(json_object_get(r.json, "items"), 0),
                                               "id"))
                 ? json_string_value(json_object_get(
                       json_array_get(json_object_get(r.json, "items"), 0), "id"))
                 : "none");
    tl_resp_free(&r);
    tl_api(&r, &S, "GET", ppath, NULL, NULL, NULL);
    CHECK(json_is_true(json_object_get(r.json, "verified")),
          "provenance of a record signed with the first key still verifies: %s", r.body);
    tl_resp_free(&r);

    /* The state never edits a district's records. */
    char mpath[128];
    snprintf(mpath, sizeof mpath, "/api/v1/measures/%s", strrchr(ppath, '/') + 1);
    tl_api(&r, &S, "PATCH", mpath, S.token[TL_ADMIN], "{\"progress\":99}", "If-Match: \"1\"");
    CHECK_INT(r.status, 409, "a replicated record cannot be edited on the state node");
    tl_resp_free(&r);
    tl_api(&r, &S, "DELETE", mpath, S.token[TL_ADMIN], NULL, NULL);
    CHECK_INT(r.status, 409, "nor deleted there");
    tl_resp_free(&r);
    tl_server_stop(&A.srv);
    tl_server_stop(&S.srv);
    return tl_done();
}
