import Foundation
import SnuffelCore
import SnuffelGeo

extension ReplayResult {
    /// The class id of a detection, or `unknown`.
    public func className(_ d: Detection) -> String {
        d.signatureClass.map { configuration.pipeline.library.classes[$0].id } ?? "unknown"
    }

    /// A time of the samples' clock as µs to show: UTC when the clock mapping is known.
    public func shownTime(_ time: UInt64) -> UInt64 { utc(time) ?? time }

    /// The detections that have a geotag, as GeoJSON points with their class, confidence,
    /// times (UTC µs and ISO 8601), uncertainty and compounds.
    public func detectionFeatures() -> [GeoJSONFeature] {
        let library = configuration.pipeline.library
        var features: [GeoJSONFeature] = []
        for (d, tag) in zip(detections, geotags) {
            guard case .success(let g) = tag else { continue }
            var compounds: [(String, JSONValue)] = []
            for c in d.compounds.sorted(by: { $0.meanPPM > $1.meanPPM }) {
                compounds.append((library.compounds[c.compound].id, .number(c.meanPPM)))
            }
            features.append(GeoJSONFeature(geometry: .point(g.position), properties: [
                ("sequence", .integer(Int64(d.sequence))),
                ("class", .string(className(d))),
                ("confidence", .number(d.confidence)),
                ("lab_or_dump_confidence", .number(d.threatConfidence)),
                ("alert", .bool(d.isAlert)),
                ("confounder", .bool(d.isConfounder)),
                ("onset_us", .integer(Int64(clamping: shownTime(d.onset)))),
                ("peak_us", .integer(Int64(clamping: shownTime(d.peak)))),
                ("end_us", .integer(Int64(clamping: shownTime(d.end)))),
                ("time_utc", utc(d.peak).map { .string(isoTime($0)) } ?? .null),
                ("uncertainty_m", .number(g.uncertainty)),
                ("snr", .number(d.snr)),
                ("compounds_ppm", .object(compounds)),
            ]))
        }
        return features
    }

    /// The track cut into stretches with no gap longer than the track's maximum gap
    /// between consecutive fixes.
    public func trackStretches() -> [[TrackPoint]] {
        var stretches: [[TrackPoint]] = []
        for p in track.points {
            if let last = stretches.last?.last, Double(p.time - last.time) / 1e6 <= track.maximumGap {
                stretches[stretches.count - 1].append(p)
            } else {
                stretches.append([p])
            }
        }
        return stretches
    }

    /// The track as GeoJSON lines, one per stretch (see ``trackStretches()``) of at least
    /// two fixes.
    public func trackFeatures() -> [GeoJSONFeature] {
        trackStretches().filter { $0.count >= 2 }.compactMap { stretch in
            guard let first = stretch.first, let last = stretch.last else { return nil }
            return GeoJSONFeature(geometry: .lineString(stretch.map(\.position)), properties: [
                ("start_us", .integer(Int64(clamping: shownTime(first.time)))),
                ("end_us", .integer(Int64(clamping: shownTime(last.time)))),
                ("fixes", .integer(Int64(stretch.count))),
            ])
        }
    }

    /// The localised sources as GeoJSON: a point for each, and its 50 % and 95 % areas as
    /// circles (72-sided polygons).
    public func sourceFeatures(_ located: LocalisationResult) -> [GeoJSONFeature] {
        var features: [GeoJSONFeature] = []
        for (k, s) in located.sources.enumerated() {
            let common: [(String, JSONValue)] = [
                ("source", .integer(Int64(k))), ("class", .string(s.signatureClass)), ("confounder", .bool(s.isConfounder)),
                ("confidence", .number(s.confidence)), ("lab_or_dump_confidence", .number(s.labConfidence)),
            ]
            features.append(GeoJSONFeature(geometry: .point(s.position), properties: common + [
                ("radius50_m", .number(s.radius50)), ("radius95_m", .number(s.radius95)),
                ("detections", .array(s.detections.map { .integer(Int64($0)) })),
            ]))
            for (share, radius) in [(50, s.radius50), (95, s.radius95)] {
                let plane = LocalTangentPlane(origin: s.position)
                let ring = (0...72).map { i -> GeoPosition in
                    let a = Double(i % 72) * 2 * .pi / 72
                    return plane.position(east: radius * cos(a), north: radius * sin(a))
                }
                features.append(GeoJSONFeature(geometry: .polygon([ring]), properties: common + [
                    ("area", .string("\(share) %")), ("radius_m", .number(radius)),
                ]))
            }
        }
        return features
    }

    /// Writes the flight into a directory (created if needed): `detections.geojson`,
    /// `track.geojson`, `sources.geojson` and `gasmap.geojson` (RFC 7946; the gas
    /// distribution map's cells, see ``gasMapFeatures(_:minimumConfidence:)``), and `flight.geojson`, `flight.kml`,
    /// `flight.gpx` and `detections.csv` (see ``export(_:located:)``).
    /// - Returns: The files written.
    public func writeAll(directory: String, located: LocalisationResult) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [(String, String)] = [
            ("detections.geojson", try GeoJSON.featureCollection(detectionFeatures())),
            ("track.geojson", try GeoJSON.featureCollection(trackFeatures())),
            ("sources.geojson", try GeoJSON.featureCollection(sourceFeatures(located))),
            ("gasmap.geojson", try GeoJSON.featureCollection(gasMapFeatures(located))),
        ]
        for format in ExportFormat.allCases { files.append((format.fileName, try export(format, located: located))) }
        var written: [String] = []
        for (name, text) in files {
            let path = (directory as NSString).appendingPathComponent(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            written.append(path)
        }
        return written
    }
}


/// The export formats of `snuffel export` and `replay --out`.
public enum ExportFormat: String, CaseIterable, Sendable {
    case geojson, kml, gpx, csv

    /// The file name used in an output directory.
    public var fileName: String {
        switch self {
        case .geojson: return "flight.geojson"
        case .kml: return "flight.kml"
        case .gpx: return "flight.gpx"
        case .csv: return "detections.csv"
        }
    }
}

extension ReplayResult {
    /// The signal level of the track at a time: 0 quiet, 1 weak (a hit), 2 strong (≥ 20 σ),
    /// 3 very strong (≥ 100 σ), from the activity log.
    func signalLevel(at time: UInt64) -> Int {
        guard let start = activity.start, time >= start else { return 0 }
        let i = Int((time - start) / 1_000_000)
        guard i < activity.sigma.count else { return 0 }
        let s = activity.sigma[i]
        return activity.hit[i] ? (s >= 100 ? 3 : s >= 20 ? 2 : 1) : 0
    }

    /// The flight in one file of a format.
    /// - Throws: ``GeoExportError`` when a position is out of range.
    public func export(_ format: ExportFormat, located: LocalisationResult) throws -> String {
        let library = configuration.pipeline.library
        let geotagged: [(Detection, Geotag)] = zip(detections, geotags).compactMap { d, t in (try? t.get()).map { (d, $0) } }
        func summary(_ d: Detection) -> String {
            let compounds = d.compounds.sorted { $0.meanPPM > $1.meanPPM }.prefix(5)
                .map { "\(library.compounds[$0.compound].id) \(CSVField.number($0.meanPPM, places: 3)) ppm" }.joined(separator: ", ")
            return "\(className(d)), confidence \(CSVField.number(d.confidence, places: 2)), p(lab) \(CSVField.number(d.threatConfidence, places: 2))"
                + (d.isAlert ? ", ALERT" : "") + "; " + (utc(d.peak).map(isoTime) ?? "t+\(d.peak / 1_000_000) s")
                + "; compounds: " + (compounds.isEmpty ? "-" : compounds)
        }
        switch format {
        case .geojson:
            func layer(_ name: String, _ features: [GeoJSONFeature]) -> [GeoJSONFeature] {
                features.map { var f = $0; f.properties.insert(("layer", .string(name)), at: 0); return f }
            }
            return try GeoJSON.featureCollection(
                layer("track", trackFeatures()) + layer("detections", detectionFeatures()) + layer("sources", sourceFeatures(located))
                    + layer("gasmap", gasMapFeatures(located)))
        case .kml:
            var track: [KMLPlacemark] = []
            var run: [GeoPosition] = []
            var level = -1
            for p in self.track.points {
                let l = signalLevel(at: p.time)
                if l != level, let last = run.last {
                    if run.count >= 2 { track.append(KMLPlacemark(name: "track", geometry: .lineString(run), style: "signal\(level)")) }
                    run = [last]
                }
                level = l
                run.append(p.position)
            }
            if run.count >= 2 { track.append(KMLPlacemark(name: "track", geometry: .lineString(run), style: "signal\(level)")) }
            let marks = geotagged.map { d, g in
                KMLPlacemark(name: "#\(d.sequence) \(className(d))", description: summary(d) + "; ± \(Int(g.uncertainty.rounded())) m",
                             geometry: .point(g.position), style: d.isAlert ? "alert" : "detection", time: utc(d.peak))
            }
            var areas: [KMLPlacemark] = []
            for f in sourceFeatures(located) {
                let cls = f.properties.first { $0.0 == "class" }.map { "\($0.1)" } ?? ""
                let area = f.properties.first { $0.0 == "area" }
                let name = area.map { "source area \($0.1)" } ?? "source"
                areas.append(KMLPlacemark(name: name, description: cls, geometry: f.geometry, style: area == nil ? "source" : "area"))
            }
            return try KML.document(name: "Snuffel: \((path as NSString).lastPathComponent)", styles: [
                KMLStyle(id: "signal0", lineColor: "ff999999", lineWidth: 2),
                KMLStyle(id: "signal1", lineColor: "ff00ffff", lineWidth: 3),
                KMLStyle(id: "signal2", lineColor: "ff0088ff", lineWidth: 4),
                KMLStyle(id: "signal3", lineColor: "ff0000ff", lineWidth: 5),
                KMLStyle(id: "detection", lineColor: "ff00ffff", iconColor: "ff00ffff"),
                KMLStyle(id: "alert", lineColor: "ff0000ff", iconColor: "ff0000ff"),
                KMLStyle(id: "source", lineColor: "ffff00ff", iconColor: "ffff00ff"),
                KMLStyle(id: "area", lineColor: "ffff00ff", lineWidth: 2, fillColor: "40ff00ff"),
            ], folders: [("Track (coloured by signal)", track), ("Detections", marks), ("Sources", areas)])
        case .gpx:
            let segments = trackStretches().map { $0.map { GPXPoint(position: $0.position, time: utc($0.time)) } }
            let waypoints = geotagged.map { d, g in
                GPXPoint(position: g.position, time: utc(d.peak), name: "#\(d.sequence) \(className(d))", description: summary(d),
                         type: d.isAlert ? "alert" : "detection")
            }
            return try GPX.document(creator: "Snuffel", name: (path as NSString).lastPathComponent, trackName: "flight",
                                    segments: segments, waypoints: waypoints)
        case .csv:
            var out = "sequence,peak_utc,onset_us,peak_us,end_us,class,confidence,lab_or_dump_confidence,alert,confounder,lat,lon,alt_m,uncertainty_m,compounds_ppm\n"
            for (d, tag) in zip(detections, geotags) {
                let g = try? tag.get()
                let compounds = d.compounds.sorted { $0.meanPPM > $1.meanPPM }
                    .map { "\(library.compounds[$0.compound].id)=\(CSVField.number($0.meanPPM, places: 4))" }.joined(separator: ";")
                let cells: [String] = [
                    "\(d.sequence)", utc(d.peak).map(isoTime) ?? "", "\(shownTime(d.onset))", "\(shownTime(d.peak))",
                    "\(shownTime(d.end))", className(d), CSVField.number(d.confidence, places: 4),
                    CSVField.number(d.threatConfidence, places: 4), "\(d.isAlert)", "\(d.isConfounder)",
                    g.map { CSVField.number($0.position.latitude, places: 7) } ?? "",
                    g.map { CSVField.number($0.position.longitude, places: 7) } ?? "",
                    g.map { CSVField.number($0.position.altitude, places: 2) } ?? "",
                    g.map { CSVField.number($0.uncertainty, places: 1) } ?? "", compounds,
                ]
                out += cells.map(CSVField.quoted).joined(separator: ",") + "\n"
            }
            return out
        }
    }
}

/// Cells of exported CSV (RFC 4180).
enum CSVField {
    static func number(_ v: Double, places: Int) -> String { v.isFinite ? JSONText.plainDecimal(v, decimals: places) : "" }

    /// The text, in double quotes (doubled inside) when it holds a comma, quote or line end.
    static func quoted(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
