import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore

import SnuffelOnboard
import SnuffelGeo
import SnuffelSigning
import SnuffelSim
import SnuffelWire
import Synchronization

/// Set by SIGTERM and SIGINT: the daemon finishes the log and exits.
let stopRequested = Atomic<Bool>(false)

/// The onboard daemon. For now it runs against a simulated payload and flight only.
@main
struct Snuffeld: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snuffeld",
        abstract: "The onboard daemon: real-time detection, alerts to the ground station over MAVLink, and the flight log.",
        discussion: """
            snuffeld reads the payload's sensors, runs the detection pipeline sample by sample, \
            records everything to a flight log (flushed every second) and tells the ground station \
            over MAVLink: a HEARTBEAT as an onboard computer (component 191) every second, a \
            STATUSTEXT for each detection (CRITICAL for a likely lab), and live values (VOCIDX, \
            NOXIDX, PID_PPB, MAXSIGMA) twice a second. SIGTERM or SIGINT (Ctrl-C) ends the \
            flight: the log is completed and closed, and the daemon exits with status 0.

            This version runs with --simulate only: the sensors and the flight come from a \
            scenario of the simulator (see snuffel simulate), paced in real time or faster. \
            Reading real sensors (snuffel probe shows them) is not wired in yet.

            The MAVLink link listens on a UDP port (--mavlink-port, default 14550) and answers \
            whoever sends to it: point the autopilot's or mavproxy's output there.

            Examples:
              snuffeld --simulate --scenario mdma-lab
              snuffeld --simulate --scenario waste-dump-manure --speed 20 --log-dir /tmp/logs
            """)

    @Flag(help: "Run against the simulated payload and flight of a scenario (required for now).")
    var simulate = false

    @Option(help: ArgumentHelp("The scenario: a name in scenarios/ or a TOML file.", valueName: "name|file"))
    var scenario = "mdma-lab"

    @Option(name: [.short, .long], help: ArgumentHelp("Payload configuration (TOML).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Directory for the flight log (one file per run, never overwritten).", valueName: "dir"))
    var logDir = "."

    @Option(help: ArgumentHelp("Time runs this many times faster than real time; 0 runs as fast as it can.", valueName: "factor"))
    var speed = 1.0

    @Option(help: ArgumentHelp("UDP port for MAVLink; 0 for none.", valueName: "port"))
    var mavlinkPort: UInt16 = 14550

    @Option(help: ArgumentHelp("MAVLink system id to send with (the autopilot's).", valueName: "id"))
    var systemID: UInt8 = 1

    @Option(help: ArgumentHelp(
        "Sign the flight log with this device key (made by `snuffel keygen`); check it with `snuffel verify LOG --key PUB`.",
        valueName: "file"))
    var signKey: String?

    @Option(help: ArgumentHelp("The device id recorded in a signed log (default: derived from the key).", valueName: "id"))
    var deviceID: String?

    func validate() throws {
        guard simulate else {
            throw ValidationError("this version of snuffeld runs only with --simulate: reading real sensors is not wired in yet (snuffel probe checks them)")
        }
        guard speed >= 0, speed.isFinite else { throw ValidationError("--speed must be 0 or more") }
        if deviceID != nil && signKey == nil { throw ValidationError("--device-id is recorded only in a signed log; give --sign-key too.") }
    }

    func run() throws {
        let root = Self.root()
        let configPath = config ?? root + "/deploy/payload.example.toml"
        let payload: PayloadConfiguration
        do { payload = try PayloadConfiguration.load(path: configPath) } catch {
            throw ValidationError("the payload configuration was refused:\n  \(error)")
        }
        let scenarioPath = FileManager.default.fileExists(atPath: scenario) ? scenario : root + "/scenarios/\(scenario).toml"
        let loaded: Scenario
        do { loaded = try Scenario.load(path: scenarioPath) } catch {
            throw ValidationError("the scenario was refused:\n  \(error)")
        }
        var sealer: SignedLogSealer?
        if let signKey {
            do { sealer = SignedLogSealer(key: try DeviceKey(contentsOfFile: signKey), deviceID: deviceID) } catch {
                throw ValidationError("--sign-key: \(error.description)")
            }
        }
        let simulator = try FlightSimulator(scenario: loaded, channels: payload.pipeline.channels, library: payload.pipeline.library)
        let placed = PlacedFlight(scenario: loaded, flight: simulator.run())
        let flight = placed.flight

        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        var path = (logDir as NSString).appendingPathComponent("snuffel-\(isoStamp(flight.utcAtStart)).ulg")
        var n = 1
        while FileManager.default.fileExists(atPath: path) {
            n += 1
            path = (logDir as NSString).appendingPathComponent("snuffel-\(isoStamp(flight.utcAtStart))-\(n).ulg")
        }
        let recorder = try FlightRecorder(
            path: path, pipeline: try Pipeline(configuration: payload.pipeline), startTime: flight.monotonicStart,
            utcOffset: Int64(clamping: flight.utcAtStart) &- Int64(clamping: flight.monotonicStart),
            payloadTOML: payload.payloadFile.text, signaturesTOML: payload.signaturesFile.text,
            calibrationTOML: payload.calibrationFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) },
            info: [(SnuffelLogKey.writer, "snuffeld --simulate"), (SnuffelLogKey.scenario, loaded.name),
                   (SnuffelLogKey.payloadPath, configPath)],
            sealer: sealer)
        let link = mavlinkPort == 0 ? nil : try MAVLinkUDPLink(port: mavlinkPort)
        var encoder = MAVLinkEncoder(systemID: systemID)
        let messages = GroundStationMessages(channels: payload.pipeline.channels, library: payload.pipeline.library)
        print("snuffeld: simulating \(loaded.name) at \(speed == 0 ? "full speed" : "\(speed)× real time"); log \(path)"
            + (link.map { "; MAVLink on \($0.endpoint)" } ?? ""))

        // A parent may have blocked these signals (test runners do); unblock them.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber) { _ in stopRequested.store(true, ordering: .relaxed) }
            sigaddset(&signals, signalNumber)
        }
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        let wallStart = Date()
        var nextHeartbeat = flight.monotonicStart, nextValues = flight.monotonicStart
        var lastPose: ULogPose?
        var detections = 0, alerts = 0
        func send(_ bytes: [UInt8]) { _ = try? link?.send(bytes) }
        func announce(_ made: [Detection]) {
            for d in made {
                detections += 1
                if d.isAlert { alerts += 1 }
                let place = lastPose.map { (latitude: $0.latitude, longitude: $0.longitude) }
                print("snuffeld: " + messages.text(of: d, position: place))
                for frame in messages.frames(for: d, position: place, encoder: &encoder) { send(frame) }
            }
        }
        var stopped = false
        flying: for event in placed.events {
            let t = event.time
            // Pace to real time, in steps of at most 0.2 s so that a stop is seen soon, and
            // listen to the autopilot meanwhile.
            while true {
                if stopRequested.load(ordering: .relaxed) {
                    stopped = true
                    break flying
                }
                let due = speed > 0 ? Double(t &- flight.monotonicStart) / 1e6 / speed - Date().timeIntervalSince(wallStart) : 0
                let wait = min(max(due, 0), 0.2)
                if let link {
                    _ = try? link.receive(timeoutMilliseconds: Int(wait * 1000))
                } else if wait > 0.002 {
                    Thread.sleep(forTimeInterval: wait)
                }
                if due <= 0.2 { break }
            }
            switch event {
            case .sample(let s): announce(try recorder.record(s))
            case .pose(let p):
                lastPose = p
                try recorder.record(p)
            case .wind(let w): try recorder.record(w)
            }
            if t >= nextHeartbeat {
                send(encoder.heartbeat())
                nextHeartbeat = t + 1_000_000
            }
            if t >= nextValues {
                for v in messages.liveValues(recorder.pipeline) {
                    send(encoder.namedValueFloat(v.name, v.value, timeBootMs: UInt32(truncatingIfNeeded: (t &- flight.monotonicStart) / 1000)))
                }
                nextValues = t + 500_000
            }
        }
        announce(try recorder.finish())
        print("snuffeld: " + (stopped ? "stopped by a signal" : "flight ended") + ": \(detections) detections, \(alerts) alerts; log \(path)")
    }

    /// The checkout holding scenarios/ and deploy/ (the current directory, or the
    /// executable's package).
    static func root() -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: "scenarios") { return fm.currentDirectoryPath }
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            if fm.fileExists(atPath: url.appendingPathComponent("scenarios").path) { return url.path }
        }
        return fm.currentDirectoryPath
    }

    func isoStamp(_ utc: UInt64) -> String {
        String(isoTime(utc).prefix(19)).replacingOccurrences(of: ":", with: "")
    }
}
