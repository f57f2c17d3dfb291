import SnuffelCore
import SnuffelSim
import SnuffelTestSupport

/// An endless quiet stream: white noise on every channel (the reference noise of
/// `Fixtures.referenceNoise`), drift on the gas channels (a triangle wave of ±20 noise σ
/// and a period of two hours, so a steady ramp of about one σ per 90 s that turns back
/// before it leaves the channel's valid range) and slow triangle waves of temperature
/// and humidity, one sample per channel per time step at a common
/// rate, interleaved in channel order.
///
/// ``fill(_:)`` writes the next time steps into a buffer the caller owns and allocates
/// nothing, so it can run between the measured windows of an allocation benchmark.
public struct QuietSource {
    public let channels: [ChannelSpec]
    public let periodUs: UInt64
    public let startTime: UInt64
    /// The next time step to write.
    public private(set) var step = 0
    private var rng: SeededGenerator
    private let noise: [Double]
    private let drift: [Double]
    private let driftPeriod: [Double]

    /// - Parameters:
    ///   - channels: the payload; all channels are sampled at `rateHz`.
    ///   - rateHz: the common rate.
    ///   - seed: the random seed; the same seed gives the same stream.
    ///   - startTime: time of the first step, µs.
    public init(channels: [ChannelSpec], rateHz: Double = BenchPayload.commonRateHz, seed: UInt64,
                startTime: UInt64 = 1_700_000_000_000_000) {
        self.channels = channels
        periodUs = UInt64((1e6 / rateHz).rounded())
        self.startTime = startTime
        rng = SeededGenerator(seed: seed)
        noise = channels.map { Fixtures.referenceNoise[BenchPayload.baseID($0.id)] ?? 0 }
        // Amplitude 20 σ, alternating in sign, periods slightly different per channel: a
        // baseline without a trend term would lag behind the ramps.
        drift = channels.enumerated().map { i, c in
            c.kind.isGas ? (i % 2 == 0 ? 20.0 : -20.0) * (Fixtures.referenceNoise[BenchPayload.baseID(c.id)] ?? 0) : 0
        }
        driftPeriod = channels.indices.map { 7200 + 150 * Double($0) }
    }

    /// A triangle wave of period 1 and amplitude 1.
    @inline(__always)
    static func triangle(_ x: Double) -> Double {
        let f = x - x.rounded(.down)
        return 4 * abs(f - 0.5) - 1
    }

    /// Writes the next `buffer.count / channels.count` time steps (whole steps only).
    /// - Returns: the number of samples written.
    /// - Complexity: O(buffer.count).
    @discardableResult
    public mutating func fill(_ buffer: UnsafeMutableBufferPointer<Sample>) -> Int {
        let n = channels.count
        let steps = buffer.count / n
        var k = 0
        for _ in 0..<steps {
            let time = startTime + UInt64(step) * periodUs
            let seconds = Double(step) * Double(periodUs) * 1e-6
            for c in 0..<n {
                var physical: Double
                switch channels[c].kind {
                case .temperature: physical = 20 + 0.5 * QuietSource.triangle(seconds / 1800)
                case .humidity: physical = 50 + 5 * QuietSource.triangle(seconds / 1200)
                default: physical = drift[c] * QuietSource.triangle(seconds / driftPeriod[c] + 0.25)
                }
                physical += noise[c] * rng.gaussian()
                let raw = SyntheticStream.raw(fromPhysical: physical, channel: channels[c])
                buffer[k] = Sample(channel: UInt16(c), time: time, value: raw)
                k += 1
            }
            step += 1
        }
        return k
    }

    /// The next `steps` time steps as an array.
    public mutating func samples(steps: Int) -> [Sample] {
        [Sample](unsafeUninitializedCapacity: steps * channels.count) { buffer, count in
            count = fill(buffer)
        }
    }
}
