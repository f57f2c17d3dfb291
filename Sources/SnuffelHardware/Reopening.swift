/// An I2C bus that opens its device when first used and again after the device failed
/// (not after a NACK: that is a part not answering, not the bus), so that a daemon started
/// before a USB–I2C adapter was plugged in, or whose adapter was pulled and put back, goes
/// on without a restart. Every call that cannot open the bus throws the open's error.
public final class ReopeningI2CBus: I2CBusAccess {
    public let path: String
    private let open: (String) throws(HardwareError) -> any I2CBusAccess
    private var bus: (any I2CBusAccess)?

    /// A bus at `path`, opened with `open` (``I2CBus/init(path:)`` by default).
    public init(path: String, open: @escaping (String) throws(HardwareError) -> any I2CBusAccess = { p throws(HardwareError) in try I2CBus(path: p) }) {
        self.path = path
        self.open = open
    }

    private func use<T>(_ body: (any I2CBusAccess) throws(HardwareError) -> T) throws(HardwareError) -> T {
        let bus: any I2CBusAccess
        if let open = self.bus {
            bus = open
        } else {
            bus = try open(path)
            self.bus = bus
        }
        do {
            return try body(bus)
        } catch {
            if !error.errno.isNoAcknowledge && error.errno != .timedOut { self.bus = nil }  // the device itself failed: open it afresh next time
            throw error
        }
    }

    public func write(_ bytes: [UInt8], to address: UInt8) throws(HardwareError) {
        try use { bus throws(HardwareError) in try bus.write(bytes, to: address) }
    }

    public func read(_ count: Int, from address: UInt8) throws(HardwareError) -> [UInt8] {
        try use { bus throws(HardwareError) in try bus.read(count, from: address) }
    }

    public func writeRead(_ bytes: [UInt8], readCount: Int, at address: UInt8) throws(HardwareError) -> [UInt8] {
        try use { bus throws(HardwareError) in try bus.writeRead(bytes, readCount: readCount, at: address) }
    }

    public func probe(_ address: UInt8) throws(HardwareError) -> Bool {
        try use { bus throws(HardwareError) in try bus.probe(address) }
    }
}

/// A serial port that opens when first used and again after an IO error (a USB serial
/// adapter pulled and put back comes back as a new device).
public final class ReopeningSerialPort: SerialPortAccess {
    public let path: String
    private let open: (String) throws(HardwareError) -> any SerialPortAccess
    private var port: (any SerialPortAccess)?

    /// A port at `path`, opened with `open`.
    public init(path: String, open: @escaping (String) throws(HardwareError) -> any SerialPortAccess) {
        self.path = path
        self.open = open
    }

    /// A port at `path` opened by libserialport with `settings`.
    public convenience init(path: String, settings: SerialSettings) {
        self.init(path: path, open: { p throws(HardwareError) in try SerialPort(path: p, settings: settings) })
    }

    private func use<T>(_ body: (any SerialPortAccess) throws(HardwareError) -> T) throws(HardwareError) -> T {
        let port: any SerialPortAccess
        if let open = self.port {
            port = open
        } else {
            port = try open(path)
            self.port = port
        }
        do {
            return try body(port)
        } catch {
            self.port = nil
            throw error
        }
    }

    public func write(_ bytes: [UInt8]) throws(HardwareError) {
        try use { port throws(HardwareError) in try port.write(bytes) }
    }

    public func read(_ count: Int, timeoutMilliseconds: Int) throws(HardwareError) -> [UInt8] {
        try use { port throws(HardwareError) in try port.read(count, timeoutMilliseconds: timeoutMilliseconds) }
    }

    public func discardInput() throws(HardwareError) {
        try use { port throws(HardwareError) in try port.discardInput() }
    }
}
