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
/* The running node's federation context (after ap_init). */
const fed_ctx *ap_ctx(void);

/* Routes handled here (terminated by {NULL}). */
extern const http_route ap_routes[];

#endif
