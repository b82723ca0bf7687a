-- Fixed-window request counters (password-reset and verification mails per address and per client),
-- kept in the database so that every node of a deployment counts the same requests.
CREATE TABLE rate_limits (
  key_hash     BLOB PRIMARY KEY,            -- BLAKE2b-256 of "<purpose>:<key>"; addresses are not kept in clear
  window_start INTEGER NOT NULL,
  hits         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX rate_limits_window ON rate_limits (window_start);
