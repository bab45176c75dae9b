#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests (README, "The PostgreSQL leg").
#
#   test-postgres.sh start   initdb + pg_ctl start in a new temp folder, on a free loopback port, as an unprivileged
#                            user (root runs the server as 'postgres', which the Debian package creates); prints two
#                            shell assignments to eval:
#                              ADE_TEST_POSTGRES='Host=127.0.0.1;Port=...;Username=ade_test;Password=...;Database=postgres'
#                              ADE_TEST_POSTGRES_DIR='/tmp/ade-pg.XXXX'
#   test-postgres.sh stop DIR   stops the server started in DIR and removes DIR.
#
# The server listens on 127.0.0.1 only, requires a password (SCRAM) and keeps its data in DIR; nothing else on the
# machine changes. Callers: .ci/run, build.ps1 Test, and the xunit fixture when ADE_TEST_POSTGRES is not set.
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  # Debian/Ubuntu keep the server binaries out of PATH: /usr/lib/postgresql/<major>/bin (newest first).
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

# Runs a command as the server's user: ourselves, or 'postgres' when we are root (initdb refuses to run as root).
as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A machine with only the .NET SDK has no PostgreSQL: install the distribution's package when we may (root, or sudo
# without a password) and apt-get exists. Output goes to stderr: stdout is for the caller's eval.
install_when_missing() {
  find_bin initdb >/dev/null && return 0
  command -v apt-get >/dev/null 2>&1 || return 0
  local sudo=
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || return 0
    sudo="sudo -n"
  fi
  echo "test-postgres: installing the postgresql package (apt-get)" >&2
  { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 \
    || echo "test-postgres: installing postgresql failed" >&2
}

start() {
  local initdb pg_ctl
  install_when_missing
  initdb=$(find_bin initdb) || { echo "test-postgres: initdb not found. Install PostgreSQL (Debian: apt-get install -y postgresql)." >&2; exit 3; }
  pg_ctl=$(find_bin pg_ctl) || { echo "test-postgres: pg_ctl not found. Install PostgreSQL (Debian: apt-get install -y postgresql)." >&2; exit 3; }
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "test-postgres: running as root needs the 'postgres' user (created by the postgresql package)." >&2; exit 3
  fi

  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ade-pg.XXXXXX")
  chmod 0755 "$dir"
  local password
  password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$password" > "$dir/pwfile"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
  chmod 0600 "$dir/pwfile"

  as_server_user "$initdb" -D "$dir/data" -U ade_test --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; echo "test-postgres: initdb failed" >&2; exit 4; }
  rm -f "$dir/pwfile"

  local tries port
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    port=$(( 20000 + RANDOM % 30000 ))
    if port_in_use "$port"; then continue; fi
    if as_server_user "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
      printf "ADE_TEST_POSTGRES='Host=127.0.0.1;Port=%s;Username=ade_test;Password=%s;Database=postgres'\n" "$port" "$password"
      printf "ADE_TEST_POSTGRES_DIR='%s'\n" "$dir"
      return 0
    fi
  done
  cat "$dir/server.log" >&2 || true
  echo "test-postgres: the server did not start (see the log above)" >&2
  rm -rf "$dir"
  exit 5
}

stop() {
  local dir=${1:-}
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then echo "test-postgres: no server folder '$dir'" >&2; exit 2; fi
  local pg_ctl
  pg_ctl=$(find_bin pg_ctl) || exit 3
  as_server_user "$pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
