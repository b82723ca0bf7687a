-- External identities: per-project providers, the identities linked to users, and the short-lived
-- records of the authorization code flow (docs/external.md).
ALTER TABLE projects ADD COLUMN redirect_allow_list TEXT COLLATE "C" NOT NULL DEFAULT '[]';  -- JSON array of URLs
ALTER TABLE projects ADD COLUMN link_by_email BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE providers (
  id                TEXT COLLATE "C" PRIMARY KEY,
  project_id        TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name              TEXT COLLATE "C" NOT NULL,
  kind              TEXT COLLATE "C" NOT NULL,  -- 'oidc' | 'github' | 'jwt' | 'verify_url'
  preset            TEXT COLLATE "C",
  enabled           BOOLEAN NOT NULL DEFAULT TRUE,
  settings          TEXT COLLATE "C" NOT NULL,  -- JSON: the kind's fields, never a secret
  sealed_secret     BYTEA,                      -- the client secret, encrypted under the server secret key
  client_secret_env TEXT COLLATE "C",           -- or the environment variable holding it
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  UNIQUE (project_id, name)
);

-- An account at a provider, linked to a user. A subject is unique within its provider.
CREATE TABLE identities (
  project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  provider   TEXT COLLATE "C" NOT NULL,       -- the provider's name
  subject    TEXT COLLATE "C" NOT NULL,
  user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email      TEXT COLLATE "C",                -- as the provider gave it when linked
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- A started authorization code flow, found by the hash of its state; single use.
CREATE TABLE oauth_flows (
  state_hash     BYTEA PRIMARY KEY,
  project_id     TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  provider       TEXT COLLATE "C" NOT NULL,
  action         TEXT COLLATE "C" NOT NULL,   -- 'signin' | 'signup'
  redirect_to    TEXT COLLATE "C",
  code_challenge TEXT COLLATE "C",            -- the application's PKCE challenge (S256), if it sent one
  expires_at     BIGINT NOT NULL,
  created_at     BIGINT NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

-- The one-time code handed to redirect_to after a flow, exchanged for a session; single use.
CREATE TABLE login_codes (
  code_hash      BYTEA PRIMARY KEY,
  project_id     TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id        TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_created   BOOLEAN NOT NULL,
  provider       TEXT COLLATE "C" NOT NULL,
  code_challenge TEXT COLLATE "C",
  expires_at     BIGINT NOT NULL,
  created_at     BIGINT NOT NULL
);
CREATE INDEX login_codes_expiry ON login_codes (expires_at);
