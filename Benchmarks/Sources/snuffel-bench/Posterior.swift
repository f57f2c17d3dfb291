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

    static let windEast = 3.6, windNorth = 1.75

    func run() throws {
        let results = ResultsFile(path: common.resultsPath)
        let settings = LocalisationSettings()
        let big = Self.survey(side: 1200, spacing: 24, step: 0.6, count: looks, source: (300, 500), seed: 11)
        let small = Self.survey(side: 300, spacing: 15, step: 3, count: 1500, source: (80, 140), seed: 12)
        guard let bigBounds = PlaneBounds.around(big.map { ($0.east, $0.north) }, margin: settings.margin),
              let smallBounds = PlaneBounds.around(small.map { ($0.east, $0.north) }, margin: 40)
        else { throw ValidationError("no looks") }
        var smallSettings = settings
        smallSettings.gridSize = 48
        try Self.write(big, to: "\(common.dir)/posterior_big.f64")
        try Self.write(small, to: "\(common.dir)/posterior_small.f64")

        let smallMap = SourceEstimator.posterior(
            observations: small, windEast: Self.windEast, windNorth: Self.windNorth, bounds: smallBounds, settings: smallSettings)
        try writeArray(smallMap.values, to: "\(common.dir)/posterior_small_swift.f64")

        var seconds: [Double] = []
        var peak = (east: Double.nan, north: Double.nan)
        for _ in 0..<max(1, runs) {
            let t0 = nanoseconds()
            let map = SourceEstimator.posterior(
                observations: big, windEast: Self.windEast, windNorth: Self.windNorth, bounds: bigBounds, settings: settings)
            let t1 = nanoseconds()
            seconds.append(Double(t1 - t0) * 1e-9)
            if let best = SourceEstimator.sources(in: map, maximumCount: 1).first { peak = (best.east, best.north) }
        }
        let median = seconds.median
        let hits = big.filter(\.hit).count
        print("Snuffel posterior: \(settings.gridSize)×\(settings.gridSize) grid (\(fixed(Double(max(bigBounds.maxEast - bigBounds.minEast, bigBounds.maxNorth - bigBounds.minNorth)) / Double(settings.gridSize), 2)) m cells), "
              + "\(big.count) looks (\(hits) hits), \(settings.strengths.count) strengths × \(settings.heightsAboveSource.count) heights: "
              + "median \(fixed(median, 3)) s of \(seconds.count) runs (\(seconds.map { fixed($0, 3) }.joined(separator: ", "))); "
              + "peak at \(fixed(peak.east, 0)), \(fixed(peak.north, 0)) m (source at 300, 500)")
        results.record("swift_posterior_median_s", median)
        results.record("posterior_looks", Double(big.count))

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
