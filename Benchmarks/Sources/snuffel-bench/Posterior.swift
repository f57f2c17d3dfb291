import ArgumentParser
import Foundation
import SnuffelGeo
import SnuffelSim

/// Times `SourceEstimator.posterior` on a 256×256 grid over 10⁵ looks and writes the
/// inputs of the dense NumPy reference (`reference/posterior.py`), plus Snuffel's map of a
/// smaller case that the reference recomputes to compare.
struct Posterior: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the source-localisation posterior; write posterior_*.f64 and posterior.json for the reference.",
        discussion: """
            The looks: a lawnmower survey of 1200 m × 1200 m, lines 24 m apart, a look every \
            0.6 m (6 m/s at 10 Hz), wind 4 m/s towards east-north-east, one source whose \
            plume makes hits with the model's own probability. The small case: 1500 looks \
            over 300 m × 300 m on a 48×48 grid. Files in DIR: posterior_big.f64 and \
            posterior_small.f64 (float64 triples east, north, hit), posterior_small_swift.f64 \
            (Snuffel's normalised map, row-major, row 0 south), posterior.json (wind, bounds, \
            settings).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Looks in the large case.")
    var looks: Int = 100_000

    @Option(help: "Timed runs of the large case (the median is reported).")
    var runs: Int = 3

    @Option(help: "Timed runs of the large case without pruning (every cell), to compare.")
    var denseRuns: Int = 1

    @Option(help: "Pruning: cells per side of the coarse grid (default: LocalisationSettings').")
    var coarse: Int?

    @Option(help: "Pruning: margin below the best coarse cell, nats (default: LocalisationSettings').")
    var margin: Double?

    @Option(help: "Pruning: rings of neighbours kept (default: LocalisationSettings').")
    var ring: Int?

    static let windEast = 3.6, windNorth = 1.75

    func run() throws {
        let results = ResultsFile(path: common.resultsPath)
        var settings = LocalisationSettings()
        if var p = settings.pruning {
            p.coarseGridSize = coarse ?? p.coarseGridSize
            p.margin = margin ?? p.margin
            p.ring = ring ?? p.ring
            settings.pruning = p
        }
        let big = Self.survey(side: 1200, spacing: 24, step: 0.6, count: looks, source: (300, 500), seed: 11)
        let small = Self.survey(side: 300, spacing: 15, step: 3, count: 1500, source: (80, 140), seed: 12)
        guard let bigBounds = PlaneBounds.around(big.map { ($0.east, $0.north) }, margin: settings.margin),
              let smallBounds = PlaneBounds.around(small.map { ($0.east, $0.north) }, margin: 40)
        else { throw ValidationError("no looks") }
        var smallSettings = settings
        smallSettings.gridSize = 48
        smallSettings.pruning = nil  // the reference evaluates every cell
        try Self.write(big, to: "\(common.dir)/posterior_big.f64")
        try Self.write(small, to: "\(common.dir)/posterior_small.f64")

        let smallMap = SourceEstimator.posterior(
            observations: small, windEast: Self.windEast, windNorth: Self.windNorth, bounds: smallBounds, settings: smallSettings)
        try writeArray(smallMap.values, to: "\(common.dir)/posterior_small_swift.f64")

        /// The median-able times of `count` runs with these settings, and the last map.
        func timed(_ settings: LocalisationSettings, runs count: Int) -> (seconds: [Double], map: GridMap?) {
            var seconds: [Double] = []
            var last: GridMap?
            for _ in 0..<max(1, count) {
                let t0 = nanoseconds()
                let map = SourceEstimator.posterior(
                    observations: big, windEast: Self.windEast, windNorth: Self.windNorth, bounds: bigBounds, settings: settings)
                let t1 = nanoseconds()
                seconds.append(Double(t1 - t0) * 1e-9)
                last = map
            }
            return (seconds, last)
        }
        let (seconds, pruned) = timed(settings, runs: runs)
        // The same looks on every cell (no pruning): the time, and what pruning costs.
        var denseSettings = settings
        denseSettings.pruning = nil
        let (denseSeconds, dense) = timed(denseSettings, runs: denseRuns)
        guard let pruned, let dense,
              let p = SourceEstimator.sources(in: pruned, maximumCount: 1).first,
              let d = SourceEstimator.sources(in: dense, maximumCount: 1).first
        else { throw ValidationError("no source found") }
        let median = seconds.median
        let hits = big.filter(\.hit).count
        let pruning = settings.pruning.map { "coarse \($0.coarseGridSize)×\($0.coarseGridSize), margin \(fixed($0.margin, 0)) nats, ring \($0.ring)" } ?? "off"
        print("Snuffel posterior: \(settings.gridSize)×\(settings.gridSize) grid (\(fixed(Double(max(bigBounds.maxEast - bigBounds.minEast, bigBounds.maxNorth - bigBounds.minNorth)) / Double(settings.gridSize), 2)) m cells), "
              + "\(big.count) looks (\(hits) hits), \(settings.strengths.count) strengths × \(settings.heightsAboveSource.count) heights, pruning \(pruning): "
              + "median \(fixed(median, 3)) s of \(seconds.count) runs (\(seconds.map { fixed($0, 3) }.joined(separator: ", "))); "
              + "peak at \(fixed(p.east, 0)), \(fixed(p.north, 0)) m (source at 300, 500)")
        print("Snuffel posterior, dense (every cell): median \(fixed(denseSeconds.median, 3)) s of \(denseSeconds.count) runs; "
              + "peak at \(fixed(d.east, 0)), \(fixed(d.north, 0)) m")
        // What pruning cost: the dense map's probability in the cells pruned away, where the
        // highest cell is, and the source's 50 % / 95 % radii.
        let kept = pruned.values.indices.filter { pruned.values[$0] > 0 }
        let lost = dense.values.indices.reduce(0.0) { pruned.values[$1] > 0 ? $0 : $0 + dense.values[$1] }
        let maxDifference = zip(pruned.values, dense.values).map { abs($0 - $1) }.max() ?? .nan
        func argmax(_ v: [Double]) -> Int { v.indices.max { v[$0] < v[$1] } ?? 0 }
        let (pa, da) = (argmax(pruned.values), argmax(dense.values))
        let pc = pruned.centre(column: pa % pruned.columns, row: pa / pruned.columns)
        let dc = dense.centre(column: da % dense.columns, row: da / dense.columns)
        let peakShift = ((pc.east - dc.east) * (pc.east - dc.east) + (pc.north - dc.north) * (pc.north - dc.north)).squareRoot()
        let estimateShift = ((p.east - d.east) * (p.east - d.east) + (p.north - d.north) * (p.north - d.north)).squareRoot()
        print("pruning's cost against the dense map: \(kept.count) of \(pruned.values.count) cells non-zero; "
              + "mass lost \(String(format: "%.2e", lost)); highest cell \(pa == da ? "the same" : "moved by \(fixed(peakShift, 1)) m"); "
              + "estimate moved \(fixed(estimateShift, 2)) m; radius50 \(fixed(p.radius50, 2)) vs \(fixed(d.radius50, 2)) m, "
              + "radius95 \(fixed(p.radius95, 2)) vs \(fixed(d.radius95, 2)) m; max |difference| per cell \(String(format: "%.1e", maxDifference)) "
              + "(peak \(String(format: "%.1e", dense.values[da])))")
        results.record("swift_posterior_median_s", median)
        results.record("swift_posterior_dense_s", denseSeconds.median)
        results.record("posterior_looks", Double(big.count))
        results.record("posterior_pruned_mass_lost", lost)
        results.record("posterior_pruned_same_peak", pa == da ? 1 : 0)
        results.record("posterior_pruned_peak_shift_m", peakShift)
        results.record("posterior_pruned_r50_diff_m", p.radius50 - d.radius50)
        results.record("posterior_pruned_r95_diff_m", p.radius95 - d.radius95)
        results.record("posterior_pruned_kept_cells", Double(kept.count))

        func bounds(_ b: PlaneBounds) -> [String: Double] {
            ["min_east": b.minEast, "min_north": b.minNorth, "max_east": b.maxEast, "max_north": b.maxNorth]
        }
        let object: [String: Any] = [
            "wind_east": Self.windEast, "wind_north": Self.windNorth,
            "big": ["grid": settings.gridSize, "bounds": bounds(bigBounds)],
            "small": ["grid": smallSettings.gridSize, "bounds": bounds(smallBounds)],
            "maximum_range": settings.maximumRange, "heights": settings.heightsAboveSource,
            "extra_vertical_spread": settings.extraVerticalSpread, "false_hit": settings.falseHitProbability,
            "miss": settings.missProbability, "weight": settings.observationWeight, "strengths": settings.strengths,
            "strength_prior_exponent": settings.strengthPriorExponent,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(common.dir)/posterior.json"))
    }

    /// Looks along a lawnmower pattern (east-west lines, `spacing` apart, a look every
    /// `step` metres) with hits drawn from the model's own hit probability for a source
    /// at `source` of strength 10⁴ seen from 5 m above it.
    static func survey(side: Double, spacing: Double, step: Double, count: Int, source: (Double, Double), seed: UInt64)
        -> [PlumeObservation]
    {
        var rng = SeededGenerator(seed: seed)
        let settings = LocalisationSettings()
        let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
        let ux = windEast / speed, uy = windNorth / speed
        var out: [PlumeObservation] = []
        out.reserveCapacity(count)
        var along = 0.0, line = 0
        while out.count < count {
            let east = line % 2 == 0 ? along : side - along
            let north = Double(line) * spacing
            let dx = east - source.0, dy = north - source.1
            let x = dx * ux + dy * uy, y = -dx * uy + dy * ux
            var p = settings.falseHitProbability
            if x > 0.5, x < settings.maximumRange {
                let sy = SourceEstimator.sigmaY(x), sz = SourceEstimator.sigmaZ(x)
                let sz2 = sz * sz + settings.extraVerticalSpread * settings.extraVerticalSpread
                let c = Double.exp(-0.5 * y * y / (sy * sy) - 12.5 / sz2) / (Double.pi * speed * sy * sz2.squareRoot())
                p += (1 - settings.falseHitProbability - settings.missProbability) * (1 - Double.exp(-1e4 * c))
            }
            out.append(PlumeObservation(east: east, north: north, hit: rng.uniform() < p))
            along += step
            if along > side {
                along = 0
                line = (line + 1) % Int(side / spacing + 1)
            }
        }
        return out
    }

    static func write(_ looks: [PlumeObservation], to path: String) throws {
        try writeArray(looks.flatMap { o -> [Double] in [o.east, o.north, o.hit ? 1 : 0] }, to: path)
    }
}
