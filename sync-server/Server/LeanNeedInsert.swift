import GRDB
import LocalityCore

/// `server v18`: recording a need copies no pages into a statement journal.
///
/// SQLite gives a statement a statement journal — a copy of each page it is about to change, kept
/// until the statement ends — when the statement writes through a trigger and might abort
/// halfway, so that the abort undoes that statement alone. A need's INSERT writes the need and,
/// by trigger, its feed row; it "might abort" if any of its constraints aborts (SQLite's default
/// conflict mode), if it calls any SQL function (`length()` in the title's CHECK, `instr()` in the
/// feed partition) or if it runs an upsert (whose UPDATE always aborts on a constraint). With
/// all three, every need pushed copied eleven 4 KB pages and their allocations: about a third of
/// the insert's time, measured with the same statements from Python (31–36 µs an insert against
/// 19–22 µs without, and 46 KB against 2 KB written per insert once the journal spills to a file).
///
/// None of it buys anything here: whatever refuses a need undoes more than the statement — a
/// push rolls back the mutation's savepoint or the whole batch, a device the whole action. So
/// `Need.insertNew` says `OR FAIL`, the title's CHECK compares instead of calling `length()`
/// (the same rule for a STRICT text column), and the need's insert trigger replaces its feed
/// row by a DELETE and an INSERT instead of an upsert, with its partition worked out without
/// `instr()`. Evidence recorded with a need takes the need's partition and recorder from the
/// need's own feed row, which its triggers keep as `FeedPartitions.key` makes it (or everyone's,
/// should that row be missing), instead of working them out again with `instr()`.
enum LeanNeedInsert {
    static let checkBefore = "CHECK (length(title) > 0)"
    static let checkAfter = "CHECK (title <> '')"

    /// A new need's feed partition, as `FeedPartitions.key` makes it, without calling a function:
    /// a need recorded holding personal data has no field clocks yet, so its partition is marked.
    /// A row inserted with clocks already (no path of the server does) goes in everyone's
    /// partition: every device reads it there and its scope decides, as for any shared row.
    static let insertedPartition = """
        CASE WHEN NEW.holds_personal_data = 0 THEN NEW.locality_id \
        WHEN NEW.field_clocks = '{}' THEN NEW.locality_id || ':p' END
        """

    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("server v18 need inserts without a statement journal") { db in
            try rebuildNeed(db)
            try db.execute(sql: """
                DROP TRIGGER need_synced_insert;
                CREATE TRIGGER need_synced_insert AFTER INSERT ON need BEGIN
                    UPDATE change_counter SET value = value + 1 WHERE id = 1;
                    DELETE FROM row_version WHERE table_name = 'need' AND row_key = NEW.id;
                    INSERT INTO row_version (table_name, row_key, sequence, deleted, partition_key, recorder)
                        VALUES ('need', NEW.id, (SELECT value FROM change_counter WHERE id = 1), 0, \(insertedPartition),
                            NEW.recorded_by);
                END;
                DROP TRIGGER need_evidence_synced_insert;
                CREATE TRIGGER need_evidence_synced_insert AFTER INSERT ON need_evidence BEGIN
                    UPDATE change_counter SET value = value + 1 WHERE id = 1;
                    DELETE FROM row_version WHERE table_name = 'need_evidence' AND row_key = NEW.need_id || ':' || NEW.id;
                    INSERT INTO row_version (table_name, row_key, sequence, deleted, partition_key, recorder)
                        VALUES ('need_evidence', NEW.need_id || ':' || NEW.id, (SELECT value FROM change_counter WHERE id = 1), 0,
                            (SELECT partition_key FROM row_version WHERE table_name = 'need' AND row_key = NEW.need_id),
                            (SELECT recorder FROM row_version WHERE table_name = 'need' AND row_key = NEW.need_id));
                END;
                """)
        }
    }

    /// SQLite cannot change a CHECK in place: the table is made again with the new CHECK, its
    /// rows copied, and its indexes and triggers made again from their own definitions. The
    /// migrator runs this with foreign keys off, so dropping the old table deletes no evidence,
    /// and checks every foreign key before it commits.
    private static func rebuildNeed(_ db: Database) throws {
        guard let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'need'"),
            create.contains(checkBefore), let name = create.range(of: "CREATE TABLE need")
        else {
            throw LocalityError(.replicaState, "the need table is not as `server v18` expects: \(checkBefore) is missing")
        }
        let dependents = try String.fetchAll(
            db,
            sql: """
                SELECT sql FROM sqlite_master WHERE tbl_name = 'need' AND type IN ('index', 'trigger') AND sql IS NOT NULL
                ORDER BY type, name
                """)
        let rebuilt = create.replacingCharacters(in: name, with: "CREATE TABLE need_rebuilt")
            .replacingOccurrences(of: checkBefore, with: checkAfter)
        try db.execute(sql: rebuilt)
        try db.execute(sql: "INSERT INTO need_rebuilt SELECT * FROM need")
        try db.execute(sql: "DROP TABLE need")
        // Other tables' triggers name `need`, which does not exist for a moment: the legacy rename
        // does not check them (they are valid again once it has run).
        try db.execute(sql: "PRAGMA legacy_alter_table = ON")
        defer { try? db.execute(sql: "PRAGMA legacy_alter_table = OFF") }
        try db.execute(sql: "ALTER TABLE need_rebuilt RENAME TO need")
        for sql in dependents { try db.execute(sql: sql) }
    }
}
