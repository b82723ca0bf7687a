-- Avatars in the database, so that every node serves the image another node received (they were files
-- under <data_dir>/avatars/ before; the server imports what it finds there at start-up).
CREATE TABLE avatars (
  user_id      TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  content_type TEXT COLLATE "C" NOT NULL,   -- as told from the bytes: image/png, image/jpeg or image/webp
  version      TEXT COLLATE "C" NOT NULL,   -- hex BLAKE2b-128 of the bytes: the ETag and the ?v= of avatar_url
  bytes        BYTEA NOT NULL,              -- at most 2 MiB
  updated_at   BIGINT NOT NULL
);
