/* Public records; see record.h. */
#include "record.h"
#include "util.h"
#include "log.h"
#include "pagecache.h"
#include "taxonomy.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char base_url[512] = "http://localhost";
static char own_district[8] = "";
static record_publish_fn publish_fn;
static void *publish_ud;

static const char *const kind_names[] = {"organisation", "measure", "progress"};
static const char *const kind_prefix[] = {"o-", "m-", "p-"};
static const char *const kind_paths[] = {"organisations", "measures", "progress"};

const char *record_kind_name(rec_kind k)
{
    return kind_names[k];
}

void record_set_base_url(const char *u)
{
    snprintf(base_url, sizeof base_url, "%s", u);
}

void record_set_district(const char *code)
{
    snprintf(own_district, sizeof own_district, "%s", code ? code : "");
}

/* A new record's id carries the code of the district that created it:
 * "m-15085-" and 18 characters that sort by creation time (util_ordered_id).
 * The state refuses a record whose id names another district than its
 * sender, so no district can take an id that belongs to another before that
 * district's record arrives. Ids without a code (records created before
 * this scheme, and on nodes without a district code) stay valid. Ordered
 * ids put new records at the end of every index keyed by record id (here
 * and on the state: records, history, provenance, outbox objects) instead
 * of at a random page each. */
static void new_record_id(rec_kind kind, char *out, size_t outlen)
{
    bool coded = strlen(own_district) == 5 && strspn(own_district, "0123456789") == 5;
    char tail[24];
    util_ordered_id(tail, sizeof tail);
    snprintf(out, outlen, "%s%s%s%s", kind_prefix[kind], coded ? own_district : "",
             coded ? "-" : "", tail);
}

const char *record_id_district(const char *id, char *code, size_t codelen)
{
    if (!id || strlen(id) < 9 || id[1] != '-' || id[7] != '-' ||
        strspn(id + 2, "0123456789") != 5 || codelen < 6)
        return NULL;
    memcpy(code, id + 2, 5);
    code[5] = '\0';
    return code;
}

void record_set_publish_hook(record_publish_fn fn, void *ud)
{
    publish_fn = fn;
    publish_ud = ud;
}

/* ---- validation ------------------------------------------------------- */

typedef struct vctx {
    db *d;
    json_t *errors;
    const json_t *old; /* stored fields on update, NULL on create */
    bool replica;      /* validating a district's record on the aggregator */
} vctx;

static void verr(vctx *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void verr(vctx *v, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(v->errors, json_pack("{s:s, s:s}", "field", field, "detail", msg));
}

static bool present(const json_t *x)
{
    return x && !json_is_null(x);
}

/* A text field: trimmed of nothing (the user's text is kept as written) but
 * checked for length in characters. */
static void v_text(vctx *v, const json_t *in, json_t *out, const char *field, bool required,
                   size_t minlen, size_t maxlen)
{
    const json_t *x = json_object_get(in, field);
    if (!present(x)) {
        if (required)
            verr(v, field, "is required");
        else
            json_object_set_new(out, field, json_string(""));
        return;
    }
    if (!json_is_string(x)) {
        verr(v, field, "must be a string");
        return;
    }
    size_t n = util_utf8_len(json_string_value(x));
    const char *s = json_string_value(x);
    bool blank = true;
    for (const char *p = s; *p; p++)
        if (!isspace((unsigned char)*p))
            blank = false;
    if (n < minlen || (minlen && blank))
        verr(v, field, "must not be empty");
    else if (n > maxlen)
        verr(v, field, "is too long (%zu characters, at most %zu)", n, maxlen);
    else
        json_object_set(out, field, (json_t *)x);
}

static void v_enum(vctx *v, const json_t *in, json_t *out, const char *field,
                   const char *const *allowed, const char *def)
{
    const json_t *x = json_object_get(in, field);
    if (!present(x)) {
        if (def)
            json_object_set_new(out, field, json_string(def));
        else
            verr(v, field, "is required");
        return;
    }
    if (json_is_string(x))
        for (int i = 0; allowed[i]; i++)
            if (strcmp(allowed[i], json_string_value(x)) == 0) {
                json_object_set(out, field, (json_t *)x);
                return;
            }
    buf b;
    buf_init(&b);
    for (int i = 0; allowed[i]; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
    verr(v, field, "must be one of: %s", b.p ? b.p : "");
    buf_free(&b);
}

/* An array of distinct strings, each checked by `ok`. */
static void v_list(vctx *v, const json_t *in, json_t *out, const char *field, size_t min,
                   size_t max, bool (*ok)(vctx *, const char *), const char *what)
{
    const json_t *x = json_object_get(in, field);
    if (!present(x)) {
        if (min)
            verr(v, field, "needs at least %zu %s", min, what);
        else
            json_object_set_new(out, field, json_array());
        return;
    }
    if (!json_is_array(x)) {
        verr(v, field, "must be an array of %s", what);
        return;
    }
    if (json_array_size(x) < min) {
        verr(v, field, "needs at least %zu %s", min, what);
        return;
    }
    if (json_array_size(x) > max) {
        verr(v, field, "has too many entries (at most %zu)", max);
        return;
    }
    json_t *norm = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(x, i, e)
    {
        char f[96];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        if (!json_is_string(e)) {
            verr(v, f, "must be a string");
            continue;
        }
        const char *s = json_string_value(e);
        if (ok && !ok(v, s)) {
            verr(v, f, "unknown %s '%s'", what, s);
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < json_array_size(norm); j++)
            if (strcmp(json_string_value(json_array_get(norm, j)), s) == 0)
                dup = true;
        if (!dup)
            json_array_append(norm, (json_t *)e);
    }
    json_object_set_new(out, field, norm);
}

static bool ok_field(vctx *v, const char *s)
{
    return taxonomy_valid(v->d, "field", s);
}

static bool ok_theme(vctx *v, const char *s)
{
    return taxonomy_valid(v->d, "theme", s);
}

static bool refers_already(const vctx *v, const char *s)
{
    /* A reference the stored record already holds stays valid even when
     * that organisation was deleted since: editing a measure must not
     * force anyone to first remove a partner that no longer exists. */
    if (!v->old)
        return false;
    const json_t *lead = json_object_get(v->old, "lead_organisation");
    if (json_is_string(lead) && !strcmp(json_string_value(lead), s))
        return true;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(v->old, "partner_organisations"), i, e) if (
        json_is_string(e) && !strcmp(json_string_value(e), s)) return true;
    return false;
}

static bool ok_org(vctx *v, const char *s)
{
    /* A district's record may name organisations the aggregator has not
     * received yet; their existence is the district's business. */
    if (v->replica || refers_already(v, s))
        return true;
    sqlite3_stmt *st = db_stmt(v->d, "SELECT 1 FROM records WHERE id=:id AND "
                                     "kind='organisation' AND deleted IS NULL");
    if (!st)
        return false;
    db_bind_text(st, ":id", s);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return ok;
}

/* BCP 47 language tags in the simple form used here: "de", "ar", "uk",
 * "fa-AF", "prs". */
static bool ok_lang(vctx *v, const char *s)
{
    (void)v;
    size_t n = strlen(s), i = 0;
    while (i < n && islower((unsigned char)s[i]))
        i++;
    if (i < 2 || i > 3)
        return false;
    if (i == n)
        return true;
    if (s[i] != '-' || n - i - 1 < 2 || n - i - 1 > 4)
        return false;
    for (i++; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

static bool ok_short_text(vctx *v, const char *s)
{
    (void)v;
    size_t n = util_utf8_len(s);
    return n >= 1 && n <= 200;
}

static void v_int(vctx *v, const json_t *in, json_t *out, const char *field, long lo, long hi,
                  long def)
{
    const json_t *x = json_object_get(in, field);
    if (!present(x)) {
        json_object_set_new(out, field, json_integer(def));
        return;
    }
    double val;
    if (json_is_integer(x))
        val = (double)json_integer_value(x);
    else if (json_is_real(x) && floor(json_real_value(x)) == json_real_value(x))
        val = json_real_value(x);
    else {
        verr(v, field, "must be a whole number from %ld to %ld", lo, hi);
        return;
    }
    if (val < lo || val > hi) {
        verr(v, field, "must be from %ld to %ld", lo, hi);
        return;
    }
    json_object_set_new(out, field, json_integer((json_int_t)val));
}

static void v_date(vctx *v, const json_t *in, json_t *out, const char *field, bool required)
{
    const json_t *x = json_object_get(in, field);
    if (!present(x)) {
        if (required)
            verr(v, field, "is required (YYYY-MM-DD)");
        else
            json_object_set_new(out, field, json_null());
        return;
    }
    if (!json_is_string(x) || !util_valid_date(json_string_value(x))) {
        verr(v, field, "must be a date YYYY-MM-DD");
        return;
    }
    json_object_set(out, field, (json_t *)x);
}

static void v_url(vctx *v, const json_t *in, json_t *out, const char *field)
{
    const json_t *x = json_object_get(in, field);
    if (!present(x) || (json_is_string(x) && !*json_string_value(x))) {
        json_object_set_new(out, field, json_null());
        return;
    }
    const char *s = json_is_string(x) ? json_string_value(x) : NULL;
    if (!s || (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)) || strlen(s) > 500 ||
        strpbrk(s, " \t\r\n\"<>")) {
        verr(v, field, "must be an http(s) URL");
        return;
    }
    json_object_set(out, field, (json_t *)x);
}

static bool number_or_null(const json_t *x)
{
    return !x || json_is_null(x) || json_is_number(x);
}

static void v_indicators(vctx *v, const json_t *in, json_t *out)
{
    const json_t *x = json_object_get(in, "indicators");
    json_t *norm = json_array();
    json_object_set_new(out, "indicators", norm);
    if (!present(x))
        return;
    if (!json_is_array(x) || json_array_size(x) > 50) {
        verr(v, "indicators", "must be an array of at most 50 indicators");
        return;
    }
    size_t i;
    const json_t *ind;
    json_array_foreach(x, i, ind)
    {
        char f[96];
        snprintf(f, sizeof f, "indicators[%zu]", i);
        if (!json_is_object(ind)) {
            verr(v, f, "must be an object");
            continue;
        }
        const char *k;
        const json_t *val;
        json_object_foreach((json_t *)ind, k, val)
        {
            if (strcmp(k, "name") && strcmp(k, "unit") && strcmp(k, "baseline") &&
                strcmp(k, "target") && strcmp(k, "values")) {
                char ff[160];
                snprintf(ff, sizeof ff, "%s.%s", f, k);
                verr(v, ff, "is not a known field");
            }
        }
        const json_t *name = json_object_get(ind, "name");
        const json_t *unit = json_object_get(ind, "unit");
        char ff[160];
        if (!json_is_string(name) || !util_utf8_len(json_string_value(name)) ||
            util_utf8_len(json_string_value(name)) > 200) {
            snprintf(ff, sizeof ff, "%s.name", f);
            verr(v, ff, "is required (1-200 characters)");
        }
        if (present(unit) &&
            (!json_is_string(unit) || util_utf8_len(json_string_value(unit)) > 50)) {
            snprintf(ff, sizeof ff, "%s.unit", f);
            verr(v, ff, "must be a string of at most 50 characters");
        }
        if (!number_or_null(json_object_get(ind, "baseline"))) {
            snprintf(ff, sizeof ff, "%s.baseline", f);
            verr(v, ff, "must be a number or null");
        }
        if (!number_or_null(json_object_get(ind, "target"))) {
            snprintf(ff, sizeof ff, "%s.target", f);
            verr(v, ff, "must be a number or null");
        }
        json_t *vals = json_array();
        const json_t *vs = json_object_get(ind, "values");
        if (present(vs) && (!json_is_array(vs) || json_array_size(vs) > 500)) {
            snprintf(ff, sizeof ff, "%s.values", f);
            verr(v, ff, "must be an array of at most 500 {date, value} entries");
        } else if (present(vs)) {
            size_t j;
            const json_t *dv;
            json_array_foreach(vs, j, dv)
            {
                const json_t *dt = json_object_get(dv, "date");
                const json_t *num = json_object_get(dv, "value");
                if (!json_is_object(dv) || json_object_size(dv) != 2 || !json_is_string(dt) ||
                    !util_valid_date(json_string_value(dt)) || !json_is_number(num)) {
                    snprintf(ff, sizeof ff, "%s.values[%zu]", f, j);
                    verr(v, ff, "must be {\"date\": \"YYYY-MM-DD\", \"value\": number}");
                    continue;
                }
                json_array_append(vals, (json_t *)dv);
            }
        }
        json_t *o = json_object();
        json_object_set(o, "name", (json_t *)name);
        json_object_set_new(o, "unit", present(unit) ? json_copy((json_t *)unit) : json_string(""));
        json_object_set_new(o, "baseline", present(json_object_get(ind, "baseline"))
                                               ? json_copy(json_object_get(ind, "baseline"))
                                               : json_null());
        json_object_set_new(o, "target", present(json_object_get(ind, "target"))
                                             ? json_copy(json_object_get(ind, "target"))
                                             : json_null());
        json_object_set_new(o, "values", vals);
        json_array_append_new(norm, o);
    }
}

static void v_contact(vctx *v, const json_t *in, json_t *out)
{
    const json_t *x = json_object_get(in, "contact");
    json_t *c = json_object();
    json_object_set_new(out, "contact", c);
    if (!present(x))
        return;
    if (!json_is_object(x)) {
        verr(v, "contact", "must be an object with email, phone and person");
        return;
    }
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)x, k, val)
    {
        char f[96];
        snprintf(f, sizeof f, "contact.%s", k);
        if (strcmp(k, "email") && strcmp(k, "phone") && strcmp(k, "person")) {
            verr(v, f, "is not a known field (email, phone, person)");
            continue;
        }
        if (json_is_null(val))
            continue;
        if (!json_is_string(val) || util_utf8_len(json_string_value(val)) > 200) {
            verr(v, f, "must be a string of at most 200 characters");
            continue;
        }
        const char *s = json_string_value(val);
        if (!strcmp(k, "email") && *s) {
            const char *at = strchr(s, '@');
            if (!at || at == s || !strchr(at, '.') || strpbrk(s, " <>\"")) {
                verr(v, f, "must be an e-mail address");
                continue;
            }
        }
        json_object_set(c, k, (json_t *)val);
    }
}

static void v_address(vctx *v, const json_t *in, json_t *out)
{
    const json_t *x = json_object_get(in, "address");
    if (!present(x)) {
        json_object_set_new(out, "address", json_null());
        return;
    }
    if (!json_is_object(x)) {
        verr(v, "address", "must be an object with street, postal_code and city");
        return;
    }
    json_t *a = json_object();
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)x, k, val)
    {
        char f[96];
        snprintf(f, sizeof f, "address.%s", k);
        if (strcmp(k, "street") && strcmp(k, "postal_code") && strcmp(k, "city")) {
            verr(v, f, "is not a known field (street, postal_code, city)");
            continue;
        }
        if (!json_is_string(val) || util_utf8_len(json_string_value(val)) > 200) {
            verr(v, f, "must be a string of at most 200 characters");
            continue;
        }
        if (!strcmp(k, "postal_code") && *json_string_value(val)) {
            const char *s = json_string_value(val);
            bool ok = strlen(s) == 5;
            for (int i = 0; ok && i < 5; i++)
                ok = isdigit((unsigned char)s[i]);
            if (!ok) {
                verr(v, f, "must be a five-digit German postal code");
                continue;
            }
        }
        json_object_set(a, k, (json_t *)val);
    }
    json_object_set_new(out, "address", a);
}

static void v_location(vctx *v, const json_t *in, json_t *out)
{
    const json_t *x = json_object_get(in, "location");
    if (!present(x)) {
        json_object_set_new(out, "location", json_null());
        return;
    }
    const json_t *lat = json_object_get(x, "lat"), *lon = json_object_get(x, "lon");
    if (!json_is_object(x) || json_object_size(x) != 2 || !json_is_number(lat) ||
        !json_is_number(lon) || fabs(json_number_value(lat)) > 90 ||
        fabs(json_number_value(lon)) > 180) {
        verr(v, "location", "must be {\"lat\": -90..90, \"lon\": -180..180}");
        return;
    }
    json_object_set(out, "location", (json_t *)x);
}

static const char *const org_kinds[] = {"administration", "civil_society", "education",
                                        "migrant_organisation", "welfare", "business",
                                        "other", NULL};
static const char *const statuses[] = {"planned", "active", "completed", "paused", "cancelled",
                                       NULL};

/* Fields a client may send for each kind. Read-only fields (id, version, …)
 * are accepted and ignored so that a client can send back what it read. */
static const char *const org_fields[] = {"name", "kind", "description", "fields_of_action",
                                         "languages", "website", "contact", "address",
                                         "location", NULL};
static const char *const measure_fields[] = {
    "title",  "description", "fields_of_action", "themes",          "status",
    "progress", "start_date", "end_date",        "lead_organisation", "partner_organisations",
    "target_groups", "indicators", NULL};
static const char *const progress_fields[] = {"date", "title", "text", "progress", NULL};
static const char *const readonly_fields[] = {"id",      "type",    "url",     "version",
                                              "created", "updated", "deleted", "measure",
                                              "district", NULL};

static const char *const *fields_of(rec_kind k)
{
    return k == REC_ORGANISATION ? org_fields : k == REC_MEASURE ? measure_fields : progress_fields;
}

static bool in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static void check_unknown(vctx *v, rec_kind kind, const json_t *input)
{
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)input, k, val)
    {
        if (!in_list(fields_of(kind), k) && !in_list(readonly_fields, k))
            verr(v, k, "is not a known field of a %s", kind_names[kind]);
    }
}

/* Validates the merged input and builds the normalised domain fields. */
static json_t *validate(vctx *v, rec_kind kind, const json_t *in)
{
    json_t *out = json_object();
    switch (kind) {
    case REC_ORGANISATION:
        v_text(v, in, out, "name", true, 1, 200);
        v_enum(v, in, out, "kind", org_kinds, NULL);
        v_text(v, in, out, "description", false, 0, 10000);
        v_list(v, in, out, "fields_of_action", 0, 7, ok_field, "field of action");
        v_list(v, in, out, "languages", 0, 40, ok_lang, "language code");
        v_url(v, in, out, "website");
        v_contact(v, in, out);
        v_address(v, in, out);
        v_location(v, in, out);
        break;
    case REC_MEASURE: {
        v_text(v, in, out, "title", true, 1, 300);
        v_text(v, in, out, "description", false, 0, 20000);
        v_list(v, in, out, "fields_of_action", 1, 7, ok_field, "field of action");
        v_list(v, in, out, "themes", 0, 3, ok_theme, "theme");
        v_enum(v, in, out, "status", statuses, "planned");
        v_int(v, in, out, "progress", 0, 100, 0);
        v_date(v, in, out, "start_date", false);
        v_date(v, in, out, "end_date", false);
        const json_t *sd = json_object_get(out, "start_date"), *ed = json_object_get(out, "end_date");
        if (json_is_string(sd) && json_is_string(ed) &&
            strcmp(json_string_value(ed), json_string_value(sd)) < 0)
            verr(v, "end_date", "must not be before start_date (%s)", json_string_value(sd));
        const json_t *lead = json_object_get(in, "lead_organisation");
        if (!present(lead))
            json_object_set_new(out, "lead_organisation", json_null());
        else if (!json_is_string(lead))
            verr(v, "lead_organisation", "must be an organisation id");
        else if (!ok_org(v, json_string_value(lead)))
            verr(v, "lead_organisation", "unknown organisation '%s'", json_string_value(lead));
        else
            json_object_set(out, "lead_organisation", (json_t *)lead);
        v_list(v, in, out, "partner_organisations", 0, 100, ok_org, "organisation");
        v_list(v, in, out, "target_groups", 0, 30, ok_short_text, "target group");
        v_indicators(v, in, out);
        break;
    }
    case REC_PROGRESS:
        v_date(v, in, out, "date", true);
        v_text(v, in, out, "title", true, 1, 300);
        v_text(v, in, out, "text", false, 0, 20000);
        if (present(json_object_get(in, "progress")))
            v_int(v, in, out, "progress", 0, 100, 0);
        else
            json_object_set_new(out, "progress", json_null());
        break;
    }
    return out;
}

/* ---- storage ---------------------------------------------------------- */

static void record_url(rec_kind kind, const char *id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s/%s", base_url, kind_paths[kind], id);
}

/* Builds the served document: identity and metadata first, then fields. */
static json_t *render(rec_kind kind, const char *id, const char *parent, long long version,
                      const char *created, const char *updated, const json_t *fields)
{
    char url[700];
    record_url(kind, id, url, sizeof url);
    json_t *doc = json_pack("{s:s, s:s, s:s}", "id", id, "type", kind_names[kind], "url", url);
    if (kind == REC_PROGRESS && parent)
        json_object_set_new(doc, "measure", json_string(parent));
    json_object_update(doc, (json_t *)fields);
    json_object_set_new(doc, "version", json_integer(version));
    json_object_set_new(doc, "created", json_string(created));
    json_object_set_new(doc, "updated", json_string(updated));
    return doc;
}

static void add_terms(buf *b, const json_t *arr, const char *prefix)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) buf_printf(b, "%s%s\n", prefix, json_string_value(e));
}

/* Writes the typed columns, terms and search text for a record row. */
static int index_record(db *d, rec_kind kind, long long seq, const json_t *doc)
{
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM record_terms WHERE seq=:seq");
    if (!st)
        return -1;
    db_bind_int(st, ":seq", seq);
    if (db_exec_stmt(st))
        return -1;
    buf terms;
    buf_init(&terms);
    add_terms(&terms, json_object_get(doc, "fields_of_action"), "");
    add_terms(&terms, json_object_get(doc, "themes"), "");
    add_terms(&terms, json_object_get(doc, "languages"), "lang:");
    add_terms(&terms, json_object_get(doc, "partner_organisations"), "org:");
    if (util_jstr(doc, "lead_organisation"))
        buf_printf(&terms, "org:%s\n", util_jstr(doc, "lead_organisation"));
    if (kind == REC_ORGANISATION)
        buf_printf(&terms, "kind:%s\n", util_jstr(doc, "kind"));
    /* Replicated records name their district; local ones are this node's. */
    const char *dist = util_jstr(doc, "district") ? util_jstr(doc, "district") : own_district;
    if (dist[0])
        buf_printf(&terms, "district:%s\n", dist);
    int rc = 0;
    for (char *line = terms.p; line && *line && !rc;) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        st = db_stmt(d, "INSERT OR IGNORE INTO record_terms(term, seq) VALUES(:term, :seq)");
        if (!st) {
            rc = -1;
            break;
        }
        db_bind_text(st, ":term", line);
        db_bind_int(st, ":seq", seq);
        rc = db_exec_stmt(st);
        line = nl + 1;
    }
    buf_free(&terms);
    if (rc)
        return rc;

    buf body;
    buf_init(&body);
    buf_printf(&body, "%s\n%s\n", util_jstr(doc, "description") ? util_jstr(doc, "description") : "",
               util_jstr(doc, "text") ? util_jstr(doc, "text") : "");
    const json_t *tg = json_object_get(doc, "target_groups");
    size_t i;
    const json_t *e;
    json_array_foreach(tg, i, e) buf_printf(&body, "%s\n", json_string_value(e));
    const json_t *inds = json_object_get(doc, "indicators");
    json_array_foreach(inds, i, e) buf_printf(&body, "%s\n", util_jstr(e, "name"));
    const char *title = kind == REC_ORGANISATION ? util_jstr(doc, "name") : util_jstr(doc, "title");
    st = db_stmt(d, "INSERT OR REPLACE INTO record_fts(rowid, title, body) "
                    "VALUES(:seq, :title, :body)");
    if (!st || body.oom) {
        buf_free(&body);
        return -1;
    }
    db_bind_int(st, ":seq", seq);
    db_bind_text(st, ":title", title);
    db_bind_text(st, ":body", body.p);
    rc = db_exec_stmt(st);
    buf_free(&body);
    return rc;
}

static int count_add(db *d, rec_kind kind, int delta)
{
    sqlite3_stmt *st = db_stmt(d, "UPDATE record_counts SET live=live+:delta WHERE kind=:kind");
    if (!st)
        return -1;
    db_bind_int(st, ":delta", delta);
    db_bind_text(st, ":kind", kind_names[kind]);
    return db_exec_stmt(st);
}

static int unindex_record(db *d, long long seq)
{
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM record_terms WHERE seq=:seq");
    if (!st)
        return -1;
    db_bind_int(st, ":seq", seq);
    if (db_exec_stmt(st))
        return -1;
    st = db_stmt(d, "DELETE FROM record_fts WHERE rowid=:seq");
    if (!st)
        return -1;
    db_bind_int(st, ":seq", seq);
    return db_exec_stmt(st);
}

/* Domain fields of a document: everything except identity and metadata. */
static json_t *domain_fields(rec_kind kind, const json_t *doc)
{
    json_t *o = json_object();
    for (const char *const *f = fields_of(kind); *f; f++) {
        json_t *x = json_object_get(doc, *f);
        if (x)
            json_object_set(o, *f, x);
    }
    return o;
}

/* {field: {from, to}} for every field whose value differs. */
static json_t *diff_fields(rec_kind kind, const json_t *old, const json_t *new)
{
    json_t *ch = json_object();
    for (const char *const *f = fields_of(kind); *f; f++) {
        json_t *a = old ? json_object_get(old, *f) : NULL;
        json_t *b = new ? json_object_get(new, *f) : NULL;
        if (!a && !b)
            continue;
        if (a && b && json_equal(a, b))
            continue;
        json_object_set_new(ch, *f,
                            json_pack("{s:O, s:O}", "from", a ? a : json_null(), "to",
                                      b ? b : json_null()));
    }
    return ch;
}

static int write_history(db *d, const char *id, long long version, const char *at,
                         const char *actor, const char *op, json_t *changes)
{
    char *txt = json_dumps(changes, JSON_COMPACT);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO history(record_id, version, at, actor, op, changes) "
                                  "VALUES(:id, :v, :at, :actor, :op, :ch)");
    int rc = -1;
    if (st && txt) {
        db_bind_text(st, ":id", id);
        db_bind_int(st, ":v", version);
        db_bind_text(st, ":at", at);
        db_bind_text(st, ":actor", actor);
        db_bind_text(st, ":op", op);
        db_bind_text(st, ":ch", txt);
        rc = db_exec_stmt(st);
    }
    free(txt);
    return rc;
}

/* Stores the typed columns and doc of a record (insert when seq == 0). */
static int store_row(db *d, rec_kind kind, long long *seq, const char *id, const char *parent,
                     const json_t *doc)
{
    char *txt = json_dumps(doc, JSON_COMPACT);
    if (!txt)
        return -1;
    sqlite3_stmt *st;
    if (*seq == 0)
        st = db_stmt(d, "INSERT INTO records(id, kind, version, created, updated, parent, title, "
                        "status, progress, start_date, end_date, org_kind, doc, district) "
                        "VALUES(:id, :kind, :version, :created, :updated, :parent, :title, "
                        ":status, :progress, :start, :end, :okind, :doc, :district)");
    else
        st = db_stmt(d, "UPDATE records SET version=:version, updated=:updated, title=:title, "
                        "status=:status, progress=:progress, start_date=:start, end_date=:end, "
                        "org_kind=:okind, doc=:doc WHERE id=:id");
    int rc = -1;
    if (!st)
        goto out;
    db_bind_text(st, ":id", id);
    if (*seq == 0) {
        db_bind_text(st, ":kind", kind_names[kind]);
        db_bind_text(st, ":created", util_jstr(doc, "created"));
        db_bind_text(st, ":parent", parent);
        db_bind_text(st, ":district",
                     util_jstr(doc, "district") ? util_jstr(doc, "district")
                     : own_district[0]     ? own_district
                                           : NULL);
    }
    db_bind_int(st, ":version", json_integer_value(json_object_get(doc, "version")));
    db_bind_text(st, ":updated", util_jstr(doc, "updated"));
    const char *title = kind == REC_ORGANISATION ? util_jstr(doc, "name") : util_jstr(doc, "title");
    db_bind_text(st, ":title", title ? title : "");
    db_bind_text(st, ":status", util_jstr(doc, "status"));
    const json_t *p = json_object_get(doc, "progress");
    if (json_is_integer(p))
        db_bind_int(st, ":progress", json_integer_value(p));
    else
        db_bind_text(st, ":progress", NULL);
    db_bind_text(st, ":start", kind == REC_PROGRESS ? util_jstr(doc, "date") : util_jstr(doc, "start_date"));
    db_bind_text(st, ":end", util_jstr(doc, "end_date"));
    db_bind_text(st, ":okind", kind == REC_ORGANISATION ? util_jstr(doc, "kind") : NULL);
    db_bind_text(st, ":doc", txt);
    if (db_exec_stmt(st))
        goto out;
    if (*seq == 0) {
        *seq = sqlite3_last_insert_rowid(db_handle(d));
        if (count_add(d, kind, 1))
            goto out;
    }
    rc = 0;
out:
    free(txt);
    return rc;
}

/* Loads a row: doc (new ref), seq, version, deleted flag, parent. */
static rec_status load_row(db *d, rec_kind kind, const char *id, json_t **doc, long long *seq,
                           bool *deleted, char *parent, size_t parentlen)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT seq, doc, deleted, parent FROM records "
                                  "WHERE id=:id AND kind=:kind");
    if (!st)
        return REC_ERROR;
    db_bind_text(st, ":id", id);
    db_bind_text(st, ":kind", kind_names[kind]);
    rec_status rs = REC_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        *doc = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        *deleted = sqlite3_column_type(st, 2) != SQLITE_NULL;
        if (parent)
            snprintf(parent, parentlen, "%s",
                     sqlite3_column_type(st, 3) == SQLITE_NULL
                         ? ""
                         : (const char *)sqlite3_column_text(st, 3));
        rs = *doc ? REC_OK : REC_ERROR;
    }
    db_done(st);
    return rs;
}

static int publish(db *d, rec_kind kind, const char *op, const json_t *doc)
{
    return publish_fn ? publish_fn(d, kind, op, doc, publish_ud) : 0;
}

rec_status record_create(db *d, rec_kind kind, const char *parent_id, json_t *input,
                         const char *actor, json_t **out, json_t **errors)
{
    rec_status rs = REC_ERROR;
    json_t *fields = NULL, *doc = NULL;
    vctx v = {d, json_array(), NULL, false};
    *out = NULL;
    *errors = NULL;
    if (db_begin(d))
        goto out;
    if (kind == REC_PROGRESS) {
        sqlite3_stmt *st = db_stmt(d, "SELECT deleted IS NOT NULL, "
                                      "json_extract(doc, '$.home_url') IS NOT NULL FROM records "
                                      "WHERE id=:id AND kind='measure'");
        if (!st)
            goto out;
        db_bind_text(st, ":id", parent_id);
        int step = sqlite3_step(st);
        bool gone = step == SQLITE_ROW && sqlite3_column_int(st, 0);
        bool foreign = step == SQLITE_ROW && sqlite3_column_int(st, 1);
        db_done(st);
        if (step != SQLITE_ROW || gone) {
            rs = step != SQLITE_ROW ? REC_NOT_FOUND : REC_GONE;
            goto out;
        }
        if (foreign) {
            rs = REC_FOREIGN;
            goto out;
        }
    }
    check_unknown(&v, kind, input);
    fields = validate(&v, kind, input);
    if (json_array_size(v.errors)) {
        rs = REC_INVALID;
        goto out;
    }
    char id[40], now[21];
    new_record_id(kind, id, sizeof id);
    util_now_iso(now);
    doc = render(kind, id, parent_id, 1, now, now, fields);
    long long seq = 0;
    json_t *changes = diff_fields(kind, NULL, fields);
    int werr = store_row(d, kind, &seq, id, parent_id, doc) || index_record(d, kind, seq, doc) ||
               write_history(d, id, 1, now, actor, "create", changes) ||
               publish(d, kind, "create", doc);
    json_decref(changes);
    if (werr || db_commit(d))
        goto out;
    pagecache_bump();
    *out = json_incref(doc);
    rs = REC_OK;
out:
    if (rs != REC_OK)
        db_rollback(d);
    if (rs == REC_INVALID)
        *errors = json_incref(v.errors);
    json_decref(v.errors);
    json_decref(fields);
    json_decref(doc);
    return rs;
}

rec_status record_update(db *d, rec_kind kind, const char *id, long long if_version,
                         json_t *patch, const char *actor, json_t **out, json_t **errors)
{
    rec_status rs = REC_ERROR;
    json_t *old = NULL, *merged = NULL, *fields = NULL, *doc = NULL, *oldf = NULL;
    vctx v = {d, json_array(), NULL, false};
    long long seq = 0;
    bool deleted = false;
    char parent[64];
    *out = NULL;
    *errors = NULL;
    if (db_begin(d))
        goto out;
    rs = load_row(d, kind, id, &old, &seq, &deleted, parent, sizeof parent);
    if (rs != REC_OK)
        goto out;
    if (deleted) {
        rs = REC_GONE;
        goto out;
    }
    if (util_jstr(old, "home_url")) {
        rs = REC_FOREIGN;
        goto out;
    }
    long long version = json_integer_value(json_object_get(old, "version"));
    if (if_version != version) {
        *out = json_incref(old);
        rs = REC_STALE;
        goto out;
    }
    check_unknown(&v, kind, patch);
    oldf = domain_fields(kind, old);
    v.old = oldf;
    merged = json_copy(oldf);
    const char *k;
    json_t *val;
    json_object_foreach(patch, k, val)
    {
        if (in_list(fields_of(kind), k))
            json_object_set(merged, k, val);
    }
    fields = validate(&v, kind, merged);
    if (json_array_size(v.errors)) {
        rs = REC_INVALID;
        goto out;
    }
    json_t *changes = diff_fields(kind, oldf, fields);
    if (json_object_size(changes) == 0) {
        /* Nothing changed: no new version, nothing to publish. */
        json_decref(changes);
        db_rollback(d);
        *out = json_incref(old);
        rs = REC_OK;
        goto out;
    }
    char now[21];
    util_now_iso(now);
    doc = render(kind, id, parent[0] ? parent : NULL, version + 1, util_jstr(old, "created"), now,
                 fields);
    int werr = store_row(d, kind, &seq, id, NULL, doc) || index_record(d, kind, seq, doc) ||
               write_history(d, id, version + 1, now, actor, "update", changes) ||
               publish(d, kind, "update", doc);
    json_decref(changes);
    if (werr || db_commit(d)) {
        rs = REC_ERROR;
        goto out;
    }
    pagecache_bump();
    *out = json_incref(doc);
    rs = REC_OK;
out:
    if (rs != REC_OK)
        db_rollback(d);
    if (rs == REC_INVALID)
        *errors = json_incref(v.errors);
    json_decref(v.errors);
    json_decref(old);
    json_decref(oldf);
    json_decref(merged);
    json_decref(fields);
    json_decref(doc);
    return rs;
}

/* Deletes one record inside the caller's transaction. */
static rec_status delete_in_tx(db *d, rec_kind kind, const char *id, long long if_version,
                               const char *actor, json_t **out)
{
    json_t *old = NULL, *tomb = NULL;
    long long seq = 0;
    bool deleted = false;
    rec_status rs = load_row(d, kind, id, &old, &seq, &deleted, NULL, 0);
    if (rs != REC_OK)
        goto out;
    if (deleted) {
        rs = REC_GONE;
        goto out;
    }
    if (util_jstr(old, "home_url")) {
        rs = REC_FOREIGN;
        goto out;
    }
    long long version = json_integer_value(json_object_get(old, "version"));
    if (if_version >= 0 && if_version != version) {
        *out = json_incref(old);
        rs = REC_STALE;
        goto out;
    }
    char now[21], url[700];
    util_now_iso(now);
    record_url(kind, id, url, sizeof url);
    /* The tombstone keeps identity and version so followers can order it. */
    tomb = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "id", id, "type", kind_names[kind],
                     "url", url, "version", (json_int_t)(version + 1), "created",
                     util_jstr(old, "created"), "updated", now, "deleted", now);
    if (util_jstr(old, "measure"))
        json_object_set_new(tomb, "measure", json_string(util_jstr(old, "measure")));
    char *txt = json_dumps(tomb, JSON_COMPACT);
    sqlite3_stmt *st = db_stmt(d, "UPDATE records SET version=:v, updated=:now, deleted=:now, "
                                  "doc=:doc WHERE id=:id");
    int werr = !txt || !st;
    if (!werr) {
        db_bind_int(st, ":v", version + 1);
        db_bind_text(st, ":now", now);
        db_bind_text(st, ":doc", txt);
        db_bind_text(st, ":id", id);
        werr = db_exec_stmt(st);
    }
    free(txt);
    json_t *changes = json_object();
    werr = werr || unindex_record(d, seq) || count_add(d, kind, -1) ||
           write_history(d, id, version + 1, now, actor, "delete", changes) ||
           publish(d, kind, "delete", tomb);
    json_decref(changes);
    rs = werr ? REC_ERROR : REC_OK;
    if (rs == REC_OK && kind == REC_MEASURE) {
        /* A measure's progress entries go with it, each with its own
         * tombstone, so no entry stays readable under a deleted measure. */
        char children[256][32];
        int n = 0;
        st = db_stmt(d, "SELECT id FROM records WHERE parent=:id AND kind='progress' AND "
                        "deleted IS NULL LIMIT 256");
        if (!st) {
            rs = REC_ERROR;
            goto out;
        }
        db_bind_text(st, ":id", id);
        while (n < 256 && sqlite3_step(st) == SQLITE_ROW)
            snprintf(children[n++], sizeof children[0], "%s", (const char *)sqlite3_column_text(st, 0));
        db_done(st);
        for (int i = 0; i < n && rs == REC_OK; i++) {
            json_t *ct = NULL;
            rs = delete_in_tx(d, REC_PROGRESS, children[i], -1, actor, &ct);
            json_decref(ct);
        }
    }
    if (rs == REC_OK)
        *out = json_incref(tomb);
out:
    json_decref(old);
    json_decref(tomb);
    return rs;
}

rec_status record_delete(db *d, rec_kind kind, const char *id, long long if_version,
                         const char *actor, json_t **out)
{
    *out = NULL;
    if (db_begin(d))
        return REC_ERROR;
    rec_status rs = delete_in_tx(d, kind, id, if_version, actor, out);
    if (rs == REC_OK && db_commit(d)) {
        json_decref(*out);
        *out = NULL;
        rs = REC_ERROR;
    }
    if (rs == REC_OK)
        pagecache_bump();
    if (rs != REC_OK)
        db_rollback(d);
    return rs;
}

rec_status record_get_raw(db *d, rec_kind kind, const char *id, char **doc, long long *version)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT doc, version, deleted FROM records "
                                  "WHERE id=:id AND kind=:kind");
    if (!st)
        return REC_ERROR;
    db_bind_text(st, ":id", id);
    db_bind_text(st, ":kind", kind_names[kind]);
    rec_status rs = REC_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *doc = strdup((const char *)sqlite3_column_text(st, 0));
        *version = sqlite3_column_int64(st, 1);
        rs = !*doc ? REC_ERROR : sqlite3_column_type(st, 2) == SQLITE_NULL ? REC_OK : REC_GONE;
    }
    db_done(st);
    return rs;
}

rec_status record_get(db *d, rec_kind kind, const char *id, json_t **out)
{
    char *txt = NULL;
    long long version;
    rec_status rs = record_get_raw(d, kind, id, &txt, &version);
    *out = NULL;
    if (txt) {
        *out = json_loads(txt, 0, NULL);
        free(txt);
        if (!*out)
            rs = REC_ERROR;
    }
    return rs;
}

/* Splits a comma list into at most max items; returns the count, or -1 when
 * there are more. Items point into a copy held by the caller's buffer. */
static int split_list(const char *s, char *copy, size_t copylen, const char **items, int max)
{
    if (!s || !*s)
        return 0;
    snprintf(copy, copylen, "%s", s);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max)
            return -1;
        items[n++] = tok;
    }
    return n;
}

/* Query parameters collected while building a filtered list query. */
typedef struct qparams {
    char name[64][72];
    char *val[64];
    int n;
} qparams;

static void qp_add(qparams *qp, buf *sql, const char *name, char *val)
{
    if (qp->n == 64) {
        free(val);
        sql->oom = true;
        return;
    }
    snprintf(qp->name[qp->n], sizeof qp->name[0], ":%s", name);
    qp->val[qp->n++] = val;
}

/* Adds "AND seq IN (SELECT seq FROM record_terms WHERE term IN (…))" for a
 * comma list of values; records matching any value pass. */
static void add_term_filter(buf *sql, qparams *qp, const char *name, const char *prefix,
                            const char *values, vctx *v)
{
    char copy[1024];
    const char *items[10];
    int n = split_list(values, copy, sizeof copy, items, 10);
    if (n < 0) {
        verr(v, name, "at most 10 values");
        return;
    }
    if (n == 0)
        return;
    buf_puts(sql, " AND r.seq IN (SELECT seq FROM record_terms WHERE term IN (");
    for (int i = 0; i < n; i++) {
        char pname[48], val[300];
        snprintf(pname, sizeof pname, "%s%d", name, i);
        snprintf(val, sizeof val, "%s%s", prefix, items[i]);
        qp_add(qp, sql, pname, xstrdup(val));
        buf_printf(sql, "%s:%s", i ? "," : "", pname);
    }
    buf_puts(sql, "))");
}

rec_status record_list(db *d, rec_kind kind, const record_filter *f, buf *out, json_t **errors)
{
    qparams qp;
    vctx v = {d, json_array(), NULL, false};
    rec_status rs = REC_ERROR;
    bool in_read = false;
    buf where, sql;
    buf_init(&where);
    buf_init(&sql);
    qp.n = 0;
    *errors = NULL;

    char copy[1024];
    const char *items[10];
    add_term_filter(&where, &qp, "field_of_action", "", f->fields_of_action, &v);
    add_term_filter(&where, &qp, "theme", "", f->themes, &v);
    add_term_filter(&where, &qp, "organisation", "org:", f->organisation, &v);
    add_term_filter(&where, &qp, "kind", "kind:", f->org_kind, &v);
    add_term_filter(&where, &qp, "language", "lang:", f->language, &v);
    add_term_filter(&where, &qp, "district", "district:", f->district, &v);
    if (f->date_from && *f->date_from) {
        if (!util_valid_date(f->date_from))
            verr(&v, "from", "must be a date YYYY-MM-DD");
        /* A progress entry has one date; a measure is active from its
         * start until its end, open-ended when it has none. */
        buf_puts(&where, kind == REC_PROGRESS ? " AND r.start_date >= :from"
                                              : " AND (r.end_date IS NULL OR r.end_date >= :from)");
        qp_add(&qp, &where, "from", xstrdup(f->date_from));
    }
    if (f->date_to && *f->date_to) {
        if (!util_valid_date(f->date_to))
            verr(&v, "to", "must be a date YYYY-MM-DD");
        else if (f->date_from && util_valid_date(f->date_from) &&
                 strcmp(f->date_to, f->date_from) < 0)
            verr(&v, "to", "must not be before from");
        buf_puts(&where, " AND (r.start_date IS NULL OR r.start_date <= :to)");
        qp_add(&qp, &where, "to", xstrdup(f->date_to));
    }
    int n = split_list(f->fields_of_action, copy, sizeof copy, items, 10);
    for (int i = 0; i < n; i++)
        if (!taxonomy_valid(d, "field", items[i]))
            verr(&v, "field_of_action", "unknown field of action '%s'", items[i]);
    n = split_list(f->themes, copy, sizeof copy, items, 10);
    for (int i = 0; i < n; i++)
        if (!taxonomy_valid(d, "theme", items[i]))
            verr(&v, "theme", "unknown theme '%s'", items[i]);
    n = split_list(f->org_kind, copy, sizeof copy, items, 10);
    for (int i = 0; i < n; i++)
        if (!in_list(org_kinds, items[i]))
            verr(&v, "kind", "unknown organisation kind '%s'", items[i]);
    n = split_list(f->status, copy, sizeof copy, items, 5);
    if (n < 0)
        verr(&v, "status", "at most 5 values");
    if (n > 0) {
        buf_puts(&where, " AND r.status IN (");
        for (int i = 0; i < n; i++) {
            char pname[24];
            if (!in_list(statuses, items[i]))
                verr(&v, "status", "unknown status '%s'", items[i]);
            snprintf(pname, sizeof pname, "status%d", i);
            qp_add(&qp, &where, pname, xstrdup(items[i]));
            buf_printf(&where, "%s:%s", i ? "," : "", pname);
        }
        buf_puts(&where, ")");
    }
    if (f->parent && *f->parent) {
        buf_puts(&where, " AND r.parent=:parent");
        qp_add(&qp, &where, "parent", xstrdup(f->parent));
    }
    if (f->q && *f->q) {
        buf pat;
        buf_init(&pat);
        if (strlen(f->q) > 200) {
            verr(&v, "q", "search text is too long (at most 200 bytes)");
        } else if (util_utf8_len(f->q) < 3) {
            /* Trigrams need three characters; shorter text matches by
             * substring on the title. */
            buf_puts(&where, " AND r.title LIKE :q ESCAPE '\\'");
            buf_puts(&pat, "%");
            for (const char *p = f->q; *p; p++) {
                if (*p == '%' || *p == '_' || *p == '\\')
                    buf_puts(&pat, "\\");
                buf_append(&pat, p, 1);
            }
            buf_puts(&pat, "%");
            qp_add(&qp, &where, "q", buf_take(&pat));
        } else {
            /* A quoted FTS5 phrase: the user's text is matched literally. */
            buf_puts(&pat, "\"");
            for (const char *p = f->q; *p; p++) {
                if (*p == '"')
                    buf_puts(&pat, "\"");
                buf_append(&pat, p, 1);
            }
            buf_puts(&pat, "\"");
            buf_puts(&where, " AND r.seq IN (SELECT rowid FROM record_fts WHERE record_fts "
                             "MATCH :q)");
            qp_add(&qp, &where, "q", buf_take(&pat));
        }
        buf_free(&pat);
    }
    if (json_array_size(v.errors)) {
        rs = REC_INVALID;
        goto out;
    }
    if (where.oom)
        goto out;

    /* Total count for the filter, then the page. Without a filter the
     * count kept by the write path answers at once. */
    if (where.len)
        buf_printf(&sql,
                   "SELECT count(*) FROM records r WHERE r.kind=:kind AND r.deleted IS NULL%s",
                   where.p);
    else
        buf_puts(&sql, "SELECT live FROM record_counts WHERE kind=:kind");
    /* Count and page from one snapshot, under one lock. */
    in_read = db_begin_read(d) == 0;
    sqlite3_stmt *st = db_stmt(d, sql.p);
    if (!st)
        goto out;
    db_bind_text(st, ":kind", kind_names[kind]);
    for (int i = 0; i < qp.n; i++)
        db_bind_text(st, qp.name[i], qp.val[i]);
    long long total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_done(st);

    buf_free(&sql);
    /* The page's seqs first, from the index alone; only then the documents.
     * Sorting the filtered rows with their documents read every matching
     * document (thousands for a field of action on the state node). */
    buf_printf(&sql,
               "SELECT o.seq, o.doc FROM records o WHERE o.seq IN (SELECT r.seq FROM records r "
               "WHERE r.kind=:kind AND r.deleted IS NULL%s%s ORDER BY r.seq DESC LIMIT :limit) "
               "ORDER BY o.seq DESC",
               where.p ? where.p : "", f->cursor > 0 ? " AND r.seq < :cursor" : "");
    st = db_stmt(d, sql.p);
    if (!st)
        goto out;
    db_bind_text(st, ":kind", kind_names[kind]);
    for (int i = 0; i < qp.n; i++)
        db_bind_text(st, qp.name[i], qp.val[i]);
    if (f->cursor > 0)
        db_bind_int(st, ":cursor", f->cursor);
    db_bind_int(st, ":limit", f->limit + 1);
    buf_puts(out, "{\"items\":[");
    int count = 0;
    long long last = 0;
    bool more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (count == f->limit) {
            more = true;
            break;
        }
        if (count)
            buf_puts(out, ",");
        last = sqlite3_column_int64(st, 0);
        buf_append(out, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        count++;
    }
    db_done(st);
    buf_printf(out, "],\"total\":%lld,\"limit\":%d,\"next_cursor\":", total, f->limit);
    if (more)
        buf_printf(out, "\"%lld\"}", last);
    else
        buf_puts(out, "null}");
    rs = out->oom ? REC_ERROR : REC_OK;
out:
    if (in_read)
        db_end_read(d);
    if (rs == REC_INVALID)
        *errors = json_incref(v.errors);
    json_decref(v.errors);
    for (int i = 0; i < qp.n; i++)
        free(qp.val[i]);
    buf_free(&where);
    buf_free(&sql);
    return rs;
}

static rec_kind kind_from_name(const char *n, bool *ok)
{
    *ok = true;
    if (n && !strcmp(n, "organisation"))
        return REC_ORGANISATION;
    if (n && !strcmp(n, "measure"))
        return REC_MEASURE;
    if (n && !strcmp(n, "progress"))
        return REC_PROGRESS;
    *ok = false;
    return REC_MEASURE;
}

static bool plain_id(const char *id, rec_kind kind)
{
    if (!id || strlen(id) < 4 || strlen(id) > 40 || strncmp(id, kind_prefix[kind], 2))
        return false;
    for (const char *p = id + 2; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

static int store_provenance(db *d, const char *id, const char *district, const char *aid,
                            const char *activity, const char *now)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT OR REPLACE INTO provenance(record_id, district, "
                                  "activity_id, activity, received) VALUES(:id, :d, :aid, :a, :now)");
    if (!st)
        return -1;
    db_bind_text(st, ":id", id);
    db_bind_text(st, ":d", district);
    db_bind_text(st, ":aid", aid);
    db_bind_text(st, ":a", activity);
    db_bind_text(st, ":now", now);
    return db_exec_stmt(st);
}

rec_status record_replicate(db *d, const json_t *rec, const char *district,
                            const char *activity_id, const char *activity, const char **why)
{
    bool known;
    rec_kind kind = kind_from_name(util_jstr(rec, "type"), &known);
    const char *id = util_jstr(rec, "id"), *home = util_jstr(rec, "url");
    const json_t *ver = json_object_get(rec, "version");
    bool deleted = util_jstr(rec, "deleted") != NULL;
    *why = NULL;
    if (!known || !plain_id(id, kind) || !home || !json_is_integer(ver) ||
        json_integer_value(ver) < 1 || !util_jstr(rec, "created") || !util_jstr(rec, "updated") ||
        (kind == REC_PROGRESS && !plain_id(util_jstr(rec, "measure"), REC_MEASURE))) {
        *why = "malformed record: needs type, id, url, version, created and updated";
        return REC_INVALID;
    }
    char c1[8], c2[8];
    const char *id_code = record_id_district(id, c1, sizeof c1);
    const char *parent_code =
        kind == REC_PROGRESS ? record_id_district(util_jstr(rec, "measure"), c2, sizeof c2) : NULL;
    if ((id_code && strcmp(id_code, district)) || (parent_code && strcmp(parent_code, district))) {
        *why = "this record id belongs to another district";
        return REC_INVALID;
    }
    long long version = json_integer_value(ver);
    vctx v = {d, json_array(), NULL, true};
    json_t *fields = NULL, *doc = NULL, *old = NULL;
    rec_status rs = REC_ERROR;
    bool own_tx = false;
    if (!deleted) {
        fields = validate(&v, kind, rec);
        if (json_array_size(v.errors)) {
            *why = "the record does not validate";
            rs = REC_INVALID;
            goto out;
        }
    }
    /* Runs inside the caller's transaction when there is one (the inbox
     * logs the activity and stores the record atomically). */
    own_tx = sqlite3_get_autocommit(db_handle(d));
    if (own_tx && db_begin(d))
        goto out;
    long long seq = 0;
    bool was_deleted = false;
    char parent[64] = "";
    rec_status have = load_row(d, kind, id, &old, &seq, &was_deleted, parent, sizeof parent);
    if (have == REC_ERROR)
        goto out;
    if (have == REC_OK) {
        const char *owner = util_jstr(old, "district");
        if (!owner || strcmp(owner, district)) {
            *why = "this record id belongs to another district";
            rs = REC_INVALID;
            goto out;
        }
        if (json_integer_value(json_object_get(old, "version")) >= version) {
            rs = REC_STALE;
            goto out;
        }
        if (was_deleted && !deleted) {
            /* Versions only move forward, and a tombstone has the highest
             * version of a record, so this cannot come from an honest
             * sender; refuse before anything is written. */
            *why = "the record was deleted";
            rs = REC_STALE;
            goto out;
        }
    }
    char now[21];
    util_now_iso(now);
    const char *parent_id = kind == REC_PROGRESS ? util_jstr(rec, "measure") : NULL;
    if (deleted) {
        doc = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "id", id, "type", kind_names[kind],
                        "version", (json_int_t)version, "created", util_jstr(rec, "created"), "updated",
                        util_jstr(rec, "updated"), "deleted", util_jstr(rec, "deleted"));
        if (parent_id)
            json_object_set_new(doc, "measure", json_string(parent_id));
    } else {
        doc = render(kind, id, parent_id, version, util_jstr(rec, "created"), util_jstr(rec, "updated"),
                     fields);
    }
    char url[700];
    record_url(kind, id, url, sizeof url);
    json_object_set_new(doc, "url", json_string(url));
    json_object_set_new(doc, "district", json_string(district));
    json_object_set_new(doc, "home_url", json_string(home));
    int werr = 0;
    if (have == REC_NOT_FOUND || !deleted || !was_deleted) {
        if (have == REC_NOT_FOUND && deleted) {
            /* A tombstone for a record never seen: keep it, so a late
             * Create cannot resurrect the record. */
            werr = store_row(d, kind, &seq, id, parent_id, doc) || count_add(d, kind, -1);
        } else {
            werr = store_row(d, kind, &seq, id, parent_id, doc);
        }
        if (!werr && deleted) {
            sqlite3_stmt *st = db_stmt(d, "UPDATE records SET deleted=:del WHERE seq=:seq");
            werr = !st;
            if (st) {
                db_bind_text(st, ":del", util_jstr(rec, "deleted"));
                db_bind_int(st, ":seq", seq);
                werr = db_exec_stmt(st);
            }
            if (!werr && have == REC_OK && !was_deleted)
                werr = count_add(d, kind, -1);
            if (!werr)
                werr = unindex_record(d, seq);
        } else if (!werr) {
            werr = index_record(d, kind, seq, doc);
        }
    }
    char actor[32];
    snprintf(actor, sizeof actor, "district:%s", district);
    json_t *oldf = old ? domain_fields(kind, old) : NULL;
    json_t *changes = deleted ? json_object() : diff_fields(kind, oldf, fields);
    const char *op = deleted ? "delete" : have == REC_OK ? "update" : "create";
    werr = werr || write_history(d, id, version, now, actor, op, changes) ||
           store_provenance(d, id, district, activity_id, activity, now);
    json_decref(changes);
    json_decref(oldf);
    if (werr || (own_tx && db_commit(d)))
        goto out;
    pagecache_bump();
    rs = REC_OK;
out:
    if (rs != REC_OK && own_tx)
        db_rollback(d);
    json_decref(v.errors);
    json_decref(fields);
    json_decref(doc);
    json_decref(old);
    return rs;
}

rec_status record_history(db *d, const char *id, json_t **out)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT version, at, actor, op, changes FROM history "
                                  "WHERE record_id=:id ORDER BY hseq");
    if (!st)
        return REC_ERROR;
    db_bind_text(st, ":id", id);
    json_t *arr = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *ch = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:o}", "version",
                                             (json_int_t)sqlite3_column_int64(st, 0), "at",
                                             sqlite3_column_text(st, 1), "actor",
                                             sqlite3_column_text(st, 2), "op",
                                             sqlite3_column_text(st, 3), "changes",
                                             ch ? ch : json_object()));
    }
    db_done(st);
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return REC_NOT_FOUND;
    }
    *out = arr;
    return REC_OK;
}
