import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

@Suite("Refused payload configurations")
struct RefusalTests {
    @Test func minimalPayloadLoads() throws {
        let configuration = try parsePayload(payloadText())
        #expect(configuration.pipeline.channels.map(\.id) == ["pid", "nh3"])
        #expect(configuration.payloadFile.path == "payload.toml")
        #expect(configuration.signaturesFile.path == shippedLibraryPath)
    }

    @Test func unknownKeyIsRefusedWithASuggestion() {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "rate_hz = 10", with: "rate_hz = 10\nrate = 10"))
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels.pid.rate",
            reason: "unknown key 'rate'; did you mean 'rate_hz'?")
    }

    @Test func unknownKeysAreRefusedEverywhere() {
        expectRefusal(
            refusal { try parsePayload(payloadText(extra: "[detection]\nhit_on_sigmaa = 6")) },
            file: "payload.toml", key: "detection.hit_on_sigmaa", reason: "did you mean 'hit_on_sigma'?")
        let calibration = defaultChannels.replacingOccurrences(of: "{ noise_floor = 2 }", with: "{ noise_floor = 2, gian = 1 }")
        expectRefusal(
            refusal { try parsePayload(payloadText(channels: calibration)) },
            file: "payload.toml", key: "channels.pid.calibration.gian", reason: "did you mean 'gain'?")
        expectRefusal(
            refusal { try parsePayload(payloadText(extra: "[autopilot]\nbaud = 57600")) },
            file: "payload.toml", key: "autopilot", reason: "unknown key 'autopilot'")
    }

    @Test func wrongTypeIsRefused() {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "rate_hz = 10", with: "rate_hz = \"fast\""))
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels.pid.rate_hz",
            reason: "expected a number, got string 'fast'")
        expectRefusal(
            refusal { try parsePayload(payloadText(extra: "[detection]\nmin_channels = 2.5")) },
            file: "payload.toml", key: "detection.min_channels", reason: "expected an integer, got floating-point number 2.5")
    }

    @Test func integersAreAcceptedWhereNumbersAreExpected() throws {
        let configuration = try parsePayload(payloadText(extra: "[detection]\nhit_on_sigma = 6\nsmoothing_tau_s = 1"))
        #expect(configuration.pipeline.detection.hitOnSigma == 6)
        #expect(configuration.pipeline.detection.smoothingTauSeconds == 1)
    }

    @Test func unknownKindIsRefused() {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "kind = \"electrochemical\"", with: "kind = \"electro\""))
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels.nh3.kind",
            reason: "unknown channel kind 'electro' (did you mean 'electrochemical'?); expected one of sraw_voc, sraw_nox, mox_resistance, pid, electrochemical, temperature, humidity")
    }

    @Test func duplicateIdIsRefused() {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "id = \"nh3\"", with: "id = \"pid\""))
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels[1].id",
            reason: "duplicate channel id 'pid' (channels[0] has it too)")
    }

    @Test func missingCalibrationIsRefused() {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "calibration = { noise_floor = 0.05 }", with: ""))
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels.nh3.calibration",
            reason: "missing required key 'calibration'")
    }

    @Test func emptyCalibrationTableTakesTheDefaults() throws {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "calibration = { noise_floor = 2 }", with: "calibration = {}"))
        let configuration = try parsePayload(text)
        #expect(configuration.pipeline.channels[0].calibration == Calibration())
    }

    @Test func calibrationMayBeASubTable() throws {
        let channels = """
            [[channels]]
            id = "pid"
            kind = "pid"
            rate_hz = 10
            [channels.calibration]
            offset = 3
            noise_floor = 2
            """
        let configuration = try parsePayload(payloadText(channels: channels))
        #expect(configuration.pipeline.channels[0].calibration == Calibration(offset: 3, noiseFloor: 2))
    }

    @Test func missingCalibrationFileIsRefused() throws {
        let directory = try scratchDirectory()
        defer { cleanUp(directory) }
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "{ noise_floor = 2 }", with: "\"units/pid-0042.toml\""))
        expectRefusal(
            refusal { try parsePayload(text, directory: directory) }, file: "payload.toml", key: "channels.pid.calibration",
            reason: "file 'units/pid-0042.toml' (resolved to '\(directory)/units/pid-0042.toml') does not exist")
    }

    @Test func calibrationFileIsLoadedAndItsErrorsNameIt() throws {
        let directory = try scratchDirectory()
        defer { cleanUp(directory) }
        try FileManager.default.createDirectory(atPath: directory + "/units", withIntermediateDirectories: true)
        let calibrationPath = directory + "/units/pid-0042.toml"
        try "offset = 12\ngain = 0.98\nnoise_floor = 1.5\n".write(toFile: calibrationPath, atomically: true, encoding: .utf8)
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "{ noise_floor = 2 }", with: "\"units/pid-0042.toml\""))
        let configuration = try parsePayload(text, directory: directory)
        #expect(configuration.pipeline.channels[0].calibration == Calibration(offset: 12, gain: 0.98, noiseFloor: 1.5))
        #expect(configuration.calibrationFiles["pid"]?.path == calibrationPath)
        #expect(configuration.calibrationFiles["pid"]?.text.hasPrefix("offset = 12") == true)

        // A value the pipeline refuses is reported in the calibration file, under its own key.
        try "gain = 0\n".write(toFile: calibrationPath, atomically: true, encoding: .utf8)
        expectRefusal(
            refusal { try parsePayload(text, directory: directory) }, file: calibrationPath, key: "gain",
            reason: "must not be zero (calibration of channel 'pid' in payload.toml)")

        // So is an unknown key.
        try "gain = 1\nofset = 3\n".write(toFile: calibrationPath, atomically: true, encoding: .utf8)
        expectRefusal(
            refusal { try parsePayload(text, directory: directory) }, file: calibrationPath, key: "ofset",
            reason: "unknown key 'ofset'; did you mean 'offset'?")
    }

    @Test func badDetectionValueIsRefused() {
        expectRefusal(
            refusal { try parsePayload(payloadText(extra: "[detection]\nhit_off_sigma = 6")) },
            file: "payload.toml", key: "detection.hit_off_sigma", reason: "must be below hit_on_sigma (5.0), got 6.0")
        expectRefusal(
            refusal { try parsePayload(payloadText(extra: "[detection]\nmin_fit = 1.5")) },
            file: "payload.toml", key: "detection.min_fit", reason: "must lie in [0, 1], got 1.5")
    }

    @Test func syntaxErrorIsRefusedWithItsPosition() throws {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "rate_hz = 10", with: "rate_hz = = 10"))
        let error = try #require(refusal { try parsePayload(text) })
        #expect(error.file == "payload.toml")
        let line = try #require(error.line)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false)[line - 1].contains("rate_hz = = 10"))
        #expect(error.column != nil)
        #expect(error.key == "channels[0].rate_hz")
        #expect(error.reason.hasPrefix("TOML syntax error: "))
        #expect(error.description.hasPrefix("payload.toml:\(line):"))
        #expect(error.description.contains(": channels[0].rate_hz: TOML syntax error: "))
    }

    @Test func rangeErrorsOfThePipelineAreMappedToTheKey() {
        let text = payloadText(channels: defaultChannels.replacingOccurrences(of: "rate_hz = 10", with: "rate_hz = 0"))
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels.pid.rate_hz",
            reason: "must be in (0, 10000] Hz, got 0.0")
        let mox = """
            [[channels]]
            id = "gas_r"
            kind = "mox_resistance"
            rate_hz = 1
            calibration = { mox_exponent = 0.5 }
            """
        expectRefusal(
            refusal { try parsePayload(payloadText(channels: mox)) }, file: "payload.toml",
            key: "channels.gas_r.calibration.offset", reason: "the reference resistance of a MOX channel must be positive")
    }

    @Test func gasRulesAreEnforced() {
        let missing = payloadText(channels: defaultChannels.replacingOccurrences(of: "gas = \"nh3\"", with: ""))
        expectRefusal(
            refusal { try parsePayload(missing) }, file: "payload.toml", key: "channels.nh3.gas",
            reason: "missing required key 'gas'")
        let typo = payloadText(channels: defaultChannels.replacingOccurrences(of: "gas = \"nh3\"", with: "gas = \"nh4\""))
        expectRefusal(
            refusal { try parsePayload(typo) }, file: "payload.toml", key: "channels.nh3.gas",
            reason: "lists a response on 'ec_nh4'; did you mean 'nh3'?")
        let stray = payloadText(channels: defaultChannels.replacingOccurrences(of: "kind = \"pid\"", with: "kind = \"pid\"\ngas = \"co\""))
        expectRefusal(
            refusal { try parsePayload(stray) }, file: "payload.toml", key: "channels.pid.gas",
            reason: "only electrochemical channels name a target gas")
    }

    @Test func missingSignatureLibraryIsRefused() {
        let text = payloadText(signatures: "no/such/signatures.toml")
        let directory = NSTemporaryDirectory()
        let error = refusal { try parsePayload(text, directory: directory) }
        expectRefusal(error, file: "payload.toml", key: "signatures", reason: "file 'no/such/signatures.toml' (resolved to")
        #expect(error?.reason.hasSuffix("does not exist") == true)
    }

    @Test func missingPayloadFileIsRefused() {
        let path = NSTemporaryDirectory() + "snuffel-no-such-payload-\(UUID().uuidString).toml"
        let error = refusal { try PayloadConfiguration.load(path: path) }
        #expect(error?.file == path)
        #expect(error?.key == "")
        #expect(error?.description == "\(path): does not exist")
    }
}
