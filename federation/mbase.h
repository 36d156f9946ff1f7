/* Base58btc, multibase and Multikey encodings for Ed25519 keys.
 *
 * FEP-521a publishes an actor's Ed25519 key as a Multikey whose
 * publicKeyMultibase is 'z' (multibase: base58btc) followed by the base58btc
 * text of the multicodec prefix 0xed 0x01 and the 32-byte key ("z6Mk..."),
 * and eddsa-jcs-2022 proofs carry the 64-byte signature as 'z' + base58btc.
 * Secret keys use the multicodec prefix 0x80 0x26 (ed25519-priv) followed by
 * the 32-byte seed, as in the W3C test vectors ("z3u2...").
 *
 * Thread-safe: no global state. */
#ifndef DINET_MBASE_H
#define DINET_MBASE_H

#include <stddef.h>

/* Length of an Ed25519 public key and of the seed a secret key expands from. */
#define MBASE_ED25519_LEN 32

/* Encodes len bytes (data may be NULL when len is 0) as base58btc with the
 * Bitcoin alphabet; each leading zero byte becomes a leading '1'.
 * Returns a malloc'd NUL-terminated string the caller frees, or NULL when
 * out of memory or len is larger than 64 KiB (the conversion is quadratic
 * and nothing we encode comes near that). */
char *mbase_b58_encode(const unsigned char *data, size_t len);

/* Decodes base58btc text of slen characters into out (cap bytes) and sets
 * *outlen. Returns 0, or -1 when a character is outside the alphabet
 * (whitespace included) or the result does not fit in cap. Input longer than
 * about twice cap is refused before any work, so a hostile multi-megabyte
 * value costs nothing. */
int mbase_b58_decode(const char *s, size_t slen, unsigned char *out, size_t cap, size_t *outlen);

/* Multibase: 'z' + base58btc. Same ownership and errors as
 * mbase_b58_encode(). */
char *mbase_encode(const unsigned char *data, size_t len);

/* Decodes a NUL-terminated multibase string; only the base58btc form ('z')
 * is accepted. Returns 0, or -1 for another base, bad characters or a result
 * larger than cap. */
int mbase_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen);

/* Multikey text of an Ed25519 public key ("z6Mk..."). Returns a malloc'd
 * string the caller frees, or NULL when out of memory. */
char *mbase_multikey_ed_pub_encode(const unsigned char pk[MBASE_ED25519_LEN]);

/* Parses a publicKeyMultibase value into the raw 32-byte key. Returns 0, or
 * -1 when it is not multibase base58btc, the multicodec prefix is not
 * ed25519-pub (0xed 0x01) or the length is not 34 bytes. */
int mbase_multikey_ed_pub_decode(const char *s, unsigned char pk[MBASE_ED25519_LEN]);

/* Multikey text of an Ed25519 secret key seed ("z3u2..."). Returns a
 * malloc'd string the caller frees (it is secret: wipe it, e.g. with
 * sodium_memzero, before free), or NULL when out of memory. */
char *mbase_multikey_ed_priv_encode(const unsigned char seed[MBASE_ED25519_LEN]);

/* Parses a secret key Multikey (prefix 0x80 0x26, 32-byte seed). Returns 0,
 * or -1 on any encoding, prefix or length error. */
int mbase_multikey_ed_priv_decode(const char *s, unsigned char seed[MBASE_ED25519_LEN]);

#endif
