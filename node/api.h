/* The JSON API under /api/v1/ and the node's other routes. */
#ifndef DINET_API_H
#define DINET_API_H

#include "http.h"

/* The route table (terminated by a {NULL} entry). */
extern const http_route api_routes[];

/* Resolves the request's principal from a bearer token or session cookie. */
void api_authenticate(http_req *req);

/* Where static resources live (admin-web/, protocol-docs/): $DINET_SHARE,
 * else the source tree this binary was built from, else the install
 * prefix. */
const char *api_share_dir(void);

#endif
