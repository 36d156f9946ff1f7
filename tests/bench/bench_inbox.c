/* bench_inbox: inbox ingestion benchmark for a dinet node.
 *
 * The program plays a real remote actor on 127.0.0.1:
 *   1. It makes its own RSA-2048 and Ed25519 keys and serves its actor
 *      document (a Person with publicKey and an assertionMethod Multikey, as
 *      federation/as2.c publishes them) and an inbox that answers 202, over
 *      libmicrohttpd.
 *   2. It initialises a fresh node in a temporary directory (`dinet init`,
 *      `--allow-private 127.0.0.0/8`), creates an admin token, starts
 *      `dinet serve`, and makes the node follow it through the admin API
 *      (POST /api/v1/federation/following). When the node's Follow arrives,
 *      it answers with a signed Accept, so the node stores its Creates.
 *   3. It prepares N Create activities (Note or Article, unique ids, an
 *      eddsa-jcs-2022 proof and a draft-cavage rsa-sha256 HTTP signature
 *      each), all signed before the timed phase.
 *   4. Timed phase: POSTs them to the node's shared inbox at a fixed
 *      concurrency over one libcurl multi handle with keep-alive, and counts
 *      the answers "202 accepted".
 *   5. Stops the node with SIGTERM and counts the rows of remote_objects in
 *      DATA/dinet.db: every accepted activity must be stored.
 *
 * The last line of output is machine-readable:
 *   RESULT inbox n=… accepted=… seconds=… rate=… stored=… durable=yes|no …
 *
 * Everything is bounded: a guard thread ends the program (killing the node
 * and removing the temporary directory) on SIGINT/SIGTERM or when
 * --max-seconds have passed; every HTTP request has a timeout. Only
 * 127.0.0.1 is ever contacted.
 *
 * Usage: bench_inbox [--dinet PATH] [--n 30000] [--concurrency 32]
 *                    [--threads N] [--max-seconds 600] [--perf FILE]
 *                    [--keep] [--quiet] */
#include "httpsig.h"
#include "keys.h"
#include "proof.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------ */

static const char *opt_dinet;
static long opt_n = 30000;
static int opt_conc = 32;
static int opt_sign_threads;
static int opt_node_threads; /* 0: the node's default */
static long opt_max_seconds = 600;
static const char *opt_perf;
static bool opt_keep;
static bool opt_quiet;

/* ---- process bookkeeping and the guard ---------------------------------- */

static char tmpdir[512];
static pid_t node_pid, perf_pid;
static pthread_mutex_t cleanup_mu = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    if (opt_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Waits up to timeout seconds for pid; SIGKILL after that. Returns the wait
 * status, or -1. */
static int reap(pid_t pid, double timeout)
{
    int status = 0;
    double end = now_s() + timeout;
    while (now_s() < end) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* Kills what this program started and removes the temporary directory. */
static void cleanup(void)
{
    pthread_mutex_lock(&cleanup_mu);
    if (perf_pid > 0) {
        kill(perf_pid, SIGINT);
        reap(perf_pid, 10);
        perf_pid = 0;
    }
    if (node_pid > 0) {
        kill(node_pid, SIGKILL);
        reap(node_pid, 5);
        node_pid = 0;
    }
    if (tmpdir[0] && !opt_keep)
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (tmpdir[0])
        fprintf(stderr, "kept %s\n", tmpdir);
    tmpdir[0] = '\0';
    pthread_mutex_unlock(&cleanup_mu);
}

static sigset_t guard_set;
static atomic_bool finished; /* set when main has its result: the guard stands down */

/* Waits for SIGINT/SIGTERM or the deadline, then cleans up and exits. */
static void *guard_main(void *arg)
{
    (void)arg;
    /* sigtimedwait may return early with EINTR (a debugger, a stop and
     * continue): only a signal or the real deadline ends the program. */
    double end = now_s() + (double)opt_max_seconds;
    int sig = -1;
    for (;;) {
        double left = end - now_s();
        if (left <= 0)
            break;
        struct timespec ts = {.tv_sec = (time_t)left,
                              .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
        siginfo_t si;
        sig = sigtimedwait(&guard_set, &si, &ts);
        if (sig > 0)
            break;
    }
    if (atomic_load(&finished))
        return NULL; /* main is done and exits by itself */
    fprintf(stderr, "bench_inbox: %s; stopping\n",
            sig > 0 ? "interrupted" : "time limit (--max-seconds) reached");
    cleanup();
    printf("RESULT inbox error=%s\n", sig > 0 ? "interrupted" : "timeout");
    fflush(stdout);
    _exit(3);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_inbox: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    atomic_store(&finished, true);
    cleanup();
    printf("RESULT inbox error=setup\n");
    fflush(stdout);
    exit(2);
}

/* ---- child processes ----------------------------------------------------- */

/* Starts argv with stdout/stderr redirected to files (NULL: inherit) and
 * stdin from /dev/null. The child dies with this program. */
static pid_t spawn(const char *const *argv, const char *out_path, const char *err_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        if (out_path) {
            int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0)
                dup2(fd, 1);
        }
        if (err_path) {
            int fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0)
                dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Runs argv to completion (bounded to 60 s); its stdout goes to out (first
 * line, trailing newline removed) when out is not NULL. Returns the exit
 * code, or -1. */
static int run(const char *const *argv, char *out, size_t outlen)
{
    char path[700];
    snprintf(path, sizeof path, "%s/cmd.out", tmpdir);
    pid_t pid = spawn(argv, path, NULL);
    if (pid < 0)
        return -1;
    int st = reap(pid, 60);
    if (out) {
        out[0] = '\0';
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(out, (int)outlen, f))
                out[0] = '\0';
            fclose(f);
        }
        out[strcspn(out, "\r\n")] = '\0';
    }
    unlink(path);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* ---- a small blocking HTTP client for setup calls ------------------------ */

typedef struct sbuf {
    char *p;
    size_t n;
} sbuf;

static size_t sbuf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sbuf *b = ud;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, ptr, add);
    b->n += add;
    np[b->n] = '\0';
    b->p = np;
    return add;
}

/* One request; returns the status (0 on transport error) and the body in
 * *body (malloc'd, may be NULL). */
static long http(const char *method, const char *url, struct curl_slist *hdrs, const char *data,
                 size_t len, char **body)
{
    CURL *c = curl_easy_init();
    sbuf b = {0};
    long status = 0;
    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sbuf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (data) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (body)
        *body = b.p;
    else
        free(b.p);
    return status;
}

/* ---- the remote actor ------------------------------------------------------ */

static fed_keys keys;
static char gen_base[64];      /* http://127.0.0.1:GPORT */
static char gen_actor[128];    /* GEN/actor */
static char gen_key_id[160];   /* GEN/actor#main-key */
static char gen_ed_id[160];    /* GEN/actor#ed25519-key */
static char *actor_doc;        /* served at GET /actor */
static char node_base[64];     /* http://127.0.0.1:NPORT */
static char node_host[64];     /* 127.0.0.1:NPORT */
static char run_tag[24];       /* random, makes ids unique across runs */

static pthread_mutex_t follow_mu = PTHREAD_MUTEX_INITIALIZER;
static char *follow_json;      /* the node's Follow, as received */
static atomic_long gen_posts;  /* POSTs to the generator's inboxes */

static const char *const AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

static char *make_actor_doc(void)
{
    char *pem = fed_keys_rsa_public_pem(&keys);
    char *mb = fed_keys_ed_multibase(keys.ed_pk);
    if (!pem || !mb)
        return NULL;
    char inbox[160], outbox[160], followers[160], following[160], shared[160];
    snprintf(inbox, sizeof inbox, "%s/inbox", gen_actor);
    snprintf(outbox, sizeof outbox, "%s/outbox", gen_actor);
    snprintf(followers, sizeof followers, "%s/followers", gen_actor);
    snprintf(following, sizeof following, "%s/following", gen_actor);
    snprintf(shared, sizeof shared, "%s/inbox", gen_base);
    json_t *ctx = json_pack(
        "[s, s, s, s, s, {s:s, s:s, s:s, s:s}]", "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1", "https://w3id.org/security/data-integrity/v1",
        "https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
        "manuallyApprovesFollowers", "as:manuallyApprovesFollowers", "toot",
        "http://joinmastodon.org/ns#", "discoverable", "toot:discoverable", "indexable",
        "toot:indexable");
    json_t *a = json_pack(
        "{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:b, s:b, s:b, "
        "s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s, s:s}]}",
        "@context", ctx, "id", gen_actor, "type", "Person", "preferredUsername", "loadgen", "name",
        "dinet inbox load generator", "summary", "<p>Benchmark actor on loopback.</p>", "inbox",
        inbox, "outbox", outbox, "followers", followers, "following", following, "endpoints",
        "sharedInbox", shared, "manuallyApprovesFollowers", 0, "discoverable", 0, "indexable", 0,
        "publicKey", "id", gen_key_id, "owner", gen_actor, "publicKeyPem", pem,
        "assertionMethod", "id", gen_ed_id, "type", "Multikey", "controller", gen_actor,
        "publicKeyMultibase", mb);
    free(pem);
    free(mb);
    char *txt = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return txt;
}

typedef struct upload {
    char *p;
    size_t n;
    bool big;
} upload;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result gen_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *data, size_t *data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    upload *u = *con_cls;
    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size) {
        if (u->n + *data_size > (1u << 20))
            u->big = true;
        else {
            char *np = realloc(u->p, u->n + *data_size + 1);
            if (!np)
                return MHD_NO;
            memcpy(np + u->n, data, *data_size);
            u->n += *data_size;
            np[u->n] = '\0';
            u->p = np;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/actor"))
        return reply(c, 200, "application/activity+json; charset=utf-8", actor_doc);
    if (!strcmp(method, "POST") && (!strcmp(url, "/inbox") || !strcmp(url, "/actor/inbox"))) {
        atomic_fetch_add(&gen_posts, 1);
        json_t *j = u->p && !u->big ? json_loadb(u->p, u->n, 0, NULL) : NULL;
        const char *type = json_string_value(json_object_get(j, "type"));
        const char *obj = json_string_value(json_object_get(j, "object"));
        if (type && !strcmp(type, "Follow") && obj && !strcmp(obj, gen_actor)) {
            pthread_mutex_lock(&follow_mu);
            if (!follow_json)
                follow_json = strdup(u->p);
            pthread_mutex_unlock(&follow_mu);
        }
        json_decref(j);
        return reply(c, 202, "application/json", "{}");
    }
    return reply(c, 404, "text/plain", "not found\n");
}

static void gen_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    upload *u = *con_cls;
    if (u) {
        free(u->p);
        free(u);
        *con_cls = NULL;
    }
}

static struct MHD_Daemon *gen_start(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, gen_handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, gen_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d)
        return NULL;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : 0;
    return d;
}

/* ---- signed requests ------------------------------------------------------- */

/* A prepared POST to the node: body and headers (with the signature). */
typedef struct prepared {
    char *body;
    size_t len;
    struct curl_slist *hdrs;
} prepared;

/* Signs an activity in place with the proof, serialises it and signs the
 * POST to target on the node. Returns 0. */
static int prepare(json_t *act, const char *target, prepared *out)
{
    memset(out, 0, sizeof *out);
    if (proof_sign(act, keys.ed_sk, gen_ed_id, "assertionMethod", 0))
        return -1;
    out->body = json_dumps(act, JSON_COMPACT);
    if (!out->body)
        return -1;
    out->len = strlen(out->body);
    httpsig_out sig;
    if (httpsig_sign(keys.rsa, gen_key_id, "POST", target, node_host, out->body, out->len,
                     "application/activity+json", 0, &sig))
        return -1;
    size_t sl = strlen(sig.signature) + 16;
    char date[160], digest[160], *sh = malloc(sl);
    if (!sh) {
        httpsig_out_free(&sig);
        return -1;
    }
    snprintf(date, sizeof date, "Date: %s", sig.date);
    snprintf(digest, sizeof digest, "Digest: %s", sig.digest);
    snprintf(sh, sl, "Signature: %s", sig.signature);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/activity+json");
    h = curl_slist_append(h, "Accept: application/activity+json");
    h = curl_slist_append(h, date);
    h = curl_slist_append(h, digest);
    h = curl_slist_append(h, sh);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    free(sh);
    httpsig_out_free(&sig);
    out->hdrs = h;
    return h ? 0 : -1;
}

static void prepared_free(prepared *p)
{
    free(p->body);
    curl_slist_free_all(p->hdrs);
    memset(p, 0, sizeof *p);
}

static json_t *json_context(void)
{
    return json_pack("[s, s]", "https://www.w3.org/ns/activitystreams",
                     "https://w3id.org/security/data-integrity/v1");
}

/* The i-th Create: a Note, or every third one an Article, on our host. */
static json_t *make_create(long i, const char *published)
{
    char aid[200], oid[200], followers[160], content[900], name[120], summary[200];
    snprintf(aid, sizeof aid, "%s/activities/%s-create-%ld", gen_base, run_tag, i);
    snprintf(oid, sizeof oid, "%s/objects/%s-%ld", gen_base, run_tag, i);
    snprintf(followers, sizeof followers, "%s/followers", gen_actor);
    snprintf(content, sizeof content,
             "<p>Lastprofil Eintrag %ld: Sprachcafé im Stadtteilzentrum, dienstags 16 Uhr. "
             "Ehrenamtliche Lernbegleitung für Deutsch als Zweitsprache, Kinderbetreuung "
             "vor Ort, barrierefreier Zugang.</p><p>Kontakt über das Integrationsbüro; "
             "Anmeldung nicht erforderlich. Weitere Termine folgen.</p>",
             i);
    bool article = i % 3 == 0;
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}", "id", oid, "type",
                            article ? "Article" : "Note", "attributedTo", gen_actor, "published",
                            published, "content", content, "to", AS_PUBLIC, "cc", followers);
    if (article) {
        snprintf(name, sizeof name, "Maßnahme %ld: Sprachcafé", i);
        snprintf(summary, sizeof summary, "Maßnahme · laufend · Fortschritt %ld %%", i % 101);
        json_object_set_new(obj, "name", json_string(name));
        json_object_set_new(obj, "summary", json_string(summary));
    }
    return json_pack("{s:o, s:s, s:s, s:s, s:s, s:[s], s:[s], s:o}", "@context", json_context(),
                     "id", aid, "type", "Create", "actor", gen_actor, "published", published,
                     "to", AS_PUBLIC, "cc", followers, "object", obj);
}

typedef struct sign_job {
    prepared *items;
    long from, to;
    int failed;
} sign_job;

static void *sign_main(void *arg)
{
    sign_job *j = arg;
    char published[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(published, sizeof published, "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (long i = j->from; i < j->to; i++) {
        json_t *act = make_create(i, published);
        if (!act || prepare(act, "/inbox", &j->items[i]))
            j->failed++;
        json_decref(act);
    }
    return NULL;
}

/* ---- follow handshake -------------------------------------------------- */

static int follow_handshake(const char *token)
{
    char auth[160], body[300], url[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    snprintf(body, sizeof body, "{\"target\":\"%s\"}", gen_actor);
    snprintf(url, sizeof url, "%s/api/v1/federation/following", node_base);
    char *resp = NULL;
    long st = http("POST", url, h, body, strlen(body), &resp);
    if (st != 202) {
        fprintf(stderr, "bench_inbox: follow request answered %ld: %s\n", st, resp ? resp : "");
        free(resp);
        curl_slist_free_all(h);
        return -1;
    }
    free(resp);
    /* Wait for the node's Follow in our inbox (its delivery worker). */
    char *follow = NULL;
    for (double end = now_s() + 20; now_s() < end && !follow; usleep(20000)) {
        pthread_mutex_lock(&follow_mu);
        follow = follow_json ? strdup(follow_json) : NULL;
        pthread_mutex_unlock(&follow_mu);
    }
    if (!follow) {
        fprintf(stderr, "bench_inbox: the node's Follow did not arrive within 20 s\n");
        curl_slist_free_all(h);
        return -1;
    }
    json_t *f = json_loads(follow, 0, NULL);
    free(follow);
    const char *fid = json_string_value(json_object_get(f, "id"));
    const char *factor = json_string_value(json_object_get(f, "actor"));
    int rc = -1;
    if (fid && factor) {
        char aid[200];
        snprintf(aid, sizeof aid, "%s/activities/%s-accept", gen_base, run_tag);
        json_t *acc = json_pack("{s:o, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:[s]}",
                                "@context", json_context(), "id", aid, "type", "Accept",
                                "actor", gen_actor, "object", "id", fid, "type", "Follow",
                                "actor", factor, "object", gen_actor, "to", factor);
        prepared p;
        char inbox_url[200];
        snprintf(inbox_url, sizeof inbox_url, "%s/actor/inbox", node_base);
        if (acc && prepare(acc, "/actor/inbox", &p) == 0) {
            char *r = NULL;
            long s = http("POST", inbox_url, p.hdrs, p.body, p.len, &r);
            if (s == 202 && r && strstr(r, "\"accepted\""))
                rc = 0;
            else
                fprintf(stderr, "bench_inbox: Accept answered %ld: %s\n", s, r ? r : "");
            free(r);
            prepared_free(&p);
        }
        json_decref(acc);
    }
    json_decref(f);
    /* The node must now list us as accepted. */
    bool accepted = false;
    snprintf(url, sizeof url, "%s/api/v1/federation/following", node_base);
    for (double end = now_s() + 10; rc == 0 && now_s() < end && !accepted; usleep(50000)) {
        char *r = NULL;
        if (http("GET", url, h, NULL, 0, &r) == 200 && r) {
            json_t *j = json_loads(r, 0, NULL);
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(j, "items"), i, it)
            {
                const char *a = json_string_value(json_object_get(it, "actor"));
                const char *s = json_string_value(json_object_get(it, "state"));
                if (a && s && !strcmp(a, gen_actor) && !strcmp(s, "accepted"))
                    accepted = true;
            }
            json_decref(j);
        }
        free(r);
    }
    curl_slist_free_all(h);
    if (rc == 0 && !accepted) {
        fprintf(stderr, "bench_inbox: the node does not list the follow as accepted\n");
        rc = -1;
    }
    return rc;
}

/* ---- the timed phase ----------------------------------------------------- */

typedef struct slot {
    CURL *easy;
    long idx;
    double start;
    char resp[512];
    size_t rlen;
} slot;

static size_t slot_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    slot *s = ud;
    size_t add = size * nmemb, room = sizeof s->resp - 1 - s->rlen;
    size_t take = add < room ? add : room;
    memcpy(s->resp + s->rlen, ptr, take);
    s->rlen += take;
    s->resp[s->rlen] = '\0';
    return add;
}

typedef struct counts {
    long accepted, duplicate, ignored, other_status, transport;
    long sent;
    double t0, t1;
    double *lat; /* seconds, per request */
    char first_error[300];
} counts;

static void start_one(CURLM *m, slot *s, prepared *items, long idx, const char *url)
{
    s->idx = idx;
    s->rlen = 0;
    s->resp[0] = '\0';
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, items[idx].body);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)items[idx].len);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, items[idx].hdrs);
    s->start = now_s();
    curl_multi_add_handle(m, s->easy);
}

static void blast(prepared *items, long n, int conc, double deadline, counts *c)
{
    char url[200];
    snprintf(url, sizeof url, "%s/inbox", node_base);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conc * 2);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);
    slot *slots = calloc((size_t)conc, sizeof *slots);
    c->lat = calloc((size_t)n, sizeof *c->lat);
    if (!m || !slots || !c->lat)
        die("out of memory");
    long next = 0, done = 0;
    c->t0 = now_s();
    for (int i = 0; i < conc; i++) {
        slots[i].easy = curl_easy_init();
        CURL *e = slots[i].easy;
        curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, slot_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &slots[i]);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        if (next < n)
            start_one(m, &slots[i], items, next++, url);
    }
    while (done < next && now_s() < deadline) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode res = msg->data.result;
            long status = 0;
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
            double t = now_s();
            c->lat[s->idx] = t - s->start;
            c->t1 = t;
            done++;
            if (res != CURLE_OK) {
                c->transport++;
                if (!c->first_error[0])
                    snprintf(c->first_error, sizeof c->first_error, "transport: %s",
                             curl_easy_strerror(res));
            } else if (status == 202 && strstr(s->resp, "\"status\":\"accepted\"")) {
                c->accepted++;
            } else if (status == 202 && strstr(s->resp, "\"status\":\"duplicate\"")) {
                c->duplicate++;
            } else if (status == 202) {
                c->ignored++;
                if (!c->first_error[0])
                    snprintf(c->first_error, sizeof c->first_error, "202 but: %.250s", s->resp);
            } else {
                c->other_status++;
                if (!c->first_error[0])
                    snprintf(c->first_error, sizeof c->first_error, "HTTP %ld: %.250s", status,
                             s->resp);
            }
            curl_multi_remove_handle(m, s->easy);
            if (next < n && now_s() < deadline)
                start_one(m, s, items, next++, url);
        }
        if (done < next)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    c->sent = next;
    if (!c->t1)
        c->t1 = now_s();
    for (int i = 0; i < conc; i++) {
        curl_multi_remove_handle(m, slots[i].easy);
        curl_easy_cleanup(slots[i].easy);
    }
    curl_multi_cleanup(m);
    free(slots);
}

/* CPU seconds (user + system) a process has used, from /proc; -1 if unknown. */
static double proc_cpu(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0, stt = 0;
    /* after ")": state(3) ... utime(14) stime(15) */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &stt) != 2)
        return -1;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds the whole machine was busy (all cores, from /proc/stat). */
static double machine_busy(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 8)
        return -1;
    /* user nice system [idle iowait] irq softirq steal */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- durability check ------------------------------------------------------- */

static long count_rows(const char *dbpath, const char *sql)
{
    sqlite3 *h = NULL;
    long n = -1;
    if (sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: bench_inbox [--dinet PATH] [--n N] [--concurrency C] [--node-threads T]\n"
          "                   [--sign-threads T]\n"
          "                   [--max-seconds S] [--perf FILE] [--keep] [--quiet]\n",
          stderr);
}

int main(int argc, char **argv)
{
    opt_dinet = getenv("DINET_BIN") ? getenv("DINET_BIN") : "build/dinet";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dinet") && v)
            opt_dinet = argv[++i];
        else if (!strcmp(a, "--n") && v)
            opt_n = atol(argv[++i]);
        else if (!strcmp(a, "--concurrency") && v)
            opt_conc = atoi(argv[++i]);
        else if (!strcmp(a, "--node-threads") && v)
            opt_node_threads = atoi(argv[++i]);
        else if (!strcmp(a, "--sign-threads") && v)
            opt_sign_threads = atoi(argv[++i]);
        else if (!strcmp(a, "--max-seconds") && v)
            opt_max_seconds = atol(argv[++i]);
        else if (!strcmp(a, "--perf") && v)
            opt_perf = argv[++i];
        else if (!strcmp(a, "--keep"))
            opt_keep = true;
        else if (!strcmp(a, "--quiet"))
            opt_quiet = true;
        else {
            usage();
            return 2;
        }
    }
    if (opt_n < 1 || opt_n > 1000000 || opt_conc < 1 || opt_conc > 1024 ||
        opt_max_seconds < 10 || opt_max_seconds > 3600) {
        fprintf(stderr, "bench_inbox: --n 1..1000000, --concurrency 1..1024, "
                        "--max-seconds 10..3600\n");
        return 2;
    }
    char dinet_abs[1024];
    if (!realpath(opt_dinet, dinet_abs) || access(dinet_abs, X_OK)) {
        fprintf(stderr, "bench_inbox: no dinet binary at %s (build first or pass --dinet)\n",
                opt_dinet);
        return 2;
    }
    if (opt_sign_threads <= 0)
        opt_sign_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (opt_sign_threads < 1 || opt_sign_threads > 64)
        opt_sign_threads = 2;

    /* The guard owns SIGINT/SIGTERM and the deadline from here on. */
    sigemptyset(&guard_set);
    sigaddset(&guard_set, SIGINT);
    sigaddset(&guard_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &guard_set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t guard;
    pthread_create(&guard, NULL, guard_main, NULL);
    pthread_detach(guard);
    double deadline = now_s() + (double)opt_max_seconds - 5;

    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT))
        die("cannot initialise libsodium or libcurl");
    json_object_seed(0);
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/dinet-bench-inbox-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        die("mkdtemp: %s", strerror(errno));
    }
    unsigned char rnd[6];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(run_tag, sizeof run_tag, "r%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5]);

    /* 1. Our actor: keys and the server. */
    char kdir[700];
    snprintf(kdir, sizeof kdir, "%s/genkeys", tmpdir);
    if (mkdir(kdir, 0700) || fed_keys_generate(kdir) || fed_keys_load(kdir, &keys))
        die("cannot make the generator's keys");
    int gport = 0;
    struct MHD_Daemon *gen = NULL;
    snprintf(gen_base, sizeof gen_base, "http://127.0.0.1:0"); /* set below */
    gen = gen_start(&gport);
    if (!gen || gport <= 0)
        die("cannot start the generator's HTTP server");
    snprintf(gen_base, sizeof gen_base, "http://127.0.0.1:%d", gport);
    snprintf(gen_actor, sizeof gen_actor, "%s/actor", gen_base);
    snprintf(gen_key_id, sizeof gen_key_id, "%s#main-key", gen_actor);
    snprintf(gen_ed_id, sizeof gen_ed_id, "%s#ed25519-key", gen_actor);
    actor_doc = make_actor_doc();
    if (!actor_doc)
        die("cannot build the actor document");
    say("generator actor %s", gen_actor);

    /* 2. The node. */
    char data[700], listen[64], conf[800], log_path[800], out_path[800], token[200];
    snprintf(data, sizeof data, "%s/node", tmpdir);
    int nport = free_port();
    if (nport <= 0)
        die("no free port");
    snprintf(node_base, sizeof node_base, "http://127.0.0.1:%d", nport);
    snprintf(node_host, sizeof node_host, "127.0.0.1:%d", nport);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", nport);
    {
        const char *av[] = {dinet_abs,    "init",     "--data",        data,
                            "--role",     "district", "--district",    "15003",
                            "--base-url", node_base,  "--allow-private", "127.0.0.0/8",
                            NULL};
        if (run(av, NULL, 0) != 0)
            die("dinet init failed");
    }
    {
        const char *av[] = {dinet_abs, "token", "create", "--data", data, "--role", "admin",
                            "bench-admin", NULL};
        if (run(av, token, sizeof token) != 0 || strlen(token) < 10)
            die("dinet token create failed");
    }
    snprintf(conf, sizeof conf, "%s/dinet.conf", data);
    snprintf(log_path, sizeof log_path, "%s/serve.log", data);
    snprintf(out_path, sizeof out_path, "%s/serve.out", data);
    unlink(out_path); /* a previous run's "listening on" line must not count */
    {
        char nt[16];
        snprintf(nt, sizeof nt, "%d", opt_node_threads);
        const char *av[] = {dinet_abs, "serve",     "--data", data, "--listen", listen,
                            opt_node_threads > 0 ? "--threads" : NULL, nt, NULL};
        pthread_mutex_lock(&cleanup_mu);
        node_pid = spawn(av, out_path, log_path);
        pthread_mutex_unlock(&cleanup_mu);
        if (node_pid <= 0)
            die("cannot start dinet serve");
    }
    bool up = false;
    for (double end = now_s() + 20; now_s() < end && !up; usleep(20000)) {
        FILE *f = fopen(out_path, "r");
        char line[256] = "";
        if (f) {
            up = fgets(line, sizeof line, f) && strstr(line, "listening on");
            fclose(f);
        }
        if (waitpid(node_pid, NULL, WNOHANG) == node_pid) {
            node_pid = 0;
            die("dinet serve exited; see its log");
        }
    }
    if (!up)
        die("dinet serve did not start within 20 s");
    say("node %s (pid %d), data %s", node_base, (int)node_pid, data);

    /* 3. Follow handshake: node -> Follow -> us -> signed Accept -> node. */
    if (follow_handshake(token))
        die("follow handshake failed");
    say("the node follows the generator (state accepted)");

    /* 4. Prepare every activity before the clock starts. */
    prepared *items = calloc((size_t)opt_n, sizeof *items);
    if (!items)
        die("out of memory");
    double s0 = now_s();
    {
        int nt = opt_sign_threads;
        pthread_t th[64];
        sign_job jobs[64];
        for (int k = 0; k < nt; k++) {
            jobs[k] = (sign_job){items, opt_n * k / nt, opt_n * (k + 1) / nt, 0};
            pthread_create(&th[k], NULL, sign_main, &jobs[k]);
        }
        int failed = 0;
        for (int k = 0; k < nt; k++) {
            pthread_join(th[k], NULL);
            failed += jobs[k].failed;
        }
        if (failed)
            die("%d activities could not be signed", failed);
    }
    double sign_s = now_s() - s0;
    size_t bytes = 0;
    for (long i = 0; i < opt_n; i++)
        bytes += items[i].len;
    say("signed %ld activities in %.1f s (%.0f/s, %d threads), mean body %zu bytes", opt_n,
        sign_s, (double)opt_n / sign_s, opt_sign_threads, bytes / (size_t)opt_n);

    /* Optional profile of the node during the timed phase. */
    if (opt_perf) {
        char pidtxt[32];
        snprintf(pidtxt, sizeof pidtxt, "%d", (int)node_pid);
        const char *perf_bin = access("/usr/bin/perf", X_OK) == 0 ? "/usr/bin/perf" : "perf";
        /* DWARF unwinding: the node is built without frame pointers, so
         * "-g" (frame-pointer stacks) would attribute little to callers. */
        const char *av[] = {perf_bin, "record", "--call-graph", "dwarf,16384", "-F", "250",
                            "-o", opt_perf, "-p", pidtxt, NULL};
        char perr[800];
        snprintf(perr, sizeof perr, "%s/perf.log", tmpdir);
        pthread_mutex_lock(&cleanup_mu);
        perf_pid = spawn(av, NULL, perr);
        pthread_mutex_unlock(&cleanup_mu);
        usleep(1500000); /* let perf attach */
        if (perf_pid <= 0 || waitpid(perf_pid, NULL, WNOHANG) == perf_pid) {
            perf_pid = 0;
            fprintf(stderr, "bench_inbox: perf did not start (see %s with --keep)\n", perr);
        }
    }

    /* 5. Timed phase. */
    say("posting %ld activities at concurrency %d ...", opt_n, opt_conc);
    counts c = {0};
    double node_cpu0 = proc_cpu(node_pid), gen_cpu0 = self_cpu(), busy0 = machine_busy();
    blast(items, opt_n, opt_conc, deadline - 30, &c);
    double secs = c.t1 - c.t0;
    double node_cpu = proc_cpu(node_pid) - node_cpu0, gen_cpu = self_cpu() - gen_cpu0;
    /* What other processes on the machine used meanwhile: the figures are
     * only comparable when this is near 0. */
    double other_cpu = machine_busy() - busy0 - node_cpu - gen_cpu;
    if (other_cpu < 0)
        other_cpu = 0;
    if (perf_pid > 0) {
        pthread_mutex_lock(&cleanup_mu);
        kill(perf_pid, SIGINT);
        reap(perf_pid, 30);
        perf_pid = 0;
        pthread_mutex_unlock(&cleanup_mu);
    }

    /* 6. Durability: stop the node, then count what it stored. */
    pthread_mutex_lock(&cleanup_mu);
    double st0 = now_s();
    kill(node_pid, SIGTERM);
    int ws = reap(node_pid, 30);
    double stop_s = now_s() - st0;
    node_pid = 0;
    pthread_mutex_unlock(&cleanup_mu);
    bool clean_exit = ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    char dbpath[800];
    snprintf(dbpath, sizeof dbpath, "%s/dinet.db", data);
    long stored = count_rows(dbpath, "SELECT count(*) FROM remote_objects");
    char q[300];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM inbox_log WHERE type='Create' AND outcome='stored' AND "
             "actor='%s'",
             gen_actor);
    long logged = count_rows(dbpath, q);
    MHD_stop_daemon(gen);

    double *lat = c.lat;
    long nl = c.sent;
    qsort(lat, (size_t)nl, sizeof *lat, cmp_double);
    double p50 = nl ? lat[nl / 2] : 0, p99 = nl ? lat[(long)(nl * 0.99)] : 0,
           pmax = nl ? lat[nl - 1] : 0;
    double rate = secs > 0 ? (double)c.accepted / secs : 0;
    bool durable = stored == c.accepted && logged == c.accepted;
    bool complete = c.accepted == opt_n;

    char ntdesc[64];
    if (opt_node_threads > 0)
        snprintf(ntdesc, sizeof ntdesc, "%d (--threads)", opt_node_threads);
    else
        snprintf(ntdesc, sizeof ntdesc, "%ld (default: twice the cores, at least 4)",
                 2 * sysconf(_SC_NPROCESSORS_ONLN) < 4 ? 4 : 2 * sysconf(_SC_NPROCESSORS_ONLN));
    printf("inbox ingestion: %ld activities, concurrency %d, node HTTP threads %s\n", opt_n,
           opt_conc, ntdesc);
    printf("  pre-signing:   %.1f s (%.0f activities/s)\n", sign_s, (double)opt_n / sign_s);
    printf("  timed phase:   %.2f s, sent %ld\n", secs, c.sent);
    printf("  answers:       %ld accepted, %ld duplicate, %ld ignored, %ld other status, "
           "%ld transport errors\n",
           c.accepted, c.duplicate, c.ignored, c.other_status, c.transport);
    if (c.first_error[0])
        printf("  first problem: %s\n", c.first_error);
    printf("  latency:       p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50 * 1e3, p99 * 1e3,
           pmax * 1e3);
    printf("  CPU used:      node %.2f cores (%.0f us per activity), generator %.2f cores, "
           "other processes %.2f cores%s\n",
           secs > 0 ? node_cpu / secs : 0, c.sent ? node_cpu / (double)c.sent * 1e6 : 0,
           secs > 0 ? gen_cpu / secs : 0, secs > 0 ? other_cpu / secs : 0,
           secs > 0 && other_cpu / secs > 0.2 ? " (machine not idle: figures are low)" : "");
    printf("  accepted rate: %.0f activities/s (goal >= 3000/s)\n", rate);
    printf("  durability:    node stopped by SIGTERM in %.2f s (%s); remote_objects rows %ld, "
           "inbox_log stored %ld, accepted %ld -> %s\n",
           stop_s, clean_exit ? "clean exit" : "NOT a clean exit", stored, logged, c.accepted,
           durable ? "all stored" : "MISMATCH");
    printf("RESULT inbox n=%ld concurrency=%d node_threads=%d accepted=%ld seconds=%.3f rate=%.1f stored=%ld "
           "durable=%s complete=%s p50_ms=%.2f p99_ms=%.2f sign_rate=%.0f node_cores=%.2f "
           "node_us_per_activity=%.0f gen_cores=%.2f other_cores=%.2f\n",
           opt_n, opt_conc, opt_node_threads, c.accepted, secs, rate, stored, durable ? "yes" : "no",
           complete ? "yes" : "no", p50 * 1e3, p99 * 1e3, (double)opt_n / sign_s,
           secs > 0 ? node_cpu / secs : 0, c.sent ? node_cpu / (double)c.sent * 1e6 : 0,
           secs > 0 ? gen_cpu / secs : 0, secs > 0 ? other_cpu / secs : 0);
    fflush(stdout);

    for (long i = 0; i < opt_n; i++)
        prepared_free(&items[i]);
    free(items);
    free(lat);
    free(actor_doc);
    free(follow_json);
    fed_keys_free(&keys);
    atomic_store(&finished, true);
    cleanup();
    curl_global_cleanup();
    return durable && complete ? 0 : 1;
}
