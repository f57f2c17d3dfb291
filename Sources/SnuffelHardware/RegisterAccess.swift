/// A part with a register map on an I2C bus: register reads as a write of the register
/// address then a repeated-start read, and writes of bytes that start with a register
/// address. Shared by the BME68x, ADS1115 and ENS160 drivers; bus failures become
/// ``SensorError/bus(_:)``.
struct RegisterAccess {
    let device: I2CDevice
    let clock: any HardwareClock

    init(bus: any I2CBusAccess, address: UInt8, clock: any HardwareClock) {
        device = I2CDevice(bus: bus, address: address)
        self.clock = clock
    }

    /// Where the part is.
    var location: DeviceLocation { device.location }

    /// Reads `count` bytes from `register` on (auto-incrementing).
    func read(_ register: UInt8, _ count: Int) throws(SensorError) -> [UInt8] {
        do { return try device.writeRead([register], readCount: count) } catch { throw .bus(error) }
    }

    /// Writes bytes (a register address first) in one transfer.
    func write(_ bytes: [UInt8]) throws(SensorError) {
        do { try device.write(bytes) } catch { throw .bus(error) }
    }
}
