#!/usr/bin/env bash
# The PostgreSQL twin of gen_users.sh: inserts the same COUNT generated users, with psql, into a migrated
# Tessera PostgreSQL database (no server running on it), for the filtered-list scenarios (h) of bench/run.
# The database must already be migrated (`tessera migrate`) and hold the project (`tessera apikey create`).
#
# Usage: bench/gen_users_pg.sh URL PROJECT_ID COUNT
#   URL: postgres://... of the role that owns the schema (bench/run connects as `tessera`)
#
# The rows are gen_users.sh's, field for field (see there): the same ids, emails, logins, tags, data,
# flags and times. Indexes: the users table's secondary indexes (from pg_indexes, so whatever the
# migrations made; the primary key stays) are dropped during the insert and created again after it.
# Then VACUUM ANALYZE, which autovacuum would run soon after such an insert anyway: the planner gets its
# statistics and index-only scans their visibility map.
set -euo pipefail
URL=$1
PROJECT_ID=$2
COUNT=$3
[[ "$PROJECT_ID" =~ ^[0-9a-f-]+$ ]] || { echo "gen_users_pg: bad project id '$PROJECT_ID'" >&2; exit 1; }
[[ "$COUNT" =~ ^[0-9]+$ && "$COUNT" -gt 0 ]] || { echo "gen_users_pg: bad count '$COUNT'" >&2; exit 1; }

NOW_US=$(($(date +%s) * 1000000))
YEAR_US=$((365 * 86400 * 1000000))
START_US=$((NOW_US - YEAR_US))

psql_() { psql -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }

# Secondary indexes of users: every index that backs no constraint (the primary key does).
SECONDARY="FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'users'
  AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass)"
INDEXES=$(psql_ -At -c "SELECT indexdef || ';' $SECONDARY")
DROPS=$(psql_ -At -c "SELECT 'DROP INDEX ' || quote_ident(indexname) || ';' $SECONDARY")
[[ -n "$INDEXES" ]] || { echo "gen_users_pg: no users indexes found (is the database migrated?)" >&2; exit 1; }

psql_ <<SQL
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
BEGIN;
$DROPS
INSERT INTO users (id, project_id, email, email_key, login, login_key, full_name, tags, data, active,
                   email_verified, is_guest, password_hash, created_at, updated_at, last_request_at)
SELECT lpad(to_hex((created / 1000) >> 16), 8, '0') || '-' || lpad(to_hex((created / 1000) & 65535), 4, '0')
         || '-7000-8' || lpad(to_hex((n >> 48) & 4095), 3, '0') || '-' || lpad(to_hex(n), 12, '0'),
       '$PROJECT_ID',
       'user' || n || '@example.com', 'user' || n || '@example.com',
       'user' || n, 'user' || n,
       'User ' || n,
       (CASE WHEN n % 10 = 0 THEN '["vip"]' WHEN n % 7 = 0 THEN '["beta"]' ELSE '[]' END)::jsonb,
       jsonb_build_object('age', (n * 7919) % 100,
                          'plan', CASE WHEN n % 1000 = 0 THEN 'enterprise' WHEN n % 5 = 0 THEN 'pro' ELSE 'free' END),
       n % 50 <> 0, n % 3 <> 0, false, NULL,
       created, created + (n % 1000) * 1000000,
       CASE WHEN n % 4 = 0 THEN NULL ELSE created + (n * 104729 % 1000) * (($NOW_US - created) / 1000) END
FROM (SELECT n, $START_US + (n - 1) * ($YEAR_US / $COUNT) AS created
      FROM generate_series(1::bigint, $COUNT::bigint) AS n) AS rows;
$INDEXES
COMMIT;
VACUUM (ANALYZE) users;
SQL
