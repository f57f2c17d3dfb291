import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGround

/// `snuffel replay`: re-runs detection over a recorded flight and geotags what it finds.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a flight log or a CSV file: run detection, geotag each detection, list what was found.",
        discussion: """
            A flight log (.ulg, written by snuffeld or snuffel simulate) holds the raw samples, the \
            drone's positions, the wind, the clock's mapping to UTC, the detections made in flight \
            and the configuration in force; replaying it with that configuration gives exactly the \
            detections made in flight (the summary says whether they agree). --config replays it \
            with other settings or calibrations instead.

            A CSV file has a header row: time_us (UNIX epoch microseconds, UTC), then one column \
            per channel named by its id in the payload configuration (voc_raw, nox_raw, gas_r, pid, \
            nh3, h2s, co, temp, rh for the reference payload), and optionally lat, lon (WGS84 \
            degrees) and alt_m (metres above mean sea level). An empty cell means no sample; lines \
            starting with # are comments. CSV files record no configuration: the example payload \
            is used unless --config names one.

            Each detection is printed with its time (when the air entered the inlet), the class \
            that explains it best, the confidence, whether it is an alert (a likely lab or dump, not \
            a confounder), where the drone was when the air entered the inlet (corrected for the \
            inlet delay and the sensors' response) with an uncertainty (1σ), the compounds behind \
            it and the channels that saw it. A timeline shows each gas channel's signal.

            --autopilot FILE takes the drone's positions and wind from the autopilot's own log instead: a MAVLink telemetry log (.tlog, MAVLink 1 or 2), an ArduPilot DataFlash log (.bin) or a PX4 ULog (.ulg), told apart by their content. Its clock is tied to UTC (SYSTEM_TIME, GPS week and milliseconds, or the GPS's UTC time) and the sensor data's clock by the log's clock records (CSV times are UTC already); the summary reports the alignment.

            Without a file, the bundled sample flight (flightlogs/mdma-lab.ulg) is replayed.

            Examples:
              snuffel replay
              snuffel replay flight.ulg --out results/
              snuffel replay flight.ulg --config other-settings.toml
              snuffel replay survey.csv --config payload.toml --json > detections.json
              snuffel replay flight.ulg --autopilot 2026-09-21.tlog
            """)

    @Argument(help: ArgumentHelp("Flight log (.ulg) or CSV file (default: the bundled sample flight).", valueName: "log"))
    var file: String?

    @Option(name: [.short, .long], help: ArgumentHelp(
        "Payload configuration (TOML) to use instead of the one recorded in the log; for CSV input, the payload the columns belong to (default: deploy/payload.example.toml).",
        valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp(
        "Write the flight into this directory: detections.geojson, track.geojson, sources.geojson, gasmap.geojson (the gas distribution map) and flight.geojson (RFC 7946), flight.kml (Google Earth), flight.gpx (GPX 1.1) and detections.csv.",
        valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp(
        "The wind for source localisation, speed in m/s and the direction it blows from in degrees (e.g. 3.5,240); by default the log's wind records. CSV files have none.",
        valueName: "speed,from"))
    var wind: String?

    @Option(help: ArgumentHelp(
        "Autopilot log (.tlog, DataFlash .bin or PX4 .ulg) whose positions and wind replace the input's own, aligned by UTC.",
        valueName: "file"))
    var autopilot: String?

    @Flag(help: "Print the result as JSON instead of a table.")
    var json = false

    @Flag(help: "Skip CSV rows with errors (counted and reported) instead of stopping at the first.")
    var skipBadRows = false

    @Flag(help: "Leave out the per-channel timeline.")
    var noTimeline = false

    func validate() throws {
        if let file, !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("no such file: \(file). Give a flight log (.ulg) or a CSV file, or nothing to replay the bundled sample flight.")
        }
        if let autopilot, !FileManager.default.fileExists(atPath: autopilot) {
            throw ValidationError("no such autopilot log: \(autopilot)")
        }
        if let config, !FileManager.default.fileExists(atPath: config) {
            throw ValidationError("no such configuration file: \(config)")
        }
        if let wind, Self.parseWind(wind) == nil {
            throw ValidationError("--wind \(wind): give the speed in m/s and the direction the wind blows from in degrees, e.g. --wind 3.5,240")
        }
    }

    func run() throws {
        let path = file ?? Bundled.path("flightlogs/mdma-lab.ulg")
        var options = ReplayOptions(defaultConfigurationPath: Bundled.path("deploy/payload.example.toml"), skipBadRows: skipBadRows)
        if let config { options.configuration = try PayloadOptions.load(path: config) }
        options.autopilotPath = autopilot
        var timeline: Timeline?
        let progress = Progress(label: path)
        let result = try Replay.run(
            path: path, options: options, progress: { progress.update(fraction: $0) },
            observe: noTimeline || json ? nil : { sample, pipeline in
                if timeline == nil { timeline = Timeline(channels: pipeline.configuration.channels) }
                timeline?.record(sample, pipeline: pipeline)
            })
        progress.done()
        let located = Localisation.locate(result, wind: wind.flatMap(Self.parseWind))
        let report = ReplayReport(result: result, located: located)
        var written: [String] = []
        if let out { written = try result.writeAll(directory: out, located: located) }
        if json {
            print(try report.json())
        } else {
            print(report.text())
            if let timeline, let first = result.firstTime {
                print(timeline.render(from: first, to: result.lastTime, detections: result.detections, width: 72))
            }
            if !written.isEmpty { print("\nwrote " + written.joined(separator: ", ")) }
        }
    }
}

extension ReplayCommand {
    /// `3.5,240` → the wind vector (m/s towards east and north) of a 3.5 m/s wind from 240°.
    static func parseWind(_ text: String) -> (east: Double, north: Double)? {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let speed = parts[0], let from = parts[1], speed.isFinite, speed >= 0, speed < 60,
              from.isFinite, abs(from) <= 360 else { return nil }
        let radians = from * .pi / 180
        return (-speed * sin(radians), -speed * cos(radians))
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("snuffel: \(message)\n".utf8))
}

/// A progress bar on standard error for long inputs, only when standard error is a
/// terminal (quiet when piped or logged).
final class Progress: @unchecked Sendable {
    let label: String
    let start = Date()
    var lastPrint = Date()
    var printed = false
    let enabled = isatty(STDERR_FILENO) != 0

    init(label: String) { self.label = label }

    func update(fraction: Double) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastPrint) > 0.5 || fraction >= 1 else { return }
        lastPrint = now
        printed = true
        let width = 30
        let filled = min(width, max(0, Int(fraction * Double(width))))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(Int(fraction * 100))%".utf8))
    }

    func done() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
