/* Storage: one SQLite database per node in WAL mode with foreign keys on.
 *
 * Every thread has its own connection (SQLite connections are not shared
 * across threads here). Statements are prepared once per connection and
 * cached; callers bind parameters by name and never interpolate values into
 * SQL text. Writes run inside BEGIN IMMEDIATE so that a writer takes the
 * write lock before it reads what it is about to change. */
#ifndef DINET_DB_H
#define DINET_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct db db;

/* Opens (creating if needed) the database at path, sets the pragmas and
 * applies pending migrations. Returns 0 and *out, or -1 with err. */
int db_open(const char *path, db **out, char *err, size_t errlen);
void db_close(db *d);
sqlite3 *db_handle(db *d);

/* The schema version this build writes (PRAGMA user_version after migrate). */
int db_schema_version(void);

/* Returns a cached prepared statement for sql, reset and with bindings
 * cleared, or NULL on a prepare error (logged). The statement belongs to the
 * cache: do not finalize it. Call db_done(stmt) when finished with it. */
sqlite3_stmt *db_stmt(db *d, const char *sql);
void db_done(sqlite3_stmt *st);

/* Binding helpers by parameter name (":name"). Missing names are a
 * programming error and are logged. NULL text binds SQL NULL. */
void db_bind_text(sqlite3_stmt *st, const char *name, const char *v);
void db_bind_int(sqlite3_stmt *st, const char *name, long long v);

/* Runs a statement that returns no rows (or ignores them). 0 on success. */
int db_exec_stmt(sqlite3_stmt *st);
/* Runs SQL text without parameters (schema, pragmas). */
int db_exec(db *d, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. db_begin waits for the write lock up
 * to the busy timeout. Return 0 on success. */
int db_begin(db *d);
/* A read transaction: several queries see one snapshot and share one lock
 * acquisition. End it with db_end_read. */
int db_begin_read(db *d);
void db_end_read(db *d);
int db_commit(db *d);
/* Runs fn once after the current write transaction commits (not at all when
 * it rolls back); immediately when no transaction is open. For wake-ups of
 * worker threads that must see the committed rows. */
void db_after_commit(db *d, void (*fn)(void));
void db_rollback(db *d);

/* Per-thread connections for the server. db_thread_init sets the path once;
 * db_thread returns this thread's connection, opening it on first use (or
 * again after an idle close), or NULL when it cannot be opened. Connections
 * close when their thread ends; db_thread_close_current closes the calling
 * thread's one explicitly.
 *
 * A thread that calls db_thread_release when it is done with its connection
 * for now (the HTTP threads, after each request) lets db_thread_close_idle
 * close it from another thread once it has been idle for idle_ns; the
 * connection and its prepared statements must not be used after the
 * release, only through a new db_thread. Connections never released are
 * never closed that way. The checkpointer thread calls db_thread_close_idle
 * (after 2 s idle) and then returns free heap memory to the system. Returns
 * the number of connections closed. */
void db_thread_init(const char *path);
db *db_thread(void);
void db_thread_release(void);
int db_thread_close_idle(long long idle_ns);
void db_thread_close_current(void);

/* Online backup of the open database into the file dest (overwritten). */
int db_backup(db *d, const char *dest, char *err, size_t errlen);

/* Starts/stops a thread that checkpoints the WAL of path in the background;
 * while it runs, connections from db_thread() do not checkpoint in their
 * commits. */
int db_checkpointer_start(const char *path);
void db_checkpointer_stop(void);

/* Calls fn after every commit on connections opened afterwards, and after
 * background checkpoints (the server tells its response cache that the
 * database files changed because of its own writes). Set once, before
 * opening the server's connections; it replaces the automatic checkpoint. */
void db_set_write_hook(void (*fn)(void));

/* Calls fn from the checkpointer thread each time the node has become idle
 * (no thread has held its connection for 2 s), just before free memory goes
 * back to the system: caches that are of no use to an idle node drop their
 * entries there. Set once, before db_checkpointer_start. */
void db_set_idle_hook(void (*fn)(void));

/* After each HTTP request: resets statements left active and ends a
 * transaction left open, logging each (a stale snapshot otherwise). */
void db_request_done(db *d);

#endif
