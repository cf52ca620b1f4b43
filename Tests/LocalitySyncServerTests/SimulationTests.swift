import Foundation
import GRDB
import LocalityCore
@testable import LocalitySyncServer
import Synchronization
import Testing

/// Deterministic simulation: many devices, random offline work, syncs with injected faults and
/// server restarts and restores from earlier backups, all driven by one seed. A failing seed is printed; rerun it alone with
/// `LOCALITY_SIM_SEED=<seed> LOCALITY_SIM_SEEDS=1 swift test --filter Simulation`.
@Suite("Seeded simulation of many devices syncing through faults")
struct SimulationTests {
    static var seeds: [UInt64] { Simulation.seeds(countVariable: "LOCALITY_SIM_SEEDS", default: 200) }

    @Test func everyDeviceConvergesAndEveryMutationIsAnsweredExactlyOnce() async throws {
        var totals = Simulation.Totals()
        defer {
            print("simulation: \(Self.seeds.count) seeds from \(Self.seeds.first ?? 0): \(totals.mutations) mutations, \(totals.applied) applied, \(totals.rejected) rejected, \(totals.restarts) server restarts, \(totals.restores) restores from earlier backups, \(totals.conflicts) conflicts kept, \(totals.scopeChanges) scope changes")
        }
        for seed in Self.seeds {
            do {
                totals.add(try await Simulation(seed: seed).run())
            } catch {
                Issue.record("seed \(seed) failed: \(error) — rerun with LOCALITY_SIM_SEED=\(seed) LOCALITY_SIM_SEEDS=1")
                return
            }
        }
    }
}

struct SimulationFailure: Error, CustomStringConvertible {
    let description: String
}

struct SimulatedDevice {
    let username: String
    let replica: Replica
    let transport: FaultyTransport
    let engine: SyncEngine

    /// A device with a deterministic clock and ids, logged in as `username` and synced once
    /// without faults; its transport's faults are then off until the caller turns them on.
    static func connect(
        _ username: String, to server: ServerBox, clockSeed: UInt64, faultSeed: UInt64, token: String, pullLimit: Int = 30
    ) async throws -> SimulatedDevice {
        let replica = try SimulationTemplates.replica(environment: Simulation.deterministicEnvironment(seed: clockSeed))
        guard case .success(let login) = try await server.store.login(
            LoginRequest(username: username, password: DemoCouncil.password, deviceId: replica.newID()), token: token, now: Date())
        else { throw SimulationFailure(description: "login failed for \(username)") }
        try replica.bind(serverURL: "sim:", login: login)
        let transport = FaultyTransport(server: server, token: login.token, seed: faultSeed)
        transport.setFaults(false)
        let device = SimulatedDevice(
            username: username, replica: replica, transport: transport,
            engine: SyncEngine(replica: replica, transport: transport, pullLimit: pullLimit, pushBatch: pushBatch(faultSeed)))
        _ = try await device.engine.sync()
        return device
    }
}

struct Simulation {
    let seed: UInt64

    /// The seeds a seeded simulation runs: from `LOCALITY_SIM_SEED` (1 unless set), as many as
    /// `countVariable` says (`fallback` unless set).
    static func seeds(countVariable: String, default fallback: UInt64) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        let first = UInt64(environment["LOCALITY_SIM_SEED"] ?? "") ?? 1
        let count = UInt64(environment[countVariable] ?? "") ?? fallback
        return Array(first..<(first + count))
    }
    let steps = 120

    struct Totals {
        var mutations = 0
        var applied = 0
        var rejected = 0
        var restarts = 0
        var conflicts = 0
        var scopeChanges = 0
        var restores = 0

        mutating func add(_ other: Totals) {
            restores += other.restores
            scopeChanges += other.scopeChanges
            conflicts += other.conflicts
            mutations += other.mutations
            applied += other.applied
            rejected += other.rejected
            restarts += other.restarts
        }
    }

    func run() async throws -> Totals {
        var totals = Totals()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-sim-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerBox(path: directory.appendingPathComponent("server.sqlite").path)
        var random = SeededGenerator(seed: seed)

        var devices: [SimulatedDevice] = []
        for (index, username) in ["cllr-north", "cllr-north", "cllr-south", "officer", "clerk-north", "clerk-north"].enumerated() {
            let replica = try SimulationTemplates.replica(environment: Self.deterministicEnvironment(seed: seed &* 31 &+ UInt64(index)))
            let deviceId = replica.newID()
            guard case .success(let login) = try await server.store.login(
                LoginRequest(username: username, password: DemoCouncil.password, deviceId: deviceId),
                token: "token-\(seed)-\(index)", now: Date())
            else { throw SimulationFailure(description: "login failed for \(username)") }
            try replica.bind(serverURL: "sim:", login: login)
            let transport = FaultyTransport(server: server, token: login.token, seed: seed &* 7 &+ UInt64(index))
            let device = SimulatedDevice(
                username: username, replica: replica, transport: transport,
                engine: SyncEngine(replica: replica, transport: transport, pullLimit: 40, pushBatch: pushBatch(seed &+ UInt64(index))))
            transport.setFaults(false)
            _ = try await device.engine.sync()
            transport.setFaults(true)
            devices.append(device)
        }

        var creations: [Creation] = []
        var writes: [FieldWrite] = []
        var wardsNorth = ["whitmere-ward", "brockton-ward"]
        var snapshots: [String] = []
        for step in 0..<steps {
            let device = devices[Int(random.next() % UInt64(devices.count))]
            switch random.next() % 100 {
            case 0..<60: try act(on: device, &random, &creations, &writes)
            case 60..<93: _ = try? await device.engine.sync()
            case 93..<95:
                // The operator moves cllr-north between one ward and two: their devices must follow.
                wardsNorth = wardsNorth.count == 2 ? ["whitmere-ward"] : ["whitmere-ward", "brockton-ward"]
                _ = try server.store.setRoles(
                    "cllr-north", role: .councillor, localities: wardsNorth, organisations: [], now: Date())
                totals.scopeChanges += 1
            case 95..<97:
                // A backup now, or the server restored from an earlier one (devices must heal it).
                if snapshots.isEmpty || random.next() % 2 == 0 {
                    let snapshot = directory.appendingPathComponent("snapshot-\(step).sqlite").path
                    try server.snapshot(to: snapshot)
                    snapshots.append(snapshot)
                } else {
                    let snapshot = snapshots[Int(random.next() % UInt64(snapshots.count))]
                    try server.restore(snapshot)
                    // Roles go back with it: the operator's view of cllr-north's wards is the snapshot's.
                    wardsNorth = try await server.store.database.read { db in
                        try String.fetchAll(
                            db,
                            sql: """
                                SELECT locality.slug FROM role_assignment JOIN locality ON locality.id = role_assignment.locality_id
                                WHERE person_id = ? ORDER BY locality.slug DESC
                                """, arguments: [DemoCouncil.personID("cllr-north").key])
                    }
                    totals.restores += 1
                }
            default:
                try server.restart()
                totals.restarts += 1
            }
        }

        // Quiescence: everyone syncs without faults until nothing is left to send or receive.
        for device in devices { device.transport.setFaults(false) }
        // Rounds until one sends and receives nothing (after a restore, a device's resent changes
        // reach the others a round later).
        for round in 0... {
            var moved = 0
            for device in devices {
                let summary = try await device.engine.sync()
                moved += summary.sent + summary.received
            }
            if moved == 0 && round >= 1 { break }
            guard round < 6 else { throw SimulationFailure(description: "still syncing changes after 6 quiet rounds") }
        }
        let (applied, rejected) = try await check(devices, server.store)
        try await checkEffects(creations, server.store)
        totals.conflicts = try await checkLastWriterWins(writes, server.store)
        totals.applied = applied
        totals.rejected = rejected
        totals.mutations = applied + rejected
        return totals
    }

    /// One random change a person might make, offline. Changes the rules refuse locally never
    /// enter the outbox, as for a real person.
    /// A record a mutation created: it must exist on the server exactly when that mutation was applied.
    struct Creation {
        var device: UUID
        var sequence: Int64
        var table: String
        var id: UUID
    }

    /// An edit of one field of a need: whichever such edit has the latest clock must be what stands.
    struct FieldWrite {
        var device: UUID
        var sequence: Int64
        var needId: UUID
        var field: String
        var value: JSONValue
        var hlc: HLCTimestamp
    }

    private func act(
        on device: SimulatedDevice, _ random: inout SeededGenerator, _ creations: inout [Creation], _ writes: inout [FieldWrite]
    ) throws {
        let replica = device.replica
        let places = ["brockton", "brockton-heath", "whitmere-town", "ashby-parva", "clunbury", "hopton-cross", "ledwyche-east"]
        let needs = try replica.needRecords()
        let proposals = try replica.proposalRecords()
        func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))] }
        do {
            switch (device.username, random.next() % 4) {
            case ("clerk-north", 0), ("clerk-north", 1):
                var draft = DraftProposal(
                    proposalId: replica.newID(), budgetId: UUID.stable("demo:budget:north-2026-27"),
                    organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
                    localityId: UUID.stable("demo:locality:whitmere-town"), title: "Proposal \(random.next() % 1000)",
                    amountRequested: Money(pence: Int64(1 + random.next() % 500_000)))
                draft.summary = "A summary"
                let receipt = try replica.perform(draft)
                creations.append(Creation(device: try replica.identity()!.deviceId, sequence: receipt.sequence, table: "proposal", id: draft.proposalId))
            case ("clerk-north", 2):
                if let proposal = pick(proposals) { try replica.perform(SubmitProposal(proposalId: proposal.id)) }
            case ("clerk-north", _):
                if let proposal = pick(proposals) { try replica.perform(WithdrawProposal(proposalId: proposal.id, reason: "sim")) }
            case (_, 0):
                guard let place = pick(places) else { return }
                var command = RecordNeed(needId: replica.newID(), localityId: UUID.stable("demo:locality:" + place), title: "Need \(random.next() % 1000)")
                command.holdsPersonalData = random.next() % 4 == 0
                let receipt = try replica.perform(command)
                creations.append(Creation(device: try replica.identity()!.deviceId, sequence: receipt.sequence, table: "need", id: command.needId))
            case (_, 1):
                // Settle an open conflict now and then, keeping what stands (writing nothing).
                if random.next() % 4 == 0, let conflict = pick(try replica.conflicts()) {
                    try replica.perform(ResolveConflict(conflictId: conflict.id, keep: .kept))
                    return
                }
                guard let need = pick(needs) else { return }
                // Few fields and few values, so devices often edit the same field concurrently.
                var update = UpdateNeed(needId: need.id)
                let value: JSONValue
                let field: String
                if random.next() % 2 == 0 {
                    field = "severity"
                    update.severity = Int(1 + random.next() % 5)
                    value = .object(["severity": .int(Int64(update.severity!))])
                } else {
                    field = "title"
                    update.title = "Title \(random.next() % 4)"
                    value = .object(["title": .string(update.title!)])
                }
                let receipt = try replica.perform(update)
                writes.append(
                    FieldWrite(
                        device: try replica.identity()!.deviceId, sequence: receipt.sequence, needId: need.id, field: field,
                        value: value, hlc: receipt.hlc))
            case (_, 2):
                guard let need = pick(needs) else { return }
                try replica.perform(CloseNeed(needId: need.id, reason: "sim"))
            default:
                guard let need = pick(needs) else { return }
                // Sorted: a Set's order changes from process to process, and the seed must decide everything.
                let moves = need.status.allowedNext.filter { $0 != .closed }.sorted { $0.rawValue < $1.rawValue }
                guard let next = pick(moves) else { return }
                try replica.perform(SetNeedStatus(needId: need.id, status: next))
            }
        } catch is LocalityError {
            // Refused on the device: nothing queued.
        }
    }

    private func check(_ devices: [SimulatedDevice], _ store: SQLiteSyncStore) async throws -> (Int, Int) {
        var appliedTotal = 0
        var rejectedTotal = 0
        for device in devices {
            let identity = try device.replica.identity()!
            let pending = try device.replica.outbox()
            guard pending.isEmpty else {
                throw SimulationFailure(description: "\(device.username) still has \(pending.count) unsent mutations")
            }
            let lastSequence = try device.replica.whoami().lastSequence
            let deviceRejected = try device.replica.rejectedMutations().count
            let (answered, highest, serverRejected, applied) = try await store.database.read { db in
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) AS answered, COALESCE(MAX(sequence), 0) AS highest,
                            SUM(outcome = 'rejected') AS rejected, SUM(outcome = 'applied') AS applied
                        FROM mutation_result WHERE device_id = ?
                        """, arguments: [identity.deviceId.key])!
                return (row["answered"] as Int, row["highest"] as Int64, (row["rejected"] as Int?) ?? 0, (row["applied"] as Int?) ?? 0)
            }
            // Every mutation answered exactly once: one result per sequence number, no gaps.
            guard answered == lastSequence, highest == lastSequence else {
                throw SimulationFailure(
                    description: "\(device.username): \(answered) results up to \(highest) for \(lastSequence) mutations")
            }
            // Every rejection is on the device that made it, with its reason.
            guard deviceRejected == serverRejected else {
                throw SimulationFailure(
                    description: "\(device.username): the server rejected \(serverRejected), the device shows \(deviceRejected)")
            }
            appliedTotal += applied
            rejectedTotal += serverRejected
            // The device's view equals the server's view of its scope.
            for table in ["need", "need_evidence", "proposal", "conflict"] {
                let local = try device.replica.read { db in try Self.rows(table, db) }
                let remote = try await store.database.read { db in
                    let actor = try Actor.load(db, personId: identity.personId)
                    return try Self.rows(table, db).filter { _, row in
                        (try? Visibility.canSee(table: table, row: row, by: actor, db)) ?? false
                    }
                }
                guard local == remote else {
                    let missing = Set(remote.keys).subtracting(local.keys).count
                    let extra = Set(local.keys).subtracting(remote.keys).count
                    let differing = Set(local.keys).intersection(remote.keys).filter { local[$0] != remote[$0] }
                    if ProcessInfo.processInfo.environment["LOCALITY_SIM_DEBUG"] != nil {
                        for key in Set(remote.keys).subtracting(local.keys) {
                            print("missing \(key): \(remote[key]!)")
                            try await store.database.read { db in
                                print("row_version", try Row.fetchAll(db, sql: "SELECT * FROM row_version WHERE row_key = ?", arguments: [key]))
                                print("head", try Int64.fetchOne(db, sql: "SELECT value FROM change_counter") ?? -1)
                            }
                        }
                        try device.replica.read { db in
                            print("device sync_state", try Row.fetchOne(db, sql: "SELECT * FROM sync_state") ?? "-")
                        }
                    }
                    throw SimulationFailure(
                        description: "\(device.username) \(table): \(missing) missing, \(extra) outside its scope or unknown to the server, \(differing.count) differ (\(differing.first.map { "\($0): \(local[$0]!) vs \(remote[$0]!)" } ?? ""))")
                }
            }
        }
        return (appliedTotal, rejectedTotal)
    }

    /// Applied exactly once or rejected: what a creation made exists on the server iff it was applied.
    private func checkEffects(_ creations: [Creation], _ store: SQLiteSyncStore) async throws {
        try await store.database.read { db in
            for creation in creations {
                let outcome = try String.fetchOne(
                    db, sql: "SELECT outcome FROM mutation_result WHERE device_id = ? AND sequence = ?",
                    arguments: [creation.device.key, creation.sequence])
                let exists = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM \(creation.table) WHERE id = ?", arguments: [creation.id.key]) ?? false
                guard (outcome == "applied") == exists else {
                    throw SimulationFailure(
                        description: "\(creation.table) \(creation.id.key) from mutation #\(creation.sequence) was \(outcome ?? "never answered") but \(exists ? "exists" : "does not exist") on the server")
                }
            }
        }
    }

    /// Concurrent edits of a field end the same whatever order they arrived in: the applied edit
    /// with the latest hybrid logical clock stands. Returns how many conflicts were kept.
    private func checkLastWriterWins(_ writes: [FieldWrite], _ store: SQLiteSyncStore) async throws -> Int {
        try await store.database.read { db in
            var latest: [String: FieldWrite] = [:]
            for write in writes {
                let outcome = try String.fetchOne(
                    db, sql: "SELECT outcome FROM mutation_result WHERE device_id = ? AND sequence = ?",
                    arguments: [write.device.key, write.sequence])
                guard outcome == "applied" else { continue }
                let key = "\(write.needId.key)/\(write.field)"
                if latest[key].map({ $0.hlc < write.hlc }) ?? true { latest[key] = write }
            }
            for (_, write) in latest {
                guard let need = try Need.find(db, id: write.needId) else {
                    throw SimulationFailure(description: "need \(write.needId.key) was edited but is not on the server")
                }
                guard need.fragment(write.field) == write.value else {
                    if ProcessInfo.processInfo.environment["LOCALITY_SIM_DEBUG"] != nil {
                        for other in writes where other.needId == write.needId && other.field == write.field {
                            let outcome = try String.fetchOne(
                                db, sql: "SELECT outcome FROM mutation_result WHERE device_id = ? AND sequence = ?",
                                arguments: [other.device.key, other.sequence])
                            print("write \(other.hlc) dev \(other.device.key.suffix(4)) #\(other.sequence) \(other.value.jsonText) \(outcome ?? "-")")
                        }
                        for row in try Row.fetchAll(db, sql: "SELECT * FROM conflict WHERE record_id = ?", arguments: [write.needId.key]) {
                            print("conflict \(row)")
                        }
                        print("clocks", try String.fetchOne(db, sql: "SELECT field_clocks FROM need WHERE id = ?", arguments: [write.needId.key]) ?? "")
                    }
                    throw SimulationFailure(
                        description: "need \(write.needId.key) \(write.field) is \(need.fragment(write.field).jsonText), but the latest edit (\(write.hlc)) set \(write.value.jsonText)")
                }
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conflict") ?? 0
        }
    }

    static func rows(_ table: String, _ db: Database) throws -> [String: [String: JSONValue]] {
        var result: [String: [String: JSONValue]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") {
            var json: [String: JSONValue] = [:]
            for (column, value) in row {
                switch value.storage {
                case .null: json[column] = .null
                case .int64(let int): json[column] = .int(int)
                case .double(let double): json[column] = .double(double)
                case .string(let string): json[column] = .string(string)
                case .blob(let data): json[column] = .string(data.base64EncodedString())
                }
            }
            let key = table == "need_evidence" ? "\(row["need_id"] as String):\(row["id"] as String)" : row["id"] as String
            result[key] = json
        }
        return result
    }

    /// Ids from the seed; a clock that starts at the beginning of today (UTC) and ticks a
    /// millisecond per reading — the same on every run of a day, and within the server's bounds
    /// on a change's date (never before the device was registered, never months behind).
    static func deterministicEnvironment(seed: UInt64) -> ReplicaEnvironment {
        let today = Timestamps.milliseconds(Date()) / 86_400_000 * 86_400_000
        let state = Mutex((millis: today, generator: SeededGenerator(seed: seed)))
        return ReplicaEnvironment(
            now: {
                state.withLock { value in
                    value.millis += 1
                    return Date(milliseconds: value.millis)
                }
            },
            newID: { date in state.withLock { UUID.v7(at: date, using: &$0.generator) } })
    }
}
