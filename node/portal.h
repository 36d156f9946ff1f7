/* The public portal: server-rendered HTML pages for citizens, press and the
 * ministry, read from SQLite. A district node shows its district; the state
 * node shows the statewide portal.
 *
 *   /                         start page (statewide map and figures, or the
 *                             district's overview)
 *   /suche                    measures with filters and full-text search
 *   /handlungsfelder[/HFn]    fields of action; /querschnittsthemen[/QTn]
 *   /kreise[/CODE]            districts: profile, measures, sync state
 *   /akteure                  organisation directory
 *   /bericht                  printable implementation report (A4)
 *   /feeds/…atom              Atom feeds; /sitemap.xml; /robots.txt
 *   /impressum, /datenschutz, /barrierefreiheit
 *   /assets/portal.css|js     the only style sheet and script
 *
 * The record URLs (/measures/ID, /organisations/ID, /progress/ID) belong to
 * ap.c, which negotiates ActivityStreams and calls portal_record_page for
 * browsers.
 *
 * Pages are complete without JavaScript; the script only enhances them
 * (live filters, high-contrast switch, print button). Every page is German
 * by default and English with ?lang=en; strings live in one message table.
 * No page refers to another origin except outbound links. */
#ifndef DINET_PORTAL_H
#define DINET_PORTAL_H

#include "http.h"
#include "record.h"

#include <jansson.h>
#include <stdbool.h>

/* The portal's routes (terminated by {NULL}). Put this table before
 * api_routes so that its "/" replaces the placeholder start page. */
extern const http_route portal_routes[];
/* /netiquette (portal_discussion.c). */
extern const http_route portal_discussion_routes[];

/* Renders the HTML page of one record: doc is the stored document (or its
 * tombstone when gone). Sets status 200 (410 when gone), the content type
 * and Vary: Accept. */
void portal_record_page(http_req *req, http_resp *resp, rec_kind kind, const json_t *doc,
                        bool gone);

/* Loads the operator's district boundaries (config key map_geojson) for the
 * start page's map; "" keeps the schematic tile map. Call before serving.
 * Returns -1 with err naming the file and the problem. */
int pt_map_load(const char *path, char *err, size_t errlen);

/* A 404 page in the portal's frame, for browsers asking for a record that
 * does not exist (optional: ap.c answers with a problem document otherwise). */
void portal_not_found(http_req *req, http_resp *resp);

#endif
