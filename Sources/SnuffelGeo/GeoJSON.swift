/// A GeoJSON geometry (RFC 7946 § 3.1).
public enum GeoJSONGeometry: Sendable {
    /// A single position.
    case point(GeoPosition)
    /// A line through two or more positions.
    case lineString([GeoPosition])
    /// A polygon: the exterior ring, then holes. Each ring needs at least four positions
    /// once closed; the writer closes a ring whose last position is not its first.
    case polygon([[GeoPosition]])
}

/// A GeoJSON feature: a geometry and its properties.
public struct GeoJSONFeature: Sendable {
    /// The feature's geometry.
    public var geometry: GeoJSONGeometry
    /// The feature's properties, written in this order.
    public var properties: [(String, JSONValue)]

    /// Creates a feature.
    /// - Parameters:
    ///   - geometry: The geometry.
    ///   - properties: The properties, written in this order.
    public init(geometry: GeoJSONGeometry, properties: [(String, JSONValue)] = []) {
        self.geometry = geometry
        self.properties = properties
    }
}

/// Why features could not be exported: which feature, and what is wrong with it.
///
/// The description names the feature (counted from 0), the position where there is one,
/// and the reason: `feature 3, ring 0, position 2: latitude 123.4 out of -90...90`.
public struct GeoExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The index of the feature in the exported array, from 0.
    public var featureIndex: Int
    /// The ring of a polygon, from 0, when the error concerns one.
    public var ring: Int?
    /// The index of the position in its line or ring, from 0, when the error concerns one.
    public var position: Int?
    /// What is wrong.
    public var reason: Reason

    /// Creates an error.
    /// - Parameters:
    ///   - featureIndex: The feature's index, from 0.
    ///   - ring: The polygon ring, from 0, if any.
    ///   - position: The position's index in its line or ring, from 0, if any.
    ///   - reason: What is wrong.
    public init(featureIndex: Int, ring: Int? = nil, position: Int? = nil, reason: Reason) {
        self.featureIndex = featureIndex
        self.ring = ring
        self.position = position
        self.reason = reason
    }

    /// The place, then the reason.
    public var description: String {
        var text = "feature \(featureIndex)"
        if let ring { text += ", ring \(ring)" }
        if let position { text += ", position \(position)" }
        return text + ": " + reason.description
    }

    /// A coordinate of a position.
    public enum Coordinate: String, Sendable, Equatable {
        case latitude, longitude, altitude
    }

    /// What is wrong with a feature.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// A latitude outside -90...90 degrees.
        case latitudeOutOfRange(Double)
        /// A longitude outside -180...180 degrees.
        case longitudeOutOfRange(Double)
        /// A coordinate is NaN or infinite.
        case notFinite(Coordinate)
        /// A line string with fewer than 2 positions (the count it has).
        case lineTooShort(count: Int)
        /// A polygon ring with fewer than 4 positions once closed (the count it has then).
        case ringTooShort(count: Int)
        /// A polygon without rings.
        case noRings

        /// What is wrong, in words.
        public var description: String {
            switch self {
            case .latitudeOutOfRange(let value): return "latitude \(value) out of -90...90"
            case .longitudeOutOfRange(let value): return "longitude \(value) out of -180...180"
            case .notFinite(let coordinate): return "\(coordinate.rawValue) is not finite"
            case .lineTooShort(let count): return "a line with \(count) position(s), fewer than 2"
            case .ringTooShort(let count): return "a ring with \(count) position(s) once closed, fewer than 4"
            case .noRings: return "a polygon with no rings"
            }
        }
    }
}

/// GeoJSON (RFC 7946) export.
public enum GeoJSON {
    /// Decimals written for degrees: 1e-7° is about 1 cm.
    static let degreeDecimals = 7
    /// Decimals written for metres.
    static let metreDecimals = 2

    /// RFC 7946 FeatureCollection text.
    ///
    /// Coordinates are written `[longitude, latitude, altitude]` with 7 decimals for
    /// degrees and 2 for metres, always as plain decimals (never in exponent form).
    /// Strings are escaped per RFC 8259 (quotation mark, backslash, control characters
    /// as `\uXXXX`); non-finite property numbers become `null`. Open polygon rings are
    /// closed. Nothing is written when a feature is refused.
    /// - Parameter features: The features, in order.
    /// - Returns: The text, compact, without a trailing newline.
    /// - Throws: ``GeoExportError`` for the first feature with a latitude outside
    ///   -90...90, a longitude outside -180...180, a non-finite coordinate, a line with
    ///   fewer than 2 positions, a ring with fewer than 4 once closed, or a polygon with
    ///   no rings.
    /// - Complexity: O(n) in the total number of positions and property values.
    public static func featureCollection(_ features: [GeoJSONFeature]) throws(GeoExportError) -> String {
        var text = #"{"type":"FeatureCollection","features":["#
        for (index, feature) in features.enumerated() {
            if index > 0 { text += "," }
            text += #"{"type":"Feature","geometry":"#
            try appendGeometry(feature.geometry, featureIndex: index, to: &text)
            text += #","properties":"#
            JSONText.append(.object(feature.properties), to: &text)
            text += "}"
        }
        return text + "]}"
    }

    /// Where in the exported features a position stands, for errors.
    struct Place {
        var feature: Int
        var ring: Int?
        var position: Int?

        func error(_ reason: GeoExportError.Reason) -> GeoExportError {
            GeoExportError(featureIndex: feature, ring: ring, position: position, reason: reason)
        }
    }

    private static func appendGeometry(_ geometry: GeoJSONGeometry, featureIndex: Int, to text: inout String) throws(GeoExportError) {
        let place = Place(feature: featureIndex)
        switch geometry {
        case .point(let p):
            text += #"{"type":"Point","coordinates":"#
            try appendPosition(p, at: place, to: &text)
        case .lineString(let line):
            guard line.count >= 2 else { throw place.error(.lineTooShort(count: line.count)) }
            text += #"{"type":"LineString","coordinates":"#
            try appendPositions(line, at: place, to: &text)
        case .polygon(let rings):
            guard !rings.isEmpty else { throw place.error(.noRings) }
            text += #"{"type":"Polygon","coordinates":["#
            for (r, ring) in rings.enumerated() {
                var closed = ring
                if let first = ring.first, ring.last != first { closed.append(first) }
                let ringPlace = Place(feature: featureIndex, ring: r)
                guard closed.count >= 4 else { throw ringPlace.error(.ringTooShort(count: closed.count)) }
                if r > 0 { text += "," }
                try appendPositions(closed, at: ringPlace, to: &text)
            }
            text += "]"
        }
        text += "}"
    }

    /// Appends `[p0,p1,...]`.
    private static func appendPositions(_ positions: [GeoPosition], at place: Place, to text: inout String) throws(GeoExportError) {
        text += "["
        for (i, p) in positions.enumerated() {
            if i > 0 { text += "," }
            var here = place
            here.position = i
            try appendPosition(p, at: here, to: &text)
        }
        text += "]"
    }

    /// Refuses a position that is not finite or out of range, naming where it stands.
    static func check(_ p: GeoPosition, at place: Place) throws(GeoExportError) {
        if !p.latitude.isFinite { throw place.error(.notFinite(.latitude)) }
        if !p.longitude.isFinite { throw place.error(.notFinite(.longitude)) }
        if !p.altitude.isFinite { throw place.error(.notFinite(.altitude)) }
        guard (-90...90).contains(p.latitude) else { throw place.error(.latitudeOutOfRange(p.latitude)) }
        guard (-180...180).contains(p.longitude) else { throw place.error(.longitudeOutOfRange(p.longitude)) }
    }

    /// Appends `[lon,lat,alt]` after checking the position.
    private static func appendPosition(_ p: GeoPosition, at place: Place, to text: inout String) throws(GeoExportError) {
        try check(p, at: place)
        text += "["
        text += JSONText.plainDecimal(p.longitude, decimals: degreeDecimals)
        text += ","
        text += JSONText.plainDecimal(p.latitude, decimals: degreeDecimals)
        text += ","
        text += JSONText.plainDecimal(p.altitude, decimals: metreDecimals)
        text += "]"
    }
}
