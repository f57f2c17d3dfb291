import RealModule

/// One reading for a gas distribution map: where (metres east and north in a tangent
/// plane) and how much (any unit, e.g. the signal in noise units).
public struct GasReading: Sendable, Equatable {
    public var east: Double
    public var north: Double
    public var value: Double

    public init(east: Double, north: Double, value: Double) {
        self.east = east
        self.north = north
        self.value = value
    }
}

/// The settings of a Kernel DM+V gas distribution map.
public struct GasMapSettings: Sendable, Equatable {
    /// The side of a cell, metres: coarser than the posterior's, so exported maps stay small.
    public var cellSize = 10.0
    /// The most cells per side; a larger area gets larger cells.
    public var maximumCells = 200
    /// The kernel's width across the wind (and along it in calm air), metres.
    public var kernelWidth = 6.0
    /// The stretch along the wind: σ along = `kernelWidth` · (1 + `windStretch` · speed in m/s).
    public var windStretch = 0.25
    /// σΩ²: the kernel weight (in readings at the cell's centre) at which the confidence
    /// is 1 − 1/e. The kernel is unnormalised (1 at its centre), so the weight Ω of a cell
    /// counts the readings near it.
    public var confidenceScale = 2.0
    /// How far beyond the readings the map reaches, in kernel widths along the wind.
    public var marginWidths = 3.0
    /// The kernel is cut at this many of its widths (e^-4.5 of its centre at 3).
    public var cutoffWidths = 3.0

    public init() {}
}

/// A gas distribution map by Kernel DM+V (Lilienthal, Reggente, Trinçavelli, Blanco and
/// Gonzalez, "A statistical approach to gas distribution modelling with mobile robots —
/// the Kernel DM+V algorithm", IROS 2009), with a kernel stretched along the wind.
///
/// Each reading spreads over the cells with a Gaussian kernel, σ across the wind and
/// σ·(1 + k·|wind|) along it. Per cell, with ω the kernel weights of the readings r:
/// Ω = Σω, the confidence α = 1 − exp(−Ω/σΩ²), the mean α·Σωr/Ω + (1 − α)·r₀ and the
/// variance α·Σω(r − mean at the reading's cell)²/Ω + (1 − α)·v₀, with the prior r₀ and
/// v₀ the mean and variance of all readings. Far from any reading a cell holds the prior
/// with a confidence near 0.
public struct GasDistributionMap: Sendable {
    /// The south-west corner of cell (0, 0), metres.
    public var originEast: Double
    public var originNorth: Double
    /// The side of a cell, metres.
    public var cellSize: Double
    public var columns: Int
    public var rows: Int
    /// Row-major, row 0 in the south: the mean, the variance and the confidence (0...1).
    public var mean: [Double]
    public var variance: [Double]
    public var confidence: [Double]
    /// The prior mean and variance (of all readings).
    public var priorMean: Double
    public var priorVariance: Double

    /// The centre of a cell.
    public func centre(column: Int, row: Int) -> (east: Double, north: Double) {
        (originEast + (Double(column) + 0.5) * cellSize, originNorth + (Double(row) + 0.5) * cellSize)
    }

    /// The cell holding a point, or nil outside the map.
    public func cell(east: Double, north: Double) -> Int? {
        guard east.isFinite, north.isFinite else { return nil }
        let c = ((east - originEast) / cellSize).rounded(.down), r = ((north - originNorth) / cellSize).rounded(.down)
        guard c >= 0, r >= 0, c < Double(columns), r < Double(rows) else { return nil }
        return Int(r) * columns + Int(c)
    }

    /// Builds the map from readings.
    ///
    /// - Parameters:
    ///   - readings: Where and how much; readings with a non-finite field are left out.
    ///   - windEast, windNorth: The mean wind, m/s towards east and north (0 for calm).
    ///   - settings: Cell size, kernel and confidence.
    /// - Returns: The map over the readings' extent and a margin, or nil without readings.
    /// - Complexity: O(n · k + cells) for n readings and k cells under a kernel.
    public static func build(
        readings: [GasReading], windEast: Double, windNorth: Double, settings: GasMapSettings = GasMapSettings()
    ) -> GasDistributionMap? {
        let kept = readings.filter { $0.east.isFinite && $0.north.isFinite && $0.value.isFinite }
        guard !kept.isEmpty else { return nil }
        let kernel = Kernel(windEast: windEast, windNorth: windNorth, settings: settings)
        guard let bounds = PlaneBounds.around(kept.map { ($0.east, $0.north) }, margin: settings.marginWidths * kernel.along)
        else { return nil }
        let side = max(bounds.maxEast - bounds.minEast, bounds.maxNorth - bounds.minNorth)
        let cell = max(settings.cellSize > 0 ? settings.cellSize : 10, side / Double(max(1, settings.maximumCells)))
        let columns = max(1, Int(((bounds.maxEast - bounds.minEast) / cell).rounded(.up)))
        let rows = max(1, Int(((bounds.maxNorth - bounds.minNorth) / cell).rounded(.up)))
        let count = Double(kept.count)
        let priorMean = kept.reduce(0) { $0 + $1.value } / count
        let priorVariance = kept.reduce(0) { $0 + ($1.value - priorMean) * ($1.value - priorMean) } / count
        var map = GasDistributionMap(
            originEast: bounds.minEast, originNorth: bounds.minNorth, cellSize: cell, columns: columns, rows: rows,
            mean: Array(repeating: priorMean, count: columns * rows),
            variance: Array(repeating: priorVariance, count: columns * rows),
            confidence: Array(repeating: 0, count: columns * rows), priorMean: priorMean, priorVariance: priorVariance)
        // Ω and Σωr, then the mean; then Σω(r − mean at the reading's cell)².
        var weight = Array(repeating: 0.0, count: columns * rows)
        var weighted = Array(repeating: 0.0, count: columns * rows)
        for r in kept {
            map.spread(r, kernel: kernel) { k, w in
                weight[k] += w
                weighted[k] += w * r.value
            }
        }
        let scale = max(settings.confidenceScale, .leastNormalMagnitude)
        for k in weight.indices where weight[k] > 0 {
            let alpha = 1 - Double.exp(-weight[k] / scale)
            map.confidence[k] = alpha
            map.mean[k] = alpha * weighted[k] / weight[k] + (1 - alpha) * priorMean
        }
        var squares = Array(repeating: 0.0, count: columns * rows)
        for r in kept {
            let residual = r.value - (map.cell(east: r.east, north: r.north).map { map.mean[$0] } ?? priorMean)
            map.spread(r, kernel: kernel) { k, w in squares[k] += w * residual * residual }
        }
        for k in weight.indices where weight[k] > 0 {
            let alpha = map.confidence[k]
            map.variance[k] = alpha * squares[k] / weight[k] + (1 - alpha) * priorVariance
        }
        return map
    }

    /// The wind-stretched Gaussian kernel, 1 at its centre.
    struct Kernel {
        var ux = 1.0, uy = 0.0
        var along: Double
        var across: Double
        var cutoff: Double

        init(windEast: Double, windNorth: Double, settings: GasMapSettings) {
            let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
            if speed.isFinite, speed > 0.05 {
                ux = windEast / speed
                uy = windNorth / speed
            }
            across = max(settings.kernelWidth, 0.01)
            along = across * (1 + max(0, settings.windStretch) * (speed.isFinite ? speed : 0))
            cutoff = max(1, settings.cutoffWidths)
        }

        /// The weight of a reading at (dx, dy) metres from a cell's centre.
        func weight(dx: Double, dy: Double) -> Double {
            let a = (dx * ux + dy * uy) / along, c = (-dx * uy + dy * ux) / across
            let q = a * a + c * c
            return q < cutoff * cutoff ? Double.exp(-0.5 * q) : 0
        }
    }

    /// Calls `add` with each cell under a reading's kernel and its weight.
    private func spread(_ r: GasReading, kernel: Kernel, _ add: (Int, Double) -> Void) {
        let reach = kernel.cutoff * kernel.along
        guard let columnRange = cellIndices(r.east - reach, r.east + reach, origin: originEast, cell: cellSize, count: columns),
              let rowRange = cellIndices(r.north - reach, r.north + reach, origin: originNorth, cell: cellSize, count: rows)
        else { return }
        for row in rowRange {
            for column in columnRange {
                let centre = centre(column: column, row: row)
                let w = kernel.weight(dx: r.east - centre.east, dy: r.north - centre.north)
                if w > 0 { add(row * columns + column, w) }
            }
        }
    }

    /// The map as GeoJSON: a square polygon per cell whose confidence is at least
    /// `minimumConfidence`, with its `mean`, `variance` and `confidence`.
    ///
    /// - Parameters:
    ///   - plane: The tangent plane the map's metres are in.
    ///   - minimumConfidence: Cells below it (the prior, far from any reading) are left out.
    public func features(plane: LocalTangentPlane, minimumConfidence: Double = 0.3) -> [GeoJSONFeature] {
        var out: [GeoJSONFeature] = []
        for row in 0..<rows {
            for column in 0..<columns {
                let k = row * columns + column
                guard confidence[k] >= minimumConfidence else { continue }
                let west = originEast + Double(column) * cellSize, south = originNorth + Double(row) * cellSize
                let corners = [(west, south), (west + cellSize, south), (west + cellSize, south + cellSize),
                               (west, south + cellSize), (west, south)]
                out.append(GeoJSONFeature(
                    geometry: .polygon([corners.map { plane.position(east: $0.0, north: $0.1) }]),
                    properties: [
                        ("mean", .number(mean[k])), ("variance", .number(variance[k])), ("confidence", .number(confidence[k])),
                        ("column", .integer(Int64(column))), ("row", .integer(Int64(row))), ("cell_m", .number(cellSize)),
                    ]))
            }
        }
        return out
    }
}
