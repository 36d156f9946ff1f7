/* Storage: pragmas, migrations from every earlier schema version with data
 * kept, refusal of a newer schema, the statement cache and online backup. */
#include "testlib.h"

#include "db.h"
#include "schema.h"

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

int main(void)
{
    char *t = tl_tmpdir("db");
    snprintf(dir, sizeof dir, "%s", t);
    free(t);
    upgrades();
    pragmas_and_guards();
    return tl_done();
}
