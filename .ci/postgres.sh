#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests (results store, leaderboard).
#
#   eval "$(bash .ci/postgres.sh)"        # start; exports TOPOBENCH_TEST_POSTGRES_URL and TOPOBENCH_POSTGRES_DIR
#   bash .ci/postgres.sh stop             # stop the server of $TOPOBENCH_POSTGRES_DIR and delete its files
#
# Installs Debian's `postgresql` with apt-get when no server binaries are found
# (as root), makes a cluster in a new temporary folder, starts it on 127.0.0.1
# at a free port (trust authentication, loopback only, fsync off: test data),
# creates the database `topobench_test` and prints the two `export` lines on
# stdout; everything else goes to stderr. As root the server runs as the
# `postgres` user (the package creates it).
set -euo pipefail

say() { echo "postgres.sh: $*" >&2; }

as_owner() {  # run a command as the server's owner
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-start}" = stop ]; then
    dir="${TOPOBENCH_POSTGRES_DIR:?TOPOBENCH_POSTGRES_DIR is not set: nothing to stop}"
    bin="$(cat "$dir/bin" 2>/dev/null || true)"
    if [ -n "$bin" ] && [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    exit 0
fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bin="$(find_bin)"
if [ -z "$bin" ]; then
    if [ "$(id -u)" != 0 ]; then
        say "no PostgreSQL server found and not root: install Debian's postgresql (apt-get install postgresql)"
        exit 1
    fi
    say "installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq postgresql >&2 || { apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2; }
    bin="$(find_bin)"
    [ -n "$bin" ] || { say "postgresql installed but no /usr/lib/postgresql/*/bin found"; exit 1; }
fi

dir="$(mktemp -d -t topobench-postgres.XXXXXX)"
echo "$bin" > "$dir/bin"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { say "user postgres missing (it comes with Debian's postgresql)"; exit 1; }
    chown -R postgres "$dir"
fi
chmod 700 "$dir"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=100" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres topobench_test >&2

say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (files in $dir)"
echo "export TOPOBENCH_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/topobench_test"
echo "export TOPOBENCH_POSTGRES_DIR=$dir"
