#!/usr/bin/env bash
# A private, throw-away PostgreSQL 15 cluster for the end-to-end tests (docs/testing.md, "PostgreSQL").
#
#   tests/support/postgres.sh start <dir>   initializes <dir>/data, starts it on 127.0.0.1 and a free port,
#                                           writes postgres://postgres@127.0.0.1:<port> to <dir>/url and
#                                           prints it
#   tests/support/postgres.sh stop <dir>    stops the cluster (fast) and removes <dir>
#
# Both are safe to re-run: start first stops and removes what a killed run left in <dir>. The cluster
# trusts every local connection and runs with fsync off: it is for tests only, never for data. The
# cluster Debian's package may have made (port 5432) is never used.
# PostgreSQL refuses to run as root: as root, the cluster belongs to the user postgres.
set -euo pipefail

PG_BIN=${TESSERA_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
MARKER=.tessera-test-postgres   # only a directory holding it (or an empty one) is ever removed
START_TRIES=20

usage() {
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
}
[ $# -eq 2 ] || usage
command=$1
dir=$(realpath -m -- "$2")
case "$dir" in
  / | /tmp | /root | /home | /work) echo "$0: refusing to use $dir" >&2; exit 2 ;;
esac

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Stops whatever cluster runs in <dir> and removes <dir>, if it is ours.
stop_cluster() {
  [ -e "$dir" ] || [ -L "$dir" ] || return 0
  if [ ! -e "$dir/$MARKER" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    echo "$0: $dir exists but was not made by this script; not touching it" >&2
    exit 1
  fi
  local data="$dir/data" elsewhere=""
  # The data may live elsewhere when the user postgres cannot reach <dir> (see start).
  if [ -L "$data" ]; then
    elsewhere=$(readlink -- "$data")
    case "$elsewhere" in /tmp/tessera-pg.*) data=$elsewhere ;; *) elsewhere="" ;; esac
  fi
  if [ -f "$data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -t 30 stop >/dev/null 2>&1 ||
      as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -t 30 stop >/dev/null 2>&1 || true
  fi
  [ -z "$elsewhere" ] || rm -rf -- "$elsewhere"
  rm -rf -- "$dir"
}

start_cluster() {
  [ -x "$PG_BIN/initdb" ] || { echo "$0: no PostgreSQL 15 in $PG_BIN (scripts/setup installs it)" >&2; exit 1; }
  stop_cluster
  mkdir -p -- "$dir"
  touch "$dir/$MARKER"
  local data="$dir/data" sockets="$dir" log="$dir/postgres.log"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    # A path under a directory closed to others (e.g. /root): keep the cluster in /tmp, linked from <dir>.
    if ! runuser -u postgres -- test -w "$dir"; then
      local elsewhere
      elsewhere=$(mktemp -d /tmp/tessera-pg.XXXXXX)
      chown postgres: "$elsewhere"
      ln -s "$elsewhere" "$data"
      data=$elsewhere
      sockets=$elsewhere
      log="$elsewhere/postgres.log"
    fi
  fi
  # A Unix socket path is limited to 107 bytes; TCP is what the tests use, so without room go without.
  [ $((${#sockets} + 20)) -le 100 ] || sockets=""

  as_owner "$PG_BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    as_owner "$PG_BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  chmod 700 "$data"
  # Tests only: durability is traded for speed; the server processes of two test files run at once.
  cat >>"$data/postgresql.conf" <<EOF

# tests/support/postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockets'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
EOF

  local port="" try candidate
  for ((try = 1; try <= START_TRIES; try++)); do
    candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
    # -w waits for the cluster to accept connections, or reports its exit (e.g. the port is taken).
    if as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$log" -o "-p $candidate" -w -t 60 start >/dev/null 2>&1; then
      port=$candidate
      break
    fi
  done
  if [ -z "$port" ]; then
    echo "$0: the cluster did not start on any of $START_TRIES ports; its log:" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
  fi
  for ((try = 1; try <= 100; try++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 && break
    [ "$try" -lt 100 ] || { echo "$0: the cluster on port $port is not ready" >&2; exit 1; }
    sleep 0.1
  done
  local url="postgres://postgres@127.0.0.1:$port"
  echo "$url" >"$dir/url"
  echo "$url"
}

case "$command" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
