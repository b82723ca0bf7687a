-- Projects (tenants), users and sessions. Times are microseconds since the Unix epoch (UTC).
-- PostgreSQL mirror of migrations/sqlite/0001_foundation.sql: same tables, columns, order and index names.
-- Every text column uses the "C" collation, so comparisons, ORDER BY and keyset pagination follow byte
-- order exactly like SQLite, whatever the database's locale.
CREATE TABLE projects (
  id                      TEXT COLLATE "C" PRIMARY KEY,
  alias                   TEXT COLLATE "C" NOT NULL UNIQUE,
  name                    TEXT COLLATE "C" NOT NULL,
  session_idle_timeout_us BIGINT,            -- NULL: the server's [session] idle_timeout
  session_lifetime_us     BIGINT,            -- NULL: the server's [session] lifetime
  created_at              BIGINT NOT NULL
);

CREATE TABLE users (
  id              TEXT COLLATE "C" PRIMARY KEY,
  project_id      TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  email           TEXT COLLATE "C",
  email_key       TEXT COLLATE "C",          -- lower-cased email: uniqueness is case-insensitive
  login           TEXT COLLATE "C",
  login_key       TEXT COLLATE "C",
  phone           TEXT COLLATE "C",          -- E.164
  full_name       TEXT COLLATE "C",
  external_id     TEXT COLLATE "C",
  tags            JSONB NOT NULL DEFAULT '[]'::jsonb,
  data            JSONB NOT NULL DEFAULT '{}'::jsonb,
  avatar_url      TEXT COLLATE "C",
  active          BOOLEAN NOT NULL DEFAULT TRUE,
  email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
  is_guest        BOOLEAN NOT NULL DEFAULT FALSE,
  password_hash   TEXT COLLATE "C",          -- PHC string; NULL when the user has no password
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  last_request_at BIGINT
);
-- The store tells which identifier conflicted from the name of the violated index ("email_key",
-- "login_key", "phone"): keep these names.
CREATE UNIQUE INDEX users_email_key ON users (project_id, email_key) WHERE email_key IS NOT NULL;
CREATE UNIQUE INDEX users_login_key ON users (project_id, login_key) WHERE login_key IS NOT NULL;
CREATE UNIQUE INDEX users_phone ON users (project_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX users_project_created ON users (project_id, created_at);

CREATE TABLE sessions (
  id              TEXT COLLATE "C" PRIMARY KEY,
  project_id      TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash      BYTEA NOT NULL UNIQUE,     -- BLAKE2b-256 of the token; the token itself is never stored
  created_at      BIGINT NOT NULL,
  expires_at      BIGINT NOT NULL,           -- absolute lifetime
  idle_expires_at BIGINT NOT NULL,           -- slides with use
  last_used_at    BIGINT NOT NULL,
  ip              TEXT COLLATE "C" NOT NULL DEFAULT '',
  user_agent      TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, id);
CREATE INDEX sessions_expiry ON sessions (idle_expires_at);

-- RFC 7386 JSON Merge Patch, exactly like SQLite's json_patch(): it stands in for json_patch in the bulk
-- and single user updates (users.data). A patch that is not an object replaces the target; otherwise the
-- result starts from the target if it is an object (else {}), a null member removes the key and any other
-- member is merged recursively. STRICT: a SQL NULL argument gives NULL, as json_patch does.
CREATE FUNCTION tessera_json_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  result jsonb;
  member record;
BEGIN
  IF jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  result := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
  FOR member IN SELECT key, value FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(member.value) = 'null' THEN
      result := result - member.key;
    ELSE
      result := result || jsonb_build_object(member.key,
                  tessera_json_merge_patch(coalesce(result -> member.key, 'null'::jsonb), member.value));
    END IF;
  END LOOP;
  RETURN result;
END
$$;
