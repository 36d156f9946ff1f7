/* Structured logging: one logfmt line per event on stderr, which systemd's
 * journal collects. Values are quoted when needed. Request logs never carry
 * client addresses or user agents; see protocol-docs/operations.md. */
#ifndef DINET_LOG_H
#define DINET_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level that is printed (default LOG_INFO). */
void log_set_level(enum log_level lvl);
/* Logs `event` with key/value pairs given as a NULL-terminated list of
 * alternating const char* keys and values. */
void log_event(enum log_level lvl, const char *event, ...) __attribute__((sentinel));

#endif
