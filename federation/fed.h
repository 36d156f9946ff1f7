/* The federation context: the node's ActivityPub identity (actor URLs, key
 * ids) and its keys, shared by the AS2 mapping, outbox, inbox and delivery.
 *
 * URL layout of a node (BASE = the configured base_url):
 *   BASE/actor                the node's Organization actor
 *   BASE/actor/inbox|outbox|followers|following
 *   BASE/inbox                shared inbox
 *   BASE/instance             the Service actor that signs fetches
 *   BASE/ns/v1                the JSON-LD extension context
 *   BASE/measures/ID, BASE/organisations/ID, BASE/progress/ID   records
 *   BASE/activities/ID        activities */
#ifndef DINET_FED_H
#define DINET_FED_H

#include "config.h"
#include "keys.h"

#include <stdbool.h>
#include <stddef.h>

#define FED_URL 700

typedef struct fed_ctx {
    const config *cfg;
    fed_keys keys;
    char *rsa_public_pem;  /* SPKI PEM of the RSA key */
    char *ed_multibase;    /* Multikey "z6Mk…" of the Ed25519 key */
    char host[512];        /* authority part of base_url ("host:port") */
    char actor[FED_URL], key_id[FED_URL], assertion_id[FED_URL];
    char inbox[FED_URL], outbox[FED_URL], followers[FED_URL], following[FED_URL];
    char shared_inbox[FED_URL], instance[FED_URL], instance_key_id[FED_URL];
    char context_url[FED_URL];
    char local[16]; /* "" for the node's actor, else the Group's code ("HF1") */
    bool view;      /* a Group view sharing the node's keys: not freed */
} fed_ctx;

/* Loads the keys from DATA/keys and derives the URLs from cfg (which must
 * outlive ctx). Returns 0, or -1 with err. */
int fed_ctx_init(fed_ctx *ctx, const config *cfg, char *err, size_t errlen);
void fed_ctx_free(fed_ctx *ctx);

/* Fills *out as the view of the Group actor BASE/groups/CODE: same keys,
 * its own actor, key and collection URLs. */
void fed_ctx_group(const fed_ctx *base, const char *code, fed_ctx *out);
/* The view for a local actor key ("" = the node itself). */
void fed_ctx_local(const fed_ctx *base, const char *local, fed_ctx *out);

/* The directory holding the node's keys: DATA/keys. */
void fed_keys_dir(const config *cfg, char *out, size_t outlen);

#endif
