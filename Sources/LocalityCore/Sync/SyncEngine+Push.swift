import Foundation
import GRDB

extension SyncEngine {
    /// Push batches in flight at once: the server reads and decodes the next while it applies one,
    /// and this device records one answer while the next is on its way.
    static let pushWindow = 2

    private struct SentBatch {
        var mutations: [Mutation]
        var response: Task<PushResponse, any Error>
        /// Sent while an earlier batch was still unanswered.
        var behind: Bool
    }

    /// Pushes what waits, up to `pushWindow` batches in flight, handling the answers in the order
    /// sent. When nothing waited, returns where the pull starts, read in the same transaction (a
    /// sync with nothing to do then reads the database once).
    ///
    /// A batch's answer is used only when every batch before it was answered in full: otherwise
    /// the ones behind it are dropped and sent again (the server answers a repeat from what it
    /// stored, so nothing is applied twice). A gap reported for a batch sent behind another is
    /// the two arriving out of order at a server that does not put them back in order, not a
    /// restore: the rest goes one batch at a time.
    ///
    /// Whatever happens, no request of this sync is still running when it returns or starts over.
    func push(_ summary: inout SyncSummary) async throws -> PullStart? {
        var inFlight: [SentBatch] = []
        do {
            let start = try await push(&summary, &inFlight)
            await Self.settle(&inFlight)
            return start
        } catch {
            await Self.settle(&inFlight)
            throw error
        }
    }

    /// Cancels what is still in flight and waits for it to end, answered or not (what the server
    /// applied of it is answered again from what it stored when it is sent again).
    private static func settle(_ inFlight: inout [SentBatch]) async {
        for sent in inFlight { sent.response.cancel() }
        for sent in inFlight { _ = try? await sent.response.value }
        inFlight = []
    }

    private func push(_ summary: inout SyncSummary, _ inFlight: inout [SentBatch]) async throws -> PullStart? {
        var recovered = false
        var first = true
        var window = Self.pushWindow
        restart: while true {
            await Self.settle(&inFlight)
            var after: Int64 = 0
            var more = true
            while true {
                while more, inFlight.count < window {
                    // Who this device is and what waits, in one read. (Read on this thread instead, it
                    // saves 80 µs of hops on one device and costs a fifth of the capacity of a thousand
                    // simulated devices sharing the cooperative threads: not done.)
                    let (deviceId, batch, start) = try await replica.database.read { [first, after, pushBatch] db in
                        let deviceId = try UUID.fetchOne(db.cachedStatement(sql: "SELECT device_id FROM replica WHERE id = 1"))
                        let batch = try OutboxEntry.fetchAll(
                            db.cachedStatement(
                                sql: "SELECT * FROM outbox WHERE state = 'pending' AND sequence > ? ORDER BY sequence LIMIT ?"),
                            arguments: [after, pushBatch]
                        ).map(\.mutation)
                        return (deviceId, batch, first && batch.isEmpty ? try PullStart.read(db) : nil)
                    }
                    first = false
                    guard let deviceId else {
                        throw LocalityError(.replicaState, "this home is not logged in to a server; run `locality login` first")
                    }
                    guard let last = batch.last else {
                        if inFlight.isEmpty { return start }
                        more = false
                        break
                    }
                    after = last.sequence
                    more = batch.count == pushBatch
                    let (transport, request) = (self.transport, PushRequest(deviceId: deviceId, mutations: batch))
                    inFlight.append(SentBatch(mutations: batch, response: Task { try await transport.push(request) }, behind: !inFlight.isEmpty))
                }
                guard !inFlight.isEmpty else { return nil }
                let sent = inFlight.removeFirst()
                let batch = sent.mutations
                let response: PushResponse
                do {
                    response = try await sent.response.value
                } catch let error as LocalityError where error.code == .sequenceGap {
                    if sent.behind {
                        window = 1
                        continue restart
                    }
                    // The server lost changes it had acknowledged from this device: a restore. Send back
                    // what this device kept; if it kept too little, say so plainly.
                    guard !recovered else {
                        throw LocalityError(
                            .sequenceGap,
                            error.message + ". The server was restored from a backup older than what this device keeps "
                                + "(acknowledged changes are kept \(try keepDays()) days): the changes in between are lost from the server")
                    }
                    recovered = true
                    summary.serverRestored = true
                    summary.resent += try await replica.database.write { db in try Self.adoptRestoredHistory(epoch: nil, db) }
                    continue restart
                }
                var adopted = false
                if let epoch = response.epoch, !recovered {
                    let known = try await replica.database.read { db in
                        try String.fetchOne(db, sql: "SELECT server_epoch FROM sync_state WHERE id = 1")
                    }
                    if let known, known != epoch {
                        // Restored since the last sync, yet it took this batch: it holds everything before it. Send the rest again.
                        recovered = true
                        adopted = true
                        summary.serverRestored = true
                        summary.resent += try await replica.database.write { db in try Self.adoptRestoredHistory(epoch: epoch, db) }
                    }
                }
                let now = replica.environment.now()
                let ballots = Set(batch.lazy.filter { $0.name == .ballotCast }.map(\.sequence))
                try await replica.database.write { db in
                    for result in response.results { try Self.record(result, now: now, ballot: ballots.contains(result.sequence), db) }
                    // Once per batch: a change sent again to a restored server, which took what it had once refused.
                    try db.cachedStatement(
                        sql: "DELETE FROM rejected_mutation WHERE sequence IN (SELECT sequence FROM outbox WHERE state = 'applied')"
                    ).execute()
                }
                summary.sent += batch.count
                summary.accepted += response.results.filter { $0.outcome == .applied }.count
                summary.rejected += try await replica.database.read { db in
                    try response.results.filter { $0.outcome == .rejected }.compactMap { try Self.rejected($0.sequence, db) }
                }
                // The server answers in order and stops at a gap; anything unanswered is sent again next time.
                guard response.results.count == batch.count else { return nil }
                // What was restored is pending again, before what is in flight: start over from it.
                if adopted { continue restart }
            }
        }
    }

    private static func record(_ result: MutationResult, now: Date, ballot: Bool, _ db: Database) throws {
        switch result.outcome {
        case .applied:
            // Cached: these run for every accepted mutation of a push.
            try db.cachedStatement(sql: "UPDATE outbox SET state = 'applied', change_sequence = ? WHERE sequence = ? AND state = 'pending'")
                .execute(arguments: [result.changeSequence ?? 0, result.sequence])
            // A resident's own ballot, now counted: note that (never its choices).
            guard ballot else { return }
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO vote_receipt (vote_id, cast_at)
                    SELECT json_extract(arguments, '$.voteId'), created_at FROM outbox
                    WHERE sequence = ? AND name = 'ballot.cast' AND json_extract(arguments, '$.paperSerial') IS NULL
                    """
            ).execute(arguments: [result.sequence])
        case .rejected:
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO rejected_mutation (sequence, id, name, arguments, created_at, code, message, rejected_at)
                    SELECT sequence, id, name, arguments, created_at, ?, ?, ? FROM outbox WHERE sequence = ?
                    """,
                arguments: [
                    result.error?.code.rawValue ?? "rejected", result.error?.message ?? "refused by the server",
                    Timestamps.format(now), result.sequence,
                ])
            try db.execute(sql: "UPDATE outbox SET state = 'rejected' WHERE sequence = ?", arguments: [result.sequence])
        }
    }
}
