/* dinet restore and the serve lock; see restore.h. */
#include "restore.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "fed.h"
#include "keys.h"
#include "proof.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *restore_help =
    "usage: dinet restore --data DIR [--force] FILE\n"
    "\n"
    "Replaces the database of the node in DIR with FILE, a backup made by\n"
    "'dinet backup'. The node must be stopped (systemctl stop dinet); restore\n"
    "refuses while it runs or while another process has the database open.\n"
    "\n"
    "FILE is checked first: PRAGMA integrity_check must be ok and its schema\n"
    "version must not be newer than this program's. It must come from this\n"
    "node: its activities must carry DIR's base_url (--force restores a backup\n"
    "of another base_url, e.g. after moving the node to a new address).\n"
    "\n"
    "The current database is kept as DIR/dinet.db.before-restore. The keys in\n"
    "DIR/keys are not part of a backup: restore them from your file backup.\n"
    "A backup of an older schema is migrated when the node starts.\n";

/* The data directory's owner: files that restore creates as root get it,
 * so that a node running as its own user (systemd User=dinet) can use them. */
static int own_like_dir(int fd, const char *dir)
{
    struct stat st;
    if (geteuid() != 0 || stat(dir, &st) != 0)
        return 0;
    return fchown(fd, st.st_uid, st.st_gid);
}

/* Opens and locks DIR/serve.lock. Returns the descriptor, -2 when another
 * process holds the lock (holder gets its pid text), -1 on other errors
 * (errno set). */
static int lock_dir(const char *dir, char *holder, size_t holderlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/serve.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    own_like_dir(fd, dir);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            ssize_t n = pread(fd, holder, holderlen - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\r\n")] = '\0';
            close(fd);
            return -2;
        }
        close(fd);
        errno = e;
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* The lock is what matters; the pid is only for messages. */
    }
    return fd;
}

int restore_lock_serve(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    char holder[32];
    int fd = lock_dir(dir, holder, sizeof holder);
    if (fd == -2) {
        snprintf(err, errlen,
                 "%s/serve.lock is held by process %s: the node runs already, or a restore "
                 "is in progress",
                 dir, holder[0] ? holder : "?");
        return -1;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot lock %s/serve.lock: %s", dir, strerror(errno));
        return -1;
    }
    return 0; /* fd stays open (close-on-exec) until the process ends */
}

static int fail(const char *msg)
{
    fprintf(stderr, "dinet restore: %s\n", msg);
    return 1;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int copy_file(const char *from, const char *to, const char *dir, char *err, size_t errlen)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "cannot read %s: %s", from, strerror(errno));
        return -1;
    }
    unlink(to); /* left over from an interrupted restore; we hold the lock */
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        snprintf(err, errlen, "cannot create %s: %s", to, strerror(errno));
        close(in);
        return -1;
    }
    int rc = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "cannot read %s: %s", from, strerror(errno));
            rc = -1;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(err, errlen, "cannot write %s: %s", to, strerror(errno));
                rc = -1;
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    if (!rc && own_like_dir(out, dir) != 0) {
        snprintf(err, errlen, "cannot give %s to the owner of %s: %s", to, dir, strerror(errno));
        rc = -1;
    }
    if (!rc && fsync(out) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", to, strerror(errno));
        rc = -1;
    }
    close(out);
    close(in);
    if (rc)
        unlink(to);
    return rc;
}

static long long scalar(sqlite3 *h, const char *sql, bool *ok)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    bool good = false;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        good = true;
    }
    sqlite3_finalize(st);
    if (ok)
        *ok = good;
    return v;
}

/* Text of the first row of sql, malloc'd, or NULL. */
static char *text1(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

typedef struct backup_facts {
    int version;
    long long records, activities;
    char key_note[1600]; /* a warning about the keys, or "" */
} backup_facts;

/* Does the newest signed activity in the backup verify with DIR/keys (or
 * DIR/keys/old after a rotation)? Writes a warning into note when not. */
static void check_keys(sqlite3 *h, const config *cfg, char *note, size_t notelen)
{
    note[0] = '\0';
    char *act = text1(h, "SELECT activity FROM outbox WHERE activity LIKE '%\"proof\"%' "
                         "ORDER BY seq DESC LIMIT 1");
    if (!act)
        return;
    json_t *doc = json_loads(act, 0, NULL);
    free(act);
    if (!doc)
        return;
    char kdir[1200], olddir[1300];
    fed_keys_dir(cfg, kdir, sizeof kdir);
    snprintf(olddir, sizeof olddir, "%s/old", kdir);
    const char *dirs[] = {kdir, olddir};
    bool any_keys = false, verified = false;
    for (int i = 0; i < 2 && !verified; i++) {
        fed_keys k;
        if (fed_keys_load(dirs[i], &k) != 0)
            continue;
        any_keys = true;
        verified = proof_verify(doc, k.ed_pk, NULL, 0) == PROOF_OK;
        fed_keys_free(&k);
    }
    json_decref(doc);
    if (!any_keys)
        snprintf(note, notelen,
                 "warning: no keys in %s; restore DIR/keys from your file backup before "
                 "starting the node",
                 kdir);
    else if (!verified)
        snprintf(note, notelen,
                 "warning: the newest activity in the backup was not signed with the keys in "
                 "%s; unless the keys were rotated twice since the backup, restore DIR/keys "
                 "from the same backup",
                 kdir);
}

/* Checks the copy at path. Returns 0 with facts, or -1 with err. */
static int check_backup(const char *path, const config *cfg, bool force, backup_facts *f,
                        char *err, size_t errlen)
{
    sqlite3 *h = NULL;
    int rc = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the backup: %s", h ? sqlite3_errmsg(h) : "?");
        goto out;
    }
    sqlite3_busy_timeout(h, 2000);
    /* integrity_check answers a single row "ok", or rows describing
     * problems; a file that is no database fails to prepare. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check(20)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "not a usable SQLite database: %s", sqlite3_errmsg(h));
        sqlite3_finalize(st);
        goto out;
    }
    int step = sqlite3_step(st);
    const char *first = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!first || strcmp(first, "ok") != 0) {
        snprintf(err, errlen, "integrity check failed: %s",
                 first ? first : sqlite3_errmsg(h));
        sqlite3_finalize(st);
        goto out;
    }
    sqlite3_finalize(st);
    bool ok;
    f->version = (int)scalar(h, "PRAGMA user_version", &ok);
    if (!ok || f->version < 1) {
        snprintf(err, errlen, "not a dinet database (schema version %d)", f->version);
        goto out;
    }
    if (f->version > db_schema_version()) {
        snprintf(err, errlen,
                 "the backup has schema version %d, newer than this program's %d: "
                 "install the dinet version that made it (or a later one) first",
                 f->version, db_schema_version());
        goto out;
    }
    /* The tables of schema version 1, the oldest a backup can have. */
    if (scalar(h, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                  "name IN ('records','history','users','api_tokens')", NULL) != 4) {
        snprintf(err, errlen, "not a dinet database (its tables are missing)");
        goto out;
    }
    f->records = scalar(h, "SELECT count(*) FROM records WHERE deleted IS NULL", NULL);
    f->activities = scalar(h, "SELECT count(*) FROM outbox", NULL); /* -1 before v2 */
    if (f->activities < 0)
        f->activities = 0;
    char *last = text1(h, "SELECT activity_id FROM outbox ORDER BY seq DESC LIMIT 1");
    size_t bl = strlen(cfg->base_url);
    if (last && !(strncmp(last, cfg->base_url, bl) == 0 && last[bl] == '/') && !force) {
        snprintf(err, errlen,
                 "the backup comes from another node: its activities are under %.300s, this "
                 "node's base_url is %s (--force restores it anyway)",
                 last, cfg->base_url);
        free(last);
        goto out;
    }
    free(last);
    check_keys(h, cfg, f->key_note, sizeof f->key_note);
    rc = 0;
out:
    sqlite3_close(h); /* the last connection: removes the copy's -wal and -shm */
    return rc;
}

/* Makes sure no other process uses the database at path and folds its WAL
 * into it. Returns 0, or -1 with err. A database that SQLite cannot read at
 * all (damaged: often the reason for a restore) sets *broken with the reason
 * in err and returns 0: its WAL is then left for the caller to keep. */
static int quiesce(const char *path, bool *broken, char *err, size_t errlen)
{
    *broken = false;
    if (!exists(path))
        return 0;
    sqlite3 *h = NULL;
    int rc = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "?");
        goto out;
    }
    /* In exclusive locking mode SQLite takes the file's exclusive lock and
     * uses no shared memory, which fails while any other connection (another
     * process: a running node, a dinet command) has the database open. */
    int x = sqlite3_exec(h, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL, NULL);
    if (x == SQLITE_OK)
        x = sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    if (x == SQLITE_BUSY || x == SQLITE_LOCKED) {
        snprintf(err, errlen,
                 "%s is in use by another process (a running node or another dinet command): "
                 "stop it first",
                 path);
        goto out;
    }
    if (x != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        *broken = true;
        sqlite3_close(h);
        return 0;
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot checkpoint %s: %s", path, sqlite3_errmsg(h));
        goto out;
    }
    rc = 0;
out:
    if (sqlite3_close(h) != SQLITE_OK && rc == 0) {
        snprintf(err, errlen, "cannot close %s", path);
        rc = -1;
    }
    if (rc == 0) {
        /* Nothing may be left that SQLite would apply to the new file. */
        char wal[1300];
        snprintf(wal, sizeof wal, "%s-wal", path);
        struct stat st;
        if (stat(wal, &st) == 0 && st.st_size > 0) {
            snprintf(err, errlen, "%s still has content after a checkpoint; not replacing it",
                     wal);
            return -1;
        }
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
    }
    return rc;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int restore_main(int argc, char **argv)
{
    static const cli_opt opts[] = {{"data", true}, {"force", false}, {NULL, false}};
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(restore_help, stdout);
            return 0;
        }
    cli_args a;
    if (cli_parse("restore", argc, argv, opts, &a))
        return 2;
    const char *dir = cli_get(&a, "data");
    if (!dir || !*dir) {
        fputs("dinet restore: --data DIR is required (see 'dinet restore --help')\n", stderr);
        return 2;
    }
    if (a.npos != 1) {
        fputs("dinet restore: exactly one backup FILE is required\n", stderr);
        return 2;
    }
    const char *file = a.pos[0];
    char err[2048];
    config cfg;
    config_defaults(&cfg);
    if (config_load(&cfg, dir, err, sizeof err))
        return fail(err);

    struct stat st;
    if (stat(file, &st) != 0) {
        snprintf(err, sizeof err, "%s: %s", file, strerror(errno));
        return fail(err);
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, sizeof err, "%s: not a regular file", file);
        return fail(err);
    }
    char side[1200];
    snprintf(side, sizeof side, "%s-wal", file);
    struct stat wst;
    if (stat(side, &wst) == 0 && wst.st_size > 0) {
        snprintf(err, sizeof err,
                 "%s exists: %s is a live database, not a backup; make one with 'dinet backup'",
                 side, file);
        return fail(err);
    }

    char dbp[1200], tmp[1300], keep[1300];
    config_path(&cfg, "dinet.db", dbp, sizeof dbp);
    snprintf(tmp, sizeof tmp, "%s.restore-tmp", dbp);
    snprintf(keep, sizeof keep, "%s.before-restore", dbp);
    struct stat dst;
    if (stat(dbp, &dst) == 0 && dst.st_dev == st.st_dev && dst.st_ino == st.st_ino)
        return fail("FILE is the node's own database");

    char holder[32];
    int lockfd = lock_dir(dir, holder, sizeof holder);
    if (lockfd == -2) {
        snprintf(err, sizeof err,
                 "the node runs (process %s holds %s/serve.lock): stop it first, e.g. "
                 "'systemctl stop dinet'",
                 holder[0] ? holder : "?", dir);
        return fail(err);
    }
    if (lockfd < 0) {
        snprintf(err, sizeof err, "cannot lock %s/serve.lock: %s", dir, strerror(errno));
        return fail(err);
    }
    int rc = 1;
    bool have_old = exists(dbp);
    if (have_old && exists(keep)) {
        snprintf(err, sizeof err,
                 "%s exists from an earlier restore; move it away (or delete it) first", keep);
        fail(err);
        goto out;
    }
    backup_facts f;
    memset(&f, 0, sizeof f);
    if (copy_file(file, tmp, dir, err, sizeof err)) {
        fail(err);
        goto out;
    }
    if (check_backup(tmp, &cfg, cli_has(&a, "force"), &f, err, sizeof err)) {
        char msg[2300];
        snprintf(msg, sizeof msg, "%s: %s; nothing was changed", file, err);
        fail(msg);
        goto drop_tmp;
    }
    bool broken = false;
    if (quiesce(dbp, &broken, err, sizeof err)) {
        char msg[2300];
        snprintf(msg, sizeof msg, "%s; nothing was changed", err);
        fail(msg);
        goto drop_tmp;
    }
    /* The swap: the old database gets a second name first, so that DIR/dinet.db
     * always names a complete database. */
    if (have_old && link(dbp, keep) != 0) {
        if (errno == EEXIST || rename(dbp, keep) != 0) {
            snprintf(err, sizeof err, "cannot keep the current database as %s: %s", keep,
                     strerror(errno));
            fail(err);
            goto drop_tmp;
        }
    }
    if (broken) {
        /* Keep the damaged database's WAL with it, under the matching name. */
        char from[1400], to[1400];
        snprintf(from, sizeof from, "%s-wal", dbp);
        snprintf(to, sizeof to, "%s-wal", keep);
        if (exists(from) && rename(from, to) != 0) {
            snprintf(err, sizeof err, "cannot move %s aside: %s", from, strerror(errno));
            fail(err);
            goto drop_tmp;
        }
        snprintf(from, sizeof from, "%s-shm", dbp);
        unlink(from);
    }
    if (rename(tmp, dbp) != 0) {
        snprintf(err, sizeof err, "cannot move the backup into place: %s", strerror(errno));
        fail(err);
        goto drop_tmp;
    }
    fsync_dir(dir);
    printf("restored %s into %s: schema version %d, %lld records, %lld activities\n", file, dbp,
           f.version, f.records, f.activities);
    if (have_old)
        printf("the previous database is kept as %s\n", keep);
    if (broken)
        printf("warning: the previous database could not be read (%s)\n", err);
    if (f.version < db_schema_version())
        printf("the node migrates it from schema version %d to %d when it starts\n", f.version,
               db_schema_version());
    if (f.key_note[0])
        printf("%s\n", f.key_note);
    rc = 0;
    goto out;
drop_tmp:
    unlink(tmp);
out:
    close(lockfd);
    return rc;
}
