/* Accounts and access; see account.h. */
#include "account.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SESSION_TTL (8 * 3600)
#define FAIL_WINDOW (15 * 60)
#define FAIL_MAX_ACCOUNT 5
#define FAIL_MAX_CLIENT 20

static const char *const role_names[] = {"none",      "participant", "viewer",
                                          "moderator", "editor",      "admin"};

role account_role_parse(const char *s)
{
    for (int i = 1; s && i <= ROLE_ADMIN; i++)
        if (strcmp(s, role_names[i]) == 0)
            return (role)i;
    return ROLE_NONE;
}

const char *account_role_name(role r)
{
    return role_names[r];
}

long account_session_ttl(void)
{
    return SESSION_TTL;
}

static bool valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 2 || len > 64)
        return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-' && *p != '@')
            return false;
    return true;
}

static acct_status check_password(const char *pw, char *err, size_t errlen)
{
    size_t n = strlen(pw);
    if (n > 1024) {
        snprintf(err, errlen, "password: at most 1024 bytes");
        return ACCT_INVALID;
    }
    if (!util_utf8_valid(pw, n) || util_utf8_len(pw) < 10) {
        snprintf(err, errlen, "password: at least 10 characters");
        return ACCT_INVALID;
    }
    return ACCT_OK;
}

static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES])
{
    /* argon2id with libsodium's interactive limits (64 MiB, 2 passes). */
    return crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

static acct_status user_insert(db *d, const char *name, role r, const char *password,
                               bool approved, const char *display, char *err, size_t errlen);

acct_status account_user_add(db *d, const char *name, role r, const char *password, char *err,
                             size_t errlen)
{
    return user_insert(d, name, r, password, true, NULL, err, errlen);
}

static acct_status user_insert(db *d, const char *name, role r, const char *password,
                               bool approved, const char *display, char *err, size_t errlen)
{
    if (!valid_name(name)) {
        snprintf(err, errlen, "name: 2-64 characters a-z, 0-9, '.', '_', '-', '@'");
        return ACCT_INVALID;
    }
    if (r == ROLE_NONE) {
        snprintf(err, errlen, "role: one of admin, editor, moderator, viewer, participant");
        return ACCT_INVALID;
    }
    acct_status s = check_password(password, err, errlen);
    if (s)
        return s;
    char hash[crypto_pwhash_STRBYTES];
    if (hash_password(password, hash)) {
        snprintf(err, errlen, "out of memory while hashing");
        return ACCT_ERROR;
    }
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st =
        db_stmt(d, "INSERT INTO users(name, role, pwhash, created, approved, display_name) "
                   "VALUES(:name, :role, :hash, :now, :ap, :dn)");
    if (!st)
        return ACCT_ERROR;
    db_bind_int(st, ":ap", approved);
    db_bind_text(st, ":dn", display);
    db_bind_text(st, ":name", name);
    db_bind_text(st, ":role", role_names[r]);
    db_bind_text(st, ":hash", hash);
    db_bind_text(st, ":now", now);
    int rc = sqlite3_step(st);
    db_done(st);
    if (rc == SQLITE_CONSTRAINT) {
        snprintf(err, errlen, "name: a user '%s' exists already", name);
        return ACCT_EXISTS;
    }
    return rc == SQLITE_DONE ? ACCT_OK : ACCT_ERROR;
}

acct_status account_user_passwd(db *d, const char *name, const char *password, char *err,
                                size_t errlen)
{
    acct_status s = check_password(password, err, errlen);
    if (s)
        return s;
    char hash[crypto_pwhash_STRBYTES];
    if (hash_password(password, hash))
        return ACCT_ERROR;
    if (db_begin(d))
        return ACCT_ERROR;
    sqlite3_stmt *st = db_stmt(d, "UPDATE users SET pwhash=:hash WHERE name=:name");
    if (!st) {
        db_rollback(d);
        return ACCT_ERROR;
    }
    db_bind_text(st, ":hash", hash);
    db_bind_text(st, ":name", name);
    if (db_exec_stmt(st)) {
        db_rollback(d);
        return ACCT_ERROR;
    }
    if (sqlite3_changes(db_handle(d)) == 0) {
        db_rollback(d);
        snprintf(err, errlen, "no user '%s'", name);
        return ACCT_NOT_FOUND;
    }
    /* A new password ends every existing session of that user. */
    st = db_stmt(d, "DELETE FROM sessions WHERE user_id=(SELECT id FROM users WHERE name=:name)");
    if (!st || (db_bind_text(st, ":name", name), db_exec_stmt(st)) || db_commit(d)) {
        db_rollback(d);
        return ACCT_ERROR;
    }
    return ACCT_OK;
}

acct_status account_user_set_role(db *d, const char *name, role r)
{
    if (r == ROLE_NONE)
        return ACCT_INVALID;
    sqlite3_stmt *st = db_stmt(d, "UPDATE users SET role=:role WHERE name=:name");
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":role", role_names[r]);
    db_bind_text(st, ":name", name);
    if (db_exec_stmt(st))
        return ACCT_ERROR;
    return sqlite3_changes(db_handle(d)) ? ACCT_OK : ACCT_NOT_FOUND;
}

acct_status account_user_disable(db *d, const char *name, bool disabled)
{
    if (db_begin(d))
        return ACCT_ERROR;
    sqlite3_stmt *st = db_stmt(d, "UPDATE users SET disabled=:dis WHERE name=:name");
    if (!st)
        goto fail;
    db_bind_int(st, ":dis", disabled);
    db_bind_text(st, ":name", name);
    if (db_exec_stmt(st))
        goto fail;
    if (sqlite3_changes(db_handle(d)) == 0) {
        db_rollback(d);
        return ACCT_NOT_FOUND;
    }
    st = db_stmt(d, "DELETE FROM sessions WHERE user_id=(SELECT id FROM users WHERE name=:name)");
    if (!st)
        goto fail;
    db_bind_text(st, ":name", name);
    if (db_exec_stmt(st) || db_commit(d))
        goto fail;
    return ACCT_OK;
fail:
    db_rollback(d);
    return ACCT_ERROR;
}

json_t *account_user_list(db *d)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT id, name, role, disabled, created, approved, trusted, "
                   "COALESCE(display_name, name) FROM users ORDER BY name");
    json_t *arr = json_array();
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:b, s:s, s:b, s:b, s:s}", "id",
                           (json_int_t)sqlite3_column_int64(st, 0), "name",
                           sqlite3_column_text(st, 1), "role", sqlite3_column_text(st, 2),
                           "disabled", sqlite3_column_int(st, 3), "created",
                           sqlite3_column_text(st, 4), "approved", sqlite3_column_int(st, 5),
                           "trusted", sqlite3_column_int(st, 6), "display_name",
                           sqlite3_column_text(st, 7)));
    db_done(st);
    return arr;
}

static long failures(db *d, const char *key, long now, long *oldest)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT count(*), min(at) FROM login_failures WHERE key=:key AND at>:since");
    if (!st)
        return 0;
    db_bind_text(st, ":key", key);
    db_bind_int(st, ":since", now - FAIL_WINDOW);
    long n = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int(st, 0);
        *oldest = sqlite3_column_int64(st, 1);
    }
    db_done(st);
    return n;
}

static void record_failure(db *d, const char *key, long now)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO login_failures(key, at) VALUES(:key, :at)");
    if (!st)
        return;
    db_bind_text(st, ":key", key);
    db_bind_int(st, ":at", now);
    db_exec_stmt(st);
}

acct_status account_login(db *d, const char *name, const char *password, const char *client,
                          char token[65], principal *p, long *retry_after)
{
    long now = (long)time(NULL);
    char ukey[160], ckey[160];
    snprintf(ukey, sizeof ukey, "user:%s", name);
    for (char *c = ukey; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    snprintf(ckey, sizeof ckey, "addr:%s", client ? client : "?");
    long oldest_u = now, oldest_c = now;
    long nu = failures(d, ukey, now, &oldest_u), nc = failures(d, ckey, now, &oldest_c);
    if (nu >= FAIL_MAX_ACCOUNT || nc >= FAIL_MAX_CLIENT) {
        long oldest = nu >= FAIL_MAX_ACCOUNT ? oldest_u : oldest_c;
        *retry_after = oldest + FAIL_WINDOW - now;
        if (*retry_after < 1)
            *retry_after = 1;
        log_event(LOG_WARN, "login.throttled", "user", name, NULL);
        return ACCT_THROTTLED;
    }
    sqlite3_stmt *st =
        db_stmt(d, "SELECT id, pwhash, role, disabled, name, approved, trusted, "
                   "COALESCE(display_name, name) FROM users WHERE name=:name");
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":name", name);
    bool ok = false;
    char hash[crypto_pwhash_STRBYTES] = "", rname[16] = "", uname[128] = "";
    char display[128] = "";
    long long uid = 0;
    int disabled = 1, approved = 0, trusted = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        uid = sqlite3_column_int64(st, 0);
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(rname, sizeof rname, "%s", (const char *)sqlite3_column_text(st, 2));
        disabled = sqlite3_column_int(st, 3);
        snprintf(uname, sizeof uname, "%s", (const char *)sqlite3_column_text(st, 4));
        approved = sqlite3_column_int(st, 5);
        trusted = sqlite3_column_int(st, 6);
        snprintf(display, sizeof display, "%s", (const char *)sqlite3_column_text(st, 7));
    }
    db_done(st);
    if (hash[0])
        ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    else {
        /* Spend the same time on unknown users so that timing does not tell
         * which names exist. */
        char dummy[crypto_pwhash_STRBYTES];
        hash_password("timing-equaliser", dummy);
    }
    if (!ok || disabled) {
        if (db_begin(d) == 0) {
            record_failure(d, ukey, now);
            record_failure(d, ckey, now);
            st = db_stmt(d, "DELETE FROM login_failures WHERE at<:old");
            if (st) {
                db_bind_int(st, ":old", now - FAIL_WINDOW);
                db_exec_stmt(st);
            }
            db_commit(d);
        }
        log_event(LOG_INFO, "login.failed", "user", name, NULL);
        return ACCT_DENIED;
    }
    if (!approved) {
        /* The right password of an account that waits for approval: say so
         * (it proves nothing the caller did not know). */
        log_event(LOG_INFO, "login.pending", "user", uname, NULL);
        return ACCT_PENDING;
    }
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, 65, raw, sizeof raw);
    char th[65], now_iso[21];
    util_sha256_hex(token, 64, th);
    util_now_iso(now_iso);
    memset(p, 0, sizeof *p);
    util_random_hex(p->csrf, 32);
    if (db_begin(d))
        return ACCT_ERROR;
    st = db_stmt(d, "INSERT INTO sessions(token_hash, user_id, csrf, created, expires) "
                    "VALUES(:th, :uid, :csrf, :now, :exp)");
    if (!st)
        goto fail;
    db_bind_text(st, ":th", th);
    db_bind_int(st, ":uid", uid);
    db_bind_text(st, ":csrf", p->csrf);
    db_bind_text(st, ":now", now_iso);
    db_bind_int(st, ":exp", now + SESSION_TTL);
    if (db_exec_stmt(st))
        goto fail;
    st = db_stmt(d, "DELETE FROM login_failures WHERE key=:key");
    if (!st)
        goto fail;
    db_bind_text(st, ":key", ukey);
    if (db_exec_stmt(st))
        goto fail;
    st = db_stmt(d, "DELETE FROM sessions WHERE expires<:now");
    if (!st)
        goto fail;
    db_bind_int(st, ":now", now);
    if (db_exec_stmt(st) || db_commit(d))
        goto fail;
    p->role = account_role_parse(rname);
    p->user_id = uid;
    p->via_cookie = true;
    p->trusted = trusted;
    snprintf(p->display, sizeof p->display, "%s", display);
    snprintf(p->name, sizeof p->name, "%s", uname);
    snprintf(p->actor, sizeof p->actor, "user:%s", uname);
    log_event(LOG_INFO, "login.ok", "user", uname, NULL);
    return ACCT_OK;
fail:
    db_rollback(d);
    return ACCT_ERROR;
}

acct_status account_session(db *d, const char *token, principal *p)
{
    if (!token || strlen(token) != 64)
        return ACCT_DENIED;
    char th[65];
    util_sha256_hex(token, 64, th);
    sqlite3_stmt *st = db_stmt(d, "SELECT u.id, u.name, u.role, s.csrf, u.trusted, "
                                  "COALESCE(u.display_name, u.name) FROM sessions s "
                                  "JOIN users u ON u.id=s.user_id WHERE s.token_hash=:th AND "
                                  "s.expires>:now AND u.disabled=0 AND u.approved=1");
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":th", th);
    db_bind_int(st, ":now", (long long)time(NULL));
    acct_status s = ACCT_DENIED;
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(p, 0, sizeof *p);
        p->user_id = sqlite3_column_int64(st, 0);
        snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(st, 1));
        p->role = account_role_parse((const char *)sqlite3_column_text(st, 2));
        snprintf(p->csrf, sizeof p->csrf, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(p->actor, sizeof p->actor, "user:%s", p->name);
        p->via_cookie = true;
        p->trusted = sqlite3_column_int(st, 4);
        snprintf(p->display, sizeof p->display, "%s", (const char *)sqlite3_column_text(st, 5));
        s = ACCT_OK;
    }
    db_done(st);
    return s;
}

void account_logout(db *d, const char *token)
{
    if (!token || strlen(token) != 64)
        return;
    char th[65];
    util_sha256_hex(token, 64, th);
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM sessions WHERE token_hash=:th");
    if (st) {
        db_bind_text(st, ":th", th);
        db_exec_stmt(st);
    }
}

acct_status account_token_create(db *d, const char *name, role r, char token[80], char *err,
                                 size_t errlen)
{
    if (!valid_name(name)) {
        snprintf(err, errlen, "name: 2-64 characters a-z, 0-9, '.', '_', '-', '@'");
        return ACCT_INVALID;
    }
    if (r == ROLE_NONE || r == ROLE_PARTICIPANT) {
        snprintf(err, errlen, "role: one of admin, editor, moderator, viewer");
        return ACCT_INVALID;
    }
    char hex[65];
    util_random_hex(hex, 32);
    snprintf(token, 80, "dnt_%s", hex);
    char th[65], now[21];
    util_sha256_hex(token, strlen(token), th);
    util_now_iso(now);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO api_tokens(name, token_hash, role, created) "
                                  "VALUES(:name, :th, :role, :now)");
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":name", name);
    db_bind_text(st, ":th", th);
    db_bind_text(st, ":role", role_names[r]);
    db_bind_text(st, ":now", now);
    int rc = sqlite3_step(st);
    db_done(st);
    if (rc == SQLITE_CONSTRAINT) {
        snprintf(err, errlen, "name: a token '%s' exists already", name);
        return ACCT_EXISTS;
    }
    return rc == SQLITE_DONE ? ACCT_OK : ACCT_ERROR;
}

acct_status account_token_revoke(db *d, const char *name)
{
    char now[21];
    util_now_iso(now);
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE api_tokens SET revoked=:now WHERE name=:name AND revoked IS NULL");
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":now", now);
    db_bind_text(st, ":name", name);
    if (db_exec_stmt(st))
        return ACCT_ERROR;
    return sqlite3_changes(db_handle(d)) ? ACCT_OK : ACCT_NOT_FOUND;
}

acct_status account_token_check(db *d, const char *token, principal *p)
{
    if (!token || strncmp(token, "dnt_", 4) || strlen(token) != 68)
        return ACCT_DENIED;
    char th[65];
    util_sha256_hex(token, strlen(token), th);
    sqlite3_stmt *st = db_stmt(
        d, "SELECT name, role FROM api_tokens WHERE token_hash=:th AND revoked IS NULL");
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":th", th);
    acct_status s = ACCT_DENIED;
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(st, 0));
        p->role = account_role_parse((const char *)sqlite3_column_text(st, 1));
        snprintf(p->actor, sizeof p->actor, "token:%s", p->name);
        snprintf(p->display, sizeof p->display, "%s", p->name);
        s = ACCT_OK;
    }
    db_done(st);
    return s;
}

json_t *account_token_list(db *d)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT name, role, created, revoked FROM api_tokens ORDER BY name");
    json_t *arr = json_array();
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s?}", "name", sqlite3_column_text(st, 0), "role",
                           sqlite3_column_text(st, 1), "created", sqlite3_column_text(st, 2),
                           "revoked", sqlite3_column_text(st, 3)));
    db_done(st);
    return arr;
}

/* ---- self-registration and moderation of accounts ------------------------ */

acct_status account_register(db *d, const char *name, const char *password,
                             const char *display_name, char *err, size_t errlen)
{
    size_t dl = display_name ? util_utf8_len(display_name) : 0;
    if (!display_name || !util_utf8_valid(display_name, strlen(display_name)) || dl < 1 ||
        dl > 80 || strpbrk(display_name, "\r\n\t")) {
        snprintf(err, errlen, "display_name: 1-80 characters on one line");
        return ACCT_INVALID;
    }
    return user_insert(d, name, ROLE_PARTICIPANT, password, false, display_name, err, errlen);
}

json_t *account_pending_list(db *d)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT name, COALESCE(display_name, name), created FROM "
                                  "users WHERE approved=0 ORDER BY created, id");
    json_t *arr = json_array();
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "name",
                                             sqlite3_column_text(st, 0), "display_name",
                                             sqlite3_column_text(st, 1), "created",
                                             sqlite3_column_text(st, 2), "role", "participant"));
    db_done(st);
    return arr;
}

static acct_status change_one(db *d, const char *sql, const char *name, int val)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    if (!st)
        return ACCT_ERROR;
    db_bind_text(st, ":name", name);
    if (val >= 0)
        db_bind_int(st, ":v", val);
    if (db_exec_stmt(st))
        return ACCT_ERROR;
    return sqlite3_changes(db_handle(d)) ? ACCT_OK : ACCT_NOT_FOUND;
}

acct_status account_approve(db *d, const char *name)
{
    return change_one(d, "UPDATE users SET approved=1 WHERE name=:name AND approved=0", name, -1);
}

acct_status account_reject(db *d, const char *name)
{
    return change_one(d, "DELETE FROM users WHERE name=:name AND approved=0", name, -1);
}

acct_status account_set_trusted(db *d, const char *name, bool trusted)
{
    return change_one(d, "UPDATE users SET trusted=:v WHERE name=:name", name, trusted);
}

bool account_check_password(db *d, long long user_id, const char *password)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT pwhash FROM users WHERE id=:id AND disabled=0");
    if (!st)
        return false;
    db_bind_int(st, ":id", user_id);
    char hash[crypto_pwhash_STRBYTES] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 0));
    db_done(st);
    return hash[0] && password && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
