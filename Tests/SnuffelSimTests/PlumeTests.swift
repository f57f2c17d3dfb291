import RealModule
import SnuffelSim
import Testing

@Suite("The puff plume model")
struct PlumeTests {
    @Test("a single puff's concentration integrates to its vapour volume, ground reflection included", arguments: [0.5, 2.0, 6.0])
    func puffIntegratesToVolume(radius: Double) {
        // The age at which R(t) = (R₀^(2/3) + γt)^(3/2) reaches the wanted size; the centre
        // near the ground so that the image matters.
        let age = (Double.pow(radius, 2.0 / 3.0) - Double.pow(PuffModel.initialRadius, 2.0 / 3.0)) / PuffModel.growthRate
        let puff = Puff(position: ENU(east: 3, north: -2, up: 0.5 * radius), velocity: .zero, age: age, volume: 1.25e-5)
        #expect(puff.radius.isApproximatelyEqual(to: radius, relativeTolerance: 1e-9))
        // Midpoint rule over ±6 σ horizontally and 0…8 σ up, 60 cells per axis.
        let n = 60
        let h = 12 * radius / Double(n), hz = 8 * radius / Double(n)
        var total = 0.0
        for i in 0..<n {
            for j in 0..<n {
                for k in 0..<n {
                    let p = ENU(east: 3 - 6 * radius + (Double(i) + 0.5) * h, north: -2 - 6 * radius + (Double(j) + 0.5) * h,
                                up: (Double(k) + 0.5) * hz)
                    total += puff.concentration(at: p) * h * h * hz
                }
            }
        }
        // Above ground the puff and its image hold the whole volume; the 5 σ cut-off loses < 1e-4.
        #expect(total.isApproximatelyEqual(to: 1.25e-5, relativeTolerance: 2e-3), "integral \(total)")
    }

    /// One source at 1 m in a 3 m/s wind blowing east, observed at 2 m for 30 minutes
    /// (computed once, shared by the tests that read it).
    static let observed = observe()

    static func observe() -> (mean: [Double: [Double]], offsets: [Double], axis50: [Double], upwind: Double) {
        let wind = Wind(speed: 3, fromDegrees: 270, meanderDegrees: 5, meanderTime: 60, gust: 0.15, turbulence: 0.3)
        var plume = PuffPlume(
            emitters: [PuffEmitter(position: ENU(east: 0, north: 0, up: 1), volumePerSecond: 1e-4, releaseHz: 4)],
            wind: wind, seed: 11, start: -200,
            region: PlumeRegion(minEast: -60, maxEast: 220, minNorth: -120, maxNorth: 120))
        while plume.time < 0 { plume.advance(by: 0.5) }
        let distances = [25.0, 50, 100, 200]
        let offsets = stride(from: -80.0, through: 80, by: 5).map { $0 }
        var sums = Dictionary(uniqueKeysWithValues: distances.map { ($0, Array(repeating: 0.0, count: offsets.count)) })
        var axis50: [Double] = []
        var upwind = 0.0
        var ppm: [Double] = []
        let dt = 0.25, duration = 1800.0
        var samples = 0
        for step in 0..<Int(duration / dt) {
            plume.advance(by: dt)
            plume.concentrations(at: ENU(east: 50, north: 0, up: 2), into: &ppm)
            axis50.append(ppm[0])
            guard step % 4 == 0 else { continue }
            samples += 1
            for x in distances {
                for (i, y) in offsets.enumerated() {
                    plume.concentrations(at: ENU(east: x, north: y, up: 2), into: &ppm)
                    sums[x]?[i] += ppm[0]
                }
            }
            plume.concentrations(at: ENU(east: -30, north: 0, up: 2), into: &ppm)
            upwind += ppm[0]
        }
        let means = sums.mapValues { $0.map { $0 / Double(samples) } }
        return (means, offsets, axis50, upwind / Double(samples))
    }

    @Test("time-averaged concentration falls with distance, is symmetric about the wind axis, ~0 upwind, and about Pasquill–Gifford C–D wide")
    func timeAverage() {
        let (means, offsets, _, upwind) = Self.observed
        var axisPeaks: [Double] = []
        for x in [25.0, 50, 100, 200] {
            let profile = means[x] ?? []
            let total = profile.reduce(0, +)
            let centre = zip(offsets, profile).reduce(0) { $0 + $1.0 * $1.1 } / total
            let sigma = (zip(offsets, profile).reduce(0) { $0 + ($1.0 - centre) * ($1.0 - centre) * $1.1 } / total).squareRoot()
            let left = zip(offsets, profile).filter { $0.0 < 0 }.reduce(0) { $0 + $1.1 }
            let right = zip(offsets, profile).filter { $0.0 > 0 }.reduce(0) { $0 + $1.1 }
            let briggsC = 0.11 * x / (1 + 0.0001 * x).squareRoot()
            let briggsD = 0.08 * x / (1 + 0.0001 * x).squareRoot()
            print("plume at \(Int(x)) m: max mean \(profile.max() ?? 0) ppm, centre \(centre) m, σy \(sigma) m (PG C \(briggsC), D \(briggsD)), left/right \(left / right)")
            axisPeaks.append(profile.max() ?? 0)
            #expect(abs(centre) < 0.25 * sigma + 2, "plume centre at \(x) m is off the wind axis: \(centre) m")
            if x >= 50 {  // nearer, the 5 m probe spacing is too coarse for the halves to compare
                #expect(left / right > 0.7 && left / right < 1.4, "asymmetric at \(x) m: \(left) vs \(right)")
                #expect(sigma > 0.8 * briggsD && sigma < 1.25 * briggsC, "σy at \(x) m is \(sigma) m, not within PG C–D")
            }
        }
        for (near, far) in zip(axisPeaks, axisPeaks.dropFirst()) {
            #expect(far < near, "mean concentration does not fall with distance: \(axisPeaks)")
        }
        #expect(upwind < 1e-4 * (axisPeaks.first ?? 1), "upwind mean \(upwind) ppm")
    }

    @Test("the plume is intermittent: at 50 m on the axis the air is mostly clean between bursts")
    func intermittency() {
        let (_, _, series, _) = Self.observed
        let peak = series.max() ?? 0
        let average = series.reduce(0, +) / Double(series.count)
        let above = Double(series.filter { $0 > 0.1 * peak }.count) / Double(series.count)
        print("intermittency at 50 m: peak \(peak) ppm, mean \(average) ppm, peak/mean \(peak / average), fraction above 10 % of peak \(above)")
        #expect(peak > 0)
        #expect(above < 0.5, "fraction of time above 10 % of the peak: \(above)")
        #expect(peak / average > 3, "peak/mean \(peak / average)")
    }

    @Test("sampling a moving point between coarse steps gives what advancing to that moment gives")
    func sampleBetweenSteps() {
        var plume = PuffPlume(
            emitters: [PuffEmitter(position: ENU(east: 0, north: 0, up: 1), volumePerSecond: 1e-4, releaseHz: 4),
                       PuffEmitter(position: ENU(east: 0, north: 40, up: 3), volumePerSecond: 2e-4, releaseHz: 6)],
            wind: Wind(speed: 3, fromDegrees: 270), seed: 5, start: -120,
            region: PlumeRegion(minEast: -50, maxEast: 200, minNorth: -100, maxNorth: 100))
        plume.releaseAhead = 0.5
        while plume.time < 0 { plume.advance(by: 0.5) }
        var sampled: [Double] = [], reference: [Double] = []
        var nonzero = 0
        for step in 0..<600 {
            for elapsed in [0.0, 0.2, 0.4] {
                let t = plume.time + elapsed
                // A drone flying north and back across both plumes, 60 m downwind, at 5 m/s.
                let point = ENU(east: 60, north: -60 + 5 * (t.truncatingRemainder(dividingBy: 40)), up: 6)
                plume.sample(at: point, after: elapsed, observerSpeed: 5, into: &sampled)
                var copy = plume
                copy.advance(by: elapsed)
                copy.concentrations(at: point, into: &reference)
                for (a, b) in zip(sampled, reference) {
                    #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 1e-9, relativeTolerance: 1e-9), "step \(step) +\(elapsed): \(a) vs \(b)")
                    if b > 1e-3 { nonzero += 1 }
                }
            }
            plume.advance(by: 0.5)
        }
        #expect(nonzero > 50, "the point should cross the plumes")
    }

    @Test("puffs that leave the region downwind are dropped, so cost stays bounded")
    func boundedPuffs() {
        var plume = PuffPlume(
            emitters: [PuffEmitter(position: .zero, volumePerSecond: 1e-4, releaseHz: 10)],
            wind: Wind(speed: 4, fromDegrees: 270), seed: 3,
            region: PlumeRegion(minEast: -50, maxEast: 100, minNorth: -50, maxNorth: 50))
        for _ in 0..<1200 { plume.advance(by: 0.5) }
        // 150 m at 4 m/s plus margins is under a minute of puffs: ~10 Hz × 60 s.
        #expect(plume.puffs.count < 1500, "\(plume.puffs.count) puffs alive")
    }
}
