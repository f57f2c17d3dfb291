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
            --serial it also asks a Winsen ZE03/ZE07 gas module for a reading. With --config it \
            says which parts the payload configuration needs that were not found, and which were \
            found that no channel uses.

            --simulate runs the same against simulated parts (no hardware needed).

            Examples:
              snuffel probe                                   (the bus /dev/i2c-1)
              snuffel probe --i2c /dev/i2c-3 --serial /dev/ttyUSB0 --config payload.toml
              snuffel probe --simulate --unplug 0x76
            """)

    @Option(help: ArgumentHelp("The I2C bus.", valueName: "device"))
    var i2c: String = "/dev/i2c-1"

    @Option(help: ArgumentHelp("A serial port with a Winsen ZE03/ZE07 module (9600 8N1).", valueName: "device"))
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

    func run() throws {
        var parts: [ProbedPart] = []
        if simulate {
            let payload = SimulatedPayload()
            for text in unplug { if let a = Self.address(text) { payload.bus.unplug(a) } }
            let prober = PayloadProber(clock: payload.clock)
            print("snuffel probe: simulated payload (sim:i2c, sim:tty)")
            parts = try scan(payload.bus, prober)
            parts.append(prober.examine(serial: payload.serialPort))
        } else {
            let clock = SystemClock()
            let prober = PayloadProber(clock: clock)
            print("snuffel probe: \(i2c)\(serial.map { ", \($0)" } ?? "")")
            let bus: I2CBus
            do {
                bus = try I2CBus(path: i2c)
            } catch {
                throw Failure("\(error)")
            }
            parts = try scan(bus, prober)
            if let serial {
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
        if let config {
            failed = try compare(parts, with: config) || failed
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
    private func compare(_ parts: [ProbedPart], with path: String) throws -> Bool {
        let configuration = try PayloadOptions.load(path: path)
        var needs: [String: [String]] = [:]
        for channel in configuration.pipeline.channels {
            needs[Self.part(for: channel), default: []].append(channel.id)
        }
        let found = Set(parts.compactMap { $0.problem == nil ? $0.part : nil })
        print("")
        print("payload \(configuration.payload.name) (\(path)):")
        var missing = false
        for (part, channels) in needs.sorted(by: { $0.key < $1.key }) {
            if found.contains(part) {
                print("  \(pad(part, 12)) found     channels \(channels.joined(separator: ", "))")
            } else {
                missing = true
                print("  \(pad(part, 12)) MISSING   needed by channels \(channels.joined(separator: ", "))")
            }
        }
        for part in found.sorted() where needs[part] == nil {
            print("  \(pad(part, 12)) unexpected: no channel of the configuration uses it")
        }
        return missing
    }

    /// The part a channel is read from, by its `sensor` text and kind.
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
