/// One device on an I2C bus: the bus and the address together, with the transfers drivers
/// use, including the Sensirion pattern of write, stop, wait, read.
public struct I2CDevice {
    /// The bus.
    public let bus: any I2CBusAccess
    /// The 7-bit address.
    public let address: UInt8

    /// A device at `address` on `bus`.
    public init(bus: any I2CBusAccess, address: UInt8) {
        self.bus = bus
        self.address = address
    }

    /// Where the device is.
    public var location: DeviceLocation { DeviceLocation(path: bus.path, address: address) }

    /// Writes bytes, then a stop.
    public func write(_ bytes: [UInt8]) throws(HardwareError) {
        try bus.write(bytes, to: address)
    }

    /// Reads bytes, then a stop.
    public func read(_ count: Int) throws(HardwareError) -> [UInt8] {
        try bus.read(count, from: address)
    }

    /// Writes, then reads after a repeated start, in one transfer (`I2C_RDWR`).
    public func writeRead(_ bytes: [UInt8], readCount: Int) throws(HardwareError) -> [UInt8] {
        try bus.writeRead(bytes, readCount: readCount, at: address)
    }

    /// Writes, stops, waits on `clock`, then reads: a command that needs time to execute
    /// before its answer can be read (Sensirion parts NACK the read until then).
    public func writeThenRead(_ bytes: [UInt8], waitMicroseconds: UInt64, clock: any HardwareClock, readCount: Int) throws(HardwareError) -> [UInt8] {
        try write(bytes)
        clock.sleep(microseconds: waitMicroseconds)
        return try read(readCount)
    }
}
