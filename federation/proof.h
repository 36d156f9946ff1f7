/* FEP-8b32 object integrity proofs: W3C Data Integrity `eddsa-jcs-2022`.
 *
 * A proof travels inside the object it signs, so a record stays verifiable
 * after an aggregator stores and republishes it. The algorithm (W3C vc-di-eddsa,
 * section 3.3):
 *
 *   proofConfig = the proof without proofValue; on signing, "@context" is the
 *                 document's @context when the document has one
 *   hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
 *   proofValue  = 'z' + base58btc(Ed25519 signature over hashData)
 *
 * Verification follows the W3C text: when the proof carries an @context, the
 * document's @context must start with those values and the document is hashed
 * with the proof's @context. A proof without @context (Fedify embeds it that
 * way and rebuilds the configuration with the document's @context) is checked
 * with the document's @context added to the configuration, then without it.
 *
 * Thread-safe: no global state. */
#ifndef DINET_PROOF_H
#define DINET_PROOF_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#define PROOF_TYPE "DataIntegrityProof"
#define PROOF_CRYPTOSUITE "eddsa-jcs-2022"

/* Results of proof_verify(): 0 means valid, anything else is a failure.
 * PROOF_NONE lets an inbox fall back to the HTTP signature when a sender does
 * not use proofs, while PROOF_INVALID and PROOF_MISMATCH mean a proof was
 * present and is bad, which should be rejected outright. */
enum proof_status {
    PROOF_OK = 0,
    PROOF_NONE = 1,     /* no "proof" member, or none with our cryptosuite */
    PROOF_INVALID = 2,  /* malformed or unsupported proof, bad proofValue,
                           @context mismatch, document not canonicalisable */
    PROOF_MISMATCH = 3, /* well-formed, but the signature does not verify */
};

/* Signs doc in place: adds "proof" = {type, cryptosuite, verificationMethod,
 * proofPurpose, created, @context (copy of the document's, when present),
 * proofValue}.
 *
 * sk is a libsodium Ed25519 secret key (seed || public key, 64 bytes).
 * verification_method is the key's id (e.g. "https://host/actor#ed25519-key"),
 * required. purpose NULL means "assertionMethod". created is the signing time
 * written as UTC without fractional seconds ("2026-11-25T18:15:00Z"); 0 means
 * now.
 *
 * The document should be final: any later change, including to its @context,
 * breaks the proof. Returns 0, or -1 when doc is not an object, already has a
 * "proof" (proof sets and chains are not produced), contains a value JCS
 * cannot represent (NaN, invalid UTF-8) or memory runs out; doc is then
 * unchanged. */
int proof_sign(json_t *doc, const unsigned char sk[64], const char *verification_method,
               const char *purpose, time_t created);

/* Verifies the eddsa-jcs-2022 proof of doc with the Ed25519 public key pk.
 * The caller resolves the key from proof_verification_method() and must
 * check that it belongs to the actor the document claims (and, if it cares,
 * the proofPurpose); this function checks the cryptography only.
 *
 * When "proof" is an array (a proof set), the document is valid when any
 * eddsa-jcs-2022 entry verifies with pk.
 *
 * Returns PROOF_OK (0) or another enum proof_status value; reason (may be
 * NULL, reasonlen bytes) then gets a human-readable explanation such as
 * "no proof", "unsupported cryptosuite 'eddsa-2022'", "proofValue is not a
 * base58btc Ed25519 signature" or "signature does not verify". */
int proof_verify(const json_t *doc, const unsigned char pk[32], char *reason, size_t reasonlen);

/* The verificationMethod of the document's eddsa-jcs-2022 proof (the first
 * such entry of a proof set), so the caller can find the key. Returns a
 * pointer into doc, valid while doc is unchanged and alive, or NULL when
 * there is no such proof or it has no string verificationMethod. */
const char *proof_verification_method(const json_t *doc);

/* The data that is signed: SHA-256(JCS(proof_config)) || SHA-256(JCS(unsecured)),
 * written to out. Exposed for tests against the W3C vectors and for
 * diagnostics. unsecured must not contain "proof" and proof_config not
 * "proofValue"; neither is checked here. Returns 0, or -1 when either value
 * cannot be canonicalised. */
int proof_hash_data(const json_t *unsecured, const json_t *proof_config, unsigned char out[64]);

#endif
