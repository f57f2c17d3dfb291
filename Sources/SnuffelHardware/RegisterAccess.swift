/// A part with a register map on an I2C bus: register reads as a write of the register
/// address then a repeated-start read, and writes of bytes that start with a register
/// address. Shared by the BME68x, ADS1115 and ENS160 drivers; bus failures become
/// ``SensorError/bus(_:)``.
struct RegisterAccess {
    let bus: any I2CBusAccess
    let address: UInt8
    let clock: any HardwareClock

    /// Where the part is.
    var location: DeviceLocation { DeviceLocation(path: bus.path, address: address) }

    /// Reads `count` bytes from `register` on (auto-incrementing).
    func read(_ register: UInt8, _ count: Int) throws(SensorError) -> [UInt8] {
        do { return try bus.writeRead([register], readCount: count, at: address) } catch { throw .bus(error) }
    }

    /// Writes bytes (a register address first) in one transfer.
    func write(_ bytes: [UInt8]) throws(SensorError) {
        do { try bus.write(bytes, to: address) } catch { throw .bus(error) }
    }
}
