/* Schema migrations; see schema.h. */
#include "schema.h"

#include <stddef.h>

const char *const schema_migrations[] = {
    /* 1: node foundation */
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"

    /* The LIK taxonomy is data, versioned, so a later concept can replace it. */
    "CREATE TABLE taxonomy(\n"
    "  code TEXT PRIMARY KEY,\n"
    "  kind TEXT NOT NULL CHECK(kind IN ('field','theme')),\n"
    "  scheme TEXT NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  name_de TEXT NOT NULL,\n"
    "  name_en TEXT NOT NULL,\n"
    "  retired INTEGER NOT NULL DEFAULT 0);\n"
    "INSERT INTO taxonomy(code,kind,scheme,position,name_de,name_en) VALUES\n"
    " ('HF1','field','LIK2020',1,'Aufnahme, Erstorientierung, Erstintegration',"
    "'Reception, initial orientation, initial integration'),\n"
    " ('HF2','field','LIK2020',2,'Beratung, Begleitung und Betreuung',"
    "'Counselling, accompaniment and support'),\n"
    " ('HF3','field','LIK2020',3,'Bildungsintegration und Sprachförderung',"
    "'Integration through education and language support'),\n"
    " ('HF4','field','LIK2020',4,'Berufliche Integration','Labour market integration'),\n"
    " ('HF5','field','LIK2020',5,'Gesellschaftliche Teilhabe und Integration',"
    "'Social participation and integration'),\n"
    " ('HF6','field','LIK2020',6,'Gesundheit und Pflege','Health and care'),\n"
    " ('HF7','field','LIK2020',7,'Antidiskriminierung und Radikalisierungsprävention',"
    "'Anti-discrimination and prevention of radicalisation'),\n"
    " ('QT1','theme','LIK2020',1,'Interkulturelle Sensibilisierung und Öffnung',"
    "'Intercultural awareness and opening'),\n"
    " ('QT2','theme','LIK2020',2,'Sprachmittlung und Verständigung',"
    "'Language mediation and communication'),\n"
    " ('QT3','theme','LIK2020',3,'Gesellschaftliches Engagement und Partizipation – Engagement "
    "von und für Migrantinnen und Migranten',"
    "'Civic engagement and participation – engagement by and for migrants');\n"

    /* All public records share one table: organisations, measures and
     * progress entries. `doc` is the JSON the API serves, rendered at write
     * time so that reads are a straight copy. Typed columns exist only for
     * filtering and ordering. A deleted record keeps its row as a tombstone. */
    "CREATE TABLE records(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  id TEXT NOT NULL UNIQUE,\n"
    "  kind TEXT NOT NULL CHECK(kind IN ('organisation','measure','progress')),\n"
    "  version INTEGER NOT NULL CHECK(version >= 1),\n"
    "  created TEXT NOT NULL,\n"
    "  updated TEXT NOT NULL,\n"
    "  deleted TEXT,\n"
    "  parent TEXT,\n"
    "  title TEXT NOT NULL,\n"
    "  status TEXT,\n"
    "  progress INTEGER,\n"
    "  start_date TEXT,\n"
    "  end_date TEXT,\n"
    "  org_kind TEXT,\n"
    "  doc TEXT NOT NULL);\n"
    "CREATE INDEX records_list ON records(kind, deleted, seq);\n"
    "CREATE INDEX records_parent ON records(parent, seq) WHERE parent IS NOT NULL;\n"
    /* Terms a record is tagged with, for filters: taxonomy codes (HF1, QT2),
     * organisation links (org:ID) and languages (lang:de). */
    "CREATE TABLE record_terms(\n"
    "  term TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL REFERENCES records(seq) ON DELETE CASCADE,\n"
    "  PRIMARY KEY(term, seq)) WITHOUT ROWID;\n"
    "CREATE INDEX record_terms_seq ON record_terms(seq);\n"
    /* Trigram full-text index so that parts of German compounds match
     * ('sprach' finds 'Sprachförderung'). rowid = records.seq. */
    "CREATE VIRTUAL TABLE record_fts USING fts5(title, body, tokenize='trigram');\n"
    /* Change history: one row per write with the changed fields
     * {field: {from, to}}. */
    "CREATE TABLE history(\n"
    "  hseq INTEGER PRIMARY KEY,\n"
    "  record_id TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL,\n"
    "  at TEXT NOT NULL,\n"
    "  actor TEXT NOT NULL,\n"
    "  op TEXT NOT NULL CHECK(op IN ('create','update','delete')),\n"
    "  changes TEXT NOT NULL);\n"
    "CREATE INDEX history_record ON history(record_id, hseq);\n"

    "CREATE TABLE users(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE COLLATE NOCASE,\n"
    "  role TEXT NOT NULL CHECK(role IN ('admin','editor','moderator','viewer')),\n"
    "  pwhash TEXT NOT NULL,\n"
    "  disabled INTEGER NOT NULL DEFAULT 0,\n"
    "  created TEXT NOT NULL);\n"
    "CREATE TABLE sessions(\n"
    "  token_hash TEXT PRIMARY KEY,\n"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
    "  csrf TEXT NOT NULL,\n"
    "  created TEXT NOT NULL,\n"
    "  expires INTEGER NOT NULL);\n"
    "CREATE TABLE api_tokens(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  role TEXT NOT NULL CHECK(role IN ('admin','editor','moderator','viewer')),\n"
    "  created TEXT NOT NULL,\n"
    "  revoked TEXT);\n"
    /* Failed logins, per account ('user:NAME') and per client ('addr:IP'). */
    "CREATE TABLE login_failures(key TEXT NOT NULL, at INTEGER NOT NULL);\n"
    "CREATE INDEX login_failures_key ON login_failures(key, at);\n",

    /* 2: federation */
    /* Everything this node published, in order; the outbox collection and
     * backfill read it. `activity` is the signed JSON as sent. */
    "CREATE TABLE outbox(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  activity_id TEXT NOT NULL UNIQUE,\n"
    "  type TEXT NOT NULL,\n"
    "  object_id TEXT,\n"
    "  published TEXT NOT NULL,\n"
    "  activity TEXT NOT NULL);\n"
    "CREATE INDEX outbox_object ON outbox(object_id, seq);\n"
    /* Remote actors following ours. */
    "CREATE TABLE followers(\n"
    "  actor_id TEXT PRIMARY KEY,\n"
    "  inbox TEXT NOT NULL,\n"
    "  shared_inbox TEXT,\n"
    "  follow_id TEXT NOT NULL,\n"
    "  state TEXT NOT NULL CHECK(state IN ('pending','accepted')),\n"
    "  created TEXT NOT NULL);\n"
    /* Remote actors our actor follows. */
    "CREATE TABLE following(\n"
    "  actor_id TEXT PRIMARY KEY,\n"
    "  follow_id TEXT NOT NULL UNIQUE,\n"
    "  state TEXT NOT NULL CHECK(state IN ('pending','accepted','rejected')),\n"
    "  created TEXT NOT NULL,\n"
    "  updated TEXT NOT NULL);\n"
    /* Cache of remote actors with their keys (RSA for HTTP signatures,
     * Ed25519 Multikeys for proofs). */
    "CREATE TABLE remote_actors(\n"
    "  id TEXT PRIMARY KEY,\n"
    "  inbox TEXT,\n"
    "  shared_inbox TEXT,\n"
    "  key_id TEXT,\n"
    "  public_key_pem TEXT,\n"
    "  assertion_keys TEXT NOT NULL DEFAULT '[]',\n"
    "  doc TEXT NOT NULL,\n"
    "  fetched INTEGER NOT NULL);\n"
    "CREATE INDEX remote_actors_key ON remote_actors(key_id);\n"
    /* Every accepted inbox activity once (idempotency) with its raw JSON. */
    "CREATE TABLE inbox_log(\n"
    "  activity_id TEXT PRIMARY KEY,\n"
    "  actor TEXT NOT NULL,\n"
    "  type TEXT NOT NULL,\n"
    "  received TEXT NOT NULL,\n"
    "  outcome TEXT NOT NULL,\n"
    "  raw TEXT NOT NULL);\n"
    /* Objects published by actors we follow, latest state per object. */
    "CREATE TABLE remote_objects(\n"
    "  id TEXT PRIMARY KEY,\n"
    "  actor TEXT NOT NULL,\n"
    "  type TEXT NOT NULL,\n"
    "  version INTEGER,\n"
    "  deleted TEXT,\n"
    "  updated TEXT NOT NULL,\n"
    "  object TEXT NOT NULL,\n"
    "  activity TEXT NOT NULL);\n"
    "CREATE INDEX remote_objects_actor ON remote_objects(actor);\n"
    /* Delivery queue: one row per activity and target inbox. */
    "CREATE TABLE deliveries(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  activity_id TEXT NOT NULL,\n"
    "  activity TEXT NOT NULL,\n"
    "  inbox TEXT NOT NULL,\n"
    "  state TEXT NOT NULL CHECK(state IN ('pending','done','failed')),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  next_attempt INTEGER NOT NULL,\n"
    "  last_status INTEGER,\n"
    "  last_error TEXT);\n"
    "CREATE INDEX deliveries_due ON deliveries(state, next_attempt);\n"
    /* Blocked actors and domains. */
    "CREATE TABLE blocks(\n"
    "  pattern TEXT PRIMARY KEY,\n"
    "  kind TEXT NOT NULL CHECK(kind IN ('actor','domain')),\n"
    "  created TEXT NOT NULL);\n",

    /* 3: live record counts per kind, kept by the write path, so that an
     * unfiltered list does not count the whole table on every request. */
    "CREATE TABLE record_counts(kind TEXT PRIMARY KEY, live INTEGER NOT NULL);\n"
    "INSERT INTO record_counts(kind, live) SELECT k, (SELECT count(*) FROM records r "
    "WHERE r.kind=k AND r.deleted IS NULL) FROM (SELECT 'organisation' AS k UNION ALL "
    "SELECT 'measure' UNION ALL SELECT 'progress');\n",

    /* 4: state aggregator */
    /* Trusted districts with their pinned keys and sync state. */
    "CREATE TABLE districts(\n"
    "  code TEXT PRIMARY KEY,\n"
    "  actor_id TEXT NOT NULL UNIQUE,\n"
    "  inbox TEXT NOT NULL,\n"
    "  outbox TEXT NOT NULL,\n"
    "  key_id TEXT NOT NULL,\n"
    "  rsa_pem TEXT NOT NULL,\n"
    "  rsa_fp TEXT NOT NULL,\n"
    "  ed_key_id TEXT NOT NULL,\n"
    "  ed_pk TEXT NOT NULL,\n"
    "  ed_fp TEXT NOT NULL,\n"
    "  added TEXT NOT NULL,\n"
    "  cursor TEXT,\n"
    "  last_contact TEXT,\n"
    "  last_sync TEXT,\n"
    "  last_error TEXT,\n"
    "  accepted INTEGER NOT NULL DEFAULT 0,\n"
    "  rejected INTEGER NOT NULL DEFAULT 0,\n"
    "  pending_key TEXT);\n"
    /* The signed activity each replicated record came with: anyone can
     * check where a figure came from. */
    "CREATE TABLE provenance(\n"
    "  record_id TEXT PRIMARY KEY,\n"
    "  district TEXT NOT NULL,\n"
    "  activity_id TEXT NOT NULL,\n"
    "  activity TEXT NOT NULL,\n"
    "  received TEXT NOT NULL);\n"
    /* Which district a record belongs to (this node's own for local ones),
     * for summaries and statewide figures; kept for tombstones too. */
    "ALTER TABLE records ADD COLUMN district TEXT;\n"
    "CREATE INDEX records_district ON records(district, id);\n",

    /* 5: more than one local actor (the state's Group actor per field of
     * action and theme): followers, outbox entries and deliveries name the
     * local actor they belong to ('' = the node's own actor). */
    "CREATE TABLE followers_new(\n"
    "  local TEXT NOT NULL DEFAULT '',\n"
    "  actor_id TEXT NOT NULL,\n"
    "  inbox TEXT NOT NULL,\n"
    "  shared_inbox TEXT,\n"
    "  follow_id TEXT NOT NULL,\n"
    "  state TEXT NOT NULL CHECK(state IN ('pending','accepted')),\n"
    "  created TEXT NOT NULL,\n"
    "  PRIMARY KEY(local, actor_id));\n"
    "INSERT INTO followers_new(local, actor_id, inbox, shared_inbox, follow_id, state, created) "
    "SELECT '', actor_id, inbox, shared_inbox, follow_id, state, created FROM followers;\n"
    "DROP TABLE followers;\n"
    "ALTER TABLE followers_new RENAME TO followers;\n"
    "ALTER TABLE outbox ADD COLUMN local TEXT NOT NULL DEFAULT '';\n"
    "CREATE INDEX outbox_local ON outbox(local, seq);\n"
    "ALTER TABLE deliveries ADD COLUMN local TEXT NOT NULL DEFAULT '';\n",

    /* 6: every key a district ever had pinned, so that records signed before
     * a rotation still verify. */
    "CREATE TABLE district_keys(\n"
    "  code TEXT NOT NULL,\n"
    "  actor_id TEXT NOT NULL,\n"
    "  ed_key_id TEXT NOT NULL,\n"
    "  ed_pk TEXT NOT NULL,\n"
    "  ed_fp TEXT NOT NULL,\n"
    "  pinned TEXT NOT NULL,\n"
    "  PRIMARY KEY(code, ed_pk));\n"
    "INSERT INTO district_keys(code, actor_id, ed_key_id, ed_pk, ed_fp, pinned) "
    "SELECT code, actor_id, ed_key_id, ed_pk, ed_fp, added FROM districts WHERE ed_pk != '';\n",

    /* 7: the statewide figures read only these columns; as a covering index
     * they no longer walk every record's document (district comes after
     * it in the row, so reading it meant reading the document's pages). */
    "CREATE INDEX records_stats ON records(kind, deleted, district, status, progress, "
    "start_date, end_date, org_kind);\n",

    /* 8: moderated public discussion on measures and progress entries.
     * Users get the role 'participant' (self-registered, below viewer), an
     * approval flag (self-registered accounts wait for a moderator) and a
     * trust flag (post-moderation). SQLite cannot change a CHECK, so the
     * users table is rebuilt; sessions are kept across the rebuild. */
    "CREATE TABLE users_new(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE COLLATE NOCASE,\n"
    "  role TEXT NOT NULL CHECK(role IN ('admin','editor','moderator','viewer','participant')),\n"
    "  pwhash TEXT NOT NULL,\n"
    "  disabled INTEGER NOT NULL DEFAULT 0,\n"
    "  created TEXT NOT NULL,\n"
    "  approved INTEGER NOT NULL DEFAULT 1,\n"
    "  trusted INTEGER NOT NULL DEFAULT 0,\n"
    "  display_name TEXT);\n"
    "INSERT INTO users_new(id, name, role, pwhash, disabled, created) "
    "SELECT id, name, role, pwhash, disabled, created FROM users;\n"
    "CREATE TEMP TABLE sessions_keep AS SELECT * FROM sessions;\n"
    "DROP TABLE users;\n"
    "ALTER TABLE users_new RENAME TO users;\n"
    "INSERT INTO sessions SELECT * FROM temp.sessions_keep;\n"
    "DROP TABLE temp.sessions_keep;\n"
    /* Comments: local ones (author_user_id) and remote replies (author_actor);
     * on the state node the replicated comments of the districts (district).
     * A deleted comment keeps its row (without content) so that its id is
     * never reused and a late Update cannot resurrect it. */
    "CREATE TABLE comments(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  id TEXT NOT NULL UNIQUE,\n"
    "  target_kind TEXT NOT NULL CHECK(target_kind IN ('measure','progress')),\n"
    "  target_id TEXT NOT NULL,\n"
    "  parent_id TEXT,\n"
    "  author_user_id INTEGER,\n"
    "  author_actor TEXT,\n"
    "  author_name TEXT NOT NULL,\n"
    "  content TEXT NOT NULL,\n"
    "  status TEXT NOT NULL CHECK(status IN ('pending','approved','hidden','deleted')),\n"
    "  moderation_reason TEXT,\n"
    "  moderated_by TEXT,\n"
    "  report_count INTEGER NOT NULL DEFAULT 0,\n"
    "  created TEXT NOT NULL,\n"
    "  updated TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL DEFAULT 1,\n"
    "  ap_id TEXT NOT NULL UNIQUE,\n"
    "  district TEXT,\n"
    "  raw TEXT,\n"
    "  published INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE INDEX comments_target ON comments(target_kind, target_id, seq);\n"
    "CREATE INDEX comments_status ON comments(status, seq);\n"
    "CREATE INDEX comments_author ON comments(author_user_id) WHERE author_user_id IS NOT NULL;\n"
    /* One report per reporter ('user:NAME' or a remote actor URL). */
    "CREATE TABLE comment_reports(\n"
    "  comment_id TEXT NOT NULL,\n"
    "  reporter TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL CHECK(reason IN ('spam','offensive','off-topic')),\n"
    "  created TEXT NOT NULL,\n"
    "  PRIMARY KEY(comment_id, reporter));\n"
    /* Sliding-window rate limits: comments per account or remote actor,
     * registrations per client address. */
    "CREATE TABLE rate_events(key TEXT NOT NULL, at INTEGER NOT NULL);\n"
    "CREATE INDEX rate_events_key ON rate_events(key, at);\n",

    /* 9: coordinators' channel and events (issue #8 parts 4 and 5). Written
     * so that it does not depend on the migrations next to it: only new
     * tables, created if absent. */
    /* Posts in the state's Group actors (FEP-1b12): on the state every post
     * to its groups, on a district the posts its joined groups announced and
     * its own. id is the Note's URL; thread is the id of the thread's first
     * post. seq orders arrival, for unread marks. */
    "CREATE TABLE IF NOT EXISTS channel_posts(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  id TEXT NOT NULL UNIQUE,\n"
    "  grp TEXT NOT NULL,\n"
    "  code TEXT NOT NULL,\n"
    "  thread TEXT NOT NULL,\n"
    "  in_reply_to TEXT,\n"
    "  author TEXT NOT NULL,\n"
    "  author_name TEXT,\n"
    "  content TEXT NOT NULL,\n"
    "  members_only INTEGER NOT NULL DEFAULT 0,\n"
    "  published TEXT NOT NULL,\n"
    "  received TEXT NOT NULL,\n"
    "  written_by TEXT,\n"
    "  activity TEXT NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS channel_posts_thread ON channel_posts(thread, seq);\n"
    "CREATE INDEX IF NOT EXISTS channel_posts_code ON channel_posts(code, seq);\n"
    /* Groups a district node joined (follows), with what it learnt of them. */
    "CREATE TABLE IF NOT EXISTS channel_groups(\n"
    "  url TEXT PRIMARY KEY,\n"
    "  code TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL,\n"
    "  inbox TEXT NOT NULL,\n"
    "  followers TEXT NOT NULL,\n"
    "  joined TEXT NOT NULL);\n"
    /* Read marks per reader ('user:NAME' / 'token:NAME') and thread: the
     * highest post seq seen. */
    "CREATE TABLE IF NOT EXISTS channel_reads(\n"
    "  reader TEXT NOT NULL,\n"
    "  thread TEXT NOT NULL,\n"
    "  seen INTEGER NOT NULL,\n"
    "  PRIMARY KEY(reader, thread)) WITHOUT ROWID;\n"
    /* Network meetings and Fachtage (AS2 Event); on the state also the
     * districts' events, with their district and home URL. */
    "CREATE TABLE IF NOT EXISTS events(\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  id TEXT NOT NULL UNIQUE,\n"
    "  version INTEGER NOT NULL,\n"
    "  district TEXT NOT NULL,\n"
    "  home_url TEXT NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  start_time TEXT NOT NULL,\n"
    "  end_time TEXT NOT NULL,\n"
    "  created TEXT NOT NULL,\n"
    "  updated TEXT NOT NULL,\n"
    "  deleted TEXT,\n"
    "  doc TEXT NOT NULL,\n"
    "  activity TEXT);\n"
    "CREATE INDEX IF NOT EXISTS events_start ON events(deleted, start_time);\n",

    /* 10: a pending Update that a later Update or Delete of the same object
     * to the same inbox makes pointless is 'superseded' instead of being
     * retried (federation/outbox.c); deliveries are found by activity. */
    "CREATE TABLE deliveries_v10(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  activity_id TEXT NOT NULL,\n"
    "  activity TEXT NOT NULL,\n"
    "  inbox TEXT NOT NULL,\n"
    "  state TEXT NOT NULL CHECK(state IN ('pending','done','failed','superseded')),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  next_attempt INTEGER NOT NULL,\n"
    "  last_status INTEGER,\n"
    "  last_error TEXT,\n"
    "  local TEXT NOT NULL DEFAULT '');\n"
    "INSERT INTO deliveries_v10(id, activity_id, activity, inbox, state, attempts, created, "
    "next_attempt, last_status, last_error, local) SELECT id, activity_id, activity, inbox, "
    "state, attempts, created, next_attempt, last_status, last_error, local FROM deliveries;\n"
    "DROP TABLE deliveries;\n"
    "ALTER TABLE deliveries_v10 RENAME TO deliveries;\n"
    "CREATE INDEX deliveries_due ON deliveries(state, next_attempt);\n"
    "CREATE INDEX deliveries_activity ON deliveries(activity_id);\n",

    NULL,
};
