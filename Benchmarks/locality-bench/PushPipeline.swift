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
    /// from sending to its answer, and how many mutations were applied.
    static func pipelined(
        _ batches: [PushRequest], window: Int = 2, _ send: @escaping @Sendable (PushRequest) async throws -> PushResponse
    ) async throws -> (Duration, [Duration], Int) {
        var times: [Duration] = []
        var applied = 0
        let total = try await ContinuousClock().measure {
            var inFlight: [Task<(Duration, Int), any Error>] = []
            for batch in batches {
                if inFlight.count == window {
                    let (time, count) = try await inFlight.removeFirst().value
                    times.append(time)
                    applied += count
                }
                inFlight.append(Task {
                    let started = ContinuousClock.now
                    let response = try await send(batch)
                    return (ContinuousClock.now - started, response.results.filter { $0.outcome == .applied }.count)
                })
            }
            for task in inFlight {
                let (time, count) = try await task.value
                times.append(time)
                applied += count
            }
        }
        return (total, times, applied)
    }
}

/// A benchmark whose work went wrong: its figures would mean nothing.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
