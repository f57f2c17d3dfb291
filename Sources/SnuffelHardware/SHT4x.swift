/// Sensirion SHT4x temperature and humidity sensor (SHT40, SHT41, SHT45).
///
/// From the SHT4x datasheet (digital interface):
/// commands are one byte; each answer is 16-bit words followed by a CRC-8
/// (``SensirionCRC``). Measurement (high repeatability) 0xFD, max 8.3 ms; serial number
/// 0x89; soft reset 0x94, max 1 ms. Conversion:
/// `T = −45 + 175 · S_T / (2¹⁶ − 1)` °C and `RH = −6 + 125 · S_RH / (2¹⁶ − 1)` %, cropped to
/// 0–100 %.
public final class SHT4x {
    /// The default address (SHT40-AD1B and most breakouts; 0x45 and 0x46 exist too).
    public static let defaultAddress: UInt8 = 0x44

    /// Command codes (datasheet).
    public enum Command {
        public static let measureHighPrecision: UInt8 = 0xFD
        public static let readSerialNumber: UInt8 = 0x89
        public static let softReset: UInt8 = 0x94
    }

    /// Longest execution times in µs (datasheet).
    public enum Duration {
        public static let measureHighPrecision: UInt64 = 8_300
        public static let serialNumber: UInt64 = 1_000
        public static let softReset: UInt64 = 1_000
    }

    /// One measurement: the physical values and the raw ticks behind them.
    public struct Measurement: Sendable, Hashable {
        /// °C.
        public var temperature: Double
        /// % relative humidity, 0–100.
        public var humidity: Double
        public var rawTemperature: UInt16
        public var rawHumidity: UInt16
    }

    private let command: SensirionCommand

    /// A driver for the part at `address`.
    public init(bus: any I2CBusAccess, address: UInt8 = SHT4x.defaultAddress, clock: any HardwareClock) {
        command = SensirionCommand(bus: bus, address: address, clock: clock)
    }

    /// Where the part is.
    public var location: DeviceLocation { command.location }

    /// Measures with high repeatability.
    public func measure() throws(SensorError) -> Measurement {
        let words = try command.run([Command.measureHighPrecision], waitMicroseconds: Duration.measureHighPrecision, words: 2, what: "measurement")
        return Measurement(
            temperature: Self.temperature(ticks: words[0]), humidity: Self.humidity(ticks: words[1]),
            rawTemperature: words[0], rawHumidity: words[1])
    }

    /// The part's 32-bit serial number.
    public func serialNumber() throws(SensorError) -> UInt32 {
        let words = try command.run([Command.readSerialNumber], waitMicroseconds: Duration.serialNumber, words: 2, what: "serial number")
        return UInt32(words[0]) << 16 | UInt32(words[1])
    }

    /// Resets the part to its power-on state.
    public func softReset() throws(SensorError) {
        try command.send([Command.softReset])
        command.clock.sleep(microseconds: Duration.softReset)
    }

    /// °C from temperature ticks (datasheet).
    public static func temperature(ticks: UInt16) -> Double {
        -45 + 175 * Double(ticks) / 65535
    }

    /// % RH from humidity ticks (datasheet), cropped to 0–100.
    public static func humidity(ticks: UInt16) -> Double {
        min(100, max(0, -6 + 125 * Double(ticks) / 65535))
    }
}
