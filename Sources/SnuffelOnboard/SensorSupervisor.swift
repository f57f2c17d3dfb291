import SnuffelCore
import SnuffelHardware

/// Reads every part of the payload at its rate and keeps the flight going when one fails.
///
/// A part that fails (a NACK, a bad CRC, a timeout, an unplugged cable) is retried; after
/// ``degradeAfter`` failures in a row, or a run of identical readings from a part whose
/// output is noisy (stuck), it is marked degraded and retried with exponential backoff
/// (``firstBackoff`` doubling up to ``maximumBackoff``), each retry starting it afresh
/// (reset, heater profile, conditioning). The first good reading after that marks it
/// recovered. The other parts keep their own schedule throughout.
///
/// The supervisor owns no clock: the caller says what time it is, reads when
/// ``nextDue`` comes, and passes the samples on.
public final class SensorSupervisor {
    /// A change in a part's health.
    public enum Event: Sendable, Equatable {
        /// The part failed repeatedly or is stuck; its channels go without samples.
        case degraded(sensor: String, reason: String)
        /// The part is back after a fault that lasted `after` µs, started afresh.
        case recovered(sensor: String, after: UInt64)
        /// The part could not be started at all (it will be retried like a degraded one).
        case failedToStart(sensor: String, reason: String)
    }

    /// A part's state.
    public enum Health: Sendable, Equatable {
        case starting, ok, degraded
    }

    struct Entry {
        let sensor: any PolledSensor
        var health: Health = .starting
        var failures = 0
        var nextDue: UInt64
        var backoff: UInt64 = 0
        var degradedSince: UInt64?
        var firstFailure: UInt64?
        var slot: UInt64?
        var stuckValues: [Double?]?
        var lastValues: [Double?] = []
        var identical = 0
        var needsStart = true
        var reads = 0, errors = 0
    }

    /// Failures in a row before a part is degraded.
    public var degradeAfter = 3
    /// The first wait after a part is degraded, µs; it doubles up to ``maximumBackoff``.
    public var firstBackoff: UInt64 = 1_000_000
    public var maximumBackoff: UInt64 = 30_000_000
    private var entries: [Entry]
    private var temperatureChannel: UInt16?, humidityChannel: UInt16?
    private var air: (temperature: Double, humidity: Double)?
    private var latestTemperature: Double?, latestHumidity: Double?

    /// Creates the supervisor.
    /// - Parameters:
    ///   - sensors: The parts.
    ///   - channels: The payload's channels (the temperature and humidity channels
    ///     compensate the SGP41).
    ///   - start: The time now, µs: every part is due at once.
    public init(sensors: [any PolledSensor], channels: [ChannelSpec], start: UInt64) {
        entries = sensors.map { Entry(sensor: $0, nextDue: start) }
        temperatureChannel = channels.firstIndex { $0.kind == .temperature }.map { UInt16($0) }
        humidityChannel = channels.firstIndex { $0.kind == .humidity }.map { UInt16($0) }
    }

    /// The parts' names and health.
    public var health: [(sensor: String, health: Health)] { entries.map { ($0.sensor.name, $0.health) } }

    /// Readings taken and failed, over all parts.
    public var readCount: Int { entries.reduce(0) { $0 + $1.reads } }
    public var errorCount: Int { entries.reduce(0) { $0 + $1.errors } }

    /// The earliest time a part is due.
    public var nextDue: UInt64 { entries.map(\.nextDue).min() ?? UInt64.max }

    /// Reads every part that is due at `now`.
    /// - Parameters:
    ///   - now: The time now, µs.
    ///   - clock: The time after each reading (reads take time: conversions, waits), µs.
    /// - Returns: The samples read, stamped when read, and the health changes.
    public func poll(now: UInt64, clock: () -> UInt64) -> (samples: [Sample], events: [Event]) {
        var samples: [Sample] = []
        var events: [Event] = []
        for i in entries.indices where entries[i].nextDue <= now {
            var e = entries[i]
            let started = clock()
            // The slot this reading belongs to: the next is a period later (missed slots are
            // skipped, not caught up).
            if e.slot == nil { e.slot = e.nextDue }
            let slot = e.slot ?? e.nextDue
            e.nextDue = max(slot &+ e.sensor.period, started)
            do throws(SensorError) {
                if e.needsStart {
                    try e.sensor.start()
                    e.needsStart = false
                }
                let reading = try e.sensor.read(air: air)
                let values: [Double?]
                switch reading {
                case .pending(let ready):
                    e.nextDue = ready
                    entries[i] = e
                    continue
                case .values(let v):
                    values = v
                case .samples(let streamed):
                    // A streaming part: its samples carry their own times; a poll that
                    // found nothing new says nothing about its health.
                    e.slot = nil
                    if !streamed.isEmpty {
                        e.reads += 1
                        if let event = Self.markGood(&e, at: clock()) { events.append(event) }
                    }
                    samples += streamed
                    entries[i] = e
                    continue
                }
                e.slot = nil
                e.reads += 1
                let time = clock()
                // A part degraded as stuck is back only when its reading moves.
                if let stuck = e.stuckValues, values == stuck {
                    throw SensorError.invalidResponse(DeviceLocation(path: e.sensor.name), "still the same reading after a restart: stuck")
                }
                e.stuckValues = nil
                if let limit = e.sensor.stuckAfter, !values.isEmpty, values.contains(where: { $0 != nil }) {
                    e.identical = values == e.lastValues ? e.identical + 1 : 0
                    e.lastValues = values
                    if e.identical >= limit {
                        throw SensorError.invalidResponse(
                            DeviceLocation(path: e.sensor.name), "the same reading \(e.identical + 1) times in a row: stuck")
                    }
                }
                if let event = Self.markGood(&e, at: time) { events.append(event) }
                for (channel, value) in zip(e.sensor.channels, values) {
                    guard let value else { continue }
                    samples.append(Sample(channel: channel, time: time, value: value))
                    if channel == temperatureChannel { latestTemperature = value }
                    if channel == humidityChannel { latestHumidity = value }
                }
            } catch {
                e.slot = nil
                e.errors += 1
                e.failures += 1
                let time = clock()
                if e.failures == 1 { e.firstFailure = started }
                let stuck = e.identical >= (e.sensor.stuckAfter ?? Int.max)
                switch e.health {
                case .starting where e.needsStart:
                    // Never came up: retried like a degraded part.
                    events.append(.failedToStart(sensor: e.sensor.name, reason: error.description))
                    e.health = .degraded
                    e.degradedSince = started
                case .starting, .ok:
                    if e.failures >= degradeAfter || stuck {
                        events.append(.degraded(sensor: e.sensor.name, reason: error.description))
                        e.health = .degraded
                        e.degradedSince = e.firstFailure ?? started
                    }
                case .degraded:
                    break
                }
                if e.health == .degraded {
                    // Retry later, and start it afresh then.
                    e.backoff = e.backoff == 0 ? firstBackoff : min(maximumBackoff, e.backoff &* 2)
                    e.nextDue = time &+ e.backoff
                    e.needsStart = true
                    if stuck { e.stuckValues = e.lastValues }
                    e.identical = 0
                    e.lastValues = []
                }
            }
            entries[i] = e
        }
        if let t = latestTemperature, let h = latestHumidity { air = (t, h) }
        return (samples, events)
    }

    /// A good reading: the part is healthy again (recovered, if it was not).
    private static func markGood(_ e: inout Entry, at time: UInt64) -> Event? {
        e.failures = 0
        guard e.health != .ok else { return nil }
        let event = e.degradedSince.map { Event.recovered(sensor: e.sensor.name, after: time &- $0) }
        e.health = .ok
        e.degradedSince = nil
        e.backoff = 0
        return event
    }
}
