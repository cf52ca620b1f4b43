import Foundation
import LocalityCore

extension SyncBench {
    /// Sends the batches two at a time in order, as `SyncEngine` does: the time, each batch's time
    /// from sending to its answer, and how many mutations were applied.
    static func pipelined(
        _ batches: [PushRequest], _ send: @escaping @Sendable (PushRequest) async throws -> PushResponse
    ) async throws -> (Duration, [Duration], Int) {
        var times: [Duration] = []
        var applied = 0
        let total = try await ContinuousClock().measure {
            var inFlight: [Task<(Duration, Int), any Error>] = []
            for batch in batches {
                if inFlight.count == 2 {
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
