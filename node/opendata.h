/* Open data at /opendata/: the node's public records as files for anyone
 * to download and reuse, described by a DCAT-AP.de catalog.
 *
 *   /opendata/                 an HTML index (German) of the datasets and files
 *   /opendata/measures.csv     measures            (also .json)
 *   /opendata/progress.csv     progress entries    (also .json)
 *   /opendata/indicators.csv   one row per indicator value (also .json)
 *   /opendata/organisations.csv organisations      (also .json)
 *   /opendata/catalog.jsonld   DCAT-AP.de catalog (JSON-LD)
 *
 * CSV files are UTF-8 without a BOM, RFC 4180: comma separated, CRLF line
 * ends, a header row, fields quoted when they contain a comma, quote, CR or
 * LF, quotes doubled. List values (fields of action, themes, …) are joined
 * with ';'. The JSON files carry the same records losslessly: the documents
 * the API serves, each with `district` and `home_url` (for a district node's
 * own records its code and the record's URL). Deleted records are left out;
 * of an organisation's contact the person's name is left out (personal data
 * has no place in open data), e-mail and phone stay.
 *
 * Every response has an ETag (a change stamp of the data: the last history
 * row, the file and the node's settings) and Last-Modified; If-None-Match
 * and If-Modified-Since answer 304. Rendered files are kept in memory per
 * ETag, so repeated downloads cost no queries beyond the stamp. */
#ifndef DINET_OPENDATA_H
#define DINET_OPENDATA_H

#include "config.h"
#include "db.h"
#include "http.h"
#include "util.h"

/* Datenlizenz Deutschland – Namensnennung – Version 2.0. */
#define OPENDATA_DEFAULT_LICENSE "http://dcat-ap.de/def/licenses/dl-by-de/2.0"

/* Sets the licence URI stated for every dataset and distribution (once, at
 * start, before serving). NULL or "" restores the default: the environment
 * variable DINET_OPENDATA_LICENSE when it holds an http(s) URI, else
 * OPENDATA_DEFAULT_LICENSE. Returns 0, or -1 (and keeps the default) when
 * uri is not an http(s) URI without spaces or quotes. */
int opendata_set_license(const char *uri);
/* The licence URI in force. */
const char *opendata_license(void);

/* Renders one open-data file ("measures.csv", "catalog.jsonld", "" for the
 * index page, …) for the node described by cfg into out, from one read
 * snapshot. Returns 0, -1 for an unknown name, -2 on a storage error. */
int opendata_render(db *d, const config *cfg, const char *name, buf *out);

/* Routes for /opendata and /opendata/… (terminated by {NULL}). */
extern const http_route opendata_routes[];

#endif
