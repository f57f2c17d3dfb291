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

    /// The track as GeoJSON lines, one per stretch without a gap longer than the track's
    /// maximum gap.
    public func trackFeatures() -> [GeoJSONFeature] {
        var features: [GeoJSONFeature] = []
        var stretch: [TrackPoint] = []
        func close() {
            if stretch.count >= 2 {
                features.append(GeoJSONFeature(geometry: .lineString(stretch.map(\.position)), properties: [
                    ("start_us", .integer(Int64(clamping: shownTime(stretch[0].time)))),
                    ("end_us", .integer(Int64(clamping: shownTime(stretch[stretch.count - 1].time)))),
                    ("fixes", .integer(Int64(stretch.count))),
                ]))
            }
            stretch.removeAll()
        }
        for p in track.points {
            if let last = stretch.last, Double(p.time - last.time) / 1e6 > track.maximumGap { close() }
            stretch.append(p)
        }
        close()
        return features
    }

    /// Writes `detections.geojson` and `track.geojson` into a directory (created if
    /// needed).
    /// - Returns: The files written.
    public func writeGeoJSON(directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, features) in [("detections.geojson", detectionFeatures()), ("track.geojson", trackFeatures())] {
            let path = (directory as NSString).appendingPathComponent(name)
            try GeoJSON.featureCollection(features).write(toFile: path, atomically: true, encoding: .utf8)
            written.append(path)
        }
        return written
    }
}

/// `2026-09-21T14:13:20.5Z` for UTC µs since the epoch.
public func isoTime(_ microseconds: UInt64) -> String {
    let seconds = Int64(microseconds / 1_000_000)
    let tenths = Int(microseconds % 1_000_000 / 100_000)
    var days = seconds / 86_400
    let secondOfDay = Int(seconds % 86_400)
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil inverse).
    days += 719_468
    let era = days / 146_097
    let dayOfEra = days - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(year)-\(two(Int(month)))-\(two(Int(day)))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)).\(tenths)Z"
}
