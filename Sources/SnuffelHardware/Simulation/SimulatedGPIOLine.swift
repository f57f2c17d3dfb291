/// A simulated GPIO line on a simulated clock: an output that records its levels, or an
/// input whose edges the test schedules; waiting for an edge advances the clock to it (or
/// to the timeout). Released (``release()``), every call fails with `EBADF` as a released
/// libgpiod line does.
public final class SimulatedGPIOLine: GPIOLineAccess {
    /// The line's name in errors, e.g. `sim:gpiochip0 line 17`.
    public let name: String
    public let clock: SimulatedClock
    /// The current level.
    public private(set) var level: Bool
    /// Every level driven by ``set(_:)``, with its time.
    public private(set) var history: [(time: UInt64, level: Bool)] = []
    private var scheduled: [(time: UInt64, level: Bool)] = []
    private var released = false

    /// A line at `initial` level.
    public init(name: String = "sim:gpiochip0 line 0", initial: Bool = false, clock: SimulatedClock) {
        self.name = name
        self.level = initial
        self.clock = clock
    }

    /// Schedules the line to change to `level` at `time` µs (an input driven from outside).
    public func schedule(_ level: Bool, at time: UInt64) {
        scheduled.append((time, level))
        scheduled.sort { $0.time < $1.time }
    }

    /// Releases the line.
    public func release() { released = true }

    private func check(_ operation: String) throws(HardwareError) {
        if released { throw HardwareError(DeviceLocation(path: name), operation: operation, errno: .badFileDescriptor) }
    }

    private func applyScheduled(upTo time: UInt64) {
        while let next = scheduled.first, next.time <= time {
            level = next.level
            scheduled.removeFirst()
        }
    }

    public func set(_ value: Bool) throws(HardwareError) {
        try check("set")
        level = value
        history.append((clock.now(), value))
    }

    public func get() throws(HardwareError) -> Bool {
        try check("get")
        applyScheduled(upTo: clock.now())
        return level
    }

    public func waitForEdge(timeoutMicroseconds: UInt64) throws(HardwareError) -> GPIOEdgeEvent? {
        try check("wait for edge")
        let deadline = clock.now() + timeoutMicroseconds
        while let next = scheduled.first, next.time <= deadline {
            scheduled.removeFirst()
            guard next.level != level else { continue }
            clock.advance(microseconds: max(next.time, clock.now()) - clock.now())
            level = next.level
            return GPIOEdgeEvent(rising: next.level, timestampNanoseconds: clock.now() * 1_000)
        }
        clock.advance(microseconds: deadline - clock.now())
        return nil
    }
}
