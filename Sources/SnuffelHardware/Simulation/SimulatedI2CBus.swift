/// The air around a simulated part at one moment.
public struct Air: Sendable, Hashable {
    /// °C.
    public var temperature: Double
    /// % relative humidity.
    public var humidity: Double
    /// Pa.
    public var pressure: Double
    /// Gas concentrations in ppm by name (`voc` as ethanol-equivalent, `nox`, `nh3`,
    /// `h2s`, `co`, ...).
    public var gases: [String: Double]
    /// Volts on an analog front end's inputs (a PID, electrochemical cell amplifiers),
    /// for an ADC twin.
    public var analogVolts: [Double]
    /// This unit's clean-air baselines in its raw unit, where it differs from the nominal
    /// part's (real units do): `sraw_voc` and `sraw_nox` ticks for an SGP41, `gas_ohm` for
    /// a BME68x. A twin uses the nominal baseline for a key that is missing.
    public var rawBaseline: [String: Double] = [:]

    /// Creates a sample of air; the defaults are clean air at 25 °C and 50 % RH.
    public init(temperature: Double = 25, humidity: Double = 50, pressure: Double = 101_325,
                gases: [String: Double] = [:], analogVolts: [Double] = [0, 0, 0, 0]) {
        self.temperature = temperature
        self.humidity = humidity
        self.pressure = pressure
        self.gases = gases
        self.analogVolts = analogVolts
    }

    /// The concentration of a gas, 0 when absent.
    public func ppm(_ gas: String) -> Double { gases[gas] ?? 0 }
}

/// How a twin misbehaves; every twin honours every field.
public struct TwinFaults: Sendable, Hashable {
    /// NACK every transfer (the part is there but refuses to answer).
    public var nack = false
    /// Send a wrong CRC or checksum in every answer.
    public var badChecksum = false
    /// Keep reporting the last measured values whatever the air does.
    public var stuck = false
    /// Take this many times the datasheet's time for every command (1: on time).
    public var slowdown: Double = 1
    /// Fail the part's self-test.
    public var selfTestFailure = false

    /// No fault.
    public init() {}
}

/// A simulated part on a simulated I2C bus: it answers writes and reads as the real part's
/// command set or register map does.
public protocol SimulatedI2CDevice: AnyObject {
    /// The 7-bit address.
    var address: UInt8 { get }
    /// The part's name, e.g. `SHT4x`.
    var partName: String { get }
    /// Injected faults.
    var faults: TwinFaults { get set }
    /// Takes the bytes of a write; false means NACK.
    func receive(_ bytes: [UInt8], at time: UInt64) -> Bool
    /// Gives the bytes of a read; nil means NACK (busy or nothing to say).
    func transmit(_ count: Int, at time: UInt64) -> [UInt8]?
    /// Returns to the power-on state (after a replug).
    func powerOn(at time: UInt64)
}

/// A bus of simulated parts that stands where the kernel would be: it applies faults,
/// unplugging and replugging, and records every transfer in the clock's trace.
public final class SimulatedI2CBus: I2CBusAccess {
    /// The bus's name in errors.
    public let path: String
    /// The clock the parts keep time by; its trace records the transfers.
    public let clock: SimulatedClock
    private var devices: [UInt8: any SimulatedI2CDevice] = [:]
    private var unplugged: Set<UInt8> = []

    /// Creates an empty bus.
    public init(path: String = "sim:i2c", clock: SimulatedClock) {
        self.path = path
        self.clock = clock
    }

    /// Puts a part on the bus (powered on now).
    public func attach(_ device: any SimulatedI2CDevice) {
        devices[device.address] = device
        device.powerOn(at: clock.now())
    }

    /// The part at an address, if any.
    public func device(at address: UInt8) -> (any SimulatedI2CDevice)? { devices[address] }

    /// The addresses of attached parts.
    public var addresses: [UInt8] { devices.keys.sorted() }

    /// Pulls a part's cable: it NACKs everything until ``replug(_:)``.
    public func unplug(_ address: UInt8) { unplugged.insert(address) }

    /// Puts a part's cable back: it powers on afresh (volatile settings lost).
    public func replug(_ address: UInt8) {
        unplugged.remove(address)
        devices[address]?.powerOn(at: clock.now())
    }

    private func answering(_ address: UInt8) -> (any SimulatedI2CDevice)? {
        guard !unplugged.contains(address), let device = devices[address], !device.faults.nack else { return nil }
        return device
    }

    private func nack(_ address: UInt8, _ attempted: String) -> HardwareError {
        clock.trace.append(.nack(address: address, attempted: attempted))
        return HardwareError(DeviceLocation(path: path, address: address), operation: attempted, errno: .noSuchDeviceOrAddress)
    }

    public func write(_ bytes: [UInt8], to address: UInt8) throws(HardwareError) {
        guard let device = answering(address), device.receive(bytes, at: clock.now()) else {
            throw nack(address, "write \(hexBytes(bytes))")
        }
        clock.trace.append(.write(address: address, bytes: bytes))
    }

    public func read(_ count: Int, from address: UInt8) throws(HardwareError) -> [UInt8] {
        guard let device = answering(address), let bytes = device.transmit(count, at: clock.now()) else {
            throw nack(address, "read \(count)")
        }
        let exact = Array((bytes + [UInt8](repeating: 0xFF, count: max(0, count - bytes.count))).prefix(count))
        clock.trace.append(.read(address: address, bytes: exact))
        return exact
    }

    public func writeRead(_ bytes: [UInt8], readCount: Int, at address: UInt8) throws(HardwareError) -> [UInt8] {
        guard let device = answering(address), device.receive(bytes, at: clock.now()),
              let read = device.transmit(readCount, at: clock.now()) else {
            throw nack(address, "write \(hexBytes(bytes)) read \(readCount)")
        }
        let exact = Array((read + [UInt8](repeating: 0xFF, count: max(0, readCount - read.count))).prefix(readCount))
        clock.trace.append(.writeRead(address: address, written: bytes, read: exact))
        return exact
    }

    public func probe(_ address: UInt8) throws(HardwareError) -> Bool {
        let present = answering(address) != nil
        clock.trace.append(.probe(address: address, acknowledged: present))
        return present
    }
}
