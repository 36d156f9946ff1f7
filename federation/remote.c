/* Remote actors; see remote.h. */
#include "remote.h"
#include "httpsig.h"
#include "keys.h"
#include "log.h"
#include "mbase.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SLOTS 1024
#define CACHE_TTL (24 * 3600)

static net_policy policy;
static bool policy_set;

/* In-memory cache of parsed actors, keyed by actor id and key id. An entry
 * keeps only the strings' lengths (a few hundred bytes instead of the 8 kB
 * of a remote_actor, whose fields are sized for the longest URL): a node
 * that knows a dozen actors would otherwise keep 250 kB of them resident. */
typedef struct packed_actor {
    EVP_PKEY *rsa; /* one reference of its own */
    int ned;
    unsigned char ed_pk[REMOTE_MAX_ED][32];
    /* id, inbox, shared_inbox, key_id, then the ned ed_id strings, each
     * NUL-terminated, one after the other */
    char text[];
} packed_actor;

typedef struct slot {
    packed_actor *p; /* NULL when empty */
    time_t fetched;
} slot;

static slot cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

void remote_init(const net_policy *p)
{
    policy = *p;
    policy_set = true;
}

const net_policy *remote_policy(void)
{
    if (!policy_set) {
        char err[128];
        net_policy_init(&policy, NULL, err, sizeof err);
        policy_set = true;
    }
    return &policy;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The string fields of a remote_actor in the order they are packed. */
static int actor_strings(remote_actor *a, char *f[4 + REMOTE_MAX_ED])
{
    f[0] = a->id;
    f[1] = a->inbox;
    f[2] = a->shared_inbox;
    f[3] = a->key_id;
    int n = 4;
    for (int i = 0; i < a->ned && i < REMOTE_MAX_ED; i++)
        f[n++] = a->ed_id[i];
    return n;
}

static packed_actor *pack(const remote_actor *src)
{
    char *f[4 + REMOTE_MAX_ED];
    int n = actor_strings((remote_actor *)src, f);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += strnlen(f[i], REMOTE_URL - 1) + 1;
    packed_actor *p = malloc(sizeof *p + len);
    if (!p)
        return NULL;
    p->rsa = src->rsa;
    if (p->rsa)
        EVP_PKEY_up_ref(p->rsa);
    p->ned = n - 4;
    memcpy(p->ed_pk, src->ed_pk, sizeof p->ed_pk);
    char *t = p->text;
    for (int i = 0; i < n; i++) {
        size_t l = strnlen(f[i], REMOTE_URL - 1);
        memcpy(t, f[i], l);
        t[l] = '\0';
        t += l + 1;
    }
    return p;
}

/* Fills *dst (zeroed by the caller) from p, with a reference to the key. */
static void unpack(remote_actor *dst, const packed_actor *p)
{
    dst->ned = p->ned;
    char *f[4 + REMOTE_MAX_ED];
    int n = actor_strings(dst, f);
    const char *t = p->text;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(t);
        memcpy(f[i], t, l + 1);
        t += l + 1;
    }
    memcpy(dst->ed_pk, p->ed_pk, sizeof dst->ed_pk);
    dst->rsa = p->rsa;
    if (dst->rsa)
        EVP_PKEY_up_ref(dst->rsa);
}

static void packed_free(packed_actor *p)
{
    if (p) {
        EVP_PKEY_free(p->rsa);
        free(p);
    }
}

void remote_actor_free(remote_actor *a)
{
    if (a && a->rsa) {
        EVP_PKEY_free(a->rsa);
        a->rsa = NULL;
    }
}

/* Looks up by actor id or key id (both are indexed: an actor occupies the
 * slot of its id; the key id maps by scanning the actor's key fields).
 * *out is zeroed. */
static bool cache_get(const char *key, remote_actor *out)
{
    bool found = false;
    pthread_mutex_lock(&cache_mu);
    slot *s = &cache[hash(key) % CACHE_SLOTS];
    if (s->p && time(NULL) - s->fetched < CACHE_TTL) {
        const char *id = s->p->text, *inbox = id + strlen(id) + 1;
        const char *shared = inbox + strlen(inbox) + 1, *key_id = shared + strlen(shared) + 1;
        if (!strcmp(id, key) || !strcmp(key_id, key)) {
            unpack(out, s->p);
            found = true;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    return found;
}

static void cache_put_one(const char *key, const remote_actor *a)
{
    packed_actor *p = pack(a);
    if (!p)
        return; /* only a cache */
    slot *s = &cache[hash(key) % CACHE_SLOTS];
    packed_free(s->p);
    s->p = p;
    s->fetched = time(NULL);
}

static void cache_put(const remote_actor *a)
{
    pthread_mutex_lock(&cache_mu);
    cache_put_one(a->id, a);
    if (a->key_id[0] && strcmp(a->key_id, a->id))
        cache_put_one(a->key_id, a);
    pthread_mutex_unlock(&cache_mu);
}

void remote_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        packed_free(cache[i].p);
        cache[i].p = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
}

int remote_actor_parse(const json_t *doc, remote_actor *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *id = util_jstr(doc, "id"), *inbox = util_jstr(doc, "inbox");
    if (!id || !inbox) {
        snprintf(err, errlen, "not an actor: id or inbox missing");
        return -1;
    }
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->inbox, sizeof out->inbox, "%s", inbox);
    const char *shared = util_jstr(json_object_get(doc, "endpoints"), "sharedInbox");
    if (shared)
        snprintf(out->shared_inbox, sizeof out->shared_inbox, "%s", shared);
    const json_t *pk = json_object_get(doc, "publicKey");
    if (json_is_array(pk))
        pk = json_array_get(pk, 0);
    const char *pem = util_jstr(pk, "publicKeyPem");
    if (pem) {
        out->rsa = fed_keys_rsa_from_pem(pem);
        snprintf(out->key_id, sizeof out->key_id, "%s", util_jstr(pk, "id") ? util_jstr(pk, "id") : "");
        const char *owner = util_jstr(pk, "owner");
        if (owner && strcmp(owner, id)) {
            snprintf(err, errlen, "publicKey owner %s is not the actor %s", owner, id);
            remote_actor_free(out);
            return -1;
        }
    }
    const json_t *am = json_object_get(doc, "assertionMethod");
    size_t i;
    const json_t *m;
    /* assertionMethod may be one Multikey or an array of them. */
    json_t *list = json_is_array(am) ? json_incref((json_t *)am)
                   : json_is_object(am) ? json_pack("[O]", am)
                                        : json_array();
    {
        json_array_foreach(list, i, m)
        {
            if (out->ned == REMOTE_MAX_ED)
                break;
            const char *mb = util_jstr(m, "publicKeyMultibase"), *mid = util_jstr(m, "id");
            const char *ctl = util_jstr(m, "controller");
            if (!mb || !mid || (ctl && strcmp(ctl, id)))
                continue;
            if (mbase_multikey_ed_pub_decode(mb, out->ed_pk[out->ned]) == 0) {
                snprintf(out->ed_id[out->ned], REMOTE_URL, "%s", mid);
                out->ned++;
            }
        }
    }
    json_decref(list);
    return 0;
}

int remote_fetch(const fed_ctx *ctx, const char *url, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    /* Sign with the instance actor so servers in secure mode answer. */
    const char *p = strstr(url, "://");
    if (!p) {
        snprintf(err, errlen, "not a URL: %s", url);
        return -1;
    }
    p += 3;
    const char *slash = strchr(p, '/');
    char host[512], target[REMOTE_URL];
    snprintf(host, sizeof host, "%.*s", (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
    snprintf(target, sizeof target, "%s", slash ? slash : "/");
    char *hash_mark = strchr(target, '#');
    if (hash_mark)
        *hash_mark = '\0';
    char fetch_url[REMOTE_URL];
    snprintf(fetch_url, sizeof fetch_url, "%s", url);
    hash_mark = strchr(fetch_url, '#');
    if (hash_mark)
        *hash_mark = '\0';
    httpsig_out sig;
    if (httpsig_sign(ctx->keys.rsa, ctx->instance_key_id, "GET", target, host, NULL, 0, NULL, 0,
                     &sig)) {
        snprintf(err, errlen, "cannot sign the fetch");
        return -1;
    }
    char h_date[128], h_sig[2048], h_host[600], ua[700];
    snprintf(h_date, sizeof h_date, "Date: %s", sig.date);
    snprintf(h_sig, sizeof h_sig, "Signature: %s", sig.signature);
    snprintf(h_host, sizeof h_host, "Host: %s", host);
    net_user_agent(ua, sizeof ua, ctx->cfg->base_url);
    const char *hdrs[] = {"Accept: application/activity+json, application/ld+json; "
                          "profile=\"https://www.w3.org/ns/activitystreams\"",
                          h_date, h_sig, h_host, NULL};
    net_req req = {.method = "GET", .url = fetch_url, .headers = hdrs, .user_agent = ua};
    net_resp resp;
    int rc = -1;
    if (net_request(remote_policy(), &req, &resp, err, errlen))
        goto out;
    if (resp.status != 200) {
        snprintf(err, errlen, "GET %s answered %ld", fetch_url, resp.status);
        goto out;
    }
    json_error_t je;
    *out = json_loadb(resp.body, resp.len, 0, &je);
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        snprintf(err, errlen, "GET %s: not a JSON object", fetch_url);
        goto out;
    }
    rc = 0;
out:
    net_resp_free(&resp);
    httpsig_out_free(&sig);
    return rc;
}

static int store_actor(db *d, const remote_actor *a, const json_t *doc)
{
    char *txt = json_dumps(doc, JSON_COMPACT);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT OR REPLACE INTO remote_actors(id, inbox, shared_inbox, key_id, "
           "public_key_pem, doc, fetched) VALUES(:id, :inbox, :shared, :key, :pem, :doc, :now)");
    int rc = -1;
    if (st && txt) {
        const json_t *pk = json_object_get(doc, "publicKey");
        if (json_is_array(pk))
            pk = json_array_get(pk, 0);
        db_bind_text(st, ":id", a->id);
        db_bind_text(st, ":inbox", a->inbox);
        db_bind_text(st, ":shared", a->shared_inbox[0] ? a->shared_inbox : NULL);
        db_bind_text(st, ":key", a->key_id[0] ? a->key_id : NULL);
        db_bind_text(st, ":pem", util_jstr(pk, "publicKeyPem"));
        db_bind_text(st, ":doc", txt);
        db_bind_int(st, ":now", (long long)time(NULL));
        rc = db_exec_stmt(st);
    }
    free(txt);
    return rc;
}

/* Loads from the remote_actors table (survives restarts). */
static bool db_get(db *d, const char *key, remote_actor *out)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT doc, fetched FROM remote_actors "
                                  "WHERE id=:k OR key_id=:k LIMIT 1");
    if (!st)
        return false;
    db_bind_text(st, ":k", key);
    bool ok = false;
    if (sqlite3_step(st) == SQLITE_ROW && time(NULL) - sqlite3_column_int64(st, 1) < CACHE_TTL) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        char err[256];
        ok = doc && remote_actor_parse(doc, out, err, sizeof err) == 0;
        json_decref(doc);
    }
    db_done(st);
    return ok;
}

int remote_actor_get(db *d, const fed_ctx *ctx, const char *key, bool refresh, remote_actor *out,
                     char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!refresh && cache_get(key, out))
        return 0;
    if (!refresh && d && db_get(d, key, out)) {
        cache_put(out);
        return 0;
    }
    json_t *doc = NULL;
    if (remote_fetch(ctx, key, &doc, err, errlen))
        return -1;
    /* A key document names its owner; fetch the owner actor then. */
    if (!json_object_get(doc, "inbox") && util_jstr(doc, "owner")) {
        char owner[REMOTE_URL];
        snprintf(owner, sizeof owner, "%s", util_jstr(doc, "owner"));
        json_decref(doc);
        doc = NULL;
        if (remote_fetch(ctx, owner, &doc, err, errlen))
            return -1;
    }
    int rc = remote_actor_parse(doc, out, err, errlen);
    if (rc == 0) {
        /* The document must be the one we asked for (same origin), so one
         * server cannot pass off another's actor. */
        const char *a = strstr(key, "://"), *b = strstr(out->id, "://");
        size_t la = a ? strcspn(a + 3, "/#") : 0, lb = b ? strcspn(b + 3, "/#") : 1;
        if (!a || !b || la != lb || strncmp(a + 3, b + 3, la)) {
            snprintf(err, errlen, "actor %s is not on the host of %s", out->id, key);
            remote_actor_free(out);
            rc = -1;
        }
    }
    if (rc == 0) {
        cache_put(out);
        if (d)
            store_actor(d, out, doc);
    }
    json_decref(doc);
    return rc;
}

int remote_webfinger(const fed_ctx *ctx, const char *acct, char *url, size_t urllen, char *err,
                     size_t errlen)
{
    const char *a = strncmp(acct, "acct:", 5) == 0 ? acct + 5 : acct;
    if (*a == '@')
        a++;
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1]) {
        snprintf(err, errlen, "'%s' is not a handle like name@host", acct);
        return -1;
    }
    /* WebFinger is fetched over https, as Mastodon does; plain http only
     * for hosts the private-address allowlist covers (tests, closed
     * networks), which the SSRF guard enforces at connect time. */
    char wf[REMOTE_URL];
    const char *schemes[] = {"https", "http"};
    for (int i = 0; i < 2; i++) {
        snprintf(wf, sizeof wf, "%s://%s/.well-known/webfinger?resource=acct:%.*s%s", schemes[i],
                 at + 1, (int)(at - a), a, at);
        const char *hdrs[] = {"Accept: application/jrd+json", NULL};
        char ua[700];
        net_user_agent(ua, sizeof ua, ctx->cfg->base_url);
        net_req req = {.method = "GET", .url = wf, .headers = hdrs, .user_agent = ua};
        net_resp resp;
        if (net_request(remote_policy(), &req, &resp, err, errlen) == 0 && resp.status == 200) {
            json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
            size_t k;
            json_t *l;
            int rc = -1;
            json_array_foreach(json_object_get(j, "links"), k, l)
            {
                const char *type = util_jstr(l, "type"), *href = util_jstr(l, "href");
                if (href && type && !strcmp(util_jstr(l, "rel") ? util_jstr(l, "rel") : "", "self") &&
                    (strstr(type, "activity+json") || strstr(type, "ld+json"))) {
                    snprintf(url, urllen, "%s", href);
                    rc = 0;
                    break;
                }
            }
            json_decref(j);
            net_resp_free(&resp);
            if (rc == 0)
                return 0;
            snprintf(err, errlen, "WebFinger for %s has no ActivityPub link", acct);
            return -1;
        }
        net_resp_free(&resp);
    }
    if (!err[0])
        snprintf(err, errlen, "WebFinger for %s failed", acct);
    return -1;
}
