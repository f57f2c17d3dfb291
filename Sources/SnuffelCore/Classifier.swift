import RealModule

/// Signature classification: which class of source explains an event's multi-channel
/// response best, how sure we are, and the compound amounts behind it.
///
/// For each class, the event's per-channel areas `r` are fitted with non-negative
/// compound doses `a` of that class's compounds, `r ≈ A a`, where `A` holds the library's
/// responses per ppm scaled by each unit's sensitivity. Two things make the fit robust
/// to a real sensor that differs from the library:
///
/// - every channel's error is `σ² = σ_noise² + (tol · max(|r|, |A a|))²`: the library is
///   trusted to `model_tolerance` (relative; `mox_model_tolerance` for metal-oxide
///   channels), so a sensitivity off by 30 % costs little
///   while a channel that stays flat where the class predicts a response costs much;
///   the weights are re-estimated once with the fitted prediction;
/// - the doses are held towards the class's nominal mixture by penalty rows
///   `√μ · (a_j − f_j Σa) / S`, so a class with many compounds cannot explain anything by
///   picking a convenient subset (`mixture_stiffness` sets μ relative to the signal).
///
/// The class with the lowest χ² wins; its confidence is its tempered posterior weight
/// among the classes (`exp(−Δχ² / 2s)` with `s` the best fit's reduced χ², at least 1),
/// times the fraction of the response it explains, times a factor that grows with the
/// event's signal-to-noise ratio.
struct Classifier {
    let slots: Int
    let compounds: Int
    /// `response[slot + compound * slots]`.
    let response: [Double]
    let classCompounds: [[Int]]
    let classFractions: [[Double]]
    let confounder: [Bool]
    let settings: DetectionSettings
    /// Relative model tolerance per slot (MOX channels are trusted less).
    let tolerance: [Double]

    var solver: NNLSSolver
    var weight: [Double]
    var prediction: [Double]
    var usableSlots: [Int]

    // Results of the last `classify`.
    var chi2: [Double]
    var misfit: [Double]
    var bestDoses: [Double]
    var doses: [Double]

    init(gasChannels: [ChannelSpec], library: SignatureLibrary, settings: DetectionSettings) {
        slots = gasChannels.count
        compounds = library.compounds.count
        var a = Array(repeating: 0.0, count: max(1, slots * compounds))
        for (s, c) in gasChannels.enumerated() {
            let key = c.responseKey
            for (j, compound) in library.compounds.enumerated() {
                a[s + j * slots] = (compound.responses[key]?.perPPM ?? 0) * c.calibration.sensitivity
            }
        }
        response = a
        var cc: [[Int]] = []
        var cf: [[Double]] = []
        for k in library.classes {
            var idx: [Int] = []
            var fr: [Double] = []
            for (id, f) in k.components {
                if let j = library.compoundIndex(id) { idx.append(j); fr.append(f) }
            }
            let total = fr.reduce(0, +)
            cc.append(idx)
            cf.append(fr.map { total > 0 ? $0 / total : 0 })
        }
        classCompounds = cc
        classFractions = cf
        confounder = library.classes.map(\.isConfounder)
        tolerance = gasChannels.map { $0.kind.isMOX ? settings.moxModelTolerance : settings.modelTolerance }
        self.settings = settings
        let maxClassSize = max(1, cc.map(\.count).max() ?? 1)
        solver = NNLSSolver(maxRows: slots + maxClassSize, maxColumns: maxClassSize)
        weight = Array(repeating: 0, count: max(1, slots))
        prediction = Array(repeating: 0, count: max(1, slots))
        usableSlots = Array(repeating: 0, count: max(1, slots))
        chi2 = Array(repeating: .infinity, count: library.classes.count)
        misfit = Array(repeating: 1, count: library.classes.count)
        bestDoses = Array(repeating: 0, count: max(1, compounds))
        doses = Array(repeating: 0, count: max(1, compounds))
    }

    struct Outcome {
        var signatureClass: Int?
        var confidence: Double
        /// The same confidence for "some non-confounder class" (any lab or dump).
        var threatConfidence: Double
        var residual: Double
    }

    /// Classifies one event.
    /// - Parameters:
    ///   - area: per slot, the integrated linearised excess.
    ///   - sigma: per slot, the noise standard deviation of that area.
    ///   - usable: per slot, whether the channel covered the event well enough to count.
    ///   - snr: the event's peak signal-to-noise ratio, σ.
    /// - Returns: the winning class (nil when nothing fits), its confidence and residual;
    ///   ``misfit``, ``chi2`` and ``bestDoses`` hold the details.
    mutating func classify(area: [Double], sigma: [Double], usable: [Bool], snr: Double) -> Outcome {
        var m = 0
        for s in 0..<slots where usable[s] { usableSlots[m] = s; m += 1 }
        for j in 0..<compounds { bestDoses[j] = 0 }
        for k in 0..<chi2.count { chi2[k] = .infinity; misfit[k] = 1 }
        guard m >= 1, !classCompounds.isEmpty else { return Outcome(signatureClass: nil, confidence: 0, threatConfidence: 0, residual: 1) }

        var best = -1
        var bestChi2 = Double.infinity
        for k in 0..<classCompounds.count {
            let members = classCompounds[k]
            let n = members.count
            if n == 0 { continue }
            // Pass 0 weights from the observation alone; pass 1 from observation and fit.
            for u in 0..<m {
                let s = usableSlots[u]
                let tol = tolerance[s]
                weight[s] = 1 / (sigma[s] * sigma[s] + tol * tol * area[s] * area[s]).squareRoot()
            }
            var signal2 = 0.0
            var chi = Double.infinity
            for pass in 0..<2 {
                if pass == 1 {
                    for u in 0..<m {
                        let s = usableSlots[u]
                        let big = max(abs(area[s]), abs(prediction[s]))
                        let tol = tolerance[s]
                        weight[s] = 1 / (sigma[s] * sigma[s] + tol * tol * big * big).squareRoot()
                    }
                }
                // Nominal-mixture profile and the scale that matches its magnitude.
                signal2 = 0
                var profile2 = 0.0
                for u in 0..<m {
                    let s = usableSlots[u]
                    var p = 0.0
                    for (i, j) in members.enumerated() { p += response[s + j * slots] * classFractions[k][i] }
                    let wr = weight[s] * area[s]
                    let wp = weight[s] * p
                    signal2 += wr * wr
                    profile2 += wp * wp
                }
                if signal2 <= 0 || profile2 <= 0 { chi = .infinity; break }
                let scale = (signal2 / profile2).squareRoot()
                let penalty = (settings.mixtureStiffness * signal2).squareRoot() / scale
                let rows = m + n
                solver.reset(rows: rows, columns: n)
                for u in 0..<m {
                    let s = usableSlots[u]
                    for (i, j) in members.enumerated() { solver.a[u + i * solver.maxRows] = weight[s] * response[s + j * slots] }
                    solver.b[u] = weight[s] * area[s]
                }
                for r in 0..<n {
                    for i in 0..<n {
                        solver.a[m + r + i * solver.maxRows] = penalty * ((r == i ? 1 : 0) - classFractions[k][r])
                    }
                }
                let res = solver.solve(rows: rows, columns: n)
                chi = res * res
                for u in 0..<m {
                    let s = usableSlots[u]
                    var p = 0.0
                    for (i, j) in members.enumerated() { p += response[s + j * slots] * solver.x[i] }
                    prediction[s] = p
                }
            }
            chi2[k] = chi
            misfit[k] = signal2 > 0 ? min(1, max(0, chi / signal2)) : 1
            if chi < bestChi2 {
                bestChi2 = chi
                best = k
                for j in 0..<compounds { doses[j] = 0 }
                for (i, j) in members.enumerated() { doses[j] = solver.x[i] }
                swap(&doses, &bestDoses)
            }
        }
        guard best >= 0 else { return Outcome(signatureClass: nil, confidence: 0, threatConfidence: 0, residual: 1) }
        let residual = misfit[best]
        if 1 - residual < settings.minFit {
            return Outcome(signatureClass: nil, confidence: 0, threatConfidence: 0, residual: residual)
        }
        let dof = Double(max(1, m - 1))
        let temper = max(1, bestChi2 / dof)
        var total = 0.0
        var threat = 0.0
        for k in 0..<chi2.count where chi2[k].isFinite {
            let weight = Double.exp(-(chi2[k] - bestChi2) / (2 * temper))
            total += weight
            if !confounder[k] { threat += weight }
        }
        let posterior = total > 0 ? 1 / total : 0
        let onSigma = settings.hitOnSigma
        let snrFactor = max(0, 1 - Double.exp(-max(0, snr - settings.hitOffSigma) / onSigma))
        let quality = (1 - residual) * snrFactor
        let confidence = min(1, max(0, posterior * quality))
        let threatConfidence = min(1, max(0, (total > 0 ? threat / total : 0) * quality))
        return Outcome(signatureClass: best, confidence: confidence, threatConfidence: threatConfidence, residual: residual)
    }
}
