import Foundation
import LocalityCore

extension SyncBench {
    /// The same batches as another device's (a store in process knows only its own devices).
    static func batches(_ batches: [PushRequest], from device: UUID) -> [PushRequest] {
        batches.map { batch in
            PushRequest(deviceId: device, mutations: batch.mutations.map {
                Mutation(id: $0.id, deviceId: device, sequence: $0.sequence, hlc: $0.hlc, name: $0.name, actorId: $0.actorId,
                    createdAt: $0.createdAt, arguments: $0.arguments)
            })
        }
    }

    /// Sends the batches `window` at a time in order, as `SyncEngine` does: the time, each batch's time
    /// from sending to its answer, and how many mutations were applied. A batch that reached the
    /// server ahead of the one before it and waited for it in vain is answered with the gap; as the
    /// device's sync does, it is sent again once the one before it is answered (counted in the
    /// time, and said on standard error).
    static func pipelined(
        _ batches: [PushRequest], window: Int = 2, _ send: @escaping @Sendable (PushRequest) async throws -> PushResponse
    ) async throws -> (Duration, [Duration], Int) {
        var times: [Duration] = []
        var applied = 0
        var resent = 0
        // One batch sent: the time from sending to its answer, and how many it applied.
        @Sendable func timed(_ batch: PushRequest) async throws -> (Duration, Int) {
            let started = ContinuousClock.now
            let response = try await send(batch)
            return (ContinuousClock.now - started, response.results.filter { $0.outcome == .applied }.count)
        }
        let total = try await ContinuousClock().measure {
            var inFlight: [SentBatch] = []
            func answer(_ sent: SentBatch) async throws {
                let (time, count): (Duration, Int)
                do {
                    (time, count) = try await sent.task.value
                } catch let error as LocalityError where error.code == .sequenceGap && sent.behind {
                    resent += 1
                    (time, count) = try await timed(sent.batch)
                }
                times.append(time)
                applied += count
            }
            for batch in batches {
                if inFlight.count == window { try await answer(inFlight.removeFirst()) }
                inFlight.append(SentBatch(batch: batch, behind: !inFlight.isEmpty, task: Task { try await timed(batch) }))
            }
            for sent in inFlight { try await answer(sent) }
        }
        if resent > 0 {
            FileHandle.standardError.write(Data("  \(resent) of \(batches.count) batches reached the server ahead of the one before them and were sent again\n".utf8))
        }
        return (total, times, applied)
    }
}

/// A batch on its way: whether it was sent behind another (a gap in its answer is then the two
/// arriving out of order, not a restore), and its send.
private struct SentBatch {
    let batch: PushRequest
    let behind: Bool
    let task: Task<(Duration, Int), any Error>
}

/// A benchmark whose work went wrong: its figures would mean nothing.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
