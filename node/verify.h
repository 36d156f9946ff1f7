/* Provenance checks anyone can run: does this signed activity, or this
 * provenance document of the state node (GET /api/v1/provenance/ID, whose
 * `activity` member is the signed activity), carry a valid eddsa-jcs-2022
 * proof by the district it claims to come from?
 *
 * The key is either given (a Multikey "z6Mk…", confirmed out of band) or
 * taken from the state node's registry: the pinned Ed25519 key of the
 * district whose ed_key_id equals the proof's verificationMethod. A top-level
 * "signature" member (a Linked Data signature that Fedify and Mastodon add
 * after the proof was made) is removed before the proof is checked, as
 * Fedify does.
 *
 * Besides the cryptography, a document is only valid when what it says
 * agrees with who signed it: the object's districtCode and the record's
 * district name the signing district, the activity's actor is that
 * district's actor, and a provenance document's record_id and district
 * match the activity inside it. */
#ifndef DINET_VERIFY_H
#define DINET_VERIFY_H

#include "db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { VERIFY_VALID = 0, VERIFY_INVALID = 1, VERIFY_ERROR = -1 };

typedef struct verify_info {
    char district[8];       /* the signing district's code, "" when unknown */
    char district_name[64]; /* its name */
    char key_id[1024];      /* the proof's verificationMethod */
    char fingerprint[80];   /* "SHA256:…" of the key that was used */
    bool pinned;            /* the key came from the state node's registry */
    char reason[512];       /* VERIFY_INVALID / VERIFY_ERROR: why */
} verify_info;

/* The signed activity of doc: doc itself when it has a "proof" member, else
 * its "activity" member (a provenance document) when that is an object;
 * NULL otherwise. The result is borrowed from doc. */
const json_t *verify_signed_part(const json_t *doc);

/* Verifies doc with key (32 bytes) or, when key is NULL, with the pinned
 * key from d's district registry (d may be NULL when a key is given; with a
 * key and d, the registry names the district whose pinned key it is).
 * Returns VERIFY_VALID, VERIFY_INVALID (out->reason says why) or
 * VERIFY_ERROR (no key to verify with, or a storage error). */
int verify_document_info(db *d, const json_t *doc, const unsigned char *key_or_null,
                         verify_info *out);

/* The same with a one-line message: on VERIFY_VALID "signed by district
 * 15003 (Magdeburg), key SHA256:…", otherwise the reason. */
int verify_document(db *d, const json_t *doc, const unsigned char *key_or_null, char *msg,
                    size_t msglen);

/* `dinet verify FILE|URL [--key MULTIBASE] [--data DIR]` (argv without the
 * command name). Prints "valid: …" and returns 0, or "INVALID: …" and
 * returns 1; returns 2 for bad usage or when the document cannot be read
 * or fetched. */
int verify_main(int argc, char **argv);

#endif
