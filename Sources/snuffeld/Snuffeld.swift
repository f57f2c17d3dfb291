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

/// The onboard daemon: `snuffeld [run] --simulate ...`, and `snuffeld keygen`.
@main
struct Snuffeld: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snuffeld",
        abstract: "The onboard daemon: real-time detection, alerts to the ground station over MAVLink, and the flight log.",
        discussion: """
            `snuffeld --simulate` (the same as `snuffeld run --simulate`) flies a simulated \
            scenario through the daemon; `snuffeld keygen` makes the device key that signs the \
            flight logs. See `snuffeld run --help` for the daemon's options and deploy/README.md \
            for running it as a systemd service on a companion computer.
            """,
        subcommands: [RunCommand.self, KeygenCommand.self],
        defaultSubcommand: RunCommand.self)
}

/// `snuffeld keygen`: the device key, as `snuffel keygen` makes it, for a drone that has only
/// the daemon installed.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make this drone's device key for signing flight logs.",
        discussion: """
            Writes a new Ed25519 private key to FILE, readable by its owner only (mode 0600), and \
            its public key to FILE.pub, and prints the public key and the device id derived from \
            it. An existing key file is never overwritten. Start the daemon with --sign-key FILE; \
            give FILE.pub to whoever verifies the logs (`snuffel verify LOG --key FILE.pub`).

            Example:
              sudo -u snuffel snuffeld keygen --out /var/lib/snuffel/device.key
            """)

    @Option(help: ArgumentHelp("The private key file to create (mode 0600); the public key goes to FILE.pub.", valueName: "file"))
    var out: String

    func run() throws {
        let key = DeviceKey()
        do {
            try key.write(toFile: out)
            try key.publicKey.write(toFile: out + ".pub")
        } catch {
            throw ValidationError(error.description)
        }
        print("private key: \(out) (mode 0600; keep it on the drone)")
        print("public key:  \(out).pub")
        print(key.publicKey.hex)
        print("device id (default): \(key.publicKey.fingerprintID)")
    }
}

/// The daemon itself. For now it runs against a simulated payload; the autopilot may be
/// simulated too or real (over UDP or a serial port).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon (the default command).",
        discussion: """
            snuffeld reads the payload's sensors, runs the detection pipeline sample by sample, \
            records everything to a flight log (flushed every second) and tells the ground station \
            over MAVLink: a HEARTBEAT as an onboard computer (component 191) every second, a \
            STATUSTEXT for each detection (CRITICAL for a likely lab) and for the daemon's own \
            events, and live values (VOCIDX, NOXIDX, PID_PPB, MAXSIGMA, LOG_OK) twice a second. \
            SIGTERM or SIGINT (Ctrl-C) ends the flight: the log is completed and closed, and the \
            daemon exits with status 0.

            The autopilot: by default poses come from the simulated flight. With \
            --autopilot-poses they come from the autopilot on the MAVLink link (GLOBAL_POSITION_INT \
            with ATTITUDE, or GPS_RAW_INT without a fused position), with its wind (WIND or \
            WIND_COV) and UTC (SYSTEM_TIME); use --speed 1 then. When the autopilot falls silent for \
            3 s the daemon says so (log, STATUSTEXT, standard output), goes on sampling and \
            recording with poses missing, and says when it is back.

            The link listens on a UDP port (--mavlink-port, default 14550) and answers whoever \
            sends to it, or uses a serial port (--mavlink-serial, e.g. the autopilot's TELEM2).

            The log: one file per run in --log-dir, named by the flight's UTC start, never \
            overwritten. When less than --min-free-mb is free on its disk, or a write fails (the \
            disk full), recording stops cleanly (the log stays readable and verifiable up to \
            there) while detection and alerts go on, and the daemon says so.

            Under systemd (Type=notify, deploy/snuffeld.service) it reports READY=1 when the log \
            is open, pings the watchdog, and STOPPING=1 at the end.

            This version runs with --simulate only: the sensors come from a scenario of the \
            simulator (see snuffel simulate), paced in real time or faster. Reading real sensors \
            (snuffel probe shows them) is not wired in yet.

            Examples:
              snuffeld --simulate --scenario mdma-lab
              snuffeld --simulate --scenario waste-dump-manure --speed 20 --log-dir /tmp/logs
              snuffeld --simulate --autopilot-poses --mavlink-serial /dev/ttyAMA0 --mavlink-baud 921600
            """)

    @Flag(help: "Run against the simulated payload and flight of a scenario (required for now).")
    var simulate = false

    @Option(help: ArgumentHelp("The scenario: a name in scenarios/ or a TOML file.", valueName: "name|file"))
    var scenario = "mdma-lab"

    @Option(name: [.short, .long], help: ArgumentHelp("Payload configuration (TOML).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Directory for the flight log (one file per run, never overwritten).", valueName: "dir"))
    var logDir = "."

    @Option(help: ArgumentHelp("Stop recording (cleanly) when less than this is free on the log's disk, MB.", valueName: "MB"))
    var minFreeMb: UInt64 = 100

    @Option(help: ArgumentHelp("Time runs this many times faster than real time; 0 runs as fast as it can.", valueName: "factor"))
    var speed = 1.0

    @Option(help: ArgumentHelp("UDP port for MAVLink; 0 for none.", valueName: "port"))
    var mavlinkPort: UInt16 = 14550

    @Option(help: ArgumentHelp("A serial port to the autopilot for MAVLink, instead of UDP.", valueName: "device"))
    var mavlinkSerial: String?

    @Option(help: ArgumentHelp("The serial port's speed.", valueName: "baud"))
    var mavlinkBaud = 57_600

    @Flag(help: "Take poses, wind and UTC from the autopilot on the MAVLink link instead of the simulated flight.")
    var autopilotPoses = false

    @Option(help: ArgumentHelp("MAVLink system id to send with (the autopilot's).", valueName: "id"))
    var systemID: UInt8 = 1

    @Option(help: ArgumentHelp(
        "Sign the flight log with this device key (made by `snuffeld keygen`); check it with `snuffel verify LOG --key PUB`.",
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
        if autopilotPoses && mavlinkPort == 0 && mavlinkSerial == nil {
            throw ValidationError("--autopilot-poses needs a MAVLink link: --mavlink-port or --mavlink-serial")
        }
        if autopilotPoses && speed != 1 {
            throw ValidationError("--autopilot-poses runs in real time: the autopilot's clock does not speed up (drop --speed)")
        }
        if mavlinkSerial != nil && !PayloadSource.baudRates.contains(mavlinkBaud) {
            throw ValidationError("--mavlink-baud: expected one of \(PayloadSource.baudRates.map(String.init).joined(separator: ", "))")
        }
    }

    func run() throws {
        let notifier = ServiceNotifier(environment: ProcessInfo.processInfo.environment, processID: getpid())
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
        // A write past a file-size limit must fail with EFBIG, as a full disk fails with
        // ENOSPC, rather than kill the daemon.
        signal(SIGXFSZ, SIG_IGN)
        let recorder = try FlightRecorder(
            path: path, pipeline: try Pipeline(configuration: payload.pipeline), startTime: flight.monotonicStart,
            utcOffset: autopilotPoses ? nil : Int64(clamping: flight.utcAtStart) &- Int64(clamping: flight.monotonicStart),
            payloadTOML: payload.payloadFile.text, signaturesTOML: payload.signaturesFile.text,
            calibrationTOML: payload.calibrationFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) },
            info: [(SnuffelLogKey.writer, "snuffeld --simulate"), (SnuffelLogKey.scenario, loaded.name),
                   (SnuffelLogKey.payloadPath, configPath)],
            sealer: sealer)
        let link: (any MAVLinkTransport)?
        do {
            if let mavlinkSerial {
                link = try MAVLinkSerialLink(device: mavlinkSerial, baudRate: mavlinkBaud)
            } else {
                link = mavlinkPort == 0 ? nil : try MAVLinkUDPLink(port: mavlinkPort)
            }
        } catch {
            throw ValidationError("the MAVLink link cannot be opened: \(error)")
        }
        var options = OnboardDaemon.Options()
        options.poseSource = autopilotPoses ? .autopilot : .caller
        options.logDirectory = logDir
        options.minimumFreeBytes = minFreeMb << 20
        options.systemID = systemID
        let daemon = OnboardDaemon(
            recorder: recorder, link: link,
            messages: GroundStationMessages(channels: payload.pipeline.channels, library: payload.pipeline.library),
            options: options, start: flight.monotonicStart, say: { print("snuffeld: " + $0) })
        print("snuffeld: simulating \(loaded.name) at \(speed == 0 ? "full speed" : "\(speed)× real time"); log \(path)"
            + (link.map { "; MAVLink on \($0.endpoint)" } ?? "")
            + (autopilotPoses ? "; poses from the autopilot" : ""))
        notifier.notify("READY=1\nSTATUS=recording \(path)")

        // A parent may have blocked these signals (test runners do); unblock them.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber) { _ in stopRequested.store(true, ordering: .relaxed) }
            sigaddset(&signals, signalNumber)
        }
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        let wallStart = Date()
        var nextPing = flight.monotonicStart
        var stopped = false
        /// The local time now: the simulated flight's clock, running at --speed.
        func now(_ t: UInt64) -> UInt64 {
            speed > 0 ? flight.monotonicStart &+ UInt64(max(0, Date().timeIntervalSince(wallStart)) * speed * 1e6) : t
        }
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
                if link != nil {
                    daemon.service(now: min(now(t), t), waitMilliseconds: Int(wait * 1000))
                } else if wait > 0.002 {
                    Thread.sleep(forTimeInterval: wait)
                }
                if let interval = notifier.pingInterval, t >= nextPing {
                    notifier.notify("WATCHDOG=1")
                    nextPing = t &+ UInt64(Double(interval) * max(speed, 1))
                }
                if due <= 0.2 { break }
            }
            switch event {
            case .sample(let s): daemon.record(s)
            case .pose(let p): if !autopilotPoses { daemon.record(p) }
            case .wind(let w): if !autopilotPoses { daemon.record(w) }
            }
            if link == nil { daemon.service(now: t, waitMilliseconds: 0) }
        }
        notifier.notify("STOPPING=1")
        daemon.finish(at: now(placed.events.last?.time ?? flight.monotonicStart))
        let ending = stopped ? "stopped by a signal" : "flight ended"
        print("snuffeld: \(ending): \(daemon.detections) detections, \(daemon.alerts) alerts; "
            + (daemon.recordingStopped.map { "recording stopped early (\($0)); log \(path)" } ?? "log \(path)"))
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
