import Foundation
import SnuffelWire
import Testing

/// `snuffeld` under the faults a flight meets: a full disk, the free-space floor, a power
/// cut (`kill -9`), a corrupted configuration, a live autopilot that falls silent; and
/// under systemd.
@Suite("snuffeld under faults and as a service")
struct DaemonFaultTests {
    static var daemon: URL { DaemonTests.daemon }

    static func directory(_ name: String) throws -> String {
        (try CLI.temporaryFile("x", "") as NSString).deletingLastPathComponent + "/" + name
    }

    static func logs(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".ulg") }.sorted()
            .map { directory + "/" + $0 }
    }

    static func records(_ path: String) throws -> [ULogRecord] {
        var reader = try ULogReader(contentsOfFile: path)
        var out: [ULogRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    /// Waits (bounded) for the daemon's first line, printed once its log and link are open,
    /// so that a peer started next is heard from its first message.
    static func waitForStart(_ pipe: Pipe) -> String {
        var text = Data()
        let deadline = Date().addingTimeInterval(60)
        while !text.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let more = pipe.fileHandleForReading.availableData
            if more.isEmpty { break }
            text.append(more)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Runs a bash command line (for `ulimit`, whose -f counts KiB in bash).
    static func shell(_ line: String) throws -> CLI.Result {
        try CLI.run(executable: URL(fileURLWithPath: "/bin/bash"), ["-c", line])
    }

    @Test("a full disk (writes fail) stops recording cleanly; detection and alerts go on; the signed log verifies up to the failure")
    func diskFull() throws {
        let dir = try Self.directory("full")
        let key = dir + "/device.key"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try CLI.run(executable: Self.daemon, ["keygen", "--out", key]).status == 0)
        let uncapped = try CLI.run(executable: Self.daemon, [
            "--simulate", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir + "/uncapped"])
        // RLIMIT_FSIZE makes the kernel refuse writes past 200 KiB, as a full disk does.
        let capped = try Self.shell(
            "ulimit -f 200 && exec '\(Self.daemon.path)' --simulate --speed 0 --mavlink-port 0 --log-dir '\(dir)/capped' --sign-key '\(key)'")
        #expect(capped.status == 0, "\(capped.stderr)")
        #expect(capped.stdout.contains("RECORDING STOPPED: cannot write"), "\(capped.stdout)")
        // Every detection is still announced, after the stop as before.
        func announced(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter { $0.hasPrefix("snuffeld: LAB?") || $0.hasPrefix("snuffeld: smell") }
        }
        #expect(!announced(uncapped.stdout).isEmpty)
        #expect(announced(capped.stdout) == announced(uncapped.stdout))
        let stop = try #require(capped.stdout.range(of: "RECORDING STOPPED"))
        #expect(capped.stdout[stop.upperBound...].contains("LAB? mdma-synthesis"), "an alert after recording stopped")
        let log = try #require(Self.logs(in: dir + "/capped").first)
        let size = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
        #expect(size == 200 * 1024)
        let verify = try CLI.run(["verify", log, "--key", key + ".pub"])
        #expect(verify.status == 2 && verify.stdout.contains("truncated"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("below the free-space floor recording stops at once, the log is closed whole, and the daemon says so")
    func freeSpaceFloor() throws {
        let dir = try Self.directory("floor")
        let r = try CLI.run(executable: Self.daemon, [
            "--simulate", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir, "--min-free-mb", "100000000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("RECORDING STOPPED: only"), "\(r.stdout)")
        #expect(r.stdout.contains("LAB? mdma-synthesis"), "alerts go on")
        let log = try #require(Self.logs(in: dir).first)
        let messages = try Self.records(log).compactMap { if case .logging(let m) = $0 { return m.text } else { return nil } }
        #expect(messages.contains { $0.hasPrefix("RECORDING STOPPED: only") }, "\(messages)")
        let replay = try CLI.run(["replay", log, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any]
        #expect((object?["flight"] as? [String: Any])?["truncated_bytes"] as? Int == 0, "closed whole")
    }

    @Test("kill -9 mid-flight: the log reads back up to the last flush and verifies as truncated there")
    func killNine() throws {
        let dir = try Self.directory("kill")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let key = dir + "/device.key"
        #expect(try CLI.run(executable: Self.daemon, ["keygen", "--out", key]).status == 0)
        let process = Process()
        process.executableURL = Self.daemon
        process.arguments = ["--simulate", "--speed", "20", "--mavlink-port", "0", "--log-dir", dir + "/logs", "--sign-key", key]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait (bounded) until a few flushes have reached the file, then cut the power.
        let deadline = Date().addingTimeInterval(60)
        var log: String?
        while Date() < deadline && process.isRunning {
            log = log ?? Self.logs(in: dir + "/logs").first
            if let log, ((try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int ?? 0) > 60_000 { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let path = try #require(log)
        let records = try Self.records(path)
        #expect(records.contains { if case .sample = $0 { return true } else { return false } })
        let verify = try CLI.run(["verify", path, "--key", key + ".pub"])
        #expect(verify.status == 2, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("truncated"), "\(verify.stdout)")
    }

    @Test("a corrupted configuration is refused at start, naming the file and what is wrong; nothing is logged")
    func corruptedConfiguration() throws {
        let good = try String(contentsOfFile: CLI.root + "/deploy/payload.example.toml", encoding: .utf8)
        let dir = try Self.directory("corrupt")
        // Cut in the middle of a table, as a write interrupted by a power cut leaves it.
        let path = try CLI.temporaryFile("payload.toml", String(good.prefix(good.count / 2)) + "\n[[channels]\nid = ")
        let r = try CLI.run(executable: Self.daemon, ["--simulate", "--config", path, "--log-dir", dir, "--mavlink-port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("payload configuration was refused") && r.stderr.contains(path), "\(r.stderr)")
        #expect(Self.logs(in: dir).isEmpty)
    }

    @Test("under systemd: READY=1 once the log is open, watchdog pings, STOPPING=1 at the end (sd_notify without libsystemd)")
    func systemdNotify() throws {
        try #require(ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] != "1")
        let dir = try Self.directory("notify")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let socket = dir + "/notify.sock"
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listener.arguments = ["python3", CLI.root + "/Tests/peers/notify_socket.py", socket, "60"]
        let heard = Pipe()
        listener.standardOutput = heard
        try listener.run()
        // Wait for the listener to say it is bound.
        let first = heard.fileHandleForReading.availableData
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("listening"))
        let daemon = Process()
        daemon.executableURL = Self.daemon
        daemon.arguments = ["--simulate", "--scenario", "mdma-lab", "--speed", "100", "--mavlink-port", "0", "--log-dir", dir + "/logs"]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = socket
        environment["WATCHDOG_USEC"] = "200000"
        daemon.environment = environment
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        daemon.waitUntilExit()
        let rest = heard.fileHandleForReading.readDataToEndOfFile()
        listener.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let messages = try #require(try JSONSerialization.jsonObject(with: rest) as? [String])
        #expect(messages.first?.hasPrefix("READY=1") == true, "\(messages)")
        let pings = messages.filter { $0.hasPrefix("WATCHDOG=1\nSTATUS=recording; ") }
        #expect(pings.count >= 3, "\(messages)")
        #expect(messages.last == "STOPPING=1")
    }

    @Test("a pymavlink autopilot: its positions, attitude, wind and UTC are logged; its silence is logged as a lost link and poses are missing meanwhile")
    func liveAutopilot() throws {
        try #require(ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] != "1")
        let dir = try Self.directory("live")
        let port = UInt16.random(in: 30_000...60_000)
        let daemon = Process()
        daemon.executableURL = Self.daemon
        daemon.arguments = ["--simulate", "--autopilot-poses", "--mavlink-port", "\(port)", "--log-dir", dir]
        let printed = Pipe()
        daemon.standardOutput = printed
        try daemon.run()
        let started = Self.waitForStart(printed)
        // The autopilot talks for 2 s, is silent for 4 s (the daemon's timeout is 3 s), and
        // talks again for 2 s.
        let autopilot = Process()
        autopilot.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        autopilot.arguments = ["python3", CLI.root + "/Tests/peers/autopilot_udp.py", "\(port)", "8", "2", "6"]
        let heard = Pipe()
        autopilot.standardOutput = heard
        try autopilot.run()
        let report = heard.fileHandleForReading.readDataToEndOfFile()
        autopilot.waitUntilExit()
        daemon.terminate()
        let output = started + String(decoding: printed.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        daemon.waitUntilExit()
        try #require(autopilot.terminationStatus == 0, "the pymavlink autopilot failed (pip install pymavlink==2.4.50)")
        #expect(daemon.terminationStatus == 0, "\(output)")
        #expect(output.contains("autopilot link up: ArduPilot, system 1"), "\(output)")
        #expect(output.contains("autopilot link lost") && output.contains("autopilot link back after"), "\(output)")

        let object = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any])
        let sent = (object["positions"] as? [[String: Int]]) ?? []
        let bootUTC = try #require(object["boot_utc_us"] as? Int)
        // What we sent, as pymavlink decoded it, means what we meant.
        let ours = ((object["received"] as? [[String: Any]]) ?? []).filter { $0["component"] as? Int == 191 }
        let heartbeat = ours.first { $0["type"] as? String == "HEARTBEAT" }?["fields"] as? [String: Any]
        #expect(heartbeat?["type"] as? Int == 18 && heartbeat?["autopilot"] as? Int == 8, "MAV_TYPE_ONBOARD_CONTROLLER, MAV_AUTOPILOT_INVALID: \(heartbeat ?? [:])")
        let values = ours.filter { $0["type"] as? String == "NAMED_VALUE_FLOAT" }.compactMap { $0["fields"] as? [String: Any] }
        let names = Set(values.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["LOG_OK", "SENS_BAD", "AP_LINK"]), "\(names)")
        #expect(values.contains { $0["name"] as? String == "LOG_OK" && $0["value"] as? Double == 1 })
        let linkUp = ours.first { ($0["fields"] as? [String: Any])?["text"] as? String == "snuffeld: autopilot link up: ArduPilot, system 1" }
        #expect((linkUp?["fields"] as? [String: Any])?["severity"] as? Int == 6, "link up is INFO")
        let log = try #require(Self.logs(in: dir).first)
        let records = try Self.records(log)
        let poses = records.compactMap { if case .pose(let p) = $0 { return p } else { return nil } }
        #expect(poses.count >= sent.count - 3 && poses.count <= sent.count, "\(poses.count) poses for \(sent.count) sent")
        // Each pose is a position sent, with its UTC (boot_utc_us + boot time) and the attitude.
        let byUTC = Dictionary(sent.map { (UInt64(bootUTC + $0["boot_ms"]! * 1000), $0) }, uniquingKeysWith: { a, _ in a })
        for pose in poses {
            let match = byUTC[pose.gpsTime]
            #expect(match != nil, "a pose at UTC \(pose.gpsTime) was not sent")
            if let match {
                #expect(abs(pose.latitude - Double(match["lat"]!) * 1e-7) < 1e-9)
                #expect(abs(pose.longitude - Double(match["lon"]!) * 1e-7) < 1e-9)
            }
            #expect(pose.yaw == 1.25 && pose.altitude == 30)
        }
        // No pose falls in the silence: a gap of more than 3 s between consecutive poses.
        let gaps = zip(poses.dropFirst(), poses).map { $0.time - $1.time }
        #expect(gaps.filter { $0 > 3_000_000 }.count == 1, "\(gaps.max() ?? 0)")
        #expect(records.contains { if case .clock(let c) = $0 { return c.utc >= UInt64(bootUTC) } else { return false } })
        // WIND from 240° at 3.5 m/s: towards 60°.
        #expect(records.contains {
            if case .wind(let w) = $0 { return abs(Double(w.east) - 3.5 * sin(.pi / 3)) < 1e-4 && abs(Double(w.north) - 3.5 * cos(.pi / 3)) < 1e-4 }
            return false
        })
        let texts = records.compactMap { if case .logging(let m) = $0 { return m.text } else { return nil } }
        #expect(texts.contains { $0.hasPrefix("autopilot link lost") } && texts.contains { $0.hasPrefix("autopilot link back") }, "\(texts)")
        // The samples went on through the silence.
        let sampleTimes = records.compactMap { if case .sample(let s) = $0 { return s.time } else { return nil } }
        if let lost = poses.indices.dropFirst().first(where: { poses[$0].time - poses[$0 - 1].time > 3_000_000 }) {
            let (from, to) = (poses[lost - 1].time, poses[lost].time)
            #expect(sampleTimes.filter { $0 > from && $0 < to }.count > 20, "samples recorded while the autopilot was silent")
        }
    }

    @Test("MAVLink over a serial line (libserialport on a pty): poses from a pymavlink autopilot, and our HEARTBEAT and values back",
          .enabled(if: ProcessInfo.processInfo.environment["LD_PRELOAD"]?.contains("pty-shim") == true,
                   "libserialport opens a pty only with the shim scripts/test preloads"))
    func serialAutopilot() throws {
        try #require(ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] != "1")
        let dir = try Self.directory("serial")
        let autopilot = Process()
        autopilot.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        autopilot.arguments = ["python3", CLI.root + "/Tests/peers/autopilot_pty.py", "5"]
        let heard = Pipe()
        autopilot.standardOutput = heard
        try autopilot.run()
        // The first line is the pty's path.
        var first = Data()
        while !first.contains(UInt8(ascii: "\n")) {
            let more = heard.fileHandleForReading.availableData
            if more.isEmpty { break }
            first.append(more)
        }
        let lines = String(decoding: first, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let tty = try #require(lines.first.map(String.init), "the autopilot printed no pty")
        let daemon = Process()
        daemon.executableURL = Self.daemon
        daemon.arguments = ["--simulate", "--autopilot-poses", "--mavlink-serial", tty, "--mavlink-baud", "921600", "--log-dir", dir]
        let printed = Pipe()
        daemon.standardOutput = printed
        try daemon.run()
        var rest = Data(lines.dropFirst().joined(separator: "\n").utf8)
        rest.append(heard.fileHandleForReading.readDataToEndOfFile())
        autopilot.waitUntilExit()
        daemon.terminate()
        let output = String(decoding: printed.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        daemon.waitUntilExit()
        try #require(autopilot.terminationStatus == 0, "the pymavlink autopilot failed")
        #expect(daemon.terminationStatus == 0, "\(output)")
        #expect(output.contains("MAVLink on \(tty) at 921600 baud"), "\(output)")
        #expect(output.contains("autopilot link up: ArduPilot, system 1"), "\(output)")
        let object = try #require(try JSONSerialization.jsonObject(with: rest) as? [String: Any])
        let received = (object["received"] as? [[String: Any]]) ?? []
        #expect(received.contains { $0["type"] as? String == "HEARTBEAT" && $0["component"] as? Int == 191 }, "\(received.prefix(5))")
        #expect(received.contains { $0["type"] as? String == "NAMED_VALUE_FLOAT" })
        let log = try #require(Self.logs(in: dir).first)
        let poses = try Self.records(log).compactMap { if case .pose(let p) = $0 { return p } else { return nil } }
        let sent = (object["positions"] as? [[String: Int]]) ?? []
        #expect(poses.count >= sent.count / 2, "\(poses.count) poses of \(sent.count) sent")
        if let last = poses.last, let match = sent.first(where: { abs(Double($0["lat"] ?? 0) * 1e-7 - last.latitude) < 1e-9 }) {
            #expect(abs(Double(match["lon"] ?? 0) * 1e-7 - last.longitude) < 1e-9)
        } else {
            Issue.record("the last pose is not a position that was sent")
        }
    }

    @Test("snuffeld keygen makes a key pair and never overwrites one")
    func keygen() throws {
        let dir = try Self.directory("keys")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let first = try CLI.run(executable: Self.daemon, ["keygen", "--out", dir + "/device.key"])
        #expect(first.status == 0 && first.stdout.contains("device id"), "\(first.stderr)")
        let mode = (try FileManager.default.attributesOfItem(atPath: dir + "/device.key")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        let again = try CLI.run(executable: Self.daemon, ["keygen", "--out", dir + "/device.key"])
        #expect(again.status != 0)
    }
}

/// `snuffeld` reading a payload's parts: the Raspberry Pi payload as simulated twins with
/// faults mid-flight, and on this machine's (missing) hardware.
@Suite("snuffeld reading the payload's parts")
struct DaemonPartsTests {
    @Test("simulated twins with a fault in each of two parts: each is degraded and comes back, the others go on, and the log replays to the same detections")
    func simulatedFaults() throws {
        let dir = try DaemonFaultTests.directory("parts")
        let r = try CLI.run(executable: DaemonTests.daemon, [
            "--simulate", "--config", "deploy/payload.pi.toml", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir,
            "--simulate-fault", "sgp41:unplug:60-100", "--simulate-fault", "ze07:nack:150-200",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        for source in ["sgp41", "ze07"] {
            #expect(r.stdout.contains("SENSOR DEGRADED: \(source) "), "\(r.stdout)")
            #expect(r.stdout.contains("sensor back: \(source) "), "\(r.stdout)")
        }
        #expect(r.stdout.contains("simulated fault: sgp41 unplug begins"))
        let log = try #require(DaemonFaultTests.logs(in: dir).first)
        let records = try DaemonFaultTests.records(log)
        let texts = records.compactMap { if case .logging(let m) = $0 { return m.text } else { return nil } }
        #expect(texts.contains { $0.hasPrefix("SENSOR DEGRADED: sgp41") }, "\(texts)")
        let samples = records.compactMap { if case .sample(let s) = $0 { return s } else { return nil } }
        let start = try #require(samples.first?.time)
        func count(_ channel: UInt16, _ from: Double, _ to: Double) -> Int {
            samples.filter { $0.channel == channel && $0.time >= start + UInt64(from * 1e6) && $0.time < start + UInt64(to * 1e6) }.count
        }
        // Channels: voc_raw 0, nox_raw 1, gas_r 2, pid 3 (10 Hz), ..., co 6, temp 7.
        #expect(count(0, 65, 95) == 0, "no SGP41 samples while it is unplugged")
        #expect(count(3, 65, 95) >= 270, "the PID goes on at 10 Hz: \(count(3, 65, 95))")
        #expect(count(7, 65, 95) >= 28, "the SHT4x goes on")
        #expect(count(6, 155, 195) == 0 && count(6, 210, 240) >= 25, "the CO module is silent in its fault and back after")
        let replay = try CLI.run(["replay", log, "--no-timeline"])
        #expect(replay.stdout.contains("in flight: the same"), "\(replay.stdout)")
    }

    @Test("on a machine without the payload's bus, every part is reported degraded and retried; the daemon keeps running and ends cleanly")
    func missingHardware() throws {
        try #require(!FileManager.default.fileExists(atPath: "/dev/i2c-1"), "this machine has an I2C bus 1")
        let dir = try DaemonFaultTests.directory("nohw")
        let process = Process()
        process.executableURL = DaemonTests.daemon
        process.arguments = ["--config", "deploy/payload.pi.toml", "--mavlink-port", "0", "--log-dir", dir]
        process.currentDirectoryURL = URL(fileURLWithPath: CLI.root)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Wait (bounded) for the log to exist and the first degradations to be written.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let log = DaemonFaultTests.logs(in: dir).first,
               ((try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int ?? 0) > 0,
               let records = try? DaemonFaultTests.records(log),
               records.contains(where: { if case .logging(let m) = $0 { return m.text.contains("sgp41") } else { return false } }) {
                break
            }
            usleep(50_000)
        }
        process.terminate()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(printed)")
        #expect(printed.contains("SENSOR DEGRADED: sgp41") && printed.contains("no such I2C bus"), "\(printed)")
        #expect(printed.contains("no MAVLink link: the log will have no positions"))
        #expect(printed.contains("stopped by a signal"))
    }
}

@Suite("The systemd unit")
struct ServiceUnitTests {
    static let unit = (try? String(contentsOfFile: CLI.root + "/deploy/snuffeld.service", encoding: .utf8)) ?? ""

    /// `Key=value` lines of the unit, continuation lines joined.
    static var settings: [(String, String)] {
        unit.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    static func value(_ key: String) -> String? { settings.first { $0.0 == key }?.1 }

    @Test("Type=notify with a watchdog, an unprivileged user in the i2c, gpio and dialout groups, restarts on failure, SIGTERM to stop")
    func settingsForAService() {
        #expect(Self.value("Type") == "notify")
        #expect(Self.value("WatchdogSec").flatMap(Int.init).map { $0 > 0 } == true)
        #expect(Self.value("User") == "snuffel")
        #expect(Set((Self.value("SupplementaryGroups") ?? "").split(separator: " ").map(String.init)) == ["i2c", "gpio", "dialout"])
        #expect(Self.value("Restart") == "on-failure")
        #expect(Self.value("KillSignal") == "SIGTERM")
    }

    @Test("every option of ExecStart is one snuffeld run takes")
    func execStartOptions() throws {
        let exec = try #require(Self.value("ExecStart"))
        let options = exec.split(separator: " ").filter { $0.hasPrefix("--") }.map(String.init)
        #expect(!options.isEmpty)
        let help = try CLI.run(executable: DaemonTests.daemon, ["run", "--help"])
        for option in options { #expect(help.stdout.contains(option), "snuffeld run has no \(option)") }
        #expect(!options.contains("--simulate"), "the service reads the real payload")
    }

    @Test("systemd-analyze verify accepts the unit (every key known)")
    func systemdAccepts() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is not installed")
        let path = try CLI.temporaryFile("snuffeld.service", Self.unit.replacingOccurrences(of: "/usr/local/bin/snuffeld", with: DaemonTests.daemon.path))
        let r = try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["verify", path])
        let complaints = r.stderr.split(separator: "\n").filter { $0.contains("snuffeld.service") }
        #expect(complaints.isEmpty, "\(complaints)")
    }
}

@Suite("snuffeld's evidence sampler")
struct DaemonSamplerTests {
    @Test("a flight over a lab runs tubes for its alerts; each tube is in the log with its detection and position, and replay lists them")
    func tubesForAlerts() throws {
        let dir = try DaemonFaultTests.directory("tubes")
        let r = try CLI.run(executable: DaemonTests.daemon, [
            "--simulate", "--config", "deploy/payload.pi.toml", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("TUBE 1 sampling for 60 s"), "\(r.stdout)")
        let log = try #require(DaemonFaultTests.logs(in: dir).first)
        let replay = try CLI.run(["replay", log, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any])
        let tubes = try #require(object["tubes"] as? [[String: Any]])
        let detections = try #require(object["detections"] as? [[String: Any]])
        #expect(!tubes.isEmpty)
        #expect(tubes.map { $0["tube"] as? Int } == Array(1...tubes.count), "tubes run in order, none twice")
        for tube in tubes {
            #expect(tube["reason"] as? String == "detection")
            let sequence = try #require(tube["detection"] as? Int)
            let detection = detections.first { $0["sequence"] as? Int == sequence }
            #expect(detection?["alert"] as? Bool == true, "tube for detection #\(sequence), which is an alert")
            #expect((detection?["lab_or_dump_confidence"] as? Double ?? 0) >= 0.6)
            #expect(tube["lat"] as? Double != nil && tube["complete"] as? Bool == true)
            let start = try #require(tube["start_us"] as? Int), end = try #require(tube["end_us"] as? Int)
            #expect(end - start == 60_000_000)
        }
        let text = try CLI.run(["replay", log, "--no-timeline"])
        #expect(text.stdout.contains("evidence samples (sorbent tubes) for the laboratory:"), "\(text.stdout)")
        // The report lists them for the laboratory too.
        let html = dir + "/report.html"
        let report = try CLI.run(["report", log, "--out", html])
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for tube in tubes {
            let number = tube["tube"] as? Int ?? 0, detection = tube["detection"] as? Int ?? -1
            #expect(page.contains("<td>tube \(number)</td>") && page.contains("for detection #\(detection); from 2026-"), "tube \(number) not in the report")
        }
        #expect(!page.contains("None taken"))
    }

    @Test("at full speed without simulated parts (the flight's samples fed directly), a tube still runs its time and is switched off")
    func tubesAtFullSpeedWithoutParts() throws {
        let pi = try String(contentsOfFile: CLI.root + "/deploy/payload.pi.toml", encoding: .utf8)
        // The Pi payload without its [[sources]] and channel sources, its sampler kept.
        var lines = pi.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("source = ") && !$0.hasPrefix("source_channel = ") }
            .map { $0.hasPrefix("signatures = ") ? "signatures = \"\(CLI.root)/calibration/signatures.toml\"" : $0 }
        while let first = lines.firstIndex(of: "[[sources]]") {
            let end = lines[(first + 1)...].firstIndex { $0.hasPrefix("[") || $0.hasPrefix("# ---") } ?? lines.count
            lines.removeSubrange(first..<end)
        }
        let payload = try CLI.temporaryFile("payload.toml", lines.joined(separator: "\n"))
        let dir = try DaemonFaultTests.directory("tubes-direct")
        let r = try CLI.run(executable: DaemonTests.daemon, [
            "--simulate", "--config", payload, "--speed", "0", "--mavlink-port", "0", "--log-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("parts:"), "no simulated parts: \(r.stdout)")
        #expect(r.stdout.contains("tube 1 done after 60.0 s"), "\(r.stdout)")
        #expect(!r.stdout.contains("cut short"))
    }

    @Test("the operator runs a tube over MAVLink (pymavlink COMMAND_LONG): it is acknowledged, announced, logged; a second one while it runs is rejected")
    func operatorRequest() throws {
        try #require(ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] != "1")
        let dir = try DaemonFaultTests.directory("operator")
        let port = UInt16.random(in: 30_000...60_000)
        let daemon = Process()
        daemon.executableURL = DaemonTests.daemon
        daemon.arguments = ["--simulate", "--config", "deploy/payload.pi.toml", "--speed", "2", "--mavlink-port", "\(port)", "--log-dir", dir]
        daemon.currentDirectoryURL = URL(fileURLWithPath: CLI.root)
        let printed = Pipe()
        daemon.standardOutput = printed
        try daemon.run()
        let started = DaemonFaultTests.waitForStart(printed)
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        peer.arguments = ["python3", CLI.root + "/Tests/peers/operator_sample.py", "\(port)", "4"]
        let heard = Pipe()
        peer.standardOutput = heard
        try peer.run()
        let report = heard.fileHandleForReading.readDataToEndOfFile()
        peer.waitUntilExit()
        daemon.terminate()
        let output = started + String(decoding: printed.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        daemon.waitUntilExit()
        try #require(peer.terminationStatus == 0, "the pymavlink operator failed (pip install pymavlink==2.4.50)")
        #expect(daemon.terminationStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any])
        let acks = (object["acks"] as? [[String: Int]]) ?? []
        #expect(acks.count == 2, "\(acks)")
        #expect(acks.first?["command"] == 31010 && acks.first?["result"] == 0, "the first request is accepted: \(acks)")
        #expect(acks.first?["target_system"] == 255 && acks.first?["target_component"] == 190 && acks.first?["from_component"] == 191)
        #expect(acks.last?["result"] == 1, "while tube 1 runs, another request is temporarily rejected")
        let texts = (object["texts"] as? [String]) ?? []
        #expect(texts.contains { $0.contains("TUBE 1 sampling") }, "\(texts)")
        #expect(output.contains("the operator asked"), "\(output)")
        let log = try #require(DaemonFaultTests.logs(in: dir).first)
        let tubes = try DaemonFaultTests.records(log).compactMap { if case .tube(let t) = $0 { return t } else { return nil } }
        #expect(tubes.count == 1)
        #expect(tubes.first?.reason == .operatorRequest && tubes.first?.tube == 1 && tubes.first?.isComplete == false, "cut short when the flight was stopped")
    }
}

@Suite("snuffeld's log rotation")
struct DaemonRotationTests {
    func directory(with old: Int) throws -> String {
        let dir = try DaemonFaultTests.directory("rotate")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in 1...old { try "old flight \(i)".write(toFile: dir + "/snuffel-2026-01-0\(i)T000000.ulg", atomically: true, encoding: .utf8) }
        try "not a log".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        return dir
    }

    func names(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    @Test("--max-logs removes the oldest flight logs before a new flight, says so in the log, and touches nothing else")
    func byCount() throws {
        let dir = try directory(with: 4)
        let r = try CLI.run(executable: DaemonTests.daemon, ["--simulate", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir, "--max-logs", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let left = names(dir)
        #expect(left.count == 4 && left.contains("notes.txt"), "\(left)")
        #expect(!left.contains("snuffel-2026-01-01T000000.ulg") && !left.contains("snuffel-2026-01-02T000000.ulg"))
        #expect(left.contains("snuffel-2026-01-04T000000.ulg"))
        let new = try #require(left.first { $0.hasPrefix("snuffel-2026-09") })
        let texts = try DaemonFaultTests.records(dir + "/" + new).compactMap { if case .logging(let m) = $0 { return m.text } else { return nil } }
        #expect(texts.contains { $0.contains("removed 2 old log(s)") }, "\(texts)")
    }

    @Test("without --max-logs no log is ever removed")
    func keepsEverything() throws {
        let dir = try directory(with: 3)
        let r = try CLI.run(executable: DaemonTests.daemon, ["--simulate", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir, "--min-free-mb", "100000000"])
        #expect(r.status == 0)
        #expect(names(dir).filter { $0.hasPrefix("snuffel-2026-01") }.count == 3)
    }

    @Test("below the free-space floor rotation removes old logs down to the newest")
    func byFreeSpace() throws {
        let dir = try directory(with: 3)
        let r = try CLI.run(executable: DaemonTests.daemon, [
            "--simulate", "--speed", "0", "--mavlink-port", "0", "--log-dir", dir, "--max-logs", "10", "--min-free-mb", "100000000"])
        #expect(r.status == 0)
        #expect(names(dir).filter { $0.hasPrefix("snuffel-2026-01") } == ["snuffel-2026-01-03T000000.ulg"])
    }
}
