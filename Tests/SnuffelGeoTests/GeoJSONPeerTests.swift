import Foundation
import Testing

@testable import SnuffelGeo

private let skipPeers = ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] == "1"
private let peerInstall = "apt-get install gdal-bin"

@Suite("GeoJSON read by GDAL 3.6 ogrinfo")
struct GeoJSONPeerTests {
    /// Runs `ogrinfo -ro -al` on the text written to a file, or records an issue and
    /// returns nil.
    private func ogrinfo(_ text: String) throws -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-\(UUID().uuidString).geojson")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ogrinfo", "-ro", "-al", file.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            Issue.record("""
                cannot start /usr/bin/env ogrinfo (\(error)). Run scripts/test, which installs \
                the peer (\(peerInstall)); or set SNUFFEL_SKIP_PEERS=1 to skip.
                """)
            return nil
        }
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let cause = process.terminationStatus == 127 ? "ogrinfo is not installed" : "ogrinfo failed with status \(process.terminationStatus)"
            Issue.record("""
                \(cause). Run scripts/test, which installs the peer (\(peerInstall)); or set \
                SNUFFEL_SKIP_PEERS=1 to skip.
                \(message)
                """)
            return nil
        }
        return printed
    }

    /// The WKT geometries ogrinfo prints, one per feature: the type and the numbers.
    private func geometries(_ printed: String) -> [(type: String, numbers: [Double])] {
        printed.split(separator: "\n").compactMap { line in
            let trimmed = line.drop { $0 == " " }
            guard let open = trimmed.firstIndex(of: "("),
                  let type = ["POINT Z", "LINESTRING Z", "POLYGON Z"].first(where: { trimmed.hasPrefix($0 + " (") })
            else { return nil }
            let numbers = trimmed[open...].split { "(), ".contains($0) }.compactMap { Double($0) }
            return (type, numbers)
        }
    }

    @Test(
        "ogrinfo reads our FeatureCollection: count, geometry types, lon/lat/alt and properties",
        .disabled(if: skipPeers, "SNUFFEL_SKIP_PEERS=1: the comparison with GDAL's ogrinfo was skipped"))
    func readsFeatureCollection() throws {
        guard let printed = try ogrinfo(try GeoJSON.featureCollection(sampleFeatures)) else { return }
        #expect(printed.contains("using driver `GeoJSON' successful"))
        #expect(printed.contains("Feature Count: 3"))
        let found = geometries(printed)
        #expect(found.map(\.type) == ["POINT Z", "LINESTRING Z", "POLYGON Z"])
        guard found.count == 3 else { return }
        let expected: [[Double]] = [
            [5.1234567, 52.1234567, 12.5],
            [5.0, 52.0, 30, 5.0007, 52.0005, 31.25, -179.9999999, -0.0000001, -3.5],
            [5.0, 52.0, 0, 5.001, 52.0, 0, 5.001, 52.001, 0, 5.0, 52.0, 0],
        ]
        for (geometry, numbers) in zip(found, expected) {
            #expect(geometry.numbers.count == numbers.count, "\(geometry)")
            #expect(zip(geometry.numbers, numbers).allSatisfy { close($0, $1, within: 1e-9) }, "\(geometry) vs \(numbers)")
        }
        #expect(printed.contains(#"name (String) = lab "Noord""#))
        #expect(printed.contains("confidence (Real) = 0.875"))
        #expect(printed.contains("sequence (Integer) = 3"))
        #expect(printed.contains("kind (String) = search area"))
    }
}
