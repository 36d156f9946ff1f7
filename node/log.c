/* Structured logging; see log.h. */
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level min_level = LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

static void put_value(buf *b, const char *v)
{
    bool quote = !*v || strpbrk(v, " \"=\t\n\\") != NULL;
    if (!quote) {
        buf_puts(b, v);
        return;
    }
    buf_puts(b, "\"");
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            buf_puts(b, "\\n");
        else if ((unsigned char)*v < 0x20)
            buf_printf(b, "\\x%02x", (unsigned char)*v);
        else
            buf_append(b, v, 1);
    }
    buf_puts(b, "\"");
}

void log_event(enum log_level lvl, const char *event, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level)
        return;
    char ts[21];
    util_now_iso(ts);
    buf b;
    buf_init(&b);
    buf_printf(&b, "ts=%s level=%s event=", ts, names[lvl]);
    put_value(&b, event);
    va_list ap;
    va_start(ap, event);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        buf_printf(&b, " %s=", k);
        put_value(&b, v ? v : "");
    }
    va_end(ap);
    buf_puts(&b, "\n");
    if (!b.oom) {
        pthread_mutex_lock(&log_mu);
        fputs(b.p, stderr);
        pthread_mutex_unlock(&log_mu);
    }
    buf_free(&b);
}
