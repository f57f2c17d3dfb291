import Foundation
import Testing

@testable import SnuffelGeo

/// Features shared by the GeoJSON tests and the GDAL peer test: a point with properties,
/// a line, and a polygon with an open exterior ring (the writer closes it).
let sampleFeatures: [GeoJSONFeature] = [
    GeoJSONFeature(
        geometry: .point(GeoPosition(latitude: 52.1234567, longitude: 5.1234567, altitude: 12.5)),
        properties: [
            ("name", .string(#"lab "Noord""#)), ("confidence", .number(0.875)), ("sequence", .integer(3)),
            ("alert", .bool(true)), ("note", .null), ("tags", .array([.string("pmk"), .integer(-1)])),
            ("fit", .object([("residual", .number(1e-5)), ("misfit", .number(.nan))])),
        ]),
    GeoJSONFeature(geometry: .lineString([
        GeoPosition(latitude: 52.0, longitude: 5.0, altitude: 30),
        GeoPosition(latitude: 52.0005, longitude: 5.0007, altitude: 31.25),
        GeoPosition(latitude: -0.0000001, longitude: -179.9999999, altitude: -3.5),
    ])),
    GeoJSONFeature(geometry: .polygon([[
        GeoPosition(latitude: 52.0, longitude: 5.0),
        GeoPosition(latitude: 52.0, longitude: 5.001),
        GeoPosition(latitude: 52.001, longitude: 5.001),
    ]]), properties: [("kind", .string("search area"))]),
]

@Suite("GeoJSON export")
struct GeoJSONTests {
    private func parse(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? [String: Any])
    }

    private func coordinates(_ any: Any?) -> [Double] {
        (any as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
    }

    @Test("a FeatureCollection with lon/lat/alt coordinates and properties in order")
    func structure() throws {
        let text = try GeoJSON.featureCollection(sampleFeatures)
        let root = try parse(text)
        #expect(root["type"] as? String == "FeatureCollection")
        let features = try #require(root["features"] as? [[String: Any]])
        #expect(features.count == 3)
        #expect(features.allSatisfy { $0["type"] as? String == "Feature" })

        let point = try #require(features[0]["geometry"] as? [String: Any])
        #expect(point["type"] as? String == "Point")
        #expect(coordinates(point["coordinates"]) == [5.1234567, 52.1234567, 12.5])
        let properties = try #require(features[0]["properties"] as? [String: Any])
        #expect(properties["name"] as? String == #"lab "Noord""#)
        #expect((properties["confidence"] as? NSNumber)?.doubleValue == 0.875)
        #expect((properties["sequence"] as? NSNumber)?.intValue == 3)
        #expect(properties["alert"] as? Bool == true)
        #expect(properties["note"] is NSNull)
        #expect(((properties["tags"] as? [Any])?.first as? String) == "pmk")
        let fit = try #require(properties["fit"] as? [String: Any])
        #expect((fit["residual"] as? NSNumber)?.doubleValue == 1e-5)
        #expect(fit["misfit"] is NSNull)
        // Key order is kept.
        #expect(text.contains(#"{"name":"lab \"Noord\"","confidence":0.875,"sequence":3,"alert":true,"note":null,"tags":["pmk",-1],"fit":{"residual":1e-05,"misfit":null}}"#))

        let line = try #require(features[1]["geometry"] as? [String: Any])
        #expect(line["type"] as? String == "LineString")
        let positions = try #require(line["coordinates"] as? [Any])
        #expect(positions.map(coordinates) == [[5.0, 52.0, 30], [5.0007, 52.0005, 31.25], [-179.9999999, -0.0000001, -3.5]])
        #expect(features[1]["properties"] as? [String: Any] != nil)

        let polygon = try #require(features[2]["geometry"] as? [String: Any])
        #expect(polygon["type"] as? String == "Polygon")
        let rings = try #require(polygon["coordinates"] as? [[Any]])
        #expect(rings.count == 1)
        #expect(rings[0].map(coordinates) == [[5.0, 52.0, 0], [5.001, 52.0, 0], [5.001, 52.001, 0], [5.0, 52.0, 0]])
    }

    @Test("coordinates as plain decimals: 7 for degrees, 2 for metres, never an exponent")
    func numberForm() throws {
        let text = try GeoJSON.featureCollection([GeoJSONFeature(geometry: .point(GeoPosition(latitude: 0.00001, longitude: -0.00000001, altitude: 1e20)))])
        #expect(text.contains("[0.0000000,0.0000100,100000000000000000000.00]"), "\(text)")
        #expect(JSONText.plainDecimal(179.99999995, decimals: 7) == "180.0000000")
        #expect(JSONText.plainDecimal(-52.12345674, decimals: 7) == "-52.1234567")
        #expect(JSONText.plainDecimal(-0.004, decimals: 2) == "0.00")
        #expect(JSONText.plainDecimal(-0.005, decimals: 2) == "-0.01")
        #expect(JSONText.plainDecimal(1234.5, decimals: 0) == "1235")
        #expect(JSONText.plainDecimal(-1.5e17, decimals: 2) == "-150000000000000000.00")
        #expect(JSONText.plainDecimal(.infinity, decimals: 2) == "null")
        let sample = try GeoJSON.featureCollection(sampleFeatures)
        let coordinateText = sample.split(separator: "properties").map { $0.split(separator: "coordinates").dropFirst() }.joined()
        #expect(!coordinateText.isEmpty && coordinateText.allSatisfy { !$0.contains("e") && !$0.contains("E") })
    }

    @Test("strings are escaped per RFC 8259 and read back unchanged")
    func escaping() throws {
        let tricky = "quote \" backslash \\ slash / newline \n tab \t cr \r nul \u{0} bell \u{7} us \u{1F} del \u{7F} Zürich ✓ 🚁 \u{2028}"
        let value = JSONValue.object([(tricky, .string(tricky))])
        let text = value.serialized()
        #expect(text.contains(#"quote \" backslash \\ slash / newline \u000a tab \u0009 cr \u000d nul \u0000 bell \u0007 us \u001f"#), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed == [tricky: tricky])
        let feature = GeoJSONFeature(geometry: .point(GeoPosition(latitude: 1, longitude: 2)), properties: [("n", .string(tricky))])
        let root = try parse(try GeoJSON.featureCollection([feature]))
        let properties = (root["features"] as? [[String: Any]])?.first?["properties"] as? [String: Any]
        #expect(properties?["n"] as? String == tricky)
    }

    @Test("compact serialisation of every JSON value; equality by hand")
    func serialized() {
        #expect(JSONValue.null.serialized() == "null")
        #expect(JSONValue.array([.bool(false), .integer(.min), .number(-0.5), .number(.infinity), .number(1e300)]).serialized()
            == "[false,-9223372036854775808,-0.5,null,1e+300]")
        #expect(JSONValue.object([]).serialized() == "{}")
        #expect(JSONValue.object([("a", .integer(1)), ("b", .null)]) == .object([("a", .integer(1)), ("b", .null)]))
        #expect(JSONValue.object([("a", .integer(1)), ("b", .null)]) != .object([("b", .null), ("a", .integer(1))]))
        #expect(JSONValue.integer(1) != .number(1))
    }

    @Test("refused: latitude 91, longitude 181, NaN, short lines and rings, naming the feature")
    func refusals() {
        let good = GeoJSONFeature(geometry: .point(GeoPosition(latitude: 52, longitude: 5)))
        func error(_ bad: GeoJSONGeometry) -> GeoExportError? {
            do {
                _ = try GeoJSON.featureCollection([good, good, GeoJSONFeature(geometry: bad)])
                return nil
            } catch {
                return error
            }
        }
        let lat = error(.point(GeoPosition(latitude: 91, longitude: 5)))
        #expect(lat == GeoExportError(featureIndex: 2, reason: .latitudeOutOfRange(91)))
        #expect(lat?.description == "feature 2: latitude 91.0 out of -90...90")
        let lon = error(.lineString([GeoPosition(latitude: 52, longitude: 5), GeoPosition(latitude: 52, longitude: 181)]))
        #expect(lon == GeoExportError(featureIndex: 2, position: 1, reason: .longitudeOutOfRange(181)))
        #expect(lon?.description == "feature 2, position 1: longitude 181.0 out of -180...180")
        let nan = error(.polygon([[GeoPosition(latitude: 0, longitude: 0), GeoPosition(latitude: 0, longitude: 1),
                                   GeoPosition(latitude: 1, longitude: 1), GeoPosition(latitude: 1, longitude: 0, altitude: .nan)]]))
        #expect(nan == GeoExportError(featureIndex: 2, ring: 0, position: 3, reason: .notFinite(.altitude)))
        #expect(nan?.description == "feature 2, ring 0, position 3: altitude is not finite")
        #expect(error(.point(GeoPosition(latitude: .nan, longitude: 5))) == GeoExportError(featureIndex: 2, reason: .notFinite(.latitude)))
        let short = error(.lineString([GeoPosition(latitude: 52, longitude: 5)]))
        #expect(short == GeoExportError(featureIndex: 2, reason: .lineTooShort(count: 1)))
        #expect(short?.description.contains("feature 2") == true && short?.description.contains("fewer than 2") == true)
        // A closed triangle's ring has 4 positions; a closed segment only 3.
        let segment = [GeoPosition(latitude: 0, longitude: 0), GeoPosition(latitude: 0, longitude: 1), GeoPosition(latitude: 0, longitude: 0)]
        let ring = error(.polygon([segment + segment.prefix(0)]))
        #expect(ring == GeoExportError(featureIndex: 2, ring: 0, reason: .ringTooShort(count: 3)))
        #expect(ring?.description.contains("fewer than 4") == true)
        #expect(error(.polygon([])) == GeoExportError(featureIndex: 2, reason: .noRings))
        #expect(error(.polygon([[]])) == GeoExportError(featureIndex: 2, ring: 0, reason: .ringTooShort(count: 0)))
    }
}
