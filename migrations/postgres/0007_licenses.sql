-- Licenses and their activations (docs/licenses.md).
CREATE TABLE licenses (
  id              TEXT COLLATE "C" PRIMARY KEY,
  project_id      TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key_hash        BYTEA NOT NULL UNIQUE,      -- keyed hash of the normalized key, for lookups
  key_sealed      BYTEA NOT NULL,             -- the key, encrypted under the server secret key
  user_id         TEXT COLLATE "C" REFERENCES users (id) ON DELETE SET NULL,
  product         TEXT COLLATE "C" NOT NULL,
  expires_at      BIGINT,
  max_activations BIGINT NOT NULL,
  suspended       BOOLEAN NOT NULL DEFAULT FALSE,
  metadata        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX licenses_project ON licenses (project_id, id);
CREATE INDEX licenses_user ON licenses (user_id, id) WHERE user_id IS NOT NULL;

-- A seat: one device (fingerprint) of a license.
CREATE TABLE license_activations (
  id                TEXT COLLATE "C" PRIMARY KEY,
  license_id        TEXT COLLATE "C" NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
  fingerprint       TEXT COLLATE "C" NOT NULL,
  hostname          TEXT COLLATE "C",
  created_at        BIGINT NOT NULL,
  last_activated_at BIGINT NOT NULL,
  UNIQUE (license_id, fingerprint)
);
