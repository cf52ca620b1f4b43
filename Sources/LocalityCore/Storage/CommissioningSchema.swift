import GRDB

/// The commissioning cycle's migrations: decisions and the scheme of delegation, awards, rounds,
/// reviews and commissions. Released migrations are never edited.
extension Schema {
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
            (10, "v10 votes and ballots", v10Votes),
        ]
        for (version, name, sql) in migrations where (first...last).contains(version) {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
    }

    private static let v10Votes = """
        CREATE TABLE vote (
            id TEXT NOT NULL PRIMARY KEY,
            round_id TEXT NOT NULL REFERENCES round(id) DEFERRABLE INITIALLY DEFERRED,
            title TEXT NOT NULL,
            ballot_type TEXT NOT NULL,
            min_choices INTEGER,
            max_choices INTEGER,
            rule TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            opens_on TEXT NOT NULL,
            closes_on TEXT NOT NULL,
            proposal_ids TEXT NOT NULL,
            status TEXT NOT NULL,
            result TEXT,
            ballots_counted INTEGER,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            closed_by TEXT,
            closed_at TEXT
        ) STRICT;
        CREATE INDEX vote_round ON vote(round_id);

        -- On the server, every ballot counted; on a device, only those it captured and has not yet
        -- seen accepted (the server sends ballots to no device).
        CREATE TABLE ballot (
            id TEXT NOT NULL PRIMARY KEY,
            vote_id TEXT NOT NULL REFERENCES vote(id) DEFERRABLE INITIALLY DEFERRED,
            voter_reference TEXT NOT NULL,
            proposal_ids TEXT NOT NULL,
            channel TEXT NOT NULL,
            paper_serial TEXT,
            captured_by TEXT NOT NULL,
            cast_at TEXT NOT NULL
        ) STRICT;
        CREATE UNIQUE INDEX ballot_voter ON ballot(vote_id, voter_reference);
        CREATE UNIQUE INDEX ballot_serial ON ballot(vote_id, paper_serial) WHERE paper_serial IS NOT NULL;
        """

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
}
