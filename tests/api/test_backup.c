/* Backup and restore: `dinet backup` while the node runs (also under
 * concurrent writes), `dinet restore` refusals and the real thing.
 *
 *  1. A district node with records; a backup while it runs, and a second
 *     one while three writers add records.
 *  2. Restore refuses while the node runs (DIR/serve.lock), and a second
 *     `dinet serve` on the same directory refuses to start.
 *  3. With the node stopped, restore refuses and changes nothing (the
 *     database file stays byte for byte): a text file, a damaged database
 *     (integrity_check), a newer schema, a SQLite file that is no dinet
 *     database, a live database with its -wal, a missing file, the node's own
 *     database, another node's backup (unless --force), bad usage.
 *  4. Restore: the current database is kept as dinet.db.before-restore with
 *     the change made after the backup; a second restore refuses while that
 *     name exists; after a wipe (no database at all) restore works too and,
 *     as root, gives the file to the data directory's owner.
 *  5. The restarted node has the same data as at backup time (summary hash
 *     and count), the change made after the backup is gone, and an
 *     activity saved before the backup still verifies with `dinet verify`,
 *     as does the one the restored node serves.
 *  6. The backup taken under concurrent writes restores and serves.
 *  7. A database of schema version 1 restores and is migrated at start.
 *     A damaged database (not a database at all) is replaced and kept.
 *  8. --force restores another node's backup and warns that its keys differ. */
#include "testlib.h"

#include "db.h"
#include "schema.h"
#include "util.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static tl_node D, O;
static char dir[600], data[700], dbpath[800], keep[800];

/* Runs dinet with argv, capturing stdout and stderr together. */
static int run_all(char **out, const char *const *argv)
{
    const char *bin = getenv("DINET_BIN") ? getenv("DINET_BIN") : "build/dinet";
    int p[2];
    if (pipe(p))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        const char *args[32] = {bin};
        for (int i = 0; argv[i] && i < 30; i++)
            args[i + 1] = argv[i];
        execv(bin, (char *const *)args);
        _exit(127);
    }
    close(p[1]);
    buf b;
    buf_init(&b);
    char chunk[4096];
    ssize_t n;
    while ((n = read(p[0], chunk, sizeof chunk)) > 0)
        buf_append(&b, chunk, (size_t)n);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    *out = buf_take(&b);
    if (!*out)
        *out = strdup("");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void file_hash(const char *path, char out[65])
{
    size_t len = 0;
    char *c = tl_read_file(path, &len);
    if (c)
        util_sha256_hex(c, len, out);
    else
        snprintf(out, 65, "missing");
    free(c);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int copy(const char *from, const char *to)
{
    size_t len;
    char *c = tl_read_file(from, &len);
    if (!c)
        return -1;
    FILE *f = fopen(to, "wb");
    int rc = f && fwrite(c, 1, len, f) == len ? 0 : -1;
    if (f)
        fclose(f);
    free(c);
    return rc;
}

static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_open(path, &h);
    sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
}

static char *post_id(tl_node *n, const char *path, const char *body)
{
    tl_resp r;
    tl_api(&r, n, "POST", path, n->token[TL_EDITOR], body, NULL);
    const char *id = r.status == 201 ? json_string_value(json_object_get(r.json, "id")) : NULL;
    char *out = strdup(id ? id : "");
    tl_resp_free(&r);
    return out;
}

static long status_of(tl_node *n, const char *path)
{
    tl_resp r;
    long st = tl_api(&r, n, "GET", path, NULL, NULL, NULL) ? -1 : r.status;
    tl_resp_free(&r);
    return st;
}

static void summary(tl_node *n, char hash[80], long long *records)
{
    tl_resp r;
    tl_api(&r, n, "GET", "/api/v1/summary", NULL, NULL, NULL);
    const char *h = json_string_value(json_object_get(r.json, "hash"));
    snprintf(hash, 80, "%s", h ? h : "none");
    *records = json_integer_value(json_object_get(r.json, "records"));
    tl_resp_free(&r);
}

/* ---- 1. data and backups ------------------------------------------------------ */

static char measure_id[64], after_id[64], act_file[800], backup1[800], backup2[800];
static char hash0[80];
static long long records0;

static void *writer(void *arg)
{
    int w = (int)(long)arg;
    for (int i = 0; i < 15; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"name\":\"Schreiber %d-%d e. V.\",\"kind\":\"civil_society\"}",
                 w, i);
        tl_resp r;
        tl_api(&r, &D, "POST", "/api/v1/organisations", D.token[TL_EDITOR], body, NULL);
        tl_resp_free(&r);
    }
    return NULL;
}

static void make_backups(void)
{
    char *org = post_id(&D, "/api/v1/organisations",
                        "{\"name\":\"Sicherungsverein e. V.\",\"kind\":\"civil_society\"}");
    char *m = post_id(&D, "/api/v1/measures",
                      "{\"title\":\"Sprachpatenschaften\",\"fields_of_action\":[\"HF1\"]}");
    snprintf(measure_id, sizeof measure_id, "%s", m);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/measures/%s/progress", m);
    char *p = post_id(&D, path, "{\"date\":\"2025-03-01\",\"title\":\"Erste Runde\"}");
    CHECK(*org && *m && *p, "records created (%s %s %s)", org, m, p);
    snprintf(path, sizeof path, "/api/v1/measures/%s", m);
    tl_resp r;
    tl_api(&r, &D, "PATCH", path, D.token[TL_EDITOR], "{\"progress\":40}", "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "measure updated");
    tl_resp_free(&r);
    free(org);
    free(m);
    free(p);

    /* The signed Create of the measure, as the outbox serves it. */
    char url[200];
    snprintf(url, sizeof url, "%s/actor/outbox?page=true", D.srv.base);
    const char *acc[] = {"Accept: application/activity+json", NULL};
    tl_http(&r, "GET", url, acc, NULL, NULL);
    json_t *items = json_object_get(r.json, "orderedItems");
    size_t i;
    json_t *it;
    bool saved = false;
    json_array_foreach(items, i, it)
    {
        const char *type = json_string_value(json_object_get(it, "type"));
        const char *obj = json_string_value(json_object_get(json_object_get(it, "object"), "id"));
        if (!saved && type && !strcmp(type, "Create") && obj && strstr(obj, measure_id)) {
            snprintf(act_file, sizeof act_file, "%s/create.json", dir);
            saved = json_dump_file(it, act_file, 0) == 0;
        }
    }
    CHECK(saved, "the Create of the measure is in the outbox");
    tl_resp_free(&r);
    summary(&D, hash0, &records0);
    CHECK(records0 >= 3, "summary counts the records (%lld)", records0);

    snprintf(backup1, sizeof backup1, "%s/backup1.db", dir);
    const char *b1[] = {"backup", "--data", data, backup1, NULL};
    char *out = NULL;
    CHECK_INT(run_all(&out, b1), 0, "dinet backup while the node runs");
    free(out);

    /* A backup while three writers add records. */
    pthread_t th[3];
    for (long w = 0; w < 3; w++)
        pthread_create(&th[w], NULL, writer, (void *)w);
    snprintf(backup2, sizeof backup2, "%s/backup2.db", dir);
    const char *b2[] = {"backup", "--data", data, backup2, NULL};
    CHECK_INT(run_all(&out, b2), 0, "dinet backup under concurrent writes");
    free(out);
    for (int w = 0; w < 3; w++)
        pthread_join(th[w], NULL);
    CHECK(sql_int(backup1, "PRAGMA user_version") == db_schema_version(),
          "the backup has the current schema version");
}

/* ---- 2. while the node runs ----------------------------------------------------- */

static void while_running(void)
{
    const char *rs[] = {"restore", "--data", data, backup1, NULL};
    char *out = NULL;
    CHECK_INT(run_all(&out, rs), 1, "restore refuses while the node runs");
    CHECK(strstr(out, "the node runs") && strstr(out, "serve.lock"),
          "the refusal names the running node: %s", out);
    free(out);
    CHECK(!exists(keep), "nothing was kept aside");
    char tmp[900];
    snprintf(tmp, sizeof tmp, "%s.restore-tmp", dbpath);
    CHECK(!exists(tmp), "no temporary copy is left");

    tl_server second;
    int rc = tl_server_start_port(&second, data, 0);
    CHECK(rc != 0, "a second 'dinet serve' on the same directory does not start");
    if (rc == 0)
        tl_server_stop(&second);
    CHECK(tl_log_count(&D, "serve.lock is held by process") >= 1,
          "it says that the lock is held");
}

/* ---- 3. refusals ------------------------------------------------------------------ */

static void refuse(const char *file, const char *want, const char *what, bool force)
{
    char before[65], after[65];
    file_hash(dbpath, before);
    const char *rs[] = {"restore", "--data", data, file, force ? "--force" : NULL, NULL};
    char *out = NULL;
    int rc = run_all(&out, rs);
    CHECK(rc == 1, "%s: refused (exit %d): %s", what, rc, out);
    CHECK(strstr(out, want) != NULL, "%s: the message says '%s': %s", what, want, out);
    file_hash(dbpath, after);
    CHECK(!strcmp(before, after), "%s: dinet.db is unchanged", what);
    CHECK(!exists(keep), "%s: nothing kept aside", what);
    free(out);
}

static void refusals(void)
{
    char f[900];
    snprintf(f, sizeof f, "%s/notes.txt", dir);
    FILE *t = fopen(f, "w");
    fputs("Dies ist keine Datenbank, sondern ein Zettel mit Notizen.\n", t);
    fclose(t);
    refuse(f, "nothing was changed", "a text file", false);

    snprintf(f, sizeof f, "%s/damaged.db", dir);
    copy(backup1, f);
    {
        /* Overwrite the end of the records table's root page, where its
         * cells are: the schema still reads, but the rows no longer match
         * their indexes, which only integrity_check tells. */
        FILE *d = fopen(f, "r+b");
        long root = (long)sql_int(backup1, "SELECT rootpage FROM sqlite_master WHERE "
                                           "name='records'");
        long psz = (long)sql_int(backup1, "PRAGMA page_size");
        fseek(d, root * psz - 64, SEEK_SET);
        for (int k = 0; k < 64; k++)
            fputc(0xA5, d);
        fclose(d);
    }
    refuse(f, "integrity check failed", "a damaged database", false);

    snprintf(f, sizeof f, "%s/newer.db", dir);
    copy(backup1, f);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", db_schema_version() + 1);
    sql_exec(f, pragma);
    refuse(f, "newer than this program", "a newer schema", false);

    snprintf(f, sizeof f, "%s/other.db", dir);
    sql_exec(f, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
    refuse(f, "not a dinet database", "a SQLite file of another program", false);
    snprintf(f, sizeof f, "%s/other1.db", dir);
    sql_exec(f, "CREATE TABLE t(x); PRAGMA user_version=1;");
    refuse(f, "not a dinet database", "a SQLite file of another program with user_version 1",
           false);

    /* A live database: its -wal holds committed data that a copy of the
     * main file alone would lose. */
    snprintf(f, sizeof f, "%s/live.db", dir);
    copy(backup1, f);
    sqlite3 *h = NULL;
    sqlite3_open(f, &h);
    sqlite3_exec(h, "PRAGMA journal_mode=WAL; CREATE TABLE extra(x); INSERT INTO extra VALUES(1);",
                 NULL, NULL, NULL);
    refuse(f, "is a live database", "a live database with its WAL", false);
    sqlite3_close(h);

    snprintf(f, sizeof f, "%s/missing.db", dir);
    refuse(f, "No such file", "a missing file", false);
    refuse(dbpath, "own database", "the node's own database", false);

    /* Another node's backup (15085 Harz). */
    snprintf(f, sizeof f, "%s/harz.db", dir);
    const char *ob[] = {"backup", "--data", tl_node_data(&O), f, NULL};
    char *out = NULL;
    CHECK_INT(run_all(&out, ob), 0, "backup of another node");
    free(out);
    refuse(f, "comes from another node", "another node's backup", false);

    const char *u1[] = {"restore", "--data", data, NULL};
    CHECK_INT(run_all(&out, u1), 2, "restore without FILE is a usage error");
    free(out);
    const char *u2[] = {"restore", backup1, NULL};
    CHECK_INT(run_all(&out, u2), 2, "restore without --data is a usage error");
    free(out);
    const char *u3[] = {"restore", "--help", NULL};
    CHECK_INT(run_all(&out, u3), 0, "restore --help");
    CHECK(strstr(out, "before-restore") && strstr(out, "keys"), "help names the kept file and the keys");
    free(out);
}

/* ---- 4. restore -------------------------------------------------------------------- */

static void restore_ok(void)
{
    const char *rs[] = {"restore", "--data", data, backup1, NULL};
    char *out = NULL;
    int rc = run_all(&out, rs);
    CHECK_INT(rc, 0, "restore of the first backup");
    CHECK(strstr(out, "restored") && strstr(out, "kept as"), "restore reports: %s", out);
    CHECK(!strstr(out, "warning"), "no warning for the node's own backup: %s", out);
    free(out);
    char wal[900];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    CHECK(!exists(wal), "no WAL of the old database is left beside the new one");
    CHECK(exists(keep), "the previous database is kept");
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM records WHERE id='%s'", after_id);
    CHECK_INT(sql_int(keep, q), 1, "the kept database has the change made after the backup");
    CHECK_INT(sql_int(dbpath, q), 0, "the restored database has not");
    CHECK_INT(sql_int(dbpath, "SELECT count(*) FROM pragma_integrity_check WHERE "
                              "integrity_check='ok'"),
              1, "the restored database is intact");

    /* Again while dinet.db.before-restore exists. */
    char before[65], after[65];
    file_hash(dbpath, before);
    CHECK_INT(run_all(&out, rs), 1, "a second restore refuses while before-restore exists");
    CHECK(strstr(out, "before-restore exists"), "it says why: %s", out);
    free(out);
    file_hash(dbpath, after);
    CHECK(!strcmp(before, after), "and changes nothing");

    /* After a wipe there is nothing to keep. */
    unlink(dbpath);
    char shm[900];
    snprintf(shm, sizeof shm, "%s-shm", dbpath);
    unlink(shm);
    unlink(wal);
    bool root = geteuid() == 0;
    if (root)
        CHECK(chown(data, 65534, 65534) == 0, "data directory given to nobody");
    rc = run_all(&out, rs);
    CHECK_INT(rc, 0, "restore into a wiped directory");
    CHECK(!strstr(out, "kept as"), "nothing to keep: %s", out);
    free(out);
    struct stat st;
    if (root) {
        CHECK(stat(dbpath, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534,
              "restored as root, dinet.db belongs to the directory's owner (%d)", (int)st.st_uid);
        CHECK(chown(data, 0, 0) == 0, "data directory back to root");
    }
    CHECK(stat(dbpath, &st) == 0 && (st.st_mode & 077) == 0, "dinet.db is private (0600)");
}

/* ---- 5. the restarted node ------------------------------------------------------------ */

static void restarted(void)
{
    CHECK_INT(tl_node_restart(&D), 0, "the node starts on the restored database");
    char hash[80];
    long long records;
    summary(&D, hash, &records);
    CHECK_STR(hash, hash0, "summary hash as at backup time");
    CHECK_INT(records, records0, "record count as at backup time");
    char path[160];
    snprintf(path, sizeof path, "/api/v1/measures/%s", after_id);
    CHECK_INT(status_of(&D, path), 404, "the measure made after the backup is gone");
    snprintf(path, sizeof path, "/api/v1/measures/%s", measure_id);
    CHECK_INT(status_of(&D, path), 200, "the measure of the backup is there");

    const char *va[] = {"verify", act_file, "--data", data, NULL};
    char *out = NULL;
    CHECK_INT(run_all(&out, va), 0, "the saved activity still verifies");
    CHECK(strstr(out, "valid: signed by district 15003"), "dinet verify: %s", out);
    free(out);

    /* The activity as the restored node serves it. */
    json_t *saved = json_load_file(act_file, 0, NULL);
    const char *id = json_string_value(json_object_get(saved, "id"));
    const char *acc[] = {"Accept: application/activity+json", NULL};
    tl_resp r;
    tl_http(&r, "GET", id ? id : "http://127.0.0.1:1/", acc, NULL, NULL);
    CHECK_INT(r.status, 200, "the restored node serves the activity");
    CHECK(r.json && json_equal(r.json, saved), "the served activity equals the saved one");
    char served[900];
    snprintf(served, sizeof served, "%s/served.json", dir);
    if (r.json)
        json_dump_file(r.json, served, 0);
    tl_resp_free(&r);
    json_decref(saved);
    const char *vb[] = {"verify", served, "--data", data, NULL};
    int vrc = run_all(&out, vb);
    CHECK(vrc == 0, "the served activity verifies: %s", out);
    free(out);
}

/* ---- 6.-8. --------------------------------------------------------------------------- */

static void restore_file(const char *file, const char *want, const char *what, bool force)
{
    tl_server_stop(&D.srv);
    unlink(keep);
    const char *rs[] = {"restore", "--data", data, file, force ? "--force" : NULL, NULL};
    char *out = NULL;
    int rc = run_all(&out, rs);
    CHECK(rc == 0, "%s: restored (exit %d)", what, rc);
    CHECK(!want || strstr(out, want), "%s: the output says '%s': %s", what, want, out);
    free(out);
    CHECK(tl_node_restart(&D) == 0, "%s: the node starts", what);
    CHECK(status_of(&D, "/healthz") == 200, "%s: /healthz", what);
}

static void more_restores(void)
{
    restore_file(backup2, NULL, "the backup taken under concurrent writes", false);
    char hash[80];
    long long records;
    summary(&D, hash, &records);
    CHECK(records >= records0 && records <= records0 + 45,
          "it holds a consistent state: %lld records (%lld before the writers)", records,
          records0);
    CHECK_INT(status_of(&D, "/api/v1/organisations"), 200, "organisations are listed");

    char old[900];
    snprintf(old, sizeof old, "%s/schema1.db", dir);
    sqlite3 *h = NULL;
    sqlite3_open(old, &h);
    sqlite3_exec(h, schema_migrations[0], NULL, NULL, NULL);
    sqlite3_exec(h, "PRAGMA user_version=1", NULL, NULL, NULL);
    sqlite3_close(h);
    char want[64];
    snprintf(want, sizeof want, "from schema version 1 to %d", db_schema_version());
    restore_file(old, want, "a schema version 1 database", false);
    CHECK_INT(sql_int(dbpath, "PRAGMA user_version"), db_schema_version(),
              "migrated at start to the current version");
    CHECK_INT(status_of(&D, "/api/v1/measures"), 200, "the migrated node lists measures");
    tl_server_stop(&D.srv);

    /* A damaged database (the usual reason for a restore) is replaced too,
     * and kept. */
    unlink(keep);
    FILE *g = fopen(dbpath, "wb");
    for (int i = 0; i < 8192; i++)
        fputc(i * 7 & 0xff, g);
    fclose(g);
    const char *rg[] = {"restore", "--data", data, backup1, NULL};
    char *gout = NULL;
    CHECK_INT(run_all(&gout, rg), 0, "restore over a damaged database");
    CHECK(strstr(gout, "could not be read"), "it says the old one was unreadable: %s", gout);
    free(gout);
    CHECK(exists(keep), "the damaged database is kept");
    CHECK_INT(sql_int(dbpath, "SELECT count(*) FROM pragma_integrity_check WHERE "
                              "integrity_check='ok'"),
              1, "the restored database is intact");

    /* --force: another node's backup, with a warning about the keys. */
    char f[900];
    snprintf(f, sizeof f, "%s/harz.db", dir);
    unlink(keep);
    const char *rs[] = {"restore", "--data", data, "--force", f, NULL};
    char *out = NULL;
    CHECK_INT(run_all(&out, rs), 0, "--force restores another node's backup");
    CHECK(strstr(out, "warning: the newest activity"), "and warns about the keys: %s", out);
    free(out);
}

int main(void)
{
    if (tl_node_setup_role(&D, "backup-d", "district", "15003", NULL) ||
        tl_node_setup_role(&O, "backup-o", "district", "15085", NULL)) {
        CHECK(0, "nodes start");
        return tl_done();
    }
    snprintf(dir, sizeof dir, "%s", D.dir);
    snprintf(data, sizeof data, "%s", tl_node_data(&D));
    snprintf(dbpath, sizeof dbpath, "%s/dinet.db", data);
    snprintf(keep, sizeof keep, "%s/dinet.db.before-restore", data);
    /* Harz needs one activity so that its backup is recognisably Harz's. */
    char *hz = post_id(&O, "/api/v1/measures", "{\"title\":\"Harzer Sprachtreff\",\"fields_of_action\":[\"HF1\"]}");
    CHECK(*hz, "a measure on the other node");
    free(hz);
    tl_server_stop(&O.srv);

    make_backups();
    while_running();
    char *a = post_id(&D, "/api/v1/measures",
                      "{\"title\":\"Nach der Sicherung\",\"fields_of_action\":[\"HF2\"]}");
    snprintf(after_id, sizeof after_id, "%s", a);
    CHECK(*a, "a measure made after the backup");
    free(a);
    CHECK_INT(tl_server_stop(&D.srv), 0, "the node stops");
    refusals();
    restore_ok();
    restarted();
    more_restores();
    return tl_done();
}
