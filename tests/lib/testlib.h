/* Test support shared by unit and API tests.
 *
 * Assertions count and report failures but do not abort, so one run shows
 * every broken expectation. A test program ends with `return tl_done();`,
 * which prints "N passed, M failed" and returns the process exit code.
 *
 * The server helpers start the real `dinet` binary (path from $DINET_BIN) on
 * 127.0.0.1 port 0 and drive it with libcurl over real HTTP. */
#ifndef DINET_TESTLIB_H
#define DINET_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

extern int tl_passed, tl_failed;

void tl_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CHECK(cond, ...) tl_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(a, b, what)                                                                      \
    do {                                                                                           \
        const char *tl_a_ = (a), *tl_b_ = (b);                                                    \
        tl_check(tl_a_ && tl_b_ && strcmp(tl_a_, tl_b_) == 0, __FILE__, __LINE__,                  \
                 "%s: got '%s', want '%s'", what, tl_a_ ? tl_a_ : "(null)",                        \
                 tl_b_ ? tl_b_ : "(null)");                                                        \
    } while (0)
#define CHECK_INT(a, b, what)                                                                      \
    do {                                                                                           \
        long long tl_a_ = (long long)(a), tl_b_ = (long long)(b);                                  \
        tl_check(tl_a_ == tl_b_, __FILE__, __LINE__, "%s: got %lld, want %lld", what, tl_a_,      \
                 tl_b_);                                                                           \
    } while (0)

/* Prints the summary line and returns 0 when nothing failed, else 1. */
int tl_done(void);

/* Reads a whole file into a NUL-terminated malloc'd buffer; *len gets the size
 * (may be NULL). Returns NULL when the file cannot be read. */
char *tl_read_file(const char *path, size_t *len);

/* Path of a file under tests/vectors ($DINET_VECTORS); static buffer. */
const char *tl_vector(const char *rel);

/* Creates a fresh empty temporary directory and returns its path (static
 * storage per call, caller copies if needed; freed by the OS at exit). */
char *tl_tmpdir(const char *tag);

/* Runs the dinet binary with argv (NULL-terminated, without argv[0]); feeds
 * `input` to its stdin when non-NULL; captures stdout into *out (malloc'd,
 * may be NULL). Returns the exit status, or -1 when it could not run. */
int tl_dinet(const char *input, char **out, const char *const *argv);

/* A running server. */
typedef struct tl_server {
    pid_t pid;
    int port;
    char base[64]; /* "http://127.0.0.1:PORT" */
    char data[512];
} tl_server;

/* Starts `dinet serve --data DATA --listen 127.0.0.1:0` and waits until it
 * printed its port. Its stderr (the structured log) goes to DATA/serve.log.
 * Returns 0 on success. */
int tl_server_start(tl_server *s, const char *data);
/* The same on a given port (for nodes whose base URL names the port). */
int tl_server_start_port(tl_server *s, const char *data, int port);
/* A loopback TCP port that was free a moment ago. */
int tl_free_port(void);
/* Sends SIGTERM and waits; returns the exit status. */
int tl_server_stop(tl_server *s);
/* Sends SIGKILL and waits. */
void tl_server_kill(tl_server *s);

/* An HTTP exchange. Headers are "Name: value" strings. */
typedef struct tl_resp {
    long status;
    char *body;
    size_t len;
    char *headers; /* raw response header block */
    json_t *json;  /* parsed body when it is JSON, else NULL */
} tl_resp;

/* Performs one request. `hdrs` is a NULL-terminated list or NULL; `body` may
 * be NULL. A cookie jar file keeps cookies between calls when `jar` is set.
 * Returns 0 when a response came back (any status). */
int tl_http(tl_resp *r, const char *method, const char *url, const char *const *hdrs,
            const char *body, const char *jar);
/* Returns a malloc'd copy of the named response header's value, or NULL. */
char *tl_header(const tl_resp *r, const char *name);
void tl_resp_free(tl_resp *r);



/* A district node for API tests: initialised in a fresh temporary
 * directory (district 15003), with one user and one API token per role
 * (users "admin", "editor", "moderator", "viewer", password TL_PASSWORD),
 * and its server started. */
#define TL_PASSWORD "richtig-geheim-123"
enum { TL_ADMIN, TL_EDITOR, TL_MODERATOR, TL_VIEWER, TL_NROLES };
extern const char *const tl_role_names[TL_NROLES];

typedef struct tl_node {
    char *dir;
    tl_server srv;
    char token[TL_NROLES][80];
} tl_node;

/* Returns 0 when the node is up. extra_init is appended to `dinet init`
 * arguments (NULL-terminated list, may be NULL). */
int tl_node_setup(tl_node *n, const char *tag, const char *const *extra_init);
/* A node of the given district whose base URL is http://127.0.0.1:PORT on a
 * free port, allowed to reach 127.0.0.0/8 (for federation tests). */
int tl_node_setup_fed(tl_node *n, const char *tag, const char *district,
                      const char *const *extra_conf);
/* Counts the lines of DATA/serve.log that contain needle. */
int tl_log_count(const tl_node *n, const char *needle);

/* A JSON API call against the node: path is appended to the base URL, token
 * (may be NULL) is sent as a bearer token, body (may be NULL) as
 * application/json. extra is one more header or NULL. */
int tl_api(tl_resp *r, tl_node *n, const char *method, const char *path, const char *token,
           const char *body, const char *extra);

/* ---- state aggregator ---------------------------------------------------- */

/* A node of the given role ("district" with its district code, or "state"
 * with district NULL) in a fresh temporary directory, base URL
 * http://127.0.0.1:PORT on a free port, allowed to reach 127.0.0.0/8, with
 * "retry_base_ms = 200" (and for the state "sync_interval = 1") in its
 * configuration, then the extra_conf lines (which may override them), and
 * its server started. It gets one API token per role in n->token, but no
 * user accounts (each costs a password hash), so it is quicker to set up
 * than tl_node_setup_fed when a test needs many nodes. Returns 0 when up. */
int tl_node_setup_role(tl_node *n, const char *tag, const char *role, const char *district,
                       const char *const *extra_conf);
/* The state node (`dinet init --role state`, code 15) as above:
 * tl_node_setup_role(n, tag, "state", NULL, extra_conf). */
int tl_node_setup_state(tl_node *n, const char *tag, const char *const *extra_conf);
/* Starts n's server again, on the port of its base URL, after
 * tl_server_stop(&n->srv) or tl_server_kill(&n->srv). Returns 0 when up. */
int tl_node_restart(tl_node *n);
/* DATA directory of a node set up by the helpers above (n->dir + "/node");
 * static buffer, overwritten by the next call. */
const char *tl_node_data(const tl_node *n);

/* ---- polling and JSON helpers --------------------------------------------- */

/* Seconds on the monotonic clock. */
double tl_mono(void);
/* Calls fn(arg) every 100 ms until it returns true (true) or `seconds` have
 * passed (false); the bound is tripled under AddressSanitizer. */
bool tl_eventually(bool (*fn)(void *), void *arg, double seconds);
/* GET path on n (token may be NULL): the parsed JSON body (new reference, or
 * NULL) and the status in *status (-1 when the request failed). */
json_t *tl_get_json(tl_node *n, const char *path, const char *token, long *status);
/* Member k of o as a string (NULL) or an integer (0). */
const char *tl_jstr(const json_t *o, const char *k);
long long tl_jint(const json_t *o, const char *k);

#endif
