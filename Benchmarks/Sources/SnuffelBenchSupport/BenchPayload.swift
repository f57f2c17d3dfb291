import SnuffelCore
import SnuffelTestSupport

/// The payloads the benchmarks run, built from the reference payload of
/// `Fixtures.referenceChannels()` (`voc_raw nox_raw gas_r pid nh3 h2s co temp rh`).
public enum BenchPayload {
    /// The channel counts measured.
    public static let channelCounts = [8, 16]

    /// The common sample rate of the throughput and latency streams, Hz: every channel
    /// delivers one sample per time step, interleaved in channel order (the PID's rate;
    /// the reference payload runs its other channels at 1 or 2 Hz).
    public static let commonRateHz = 10.0

    /// The channels of a benchmark payload.
    ///
    /// - 8 channels: the reference payload without `h2s` (one of the three electrochemical
    ///   cells), so that both `temp` and `rh` are present and temperature and humidity
    ///   compensation run on every gas sample: `voc_raw nox_raw gas_r pid nh3 co temp rh`.
    /// - 16 channels: all nine, then the seven gas channels again under new ids
    ///   (`voc_raw_2` ... `co_2`), so 14 gas channels, 4 of them SGP41 pixels with a gas index.
    ///
    /// - Parameters:
    ///   - count: 8 or 16 (other counts take the first `count` of the 16).
    ///   - rateHz: when given, every channel is declared at this rate; else each keeps
    ///     its configured rate.
    /// - Returns: the channel specs, in stream order.
    public static func channels(count: Int, rateHz: Double? = commonRateHz) -> [ChannelSpec] {
        let reference = Fixtures.referenceChannels()
        var list: [ChannelSpec]
        if count == 8 {
            list = reference.filter { $0.id != "h2s" }
        } else {
            list = reference
            for c in reference where c.kind.isGas {
                var copy = c
                copy.id = c.id + "_2"
                list.append(copy)
            }
            list = Array(list.prefix(count))
        }
        if let rateHz {
            for i in list.indices { list[i].rateHz = rateHz }
        }
        return list
    }

    /// The channel id without the `_2` of a duplicate.
    public static func baseID(_ id: String) -> String {
        id.hasSuffix("_2") ? String(id.dropLast(2)) : id
    }

    /// The pipeline configuration: default detection settings and the four-compound
    /// test library.
    public static func configuration(channels: [ChannelSpec]) -> PipelineConfiguration {
        PipelineConfiguration(channels: channels, detection: DetectionSettings(), library: Fixtures.miniLibrary())
    }

    /// Builds a pipeline for `channels`.
    /// - Throws: ``PipelineError`` when the configuration is invalid (it is not).
    public static func pipeline(channels: [ChannelSpec]) throws(PipelineError) -> Pipeline {
        try Pipeline(configuration: configuration(channels: channels))
    }
}
