-- Refresh tokens become self-contained (authenticated by a server key), so issuing one writes nothing.
-- What the server keeps is only what a token cannot say about itself: that it was used (rotation and
-- reuse detection), that its family was revoked, or that its subject's older tokens were revoked.
-- Refresh tokens issued before this migration stop working (their clients authenticate again).
DROP TABLE refresh_tokens;

CREATE TABLE spent_refresh_tokens (
  id         TEXT COLLATE "C" PRIMARY KEY,
  family_id  TEXT COLLATE "C" NOT NULL,
  spent_at   BIGINT NOT NULL,
  expires_at BIGINT NOT NULL                 -- kept until the token would have expired anyway
);

CREATE TABLE revoked_refresh_families (
  family_id  TEXT COLLATE "C" PRIMARY KEY,
  expires_at BIGINT NOT NULL
);

-- A subject's refresh tokens created before revoked_at stop working (a suspended user, a password change).
CREATE TABLE revoked_refresh_subjects (
  subject_id TEXT COLLATE "C" PRIMARY KEY,
  revoked_at BIGINT NOT NULL
);

CREATE TABLE server_secrets (
  name  TEXT COLLATE "C" PRIMARY KEY,
  value BYTEA NOT NULL
);
