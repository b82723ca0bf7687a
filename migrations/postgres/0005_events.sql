-- Events: per-project mail settings, webhooks, the outbox of deliveries and one-time email tokens.
ALTER TABLE projects ADD COLUMN public_url TEXT COLLATE "C";  -- the application's address, for links in mails
ALTER TABLE projects ADD COLUMN mail_from TEXT COLLATE "C";   -- NULL: the server's [mail] from
ALTER TABLE projects ADD COLUMN mail_templates TEXT COLLATE "C" NOT NULL DEFAULT '{}';  -- overrides of the default templates

CREATE TABLE webhooks (
  id          TEXT COLLATE "C" PRIMARY KEY,
  project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  url         TEXT COLLATE "C" NOT NULL,
  events      TEXT COLLATE "C" NOT NULL,      -- JSON array of event types, or ["*"]
  description TEXT COLLATE "C" NOT NULL DEFAULT '',
  active      BOOLEAN NOT NULL DEFAULT TRUE,
  secret_salt BYTEA NOT NULL,                 -- the secret is derived from it under a server key, never stored
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX webhooks_project ON webhooks (project_id, id);

-- One row per delivery: a webhook POST, a mail, or a task (work to do after answering, such as a
-- password-reset lookup). Written in the transaction of the change that caused it.
CREATE TABLE outbox (
  id              TEXT COLLATE "C" PRIMARY KEY,  -- the delivery id (idempotency key), UUIDv7
  project_id      TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  event_id        TEXT COLLATE "C" NOT NULL,
  event_type      TEXT COLLATE "C" NOT NULL,
  channel         TEXT COLLATE "C" NOT NULL,     -- 'webhook' | 'mail' | 'task'
  webhook_id      TEXT COLLATE "C" REFERENCES webhooks (id) ON DELETE CASCADE,
  payload         TEXT COLLATE "C" NOT NULL,     -- JSON
  status          TEXT COLLATE "C" NOT NULL DEFAULT 'pending',  -- 'pending' | 'delivered' | 'failed'
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  locked_until    BIGINT,                        -- a delivery thread holds the row until then
  response_status BIGINT,
  last_error      TEXT COLLATE "C",
  created_at      BIGINT NOT NULL,
  delivered_at    BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_webhook ON outbox (webhook_id, id) WHERE webhook_id IS NOT NULL;
CREATE INDEX outbox_finished ON outbox (created_at) WHERE status <> 'pending';

CREATE TABLE one_time_tokens (
  token_hash BYTEA PRIMARY KEY,               -- BLAKE2b-256 of the token
  purpose    TEXT COLLATE "C" NOT NULL,       -- 'password_reset' | 'email_verification'
  project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email      TEXT COLLATE "C" NOT NULL,       -- the address the token was sent to
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expiry ON one_time_tokens (expires_at);
