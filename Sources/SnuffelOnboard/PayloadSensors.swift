import SnuffelConfig
import SnuffelCore
import SnuffelHardware
import SnuffelWire

/// One part the daemon reads, behind a uniform face: what it feeds, how often, how to bring
/// it up, and one reading.
public protocol PolledSensor: AnyObject {
    /// The source id and part, e.g. `sgp41 (SGP41 at /dev/i2c-1 0x59)`.
    var name: String { get }
    /// The payload channels it feeds, by index.
    var channels: [UInt16] { get }
    /// Time between readings, µs.
    var period: UInt64 { get }
    /// Readings in a row that may be identical before the part counts as stuck; nil for a
    /// part whose output may rightly stand still (a coarse module in clean air).
    var stuckAfter: Int? { get }
    /// Brings the part up (after power-up, or again after a fault): a reset, the heater
    /// profile, the SGP41's conditioning.
    func start() throws(SensorError)
    /// One reading: a value per channel of ``channels`` (nil where the part gives none this
    /// time, e.g. NOx during the SGP41's conditioning), or the time to come back for it (a
    /// part that measures for long, such as the BME688's heater step, is started and read
    /// later, so the other parts are not held up).
    /// - Parameter air: The latest temperature (°C) and humidity (%RH) of the payload, for
    ///   parts that compensate with them.
    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading
}

/// What one call of ``PolledSensor/read(air:)`` gives.
public enum SensorReading: Sendable, Equatable {
    /// A value per channel (nil: none this time).
    case values([Double?])
    /// A measurement is running: call again at this time.
    case pending(readyAt: UInt64)
    /// Samples with their own times (a part that streams, such as the bridge).
    case samples([Sample])
}

/// Why a payload cannot be read: names the source or channel and what to do.
public struct PayloadSensorError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The parts of a payload configuration, with their drivers.
public enum PayloadSensors {
    /// How the buses and ports are reached: the real ones, or simulated twins.
    public struct Access {
        /// Opens (or returns the already open) I2C bus at a path.
        public var bus: (String) throws(HardwareError) -> any I2CBusAccess
        /// Opens a serial port at a path and speed.
        public var serial: (String, Int) throws(HardwareError) -> any SerialPortAccess
        /// The clock drivers wait on.
        public var clock: any HardwareClock

        public init(
            bus: @escaping (String) throws(HardwareError) -> any I2CBusAccess,
            serial: @escaping (String, Int) throws(HardwareError) -> any SerialPortAccess, clock: any HardwareClock
        ) {
            self.bus = bus
            self.serial = serial
            self.clock = clock
        }

        /// The machine's own buses and ports: one per path, opened when first used and
        /// again after the device failed (an adapter pulled and put back), so that a part
        /// whose bus is missing at start is retried like any failing part.
        public static func hardware() -> Access {
            let buses = BusCache()
            return Access(
                bus: { path throws(HardwareError) in buses.bus(path) },
                serial: { path, baud throws(HardwareError) in ReopeningSerialPort(path: path, settings: SerialSettings(baudRate: baud)) },
                clock: SystemClock())
        }
    }

    final class BusCache {
        var buses: [String: ReopeningI2CBus] = [:]
        func bus(_ path: String) -> ReopeningI2CBus {
            if let bus = buses[path] { return bus }
            let bus = ReopeningI2CBus(path: path)
            buses[path] = bus
            return bus
        }
    }

    /// The sensors that read the payload's channels with a source; channels without one are
    /// left out.
    /// - Parameters:
    ///   - payload: The configuration.
    ///   - access: The buses and ports.
    ///   - bridges: Whether to read the bridge sources too (their serial port or TCP
    ///   address); a simulation has no bridge twin and feeds their channels itself.
    /// - Throws: ``PayloadSensorError`` when a channel asks a part for what it does not
    ///   measure, or a part has no driver in the daemon yet.
    public static func sensors(for payload: PayloadConfiguration, access: Access, bridges: Bool = false) throws -> [any PolledSensor] {
        let channels = payload.pipeline.channels
        var sensors: [any PolledSensor] = []
        for source in payload.sources where source.kind == .bridge && bridges {
            let mapping = BridgeSampleMapping(channels: payload.bridgeChannels(of: source.id))
            let open: () throws(ByteStreamError) -> any ByteStream
            let endpoint: String
            switch source.link {
            case .serial(let device, let baud):
                endpoint = device
                open = { () throws(ByteStreamError) in try FileDescriptorStream.openSerialDevice(device, baudRate: baud) }
            case .tcp(let host, let port):
                endpoint = "tcp \(host):\(port)"
                open = { () throws(ByteStreamError) in try FileDescriptorStream.connect(host: host, port: port) }
            case .i2c:
                continue
            }
            sensors.append(BridgeSensor(id: source.id, endpoint: endpoint, open: open, clock: access.clock, rate: source.rateHz ?? 10, mapping: mapping))
        }
        for source in payload.sources where source.kind != .bridge {
            let fed = payload.channelSources.enumerated().compactMap { index, assignment -> (UInt16, ChannelSpec, Int?)? in
                guard let assignment, assignment.source == source.id else { return nil }
                return (UInt16(index), channels[index], assignment.sourceChannel)
            }
            guard !fed.isEmpty, let part = source.part else { continue }
            let rate = fed.map(\.1.rateHz).max() ?? 1
            let period = UInt64((1e6 / max(rate, 0.01)).rounded())
            func refuse(_ spec: ChannelSpec, _ measures: String) -> PayloadSensorError {
                PayloadSensorError(
                    "\(payload.payloadFile.path): channels.\(spec.id): source '\(source.id)' is a \(part.rawValue), which measures \(measures); "
                        + "a channel of kind \(spec.kind.rawValue) cannot be read from it")
            }
            switch (part, source.link) {
            case (.sgp41, .i2c(let path, let address)):
                var which: [SGP41Sensor.Signal] = []
                for (_, spec, _) in fed {
                    switch spec.kind {
                    case .srawVOC: which.append(.voc)
                    case .srawNOx: which.append(.nox)
                    default: throw refuse(spec, "SRAW_VOC and SRAW_NOX (kinds sraw_voc, sraw_nox)")
                    }
                }
                let driver = SGP41(bus: try access.bus(path), address: address, clock: access.clock)
                sensors.append(SGP41Sensor(id: source.id, driver: driver, clock: access.clock, channels: fed.map(\.0), signals: which, period: period))
            case (.sht4x, .i2c(let path, let address)):
                var which: [EnvironmentSignal] = []
                for (_, spec, _) in fed {
                    switch spec.kind {
                    case .temperature: which.append(.temperature)
                    case .humidity: which.append(.humidity)
                    default: throw refuse(spec, "temperature and humidity")
                    }
                }
                let driver = SHT4x(bus: try access.bus(path), address: address, clock: access.clock)
                sensors.append(SHT4xSensor(id: source.id, driver: driver, channels: fed.map(\.0), signals: which, period: period))
            case (.bme688, .i2c(let path, let address)), (.bme680, .i2c(let path, let address)):
                var which: [EnvironmentSignal] = []
                for (_, spec, _) in fed {
                    switch spec.kind {
                    case .moxResistance: which.append(.gasResistance)
                    case .temperature: which.append(.temperature)
                    case .humidity: which.append(.humidity)
                    default: throw refuse(spec, "gas resistance, temperature and humidity")
                    }
                }
                let driver = BME68x(bus: try access.bus(path), address: address, clock: access.clock)
                sensors.append(BME68xSensor(id: source.id, driver: driver, clock: access.clock, channels: fed.map(\.0), signals: which, period: period))
            case (.ads1115, .i2c(let path, let address)):
                var inputs: [(ADS1115.Input, UInt64)] = []
                for (_, spec, input) in fed {
                    guard let input, let value = ADS1115.Input.single(input) else {
                        throw PayloadSensorError("\(payload.payloadFile.path): channels.\(spec.id): name the ADS1115 input with source_channel = 0 to 3")
                    }
                    inputs.append((value, UInt64((1e6 / max(spec.rateHz, 0.01)).rounded())))
                }
                let driver = ADS1115(bus: try access.bus(path), address: address, clock: access.clock)
                sensors.append(ADS1115Sensor(id: source.id, driver: driver, clock: access.clock, channels: fed.map(\.0), inputs: inputs, period: period))
            case (.winsenZE07, .serial(let device, let baud)):
                guard fed.count == 1, let (index, spec, _) = fed.first, spec.kind == .electrochemical else {
                    throw PayloadSensorError(
                        "\(payload.payloadFile.path): source '\(source.id)' is a Winsen ZE07, which feeds one electrochemical channel; "
                            + "it is named by \(fed.map(\.1.id).joined(separator: ", "))")
                }
                let module = WinsenModule(port: try access.serial(device, baud), resolution: 0.1, timeoutMilliseconds: 300)
                sensors.append(WinsenSensor(id: source.id, module: module, channel: index, period: max(period, 1_000_000)))
            case (.ens160, _):
                throw PayloadSensorError(
                    "\(payload.payloadFile.path): source '\(source.id)': the daemon does not read an ENS160 yet (snuffel probe does); remove its channels' source")
            default:
                throw PayloadSensorError("\(payload.payloadFile.path): source '\(source.id)': a \(part.rawValue) cannot be reached over \(source.kind.rawValue)")
            }
        }
        return sensors
    }
}

extension ADS1115.Input {
    /// The single-ended input AINn.
    static func single(_ n: Int) -> ADS1115.Input? {
        switch n {
        case 0: return .ain0
        case 1: return .ain1
        case 2: return .ain2
        case 3: return .ain3
        default: return nil
        }
    }
}

/// What an environmental part gives a channel.
enum EnvironmentSignal {
    case temperature, humidity, gasResistance
}

/// Sensirion SGP41: 10 s of conditioning after start (SRAW_VOC only), then both signals,
/// compensated with the payload's temperature and humidity.
final class SGP41Sensor: PolledSensor {
    enum Signal { case voc, nox }
    let name: String
    let channels: [UInt16]
    let period: UInt64
    let stuckAfter: Int? = 30
    private let driver: SGP41
    private let clock: any HardwareClock
    private let signals: [Signal]
    private var conditioningUntil: UInt64 = 0

    init(id: String, driver: SGP41, clock: any HardwareClock, channels: [UInt16], signals: [Signal], period: UInt64) {
        name = "\(id) (SGP41 at \(driver.location))"
        self.driver = driver
        self.clock = clock
        self.channels = channels
        self.signals = signals
        self.period = period
    }

    func start() throws(SensorError) {
        // The datasheet's power-up sequence: conditioning for up to 10 s (one command a
        // second), which the reads do; a self-test first catches a broken hotplate.
        let test = try driver.selfTest()
        guard test.passed else { throw .selfTestFailed(driver.location, "self-test word \(test.raw)") }
        conditioningUntil = clock.now() &+ SGP41.Duration.conditioning
    }

    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading {
        if clock.now() < conditioningUntil {
            let voc = Double(try driver.conditioning(humidity: air?.humidity, temperature: air?.temperature))
            return .values(signals.map { $0 == .voc ? voc : nil })
        }
        let raw = try driver.measureRaw(humidity: air?.humidity, temperature: air?.temperature)
        return .values(signals.map { $0 == .voc ? Double(raw.voc) : Double(raw.nox) })
    }
}

/// Sensirion SHT4x: temperature and humidity, high repeatability.
final class SHT4xSensor: PolledSensor {
    let name: String
    let channels: [UInt16]
    let period: UInt64
    let stuckAfter: Int? = 60
    private let driver: SHT4x
    private let signals: [EnvironmentSignal]

    init(id: String, driver: SHT4x, channels: [UInt16], signals: [EnvironmentSignal], period: UInt64) {
        name = "\(id) (SHT4x at \(driver.location))"
        self.driver = driver
        self.channels = channels
        self.signals = signals
        self.period = period
    }

    func start() throws(SensorError) { try driver.softReset() }

    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading {
        let m = try driver.measure()
        return .values(signals.map { $0 == .temperature ? m.temperature : m.humidity })
    }
}

/// Bosch BME688/BME680: a forced measurement with the heater profile; the gas resistance
/// only when the part says it is valid and the heater was stable.
final class BME68xSensor: PolledSensor {
    let name: String
    let channels: [UInt16]
    let period: UInt64
    let stuckAfter: Int? = 30
    private let driver: BME68x
    private let clock: any HardwareClock
    private let signals: [EnvironmentSignal]
    private var started: UInt64?
    private var polls = 0

    init(id: String, driver: BME68x, clock: any HardwareClock, channels: [UInt16], signals: [EnvironmentSignal], period: UInt64) {
        name = "\(id) (BME68x at \(driver.location))"
        self.driver = driver
        self.clock = clock
        self.channels = channels
        self.signals = signals
        self.period = period
    }

    func start() throws(SensorError) {
        started = nil
        try driver.softReset()
        _ = try driver.identify()
    }

    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading {
        guard started != nil else {
            // Start the heater step and come back when it is done.
            let duration = try driver.trigger()
            started = clock.now()
            polls = 0
            return .pending(readyAt: clock.now() &+ duration)
        }
        guard let m = try driver.collect() else {
            polls += 1
            guard polls <= 10 else {
                started = nil
                throw .timeout(driver.location, "no new data 10 polls after the measurement time")
            }
            return .pending(readyAt: clock.now() &+ 5_000)
        }
        started = nil
        return .values(signals.map {
            switch $0 {
            case .temperature: return m.temperature
            case .humidity: return m.humidity
            case .gasResistance: return m.gasValid && m.heaterStable ? m.gasResistance : nil
            }
        })
    }
}

/// TI ADS1115: single-shot conversions of the named inputs, in volts (±4.096 V range),
/// each input at its own channel's rate.
final class ADS1115Sensor: PolledSensor {
    let name: String
    let channels: [UInt16]
    let period: UInt64
    let stuckAfter: Int? = 100
    private let driver: ADS1115
    private let clock: any HardwareClock
    private let inputs: [(input: ADS1115.Input, period: UInt64)]
    private var due: [UInt64]

    init(id: String, driver: ADS1115, clock: any HardwareClock, channels: [UInt16], inputs: [(ADS1115.Input, UInt64)], period: UInt64) {
        name = "\(id) (ADS1115 at \(driver.location))"
        self.driver = driver
        self.clock = clock
        self.channels = channels
        self.inputs = inputs.map { (input: $0.0, period: $0.1) }
        self.period = period
        due = Array(repeating: 0, count: inputs.count)
    }

    func start() throws(SensorError) {
        // The config register answers with its reset value or our last word: the part is there.
        _ = try driver.config()
    }

    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading {
        // The slot this reading belongs to (the fastest input's): an input is read when its
        // own period has passed, within half a slot.
        let now = clock.now()
        var values: [Double?] = []
        for (i, input) in inputs.enumerated() {
            guard now &+ period / 2 >= due[i] else {
                values.append(nil)
                continue
            }
            values.append(try driver.volts(input: input.input, rate: .sps860))
            due[i] = max(due[i] &+ input.period, now)
        }
        return .values(values)
    }
}

/// Winsen ZE07 on a serial port, asked in question-and-answer mode once a second.
final class WinsenSensor: PolledSensor {
    let name: String
    let channels: [UInt16]
    let period: UInt64
    /// Clean air reads 0.0 ppm for hours: standing still is normal.
    let stuckAfter: Int? = nil
    private let module: WinsenModule

    init(id: String, module: WinsenModule, channel: UInt16, period: UInt64) {
        name = "\(id) (Winsen ZE07 at \(module.location))"
        self.module = module
        self.channels = [channel]
        self.period = period
    }

    func start() throws(SensorError) { try module.useQuestionAndAnswerMode() }

    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading {
        .values([try module.read().concentration])
    }
}
