/// XML text escaping shared by the KML and GPX writers, the calibration plots and the report's
/// HTML and SVG.
public enum XMLText {
    /// `&`, `<`, `>`, `"` and `'` as entities; control characters other than tab, line feed
    /// and carriage return (not allowed in XML 1.0) dropped.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    static func time(_ microseconds: UInt64) -> String { isoTime(microseconds) }
}

/// An ISO 8601 UTC time with milliseconds, `2026-09-21T14:03:02.700Z`, from µs since the
/// UNIX epoch (the civil date after Howard Hinnant's `civil_from_days`).
public func isoTime(_ microseconds: UInt64) -> String {
    do {
        let seconds = Int64(microseconds / 1_000_000)
        let millis = Int(microseconds % 1_000_000 / 1000)
        let z = seconds / 86_400 + 719_468
        let secondOfDay = Int(seconds % 86_400)
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(Int(year), 4))-\(pad(Int(month), 2))-\(pad(Int(day), 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }
}

/// A placemark of a KML document.
public struct KMLPlacemark: Sendable {
    public var name: String
    /// Plain text; shown in Google Earth's balloon.
    public var description: String
    public var geometry: GeoJSONGeometry
    /// The id of a style of the document, or nil.
    public var style: String?
    /// UTC µs since the epoch, or nil.
    public var time: UInt64?

    public init(name: String, description: String = "", geometry: GeoJSONGeometry, style: String? = nil, time: UInt64? = nil) {
        self.name = name
        self.description = description
        self.geometry = geometry
        self.style = style
        self.time = time
    }
}

/// A KML style: line colour and width, polygon fill and icon colour, as KML's `aabbggrr`
/// hex colours.
public struct KMLStyle: Sendable {
    public var id: String
    public var lineColor: String
    public var lineWidth: Double
    public var fillColor: String?
    public var iconColor: String?

    public init(id: String, lineColor: String, lineWidth: Double = 2, fillColor: String? = nil, iconColor: String? = nil) {
        self.id = id
        self.lineColor = lineColor
        self.lineWidth = lineWidth
        self.fillColor = fillColor
        self.iconColor = iconColor
    }
}

/// KML 2.2 export (OGC 07-147r2) for Google Earth.
public enum KML {
    /// A KML document with styles and folders of placemarks.
    ///
    /// Coordinates are written `lon,lat,alt` with 7 decimals (about 1 cm) and altitude in
    /// metres, clamped to the ground unless `absoluteAltitude` (then `altitudeMode`
    /// `absolute`). Text is XML-escaped.
    /// - Throws: ``GeoExportError`` for the first placemark (counted across folders) with
    ///   a position out of range or not finite, a line of fewer than 2 positions or a ring
    ///   of fewer than 4.
    public static func document(
        name: String, styles: [KMLStyle], folders: [(name: String, placemarks: [KMLPlacemark])], absoluteAltitude: Bool = false
    ) throws(GeoExportError) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n"
        out += "<name>\(XMLText.escaped(name))</name>\n"
        for s in styles {
            out += "<Style id=\"\(XMLText.escaped(s.id))\">"
            if let icon = s.iconColor { out += "<IconStyle><color>\(icon)</color></IconStyle>" }
            out += "<LineStyle><color>\(s.lineColor)</color><width>\(s.lineWidth)</width></LineStyle>"
            if let fill = s.fillColor { out += "<PolyStyle><color>\(fill)</color></PolyStyle>" }
            out += "</Style>\n"
        }
        let mode = absoluteAltitude ? "<altitudeMode>absolute</altitudeMode>" : ""
        var index = 0
        for folder in folders {
            out += "<Folder><name>\(XMLText.escaped(folder.name))</name>\n"
            for p in folder.placemarks {
                let place = GeoJSON.Place(feature: index)
                out += "<Placemark><name>\(XMLText.escaped(p.name))</name>"
                if !p.description.isEmpty { out += "<description>\(XMLText.escaped(p.description))</description>" }
                if let t = p.time { out += "<TimeStamp><when>\(XMLText.time(t))</when></TimeStamp>" }
                if let style = p.style { out += "<styleUrl>#\(XMLText.escaped(style))</styleUrl>" }
                switch p.geometry {
                case .point(let position):
                    out += "<Point>\(mode)<coordinates>\(try coordinates([position], at: place))</coordinates></Point>"
                case .lineString(let line):
                    guard line.count >= 2 else { throw place.error(.lineTooShort(count: line.count)) }
                    out += "<LineString><tessellate>1</tessellate>\(mode)<coordinates>\(try coordinates(line, at: place))</coordinates></LineString>"
                case .polygon(let rings):
                    guard !rings.isEmpty else { throw place.error(.noRings) }
                    out += "<Polygon>\(mode)"
                    for (r, ring) in rings.enumerated() {
                        var closed = ring
                        if let first = ring.first, ring.last != first { closed.append(first) }
                        let ringPlace = GeoJSON.Place(feature: index, ring: r)
                        guard closed.count >= 4 else { throw ringPlace.error(.ringTooShort(count: closed.count)) }
                        let tag = r == 0 ? "outerBoundaryIs" : "innerBoundaryIs"
                        out += "<\(tag)><LinearRing><coordinates>\(try coordinates(closed, at: ringPlace))</coordinates></LinearRing></\(tag)>"
                    }
                    out += "</Polygon>"
                }
                out += "</Placemark>\n"
                index += 1
            }
            out += "</Folder>\n"
        }
        return out + "</Document>\n</kml>\n"
    }

    private static func coordinates(_ positions: [GeoPosition], at place: GeoJSON.Place) throws(GeoExportError) -> String {
        var out = ""
        for (i, p) in positions.enumerated() {
            var here = place
            here.position = positions.count > 1 ? i : nil
            try GeoJSON.check(p, at: here)
            if i > 0 { out += " " }
            out += JSONText.plainDecimal(p.longitude, decimals: 7) + "," + JSONText.plainDecimal(p.latitude, decimals: 7)
                + "," + JSONText.plainDecimal(p.altitude, decimals: 2)
        }
        return out
    }
}

/// A point of a GPX file: a track point or a waypoint.
public struct GPXPoint: Sendable {
    public var position: GeoPosition
    /// UTC µs since the epoch, or nil.
    public var time: UInt64?
    public var name: String?
    public var description: String?
    public var type: String?

    public init(position: GeoPosition, time: UInt64? = nil, name: String? = nil, description: String? = nil, type: String? = nil) {
        self.position = position
        self.time = time
        self.name = name
        self.description = description
        self.type = type
    }
}

/// GPX 1.1 export (https://www.topografix.com/GPX/1/1/).
public enum GPX {
    /// A GPX 1.1 document: metadata, waypoints, then one track of segments, in the order
    /// the schema requires (`ele`, `time`, `name`, `desc`, `type` within a point).
    /// Latitude and longitude are attributes with 7 decimals; elevation in metres.
    /// - Throws: ``GeoExportError`` for the first point (waypoints first, then track
    ///   points, counted together) out of range or not finite.
    public static func document(
        creator: String, name: String, trackName: String, segments: [[GPXPoint]], waypoints: [GPXPoint]
    ) throws(GeoExportError) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<gpx version=\"1.1\" creator=\"\(XMLText.escaped(creator))\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n"
        out += "<metadata><name>\(XMLText.escaped(name))</name></metadata>\n"
        var index = 0
        for w in waypoints {
            out += try point("wpt", w, index: index) + "\n"
            index += 1
        }
        if !segments.isEmpty {
            out += "<trk><name>\(XMLText.escaped(trackName))</name>\n"
            for segment in segments {
                out += "<trkseg>\n"
                for p in segment {
                    out += try point("trkpt", p, index: index) + "\n"
                    index += 1
                }
                out += "</trkseg>\n"
            }
            out += "</trk>\n"
        }
        return out + "</gpx>\n"
    }

    private static func point(_ tag: String, _ p: GPXPoint, index: Int) throws(GeoExportError) -> String {
        try GeoJSON.check(p.position, at: GeoJSON.Place(feature: index))
        var out = "<\(tag) lat=\"\(JSONText.plainDecimal(p.position.latitude, decimals: 7))\" lon=\"\(JSONText.plainDecimal(p.position.longitude, decimals: 7))\">"
        out += "<ele>\(JSONText.plainDecimal(p.position.altitude, decimals: 2))</ele>"
        if let t = p.time { out += "<time>\(XMLText.time(t))</time>" }
        if let name = p.name { out += "<name>\(XMLText.escaped(name))</name>" }
        if let d = p.description { out += "<desc>\(XMLText.escaped(d))</desc>" }
        if let type = p.type { out += "<type>\(XMLText.escaped(type))</type>" }
        return out + "</\(tag)>"
    }
}
