import GRDB

/// The replica's schema. Released migrations are never edited: change the schema by adding one.
///
/// Plain SQL that does not depend on application types, so a migration means the same thing
/// forever. Tables are `STRICT`, keyed by UUID text made on the device. Foreign keys are
/// deferred to commit, so a page of synced rows can be applied in any order within its
/// transaction. No UNIQUE constraint that two offline devices could both violate: such rules
/// are the server's to enforce.
public enum Schema {
    /// The domain schema, shared by every replica and the server.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 foundation") { db in
            try db.execute(sql: v1)
        }
        return migrator
    }

    /// A device's schema: the domain, plus what syncing needs on a device.
    public static var replicaMigrator: DatabaseMigrator {
        var migrator = migrator
        migrator.registerMigration("v2 device sync") { db in
            try db.execute(sql: v2DeviceSync)
        }
        registerDomainMigrations(after: 1, &migrator)
        migrator.registerMigration("v4 device scope") { db in
            try db.execute(sql: v4DeviceScope)
        }
        registerCommissioningMigrations(&migrator)
        migrator.registerMigration("v11 device vote receipts") { db in
            // That this device's resident has a ballot counted in a vote — never what it chose —
            // written when the server accepts it, so the device can say so once the ballot is gone.
            try db.execute(sql: "CREATE TABLE vote_receipt (vote_id TEXT NOT NULL PRIMARY KEY, cast_at TEXT NOT NULL) STRICT")
        }
        registerGeographyMigrations(&migrator)
        registerAdministrationMigrations(&migrator)
        migrator.registerMigration("v14 device history") { db in
            try db.execute(sql: """
                -- The server database's history this device has synced with (see PullResponse.epoch).
                ALTER TABLE sync_state ADD COLUMN server_epoch TEXT;
                -- How long changes the server acknowledged are kept, to send back to a server restored from a backup.
                ALTER TABLE sync_state ADD COLUMN keep_sent_days INTEGER NOT NULL DEFAULT 14;
                CREATE TABLE sent_mutation (
                    sequence INTEGER NOT NULL PRIMARY KEY,
                    id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    device_id TEXT NOT NULL,
                    actor_id TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    acknowledged_at TEXT NOT NULL
                ) STRICT;
                CREATE INDEX sent_mutation_acknowledged ON sent_mutation(acknowledged_at);
                """)
        }
        return migrator
    }

    /// Real geography: a parish that lies in several wards, and localities retired by a boundary
    /// review. Registered at the end of both the device's and the server's chains.
    public static func registerGeographyMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12 localities in several wards, and retired") { db in
            try db.execute(sql: """
                -- The other localities this one lies in besides its parent (JSON array of ids): a parish
                -- spanning several wards is one place, seen by each of those wards' councillors.
                ALTER TABLE locality ADD COLUMN also_within TEXT NOT NULL DEFAULT '[]';
                -- The day a boundary review retired it: kept, with its history, but no new needs.
                ALTER TABLE locality ADD COLUMN retired_on TEXT;
                -- The boundaries' own name for it before a rename, and when the code was last seen.
                ALTER TABLE locality ADD COLUMN former_names TEXT NOT NULL DEFAULT '[]';
                CREATE INDEX locality_gss ON locality(gss_code);
                """)
        }
    }

    private static let v4DeviceScope = """
        -- The scope fingerprint of the last complete pull, and, while the device pulls its scope
        -- afresh after a change, the fingerprint it is pulling towards.
        ALTER TABLE sync_state ADD COLUMN scope TEXT;
        ALTER TABLE sync_state ADD COLUMN rescope_target TEXT;

        -- During such a pull: every row received, so that what did not come can leave the device.
        CREATE TABLE rescope_seen (
            table_name TEXT NOT NULL,
            row_key TEXT NOT NULL,
            PRIMARY KEY (table_name, row_key)
        ) STRICT, WITHOUT ROWID;
        """

    /// Domain migrations after the foundation, in order. The server and the device each register
    /// them after their own migrations of the same era, so each chain only ever grows at its end.
    public static func registerDomainMigrations(after version: Int, _ migrator: inout DatabaseMigrator) {
        if version < 3 {
            migrator.registerMigration("v3 field clocks and conflicts") { db in
                try db.execute(sql: v3Conflicts)
            }
        }
    }

    private static let v3Conflicts = """
        -- Per field, the hybrid logical clock of the edit that set it and who made it, as JSON:
        -- {"title": {"hlc": "…", "by": "<person>"}}. Concurrent edits of a field are ordered by it.
        ALTER TABLE need ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE proposal ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}';

        -- A value that lost to a concurrent edit of the same field, kept until someone resolves it.
        -- Its id is derived from the losing or winning edit, so the device and the server make the same row.
        CREATE TABLE conflict (
            id TEXT NOT NULL PRIMARY KEY,
            record_type TEXT NOT NULL,
            record_id TEXT NOT NULL,
            field TEXT NOT NULL,
            lost_value TEXT NOT NULL,
            lost_by TEXT NOT NULL,
            lost_hlc TEXT NOT NULL,
            kept_value TEXT NOT NULL,
            kept_by TEXT NOT NULL,
            kept_hlc TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',
            resolution TEXT,
            resolved_by TEXT,
            resolved_at TEXT,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX conflict_record ON conflict(record_id);
        """

    private static let v2DeviceSync = """
        -- The server this device syncs with, and how far it has pulled.
        CREATE TABLE sync_state (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            server_url TEXT NOT NULL,
            token TEXT,
            cursor INTEGER NOT NULL DEFAULT 0,
            last_sync_at TEXT,
            last_error TEXT
        ) STRICT;

        -- Mutations the server refused, kept so the person who made them sees why.
        CREATE TABLE rejected_mutation (
            sequence INTEGER NOT NULL PRIMARY KEY,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            arguments TEXT NOT NULL,
            created_at TEXT NOT NULL,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            rejected_at TEXT NOT NULL
        ) STRICT;

        -- Before-images of the rows each local mutation changed, in the order they changed, so a
        -- pull can set local changes aside, apply the server's rows, and put the changes back on
        -- top (rebase). Written by TEMP triggers that `Replica` installs on its writer connection.
        CREATE TABLE undo_log (
            id INTEGER NOT NULL PRIMARY KEY,
            outbox_sequence INTEGER NOT NULL,
            table_name TEXT NOT NULL,
            row_key TEXT NOT NULL,
            before TEXT
        ) STRICT;

        -- An answered mutation stays in the outbox until a pull has brought the server's version of
        -- what it changed; it records the answer meanwhile.
        ALTER TABLE outbox ADD COLUMN change_sequence INTEGER;
        """

    /// Names of the tables the foundation migration creates, for tests and diagnostics.
    public static let v1Tables = [
        "locality", "organisation", "organisation_locality", "person", "role_assignment", "outcome", "indicator",
        "need", "need_evidence", "budget", "ledger_entry", "proposal", "proposal_need", "proposal_outcome",
        "replica", "outbox",
    ]

    /// The domain tables a device holds copies of, with their key columns.
    public static let syncedTables: [(table: String, key: [String])] = [
        ("locality", ["id"]), ("organisation", ["id"]), ("organisation_locality", ["organisation_id", "locality_id"]),
        ("person", ["id"]), ("role_assignment", ["id"]), ("outcome", ["id"]), ("indicator", ["id"]), ("need", ["id"]),
        ("need_evidence", ["need_id", "id"]), ("budget", ["id"]), ("ledger_entry", ["id"]), ("proposal", ["id"]),
        ("proposal_need", ["proposal_id", "need_id"]), ("proposal_outcome", ["proposal_id", "outcome_id"]),
        ("conflict", ["id"]), ("delegation", ["id"]), ("decision", ["id"]), ("interest_declaration", ["id"]),
        ("award", ["id"]), ("award_milestone", ["id"]), ("award_instalment", ["id"]), ("award_indicator", ["id"]),
        ("monitoring_report", ["id"]), ("round", ["id"]), ("round_criterion", ["id"]), ("assessment", ["id"]),
        ("moderation", ["id"]), ("review", ["id"]),
        ("commission", ["id"]), ("commission_option", ["id"]), ("commission_risk", ["id"]),
        ("vote", ["id"]), ("ballot", ["id"]), ("measurement", ["id"]),
    ]

    private static let v1 = """
        CREATE TABLE locality (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            parent_id TEXT REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            gss_code TEXT,
            gss_year INTEGER,
            slug TEXT NOT NULL
        ) STRICT;
        CREATE INDEX locality_parent ON locality(parent_id);
        CREATE INDEX locality_slug ON locality(slug);
        CREATE INDEX locality_gss_code ON locality(gss_code);

        CREATE TABLE organisation (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            org_identifier TEXT,
            slug TEXT NOT NULL
        ) STRICT;
        CREATE INDEX organisation_slug ON organisation(slug);

        CREATE TABLE organisation_locality (
            organisation_id TEXT NOT NULL REFERENCES organisation(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            locality_id TEXT NOT NULL REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            PRIMARY KEY (organisation_id, locality_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE person (
            id TEXT NOT NULL PRIMARY KEY,
            username TEXT NOT NULL,
            display_name TEXT NOT NULL
        ) STRICT;
        CREATE INDEX person_username ON person(username);

        CREATE TABLE role_assignment (
            id TEXT NOT NULL PRIMARY KEY,
            person_id TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            role TEXT NOT NULL,
            locality_id TEXT REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            organisation_id TEXT REFERENCES organisation(id) DEFERRABLE INITIALLY DEFERRED
        ) STRICT;
        CREATE INDEX role_assignment_person ON role_assignment(person_id);

        CREATE TABLE outcome (
            id TEXT NOT NULL PRIMARY KEY,
            title TEXT NOT NULL,
            level TEXT NOT NULL,
            parent_id TEXT REFERENCES outcome(id) DEFERRABLE INITIALLY DEFERRED,
            slug TEXT NOT NULL
        ) STRICT;

        CREATE TABLE indicator (
            id TEXT NOT NULL PRIMARY KEY,
            outcome_id TEXT NOT NULL REFERENCES outcome(id) DEFERRABLE INITIALLY DEFERRED,
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            direction TEXT NOT NULL,
            baseline REAL,
            target REAL
        ) STRICT;
        CREATE INDEX indicator_outcome ON indicator(outcome_id);

        CREATE TABLE need (
            id TEXT NOT NULL PRIMARY KEY,
            locality_id TEXT NOT NULL REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            title TEXT NOT NULL CHECK (length(title) > 0),
            description TEXT NOT NULL DEFAULT '',
            category TEXT,
            outcome_id TEXT REFERENCES outcome(id) DEFERRABLE INITIALLY DEFERRED,
            severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
            people_affected INTEGER CHECK (people_affected >= 0),
            latitude REAL CHECK (latitude BETWEEN -90 AND 90),
            longitude REAL CHECK (longitude BETWEEN -180 AND 180),
            holds_personal_data INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            status_reason TEXT,
            recorded_by TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX need_locality ON need(locality_id);

        -- Clustered by need: a need's evidence is read together, and recording a need with its
        -- evidence touches one b-tree here rather than three.
        CREATE TABLE need_evidence (
            need_id TEXT NOT NULL REFERENCES need(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            id TEXT NOT NULL,
            kind TEXT NOT NULL,
            note TEXT NOT NULL,
            observed_on TEXT NOT NULL,
            added_by TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (need_id, id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE budget (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            slug TEXT NOT NULL,
            locality_id TEXT NOT NULL REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            financial_year TEXT NOT NULL
        ) STRICT;
        CREATE INDEX budget_slug ON budget(slug);

        CREATE TABLE ledger_entry (
            id TEXT NOT NULL PRIMARY KEY,
            budget_id TEXT NOT NULL REFERENCES budget(id) DEFERRABLE INITIALLY DEFERRED,
            kind TEXT NOT NULL,
            source TEXT,
            amount INTEGER NOT NULL CHECK (amount > 0),
            note TEXT NOT NULL DEFAULT '',
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX ledger_entry_budget ON ledger_entry(budget_id);

        CREATE TABLE proposal (
            id TEXT NOT NULL PRIMARY KEY,
            budget_id TEXT NOT NULL REFERENCES budget(id) DEFERRABLE INITIALLY DEFERRED,
            locality_id TEXT NOT NULL REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            organisation_id TEXT NOT NULL REFERENCES organisation(id) DEFERRABLE INITIALLY DEFERRED,
            title TEXT NOT NULL CHECK (length(title) > 0),
            summary TEXT NOT NULL DEFAULT '',
            amount_requested INTEGER NOT NULL CHECK (amount_requested > 0),
            delivery_model TEXT,
            social_value TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            status_reason TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            submitted_at TEXT
        ) STRICT;
        CREATE INDEX proposal_organisation ON proposal(organisation_id);
        CREATE INDEX proposal_budget ON proposal(budget_id);

        CREATE TABLE proposal_need (
            proposal_id TEXT NOT NULL REFERENCES proposal(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            need_id TEXT NOT NULL,
            PRIMARY KEY (proposal_id, need_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE proposal_outcome (
            proposal_id TEXT NOT NULL REFERENCES proposal(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            outcome_id TEXT NOT NULL REFERENCES outcome(id) DEFERRABLE INITIALLY DEFERRED,
            PRIMARY KEY (proposal_id, outcome_id)
        ) STRICT, WITHOUT ROWID;

        -- This device: who acts on it, and the counters that make its mutations idempotent.
        CREATE TABLE replica (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            device_id TEXT NOT NULL,
            person_id TEXT NOT NULL,
            origin TEXT NOT NULL,
            last_sequence INTEGER NOT NULL DEFAULT 0,
            last_hlc TEXT,
            created_at TEXT NOT NULL
        ) STRICT;

        -- Mutations made on this device and not yet answered by the server, oldest first.
        CREATE TABLE outbox (
            sequence INTEGER NOT NULL PRIMARY KEY,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            arguments TEXT NOT NULL,
            hlc TEXT NOT NULL,
            device_id TEXT NOT NULL,
            actor_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
        ) STRICT;
        """
}
