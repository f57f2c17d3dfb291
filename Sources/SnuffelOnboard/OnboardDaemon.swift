import SnuffelCore
import SnuffelWire

/// The daemon's runtime, without its IO loop: it takes samples, poses and the passing of
/// time, and does what `snuffeld` promises with them. Every sample goes through the pipeline
/// into the flight log; each detection is announced to the ground station (STATUSTEXT) and
/// the operator; the autopilot's link is read for poses, wind and UTC, and watched for
/// loss; a HEARTBEAT goes out every second and live values twice a second; and when the log
/// cannot be written (the disk full, the free-space floor reached) recording stops cleanly
/// while detection and alerts go on, and the daemon says so in every place it can.
///
/// Times are µs on the companion computer's monotonic clock (in simulation, the simulated
/// flight's).
public final class OnboardDaemon {
    /// Where poses come from.
    public enum PoseSource: Sendable, Equatable {
        /// Given by the caller (a simulated flight) through ``record(_:)-(ULogPose)``.
        case caller
        /// The autopilot on the MAVLink link.
        case autopilot
    }

    /// Settings of the runtime.
    public struct Options: Sendable {
        /// Where poses come from.
        public var poseSource: PoseSource = .caller
        /// The directory the log is in, for the free-space check; nil for none.
        public var logDirectory: String?
        /// Recording stops when less than this is free on the log's file system, bytes.
        public var minimumFreeBytes: UInt64 = 100 << 20
        /// Time between free-space checks, µs.
        public var freeSpaceCheckInterval: UInt64 = 10_000_000
        /// Time between HEARTBEATs, µs.
        public var heartbeatInterval: UInt64 = 1_000_000
        /// Time between live values, µs.
        public var liveValueInterval: UInt64 = 500_000
        /// The MAVLink system id the daemon sends with (the autopilot's).
        public var systemID: UInt8 = 1

        public init() {}
    }

    /// The recorder (and its pipeline).
    public let recorder: FlightRecorder
    /// The pipeline, which runs whether or not the log is still written.
    public var pipeline: Pipeline { recorder.pipeline }
    /// Why recording stopped, once it has; nil while the log is written.
    public private(set) var recordingStopped: String?
    /// What the autopilot said so far.
    public private(set) var tracker = AutopilotTracker()
    /// The latest pose.
    public private(set) var lastPose: ULogPose?
    /// Detections made, and how many of them were alerts (a likely lab or dump).
    public private(set) var detections = 0, alerts = 0
    /// The payload's parts that are degraded now (the caller's supervisor says), sent to the
    /// ground station as the live value `SENS_BAD`.
    public var degradedSensors = 0
    /// MAVLink frames received and send or receive failures.
    public private(set) var framesReceived = 0, linkFailures = 0

    /// The evidence sampler, when the payload has one.
    public let sampler: EvidenceSampler?
    /// The command an operator sends (COMMAND_LONG to component 191) to run a tube:
    /// MAV_CMD_USER_1, with param1 the tube (0 for the next free one).
    public static let sampleCommand: UInt16 = 31010

    private let options: Options
    private let link: (any MAVLinkTransport)?
    private var encoder: MAVLinkEncoder
    private let messages: GroundStationMessages
    private let say: (String) -> Void
    private var nextHeartbeat: UInt64
    private var nextValues: UInt64
    private var nextSpaceCheck: UInt64
    private var nextClockRecord: UInt64 = 0
    private var statusTextID: UInt16 = 10_000
    private var linkProblemSaid = false
    private var finishing = false

    /// Creates the runtime.
    /// - Parameters:
    ///   - recorder: The flight recorder, its log open.
    ///   - link: The MAVLink transport, nil for none.
    ///   - messages: How detections are put to the ground station.
    ///   - options: Settings.
    ///   - start: The local time now.
    ///   - say: Prints a line for the operator (standard output, the journal).
    public init(
        recorder: FlightRecorder, link: (any MAVLinkTransport)?, messages: GroundStationMessages, options: Options,
        start: UInt64, sampler: EvidenceSampler? = nil, say: @escaping (String) -> Void
    ) {
        self.recorder = recorder
        self.sampler = sampler
        self.link = link
        self.messages = messages
        self.options = options
        self.say = say
        encoder = MAVLinkEncoder(systemID: options.systemID)
        nextHeartbeat = start
        nextValues = start
        nextSpaceCheck = start
    }

    // MARK: - Data

    /// Runs a sample through the pipeline, logs it while the log is written, and announces
    /// the detections it completes.
    public func record(_ sample: Sample) {
        var made: [Detection] = []
        if recordingStopped == nil {
            do {
                made = try recorder.record(sample)
            } catch {
                // The recorder fails before the pipeline takes the sample: run it here.
                stopRecording(afterFailure: error, at: sample.time)
                made = process(sample)
            }
        } else {
            made = process(sample)
        }
        announce(made, at: sample.time)
    }

    private func process(_ sample: Sample) -> [Detection] {
        recorder.pipeline.process(sample)
        var made: [Detection] = []
        while let d = recorder.pipeline.popDetection() { made.append(d) }
        return made
    }

    /// Logs a pose given by the caller (a simulated flight).
    public func record(_ pose: ULogPose) {
        lastPose = pose
        write(at: pose.time) { r throws(ULogWriteError) in try r.record(pose) }
    }

    /// Logs a wind estimate given by the caller.
    public func record(_ wind: ULogWind) {
        write(at: wind.time) { r throws(ULogWriteError) in try r.record(wind) }
    }

    /// Something the operator, the log and the ground station should know.
    /// - Parameters:
    ///   - level: syslog level for the log (3 error, 4 warning, 6 info).
    ///   - text: One line; the STATUSTEXT carries its first 50 characters per chunk.
    ///   - time: Local time.
    public func note(level: UInt8, _ text: String, at time: UInt64) {
        say(text)
        write(at: time) { r throws(ULogWriteError) in try r.record(ULogLogMessage(level: level, time: time, text: text)) }
        // MAV_SEVERITY follows syslog's numbering.
        statusTextID &+= 1
        for frame in encoder.statusText(severity: level, "snuffeld: " + text, id: statusTextID) { send(frame) }
    }

    private func announce(_ made: [Detection], at time: UInt64) {
        for d in made {
            detections += 1
            if d.isAlert { alerts += 1 }
            let place = lastPose.map { (latitude: $0.latitude, longitude: $0.longitude) }
            say(messages.text(of: d, position: place))
            for frame in messages.frames(for: d, position: place, encoder: &encoder) { send(frame) }
            if !finishing, let sampler, let threshold = sampler.settings.confidence, d.isAlert, d.threatConfidence >= threshold {
                let name = d.signatureClass.map { messages.library.classes[$0].id } ?? "unknown"
                sample(reason: .detection, tube: nil, detection: d.sequence, why: "\(name) detection #\(d.sequence)", at: time)
            }
        }
    }

    /// Runs a tube of the sampler and says what became of it.
    /// - Returns: The outcome, nil without a sampler.
    @discardableResult
    public func sample(reason: ULogTube.Reason, tube: Int?, detection: Int?, why: String, at time: UInt64) -> EvidenceSampler.Outcome? {
        guard let sampler else { return nil }
        let outcome = sampler.request(tube: tube, reason: reason, detection: detection, at: time, pose: lastPose)
        switch outcome {
        case .started(let tube):
            let place = lastPose.map { " at \(Self.fixed($0.latitude, 5)),\(Self.fixed($0.longitude, 5))" } ?? ""
            note(level: 5, "TUBE \(tube) sampling for \(sampler.settings.duration / 1_000_000) s\(place) (\(why)); \(sampler.remaining) left", at: time)
        case .busy(let running):
            if reason == .operatorRequest { note(level: 4, "tube \(running) is still sampling: no second tube now", at: time) }
        case .full:
            note(level: 4, "SAMPLER FULL: every tube is used (\(why) not sampled)", at: time)
        case .unavailable(let tube, let why):
            note(level: 4, "tube \(tube) not run: \(why)", at: time)
        case .failed(let tube, let why):
            note(level: 3, "tube \(tube) failed to start: \(why)", at: time)
        }
        return outcome
    }

    private func finished(_ tube: ULogTube, at time: UInt64) {
        write(at: time) { r throws(ULogWriteError) in try r.record(tube) }
        let seconds = Self.seconds(Double(tube.end &- tube.start) / 1e6)
        note(level: tube.isComplete ? 5 : 4,
             "tube \(tube.tube) " + (tube.isComplete ? "done after \(seconds) s" : "cut short after \(seconds) s"), at: time)
    }

    /// An operator's COMMAND_LONG for us: run a tube, and answer with COMMAND_ACK.
    private func command(_ c: MAVLinkCommandLong, from frame: MAVLinkFrame, at now: UInt64) {
        guard c.targetComponent == MAVLinkEncoder.onboardComputer || c.targetComponent == 0,
              c.targetSystem == options.systemID || c.targetSystem == 0 else { return }
        let result: UInt8
        if c.command == Self.sampleCommand {
            let requested = c.parameters.first.flatMap { $0.isFinite && $0 >= 1 && $0 < 256 ? Int($0) : nil }
            switch sample(reason: .operatorRequest, tube: requested, detection: nil, why: "the operator asked", at: now) {
            case .started?: result = 0  // MAV_RESULT_ACCEPTED
            case .busy?: result = 1  // MAV_RESULT_TEMPORARILY_REJECTED
            case .full?, .unavailable?: result = 2  // MAV_RESULT_DENIED
            case .failed?: result = 4  // MAV_RESULT_FAILED
            case nil:
                note(level: 4, "the operator asked for a tube, but this payload has no sampler", at: now)
                result = 3  // MAV_RESULT_UNSUPPORTED
            }
        } else {
            result = 3
        }
        send(encoder.commandAck(command: c.command, result: result, targetSystem: frame.systemID, targetComponent: frame.componentID))
    }

    // MARK: - Time passing

    /// Reads the link for up to `waitMilliseconds`, and sends what is due at `now`.
    public func service(now: UInt64, waitMilliseconds: Int) {
        if let link {
            do {
                for frame in try link.receiveFrames(timeoutMilliseconds: waitMilliseconds) {
                    framesReceived += 1
                    if case .commandLong(let c) = MAVLinkMessage(frame: frame) { command(c, from: frame, at: now) }
                    for event in tracker.receive(frame, at: now) { handle(event, at: now) }
                }
            } catch {
                linkFailed(error)
            }
        }
        if let event = tracker.check(at: now) { handle(event, at: now) }
        if let tube = sampler?.service(now: now) { finished(tube, at: now) }
        write(at: now) { r throws(ULogWriteError) in try r.advance(to: now) }
        if now >= nextHeartbeat {
            send(encoder.heartbeat())
            nextHeartbeat = now &+ options.heartbeatInterval
        }
        if now >= nextValues {
            let boot = UInt32(truncatingIfNeeded: now / 1000)
            for v in messages.liveValues(recorder.pipeline) { send(encoder.namedValueFloat(v.name, v.value, timeBootMs: boot)) }
            send(encoder.namedValueFloat("LOG_OK", recordingStopped == nil ? 1 : 0, timeBootMs: boot))
            send(encoder.namedValueFloat("SENS_BAD", Float(degradedSensors), timeBootMs: boot))
            if tracker.vehicle != nil { send(encoder.namedValueFloat("AP_LINK", tracker.isLost ? 0 : 1, timeBootMs: boot)) }
            nextValues = now &+ options.liveValueInterval
        }
        if now >= nextSpaceCheck, recordingStopped == nil, let directory = options.logDirectory {
            nextSpaceCheck = now &+ options.freeSpaceCheckInterval
            if case .success(let free) = FileSystemSpace.free(at: directory), free < options.minimumFreeBytes {
                stopRecording(
                    "only \(free >> 20) MB free on the log's disk (the floor is \(options.minimumFreeBytes >> 20) MB)",
                    at: now, closeCleanly: true)
            }
        }
    }

    private func handle(_ event: AutopilotTracker.Event, at now: UInt64) {
        let fromAutopilot = options.poseSource == .autopilot
        switch event {
        case .pose(let pose):
            guard fromAutopilot else { return }
            lastPose = pose
            write(at: pose.time) { r throws(ULogWriteError) in try r.record(pose) }
        case .wind(let wind):
            guard fromAutopilot else { return }
            write(at: wind.time) { r throws(ULogWriteError) in try r.record(wind) }
        case .clock(let clock):
            // The mapping drifts slowly: one record every 10 s is plenty.
            guard fromAutopilot, clock.time >= nextClockRecord else { return }
            nextClockRecord = clock.time &+ 10_000_000
            write(at: clock.time) { r throws(ULogWriteError) in try r.record(clock) }
        case .linkUp(let system, let autopilot):
            note(level: 6, "autopilot link up: \(autopilot), system \(system)", at: now)
        case .linkLost(let since):
            let silence = Double(now &- since) / 1e6
            note(level: 4, "autopilot link lost (silent for \(Self.seconds(silence)) s): "
                + (fromAutopilot ? "poses missing until it is back; sampling and recording go on" : "sampling and recording go on"),
                at: now)
        case .linkRestored(let after):
            note(level: 6, "autopilot link back after \(Self.seconds(Double(after) / 1e6)) s", at: now)
        case .armed(let armed):
            note(level: 6, armed ? "vehicle armed" : "vehicle disarmed", at: now)
        case .autopilotRebooted:
            note(level: 4, "the autopilot restarted: its clock is mapped again", at: now)
        }
    }

    // MARK: - Ending

    /// Ends the flight: the pipeline's last detections are announced and logged, and the log
    /// is completed and closed (unless recording had stopped).
    /// - Parameter now: Local time.
    public func finish(at now: UInt64) {
        // A tube still running is switched off and logged; the last detections start none.
        if let tube = sampler?.stop(now: now) { finished(tube, at: now) }
        finishing = true
        var made: [Detection] = []
        if recordingStopped == nil {
            do {
                made = try recorder.finish()
            } catch {
                stopRecording(afterFailure: error, at: now)
                recorder.pipeline.finish()
                while let d = recorder.pipeline.popDetection() { made.append(d) }
            }
        } else {
            recorder.pipeline.finish()
            while let d = recorder.pipeline.popDetection() { made.append(d) }
        }
        announce(made, at: now)
    }

    // MARK: - Helpers

    private func write(at time: UInt64, _ body: (FlightRecorder) throws(ULogWriteError) -> Void) {
        guard recordingStopped == nil else { return }
        do { try body(recorder) } catch { stopRecording(afterFailure: error, at: time) }
    }

    private func stopRecording(afterFailure error: ULogWriteError, at time: UInt64) {
        recorder.writer.abandon()
        stopRecording("\(error.description) (errno \(error.code))", at: time, closeCleanly: false)
    }

    /// Stops writing the log; detection and alerts go on.
    private func stopRecording(_ reason: String, at time: UInt64, closeCleanly: Bool) {
        guard recordingStopped == nil else { return }
        let text = "RECORDING STOPPED: \(reason); the log is kept up to here, detection and alerts go on"
        if closeCleanly {
            _ = try? recorder.record(ULogLogMessage(level: 2, time: time, text: text))
            do { try recorder.writer.close() } catch { recorder.writer.abandon() }
        }
        recordingStopped = reason
        note(level: 2, text, at: time)
    }

    private func send(_ bytes: [UInt8]) {
        guard let link else { return }
        do { try link.sendFrames(bytes) } catch { linkFailed(error) }
    }

    private func linkFailed(_ error: any Error) {
        linkFailures += 1
        // Said once: a link that keeps failing must not flood the log.
        guard !linkProblemSaid else { return }
        linkProblemSaid = true
        say("MAVLink link \(link?.endpoint ?? ""): \(error) (further failures are counted, not printed)")
    }

    /// One line on the daemon's state, for `systemctl status` (systemd's STATUS=).
    public var status: String {
        var parts = [recordingStopped == nil ? "recording" : "NOT RECORDING (\(recordingStopped ?? ""))"]
        parts.append("\(detections) detections, \(alerts) alerts")
        if degradedSensors > 0 { parts.append("\(degradedSensors) sensor(s) degraded") }
        if tracker.vehicle == nil { parts.append("no autopilot heard") } else if tracker.isLost { parts.append("autopilot link lost") }
        if let sampler { parts.append("\(sampler.remaining) tube(s) left") }
        return parts.joined(separator: "; ")
    }

    static func fixed(_ value: Double, _ places: Int) -> String {
        CSVSampleWriter.decimal(value, places: places)
    }

    static func seconds(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return "\(Int(tenths) / 10).\(Int(tenths) % 10)"
    }
}
