import Foundation
import SnuffelCore
import SnuffelGeo
import SnuffelGround
import SnuffelPeerTesting
import Testing

/// The exports of the simulated lab flight, read back by GDAL's ogrinfo and (GPX) checked
/// against the GPX 1.1 rules by xmllint.
@Suite("Exports read by GDAL and xmllint")
struct ExportTests {
    /// The replay of the simulated lab flight, its localisation and the text of a format.
    func exported(_ format: ExportFormat) throws -> (ReplayResult, LocalisationResult, String) {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        let located = Localisation.locate(result)
        return (result, located, try result.export(format, located: located))
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = scratchPath(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `ogrinfo -ro -al -so`: layer name → feature count.
    func layers(_ path: String) throws -> [String: Int]? {
        switch Peer.run(["ogrinfo", "-ro", "-al", "-so", path], install: "apt-get install gdal-bin") {
        case .failure(let failure):
            Issue.record("\(failure)")
            return nil
        case .success(let output):
            var layers: [String: Int] = [:]
            var current = ""
            for line in output.stdout.split(separator: "\n") {
                if line.hasPrefix("Layer name: ") { current = String(line.dropFirst(12)) }
                if line.hasPrefix("Feature Count: "), let n = Int(line.dropFirst(15)) { layers[current] = n }
            }
            return layers
        }
    }

    @Test("GeoJSON: the track, one point per geotagged detection and each source with its two areas")
    func geojson() throws {
        try #require(!Peer.skipped)
        let (result, located, text) = try exported(.geojson)
        let layers = try #require(try layers(write(text, "flight.geojson")))
        let tagged = result.geotags.filter { (try? $0.get()) != nil }.count
        let cells = result.gasMapFeatures(located).count
        #expect(cells > 0)
        #expect(layers.values.first == result.trackFeatures().count + tagged + 3 * located.sources.count + cells, "\(layers)")
        let all = try Peer.run(["ogrinfo", "-ro", "-al", try write(text, "all.geojson")], install: "apt-get install gdal-bin").get().stdout
        #expect(all.contains("layer (String) = sources"))
        #expect(all.contains("layer (String) = gasmap"))
        #expect(all.contains("confidence (Real) = "))
        let lab = try #require(located.sources.first)
        // ogrinfo prints each point as `POINT Z (lon lat alt)`: the source must be among them.
        let points = all.split(separator: "\n").compactMap { line -> [Double]? in
            guard let open = line.range(of: "POINT Z (") else { return nil }
            return line[open.upperBound...].split { " )".contains($0) }.compactMap { Double($0) }
        }
        #expect(points.contains { $0.count == 3 && abs($0[0] - lab.position.longitude) < 1e-6 && abs($0[1] - lab.position.latitude) < 1e-6 },
                "the source is not where it was written, in lon lat order")
    }

    @Test("the gas map of the lab flight is strongest where the drone detected the plume, and confident only near the track")
    func gasMapOfTheLabFlight() throws {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        let located = Localisation.locate(result)
        let (map, plane) = try #require(result.gasMap(located))
        let top = try #require(map.mean.indices.max { map.mean[$0] < map.mean[$1] })
        let peak = map.centre(column: top % map.columns, row: top / map.columns)
        let tags = result.geotags.compactMap { try? $0.get() }.map { plane.offset(of: $0.position) }
        let nearest = tags.map { (($0.east - peak.east) * ($0.east - peak.east) + ($0.north - peak.north) * ($0.north - peak.north)).squareRoot() }.min()
        #expect(try #require(nearest) < 3 * map.cellSize, "the strongest cell is \(nearest ?? -1) m from the nearest detection")
        #expect(map.mean[top] > 5 * map.priorMean)
        // The corners of the map lie beyond the track's margin: the prior, no confidence.
        for corner in [0, map.columns - 1, map.columns * (map.rows - 1), map.columns * map.rows - 1] {
            #expect(map.confidence[corner] < 0.05, "corner \(corner): \(map.confidence[corner])")
        }
    }

    @Test("KML: track segments by signal, detection placemarks with their description, source areas")
    func kml() throws {
        try #require(!Peer.skipped)
        let (result, located, text) = try exported(.kml)
        let layers = try #require(try layers(write(text, "flight.kml")))
        #expect(layers["Detections"] == result.geotags.filter { (try? $0.get()) != nil }.count)
        #expect(layers["Sources"] == 3 * located.sources.count)
        #expect((layers["Track (coloured by signal)"] ?? 0) >= 3, "the track is not split by signal: \(layers)")
        #expect(text.contains("<styleUrl>#alert</styleUrl>"))
        #expect(text.contains("mdma-synthesis, confidence"))
    }

    @Test("GPX: valid GPX 1.1 (xmllint), every track position and one waypoint per geotagged detection")
    func gpx() throws {
        try #require(!Peer.skipped)
        let (result, _, text) = try exported(.gpx)
        let path = try write(text, "flight.gpx")
        let schema = repositoryRoot + "/Tests/peers/gpx-1.1-subset.xsd"
        let check = Peer.run(["xmllint", "--noout", "--schema", schema, path], install: "apt-get install libxml2-utils")
        #expect(throws: Never.self) { try check.get() }
        let layers = try #require(try layers(path))
        #expect(layers["track_points"] == result.track.points.count)
        #expect(layers["waypoints"] == result.geotags.filter { (try? $0.get()) != nil }.count)
        // A broken document is caught by the same check: the schema is not a formality.
        let broken = text.replacingOccurrences(of: "<ele>", with: "<elevation>").replacingOccurrences(of: "</ele>", with: "</elevation>")
        let refused = Peer.run(["xmllint", "--noout", "--schema", schema, try write(broken, "broken.gpx")],
                               install: "apt-get install libxml2-utils", allowFailure: true)
        #expect((try? refused.get().status) != 0)
    }

    @Test("CSV: one row per detection with its position, read by GDAL's CSV driver")
    func csv() throws {
        try #require(!Peer.skipped)
        let (result, _, text) = try exported(.csv)
        let layers = try #require(try layers(write(text, "detections.csv")))
        #expect(layers["detections"] == result.detections.count)
        let rows = text.split(separator: "\n")
        #expect(rows.count == result.detections.count + 1)
        #expect(rows[0].hasPrefix("sequence,peak_utc,onset_us"))
    }

    @Test("writers refuse out-of-range and non-finite coordinates, naming the placemark or point")
    func refusals() {
        let bad = GeoPosition(latitude: 5.1, longitude: 191.2)
        #expect(throws: GeoExportError.self) {
            try KML.document(name: "x", styles: [], folders: [("f", [KMLPlacemark(name: "a", geometry: .point(bad))])])
        }
        #expect(throws: GeoExportError.self) {
            try GPX.document(creator: "t", name: "x", trackName: "t", segments: [[GPXPoint(position: GeoPosition(latitude: .nan, longitude: 0))]], waypoints: [])
        }
        do {
            _ = try GPX.document(creator: "t", name: "x", trackName: "t", segments: [],
                                 waypoints: [GPXPoint(position: GeoPosition(latitude: 1, longitude: 2)), GPXPoint(position: GeoPosition(latitude: 91, longitude: 2))])
            Issue.record("latitude 91 was written")
        } catch {
            #expect("\(error)".contains("feature 1"), "\(error)")
        }
    }
}
