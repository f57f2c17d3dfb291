import BridgeProtocol
import Foundation
import Testing

/// The package's root folder.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/BridgeTests/ProtocolTests.swift
    return parts.joined(separator: "/")
}()

/// The `hex NAME` blocks of firmware-bridge/PROTOCOL.md, by name, in order.
func documentedExamples() throws -> [(name: String, bytes: [UInt8])] {
    let text = try String(contentsOfFile: packageRoot + "/firmware-bridge/PROTOCOL.md", encoding: .utf8)
    var examples: [(String, [UInt8])] = []
    var current: String?
    var bytes: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("```hex ") {
            current = String(line.dropFirst(7))
            bytes = []
        } else if line.hasPrefix("```"), let name = current {
            examples.append((name, bytes))
            current = nil
        } else if current != nil {
            for word in line.split(separator: " ") {
                let value = try #require(UInt8(word, radix: 16), "'\(word)' in example \(current ?? "") is not a hex byte")
                bytes.append(value)
            }
        }
    }
    return examples
}

@Suite("Bridge protocol")
struct ProtocolTests {
    @Test("CRC-16/CCITT-FALSE of \"123456789\" is the catalogue's check value 0x29B1")
    func crcCheckValue() {
        #expect(CRC16.checksum("123456789".utf8) == 0x29B1)
        #expect(CRC16.checkValue == 0x29B1)
        #expect(CRC16.checksum([UInt8]()) == 0xFFFF)
    }

    @Test("COBS encodes the paper's and Wikipedia's examples", arguments: [
        ([0x00], [0x01, 0x01]),
        ([0x00, 0x00], [0x01, 0x01, 0x01]),
        ([0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]),
        ([0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]),
        ([0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]),
        ([0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]),
    ] as [([UInt8], [UInt8])])
    func cobsVectors(raw: [UInt8], encoded: [UInt8]) {
        var output: [UInt8] = []
        COBS.encode(raw, appendingTo: &output)
        #expect(output == encoded)
        var decoded: [UInt8] = []
        #expect(COBS.decode(encoded, appendingTo: &decoded))
        #expect(decoded == raw)
    }

    @Test("COBS handles 254- and 255-byte runs without zeros and round-trips random data")
    func cobsLongRuns() {
        let run254 = (1...254).map { UInt8($0) }
        var output: [UInt8] = []
        COBS.encode(run254, appendingTo: &output)
        #expect(output == [0xFF] + run254 + [0x01])
        let run255 = (1...255).map { UInt8($0) }
        output = []
        COBS.encode(run255, appendingTo: &output)
        #expect(output == [0xFF] + run254 + [0x02, 0xFF])
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 253, 254, 255, 509, 1000] {
            let raw = (0..<length).map { _ in UInt8.random(in: 0...3, using: &generator) == 0 ? 0 : UInt8.random(in: 1...255, using: &generator) }
            output = []
            COBS.encode(raw, appendingTo: &output)
            #expect(!output.contains(0))
            #expect(output.count <= COBS.maximumEncodedCount(forRawCount: length))
            var decoded: [UInt8] = []
            #expect(COBS.decode(output, appendingTo: &decoded))
            #expect(decoded == raw, "length \(length)")
        }
        var decoded: [UInt8] = []
        #expect(!COBS.decode([0x03, 0x11], appendingTo: &decoded), "a code past the end is invalid")
        #expect(!COBS.decode([0x02, 0x00], appendingTo: &decoded), "a zero inside is invalid")
    }

    @Test("PROTOCOL.md's example frames are BridgeExamples' bytes, and each encodes and decodes to them")
    func documentedExamplesMatch() throws {
        let documented = try documentedExamples()
        let examples = BridgeExamples.all
        #expect(documented.map(\.name) == examples.map { "\($0.name)" })
        #expect(documented.count == 8)
        for (doc, example) in zip(documented, examples) {
            #expect(doc.bytes == example.wire, "example \(doc.name) differs from BridgeExamples")
            #expect(example.frame.encoded() == doc.bytes, "example \(doc.name) encodes differently")
            var scratch: [UInt8] = []
            let decoded = try BridgeFrame.decode(encoded: doc.bytes.dropLast(), scratch: &scratch)
            #expect(decoded == example.frame, "example \(doc.name) decodes differently")
            // The CRC over the whole raw frame, CRC included, is 0.
            #expect(CRC16.checksum(scratch) == 0)
        }
        #expect(BridgeExamples.selfTest())
    }

    @Test("every message type round-trips, including the largest sample block")
    func roundTrips() throws {
        let largest = BridgeSampleBlock.maximumScanCount(channelCount: 8)
        let messages: [BridgeMessage] = [
            .samples(BridgeSampleBlock(channelMask: 0xFF, intervalMicroseconds: 1000, flags: [.overrun, .conversionTimeout],
                                       values: (0..<(8 * largest)).map { UInt16($0 * 37 % 4096) })),
            .samples(BridgeSampleBlock(channelMask: 0x8001, intervalMicroseconds: 0, values: [0, 0xFFFF])),
            .status(BridgeStatus(firmwareMajor: 9, firmwareMinor: 255, resetCause: .watchdog, flags: [.emulated],
                                 sampleRateHertz: 1000, channelMask: 0, outputs: 0x0F, channelCount: 8,
                                 droppedScans: .max, conversionTimeouts: 1, rejectedFrames: 0x0102_0304)),
            .acknowledgement(BridgeAcknowledgement(commandType: 0x99, commandSequence: .max, result: .unknownCommand, value: 7)),
            .command(.ping), .command(.setRate(hertz: 1000)), .command(.enableChannels(mask: 0xFFFF)),
            .command(.setOutputs(mask: 0, levels: 0xFF)), .command(.reset),
        ]
        for message in messages {
            let frame = BridgeFrame(sequence: 0xFFFF_FFFF, time: .max, message: message)
            let wire = frame.encoded()
            #expect(wire.count <= BridgeWire.maximumEncodedFrameSize)
            #expect(wire.firstIndex(of: 0) == wire.count - 1)
            var scratch: [UInt8] = []
            #expect(try BridgeFrame.decode(encoded: wire.dropLast(), scratch: &scratch) == frame)
        }
        let tooMany = BridgeSampleBlock(channelMask: 0xFF, intervalMicroseconds: 1, values: Array(repeating: 1, count: 8 * (largest + 1)))
        #expect(BridgeFrame(sequence: 0, time: 0, message: .samples(tooMany)).encoded().isEmpty, "an oversized block is refused")
    }

    @Test("bad frames are refused with the reason")
    func refusals() throws {
        func decode(_ raw: [UInt8], fixCRC: Bool = true) -> BridgeFrameError? {
            var raw = raw
            if fixCRC {
                let crc = CRC16.checksum(raw)
                raw += [UInt8(crc >> 8), UInt8(crc & 0xFF)]
            }
            var wire: [UInt8] = []
            COBS.encode(raw, appendingTo: &wire)
            var scratch: [UInt8] = []
            do {
                _ = try BridgeFrame.decode(encoded: wire, scratch: &scratch)
                return nil
            } catch {
                return error
            }
        }
        let header: [UInt8] = [1, 0x80] + [UInt8](repeating: 0, count: 12)
        #expect(decode(header) == nil)
        var flipped = header + [0x64, 0xDE]
        flipped[3] ^= 0x10
        #expect(decode(flipped, fixCRC: false) == .crcMismatch(received: 0x64DE, computed: CRC16.checksum(flipped.prefix(14))))
        #expect(decode([2] + header.dropFirst()) == .unsupportedVersion(2))
        #expect(decode([1, 0x7F] + header.dropFirst(2)) == .unknownType(0x7F))
        #expect(decode(header + [0]) == .badPayloadLength(type: 0x80, count: 1))
        #expect(decode([1, 0x81] + header.dropFirst(2) + [200]) == .badPayloadLength(type: 0x81, count: 1))
        #expect(decode(Array(header.prefix(10))) == .tooShort(count: 12))
        // A sample block whose scan count does not match its length.
        #expect(decode([1, 0x01] + header.dropFirst(2) + [0x03, 0, 0x10, 0x27, 0, 0, 0, 0, 2, 1, 0, 2, 0]) ==
                .badPayloadLength(type: 0x01, count: 13))
        // A status with a reset cause that does not exist.
        #expect(decode([1, 0x02] + header.dropFirst(2) + [1, 0, 9] + [UInt8](repeating: 0, count: 19)) == .invalidField(type: 0x02))
        var scratch: [UInt8] = []
        #expect(throws: BridgeFrameError.invalidCOBS) { try BridgeFrame.decode(encoded: [0x05, 1, 2], scratch: &scratch) }
        #expect(throws: BridgeFrameError.tooLong(count: 256)) {
            try BridgeFrame.decode(encoded: [UInt8](repeating: 1, count: 256), scratch: &scratch)
        }
    }
}
