/* Events (issue #8 part 5): network meetings and Fachtage of a node, stored
 * in the events table, published as ActivityStreams `Event` (the fields
 * Mobilizon reads: name, startTime, endTime, location as a Place with name
 * and address, content, url) through the node's outbox, replicated by the
 * state node from its registered districts, and served as iCalendar
 * (RFC 5545) at /events.ics and /events/ID.ics. See protocol-docs/federation.md
 * section "Events". */
#ifndef DINET_EVENTS_H
#define DINET_EVENTS_H

#include "db.h"
#include "fed.h"
#include "http.h"
#include "util.h"

#include <jansson.h>

/* Installs the state's inbox hook for districts' events (order 21). */
void events_init(const fed_ctx *ctx);

/* The AS2 Event of an event document (or its Tombstone when deleted). */
json_t *events_as2(const fed_ctx *ctx, const json_t *doc, bool with_context);

/* Appends the iCalendar VEVENT of doc to b (CRLF lines, folded at 75
 * octets, TEXT escaped). */
void events_ics_vevent(buf *b, const json_t *doc);
/* A whole VCALENDAR around the documents in docs (array). */
char *events_ics_calendar(const json_t *docs, const char *calname);

/* The upcoming (end_time >= now) live events, oldest start first, at most
 * limit; with past = true the past ones, newest first. New reference. */
json_t *events_list(db *d, bool past, int limit);
/* The stored document of one event (tombstone too), or NULL. */
json_t *events_get(db *d, const char *id);

/* Portal pages (node/portal_events.c). */
void portal_events_page(http_req *req, http_resp *resp);
void portal_event_page(http_req *req, http_resp *resp, const json_t *doc);

/* Routes: /api/v1/events…, /events, /events.ics, /events/ID[.ics]. */
extern const http_route events_routes[];

#endif
