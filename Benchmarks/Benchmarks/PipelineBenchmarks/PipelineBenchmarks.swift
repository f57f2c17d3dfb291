import Benchmark
import SnuffelBenchSupport
import SnuffelCore

// Allocations and latency of the pipeline in steady state, under ordo-one/benchmark's
// malloc interposer.
//
// Every benchmark builds its pipeline and warms it up (600 s of stream: warm-up, noise and
// baseline learnt) in its setup. Each iteration then writes the next stretch of stream into
// a preallocated buffer, and only `process` is measured (between startMeasurement and
// stopMeasurement); detections are popped after stopMeasurement, since `popDetection`
// copies the detection out (an allocation on the caller's side, by design).
//
// The `...Steady` and `...Step` benchmarks are gated at zero allocations (thresholds here
// and in Thresholds/*.p90.json; `swift package benchmark thresholds check`). Two more are
// reported, not gated: `Plumes16Drain` calls `drainDetections()` inside the measured
// window (it returns a new array, so its allocations show that the counter counts), and
// `Plumes16Retain` keeps every popped detection, as a consumer that lists them would.

/// The pipeline, its input and a buffer, shared by a benchmark's setup and iterations.
final class Feed {
    let pipeline: Pipeline
    let buffer: UnsafeMutableBufferPointer<Sample>
    var quiet: QuietSource?
    var recorded: [Sample] = []
    var position = 0
    var detections = 0
    /// Popped detections, kept when `retain` is set (as a consumer that lists them would).
    var retain = false
    var kept: [Detection] = []

    /// A quiet stream (noise, drift, temperature and humidity waves) of `count` channels.
    init(quietChannels count: Int, stepsPerIteration: Int) throws {
        let channels = BenchPayload.channels(count: count)
        pipeline = try BenchPayload.pipeline(channels: channels)
        quiet = QuietSource(channels: channels, seed: 1234 &+ UInt64(count))
        buffer = .allocate(capacity: stepsPerIteration * count)
        let warmup = quiet!.samples(steps: 6000)
        warmup.withUnsafeBufferPointer { pipeline.process($0) }
    }

    /// A stream with a plume crossing every minute.
    init(plumeChannels count: Int, samplesPerIteration: Int, seconds: Double) throws {
        let channels = BenchPayload.channels(count: count)
        pipeline = try BenchPayload.pipeline(channels: channels)
        recorded = EventStream.samples(channels: channels, duration: seconds, every: 60, seed: 4321)
        buffer = .allocate(capacity: samplesPerIteration)
        let warmupEnd = recorded.firstIndex { $0.time >= recorded[0].time + 600_000_000 } ?? 0
        recorded.withUnsafeBufferPointer { pipeline.process(UnsafeBufferPointer(rebasing: $0[..<warmupEnd])) }
        position = warmupEnd
        drain()
    }

    deinit { buffer.deallocate() }

    /// Writes the next stretch of input into the buffer; returns its length.
    func next() -> Int {
        if quiet != nil { return quiet!.fill(buffer) }
        let n = min(buffer.count, recorded.count - position)
        for i in 0..<n { buffer[i] = recorded[position + i] }
        position += n
        return n
    }

    func drain() {
        while let d = pipeline.popDetection() {
            detections += 1
            if retain { kept.append(d) }
        }
    }
}

/// One measured iteration: fill, process (measured), pop detections (after the measured
/// window; with `drainInside`, `drainDetections()` inside it).
func iterate(_ benchmark: Benchmark, _ feed: Feed?, drainInside: Bool = false) {
    guard let feed else { return benchmark.error("setup failed") }
    let n = feed.next()
    guard n > 0 else { return benchmark.error("the recorded stream ran out; lower maxIterations") }
    let input = UnsafeBufferPointer(rebasing: feed.buffer[..<n])
    benchmark.startMeasurement()
    feed.pipeline.process(input)
    if drainInside { feed.detections += feed.pipeline.drainDetections().count }
    benchmark.stopMeasurement()
    feed.drain()
}

let benchmarks: @Sendable () -> Void = {
    let zeroAllocations: [BenchmarkMetric: BenchmarkThresholds] = [.mallocCountTotal: .init(absolute: [.p90: 0])]
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .throughput]

    // 16 channels, 100 time steps (1600 samples, 10 s of stream) per iteration.
    var quiet16: Feed?
    Benchmark(
        "Quiet16Steady",
        configuration: .init(metrics: metrics, warmupIterations: 5, scalingFactor: .one, maxDuration: .seconds(2),
                             maxIterations: 2000, thresholds: zeroAllocations),
        closure: { iterate($0, quiet16) },
        setup: { quiet16 = try Feed(quietChannels: 16, stepsPerIteration: 100) },
        teardown: { quiet16 = nil })

    // 8 channels, 100 time steps (800 samples) per iteration.
    var quiet8: Feed?
    Benchmark(
        "Quiet8Steady",
        configuration: .init(metrics: metrics, warmupIterations: 5, scalingFactor: .one, maxDuration: .seconds(2),
                             maxIterations: 2000, thresholds: zeroAllocations),
        closure: { iterate($0, quiet8) },
        setup: { quiet8 = try Feed(quietChannels: 8, stepsPerIteration: 100) },
        teardown: { quiet8 = nil })

    // One time step (16 samples, one per channel at the same time) per iteration: the
    // wall clock percentiles are the per-step latency, plus the harness's own overhead.
    var step16: Feed?
    Benchmark(
        "Quiet16Step",
        configuration: .init(metrics: metrics, warmupIterations: 100, scalingFactor: .one, maxDuration: .seconds(2),
                             maxIterations: 100_000, thresholds: zeroAllocations),
        closure: { iterate($0, step16) },
        setup: { step16 = try Feed(quietChannels: 16, stepsPerIteration: 1) },
        teardown: { step16 = nil })

    // 16 channels with a plume crossing every minute (events open, close, are classified
    // and queued), 60 s of stream (9600 samples) per iteration, so that nearly every
    // iteration closes an event and the p90 gate sees an allocation at event close;
    // detections popped outside the measured window.
    var plumes16: Feed?
    Benchmark(
        "Plumes16Steady",
        configuration: .init(metrics: metrics, warmupIterations: 5, scalingFactor: .one, maxDuration: .seconds(3),
                             maxIterations: 90, thresholds: zeroAllocations),
        closure: { iterate($0, plumes16) },
        setup: { plumes16 = try Feed(plumeChannels: 16, samplesPerIteration: 9600, seconds: 600 + 60 * 100) },
        teardown: { plumes16 = nil })

    // The same with `drainDetections()` inside the measured window (not gated): it
    // returns a new array, so this must count allocations on iterations with a detection.
    var drain16: Feed?
    Benchmark(
        "Plumes16Drain",
        configuration: .init(metrics: metrics, warmupIterations: 5, scalingFactor: .one, maxDuration: .seconds(3),
                             maxIterations: 90),
        closure: { iterate($0, drain16, drainInside: true) },
        setup: { drain16 = try Feed(plumeChannels: 16, samplesPerIteration: 9600, seconds: 600 + 60 * 100) },
        teardown: { drain16 = nil })

    // The same, popping outside the window but keeping every detection (not gated): a
    // popped detection may share its arrays with the pipeline's queue slot, and then
    // the slot's reuse inside `process` would copy them.
    var retain16: Feed?
    Benchmark(
        "Plumes16Retain",
        configuration: .init(metrics: metrics, warmupIterations: 5, scalingFactor: .one, maxDuration: .seconds(3),
                             maxIterations: 90),
        closure: { iterate($0, retain16) },
        setup: {
            retain16 = try Feed(plumeChannels: 16, samplesPerIteration: 9600, seconds: 600 + 60 * 100)
            retain16?.retain = true
            retain16?.kept.reserveCapacity(1000)
        },
        teardown: { retain16 = nil })
}
