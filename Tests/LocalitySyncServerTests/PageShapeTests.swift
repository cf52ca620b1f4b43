import Foundation
import HTTPTypes
import LocalityCore
import Testing

@testable import LocalitySyncServer

@Suite("Pages in columns")
struct PageShapeTests {
    /// The rows of a page in columns, as objects again: each column's name with its value.
    private func rows(of page: PullResponse) -> [RowChange] {
        page.changes.map { change in
            var change = change
            if let values = change.values, let names = page.columns?[change.table] {
                #expect(values.count == names.count, "a row of \(change.table) has \(values.count) values for \(names.count) columns")
                change.row = Dictionary(uniqueKeysWithValues: zip(names, values))
                change.values = nil
            }
            return change
        }
    }

    @Test func aPageInColumnsCarriesWhatThePageInRowsCarriesInFewerBytes() async throws {
        try await TestServer().run { client in
            let token = try await client.login("officer", device: UUID())
            var cursor: Int64 = 0
            var pages = 0
            var (rowBytes, columnBytes) = (0, 0)
            while true {
                let asRows = try await client.send(.get, "/v1/sync/pull?cursor=\(cursor)&limit=50&shape=rows", token: token)
                let asColumns = try await client.send(.get, "/v1/sync/pull?cursor=\(cursor)&limit=50&shape=columns", token: token)
                #expect(asRows.status == .ok && asColumns.status == .ok)
                let rowPage = try client.decode(PullResponse.self, asRows)
                let columnPage = try client.decode(PullResponse.self, asColumns)
                #expect(rowPage.columns == nil && rowPage.changes.allSatisfy { $0.values == nil })
                #expect(columnPage.changes.allSatisfy { $0.row == nil }, "a page in columns carries no row objects")
                #expect(rows(of: columnPage) == rowPage.changes, "page \(pages): the same rows in either shape")
                #expect(columnPage.cursor == rowPage.cursor && columnPage.more == rowPage.more && columnPage.head == rowPage.head)
                // A conflict's or any row's field reads the same whichever shape it came in.
                for (inRows, inColumns) in zip(rowPage.changes, columnPage.changes) where !inRows.deleted {
                    #expect(columnPage.field("id", of: inColumns) == rowPage.field("id", of: inRows))
                }
                rowBytes += asRows.body.readableBytes
                columnBytes += asColumns.body.readableBytes
                pages += 1
                cursor = rowPage.cursor
                if !rowPage.more { break }
            }
            #expect(pages > 2, "the demo council's feed should take several pages of 50")
            // Each column's name once a page rather than once a row.
            #expect(Double(columnBytes) < Double(rowBytes) * 0.9, "columns \(columnBytes) bytes against rows \(rowBytes)")
        }
    }

    @Test func aShapeTheServerDoesNotKnowIsRefusedByName() async throws {
        try await TestServer().run { client in
            let token = try await client.login("officer", device: UUID())
            let response = try await client.send(.get, "/v1/sync/pull?cursor=0&shape=sideways", token: token)
            #expect(response.status == .badRequest)
            let body = try client.decode(ErrorBody.self, response)
            #expect(body.error.code == .invalidInput && body.error.message.contains("'shape'") && body.error.message.contains("sideways"))
        }
    }
}
