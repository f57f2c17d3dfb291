import SnuffelCore
import SnuffelTestSupport

/// A stream with plumes: the reference payload's channels at their configured rates (or
/// the given ones), reference noise, and a crossing every `every` seconds that cycles
/// through the test library's classes (the lab, then the two confounders).
public enum EventStream {
    /// - Parameters:
    ///   - channels: the payload.
    ///   - duration: seconds of stream.
    ///   - every: seconds between the starts of two crossings; the first starts after
    ///     twice the warm-up.
    ///   - seed: the random seed.
    /// - Returns: the samples in time order.
    public static func samples(channels: [ChannelSpec], duration: Double, every: Double = 120,
                               seed: UInt64) -> [Sample] {
        let library = Fixtures.miniLibrary()
        let classes = ["lab", "manure", "exhaust"]
        var events: [SyntheticEvent] = []
        var start = 60.0
        var k = 0
        while start + 30 < duration {
            if let e = SyntheticEvent.ofClass(classes[k % classes.count], in: library, totalPPM: 2 + Double(k % 4),
                                              start: start, duration: 20, puffs: 3) {
                events.append(e)
            }
            start += every
            k += 1
        }
        var world = SyntheticWorld()
        for c in channels { world.noise[c.id] = Fixtures.referenceNoise[BenchPayload.baseID(c.id)] ?? 0 }
        return SyntheticStream(channels: channels, library: library, events: events, world: world,
                               duration: duration).samples(seed: seed)
    }
}
