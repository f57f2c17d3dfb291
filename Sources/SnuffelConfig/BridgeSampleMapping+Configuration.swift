import SnuffelWire

extension BridgeSampleMapping {
    /// The mapping of a payload's bridge source: each bridge channel that a payload channel
    /// names with `source_channel` gives that channel's index; the others are dropped.
    ///
    /// - Parameters:
    ///   - configuration: The payload configuration.
    ///   - source: The bridge source's id; nil for the payload's only bridge source.
    ///   - timeOffset: µs added to the bridge's clock.
    /// - Throws: ``ConfigurationError`` naming the payload file when there is no such
    ///   bridge source, or several and none was named.
    public init(configuration: PayloadConfiguration, source: String? = nil, timeOffset: Int64 = 0) throws(ConfigurationError) {
        let bridge = try configuration.bridgeSource(source)
        self.init(channels: configuration.bridgeChannels(of: bridge.id), timeOffset: timeOffset)
    }
}
