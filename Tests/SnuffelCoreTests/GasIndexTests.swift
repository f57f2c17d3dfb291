import Foundation
import SnuffelCore
import Testing

// MARK: - Behaviour

/// Feeds `count` copies of `sraw` and returns the last index.
private func feed(_ algorithm: inout GasIndexAlgorithm, _ sraw: Int32, count: Int) -> Int32 {
    var index: Int32 = 0
    for _ in 0..<count {
        index = algorithm.process(sraw: sraw)
    }
    return index
}

/// A deterministic, slightly noisy clean-air signal (a linear congruential generator, so
/// the test needs no seeded random number generator).
private struct CleanAir {
    var seed: UInt64
    let base: Int32

    mutating func next() -> Int32 {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return base + Int32(truncatingIfNeeded: (seed >> 33) % 21) - 10
    }
}

@Suite("GasIndex behaviour")
struct GasIndexBehaviourTests {
    @Test("the initial blackout returns 0 for 45 s at 1 s and at 10 s", arguments: [
        (GasIndexAlgorithm.Kind.voc, Float(1), 46), (.nox, 1, 46), (.voc, 10, 5), (.nox, 10, 5),
    ])
    func blackout(kind: GasIndexAlgorithm.Kind, interval: Float, zeros: Int) {
        var algorithm = GasIndexAlgorithm(kind: kind, samplingInterval: interval)
        let sraw: Int32 = kind == .voc ? 30_000 : 16_000
        for sample in 0..<zeros {
            #expect(algorithm.process(sraw: sraw) == 0, "sample \(sample)")
        }
        #expect(algorithm.process(sraw: sraw) >= 1)
    }

    @Test("steady clean air settles at 100 for VOC and 1 for NOx")
    func steadyCleanAir() {
        var voc = GasIndexAlgorithm(kind: .voc)
        var nox = GasIndexAlgorithm(kind: .nox)
        var vocAir = CleanAir(seed: 1, base: 30_000)
        var noxAir = CleanAir(seed: 2, base: 16_000)
        var vocIndex: Int32 = 0
        var noxIndex: Int32 = 0
        for _ in 0..<(2 * 3600) {
            vocIndex = voc.process(sraw: vocAir.next())
            noxIndex = nox.process(sraw: noxAir.next())
        }
        #expect(vocIndex == 100)
        #expect(noxIndex == 1)
        // A constant signal is the limit case.
        #expect(feed(&voc, 30_000, count: 3600) == 100)
        #expect(feed(&nox, 16_000, count: 3600) == 1)
    }

    @Test("a VOC event (SRAW falling) raises the index, and it returns to 100 after")
    func vocEvent() {
        var voc = GasIndexAlgorithm(kind: .voc)
        var air = CleanAir(seed: 3, base: 30_000)
        for _ in 0..<(3 * 3600) { _ = voc.process(sraw: air.next()) }
        let before = voc.process(sraw: air.next())
        var peak: Int32 = 0
        for _ in 0..<60 { peak = max(peak, voc.process(sraw: 29_300)) }
        #expect(before == 100)
        #expect(peak > 250)
        for _ in 0..<3600 { _ = voc.process(sraw: air.next()) }
        #expect((99...101).contains(voc.process(sraw: air.next())))
    }

    @Test("NOx reports its offset until it has learned, and rises with SRAW_NOX")
    func noxEvent() {
        var nox = GasIndexAlgorithm(kind: .nox)
        _ = feed(&nox, 16_000, count: 46)
        // The first sample after the blackout: the estimator is not initialized yet.
        #expect(nox.process(sraw: 40_000) == 1)
        var fresh = GasIndexAlgorithm(kind: .nox)
        var air = CleanAir(seed: 4, base: 16_000)
        for _ in 0..<(6 * 3600) { _ = fresh.process(sraw: air.next()) }
        var peak: Int32 = 0
        for _ in 0..<120 { peak = max(peak, fresh.process(sraw: 20_000)) }
        #expect(peak > 20)
        // A falling NOx signal (a reducing gas) keeps the index at its floor.
        var low: Int32 = .max
        for _ in 0..<(10 * 60) { low = min(low, fresh.process(sraw: 14_000)) }
        #expect(low == 1)
    }

    @Test("raw values outside 1...64999 are ignored and others clamped as Sensirion does",
          arguments: [GasIndexAlgorithm.Kind.voc, .nox])
    func clamping(kind: GasIndexAlgorithm.Kind) {
        let minimum: Int32 = kind == .voc ? 20_000 : 10_000
        let base: Int32 = kind == .voc ? 30_000 : 16_000
        // Each pair: what is fed, and what the algorithm must treat it as (nil: the
        // previous raw value again).
        let cases: [(Int32, Int32?)] = [
            (0, nil), (-5, nil), (65_000, nil), (65_535, nil), (70_000, nil),
            (1, minimum + 1), (minimum, minimum + 1), (minimum + 1, minimum + 1),
            (minimum + 32_767, minimum + 32_767), (64_999, minimum + 32_767),
        ]
        for (fed, meaning) in cases {
            var a = GasIndexAlgorithm(kind: kind)
            var b = GasIndexAlgorithm(kind: kind)
            var air = CleanAir(seed: 5, base: base)
            for _ in 0..<600 {
                let sraw = air.next()
                _ = a.process(sraw: sraw)
                _ = b.process(sraw: sraw)
            }
            let previous = base + 7
            _ = a.process(sraw: previous)
            _ = b.process(sraw: previous)
            for step in 0..<30 {
                let got = a.process(sraw: fed)
                let expected = b.process(sraw: meaning ?? previous)
                #expect(got == expected, "fed \(fed), step \(step)")
            }
        }
    }

    @Test("tuning parameters: defaults, round trip, and a higher offset shifts clean air")
    func tuning() {
        var voc = GasIndexAlgorithm(kind: .voc)
        #expect(voc.tuningParameters == .defaults(for: .voc))
        #expect(GasIndexAlgorithm(kind: .nox).tuningParameters == .defaults(for: .nox))
        #expect(GasIndexAlgorithm(kind: .nox, samplingInterval: 10).samplingInterval == 10)
        let custom = GasIndexAlgorithm.TuningParameters(
            indexOffset: 150, learningTimeOffsetHours: 24, learningTimeGainHours: 6,
            gatingMaxDurationMinutes: 60, stdInitial: 100, gainFactor: 300)
        voc.setTuningParameters(custom)
        #expect(voc.tuningParameters == custom)
        #expect(feed(&voc, 30_000, count: 3600) == 150)
    }

    @Test("a saved state carries the learned baseline into a new instance")
    func stateRoundTrip() {
        var voc = GasIndexAlgorithm(kind: .voc)
        var air = CleanAir(seed: 6, base: 27_000)
        for _ in 0..<(4 * 3600) { _ = voc.process(sraw: air.next()) }
        let state = voc.state
        #expect(abs(state.mean - 7000) < 20)
        var resumed = GasIndexAlgorithm(kind: .voc)
        resumed.setState(state)
        #expect(resumed.state == state)
        // Past the blackout, the resumed instance reads clean air as clean at once.
        _ = feed(&resumed, 27_000, count: 46)
        #expect((95...105).contains(resumed.process(sraw: air.next())))
        // A fresh instance that never learned this baseline does not.
        var naive = GasIndexAlgorithm(kind: .voc)
        _ = feed(&naive, 27_000, count: 46)
        #expect(naive.process(sraw: air.next()) < 95)
    }

    @Test("reset starts a new blackout and keeps the tuning")
    func reset() {
        var nox = GasIndexAlgorithm(kind: .nox)
        let custom = GasIndexAlgorithm.TuningParameters(
            indexOffset: 20, learningTimeOffsetHours: 4, learningTimeGainHours: 12,
            gatingMaxDurationMinutes: 120, stdInitial: 50, gainFactor: 400)
        nox.setTuningParameters(custom)
        _ = feed(&nox, 16_000, count: 600)
        nox.reset()
        #expect(nox.tuningParameters == custom)
        #expect(feed(&nox, 16_000, count: 46) == 0)
        #expect(nox.process(sraw: 16_000) == 20)
    }

    @Test("absurd tuning and sampling intervals do not trap")
    func absurdSettings() {
        for interval: Float in [0, -1, 1e-6, 1e6, .infinity, .nan] {
            for kind in [GasIndexAlgorithm.Kind.voc, .nox] {
                var algorithm = GasIndexAlgorithm(kind: kind, samplingInterval: interval)
                algorithm.setTuningParameters(.init(
                    indexOffset: 0, learningTimeOffsetHours: 0, learningTimeGainHours: -1,
                    gatingMaxDurationMinutes: -5, stdInitial: 0, gainFactor: .max))
                for sraw: Int32 in [30_000, 1, 64_999, 0, .max, .min, 20_000, 16_000] {
                    _ = algorithm.process(sraw: sraw)
                }
            }
        }
    }
}

// MARK: - Agreement with Sensirion's package

/// The record file written by `Tests/peers/gas_index_peer.py` (layout in its docstring).
private struct PeerRecords {
    struct Series {
        var kind: GasIndexAlgorithm.Kind
        var samplingInterval: Float
        var tuning: GasIndexAlgorithm.TuningParameters?
        var resumeAt: Int
        var state: GasIndexAlgorithm.State
        var sraw: [Int32]
        var index: [Int32]
    }

    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self { case .malformed(let what): "malformed peer file: \(what)" }
        }
    }

    var series: [Series] = []

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        var offset = 0
        func word() throws -> UInt32 {
            guard offset + 4 <= bytes.count else { throw Failure.malformed("short at \(offset)") }
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        func int32() throws -> Int32 { Int32(bitPattern: try word()) }
        func float() throws -> Float { Float(bitPattern: try word()) }

        guard try word() == 0x4947_4E53 else { throw Failure.malformed("magic") }  // "SNGI"
        guard try int32() == 1 else { throw Failure.malformed("version") }
        let count = try int32()
        for _ in 0..<count {
            let kindCode = try int32()
            guard kindCode == 0 || kindCode == 1 else { throw Failure.malformed("kind") }
            let interval = try float()
            let hasTuning = try int32() != 0
            let tuning = GasIndexAlgorithm.TuningParameters(
                indexOffset: try int32(), learningTimeOffsetHours: try int32(),
                learningTimeGainHours: try int32(), gatingMaxDurationMinutes: try int32(),
                stdInitial: try int32(), gainFactor: try int32())
            let resumeAt = Int(try int32())
            let state = GasIndexAlgorithm.State(mean: try float(), std: try float())
            let samples = Int(try int32())
            guard samples >= 0, offset + 8 * samples <= bytes.count else {
                throw Failure.malformed("sample count")
            }
            var sraw: [Int32] = []
            var index: [Int32] = []
            sraw.reserveCapacity(samples)
            index.reserveCapacity(samples)
            for _ in 0..<samples {
                sraw.append(try int32())
                index.append(try int32())
            }
            series.append(Series(
                kind: kindCode == 0 ? .voc : .nox, samplingInterval: interval,
                tuning: hasTuning ? tuning : nil, resumeAt: resumeAt, state: state,
                sraw: sraw, index: index))
        }
        guard offset == bytes.count else { throw Failure.malformed("trailing bytes") }
    }
}

private let skipPeers = ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] == "1"
private let peerInstall = "pip install sensirion-gas-index-algorithm==3.2.2"

@Suite("GasIndex agreement with Sensirion's sensirion-gas-index-algorithm 3.2.2")
struct GasIndexPeerTests {
    /// Runs the peer script and returns its records, or records an issue and returns nil.
    private func runPeer() throws -> PeerRecords? {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/gas_index_peer.py")
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("snuffel-gas-index-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: output) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, output.path]
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            Issue.record("""
                cannot start /usr/bin/env python3 (\(error)). Run the README's test command, \
                which installs the peer (\(peerInstall)); or set SNUFFEL_SKIP_PEERS=1 to skip.
                """)
            return nil
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let cause = switch process.terminationStatus {
            case 127: "python3 is not installed"
            case 3: "the Python package sensirion-gas-index-algorithm is not installed"
            default: "the peer script failed with status \(process.terminationStatus)"
            }
            Issue.record("""
                \(cause). Run the README's test command, which installs the peer \
                (\(peerInstall)); or set SNUFFEL_SKIP_PEERS=1 to skip.
                \(message)
                """)
            return nil
        }
        return try PeerRecords(try Data(contentsOf: output))
    }

    @Test(
        "the index equals Sensirion's on at least 99 % of over a million samples, and is never off by more than 1",
        .disabled(if: skipPeers, "SNUFFEL_SKIP_PEERS=1: the comparison with Sensirion's package was skipped"))
    func agreement() throws {
        guard let records = try runPeer() else { return }
        var total = 0
        var exact = 0
        var maxDifference: Int32 = 0
        var kinds: Set<GasIndexAlgorithm.Kind> = []
        var intervals: Set<Float> = []
        for (number, series) in records.series.enumerated() {
            kinds.insert(series.kind)
            intervals.insert(series.samplingInterval)
            let make = {
                var algorithm = GasIndexAlgorithm(
                    kind: series.kind, samplingInterval: series.samplingInterval)
                if let tuning = series.tuning { algorithm.setTuningParameters(tuning) }
                return algorithm
            }
            var algorithm = make()
            var seriesExact = 0
            var firstMismatch: String?
            for i in series.sraw.indices {
                if i == series.resumeAt {
                    let state = algorithm.state
                    #expect(
                        state.mean.bitPattern == series.state.mean.bitPattern
                            && state.std.bitPattern == series.state.std.bitPattern,
                        "series \(number): state \(state) at \(i), Sensirion's \(series.state)")
                    algorithm = make()
                    algorithm.setState(state)
                }
                let ours = algorithm.process(sraw: series.sraw[i])
                let theirs = series.index[i]
                let difference = abs(ours - theirs)
                maxDifference = max(maxDifference, difference)
                if difference == 0 {
                    seriesExact += 1
                } else if firstMismatch == nil {
                    firstMismatch = "sample \(i) sraw \(series.sraw[i]): ours \(ours), theirs \(theirs)"
                }
            }
            total += series.sraw.count
            exact += seriesExact
            print("""
                gas index series \(number) (\(series.kind), \(series.samplingInterval) s\
                \(series.tuning == nil ? "" : ", tuned")\(series.resumeAt >= 0 ? ", resumed" : "")): \
                \(seriesExact)/\(series.sraw.count) exact\
                \(firstMismatch.map { "; first difference at \($0)" } ?? "")
                """)
        }
        let share = Double(exact) / Double(max(total, 1))
        print("gas index: \(total) samples, \(exact) exact (\(share * 100) %), max difference \(maxDifference)")
        #expect(total >= 1_000_000)
        #expect(kinds == [.voc, .nox])
        #expect(intervals.count >= 2)
        #expect(maxDifference <= 1)
        #expect(share >= 0.99)
    }
}
