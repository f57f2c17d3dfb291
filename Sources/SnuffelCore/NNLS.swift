/// Non-negative least squares, `min ‖A x − b‖₂` subject to `x ≥ 0`, by the active-set
/// method of Lawson and Hanson (Solving Least Squares Problems, 1974, ch. 23).
///
/// All storage is allocated once at construction for the largest problem; ``solve(rows:columns:)``
/// allocates nothing. Fill ``a`` (column-major, `a[row + column * maxRows]`) and ``b``,
/// then read ``x``.
public struct NNLSSolver: Sendable {
    public let maxRows: Int
    public let maxColumns: Int
    /// The matrix, column-major with leading dimension `maxRows`.
    public var a: [Double]
    /// The right-hand side, `maxRows` long.
    public var b: [Double]
    /// The solution, `maxColumns` long.
    public private(set) var x: [Double]
    private var w: [Double]
    private var z: [Double]
    private var passive: [Bool]
    private var gram: [Double]
    private var rhs: [Double]
    private var index: [Int]

    public init(maxRows: Int, maxColumns: Int) {
        let r = max(1, maxRows), c = max(1, maxColumns)
        self.maxRows = r
        self.maxColumns = c
        a = Array(repeating: 0, count: r * c)
        b = Array(repeating: 0, count: r)
        x = Array(repeating: 0, count: c)
        w = Array(repeating: 0, count: c)
        z = Array(repeating: 0, count: c)
        passive = Array(repeating: false, count: c)
        gram = Array(repeating: 0, count: c * c)
        rhs = Array(repeating: 0, count: c)
        index = Array(repeating: 0, count: c)
    }

    /// Sets the matrix and right-hand side to zero for a problem of the given size.
    public mutating func reset(rows: Int, columns: Int) {
        for j in 0..<columns {
            for i in 0..<rows { a[i + j * maxRows] = 0 }
        }
        for i in 0..<rows { b[i] = 0 }
    }

    /// Solves the problem held in the first `rows` × `columns` of ``a`` and ``b``.
    ///
    /// - Parameters:
    ///   - rows: rows in use, at most `maxRows`.
    ///   - columns: columns in use, at most `maxColumns`.
    /// - Returns: the residual norm ‖A x − b‖₂.
    /// - Complexity: O(columns · (rows · columns + columns³)) per outer iteration, at
    ///   most `3 · columns` iterations.
    @discardableResult
    public mutating func solve(rows: Int, columns n: Int) -> Double {
        let m = min(rows, maxRows)
        let n = min(n, maxColumns)
        for j in 0..<n { x[j] = 0; passive[j] = false }
        var scale = 0.0
        for j in 0..<n { for i in 0..<m { scale = max(scale, abs(a[i + j * maxRows])) } }
        let tolerance = 1e-12 * max(scale, 1e-300) * Double(max(m, n))
        var iterations = 0
        while iterations < 3 * n + 3 {
            iterations += 1
            gradient(m, n)
            var best = -1
            var bestW = tolerance
            for j in 0..<n where !passive[j] && w[j] > bestW {
                bestW = w[j]
                best = j
            }
            if best < 0 { break }
            passive[best] = true
            var inner = 0
            while inner < 3 * n + 3 {
                inner += 1
                guard solvePassive(m, n) else {
                    passive[best] = false
                    return residual(m, n)
                }
                var allPositive = true
                for j in 0..<n where passive[j] && z[j] <= 0 { allPositive = false }
                if allPositive {
                    for j in 0..<n { x[j] = passive[j] ? z[j] : 0 }
                    break
                }
                var alpha = Double.infinity
                for j in 0..<n where passive[j] && z[j] <= 0 {
                    let d = x[j] - z[j]
                    if d > 0 { alpha = min(alpha, x[j] / d) }
                }
                if !alpha.isFinite { alpha = 0 }
                for j in 0..<n where passive[j] {
                    x[j] += alpha * (z[j] - x[j])
                    if x[j] <= tolerance { x[j] = 0; passive[j] = false }
                }
            }
        }
        return residual(m, n)
    }

    private mutating func gradient(_ m: Int, _ n: Int) {
        for j in 0..<n {
            var s = 0.0
            for i in 0..<m {
                var r = b[i]
                for k in 0..<n where x[k] != 0 { r -= a[i + k * maxRows] * x[k] }
                s += a[i + j * maxRows] * r
            }
            w[j] = s
        }
    }

    /// Least squares over the passive columns by Cholesky on the normal equations, with
    /// a tiny ridge for rank-deficient sets. Returns false if it cannot be solved.
    private mutating func solvePassive(_ m: Int, _ n: Int) -> Bool {
        var p = 0
        for j in 0..<n where passive[j] { index[p] = j; p += 1 }
        if p == 0 { return false }
        var trace = 0.0
        for u in 0..<p {
            let cu = index[u]
            for v in 0...u {
                let cv = index[v]
                var s = 0.0
                for i in 0..<m { s += a[i + cu * maxRows] * a[i + cv * maxRows] }
                gram[u + v * maxColumns] = s
                gram[v + u * maxColumns] = s
            }
            var s = 0.0
            for i in 0..<m { s += a[i + cu * maxRows] * b[i] }
            rhs[u] = s
            trace += gram[u + u * maxColumns]
        }
        let ridge = 1e-12 * max(trace, 1e-300)
        for u in 0..<p { gram[u + u * maxColumns] += ridge }
        // Cholesky in place (lower triangle).
        for j in 0..<p {
            var d = gram[j + j * maxColumns]
            for k in 0..<j { d -= gram[j + k * maxColumns] * gram[j + k * maxColumns] }
            guard d > 0, d.isFinite else { return false }
            let l = d.squareRoot()
            gram[j + j * maxColumns] = l
            for i in (j + 1)..<max(p, j + 1) {
                var s = gram[i + j * maxColumns]
                for k in 0..<j { s -= gram[i + k * maxColumns] * gram[j + k * maxColumns] }
                gram[i + j * maxColumns] = s / l
            }
        }
        for i in 0..<p {
            var s = rhs[i]
            for k in 0..<i { s -= gram[i + k * maxColumns] * rhs[k] }
            rhs[i] = s / gram[i + i * maxColumns]
        }
        for i in stride(from: p - 1, through: 0, by: -1) {
            var s = rhs[i]
            for k in (i + 1)..<max(p, i + 1) { s -= gram[k + i * maxColumns] * rhs[k] }
            rhs[i] = s / gram[i + i * maxColumns]
        }
        for j in 0..<n { z[j] = 0 }
        for u in 0..<p { z[index[u]] = rhs[u] }
        return true
    }

    private func residual(_ m: Int, _ n: Int) -> Double {
        var ss = 0.0
        for i in 0..<m {
            var r = b[i]
            for k in 0..<n where x[k] != 0 { r -= a[i + k * maxRows] * x[k] }
            ss += r * r
        }
        return ss.squareRoot()
    }
}
