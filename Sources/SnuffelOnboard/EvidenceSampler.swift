import SnuffelConfig
import SnuffelHardware
import SnuffelWire

/// The payload's evidence sampler: sorbent tubes or canisters, each behind a valve or pump
/// on a GPIO line. A sensor reading is a lead; the air in a tube, analysed by GC-MS in a
/// laboratory, is evidence.
///
/// A request runs the next free tube (or a named one) for the configured time: its line is
/// switched on, and off when the time is up (``service(now:)``), and the tube is never used
/// again. One tube runs at a time; a full sampler says so.
public final class EvidenceSampler {
    /// What became of a request.
    public enum Outcome: Sendable, Equatable {
        /// The tube started.
        case started(tube: Int)
        /// A tube is running; nothing was started.
        case busy(tube: Int)
        /// Every tube has been used.
        case full
        /// The named tube does not exist, or was used already.
        case unavailable(tube: Int, reason: String)
        /// The line could not be switched.
        case failed(tube: Int, reason: String)
    }

    public let settings: SamplerSettings
    private let lines: [any GPIOLineAccess]
    /// Whether each tube (index 0 is tube 1) has been used.
    public private(set) var used: [Bool]
    private var running: ULogTube?

    /// A sampler on `lines` (one per tube, tube 1 first), each switched off now.
    public init(settings: SamplerSettings, lines: [any GPIOLineAccess]) {
        self.settings = settings
        self.lines = lines
        used = Array(repeating: false, count: lines.count)
        for line in lines { try? line.set(settings.activeLow) }
    }

    /// Opens the sampler's lines on the machine's GPIO chip, each as an output, off.
    /// - Throws: ``HardwareError`` naming the chip and line.
    public static func lines(for settings: SamplerSettings) throws(HardwareError) -> [any GPIOLineAccess] {
        let chip = try GPIOChip(path: settings.chip)
        var lines: [any GPIOLineAccess] = []
        for offset in settings.lines {
            lines.append(try chip.output(line: offset, initial: settings.activeLow, consumer: "snuffeld sampler"))
        }
        return lines
    }

    /// The number of tubes not yet used.
    public var remaining: Int { used.filter { !$0 }.count }

    /// The tube running now (1-based), if any.
    public var runningTube: Int? { running.map { Int($0.tube) } }

    /// Runs a tube.
    /// - Parameters:
    ///   - tube: The tube (1-based), or nil for the next free one.
    ///   - reason: Why.
    ///   - detection: The detection it belongs to.
    ///   - now: The time, µs.
    ///   - pose: Where the drone is.
    public func request(
        tube: Int? = nil, reason: ULogTube.Reason, detection: Int?, at now: UInt64, pose: ULogPose?
    ) -> Outcome {
        if let running { return .busy(tube: Int(running.tube)) }
        let index: Int
        if let tube {
            guard (1...used.count).contains(tube) else { return .unavailable(tube: tube, reason: "the sampler has tubes 1 to \(used.count)") }
            guard !used[tube - 1] else { return .unavailable(tube: tube, reason: "it was used already") }
            index = tube - 1
        } else {
            guard let free = used.firstIndex(of: false) else { return .full }
            index = free
        }
        do {
            try lines[index].set(!settings.activeLow)
        } catch {
            try? lines[index].set(settings.activeLow)
            return .failed(tube: index + 1, reason: error.description)
        }
        used[index] = true
        running = ULogTube(
            tube: UInt8(index + 1), start: now, end: now &+ settings.duration, latitude: pose?.latitude ?? .nan,
            longitude: pose?.longitude ?? .nan, altitude: pose?.altitude ?? .nan, detection: detection, reason: reason,
            isComplete: false)
        return .started(tube: index + 1)
    }

    /// Switches the running tube off when its time is up.
    /// - Returns: The finished tube's record, when one finished now.
    public func service(now: UInt64) -> ULogTube? {
        guard var tube = running, now >= tube.end else { return nil }
        tube.isComplete = switchOff(tube)
        running = nil
        return tube
    }

    /// Switches a running tube off before its time (the flight ends).
    /// - Returns: Its record, marked incomplete.
    public func stop(now: UInt64) -> ULogTube? {
        guard var tube = running else { return nil }
        _ = switchOff(tube)
        tube.end = now
        tube.isComplete = false
        running = nil
        return tube
    }

    /// - Returns: Whether the line went off.
    private func switchOff(_ tube: ULogTube) -> Bool {
        do {
            try lines[Int(tube.tube) - 1].set(settings.activeLow)
            return true
        } catch {
            return false
        }
    }
}
