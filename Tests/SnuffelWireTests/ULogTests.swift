import Foundation
import SnuffelCore
import Testing

@testable import SnuffelWire

@Suite struct ULogRoundTrip {
    @Test func everyTopicComesBack() throws {
        let (bytes, expected) = makeULogFixture()
        let result = ulogReadWhole(bytes)
        #expect(result.error == nil)
        #expect(result.truncatedByteCount == 0)
        #expect(ulogDataRecords(result.records) == expected)
    }

    @Test func headerAndInfo() throws {
        let (bytes, _) = makeULogFixture()
        var reader = ULogReader(bytes: bytes)
        var records: [ULogRecord] = []
        while let record = try reader.next() { records.append(record) }
        #expect(reader.version == 1)
        #expect(reader.startTime == 1_000)
        #expect(reader.skippedMessageCount == 0)
        var info: [String: String] = [:]
        var multi: [String: [String]] = [:]
        for record in records {
            switch record {
            case .info(let item): info[item.key] = item.value.string
            case .multiInfo(let item): multi[item.key, default: []].append(item.value.string ?? "")
            default: break
            }
        }
        #expect(info == ["sys_name": "Snuffel", "snuffel_version": "0.1"])
        #expect(multi["snuffel_channel_ids"] == ["voc_raw", "pid", "nh3"])
        #expect(multi["snuffel_payload_toml"] == [ulogPayloadTOML])
        #expect(multi["snuffel_signatures_toml"] == [ulogSignaturesTOML])
        #expect(multi[SnuffelLogKey.calibrationTOMLPrefix + "pid"] == ["offset = 3 # PID zero, mV\n"])
        // The payload text is long enough to need continued messages.
        #expect(ulogPayloadTOML.utf8.count > 2 * ULogEncoder.textChunkSize)
    }

    @Test func formatsMatchTheEncodedSizes() {
        for topic in SnuffelTopic.allCases {
            #expect(topic.size == topic.payloadSize, "\(topic.name)")
        }
    }

    @Test func syncMessagesAreWrittenPeriodically() {
        let (bytes, _) = makeULogFixture(syncInterval: 256)
        var syncs = 0
        var offset = 16
        while offset + 3 <= bytes.count {
            let size = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            if bytes[offset + 2] == UInt8(ascii: "S") { syncs += 1 }
            offset += 3 + size
        }
        #expect(offset == bytes.count)
        #expect(syncs >= 5)
    }

    @Test func theSampleEncodingDoesNotGrowPastItsReservation() {
        var encoder = ULogEncoder(startTime: 0, channelIDs: ["a"], capacity: 64 * 1024)
        let capacity = encoder.bytes.capacity
        for i in 0..<1000 { encoder.append(Sample(channel: 0, time: UInt64(i), value: 1)) }
        #expect(encoder.bytes.capacity == capacity)
    }

    @Test func aFileWrittenInBlocksIsReadableAtEveryBlock() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-\(UUID().uuidString).ulg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ULogFileWriter(path: path, startTime: 5, channelIDs: ["voc_raw", "pid"], payloadTOML: ulogPayloadTOML, blockSize: 1024)
        var written: [Sample] = []
        var sizesSeen: Set<Int> = []
        for i in 0..<400 {
            let sample = Sample(channel: UInt16(i % 2), time: UInt64(i * 1000), value: Double(i))
            try writer.append(sample)
            written.append(sample)
            // What is on disk is always whole messages: a power cut now loses only the
            // bytes in memory, at most one block.
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
            if sizesSeen.insert(size).inserted {
                var reader = try ULogReader(contentsOfFile: path)
                let result = ulogDrain(&reader)
                #expect(result.error == nil)
                #expect(result.truncatedByteCount == 0)
                let samples = result.records.compactMap { if case .sample(let s) = $0 { s } else { nil } }
                #expect(samples == Array(written.prefix(samples.count)))
                #expect(written.count - samples.count <= 1024 / 23 + 1)
            }
        }
        #expect(sizesSeen.count > 5)
        try writer.append(ULogLogMessage(level: ULogLogMessage.error, time: 400_000, text: "stop"))
        try writer.close()
        var reader = try ULogReader(contentsOfFile: path)
        let result = ulogDrain(&reader)
        #expect(result.truncatedByteCount == 0)
        #expect(ulogDataRecords(result.records).count == 401)
    }

    @Test func aFileLargerThanOneReadChunkReadsLikeItsBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-\(UUID().uuidString).ulg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ULogFileWriter(path: path, startTime: 0, channelIDs: ["voc_raw", "pid", "nh3"])
        for i in 0..<30_000 {
            try writer.append(Sample(channel: UInt16(i % 3), time: UInt64(i) * 10_000, value: Double(i).squareRoot()))
            if i % 1000 == 0 {
                try writer.append(ULogPose(time: UInt64(i) * 10_000, latitude: 52, longitude: 5, altitude: Float(i)))
                try writer.append(health: PipelineHealth(), time: UInt64(i) * 10_000)
            }
        }
        try writer.close()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count > 2 * FileSource.chunkSize)
        var reader = try ULogReader(contentsOfFile: path)
        let fromFile = ulogDrain(&reader)
        #expect(fromFile == ulogReadWhole(bytes))
        #expect(fromFile.truncatedByteCount == 0)
        #expect(ulogDataRecords(fromFile.records).count == 30_060)
    }

    @Test func missingFileIsAnOpenError() {
        #expect(throws: FileOpenError.self) { try ULogReader(contentsOfFile: "/nonexistent/x.ulg") }
    }
}

@Suite struct ULogTruncation {
    @Test func cutAtEveryByte() {
        let (bytes, _) = makeULogFixture()
        let full = ulogReadWhole(bytes).records
        let ends = ulogMessageEnds(bytes)
        #expect(ends.last == bytes.count)
        for cut in 0...bytes.count {
            let result = ulogReadWhole(Array(bytes[..<cut]))
            #expect(result.error == nil, "cut \(cut): \(String(describing: result.error))")
            let boundary = ends.last(where: { $0 <= cut }) ?? 0
            #expect(result.truncatedByteCount == cut - boundary, "cut \(cut)")
            let records = result.records
            guard records.count <= full.count else {
                Issue.record("cut \(cut): more records than the whole file")
                continue
            }
            #expect(Array(records.dropLast()) == Array(full.prefix(max(0, records.count - 1))), "cut \(cut)")
            if let last = records.last {
                let whole = full[records.count - 1]
                switch (last, whole) {
                case (.detection(let partial, isComplete: false), .detection(let complete, isComplete: true)):
                    #expect(partial.sequence == complete.sequence, "cut \(cut)")
                case (.multiInfo(let partial), .multiInfo(let complete)):
                    #expect(partial.key == complete.key, "cut \(cut)")
                    #expect(complete.value.string?.hasPrefix(partial.value.string ?? "") == true, "cut \(cut)")
                default:
                    #expect(last == whole, "cut \(cut)")
                }
            }
        }
    }

    @Test func cutsReportTheBytesLeftOver() {
        let (bytes, _) = makeULogFixture()
        let result = ulogReadWhole(Array(bytes.dropLast(5)))
        #expect(result.error == nil)
        #expect((1...100).contains(result.truncatedByteCount ?? 0))
        #expect(ulogReadWhole([]).truncatedByteCount == 0)
        #expect(ulogReadWhole(Array(bytes.prefix(10))).truncatedByteCount == 10)
    }
}

@Suite struct ULogIncrementalDecoding {
    @Test func wholeByteByByteAndRandomChunksAgree() {
        let (bytes, _) = makeULogFixture()
        let whole = ulogReadWhole(bytes)
        var generator = ULogRandom(seed: 1)
        var chunkings: [[Int]] = [[bytes.count], [1], [2], [3], [7], [64], [4096]]
        for _ in 0..<20 { chunkings.append((0..<bytes.count).map { _ in Int.random(in: 1...300, using: &generator) }) }
        for sizes in chunkings {
            let chunked = ulogReadChunked(bytes, chunkSizes: sizes) { reader, size in
                #expect(reader.bufferedByteCount <= 65_538 + size)
            }
            #expect(chunked == whole, "chunk sizes \(sizes.prefix(10))")
        }
    }

    @Test func errorsAgreeWhenChunked() {
        let (bytes, _) = makeULogFixture()
        var generator = ULogRandom(seed: 2)
        for round in 0..<40 {
            var damaged = bytes
            let position = Int.random(in: 0..<damaged.count, using: &generator)
            damaged[position] ^= UInt8.random(in: 1...255, using: &generator)
            let whole = ulogReadWhole(damaged)
            let sizes = (0..<200).map { _ in Int.random(in: 1...97, using: &generator) }
            #expect(ulogReadChunked(damaged, chunkSizes: sizes) == whole, "round \(round)")
        }
    }
}

@Suite struct ULogHostileInput {
    /// A valid prefix: header and definitions.
    static let definitions: [UInt8] = {
        var encoder = ULogEncoder(startTime: 0, channelIDs: ["a"])
        return encoder.takeBytes()
    }()

    static func message(_ type: Character, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8), UInt8(ascii: type.unicodeScalars.first!)] + payload
    }

    @Test func badMagic() {
        let result = ulogReadWhole(Array("ULoh\u{1}\u{12}5\u{1}xxxxxxxx".utf8))
        #expect(result.error == ULogError(offset: 0, reason: .badMagic))
        // Known at the first wrong byte, before a whole header.
        #expect(ulogReadChunked(Array("PK".utf8), chunkSizes: [1]).error?.reason == .badMagic)
        #expect(result.error?.description == "byte 0 (file header): not a ULog file (no 'ULog' magic)")
    }

    @Test func hugeMessageSize() {
        let bytes = Self.definitions + [0xFF, 0xFF, UInt8(ascii: "D")] + [UInt8](repeating: 0, count: 100)
        let result = ulogReadWhole(bytes, maximumMessageSize: 1024)
        #expect(result.error == ULogError(
            offset: Self.definitions.count, messageType: UInt8(ascii: "D"), reason: .messageTooLarge(size: 65_535, limit: 1024)))
        // Without a limit it is a cut file: the reader waits for bytes that never come.
        #expect(ulogReadWhole(bytes).truncatedByteCount == 103)
    }

    @Test func dataForAnUnknownMessageID() {
        let bytes = Self.definitions + Self.message("D", [0x34, 0x12] + [UInt8](repeating: 0, count: 20))
        #expect(ulogReadWhole(bytes).error == ULogError(
            offset: Self.definitions.count, messageType: UInt8(ascii: "D"), reason: .unknownMessageID(0x1234)))
    }

    @Test func subscriptionToAnUnknownFormat() {
        let bytes = Self.definitions + Self.message("A", [0, 40, 0] + Array("no_such_topic".utf8))
        #expect(ulogReadWhole(bytes).error?.reason == .unknownFormat("no_such_topic"))
        #expect(ulogReadWhole(bytes).error?.offset == Self.definitions.count)
    }

    @Test func snuffelTopicWithTheWrongFields() {
        let bytes = Self.definitions
            + Self.message("F", Array("snuffel_wind:uint64_t timestamp;double north;float east;float down;".utf8))
            + Self.message("A", [0, 40, 0] + Array("snuffel_wind".utf8))
        #expect(ulogReadWhole(bytes).error?.reason == .fieldMismatch(topic: "snuffel_wind", field: "north", expectedType: "float"))
    }

    @Test func foreignTopicsAndNestedTypesAreSkipped() throws {
        let bytes = Self.definitions
            + Self.message("F", Array("vec3:float x;float y;float z;".utf8))
            + Self.message("F", Array("vehicle_thing:uint64_t timestamp;vec3[2] v;uint8_t[3] _padding0;".utf8))
            + Self.message("A", [0, 50, 0] + Array("vehicle_thing".utf8))
            + Self.message("D", [50, 0] + [UInt8](repeating: 1, count: 35))
            + Self.message("P", [0])
            + Self.message("Z", [1, 2, 3])
            // A Snuffel topic with extra fields, reordered: found by name.
            + Self.message("F", Array("snuffel_clock:uint32_t extra;uint64_t utc_us;uint64_t timestamp;".utf8))
            + Self.message("A", [0, 51, 0] + Array("snuffel_clock".utf8))
            + Self.message("D", [51, 0, 9, 9, 9, 9] + [2, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0])
        var reader = ULogReader(bytes: bytes)
        let result = ulogDrain(&reader)
        #expect(result.error == nil)
        #expect(result.records.last == .clock(ULogClock(time: 1, utc: 2)))
        #expect(reader.skippedMessageCount == 3)
    }

    @Test func selfReferentialFormat() {
        let bytes = Self.definitions
            + Self.message("F", Array("loop:uint64_t timestamp;loop inner;".utf8))
            + Self.message("A", [0, 50, 0] + Array("loop".utf8))
        // Not a Snuffel topic: only its existence is checked.
        #expect(ulogReadWhole(bytes).error == nil)
        let snuffel = Self.definitions
            + Self.message("F", Array("snuffel_wind:uint64_t timestamp;snuffel_wind inner;float north;float east;float down;".utf8))
            + Self.message("A", [0, 50, 0] + Array("snuffel_wind".utf8))
        #expect(ulogReadWhole(snuffel).error?.reason == .formatTooLarge("snuffel_wind"))
    }

    @Test func tooManyDefinitions() {
        var bytes = Self.definitions
        let fields = Array(String(repeating: "uint8_t x;", count: 6000).utf8)
        for i in 0..<80 { bytes += Self.message("F", Array("t\(i):".utf8) + fields) }
        let result = ulogReadWhole(bytes)
        #expect(result.error?.reason == .definitionsTooLarge(limit: ULogReader.defaultMaximumDefinitionBytes))
    }

    @Test func detectionPartsOutOfPlace() {
        var encoder = ULogEncoder(startTime: 0, channelIDs: ["a"])
        encoder.append(ulogDetection(sequence: 3, onset: 10, signatureClass: 1))
        var bytes = encoder.takeBytes()
        let ends = ulogMessageEnds(bytes)
        // Drop the detection message itself: its first channel has nothing to belong to.
        let detectionEnd = ends.firstIndex(of: ends.first { end in
            end > Self.definitions.count
        }!)!
        bytes.removeSubrange(ends[detectionEnd - 1]..<ends[detectionEnd])
        #expect(ulogReadWhole(bytes).error?.reason == .unexpectedDetectionPart(sequence: 3))
    }

    @Test func flagBitsWithIncompatibleFlags() {
        var bytes = Self.definitions
        bytes[16 + 3 + 8] = 1  // incompat_flags[0]: appended data
        #expect(ulogReadWhole(bytes).error?.reason == .incompatibleFlags([1, 0, 0, 0, 0, 0, 0, 0]))
    }

    @Test func randomBytesNeverCrash() {
        var generator = ULogRandom(seed: 3)
        for round in 0..<300 {
            let count = Int.random(in: 0...2000, using: &generator)
            var bytes: [UInt8] = round.isMultiple(of: 2) ? Self.definitions : []
            let typeLetters = Array("BFIMPQARDLCSO".utf8)
            for _ in 0..<count {
                bytes.append(
                    round.isMultiple(of: 3)
                        ? typeLetters.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator))
            }
            let whole = ulogReadWhole(bytes, maximumMessageSize: 4096)
            if let error = whole.error {
                #expect(error.offset <= bytes.count)
            } else {
                #expect(whole.truncatedByteCount != nil)
            }
            let sizes = (0..<count + 30).map { _ in Int.random(in: 1...64, using: &generator) }
            #expect(ulogReadChunked(bytes, chunkSizes: sizes, maximumMessageSize: 4096) == whole, "round \(round)")
        }
    }

    @Test func everySingleByteCorruptionIsAnErrorOrRecordsNeverACrash() {
        let (bytes, _) = makeULogFixture()
        var errors = 0
        for position in stride(from: 0, to: bytes.count, by: 3) {
            var damaged = bytes
            damaged[position] ^= 0xFF
            let result = ulogReadWhole(damaged)
            if let error = result.error {
                errors += 1
                #expect(error.offset <= position || error.offset < bytes.count)
            }
        }
        #expect(errors > 0)
    }
}
