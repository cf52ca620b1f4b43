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
        return migrator
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

    /// The commissioning cycle's tables, registered by the device and the server at the end of
    /// their own chains (after "v4 device scope" and "server v2" respectively).
    /// The server interleaves its own migrations between them, hence the range.
    public static func registerCommissioningMigrations(
        _ migrator: inout DatabaseMigrator, from first: Int = 5, upTo last: Int = .max
    ) {
        let migrations: [(Int, String, String)] = [
            (5, "v5 decisions and the scheme of delegation", v5Decisions),
            (6, "v6 awards, payments and monitoring", v6Awards),
            (7, "v7 rounds and assessment", v7Rounds),
            (8, "v8 reviews", v8Reviews),
            (9, "v9 commissions", v9Commissions),
        ]
        for (version, name, sql) in migrations where (first...last).contains(version) {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
    }

    private static let v9Commissions = """
        CREATE TABLE commission (
            id TEXT NOT NULL PRIMARY KEY,
            title TEXT NOT NULL,
            level TEXT NOT NULL,
            locality_id TEXT NOT NULL REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            stage INTEGER NOT NULL CHECK (stage BETWEEN 1 AND 8),
            status TEXT NOT NULL,
            need_ids TEXT NOT NULL DEFAULT '[]',
            outcome_ids TEXT NOT NULL DEFAULT '[]',
            proposal_ids TEXT NOT NULL DEFAULT '[]',
            priority_reason TEXT NOT NULL DEFAULT '',
            specification TEXT NOT NULL DEFAULT '',
            award_id TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE commission_option (
            id TEXT NOT NULL PRIMARY KEY,
            commission_id TEXT NOT NULL REFERENCES commission(id) DEFERRABLE INITIALLY DEFERRED,
            delivery_model TEXT NOT NULL,
            score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
            notes TEXT NOT NULL DEFAULT '',
            chosen INTEGER NOT NULL DEFAULT 0,
            recorded_by TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX commission_option_commission ON commission_option(commission_id);

        CREATE TABLE commission_risk (
            id TEXT NOT NULL PRIMARY KEY,
            commission_id TEXT NOT NULL REFERENCES commission(id) DEFERRABLE INITIALLY DEFERRED,
            description TEXT NOT NULL,
            likelihood INTEGER NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
            impact INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
            owner TEXT NOT NULL,
            mitigation TEXT NOT NULL DEFAULT '',
            recorded_by TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX commission_risk_commission ON commission_risk(commission_id);
        """

    private static let v8Reviews = """
        CREATE TABLE review (
            id TEXT NOT NULL PRIMARY KEY,
            award_id TEXT NOT NULL REFERENCES award(id) DEFERRABLE INITIALLY DEFERRED,
            verdict TEXT NOT NULL,
            achieved TEXT NOT NULL DEFAULT '[]',
            summary TEXT NOT NULL,
            lessons TEXT NOT NULL DEFAULT '',
            raised_need_ids TEXT NOT NULL DEFAULT '[]',
            reviewed_by TEXT NOT NULL,
            reviewed_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX review_award ON review(award_id);
        """

    private static let v7Rounds = """
        CREATE TABLE round (
            id TEXT NOT NULL PRIMARY KEY,
            budget_id TEXT NOT NULL REFERENCES budget(id) DEFERRABLE INITIALLY DEFERRED,
            title TEXT NOT NULL,
            opens_on TEXT NOT NULL,
            closes_on TEXT NOT NULL,
            max_award INTEGER CHECK (max_award IS NULL OR max_award > 0),
            locality_ids TEXT NOT NULL DEFAULT '[]',
            organisation_kinds TEXT NOT NULL DEFAULT '[]',
            need_ids TEXT NOT NULL DEFAULT '[]',
            outcome_ids TEXT NOT NULL DEFAULT '[]',
            councillors_assess INTEGER NOT NULL DEFAULT 0,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE round_criterion (
            id TEXT NOT NULL PRIMARY KEY,
            round_id TEXT NOT NULL REFERENCES round(id) DEFERRABLE INITIALLY DEFERRED,
            name TEXT NOT NULL,
            weight INTEGER NOT NULL CHECK (weight > 0),
            scale_max INTEGER NOT NULL CHECK (scale_max > 0),
            guidance TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX round_criterion_round ON round_criterion(round_id);

        CREATE TABLE assessment (
            id TEXT NOT NULL PRIMARY KEY,
            proposal_id TEXT NOT NULL REFERENCES proposal(id) DEFERRABLE INITIALLY DEFERRED,
            criterion_id TEXT NOT NULL REFERENCES round_criterion(id) DEFERRABLE INITIALLY DEFERRED,
            assessor_id TEXT NOT NULL,
            score INTEGER NOT NULL CHECK (score >= 0),
            comment TEXT NOT NULL DEFAULT '',
            scored_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX assessment_proposal ON assessment(proposal_id);

        CREATE TABLE moderation (
            id TEXT NOT NULL PRIMARY KEY,
            proposal_id TEXT NOT NULL REFERENCES proposal(id) DEFERRABLE INITIALLY DEFERRED,
            adjustment REAL NOT NULL,
            reason TEXT NOT NULL,
            moderated_by TEXT NOT NULL,
            moderated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX moderation_proposal ON moderation(proposal_id);

        ALTER TABLE proposal ADD COLUMN round_id TEXT;
        """

    private static let v6Awards = """
        CREATE TABLE award (
            id TEXT NOT NULL PRIMARY KEY,
            proposal_id TEXT NOT NULL REFERENCES proposal(id) DEFERRABLE INITIALLY DEFERRED,
            decision_id TEXT NOT NULL REFERENCES decision(id) DEFERRABLE INITIALLY DEFERRED,
            budget_id TEXT NOT NULL REFERENCES budget(id) DEFERRABLE INITIALLY DEFERRED,
            organisation_id TEXT NOT NULL REFERENCES organisation(id) DEFERRABLE INITIALLY DEFERRED,
            title TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            status TEXT NOT NULL,
            starts_on TEXT NOT NULL,
            ends_on TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX award_proposal ON award(proposal_id);

        CREATE TABLE award_milestone (
            id TEXT NOT NULL PRIMARY KEY,
            award_id TEXT NOT NULL REFERENCES award(id) DEFERRABLE INITIALLY DEFERRED,
            title TEXT NOT NULL,
            due_on TEXT NOT NULL,
            status TEXT NOT NULL,
            met_on TEXT
        ) STRICT;
        CREATE INDEX award_milestone_award ON award_milestone(award_id);

        CREATE TABLE award_instalment (
            id TEXT NOT NULL PRIMARY KEY,
            award_id TEXT NOT NULL REFERENCES award(id) DEFERRABLE INITIALLY DEFERRED,
            amount INTEGER NOT NULL CHECK (amount > 0),
            due_on TEXT,
            on_outcome TEXT
        ) STRICT;
        CREATE INDEX award_instalment_award ON award_instalment(award_id);

        CREATE TABLE award_indicator (
            id TEXT NOT NULL PRIMARY KEY,
            award_id TEXT NOT NULL REFERENCES award(id) DEFERRABLE INITIALLY DEFERRED,
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            baseline REAL,
            target REAL NOT NULL
        ) STRICT;
        CREATE INDEX award_indicator_award ON award_indicator(award_id);

        CREATE TABLE monitoring_report (
            id TEXT NOT NULL PRIMARY KEY,
            award_id TEXT NOT NULL REFERENCES award(id) DEFERRABLE INITIALLY DEFERRED,
            period_end TEXT NOT NULL,
            progress TEXT NOT NULL,
            spend INTEGER NOT NULL CHECK (spend >= 0),
            issues TEXT NOT NULL DEFAULT '',
            measurements TEXT NOT NULL DEFAULT '{}',
            submitted_by TEXT NOT NULL,
            submitted_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX monitoring_report_award ON monitoring_report(award_id);

        ALTER TABLE ledger_entry ADD COLUMN award_id TEXT;
        CREATE INDEX ledger_entry_award ON ledger_entry(award_id) WHERE award_id IS NOT NULL;
        """

    private static let v5Decisions = """
        -- The scheme of delegation: who may decide what, by amount. Data, not code.
        CREATE TABLE delegation (
            id TEXT NOT NULL PRIMARY KEY,
            role TEXT NOT NULL,
            scope TEXT NOT NULL,
            max_amount INTEGER CHECK (max_amount IS NULL OR max_amount > 0),
            description TEXT NOT NULL
        ) STRICT;

        -- Decisions on proposals. An approval's commitment is a ledger entry made in the same step.
        CREATE TABLE decision (
            id TEXT NOT NULL PRIMARY KEY,
            proposal_id TEXT NOT NULL REFERENCES proposal(id) DEFERRABLE INITIALLY DEFERRED,
            outcome TEXT NOT NULL,
            amount INTEGER CHECK (amount IS NULL OR amount > 0),
            decided_by TEXT NOT NULL,
            authority TEXT NOT NULL,
            delegation_id TEXT,
            reasons TEXT NOT NULL DEFAULT '',
            conditions TEXT NOT NULL DEFAULT '',
            decided_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX decision_proposal ON decision(proposal_id);

        -- A declared interest bars its declarer from assessing or deciding the proposal.
        CREATE TABLE interest_declaration (
            id TEXT NOT NULL PRIMARY KEY,
            proposal_id TEXT NOT NULL REFERENCES proposal(id) DEFERRABLE INITIALLY DEFERRED,
            person_id TEXT NOT NULL,
            interest TEXT NOT NULL CHECK (length(interest) > 0),
            declared_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX interest_declaration_proposal ON interest_declaration(proposal_id, person_id);

        -- What a ledger entry is for, and who made it.
        ALTER TABLE ledger_entry ADD COLUMN decision_id TEXT;
        ALTER TABLE ledger_entry ADD COLUMN proposal_id TEXT;
        ALTER TABLE ledger_entry ADD COLUMN recorded_by TEXT;
        """

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
