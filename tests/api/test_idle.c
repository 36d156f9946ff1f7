/* API: after the node has been idle long enough for its HTTP threads'
 * database connections to be closed (db.c, idle housekeeping: 2 s), requests
 * reconnect transparently, read what was written before and after, and
 * writes after the reconnect are visible to the next requests. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tl_node node;
#define EDITOR node.token[TL_EDITOR]

struct wait_log {
    int at_least;
};

static bool trimmed(void *arg)
{
    const struct wait_log *w = arg;
    return tl_log_count(&node, "event=db.idle_trim") >= w->at_least;
}

/* Waits for the next idle close (logged at debug level) after this many. */
static void wait_idle_close(int seen_before, const char *what)
{
    struct wait_log w = {seen_before + 1};
    CHECK(tl_eventually(trimmed, &w, 15), "idle connections closed: %s", what);
}

static void read_name(const char *path, const char *want, const char *what)
{
    tl_resp r;
    tl_api(&r, &node, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, what);
    CHECK_STR(json_string_value(json_object_get(r.json, "name")), want, what);
    tl_resp_free(&r);
}

int main(void)
{
    setenv("DINET_LOG", "debug", 1); /* the server inherits it: db.idle_trim is logged */
    if (tl_node_setup(&node, "idle", NULL)) {
        CHECK(0, "node setup");
        return tl_done();
    }
    tl_resp r;
    tl_api(&r, &node, "POST", "/api/v1/organisations", EDITOR,
           "{\"name\":\"Vor der Pause\",\"kind\":\"welfare\"}", NULL);
    CHECK_INT(r.status, 201, "create before the idle close");
    const char *id = json_string_value(json_object_get(r.json, "id"));
    char path[160];
    snprintf(path, sizeof path, "/api/v1/organisations/%s", id ? id : "none");
    tl_resp_free(&r);
    read_name(path, "Vor der Pause", "read back at once");

    int seen = tl_log_count(&node, "event=db.idle_trim");
    wait_idle_close(seen, "after the first requests");
    read_name(path, "Vor der Pause", "read after the idle close");

    tl_api(&r, &node, "PATCH", path, EDITOR, "{\"name\":\"Nach der Pause\"}", "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "write after the reconnect");
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 2, "version 2");
    tl_resp_free(&r);
    /* Every thread of the pool may answer the next ones: each sees the write,
     * whether its connection was reopened or not. */
    for (int i = 0; i < 8; i++)
        read_name(path, "Nach der Pause", "the write is visible to the next requests");

    seen = tl_log_count(&node, "event=db.idle_trim");
    wait_idle_close(seen, "after the write");
    read_name(path, "Nach der Pause", "the write is visible after the next idle close");
    tl_api(&r, &node, "GET", "/api/v1/organisations", NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "a list after the idle close");
    tl_resp_free(&r);
    CHECK_INT(tl_log_count(&node, "db.statement_left_open"), 0, "no statement left open");
    CHECK_INT(tl_server_stop(&node.srv), 0, "clean shutdown");
    return tl_done();
}
