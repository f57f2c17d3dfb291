import Foundation
import GRDB
import SnuffelGround

/// A store that could not be opened or written: names the file and the reason.
public struct ReviewStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ path: String, _ error: any Error) {
        description = "\(path): the review store cannot be used: \(error)"
    }

    init(description: String) {
        self.description = description
    }
}

/// The review marks of one flight log and their audit trail, in an SQLite file beside the
/// log (`LOG.review.sqlite`). The log itself is never written.
///
/// Each change of a mark adds an audit row: when, who, which detection, the verdict and
/// note before and after. Marks belong to the detections of the replay with the log's own
/// configuration, by sequence number.
public final class ReviewStore: Sendable {
    /// The store's file.
    public let path: String
    let queue: DatabaseQueue

    struct MarkRow: Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "mark"
        var sequence: Int
        var verdict: String
        var note: String
        var reviewer: String
        var time: String
    }

    /// The store file of a log.
    public static func path(forLog log: String) -> String { log + ".review.sqlite" }

    /// Opens (creating if needed) the store of a log.
    /// - Parameters:
    ///   - log: The flight log's path; the store is `LOG.review.sqlite`.
    ///   - logSHA256: The log's SHA-256, recorded at creation; a store made for another
    ///     file (same name, other content) is refused.
    /// - Throws: ``ReviewStoreError`` naming the store and the reason.
    public init(log: String, logSHA256: String) throws(ReviewStoreError) {
        let path = Self.path(forLog: log)
        self.path = path
        do {
            queue = try DatabaseQueue(path: path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.create(table: "log") { t in
                    t.column("key", .text).primaryKey()
                    t.column("value", .text).notNull()
                }
                try db.create(table: "mark") { t in
                    t.column("sequence", .integer).primaryKey()
                    t.column("verdict", .text).notNull()
                    t.column("note", .text).notNull()
                    t.column("reviewer", .text).notNull()
                    t.column("time", .text).notNull()
                }
                try db.create(table: "audit") { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("time", .text).notNull()
                    t.column("reviewer", .text).notNull()
                    t.column("sequence", .integer).notNull()
                    t.column("oldVerdict", .text)
                    t.column("newVerdict", .text).notNull()
                    t.column("oldNote", .text)
                    t.column("newNote", .text).notNull()
                }
            }
            try migrator.migrate(queue)
            let recorded = try queue.write { db -> String in
                if let known = try String.fetchOne(db, sql: "SELECT value FROM log WHERE key = 'sha256'") { return known }
                try db.execute(sql: "INSERT INTO log (key, value) VALUES ('sha256', ?)", arguments: [logSHA256])
                return logSHA256
            }
            guard recorded == logSHA256 else {
                throw ReviewStoreError(description: """
                    \(path): this review store belongs to another file (SHA-256 \(recorded)), not to \(log) \
                    (SHA-256 \(logSHA256)); move it away to start a new review of this log
                    """)
            }
        } catch let error as ReviewStoreError {
            throw error
        } catch {
            throw ReviewStoreError(path, error)
        }
    }

    /// The current marks (by detection sequence number) and the audit trail of a log's
    /// store, opened read-only; empty when the log has no store.
    /// - Throws: ``ReviewStoreError`` when the store exists but cannot be read.
    public static func review(ofLog log: String) throws(ReviewStoreError) -> (marks: [Int: ReviewMark], audit: [ReviewAuditEntry]) {
        let path = Self.path(forLog: log)
        guard FileManager.default.fileExists(atPath: path) else { return ([:], []) }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in (try Self.currentMarks(db), try Self.audit(db, sequence: nil)) }
        } catch {
            throw ReviewStoreError(path, error)
        }
    }

    static func audit(_ db: Database, sequence: Int?) throws -> [ReviewAuditEntry] {
        // Decoded by column name (throwing on a damaged row, never trapping).
        if let sequence {
            return try ReviewAuditEntry.fetchAll(db, sql: "SELECT * FROM audit WHERE sequence = ? ORDER BY id", arguments: [sequence])
        }
        return try ReviewAuditEntry.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id")
    }

    static func currentMarks(_ db: Database) throws -> [Int: ReviewMark] {
        var out: [Int: ReviewMark] = [:]
        for row in try MarkRow.fetchAll(db) {
            guard let verdict = ReviewMark.Verdict(rawValue: row.verdict) else { continue }
            out[row.sequence] = ReviewMark(sequence: row.sequence, verdict: verdict, note: row.note, reviewer: row.reviewer, time: row.time)
        }
        return out
    }

    /// The current marks by detection sequence number.
    public func marks() throws(ReviewStoreError) -> [Int: ReviewMark] {
        do {
            return try queue.read(Self.currentMarks)
        } catch {
            throw ReviewStoreError(path, error)
        }
    }

    /// The audit trail, oldest first; of one detection when `sequence` is given.
    public func audit(sequence: Int? = nil) throws(ReviewStoreError) -> [ReviewAuditEntry] {
        do {
            return try queue.read { db in try Self.audit(db, sequence: sequence) }
        } catch {
            throw ReviewStoreError(path, error)
        }
    }

    /// Sets a detection's mark and records the change in the audit trail, in one transaction.
    /// - Returns: The mark as stored.
    @discardableResult
    public func mark(_ mark: ReviewMark) throws(ReviewStoreError) -> ReviewMark {
        do {
            try queue.write { db in
                let old = try MarkRow.fetchOne(db, key: mark.sequence)
                try MarkRow(sequence: mark.sequence, verdict: mark.verdict.rawValue, note: mark.note, reviewer: mark.reviewer, time: mark.time)
                    .save(db)
                try db.execute(
                    sql: """
                        INSERT INTO audit (time, reviewer, sequence, oldVerdict, newVerdict, oldNote, newNote)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [mark.time, mark.reviewer, mark.sequence, old?.verdict, mark.verdict.rawValue, old?.note, mark.note])
            }
            return mark
        } catch {
            throw ReviewStoreError(path, error)
        }
    }
}

/// Audit rows are read straight into the report's type (its fields are the table's columns).
extension ReviewAuditEntry: FetchableRecord {}
