-- Licenses and their activations (docs/licenses.md).
CREATE TABLE licenses (
  id              TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key_hash        BLOB NOT NULL UNIQUE,       -- keyed hash of the normalized key, for lookups
  key_sealed      BLOB NOT NULL,              -- the key, encrypted under the server secret key
  user_id         TEXT REFERENCES users (id) ON DELETE SET NULL,
  product         TEXT NOT NULL,
  expires_at      INTEGER,
  max_activations INTEGER NOT NULL,
  suspended       INTEGER NOT NULL DEFAULT 0,
  metadata        TEXT NOT NULL DEFAULT '{}',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX licenses_project ON licenses (project_id, id);
CREATE INDEX licenses_user ON licenses (user_id, id) WHERE user_id IS NOT NULL;

-- A seat: one device (fingerprint) of a license.
CREATE TABLE license_activations (
  id                TEXT PRIMARY KEY,
  license_id        TEXT NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
  fingerprint       TEXT NOT NULL,
  hostname          TEXT,
  created_at        INTEGER NOT NULL,
  last_activated_at INTEGER NOT NULL,
  UNIQUE (license_id, fingerprint)
) STRICT;
