import RealModule
import SnuffelCore
import Testing

@testable import SnuffelGeo

/// Looks along lawnmower lines through a plume drawn from the estimator's own model: the
/// posterior must find the source it was drawn from.
private func lawnmowerLooks(
    source: (east: Double, north: Double), windEast: Double, windNorth: Double, strength: Double, height: Double,
    settings: LocalisationSettings, seed: UInt64
) -> [PlumeObservation] {
    var state = seed
    func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) * 0x1p-53
    }
    let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
    let ux = windEast / speed, uy = windNorth / speed
    var looks: [PlumeObservation] = []
    for line in 0..<11 {
        let east = -100 + Double(line) * 20
        for step in 0..<48 {
            let north = -120 + Double(step) * 5
            let dx = east - source.east, dy = north - source.north
            let x = dx * ux + dy * uy, y = -dx * uy + dy * ux
            var p = settings.falseHitProbability
            if x > 0.5 {
                let sy = SourceEstimator.sigmaY(x), sz = SourceEstimator.sigmaZ(x)
                let sz2 = sz * sz + settings.extraVerticalSpread * settings.extraVerticalSpread
                let c = Double.exp(-0.5 * y * y / (sy * sy) - 0.5 * height * height / sz2) / (Double.pi * speed * sy * sz2.squareRoot())
                p += (1 - settings.falseHitProbability - settings.missProbability) * (1 - Double.exp(-strength * c))
            }
            looks.append(PlumeObservation(east: east, north: north, hit: uniform() < p))
        }
    }
    return looks
}

@Suite("Source estimation on a grid")
struct SourceEstimationTests {
    @Test("finds a source from looks drawn from its own plume model, within a few metres, inside its 95 % radius",
          arguments: [(-40.0, 30.0, 3.0, 0.0), (10.0, -60.0, 2.0, 2.0), (-70.0, -10.0, 4.0, -1.0)])
    func recoversItsOwnModel(sourceEast: Double, sourceNorth: Double, windEast: Double, windNorth: Double) throws {
        var settings = LocalisationSettings()
        settings.gridSize = 96
        settings.observationWeight = 1  // the looks are independent draws here
        let bounds = PlaneBounds(minEast: -250, minNorth: -250, maxEast: 150, maxNorth: 150)
        // Seven flights through seven draws of the plume: one draw may mislead (a strong
        // source, less likely under the strengths' prior, that happened to give a narrow
        // band of hits), the typical one must not.
        var errors: [Double] = []
        for seed: UInt64 in 1...7 {
            let looks = lawnmowerLooks(source: (sourceEast, sourceNorth), windEast: windEast, windNorth: windNorth,
                                       strength: 3e4, height: 5, settings: settings, seed: seed)
            #expect(looks.contains { $0.hit })
            let map = SourceEstimator.posterior(observations: looks, windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings)
            #expect(abs(map.values.reduce(0, +) - 1) < 1e-9)
            let found = try #require(SourceEstimator.sources(in: map, maximumCount: 1).first)
            let error = ((found.east - sourceEast) * (found.east - sourceEast) + (found.north - sourceNorth) * (found.north - sourceNorth)).squareRoot()
            #expect(error < 1.5 * found.radius95 + map.cellSize, "seed \(seed): error \(error) far outside the 95 % radius \(found.radius95)")
            #expect(found.radius50 < found.radius95)
            errors.append(error)
        }
        let median = errors.sorted()[errors.count / 2]
        #expect(median < 10, "errors \(errors) for a source at \(sourceEast), \(sourceNorth)")
        #expect(errors.allSatisfy { $0 < 40 }, "errors \(errors) for a source at \(sourceEast), \(sourceNorth)")
    }

    @Test("the enclosing radii hold their share of the map around the point, however far it reaches")
    func enclosingRadii() {
        // A thin strip of 41 cells along the east axis, the point at its west end: the
        // credible region is small in area (its circle of equal area has a radius of 3.6
        // cells) but reaches 40 cells from the point.
        var map = GridMap(originEast: 0, originNorth: 0, cellSize: 2, columns: 64, rows: 64,
                          values: Array(repeating: 0, count: 64 * 64))
        for column in 0...40 { map.values[10 * 64 + column] = 1.0 / 41 }
        let point = map.centre(column: 0, row: 10)
        let radii = SourceEstimator.enclosingRadii(in: map, east: point.east, north: point.north, shares: [0.5, 0.95, 1])
        let corner = 2.0.squareRoot()  // half a cell's diagonal
        // The share of cells 0...k is (k + 1) / 41: half at k = 20, 95 % at k = 38, all at 40.
        #expect(abs(radii[0] - (2 * 20 + corner)) < 1e-9, "\(radii)")
        #expect(abs(radii[1] - (2 * 38 + corner)) < 1e-9, "\(radii)")
        #expect(abs(radii[2] - (2 * 40 + corner)) < 1e-9, "\(radii)")
        let sources = SourceEstimator.sources(in: map, maximumCount: 1, separation: .infinity)
        #expect(sources.first.map { $0.radius95 < radii[1] / 5 } == true, "the area-equivalent radius understates the reach")
        // Nothing to enclose: 0.
        let empty = GridMap(originEast: 0, originNorth: 0, cellSize: 1, columns: 8, rows: 8, values: Array(repeating: 0, count: 64))
        #expect(SourceEstimator.enclosingRadii(in: empty, east: 0, north: 0, shares: [0.95]) == [0])
    }

    @Test("with no hits, or no wind, there is nothing to find")
    func nothingToFind() {
        let bounds = PlaneBounds(minEast: -100, minNorth: -100, maxEast: 100, maxNorth: 100)
        let quiet = [PlumeObservation(east: 0, north: 0, hit: false), PlumeObservation(east: 10, north: 0, hit: false)]
        var settings = LocalisationSettings()
        settings.gridSize = 32
        let calm = SourceEstimator.posterior(observations: quiet, windEast: 0, windNorth: 0, bounds: bounds, settings: settings)
        #expect(calm.values.allSatisfy { $0 == 0 })
        #expect(SourceEstimator.sources(in: calm).isEmpty)
    }

    @Test("a look is in a plume downwind of its source, not upwind or far off the axis")
    func inPlume() {
        let inside = PlumeObservation(east: 100, north: 2, hit: true)
        let upwind = PlumeObservation(east: -50, north: 0, hit: true)
        let aside = PlumeObservation(east: 50, north: 60, hit: true)
        for (look, expected) in [(inside, true), (upwind, false), (aside, false)] {
            #expect(SourceEstimator.isInPlume(observation: look, sourceEast: 0, sourceNorth: 0, windEast: 3, windNorth: 0) == expected)
        }
    }

    /// The same model without pruning or tables: every cell against every look, exact
    /// exp and log, strengths and heights marginalised by brute force.
    private func bruteForce(_ looks: [PlumeObservation], windEast: Double, windNorth: Double, bounds: PlaneBounds,
                            settings: LocalisationSettings, crosswindCut: Double = .infinity) -> [Double] {
        let n = settings.gridSize
        let cell = max(bounds.maxEast - bounds.minEast, bounds.maxNorth - bounds.minNorth) / Double(n)
        let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
        let ux = windEast / speed, uy = windNorth / speed
        let eps = settings.falseHitProbability, span = 1 - eps - settings.missProbability, w = settings.observationWeight
        let pairs = settings.heightsAboveSource.count * settings.strengths.count
        var logLikelihood = [Double](repeating: 0, count: n * n * pairs)
        for row in 0..<n {
            for column in 0..<n {
                let se = bounds.minEast + (Double(column) + 0.5) * cell, sn = bounds.minNorth + (Double(row) + 0.5) * cell
                for o in looks {
                    let dx = o.east - se, dy = o.north - sn
                    let x = dx * ux + dy * uy, y = -dx * uy + dy * ux
                    guard x > 0.5, x < settings.maximumRange else { continue }  // the model: no plume upwind or beyond range
                    let sy = SourceEstimator.sigmaY(x), sz = SourceEstimator.sigmaZ(x)
                    guard abs(y) < crosswindCut * sy else { continue }
                    let sz2 = sz * sz + settings.extraVerticalSpread * settings.extraVerticalSpread
                    var k = (row * n + column) * pairs
                    for h in settings.heightsAboveSource {
                        let c = Double.exp(-0.5 * y * y / (sy * sy) - 0.5 * h * h / sz2) / (Double.pi * max(0.5, speed) * sy * sz2.squareRoot())
                        for strength in settings.strengths {
                            let p = eps + span * -Double.expMinusOne(-strength * c)
                            logLikelihood[k] += o.hit ? w * Double.log(p / eps) : w * (Double.log(onePlus: -p) - Double.log(onePlus: -eps))
                            k += 1
                        }
                    }
                }
            }
        }
        let best = logLikelihood.max() ?? 0
        // The strengths' prior: density ∝ S^−k, on log-spaced strengths a weight S^(1 − k).
        let prior = settings.strengths.map { Double.pow($0, 1 - settings.strengthPriorExponent) }
        var map = [Double](repeating: 0, count: n * n)
        for i in map.indices {
            for k in 0..<pairs { map[i] += prior[k % prior.count] * Double.exp(logLikelihood[i * pairs + k] - best) }
        }
        let total = map.reduce(0, +)
        return map.map { $0 / total }
    }

    @Test("the pruned, tabulated posterior matches a brute-force evaluation of the same model",
          arguments: [(3.0, 0.0), (2.0, 2.0), (-1.5, 2.5)])
    func matchesBruteForce(windEast: Double, windNorth: Double) {
        var settings = LocalisationSettings()
        settings.gridSize = 24
        let looks = lawnmowerLooks(source: (-40, 30), windEast: windEast, windNorth: windNorth,
                                   strength: 3e4, height: 5, settings: settings, seed: 3)
        // Hovering: the same look repeated, which the estimator counts once with its multiplicity.
        let hover = Array(repeating: looks[looks.count / 2], count: 5)
        let bounds = PlaneBounds(minEast: -250, minNorth: -250, maxEast: 150, maxNorth: 150)
        let map = SourceEstimator.posterior(observations: looks + hover, windEast: windEast, windNorth: windNorth,
                                            bounds: bounds, settings: settings)
        let reference = bruteForce(looks + hover, windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings)
        let difference = zip(map.values, reference).map { abs($0 - $1) }.max() ?? .infinity
        let top = reference.max() ?? 0
        // What the pruning (4 σy across the wind, concentrations below e^-18 per strength)
        // and the tables cost, in probability per cell of the normalised map.
        let cut = bruteForce(looks + hover, windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings, crosswindCut: 4)
        let cutDifference = zip(map.values, cut).map { abs($0 - $1) }.max() ?? .infinity
        // The tables and the grouping of equal looks cost at most 1e-5 of the map's peak
        // against the same model with the same crosswind cut (4 σy); the cut itself costs
        // more where the strongest strengths still reach beyond it (up to a quarter of the
        // peak with a flat prior in log S; under the default S^-2 prior, which gives them
        // little weight, under a thousandth), which is printed.
        print("posterior vs brute force, wind \(windEast), \(windNorth): peak \(top); max |difference| \(cutDifference) "
              + "against the same 4 σy cut, \(difference) against no cut at all")
        #expect(cutDifference < 1e-5 * top, "max difference \(cutDifference), peak \(top)")
        #expect(difference < 0.01 * top, "max difference \(difference), peak \(top)")
        #expect(map.values.indices.max { map.values[$0] < map.values[$1] } == reference.indices.max { reference[$0] < reference[$1] })
    }

    @Test("non-finite looks are left out, not a crash")
    func nonFiniteLooks() {
        var settings = LocalisationSettings()
        settings.gridSize = 16
        let looks = [PlumeObservation(east: .nan, north: 0, hit: true), PlumeObservation(east: 0, north: .infinity, hit: false),
                     PlumeObservation(east: 10, north: 10, hit: true)]
        let bounds = PlaneBounds(minEast: -100, minNorth: -100, maxEast: 100, maxNorth: 100)
        let map = SourceEstimator.posterior(observations: looks, windEast: 2, windNorth: 0, bounds: bounds, settings: settings)
        #expect(map.values.allSatisfy { $0.isFinite })
        #expect(abs(map.values.reduce(0, +) - 1) < 1e-9)
    }

    /// What pruning cost against the dense map: the dense probability in the cells the
    /// pruned map left at 0, whether the highest cell is the same, and how far the source's
    /// estimate and its 50 % / 95 % radii moved.
    private func pruningCost(_ pruned: GridMap, _ dense: GridMap) throws
        -> (lost: Double, samePeak: Bool, shift: Double, radius50: Double, radius95: Double, zeroCells: Int)
    {
        let lost = dense.values.indices.reduce(0.0) { pruned.values[$1] > 0 ? $0 : $0 + dense.values[$1] }
        func argmax(_ v: [Double]) -> Int? { v.indices.max { v[$0] < v[$1] } }
        let p = try #require(SourceEstimator.sources(in: pruned, maximumCount: 1).first)
        let d = try #require(SourceEstimator.sources(in: dense, maximumCount: 1).first)
        return (lost, argmax(pruned.values) == argmax(dense.values), hypot(p.east - d.east, p.north - d.north),
                abs(p.radius50 - d.radius50), abs(p.radius95 - d.radius95), pruned.values.filter { $0 == 0 }.count)
    }

    private func pruningCase(sourceEast: Double, sourceNorth: Double, windEast: Double, windNorth: Double,
                             pruning: PosteriorPruning, weight: Double) throws -> (pruned: GridMap, dense: GridMap) {
        var settings = LocalisationSettings()
        settings.gridSize = 128
        settings.pruning = pruning
        settings.observationWeight = weight
        let looks = lawnmowerLooks(source: (sourceEast, sourceNorth), windEast: windEast, windNorth: windNorth,
                                   strength: 3e4, height: 5, settings: settings, seed: 5)
        let bounds = PlaneBounds(minEast: -250, minNorth: -250, maxEast: 150, maxNorth: 150)
        let pruned = SourceEstimator.posterior(observations: looks, windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings)
        settings.pruning = nil
        let dense = SourceEstimator.posterior(observations: looks, windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings)
        return (pruned, dense)
    }

    @Test("coarse-to-fine pruning (the default) agrees with every cell on the peak, the estimate and the radii",
          arguments: [(-40.0, 30.0, 3.0, 0.0), (10.0, -60.0, 2.0, 2.0), (-70.0, -10.0, 4.0, -1.0)])
    func pruningAgreesWithDense(sourceEast: Double, sourceNorth: Double, windEast: Double, windNorth: Double) throws {
        // Each look counts fully (independent draws), so that the posterior is sharp enough
        // for pruning to leave most of the grid out; with the replay's weight of 0.05 these
        // 528 looks leave every coarse cell within the margin, and pruning changes nothing.
        var pruning = try #require(LocalisationSettings().pruning)
        pruning.minimumLooks = 0  // 528 looks: pruned although few
        let (pruned, dense) = try pruningCase(sourceEast: sourceEast, sourceNorth: sourceNorth, windEast: windEast,
                                              windNorth: windNorth, pruning: pruning, weight: 1)
        let cost = try pruningCost(pruned, dense)
        print("pruning vs dense, source \(sourceEast), \(sourceNorth), wind \(windEast), \(windNorth): \(cost)")
        #expect(abs(pruned.values.reduce(0, +) - 1) < 1e-9)
        // It did prune: most of the grid is left out.
        #expect(cost.zeroCells > pruned.values.count / 2, "only \(cost.zeroCells) cells pruned")
        // Tolerances: mass lost below 1e-6; the same highest cell; the estimate within
        // 1 cm; each radius within 1 % of a cell (the radii count cells, so a single cell
        // more or less would move them by more).
        #expect(cost.lost < 1e-6)
        #expect(cost.samePeak)
        #expect(cost.shift < 0.01)
        #expect(cost.radius50 < 0.01 * dense.cellSize && cost.radius95 < 0.01 * dense.cellSize)
    }

    @Test("pruning to the best coarse cell alone (margin 0, no ring) loses real mass and moves the radii: the check can fail")
    func pruningCanFail() throws {
        let (pruned, dense) = try pruningCase(sourceEast: -40, sourceNorth: 30, windEast: 3, windNorth: 0,
                                              pruning: PosteriorPruning(coarseGridSize: 32, margin: 0, ring: 0, minimumLooks: 0), weight: 0.05)
        let cost = try pruningCost(pruned, dense)
        print("pruning with margin 0, no ring: \(cost)")
        // The checks of `pruningAgreesWithDense` fail here.
        #expect(cost.lost > 1e-2)
        #expect(cost.radius95 >= 0.01 * dense.cellSize)
    }

    @Test("pruning is skipped when the coarse grid is not at most half the fine one: the map is the dense one")
    func pruningNeedsACoarserGrid() throws {
        var settings = LocalisationSettings()
        settings.gridSize = 96
        settings.pruning = PosteriorPruning(coarseGridSize: 64, minimumLooks: 0)
        let looks = lawnmowerLooks(source: (-40, 30), windEast: 3, windNorth: 0, strength: 3e4, height: 5, settings: settings, seed: 5)
        let bounds = PlaneBounds(minEast: -250, minNorth: -250, maxEast: 150, maxNorth: 150)
        let a = SourceEstimator.posterior(observations: looks, windEast: 3, windNorth: 0, bounds: bounds, settings: settings)
        settings.pruning = nil
        let b = SourceEstimator.posterior(observations: looks, windEast: 3, windNorth: 0, bounds: bounds, settings: settings)
        #expect(a.values == b.values)  // the same code path, not a computed approximation
    }
}

@Suite("The strengths' prior")
struct StrengthPriorTests {
    /// Median distance from the source to the estimate over five flights through draws of
    /// a faint source's plume 60 m upwind of the survey's edge, the drone 10 m above it.
    private func medianError(exponent: Double) throws -> Double {
        var settings = LocalisationSettings()
        settings.gridSize = 96
        settings.strengthPriorExponent = exponent
        let bounds = PlaneBounds(minEast: -250, minNorth: -250, maxEast: 150, maxNorth: 150)
        var errors: [Double] = []
        for seed: UInt64 in 1...5 {
            let looks = lawnmowerLooks(source: (-160, 10), windEast: 3, windNorth: 0, strength: 1e3, height: 10,
                                       settings: settings, seed: seed)
            let map = SourceEstimator.posterior(observations: looks, windEast: 3, windNorth: 0, bounds: bounds, settings: settings)
            let found = try #require(SourceEstimator.sources(in: map, maximumCount: 1).first)
            errors.append(hypot(found.east + 160, found.north - 10))
        }
        return errors.sorted()[errors.count / 2]
    }

    @Test("with a flat prior in log S a faint source is placed under the first hits; with S^-2 near where it is")
    func faintSourceUpwind() throws {
        // Flat: a source just upwind of the first hits, thousands of times stronger, whose
        // plume reaches the drone only with its upper fringe, is as likely as the faint one
        // far upwind whose grown plume the drone flew through.
        let flat = try medianError(exponent: 1)
        let weighted = try medianError(exponent: LocalisationSettings().strengthPriorExponent)
        #expect(flat > 100, "flat prior: median error \(flat) m")
        #expect(weighted < 0.5 * flat, "S^-2 prior: median error \(weighted) m, flat \(flat) m")
    }
}
