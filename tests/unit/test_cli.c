/* CLI: init, user, token, backup, info; bad flags, bad configuration values
 * and unknown district codes give a clear message and a non-zero exit. */
#include "testlib.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[512], data[600];

static int run(const char *input, char **out, const char *const *argv)
{
    return tl_dinet(input, out, argv);
}

static void init_rules(void)
{
    char d2[700];
    snprintf(d2, sizeof d2, "%s/bad", dir);
    const char *a1[] = {"init", "--data", d2, "--role", "district", "--district", "99999",
                        "--base-url", "http://127.0.0.1:9", NULL};
    CHECK(run(NULL, NULL, a1) != 0, "unknown district code fails");
    const char *a2[] = {"init", "--data", d2, "--role", "district", "--district", "15003",
                        "--base-url", "http://127.0.0.1:9", "--colour", "red", NULL};
    CHECK(run(NULL, NULL, a2) != 0, "unknown flag fails");
    const char *a3[] = {"init", "--data", d2, "--role", "county", "--base-url",
                        "http://127.0.0.1:9", NULL};
    CHECK(run(NULL, NULL, a3) != 0, "bad role fails");
    const char *a4[] = {"init", "--data", d2, "--role", "district", "--district", "15003",
                        "--base-url", "ftp://x", NULL};
    CHECK(run(NULL, NULL, a4) != 0, "bad base URL fails");
    const char *a5[] = {"init", "--data", d2, "--role", "district", "--base-url",
                        "http://127.0.0.1:9", NULL};
    CHECK(run(NULL, NULL, a5) != 0, "district node without code fails");
    struct stat st;
    CHECK(stat(d2, &st) != 0, "failed init created nothing");

    const char *ok[] = {"init", "--data", data, "--role", "district", "--district", "15085",
                        "--base-url", "https://integration.harz.example", NULL};
    char *out = NULL;
    CHECK_INT(run(NULL, &out, ok), 0, "init");
    CHECK(out && strstr(out, "@harz@integration.harz.example"), "init prints the handle: %s", out);
    CHECK(out && strstr(out, "https://integration.harz.example/actor"), "init prints the actor");
    free(out);
    CHECK(stat(data, &st) == 0 && (st.st_mode & 077) == 0, "data dir is private (0700)");
    CHECK(run(NULL, NULL, ok) != 0, "init refuses an existing node");

    const char *info[] = {"info", "--data", data, "--json", NULL};
    CHECK_INT(run(NULL, &out, info), 0, "info --json");
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(j, "district")), "15085", "info district");
    CHECK_STR(json_string_value(json_object_get(j, "name")), "Integrationsbüro Harz",
              "default name");
    json_decref(j);
    free(out);
}

static void config_rules(void)
{
    char conf[700], *orig;
    snprintf(conf, sizeof conf, "%s/dinet.conf", data);
    orig = tl_read_file(conf, NULL);
    CHECK(orig != NULL, "config file exists");
    FILE *f = fopen(conf, "a");
    fputs("threads = lots\n", f);
    fclose(f);
    const char *info[] = {"info", "--data", data, NULL};
    CHECK(run(NULL, NULL, info) != 0, "bad config value fails");
    f = fopen(conf, "w");
    fputs(orig, f);
    fputs("district = 12345\n", f);
    fclose(f);
    CHECK(run(NULL, NULL, info) != 0, "unknown district code in config fails");
    f = fopen(conf, "w");
    fputs(orig, f);
    fputs("favourite = blue\n", f);
    fclose(f);
    CHECK(run(NULL, NULL, info) != 0, "unknown config key fails");
    f = fopen(conf, "w");
    fputs(orig, f);
    fclose(f);
    CHECK_INT(run(NULL, NULL, info), 0, "restored config works");
    free(orig);
    const char *serve[] = {"serve", "--data", data, "--listen", "nowhere", NULL};
    CHECK(run(NULL, NULL, serve) != 0, "serve with a bad --listen fails");
}

static void users_and_tokens(void)
{
    const char *add[] = {"user", "add", "--data", data, "--role", "editor", "anna", NULL};
    CHECK(run("kurz\n", NULL, add) != 0, "short password refused");
    CHECK_INT(run("ein-gutes-passwort\n", NULL, add), 0, "user add");
    CHECK(run("ein-gutes-passwort\n", NULL, add) != 0, "duplicate user refused");
    const char *bad[] = {"user", "add", "--data", data, "--role", "boss", "bob", NULL};
    CHECK(run("ein-gutes-passwort\n", NULL, bad) != 0, "unknown role refused");
    const char *pw[] = {"user", "passwd", "--data", data, "anna", NULL};
    CHECK_INT(run("noch-ein-passwort\n", NULL, pw), 0, "passwd");
    const char *dis[] = {"user", "disable", "--data", data, "anna", NULL};
    CHECK_INT(run(NULL, NULL, dis), 0, "disable");
    const char *list[] = {"user", "list", "--data", data, NULL};
    char *out = NULL;
    CHECK_INT(run(NULL, &out, list), 0, "user list");
    CHECK(out && strstr(out, "anna") && strstr(out, "disabled"), "list shows anna disabled");
    free(out);
    const char *tc[] = {"token", "create", "--data", data, "ci", NULL};
    CHECK_INT(run(NULL, &out, tc), 0, "token create");
    CHECK(out && strncmp(out, "dnt_", 4) == 0 && strlen(out) == 69, "token printed: %s", out);
    /* Only a hash is stored. */
    char dbp[700];
    snprintf(dbp, sizeof dbp, "%s/dinet.db", data);
    char *dbtext = tl_read_file(dbp, NULL);
    out[68] = '\0';
    size_t dblen = 0;
    free(dbtext);
    dbtext = tl_read_file(dbp, &dblen);
    CHECK(dbtext && !memmem(dbtext, dblen, out + 4, 64), "raw token not in the database file");
    free(dbtext);
    free(out);
    const char *tr[] = {"token", "revoke", "--data", data, "nope", NULL};
    CHECK(run(NULL, NULL, tr) != 0, "revoking an unknown token fails");
}

static void backup(void)
{
    const char *s[] = {"sample", "--data", data, NULL};
    char *out = NULL;
    CHECK_INT(run(NULL, &out, s), 0, "sample");
    free(out);
    char file[700];
    snprintf(file, sizeof file, "%s/backup.db", dir);
    const char *b[] = {"backup", "--data", data, file, NULL};
    CHECK_INT(run(NULL, NULL, b), 0, "backup");
    sqlite3 *db = NULL;
    sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT count(*), sum(doc LIKE '%Beispieldaten%') FROM records "
                       "WHERE kind='measure'",
                       -1, &st, NULL);
    CHECK(st && sqlite3_step(st) == SQLITE_ROW, "query backup");
    int n = st ? sqlite3_column_int(st, 0) : 0;
    CHECK(n >= 10, "backup holds the sample measures (%d)", n);
    CHECK_INT(st ? sqlite3_column_int(st, 1) : -1, n, "every sample measure says Beispieldaten");
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT count(DISTINCT term) FROM record_terms WHERE term LIKE 'HF%'",
                       -1, &st, NULL);
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 7,
          "sample data covers all seven fields of action");
    sqlite3_finalize(st);
    sqlite3_close(db);
    const char *nob[] = {"backup", "--data", data, NULL};
    CHECK(run(NULL, NULL, nob) != 0, "backup without FILE fails");
}

int main(void)
{
    char *d = tl_tmpdir("cli");
    snprintf(dir, sizeof dir, "%s", d);
    free(d);
    snprintf(data, sizeof data, "%s/node", dir);
    init_rules();
    config_rules();
    users_and_tokens();
    backup();
    const char *h[] = {"nonsense", NULL};
    CHECK(run(NULL, NULL, h) != 0, "unknown command fails");
    return tl_done();
}
