/* `dinet verify` against real nodes on loopback:
 *  - a Create from a district node's outbox verifies with the key from the
 *    district's actor document (assertionMethod), from a file and by URL;
 *  - the same file with one changed character, and a wrong key, are
 *    rejected with exit 1;
 *  - a provenance document built from it verifies; its record_id must match;
 *  - a state node that registered the district verifies with its pinned key
 *    (--data), from a file and from its own provenance API once it has
 *    backfilled the district;
 *  - bad usage and unreadable input exit 2. */
#include "testlib.h"

#include "keys.h"
#include "mbase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tl_node A;
static char dir[600], actfile[700], key[128], fingerprint[128], record_id[64];

static int verify(char **out, const char *src, const char *opt, const char *arg)
{
    const char *argv[] = {"verify", src, opt, arg, NULL};
    return tl_dinet(NULL, out, argv);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static json_t *get_as2(const char *url)
{
    const char *h[] = {"Accept: application/activity+json", NULL};
    tl_resp r;
    tl_http(&r, "GET", url, h, NULL, NULL);
    json_t *j = json_incref(r.json);
    tl_resp_free(&r);
    return j;
}

/* A measure on A, and the signed Create of it from A's outbox in actfile. */
static json_t *setup_district(void)
{
    tl_resp r;
    tl_api(&r, &A, "POST", "/api/v1/measures", A.token[TL_EDITOR],
           "{\"title\":\"Elternlotsen, \\\"mehrsprachig\\\"\",\"fields_of_action\":[\"HF3\"],"
           "\"description\":\"Zeile 1\\nZeile 2\"}",
           NULL);
    CHECK_INT(r.status, 201, "create a measure on the district node");
    snprintf(record_id, sizeof record_id, "%s",
             json_string_value(json_object_get(r.json, "id"))
                 ? json_string_value(json_object_get(r.json, "id"))
                 : "");
    tl_resp_free(&r);

    char url[300];
    snprintf(url, sizeof url, "%s/actor", A.srv.base);
    json_t *actor = get_as2(url);
    json_t *am = json_object_get(actor, "assertionMethod");
    const char *mk = json_string_value(
        json_object_get(json_is_array(am) ? json_array_get(am, 0) : am, "publicKeyMultibase"));
    CHECK(mk && !strncmp(mk, "z6Mk", 4), "the actor publishes a Multikey");
    snprintf(key, sizeof key, "%s", mk ? mk : "");
    json_decref(actor);

    snprintf(url, sizeof url, "%s/actor/outbox?page=true", A.srv.base);
    json_t *page = get_as2(url);
    json_t *create = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(page, "orderedItems"), i, it)
    {
        const char *rid = json_string_value(
            json_object_get(json_object_get(json_object_get(it, "object"), "record"), "id"));
        const char *type = json_string_value(json_object_get(it, "type"));
        if (rid && !strcmp(rid, record_id) && type && !strcmp(type, "Create"))
            create = json_incref(it);
    }
    json_decref(page);
    CHECK(create != NULL, "the outbox has the Create of the measure");
    char *txt = create ? json_dumps(create, JSON_INDENT(2)) : NULL;
    snprintf(actfile, sizeof actfile, "%s/create.json", dir);
    write_file(actfile, txt ? txt : "{}");
    free(txt);

    /* The fingerprint `dinet info` prints for the node. */
    char data[700];
    snprintf(data, sizeof data, "%s/node", A.dir);
    const char *ia[] = {"info", "--data", data, "--json", NULL};
    char *out = NULL;
    tl_dinet(NULL, &out, ia);
    json_t *info = out ? json_loads(out, 0, NULL) : NULL;
    snprintf(fingerprint, sizeof fingerprint, "%s",
             json_string_value(json_object_get(info, "ed25519_fingerprint"))
                 ? json_string_value(json_object_get(info, "ed25519_fingerprint"))
                 : "?");
    json_decref(info);
    free(out);
    return create;
}

static void test_with_key(json_t *create)
{
    char *out = NULL, want[300];
    snprintf(want, sizeof want, "valid: signed by district 15003 (Magdeburg), key %s\n",
             fingerprint);
    CHECK_INT(verify(&out, actfile, "--key", key), 0, "a real Create verifies with its key");
    CHECK_STR(out, want, "valid: district and key fingerprint");
    free(out);

    /* One changed character in the title. */
    char *txt = tl_read_file(actfile, NULL);
    char *p = txt ? strstr(txt, "Elternlotsen") : NULL;
    CHECK(p != NULL, "the title is in the file");
    if (p) {
        p[0] = 'F';
        char bad[700];
        snprintf(bad, sizeof bad, "%s/create-changed.json", dir);
        write_file(bad, txt);
        CHECK_INT(verify(&out, bad, "--key", key), 1, "one changed character is rejected");
        CHECK(out && !strncmp(out, "INVALID: proof: signature does not verify", 41),
              "INVALID with the reason: %s", out ? out : "");
        free(out);
    }
    free(txt);

    /* A key that is not the district's. */
    char kd[700];
    snprintf(kd, sizeof kd, "%s/otherkeys", dir);
    mkdir(kd, 0700);
    fed_keys k;
    CHECK(fed_keys_generate(kd) == 0 && fed_keys_load(kd, &k) == 0, "generate another key");
    char *other = fed_keys_ed_multibase(k.ed_pk);
    fed_keys_free(&k);
    CHECK_INT(verify(&out, actfile, "--key", other), 1, "a wrong key is rejected");
    CHECK(out && !strncmp(out, "INVALID:", 8), "INVALID: %s", out ? out : "");
    free(out);
    free(other);

    /* By URL: the activity as the district serves it. */
    const char *aid = json_string_value(json_object_get(create, "id"));
    CHECK_INT(verify(&out, aid ? aid : "http://127.0.0.1:1/x", "--key", key), 0,
              "verify an activity URL");
    CHECK_STR(out, want, "by URL");
    free(out);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/activities/nosuchthing", A.srv.base);
    CHECK_INT(verify(NULL, missing, "--key", key), 2, "a URL that answers 404 exits 2");

    /* A provenance document built from it, as the state node serves one. */
    json_t *prov = json_pack("{s:s, s:s, s:s, s:O}", "record_id", record_id, "district", "15003",
                             "received", "2026-11-25T10:00:00Z", "activity", create);
    char *pt = json_dumps(prov, 0), pf[700];
    snprintf(pf, sizeof pf, "%s/provenance.json", dir);
    write_file(pf, pt);
    CHECK_INT(verify(&out, pf, "--key", key), 0, "a provenance document verifies");
    CHECK_STR(out, want, "provenance: district and key");
    free(out);
    free(pt);
    json_object_set_new(prov, "record_id", json_string("m-aaaaaaaaaaaaaaaa"));
    pt = json_dumps(prov, 0);
    write_file(pf, pt);
    CHECK_INT(verify(&out, pf, "--key", key), 1,
              "a provenance document for another record is rejected");
    free(out);
    free(pt);
    json_decref(prov);

    /* The district node's own data directory: its own key. */
    char data[700];
    snprintf(data, sizeof data, "%s/node", A.dir);
    CHECK_INT(verify(&out, actfile, "--data", data), 0, "--data of the district node");
    CHECK_STR(out, want, "own key");
    free(out);
}

static bool has_provenance(tl_server *s)
{
    char url[300];
    snprintf(url, sizeof url, "%s/api/v1/provenance/%s", s->base, record_id);
    for (int i = 0; i < 300; i++) {
        tl_resp r;
        tl_http(&r, "GET", url, NULL, NULL, NULL);
        long st = r.status;
        tl_resp_free(&r);
        if (st == 200)
            return true;
        usleep(100000);
    }
    return false;
}

static void test_state(void)
{
    char sdata[700], base[64], actor[300], *out = NULL, want[300];
    int port = tl_free_port();
    snprintf(sdata, sizeof sdata, "%s/state", dir);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    const char *init[] = {"init", "--data",          sdata,         "--role", "state", "--base-url",
                          base,   "--allow-private", "127.0.0.0/8", NULL};
    CHECK_INT(tl_dinet(NULL, NULL, init), 0, "init a state node");
    snprintf(actor, sizeof actor, "%s/actor", A.srv.base);
    const char *add[] = {"district", "add", "--data", sdata, "--code", "15003", actor, NULL};
    CHECK_INT(tl_dinet(NULL, NULL, add), 0, "the state node registers the district");
    snprintf(want, sizeof want, "valid: signed by district 15003 (Magdeburg), key %s\n",
             fingerprint);
    CHECK_INT(verify(&out, actfile, "--data", sdata), 0, "verify with the pinned key");
    CHECK_STR(out, want, "pinned key: district and fingerprint");
    free(out);
    char bad[700];
    snprintf(bad, sizeof bad, "%s/create-changed.json", dir);
    CHECK_INT(verify(&out, bad, "--data", sdata), 1, "a changed character, pinned key");
    free(out);

    /* The state node's own provenance document, once it has backfilled. */
    tl_server s;
    CHECK_INT(tl_server_start_port(&s, sdata, port), 0, "start the state node");
    if (s.pid > 0 && has_provenance(&s)) {
        char url[300];
        snprintf(url, sizeof url, "%s/api/v1/provenance/%s", s.base, record_id);
        CHECK_INT(verify(&out, url, "--data", sdata), 0, "the state's provenance URL verifies");
        CHECK_STR(out, want, "provenance from the API");
        free(out);
        CHECK_INT(verify(&out, url, "--key", key), 0, "and with the district's key");
        free(out);
    } else {
        CHECK(0, "the state node has the record's provenance");
    }
    if (s.pid > 0)
        tl_server_stop(&s);
}

static void test_usage(void)
{
    const char *none[] = {"verify", NULL};
    CHECK_INT(tl_dinet(NULL, NULL, none), 2, "no argument");
    const char *nokey[] = {"verify", actfile, NULL};
    CHECK_INT(tl_dinet(NULL, NULL, nokey), 2, "neither --key nor --data");
    CHECK_INT(verify(NULL, actfile, "--key", "z6MkNOTAKEY"), 2, "a malformed key");
    CHECK_INT(verify(NULL, "/nonexistent/file.json", "--key", key), 2, "a missing file");
    CHECK_INT(verify(NULL, "ftp://127.0.0.1/x", "--key", key), 2, "not http(s)");
    const char *extra[] = {"verify", actfile, actfile, "--key", key, NULL};
    CHECK_INT(tl_dinet(NULL, NULL, extra), 2, "two documents");
    const char *help[] = {"verify", "--help", NULL};
    char *out = NULL;
    CHECK_INT(tl_dinet(NULL, &out, help), 0, "--help");
    CHECK(out && strstr(out, "usage: dinet verify"), "help text");
    free(out);
    const char *stdin_args[] = {"verify", "-", "--key", key, NULL};
    CHECK_INT(tl_dinet("{\"not\":\"signed\"}", &out, stdin_args), 1,
              "a document from stdin without a proof");
    CHECK(out && !strncmp(out, "INVALID:", 8), "INVALID: %s", out ? out : "");
    free(out);
    CHECK_INT(tl_dinet("{\"broken\":", &out, stdin_args), 1, "not JSON");
    free(out);
}

int main(void)
{
    if (tl_node_setup_fed(&A, "verify", "15003", NULL)) {
        fprintf(stderr, "district node setup failed\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", A.dir);
    json_t *create = setup_district();
    if (create) {
        test_with_key(create);
        test_state();
        test_usage();
    }
    json_decref(create);
    tl_server_stop(&A.srv);
    return tl_done();
}
