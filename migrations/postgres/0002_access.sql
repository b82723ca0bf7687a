-- Roles and permissions, API keys, personal access tokens, JWT signing keys and refresh tokens.

CREATE TABLE roles (
  id          TEXT COLLATE "C" PRIMARY KEY,
  project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        TEXT COLLATE "C" NOT NULL,
  description TEXT COLLATE "C" NOT NULL DEFAULT '',
  permissions TEXT COLLATE "C" NOT NULL DEFAULT '[]',  -- JSON array of "resource:action" strings
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE user_roles (
  user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id TEXT COLLATE "C" NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

-- Every existing project gets the two built-in roles (new projects get them when created). Every user
-- is implicitly a member of "user"; other memberships are rows of user_roles.
INSERT INTO roles (id, project_id, name, description, permissions, created_at, updated_at)
  SELECT gen_random_uuid()::text, p.id, r.name, r.description, r.permissions, p.created_at, p.created_at
  FROM projects p
  CROSS JOIN (VALUES ('admin', 'Every permission of the project', '["*"]'),
                     ('user', 'Every user of the project', '[]')) AS r (name, description, permissions);

CREATE TABLE api_keys (
  id           TEXT COLLATE "C" PRIMARY KEY,
  project_id   TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name         TEXT COLLATE "C" NOT NULL DEFAULT '',
  secret_hash  BYTEA NOT NULL,                -- keyed BLAKE2b of the secret; the secret is shown once
  permissions  TEXT COLLATE "C" NOT NULL,
  expires_at   BIGINT,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX api_keys_project ON api_keys (project_id, id);

CREATE TABLE personal_access_tokens (
  id           TEXT COLLATE "C" PRIMARY KEY,
  project_id   TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT COLLATE "C" NOT NULL DEFAULT '',
  token_hash   BYTEA NOT NULL UNIQUE,
  permissions  TEXT COLLATE "C" NOT NULL,
  expires_at   BIGINT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id, id);

CREATE TABLE signing_keys (
  kid         TEXT COLLATE "C" PRIMARY KEY,
  alg         TEXT COLLATE "C" NOT NULL,
  private_pem TEXT COLLATE "C" NOT NULL,
  created_at  BIGINT NOT NULL,
  retired_at  BIGINT                          -- no longer signs; published until its tokens expire
);

CREATE TABLE refresh_tokens (
  id           TEXT COLLATE "C" PRIMARY KEY,
  family_id    TEXT COLLATE "C" NOT NULL,     -- every rotation of one grant shares it
  project_id   TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  subject_kind TEXT COLLATE "C" NOT NULL,     -- 'api_key' or 'user'
  subject_id   TEXT COLLATE "C" NOT NULL,
  scope        TEXT COLLATE "C" NOT NULL,     -- space-separated permissions granted
  token_hash   BYTEA NOT NULL UNIQUE,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  spent_at     BIGINT,                        -- rotated: using it again is reuse
  replaced_by  TEXT COLLATE "C"
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject_id);

-- Access tokens (JWTs) revoked before they expire (RFC 7009), by jti.
CREATE TABLE revoked_access_tokens (
  jti        TEXT COLLATE "C" PRIMARY KEY,
  project_id TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL
);
