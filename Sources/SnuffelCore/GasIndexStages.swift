import RealModule

// The stages of the gas index algorithm and its constants.
//
// Constants and formulas are those of Sensirion's `sensirion-gas-index-algorithm` 3.2.2
// (PyPI), files `swig/sensirion_gas_index_algorithm.h` and
// `swig/sensirion_gas_index_algorithm.c`. Every expression keeps the C code's `Float`
// types and order of operations, because the goal is bit-level agreement with that
// package; do not "simplify" them (for example `a * (b / c)` into `a * b / c`).

/// Sensirion's constants, in `Float` as the C code declares them (`230.f`, `0.09f`, ...).
@usableFromInline
enum GasIndexConstants {
    @inlinable static var initialBlackout: Float { 45 }
    @inlinable static var srawStdBonusVOC: Float { 220 }
    @inlinable static var srawStdNOx: Float { 2000 }
    @inlinable static var tauInitialMeanVOC: Float { 20 }
    @inlinable static var tauInitialMeanNOx: Float { 1200 }
    @inlinable static var initDurationMeanVOC: Float { 3600 * 0.75 }
    @inlinable static var initDurationMeanNOx: Float { 3600 * 4.75 }
    @inlinable static var initTransitionMean: Float { 0.01 }
    @inlinable static var tauInitialVariance: Float { 2500 }
    @inlinable static var initDurationVarianceVOC: Float { 3600 * 1.45 }
    @inlinable static var initDurationVarianceNOx: Float { 3600 * 5.70 }
    @inlinable static var initTransitionVariance: Float { 0.01 }
    @inlinable static var gatingThresholdVOC: Float { 340 }
    @inlinable static var gatingThresholdNOx: Float { 30 }
    @inlinable static var gatingThresholdInitial: Float { 510 }
    @inlinable static var gatingThresholdTransition: Float { 0.09 }
    @inlinable static var gatingMaxRatio: Float { 0.3 }
    @inlinable static var sigmoidL: Float { 500 }
    @inlinable static var sigmoidKVOC: Float { -0.0065 }
    @inlinable static var sigmoidX0VOC: Float { 213 }
    @inlinable static var sigmoidKNOx: Float { -0.0101 }
    @inlinable static var sigmoidX0NOx: Float { 614 }
    @inlinable static var vocIndexOffsetDefault: Float { 100 }
    @inlinable static var noxIndexOffsetDefault: Float { 1 }
    /// `500.f / 499.f`, the NOx sigmoid's shift scale.
    @inlinable static var noxShiftScale: Float { Float(500) / Float(499) }
    @inlinable static var lowpassTauFast: Float { 20 }
    @inlinable static var lowpassTauSlow: Float { 500 }
    @inlinable static var lowpassAlpha: Float { -0.2 }
    @inlinable static var vocSrawMinimum: Int32 { 20000 }
    @inlinable static var noxSrawMinimum: Int32 { 10000 }
    /// The estimator uptime that ``GasIndexAlgorithm/setState(_:)`` assumes: 3 hours.
    @inlinable static var persistenceUptimeGamma: Float { 3 * 3600 }
    @inlinable static var gammaScaling: Float { 64 }
    @inlinable static var additionalGammaMeanScaling: Float { 8 }
    /// The largest uptime the estimator counts to (a relic of the fixed-point build).
    @inlinable static var fix16Max: Float { 32767 }
}

/// The logistic `1 / (1 + e^(k (sample - x0)))`, saturated to 1 and 0 beyond |exponent| 50
/// as Sensirion's code does.
///
/// Below an exponent of −17 the result is returned without calling `exp`: in `Float`,
/// `e^x ≤ 2⁻²⁴` for `x ≤ −16.64`, so `1 + e^x` rounds to exactly 1 and the result is exactly
/// 1 either way (the peer test checks every sample bit for bit). In clean air this skips the
/// two gating sigmoids.
@inlinable
func gasIndexSigmoid(_ sample: Float, x0: Float, k: Float) -> Float {
    let x = k * (sample - x0)
    if x < -17 {
        return 1
    } else if x > 50 {
        return 0
    } else {
        return 1 / (1 + Float.exp(x))
    }
}

/// `1 + e^x` in `Float`, without calling `exp` where the sum is exactly 1 (x < −17, see
/// ``gasIndexSigmoid(_:x0:k:)``).
@inlinable
func gasIndexOnePlusExp(_ x: Float) -> Float {
    x < -17 ? 1 : 1 + Float.exp(x)
}

/// The constants that differ between VOC and NOx.
@usableFromInline
@frozen
struct GasIndexProfile: Sendable {
    @usableFromInline let srawMinimum: Int32
    @usableFromInline let sigmoidK: Float
    @usableFromInline let sigmoidX0: Float
    /// The default index offset, which also tells the sigmoid which shift to use.
    @usableFromInline let offsetDefault: Float
    @usableFromInline let gatingThreshold: Float
    @usableFromInline let tauInitialMean: Float
    @usableFromInline let initDurationMean: Float
    @usableFromInline let initDurationVariance: Float

    @inlinable
    init(_ kind: GasIndexAlgorithm.Kind) {
        typealias C = GasIndexConstants
        switch kind {
        case .voc:
            srawMinimum = C.vocSrawMinimum
            sigmoidK = C.sigmoidKVOC
            sigmoidX0 = C.sigmoidX0VOC
            offsetDefault = C.vocIndexOffsetDefault
            gatingThreshold = C.gatingThresholdVOC
            tauInitialMean = C.tauInitialMeanVOC
            initDurationMean = C.initDurationMeanVOC
            initDurationVariance = C.initDurationVarianceVOC
        case .nox:
            srawMinimum = C.noxSrawMinimum
            sigmoidK = C.sigmoidKNOx
            sigmoidX0 = C.sigmoidX0NOx
            offsetDefault = C.noxIndexOffsetDefault
            gatingThreshold = C.gatingThresholdNOx
            tauInitialMean = C.tauInitialMeanNOx
            initDurationMean = C.initDurationMeanNOx
            initDurationVariance = C.initDurationVarianceNOx
        }
    }
}

/// The tuning in force, in `Float` as the arithmetic uses it.
@usableFromInline
@frozen
struct GasIndexTuning: Sendable {
    @usableFromInline var indexOffset: Float
    @usableFromInline var tauMeanHours: Float
    @usableFromInline var tauVarianceHours: Float
    @usableFromInline var gatingMaxDurationMinutes: Float
    @usableFromInline var srawStdInitial: Float
    @usableFromInline var indexGain: Float

    @inlinable
    init(_ parameters: GasIndexAlgorithm.TuningParameters) {
        indexOffset = Float(parameters.indexOffset)
        tauMeanHours = Float(parameters.learningTimeOffsetHours)
        tauVarianceHours = Float(parameters.learningTimeGainHours)
        gatingMaxDurationMinutes = Float(parameters.gatingMaxDurationMinutes)
        srawStdInitial = Float(parameters.stdInitial)
        indexGain = Float(parameters.gainFactor)
    }

    @inlinable
    var parameters: GasIndexAlgorithm.TuningParameters {
        GasIndexAlgorithm.TuningParameters(
            indexOffset: Int32(indexOffset), learningTimeOffsetHours: Int32(tauMeanHours),
            learningTimeGainHours: Int32(tauVarianceHours),
            gatingMaxDurationMinutes: Int32(gatingMaxDurationMinutes),
            stdInitial: Int32(srawStdInitial), gainFactor: Int32(indexGain))
    }
}

/// The slow estimator of the raw signal's mean and standard deviation.
///
/// It learns fast for the first hours (the initial gammas) and slowly after (the
/// learning times), and freezes ("gating") while the index is high so that an event
/// does not become the new baseline, for at most the gating duration.
@usableFromInline
@frozen
struct GasIndexMeanVarianceEstimator: Sendable {
    @usableFromInline var initialized: Bool
    /// The mean relative to `srawOffset`, kept small so that `Float` keeps its precision.
    @usableFromInline var mean: Float
    @usableFromInline var srawOffset: Float
    @usableFromInline var std: Float
    // Settings.
    @usableFromInline let samplingInterval: Float
    @usableFromInline let gatingThreshold: Float
    @usableFromInline let gatingMaxDurationMinutes: Float
    @usableFromInline let initDurationMean: Float
    @usableFromInline let initDurationVariance: Float
    // The learning rates after the initial phase and during it.
    @usableFromInline let gammaMeanLearned: Float
    @usableFromInline let gammaVarianceLearned: Float
    @usableFromInline let gammaMeanInitial: Float
    @usableFromInline let gammaVarianceInitial: Float
    // The rates in force for the current sample.
    @usableFromInline var gammaMean: Float
    @usableFromInline var gammaVariance: Float
    @usableFromInline var uptimeGamma: Float
    @usableFromInline var uptimeGating: Float
    @usableFromInline var gatingDurationMinutes: Float
    // Values that depend only on the uptimes, and the uptimes they were computed for (NaN:
    // not yet computed).
    @usableFromInline var cachedUptimeGamma: Float = .nan
    @usableFromInline var cachedUptimeGating: Float = .nan
    @usableFromInline var rateMean: Float = 0
    @usableFromInline var rateVariance: Float = 0
    @usableFromInline var thresholdMean: Float = 0
    @usableFromInline var thresholdVariance: Float = 0

    @inlinable
    init(profile: GasIndexProfile, samplingInterval: Float, tuning: GasIndexTuning) {
        typealias C = GasIndexConstants
        let hours = samplingInterval / 3600
        initialized = false
        mean = 0
        srawOffset = 0
        std = tuning.srawStdInitial
        self.samplingInterval = samplingInterval
        gatingMaxDurationMinutes = tuning.gatingMaxDurationMinutes
        gatingThreshold = profile.gatingThreshold
        initDurationMean = profile.initDurationMean
        initDurationVariance = profile.initDurationVariance
        gammaMeanLearned =
            ((C.additionalGammaMeanScaling * C.gammaScaling) * hours) / (tuning.tauMeanHours + hours)
        gammaVarianceLearned = (C.gammaScaling * hours) / (tuning.tauVarianceHours + hours)
        gammaMeanInitial =
            ((C.additionalGammaMeanScaling * C.gammaScaling) * samplingInterval)
            / (profile.tauInitialMean + samplingInterval)
        gammaVarianceInitial =
            (C.gammaScaling * samplingInterval) / (C.tauInitialVariance + samplingInterval)
        gammaMean = 0
        gammaVariance = 0
        uptimeGamma = 0
        uptimeGating = 0
        gatingDurationMinutes = 0
    }

    /// The estimated mean in raw ticks above the SRAW minimum.
    @inlinable
    var offsetMean: Float { mean + srawOffset }

    /// Sets a saved mean and deviation and skips the initial learning phase.
    @inlinable
    mutating func restore(mean: Float, std: Float) {
        self.mean = mean
        self.std = std
        uptimeGamma = GasIndexConstants.persistenceUptimeGamma
        initialized = true
    }

    /// Learns from one raw value (ticks above the minimum) given the index just output.
    @inlinable
    mutating func process(_ sraw: Float, gasIndex: Float) {
        typealias C = GasIndexConstants
        guard initialized else {
            initialized = true
            srawOffset = sraw
            mean = 0
            return
        }
        if mean >= 100 || mean <= -100 {
            srawOffset = srawOffset + mean
            mean = 0
        }
        let sraw = sraw - srawOffset
        updateGammas(gasIndex: gasIndex)
        let delta = (sraw - mean) / C.gammaScaling
        let c = delta < 0 ? std - delta : std + delta
        if c > 1440 {
            let scaling = (c / 1440) * (c / 1440)
            std =
                (scaling * (C.gammaScaling - gammaVariance)).squareRoot()
                * ((std * (std / (C.gammaScaling * scaling)))
                    + (((gammaVariance * delta) / scaling) * delta)).squareRoot()
        } else {
            std =
                (C.gammaScaling - gammaVariance).squareRoot()
                * ((std * (std * (1 / C.gammaScaling))) + ((gammaVariance * delta) * delta)).squareRoot()
        }
        mean = mean + ((gammaMean * delta) / C.additionalGammaMeanScaling)
    }

    /// Sets this sample's learning rates from the uptime and from how high the index is.
    @inlinable @inline(__always)
    mutating func updateGammas(gasIndex: Float) {
        typealias C = GasIndexConstants
        let uptimeLimit = C.fix16Max - samplingInterval
        if uptimeGamma < uptimeLimit {
            uptimeGamma = uptimeGamma + samplingInterval
        }
        if uptimeGating < uptimeLimit {
            uptimeGating = uptimeGating + samplingInterval
        }
        // The learning rates and gating thresholds are functions of the uptimes only, which
        // stop changing once they reach their limit: they are computed again only when an
        // uptime has changed (the same values, without the four sigmoids per sample).
        if uptimeGamma != cachedUptimeGamma {
            cachedUptimeGamma = uptimeGamma
            let sigmoidGammaMean = gasIndexSigmoid(
                uptimeGamma, x0: initDurationMean, k: C.initTransitionMean)
            let sigmoidGammaVariance = gasIndexSigmoid(
                uptimeGamma, x0: initDurationVariance, k: C.initTransitionVariance)
            rateMean = gammaMeanLearned + ((gammaMeanInitial - gammaMeanLearned) * sigmoidGammaMean)
            rateVariance =
                gammaVarianceLearned
                + ((gammaVarianceInitial - gammaVarianceLearned)
                    * (sigmoidGammaVariance - sigmoidGammaMean))
        }
        if uptimeGating != cachedUptimeGating {
            cachedUptimeGating = uptimeGating
            thresholdMean = closingIndex(initDuration: initDurationMean, transition: C.initTransitionMean)
            thresholdVariance = closingIndex(
                initDuration: initDurationVariance, transition: C.initTransitionVariance)
        }
        let sigmoidGatingMean = gasIndexSigmoid(gasIndex, x0: thresholdMean, k: C.gatingThresholdTransition)
        gammaMean = sigmoidGatingMean * rateMean
        let sigmoidGatingVariance = gasIndexSigmoid(
            gasIndex, x0: thresholdVariance, k: C.gatingThresholdTransition)
        gammaVariance = sigmoidGatingVariance * rateVariance

        gatingDurationMinutes =
            gatingDurationMinutes
            + ((samplingInterval / 60)
                * (((1 - sigmoidGatingMean) * (1 + C.gatingMaxRatio)) - C.gatingMaxRatio))
        if gatingDurationMinutes < 0 {
            gatingDurationMinutes = 0
        }
        if gatingDurationMinutes > gatingMaxDurationMinutes {
            uptimeGating = 0
        }
    }

    /// The index around which the gate closes: it falls from 510 to the kind's threshold
    /// once the gating uptime passes the initial duration. The gate itself, 1 (learn) to 0
    /// (frozen), is a sigmoid of the index around it.
    @inlinable @inline(__always)
    func closingIndex(initDuration: Float, transition: Float) -> Float {
        typealias C = GasIndexConstants
        return gatingThreshold
            + ((C.gatingThresholdInitial - gatingThreshold)
                * gasIndexSigmoid(uptimeGating, x0: initDuration, k: transition))
    }
}

/// The output lowpass: fast when the index moves a lot, slow when it is steady.
@usableFromInline
@frozen
struct GasIndexAdaptiveLowpass: Sendable {
    @usableFromInline let samplingInterval: Float
    @usableFromInline let a1: Float
    @usableFromInline let a2: Float
    @usableFromInline var initialized: Bool
    @usableFromInline var x1: Float
    @usableFromInline var x2: Float
    @usableFromInline var x3: Float

    @inlinable
    init(samplingInterval: Float) {
        typealias C = GasIndexConstants
        self.samplingInterval = samplingInterval
        a1 = samplingInterval / (C.lowpassTauFast + samplingInterval)
        a2 = samplingInterval / (C.lowpassTauSlow + samplingInterval)
        initialized = false
        x1 = 0
        x2 = 0
        x3 = 0
    }

    /// Filters one value and returns the smoothed one.
    @inlinable
    mutating func process(_ sample: Float) -> Float {
        typealias C = GasIndexConstants
        if !initialized {
            x1 = sample
            x2 = sample
            x3 = sample
            initialized = true
        }
        x1 = ((1 - a1) * x1) + (a1 * sample)
        x2 = ((1 - a2) * x2) + (a2 * sample)
        var absDelta = x1 - x2
        if absDelta < 0 {
            absDelta = -1 * absDelta
        }
        let f1 = Float.exp(C.lowpassAlpha * absDelta)
        let tauA = ((C.lowpassTauSlow - C.lowpassTauFast) * f1) + C.lowpassTauFast
        let a3 = samplingInterval / (samplingInterval + tauA)
        x3 = ((1 - a3) * x3) + (a3 * sample)
        return x3
    }
}
