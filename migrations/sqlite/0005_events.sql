-- Events: per-project mail settings, webhooks, the outbox of deliveries and one-time email tokens.
ALTER TABLE projects ADD COLUMN public_url TEXT;           -- the application's address, for links in mails
ALTER TABLE projects ADD COLUMN mail_from TEXT;            -- NULL: the server's [mail] from
ALTER TABLE projects ADD COLUMN mail_templates TEXT NOT NULL DEFAULT '{}';  -- overrides of the default templates

CREATE TABLE webhooks (
  id          TEXT PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  url         TEXT NOT NULL,
  events      TEXT NOT NULL,                  -- JSON array of event types, or ["*"]
  description TEXT NOT NULL DEFAULT '',
  active      INTEGER NOT NULL DEFAULT 1,
  secret_salt BLOB NOT NULL,                  -- the secret is derived from it under a server key, never stored
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_project ON webhooks (project_id, id);

-- One row per delivery: a webhook POST, a mail, or a task (work to do after answering, such as a
-- password-reset lookup). Written in the transaction of the change that caused it.
CREATE TABLE outbox (
  id              TEXT PRIMARY KEY,           -- the delivery id (idempotency key), UUIDv7
  project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  event_id        TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  channel         TEXT NOT NULL,              -- 'webhook' | 'mail' | 'task'
  webhook_id      TEXT REFERENCES webhooks (id) ON DELETE CASCADE,
  payload         TEXT NOT NULL,              -- JSON
  status          TEXT NOT NULL DEFAULT 'pending',  -- 'pending' | 'delivered' | 'failed'
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  locked_until    INTEGER,                    -- a delivery thread holds the row until then
  response_status INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_webhook ON outbox (webhook_id, id) WHERE webhook_id IS NOT NULL;
CREATE INDEX outbox_finished ON outbox (created_at) WHERE status <> 'pending';

CREATE TABLE one_time_tokens (
  token_hash BLOB PRIMARY KEY,                -- BLAKE2b-256 of the token
  purpose    TEXT NOT NULL,                   -- 'password_reset' | 'email_verification'
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email      TEXT NOT NULL,                   -- the address the token was sent to
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expiry ON one_time_tokens (expires_at);
