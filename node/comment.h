/* Moderated public discussion on measures and progress entries
 * (protocol-docs/discussion.md).
 *
 * - Comments by local participants (self-registered, approved accounts) and
 *   staff, pre- or post-moderated by the node's moderation settings, with
 *   reports and automatic hiding after N reports.
 * - Federation out: an approved comment is published by the node's actor as
 *   an AS2 Note (Create/Update/Delete in the same transaction as the change).
 * - Federation in (district): a Create{Note} replying to one of this node's
 *   measures, progress entries or comments becomes a comment of its remote
 *   author; Update/Delete by the same actor edit or delete it; a Flag counts
 *   as a report.
 * - The state node replicates the approved comments its registered districts
 *   publish (and removes them when a district deletes them). */
#ifndef DINET_COMMENT_H
#define DINET_COMMENT_H

#include "db.h"
#include "fed.h"
#include "http.h"
#include "inbox.h"

#include <jansson.h>
#include <stdbool.h>

/* Installs the inbox hook (order 10) and remembers the node's federation
 * context for publishing. Call once at server start, after ap_init. */
void comment_init(const fed_ctx *ctx);

/* Handles a registered district's activity about a comment (state node):
 * a Create/Update of a Note with a dinet `comment`, or a Delete of a stored
 * comment. Inside the caller's transaction. Returns 1 when it was about a
 * comment (status and reason set), 0 when not, -1 on a storage error. Used
 * by the inbox hook and by the aggregator's backfill. */
int comment_from_district(db *d, const char *code, const char *district_actor,
                          const json_t *act, const char *raw, inbox_status *status, char *reason,
                          size_t rlen);

/* The public thread of a measure or progress entry: approved comments and
 * placeholders for hidden ones, oldest first (new reference; [] when none). */
json_t *comment_thread(db *d, const char *target_kind, const char *target_id);

/* Routes under /api/v1/ (register, registrations, comments, moderation, me)
 * and GET /comments/{id}. */
extern const http_route comment_routes[];

/* Converts (untrusted) HTML to plain text: tags removed, <br> and paragraph
 * ends become line breaks, character references decoded. malloc'd. */
char *comment_html_to_text(const char *html);

#endif
