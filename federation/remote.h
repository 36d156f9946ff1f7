/* Remote actors: signed fetches of ActivityPub documents, and a cache of
 * actors with their keys, on disk (remote_actors) and in memory (parsed RSA
 * keys, because parsing a PEM costs far more than verifying a signature). */
#ifndef DINET_REMOTE_H
#define DINET_REMOTE_H

#include "db.h"
#include "fed.h"
#include "net.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>

#define REMOTE_URL 1024
#define REMOTE_MAX_ED 4

typedef struct remote_actor {
    char id[REMOTE_URL];
    char inbox[REMOTE_URL];
    char shared_inbox[REMOTE_URL]; /* "" when none */
    char key_id[REMOTE_URL];
    EVP_PKEY *rsa;                 /* a reference the holder must free */
    int ned;
    char ed_id[REMOTE_MAX_ED][REMOTE_URL]; /* assertionMethod Multikey ids */
    unsigned char ed_pk[REMOTE_MAX_ED][32];
} remote_actor;

/* Sets the outbound policy used for all fetches (once, at start). */
void remote_init(const net_policy *policy);
const net_policy *remote_policy(void);

/* GETs url with an HTTP signature by our instance actor and Accept:
 * application/activity+json, and parses the JSON body. Returns 0 with *out
 * (new reference), or -1 with err. */
int remote_fetch(const fed_ctx *ctx, const char *url, json_t **out, char *err, size_t errlen);

/* Finds the actor for an actor URL or a key id (URL#fragment, or a key
 * document with an owner). Uses the cache unless refresh is set or the
 * entry is older than a day; fetches otherwise and updates both caches.
 * Returns 0 and fills *out (release with remote_actor_free), or -1. */
int remote_actor_get(db *d, const fed_ctx *ctx, const char *id_or_key, bool refresh,
                     remote_actor *out, char *err, size_t errlen);
void remote_actor_free(remote_actor *a);

/* Parses an actor document into *out (no I/O). Returns 0 or -1 with err. */
int remote_actor_parse(const json_t *doc, remote_actor *out, char *err, size_t errlen);

/* Resolves acct:user@host (or user@host) by WebFinger to an actor URL
 * (https, or http when the host is on the private allowlist, for tests and
 * closed networks). Returns 0 and writes url. */
int remote_webfinger(const fed_ctx *ctx, const char *acct, char *url, size_t urllen, char *err,
                     size_t errlen);

/* Drops every in-memory key (at shutdown, and in tests). */
void remote_cache_clear(void);

#endif
