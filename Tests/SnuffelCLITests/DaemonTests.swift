import Foundation
import Testing

/// `snuffeld --simulate` as an operator would run it, with a pymavlink autopilot on the
/// other end of the MAVLink link.
@Suite("snuffeld in simulation")
struct DaemonTests {
    static var daemon: URL { CLI.executable.deletingLastPathComponent().appendingPathComponent("snuffeld") }

    @Test("it flies a scenario, alerts the ground station over MAVLink, and its log replays to the same detections")
    func simulatedFlight() throws {
        try #require(ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] != "1")
        let logs = (try CLI.temporaryFile("x", "") as NSString).deletingLastPathComponent + "/logs"
        let port = UInt16.random(in: 30_000...60_000)
        let autopilot = Process()
        autopilot.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        autopilot.arguments = ["python3", CLI.root + "/Tests/peers/autopilot_udp.py", "\(port)", "6"]
        let heard = Pipe()
        autopilot.standardOutput = heard
        try autopilot.run()
        let daemon = try CLI.run(executable: Self.daemon, [
            "--simulate", "--scenario", "mdma-lab", "--speed", "150", "--mavlink-port", "\(port)", "--log-dir", logs,
        ])
        let report = heard.fileHandleForReading.readDataToEndOfFile()
        autopilot.waitUntilExit()
        #expect(daemon.status == 0, "\(daemon.stderr)")
        #expect(daemon.stdout.contains("LAB? mdma-synthesis"), "\(daemon.stdout)")
        try #require(autopilot.terminationStatus == 0, "the pymavlink autopilot failed (pip install pymavlink==2.4.50)")
        let object = try JSONSerialization.jsonObject(with: report) as? [String: Any]
        let received = (object?["received"] as? [[String: Any]]) ?? []
        let ours = received.filter { ($0["component"] as? Int) == 191 }
        #expect(ours.contains { $0["type"] as? String == "HEARTBEAT" })
        let texts = ours.filter { $0["type"] as? String == "STATUSTEXT" }.compactMap { ($0["fields"] as? [String: Any])?["text"] as? String }
        #expect(texts.contains { $0.hasPrefix("LAB? mdma-synthesis") }, "\(texts)")
        #expect(ours.contains { $0["type"] as? String == "NAMED_VALUE_FLOAT" })
        // The log it wrote replays to exactly the detections it announced.
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first { $0.hasSuffix(".ulg") })
        let replay = try CLI.run(["replay", logs + "/" + log, "--no-timeline"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("in flight: the same"), "\(replay.stdout)")
    }

    @Test("SIGTERM ends the flight: the log is completed, closed and replays, and the exit status is 0")
    func stopsOnSignal() throws {
        let logs = (try CLI.temporaryFile("x", "") as NSString).deletingLastPathComponent + "/stop-logs"
        let process = Process()
        process.executableURL = Self.daemon
        process.arguments = ["--simulate", "--scenario", "mdma-lab", "--speed", "5", "--mavlink-port", "0", "--log-dir", logs]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Wait (bounded) until the daemon's log holds flight data beyond its header, then
        // stop it.
        let deadline = Date().addingTimeInterval(60)
        var log: String?
        var headerSize: Int?
        func size(_ name: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: logs + "/" + name))?[.size] as? Int) ?? 0 }
        while Date() < deadline && process.isRunning {
            log = log ?? (try? FileManager.default.contentsOfDirectory(atPath: logs))?.first { $0.hasSuffix(".ulg") }
            if let log {
                if headerSize == nil { headerSize = size(log) }
                if size(log) > (headerSize ?? 0) + 10_000 { break }
            }
            usleep(50_000)
        }
        try #require(log != nil, "no log appeared")
        process.terminate()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(printed)")
        #expect(printed.contains("stopped by a signal"), "\(printed)")
        let replay = try CLI.run(["replay", logs + "/" + (log ?? ""), "--json"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any]
        let flight = object?["flight"] as? [String: Any]
        #expect(flight?["truncated_bytes"] as? Int == 0, "the log was not closed cleanly")
        #expect((flight?["samples"] as? Int ?? 0) > 0)
    }

    @Test("without --simulate, a payload that declares no parts to read is refused with what to do")
    func realModeRefused() throws {
        let r = try CLI.run(executable: Self.daemon, ["--mavlink-port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("payload.example.toml declares no sensors to read") && r.stderr.contains("--simulate"), "\(r.stderr)")
    }
}
