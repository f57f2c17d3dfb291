/// An error number from the operating system (`errno`), with its symbolic name.
///
/// The named constants and the message come from the C library (see `Syscalls.swift`).
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public var rawValue: Int32

    /// Creates an error number from its raw value.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The symbolic name and the C library's message, e.g. `ENOENT (No such file or directory)`.
    public var description: String {
        let message = system_strerror(rawValue)
        if let name = Errno.names[rawValue] { return "\(name) (\(message))" }
        return "errno \(rawValue) (\(message))"
    }

    /// Whether the error means that no device acknowledged its address (an I2C NACK):
    /// `ENXIO` or `EREMOTEIO`, depending on the adapter driver.
    public var isNoAcknowledge: Bool { self == .noSuchDeviceOrAddress || self == .remoteIO }
}

/// Where a device sits: the bus or port path, and its I2C address if it has one.
public struct DeviceLocation: Hashable, Sendable, CustomStringConvertible {
    /// The device path (`/dev/i2c-1`, `/dev/ttyUSB0`, `/dev/gpiochip0`), or the name of a
    /// simulated bus (`sim:i2c`).
    public var path: String
    /// The 7-bit I2C address; nil for serial ports and GPIO lines.
    public var address: UInt8?

    /// Creates a location.
    public init(path: String, address: UInt8? = nil) {
        self.path = path
        self.address = address
    }

    /// `path` alone, or `path @0x44`.
    public var description: String {
        guard let address else { return path }
        return "\(path) @\(hex(address))"
    }
}

/// A failed operation on a bus, line or port: where, what, and the `errno` the kernel gave.
///
/// Real buses and simulated ones throw the same error, so drivers and `snuffel probe` treat
/// a simulated NACK exactly like a real one.
public struct HardwareError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The device path and address.
    public var location: DeviceLocation
    /// What was attempted, e.g. `open`, `I2C_RDWR write 2 read 6`, `sp_blocking_read`.
    public var operation: String
    /// The error number.
    public var errno: Errno
    /// More text from the library, when it gave any (libserialport's message).
    public var detail: String?

    /// Creates an error.
    public init(_ location: DeviceLocation, operation: String, errno: Errno, detail: String? = nil) {
        self.location = location
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    /// `path @0xNN: operation: ENAME (message)`, then what to do about it when that is known.
    public var description: String {
        var text = "\(location): \(operation): \(errno)"
        if let detail, !detail.isEmpty { text += " — \(detail)" }
        if let hint { text += "; \(hint)" }
        return text
    }

    /// What to do about the error, for the common cases on a companion computer.
    public var hint: String? {
        let isI2C = location.path.contains("i2c")
        switch errno {
        case .noSuchFileOrDirectory where operation == "open":
            return isI2C
                ? "no such I2C bus: enable I2C (Raspberry Pi: dtparam=i2c_arm=on in config.txt, or raspi-config) and check the bus number (ls /dev/i2c-*)"
                : "no such device: check the path and that the device is plugged in"
        case .permissionDenied where operation == "open":
            return isI2C
                ? "permission denied: add the user to the i2c group (sudo usermod -aG i2c $USER) and log in again"
                : "permission denied: add the user to the group that owns \(location.path) (dialout for serial ports, gpio for GPIO chips)"
        case .noSuchDeviceOrAddress, .remoteIO:
            return location.address == nil
                ? nil : "no device acknowledged address \(location.address.map(hex) ?? ""): check wiring, power and the address"
        case .timedOut:
            return "the device did not answer in time"
        default:
            return nil
        }
    }
}

/// A driver's error: the bus failed, or the device answered something a healthy part of
/// the expected kind never sends.
public enum SensorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bus, line or port failed (including a NACK from an absent device).
    case bus(HardwareError)
    /// A CRC (Sensirion) or checksum (Winsen) did not match: the bytes are not trusted.
    case checksumMismatch(DeviceLocation, what: String, received: UInt8, expected: UInt8)
    /// The identity registers name another part.
    case unexpectedIdentity(DeviceLocation, String)
    /// The part's own self-test reported a fault.
    case selfTestFailed(DeviceLocation, String)
    /// The part did not finish within the time its datasheet allows (with margin).
    case timeout(DeviceLocation, String)
    /// The answer is malformed or the part says its data is not valid.
    case invalidResponse(DeviceLocation, String)
    /// A driver was asked for something the part cannot do.
    case invalidArgument(String)

    /// A one-line explanation naming the device.
    public var description: String {
        switch self {
        case .bus(let error): return error.description
        case .checksumMismatch(let at, let what, let received, let expected):
            return "\(at): bad checksum on \(what): received \(hex(received)), expected \(hex(expected))"
        case .unexpectedIdentity(let at, let text): return "\(at): unexpected identity: \(text)"
        case .selfTestFailed(let at, let text): return "\(at): self-test failed: \(text)"
        case .timeout(let at, let text): return "\(at): timed out: \(text)"
        case .invalidResponse(let at, let text): return "\(at): invalid response: \(text)"
        case .invalidArgument(let text): return "invalid argument: \(text)"
        }
    }

    /// The device this error is about, when it names one.
    public var location: DeviceLocation? {
        switch self {
        case .bus(let error): return error.location
        case .checksumMismatch(let at, _, _, _), .unexpectedIdentity(let at, _), .selfTestFailed(let at, _),
            .timeout(let at, _), .invalidResponse(let at, _):
            return at
        case .invalidArgument: return nil
        }
    }
}

/// `0x0A`-style hexadecimal of a byte.
func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
}

/// `0x1234`-style hexadecimal of a 16-bit word.
func hex16(_ word: UInt16) -> String {
    hex(UInt8(word >> 8)) + String(hex(UInt8(word & 0xFF)).dropFirst(2))
}

/// Bytes as `0x26 0x19 ...`, for traces and messages.
func hexBytes(_ bytes: [UInt8]) -> String {
    bytes.map(hex).joined(separator: " ")
}
