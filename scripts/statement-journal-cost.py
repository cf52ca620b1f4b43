#!/usr/bin/env python3
"""What SQLite's statement journal costs a need's INSERT on the server, and what `server v18` saves.

Records needs into two copies of a simplified server schema (the need table, the change feed and
the need's feed trigger, as they were before and after `server v18`), 2,000 to a transaction in
WAL mode with synchronous=FULL, one INSERT statement a need as a push applies them. Prints
microseconds an insert (median of --runs) and the bytes written an insert when the statement
journal is kept in a file (temp_store=FILE: a statement's journal past 64 KB spills to disk, so
the bytes show whether one was kept at all).

    python3 scripts/statement-journal-cost.py [--count 50000] [--runs 5]

Why it matters: SQLite journals a statement that writes through a trigger and may abort halfway
(a constraint in ABORT mode, any SQL function call, an upsert). Before `server v18` every need
inserted copied its pages into that journal; see sync-server/Server/LeanNeedInsert.swift.
"""
import argparse, os, sqlite3, statistics, tempfile, time, uuid

NEED = """CREATE TABLE need (id TEXT NOT NULL PRIMARY KEY, locality_id TEXT NOT NULL, title TEXT NOT NULL {check},
 description TEXT NOT NULL DEFAULT '', severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
 holds_personal_data INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, recorded_by TEXT NOT NULL,
 recorded_at TEXT NOT NULL, updated_at TEXT NOT NULL, field_clocks TEXT NOT NULL DEFAULT '{{}}') STRICT;
CREATE INDEX need_locality ON need(locality_id);
CREATE TABLE change_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL) STRICT;
INSERT INTO change_counter VALUES (1, 0);
CREATE TABLE row_version (table_name TEXT NOT NULL, row_key TEXT NOT NULL, sequence INTEGER NOT NULL,
 deleted INTEGER NOT NULL DEFAULT 0, partition_key TEXT, recorder TEXT, PRIMARY KEY (table_name, row_key)) STRICT, WITHOUT ROWID;
CREATE INDEX row_version_sequence ON row_version(sequence);
CREATE INDEX row_version_partition ON row_version(partition_key, sequence);
CREATE INDEX row_version_recorder ON row_version(recorder, sequence) WHERE recorder IS NOT NULL;
CREATE TRIGGER need_synced_insert AFTER INSERT ON need BEGIN
 UPDATE change_counter SET value = value + 1 WHERE id = 1;
 {write}
END;"""
BEFORE = NEED.format(check="CHECK (length(title) > 0)", write="""INSERT INTO row_version (table_name, row_key, sequence, deleted, partition_key, recorder)
 VALUES ('need', NEW.id, (SELECT value FROM change_counter WHERE id = 1), 0,
  CASE WHEN NEW.holds_personal_data = 0 THEN NEW.locality_id WHEN instr(NEW.field_clocks, 'holdsPersonalData') = 0 THEN NEW.locality_id || ':p' END,
  NEW.recorded_by)
 ON CONFLICT (table_name, row_key) DO UPDATE SET sequence = excluded.sequence, deleted = excluded.deleted,
  partition_key = excluded.partition_key, recorder = excluded.recorder;""")
AFTER = NEED.format(check="CHECK (title <> '')", write="""DELETE FROM row_version WHERE table_name = 'need' AND row_key = NEW.id;
 INSERT INTO row_version (table_name, row_key, sequence, deleted, partition_key, recorder)
 VALUES ('need', NEW.id, (SELECT value FROM change_counter WHERE id = 1), 0,
  CASE WHEN NEW.holds_personal_data = 0 THEN NEW.locality_id WHEN NEW.field_clocks = '{}' THEN NEW.locality_id || ':p' END,
  NEW.recorded_by);""")
VARIANTS = {"before v18": (BEFORE, "INSERT"), "server v18": (AFTER, "INSERT OR FAIL")}


def time_ordered_id(counter=[0]):
    counter[0] += 1
    value = (int(time.time() * 1000) << 80) | (0x7 << 76) | ((counter[0] & 0xFFF) << 64) | (0b10 << 62)
    return str(uuid.UUID(int=value | int.from_bytes(os.urandom(8), "big") >> 2))


def written_bytes():
    return int(dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())["wchar"])


def run(schema, verb, count, temp_store, directory):
    path = os.path.join(directory, "needs.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", f"temp_store = {temp_store}", "cache_size = -64000",
                   "wal_autocheckpoint = 8000"):
        db.execute("PRAGMA " + pragma)
    db.executescript(schema)
    places, people = [str(uuid.uuid4()) for _ in range(40)], [str(uuid.uuid4()) for _ in range(20)]
    sql = (f"{verb} INTO need (id, locality_id, title, severity, status, recorded_by, recorded_at, updated_at) "
           "VALUES (?, ?, ?, 3, 'open', ?, '2026-12-03T10:00:00Z', '2026-12-03T10:00:00Z')")
    batches = [[(time_ordered_id(), places[i % 40], f"Need {i}", people[i % 20]) for i in range(b, min(b + 2000, count))]
               for b in range(0, count, 2000)]
    before, started = written_bytes(), time.perf_counter()
    for batch in batches:
        db.execute("BEGIN")
        db.executemany(sql, batch)
        db.execute("COMMIT")
    elapsed, written = time.perf_counter() - started, written_bytes() - before
    db.close()
    return elapsed / count * 1e6, written / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50000, help="needs a run (default 50,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each variant, interleaved (default 5)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        times = {name: [] for name in VARIANTS}
        for run_number in range(arguments.runs):
            for name, (schema, verb) in VARIANTS.items():
                times[name].append(run(schema, verb, arguments.count, "MEMORY", directory)[0])
            print(f"run {run_number + 1} of {arguments.runs}: " +
                  ", ".join(f"{name} {values[-1]:.1f} µs" for name, values in times.items()), flush=True)
        for name, (schema, verb) in VARIANTS.items():
            _, spilled = run(schema, verb, arguments.count, "FILE", directory)
            print(f"{name}: median {statistics.median(times[name]):.1f} µs an insert (temp_store=MEMORY, as the server); "
                  f"{spilled:,.0f} bytes written an insert with temp_store=FILE")


if __name__ == "__main__":
    main()
