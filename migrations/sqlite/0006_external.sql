-- External identities: per-project providers, the identities linked to users, and the short-lived
-- records of the authorization code flow (docs/external.md).
ALTER TABLE projects ADD COLUMN redirect_allow_list TEXT NOT NULL DEFAULT '[]';  -- JSON array of URLs
ALTER TABLE projects ADD COLUMN link_by_email INTEGER NOT NULL DEFAULT 0;

CREATE TABLE providers (
  id                TEXT PRIMARY KEY,
  project_id        TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  kind              TEXT NOT NULL,            -- 'oidc' | 'github' | 'jwt' | 'verify_url'
  preset            TEXT,
  enabled           INTEGER NOT NULL DEFAULT 1,
  settings          TEXT NOT NULL,            -- JSON: the kind's fields, never a secret
  sealed_secret     BLOB,                     -- the client secret, encrypted under the server secret key
  client_secret_env TEXT,                     -- or the environment variable holding it
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  UNIQUE (project_id, name)
) STRICT;

-- An account at a provider, linked to a user. A subject is unique within its provider.
CREATE TABLE identities (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  provider   TEXT NOT NULL,                   -- the provider's name
  subject    TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email      TEXT,                            -- as the provider gave it when linked
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, provider, subject)
) STRICT;
CREATE INDEX identities_user ON identities (user_id);

-- A started authorization code flow, found by the hash of its state; single use.
CREATE TABLE oauth_flows (
  state_hash     BLOB PRIMARY KEY,
  project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  provider       TEXT NOT NULL,
  action         TEXT NOT NULL,               -- 'signin' | 'signup'
  redirect_to    TEXT,
  code_challenge TEXT,                        -- the application's PKCE challenge (S256), if it sent one
  expires_at     INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

-- The one-time code handed to redirect_to after a flow, exchanged for a session; single use.
CREATE TABLE login_codes (
  code_hash      BLOB PRIMARY KEY,
  project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_created   INTEGER NOT NULL,
  provider       TEXT NOT NULL,
  code_challenge TEXT,
  expires_at     INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX login_codes_expiry ON login_codes (expires_at);
