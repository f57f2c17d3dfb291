import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore

import SnuffelOnboard
import SnuffelGeo
import SnuffelHardware
import SnuffelSigning
import SnuffelSim
import SnuffelWire
import Synchronization


/// A failure at start (a refused configuration, a link that cannot open): its message, with
/// no usage text after it.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints a line for the operator and flushes it at once, even into a pipe: the journal (and
/// whoever reads the daemon) sees each event as it happens, not when a buffer fills.
func say(_ line: String) {
    print(line)
    fflush(nil)
}

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
        do {
            for line in try DeviceKey.createFiles(at: out) { print(line) }
        } catch {
            throw Failure(error.description)
        }
    }
}

/// The daemon itself: the payload's parts (or their simulated twins), the autopilot over
/// MAVLink (or a simulated flight's poses), the flight log and the ground station.
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

            The autopilot: on a drone, poses come from the autopilot on the MAVLink link \
            (GLOBAL_POSITION_INT with ATTITUDE, or GPS_RAW_INT without a fused position), with its \
            wind (WIND or WIND_COV) and UTC (SYSTEM_TIME). In a simulation they come from the \
            simulated flight, or with --autopilot-poses from a live autopilot (use --speed 1 then). When the autopilot falls silent for \
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

            The payload: every [[sources]] entry of --config is read at its channels' rate — the \
            bridge microcontroller (its serial port or TCP address), I2C parts (SGP41, SHT4x, \
            BME688/680, ADS1115 inputs) and Winsen serial modules (deploy/payload.pi.toml). A part \
            that fails (NACK, bad CRC, timeout, unplugged, stuck) is marked degraded, retried \
            with backoff and started afresh when it is back; the others go on. With --simulate the \
            I2C and serial parts are simulated twins in the air of a scenario's simulated flight \
            (channels without such a part, and the bridge's, come from the flight directly); \
            --simulate-fault injects their faults.

            Evidence sampling: with a [sampler] in the payload, a lab or dump alert above its \
            confidence, or the operator's COMMAND_LONG MAV_CMD_USER_1 (31010) to component 191 \
            (param1: the tube, 0 for the next free one), runs a sorbent tube for its time.

            Examples:
              snuffeld --simulate --scenario mdma-lab
              snuffeld --simulate --scenario waste-dump-manure --speed 20 --log-dir /tmp/logs
              snuffeld --simulate --config deploy/payload.pi.toml --simulate-fault sgp41:unplug:60-90
              snuffeld --config /etc/snuffel/payload.toml --mavlink-serial /dev/ttyAMA0 --mavlink-baud 921600 \\
                  --log-dir /var/lib/snuffel/flights --sign-key /var/lib/snuffel/device.key
            """)

    @Flag(help: "Run a simulated flight of a scenario, with the payload's parts as simulated twins.")
    var simulate = false

    @Option(help: ArgumentHelp("With --simulate: the scenario, a name in scenarios/ or a TOML file.", valueName: "name|file"))
    var scenario = "mdma-lab"

    @Option(help: ArgumentHelp(
        "With --simulate: inject a fault into a simulated part, SOURCE:KIND:FROM-TO (KIND nack, crc, stuck or unplug; seconds from the start), e.g. sgp41:unplug:60-90. Repeatable.",
        valueName: "fault"))
    var simulateFault: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("Payload configuration (TOML); default deploy/payload.example.toml.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Directory for the flight log (one file per run, never overwritten).", valueName: "dir"))
    var logDir = "."

    @Option(help: ArgumentHelp("Stop recording (cleanly) when less than this is free on the log's disk, MB.", valueName: "MB"))
    var minFreeMb: UInt64 = 100

    @Option(help: ArgumentHelp(
        "Keep at most this many flight logs in --log-dir, removing the oldest before a new flight (and more of the oldest while the disk is below --min-free-mb); 0 keeps every log (the default: logs are evidence).",
        valueName: "count"))
    var maxLogs = 0

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
        if !simulate && !simulateFault.isEmpty { throw ValidationError("--simulate-fault works only with --simulate") }
        guard speed >= 0, speed.isFinite else { throw ValidationError("--speed must be 0 or more") }
        guard maxLogs >= 0 else { throw ValidationError("--max-logs must be 0 (keep all) or more") }
        if deviceID != nil && signKey == nil { throw ValidationError("--device-id is recorded only in a signed log; give --sign-key too.") }
        if autopilotPoses && mavlinkPort == 0 && mavlinkSerial == nil {
            throw ValidationError("--autopilot-poses needs a MAVLink link: --mavlink-port or --mavlink-serial")
        }
        if autopilotPoses && speed != 1 && simulate {
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
            throw Failure("the payload configuration was refused:\n  \(error)")
        }
        var loaded: Scenario?
        if simulate {
            let scenarioPath = FileManager.default.fileExists(atPath: scenario) ? scenario : root + "/scenarios/\(scenario).toml"
            do { loaded = try Scenario.load(path: scenarioPath) } catch {
                throw Failure("the scenario was refused:\n  \(error)")
            }
        } else if payload.sources.isEmpty {
            throw Failure(
                "\(configPath) declares no sensors to read ([[sources]]: the bridge, I2C parts or serial modules, and channels naming them); "
                    + "add them (deploy/payload.pi.toml is an example), or try the daemon with --simulate")
        }
        var sealer: SignedLogSealer?
        if let signKey {
            do { sealer = SignedLogSealer(key: try DeviceKey(contentsOfFile: signKey), deviceID: deviceID) } catch {
                throw Failure("--sign-key: \(error.description)")
            }
        }
        // What runs: a simulated flight (its samples, poses and wind), the payload's parts
        // (real, or their simulated twins), or both.
        var placed: PlacedFlight?
        if let loaded {
            let simulator = try FlightSimulator(scenario: loaded, channels: payload.pipeline.channels, library: payload.pipeline.library)
            placed = PlacedFlight(scenario: loaded, flight: simulator.run())
        }
        // A simulation has twins of the I2C and serial parts, not of the bridge (its
        // channels come from the simulated flight); on a drone every source is read.
        let readsParts = payload.sources.contains { $0.kind != .bridge || !simulate }
        let system = SystemClock()
        var virtual: VirtualPayload?
        let start: UInt64, utcAtStart: UInt64
        if let flight = placed?.flight {
            start = flight.monotonicStart
            utcAtStart = flight.utcAtStart
            if readsParts { virtual = try VirtualPayload(payload: payload, start: start) }
        } else {
            start = system.now()
            utcAtStart = UInt64(max(0, Date().timeIntervalSince1970 * 1e6))
        }
        var supervisor: SensorSupervisor?
        if readsParts {
            do {
                let sensors = try PayloadSensors.sensors(for: payload, access: virtual?.access ?? .hardware(), bridges: !simulate)
                supervisor = SensorSupervisor(sensors: sensors, channels: payload.pipeline.channels, start: start)
            } catch {
                throw Failure("the payload's parts cannot be read: \(error)")
            }
        }
        let faults = try simulateFault.map { try Self.fault($0, known: virtual?.sourceIDs ?? []) }
        // The channels the simulated flight feeds directly: those no part is read for.
        let direct = payload.channelSources.map { source in
            guard let source else { return true }
            return payload.source(source.source)?.kind == .bridge
        }
        let posesFromAutopilot = autopilotPoses || placed == nil

        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        var rotated: [String] = []
        if maxLogs > 0 {
            let (removed, problems) = LogRotation.rotate(directory: logDir, keep: maxLogs, minimumFreeBytes: minFreeMb << 20)
            rotated = removed
            for problem in problems { say("snuffeld: rotation: \(problem)") }
        }
        var path = (logDir as NSString).appendingPathComponent("snuffel-\(isoStamp(utcAtStart)).ulg")
        var n = 1
        while FileManager.default.fileExists(atPath: path) {
            n += 1
            path = (logDir as NSString).appendingPathComponent("snuffel-\(isoStamp(utcAtStart))-\(n).ulg")
        }
        // A write past a file-size limit must fail with EFBIG, as a full disk fails with
        // ENOSPC, rather than kill the daemon.
        signal(SIGXFSZ, SIG_IGN)
        // UTC: the simulated flight's; on a drone the system clock's until the autopilot's
        // SYSTEM_TIME says better (a clock before 2020 is not set: no mapping then).
        let utcOffset: Int64? = autopilotPoses && placed != nil ? nil
            : (utcAtStart > 1_577_836_800_000_000 ? Int64(clamping: utcAtStart) &- Int64(clamping: start) : nil)
        var info = [(SnuffelLogKey.writer, simulate ? "snuffeld --simulate" : "snuffeld"), (SnuffelLogKey.payloadPath, configPath)]
        if let loaded { info.append((SnuffelLogKey.scenario, loaded.name)) }
        let recorder = try FlightRecorder(
            path: path, pipeline: try Pipeline(configuration: payload.pipeline), startTime: start, utcOffset: utcOffset,
            payloadTOML: payload.payloadFile.text, signaturesTOML: payload.signaturesFile.text,
            calibrationTOML: payload.calibrationFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) },
            info: info, sealer: sealer)
        let link: (any MAVLinkTransport)?
        do {
            if let mavlinkSerial {
                link = try MAVLinkSerialLink(device: mavlinkSerial, baudRate: mavlinkBaud)
            } else {
                link = mavlinkPort == 0 ? nil : try MAVLinkUDPLink(port: mavlinkPort)
            }
        } catch {
            throw Failure("the MAVLink link cannot be opened: \(error)")
        }
        // The evidence sampler: its valves or pumps on GPIO lines (simulated lines in a
        // simulation). Without its lines the daemon still flies, and says so.
        var sampler: EvidenceSampler?
        var samplerProblem: String?
        if let settings = payload.sampler {
            if simulate {
                let clock = virtual?.clock ?? SimulatedClock(start: start)
                sampler = EvidenceSampler(settings: settings, lines: settings.lines.map {
                    SimulatedGPIOLine(name: "sim:\(settings.chip) line \($0)", initial: settings.activeLow, clock: clock)
                })
            } else {
                do {
                    sampler = EvidenceSampler(settings: settings, lines: try EvidenceSampler.lines(for: settings))
                } catch {
                    samplerProblem = "SAMPLER UNAVAILABLE: \(error); no tube can be run this flight"
                }
            }
        }
        var options = OnboardDaemon.Options()
        options.poseSource = posesFromAutopilot ? .autopilot : .caller
        options.logDirectory = logDir
        options.minimumFreeBytes = minFreeMb << 20
        options.systemID = systemID
        let daemon = OnboardDaemon(
            recorder: recorder, link: link,
            messages: GroundStationMessages(channels: payload.pipeline.channels, library: payload.pipeline.library),
            options: options, start: start, sampler: sampler, say: { say("snuffeld: " + $0) })
        let what = loaded.map { "simulating \($0.name) at \(speed == 0 ? "full speed" : "\(speed)× real time")" } ?? "reading the payload"
        let parts = supervisor.map { s in "; parts: " + s.health.map(\.sensor).joined(separator: ", ") + (virtual != nil ? " (simulated twins)" : "") } ?? ""
        say("snuffeld: \(what); log \(path)" + (link.map { "; MAVLink on \($0.endpoint)" } ?? "")
            + (posesFromAutopilot ? "; poses from the autopilot" : "") + parts)
        if !rotated.isEmpty {
            daemon.note(level: 5, "rotation (--max-logs \(maxLogs)): removed \(rotated.count) old log(s): "
                + rotated.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "), at: start)
        }
        if let samplerProblem { daemon.note(level: 3, samplerProblem, at: start) }
        if let sampler { say("snuffeld: sampler: \(sampler.used.count) tubes, \(sampler.settings.duration / 1_000_000) s each" + (sampler.settings.confidence.map { "; a lab or dump detection at p(lab) ≥ \($0) runs the next" } ?? "; the operator starts them (MAV_CMD_USER_1)")) }
        if posesFromAutopilot && link == nil {
            daemon.note(level: 4, "no MAVLink link: the log will have no positions", at: start)
        }
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
        var lastPing = Date.distantPast
        let events = placed?.events ?? []
        var next = 0
        var stopped = false
        var faultState = Array(repeating: false, count: faults.count)
        /// The local time now: the simulated flight's clock running at --speed, or the
        /// companion computer's monotonic clock.
        /// At full speed (--speed 0) the simulation's time is that of the last event or reading.
        var reached = start
        func now() -> UInt64 {
            guard placed != nil else { return system.now() }
            guard speed > 0 else { return max(reached, virtual?.clock.now() ?? 0) }
            return start &+ UInt64(max(0, Date().timeIntervalSince(wallStart)) * speed * 1e6)
        }
        running: while true {
            let nextEvent = next < events.count ? events[next].time : nil
            if placed != nil && nextEvent == nil { break }  // the simulated flight is over
            let t = min(nextEvent ?? .max, supervisor?.nextDue ?? .max)
            // Wait until t, in steps of at most 0.2 s so that a stop is seen soon, and listen
            // to the autopilot meanwhile.
            while true {
                if stopRequested.load(ordering: .relaxed) {
                    stopped = true
                    break running
                }
                if let interval = notifier.pingInterval, Date().timeIntervalSince(lastPing) * 1e6 >= Double(interval) {
                    notifier.notify("WATCHDOG=1\nSTATUS=\(daemon.status)")
                    lastPing = Date()
                }
                let due: Double
                if placed != nil {
                    due = speed > 0 ? Double(t &- start) / 1e6 / speed - Date().timeIntervalSince(wallStart) : 0
                } else {
                    let clock = system.now()
                    due = t > clock ? Double(t - clock) / 1e6 : 0
                }
                let wait = min(max(due, 0), 0.2)
                if link != nil {
                    daemon.service(now: min(now(), t), waitMilliseconds: Int(wait * 1000))
                } else if wait > 0.002 {
                    Thread.sleep(forTimeInterval: wait)
                }
                if due <= 0.2 && (placed != nil || system.now() >= t) { break }
            }
            if t != .max { reached = max(reached, t) }
            if let nextEvent, nextEvent <= t {
                virtual?.advance(to: nextEvent)
                switch events[next] {
                case .sample(let s):
                    virtual?.update(s)
                    if direct[Int(s.channel)] { daemon.record(s) }
                case .pose(let p): if !posesFromAutopilot { daemon.record(p) }
                case .wind(let w): if !posesFromAutopilot { daemon.record(w) }
                }
                next += 1
            } else if let supervisor {
                if let virtual {
                    virtual.advance(to: t)
                    for (i, fault) in faults.enumerated() {
                        let on = t >= start &+ fault.from && t < start &+ fault.to
                        guard on != faultState[i] else { continue }
                        faultState[i] = on
                        virtual.set(fault.kind, on, source: fault.source)
                        say("snuffeld: simulated fault: \(fault.source) \(fault.kind.rawValue) \(on ? "begins" : "ends")")
                    }
                }
                let clock: () -> UInt64 = { virtual?.clock.now() ?? system.now() }
                let (samples, changes) = supervisor.poll(now: t, clock: clock)
                for s in samples { daemon.record(s) }
                if !changes.isEmpty { daemon.degradedSensors = supervisor.health.filter { $0.health == .degraded }.count }
                for change in changes {
                    switch change {
                    case .degraded(let sensor, let reason):
                        daemon.note(level: 3, "SENSOR DEGRADED: \(sensor): \(reason); retrying with backoff, the other sensors go on", at: clock())
                    case .failedToStart(let sensor, let reason):
                        daemon.note(level: 3, "SENSOR DEGRADED: \(sensor) does not start: \(reason); retrying with backoff", at: clock())
                    case .recovered(let sensor, let after):
                        daemon.note(level: 6, "sensor back: \(sensor), started afresh after \(String(format: "%.1f", Double(after) / 1e6)) s", at: clock())
                    }
                }
            }
            if link == nil { daemon.service(now: now(), waitMilliseconds: 0) }
        }
        notifier.notify("STOPPING=1")
        daemon.finish(at: placed != nil ? (events.last?.time ?? start) : system.now())
        let ending = stopped ? "stopped by a signal" : "flight ended"
        let sensorSummary = supervisor.map { "; \($0.readCount) readings, \($0.errorCount) failed" } ?? ""
        say("snuffeld: \(ending): \(daemon.detections) detections, \(daemon.alerts) alerts\(sensorSummary); "
            + (daemon.recordingStopped.map { "recording stopped early (\($0)); log \(path)" } ?? "log \(path)"))
    }

    /// A simulated fault: `SOURCE:KIND:FROM-TO`, seconds from the start.
    struct ScheduledFault {
        var source: String
        var kind: VirtualPayload.Fault
        var from: UInt64, to: UInt64
    }

    static func fault(_ text: String, known: [String]) throws -> ScheduledFault {
        let parts = text.split(separator: ":").map(String.init)
        let kinds = VirtualPayload.Fault.allCases.map(\.rawValue).joined(separator: ", ")
        let usage = "--simulate-fault \(text): expected SOURCE:KIND:FROM-TO (KIND one of \(kinds); FROM and TO in seconds), e.g. sgp41:nack:30-60"
        guard parts.count == 3, let kind = VirtualPayload.Fault(rawValue: parts[1]) else { throw ValidationError(usage) }
        let span = parts[2].split(separator: "-").compactMap { Double($0) }
        guard span.count == 2, span[0] >= 0, span[1] > span[0], span[1] < 1e7 else { throw ValidationError(usage) }
        guard known.contains(parts[0]) else {
            throw ValidationError("--simulate-fault \(text): no simulated part '\(parts[0])'; the payload's parts are: \(known.isEmpty ? "none (declare [[sources]])" : known.joined(separator: ", "))")
        }
        return ScheduledFault(source: parts[0], kind: kind, from: UInt64(span[0] * 1e6), to: UInt64(span[1] * 1e6))
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
