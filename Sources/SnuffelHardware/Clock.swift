/// Time for drivers: a monotonic microsecond clock and a way to wait.
///
/// Drivers wait only through their clock, so tests run them on a ``SimulatedClock`` that
/// advances instantly and records every wait.
public protocol HardwareClock: AnyObject {
    /// Microseconds on a monotonic clock.
    func now() -> UInt64
    /// Waits at least the given time.
    func sleep(microseconds: UInt64)
}

/// The system's monotonic clock.
public final class SystemClock: HardwareClock {
    /// Creates the clock.
    public init() {}

    /// Microseconds on the monotonic clock.
    ///
    /// The corresponding C function is `clock_gettime(CLOCK_MONOTONIC)`.
    public func now() -> UInt64 { system_monotonicMicroseconds() }

    /// Sleeps, resuming after signals.
    ///
    /// The corresponding C function is `nanosleep`.
    public func sleep(microseconds: UInt64) { system_sleep(microseconds: microseconds) }
}

/// A clock that never sleeps: `sleep` advances the time at once and is recorded in the
/// trace that simulated buses share with it.
public final class SimulatedClock: HardwareClock {
    /// The current time, microseconds.
    public private(set) var time: UInt64
    /// Every transfer and wait, in order (simulated buses append to it too).
    public let trace: Trace

    /// Creates a clock at `start` µs with a fresh trace.
    public init(start: UInt64 = 0, trace: Trace = Trace()) {
        self.time = start
        self.trace = trace
    }

    public func now() -> UInt64 { time }

    public func sleep(microseconds: UInt64) {
        trace.append(.sleep(microseconds: microseconds))
        time += microseconds
    }

    /// Lets time pass without a driver waiting (the world moving on between calls).
    public func advance(microseconds: UInt64) {
        time += microseconds
    }
}

/// One thing a driver did to a simulated bus or port, or a wait.
public enum TraceEvent: Hashable, Sendable, CustomStringConvertible {
    /// A write (then stop) that was acknowledged.
    case write(address: UInt8, bytes: [UInt8])
    /// A read (then stop).
    case read(address: UInt8, bytes: [UInt8])
    /// A write, repeated start, read.
    case writeRead(address: UInt8, written: [UInt8], read: [UInt8])
    /// An address probe and whether it was acknowledged.
    case probe(address: UInt8, acknowledged: Bool)
    /// A transfer that the address NACKed (what was attempted, as text).
    case nack(address: UInt8, attempted: String)
    /// A wait on the clock.
    case sleep(microseconds: UInt64)
    /// Bytes written to a serial port.
    case serialWrite([UInt8])
    /// Bytes read from a serial port.
    case serialRead([UInt8])

    public var description: String {
        switch self {
        case .write(let a, let b): return "\(hex(a)) W \(hexBytes(b))"
        case .read(let a, let b): return "\(hex(a)) R \(hexBytes(b))"
        case .writeRead(let a, let w, let r): return "\(hex(a)) W \(hexBytes(w)) Sr R \(hexBytes(r))"
        case .probe(let a, let ack): return "\(hex(a)) probe \(ack ? "ACK" : "NACK")"
        case .nack(let a, let what): return "\(hex(a)) NACK (\(what))"
        case .sleep(let us): return "sleep \(us) µs"
        case .serialWrite(let b): return "TX \(hexBytes(b))"
        case .serialRead(let b): return "RX \(hexBytes(b))"
        }
    }
}

/// A shared, ordered record of trace events.
public final class Trace {
    /// The events so far.
    public private(set) var events: [TraceEvent] = []

    /// Creates an empty trace.
    public init() {}

    /// Appends an event.
    public func append(_ event: TraceEvent) { events.append(event) }

    /// Forgets the events so far.
    public func clear() { events.removeAll() }
}
