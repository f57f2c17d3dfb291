import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

/// The repository root, found from this file's location.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Support.swift, SnuffelConfigTests, Tests
    return url.path
}()

let examplePayloadPath = repositoryRoot + "/deploy/payload.example.toml"
let shippedLibraryPath = repositoryRoot + "/calibration/signatures.toml"

/// Runs `body` and returns the configuration error it threw, or nil if it succeeded.
/// (Closures infer an untyped `throws`, hence the cast.)
func refusal<T>(_ body: () throws -> T) -> ConfigurationError? {
    do {
        _ = try body()
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("expected a ConfigurationError, got \(error)")
        return nil
    }
}

/// A small valid payload naming the shipped library, with `channels` and `extra` spliced in.
func payloadText(
    channels: String = defaultChannels, extra: String = "",
    signatures: String = shippedLibraryPath
) -> String {
    """
    signatures = "\(signatures)"

    [payload]
    name = "test"

    \(channels)
    \(extra)
    """
}

let defaultChannels = """
    [[channels]]
    id = "pid"
    kind = "pid"
    rate_hz = 10
    calibration = { noise_floor = 2 }

    [[channels]]
    id = "nh3"
    kind = "electrochemical"
    gas = "nh3"
    rate_hz = 1
    calibration = { noise_floor = 0.05 }
    """

/// Parses a payload text as `payload.toml` in `directory` (a scratch directory by default).
func parsePayload(_ text: String, directory: String? = nil) throws(ConfigurationError) -> PayloadConfiguration {
    try PayloadConfiguration.parse(text: text, path: "payload.toml", baseDirectory: directory ?? NSTemporaryDirectory())
}

/// A fresh scratch directory, removed by the caller with `cleanUp`.
func scratchDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "snuffel-config-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func cleanUp(_ directory: String) {
    try? FileManager.default.removeItem(atPath: directory)
}

/// Checks that an error names the file, the key and the reason, and that its description
/// reads `FILE: KEY: REASON...`.
func expectRefusal(
    _ error: ConfigurationError?, file: String, key: String, reason: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error else {
        Issue.record("expected the configuration to be refused", sourceLocation: sourceLocation)
        return
    }
    #expect(error.file == file, sourceLocation: sourceLocation)
    #expect(error.key == key, sourceLocation: sourceLocation)
    #expect(error.reason.contains(reason), "reason: \(error.reason)", sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix(file), sourceLocation: sourceLocation)
    #expect(error.description.contains(": \(key): "), "description: \(error.description)", sourceLocation: sourceLocation)
    #expect(error.description.contains(reason), sourceLocation: sourceLocation)
}
