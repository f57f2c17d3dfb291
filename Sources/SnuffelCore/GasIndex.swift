import RealModule

/// Sensirion's gas index algorithm: turns the SGP4x raw signals (SRAW_VOC, SRAW_NOX)
/// into the VOC index (1...500, 100 for typical air) and the NOx index (1...500, 1 for
/// clean air).
///
/// The algorithm learns the sensor's baseline and spread with a slow mean/variance
/// estimator, maps the deviation from that baseline through a MOX model and a scaled
/// sigmoid, and smooths the result with an adaptive lowpass. For the first 45 seconds
/// after start (the initial blackout) it returns 0.
///
/// This is our own implementation of the algorithm in Sensirion's
/// `sensirion-gas-index-algorithm` 3.2.2 (PyPI; its C source is
/// `swig/sensirion_gas_index_algorithm.c`, algorithm version 3.2.0). That package runs
/// the floating-point variant, and this type reproduces its arithmetic in `Float` step
/// by step, so that both give the same index on almost every sample. Sensirion's
/// fixed-point build for microcontrollers differs from both by one index point on some
/// samples.
///
/// Feed one raw value per sampling interval:
///
/// ```swift
/// var voc = GasIndexAlgorithm(kind: .voc)
/// let index = voc.process(sraw: 27_500)   // 0 during the first 45 s
/// ```
///
/// The value is a few dozen bytes of plain `Float` state: copying it snapshots the
/// algorithm, and ``process(sraw:)`` neither allocates nor calls through an existential.
@frozen
public struct GasIndexAlgorithm: Sendable {
    /// Which of the SGP4x signals the algorithm interprets.
    @frozen
    public enum Kind: Sendable, Hashable {
        /// The VOC pixel (SRAW_VOC): an index of 100 is the learned average air.
        case voc
        /// The NOx pixel (SRAW_NOX): an index of 1 is clean air.
        case nox
    }

    /// The six values that customize the algorithm.
    ///
    /// The ranges are Sensirion's; like Sensirion's code, the algorithm uses values
    /// outside them as given.
    @frozen
    public struct TuningParameters: Sendable, Hashable {
        /// The index of typical (average) conditions, 1...250: 100 for VOC, 1 for NOx.
        public var indexOffset: Int32
        /// The time constant of the offset estimate in hours, 1...1000: 12. Past events
        /// are forgotten after about twice this time.
        public var learningTimeOffsetHours: Int32
        /// The time constant of the gain estimate in hours, 1...1000: 12. Not used by NOx.
        public var learningTimeGainHours: Int32
        /// The longest freeze of the estimator while the index is high, in minutes:
        /// 0 (no gating) or 1...3000; 180 for VOC, 720 for NOx.
        public var gatingMaxDurationMinutes: Int32
        /// The initial estimate of the standard deviation, 10...5000: 50. Lower values
        /// boost events during the initial learning period. Not used by NOx.
        public var stdInitial: Int32
        /// The factor that scales the index, 1...1000: 230.
        public var gainFactor: Int32

        /// Creates tuning parameters from explicit values.
        ///
        /// - Parameters:
        ///   - indexOffset: The index of typical conditions.
        ///   - learningTimeOffsetHours: The offset learning time in hours.
        ///   - learningTimeGainHours: The gain learning time in hours.
        ///   - gatingMaxDurationMinutes: The longest gating in minutes.
        ///   - stdInitial: The initial standard deviation estimate.
        ///   - gainFactor: The index gain.
        @inlinable
        public init(
            indexOffset: Int32, learningTimeOffsetHours: Int32, learningTimeGainHours: Int32,
            gatingMaxDurationMinutes: Int32, stdInitial: Int32, gainFactor: Int32
        ) {
            self.indexOffset = indexOffset
            self.learningTimeOffsetHours = learningTimeOffsetHours
            self.learningTimeGainHours = learningTimeGainHours
            self.gatingMaxDurationMinutes = gatingMaxDurationMinutes
            self.stdInitial = stdInitial
            self.gainFactor = gainFactor
        }

        /// Sensirion's default tuning for a kind of signal.
        ///
        /// - Parameter kind: The signal.
        /// - Returns: 100/12/12/180/50/230 for VOC, 1/12/12/720/50/230 for NOx.
        /// - Complexity: O(1)
        @inlinable
        public static func defaults(for kind: Kind) -> TuningParameters {
            TuningParameters(
                indexOffset: kind == .voc ? 100 : 1,
                learningTimeOffsetHours: 12, learningTimeGainHours: 12,
                gatingMaxDurationMinutes: kind == .voc ? 180 : 720,
                stdInitial: 50, gainFactor: 230)
        }
    }

    /// The learned baseline of the signal, to carry the algorithm over a short
    /// interruption without a new learning phase.
    ///
    /// Sensirion supports this for VOC only, after at least 3 hours of operation and for
    /// interruptions of at most 10 minutes.
    @frozen
    public struct State: Sendable, Hashable {
        /// The estimated mean raw value, relative to the kind's SRAW minimum.
        public var mean: Float
        /// The estimated standard deviation of the raw value.
        public var std: Float

        /// Creates a state from stored values.
        ///
        /// - Parameters:
        ///   - mean: The estimated mean (Sensirion's `state0`).
        ///   - std: The estimated standard deviation (Sensirion's `state1`).
        @inlinable
        public init(mean: Float, std: Float) {
            self.mean = mean
            self.std = std
        }
    }

    /// The signal this instance interprets.
    public let kind: Kind
    /// The time between two calls of ``process(sraw:)``, in seconds.
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_get_sampling_interval`.
    public let samplingInterval: Float

    // Settings: the tuning in force and the constants of the kind.
    @usableFromInline var tuning: GasIndexTuning
    @usableFromInline let profile: GasIndexProfile

    // Running state.
    @usableFromInline var uptime: Float
    @usableFromInline var sraw: Float
    @usableFromInline var gasIndex: Float
    @usableFromInline var estimator: GasIndexMeanVarianceEstimator
    @usableFromInline var lowpass: GasIndexAdaptiveLowpass

    /// Creates the algorithm for one signal, with default tuning, at the start of its
    /// initial blackout.
    ///
    /// - Parameters:
    ///   - kind: The signal: `.voc` or `.nox`.
    ///   - samplingInterval: The time between two samples in seconds; Sensirion tested
    ///     1 and 10.
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is
    /// `GasIndexAlgorithm_init_with_sampling_interval`.
    @inlinable
    public init(kind: Kind, samplingInterval: Float = 1) {
        self.kind = kind
        self.samplingInterval = samplingInterval
        tuning = GasIndexTuning(.defaults(for: kind))
        profile = GasIndexProfile(kind)
        uptime = 0
        sraw = 0
        gasIndex = 0
        estimator = GasIndexMeanVarianceEstimator(
            profile: profile, samplingInterval: samplingInterval, tuning: tuning)
        lowpass = GasIndexAdaptiveLowpass(samplingInterval: samplingInterval)
    }

    /// Forgets everything learned and starts a new initial blackout; the tuning stays.
    ///
    /// Call it when measuring resumes after an interruption.
    ///
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_reset`.
    @inlinable
    public mutating func reset() {
        uptime = 0
        sraw = 0
        gasIndex = 0
        resetStages()
    }

    /// The tuning in force.
    ///
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_get_tuning_parameters`.
    @inlinable
    public var tuningParameters: TuningParameters { tuning.parameters }

    /// Changes the tuning and restarts learning (but not the blackout).
    ///
    /// Call it once after creating the algorithm and before ``setState(_:)``.
    ///
    /// - Parameter parameters: The new tuning; see ``TuningParameters`` for the ranges.
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_set_tuning_parameters`.
    @inlinable
    public mutating func setTuningParameters(_ parameters: TuningParameters) {
        tuning = GasIndexTuning(parameters)
        resetStages()
    }

    /// The learned baseline, to restore with ``setState(_:)`` after a short interruption.
    ///
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_get_states`.
    @inlinable
    public var state: State {
        State(mean: estimator.offsetMean, std: estimator.std)
    }

    /// Restores a baseline saved from ``state``, skipping the initial learning phase.
    ///
    /// Call it once after creating the algorithm (or after ``reset()``) and after
    /// ``setTuningParameters(_:)``. Sensirion supports this for VOC only.
    ///
    /// - Parameter state: The saved baseline.
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_set_states`.
    @inlinable
    public mutating func setState(_ state: State) {
        estimator.restore(mean: state.mean, std: state.std)
        sraw = state.mean
    }

    /// Feeds one raw value and returns the gas index.
    ///
    /// Raw values outside 1...64999 are ignored (the previous one is used again); the
    /// others are clamped to the 32767 ticks above the kind's minimum (20000 for VOC,
    /// 10000 for NOx), as Sensirion does.
    ///
    /// - Parameter sraw: The SGP4x raw value (SRAW_VOC or SRAW_NOX), in ticks.
    /// - Returns: 0 during the initial blackout (the first 45 s), then 1...500.
    /// - Complexity: O(1)
    ///
    /// The corresponding Sensirion function is `GasIndexAlgorithm_process`.
    @inlinable
    public mutating func process(sraw newSraw: Int32) -> Int32 {
        typealias C = GasIndexConstants
        if uptime <= C.initialBlackout {
            uptime = uptime + samplingInterval
        } else {
            if newSraw > 0 && newSraw < 65000 {
                let minimum = profile.srawMinimum
                let clamped = min(max(newSraw, minimum + 1), minimum + 32767)
                sraw = Float(clamped - minimum)
            }
            if kind == .voc || estimator.initialized {
                gasIndex = sigmoidScaled(moxModel(sraw))
            } else {
                gasIndex = tuning.indexOffset
            }
            gasIndex = lowpass.process(gasIndex)
            if gasIndex < 0.5 {
                gasIndex = 0.5
            }
            if sraw > 0 {
                estimator.process(sraw, gasIndex: gasIndex)
            }
        }
        return Self.roundedIndex(gasIndex)
    }
}

// MARK: - Stages that need the algorithm's parameters

extension GasIndexAlgorithm {
    /// Restarts the estimator and the lowpass with the current tuning.
    @inlinable
    mutating func resetStages() {
        estimator = GasIndexMeanVarianceEstimator(
            profile: profile, samplingInterval: samplingInterval, tuning: tuning)
        lowpass = GasIndexAdaptiveLowpass(samplingInterval: samplingInterval)
    }

    /// The MOX model: the deviation of `sraw` from the learned mean, scaled by the
    /// learned spread (VOC, sign inverted) or by a fixed spread (NOx), times the gain.
    @inlinable
    func moxModel(_ sraw: Float) -> Float {
        typealias C = GasIndexConstants
        let mean = estimator.offsetMean
        switch kind {
        case .nox:
            return ((sraw - mean) / C.srawStdNOx) * tuning.indexGain
        case .voc:
            return ((sraw - mean) / (-1 * (estimator.std + C.srawStdBonusVOC))) * tuning.indexGain
        }
    }

    /// The sigmoid that maps the MOX model's output onto 0...500, placing 0 at the
    /// index offset.
    @inlinable
    func sigmoidScaled(_ sample: Float) -> Float {
        typealias C = GasIndexConstants
        let x = profile.sigmoidK * (sample - profile.sigmoidX0)
        if x < -50 {
            return C.sigmoidL
        } else if x > 50 {
            return 0
        } else if sample >= 0 {
            let shift: Float
            if profile.offsetDefault == 1 {
                shift = C.noxShiftScale * (1 - tuning.indexOffset)
            } else {
                shift = (C.sigmoidL - 5 * tuning.indexOffset) / 4
            }
            return (C.sigmoidL + shift) / gasIndexOnePlusExp(x) - shift
        } else {
            return (tuning.indexOffset / profile.offsetDefault) * (C.sigmoidL / gasIndexOnePlusExp(x))
        }
    }

    /// `Int32(index + 0.5)` as C's truncating conversion does it, clamped instead of
    /// trapping on values no sensible tuning produces.
    @inlinable
    static func roundedIndex(_ index: Float) -> Int32 {
        let rounded = index + 0.5
        if rounded >= 2_147_483_648 {
            return .max
        } else if rounded >= -2_147_483_648 {
            return Int32(rounded)
        } else {
            return rounded.isNaN ? 0 : .min
        }
    }
}
