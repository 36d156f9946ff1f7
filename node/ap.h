/* ActivityPub on the node: the federation context of the running node, the
 * record publish hook that feeds the outbox, and the HTTP routes for actors,
 * WebFinger, NodeInfo, collections, record URLs with content negotiation,
 * the inboxes and the federation admin API. */
#ifndef DINET_AP_H
#define DINET_AP_H

#include "config.h"
#include "fed.h"
#include "http.h"

/* Loads the node's keys and installs the publish hook so that every record
 * change is published. Returns 0 or -1 with err. */
int ap_init(const config *cfg, char *err, size_t errlen);
void ap_shutdown(void);

/* Starts / stops the delivery worker of a serving node. */
int ap_start_delivery(const char *db_path);
void ap_stop_delivery(void);

/* Follows a remote actor given by URL or acct:name@host: resolves it,
 * records the pending follow and queues a signed Follow. Returns 0 and the
 * actor id in actor_out, or -1 with err. */
int ap_follow(db *d, const char *target, char *actor_out, size_t actor_len, char *err,
              size_t errlen);
/* The running node's federation context (after ap_init). */
const fed_ctx *ap_ctx(void);

/* Undoes our Follow of a remote actor (queues an Undo to its inbox and
 * forgets the follow), so that it stops delivering to us. 0 when we do not
 * follow it. */
int ap_unfollow(db *d, const char *actor_id, char *err, size_t errlen);

/* Like ap_follow for an actor URL whose keys were just pinned: the Follow is
 * queued without fetching the actor again. */
int ap_follow_registered(db *d, const char *actor_url, char *actor_out, size_t actor_len,
                         char *err, size_t errlen);

/* Rotates the node's keys: the Update of the actor carrying the new keys is
 * signed (HTTP signature and proof) with the old keys and queued for every
 * follower, then the new keys take over. */
int ap_rotate_keys(db *d, const config *cfg, char *err, size_t errlen);

/* Routes handled here (terminated by {NULL}). */
extern const http_route ap_routes[];

#endif
