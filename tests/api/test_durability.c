/* API: data survives a clean restart, and a kill -9 in the middle of a
 * stream of writes loses no acknowledged write and leaves an intact
 * database. */
#include "testlib.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tl_node node;

#define MAXW 20000
static char acked[MAXW][40];
static atomic_int nacked;
static atomic_int stop_writing;

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < MAXW && !atomic_load(&stop_writing); i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"title\":\"Absturztest %d\",\"fields_of_action\":[\"HF%d\"],\"progress\":%d}",
                 i, 1 + i % 7, i % 101);
        tl_resp r;
        tl_api(&r, &node, "POST", "/api/v1/measures", node.token[TL_EDITOR], body, NULL);
        if (r.status == 201) {
            const char *id = json_string_value(json_object_get(r.json, "id"));
            int k = atomic_load(&nacked);
            snprintf(acked[k], sizeof acked[k], "%s", id ? id : "");
            atomic_store(&nacked, k + 1);
        } else if (r.status == 0) {
            tl_resp_free(&r);
            break; /* the server is gone */
        }
        tl_resp_free(&r);
    }
    return NULL;
}

static int count_present(void)
{
    int present = 0;
    int n = atomic_load(&nacked);
    for (int i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/measures/%.39s", acked[i]);
        tl_resp r;
        tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
        if (r.status == 200)
            present++;
        else
            fprintf(stderr, "missing acknowledged write %s: %ld\n", acked[i], r.status);
        tl_resp_free(&r);
    }
    return present;
}

static void restart_keeps_data(void)
{
    tl_resp r;
    tl_api(&r, &node, "POST", "/api/v1/organisations", node.token[TL_EDITOR],
           "{\"name\":\"Dauerhaft e. V.\",\"kind\":\"civil_society\"}", NULL);
    CHECK_INT(r.status, 201, "write before restart");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/organisations/%s",
             json_string_value(json_object_get(r.json, "id")));
    tl_resp_free(&r);
    CHECK_INT(tl_server_stop(&node.srv), 0, "clean stop");
    char data[600];
    snprintf(data, sizeof data, "%s/node", node.dir);
    CHECK_INT(tl_server_start(&node.srv, data), 0, "restart");
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "record is there after restart");
    CHECK_STR(json_string_value(json_object_get(r.json, "name")), "Dauerhaft e. V.",
              "content after restart");
    tl_resp_free(&r);
    /* Sessions and tokens persist too. */
    tl_api(&r, &node, "PATCH", path, node.token[TL_EDITOR], "{\"name\":\"Dauerhaft 2\"}",
           "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "token still valid after restart");
    tl_resp_free(&r);
}

static void crash_during_writes(void)
{
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    /* Let a stream of writes build up, then kill the server mid-stream. */
    while (atomic_load(&nacked) < 150)
        usleep(10000);
    tl_server_kill(&node.srv);
    atomic_store(&stop_writing, 1);
    pthread_join(t, NULL);
    int n = atomic_load(&nacked);
    CHECK(n >= 150, "writes were acknowledged before the crash (%d)", n);

    char data[600], dbpath[700];
    snprintf(data, sizeof data, "%s/node", node.dir);
    snprintf(dbpath, sizeof dbpath, "%s/dinet.db", data);
    CHECK_INT(tl_server_start(&node.srv, data), 0, "restart after kill -9");
    CHECK_INT(count_present(), n, "every acknowledged write survived the crash");
    tl_resp r;
    tl_api(&r, &node, "GET", "/api/v1/measures?q=Absturztest&limit=1", NULL, NULL, NULL);
    CHECK(json_integer_value(json_object_get(r.json, "total")) >= n,
          "search index agrees with the records (%lld >= %d)",
          json_integer_value(json_object_get(r.json, "total")), n);
    tl_resp_free(&r);
    tl_server_stop(&node.srv);

    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "open db");
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    CHECK(st && sqlite3_step(st) == SQLITE_ROW, "integrity_check ran");
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok", "PRAGMA integrity_check");
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "INSERT INTO record_fts(record_fts, rank) VALUES('integrity-check', 1)",
                       -1, &st, NULL);
    CHECK_INT(sqlite3_step(st), SQLITE_DONE, "FTS index integrity-check");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int main(void)
{
    if (tl_node_setup(&node, "durability", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    restart_keeps_data();
    crash_during_writes();
    return tl_done();
}
