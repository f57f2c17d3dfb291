import ArgumentParser
import SnuffelBenchSupport
import SnuffelCore

/// Full-pipeline throughput over the shared quiet streams, and over a stream with plumes.
struct Throughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the whole pipeline over stream8.f64 and stream16.f64 (one core, median of runs).",
        discussion: """
            Each run builds a new pipeline (not timed), feeds the whole stream with \
            process(UnsafeBufferPointer<Sample>) and calls finish(). The first run warms \
            caches and is discarded. The last column is the share of time steps that took \
            the batched path (Pipeline.batchedSteps). Also times a 16-channel stream with a plume crossing \
            every two minutes (events classified and queued), which the reference does not run.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Timed runs per stream (the median is reported).")
    var runs: Int = 21

    @Flag(inversion: .prefixedNo, help: "Also time the 16-channel stream with plumes.")
    var plumes = true

    @Option(help: "Prefix of the result keys (scripts/bench uses swift, and swift_native for the build tuned to this CPU).")
    var tag = "swift"

    @Option(help: "What the build is, for the heading.")
    var build = "release"

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let results = ResultsFile(path: common.resultsPath)
        print("Snuffel full pipeline (\(build) build), one core, \(runs) runs per stream (median, best):")
        print("  stream                       samples   median ms    best ms   M samples/s   ns/sample    batched")
        for count in BenchPayload.channelCounts {
            let samples = try StreamFile.read("\(common.dir)/stream\(count).f64")
            let channels = BenchPayload.channels(count: count)
            let r = try time(samples, channels: channels)
            report("quiet, \(count) ch @ 10 Hz", r, count: samples.count)
            results.record("\(tag)_tput_\(count)_median_s", r.median)
            results.record("\(tag)_tput_\(count)_best_s", r.best)
            results.record("\(tag)_tput_\(count)_samples", Double(samples.count))
            results.record("\(tag)_tput_\(count)_batched", r.batched)
        }
        guard plumes else { return }
        let channels = BenchPayload.channels(count: 16)
        let samples = EventStream.samples(channels: channels, duration: 3600, every: 120, seed: 99)
        let r = try time(samples, channels: channels)
        report("plumes, 16 ch @ 10 Hz", r, count: samples.count)
        print("  (plume stream: \(r.detections) detections per run)")
        results.record("\(tag)_tput_events16_median_s", r.median)
        results.record("\(tag)_tput_events16_samples", Double(samples.count))
        results.record("\(tag)_tput_events16_detections", Double(r.detections))
    }

    struct Timing {
        var median: Double
        var best: Double
        var detections: Int
        /// Share of the time steps that went through the batched path.
        var batched: Double
    }

    func time(_ samples: [Sample], channels: [ChannelSpec]) throws -> Timing {
        var seconds: [Double] = []
        var detections = 0
        var batched = 0.0
        for run in 0...runs {
            let pipeline = try BenchPayload.pipeline(channels: channels)
            let t0 = nanoseconds()
            samples.withUnsafeBufferPointer { pipeline.process($0) }
            pipeline.finish()
            let t1 = nanoseconds()
            if pipeline.health.accepted != samples.count {
                throw ValidationError("the pipeline rejected samples: \(pipeline.health)")
            }
            detections = pipeline.pendingDetections
            batched = Double(pipeline.batchedSteps * channels.count) / Double(max(1, samples.count))
            keep(pipeline)
            if run > 0 { seconds.append(Double(t1 - t0) * 1e-9) }
        }
        return Timing(median: seconds.median, best: seconds.min() ?? .nan, detections: detections, batched: batched)
    }

    func report(_ name: String, _ r: Timing, count: Int) {
        let rate = Double(count) / r.median / 1e6
        print("  " + padded(name, 24, left: true) + padded(String(count), 12) + padded(fixed(r.median * 1e3, 2), 12)
              + padded(fixed(r.best * 1e3, 2), 11) + padded(fixed(rate, 1), 14)
              + padded(fixed(r.median * 1e9 / Double(count), 2), 12) + padded(fixed(r.batched * 100, 1) + " %", 11))
    }
}
