import GRDB

/// Administration through the protocol: funds made, allocated, moved and closed from a finance
/// officer's device; the outcomes framework and its measurements; a versioned scheme of
/// delegation; organisations kept current. Released migrations are never edited.
extension Schema {
    /// Registered at the end of both the device's and the server's chains.
    public static func registerAdministrationMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13 administration") { db in
            try db.execute(sql: v13Administration)
        }
    }

    private static let v13Administration = """
        -- A fund's year closed: nothing more is committed from it (what was uncommitted went forward).
        ALTER TABLE budget ADD COLUMN closed_at TEXT;
        ALTER TABLE budget ADD COLUMN created_by TEXT;
        -- The other fund of a transfer (a virement, or a year's carry-forward): each side is an entry.
        ALTER TABLE ledger_entry ADD COLUMN counterpart_budget_id TEXT;

        -- Where an indicator's figures come from ("ONS annual population survey").
        ALTER TABLE indicator ADD COLUMN source TEXT NOT NULL DEFAULT '';
        -- A figure for an indicator, on a day, for the whole authority or one locality.
        CREATE TABLE measurement (
            id TEXT NOT NULL PRIMARY KEY,
            indicator_id TEXT NOT NULL REFERENCES indicator(id) DEFERRABLE INITIALLY DEFERRED,
            value REAL NOT NULL,
            measured_on TEXT NOT NULL,
            locality_id TEXT REFERENCES locality(id) DEFERRABLE INITIALLY DEFERRED,
            note TEXT NOT NULL DEFAULT '',
            recorded_by TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX measurement_indicator ON measurement(indicator_id, measured_on);

        -- The scheme of delegation, versioned: a new version adds new lines; old lines stay, so a
        -- past decision keeps the authority it was taken under. The current scheme is the highest version.
        ALTER TABLE delegation ADD COLUMN matter TEXT NOT NULL DEFAULT 'decision';
        ALTER TABLE delegation ADD COLUMN scheme_version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE delegation ADD COLUMN adopted_at TEXT;
        ALTER TABLE delegation ADD COLUMN adopted_by TEXT;
        ALTER TABLE delegation ADD COLUMN note TEXT NOT NULL DEFAULT '';
        CREATE INDEX delegation_version ON delegation(scheme_version);
        ALTER TABLE decision ADD COLUMN scheme_version INTEGER;

        -- How to reach an organisation, kept current by its own members.
        ALTER TABLE organisation ADD COLUMN contact TEXT NOT NULL DEFAULT '';
        ALTER TABLE organisation ADD COLUMN updated_at TEXT;
        """
}
