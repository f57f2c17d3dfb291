import SnuffelConfig
import SnuffelCore
import SnuffelHardware

/// The payload of a configuration as simulated parts, for `snuffeld --simulate`: a twin of
/// every I2C and serial source (SGP41, SHT4x, BME68x, ADS1115, Winsen ZE07) on simulated
/// buses and ports, in air that makes each read what the simulated flight's sensors read.
/// The daemon reads them through the same drivers and supervisor as real parts, so a
/// simulated flight exercises the whole path: commands, conversion waits, CRCs, faults.
///
/// Feed it the flight's samples with ``update(_:)``; the twins answer with the latest value
/// of each channel (within the part's own resolution: SRAW ticks, the BME68x's gas ADC,
/// the ADS1115's LSB, the ZE07's 0.1 ppm).
public final class VirtualPayload {
    /// A fault to inject into a source's twin.
    public enum Fault: String, Sendable, CaseIterable {
        /// The part NACKs every transfer (a serial module stops answering).
        case nack
        /// Every answer has a bad CRC or checksum.
        case crc
        /// The part repeats its last reading whatever the air does.
        case stuck
        /// The part is unplugged (its cable pulled); it powers up afresh when it comes back.
        case unplug
    }

    /// The simulated clock the drivers wait on.
    public let clock: SimulatedClock
    private var latest: [Double?]
    private var buses: [String: SimulatedI2CBus] = [:]
    private var ports: [String: SimulatedSerialPort] = [:]
    private var i2cTwins: [String: (bus: SimulatedI2CBus, device: any SimulatedI2CDevice)] = [:]
    private var serialTwins: [String: (port: SimulatedSerialPort, device: any SimulatedSerialDevice)] = [:]

    /// Builds the twins of a payload's sources.
    /// - Parameters:
    ///   - payload: The configuration.
    ///   - start: The clock's start, µs.
    /// - Throws: ``PayloadSensorError`` for a part the simulation has no twin of.
    public init(payload: PayloadConfiguration, start: UInt64) throws {
        clock = SimulatedClock(start: start)
        let channels = payload.pipeline.channels
        latest = Array(repeating: nil, count: channels.count)
        func channel(_ kind: ChannelKind) -> Int? { channels.firstIndex { $0.kind == kind } }
        let temperature = channel(.temperature), humidity = channel(.humidity)
        for source in payload.sources where source.kind != .bridge {
            let fed = payload.channelSources.enumerated().compactMap { i, a in a?.source == source.id ? (i, a?.sourceChannel) : nil }
            // Each twin gets its own air: the payload's temperature and humidity, and the
            // latest values of the channels it feeds.
            let air: (UInt64) -> Air = { [unowned self] _ in
                var a = Air(temperature: temperature.flatMap { self.latest[$0] } ?? 22,
                            humidity: min(100, max(0, humidity.flatMap { self.latest[$0] } ?? 45)))
                for (index, input) in fed {
                    guard let value = self.latest[index] else { continue }
                    switch channels[index].kind {
                    case .srawVOC: a.rawBaseline["sraw_voc"] = value
                    case .srawNOx: a.rawBaseline["sraw_nox"] = value
                    case .moxResistance: a.rawBaseline["gas_ohm"] = value
                    case .temperature: a.temperature = value
                    case .humidity: a.humidity = min(100, max(0, value))
                    case .electrochemical, .pid:
                        if let input {
                            while a.analogVolts.count <= input { a.analogVolts.append(0) }
                            a.analogVolts[input] = value
                        } else {
                            a.gases[channels[index].gas ?? "co"] = value
                        }
                    }
                }
                return a
            }
            switch (source.part, source.link) {
            case (.some(let part), .i2c(let path, let address)):
                let bus = buses[path] ?? SimulatedI2CBus(path: path, clock: clock)
                buses[path] = bus
                let device: any SimulatedI2CDevice
                switch part {
                case .sgp41: device = SGP41Twin(environment: air)
                case .sht4x: device = SHT4xTwin(address: address, environment: air)
                case .bme688: device = BME68xTwin(variant: .bme688, address: address, environment: air)
                case .bme680: device = BME68xTwin(variant: .bme680, address: address, environment: air)
                case .ads1115: device = ADS1115Twin(address: address, environment: air)
                case .ens160: device = ENS160Twin(address: address, environment: air)
                case .winsenZE07:
                    throw PayloadSensorError("source '\(source.id)': a Winsen ZE07 is a serial module, not an I2C part")
                }
                bus.attach(device)
                i2cTwins[source.id] = (bus, device)
            case (_, .serial(let device, _)):
                let gas = fed.first.flatMap { channels[$0.0].gas } ?? "co"
                let twin = WinsenTwin(gas: gas, resolution: 0.1, environment: air)
                let port = SimulatedSerialPort(path: device, device: twin, clock: clock)
                ports[device] = port
                serialTwins[source.id] = (port, twin)
            default:
                continue
            }
        }
    }

    /// Buses and ports for ``PayloadSensors/sensors(for:access:)``.
    public var access: PayloadSensors.Access {
        let buses = self.buses, ports = self.ports
        return PayloadSensors.Access(
            bus: { path throws(HardwareError) in
                guard let bus = buses[path] else { throw HardwareError(DeviceLocation(path: path), operation: "open", errno: .noSuchFileOrDirectory) }
                return bus
            },
            serial: { path, _ throws(HardwareError) in
                guard let port = ports[path] else { throw HardwareError(DeviceLocation(path: path), operation: "open", errno: .noSuchFileOrDirectory) }
                return port
            },
            clock: clock)
    }

    /// The sources simulated.
    public var sourceIDs: [String] { (Array(i2cTwins.keys) + Array(serialTwins.keys)).sorted() }

    /// Takes a sample of the simulated flight: its channel's twin reads it from now on.
    public func update(_ sample: Sample) {
        if Int(sample.channel) < latest.count { latest[Int(sample.channel)] = sample.value }
    }

    /// Lets time run to `time` (no earlier), and forgets the bus trace (nobody reads it here).
    public func advance(to time: UInt64) {
        if time > clock.now() { clock.advance(microseconds: time - clock.now()) }
        clock.trace.clear()
    }

    /// Sets or clears a fault on a source's twin.
    /// - Returns: False when the payload has no such simulated source.
    @discardableResult
    public func set(_ fault: Fault, _ on: Bool, source: String) -> Bool {
        if let (bus, device) = i2cTwins[source] {
            switch fault {
            case .nack: device.faults.nack = on
            case .crc: device.faults.badChecksum = on
            case .stuck: device.faults.stuck = on
            case .unplug: on ? bus.unplug(device.address) : bus.replug(device.address)
            }
            return true
        }
        if let (port, device) = serialTwins[source] {
            switch fault {
            case .nack: device.faults.nack = on
            case .crc: device.faults.badChecksum = on
            case .stuck: device.faults.stuck = on
            case .unplug: on ? port.unplug() : port.replug()
            }
            return true
        }
        return false
    }
}
