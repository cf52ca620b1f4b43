import Foundation
import LocalityCore
import LocalitySyncServer
import Testing

@Suite("Operator commands act at once")
struct OperatorTests {
    private func store() throws -> SQLiteSyncStore {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store
    }

    private func login(_ store: SQLiteSyncStore, _ username: String, password: String = DemoCouncil.password) async throws -> (String, UUID)? {
        let device = UUID()
        let token = UUID().uuidString
        guard case .success = try await store.login(
            LoginRequest(username: username, password: password, deviceId: device), token: token, now: Date())
        else { return nil }
        return (token, device)
    }

    @Test func disablingAnAccountStopsItsTokensAndLogins() async throws {
        let store = try store()
        let (token, _) = try #require(try await login(store, "clerk-south"))
        #expect(try await store.authenticate(token: token, now: Date()) != nil)
        try store.disableAccount("clerk-south", now: Date())
        #expect(try await store.authenticate(token: token, now: Date()) == nil)
        #expect(try await login(store, "clerk-south") == nil)
        #expect(throws: LocalityError.self) { try store.disableAccount("nobody", now: Date()) }
    }

    @Test func revokingADeviceStopsItsTokenAndItCannotLogInAgain() async throws {
        let store = try store()
        let (token, device) = try #require(try await login(store, "officer"))
        let (otherToken, _) = try #require(try await login(store, "officer"))
        _ = try store.revokeDevice(device.key, now: Date())
        #expect(try await store.authenticate(token: token, now: Date()) == nil)
        #expect(try await store.authenticate(token: otherToken, now: Date()) != nil, "only that device is revoked")
        await #expect(throws: LocalityError.self) {
            _ = try await store.login(
                LoginRequest(username: "officer", password: DemoCouncil.password, deviceId: device), token: "again", now: Date())
        }
        #expect(try store.devices().first { $0.id == device }?.revoked == true)
    }

    @Test func anAddedAccountCanLogInAndReachesDevicesAsAChange() async throws {
        let store = try store()
        let (officerToken, _) = try #require(try await login(store, "officer"))
        let officer = try #require(try await store.authenticate(token: officerToken, now: Date()))
        let before = try await store.pull(after: 0, limit: 1000, for: officer).cursor

        let account = try store.addAccount(
            NewAccount(
                username: "cllr-east", displayName: "Cllr Sam Lee", role: .councillor, localities: ["E05900004"],
                organisations: [], passwordHash: Passwords.hash("a long password", cost: 4)), now: Date())
        #expect(account.roles == ["councillor for Ledwyche Ward"])
        #expect(try await login(store, "cllr-east", password: "a long password") != nil)
        let changes = try await store.pull(after: before, limit: 1000, for: officer).changes
        #expect(changes.contains { $0.table == "person" && $0.row?["username"] == .string("cllr-east") })
        #expect(changes.contains { $0.table == "role_assignment" })

        #expect(throws: LocalityError.self) {
            try store.addAccount(
                NewAccount(username: "cllr-east", displayName: "", role: .officer, localities: [], organisations: [], passwordHash: "x"),
                now: Date())
        }
        #expect(throws: LocalityError.self) {
            try store.addAccount(
                NewAccount(username: "ward-less", displayName: "", role: .councillor, localities: [], organisations: [], passwordHash: "x"),
                now: Date())
        }
        // A resident is tied to the one place they live.
        let resident = try store.addAccount(
            NewAccount(
                username: "res-clunbury", displayName: "Alex Moss", role: .resident, localities: ["clunbury"], organisations: [],
                passwordHash: "x"), now: Date())
        #expect(resident.roles == ["resident of Clunbury"])
        #expect(throws: LocalityError.self) {
            try store.addAccount(
                NewAccount(username: "homeless", displayName: "", role: .resident, localities: [], organisations: [], passwordHash: "x"),
                now: Date())
        }
    }
}
