import Foundation
import LocalityCore
import LocalitySyncServer
import Testing

/// Calls the store directly, as the HTTP layer would after authenticating the token.
struct StoreTransport: SyncTransport {
    let store: any SyncStore
    let token: String

    func session() async throws -> Session {
        guard let session = try await store.authenticate(token: token, now: Date()) else {
            throw LocalityError(.unauthenticated, "bad token")
        }
        return session
    }

    func push(_ request: PushRequest) async throws -> PushResponse {
        try await store.push(request, from: try await session(), now: Date())
    }

    func pull(cursor: Int64, limit: Int) async throws -> PullResponse {
        try await store.pull(after: cursor, limit: limit, for: try await session())
    }
}

/// A device logged in to the store, with an empty replica until it syncs.
struct SyncedDevice {
    let replica: Replica
    let engine: SyncEngine
    let token: String

    init(_ username: String, store: any SyncStore, pullLimit: Int = 50, environment: ReplicaEnvironment = .live,
         transport: ((String) -> any SyncTransport)? = nil) async throws {
        replica = try Replica.inMemory(environment: environment)
        let deviceId = replica.newID()
        token = UUID().uuidString
        let outcome = try await store.login(
            LoginRequest(username: username, password: DemoCouncil.password, deviceId: deviceId), token: token,
            now: Date())
        guard case .success(let login) = outcome else { throw LocalityError(.unauthenticated, "login failed") }
        try replica.bind(serverURL: "memory:", login: login)
        engine = SyncEngine(
            replica: replica, transport: transport?(login.token) ?? StoreTransport(store: store, token: login.token), pullLimit: pullLimit)
    }

    @discardableResult
    func sync() async throws -> SyncSummary { try await engine.sync() }

    func needTitles() throws -> Set<String> { Set(try replica.needs().map(\.need.title)) }

    @discardableResult
    func recordNeed(in slug: String, title: String) throws -> UUID {
        let id = replica.newID()
        try replica.perform(RecordNeed(needId: id, localityId: UUID.stable("demo:locality:" + slug), title: title))
        return id
    }
}

@Suite("Device sync against the server's store")
struct SyncEngineTests {
    private func store() throws -> SQLiteSyncStore {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store
    }

    @Test(arguments: TestStores.kinds) func aNeedRecordedOfflineReachesEveryoneEntitledToIt(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        let councillor = try await SyncedDevice("cllr-north", store: store)
        try await councillor.sync()
        #expect(try councillor.replica.whoami().username == "cllr-north")
        #expect(try councillor.replica.localityTree().count == DemoCouncil.localities.count)

        try councillor.recordNeed(in: "brockton", title: "Ford floods every winter")
        let summary = try await councillor.sync()
        #expect(summary.sent == 1 && summary.accepted == 1 && summary.rejected.isEmpty)
        #expect(try councillor.replica.outbox().isEmpty)
        #expect(try councillor.needTitles().contains("Ford floods every winter"))

        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        #expect(try officer.needTitles().contains("Ford floods every winter"))
    }

    @Test func aRejectedChangeLeavesTheDeviceAndIsShownWithItsReason() async throws {
        let store = try store()
        let councillor = try await SyncedDevice("cllr-north", store: store)
        try await councillor.sync()
        try councillor.recordNeed(in: "brockton", title: "Kept")
        // The server removes cllr-north's Brockton ward before the device syncs.
        try await store.database.write { db in
            try db.execute(
                sql: "DELETE FROM role_assignment WHERE person_id = ? AND locality_id = ?",
                arguments: [DemoCouncil.personID("cllr-north").key, UUID.stable("demo:locality:brockton-ward").key])
        }
        let summary = try await councillor.sync()
        #expect(summary.rejected.count == 1)
        #expect(summary.rejected.first?.code == "forbidden")
        #expect(summary.rejected.first?.summary == "Kept")
        #expect(!(try councillor.needTitles().contains("Kept")))
        #expect(try councillor.replica.rejectedMutations().first?.message.contains("outside your wards") == true)
        #expect(try councillor.replica.outbox().isEmpty)
    }

    @Test(arguments: TestStores.kinds) func pendingWorkStaysVisibleOnTopOfWhatArrives(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        let north = try await SyncedDevice("cllr-north", store: store)
        let officer = try await SyncedDevice("officer", store: store)
        try await north.sync()
        try await officer.sync()
        try officer.recordNeed(in: "whitmere-town", title: "From the officer")
        try await officer.sync()

        // North records offline, then pulls before pushing (as when a push failed part-way).
        try north.recordNeed(in: "ashby-parva", title: "Not yet sent")
        let pending = try north.replica.outbox()
        let summary = try await north.engine.pullOnly()
        #expect(summary.received > 0)
        #expect(try north.needTitles().isSuperset(of: ["From the officer", "Not yet sent"]))
        #expect(try north.replica.outbox() == pending)
        // And it still goes through afterwards.
        try await north.sync()
        #expect(try north.replica.outbox().isEmpty)
        #expect(try north.needTitles().isSuperset(of: ["From the officer", "Not yet sent"]))
    }

    @Test(arguments: TestStores.kinds) func aLostResponseIsHarmless(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        let device = try await SyncedDevice("cllr-south", store: store)
        try await device.sync()
        try device.recordNeed(in: "clunbury", title: "Once only")
        // The push reaches the server but the answer never comes back.
        let outbox = try device.replica.outbox()
        let deviceId = try device.replica.whoami().deviceId
        _ = try await device.engine.transport.push(PushRequest(deviceId: deviceId, mutations: outbox))
        let summary = try await device.sync()
        #expect(summary.accepted == 1)
        let count = try await TestStores.state(store).database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM need WHERE title = 'Once only'")
        }
        #expect(count == 1)
        #expect(try device.needTitles().filter { $0 == "Once only" }.count == 1)
    }
}

@Suite("Rebase across small pages")
struct SmallPageTests {
    @Test(arguments: TestStores.kinds) func appliedChangesTheFirstPagesDoNotYetIncludeStayVisible(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        // One row per page: after the push, the first pages hold older changes, so the applied
        // mutations wait in the outbox and are re-applied on top of each page.
        let device = try await SyncedDevice("cllr-north", store: store, pullLimit: 1)
        try await device.sync()
        for index in 0..<3 { try device.recordNeed(in: "brockton", title: "Small page \(index)") }
        let summary = try await device.sync()
        #expect(summary.accepted == 3)
        #expect(summary.pages >= 2, "the applied mutations must outlive a page")
        #expect(try device.needTitles().isSuperset(of: ["Small page 0", "Small page 1", "Small page 2"]))
        #expect(try device.replica.outbox().isEmpty)
    }
}
