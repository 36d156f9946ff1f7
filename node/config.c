/* Node configuration; see config.h. */
#include "config.h"
#include "district.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->role, sizeof c->role, "district");
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
    c->max_body = 1024 * 1024;
    c->retry_base_ms = 30000;
    c->sync_interval = 300;
}

static int set_str(char *dst, size_t dstlen, const char *key, const char *v, char *err,
                   size_t errlen)
{
    if (strlen(v) >= dstlen) {
        snprintf(err, errlen, "%s: value too long (max %zu bytes)", key, dstlen - 1);
        return -1;
    }
    snprintf(dst, dstlen, "%s", v);
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0")) {
        *out = false;
        return 0;
    }
    return -1;
}

static bool valid_handle(const char *h)
{
    if (!*h || strlen(h) > 63)
        return false;
    for (const char *p = h; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-' ||
              *p == '.'))
            return false;
    return true;
}

static bool valid_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return false;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    return !errno && *end == '\0' && end != colon + 1 && port >= 0 && port <= 65535;
}

/* Returns NULL when every comma-separated item is ADDR/PREFIX, else a
 * pointer to a static copy of the first bad item. */
static const char *invalid_cidr_list(const char *v)
{
    static __thread char item[128];
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), p);
        char *t = item;
        while (*t == ' ')
            t++;
        char *slash = strchr(t, '/');
        unsigned char addr[16];
        bool ok = slash != NULL;
        if (ok) {
            *slash = '\0';
            bool v6 = strchr(t, ':') != NULL;
            char *end;
            errno = 0;
            long prefix = strtol(slash + 1, &end, 10);
            ok = inet_pton(v6 ? AF_INET6 : AF_INET, t, addr) == 1 && !errno && *end == '\0' &&
                 end != slash + 1 && prefix >= 0 && prefix <= (v6 ? 128 : 32);
            *slash = '/';
        }
        if (!ok)
            return t;
        p += n;
        if (*p == ',')
            p++;
    }
    return NULL;
}

int config_set(config *c, const char *key, const char *v, char *err, size_t errlen)
{
    if (!strcmp(key, "role")) {
        if (strcmp(v, "district") && strcmp(v, "state")) {
            snprintf(err, errlen, "role: must be 'district' or 'state', not '%s'", v);
            return -1;
        }
        return set_str(c->role, sizeof c->role, key, v, err, errlen);
    }
    if (!strcmp(key, "district")) {
        if (!district_find(v)) {
            snprintf(err, errlen,
                     "district: unknown district code '%s' (use one of the 14 Kreisschlüssel "
                     "15001-15003, 15081-15091, or 15 for the state)",
                     v);
            return -1;
        }
        return set_str(c->district, sizeof c->district, key, v, err, errlen);
    }
    if (!strcmp(key, "name"))
        return set_str(c->name, sizeof c->name, key, v, err, errlen);
    if (!strcmp(key, "base_url")) {
        size_t n = strlen(v);
        if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || n < 10 ||
            v[n - 1] == '/' || strchr(v + 8, '/') || strchr(v, '?') || strchr(v, '#')) {
            snprintf(err, errlen,
                     "base_url: must be an origin like https://integration.example.de "
                     "(http or https, no path, no trailing slash), not '%s'",
                     v);
            return -1;
        }
        return set_str(c->base_url, sizeof c->base_url, key, v, err, errlen);
    }
    if (!strcmp(key, "handle")) {
        if (!valid_handle(v) || !strcmp(v, "instance")) {
            snprintf(err, errlen,
                     "handle: use 1-63 characters a-z, 0-9, '-', '_' or '.' (not 'instance', "
                     "which names the server's own actor), not '%s'",
                     v);
            return -1;
        }
        return set_str(c->handle, sizeof c->handle, key, v, err, errlen);
    }
    if (!strcmp(key, "listen")) {
        if (!valid_listen(v)) {
            snprintf(err, errlen, "listen: must be HOST:PORT with a port 0-65535, not '%s'", v);
            return -1;
        }
        return set_str(c->listen, sizeof c->listen, key, v, err, errlen);
    }
    if (!strcmp(key, "allow_private")) {
        const char *bad = invalid_cidr_list(v);
        if (bad) {
            snprintf(err, errlen,
                     "allow_private: '%s' is not a CIDR like 127.0.0.0/8 or fd00::/8", bad);
            return -1;
        }
        return set_str(c->allow_private, sizeof c->allow_private, key, v, err, errlen);
    }
    if (!strcmp(key, "map_geojson"))
        return set_str(c->map_geojson, sizeof c->map_geojson, key, v, err, errlen);
    if (!strcmp(key, "sync_interval")) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || end == v || n < 1 || n > 86400) {
            snprintf(err, errlen, "sync_interval: seconds from 1 to 86400, not '%s'", v);
            return -1;
        }
        c->sync_interval = n;
        return 0;
    }
    if (!strcmp(key, "max_body") || !strcmp(key, "threads") || !strcmp(key, "retry_base_ms")) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        long lo = !strcmp(key, "threads") ? 0 : !strcmp(key, "retry_base_ms") ? 10 : 1024;
        long hi = !strcmp(key, "threads")         ? 256
                  : !strcmp(key, "retry_base_ms") ? 3600000
                                                  : 64L * 1024 * 1024;
        if (errno || *end || end == v || n < lo || n > hi) {
            snprintf(err, errlen, "%s: must be a whole number from %ld to %ld, not '%s'", key, lo,
                     hi, v);
            return -1;
        }
        if (!strcmp(key, "threads"))
            c->threads = (int)n;
        else if (!strcmp(key, "retry_base_ms"))
            c->retry_base_ms = n;
        else
            c->max_body = n;
        return 0;
    }
    if (!strcmp(key, "manual_approve")) {
        if (parse_bool(v, &c->manual_approve)) {
            snprintf(err, errlen, "manual_approve: must be true or false, not '%s'", v);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown setting '%s'", key);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int config_load(config *c, const char *dir, char *err, size_t errlen)
{
    char path[1200];
    snprintf(c->data_dir, sizeof c->data_dir, "%s", dir);
    config_path(c, "dinet.conf", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read (%s); run 'dinet init' first", path,
                 strerror(errno));
        return -1;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char e2[512];
        if (config_set(c, trim(s), trim(eq + 1), e2, sizeof e2)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_validate(const config *c, char *err, size_t errlen)
{
    if (!c->base_url[0]) {
        snprintf(err, errlen, "base_url: missing (e.g. --base-url https://integration.example.de)");
        return -1;
    }
    if (!strcmp(c->role, "district")) {
        if (!c->district[0] || !strcmp(c->district, "15")) {
            snprintf(err, errlen, "district: a district node needs --district CODE, one of the "
                                  "14 Kreisschlüssel (e.g. 15003 for Magdeburg)");
            return -1;
        }
    } else if (c->district[0] && strcmp(c->district, "15")) {
        snprintf(err, errlen, "district: the state node has code 15, not '%s'", c->district);
        return -1;
    }
    return 0;
}

int config_save(const config *c)
{
    buf b;
    buf_init(&b);
    buf_printf(&b,
               "# dinet node configuration. Flags given to 'dinet serve' override these.\n"
               "role = %s\ndistrict = %s\nname = %s\nbase_url = %s\nhandle = %s\n"
               "listen = %s\nmax_body = %ld\nthreads = %d\nmanual_approve = %s\n"
               "retry_base_ms = %ld\nsync_interval = %ld\n",
               c->role, c->district, c->name, c->base_url, c->handle, c->listen, c->max_body,
               c->threads, c->manual_approve ? "true" : "false", c->retry_base_ms,
               c->sync_interval);
    if (c->allow_private[0])
        buf_printf(&b, "allow_private = %s\n", c->allow_private);
    if (c->map_geojson[0])
        buf_printf(&b, "map_geojson = %s\n", c->map_geojson);
    char path[1200];
    config_path(c, "dinet.conf", path, sizeof path);
    int rc = b.oom ? -1 : util_write_file(path, b.p, b.len, 0640);
    buf_free(&b);
    return rc;
}

void config_path(const config *c, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", c->data_dir, name);
}
