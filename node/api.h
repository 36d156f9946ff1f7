/* The JSON API under /api/v1/ and the node's other routes. */
#ifndef DINET_API_H
#define DINET_API_H

#include "http.h"

/* The route table (terminated by a {NULL} entry). */
extern const http_route api_routes[];

/* Resolves the request's principal from a bearer token or session cookie. */
void api_authenticate(http_req *req);

/* Checks that the request may act with at least role `need`: answers 401
 * without credentials, 403 with a too-weak role, or for an unsafe method on
 * a cookie session without the right X-CSRF-Token. True when allowed. */
bool api_require(http_req *req, http_resp *resp, role need);

/* Parses the body as a JSON object (Content-Type application/json, valid
 * UTF-8); answers 400/415 and returns NULL otherwise. */
json_t *api_body_object(http_req *req, http_resp *resp);

/* Where static resources live (admin-web/, protocol-docs/): $DINET_SHARE,
 * else the source tree this binary was built from, else the install
 * prefix. */
const char *api_share_dir(void);

/* Sets ETag: "VERSION". */
void api_set_etag(http_resp *resp, long long version);
/* If-Match: "3", W/"3" or 3. Returns the version, -1 when absent, -2 when
 * malformed. */
long long api_if_match(http_req *req);

#endif
