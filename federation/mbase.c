/* Base58btc, multibase and Multikey; see mbase.h. */
#include "mbase.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define B58_MAX_INPUT 65536

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static const unsigned char ed_pub_prefix[2] = {0xed, 0x01};
static const unsigned char ed_priv_prefix[2] = {0x80, 0x26};

/* Digit value of a base58 character, or -1. */
static int b58_value(unsigned char c)
{
    const char *p = c ? strchr(b58_alphabet, c) : NULL;
    return p ? (int)(p - b58_alphabet) : -1;
}

char *mbase_b58_encode(const unsigned char *data, size_t len)
{
    unsigned char *digits = NULL;
    char *res = NULL;
    size_t zeros = 0, ndig, used = 0;

    if (len > B58_MAX_INPUT || (len && !data))
        goto out;
    while (zeros < len && data[zeros] == 0)
        zeros++;
    /* log(256)/log(58) < 1.37: enough base58 digits for the rest. */
    ndig = (len - zeros) * 137 / 100 + 1;
    digits = calloc(ndig, 1);
    res = malloc(zeros + ndig + 1);
    if (!digits || !res)
        goto fail;
    /* Schoolbook base conversion: digits[] holds the number so far in base
     * 58, least significant first; multiply by 256 and add each byte. */
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = data[i];
        size_t j;
        for (j = 0; j < used || carry; j++) {
            if (j >= ndig)
                goto fail; /* cannot happen with the bound above */
            carry += 256u * digits[j];
            digits[j] = (unsigned char)(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++)
        res[o++] = '1';
    for (size_t i = used; i > 0; i--)
        res[o++] = b58_alphabet[digits[i - 1]];
    res[o] = '\0';
    goto out;
fail:
    free(res);
    res = NULL;
out:
    if (digits) {
        sodium_memzero(digits, ndig); /* the data may be a secret key */
        free(digits);
    }
    return res;
}

int mbase_b58_decode(const char *s, size_t slen, unsigned char *out, size_t cap, size_t *outlen)
{
    unsigned char *bytes = NULL;
    size_t zeros = 0, used = 0, nbytes;
    int rc = -1;

    if (!s || !out || !outlen || slen > B58_MAX_INPUT)
        goto out;
    while (zeros < slen && s[zeros] == '1')
        zeros++;
    /* Each leading '1' is one zero byte, every other 1.37 characters at least
     * one byte: longer input cannot fit, so refuse it before the quadratic
     * conversion. */
    if (zeros > cap || (slen - zeros) > (cap - zeros) * 2 + 2)
        goto out;
    nbytes = (slen - zeros) * 3 / 4 + 1; /* log(58)/log(256) < 0.75 */
    bytes = calloc(nbytes, 1);
    if (!bytes)
        goto out;
    for (size_t i = zeros; i < slen; i++) {
        int v = b58_value((unsigned char)s[i]);
        if (v < 0)
            goto out;
        unsigned carry = (unsigned)v;
        size_t j;
        for (j = 0; j < used || carry; j++) {
            if (j >= nbytes)
                goto out;
            carry += 58u * bytes[j];
            bytes[j] = (unsigned char)(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    if (zeros + used > cap)
        goto out;
    memset(out, 0, zeros);
    for (size_t i = 0; i < used; i++)
        out[zeros + i] = bytes[used - 1 - i];
    *outlen = zeros + used;
    rc = 0;
out:
    if (bytes) {
        sodium_memzero(bytes, nbytes);
        free(bytes);
    }
    return rc;
}

char *mbase_encode(const unsigned char *data, size_t len)
{
    char *b = mbase_b58_encode(data, len), *res = NULL;
    size_t n;

    if (!b)
        goto out;
    n = strlen(b);
    res = malloc(n + 2);
    if (!res)
        goto out;
    res[0] = 'z';
    memcpy(res + 1, b, n + 1);
out:
    if (b) {
        sodium_memzero(b, strlen(b));
        free(b);
    }
    return res;
}

int mbase_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
    int rc = -1;
    if (s && s[0] == 'z')
        rc = mbase_b58_decode(s + 1, strlen(s + 1), out, cap, outlen);
    return rc;
}

/* prefix(2) + 32-byte key as multibase. */
static char *multikey_encode(const unsigned char prefix[2], const unsigned char key[32])
{
    unsigned char buf[2 + MBASE_ED25519_LEN];
    char *res;

    memcpy(buf, prefix, 2);
    memcpy(buf + 2, key, MBASE_ED25519_LEN);
    res = mbase_encode(buf, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    return res;
}

static int multikey_decode(const char *s, const unsigned char prefix[2], unsigned char key[32])
{
    unsigned char buf[2 + MBASE_ED25519_LEN + 1];
    size_t n = 0;
    int rc = -1;

    if (mbase_decode(s, buf, sizeof buf, &n) || n != 2 + MBASE_ED25519_LEN ||
        memcmp(buf, prefix, 2) != 0)
        goto out;
    memcpy(key, buf + 2, MBASE_ED25519_LEN);
    rc = 0;
out:
    sodium_memzero(buf, sizeof buf);
    return rc;
}

char *mbase_multikey_ed_pub_encode(const unsigned char pk[MBASE_ED25519_LEN])
{
    return multikey_encode(ed_pub_prefix, pk);
}

int mbase_multikey_ed_pub_decode(const char *s, unsigned char pk[MBASE_ED25519_LEN])
{
    return multikey_decode(s, ed_pub_prefix, pk);
}

char *mbase_multikey_ed_priv_encode(const unsigned char seed[MBASE_ED25519_LEN])
{
    return multikey_encode(ed_priv_prefix, seed);
}

int mbase_multikey_ed_priv_decode(const char *s, unsigned char seed[MBASE_ED25519_LEN])
{
    return multikey_decode(s, ed_priv_prefix, seed);
}
