import Foundation
import GRDB
import LocalityCore

/// An operator's change to the council — setting it up, its places, organisations, accounts and
/// devices — as one value holding every input its application reads besides the state: the
/// file's text rather than its path, the seed its ids come from, an activation code's hash (never
/// the code). Both stores apply it through `SQLiteSyncStore.administer`, the single place each
/// command meets the rules; the PostgreSQL store also appends it to the log, so every server
/// process replays it to the same state.
public enum AdminCommand: Codable, Sendable {
    case initialiseCouncil(name: String, orgId: String?, gss: String)
    case importLocalities(text: String, districts: [String], today: String)
    case assignAreas(text: String)
    case addOrganisation(NewOrganisation)
    case importOrganisations(text: String)
    case addAccount(NewAccount)
    case addAccountsForActivation(accounts: [AccountLine], days: Int, codeHashes: [String])
    case issueActivation(username: String, days: Int, codeHash: String)
    case setRoles(username: String, role: Role, localities: [String], organisations: [String])
    case disableAccount(username: String, from: Date?)
    case revokeDevice(reference: String)
    case importBallots(pabulib: String, vote: String, source: String)
    case setGrantPrefix(String)
    case setOcidPrefix(String)

    /// How the log names it.
    public var name: String {
        switch self {
        case .initialiseCouncil: "council.init"
        case .importLocalities: "localities.import"
        case .assignAreas: "localities.areas"
        case .addOrganisation: "org.add"
        case .importOrganisations: "org.import"
        case .addAccount: "user.add"
        case .addAccountsForActivation: "user.import"
        case .issueActivation: "user.activation"
        case .setRoles: "user.setRoles"
        case .disableAccount: "user.disable"
        case .revokeDevice: "device.revoke"
        case .importBallots: "pb.import"
        case .setGrantPrefix: "publish.360givingPrefix"
        case .setOcidPrefix: "publish.ocidPrefix"
        }
    }
}

/// A count of ballots imported, as `pb import` answers.
public struct ImportedBallots: Codable, Sendable {
    public var imported: Int
}

/// What `localities areas` answers.
public struct AssignedAreas: Codable, Sendable {
    public var areas: [String]
    public var wardsMoved: Int
    public init(areas: [String], wardsMoved: Int) {
        self.areas = areas
        self.wardsMoved = wardsMoved
    }
}

extension SQLiteSyncStore {
    /// Applies an operator's command at `now`, its ids drawn from `seed`; answers the command's
    /// result as JSON (sorted keys, so a replay's answer can be compared byte for byte). A refused
    /// command changes nothing.
    public func administer(_ command: AdminCommand, now: Date, seed: UInt64) throws -> String {
        func json(_ value: some Encodable) throws -> String { String(decoding: try JSONCoding.encode(value, sortedKeys: true), as: UTF8.self) }
        switch command {
        case .initialiseCouncil(let name, let orgId, let gss):
            return try json(try initialiseCouncil(name: name, orgId: orgId, gss: gss, now: now))
        case .importLocalities(let text, let districts, let today):
            return try json(try importLocalities(text, districts: Set(districts), dryRun: false, today: today))
        case .assignAreas(let text):
            let result = try assignAreas(text, dryRun: false)
            return try json(AssignedAreas(areas: result.areas, wardsMoved: result.wardsMoved))
        case .addOrganisation(let organisation):
            return try json(try addOrganisation(organisation))
        case .importOrganisations(let text):
            return try json(try importOrganisations(text, dryRun: false))
        case .addAccount(let account):
            return try json(try addAccount(account, now: now, seed: seed))
        case .addAccountsForActivation(let accounts, let days, let codeHashes):
            return try json(try addAccountsForActivation(accounts, days: days, codeHashes: codeHashes, now: now, dryRun: false, seed: seed))
        case .issueActivation(let username, let days, let codeHash):
            return try json(try issueActivation(for: username, days: days, codeHash: codeHash, now: now))
        case .setRoles(let username, let role, let localities, let organisations):
            return try json(try setRoles(username, role: role, localities: localities, organisations: organisations, now: now, seed: seed))
        case .disableAccount(let username, let from):
            try disableAccount(username, from: from, now: now)
            return try json(["disabled": username])
        case .revokeDevice(let reference):
            return try json(try revokeDevice(reference, now: now))
        case .importBallots(let text, let vote, let source):
            return try json(ImportedBallots(imported: try importBallots(text, into: vote, source: source, now: now)))
        case .setGrantPrefix(let prefix):
            try rememberGrantPrefix(prefix)
            return try json(["prefix": prefix])
        case .setOcidPrefix(let prefix):
            _ = try contractingPublisher(prefix: prefix)
            return try json(["prefix": prefix])
        }
    }

    /// Adds a Pabulib file's ballots to an open vote, as the council's operator: all, or none.
    public func importBallots(_ text: String, into voteReference: String, source: String, now: Date) throws -> Int {
        let instance: PBInstance
        do { instance = try Pabulib.parse(text) } catch let error as PabulibError {
            throw LocalityError.invalidInput("\(source): \(error.description)")
        }
        return try database.write { db in
            let vote = try References.vote(voteReference, db)
            let operatorId = try String.fetchOne(
                db, sql: "SELECT person_id FROM role_assignment WHERE role IN ('operator', 'officer') ORDER BY role DESC, person_id LIMIT 1")
                .flatMap(UUID.init(key:)) ?? vote.createdBy
            return try Pabulib.importBallots(instance, into: vote.id, source: source, importedBy: operatorId, at: now, db)
        }
    }
}
