/* Node settings editable in admin-web: display name, public contact and the
 * legal texts (Impressum, Datenschutzerklärung, Erklärung zur
 * Barrierefreiheit) per language. Stored as one versioned JSON document in
 * the settings table; the German texts and the e-mail address are mirrored
 * under plain keys (impressum, datenschutz, barrierefreiheit, contact_email)
 * that the public pages read. */
#ifndef DINET_SETTINGS_H
#define DINET_SETTINGS_H

#include "db.h"
#include <jansson.h>

/* The settings document {name, contact, texts, version, updated}; name
 * defaults to default_name. New reference. */
json_t *settings_get(db *d, const char *default_name);

/* Merges patch (top-level members) after checking if_version. Returns 0 and
 * *out; 1 with *errors ([{field, detail}]); 2 when stale (*out = current);
 * -1 on a storage error. */
int settings_update(db *d, const char *default_name, long long if_version, const json_t *patch,
                    json_t **out, json_t **errors);

#endif
