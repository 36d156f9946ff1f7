/* `dinet restore`: puts a backup made by `dinet backup` in place of a
 * stopped node's database, and the lock by which a running node shows that
 * it runs.
 *
 * The lock: `dinet serve` holds an exclusive flock(2) on DIR/serve.lock for
 * its whole life (the file holds its process id, for messages). The kernel
 * releases the lock when the process ends, however it ends, so a stale file
 * never blocks anything. `dinet restore` takes the same lock, so a node
 * cannot start while a restore runs and a restore refuses while the node
 * runs. As a second check, independent of the lock (an older binary, another
 * dinet command), restore opens the current database in SQLite's exclusive
 * locking mode, which fails while any other process has it open.
 *
 * Restore steps (DIR/dinet.db is never missing or half-written):
 *   1. copy FILE to DIR/dinet.db.restore-tmp (mode 0600, owned like DIR);
 *   2. check the copy: PRAGMA integrity_check is "ok"; user_version is at
 *      least 1 (a dinet database) and at most this program's schema version;
 *      the dinet tables are there; its outbox was written by this node
 *      (activity ids under base_url; --force skips this) and, as a warning
 *      only, its latest proof verifies with the key in DIR/keys or
 *      DIR/keys/old;
 *   3. checkpoint the current database (its WAL is folded in and removed);
 *      one that SQLite cannot read at all is kept as it is, with its WAL;
 *   4. hard-link it to DIR/dinet.db.before-restore (refused when that name
 *      exists from an earlier restore), rename the copy over DIR/dinet.db,
 *      fsync DIR.
 * An older schema is migrated by the next start of the node, as always. */
#ifndef DINET_RESTORE_H
#define DINET_RESTORE_H

#include <stddef.h>

/* `dinet restore --data DIR [--force] FILE` (argv without the command name).
 * Returns 0 when restored, 1 when refused or failed, 2 for bad usage. */
int restore_main(int argc, char **argv);

/* For `dinet serve`: takes DIR/serve.lock and keeps it until the process
 * ends. Returns 0 (also when DIR does not exist: the caller's own checks
 * report that), or -1 with err when another process holds the lock or the
 * file cannot be created. */
int restore_lock_serve(const char *dir, char *err, size_t errlen);

#endif
