/* The inbox: verifies and processes activities POSTed to the node's actor
 * inbox or the shared inbox. It does not know the HTTP server: the caller
 * passes the parsed request and maps the result to a status code.
 *
 * Order of checks, cheapest first: size and JSON shape, block list, HTTP
 * signature (Date window, Digest, then the key, refetched once on failure
 * because it may have been rotated), the signer must be the activity's
 * actor, the FEP-8b32 proof when present, then idempotency by activity id.
 * Every rejection is logged with its reason and counted. */
#ifndef DINET_INBOX_H
#define DINET_INBOX_H

#include "db.h"
#include "fed.h"
#include "httpsig.h"
#include "remote.h"

#include <jansson.h>

#include <stddef.h>

typedef enum inbox_status {
    INBOX_ACCEPTED = 0, /* processed */
    INBOX_DUPLICATE,    /* this activity id was processed before */
    INBOX_IGNORED,      /* valid, but nothing to do (unknown type, unfollowed sender) */
    INBOX_BAD_REQUEST,  /* not an activity */
    INBOX_UNAUTHORIZED, /* signature or proof invalid */
    INBOX_FORBIDDEN,    /* blocked actor or domain */
    INBOX_TOO_LARGE,
    INBOX_ERROR,        /* storage failure: the sender should retry */
} inbox_status;

typedef struct inbox_request {
    const char *method;
    const char *path;
    const char *query;
    httpsig_header_fn header;
    void *header_ud;
    const char *body;
    size_t body_len;
} inbox_request;

typedef struct inbox_result {
    inbox_status status;
    char reason[300];   /* why, for the response and the log */
    char type[32];      /* activity type, when parsed */
    char actor[1024];   /* claimed actor, when parsed */
} inbox_result;

/* Hooks through which a node role changes inbox behaviour (the state
 * aggregator pins its districts' keys and ingests their records). */
typedef struct inbox_hooks {
    /* Fills *out with a pinned actor for this key id and returns 1; 0 when
     * the key is not pinned (normal lookup with fetching); -1 on error. A
     * pinned actor's key is never fetched. */
    int (*pinned)(void *ud, db *d, const char *key_id, remote_actor *out);
    /* Called for every other activity type inside the inbox transaction,
     * after every signature and proof check. Returns 1 when handled (status
     * and reason set), 0 to continue with the generic handling, -1 on a
     * storage error. */
    int (*content)(void *ud, db *d, const json_t *act, const char *type, const remote_actor *who,
                   const char *raw, inbox_status *status, char *reason, size_t reasonlen);
    void *ud;
    /* Position in the chain: hooks run by ascending order until one
     * returns non-zero. Features that handle their own object types (comments,
     * group posts) use small numbers; catch-all role rules use large ones. */
    int order;
    /* Optional, called before any signature is checked, for an activity id
     * not seen before: returns 1 (with reason) when the activity can be
     * ignored whoever sent it, because applying it could change nothing
     * (an older version of a record already held). Nothing about it is
     * stored, so an unverified sender cannot use it to block anything. */
    int (*precheck)(void *ud, db *d, const json_t *act, const char *type, char *reason,
                    size_t reasonlen);
} inbox_hooks;

/* Replaces the whole chain with one set of hooks (NULL removes them all). */
void inbox_set_hooks(const inbox_hooks *h);

/* Adds one set of hooks to the chain; -1 when the chain is full. The content
 * hook is called for every activity type except Follow, Undo, Accept and
 * Reject, so a hook must return 0 for types it does not own. */
int inbox_add_hooks(const inbox_hooks *h);

/* Largest accepted activity (bytes). */
#define INBOX_MAX_BODY (256 * 1024)

/* Verifies and processes one request. Never throws away a valid activity
 * silently: res->reason says what happened. */
inbox_status inbox_receive(db *d, const fed_ctx *ctx, const inbox_request *req, inbox_result *res);

/* Counters of outcomes since start, by reason class, for /metrics:
 * writes "name count" lines into out. */
void inbox_counters(char *out, size_t outlen);

#endif
