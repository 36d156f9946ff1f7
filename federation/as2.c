/* AS2 mapping; see as2.h. */
#include "as2.h"
#include "district.h"
#include "proof.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *ext_terms(void)
{
    /* `comment`: a discussion comment's API document (protocol-docs/discussion.md). */
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "dinet", AS2_NS,
                     "districtCode", "dinet:districtCode", "recordVersion",
                     "dinet:recordVersion", "record", "@id", "dinet:record", "@type", "@json",
                     "comment", "@id", "dinet:comment", "@type", "@json");
}

json_t *as2_context(void)
{
    return json_pack("[s, s, o]", "https://www.w3.org/ns/activitystreams",
                     "https://w3id.org/security/data-integrity/v1", ext_terms());
}

json_t *as2_context_document(void)
{
    return json_pack("{s:o}", "@context", ext_terms());
}

json_t *as2_actor(const fed_ctx *ctx, bool instance)
{
    const config *c = ctx->cfg;
    const district *d = district_find(c->district);
    json_t *context = json_pack(
        "[s, s, s, s, s, {s:s, s:s, s:s, s:s, s:s, s:s, s:s}]",
        "https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
        "https://w3id.org/security/data-integrity/v1", "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1", "manuallyApprovesFollowers",
        "as:manuallyApprovesFollowers", "toot", "http://joinmastodon.org/ns#", "discoverable",
        "toot:discoverable", "indexable", "toot:indexable", "schema", "http://schema.org#",
        "PropertyValue", "schema:PropertyValue", "value", "schema:value");
    const char *id = instance ? ctx->instance : ctx->actor;
    char key_id[FED_URL + 16], home[600];
    snprintf(key_id, sizeof key_id, "%s#main-key", id);
    snprintf(home, sizeof home, "%s/", c->base_url);
    json_t *a = json_pack("{s:o, s:s, s:s}", "@context", context, "id", id, "type",
                          instance ? "Service" : "Organization");
    if (instance) {
        json_object_set_new(a, "preferredUsername", json_string("instance"));
        json_object_set_new(a, "name", json_string("dinet instance actor"));
        json_object_set_new(a, "summary",
                            json_string("Signs this server's requests. Follow the node's "
                                        "Organization actor instead."));
        json_object_set_new(a, "inbox", json_string(ctx->shared_inbox));
        json_object_set_new(a, "outbox", json_string(ctx->outbox));
        json_object_set_new(a, "manuallyApprovesFollowers", json_true());
        json_object_set_new(a, "discoverable", json_false());
        json_object_set_new(a, "indexable", json_false());
    } else {
        char summary[1024];
        snprintf(summary, sizeof summary,
                 "<p>%s: Maßnahmen und Akteure der Integrationsarbeit nach dem "
                 "Landesintegrationskonzept Sachsen-Anhalt.</p>",
                 strcmp(c->role, "state") ? "Integrationsnetzwerk im Kreis" : "Landesweite Sicht");
        json_object_set_new(a, "preferredUsername", json_string(c->handle));
        json_object_set_new(a, "name", json_string(c->name));
        json_object_set_new(a, "summary", json_string(summary));
        json_object_set_new(a, "url", json_string(home));
        json_object_set_new(a, "inbox", json_string(ctx->inbox));
        json_object_set_new(a, "outbox", json_string(ctx->outbox));
        json_object_set_new(a, "followers", json_string(ctx->followers));
        json_object_set_new(a, "following", json_string(ctx->following));
        json_object_set_new(a, "endpoints", json_pack("{s:s}", "sharedInbox", ctx->shared_inbox));
        json_object_set_new(a, "manuallyApprovesFollowers", json_boolean(c->manual_approve));
        json_object_set_new(a, "discoverable", json_true());
        json_object_set_new(a, "indexable", json_true());
        json_object_set_new(
            a, "attachment",
            json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "type", "PropertyValue", "name",
                      "Kreisschlüssel", "value", c->district, "type", "PropertyValue", "name",
                      strcmp(c->role, "state") ? "Kreis" : "Land", "value",
                      d ? d->name : c->district));
    }
    json_object_set_new(a, "publicKey", json_pack("{s:s, s:s, s:s}", "id", key_id, "owner", id,
                                                  "publicKeyPem", ctx->rsa_public_pem));
    char ed_id[FED_URL + 16];
    snprintf(ed_id, sizeof ed_id, "%s#ed25519-key", id);
    json_object_set_new(a, "assertionMethod",
                        json_pack("[{s:s, s:s, s:s, s:s}]", "id", ed_id, "type", "Multikey",
                                  "controller", id, "publicKeyMultibase", ctx->ed_multibase));
    return a;
}

json_t *as2_webfinger(const fed_ctx *ctx, const char *resource)
{
    const config *c = ctx->cfg;
    if (!resource)
        return NULL;
    char acct[640], inst[640];
    snprintf(acct, sizeof acct, "acct:%s@%s", c->handle, ctx->host);
    snprintf(inst, sizeof inst, "acct:%s@%s", "instance", ctx->host);
    bool self = strcasecmp(resource, acct) == 0 || strcmp(resource, ctx->actor) == 0;
    bool instance = strcasecmp(resource, inst) == 0 || strcmp(resource, ctx->instance) == 0;
    if (!self && !instance)
        return NULL;
    char home[600];
    snprintf(home, sizeof home, "%s/", c->base_url);
    const char *id = self ? ctx->actor : ctx->instance;
    return json_pack("{s:s, s:[s], s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "subject",
                     self ? acct : inst, "aliases", id, "links", "rel", "self", "type",
                     "application/activity+json", "href", id, "rel",
                     "http://webfinger.net/rel/profile-page", "type", "text/html", "href", home);
}

json_t *as2_nodeinfo_links(const fed_ctx *ctx)
{
    char u21[700], u20[700];
    snprintf(u21, sizeof u21, "%s/nodeinfo/2.1", ctx->cfg->base_url);
    snprintf(u20, sizeof u20, "%s/nodeinfo/2.0", ctx->cfg->base_url);
    return json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "links", "rel",
                     "http://nodeinfo.diaspora.software/ns/schema/2.1", "href", u21, "rel",
                     "http://nodeinfo.diaspora.software/ns/schema/2.0", "href", u20);
}

json_t *as2_nodeinfo(const fed_ctx *ctx, const char *version, long users, long posts)
{
    const config *c = ctx->cfg;
    json_t *sw = json_pack("{s:s, s:s}", "name", "dinet", "version", DINET_VERSION);
    if (strcmp(version, "2.1") == 0)
        json_object_set_new(sw, "repository",
                            json_string("https://github.com/dinet-sachsen-anhalt/dinet"));
    return json_pack("{s:s, s:o, s:[s], s:{s:[], s:[]}, s:b, s:{s:{s:i, s:i, s:i}, s:i}, "
                     "s:{s:s, s:s, s:s}}",
                     "version", version, "software", sw, "protocols", "activitypub", "services",
                     "inbound", "outbound", "openRegistrations", 0, "usage", "users", "total",
                     (int)users, "activeMonth", (int)users, "activeHalfyear", (int)users,
                     "localPosts", (int)posts, "metadata", "nodeName", c->name, "role", c->role,
                     "districtCode", c->district);
}

char *as2_html_paragraphs(const char *text)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "<p>");
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '<':
            buf_puts(&b, "&lt;");
            break;
        case '>':
            buf_puts(&b, "&gt;");
            break;
        case '&':
            buf_puts(&b, "&amp;");
            break;
        case '"':
            buf_puts(&b, "&quot;");
            break;
        case '\n':
            if (p[1] == '\n') {
                buf_puts(&b, "</p><p>");
                while (p[1] == '\n')
                    p++;
            } else {
                buf_puts(&b, "<br>");
            }
            break;
        default:
            buf_append(&b, p, 1);
        }
    }
    buf_puts(&b, "</p>");
    return buf_take(&b);
}

static const char *status_de(const char *s)
{
    if (!s)
        return "";
    if (!strcmp(s, "planned"))
        return "geplant";
    if (!strcmp(s, "active"))
        return "laufend";
    if (!strcmp(s, "completed"))
        return "abgeschlossen";
    if (!strcmp(s, "paused"))
        return "pausiert";
    if (!strcmp(s, "cancelled"))
        return "abgebrochen";
    return s;
}

json_t *as2_object(const fed_ctx *ctx, const json_t *doc, bool with_context)
{
    const char *kind = util_jstr(doc, "type");
    const char *url = util_jstr(doc, "url");
    if (!kind || !url)
        return NULL;
    json_t *o = json_object();
    if (with_context)
        json_object_set_new(o, "@context", as2_context());
    json_object_set_new(o, "id", json_string(url));
    const char *former = !strcmp(kind, "measure")        ? "Article"
                         : !strcmp(kind, "organisation") ? "Profile"
                                                         : "Note";
    if (util_jstr(doc, "deleted")) {
        json_object_set_new(o, "type", json_string("Tombstone"));
        json_object_set_new(o, "formerType", json_string(former));
        json_object_set_new(o, "deleted", json_string(util_jstr(doc, "deleted")));
    } else {
        json_object_set_new(o, "type", json_string(former));
        json_object_set_new(o, "attributedTo", json_string(ctx->actor));
        json_object_set_new(o, "url", json_string(url));
        json_object_set_new(o, "published", json_string(util_jstr(doc, "created")));
        json_object_set_new(o, "updated", json_string(util_jstr(doc, "updated")));
        json_object_set_new(o, "to", json_pack("[s]", AS2_PUBLIC));
        json_object_set_new(o, "cc", json_pack("[s]", ctx->followers));
        if (!strcmp(kind, "measure")) {
            char summary[512];
            buf fields;
            buf_init(&fields);
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(doc, "fields_of_action"), i, e)
                buf_printf(&fields, "%s%s", i ? ", " : "", json_string_value(e));
            snprintf(summary, sizeof summary, "Maßnahme · %s · Fortschritt %lld %% · %s",
                     status_de(util_jstr(doc, "status")),
                     (long long)json_integer_value(json_object_get(doc, "progress")),
                     fields.p ? fields.p : "");
            buf_free(&fields);
            char *content = as2_html_paragraphs(util_jstr(doc, "description"));
            json_object_set_new(o, "name", json_string(util_jstr(doc, "title")));
            json_object_set_new(o, "summary", json_string(summary));
            json_object_set_new(o, "content", json_string(content ? content : ""));
            free(content);
        } else if (!strcmp(kind, "organisation")) {
            char *content = as2_html_paragraphs(util_jstr(doc, "description"));
            json_object_set_new(o, "name", json_string(util_jstr(doc, "name")));
            json_object_set_new(o, "content", json_string(content ? content : ""));
            json_t *desc = json_pack("{s:s, s:s}", "type", "Organization", "name", util_jstr(doc, "name"));
            if (util_jstr(doc, "website"))
                json_object_set_new(desc, "url", json_string(util_jstr(doc, "website")));
            json_object_set_new(o, "describes", desc);
            free(content);
        } else {
            buf b;
            buf_init(&b);
            char *t = as2_html_paragraphs(util_jstr(doc, "title"));
            char *x = as2_html_paragraphs(util_jstr(doc, "text"));
            /* <p>Title</p> becomes <p><strong>Title</strong></p>. */
            if (t && strlen(t) >= 7) {
                buf_puts(&b, "<p><strong>");
                buf_append(&b, t + 3, strlen(t) - 7);
                buf_puts(&b, "</strong></p>");
            }
            buf_puts(&b, x ? x : "");
            free(t);
            free(x);
            char murl[FED_URL + 64];
            snprintf(murl, sizeof murl, "%s/measures/%s", ctx->cfg->base_url,
                     util_jstr(doc, "measure") ? util_jstr(doc, "measure") : "");
            json_object_set_new(o, "content", json_string(b.p ? b.p : ""));
            json_object_set_new(o, "inReplyTo", json_string(murl));
            json_object_set_new(o, "context", json_string(murl));
            buf_free(&b);
        }
    }
    json_object_set_new(o, "districtCode", json_string(ctx->cfg->district));
    json_object_set(o, "recordVersion", json_object_get(doc, "version"));
    json_object_set(o, "record", (json_t *)doc);
    return o;
}

static json_t *new_activity(const fed_ctx *ctx, const char *type, json_t *object,
                            json_t *to, json_t *cc, bool dinet_terms)
{
    char id[FED_URL + 64], rid[40], now[21];
    util_ordered_id(rid, sizeof rid);
    snprintf(id, sizeof id, "%s/activities/%s", ctx->cfg->base_url, rid);
    util_now_iso(now);
    json_t *ctxt = dinet_terms ? as2_context()
                               : json_pack("[s, s]", "https://www.w3.org/ns/activitystreams",
                                           "https://w3id.org/security/data-integrity/v1");
    json_t *a = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o}", "@context", ctxt, "id", id,
                          "type", type, "actor", ctx->actor, "published", now, "to", to);
    if (cc)
        json_object_set_new(a, "cc", cc);
    if (json_is_object(object))
        json_object_del(object, "@context");
    json_object_set_new(a, "object", object);
    if (proof_sign(a, ctx->keys.ed_sk, ctx->assertion_id, "assertionMethod", 0)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *as2_activity(const fed_ctx *ctx, const char *type, json_t *object)
{
    return new_activity(ctx, type, object, json_pack("[s]", AS2_PUBLIC),
                        json_pack("[s]", ctx->followers), true);
}

json_t *as2_announce(const fed_ctx *ctx, const char *object_id)
{
    return new_activity(ctx, "Announce", json_string(object_id), json_pack("[s]", AS2_PUBLIC),
                        json_pack("[s]", ctx->followers), false);
}

json_t *as2_direct_activity(const fed_ctx *ctx, const char *type, json_t *object,
                            const char *to_actor)
{
    return new_activity(ctx, type, object, json_pack("[s]", to_actor), NULL, true);
}
