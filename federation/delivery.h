/* The delivery queue worker: sends queued activities with signed POSTs,
 * many at once over libcurl multi with bounded concurrency per host, and
 * retries what failed for a reason that may pass.
 *
 * Policy:
 *  - 2xx: done.
 *  - 429: retry after Retry-After (at least the base delay).
 *  - other 4xx, a refused address, a response too large: failed for good.
 *  - 5xx, timeouts, connection errors: retry with exponential backoff and
 *    jitter, base delay doubling per attempt up to 6 hours, for up to
 *    7 days after the activity was queued; then failed.
 * The queue is the deliveries table, so it survives restarts. */
#ifndef DINET_DELIVERY_H
#define DINET_DELIVERY_H

#include "db.h"
#include "fed.h"
#include <jansson.h>

/* Sends every due delivery once (in batches). Returns the number of
 * deliveries attempted, or -1 on a storage error. */
int delivery_run_once(db *d, const fed_ctx *ctx);

/* Starts the worker thread with its own connection to db_path. */
int delivery_start(const fed_ctx *ctx, const char *db_path);
/* Wakes the worker (new work queued). Safe from any thread. */
void delivery_wake(void);
/* Stops and joins the worker. */
void delivery_stop(void);

/* Queue health: {"pending":N, "failed":N, "done":N, "next_attempt":ISO|null}. */
json_t *delivery_summary(db *d);
/* Deliveries in a state ("pending", "failed", "done"), newest first. */
json_t *delivery_list(db *d, const char *state, int limit);
/* Puts a failed delivery back in the queue, due now. 0, or -1 if unknown. */
int delivery_retry(db *d, long long id);

/* The first retry delay in milliseconds (default 30 s); tests lower it. */
void delivery_set_retry_base_ms(long ms);

#endif
