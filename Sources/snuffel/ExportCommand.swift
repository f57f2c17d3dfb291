import ArgumentParser
import Foundation
import SnuffelGround

/// `snuffel export`: a flight's detections, track and sources as a GIS file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a flight's track, detections and sources as GeoJSON, KML, GPX or CSV.",
        discussion: """
            The flight is replayed first (as snuffel replay does: the recorded configuration, \
            or --config), each detection geotagged and the sources localised; then one file is \
            written:
              geojson  RFC 7946: the track, the detections as points, each source as a point \
            with its 50 % and 95 % areas as polygons, and the gas distribution map (Kernel DM+V \
            with a wind-stretched kernel) as square cells with their mean, variance and \
            confidence, where the confidence is at least 0.3 (a "layer" property tells them \
            apart: track, detections, sources, gasmap);
              kml      Google Earth: the track coloured by signal, detection placemarks with \
            class, confidence, compounds and time, source areas;
              gpx      GPX 1.1: the track (a segment per stretch without a gap) and the \
            detections as waypoints;
              csv      one row per detection: times, class, confidence, position, uncertainty, \
            compounds.
            Coordinates out of range or not finite are refused, never written.

            Examples:
              snuffel export flightlogs/mdma-lab.ulg --format kml --out lab.kml
              snuffel export survey.csv --config payload.toml --wind 3,240 --format geojson --out survey.geojson
            """)

    @Argument(help: ArgumentHelp("Flight log (.ulg) or CSV file.", valueName: "log"))
    var file: String

    @Option(help: ArgumentHelp("geojson, kml, gpx or csv.", valueName: "format"))
    var format: String

    @Option(help: ArgumentHelp("The file to write.", valueName: "file"))
    var out: String

    @Option(name: [.short, .long], help: ArgumentHelp("Payload configuration to use instead of the recorded one (needed for CSV input unless the example payload fits).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Wind for localisation: speed m/s and the direction it blows from, e.g. 3.5,240.", valueName: "speed,from"))
    var wind: String?

    func validate() throws {
        guard ExportFormat(rawValue: format.lowercased()) != nil else {
            throw ValidationError("unknown format '\(format)': use one of " + ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no such file: \(file)") }
        if let wind, ReplayCommand.parseWind(wind) == nil {
            throw ValidationError("--wind \(wind): give the speed in m/s and the direction the wind blows from in degrees, e.g. --wind 3.5,240")
        }
    }

    func run() throws {
        var options = ReplayOptions(defaultConfigurationPath: Bundled.path("deploy/payload.example.toml"))
        if let config { options.configuration = try PayloadOptions.load(path: config) }
        let progress = Progress(label: file)
        let result = try Replay.run(path: file, options: options, progress: { progress.update(fraction: $0) })
        progress.done()
        let located = Localisation.locate(result, wind: wind.flatMap(ReplayCommand.parseWind))
        let chosen = ExportFormat(rawValue: format.lowercased()) ?? .geojson
        let text: String
        do {
            text = try result.export(chosen, located: located)
        } catch {
            throw Failure("cannot export \(file): \(error)")
        }
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        print("wrote \(out): \(result.track.points.count) track positions, \(result.detections.count) detections, \(located.sources.count) sources"
            + (located.note.map { " (\($0))" } ?? ""))
    }
}
