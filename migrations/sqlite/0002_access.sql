-- Roles and permissions, API keys, personal access tokens, JWT signing keys and refresh tokens.

CREATE TABLE roles (
  id          TEXT PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  permissions TEXT NOT NULL DEFAULT '[]',     -- JSON array of "resource:action" strings
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (project_id, name)
) STRICT;

CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (role_id);

-- Every existing project gets the two built-in roles (new projects get them when created). Every user
-- is implicitly a member of "user"; other memberships are rows of user_roles.
INSERT INTO roles (id, project_id, name, description, permissions, created_at, updated_at)
  SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' ||
               substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
         p.id, r.name, r.description, r.permissions, p.created_at, p.created_at
  FROM projects p, (SELECT 'admin' AS name, 'Every permission of the project' AS description, '["*"]' AS permissions
                    UNION ALL SELECT 'user', 'Every user of the project', '[]') r;

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  secret_hash  BLOB NOT NULL,                 -- keyed BLAKE2b of the secret; the secret is shown once
  permissions  TEXT NOT NULL,
  expires_at   INTEGER,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX api_keys_project ON api_keys (project_id, id);

CREATE TABLE personal_access_tokens (
  id           TEXT PRIMARY KEY,
  project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  token_hash   BLOB NOT NULL UNIQUE,
  permissions  TEXT NOT NULL,
  expires_at   INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id, id);

CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,
  alg         TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER                         -- no longer signs; published until its tokens expire
) STRICT;

CREATE TABLE refresh_tokens (
  id           TEXT PRIMARY KEY,
  family_id    TEXT NOT NULL,                 -- every rotation of one grant shares it
  project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  subject_kind TEXT NOT NULL,                 -- 'api_key' or 'user'
  subject_id   TEXT NOT NULL,
  scope        TEXT NOT NULL,                 -- space-separated permissions granted
  token_hash   BLOB NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  spent_at     INTEGER,                       -- rotated: using it again is reuse
  replaced_by  TEXT
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject_id);

-- Access tokens (JWTs) revoked before they expire (RFC 7009), by jti.
CREATE TABLE revoked_access_tokens (
  jti        TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
