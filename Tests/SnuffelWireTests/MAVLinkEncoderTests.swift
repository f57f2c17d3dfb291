import Foundation
import SnuffelPeerTesting
import Testing

@testable import SnuffelWire

@Suite("MAVLink 2 messages the daemon sends")
struct MAVLinkEncoderTests {
    /// A heartbeat, a short and a long status text, and a named value, in that order.
    func sample() -> (bytes: [UInt8], longText: String) {
        var encoder = MAVLinkEncoder(systemID: 1)
        let longText = "Snuffel: likely MDMA lab (0.87) at 51.449495, 5.478522 ± 33 m — methylamine, safrole, PMK; check upwind"
        var bytes = encoder.heartbeat()
        bytes += encoder.statusText(severity: 2, "LAB 0.87 mdma-synthesis").joined()
        bytes += encoder.statusText(severity: 2, longText, id: 7).joined()
        bytes += encoder.namedValueFloat("PID_PPB", 412.5, timeBootMs: 123_456)
        return (bytes, longText)
    }

    @Test("our own decoder reads every frame back with its CRC checked, the payloads truncated")
    func roundTrip() throws {
        let (bytes, longText) = sample()
        var decoder = MAVLinkFrameDecoder()
        decoder.append(contentsOf: bytes)
        decoder.finish()
        var frames: [MAVLinkFrame] = []
        while let f = decoder.next() { frames.append(f) }
        let chunks = (MAVLinkEncoder.ascii(longText).utf8.count + 49) / 50
        try #require(frames.count == 3 + chunks)
        #expect(frames.map(\.messageID) == [0, 253] + Array(repeating: 253, count: chunks) + [251])
        #expect(frames.allSatisfy { $0.isChecked && $0.version == .v2 && $0.systemID == 1 && $0.componentID == 191 })
        #expect(frames.map(\.sequence) == (0..<UInt8(frames.count)).map { $0 })
        // Trailing zeros are cut: the short text's frame is far shorter than 54 bytes.
        #expect(frames[1].wireLength == 1 + "LAB 0.87 mdma-synthesis".utf8.count)
    }

    @Test("pymavlink decodes every message, and they mean what we meant")
    func pymavlinkReadsThem() throws {
        try #require(!Peer.skipped)
        let bytes = sample().bytes
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-\(UUID().uuidString).mav").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let output = try PeerScript.run("mavlink_decode.py", [path], install: "pip install pymavlink==2.4.50", filePath: #filePath)
        struct Decoded: Decodable {
            struct Message: Decodable {
                var type: String
                var system: Int
                var component: Int
                var fields: [String: Field]
            }
            enum Field: Decodable {
                case number(Double), text(String)
                init(from decoder: any Decoder) throws {
                    let c = try decoder.singleValueContainer()
                    if let n = try? c.decode(Double.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
                }
                var number: Double? { if case .number(let n) = self { n } else { nil } }
                var text: String? { if case .text(let t) = self { t } else { nil } }
            }
            var messages: [Message]
            var bad: Int
        }
        let decoded = try JSONDecoder().decode(Decoded.self, from: output)
        #expect(decoded.bad == 0)
        let types = decoded.messages.map(\.type)
        #expect(types.first == "HEARTBEAT" && types.last == "NAMED_VALUE_FLOAT")
        let heartbeat = try #require(decoded.messages.first)
        #expect(heartbeat.component == 191 && heartbeat.system == 1)
        #expect(heartbeat.fields["type"]?.number == 18 && heartbeat.fields["autopilot"]?.number == 8)
        #expect(heartbeat.fields["mavlink_version"]?.number == 3)
        let texts = decoded.messages.filter { $0.type == "STATUSTEXT" }
        #expect(texts.first?.fields["text"]?.text == "LAB 0.87 mdma-synthesis")
        #expect(texts.first?.fields["severity"]?.number == 2)
        let chunks = texts.dropFirst()
        #expect(chunks.allSatisfy { $0.fields["id"]?.number == 7 })
        #expect(chunks.map { $0.fields["chunk_seq"]?.number ?? -1 } == (0..<chunks.count).map(Double.init))
        #expect(chunks.map { $0.fields["text"]?.text ?? "" }.joined()
                == "Snuffel: likely MDMA lab (0.87) at 51.449495, 5.478522 +/- 33 m - methylamine, safrole, PMK; check upwind")
        let value = try #require(decoded.messages.last)
        #expect(value.fields["name"]?.text == "PID_PPB")
        #expect(value.fields["value"]?.number == 412.5)
        #expect(value.fields["time_boot_ms"]?.number == 123_456)
    }

    @Test("names longer than 10 bytes are cut; a text of exactly 100 bytes ends with an empty chunk")
    func limits() {
        var encoder = MAVLinkEncoder(systemID: 3)
        let frame = encoder.namedValueFloat("VERY_LONG_NAME", 1, timeBootMs: 0)
        var decoder = MAVLinkFrameDecoder()
        decoder.append(contentsOf: frame)
        decoder.finish()
        let f = decoder.next()
        #expect(f.map { Array($0.payload[8...]) } == Array("VERY_LONG_".utf8))
        let chunks = encoder.statusText(severity: 6, String(repeating: "a", count: 100))
        #expect(chunks.count == 3)
    }
}
