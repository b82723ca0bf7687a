-- Avatars in the database, so that every node serves the image another node received (they were files
-- under <data_dir>/avatars/ before; the server imports what it finds there at start-up).
CREATE TABLE avatars (
  user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  content_type TEXT NOT NULL,               -- as told from the bytes: image/png, image/jpeg or image/webp
  version      TEXT NOT NULL,               -- hex BLAKE2b-128 of the bytes: the ETag and the ?v= of avatar_url
  bytes        BLOB NOT NULL,               -- at most 2 MiB
  updated_at   INTEGER NOT NULL
) STRICT;
