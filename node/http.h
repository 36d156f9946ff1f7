/* The HTTP layer over libmicrohttpd: a thread pool, request bodies collected
 * up to the configured limit, a route table, and response helpers including
 * RFC 9457 problem documents. HTTP status codes live here and in handlers,
 * never below. */
#ifndef DINET_HTTP_H
#define DINET_HTTP_H

#include "account.h"
#include "config.h"
#include "db.h"
#include "util.h"

#include <jansson.h>
#include <stdbool.h>

struct MHD_Connection;

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 12

typedef struct http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;   /* without the query string, percent-decoded */
    const char *target; /* the request target as sent: path?query */
    char *body;       /* NUL-terminated; NULL when there was none */
    size_t body_len;
    bool too_large;
    char client[64];  /* client address, for throttling only (never logged) */
    const char *params[HTTP_MAX_PARAMS]; /* path segments matched by '*' */
    db *db;
    const config *cfg;
    principal who;
    bool authed;
    char session_token[65]; /* raw cookie value when a session was found */
} http_req;

typedef struct http_resp {
    int status;
    const char *ctype;
    buf body;
    char *hname[HTTP_MAX_HEADERS], *hvalue[HTTP_MAX_HEADERS];
    int nheaders;
    char file[1024]; /* when set, the body is this file's content */
    /* When set, the body is this shared buffer; ext_free(ext_cls) runs
     * once the response is sent. */
    const char *ext;
    size_t ext_len;
    void (*ext_free)(void *);
    void *ext_cls;
} http_resp;

typedef void (*http_handler)(http_req *req, http_resp *resp);

typedef struct http_route {
    const char *method;  /* "GET", … */
    const char *pattern; /* "/api/v1/measures/ *" ('*' = one segment; a final '**' = the
                            rest of the path, one or more segments) */
    http_handler fn;
} http_route;

/* Request accessors. Header names are case-insensitive. */
const char *http_header(const http_req *r, const char *name);
const char *http_query(const http_req *r, const char *name);
const char *http_cookie(const http_req *r, const char *name);

/* Response helpers. http_json takes ownership of j. */
void http_set_header(http_resp *r, const char *name, const char *value);
void http_json(http_resp *r, int status, json_t *j);
void http_text(http_resp *r, int status, const char *ctype, const char *text);
/* A problem document: slug names the problem type (served under
 * /problems/SLUG in protocol-docs), errors is [{field, detail}] or NULL and
 * is taken over. When field is non-NULL it is added as a one-entry errors
 * list. */
void http_problem(http_resp *r, int status, const char *slug, const char *title,
                  const char *detail, const char *field, json_t *errors);

/* Runs the server until SIGTERM or SIGINT. Prints "listening on
 * http://HOST:PORT" on stdout once bound (tests read the port from it).
 * `authenticate` is called for each request before routing. Returns 0 on a
 * clean stop. */
typedef struct http_server_opts {
    const config *cfg;
    const http_route *const *routes; /* NULL-terminated list of route tables */
    void (*authenticate)(http_req *req);
    void (*on_start)(void); /* after binding, before serving (may be NULL) */
    void (*on_stop)(void);  /* after the listener closed (may be NULL) */
} http_server_opts;

int http_serve(const http_server_opts *opts);

#endif
