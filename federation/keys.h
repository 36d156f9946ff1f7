/* The node's signing keys and helpers for remote public keys.
 *
 * Every actor signs with two keys (see shared/brief/federation.md): RSA-2048
 * for draft-cavage HTTP signatures, because that is what Mastodon and snac
 * verify, and Ed25519 for FEP-8b32 object integrity proofs. Both live in one
 * key directory:
 *
 *   DIR/rsa.pem       PKCS#8 PEM ("BEGIN PRIVATE KEY"), RSA-2048
 *   DIR/ed25519.key   the 32-byte Ed25519 seed as a secret Multikey
 *                     ("z3u2...", multicodec 0x8026), one line
 *   DIR/old/          the previous generation after fed_keys_rotate()
 *
 * Files are created with mode 0600 from the start (O_CREAT|O_EXCL with
 * 0600; an fchmod before the first byte is written only pins the mode to
 * exactly 0600 whatever the umask), so a key is never readable by others,
 * not even briefly. */
#ifndef DINET_KEYS_H
#define DINET_KEYS_H

#include <openssl/evp.h>

typedef struct fed_keys {
    EVP_PKEY *rsa;           /* private RSA key (its public half for publicKeyPem) */
    unsigned char ed_pk[32]; /* Ed25519 public key */
    unsigned char ed_sk[64]; /* libsodium secret key (seed || public key) */
} fed_keys;

/* Creates DIR/rsa.pem and DIR/ed25519.key with fresh keys. DIR must exist.
 * Both files are written under temporary names and then linked into place,
 * so a crash never leaves a half-written key file under the real name.
 * Returns 0, or -1 when either file already exists (nothing is overwritten
 * or left behind) or on any I/O or crypto error (errno is kept when the
 * cause was a system call). */
int fed_keys_generate(const char *dir);

/* Loads both keys from DIR into *out (zeroed first). Refuses an RSA key
 * shorter than 2048 bits and a seed file that is not a secret Multikey.
 * Returns 0; the caller releases out with fed_keys_free(). Returns -1 when a
 * file is missing or invalid; *out then holds nothing to free. */
int fed_keys_load(const char *dir, fed_keys *out);

/* Frees the RSA key and wipes the Ed25519 secret; k may be NULL. The struct
 * itself is the caller's. */
void fed_keys_free(fed_keys *k);

/* Moves the current keys to DIR/old/ (created with 0700 if needed) and puts
 * fresh keys in their place. The new keys are written under temporary names
 * first; the old ones are hard-linked into old/ and then the new ones are
 * renamed over the current names, so DIR/rsa.pem and DIR/ed25519.key always
 * exist and are always complete. old/ keeps exactly one previous
 * generation: rotating again replaces it (a rotated key is retired, and
 * keeping every retired private key around only widens exposure).
 * Returns 0, or -1 when the current keys cannot be loaded or on I/O errors;
 * on failure before the first rename the directory is unchanged. */
int fed_keys_rotate(const char *dir);

/* SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----") of the RSA key, as
 * published in the actor's publicKey.publicKeyPem. Returns a malloc'd string
 * the caller frees, or NULL on error. */
char *fed_keys_rsa_public_pem(const fed_keys *k);

/* publicKeyMultibase of an Ed25519 public key ("z6Mk..."). Returns a
 * malloc'd string the caller frees, or NULL when out of memory. */
char *fed_keys_ed_multibase(const unsigned char pk[32]);

/* "SHA256:" + lowercase hex of SHA-256 over the DER SubjectPublicKeyInfo of
 * the key (only its public half is used, so a private key works too).
 * Returns a malloc'd string the caller frees, or NULL on error. */
char *fed_keys_fingerprint_rsa(const EVP_PKEY *pub);

/* "SHA256:" + lowercase hex of SHA-256 over the raw 32-byte Ed25519 key.
 * Returns a malloc'd string the caller frees, or NULL when out of memory. */
char *fed_keys_fingerprint_ed(const unsigned char pk[32]);

/* Parses a remote actor's publicKeyPem: SubjectPublicKeyInfo ("BEGIN PUBLIC
 * KEY") or PKCS#1 ("BEGIN RSA PUBLIC KEY"), surrounding whitespace allowed.
 * Only RSA keys of at least 2048 bits are accepted. Returns a new EVP_PKEY
 * the caller owns (EVP_PKEY_free) and should cache: parsing costs far more
 * than a verification. Returns NULL for anything else. */
EVP_PKEY *fed_keys_rsa_from_pem(const char *pem);

#endif
