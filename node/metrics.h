/* Prometheus metrics at GET /metrics (text exposition format 0.0.4).
 *
 * What is exported:
 *  - dinet_http_requests_total{route,method,status} and the histogram
 *    dinet_http_request_duration_seconds{route,method}: one series per route
 *    PATTERN (never the path, so record ids and queries do not become labels);
 *    requests that matched no route count as route="unmatched";
 *  - dinet_inbox_accepted_total{outcome} / dinet_inbox_rejected_total{reason}
 *    (inbox_counters, since the start of the process);
 *  - dinet_delivery_queue_depth, dinet_deliveries{state} (delivery_summary);
 *  - on the state node, per district: dinet_district_sync_lag_seconds,
 *    dinet_district_records, dinet_district_accepted_total,
 *    dinet_district_rejected_total, dinet_district_error,
 *    dinet_district_key_change_pending (agg_district_list);
 *  - dinet_database_size_bytes (page_count * page_size), the WAL's size;
 *  - dinet_build_info and the usual process_* metrics (RSS, CPU, fds, start).
 *
 * Access: from the local host (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) when
 * the request was not forwarded by a proxy, or from anywhere with
 * "Authorization: Bearer TOKEN" where TOKEN is the metrics token
 * (environment variable DINET_METRICS_TOKEN). A request that carries
 * X-Forwarded-For, X-Real-IP or Forwarded counts as forwarded: behind a
 * reverse proxy on the same host every request comes from 127.0.0.1, so the
 * local-host rule alone would open /metrics to the internet. */
#ifndef DINET_METRICS_H
#define DINET_METRICS_H

#include "config.h"
#include "db.h"
#include "http.h"
#include "util.h"

#include <stdbool.h>

/* Records one handled request. route_pattern is the matched route's pattern
 * (NULL when no route matched), method the request method, status the
 * response status, seconds the handling time. Lock-free after the first
 * request of a (route, method) pair; safe from every server thread. */
void metrics_observe(const char *route_pattern, const char *method, int status, double seconds);

/* A monotonic clock in seconds, for timing a request:
 *   double t0 = metrics_now(); ...; metrics_observe(..., metrics_now() - t0); */
double metrics_now(void);

/* The access rule. client: the peer address as text (inet_ntop); forwarded:
 * the request carries a proxy header; authorization: the Authorization
 * header or NULL; token: the configured metrics token, NULL or "" when none
 * (then only the local host has access). The token is compared in constant
 * time. */
bool metrics_access_allowed(const char *client, bool forwarded, const char *authorization,
                            const char *token);

/* True when the text address is a loopback address (127.0.0.0/8, ::1, or
 * IPv4-mapped 127.0.0.0/8). */
bool metrics_is_loopback(const char *client);

/* The metrics token in effect: DINET_METRICS_TOKEN, or NULL. */
const char *metrics_token(const config *cfg);

/* Appends the whole exposition to out. d may be NULL (then the database
 * metrics are left out). */
void metrics_render(db *d, const config *cfg, buf *out);

/* GET /metrics. */
extern const http_route metrics_routes[];

#endif
