-- Contexts (groups of users) and the public key each member registered in them (docs/contexts.md).
CREATE TABLE contexts (
  id          TEXT PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX contexts_project ON contexts (project_id, id);

CREATE TABLE context_members (
  context_id TEXT NOT NULL REFERENCES contexts (id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key TEXT NOT NULL,                   -- normalized: ed25519 standard base64, p256 PEM
  key_type   TEXT NOT NULL,                   -- 'ed25519' | 'p256'
  added_at   INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (context_id, user_id)
) STRICT;
CREATE INDEX context_members_user ON context_members (user_id, context_id);
