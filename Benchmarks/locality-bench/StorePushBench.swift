import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

extension SyncBench {
    /// `--only store`: the push's store alone, in this process, with no server, no HTTP and no
    /// replica: `--push-count` needs recorded by one officer's device, pushed in full batches. What
    /// a profiler should be pointed at when the push figure moves.
    func storePush(_ directory: URL) async throws {
        let (store, session) = try await Self.officerOnDemoStore(at: directory.appendingPathComponent("store-push.sqlite").path)
        let deviceId = session.deviceId
        let locality = UUID.stable("demo:locality:marcher")
        let encoder = JSONValueEncoder()
        let made = Date()
        var clock: HLCTimestamp?
        var generator = SeededGenerator(seed: 1)
        var mutations: [Mutation] = []
        mutations.reserveCapacity(pushCount)
        for index in 0..<pushCount {
            var need = RecordNeed(needId: UUID.v7(at: made, using: &generator), localityId: locality, title: "Pushed \(index)")
            need.holdsPersonalData = true
            let hlc = HLCTimestamp.next(after: clock, wallMillis: Timestamps.milliseconds(made), node: deviceId.key)
            clock = hlc
            mutations.append(Mutation(
                id: UUID.v7(at: made, using: &generator), deviceId: deviceId, sequence: Int64(index + 1), hlc: hlc, name: .needRecord,
                actorId: session.personId, createdAt: Timestamps.truncated(made), arguments: try encoder.encode(need)))
        }
        var rejected = 0
        let cpuBefore = processCPUSeconds()
        let took = try await ContinuousClock().measure {
            for start in stride(from: 0, to: mutations.count, by: SyncProtocol.maxPushBatch) {
                let batch = Array(mutations[start..<min(start + SyncProtocol.maxPushBatch, mutations.count)])
                let response = try await store.push(PushRequest(deviceId: deviceId, mutations: batch), from: session, now: Date())
                rejected += response.results.filter { $0.outcome != .applied }.count
            }
        }
        let cpu = processCPUSeconds() - cpuBefore
        guard rejected == 0 else { throw ValidationError("\(rejected) of the pushed needs were refused") }
        print("push, the store alone (in process, no HTTP, JSON or replica): \(mutations.count) mutations in \(format(took)): "
            + "\(Int(Double(mutations.count) / took.seconds)) mutations/s, \(String(format: "%.2f", cpu)) s of CPU "
            + "(\(String(format: "%.1f", cpu / Double(mutations.count) * 1e6)) µs a mutation)")
    }
}

extension SyncBench {
    /// A demo council's store in this process, at `path`, and the officer's session on a new device.
    static func officerOnDemoStore(at path: String) async throws -> (SQLiteSyncStore, Session) {
        let store = try SQLiteSyncStore.open(at: path)
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        guard case .success(let login) = try await store.login(
            LoginRequest(username: "officer", password: DemoCouncil.password, deviceId: UUID()), token: UUID().uuidString, now: Date()),
            let session = try await store.authenticate(token: login.token, now: Date())
        else { throw ValidationError("login failed") }
        return (store, session)
    }
}

/// User and system CPU time this process has used, over all its threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
