-- Contexts (groups of users) and the public key each member registered in them (docs/contexts.md).
CREATE TABLE contexts (
  id          TEXT COLLATE "C" PRIMARY KEY,
  project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        TEXT COLLATE "C" NOT NULL,
  description TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX contexts_project ON contexts (project_id, id);

CREATE TABLE context_members (
  context_id TEXT COLLATE "C" NOT NULL REFERENCES contexts (id) ON DELETE CASCADE,
  user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key TEXT COLLATE "C" NOT NULL,       -- normalized: ed25519 standard base64, p256 PEM
  key_type   TEXT COLLATE "C" NOT NULL,       -- 'ed25519' | 'p256'
  added_at   BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (context_id, user_id)
);
CREATE INDEX context_members_user ON context_members (user_id, context_id);
