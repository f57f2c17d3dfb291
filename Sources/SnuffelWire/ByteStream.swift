/// A two-way stream of bytes, such as the link to a bridge microcontroller.
public protocol ByteStream {
    /// Reads what has arrived, waiting at most `timeoutMilliseconds` for the first byte.
    ///
    /// - Parameters:
    ///   - maximumCount: The most bytes to return.
    ///   - timeoutMilliseconds: How long to wait when nothing has arrived.
    /// - Returns: The bytes; empty if none came in time.
    /// - Throws: ``ByteStreamError``; ``ByteStreamError/Reason/closed`` at the end of the
    ///   stream.
    func read(maximumCount: Int, timeoutMilliseconds: Int) throws(ByteStreamError) -> [UInt8]

    /// Writes all of `bytes`.
    ///
    /// - Throws: ``ByteStreamError``.
    func write(_ bytes: [UInt8]) throws(ByteStreamError)
}

/// A failure of a ``ByteStream``.
public struct ByteStreamError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was being done: the address or device.
    public var endpoint: String
    /// What went wrong.
    public var reason: Reason

    /// Creates an error.
    public init(endpoint: String, reason: Reason) {
        self.endpoint = endpoint
        self.reason = reason
    }

    public var description: String { "\(endpoint): \(reason)" }

    /// What went wrong with a byte stream.
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// Connecting or opening failed.
        case openFailed(code: Int32, message: String)
        /// Reading or writing failed.
        case ioFailed(code: Int32, message: String)
        /// The other side closed the stream.
        case closed

        public var description: String {
            switch self {
            case .openFailed(_, let message): return "cannot open: \(message)"
            case .ioFailed(_, let message): return message
            case .closed: return "closed by the other side"
            }
        }
    }
}

/// A ``ByteStream`` over a file descriptor: a TCP connection or a serial device. It
/// closes the descriptor when it goes away.
public final class FileDescriptorStream: ByteStream, Sendable {
    let descriptor: FileDescriptorOwner
    /// Whether the descriptor is a socket (written with `send`, which cannot raise SIGPIPE).
    let isSocket: Bool
    /// The address or device, for messages.
    public let endpoint: String

    init(descriptor: Int32, endpoint: String, isSocket: Bool) {
        self.descriptor = FileDescriptorOwner(descriptor)
        self.endpoint = endpoint
        self.isSocket = isSocket
    }

    /// Connects to a TCP server, such as qemu's emulated UART
    /// (`-serial tcp:127.0.0.1:PORT,server=on`).
    ///
    /// - Parameters:
    ///   - host: A name or address.
    ///   - port: The port.
    /// - Throws: ``ByteStreamError`` if no address of `host` accepts the connection.
    public static func connect(host: String, port: UInt16) throws(ByteStreamError) -> FileDescriptorStream {
        let endpoint = "tcp \(host):\(port)"
        switch system_connectTCP(host: host, port: port) {
        case .success(let descriptor): return FileDescriptorStream(descriptor: descriptor, endpoint: endpoint, isSocket: true)
        case .failure(let failure):
            throw ByteStreamError(endpoint: endpoint, reason: .openFailed(code: failure.code, message: failure.message))
        }
    }

    /// Opens a serial device (`/dev/ttyACM0`, `/dev/ttyUSB0`, a pseudo-terminal) in raw
    /// mode: 8 data bits, no parity, one stop bit, no flow control.
    ///
    /// - Parameters:
    ///   - path: The device.
    ///   - baudRate: One of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600.
    /// - Throws: ``ByteStreamError`` if the device cannot be opened or configured.
    public static func openSerialDevice(_ path: String, baudRate: Int) throws(ByteStreamError) -> FileDescriptorStream {
        switch system_openSerialDevice(path, baudRate: baudRate) {
        case .success(let descriptor): return FileDescriptorStream(descriptor: descriptor, endpoint: path, isSocket: false)
        case .failure(let failure):
            throw ByteStreamError(endpoint: path, reason: .openFailed(code: failure.code, message: failure.message))
        }
    }

    public func read(maximumCount: Int, timeoutMilliseconds: Int) throws(ByteStreamError) -> [UInt8] {
        let timeout = Int32(clamping: timeoutMilliseconds)
        switch system_waitReadable(descriptor.rawValue, timeoutMilliseconds: timeout) {
        case .success(false): return []
        case .success(true): break
        case .failure(let failure):
            throw ByteStreamError(endpoint: endpoint, reason: .ioFailed(code: failure.code, message: failure.message))
        }
        var bytes = [UInt8](repeating: 0, count: max(1, maximumCount))
        let result = bytes.withUnsafeMutableBytes { system_read(descriptor.rawValue, $0) }
        switch result {
        case .success(0): throw ByteStreamError(endpoint: endpoint, reason: .closed)
        case .success(let count):
            bytes.removeLast(bytes.count - count)
            return bytes
        case .failure(let failure):
            throw ByteStreamError(endpoint: endpoint, reason: .ioFailed(code: failure.code, message: failure.message))
        }
    }

    public func write(_ bytes: [UInt8]) throws(ByteStreamError) {
        let result = bytes.withUnsafeBytes {
            isSocket ? system_sendAll(descriptor.rawValue, $0) : system_writeAll(descriptor.rawValue, $0)
        }
        if case .failure(let failure) = result {
            throw ByteStreamError(endpoint: endpoint, reason: .ioFailed(code: failure.code, message: failure.message))
        }
    }
}
