/// What `snuffel probe` found about one part.
public struct ProbedPart: Sendable, Hashable {
    /// Where the part answered.
    public var location: DeviceLocation
    /// The part identified (`SGP41`, `SHT4x`, `BME688`, `BME680`, `ADS1115`, `ENS160`,
    /// `Winsen ZE07`), or nil for an unknown device.
    public var part: String?
    /// Its serial number or id, when the part has one.
    public var serialNumber: String?
    /// The self-test verdict, when the part has a self-test.
    public var selfTest: String?
    /// One sample, as text with units.
    public var sample: String?
    /// What went wrong, and what to do.
    public var problem: String?

    public init(location: DeviceLocation, part: String? = nil, serialNumber: String? = nil, selfTest: String? = nil,
                sample: String? = nil, problem: String? = nil) {
        self.location = location
        self.part = part
        self.serialNumber = serialNumber
        self.selfTest = selfTest
        self.sample = sample
        self.problem = problem
    }
}

/// Scans a bus and serial ports for the parts Snuffel drives, identifies each by its id
/// registers or answers, runs its self-test and reads one sample.
public struct PayloadProber {
    /// Addresses Snuffel's parts can have, and what to try there.
    public static let knownAddresses: [UInt8: String] = [
        0x44: "SHT4x", 0x45: "SHT4x", 0x46: "SHT4x", 0x59: "SGP41", 0x76: "BME68x", 0x77: "BME68x",
        0x48: "ADS1115", 0x49: "ADS1115", 0x4A: "ADS1115", 0x4B: "ADS1115", 0x52: "ENS160", 0x53: "ENS160",
    ]

    let clock: any HardwareClock

    /// A prober that waits on `clock`.
    public init(clock: any HardwareClock) {
        self.clock = clock
    }

    /// Probes every address 0x08–0x77 of the bus and examines what answers.
    /// - Throws: ``HardwareError`` when the bus itself fails (not a device on it).
    public func scan(_ bus: any I2CBusAccess) throws(HardwareError) -> [ProbedPart] {
        var parts: [ProbedPart] = []
        for address in UInt8(0x08)...UInt8(0x77) where try bus.probe(address) {
            parts.append(examine(bus, address))
        }
        return parts
    }

    /// Identifies and samples the device at an address.
    public func examine(_ bus: any I2CBusAccess, _ address: UInt8) -> ProbedPart {
        let location = DeviceLocation(path: bus.path, address: address)
        var result = ProbedPart(location: location)
        do throws(SensorError) {
            switch Self.knownAddresses[address] {
            case "SHT4x":
                let sensor = SHT4x(bus: bus, address: address, clock: clock)
                result.part = "SHT4x"
                result.serialNumber = hex32(try sensor.serialNumber())
                let m = try sensor.measure()
                result.sample = "\(fixed(m.temperature, 2)) °C, \(fixed(m.humidity, 1)) %RH"
            case "SGP41":
                let sensor = SGP41(bus: bus, address: address, clock: clock)
                result.part = "SGP41"
                let serial = try sensor.serialNumber()
                result.serialNumber = "0x" + hexDigits(serial, count: 12)
                let test = try sensor.selfTest()
                result.selfTest = test.passed
                    ? "passed" : "FAILED (\(test.vocPixelOK ? "" : "VOC pixel ")\(test.noxPixelOK ? "" : "NOx pixel"))"
                let raw = try sensor.measureRaw()
                result.sample = "SRAW_VOC \(raw.voc), SRAW_NOX \(raw.nox) (uncompensated, not conditioned)"
                try sensor.turnHeaterOff()
            case "BME68x":
                let sensor = BME68x(bus: bus, address: address, clock: clock)
                let variant = try sensor.identify()
                result.part = variant.rawValue
                result.serialNumber = "chip_id 0x61"
                let m = try sensor.measure()
                var text = "\(fixed(m.temperature, 2)) °C, \(fixed(m.pressure / 100, 1)) hPa, \(fixed(m.humidity, 1)) %RH"
                if let r = m.gasResistance { text += ", gas \(fixed(r / 1000, 1)) kΩ" } else { text += ", gas not valid" }
                result.sample = text
            case "ADS1115":
                let adc = ADS1115(bus: bus, address: address, clock: clock)
                let config = try adc.config()
                // No id register: the config's fixed comparator bits and MODE after reset tell.
                guard config & 0x0100 != 0 || config & 0x001F == 0x0003 else {
                    result.problem = "answers at an ADS1115 address but its config register reads \(hex16(config))"
                    return result
                }
                result.part = "ADS1115"
                var volts: [String] = []
                for input in [ADS1115.Input.ain0, .ain1, .ain2, .ain3] {
                    volts.append("AIN\(input.rawValue - 4) \(fixed(try adc.volts(input: input), 3)) V")
                }
                result.sample = volts.joined(separator: ", ")
            case "ENS160":
                let sensor = ENS160(bus: bus, address: address, clock: clock)
                try sensor.identify()
                try sensor.setMode(.standard)
                result.part = "ENS160"
                result.serialNumber = "part id 0x0160"
                let s = try sensor.read()
                result.sample = "AQI \(s.aqi), TVOC \(s.tvoc) ppb, eCO2 \(s.eco2) ppm (\(s.validity))"
            default:
                result.problem = "unknown device at \(hex(address)): not a part Snuffel drives; check its address, or ignore it if it belongs to something else on the bus"
            }
        } catch {
            result.problem = error.description
        }
        return result
    }

    /// Asks a Winsen module on a serial port for one reading.
    public func examine(serial port: any SerialPortAccess, resolution: Double = 0.1) -> ProbedPart {
        var result = ProbedPart(location: DeviceLocation(path: port.path))
        let module = WinsenModule(port: port, resolution: resolution)
        do throws(SensorError) {
            try module.useQuestionAndAnswerMode()
            let reading = try module.read()
            result.part = "Winsen ZE07"
            result.sample = "\(fixed(reading.concentration, 1)) (raw \(reading.raw))"
        } catch {
            result.problem = error.description
        }
        return result
    }
}

/// A simulated payload of every part Snuffel drives, in clean air: what
/// `snuffel probe --simulate` examines.
public struct SimulatedPayload {
    public let clock: SimulatedClock
    public let bus: SimulatedI2CBus
    public let serialPort: SimulatedSerialPort

    /// Builds the payload; `air` is the air around it over time.
    public init(air: @escaping (UInt64) -> Air = { _ in Air(temperature: 22.5, humidity: 45, pressure: 100_800, analogVolts: [0.05, 0.21, 0.33, 0.40]) }) {
        clock = SimulatedClock()
        bus = SimulatedI2CBus(path: "sim:i2c", clock: clock)
        bus.attach(SHT4xTwin(environment: air))
        bus.attach(SGP41Twin(environment: air))
        bus.attach(BME68xTwin(variant: .bme688, environment: air))
        bus.attach(ADS1115Twin(environment: air))
        bus.attach(ENS160Twin(environment: air))
        serialPort = SimulatedSerialPort(path: "sim:tty", device: WinsenTwin(gas: "co", environment: air), clock: clock)
    }
}

func hexDigits(_ value: UInt64, count: Int) -> String {
    let digits = Array("0123456789ABCDEF")
    return String((0..<count).reversed().map { digits[Int(value >> (4 * UInt64($0)) & 0xF)] })
}

func hex32(_ value: UInt32) -> String { "0x" + hexDigits(UInt64(value), count: 8) }

/// A number with a fixed count of decimals, without Foundation.
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e15 else { return "\(value)" }
    let whole = Int64(scaled) / Int64(scale), fraction = Int64(scaled) % Int64(scale)
    var text = (value < 0 && scaled != 0 ? "-" : "") + "\(whole)"
    if decimals > 0 {
        let f = "\(fraction)"
        text += "." + String(repeating: "0", count: decimals - f.count) + f
    }
    return text
}
