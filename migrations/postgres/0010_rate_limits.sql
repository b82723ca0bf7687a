-- Fixed-window request counters (password-reset and verification mails per address and per client),
-- kept in the database so that every node of a deployment counts the same requests.
CREATE TABLE rate_limits (
  key_hash     BYTEA PRIMARY KEY,           -- BLAKE2b-256 of "<purpose>:<key>"; addresses are not kept in clear
  window_start BIGINT NOT NULL,
  hits         BIGINT NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
