/// What a driver needs from an I2C bus: plain writes and reads, combined transfers with a
/// repeated start, and an address probe.
///
/// ``I2CBus`` implements it over Linux's i2c-dev; ``SimulatedI2CBus`` over simulated
/// parts. Every method throws ``HardwareError`` naming the bus and the address; a NACK
/// is `ENXIO` or `EREMOTEIO` (see ``Errno/isNoAcknowledge``).
public protocol I2CBusAccess: AnyObject {
    /// The bus path (`/dev/i2c-1`) or the simulated bus's name.
    var path: String { get }

    /// Writes bytes to a device, ending with a stop condition.
    func write(_ bytes: [UInt8], to address: UInt8) throws(HardwareError)

    /// Reads bytes from a device, ending with a stop condition.
    func read(_ count: Int, from address: UInt8) throws(HardwareError) -> [UInt8]

    /// Writes bytes, then reads after a repeated start, in one transfer (register reads).
    func writeRead(_ bytes: [UInt8], readCount: Int, at address: UInt8) throws(HardwareError) -> [UInt8]

    /// Whether a device acknowledges the address (a zero-length write).
    func probe(_ address: UInt8) throws(HardwareError) -> Bool
}

/// An I2C bus of the Linux i2c-dev interface (`/dev/i2c-N`), owning its file descriptor.
///
/// A class rather than a `~Copyable` struct: several drivers share one bus, and the
/// descriptor is closed when the last of them lets go (in `deinit`).
public final class I2CBus: I2CBusAccess {
    /// The bus path.
    public let path: String
    private var descriptor: Int32

    /// Opens a bus.
    ///
    /// The corresponding C function is `open` with `O_RDWR | O_CLOEXEC`.
    /// - Parameter path: The device node, e.g. `/dev/i2c-1`.
    /// - Throws: ``HardwareError`` with `ENOENT` when the bus does not exist (I2C not
    ///   enabled), `EACCES` when the user is not in the `i2c` group.
    public init(path: String) throws(HardwareError) {
        self.path = path
        switch system_openReadWrite(path) {
        case .success(let descriptor): self.descriptor = descriptor
        case .failure(let error): throw HardwareError(DeviceLocation(path: path), operation: "open", errno: error)
        }
    }

    deinit {
        if descriptor >= 0 { system_close(descriptor) }
    }

    /// Closes the bus now; later calls throw `EBADF`.
    ///
    /// The corresponding C function is `close`.
    public func close() {
        if descriptor >= 0 { system_close(descriptor) }
        descriptor = -1
    }

    /// Writes bytes to a device, then a stop.
    ///
    /// The corresponding C call is `ioctl(fd, I2C_RDWR, ...)` with one write message.
    /// - Parameters:
    ///   - bytes: The bytes after the address byte.
    ///   - address: The 7-bit address.
    public func write(_ bytes: [UInt8], to address: UInt8) throws(HardwareError) {
        _ = try transfer(address, [.write(bytes)], operation: "I2C_RDWR write \(bytes.count)")
    }

    /// Reads bytes from a device, then a stop.
    ///
    /// The corresponding C call is `ioctl(fd, I2C_RDWR, ...)` with one read message.
    /// - Returns: Exactly `count` bytes.
    public func read(_ count: Int, from address: UInt8) throws(HardwareError) -> [UInt8] {
        try transfer(address, [.read(count)], operation: "I2C_RDWR read \(count)").first ?? []
    }

    /// Writes, then reads after a repeated start, in one transfer.
    ///
    /// The corresponding C call is `ioctl(fd, I2C_RDWR, ...)` with a write and a read message.
    /// - Returns: Exactly `readCount` bytes.
    public func writeRead(_ bytes: [UInt8], readCount: Int, at address: UInt8) throws(HardwareError) -> [UInt8] {
        try transfer(address, [.write(bytes), .read(readCount)], operation: "I2C_RDWR write \(bytes.count) read \(readCount)")
            .first ?? []
    }

    /// Whether a device acknowledges the address.
    ///
    /// The corresponding C functions are `ioctl(fd, I2C_SLAVE, address)` and
    /// `i2c_smbus_write_quick`.
    public func probe(_ address: UInt8) throws(HardwareError) -> Bool {
        switch system_i2cQuickProbe(descriptor, address: address) {
        case .success(let present): return present
        case .failure(let error):
            throw HardwareError(DeviceLocation(path: path, address: address), operation: "SMBus quick write", errno: error)
        }
    }

    private func transfer(_ address: UInt8, _ messages: [I2CMessage], operation: String) throws(HardwareError) -> [[UInt8]] {
        guard address < 0x80 else {
            throw HardwareError(DeviceLocation(path: path, address: address), operation: operation, errno: .invalidArgument,
                                detail: "I2C addresses are 7 bits")
        }
        switch system_i2cTransfer(descriptor, address: address, messages) {
        case .success(let reads): return reads
        case .failure(let error): throw HardwareError(DeviceLocation(path: path, address: address), operation: operation, errno: error)
        }
    }
}
