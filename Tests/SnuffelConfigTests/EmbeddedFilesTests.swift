import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

/// A flight log holds the payload configuration, the signature library and the per-unit
/// calibration files as text; replay parses them from there, never from the disk.
@Suite("Configuration embedded in a flight log")
struct EmbeddedFilesTests {
    @Test("the example payload parsed from its texts equals the one loaded from disk")
    func embeddedEqualsDisk() throws {
        let disk = try PayloadConfiguration.load(path: examplePayloadPath)
        let embedded = try PayloadConfiguration.parse(
            text: disk.payloadFile.text, path: "flight.ulg:snuffel_payload_toml",
            embedded: .init(signatures: disk.signaturesFile.text))
        #expect(embedded.pipeline == disk.pipeline)
        #expect(embedded.signaturesFile.text == disk.signaturesFile.text)
    }

    @Test("a calibration file comes from the log by channel id; a missing one is refused by key")
    func calibrationFiles() throws {
        let directory = try scratchDirectory()
        defer { cleanUp(directory) }
        let calibration = "offset = 12\ngain = 2\nnoise_floor = 3\n"
        try calibration.write(toFile: directory + "/pid-7.toml", atomically: true, encoding: .utf8)
        let text = payloadText(channels: """
            [[channels]]
            id = "pid"
            kind = "pid"
            rate_hz = 10
            calibration = "pid-7.toml"
            """)
        let disk = try parsePayload(text, directory: directory)
        let library = try String(contentsOfFile: shippedLibraryPath, encoding: .utf8)
        let embedded = try PayloadConfiguration.parse(
            text: text, path: "log:payload", embedded: .init(signatures: library, calibrations: ["pid": calibration]))
        #expect(embedded.pipeline == disk.pipeline)
        #expect(embedded.pipeline.channels[0].calibration.offset == 12)
        #expect(embedded.calibrationFiles["pid"]?.text == calibration)

        let missing = refusal {
            try PayloadConfiguration.parse(text: text, path: "log:payload", embedded: .init(signatures: library))
        }
        #expect(missing?.file == "log:payload")
        #expect(missing?.key == "channels.pid.calibration")
        #expect(missing?.reason.contains("not in the log") == true, "\(String(describing: missing))")
    }

    @Test("an embedded signature library that is broken is refused and named")
    func brokenLibrary() throws {
        let disk = try PayloadConfiguration.load(path: examplePayloadPath)
        let error = refusal {
            try PayloadConfiguration.parse(
                text: disk.payloadFile.text, path: "log:payload", embedded: .init(signatures: "[[compounds]]\nid = 3\n"))
        }
        #expect(error != nil)
        #expect(error?.file.hasSuffix("signatures.toml") == true, "\(String(describing: error))")
    }
}
