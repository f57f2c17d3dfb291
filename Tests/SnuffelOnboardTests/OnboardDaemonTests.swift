import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelOnboard
import SnuffelTestSupport
import SnuffelWire
import Testing

/// A MAVLink transport in memory: frames queued to arrive, and everything sent kept.
final class LoopbackTransport: MAVLinkTransport {
    let endpoint = "loopback"
    var arriving: [MAVLinkFrame] = []
    var sent: [MAVLinkFrame] = []
    private var decoder = MAVLinkFrameDecoder()

    func receiveFrames(timeoutMilliseconds: Int) throws -> [MAVLinkFrame] {
        defer { arriving = [] }
        return arriving
    }

    func sendFrames(_ bytes: [UInt8]) throws {
        decoder.append(contentsOf: bytes)
        while let frame = decoder.next() { sent.append(frame) }
    }

    /// The texts of the STATUSTEXTs sent (severity, text).
    var statusTexts: [(UInt8, String)] {
        sent.filter { $0.messageID == 253 }.map { f in
            (f.payload[0], String(decoding: f.payload[1..<51].prefix { $0 != 0 }, as: UTF8.self))
        }
    }
}

@Suite("The daemon's runtime")
struct OnboardDaemonTests {
    typealias F = AutopilotFrames

    let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    func make(poses: OnboardDaemon.PoseSource) throws -> (OnboardDaemon, LoopbackTransport, String) {
        let config = try PayloadConfiguration.load(path: root + "/deploy/payload.example.toml")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString).ulg").path
        let recorder = try FlightRecorder(
            path: path, pipeline: try Pipeline(configuration: config.pipeline), startTime: 1_000_000, utcOffset: nil,
            payloadTOML: config.payloadFile.text, signaturesTOML: config.signaturesFile.text)
        let link = LoopbackTransport()
        var options = OnboardDaemon.Options()
        options.poseSource = poses
        let daemon = OnboardDaemon(
            recorder: recorder, link: link,
            messages: GroundStationMessages(channels: config.pipeline.channels, library: config.pipeline.library),
            options: options, start: 1_000_000, say: { _ in })
        return (daemon, link, path)
    }

    func records(_ path: String) throws -> [ULogRecord] {
        var reader = try ULogReader(contentsOfFile: path)
        var out: [ULogRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    @Test("with a live autopilot: its poses, wind and UTC go into the log; a lost link is said to the log and the ground station, and its return")
    func liveAutopilot() throws {
        let (daemon, link, path) = try make(poses: .autopilot)
        defer { try? FileManager.default.removeItem(atPath: path) }
        link.arriving = [
            F.heartbeat(armed: true), F.systemTime(unix: 1_790_000_000_000_000, bootMs: 500),
            F.globalPosition(bootMs: 500, lat: 514_500_000, lon: 54_800_000, altMm: 40_000), F.wind(direction: 180, speed: 3),
        ]
        daemon.service(now: 2_000_000, waitMilliseconds: 0)
        #expect(abs((daemon.lastPose?.latitude ?? 0) - 51.45) < 1e-9)
        // Samples keep coming while the autopilot is silent.
        for i in 0..<50 { daemon.record(Sample(channel: 3, time: 2_000_000 + UInt64(i) * 100_000, value: 5)) }
        daemon.service(now: 5_500_000, waitMilliseconds: 0)
        #expect(daemon.tracker.isLost)
        link.arriving = [F.heartbeat(armed: true), F.globalPosition(bootMs: 6_000, lat: 514_500_100, lon: 54_800_000, altMm: 40_000)]
        daemon.service(now: 7_500_000, waitMilliseconds: 0)
        daemon.finish(at: 8_000_000)

        let texts = link.statusTexts.map(\.1)
        #expect(texts.contains { $0.contains("autopilot link up: ArduPilot") }, "\(texts)")
        #expect(texts.contains { $0.contains("autopilot link lost") }, "\(texts)")
        #expect(link.statusTexts.first { $0.1.contains("link lost") }?.0 == 4, "a lost link is a WARNING")
        #expect(texts.contains { $0.contains("link back after") })
        #expect(link.sent.contains { $0.messageID == 0 && $0.componentID == 191 }, "a HEARTBEAT as an onboard computer")
        let names = link.sent.filter { $0.messageID == 251 }.map { String(decoding: $0.payload[8..<18].prefix { $0 != 0 }, as: UTF8.self) }
        #expect(names.contains("LOG_OK") && names.contains("SENS_BAD") && names.contains("AP_LINK"))
        let linkValues = link.sent.filter { $0.messageID == 251 && String(decoding: $0.payload[8..<18].prefix { $0 != 0 }, as: UTF8.self) == "AP_LINK" }
            .map { Float(bitPattern: UInt32($0.payload[4]) | UInt32($0.payload[5]) << 8 | UInt32($0.payload[6]) << 16 | UInt32($0.payload[7]) << 24) }
        #expect(linkValues.contains(0) && linkValues.first == 1, "AP_LINK 1, then 0 while lost: \(linkValues)")
        #expect(daemon.status.hasPrefix("recording; "))

        let log = try records(path)
        let poses = log.compactMap { if case .pose(let p) = $0 { return p } else { return nil } }
        #expect(poses.map(\.time) == [2_000_000, 7_500_000])
        #expect(poses.first?.gpsTime == 1_790_000_000_000_000)
        #expect(log.contains { if case .clock(let c) = $0 { return c.utc == 1_790_000_000_000_000 } else { return false } })
        #expect(log.contains { if case .wind(let w) = $0 { return abs(w.north - 3) < 1e-5 } else { return false } }, "from the south: towards the north")
        let messages = log.compactMap { if case .logging(let m) = $0 { return m.text } else { return nil } }
        #expect(messages.contains { $0.hasPrefix("autopilot link lost") && $0.contains("poses missing") }, "\(messages)")
        #expect(messages.contains("vehicle armed"))
        #expect(log.filter { if case .sample = $0 { return true } else { return false } }.count == 50)
    }

    @Test("with poses from the simulated flight, the autopilot's positions are not logged, but its link is still watched")
    func callerPoses() throws {
        let (daemon, link, path) = try make(poses: .caller)
        defer { try? FileManager.default.removeItem(atPath: path) }
        link.arriving = [F.heartbeat(), F.globalPosition(bootMs: 500, lat: 1, lon: 1, altMm: 0)]
        daemon.service(now: 2_000_000, waitMilliseconds: 0)
        daemon.record(ULogPose(time: 2_100_000, latitude: 51, longitude: 5, altitude: 10))
        daemon.service(now: 6_000_000, waitMilliseconds: 0)
        daemon.finish(at: 6_000_000)
        let log = try records(path)
        let poses = log.compactMap { if case .pose(let p) = $0 { return p } else { return nil } }
        #expect(poses.count == 1 && poses.first?.latitude == 51)
        #expect(link.statusTexts.contains { $0.1.contains("link lost") })
    }
}
