import Foundation
import GRDB
import LocalityCore
import Synchronization
import Testing

/// A clock that starts at a fixed instant and ticks a millisecond per reading, and ids from a
/// seeded generator: every test run sees the same times and ids.
final class TestEnvironment: Sendable {
    private let state: Mutex<(millis: Int64, generator: SeededGenerator)>

    init(start: Date = Date(timeIntervalSince1970: 1_795_000_000), seed: UInt64 = 42) {
        state = Mutex((Int64(start.timeIntervalSince1970 * 1000), SeededGenerator(seed: seed)))
    }

    var environment: ReplicaEnvironment {
        ReplicaEnvironment(
            now: { [self] in
                state.withLock { value in
                    value.millis += 1
                    return Date(timeIntervalSince1970: Double(value.millis) / 1000)
                }
            },
            newID: { [self] date in state.withLock { value in UUID.v7(at: date, using: &value.generator) } })
    }
}

enum Demo {
    static func locality(_ slug: String) -> UUID { UUID.stable("demo:locality:" + slug) }
    static func organisation(_ slug: String) -> UUID { UUID.stable("demo:organisation:" + slug) }
    static func budget(_ slug: String) -> UUID { UUID.stable("demo:budget:" + slug) }
    static func outcome(_ slug: String) -> UUID { UUID.stable("demo:outcome:" + slug) }
    static func need(_ key: String) -> UUID { UUID.stable("demo:need:" + key) }
}

/// An in-memory demo replica acting as `username`.
func demoReplica(as username: String, seed: UInt64 = 42) throws -> Replica {
    let replica = try Replica.inMemory(environment: TestEnvironment(seed: seed).environment)
    try replica.initialiseDemo(as: username)
    return replica
}

/// Counts of rows a mutation could touch, to prove a failed one left no trace.
struct Footprint: Equatable {
    var needs: Int
    var evidence: Int
    var proposals: Int
    var links: Int
    var outbox: Int
    var lastSequence: Int64

    static func of(_ replica: Replica) throws -> Footprint {
        try replica.read { db in
            Footprint(
                needs: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM need")!,
                evidence: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM need_evidence")!,
                proposals: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM proposal")!,
                links: try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM proposal_need) + (SELECT COUNT(*) FROM proposal_outcome)")!,
                outbox: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox")!,
                lastSequence: try Int64.fetchOne(
                    db, sql: "SELECT MAX(COALESCE((SELECT MAX(sequence) FROM outbox), 0), last_sequence) FROM replica")!)
        }
    }
}

/// Runs `body`, expects it to fail with `code`, and checks it changed nothing.
func expectRefused(
    _ code: LocalityError.Code, in replica: Replica, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) throws {
    let before = try Footprint.of(replica)
    do {
        try body()
        Issue.record("expected a \(code) error, but it succeeded", sourceLocation: sourceLocation)
    } catch let error as LocalityError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    }
    #expect(try Footprint.of(replica) == before, "a refused change left a trace", sourceLocation: sourceLocation)
}

extension Replica {
    @discardableResult
    func recordNeed(in slug: String, title: String = "Potholes on the school run", severity: Int = 3) throws -> UUID {
        let id = newID()
        var command = RecordNeed(needId: id, localityId: Demo.locality(slug), title: title)
        command.severity = severity
        try perform(command)
        return id
    }

    @discardableResult
    func draftProposal(
        org: String, budget: String = "north-2026-27", locality: String = "whitmere-town", pence: Int64 = 250_000,
        summary: String = "Volunteers run it"
    ) throws -> UUID {
        let id = newID()
        var command = DraftProposal(
            proposalId: id, budgetId: Demo.budget(budget), organisationId: Demo.organisation(org),
            localityId: Demo.locality(locality), title: "Community minibus", amountRequested: Money(pence: pence))
        command.summary = summary
        try perform(command)
        return id
    }
}
