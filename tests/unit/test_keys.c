/* Unit tests for federation/keys and federation/mbase. */
#include "keys.h"
#include "mbase.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int file_mode(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (stat(p, &st))
        return -1;
    return (int)(st.st_mode & 07777);
}

/* Number of directory entries other than . and .. whose name starts with '.'
 * (left-over temporary files) and in total. */
static void count_entries(const char *dir, int *hidden, int *total)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    *hidden = *total = 0;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        (*total)++;
        if (e->d_name[0] == '.')
            (*hidden)++;
    }
    if (d)
        closedir(d);
}

static void remove_tree(const char *dir)
{
    static const char *const names[] = {"rsa.pem", "ed25519.key", "old/rsa.pem", "old/ed25519.key"};
    char p[1024];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/old", dir);
    rmdir(p);
    rmdir(dir);
}

static char *pem_of(EVP_PKEY *k, const char *structure)
{
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(k, EVP_PKEY_PUBLIC_KEY, "PEM", structure, NULL);
    unsigned char *data = NULL;
    size_t len = 0;
    char *res = NULL;
    if (ctx && OSSL_ENCODER_to_data(ctx, &data, &len)) {
        res = malloc(len + 1);
        memcpy(res, data, len);
        res[len] = '\0';
    }
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ctx);
    return res;
}

static void test_base58(void)
{
    const unsigned char hello[] = "Hello World!";
    char *s = mbase_b58_encode(hello, sizeof hello - 1);
    CHECK_STR(s, "2NEpo7TZRRrLZSi2U", "base58 of Hello World!");
    unsigned char out[64];
    size_t n = 0;
    CHECK(s && mbase_b58_decode(s, strlen(s), out, sizeof out, &n) == 0 && n == sizeof hello - 1 &&
              memcmp(out, hello, n) == 0,
          "base58 decodes back");
    free(s);

    const unsigned char zeros[] = {0, 0, 0, 1, 0};
    s = mbase_b58_encode(zeros, sizeof zeros);
    CHECK_STR(s, "1115R", "leading zero bytes become '1'");
    CHECK(s && mbase_b58_decode(s, strlen(s), out, sizeof out, &n) == 0 && n == sizeof zeros &&
              memcmp(out, zeros, n) == 0,
          "leading zeros decode back");
    free(s);
    s = mbase_b58_encode(NULL, 0);
    CHECK_STR(s, "", "empty input");
    free(s);

    CHECK(mbase_b58_decode("0abc", 4, out, sizeof out, &n) == -1, "'0' is not base58");
    CHECK(mbase_b58_decode("abIl", 4, out, sizeof out, &n) == -1, "'I' and 'l' are not base58");
    CHECK(mbase_b58_decode("ab c", 4, out, sizeof out, &n) == -1, "space is not base58");
    CHECK(mbase_b58_decode("2NEpo7TZRRrLZSi2U", 17, out, 4, &n) == -1, "too small buffer");
    CHECK(mbase_decode("m2NEpo", out, sizeof out, &n) == -1, "base64 multibase refused");
    char big[4001];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(mbase_b58_decode(big, strlen(big), out, sizeof out, &n) == -1,
          "overlong input refused early");

    /* A random round trip through multibase. */
    unsigned char r[64];
    randombytes_buf(r, sizeof r);
    r[0] = 0;
    s = mbase_encode(r, sizeof r);
    CHECK(s && s[0] == 'z' && mbase_decode(s, out, sizeof out, &n) == 0 && n == sizeof r &&
              memcmp(out, r, n) == 0,
          "multibase round trip");
    free(s);
}

static void test_multikey(void)
{
    char *kp = tl_read_file(tl_vector("eddsa-jcs-2022/keyPair.json"), NULL);
    json_t *j = kp ? json_loads(kp, 0, NULL) : NULL;
    const char *pub = json_string_value(json_object_get(j, "publicKeyMultibase"));
    const char *priv = json_string_value(json_object_get(j, "privateKeyMultibase"));
    unsigned char pk[32], seed[32], pk2[32], sk[64];
    CHECK(pub && priv, "keyPair.json readable");
    CHECK(pub && mbase_multikey_ed_pub_decode(pub, pk) == 0, "public Multikey decodes");
    CHECK(priv && mbase_multikey_ed_priv_decode(priv, seed) == 0, "secret Multikey decodes");
    crypto_sign_seed_keypair(pk2, sk, seed);
    CHECK(memcmp(pk, pk2, 32) == 0, "seed expands to the published public key");
    char *s = mbase_multikey_ed_pub_encode(pk);
    CHECK_STR(s, pub, "public Multikey re-encodes");
    free(s);
    s = fed_keys_ed_multibase(pk);
    CHECK_STR(s, pub, "fed_keys_ed_multibase");
    free(s);
    s = mbase_multikey_ed_priv_encode(seed);
    CHECK_STR(s, priv, "secret Multikey re-encodes");
    free(s);
    CHECK(priv && mbase_multikey_ed_pub_decode(priv, pk2) == -1,
          "secret key is not accepted as a public key");
    CHECK(pub && mbase_multikey_ed_priv_decode(pub, seed) == -1,
          "public key is not accepted as a secret key");
    CHECK(mbase_multikey_ed_pub_decode("z6Mk", pk2) == -1, "short Multikey refused");
    CHECK(mbase_multikey_ed_pub_decode("", pk2) == -1, "empty Multikey refused");
    s = fed_keys_fingerprint_ed(pk);
    CHECK(s && strncmp(s, "SHA256:", 7) == 0 && strlen(s) == 7 + 64, "ed fingerprint format");
    free(s);
    json_decref(j);
    free(kp);
}

static void test_remote_pem(void)
{
    char *pem = tl_read_file(tl_vector("http-signature-cavage/test-key.public.pem"), NULL);
    EVP_PKEY *k = fed_keys_rsa_from_pem(pem);
    CHECK(k != NULL, "SPKI PEM parses");
    char *pkcs1 = k ? pem_of(k, "type-specific") : NULL;
    CHECK(pkcs1 && strstr(pkcs1, "BEGIN RSA PUBLIC KEY"), "PKCS#1 PEM produced");
    EVP_PKEY *k1 = fed_keys_rsa_from_pem(pkcs1);
    CHECK(k1 != NULL, "PKCS#1 PEM parses");
    char *f1 = fed_keys_fingerprint_rsa(k), *f2 = fed_keys_fingerprint_rsa(k1);
    CHECK(f1 && f2 && strcmp(f1, f2) == 0, "both forms give the same fingerprint");
    free(f1);
    free(f2);
    free(pkcs1);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k);
    free(pem);

    CHECK(fed_keys_rsa_from_pem("garbage") == NULL, "garbage refused");
    CHECK(fed_keys_rsa_from_pem(NULL) == NULL, "NULL refused");
    CHECK(fed_keys_rsa_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") ==
              NULL,
          "broken base64 refused");

    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *ecpem = ec ? pem_of(ec, "SubjectPublicKeyInfo") : NULL;
    EVP_PKEY *got = fed_keys_rsa_from_pem(ecpem);
    CHECK(ecpem && got == NULL, "EC key refused");
    EVP_PKEY_free(got);
    free(ecpem);
    EVP_PKEY_free(ec);

    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char *smallpem = small ? pem_of(small, "SubjectPublicKeyInfo") : NULL;
    got = fed_keys_rsa_from_pem(smallpem);
    CHECK(smallpem && got == NULL, "RSA-1024 refused");
    EVP_PKEY_free(got);
    free(smallpem);
    EVP_PKEY_free(small);
}

/* Fingerprints of the keys in dir, or empty strings. */
static void fingerprints(const char *dir, char rsa[80], char ed[80])
{
    fed_keys k;
    rsa[0] = ed[0] = '\0';
    if (fed_keys_load(dir, &k))
        return;
    char *a = fed_keys_fingerprint_rsa(k.rsa), *b = fed_keys_fingerprint_ed(k.ed_pk);
    snprintf(rsa, 80, "%s", a ? a : "");
    snprintf(ed, 80, "%s", b ? b : "");
    free(a);
    free(b);
    fed_keys_free(&k);
}

static void test_keys(void)
{
    char *dir = tl_tmpdir("keys");
    char old[1100];
    int hidden, total;
    CHECK(dir != NULL, "tmpdir");
    if (!dir)
        return;
    snprintf(old, sizeof old, "%s/old", dir);

    CHECK_INT(fed_keys_generate(dir), 0, "generate");
    CHECK_INT(file_mode(dir, "rsa.pem"), 0600, "rsa.pem mode");
    CHECK_INT(file_mode(dir, "ed25519.key"), 0600, "ed25519.key mode");
    count_entries(dir, &hidden, &total);
    CHECK(hidden == 0 && total == 2, "no temporary files left (%d hidden, %d total)", hidden,
          total);

    char rsa1[80], ed1[80], rsa2[80], ed2[80];
    fingerprints(dir, rsa1, ed1);
    CHECK(strncmp(rsa1, "SHA256:", 7) == 0 && strlen(rsa1) == 71, "rsa fingerprint '%s'", rsa1);
    CHECK(strncmp(ed1, "SHA256:", 7) == 0 && strlen(ed1) == 71, "ed fingerprint '%s'", ed1);

    errno = 0;
    CHECK_INT(fed_keys_generate(dir), -1, "generate refuses existing keys");
    CHECK_INT(errno, EEXIST, "errno EEXIST");
    fingerprints(dir, rsa2, ed2);
    CHECK(strcmp(rsa1, rsa2) == 0 && strcmp(ed1, ed2) == 0, "refused generate changed nothing");
    count_entries(dir, &hidden, &total);
    CHECK(hidden == 0 && total == 2, "still no temporary files");

    fed_keys k;
    CHECK_INT(fed_keys_load(dir, &k), 0, "load");
    CHECK_INT(EVP_PKEY_get_bits(k.rsa), 2048, "RSA-2048");
    char path[1200];
    snprintf(path, sizeof path, "%s/rsa.pem", dir);
    char *text = tl_read_file(path, NULL);
    CHECK(text && strncmp(text, "-----BEGIN PRIVATE KEY-----", 27) == 0, "PKCS#8 PEM on disk");
    free(text);
    snprintf(path, sizeof path, "%s/ed25519.key", dir);
    text = tl_read_file(path, NULL);
    CHECK(text && strncmp(text, "z3u2", 4) == 0, "seed stored as secret Multikey");
    free(text);

    char *pub = fed_keys_rsa_public_pem(&k);
    CHECK(pub && strncmp(pub, "-----BEGIN PUBLIC KEY-----", 26) == 0, "SPKI public PEM");
    CHECK(pub && !strstr(pub, "PRIVATE"), "public PEM has no private part");
    EVP_PKEY *remote = fed_keys_rsa_from_pem(pub);
    char *rf = fed_keys_fingerprint_rsa(remote);
    CHECK_STR(rf, rsa1, "fingerprint of the published PEM equals the key's");
    free(rf);
    EVP_PKEY_free(remote);
    free(pub);

    char *mb = fed_keys_ed_multibase(k.ed_pk);
    unsigned char pk[32];
    CHECK(mb && strncmp(mb, "z6Mk", 4) == 0 && mbase_multikey_ed_pub_decode(mb, pk) == 0 &&
              memcmp(pk, k.ed_pk, 32) == 0,
          "ed multibase '%s'", mb ? mb : "");
    free(mb);
    unsigned char sig[64];
    const unsigned char msg[] = "message";
    crypto_sign_detached(sig, NULL, msg, sizeof msg, k.ed_sk);
    CHECK(crypto_sign_verify_detached(sig, msg, sizeof msg, k.ed_pk) == 0,
          "loaded Ed25519 pair signs and verifies");
    fed_keys_free(&k);
    fed_keys_free(&k); /* idempotent */
    fed_keys_free(NULL);

    fingerprints(dir, rsa2, ed2);
    CHECK(strcmp(rsa1, rsa2) == 0 && strcmp(ed1, ed2) == 0, "fingerprints stable across reload");

    /* Rotation. */
    CHECK_INT(fed_keys_rotate(dir), 0, "rotate");
    fingerprints(dir, rsa2, ed2);
    CHECK(rsa2[0] && strcmp(rsa1, rsa2) != 0, "rotate changes the RSA key");
    CHECK(ed2[0] && strcmp(ed1, ed2) != 0, "rotate changes the Ed25519 key");
    char rsa_old[80], ed_old[80];
    fingerprints(old, rsa_old, ed_old);
    CHECK_STR(rsa_old, rsa1, "old RSA key kept in old/");
    CHECK_STR(ed_old, ed1, "old Ed25519 key kept in old/");
    CHECK_INT(file_mode(dir, "rsa.pem"), 0600, "new rsa.pem mode");
    CHECK_INT(file_mode(dir, "ed25519.key"), 0600, "new ed25519.key mode");
    CHECK_INT(file_mode(old, "rsa.pem"), 0600, "old rsa.pem mode");
    CHECK_INT(file_mode(old, "ed25519.key"), 0600, "old ed25519.key mode");
    CHECK_INT(file_mode(dir, "old"), 0700, "old/ mode");
    count_entries(dir, &hidden, &total);
    CHECK(hidden == 0 && total == 3, "rotate leaves no temporary files (%d, %d)", hidden, total);
    count_entries(old, &hidden, &total);
    CHECK(hidden == 0 && total == 2, "old/ holds exactly two files (%d, %d)", hidden, total);

    /* A second rotation retires the second generation. */
    CHECK_INT(fed_keys_rotate(dir), 0, "rotate again");
    char rsa3[80], ed3[80];
    fingerprints(dir, rsa3, ed3);
    fingerprints(old, rsa_old, ed_old);
    CHECK(strcmp(rsa3, rsa2) != 0 && strcmp(ed3, ed2) != 0, "second rotation changes keys");
    CHECK(strcmp(rsa_old, rsa2) == 0 && strcmp(ed_old, ed2) == 0, "old/ holds the second pair");

    /* Broken files. */
    snprintf(path, sizeof path, "%s/ed25519.key", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2\n", f);
        fclose(f);
    }
    CHECK_INT(fed_keys_load(dir, &k), -1, "a public key in ed25519.key is refused");
    CHECK(k.rsa == NULL, "failed load leaves nothing to free");
    CHECK_INT(fed_keys_rotate(dir), -1, "rotate refuses broken current keys");
    fingerprints(old, rsa_old, ed_old);
    CHECK_STR(rsa_old, rsa2, "failed rotation kept old/");
    CHECK_INT(fed_keys_load("/nonexistent/dinet", &k), -1, "missing dir");
    CHECK_INT(fed_keys_generate("/nonexistent/dinet"), -1, "generate into missing dir");

    remove_tree(dir);
    free(dir);
}

int main(void)
{
    test_base58();
    test_multikey();
    test_remote_pem();
    test_keys();
    return tl_done();
}
