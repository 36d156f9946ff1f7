/* The outbox: every activity the node publishes, stored in order in the same
 * transaction as the change it announces, and fanned out to the delivery
 * queue (one row per distinct inbox, shared inboxes preferred). */
#ifndef DINET_OUTBOX_H
#define DINET_OUTBOX_H

#include "db.h"
#include "fed.h"
#include <jansson.h>

/* Publishes a record change: op is "create", "update" or "delete"; doc is
 * the record document (a tombstone for delete). Must run inside the caller's
 * write transaction. Returns 0, or -1 (the caller rolls back). */
int outbox_publish_record(db *d, const fed_ctx *ctx, const char *op, const json_t *doc);

/* Appends a signed activity (already built by ctx's actor) to that actor's
 * outbox and queues it for the actor's accepted followers. Inside the
 * caller's transaction. */
int outbox_append(db *d, const fed_ctx *ctx, const json_t *activity);

/* Queues one activity of the local actor `local` ("" = the node) for one
 * inbox (Accept, Follow, Undo …). Inside or outside a transaction. */
int outbox_enqueue(db *d, const char *local, const char *activity_id, const char *activity_json,
                   const char *inbox);

/* The outbox as an OrderedCollection (page == 0) or one page:
 *  - newest first, starting below max_seq (0 = from the newest);
 *  - or, when after_seq >= 0, oldest first from just after after_seq
 *    (backfill: resume after a known item; 0 = from the beginning).
 * latest (only with after_seq >= 0): leave out a Create or Update when a
 * later Create, Update or Delete of the same object follows, so a follower
 * catching up reads each object's newest state once. Updates of the actor
 * itself (key rotations) are never left out: each is signed by the key
 * before it.
 * Returns a new reference. */
json_t *outbox_collection(db *d, const fed_ctx *ctx, bool page, long long max_seq,
                          long long after_seq, int limit, bool latest);

/* The outbox sequence number of an activity id, or 0. */
long long outbox_seq_of(db *d, const char *activity_id);

/* The latest activity about an object (malloc'd JSON), or NULL. */
char *outbox_latest_for(db *d, const char *object_id);

/* The stored activity JSON for an id (malloc'd), or NULL. */
char *outbox_activity(db *d, const char *activity_id);

/* Called after activities were queued, so the delivery worker wakes. */
void outbox_set_wake(void (*wake)(void));

#endif
