import Foundation
import SnuffelCore
import Testing

@testable import SnuffelWire

@Suite struct CSVFileReading {
    /// Writes bytes to a new temporary file and returns its path.
    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("snuffel-csv-\(UUID().uuidString).csv")
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A file of several read chunks, with lines split across chunk boundaries.
    static let bigFile: [UInt8] = {
        var text = "# generated\ntime_us,voc_raw,pid,lat,lon,alt_m\n"
        for index in 0..<40_000 {
            text += "\(1_717_243_200_000_000 + UInt64(index) * 100_000),\(30_000 + index % 97),"
            text += index.isMultiple(of: 5) ? "," : "\(Double(index % 1000) * 0.001),"
            text += "52.\(index % 10_000),5.\(index % 7777),\(index % 120)\n"
        }
        return Array(text.utf8)
    }()

    @Test func fileGivesTheSameRowsAsBytes() throws {
        #expect(Self.bigFile.count > 3 * FileSource.chunkSize)
        let path = try temporaryFile(Self.bigFile)
        defer { try? FileManager.default.removeItem(atPath: path) }

        var fromFile = try CSVSampleReader(channelIDs: referenceChannelIDs, contentsOfFile: path)
        var fromBytes = CSVSampleReader(channelIDs: referenceChannelIDs, bytes: Self.bigFile)
        var count = 0
        while let row = try fromFile.next() {
            #expect(try fromBytes.next() == row)
            #expect(fromFile.bufferedByteCount <= FileSource.chunkSize + CSVSampleReader.defaultMaximumLineLength)
            count += 1
        }
        #expect(try fromBytes.next() == nil)
        #expect(count == 40_000)
        #expect(try fromFile.next() == nil)
    }

    @Test func copiesReadIndependently() throws {
        let path = try temporaryFile(Self.bigFile)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var first = try CSVSampleReader(channelIDs: referenceChannelIDs, contentsOfFile: path)
        for _ in 0..<10_000 { _ = try first.next() }
        var second = first
        var firstRows: [CSVRow] = []
        while let row = try first.next() { firstRows.append(row) }
        var secondRows: [CSVRow] = []
        while let row = try second.next() { secondRows.append(row) }
        #expect(firstRows.count == 30_000)
        #expect(firstRows == secondRows)
    }

    @Test func missingFile() {
        #expect {
            _ = try CSVSampleReader(channelIDs: [], contentsOfFile: "/nonexistent/snuffel.csv")
        } throws: { error in
            guard let error = error as? FileOpenError else { return false }
            return error.code == ENOENT && error.description == "cannot open '/nonexistent/snuffel.csv': No such file or directory"
        }
    }

    @Test func directoryIsAReadError() throws {
        var reader = try CSVSampleReader(channelIDs: [], contentsOfFile: FileManager.default.temporaryDirectory.path)
        #expect {
            _ = try reader.next()
        } throws: { error in
            guard let error = error as? CSVError, case .readFailed(let code, _) = error.reason else { return false }
            return code == EISDIR
        }
    }
}
