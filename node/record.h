/* Public records: organisations, measures and progress entries.
 *
 * This is the one write path for them. Each create, update and delete
 * validates the input, renders the JSON document that readers get, bumps the
 * version, keeps the change history, updates the search index and calls the
 * publish hook, all in one BEGIN IMMEDIATE transaction: nothing is published
 * that was not stored, and nothing stored is left unpublished.
 *
 * Errors are returned as rec_status codes; HTTP status codes belong to the
 * API handlers. */
#ifndef DINET_RECORD_H
#define DINET_RECORD_H

#include "db.h"
#include "util.h"
#include <jansson.h>

typedef enum rec_kind { REC_ORGANISATION, REC_MEASURE, REC_PROGRESS } rec_kind;

typedef enum rec_status {
    REC_OK = 0,
    REC_INVALID,   /* validation failed; errors holds [{field, detail}] */
    REC_NOT_FOUND, /* no such record (or its parent) */
    REC_GONE,      /* the record was deleted */
    REC_STALE,     /* If-Match version differs from the stored one */
    REC_FOREIGN,   /* a replicated record: only its home district changes it */
    REC_ERROR,     /* storage failure */
} rec_status;

/* Name used in the API and database ("organisation", "measure", "progress"). */
const char *record_kind_name(rec_kind k);

/* Sets the public origin used to build record URLs (once, at start). */
void record_set_base_url(const char *base_url);
/* Sets this node's district code, used to tag local records (once). */
void record_set_district(const char *code);

/* The district code a record id carries ("m-15085-…" gives "15085" in code),
 * or NULL for an id without one. */
const char *record_id_district(const char *id, char *code, size_t codelen);

/* Called inside the write transaction after every change, with the kind, the
 * operation ("create", "update", "delete") and the new document (a tombstone
 * for delete). Returning nonzero aborts the transaction. Federation installs
 * this to append to the outbox. */
typedef int (*record_publish_fn)(db *d, rec_kind kind, const char *op, const json_t *doc,
                                 void *ud);
void record_set_publish_hook(record_publish_fn fn, void *ud);

/* Creates a record from `input` (a JSON object). For REC_PROGRESS, parent_id
 * names the measure. `actor` is who is writing ("user:NAME", "token:NAME").
 * On REC_OK *out gets the stored document (new reference). On REC_INVALID
 * *errors gets an array of {field, detail} (new reference). */
rec_status record_create(db *d, rec_kind kind, const char *parent_id, json_t *input,
                         const char *actor, json_t **out, json_t **errors);

/* Applies a partial update (JSON merge of top-level fields). if_version must
 * equal the stored version, otherwise REC_STALE and *out gets the stored
 * document so the caller can show both. */
rec_status record_update(db *d, rec_kind kind, const char *id, long long if_version,
                         json_t *patch, const char *actor, json_t **out, json_t **errors);

/* Soft-deletes: the row stays as a tombstone. if_version < 0 skips the
 * version check. */
rec_status record_delete(db *d, rec_kind kind, const char *id, long long if_version,
                         const char *actor, json_t **out);

/* Fetches one record's document. A deleted record gives REC_GONE and its
 * tombstone in *out. */
rec_status record_get(db *d, rec_kind kind, const char *id, json_t **out);

/* Fetches the stored document text without parsing (for fast reads). On
 * REC_OK or REC_GONE, *doc is malloc'd and *version set. */
rec_status record_get_raw(db *d, rec_kind kind, const char *id, char **doc, long long *version);

/* List filters. Multi-valued filters hold comma-separated values: a record
 * matches when it has any of them. Empty strings mean "no filter". */
typedef struct record_filter {
    const char *fields_of_action;
    const char *themes;
    const char *status;
    const char *organisation;
    const char *org_kind;
    const char *language;
    const char *parent; /* progress entries of one measure */
    const char *q;      /* full-text search */
    const char *district;  /* district codes (comma list) */
    const char *date_from; /* records active on or after this date */
    const char *date_to;   /* records active on or before this date */
    long long cursor;   /* list items with seq below this; 0 = from the newest */
    int limit;          /* 1..200 */
} record_filter;

/* Writes {"items":[…],"total":N,"limit":L,"next_cursor":C|null} to out.
 * Returns REC_OK, REC_INVALID (bad filter value; *errors set) or REC_ERROR. */
rec_status record_list(db *d, rec_kind kind, const record_filter *f, buf *out, json_t **errors);

/* Stores a record replicated from a district (state aggregator). rec is the
 * record document as the district's API serves it, or its tombstone;
 * district is the sender's code; activity is the signed activity it came
 * in, kept as provenance. Versions only move forward: an equal or older
 * version gives REC_STALE and changes nothing. A record id held by another
 * district, or a malformed record, gives REC_INVALID with *why set. */
rec_status record_replicate(db *d, const json_t *rec, const char *district,
                            const char *activity_id, const char *activity, const char **why);

/* The change history of a record: [{version, at, actor, op, changes}] in
 * order. REC_NOT_FOUND when the record never existed. */
rec_status record_history(db *d, const char *id, json_t **out);

#endif
