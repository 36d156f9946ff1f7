/* Taxonomy; see taxonomy.h. */
#include "taxonomy.h"

#include <string.h>

bool taxonomy_valid(db *d, const char *kind, const char *code)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT 1 FROM taxonomy WHERE code=:code AND kind=:kind AND retired=0");
    if (!st)
        return false;
    db_bind_text(st, ":code", code);
    db_bind_text(st, ":kind", kind);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    return ok;
}

json_t *taxonomy_json(db *d)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT code, kind, scheme, name_de, name_en FROM taxonomy "
                                  "WHERE retired=0 ORDER BY kind, position");
    if (!st)
        return NULL;
    json_t *fields = json_array(), *themes = json_array();
    const char *scheme = "LIK2020";
    char scheme_buf[64] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        snprintf(scheme_buf, sizeof scheme_buf, "%s", (const char *)sqlite3_column_text(st, 2));
        json_t *e = json_pack("{s:s, s:{s:s, s:s}}", "code", sqlite3_column_text(st, 0), "name",
                              "de", sqlite3_column_text(st, 3), "en", sqlite3_column_text(st, 4));
        json_array_append_new(strcmp(kind, "field") == 0 ? fields : themes, e);
    }
    db_done(st);
    if (scheme_buf[0])
        scheme = scheme_buf;
    return json_pack("{s:s, s:o, s:o}", "scheme", scheme, "fields_of_action", fields, "themes",
                     themes);
}
