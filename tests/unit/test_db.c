/* Storage: pragmas, migrations from every earlier schema version with data
 * kept, refusal of a newer schema, the statement cache, online backup and the
 * closing of idle threads' connections. */
#include "testlib.h"

#include "db.h"
#include "schema.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[512];

static long long scalar(db *d, const char *sql)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    long long v = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    db_done(st);
    return v;
}

static const char *text1(db *d, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    snprintf(out, outlen, "%s",
             st && sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "");
    db_done(st);
    return out;
}

/* Builds a database at schema version v by hand, as an older release left
 * it, with a record in it when the schema has records. */
static void make_old(const char *path, int v)
{
    sqlite3 *h;
    sqlite3_open(path, &h);
    for (int i = 0; i < v; i++)
        sqlite3_exec(h, schema_migrations[i], NULL, NULL, NULL);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v);
    sqlite3_exec(h, pragma, NULL, NULL, NULL);
    if (v >= 1)
        sqlite3_exec(h,
                     "INSERT INTO records(id, kind, version, created, updated, title, doc) VALUES"
                     "('m-old1','measure',1,'2025-01-01T00:00:00Z','2025-01-01T00:00:00Z',"
                     "'Alt','{}'),"
                     "('m-old2','measure',2,'2025-01-01T00:00:00Z','2025-01-02T00:00:00Z',"
                     "'Alt gelöscht','{}');"
                     "UPDATE records SET deleted='2025-01-02T00:00:00Z' WHERE id='m-old2';",
                     NULL, NULL, NULL);
    if (v >= 3) /* that release's write path kept the live count */
        sqlite3_exec(h, "UPDATE record_counts SET live=1 WHERE kind='measure'", NULL, NULL, NULL);
    sqlite3_close(h);
}

static void upgrades(void)
{
    int latest = db_schema_version();
    CHECK(latest >= 3, "there are migrations (%d)", latest);
    for (int v = 0; v < latest; v++) {
        char path[700], err[512];
        snprintf(path, sizeof path, "%s/v%d.db", dir, v);
        make_old(path, v);
        db *d = NULL;
        CHECK_INT(db_open(path, &d, err, sizeof err), 0, "open and migrate an old database");
        if (!d)
            continue;
        CHECK_INT(scalar(d, "PRAGMA user_version"), latest, "migrated to the latest version");
        if (v >= 1) {
            CHECK_INT(scalar(d, "SELECT count(*) FROM records"), 2, "records kept");
            CHECK_INT(scalar(d, "SELECT live FROM record_counts WHERE kind='measure'"), 1,
                      "live count derived from the kept records");
        }
        CHECK_INT(scalar(d, "SELECT count(*) FROM taxonomy WHERE kind='field'"), 7,
                  "taxonomy seeded");
        db_close(d);
    }
}

static void pragmas_and_guards(void)
{
    char path[700], err[512], buf[64];
    snprintf(path, sizeof path, "%s/fresh.db", dir);
    db *d = NULL;
    CHECK_INT(db_open(path, &d, err, sizeof err), 0, "open fresh");
    CHECK_STR(text1(d, "PRAGMA journal_mode", buf, sizeof buf), "wal", "WAL mode");
    CHECK_INT(scalar(d, "PRAGMA foreign_keys"), 1, "foreign keys on");
    /* Foreign keys are enforced: a term for a record that does not exist. */
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO record_terms(term, seq) VALUES('HF1', 999)");
    CHECK(st && sqlite3_step(st) == SQLITE_CONSTRAINT, "foreign key enforced");
    db_done(st);
    /* The statement cache gives the same statement back, reset. */
    sqlite3_stmt *a = db_stmt(d, "SELECT count(*) FROM taxonomy");
    sqlite3_step(a);
    sqlite3_stmt *b = db_stmt(d, "SELECT count(*) FROM taxonomy");
    CHECK(a == b, "statement cached");
    CHECK_INT(sqlite3_step(b), SQLITE_ROW, "cached statement was reset");
    db_done(b);
    char bpath[700];
    snprintf(bpath, sizeof bpath, "%s/backup.db", dir);
    CHECK_INT(db_backup(d, bpath, err, sizeof err), 0, "online backup");
    db_close(d);
    db *c = NULL;
    CHECK_INT(db_open(bpath, &c, err, sizeof err), 0, "backup opens");
    if (c) {
        CHECK_INT(scalar(c, "SELECT count(*) FROM taxonomy"), 10, "backup holds the data");
        db_close(c);
    }

    /* A database from a newer release is refused, not damaged. */
    sqlite3 *h;
    sqlite3_open(path, &h);
    sqlite3_exec(h, "PRAGMA user_version=999", NULL, NULL, NULL);
    sqlite3_close(h);
    d = NULL;
    CHECK(db_open(path, &d, err, sizeof err) != 0 && strstr(err, "newer"),
          "newer schema refused: %s", err);
}

/* A second thread with its own connection: opens it, writes, releases it
 * and waits; after the main thread closed it as idle, it reconnects. */
static pthread_mutex_t step_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cv = PTHREAD_COND_INITIALIZER;
static int step;

static void wait_step(int want)
{
    pthread_mutex_lock(&step_mu);
    while (step < want)
        pthread_cond_wait(&step_cv, &step_mu);
    pthread_mutex_unlock(&step_mu);
}

static void set_step(int v)
{
    pthread_mutex_lock(&step_mu);
    step = v;
    pthread_cond_broadcast(&step_cv);
    pthread_mutex_unlock(&step_mu);
}

static void *other_thread(void *arg)
{
    long long *seen = arg;
    db *d = db_thread();
    if (d)
        db_exec(d, "INSERT INTO t_idle(v) VALUES(2)");
    db_thread_release();
    set_step(1);
    wait_step(2); /* the main thread closed the idle connections */
    d = db_thread();
    seen[0] = d ? scalar(d, "SELECT count(*) FROM t_idle") : -1;
    if (d)
        db_exec(d, "INSERT INTO t_idle(v) VALUES(4)");
    db_thread_release();
    set_step(3);
    wait_step(4);
    return NULL; /* the connection closes as the thread ends */
}

static void idle_close(void)
{
    char path[700], err[512];
    snprintf(path, sizeof path, "%s/idle.db", dir);
    db *o = NULL;
    CHECK_INT(db_open(path, &o, err, sizeof err), 0, "open for the idle test");
    if (!o)
        return;
    db_exec(o, "CREATE TABLE t_idle(v INTEGER)");
    db_thread_init(path);

    db *d = db_thread();
    CHECK(d != NULL, "thread connection");
    CHECK_INT(db_thread_close_idle(0), 0, "a connection in use is not closed");
    CHECK_INT(db_exec(d, "INSERT INTO t_idle(v) VALUES(1)"), 0, "still usable");
    db_thread_release();
    CHECK_INT(db_thread_close_idle(60LL * 1000000000LL), 0, "not idle long enough");

    pthread_t th;
    long long seen = 0;
    CHECK_INT(pthread_create(&th, NULL, other_thread, &seen), 0, "second thread");
    wait_step(1);
    CHECK_INT(db_thread_close_idle(0), 2, "both idle connections closed");
    CHECK_INT(db_thread_close_idle(0), 0, "nothing left to close");
    db_exec(o, "INSERT INTO t_idle(v) VALUES(3)"); /* written meanwhile elsewhere */
    set_step(2);
    wait_step(3);
    CHECK_INT(seen, 3, "the other thread reconnected and sees every row");

    d = db_thread();
    CHECK(d != NULL, "this thread reconnects");
    if (d) {
        CHECK_INT(scalar(d, "SELECT count(*) FROM t_idle"), 4,
                  "the reconnected thread sees the other thread's write after its reconnect");
        CHECK_INT(db_exec(d, "INSERT INTO t_idle(v) VALUES(5)"), 0, "write after reconnect");
    }
    db_thread_release();
    CHECK_INT(scalar(o, "SELECT sum(v) FROM t_idle"), 15, "every write is visible elsewhere");
    set_step(4);
    pthread_join(th, NULL);
    CHECK_INT(db_thread_close_idle(0), 1, "the ended thread's connection is gone, ours closes");
    db_thread_close_current();
    db_close(o);
}

int main(void)
{
    char *t = tl_tmpdir("db");
    snprintf(dir, sizeof dir, "%s", t);
    free(t);
    upgrades();
    pragmas_and_guards();
    idle_close();
    return tl_done();
}
