import Foundation
import GRDB

/// A local need, recorded by a councillor (often where there is no signal) with its evidence.
public struct Need: SyncRecord, Hashable {
    public static let databaseTableName = "need"

    public var id: UUID
    public var localityId: UUID
    public var title: String
    public var description: String
    public var category: String?
    /// The outcome in the framework this need bears on.
    public var outcomeId: UUID?
    /// 1 (minor) to 5 (severe).
    public var severity: Int
    /// An estimate of how many people are affected.
    public var peopleAffected: Int?
    public var latitude: Double?
    public var longitude: Double?
    /// A need that holds personal data is seen only by its recorder, the ward's councillors and officers.
    public var holdsPersonalData: Bool
    public var status: Status
    /// Why it was last moved (required when closing).
    public var statusReason: String?
    public var recordedBy: UUID
    public var recordedAt: Date
    public var updatedAt: Date

    /// Inserts through a cached statement with the columns written out: Codable's generic path
    /// costs more than the rest of recording a need. (The round-trip tests cover every column.)
    func insertNew(_ db: Database) throws {
        // OR FAIL: a refused need undoes its whole action (a device's transaction, the server's
        // savepoint or batch), so SQLite need not journal the statement to undo it alone; on the
        // server, where the insert also writes the change feed, that journal was a third of its time.
        // Bound value by value (`executeBound`): a push inserts thousands of needs a second.
        try db.executeBound(
            sql: """
                INSERT OR FAIL INTO need (id, locality_id, title, description, category, outcome_id, severity, people_affected,
                    latitude, longitude, holds_personal_data, status, status_reason, recorded_by, recorded_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ) { bind in
            bind.text(id.key)
            bind.text(localityId.key)
            bind.text(title)
            bind.text(description)
            bind.text(category)
            bind.text(outcomeId?.key)
            bind.integer(severity)
            bind.integer(peopleAffected)
            bind.real(latitude)
            bind.real(longitude)
            bind.bool(holdsPersonalData)
            bind.text(status.rawValue)
            bind.text(statusReason)
            bind.text(recordedBy.key)
            let recorded = Timestamps.format(recordedAt)
            bind.text(recorded)
            bind.text(updatedAt == recordedAt ? recorded : Timestamps.format(updatedAt))
        }
    }

    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case open
        case prioritised
        case beingAddressed = "being-addressed"
        case met
        case closed

        /// The allowed moves, in one place. Closed and met needs can be reopened: needs come back.
        public var allowedNext: Set<Status> {
            switch self {
            case .open: [.prioritised, .beingAddressed, .met, .closed]
            case .prioritised: [.open, .beingAddressed, .met, .closed]
            case .beingAddressed: [.prioritised, .met, .closed]
            case .met: [.open, .closed]
            case .closed: [.open]
            }
        }

        public func canMove(to next: Status) -> Bool { allowedNext.contains(next) }

        /// A closed need and a met need are no longer live.
        public var isLive: Bool { self != .closed && self != .met }

        public var label: String { rawValue.replacingOccurrences(of: "-", with: " ") }
    }
}

/// One piece of evidence for a need: a resident's contact, a survey, a petition…
public struct Evidence: SyncRecord, Hashable {
    public static let databaseTableName = "need_evidence"

    public var id: UUID
    public var needId: UUID
    public var kind: Kind
    public var note: String
    /// The day the evidence was gathered, `2026-11-20`.
    public var observedOn: String
    public var addedBy: UUID
    public var addedAt: Date

    func insertNew(_ db: Database) throws {
        try db.executeBound(  // OR FAIL, as the need's own insert
            sql: "INSERT OR FAIL INTO need_evidence (id, need_id, kind, note, observed_on, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ) { bind in
            bind.text(id.key)
            bind.text(needId.key)
            bind.text(kind.rawValue)
            bind.text(note)
            bind.text(observedOn)
            bind.text(addedBy.key)
            bind.text(Timestamps.format(addedAt))
        }
    }

    public enum Kind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case residentContact = "resident-contact"
        case survey, petition, data
        case siteVisit = "site-visit"

        public init(parsing text: String) throws {
            let normalised = text.trimmingWhitespace().lowercased()
                .replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: "_", with: "-")
            guard let kind = Kind(rawValue: normalised) else {
                throw LocalityError.invalid(
                    "'\(text)' is not a kind of evidence; use one of: \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self = kind
        }
    }
}
