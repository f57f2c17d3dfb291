import SnuffelConfig
import SnuffelCore

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/DetectionTests/Support.swift
    return parts.joined(separator: "/")
}()

/// The shipped reference payload with the shipped signature library.
func shippedConfiguration() throws -> PayloadConfiguration {
    try PayloadConfiguration.load(path: repositoryRoot + "/deploy/payload.example.toml")
}

/// White noise per channel at the level the payload's noise floors state.
func noiseFromFloors(_ channels: [ChannelSpec]) -> [String: Double] {
    var noise: [String: Double] = [:]
    for c in channels {
        noise[c.id] = c.kind.isGas ? c.calibration.noiseFloor : (c.kind == .temperature ? 0.02 : 0.1)
    }
    return noise
}
