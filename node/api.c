/* JSON API handlers; see api.h and protocol-docs/openapi.json. */
#include "api.h"
#include "log.h"
#include "pagecache.h"
#include "settings.h"
#include "record.h"
#include "taxonomy.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DINET_SOURCE_DIR
#define DINET_SOURCE_DIR "."
#endif
#ifndef DINET_INSTALL_SHARE
#define DINET_INSTALL_SHARE "/usr/share/dinet"
#endif

const char *api_share_dir(void)
{
    static char dir[1024];
    if (dir[0])
        return dir;
    const char *env = getenv("DINET_SHARE");
    struct stat st;
    char probe[1100];
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else {
        snprintf(probe, sizeof probe, "%s/protocol-docs/openapi.json", DINET_SOURCE_DIR);
        snprintf(dir, sizeof dir, "%s", stat(probe, &st) == 0 ? DINET_SOURCE_DIR
                                                               : DINET_INSTALL_SHARE);
    }
    return dir;
}

/* ---- authentication and authorisation --------------------------------- */

void api_authenticate(http_req *req)
{
    const char *auth = http_header(req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        req->authed = account_token_check(req->db, auth + 7, &req->who) == ACCT_OK;
        return;
    }
    const char *cookie = http_cookie(req, "dinet_session");
    if (cookie && account_session(req->db, cookie, &req->who) == ACCT_OK) {
        req->authed = true;
        snprintf(req->session_token, sizeof req->session_token, "%s", cookie);
    }
}

/* Checks that the request may write with at least role `need`: 401 without
 * credentials, 403 with a too-weak role or a missing/wrong CSRF token on a
 * cookie session. Returns true when the handler may go on. */
bool api_require(http_req *req, http_resp *resp, role need)
{
    if (!req->authed) {
        http_problem(resp, 401, "unauthenticated", "Login required",
                     "Log in or send an API token (Authorization: Bearer …).", NULL, NULL);
        http_set_header(resp, "WWW-Authenticate", "Bearer realm=\"dinet\"");
        return false;
    }
    bool unsafe = strcmp(req->method, "GET") && strcmp(req->method, "HEAD");
    if (unsafe && req->who.via_cookie) {
        const char *tok = http_header(req, "X-CSRF-Token");
        size_t n = strlen(req->who.csrf);
        if (!tok || strlen(tok) != n || sodium_memcmp(tok, req->who.csrf, n) != 0) {
            http_problem(resp, 403, "csrf", "CSRF token missing or wrong",
                         "Send the session's csrf_token in the X-CSRF-Token header.",
                         "X-CSRF-Token", NULL);
            return false;
        }
    }
    if (req->who.role < need) {
        char detail[128];
        snprintf(detail, sizeof detail, "This needs the role '%s'; you have '%s'.",
                 account_role_name(need), account_role_name(req->who.role));
        http_problem(resp, 403, "forbidden", "Not allowed", detail, NULL, NULL);
        return false;
    }
    return true;
}

/* Parses the request body as a JSON object. On failure answers 400/415 and
 * returns NULL. */
json_t *api_body_object(http_req *req, http_resp *resp)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
        http_problem(resp, 415, "unsupported-media-type", "Send JSON",
                     "The Content-Type must be application/json.", "Content-Type", NULL);
        return NULL;
    }
    if (!req->body || !req->body_len) {
        http_problem(resp, 400, "invalid-json", "Empty body", "A JSON object is required.",
                     "body", NULL);
        return NULL;
    }
    if (!util_utf8_valid(req->body, req->body_len)) {
        http_problem(resp, 400, "invalid-json", "Invalid UTF-8",
                     "The body is not valid UTF-8 text.", "body", NULL);
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        char detail[256];
        snprintf(detail, sizeof detail, "Line %d, column %d: %s", e.line, e.column, e.text);
        http_problem(resp, 400, "invalid-json", "Invalid JSON", detail, "body", NULL);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_problem(resp, 400, "invalid-json", "Expected a JSON object",
                     "The body must be a JSON object.", "body", NULL);
        return NULL;
    }
    return j;
}

void api_set_etag(http_resp *resp, long long version)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", version);
    http_set_header(resp, "ETag", etag);
}

/* If-Match: "3" or W/"3" or 3. Returns the version, -1 when absent, -2 when
 * malformed. */
long long api_if_match(http_req *req)
{
    const char *h = http_header(req, "If-Match");
    if (!h)
        return -1;
    while (*h == ' ')
        h++;
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    if (*h == '"')
        h++;
    char *end;
    errno = 0;
    long long v = strtoll(h, &end, 10);
    if (errno || end == h || v < 1)
        return -2;
    if (*end == '"')
        end++;
    while (*end == ' ')
        end++;
    return *end ? -2 : v;
}

static rec_kind kind_of_path(const char *path)
{
    if (strncmp(path, "/api/v1/organisations", 21) == 0)
        return REC_ORGANISATION;
    if (strncmp(path, "/api/v1/progress", 16) == 0)
        return REC_PROGRESS;
    return REC_MEASURE;
}

static void answer_status(http_resp *resp, rec_status rs, json_t *errors, json_t *current,
                          rec_kind kind)
{
    switch (rs) {
    case REC_OK:
        break;
    case REC_INVALID:
        http_problem(resp, 422, "validation", "The record is not valid",
                     "See errors for each field.", NULL, json_incref(errors));
        break;
    case REC_NOT_FOUND:
        http_problem(resp, 404, "not-found", "Not found", "No such record.", NULL, NULL);
        break;
    case REC_GONE:
        http_problem(resp, 410, "gone", "Deleted", "This record was deleted.", NULL, NULL);
        break;
    case REC_STALE: {
        char detail[160];
        long long v = json_integer_value(json_object_get(current, "version"));
        snprintf(detail, sizeof detail,
                 "The %s was changed meanwhile; the stored version is %lld. See current.",
                 record_kind_name(kind), v);
        http_problem(resp, 412, "stale", "Changed by someone else", detail, "If-Match", NULL);
        /* The stored document lets the client show both versions. */
        json_t *p = json_loadb(resp->body.p, resp->body.len, 0, NULL);
        if (p) {
            json_object_set(p, "current", current);
            buf_free(&resp->body);
            char *t = json_dumps(p, JSON_COMPACT);
            buf_puts(&resp->body, t ? t : "{}");
            free(t);
            json_decref(p);
        }
        break;
    }
    case REC_FOREIGN:
        http_problem(resp, 409, "foreign-record", "Managed by its district",
                     "This record was replicated from a district node; only that district "
                     "changes it.",
                     NULL, NULL);
        break;
    case REC_ERROR:
        http_problem(resp, 500, "internal", "Internal error", "The change was not stored.", NULL,
                     NULL);
        break;
    }
}

/* ---- records ---------------------------------------------------------- */

static int parse_limit(http_req *req, http_resp *resp, int *limit, long long *cursor)
{
    const char *l = http_query(req, "limit"), *c = http_query(req, "cursor");
    *limit = 50;
    *cursor = 0;
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (*end || end == l || v < 1 || v > 200) {
            http_problem(resp, 400, "invalid-parameter", "Bad limit", "limit must be 1-200.",
                         "limit", NULL);
            return -1;
        }
        *limit = (int)v;
    }
    if (c && *c) {
        char *end;
        long long v = strtoll(c, &end, 10);
        if (*end || v < 1) {
            http_problem(resp, 400, "invalid-parameter", "Bad cursor",
                         "cursor must be a value of next_cursor.", "cursor", NULL);
            return -1;
        }
        *cursor = v;
    }
    return 0;
}

static void list_records(http_req *req, http_resp *resp, rec_kind kind, const char *parent)
{
    record_filter f = {0};
    if (parse_limit(req, resp, &f.limit, &f.cursor))
        return;
    f.fields_of_action = http_query(req, "field_of_action");
    f.themes = http_query(req, "theme");
    f.status = http_query(req, "status");
    f.organisation = http_query(req, "organisation");
    f.org_kind = http_query(req, "kind");
    f.language = http_query(req, "language");
    f.q = http_query(req, "q");
    f.district = http_query(req, "district");
    f.date_from = http_query(req, "from");
    f.date_to = http_query(req, "to");
    f.parent = parent;
    json_t *errors = NULL;
    resp->ctype = "application/json; charset=utf-8";
    /* Lists are the hottest public read; serve them from the page cache
     * while nothing has been written since they were rendered. */
    pagecache_stamp stamp;
    bool claimed;
    pagecache_blob *hit = pagecache_get_or_claim(req->target, &stamp, &claimed);
    if (hit) {
        resp->status = 200;
        resp->ext = pagecache_blob_data(hit);
        resp->ext_len = pagecache_blob_len(hit);
        resp->ext_free = pagecache_blob_release;
        resp->ext_cls = hit;
        return;
    }
    rec_status rs = record_list(req->db, kind, &f, &resp->body, &errors);
    if (rs == REC_OK) {
        resp->status = 200;
        pagecache_put(req->target, resp->body.p, resp->body.len, &stamp);
    } else {
        if (claimed)
            pagecache_release_claim(req->target);
        buf_free(&resp->body);
        if (rs == REC_INVALID)
            http_problem(resp, 400, "invalid-parameter", "Bad filter",
                         "See errors for each parameter.", NULL, errors);
        else
            answer_status(resp, rs, errors, NULL, kind);
        errors = NULL;
    }
    json_decref(errors);
}

static void h_list(http_req *req, http_resp *resp)
{
    list_records(req, resp, kind_of_path(req->path), NULL);
}

static void h_get(http_req *req, http_resp *resp)
{
    rec_kind kind = kind_of_path(req->path);
    char *doc = NULL;
    long long version = 0;
    rec_status rs = record_get_raw(req->db, kind, req->params[0], &doc, &version);
    if (rs == REC_OK) {
        resp->status = 200;
        resp->ctype = "application/json; charset=utf-8";
        buf_puts(&resp->body, doc);
        api_set_etag(resp, version);
    } else {
        answer_status(resp, rs, NULL, NULL, kind);
    }
    free(doc);
}

static void h_create(http_req *req, http_resp *resp)
{
    rec_kind kind = kind_of_path(req->path);
    const char *parent = NULL;
    if (strncmp(req->path, "/api/v1/measures/", 17) == 0) { /* …/measures/ID/progress */
        kind = REC_PROGRESS;
        parent = req->params[0];
    }
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    json_t *out = NULL, *errors = NULL;
    rec_status rs = record_create(req->db, kind, parent, in, req->who.actor, &out, &errors);
    if (rs == REC_OK) {
        char loc[256];
        static const char *const paths[] = {"organisations", "measures", "progress"};
        snprintf(loc, sizeof loc, "/api/v1/%s/%s", paths[kind],
                 json_string_value(json_object_get(out, "id")));
        http_set_header(resp, "Location", loc);
        api_set_etag(resp, 1);
        http_json(resp, 201, json_incref(out));
    } else {
        answer_status(resp, rs, errors, NULL, kind);
    }
    json_decref(in);
    json_decref(out);
    json_decref(errors);
}

static void h_update(http_req *req, http_resp *resp)
{
    rec_kind kind = kind_of_path(req->path);
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    long long v = api_if_match(req);
    if (v == -1) {
        http_problem(resp, 428, "precondition-required", "If-Match required",
                     "Send If-Match with the version you edited (the ETag from GET).",
                     "If-Match", NULL);
        return;
    }
    if (v == -2) {
        http_problem(resp, 400, "invalid-parameter", "Bad If-Match",
                     "If-Match must be the ETag of the version you edited, like \"3\".",
                     "If-Match", NULL);
        return;
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    json_t *out = NULL, *errors = NULL;
    rec_status rs =
        record_update(req->db, kind, req->params[0], v, in, req->who.actor, &out, &errors);
    if (rs == REC_OK) {
        api_set_etag(resp, json_integer_value(json_object_get(out, "version")));
        http_json(resp, 200, json_incref(out));
    } else {
        answer_status(resp, rs, errors, out, kind);
    }
    json_decref(in);
    json_decref(out);
    json_decref(errors);
}

static void h_delete(http_req *req, http_resp *resp)
{
    rec_kind kind = kind_of_path(req->path);
    if (!api_require(req, resp, ROLE_EDITOR))
        return;
    long long v = api_if_match(req);
    if (v == -2) {
        http_problem(resp, 400, "invalid-parameter", "Bad If-Match", NULL, "If-Match", NULL);
        return;
    }
    json_t *out = NULL;
    rec_status rs = record_delete(req->db, kind, req->params[0], v, req->who.actor, &out);
    if (rs == REC_OK)
        http_json(resp, 200, json_incref(out));
    else
        answer_status(resp, rs, NULL, out, kind);
    json_decref(out);
}

static void h_history(http_req *req, http_resp *resp)
{
    rec_kind kind = kind_of_path(req->path);
    char *doc = NULL;
    long long version;
    rec_status rs = record_get_raw(req->db, kind, req->params[0], &doc, &version);
    free(doc);
    if (rs != REC_OK && rs != REC_GONE) {
        answer_status(resp, rs, NULL, NULL, kind);
        return;
    }
    json_t *h = NULL;
    rs = record_history(req->db, req->params[0], &h);
    if (rs != REC_OK) {
        answer_status(resp, rs, NULL, NULL, kind);
        return;
    }
    /* Who made a change is personal data: only staff (viewer and up) see it. */
    if (!req->authed || req->who.role < ROLE_VIEWER) {
        size_t i;
        json_t *e;
        json_array_foreach(h, i, e) json_object_del(e, "actor");
    }
    http_json(resp, 200, json_pack("{s:s, s:o}", "id", req->params[0], "history", h));
}

static void h_progress_list(http_req *req, http_resp *resp)
{
    char *doc = NULL;
    long long version;
    rec_status rs = record_get_raw(req->db, REC_MEASURE, req->params[0], &doc, &version);
    free(doc);
    if (rs != REC_OK) {
        answer_status(resp, rs, NULL, NULL, REC_MEASURE);
        return;
    }
    list_records(req, resp, REC_PROGRESS, req->params[0]);
}

static void h_taxonomy(http_req *req, http_resp *resp)
{
    json_t *t = taxonomy_json(req->db);
    if (!t) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        return;
    }
    http_json(resp, 200, t);
    http_set_header(resp, "Cache-Control", "public, max-age=300");
}

/* ---- sessions --------------------------------------------------------- */

static void session_cookie(http_req *req, http_resp *resp, const char *value, long max_age)
{
    char c[256];
    bool secure = strncmp(req->cfg->base_url, "https://", 8) == 0;
    snprintf(c, sizeof c, "dinet_session=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
             value, max_age, secure ? "; Secure" : "");
    http_set_header(resp, "Set-Cookie", c);
}

static json_t *session_json(const principal *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "name", p->name, "role",
                     account_role_name(p->role), "display_name", p->display[0] ? p->display : p->name,
                     "csrf_token", p->csrf, "trusted", p->trusted, "authenticated", 1);
}

static void h_login(http_req *req, http_resp *resp)
{
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *pw = json_string_value(json_object_get(in, "password"));
    if (!name || !pw) {
        http_problem(resp, 422, "validation", "Name and password required", NULL,
                     !name ? "name" : "password", NULL);
        json_decref(in);
        return;
    }
    char token[65];
    principal p;
    long retry = 0;
    acct_status s = account_login(req->db, name, pw, req->client, token, &p, &retry);
    if (s == ACCT_OK) {
        session_cookie(req, resp, token, account_session_ttl());
        http_json(resp, 200, session_json(&p));
    } else if (s == ACCT_THROTTLED) {
        char ra[32];
        snprintf(ra, sizeof ra, "%ld", retry);
        http_problem(resp, 429, "throttled", "Too many failed logins",
                     "Wait before trying again; see Retry-After.", NULL, NULL);
        http_set_header(resp, "Retry-After", ra);
    } else if (s == ACCT_DENIED) {
        http_problem(resp, 401, "login-failed", "Wrong name or password", NULL, "password", NULL);
    } else if (s == ACCT_PENDING) {
        http_problem(resp, 403, "awaiting-approval", "Account awaiting approval",
                     "This account was registered but not yet approved by a moderator. "
                     "You can log in once it is approved.",
                     "name", NULL);
    } else {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    }
    sodium_memzero(token, sizeof token);
    json_decref(in);
}

static void h_session(http_req *req, http_resp *resp)
{
    if (!req->authed) {
        http_json(resp, 200, json_pack("{s:b}", "authenticated", 0));
        return;
    }
    http_json(resp, 200, session_json(&req->who));
}

static void h_logout(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    account_logout(req->db, req->session_token);
    session_cookie(req, resp, "", 0);
    http_json(resp, 200, json_pack("{s:b}", "authenticated", 0));
}

/* ---- users and tokens (admin) ----------------------------------------- */

static void acct_problem(http_resp *resp, acct_status s, const char *err)
{
    const char *field = "name";
    if (strncmp(err, "password", 8) == 0)
        field = "password";
    else if (strncmp(err, "role", 4) == 0)
        field = "role";
    switch (s) {
    case ACCT_EXISTS:
        http_problem(resp, 409, "exists", "Exists already", err, field, NULL);
        break;
    case ACCT_INVALID:
        http_problem(resp, 422, "validation", "Invalid value", err, field, NULL);
        break;
    case ACCT_NOT_FOUND:
        http_problem(resp, 404, "not-found", "Not found", err[0] ? err : NULL, NULL, NULL);
        break;
    default:
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    }
}

static void h_users(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    http_json(resp, 200, json_pack("{s:o}", "items", account_user_list(req->db)));
}

static void h_user_add(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *rl = json_string_value(json_object_get(in, "role"));
    const char *pw = json_string_value(json_object_get(in, "password"));
    char err[256] = "";
    acct_status s = account_user_add(req->db, name ? name : "", account_role_parse(rl),
                                     pw ? pw : "", err, sizeof err);
    if (s == ACCT_OK) {
        log_event(LOG_INFO, "user.created", "by", req->who.actor, "user", name, NULL);
        http_json(resp, 201, json_pack("{s:s, s:s}", "name", name, "role", rl));
    } else {
        acct_problem(resp, s, err);
    }
    json_decref(in);
}

/* True when the change would leave no active admin (nobody could manage
 * users and settings any more). */
static bool would_remove_last_admin(db *d, const char *name, const json_t *rl, const json_t *dis)
{
    bool demote = rl && account_role_parse(json_string_value(rl)) != ROLE_ADMIN;
    if (!demote && !json_is_true(dis))
        return false;
    sqlite3_stmt *st = db_stmt(d, "SELECT (SELECT role='admin' AND disabled=0 FROM users WHERE "
                                  "name=:n), (SELECT count(*) FROM users WHERE role='admin' AND "
                                  "disabled=0)");
    if (!st)
        return false;
    db_bind_text(st, ":n", name);
    bool last = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1 &&
                sqlite3_column_int(st, 1) <= 1;
    db_done(st);
    return last;
}

static void h_user_update(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *name = req->params[0];
    char err[256] = "";
    json_t *rl = json_object_get(in, "role"), *dis = json_object_get(in, "disabled"),
           *pw = json_object_get(in, "password");
    const char *k;
    json_t *v;
    const char *unknown = NULL;
    json_object_foreach(in, k, v) if (strcmp(k, "role") && strcmp(k, "disabled") &&
                                      strcmp(k, "password")) unknown = k;
    /* Validate everything first so that a bad field changes nothing. */
    if (unknown) {
        http_problem(resp, 422, "validation", "Unknown field",
                     "Only role, disabled and password can be changed.", unknown, NULL);
    } else if (!rl && !dis && !pw) {
        http_problem(resp, 422, "validation", "Nothing to change",
                     "Send role, disabled or password.", "body", NULL);
    } else if (rl && account_role_parse(json_string_value(rl)) == ROLE_NONE) {
        http_problem(resp, 422, "validation", "Invalid value",
                     "role: one of admin, editor, moderator, viewer, participant", "role", NULL);
    } else if (dis && !json_is_boolean(dis)) {
        http_problem(resp, 422, "validation", "Invalid value", "disabled: true or false",
                     "disabled", NULL);
    } else if (pw && (!json_is_string(pw) || util_utf8_len(json_string_value(pw)) < 10 ||
                      strlen(json_string_value(pw)) > 1024)) {
        http_problem(resp, 422, "validation", "Invalid value",
                     "password: 10 characters to 1024 bytes", "password", NULL);
    } else if (would_remove_last_admin(req->db, name, rl, dis)) {
        http_problem(resp, 409, "last-admin", "The last administrator",
                     "At least one active admin must remain: make someone else admin first.",
                     rl ? "role" : "disabled", NULL);
    } else {
        acct_status s = ACCT_OK;
        if (rl)
            s = account_user_set_role(req->db, name, account_role_parse(json_string_value(rl)));
        if (!s && dis)
            s = account_user_disable(req->db, name, json_is_true(dis));
        if (!s && pw)
            s = account_user_passwd(req->db, name, json_string_value(pw), err, sizeof err);
        if (s == ACCT_OK)
            http_json(resp, 200, json_pack("{s:s}", "name", name));
        else {
            if (s == ACCT_NOT_FOUND)
                snprintf(err, sizeof err, "no user '%s'", name);
            acct_problem(resp, s, err);
        }
    }
    json_decref(in);
}

static void h_password(http_req *req, http_resp *resp)
{
    /* Any logged-in user changes their own password, proving the old one. */
    if (!api_require(req, resp, ROLE_PARTICIPANT))
        return;
    if (!req->who.user_id) {
        http_problem(resp, 403, "forbidden", "Not allowed", "API tokens have no password.", NULL,
                     NULL);
        return;
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *old = json_string_value(json_object_get(in, "old_password"));
    const char *nw = json_string_value(json_object_get(in, "new_password"));
    char token[65], err[256] = "";
    principal p;
    long retry;
    acct_status s = account_login(req->db, req->who.name, old ? old : "", req->client, token, &p,
                                  &retry);
    if (s == ACCT_OK) {
        account_logout(req->db, token);
        s = account_user_passwd(req->db, req->who.name, nw ? nw : "", err, sizeof err);
        if (s == ACCT_OK) {
            session_cookie(req, resp, "", 0);
            http_json(resp, 200, json_pack("{s:b}", "changed", 1));
        } else {
            http_problem(resp, 422, "validation", "Invalid value", err, "new_password", NULL);
        }
    } else if (s == ACCT_THROTTLED) {
        char ra[32];
        snprintf(ra, sizeof ra, "%ld", retry);
        http_problem(resp, 429, "throttled", "Too many failed logins",
                     "Wait before trying again; see Retry-After.", NULL, NULL);
        http_set_header(resp, "Retry-After", ra);
    } else {
        http_problem(resp, 422, "validation", "Wrong password", "The old password is wrong.",
                     "old_password", NULL);
    }
    sodium_memzero(token, sizeof token);
    json_decref(in);
}

static void h_tokens(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    http_json(resp, 200, json_pack("{s:o}", "items", account_token_list(req->db)));
}

static void h_token_add(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    const char *name = json_string_value(json_object_get(in, "name"));
    json_t *rlj = json_object_get(in, "role");
    const char *rl = rlj ? json_string_value(rlj) : "editor";
    char token[80] = "", err[256] = "";
    acct_status s = ACCT_INVALID;
    if (!rl || account_role_parse(rl) == ROLE_NONE)
        snprintf(err, sizeof err, "role: one of admin, editor, moderator, viewer");
    else
        s = account_token_create(req->db, name ? name : "", account_role_parse(rl), token, err,
                                 sizeof err);
    if (s == ACCT_OK)
        http_json(resp, 201, json_pack("{s:s, s:s, s:s}", "name", name, "role", rl, "token",
                                       token));
    else
        acct_problem(resp, s, err);
    sodium_memzero(token, sizeof token);
    json_decref(in);
}

static void h_token_revoke(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    acct_status s = account_token_revoke(req->db, req->params[0]);
    if (s == ACCT_OK)
        http_json(resp, 200, json_pack("{s:s, s:b}", "name", req->params[0], "revoked", 1));
    else
        acct_problem(resp, s, "");
}

/* ---- node, health, documents ------------------------------------------ */

static void h_node(http_req *req, http_resp *resp)
{
    const config *c = req->cfg;
    http_json(resp, 200,
              json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", c->name, "role", c->role, "district",
                        c->district, "base_url", c->base_url, "software", "dinet " DINET_VERSION));
}

static void h_healthz(http_req *req, http_resp *resp)
{
    (void)req;
    http_text(resp, 200, "application/json", "{\"status\":\"ok\"}");
}

static void h_openapi(http_req *req, http_resp *resp)
{
    (void)req;
    int n = snprintf(resp->file, sizeof resp->file, "%s/protocol-docs/openapi.json",
                     api_share_dir());
    if (n < 0 || (size_t)n >= sizeof resp->file) {
        resp->file[0] = '\0';
        http_problem(resp, 500, "internal", "Internal error", "The share directory path is too long.",
                     NULL, NULL);
        return;
    }
    resp->status = 200;
    resp->ctype = "application/json; charset=utf-8";
}

static const char *content_type_of(const char *path)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"}, {".csv", "text/csv; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(dot, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* admin-web/ is static files over this API, served at /admin/. */
static void h_admin(http_req *req, http_resp *resp)
{
    const char *rel = req->params[0] ? req->params[0] : "index.html";
    /* Only plain relative paths: no '..', no hidden files, no backslashes. */
    bool ok = *rel && !strstr(rel, "..") && !strstr(rel, "/.") && rel[0] != '.' &&
              !strchr(rel, '\\') && strlen(rel) < 512;
    const char *ct = ok ? content_type_of(rel) : NULL;
    if (!ct) {
        http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
        return;
    }
    int n = snprintf(resp->file, sizeof resp->file, "%s/admin-web/%s", api_share_dir(), rel);
    if (n < 0 || (size_t)n >= sizeof resp->file) {
        resp->file[0] = '\0';
        http_problem(resp, 404, "not-found", "Not found", NULL, NULL, NULL);
        return;
    }
    resp->status = 200;
    resp->ctype = ct;
    http_set_header(resp, "Cache-Control", "no-cache");
}

static void h_admin_redirect(http_req *req, http_resp *resp)
{
    (void)req;
    http_text(resp, 308, "text/plain; charset=utf-8", "/admin/\n");
    http_set_header(resp, "Location", "/admin/");
}


/* ---- recent changes and settings ------------------------------------------ */

static void h_changes(http_req *req, http_resp *resp)
{
    const char *l = http_query(req, "limit"), *c = http_query(req, "cursor");
    int limit = l ? atoi(l) : 20;
    if (limit < 1 || limit > 200) {
        http_problem(resp, 400, "invalid-parameter", "Bad limit", "limit must be 1-200.", "limit",
                     NULL);
        return;
    }
    long long cursor = c ? strtoll(c, NULL, 10) : 0;
    sqlite3_stmt *st = db_stmt(req->db,
                               "SELECT h.hseq, h.record_id, r.kind, r.title, r.parent, h.version, "
                               "h.at, h.actor, h.op, h.changes FROM history h JOIN records r ON "
                               "r.id=h.record_id WHERE (:cur=0 OR h.hseq<:cur) "
                               "ORDER BY h.hseq DESC LIMIT :n");
    if (!st) {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
        return;
    }
    db_bind_int(st, ":cur", cursor);
    db_bind_int(st, ":n", limit + 1);
    json_t *items = json_array();
    long long last = 0;
    bool more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if ((int)json_array_size(items) == limit) {
            more = true;
            break;
        }
        last = sqlite3_column_int64(st, 0);
        json_t *fields = json_array();
        json_t *ch = json_loads((const char *)sqlite3_column_text(st, 9), 0, NULL);
        const char *k;
        json_t *v;
        json_object_foreach(ch, k, v) json_array_append_new(fields, json_string(k));
        json_decref(ch);
        json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:o}", "id",
                              sqlite3_column_text(st, 1), "type", sqlite3_column_text(st, 2),
                              "title", sqlite3_column_text(st, 3), "version",
                              (json_int_t)sqlite3_column_int64(st, 5), "at",
                              sqlite3_column_text(st, 6), "op", sqlite3_column_text(st, 8),
                              "fields", fields);
        json_object_set_new(e, "measure",
                            sqlite3_column_type(st, 4) == SQLITE_NULL
                                ? json_null()
                                : json_string((const char *)sqlite3_column_text(st, 4)));
        if (req->authed && req->who.role >= ROLE_VIEWER)
            json_object_set_new(e, "actor", json_string((const char *)sqlite3_column_text(st, 7)));
        json_array_append_new(items, e);
    }
    db_done(st);
    json_t *out = json_pack("{s:o}", "items", items);
    if (more) {
        char cur[32];
        snprintf(cur, sizeof cur, "%lld", last);
        json_object_set_new(out, "next_cursor", json_string(cur));
    } else {
        json_object_set_new(out, "next_cursor", json_null());
    }
    http_json(resp, 200, out);
}

static void h_settings(http_req *req, http_resp *resp)
{
    json_t *s = settings_get(req->db, req->cfg->name);
    api_set_etag(resp, json_integer_value(json_object_get(s, "version")));
    http_json(resp, 200, s);
}

static void h_settings_update(http_req *req, http_resp *resp)
{
    if (!api_require(req, resp, ROLE_ADMIN))
        return;
    long long v = api_if_match(req);
    if (v == -1) {
        http_problem(resp, 428, "precondition-required", "If-Match required",
                     "Send If-Match with the version you edited (the ETag from GET).",
                     "If-Match", NULL);
        return;
    }
    if (v == -2) {
        /* Version 0 (never saved) is a valid ETag here. */
        const char *h = http_header(req, "If-Match");
        if (h && (!strcmp(h, "\"0\"") || !strcmp(h, "0") || !strcmp(h, "W/\"0\"")))
            v = 0;
        else {
            http_problem(resp, 400, "invalid-parameter", "Bad If-Match", NULL, "If-Match", NULL);
            return;
        }
    }
    json_t *in = api_body_object(req, resp);
    if (!in)
        return;
    json_t *out = NULL, *errors = NULL;
    int rc = settings_update(req->db, req->cfg->name, v, in, &out, &errors);
    if (rc == 0) {
        api_set_etag(resp, json_integer_value(json_object_get(out, "version")));
        http_json(resp, 200, json_incref(out));
    } else if (rc == 1) {
        http_problem(resp, 422, "validation", "The settings are not valid",
                     "See errors for each field.", NULL, json_incref(errors));
    } else if (rc == 2) {
        json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:[{s:s, s:s}], s:O}", "type",
                              "/problems/stale", "title", "Changed by someone else", "status", 412,
                              "detail", "The settings were changed meanwhile. See current.",
                              "errors", "field", "If-Match", "detail", "stale version", "current",
                              out);
        http_json(resp, 412, p);
        resp->ctype = "application/problem+json; charset=utf-8";
    } else {
        http_problem(resp, 500, "internal", "Internal error", NULL, NULL, NULL);
    }
    json_decref(in);
    json_decref(out);
    json_decref(errors);
}

const http_route api_routes[] = {
    {"GET", "/api/v1/changes", h_changes},
    {"GET", "/api/v1/settings", h_settings},
    {"PATCH", "/api/v1/settings", h_settings_update},
    {"GET", "/healthz", h_healthz},
    {"GET", "/admin", h_admin_redirect},
    {"GET", "/admin/", h_admin},
    {"GET", "/admin/**", h_admin},
    {"GET", "/api/v1/node", h_node},
    {"GET", "/api/v1/openapi.json", h_openapi},
    {"GET", "/api/v1/taxonomy", h_taxonomy},
    {"GET", "/api/v1/session", h_session},
    {"POST", "/api/v1/session", h_login},
    {"DELETE", "/api/v1/session", h_logout},
    {"POST", "/api/v1/session/password", h_password},
    {"GET", "/api/v1/users", h_users},
    {"POST", "/api/v1/users", h_user_add},
    {"PATCH", "/api/v1/users/*", h_user_update},
    {"GET", "/api/v1/tokens", h_tokens},
    {"POST", "/api/v1/tokens", h_token_add},
    {"DELETE", "/api/v1/tokens/*", h_token_revoke},
    {"GET", "/api/v1/organisations", h_list},
    {"POST", "/api/v1/organisations", h_create},
    {"GET", "/api/v1/organisations/*", h_get},
    {"PATCH", "/api/v1/organisations/*", h_update},
    {"DELETE", "/api/v1/organisations/*", h_delete},
    {"GET", "/api/v1/organisations/*/history", h_history},
    {"GET", "/api/v1/measures", h_list},
    {"POST", "/api/v1/measures", h_create},
    {"GET", "/api/v1/measures/*", h_get},
    {"PATCH", "/api/v1/measures/*", h_update},
    {"DELETE", "/api/v1/measures/*", h_delete},
    {"GET", "/api/v1/measures/*/history", h_history},
    {"GET", "/api/v1/measures/*/progress", h_progress_list},
    {"POST", "/api/v1/measures/*/progress", h_create},
    {"GET", "/api/v1/progress/*", h_get},
    {"PATCH", "/api/v1/progress/*", h_update},
    {"DELETE", "/api/v1/progress/*", h_delete},
    {"GET", "/api/v1/progress/*/history", h_history},
    {NULL, NULL, NULL},
};
