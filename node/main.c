/* dinet: the command-line program. One binary runs a district node or the
 * state aggregator and administers its data directory. */
#include "account.h"
#include "aggregate.h"
#include "channel.h"
#include "events.h"
#include "ap.h"
#include "api.h"
#include "fed.h"
#include "keys.h"
#include "cli.h"
#include "comment.h"
#include "config.h"
#include "db.h"
#include "district.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "opendata.h"
#include "pagecache.h"
#include "portal.h"
#include "record.h"
#include "restore.h"
#include "sample.h"
#include "verify.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <malloc.h>
#include <termios.h>
#include <unistd.h>

static const char *usage_text =
    "dinet - Digitales Integrationsnetzwerk Sachsen-Anhalt\n"
    "\n"
    "usage: dinet COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  init     create a node's data directory, database and keys\n"
    "  serve    run the node's HTTP server\n"
    "  user     add, list, passwd, disable, enable accounts\n"
    "  token    create, list, revoke API tokens\n"
    "  sample   load the synthetic sample data (Beispieldaten)\n"
    "  backup   write an online backup of the database\n"
    "  restore  put a backup in place of a stopped node's database\n"
    "  info     print the node's identity and key fingerprints\n"
    "  follow   follow a remote actor\n"
    "  keys     rotate the node's keys\n"
    "  district register, list, remove districts (state node)\n"
    "  channel  join the state's coordinators' groups (district node)\n"
    "  verify   check the proof of a signed activity or provenance document\n"
    "  version  print the version\n"
    "\n"
    "'dinet COMMAND --help' explains each command.\n";

static int fail(const char *cmd, const char *msg)
{
    fprintf(stderr, "dinet %s: %s\n", cmd, msg);
    return 1;
}

static bool want_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

/* Loads DIR's configuration and opens its database. */
static int open_node(const char *cmd, const cli_args *a, config *cfg, db **d)
{
    const char *dir = cli_get(a, "data");
    char err[1024];
    if (!dir || !*dir)
        return fail(cmd, "--data DIR is required");
    config_defaults(cfg);
    if (config_load(cfg, dir, err, sizeof err))
        return fail(cmd, err);
    char path[1200];
    config_path(cfg, "dinet.db", path, sizeof path);
    if (d && db_open(path, d, err, sizeof err))
        return fail(cmd, err);
    record_set_base_url(cfg->base_url);
    record_set_district(cfg->district);
    if (d) {
        /* Records from before the district column existed are this node's. */
        sqlite3_stmt *st = db_stmt(*d, "UPDATE records SET district=:d WHERE district IS NULL");
        if (st) {
            db_bind_text(st, ":d", cfg->district);
            db_exec_stmt(st);
        }
    }
    return 0;
}

static void slugify(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 3 < outlen; p++) {
        if (*p >= 'A' && *p <= 'Z')
            out[n++] = (char)(*p - 'A' + 'a');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            out[n++] = (char)*p;
        else if (*p == 0xC3 && p[1]) {
            /* German letters: ä ö ü ß → ae oe ue ss */
            const char *rep = p[1] == 0xA4 || p[1] == 0x84   ? "ae"
                              : p[1] == 0xB6 || p[1] == 0x96 ? "oe"
                              : p[1] == 0xBC || p[1] == 0x9C ? "ue"
                              : p[1] == 0x9F                 ? "ss"
                                                             : "";
            for (; *rep && n + 1 < outlen; rep++)
                out[n++] = *rep;
            p++;
        } else if (n && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = '\0';
}

static const char *init_help =
    "usage: dinet init --data DIR --role district|state [--district CODE] --base-url URL\n"
    "                  [--name NAME] [--handle NAME] [--listen HOST:PORT]\n"
    "                  [--allow-private CIDR[,CIDR...]]\n"
    "\n"
    "Creates DIR with the configuration (dinet.conf), the database (dinet.db) and the\n"
    "node's keys. A district node needs its Kreisschlüssel (e.g. 15003 for Magdeburg);\n"
    "the state node has code 15. --base-url is the public origin, e.g.\n"
    "https://integration.magdeburg.de. --allow-private lets outbound requests reach\n"
    "private addresses (tests, closed administration networks).\n";

static int cmd_init(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true},    {"role", true},   {"district", true},
                                   {"base-url", true}, {"name", true},   {"handle", true},
                                   {"listen", true},  {"allow-private", true}, {NULL, false}};
    if (want_help(argc, argv)) {
        fputs(init_help, stdout);
        return 0;
    }
    cli_args a;
    if (cli_parse("init", argc, argv, opts, &a))
        return 2;
    if (a.npos)
        return fail("init", "unexpected argument (see 'dinet init --help')");
    config cfg;
    config_defaults(&cfg);
    char err[2048];
    const char *dir = cli_get(&a, "data");
    if (!dir || !*dir)
        return fail("init", "--data DIR is required");
    if (!cli_get(&a, "role"))
        return fail("init", "--role district|state is required");
    static const char *const map[][2] = {{"role", "role"},         {"district", "district"},
                                         {"base-url", "base_url"}, {"name", "name"},
                                         {"handle", "handle"},     {"listen", "listen"},
                                         {"allow-private", "allow_private"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = cli_get(&a, map[i][0]);
        if (v && config_set(&cfg, map[i][1], v, err, sizeof err))
            return fail("init", err);
    }
    if (!strcmp(cfg.role, "state") && !cfg.district[0])
        snprintf(cfg.district, sizeof cfg.district, "15");
    if (config_validate(&cfg, err, sizeof err))
        return fail("init", err);
    const district *dist = district_find(cfg.district);
    if (!cfg.name[0])
        snprintf(cfg.name, sizeof cfg.name, "%s %s",
                 !strcmp(cfg.role, "state") ? "Integrationsnetzwerk" : "Integrationsbüro",
                 dist->name);
    if (!cfg.handle[0]) {
        slugify(cli_get(&a, "name") ? cfg.name : dist->slug, cfg.handle, sizeof cfg.handle);
        if (!cfg.handle[0])
            snprintf(cfg.handle, sizeof cfg.handle, "node");
    }
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    char path[1200];
    config_path(&cfg, "dinet.conf", path, sizeof path);
    struct stat st;
    if (stat(path, &st) == 0) {
        snprintf(err, sizeof err, "%s exists already; this directory holds a node", path);
        return fail("init", err);
    }
    if (util_mkdirs(dir, 0700)) {
        snprintf(err, sizeof err, "cannot create %s: %s", dir, strerror(errno));
        return fail("init", err);
    }
    db *d = NULL;
    config_path(&cfg, "dinet.db", path, sizeof path);
    if (db_open(path, &d, err, sizeof err))
        return fail("init", err);
    db_close(d);
    char kdir[1200];
    fed_keys_dir(&cfg, kdir, sizeof kdir);
    if (util_mkdirs(kdir, 0700) || fed_keys_generate(kdir)) {
        snprintf(err, sizeof err, "cannot create the node's keys in %s", kdir);
        return fail("init", err);
    }
    if (config_save(&cfg)) {
        snprintf(err, sizeof err, "cannot write the configuration: %s", strerror(errno));
        return fail("init", err);
    }
    const char *host = strstr(cfg.base_url, "://") + 3;
    printf("initialised %s node '%s' (%s %s) in %s\n", cfg.role, cfg.name, cfg.district,
           dist->name, dir);
    printf("actor:  %s/actor\nhandle: @%s@%s\n", cfg.base_url, cfg.handle, host);
    return 0;
}

static const char *serve_help =
    "usage: dinet serve --data DIR [--listen HOST:PORT] [--threads N]\n"
    "\n"
    "Runs the node until SIGTERM or SIGINT. Prints 'listening on http://HOST:PORT'\n"
    "when ready; port 0 picks a free port.\n";

static char serve_db_path[1200];

static long serve_sync_interval;
static bool serve_state;

static void serve_started(void)
{
    if (db_checkpointer_start(serve_db_path))
        log_event(LOG_ERROR, "db.checkpointer_failed", NULL);
    if (ap_start_delivery(serve_db_path))
        log_event(LOG_ERROR, "delivery.start_failed", NULL);
    if (serve_state && agg_start(serve_db_path, serve_sync_interval))
        log_event(LOG_ERROR, "aggregate.start_failed", NULL);
}

static void serve_stopped(void)
{
    if (serve_state)
        agg_stop();
    ap_stop_delivery();
    db_checkpointer_stop();
    db_thread_close_current();
}

static int cmd_serve(int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"data", true}, {"listen", true}, {"threads", true}, {NULL, false}};
    if (want_help(argc, argv)) {
        fputs(serve_help, stdout);
        return 0;
    }
    cli_args a;
    if (cli_parse("serve", argc, argv, opts, &a))
        return 2;
    /* glibc gives every thread that allocates an arena of its own; two are
     * enough for a node (measured: 0.7-0.9 MB less resident memory idle). */
    mallopt(M_ARENA_MAX, 2);
    /* No bulk page cache per connection: by default each SQLite connection
     * allocates 20 page slots up front and writes a header into each, so
     * 87 kB of it are resident however few pages it reads (the checkpointer
     * and the delivery worker read a handful). Pages come one at a time from
     * malloc instead. Must precede the first SQLite call. */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
    config cfg;
    db *d = NULL;
    char lock_err[1400];
    if (cli_get(&a, "data") && restore_lock_serve(cli_get(&a, "data"), lock_err, sizeof lock_err))
        return fail("serve", lock_err);
    if (open_node("serve", &a, &cfg, &d))
        return 1;
    db_close(d); /* migrations are applied; threads open their own */
    char err[512];
    if ((cli_get(&a, "listen") && config_set(&cfg, "listen", cli_get(&a, "listen"), err, sizeof err)) ||
        (cli_get(&a, "threads") && config_set(&cfg, "threads", cli_get(&a, "threads"), err, sizeof err)))
        return fail("serve", err);
    config_path(&cfg, "dinet.db", serve_db_path, sizeof serve_db_path);
    db_thread_init(serve_db_path);
    pagecache_init(serve_db_path);
    db_set_write_hook(pagecache_own_write);
    db_set_idle_hook(pagecache_drop_expired);
    if (ap_init(&cfg, err, sizeof err))
        return fail("serve", err);
    if (cfg.map_geojson[0]) {
        char mpath[1200];
        if (cfg.map_geojson[0] == '/')
            snprintf(mpath, sizeof mpath, "%s", cfg.map_geojson);
        else
            config_path(&cfg, cfg.map_geojson, mpath, sizeof mpath);
        if (pt_map_load(mpath, err, sizeof err))
            return fail("serve", err);
    }
    serve_state = !strcmp(cfg.role, "state");
    serve_sync_interval = cfg.sync_interval;
    if (serve_state)
        agg_init(ap_ctx());
    comment_init(ap_ctx());
    channel_init(ap_ctx());
    events_init(ap_ctx());
    static const http_route *const tables[] = {
        portal_routes,  portal_discussion_routes, api_routes,    comment_routes, metrics_routes,
        ap_routes,      agg_routes,               opendata_routes, channel_routes, events_routes,
        NULL};
    http_server_opts o = {&cfg, tables, api_authenticate, serve_started, serve_stopped};
    int rc = http_serve(&o);
    ap_shutdown();
    return rc;
}

/* Reads a password: from a terminal with echo off, else one line of stdin. */
static int read_password(char *out, size_t outlen)
{
    bool tty = isatty(0);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "Passwort: ");
        tcgetattr(0, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSANOW, &quiet);
    }
    char *ok = fgets(out, (int)outlen, stdin);
    if (tty) {
        tcsetattr(0, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static const char *user_help =
    "usage: dinet user add --data DIR --role admin|editor|moderator|viewer|participant NAME\n"
    "       dinet user passwd --data DIR NAME\n"
    "       dinet user disable|enable --data DIR NAME\n"
    "       dinet user role --data DIR --role ROLE NAME\n"
    "       dinet user list --data DIR\n"
    "\n"
    "add and passwd read the password from standard input (at least 10 characters).\n";

static int cmd_user(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {"role", true}, {NULL, false}};
    if (argc < 1 || want_help(argc, argv)) {
        fputs(user_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *sub = argv[0];
    cli_args a;
    if (cli_parse("user", argc - 1, argv + 1, opts, &a))
        return 2;
    config cfg;
    db *d = NULL;
    if (open_node("user", &a, &cfg, &d))
        return 1;
    int rc = 1;
    char err[512] = "", pw[1100];
    acct_status s = ACCT_OK;
    if (!strcmp(sub, "list")) {
        json_t *l = account_user_list(d);
        size_t i;
        json_t *u;
        json_array_foreach(l, i, u) printf("%-24s %-10s %s\n", json_string_value(json_object_get(u, "name")),
                                           json_string_value(json_object_get(u, "role")),
                                           json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active");
        json_decref(l);
        rc = 0;
        goto out;
    }
    if (a.npos != 1) {
        fail("user", "exactly one user NAME is required (see 'dinet user --help')");
        goto out;
    }
    const char *name = a.pos[0];
    if (!strcmp(sub, "add") || !strcmp(sub, "role")) {
        const char *r = cli_get(&a, "role");
        if (!r || account_role_parse(r) == ROLE_NONE) {
            fail("user", "--role must be one of admin, editor, moderator, viewer");
            goto out;
        }
        if (!strcmp(sub, "role"))
            s = account_user_set_role(d, name, account_role_parse(r));
        else if (read_password(pw, sizeof pw)) {
            fail("user", "no password on standard input");
            goto out;
        } else
            s = account_user_add(d, name, account_role_parse(r), pw, err, sizeof err);
    } else if (!strcmp(sub, "passwd")) {
        if (read_password(pw, sizeof pw)) {
            fail("user", "no password on standard input");
            goto out;
        }
        s = account_user_passwd(d, name, pw, err, sizeof err);
    } else if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
        s = account_user_disable(d, name, !strcmp(sub, "disable"));
    } else {
        fail("user", "unknown subcommand (add, list, passwd, disable, enable, role)");
        goto out;
    }
    if (s == ACCT_NOT_FOUND && !err[0])
        snprintf(err, sizeof err, "no user '%s'", name);
    if (s != ACCT_OK) {
        fail("user", err[0] ? err : "failed");
        goto out;
    }
    printf("user %s: %s done\n", name, sub);
    rc = 0;
out:
    sodium_memzero(pw, sizeof pw);
    db_close(d);
    return rc;
}

static const char *token_help =
    "usage: dinet token create --data DIR [--role ROLE] NAME   (prints the token once)\n"
    "       dinet token revoke --data DIR NAME\n"
    "       dinet token list --data DIR\n"
    "\n"
    "API tokens authenticate scripts: 'Authorization: Bearer TOKEN'. The default role\n"
    "is editor. Only a hash of the token is stored.\n";

static int cmd_token(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {"role", true}, {NULL, false}};
    if (argc < 1 || want_help(argc, argv)) {
        fputs(token_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *sub = argv[0];
    cli_args a;
    if (cli_parse("token", argc - 1, argv + 1, opts, &a))
        return 2;
    config cfg;
    db *d = NULL;
    if (open_node("token", &a, &cfg, &d))
        return 1;
    int rc = 1;
    char err[512] = "";
    if (!strcmp(sub, "list")) {
        json_t *l = account_token_list(d);
        size_t i;
        json_t *t;
        json_array_foreach(l, i, t) printf("%-24s %-10s %s\n", json_string_value(json_object_get(t, "name")),
                                           json_string_value(json_object_get(t, "role")),
                                           json_object_get(t, "revoked") ? "revoked" : "active");
        json_decref(l);
        rc = 0;
    } else if (a.npos != 1) {
        fail("token", "exactly one token NAME is required (see 'dinet token --help')");
    } else if (!strcmp(sub, "create")) {
        const char *r = cli_get(&a, "role");
        role ro = account_role_parse(r ? r : "editor");
        char token[80];
        if (ro == ROLE_NONE)
            fail("token", "--role must be one of admin, editor, moderator, viewer");
        else if (account_token_create(d, a.pos[0], ro, token, err, sizeof err) != ACCT_OK)
            fail("token", err[0] ? err : "failed");
        else {
            printf("%s\n", token);
            rc = 0;
        }
        sodium_memzero(token, sizeof token);
    } else if (!strcmp(sub, "revoke")) {
        acct_status s = account_token_revoke(d, a.pos[0]);
        if (s == ACCT_NOT_FOUND)
            fail("token", "no active token of that name");
        else if (s != ACCT_OK)
            fail("token", "failed");
        else {
            printf("token %s revoked\n", a.pos[0]);
            rc = 0;
        }
    } else {
        fail("token", "unknown subcommand (create, list, revoke)");
    }
    db_close(d);
    return rc;
}

static int cmd_backup(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {NULL, false}};
    if (want_help(argc, argv)) {
        puts("usage: dinet backup --data DIR FILE\n\nWrites a consistent copy of the database "
             "to FILE while the node may keep running.\nThe keys in DIR/keys are not included: "
             "back them up separately.");
        return 0;
    }
    cli_args a;
    if (cli_parse("backup", argc, argv, opts, &a))
        return 2;
    if (a.npos != 1)
        return fail("backup", "exactly one FILE is required");
    config cfg;
    db *d = NULL;
    if (open_node("backup", &a, &cfg, &d))
        return 1;
    char err[1024];
    int rc = db_backup(d, a.pos[0], err, sizeof err);
    db_close(d);
    if (rc)
        return fail("backup", err);
    printf("backup written to %s\n", a.pos[0]);
    return 0;
}

static int cmd_sample(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {NULL, false}};
    if (want_help(argc, argv)) {
        puts("usage: dinet sample --data DIR\n\nLoads synthetic sample organisations, measures "
             "and progress entries\n(each marked 'Beispieldaten') for the node's district.");
        return 0;
    }
    cli_args a;
    if (cli_parse("sample", argc, argv, opts, &a))
        return 2;
    config cfg;
    db *d = NULL;
    if (open_node("sample", &a, &cfg, &d))
        return 1;
    char err[512];
    if (ap_init(&cfg, err, sizeof err)) {
        db_close(d);
        return fail("sample", err);
    }
    int n = sample_load(d, &cfg, err, sizeof err);
    ap_shutdown();
    db_close(d);
    if (n < 0)
        return fail("sample", err);
    printf("loaded %d sample records\n", n);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {"json", false}, {NULL, false}};
    if (want_help(argc, argv)) {
        puts("usage: dinet info --data DIR [--json]");
        return 0;
    }
    cli_args a;
    if (cli_parse("info", argc, argv, opts, &a))
        return 2;
    config cfg;
    if (open_node("info", &a, &cfg, NULL))
        return 1;
    const char *host = strstr(cfg.base_url, "://") + 3;
    char actor[700], handle[700], kdir[1200];
    snprintf(actor, sizeof actor, "%s/actor", cfg.base_url);
    snprintf(handle, sizeof handle, "@%s@%s", cfg.handle, host);
    fed_keys_dir(&cfg, kdir, sizeof kdir);
    fed_keys keys;
    char *fp_rsa = NULL, *fp_ed = NULL;
    if (fed_keys_load(kdir, &keys) == 0) {
        fp_rsa = fed_keys_fingerprint_rsa(keys.rsa);
        fp_ed = fed_keys_fingerprint_ed(keys.ed_pk);
        fed_keys_free(&keys);
    }
    if (!fp_rsa || !fp_ed) {
        free(fp_rsa);
        free(fp_ed);
        return fail("info", "cannot read the node's keys");
    }
    if (cli_has(&a, "json")) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", cfg.name, "role",
                              cfg.role, "district", cfg.district, "base_url", cfg.base_url,
                              "actor", actor, "handle", handle, "rsa_fingerprint", fp_rsa,
                              "ed25519_fingerprint", fp_ed);
        char *t = json_dumps(j, JSON_INDENT(2));
        puts(t);
        free(t);
        json_decref(j);
    } else {
        printf("name:     %s\nrole:     %s\ndistrict: %s\nbase_url: %s\nactor:    %s\nhandle:   %s\n"
               "rsa key:     %s\ned25519 key: %s\n",
               cfg.name, cfg.role, cfg.district, cfg.base_url, actor, handle, fp_rsa, fp_ed);
    }
    free(fp_rsa);
    free(fp_ed);
    return 0;
}

static int cmd_follow(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {NULL, false}};
    if (want_help(argc, argv)) {
        puts("usage: dinet follow --data DIR URL|acct:NAME@HOST\n\nFollows a remote actor: "
             "resolves it, records the follow as pending\nand queues a signed Follow, which the "
             "running node delivers.");
        return 0;
    }
    cli_args a;
    if (cli_parse("follow", argc, argv, opts, &a))
        return 2;
    if (a.npos != 1)
        return fail("follow", "exactly one actor URL or handle is required");
    config cfg;
    db *d = NULL;
    if (open_node("follow", &a, &cfg, &d))
        return 1;
    char err[1024] = "", actor[1024];
    int rc = ap_init(&cfg, err, sizeof err);
    if (!rc)
        rc = ap_follow(d, a.pos[0], actor, sizeof actor, err, sizeof err);
    ap_shutdown();
    db_close(d);
    if (rc)
        return fail("follow", err[0] ? err : "failed");
    printf("following %s (pending until it accepts)\n", actor);
    return 0;
}

static const char *channel_help =
    "usage: dinet channel join --data DIR GROUP_URL [GROUP_URL ...]\n"
    "       dinet channel join --data DIR --all STATE_BASE_URL\n"
    "       dinet channel list --data DIR\n"
    "\n"
    "The coordinators' channel: the state node has one Group actor per field of\n"
    "action and theme (STATE_BASE/groups/HF1 ... /groups/QT3). 'join' makes this\n"
    "district node a member by following the group; the running node delivers\n"
    "the Follow. Give several URLs to join several groups at once; --all joins the\n"
    "groups of every field of action and theme (STATE_BASE_URL/groups/CODE).\n";

static int cmd_channel(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {"all", true}, {NULL, false}};
    if (want_help(argc, argv) || argc < 1) {
        fputs(channel_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    cli_args a;
    if (cli_parse("channel", argc - 1, argv + 1, opts, &a))
        return 2;
    config cfg;
    db *d = NULL;
    if (open_node("channel", &a, &cfg, &d))
        return 1;
    int rc = 0;
    char err[1024] = "";
    if (!strcmp(argv[0], "join")) {
        /* --all BASE: one URL per current taxonomy code. */
        char urls[16][1100];
        int nurls = 0;
        if (cli_get(&a, "all")) {
            sqlite3_stmt *st = db_stmt(d, "SELECT code FROM taxonomy WHERE retired=0 "
                                          "ORDER BY kind, position");
            while (st && nurls < 16 && sqlite3_step(st) == SQLITE_ROW)
                snprintf(urls[nurls++], sizeof urls[0], "%s/groups/%s", cli_get(&a, "all"),
                         (const char *)sqlite3_column_text(st, 0));
            db_done(st);
        }
        for (int i = 0; i < a.npos && nurls < 16; i++)
            snprintf(urls[nurls++], sizeof urls[0], "%s", a.pos[i]);
        if (nurls < 1)
            rc = fail("channel", "join needs the URL of a state Group actor (or --all STATE_BASE_URL)");
        else if (ap_init(&cfg, err, sizeof err))
            rc = fail("channel", err);
        else {
            channel_init(ap_ctx());
            for (int i = 0; i < nurls && !rc; i++) {
                char code[16];
                if (channel_join(d, urls[i], code, sizeof code, err, sizeof err))
                    rc = fail("channel", err);
                else
                    printf("joining group %s (%s), pending until it accepts\n", code, urls[i]);
            }
            ap_shutdown();
        }
    } else if (!strcmp(argv[0], "list")) {
        sqlite3_stmt *st = db_stmt(d, "SELECT code, url, name FROM channel_groups ORDER BY code");
        while (st && sqlite3_step(st) == SQLITE_ROW)
            printf("%s\t%s\t%s\n", (const char *)sqlite3_column_text(st, 0),
                   (const char *)sqlite3_column_text(st, 1),
                   (const char *)sqlite3_column_text(st, 2));
        db_done(st);
    } else {
        rc = fail("channel", "unknown subcommand (join, list)");
    }
    db_close(d);
    return rc;
}

static const char *district_help =
    "usage: dinet district add --data DIR --code CODE ACTOR_URL\n"
    "       dinet district list --data DIR\n"
    "       dinet district remove --data DIR CODE\n"
    "       dinet district confirm-key --data DIR CODE\n"
    "\n"
    "The state node's registry of trusted districts. 'add' fetches the district's\n"
    "actor, prints the fingerprints of its RSA and Ed25519 keys so they can be\n"
    "confirmed out of band, pins them and follows the actor; the running state node\n"
    "then backfills from the district's outbox. A key change that did not come as an\n"
    "Update signed with the old key is held until 'confirm-key' pins it.\n";

static int cmd_district(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {"code", true}, {NULL, false}};
    if (argc < 1 || want_help(argc, argv)) {
        fputs(district_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *sub = argv[0];
    cli_args a;
    if (cli_parse("district", argc - 1, argv + 1, opts, &a))
        return 2;
    config cfg;
    db *d = NULL;
    if (open_node("district", &a, &cfg, &d))
        return 1;
    int rc = 1;
    char err[1024] = "", fps[512] = "", actor[1100];
    if (strcmp(cfg.role, "state")) {
        fail("district", "only the state node (--role state) keeps a district registry");
    } else if (!strcmp(sub, "list")) {
        json_t *l = agg_district_list(d);
        size_t i;
        json_t *e;
        json_array_foreach(l, i, e)
        {
            json_t *fp = json_object_get(e, "fingerprints");
            printf("%s %-24s %s\n      RSA %s\n      Ed25519 %s\n      records %lld, last "
                   "contact %s%s%s\n",
                   json_string_value(json_object_get(e, "code")),
                   json_string_value(json_object_get(e, "name")),
                   json_string_value(json_object_get(e, "actor")),
                   json_string_value(json_object_get(fp, "rsa")),
                   json_string_value(json_object_get(fp, "ed25519")),
                   (long long)json_integer_value(json_object_get(e, "records")),
                   json_string_value(json_object_get(e, "last_contact"))
                       ? json_string_value(json_object_get(e, "last_contact"))
                       : "never",
                   json_string_value(json_object_get(e, "last_error")) ? ", error: " : "",
                   json_string_value(json_object_get(e, "last_error"))
                       ? json_string_value(json_object_get(e, "last_error"))
                       : "");
        }
        json_decref(l);
        rc = 0;
    } else if (!strcmp(sub, "add")) {
        const char *code = cli_get(&a, "code");
        if (!code || a.npos != 1)
            fail("district", "add needs --code CODE and the district's ACTOR_URL");
        else if (ap_init(&cfg, err, sizeof err) == 0) {
            agg_init(ap_ctx());
            if (agg_district_add(d, code, a.pos[0], fps, sizeof fps, err, sizeof err) ||
                ap_follow(d, a.pos[0], actor, sizeof actor, err, sizeof err))
                fail("district", err);
            else {
                printf("registered district %s: %s\nconfirm these key fingerprints with the "
                       "district out of band:\n%s\nfollow queued; the running state node "
                       "backfills its outbox.\n",
                       code, a.pos[0], fps);
                rc = 0;
            }
            ap_shutdown();
        } else {
            fail("district", err);
        }
    } else if (!strcmp(sub, "confirm-key")) {
        if (a.npos != 1)
            fail("district", "confirm-key needs the district CODE");
        else if (agg_confirm_keys(d, a.pos[0], fps, sizeof fps, err, sizeof err))
            fail("district", err);
        else {
            printf("new keys of district %s pinned:\n%s\n", a.pos[0], fps);
            rc = 0;
        }
    } else if (!strcmp(sub, "remove")) {
        if (a.npos != 1)
            fail("district", "remove needs the district CODE");
        else if (ap_init(&cfg, err, sizeof err))
            fail("district", err);
        else {
            agg_init(ap_ctx());
            if (agg_district_remove(d, a.pos[0]))
                fail("district", "no such district registered");
            else {
                printf("district %s removed; the Undo of the follow is queued\n", a.pos[0]);
                rc = 0;
            }
            ap_shutdown();
        }
    } else {
        fail("district", "unknown subcommand (add, list, remove)");
    }
    db_close(d);
    return rc;
}

static int cmd_keys(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {NULL, false}};
    if (argc < 1 || want_help(argc, argv) || strcmp(argv[0], "rotate")) {
        fputs("usage: dinet keys rotate --data DIR\n\nMakes new RSA and Ed25519 keys, keeps "
              "the old ones in DIR/keys/old and\npublishes an Update of the actor signed with the "
              "old key, so followers\nlearn the new keys.\n",
              argc < 1 || strcmp(argv[0], "rotate") ? stderr : stdout);
        return want_help(argc, argv) ? 0 : 2;
    }
    cli_args a;
    if (cli_parse("keys", argc - 1, argv + 1, opts, &a))
        return 2;
    /* A running node keeps signing with the keys it loaded, while its
     * followers (and the state, which pins them) switch to the new ones at
     * once: everything it sent until a restart would be refused. So the node
     * must be stopped; holding its lock also keeps it from starting now. */
    char lock_err[1400];
    if (cli_get(&a, "data") && restore_lock_serve(cli_get(&a, "data"), lock_err, sizeof lock_err))
        return fail("keys", "the node is running: stop it (systemctl stop dinet), rotate, then "
                            "start it again; it delivers the Update signed with the old keys");
    config cfg;
    db *d = NULL;
    if (open_node("keys", &a, &cfg, &d))
        return 1;
    char err[1024] = "";
    int rc = ap_rotate_keys(d, &cfg, err, sizeof err);
    db_close(d);
    if (rc)
        return fail("keys", err);
    puts("keys rotated; start the node: it delivers the Update of the actor to every follower");
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "dinet: libsodium failed to initialise\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *lvl = getenv("DINET_LOG");
    if (lvl && !strcmp(lvl, "debug"))
        log_set_level(LOG_DEBUG);
    else if (lvl && !strcmp(lvl, "warn"))
        log_set_level(LOG_WARN);
    int rc;
    if (argc < 2) {
        fputs(usage_text, stderr);
        rc = 2;
    } else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        rc = 0;
    } else if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("dinet %s\n", DINET_VERSION);
        rc = 0;
    } else if (!strcmp(argv[1], "init"))
        rc = cmd_init(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "serve"))
        rc = cmd_serve(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "user"))
        rc = cmd_user(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "token"))
        rc = cmd_token(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "backup"))
        rc = cmd_backup(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "restore"))
        rc = restore_main(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "sample"))
        rc = cmd_sample(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "info"))
        rc = cmd_info(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "follow"))
        rc = cmd_follow(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "keys"))
        rc = cmd_keys(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "district"))
        rc = cmd_district(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "channel"))
        rc = cmd_channel(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "verify"))
        rc = verify_main(argc - 2, argv + 2);
    else {
        fprintf(stderr, "dinet: unknown command '%s'\n\n%s", argv[1], usage_text);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
