/* Node settings; see settings.h. */
#include "settings.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char *const text_keys[] = {"impressum", "privacy", "accessibility", "netiquette",
                                        NULL};
static const char *const mirror_keys[] = {"impressum", "datenschutz", "barrierefreiheit",
                                          "netiquette", NULL};

/* Moderation of the discussion (protocol-docs/discussion.md): defaults for
 * members that were never set. */
static void moderation_defaults(json_t *doc)
{
    json_t *m = json_object_get(doc, "moderation");
    if (m && !json_is_object(m))
        return; /* validate() names the error */
    if (!m) {
        m = json_object();
        json_object_set_new(doc, "moderation", m);
    }
    if (!json_object_get(m, "participants"))
        json_object_set_new(m, "participants", json_string("pre"));
    if (!json_object_get(m, "remote"))
        json_object_set_new(m, "remote", json_string("pre"));
    if (!json_object_get(m, "auto_hide_reports"))
        json_object_set_new(m, "auto_hide_reports", json_integer(3));
    if (!json_object_get(m, "rate_per_hour"))
        json_object_set_new(m, "rate_per_hour", json_integer(10));
}

json_t *settings_get(db *d, const char *default_name)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT value FROM settings WHERE key='node_settings'");
    json_t *doc = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    db_done(st);
    if (!doc)
        doc = json_pack("{s:s, s:{}, s:{s:{}, s:{}, s:{}}, s:i, s:n}", "name", default_name,
                        "contact", "texts", "impressum", "privacy", "accessibility", "version", 0,
                        "updated");
    if (json_is_object(doc))
        moderation_defaults(doc);
    return doc;
}

static void err(json_t *errors, const char *field, const char *detail)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "detail", detail));
}

static void check_string(json_t *errors, const json_t *v, const char *field, size_t max,
                         bool required)
{
    if (!v || json_is_null(v)) {
        if (required)
            err(errors, field, "is required");
        return;
    }
    if (!json_is_string(v)) {
        err(errors, field, "must be a string");
        return;
    }
    size_t n = util_utf8_len(json_string_value(v));
    if (required && n == 0)
        err(errors, field, "must not be empty");
    else if (n > max) {
        char d[64];
        snprintf(d, sizeof d, "is too long (at most %zu characters)", max);
        err(errors, field, d);
    }
}

static void validate(const json_t *doc, json_t *errors)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        if (strcmp(k, "name") && strcmp(k, "contact") && strcmp(k, "texts") &&
            strcmp(k, "version") && strcmp(k, "updated") && strcmp(k, "moderation"))
            err(errors, k, "is not a known setting");
    }
    const json_t *m = json_object_get(doc, "moderation");
    if (m && !json_is_object(m))
        err(errors, "moderation", "must be an object");
    json_object_foreach((json_t *)m, k, v)
    {
        char f[96];
        snprintf(f, sizeof f, "moderation.%s", k);
        if (!strcmp(k, "participants") || !strcmp(k, "remote")) {
            const char *s = json_string_value(v);
            if (!s || (strcmp(s, "pre") && strcmp(s, "post")))
                err(errors, f, "must be \"pre\" or \"post\"");
        } else if (!strcmp(k, "auto_hide_reports")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100)
                err(errors, f, "must be an integer 1-100");
        } else if (!strcmp(k, "rate_per_hour")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000)
                err(errors, f, "must be an integer 1-1000");
        } else {
            err(errors, f,
                "is not a known field (participants, remote, auto_hide_reports, rate_per_hour)");
        }
    }
    check_string(errors, json_object_get(doc, "name"), "name", 200, true);
    const json_t *c = json_object_get(doc, "contact");
    if (c && !json_is_object(c))
        err(errors, "contact", "must be an object with email, phone and address");
    json_object_foreach((json_t *)c, k, v)
    {
        char f[64];
        snprintf(f, sizeof f, "contact.%s", k);
        if (strcmp(k, "email") && strcmp(k, "phone") && strcmp(k, "address")) {
            err(errors, f, "is not a known field (email, phone, address)");
            continue;
        }
        check_string(errors, v, f, strcmp(k, "address") ? 200 : 500, false);
        if (!strcmp(k, "email") && json_is_string(v) && *json_string_value(v)) {
            const char *s = json_string_value(v), *at = strchr(s, '@');
            if (!at || at == s || !strchr(at, '.') || strpbrk(s, " <>\""))
                err(errors, f, "must be an e-mail address");
        }
    }
    const json_t *t = json_object_get(doc, "texts");
    if (t && !json_is_object(t))
        err(errors, "texts", "must be an object with impressum, privacy and accessibility");
    json_object_foreach((json_t *)t, k, v)
    {
        bool known = false;
        for (int i = 0; text_keys[i]; i++)
            known |= !strcmp(k, text_keys[i]);
        char f[96];
        snprintf(f, sizeof f, "texts.%s", k);
        if (!known || !json_is_object(v)) {
            err(errors, f, known ? "must be an object of language → text"
                                 : "is not a known text (impressum, privacy, accessibility, "
                                   "netiquette)");
            continue;
        }
        const char *lang;
        const json_t *txt;
        json_object_foreach((json_t *)v, lang, txt)
        {
            char ff[128];
            snprintf(ff, sizeof ff, "texts.%s.%s", k, lang);
            if (strlen(lang) < 2 || strlen(lang) > 8)
                err(errors, ff, "is not a language tag");
            else
                check_string(errors, txt, ff, 100000, false);
        }
    }
}

static int put(db *d, const char *key, const char *value)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT OR REPLACE INTO settings(key, value) VALUES(:k, :v)");
    if (!st)
        return -1;
    db_bind_text(st, ":k", key);
    db_bind_text(st, ":v", value ? value : "");
    return db_exec_stmt(st);
}

int settings_update(db *d, const char *default_name, long long if_version, const json_t *patch,
                    json_t **out, json_t **errors)
{
    *out = NULL;
    *errors = NULL;
    if (db_begin(d))
        return -1;
    json_t *cur = settings_get(d, default_name);
    long long v = json_integer_value(json_object_get(cur, "version"));
    if (v != if_version) {
        db_rollback(d);
        *out = cur;
        return 2;
    }
    json_t *next = json_deep_copy(cur);
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)patch, k, val) if (strcmp(k, "version") && strcmp(k, "updated"))
        json_object_set(next, k, val);
    /* Moderation members not sent keep their defaults. */
    moderation_defaults(next);
    json_t *errs = json_array();
    validate(next, errs);
    int rc = -1;
    if (json_array_size(errs)) {
        db_rollback(d);
        *errors = errs;
        errs = NULL;
        rc = 1;
        goto out;
    }
    char now[21];
    util_now_iso(now);
    json_object_set_new(next, "version", json_integer(v + 1));
    json_object_set_new(next, "updated", json_string(now));
    char *txt = json_dumps(next, JSON_COMPACT);
    json_t *texts = json_object_get(next, "texts");
    int w = !txt || put(d, "node_settings", txt);
    for (int i = 0; !w && text_keys[i]; i++)
        w = put(d, mirror_keys[i],
                json_string_value(json_object_get(json_object_get(texts, text_keys[i]), "de")));
    if (!w)
        w = put(d, "contact_email",
                json_string_value(json_object_get(json_object_get(next, "contact"), "email")));
    free(txt);
    if (w || db_commit(d)) {
        db_rollback(d);
        goto out;
    }
    *out = json_incref(next);
    rc = 0;
out:
    json_decref(errs);
    json_decref(cur);
    json_decref(next);
    return rc;
}
