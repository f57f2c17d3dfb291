import RealModule

/// `1 − exp(−x)` for a one-pole filter coefficient, `x = dt / τ`, without calling `exp`
/// for the usual small steps (third-order series: relative error below 3e-7 for x < 0.05).
@inline(__always)
func poleAlpha(_ x: Double) -> Double {
    if x < 0.05 { return x * (1 - x * (0.5 - x * (1.0 / 6))) }
    return 1 - Double.exp(-x)
}

/// `(1 − exp(−dt/τ)) / dt`, finite as dt → 0.
@inline(__always)
func poleAlphaPerSecond(dt: Double, tau: Double) -> Double {
    let x = dt / tau
    if x < 0.05 { return (1 - x * (0.5 - x * (1.0 / 6))) / tau }
    return (1 - Double.exp(-x)) / dt
}

/// One channel's constants and filter state. Stored in a buffer that the pipeline
/// allocates once; every stage of the per-sample path is a method here.
@usableFromInline
struct Lane {
    // Constants.
    let kind: ChannelKind
    let offset: Double
    let gain: Double
    let temperatureCoefficient: Double
    let humidityCoefficient: Double
    let referenceTemperature: Double
    let referenceAbsoluteHumidity: Double
    let beta: Double
    let validMin: Double
    let validMax: Double
    let delayUs: UInt64
    let rateHz: Double
    let riseTau: Double
    let decayTau: Double
    let smoothTau: Double
    let baselineUpTau: Double
    let baselineDownTau: Double
    let warmupTau: Double
    let noiseTau: Double
    let noiseFloor2: Double
    let linearisedNoiseScale: Double
    let gasSlot: Int
    let ringStart: Int
    let ringCapacity: Int

    // History ring.
    var ringHead = 0
    var ringCount = 0

    // Timing.
    var hasSample = false
    var lastTime: UInt64 = 0
    var firstTime: UInt64 = 0
    var initialised = false
    var reseed = false

    // Signal state.
    var physical = Double.nan
    var level = 0.0
    var trend = 0.0
    var smooth = 0.0
    var recovered = 0.0
    var noiseVariance: Double
    var smoothNoiseVariance: Double

    // Detection state.
    var elevated = false
    var frozenSince: UInt64 = 0
    var inHit = false
    var hadHit = false
    var hitInEvent = false
    var hitConfirmedInEvent = false
    var aboveSince: UInt64 = 0
    var belowSince: UInt64 = 0
    var hitOnset: UInt64 = 0
    var lastHitEnd: UInt64 = 0

    // Gas index (SGP41 channels).
    var gasIndex: GasIndexAlgorithm?
    var gasIndexValue: Int32?
    var lastGasIndexTime: UInt64 = 0

    init(spec: ChannelSpec, settings: DetectionSettings, ringStart: Int, ringCapacity: Int, gasSlot: Int) {
        let cal = spec.calibration
        kind = spec.kind
        offset = cal.offset
        gain = cal.gain
        temperatureCoefficient = cal.temperatureCoefficient
        humidityCoefficient = cal.humidityCoefficient
        referenceTemperature = cal.referenceTemperature
        referenceAbsoluteHumidity = cal.referenceAbsoluteHumidity
        beta = spec.kind.isMOX ? cal.moxExponent : 1
        validMin = spec.validMin
        validMax = spec.validMax
        delayUs = UInt64(max(0, spec.delaySeconds) * 1e6)
        rateHz = spec.rateHz
        let recovering = spec.riseTauSeconds > 0 && settings.recoverySpeedup > 1
        riseTau = recovering ? spec.riseTauSeconds : 0
        decayTau = recovering ? (spec.decayTauSeconds > 0 ? spec.decayTauSeconds : spec.riseTauSeconds) : 0
        smoothTau = max(settings.smoothingTauSeconds, recovering ? spec.riseTauSeconds / settings.recoverySpeedup : 0)
        baselineUpTau = settings.baselineTauSeconds
        baselineDownTau = min(settings.baselineDownTauSeconds, settings.baselineTauSeconds)
        warmupTau = max(1, min(settings.baselineDownTauSeconds, settings.warmupSeconds / 3))
        noiseTau = settings.noiseTauSeconds
        noiseFloor2 = cal.noiseFloor * cal.noiseFloor
        linearisedNoiseScale = spec.kind.isMOX ? 1 / cal.moxExponent : 1
        self.gasSlot = gasSlot
        self.ringStart = ringStart
        self.ringCapacity = ringCapacity
        noiseVariance = noiseFloor2
        smoothNoiseVariance = noiseFloor2
        switch spec.kind {
        case .srawVOC:
            gasIndex = GasIndexAlgorithm(kind: .voc, samplingInterval: Float(settings.gasIndexIntervalSeconds))
        case .srawNOx:
            gasIndex = GasIndexAlgorithm(kind: .nox, samplingInterval: Float(settings.gasIndexIntervalSeconds))
        default:
            gasIndex = nil
        }
    }

    // MARK: Stage 0: validation

    @inline(__always)
    func inRange(_ raw: Double) -> Bool {
        raw >= validMin && raw <= validMax && (kind != .moxResistance || raw > 0)
    }

    @inline(__always)
    func inletTime(_ t: UInt64) -> UInt64 { t >= delayUs ? t - delayUs : 0 }

    // MARK: Stage 1: physical units

    @inline(__always)
    func convert(_ raw: Double) -> Double {
        switch kind {
        case .srawVOC: return (offset - raw) * gain
        case .moxResistance: return Double.log(offset / raw)
        default: return (raw - offset) * gain
        }
    }

    // MARK: Stage 2: temperature and humidity compensation

    @inline(__always)
    func compensate(_ y: Double, temperature: Double, absoluteHumidity: Double) -> Double {
        var v = y
        if temperature.isFinite { v -= temperatureCoefficient * (temperature - referenceTemperature) }
        if absoluteHumidity.isFinite { v -= humidityCoefficient * (absoluteHumidity - referenceAbsoluteHumidity) }
        return v
    }

    mutating func touch(_ t: UInt64, physical y: Double) {
        lastTime = t
        hasSample = true
        physical = y
    }

    mutating func start(time t: UInt64, physical y: Double) {
        initialised = true
        firstTime = t
        level = y
        trend = 0
        smooth = 0
        recovered = 0
    }

    /// After a silence the filters start again from the next value; the baseline and the
    /// noise estimate are kept.
    mutating func restartAfterGap() {
        reseed = true
        trend = 0
        aboveSince = 0
        belowSince = 0
    }

    // MARK: Stage 3: baseline (level and trend, α-β tracker)

    /// Moves the baseline towards the signal. It is driven by the smoothed excess, not
    /// the raw value, so that noise cannot bias an asymmetric tracker; it follows a clear
    /// drop (below `off` σ of the smoothed noise) at the faster down rate, since plumes
    /// only raise the signal. The smoothed excess is shifted with the level so that it
    /// stays the excess over the new baseline.
    @inline(__always)
    mutating func updateBaseline(dt: Double, learn: Bool, warm: Bool, offSigma: Double) {
        // While held, the level stays put: extrapolating the trend through a plume would
        // let a noisy trend walk the baseline away.
        guard learn, dt > 0 else { return }
        let error = smooth - trend * dt
        let clearDrop = smooth < 0 && smooth * smooth > offSigma * offSigma * smoothNoiseVariance
        let tau = !warm ? warmupTau : (clearDrop ? baselineDownTau : baselineUpTau)
        let a = poleAlpha(dt / tau)
        let step = trend * dt + a * error
        level += step
        smooth -= step
        // Benedict–Bordner relation β = α² / (2 − α) keeps the tracker critically damped.
        // No trend is learnt during warm-up: the fast warm-up loop's trend is mostly noise
        // and would outlive it in the slow loop.
        if warm { trend += a * a / (2 - a) * error / dt }
    }

    // MARK: Stage 4: denoising and fast-response recovery

    @inline(__always)
    mutating func smoothAndRecover(_ e: Double, dt: Double) -> Double {
        if reseed {
            reseed = false
            smooth = e
            recovered = e
            return e
        }
        let delta = e - smooth
        if smoothTau <= 0 || dt <= 0 {
            smooth = e
            recovered = e
            return e
        }
        let k = poleAlphaPerSecond(dt: dt, tau: smoothTau)
        let slope = k * delta  // ds/dt
        smooth += slope * dt
        let tau = slope > 0 ? riseTau : decayTau
        recovered = smooth + tau * slope
        return recovered
    }

    // MARK: Stage 5: noise

    @inline(__always)
    mutating func learnNoise(_ x2: Double, dt: Double, warm: Bool) {
        let a = poleAlpha(dt / (warm ? noiseTau : warmupTau))
        noiseVariance = max(noiseFloor2, noiseVariance + a * (x2 - noiseVariance))
        smoothNoiseVariance = max(noiseFloor2, smoothNoiseVariance + a * (smooth * smooth - smoothNoiseVariance))
    }

    // MARK: Evidence

    /// The excess in units that add up linearly with concentration (see ``Calibration/moxExponent``).
    @inline(__always)
    func linearise(_ e: Double) -> Double {
        guard kind.isMOX else { return e }
        return Double.exp(min(e / beta, 50)) - 1
    }

    // MARK: Gas index

    @inline(__always)
    mutating func gasIndexStep(time t: UInt64, raw: Double, interval: UInt64) {
        guard var algorithm = gasIndex else { return }
        if lastGasIndexTime != 0 && t &- lastGasIndexTime < interval - interval / 64 { return }
        lastGasIndexTime = t
        let sraw = Int32(max(0, min(raw.rounded(), 65535)))
        gasIndexValue = algorithm.process(sraw: sraw)
        gasIndex = algorithm
    }
}
