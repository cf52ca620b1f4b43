import GRDB
import LocalityCore

/// The server's database: the same domain tables as every replica, plus accounts, devices, the
/// results of pushed mutations, and the change sequence that pulls follow.
enum ServerSchema {
    /// Domain tables whose rows devices pull, with how each row is keyed.
    static let syncedTables = v1SyncedTables + v2SyncedTables + v3SyncedTables + v4SyncedTables + v5SyncedTables
        + v6SyncedTables + v7SyncedTables + v8SyncedTables + v11SyncedTables

    /// The synced tables of "server v1". Released: never edit.
    private static let v1SyncedTables: [(table: String, key: String)] = [
        ("locality", "NEW.id"), ("organisation", "NEW.id"), ("person", "NEW.id"), ("role_assignment", "NEW.id"),
        ("outcome", "NEW.id"), ("indicator", "NEW.id"), ("need", "NEW.id"),
        ("need_evidence", "NEW.need_id || ':' || NEW.id"), ("budget", "NEW.id"), ("ledger_entry", "NEW.id"),
        ("proposal", "NEW.id"),
    ]

    /// The synced tables "server v2" adds.
    private static let v2SyncedTables: [(table: String, key: String)] = [("conflict", "NEW.id")]

    /// The synced tables "server v3" adds.
    private static let v3SyncedTables: [(table: String, key: String)] = [
        ("delegation", "NEW.id"), ("decision", "NEW.id"), ("interest_declaration", "NEW.id"),
    ]

    /// The synced tables "server v4" adds.
    private static let v4SyncedTables: [(table: String, key: String)] = [
        ("award", "NEW.id"), ("award_milestone", "NEW.id"), ("award_instalment", "NEW.id"), ("award_indicator", "NEW.id"),
        ("monitoring_report", "NEW.id"),
    ]

    /// The synced tables "server v7" adds.
    private static let v7SyncedTables: [(table: String, key: String)] = [
        ("commission", "NEW.id"), ("commission_option", "NEW.id"), ("commission_risk", "NEW.id"),
    ]

    /// The synced tables "server v11" adds.
    private static let v11SyncedTables: [(table: String, key: String)] = [("measurement", "NEW.id")]

    /// The synced tables "server v8" adds. Ballots are not among them: no device ever receives one.
    private static let v8SyncedTables: [(table: String, key: String)] = [("vote", "NEW.id")]

    /// The synced tables "server v6" adds.
    private static let v6SyncedTables: [(table: String, key: String)] = [("review", "NEW.id")]

    /// The synced tables "server v5" adds.
    private static let v5SyncedTables: [(table: String, key: String)] = [
        ("round", "NEW.id"), ("round_criterion", "NEW.id"), ("assessment", "NEW.id"), ("moderation", "NEW.id"),
    ]

    /// Link tables travel inside the record that owns them: a change to a link is a change to its owner.
    static let linkTables: [(table: String, owner: String, ownerKey: String)] = [
        ("organisation_locality", "organisation", "organisation_id"), ("proposal_need", "proposal", "proposal_id"),
        ("proposal_outcome", "proposal", "proposal_id"),
    ]

    static var migrator: DatabaseMigrator {
        var migrator = Schema.migrator
        migrator.registerMigration("server v1") { db in
            try db.execute(sql: """
                CREATE TABLE account (
                    person_id TEXT NOT NULL PRIMARY KEY REFERENCES person(id),
                    password_hash TEXT NOT NULL,
                    disabled_at TEXT,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    last_failed_at TEXT
                ) STRICT;

                CREATE TABLE device (
                    id TEXT NOT NULL PRIMARY KEY,
                    person_id TEXT NOT NULL REFERENCES person(id),
                    name TEXT,
                    token_hash TEXT,
                    created_at TEXT NOT NULL,
                    last_seen_at TEXT,
                    revoked_at TEXT,
                    last_sequence INTEGER NOT NULL DEFAULT 0
                ) STRICT;
                CREATE UNIQUE INDEX device_token ON device(token_hash);

                -- What became of each pushed mutation, kept so that a retried push gets the same answer
                -- (a row a batch since server v17: StoredResults).
                CREATE TABLE mutation_result (
                    device_id TEXT NOT NULL REFERENCES device(id),
                    sequence INTEGER NOT NULL,
                    mutation_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    change_sequence INTEGER,
                    error_code TEXT,
                    error_message TEXT,
                    received_at TEXT NOT NULL,
                    PRIMARY KEY (device_id, sequence)
                ) STRICT, WITHOUT ROWID;

                -- The change sequence: every synced row's latest change, numbered in commit order.
                -- SQLite has one writer at a time, so numbers are handed out in commit order and a
                -- pull can never pass a change that commits later with a lower number. (A store with
                -- concurrent writers must number at commit instead: see docs/sync-protocol.md.)
                CREATE TABLE change_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL) STRICT;
                INSERT INTO change_counter (id, value) VALUES (1, 0);
                CREATE TABLE row_version (
                    table_name TEXT NOT NULL,
                    row_key TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    deleted INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (table_name, row_key)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX row_version_sequence ON row_version(sequence);
                """)
            try createTriggers(v1SyncedTables, db)
            for (table, owner, ownerKey) in linkTables {
                for (event, row) in [("insert", "NEW"), ("delete", "OLD")] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_synced_\(event) AFTER \(event.uppercased()) ON \(table) BEGIN
                            \(bump(table: "'\(owner)'", key: "\(row).\(ownerKey)", deleted: 0))
                        END;
                        """)
                }
            }
        }
        Schema.registerDomainMigrations(after: 1, &migrator)
        migrator.registerMigration("server v2 conflicts and clock") { db in
            try createTriggers(v2SyncedTables, db)
            try db.execute(sql: """
                -- The latest hybrid logical clock reading among applied mutations. Devices take it in
                -- with every pull, so an edit made after seeing a value is always ordered after it.
                CREATE TABLE clock_high_water (id INTEGER PRIMARY KEY CHECK (id = 1), hlc TEXT NOT NULL) STRICT;
                """)
        }
        Schema.registerCommissioningMigrations(&migrator, upTo: 5)
        migrator.registerMigration("server v3 decisions and the audit trail") { db in
            try createTriggers(v3SyncedTables, db)
            try db.execute(sql: v3AuditTrail)
        }
        Schema.registerCommissioningMigrations(&migrator, from: 6, upTo: 6)
        migrator.registerMigration("server v4 awards") { db in
            try createTriggers(v4SyncedTables, db)
            try db.execute(sql: """
                CREATE TRIGGER audit_award AFTER INSERT ON award BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'award.create', 'award', NEW.id,
                        json_object('proposal', NEW.proposal_id, 'decision', NEW.decision_id, 'amount', NEW.amount,
                            'organisation', NEW.organisation_id, 'startsOn', NEW.starts_on, 'endsOn', NEW.ends_on),
                        NEW.title);
                END;
                DROP TRIGGER audit_ledger_entry;
                CREATE TRIGGER audit_ledger_entry AFTER INSERT ON ledger_entry BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'ledger.' || NEW.kind, 'ledger_entry', NEW.id,
                        json_object('budget', NEW.budget_id, 'kind', NEW.kind, 'amount', NEW.amount, 'source', NEW.source,
                            'decision', NEW.decision_id, 'proposal', NEW.proposal_id, 'award', NEW.award_id),
                        NEW.note);
                END;
                """)
        }
        Schema.registerCommissioningMigrations(&migrator, from: 7, upTo: 7)
        migrator.registerMigration("server v5 rounds") { db in
            try createTriggers(v5SyncedTables, db)
        }
        Schema.registerCommissioningMigrations(&migrator, from: 8, upTo: 8)
        migrator.registerMigration("server v6 reviews") { db in
            try createTriggers(v6SyncedTables, db)
            try db.execute(sql: """
                CREATE TRIGGER audit_review AFTER INSERT ON review BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'review.' || NEW.verdict, 'review', NEW.id,
                        json_object('award', NEW.award_id, 'verdict', NEW.verdict, 'achieved', NEW.achieved,
                            'raisedNeeds', NEW.raised_need_ids),
                        NEW.summary);
                END;
                """)
        }
        Schema.registerCommissioningMigrations(&migrator, from: 9, upTo: 9)
        migrator.registerMigration("server v7 commissions") { db in
            try createTriggers(v7SyncedTables, db)
            try db.execute(sql: """
                CREATE TRIGGER audit_commission_stage AFTER UPDATE OF stage, status ON commission
                WHEN OLD.stage IS NOT NEW.stage OR OLD.status IS NOT NEW.status BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1),
                        CASE WHEN NEW.status = 'closed' THEN 'commission.closed' ELSE 'commission.stage' END, 'commission', NEW.id,
                        json_object('from', OLD.stage, 'to', NEW.stage, 'status', NEW.status), NEW.title);
                END;
                """)
        }
        Schema.registerCommissioningMigrations(&migrator, from: 10, upTo: 10)
        migrator.registerMigration("server v8 votes") { db in
            try createTriggers(v8SyncedTables, db)
            // Opening and counting a vote are in the audit trail; ballots are not (they are secret),
            // only how many were counted.
            try db.execute(sql: """
                CREATE TRIGGER audit_vote_open AFTER INSERT ON vote BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'vote.opened', 'vote', NEW.id,
                        json_object('round', NEW.round_id, 'rule', NEW.rule, 'ballot', NEW.ballot_type, 'amount', NEW.amount,
                            'opens', NEW.opens_on, 'closes', NEW.closes_on, 'proposals', NEW.proposal_ids),
                        NEW.title);
                END;
                CREATE TRIGGER audit_vote_count AFTER UPDATE OF status ON vote WHEN NEW.status = 'closed' BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'vote.counted', 'vote', NEW.id,
                        json_object('ballots', NEW.ballots_counted, 'funded', json_extract(NEW.result, '$.funded')), NEW.title);
                END;
                -- The rule, ballot, dates and money are fixed once a vote opens.
                CREATE TRIGGER vote_fixed BEFORE UPDATE OF rule, ballot_type, min_choices, max_choices, amount, opens_on, closes_on,
                    proposal_ids, round_id ON vote
                WHEN OLD.rule IS NOT NEW.rule OR OLD.ballot_type IS NOT NEW.ballot_type OR OLD.min_choices IS NOT NEW.min_choices
                    OR OLD.max_choices IS NOT NEW.max_choices OR OLD.amount IS NOT NEW.amount OR OLD.opens_on IS NOT NEW.opens_on
                    OR OLD.closes_on IS NOT NEW.closes_on OR OLD.proposal_ids IS NOT NEW.proposal_ids OR OLD.round_id IS NOT NEW.round_id
                BEGIN
                    SELECT RAISE(ABORT, 'a vote''s rule, ballot, dates and amount cannot change once it opens');
                END;
                """)
        }
        Schema.registerGeographyMigrations(&migrator)
        migrator.registerMigration("server v9 council") { db in
            // Who the server serves: set once by `council init` (the demo council has no row).
            try db.execute(sql: """
                CREATE TABLE council (
                    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                    name TEXT NOT NULL,
                    org_id TEXT,
                    gss_code TEXT NOT NULL,
                    authority_id TEXT NOT NULL REFERENCES locality(id),
                    created_at TEXT NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("server v10 activation codes") { db in
            // An account made without a password has a one-time activation code instead (its
            // SHA-256, never the code), valid until a time; the person chooses their password with it.
            try db.execute(sql: """
                ALTER TABLE account ADD COLUMN activation_hash TEXT;
                ALTER TABLE account ADD COLUMN activation_expires_at TEXT;
                """)
        }
        Schema.registerAdministrationMigrations(&migrator)
        migrator.registerMigration("server v11 administration") { db in
            try createTriggers(v11SyncedTables, db)
            // The scheme of delegation and a fund's life land in the audit trail too.
            try db.execute(sql: """
                CREATE TRIGGER audit_delegation AFTER INSERT ON delegation BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'delegation.adopted', 'delegation', NEW.id,
                        json_object('version', NEW.scheme_version, 'matter', NEW.matter, 'role', NEW.role, 'scope', NEW.scope,
                            'maxAmount', NEW.max_amount, 'description', NEW.description),
                        NEW.note);
                END;
                CREATE TRIGGER audit_budget AFTER INSERT ON budget BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'budget.created', 'budget', NEW.id,
                        json_object('name', NEW.name, 'locality', NEW.locality_id, 'year', NEW.financial_year), '');
                END;
                CREATE TRIGGER audit_budget_closed AFTER UPDATE OF closed_at ON budget
                WHEN OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'budget.closed', 'budget', NEW.id,
                        json_object('closedAt', NEW.closed_at), '');
                END;
                -- A closed year stays closed; delegation lines are never rewritten, only superseded.
                CREATE TRIGGER budget_stays_closed BEFORE UPDATE OF closed_at ON budget WHEN OLD.closed_at IS NOT NULL BEGIN
                    SELECT RAISE(ABORT, 'a closed financial year stays closed');
                END;
                CREATE TRIGGER delegation_no_update BEFORE UPDATE ON delegation BEGIN
                    SELECT RAISE(ABORT, 'lines of the scheme of delegation are never edited: adopt a new version');
                END;
                """)
        }
        migrator.registerMigration("server v12 history epoch") { db in
            // The database's history: made now, and made afresh by `restore`, so devices notice.
            try db.execute(sql: """
                CREATE TABLE server_history (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL) STRICT;
                INSERT INTO server_history (id, epoch) VALUES (1, lower(hex(randomblob(16))));
                """)
        }
        migrator.registerMigration("server v13 open data") { db in
            // The council's registered 360Giving prefix, for the grants it publishes.
            try db.execute(sql: "ALTER TABLE council ADD COLUMN grant_prefix TEXT")
        }
        migrator.registerMigration("server v14 commission history") { db in
            // The council's registered OCID prefix, and each commission's stages in the audit trail,
            // dated when the mutation that moved it was made: the OCDS releases are built from them.
            try db.execute(sql: """
                ALTER TABLE council ADD COLUMN ocid_prefix TEXT;
                CREATE TRIGGER audit_commission_start AFTER INSERT ON commission BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'commission.started', 'commission', NEW.id,
                        json_object('stage', NEW.stage, 'status', NEW.status, 'at', NEW.created_at), NEW.title);
                END;
                DROP TRIGGER audit_commission_stage;
                CREATE TRIGGER audit_commission_stage AFTER UPDATE OF stage, status ON commission
                WHEN OLD.stage IS NOT NEW.stage OR OLD.status IS NOT NEW.status BEGIN
                    INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
                    VALUES ((SELECT person_id FROM audit_actor WHERE id = 1),
                        CASE WHEN NEW.status = 'closed' THEN 'commission.closed' ELSE 'commission.stage' END, 'commission', NEW.id,
                        json_object('from', OLD.stage, 'to', NEW.stage, 'status', NEW.status, 'at', NEW.updated_at), NEW.title);
                END;
                """)
        }
        migrator.registerMigration("server v15 feed partitions") { db in
            // The change feed partitioned by where a need is: each need's row, its evidence and the
            // conflicts about it carry the need's partition (`FeedPartitions.key`: its locality, and
            // whether it was recorded holding personal data) and its recorder, so a pull for a narrow
            // scope reads its own partitions instead of walking the whole feed. Every other row has
            // neither and is in everyone's partition.
            try db.execute(sql: """
                ALTER TABLE row_version ADD COLUMN partition_key TEXT;
                ALTER TABLE row_version ADD COLUMN recorder TEXT;
                CREATE INDEX row_version_partition ON row_version(partition_key, sequence);
                CREATE INDEX row_version_recorder ON row_version(recorder, sequence) WHERE recorder IS NOT NULL;
                """)
            // Each change of a need, its evidence or a conflict about it writes its partition with it
            // (a deletion goes to everyone, as the whole feed would give it).
            let owner: [(table: String, key: String, need: String)] = [
                ("need", "NEW.id", "NEW.id"), ("need_evidence", "NEW.need_id || ':' || NEW.id", "NEW.need_id"),
                ("conflict", "NEW.id", "CASE WHEN NEW.record_type = 'need' THEN NEW.record_id END"),
            ]
            for (table, key, need) in owner {
                let deletedKey = key.replacingOccurrences(of: "NEW.", with: "OLD.")
                let partition = "(SELECT \(partitionKey("need")) FROM need WHERE need.id = \(need))"
                let recorder = "(SELECT need.recorded_by FROM need WHERE need.id = \(need))"
                try db.execute(sql: """
                    DROP TRIGGER \(table)_synced_insert;
                    DROP TRIGGER \(table)_synced_update;
                    DROP TRIGGER \(table)_synced_delete;
                    CREATE TRIGGER \(table)_synced_insert AFTER INSERT ON \(table) BEGIN
                        \(bump(table: "'\(table)'", key: key, deleted: 0, partition: (partition, recorder)))
                    END;
                    CREATE TRIGGER \(table)_synced_update AFTER UPDATE ON \(table) BEGIN
                        \(bump(table: "'\(table)'", key: key, deleted: 0, partition: (partition, recorder)))
                    END;
                    CREATE TRIGGER \(table)_synced_delete AFTER DELETE ON \(table) BEGIN
                        \(bump(table: "'\(table)'", key: deletedKey, deleted: 1, partition: ("NULL", "NULL")))
                    END;
                    """)
            }
            // A need moved, or given to another recorder: its evidence and conflicts move with it.
            try db.execute(sql: """
                CREATE TRIGGER need_partition AFTER UPDATE OF locality_id, recorded_by, holds_personal_data, field_clocks ON need BEGIN
                    UPDATE row_version SET partition_key = \(partitionKey("NEW")), recorder = NEW.recorded_by
                    WHERE (table_name = 'need_evidence' AND row_key > NEW.id || ':' AND row_key < NEW.id || ';')
                        OR (table_name = 'conflict' AND row_key IN (SELECT id FROM conflict WHERE record_type = 'need' AND record_id = NEW.id));
                END;
                """)
            // The rows already in the feed.
            try db.execute(sql: """
                UPDATE row_version SET (partition_key, recorder) = (
                    SELECT \(partitionKey("need")), need.recorded_by FROM need WHERE need.id = CASE row_version.table_name
                        WHEN 'need' THEN row_version.row_key
                        WHEN 'need_evidence' THEN substr(row_version.row_key, 1, instr(row_version.row_key, ':') - 1)
                        ELSE (SELECT conflict.record_id FROM conflict WHERE conflict.id = row_version.row_key AND conflict.record_type = 'need')
                        END)
                WHERE table_name IN ('need', 'need_evidence', 'conflict');
                """)
        }
        migrator.registerMigration("server v16 need partition from its own row") { db in
            // A need's own feed row takes its partition and recorder from the row being written
            // instead of looking the need up again: two index seeks and two table reads fewer for
            // every need recorded or edited. The same values: an AFTER trigger's NEW is the row.
            let bump = bump(table: "'need'", key: "NEW.id", deleted: 0, partition: (partitionKey("NEW"), "NEW.recorded_by"))
            try db.execute(sql: """
                DROP TRIGGER need_synced_insert;
                DROP TRIGGER need_synced_update;
                CREATE TRIGGER need_synced_insert AFTER INSERT ON need BEGIN \(bump) END;
                CREATE TRIGGER need_synced_update AFTER UPDATE ON need BEGIN \(bump) END;
                """)
        }
        StoredResults.register(&migrator)
        LeanNeedInsert.register(&migrator)
        return migrator
    }

    /// A need's partition, as `FeedPartitions.key` makes it: its locality, marked if it was recorded
    /// holding personal data (then only its audience ever saw it). A need that came to hold personal
    /// data by an edit is in everyone's partition: every device that may once have held it (even
    /// in a place it has since been moved from) must be told to drop it.
    private static func partitionKey(_ need: String) -> String {
        """
        CASE WHEN \(need).holds_personal_data = 0 THEN \(need).locality_id \
        WHEN instr(\(need).field_clocks, 'holdsPersonalData') = 0 THEN \(need).locality_id || ':p' END
        """
    }

    /// Every decision, ledger entry and change of a proposal's status lands in the audit trail by
    /// trigger, whatever code path wrote it; `Audit.seal` then chains each new entry to the one
    /// before it by hash, in the same transaction. Entries are never updated or deleted (triggers
    /// refuse it), and `locality-sync audit verify` recomputes the chain.
    private static let v3AuditTrail = """
        -- Who is acting in the current transaction: set by the server before each mutation.
        CREATE TABLE audit_actor (id INTEGER PRIMARY KEY CHECK (id = 1), person_id TEXT) STRICT;
        INSERT INTO audit_actor (id, person_id) VALUES (1, NULL);

        CREATE TABLE audit_entry (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            actor_id TEXT,
            action TEXT NOT NULL,
            record_type TEXT NOT NULL,
            record_id TEXT NOT NULL,
            detail TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            previous_hash TEXT,
            hash TEXT
        ) STRICT;
        CREATE INDEX audit_entry_unsealed ON audit_entry(sequence) WHERE hash IS NULL;

        CREATE TRIGGER audit_decision AFTER INSERT ON decision BEGIN
            INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
            VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'decision.' || NEW.outcome, 'decision', NEW.id,
                json_object('proposal', NEW.proposal_id, 'outcome', NEW.outcome, 'amount', NEW.amount,
                    'decidedBy', NEW.decided_by, 'authority', NEW.authority, 'conditions', NEW.conditions,
                    'decidedAt', NEW.decided_at),
                NEW.reasons);
        END;
        CREATE TRIGGER audit_ledger_entry AFTER INSERT ON ledger_entry BEGIN
            INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
            VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'ledger.' || NEW.kind, 'ledger_entry', NEW.id,
                json_object('budget', NEW.budget_id, 'kind', NEW.kind, 'amount', NEW.amount, 'source', NEW.source,
                    'decision', NEW.decision_id, 'proposal', NEW.proposal_id),
                NEW.note);
        END;
        CREATE TRIGGER audit_proposal_status AFTER UPDATE OF status ON proposal WHEN OLD.status IS NOT NEW.status BEGIN
            INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
            VALUES ((SELECT person_id FROM audit_actor WHERE id = 1), 'proposal.' || NEW.status, 'proposal', NEW.id,
                json_object('from', OLD.status, 'to', NEW.status), COALESCE(NEW.status_reason, ''));
        END;
        CREATE TRIGGER audit_entry_no_update BEFORE UPDATE OF sequence, recorded_at, actor_id, action, record_type,
            record_id, detail, reason ON audit_entry BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only');
        END;
        CREATE TRIGGER audit_entry_sealed BEFORE UPDATE OF previous_hash, hash ON audit_entry WHEN OLD.hash IS NOT NULL BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only');
        END;
        CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only');
        END;
        CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry BEGIN
            SELECT RAISE(ABORT, 'ledger entries are never edited: record a correcting entry');
        END;
        CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry BEGIN
            SELECT RAISE(ABORT, 'ledger entries are never deleted: record a correcting entry');
        END;

        -- The ledger as it stood before the trail began.
        INSERT INTO audit_entry (actor_id, action, record_type, record_id, detail, reason)
        SELECT recorded_by, 'ledger.' || kind, 'ledger_entry', id,
            json_object('budget', budget_id, 'kind', kind, 'amount', amount, 'source', source, 'decision', decision_id,
                'proposal', proposal_id),
            note
        FROM ledger_entry ORDER BY recorded_at, id;
        """

    private static func createTriggers(_ tables: [(table: String, key: String)], _ db: Database) throws {
        for (table, key) in tables {
            let deletedKey = key.replacingOccurrences(of: "NEW.", with: "OLD.")
            try db.execute(sql: """
                CREATE TRIGGER \(table)_synced_insert AFTER INSERT ON \(table) BEGIN
                    \(bump(table: "'\(table)'", key: key, deleted: 0))
                END;
                CREATE TRIGGER \(table)_synced_update AFTER UPDATE ON \(table) BEGIN
                    \(bump(table: "'\(table)'", key: key, deleted: 0))
                END;
                CREATE TRIGGER \(table)_synced_delete AFTER DELETE ON \(table) BEGIN
                    \(bump(table: "'\(table)'", key: deletedKey, deleted: 1))
                END;
                """)
        }
    }

    private static func bump(table: String, key: String, deleted: Int) -> String {
        """
        UPDATE change_counter SET value = value + 1 WHERE id = 1;
        INSERT INTO row_version (table_name, row_key, sequence, deleted)
            VALUES (\(table), \(key), (SELECT value FROM change_counter WHERE id = 1), \(deleted))
            ON CONFLICT (table_name, row_key) DO UPDATE SET sequence = excluded.sequence, deleted = excluded.deleted;
        """
    }

    /// The same, writing the row's feed partition and recorder with it ("server v15").
    private static func bump(table: String, key: String, deleted: Int, partition: (key: String, recorder: String)) -> String {
        """
        UPDATE change_counter SET value = value + 1 WHERE id = 1;
        INSERT INTO row_version (table_name, row_key, sequence, deleted, partition_key, recorder)
            VALUES (\(table), \(key), (SELECT value FROM change_counter WHERE id = 1), \(deleted), \(partition.key), \(partition.recorder))
            ON CONFLICT (table_name, row_key) DO UPDATE SET sequence = excluded.sequence, deleted = excluded.deleted,
                partition_key = excluded.partition_key, recorder = excluded.recorder;
        """
    }
}
