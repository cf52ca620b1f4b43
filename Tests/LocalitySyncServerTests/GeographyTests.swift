import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// ONS's lookups as copied (with their attribution) into `Fixtures/ons`.
enum ONSFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ons")
    static func text(_ name: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }
    static var shropshire: String { get throws { try text("PAR19_WD19_LAD19_Shropshire.csv") } }
    static var kentParishes: String { get throws { try text("PAR19_WD19_LAD19_Kent.csv") } }
    static var kentDivisions: String { get throws { try text("WD19_LAD19_CTY19_CED19_Kent.csv") } }
}

@Suite("A real council's places from ONS's lookups")
struct GeographyTests {
    /// An empty server with Shropshire set up from its real wards and parishes.
    private func shropshire() throws -> SQLiteSyncStore {
        let store = try SQLiteSyncStore.inMemory()
        _ = try store.initialiseCouncil(name: "Shropshire Council", orgId: "GB-LAE-SHR", gss: "E06000051", now: Date())
        _ = try store.importLocalities(try ONSFixtures.shropshire, districts: [], dryRun: false, today: "2026-11-30")
        return store
    }

    @Test func theReaderTakesShropshiresRealRows() throws {
        let lookup = try ONSParishLookup.parse(try ONSFixtures.shropshire)
        #expect(lookup.year == 2019 && lookup.rows.count == 228)
        #expect(Set(lookup.rows.map(\.wardCode)).count == 63 && Set(lookup.rows.map(\.parishCode)).count == 201)
        #expect(lookup.rows.contains { $0.wardName == "Bayston Hill, Column and Sutton" })
        let store = try shropshire()
        let council = try #require(try store.council())
        #expect(council.wards == 63 && council.parishes == 201 && council.orgId == "GB-LAE-SHR")
        // Shrewsbury is one place in sixteen wards.
        let shrewsbury = try #require(try store.database.read { try Locality.fetchOne($0, sql: "SELECT * FROM locality WHERE gss_code = 'E04011358'") })
        #expect(shrewsbury.alsoWithinIds.count == 15 && shrewsbury.kind == .parish)
        #expect(try store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality WHERE name = 'Shrewsbury'") } == 1)
        let wards = try store.database.read { db in try Locality.ancestorIDs(of: shrewsbury.id, in: db) }
        #expect(wards.count == 1 + 16 + 1)  // itself, its sixteen wards, the council
    }

    @Test func filesAsTheyReallyComeAreRead() throws {
        // A later year, a byte order mark, extra columns in another order, CRLF, quoted names with commas and quotes.
        let text = "\u{FEFF}ObjectId,PAR23CD,PAR23NM,PAR23NMW,WD23CD,WD23NM,LAD23CD,LAD23NM\r\n"
            + "1,E04000001,\"Upton, Magna and \"\"Withington\"\"\",,E05000001,North Ward,E06000099,Testshire\r\n"
            + "2,E04000002,St Martin's,,E05000001,North Ward,E06000099,Testshire\r\n"
            + "3,E04000002,St Martin's,,E05000002,South Ward,E06000099,Testshire\r\n\r\n"
        let lookup = try ONSParishLookup.parse(text)
        #expect(lookup.year == 2023 && lookup.rows.count == 3)
        #expect(lookup.rows[0].parishName == "Upton, Magna and \"Withington\"")
    }

    @Test(arguments: [
        ("FID,PARCD,PARNM,WDCD,WDNM\n", "no PARyyCD column"),
        ("FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E04000001,A,E05000001,W,E06000099\n", "line 2: 6 fields where the header has 7"),
        ("FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E04000001,A,E05000001,W,E06000099,T\n2,E04000001,B,E05000001,W,E06000099,T\n",
         "line 3: E04000001 is 'B' here but 'A' on line 2"),
        ("FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E05000001,A,E05000001,W,E06000099,T\n", "line 2: 'E05000001' is not a parish code"),
        ("FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E04000001,\"A,E05000001,W,E06000099,T\n", "never closed"),
        ("FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E04000001,A\u{1B}[2J,E05000001,W,E06000099,T\n", "line 2: a control character"),
        ("FID,PAR19CD,PAR23NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n", "different years"),
        ("", "empty"),
    ])
    func hostileFilesAreRefusedWithTheirLineAndChangeNothing(text: String, expected: String) throws {
        let store = try SQLiteSyncStore.inMemory()
        _ = try store.initialiseCouncil(name: "Testshire", orgId: nil, gss: "E06000099", now: Date())
        do {
            _ = try store.importLocalities(text, districts: [], dryRun: false, today: "2026-11-30")
            Issue.record("a hostile file was imported")
        } catch let error as LocalityError {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.contains("nothing was imported"))
        }
        #expect(try store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality") } == 1)
    }

    @Test func aCouncilIsSetUpOnceAndImportsOnlyItsOwnDistricts() throws {
        let store = try shropshire()
        #expect(throws: LocalityError.self) { try store.initialiseCouncil(name: "Again", orgId: nil, gss: "E06000051", now: Date()) }
        let other = try SQLiteSyncStore.inMemory()
        #expect(throws: LocalityError.self) { try other.initialiseCouncil(name: "Nowhere", orgId: nil, gss: "E05000001", now: Date()) }
        #expect(throws: LocalityError.self) { try other.initialiseCouncil(name: "Bad org", orgId: "shropshire", gss: "E06000051", now: Date()) }
        _ = try other.initialiseCouncil(name: "Telford & Wrekin", orgId: nil, gss: "E06000020", now: Date())
        do {
            _ = try other.importLocalities(try ONSFixtures.shropshire, districts: [], dryRun: false, today: "2026-11-30")
            Issue.record("another council's wards were imported")
        } catch let error as LocalityError {
            #expect(error.message.contains("give --lad E06000020"))
        }
    }

    /// A boundary review: a ward and its parish renamed, a ward gone, a new one. The difference is
    /// shown first; retired places are kept and take no new needs; nothing is deleted.
    @Test func aBoundaryReviewIsShownThenAppliedKeepingHistory() async throws {
        let store = try shropshire()
        let councillor = try store.addAccount(
            NewAccount(
                username: "cllr-abbey", displayName: "", role: .councillor, localities: ["E05008136"], organisations: [],
                passwordHash: Passwords.hash(DemoCouncil.password, cost: 4)), now: Date())
        _ = councillor
        // (ONS's files end their lines with CRLF, one Character in Swift: split on newlines, not on "\n".)
        var lines = try ONSFixtures.shropshire.split(separator: /\R/).map(String.init)
        let header = lines.removeFirst()
        // Abbey (E05008136) disappears; its rows go to a new ward E05099999 "Abbey and Belle Vue"; Barrow is renamed.
        lines = lines.map { $0.replacingOccurrences(of: "E05008136,Abbey", with: "E05099999,Abbey and Belle Vue") }
            .map { $0.replacingOccurrences(of: "E04011214,Barrow", with: "E04011214,Barrow and Posenhall") }
            .map { $0.replacingOccurrences(of: "PAR19", with: "PAR23").replacingOccurrences(of: "WD19", with: "WD23") }
        let newer = ([header.replacingOccurrences(of: "19", with: "23")] + lines).joined(separator: "\n")

        let before = try await store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality") }
        let dry = try store.importLocalities(newer, districts: [], dryRun: true, today: "2027-05-01")
        #expect(dry.year == 2023)
        #expect(dry.added.map(\.code) == ["E05099999"])
        #expect(dry.retired.map(\.code) == ["E05008136"])
        #expect(dry.renamed.map(\.to) == ["Barrow and Posenhall"])
        #expect(dry.moved.contains { $0.name == "Shrewsbury" })
        #expect(try await store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality") } == before)
        #expect(try await store.database.read { try Locality.fetchOne($0, sql: "SELECT * FROM locality WHERE gss_code = 'E05008136'") }?.retiredOn == nil)

        let applied = try store.importLocalities(newer, districts: [], dryRun: false, today: "2027-05-01")
        #expect(applied.retired.count == 1 && applied.added.count == 1)
        let abbey = try #require(try await store.database.read { try Locality.fetchOne($0, sql: "SELECT * FROM locality WHERE gss_code = 'E05008136'") })
        #expect(abbey.retiredOn == "2027-05-01" && abbey.name == "Abbey")
        let barrow = try #require(try await store.database.read { try Locality.fetchOne($0, sql: "SELECT * FROM locality WHERE gss_code = 'E04011214'") })
        let former = try JSONParser.parse(Array(barrow.formerNames.utf8))
        #expect(barrow.name == "Barrow and Posenhall" && former == .array([.string("Barrow")]))
        #expect(try await store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality") } == before! + 1)
        // No new need in a retired place.
        let device = try await SyncedDevice("cllr-abbey", store: store)
        try await device.sync()
        refused(.invalidTransition, containing: "retired by a boundary review") {
            try device.replica.perform(RecordNeed(needId: device.replica.newID(), localityId: abbey.id, title: "Too late"))
        }
        // Importing the same file again changes nothing.
        let again = try store.importLocalities(newer, districts: [], dryRun: false, today: "2027-05-02")
        #expect(again.isEmpty)
    }

    /// Shrewsbury lies in sixteen wards: every one of their councillors sees it and may record
    /// needs in it; a councillor of a ward it does not touch does neither.
    @Test func aParishInSeveralWardsIsSeenFromEachOfThemAndNoOther() async throws {
        let store = try shropshire()
        for (username, ward) in [("cllr-copthorne", "E05008157"), ("cllr-abbey", "E05008136"), ("cllr-wenlock", "E05008174")] {
            _ = try store.addAccount(
                NewAccount(
                    username: username, displayName: "", role: .councillor, localities: [ward], organisations: [],
                    passwordHash: Passwords.hash(DemoCouncil.password, cost: 4)), now: Date())
        }
        let shrewsbury = CouncilGeography.id(gss: "E04011358")
        let copthorne = try await SyncedDevice("cllr-copthorne", store: store)
        let abbey = try await SyncedDevice("cllr-abbey", store: store)
        let wenlock = try await SyncedDevice("cllr-wenlock", store: store)
        for device in [copthorne, abbey, wenlock] { try await device.sync() }
        try copthorne.replica.perform(RecordNeed(needId: copthorne.replica.newID(), localityId: shrewsbury, title: "Riverside path floods"))
        try await copthorne.sync()
        try abbey.replica.perform(RecordNeed(needId: abbey.replica.newID(), localityId: shrewsbury, title: "Abbey Foregate parking"))
        try await abbey.sync()
        try await copthorne.sync()
        try await wenlock.sync()
        #expect(try copthorne.needTitles() == ["Riverside path floods", "Abbey Foregate parking"])
        #expect(try abbey.needTitles() == ["Riverside path floods", "Abbey Foregate parking"])
        #expect(try wenlock.needTitles().isEmpty)
        refused(.forbidden, containing: "outside your wards") {
            try wenlock.replica.perform(RecordNeed(needId: wenlock.replica.newID(), localityId: shrewsbury, title: "Not mine"))
        }
    }

    /// Kent is a county: districts beneath it, their wards, their parishes.
    @Test func aTwoTierCountyHasItsDistrictsBeneathIt() throws {
        let store = try SQLiteSyncStore.inMemory()
        _ = try store.initialiseCouncil(name: "Kent County Council", orgId: "GB-LAE-KEN", gss: "E10000016", now: Date())
        let text = try ONSFixtures.kentParishes
        let changes = try store.importLocalities(text, districts: [], dryRun: false, today: "2026-11-30")
        let lookup = try ONSParishLookup.parse(text)
        #expect(changes.added.filter { $0.kind == "district" }.count == 12)
        #expect(changes.added.filter { $0.kind == "ward" }.count == Set(lookup.rows.map(\.wardCode)).count)
        let ward = try #require(lookup.rows.first)
        let ancestry = try store.database.read { db in try Locality.ancestorIDs(of: CouncilGeography.id(gss: ward.parishCode), in: db) }
        #expect(ancestry.contains(CouncilGeography.id(gss: ward.districtCode)) && ancestry.contains(CouncilGeography.id(gss: "E10000016")))
        // One district's file retires nothing in the others.
        let one = try store.importLocalities(text, districts: [ward.districtCode], dryRun: true, today: "2026-12-01")
        #expect(one.retired.isEmpty)
    }

    @Test func wardsAreGroupedIntoTheCouncilsOwnAreas() throws {
        let store = try shropshire()
        let file = "ward code,area name\nE05008157,Shrewsbury Area\nE05008136,Shrewsbury Area\nE05008174,\"South, East Area\"\n"
        let dry = try store.assignAreas(file, dryRun: true)
        #expect(dry.areas == ["Shrewsbury Area", "South, East Area"])
        #expect(try store.council()?.areas == 0)
        let result = try store.assignAreas(file, dryRun: false)
        let areas = try store.council()?.areas
        #expect(result.wardsMoved == 3 && areas == 2)
        let copthorne = try #require(try store.database.read { try Locality.fetchOne($0, sql: "SELECT * FROM locality WHERE gss_code = 'E05008157'") })
        let area = try #require(try store.database.read { db in try Locality.find(db, id: copthorne.parentId!) })
        #expect(area.kind == .area && area.name == "Shrewsbury Area" && area.slug == "shrewsbury-area")
        #expect(throws: LocalityError.self) { try store.assignAreas("E05000000,Nowhere\n", dryRun: false) }
        // A re-import keeps wards in their areas.
        let again = try store.importLocalities(try ONSFixtures.shropshire, districts: [], dryRun: false, today: "2026-12-01")
        #expect(again.isEmpty)
    }

    @Test(arguments: [
        ("GB-CHC-1090095", "GB-CHC-1090095"), ("gb-chc-1090095-1", "GB-CHC-1090095-1"), ("GB-COH-09506232", "GB-COH-09506232"),
        ("GB-COH-SC123456", "GB-COH-SC123456"), ("GB-SC-SC042386", "GB-SC-SC042386"), ("GB-MPR-IP031455", "GB-MPR-IP031455"),
        ("GB-LAE-SHR", "GB-LAE-SHR"), ("GB-NIC-100019", "GB-NIC-100019"),
    ])
    func orgIdsFromTheRegistersAreAccepted(text: String, written: String) throws {
        #expect(try OrgID.validate(text) == written)
    }

    @Test(arguments: [
        ("GB-COH-123", "8 characters"), ("GB-COH-0950623X", "8 characters"), ("GB-CHC-12AB34", "6 to 8 digits"), ("GB-SC-042386", "SC and six digits"),
        ("GB-XYZ-1", "not one of the UK registers"), ("1090095", "not one of the UK registers"), ("GB-LAE-Shropshire", "three-letter"),
    ])
    func orgIdsAreCheckedAgainstTheirRegistersFormat(text: String, expected: String) {
        #expect(throws: LocalityError.self) { try OrgID.validate(text) }
        do { _ = try OrgID.validate(text) } catch { #expect(error.message.contains(expected), "\(error.message)") }
    }

    @Test func organisationsComeFromAFileWhollyOrNotAtAll() throws {
        let store = try shropshire()
        let good = "name,kind,org-id,localities\n\"Ludlow Food Bank\",charity,GB-CHC-1090095,ludlow\nMarches Transport,mutual,GB-MPR-IP031455,\"ludlow;much-wenlock\"\n"
        let checked = try store.importOrganisations(good, dryRun: true)
        #expect(checked.count == 2)
        #expect(try store.database.read { try Organisation.fetchCount($0) } == 0)
        let added = try store.importOrganisations(good, dryRun: false)
        #expect(added.map(\.localities) == [["Ludlow"], ["Ludlow", "Much Wenlock"]])
        // A second file with one bad row adds nothing, not even its good rows.
        let bad = "name,kind,org-id,localities\nNew Group,community-group,,shrewsbury\nCopycat,charity,GB-CHC-1090095,\n"
        #expect(throws: LocalityError.self) { try store.importOrganisations(bad, dryRun: false) }
        do { _ = try store.importOrganisations(bad, dryRun: false) } catch let error as LocalityError {
            #expect(error.message.contains("line 3") && error.message.contains("already Ludlow Food Bank's org-id"))
        }
        #expect(try store.database.read { try Organisation.fetchCount($0) } == 2)
        for (row, problem) in [("Group,club,,", "not a kind of organisation"), ("Group,charity,,atlantis", "no locality 'atlantis'"), (",charity,,", "needs a name")] {
            do {
                _ = try store.importOrganisations("name,kind,org-id,localities\n" + row + "\n", dryRun: false)
                Issue.record("\(row) was added")
            } catch let error as LocalityError {
                #expect(error.message.contains("line 2") && error.message.contains(problem), "\(error.message)")
            }
        }
    }

    /// An operator never makes up a password: each imported account has a code that works once,
    /// until it expires, for the person to choose their own.
    @Test func activationCodesWorkOnceAndExpire() async throws {
        let store = try shropshire()
        let people = [
            (Int?.some(2), NewAccount(username: "cllr-ludlow", displayName: "Cllr Ann Ludlow", role: .councillor, localities: ["E05008160"], organisations: [], passwordHash: "")),
            (Int?.some(3), NewAccount(username: "cllr-abbey", displayName: "", role: .councillor, localities: ["E05008136"], organisations: [], passwordHash: "")),
        ]
        let dry = try store.addAccountsForActivation(people, days: 14, now: Date(), dryRun: true)
        let accounts = try await store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM account") }
        #expect(dry.count == 2 && accounts == 0)
        let issued = try store.addAccountsForActivation(people, days: 14, now: Date(), dryRun: false)
        let code = issued[0].code
        #expect(code.count == 19 && code.split(separator: "-").count == 4)
        // No password works before activation, not even an empty one.
        guard case .failure = try await store.login(LoginRequest(username: "cllr-ludlow", password: "x", deviceId: UUID()), token: "t0", now: Date()) else {
            Issue.record("an account waiting for activation logged in")
            return
        }
        await #expect(throws: LocalityError.self) {
            try await store.activate(ActivateRequest(username: "cllr-ludlow", code: code, password: "short", deviceId: UUID()), token: "t1", now: Date())
        }
        guard case .failure = try await store.activate(
            ActivateRequest(username: "cllr-ludlow", code: "AAAA-BBBB-CCCC-DDDD", password: "my-own-password", deviceId: UUID()), token: "t2", now: Date())
        else { Issue.record("a wrong code activated"); return }
        // The code as typed: any case, with or without dashes.
        let typed = code.lowercased().replacingOccurrences(of: "-", with: " ")
        guard case .success = try await store.activate(
            ActivateRequest(username: "CLLR-LUDLOW", code: typed, password: "my-own-password", deviceId: UUID()), token: "t3", now: Date())
        else { Issue.record("the right code did not activate"); return }
        guard case .failure = try await store.activate(
            ActivateRequest(username: "cllr-ludlow", code: code, password: "another-password", deviceId: UUID()), token: "t4", now: Date())
        else { Issue.record("a code worked twice"); return }
        guard case .success = try await store.login(
            LoginRequest(username: "cllr-ludlow", password: "my-own-password", deviceId: UUID()), token: "t5", now: Date())
        else { Issue.record("the chosen password does not log in"); return }
        // Expired: fifteen days on, a fourteen-day code is refused in words.
        do {
            _ = try await store.activate(
                ActivateRequest(username: "cllr-abbey", code: issued[1].code, password: "my-own-password", deviceId: UUID()), token: "t6",
                now: Date().addingTimeInterval(15 * 86_400))
            Issue.record("an expired code activated")
        } catch let error as LocalityError {
            #expect(error.message.contains("expired"))
        }
        // A file with one bad row adds no one.
        let bad = [
            (Int?.some(2), NewAccount(username: "cllr-new", displayName: "", role: .councillor, localities: ["E05008157"], organisations: [], passwordHash: "")),
            (Int?.some(3), NewAccount(username: "Cllr-Ludlow", displayName: "", role: .councillor, localities: ["E05008157"], organisations: [], passwordHash: "")),
        ]
        do {
            _ = try store.addAccountsForActivation(bad, days: 14, now: Date(), dryRun: false)
            Issue.record("a file with a duplicate username was imported")
        } catch let error as LocalityError {
            #expect(error.message.hasPrefix("line 3:") && error.message.contains("already an account called 'cllr-ludlow'"))
        }
        #expect(try await store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM person WHERE username = 'cllr-new'") } == 0)
    }

    /// Kent's councillors represent electoral divisions, which wards do not nest in: a county
    /// councillor sees and works in the places lying wholly or partly in their division.
    @Test func aCountyCouncillorWorksInTheirDivisionWhateverTheWards() async throws {
        let store = try SQLiteSyncStore.inMemory()
        _ = try store.initialiseCouncil(name: "Kent County Council", orgId: "GB-LAE-KEN", gss: "E10000016", now: Date())
        _ = try store.importLocalities(try ONSFixtures.kentParishes, districts: [], dryRun: false, today: "2026-11-30")
        let changes = try store.importLocalities(try ONSFixtures.kentDivisions, districts: [], dryRun: false, today: "2026-11-30")
        let lookup = try ONSDivisionLookup.parse(try ONSFixtures.kentDivisions)
        #expect(changes.added.filter { $0.kind == "division" }.count == Set(lookup.rows.map(\.divisionCode)).count)
        #expect(changes.added.filter { $0.kind == "division" }.count == 72)
        let split = Dictionary(grouping: lookup.rows, by: \.wardCode).filter { $0.value.count > 1 }
        #expect(split.count == 44)
        #expect(try store.council()?.divisions == 72)
        // A ward in two divisions lies in both; a parish in that ward too.
        let (wardCode, rows) = try #require(split.sorted { $0.key < $1.key }.first)
        let ward = CouncilGeography.id(gss: wardCode)
        let ancestry = try await store.database.read { db in try Locality.ancestorIDs(of: ward, in: db) }
        for row in rows { #expect(ancestry.contains(CouncilGeography.id(gss: row.divisionCode))) }
        // The councillor for the first of them may record needs in the ward; one for an unrelated division may not.
        let division = rows[0].divisionCode
        let elsewhere = try #require(lookup.rows.first { row in !rows.contains { $0.divisionCode == row.divisionCode } && row.districtCode != rows[0].districtCode })
        for (username, code) in [("cllr-here", division), ("cllr-there", elsewhere.divisionCode)] {
            _ = try store.addAccount(
                NewAccount(
                    username: username, displayName: "", role: .councillor, localities: [code], organisations: [],
                    passwordHash: Passwords.hash(DemoCouncil.password, cost: 4)), now: Date())
        }
        let here = try await SyncedDevice("cllr-here", store: store)
        let there = try await SyncedDevice("cllr-there", store: store)
        try await here.sync()
        try await there.sync()
        try here.replica.perform(RecordNeed(needId: here.replica.newID(), localityId: ward, title: "Crossing outside the school"))
        try await here.sync()
        try await there.sync()
        #expect(try here.needTitles() == ["Crossing outside the school"] && (try there.needTitles()).isEmpty)
        refused(.forbidden) { try there.replica.perform(RecordNeed(needId: there.replica.newID(), localityId: ward, title: "Not mine")) }
        // Re-importing the same divisions changes nothing; a division lookup on a unitary council is refused.
        #expect(try store.importLocalities(try ONSFixtures.kentDivisions, districts: [], dryRun: false, today: "2026-12-01").isEmpty)
        let unitary = try shropshire()
        #expect(throws: LocalityError.self) { try unitary.importLocalities(try ONSFixtures.kentDivisions, districts: [], dryRun: true, today: "2026-12-01") }
    }

    /// After an election: a councillor leaving office keeps working until the day given, then
    /// their devices stop.
    @Test func aCouncillorLeavingOfficeLosesAccessOnTheDay() async throws {
        let store = try shropshire()
        _ = try store.addAccount(
            NewAccount(
                username: "cllr-leaving", displayName: "", role: .councillor, localities: ["E05008157"], organisations: [],
                passwordHash: Passwords.hash(DemoCouncil.password, cost: 4)), now: Date())
        let device = try await SyncedDevice("cllr-leaving", store: store)
        let now = Date()
        let polling = now.addingTimeInterval(2 * 86_400)
        try store.disableAccount("cllr-leaving", from: polling, now: now)
        #expect(try await store.authenticate(token: device.token, now: now) != nil)
        try await device.sync()
        #expect(try await store.authenticate(token: device.token, now: polling.addingTimeInterval(1)) == nil)
        guard case .failure = try await store.login(
            LoginRequest(username: "cllr-leaving", password: DemoCouncil.password, deviceId: UUID()), token: "t", now: polling.addingTimeInterval(60))
        else { Issue.record("a councillor who left office logged in"); return }
        #expect(try store.accounts().first { $0.username == "cllr-leaving" }?.accessEnds == Timestamps.parse(Timestamps.format(polling)))
        // Ending it at once still works while the day has not come.
        try store.disableAccount("cllr-leaving", now: now)
        #expect(try await store.authenticate(token: device.token, now: now.addingTimeInterval(1)) == nil)
    }
}

/// Files far larger than any real lookup (the whole of England and Wales is about 1.5 MB).
@Suite("ONS reader on 50 MB hostile files")
struct LargeHostileFileTests {
    private static let header = "FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n"
    private static let size = 50 * 1024 * 1024

    private func refused(_ text: String, containing expected: String) throws {
        let store = try SQLiteSyncStore.inMemory()
        _ = try store.initialiseCouncil(name: "Testshire", orgId: nil, gss: "E06000099", now: Date())
        let started = ContinuousClock.now
        do {
            _ = try store.importLocalities(text, districts: [], dryRun: false, today: "2026-11-30")
            Issue.record("a hostile file was imported")
        } catch let error as LocalityError {
            #expect(error.message.contains(expected), "\(error.message.prefix(300))")
            #expect(error.message.count < 2_000, "the error quotes the file at length")
        }
        print("a \(text.utf8.count / 1_048_576) MB hostile file refused in \(ContinuousClock.now - started)")
        #expect(try store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality") } == 1)
    }

    @Test func aQuoteNeverClosedAcross50MBIsRefused() throws {
        try refused(Self.header + "1,E04000001,\"" + String(repeating: "A", count: Self.size), containing: "never closed")
    }

    @Test func a50MBLineIsRefusedWithItsLine() throws {
        try refused(Self.header + String(repeating: "x", count: Self.size) + "\n", containing: "line 2")
    }

    @Test func a100000RowFileOnlyForAnotherCouncilAddsNothing() throws {
        let row = "1,E04000001,Somewhere,E05000001,Some Ward,E06000001,Elsewhere\n"
        let text = Self.header + String(repeating: row, count: Self.size / row.utf8.count / 8)
        try refused(text, containing: "E06000099")
    }
}
