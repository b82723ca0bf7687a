-- Challenges of the key login (docs/contexts.md, "Key login"): single use, short-lived.
CREATE TABLE key_challenges (
  id         TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,  -- NULL: no such user (the login will fail)
  context_id TEXT,
  message    BLOB NOT NULL,                 -- the exact bytes to sign
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX key_challenges_expiry ON key_challenges (expires_at);
