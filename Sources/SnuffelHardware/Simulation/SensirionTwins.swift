/// What a Sensirion twin has to say after a command, and from when on.
struct PendingAnswer {
    var words: [UInt16]
    var readyAt: UInt64
}

/// The shared behaviour of Sensirion twins: a command starts work, the read header is
/// NACKed until the execution time has passed, the answer goes out once with a CRC after
/// each word (a wrong one when told to), then the part NACKs reads again.
public class SensirionTwinBase {
    /// The part's address.
    public let address: UInt8
    /// Injected faults.
    public var faults = TwinFaults()
    /// The air around the part, by time in µs.
    public var environment: (UInt64) -> Air
    var pending: PendingAnswer?

    init(address: UInt8, environment: @escaping (UInt64) -> Air) {
        self.address = address
        self.environment = environment
    }

    /// Schedules an answer `microseconds` (times the slowdown) from `time`.
    func answer(_ words: [UInt16], after microseconds: UInt64, at time: UInt64) {
        let delay = UInt64((Double(microseconds) * max(0, faults.slowdown)).rounded())
        pending = PendingAnswer(words: words, readyAt: time + delay)
    }

    /// The answer once it is ready; nil (NACK) before, or when there is none.
    public func transmit(_ count: Int, at time: UInt64) -> [UInt8]? {
        guard let answer = pending, time >= answer.readyAt else { return nil }
        pending = nil
        return answer.words.flatMap { word -> [UInt8] in
            var bytes = SensirionCRC.encode(word)
            if faults.badChecksum { bytes[2] ^= 0x5A }
            return bytes
        }
    }

    /// Argument words of a command, CRC-checked; nil (NACK) on a wrong CRC, as the part does.
    func arguments(_ bytes: ArraySlice<UInt8>, count: Int) -> [UInt16]? {
        guard bytes.count == count * 3 else { return nil }
        let data = Array(bytes)
        var words: [UInt16] = []
        for i in 0..<count {
            guard SensirionCRC.checksum(data[3 * i..<3 * i + 2]) == data[3 * i + 2] else { return nil }
            words.append(UInt16(data[3 * i]) << 8 | UInt16(data[3 * i + 1]))
        }
        return words
    }
}

/// A simulated SHT4x: the commands of ``SHT4x`` with their timing and CRC, ticks from the
/// air's temperature and humidity by the datasheet's conversion run backwards.
public final class SHT4xTwin: SensirionTwinBase, SimulatedI2CDevice {
    public let partName = "SHT4x"
    /// The serial number the part reports.
    public var serialNumber: UInt32
    private var last: (UInt16, UInt16)?

    /// A twin at `address` in the given air.
    public init(address: UInt8 = SHT4x.defaultAddress, serialNumber: UInt32 = 0x0B1C_2D3E,
                environment: @escaping (UInt64) -> Air = { _ in Air() }) {
        self.serialNumber = serialNumber
        super.init(address: address, environment: environment)
    }

    public func powerOn(at time: UInt64) {
        pending = nil
        last = nil
    }

    /// Ticks for a temperature and humidity (the inverse of the datasheet's conversion).
    public static func ticks(temperature: Double, humidity: Double) -> (UInt16, UInt16) {
        let t = ((temperature + 45) * 65535 / 175).rounded()
        let rh = ((humidity + 6) * 65535 / 125).rounded()
        return (UInt16(min(65535, max(0, t))), UInt16(min(65535, max(0, rh))))
    }

    public func receive(_ bytes: [UInt8], at time: UInt64) -> Bool {
        guard bytes.count == 1 else { return bytes.isEmpty }
        switch bytes[0] {
        case SHT4x.Command.measureHighPrecision:
            let air = environment(time)
            let fresh = Self.ticks(temperature: air.temperature, humidity: air.humidity)
            let value = faults.stuck ? (last ?? fresh) : fresh
            last = value
            answer([value.0, value.1], after: SHT4x.Duration.measureHighPrecision, at: time)
        case SHT4x.Command.readSerialNumber:
            answer([UInt16(serialNumber >> 16), UInt16(serialNumber & 0xFFFF)], after: 200, at: time)
        case SHT4x.Command.softReset:
            powerOn(at: time)
        default:
            return false
        }
        return true
    }
}

/// A simulated SGP41: the commands of ``SGP41`` with their timing and CRC (a command with a
/// wrong argument CRC is NACKed). SRAW_VOC falls by 1255 ticks per neper of VOC
/// (ethanol-equivalent ppm, `voc` in the air) from 30000 in clean air, SRAW_NOX rises the
/// same from 20000 with `nox`; SRAW_NOX reads 0 until conditioning has run since power-up
/// (a simplification of the datasheet's rule that the NOx pixel needs it).
public final class SGP41Twin: SensirionTwinBase, SimulatedI2CDevice {
    public let partName = "SGP41"
    /// The serial number the part reports (48 bits).
    public var serialNumber: UInt64
    /// Whether the hotplate is on (any measurement turns it on; heater-off turns it off).
    public private(set) var heaterOn = false
    /// Whether conditioning ran since power-up.
    public private(set) var conditioned = false
    /// The compensation words of the last measurement.
    public private(set) var lastCompensation: (humidity: UInt16, temperature: UInt16)?
    private var last: (UInt16, UInt16)?

    /// A twin in the given air.
    public init(serialNumber: UInt64 = 0x0000_0123_4567, environment: @escaping (UInt64) -> Air = { _ in Air() }) {
        self.serialNumber = serialNumber
        super.init(address: SGP41.defaultAddress, environment: environment)
    }

    public func powerOn(at time: UInt64) {
        pending = nil
        heaterOn = false
        conditioned = false
        last = nil
        lastCompensation = nil
    }

    /// The raw signals for an air sample.
    public static func rawSignals(_ air: Air) -> (voc: UInt16, nox: UInt16) {
        func clamp(_ value: Double) -> UInt16 { UInt16(min(65535, max(0, value.rounded()))) }
        let voc = (air.rawBaseline["sraw_voc"] ?? 30000) - 1255 * (1 + max(0, air.ppm("voc")) / 0.5).logNatural
        let nox = (air.rawBaseline["sraw_nox"] ?? 20000) + 1255 * (1 + max(0, air.ppm("nox")) / 0.05).logNatural
        return (clamp(voc), clamp(nox))
    }

    public func receive(_ bytes: [UInt8], at time: UInt64) -> Bool {
        guard bytes.count >= 2 else { return bytes.isEmpty }
        let code = Array(bytes.prefix(2))
        let rest = bytes.dropFirst(2)
        switch code {
        case SGP41.Command.executeConditioning, SGP41.Command.measureRawSignals:
            guard let words = arguments(rest, count: 2) else { return false }
            lastCompensation = (words[0], words[1])
            heaterOn = true
            let fresh = Self.rawSignals(environment(time))
            let value = faults.stuck ? (last ?? fresh) : fresh
            last = value
            if code == SGP41.Command.executeConditioning {
                conditioned = true
                answer([value.0], after: SGP41.Duration.measure, at: time)
            } else {
                answer([value.0, conditioned ? value.1 : 0], after: SGP41.Duration.measure, at: time)
            }
        case SGP41.Command.executeSelfTest:
            guard rest.isEmpty else { return false }
            answer([faults.selfTestFailure ? 0xD403 : 0xD400], after: SGP41.Duration.selfTest, at: time)
        case SGP41.Command.turnHeaterOff:
            guard rest.isEmpty else { return false }
            heaterOn = false
            pending = nil
        case SGP41.Command.getSerialNumber:
            guard rest.isEmpty else { return false }
            answer([UInt16(serialNumber >> 32 & 0xFFFF), UInt16(serialNumber >> 16 & 0xFFFF), UInt16(serialNumber & 0xFFFF)],
                   after: 500, at: time)
        default:
            return false
        }
        return true
    }
}

extension Double {
    /// The natural logarithm, without Foundation (a series good to double precision).
    var logNatural: Double {
        guard self > 0, isFinite else { return self == 0 ? -.infinity : .nan }
        // x = m · 2^e with m in [1, 2): ln x = e ln 2 + 2 atanh((m − 1)/(m + 1)).
        let e = Double(exponent)
        let m = significand
        let z = (m - 1) / (m + 1), z2 = z * z
        var term = z, sum = 0.0, k = 1.0
        while abs(term) > 1e-18 {
            sum += term / k
            term *= z2
            k += 2
        }
        return e * 0.693_147_180_559_945_3 + 2 * sum
    }
}
