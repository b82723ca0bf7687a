-- Challenges of the key login (docs/contexts.md, "Key login"): single use, short-lived.
CREATE TABLE key_challenges (
  id         TEXT COLLATE "C" PRIMARY KEY,
  project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id    TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,  -- NULL: no such user (the login will fail)
  context_id TEXT COLLATE "C",
  message    BYTEA NOT NULL,                -- the exact bytes to sign
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX key_challenges_expiry ON key_challenges (expires_at);
