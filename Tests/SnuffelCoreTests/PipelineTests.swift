import Testing
import RealModule
import SnuffelCore
import SnuffelSim
import SnuffelTestSupport

/// A ten-minute reference stream with one plume of each fixture class.
func referenceStream(seed: UInt64 = 1) -> (SyntheticStream, [Sample]) {
    let lib = Fixtures.miniLibrary()
    var world = SyntheticWorld()
    world.noise = Fixtures.referenceNoise
    let events = [
        SyntheticEvent.ofClass("lab", in: lib, totalPPM: 0.5, start: 100, duration: 15),
        SyntheticEvent.ofClass("manure", in: lib, totalPPM: 3, start: 250, duration: 20),
        SyntheticEvent.ofClass("exhaust", in: lib, totalPPM: 8, start: 400, duration: 10),
    ].compactMap { $0 }
    let stream = SyntheticStream(channels: Fixtures.referenceChannels(), library: lib, events: events,
                                 world: world, duration: 600)
    return (stream, stream.samples(seed: seed))
}

func referencePipeline() throws -> Pipeline {
    try Pipeline(configuration: PipelineConfiguration(channels: Fixtures.referenceChannels(), library: Fixtures.miniLibrary()))
}

@Suite("Pipeline: chunking, determinism, fusion")
struct PipelineTests {
    @Test("the three plumes are found, classified, and placed in inlet time")
    func referenceFlight() throws {
        let (stream, samples) = referenceStream()
        let lib = Fixtures.miniLibrary()
        let p = try referencePipeline()
        p.process(samples)
        p.finish()
        let detections = p.drainDetections()
        #expect(detections.count == 3)
        let classes = detections.map { $0.signatureClass.map { lib.classes[$0].id } ?? "unknown" }
        #expect(classes == ["lab", "manure", "exhaust"])
        let onsets = detections.map { Double($0.onset - stream.startTime) / 1e6 }
        for (onset, truth) in zip(onsets, [100.0, 250, 400]) {
            #expect(onset > truth - 3 && onset < truth + 6, "onset \(onset) for a plume at \(truth)")
        }
        #expect(detections[0].isAlert)
        #expect(!detections[1].isAlert && detections[1].isConfounder)
        #expect(detections.map(\.sequence) == [0, 1, 2])
        for d in detections {
            #expect(d.onset <= d.peak && d.peak <= d.end)
            #expect(d.confidence >= 0 && d.confidence <= 1)
            #expect(d.scores.count == lib.classes.count)
        }
    }

    @Test("random chunkings give identical detections, health and state", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func chunkingInvariance(seed: UInt64) throws {
        let (_, samples) = referenceStream(seed: 7)
        let whole = try referencePipeline()
        samples.withUnsafeBufferPointer { whole.process($0) }
        whole.finish()

        let chunked = try referencePipeline()
        var rng = SeededGenerator(seed: seed)
        var i = 0
        while i < samples.count {
            let n = min(samples.count - i, 1 + Int(rng.next() % 700))
            if n == 1 {
                chunked.process(samples[i])
            } else {
                samples[i..<(i + n)].withUnsafeBufferPointer { chunked.process($0) }
            }
            i += n
            if rng.next() % 3 == 0 { _ = chunked.pendingDetections }  // reading between chunks changes nothing
        }
        chunked.finish()
        #expect(whole.drainDetections() == chunked.drainDetections())
        #expect(whole.health == chunked.health)
        for c in 0..<Fixtures.referenceChannels().count {
            #expect(whole.snapshot(channel: c) == chunked.snapshot(channel: c))
        }
    }

    @Test("two pipelines fed the same data agree exactly (determinism)")
    func determinism() throws {
        let (_, samples) = referenceStream(seed: 11)
        let a = try referencePipeline()
        let b = try referencePipeline()
        a.process(samples)
        b.process(samples)
        a.finish()
        b.finish()
        let da = a.drainDetections()
        #expect(!da.isEmpty)
        #expect(da == b.drainDetections())
    }

    @Test("channels with different delays are fused into one event at the inlet time")
    func fusionWithDelays() throws {
        // Two PID-like channels seeing the same air, one 0.5 s and one 6 s after the inlet.
        let channels = [
            ChannelSpec(id: "fast", kind: .pid, rateHz: 10, delaySeconds: 0.5, calibration: Calibration(noiseFloor: 0.01)),
            ChannelSpec(id: "slow", kind: .pid, rateHz: 10, delaySeconds: 6, calibration: Calibration(noiseFloor: 0.01)),
        ]
        var settings = DetectionSettings()
        settings.minChannels = 2
        settings.coincidenceSeconds = 2
        let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, detection: settings, library: Fixtures.miniLibrary()))
        var rng = SeededGenerator(seed: 4)
        let t0: UInt64 = 5_000_000_000
        for i in 0..<2000 {
            let t = Double(i) / 10
            for (c, spec) in channels.enumerated() {
                let inlet = t - spec.delaySeconds
                let plume = inlet >= 120 && inlet < 128 ? 8.0 : 0
                p.process(Sample(channel: UInt16(c), time: t0 + UInt64((t * 1e6).rounded()), value: plume + rng.gaussian()))
            }
        }
        p.finish()
        let detections = p.drainDetections()
        try #require(detections.count == 1)
        let onset = Double(detections[0].onset - t0) / 1e6
        #expect(onset.isApproximatelyEqual(to: 120, absoluteTolerance: 0.6), "onset \(onset)")
        #expect(detections[0].channels.allSatisfy { $0.hit })
    }

    @Test("a hit on one channel alone is not an event when min_channels is 2, unless it is very strong")
    func minChannels() throws {
        let channels = [
            ChannelSpec(id: "a", kind: .pid, rateHz: 10, calibration: Calibration(noiseFloor: 0.01)),
            ChannelSpec(id: "b", kind: .pid, rateHz: 10, calibration: Calibration(noiseFloor: 0.01)),
        ]
        let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, library: Fixtures.miniLibrary()))
        var rng = SeededGenerator(seed: 9)
        for i in 0..<3000 {
            let t = Double(i) / 10
            // One channel, above hit_on_sigma only: the smoothed noise is about 0.25 raw σ,
            // so 1.5 raw σ is about 6 σ.
            let weak = t >= 100 && t < 110 ? 1.5 : 0
            let strong = t >= 200 && t < 210 ? 40.0 : 0  // one channel, above single_channel_sigma
            p.process(Sample(channel: 0, time: UInt64(i) * 100_000 + 1, value: weak + strong + rng.gaussian()))
            p.process(Sample(channel: 1, time: UInt64(i) * 100_000 + 2, value: rng.gaussian()))
        }
        p.finish()
        let detections = p.drainDetections()
        #expect(detections.count == 1)
        #expect(p.health.unconfirmedHits == 1)
        if let d = detections.first { #expect(Double(d.onset) / 1e6 > 199 && Double(d.onset) / 1e6 < 201) }
    }

    @Test("the SGP41 channels carry Sensirion's gas index, decimated to gas_index_interval_s")
    func gasIndexIntegration() throws {
        let (stream, samples) = referenceStream()
        let p = try referencePipeline()
        var reference = GasIndexAlgorithm(kind: .voc)
        var expected: Int32 = 0
        for s in samples {
            p.process(s)
            if s.channel == 0 { expected = reference.process(sraw: Int32(s.value.rounded())) }
        }
        // The VOC channel runs at 1 Hz, the decimation interval: every sample is indexed.
        #expect(p.snapshot(channel: 0)?.gasIndex == expected)
        #expect(expected > 0)
        #expect(p.snapshot(channel: 3)?.gasIndex == nil)
        _ = stream
    }
}

@Suite("Bad input is counted, never crashes, never makes a silent wrong detection")
struct BadInputTests {
    @Test("NaN, infinities, unknown channels, duplicates, out-of-order and out-of-range values are rejected and counted")
    func rejectedAndCounted() throws {
        let spec = ChannelSpec(id: "pid", kind: .pid, rateHz: 10, validMin: -10, validMax: 1000, calibration: Calibration(noiseFloor: 0.5))
        var settings = DetectionSettings()
        settings.minChannels = 1
        let p = try Pipeline(configuration: PipelineConfiguration(channels: [spec], detection: settings, library: Fixtures.miniLibrary()))
        p.process(Sample(channel: 0, time: 1_000_000, value: 1))
        p.process(Sample(channel: 0, time: 2_000_000, value: .nan))
        p.process(Sample(channel: 0, time: 2_000_000, value: .infinity))
        p.process(Sample(channel: 0, time: 2_000_000, value: -.infinity))
        p.process(Sample(channel: 3, time: 2_000_000, value: 1))
        p.process(Sample(channel: 0, time: 1_000_000, value: 1))   // duplicate
        p.process(Sample(channel: 0, time: 500_000, value: 1))     // out of order
        p.process(Sample(channel: 0, time: 3_000_000, value: 5000)) // out of range
        p.process(Sample(channel: 0, time: 2_500_000, value: 1))   // earlier than the rejected one: out of order
        p.process(Sample(channel: 0, time: 4_000_000, value: 2))
        let h = p.health
        #expect(h.accepted == 2)
        #expect(h.nonFinite == 3)
        #expect(h.unknownChannel == 1)
        #expect(h.duplicate == 1)
        #expect(h.outOfOrder == 2)
        #expect(h.outOfRange == 1)
        #expect(h.rejected == 8)
        #expect(p.snapshot(channel: 0)?.physical == 2)
        #expect(p.snapshot(channel: 7) == nil)
    }

    @Test("a stream of garbage never crashes and never detects")
    func garbage() throws {
        let p = try referencePipeline()
        var rng = SeededGenerator(seed: 99)
        let specials: [Double] = [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                  .leastNonzeroMagnitude, 0, -0.0, 1e308, -1e-308]
        for _ in 0..<200_000 {
            let value = rng.next() % 4 == 0 ? specials[Int(rng.next() % UInt64(specials.count))]
                : Double(bitPattern: rng.next())
            p.process(Sample(channel: UInt16(rng.next() % 12), time: rng.next() % 1_000_000_000, value: value))
        }
        p.finish()
        // Whatever got through was random: any detection must not be an alert of a lab class
        // with a confident fit.
        for d in p.drainDetections() {
            #expect(d.confidence.isFinite && d.confidence >= 0 && d.confidence <= 1)
            #expect(d.channels.allSatisfy { $0.area.isFinite || $0.area.isNaN == false })
        }
        #expect(p.health.rejected > 0)
    }

    @Test("a sample at time 0 and at UInt64.max does not trap")
    func extremeTimes() throws {
        let p = try referencePipeline()
        p.process(Sample(channel: 3, time: 0, value: 1))
        p.process(Sample(channel: 3, time: UInt64.max, value: 1))
        p.process(Sample(channel: 4, time: UInt64.max - 1, value: 1))
        p.process(Sample(channel: 4, time: UInt64.max, value: 1))
        p.finish()
        #expect(p.health.accepted == 4)
    }

    @Test("a jump to the end of time while an event is open closes it without trapping")
    func endOfTimeDuringEvent() throws {
        let (_, samples) = referenceStream(seed: 3)
        let p = try referencePipeline()
        // Up to the middle of the first plume (at 100 s), where an event is open.
        let start = samples[0].time
        for s in samples where s.time < start + 106_000_000 { p.process(s) }
        #expect(p.isEventOpen)
        // Every channel once more, at the last representable times, with a strong reading
        // on the PID (the event's window end would be past UInt64.max).
        for c in 0..<Fixtures.referenceChannels().count {
            p.process(Sample(channel: UInt16(c), time: .max - 1, value: c == 3 ? 5000 : 1))
        }
        p.process(Sample(channel: 3, time: .max, value: 5000))
        p.finish()
        #expect(!p.isEventOpen)
        #expect(p.pendingDetections >= 1)
    }

    @Test("a channel that stops reporting during a plume is left out of the fit, not read as zero")
    func channelStops() throws {
        let lib = Fixtures.miniLibrary()
        let channels = Fixtures.referenceChannels()
        let (stream, samples) = referenceStream()
        // The NH3 cell (index 4) dies at t = 90 s, before the lab plume.
        let cut = stream.startTime + 90_000_000
        let filtered = samples.filter { !($0.channel == 4 && $0.time >= cut) }
        let p = try referencePipeline()
        p.process(filtered)
        p.finish()
        let detections = p.drainDetections()
        let first = try #require(detections.first)
        let nh3 = try #require(first.channels.first { channels[$0.channel].id == "nh3" })
        #expect(nh3.coverage < 0.5)
        #expect(first.signatureClass.map { lib.classes[$0].id } == "lab")
        #expect(p.snapshot(channel: 4)?.stale == true)
        // Later events still close although the NH3 cell never reports again.
        #expect(detections.count == 3)
    }

    @Test("a saturated channel is flagged in the evidence")
    func saturation() throws {
        var channels = Fixtures.referenceChannels()
        channels[3].validMax = 150  // the PID saturates during the lab plume
        let lib = Fixtures.miniLibrary()
        let (_, samples) = referenceStream()
        let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, library: lib))
        p.process(samples)
        p.finish()
        let first = try #require(p.drainDetections().first)
        let pid = try #require(first.channels.first { $0.channel == 3 })
        #expect(pid.rejectedInWindow > 0)
        #expect(p.health.outOfRange > 0)
    }

    @Test("an invalid configuration is refused with the key and the reason")
    func invalidConfiguration() {
        let cases: [(String, (inout PipelineConfiguration) -> Void)] = [
            ("channels.voc_raw", { $0.channels[1].id = $0.channels[0].id }),
            ("channels.pid.rate_hz", { $0.channels[3].rateHz = 0 }),
            ("channels.gas_r.calibration.offset", { $0.channels[2].calibration.offset = -1 }),
            ("channels.nh3.gas", { $0.channels[4].gas = nil }),
            ("detection.hit_off_sigma", { $0.detection.hitOffSigma = 9 }),
            ("detection.warmup_s", { $0.detection.warmupSeconds = .nan }),
            ("signatures.classes.lab.components.nope", { $0.library.classes[0].components.append(("nope", 1)) }),
            ("channels", { $0.channels = [] }),
        ]
        for (key, mutate) in cases {
            var configuration = PipelineConfiguration(channels: Fixtures.referenceChannels(), library: Fixtures.miniLibrary())
            mutate(&configuration)
            do {
                _ = try Pipeline(configuration: configuration)
                Issue.record("accepted a configuration with a bad \(key)")
            } catch {
                guard case .invalidConfiguration(let k, let reason) = error else { continue }
                #expect(k == key)
                #expect(!reason.isEmpty)
            }
        }
    }
}

@Suite("Non-negative least squares")
struct NNLSTests {
    @Test("recovers a known non-negative solution exactly")
    func exact() {
        var s = NNLSSolver(maxRows: 4, maxColumns: 3)
        let a: [[Double]] = [[1, 0, 2], [0, 1, 1], [1, 1, 0], [3, 0, 1]]
        let x = [2.0, 0.5, 1.0]
        for i in 0..<4 {
            for j in 0..<3 { s.a[i + j * s.maxRows] = a[i][j] }
            s.b[i] = (0..<3).reduce(0) { $0 + a[i][$1] * x[$1] }
        }
        let r = s.solve(rows: 4, columns: 3)
        #expect(r < 1e-8)
        for j in 0..<3 { #expect(s.x[j].isApproximatelyEqual(to: x[j], absoluteTolerance: 1e-8)) }
    }

    @Test("clamps at zero where the unconstrained solution is negative")
    func activeConstraint() {
        // min (x0 - 1)² + (x1 + 2)² with x ≥ 0 → x = (1, 0).
        var s = NNLSSolver(maxRows: 2, maxColumns: 2)
        s.a[0] = 1; s.a[0 + 1 * s.maxRows] = 0
        s.a[1] = 0; s.a[1 + 1 * s.maxRows] = 1
        s.b[0] = 1; s.b[1] = -2
        let r = s.solve(rows: 2, columns: 2)
        // The solver's ridge (1e-12 of the trace) bounds the error.
        #expect(s.x[0].isApproximatelyEqual(to: 1, absoluteTolerance: 1e-9))
        #expect(s.x[1] == 0)
        #expect(r.isApproximatelyEqual(to: 2, absoluteTolerance: 1e-9))
    }

    @Test("agrees with brute force over all active sets on random problems")
    func bruteForce() {
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<200 {
            let m = 3 + Int(rng.next() % 5), n = 1 + Int(rng.next() % 4)
            var s = NNLSSolver(maxRows: 8, maxColumns: 4)
            var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
            var b = [Double](repeating: 0, count: m)
            for i in 0..<m {
                for j in 0..<n { a[i][j] = rng.gaussian(); s.a[i + j * s.maxRows] = a[i][j] }
                b[i] = rng.gaussian() * 2
                s.b[i] = b[i]
            }
            let r = s.solve(rows: m, columns: n)
            // Brute force: the best unconstrained least-squares fit over every subset of
            // columns whose solution is non-negative (the NNLS optimum is one of them).
            var best = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for mask in 1..<(1 << n) {
                let cols = (0..<n).filter { mask & (1 << $0) != 0 }
                guard let x = leastSquares(a, b, cols), x.allSatisfy({ $0 >= 0 }) else { continue }
                var ss = 0.0
                for i in 0..<m {
                    var ri = b[i]
                    for (k, j) in cols.enumerated() { ri -= a[i][j] * x[k] }
                    ss += ri * ri
                }
                best = min(best, ss.squareRoot())
            }
            let scale = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(r <= best + 1e-7 * scale, "NNLS residual \(r) above the best subset fit \(best)")
            #expect(s.x.prefix(n).allSatisfy { $0 >= 0 })
        }
    }
}

/// Unconstrained least squares on the chosen columns by Gaussian elimination on the
/// normal equations (test oracle only).
func leastSquares(_ a: [[Double]], _ b: [Double], _ cols: [Int]) -> [Double]? {
    let p = cols.count
    var g = [[Double]](repeating: [Double](repeating: 0, count: p + 1), count: p)
    for u in 0..<p {
        for v in 0..<p { g[u][v] = a.indices.reduce(0) { $0 + a[$1][cols[u]] * a[$1][cols[v]] } }
        g[u][p] = a.indices.reduce(0) { $0 + a[$1][cols[u]] * b[$1] }
    }
    for k in 0..<p {
        guard let pivot = (k..<p).max(by: { abs(g[$0][k]) < abs(g[$1][k]) }), abs(g[pivot][k]) > 1e-12 else { return nil }
        g.swapAt(k, pivot)
        for i in 0..<p where i != k {
            let f = g[i][k] / g[k][k]
            for j in k...p { g[i][j] -= f * g[k][j] }
        }
    }
    return (0..<p).map { g[$0][p] / g[$0][$0] }
}
