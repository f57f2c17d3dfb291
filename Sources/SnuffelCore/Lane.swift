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
    /// Time constant of the charge still in the sensor and the low-pass at the end of an
    /// evidence window (the configured decay τ, uncapped, plus the low-pass τ).
    let tailTau: Double
    let gasSlot: Int
    let ringStart: Int
    let ringCapacity: Int

    // Filter coefficients for the last sample interval (recomputed only when it changes,
    // so the steady state calls no `exp`).
    var cachedDtUs: UInt64 = .max
    var dt = 0.0
    var inverseDt = 0.0
    var smoothPerSecond = 0.0
    var alphaUp = 0.0
    var betaUp = 0.0
    var alphaDown = 0.0
    var alphaWarmup = 0.0
    var alphaNoise = 0.0

    // History ring.
    var ringHead = 0
    var ringCount = 0

    // Timing.
    var hasSample = false
    var lastTime: UInt64 = 0
    var firstTime: UInt64 = 0
    var initialised = false
    var reseed = false

    // Spike filter (median of the last three excess values).
    var previous1 = 0.0
    var previous2 = 0.0
    var spikeFill = 0

    // Warm-up regression of the physical value on time (seconds since the first sample).
    var fitN = 0.0
    var fitT = 0.0
    var fitY = 0.0
    var fitTT = 0.0
    var fitTY = 0.0
    var fitYY = 0.0
    var fitOrigin = 0.0
    var warmedUp = false

    // The smoothed excess half-way through the current hold: when the hold expires, its
    // change over the second half is the drift the trend missed (a ramp), or nothing (a
    // step, which has settled by then).
    var holdMidExcess = 0.0
    var holdMidTime: UInt64 = 0
    var holdMidTaken = false
    var holdExpired = false

    // Noise gate: when it has been shut this long, the noise estimate learns anyway.
    var noiseGateShutSince: UInt64 = 0

    // Signal state.
    var physical = Double.nan
    var level = 0.0
    var trend = 0.0
    var smooth = 0.0
    var recovered = 0.0
    var noiseVariance: Double
    var smoothNoiseVariance: Double

    // Detection state.
    var frozenSince: UInt64 = 0
    var inHit = false
    var hadHit = false
    var hitInEvent = false
    var aboveSince: UInt64 = 0
    var belowSince: UInt64 = 0
    var hitOnset: UInt64 = 0
    var lastHitEnd: UInt64 = 0
    var hitPeak = 0.0
    /// After a hit released on the fraction-of-peak rule, the level a new hit must exceed
    /// (twice the release level) until the signal has returned to the noise.
    var rearmLevel = 0.0

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
        // The low-pass is widened to τ_rise / speed-up; both directions' inverse models are
        // capped at speed-up × that, so the noise gain of recovery never exceeds the
        // speed-up (a slow decay is then only partly inverted).
        let recovering = spec.riseTauSeconds > 0 && settings.recoverySpeedup > 1
        let smoothing = max(settings.smoothingTauSeconds, recovering ? spec.riseTauSeconds / settings.recoverySpeedup : 0)
        let cap = settings.recoverySpeedup * smoothing
        smoothTau = smoothing
        tailTau = (spec.decayTauSeconds > 0 ? spec.decayTauSeconds : spec.riseTauSeconds) + smoothing
        riseTau = recovering ? min(spec.riseTauSeconds, cap) : 0
        decayTau = recovering ? min(spec.decayTauSeconds > 0 ? spec.decayTauSeconds : spec.riseTauSeconds, cap) : 0
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
        previous1 = 0
        previous2 = 0
        spikeFill = 0
        fitOrigin = y
        accumulateWarmup(time: t, physical: y)
    }

    /// Collects the warm-up samples for the line that starts the baseline.
    @inline(__always)
    mutating func accumulateWarmup(time t: UInt64, physical y: Double) {
        let s = Double(t &- firstTime) * 1e-6
        let dy = y - fitOrigin  // centred on the first value for precision
        fitN += 1
        fitT += s
        fitY += dy
        fitTT += s * s
        fitTY += s * dy
        fitYY += dy * dy
    }

    /// At the end of warm-up, starts the baseline on the least-squares line through the
    /// warm-up samples, so that a sensor that is still drifting (a MOX after power-up)
    /// is tracked without lag from the first warm sample.
    mutating func finishWarmup(time t: UInt64, firstValue: Double) {
        warmedUp = true
        let denominator = fitN * fitTT - fitT * fitT
        guard fitN >= 3, denominator > 0 else { return }
        var slope = (fitN * fitTY - fitT * fitY) / denominator
        let stt = denominator / fitN  // Σ(t − t̄)²
        let syy = fitYY - fitY * fitY / fitN
        let residual = max(0, syy - slope * slope * stt) / max(1, fitN - 2)
        // A slope that noise alone could make is not a trend: start flat.
        if slope * slope * stt <= 9 * residual { slope = 0 }
        let intercept = (fitY - slope * fitT) / fitN
        let now = Double(t &- firstTime) * 1e-6
        let fitted = firstValue + intercept + slope * now
        guard slope.isFinite, fitted.isFinite else { return }
        let shift = fitted - level
        level = fitted
        smooth -= shift
        previous1 -= shift
        previous2 -= shift
        trend = slope
    }

    /// Median of the current and the previous two excess values: a single-sample spike
    /// never reaches the low-pass, where it would be spread into a bump that the minimum
    /// hit duration could no longer reject.
    @inline(__always)
    mutating func despike(_ e: Double) -> Double {
        let a = previous2, b = previous1
        previous2 = b
        previous1 = e
        if spikeFill < 2 { spikeFill += 1; return e }
        return max(min(a, b), min(max(a, b), e))
    }

    /// After a silence the filters start again from the next value; the baseline and the
    /// noise estimate are kept.
    mutating func restartAfterGap() {
        reseed = true
        trend = 0
        aboveSince = 0
        belowSince = 0
    }

    /// Makes the filter coefficients match the interval since the previous sample.
    @inline(__always)
    mutating func prepare(dtUs: UInt64) {
        guard dtUs != cachedDtUs else { return }
        cachedDtUs = dtUs
        dt = Double(dtUs) * 1e-6
        guard dt > 0 else {
            inverseDt = 0; smoothPerSecond = 0; alphaUp = 0; betaUp = 0; alphaDown = 0
            alphaWarmup = 0; alphaNoise = 0
            return
        }
        inverseDt = 1 / dt
        smoothPerSecond = smoothTau > 0 ? poleAlphaPerSecond(dt: dt, tau: smoothTau) : 0
        alphaUp = poleAlpha(dt / baselineUpTau)
        // Benedict–Bordner relation β = α² / (2 − α) keeps the α-β tracker critically damped.
        betaUp = alphaUp * alphaUp / (2 - alphaUp)
        alphaDown = poleAlpha(dt / baselineDownTau)
        alphaWarmup = poleAlpha(dt / warmupTau)
        alphaNoise = poleAlpha(dt / noiseTau)
    }

    // MARK: Stage 3: baseline (level and trend, α-β tracker)

    /// Moves the baseline towards the signal. It is driven by the smoothed excess, not the
    /// raw value, so that noise does not reach it; after a hold it catches up at the faster
    /// rate. The smoothed excess is shifted with the level so that it stays the excess over
    /// the new baseline.
    @inline(__always)
    mutating func updateBaseline(learn: Bool, warm: Bool, catchUp: Bool) {
        guard dt > 0 else { return }
        guard learn else {
            // Held: follow the drift learnt before the plume, keeping the excess consistent.
            let step = trend * dt
            level += step
            smooth -= step
            previous1 -= step
            previous2 -= step
            return
        }
        let error = smooth - trend * dt
        let a = !warm ? alphaWarmup : (catchUp ? alphaDown : alphaUp)
        let step = trend * dt + a * error
        level += step
        smooth -= step
        previous1 -= step
        previous2 -= step
        // No trend is learnt during warm-up (the fast loop's trend is mostly noise and would
        // outlive it) nor while catching up after a hold (a shift of level, not a slope:
        // the slope missed during the hold was added when it expired).
        if warm && !catchUp { trend += betaUp * error * inverseDt }
    }

    /// Called on the first sample after a hold has outlasted `baseline_max_freeze_s`:
    /// if over the hold's second half the excess kept growing away from zero, it grew at
    /// the rate of the drift the trend missed, and that rate is added to the trend once.
    /// A step of level has settled by then (no change), and the tail of a response decays
    /// towards zero (left alone).
    mutating func addMissedDrift(time t: UInt64) {
        guard holdMidTaken, t > holdMidTime, abs(smooth) > abs(holdMidExcess),
              (smooth >= 0) == (holdMidExcess >= 0) else { return }
        trend += (smooth - holdMidExcess) / (Double(t - holdMidTime) * 1e-6)
    }

    // MARK: Stage 4: denoising and fast-response recovery

    @inline(__always)
    mutating func smoothAndRecover(_ e: Double) -> Double {
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
        let slope = smoothPerSecond * delta  // ds/dt
        smooth += slope * dt
        let tau = slope > 0 ? riseTau : decayTau
        recovered = smooth + tau * slope
        return recovered
    }

    // MARK: Stage 5: noise

    /// Learns the noise variances of the recovered and the smoothed excess from samples
    /// that are not outliers on either side (a plume above, a drop of drift below). If the
    /// gate stays shut for `maxShutUs` (the noise itself grew), it learns from values
    /// clipped at the gate, so the estimate can rise again.
    @inline(__always)
    mutating func learnNoise(_ x2: Double, time t: UInt64, warm: Bool, gate2: Double, maxShutUs: UInt64) {
        let s2 = smooth * smooth
        var xs = x2, ss = s2
        if warm && (x2 > gate2 * noiseVariance || s2 > gate2 * smoothNoiseVariance) {
            if noiseGateShutSince == 0 { noiseGateShutSince = t }
            guard t &- noiseGateShutSince > maxShutUs else { return }
            xs = min(x2, gate2 * noiseVariance)
            ss = min(s2, gate2 * smoothNoiseVariance)
        } else {
            noiseGateShutSince = 0
        }
        let a = warm ? alphaNoise : alphaWarmup
        noiseVariance = max(noiseFloor2, noiseVariance + a * (xs - noiseVariance))
        smoothNoiseVariance = max(noiseFloor2, smoothNoiseVariance + a * (ss - smoothNoiseVariance))
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
        guard kind == .srawVOC || kind == .srawNOx else { return }
        if lastGasIndexTime != 0 && t &- lastGasIndexTime < interval - interval / 64 { return }
        lastGasIndexTime = t
        let sraw = Int32(max(0, min(raw.rounded(), 65535)))
        // Optional chaining mutates the algorithm in place (no copy out and back).
        if let index = gasIndex?.process(sraw: sraw) { gasIndexValue = index }
    }
}
