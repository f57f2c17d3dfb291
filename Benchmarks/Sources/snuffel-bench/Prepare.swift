import ArgumentParser
import Foundation
import SnuffelBenchSupport
import SnuffelCore
import SnuffelSim
import SnuffelTestSupport

/// Writes the inputs shared with the NumPy/SciPy reference and the Sensirion C harness.
struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the quiet streams, their channel configurations, Snuffel's smoothed excess on them, and an SRAW_VOC series.",
        discussion: """
            Files in DIR: stream8.f64 and stream16.f64 (float64 triples: channel, time µs, raw \
            value), channels8.json and channels16.json (channels and detection settings), \
            excess16.f64 (Snuffel's smoothed excess after each sample of stream16, NaN for \
            temperature and humidity samples), sraw_voc.i32 (int32 SRAW_VOC ticks at 1 Hz).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Seconds of quiet stream at 10 Hz per channel.")
    var duration: Double = 20_000

    @Option(help: "Samples of the SRAW_VOC series (one per second).")
    var srawCount: Int = 2_000_000

    func validate() throws {
        guard duration >= 600 else { throw ValidationError("--duration must be at least 600 s (warm-up and baseline need it)") }
        guard srawCount >= 100 else { throw ValidationError("--sraw-count must be at least 100") }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: common.dir, withIntermediateDirectories: true)
        let steps = Int(duration * BenchPayload.commonRateHz)
        for count in BenchPayload.channelCounts {
            let channels = BenchPayload.channels(count: count)
            var source = QuietSource(channels: channels, seed: 20_261_125 &+ UInt64(count))
            let samples = source.samples(steps: steps)
            try StreamFile.write(samples, to: "\(common.dir)/stream\(count).f64")
            try writeJSON(channels: channels, to: "\(common.dir)/channels\(count).json")
            if count == 16 {
                try writeArray(try excess(samples, channels: channels), to: "\(common.dir)/excess16.f64")
            }
            print("prepare: stream\(count).f64 \(samples.count) samples (\(count) channels × \(steps) steps at \(Int(BenchPayload.commonRateHz)) Hz)")
        }
        try writeArray(srawVOC(count: srawCount, seed: 7), to: "\(common.dir)/sraw_voc.i32")
        print("prepare: sraw_voc.i32 \(srawCount) values")
    }

    /// Snuffel's smoothed excess (`ChannelSnapshot.excess`) after each sample.
    func excess(_ samples: [Sample], channels: [ChannelSpec]) throws -> [Double] {
        let pipeline = try BenchPayload.pipeline(channels: channels)
        var out: [Double] = []
        out.reserveCapacity(samples.count)
        for s in samples {
            pipeline.process(s)
            let c = Int(s.channel)
            out.append(channels[c].kind.isGas ? pipeline.snapshot(channel: c)?.excess ?? .nan : .nan)
        }
        return out
    }

    /// An SGP41 SRAW_VOC series: a slowly wandering baseline near 28 000 ticks, noise of
    /// about 10 ticks, and a plume (a dip of 500–3000 ticks over ten minutes) every two hours.
    func srawVOC(count: Int, seed: UInt64) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        var out: [Int32] = []
        out.reserveCapacity(count)
        var wander = 0.0
        var dip = 0.0
        var eventLeft = 0
        for i in 0..<count {
            wander += 0.5 * rng.gaussian() - wander / 3600
            if i % 7200 == 3600 {
                eventLeft = 600
                dip = 500 + 2500 * rng.uniform()
            }
            var v = 28_000 + wander + 10 * rng.gaussian()
            if eventLeft > 0 {
                let phase = Double(600 - eventLeft) / 600
                v -= dip * 4 * phase * (1 - phase)
                eventLeft -= 1
            }
            out.append(Int32(max(0, min(65535, v.rounded()))))
        }
        return out
    }

    /// The configuration the reference needs, as JSON.
    func writeJSON(channels: [ChannelSpec], to path: String) throws {
        let s = DetectionSettings()
        let list: [[String: Any]] = channels.map { c in
            let cal = c.calibration
            return [
                "id": c.id, "kind": c.kind.rawValue, "rate_hz": c.rateHz, "delay_s": c.delaySeconds,
                "rise_tau_s": c.riseTauSeconds, "decay_tau_s": c.decayTauSeconds,
                "valid_min": c.validMin, "valid_max": c.validMax,
                "offset": cal.offset, "gain": cal.gain, "temp_coeff": cal.temperatureCoefficient,
                "humidity_coeff": cal.humidityCoefficient, "ref_temp_c": cal.referenceTemperature,
                "ref_abs_humidity": cal.referenceAbsoluteHumidity, "mox_exponent": cal.moxExponent,
                "noise_floor": cal.noiseFloor,
            ]
        }
        let detection: [String: Any] = [
            "warmup_s": s.warmupSeconds, "baseline_tau_s": s.baselineTauSeconds,
            "baseline_down_tau_s": s.baselineDownTauSeconds, "smoothing_tau_s": s.smoothingTauSeconds,
            "recovery_speedup": s.recoverySpeedup, "noise_tau_s": s.noiseTauSeconds, "hit_on_sigma": s.hitOnSigma,
            "hit_off_sigma": s.hitOffSigma, "hit_min_duration_s": s.hitMinDurationSeconds,
            "hit_release_s": s.hitReleaseSeconds, "min_channels": s.minChannels,
            "single_channel_sigma": s.singleChannelSigma, "coincidence_s": s.coincidenceSeconds,
            "event_gap_s": s.eventGapSeconds, "event_pre_s": s.eventPreSeconds, "event_post_s": s.eventPostSeconds,
            "max_event_s": s.maxEventSeconds, "stale_after_s": s.staleAfterSeconds,
        ]
        let object: [String: Any] = ["channels": list, "detection": detection]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }
}
