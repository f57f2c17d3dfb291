/// What a driver needs from a serial port: writes, and reads with a timeout.
///
/// ``SerialPort`` implements it over libserialport; ``SimulatedSerialPort`` over a
/// simulated UART module.
public protocol SerialPortAccess: AnyObject {
    /// The port path (`/dev/ttyUSB0`) or the simulated port's name.
    var path: String { get }
    /// Writes all bytes.
    func write(_ bytes: [UInt8]) throws(HardwareError)
    /// Reads up to `count` bytes, waiting at most `timeoutMilliseconds` for all of them;
    /// returns fewer (possibly none) on timeout.
    func read(_ count: Int, timeoutMilliseconds: Int) throws(HardwareError) -> [UInt8]
    /// Discards received bytes that were not read yet.
    func discardInput() throws(HardwareError)
}

/// Parity of a serial frame.
public enum SerialParity: Sendable, Hashable {
    case none, odd, even
}

/// Serial line settings: baud rate and framing.
public struct SerialSettings: Sendable, Hashable {
    public var baudRate: Int
    public var dataBits: Int
    public var parity: SerialParity
    public var stopBits: Int

    /// Creates settings; the default is 9600 8N1, which Winsen modules use.
    public init(baudRate: Int = 9600, dataBits: Int = 8, parity: SerialParity = .none, stopBits: Int = 1) {
        self.baudRate = baudRate
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }
}

/// A serial port through libserialport, owning the open port (closed in `deinit`).
public final class SerialPort: SerialPortAccess {
    /// The port path.
    public let path: String
    /// The settings the port was opened with.
    public let settings: SerialSettings
    private var port: OpaquePointer?

    /// Opens a port with no flow control.
    ///
    /// The corresponding C functions are `sp_get_port_by_name`, `sp_open` and the
    /// `sp_set_*` functions.
    /// - Throws: ``HardwareError`` naming the path, with `ENOENT` for a missing port and
    ///   `EACCES` when the user is not in the `dialout` group.
    public init(path: String, settings: SerialSettings = SerialSettings()) throws(HardwareError) {
        self.path = path
        self.settings = settings
        let parity: SerialParitySetting
        switch settings.parity {
        case .none: parity = .none
        case .odd: parity = .odd
        case .even: parity = .even
        }
        switch system_serialOpen(path, baudRate: settings.baudRate, dataBits: settings.dataBits, parity: parity, stopBits: settings.stopBits) {
        case .success(let port): self.port = port
        case .failure(let failure):
            // libserialport reports a port it cannot find in /sys as an argument error.
            let errno = failure.errno == .invalidArgument && failure.message.contains("not found") ? Errno.noSuchFileOrDirectory : failure.errno
            throw HardwareError(DeviceLocation(path: path), operation: "open", errno: errno, detail: failure.message)
        }
    }

    deinit {
        if let port { system_serialClose(port) }
    }

    /// Closes the port now; later calls throw `EBADF`.
    ///
    /// The corresponding C functions are `sp_close` and `sp_free_port`.
    public func close() {
        if let port { system_serialClose(port) }
        port = nil
    }

    private func open(_ operation: String) throws(HardwareError) -> OpaquePointer {
        guard let port else { throw HardwareError(DeviceLocation(path: path), operation: operation, errno: .badFileDescriptor, detail: "the port is closed") }
        return port
    }

    /// Writes all bytes, waiting for the output buffer as long as needed.
    ///
    /// The corresponding C function is `sp_blocking_write`.
    public func write(_ bytes: [UInt8]) throws(HardwareError) {
        let port = try open("sp_blocking_write")
        switch system_serialWrite(port, bytes, timeoutMilliseconds: 0) {
        case .success(let count) where count == bytes.count: return
        case .success(let count):
            throw HardwareError(DeviceLocation(path: path), operation: "sp_blocking_write", errno: .timedOut, detail: "wrote \(count) of \(bytes.count) bytes")
        case .failure(let failure):
            throw HardwareError(DeviceLocation(path: path), operation: "sp_blocking_write", errno: failure.errno, detail: failure.message)
        }
    }

    /// Reads up to `count` bytes within the timeout.
    ///
    /// The corresponding C function is `sp_blocking_read`.
    public func read(_ count: Int, timeoutMilliseconds: Int) throws(HardwareError) -> [UInt8] {
        let port = try open("sp_blocking_read")
        switch system_serialRead(port, count: count, timeoutMilliseconds: max(1, timeoutMilliseconds)) {
        case .success(let bytes): return bytes
        case .failure(let failure):
            throw HardwareError(DeviceLocation(path: path), operation: "sp_blocking_read", errno: failure.errno, detail: failure.message)
        }
    }

    /// Reads what has arrived, up to `count` bytes, without waiting.
    ///
    /// The corresponding C function is `sp_nonblocking_read`.
    public func readAvailable(_ count: Int) throws(HardwareError) -> [UInt8] {
        let port = try open("sp_nonblocking_read")
        switch system_serialRead(port, count: count, timeoutMilliseconds: nil) {
        case .success(let bytes): return bytes
        case .failure(let failure):
            throw HardwareError(DeviceLocation(path: path), operation: "sp_nonblocking_read", errno: failure.errno, detail: failure.message)
        }
    }

    /// Discards received bytes that were not read.
    ///
    /// The corresponding C function is `sp_flush` with `SP_BUF_INPUT`.
    public func discardInput() throws(HardwareError) {
        let port = try open("sp_flush")
        if case .failure(let failure) = system_serialDiscardInput(port) {
            throw HardwareError(DeviceLocation(path: path), operation: "sp_flush", errno: failure.errno, detail: failure.message)
        }
    }
}
