/// What a driver needs from a digital line (a sensor's power switch, a data-ready pin).
public protocol GPIOLineAccess: AnyObject {
    /// Drives an output line.
    func set(_ value: Bool) throws(HardwareError)
    /// Reads the line's level.
    func get() throws(HardwareError) -> Bool
    /// Waits for an edge; nil when none came within the timeout.
    func waitForEdge(timeoutMicroseconds: UInt64) throws(HardwareError) -> GPIOEdgeEvent?
}

/// An edge on a line, with the kernel's timestamp.
public struct GPIOEdgeEvent: Hashable, Sendable {
    /// Whether the line went from low to high.
    public var rising: Bool
    /// The kernel's timestamp of the edge, nanoseconds (monotonic clock for libgpiod v1
    /// on recent kernels).
    public var timestampNanoseconds: UInt64

    /// Creates an event.
    public init(rising: Bool, timestampNanoseconds: UInt64) {
        self.rising = rising
        self.timestampNanoseconds = timestampNanoseconds
    }
}

/// A GPIO chip of the Linux character-device interface (`/dev/gpiochipN`), through
/// libgpiod; owns the chip's file descriptor and closes it in `deinit`.
public final class GPIOChip {
    /// The chip's device path.
    public let path: String
    private let handle: GPIOHandle

    /// Opens a chip.
    ///
    /// The corresponding C function is `gpiod_chip_open`.
    /// - Parameter path: e.g. `/dev/gpiochip0`.
    /// - Throws: ``HardwareError`` with `ENOENT` when there is no such chip, `EACCES` when
    ///   the user is not in the `gpio` group.
    public init(path: String) throws(HardwareError) {
        self.path = path
        switch system_gpioOpenChip(path) {
        case .success(let handle): self.handle = handle
        case .failure(let error): throw HardwareError(DeviceLocation(path: path), operation: "open", errno: error)
        }
    }

    deinit {
        system_gpioCloseChip(handle)
    }

    /// The number of lines of the chip.
    ///
    /// The corresponding C function is `gpiod_chip_num_lines`.
    public func lineCount() -> Int {
        system_gpioLineCount(handle)
    }

    /// Requests a line as an output.
    ///
    /// The corresponding C function is `gpiod_line_request_output`.
    /// - Parameters:
    ///   - offset: The line's offset on the chip.
    ///   - initial: The level to drive at once.
    ///   - consumer: The name other programs see as the line's user.
    public func output(line offset: Int, initial: Bool = false, consumer: String = "snuffel") throws(HardwareError) -> GPIOLine {
        try request(offset, consumer: consumer, .output(initial: initial))
    }

    /// Requests a line as an input.
    ///
    /// The corresponding C function is `gpiod_line_request_input`.
    public func input(line offset: Int, consumer: String = "snuffel") throws(HardwareError) -> GPIOLine {
        try request(offset, consumer: consumer, .input)
    }

    /// Requests a line for edge events.
    ///
    /// The corresponding C functions are `gpiod_line_request_both_edges_events`,
    /// `gpiod_line_request_rising_edge_events` and `gpiod_line_request_falling_edge_events`.
    public func edges(line offset: Int, rising: Bool = true, falling: Bool = true, consumer: String = "snuffel") throws(HardwareError) -> GPIOLine {
        guard rising || falling else {
            throw HardwareError(DeviceLocation(path: path), operation: "request line \(offset)", errno: .invalidArgument,
                                detail: "ask for rising edges, falling edges or both")
        }
        return try request(offset, consumer: consumer, .edges(rising: rising, falling: falling))
    }

    private func request(_ offset: Int, consumer: String, _ kind: GPIORequest) throws(HardwareError) -> GPIOLine {
        switch system_gpioRequest(handle, offset: offset, consumer: consumer, kind) {
        case .success(let line): return GPIOLine(chip: self, offset: offset, line: line)
        case .failure(let error): throw HardwareError(DeviceLocation(path: path), operation: "request line \(offset)", errno: error)
        }
    }
}

/// A requested GPIO line; keeps its chip open and releases the line in `deinit`.
public final class GPIOLine: GPIOLineAccess {
    /// The chip the line belongs to.
    public let chip: GPIOChip
    /// The line's offset on the chip.
    public let offset: Int
    private let line: GPIOLineHandle

    init(chip: GPIOChip, offset: Int, line: GPIOLineHandle) {
        self.chip = chip
        self.offset = offset
        self.line = line
    }

    deinit {
        system_gpioRelease(line)
    }

    private func failure(_ operation: String, _ error: Errno) -> HardwareError {
        HardwareError(DeviceLocation(path: "\(chip.path) line \(offset)"), operation: operation, errno: error)
    }

    /// Drives the line.
    ///
    /// The corresponding C function is `gpiod_line_set_value`.
    public func set(_ value: Bool) throws(HardwareError) {
        if case .failure(let error) = system_gpioSet(line, value) { throw failure("set", error) }
    }

    /// Reads the line.
    ///
    /// The corresponding C function is `gpiod_line_get_value`.
    public func get() throws(HardwareError) -> Bool {
        switch system_gpioGet(line) {
        case .success(let value): return value
        case .failure(let error): throw failure("get", error)
        }
    }

    /// Waits for an edge.
    ///
    /// The corresponding C functions are `gpiod_line_event_wait` and `gpiod_line_event_read`.
    /// - Returns: The edge, or nil when none came within the timeout.
    public func waitForEdge(timeoutMicroseconds: UInt64) throws(HardwareError) -> GPIOEdgeEvent? {
        switch system_gpioWaitEvent(line, timeoutMicroseconds: timeoutMicroseconds) {
        case .success(let event): return event.map { GPIOEdgeEvent(rising: $0.rising, timestampNanoseconds: $0.nanoseconds) }
        case .failure(let error): throw failure("wait for edge", error)
        }
    }
}
