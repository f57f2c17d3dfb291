/// Ordinary linear least squares `y ≈ X β` by Householder QR, with the parameters'
/// covariance.
///
/// QR rather than the normal equations because `XᵀX` squares the condition number, and
/// calibration designs (a constant, log-concentration, temperature and humidity columns) are
/// often badly scaled. Method: Golub & Van Loan, *Matrix Computations*, 4th ed., §5.2
/// (Householder QR) and §5.3 (the full-rank least-squares problem); the covariance of the
/// estimate is `σ² (XᵀX)⁻¹ = σ² (RᵀR)⁻¹` with `σ² = ‖r‖² / (n − p)`, the standard result for
/// ordinary least squares with independent errors of equal variance.
public struct LinearLeastSquares: Sendable, Equatable {
    /// The fitted β, one per column of the design.
    public var coefficients: [Double]
    /// `σ² (XᵀX)⁻¹`, p × p.
    public var covariance: [[Double]]
    /// `y − X β`, one per observation.
    public var residuals: [Double]
    /// `‖r‖² / (n − p)`.
    public var residualVariance: Double
    /// `1 − ‖r‖² / Σ (y − ȳ)²`; 1 when `y` is constant and fitted exactly.
    public var rSquared: Double

    /// Standard uncertainty (1σ) of each coefficient.
    public var standardErrors: [Double] { covariance.indices.map { max(0, covariance[$0][$0]).squareRoot() } }

    /// Why a least-squares problem has no solution.
    public enum Failure: Error, Equatable, Sendable {
        /// Fewer observations than parameters plus one (no estimate of the noise is left).
        case tooFewObservations(observations: Int, parameters: Int)
        /// The columns are linearly dependent (to working precision): column `column` adds
        /// nothing the earlier ones do not already explain.
        case rankDeficient(column: Int)
    }

    /// Fits `y ≈ X β`.
    /// - Parameters:
    ///   - rows: The design matrix X, one row per observation, all of the same length p.
    ///   - y: The observations.
    /// - Complexity: O(n p²).
    public static func fit(rows: [[Double]], y: [Double]) -> Result<LinearLeastSquares, Failure> {
        let n = rows.count
        let p = rows.first?.count ?? 0
        guard n == y.count, p > 0, n > p else { return .failure(.tooFewObservations(observations: min(n, y.count), parameters: p)) }
        // Column-major copy of X, reduced in place to R; b becomes Qᵀy.
        var a = (0..<p).map { j in rows.map { $0.count == p ? $0[j] : .nan } }
        var b = y
        for k in 0..<p {
            var norm = 0.0
            for i in k..<n { norm += a[k][i] * a[k][i] }
            norm = norm.squareRoot()
            // A column whose remaining part vanishes against the others' scale is dependent.
            var columnScale = 0.0
            for v in a[k] { columnScale = max(columnScale, abs(v)) }
            guard norm.isFinite, norm > 1e-10 * max(columnScale, 1e-300) else { return .failure(.rankDeficient(column: k)) }
            let alpha = a[k][k] > 0 ? -norm : norm
            var v = [Double](repeating: 0, count: n)
            for i in k..<n { v[i] = a[k][i] }
            v[k] -= alpha
            var vv = 0.0
            for i in k..<n { vv += v[i] * v[i] }
            guard vv > 0 else { continue }
            func reflect(_ column: inout [Double]) {
                var dot = 0.0
                for i in k..<n { dot += v[i] * column[i] }
                let f = 2 * dot / vv
                for i in k..<n { column[i] -= f * v[i] }
            }
            for j in k..<p { reflect(&a[j]) }
            reflect(&b)
        }
        // Back substitution R β = (Qᵀy)[0..<p].
        var beta = [Double](repeating: 0, count: p)
        for k in stride(from: p - 1, through: 0, by: -1) {
            var s = b[k]
            for j in (k + 1)..<p { s -= a[j][k] * beta[j] }
            beta[k] = s / a[k][k]
        }
        // R⁻¹ (upper triangular), then (RᵀR)⁻¹ = R⁻¹ R⁻ᵀ.
        var rInverse = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for k in 0..<p {
            rInverse[k][k] = 1 / a[k][k]
            for i in stride(from: k - 1, through: 0, by: -1) {
                var s = 0.0
                for j in (i + 1)...k { s += a[j][i] * rInverse[j][k] }
                rInverse[i][k] = -s / a[i][i]
            }
        }
        var residuals = [Double](repeating: 0, count: n)
        var rss = 0.0
        for i in 0..<n {
            var fitted = 0.0
            for j in 0..<p { fitted += rows[i][j] * beta[j] }
            residuals[i] = y[i] - fitted
            rss += residuals[i] * residuals[i]
        }
        let variance = rss / Double(n - p)
        var covariance = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for i in 0..<p {
            for j in 0..<p {
                var s = 0.0
                for k in max(i, j)..<p { s += rInverse[i][k] * rInverse[j][k] }
                covariance[i][j] = variance * s
            }
        }
        let mean = y.reduce(0, +) / Double(n)
        let total = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let r2 = total > 0 ? 1 - rss / total : (rss == 0 ? 1 : 0)
        return .success(LinearLeastSquares(
            coefficients: beta, covariance: covariance, residuals: residuals, residualVariance: variance, rSquared: r2))
    }
}
