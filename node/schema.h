/* Numbered schema migrations. Migration i (1-based) moves the database from
 * user_version i-1 to i. A migration is never edited once released; a change
 * is a new migration, and tests/unit/test_db.c upgrades every earlier
 * version. */
#ifndef DINET_SCHEMA_H
#define DINET_SCHEMA_H

/* NULL-terminated array of migration scripts. */
extern const char *const schema_migrations[];

#endif
