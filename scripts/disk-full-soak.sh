#!/usr/bin/env bash
# Fills a real small filesystem under the server and under a device, through the binaries. Needs
# root (it mounts two small tmpfs filesystems and unmounts them at the end); run by hand.
#
#   swift build -c release --product locality-sync --product locality
#   sudo scripts/disk-full-soak.sh [SERVER_MB]                # default 6
#   sudo scripts/disk-full-soak.sh --postgres [SERVER_MB]     # default 16; needs Debian's postgresql
#
# The server's database lives on a SERVER_MB filesystem. With --postgres, a throwaway PostgreSQL
# cluster is started and the council's database is made in a tablespace on that filesystem (so its
# tables fill it, as a full data disk does), the server runs `serve --database`, the check replays
# the whole log and the needs are counted on an officer's device synced at the end. A councillor records needs and syncs
# until a sync is refused; the refusal must be a 503 naming the full disk, and every need the
# server acknowledged must still be there. Then the filesystem grows, the same device syncs
# without help, and `locality-sync check` passes. Then the device's home is put on a filesystem
# with 256 KB to spare: `locality need add` must fail with a clear message and a non-zero exit, and the
# outbox must hold exactly the needs that were recorded. Exits non-zero on any failure.
set -euo pipefail
postgres=""
if [[ ${1:-} == --postgres ]]; then postgres=1; shift; fi
size_mb="${1:-$([[ -n $postgres ]] && echo 16 || echo 6)}"
[[ $size_mb =~ ^[0-9]+$ ]] || { echo "usage: scripts/disk-full-soak.sh [--postgres] [SERVER_MB]" >&2; exit 2; }
cd "$(dirname "$0")/.."
bin=.build/release
[[ -x $bin/locality-sync && -x $bin/locality ]] || { echo "build first: swift build -c release --product locality-sync --product locality" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "this needs root, to mount small filesystems" >&2; exit 2; }

work="$(mktemp -d)"
server_fs="$work/server" device_fs="$work/device"
mkdir -p "$server_fs" "$device_fs"
port=$((20000 + RANDOM % 20000))
pid="" cluster=""
cleanup() {
    cp "$work/server.log" "${TMPDIR:-/tmp}/disk-full-soak-server.log" 2>/dev/null || true
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    if [[ -n $cluster ]]; then
        cp "$cluster/server.log" "${TMPDIR:-/tmp}/disk-full-soak-postgres.log" 2>/dev/null || true
        scripts/postgres-test-cluster.sh stop "$cluster" 2>/dev/null || true
    fi
    umount "$server_fs" 2>/dev/null || true
    umount "$device_fs" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

mount -t tmpfs -o "size=${size_mb}m" tmpfs "$server_fs"
store=(--db "$server_fs/council.sqlite")
if [[ -n $postgres ]]; then
    cluster="$work/postgres"
    chmod 755 "$work"  # the cluster's user reaches its folder through here
    base="$(scripts/postgres-test-cluster.sh start "$cluster" $((port + 1)))"
    chown locality-pg "$server_fs"
    psql="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
    sql() { runuser -u locality-pg -- "$psql" -X -q -v ON_ERROR_STOP=1 "$base" -c "$1"; }
    sql "CREATE TABLESPACE locality_small LOCATION '$server_fs'"
    sql "CREATE DATABASE locality_full TABLESPACE locality_small"
    store=(--database "${base%/postgres}/locality_full")
    echo "PostgreSQL: the council's database is in a tablespace on the ${size_mb} MB filesystem"
fi
start_server() {
    $bin/locality-sync serve "${store[@]}" --demo --port "$port" >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && return; sleep 0.1; done
    cat "$work/server.log"; fail "the server did not start"
}
start_server
home="$work/home/cllr"
echo demo-password | $bin/locality --home "$home" login --server "http://127.0.0.1:$port" --user cllr-north --password-stdin >/dev/null
description="$(printf 'Water stands across the lane after every storm. %.0s' $(seq 60))"
# PostgreSQL compresses long text, so each need there says something of its own.
describe() { if [[ -n $postgres ]]; then head -c 1800 /dev/urandom | base64 -w0; else echo "$description"; fi; }

echo "filling the server's ${size_mb} MB filesystem…"
recorded=0 refused=""
for round in $(seq 2000); do
    for i in $(seq 20); do
        $bin/locality --home "$home" need add --locality brockton-heath --title "Full disk $round-$i" --description "$(describe)" >/dev/null
        recorded=$((recorded + 1))
    done
    if ! out="$($bin/locality --home "$home" sync 2>&1)"; then refused="$out"; break; fi
done
[[ -n $refused ]] || fail "the server's filesystem never filled"
echo "  refused after $recorded needs recorded: $(tail -1 <<<"$refused")"
grep -qi "disk is full" <<<"$refused" || fail "the refusal does not name the full disk"
waiting="$($bin/locality --home "$home" outbox list --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else d.get(\"changes\", d.get(\"outbox\", []))))")"
echo "  $waiting changes wait on the device"
(( waiting > 0 )) || fail "nothing waits after a refused sync"

echo "room again: growing the filesystem to 256 MB…"
mount -o remount,size=256m "$server_fs"
$bin/locality --home "$home" sync >/dev/null || fail "the sync failed with room again (the server did not recover by itself)"
waiting="$($bin/locality --home "$home" outbox list --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else d.get(\"changes\", d.get(\"outbox\", []))))")"
(( waiting == 0 )) || fail "$waiting changes still wait after the sync"
if [[ -n $postgres ]]; then
    # Counted as another account sees them: an officer's fresh device, synced.
    ohome="$work/home/officer"
    echo demo-password | $bin/locality --home "$ohome" login --server "http://127.0.0.1:$port" --user officer --password-stdin >/dev/null
    $bin/locality --home "$ohome" sync >/dev/null || fail "the officer's sync failed"
    present="$($bin/locality --home "$ohome" need list --json | python3 -c '
import collections, json, sys
titles = collections.Counter(n.get("need", n).get("title") for n in json.load(sys.stdin))
full = {t: c for t, c in titles.items() if t and t.startswith("Full disk ")}
print(len(full), sum(1 for c in full.values() if c > 1))')"
fi
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
$bin/locality-sync check "${store[@]}" >/dev/null || fail "locality-sync check failed after the full disk"
if [[ -z $postgres ]]; then
    present="$(python3 - "$server_fs/council.sqlite" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT title, COUNT(*) FROM need WHERE title LIKE 'Full disk %' GROUP BY title").fetchall()
print(len(rows), sum(1 for _, n in rows if n > 1))
EOF
)"
fi
read -r distinct doubled <<<"$present"
(( distinct == recorded )) || fail "$recorded needs recorded, $distinct on the server"
(( doubled == 0 )) || fail "$doubled needs on the server twice"
echo "  server: all $recorded needs present once; locality-sync check passed"

room_kb=$(( $(du -sk "$home" | cut -f1) + 256 ))
echo "filling the device's own filesystem (its home and 256 KB more: ${room_kb} KB)…"
mount -t tmpfs -o "size=${room_kb}k" tmpfs "$device_fs"
cp -r "$home" "$device_fs/cllr"
dhome="$device_fs/cllr"
before="$($bin/locality --home "$dhome" outbox list --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else d.get(\"changes\", d.get(\"outbox\", []))))")"
added=0 message=""
for i in $(seq 5000); do
    if ! message="$($bin/locality --home "$dhome" need add --locality brockton-heath --title "Device full $i" --description "$description" 2>&1)"; then
        break
    fi
    added=$((added + 1)); message=""
done
[[ -n $message ]] || fail "the device's filesystem never filled"
echo "  refused after $added needs: $(tail -1 <<<"$message")"
grep -qi "disk .*full" <<<"$message" || fail "the device's refusal does not name the full disk"
waiting="$($bin/locality --home "$dhome" outbox list --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else d.get(\"changes\", d.get(\"outbox\", []))))")"
(( waiting == before + added )) || fail "the outbox holds $waiting changes; $((before + added)) were recorded"
echo "  device: the outbox holds exactly the $added needs recorded before the disk filled"
echo "disk-full soak passed"
