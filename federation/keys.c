/* The node's signing keys; see keys.h. */
#include "keys.h"

#include "mbase.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RSA_FILE "rsa.pem"
#define ED_FILE "ed25519.key"
#define OLD_DIR "old"
#define RSA_BITS 2048
#define RSA_MIN_BITS 2048
#define ED_FILE_MAX 256

/* dir + "/" + name into buf; -1 when it does not fit. */
static int join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Writes data to a new file dir/.NAME.XXXXXX created by mkostemp, which opens
 * with O_CREAT|O_EXCL and mode 0600, so the secret is never readable by
 * anyone else. fchmod pins the mode to exactly 0600 whatever the umask.
 * The file is fsynced so that a later rename/link publishes complete data.
 * The temporary path goes to tmp. Returns 0, or -1 (no file left behind). */
static int write_temp(const char *dir, const char *name, const void *data, size_t len, char *tmp,
                      size_t tmplen)
{
    char base[64];
    const unsigned char *p = data;
    int fd = -1, rc = -1, saved;

    snprintf(base, sizeof base, ".%s.XXXXXX", name);
    if (join(tmp, tmplen, dir, base)) {
        errno = ENAMETOOLONG;
        tmp[0] = '\0';
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        tmp[0] = '\0';
        goto out;
    }
    if (fchmod(fd, S_IRUSR | S_IWUSR))
        goto out;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd))
        goto out;
    rc = 0;
out:
    saved = errno;
    if (fd >= 0 && close(fd) && rc == 0) {
        saved = errno;
        rc = -1;
    }
    if (rc && tmp[0]) {
        unlink(tmp);
        tmp[0] = '\0';
    }
    errno = saved;
    return rc;
}

/* Best effort: make renames and links in dir durable. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Generates a fresh key pair and writes both files under temporary names in
 * dir (paths into tmp_rsa / tmp_ed). Secrets are wiped from memory after
 * writing. Returns 0, or -1 with no temporary file left behind. */
static int make_temp_keys(const char *dir, char *tmp_rsa, char *tmp_ed, size_t tmplen)
{
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    unsigned char seed[MBASE_ED25519_LEN];
    char *ed_text = NULL;
    char *pem = NULL;
    long pemlen;
    int rc = -1;

    tmp_rsa[0] = tmp_ed[0] = '\0';
    if (sodium_init() < 0)
        goto out;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
    /* Secure-heap BIO: the PEM text is cleared when the BIO is freed. */
    bio = BIO_new(BIO_s_secmem());
    if (!pkey || !bio || !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
        goto out;
    pemlen = BIO_get_mem_data(bio, &pem);
    if (pemlen <= 0 || write_temp(dir, RSA_FILE, pem, (size_t)pemlen, tmp_rsa, tmplen))
        goto out;

    randombytes_buf(seed, sizeof seed);
    ed_text = mbase_multikey_ed_priv_encode(seed);
    if (!ed_text)
        goto out;
    size_t n = strlen(ed_text);
    char line[ED_FILE_MAX];
    if (n + 2 > sizeof line)
        goto out;
    memcpy(line, ed_text, n);
    line[n] = '\n';
    int wrc = write_temp(dir, ED_FILE, line, n + 1, tmp_ed, tmplen);
    sodium_memzero(line, sizeof line);
    if (wrc)
        goto out;
    rc = 0;
out:
    if (rc && tmp_rsa[0]) {
        unlink(tmp_rsa);
        tmp_rsa[0] = '\0';
    }
    sodium_memzero(seed, sizeof seed);
    if (ed_text) {
        sodium_memzero(ed_text, strlen(ed_text));
        free(ed_text);
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return rc;
}

int fed_keys_generate(const char *dir)
{
    char tmp_rsa[PATH_MAX], tmp_ed[PATH_MAX], rsa[PATH_MAX], ed[PATH_MAX];
    struct stat st;
    int rc = -1, saved = 0, linked_rsa = 0;

    tmp_rsa[0] = tmp_ed[0] = '\0';
    if (!dir || join(rsa, sizeof rsa, dir, RSA_FILE) || join(ed, sizeof ed, dir, ED_FILE)) {
        errno = ENAMETOOLONG;
        goto out;
    }
    /* Cheap early answer; link() below is the atomic check. */
    if (lstat(rsa, &st) == 0 || lstat(ed, &st) == 0) {
        errno = EEXIST;
        goto out;
    }
    if (make_temp_keys(dir, tmp_rsa, tmp_ed, sizeof tmp_rsa))
        goto out;
    /* link() fails with EEXIST instead of replacing, unlike rename(). */
    if (link(tmp_rsa, rsa))
        goto out;
    linked_rsa = 1;
    if (link(tmp_ed, ed))
        goto out;
    sync_dir(dir);
    rc = 0;
out:
    saved = errno;
    if (rc && linked_rsa)
        unlink(rsa);
    if (tmp_rsa[0])
        unlink(tmp_rsa);
    if (tmp_ed[0])
        unlink(tmp_ed);
    errno = saved;
    return rc;
}

/* Reads the one-line seed file and expands it to a key pair. */
static int load_ed(const char *path, fed_keys *out)
{
    char buf[ED_FILE_MAX];
    unsigned char seed[MBASE_ED25519_LEN];
    size_t n = 0;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto out;
    while (n < sizeof buf - 1) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (mbase_multikey_ed_priv_decode(buf, seed))
        goto out;
    if (crypto_sign_seed_keypair(out->ed_pk, out->ed_sk, seed))
        goto out;
    rc = 0;
out:
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int fed_keys_load(const char *dir, fed_keys *out)
{
    char rsa[PATH_MAX], ed[PATH_MAX];
    BIO *bio = NULL;
    int rc = -1;

    if (!out)
        goto out;
    memset(out, 0, sizeof *out);
    if (!dir || join(rsa, sizeof rsa, dir, RSA_FILE) || join(ed, sizeof ed, dir, ED_FILE))
        goto out;
    if (sodium_init() < 0)
        goto out;
    bio = BIO_new_file(rsa, "r");
    if (!bio)
        goto out;
    out->rsa = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (!out->rsa || !EVP_PKEY_is_a(out->rsa, "RSA") || EVP_PKEY_get_bits(out->rsa) < RSA_MIN_BITS)
        goto out;
    if (load_ed(ed, out))
        goto out;
    rc = 0;
out:
    BIO_free(bio);
    if (rc && out)
        fed_keys_free(out);
    return rc;
}

void fed_keys_free(fed_keys *k)
{
    if (k) {
        EVP_PKEY_free(k->rsa);
        k->rsa = NULL;
        sodium_memzero(k->ed_sk, sizeof k->ed_sk);
        sodium_memzero(k->ed_pk, sizeof k->ed_pk);
    }
}

/* Puts a hard link of dir/name at old/name, replacing what was there:
 * link to a scratch name first, then rename, which replaces atomically. */
static int keep_old(const char *dir, const char *olddir, const char *name)
{
    char cur[PATH_MAX], scratch[PATH_MAX], dst[PATH_MAX], sname[64];
    int rc = -1;

    snprintf(sname, sizeof sname, ".%s.prev", name);
    if (join(cur, sizeof cur, dir, name) || join(scratch, sizeof scratch, olddir, sname) ||
        join(dst, sizeof dst, olddir, name)) {
        errno = ENAMETOOLONG;
        goto out;
    }
    if (unlink(scratch) && errno != ENOENT)
        goto out;
    if (link(cur, scratch))
        goto out;
    if (rename(scratch, dst)) {
        unlink(scratch);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

int fed_keys_rotate(const char *dir)
{
    char tmp_rsa[PATH_MAX], tmp_ed[PATH_MAX], rsa[PATH_MAX], ed[PATH_MAX], olddir[PATH_MAX];
    fed_keys cur;
    struct stat st;
    int rc = -1, saved = 0;

    tmp_rsa[0] = tmp_ed[0] = '\0';
    if (!dir || join(rsa, sizeof rsa, dir, RSA_FILE) || join(ed, sizeof ed, dir, ED_FILE) ||
        join(olddir, sizeof olddir, dir, OLD_DIR)) {
        errno = ENAMETOOLONG;
        goto out;
    }
    /* Only rotate keys that work: retiring a broken pair into old/ would
     * replace the last good previous generation. */
    if (fed_keys_load(dir, &cur))
        goto out;
    fed_keys_free(&cur);
    if (make_temp_keys(dir, tmp_rsa, tmp_ed, sizeof tmp_rsa))
        goto out;
    if (mkdir(olddir, S_IRWXU) && errno != EEXIST)
        goto out;
    if (lstat(olddir, &st) || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        goto out;
    }
    if (keep_old(dir, olddir, RSA_FILE) || keep_old(dir, olddir, ED_FILE))
        goto out;
    sync_dir(olddir);
    /* From here on each step replaces one complete file by another. */
    if (rename(tmp_rsa, rsa))
        goto out;
    tmp_rsa[0] = '\0';
    if (rename(tmp_ed, ed))
        goto out;
    tmp_ed[0] = '\0';
    sync_dir(dir);
    rc = 0;
out:
    saved = errno;
    if (tmp_rsa[0])
        unlink(tmp_rsa);
    if (tmp_ed[0])
        unlink(tmp_ed);
    errno = saved;
    return rc;
}

char *fed_keys_rsa_public_pem(const fed_keys *k)
{
    BIO *bio = NULL;
    char *data = NULL, *res = NULL;
    long n;

    if (!k || !k->rsa)
        goto out;
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PUBKEY(bio, k->rsa))
        goto out;
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0)
        goto out;
    res = malloc((size_t)n + 1);
    if (!res)
        goto out;
    memcpy(res, data, (size_t)n);
    res[n] = '\0';
out:
    BIO_free(bio);
    return res;
}

char *fed_keys_ed_multibase(const unsigned char pk[32])
{
    return pk ? mbase_multikey_ed_pub_encode(pk) : NULL;
}

/* "SHA256:" + lowercase hex of SHA-256(data). */
static char *fingerprint(const unsigned char *data, size_t len)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    static const char prefix[] = "SHA256:";
    char *res = malloc(sizeof prefix - 1 + 2 * sizeof h + 1);

    if (res) {
        crypto_hash_sha256(h, data, len);
        memcpy(res, prefix, sizeof prefix - 1);
        sodium_bin2hex(res + sizeof prefix - 1, 2 * sizeof h + 1, h, sizeof h);
    }
    return res;
}

char *fed_keys_fingerprint_rsa(const EVP_PKEY *pub)
{
    unsigned char *der = NULL;
    char *res = NULL;
    int n;

    if (!pub)
        goto out;
    n = i2d_PUBKEY(pub, &der);
    if (n <= 0)
        goto out;
    res = fingerprint(der, (size_t)n);
out:
    OPENSSL_free(der);
    return res;
}

char *fed_keys_fingerprint_ed(const unsigned char pk[32])
{
    return pk ? fingerprint(pk, 32) : NULL;
}

EVP_PKEY *fed_keys_rsa_from_pem(const char *pem)
{
    OSSL_DECODER_CTX *dctx = NULL;
    EVP_PKEY *pkey = NULL;
    const unsigned char *data;
    size_t len;

    if (!pem)
        goto out;
    data = (const unsigned char *)pem;
    len = strlen(pem);
    /* No structure given: the decoder tries SubjectPublicKeyInfo and the
     * PKCS#1 RSAPublicKey form, which a few older servers publish. */
    dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (!dctx || !OSSL_DECODER_from_data(dctx, &data, &len) || !pkey)
        goto fail;
    if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS)
        goto fail;
    goto out;
fail:
    EVP_PKEY_free(pkey);
    pkey = NULL;
out:
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}
