/* Accounts and access: users with roles, argon2id password hashes, cookie
 * sessions with a CSRF token, hashed bearer API tokens, and throttling of
 * failed logins per account and per client address. */
#ifndef DINET_ACCOUNT_H
#define DINET_ACCOUNT_H

#include "db.h"
#include <jansson.h>
#include <stdbool.h>

/* Ordered from weakest to strongest: a check `role >= ROLE_X` admits X and
 * every stronger role. ROLE_PARTICIPANT (self-registered members of the
 * public) may only take part in discussions; it sits below viewer so that
 * every existing `>= ROLE_VIEWER` check keeps excluding it. */
typedef enum role {
    ROLE_NONE = 0,
    ROLE_PARTICIPANT,
    ROLE_VIEWER,
    ROLE_MODERATOR,
    ROLE_EDITOR,
    ROLE_ADMIN
} role;

/* "admin" → ROLE_ADMIN …; ROLE_NONE for anything else. */
role account_role_parse(const char *s);
const char *account_role_name(role r);

typedef enum acct_status {
    ACCT_OK = 0,
    ACCT_EXISTS,    /* user name or token name taken */
    ACCT_NOT_FOUND,
    ACCT_INVALID,   /* bad name, role or password; message in err */
    ACCT_DENIED,    /* wrong credentials or disabled account */
    ACCT_THROTTLED, /* too many failed logins; retry_after set */
    ACCT_PENDING,   /* right password, but the account awaits approval */
    ACCT_ERROR,
} acct_status;

/* The authenticated principal of a request. */
typedef struct principal {
    role role;
    long long user_id;   /* 0 for API tokens */
    char name[128];      /* user or token name */
    char actor[160];     /* "user:NAME" or "token:NAME", written to history */
    char csrf[65];       /* session CSRF token; empty for bearer tokens */
    bool via_cookie;     /* cookie sessions need the CSRF header on writes */
    bool trusted;        /* the user's comments are post-moderated */
    char display[128];   /* display name (users; else the name) */
} principal;

/* Password rules: at least 10 characters, at most 1024 bytes. */
acct_status account_user_add(db *d, const char *name, role r, const char *password, char *err,
                             size_t errlen);
acct_status account_user_passwd(db *d, const char *name, const char *password, char *err,
                                size_t errlen);
acct_status account_user_set_role(db *d, const char *name, role r);
/* Disabling also ends the user's sessions. */
acct_status account_user_disable(db *d, const char *name, bool disabled);
/* [{id, name, role, disabled, created, approved, trusted, display_name}],
 * new reference. */
json_t *account_user_list(db *d);

/* Self-registration: a participant account that cannot log in until a
 * moderator approves it. display_name: 1-80 characters. */
acct_status account_register(db *d, const char *name, const char *password,
                             const char *display_name, char *err, size_t errlen);
/* Accounts awaiting approval [{name, display_name, created}]. */
json_t *account_pending_list(db *d);
/* Approves a pending account (ACCT_NOT_FOUND when none is pending). */
acct_status account_approve(db *d, const char *name);
/* Rejects a pending account: it is deleted. */
acct_status account_reject(db *d, const char *name);
acct_status account_set_trusted(db *d, const char *name, bool trusted);
/* Checks a user's password without creating a session or counting a
 * failure (for confirming account deletion; the caller throttles). */
bool account_check_password(db *d, long long user_id, const char *password);

/* Checks a login. Throttling: after 5 failures within 15 minutes for the
 * account, or 20 for the client address, further attempts are refused with
 * ACCT_THROTTLED until the window passes (retry_after seconds). On success a
 * session is created: *token (65 bytes) is the cookie value and *p filled. */
acct_status account_login(db *d, const char *name, const char *password, const char *client,
                          char token[65], principal *p, long *retry_after);
/* Resolves a session cookie; ACCT_OK with *p filled, else ACCT_DENIED. */
acct_status account_session(db *d, const char *token, principal *p);
void account_logout(db *d, const char *token);
/* Session lifetime in seconds (8 hours, sliding is not used). */
long account_session_ttl(void);

/* Creates an API token with a role; *token gets "dnt_" + 64 hex characters
 * (printed once; only its SHA-256 is stored). */
acct_status account_token_create(db *d, const char *name, role r, char token[80], char *err,
                                 size_t errlen);
acct_status account_token_revoke(db *d, const char *name);
/* Resolves "Authorization: Bearer TOKEN". */
acct_status account_token_check(db *d, const char *token, principal *p);
json_t *account_token_list(db *d);

#endif
