import Foundation
import SnuffelPeerTesting
import Testing

@testable import SnuffelWire

@Suite("MAVLink over UDP with a pymavlink autopilot")
struct MAVLinkUDPLinkTests {
    @Test("positions, time and wind arrive from pymavlink; our heartbeat, status text and live value reach it and decode")
    func againstPymavlink() throws {
        try #require(!Peer.skipped)
        let link = try MAVLinkUDPLink(host: "127.0.0.1", port: 0)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/autopilot_udp.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "\(link.port)", "2.5"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()

        var encoder = MAVLinkEncoder(systemID: 1)
        var positions: [MAVLinkGlobalPosition] = []
        var times: [MAVLinkSystemTime] = []
        var winds: [MAVLinkWind] = []
        var sentOurs = 0
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline {
            for frame in try link.receive(timeoutMilliseconds: 100) {
                switch MAVLinkMessage(frame: frame) {
                case .globalPosition(let p): positions.append(p)
                case .systemTime(let t): times.append(t)
                case .wind(let w): winds.append(w)
                default: break
                }
            }
            if link.hasPeer && sentOurs < 5 {
                var bytes = encoder.heartbeat()
                bytes += encoder.statusText(severity: 2, "LAB? mdma-synthesis p0.87").joined()
                bytes += encoder.namedValueFloat("VOCIDX", 312, timeBootMs: UInt32(sentOurs) * 100)
                #expect(try link.send(bytes))
                sentOurs += 1
            }
        }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "autopilot_udp.py exited \(process.terminationStatus) (pip install pymavlink==2.4.50)")

        struct Report: Decodable {
            struct Message: Decodable {
                var type: String
                var component: Int?
                var fields: [String: Value]?
            }
            enum Value: Decodable {
                case number(Double), text(String)
                init(from decoder: any Decoder) throws {
                    let c = try decoder.singleValueContainer()
                    if let n = try? c.decode(Double.self) { self = .number(n) } else { self = .text((try? c.decode(String.self)) ?? "") }
                }
            }
            var sent: [String: Int]
            var last_position: [Int]
            var received: [Message]
        }
        let report = try JSONDecoder().decode(Report.self, from: printed)
        // What the autopilot sent arrived, decoded by our side: every position, in order.
        #expect(positions.count == report.sent["GLOBAL_POSITION_INT"])
        #expect(positions.last.map { [Int($0.latitude), Int($0.longitude)] } == report.last_position)
        #expect(times.count == report.sent["SYSTEM_TIME"] && winds.count == report.sent["WIND"])
        #expect(winds.first.map { abs($0.speed - 3.5) < 1e-6 && abs($0.direction - 240) < 1e-4 } == true)
        // What we sent reached pymavlink and means what we meant.
        #expect(!report.received.contains { $0.type == "BAD_DATA" })
        let ours = report.received.filter { $0.component == 191 }
        #expect(ours.filter { $0.type == "HEARTBEAT" }.count == sentOurs)
        if case .text(let text)? = ours.first(where: { $0.type == "STATUSTEXT" })?.fields?["text"] {
            #expect(text == "LAB? mdma-synthesis p0.87")
        } else {
            Issue.record("no STATUSTEXT reached pymavlink: \(report.received.map(\.type))")
        }
        if case .text(let name)? = ours.first(where: { $0.type == "NAMED_VALUE_FLOAT" })?.fields?["name"] {
            #expect(name == "VOCIDX")
        } else {
            Issue.record("no NAMED_VALUE_FLOAT reached pymavlink")
        }
    }

    @Test("a port in use, or a bad address, is refused by name")
    func refusals() throws {
        let first = try MAVLinkUDPLink(host: "127.0.0.1", port: 0)
        #expect(throws: ByteStreamError.self) { try MAVLinkUDPLink(host: "127.0.0.1", port: first.port) }
        #expect { try MAVLinkUDPLink(host: "not-an-address", port: 14550) } throws: { "\($0)".contains("not-an-address") }
        let quiet = try MAVLinkUDPLink(host: "127.0.0.1", port: 0)
        #expect(try quiet.send([1, 2, 3]) == false, "nothing to send to before a peer has spoken")
        #expect(try quiet.receive(timeoutMilliseconds: 10).isEmpty)
    }
}
