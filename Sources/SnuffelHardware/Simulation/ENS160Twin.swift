/// A simulated ENS160: the register map of ``ENS160``, a sample every second in standard
/// mode (NEWDAT set until DATA_AQI is read), warm-up validity for the first 3 minutes after
/// entering standard mode, TVOC from the air's `voc` (1000 ppb per ppm, illustrative),
/// eCO2 400 ppm plus 0.5 ppm per ppb of TVOC, AQI from TVOC by the UBA bands.
public final class ENS160Twin: SimulatedI2CDevice {
    public let address: UInt8
    public let partName = "ENS160"
    public var faults = TwinFaults()
    /// The air around the part, by time in µs.
    public var environment: (UInt64) -> Air
    /// The compensation the part was given: TEMP_IN and RH_IN raw.
    public private(set) var compensation: (temperature: UInt16, humidity: UInt16) = (0, 0)
    private var registers = [UInt8](repeating: 0, count: 256)
    private var pointer: UInt8 = 0
    private var standardSince: UInt64?
    private var nextSample: UInt64 = 0
    private var last: [UInt8]?

    /// A twin at `address`.
    public init(address: UInt8 = ENS160.defaultAddress, environment: @escaping (UInt64) -> Air = { _ in Air() }) {
        self.address = address
        self.environment = environment
    }

    public func powerOn(at time: UInt64) {
        registers = [UInt8](repeating: 0, count: 256)
        registers[0] = 0x60
        registers[1] = 0x01
        pointer = 0
        standardSince = nil
        last = nil
    }

    public func receive(_ bytes: [UInt8], at time: UInt64) -> Bool {
        guard let first = bytes.first else { return true }
        pointer = first
        for (i, value) in bytes.dropFirst().enumerated() {
            let register = Int(first) + i
            guard register < 256 else { return false }
            registers[register] = value
            if register == Int(ENS160.Register.opMode) {
                if value == ENS160.Mode.reset.rawValue {
                    powerOn(at: time)
                } else if value == ENS160.Mode.standard.rawValue {
                    standardSince = time
                    nextSample = time + UInt64(1_000_000 * max(0, faults.slowdown))
                } else {
                    standardSince = nil
                }
            }
        }
        compensation = (UInt16(registers[0x14]) << 8 | UInt16(registers[0x13]), UInt16(registers[0x16]) << 8 | UInt16(registers[0x15]))
        return true
    }

    private func update(at time: UInt64) {
        guard let since = standardSince else {
            registers[0x20] = 0
            return
        }
        let validity: UInt8 = time - since < 180_000_000 ? 1 : 0
        registers[0x20] = registers[0x20] & 0x02 | 0x80 | validity << 2
        guard time >= nextSample else { return }
        while nextSample <= time { nextSample += UInt64(1_000_000 * max(0.001, faults.slowdown)) }
        let tvoc = UInt16(min(65000, max(0, environment(time).ppm("voc") * 1000)))
        let eco2 = UInt16(min(65000, 400 + Double(tvoc) / 2))
        let aqi: UInt8 = tvoc < 220 ? 1 : tvoc < 660 ? 2 : tvoc < 2200 ? 3 : tvoc < 5500 ? 4 : 5
        let fresh = [aqi, UInt8(tvoc & 0xFF), UInt8(tvoc >> 8), UInt8(eco2 & 0xFF), UInt8(eco2 >> 8)]
        let data = faults.stuck ? (last ?? fresh) : fresh
        last = data
        for (i, b) in data.enumerated() { registers[0x21 + i] = b }
        registers[0x20] |= 0x02
    }

    public func transmit(_ count: Int, at time: UInt64) -> [UInt8]? {
        update(at: time)
        var bytes: [UInt8] = []
        for i in 0..<count { bytes.append(registers[(Int(pointer) + i) & 0xFF]) }
        if Int(pointer) <= 0x21 && Int(pointer) + count > 0x21 { registers[0x20] &= ~0x02 }
        return bytes
    }
}
