/* Federation context; see fed.h. */
#include "fed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fed_keys_dir(const config *cfg, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/keys", cfg->data_dir);
}

int fed_ctx_init(fed_ctx *ctx, const config *cfg, char *err, size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = cfg;
    char dir[1100];
    fed_keys_dir(cfg, dir, sizeof dir);
    if (fed_keys_load(dir, &ctx->keys)) {
        snprintf(err, errlen, "cannot load the node's keys from %s", dir);
        return -1;
    }
    ctx->rsa_public_pem = fed_keys_rsa_public_pem(&ctx->keys);
    ctx->ed_multibase = fed_keys_ed_multibase(ctx->keys.ed_pk);
    if (!ctx->rsa_public_pem || !ctx->ed_multibase) {
        snprintf(err, errlen, "cannot encode the node's public keys");
        fed_ctx_free(ctx);
        return -1;
    }
    const char *b = cfg->base_url;
    const char *h = strstr(b, "://");
    snprintf(ctx->host, sizeof ctx->host, "%s", h ? h + 3 : b);
    snprintf(ctx->actor, FED_URL, "%s/actor", b);
    snprintf(ctx->key_id, FED_URL, "%s/actor#main-key", b);
    snprintf(ctx->assertion_id, FED_URL, "%s/actor#ed25519-key", b);
    snprintf(ctx->inbox, FED_URL, "%s/actor/inbox", b);
    snprintf(ctx->outbox, FED_URL, "%s/actor/outbox", b);
    snprintf(ctx->followers, FED_URL, "%s/actor/followers", b);
    snprintf(ctx->following, FED_URL, "%s/actor/following", b);
    snprintf(ctx->shared_inbox, FED_URL, "%s/inbox", b);
    snprintf(ctx->instance, FED_URL, "%s/instance", b);
    snprintf(ctx->instance_key_id, FED_URL, "%s/instance#main-key", b);
    snprintf(ctx->context_url, FED_URL, "%s/ns/v1", b);
    return 0;
}

void fed_ctx_group(const fed_ctx *base, const char *code, fed_ctx *out)
{
    *out = *base;
    out->view = true;
    snprintf(out->local, sizeof out->local, "%s", code);
    const char *b = base->cfg->base_url;
    snprintf(out->actor, FED_URL, "%s/groups/%s", b, code);
    snprintf(out->key_id, FED_URL, "%s/groups/%s#main-key", b, code);
    snprintf(out->assertion_id, FED_URL, "%s/groups/%s#ed25519-key", b, code);
    snprintf(out->inbox, FED_URL, "%s/groups/%s/inbox", b, code);
    snprintf(out->outbox, FED_URL, "%s/groups/%s/outbox", b, code);
    snprintf(out->followers, FED_URL, "%s/groups/%s/followers", b, code);
    snprintf(out->following, FED_URL, "%s/groups/%s/following", b, code);
}

void fed_ctx_local(const fed_ctx *base, const char *local, fed_ctx *out)
{
    if (local && *local) {
        fed_ctx_group(base, local, out);
    } else {
        *out = *base;
        out->view = true;
    }
}

void fed_ctx_free(fed_ctx *ctx)
{
    if (ctx->view)
        return;
    fed_keys_free(&ctx->keys);
    free(ctx->rsa_public_pem);
    free(ctx->ed_multibase);
    ctx->rsa_public_pem = ctx->ed_multibase = NULL;
}
