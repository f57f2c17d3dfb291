/// Sensirion SGP41 VOC and NOx sensor.
///
/// From the SGP41 datasheet, commands: commands are 16-bit, with
/// 16-bit argument words, each followed by a CRC-8 (``SensirionCRC``), as are the words of
/// every answer.
///
/// | command | code | arguments | wait | answer |
/// | --- | --- | --- | --- | --- |
/// | execute conditioning | 0x2612 | RH, T ticks | 50 ms | SRAW_VOC |
/// | measure raw signals | 0x2619 | RH, T ticks | 50 ms | SRAW_VOC, SRAW_NOX |
/// | execute self-test | 0x280E | — | 320 ms | result (low byte: bit 0 VOC pixel, bit 1 NOx pixel failed) |
/// | turn heater off | 0x3615 | — | 1 ms | — |
/// | get serial number | 0x3682 | — | 1 ms | three words |
///
/// Compensation ticks: `RH_ticks = RH · 65535 / 100`, `T_ticks = (T + 45) · 65535 / 175`;
/// without compensation the datasheet's defaults 0x8000 (50 % RH) and 0x6666 (25 °C) are sent.
/// After power-up, conditioning runs for 10 s (never more) before the NOx pixel is usable.
public final class SGP41 {
    /// The only address of the part.
    public static let defaultAddress: UInt8 = 0x59

    /// Command codes.
    public enum Command {
        public static let executeConditioning: [UInt8] = [0x26, 0x12]
        public static let measureRawSignals: [UInt8] = [0x26, 0x19]
        public static let executeSelfTest: [UInt8] = [0x28, 0x0E]
        public static let turnHeaterOff: [UInt8] = [0x36, 0x15]
        public static let getSerialNumber: [UInt8] = [0x36, 0x82]
    }

    /// Longest execution times in µs.
    public enum Duration {
        public static let measure: UInt64 = 50_000
        public static let selfTest: UInt64 = 320_000
        public static let short: UInt64 = 1_000
        /// How long conditioning runs after power-up.
        public static let conditioning: UInt64 = 10_000_000
    }

    /// The datasheet's default compensation words: 50 % RH and 25 °C.
    public static let defaultHumidityTicks: UInt16 = 0x8000
    public static let defaultTemperatureTicks: UInt16 = 0x6666

    /// Raw signals of one measurement.
    public struct RawSignals: Sendable, Hashable {
        public var voc: UInt16
        public var nox: UInt16
    }

    /// The self-test's verdict per pixel.
    public struct SelfTest: Sendable, Hashable {
        public var raw: UInt16
        public var vocPixelOK: Bool { raw & 0x01 == 0 }
        public var noxPixelOK: Bool { raw & 0x02 == 0 }
        public var passed: Bool { vocPixelOK && noxPixelOK }
    }

    private let command: SensirionCommand

    /// A driver for the part at `address`.
    public init(bus: any I2CBusAccess, address: UInt8 = SGP41.defaultAddress, clock: any HardwareClock) {
        command = SensirionCommand(bus: bus, address: address, clock: clock)
    }

    /// Where the part is.
    public var location: DeviceLocation { command.location }

    /// The compensation words for a temperature and humidity (e.g. from an SHT4x), or the
    /// defaults when either is unknown; values are clamped to the part's range.
    public static func compensationTicks(humidity: Double?, temperature: Double?) -> (humidity: UInt16, temperature: UInt16) {
        guard let humidity, let temperature, humidity.isFinite, temperature.isFinite else {
            return (defaultHumidityTicks, defaultTemperatureTicks)
        }
        let rh = (min(100, max(0, humidity)) * 65535 / 100).rounded()
        let t = ((min(130, max(-45, temperature)) + 45) * 65535 / 175).rounded()
        return (UInt16(rh), UInt16(t))
    }

    /// Runs one conditioning step (call once a second for the first 10 s after power-up).
    /// - Returns: SRAW_VOC.
    public func conditioning(humidity: Double? = nil, temperature: Double? = nil) throws(SensorError) -> UInt16 {
        let ticks = Self.compensationTicks(humidity: humidity, temperature: temperature)
        return try command.run(Command.executeConditioning, arguments: [ticks.humidity, ticks.temperature],
                               waitMicroseconds: Duration.measure, words: 1, what: "conditioning")[0]
    }

    /// Measures SRAW_VOC and SRAW_NOX, compensated on-chip for the given humidity (% RH)
    /// and temperature (°C); the datasheet defaults when they are nil.
    public func measureRaw(humidity: Double? = nil, temperature: Double? = nil) throws(SensorError) -> RawSignals {
        let ticks = Self.compensationTicks(humidity: humidity, temperature: temperature)
        let words = try command.run(Command.measureRawSignals, arguments: [ticks.humidity, ticks.temperature],
                                    waitMicroseconds: Duration.measure, words: 2, what: "raw signals")
        return RawSignals(voc: words[0], nox: words[1])
    }

    /// Runs the built-in self-test (320 ms).
    public func selfTest() throws(SensorError) -> SelfTest {
        SelfTest(raw: try command.run(Command.executeSelfTest, waitMicroseconds: Duration.selfTest, words: 1, what: "self-test")[0])
    }

    /// The 48-bit serial number.
    public func serialNumber() throws(SensorError) -> UInt64 {
        let words = try command.run(Command.getSerialNumber, waitMicroseconds: Duration.short, words: 3, what: "serial number")
        return words.reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// Turns the hotplate off and leaves the part idle.
    public func turnHeaterOff() throws(SensorError) {
        try command.send(Command.turnHeaterOff)
        command.clock.sleep(microseconds: Duration.short)
    }
}
