import ArgumentParser
import SnuffelBenchSupport
import SnuffelCore

/// Latency of one time step (one sample per channel, same time) fed on its own.
struct Latency: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time process(UnsafeBufferPointer<Sample>) on one time step at a time, after warm-up.",
        discussion: """
            The pipeline first takes 600 s of quiet stream (warm-up, noise learnt). Then each \
            step's samples are written (not timed) and one call processes them; every call is \
            timed with clock_gettime(CLOCK_MONOTONIC), whose own cost (printed) is included. \
            'hot' runs the steps back to back; 'cold' first walks a 4 MiB buffer, which \
            evicts the pipeline's state from L1 and L2 as a real 10 Hz loop's other work would.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Timed steps per channel count (hot); a tenth of that cold.")
    var steps: Int = 300_000

    func validate() throws {
        guard steps >= 1000 else { throw ValidationError("--steps must be at least 1000 for a p99") }
    }

    func run() throws {
        let results = ResultsFile(path: common.resultsPath)
        let overhead = timerOverhead()
        print("Latency of one time step (all channels at one time), ns; timer cost \(overhead) ns included:")
        print("  channels  cache     steps      p50      p90      p99    p99.9      max")
        results.record("timer_overhead_ns", Double(overhead))
        for count in BenchPayload.channelCounts {
            for cold in [false, true] {
                let n = cold ? steps / 10 : steps
                let sorted = try measure(channels: count, steps: n, cold: cold)
                let name = cold ? "cold" : "hot"
                print("  " + padded(String(count), 8) + "  " + padded(name, 5, left: true) + padded(String(n), 10)
                      + [50, 90, 99, 99.9, 100].map { padded(String(percentile(sorted, $0)), 9) }.joined())
                for (label, p) in [("p50", 50.0), ("p99", 99.0), ("p999", 99.9), ("max", 100.0)] {
                    results.record("swift_latency_\(count)_\(name)_\(label)_ns", Double(percentile(sorted, p)))
                }
            }
        }
    }

    /// The median cost of one pair of clock readings.
    func timerOverhead() -> UInt64 {
        var d: [UInt64] = []
        d.reserveCapacity(100_000)
        for _ in 0..<100_000 {
            let a = nanoseconds()
            let b = nanoseconds()
            d.append(b - a)
        }
        d.sort()
        return percentile(d, 50)
    }

    func measure(channels count: Int, steps: Int, cold: Bool) throws -> [UInt64] {
        let channels = BenchPayload.channels(count: count)
        let pipeline = try BenchPayload.pipeline(channels: channels)
        var source = QuietSource(channels: channels, seed: 31 &+ UInt64(count))
        let warmup = source.samples(steps: 6000)
        warmup.withUnsafeBufferPointer { pipeline.process($0) }

        let step = UnsafeMutableBufferPointer<Sample>.allocate(capacity: count)
        defer { step.deallocate() }
        let evict = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4 << 20)
        defer { evict.deallocate() }
        evict.initialize(repeating: 1)
        var sink: UInt8 = 0
        var durations: [UInt64] = []
        durations.reserveCapacity(steps)
        for _ in 0..<steps {
            source.fill(step)
            if cold {
                var i = 0
                while i < evict.count {
                    evict[i] &+= 1
                    sink &+= evict[i]
                    i += 64
                }
            }
            let t0 = nanoseconds()
            pipeline.process(UnsafeBufferPointer(step))
            let t1 = nanoseconds()
            durations.append(t1 - t0)
        }
        keep(sink)
        if pipeline.health.accepted != 6000 * count + steps * count {
            throw ValidationError("the pipeline rejected samples: \(pipeline.health)")
        }
        durations.sort()
        return durations
    }
}
