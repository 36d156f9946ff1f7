/* The state aggregator: the registry of trusted districts with their
 * pinned keys, ingestion of what they sign, backfill from their outboxes,
 * reconciliation by summaries, and the statewide figures.
 *
 * Ingestion rules for a Create/Update/Delete from a district (all must
 * hold, else it is rejected with the reason logged and counted):
 *   - the sender is a registered district;
 *   - its HTTP signature and its eddsa-jcs-2022 proof verify with that
 *     district's pinned keys (never fetched again);
 *   - the record's district code and URL belong to the sender;
 *   - its version is higher than the stored one (older or equal versions
 *     are ignored without error).
 * The signed activity is kept beside the parsed record. */
#ifndef DINET_AGGREGATE_H
#define DINET_AGGREGATE_H

#include "db.h"
#include "fed.h"
#include "http.h"
#include <jansson.h>

/* Installs the inbox hooks (state role). */
void agg_init(const fed_ctx *ctx);

/* Registers a district: fetches its actor, pins its RSA and Ed25519 keys,
 * follows it and backfills. fingerprints gets "RSA SHA256:… / Ed25519
 * SHA256:…" for confirmation out of band. Returns 0 or -1 with err. */
int agg_district_add(db *d, const char *code, const char *actor_url, char *fingerprints,
                     size_t fplen, char *err, size_t errlen);
int agg_district_remove(db *d, const char *code);
/* Pins the keys of a district's changed actor that the sync found and held
 * for confirmation. Returns 0 with the new fingerprints, or -1 with err. */
int agg_confirm_keys(db *d, const char *code, char *fps, size_t fplen, char *err, size_t errlen);
/* [{code, name, actor, fingerprints, last_contact, last_sync, lag_seconds,
 *   last_error, accepted, rejected, records, in_sync}] */
json_t *agg_district_list(db *d);

/* Brings one district (or all, code NULL) up to date: backfills from its
 * outbox after the last activity seen, then compares summaries and replays
 * the whole outbox when they still differ. Returns the number of activities
 * ingested, or -1. */
int agg_sync(db *d, const char *code);

/* Starts/stops the background sync (at start, then every interval_s). */
int agg_start(const char *db_path, long interval_s);
void agg_stop(void);

/* The summary of one district's records (this node's own on a district
 * node): {district, count, hash[, records]}. hash is SHA-256 over the lines
 * "ID VERSION\n" of all its records, tombstones included, sorted by id. */
json_t *agg_summary(db *d, const char *code, bool detail);

/* Statewide figures (any node; a district node covers itself). */
json_t *agg_stats(db *d);
/* The latest progress entries across districts. */
json_t *agg_timeline(db *d, int limit);

/* Checks a record's provenance: the kept activity and whether its proof
 * verifies with the district's pinned key now. NULL when unknown. */
json_t *agg_provenance(db *d, const char *record_id);

/* A handler for a district's activities about objects that are not records
 * (events): called by ingestion, live and in the outbox backfill, after the
 * proof and actor checks. Returns 1 when handled (status and reason set),
 * 0 when the object is not its own, -1 on a storage error. */
typedef int (*agg_object_fn)(db *d, const char *actor, const json_t *act, const char *raw,
                             int *status, char *reason, size_t rlen);
void agg_set_object_handler(agg_object_fn fn);

/* Routes for /api/v1/districts, /api/v1/summary, /api/v1/stats, … */
extern const http_route agg_routes[];

#endif
