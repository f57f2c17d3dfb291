/// Texas Instruments ADS1115 16-bit ADC, for the analog PID and electrochemical cells.
///
/// From the ADS1115 datasheet (SBAS444), register map: a pointer byte selects
/// the conversion register (0x00) or the config register (0x01); registers are 16-bit, MSB
/// first. Config: OS (bit 15: write 1 to start a single conversion; reads 0 while
/// converting), MUX (14:12), PGA (11:9), MODE (8: 1 single-shot), DR (7:5), comparator
/// (4:0, 0b00011 disables it). Reset value 0x8583. A conversion takes 1/DR (±10 %).
public final class ADS1115 {
    /// Address with ADDR to GND (0x49 VDD, 0x4A SDA, 0x4B SCL).
    public static let defaultAddress: UInt8 = 0x48

    /// The input multiplexer (MUX field).
    public enum Input: UInt16, Sendable, CaseIterable {
        case differential01 = 0, differential03 = 1, differential13 = 2, differential23 = 3
        case ain0 = 4, ain1 = 5, ain2 = 6, ain3 = 7
    }

    /// The programmable gain (PGA field), named by full-scale range.
    public enum Gain: UInt16, Sendable, CaseIterable {
        case fullScale6_144 = 0, fullScale4_096 = 1, fullScale2_048 = 2, fullScale1_024 = 3, fullScale0_512 = 4, fullScale0_256 = 5

        /// The full-scale range in volts.
        public var fullScaleVolts: Double {
            [6.144, 4.096, 2.048, 1.024, 0.512, 0.256][Int(rawValue)]
        }
    }

    /// The data rate (DR field), samples per second.
    public enum DataRate: UInt16, Sendable, CaseIterable {
        case sps8 = 0, sps16, sps32, sps64, sps128, sps250, sps475, sps860

        /// Samples per second.
        public var samplesPerSecond: Int { [8, 16, 32, 64, 128, 250, 475, 860][Int(rawValue)] }
        /// The longest conversion time, µs: 1/DR plus the oscillator's 10 %.
        public var conversionMicroseconds: UInt64 { UInt64((1_100_000 / Double(samplesPerSecond)).rounded(.up)) }
    }

    /// The config word for a single-shot conversion (OS set, comparator disabled).
    public static func configWord(input: Input, gain: Gain, rate: DataRate) -> UInt16 {
        0x8000 | input.rawValue << 12 | gain.rawValue << 9 | 0x0100 | rate.rawValue << 5 | 0x0003
    }

    private let registers: RegisterAccess

    /// A driver for the part at `address`.
    public init(bus: any I2CBusAccess, address: UInt8 = ADS1115.defaultAddress, clock: any HardwareClock) {
        registers = RegisterAccess(bus: bus, address: address, clock: clock)
    }

    /// Where the part is.
    public var location: DeviceLocation { registers.location }

    private func readRegister(_ pointer: UInt8) throws(SensorError) -> UInt16 {
        let bytes = try registers.read(pointer, 2)
        return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }

    /// Reads the config register (its reset value is 0x8583).
    public func config() throws(SensorError) -> UInt16 { try readRegister(0x01) }

    /// One single-shot conversion: write the config with OS set, wait the conversion
    /// time, poll OS until the conversion is done, read the conversion register.
    /// - Returns: The signed code; volts are `code · FSR / 32768`.
    public func convert(input: Input, gain: Gain = .fullScale4_096, rate: DataRate = .sps128) throws(SensorError) -> Int16 {
        let word = Self.configWord(input: input, gain: gain, rate: rate)
        try registers.write([0x01, UInt8(word >> 8), UInt8(word & 0xFF)])
        registers.clock.sleep(microseconds: rate.conversionMicroseconds)
        var polls = 0
        while try readRegister(0x01) & 0x8000 == 0 {
            polls += 1
            guard polls <= 10 else { throw .timeout(location, "conversion not done 10 polls after \(rate.conversionMicroseconds) µs") }
            registers.clock.sleep(microseconds: 1_000)
        }
        return Int16(bitPattern: try readRegister(0x00))
    }

    /// One conversion in volts.
    public func volts(input: Input, gain: Gain = .fullScale4_096, rate: DataRate = .sps128) throws(SensorError) -> Double {
        Double(try convert(input: input, gain: gain, rate: rate)) * gain.fullScaleVolts / 32768
    }
}

/// A per-unit analog calibration: the output at zero concentration and the output per unit
/// of concentration (from the sensor's calibration certificate or a lab calibration).
public struct AnalogCalibration: Sendable, Hashable {
    /// Volts at zero concentration.
    public var zeroVolts: Double
    /// Volts per unit of concentration (per ppm, or per ppb for a PID).
    public var voltsPerUnit: Double

    public init(zeroVolts: Double, voltsPerUnit: Double) {
        self.zeroVolts = zeroVolts
        self.voltsPerUnit = voltsPerUnit
    }

    /// Concentration from volts: `(V − zero) / sensitivity`; nil when the sensitivity is 0.
    public func concentration(volts: Double) -> Double? {
        guard voltsPerUnit != 0, voltsPerUnit.isFinite else { return nil }
        return (volts - zeroVolts) / voltsPerUnit
    }
}
