import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGround
import SnuffelSigning
import SnuffelSim

/// `snuffel simulate`: writes the flight log of a simulated flight over plume sources.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a sniffer flight over drug-lab, dump and confounder plumes and write its flight log.",
        discussion: """
            A scenario (a TOML file; see scenarios/README.md) places plume sources on a site — \
            lab vents, waste dumps, and confounders such as a manure pit, road traffic, a solvent \
            user or a bonfire — and sets the wind, the weather, the flight pattern and how the \
            payload's sensors differ from their calibration. The simulator releases puffs from \
            each source (a filament model: advected by the wind and its meander, growing as they \
            go, so the drone meets intermittent bursts), flies the drone through them and turns \
            what reaches the inlet into each sensor's raw readings (inlet delay, response time, \
            cross-sensitivities, noise, drift, humidity, dropped samples, GPS noise).

            The onboard pipeline runs over the flight as the drone would, and the flight log gets \
            everything the drone records: samples, positions, wind, the clock's mapping to UTC, \
            the detections made in flight and the configuration in force. Beside it, \
            FILE.truth.toml holds the ground truth: the sources and each plume encounter.

            Examples:
              snuffel simulate --scenario mdma-lab --out flight.ulg
              snuffel simulate --scenario my-site.toml --out site.ulg --csv site.csv
              snuffel replay flight.ulg
            """)

    @Option(help: ArgumentHelp(
        "A scenario: the name of one in scenarios/ (e.g. mdma-lab, waste-dump-manure, confounders-only) or a TOML file.",
        valueName: "name|file"))
    var scenario: String = "mdma-lab"

    @Option(help: ArgumentHelp("The flight log to write (.ulg).", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Also write the samples and positions as CSV (the import format).", valueName: "file"))
    var csv: String?

    @OptionGroup var payload: PayloadOptions

    @Option(help: ArgumentHelp("Use this random seed instead of the scenario's.", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp(
        "Sign the log with this device key (made by `snuffel keygen`), as the drone does; check it with `snuffel verify`.",
        valueName: "file"))
    var signKey: String?

    @Option(help: ArgumentHelp("The device id recorded in a signed log (default: derived from the key).", valueName: "id"))
    var deviceID: String?

    func validate() throws {
        if deviceID != nil && signKey == nil { throw ValidationError("--device-id is recorded only in a signed log; give --sign-key too.") }
    }

    func run() throws {
        let path = try ScenarioFiles.resolve(scenario)
        var loaded = try ScenarioFiles.load(path)
        if let seed { loaded.seed = seed }
        let config = try payload.load()
        var sealer: SignedLogSealer?
        if let signKey {
            do {
                sealer = SignedLogSealer(key: try DeviceKey(contentsOfFile: signKey), deviceID: deviceID)
            } catch {
                throw Failure(error.description)
            }
        }
        let simulator: FlightSimulator
        do {
            simulator = try FlightSimulator(scenario: loaded, channels: config.pipeline.channels, library: config.pipeline.library)
        } catch {
            throw Failure("\(path): \(error)")
        }
        let progress = Progress(label: "simulating \(loaded.name)")
        let flight = simulator.run { progress.update(fraction: $0 * 0.7) }
        let placed = PlacedFlight(scenario: loaded, flight: flight)
        let detections = try SimulatedFlightLog.writeLog(placed, configuration: config, path: out, sealer: sealer) {
            progress.update(fraction: 0.7 + 0.3 * $0)
        }
        progress.done()
        let truthPath = (out.hasSuffix(".ulg") ? String(out.dropLast(4)) : out) + ".truth.toml"
        try SimulatedFlightLog.truthTOML(placed).write(toFile: truthPath, atomically: true, encoding: .utf8)
        var files = [out, truthPath]
        if let csv {
            try SimulatedFlightLog.writeCSV(placed, channels: config.pipeline.channels, path: csv)
            files.append(csv)
        }
        let truth = flight.truth
        let minutes = Double(flight.samples.last.map { $0.time - flight.monotonicStart } ?? 0) / 60e6
        print("simulated \(loaded.name): \(String(format: "%.1f", minutes)) min, \(flight.samples.count) samples, \(flight.poses.count) positions")
        print("sources: " + truth.sources.map { "\($0.id) (\($0.signatureClass ?? "mixture"))" }.joined(separator: ", "))
        let met = Set(truth.encounters.map(\.sourceID))
        print("plume encounters: \(truth.encounters.count), from \(met.count) of \(truth.sources.count) sources")
        print("detections in flight: \(detections.count), \(detections.filter(\.isAlert).count) alerts")
        print("wrote " + files.joined(separator: ", "))
    }
}

/// Finds and loads scenario files.
enum ScenarioFiles {
    /// A scenario name (a file in scenarios/) or a path.
    static func resolve(_ nameOrPath: String) throws -> String {
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        let bundled = Bundled.path("scenarios/\(nameOrPath).toml")
        if FileManager.default.fileExists(atPath: bundled) { return bundled }
        let known = list(directory: Bundled.path("scenarios")).map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        throw Failure("no scenario '\(nameOrPath)': give a TOML file or one of: \(known.joined(separator: ", "))")
    }

    /// The scenario files of a directory, sorted.
    static func list(directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }

    static func load(_ path: String) throws -> Scenario {
        do {
            return try Scenario.load(path: path)
        } catch {
            throw Failure("the scenario was refused:\n  \(error)")
        }
    }
}
