/* The LIK taxonomy (fields of action HF1-HF7, cross-cutting themes QT1-QT3),
 * read from the database where it is seeded as versioned data. */
#ifndef DINET_TAXONOMY_H
#define DINET_TAXONOMY_H

#include "db.h"
#include <jansson.h>
#include <stdbool.h>

/* True when code is an active taxonomy entry of the given kind ("field" or
 * "theme"). */
bool taxonomy_valid(db *d, const char *kind, const char *code);
/* The whole taxonomy as {"scheme":…, "fields_of_action":[…], "themes":[…]};
 * new reference, NULL on a database error. */
json_t *taxonomy_json(db *d);

#endif
