import ArgumentParser
import SnuffelConfig
import SnuffelCore
import SnuffelHardware

/// `snuffel probe`: finds the payload's parts on the I2C bus and serial port and checks them.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Find the payload's sensors on the I2C bus and serial port, self-test them and read one sample each.",
        discussion: """
            Scans every address of the I2C bus, identifies each part by its id registers or \
            answers (Sensirion SGP41 and SHT4x, Bosch BME688/BME680, TI ADS1115, ScioSense ENS160), \
            runs its self-test where it has one, reads one sample and prints a table. With \
            --serial it also asks a Winsen ZE07 gas module for a reading. With --config it \
            says which parts the payload configuration needs that were not found, and which were \
            found that no channel uses. If the configuration declares its I2C parts and serial \
            modules ([[sources]] with kind = "i2c" or "serial"), probe scans the buses and ports \
            named there (unless --i2c or --serial is given) and checks that each source answers \
            at its address; channels without a source are matched to parts by their sensor text.

            --simulate runs the same against simulated parts (no hardware needed).

            Examples:
              snuffel probe                                   (the bus /dev/i2c-1)
              snuffel probe --config payload.toml             (the buses and ports of its [[sources]])
              snuffel probe --i2c /dev/i2c-3 --serial /dev/ttyUSB0 --config payload.toml
              snuffel probe --simulate --unplug 0x76
            """)

    @Option(help: ArgumentHelp("The I2C bus (default: the buses of the configuration's I2C sources, else /dev/i2c-1).", valueName: "device"))
    var i2c: String?

    @Option(help: ArgumentHelp("A serial port with a Winsen ZE07 module (9600 8N1).", valueName: "device"))
    var serial: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Payload configuration (TOML) to compare the parts found with.", valueName: "file"))
    var config: String?

    @Flag(help: "Probe simulated parts instead of hardware.")
    var simulate = false

    @Option(help: ArgumentHelp("With --simulate: unplug the simulated part at this address (e.g. 0x76) to see a missing part.", valueName: "address"))
    var unplug: [String] = []

    func validate() throws {
        if !unplug.isEmpty && !simulate { throw ValidationError("--unplug works only with --simulate") }
        for text in unplug where Self.address(text) == nil {
            throw ValidationError("--unplug \(text): give a 7-bit I2C address such as 0x76")
        }
    }

    static func address(_ text: String) -> UInt8? {
        let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard let value = UInt8(digits, radix: 16), value < 0x80 else { return nil }
        return value
    }

    /// The configuration, when --config is given.
    private func loadConfiguration() throws -> PayloadConfiguration? {
        try config.map { try PayloadOptions.load(path: $0) }
    }

    func run() throws {
        let configuration = try loadConfiguration()
        let sources = configuration?.sources ?? []
        // --i2c, else every bus the configuration names, else the usual bus.
        var buses = i2c.map { [$0] } ?? []
        var serialPorts = serial.map { [$0] } ?? []
        for source in sources {
            switch source.link {
            case .i2c(let bus, _) where i2c == nil && !buses.contains(bus): buses.append(bus)
            case .serial(let device, _) where serial == nil && source.kind == .serial && !serialPorts.contains(device):
                serialPorts.append(device)
            default: break
            }
        }
        if buses.isEmpty { buses = ["/dev/i2c-1"] }
        var parts: [ProbedPart] = []
        var simulatedPaths: (i2c: String, serial: String)?
        if simulate {
            let payload = SimulatedPayload()
            for text in unplug { if let a = Self.address(text) { payload.bus.unplug(a) } }
            let prober = PayloadProber(clock: payload.clock)
            simulatedPaths = (payload.bus.path, payload.serialPort.path)
            print("snuffel probe: simulated payload (sim:i2c, sim:tty)")
            parts = try scan(payload.bus, prober)
            parts.append(prober.examine(serial: payload.serialPort))
        } else {
            let clock = SystemClock()
            let prober = PayloadProber(clock: clock)
            print("snuffel probe: \((buses + serialPorts).joined(separator: ", "))")
            for path in buses {
                let bus: I2CBus
                do {
                    bus = try I2CBus(path: path)
                } catch {
                    throw Failure("\(error)")
                }
                parts += try scan(bus, prober)
            }
            for serial in serialPorts {
                do {
                    let port = try SerialPort(path: serial)
                    parts.append(prober.examine(serial: port))
                } catch {
                    parts.append(ProbedPart(location: DeviceLocation(path: serial), problem: error.description))
                }
            }
        }
        print(table(parts))
        var failed = parts.contains { $0.problem != nil && $0.part != nil }
        if let config, let configuration {
            failed = compare(parts, with: configuration, path: config, simulatedPaths: simulatedPaths) || failed
        }
        if failed { throw ExitCode(1) }
    }

    private func scan(_ bus: any I2CBusAccess, _ prober: PayloadProber) throws -> [ProbedPart] {
        do {
            return try prober.scan(bus)
        } catch {
            throw Failure("\(error)")
        }
    }

    private func table(_ parts: [ProbedPart]) -> String {
        var rows = [["where", "part", "serial / id", "self-test", "sample"]]
        for p in parts {
            rows.append([p.location.description, p.part ?? "?", p.serialNumber ?? "-", p.selfTest ?? "-", p.sample ?? "-"])
        }
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var lines = rows.map { row in
            zip(row, widths).map { pad($0, $1) }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        if parts.isEmpty { lines.append("no device answered on the bus: check power, wiring and pull-ups (i2cdetect -y 1)") }
        for p in parts {
            if let problem = p.problem { lines.append("\(p.location): \(problem)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Prints what the configuration needs that is missing, and what is there unused.
    /// - Returns: Whether something is missing.
    private func compare(
        _ parts: [ProbedPart], with configuration: PayloadConfiguration, path: String, simulatedPaths: (i2c: String, serial: String)?
    ) -> Bool {
        var needs: [String: [String]] = [:]
        var fed: [String: [String]] = [:]  // source id → the channels it feeds
        for (index, channel) in configuration.pipeline.channels.enumerated() {
            if let source = configuration.channelSources[index]?.source {
                fed[source, default: []].append(channel.id)
            } else {
                needs[Self.part(for: channel), default: []].append(channel.id)
            }
        }
        print("")
        print("payload \(configuration.payload.name) (\(path)):")
        // Sources first, by where they are: in simulation every bus and port is the simulated one.
        var claimed = Set<DeviceLocation>()
        var missing = false
        for source in configuration.sources {
            let channels = fed[source.id].map { "channels " + $0.joined(separator: ", ") } ?? "no channel"
            let location: DeviceLocation
            switch source.link {
            case .i2c(let bus, let address): location = DeviceLocation(path: simulatedPaths?.i2c ?? bus, address: address)
            case .serial(let device, _) where source.kind == .serial: location = DeviceLocation(path: simulatedPaths?.serial ?? device)
            case .serial(let device, _):
                print("  \(pad(source.id, 12)) bridge at \(device): not probed here; check it with snuffel bridge monitor --config \(path) (\(channels))")
                continue
            case .tcp(let host, let port):
                print("  \(pad(source.id, 12)) bridge at \(host):\(port): not probed here; check it with snuffel bridge monitor --config \(path) (\(channels))")
                continue
            }
            claimed.insert(location)
            let shown = DeviceLocation(path: source.link.path, address: location.address)
            if let part = parts.first(where: { $0.location == location }), part.problem == nil {
                print("  \(pad(source.id, 12)) found     \(part.part ?? "?") at \(shown), \(channels)")
            } else {
                missing = true
                print("  \(pad(source.id, 12)) MISSING   nothing usable answers at \(shown), needed by \(channels)")
            }
        }
        // Channels without a source match any part found; a part a source claims is not unexpected.
        let found = Set(parts.compactMap { $0.problem == nil ? $0.part : nil })
        let unclaimed = Set(parts.compactMap { $0.problem == nil && !claimed.contains($0.location) ? $0.part : nil })
        for (part, channels) in needs.sorted(by: { $0.key < $1.key }) {
            if found.contains(part) {
                print("  \(pad(part, 12)) found     channels \(channels.joined(separator: ", "))")
            } else {
                missing = true
                print("  \(pad(part, 12)) MISSING   needed by channels \(channels.joined(separator: ", "))")
            }
        }
        for part in unclaimed.sorted() where needs[part] == nil {
            print("  \(pad(part, 12)) unexpected: no channel of the configuration uses it")
        }
        return missing
    }

    /// The part a channel without a source is read from, by its `sensor` text and kind.
    static func part(for channel: ChannelSpec) -> String {
        let sensor = channel.sensor.uppercased()
        if sensor.contains("SGP41") { return "SGP41" }
        if sensor.contains("SHT4") { return "SHT4x" }
        if sensor.contains("BME688") { return "BME688" }
        if sensor.contains("BME680") { return "BME680" }
        if sensor.contains("ENS160") { return "ENS160" }
        if sensor.contains("WINSEN") || sensor.contains("ZE03") || sensor.contains("ZE07") { return "Winsen ZE07" }
        switch channel.kind {
        case .pid, .electrochemical: return "ADS1115"
        default: return channel.sensor.isEmpty ? channel.kind.rawValue : channel.sensor
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

extension PayloadSource.Link {
    /// The device path: the bus, the serial port, or host:port.
    fileprivate var path: String {
        switch self {
        case .i2c(let bus, _): return bus
        case .serial(let device, _): return device
        case .tcp(let host, let port): return "\(host):\(port)"
        }
    }
}
