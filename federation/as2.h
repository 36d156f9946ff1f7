/* The ActivityStreams 2.0 mapping of the node's identity and records; see
 * protocol-docs/federation.md for the rationale of each type:
 *   measure       → Article (Mastodon shows title, summary and link)
 *   organisation  → Profile describing an Organization (not an actor)
 *   progress      → Note replying to its measure's Article (a thread)
 *   deleted       → Tombstone
 * Domain data travels verbatim as the JSON literal `record` in the dinet
 * extension context, so no field is lost in translation. */
#ifndef DINET_AS2_H
#define DINET_AS2_H

#include "fed.h"
#include <jansson.h>
#include <stdbool.h>

#define AS2_PUBLIC "https://www.w3.org/ns/activitystreams#Public"
#define AS2_NS "tag:dinet.sachsen-anhalt.de,2026:ns#"

/* The @context used for records and activities (new reference). */
json_t *as2_context(void);
/* The extension context document served at BASE/ns/v1. */
json_t *as2_context_document(void);

/* The node's actor document (instance = the Service actor). */
json_t *as2_actor(const fed_ctx *ctx, bool instance);
/* WebFinger JRD for acct:handle@host, or NULL when resource is not ours. */
json_t *as2_webfinger(const fed_ctx *ctx, const char *resource);
/* NodeInfo: the /.well-known/nodeinfo links and the 2.0/2.1 document. */
json_t *as2_nodeinfo_links(const fed_ctx *ctx);
json_t *as2_nodeinfo(const fed_ctx *ctx, const char *version, long users, long posts);

/* Maps a record document (as the API serves it, or a tombstone) to its AS2
 * object; with_context adds @context for standalone serving. */
json_t *as2_object(const fed_ctx *ctx, const json_t *doc, bool with_context);

/* Wraps object (stolen) into an activity of type by our actor with a fresh
 * id, addressed to the public and our followers, and signs it with an
 * eddsa-jcs-2022 proof. Returns NULL on failure. */
json_t *as2_activity(const fed_ctx *ctx, const char *type, json_t *object);

/* A public Announce of an object by its URL, signed by ctx's actor. Its
 * @context has no dinet terms (it uses none): the embedded proof repeats
 * the context, and the state signs 1 + fields + themes of these for every
 * replicated measure, so this makes each about a third smaller. */
json_t *as2_announce(const fed_ctx *ctx, const char *object_id);

/* Like as2_activity, but addressed to one actor only (Follow, Accept,
 * Reject, Undo). object may be a string id or an object (stolen). */
json_t *as2_direct_activity(const fed_ctx *ctx, const char *type, json_t *object,
                            const char *to_actor);

/* Escapes text for HTML element content into a new string; paragraphs are
 * separated by blank lines. */
char *as2_html_paragraphs(const char *text);

#endif
