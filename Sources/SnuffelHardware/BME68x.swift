/// Bosch BME688 and BME680 gas, temperature, pressure and humidity sensors.
///
/// Register map, calibration layout and compensation equations from the BME680 datasheet
/// (BST-BME680-DS001: temperature, pressure and humidity measurement, gas sensor heating
/// and measurement, memory map) and the BME688 datasheet (BST-BME688-DS000, which changes
/// the gas resistance equation and moves the gas ADC to 0x2C). The floating-point forms of the
/// equations are used. No code from Bosch's BME68x API or BSEC.
///
/// A forced-mode measurement: oversampling to `ctrl_hum` (0x72), heater target resistance
/// to `res_heat_0` (0x5A), heater duration to `gas_wait_0` (0x64), `run_gas` and heater
/// profile 0 to `ctrl_gas_1` (0x71), then oversampling and forced mode to `ctrl_meas`
/// (0x74); wait; poll `meas_status_0` (0x1D) for `new_data_0`; read field 0 (0x1D–0x2D).
public final class BME68x {
    /// The address with SDO to GND; 0x77 with SDO to VDDIO.
    public static let primaryAddress: UInt8 = 0x76
    public static let secondaryAddress: UInt8 = 0x77
    /// The value of `chip_id` (0xD0) for both parts.
    public static let chipID: UInt8 = 0x61

    /// Register addresses (BME680 and BME688 datasheets, memory map).
    public enum Register {
        public static let fieldStatus: UInt8 = 0x1D
        public static let heaterCurrent0: UInt8 = 0x50
        public static let heaterResistance0: UInt8 = 0x5A
        public static let gasWait0: UInt8 = 0x64
        public static let ctrlGas0: UInt8 = 0x70
        public static let ctrlGas1: UInt8 = 0x71
        public static let ctrlHum: UInt8 = 0x72
        public static let ctrlMeas: UInt8 = 0x74
        public static let config: UInt8 = 0x75
        public static let chipID: UInt8 = 0xD0
        public static let reset: UInt8 = 0xE0
        public static let variantID: UInt8 = 0xF0
        /// Calibration blocks: 23 bytes at 0x8A, 14 at 0xE1, 5 at 0x00.
        public static let calibration1: UInt8 = 0x8A
        public static let calibration2: UInt8 = 0xE1
        public static let calibration3: UInt8 = 0x00
    }

    /// Which part: they differ in the gas ADC's position, `run_gas` and the gas equation.
    public enum Variant: String, Sendable, Hashable {
        /// `variant_id` 0x00.
        case bme680 = "BME680"
        /// `variant_id` 0x01.
        case bme688 = "BME688"
    }

    /// The factory calibration parameters (names as in the datasheet).
    public struct Calibration: Sendable, Hashable {
        public var t1: Double, t2: Double, t3: Double
        public var p1: Double, p2: Double, p3: Double, p4: Double, p5: Double
        public var p6: Double, p7: Double, p8: Double, p9: Double, p10: Double
        public var h1: Double, h2: Double, h3: Double, h4: Double, h5: Double, h6: Double, h7: Double
        public var g1: Double, g2: Double, g3: Double
        public var heaterRange: Double, heaterValue: Double, rangeSwitchingError: Double

        /// Decodes the three calibration blocks (BME680 datasheet, calibration parameter tables).
        /// - Parameters:
        ///   - block1: 23 bytes from 0x8A.
        ///   - block2: 14 bytes from 0xE1.
        ///   - block3: 5 bytes from 0x00.
        ///   Missing bytes of a short block read as 0.
        public init(block1: [UInt8], block2: [UInt8], block3: [UInt8]) {
            let block1 = block1 + [UInt8](repeating: 0, count: max(0, 23 - block1.count))
            let block2 = block2 + [UInt8](repeating: 0, count: max(0, 14 - block2.count))
            let block3 = block3 + [UInt8](repeating: 0, count: max(0, 5 - block3.count))
            func at(_ register: Int) -> UInt8 {
                switch register {
                case 0x8A...0xA0: return block1[register - 0x8A]
                case 0xE1...0xEE: return block2[register - 0xE1]
                default: return block3[register]
                }
            }
            func u16(_ lsb: Int) -> Double { Double(UInt16(at(lsb + 1)) << 8 | UInt16(at(lsb))) }
            func s16(_ lsb: Int) -> Double { Double(Int16(bitPattern: UInt16(at(lsb + 1)) << 8 | UInt16(at(lsb)))) }
            func s8(_ register: Int) -> Double { Double(Int8(bitPattern: at(register))) }
            func u8(_ register: Int) -> Double { Double(at(register)) }
            t1 = u16(0xE9); t2 = s16(0x8A); t3 = s8(0x8C)
            p1 = u16(0x8E); p2 = s16(0x90); p3 = s8(0x92); p4 = s16(0x94); p5 = s16(0x96)
            p6 = s8(0x99); p7 = s8(0x98); p8 = s16(0x9C); p9 = s16(0x9E); p10 = u8(0xA0)
            h1 = Double(UInt16(at(0xE3)) << 4 | UInt16(at(0xE2) & 0x0F))
            h2 = Double(UInt16(at(0xE1)) << 4 | UInt16(at(0xE2) >> 4))
            h3 = s8(0xE4); h4 = s8(0xE5); h5 = s8(0xE6); h6 = u8(0xE7); h7 = s8(0xE8)
            g1 = s8(0xED); g2 = s16(0xEB); g3 = s8(0xEE)
            heaterRange = Double((at(0x02) >> 4) & 0x03)
            heaterValue = s8(0x00)
            rangeSwitchingError = Double(Int8(bitPattern: at(0x04)) >> 4)
        }

        /// Temperature in °C and `t_fine` from the temperature ADC (BME680 datasheet, temperature equations).
        public func temperature(adc: Double) -> (celsius: Double, fine: Double) {
            let var1 = (adc / 16384 - t1 / 1024) * t2
            let d = adc / 131072 - t1 / 8192
            let var2 = d * d * (t3 * 16)
            let fine = var1 + var2
            return (fine / 5120, fine)
        }

        /// Pressure in Pa from the pressure ADC and `t_fine` (BME680 datasheet, pressure equations).
        public func pressure(adc: Double, fine: Double) -> Double {
            var var1 = fine / 2 - 64000
            var var2 = var1 * var1 * (p6 / 131072)
            var2 += var1 * p5 * 2
            var2 = var2 / 4 + p4 * 65536
            var1 = (p3 * var1 * var1 / 16384 + p2 * var1) / 524288
            var1 = (1 + var1 / 32768) * p1
            guard var1 != 0 else { return 0 }
            var p = 1_048_576 - adc
            p = (p - var2 / 4096) * 6250 / var1
            let v1 = p9 * p * p / 2_147_483_648
            let v2 = p * (p8 / 32768)
            let q = p / 256
            let v3 = q * q * q * (p10 / 131072)
            return p + (v1 + v2 + v3 + p7 * 128) / 16
        }

        /// Relative humidity in % from the humidity ADC and the compensated temperature
        /// (BME680 datasheet, humidity equations), cropped to 0–100.
        public func humidity(adc: Double, celsius: Double) -> Double {
            let var1 = adc - (h1 * 16 + h3 / 2 * celsius)
            let var2 = var1 * (h2 / 262144 * (1 + h4 / 16384 * celsius + h5 / 1_048_576 * celsius * celsius))
            let var3 = h6 / 16384
            let var4 = h7 / 2_097_152
            return min(100, max(0, var2 + (var3 + var4 * celsius) * var2 * var2))
        }

        /// The `res_heat_x` code for a heater target temperature at an ambient temperature
        /// (BME680 datasheet, heater equations).
        public func heaterResistanceCode(target: Double, ambient: Double) -> UInt8 {
            let var1 = g1 / 16 + 49
            let var2 = g2 / 32768 * 0.0005 + 0.00235
            let var3 = g3 / 1024
            let var4 = var1 * (1 + var2 * (min(400, target) - 25))
            let var5 = var4 + var3 * ambient
            let code = 3.4 * (var5 * (4 / (4 + heaterRange)) * (1 / (1 + heaterValue * 0.002)) - 25)
            return UInt8(min(255, max(0, code.rounded(.towardZero))))
        }

        /// Gas resistance in Ω from the gas ADC and range (BME680 datasheet, with its gas
        /// range constants; BME688 datasheet, its own equation).
        public func gasResistance(adc: Double, range: Int, variant: Variant) -> Double {
            let r = min(15, max(0, range))
            switch variant {
            case .bme688:
                let var1 = Double(262144 >> r)
                let var2 = 4096 + (adc - 512) * 3
                return var2 > 0 ? 1_000_000 * var1 / var2 : .infinity
            case .bme680:
                let var1 = (1340 + 5 * rangeSwitchingError) * Self.range680K1[r]
                let denominator = adc - 512 + var1
                return denominator > 0 ? var1 * Self.range680K2[r] / denominator : .infinity
            }
        }

        static let range680K1: [Double] = [1, 1, 1, 1, 1, 0.99, 1, 0.992, 1, 1, 0.998, 0.995, 1, 0.99, 1, 1]
        static let range680K2: [Double] = [
            8_000_000, 4_000_000, 2_000_000, 1_000_000, 499_500.4995, 248_262.1648, 125_000, 63_004.03226,
            31_281.28128, 15_625, 7_812.5, 3_906.25, 1_953.125, 976.5625, 488.28125, 244.140625,
        ]
    }

    /// One forced-mode measurement.
    public struct Measurement: Sendable, Hashable {
        public var temperature: Double
        public var pressure: Double
        public var humidity: Double
        /// Ω; nil when the gas reading is not valid or the heater was not stable.
        public var gasResistance: Double?
        public var gasValid: Bool
        public var heaterStable: Bool
        public var gasADC: UInt16
        public var gasRange: UInt8
    }

    /// A heater step: target temperature (°C, at most 400) and duration (ms, at most 4032).
    public struct HeaterProfile: Sendable, Hashable {
        public var temperature: Double
        public var durationMilliseconds: Int
        public init(temperature: Double = 320, durationMilliseconds: Int = 150) {
            self.temperature = temperature
            self.durationMilliseconds = durationMilliseconds
        }
    }

    /// The `gas_wait_x` code for a duration: 6 bits of value times a multiplier of 1, 4, 16
    /// or 64 in bits 7:6 (BME680 datasheet).
    public static func gasWaitCode(milliseconds: Int) -> UInt8 {
        var value = max(0, milliseconds)
        if value >= 0xFC0 { return 0xFF }
        var factor: UInt8 = 0
        while value > 0x3F {
            value /= 4
            factor += 1
        }
        return factor << 6 | UInt8(value)
    }

    /// Oversampling written by ``measure(heater:)``: temperature ×2, pressure ×16,
    /// humidity ×1 (`ctrl_meas` 0x55 with forced mode, `ctrl_hum` 0x01).
    public static let ctrlHumValue: UInt8 = 0x01
    public static let ctrlMeasForced: UInt8 = 0b010 << 5 | 0b101 << 2 | 0b01

    /// Time of the TPH part at these settings, µs: 1963 µs per oversampling cycle (2 + 16 + 1)
    /// plus about 4 ms of switching (BME680 datasheet, rounded up).
    public static let tphDuration: UInt64 = 19 * 1963 + 4_000

    private let registers: RegisterAccess
    /// The part, once ``identify()`` ran.
    public private(set) var variant: Variant?
    /// The calibration, once ``identify()`` ran.
    public private(set) var calibration: Calibration?
    private var lastTemperature = 25.0

    /// A driver for the part at `address`.
    public init(bus: any I2CBusAccess, address: UInt8 = BME68x.primaryAddress, clock: any HardwareClock) {
        registers = RegisterAccess(bus: bus, address: address, clock: clock)
    }

    /// Where the part is.
    public var location: DeviceLocation { registers.location }

    private func read(_ register: UInt8, _ count: Int) throws(SensorError) -> [UInt8] {
        try registers.read(register, count)
    }

    /// Writes register/value pairs in one transfer (the part does not auto-increment writes).
    private func write(_ pairs: [(UInt8, UInt8)]) throws(SensorError) {
        try registers.write(pairs.flatMap { [$0.0, $0.1] })
    }

    /// Reads `chip_id` and `variant_id` and the calibration blocks.
    /// - Throws: ``SensorError/unexpectedIdentity(_:_:)`` when `chip_id` is not 0x61.
    @discardableResult
    public func identify() throws(SensorError) -> Variant {
        let id = try read(Register.chipID, 1)[0]
        guard id == Self.chipID else {
            throw .unexpectedIdentity(location, "chip_id \(hex(id)), a BME680/BME688 has \(hex(Self.chipID))")
        }
        let variantID = try read(Register.variantID, 1)[0]
        let variant: Variant = variantID == 0x01 ? .bme688 : .bme680
        let calibration = Calibration(
            block1: try read(Register.calibration1, 23), block2: try read(Register.calibration2, 14),
            block3: try read(Register.calibration3, 5))
        self.variant = variant
        self.calibration = calibration
        return variant
    }

    /// Resets the part (0xB6 to `reset`) and waits 10 ms for it to start.
    public func softReset() throws(SensorError) {
        try write([(Register.reset, 0xB6)])
        registers.clock.sleep(microseconds: 10_000)
    }

    /// One forced-mode measurement with a heater step: ``trigger(heater:)``, a wait, then
    /// ``collect()`` until the data is new.
    public func measure(heater: HeaterProfile = HeaterProfile()) throws(SensorError) -> Measurement {
        registers.clock.sleep(microseconds: try trigger(heater: heater))
        var polls = 0
        while true {
            if let measurement = try collect() { return measurement }
            polls += 1
            guard polls <= 10 else { throw .timeout(location, "no new data 10 polls after the measurement time") }
            registers.clock.sleep(microseconds: 5_000)
        }
    }

    /// Starts a forced-mode measurement with a heater step, without waiting for it (a daemon
    /// reads other parts meanwhile).
    /// - Returns: The time the measurement takes, µs: come back with ``collect()`` then.
    public func trigger(heater: HeaterProfile = HeaterProfile()) throws(SensorError) -> UInt64 {
        if variant == nil || calibration == nil { try identify() }
        guard let variant, let calibration else { throw .invalidResponse(location, "no calibration") }
        let runGas: UInt8 = variant == .bme688 ? 0x20 : 0x10
        try write([
            (Register.ctrlHum, Self.ctrlHumValue),
            (Register.heaterResistance0, calibration.heaterResistanceCode(target: heater.temperature, ambient: lastTemperature)),
            (Register.gasWait0, Self.gasWaitCode(milliseconds: heater.durationMilliseconds)),
            (Register.ctrlGas1, runGas),
        ])
        try write([(Register.ctrlMeas, Self.ctrlMeasForced)])
        return Self.tphDuration + UInt64(max(0, heater.durationMilliseconds)) * 1000
    }

    /// Reads the measurement that ``trigger(heater:)`` started.
    /// - Returns: The measurement, or nil when the part has no new data yet.
    public func collect() throws(SensorError) -> Measurement? {
        guard let variant, let calibration else { throw .invalidResponse(location, "no measurement was started") }
        let field = try read(Register.fieldStatus, 17)
        guard field[0] & 0x80 != 0 else { return nil }
        let pressureADC = Double(UInt32(field[2]) << 12 | UInt32(field[3]) << 4 | UInt32(field[4]) >> 4)
        let temperatureADC = Double(UInt32(field[5]) << 12 | UInt32(field[6]) << 4 | UInt32(field[7]) >> 4)
        let humidityADC = Double(UInt16(field[8]) << 8 | UInt16(field[9]))
        let gasBytes = variant == .bme688 ? (field[15], field[16]) : (field[13], field[14])
        let gasADC = UInt16(gasBytes.0) << 2 | UInt16(gasBytes.1 >> 6)
        let gasRange = gasBytes.1 & 0x0F
        let gasValid = gasBytes.1 & 0x20 != 0
        let heaterStable = gasBytes.1 & 0x10 != 0
        let (celsius, fine) = calibration.temperature(adc: temperatureADC)
        lastTemperature = celsius
        return Measurement(
            temperature: celsius, pressure: calibration.pressure(adc: pressureADC, fine: fine),
            humidity: calibration.humidity(adc: humidityADC, celsius: celsius),
            gasResistance: gasValid && heaterStable
                ? calibration.gasResistance(adc: Double(gasADC), range: Int(gasRange), variant: variant) : nil,
            gasValid: gasValid, heaterStable: heaterStable, gasADC: gasADC, gasRange: gasRange)
    }
}
