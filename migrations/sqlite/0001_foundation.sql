-- Projects (tenants), users and sessions. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE projects (
  id                      TEXT PRIMARY KEY,
  alias                   TEXT NOT NULL UNIQUE,
  name                    TEXT NOT NULL,
  session_idle_timeout_us INTEGER,           -- NULL: the server's [session] idle_timeout
  session_lifetime_us     INTEGER,           -- NULL: the server's [session] lifetime
  created_at              INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id              TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  email           TEXT,
  email_key       TEXT,                      -- lower-cased email: uniqueness is case-insensitive
  login           TEXT,
  login_key       TEXT,
  phone           TEXT,                      -- E.164
  full_name       TEXT,
  external_id     TEXT,
  tags            TEXT NOT NULL DEFAULT '[]',
  data            TEXT NOT NULL DEFAULT '{}',
  avatar_url      TEXT,
  active          INTEGER NOT NULL DEFAULT 1,
  email_verified  INTEGER NOT NULL DEFAULT 0,
  is_guest        INTEGER NOT NULL DEFAULT 0,
  password_hash   TEXT,                      -- PHC string; NULL when the user has no password
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  last_request_at INTEGER
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (project_id, email_key) WHERE email_key IS NOT NULL;
CREATE UNIQUE INDEX users_login_key ON users (project_id, login_key) WHERE login_key IS NOT NULL;
CREATE UNIQUE INDEX users_phone ON users (project_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX users_project_created ON users (project_id, created_at);

CREATE TABLE sessions (
  id              TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash      BLOB NOT NULL UNIQUE,      -- BLAKE2b-256 of the token; the token itself is never stored
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,          -- absolute lifetime
  idle_expires_at INTEGER NOT NULL,          -- slides with use
  last_used_at    INTEGER NOT NULL,
  ip              TEXT NOT NULL DEFAULT '',
  user_agent      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, id);
CREATE INDEX sessions_expiry ON sessions (idle_expires_at);
