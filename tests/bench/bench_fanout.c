/* bench_fanout: fan-out benchmark for a dinet node.
 *
 * One Update goes to 10,000 followers spread over 100 servers:
 *   1. 100 sink servers on loopback, one libmicrohttpd daemon bound to each
 *      of 127.0.0.2 ... 127.0.0.101 (port chosen by the kernel). Each answers
 *      202 to POST /inbox, counts the POSTs and notes when the last one
 *      arrived; anything else gets 404 and is counted as unexpected.
 *   2. A fresh node (`dinet init --allow-private 127.0.0.0/8`) with an editor
 *      token from `dinet token create`. It is started once to create one
 *      measure (no followers yet, so nothing is delivered), stopped, and
 *      10,000 accepted followers are inserted into its `followers` table:
 *      actor http://127.0.0.K:PORT/users/uN, inbox …/users/uN/inbox,
 *      shared inbox http://127.0.0.K:PORT/inbox, 100 per sink.
 *   3. The node is started again, the measure is PATCHed (one Update), and
 *      the clock runs from the PATCH response until every sink has received
 *      its POST: 100 POSTs in all, one per shared inbox.
 *   4. Checks: every sink got exactly one POST (a grace period catches late
 *      duplicates), each an Update with an HTTP signature, and
 *      /api/v1/federation/deliveries reports 0 pending and 0 failed.
 *
 * The last line of output is machine-readable:
 *   RESULT fanout followers=… hosts=… posts=… seconds=… exact=yes|no …
 *
 * Everything is bounded: a guard thread ends the program (killing the node
 * and removing the temporary directory) on SIGINT/SIGTERM or when
 * --max-seconds have passed. Only 127.0.0.0/8 addresses are used.
 *
 * Usage: bench_fanout [--dinet PATH] [--followers 10000] [--hosts 100]
 *                     [--wait 60] [--max-seconds 300] [--keep] [--quiet] */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
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

#define MAX_HOSTS 200 /* 127.0.0.2 .. 127.0.0.201 at most */

static const char *opt_dinet;
static long opt_followers = 10000;
static int opt_hosts = 100;
static long opt_wait = 60;
static long opt_max_seconds = 300;
static bool opt_keep;
static bool opt_quiet;

static char tmpdir[512];
static pid_t node_pid;
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

static void cleanup(void)
{
    pthread_mutex_lock(&cleanup_mu);
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
    fprintf(stderr, "bench_fanout: %s; stopping\n",
            sig > 0 ? "interrupted" : "time limit (--max-seconds) reached");
    cleanup();
    printf("RESULT fanout error=%s\n", sig > 0 ? "interrupted" : "timeout");
    fflush(stdout);
    _exit(3);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_fanout: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    atomic_store(&finished, true);
    cleanup();
    printf("RESULT fanout error=setup\n");
    fflush(stdout);
    exit(2);
}

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

static char auth_header[300];

/* One API call with the editor token; returns the status (0 on a transport
 * error) and the parsed JSON body in *out (may be NULL). */
static long api(const char *method, const char *url, const char *body, const char *extra,
                json_t **out)
{
    CURL *c = curl_easy_init();
    sbuf b = {0};
    long status = 0;
    if (out)
        *out = NULL;
    if (!c)
        return 0;
    struct curl_slist *h = curl_slist_append(NULL, auth_header);
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (extra)
        h = curl_slist_append(h, extra);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sbuf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (out && b.p)
        *out = json_loadb(b.p, b.n, 0, NULL);
    free(b.p);
    return status;
}

/* ---- sinks ------------------------------------------------------------------ */

typedef struct sink {
    struct MHD_Daemon *d;
    char addr[16];
    int port;
    atomic_int posts;    /* POST /inbox */
    atomic_int updates;  /* ... whose body is an Update of the measure */
    atomic_int signed_;  /* ... that carried Signature and Digest headers */
    atomic_int other;    /* anything else */
    _Atomic double last; /* monotonic time of the last POST /inbox */
} sink;

static sink sinks[MAX_HOSTS];
static char expect_object[512]; /* the measure's URL, once known */

typedef struct upload {
    char *p;
    size_t n;
    bool big;
} upload;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result sink_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version, const char *data,
                                    size_t *data_size, void **con_cls)
{
    (void)version;
    sink *s = cls;
    upload *u = *con_cls;
    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size) {
        if (u->n + *data_size > (4u << 20)) {
            u->big = true;
        } else {
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
    if (strcmp(method, "POST") || strcmp(url, "/inbox")) {
        atomic_fetch_add(&s->other, 1);
        return reply(c, 404, "{\"error\":\"not found\"}");
    }
    atomic_store(&s->last, now_s());
    atomic_fetch_add(&s->posts, 1);
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Signature") &&
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Digest"))
        atomic_fetch_add(&s->signed_, 1);
    json_t *j = u->p && !u->big ? json_loadb(u->p, u->n, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *oid = json_string_value(json_object_get(json_object_get(j, "object"), "id"));
    if (type && !strcmp(type, "Update") && oid && !strcmp(oid, expect_object))
        atomic_fetch_add(&s->updates, 1);
    json_decref(j);
    return reply(c, 202, "{}");
}

static void sink_completed(void *cls, struct MHD_Connection *c, void **con_cls,
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

static int sinks_start(int n)
{
    for (int k = 0; k < n; k++) {
        sink *s = &sinks[k];
        /* 127.0.0.2 + k: loopback only, by construction. */
        snprintf(s->addr, sizeof s->addr, "127.0.0.%d", 2 + k);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        if (inet_pton(AF_INET, s->addr, &sa.sin_addr) != 1 ||
            (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
            return -1;
        s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                                sink_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_NOTIFY_COMPLETED, sink_completed, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
        if (!s->d)
            return -1;
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? di->port : 0;
        if (s->port <= 0)
            return -1;
    }
    return 0;
}

static void sinks_stop(int n)
{
    for (int k = 0; k < n; k++)
        if (sinks[k].d) {
            MHD_stop_daemon(sinks[k].d);
            sinks[k].d = NULL;
        }
}

static void sinks_reset(int n)
{
    for (int k = 0; k < n; k++) {
        atomic_store(&sinks[k].posts, 0);
        atomic_store(&sinks[k].updates, 0);
        atomic_store(&sinks[k].signed_, 0);
        atomic_store(&sinks[k].other, 0);
        atomic_store(&sinks[k].last, 0.0);
    }
}

static long total_posts(int n)
{
    long t = 0;
    for (int k = 0; k < n; k++)
        t += atomic_load(&sinks[k].posts);
    return t;
}

/* ---- the node -------------------------------------------------------------- */

static char dinet_abs[1024], data[700], node_base[64], listen_addr[64];

static void node_start(void)
{
    char log_path[800], out_path[800];
    snprintf(log_path, sizeof log_path, "%s/serve.log", data);
    snprintf(out_path, sizeof out_path, "%s/serve.out", data);
    unlink(out_path); /* a previous run's "listening on" line must not count */
    const char *av[] = {dinet_abs, "serve", "--data", data, "--listen", listen_addr, NULL};
    pthread_mutex_lock(&cleanup_mu);
    node_pid = spawn(av, out_path, log_path);
    pthread_mutex_unlock(&cleanup_mu);
    if (node_pid <= 0)
        die("cannot start dinet serve");
    bool up = false;
    for (double end = now_s() + 20; now_s() < end && !up; usleep(10000)) {
        FILE *f = fopen(out_path, "r");
        char line[256] = "";
        if (f) {
            up = fgets(line, sizeof line, f) && strstr(line, "listening on");
            fclose(f);
        }
        if (!up && waitpid(node_pid, NULL, WNOHANG) == node_pid) {
            node_pid = 0;
            die("dinet serve exited; see %s", log_path);
        }
    }
    if (!up)
        die("dinet serve did not start within 20 s");
}

static int node_stop(void)
{
    pthread_mutex_lock(&cleanup_mu);
    int st = -1;
    if (node_pid > 0) {
        kill(node_pid, SIGTERM);
        st = reap(node_pid, 30);
        node_pid = 0;
    }
    pthread_mutex_unlock(&cleanup_mu);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int insert_followers(const char *dbpath, long nf, int nh)
{
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(h, 10000);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(h,
                           "INSERT INTO followers(actor_id, inbox, shared_inbox, follow_id, "
                           "state, created) VALUES(?1, ?2, ?3, ?4, 'accepted', ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (long i = 0; i < nf; i++) {
        const sink *s = &sinks[i % nh];
        char actor[160], inbox[200], shared[160], fid[200];
        snprintf(actor, sizeof actor, "http://%s:%d/users/u%ld", s->addr, s->port, i);
        snprintf(inbox, sizeof inbox, "%s/inbox", actor);
        snprintf(shared, sizeof shared, "http://%s:%d/inbox", s->addr, s->port);
        snprintf(fid, sizeof fid, "http://%s:%d/follows/%ld", s->addr, s->port, i);
        sqlite3_bind_text(st, 1, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, inbox, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, shared, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, fid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto out;
        sqlite3_reset(st);
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench_fanout: inserting followers: %s\n", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    if (rc)
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

static long jint(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

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
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, stt = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &stt) != 2)
        return -1;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: bench_fanout [--dinet PATH] [--followers N] [--hosts H] [--wait S]\n"
          "                    [--max-seconds S] [--keep] [--quiet]\n",
          stderr);
}

int main(int argc, char **argv)
{
    opt_dinet = getenv("DINET_BIN") ? getenv("DINET_BIN") : "build/dinet";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dinet") && v)
            opt_dinet = argv[++i];
        else if (!strcmp(a, "--followers") && v)
            opt_followers = atol(argv[++i]);
        else if (!strcmp(a, "--hosts") && v)
            opt_hosts = atoi(argv[++i]);
        else if (!strcmp(a, "--wait") && v)
            opt_wait = atol(argv[++i]);
        else if (!strcmp(a, "--max-seconds") && v)
            opt_max_seconds = atol(argv[++i]);
        else if (!strcmp(a, "--keep"))
            opt_keep = true;
        else if (!strcmp(a, "--quiet"))
            opt_quiet = true;
        else {
            usage();
            return 2;
        }
    }
    if (opt_hosts < 1 || opt_hosts > MAX_HOSTS || opt_followers < opt_hosts ||
        opt_followers > 1000000 || opt_wait < 1 || opt_wait > 600 || opt_max_seconds < 30 ||
        opt_max_seconds > 3600) {
        fprintf(stderr, "bench_fanout: --hosts 1..%d, --followers hosts..1000000, --wait 1..600, "
                        "--max-seconds 30..3600\n",
                MAX_HOSTS);
        return 2;
    }
    if (!realpath(opt_dinet, dinet_abs) || access(dinet_abs, X_OK)) {
        fprintf(stderr, "bench_fanout: no dinet binary at %s (build first or pass --dinet)\n",
                opt_dinet);
        return 2;
    }

    sigemptyset(&guard_set);
    sigaddset(&guard_set, SIGINT);
    sigaddset(&guard_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &guard_set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t guard;
    pthread_create(&guard, NULL, guard_main, NULL);
    pthread_detach(guard);

    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        die("cannot initialise libcurl");
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/dinet-bench-fanout-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        die("mkdtemp: %s", strerror(errno));
    }

    /* 1. Sinks. */
    if (sinks_start(opt_hosts))
        die("cannot start the sinks on 127.0.0.2..127.0.0.%d: %s", 1 + opt_hosts,
            strerror(errno));
    say("%d sinks on 127.0.0.2..127.0.0.%d", opt_hosts, 1 + opt_hosts);

    /* 2. The node, one measure, then the followers. */
    snprintf(data, sizeof data, "%s/node", tmpdir);
    int nport = free_port();
    if (nport <= 0)
        die("no free port");
    snprintf(node_base, sizeof node_base, "http://127.0.0.1:%d", nport);
    snprintf(listen_addr, sizeof listen_addr, "127.0.0.1:%d", nport);
    {
        const char *av[] = {dinet_abs,    "init",     "--data",        data,
                            "--role",     "district", "--district",    "15003",
                            "--base-url", node_base,  "--allow-private", "127.0.0.0/8",
                            NULL};
        if (run(av, NULL, 0) != 0)
            die("dinet init failed");
    }
    char token[200];
    {
        const char *av[] = {dinet_abs, "token", "create", "--data", data, "--role", "editor",
                            "bench-editor", NULL};
        if (run(av, token, sizeof token) != 0 || strlen(token) < 10)
            die("dinet token create failed");
    }
    snprintf(auth_header, sizeof auth_header, "Authorization: Bearer %s", token);

    node_start();
    char url[600];
    json_t *j = NULL;
    snprintf(url, sizeof url, "%s/api/v1/measures", node_base);
    long st = api("POST", url,
                  "{\"title\":\"Fan-out-Benchmark: Sprachkurs\",\"fields_of_action\":[\"HF4\"]}",
                  NULL, &j);
    const char *murl = json_string_value(json_object_get(j, "url"));
    long version = jint(j, "version");
    if (st != 201 || !murl || version < 1 || !strrchr(murl, '/'))
        die("creating the measure answered %ld", st);
    snprintf(expect_object, sizeof expect_object, "%s", murl);
    char mid[200];
    snprintf(mid, sizeof mid, "%s", strrchr(murl, '/') + 1);
    json_decref(j);
    if (node_stop() != 0)
        die("the node did not stop cleanly after the setup");

    char dbpath[800];
    snprintf(dbpath, sizeof dbpath, "%s/dinet.db", data);
    double i0 = now_s();
    if (insert_followers(dbpath, opt_followers, opt_hosts))
        die("cannot insert the followers");
    say("inserted %ld followers (%d shared inboxes) in %.2f s", opt_followers, opt_hosts,
        now_s() - i0);

    node_start();
    say("node %s (pid %d), data %s", node_base, (int)node_pid, data);
    /* Nothing may be queued before the Update. */
    snprintf(url, sizeof url, "%s/api/v1/federation/deliveries", node_base);
    st = api("GET", url, NULL, NULL, &j);
    long pre_pending = jint(j, "pending"), pre_done = jint(j, "done");
    json_decref(j);
    if (st != 200)
        die("GET deliveries answered %ld", st);
    if (pre_pending > 0)
        die("%ld deliveries pending before the Update", pre_pending);
    sinks_reset(opt_hosts);

    /* 3. One Update, and the clock. */
    snprintf(url, sizeof url, "%s/api/v1/measures/%s", node_base, mid);
    char ifmatch[64];
    snprintf(ifmatch, sizeof ifmatch, "If-Match: \"%ld\"", version);
    double cpu0 = proc_cpu(node_pid);
    double t_send = now_s();
    st = api("PATCH", url, "{\"status\":\"active\",\"progress\":40}", ifmatch, &j);
    double t_resp = now_s();
    json_decref(j);
    if (st != 200)
        die("PATCH answered %ld", st);
    long expect = opt_hosts;
    double wait_end = t_resp + (double)opt_wait;
    while (total_posts(opt_hosts) < expect && now_s() < wait_end)
        usleep(500);
    bool all_arrived = total_posts(opt_hosts) >= expect;
    double last = 0, first = 1e300;
    for (int k = 0; k < opt_hosts; k++) {
        double l = atomic_load(&sinks[k].last);
        if (l > last)
            last = l;
        if (l > 0 && l < first)
            first = l;
    }
    double secs = all_arrived ? last - t_resp : -1;

    /* 4. Checks: the node's bookkeeping, then late duplicates. */
    snprintf(url, sizeof url, "%s/api/v1/federation/deliveries", node_base);
    long pending = -1, failed = -1, done = -1;
    double t_recorded = -1;
    for (double end = now_s() + 30; now_s() < end; usleep(20000)) {
        st = api("GET", url, NULL, NULL, &j);
        pending = jint(j, "pending");
        failed = jint(j, "failed");
        done = jint(j, "done");
        json_decref(j);
        if (st == 200 && pending == 0 && (done - (pre_done > 0 ? pre_done : 0)) + failed >= expect) {
            t_recorded = now_s() - t_resp;
            break;
        }
    }
    double cpu = proc_cpu(node_pid) - cpu0;
    usleep(1000000); /* grace period: a duplicate would show up now */
    long posts = total_posts(opt_hosts), updates = 0, signed_n = 0, other = 0;
    int exact = 0, zero = 0, dup = 0;
    for (int k = 0; k < opt_hosts; k++) {
        int p = atomic_load(&sinks[k].posts);
        updates += atomic_load(&sinks[k].updates);
        signed_n += atomic_load(&sinks[k].signed_);
        other += atomic_load(&sinks[k].other);
        if (p == 1)
            exact++;
        else if (p == 0)
            zero++;
        else
            dup++;
    }
    int stop_rc = node_stop();
    sinks_stop(opt_hosts);
    bool ok_exact = exact == opt_hosts && updates == opt_hosts && signed_n == opt_hosts &&
                    other == 0;
    bool ok_queue = pending == 0 && failed == 0;
    if (done >= 0 && pre_done > 0)
        done -= pre_done;

    printf("fan-out: 1 Update to %ld followers on %d hosts (shared inboxes)\n", opt_followers,
           opt_hosts);
    printf("  PATCH answered in %.1f ms\n", (t_resp - t_send) * 1e3);
    if (all_arrived)
        printf("  all %ld sinks had their POST %.3f s after the PATCH response "
               "(first after %.3f s)\n",
               expect, secs, first - t_resp);
    else
        printf("  only %ld of %ld POSTs arrived within %ld s\n", total_posts(opt_hosts), expect,
               opt_wait);
    printf("  node recorded every delivery %.3f s after the PATCH response; node CPU %.2f s\n",
           t_recorded, cpu);
    printf("  per sink: %d got exactly 1, %d got none, %d got more; %ld POSTs in all, "
           "%ld Updates of the measure, %ld signed, %ld unexpected requests\n",
           exact, zero, dup, posts, updates, signed_n, other);
    printf("  deliveries API: %ld pending, %ld failed, %ld done\n", pending, failed, done);
    printf("  node stopped: %s\n", stop_rc == 0 ? "clean exit" : "NOT a clean exit");
    printf("  verdict: %s (goal < 5 s)\n",
           all_arrived && secs < 5 ? "goal met" : "goal missed");
    printf("RESULT fanout followers=%ld hosts=%d posts=%ld seconds=%.3f recorded_s=%.3f "
           "patch_ms=%.1f exact=%s pending=%ld failed=%ld done=%ld node_cpu_s=%.2f\n",
           opt_followers, opt_hosts, posts, secs, t_recorded, (t_resp - t_send) * 1e3,
           ok_exact ? "yes" : "no", pending, failed, done, cpu);
    fflush(stdout);
    atomic_store(&finished, true);
    cleanup();
    curl_global_cleanup();
    return all_arrived && ok_exact && ok_queue && secs < 5 ? 0 : 1;
}
