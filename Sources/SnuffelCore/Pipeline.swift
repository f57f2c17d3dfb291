import RealModule

/// Counts of what the pipeline did with its input, per reason. Nothing is dropped
/// without being counted here.
public struct PipelineHealth: Sendable, Equatable {
    /// Samples that went through the stages.
    public var accepted: Int = 0
    /// Samples naming a channel index the payload does not have.
    public var unknownChannel: Int = 0
    /// NaN or infinite values.
    public var nonFinite: Int = 0
    /// Values outside the channel's `valid_min ... valid_max` (or a non-positive MOX
    /// resistance): the sensor is saturated or broken.
    public var outOfRange: Int = 0
    /// Timestamps earlier than the channel's previous sample.
    public var outOfOrder: Int = 0
    /// Timestamps equal to the channel's previous sample.
    public var duplicate: Int = 0
    /// Silences longer than `stale_after_s` after which a channel's filters restarted.
    public var gaps: Int = 0
    /// Channel hits that no other channel confirmed within `coincidence_s`.
    public var unconfirmedHits: Int = 0
    /// Events closed early because they exceeded `max_event_s`.
    public var truncatedEvents: Int = 0
    /// Events whose hits were all on MOX channels while the absolute humidity changed
    /// (see `humidity_transient_gm3`): not reported as detections.
    public var humidityArtefacts: Int = 0
    /// Samples whose history slot was overwritten before an event could use it (the
    /// channel delivers faster than its declared `rate_hz`).
    public var historyOverruns: Int = 0

    public init() {}

    /// All rejected samples.
    public var rejected: Int { unknownChannel + nonFinite + outOfRange + outOfOrder + duplicate }
}

/// The state of one channel at its last accepted sample, for plots and live values.
public struct ChannelSnapshot: Sendable, Equatable {
    /// Time of the last accepted sample, µs; nil before the first.
    public var time: UInt64?
    /// Physical value after calibration and compensation.
    public var physical: Double
    public var baseline: Double
    /// Smoothed excess over baseline.
    public var excess: Double
    /// Fast-response-recovered excess.
    public var recovered: Double
    /// Noise standard deviation of `recovered`.
    public var noise: Double
    /// `recovered / noise`.
    public var sigma: Double
    public var inHit: Bool
    /// Sensirion VOC or NOx index for SGP41 channels, once the algorithm has produced one.
    public var gasIndex: Int32?
    /// Whether the channel has been silent for longer than `stale_after_s`.
    public var stale: Bool
}

/// The streaming detection pipeline: samples in, detections out.
///
/// Per channel, each sample goes through: validation (finite, in range, later than the
/// previous one), conversion to physical units, temperature and humidity compensation, a
/// median-of-3 spike filter, low-pass denoising, fast-response recovery (an inverse
/// first-order model with separate rise and decay time constants, its noise gain capped),
/// noise normalisation, hit detection (hysteresis, minimum duration, release at a
/// fraction of the peak), and baseline tracking (a level-and-trend tracker started on a
/// line fitted over warm-up, holding while the channel is in a hit or far off its
/// baseline or an event is open, and catching up, with any drift it missed, when a hold
/// outlasts `baseline_max_freeze_s`). Hits of different channels
/// are aligned in inlet time (sample time minus the channel's delay) and fused into
/// events; a closed event is classified against the signature library and queued as a
/// ``Detection``.
///
/// Samples are processed one at a time, in the order given; feeding the same samples one
/// by one or in batches of any size gives identical results. In a batch, runs of whole
/// time steps (every channel once, in channel order, as a synchronously sampled payload
/// delivers them) take a batched path with all gas channels side by side in SIMD vectors
/// while every channel is quiet (see `RoundKernel`); it performs the same operations on
/// the same values and gives the same results bit for bit, only faster
/// (``batchedSteps`` counts the steps it took). All state, including the
/// per-channel history used as evidence, is allocated when the pipeline is built;
/// ``process(_:)`` allocates nothing. Detections are copied out by ``popDetection()``.
public final class Pipeline {
    @usableFromInline let engine: UnsafeMutablePointer<Engine>

    /// Builds a pipeline and allocates all its state.
    /// - Parameter configuration: channels, settings and library; checked with
    ///   ``PipelineConfiguration/validationError()``.
    /// - Throws: ``PipelineError/invalidConfiguration(key:reason:)``.
    public init(configuration: PipelineConfiguration) throws(PipelineError) {
        let built = try Engine(configuration: configuration)
        engine = .allocate(capacity: 1)
        engine.initialize(to: built)
    }

    deinit {
        engine.pointee.deallocate()
        engine.deinitialize(count: 1)
        engine.deallocate()
    }

    /// The configuration the pipeline was built with.
    public var configuration: PipelineConfiguration { engine.pointee.configuration }

    /// What the pipeline did with its input so far.
    public var health: PipelineHealth { engine.pointee.health }

    /// Processes one sample: validates it, runs it through the channel's stages, and
    /// updates fusion. Detections that close are queued for ``popDetection()``.
    /// - Complexity: O(1), except when an event closes (O(channels × history)).
    public func process(_ sample: Sample) {
        engine.pointee.process(sample)
    }

    /// Processes a buffer of samples in order; the same as one call per sample, bit for
    /// bit. In a buffer of four time steps or more, runs of whole quiet steps (every
    /// channel once, in channel order) take the batched path, which is faster.
    /// - Complexity: O(n), plus the classification of each event that closes.
    public func process(_ samples: UnsafeBufferPointer<Sample>) {
        engine.pointee.process(batch: samples)
    }

    /// Processes a batch of samples in order; the same as one call per sample.
    public func process<S: Sequence>(_ samples: S) where S.Element == Sample {
        let done: Void? = samples.withContiguousStorageIfAvailable { engine.pointee.process(batch: $0) }
        if done == nil {
            for s in samples { engine.pointee.process(s) }
        }
    }

    /// How many time steps went through the batched path (whole steps of quiet samples,
    /// every channel once, in channel order, fed as a buffer). The results are the same
    /// either way; this only tells how much was batched.
    public var batchedSteps: Int { engine.pointee.kernel.rounds }

    /// Closes an event that is still open at the end of the data, so that it is
    /// classified and queued. Call it when a flight or file ends.
    public func finish() {
        engine.pointee.finish()
    }

    /// Detections waiting to be taken.
    public var pendingDetections: Int { engine.pointee.pendingDetections }

    /// Takes the oldest waiting detection.
    /// - Returns: a copy of the detection (this allocates, on the caller's side), or nil.
    public func popDetection() -> Detection? {
        engine.pointee.popDetection()
    }

    /// Takes all waiting detections.
    public func drainDetections() -> [Detection] {
        engine.pointee.drainDetections()
    }

    /// The state of a channel at its last accepted sample.
    /// - Parameter channel: index in the payload's channel list.
    public func snapshot(channel: Int) -> ChannelSnapshot? {
        Engine.snapshot(engine, channel: channel)
    }

    /// Whether an event is open (a plume is being crossed).
    public var isEventOpen: Bool { engine.pointee.isEventOpen }

    /// Absolute humidity in g/m³ from temperature (°C) and relative humidity (%), by the
    /// Magnus formula over water (coefficients 6.112 hPa, 17.62, 243.12 °C; WMO-No. 8,
    /// 2008, Annex 4.B).
    public static func absoluteHumidity(temperature t: Double, relativeHumidity rh: Double) -> Double {
        absoluteHumidityPerPercent(temperature: t) * max(0, min(rh, 100))
    }

    /// The absolute humidity (g/m³) of 1 % relative humidity at `t` °C: 2.167 × the
    /// saturation vapour pressure (hPa, Magnus as above) / the absolute temperature.
    @inline(__always)
    static func absoluteHumidityPerPercent(temperature t: Double) -> Double {
        absoluteHumidityPerPercent(temperature: t, magnusGrowth: Double.exp(magnusExponent(temperature: t)))
    }

    /// The exponent of the Magnus formula at `t` °C.
    @inline(__always)
    static func magnusExponent(temperature t: Double) -> Double { 17.62 * t / (243.12 + t) }

    /// ``absoluteHumidityPerPercent(temperature:)`` given `exp` of the Magnus exponent.
    @inline(__always)
    static func absoluteHumidityPerPercent(temperature t: Double, magnusGrowth: Double) -> Double {
        2.167 * (6.112 * magnusGrowth) / (273.15 + t)  // 6.112 × growth: the saturation pressure, hPa
    }
}

/// The pipeline's state and stages. Everything mutable lives in this struct, reached
/// through one pointer held by ``Pipeline``, so that the per-sample path pays for no
/// dynamic exclusivity checks (which class properties would need).
@usableFromInline
struct Engine {
    let configuration: PipelineConfiguration
    var health = PipelineHealth()

    @usableFromInline let lanes: UnsafeMutablePointer<Lane>
    @usableFromInline let laneCount: Int
    @usableFromInline let ringTime: UnsafeMutablePointer<UInt64>
    @usableFromInline let ringExcess: UnsafeMutablePointer<Double>
    @usableFromInline let ringRecovered: UnsafeMutablePointer<Double>
    /// The batched path's state (see ``RoundKernel``).
    var kernel: RoundKernel

    let settings: DetectionSettings
    let gasSlots: [Int]  // pipeline channel index of each gas slot
    let minChannels: Int
    let warmupUs: UInt64
    let staleUs: UInt64
    let coincidenceUs: UInt64
    let gapUs: UInt64
    let preUs: UInt64
    let postUs: UInt64
    let maxEventUs: UInt64
    let maxFreezeUs: UInt64
    /// Length of the segment before an event whose mean is each channel's zero.
    let referenceUs: UInt64 = 5_000_000
    let gasIndexIntervalUs: UInt64
    /// Squared hit thresholds, σ².
    let on2: Double
    let off2: Double

    // Environment for compensation.
    var environment = Environment()
    var eventHumidityChange = 0.0
    var latestTime: UInt64 = 0

    // Fusion state, in inlet time.
    var eventOpen = false
    var eventOnset: UInt64 = 0
    var eventLastActive: UInt64 = 0
    var eventPeakSigma = 0.0
    var eventPeakTime: UInt64 = 0
    var activeHits = 0

    // Evidence and classification workspace.
    var classifier: Classifier
    var slotArea: [Double]
    var slotSigma: [Double]
    var slotUsable: [Bool]
    var evidence: [ChannelEvidence]
    var queue: [Detection]
    var queueHead = 0
    var queueCount = 0
    var nextSequence = 0

    /// Builds a pipeline and allocates all its state.
    /// - Parameter configuration: channels, settings and library; checked with
    ///   ``PipelineConfiguration/validationError()``.
    /// - Throws: ``PipelineError/invalidConfiguration(key:reason:)``.
    init(configuration: PipelineConfiguration) throws(PipelineError) {
        if let (key, reason) = configuration.validationError() {
            throw .invalidConfiguration(key: key, reason: reason)
        }
        self.configuration = configuration
        let s = configuration.detection
        settings = s
        func us(_ seconds: Double) -> UInt64 { UInt64(max(0, min(seconds, 1e9)) * 1e6) }
        warmupUs = us(s.warmupSeconds)
        staleUs = us(s.staleAfterSeconds)
        coincidenceUs = us(s.coincidenceSeconds)
        gapUs = us(s.eventGapSeconds)
        preUs = us(s.eventPreSeconds)
        postUs = us(s.eventPostSeconds)
        maxEventUs = us(s.maxEventSeconds)
        maxFreezeUs = us(s.baselineMaxFreezeSeconds)
        gasIndexIntervalUs = us(s.gasIndexIntervalSeconds)
        on2 = s.hitOnSigma * s.hitOnSigma
        off2 = s.hitOffSigma * s.hitOffSigma

        let specs = configuration.channels
        laneCount = specs.count
        let maxDelay = specs.map(\.delaySeconds).max() ?? 0
        let historySeconds = s.maxEventSeconds + s.eventPreSeconds + s.eventPostSeconds + s.eventGapSeconds
            + s.coincidenceSeconds + s.staleAfterSeconds + 2 * maxDelay + 5
        var capacities: [Int] = []
        var gas: [Int] = []
        for (i, c) in specs.enumerated() {
            if c.kind.isGas {
                gas.append(i)
                capacities.append(Int((c.rateHz * historySeconds * 1.25).rounded(.up)) + 16)
            } else {
                capacities.append(0)
            }
        }
        gasSlots = gas
        minChannels = max(1, min(s.minChannels, gas.count))
        let ringTotal = max(1, capacities.reduce(0, +))
        ringTime = .allocate(capacity: ringTotal)
        ringTime.initialize(repeating: 0, count: ringTotal)
        ringExcess = .allocate(capacity: ringTotal)
        ringExcess.initialize(repeating: 0, count: ringTotal)
        ringRecovered = .allocate(capacity: ringTotal)
        ringRecovered.initialize(repeating: 0, count: ringTotal)
        lanes = .allocate(capacity: max(1, specs.count))
        var start = 0
        var slot = 0
        for (i, c) in specs.enumerated() {
            let lane = Lane(spec: c, settings: s, ringStart: start, ringCapacity: capacities[i],
                            gasSlot: c.kind.isGas ? slot : -1)
            (lanes + i).initialize(to: lane)
            start += capacities[i]
            if c.kind.isGas { slot += 1 }
        }
        kernel = RoundKernel(lanes: lanes, count: laneCount)
        let gasSpecs = gas.map { specs[$0] }
        classifier = Classifier(gasChannels: gasSpecs, library: configuration.library, settings: s)
        slotArea = Array(repeating: 0, count: max(1, gas.count))
        slotSigma = Array(repeating: 0, count: max(1, gas.count))
        slotUsable = Array(repeating: false, count: max(1, gas.count))
        evidence = []
        evidence.reserveCapacity(gas.count)
        queue = []
        queue.reserveCapacity(16)
        let template = Detection(sequence: 0, onset: 0, peak: 0, end: 0, channels: [], signatureClass: nil,
                                 confidence: 0, isConfounder: false, isAlert: false, compounds: [], scores: [],
                                 residual: 0, snr: 0)
        for _ in 0..<16 {
            var d = template
            d.channels.reserveCapacity(gas.count)
            d.compounds.reserveCapacity(configuration.library.compounds.count)
            d.scores.reserveCapacity(configuration.library.classes.count)
            queue.append(d)
        }
    }

    func deallocate() {
        kernel.deallocate()
        lanes.deinitialize(count: laneCount)
        lanes.deallocate()
        ringTime.deallocate()
        ringExcess.deallocate()
        ringRecovered.deallocate()
    }

    // MARK: Input

    /// Processes one sample: validates it, runs it through the channel's stages, and
    /// updates fusion. Detections that close are queued for ``popDetection()``.
    /// - Complexity: O(1), except when an event closes (O(channels × history)).
    @inline(__always)
    mutating func process(_ sample: Sample) {
        let index = Int(sample.channel)
        guard index < laneCount else { health.unknownChannel += 1; return }
        let value = sample.value
        guard value.isFinite else { health.nonFinite += 1; return }
        let lane = lanes + index
        let t = sample.time
        if lane.pointee.hasSample {
            if t == lane.pointee.lastTime { health.duplicate += 1; return }
            if t < lane.pointee.lastTime { health.outOfOrder += 1; return }
        }
        if t > latestTime { latestTime = t }
        if !lane.pointee.inRange(value) {
            health.outOfRange += 1
            lane.pointee.lastTime = t
            lane.pointee.hasSample = true
            if lane.pointee.gasSlot >= 0 { record(lane, inlet: lane.pointee.inletTime(t), excess: .nan, recovered: .nan) }
            return
        }
        health.accepted += 1

        switch lane.pointee.kind {
        case .temperature:
            let y = lane.pointee.convert(value)
            lane.pointee.touch(t, physical: y)
            environment.temperature = y
            updateAbsoluteHumidity(time: t)
            return
        case .humidity:
            let y = lane.pointee.convert(value)
            lane.pointee.touch(t, physical: y)
            environment.relativeHumidity = y
            updateAbsoluteHumidity(time: t)
            return
        default:
            break
        }
        processGas(lane, time: t, raw: value)
    }

    @inline(__always)
    mutating func processGas(_ lane: UnsafeMutablePointer<Lane>, time t: UInt64, raw: Double) {
        var y = lane.pointee.convert(raw)
        y = lane.pointee.compensate(y, temperature: environment.temperature,
                                    absoluteHumidity: environment.absoluteHumidity)

        var dtUs: UInt64 = 0
        if lane.pointee.hasSample {
            dtUs = t - lane.pointee.lastTime
            if dtUs > staleUs {
                health.gaps += 1
                lane.pointee.restartAfterGap()
                if lane.pointee.inHit { endHit(lane, at: lane.pointee.inletTime(lane.pointee.lastTime)) }
                dtUs = 0
            }
        }
        lane.pointee.lastTime = t
        lane.pointee.hasSample = true
        lane.pointee.physical = y
        lane.pointee.gasIndexStep(time: t, raw: raw, interval: gasIndexIntervalUs)

        if !lane.pointee.initialised {
            lane.pointee.start(time: t, physical: y)
            record(lane, inlet: lane.pointee.inletTime(t), excess: 0, recovered: 0)
            return
        }
        lane.pointee.prepare(dtUs: dtUs)
        let warm = t &- lane.pointee.firstTime >= warmupUs
        let inlet = lane.pointee.inletTime(t)
        if !warm {
            lane.pointee.accumulateWarmup(time: t, physical: y)
        } else if !lane.pointee.warmedUp {
            lane.pointee.finishWarmup(time: t, firstValue: lane.pointee.fitOrigin)
        }

        // Denoise and recover.
        let e = lane.pointee.despike(y - lane.pointee.level)
        let x = lane.pointee.smoothAndRecover(e)
        let smooth = lane.pointee.smooth

        // Noise normalisation and hysteresis, on whichever of the smoothed and the
        // recovered excess stands out more against its own noise.
        let x2 = x * x
        let s2 = smooth * smooth
        let xVariance = lane.pointee.noiseVariance
        let sVariance = lane.pointee.smoothNoiseVariance
        // A channel released on the tail of a strong response must rise to twice its release
        // level again before a new hit, or the tail would re-trigger hit after hit.
        let rearmed = x > lane.pointee.rearmLevel
        let above = rearmed && ((x > 0 && x2 > on2 * xVariance) || (smooth > 0 && s2 > on2 * sVariance))
        // A hit ends on the recovered excess alone: the smoothed one of a slow cell lingers
        // long after the air is clean again.
        let recoveredUp = x > 0 && x2 > off2 * xVariance
            && (!lane.pointee.inHit || x > settings.hitReleaseFraction * lane.pointee.hitPeak)
        let stillUp = recoveredUp || (smooth > 0 && s2 > off2 * sVariance)
        // The baseline holds on strong excursions of either sign (some pixels answer some
        // gases by falling: the NOx pixel to VOCs, the VOC pixel to NO2). Weak ones keep
        // it learning: a hold at the first sign of a lag would stop a drift ramp from
        // ever being learnt, and a weak plume leaks only dt/τ of itself into the baseline.
        let excursion = lane.pointee.inHit || x2 > on2 * xVariance || s2 > on2 * sVariance
        if !stillUp { lane.pointee.rearmLevel = 0 }
        if !warm || !stillUp {
            // The noise gate re-opens well after a hold has expired, so that the catch-up
            // is done before a grown noise estimate could hide what is left.
            lane.pointee.learnNoise(x2, time: t, warm: warm, gate2: on2, maxShutUs: 3 * maxFreezeUs)
        }
        record(lane, inlet: inlet, excess: smooth, recovered: x)

        // Baseline: level and trend; holds while the channel is in a hit or far off its
        // baseline, or an event is open (bounded, so a step of drift cannot hold it for ever).
        let frozen = warm && (excursion || eventOpen)
        if frozen {
            if lane.pointee.frozenSince == 0 {
                lane.pointee.frozenSince = t
                lane.pointee.holdMidTaken = false
                lane.pointee.holdExpired = false
            } else if !lane.pointee.holdMidTaken && t &- lane.pointee.frozenSince >= maxFreezeUs / 2 {
                lane.pointee.holdMidTaken = true
                lane.pointee.holdMidExcess = smooth
                lane.pointee.holdMidTime = t
            }
        } else {
            lane.pointee.frozenSince = 0
        }
        let freezeExpired = frozen && t &- lane.pointee.frozenSince > maxFreezeUs
        if freezeExpired && !lane.pointee.holdExpired {
            lane.pointee.holdExpired = true
            lane.pointee.addMissedDrift(time: t)
        }
        lane.pointee.updateBaseline(learn: !frozen || freezeExpired, warm: warm, catchUp: freezeExpired)

        if !warm { return }
        if lane.pointee.inHit {
            if x > lane.pointee.hitPeak { lane.pointee.hitPeak = x }
            let sigma = max(x > 0 ? (x2 / xVariance).squareRoot() : 0, smooth > 0 ? (s2 / sVariance).squareRoot() : 0)
            if eventOpen {
                if recoveredUp && inlet > eventLastActive { eventLastActive = inlet }
                if sigma > eventPeakSigma {
                    eventPeakSigma = sigma
                    eventPeakTime = inlet
                }
            } else if sigma >= settings.singleChannelSigma {
                openEvent(onset: lane.pointee.hitOnset, now: inlet, sigma: sigma, alone: lane)
            }
            if recoveredUp {
                lane.pointee.belowSince = 0
            } else {
                if lane.pointee.belowSince == 0 { lane.pointee.belowSince = t }
                if Double(t &- lane.pointee.belowSince) * 1e-6 >= settings.hitReleaseSeconds {
                    endHit(lane, at: lane.pointee.inletTime(lane.pointee.belowSince))
                    if stillUp { lane.pointee.rearmLevel = 2 * max(x, 0) }
                }
            }
        } else if above {
            if lane.pointee.aboveSince == 0 { lane.pointee.aboveSince = t }
            if Double(t &- lane.pointee.aboveSince) * 1e-6 >= settings.hitMinDurationSeconds {
                let sigma = max(x > 0 ? (x2 / xVariance).squareRoot() : 0, smooth > 0 ? (s2 / sVariance).squareRoot() : 0)
                beginHit(lane, onset: lane.pointee.inletTime(lane.pointee.aboveSince), now: inlet, sigma: sigma)
            }
        } else {
            lane.pointee.aboveSince = 0
        }

        if eventOpen { checkEventEnd(inlet: inlet) }
    }

    // MARK: Fusion

    @inline(never)
    mutating func beginHit(_ lane: UnsafeMutablePointer<Lane>, onset: UInt64, now: UInt64, sigma: Double) {
        lane.pointee.inHit = true
        lane.pointee.hitPeak = 0
        lane.pointee.hitOnset = onset
        lane.pointee.belowSince = 0
        activeHits += 1
        if eventOpen {
            lane.pointee.hitInEvent = true
            if now > eventLastActive { eventLastActive = now }
            if sigma > eventPeakSigma { eventPeakSigma = sigma; eventPeakTime = now }
            return
        }
        // Count channels whose hits started within the coincidence window of this one.
        let low = onset >= coincidenceUs ? onset - coincidenceUs : 0
        var count = 0
        var earliest = onset
        for slot in gasSlots {
            let other = lanes + slot
            let recent = other.pointee.inHit || other.pointee.lastHitEnd >= low
            if recent && other.pointee.hitOnset >= low && other.pointee.hitOnset <= saturatingSum(onset, coincidenceUs)
                && (other.pointee.inHit || other.pointee.hadHit) {
                count += 1
                if other.pointee.hitOnset < earliest { earliest = other.pointee.hitOnset }
            }
        }
        if count >= minChannels || sigma >= settings.singleChannelSigma {
            openEvent(onset: earliest, now: now, sigma: sigma, alone: nil)
        }
    }

    /// Opens an event at `onset` (inlet time) and marks the channels whose hits belong to it.
    @inline(never)
    mutating func openEvent(onset: UInt64, now: UInt64, sigma: Double, alone: UnsafeMutablePointer<Lane>?) {
        let low = onset >= coincidenceUs ? onset - coincidenceUs : 0
        eventOpen = true
        eventHumidityChange = environment.absoluteHumidity.isFinite
            ? abs(environment.absoluteHumidity - environment.absoluteHumiditySlow) : 0
        eventOnset = onset
        eventLastActive = now
        eventPeakSigma = sigma
        eventPeakTime = now
        for slot in gasSlots {
            let other = lanes + slot
            other.pointee.hitInEvent = (other.pointee.inHit || other.pointee.lastHitEnd >= low)
                && other.pointee.hitOnset >= low && (other.pointee.inHit || other.pointee.hadHit)
            if other.pointee.hitInEvent && other.pointee.lastHitEnd > eventLastActive && !other.pointee.inHit {
                eventLastActive = other.pointee.lastHitEnd
            }
        }
        if let alone { alone.pointee.hitInEvent = true }
    }

    @inline(never)
    mutating func endHit(_ lane: UnsafeMutablePointer<Lane>, at end: UInt64) {
        guard lane.pointee.inHit else { return }
        lane.pointee.inHit = false
        lane.pointee.hadHit = true
        lane.pointee.lastHitEnd = end
        lane.pointee.belowSince = 0
        lane.pointee.aboveSince = 0
        activeHits -= 1
        if eventOpen {
            if end > eventLastActive { eventLastActive = end }
        } else if !lane.pointee.hitInEvent {
            health.unconfirmedHits += 1
        }
    }

    @inline(never)
    mutating func checkEventEnd(inlet: UInt64) {
        if inlet &- eventOnset > maxEventUs && inlet > eventOnset {
            eventLastActive = inlet
            health.truncatedEvents += 1
            closeEvent()
            return
        }
        guard activeHits == 0 else { return }
        let closeAt = saturatingSum(saturatingSum(eventLastActive, gapUs), postUs)
        guard inlet >= closeAt else { return }
        for slot in gasSlots {
            let other = lanes + slot
            guard other.pointee.hasSample else { continue }
            let stale = latestTime &- other.pointee.lastTime > staleUs
            if !stale && other.pointee.inletTime(other.pointee.lastTime) < closeAt { return }
        }
        closeEvent()
    }

    /// Closes an event that is still open at the end of the data, so that it is
    /// classified and queued. Call it when a flight or file ends.
    mutating func finish() {
        if eventOpen { closeEvent() }
    }

    // MARK: History

    @inline(__always)
    mutating func record(_ lane: UnsafeMutablePointer<Lane>, inlet: UInt64, excess: Double, recovered: Double) {
        let cap = lane.pointee.ringCapacity
        guard cap > 0 else { return }
        let i = lane.pointee.ringStart + lane.pointee.ringHead
        ringTime[i] = inlet
        ringExcess[i] = excess
        ringRecovered[i] = recovered
        lane.pointee.ringHead += 1
        if lane.pointee.ringHead == cap { lane.pointee.ringHead = 0 }
        if lane.pointee.ringCount < cap {
            lane.pointee.ringCount += 1
        } else if eventOpen, ringTime[lane.pointee.ringStart + lane.pointee.ringHead] >= eventOnset &- preUs {
            health.historyOverruns += 1
        }
    }

    // MARK: Evidence and classification

    @inline(never)
    mutating func closeEvent() {
        eventOpen = false
        if settings.humidityTransientGramsPerCubicMetre > 0
            && eventHumidityChange > settings.humidityTransientGramsPerCubicMetre {
            var onlyMOX = true
            for slot in gasSlots where lanes[slot].hitInEvent && !lanes[slot].kind.isMOX { onlyMOX = false }
            if onlyMOX {
                health.humidityArtefacts += 1
                for slot in gasSlots { lanes[slot].hitInEvent = false }
                eventPeakSigma = 0
                return
            }
        }
        let windowStart = eventOnset >= preUs ? eventOnset - preUs : 0
        let windowEnd = saturatingSum(eventLastActive, postUs)
        let windowSeconds = max(1e-6, Double(windowEnd - windowStart) * 1e-6)
        evidence.removeAll(keepingCapacity: true)
        var snr = 0.0
        for (slot, channel) in gasSlots.enumerated() {
            let lane = lanes + channel
            let l = lane.pointee
            // The channel's own level just before the event is its zero: a baseline that is
            // slightly off would otherwise add up over the whole window.
            var referenceSum = 0.0
            var referenceCount = 0
            let referenceStart = windowStart >= referenceUs ? windowStart - referenceUs : 0
            // The history is in time order: walk back from the newest entry only as far as
            // the reference segment, then read forward without a division per entry.
            let count = l.ringCount
            let capacity = max(1, l.ringCapacity)
            let first = (l.ringHead - count + capacity) % capacity
            let ringStart = l.ringStart
            func ringIndex(_ k: Int) -> Int {
                let j = first + k
                return ringStart + (j >= capacity ? j - capacity : j)
            }
            var from = count
            while from > 0 && ringTime[ringIndex(from - 1)] >= referenceStart { from -= 1 }
            for k in from..<count {
                let i = ringIndex(k)
                let ti = ringTime[i]
                if ti >= windowStart { break }
                if !ringExcess[i].isNaN {
                    referenceSum += l.linearise(ringExcess[i])
                    referenceCount += 1
                }
            }
            let reference = referenceCount > 0 ? referenceSum / Double(referenceCount) : 0
            var area = 0.0
            var peak = 0.0
            var peakSmooth = 0.0
            var covered = 0.0
            var rejected = 0
            var prevT: UInt64 = 0
            var prevU = Double.nan
            var lastU = 0.0
            let period = 1 / l.rateHz
            let maxStepUs = UInt64(max(3 * period, 1) * 1e6)
            for k in from..<count {
                let i = ringIndex(k)
                let ti = ringTime[i]
                if ti > windowEnd { break }
                if ti < windowStart { continue }
                let e = ringExcess[i]
                if e.isNaN { rejected += 1; prevU = .nan; continue }
                let u = l.linearise(e) - reference
                if ringRecovered[i] > peak { peak = ringRecovered[i] }
                if e > peakSmooth { peakSmooth = e }
                if !prevU.isNaN && ti > prevT && ti - prevT <= maxStepUs {
                    let dt = Double(ti - prevT) * 1e-6
                    area += 0.5 * (u + prevU) * dt
                    covered += dt
                }
                prevT = ti
                prevU = u
                lastU = u
            }
            // What is still in the sensor and the low-pass at the window's end: for a
            // first-order response, ∫ input = ∫ output + τ · output(end).
            area += l.tailTau * lastU
            let peakSigma = max(peak / l.noiseVariance.squareRoot(), peakSmooth / l.smoothNoiseVariance.squareRoot())
            snr = max(snr, peakSigma)
            let coverage = min(1, covered / windowSeconds)
            // Uncertainty of the area: the smoothed noise (in linearised units) over the
            // window's correlation cells, plus a reference level off by a third of that
            // noise over the whole window.
            let correlation = max(l.smoothTau, period, 1)
            let sigmaU = l.linearisedNoiseScale * l.smoothNoiseVariance.squareRoot()
            let random = sigmaU * (windowSeconds * correlation).squareRoot()
            let offset = sigmaU * windowSeconds / 3
            slotArea[slot] = area
            slotSigma[slot] = max((random * random + offset * offset).squareRoot(), 1e-12)
            slotUsable[slot] = coverage >= 0.5
            evidence.append(ChannelEvidence(channel: channel, peakExcess: peak, peakSigma: peakSigma, area: area,
                                            hit: l.hitInEvent, coverage: coverage, rejectedInWindow: rejected))
            lane.pointee.hitInEvent = false
        }
        let outcome = classifier.classify(area: slotArea, sigma: slotSigma, usable: slotUsable, snr: snr)
        let hitSeconds = max(1, Double(eventLastActive - eventOnset) * 1e-6)
        let library = configuration.library
        if queueCount == queue.count {
            // Consumer is behind: grow rather than lose a detection.
            var grown: [Detection] = []
            grown.reserveCapacity(queue.count * 2)
            for k in 0..<queueCount { grown.append(queue[(queueHead + k) % queue.count]) }
            for _ in queueCount..<(queue.count * 2) { grown.append(queue[0]) }
            queue = grown
            queueHead = 0
        }
        let at = (queueHead + queueCount) % queue.count
        queueCount += 1
        queue[at].sequence = nextSequence
        nextSequence += 1
        queue[at].onset = eventOnset
        queue[at].end = eventLastActive
        queue[at].peak = eventPeakTime
        queue[at].channels.removeAll(keepingCapacity: true)
        queue[at].channels.append(contentsOf: evidence)
        queue[at].signatureClass = outcome.signatureClass
        queue[at].confidence = outcome.confidence
        queue[at].threatConfidence = outcome.threatConfidence
        let confounder = outcome.signatureClass.map { library.classes[$0].isConfounder } ?? false
        queue[at].isConfounder = confounder
        queue[at].isAlert = outcome.signatureClass != nil && !confounder
            && outcome.threatConfidence >= settings.alertConfidence
        queue[at].compounds.removeAll(keepingCapacity: true)
        if outcome.signatureClass != nil {
            for j in 0..<library.compounds.count where classifier.bestDoses[j] > 0 {
                let dose = classifier.bestDoses[j]
                queue[at].compounds.append(CompoundEstimate(compound: j, dose: dose, meanPPM: dose / hitSeconds))
            }
        }
        queue[at].scores.removeAll(keepingCapacity: true)
        for k in 0..<library.classes.count {
            queue[at].scores.append(ClassScore(signatureClass: k, misfit: classifier.misfit[k]))
        }
        queue[at].scores.sort { ($0.misfit, $0.signatureClass) < ($1.misfit, $1.signatureClass) }
        queue[at].residual = outcome.residual
        queue[at].snr = snr
        eventPeakSigma = 0
    }

    // MARK: Output

    /// Detections waiting to be taken.
    var pendingDetections: Int { queueCount }

    /// Takes the oldest waiting detection.
    /// - Returns: a copy of the detection (this allocates, on the caller's side), or nil.
    mutating func popDetection() -> Detection? {
        guard queueCount > 0 else { return nil }
        let d = queue[queueHead]
        // Copies element by element: `Array(array)` would share the slot's buffers, and the
        // slot's next in-place write (inside `process`) would then have to allocate.
        let copy = Detection(sequence: d.sequence, onset: d.onset, peak: d.peak, end: d.end,
                             channels: d.channels.map { $0 }, signatureClass: d.signatureClass,
                             confidence: d.confidence, threatConfidence: d.threatConfidence,
                             isConfounder: d.isConfounder, isAlert: d.isAlert,
                             compounds: d.compounds.map { $0 }, scores: d.scores.map { $0 }, residual: d.residual,
                             snr: d.snr)
        queueHead = (queueHead + 1) % queue.count
        queueCount -= 1
        return copy
    }

    /// Takes all waiting detections.
    mutating func drainDetections() -> [Detection] {
        var out: [Detection] = []
        while let d = popDetection() { out.append(d) }
        return out
    }

    /// The state of a channel at its last accepted sample.
    /// - Parameter channel: index in the payload's channel list.
    ///
    /// A static function over the engine's pointer, reading only the fields it needs: a
    /// method on `engine.pointee`, or a copy of the lane, copied the whole engine or lane
    /// (hundreds of bytes, with retains and releases) at each call, which cost replay more
    /// than the snapshot itself, once a sample.
    static func snapshot(_ engine: UnsafeMutablePointer<Engine>, channel: Int) -> ChannelSnapshot? {
        guard channel >= 0 && channel < engine.pointee.laneCount else { return nil }
        let l = engine.pointee.lanes + channel
        let latestTime = engine.pointee.latestTime, staleUs = engine.pointee.staleUs
        let noise = l.pointee.noiseVariance.squareRoot()
        return ChannelSnapshot(
            time: l.pointee.hasSample ? l.pointee.lastTime : nil, physical: l.pointee.physical, baseline: l.pointee.level,
            excess: l.pointee.smooth, recovered: l.pointee.recovered, noise: noise,
            sigma: noise > 0 ? l.pointee.recovered / noise : 0, inHit: l.pointee.inHit, gasIndex: l.pointee.gasIndexValue,
            stale: l.pointee.hasSample && latestTime &- l.pointee.lastTime > staleUs)
    }

    /// Whether an event is open (a plume is being crossed).
    var isEventOpen: Bool { eventOpen }

    @inline(never)
    mutating func updateAbsoluteHumidity(time t: UInt64) {
        guard environment.update(time: t) else { return }
        if eventOpen {
            eventHumidityChange = max(eventHumidityChange,
                                      abs(environment.absoluteHumidity - environment.absoluteHumiditySlow))
        }
    }

}

/// `a + b`, or `UInt64.max` where that overflows: times near the end of the range (a
/// hostile or corrupted log) must not trap.
@inline(__always)
func saturatingSum(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : sum
}

/// The air the gas channels are compensated for: the payload's latest temperature and
/// relative humidity, the absolute humidity from them, and its slow mean (30 s), against
/// which a humidity transient is judged.
struct Environment {
    var temperature = Double.nan
    var relativeHumidity = Double.nan
    var absoluteHumidity = Double.nan
    var absoluteHumiditySlow = Double.nan
    var lastHumidityTime: UInt64 = 0
    /// Absolute humidity per % of relative humidity at `saturationTemperature`: a humidity
    /// sample between two temperature samples needs no new `exp` and no division.
    var humidityPerPercent = Double.nan
    var saturationTemperature = Double.nan
    /// The Magnus exponent and its `exp` at the last temperature where `exp` was called:
    /// nearby temperatures (the usual noise of a steady sensor) take the exponent's change
    /// as a short series instead (relative error below 1e-12).
    var anchorExponent = Double.nan
    var anchorExp = Double.nan

    /// Recomputes the absolute humidity after a temperature or humidity sample at `t`.
    /// - Returns: false while either is still unknown (nothing changed).
    @inline(__always)
    mutating func update(time t: UInt64) -> Bool {
        guard temperature.isFinite, relativeHumidity.isFinite else { return false }
        if temperature != saturationTemperature {
            saturationTemperature = temperature
            let exponent = Pipeline.magnusExponent(temperature: temperature)
            let x = exponent - anchorExponent
            let growth: Double
            if abs(x) < 0.01 {  // |ΔT| below about 0.16 °C; the series' error is below x⁵/120
                growth = anchorExp * (1 + x * (1 + x * (0.5 + x * (1.0 / 6 + x * (1.0 / 24)))))
            } else {
                anchorExponent = exponent
                anchorExp = Double.exp(exponent)
                growth = anchorExp
            }
            humidityPerPercent = Pipeline.absoluteHumidityPerPercent(temperature: temperature, magnusGrowth: growth)
        }
        absoluteHumidity = humidityPerPercent * max(0, min(relativeHumidity, 100))
        if absoluteHumiditySlow.isNaN {
            absoluteHumiditySlow = absoluteHumidity
            lastHumidityTime = t
        } else if t > lastHumidityTime {
            // Temperature and humidity often share a timestamp: one update per time.
            let a = poleAlpha(Double(t - lastHumidityTime) * 1e-6 / 30)
            absoluteHumiditySlow += a * (absoluteHumidity - absoluteHumiditySlow)
            lastHumidityTime = t
        }
        return true
    }
}

/// Why a pipeline could not be built.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(key: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let key, let reason): return "\(key): \(reason)"
        }
    }
}
