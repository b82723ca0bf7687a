#!/usr/bin/env bash
# Inserts COUNT generated users straight into a Tessera SQLite database (no server running on it), for
# the filtered-list scenarios (h) of bench/run. The data directory must already be migrated
# (`tessera migrate`) and hold the project (`tessera apikey create` / `project create` make it).
#
# Usage: bench/gen_users.sh DATA_DIR PROJECT_ID COUNT
#
# Every row is valid for the server (it reads them back through its own user store):
#   id               UUIDv7 layout: 48-bit millisecond timestamp of created_at, version 7, variant 8,
#                    the row number as the random part: unique, and id order = creation order
#   email, email_key user<n>@example.com (n = 1..COUNT, unique; already lower case)
#   login, login_key user<n>
#   full_name        'User <n>'
#   tags             '["vip"]' for n % 10 = 0, '["beta"]' for n % 7 = 0 (and not vip), else '[]'
#   data             {"age": (n * 7919) % 100, "plan": "free" | "pro" (n % 5 = 0) | "enterprise" (n % 1000 = 0)}
#                    so data.age[gte]=90 matches 10% of the users, spread evenly over the id order
#   active           0 for n % 50 = 0 (2% suspended), else 1; email_verified 1 for two users in three
#   created_at       spread evenly over the year before now (microseconds), increasing with n
#   updated_at       created_at + (n % 1000) seconds
#   last_request_at  NULL for n % 4 = 0, else a pseudo-random time between created_at and now
#   password_hash    NULL (no password: these users are only listed, never logged in)
#
# Indexes: the users table's secondary indexes (as the migrations made them, read from sqlite_master)
# are dropped before the insert and created again after it, which is several times faster than
# maintaining them row by row; the result is the same schema.
set -euo pipefail
DATA_DIR=$1
PROJECT_ID=$2
COUNT=$3
DB="$DATA_DIR/tessera.db"
[[ -f "$DB" ]] || { echo "gen_users: no $DB (run tessera migrate first)" >&2; exit 1; }
[[ "$PROJECT_ID" =~ ^[0-9a-f-]+$ ]] || { echo "gen_users: bad project id '$PROJECT_ID'" >&2; exit 1; }
[[ "$COUNT" =~ ^[0-9]+$ ]] || { echo "gen_users: bad count '$COUNT'" >&2; exit 1; }

NOW_US=$(($(date +%s) * 1000000))
YEAR_US=$((365 * 86400 * 1000000))
START_US=$((NOW_US - YEAR_US))

# The index definitions to restore (only those made by CREATE INDEX: autoindexes have no sql).
INDEXES=$(sqlite3 "$DB" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL")
DROPS=$(sqlite3 "$DB" "SELECT 'DROP INDEX ' || name || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL")

sqlite3 "$DB" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1048576;
PRAGMA temp_store = MEMORY;
BEGIN;
$DROPS
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $COUNT),
rows AS (SELECT n, $START_US + (n - 1) * ($YEAR_US / $COUNT) AS created FROM seq)
INSERT INTO users (id, project_id, email, email_key, login, login_key, full_name, tags, data, active,
                   email_verified, is_guest, password_hash, created_at, updated_at, last_request_at)
SELECT printf('%08x-%04x-7000-8%03x-%012x', (created / 1000) >> 16, (created / 1000) & 65535, n >> 48 & 4095, n),
       '$PROJECT_ID',
       'user' || n || '@example.com', 'user' || n || '@example.com',
       'user' || n, 'user' || n,
       'User ' || n,
       CASE WHEN n % 10 = 0 THEN '["vip"]' WHEN n % 7 = 0 THEN '["beta"]' ELSE '[]' END,
       printf('{"age":%d,"plan":"%s"}', (n * 7919) % 100,
              CASE WHEN n % 1000 = 0 THEN 'enterprise' WHEN n % 5 = 0 THEN 'pro' ELSE 'free' END),
       n % 50 != 0, n % 3 != 0, 0, NULL,
       created, created + (n % 1000) * 1000000,
       CASE WHEN n % 4 = 0 THEN NULL ELSE created + (n * 104729 % 1000) * (($NOW_US - created) / 1000) END
FROM rows;
$INDEXES
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
