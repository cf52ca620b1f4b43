import Foundation
import GRDB
import LocalityCore
import NIOCore
import PostgresNIO

/// A copy of the council's state as of one log entry, kept in PostgreSQL so that a new or
/// restarted process starts from it and replays only the log's tail. Taken by
/// `locality-sync snapshot --database …` (from a timer), never by a serving process, so serving is
/// never paused for it. A snapshot is trusted only if the log's entry at its sequence has the hash
/// it names, and only by a build that knows every migration in it; otherwise the whole log is
/// replayed, as if there were none.
public struct SnapshotInfo: Codable, Sendable {
    public var sequence: Int64
    public var hash: String
    public var bytes: Int64
    public var parts: Int
}

extension PostgresLog {
    /// The snapshot tables, made if missing (called from `prepare`, under the write lock).
    static func prepareSnapshots(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS locality_snapshot (
                sequence bigint PRIMARY KEY,
                hash text NOT NULL,
                bytes bigint NOT NULL,
                parts integer NOT NULL,
                taken_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS locality_snapshot_part (
                sequence bigint NOT NULL REFERENCES locality_snapshot ON DELETE CASCADE,
                part integer NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (sequence, part))
            """, logger: logger)
    }

    /// The newest snapshot, if any.
    public func latestSnapshot() async throws -> SnapshotInfo? {
        let rows = try await client.query(
            "SELECT sequence, hash, bytes, parts FROM locality_snapshot ORDER BY sequence DESC LIMIT 1", logger: logger)
        for try await (sequence, hash, bytes, parts) in rows.decode((Int64, String, Int64, Int32).self) {
            return SnapshotInfo(sequence: sequence, hash: hash, bytes: bytes, parts: Int(parts))
        }
        return nil
    }

    /// Writes a snapshot's bytes, part by part, into `file`.
    func downloadSnapshot(_ info: SnapshotInfo, to file: FileHandle) async throws {
        for part in 0..<info.parts {
            let rows = try await client.query(
                "SELECT data FROM locality_snapshot_part WHERE sequence = \(info.sequence) AND part = \(Int32(part))", logger: logger)
            var found = false
            for try await data in rows.decode(ByteBuffer.self) {
                try file.write(contentsOf: Data(data.readableBytesView))
                found = true
            }
            guard found else { throw LocalityError.invalidInput("snapshot \(info.sequence) lacks part \(part)") }
        }
    }

    /// Stores a snapshot read from `file` (in parts of 8 MB, one transaction) and keeps the newest `keep`.
    func uploadSnapshot(sequence: Int64, hash: String, from path: String, keep: Int) async throws -> SnapshotInfo {
        let size = Int64((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
        let partSize = 8 * 1024 * 1024
        let parts = Int((size + Int64(partSize) - 1) / Int64(partSize))
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM locality_snapshot WHERE sequence = \(sequence)", logger: logger)
            try await connection.query(
                "INSERT INTO locality_snapshot (sequence, hash, bytes, parts) VALUES (\(sequence), \(hash), \(size), \(Int32(parts)))", logger: logger)
            for part in 0..<parts {
                let data = try handle.read(upToCount: partSize) ?? Data()
                try await connection.query(
                    "INSERT INTO locality_snapshot_part (sequence, part, data) VALUES (\(sequence), \(Int32(part)), \(ByteBuffer(bytes: data)))",
                    logger: logger)
            }
            try await connection.query(
                """
                DELETE FROM locality_snapshot WHERE sequence NOT IN (SELECT sequence FROM locality_snapshot ORDER BY sequence DESC LIMIT \(Int32(max(1, keep))))
                """, logger: logger)
        }
        return SnapshotInfo(sequence: sequence, hash: hash, bytes: size, parts: parts)
    }
}

extension Materialisation {
    /// Starts from the newest snapshot the log vouches for; false (and nothing changed) if there is
    /// none this build can use.
    func restoreSnapshot(from log: PostgresLog) async -> Bool {
        do {
            guard applied == 0, let info = try await log.latestSnapshot() else { return false }
            guard let entry = try await log.entries(after: info.sequence - 1, limit: 1).first, entry.sequence == info.sequence, entry.hash == info.hash
            else {
                logger.warning("snapshot ignored: the log's entry \(info.sequence) does not match it")
                return false
            }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("locality-snapshot-\(UUID().uuidString).sqlite").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else { return false }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            do {
                try await log.downloadSnapshot(info, to: file)
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
            let source = try DatabaseQueue(path: path)
            let memory = try DatabaseQueue()
            try source.backup(to: memory)
            try source.close()
            var restored = try SQLiteSyncStore(database: memory)
            restored.answersRetriesFromStoredResults = storedResults
            restored.turns = .unordered
            try await restored.database.write { try $0.execute(sql: "UPDATE server_history SET epoch = ? WHERE id = 1", arguments: [epoch]) }
            replace(with: restored, applied: info.sequence, hash: info.hash)
            restoredFrom = info.sequence
            logger.info("started from snapshot", metadata: ["sequence": "\(info.sequence)", "bytes": "\(info.bytes)"])
            return true
        } catch {
            logger.warning("snapshot ignored: \(PostgresLog.describe(error)); replaying the whole log")
            return false
        }
    }

    /// Copies the state as it stands (the caller holds the process's lock) into a file.
    func copy(to path: String) throws -> (sequence: Int64, hash: String) {
        guard let lastHash, applied > 0 else { throw LocalityError.invalidInput("the log is empty: there is nothing to snapshot") }
        try store.database.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [path]) }
        return (applied, lastHash)
    }
}

extension ReplicatedSyncStore {
    /// Takes a snapshot of the state at the log's head and stores it in PostgreSQL, keeping the
    /// newest `keep`. The copy is made under this process's lock (a moment); the upload is not.
    public func snapshot(keep: Int = 2) async throws -> SnapshotInfo {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locality-snapshot-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (sequence, hash) = try await locked {
            try await materialisation.catchUp(log, on: nil)
            return try await materialisation.copy(to: path)
        }
        return try await log.uploadSnapshot(sequence: sequence, hash: hash, from: path, keep: keep)
    }
}
