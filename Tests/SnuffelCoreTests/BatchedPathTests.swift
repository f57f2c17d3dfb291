import Testing
import SnuffelCore
import SnuffelSim
import SnuffelTestSupport

/// The reference payload with every channel at one rate, so that each time step is a
/// whole round (every channel once, in channel order); with `twice`, its gas channels
/// again after the nine (16 channels: two SIMD vectors of gas channels, with the
/// temperature and humidity channels between them).
private func synchronousChannels(rateHz: Double = 10, twice: Bool = false) -> [ChannelSpec] {
    var channels = Fixtures.referenceChannels().map { c -> ChannelSpec in
        var c = c
        c.rateHz = rateHz
        return c
    }
    if twice {
        for c in Fixtures.referenceChannels() where c.kind.isGas {
            var copy = c
            copy.id += "_2"
            copy.rateHz = rateHz
            copy.delaySeconds += 0.3
            channels.append(copy)
        }
    }
    return channels
}

/// Fifteen minutes with plumes of each class, drift, a humidity step and noise on every
/// channel, temperature and humidity included.
private func synchronousStream(_ channels: [ChannelSpec], seed: UInt64, drops: Double = 0) -> [Sample] {
    let lib = Fixtures.miniLibrary()
    var world = SyntheticWorld()
    world.noise = Fixtures.referenceNoise
    for c in channels where c.id.hasSuffix("_2") { world.noise[c.id] = Fixtures.referenceNoise[String(c.id.dropLast(2))] }
    world.noise["temp"] = 0.05
    world.noise["rh"] = 0.3
    world.drift = ["voc_raw": 2e-4, "gas_r": -1e-4, "pid": 0.01]
    world.humidityCoefficient = ["voc_raw": 0.01, "gas_r": 0.02]
    world.humidityStep = 15
    world.humidityStepAt = 500
    world.dropProbability = drops
    let events = [
        SyntheticEvent.ofClass("lab", in: lib, totalPPM: 0.5, start: 120, duration: 15),
        SyntheticEvent.ofClass("manure", in: lib, totalPPM: 3, start: 300, duration: 20),
        SyntheticEvent.ofClass("exhaust", in: lib, totalPPM: 8, start: 700, duration: 10),
    ].compactMap { $0 }
    return SyntheticStream(channels: channels, library: lib, events: events, world: world, duration: 900)
        .samples(seed: seed)
}

/// Two snapshots are the same bit for bit (NaN included).
private func identical(_ a: ChannelSnapshot?, _ b: ChannelSnapshot?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a.time == b.time && a.physical.bitPattern == b.physical.bitPattern
        && a.baseline.bitPattern == b.baseline.bitPattern && a.excess.bitPattern == b.excess.bitPattern
        && a.recovered.bitPattern == b.recovered.bitPattern && a.noise.bitPattern == b.noise.bitPattern
        && a.sigma.bitPattern == b.sigma.bitPattern && a.inHit == b.inHit && a.gasIndex == b.gasIndex
        && a.stale == b.stale
}

/// Feeds `samples` one by one to one pipeline and in random chunks (the batched path) to
/// another, comparing every channel's state after every chunk.
/// - Returns: the two pipelines, finished.
private func compare(_ samples: [Sample], channels: [ChannelSpec], seed: UInt64,
                     maxChunk: Int = 900) throws -> (single: Pipeline, batched: Pipeline, mismatches: Int, first: String?) {
    let configuration = PipelineConfiguration(channels: channels, library: Fixtures.miniLibrary())
    let single = try Pipeline(configuration: configuration)
    let batched = try Pipeline(configuration: configuration)
    var rng = SeededGenerator(seed: seed)
    var i = 0
    var mismatches = 0
    var first: String?
    while i < samples.count {
        let n = min(samples.count - i, 1 + Int(rng.next() % UInt64(maxChunk)))
        for s in samples[i..<(i + n)] { single.process(s) }
        samples[i..<(i + n)].withUnsafeBufferPointer { batched.process($0) }
        i += n
        for c in channels.indices where !identical(single.snapshot(channel: c), batched.snapshot(channel: c)) {
            mismatches += 1
            if first == nil {
                first = "channel \(c) after sample \(i): \(String(describing: single.snapshot(channel: c))) "
                    + "vs \(String(describing: batched.snapshot(channel: c)))"
            }
        }
    }
    single.finish()
    batched.finish()
    return (single, batched, mismatches, first)
}

@Suite("The batched path (whole time steps side by side) gives the per-sample path's results bit for bit")
struct BatchedPathTests {
    @Test("9 and 16 channels, plumes, drift, a humidity step: same state after every chunk, same detections",
          arguments: [(false, 1), (true, 2), (false, 3), (true, 4)] as [(Bool, UInt64)])
    func sameAsPerSample(twice: Bool, seed: UInt64) throws {
        let channels = synchronousChannels(twice: twice)
        let samples = synchronousStream(channels, seed: seed)
        let (single, batched, mismatches, first) = try compare(samples, channels: channels, seed: seed)
        #expect(mismatches == 0, "\(first ?? "")")
        let detections = single.drainDetections()
        #expect(detections.count >= 3)
        let batchedDetections = batched.drainDetections()
        #expect(detections.count == batchedDetections.count)
        let same = detections == batchedDetections
        #expect(same, "the detections differ")
        #expect(single.health == batched.health)
        // The batched path did the bulk of the work; the per-sample API never takes it.
        let steps = samples.count / channels.count
        #expect(batched.batchedSteps > steps / 2, "\(batched.batchedSteps) of \(steps) steps batched")
        #expect(single.batchedSteps == 0)
    }

    @Test("bad and irregular input inside whole steps: rejected values, a gap, a duplicate, jitter, a swapped pair")
    func disturbances() throws {
        let channels = synchronousChannels(twice: true)
        var samples = synchronousStream(channels, seed: 11)
        var rng = SeededGenerator(seed: 12)
        let n = channels.count
        var k = 700 * n  // past warm-up
        while k + 2 * n < samples.count {
            let c = Int(rng.next() % UInt64(n))
            switch rng.next() % 6 {
            case 0: samples[k + c].value = .nan
            case 1: samples[k + c].value = 1e12  // out of every channel's range
            case 2: samples[k + c].time += 1  // jitter: the interval changes twice
            case 3: samples.insert(samples[k + c], at: k + c + 1)  // a duplicate
            case 4: samples.swapAt(k + c, k + (c + 1) % n)  // out of channel order (and maybe of time)
            default: samples[k + c].value = -samples[k + c].value  // a spike, or out of range
            }
            k += n * (1 + Int(rng.next() % 40))
        }
        // A gap on one channel longer than stale_after_s.
        let gapStart = samples[0].time + 400_000_000
        samples.removeAll { $0.channel == 3 && $0.time >= gapStart && $0.time < gapStart + 15_000_000 }
        let (single, batched, mismatches, first) = try compare(samples, channels: channels, seed: 13, maxChunk: 300)
        #expect(mismatches == 0, "\(first ?? "")")
        let same = single.drainDetections() == batched.drainDetections()
        #expect(same, "the detections differ")
        #expect(single.health == batched.health)
        #expect(single.health.rejected > 20)
        #expect(single.health.gaps >= 1)
        #expect(batched.batchedSteps > samples.count / n / 2)
    }

    @Test("channels declared far slower than they deliver: the history rings wrap several times within a batch")
    func ringsWrap() throws {
        let channels = synchronousChannels(twice: true)
        let samples = synchronousStream(channels, seed: 31)
        // 0.05 Hz declared: rings of a few dozen entries, fed at 10 Hz.
        let declared = channels.map { c -> ChannelSpec in
            var c = c
            c.rateHz = 0.05
            return c
        }
        let (single, batched, mismatches, first) = try compare(samples, channels: declared, seed: 32)
        #expect(mismatches == 0, "\(first ?? "")")
        let detections = single.drainDetections()
        #expect(!detections.isEmpty)
        let same = detections == batched.drainDetections()
        #expect(same, "the detections differ")
        #expect(single.health == batched.health)
        #expect(single.health.historyOverruns > 0)
        #expect(batched.batchedSteps > samples.count / channels.count / 2)
    }

    @Test("hostile input in whole steps: unknown channels, extreme times and values, at a high rate",
          arguments: [41, 42, 43] as [UInt64])
    func hostile(seed: UInt64) throws {
        let channels = synchronousChannels(twice: true)
        var samples = synchronousStream(channels, seed: seed)
        var rng = SeededGenerator(seed: seed &+ 100)
        let n = channels.count
        // One step in fifty past warm-up gets one corrupted sample.
        var k = 400 * n
        while k < samples.count {
            let i = k + Int(rng.next() % UInt64(n))
            switch rng.next() % 8 {
            case 0: samples[i].channel = UInt16(n + Int(rng.next() % 4))  // no such channel
            case 1: samples[i].time = 0
            case 2: samples[i].time = .max
            case 3: samples[i].value = .infinity
            case 4: samples[i].value = -.infinity
            case 5: samples[i].value = .greatestFiniteMagnitude
            case 6: samples[i].value = .leastNonzeroMagnitude
            default: samples[i].time &+= UInt64(rng.next() % 20_000_000)  // a jump ahead, maybe past stale_after_s
            }
            k += n * (1 + Int(rng.next() % 100))
        }
        let (single, batched, mismatches, first) = try compare(samples, channels: channels, seed: seed &+ 200)
        #expect(mismatches == 0, "\(first ?? "")")
        let same = single.drainDetections() == batched.drainDetections()
        #expect(same, "the detections differ")
        #expect(single.health == batched.health)
        #expect(single.health.rejected > 0)
        #expect(batched.batchedSteps > 0)
    }

    @Test("dropped samples break steps apart; what is left of them still agrees")
    func drops() throws {
        let channels = synchronousChannels()
        let samples = synchronousStream(channels, seed: 21, drops: 0.002)
        let (single, batched, mismatches, first) = try compare(samples, channels: channels, seed: 22)
        #expect(mismatches == 0, "\(first ?? "")")
        let same = single.drainDetections() == batched.drainDetections()
        #expect(same, "the detections differ")
        #expect(single.health == batched.health)
        #expect(batched.batchedSteps > 0)
    }
}
