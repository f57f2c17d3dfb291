/// ScioSense ENS160 digital metal-oxide multi-gas sensor.
///
/// From the ENS160 datasheet (SC-001224-DS), registers: PART_ID 0x00 (0x0160,
/// little-endian), OPMODE 0x10 (0x00 deep sleep, 0x01 idle, 0x02 standard, 0xF0 reset),
/// TEMP_IN 0x13 (kelvin × 64) and RH_IN 0x15 (% × 512), both little-endian,
/// DEVICE_STATUS 0x20 (bit 7 STATAS, bit 6 STATER, bits 3:2 validity, bit 1 NEWDAT),
/// DATA_AQI 0x21 (bits 2:0, UBA index 1–5), DATA_TVOC 0x22 (ppb) and DATA_ECO2 0x24 (ppm),
/// little-endian. Register writes auto-increment; a read starts at the register written
/// before it. In standard mode a new sample comes every second.
public final class ENS160 {
    /// The address with ADDR high (0x52 with ADDR low).
    public static let defaultAddress: UInt8 = 0x53
    /// The part id.
    public static let partID: UInt16 = 0x0160

    /// Register addresses.
    public enum Register {
        public static let partID: UInt8 = 0x00
        public static let opMode: UInt8 = 0x10
        public static let temperatureIn: UInt8 = 0x13
        public static let status: UInt8 = 0x20
        public static let aqi: UInt8 = 0x21
    }

    /// Operating modes.
    public enum Mode: UInt8, Sendable {
        case deepSleep = 0x00, idle = 0x01, standard = 0x02, reset = 0xF0
    }

    /// The validity flag of DEVICE_STATUS.
    public enum Validity: UInt8, Sendable, CustomStringConvertible {
        case normal = 0, warmUp = 1, initialStartUp = 2, invalid = 3
        public var description: String {
            switch self {
            case .normal: return "valid"
            case .warmUp: return "warming up"
            case .initialStartUp: return "initial start-up"
            case .invalid: return "invalid output"
            }
        }
    }

    /// One sample.
    public struct Sample: Sendable, Hashable {
        /// Air quality index after UBA, 1 (excellent) to 5 (unhealthy).
        public var aqi: UInt8
        /// Total VOC, ppb.
        public var tvoc: UInt16
        /// Equivalent CO2, ppm.
        public var eco2: UInt16
        public var validity: Validity
    }

    private let registers: RegisterAccess

    /// A driver for the part at `address`.
    public init(bus: any I2CBusAccess, address: UInt8 = ENS160.defaultAddress, clock: any HardwareClock) {
        registers = RegisterAccess(bus: bus, address: address, clock: clock)
    }

    /// Where the part is.
    public var location: DeviceLocation { registers.location }

    private func read(_ register: UInt8, _ count: Int) throws(SensorError) -> [UInt8] {
        try registers.read(register, count)
    }

    private func write(_ register: UInt8, _ bytes: [UInt8]) throws(SensorError) {
        try registers.write([register] + bytes)
    }

    /// Checks PART_ID.
    /// - Throws: ``SensorError/unexpectedIdentity(_:_:)`` when it is not 0x0160.
    public func identify() throws(SensorError) {
        let bytes = try read(Register.partID, 2)
        let id = UInt16(bytes[1]) << 8 | UInt16(bytes[0])
        guard id == Self.partID else { throw .unexpectedIdentity(location, "PART_ID \(hex16(id)), an ENS160 has 0x0160") }
    }

    /// Sets the operating mode (and waits 10 ms for the part to switch).
    public func setMode(_ mode: Mode) throws(SensorError) {
        try write(Register.opMode, [mode.rawValue])
        registers.clock.sleep(microseconds: 10_000)
    }

    /// Gives the part the ambient temperature (°C) and humidity (% RH) it compensates for.
    public func setCompensation(temperature: Double, humidity: Double) throws(SensorError) {
        guard temperature.isFinite, humidity.isFinite else { throw .invalidArgument("compensation must be finite") }
        let t = UInt16(min(65535, max(0, ((temperature + 273.15) * 64).rounded())))
        let rh = UInt16(min(65535, max(0, (min(100, humidity) * 512).rounded())))
        try write(Register.temperatureIn, [UInt8(t & 0xFF), UInt8(t >> 8), UInt8(rh & 0xFF), UInt8(rh >> 8)])
    }

    /// Waits for a new sample (polling DEVICE_STATUS every 100 ms, up to 1.5 s) and reads it.
    public func read() throws(SensorError) -> Sample {
        var polls = 0
        var status = try read(Register.status, 1)[0]
        while status & 0x02 == 0 {
            if status & 0x40 != 0 { throw .invalidResponse(location, "STATER set: the part reports an error") }
            polls += 1
            guard polls <= 15 else { throw .timeout(location, "no new data within 1.5 s (is the part in standard mode?)") }
            registers.clock.sleep(microseconds: 100_000)
            status = try read(Register.status, 1)[0]
        }
        let data = try read(Register.aqi, 5)
        return Sample(
            aqi: data[0] & 0x07, tvoc: UInt16(data[2]) << 8 | UInt16(data[1]), eco2: UInt16(data[4]) << 8 | UInt16(data[3]),
            validity: Validity(rawValue: status >> 2 & 0x03) ?? .invalid)
    }
}
