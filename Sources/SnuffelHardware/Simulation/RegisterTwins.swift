/// Finds `x` in `range` with `f(x)` closest to `target` for a monotonic `f`, by bisection
/// over integers.
func invertMonotonic(_ range: ClosedRange<Int>, target: Double, _ f: (Double) -> Double) -> Int {
    var low = range.lowerBound, high = range.upperBound
    let increasing = f(Double(high)) >= f(Double(low))
    while high - low > 1 {
        let mid = (low + high) / 2
        if (f(Double(mid)) < target) == increasing { low = mid } else { high = mid }
    }
    return abs(f(Double(low)) - target) <= abs(f(Double(high)) - target) ? low : high
}

/// A simulated BME688 or BME680: its register map (chip and variant id, calibration
/// blocks, control registers, field 0), I2C writes as register/value pairs, reads
/// auto-incrementing from the register last written, forced mode with the TPH and heater
/// time before `new_data_0` is set, and the ADC values that the datasheet's compensation
/// turns into the air's temperature, pressure and humidity (found by bisection). Gas
/// resistance falls with `voc`: `R = 100 kΩ / (1 + voc/0.3)^0.6` (illustrative); the heater
/// is stable when it ran at least 20 ms at a nonzero target.
public final class BME68xTwin: SimulatedI2CDevice {
    public let address: UInt8
    public let variant: BME68x.Variant
    public var partName: String { variant.rawValue }
    public var faults = TwinFaults()
    /// The air around the part, by time in µs.
    public var environment: (UInt64) -> Air
    /// The decoded factory calibration this twin carries.
    public let calibration: BME68x.Calibration
    private var registers = [UInt8](repeating: 0, count: 256)
    private var pointer: UInt8 = 0
    private var measurementDoneAt: UInt64?
    private var last: [UInt8]?

    /// The twin's calibration blocks: values of the order a real part carries.
    static let block1: [UInt8] = {
        var b = [UInt8](repeating: 0, count: 23)
        func put16(_ reg: Int, _ v: Int16) { b[reg - 0x8A] = UInt8(UInt16(bitPattern: v) & 0xFF); b[reg - 0x8A + 1] = UInt8(UInt16(bitPattern: v) >> 8) }
        func put8(_ reg: Int, _ v: Int8) { b[reg - 0x8A] = UInt8(bitPattern: v) }
        put16(0x8A, 26_664); put8(0x8C, 3)                       // t2, t3
        put16(0x8E, Int16(bitPattern: 36_381)); put16(0x90, -10_497); put8(0x92, 88)   // p1, p2, p3
        put16(0x94, 6_780); put16(0x96, -74); put8(0x98, 42); put8(0x99, 30)          // p4, p5, p7, p6
        put16(0x9C, -2_692); put16(0x9E, -2_080); b[0xA0 - 0x8A] = 30                 // p8, p9, p10
        return b
    }()
    static let block2: [UInt8] = {
        var b = [UInt8](repeating: 0, count: 14)
        // h2 = 1029 (0xE1 = 0x40, 0xE2 high nibble 5), h1 = 785 (0xE3 = 0x31, 0xE2 low nibble 1)
        b[0xE1 - 0xE1] = 0x40; b[0xE2 - 0xE1] = 0x51; b[0xE3 - 0xE1] = 0x31
        b[0xE4 - 0xE1] = 0; b[0xE5 - 0xE1] = 45; b[0xE6 - 0xE1] = 20; b[0xE7 - 0xE1] = 120; b[0xE8 - 0xE1] = UInt8(bitPattern: -100)
        b[0xE9 - 0xE1] = UInt8(25_942 & 0xFF); b[0xEA - 0xE1] = UInt8(25_942 >> 8)   // t1
        let g2 = UInt16(bitPattern: -7_680)
        b[0xEB - 0xE1] = UInt8(g2 & 0xFF); b[0xEC - 0xE1] = UInt8(g2 >> 8)             // g2
        b[0xED - 0xE1] = UInt8(bitPattern: -40); b[0xEE - 0xE1] = 18                  // g1, g3
        return b
    }()
    static let block3: [UInt8] = [42, 0, 0x10, 0, 0x00]  // res_heat_val, -, res_heat_range 1, -, range_sw_err 0

    /// A twin of `variant` at `address` in the given air.
    public init(variant: BME68x.Variant = .bme688, address: UInt8 = BME68x.primaryAddress,
                environment: @escaping (UInt64) -> Air = { _ in Air() }) {
        self.variant = variant
        self.address = address
        self.environment = environment
        self.calibration = BME68x.Calibration(block1: Self.block1, block2: Self.block2, block3: Self.block3)
    }

    public func powerOn(at time: UInt64) {
        registers = [UInt8](repeating: 0, count: 256)
        registers[Int(BME68x.Register.chipID)] = BME68x.chipID
        registers[Int(BME68x.Register.variantID)] = variant == .bme688 ? 0x01 : 0x00
        for (i, b) in Self.block1.enumerated() { registers[0x8A + i] = b }
        for (i, b) in Self.block2.enumerated() { registers[0xE1 + i] = b }
        for (i, b) in Self.block3.enumerated() { registers[i] = b }
        measurementDoneAt = nil
        last = nil
        pointer = 0
    }

    public func receive(_ bytes: [UInt8], at time: UInt64) -> Bool {
        guard let first = bytes.first else { return true }
        if bytes.count == 1 {
            pointer = first
            return true
        }
        guard bytes.count % 2 == 0 else { return false }
        for i in stride(from: 0, to: bytes.count, by: 2) {
            let register = bytes[i], value = bytes[i + 1]
            if register == BME68x.Register.reset {
                if value == 0xB6 { powerOn(at: time) }
                continue
            }
            registers[Int(register)] = value
            if register == BME68x.Register.ctrlMeas && value & 0x03 == 0x01 { startMeasurement(at: time) }
        }
        return true
    }

    private func startMeasurement(at time: UInt64) {
        let wait = registers[Int(BME68x.Register.gasWait0)]
        let waitMs = UInt64(wait & 0x3F) * [1, 4, 16, 64][Int(wait >> 6)]
        let runGas = registers[Int(BME68x.Register.ctrlGas1)] & (variant == .bme688 ? 0x20 : 0x10) != 0
        let duration = Double(BME68x.tphDuration + (runGas ? waitMs * 1000 : 0)) * max(0, faults.slowdown)
        measurementDoneAt = time + UInt64(duration)
        registers[Int(BME68x.Register.fieldStatus)] = 0x20  // measuring
    }

    private func finishIfDue(at time: UInt64) {
        guard let done = measurementDoneAt, time >= done else { return }
        measurementDoneAt = nil
        var field = faults.stuck ? (last ?? fieldBytes(at: time)) : fieldBytes(at: time)
        last = field
        field[0] = 0x80  // new_data_0
        for (i, b) in field.enumerated() { registers[0x1D + i] = b }
        registers[Int(BME68x.Register.ctrlMeas)] &= 0xFC  // back to sleep
    }

    /// Field 0 (17 bytes from 0x1D) for the air at `time`.
    private func fieldBytes(at time: UInt64) -> [UInt8] {
        let air = environment(time)
        let c = calibration
        let tADC = invertMonotonic(0...0xFFFFF, target: air.temperature) { c.temperature(adc: $0).celsius }
        let (celsius, fine) = c.temperature(adc: Double(tADC))
        let pADC = invertMonotonic(0...0xFFFFF, target: air.pressure) { c.pressure(adc: $0, fine: fine) }
        let hADC = invertMonotonic(0...0xFFFF, target: air.humidity) { c.humidity(adc: $0, celsius: celsius) }
        var field = [UInt8](repeating: 0, count: 17)
        field[2] = UInt8(pADC >> 12 & 0xFF); field[3] = UInt8(pADC >> 4 & 0xFF); field[4] = UInt8(pADC & 0x0F) << 4
        field[5] = UInt8(tADC >> 12 & 0xFF); field[6] = UInt8(tADC >> 4 & 0xFF); field[7] = UInt8(tADC & 0x0F) << 4
        field[8] = UInt8(hADC >> 8); field[9] = UInt8(hADC & 0xFF)
        let runGas = registers[Int(BME68x.Register.ctrlGas1)] & (variant == .bme688 ? 0x20 : 0x10) != 0
        let wait = registers[Int(BME68x.Register.gasWait0)]
        let waitMs = Int(wait & 0x3F) * [1, 4, 16, 64][Int(wait >> 6)]
        let stable = runGas && waitMs >= 20 && registers[Int(BME68x.Register.heaterResistance0)] != 0
        let resistance = (air.rawBaseline["gas_ohm"] ?? 100_000) / pow06(1 + max(0, air.ppm("voc")) / 0.3)
        var gasADC = 0, gasRange = 0
        for range in 0..<16 {
            let adc = invertMonotonic(0...1023, target: resistance) { c.gasResistance(adc: $0, range: range, variant: variant) }
            if adc > 0 && adc < 1023 { gasADC = adc; gasRange = range; break }
        }
        let lsb = UInt8(gasADC & 0x03) << 6 | (runGas ? 0x20 : 0) | (stable ? 0x10 : 0) | UInt8(gasRange)
        let offset = variant == .bme688 ? 15 : 13
        field[offset] = UInt8(gasADC >> 2 & 0xFF)
        field[offset + 1] = lsb
        return field
    }

    private func pow06(_ x: Double) -> Double {
        // x^0.6 = exp(0.6 ln x), without Foundation.
        let y = 0.6 * x.logNatural
        var term = 1.0, sum = 1.0
        for k in 1..<40 { term *= y / Double(k); sum += term }
        return sum
    }

    public func transmit(_ count: Int, at time: UInt64) -> [UInt8]? {
        finishIfDue(at: time)
        var bytes: [UInt8] = []
        for i in 0..<count { bytes.append(registers[(Int(pointer) + i) & 0xFF]) }
        return bytes
    }
}

/// A simulated ADS1115: pointer register, config (reset 0x8583) and conversion registers,
/// single-shot conversions that take 1/DR (times the slowdown) during which OS reads 0,
/// codes from the air's `analogVolts` (AIN0–AIN3) at the programmed gain, clipped to the
/// 16-bit range as the part does at full scale.
public final class ADS1115Twin: SimulatedI2CDevice {
    public let address: UInt8
    public let partName = "ADS1115"
    public var faults = TwinFaults()
    /// The air (and analog inputs) around the part, by time in µs.
    public var environment: (UInt64) -> Air
    private var pointer: UInt8 = 0
    private var config: UInt16 = 0x8583
    private var conversion: UInt16 = 0
    private var doneAt: UInt64?
    private var last: UInt16?

    /// A twin at `address`.
    public init(address: UInt8 = ADS1115.defaultAddress, environment: @escaping (UInt64) -> Air = { _ in Air() }) {
        self.address = address
        self.environment = environment
    }

    public func powerOn(at time: UInt64) {
        pointer = 0
        config = 0x8583
        conversion = 0
        doneAt = nil
        last = nil
    }

    public func receive(_ bytes: [UInt8], at time: UInt64) -> Bool {
        guard let first = bytes.first else { return true }
        guard first <= 0x03, bytes.count == 1 || bytes.count == 3 else { return false }
        pointer = first
        if bytes.count == 3 && first == 0x01 {
            let word = UInt16(bytes[1]) << 8 | UInt16(bytes[2])
            config = word & 0x7FFF | 0x8000
            if word & 0x8000 != 0 {
                let rate = ADS1115.DataRate(rawValue: word >> 5 & 0x07) ?? .sps128
                doneAt = time + UInt64(Double(1_000_000 / rate.samplesPerSecond) * max(0, faults.slowdown))
                config &= 0x7FFF  // converting
            }
        }
        return true
    }

    private func finishIfDue(at time: UInt64) {
        guard let done = doneAt, time >= done else { return }
        doneAt = nil
        config |= 0x8000
        let air = environment(time)
        func v(_ i: Int) -> Double { i < air.analogVolts.count ? air.analogVolts[i] : 0 }
        let volts: Double
        switch (config >> 12) & 0x07 {
        case 0: volts = v(0) - v(1)
        case 1: volts = v(0) - v(3)
        case 2: volts = v(1) - v(3)
        case 3: volts = v(2) - v(3)
        case let mux: volts = v(Int(mux) - 4)
        }
        let fullScale = (ADS1115.Gain(rawValue: config >> 9 & 0x07) ?? .fullScale0_256).fullScaleVolts
        let code = min(32767, max(-32768, (volts / fullScale * 32768).rounded()))
        let fresh = UInt16(bitPattern: Int16(code))
        conversion = faults.stuck ? (last ?? fresh) : fresh
        last = conversion
    }

    public func transmit(_ count: Int, at time: UInt64) -> [UInt8]? {
        finishIfDue(at: time)
        let word: UInt16
        switch pointer {
        case 0x00: word = conversion
        case 0x01: word = config
        case 0x02: word = 0x8000
        default: word = 0x7FFF
        }
        return Array([UInt8(word >> 8), UInt8(word & 0xFF)].prefix(count))
    }
}
