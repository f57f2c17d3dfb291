import RealModule

/// One look at the plume: where the air entered the inlet (metres east and north in a
/// tangent plane) and whether it held the plume.
public struct PlumeObservation: Sendable, Equatable {
    public var east: Double
    public var north: Double
    /// Whether the sensors saw the plume in this air (a hit), or not.
    public var hit: Bool

    public init(east: Double, north: Double, hit: Bool) {
        self.east = east
        self.north = north
        self.hit = hit
    }
}

/// A rectangle of the tangent plane, metres.
public struct PlaneBounds: Sendable, Equatable {
    public var minEast: Double
    public var minNorth: Double
    public var maxEast: Double
    public var maxNorth: Double

    public init(minEast: Double, minNorth: Double, maxEast: Double, maxNorth: Double) {
        self.minEast = minEast
        self.minNorth = minNorth
        self.maxEast = maxEast
        self.maxNorth = maxNorth
    }

    /// The smallest rectangle holding the points, grown by `margin` on every side.
    public static func around(_ points: some Sequence<(east: Double, north: Double)>, margin: Double) -> PlaneBounds? {
        var b: PlaneBounds?
        for p in points where p.east.isFinite && p.north.isFinite {
            if var x = b {
                x.minEast = min(x.minEast, p.east)
                x.maxEast = max(x.maxEast, p.east)
                x.minNorth = min(x.minNorth, p.north)
                x.maxNorth = max(x.maxNorth, p.north)
                b = x
            } else {
                b = PlaneBounds(minEast: p.east, minNorth: p.north, maxEast: p.east, maxNorth: p.north)
            }
        }
        guard var x = b else { return nil }
        x.minEast -= margin
        x.minNorth -= margin
        x.maxEast += margin
        x.maxNorth += margin
        return x
    }
}

/// A probability map over a square grid of cells in the tangent plane; `values` sum to 1
/// (or are all 0 when there was nothing to learn from).
public struct GridMap: Sendable {
    /// The south-west corner of cell (0, 0), metres.
    public var originEast: Double
    public var originNorth: Double
    /// The side of a cell, metres.
    public var cellSize: Double
    public var columns: Int
    public var rows: Int
    /// Row-major, row 0 in the south.
    public var values: [Double]

    /// The centre of a cell.
    public func centre(column: Int, row: Int) -> (east: Double, north: Double) {
        (originEast + (Double(column) + 0.5) * cellSize, originNorth + (Double(row) + 0.5) * cellSize)
    }
}

/// What the localisation assumes about plumes and sensors.
public struct LocalisationSettings: Sendable, Equatable {
    /// Cells per side of the posterior grid.
    public var gridSize = 256
    /// How far beyond the track the grid reaches, metres.
    public var margin = 150.0
    /// The farthest a plume is followed downwind, metres.
    public var maximumRange = 350.0
    /// The drone's heights above the source tried, metres: neither the source's height nor
    /// often the ground's altitude is known, and the plume's vertical spread decides how
    /// much of it reaches the drone. Marginalised with a flat prior, like the strength.
    public var heightsAboveSource: [Double] = [2, 5, 8, 12, 16]
    /// Vertical mixing added to the plume model (the rotor downwash), metres.
    public var extraVerticalSpread = 1.0
    /// Probability of a hit in air without the plume (a false hit), and of a miss in air
    /// that holds it: real plumes are intermittent (the air at a point holds the plume a
    /// minority of the time even on its axis) and near a source the plume may pass under
    /// the drone, so a miss says little and a hit much.
    public var falseHitProbability = 0.01
    public var missProbability = 0.6
    /// Observations one second apart are not independent (a pass through a plume, or along
    /// clear air, gives a run of alike seconds; runs last some 10 to 30 s): each counts this
    /// much, about one per run, so that the posterior is not overconfident (a tempered
    /// likelihood). Over the bundled scenarios, with the 95 % radius of
    /// ``SourceEstimator/enclosingRadii(in:east:north:shares:)`` on each source's own
    /// posterior, the true source lay inside it for 94 / 88 / 85 / 79 % of the sources at
    /// 0.03 / 0.05 / 0.2 / 0.5, and the median error was 23 / 24 / 29 / 33 m: stronger
    /// weights make the map sharper but no better placed, a sign of a plume model that fits
    /// real (here simulated) plumes only loosely.
    public var observationWeight = 0.05
    /// The fewest hits a source must explain to be reported.
    public var minimumHits = 3
    /// The most sources sought in one flight.
    public var maximumSources = 6
    /// Source strengths tried (the unknown release rate, in the model's units), log-spaced.
    public var strengths: [Double] = (0..<12).map { Double.pow(10, 1.5 + 0.4 * Double($0)) }
    /// The prior density of the strength is ∝ S^−k over the strengths tried: 1 is flat in
    /// log S (as likely to be ten times stronger as ten times weaker); 2, the default, has
    /// weak sources more common than strong ones, as release rates tend to be (many small
    /// emitters, a few large ones). With a flat prior a source just upwind of the first
    /// hits, thousands of times stronger than need be, whose plume reaches the drone above
    /// it only with its upper fringe, is about as likely as a weaker one further upwind
    /// whose grown plume the drone flew through; estimates then sit at the first hits. The
    /// prior moves them upwind: over the bundled scenarios with five seeds each the median
    /// error was 40 m at 1 and 32 m at 2, under `--stress` (three seeds) 46 m and 30 m,
    /// with the source inside its 95 % radius 84 % and 91 % of the time. It is a trade:
    /// estimates that sat far downwind of their source come nearer (one from 140 m to 8 m),
    /// while strong sources may be placed further upwind than they are (one of the 21
    /// draws of a strong source in `SourceEstimationTests.recoversItsOwnModel` 28 m off),
    /// and the merged plumes of neighbouring sources stay merged, now further upwind.
    public var strengthPriorExponent = 2.0
    /// Coarse-to-fine evaluation of the posterior (nil: every cell of the grid).
    public var pruning: PosteriorPruning? = PosteriorPruning()

    public init() {}

    /// These settings for a search over `count` looks: without pruning when they are
    /// fewer than ``PosteriorPruning/minimumLooks``.
    public func forLooks(_ count: Int) -> LocalisationSettings {
        guard let pruning, count < pruning.minimumLooks else { return self }
        var settings = self
        settings.pruning = nil
        return settings
    }
}

/// A source found on a posterior map.
public struct SourceEstimate: Sendable, Equatable {
    /// The posterior mean of the cells holding half the source's probability, metres.
    public var east: Double
    public var north: Double
    /// The radius of a circle of the same area as the smallest set of cells holding 50 %
    /// (95 %) of the source's probability, metres.
    public var radius50: Double
    public var radius95: Double
    /// The share of the whole map's probability near this source, 0...1.
    public var mass: Double
}

/// Bayesian source-term estimation on a grid: where a point source must be to explain the
/// hits and the non-hits of a flight in a known wind.
///
/// Each cell of the grid is a candidate source position. For a source there, the
/// time-averaged plume is a Gaussian plume (Pasquill–Gifford dispersion with Briggs'
/// open-country formulas: σy of stability class C, σz of class D, reflected at the ground),
/// and the probability that a look at position x is a hit is
/// `ε + (1 − ε − δ)(1 − exp(−S·c(x)))` with `c` the plume's concentration per unit release,
/// `ε` the false-hit and `δ` the miss probability, and `S` the unknown strength,
/// marginalised over a log-spaced set of values with a prior density ∝ S^−2 (see
/// ``LocalisationSettings/strengthPriorExponent``). Every look counts, hits
/// and non-hits, each with a weight below 1 because neighbouring seconds are not
/// independent. Looks further than ``LocalisationSettings/maximumRange`` downwind of a cell
/// or upwind of it are outside its plume; looks more than 4 σy off the plume's axis are
/// skipped too. That crosswind cut leaves out e^-8 of the axis concentration, which the
/// strongest strengths tried still notice: against the same model without the cut, the
/// normalised map moves by under a thousandth of its peak value on a small test grid
/// (`SourceEstimationTests`; by up to a quarter with a flat prior in log S, which gives the
/// strongest strengths more weight), while its peak stays in the same cell. The likelihood
/// itself is tabulated (see `StrengthTable`); against the exact model with the same cut
/// the map differs by less than 1e-6.
///
/// See Pudykiewicz 1998 and Keats, Yee & Lien 2007 for source-term estimation, Briggs 1973
/// for the dispersion formulas (Turner's Workbook of Atmospheric Dispersion Estimates).
///
/// Tried on the 24 bundled scenarios (`snuffel evaluate`; 31 sources in 2–6 m/s wind,
/// median error 24 m with this model when its strengths' prior was flat in log S) and left
/// out because each made the median worse:
/// - an uncertain wind direction, σy widened to √(σy² + (σθ·x)²): σθ = 0.03 rad 26 m,
///   0.1 rad 46 m (a wider plume lets one source far upwind explain several plumes);
/// - heights above the source up to 30 m (for drones at 25 m): 46 m (more freedom, a flatter
///   map along the wind);
/// - a miss probability of 0.3 or 0.8 instead of 0.6: 31 m either way; a false-hit
///   probability of 0.05: 34 m and two sources lost;
/// - clear looks weighted 0.3 or 3 times as much as hits: 32 m, 42 m;
/// - a meandering-plume hit probability, `ε + (1 − ε − δ)·g(y)·(1 − exp(−S·c₀))` with the
///   crosswind factor g = exp(−y²/2σy²) outside the saturation (Gifford's fluctuating plume:
///   off the axis the plume is there less often, however strong), which ends the trade of
///   strength against the width of the band of hits: 62 m, every source placed 30–100 m
///   too far upwind, since the band of hits is wider than σy (strong puffs are detected
///   in the plume's tails);
/// - hits taken back by the pipeline's hit lags (0.3 s on, 1 s off) before they become
///   looks (`ActivityLog`): 33 m, the estimates moving 10–20 m downwind; with the
///   meandering-plume probability, 62 m as without;
/// - each source keeping only the hits whose detections name its class: 27 m (better where
///   a lab and manure merge, worse wherever classes are confused);
/// - the strength of each hit (the activity log's σ) as a second observation, log-normal
///   about the model's concentration with a common factor marginalised under a flat prior
///   (so that only how the signals fall off from hit to hit counts): with a spread of 1
///   nat 60 m, every estimate pushed upwind (probably because the hits' signals fall off
///   downwind far more slowly than the time-averaged plume's, and off its axis not at all:
///   inside a meandering plume the air holds the narrow instantaneous plume); about the
///   crosswind-integrated concentration instead (no crosswind factor), with a spread of 2
///   nats, 22 m here and 38 m instead of 42 m over three seeds, but 41 m instead of 40 m
///   over five seeds and 45 m instead of 46 m under `--stress`: no gain above the seeds'
///   noise;
/// - the plume widened by the sensors' smoothing along the track, σy² + L²: 26, 27 and
///   40 m for L = 2, 4 and 6 m;
/// - a source's hits split between two sources (by the class of their detections, or at
///   the widest gaps across the wind) where the evidence of two (each part's mean
///   likelihood over the grid with the clear looks) beat one's: with the tempered
///   likelihood never, and at full weight 28 m (some merged plumes parted, others moved).
///   A lab's and a manure heap's bands 60 m apart stay one source far upwind of both: a
///   strong plume's hit probability saturates across its whole width, and a miss costs
///   little, so one wide plume explains two bands about as well as two narrow ones do;
/// - with the S^−2 prior: the hits of lab and of confounder detections localised apart
///   wherever each kind held 30 % of a source's hits: 28 m instead of 32 m over five
///   seeds, but by adding estimates, which the nearest-estimate error does not see (37
///   instead of 30 over the bundled seeds: a confounder source beside single labs whose
///   far, faint passes were called solvent); counting only detections of confidence 0.4
///   or more, no gain.
/// Where the posterior is broad along the wind (sources upwind of the survey, plumes of
/// neighbouring sources merging), the radii say so instead: see
/// ``enclosingRadii(in:east:north:shares:)``.
public enum SourceEstimator {
    /// Crosswind spread σy (m) at a downwind distance (m): Briggs, open country, class C.
    @inlinable
    public static func sigmaY(_ x: Double) -> Double { max(1, 0.11 * x / (1 + 0.0001 * x).squareRoot()) }

    /// Vertical spread σz (m) at a downwind distance (m): Briggs, open country, class D.
    @inlinable
    public static func sigmaZ(_ x: Double) -> Double { max(0.5, 0.06 * x / (1 + 0.0015 * x).squareRoot()) }

    /// The posterior probability of the source's position over a grid.
    ///
    /// - Parameters:
    ///   - observations: Looks at the plume (one per second of flight, say).
    ///   - windEast, windNorth: The mean wind, m/s towards east and north.
    ///   - bounds: The area searched; the grid is square, with cells of the larger side /
    ///     `gridSize`.
    ///   - settings: The model's assumptions.
    /// - Returns: The normalised posterior.
    /// - Complexity: O(n · k · s) for n observations, k cells in each one's upwind cone and
    ///   s strengths.
    public static func posterior(
        observations: [PlumeObservation], windEast: Double, windNorth: Double, bounds: PlaneBounds,
        settings: LocalisationSettings = LocalisationSettings()
    ) -> GridMap {
        var accumulator = PosteriorAccumulator(
            windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings.forLooks(observations.count))
        accumulator.add(observations)
        return accumulator.map()
    }

    /// Narrows the columns `lo...hi` of a row to those where `a·dx + b` may lie in
    /// `low...high`, with `dx` the look's east offset from the column's centre (one column
    /// of slack each side: the caller tests each cell exactly).
    @inline(__always)
    static func clip(_ lo: inout Double, _ hi: inout Double, a: Double, b: Double, low: Double, high: Double,
                     origin: Double, cell: Double) {
        guard abs(a) > 1e-9 else {
            if b < low || b > high { lo = hi + 1 }
            return
        }
        var dx0 = (low - b) / a, dx1 = (high - b) / a
        if dx0 > dx1 { swap(&dx0, &dx1) }
        // dx = origin − (column + 0.5)·cell.
        lo = max(lo, ((origin - dx1) / cell - 0.5).rounded(.down) - 1)
        hi = min(hi, ((origin - dx0) / cell - 0.5).rounded(.up) + 1)
    }

    /// Whether a look lies in the plume of a source: downwind within range and within
    /// 3 σy of the axis.
    public static func isInPlume(
        observation o: PlumeObservation, sourceEast: Double, sourceNorth: Double, windEast: Double, windNorth: Double,
        settings: LocalisationSettings = LocalisationSettings()
    ) -> Bool {
        let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
        guard speed > 0.05 else { return false }
        let ux = windEast / speed, uy = windNorth / speed
        let dx = o.east - sourceEast, dy = o.north - sourceNorth
        let x = dx * ux + dy * uy
        let y = -dx * uy + dy * ux
        return x > -10 && x < settings.maximumRange && abs(y) < 3 * sigmaY(max(x, 0)) + 10
    }

    /// The sources on a posterior map: its highest peak, then further peaks at least
    /// `separation` metres from those found that reach `relativeHeight` of the highest.
    ///
    /// Each source's probability is what lies within `separation` of its peak (and nearer
    /// to it than to another peak); its 50 % and 95 % radii come from the smallest sets of
    /// cells holding that share of it.
    public static func sources(
        in map: GridMap, maximumCount: Int = 3, separation: Double = 40, relativeHeight: Double = 0.15
    ) -> [SourceEstimate] {
        let n = map.columns
        guard n > 0, map.values.count == n * map.rows, let top = map.values.max(), top > 0 else { return [] }
        // Peaks: local maxima over the 3×3 neighbourhood, highest first.
        var peaks: [(index: Int, value: Double)] = []
        for row in 0..<map.rows {
            for column in 0..<n {
                let v = map.values[row * n + column]
                guard v >= relativeHeight * top else { continue }
                var isPeak = true
                for dr in -1...1 {
                    for dc in -1...1 where dr != 0 || dc != 0 {
                        let r = row + dr, c = column + dc
                        if r >= 0, r < map.rows, c >= 0, c < n, map.values[r * n + c] > v { isPeak = false }
                    }
                }
                if isPeak { peaks.append((row * n + column, v)) }
            }
        }
        peaks.sort { $0.value > $1.value }
        var chosen: [(east: Double, north: Double)] = []
        for p in peaks where chosen.count < maximumCount {
            let c = map.centre(column: p.index % n, row: p.index / n)
            if chosen.allSatisfy({ hypot($0.east - c.east, $0.north - c.north) >= separation }) { chosen.append(c) }
        }
        // Each cell within `separation` goes to its nearest peak.
        var members = Array(repeating: [(value: Double, east: Double, north: Double)](), count: chosen.count)
        for row in 0..<map.rows {
            for column in 0..<n {
                let v = map.values[row * n + column]
                guard v > 0 else { continue }
                let c = map.centre(column: column, row: row)
                var nearest = -1, distance = separation
                for (k, peak) in chosen.enumerated() {
                    let d = hypot(peak.east - c.east, peak.north - c.north)
                    if d < distance { nearest = k; distance = d }
                }
                if nearest >= 0 { members[nearest].append((v, c.east, c.north)) }
            }
        }
        let cellArea = map.cellSize * map.cellSize
        return members.compactMap { cells in
            let mass = cells.reduce(0) { $0 + $1.value }
            guard mass > 0 else { return nil }
            let sorted = cells.sorted { $0.value > $1.value }
            var cumulative = 0.0, count50 = 0, count95 = 0
            var east = 0.0, north = 0.0, weight50 = 0.0
            for (i, cell) in sorted.enumerated() {
                if cumulative < 0.5 * mass {
                    count50 = i + 1
                    east += cell.value * cell.east
                    north += cell.value * cell.north
                    weight50 += cell.value
                }
                if cumulative < 0.95 * mass { count95 = i + 1 }
                cumulative += cell.value
            }
            return SourceEstimate(
                east: east / weight50, north: north / weight50,
                radius50: (Double(count50) * cellArea / Double.pi).squareRoot(),
                radius95: (Double(count95) * cellArea / Double.pi).squareRoot(), mass: mass)
        }
    }
}

extension SourceEstimator {
    /// The radii of the circles around a point that hold the given shares of a map's
    /// probability: where the map is the posterior of one source, the source lies within
    /// each radius of the point with that probability.
    ///
    /// Unlike the radius of a circle with the area of a credible region (see
    /// ``SourceEstimate``), this is a statement about the distance from the point: a long
    /// thin region (the posterior along the wind, upwind of the hits) has a small area but
    /// reaches far.
    ///
    /// - Parameters:
    ///   - map: A posterior.
    ///   - east, north: The point, metres.
    ///   - shares: Shares of the map's probability, each in 0...1.
    /// - Returns: One radius per share, metres (0 for an empty map). A cell counts whole at
    ///   its centre's distance, so each radius is rounded up by up to half a cell's
    ///   diagonal.
    /// - Complexity: O(g² log g) for g cells per side.
    public static func enclosingRadii(in map: GridMap, east: Double, north: Double, shares: [Double]) -> [Double] {
        var cells: [(distance: Double, value: Double)] = []
        var total = 0.0
        for row in 0..<map.rows {
            for column in 0..<map.columns {
                let v = map.values[row * map.columns + column]
                guard v > 0, v.isFinite else { continue }
                let c = map.centre(column: column, row: row)
                cells.append((hypot(c.east - east, c.north - north), v))
                total += v
            }
        }
        guard total > 0 else { return shares.map { _ in 0 } }
        cells.sort { $0.distance < $1.distance }
        let corner = 0.5 * map.cellSize * 2.0.squareRoot()
        return shares.map { share in
            var cumulative = 0.0
            for c in cells {
                cumulative += c.value
                if cumulative >= share * total { return c.distance + corner }
            }
            return (cells.last?.distance ?? 0) + corner
        }
    }
}

/// The posterior of ``SourceEstimator/posterior(observations:windEast:windNorth:bounds:settings:)``
/// under construction: looks can be added in batches (the log-likelihood of each cell,
/// height and strength is a sum over looks), so that looks shared by several searches are
/// added once and the accumulator copied.
///
/// With ``LocalisationSettings/pruning`` the looks go to a coarse grid of the same model
/// as they are added, and are kept; ``map()`` then evaluates the fine grid only in the
/// coarse cells that can matter (see ``PosteriorPruning``).
public struct PosteriorAccumulator: Sendable {
    private let model: ConeModel
    private let isCalm: Bool
    private let grid: GridMap
    /// The grid that `add` fills: the fine one without pruning, the coarse one with.
    private let target: GridGeometry
    /// Per cell of `target`, height and strength.
    private var logLikelihood: [Double]
    /// The looks added, kept for the fine pass when pruning.
    private var looks: [ObservationGroup] = []
    private let pruning: PosteriorPruning?
    /// The looks added so far.
    public private(set) var count = 0

    /// An empty posterior over a grid.
    ///
    /// - Parameters:
    ///   - windEast, windNorth: The mean wind, m/s towards east and north.
    ///   - bounds: The area searched; the grid is square, with cells of the larger side /
    ///     `gridSize`.
    ///   - settings: The model's assumptions.
    /// - Complexity: O(g² · h · s) for g cells per side (of the coarse grid when pruning),
    ///   h heights and s strengths.
    public init(windEast: Double, windNorth: Double, bounds: PlaneBounds, settings: LocalisationSettings = LocalisationSettings()) {
        let n = max(8, settings.gridSize)
        let side = max(bounds.maxEast - bounds.minEast, bounds.maxNorth - bounds.minNorth, 1)
        grid = GridMap(originEast: bounds.minEast, originNorth: bounds.minNorth, cellSize: side / Double(n), columns: n, rows: n,
                       values: Array(repeating: 0, count: n * n))
        let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
        isCalm = !(speed > 0.05) || settings.strengths.isEmpty
        model = ConeModel(settings, windEast: isCalm ? 1 : windEast, windNorth: isCalm ? 0 : windNorth, speed: speed)
        if let p = settings.pruning, p.coarseGridSize >= 2, p.coarseGridSize * 2 <= n {
            pruning = p
            target = GridGeometry(originEast: bounds.minEast, originNorth: bounds.minNorth,
                                  cell: side / Double(p.coarseGridSize), count: p.coarseGridSize)
        } else {
            pruning = nil
            target = GridGeometry(originEast: bounds.minEast, originNorth: bounds.minNorth, cell: grid.cellSize, count: n)
        }
        logLikelihood = isCalm ? [] : [Double](repeating: 0, count: target.count * target.count * model.perCell)
    }

    /// Adds looks.
    /// - Complexity: O(n · k · h · s) for n looks, k cells (of the coarse grid when
    ///   pruning) in each one's upwind cone, h heights and s strengths.
    public mutating func add(_ observations: [PlumeObservation]) {
        count += observations.count
        guard !isCalm, !observations.isEmpty else { return }
        let grouped = ObservationGroup.grouped(observations)
        model.accumulate(grouped, on: target, mask: nil, into: &logLikelihood)
        if pruning != nil { looks += grouped }
    }

    /// The normalised posterior of the looks added (all 0 with none, or in calm air).
    ///
    /// With pruning, the fine cells outside the coarse cells kept are 0.
    /// - Complexity: O(g² · h · s); with pruning, plus O(n · k · h · s) for the fine pass
    ///   over the n looks added and the k kept cells in each one's cone.
    public func map() -> GridMap {
        var map = grid
        guard !isCalm, count > 0 else { return map }
        guard let pruning else {
            Self.marginalise(logLikelihood, prior: model.prior, cells: Array(0..<(map.columns * map.rows)), into: &map.values)
            return map
        }
        let mask = FineMask(grid: map, coarse: target, keep: Self.keptCoarseCells(
            logLikelihood, prior: model.prior, side: target.count, pruning: pruning))
        var fine = [Double](repeating: 0, count: mask.cells.count * model.perCell)
        let geometry = GridGeometry(originEast: map.originEast, originNorth: map.originNorth, cell: map.cellSize, count: map.columns)
        model.accumulate(looks, on: geometry, mask: mask, into: &fine)
        Self.marginalise(fine, prior: model.prior, cells: mask.cells, into: &map.values)
        return map
    }

    /// Sums the likelihood over heights and strengths (`perCell` values a cell, the
    /// cells' values in the order of `cells`, the indices in `values` they go to) and
    /// normalises.
    private static func marginalise(_ logLikelihood: [Double], prior: [Double], cells: [Int], into values: inout [Double]) {
        let s = prior.count
        var best = -Double.infinity
        for v in logLikelihood where v > best { best = v }
        var total = 0.0
        for (slot, i) in cells.enumerated() {
            var sum = 0.0
            for k in 0..<s { sum += prior[k] * Double.exp(logLikelihood[slot * s + k] - best) }
            values[i] = sum
            total += sum
        }
        if total > 0 { for i in values.indices { values[i] /= total } }
    }

    /// Which coarse cells to evaluate finely: those whose log posterior is within the
    /// margin of the best, and their neighbours within the ring.
    private static func keptCoarseCells(_ logLikelihood: [Double], prior: [Double], side n: Int, pruning: PosteriorPruning) -> [Bool] {
        let s = prior.count
        var best = -Double.infinity
        for v in logLikelihood where v > best { best = v }
        var logPosterior = [Double](repeating: -.infinity, count: n * n)
        var top = -Double.infinity
        for i in 0..<(n * n) {
            var sum = 0.0
            for k in 0..<s { sum += prior[k] * Double.exp(logLikelihood[i * s + k] - best) }
            logPosterior[i] = Double.log(sum)
            top = max(top, logPosterior[i])
        }
        var keep = [Bool](repeating: false, count: n * n)
        let ring = max(0, pruning.ring)
        for row in 0..<n {
            for column in 0..<n where logPosterior[row * n + column] >= top - pruning.margin {
                for r in max(0, row - ring)...min(n - 1, row + ring) {
                    for c in max(0, column - ring)...min(n - 1, column + ring) { keep[r * n + c] = true }
                }
            }
        }
        return keep
    }
}

/// Coarse-to-fine evaluation of the posterior: the looks first on a coarse grid of the same
/// model, then the fine grid only in the coarse cells whose log posterior is within
/// `margin` of the best coarse cell's, and in a ring of their neighbours; the fine cells
/// elsewhere get probability 0.
///
/// What it costs against the dense map, on the benchmark's 10⁵ looks (256×256, coarse
/// 64×64, margin 20, ring 1): see `Benchmarks`, `snuffel-bench posterior`, which prints the
/// mass lost, the peak and the radii of both; the tests in `SourceEstimationTests` hold
/// them to stated tolerances on realistic looks.
public struct PosteriorPruning: Sendable, Equatable {
    /// Cells per side of the coarse grid; pruning is skipped unless the fine grid has at
    /// least twice as many.
    public var coarseGridSize = 64
    /// How far below the best coarse cell's log posterior a coarse cell may be and still be
    /// evaluated finely, in nats (natural log units).
    public var margin = 20.0
    /// How many rings of neighbours of each kept coarse cell are kept too.
    public var ring = 1
    /// The fewest looks a search must have to be pruned (see
    /// ``LocalisationSettings/forLooks(_:)``, which ``SourceEstimator`` and the replay's
    /// localisation apply). With fewer, the posterior (each look weighing 0.05) is broad,
    /// most coarse cells are kept, and pruning costs more than it saves: the fine pass
    /// repeats for every source sought the clear looks that the dense map adds once. Over
    /// the 24 bundled scenarios (300 to 1000 looks each) pruning gave the same sources but
    /// took up to twice as long; on the one-hour replay (3600 looks) it took a seventh.
    public var minimumLooks = 1500

    public init(coarseGridSize: Int = 64, margin: Double = 20, ring: Int = 1, minimumLooks: Int = 1500) {
        self.coarseGridSize = coarseGridSize
        self.margin = margin
        self.ring = ring
        self.minimumLooks = minimumLooks
    }
}

/// A square grid's placement: the south-west corner of cell (0, 0), the side of a cell and
/// the cells per side.
struct GridGeometry {
    var originEast: Double
    var originNorth: Double
    var cell: Double
    var count: Int
}

/// The fine cells kept by pruning: their indices in the grid (row-major, ascending), each
/// one's place among them (or -1), and each row's span of columns kept.
struct FineMask {
    let cells: [Int]
    let slots: [Int32]
    let rowSpans: [(low: Int, high: Int)]
    /// The rows and the columns that hold kept cells (nil: none kept).
    let rowRange: ClosedRange<Int>?
    let columnRange: ClosedRange<Int>?

    /// The fine cells of `grid` whose centre lies in a kept cell of `coarse`.
    init(grid: GridMap, coarse: GridGeometry, keep: [Bool]) {
        let n = grid.columns, m = coarse.count
        var cells: [Int] = [], slots = [Int32](repeating: -1, count: n * grid.rows)
        var spans = [(low: Int, high: Int)](repeating: (1, 0), count: grid.rows)
        // The coarse cell of a fine row or column: by its centre.
        func coarseIndex(_ i: Int) -> Int { min(m - 1, Int((Double(i) + 0.5) * grid.cellSize / coarse.cell)) }
        for row in 0..<grid.rows {
            let coarseRow = coarseIndex(row) * m
            for column in 0..<n where keep[coarseRow + coarseIndex(column)] {
                slots[row * n + column] = Int32(cells.count)
                cells.append(row * n + column)
                spans[row] = spans[row].low > spans[row].high ? (column, column) : (spans[row].low, column)
            }
        }
        self.cells = cells
        self.slots = slots
        rowSpans = spans
        let rows = spans.indices.filter { spans[$0].low <= spans[$0].high }
        rowRange = rows.first.flatMap { first in rows.last.map { first...$0 } }
        let lows = rows.map { spans[$0].low }, highs = rows.map { spans[$0].high }
        columnRange = lows.min().flatMap { low in highs.max().map { low...$0 } }
    }
}

/// The plume model as the cone loop needs it: the downwind unit vector, the tables, the
/// heights.
struct ConeModel: Sendable {
    let ux: Double, uy: Double, logPiU: Double
    let table: StrengthTable
    let halfHeights2: [Double]
    let extraZ2: Double
    let range: Double
    /// Heights × strengths: the values per cell.
    let perCell: Int
    /// The prior weight of each of a cell's values (heights × strengths), summing to 1.
    let prior: [Double]

    init(_ settings: LocalisationSettings, windEast: Double, windNorth: Double, speed: Double) {
        let length = (windEast * windEast + windNorth * windNorth).squareRoot()
        ux = windEast / length  // downwind unit vector
        uy = windNorth / length
        logPiU = Double.log(Double.pi * max(0.5, speed.isFinite ? speed : 0.5))
        let logStrengths = settings.strengths.map { Double.log($0) }
        let heights = settings.heightsAboveSource.isEmpty ? [8.0] : settings.heightsAboveSource
        // Ascending, so that once a height sees nothing, the higher ones see nothing either
        // (the layout of the heights in the accumulators does not matter: all are summed).
        halfHeights2 = heights.map { 0.5 * $0 * $0 }.sorted()
        table = StrengthTable(settings, logStrengths: logStrengths)
        extraZ2 = settings.extraVerticalSpread * settings.extraVerticalSpread
        range = settings.maximumRange
        perCell = logStrengths.count * heights.count
        // Each strength's weight S^(1 − k) on log-spaced strengths makes the prior density
        // ∝ S^−k; relative to the weakest, so that no power overflows.
        let exponent = settings.strengthPriorExponent.isFinite ? settings.strengthPriorExponent : 1
        let weakest = logStrengths.min() ?? 0
        let strengthWeights = logStrengths.map { Double.exp((1 - exponent) * ($0 - weakest)) }
        let total = strengthWeights.reduce(0, +) * Double(heights.count)
        prior = (0..<perCell).map { strengthWeights[$0 % logStrengths.count] / total }
    }

    /// Adds the looks' log-likelihood increments to every cell in their upwind cones (only
    /// the cells of `mask` when given; `accumulators` then holds those cells in its order).
    func accumulate(_ looks: [ObservationGroup], on grid: GridGeometry, mask: FineMask?, into logLikelihood: inout [Double]) {
        let n = grid.count, cell = grid.cell, originEast = grid.originEast, originNorth = grid.originNorth
        let ux = ux, uy = uy, logPiU = logPiU, table = table, halfHeights2 = halfHeights2
        let extraZ2 = extraZ2, range = range
        let halfWidth = 4 * SourceEstimator.sigmaY(range) + cell
        let strengthCount = table.strengths
        let s = perCell
        if let mask, mask.rowRange == nil { return }
        logLikelihood.withUnsafeMutableBufferPointer { likelihood in
            guard let accumulators = likelihood.baseAddress else { return }
            table.withRows { hitRows, missRows in
                for o in looks {
                    let rows = o.hit ? hitRows : missRows
                    // The cells upwind of the look, within range and the plume's width.
                    let farEast = o.east - ux * range, farNorth = o.north - uy * range
                    let e0 = min(o.east, farEast) - halfWidth, e1 = max(o.east, farEast) + halfWidth
                    let n0 = min(o.north, farNorth) - halfWidth, n1 = max(o.north, farNorth) + halfWidth
                    guard var columns = cellIndices(e0, e1, origin: originEast, cell: cell, count: n),
                          var rowRange = cellIndices(n0, n1, origin: originNorth, cell: cell, count: n)
                    else { continue }
                    // Pruned: only the looks whose cone's box meets the kept cells' box.
                    if let mask, let keptRows = mask.rowRange, let keptColumns = mask.columnRange {
                        guard rowRange.overlaps(keptRows), columns.overlaps(keptColumns) else { continue }
                        rowRange = rowRange.clamped(to: keptRows)
                        columns = columns.clamped(to: keptColumns)
                    }
                    for row in rowRange {
                        let sn = originNorth + (Double(row) + 0.5) * cell
                        let dy = o.north - sn
                        // The columns whose x lies in (0.5, range) and |y| < halfWidth:
                        // the strip of the cone's rotated rectangle on this row.
                        var lo = Double(columns.lowerBound), hi = Double(columns.upperBound)
                        if let span = mask?.rowSpans[row] {
                            lo = max(lo, Double(span.low))
                            hi = min(hi, Double(span.high))
                        }
                        SourceEstimator.clip(&lo, &hi, a: ux, b: dy * uy, low: 0.5, high: range, origin: o.east - originEast, cell: cell)
                        SourceEstimator.clip(&lo, &hi, a: -uy, b: dy * ux, low: -halfWidth, high: halfWidth, origin: o.east - originEast, cell: cell)
                        // The wedge |y| < 4·(0.11·x + 1) holds the cone |y| < 4·σy(x)
                        // (σy ≤ 0.11·x + 1): y ∓ 0.44·x < 4 are two more half-planes.
                        let relative = o.east - originEast
                        SourceEstimator.clip(&lo, &hi, a: -uy - 0.44 * ux, b: dy * (ux - 0.44 * uy), low: -.infinity, high: 4 + cell, origin: relative, cell: cell)
                        SourceEstimator.clip(&lo, &hi, a: uy - 0.44 * ux, b: -dy * (ux + 0.44 * uy), low: -.infinity, high: 4 + cell, origin: relative, cell: cell)
                        guard lo <= hi else { continue }
                        for column in Int(lo)...Int(hi) {
                            var base = row * n + column
                            if let mask {
                                let slot = Int(mask.slots[base])
                                guard slot >= 0 else { continue }
                                base = slot
                            }
                            let se = originEast + (Double(column) + 0.5) * cell
                            let dx = o.east - se
                            let x = dx * ux + dy * uy
                            guard x > 0.5, x < range else { continue }
                            let y = -dx * uy + dy * ux
                            let sy = SourceEstimator.sigmaY(x)
                            guard abs(y) < 4 * sy else { continue }
                            let sz = SourceEstimator.sigmaZ(x)
                            let sz2 = sz * sz + extraZ2
                            // log of the concentration per unit strength, at each height.
                            let logBase = -0.5 * y * y / (sy * sy) - logPiU - 0.5 * Double.log(sy * sy * sz2)
                            let inverseSZ2 = 1 / sz2
                            base *= s
                            for h2 in halfHeights2 {
                                let logC = logBase - h2 * inverseSZ2
                                // Higher looks only see less: nothing left to add.
                                guard table.add(logC: logC, weight: o.weight, rows: rows, to: accumulators + base) else { break }
                                base += strengthCount
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Looks at the same place with the same outcome, counted once with their multiplicity
/// (hovering, repeated passes, and the order sorted so that neighbouring looks, whose
/// cones overlap, follow each other in memory).
struct ObservationGroup {
    var east: Double
    var north: Double
    var hit: Bool
    var weight: Double

    /// The finite looks, grouped.
    static func grouped(_ observations: [PlumeObservation]) -> [ObservationGroup] {
        let sorted = observations.filter { $0.east.isFinite && $0.north.isFinite }.sorted {
            ($0.north, $0.east, $0.hit ? 1 : 0) < ($1.north, $1.east, $1.hit ? 1 : 0)
        }
        var out: [ObservationGroup] = []
        out.reserveCapacity(sorted.count)
        for o in sorted {
            if let last = out.last, last.east == o.east, last.north == o.north, last.hit == o.hit {
                out[out.count - 1].weight += 1
            } else {
                out.append(ObservationGroup(east: o.east, north: o.north, hit: o.hit, weight: 1))
            }
        }
        return out
    }
}

/// The weighted log-likelihood increments of a look for every strength at once, as a
/// function of log c (the concentration per unit strength), tabulated: row `i` holds, for
/// `log c = low + i·step`, the increment at each strength followed by its difference to
/// the next row, so that one index and one interpolation weight serve all strengths.
///
/// Node values are the exact increments (0 at or below `lowest`, constant at or above
/// `highest`); between nodes they are interpolated linearly, as the former one-strength
/// table did at the same step (only its grid is now shifted by each strength, so results
/// differ from it by the interpolation error, |g''|·step²/8 ≈ 1e-5 of an increment).
struct StrengthTable {
    /// log(S·c) at or below which a look counts as far from any plume, above which the
    /// hit probability no longer changes, and the step of the table.
    static let lowest = -18.0, highest = 8.0, step = 0.01
    let low: Double
    let inverseStep: Double
    let strengths: Int
    let lastRow: Int
    private var hit: [Double] = []
    private var miss: [Double] = []

    init(_ settings: LocalisationSettings, logStrengths: [Double]) {
        let step = Self.step
        let maxLogS = logStrengths.max() ?? 0, minLogS = logStrengths.min() ?? 0
        low = Self.lowest - maxLogS
        let high = Self.highest - minLogS
        inverseStep = 1 / step
        strengths = logStrengths.count
        lastRow = Int(((high - low) / step).rounded(.up)) + 1
        let eps = settings.falseHitProbability, span = 1 - eps - settings.missProbability
        let w = settings.observationWeight
        func increment(_ t: Double, hit: Bool) -> Double {
            if t <= Self.lowest { return 0 }
            let p = eps + span * (1 - Double.exp(-Double.exp(min(t, Self.highest))))
            return hit ? w * (Double.log(p) - Double.log(eps)) : w * (Double.log(1 - p) - Double.log(1 - eps))
        }
        for outcome in [true, false] {
            var values: [Double] = []
            values.reserveCapacity((lastRow + 1) * 2 * strengths)
            var next = logStrengths.map { increment(low + $0, hit: outcome) }
            for i in 0...lastRow {
                let current = next
                next = logStrengths.map { increment(low + Double(i + 1) * step + $0, hit: outcome) }
                values.append(contentsOf: current)
                values.append(contentsOf: zip(next, current).map { i == lastRow ? 0 : $0 - $1 })
            }
            if outcome { hit = values } else { miss = values }
        }
    }

    /// Calls `body` with the rows for hits and for misses.
    func withRows(_ body: (UnsafePointer<Double>, UnsafePointer<Double>) -> Void) {
        hit.withUnsafeBufferPointer { h in
            miss.withUnsafeBufferPointer { m in
                // Both hold (lastRow + 1)·2·strengths ≥ 2 values: never empty.
                guard let hp = h.baseAddress, let mp = m.baseAddress else { return }
                body(hp, mp)
            }
        }
    }

    /// Adds `weight` times the increments at `logC` for every strength to `accumulators`.
    /// - Returns: false when the concentration is too low for any strength to count
    ///   (nothing added).
    @inline(__always)
    func add(logC: Double, weight: Double, rows: UnsafePointer<Double>, to accumulators: UnsafeMutablePointer<Double>) -> Bool {
        let f = (logC - low) * inverseStep
        guard f > 0 else { return false }
        var i = lastRow, a = 0.0
        if f < Double(lastRow) {
            i = Int(f)
            a = f - Double(i)
        }
        let row = rows + i * 2 * strengths
        let difference = row + strengths
        // Four strengths at a time (unaligned vector loads and stores), then the rest.
        let aw = SIMD4(repeating: a * weight), w = SIMD4(repeating: weight)
        var k = 0
        while k + 4 <= strengths {
            let values = UnsafeRawPointer(row + k).loadUnaligned(as: SIMD4<Double>.self)
            let slopes = UnsafeRawPointer(difference + k).loadUnaligned(as: SIMD4<Double>.self)
            let target = UnsafeMutableRawPointer(accumulators + k)
            let sum = target.loadUnaligned(as: SIMD4<Double>.self) + w * values + aw * slopes
            target.storeBytes(of: sum, as: SIMD4<Double>.self)
            k += 4
        }
        while k < strengths {
            accumulators[k] += weight * (row[k] + a * difference[k])
            k += 1
        }
        return true
    }
}

/// The cells along one axis of a grid (`count` cells of `cell` metres from `origin`) that
/// the span `low...high` metres touches, or nil when it misses them all.
@inline(__always)
func cellIndices(_ low: Double, _ high: Double, origin: Double, cell: Double, count: Int) -> ClosedRange<Int>? {
    let first = ((low - origin) / cell).rounded(.down), last = ((high - origin) / cell).rounded(.up)
    guard first <= Double(count - 1), last >= 0, first <= last else { return nil }
    return Int(max(0, first))...Int(min(Double(count - 1), last))
}

@inlinable
func hypot(_ a: Double, _ b: Double) -> Double { (a * a + b * b).squareRoot() }
