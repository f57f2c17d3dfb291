import SnuffelCore
import Testing

@testable import SnuffelWire

/// The same bytes give the same rows and errors however they are split, and garbage
/// gives errors or rows in bounded memory, never a crash.
@Suite struct CSVIncrementalDecoding {
    /// A file with every feature and a few bad rows, so that errors are compared too.
    static let mixedFile: [UInt8] = Array(
        (CSVSampleReaderGoodInput.goodFile
            + "1717243200400000,1,2,3,4,5,6,7\n"  // too few cells
            + "1717243200500000,x,,,,,,,\n"  // not a number
            + "1717243200600000," + String(repeating: "9", count: 200) + ",,,,,,,\r\n"  // too long
            + "1717243200700000,3,4,,,,,,\r\n"
            + "1717243200800000,3,4,,,,,,")  // no line end
            .utf8)

    static let limit = 128

    static func chunkings(count: Int, seed: UInt64) -> [[Int]] {
        var generator = SplitMix64(seed: seed)
        var result: [[Int]] = [[count], [1], [2], [3], [7], [limit], [limit + 1], [4096]]
        for _ in 0..<20 {
            result.append((0..<count).map { _ in Int.random(in: 1...300, using: &generator) })
        }
        return result
    }

    @Test func wholeByteByByteAndRandomChunksAgree() {
        let whole = decodeWhole(Self.mixedFile, maximumLineLength: Self.limit)
        #expect(rows(whole).count == 6)
        #expect(errors(whole).map(\.line) == [11, 12, 13])
        for sizes in Self.chunkings(count: Self.mixedFile.count, seed: 1) {
            let chunked = decodeChunked(Self.mixedFile, chunkSizes: sizes, maximumLineLength: Self.limit) { reader in
                // Bounded: at most one incomplete line plus the last chunk.
                #expect(reader.bufferedByteCount <= Self.limit + sizes.max()!)
            }
            #expect(chunked == whole, "chunk sizes \(sizes.prefix(10))")
        }
    }

    @Test func headerErrorsAgreeWhenChunked() {
        for text in ["time_us,pid,bad\n1,2,3\n", "\u{FEFF}pid\n", "# x\n", "time_us,,\n"] {
            let bytes = Array(text.utf8)
            let whole = decodeWhole(bytes)
            #expect(errors(whole).count == 1)
            for sizes in Self.chunkings(count: bytes.count, seed: 2) {
                #expect(decodeChunked(bytes, chunkSizes: sizes) == whole)
            }
        }
    }

    @Test func byteOrderMarkSplitAcrossChunks() {
        let bytes = Array("\u{FEFF}time_us,pid\n1,2\n".utf8)
        let expected: [ReaderEvent] = [.row(CSVRow(line: 2, time: 1, samples: [Sample(channel: 3, time: 1, value: 2)]))]
        #expect(decodeChunked(bytes, chunkSizes: [1]) == expected)
        #expect(decodeChunked(bytes, chunkSizes: [2]) == expected)
        // A BOM anywhere else is not skipped.
        #expect(errors(decodeWhole("\n\u{FEFF}time_us\n")).map(\.reason) == [.firstColumnNotTime(found: "\u{FEFF}time_us")])
    }

    @Test func randomBytesGiveErrorsOrRowsAndAgreeWhenChunked() {
        var generator = SplitMix64(seed: 3)
        let alphabet = Array("0123456789,,,,..--+eE \t\r\n\n\n#xnaif".utf8)
        for round in 0..<200 {
            let count = Int.random(in: 0...3000, using: &generator)
            var bytes: [UInt8] = round.isMultiple(of: 2) ? Array("time_us,voc_raw,pid,lat,lon\n".utf8) : []
            for _ in 0..<count {
                if round.isMultiple(of: 3) {
                    bytes.append(UInt8.random(in: 0...255, using: &generator))
                } else {
                    bytes.append(alphabet.randomElement(using: &generator)!)
                }
            }
            let whole = decodeWhole(bytes, maximumLineLength: 256)
            let sizes = (0..<count + 30).map { _ in Int.random(in: 1...64, using: &generator) }
            #expect(decodeChunked(bytes, chunkSizes: sizes, maximumLineLength: 256) == whole, "round \(round)")
        }
    }

    @Test func endlessLineInBoundedMemory() {
        // 8 MiB without a line feed, fed in 4 KiB chunks: one error, memory stays bounded.
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs)
        reader.append(contentsOf: Array("time_us,pid\n1,2\n".utf8))
        var events: [ReaderEvent] = []
        drain(&reader, into: &events)
        let chunk = [UInt8](repeating: UInt8(ascii: "7"), count: 4096)
        for _ in 0..<2048 {
            reader.append(contentsOf: chunk)
            drain(&reader, into: &events)
            #expect(reader.bufferedByteCount <= CSVSampleReader.defaultMaximumLineLength + chunk.count)
        }
        reader.append(contentsOf: Array("\n3,4\n".utf8))
        reader.finish()
        drain(&reader, into: &events)
        #expect(
            events == [
                .row(CSVRow(line: 2, time: 1, samples: [Sample(channel: 3, time: 1, value: 2)])),
                .error(CSVError(line: 3, reason: .lineTooLong(limit: CSVSampleReader.defaultMaximumLineLength))),
                .row(CSVRow(line: 4, time: 3, samples: [Sample(channel: 3, time: 3, value: 4)])),
            ])
    }

    @Test func endlessLineGivenWhole() {
        let bytes = Array("time_us,pid\n".utf8) + [UInt8](repeating: UInt8(ascii: ","), count: 8 << 20)
        #expect(decodeWhole(bytes) == [.error(CSVError(line: 2, reason: .lineTooLong(limit: 65_536)))])
    }

    /// "time_us,c0,c1,...,c999999".
    static let millionColumnHeader: [UInt8] = {
        var bytes = Array("time_us".utf8)
        for index in 0..<1_000_000 {
            bytes.append(UInt8(ascii: ","))
            bytes.append(UInt8(ascii: "c"))
            bytes.append(contentsOf: String(index).utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }()

    @Test func millionColumnHeader() throws {
        // Within the default limit the header is too long.
        #expect(decodeWhole(Self.millionColumnHeader) == [.error(CSVError(line: 1, reason: .lineTooLong(limit: 65_536)))])

        // With a limit that admits it, an unknown column stops it at column 2...
        let limit = 16 << 20
        #expect(
            errors(decodeWhole(Self.millionColumnHeader, maximumLineLength: limit)).map(\.reason)
                == [.unknownColumn(name: "c0", channelIDs: referenceChannelIDs)])

        // ...and ignoring unknown columns, it is read, and so are rows of a million cells.
        var row = Array("5".utf8)
        row.append(contentsOf: repeatElement(UInt8(ascii: ","), count: 1_000_000))
        var reader = CSVSampleReader(
            channelIDs: referenceChannelIDs, bytes: Self.millionColumnHeader + row + Array("\n6,1\n".utf8),
            ignoreUnknownColumns: true, maximumLineLength: limit)
        #expect(try reader.readHeader()?.ignoredColumnNames.count == 1_000_000)
        #expect(try reader.next() == CSVRow(line: 2, time: 5, samples: []))
        #expect(throws: CSVError.self) { try reader.next() }
        #expect(try reader.next() == nil)
    }
}
