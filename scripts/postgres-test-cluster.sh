#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb into a temporary folder as an unprivileged
# user, listening on loopback only, trusting local connections. Prints the URL to use.
#
#   scripts/postgres-test-cluster.sh start [DIR] [PORT]   # prints postgres://USER@127.0.0.1:PORT/postgres
#   scripts/postgres-test-cluster.sh restart DIR     # fast shutdown and start: every session ends
#   scripts/postgres-test-cluster.sh stop DIR
#
# Needs Debian's postgresql (15 or later). As root, runs the cluster as the user `locality-pg`
# (made if missing); otherwise as the current user.
set -euo pipefail
command="${1:-start}"
dir="${2:-$(mktemp -d /tmp/locality-pg.XXXXXX)}"
port="${3:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$bin" ] || { echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2; exit 2; }

user="$(id -un)"
run() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    user="locality-pg"
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    run() { runuser -u "$user" -- "$@"; }
fi

case "$command" in
start)
    mkdir -p "$dir"
    chown "$user" "$dir" 2>/dev/null || true
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        run "$bin/initdb" -D "$dir/data" --auth=trust --username="$user" --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://$user@127.0.0.1:$port/postgres"
    ;;
restart)
    # -l: the restarted server logs to its file, and holds none of the caller's pipes open.
    run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart </dev/null >/dev/null 2>&1 \
        || { tail -20 "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    run "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
    ;;
*)
    echo "usage: $0 start [DIR] [PORT] | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
