/* Test support; see testlib.h. */
#include "testlib.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int tl_passed, tl_failed;

void tl_check(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        tl_passed++;
        return;
    }
    tl_failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int tl_done(void)
{
    printf("%d passed, %d failed\n", tl_passed, tl_failed);
    return tl_failed ? 1 : 0;
}

char *tl_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

const char *tl_vector(const char *rel)
{
    static char path[1024];
    const char *base = getenv("DINET_VECTORS");
    snprintf(path, sizeof path, "%s/%s", base ? base : "tests/vectors", rel);
    return path;
}

char *tl_tmpdir(const char *tag)
{
    char tmpl[256];
    const char *t = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/dinet-%s-XXXXXX", t ? t : "/tmp", tag);
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static const char *bin(void)
{
    const char *b = getenv("DINET_BIN");
    return b ? b : "build/dinet";
}

int tl_dinet(const char *input, char **out, const char *const *argv)
{
    int in[2], outp[2];
    if (pipe(in) || pipe(outp))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[1]);
        close(outp[0]);
        int argc = 0;
        while (argv[argc])
            argc++;
        const char **av = calloc((size_t)argc + 2, sizeof *av);
        av[0] = bin();
        for (int i = 0; i < argc; i++)
            av[i + 1] = argv[i];
        execv(bin(), (char *const *)av);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    if (input) {
        size_t n = strlen(input);
        if (write(in[1], input, n) != (ssize_t)n) {
            /* the child may not read stdin; that is fine */
        }
    }
    close(in[1]);
    size_t cap = 1024, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = read(outp[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)got;
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    close(outp[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tl_server_start(tl_server *s, const char *data)
{
    return tl_server_start_port(s, data, 0);
}

int tl_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int tl_server_start_port(tl_server *s, const char *data, int port)
{
    int outp[2];
    memset(s, 0, sizeof *s);
    snprintf(s->data, sizeof s->data, "%s", data);
    if (pipe(outp))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(outp[1], 1);
        close(outp[0]);
        char logp[600], listen[64];
        snprintf(logp, sizeof logp, "%s/serve.log", data);
        int lfd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (lfd >= 0)
            dup2(lfd, 2);
        snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
        execl(bin(), bin(), "serve", "--data", data, "--listen", listen, (char *)NULL);
        _exit(127);
    }
    close(outp[1]);
    s->pid = pid;
    /* The server prints "listening on http://HOST:PORT" as its first line. */
    char line[256];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t got = read(outp[0], line + n, 1);
        if (got <= 0)
            break;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    /* Keep the pipe open in a detached reader so later writes never block. */
    if (fork() == 0) {
        char sink[512];
        while (read(outp[0], sink, sizeof sink) > 0) {
        }
        _exit(0);
    }
    close(outp[0]);
    const char *p = strrchr(line, ':');
    if (!strstr(line, "listening on") || !p) {
        fprintf(stderr, "server did not start: '%s'\n", line);
        tl_server_kill(s);
        return -1;
    }
    s->port = atoi(p + 1);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    return 0;
}

int tl_server_stop(tl_server *s)
{
    int status = 0;
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void tl_server_kill(tl_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

struct sink {
    char *p;
    size_t n;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t add = size * nmemb;
    char *np = realloc(s->p, s->n + add + 1);
    if (!np)
        return 0;
    memcpy(np + s->n, ptr, add);
    s->n += add;
    np[s->n] = '\0';
    s->p = np;
    return add;
}

int tl_http(tl_resp *r, const char *method, const char *url, const char *const *hdrs,
            const char *body, const char *jar)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    struct sink b = {0}, h = {0};
    struct curl_slist *sl = NULL;
    for (int i = 0; hdrs && hdrs[i]; i++)
        sl = curl_slist_append(sl, hdrs[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (jar) {
        curl_easy_setopt(c, CURLOPT_COOKIEFILE, jar);
        curl_easy_setopt(c, CURLOPT_COOKIEJAR, jar);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    r->body = b.p ? b.p : strdup("");
    r->len = b.n;
    r->headers = h.p ? h.p : strdup("");
    if (r->len)
        r->json = json_loadb(r->body, r->len, 0, NULL);
    return rc == CURLE_OK ? 0 : -1;
}

char *tl_header(const tl_resp *r, const char *name)
{
    size_t nl = strlen(name);
    const char *p = r->headers;
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            eol = p + strlen(p);
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t)(eol - v));
        }
        p = *eol ? eol + 2 : eol;
    }
    return NULL;
}

void tl_resp_free(tl_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

const char *const tl_role_names[TL_NROLES] = {"admin", "editor", "moderator", "viewer"};

static int node_users(tl_node *n, const char *data);

int tl_node_setup_fed(tl_node *n, const char *tag, const char *district,
                      const char *const *extra_conf)
{
    memset(n, 0, sizeof *n);
    n->dir = tl_tmpdir(tag);
    int port = tl_free_port();
    if (!n->dir || port <= 0)
        return -1;
    char data[600], base[64];
    snprintf(data, sizeof data, "%s/node", n->dir);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    const char *argv[] = {"init",      "--data",   data, "--role", "district", "--district",
                          district,    "--base-url", base, "--allow-private", "127.0.0.0/8",
                          NULL};
    if (tl_dinet(NULL, NULL, argv) != 0)
        return -1;
    char conf[700];
    snprintf(conf, sizeof conf, "%s/dinet.conf", data);
    FILE *f = fopen(conf, "a");
    if (!f)
        return -1;
    fputs("retry_base_ms = 200\n", f);
    for (int i = 0; extra_conf && extra_conf[i]; i++)
        fprintf(f, "%s\n", extra_conf[i]);
    fclose(f);
    if (node_users(n, data))
        return -1;
    return tl_server_start_port(&n->srv, data, port);
}

int tl_log_count(const tl_node *n, const char *needle)
{
    char path[700];
    snprintf(path, sizeof path, "%s/node/serve.log", n->dir);
    char *txt = tl_read_file(path, NULL);
    int count = 0;
    for (char *line = txt; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strstr(line, needle))
            count++;
        if (!nl)
            break;
        line = nl + 1;
    }
    free(txt);
    return count;
}

int tl_node_setup(tl_node *n, const char *tag, const char *const *extra_init)
{
    memset(n, 0, sizeof *n);
    n->dir = tl_tmpdir(tag);
    if (!n->dir)
        return -1;
    char data[600];
    snprintf(data, sizeof data, "%s/node", n->dir);
    const char *argv[32] = {"init", "--data", data, "--role", "district", "--district", "15003",
                            "--base-url", "http://127.0.0.1:1", NULL};
    int argc = 9;
    for (int i = 0; extra_init && extra_init[i] && argc < 30; i++)
        argv[argc++] = extra_init[i];
    argv[argc] = NULL;
    if (tl_dinet(NULL, NULL, argv) != 0) {
        fprintf(stderr, "init failed\n");
        return -1;
    }
    if (node_users(n, data))
        return -1;
    return tl_server_start(&n->srv, data);
}

static int node_users(tl_node *n, const char *data)
{
    for (int r = 0; r < TL_NROLES; r++) {
        const char *ua[] = {"user", "add", "--data", data, "--role", tl_role_names[r],
                            tl_role_names[r], NULL};
        if (tl_dinet(TL_PASSWORD "\n", NULL, ua) != 0)
            return -1;
        char tname[32];
        snprintf(tname, sizeof tname, "%s-token", tl_role_names[r]);
        const char *ta[] = {"token", "create", "--data", data, "--role", tl_role_names[r],
                            tname, NULL};
        char *out = NULL;
        if (tl_dinet(NULL, &out, ta) != 0) {
            free(out);
            return -1;
        }
        out[strcspn(out, "\n")] = '\0';
        snprintf(n->token[r], sizeof n->token[r], "%s", out);
        free(out);
    }
    return 0;
}

int tl_api(tl_resp *r, tl_node *n, const char *method, const char *path, const char *token,
           const char *body, const char *extra)
{
    char url[1024], auth[160];
    snprintf(url, sizeof url, "%s%s", n->srv.base, path);
    const char *hdrs[4];
    int h = 0;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdrs[h++] = auth;
    }
    if (body)
        hdrs[h++] = "Content-Type: application/json";
    if (extra)
        hdrs[h++] = extra;
    hdrs[h] = NULL;
    return tl_http(r, method, url, hdrs, body, NULL);
}

/* ---- state aggregator ---------------------------------------------------- */

int tl_node_setup_role(tl_node *n, const char *tag, const char *role, const char *district,
                       const char *const *extra_conf)
{
    memset(n, 0, sizeof *n);
    n->dir = tl_tmpdir(tag);
    int port = tl_free_port();
    if (!n->dir || port <= 0)
        return -1;
    char data[600], base[64];
    snprintf(data, sizeof data, "%s/node", n->dir);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    const char *argv[16] = {"init", "--data",          data,          "--role", role, "--base-url",
                            base,   "--allow-private", "127.0.0.0/8", NULL};
    if (district) {
        argv[9] = "--district";
        argv[10] = district;
        argv[11] = NULL;
    }
    if (tl_dinet(NULL, NULL, argv) != 0)
        return -1;
    char conf[700];
    snprintf(conf, sizeof conf, "%s/dinet.conf", data);
    FILE *f = fopen(conf, "a");
    if (!f)
        return -1;
    fputs("retry_base_ms = 200\n", f);
    if (!strcmp(role, "state"))
        fputs("sync_interval = 1\n", f);
    for (int i = 0; extra_conf && extra_conf[i]; i++)
        fprintf(f, "%s\n", extra_conf[i]);
    fclose(f);
    for (int r = 0; r < TL_NROLES; r++) {
        char tname[32];
        snprintf(tname, sizeof tname, "%s-token", tl_role_names[r]);
        const char *ta[] = {"token",  "create",         "--data", data,
                            "--role", tl_role_names[r], tname,    NULL};
        char *out = NULL;
        if (tl_dinet(NULL, &out, ta) != 0) {
            free(out);
            return -1;
        }
        out[strcspn(out, "\n")] = '\0';
        snprintf(n->token[r], sizeof n->token[r], "%s", out);
        free(out);
    }
    return tl_server_start_port(&n->srv, data, port);
}

int tl_node_setup_state(tl_node *n, const char *tag, const char *const *extra_conf)
{
    return tl_node_setup_role(n, tag, "state", NULL, extra_conf);
}

const char *tl_node_data(const tl_node *n)
{
    static char data[600];
    snprintf(data, sizeof data, "%s/node", n->dir);
    return data;
}

int tl_node_restart(tl_node *n)
{
    const char *colon = strrchr(n->srv.base, ':');
    int port = colon ? atoi(colon + 1) : 0;
    if (port <= 0 || n->srv.pid > 0)
        return -1;
    char data[600];
    snprintf(data, sizeof data, "%s/node", n->dir);
    return tl_server_start_port(&n->srv, data, port);
}

#if defined(__SANITIZE_ADDRESS__)
#define TL_SLOW 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_SLOW 3
#endif
#endif
#ifndef TL_SLOW
#define TL_SLOW 1
#endif

double tl_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool tl_eventually(bool (*fn)(void *), void *arg, double seconds)
{
    double end = tl_mono() + seconds * TL_SLOW;
    for (;;) {
        if (fn(arg))
            return true;
        if (tl_mono() > end)
            return false;
        usleep(100000);
    }
}

json_t *tl_get_json(tl_node *n, const char *path, const char *token, long *status)
{
    tl_resp r;
    int rc = tl_api(&r, n, "GET", path, token, NULL, NULL);
    if (status)
        *status = rc ? -1 : r.status;
    json_t *j = json_incref(r.json);
    tl_resp_free(&r);
    return j;
}

const char *tl_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

long long tl_jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}
