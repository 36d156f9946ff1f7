/* The coordinators' channel (issue #8 part 4): the state's Group actors
 * (one per field of action and theme, BASE/groups/CODE) take posts from
 * registered districts that are members and from the state's own accounts,
 * and announce them to their members (FEP-1b12). District nodes join groups
 * by following them, post as their Organization actor and keep what their
 * groups announce. See protocol-docs/channel.md. */
#ifndef DINET_CHANNEL_H
#define DINET_CHANNEL_H

#include "db.h"
#include "fed.h"
#include "http.h"

/* Installs the inbox hook (order 20, both roles). */
void channel_init(const fed_ctx *ctx);

/* District: joins the group at group_url (a state's BASE/groups/CODE):
 * fetches it, remembers it and follows it. code gets the group's code.
 * Returns 0, or -1 with err. */
int channel_join(db *d, const char *group_url, char *code, size_t codelen, char *err,
                 size_t errlen);

/* Routes under /api/v1/channel and /channel/posts/ID (terminated by {NULL}). */
extern const http_route channel_routes[];

#endif
